// certretry/transport/curl.hpp — a libcurl transport for certretry's machines (the `transport`
// concept of core/concepts.hpp). Component certretry::curl; reference: docs/transport.md.
//
// One request in, the whole response or an errc out; it never retries (that is the machine's
// decision) and never follows redirects (machines treat 3xx as an answer).
//
//   auto t = certretry::curl_transport::create({.base_url = "https://ca.example",
//                                               .timeout = 30s});
//   if (!t) return t.error();            // errc::transport_failure: libcurl could not start
//   certretry::run(machine, t.value(), certretry::system_clock{}, certretry::thread_sleeper{});
//
// - One easy handle per transport, kept across requests: curl_easy_reset() clears the previous
//   request's options but keeps the connection cache, so consecutive requests to one host reuse
//   one connection (libcurl: curl_easy_reset(3)).
// - Errors are values: timeout, refused, DNS, TLS, reset and the limits below map to errc
//   (curl_error_kind); curl's own words for the last failure are in last_error_detail().
// - Limits: a body over max_body_bytes is errc::body_too_large, refused from Content-Length
//   (CURLOPT_MAXFILESIZE_LARGE) or aborted from the write callback once it passes the bound, so
//   a hostile server cannot make it allocate more; headers over max_header_bytes are
//   errc::header_too_large.
// - TLS peers are verified (peer and host name) against the system store or ca_file.
// - Proxies: unless `proxy` is set, libcurl reads http_proxy, https_proxy, all_proxy and
//   no_proxy from the environment itself (libcurl: CURLOPT_PROXY(3)); `proxy = ""` disables.
// - Thread-safety: curl_global_init runs once per process (std::call_once) the first time a
//   transport is created; curl_global_cleanup is never called. A transport is not thread-safe:
//   use one per thread (libcurl: "Multi-threading Issues", libcurl-thread(3)). CURLOPT_NOSIGNAL
//   is set, so timeouts never raise signals in a threaded program.
// - No exceptions are thrown; create() reports a failed libcurl start as a value.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/version.hpp"

#include <curl/curl.h>

#include <array>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace certretry {

/// Where and how curl_transport sends: base URL, timeouts, limits, TLS, proxy.
///
/// Thread safety: a plain value (the transport keeps its own copy): safe to share read-only between
/// threads.
struct curl_options {
  /// Joined with request targets that are paths; a target that is already an absolute URL (ACME
  /// hands those out, RFC 8555 §7.1.1) is used as is.
  std::string base_url{};
  /// Zero means no limit (libcurl's meaning); keep both set in production.
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{30'000};  ///< the whole exchange, connect included
  /// longer response bodies fail the send (errc::body_too_large)
  std::size_t max_body_bytes = std::size_t{1} << 20;
  std::size_t max_header_bytes = std::size_t{64} << 10;  ///< longer response headers fail the send
  /// TLS: peer and host name verification; turn off only against a test server.
  bool verify_tls = true;
  std::string ca_file{};  ///< PEM bundle the server must chain to; empty: the system's store
  /// nullopt: libcurl's environment variables; "": no proxy; else the proxy URL.
  std::optional<std::string> proxy{};
  /// Empty: "certretry/<version> libcurl/<version>".
  std::string user_agent{};
  /// Sent with a request that has a body and names no Content-Type (instead of libcurl's
  /// application/x-www-form-urlencoded). The machines' bodies are JSON.
  std::string default_content_type = "application/json";
};

/// The errc a libcurl failure stands for (docs/transport.md, "Error mapping"; libcurl:
/// libcurl-errors(3)).
constexpr errc curl_error_kind(CURLcode rc) noexcept {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return errc::transport_timeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return errc::dns_failure;
    case CURLE_COULDNT_CONNECT: return errc::connection_refused;
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
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED: return errc::tls_failure;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return errc::connection_reset;
    case CURLE_FILESIZE_EXCEEDED: return errc::body_too_large;
    default: return errc::transport_failure;
  }
}

/// Joins a request target to a base URL: an absolute target is used as is, a path is appended to
/// the base (without doubling the slash).
inline std::string absolute_url(std::string_view base, std::string_view target) {
  if (target.starts_with("https://") || target.starts_with("http://")) return std::string(target);
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string out(base);
  if (!target.starts_with('/')) out += '/';
  out += target;
  return out;
}

namespace detail {

// curl_global_init once per process; its result is kept for every later caller.
inline CURLcode curl_global_once() noexcept {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return rc;
}

inline long curl_ms(std::chrono::milliseconds d) noexcept {
  if (d.count() <= 0) return 0L;
  return d.count() > LONG_MAX ? LONG_MAX : static_cast<long>(d.count());
}

}  // namespace detail

