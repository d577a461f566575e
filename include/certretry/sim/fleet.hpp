// certretry/sim/fleet.hpp — a fleet of certificates renewing against an asynchronous CA, each
// driven by the library's own machines through their sans-IO interface, on the event engine.
//
// A certificate's renewal: [ARI: acme::ari_machine asks renewalInfo and picks a time] ->
// submit (sim::order_submitter, the poll machine over the submit triage) -> poll
// (async_ca_poll_machine) until issued. When a machine ends still_pending the caller's re-enqueue
// applies: after `requeue_after` (and never before the outcome's not_before) the client polls
// the same order again (`resume`), or abandons it and submits a new one (`resubmit`, what the
// GlobalSign incident's callers did). Certificates still in flight at the deadline are counted.
//
// Accounting: every request is answered (the model never drops one) and then either ends the
// machine or leads to the next request, a wait, or the re-enqueue; a request is *needed* when it
// is not a retry after a failure (429, 5xx, timeout) and belongs to the order chain that
// produced the certificate. amplification = requests sent / requests needed.
//
// Memory: one slot per certificate in flight (its machines, its request in flight), the
// events scheduled, the CA's orders not yet collected and fixed-size statistics. A slot keeps its
// triages (their JSON parsers and strings) from one certificate to the next and rebinds them to
// each new order; its machines borrow them. So the parsers are allocated per slot, not per
// certificate.
#pragma once

#include "certretry/acme/ari.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"
#include "certretry/sim/async_ca_model.hpp"
#include "certretry/sim/engine.hpp"
#include "certretry/sim/fleet_budget.hpp"
#include "certretry/sim/stats.hpp"
#include "certretry/sim/submit.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace certretry::sim {

/// The simulation's time zero: a Wednesday, so RFC 3339 dates in renewalInfo look like dates.
inline constexpr time_point sim_epoch{
    std::chrono::sys_days{std::chrono::year{2025} / std::chrono::January / 1}};

/// How a fleet's renewal times are spread.
enum class renewal_spread : std::uint8_t {
  uniform,  ///< independent uniform times in [start, start + over)
  even,     ///< start + over * k / N
  at_once,  ///< all at start (a mass revocation without ARI)
};

/// When a fleet's certificates renew: how many, spread how, from when, over how long.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct renewal_plan {
  std::uint64_t certificates = 1000;                ///< certificates in the fleet
  renewal_spread spread = renewal_spread::uniform;  ///< how their renewal times are spread
  duration start{};                       ///< the first renewal, from the simulation's start
  duration over = std::chrono::hours{1};  ///< the span renewals are spread over
  /// With ARI, the times above are each client's renewalInfo check; it renews at the time it
  /// picks in the CA's window (async_ca_options::ari_window).
  bool ari = false;
  duration not_after = std::chrono::hours{24 * 90};  ///< from the simulation's start
};

/// What a client does after a run ends still_pending.
enum class on_pending : std::uint8_t {
  resume,    ///< poll the same order again
  resubmit,  ///< abandon the order and submit a new one
};

/// How every client of the fleet behaves: its backoff policy, what it does with still_pending, and
/// the budget it shares.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct client_policy {
  std::string name = "certretry";  ///< the policy's name, in reports
  /// the machines' backoff policy
  backoff_policy<any_schedule, any_jitter> backoff{any_schedule{schedules::certctl},
                                                   any_jitter{proportional_jitter{0.2}}};
  /// after still_pending: poll the same order again, or submit anew
  on_pending pending = on_pending::resume;
  /// The caller's re-enqueue after still_pending: requeue_after, times requeue_factor for each
  /// re-enqueue in a row that followed a failure, at most requeue_cap.
  duration requeue_after = std::chrono::minutes{1};
  double requeue_factor = 1.0;                   ///< growth per re-enqueue in a row after a failure
  duration requeue_cap = std::chrono::hours{1};  ///< the longest re-enqueue wait
  /// One budget for the whole fleet, shared by every machine; the caller also asks its retry
  /// budget (not adaptive throttling, which the machine asks before the request it sends) before
  /// it re-enqueues work whose last request failed (that is a retry too).
  budget_spec budget{};
};

