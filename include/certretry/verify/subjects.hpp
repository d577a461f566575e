// certretry/verify/subjects.hpp — the library's machines as verification subjects: each with
// the finite alphabet of replies its server may send and the facts of its policy.
//
//   async-poll      issued, pending, rejected, 429, 429 + Retry-After, 5xx, 404, garbage,
//                   timeout (and the certificate download where the profile has one)
//   tpp-enroll      200 with certificate, 202 pending, 500 click-Retry, 500 WebSDK, other 500,
//                   reset 200, reset 400 "no reset required", reset 400 not found, 503, timeout
//                   (and the request's 200 with the DN)
//   acme-new-order  201, badNonce, alreadyReplaced, conflict, malformed, rateLimited +
//                   Retry-After, 5xx (and the new-nonce reply)
//   acme-poll       valid, processing, processing + Retry-After, invalid, badNonce, rateLimited
//                   + Retry-After, 5xx, timeout (and the new-nonce reply)
//   acme-post       a finalize's replies: 200 processing, 200 processing + Retry-After, 200
//                   valid, 200 ready, 202 accepted, orderNotReady, badNonce, rateLimited +
//                   Retry-After, 5xx, 404, timeout (and the new-nonce reply); after a lost reply,
//                   the order read back answers with the same order letters
//   ari-renewal     window, past window, invalid window, 404, 5xx + Retry-After, refused,
//                   timeout
// Each reply is a real server's words (docs/sources.md: TPP's messages, RFC 8555's problem
// types, RFC 9773's renewalInfo). Every subject is named as the harness names the machine, so
// a counterexample is a scenario `certretry-harness replay` runs.
#pragma once

#include "certretry/acme/ari.hpp"
#include "certretry/acme/exchange.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/tpp/enroll.hpp"
#include "certretry/tpp/reply.hpp"
#include "certretry/verify/subject.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace certretry::verify {

namespace detail {

inline letter reply_letter(std::string name, int status, std::string body,
                           std::vector<header_field> headers = {}) {
  letter l;
  l.name = std::move(name);
  l.reply = response{status, std::move(headers), std::move(body)};
  return l;
}

inline letter error_letter(std::string name, errc e) {
  letter l;
  l.name = std::move(name);
  l.error = e;
  return l;
}

inline letter answers(letter l, std::vector<std::string> keys) {
  l.answers = std::move(keys);
  return l;
}

inline const char* pem() {
  return "-----BEGIN CERTIFICATE-----\nMIIBverify\n-----END CERTIFICATE-----\n";
}

// The nonce every ACME reply carries: one value, so that which reply gave it makes no
// difference to the machine.
inline header_field nonce_header() { return {"Replay-Nonce", "verifyNonce0123"}; }

inline std::string problem(std::string_view type, std::string_view detail_text) {
  std::string out = "{\"type\":\"urn:ietf:params:acme:error:";
  out += type;
  out += "\",\"detail\":";
  certretry::detail::append_json_string(out, detail_text);
  return out + "}";
}

}  // namespace detail

// --- async-poll ----------------------------------------------------------------------------

