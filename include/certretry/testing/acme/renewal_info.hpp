// certretry/testing/acme/renewal_info.hpp — the ACME server model's certificates and their
// renewalInfo (RFC 9773 §4).
//
// A test adds the certificates the server issued earlier (acme_certificate: CertID, identifiers,
// suggested window). GET <renewal-info>/<CertID> (RFC 9773 §4.1) answers 200
// {"suggestedWindow":{"start","end"}} (RFC 9773 §4.2), with "explanationURL" when the
// certificate has one, and a `Retry-After` drawn uniformly in 6 h ±20 %, as Boulder's
// wfe2/wfe.go does (jitterRetryHeader; docs/sources.md#boulder); Boulder truncates to whole
// seconds, the model rounds. RFC 9773 §4.3 has clients wait that long before they ask again:
// GETs that come sooner are counted.
//
// Faults, each with a probability per GET: a 500 serverInternal with `Retry-After: 60`
// (Boulder's sendError adds 60 s to every 500), or no reply at all, which the transport turns
// into a timeout. A certificate's window can be moved from a given virtual time on
// (move_window), as Boulder moves it into the past for a certificate hit by an incident or
// revoked (determineARIWindow).
//
// A CertID that is not two parts answers 400 malformed and an unknown certificate 404 malformed,
// as Boulder's RenewalInfo does; the model also answers 400 for parts that are not base64url
// (Boulder: 400 or 404, by part).
//
// Each certificate draws from its own SplitMix64 stream, seeded from the server's seed and the
// FNV-1a hash of its CertID, so its draws do not depend on what other certificates did or in
// which order the calls came.
#pragma once

#include "certretry/core/base64url.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"
#include "certretry/testing/acme/model.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::model::acme_detail {

// The serial a CertID names (RFC 9773 §4.1: the part after the '.' is the DER serial's content
// octets), as Boulder prints serials: 36 lowercase hex digits, zero-padded (core/util.go,
// SerialToString). Nothing when the CertID is not two non-empty base64url parts.
inline std::optional<std::string> serial_of(std::string_view cert_id) {
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

// The certificates the server knows, by CertID.
class certificates {
 public:
  struct window_move {
    time_point at, start, end;
  };

  struct record {
    acme_certificate data;
    std::string serial;
    bool replaced = false;           // an accepted order named it in `replaces` (RFC 9773 §5)
    std::vector<window_move> moves;  // pending, applied once their time has come
    splitmix64 rng{};
    std::uint32_t gets = 0;
    std::uint32_t early_gets = 0;
    // The previous reply to a GET: when, and the Retry-After it sent.
    time_point last_reply_at{};
    std::optional<duration> last_retry_after;
  };

  // Creates (or replaces) a certificate; its stream starts afresh.
  void add(acme_certificate c, std::uint64_t seed) {
    record& slot = by_id_[c.cert_id];
    slot = record{};
    slot.serial = serial_of(c.cert_id).value_or(std::string{});
    slot.rng = splitmix64{seed ^ fnv1a(c.cert_id) ^ 0x72656e6577616c21ULL};
    slot.data = std::move(c);
  }

  // From `at` on, the certificate's suggested window is [start, end).
  void move_window(std::string_view cert_id, time_point start, time_point end, time_point at) {
    const auto it = by_id_.find(cert_id);
    if (it == by_id_.end()) return;
    it->second.moves.push_back({at, start, end});
  }

  // As if an order replacing the certificate had been accepted already.
  void mark_replaced(std::string_view cert_id) {
    const auto it = by_id_.find(cert_id);
    if (it != by_id_.end()) it->second.replaced = true;
  }

  // The certificate with this CertID, if the server knows it.
  record* find(std::string_view cert_id) {
    const auto it = by_id_.find(cert_id);
    return it == by_id_.end() ? nullptr : &it->second;
  }

  // GET <renewal-info>/<cert_id>. Nothing: the server does not answer (a timeout).
  std::optional<response> get(std::string_view cert_id, time_point now,
                              const acme_server_options& options, acme_counters& counters) {
    if (!serial_of(cert_id)) return problem_reply(400, "malformed", acme_text::bad_cert_id);
    const auto it = by_id_.find(cert_id);
    if (it == by_id_.end()) return problem_reply(404, "malformed", "Certificate not found");
    record& c = it->second;
    ++c.gets;
    if (c.last_retry_after && now - c.last_reply_at < *c.last_retry_after) {
      ++c.early_gets;
      ++counters.early_renewal_info;
    }
    // Each GET draws its faults and its Retry-After from the certificate's own stream.
    const double fault = uniform_unit(c.rng);
    const double spread = uniform_unit(c.rng);
    if (fault < options.renewal_info_timeouts) {
      ++counters.timeouts;
      return std::nullopt;
    }
    c.last_reply_at = now;
    if (fault < options.renewal_info_timeouts + options.renewal_info_errors) {
      ++counters.server_errors;
      response r = problem_reply(500, "serverInternal", "Internal error");
      add_retry_after(r, acme_model::server_error_retry_after);
      c.last_retry_after = acme_model::server_error_retry_after;
      return r;
    }
    settle_window(c, now);
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

  // The certificate as a test sees it at `now` (its window moved if a move is due);
  // `exists` is false for an unknown CertID.
  acme_certificate_info inspect(std::string_view cert_id, time_point now) {
    acme_certificate_info info;
    const auto it = by_id_.find(cert_id);
    if (it == by_id_.end()) return info;
    record& c = it->second;
    settle_window(c, now);
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

 private:
  // Applies the window moves whose time has come, in the order they were made.
  static void settle_window(record& c, time_point now) {
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

  std::map<std::string, record, std::less<>> by_id_;
};

}  // namespace certretry::model::acme_detail