/// How long a simulation runs and how it is measured.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct run_options {
  duration deadline = std::chrono::hours{24};       ///< the simulation stops here
  duration bin = std::chrono::seconds{60};          ///< timeline resolution
  duration peak_window = std::chrono::seconds{60};  ///< the window of the peak request rate
  std::uint64_t seed = 1;                           ///< the simulation's random seed
};

/// A request or response of one certificate, for tests that compare a run with a transcript.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct trace_entry {
  bool response = false;          ///< true: a response; false: a request
  time_point at{};                ///< when
  std::uint64_t certificate = 0;  ///< which certificate
  /// @{
  std::string method, target;  ///< request
  /// @}
  int status = 0;  ///< response
};

/// What a fleet simulation measured.
///
/// Thread safety: a plain value: safe to read from several threads once the simulation has ended.
struct fleet_result {
  std::string policy;                     ///< the policy's name
  std::uint64_t certificates = 0;         ///< certificates in the fleet
  std::uint64_t started = 0;              ///< renewals begun before the deadline
  std::uint64_t issued = 0;               ///< certificates issued
  std::uint64_t failed = 0;               ///< renewals that failed
  std::uint64_t pending_at_deadline = 0;  ///< renewals still pending at the deadline
  std::uint64_t requests = 0;             ///< issuance requests (submit, status, download)
  std::uint64_t needed = 0;   ///< requests the issued and pending renewals needed at least
  std::uint64_t retries = 0;  ///< requests after a failure
  std::uint64_t abandoned_requests = 0;   ///< needed-looking requests of abandoned orders
  std::uint64_t unfinished_requests = 0;  ///< needed-looking requests of failed or pending ones
  std::uint64_t ari_requests = 0;         ///< renewalInfo requests (ARI)
  std::uint64_t rate_limited = 0;         ///< 429s received
  std::uint64_t unavailable = 0;          ///< 5xx received
  ca_counters ca{};                       ///< what the CA model counted
  std::uint64_t backlog_max = 0;          ///< the largest backlog at the CA
  std::optional<duration> drain_time;     ///< last outage's end -> backlog 0
  std::uint64_t min_requests_per_certificate = 0;  ///< the fewest requests one certificate can take
  std::uint64_t max_rate_limited_per_certificate = 0;  ///< 429s one certificate received, at most
  histogram time_to_certificate;       ///< ms, renewal start -> certificate received
  histogram requests_per_certificate;  ///< requests per issued certificate
  timeline tl;                         ///< counts per time bin
  duration span{};                     ///< first request -> last response
  duration renewal_window{};           ///< the span of the renewal times
  std::uint64_t events = 0;            ///< engine events run
  std::uint64_t peak_in_flight = 0;    ///< certificates in flight at once, at most (memory)
  std::uint64_t budget_denied = 0;     ///< requests the fleet's budget withheld

  /// Issuance requests per certificate in the fleet.
  double calls_per_certificate() const {
    return issued ? static_cast<double>(requests) / static_cast<double>(issued) : 0.0;
  }
  /// Requests sent over requests needed: those that were neither a retry after a failure nor
  /// spent on an abandoned order (renewals still pending count what they needed so far).
  double amplification() const {
    const std::uint64_t n = needed + unfinished_requests;
    return n ? static_cast<double>(requests) / static_cast<double>(n) : 0.0;
  }
  /// Issuance requests per second, over the span from the first request to the last response.
  double mean_rate() const {
    const double s = std::chrono::duration<double>(span).count();
    return s > 0 ? static_cast<double>(requests) / s : 0.0;
  }
  /// The request rate if the same requests were spread evenly over the renewal window.
  double even_rate() const {
    const double s = std::chrono::duration<double>(renewal_window).count();
    return s > 0 ? static_cast<double>(requests) / s : 0.0;
  }
  /// Work abandoned: orders the CA holds that no client will collect.
  std::uint64_t work_abandoned() const noexcept {
    return ca.submits_timed_out + ca.abandoned_by_client;
  }
};

