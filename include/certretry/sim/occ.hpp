// certretry/sim/occ.hpp — the AWS Architecture Blog's backoff experiment ("Exponential Backoff
// And Jitter", Marc Brooker, 2015; aws-samples/aws-arch-backoff-simulator) on the event engine,
// with the library's own poll machine and jitters as the clients.
//
// N clients each update one row once under optimistic concurrency: read the row's version, then
// write carrying it; the write succeeds only if no other write landed since the read. A failed
// write backs off and starts again with a read. Every message takes |N(10, 2)| time units on
// the network; base 5, cap 2000. The simulator counts writes ("calls") and the time the last
// client finishes. Time here is scaled by 1000 (one unit = one second of the library's
// millisecond clock), which changes nothing in the dynamics and keeps the jitters' millisecond
// rounding and 1 ms minimum delay a thousand times below the experiment's resolution.
#pragma once

#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/verdict.hpp"
#include "certretry/poll/machine.hpp"
#include "certretry/sim/distribution.hpp"
#include "certretry/sim/engine.hpp"

#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::sim {

/// Reads, then writes with the version read; a conflict (409) is transient, so the machine backs
/// off on its policy and reads again.
///
/// Thread safety: part of one machine: never shared between threads.
class occ_triage {
 public:
  /// A read, or a write carrying the version read.
  request_view next_request() const noexcept {
    if (!writing_) return {"GET", "/row"};
    return {"PUT", "/row", {}, version_};
  }
  /// Back to reading.
  void reset() { writing_ = false; }

  /// Classifies a reply: a read's version, a write's success (done) or conflict (transient).
  triage_result classify(const response_view& r) {
    if (!writing_) {
      if (r.status != 200) return {verdict::transient, "read failed"};
      version_.assign(r.body);
      writing_ = true;
      return {verdict::pending, "read", {}, true};  // write at once
    }
    writing_ = false;
    if (r.status == 200) return {verdict::done, "written"};
    return {verdict::transient, "write conflict"};
  }

 private:
  bool writing_ = false;
  std::string version_;
};

/// The backoff policies the post compares.
enum class occ_backoff : std::uint8_t {
  none,
  exponential,
  full_jitter,
  equal_jitter,
  decorrelated
};

/// The policy's name, as the post and the harness spell it.
constexpr std::string_view to_string(occ_backoff b) noexcept {
  switch (b) {
    case occ_backoff::none: return "no backoff";
    case occ_backoff::exponential: return "exponential, no jitter";
    case occ_backoff::full_jitter: return "full jitter";
    case occ_backoff::equal_jitter: return "equal jitter";
    case occ_backoff::decorrelated: return "decorrelated jitter";
  }
  return "?";
}

/// What one simulation of the post's contention measured.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct occ_result {
  std::uint64_t writes = 0;  ///< "calls" in the post
  std::uint64_t reads = 0;   ///< reads sent
  duration completion{};     ///< when the last client finished (scaled units: 1 s = 1 ms)
  std::uint64_t events = 0;  ///< engine events run
};

/// The post's policies, scaled: sleep = min(cap, base x 2^attempt) with base 5, cap 2000.
inline backoff_policy<any_schedule, any_jitter> occ_policy(occ_backoff b) {
  using std::chrono::seconds;
  limits l;
  l.max_wait = std::chrono::hours{24 * 365};
  l.min_delay = duration{1};
  l.allow_fast_polling = true;  // scaled time: 1 ms here is 1 us of the experiment
  retry_after_policy ra;
  ra.mode = retry_after_mode::ignore;
  const any_schedule expo{geometric_schedule{seconds{10}, 2.0, seconds{2000}}};  // 5 x 2^n
  switch (b) {
    case occ_backoff::none: return {any_schedule{fixed_schedule{duration{0}}}, any_jitter{}, l, ra};
    case occ_backoff::exponential: return {expo, any_jitter{no_jitter{}}, l, ra};
    case occ_backoff::full_jitter: return {expo, any_jitter{full_jitter{}}, l, ra};
    case occ_backoff::equal_jitter: return {expo, any_jitter{equal_jitter{}}, l, ra};
    case occ_backoff::decorrelated:
      return {any_schedule{fixed_schedule{seconds{5}}},
              any_jitter{decorrelated_jitter{seconds{2000}}}, l, ra};
  }
  return {expo, any_jitter{}, l, ra};
}

/// One run: `clients` contending clients, all starting at time 0.
inline occ_result run_occ(std::uint32_t clients, occ_backoff b, std::uint64_t seed) {
  using machine_t = poll_machine<occ_triage, any_schedule, any_jitter, splitmix64, null_sink>;
  enum : std::uint32_t { ev_arrive = 1, ev_respond, ev_wake };
  const distribution net =
      distribution::abs_normal(std::chrono::seconds{10}, std::chrono::seconds{2});
  splitmix64 net_rng{seed ^ 0x6e6574776f726b21ULL};
  engine eng;
  std::vector<std::unique_ptr<machine_t>> ms;
  std::vector<request_view> req(clients);
  std::vector<int> status(clients);
  std::vector<std::string> body(clients);
  std::uint64_t version = 0;
  occ_result out;
  const auto drive = [&](std::uint32_t c, action a) {
    if (const auto* s = std::get_if<send>(&a)) {
      req[c] = s->request;
      eng.after(net.sample(net_rng), c, ev_arrive);
    } else if (const auto* w = std::get_if<wait>(&a)) {
      eng.after(w->delay, c, ev_wake);
    } else if (eng.now() - time_point{} > out.completion) {
      out.completion = eng.now() - time_point{};
    }
  };
  for (std::uint32_t c = 0; c < clients; ++c)
    ms.push_back(
        std::make_unique<machine_t>(occ_triage{}, occ_policy(b), splitmix64{seed * 1000003 + c}));
  for (std::uint32_t c = 0; c < clients; ++c) drive(c, ms[c]->start(eng.now()));
  eng.run(time_point::max(), [&](const sim_event& e) {
    const std::uint32_t c = e.who;
    switch (e.what) {
      case ev_arrive:
        if (req[c].method == "GET") {
          ++out.reads;
          status[c] = 200;
          body[c] = std::to_string(version);
        } else {
          ++out.writes;
          std::uint64_t v = ~std::uint64_t{0};
          std::from_chars(req[c].body.data(), req[c].body.data() + req[c].body.size(), v);
          status[c] = v == version ? 200 : 409;
          if (v == version) ++version;
          body[c].clear();
        }
        eng.after(net.sample(net_rng), c, ev_respond);
        break;
      case ev_respond:
        drive(c, ms[c]->on_response(eng.now(), response_view{status[c], {}, body[c]}));
        break;
      case ev_wake: drive(c, ms[c]->on_wait_elapsed(eng.now())); break;
    }
    return true;
  });
  out.events = eng.processed();
  return out;
}

/// The post's figures (its chart at 100 clients, mean of 100 runs).
///
/// Thread safety: an immutable value: safe to share between threads.
struct occ_published {
  occ_backoff backoff;  ///< the policy
  double calls;         ///< the mean writes ("calls") the post's chart shows
};
/// The post's figures, one per policy.
inline constexpr occ_published occ_published_calls[] = {
    {occ_backoff::none, 2425},        {occ_backoff::exponential, 1846},
    {occ_backoff::equal_jitter, 812}, {occ_backoff::decorrelated, 998},
    {occ_backoff::full_jitter, 796},
};

}  // namespace certretry::sim
