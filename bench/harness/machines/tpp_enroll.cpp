// tpp-enroll: Venafi TPP request -> retrieve with stale-enrollment detection and reset
// strategies (docs/tpp.md).
#include "machines.hpp"
#include "shared.hpp"

#include "certretry/tpp/enroll.hpp"

namespace certretry::harness {
namespace {

struct tpp_enroll {
  static constexpr std::string_view name = "tpp-enroll";
  static constexpr std::string_view summary =
      "enrolls one certificate with Venafi TPP (request, then retrieve until issued), recovering "
      "the renewal an earlier failed enrollment blocks";

  struct settings : clock_settings, backoff_settings, body_settings {
    tpp::reset_strategy strategy{};
    tpp::retrieve_mode mode{};
    duration watch{};
    duration error_base{}, error_cap{};
    double error_jitter_pct = 0;
    std::string certificate_dn, request, detector, resume_dn;
  };

  using table = std::vector<option<settings>>;

  static const table& options() {
    static const table all = join<settings>({
        table{
            {.name = "strategy",
             .kind = option_kind::choice,
             .def = std::string("reset-on-detection"),
             .choices = {"reset-on-detection", "reset-before-request", "query-only"},
             .doc = "what a detected stale enrollment leads to: `reset-on-detection` — reset "
                    "(`Restart: false`), then request again, no extra call on the happy path; "
                    "`reset-before-request` — reset before the request, every time "
                    "(cert-manager ≥ 1.12; +1 call on every enrollment); `query-only` — no reset "
                    "ever: the run ends `needs_reset`",
             .store = &parsed_into<settings, &settings::strategy, tpp::parse_reset_strategy>},
            {.name = "mode",
             .kind = option_kind::choice,
             .def = std::string("watch"),
             .choices = {"watch", "poll"},
             .doc = "`watch`: every retrieve carries `WorkToDoTimeout`, so TPP holds it until the "
                    "certificate is issued or the time is up; `poll`: plain retrieves on the "
                    "schedule (VCert's loop)",
             .store = &parsed_into<settings, &settings::mode, tpp::parse_retrieve_mode>},
            {.name = "watch_s",
             .kind = option_kind::seconds,
             .def = 30.0,
             .min = 1,
             .max = 3600,
             .doc = "the `WorkToDoTimeout` of a watched retrieve (ignored in poll mode)",
             .store = &into<settings, &settings::watch>},
        },
        // VCert polls every 2 s without jitter: the poll-mode default. In watch mode the
        // schedule paces only a TPP that answers a watch at once. Errors have their own
        // backoff (error_*).
        backoff_options<settings>({
            .schedule = {},
            .jitter_pct = 0,
            .schedule_default = "`\"vcert\"` in poll mode, `\"certctl\"` in watch mode",
            .schedule_doc =
                "the base delays between calls, by name: any [named schedule](#named-schedules); "
                "`vcert` = 2 s fixed. It paces a TPP at work (pending replies; in watch mode only "
                "the \"no reset required\" retrieve and a TPP that answers a watch at once); "
                "errors wait `error_base_s` … instead",
            .jitter_pct_doc = "as for async-poll; 0 = the exact schedule (VCert polls without "
                              "jitter)",
            .max_wait_doc = "hard cap on the whole run, from its first call; 0 means the default",
            .honor_doc = "a valid Retry-After on a 429/5xx/pending reply is a lower bound on the "
                         "next wait, as for async-poll",
            .min_delay_doc = "no wait is shorter; with less than this left the run stops instead "
                             "of calling again (a held retrieve is re-sent only with at least "
                             "this much left)",
            .max_attempts_doc = "rounds of calls at most (a round ends with a wait); reaching it "
                                "ends the run `still_pending` with `attempt cap reached …`",
        }),
        table{
            {.name = "error_base_s",
             .kind = option_kind::seconds,
             .def = 5.0,
             .min = 0,
             .max = 86400,
             .doc = "the first wait after a 429, a 5xx that says nothing about the enrollment or "
                    "a transport error; each further error in a row doubles it. Errors never "
                    "wait the pending `schedule`",
             .store = &into<settings, &settings::error_base>},
            {.name = "error_cap_s",
             .kind = option_kind::seconds,
             .def = 300.0,
             .min = 0,
             .max = 86400,
             .doc = "the longest error wait (before jitter)",
             .store = &into<settings, &settings::error_cap>},
            {.name = "error_jitter_pct",
             .kind = option_kind::number,
             .def = 20.0,
             .min = 0,
             .max = 100,
             .doc = "each error wait × (1 + U[−p, +p)), p = `error_jitter_pct`/100, so that "
                    "clients failed by one outage do not come back together",
             .store = &into<settings, &settings::error_jitter_pct>},
            {.name = "resume_dn",
             .kind = option_kind::text,
             .def = std::string(""),
             .doc = "the DN of an enrollment an earlier run left running (its `still_pending` "
                    "reason ends `resume by retrieving <DN>`): the run starts by retrieving it — "
                    "no request, no reset, whatever the `strategy`. `\"\"`: request as usual",
             .store = &into<settings, &settings::resume_dn>},
            max_body_option<settings>(
                "largest reply body read as JSON; a larger one is read as \"not JSON\""),
            {.name = "certificate_dn",
             .kind = option_kind::text,
             .def = std::string("\\VED\\Policy\\certretry\\example.com"),
             .doc = "the certificate's DN: the reset before the request needs it (there is no "
                    "request reply yet); otherwise the request reply's `CertificateDN` replaces "
                    "it. `\"\"` under `reset-before-request` fails at once "
                    "(`reset-before-request needs the certificate DN before the request`, 0 "
                    "calls)",
             .store = &into<settings, &settings::certificate_dn>},
            {.name = "request",
             .kind = option_kind::json,
             .def = std::string(R"({"PolicyDN":"\\VED\\Policy\\certretry",)"
                                R"("ObjectName":"example.com","Subject":"example.com",)"
                                R"("Reenable":true})"),
             .type_doc = "JSON object (an array is passed through too)",
             .doc = "the body POSTed to `/request`, sent as given (serialised compactly): put "
                    "`PKCS10`, subject fields, `CASpecificAttributes` … here",
             .store = &into<settings, &settings::request>},
            {.name = "detector",
             .kind = option_kind::choice,
             .def = std::string("both"),
             .choices = {"both", "click-retry"},
             .check = [](std::string& n) { return n == "both" || n == "click-retry"; },
             .doc = "which first-retrieve messages count as a stale enrollment: `both` (\"… "
                    "click Retry.\" and \"WebSDK CertRequest Module Requested Certificate\") or "
                    "`click-retry` (only \"… click Retry.\", the weaker rule [the "
                    "write-up](sources.md#tpp-writeup) rejects: it misses case 3)",
             .store = &into<settings, &settings::detector>},
            now_option<settings>(),
        },
    });
    return all;
  }