/// Draws N renewal times in increasing order, one at a time (memory O(1)).
///
/// Thread safety: one simulation's: used on its thread only.
class renewal_source {
 public:
  /// N renewal times of plan `p`, drawn from `seed`.
  renewal_source(const renewal_plan& p, std::uint64_t seed)
      : plan_(p), rng_(seed ^ 0x72656e6577616c73ULL) {}
  /// True once every renewal time has been drawn.
  bool done() const noexcept { return k_ >= plan_.certificates; }
  /// Renewal times drawn so far.
  std::uint64_t emitted() const noexcept { return k_; }
  /// The next renewal time (from the simulation's start); call while !done().
  duration next() {
    const std::uint64_t n = plan_.certificates;
    double f = 0;
    switch (plan_.spread) {
      case renewal_spread::at_once: f = 0; break;
      case renewal_spread::even: f = static_cast<double>(k_) / static_cast<double>(n); break;
      case renewal_spread::uniform:
        // Sorted uniforms: U(k) = 1 - (1 - U(k-1)) * V^(1 / (N - k + 1)).
        u_ = 1.0 -
             (1.0 - u_) * std::pow(1.0 - uniform_unit(rng_), 1.0 / static_cast<double>(n - k_));
        f = u_;
        break;
    }
    ++k_;
    const auto off = static_cast<std::int64_t>(f * static_cast<double>(plan_.over.count()));
    return plan_.start + duration{std::min<std::int64_t>(off, plan_.over.count())};
  }

 private:
  renewal_plan plan_;
  splitmix64 rng_;
  std::uint64_t k_ = 0;
  double u_ = 0;
};

/// A per-machine generator: a function of the run's seed, the certificate and the machine's
/// number, so one certificate's draws do not depend on the others.
inline splitmix64 machine_rng(std::uint64_t seed, std::uint64_t cert, std::uint32_t k) {
  splitmix64 mix{seed + (cert + 1) * 0x9e3779b97f4a7c15ULL +
                 std::uint64_t{k} * 0xd1b54a32d192ed03ULL};
  return splitmix64{mix()};
}

namespace detail {

// Runs `eng` to `end`, handing each event to `dispatch`; every 2^20 events tells `progress` (if
// set) how far the run is (`fraction()`).
template <class Dispatch, class Fraction>
void run_fleet_engine(engine& eng, time_point end, Dispatch&& dispatch,
                      const std::function<void(double)>& progress, Fraction&& fraction) {
  eng.run(end, [&](const sim_event& e) {
    dispatch(e);
    if (progress && (eng.processed() & 0xfffff) == 0) progress(fraction());
    return true;
  });
}

// How far a fleet's run is: the share of its time gone or of its renewals ended, the larger.
inline double fleet_fraction(time_point now, duration deadline, const fleet_result& r) {
  const double t = std::chrono::duration<double>(now - sim_epoch).count() /
                   std::chrono::duration<double>(deadline).count();
  const double d = r.certificates ? static_cast<double>(r.issued + r.failed) /
                                        static_cast<double>(r.certificates)
                                  : 1.0;
  return std::clamp(std::max(t, d), 0.0, 1.0);
}

}  // namespace detail

/// A fleet of asynchronous-CA clients against one simulated CA, on one virtual clock
/// (docs/polling-load.md).
///
/// Thread safety: single-threaded: one simulation per thread.
class async_fleet {
 public:
  /// The clients' backoff policy type.
  using policy_t = backoff_policy<any_schedule, any_jitter>;
  /// The shared budget's handle type.
  using budget_t = budget_ref<fleet_budget>;
  /// The machine that submits an order (borrowing its slot's triage).
  using submitter_t =
      poll_machine<order_submit_triage&, any_schedule, any_jitter, splitmix64, null_sink, budget_t>;
  /// The machine that polls an order (borrowing its slot's triage).
  using poller_t =
      poll_machine<async_ca_triage&, any_schedule, any_jitter, splitmix64, null_sink, budget_t>;
  /// The ARI machine (with renewal_plan::ari).
  using ari_t = acme::ari_machine<any_schedule, any_jitter, splitmix64, null_sink>;

