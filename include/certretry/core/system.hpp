// certretry/core/system.hpp — the real clock and sleeper, for run() in production.
//
// Machines never include this: they are given the time. Only a driver reads the clock.
#pragma once

#include "certretry/core/time.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

namespace certretry {

/// Two clocks in one: now() is wall time, for HTTP-dates (RFC 9110 §10.2.3) and RFC 3339 times;
/// monotonic() is a steady clock's reading, for elapsed time and deadlines. run() measures the
/// run with monotonic(), so stepping the wall clock (NTP, a VM resumed, an operator) neither
/// stretches nor cuts a deadline (docs/async-polling.md#clocks).
///
/// Thread safety: stateless: share freely.
struct system_clock {
  /// Wall time, in milliseconds.
  time_point now() const noexcept {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
  /// A steady clock's reading, in milliseconds since an unspecified epoch.
  duration monotonic() const noexcept {
    return std::chrono::floor<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
};

/// A sleeper that blocks the calling thread for the wait a machine asks for.
///
/// Thread safety: stateless: share freely.
struct thread_sleeper {
  /// Blocks the calling thread for `d`.
  void sleep_for(duration d) const { std::this_thread::sleep_for(d); }
};

/// A sleeper that wakes early when its stop_token is triggered, so cancelling a run does not wait
/// out a 5-minute backoff. Pass the same token to run() as its cancellation.
///
/// Thread safety: one per run (its mutex serialises sleeps); the stop_token it watches may be
/// stopped from any thread.
class stoppable_sleeper {
 public:
  /// A sleeper that wakes when `token` is stopped.
  explicit stoppable_sleeper(std::stop_token token) : token_(std::move(token)) {}
  /// Blocks the calling thread for `d`, or until the token is stopped.
  void sleep_for(duration d) {
    std::unique_lock lock(mutex_);
    std::condition_variable_any cv;
    cv.wait_for(lock, token_, d, [] { return false; });
  }

 private:
  std::stop_token token_;
  std::mutex mutex_;
};

}  // namespace certretry
