// certretry/testing/tpp_server.hpp — a model of a Venafi TPP server's certificate endpoints
// (request, retrieve, reset, renew), for tests and benchmarks of TPP clients.
//
// tpp_server is a certretry transport (send(request_view) -> result<response>) that runs on a
// virtual_clock: it answers at once, advances the clock by a fixed latency per call, and by the
// time a WorkToDoTimeout makes TPP hold a call. It is deterministic from its seed: each
// certificate object draws from its own SplitMix64 streams, seeded from the server's seed and
// the object's DN, so an object's draws do not depend on what other objects did or in which
// order the calls came.
//
// What it models (the retrieve/reset state table of docs/sources.md#tpp-writeup; the replies of
// docs/sources.md#tpp-retrieve and docs/sources.md#tpp-reset):
//
//   object state                     retrieve                                  reset(Restart=false)
//   no certificate, no enrollment    202 {"Stage":0,"Status":"Not yet available"}  400 (1)
//   certificate, no enrollment       200 {"CertificateData":...}               400 (1)
//   enrollment pending               202 {"Stage":500,"Status":"Post CSR"}     200 (2)
//   enrollment failed                500 {"Stage":500,"Status":"Post CSR failed with error:
//                                        Cannot connect to the certificate authority (CA)."}
//                                                                              200 (2)
//   failed, then requested again     500 click-Retry / WebSDK (cases 1-3)      200 (2)
//   unknown DN                       400 (3)                                   400 (3)
//   (1) {"Error":"Reset is not completed. No reset is required for the certificate."}
//   (2) {"ProcessingResetCompleted":true}; the running or failed enrollment is dropped, the
//       certificate kept
//   (3) {"Error":"Certificate <DN> does not exist or you do not have sufficient rights to the
//       object."}
//
// A failed ("stuck") enrollment blocks every later request: the request itself answers 200
// (Solution 4 of docs/sources.md#vcert-269: it always does), and the retrieves after it answer
// 500 with one of the three message sequences of docs/sources.md#tpp-writeup, drawn per request:
// case 1 (60 %) "click Retry" throughout, case 2 (30 %) "WebSDK CertRequest Module Requested
// Certificate" once then "click Retry", case 3 (10 %) "WebSDK ..." throughout. Time never clears
// it: only a reset does, after which a new request enrolls normally.
//
// WorkToDoTimeout ("N", a string of whole seconds as VCert sends it, or a number): a retrieve or
// request carrying it is held until the enrollment's certificate is issued or N seconds have
// passed, whichever comes first, then answered with the state at that time. A request so held
// answers as Venafi documents (docs/sources.md#tpp-request-worktodo): 200 with CertificateDN and
// CertificateData when the certificate was issued within the hold, 202 with CertificateDN and
// Error "Certificate processing took longer than WorkToDoTimeout..." when it was not (a request
// without WorkToDoTimeout, or one on a blocked object, answers 200 with the DN only). Without it, and
// whenever there is no running enrollment to wait for (a stuck one included), it is answered at
// once. A watch that times out answers 202 "Post CSR": the enrollment keeps running (the state
// table's "timed out due to WorkToDoTimeout" row is unconfirmed; no timeout failure is
// modelled).
//
// Issuance time: every enrollment (a request, a renew, a reset with Restart=true) draws its
// time to issuance from  min_issuance + Exp(mean_issuance - min_issuance), or, with
// issuance = log_normal, from  median_issuance x exp(sigma x N(0, 1))  (a slow CA: a median
// of 60 s puts most issuances past a 30 s watch and a tail past any one run's deadline);  (a shifted
// exponential; by default min_issuance = 0, a plain exponential of mean 7 s, TPP's reported
// mean: docs/sources.md#tpp-writeup). The only number known about TPP's issuance time is that
// mean; among distributions on [0, inf) with a given mean the exponential assumes the least
// (maximum entropy), and its tail is the heavier one for what a watch cares about:
// P(T > 30 s) = e^(-30/7) = 1.4 %, against 0.8 % for a 1 s floor plus Exp(6 s). Set
// min_issuance for a pipeline with a known minimum; the mean stays mean_issuance.
//
// Injectable faults (all off by default):
//   restart_race        reset with "Restart":true after a request restarts the *earlier*
//                       enrollment inside TPP (VCert 4.23, reverted in 4.24: "unmatched key
//                       modulus"): the next certificate issued is the old one, CertificateData
//                       "OLD-<serial>", counted in counters().wrong_certificates. Without the
//                       fault, Restart=true restarts the latest request's enrollment correctly.
//   misbehaving_websdk  the first retrieve after a request on a healthy object answers
//                       500 {"Stage":500,"Status":"WebSDK CertRequest Module Requested
//                       Certificate"} although nothing failed (the "misbehaving TPP" of
//                       1 Dec 2022, docs/sources.md#tpp-writeup); the enrollment runs on.
//   unknown_rows        a retrieve that would answer 202 "Post CSR" answers instead one of the
//                       state table's two "??" rows: 500 {"Stage":-1,"Status":"Not yet
//                       available"} or 202 {"Stage":-1,"Status":"WebSDK CertRequest Module
//                       Requested Certificate"} (half each); the enrollment runs on.
//
// Outages and refusals (off by default; for tests of the client's error paths):
//   outages             windows [from, until) of the server's clock in which every call answers
//                       503 with an HTML body (a load balancer in front of a TPP down), after the
//                       latency; nothing else happens to the objects meanwhile.
//   token_refusal       every call answers 401 {"error":"invalid_token","error_description":...}
//                       or 403 {"error":"insufficient_scope",...} (a bearer token expired, or a
//                       grant without the scope: docs/sources.md#tpp-token-errors).
//   deny_reset(dn)      a reset of that object answers 400 "Certificate <DN> does not exist or
//                       you do not have sufficient rights to the object." although it exists:
//                       the caller lacks the rights to reset it.
//
// Issued certificates are "CERT-<serial>" (serials count up from 1 per server), or
// "OLD-<serial>" when the restart race produced them; is_old_certificate() tells them apart.
// Request bodies are read with the library's bounded simdjson reader.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"
#include "certretry/json/reader.hpp"
#include "certretry/testing/scripted.hpp"

