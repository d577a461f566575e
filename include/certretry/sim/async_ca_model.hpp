// certretry/sim/async_ca_model.hpp — an asynchronous CA (DigiCert- or Sectigo-like) as an
// event-driven server for the fleet simulator.
//
// Requests, by the profile's paths (async_ca/triage.hpp), plus a submit endpoint:
//
//   submit    POST  digicert /order/certificate/ssl_basic -> 201 {"id":N}
//                   sectigo  /ssl/v1/enroll                -> 200 {"sslId":N}
//                   others   /orders                       -> 201 {"id":N}     (model's choice)
//   status    GET   the profile's status path: pending until issued, then the profile's issued
//                   body (DigiCert: {"status":"issued","certificate":{"id":N}})
//   download  GET   the profile's download/collect path: the PEM once issued, else 404
//   ARI       GET   /acme/renewal-info/<CertID>: the fleet's suggested window, Retry-After 6 h
//                   (RFC 9773 §4.2; Boulder's 6 h)
//
// Issuance: an accepted order waits in a FIFO queue for one of `capacity` issuers, then takes a
// time drawn from `issuance` (exponential, log-normal or measured durations).
//
// Rate limits answer 429 before anything else is looked at: DigiCert documents 1000 requests per
// 5 minutes and 100 per 5 seconds per API key (dev.digicert.com, "Rate limits"), with the body
// {"errors":[{"code":"request_limit_exceeded",...}]} and no Retry-After. Each limit is a sliding
// log of the requests it accepted; a rejected request does not count. renewalInfo is exempt.
//
// Outage windows: capacity drops to 0 (issuance in progress pauses and resumes where it was) and
// every request is answered 503 after a synchronous 6 s timeout, as GlobalSign Atlas did on
// 2020-10-28 (status.globalsign.com/incidents/kyz2m2xrhqnq). A submit that times out is still
// queued: the client never learns its id, so it is abandoned work the CA issues anyway, as
// GlobalSign's queue of already timed-out requests did (`keeps_abandoned`; false drops abandoned
// work that has not started).
//
// Fault windows answer every request with a fixed status (a sustained 429, a 503) and an
// optional Retry-After.
#pragma once

#include "certretry/async_ca/triage.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/time.hpp"
#include "certretry/sim/distribution.hpp"
#include "certretry/sim/engine.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::sim {

/// A span of simulated time.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct time_window {
  duration from{};  ///< from the simulation's start
  duration to{};    ///< until, from the simulation's start
};

/// A rate limit per API key: at most `requests` per `per` (a sliding log).
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct rate_limit {
  std::uint32_t requests = 0;  ///< requests allowed per window
  duration per{};              ///< the sliding window
};

/// DigiCert's documented limits per API key.
inline const std::vector<rate_limit> digicert_rate_limits{{1000, std::chrono::minutes{5}},
                                                          {100, std::chrono::seconds{5}}};

/// A window in which the model answers every request with one status (a sustained 429, a 503).
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct fault_window {
  duration from{};                      ///< from the simulation's start
  duration to{};                        ///< until, from the simulation's start
  int status = 429;                     ///< the status answered
  std::optional<duration> retry_after;  ///< the Retry-After sent with it, if any
};

/// The simulated CA: its profile, issuance time, capacity, limits, outages and faults.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct async_ca_options {
  async_ca profile = async_ca::digicert;  ///< which CA's API the model speaks
  std::string ca_id = "ca1";              ///< Entrust's {ca}
  /// how long one issuance takes
  distribution issuance = distribution::lognormal(std::chrono::seconds{60}, 1.0);
  std::uint32_t capacity = 1000;                     ///< orders issued at once
  duration latency = std::chrono::milliseconds{50};  ///< network round trip per call
  std::vector<rate_limit> rate_limits;               ///< empty: none
  std::uint32_t api_keys = 1;                        ///< clients share keys round-robin
  /// the Retry-After sent with a rate limit's 429 (none by default, as DigiCert)
  std::optional<duration> rate_limit_retry_after;
  /// windows in which the CA is down (capacity 0, every request 503 after outage_timeout)
  std::vector<time_window> outages;
  /// how long an outage holds a request before its 503
  duration outage_timeout = std::chrono::seconds{6};
  std::vector<fault_window> faults;  ///< windows answered with a fixed status
  /// true: a timed-out submit's order is still issued (GlobalSign's queue)
  bool keeps_abandoned = true;
  /// ARI: every certificate's suggested window, and the renewalInfo Retry-After.
  time_window ari_window{};
  duration ari_retry_after = std::chrono::hours{6};  ///< the renewalInfo Retry-After
  std::uint64_t seed = 1;                            ///< the model's random seed
};