  static options_problem complete(settings&, const scenario&) { return std::nullopt; }

  template <class Detector>
  static replay_result drive(world& w, tpp::enroll_options o, const settings& s,
                             std::uint64_t seed) {
    const auto policy = make_policy(s, s.mode == tpp::retrieve_mode::poll ? "vcert" : "certctl");
    tpp::enroll_machine m{std::move(o), policy,     splitmix64{seed},
                          w.sink(),     Detector{}, s.max_body_bytes};
    return w.drive(m);
  }

  static replay_result run(world& w, const settings& s, std::uint64_t seed) {
    tpp::enroll_options o;
    o.strategy = s.strategy;
    o.mode = s.mode;
    o.watch = s.watch;
    o.certificate_dn = s.certificate_dn;
    o.request_body = s.request;
    o.errors.base = s.error_base;
    o.errors.cap = s.error_cap;
    o.errors.jitter = s.error_jitter_pct / 100.0;
    o.resume_dn = s.resume_dn;
    if (s.detector == "click-retry")
      return drive<tpp::click_retry_detector>(w, std::move(o), s, seed);
    return drive<tpp::stale_enrollment_detector>(w, std::move(o), s, seed);
  }
};

}  // namespace

machine_adapter tpp_enroll_machine() { return adapter_of<tpp_enroll>(); }

}  // namespace certretry::harness
