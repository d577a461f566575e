// jws_transport.hpp — signs the ACME machines' POSTs (RFC 8555 §6.2) on their way to a transport.
//
// certretry's ACME machines stay free of keys: a POST they ask for carries the JWS payload as
// its body (an empty body is a POST-as-GET, RFC 8555 §6.3, payload "") and the nonce to sign
// with as a `Replay-Nonce` request header. This wrapper moves that nonce into the protected
// header, signs, and sends the flattened JSON serialization (RFC 7515 §7.2.2) in its place.
// HEAD (new-nonce) and GET requests pass through unsigned.
#pragma once

#include "crypto.hpp"

#include <certretry/core/concepts.hpp>
#include <certretry/core/errc.hpp>
#include <certretry/core/http.hpp>
#include <certretry/transport/curl.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acme_pebble {

// The scheme and authority of a URL ("https://127.0.0.1:14000" of ".../dir").
inline std::string url_origin(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const auto path = url.find('/', scheme_end + 3);
  return std::string(url.substr(0, path));
}

template <certretry::transport Inner>
class jws_transport {
 public:
  // `base_url` resolves targets that are paths, as the inner transport does, so that the
  // protected `url` is exactly the URL the request goes to (RFC 8555 §6.4).
  jws_transport(Inner& inner, const ec_key& account_key, std::string base_url)
      : inner_(inner), key_(account_key), base_url_(std::move(base_url)) {}

  // RFC 8555 §6.2: `jwk` only until the account exists (new-account), `kid` with the account URL
  // after.
  void set_account_url(std::string kid) { kid_ = std::move(kid); }
  const std::optional<std::string>& account_url() const noexcept { return kid_; }

  certretry::result<certretry::response> send(const certretry::request_view& r) {
    if (r.method != "POST") return inner_.send(r);
    const auto nonce = certretry::find_header(r.headers, "Replay-Nonce");
    // Every JWS needs a fresh nonce (RFC 8555 §6.5); a POST without one cannot be signed.
    if (!nonce || nonce->empty()) return certretry::errc::transport_failure;

    const std::string url = certretry::absolute_url(base_url_, r.target);
    std::string header =
        R"({"alg":"ES256","nonce":)" + json_quote(*nonce) + R"(,"url":)" + json_quote(url);
    if (kid_)
      header += R"(,"kid":)" + json_quote(*kid_);
    else
      header += R"(,"jwk":)" + key_.jwk();
    header += '}';
    const std::string protected64 = base64url(header);
    const std::string payload64 = base64url(r.body);
    const std::string signature = key_.sign_es256(protected64 + "." + payload64);
    body_ = R"({"protected":")" + protected64 + R"(","payload":")" + payload64 +
            R"(","signature":")" + signature + "\"}";

    headers_.clear();
    for (const auto& f : r.headers) {
      if (certretry::detail::iequals(f.name, "Replay-Nonce") ||
          certretry::detail::iequals(f.name, "Content-Type"))
        continue;
      headers_.push_back(f);
    }
    // RFC 8555 §6.2: a JWS request body is application/jose+json.
    headers_.push_back({"Content-Type", "application/jose+json"});
    return inner_.send(certretry::request_view{
        .method = r.method, .target = r.target, .headers = headers_, .body = body_});
  }

 private:
  Inner& inner_;
  const ec_key& key_;
  std::string base_url_;
  std::optional<std::string> kid_;
  std::string body_;
  std::vector<certretry::header_field> headers_;
};

}  // namespace acme_pebble