/// What the CA answered: kept until the response reaches the client, rendered then.
///
/// Thread safety: a plain value: one simulation's, on its thread.
struct ca_reply {
  /// What the body will say.
  enum class body : std::uint8_t {
    submitted,
    pending,
    issued,
    certificate,
    rate_limited,
    unavailable,
    fault,
    not_found,
    renewal_info,
  };
  int status = 200;                 ///< HTTP status
  body what = body::pending;        ///< what the body says
  std::uint64_t order = 0;          ///< the order it is about
  std::int64_t retry_after_s = -1;  ///< -1: none
  duration delay{};                 ///< time the server holds the request before answering
};

/// A rendered response, reused from one response to the next.
///
/// Thread safety: one simulation's: used on its thread only.
struct response_buffer {
  std::string body;                   ///< body bytes
  std::vector<header_field> headers;  ///< header fields
  int status = 0;                     ///< HTTP status
  /// A view for a machine's on_response().
  response_view view() const noexcept { return {status, headers, body}; }
};

/// What the model counted: requests and how it answered them.
///
/// Thread safety: a plain value: safe to read from several threads once the simulation has ended.
struct ca_counters {
  std::uint64_t requests = 0;             ///< requests received
  std::uint64_t submits_accepted = 0;     ///< orders created with an id the client learns
  std::uint64_t submits_timed_out = 0;    ///< queued during an outage, answered 503: abandoned
  std::uint64_t abandoned_by_client = 0;  ///< orders whose client gave up on them
  std::uint64_t abandoned_dropped = 0;    ///< abandoned orders dropped before issuance
  std::uint64_t issued = 0;               ///< issuances finished
  std::uint64_t issued_abandoned = 0;     ///< of which nobody will collect
  std::uint64_t rate_limited = 0;         ///< 429s from the limits
  std::uint64_t faulted = 0;              ///< answered by a fault window
  std::uint64_t outage_503 = 0;           ///< answered 503 by an outage
  std::uint64_t not_found = 0;            ///< answered 404 (an unknown order)
  std::uint64_t renewal_info = 0;         ///< renewalInfo requests
};

/// Event kinds the model schedules on the engine (the fleet routes them back to on_event).
inline constexpr std::uint32_t ca_event_issued = 0x100;
/// The engine event that ends an outage (capacity comes back).
inline constexpr std::uint32_t ca_event_restored = 0x101;

/// The simulated asynchronous CA (see the file's comment for what it answers).
///
/// Thread safety: one simulation's: it runs on the engine's thread, never shared.
class async_ca_model {
 public:
  /// A CA on engine `eng`, as `options` describe it.
  async_ca_model(engine& eng, async_ca_options options)
      : engine_(&eng),
        options_(std::move(options)),
        profile_(&profile_of(options_.profile)),
        rng_(options_.seed ^ 0x6361206d6f64656cULL) {
    std::sort(options_.outages.begin(), options_.outages.end(),
              [](const time_window& a, const time_window& b) { return a.from < b.from; });
    std::sort(options_.faults.begin(), options_.faults.end(),
              [](const fault_window& a, const fault_window& b) { return a.from < b.from; });
    if (options_.api_keys == 0) options_.api_keys = 1;
    keys_.resize(options_.api_keys);
    for (auto& k : keys_) k.logs.resize(options_.rate_limits.size());
    start_ = eng.now();
    for (const auto& o : options_.outages) eng.at(start_ + o.to, 0, ca_event_restored);
    submit_path_ = options_.profile == async_ca::digicert  ? "/order/certificate/ssl_basic"
                   : options_.profile == async_ca::sectigo ? "/ssl/v1/enroll"
                                                           : "/orders";
    if (options_.profile == async_ca::entrust)
      submit_path_ = "/v1/certificate-authorities/" + options_.ca_id + "/enrollments";
    status_ = split(profile_->status_path);
    if (!profile_->collect_path.empty()) collect_ = split(profile_->collect_path);
  }

