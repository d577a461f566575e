// certretry/testing/acme_server.hpp — a model of an ACME server's order finalization, renewalInfo and
// new-order `replaces` handling, for tests and benchmarks of ACME clients.
//
// acme_server is a certretry transport (send(request_view) -> result<response>) that runs on a
// virtual_clock: it answers at once, then advances the clock by a fixed round trip per call. It
// does no I/O and is deterministic from its seed: each order and each certificate draws from its
// own SplitMix64 streams, seeded from the server's seed and the order's number or the CertID, so
// one order's draws do not depend on what other orders did or in which order the calls came.
//
// Requests follow certretry's ACME convention (acme/exchange.hpp): a POST carries the JWS
// *payload* as its body (empty = POST-as-GET, RFC 8555 §6.3) and the nonce it is signed with as a
// `Replay-Nonce` request field. The model checks no signature. Every reply carries a fresh
// `Replay-Nonce` (RFC 8555 §6.5); a POST whose nonce was not issued, was already used, or is too
// old answers 400 badNonce (check_nonces). A plain GET of an order is answered like its
// POST-as-GET: the model does not enforce RFC 8555 §6.3.
//
// (a) Orders after finalize (RFC 8555 §7.4). Orders are created `ready` (the model does not cover
//     authorizations: they are taken as valid). Finalize answers 200 {"status":"processing"} and
//     draws the order's processing time from a lognormal with median 2 s and p99 10 s; every
//     POST-as-GET of the order answers "processing" until that time has passed, then
//     {"status":"valid","certificate":...}. With acme_order_style::boulder every processing
//     reply, the finalize reply included, carries `Retry-After: 3` (facts.md: Boulder sends 3 s
//     on processing orders); with no_retry_after none does. The server counts every poll and the
//     polls that arrive sooner than the previous reply to that order asked (a violation of
//     RFC 8555 §7.4's "poll after Retry-After").
// (b) renewalInfo (RFC 9773 §4.2). GET <renewal-info>/<CertID> answers 200
//     {"suggestedWindow":{"start","end"}} with `Retry-After` drawn uniformly in 6 h ±20 %
//     (facts.md: Boulder), whole seconds. Faults: a 500 serverInternal with `Retry-After: 60`
//     (facts.md: Boulder's 60 s on 500s) or a transport timeout, each with a probability. A
//     certificate's window can be moved at a given virtual time (move_window), as a CA does
//     when it revokes early. GETs sooner than the previous reply's Retry-After are counted.
// (c) new-order `replaces` (RFC 9773 §5, facts.md, seed 002): a second order replacing the same
//     certificate answers 409 alreadyReplaced (RFC 9773) or, in Boulder's style until 2025, 409
//     conflict; an unknown serial answers Boulder's 404 malformed and an order whose identifiers
//     share none with the certificate's Boulder's 400 malformed, both with a detail starting
//     "Could not validate ARI 'replaces' field :: ". Faults on new-order, forced one at a time
//     (queue_new_order_fault) or drawn with a probability: badNonce (400 + Replay-Nonce,
//     RFC 8555 §6.5), rateLimited (429 + Retry-After, RFC 8555 §6.6) and a 503 outage page.
//
// The model's own wording (a detail text facts.md does not fix, the 30 s timeout, the 1 h rate
// limit pause) is marked as such where it is defined.
#pragma once

#include "certretry/core/base64url.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/json/reader.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <numbers>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::model {

// The model's endpoints (the directory's URLs, RFC 8555 §7.1.1, without the origin).
inline constexpr std::string_view acme_new_nonce_path = "/acme/new-nonce";
inline constexpr std::string_view acme_new_order_path = "/acme/new-order";
inline constexpr std::string_view acme_order_prefix = "/acme/order/";
inline constexpr std::string_view acme_finalize_prefix = "/acme/finalize/";
inline constexpr std::string_view acme_authz_prefix = "/acme/authz/";
inline constexpr std::string_view acme_certificate_prefix = "/acme/cert/";
inline constexpr std::string_view acme_renewal_info_prefix = "/acme/renewal-info/";