  /// A fleet renewing as `plan` says against a CA as `ca` says, its clients behaving as `policy`
  /// says.
  async_fleet(renewal_plan plan, async_ca_options ca, client_policy policy, run_options run)
      : plan_(plan),
        policy_(std::move(policy)),
        run_(run),
        eng_(sim_epoch),
        ca_(eng_, with_seed(std::move(ca), run.seed)),
        source_(plan_, run.seed),
        budget_(policy_.budget),
        caller_rng_(run.seed ^ 0x63616c6c65722121ULL),
        up_(ca_.options().latency / 2),
        down_(ca_.options().latency - up_) {
    result_.policy = policy_.name;
    result_.certificates = plan_.certificates;
    result_.tl = timeline(sim_epoch, run_.bin);
    result_.min_requests_per_certificate = ca_.minimum_requests();
    result_.renewal_window =
        plan_.ari ? ca_.options().ari_window.to - ca_.options().ari_window.from : plan_.over;
    for (const auto& o : ca_.options().outages) last_outage_end_ = std::max(last_outage_end_, o.to);
  }

  /// Called with the fraction done, every 2^20 events.
  void on_progress(std::function<void(double)> f) { progress_ = std::move(f); }
  /// Called with every request and response (tests).
  void on_trace(std::function<void(const trace_entry&)> f) { trace_ = std::move(f); }

  /// Runs the simulation to the deadline (or until every renewal has ended) and returns what it
  /// measured.
  fleet_result run() {
    if (plan_.certificates > 0) eng_.at(sim_epoch + source_peek(), 0, ev_source);
    const time_point end = sim_epoch + run_.deadline;
    detail::run_fleet_engine(
        eng_, end, [this](const sim_event& e) { dispatch(e); }, progress_,
        [this] { return detail::fleet_fraction(eng_.now(), run_.deadline, result_); });
    for (const client& c : slots_)
      if (c.st != stage::free) {
        ++result_.pending_at_deadline;
        result_.unfinished_requests += c.chain_needed;
        result_.requests_per_certificate.add(c.requests);
        result_.max_rate_limited_per_certificate =
            std::max<std::uint64_t>(result_.max_rate_limited_per_certificate, c.rate_limited);
      }
    result_.ca = ca_.counters();
    result_.budget_denied = budget_.denied();
    result_.events = eng_.processed();
    if (have_first_) result_.span = last_response_ - first_request_;
    if (last_outage_end_ > duration::zero() && drained_at_)
      result_.drain_time = *drained_at_ - (sim_epoch + last_outage_end_);
    return std::move(result_);
  }

  /// The CA model.
  const async_ca_model& ca() const noexcept { return ca_; }

 private:
  enum ev : std::uint32_t { ev_source = 1, ev_arrive, ev_respond, ev_wake, ev_requeue, ev_renew };
  enum class stage : std::uint8_t {
    free,
    ari,
    renew_wait,
    submit,
    poll,
    requeue_submit,
    requeue_poll
  };

  // One certificate's renewal: set afresh each time a slot takes a certificate.
  struct renewal_state {
    std::uint64_t cert = 0;
    time_point renewal{};
    stage st = stage::free;
    std::string order;
    request_view req{};
    ca_reply reply{};
    std::uint32_t machines = 0;
    std::uint32_t chain_needed = 0;
    std::uint32_t requests = 0;
    std::uint32_t rate_limited = 0;
    std::uint32_t requeues = 0;  // re-enqueues in a row after a failure
    bool last_failed = false;
  };

  // A slot: the renewal it runs and what it keeps from one renewal to the next. It never moves
  // (slots_ is a deque): the request in flight points into its triages, which its machines
  // borrow (declared after them, the machines go first).
  struct client : renewal_state {
    std::optional<order_submit_triage> submit_triage;  // rebound to each order's body
    std::optional<async_ca_triage> poll_triage;        // rebound to each order
    std::optional<ari_t> ari;
    std::optional<submitter_t> submit;
    std::optional<poller_t> poll;
  };

