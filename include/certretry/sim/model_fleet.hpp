// certretry/sim/model_fleet.hpp — a fleet of certificates renewing against one of the server
// models of testing/ (the TPP model, the ACME model), each renewal a chain of the library's own
// machines, on the event engine.
//
// The async-CA fleet (fleet.hpp) has a model written for the engine: it answers a request when
// the request arrives and schedules issuance as events. The TPP and ACME models are transports
// on a virtual clock instead (send(request) -> response, then the clock moves on by the round
// trip, and by any WorkToDoTimeout hold). Here one such server serves the whole fleet: before
// each call the fleet sets the server's clock to the moment the request is sent, the server
// answers and moves its clock past the round trip, and the response is delivered at that time.
// The server's state (enrollments, orders, nonces) is shared by every certificate, as on a real
// server; each certificate's draws come from its own streams (the models seed them from the DN
// or the order number), so one certificate's figures do not depend on the others' timing.
//
// A renewal is a chain of stages (for ACME: the finalize, then the order's polling; for TPP: the
// enrollment). The client says which machine runs each stage (model_client::stage); a stage
// that ends still_pending is run again after the caller's re-enqueue delay (and never before the
// outcome's not_before), as a caller that comes back later would; any other outcome but issued
// or completed fails the renewal (needs_person is counted apart: no retry can fix it).
//
// Accounting as in fleet.hpp: a request is a retry when the reply before it was a 429, a 5xx, a
// 408 or a transport error; the others are needed; amplification = sent / needed.
#pragma once

#include "certretry/backoff/retry_after.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"
#include "certretry/machine/erased.hpp"
#include "certretry/sim/engine.hpp"
#include "certretry/sim/fleet.hpp"
#include "certretry/sim/stats.hpp"
#include "certretry/testing/scripted.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace certretry::sim {

/// How one stage of a renewal ended, handed to the next stage: its outcome, the last nonce a
/// signed ACME machine holds (so the next one need not fetch one) and the Retry-After of its
/// last reply (so a poller started next waits for it).
/// Thread safety: a value; not shared.
struct stage_end {
  outcome result;                       ///< the stage's machine's outcome
  std::string nonce;                    ///< the last unused nonce it holds (ACME), or empty
  std::optional<duration> retry_after;  ///< its last reply's valid Retry-After
  std::string created;  ///< the URL of what this or an earlier stage created (a new order's)
};

namespace detail {

// A machine behind one interface, so that a chain may mix machine types, and how it ended.
class fleet_machine : public erased_machine {
 public:
  virtual stage_end end(time_point now) = 0;
};

template <machine M>
class fleet_machine_of final : public erased<M, fleet_machine> {
 public:
  using erased<M, fleet_machine>::erased;
  stage_end end(time_point now) override {
    M& m = this->inner();
    stage_end e;
    e.result = m.take_outcome();
    if constexpr (requires { m.nonce(); }) e.nonce.assign(m.nonce());
    if constexpr (requires { m.order_url(); }) e.created.assign(m.order_url());
    if constexpr (requires { m.reply(); }) {
      const response& r = m.reply();
      if (const auto v = find_header(r.headers, "Retry-After"))
        if (const auto ra = parse_retry_after(*v, now)) e.retry_after = ra.value();
    }
    return e;
  }
};

}  // namespace detail

/// One stage's machine, type-erased (make_fleet_machine).
using fleet_machine_ptr = std::unique_ptr<detail::fleet_machine>;

/// Wraps a machine for a model_client's stage.
template <machine M>
fleet_machine_ptr make_fleet_machine(M m) {
  return std::make_unique<detail::fleet_machine_of<M>>(std::move(m));
}

/// What a client does for one certificate, stage by stage.
/// Thread safety: a value of functions; the fleet calls them from its one thread.
template <class Server>
struct model_client {
  std::string name = "certretry";  ///< the policy's label in tables and charts
  /// Before the certificate's first stage: sets the certificate up on the server (a TPP object
  /// with its prior state, say).
  std::function<void(Server&, std::uint64_t cert)> prepare;
  /// The machine of stage `k` for certificate `cert`; `before` is how stage k-1 ended (nullptr
  /// for stage 0) and `again` how stage k itself last ended when it is run again after
  /// still_pending (nullptr the first time: a TPP client resumes the enrollment it names).
  /// nullptr: the renewal is complete (the certificate is issued).
  std::function<fleet_machine_ptr(std::uint64_t cert, std::uint32_t k, const stage_end* before,
                                  const stage_end* again, splitmix64 rng)>
      stage;
  /// The caller's re-enqueue after still_pending.
  duration requeue_after = std::chrono::minutes{1};
};

