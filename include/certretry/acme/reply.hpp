// certretry/acme/reply.hpp — reading ACME servers' replies: problem documents (RFC 8555 §6.7,
// RFC 9457), orders, authorizations and challenges (RFC 8555 §7.1.3-§7.1.5), and renewalInfo
// (RFC 9773 §4.2), as servers send them (docs/sources.md#boulder, docs/sources.md#pebble).
//
// Bodies are hostile and bounded like every server body: one copy into the reader's padded
// buffer, one simdjson On-Demand pass, and trailing bytes after the top-level value refused.
// Every string_view a reader returns points into that reader's buffer and is valid until its
// next read.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/time.hpp"
#include "certretry/json/reader.hpp"

#include <simdjson.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace certretry::acme {

/// RFC 8555 §6.7: ACME's problem types live under this URN namespace.
inline constexpr std::string_view error_urn_prefix = "urn:ietf:params:acme:error:";

/// How many subproblems (RFC 8555 §6.7.1) keep their fields; the rest are only counted.
inline constexpr std::size_t max_kept_subproblems = 4;

/// One subproblem (RFC 8555 §6.7.1).
///
/// Thread safety: views into the reader's buffer: valid until its next read; read them on the
/// reader's thread.
struct subproblem {
  std::string_view type{};       ///< as sent
  std::string_view type_name{};  ///< the ACME name ("rejectedIdentifier")
  std::string_view detail{};
  std::string_view identifier_type{};   ///< the identifier's type ("dns")
  std::string_view identifier_value{};  ///< the identifier's value
};

/// A problem document. Members of the wrong JSON type are ignored (RFC 9457 §3.1), so a server's
/// sloppiness never hides the HTTP status the caller classifies by.
///
/// Thread safety: views into the reader's buffer: valid until its next read; read them on the
/// reader's thread.
struct problem {
  std::string_view type{};       ///< as sent; empty when absent ("about:blank", RFC 9457 §3.1.1)
  std::string_view type_name{};  ///< "badNonce" for either the full URN or the bare name
  std::string_view detail{};
  std::string_view instance{};  ///< RFC 9457 §3.1.5: a URL about this occurrence (§7.3.3: the page
                                ///< a person must visit for userActionRequired)
  std::optional<int> status;    ///< only a value in [100, 599]
  std::size_t subproblem_count = 0;                            ///< subproblems sent, kept or not
  std::array<subproblem, max_kept_subproblems> subproblems{};  ///< the first few, in order

  /// How many subproblems kept their fields.
  std::size_t kept_subproblems() const noexcept {
    return subproblem_count < max_kept_subproblems ? subproblem_count : max_kept_subproblems;
  }
};

/// The ACME name of a problem type: what follows the URN prefix (compared ignoring case, as
/// RFC 8141 allows for "urn" and the namespace), or a bare name without any ':'; otherwise
/// (another URI such as "about:blank") nothing.
constexpr std::string_view type_name_of(std::string_view type) noexcept {
  if (type.size() > error_urn_prefix.size() &&
      certretry::detail::iequals(type.substr(0, error_urn_prefix.size()), error_urn_prefix))
    return type.substr(error_urn_prefix.size());
  if (type.find(':') == std::string_view::npos) return type;
  return {};
}

/// What a client does about a problem.
enum class problem_class {
  retry_with_new_nonce,  ///< badNonce: resend at once with the Replay-Nonce (RFC 8555 §6.5)
  wait_retry_after,      ///< rateLimited or 429: wait for Retry-After (RFC 8555 §6.6)
  transient,             ///< serverInternal or 5xx: back off and retry
  permanent,             ///< the request will not succeed as sent
};

