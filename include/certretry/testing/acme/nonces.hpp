// certretry/testing/acme/nonces.hpp — the ACME server model's anti-replay nonces (RFC 8555 §6.5).
//
// Every reply of the model carries a fresh `Replay-Nonce`, and so does HEAD or GET new-nonce
// (RFC 8555 §7.2). A signed POST must carry a nonce the server issued and has not seen yet; any
// other answers 400 urn:ietf:params:acme:error:badNonce, whose reply carries a fresh nonce like
// every other, so that the client can retry at once (RFC 8555 §6.5). Requests follow certretry's
// ACME convention (acme/exchange.hpp): the nonce a POST is signed with travels as its
// `Replay-Nonce` request field, since the model checks no signature.
//
// A nonce is 16 lowercase hex digits (characters of the base64url alphabet, as RFC 8555 §6.5.1
// requires): the number of nonces issued so far, XORed with a mask drawn from the server's seed,
// so one seed gives the same nonces on every platform. Only the last acme_model::nonce_window
// nonces are accepted: an older one is refused as stale. Boulder's nonce service works the same
// way (nonce/nonce.go: a counter, and a window of MaxUsed nonces, 65536 by default, below which
// nonces are refused; docs/sources.md#boulder); the model's window is smaller.
#pragma once

#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/text.hpp"
#include "certretry/testing/acme/model.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace certretry::model::acme_detail {

// 400 badNonce (RFC 8555 §6.5), naming the nonce it refused (cut and sanitized), counted.
inline response bad_nonce_reply(std::string_view nonce, acme_counters& counters) {
  ++counters.bad_nonce;
  std::string detail(acme_text::bad_nonce);
  certretry::detail::append_sanitized(detail, nonce, 64);
  detail += '"';
  return problem_reply(400, "badNonce", detail);
}

class nonces {
 public:
  explicit nonces(std::uint64_t seed) : mask_(splitmix64{seed ^ 0x6e6f6e6365736565ULL}()) {}

  // A fresh nonce: for a reply's `Replay-Nonce`, or for a client's first POST.
  std::string issue() {
    ++issued_;
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(issued_ ^ mask_));
    return buf;
  }

  // Accepts a nonce once, and only among the last acme_model::nonce_window issued.
  bool consume(std::string_view n) {
    if (n.size() != 16) return false;
    std::uint64_t v = 0;
    for (const char c : n) {
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (d < 0) return false;
      v = (v << 4) | static_cast<std::uint64_t>(d);
    }
    const std::uint64_t serial = v ^ mask_;
    if (serial == 0 || serial > issued_) return false;
    if (issued_ - serial >= acme_model::nonce_window) return false;
    if (!used_.insert(serial).second) return false;
    // Forget what has left the window: those are refused by age anyway.
    while (!used_.empty() && issued_ - *used_.begin() >= acme_model::nonce_window)
      used_.erase(used_.begin());
    return true;
  }

  // RFC 8555 §6.5: a POST signed with a nonce the server did not issue, or already saw, is
  // refused with badNonce. Nothing when the nonce is good (and now used).
  std::optional<response> check(const request_view& req, acme_counters& counters) {
    const auto n = find_header(req.headers, "Replay-Nonce");
    if (n && consume(*n)) return std::nullopt;
    return bad_nonce_reply(n.value_or(std::string_view{}), counters);
  }

 private:
  std::uint64_t mask_;
  std::uint64_t issued_ = 0;
  std::set<std::uint64_t> used_;  // used nonces still inside the window
};

}  // namespace certretry::model::acme_detail