// The model's numbers, each from facts.md "ACME" unless it says otherwise.
namespace acme_model {

// Order processing after finalize: lognormal with median 2 s and 99th percentile 10 s (positive,
// with the long right tail of a pipeline of delays); sigma = ln(p99 / median) / z99 = ln 5 / 2.326.
inline constexpr duration processing_median = 2s;
inline constexpr duration processing_p99 = 10s;
inline constexpr double normal_z99 = 2.326;  // the standard normal's 0.99 quantile
inline constexpr double processing_sigma = 1.6094379124341003 / normal_z99;  // ln 5 / z99

// Boulder: `Retry-After: 3` on every processing order reply.
inline constexpr std::chrono::seconds boulder_processing_retry_after{3};

// Boulder: renewalInfo `Retry-After` of 6 h ±20 %.
inline constexpr std::chrono::hours renewal_info_retry_after{6};
inline constexpr double renewal_info_retry_after_spread = 0.2;

// Boulder: `Retry-After: 60` on its 500s.
inline constexpr std::chrono::seconds server_error_retry_after{60};

// The model's choices (no fact fixes them): how long a client waits for a reply that never
// comes, the pause a rate limit asks for, and how many recent nonces the server remembers.
inline constexpr duration client_timeout = 30s;
inline constexpr std::chrono::seconds rate_limit_retry_after{3600};
inline constexpr std::uint64_t nonce_window = 4096;

// An order's `expires`: a week after it was created (the model's choice; clients here only
// need the field to be a valid RFC 3339 timestamp).
inline constexpr std::chrono::hours order_lifetime{7 * 24};

// Boulder prints a serial as 36 hex digits.
inline constexpr std::size_t serial_hex_digits = 36;

}  // namespace acme_model

// Detail texts of the replacement rejections. The prefixes are facts.md's; the rest follows
// Boulder's messages for the same cases.
namespace acme_text {
inline constexpr std::string_view ari_prefix = "Could not validate ARI 'replaces' field :: ";
inline constexpr std::string_view conflict_prefix =
    "While validating order as a replacement an error occurred :: ";
inline constexpr std::string_view already_replaced_before_serial =
    "cannot indicate an order replaces certificate with serial \"";
inline constexpr std::string_view already_replaced_after_serial =
    "\", which already has a replacement order";
inline constexpr std::string_view unknown_serial_before =
    "while checking that this order is a replacement: request included `replaces` field, but no "
    "current certificate with serial \"";
inline constexpr std::string_view unknown_serial_after = "\" exists";
inline constexpr std::string_view identifiers_mismatch =
    "while checking that this order is a replacement: identifiers in this order do not match any "
    "identifiers in the certificate being replaced";
inline constexpr std::string_view bad_cert_id =
    "while parsing ARI CertID an error occurred: the CertID is not two base64url parts";
inline constexpr std::string_view bad_nonce = "JWS has an invalid anti-replay nonce: \"";
inline constexpr std::string_view rate_limited = "too many new orders recently";  // model text
inline constexpr std::string_view not_ready = "Order's status (\"";
inline constexpr std::string_view not_ready_after = "\") is not acceptable for finalization";
}  // namespace acme_text

// Which Retry-After the server sends on processing orders.
enum class acme_order_style : std::uint8_t {
  boulder,         // `Retry-After: 3` on every processing reply, the finalize reply included
  no_retry_after,  // none (Pebble 2.4 sends none, facts.md)
};

// How a second order replacing the same certificate is refused.
enum class acme_replaces_style : std::uint8_t {
  rfc9773,           // 409 urn:ietf:params:acme:error:alreadyReplaced
  boulder_conflict,  // 409 urn:ietf:params:acme:error:conflict (Boulder until 2025)
};

// A fault forced on the next new-order request.
enum class acme_fault : std::uint8_t {
  bad_nonce,     // 400 badNonce with a fresh Replay-Nonce
  rate_limited,  // 429 rateLimited with Retry-After
  unavailable,   // 503 from the load balancer: an HTML page, no problem document
};