namespace detail {

// Every problem type RFC 8555 §6.7 registers except the three that are not permanent, plus
// alreadyReplaced (RFC 9773 §5) and Boulder's conflict (docs/sources.md#boulder-7385).
inline constexpr std::array<std::string_view, 23> permanent_types{"accountDoesNotExist",
                                                                  "alreadyRevoked",
                                                                  "badCSR",
                                                                  "badPublicKey",
                                                                  "badRevocationReason",
                                                                  "badSignatureAlgorithm",
                                                                  "caa",
                                                                  "compound",
                                                                  "connection",
                                                                  "dns",
                                                                  "externalAccountRequired",
                                                                  "incorrectResponse",
                                                                  "invalidContact",
                                                                  "malformed",
                                                                  "orderNotReady",
                                                                  "rejectedIdentifier",
                                                                  "tls",
                                                                  "unauthorized",
                                                                  "unsupportedContact",
                                                                  "unsupportedIdentifier",
                                                                  "userActionRequired",
                                                                  "alreadyReplaced",
                                                                  "conflict"};

constexpr bool contains_ignoring_case(std::string_view text, std::string_view word) noexcept {
  if (word.size() > text.size()) return false;
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i)
    if (certretry::detail::iequals(text.substr(i, word.size()), word)) return true;
  return false;
}

}  // namespace detail

/// Known types decide; an unknown type (or none) falls back on the response's HTTP status.
constexpr problem_class classify(const problem& p, int http_status) noexcept {
  const std::string_view name = p.type_name;
  if (name == "badNonce") return problem_class::retry_with_new_nonce;
  if (name == "rateLimited") return problem_class::wait_retry_after;
  if (name == "serverInternal") return problem_class::transient;
  for (std::string_view t : detail::permanent_types)
    if (name == t) return problem_class::permanent;
  if (http_status == 429) return problem_class::wait_retry_after;
  if (http_status == 408) return problem_class::transient;  // the server timed out waiting
  if (http_status >= 500 && http_status <= 599) return problem_class::transient;
  return problem_class::permanent;
}

/// Whether a problem's detail, or a kept subproblem's, speaks of the replaced certificate
/// ("replaces", "replacement", "already replaced").
constexpr bool mentions_replacement(const problem& p) noexcept {
  if (detail::contains_ignoring_case(p.detail, "replace")) return true;
  for (std::size_t i = 0; i < p.kept_subproblems(); ++i)
    if (detail::contains_ignoring_case(p.subproblems[i].detail, "replace")) return true;
  return false;
}

/// Whether a new-order error rejects the `replaces` claim itself rather than the order, so that
/// the same order without `replaces` may succeed (docs/sources.md#le-community-ari-conflict).
/// Decided from the whole response, because servers differ: RFC 9773's 409 alreadyReplaced,
/// Boulder's 409 conflict until 2025, Boulder's malformed 400/404 "Could not validate ARI
/// 'replaces' field :: ..." (docs/sources.md#boulder-wfe), any other 409 (new-order creates
/// nothing else it could conflict with), and any other refusal whose detail names the
/// replacement (another account's certificate). Never a problem that is not permanent: a bad
/// nonce, a rate limit (429) or an outage (5xx) must not drop `replaces`.
constexpr bool is_replacement_rejection(const problem& p, int http_status) noexcept {
  if (http_status < 400 || http_status > 499) return false;
  // A 429 or 408 is about the pace, whatever type the server put on it.
  if (http_status == 429 || http_status == 408) return false;
  if (classify(p, http_status) != problem_class::permanent) return false;
  const std::string_view name = p.type_name;
  if (name == "alreadyReplaced" || name == "conflict") return true;
  return http_status == 409 || mentions_replacement(p);
}

/// The target of the first `Link` header value with rel="terms-of-service" (RFC 8555 §7.3.3:
/// a userActionRequired error carries the terms a person must agree to), if any. Bounded: at most
/// 16 Link fields and 8 links in each are looked at; the URL is returned as sent.
constexpr std::optional<std::string_view> terms_of_service_link(
    std::span<const header_field> headers) noexcept {
  std::size_t fields = 0;
  for (const auto& h : headers) {
    if (!certretry::detail::iequals(h.name, "Link")) continue;
    if (++fields > 16) break;
    std::string_view rest{h.value};
    for (int links = 0; links < 8 && !rest.empty(); ++links) {
      const std::size_t open = rest.find('<');
      if (open == std::string_view::npos) break;
      const std::size_t close = rest.find('>', open);
      if (close == std::string_view::npos) break;
      const std::string_view url = rest.substr(open + 1, close - open - 1);
      rest.remove_prefix(close + 1);
      const std::size_t next = rest.find('<');
      const std::string_view params = rest.substr(0, next);
      if (detail::contains_ignoring_case(params, "rel=\"terms-of-service\"") ||
          detail::contains_ignoring_case(params, "rel=terms-of-service"))
        return url;
      if (next == std::string_view::npos) break;
    }
  }
  return std::nullopt;
}

