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

struct system_clock {
  time_point now() const noexcept {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
};

struct thread_sleeper {
  void sleep_for(duration d) const { std::this_thread::sleep_for(d); }
};

// A sleeper that wakes early when its stop_token is triggered, so cancelling a run does not wait
// out a 5-minute backoff. Pass the same token to run() as its cancellation.
class stoppable_sleeper {
 public:
  explicit stoppable_sleeper(std::stop_token token) : token_(std::move(token)) {}
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
