// What the machine fuzzers share: a policy read from the input (the default or an extreme one),
// and a driver that runs a verification subject's real machine (include/certretry/verify/) on
// replies, transport errors and elapsed times read from the input, checking the verifier's own
// invariants (verify/invariants.hpp) after every step, plus what only a fuzzer can ask:
//   - a policy validate() refuses is refused at start: no request, outcome failed;
//   - a run that is still going after `step_cap` steps, or after `tail_sends` requests past
//     the input's end, is not past its deadline (the invariants already hold it to at
//     most a few requests between waits of at least the floor, so the deadline ends it);
//   - outcome.sends counts the requests the driver saw; the reason is bounded.
//
// Input layout, after the target's own option bytes (docs/fuzzing.md):
//   for each request the machine sends, one op byte; its low 3 bits:
//     0-3  a letter of the subject's alphabet that answers this request (next byte picks it)
//     4    a raw reply: status (1 byte, a table), up to 3 header fields (count, then each a
//          kind byte and what it needs: Retry-After in every form RFC 9110 §10.2.3 allows and
//          some it does not, Replay-Nonce, Content-Type, Location, raw name/value), then a body
//          (1 byte: a letter's body, one of the target's canned bodies, or raw bytes with a
//          1-byte length, or a canned body cut short)
//     5    a transport error (next byte: timeout, refused, reset, TLS, DNS, an unknown code)
//     6    a letter, as 0-3, with a Retry-After field added in front of its headers
//     7    the next repeat letter (a server that keeps answering pending or failing)
//   the op byte's high 3 bits: the latency before the reply arrives (mostly 0; up to a day)
//   for each wait, one byte: below 224 the wake-up comes on time, else late (up to a day).
// Past the input's end every request gets a repeat letter and every wake-up is on time, so
// each run ends (or reaches a cap) like the verifier's sequences continued past the depth.
// There the run only repeats itself: the same reply, on time, again and again. What that can
// still change (an attempt cap, a backoff growing to its cap, the clock nearing the deadline)
// the input reaches directly and sooner (caps of 0 to 3 attempts, schedules of years, late
// wake-ups and slow replies of up to a day), so the repetition is cut after `tail_sends`
// requests, enough for any tight loop to show (more than max_sends_in_a_row requests without
// a wait): a run of 1000 steps waiting out a renewal window second by second costs as much as
// dozens of short inputs and checks nothing they do not.
#pragma once

#include "certretry/backoff/error_backoff.hpp"
#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/time.hpp"
#include "certretry/verify/invariants.hpp"
#include "certretry/verify/subject.hpp"
#include "certretry/verify/trace.hpp"
#include "fuzz_support.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace certretry::fuzzing {

using namespace std::chrono_literals;

// 2026-01-01T00:00:00Z: the virtual clock's start (an instant whose HTTP-dates are ordinary).
inline constexpr time_point fuzz_start{std::chrono::seconds{1767225600}};

// --- the policy --------------------------------------------------------------------------

inline constexpr duration years(std::int64_t n) { return std::chrono::hours{24 * 366 * n}; }

// max_wait, min_delay and the Retry-After bounds: boundary values, from none to forever.
inline constexpr std::array<duration, 16> extreme_durations{duration::zero(),
                                                            duration{1},
                                                            99ms,
                                                            100ms,
                                                            1s,
                                                            5s,
                                                            10min,
                                                            1h,
                                                            24h,
                                                            years(1),
                                                            years(100),
                                                            longest_delay,
                                                            longest_delay + 1s,
                                                            duration::max(),
                                                            duration{-1},
                                                            duration::min()};

inline constexpr std::array<std::uint32_t, 8> extreme_attempts{
    0,
    1,
    2,
    3,
    100,
    std::numeric_limits<std::uint32_t>::max() - 1,
    std::numeric_limits<std::uint32_t>::max(),
    1u << 31};

