// certretry/testing/acme/new_order.hpp — the ACME server model's new-order (RFC 8555 §7.4) with
// the `replaces` field of RFC 9773 §5.
//
// A new-order whose payload parses and names at least one identifier creates an order, `ready`
// for finalize (testing/acme/orders.hpp), and answers 201 with the order object and its Location
// (RFC 8555 §7.4). With `replaces`, the server first checks the replacement in Boulder's order
// (wfe2/wfe.go, validateReplacementOrder and orderMatchesReplacement; docs/sources.md#boulder):
//
//   the CertID does not parse              400 malformed
//   the certificate already has a          409 alreadyReplaced (RFC 9773 §5 and §7.4), or in
//   replacement order                          Boulder's style until its PR #8053 (2025),
//                                              409 conflict
//   no such certificate                    404 malformed (acme_replaces_style::pebble:
//                                              400 malformed, Pebble >= 2.6's words)
//   no identifier shared with it           400 malformed
//
// each with Boulder's detail, "Could not validate ARI 'replaces' field :: " and the reason
// (acme_text). An accepted replacement marks the certificate replaced: a second order naming it
// is refused.
//
// Faults on new-order, forced one at a time (queue_fault, first in, first out) or drawn with a
// probability per request: badNonce (400 with a fresh Replay-Nonce, RFC 8555 §6.5), rateLimited
// (429 with Retry-After, RFC 8555 §6.6) and a 503 outage page from a load balancer in front of
// the CA, which is no problem document. The probabilities are drawn from one SplitMix64 stream
// seeded from the server's seed, in that order, one draw for each nonzero probability until
// one hits. The texts of the faults and of an unreadable payload are the model's.
#pragma once

#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"
#include "certretry/json/reader.hpp"
#include "certretry/testing/acme/model.hpp"
#include "certretry/testing/acme/nonces.hpp"
#include "certretry/testing/acme/orders.hpp"
#include "certretry/testing/acme/renewal_info.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::model::acme_detail {

class new_orders {
 public:
  explicit new_orders(std::uint64_t seed) : fault_rng_(seed ^ 0x6661756c74732121ULL) {}

  // The next new-order requests answer these faults, first in, first out.
  void queue_fault(acme_fault f) { queued_faults_.push_back(f); }

  // POST new-order with this payload (its nonce already checked).
  response post(std::string_view payload, time_point now, const acme_server_options& options,
                acme_counters& counters, orders& book, certificates& certs) {
    if (const auto fault = next_fault(options)) {
      switch (*fault) {
        case acme_fault::bad_nonce: return bad_nonce_reply("", counters);
        case acme_fault::rate_limited: {
          ++counters.rate_limited;
          response r = problem_reply(429, "rateLimited", acme_text::rate_limited);
          add_retry_after(r, options.rate_limit_retry_after);
          return r;
        }
        case acme_fault::unavailable:
          ++counters.unavailable;
          return response{503,
                          {{"Content-Type", "text/html"}},
                          "<html><body><h1>503 Service Unavailable</h1></body></html>"};
      }
    }
    const auto fields = parse(payload);
    if (!fields) return problem_reply(400, "malformed", "Request payload did not parse as JSON");
    if (fields->identifiers.empty())
      return problem_reply(400, "malformed", "NewOrder request did not specify any identifiers");
    if (fields->replaces) {
      if (auto refused = check_replaces(*fields, options, certs)) {
        ++counters.replaces_rejected;
        return std::move(*refused);
      }
    }
    const std::uint64_t id = book.create(fields->identifiers, fields->replaces.value_or(""), now);
    return book.reply(201, id, now, options);
  }

 private:
  // What the model reads of a new-order payload (RFC 8555 §7.4, RFC 9773 §5).
  struct fields_read {
    std::vector<std::string> identifiers;  // the identifiers' values
    std::optional<std::string> replaces;
  };

  // Nothing when the payload is not one JSON object with well-typed fields.
  std::optional<fields_read> parse(std::string_view text) {
    fields_read out;
    auto obj = reader_.open_object(text);
    if (!obj) return std::nullopt;
    for (auto field : *obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return std::nullopt;
      simdjson::ondemand::value v;
      if (field.value().get(v)) return std::nullopt;
      if (key == "replaces") {
        std::string_view s;
        if (v.get_string().get(s)) return std::nullopt;
        out.replaces.emplace(s);
      } else if (key == "identifiers") {
        simdjson::ondemand::array arr;
        if (v.get_array().get(arr)) return std::nullopt;
        for (auto element : arr) {
          simdjson::ondemand::object id;
          if (element.get_object().get(id)) return std::nullopt;
          for (auto f : id) {
            std::string_view k, s;
            if (f.unescaped_key().get(k)) return std::nullopt;
            if (k != "value") continue;
            if (f.value().get_string().get(s)) return std::nullopt;
            out.identifiers.emplace_back(s);
          }
        }
      }
    }
    if (!reader_.at_end()) return std::nullopt;
    return out;
  }

  bool draw(double p) {
    if (!(p > 0.0)) return false;
    return uniform_unit(fault_rng_) < p;
  }

  // A queued fault first; otherwise one draw per fault with a probability, in a fixed order.
  std::optional<acme_fault> next_fault(const acme_server_options& options) {
    if (!queued_faults_.empty()) {
      const acme_fault f = queued_faults_.front();
      queued_faults_.erase(queued_faults_.begin());
      return f;
    }
    if (draw(options.bad_nonce)) return acme_fault::bad_nonce;
    if (draw(options.rate_limited)) return acme_fault::rate_limited;
    if (draw(options.unavailable)) return acme_fault::unavailable;
    return std::nullopt;
  }

  // Boulder's order of checks: the CertID parses, no order replaces it yet, the certificate
  // exists, and it shares an identifier with the new order. Nothing when the replacement is
  // accepted, which marks the certificate replaced.
  std::optional<response> check_replaces(const fields_read& f, const acme_server_options& options,
                                         certificates& certs) {
    const std::string& cert_id = *f.replaces;
    const auto serial = serial_of(cert_id);
    std::string detail(acme_text::ari_prefix);
    if (!serial) {
      detail += acme_text::bad_cert_id;
      return problem_reply(400, "malformed", detail);
    }
    certificates::record* const c = certs.find(cert_id);
    if (c && c->replaced) {
      std::string why(acme_text::already_replaced_before_serial);
      why += *serial;
      why += acme_text::already_replaced_after_serial;
      if (options.replaces_style == acme_replaces_style::boulder_conflict)
        return problem_reply(409, "conflict", std::string(acme_text::conflict_prefix) + why);
      return problem_reply(409, "alreadyReplaced", detail + why);
    }
    if (!c && options.replaces_style == acme_replaces_style::pebble)
      return problem_reply(400, "malformed", acme_text::pebble_unknown_issuer);
    if (!c) {
      detail += acme_text::unknown_serial_before;
      detail += *serial;
      detail += acme_text::unknown_serial_after;
      return problem_reply(404, "malformed", detail);
    }
    const auto& have = c->data.identifiers;
    const bool shared = std::any_of(f.identifiers.begin(), f.identifiers.end(), [&](const auto& s) {
      return std::find(have.begin(), have.end(), s) != have.end();
    });
    if (!shared) {
      detail += acme_text::identifiers_mismatch;
      return problem_reply(400, "malformed", detail);
    }
    c->replaced = true;
    return std::nullopt;
  }

  std::vector<acme_fault> queued_faults_;
  splitmix64 fault_rng_;
  certretry::detail::json_reader reader_{};
};

}  // namespace certretry::model::acme_detail
