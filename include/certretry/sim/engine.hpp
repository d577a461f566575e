// certretry/sim/engine.hpp — a discrete-event engine on a virtual clock.
//
// One core, no threads: events wait in a binary heap ordered by (time, insertion number), so
// two events at the same millisecond run in the order they were scheduled and one seed gives
// one run. An event is 24 bytes naming who it is for and what it is; the caller's handler does
// the rest. Memory is the events scheduled and not yet run, nothing per event already run.
//
// Events that always come a fixed delay after "now" (a network hop of constant latency) arrive
// in time order by construction; they may go to a FIFO lane instead of the heap, which costs
// O(1) instead of O(log n). The order of execution is the same: the next event is the earliest
// (time, insertion number) among the heap's top and the lanes' fronts. A lane push that would
// break its order goes to the heap.
#pragma once

#include "certretry/core/time.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace certretry::sim {

/// One scheduled event: when, its insertion number, whom it is for and what it is.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct sim_event {
  time_point at{};         ///< when it runs
  std::uint64_t seq = 0;   ///< insertion number: ties run first scheduled, first run
  std::uint32_t who = 0;   ///< a client slot, an order, ... (the handler's business)
  std::uint32_t what = 0;  ///< what it is (the handler's business)
};

/// A FIFO of events in nondecreasing time: a ring buffer that grows.
///
/// Thread safety: one engine's: used on its thread only.
class event_lane {
 public:
  /// True when the lane holds no event.
  bool empty() const noexcept { return head_ == tail_; }
  /// Events in the lane.
  std::size_t size() const noexcept { return tail_ - head_; }
  /// The earliest event; the lane must not be empty.
  const sim_event& front() const noexcept { return buf_[head_ & mask_]; }
  /// The latest event; the lane must not be empty.
  const sim_event& back() const noexcept { return buf_[(tail_ - 1) & mask_]; }
  /// Appends `e` (its time not before back()'s).
  void push(const sim_event& e) {
    if (size() == buf_.size()) grow();
    buf_[tail_++ & mask_] = e;
  }
  /// Removes and returns the earliest event.
  sim_event pop() noexcept { return buf_[head_++ & mask_]; }

 private:
  void grow() {
    std::vector<sim_event> next(buf_.empty() ? 64 : buf_.size() * 2);
    for (std::size_t i = 0; i < size(); ++i) next[i] = buf_[(head_ + i) & mask_];
    tail_ = size();
    head_ = 0;
    buf_ = std::move(next);
    mask_ = buf_.size() - 1;
  }
  std::vector<sim_event> buf_;
  std::size_t head_ = 0, tail_ = 0, mask_ = 0;
};

/// A binary min-heap of events by (at, seq), and FIFO lanes beside it.
///
/// Thread safety: one engine's: used on its thread only.
class event_queue {
 public:
  /// How many FIFO lanes there are.
  static constexpr std::size_t lanes = 2;

  /// Reserves heap room for `n` events.
  void reserve(std::size_t n) { heap_.reserve(n); }
  /// True when no event is waiting.
  bool empty() const noexcept { return size() == 0; }
  /// Events waiting, heap and lanes together.
  std::size_t size() const noexcept {
    std::size_t n = heap_.size();
    for (const auto& l : lane_) n += l.size();
    return n;
  }
  /// Events scheduled so far (the next insertion number).
  std::uint64_t scheduled() const noexcept { return next_seq_; }
  /// The earliest event; the queue must not be empty.
  const sim_event& top() const noexcept { return *earliest().first; }

  /// Schedules an event at `at` (in the heap).
  void push(time_point at, std::uint32_t who, std::uint32_t what) {
    heap_.push_back({at, next_seq_++, who, what});
    sift_up(heap_.size() - 1);
  }
  /// Into lane `k` when it keeps the lane in time order, else into the heap.
  void push_lane(std::size_t k, time_point at, std::uint32_t who, std::uint32_t what) {
    event_lane& l = lane_[k];
    if (!l.empty() && at < l.back().at) return push(at, who, what);
    l.push({at, next_seq_++, who, what});
  }

  /// Removes and returns the earliest event; the queue must not be empty.
  sim_event pop() {
    const auto [e, lane] = earliest();
    return take(e, lane);
  }

  /// Removes the earliest event into `out` when there is one at or before `until`; false (and
  /// the queue unchanged) otherwise. One look for the earliest instead of top() then pop().
  bool pop_until(time_point until, sim_event& out) {
    const auto [e, lane] = earliest();
    if (e == nullptr || e->at > until) return false;
    out = take(e, lane);
    return true;
  }

 private:
  static bool before(const sim_event& a, const sim_event& b) noexcept {
    return a.at < b.at || (a.at == b.at && a.seq < b.seq);
  }

  // Removes the event earliest() found at `e` in `lane`.
  sim_event take(const sim_event* e, std::size_t lane) {
    if (lane < lanes) return lane_[lane].pop();
    sim_event out = *e;
    const sim_event last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(last);
    return out;
  }

  // The earliest event and where it is (a lane's index, or `lanes` for the heap).
  std::pair<const sim_event*, std::size_t> earliest() const noexcept {
    const sim_event* best = heap_.empty() ? nullptr : &heap_.front();
    std::size_t where = lanes;
    for (std::size_t k = 0; k < lanes; ++k)
      if (!lane_[k].empty() && (best == nullptr || before(lane_[k].front(), *best))) {
        best = &lane_[k].front();
        where = k;
      }
    return {best, where};
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
  event_lane lane_[lanes];
  std::uint64_t next_seq_ = 0;
};

/// The clock and the queue. run() hands each event, in order, to the handler, until the queue is
/// empty, the next event is past `until`, or the handler asks to stop (returns false).
///
/// Thread safety: single-threaded by design (one core, no locks): one engine per thread.
class engine {
 public:
  /// An engine whose clock starts at `start`.
  explicit engine(time_point start = time_point{}) noexcept : now_(start) {}

  /// The virtual time now.
  time_point now() const noexcept { return now_; }
  /// Events run so far.
  std::uint64_t processed() const noexcept { return processed_; }
  /// Events waiting.
  std::size_t pending() const noexcept { return queue_.size(); }
  /// The queue.
  event_queue& queue() noexcept { return queue_; }

  /// An event `delay` from now (never in the past).
  void after(duration delay, std::uint32_t who, std::uint32_t what) {
    queue_.push(delay > duration::zero() ? now_ + delay : now_, who, what);
  }
  /// An event at `t` (never in the past: now at the earliest).
  void at(time_point t, std::uint32_t who, std::uint32_t what) {
    queue_.push(t < now_ ? now_ : t, who, what);
  }
  /// An event a constant `delay` from now, through FIFO lane `lane` (< event_queue::lanes).
  void after_in_lane(std::size_t lane, duration delay, std::uint32_t who, std::uint32_t what) {
    queue_.push_lane(lane, delay > duration::zero() ? now_ + delay : now_, who, what);
  }

  /// Runs events in order until the queue is empty, the next event is past `until`, or `handle`
  /// returns false.
  template <class Handler>
  void run(time_point until, Handler&& handle) {
    sim_event e;
    while (queue_.pop_until(until, e)) {
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