struct acme_server_options {
  std::uint64_t seed = 1;
  // The round trip of every call, added to the virtual clock after the server answered.
  duration latency = 50ms;
  // The scheme and host of the URLs in bodies and Location headers; stripped from targets.
  std::string origin = "https://acme.test";
  acme_order_style order_style = acme_order_style::boulder;
  acme_replaces_style replaces_style = acme_replaces_style::rfc9773;
  duration processing_median = acme_model::processing_median;
  duration processing_p99 = acme_model::processing_p99;
  // RFC 8555 §6.5: POSTs must carry an unused nonce the server issued.
  bool check_nonces = true;
  // renewalInfo faults (probabilities per GET).
  double renewal_info_errors = 0.0;    // 500 serverInternal, Retry-After 60 s
  double renewal_info_timeouts = 0.0;  // no reply: the transport times out after `timeout`
  duration timeout = acme_model::client_timeout;
  // new-order faults (probabilities per request, drawn in this order).
  double bad_nonce = 0.0;
  double rate_limited = 0.0;
  double unavailable = 0.0;
  std::chrono::seconds rate_limit_retry_after = acme_model::rate_limit_retry_after;
};

// Calls received, per endpoint, and the answers tests and benchmarks assert on.
struct acme_counters {
  std::uint64_t new_nonce = 0;
  std::uint64_t new_order = 0;
  std::uint64_t finalize = 0;
  std::uint64_t order_polls = 0;  // POST-as-GET (or GET) of an order
  std::uint64_t certificate = 0;
  std::uint64_t renewal_info = 0;
  std::uint64_t other = 0;  // unknown path or method
  // Polls that came sooner than the previous reply's Retry-After asked.
  std::uint64_t early_order_polls = 0;
  std::uint64_t early_renewal_info = 0;
  // Answers.
  std::uint64_t bad_nonce = 0;      // 400 badNonce (stale nonce or injected)
  std::uint64_t rate_limited = 0;   // 429
  std::uint64_t unavailable = 0;    // 503 on new-order
  std::uint64_t server_errors = 0;  // 500 on renewalInfo
  std::uint64_t timeouts = 0;       // renewalInfo GETs never answered
  std::uint64_t replaces_rejected = 0;
  std::uint64_t orders_valid = 0;

  constexpr std::uint64_t calls() const noexcept {
    return new_nonce + new_order + finalize + order_polls + certificate + renewal_info + other;
  }
};

// One order, as a test or a benchmark may inspect it.
struct acme_order_info {
  bool exists = false;
  std::string_view status{};  // "ready", "processing", "valid"
  std::uint32_t polls = 0;
  std::uint32_t early_polls = 0;
  duration processing{};  // drawn at finalize; zero before
  std::optional<time_point> finalized_at;
  std::optional<time_point> valid_at;  // when processing ends
  std::string replaces;                // the CertID it replaces, if any
};

// A certificate the server issued earlier: renewalInfo answers for it, `replaces` may name it.
struct acme_certificate {
  std::string cert_id;                   // RFC 9773 §4.1
  std::vector<std::string> identifiers;  // DNS names
  time_point window_start{};
  time_point window_end{};
  std::string explanation_url;  // sent when not empty
};

struct acme_certificate_info {
  bool exists = false;
  bool replaced = false;
  std::string serial;  // 36 hex digits
  time_point window_start{};
  time_point window_end{};
  std::uint32_t renewal_info_gets = 0;
  std::uint32_t early_gets = 0;
  std::optional<duration> last_retry_after;
};

class acme_server {
 public:
  explicit acme_server(virtual_clock& clock, acme_server_options options = {})
      : clock_(&clock),
        options_(std::move(options)),
        sigma_(sigma_for(options_.processing_median, options_.processing_p99)),
        fault_rng_(options_.seed ^ 0x6661756c74732121ULL),
        nonce_mask_(splitmix64{options_.seed ^ 0x6e6f6e6365736565ULL}()) {}

  // --- set-up ---------------------------------------------------------------------------

  // A new order, `ready` for finalize; returns its number (1, 2, ...). Its processing time is
  // a function of the seed and the number alone.
  std::uint64_t create_order(std::vector<std::string> identifiers = {"example.com"},
                             std::string replaces = {}) {
    order o;
    o.identifiers = std::move(identifiers);
    o.replaces = std::move(replaces);
    o.created_at = clock_->now();
    orders_.push_back(std::move(o));
    return orders_.size();
  }