  /// The options.
  const async_ca_options& options() const noexcept { return options_; }
  /// The profile the model speaks.
  const async_ca_profile& profile() const noexcept { return *profile_; }
  /// The submit endpoint's path.
  std::string_view submit_path() const noexcept { return submit_path_; }
  /// The field of the submit reply that carries the order id.
  std::string_view id_field() const noexcept {
    return options_.profile == async_ca::sectigo ? "sslId" : "id";
  }
  /// What the model counted so far.
  const ca_counters& counters() const noexcept { return counters_; }
  /// Orders accepted and not yet issued: waiting for an issuer or being issued.
  std::uint64_t backlog() const noexcept { return queued_ + in_service_; }
  /// Orders waiting for an issuer.
  std::uint64_t queued() const noexcept { return queued_; }
  /// Minimum requests for one certificate: submit, one status that says issued, the download
  /// where the profile has one.
  std::uint32_t minimum_requests() const noexcept { return collect_ ? 3u : 2u; }

  /// True when `t` is inside an outage window.
  bool in_outage(time_point t) const noexcept {
    const duration d = t - start_;
    for (const auto& o : options_.outages) {
      if (o.from > d) break;
      if (d < o.to) return true;
    }
    return false;
  }

  /// The CA receives `req` at the engine's current time from a client using API key `key`.
  ca_reply handle(const request_view& req, std::uint64_t key) {
    const time_point now = engine_->now();
    ++counters_.requests;
    const bool ari = req.target.starts_with(renewal_info_prefix);
    if (const fault_window* f = fault_at(now)) {
      ++counters_.faulted;
      return {f->status,
              ca_reply::body::fault,
              0,
              f->retry_after ? f->retry_after->count() / 1000 : -1,
              {}};
    }
    if (!ari && !admit(now, key)) {
      ++counters_.rate_limited;
      return {
          429,
          ca_reply::body::rate_limited,
          0,
          options_.rate_limit_retry_after ? options_.rate_limit_retry_after->count() / 1000 : -1,
          {}};
    }
    if (in_outage(now)) {
      ++counters_.outage_503;
      if (req.method == "POST" && req.target == submit_path_) {
        ++counters_.submits_timed_out;
        if (options_.keeps_abandoned) enqueue_anonymous();
      }
      return {503, ca_reply::body::unavailable, 0, -1, options_.outage_timeout};
    }
    if (ari) {
      ++counters_.renewal_info;
      return {200,
              ca_reply::body::renewal_info,
              0,
              std::chrono::duration_cast<std::chrono::seconds>(options_.ari_retry_after).count(),
              {}};
    }
    if (req.method == "POST" && req.target == submit_path_) {
      ++counters_.submits_accepted;
      const std::uint64_t id = create_order();
      return {
          options_.profile == async_ca::sectigo ? 200 : 201, ca_reply::body::submitted, id, -1, {}};
    }
    if (req.method == "GET") {
      if (collect_) {
        if (const auto id = match(*collect_, req.target)) {
          order* o = find(*id);
          if (!o || o->state != order_state::issued) return not_found();
          release(*id);
          return {200, ca_reply::body::certificate, *id, -1, {}};
        }
      }
      if (const auto id = match(status_, req.target)) {
        order* o = find(*id);
        if (!o) return not_found();
        if (o->state != order_state::issued) return {200, ca_reply::body::pending, *id, -1, {}};
        if (!collect_) release(*id);  // the certificate travels in this reply
        return {200, ca_reply::body::issued, *id, -1, {}};
      }
    }
    return not_found();
  }

  /// A client gave up on an order it knew (it will submit a new one, or stop).
  void abandon(std::uint64_t id) {
    order* o = find(id);
    if (!o || o->abandoned) return;
    o->abandoned = true;
    ++counters_.abandoned_by_client;
    if (o->state == order_state::issued) {
      release(id);
    } else if (o->state == order_state::queued && !options_.keeps_abandoned) {
      o->state = order_state::dropped;  // skipped when it reaches the head of the queue
      --queued_;
      ++counters_.abandoned_dropped;
    }
  }

  /// Issuance finished, or an outage ended.
  void on_event(const sim_event& e) {
    if (e.what == ca_event_issued) {
      --in_service_;
      ++counters_.issued;
      if (e.who == anonymous_slot) {
        ++counters_.issued_abandoned;
      } else {
        order& o = orders_[e.who];
        o.state = order_state::issued;
        if (o.abandoned) {
          ++counters_.issued_abandoned;
          release(id_of(e.who));
        }
      }
    }
    start_waiting();
  }