/// Answers that no retry fixes, so the run ends needs_person (docs/operations.md, "Needs a
/// person") with what the person needs:
/// - Let's Encrypt's pause of an account for a hostname after 3 600 consecutive failures, whatever
///   its type and status: "Your account is temporarily prevented from requesting certificates for
///   … Please visit: <portal>" (docs/sources.md#le-consecutive-failures): the portal's URL;
/// - userActionRequired (RFC 8555 §7.3.3): the terms-of-service Link, else the instance URL;
/// - rejectedIdentifier, unauthorized, externalAccountRequired (RFC 8555 §6.7): the CA will not
///   act for this account or name until a person changes something; the instance URL if any.
///
/// Thread safety: a view (static text or the reply's bytes): read it before the reader's next call.
struct person_needed {
  std::string_view action{};  ///< a URL, or empty
};

/// Whether a problem needs a person (the rules above), and what the person needs.
constexpr std::optional<person_needed> needs_person(
    const problem& p, std::span<const header_field> headers) noexcept {
  constexpr std::string_view pause = "temporarily prevented from requesting certificates";
  if (detail::contains_ignoring_case(p.detail, pause) ||
      detail::contains_ignoring_case(p.detail, "/unpause")) {
    std::string_view url{};
    if (const auto at = p.detail.find("https://"); at != std::string_view::npos) {
      url = p.detail.substr(at);
      const auto stop = url.find_first_of(" \t\r\n\"'<>");
      if (stop != std::string_view::npos) url = url.substr(0, stop);
    }
    return person_needed{url};
  }
  const std::string_view name = p.type_name;
  if (name == "userActionRequired") {
    if (const auto terms = terms_of_service_link(headers)) return person_needed{*terms};
    return person_needed{p.instance};
  }
  if (name == "rejectedIdentifier" || name == "unauthorized" || name == "externalAccountRequired")
    return person_needed{p.instance};
  return std::nullopt;
}

/// RFC 8555 §7.1.6's statuses of orders, authorizations and challenges.
enum class resource_status {
  pending,
  ready,
  processing,
  valid,
  invalid,
  deactivated,
  expired,
  revoked,
  unknown,
};

/// The status word of an order, authorization or challenge; unknown for any other word.
constexpr resource_status parse_resource_status(std::string_view s) noexcept {
  if (s == "pending") return resource_status::pending;
  if (s == "ready") return resource_status::ready;
  if (s == "processing") return resource_status::processing;
  if (s == "valid") return resource_status::valid;
  if (s == "invalid") return resource_status::invalid;
  if (s == "deactivated") return resource_status::deactivated;
  if (s == "expired") return resource_status::expired;
  if (s == "revoked") return resource_status::revoked;
  return resource_status::unknown;
}

namespace detail {

using simdjson::ondemand::object;
using simdjson::ondemand::value;

// One subproblem (RFC 8555 §6.7.1): its type, detail and identifier; nested subproblems are
// skipped. False only when the JSON itself is broken.
inline bool read_subproblem(object obj, subproblem& out) {
  for (auto field : obj) {
    std::string_view key, s;
    if (field.unescaped_key().get(key)) return false;
    value v;
    if (field.value().get(v)) return false;
    if (key == "type") {
      if (!v.get_string().get(s)) out.type = s;
    } else if (key == "detail") {
      if (!v.get_string().get(s)) out.detail = s;
    } else if (key == "identifier") {
      object id;
      if (v.get_object().get(id)) continue;  // wrong type: ignored
      for (auto f : id) {
        std::string_view k;
        if (f.unescaped_key().get(k)) return false;
        if (k == "type") {
          if (!f.value().get_string().get(s)) out.identifier_type = s;
        } else if (k == "value") {
          if (!f.value().get_string().get(s)) out.identifier_value = s;
        }
      }
    }
  }
  out.type_name = type_name_of(out.type);
  return true;
}

// The members of a problem document (RFC 9457 §3.1 and RFC 8555 §6.7.1). False only when the
// JSON itself is broken; members of the wrong type are ignored.
inline bool read_problem(object obj, problem& out) {
  for (auto field : obj) {
    std::string_view key, s;
    if (field.unescaped_key().get(key)) return false;
    value v;
    if (field.value().get(v)) return false;
    if (key == "type") {
      if (!v.get_string().get(s)) out.type = s;
    } else if (key == "detail") {
      if (!v.get_string().get(s)) out.detail = s;
    } else if (key == "instance") {
      if (!v.get_string().get(s)) out.instance = s;
    } else if (key == "status") {
      std::int64_t n = 0;
      if (!v.get_int64().get(n)) {
        if (n >= 100 && n <= 599) out.status = static_cast<int>(n);
      }
    } else if (key == "subproblems") {
      simdjson::ondemand::array arr;
      if (v.get_array().get(arr)) continue;  // wrong type: ignored
      out.subproblem_count = 0;
      out.subproblems = {};
      for (auto element : arr) {
        value e;
        if (element.get(e)) return false;
        object sub;
        if (e.get_object().get(sub)) continue;  // not a problem: not counted
        subproblem kept;
        if (!read_subproblem(sub, kept)) return false;
        if (out.subproblem_count < max_kept_subproblems)
          out.subproblems[out.subproblem_count] = kept;
        ++out.subproblem_count;
      }
    }
  }
  out.type_name = type_name_of(out.type);
  return true;
}

}  // namespace detail