  // Creates (or replaces) a certificate renewalInfo and `replaces` know.
  void add_certificate(acme_certificate c) {
    certificate& slot = certificates_[c.cert_id];
    slot = certificate{};
    slot.serial = serial_of(c.cert_id).value_or(std::string{});
    slot.rng = splitmix64{options_.seed ^ fnv1a(c.cert_id) ^ 0x72656e6577616c21ULL};
    slot.data = std::move(c);
  }

  // From `at` on (default: now), the certificate's suggested window is [start, end).
  void move_window(std::string_view cert_id, time_point start, time_point end,
                   std::optional<time_point> at = std::nullopt) {
    const auto it = certificates_.find(cert_id);
    if (it == certificates_.end()) return;
    it->second.moves.push_back({at.value_or(clock_->now()), start, end});
  }

  // As if an order replacing the certificate had been accepted already.
  void mark_replaced(std::string_view cert_id) {
    const auto it = certificates_.find(cert_id);
    if (it != certificates_.end()) it->second.replaced = true;
  }

  // The next new-order requests answer these faults, first in, first out.
  void queue_new_order_fault(acme_fault f) { queued_faults_.push_back(f); }

  // A nonce the server issued, for a client's first POST (what HEAD new-nonce would return).
  std::string fresh_nonce() { return issue_nonce(); }

  // --- the transport --------------------------------------------------------------------

  result<response> send(const request_view& req) {
    std::optional<response> r = dispatch(req);
    if (!r) {  // the server never answers: the client gives up after its timeout
      clock_->advance(options_.timeout);
      return errc::transport_timeout;
    }
    r->headers.push_back({"Replay-Nonce", issue_nonce()});
    clock_->advance(options_.latency);
    return std::move(*r);
  }

  // --- inspection -----------------------------------------------------------------------

  const acme_counters& counters() const noexcept { return counters_; }
  const acme_server_options& options() const noexcept { return options_; }

  acme_order_info inspect_order(std::uint64_t id) const {
    acme_order_info info;
    if (id == 0 || id > orders_.size()) return info;
    const order& o = orders_[id - 1];
    info.exists = true;
    info.status = status_text(o, clock_->now());
    info.polls = o.polls;
    info.early_polls = o.early_polls;
    info.processing = o.processing;
    info.finalized_at = o.finalized_at;
    if (o.finalized_at) info.valid_at = *o.finalized_at + o.processing;
    info.replaces = o.replaces;
    return info;
  }

  acme_certificate_info inspect_certificate(std::string_view cert_id) {
    acme_certificate_info info;
    const auto it = certificates_.find(cert_id);
    if (it == certificates_.end()) return info;
    certificate& c = it->second;
    settle_window(c);
    info.exists = true;
    info.replaced = c.replaced;
    info.serial = c.serial;
    info.window_start = c.data.window_start;
    info.window_end = c.data.window_end;
    info.renewal_info_gets = c.gets;
    info.early_gets = c.early_gets;
    info.last_retry_after = c.last_retry_after;
    return info;
  }

  // The order's URL paths, as the client is given them (no origin).
  static std::string order_path(std::uint64_t id) {
    return std::string(acme_order_prefix) + std::to_string(id);
  }
  static std::string finalize_path(std::uint64_t id) {
    return std::string(acme_finalize_prefix) + std::to_string(id);
  }
  static std::string renewal_info_path(std::string_view cert_id) {
    return std::string(acme_renewal_info_prefix) + std::string(cert_id);
  }

  // sigma of a lognormal with this median and 99th percentile.
  static double sigma_for(duration median, duration p99) {
    if (median <= duration::zero() || p99 <= median) return 0.0;
    return std::log(static_cast<double>(p99.count()) / static_cast<double>(median.count())) /
           acme_model::normal_z99;
  }