/// A fleet renewing against `Server` (a transport on a virtual_clock: testing/tpp_server.hpp,
/// testing/acme/server.hpp). Figures in the async fleet's fleet_result (the async-CA fields
/// stay zero).
/// Thread safety: one fleet per thread; run() once.
template <class Server>
class model_fleet {
 public:
  /// A fleet of `plan`'s certificates, each renewed by `client`, against the server that
  /// `make_server` builds on the fleet's clock.
  model_fleet(renewal_plan plan, model_client<Server> client, run_options run,
              std::function<Server(virtual_clock&)> make_server)
      : plan_(plan),
        client_(std::move(client)),
        run_(run),
        eng_(sim_epoch),
        clock_(sim_epoch),
        server_(make_server(clock_)),
        source_(plan_, run.seed) {
    result_.policy = client_.name;
    result_.certificates = plan_.certificates;
    result_.tl = timeline(sim_epoch, run_.bin);
    result_.renewal_window = plan_.over;
  }

  /// Called with the fraction done, every 2^20 events.
  void on_progress(std::function<void(double)> f) { progress_ = std::move(f); }
  /// Called with every request and response (tests).
  void on_trace(std::function<void(const trace_entry&)> f) { trace_ = std::move(f); }

  /// Runs the fleet until run_options::deadline and returns its figures.
  fleet_result run() {
    if (plan_.certificates > 0) eng_.at(sim_epoch + next_renewal(), 0, ev_source);
    const time_point end = sim_epoch + run_.deadline;
    detail::run_fleet_engine(
        eng_, end, [this](const sim_event& e) { dispatch(e); }, progress_,
        [this] { return detail::fleet_fraction(eng_.now(), run_.deadline, result_); });
    for (const slot& c : slots_)
      if (c.live) {
        ++result_.pending_at_deadline;
        result_.unfinished_requests += c.chain_needed;
        result_.requests_per_certificate.add(c.requests);
      }
    result_.events = eng_.processed();
    if (have_first_) result_.span = last_response_ - first_request_;
    return std::move(result_);
  }

  /// Renewals that ended needing a person (counted in `failed` too).
  std::uint64_t needs_person() const noexcept { return needs_person_; }
  /// The shared server, for its counters.
  Server& server() noexcept { return server_; }

 private:
  enum ev : std::uint32_t { ev_source = 1, ev_respond, ev_wake, ev_requeue };

  struct slot {
    std::uint64_t cert = 0;
    bool live = false;
    time_point renewal{};
    std::uint32_t stage = 0;
    std::uint32_t machines = 0;
    fleet_machine_ptr m;
    std::optional<stage_end> before;  // how the previous stage ended
    std::optional<stage_end> again;   // how this stage ended still_pending
    result<response> reply{response{}};
    std::uint32_t requests = 0, chain_needed = 0, rate_limited = 0;
    bool last_failed = false;
  };

  duration next_renewal() {
    if (!next_) next_ = source_.next();
    return *next_;
  }

  void dispatch(const sim_event& e) {
    switch (e.what) {
      case ev_source: return on_source();
      case ev_respond: return on_respond(e.who);
      case ev_wake: return on_wake(e.who);
      case ev_requeue: return start_stage(e.who);
      default: return;
    }
  }

  void on_source() {
    const std::uint64_t cert = source_.emitted() - 1;
    next_.reset();
    ++result_.started;
    std::uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    slots_[s] = slot{};
    slots_[s].cert = cert;
    slots_[s].live = true;
    slots_[s].renewal = eng_.now();
    result_.peak_in_flight =
        std::max<std::uint64_t>(result_.peak_in_flight, slots_.size() - free_.size());
    if (client_.prepare) client_.prepare(server_, cert);
    start_stage(s);
    if (!source_.done()) eng_.at(sim_epoch + next_renewal(), 0, ev_source);
  }

