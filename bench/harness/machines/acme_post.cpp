// acme-post: one signed ACME POST — a finalize or a challenge response — and what a resend after
// a lost reply learns from the server (RFC 8555 §7.4, §7.5.1; docs/acme.md).
#include "machines.hpp"
#include "shared.hpp"

#include "certretry/acme/exchange.hpp"
#include "certretry/core/json_text.hpp"

namespace certretry::harness {
namespace {

// The payload: one JSON object, sent as given (RFC 8555 §7.4's {"csr": …}, §7.5.1's {}).
bool is_json_object(std::string& text) {
  const json_syntax j = check_json(text);
  return j.ok() && j.top == json_kind::object;
}

struct acme_post {
  static constexpr std::string_view name = "acme-post";
  static constexpr std::string_view summary =
      "sends one signed ACME POST (a finalize, a challenge response) and, when a resend after a "
      "lost reply is refused as a repeat, reads the order or challenge to learn whether the "
      "first one was taken";

  struct settings : clock_settings, backoff_settings, body_settings, nonce_settings {
    std::string url, payload, resource_url;
    acme::post_kind kind{};
  };

  using table = std::vector<option<settings>>;

  static const table& options() {
    static const table all = join<settings>({
        table{
            path_option<settings, &settings::url>("url", "/acme/order/1/finalize",
                                                  "the URL POSTed: a finalize or a challenge"),
            {.name = "kind",
             .kind = option_kind::choice,
             .def = std::string("finalize"),
             .choices = {"finalize", "challenge", "other"},
             .doc = "what the POST begins: after a lost reply, a `finalize` refused 403 "
                    "`orderNotReady` or a `challenge` refused 409 means \"read the resource\"; "
                    "`other` fails on any refusal",
             .store = &parsed_into<settings, &settings::kind, acme::post_kind_from_name>},
            {.name = "payload",
             .kind = option_kind::text,
             .def = std::string(R"({"csr":"MIIBPTCBxAIBADBFMQswCQYDVQQGEwJBVTET"})"),
             .check = &is_json_object,
             .bad = "must be one JSON object, as text (`{}` for a challenge response)",
             .doc = "the JWS payload, as JSON text: `{\"csr\":…}` for a finalize, `{}` for a "
                    "challenge response",
             .store = &into<settings, &settings::payload>},
            {.name = "resource_url",
             .kind = option_kind::text,
             .def = std::string(""),
             .doc = "the resource read after a refused resend: for a finalize its order (`\"\"`: "
                    "`url` without a trailing `/finalize`, as Boulder and Pebble lay them out), "
                    "for a challenge the challenge (`\"\"`: `url` itself)",
             .store = &into<settings, &settings::resource_url>},
            new_nonce_url_option<settings>(),
            nonce_option<settings>(std::string("replayNonce0"), "the nonce at hand at the start"),
            bad_nonce_retries_option<settings>(),
        },
        backoff_options<settings>({
            .schedule = "acme",
            .jitter_pct = 0,
            .schedule_doc = "as for acme-new-order: the floor under every wait; errors without "
                            "Retry-After wait the error backoff (5 s doubling to 5 min, ±20 %)",
            .jitter_doc = "as for acme-new-order: no jitter by default",
        }),
        table{
            max_body_option<settings>("largest reply body read"),
            now_option<settings>(),
        },
    });
    return all;
  }

  static options_problem complete(settings&, const scenario&) { return std::nullopt; }

  static replay_result run(world& w, const settings& s, std::uint64_t seed) {
    acme::post_options o;
    o.url = s.url;
    o.payload = s.payload;
    o.kind = s.kind;
    o.resource_url = s.resource_url;
    constexpr std::string_view finalize_suffix = "/finalize";
    if (o.resource_url.empty()) {
      o.resource_url = s.url;
      if (s.kind == acme::post_kind::finalize && o.resource_url.size() > finalize_suffix.size() &&
          std::string_view(o.resource_url).substr(o.resource_url.size() - finalize_suffix.size()) ==
              finalize_suffix)
        o.resource_url.resize(o.resource_url.size() - finalize_suffix.size());
    }
    o.nonce = s.nonce_options();
    o.max_body_bytes = s.max_body_bytes;
    const bool supply = !scripts_new_nonce(w.scene, o.nonce.new_nonce_url);
    acme::post_machine m{std::move(o), make_policy(s), splitmix64{seed}, w.sink()};
    return drive_acme(w, m, supply);
  }
};

}  // namespace

machine_adapter acme_post_machine() { return adapter_of<acme_post>(); }

}  // namespace certretry::harness
