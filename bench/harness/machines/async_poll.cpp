// async-poll: certctl's asyncpoll Poller and status triage, with Retry-After added, against an
// asynchronous CA's order API (docs/async-polling.md).
#include "machines.hpp"
#include "shared.hpp"

#include "certretry/async_ca/poller.hpp"
#include "certretry/x509/key_match.hpp"

#include "../files.hpp"

namespace certretry::harness {
namespace {

constexpr std::optional<certificate_shape> shape_from_name(std::string_view name) noexcept {
  if (name == "any") return certificate_shape::any;
  if (name == "pem") return certificate_shape::pem_or_der;
  if (name == "x509") return certificate_shape::x509;
  return std::nullopt;
}

// The scenario's wall clock: the virtual clock, stepped by `step` once `at` has passed. The
// virtual clock itself is the monotonic reading, as steady_clock is beside system_clock, so
// run() measures the run on it and judges HTTP-dates on the stepped wall clock.
struct stepped_wall_clock {
  virtual_clock* mono;
  time_point at;
  duration step;
  time_point now() const noexcept {
    const time_point t = mono->now();
    return t >= at ? saturating_add(t, step) : t;
  }
  duration monotonic() const noexcept { return mono->now().time_since_epoch(); }
};

// world::drive with the stepped wall clock.
template <class Machine>
replay_result drive_stepped(world& w, Machine& m, duration at, duration step) {
  virtual_sleeper sleeper{w.clock};
  stepped_wall_clock clock{&w.clock, w.clock.start() + at, step};
  outcome o = run(m, w.server, clock, sleeper, world::stop_condition{&w.server, &w.out});
  replay_result r;
  if (w.server.unmatched()) {
    r.exit_code = exit_unmatched;
    r.error = "no scripted response for " + *w.server.unmatched();
  } else if (w.out.capped()) {
    r.exit_code = exit_step_cap;
    r.error = "stopped after " + std::to_string(w.out.steps()) +
              " steps (requests and waits), the step cap; raise it with --max-steps N or the "
              "scenario's \"max_steps\" if the run is meant to be this long";
  } else {
    entry e = outcome_entry(o, w.clock.now() - w.clock.start());
    r.outcome = e;
    w.out.add(std::move(e));
  }
  r.lines = w.out.lines();
  r.entries = w.out.take();
  return r;
}

struct async_poll {
  static constexpr std::string_view name = "async-poll";
  static constexpr std::string_view summary =
      "polls an asynchronous CA's order (DigiCert, Sectigo, Entrust, GlobalSign or a generic "
      "API) until it is issued, fails for good, or the deadline or attempt cap ends the run";

  struct settings : clock_settings, backoff_settings, body_settings {
    async_ca profile = async_ca::generic;
    std::string id, ca;
    duration collect_interval = duration::zero();
    std::string replaced_cert_id;
    certificate_shape check = certificate_shape::pem_or_der;
    std::optional<std::string> csr;
    std::optional<expected_public_key> key;  // read from `csr` by complete()
    double wall_step_s = 0;                  // a number: seconds options are never negative
    duration wall_step_at{};
  };

  using table = std::vector<option<settings>>;

