// certretry/testing/acme/orders.hpp — the ACME server model's orders after finalize
// (RFC 8555 §7.4): finalize, POST-as-GET of the order until it is valid, and the certificate.
//
// Orders are created `ready`: the model does not cover authorizations, it takes them as valid.
// Finalize answers 200 {"status":"processing"} and draws the order's processing time from a
// lognormal (median 2 s and p99 10 s by default, acme_model); every POST-as-GET of the order
// answers "processing" until that time has passed, then {"status":"valid","certificate":...}.
// Finalizing an order that is not ready answers 403 orderNotReady (RFC 8555 §7.4). A plain GET
// of an order is answered like its POST-as-GET: the model does not enforce RFC 8555 §6.3, and
// neither does Boulder (its docs/acme-divergences.md, "Section 6.3").
//
// With acme_order_style::boulder every processing reply, the finalize reply included, carries
// `Retry-After: 3`, as Boulder's wfe2/wfe.go does (orderRetryAfter; docs/sources.md#boulder);
// with no_retry_after none does, as Pebble without a retryAfter.order setting
// (docs/sources.md#pebble). Every poll is counted, and so are the polls that arrive sooner than
// the previous reply to that order asked: RFC 8555 §7.4 has the client send its POST-as-GET
// "after the time given in the Retry-After header field".
//
// Each order's processing time comes from its own SplitMix64 stream, seeded from the server's
// seed and the order's number alone, so it does not depend on what other orders did or in which
// order the calls came.
#pragma once

#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"
#include "certretry/testing/acme/model.hpp"

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::model::acme_detail {

// sigma of a lognormal with this median and 99th percentile: ln(p99 / median) / z99.
inline double sigma_for(duration median, duration p99) {
  if (median <= duration::zero() || p99 <= median) return 0.0;
  return std::log(static_cast<double>(p99.count()) / static_cast<double>(median.count())) /
         acme_model::normal_z99;
}

// One processing time: median * exp(sigma * Z), Z standard normal by Box-Muller from two
// uniforms of `rng` (the model's draws are its own, not <random>'s, so one seed gives the same
// times with every standard library).
template <random_source R>
duration draw_lognormal(R& rng, duration median, double sigma) {
  const double u1 = uniform_unit(rng), u2 = uniform_unit(rng);
  // 1 - u1 is in (0, 1]: the logarithm is finite.
  const double z = std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2);
  return certretry::detail::saturate_ms(static_cast<double>(median.count()) * std::exp(sigma * z));
}

// The orders, numbered 1, 2, ... in the order they were created.
class orders {
 public:
  explicit orders(const acme_server_options& o)
      : sigma_(sigma_for(o.processing_median, o.processing_p99)) {}

  // A new order, `ready` for finalize; returns its number.
  std::uint64_t create(std::vector<std::string> identifiers, std::string replaces, time_point now) {
    order o;
    o.identifiers = std::move(identifiers);
    o.replaces = std::move(replaces);
    o.created_at = now;
    orders_.push_back(std::move(o));
    return orders_.size();
  }

  // How many orders there are: the numbers 1 to count() name one.
  std::uint64_t count() const noexcept { return orders_.size(); }

  // Finalize (RFC 8555 §7.4) of order `id`, which exists.
  response finalize(std::uint64_t id, time_point now, const acme_server_options& options) {
    order& o = orders_[id - 1];
    if (o.finalized_at) {
      // RFC 8555 §7.4: only a ready order can be finalized.
      std::string detail(acme_text::not_ready);
      detail += status_text(o, now);
      detail += acme_text::not_ready_after;
      return problem_reply(403, "orderNotReady", detail);
    }
    splitmix64 rng{options.seed ^ (id * 0x9e3779b97f4a7c15ULL) ^ 0x70726f6365737321ULL};
    o.processing = draw_lognormal(rng, options.processing_median, sigma_);
    o.finalized_at = now;
    response r = reply(200, id, now, options);
    remember(o, now, r);
    return r;
  }

  // POST-as-GET (or GET) of order `id`, which exists.
  response poll(std::uint64_t id, time_point now, const acme_server_options& options,
                acme_counters& counters) {
    order& o = orders_[id - 1];
    ++o.polls;
    if (o.last_retry_after && now - o.last_reply_at < *o.last_retry_after) {
      ++o.early_polls;
      ++counters.early_order_polls;
    }
    response r = reply(200, id, now, options);
    if (state_of(o, now) == order_state::valid && !o.counted_valid) {
      o.counted_valid = true;
      ++counters.orders_valid;
    }
    remember(o, now, r);
    return r;
  }

