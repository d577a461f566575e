// ari-renewal: when to renew one certificate, from the CA's renewalInfo (RFC 9773).
#include "machines.hpp"
#include "shared.hpp"

#include "certretry/acme/ari.hpp"
#include "certretry/acme/cert_id.hpp"
#include "certretry/ledger/renewal_guard.hpp"

#include "../files.hpp"

namespace certretry::harness {
namespace {

// RFC 9773 §4.1: the CertID is one path segment, base64url "." base64url.
bool is_cert_id(std::string& id) {
  return !id.empty() && id.find_first_of("/?# ") == std::string::npos;
}

struct ari_renewal {
  static constexpr std::string_view name = "ari-renewal";
  static constexpr std::string_view summary =
      "asks the CA's renewalInfo when to renew one certificate and finishes `renew_at` that time";

  struct settings : clock_settings, body_settings {
    std::string renewal_info_url;
    std::optional<std::string> cert_id, cert_pem;
    std::optional<time_point> not_after, not_before;
    std::optional<std::string> resume;
    duration min_retry_after{}, max_retry_after{}, long_term_retry{}, loop_guard{};
    std::uint32_t max_temporary_retries = 0;
    bool wait_for_window = true;
  };

  using table = std::vector<option<settings>>;

  static const table& options() {
    static const table all{
        path_option<settings, &settings::renewal_info_url>(
            "renewal_info_url", acme::ari_options{}.renewal_info_url,
            "the directory's `renewalInfo` URL; the CertID is appended as one path segment (a "
            "trailing `/` is not doubled)"),
        {.name = "cert_id",
         .kind = option_kind::text,
         .check = &is_cert_id,
         .bad = "must be a CertID (base64url.base64url)",
         .doc = "the certificate's ARI CertID (`aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE`); no `/`, "
                "`?`, `#` or space. Exactly one of `cert_id` and `cert_pem`",
         .store = &into<settings, &settings::cert_id>},
        {.name = "cert_pem",
         .kind = option_kind::text,
         .type_doc = "string, a file path",
         .doc = "a PEM certificate, relative to the scenario file's directory (or absolute); its "
                "CertID is base64url(AKI keyIdentifier) \".\" base64url(serial DER content, "
                "leading 0x00 kept)",
         .store = &into<settings, &settings::cert_pem>},
        now_option<settings>(),
        {.name = "not_after",
         .kind = option_kind::time,
         .bad = "'{}' is not an RFC 3339 time (e.g. 2025-04-01T00:00:00Z)",
         .default_doc = "`now` + 90 days",
         .doc = "the certificate's notAfter",
         .store = &into<settings, &settings::not_after>},
        {.name = "not_before",
         .kind = option_kind::time,
         .bad = "'{}' is not an RFC 3339 time (e.g. 2025-01-01T00:00:00Z)",
         .doc = "the certificate's notBefore; with it, no usable window means renewing at the "
                "fallback time (2/3 of the validity, 1/2 under 10 days; RFC 9773 §4.2), without "
                "it at the last poll before notAfter",
         .store = &into<settings, &settings::not_before>},
        {.name = "resume",
         .kind = option_kind::text,
         .doc = "where a previous run stopped, as `ari-progress/1 pick=… window=…/… next=… "
                "errors=N` (docs/acme.md): no new draw for the same window, no poll before "
                "`next`",
         .store = &into<settings, &settings::resume>},
        {.name = "min_retry_after_s",
         .kind = option_kind::seconds,
         .def = 60.0,
         .min = 1,
         .max = 31536000,
         .doc = "a renewalInfo Retry-After shorter than this is raised to it (RFC 9773 §4.3's "
                "example: 1 min); at most `max_retry_after_s`",
         .store = &into<settings, &settings::min_retry_after>},
        {.name = "max_retry_after_s",
         .kind = option_kind::seconds,
         .def = 86400.0,
         .min = 1,
         .max = 31536000,
         .doc = "a renewalInfo Retry-After longer than this is cut to it (RFC 9773 §4.3's "
                "example: 1 day)",
         .store = &into<settings, &settings::max_retry_after>},
        {.name = "long_term_retry_s",
         .kind = option_kind::seconds,
         .def = 21600.0,
         .min = 60,
         .max = 31536000,
         .doc = "the wait after a long-term error and after a reply without Retry-After (RFC "
                "9773 §4.3.3); 21600 s is 6 h",
         .store = &into<settings, &settings::long_term_retry>},
        {.name = "max_temporary_retries",
         .kind = option_kind::whole,
         .def = 5.0,
         .min = 0,
         .max = 100,
         .doc = "temporary errors backed off in a row; the next one waits `long_term_retry_s`",
         .store = &into<settings, &settings::max_temporary_retries>},
        {.name = "wait_for_window",
         .kind = option_kind::boolean,
         .def = true,
         .doc = "`false`: finish `renew_at` as soon as a time is picked, without waiting for it",
         .store = &into<settings, &settings::wait_for_window>},
        max_body_option<settings>("largest renewalInfo body read"),
        {.name = "loop_guard_min_interval_s",
         .kind = option_kind::seconds,
         .def = 3600.0,
         .min = 0,
         .max = 31536000,
         .doc = "no renewal loops: with a scenario `ledger` whose `last_success` is less than "
                "this (or the window's length, when longer) before the renewal time, the time "
                "moves to that point (event `renewal-held`); `0` with no window: no guard "
                "([across runs](#across-runs))",
         .store = &into<settings, &settings::loop_guard>},
    };
    return all;
  }