/// The async-poll machine as a verification subject: `order` polled under policy `p`.
inline subject async_poll_subject(async_ca_order order, backoff_policy<any_schedule, any_jitter> p,
                                  std::uint64_t seed = 1, std::string options_json = "{}",
                                  time_point start = time_point{},
                                  std::size_t max_body_bytes = default_max_body_bytes) {
  subject s;
  s.machine = "async-poll";
  s.options_json = std::move(options_json);
  s.seed = seed;
  s.start = start;
  const async_ca_triage probe{order, max_body_bytes};
  const request_view status_req = probe.next_request();
  const std::string status_key =
      std::string(status_req.method) + " " + std::string(status_req.target);
  std::string done, pending, rejected, download_key;
  switch (order.ca) {
    case async_ca::digicert:
      done = R"({"status":"issued","certificate":{"id":7}})";
      pending = R"({"status":"pending"})";
      rejected = R"({"status":"rejected"})";
      download_key = "GET /certificate/7/download/format/pem_all";
      break;
    case async_ca::sectigo:
      done = R"({"status":"Issued"})";
      pending = R"({"status":"Pending"})";
      rejected = R"({"status":"Rejected"})";
      download_key = "GET /ssl/v1/collect/" + order.id + "/pem";
      break;
    case async_ca::entrust:
    case async_ca::globalsign:
      // The certificate in the body must pass the default certificate check (a PEM block).
      done =
          R"({"status":"ISSUED","certificate":"-----BEGIN CERTIFICATE-----\nMIIBverify\n-----END CERTIFICATE-----\n"})";
      pending = R"({"status":"PENDING"})";
      rejected = R"({"status":"REJECTED"})";
      if (order.ca == async_ca::globalsign) {
        pending = R"({"status":"pending"})";
        rejected = R"({"status":"rejected"})";
      }
      break;
    case async_ca::generic:
      done =
          R"({"status":"issued","certificate":"-----BEGIN CERTIFICATE-----\nMIIBverify\n-----END CERTIFICATE-----\n"})";
      pending = R"({"status":"pending"})";
      rejected = R"({"status":"rejected"})";
      break;
  }
  using detail::reply_letter;
  letter issued = reply_letter("issued", 200, done);
  issued.happy = true;
  s.letters.push_back(detail::answers(issued, {status_key}));
  if (!download_key.empty()) {
    letter cert = reply_letter("certificate", 200, detail::pem());
    cert.happy = true;
    s.letters.push_back(detail::answers(cert, {download_key}));
  }
  letter pend = reply_letter("pending", 200, pending);
  pend.repeat = true;
  s.letters.push_back(pend);
  s.letters.push_back(reply_letter("rejected", 200, rejected));
  s.letters.push_back(
      reply_letter("429", 429, R"({"errors":[{"code":"request_limit_exceeded"}]})"));
  letter ra =
      reply_letter("429 + Retry-After", 429, R"({"errors":[{"code":"request_limit_exceeded"}]})",
                   {{"Retry-After", "120"}});
  ra.retry_after = 120s;
  ra.repeat = true;
  s.letters.push_back(ra);
  letter five = reply_letter("5xx", 503, "");
  five.repeat = true;
  s.letters.push_back(five);
  s.letters.push_back(
      reply_letter("404", 404, R"({"errors":[{"code":"not_found","message":"order not found"}]})"));
  s.letters.push_back(reply_letter("garbage", 200, "<html>Service Temporarily Unavailable"));
  letter to = detail::error_letter("timeout", errc::transport_timeout);
  to.repeat = true;
  s.letters.push_back(to);

  s.f.deadline = p.run_limits().max_wait;
  s.f.floor = p.run_limits().effective_min_delay();
  s.f.retry_after_ceiling = p.retry_after().ceiling;
  s.f.honours_retry_after = p.retry_after().mode != retry_after_mode::ignore;
  s.f.max_sends_in_a_row = 1 + async_ca_poll_machine<>::max_immediate_polls;
  s.f.happy_calls = download_key.empty() ? 1 : 2;
  s.make = [order, p, seed,
            max_body_bytes](recording_sink sink) -> std::unique_ptr<erased_machine> {
    using M = async_ca_poll_machine<any_schedule, any_jitter, splitmix64, recording_sink>;
    return std::make_unique<erased<M>>(
        M{async_ca_triage{order, max_body_bytes}, p, splitmix64{seed}, sink});
  };
  return s;
}

// --- tpp-enroll ----------------------------------------------------------------------------