/// Reads problem documents (application/problem+json, RFC 8555 §6.7).
///
/// Thread safety: reuses one parse buffer: part of one machine, never shared between threads.
class problem_reader {
 public:
  /// A reader refusing bodies over `max_body_bytes`.
  explicit problem_reader(std::size_t max_body_bytes = default_max_body_bytes)
      : json_(max_body_bytes) {}

  /// The body limit.
  std::size_t max_bytes() const noexcept { return json_.max_bytes(); }

  /// Nothing for a body over the limit, not JSON, not one object, or with trailing bytes.
  std::optional<problem> read(std::string_view body) {
    auto obj = json_.open_object(body);
    if (!obj) return std::nullopt;
    problem out;
    if (!detail::read_problem(*obj, out)) return std::nullopt;
    if (!json_.at_end()) return std::nullopt;
    return out;
  }

 private:
  certretry::detail::json_reader json_;
};

/// How many of an authorization's challenges keep their fields; the rest are only counted.
inline constexpr std::size_t max_kept_challenges = 4;

/// A challenge as listed in an authorization (RFC 8555 §7.1.5, §8).
///
/// Thread safety: views into the reader's buffer: valid until its next read; read them on the
/// reader's thread.
struct challenge_ref {
  std::string_view type{};       ///< "http-01", "dns-01", "tls-alpn-01" ...
  std::string_view url{};        ///< the challenge's URL
  std::string_view status{};     ///< its status word
  std::string_view token{};      ///< its token
  std::optional<problem> error;  ///< its error, if any
};

/// An order, authorization or challenge: the fields a polling client acts on.
///
/// Thread safety: views into the reader's buffer: valid until its next read; read them on the
/// reader's thread.
struct acme_object {
  std::string_view status{};               ///< the status word
  std::optional<problem> error;            ///< order §7.1.3 / challenge §7.1.5
  std::optional<time_point> expires;       ///< order, authorization
  std::string_view url{};                  ///< challenge
  std::string_view finalize{};             ///< order
  std::string_view certificate{};          ///< order, once valid
  std::size_t authorization_count = 0;     ///< authorization URLs listed (order)
  std::string_view first_authorization{};  ///< the first of them (order)
  std::size_t challenge_count = 0;         ///< authorization
  std::array<challenge_ref, max_kept_challenges> challenges{};  ///< authorization: the first few
  std::string_view token{};                                     ///< challenge
  std::optional<time_point> validated;                          ///< challenge, once valid

  /// How many challenges kept their fields.
  std::size_t kept_challenges() const noexcept {
    return challenge_count < max_kept_challenges ? challenge_count : max_kept_challenges;
  }
  /// The first kept challenge of a type, if listed.
  const challenge_ref* challenge(std::string_view type) const noexcept {
    for (std::size_t i = 0; i < kept_challenges(); ++i)
      if (challenges[i].type == type) return &challenges[i];
    return nullptr;
  }
  /// Why the resource failed or is being retried: its own error, else (an authorization) the
  /// first listed challenge's.
  const problem* first_error() const noexcept {
    if (error) return &*error;
    for (std::size_t i = 0; i < kept_challenges(); ++i)
      if (challenges[i].error) return &*challenges[i].error;
    return nullptr;
  }

