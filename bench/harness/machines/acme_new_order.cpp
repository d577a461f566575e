// acme-new-order: one ACME order (RFC 8555 §7.4) claiming ARI's `replaces` (RFC 9773 §5), with
// the fallback without it when the CA refuses the claim (docs/acme.md).
#include "machines.hpp"
#include "shared.hpp"

#include "certretry/acme/new_order.hpp"
#include "certretry/core/text.hpp"
#include "certretry/ledger/renewal_guard.hpp"

#include <simdjson.h>

namespace certretry::harness {
namespace {

// RFC 8555 §7.4 identifiers: a list of DNS names, or of {"type", "value"} objects sent as given.
// Rewrites the list as the payload's JSON.
bool to_identifiers(std::string& list) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(std::string_view{list});
  simdjson::dom::array arr;
  if (parser.parse(padded).get_array().get(arr) || arr.size() == 0) return false;
  std::string out = "[";
  for (simdjson::dom::element e : arr) {
    if (out.size() > 1) out += ',';
    std::string_view name;
    if (!e.get_string().get(name)) {
      out += R"({"type":"dns","value":)";
      certretry::detail::append_json_string(out, name);
      out += '}';
    } else if (e.is_object()) {
      out += simdjson::minify(e);
    } else {
      return false;
    }
  }
  list = out + "]";
  return true;
}

// Counts the answers to new-orders that carried `replaces` into the run's ledger
// (failure_ledger::record_replaces_answer): a 5xx adds one, any other answer resets the count; a
// transport error is no answer and changes nothing.
template <class Inner>
struct replaces_answer_counter {
  Inner* inner;
  failure_ledger* ledger;
  std::string_view new_order_url;

  result<response> send(const request_view& r) {
    auto out = inner->send(r);
    if (out && r.method == "POST" && r.target == new_order_url &&
        r.body.find("\"replaces\"") != std::string_view::npos)
      ledger->record_replaces_answer(out.value().status >= 500 && out.value().status <= 599);
    return out;
  }
};

template <class Machine, class Inner>
replay_result drive_counting(world& w, Machine& m, Inner& inner, std::string_view url) {
  if (!w.ledger) return w.drive(m, inner);
  replaces_answer_counter<Inner> counter{&inner, &*w.ledger, url};
  return w.drive(m, counter);
}

// A profile name as the directory lists it: 1 to 64 printable ASCII characters, no space.
bool is_profile_name(std::string& name) {
  acme::new_order_options o;
  o.profile = name;
  return !o.check();
}

struct acme_new_order {
  static constexpr std::string_view name = "acme-new-order";
  static constexpr std::string_view summary =
      "creates one ACME order, claiming with ARI's `replaces` that it renews a certificate, and "
      "falls back once without the claim when the CA refuses it";

  struct settings : clock_settings, backoff_settings, body_settings, nonce_settings {
    std::string new_order_url, identifiers;
    std::optional<std::string> replaces, profile;
    std::optional<time_point> order_not_before, order_not_after;
    bool renewal_info_advertised = true;
    std::uint32_t replaces_after_server_errors = 0;
  };

  using table = std::vector<option<settings>>;