/// The TPP enrollment machine as a verification subject.
template <class Detector = tpp::stale_enrollment_detector>
subject tpp_subject(tpp::enroll_options o, backoff_policy<any_schedule, any_jitter> p,
                    std::uint64_t seed = 1, std::string options_json = "{}",
                    time_point start = time_point{}) {
  subject s;
  s.machine = "tpp-enroll";
  s.options_json = std::move(options_json);
  s.seed = seed;
  s.start = start;
  const std::string request_key = "POST " + std::string(tpp::request_path);
  const std::string retrieve_key = "POST " + std::string(tpp::retrieve_path);
  const std::string reset_key = "POST " + std::string(tpp::reset_path);
  const std::string dn =
      o.certificate_dn.empty() ? "\\VED\\Policy\\certretry\\example.com" : o.certificate_dn;
  const auto status_body = [](std::string_view text) {
    std::string b = "{\"Stage\":500,\"Status\":";
    certretry::detail::append_json_string(b, text);
    return b + "}";
  };
  using detail::reply_letter;
  std::string dn_body = "{\"CertificateDN\":";
  certretry::detail::append_json_string(dn_body, dn);
  dn_body += "}";
  letter requested = reply_letter("200 with the DN", 200, dn_body);
  requested.happy = true;
  s.letters.push_back(detail::answers(requested, {request_key}));
  letter cert =
      reply_letter("200 with certificate", 200, R"({"CertificateData":"TUlJQ3ZlcmlmeQ=="})");
  cert.happy = true;
  s.letters.push_back(detail::answers(cert, {retrieve_key}));
  letter pending = reply_letter("202 pending", 202, status_body("Post CSR"));
  pending.repeat = true;
  s.letters.push_back(detail::answers(pending, {retrieve_key}));
  letter click = reply_letter("500 click-Retry", 500, status_body(tpp::click_retry_message));
  click.stale = true;
  s.letters.push_back(detail::answers(click, {retrieve_key}));
  letter websdk = reply_letter("500 WebSDK", 500, status_body(tpp::websdk_requested_message));
  websdk.stale = true;
  s.letters.push_back(detail::answers(websdk, {retrieve_key}));
  letter other = reply_letter(
      "other 500", 500,
      status_body("Post CSR failed with error: Cannot connect to the certificate authority (CA)."));
  s.letters.push_back(detail::answers(other, {retrieve_key}));
  letter reset_ok = reply_letter("reset 200", 200, R"({"ProcessingResetCompleted":true})");
  reset_ok.happy = true;
  s.letters.push_back(detail::answers(reset_ok, {reset_key}));
  std::string no_reset = "{\"Error\":";
  certretry::detail::append_json_string(no_reset, tpp::no_reset_required_message);
  letter reset_none = reply_letter("reset 400 no reset required", 400, no_reset + "}");
  s.letters.push_back(detail::answers(reset_none, {reset_key}));
  std::string missing = "{\"Error\":";
  certretry::detail::append_json_string(
      missing, "Certificate " + dn + " " + std::string(tpp::not_found_suffix));
  letter reset_missing = reply_letter("reset 400 not found", 400, missing + "}");
  s.letters.push_back(detail::answers(reset_missing, {reset_key}));
  letter five = reply_letter("503", 503, "");
  five.repeat = true;
  s.letters.push_back(five);
  letter to = detail::error_letter("timeout", errc::transport_timeout);
  to.repeat = true;
  s.letters.push_back(to);

  s.f.deadline = p.run_limits().max_wait;
  s.f.floor = p.run_limits().effective_min_delay();
  s.f.retry_after_ceiling = p.retry_after().ceiling;
  s.f.honours_retry_after = p.retry_after().mode != retry_after_mode::ignore;
  // request, stale retrieve, reset, request, retrieve: five at once at most.
  // The longest chain of requests without a wait: after a lost request and the error wait, a
  // look at its DN, a request, its retrieve, a reset, the request again and its retrieve.
  s.f.max_sends_in_a_row = 6;
  s.f.enroll_request = request_key;
  s.f.retrieve_request = retrieve_key;
  s.f.reset_request = reset_key;
  switch (o.strategy) {
    case tpp::reset_strategy::reset_on_detection:
      s.f.reset = facts::reset_rule::on_detection;
      s.f.happy_calls = 2;
      break;
    case tpp::reset_strategy::reset_before_request:
      s.f.reset = facts::reset_rule::before_request;
      s.f.happy_calls = 3;
      break;
    case tpp::reset_strategy::query_only:
      s.f.reset = facts::reset_rule::query_only;
      s.f.happy_calls = 2;
      break;
  }
  s.make = [o, p, seed](recording_sink sink) -> std::unique_ptr<erased_machine> {
    using M = tpp::enroll_machine<Detector, any_schedule, any_jitter, splitmix64, recording_sink>;
    return std::make_unique<erased<M>>(M{o, p, splitmix64{seed}, sink});
  };
  return s;
}

// --- the ACME machines -------------------------------------------------------------------

