// certretry/acme/new_order.hpp — new-order (RFC 8555 §7.4) with ARI's `replaces` (RFC 9773 §5)
// and the fallback that keeps renewals from failing forever (Boulder's 409 conflict:
// docs/sources.md#boulder-7385, docs/sources.md#le-community-ari-conflict).
//
// `replaces` is sent only when the directory advertises renewalInfo. When the server rejects the
// replacement claim (new_order_rule::fall_back: every server variant in docs/acme.md's decision
// table and any other 4xx refusal of the claim itself), the order is retried at once, once,
// without `replaces`, and a `fallback` event carries the server's type and detail. A bad nonce
// is retried with `replaces` kept; a rate limit waits for Retry-After and keeps it; an outage
// (5xx, network) backs off and keeps it; a second rejection after falling back fails: no loop.
//
// States: idle -> [fetching nonce ->] posting -> (waiting -> posting | finished)
#pragma once

#include "certretry/acme/exchange.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/text.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace certretry::acme {

/// What a new-order reply leads to (the decision table of docs/acme.md). badNonce never reaches
/// this table: the exchange retries it with the same payload before.
enum class new_order_rule : std::uint8_t {
  created,           ///< 2xx: the order exists (Location)
  fall_back,         ///< the `replaces` claim was refused: once more, without it
  second_rejection,  ///< refused again after falling back (or refused although none was sent)
  wait_retry_after,  ///< rateLimited / 429: wait, keep `replaces`
  back_off,          ///< serverInternal / 5xx: back off, keep `replaces`
  failed,            ///< any other refusal: the order itself is wrong
};

/// The rule's name, for transcripts and logs.
constexpr std::string_view to_string(new_order_rule r) noexcept {
  switch (r) {
    case new_order_rule::created: return "created";
    case new_order_rule::fall_back: return "fall back without replaces";
    case new_order_rule::second_rejection: return "failed: replacement refused again";
    case new_order_rule::wait_retry_after: return "wait for Retry-After, keep replaces";
    case new_order_rule::back_off: return "back off, keep replaces";
    case new_order_rule::failed: return "failed";
  }
  return "?";
}

/// p: the reply's problem document, if it had one. replaces_sent: the request carried
/// `replaces`. A 2xx without a problem is created; a 400 malformed to a request carrying
/// `replaces` falls back whatever its detail says; without a problem document, a 409 is a
/// refused claim (Posh-ACME falls back on any 409: docs/sources.md#posh-acme) and other statuses
/// are triaged by class.
constexpr new_order_rule decide_new_order(int status, const problem* p,
                                          bool replaces_sent) noexcept {
  if (status >= 200 && status <= 299) return new_order_rule::created;
  const problem none{};
  const problem& q = p ? *p : none;
  if (is_replacement_rejection(q, status))
    return replaces_sent ? new_order_rule::fall_back : new_order_rule::second_rejection;
  // Pebble 2.6 and later refuse a `replaces` naming another issuer with 400 malformed "parsing
  // ARI CertID failed: no known issuer matches the provided Authority Key Identifier" (no word
  // "replace": docs/sources.md#pebble-ari-malformed). A 400 malformed to an order that carried
  // the claim may be about the claim, so it is dropped once; the order without it fails on its
  // own if the order itself was malformed.
  if (replaces_sent && status == 400 && q.type_name == "malformed")
    return new_order_rule::fall_back;
  switch (classify(q, status)) {
    case problem_class::wait_retry_after: return new_order_rule::wait_retry_after;
    case problem_class::transient: return new_order_rule::back_off;
    default: return new_order_rule::failed;
  }
}

/// The inputs of new_order_machine: the newOrder URL, the identifiers and the optional members of
/// RFC 8555 §7.4 and RFC 9773 §5.
///
/// Thread safety: a plain value (the machine keeps its own copy): safe to share read-only between
/// threads.
struct new_order_options {
  /// the directory's newOrder URL (RFC 8555 §7.1.1)
  std::string new_order_url = "/acme/new-order";
  /// The "identifiers" array as JSON text (RFC 8555 §7.4), e.g.
  /// [{"type":"dns","value":"example.com"}].
  std::string identifiers_json = R"([{"type":"dns","value":"example.com"}])";
  /// The ARI CertID of the certificate this order replaces (RFC 9773 §5), if any.
  std::optional<std::string> replaces;
  /// Whether the directory has a `renewalInfo` member: `replaces` is sent only then (RFC 9773
  /// §5: clients SHOULD NOT send it to a server that does not advertise ARI). Set it from the
  /// directory; false by default, so that an unread directory never sends a claim a server
  /// without ARI may refuse.
  bool renewal_info_advertised = false;
  /// The certificate profile to issue under (the ACME profiles extension, which Let's Encrypt
  /// serves: the directory's meta.profiles names them, e.g. "classic", "tlsserver",
  /// "shortlived"; docs/sources.md#acme-profiles). Absent: the server's default.
  std::optional<std::string> profile{};
  /// The validity asked for (RFC 8555 §7.4 notBefore / notAfter, RFC 3339). Absent: the
  /// server's choice (Let's Encrypt refuses them; other CAs honour them).
  std::optional<time_point> not_before{};
  std::optional<time_point> not_after{};  ///< see not_before
  nonce_options nonce;                    ///< nonce handling
  error_backoff errors;                   ///< the wait after an error reply
  /// longer bodies are unreadable (body_too_large)
  std::size_t max_body_bytes = certretry::default_max_body_bytes;

