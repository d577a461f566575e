// certretry/sim/engine.hpp — a discrete-event engine on a virtual clock.
//
// One core, no threads: events wait in one binary heap ordered by (time, insertion number), so
// two events at the same millisecond run in the order they were scheduled and one seed gives
// one run. An event is 24 bytes naming who it is for and what it is; the caller's handler does
// the rest. Memory is the events scheduled and not yet run, nothing per event already run.
#pragma once

#include "certretry/core/time.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace certretry::sim {

struct sim_event {
  time_point at{};
  std::uint64_t seq = 0;  // insertion number: ties run first scheduled, first run
  std::uint32_t who = 0;  // a client slot, an order, ... (the handler's business)
  std::uint32_t what = 0;
};

// A binary min-heap of events by (at, seq).
class event_queue {
 public:
  void reserve(std::size_t n) { heap_.reserve(n); }
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  std::uint64_t scheduled() const noexcept { return next_seq_; }
  const sim_event& top() const noexcept { return heap_.front(); }

  void push(time_point at, std::uint32_t who, std::uint32_t what) {
    heap_.push_back({at, next_seq_++, who, what});
    sift_up(heap_.size() - 1);
  }

  sim_event pop() {
    sim_event out = heap_.front();
    const sim_event last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(last);
    return out;
  }

 private:
  static bool before(const sim_event& a, const sim_event& b) noexcept {
    return a.at < b.at || (a.at == b.at && a.seq < b.seq);
  }

  void sift_up(std::size_t i) {
    const sim_event e = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }

  // Puts `e` (the former last element) where the root was, then moves it down.
  void sift_down(const sim_event& e) {
    const std::size_t n = heap_.size();
    std::size_t i = 0;
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], e)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = e;
  }

  std::vector<sim_event> heap_;
  std::uint64_t next_seq_ = 0;
};

// The clock and the queue. run() hands each event, in order, to the handler, until the queue is
// empty, the next event is past `until`, or the handler asks to stop (returns false).
class engine {
 public:
  explicit engine(time_point start = time_point{}) noexcept : now_(start) {}

  time_point now() const noexcept { return now_; }
  std::uint64_t processed() const noexcept { return processed_; }
  std::size_t pending() const noexcept { return queue_.size(); }
  event_queue& queue() noexcept { return queue_; }

  // An event `delay` from now (never in the past).
  void after(duration delay, std::uint32_t who, std::uint32_t what) {
    queue_.push(delay > duration::zero() ? now_ + delay : now_, who, what);
  }
  void at(time_point t, std::uint32_t who, std::uint32_t what) {
    queue_.push(t < now_ ? now_ : t, who, what);
  }

  template <class Handler>
  void run(time_point until, Handler&& handle) {
    while (!queue_.empty() && queue_.top().at <= until) {
      const sim_event e = queue_.pop();
      now_ = e.at;
      ++processed_;
      if (!handle(e)) return;
    }
  }

 private:
  event_queue queue_;
  time_point now_;
  std::uint64_t processed_ = 0;
};

}  // namespace certretry::sim