namespace detail {

inline void nonce_letters(subject& s, const std::string& nonce_url) {
  letter nonce = reply_letter("new nonce", 200, "", {nonce_header()});
  nonce.happy = true;
  nonce.repeat = true;
  s.letters.push_back(answers(nonce, {"HEAD " + nonce_url}));
}

inline void acme_error_letters(subject& s, const std::string& key) {
  letter bad =
      reply_letter("badNonce", 400, problem("badNonce", "JWS has an invalid anti-replay nonce"),
                   {nonce_header(), {"Content-Type", "application/problem+json"}});
  s.letters.push_back(answers(bad, {key}));
  letter limited = reply_letter(
      "rateLimited + Retry-After", 429, problem("rateLimited", "too many new orders recently"),
      {nonce_header(), {"Retry-After", "60"}, {"Content-Type", "application/problem+json"}});
  limited.retry_after = 60s;
  limited.repeat = true;
  s.letters.push_back(answers(limited, {key}));
  letter internal = reply_letter("5xx", 500, problem("serverInternal", "the server had a problem"),
                                 {nonce_header(), {"Content-Type", "application/problem+json"}});
  internal.repeat = true;
  s.letters.push_back(internal);
}

inline void acme_facts(subject& s, const backoff_policy<any_schedule, any_jitter>& p,
                       const acme::nonce_options& n) {
  s.f.deadline = p.run_limits().max_wait;
  s.f.floor = p.run_limits().effective_min_delay();
  s.f.retry_after_ceiling = p.retry_after().ceiling;
  s.f.honours_retry_after = p.retry_after().mode != retry_after_mode::ignore;
  // HEAD, then up to 1 + max_bad_nonce_retries POSTs, each perhaps after a HEAD, a fallback.
  s.f.max_sends_in_a_row = 10;
  s.f.happy_calls = n.initial.empty() ? 2 : 1;  // [HEAD new-nonce,] the request
  s.f.auxiliary_requests = {"HEAD " + n.new_nonce_url};
}

}  // namespace detail

/// The new-order machine starts with the nonce the options give (none: the first request is
/// HEAD new-nonce), as the harness runs it when a scenario scripts the new-nonce URL.
inline subject acme_new_order_subject(acme::new_order_options o,
                                      backoff_policy<any_schedule, any_jitter> p,
                                      std::uint64_t seed = 1, std::string options_json = "{}",
                                      time_point start = time_point{}) {
  subject s;
  s.machine = "acme-new-order";
  s.options_json = std::move(options_json);
  s.seed = seed;
  s.start = start;
  const std::string key = "POST " + o.new_order_url;
  detail::nonce_letters(s, o.nonce.new_nonce_url);
  using detail::problem;
  using detail::reply_letter;
  letter created = reply_letter(
      "201", 201,
      R"({"status":"pending","expires":"2025-01-08T00:00:00Z","identifiers":[{"type":"dns","value":"example.com"}],"authorizations":["/acme/authz/1"],"finalize":"/acme/order/1/finalize"})",
      {detail::nonce_header(), {"Location", "/acme/order/1"}});
  created.happy = true;
  s.letters.push_back(detail::answers(created, {key}));
  const std::vector<header_field> problem_headers{detail::nonce_header(),
                                                  {"Content-Type", "application/problem+json"}};
  s.letters.push_back(detail::answers(
      detail::reply_letter("alreadyReplaced", 409,
                           problem("alreadyReplaced", "the certificate has already been replaced"),
                           problem_headers),
      {key}));
  s.letters.push_back(detail::answers(
      detail::reply_letter("conflict", 409,
                           problem("conflict", "cannot replace a certificate already replaced"),
                           problem_headers),
      {key}));
  s.letters.push_back(detail::answers(
      detail::reply_letter(
          "malformed", 400,
          problem("malformed", "Could not validate ARI 'replaces' field :: serial not found"),
          problem_headers),
      {key}));
  detail::acme_error_letters(s, key);
  detail::acme_facts(s, p, o.nonce);
  s.f.fallback_applies = true;
  s.f.new_order_request = key;
  s.make = [o, p, seed](recording_sink sink) -> std::unique_ptr<erased_machine> {
    using M = acme::new_order_machine<any_schedule, any_jitter, splitmix64, recording_sink>;
    return std::make_unique<erased<M>>(M{o, p, splitmix64{seed}, sink});
  };
  return s;
}