#include <algorithm>
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

namespace certretry::model {

/// @{
/// TPP's endpoints (WebSDK).
inline constexpr std::string_view tpp_request_path = "/vedsdk/certificates/request";
inline constexpr std::string_view tpp_retrieve_path = "/vedsdk/certificates/retrieve";
inline constexpr std::string_view tpp_reset_path = "/vedsdk/certificates/reset";
inline constexpr std::string_view tpp_renew_path = "/vedsdk/certificates/renew";
/// @}

/// TPP's words, spelled here independently of the client's constants (tpp/reply.hpp), so that
/// a typo on either side shows up as a failing test rather than agreeing with itself.
namespace tpp_text {
/// The Status of a retrieve on a stuck object (case 1).
inline constexpr std::string_view click_retry =
    "This certificate cannot be processed while it is in an error state. Fix any errors, and "
    "then click Retry.";
/// The Status the WebSDK module answers with (cases 2 and 3).
inline constexpr std::string_view websdk_requested =
    "WebSDK CertRequest Module Requested Certificate";
/// The Status of a retrieve while the CA works (Stage 500).
inline constexpr std::string_view post_csr = "Post CSR";
/// The Status of a failed enrollment.
inline constexpr std::string_view post_csr_failed =
    "Post CSR failed with error: Cannot connect to the certificate authority (CA).";
/// The Status of the state table's "??" row.
inline constexpr std::string_view not_yet_available = "Not yet available";
/// Reset's benign 400 on an object with nothing to reset.
inline constexpr std::string_view no_reset_required =
    "Reset is not completed. No reset is required for the certificate.";
/// The end of the 400 for an object that does not exist (or that the caller may not see).
inline constexpr std::string_view not_found_suffix =
    "does not exist or you do not have sufficient rights to the object.";
}  // namespace tpp_text

/// The state a certificate object starts in (add_certificate).
enum class tpp_prior : std::uint8_t {
  empty,    ///< object exists, no certificate, no enrollment (or its enrollment was reset)
  issued,   ///< a certificate exists, no enrollment: a renewal
  pending,  ///< a certificate exists and an enrollment is running (issuance drawn now)
  failed,   ///< a certificate exists and its last enrollment failed: the "stuck" renewal
};

/// How issuance times are drawn (see the header comment).
enum class tpp_issuance : std::uint8_t { exponential, log_normal };

/// A refused bearer token (docs/sources.md#tpp-token-errors).
enum class tpp_token_refusal : std::uint8_t { none, expired_401, scope_403 };

/// Which of the three message sequences (docs/sources.md#tpp-writeup) a request on a stuck
/// object produced.
enum class stuck_case : std::uint8_t {
  click_retry = 1,              ///< case 1, 60 %: "click Retry" on every retrieve
  websdk_then_click_retry = 2,  ///< case 2, 30 %: "WebSDK ..." once, then "click Retry"
  websdk = 3,                   ///< case 3, 10 %: "WebSDK ..." on every retrieve
};

/// How the TPP model behaves: timing, outages, token refusals and faults (see the file's comment).
///
/// Thread safety: a plain value (the server keeps its own copy): safe to share read-only between
/// threads.
struct tpp_server_options {
  std::uint64_t seed = 1;  ///< the model's random seed
  /// Added to every call's round trip (on top of any WorkToDoTimeout hold).
  duration latency = 50ms;
  /// Issuance time = min_issuance + Exp(mean_issuance - min_issuance); mean = mean_issuance.
  duration mean_issuance = 7s;
  duration min_issuance = 0ms;  ///< the least issuance time
  /// issuance = log_normal: median_issuance x exp(issuance_sigma x N(0, 1)).
  tpp_issuance issuance = tpp_issuance::exponential;
  duration median_issuance = 60s;  ///< log_normal: the median issuance time
  double issuance_sigma = 1.0;     ///< log_normal: sigma of ln(issuance time)
  /// Windows [from, until) of the server's clock (virtual time) answering every call 503.
  std::vector<std::pair<time_point, time_point>> outages{};
  /// refuse every call's bearer token (401 or 403), or not
  tpp_token_refusal token_refusal = tpp_token_refusal::none;
  /// Probabilities of cases 1 and 2 for a request on a stuck object; case 3 takes the rest.
  double case1 = 0.6;
  double case2 = 0.3;  ///< see case1
  /// Faults (see the header comment).
  bool restart_race = false;
  double misbehaving_websdk = 0.0;  ///< probability of the misbehaving_websdk fault
  double unknown_rows = 0.0;        ///< probability of the unknown_rows fault
};

/// Calls received, per endpoint, and what the server did that tests assert on.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct tpp_counters {
  std::uint64_t request = 0;                 ///< request calls
  std::uint64_t retrieve = 0;                ///< retrieve calls
  std::uint64_t reset = 0;                   ///< reset calls
  std::uint64_t renew = 0;                   ///< renew calls
  std::uint64_t other = 0;                   ///< unknown path or method
  std::uint64_t outage_503 = 0;              ///< calls answered 503 by an outage window
  std::uint64_t refused_token = 0;           ///< calls answered 401/403 by token_refusal
  std::uint64_t certificate_on_request = 0;  ///< requests answered 200 with CertificateData
  std::uint64_t busy_request = 0;            ///< requests answered 202 (WorkToDoTimeout passed)
  std::uint64_t restart_true = 0;            ///< resets carrying "Restart": true
  std::uint64_t issued = 0;                  ///< certificates issued
  std::uint64_t wrong_certificates = 0;      ///< issued from the earlier enrollment (restart race)
  duration held{};                           ///< total time calls were held by WorkToDoTimeout