inline constexpr std::array<double, 10> extreme_fractions{0.0,
                                                          0.2,
                                                          1.0,
                                                          1.5,
                                                          -0.5,
                                                          std::numeric_limits<double>::quiet_NaN(),
                                                          std::numeric_limits<double>::infinity(),
                                                          -std::numeric_limits<double>::infinity(),
                                                          std::numeric_limits<double>::denorm_min(),
                                                          1.0 - 1e-16};

inline any_schedule read_schedule(byte_reader& in) {
  const duration d1 = extreme_durations[in.u8() % extreme_durations.size()];
  const duration d2 = extreme_durations[in.u8() % extreme_durations.size()];
  switch (in.u8() % 10) {
    case 0: return schedules::certctl;
    case 1: return schedules::acme;
    case 2: return schedules::vcert;
    case 3: return schedules::certctl_documented;
    case 4: return fixed_schedule{d1};
    case 5: return geometric_schedule{d1, extreme_fractions[in.u8() % 10] + 1.0, d2};
    case 6: return geometric_schedule{d1, 1e308, d2};
    case 7: return exponential_schedule(d1, d2);
    case 8: return table_schedule{d1, d2, d1};
    default: return fixed_schedule{0ms};
  }
}

inline any_jitter read_jitter(byte_reader& in) {
  const double f = extreme_fractions[in.u8() % extreme_fractions.size()];
  const duration cap = extreme_durations[in.u8() % extreme_durations.size()];
  switch (in.u8() % 6) {
    case 0: return no_jitter{};
    case 1: return proportional_jitter{f};
    case 2: return full_jitter{};
    case 3: return equal_jitter{};
    case 4: return decorrelated_jitter{cap};
    default: return decorrelated_jitter_v2{cap};
  }
}

// The policy: byte 0 even → `def` as it is; odd → every part from the bytes after it, boundary
// values included (a NaN jitter, a floor past the deadline, a deadline of years). The machines
// must refuse what validate() refuses, and hold every invariant under what it accepts.
inline backoff_policy<any_schedule, any_jitter> read_policy(
    byte_reader& in, const backoff_policy<any_schedule, any_jitter>& def) {
  if ((in.u8() & 1) == 0) return def;
  const any_schedule s = read_schedule(in);
  const any_jitter j = read_jitter(in);
  limits l;
  l.max_wait = extreme_durations[in.u8() % extreme_durations.size()];
  l.min_delay = extreme_durations[in.u8() % extreme_durations.size()];
  const std::uint8_t flags = in.u8();
  l.max_attempts = extreme_attempts[flags % extreme_attempts.size()];
  l.allow_fast_polling = (flags & 0x08) != 0;
  retry_after_policy ra;
  ra.mode = static_cast<retry_after_mode>((flags >> 4) % 3);
  ra.ceiling = extreme_durations[in.u8() % extreme_durations.size()];
  ra.floor =
      (flags & 0x80) ? extreme_durations[in.u8() % extreme_durations.size()] : duration::zero();
  return {s, j, l, ra};
}

// An error backoff (the pacing of 429s, 5xx and transport errors): byte even → `def`; odd →
// boundary values (a negative base, a NaN factor, a jitter above 1) that check() refuses.
inline error_backoff read_error_backoff(byte_reader& in, const error_backoff& def) {
  if ((in.u8() & 1) == 0) return def;
  error_backoff e;
  e.base = extreme_durations[in.u8() % extreme_durations.size()];
  e.factor = extreme_fractions[in.u8() % extreme_fractions.size()] * 4.0;
  e.cap = extreme_durations[in.u8() % extreme_durations.size()];
  e.jitter = extreme_fractions[in.u8() % extreme_fractions.size()];
  return e;
}

// The facts the invariants hold the machine to, from a policy validate() accepted. A deadline
// past what start + deadline can hold is cut to half the range (no run within the step cap,
// at most 68 years a wait, gets there).
inline void policy_facts(verify::facts& f, const backoff_policy<any_schedule, any_jitter>& p) {
  f.deadline = std::min(p.run_limits().max_wait, duration::max() / 2);
  // As the policy has it: a run stops once less than this is left before the deadline
  // (backoff/policy.hpp), though every wait is cut to longest_delay ("floor" allows that).
  f.floor = p.run_limits().effective_min_delay();
  f.retry_after_ceiling = p.retry_after().ceiling;
  f.honours_retry_after = p.retry_after().mode != retry_after_mode::ignore;
}