  /// The status, parsed.
  resource_status state() const noexcept { return parse_resource_status(status); }
};

/// Reads orders, authorizations and challenges. Unlike a problem document, a known field of the
/// wrong type, an error that is not an object, or an unparsable timestamp makes the whole body
/// unusable: acting on half an order is worse than retrying the GET.
///
/// Thread safety: reuses one parse buffer: part of one machine, never shared between threads.
class object_reader {
 public:
  /// A reader refusing bodies over `max_body_bytes`.
  explicit object_reader(std::size_t max_body_bytes = default_max_body_bytes)
      : json_(max_body_bytes) {}

  /// The body limit.
  std::size_t max_bytes() const noexcept { return json_.max_bytes(); }

  /// The object, or nothing for an unusable body.
  std::optional<acme_object> read(std::string_view body) {
    auto obj = json_.open_object(body);
    if (!obj) return std::nullopt;
    acme_object out;
    for (auto field : *obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return std::nullopt;
      simdjson::ondemand::value v;
      if (field.value().get(v)) return std::nullopt;
      if (key == "status") {
        if (v.get_string().get(out.status)) return std::nullopt;
      } else if (key == "url") {
        if (v.get_string().get(out.url)) return std::nullopt;
      } else if (key == "finalize") {
        if (v.get_string().get(out.finalize)) return std::nullopt;
      } else if (key == "certificate") {
        if (v.get_string().get(out.certificate)) return std::nullopt;
      } else if (key == "token") {
        if (v.get_string().get(out.token)) return std::nullopt;
      } else if (key == "expires" || key == "validated") {
        std::string_view s;
        if (v.get_string().get(s)) return std::nullopt;
        const auto t = parse_rfc3339(s);
        if (!t) return std::nullopt;
        (key == "expires" ? out.expires : out.validated) = t;
      } else if (key == "error") {
        if (!read_error(v, out.error)) return std::nullopt;
      } else if (key == "authorizations") {
        simdjson::ondemand::array arr;
        if (v.get_array().get(arr)) return std::nullopt;
        out.authorization_count = 0;
        out.first_authorization = {};
        for (auto element : arr) {
          std::string_view s;
          if (element.get_string().get(s)) return std::nullopt;
          if (out.authorization_count++ == 0) out.first_authorization = s;
        }
      } else if (key == "challenges") {
        simdjson::ondemand::array arr;
        if (v.get_array().get(arr)) return std::nullopt;
        out.challenge_count = 0;
        out.challenges = {};
        for (auto element : arr) {
          simdjson::ondemand::object c;
          if (element.get_object().get(c)) return std::nullopt;
          challenge_ref ref;
          if (!read_challenge(c, ref)) return std::nullopt;
          if (out.challenge_count < max_kept_challenges) out.challenges[out.challenge_count] = ref;
          ++out.challenge_count;
        }
      }
    }
    if (!json_.at_end()) return std::nullopt;
    return out;
  }

 private:
  // A challenge inside an authorization: the fields above, as strict as the object's own.
  static bool read_challenge(simdjson::ondemand::object c, challenge_ref& out) {
    for (auto field : c) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return false;
      simdjson::ondemand::value v;
      if (field.value().get(v)) return false;
      if (key == "type") {
        if (v.get_string().get(out.type)) return false;
      } else if (key == "url") {
        if (v.get_string().get(out.url)) return false;
      } else if (key == "status") {
        if (v.get_string().get(out.status)) return false;
      } else if (key == "token") {
        if (v.get_string().get(out.token)) return false;
      } else if (key == "error") {
        if (!read_error(v, out.error)) return false;
      }
    }
    return true;
  }

  // An `error` member (RFC 8555 §7.1.3, §7.1.5): a problem document, or the body is unusable.
  static bool read_error(simdjson::ondemand::value v, std::optional<problem>& out) {
    simdjson::ondemand::object e;
    if (v.get_object().get(e)) return false;
    problem p;
    if (!detail::read_problem(e, p)) return false;
    out = p;
    return true;
  }

  certretry::detail::json_reader json_;
};