  // POST-as-GET of order `id`'s certificate (RFC 8555 §7.4.2), which exists once it is valid;
  // before, Boulder's 404 malformed "Certificate not found".
  response certificate(std::uint64_t id, time_point now) const {
    const order& o = orders_[id - 1];
    if (state_of(o, now) != order_state::valid)
      return problem_reply(404, "malformed", "Certificate not found");
    return response{200,
                    {{"Content-Type", "application/pem-certificate-chain"}},
                    "-----BEGIN CERTIFICATE-----\nCERT-" + std::to_string(id) +
                        "\n-----END CERTIFICATE-----\n"};
  }

  // RFC 8555 §7.1.3's order object for order `id` as it stands at `now`: 201 with a Location for
  // a new order (§7.4), 200 otherwise; Retry-After on a processing order in Boulder's style.
  response reply(int status, std::uint64_t id, time_point now,
                 const acme_server_options& options) const {
    const order& o = orders_[id - 1];
    const order_state s = state_of(o, now);
    std::string body = "{\"status\":\"";
    body += status_text(o, now);
    body += "\",\"expires\":\"" + format_rfc3339(o.created_at + acme_model::order_lifetime) +
            "\",\"identifiers\":[";
    for (std::size_t i = 0; i < o.identifiers.size(); ++i) {
      if (i) body += ',';
      body += "{\"type\":\"dns\",\"value\":";
      certretry::detail::append_json_string(body, o.identifiers[i]);
      body += '}';
    }
    body += "],\"authorizations\":[\"" + url(options, acme_authz_prefix, id) +
            "\"],\"finalize\":\"" + url(options, acme_finalize_prefix, id) + "\"";
    if (!o.replaces.empty()) {
      body += ",\"replaces\":";
      certretry::detail::append_json_string(body, o.replaces);
    }
    if (s == order_state::valid)
      body += ",\"certificate\":\"" + url(options, acme_certificate_prefix, id) + "\"";
    body += '}';
    response r{status, {{"Content-Type", "application/json"}}, std::move(body)};
    if (status == 201) r.headers.push_back({"Location", url(options, acme_order_prefix, id)});
    if (s == order_state::processing && options.order_style == acme_order_style::boulder)
      add_retry_after(r, acme_model::boulder_processing_retry_after);
    return r;
  }

  // Order `id` as a test sees it at `now`; `exists` is false for an unknown number.
  acme_order_info inspect(std::uint64_t id, time_point now) const {
    acme_order_info info;
    if (id == 0 || id > orders_.size()) return info;
    const order& o = orders_[id - 1];
    info.exists = true;
    info.status = status_text(o, now);
    info.polls = o.polls;
    info.early_polls = o.early_polls;
    info.processing = o.processing;
    info.finalized_at = o.finalized_at;
    if (o.finalized_at) info.valid_at = *o.finalized_at + o.processing;
    info.replaces = o.replaces;
    return info;
  }

 private:
  enum class order_state : std::uint8_t { ready, processing, valid };

  struct order {
    std::vector<std::string> identifiers;
    std::string replaces;
    time_point created_at{};
    std::optional<time_point> finalized_at;
    duration processing{};
    std::uint32_t polls = 0;
    std::uint32_t early_polls = 0;
    bool counted_valid = false;
    // The previous reply to this order (finalize included): when, and the Retry-After it sent.
    time_point last_reply_at{};
    std::optional<duration> last_retry_after;
  };

  static order_state state_of(const order& o, time_point now) {
    if (!o.finalized_at) return order_state::ready;
    return now - *o.finalized_at >= o.processing ? order_state::valid : order_state::processing;
  }

  static std::string_view status_text(const order& o, time_point now) {
    switch (state_of(o, now)) {
      case order_state::ready: return "ready";
      case order_state::processing: return "processing";
      case order_state::valid: return "valid";
    }
    return "ready";
  }

  static std::string url(const acme_server_options& options, std::string_view prefix,
                         std::uint64_t id) {
    return options.origin + std::string(prefix) + std::to_string(id);
  }

  // Keeps when the order was answered and the Retry-After the reply asked for, if any.
  static void remember(order& o, time_point now, const response& r) {
    o.last_reply_at = now;
    o.last_retry_after.reset();
    if (const auto ra = find_header(r.headers, "Retry-After")) {
      std::uint64_t s = 0;
      for (const char c : *ra) s = s * 10 + static_cast<std::uint64_t>(c - '0');
      o.last_retry_after = std::chrono::seconds{static_cast<std::int64_t>(s)};
    }
  }

  double sigma_;
  std::vector<order> orders_;
};

}  // namespace certretry::model::acme_detail