// --- the replies -------------------------------------------------------------------------

inline constexpr std::array<int, 32> fuzz_statuses{
    200, 201, 202, 204, 400, 403, 404, 409, 429, 500, 503, 502, 408, 401, 410,       418,
    0,   -1,  99,  100, 199, 299, 300, 302, 399, 499, 504, 599, 600, 999, INT32_MIN, INT32_MAX};

// IMF-fixdate (RFC 9110 §5.6.7) or asctime of a whole second.
inline std::string http_date(std::int64_t unix_seconds, bool asctime) {
  static constexpr const char* days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t day =
      unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
  const std::int64_t sod = unix_seconds - day * 86400;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  const std::int64_t z = day + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const char* dn = days[((day % 7) + 7) % 7];
  char buf[64];
  if (asctime)
    std::snprintf(buf, sizeof buf, "%s %s %2d %02d:%02d:%02d %04d", dn, months[m - 1], int(d),
                  int(sod / 3600), int(sod / 60 % 60), int(sod % 60), int(y));
  else
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", dn, int(d), months[m - 1],
                  int(y), int(sod / 3600), int(sod / 60 % 60), int(sod % 60));
  return buf;
}

// A Retry-After value and, when it is one RFC 9110 §10.2.3 allows, the delay it asks for at
// `now` (computed here, not by the library's parser).
struct retry_after_value {
  std::string text;
  std::optional<duration> asks;
};

inline retry_after_value read_retry_after_field(byte_reader& in, time_point now) {
  static constexpr std::array<std::int64_t, 12> seconds{
      0, 1, 2, 3, 60, 120, 3600, 86400, 604800, 2147483647, 2147483648LL, 99999999999LL};
  const std::uint8_t kind = in.u8();
  const std::int64_t n = seconds[in.u8() % seconds.size()];
  const bool valid_n = n <= 2147483647;
  const std::int64_t now_s =
      std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto date_asks = [&](std::int64_t at) -> std::optional<duration> {
    const duration d = time_point{std::chrono::seconds{at}} - now;
    return d > duration::zero() ? d : duration::zero();
  };
  switch (kind % 10) {
    case 0:
      return {std::to_string(n),
              valid_n ? std::optional<duration>{std::chrono::seconds{n}} : std::nullopt};
    case 1: return {http_date(now_s + n % 31536000, false), date_asks(now_s + n % 31536000)};
    case 2: return {http_date(now_s + n % 31536000, true), date_asks(now_s + n % 31536000)};
    case 3: return {http_date(now_s - n % 31536000, false), date_asks(now_s - n % 31536000)};
    case 4: return {"-" + std::to_string(n), std::nullopt};
    case 5: return {std::to_string(n) + ".5", std::nullopt};
    case 6: return {" " + std::to_string(n) + " ", std::nullopt};     // OWS: may be read or not
    case 7: return {"Sunday, 06-Nov-94 08:49:37 GMT", std::nullopt};  // RFC 850
    case 8: return {"", std::nullopt};
    default: return {std::string(in.bytes(in.u8() % 48)), std::nullopt};
  }
}

// What a target adds to the driver: bodies its server might send, and which raw replies are
// stale-enrollment messages (TPP).
struct machine_extras {
  std::span<const std::string_view> bodies;
  std::function<bool(const response&)> stale;
};

// --- the driver --------------------------------------------------------------------------

struct drive_options {
  std::size_t step_cap = 1000;
  // Requests past the input's end (see the header comment); at least twice the requests the
  // facts allow without a wait, plus two, so that a tight loop there still breaks "terminates".
  std::size_t tail_sends = 8;
  bool policy_valid = true;  // false: validate() (or the options' check) refuses the policy
};