/// RFC 9773 §4.2: the window in which the CA suggests renewing, and why.
///
/// Thread safety: views into the reader's buffer: valid until its next read; read them on the
/// reader's thread.
struct renewal_info {
  time_point window_start{};           ///< when the CA suggests renewing from
  time_point window_end{};             ///< always after window_start
  std::string_view explanation_url{};  ///< a page explaining the window, if the server gave one
};

/// Reads renewalInfo bodies. Errors: body_too_large, body_not_json (also trailing bytes),
/// body_missing_field (no suggestedWindow, start or end), body_wrong_type (a field of the wrong
/// type, a timestamp that is not RFC 3339, or end <= start, which §4.2 calls invalid). When
/// `why` is given, it receives a sentence saying which.
///
/// Thread safety: reuses one parse buffer: part of one machine, never shared between threads.
class renewal_info_reader {
 public:
  /// A reader refusing bodies over `max_body_bytes`.
  explicit renewal_info_reader(std::size_t max_body_bytes = default_max_body_bytes)
      : json_(max_body_bytes) {}

  /// The body limit.
  std::size_t max_bytes() const noexcept { return json_.max_bytes(); }

  /// The renewalInfo in `body`, or why not.
  result<renewal_info> read(std::string_view body, std::string* why = nullptr) {
    const auto fail = [why](errc e, const char* text) -> result<renewal_info> {
      if (why) *why = text;
      return e;
    };
    auto doc = json_.open(body);
    if (!doc) {
      return fail(
          doc.assume_error() == errc::body_too_large ? errc::body_too_large : errc::body_not_json,
          doc.assume_error() == errc::body_too_large ? "renewalInfo body is over the size limit"
                                                     : "renewalInfo body is not JSON");
    }
    // A well-formed value of another type is the wrong type; anything else is not JSON.
    simdjson::ondemand::json_type type;
    if ((*doc.assume_value()).type().get(type))
      return fail(errc::body_not_json, "renewalInfo body is not JSON");
    if (type != simdjson::ondemand::json_type::object)
      return fail(errc::body_wrong_type, "renewalInfo body is not a JSON object");
    simdjson::ondemand::object obj;
    if ((*doc.assume_value()).get_object().get(obj))
      return fail(errc::body_not_json, "renewalInfo body is not JSON");
    bool have_window = false;
    std::optional<time_point> start, end;
    renewal_info out;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key))
        return fail(errc::body_not_json, "renewalInfo body is not JSON");
      simdjson::ondemand::value v;
      if (field.value().get(v)) return fail(errc::body_not_json, "renewalInfo body is not JSON");
      if (key == "suggestedWindow") {
        simdjson::ondemand::object w;
        if (v.get_object().get(w))
          return fail(errc::body_wrong_type, "suggestedWindow is not an object");
        have_window = true;
        start.reset();
        end.reset();
        for (auto f : w) {
          std::string_view k, s;
          if (f.unescaped_key().get(k))
            return fail(errc::body_not_json, "renewalInfo body is not JSON");
          if (k != "start" && k != "end") continue;
          if (f.value().get_string().get(s))
            return fail(errc::body_wrong_type, "suggestedWindow start or end is not a string");
          const auto t = parse_rfc3339(s);
          if (!t)
            return fail(errc::body_wrong_type,
                        "suggestedWindow start or end is not an RFC 3339 timestamp");
          (k == "start" ? start : end) = t;
        }
      } else if (key == "explanationURL") {
        if (v.get_string().get(out.explanation_url))
          return fail(errc::body_wrong_type, "explanationURL is not a string");
      }
    }
    if (!json_.at_end())
      return fail(errc::body_not_json, "renewalInfo body has bytes after the JSON object");
    if (!have_window) return fail(errc::body_missing_field, "renewalInfo has no suggestedWindow");
    if (!start || !end) return fail(errc::body_missing_field, "suggestedWindow lacks start or end");
    if (*end <= *start)
      return fail(errc::body_wrong_type, "suggestedWindow end is not after its start");
    out.window_start = *start;
    out.window_end = *end;
    return out;
  }

 private:
  certretry::detail::json_reader json_;
};

}  // namespace certretry::acme