  /// Writes the response a reply stands for.
  void render(const ca_reply& r, response_buffer& out) const {
    out.status = r.status;
    out.headers.clear();
    out.body.clear();
    if (r.retry_after_s >= 0)
      out.headers.push_back({"Retry-After", std::to_string(r.retry_after_s)});
    char num[24];
    const auto id_text = [&](std::uint64_t id) {
      const auto res = std::to_chars(num, num + sizeof num, id);
      return std::string_view(num, static_cast<std::size_t>(res.ptr - num));
    };
    switch (r.what) {
      case ca_reply::body::submitted:
        out.body = "{\"";
        out.body += id_field();
        out.body += "\":";
        out.body += id_text(r.order);
        out.body += '}';
        return;
      case ca_reply::body::pending: out.body = pending_body(); return;
      case ca_reply::body::issued:
        switch (profile_->collect) {
          case collect_kind::by_certificate_id:
            out.body = "{\"status\":\"issued\",\"certificate\":{\"id\":";
            out.body += id_text(r.order);
            out.body += "}}";
            return;
          case collect_kind::by_order_id: out.body = "{\"status\":\"Issued\"}"; return;
          case collect_kind::in_status_body:
            out.body = "{\"status\":\"issued\",\"";
            out.body += profile_->certificate_field;
            out.body += "\":\"-----BEGIN CERTIFICATE-----\\nsim-";
            out.body += id_text(r.order);
            out.body += "\\n-----END CERTIFICATE-----\\n\"}";
            return;
        }
        return;
      case ca_reply::body::certificate:
        out.body = "-----BEGIN CERTIFICATE-----\nsim-";
        out.body += id_text(r.order);
        out.body += "\n-----END CERTIFICATE-----\n";
        return;
      case ca_reply::body::rate_limited:
        out.body =
            R"({"errors":[{"code":"request_limit_exceeded","message":"request limit exceeded"}]})";
        return;
      case ca_reply::body::unavailable:
        out.body = R"({"errors":[{"code":"service_unavailable","message":"timed out"}]})";
        return;
      case ca_reply::body::fault:
        out.body = r.status == 429 ? R"({"errors":[{"code":"request_limit_exceeded"}]})"
                                   : R"({"errors":[{"code":"service_unavailable"}]})";
        return;
      case ca_reply::body::not_found:
        out.body = R"({"errors":[{"code":"not_found","message":"no such order"}]})";
        return;
      case ca_reply::body::renewal_info:
        out.body = "{\"suggestedWindow\":{\"start\":\"";
        out.body += format_rfc3339(start_ + options_.ari_window.from);
        out.body += "\",\"end\":\"";
        out.body += format_rfc3339(start_ + options_.ari_window.to);
        out.body += "\"}}";
        return;
    }
  }

  /// The path of renewalInfo requests (ARI).
  static constexpr std::string_view renewal_info_prefix = "/acme/renewal-info/";

 private:
  enum class order_state : std::uint8_t { free, queued, in_service, issued, dropped };
  struct order {
    std::uint32_t gen = 0;
    order_state state = order_state::free;
    bool abandoned = false;
  };
  // A queue entry: a known order, or a run of anonymous (timed-out) submits.
  struct entry {
    std::uint32_t slot = 0;
    std::uint32_t anonymous = 0;  // > 0: this many anonymous orders
  };
  struct pattern {
    std::string prefix, suffix;
  };
  struct key_state {
    std::vector<std::deque<time_point>> logs;  // one sliding log per limit
  };
  static constexpr std::uint32_t anonymous_slot = 0xffffffffu;

  // A profile path as the text before and after its {id} (or {cert_id}), {ca} filled in.
  pattern split(std::string_view path) const {
    std::string expanded(path);
    if (const auto ca = expanded.find("{ca}"); ca != std::string::npos)
      expanded.replace(ca, 4, options_.ca_id);
    for (const std::string_view key : {std::string_view{"{id}"}, std::string_view{"{cert_id}"}})
      if (const auto at = expanded.find(key); at != std::string::npos)
        return {expanded.substr(0, at), expanded.substr(at + key.size())};
    return {expanded, ""};
  }
  static std::optional<std::uint64_t> match(const pattern& p, std::string_view target) {
    if (target.size() <= p.prefix.size() + p.suffix.size() || !target.starts_with(p.prefix) ||
        !target.ends_with(p.suffix))
      return std::nullopt;
    const std::string_view mid =
        target.substr(p.prefix.size(), target.size() - p.prefix.size() - p.suffix.size());
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(mid.data(), mid.data() + mid.size(), v);
    if (ec != std::errc{} || end != mid.data() + mid.size()) return std::nullopt;
    return v;
  }

