// certretry/testing/acme/server.hpp — a model of an ACME server's order finalization,
// renewalInfo and new-order `replaces` handling, for tests and benchmarks of ACME clients.
//
// acme_server is a certretry transport (send(request_view) -> result<response>) that runs on a
// virtual_clock: it answers at once, then advances the clock by a fixed round trip per call (or,
// for a request it never answers, by the client's timeout, and fails with transport_timeout).
// It does no I/O and is deterministic from its seed: each order and each certificate draws from
// its own SplitMix64 streams, seeded from the server's seed and the order's number or the
// CertID, so one order's draws do not depend on what other orders did or in which order the
// calls came; new-order faults and nonces come from streams of their own.
//
// Requests follow certretry's ACME convention (acme/exchange.hpp): a POST carries the JWS
// *payload* as its body (empty = POST-as-GET, RFC 8555 §6.3) and the nonce it is signed with as
// a `Replay-Nonce` request field. The model checks no signature.
//
// This header routes each request to the part of the model that answers it:
//
//   HEAD or GET new-nonce              here: 200 or 204, `Cache-Control: no-store` (RFC 8555 §7.2)
//   POST new-order                     new_order.hpp (RFC 8555 §7.4, RFC 9773 §5)
//   POST finalize/<n>                  orders.hpp (RFC 8555 §7.4)
//   POST or GET order/<n>              orders.hpp
//   POST cert/<n>                      orders.hpp (RFC 8555 §7.4.2)
//   GET renewal-info/<CertID>          renewal_info.hpp (RFC 9773 §4)
//   anything else                      404 malformed
//
// and adds a fresh `Replay-Nonce` to every reply (nonces.hpp, RFC 8555 §6.5); a POST whose nonce
// was not issued, was already used, or is too old answers 400 badNonce before it reaches its
// part (unless acme_server_options::check_nonces is false). The endpoints, numbers, texts,
// options and counters are in model.hpp, each with its source: Boulder
// (docs/sources.md#boulder), Pebble (docs/sources.md#pebble), RFC 8555
// (docs/sources.md#rfc8555), RFC 9773 (docs/sources.md#rfc9773), or the model's own choice.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"
#include "certretry/testing/acme/model.hpp"
#include "certretry/testing/acme/new_order.hpp"
#include "certretry/testing/acme/nonces.hpp"
#include "certretry/testing/acme/orders.hpp"
#include "certretry/testing/acme/renewal_info.hpp"
#include "certretry/testing/scripted.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::model {

/// An ACME server model (see the file's comment) on a virtual clock: a transport for tests and
/// benchmarks.
///
/// Thread safety: one test's: not to be shared between threads without a lock.
class acme_server {
 public:
  /// A server on `clock` (which it advances), as `options` say.
  explicit acme_server(virtual_clock& clock, acme_server_options options = {})
      : clock_(&clock),
        options_(std::move(options)),
        nonces_(options_.seed),
        orders_(options_),
        new_orders_(options_.seed),
        lost_finalize_replies_(options_.lost_finalize_replies) {}

  // --- set-up ---------------------------------------------------------------------------

  /// A new order, `ready` for finalize; returns its number (1, 2, ...). Its processing time is
  /// a function of the seed and the number alone.
  std::uint64_t create_order(std::vector<std::string> identifiers = {"example.com"},
                             std::string replaces = {}) {
    return orders_.create(std::move(identifiers), std::move(replaces), clock_->now());
  }

  /// Creates (or replaces) a certificate renewalInfo and `replaces` know.
  void add_certificate(acme_certificate c) { certificates_.add(std::move(c), options_.seed); }

  /// From `at` on (default: now), the certificate's suggested window is [start, end).
  void move_window(std::string_view cert_id, time_point start, time_point end,
                   std::optional<time_point> at = std::nullopt) {
    certificates_.move_window(cert_id, start, end, at.value_or(clock_->now()));
  }

  /// As if an order replacing the certificate had been accepted already.
  void mark_replaced(std::string_view cert_id) { certificates_.mark_replaced(cert_id); }

  /// The next new-order requests answer these faults, first in, first out.
  void queue_new_order_fault(acme_fault f) { new_orders_.queue_fault(f); }

  /// A nonce the server issued, for a client's first POST (what HEAD new-nonce would return).
  std::string fresh_nonce() { return nonces_.issue(); }

  // --- the transport --------------------------------------------------------------------

  /// The transport: answers one request at once and advances the clock by the round trip.
  result<response> send(const request_view& req) {
    std::optional<response> r = dispatch(req);
    if (!r) {  // the server never answers: the client gives up after its timeout
      clock_->advance(options_.timeout);
      return errc::transport_timeout;
    }
    r->headers.push_back({"Replay-Nonce", nonces_.issue()});
    clock_->advance(options_.latency);
    return std::move(*r);
  }

  // --- inspection -----------------------------------------------------------------------

  /// Calls received and answers given.
  const acme_counters& counters() const noexcept { return counters_; }
  /// The options.
  const acme_server_options& options() const noexcept { return options_; }