  static async_ca_options with_seed(async_ca_options o, std::uint64_t seed) {
    o.seed ^= seed * 0x2545f4914f6cdd1dULL;
    return o;
  }

  duration source_peek() {
    if (!next_renewal_) next_renewal_ = source_.next();
    return *next_renewal_;
  }

  std::uint32_t allocate(std::uint64_t cert) {
    std::uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    client& c = slots_[s];
    static_cast<renewal_state&>(c) = renewal_state{};
    c.cert = cert;
    result_.peak_in_flight =
        std::max<std::uint64_t>(result_.peak_in_flight, slots_.size() - free_.size());
    return s;
  }

  void release(std::uint32_t s) {
    client& c = slots_[s];
    result_.requests_per_certificate.add(c.requests);
    result_.max_rate_limited_per_certificate =
        std::max<std::uint64_t>(result_.max_rate_limited_per_certificate, c.rate_limited);
    retire(c);
    c.st = stage::free;
    free_.push_back(s);
  }

  void dispatch(const sim_event& e) {
    switch (e.what) {
      case ev_source: return on_source();
      case ev_arrive: return on_arrive(e.who);
      case ev_respond: return on_respond(e.who);
      case ev_wake: return on_wake(e.who);
      case ev_requeue: return on_requeue(e.who);
      case ev_renew: return begin_renewal(e.who);
      case ca_event_issued:
      case ca_event_restored:
        ca_.on_event(e);
        note_backlog();
        return;
      default: return;
    }
  }

  void note_backlog() {
    const std::uint64_t b = ca_.backlog();
    result_.tl.backlog(eng_.now(), b);
    result_.backlog_max = std::max(result_.backlog_max, b);
    if (b == 0 && !drained_at_ && eng_.now() >= sim_epoch + last_outage_end_)
      drained_at_ = eng_.now();
  }

  void on_source() {
    const std::uint64_t cert = source_.emitted() - 1;
    next_renewal_.reset();
    ++result_.started;
    const std::uint32_t s = allocate(cert);
    if (plan_.ari)
      start_ari(s);
    else
      begin_renewal(s);
    if (!source_.done()) eng_.at(sim_epoch + source_peek(), 0, ev_source);
  }

  void start_ari(std::uint32_t s) {
    client& c = slots_[s];
    c.st = stage::ari;
    acme::ari_options o;
    o.renewal_info_url = std::string(async_ca_model::renewal_info_prefix);
    o.cert_id = "cert-" + std::to_string(c.cert);
    o.not_after = sim_epoch + plan_.not_after;
    o.wait_for_window = false;
    c.ari.emplace(std::move(o), acme::ari_error_policy(),
                  machine_rng(run_.seed, c.cert, c.machines++));
    drive(s, c.ari->start(eng_.now()));
  }

  void begin_renewal(std::uint32_t s) {
    client& c = slots_[s];
    c.renewal = eng_.now();
    start_submit(s);
  }

  void start_submit(std::uint32_t s) {
    client& c = slots_[s];
    c.st = stage::submit;
    c.submit.emplace(submit_triage(c), policy_.backoff,
                     machine_rng(run_.seed, c.cert, c.machines++), null_sink{}, share(budget_));
    drive(s, c.submit->start(eng_.now()));
  }