  // One processing time: median * exp(sigma * Z), Z standard normal by Box-Muller from two
  // uniforms of `rng` (the model's draws are its own, not <random>'s, so one seed gives the same
  // times with every standard library).
  template <random_source R>
  static duration draw_lognormal(R& rng, duration median, double sigma) {
    const double u1 = uniform_unit(rng), u2 = uniform_unit(rng);
    // 1 - u1 is in (0, 1]: the logarithm is finite.
    const double z = std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2);
    return certretry::detail::saturate_ms(static_cast<double>(median.count()) *
                                          std::exp(sigma * z));
  }

  // The serial a CertID names (RFC 9773 §4.1: the part after the '.' is the DER serial's
  // content octets), as Boulder prints serials: 36 lowercase hex digits, zero-padded. Nothing
  // when the CertID is not two non-empty base64url parts.
  static std::optional<std::string> serial_of(std::string_view cert_id) {
    const std::size_t dot = cert_id.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == cert_id.size() ||
        cert_id.find('.', dot + 1) != std::string_view::npos)
      return std::nullopt;
    if (!base64url_decode(cert_id.substr(0, dot))) return std::nullopt;
    const auto bytes = base64url_decode(cert_id.substr(dot + 1));
    if (!bytes) return std::nullopt;
    std::string hex;
    bool leading = true;
    for (const unsigned char b : *bytes) {
      if (leading && b == 0) continue;
      leading = false;
      char buf[3];
      std::snprintf(buf, sizeof buf, "%02x", b);
      hex += buf;
    }
    if (hex.size() < acme_model::serial_hex_digits)
      hex.insert(0, acme_model::serial_hex_digits - hex.size(), '0');
    return hex;
  }

 private:
  enum class order_state : std::uint8_t { ready, processing, valid };

  struct order {
    std::vector<std::string> identifiers;
    std::string replaces;
    time_point created_at{};
    std::optional<time_point> finalized_at;
    duration processing{};
    bool finalized = false;
    std::uint32_t polls = 0;
    std::uint32_t early_polls = 0;
    bool counted_valid = false;
    // The previous reply to this order (finalize included): when, and the Retry-After it sent.
    time_point last_reply_at{};
    std::optional<duration> last_retry_after;
  };

  struct window_move {
    time_point at, start, end;
  };

  struct certificate {
    acme_certificate data;
    std::string serial;
    bool replaced = false;
    std::vector<window_move> moves;  // pending, applied once their time has come
    splitmix64 rng{};
    std::uint32_t gets = 0;
    std::uint32_t early_gets = 0;
    time_point last_reply_at{};
    std::optional<duration> last_retry_after;
  };

  // --- nonces (RFC 8555 §6.5) -------------------------------------------------------------

  std::string issue_nonce() {
    ++nonces_issued_;
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx",
                  static_cast<unsigned long long>(nonces_issued_ ^ nonce_mask_));
    return buf;
  }

  // Accepts a nonce once, and only among the last nonce_window issued.
  bool consume_nonce(std::string_view n) {
    if (n.size() != 16) return false;
    std::uint64_t v = 0;
    for (const char c : n) {
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (d < 0) return false;
      v = (v << 4) | static_cast<std::uint64_t>(d);
    }
    const std::uint64_t serial = v ^ nonce_mask_;
    if (serial == 0 || serial > nonces_issued_) return false;
    if (nonces_issued_ - serial >= acme_model::nonce_window) return false;
    if (!used_nonces_.insert(serial).second) return false;
    // Forget what has left the window: those are refused by age anyway.
    while (!used_nonces_.empty() &&
           nonces_issued_ - *used_nonces_.begin() >= acme_model::nonce_window)
      used_nonces_.erase(used_nonces_.begin());
    return true;
  }

  // --- replies ----------------------------------------------------------------------------

  static response problem_reply(int status, std::string_view type, std::string_view detail) {
    std::string body = "{\"type\":\"urn:ietf:params:acme:error:";
    body += type;
    body += "\",\"detail\":";
    certretry::detail::append_json_string(body, detail);
    body += ",\"status\":" + std::to_string(status) + "}";
    return response{status, {{"Content-Type", "application/problem+json"}}, std::move(body)};
  }

  static void add_retry_after(response& r, duration d) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(d);
    r.headers.push_back({"Retry-After", std::to_string(s.count())});
  }

  std::string url(std::string_view prefix, std::uint64_t id) const {
    return options_.origin + std::string(prefix) + std::to_string(id);
  }

  static std::string_view status_text(const order& o, time_point now) {
    switch (state_of(o, now)) {
      case order_state::ready: return "ready";
      case order_state::processing: return "processing";
      case order_state::valid: return "valid";
    }
    return "ready";
  }

  static order_state state_of(const order& o, time_point now) {
    if (!o.finalized_at) return order_state::ready;
    return now - *o.finalized_at >= o.processing ? order_state::valid : order_state::processing;
  }

  // RFC 8555 §7.1.3's order object.
  response order_reply(int status, std::uint64_t id, const order& o, time_point now) {
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
    body += "],\"authorizations\":[\"" + url(acme_authz_prefix, id) + "\"],\"finalize\":\"" +
            url(acme_finalize_prefix, id) + "\"";
    if (!o.replaces.empty()) {
      body += ",\"replaces\":";
      certretry::detail::append_json_string(body, o.replaces);
    }
    if (s == order_state::valid)
      body += ",\"certificate\":\"" + url(acme_certificate_prefix, id) + "\"";
    body += '}';
    response r{status, {{"Content-Type", "application/json"}}, std::move(body)};
    if (status == 201) r.headers.push_back({"Location", url(acme_order_prefix, id)});
    if (s == order_state::processing && options_.order_style == acme_order_style::boulder)
      add_retry_after(r, acme_model::boulder_processing_retry_after);
    return r;
  }

  // --- dispatch ---------------------------------------------------------------------------

  // Nothing: the server does not answer (a timeout).
  std::optional<response> dispatch(const request_view& req) {
    std::string_view path = req.target;
    if (path.starts_with(options_.origin)) path.remove_prefix(options_.origin.size());
    path = path.substr(0, path.find('?'));
    const bool post = req.method == "POST";
    const bool get = req.method == "GET";

    if (path == acme_new_nonce_path && (req.method == "HEAD" || get)) {
      ++counters_.new_nonce;
      // RFC 8555 §7.2: HEAD answers 200, GET 204; a nonce must not be cached.
      return response{req.method == "HEAD" ? 200 : 204, {{"Cache-Control", "no-store"}}, {}};
    }
    if (get && path.starts_with(acme_renewal_info_prefix)) {
      ++counters_.renewal_info;
      return on_renewal_info(path.substr(acme_renewal_info_prefix.size()));
    }
    const auto id = number_after(path, acme_order_prefix);
    if (id && (post || get)) {
      ++counters_.order_polls;
      if (post) {
        if (auto refused = check_nonce(req)) return refused;
      }
      return on_order_poll(*id);
    }
    if (post && path == acme_new_order_path) {
      ++counters_.new_order;
      if (auto refused = check_nonce(req)) return refused;
      return on_new_order(req.body);
    }
    if (const auto f = number_after(path, acme_finalize_prefix); f && post) {
      ++counters_.finalize;
      if (auto refused = check_nonce(req)) return refused;
      return on_finalize(*f);
    }
    if (const auto c = number_after(path, acme_certificate_prefix); c && post) {
      ++counters_.certificate;
      if (auto refused = check_nonce(req)) return refused;
      return on_certificate(*c);
    }
    ++counters_.other;
    return problem_reply(404, "malformed", "no such resource");
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
    if (n == 0 || n > orders_.size()) return std::nullopt;
    return n;
  }

  // RFC 8555 §6.5: a POST signed with a nonce the server did not issue, or already saw, is
  // refused with badNonce; the fresh nonce rides on the reply like on every other.
  std::optional<response> check_nonce(const request_view& req) {
    if (!options_.check_nonces) return std::nullopt;
    const auto n = find_header(req.headers, "Replay-Nonce");
    if (n && consume_nonce(*n)) return std::nullopt;
    return bad_nonce_reply(n.value_or(std::string_view{}));
  }

  response bad_nonce_reply(std::string_view nonce) {
    ++counters_.bad_nonce;
    std::string detail(acme_text::bad_nonce);
    certretry::detail::append_sanitized(detail, nonce, 64);
    detail += '"';
    return problem_reply(400, "badNonce", detail);
  }

  bool draw(double p) {
    if (!(p > 0.0)) return false;
    return uniform_unit(fault_rng_) < p;
  }

  // --- (a) orders -------------------------------------------------------------------------

  response on_finalize(std::uint64_t id) {
    order& o = orders_[id - 1];
    const time_point now = clock_->now();
    if (o.finalized_at) {
      // RFC 8555 §7.4: only a ready order can be finalized.
      std::string detail(acme_text::not_ready);
      detail += status_text(o, now);
      detail += acme_text::not_ready_after;
      return problem_reply(403, "orderNotReady", detail);
    }
    splitmix64 rng{options_.seed ^ (id * 0x9e3779b97f4a7c15ULL) ^ 0x70726f6365737321ULL};
    o.processing = draw_lognormal(rng, options_.processing_median, sigma_);
    o.finalized_at = now;
    response r = order_reply(200, id, o, now);
    remember(o, now, r);
    return r;
  }

  response on_order_poll(std::uint64_t id) {
    order& o = orders_[id - 1];
    const time_point now = clock_->now();
    ++o.polls;
    if (o.last_retry_after && now - o.last_reply_at < *o.last_retry_after) {
      ++o.early_polls;
      ++counters_.early_order_polls;
    }
    response r = order_reply(200, id, o, now);
    if (state_of(o, now) == order_state::valid && !o.counted_valid) {
      o.counted_valid = true;
      ++counters_.orders_valid;
    }
    remember(o, now, r);
    return r;
  }

  static void remember(order& o, time_point now, const response& r) {
    o.last_reply_at = now;
    o.last_retry_after.reset();
    if (const auto ra = find_header(r.headers, "Retry-After")) {
      std::uint64_t s = 0;
      for (const char c : *ra) s = s * 10 + static_cast<std::uint64_t>(c - '0');
      o.last_retry_after = std::chrono::seconds{static_cast<std::int64_t>(s)};
    }
  }

  response on_certificate(std::uint64_t id) {
    const order& o = orders_[id - 1];
    if (state_of(o, clock_->now()) != order_state::valid)
      return problem_reply(404, "malformed", "Certificate not found");
    return response{200,
                    {{"Content-Type", "application/pem-certificate-chain"}},
                    "-----BEGIN CERTIFICATE-----\nCERT-" + std::to_string(id) +
                        "\n-----END CERTIFICATE-----\n"};
  }

  // --- (b) renewalInfo --------------------------------------------------------------------

  void settle_window(certificate& c) {
    const time_point now = clock_->now();
    for (auto it = c.moves.begin(); it != c.moves.end();) {
      if (it->at <= now) {
        c.data.window_start = it->start;
        c.data.window_end = it->end;
        it = c.moves.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::optional<response> on_renewal_info(std::string_view cert_id) {
    if (!serial_of(cert_id)) return problem_reply(400, "malformed", acme_text::bad_cert_id);
    const auto it = certificates_.find(cert_id);
    if (it == certificates_.end()) return problem_reply(404, "malformed", "Certificate not found");
    certificate& c = it->second;
    const time_point now = clock_->now();
    ++c.gets;
    if (c.last_retry_after && now - c.last_reply_at < *c.last_retry_after) {
      ++c.early_gets;
      ++counters_.early_renewal_info;
    }
    // Each GET draws its faults and its Retry-After from the certificate's own stream.
    const double fault = uniform_unit(c.rng);
    const double spread = uniform_unit(c.rng);
    if (fault < options_.renewal_info_timeouts) {
      ++counters_.timeouts;
      return std::nullopt;
    }
    c.last_reply_at = now;
    if (fault < options_.renewal_info_timeouts + options_.renewal_info_errors) {
      ++counters_.server_errors;
      response r = problem_reply(500, "serverInternal", "Internal error");
      add_retry_after(r, acme_model::server_error_retry_after);
      c.last_retry_after = acme_model::server_error_retry_after;
      return r;
    }
    settle_window(c);
    std::string body = "{\"suggestedWindow\":{\"start\":\"" + format_rfc3339(c.data.window_start) +
                       "\",\"end\":\"" + format_rfc3339(c.data.window_end) + "\"}";
    if (!c.data.explanation_url.empty()) {
      body += ",\"explanationURL\":";
      certretry::detail::append_json_string(body, c.data.explanation_url);
    }
    body += '}';
    response r{200, {{"Content-Type", "application/json"}}, std::move(body)};
    // 6 h x (1 + U[-0.2, 0.2]), whole seconds (delay-seconds, RFC 9110 §10.2.3).
    const double base_s = static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(acme_model::renewal_info_retry_after)
            .count());
    const double factor = 1.0 + acme_model::renewal_info_retry_after_spread * (2.0 * spread - 1.0);
    const std::chrono::seconds ra{static_cast<std::int64_t>(std::llround(base_s * factor))};
    add_retry_after(r, ra);
    c.last_retry_after = ra;
    return r;
  }

  // --- (c) new-order ----------------------------------------------------------------------

  struct new_order_fields {
    std::vector<std::string> identifiers;
    std::optional<std::string> replaces;
  };

  std::optional<new_order_fields> parse_new_order(std::string_view text) {
    new_order_fields out;
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

  std::optional<acme_fault> next_fault() {
    if (!queued_faults_.empty()) {
      const acme_fault f = queued_faults_.front();
      queued_faults_.erase(queued_faults_.begin());
      return f;
    }
    if (draw(options_.bad_nonce)) return acme_fault::bad_nonce;
    if (draw(options_.rate_limited)) return acme_fault::rate_limited;
    if (draw(options_.unavailable)) return acme_fault::unavailable;
    return std::nullopt;
  }

  response on_new_order(std::string_view payload) {
    if (const auto fault = next_fault()) {
      switch (*fault) {
        case acme_fault::bad_nonce: return bad_nonce_reply("");
        case acme_fault::rate_limited: {
          ++counters_.rate_limited;
          response r = problem_reply(429, "rateLimited", acme_text::rate_limited);
          add_retry_after(r, options_.rate_limit_retry_after);
          return r;
        }
        case acme_fault::unavailable:
          ++counters_.unavailable;
          return response{503,
                          {{"Content-Type", "text/html"}},
                          "<html><body><h1>503 Service Unavailable</h1></body></html>"};
      }
    }
    const auto fields = parse_new_order(payload);
    if (!fields) return problem_reply(400, "malformed", "Request payload did not parse as JSON");
    if (fields->identifiers.empty())
      return problem_reply(400, "malformed", "NewOrder request did not specify any identifiers");
    if (fields->replaces) {
      if (auto refused = check_replaces(*fields)) {
        ++counters_.replaces_rejected;
        return std::move(*refused);
      }
    }
    const std::uint64_t id = create_order(fields->identifiers, fields->replaces.value_or(""));
    return order_reply(201, id, orders_[id - 1], clock_->now());
  }

  // Boulder's order of checks: the CertID parses, no order replaces it yet, the certificate
  // exists, and it shares an identifier with the new order.
  std::optional<response> check_replaces(const new_order_fields& f) {
    const std::string& cert_id = *f.replaces;
    const auto serial = serial_of(cert_id);
    std::string detail(acme_text::ari_prefix);
    if (!serial) {
      detail += acme_text::bad_cert_id;
      return problem_reply(400, "malformed", detail);
    }
    const auto it = certificates_.find(cert_id);
    if (it != certificates_.end() && it->second.replaced) {
      std::string why(acme_text::already_replaced_before_serial);
      why += *serial;
      why += acme_text::already_replaced_after_serial;
      if (options_.replaces_style == acme_replaces_style::boulder_conflict)
        return problem_reply(409, "conflict", std::string(acme_text::conflict_prefix) + why);
      return problem_reply(409, "alreadyReplaced", detail + why);
    }
    if (it == certificates_.end()) {
      detail += acme_text::unknown_serial_before;
      detail += *serial;
      detail += acme_text::unknown_serial_after;
      return problem_reply(404, "malformed", detail);
    }
    const auto& have = it->second.data.identifiers;
    const bool shared = std::any_of(f.identifiers.begin(), f.identifiers.end(), [&](const auto& s) {
      return std::find(have.begin(), have.end(), s) != have.end();
    });
    if (!shared) {
      detail += acme_text::identifiers_mismatch;
      return problem_reply(400, "malformed", detail);
    }
    it->second.replaced = true;
    return std::nullopt;
  }

  virtual_clock* clock_;
  acme_server_options options_;
  double sigma_;
  acme_counters counters_{};
  std::vector<order> orders_;
  std::map<std::string, certificate, std::less<>> certificates_;
  std::vector<acme_fault> queued_faults_;
  splitmix64 fault_rng_;
  std::uint64_t nonce_mask_;
  std::uint64_t nonces_issued_ = 0;
  std::set<std::uint64_t> used_nonces_;
  certretry::detail::json_reader reader_{};
};

}  // namespace certretry::model
