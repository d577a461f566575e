// async-poll: certctl's asyncpoll Poller and status triage, with Retry-After added, against an
// asynchronous CA's order API (docs/async-polling.md).
#include "machines.hpp"
#include "shared.hpp"

#include "certretry/async_ca/poller.hpp"

namespace certretry::harness {
namespace {

struct async_poll {
  static constexpr std::string_view name = "async-poll";
  static constexpr std::string_view summary =
      "polls an asynchronous CA's order (DigiCert, Sectigo, Entrust, GlobalSign or a generic "
      "API) until it is issued, fails for good, or the deadline or attempt cap ends the run";

  struct settings : clock_settings, backoff_settings, body_settings {
    async_ca profile = async_ca::generic;
    std::string id, ca;
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
        },
        backoff_options<settings>({
            .schedule = "certctl",
            .jitter_pct = 20,
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

  static options_problem complete(settings&, const scenario&) { return std::nullopt; }

  static replay_result run(world& w, const settings& s, std::uint64_t seed) {
    async_ca_poll_machine m{async_ca_triage{{s.profile, s.id, s.ca}, s.max_body_bytes},
                            make_policy(s), splitmix64{seed}, w.sink()};
    return w.drive(m);
  }
};

}  // namespace

machine_adapter async_poll_machine() { return adapter_of<async_poll>(); }

}  // namespace certretry::harness