namespace detail {

// One of the alphabet's first `alphabet` letters (the subject's own: the ones the driver adds
// are used once, as their Retry-After dates were written for that moment).
inline std::optional<std::size_t> pick_letter(const verify::subject& s, std::size_t alphabet,
                                              const verify::step& req, std::uint8_t choice,
                                              bool repeat_only) {
  std::size_t fits = 0;
  for (std::size_t i = 0; i < alphabet; ++i)
    if ((!repeat_only || s.letters[i].repeat) && s.letters[i].applies_to(req.method, req.target))
      ++fits;
  if (fits == 0) {
    if (!repeat_only) return std::nullopt;
    return pick_letter(s, alphabet, req, choice, false);
  }
  std::size_t k = choice % fits;
  for (std::size_t i = 0; i < alphabet; ++i)
    if ((!repeat_only || s.letters[i].repeat) && s.letters[i].applies_to(req.method, req.target))
      if (k-- == 0) return i;
  return std::nullopt;
}

inline duration latency(std::uint8_t bits) {
  static constexpr std::array<duration, 8> table{0ms, 0ms, 0ms, 0ms, 10ms, 1s, 31s, 24h};
  return table[bits & 7];
}

inline verify::letter raw_letter(byte_reader& in, const verify::subject& s, const machine_extras& x,
                                 time_point now) {
  verify::letter l;
  l.name = "raw";
  response r;
  r.status = fuzz_statuses[in.u8() % fuzz_statuses.size()];
  const std::size_t fields = in.u8() % 4;
  bool retry_after_seen = false;
  for (std::size_t i = 0; i < fields; ++i) {
    switch (in.u8() % 6) {
      case 0:
      case 1: {
        retry_after_value v = read_retry_after_field(in, now);
        // Only the first field counts (RFC 9110 §5.3), and only a 429 or 503 asks the client
        // to wait (RFC 9110 §10.2.3, RFC 6585 §4): on other statuses the machines may go on.
        if (!retry_after_seen && (r.status == 429 || r.status == 503)) l.retry_after = v.asks;
        retry_after_seen = true;
        r.headers.push_back({"Retry-After", std::move(v.text)});
        break;
      }
      case 2: r.headers.push_back({"Replay-Nonce", std::string(in.bytes(in.u8() % 40))}); break;
      case 3:
        r.headers.push_back(
            {"Content-Type", in.u8() & 1 ? "application/problem+json" : "application/json"});
        break;
      case 4: r.headers.push_back({"Location", std::string(in.bytes(in.u8() % 40))}); break;
      default: {
        std::string name(in.bytes(in.u8() % 16));
        r.headers.push_back({std::move(name), std::string(in.bytes(in.u8() % 32))});
      }
    }
  }
  const std::uint8_t body = in.u8();
  switch (body % 4) {
    case 0:
      if (!s.letters.empty()) {
        const verify::letter& from = s.letters[in.u8() % s.letters.size()];
        if (from.reply) r.body = from.reply->body;
      }
      break;
    case 1:
      if (!x.bodies.empty()) r.body = std::string(x.bodies[in.u8() % x.bodies.size()]);
      break;
    case 2: r.body = std::string(in.bytes(in.u8())); break;
    default:
      if (!x.bodies.empty()) {
        const std::string_view b = x.bodies[in.u8() % x.bodies.size()];
        r.body = std::string(b.substr(0, b.size() * in.u8() / 256));
      }
  }
  if (x.stale) l.stale = x.stale(r);
  l.reply = std::move(r);
  return l;
}

inline std::error_code transport_error(std::uint8_t b) {
  switch (b % 7) {
    case 0: return errc::transport_timeout;
    case 1: return errc::connection_refused;
    case 2: return errc::connection_reset;
    case 3: return errc::tls_failure;
    case 4: return errc::dns_failure;
    case 5: return errc::transport_failure;
    default: return std::make_error_code(std::errc::host_unreachable);
  }
}

}  // namespace detail