/// The ACME resource-poll machine as a verification subject.
inline subject acme_poll_subject(acme::poll_options o, backoff_policy<any_schedule, any_jitter> p,
                                 std::uint64_t seed = 1, std::string options_json = "{}",
                                 time_point start = time_point{}) {
  subject s;
  s.machine = "acme-poll";
  s.options_json = std::move(options_json);
  s.seed = seed;
  s.start = start;
  const std::string key = "POST " + o.url;
  detail::nonce_letters(s, o.nonce.new_nonce_url);
  using detail::reply_letter;
  const std::vector<header_field> h{detail::nonce_header()};
  letter valid =
      reply_letter("valid", 200, R"({"status":"valid","certificate":"/acme/cert/1"})", h);
  valid.happy = true;
  s.letters.push_back(detail::answers(valid, {key}));
  letter processing = reply_letter("processing", 200, R"({"status":"processing"})", h);
  processing.repeat = true;
  s.letters.push_back(detail::answers(processing, {key}));
  letter ra = reply_letter("processing + Retry-After", 200, R"({"status":"processing"})",
                           {detail::nonce_header(), {"Retry-After", "3"}});
  ra.retry_after = 3s;
  s.letters.push_back(detail::answers(ra, {key}));
  s.letters.push_back(detail::answers(
      reply_letter(
          "invalid", 200,
          R"({"status":"invalid","error":{"type":"urn:ietf:params:acme:error:badCSR","detail":"CSR rejected"}})",
          h),
      {key}));
  detail::acme_error_letters(s, key);
  letter to = detail::error_letter("timeout", errc::transport_timeout);
  to.repeat = true;
  s.letters.push_back(to);
  detail::acme_facts(s, p, o.nonce);
  s.make = [o, p, seed](recording_sink sink) -> std::unique_ptr<erased_machine> {
    using M = acme::resource_poll_machine<any_schedule, any_jitter, splitmix64, recording_sink>;
    return std::make_unique<erased<M>>(M{o, p, splitmix64{seed}, sink});
  };
  return s;
}

/// One signed POST: a finalize (or a challenge response). Its order letters answer both the
/// POST and, after a lost reply whose resend was refused, the POST-as-GET of the resource
/// (RFC 8555 §7.4: a finalize is answered with the order). The machine starts with a nonce at
/// hand, as the harness runs it (its `nonce` option), so a timeout's resend needs HEAD
/// new-nonce (a nonce is never reused after a lost reply).
inline subject acme_post_subject(acme::post_options o, backoff_policy<any_schedule, any_jitter> p,
                                 std::uint64_t seed = 1, std::string options_json = "{}",
                                 time_point start = time_point{}) {
  subject s;
  s.machine = "acme-post";
  s.options_json = std::move(options_json);
  s.seed = seed;
  s.start = start;
  const std::string key = "POST " + o.url;
  const std::string resource = o.resource_url.empty() ? o.url : o.resource_url;
  const std::vector<std::string> both{key, "POST " + resource};
  detail::nonce_letters(s, o.nonce.new_nonce_url);
  using detail::reply_letter;
  const std::vector<header_field> h{detail::nonce_header(), {"Location", resource}};
  const std::string is_kind = o.kind == acme::post_kind::challenge
                                  ? R"({"type":"http-01","url":")" + resource + R"(","status":")"
                                  : R"({"finalize":")" + o.url + R"(","status":")";
  const auto body = [&](std::string_view status) { return is_kind + std::string(status) + "\"}"; };
  letter processing = reply_letter("200 processing", 200, body("processing"), h);
  processing.happy = true;
  s.letters.push_back(detail::answers(processing, both));
  std::vector<header_field> ra_headers = h;
  ra_headers.push_back({"Retry-After", "3"});
  letter processing_ra =
      reply_letter("200 processing + Retry-After", 200, body("processing"), std::move(ra_headers));
  processing_ra.retry_after = 3s;
  s.letters.push_back(detail::answers(processing_ra, both));
  s.letters.push_back(detail::answers(reply_letter("200 valid", 200, body("valid"), h), both));
  // Not taken yet: on the read after a refused resend, the finalize is sent once more.
  s.letters.push_back(detail::answers(
      reply_letter("200 ready", 200,
                   body(o.kind == acme::post_kind::challenge ? "pending" : "ready"), h),
      both));
  s.letters.push_back(detail::answers(
      reply_letter("202 accepted", 202, body("processing"), {detail::nonce_header()}), {key}));
  const std::vector<header_field> problem_headers{detail::nonce_header(),
                                                  {"Content-Type", "application/problem+json"}};
  s.letters.push_back(detail::answers(
      o.kind == acme::post_kind::challenge
          ? reply_letter("409 already validating", 409,
                         detail::problem("conflict", "Authorization is already being validated"),
                         problem_headers)
          : reply_letter("orderNotReady", 403,
                         detail::problem("orderNotReady",
                                         "Order's status (\"processing\") is "
                                         "not acceptable for finalization"),
                         problem_headers),
      {key}));
  s.letters.push_back(detail::answers(
      reply_letter("404", 404, detail::problem("malformed", "No order for ID 1"), problem_headers),
      both));
  detail::acme_error_letters(s, key);
  letter to = detail::error_letter("timeout", errc::transport_timeout);
  to.repeat = true;
  s.letters.push_back(to);
  detail::acme_facts(s, p, o.nonce);
  s.make = [o, p, seed](recording_sink sink) -> std::unique_ptr<erased_machine> {
    using M = acme::post_machine<any_schedule, any_jitter, splitmix64, recording_sink>;
    return std::make_unique<erased<M>>(M{o, p, splitmix64{seed}, sink});
  };
  return s;
}