  static const table& options() {
    static const table all = join<settings>({
        table{
            {.name = "profile",
             .kind = option_kind::choice,
             .def = std::string("generic"),
             .choices = {"digicert", "sectigo", "entrust", "globalsign", "generic"},
             .doc = "the CA, case-insensitive: decides the requests and the status words "
                    "([requests each profile sends](#requests-each-profile-sends))",
             .store = &parsed_into<settings, &settings::profile, async_ca_from_name>},
            {.name = "id",
             .kind = option_kind::id,
             .def = std::string("1"),
             .doc = "the order (DigiCert), SSL id (Sectigo), enrollment id (Entrust), "
                    "certificate/serial id (GlobalSign) or order id (generic): one path segment, "
                    "percent-encoded where RFC 3986 asks (`a b` → `a%20b`); empty, `.`, `..` or "
                    "a control character fails the run `invalid_request_value`, nothing sent",
             .store = &into<settings, &settings::id>},
            {.name = "ca",
             .kind = option_kind::id,
             .def = std::string("1"),
             .doc = "Entrust's certificate-authority id in the path, as `id` is; the other "
                    "profiles ignore it",
             .store = &into<settings, &settings::ca>},
            {.name = "collect_interval_s",
             .kind = option_kind::seconds,
             .def = 0.0,
             .min = 0,
             .max = 86400,
             .doc = "while the collect endpoint says not ready yet (Sectigo's code -183), wait "
                    "at least this long before collecting again; `0` rides the schedule "
                    "(certctl). Sectigo asks for 10800 (3 h); a wait past the deadline ends the "
                    "run `still_pending` with `not_before`",
             .store = &into<settings, &settings::collect_interval>},
            {.name = "replaced_cert_id",
             .kind = option_kind::id,
             .def = std::string(""),
             .doc = "DigiCert reissue: the id of the certificate the reissue replaces; an order "
                    "that says `issued` with this certificate id fails (the reissue was canceled "
                    "or rejected) instead of returning the old certificate as new. Empty: not a "
                    "reissue",
             .store = &into<settings, &settings::replaced_cert_id>},
            {.name = "certificate_check",
             .kind = option_kind::choice,
             .def = std::string("pem"),
             .choices = {"any", "pem", "x509"},
             .doc = "what the bytes called the certificate must be before the run says `issued`: "
                    "`pem` a PEM CERTIFICATE block or DER, `x509` the first certificate parses "
                    "as X.509, `any` no check; bytes that fail end the run `failed` (`… is not a "
                    "certificate: …`). With `csr`, `x509` plus the key match",
             .store = &parsed_into<settings, &settings::check, shape_from_name>},
            {.name = "csr",
             .kind = option_kind::text,
             .type_doc = "string, a file path",
             .doc = "the order's CSR (PEM or DER), relative to the scenario file's directory (or "
                    "absolute): the certificate's public key must be the CSR's (VCert's "
                    "CheckCertificate), or the run fails",
             .store = &into<settings, &settings::csr>},
            {.name = "wall_step_s",
             .kind = option_kind::number,
             .def = 0.0,
             .min = -31536000,
             .max = 31536000,
             .doc = "steps the scenario's wall clock by this much (negative: back) at "
                    "`wall_step_at_s`, as NTP or a resumed VM does; elapsed time and the "
                    "deadline keep to the virtual (monotonic) clock, HTTP-dates are judged on "
                    "the stepped wall clock. `0`: no step",
             .store = &into<settings, &settings::wall_step_s>},
            {.name = "wall_step_at_s",
             .kind = option_kind::seconds,
             .def = 0.0,
             .min = 0,
             .max = 31536000,
             .doc = "when the wall clock steps, in seconds after the start",
             .store = &into<settings, &settings::wall_step_at>},
        },
        backoff_options<settings>({
            .schedule = "certctl",
            .jitter_pct = 20,
            .schedule_doc =
                "the base delays between requests, by name ([named "
                "schedules](#named-schedules)) or written out (`fixed:2`, `geometric:5,3,300`, "
                "`table:110,110,130`). The default stays `certctl` so that a scenario that leaves "
                "it out keeps its transcript; `async-ca` is the library's default for an "
                "asynchronous CA (98 s ×1.25 capped at 45 min, "
                "[tuning.md](tuning.md#the-async-ca-default))",
            .jitter_pct_doc =
                "for `jitter` `pct`: each wait is the scheduled delay × (1 + U[−p, +p)), p = "
                "`jitter_pct`/100; certctl's is 20. `0` = the exact schedule. Validated but "
                "unused by the other jitter kinds",
            .max_wait_doc =
                "hard cap on the whole run, from its first request, as certctl's `PollMaxWait`. "
                "**0 means the default 600 s, as certctl does** (`PollMaxWaitSeconds` 0 or "
                "unset). Raise it (e.g. 86400) for Entrust approvals that humans make",
            .honor_doc =
                "`true`: a valid Retry-After is a lower bound on the next wait (wait the longer "
                "of the hint and the jittered schedule). `false`: the hint never changes a wait "
                "or ends a run — certctl's behaviour, which never reads the header",
            .max_attempts_doc =
                "poll rounds at most (a round is a status request plus the download sent at "
                "once after it); reaching it ends the run as `still_pending` with `attempt cap "
                "reached …`",
        }),
        table{
            max_body_option<settings>(
                "largest response body read; a larger 2xx status body or download body fails "
                "the run (`… larger than the configured limit`)"),
            now_option<settings>(),
        },
    });
    return all;
  }

  static options_problem complete(settings& s, const scenario& scene) {
    if (!s.csr) return std::nullopt;
    const std::string& file = *s.csr;
    const std::string path =
        !file.empty() && file.front() == '/' ? file : scene.base_dir + "/" + file;
    std::string text, error;
    if (!read_file_bounded(path, max_key_source_bytes, "a CSR", text, error))
      return "options.csr: cannot read '" + path + "': " + error.substr(path.size() + 2);
    auto key = expected_public_key::from_csr(text);
    if (!key) return "options.csr: '" + path + "': " + key.error().message();
    s.key = std::move(key.assume_value());
    return std::nullopt;
  }

  static replay_result run(world& w, const settings& s, std::uint64_t seed) {
    async_ca_triage_options options{
        .max_body_bytes = s.max_body_bytes,
        .collect_interval = s.collect_interval,
        .replaced_certificate_id = s.replaced_cert_id,
        .check = s.key ? key_match_check(*s.key) : certificate_check{s.check, {}}};
    async_ca_poll_machine m{async_ca_triage{{s.profile, s.id, s.ca}, std::move(options)},
                            make_policy(s), splitmix64{seed}, w.sink()};
    const duration step{static_cast<std::int64_t>(s.wall_step_s * 1000.0)};
    if (step != duration::zero()) return drive_stepped(w, m, s.wall_step_at, step);
    return w.drive(m);
  }
};

}  // namespace

machine_adapter async_poll_machine() { return adapter_of<async_poll>(); }

}  // namespace certretry::harness