  /// Every call received.
  constexpr std::uint64_t calls() const noexcept {
    return request + retrieve + reset + renew + other;
  }
};

/// One object, as a test may inspect it.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct tpp_certificate_info {
  bool exists = false;         ///< false: no such object
  bool stuck = false;          ///< a failed enrollment blocks it until a reset
  bool pending = false;        ///< an enrollment is running
  std::uint64_t serial = 0;    ///< the current certificate's serial; 0: none
  bool wrong = false;          ///< the current certificate came from the restart race
  std::uint32_t requests = 0;  ///< requests and renews received for it
  std::uint32_t enrollments =
      0;  ///< enrollments started (requests that were not blocked, restarts)
  std::optional<stuck_case> last_case;  ///< the case drawn by the last blocked request
};

/// A Venafi TPP model (see the file's comment) on a virtual clock: a transport for tests and
/// benchmarks.
///
/// Thread safety: one test's: not to be shared between threads without a lock.
class tpp_server {
 public:
  /// A server on `clock` (which it advances), as `options` say.
  explicit tpp_server(virtual_clock& clock, tpp_server_options options = {})
      : clock_(&clock), options_(options) {}

  /// Creates (or replaces) the object `dn` in the given state. Objects not added are created by
  /// their first request (a first enrollment); retrieve, reset and renew on them answer 400.
  void add_certificate(const std::string& dn, tpp_prior prior) {
    object& o = objects_[dn];
    const std::uint64_t salt = fnv1a(dn) ^ options_.seed;
    o = object{};
    o.issuance_rng = splitmix64{salt ^ 0x69737375616e6365ULL};
    o.case_rng = splitmix64{salt ^ 0x7374756b63617365ULL};
    o.fault_rng = splitmix64{salt ^ 0x6661756c74727567ULL};
    if (prior != tpp_prior::empty) o.serial = ++serials_;
    if (prior == tpp_prior::pending) start_enrollment(o, false);
    if (prior == tpp_prior::failed) o.state = enrollment::failed;
  }