// --- ari-renewal ---------------------------------------------------------------------------

/// Windows are fixed dates from `start` (a scenario's replies are fixed text): one an hour
/// ahead, one already past, one that ends before it starts.
inline subject ari_subject(acme::ari_options o, std::uint64_t seed = 1,
                           std::string options_json = "{}", time_point start = time_point{}) {
  subject s;
  s.machine = "ari-renewal";
  s.options_json = std::move(options_json);
  s.seed = seed;
  s.start = start;
  const std::string key = "GET " + o.renewal_info_url + "/" + o.cert_id;
  const auto window = [&](duration from, duration to) {
    return R"({"suggestedWindow":{"start":")" + format_rfc3339(start + from) + R"(","end":")" +
           format_rfc3339(start + to) + "\"}}";
  };
  using detail::reply_letter;
  letter ahead = reply_letter("window", 200, window(1h, 2h), {{"Retry-After", "21600"}});
  ahead.retry_after = 6h;
  ahead.happy = true;
  s.letters.push_back(detail::answers(ahead, {key}));
  s.letters.push_back(detail::answers(reply_letter("past window", 200, window(-48h, -24h)), {key}));
  letter invalid = reply_letter("invalid window", 200, window(2h, 1h));
  invalid.repeat = true;
  s.letters.push_back(detail::answers(invalid, {key}));
  s.letters.push_back(detail::answers(
      reply_letter("404", 404, detail::problem("malformed", "unknown certificate")), {key}));
  letter five = reply_letter("5xx + Retry-After", 503, "", {{"Retry-After", "3600"}});
  five.retry_after = 1h;
  five.repeat = true;
  s.letters.push_back(detail::answers(five, {key}));
  letter refused = detail::error_letter("refused", errc::connection_refused);
  s.letters.push_back(refused);
  letter to = detail::error_letter("timeout", errc::transport_timeout);
  to.repeat = true;
  s.letters.push_back(to);

  const auto p = acme::ari_error_policy();
  s.f.not_after = o.not_after;
  // No notAfter: the machine refuses to start (ari_options::validate), so there is nothing to
  // bound; a deadline of 0 makes any request a violation.
  s.f.deadline = o.not_after ? *o.not_after - start : duration::zero();
  s.f.floor = p.run_limits().effective_min_delay();
  s.f.retry_after_ceiling = o.max_retry_after;
  s.f.max_sends_in_a_row = 1;
  s.f.happy_calls = 1;
  s.make = [o, seed](recording_sink sink) -> std::unique_ptr<erased_machine> {
    using M = acme::ari_machine<any_schedule, any_jitter, splitmix64, recording_sink>;
    return std::make_unique<erased<M>>(M{o, acme::ari_error_policy(), splitmix64{seed}, sink});
  };
  return s;
}

}  // namespace certretry::verify