  // The slot's submit triage, for `c`'s certificate: made on the slot's first submit, then
  // rebound.
  order_submit_triage& submit_triage(client& c) {
    body_.assign(R"({"certificate":{"common_name":"host-)");
    char digits[24];
    body_.append(digits, std::to_chars(digits, digits + sizeof digits, c.cert).ptr);
    body_ += R"(.example.com","csr":"MIIBsim"}})";
    if (c.submit_triage)
      c.submit_triage->rebind(body_);
    else
      c.submit_triage.emplace(std::string(ca_.submit_path()), body_, std::string(ca_.id_field()));
    return *c.submit_triage;
  }

  // The slot's poll triage, for the order `c` holds: made on the slot's first poll, then rebound.
  async_ca_triage& poll_triage(client& c) {
    async_ca_order order{ca_.options().profile, c.order, ca_.options().ca_id};
    if (c.poll_triage)
      c.poll_triage->rebind(std::move(order));
    else
      c.poll_triage.emplace(std::move(order));
    return *c.poll_triage;
  }

  // Ends `c`'s machines; the slot keeps their triages.
  static void retire(client& c) {
    c.submit.reset();
    c.poll.reset();
    c.ari.reset();
  }

  void start_poll(std::uint32_t s) {
    client& c = slots_[s];
    c.st = stage::poll;
    c.poll.emplace(poll_triage(c), policy_.backoff, machine_rng(run_.seed, c.cert, c.machines++),
                   null_sink{}, share(budget_));
    drive(s, c.poll->start(eng_.now()));
  }

  template <class F>
  action step(client& c, F&& f) {
    switch (c.st) {
      case stage::ari: return f(*c.ari);
      case stage::submit: return f(*c.submit);
      case stage::poll: return f(*c.poll);
      default: return finish{outcome_kind::failed};
    }
  }

  void drive(std::uint32_t s, action a) {
    client& c = slots_[s];
    if (const auto* snd = std::get_if<send>(&a)) {
      c.req = snd->request;
      const time_point now = eng_.now();
      if (!have_first_) {
        have_first_ = true;
        first_request_ = now;
      }
      if (c.st == stage::ari) {
        ++result_.ari_requests;
      } else {
        ++result_.requests;
        ++c.requests;
        ++result_.tl.at(now).requests;
        if (c.last_failed)
          ++result_.retries;
        else
          ++c.chain_needed;
      }
      if (trace_)
        trace_({false, now, c.cert, std::string(c.req.method), std::string(c.req.target), 0});
      eng_.after_in_lane(0, up_, s, ev_arrive);
    } else if (const auto* w = std::get_if<wait>(&a)) {
      eng_.after(w->delay, s, ev_wake);
    } else {
      finished(s);
    }
  }

  void on_arrive(std::uint32_t s) {
    client& c = slots_[s];
    c.reply = ca_.handle(c.req, c.cert % ca_.options().api_keys);
    note_backlog();
    // Most replies leave at once: one lane keeps them in order; timeouts go by the heap.
    if (c.reply.delay == duration::zero())
      eng_.after_in_lane(1, down_, s, ev_respond);
    else
      eng_.after(c.reply.delay + down_, s, ev_respond);
  }

  void on_respond(std::uint32_t s) {
    client& c = slots_[s];
    const time_point now = eng_.now();
    last_response_ = now;
    ca_.render(c.reply, buffer_);
    const int status = buffer_.status;
    if (c.st != stage::ari) {
      c.last_failed = status == 429 || status >= 500 || status == 408;
      if (status == 429) {
        ++result_.rate_limited;
        ++c.rate_limited;
        ++result_.tl.at(now).rate_limited;
      } else if (status >= 500) {
        ++result_.unavailable;
      }
    }
    if (trace_) trace_({true, now, c.cert, {}, {}, status});
    const response_view v = buffer_.view();
    drive(s, step(c, [&](auto& m) { return m.on_response(now, v); }));
  }

  void on_wake(std::uint32_t s) {
    client& c = slots_[s];
    const time_point now = eng_.now();
    drive(s, step(c, [&](auto& m) { return m.on_wait_elapsed(now); }));
  }

  void on_requeue(std::uint32_t s) {
    client& c = slots_[s];
    // Work whose last request failed is a retry: the caller asks the fleet's budget first.
    if (c.last_failed && budget_.enabled()) {
      const admission a = budget_.admit_requeue(eng_.now(), caller_rng_);
      if (!a) return requeue_in(s, std::max(requeue_delay(c), a.retry_in));
    }
    if (c.st == stage::requeue_submit)
      start_submit(s);
    else
      start_poll(s);
  }

  // The caller's delay before re-enqueued work runs again.
  duration requeue_delay(client& c) {
    double f = 1.0;
    const auto after_ms = static_cast<double>(policy_.requeue_after.count());
    const auto cap_ms = static_cast<double>(policy_.requeue_cap.count());
    for (std::uint32_t i = 0; i < c.requeues && f * after_ms < cap_ms; ++i)
      f *= std::max(1.0, policy_.requeue_factor);
    if (c.last_failed)
      ++c.requeues;
    else
      c.requeues = 0;
    return std::min(
        policy_.requeue_cap,
        certretry::detail::saturate_ms(f * static_cast<double>(policy_.requeue_after.count())));
  }

  void requeue_in(std::uint32_t s, duration d) { eng_.after(d, s, ev_requeue); }

  void requeue(std::uint32_t s, stage next, const outcome& o) {
    client& c = slots_[s];
    c.st = next;
    time_point at = eng_.now() + requeue_delay(c);
    if (o.not_before && *o.not_before > at) at = *o.not_before;
    eng_.at(at, s, ev_requeue);
  }

  void finished(std::uint32_t s) {
    client& c = slots_[s];
    const time_point now = eng_.now();
    switch (c.st) {
      case stage::ari: {
        const outcome o = c.ari->take_outcome();
        c.ari.reset();
        c.st = stage::renew_wait;
        const time_point at = o.not_before.value_or(now);
        if (at <= now)
          begin_renewal(s);
        else
          eng_.at(at, s, ev_renew);
        return;
      }
      case stage::submit: {
        outcome o = c.submit->take_outcome();
        retire(c);
        if (o.kind == outcome_kind::issued) {
          c.order = std::move(o.certificate);
          return start_poll(s);
        }
        if (o.kind == outcome_kind::still_pending) return requeue(s, stage::requeue_submit, o);
        ++result_.failed;
        result_.unfinished_requests += c.chain_needed;
        return release(s);
      }
      case stage::poll: {
        const outcome o = c.poll->take_outcome();
        retire(c);
        if (o.kind == outcome_kind::issued) {
          ++result_.issued;
          ++result_.tl.at(now).issued;
          result_.needed += c.chain_needed;
          result_.time_to_certificate.add((now - c.renewal).count());
          return release(s);
        }
        if (o.kind == outcome_kind::still_pending) {
          if (policy_.pending == on_pending::resume) return requeue(s, stage::requeue_poll, o);
          abandon_order(c);
          return requeue(s, stage::requeue_submit, o);
        }
        ++result_.failed;
        result_.unfinished_requests += c.chain_needed;
        c.chain_needed = 0;
        abandon_order(c);
        return release(s);
      }
      default: return;
    }
  }

  void abandon_order(client& c) {
    std::uint64_t id = 0;
    std::from_chars(c.order.data(), c.order.data() + c.order.size(), id);
    ca_.abandon(id);
    note_backlog();
    result_.abandoned_requests += c.chain_needed;
    c.chain_needed = 0;
  }

  renewal_plan plan_;
  client_policy policy_;
  run_options run_;
  engine eng_;
  async_ca_model ca_;
  renewal_source source_;
  std::optional<duration> next_renewal_;
  fleet_budget budget_;
  splitmix64 caller_rng_;
  duration up_, down_;
  std::deque<client> slots_;
  std::vector<std::uint32_t> free_;
  std::string body_;  // the submit body being built
  response_buffer buffer_;
  fleet_result result_;
  duration last_outage_end_{};
  std::optional<time_point> drained_at_;
  bool have_first_ = false;
  time_point first_request_{}, last_response_{};
  std::function<void(double)> progress_;
  std::function<void(const trace_entry&)> trace_;
};

/// Runs one fleet simulation (async_fleet) and returns what it measured.
inline fleet_result simulate_fleet(const renewal_plan& plan, const async_ca_options& ca,
                                   const client_policy& policy, const run_options& run,
                                   std::function<void(double)> progress = {}) {
  async_fleet f{plan, ca, policy, run};
  if (progress) f.on_progress(std::move(progress));
  return f.run();
}

}  // namespace certretry::sim