  /// One order, as it is now.
  acme_order_info inspect_order(std::uint64_t id) const {
    return orders_.inspect(id, clock_->now());
  }

  /// One certificate, as it is now.
  acme_certificate_info inspect_certificate(std::string_view cert_id) {
    return certificates_.inspect(cert_id, clock_->now());
  }

  /// The order's URL paths, as the client is given them (no origin).
  static std::string order_path(std::uint64_t id) {
    return std::string(acme_order_prefix) + std::to_string(id);
  }
  /// The order's finalize path.
  static std::string finalize_path(std::uint64_t id) {
    return std::string(acme_finalize_prefix) + std::to_string(id);
  }
  /// The renewalInfo path of a CertID.
  static std::string renewal_info_path(std::string_view cert_id) {
    return std::string(acme_renewal_info_prefix) + std::string(cert_id);
  }

  /// sigma of a lognormal with this median and 99th percentile (orders.hpp).
  static double sigma_for(duration median, duration p99) {
    return acme_detail::sigma_for(median, p99);
  }

  /// One processing time: median * exp(sigma * Z), Z standard normal from `rng` (orders.hpp).
  template <random_source R>
  static duration draw_lognormal(R& rng, duration median, double sigma) {
    return acme_detail::draw_lognormal(rng, median, sigma);
  }

  /// The serial a CertID names, as Boulder prints serials; nothing when the CertID is not two
  /// non-empty base64url parts (renewal_info.hpp).
  static std::optional<std::string> serial_of(std::string_view cert_id) {
    return acme_detail::serial_of(cert_id);
  }

 private:
  // Nothing: the server does not answer (a timeout).
  std::optional<response> dispatch(const request_view& req) {
    std::string_view path = req.target;
    if (path.starts_with(options_.origin)) path.remove_prefix(options_.origin.size());
    path = path.substr(0, path.find('?'));
    const bool post = req.method == "POST";
    const bool get = req.method == "GET";
    const time_point now = clock_->now();

    if (path == acme_new_nonce_path && (req.method == "HEAD" || get)) {
      ++counters_.new_nonce;
      // RFC 8555 §7.2: HEAD answers 200, GET 204; a nonce must not be cached.
      return response{req.method == "HEAD" ? 200 : 204, {{"Cache-Control", "no-store"}}, {}};
    }
    if (get && path.starts_with(acme_renewal_info_prefix)) {
      ++counters_.renewal_info;
      return certificates_.get(path.substr(acme_renewal_info_prefix.size()), now, options_,
                               counters_);
    }
    const auto id = number_after(path, acme_order_prefix);
    if (id && (post || get)) {
      ++counters_.order_polls;
      if (post) {
        if (auto refused = check_nonce(req)) return refused;
      }
      return orders_.poll(*id, now, options_, counters_);
    }
    if (post && path == acme_new_order_path) {
      ++counters_.new_order;
      if (auto refused = check_nonce(req)) return refused;
      return new_orders_.post(req.body, now, options_, counters_, orders_, certificates_);
    }
    if (const auto f = number_after(path, acme_finalize_prefix); f && post) {
      ++counters_.finalize;
      if (auto refused = check_nonce(req)) return refused;
      response r = orders_.finalize(*f, now, options_);
      if (lost_finalize_replies_ > 0 && r.status == 200) {
        --lost_finalize_replies_;
        ++counters_.lost_replies;
        return std::nullopt;  // carried out, the reply lost: the client times out
      }
      return r;
    }
    if (const auto c = number_after(path, acme_certificate_prefix); c && post) {
      ++counters_.certificate;
      if (auto refused = check_nonce(req)) return refused;
      return orders_.certificate(*c, now);
    }
    ++counters_.other;
    return acme_detail::problem_reply(404, "malformed", "no such resource");
  }

  // The order number after `prefix`, if the path is exactly prefix + a known number.
  std::optional<std::uint64_t> number_after(std::string_view path, std::string_view prefix) const {
    if (!path.starts_with(prefix)) return std::nullopt;
    path.remove_prefix(prefix.size());
    if (path.empty() || path.size() > 18) return std::nullopt;
    std::uint64_t n = 0;
    for (const char c : path) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n == 0 || n > orders_.count()) return std::nullopt;
    return n;
  }

  // 400 badNonce for a POST whose nonce is not good (RFC 8555 §6.5), when nonces are checked.
  std::optional<response> check_nonce(const request_view& req) {
    if (!options_.check_nonces) return std::nullopt;
    return nonces_.check(req, counters_);
  }

  virtual_clock* clock_;
  acme_server_options options_;
  acme_counters counters_{};
  acme_detail::nonces nonces_;
  acme_detail::orders orders_;
  acme_detail::certificates certificates_;
  acme_detail::new_orders new_orders_;
  std::uint32_t lost_finalize_replies_ = 0;  // finalize replies still to drop
};

}  // namespace certretry::model
