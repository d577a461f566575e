// curl_transport.hpp — a libcurl transport for certretry's machines (core/concepts.hpp).
//
// One request in, one whole response (or a certretry::errc) out; it never retries, since
// retrying is the machine's decision. TLS peers are verified against a given CA file.
#pragma once

#include <certretry/core/concepts.hpp>
#include <certretry/core/errc.hpp>
#include <certretry/core/http.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace acme_pebble {

// Joins a request target to a base URL: a target that is already an absolute URL (ACME servers
// hand out absolute URLs, RFC 8555 §7.1.1) is used as is, a path is appended to the base.
inline std::string absolute_url(std::string_view base, std::string_view target) {
  if (target.starts_with("https://") || target.starts_with("http://")) return std::string(target);
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string out(base);
  if (!target.starts_with('/')) out += '/';
  out += target;
  return out;
}

// The scheme and authority of a URL ("https://127.0.0.1:14000" of ".../dir").
inline std::string url_origin(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const auto path = url.find('/', scheme_end + 3);
  return std::string(url.substr(0, path));
}

// curl_global_init / curl_global_cleanup, once per program, before any thread exists.
class curl_global {
 public:
  curl_global() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
  }
  ~curl_global() { curl_global_cleanup(); }
  curl_global(const curl_global&) = delete;
  curl_global& operator=(const curl_global&) = delete;
};

struct curl_options {
  std::string base_url;  // joined with targets that are paths
  std::string ca_file;   // PEM bundle the server's certificate must chain to
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};           // the whole exchange
  std::size_t max_body_bytes = std::size_t{1} << 20;  // an ACME body or PEM chain is far smaller
  std::size_t max_header_bytes = std::size_t{64} << 10;
};

class curl_transport {
 public:
  explicit curl_transport(curl_options o) : options_(std::move(o)), easy_(curl_easy_init()) {
    if (!easy_) throw std::runtime_error("curl_easy_init failed");
  }

  certretry::result<certretry::response> send(const certretry::request_view& r) {
    // One easy handle for every request: reset clears the previous request's options but keeps
    // the connection cache, so consecutive requests reuse one TLS connection.
    CURL* h = easy_.get();
    curl_easy_reset(h);
    exchange x{.max_body = options_.max_body_bytes, .max_headers = options_.max_header_bytes};

    const std::string url = absolute_url(options_.base_url, r.target);
    std::unique_ptr<curl_slist, slist_free> headers;
    for (const auto& f : r.headers) {
      // "Name;" is curl's spelling of a header with an empty value.
      const std::string line = f.value.empty() ? f.name + ";" : f.name + ": " + f.value;
      headers.reset(append(headers.release(), line));
    }
    // No "Expect: 100-continue" round trip before a POST body.
    headers.reset(append(headers.release(), "Expect:"));

    bool ok = curl_easy_setopt(h, CURLOPT_URL, url.c_str()) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http") == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                               static_cast<long>(options_.connect_timeout.count())) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                               static_cast<long>(options_.timeout.count())) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEDATA, &x) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_HEADERDATA, &x) == CURLE_OK;
    if (!options_.ca_file.empty())
      ok = ok && curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str()) == CURLE_OK;
    if (r.method == "HEAD") {
      ok = ok && curl_easy_setopt(h, CURLOPT_NOBODY, 1L) == CURLE_OK;
    } else if (r.method == "POST") {
      ok = ok && curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                            static_cast<curl_off_t>(r.body.size())) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data()) == CURLE_OK;
    } else if (r.method != "GET") {
      const std::string method(r.method);  // curl copies option strings
      ok = ok && curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str()) == CURLE_OK;
    }
    if (!ok) return certretry::errc::transport_failure;
    return perform(h, x);
  }

 private:
  struct easy_free {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
  };
  struct slist_free {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
  };

  // What one transfer collects, and which of its own limits stopped it.
  struct exchange {
    std::size_t max_body;
    std::size_t max_headers;
    certretry::response out{};
    std::size_t header_bytes = 0;
    bool body_over = false;
    bool headers_over = false;
  };

  static curl_slist* append(curl_slist* list, const std::string& line) {
    curl_slist* grown = curl_slist_append(list, line.c_str());
    if (!grown) {
      curl_slist_free_all(list);
      throw std::bad_alloc();
    }
    return grown;
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto& x = *static_cast<exchange*>(user);
    const std::size_t bytes = size * n;
    if (x.out.body.size() + bytes > x.max_body) {
      x.body_over = true;
      return 0;  // curl aborts the transfer with CURLE_WRITE_ERROR
    }
    x.out.body.append(data, bytes);
    return bytes;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto& x = *static_cast<exchange*>(user);
    const std::size_t bytes = size * n;
    x.header_bytes += bytes;
    if (x.header_bytes > x.max_headers) {
      x.headers_over = true;
      return 0;
    }
    std::string_view line{data, bytes};
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {
      // A new status line (after a 1xx): only the final response's headers count.
      x.out.headers.clear();
      return bytes;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return bytes;  // blank line ends headers
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    x.out.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
    return bytes;
  }

  static certretry::result<certretry::response> perform(CURL* h, exchange& x) {
    const CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
      if (x.body_over) return certretry::errc::body_too_large;
      if (x.headers_over) return certretry::errc::header_too_large;
      return map_error(rc);
    }
    long status = 0;
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
      return certretry::errc::transport_failure;
    x.out.status = static_cast<int>(status);
    return std::move(x.out);
  }

  static certretry::errc map_error(CURLcode rc) noexcept {
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT: return certretry::errc::transport_timeout;
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_CONNECT: return certretry::errc::connection_refused;
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      case CURLE_SSL_INVALIDCERTSTATUS:
      case CURLE_SSL_CRL_BADFILE:
      case CURLE_SSL_ENGINE_INITFAILED:
      case CURLE_SSL_ENGINE_NOTFOUND:
      case CURLE_SSL_ENGINE_SETFAILED:
      case CURLE_SSL_SHUTDOWN_FAILED: return certretry::errc::tls_failure;
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_PARTIAL_FILE:
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM: return certretry::errc::connection_reset;
      default: return certretry::errc::transport_failure;
    }
  }

  curl_options options_;
  std::unique_ptr<CURL, easy_free> easy_;
};

static_assert(certretry::transport<curl_transport>);

}  // namespace acme_pebble