  void start_stage(std::uint32_t s) {
    slot& c = slots_[s];
    c.m =
        client_.stage(c.cert, c.stage, c.before ? &*c.before : nullptr,
                      c.again ? &*c.again : nullptr, machine_rng(run_.seed, c.cert, c.machines++));
    if (!c.m) return issued(s);
    drive(s, c.m->start(eng_.now()));
  }

  void drive(std::uint32_t s, action a) {
    slot& c = slots_[s];
    const time_point now = eng_.now();
    if (const auto* snd = std::get_if<send>(&a)) {
      if (!have_first_) {
        have_first_ = true;
        first_request_ = now;
      }
      ++result_.requests;
      ++c.requests;
      ++result_.tl.at(now).requests;
      if (c.last_failed)
        ++result_.retries;
      else
        ++c.chain_needed;
      if (trace_)
        trace_({false, now, c.cert, std::string(snd->request.method),
                std::string(snd->request.target), 0});
      // The server answers as the request arrives; its clock then stands at the reply's time.
      clock_ = virtual_clock{now};
      c.reply = server_.send(snd->request);
      eng_.at(std::max(clock_.now(), now), s, ev_respond);
    } else if (const auto* w = std::get_if<wait>(&a)) {
      eng_.after(w->delay, s, ev_wake);
    } else {
      stage_finished(s);
    }
  }

  void on_respond(std::uint32_t s) {
    slot& c = slots_[s];
    const time_point now = eng_.now();
    last_response_ = now;
    if (!c.reply) {
      c.last_failed = true;
      if (trace_) trace_({true, now, c.cert, {}, {}, 0});
      return drive(s, c.m->on_transport_error(now, c.reply.error()));
    }
    const int status = c.reply.value().status;
    c.last_failed = status == 429 || status >= 500 || status == 408;
    if (status == 429) {
      ++result_.rate_limited;
      ++c.rate_limited;
      ++result_.tl.at(now).rate_limited;
    } else if (status >= 500) {
      ++result_.unavailable;
    }
    if (trace_) trace_({true, now, c.cert, {}, {}, status});
    drive(s, c.m->on_response(now, c.reply.value().view()));
  }

  void on_wake(std::uint32_t s) { drive(s, slots_[s].m->on_wait_elapsed(eng_.now())); }

  void stage_finished(std::uint32_t s) {
    slot& c = slots_[s];
    const time_point now = eng_.now();
    stage_end e = c.m->end(now);
    c.m.reset();
    switch (e.result.kind) {
      case outcome_kind::issued:
      case outcome_kind::completed:
        // What an earlier stage created stays known until a later one creates something.
        if (e.created.empty() && c.before) e.created = std::move(c.before->created);
        c.before = std::move(e);
        c.again.reset();
        ++c.stage;
        return start_stage(s);
      case outcome_kind::still_pending: {
        // The caller comes back later and runs the stage again.
        time_point at = now + client_.requeue_after;
        if (e.result.not_before && *e.result.not_before > at) at = *e.result.not_before;
        c.again = std::move(e);
        eng_.at(at, s, ev_requeue);
        return;
      }
      case outcome_kind::needs_person: ++needs_person_; [[fallthrough]];
      default:
        ++result_.failed;
        result_.unfinished_requests += c.chain_needed;
        return release(s);
    }
  }

  void issued(std::uint32_t s) {
    slot& c = slots_[s];
    const time_point now = eng_.now();
    ++result_.issued;
    ++result_.tl.at(now).issued;
    result_.needed += c.chain_needed;
    result_.time_to_certificate.add((now - c.renewal).count());
    release(s);
  }

  void release(std::uint32_t s) {
    slot& c = slots_[s];
    result_.requests_per_certificate.add(c.requests);
    result_.max_rate_limited_per_certificate =
        std::max<std::uint64_t>(result_.max_rate_limited_per_certificate, c.rate_limited);
    c.m.reset();
    c.before.reset();
    c.again.reset();
    c.live = false;
    free_.push_back(s);
  }

  renewal_plan plan_;
  model_client<Server> client_;
  run_options run_;
  engine eng_;
  virtual_clock clock_;
  Server server_;
  renewal_source source_;
  std::optional<duration> next_;
  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_;
  fleet_result result_;
  std::uint64_t needs_person_ = 0;
  bool have_first_ = false;
  time_point first_request_{}, last_response_{};
  std::function<void(double)> progress_;
  std::function<void(const trace_entry&)> trace_;
};

}  // namespace certretry::sim