  /// The caller lacks the rights to reset `dn`: its resets answer the "does not exist or you do
  /// not have sufficient rights" 400.
  void deny_reset(const std::string& dn) { reset_denied_[dn] = true; }

  /// One more outage window [from, until): every call in it answers 503.
  void add_outage(time_point from, time_point until) { options_.outages.emplace_back(from, until); }

  /// The transport: one call, answered after the latency (and any WorkToDoTimeout hold).
  result<response> send(const request_view& req) {
    response r = refused_now();
    if (r.status == 0) r = dispatch(req);
    clock_->advance(options_.latency);
    return r;
  }

  /// Calls received and what the server did.
  const tpp_counters& counters() const noexcept { return counters_; }
  /// The options.
  const tpp_server_options& options() const noexcept { return options_; }

  /// One object, as it is now.
  tpp_certificate_info inspect(std::string_view dn) {
    tpp_certificate_info info;
    const auto it = objects_.find(dn);
    if (it == objects_.end()) return info;
    object& o = it->second;
    settle(o);
    info.exists = true;
    info.stuck = o.state == enrollment::failed;
    info.pending = o.state == enrollment::pending;
    info.serial = o.serial;
    info.wrong = o.serial_wrong;
    info.requests = o.requests;
    info.enrollments = o.enrollments;
    info.last_case = o.last_case;
    return info;
  }

  /// Whether CertificateData came from the restart race (the old enrollment's certificate).
  static constexpr bool is_old_certificate(std::string_view data) noexcept {
    return data.starts_with("OLD-");
  }

 private:
  enum class enrollment : std::uint8_t { none, pending, failed };

  struct object {
    enrollment state = enrollment::none;
    std::uint64_t serial = 0;  // current certificate; 0: none
    bool serial_wrong = false;
    // pending
    time_point issue_at{};
    bool issue_wrong = false;
    bool misbehave_next = false;
    // failed: a request came after the failure, so retrieves walk `blocked_case`'s sequence
    bool requested_since_failure = false;
    stuck_case blocked_case = stuck_case::click_retry;
    std::uint32_t retrieves_since_request = 0;
    std::optional<stuck_case> last_case;
    std::uint32_t requests = 0;
    std::uint32_t enrollments = 0;
    splitmix64 issuance_rng{};
    splitmix64 case_rng{};
    splitmix64 fault_rng{};
  };

  // The fields of a request body the model reads; owned (the reader's views do not outlive it).
  struct body_fields {
    std::string certificate_dn;
    std::string policy_dn;
    std::string object_name;
    std::string subject;
    std::optional<duration> work_to_do;
    bool restart = false;
  };

