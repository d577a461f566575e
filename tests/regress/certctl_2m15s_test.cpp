// certctl's operator reference (docs/sources.md#certctl-async-polling-doc) says the fourth wait
// is 2 min; its code (5 s x3, capped at 5 min: docs/sources.md#certctl-asyncpoll) waits
// 2 min 15 s. Both are real, so both exist as named schedules: schedules::certctl is the code,
// schedules::certctl_documented the document.
// This pins the difference and what each does against a 10 min deadline under a sustained 429.
#include "certretry/async_ca/poller.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono_literals;
using duration = certretry::duration;
using time_point = certretry::time_point;

TEST(Certctl2m15s, CodeWaitsTwoMinutesFifteenForTheFourthWait) {
  static_assert(schedules::certctl.delay(4) == 135s);
  EXPECT_EQ(schedules::certctl.delay(1), 5s);
  EXPECT_EQ(schedules::certctl.delay(2), 15s);
  EXPECT_EQ(schedules::certctl.delay(3), 45s);
  EXPECT_EQ(schedules::certctl.delay(4), 2min + 15s);
  EXPECT_EQ(schedules::certctl.delay(5), 5min);  // 405 s capped
  EXPECT_EQ(schedules::certctl.delay(6), 5min);
  EXPECT_EQ(schedules::certctl.delay(1000), 5min);
}

TEST(Certctl2m15s, DocumentWaitsTwoMinutesForTheFourthWait) {
  static_assert(schedules::certctl_documented.delay(4) == 120s);
  EXPECT_EQ(schedules::certctl_documented.delay(1), 5s);
  EXPECT_EQ(schedules::certctl_documented.delay(2), 15s);
  EXPECT_EQ(schedules::certctl_documented.delay(3), 45s);
  EXPECT_EQ(schedules::certctl_documented.delay(4), 2min);
  EXPECT_EQ(schedules::certctl_documented.delay(5), 5min);
  EXPECT_EQ(schedules::certctl_documented.delay(6), 5min);
}

TEST(Certctl2m15s, NamedSchedulesKeepTheDifference) {
  const auto code = named_schedule("certctl");
  const auto doc = named_schedule("certctl-documented");
  ASSERT_TRUE(code.has_value());
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(code->delay(4), 135s);
  EXPECT_EQ(doc->delay(4), 120s);
  for (std::uint32_t n : {1u, 2u, 3u, 5u, 6u}) EXPECT_EQ(code->delay(n), doc->delay(n)) << n;
}

// Send times (seconds after the first) of a run against a CA answering 429 forever, without
// jitter, with certctl's default PollMaxWait of 10 min.
struct run_result {
  std::vector<std::int64_t> send_seconds;
  outcome out;
};

struct send_times_sink {
  std::vector<time_point>* at = nullptr;
  void operator()(const event& e) {
    if (e.kind == event_kind::send) at->push_back(e.at);
  }
};

run_result sustained_429(any_schedule s) {
  const time_point t0{std::chrono::seconds{1'700'000'000}};
  virtual_clock clock{t0};
  virtual_sleeper sleeper{clock};
  scripted_transport server{clock};
  server.script("GET /orders/1", {scripted_reply::respond(429)});
  std::vector<time_point> sends;
  async_ca_poll_machine m{async_ca_triage{async_ca_order{async_ca::generic, "1", {}}},
                          backoff_policy{s, any_jitter{no_jitter{}}, {.max_wait = 10min}},
                          splitmix64{1}, send_times_sink{&sends}};
  run_result r;
  r.out = run(m, server, clock, sleeper);
  for (time_point t : sends)
    r.send_seconds.push_back(std::chrono::duration_cast<std::chrono::seconds>(t - t0).count());
  return r;
}

TEST(Certctl2m15s, CodeScheduleRunsToTheDeadlineInSevenPolls) {
  // 0, +5, +15, +45, +135 = 200, +300 = 500, then 300 s cut to the 100 s left = 600.
  const run_result r = sustained_429(schedules::certctl);
  EXPECT_EQ(r.send_seconds, (std::vector<std::int64_t>{0, 5, 20, 65, 200, 500, 600}));
  EXPECT_EQ(r.out.sends, 7u);
  EXPECT_EQ(r.out.kind, outcome_kind::still_pending);
  EXPECT_EQ(r.out.error, make_error_code(errc::deadline_exceeded));
}

TEST(Certctl2m15s, DocumentedScheduleRunsToTheDeadlineInSevenPolls) {
  // 0, +5, +15, +45, +120 = 185, +300 = 485, then 300 s cut to the 115 s left = 600.
  const run_result r = sustained_429(schedules::certctl_documented);
  EXPECT_EQ(r.send_seconds, (std::vector<std::int64_t>{0, 5, 20, 65, 185, 485, 600}));
  EXPECT_EQ(r.out.sends, 7u);
  EXPECT_EQ(r.out.kind, outcome_kind::still_pending);
  EXPECT_EQ(r.out.error, make_error_code(errc::deadline_exceeded));
}

}  // namespace