  static const table& options() {
    static const table all = join<settings>({
        table{
            path_option<settings, &settings::new_order_url>(
                "new_order_url", acme::new_order_options{}.new_order_url,
                "the directory's `newOrder` URL, POSTed"),
            new_nonce_url_option<settings>(),
            {.name = "identifiers",
             .kind = option_kind::json,
             .def = std::string(R"(["example.com"])"),
             .check = &to_identifiers,
             .bad = "must be a non-empty list of names or {type, value} objects",
             .type_doc = "non-empty list",
             .doc = "the order's identifiers: a string is a DNS name "
                    "(`{\"type\":\"dns\",\"value\":…}`), an object is sent as given (compacted)",
             .store = &into<settings, &settings::identifiers>},
            {.name = "replaces",
             .kind = option_kind::text,
             .doc = "the ARI CertID of the certificate this order renews "
                    "(`aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE`); absent or `\"\"`: no `replaces`",
             .store = &into<settings, &settings::replaces>},
            {.name = "renewal_info_advertised",
             .kind = option_kind::boolean,
             .def = true,
             .doc = "whether the directory has `renewalInfo`; `replaces` is sent only then "
                    "(RFC 9773 §5)",
             .store = &into<settings, &settings::renewal_info_advertised>},
            {.name = "replaces_after_server_errors",
             .kind = option_kind::whole,
             .def = 0.0,
             .min = 0,
             .max = 4294967295.0,
             .doc = "opt-in: with a scenario `ledger` holding this many consecutive 5xx to orders "
                    "that carried `replaces`, the order is sent without it (event "
                    "`replaces-dropped`); `0` keeps `replaces` through any outage "
                    "([across runs](#across-runs))",
             .store = &into<settings, &settings::replaces_after_server_errors>},
            {.name = "profile",
             .kind = option_kind::text,
             .check = &is_profile_name,
             .bad = "must be a profile name: 1 to 64 printable ASCII characters, no space",
             .doc = "the certificate profile to ask for (the ACME profiles extension: a name "
                    "from the directory's `meta.profiles`, e.g. `shortlived`); absent: none sent",
             .store = &into<settings, &settings::profile>},
            {.name = "order_not_before",
             .kind = option_kind::time,
             .bad = "'{}' is not an RFC 3339 time (e.g. 2025-01-01T00:00:00Z)",
             .doc = "the order's `notBefore` (RFC 8555 §7.4); absent: none sent",
             .store = &into<settings, &settings::order_not_before>},
            {.name = "order_not_after",
             .kind = option_kind::time,
             .bad = "'{}' is not an RFC 3339 time (e.g. 2025-01-01T00:00:00Z)",
             .doc = "the order's `notAfter` (RFC 8555 §7.4); absent: none sent",
             .store = &into<settings, &settings::order_not_after>},
            nonce_option<settings>({},
                                   "a nonce already at hand (the previous request's "
                                   "`Replay-Nonce`): the first request is then the POST "
                                   "itself, no `HEAD`"),
            bad_nonce_retries_option<settings>(),
        },
        backoff_options<settings>({
            .schedule = "acme",
            .jitter_pct = 0,
            .schedule_doc =
                "the base delays between polls when the server sends no Retry-After (and the "
                "floor under every other wait): any [named schedule](#named-schedules); `acme` = "
                "2.9, 2.1, 2.3 … 4.8 s (tuned: docs/tuning.md). Errors without Retry-After (429, "
                "408, 5xx, network) wait "
                "the error backoff instead: 5 s doubling up to 5 min, ±20 % jitter from the seed",
            .jitter_doc = "as for async-poll ([jitter kinds](#jitter-kinds)); no jitter by "
                          "default: the server's Retry-After paces",
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
    acme::new_order_options o;
    o.new_order_url = s.new_order_url;
    o.replaces = s.replaces;
    // lego #2137 (docs/operations.md): after K consecutive 5xx to orders claiming `replaces`, the
    // claim is dropped for this run, decided before it starts from the ledger's count.
    const replaces_after_server_errors drop{s.replaces_after_server_errors};
    if (w.ledger && o.replaces && !o.replaces->empty() && s.renewal_info_advertised &&
        !drop.send_replaces(w.ledger->replaces_server_errors())) {
      const auto n = w.ledger->replaces_server_errors();
      w.note("replaces-dropped", "the ledger holds " + std::to_string(n) +
                                     " consecutive 5xx to orders carrying "
                                     "replaces (replaces_after_server_errors " +
                                     std::to_string(drop.drop_after) + "): ordering without it");
      o.replaces.reset();
    }
    o.renewal_info_advertised = s.renewal_info_advertised;
    o.profile = s.profile;
    o.not_before = s.order_not_before;
    o.not_after = s.order_not_after;
    o.identifiers_json = s.identifiers;
    o.nonce = s.nonce_options();
    o.max_body_bytes = s.max_body_bytes;
    const bool supply = !scripts_new_nonce(w.scene, o.nonce.new_nonce_url);
    if (supply && o.nonce.initial.empty()) o.nonce.initial = "scriptNonce0";
    const std::string url = o.new_order_url;
    acme::new_order_machine m{std::move(o), make_policy(s), splitmix64{seed}, w.sink()};
    return drive_acme_through(w, supply, [&](auto& t) { return drive_counting(w, m, t, url); });
  }
};

}  // namespace

machine_adapter acme_new_order_machine() { return adapter_of<acme_new_order>(); }

}  // namespace certretry::harness