  std::string_view pending_body() const noexcept {
    switch (options_.profile) {
      case async_ca::sectigo: return R"({"status":"Applied"})";
      case async_ca::entrust: return R"({"status":"PROCESSING"})";
      case async_ca::globalsign: return R"({"status":"processing"})";
      default: return R"({"status":"pending"})";
    }
  }

  const fault_window* fault_at(time_point t) const noexcept {
    const duration d = t - start_;
    for (const auto& f : options_.faults) {
      if (f.from > d) break;
      if (d < f.to) return &f;
    }
    return nullptr;
  }

  bool admit(time_point now, std::uint64_t key) {
    if (options_.rate_limits.empty()) return true;
    key_state& k = keys_[key % keys_.size()];
    for (std::size_t i = 0; i < options_.rate_limits.size(); ++i) {
      const rate_limit& l = options_.rate_limits[i];
      auto& log = k.logs[i];
      while (!log.empty() && log.front() + l.per <= now) log.pop_front();
      if (log.size() >= l.requests) return false;
    }
    for (auto& log : k.logs) log.push_back(now);
    return true;
  }

  ca_reply not_found() {
    ++counters_.not_found;
    return {404, ca_reply::body::not_found, 0, -1, {}};
  }

  // Order ids: slot + 1 in the low 32 bits, the slot's generation above, so a stale id is 404.
  std::uint64_t id_of(std::uint32_t slot) const noexcept {
    return (static_cast<std::uint64_t>(orders_[slot].gen) << 32) | (std::uint64_t{slot} + 1);
  }
  order* find(std::uint64_t id) noexcept {
    const std::uint64_t low = id & 0xffffffffu;
    if (low == 0 || low > orders_.size()) return nullptr;
    order& o = orders_[low - 1];
    if (o.state == order_state::free || o.gen != static_cast<std::uint32_t>(id >> 32))
      return nullptr;
    return &o;
  }
  void release(std::uint64_t id) {
    const auto slot = static_cast<std::uint32_t>((id & 0xffffffffu) - 1);
    order& o = orders_[slot];
    o.state = order_state::free;
    ++o.gen;
    free_.push_back(slot);
  }

  std::uint64_t create_order() {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(orders_.size());
      orders_.emplace_back();
    }
    order& o = orders_[slot];
    o.state = order_state::queued;
    o.abandoned = false;
    queue_.push_back({slot, 0});
    ++queued_;
    start_waiting();
    return id_of(slot);
  }

  void enqueue_anonymous() {
    if (!queue_.empty() && queue_.back().anonymous > 0 && queue_.back().anonymous < UINT32_MAX)
      ++queue_.back().anonymous;
    else
      queue_.push_back({0, 1});
    ++queued_;
    start_waiting();
  }

  // Starts waiting orders while issuers are free and the CA is up.
  void start_waiting() {
    const time_point now = engine_->now();
    if (in_outage(now)) return;
    while (in_service_ < options_.capacity && !queue_.empty()) {
      entry& head = queue_.front();
      std::uint32_t who;
      if (head.anonymous > 0) {
        who = anonymous_slot;
        if (--head.anonymous == 0) queue_.pop_front();
      } else {
        who = head.slot;
        queue_.pop_front();
        order& o = orders_[who];
        if (o.state == order_state::dropped) {
          release(id_of(who));
          continue;  // already taken off queued_
        }
        o.state = order_state::in_service;
      }
      --queued_;
      ++in_service_;
      engine_->at(finish_time(now, options_.issuance.sample(rng_)), who, ca_event_issued);
    }
  }

  // When work of length `work` started at `t0` finishes, outages pausing it.
  time_point finish_time(time_point t0, duration work) const noexcept {
    time_point t = t0;
    for (const auto& o : options_.outages) {
      const time_point from = start_ + o.from, to = start_ + o.to;
      if (to <= t) continue;
      if (from >= t + work) break;
      if (from > t) work -= from - t;
      t = to;
    }
    return t + work;
  }

  engine* engine_;
  async_ca_options options_;
  const async_ca_profile* profile_;
  splitmix64 rng_;
  time_point start_{};
  std::string submit_path_;
  pattern status_;
  std::optional<pattern> collect_;
  std::vector<order> orders_;
  std::vector<std::uint32_t> free_;
  std::deque<entry> queue_;
  std::uint64_t queued_ = 0;
  std::uint64_t in_service_ = 0;
  std::vector<key_state> keys_;
  ca_counters counters_;
};

}  // namespace certretry::sim