  /// The values the machine refuses at start (errc::invalid_request_value).
  constexpr invalid_value check() const noexcept {
    if (profile) {
      if (profile->empty() || profile->size() > 64)
        return {"new_order_options.profile", "must be a name of 1 to 64 characters"};
      for (const char c : *profile)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
          return {"new_order_options.profile",
                  "must be printable ASCII without spaces (a name from the directory)"};
    }
    if (not_before && not_after && *not_after <= *not_before)
      return {"new_order_options.not_after", "must be after not_before"};
    return {};
  }
};

/// Creates an ACME order (RFC 8555 §7.4), with `replaces` (RFC 9773 §5) and its fallback when a
/// server refuses the claim; completes with the order's URL.
///
/// Thread safety: a machine is a value: one run each, driven by one thread at a time; it may move
/// to another thread between steps; never share one between threads.
template <schedule S = any_schedule, jitter J = any_jitter, random_source R = splitmix64,
          event_sink Sink = null_sink, retry_budget Budget = no_budget>
class new_order_machine : public detail::signed_machine<new_order_machine<S, J, R, Sink, Budget>, S,
                                                        J, R, Sink, Budget> {
  using base = detail::signed_machine<new_order_machine, S, J, R, Sink, Budget>;
  friend base;
  friend typename base::root;

 public:
  /// A newOrder machine with its options, policy, random source, sink and budget.
  new_order_machine(new_order_options options, backoff_policy<S, J> policy, R rng, Sink sink = {},
                    Budget budget = {})
      : base(std::move(options.nonce), policy, std::move(rng), std::move(sink),
             options.max_body_bytes, options.errors, std::move(budget)),
        options_(std::move(options)) {
    with_replaces_ = options_.replaces.has_value() && !options_.replaces->empty() &&
                     options_.renewal_info_advertised;
  }

  /// Whether the order was retried without `replaces`.
  bool fell_back() const noexcept { return fell_back_; }
  /// Whether the request outstanding (or the last one) carries `replaces`.
  bool sends_replaces() const noexcept { return with_replaces_; }
  /// The new order's URL (the Location of the 201), once created.
  std::string_view order_url() const noexcept {
    const auto loc = find_header(this->reply().headers, "Location");
    return loc ? *loc : std::string_view{};
  }

 private:
  action on_start(time_point now) {
    if (auto refused = this->refuse_at_start(
            now,
            this->request_values_problem("new_order_options.new_order_url", options_.new_order_url,
                                         "new_order_options.identifiers_json",
                                         options_.identifiers_json, json_kind::array, false)))
      return *refused;
    if (const invalid_value bad = options_.check())
      return this->refuse(now, errc::invalid_request_value, bad);
    return this->post(now, options_.new_order_url, payload());
  }

  const std::string& payload() {
    body_ = "{\"identifiers\":";
    body_ += options_.identifiers_json;
    if (options_.profile) {
      body_ += ",\"profile\":";
      certretry::detail::append_json_string(body_, *options_.profile);
    }
    if (options_.not_before)
      body_ += ",\"notBefore\":\"" + format_rfc3339(*options_.not_before) + '"';
    if (options_.not_after) body_ += ",\"notAfter\":\"" + format_rfc3339(*options_.not_after) + '"';
    if (with_replaces_) {
      body_ += ",\"replaces\":";
      certretry::detail::append_json_string(body_, *options_.replaces);
    }
    body_ += '}';
    return body_;
  }

  action on_acme_reply(time_point now, const response_view& r, const problem* p) {
    switch (decide_new_order(r.status, p, with_replaces_)) {
      case new_order_rule::created: return created(now, r);
      case new_order_rule::fall_back: {
        std::string& why = this->why_;
        why = "replaces refused: ";
        detail::describe_reply(why, r.status, p);
        this->kit_.report_verdict(now, r.status, {}, verdict::transient, why);
        this->kit_.report(now, event_kind::fallback, why);
        fell_back_ = true;
        with_replaces_ = false;
        this->payload_ = payload();
        return this->resend_now(now, why);
      }
      case new_order_rule::second_rejection: {
        std::string& why = this->why_;
        why = fell_back_ ? "refused again after falling back without replaces: "
                         : "replacement refused although no replaces was sent: ";
        detail::describe_reply(why, r.status, p);
        this->kit_.report_verdict(now, r.status, {}, verdict::permanent, why);
        return this->finish(now, outcome_kind::failed, errc::server_rejected, why);
      }
      default: return this->on_error_reply(now, r, p, "new-order");
    }
  }

  // RFC 8555 §7.4: a created order comes with its URL in Location and the order object as the
  // body. A 2xx without them (a captive portal's HTML page, a proxy's empty 200) is no order:
  // calling it created would lose the renewal; it fails naming what arrived.
  action created(time_point now, const response_view& r) {
    const auto location = r.header("Location");
    const auto order = objects_.read(r.body);
    if (location && !location->empty() && order && !order->status.empty())
      return this->succeed(now, r, "order created");
    std::string& why = this->why_;
    why = "new-order answered " + std::to_string(r.status);
    if (!location || location->empty()) why += " without a Location";
    if (!order || order->status.empty()) {
      why += location && !location->empty() ? " with a body" : " and a body";
      why += " that is not an order: ";
      const auto type = r.header("Content-Type");
      if (type) {
        certretry::detail::append_sanitized(why, *type, 64);
        why += ", ";
      }
      why += std::to_string(r.body.size()) + " bytes";
      if (!r.body.empty()) {
        why += " \"";
        certretry::detail::append_sanitized(why, r.body, 64);
        why += '"';
      }
    }
    this->kit_.report_verdict(now, r.status, {}, verdict::permanent, why);
    return this->finish(now, outcome_kind::failed, errc::server_rejected, why);
  }

  new_order_options options_;
  object_reader objects_{options_.max_body_bytes};
  std::string body_;
  bool with_replaces_ = false;
  bool fell_back_ = false;
};

static_assert(machine<new_order_machine<>>);

}  // namespace certretry::acme