// Runs the subject's machine on the rest of `in`; aborts (FUZZ_CHECK) on any broken invariant,
// naming it.
inline void drive(verify::subject s, byte_reader& in, const machine_extras& x,
                  const drive_options& o = {}) {
  using verify::step;
  const std::vector<verify::invariant> inv = verify::invariants_for(s);
  // One trace for every input: its step and event buffers are kept from run to run. What the
  // steps own is freed when the run ends, so that each run frees what it allocates (libFuzzer
  // re-runs an input under LeakSanitizer whenever it allocates more than it frees).
  static verify::trace t;
  t.clear(s.start);
  struct clear_at_end {
    verify::trace& t;
    ~clear_at_end() { t.clear(t.start); }
  } const cleared{t};
  time_point now = s.start;
  std::unique_ptr<verify::erased_machine> m = s.make(verify::recording_sink{&t});
  // CERTRETRY_FUZZ_TRACE=1: print every step (to read a crash input's run).
  static const bool print = std::getenv("CERTRETRY_FUZZ_TRACE") != nullptr;
  std::size_t printed = 0;
  const std::size_t alphabet = s.letters.size();
  const auto check = [&] {
    if (print) {
      for (; printed < t.events.size(); ++printed)
        std::fprintf(stderr, "    event %s: %s\n",
                     std::string(to_string(t.events[printed].kind)).c_str(),
                     t.events[printed].why.c_str());
      const step& st = t.steps.back();
      const double at = std::chrono::duration<double>(st.at - t.start).count();
      switch (st.what) {
        case step::kind::send:
          std::fprintf(stderr, "t=%.3f send %s\n", at, st.key().c_str());
          break;
        case step::kind::reply: {
          const verify::letter& L = s.letters[st.letter];
          std::fprintf(stderr, "t=%.3f reply %s", at, L.name.c_str());
          if (L.reply) {
            std::fprintf(stderr, ": %d", L.reply->status);
            for (const header_field& h : L.reply->headers)
              std::fprintf(stderr, ", %s: %s", h.name.c_str(), h.value.c_str());
            std::fprintf(stderr, ", %zu-byte body", L.reply->body.size());
          }
          std::fprintf(stderr, "\n");
          break;
        }
        case step::kind::wait:
          std::fprintf(stderr, "t=%.3f wait %.3f s (%s)\n", at,
                       std::chrono::duration<double>(st.delay).count(),
                       std::string(to_string(st.why)).c_str());
          break;
        case step::kind::finish:
          std::fprintf(stderr, "t=%.3f finish %s: %s\n", at,
                       std::string(to_string(st.outcome)).c_str(), st.reason.c_str());
      }
    }
    if (!o.policy_valid) return;  // the facts of a refused policy mean nothing
    for (const verify::invariant& i : inv) {
      if (!i.applies || !i.check) continue;
      if (auto what = i.check(t, s.f, s.letters)) {
        std::fprintf(stderr, "%s: invariant '%s' broken at step %zu: %s\n", s.machine.c_str(),
                     i.name.c_str(), t.steps.size(), what->c_str());
        violated(i.name.c_str(), __FILE__, __LINE__);
      }
    }
  };
  const std::size_t tail_cap =
      std::max<std::size_t>(o.tail_sends, 2 * std::size_t{s.f.max_sends_in_a_row} + 2);
  std::size_t tail = 0;  // requests sent after the input ran out
  action a = m->start(now);
  for (std::size_t n = 0;; ++n) {
    if (std::holds_alternative<send>(a) && in.empty()) ++tail;
    // At a cap the run stops once the request or wait it asks for has been checked.
    const bool capped = n >= o.step_cap || tail > tail_cap;
    const auto stop = [&] {
      if (print)
        std::fprintf(stderr, "stopped, still running: %s\n",
                     n >= o.step_cap ? "the step cap" : "the requests past the input's end");
      // Still running: it must not be past its deadline (the invariants bound how often it
      // sends before then). A request at the deadline itself is one the "deadline" invariant
      // allows.
      if (s.f.not_after)
        FUZZ_CHECK(now < *s.f.not_after);
      else
        FUZZ_CHECK(now - s.start <= s.f.deadline);
    };
    if (const auto* sn = std::get_if<send>(&a)) {
      FUZZ_CHECK(o.policy_valid);  // a refused policy sends nothing
      step st;
      st.what = step::kind::send;
      st.at = now;
      st.method.assign(sn->request.method);
      st.target.assign(sn->request.target);
      st.body.assign(sn->request.body);
      st.headers.assign(sn->request.headers.begin(), sn->request.headers.end());
      t.steps.push_back(std::move(st));
      check();
      if (capped) return stop();
      const std::uint8_t op = in.empty() ? 7 : in.u8();
      now += detail::latency(op >> 5);
      std::optional<std::size_t> l;
      switch (op & 7) {
        case 0:
        case 1:
        case 2:
        case 3: l = detail::pick_letter(s, alphabet, t.steps.back(), in.u8(), false); break;
        case 4:
          s.letters.push_back(detail::raw_letter(in, s, x, now));
          l = s.letters.size() - 1;
          break;
        case 5: {
          verify::letter e;
          e.name = "raw transport error";
          e.error = detail::transport_error(in.u8());
          s.letters.push_back(std::move(e));
          l = s.letters.size() - 1;
          break;
        }
        case 6: {
          l = detail::pick_letter(s, alphabet, t.steps.back(), in.u8(), false);
          if (l && s.letters[*l].reply) {
            verify::letter c = s.letters[*l];
            retry_after_value v = read_retry_after_field(in, now);
            // The new field comes first, so it is the one read (RFC 9110 §5.3); it asks for a
            // wait where the letter's own did (ACME processing, ARI) or on a 429 or 503.
            const int status = c.reply->status;
            c.retry_after = c.retry_after || status == 429 || status == 503 ? v.asks : std::nullopt;
            c.reply->headers.insert(c.reply->headers.begin(), {"Retry-After", std::move(v.text)});
            c.name += " + a Retry-After";
            c.happy = c.repeat = false;
            s.letters.push_back(std::move(c));
            l = s.letters.size() - 1;
          }
          break;
        }
        default: l = detail::pick_letter(s, alphabet, t.steps.back(), in.u8(), true);
      }
      if (!l) {  // no letter answers this request: a timeout does
        verify::letter e;
        e.name = "timeout";
        e.error = errc::transport_timeout;
        s.letters.push_back(std::move(e));
        l = s.letters.size() - 1;
      }
      step rp;
      rp.what = step::kind::reply;
      rp.at = now;
      rp.letter = *l;
      rp.events_before = t.events.size();
      t.steps.push_back(std::move(rp));
      check();
      const verify::letter& L = s.letters[*l];
      a = L.reply ? m->on_response(now, L.reply->view()) : m->on_transport_error(now, L.error);
    } else if (const auto* w = std::get_if<wait>(&a)) {
      FUZZ_CHECK(o.policy_valid);
      FUZZ_CHECK(w->delay >= duration::zero());
      step st;
      st.what = step::kind::wait;
      st.at = now;
      st.delay = w->delay;
      st.why = w->why;
      t.steps.push_back(std::move(st));
      check();
      if (capped) return stop();
      now += w->delay;
      const std::uint8_t late = in.empty() ? 0 : in.u8();
      if (late >= 224) now += detail::latency(late) + duration{late};
      a = m->on_wait_elapsed(now);
    } else {
      const outcome out = m->take_outcome();
      t.steps.push_back(verify::finish_step(now, out));
      FUZZ_CHECK(out.sends == t.sends());
      FUZZ_CHECK(out.reason.size() <= 4096);
      if (!o.policy_valid) {
        FUZZ_CHECK(out.kind == outcome_kind::failed);
        FUZZ_CHECK(out.error == errc::invalid_policy);
      }
      check();
      return;
    }
  }
}

}  // namespace certretry::fuzzing