  static options_problem complete(settings& s, const scenario& scene) {
    if (s.cert_id.has_value() == s.cert_pem.has_value())
      return "options.cert_id: give either cert_id or cert_pem (a PEM file), not both";
    if (s.cert_pem) {
      const std::string& pem = *s.cert_pem;
      const std::string path =
          !pem.empty() && pem.front() == '/' ? pem : scene.base_dir + "/" + pem;
      std::string text, error;
      if (!read_file_bounded(path, acme::max_certificate_bytes, "a certificate", text, error))
        return "options.cert_pem: cannot read '" + path + "': " + error.substr(path.size() + 2);
      auto id = acme::cert_id_from_pem(text);
      if (!id)
        return "options.cert_pem: '" + path + "' is not a usable certificate (" +
               id.error().message() + ")";
      s.cert_id = id.value();
      if (!is_cert_id(*s.cert_id)) return "options.cert_id: must be a CertID (base64url.base64url)";
    }
    if (!s.not_after) s.not_after = s.start + std::chrono::hours{24 * 90};  // a 90-day certificate
    if (s.not_before && *s.not_before >= *s.not_after)
      return "options.not_before: must be before not_after";
    if (s.resume) {
      std::string why;
      if (!acme::parse_ari_progress(*s.resume, &why)) return "options.resume: " + why;
    }
    if (s.min_retry_after > s.max_retry_after)
      return "options.min_retry_after_s / max_retry_after_s: need 1 <= min <= max <= 31536000";
    return std::nullopt;
  }

  static replay_result run(world& w, const settings& s, std::uint64_t seed) {
    acme::ari_options o;
    o.renewal_info_url = s.renewal_info_url;
    o.cert_id = *s.cert_id;
    o.not_after = *s.not_after;
    o.not_before = s.not_before;
    if (s.resume) o.resume = acme::parse_ari_progress(*s.resume).value();
    o.min_retry_after = s.min_retry_after;
    o.max_retry_after = s.max_retry_after;
    o.long_term_retry = s.long_term_retry;
    o.max_temporary_retries = s.max_temporary_retries;
    o.wait_for_window = s.wait_for_window;
    o.max_body_bytes = s.max_body_bytes;
    acme::ari_machine m{std::move(o), acme::ari_error_policy(), splitmix64{seed}, w.sink()};
    if (w.ledger) {
      // The loop guard (ledger/renewal_guard.hpp): a lineage renewed less than the interval ago
      // is not renewed again before it, whatever the window says.
      w.finish_hook = [&w, &m, guard = renewal_loop_guard{s.loop_guard}](outcome& out) {
        if (out.kind != outcome_kind::renew_at || !out.not_before) return;
        std::optional<duration> window;
        if (const auto p = m.progress(); p.pick) window = p.window_end - p.window_start;
        const auto hold = guard.check(w.ledger->last_success(), *out.not_before, window);
        if (!hold) return;
        w.note("renewal-held", hold->why);
        out.not_before = hold->until;
        out.reason +=
            "; held back until " + format_rfc3339(hold->until) + " by the renewal loop guard";
      };
    }
    return w.drive(m);
  }
};

}  // namespace

machine_adapter ari_renewal_machine() { return adapter_of<ari_renewal>(); }

}  // namespace certretry::harness