  // A stable, GUID-shaped identifier for the object.
  static std::string guid(std::string_view dn) {
    const std::uint64_t a = fnv1a(dn), b = fnv1a(std::string(dn) + "#");
    char buf[40];
    std::snprintf(buf, sizeof buf, "{%08llx-%04llx-%04llx-%04llx-%012llx}",
                  static_cast<unsigned long long>(a >> 32),
                  static_cast<unsigned long long>((a >> 16) & 0xffff),
                  static_cast<unsigned long long>(a & 0xffff),
                  static_cast<unsigned long long>(b >> 48),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
  }

  static response json_reply(int status, std::string body) {
    return response{status, {{"Content-Type", "application/json"}}, std::move(body)};
  }

  static response error_reply(int status, std::string_view message) {
    std::string body = "{\"Error\":";
    certretry::detail::append_json_string(body, message);
    body += '}';
    return json_reply(status, std::move(body));
  }

  static response status_reply(int status, int stage, std::string_view message) {
    std::string body = "{\"Stage\":" + std::to_string(stage) + ",\"Status\":";
    certretry::detail::append_json_string(body, message);
    body += '}';
    return json_reply(status, std::move(body));
  }

  // An outage or a refused token, if one applies now; status 0 otherwise.
  response refused_now() {
    const time_point now = clock_->now();
    for (const auto& [from, until] : options_.outages)
      if (now >= from && now < until) {
        ++counters_.outage_503;
        return response{503,
                        {{"Content-Type", "text/html"}},
                        "<html><body><h1>503 Service Unavailable</h1></body></html>"};
      }
    switch (options_.token_refusal) {
      case tpp_token_refusal::none: break;
      case tpp_token_refusal::expired_401:
        ++counters_.refused_token;
        return json_reply(401, R"({"error":"invalid_token","error_description":")"
                               R"(The access token has expired or was revoked"})");
      case tpp_token_refusal::scope_403:
        ++counters_.refused_token;
        return json_reply(403, R"({"error":"insufficient_scope","error_description":")"
                               R"(The grant does not include the certificate:manage scope"})");
    }
    return response{0, {}, {}};
  }

  static response not_found(std::string_view dn) {
    std::string message = "Certificate ";
    message += dn;
    message += ' ';
    message += tpp_text::not_found_suffix;
    return error_reply(400, message);
  }

  response dispatch(const request_view& req) {
    const std::string_view path = req.target.substr(0, req.target.find('?'));
    const bool post = req.method == "POST";
    if (post && path == tpp_request_path) {
      ++counters_.request;
      return on_request(req.body, false);
    }
    if (post && path == tpp_renew_path) {
      ++counters_.renew;
      return on_request(req.body, true);
    }
    if (post && path == tpp_retrieve_path) {
      ++counters_.retrieve;
      return on_retrieve(req.body);
    }
    if (post && path == tpp_reset_path) {
      ++counters_.reset;
      return on_reset(req.body);
    }
    ++counters_.other;
    if (path == tpp_request_path || path == tpp_renew_path || path == tpp_retrieve_path ||
        path == tpp_reset_path)
      return error_reply(405, "The requested resource does not support this HTTP method.");
    return error_reply(404, "No resource was found that matches the request URI.");
  }

  // --- endpoints ------------------------------------------------------------------------

  // request (and renew, on an existing object): starts an enrollment, or is blocked by a
  // failed one. Either way the reply is 200.
  response on_request(std::string_view text, bool renew) {
    const auto fields = parse(text);
    if (!fields) return error_reply(400, "The request body is not a JSON object.");
    std::string dn = fields->certificate_dn;
    if (dn.empty() && !fields->policy_dn.empty()) {
      const std::string& name =
          !fields->object_name.empty() ? fields->object_name : fields->subject;
      if (!name.empty()) dn = fields->policy_dn + "\\" + name;
    }
    if (dn.empty())
      return error_reply(400, renew ? "CertificateDN is required."
                                    : "PolicyDN and ObjectName (or Subject) are required.");
    auto it = objects_.find(dn);
    if (it == objects_.end()) {
      if (renew) return not_found(dn);
      add_certificate(dn, tpp_prior::empty);
      it = objects_.find(dn);
    }
    object& o = it->second;
    settle(o);
    ++o.requests;
    if (o.state == enrollment::failed) {
      o.requested_since_failure = true;
      o.retrieves_since_request = 0;
      o.blocked_case = draw_case(o);
      o.last_case = o.blocked_case;
    } else {
      start_enrollment(o, false);
      o.misbehave_next = options_.misbehaving_websdk > 0.0 &&
                         uniform_unit(o.fault_rng) < options_.misbehaving_websdk;
      hold(o, fields->work_to_do);
    }
    if (renew) return json_reply(200, "{\"Success\":true}");
    std::string body = "{\"CertificateDN\":";
    certretry::detail::append_json_string(body, dn);
    body += ",\"Guid\":\"" + guid(dn) + "\"";
    // Held by WorkToDoTimeout (and not blocked): the certificate, or "took longer".
    if (fields->work_to_do && o.state != enrollment::failed) {
      if (o.state == enrollment::pending) {
        ++counters_.busy_request;
        body += ",\"Error\":\"Certificate processing took longer than WorkToDoTimeout...\"}";
        return json_reply(202, std::move(body));
      }
      ++counters_.certificate_on_request;
      o.misbehave_next = false;  // the enrollment is over: nothing left to misreport
      body += ",\"CertificateData\":";
      certretry::detail::append_json_string(body, certificate_data(o));
      body += ",\"Filename\":\"" + std::to_string(o.serial) + ".cer\",\"Format\":\"Base64\"}";
      return json_reply(200, std::move(body));
    }
    body += '}';
    return json_reply(200, std::move(body));
  }

  // The object a retrieve or reset names (brought up to date), or the 400 TPP answers instead.
  struct addressed {
    object* obj = nullptr;
    body_fields fields;
    response refusal;
  };
  addressed address(std::string_view text) {
    addressed a;
    auto fields = parse(text);
    if (!fields) {
      a.refusal = error_reply(400, "The request body is not a JSON object.");
    } else if (fields->certificate_dn.empty()) {
      a.refusal = error_reply(400, "CertificateDN is required.");
    } else if (const auto it = objects_.find(fields->certificate_dn); it == objects_.end()) {
      a.refusal = not_found(fields->certificate_dn);
    } else {
      a.obj = &it->second;
      settle(*a.obj);
    }
    if (fields) a.fields = std::move(*fields);
    return a;
  }

  response on_retrieve(std::string_view text) {
    addressed a = address(text);
    if (!a.obj) return a.refusal;
    object& o = *a.obj;
    const body_fields* fields = &a.fields;
    const std::uint32_t index = o.retrieves_since_request++;
    if (o.state == enrollment::failed) {
      if (!o.requested_since_failure) return status_reply(500, 500, tpp_text::post_csr_failed);
      const bool websdk = o.blocked_case == stuck_case::websdk ||
                          (o.blocked_case == stuck_case::websdk_then_click_retry && index == 0);
      return status_reply(500, 500, websdk ? tpp_text::websdk_requested : tpp_text::click_retry);
    }
    if (o.state == enrollment::pending) {
      if (std::exchange(o.misbehave_next, false))
        return status_reply(500, 500, tpp_text::websdk_requested);
      hold(o, fields->work_to_do);
    }
    if (o.state == enrollment::pending) {
      if (options_.unknown_rows > 0.0 && uniform_unit(o.fault_rng) < options_.unknown_rows)
        return uniform_unit(o.fault_rng) < 0.5 ? status_reply(500, -1, tpp_text::not_yet_available)
                                               : status_reply(202, -1, tpp_text::websdk_requested);
      return status_reply(202, 500, tpp_text::post_csr);
    }
    if (o.serial == 0) return status_reply(202, 0, tpp_text::not_yet_available);
    std::string body = "{\"CertificateData\":";
    certretry::detail::append_json_string(body, certificate_data(o));
    body += ",\"Filename\":\"" + std::to_string(o.serial) + ".cer\",\"Format\":\"base64\"}";
    return json_reply(200, std::move(body));
  }

  response on_reset(std::string_view text) {
    addressed a = address(text);
    if (!a.obj) return a.refusal;
    object& o = *a.obj;
    const body_fields* fields = &a.fields;
    if (fields->restart) ++counters_.restart_true;
    if (reset_denied_.count(fields->certificate_dn)) return not_found(fields->certificate_dn);
    if (o.state == enrollment::none) return error_reply(400, tpp_text::no_reset_required);
    if (!fields->restart) {
      o.state = enrollment::none;
      o.requested_since_failure = false;
      o.misbehave_next = false;
      return json_reply(200, "{\"ProcessingResetCompleted\":true}");
    }
    // Restart=true right after a request: inside TPP the restart can pick up the earlier
    // enrollment (the old CSR) instead of the one just requested.
    const bool after_request = o.state == enrollment::pending || o.requested_since_failure;
    start_enrollment(o, options_.restart_race && after_request);
    return json_reply(200, "{\"ProcessingResetCompleted\":true,\"RestartCompleted\":true}");
  }

  // --- enrollments ----------------------------------------------------------------------

  void start_enrollment(object& o, bool wrong) {
    o.state = enrollment::pending;
    o.issue_at = clock_->now() + draw_issuance(o);
    o.issue_wrong = wrong;
    o.misbehave_next = false;
    o.requested_since_failure = false;
    o.retrieves_since_request = 0;
    ++o.enrollments;
  }

  // Issues the certificate of a pending enrollment whose time has come.
  void settle(object& o) {
    if (o.state != enrollment::pending || clock_->now() < o.issue_at) return;
    o.state = enrollment::none;
    o.serial = ++serials_;
    o.serial_wrong = o.issue_wrong;
    ++counters_.issued;
    if (o.issue_wrong) ++counters_.wrong_certificates;
  }

  // WorkToDoTimeout: hold the call until issuance or the timeout, whichever comes first.
  void hold(object& o, std::optional<duration> work_to_do) {
    if (!work_to_do || o.state != enrollment::pending) return;
    const duration wait = std::min(*work_to_do, o.issue_at - clock_->now());
    clock_->advance(wait);
    if (wait > duration::zero()) counters_.held += wait;
    settle(o);
  }

  duration draw_issuance(object& o) const {
    if (options_.issuance == tpp_issuance::log_normal) {
      // Box-Muller: two uniforms, one standard normal. 1 - u is in (0, 1]: the log is finite.
      const double u1 = uniform_unit(o.issuance_rng), u2 = uniform_unit(o.issuance_rng);
      const double z = std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
      const double median =
          static_cast<double>(std::max(options_.median_issuance, duration::zero()).count());
      return certretry::detail::saturate_ms(median * std::exp(options_.issuance_sigma * z));
    }
    const duration floor = std::clamp(options_.min_issuance, duration::zero(),
                                      std::max(options_.mean_issuance, duration::zero()));
    const double tail_mean = static_cast<double>((options_.mean_issuance - floor).count());
    // 1 - u is in (0, 1]: the logarithm is finite.
    const double u = uniform_unit(o.issuance_rng);
    return floor + certretry::detail::saturate_ms(-tail_mean * std::log(1.0 - u));
  }

  stuck_case draw_case(object& o) const {
    const double u = uniform_unit(o.case_rng);
    if (u < options_.case1) return stuck_case::click_retry;
    if (u < options_.case1 + options_.case2) return stuck_case::websdk_then_click_retry;
    return stuck_case::websdk;
  }

  static std::string certificate_data(const object& o) {
    return (o.serial_wrong ? "OLD-" : "CERT-") + std::to_string(o.serial);
  }

  // --- request bodies -------------------------------------------------------------------

  std::optional<body_fields> parse(std::string_view text) {
    body_fields out;
    auto doc = reader_.open(text);
    if (!doc) return std::nullopt;
    simdjson::ondemand::object obj;
    if ((*doc.assume_value()).get_object().get(obj)) return std::nullopt;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return std::nullopt;
      auto value = field.value();
      simdjson::ondemand::json_type type{};
      if (value.type().get(type)) return std::nullopt;
      std::string_view s;
      if (type == simdjson::ondemand::json_type::string) {
        if (value.get_string().get(s)) return std::nullopt;
        if (key == "CertificateDN")
          out.certificate_dn.assign(s);
        else if (key == "PolicyDN")
          out.policy_dn.assign(s);
        else if (key == "ObjectName")
          out.object_name.assign(s);
        else if (key == "Subject")
          out.subject.assign(s);
        else if (key == "WorkToDoTimeout")
          out.work_to_do = seconds_from_text(s);
      } else if (type == simdjson::ondemand::json_type::number && key == "WorkToDoTimeout") {
        std::uint64_t n = 0;
        if (!value.get_uint64().get(n) && n <= max_work_to_do_seconds)
          out.work_to_do = std::chrono::seconds{static_cast<std::int64_t>(n)};
      } else if (type == simdjson::ondemand::json_type::boolean && key == "Restart") {
        bool b = false;
        if (!value.get_bool().get(b)) out.restart = b;
      }
    }
    if (doc.assume_value()->current_location().error() != simdjson::OUT_OF_BOUNDS)
      return std::nullopt;
    return out;
  }

  // A WorkToDoTimeout that is not whole seconds (or absurdly long) is ignored: answered at once.
  static constexpr std::uint64_t max_work_to_do_seconds = std::uint64_t{24} * 3600;
  static std::optional<duration> seconds_from_text(std::string_view s) {
    if (s.empty() || s.size() > 6) return std::nullopt;
    std::uint64_t n = 0;
    for (const char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > max_work_to_do_seconds) return std::nullopt;
    return std::chrono::seconds{static_cast<std::int64_t>(n)};
  }

  virtual_clock* clock_;
  tpp_server_options options_;
  tpp_counters counters_{};
  std::map<std::string, object, std::less<>> objects_;
  std::map<std::string, bool, std::less<>> reset_denied_;
  std::uint64_t serials_ = 0;
  certretry::detail::json_reader reader_{};
};

}  // namespace certretry::model