/// A blocking HTTP transport over libcurl's easy interface: what run() sends a machine's requests
/// with.
///
/// Thread safety: not thread-safe: one per thread (libcurl: an easy handle must not be used from
/// two threads at once); many transports on many threads are fine. curl_global_init runs once per
/// process, the first time a transport is created.
class curl_transport {
 public:
  /// A transport, or errc::transport_failure when libcurl cannot start (last_error_detail() is
  /// not available then; the error's message says what to check).
  static result<curl_transport> create(curl_options options = {}) noexcept {
    if (detail::curl_global_once() != CURLE_OK) return errc::transport_failure;
    CURL* h = curl_easy_init();
    if (!h) return errc::transport_failure;
    return curl_transport(std::move(options), h);
  }

  /// Moves the easy handle (and its connections) over.
  curl_transport(curl_transport&&) noexcept = default;
  /// Moves the easy handle (and its connections) over.
  curl_transport& operator=(curl_transport&&) noexcept = default;
  curl_transport(const curl_transport&) = delete;
  curl_transport& operator=(const curl_transport&) = delete;
  ~curl_transport() = default;

  /// Sends `r` and waits for the response: the response, or why there is none (timeout, refused,
  /// TLS, too large ...).
  result<response> send(const request_view& r) {
    CURL* h = easy_.get();
    curl_easy_reset(h);  // keeps the connection cache
    error_[0] = '\0';
    exchange x{.max_body = options_.max_body_bytes, .max_headers = options_.max_header_bytes};

    const std::string url = absolute_url(options_.base_url, r.target);
    headers_.reset();
    bool has_content_type = false;
    for (const auto& f : r.headers) {
      // A line break would end the field and start another (header injection).
      if (f.name.find_first_of("\r\n:") != std::string::npos ||
          f.value.find_first_of("\r\n") != std::string::npos) {
        remember("a request header name or value holds a line break; nothing was sent");
        return errc::transport_failure;
      }
      if (detail::iequals(f.name, "Content-Type")) has_content_type = true;
      // "Name;" is libcurl's spelling of a header with an empty value (CURLOPT_HTTPHEADER(3)).
      line_.assign(f.name);
      if (f.value.empty()) {
        line_ += ';';
      } else {
        line_ += ": ";
        line_ += f.value;
      }
      if (!append(line_)) return errc::transport_failure;
    }
    if (!r.body.empty() && !has_content_type && !options_.default_content_type.empty()) {
      line_ = "Content-Type: " + options_.default_content_type;
      if (!append(line_)) return errc::transport_failure;
    }
    // No "Expect: 100-continue" round trip before a body.
    if (!append("Expect:")) return errc::transport_failure;

    bool ok = set(CURLOPT_ERRORBUFFER, error_.data()) && set(CURLOPT_URL, url.c_str()) &&
              set_protocols() && set(CURLOPT_NOSIGNAL, 1L) && set(CURLOPT_FOLLOWLOCATION, 0L) &&
              set(CURLOPT_USERAGENT, user_agent_.c_str()) &&
              set(CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L) &&
              set(CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L) &&
              set(CURLOPT_CONNECTTIMEOUT_MS, detail::curl_ms(options_.connect_timeout)) &&
              set(CURLOPT_TIMEOUT_MS, detail::curl_ms(options_.timeout)) &&
              set(CURLOPT_MAXFILESIZE_LARGE, max_file_size()) &&
              set(CURLOPT_HTTPHEADER, headers_.get()) && set(CURLOPT_WRITEFUNCTION, &on_body) &&
              set(CURLOPT_WRITEDATA, &x) && set(CURLOPT_HEADERFUNCTION, &on_header) &&
              set(CURLOPT_HEADERDATA, &x);
    if (ok && !options_.ca_file.empty()) ok = set(CURLOPT_CAINFO, options_.ca_file.c_str());
    if (ok && options_.proxy) ok = set(CURLOPT_PROXY, options_.proxy->c_str());
    if (ok) ok = set_method(r);
    if (!ok) {
      remember("libcurl refused an option (is it built with HTTP and TLS support?)");
      return errc::transport_failure;
    }

    const CURLcode rc = curl_easy_perform(h);
    long connects = 0;
    if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
      connections_ += static_cast<std::uint64_t>(connects);
    if (rc != CURLE_OK) {
      if (x.body_over) {
        remember("the body passed max_body_bytes; the transfer was aborted");
        return errc::body_too_large;
      }
      if (x.headers_over) {
        remember("the headers passed max_header_bytes; the transfer was aborted");
        return errc::header_too_large;
      }
      if (error_[0] == '\0') remember(curl_easy_strerror(rc));
      return curl_error_kind(rc);
    }
    long status = 0;
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status <= 0) {
      remember("no HTTP status in the reply");
      return errc::transport_failure;
    }
    x.out.status = static_cast<int>(status);
    return std::move(x.out);
  }

  /// libcurl's words for the last failed send (empty after a success), for logs.
  std::string_view last_error_detail() const noexcept { return error_.data(); }
  /// Connections opened so far: one per host while the server keeps them alive.
  std::uint64_t connections_opened() const noexcept { return connections_; }
  /// The options.
  const curl_options& options() const noexcept { return options_; }
  /// The User-Agent sent.
  const std::string& user_agent() const noexcept { return user_agent_; }

 private:
  struct easy_free {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
  };
  struct slist_free {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
  };

  // What one transfer collects, and which of its limits stopped it.
  struct exchange {
    std::size_t max_body;
    std::size_t max_headers;
    response out{};
    std::size_t header_bytes = 0;
    bool body_over = false;
    bool headers_over = false;
  };

  curl_transport(curl_options options, CURL* h) noexcept : options_(std::move(options)), easy_(h) {
    user_agent_ = options_.user_agent;
    if (user_agent_.empty()) {
      user_agent_ = "certretry/";
      user_agent_ += version;
      if (const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW); v && v->version) {
        user_agent_ += " libcurl/";
        user_agent_ += v->version;
      }
    }
    error_[0] = '\0';
  }

  template <class V>
  bool set(CURLoption o, V v) noexcept {
    return curl_easy_setopt(easy_.get(), o, v) == CURLE_OK;
  }

  bool set_protocols() noexcept {
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0: CURLOPT_PROTOCOLS_STR
    return set(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    return set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  }

  bool set_method(const request_view& r) {
    if (r.method == "GET") return set(CURLOPT_HTTPGET, 1L);
    if (r.method == "HEAD") return set(CURLOPT_NOBODY, 1L);
    method_.assign(r.method);
    if (r.body.empty() && r.method != "POST") return set(CURLOPT_CUSTOMREQUEST, method_.c_str());
    // A body: POSTFIELDS sends it (libcurl does not copy it; it outlives the perform call).
    // Never NULL: libcurl would then read the body from its read callback, stdin by default.
    const char* data = r.body.empty() ? "" : r.body.data();
    bool ok = set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size())) &&
              set(CURLOPT_POSTFIELDS, data);
    if (ok && r.method != "POST") ok = set(CURLOPT_CUSTOMREQUEST, method_.c_str());
    return ok;
  }

  curl_off_t max_file_size() const noexcept {
    constexpr auto max = static_cast<std::size_t>(INT64_MAX);
    return static_cast<curl_off_t>(options_.max_body_bytes > max ? max : options_.max_body_bytes);
  }

  bool append(const std::string& line) {
    curl_slist* grown = curl_slist_append(headers_.get(), line.c_str());
    if (!grown) {
      remember("out of memory building the request headers");
      return false;
    }
    (void)headers_.release();
    headers_.reset(grown);
    return true;
  }
  bool append(const char* line) { return append(std::string(line)); }

  void remember(std::string_view what) noexcept {
    const std::size_t n = what.size() < error_.size() - 1 ? what.size() : error_.size() - 1;
    what.copy(error_.data(), n);
    error_[n] = '\0';
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) noexcept {
    auto& x = *static_cast<exchange*>(user);
    const std::size_t bytes = size * n;
    if (bytes > x.max_body - x.out.body.size()) {
      x.body_over = true;
      return 0;  // libcurl aborts the transfer (CURLE_WRITE_ERROR)
    }
    x.out.body.append(data, bytes);
    return bytes;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) noexcept {
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
      // A new status line (after a 1xx, or a proxy's CONNECT reply): only the final
      // response's fields count.
      x.out.headers.clear();
      x.header_bytes = bytes;
      return bytes;
    }
    if (!line.empty() && detail::is_http_space(line.front()) && !x.out.headers.empty()) {
      // obs-fold (RFC 9112 §5.2): a continuation of the previous field's value.
      x.out.headers.back().value += ' ';
      x.out.headers.back().value += detail::trim_http_space(line);
      return bytes;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return bytes;  // the blank line
    // Repeated fields (Link) stay separate, in the order received.
    x.out.headers.push_back({std::string(line.substr(0, colon)),
                             std::string(detail::trim_http_space(line.substr(colon + 1)))});
    return bytes;
  }

  curl_options options_;
  std::unique_ptr<CURL, easy_free> easy_;
  std::unique_ptr<curl_slist, slist_free> headers_;
  std::string user_agent_;
  std::string line_;
  std::string method_;
  std::uint64_t connections_ = 0;
  std::array<char, CURL_ERROR_SIZE> error_{};
};

}  // namespace certretry
