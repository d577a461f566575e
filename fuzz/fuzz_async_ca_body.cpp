// Async-CA responses from a hostile server: async_ca_triage on one response, then a whole
// async_ca_poll_machine run() against a scripted server that answers from the same bytes.
//
// Input layout (every field optional; missing bytes read as 0):
//   byte 0  profile = b % 5 (digicert, sectigo, entrust, globalsign, generic);
//           0x08: first move DigiCert/Sectigo to their collect stage
//   byte 1  poller: bits 0-2 schedule, bits 3-4 Retry-After mode, bits 5-6 max wait,
//           bit 7 min delay
//   byte 2  poller: bits 0-2 jitter, bits 3-7 attempt cap (0 = none)
//   byte 3  random seed
//   then up to 16 replies, each:
//     status selector (1 byte, index into a table of boundary statuses)
//     flags (1 byte): bits 0-2 latency, bit 3 transport error (kind in bits 4-5),
//                     bit 6 Retry-After header present, bit 7 served until a virtual time
//     [until (1 byte, units of 5 s)]
//     [Retry-After length (1 byte), value]
//     body length (2 bytes, big-endian; cut to what is left), body
// The single triage check uses the first reply; the poller gets them all, the last repeating.
#include "certretry/async_ca/poller.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "fuzz_support.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;
using fuzzing::byte_reader;

// Every boundary of classify_status, a few real statuses, and the int extremes.
constexpr std::array<int, 32> statuses{
    200, 201, 202, 204, 299, 400, 404, 408, 429, 500, 503, 0,   -1,  99,    100,     199,
    300, 302, 399, 401, 403, 407, 409, 499, 502, 504, 599, 600, 999, 65535, INT_MIN, INT_MAX};

constexpr std::array<duration, 8> latencies{0ms, 0ms, 0ms, 0ms, 500ms, 5s, 30s, 120s};

constexpr std::array<errc, 4> transport_errors{errc::transport_timeout, errc::connection_refused,
                                               errc::tls_failure, errc::connection_reset};

constexpr std::array<std::string_view, 7> schedule_list{
    "certctl", "certctl-documented", "vcert", "lego", "certbot", "acme-sh", "acmez"};
constexpr std::array<std::string_view, 6> jitter_list{"none",  "pct",          "full",
                                                      "equal", "decorrelated", "decorrelated-v2"};

scripted_reply read_reply(byte_reader& in) {
  const int status = statuses[in.u8() % statuses.size()];
  const std::uint8_t flags = in.u8();
  const duration latency = latencies[flags & 7u];
  std::optional<duration> until;
  if (flags & 0x80u) until = in.u8() * duration{5s};
  std::vector<header_field> headers;
  if (flags & 0x40u) {
    const std::size_t n = in.u8();
    headers.push_back({"Retry-After", std::string(in.bytes(n))});
  }
  const std::size_t hi = in.u8();
  const std::size_t n = hi << 8 | in.u8();
  std::string body(in.bytes(n));
  scripted_reply reply =
      (flags & 0x08u)
          ? scripted_reply::fail(make_error_code(transport_errors[(flags >> 4) & 3u]), latency)
          : scripted_reply::respond(status, std::move(body), std::move(headers), latency);
  reply.until = until;
  return reply;
}

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

// A target built from server data must stay a path on the CA's own API.
void check_target(std::string_view target) {
  FUZZ_CHECK(!target.empty() && target.front() == '/');
  FUZZ_CHECK(target.find("..") == std::string_view::npos);
  FUZZ_CHECK(target.find_first_of("?#") == std::string_view::npos);
  FUZZ_CHECK(!has_control(target));
}

void check_triage(const triage_result& t) {
  FUZZ_CHECK(!t.why.empty());
  FUZZ_CHECK(t.why.size() <= 512);  // a log line, whatever the server sends
  FUZZ_CHECK(!has_control(t.why));
  // The server's words come from valid JSON strings; cutting them must not split a character.
  FUZZ_CHECK(simdjson::validate_utf8(t.why.data(), t.why.size()));
  if (t.verdict == verdict::done)
    FUZZ_CHECK(!t.certificate.empty());
  else
    FUZZ_CHECK(t.certificate.empty());
}

async_ca_order order_for(async_ca ca) { return {ca, "4242", "7"}; }

// One response through the triage, in the status or the collect stage.
void classify_one(async_ca ca, bool collect_stage, const scripted_reply& reply) {
  async_ca_triage triage{order_for(ca)};
  check_target(triage.next_request().target);
  if (collect_stage && (ca == async_ca::digicert || ca == async_ca::sectigo)) {
    const std::string issued = ca == async_ca::digicert
                                   ? R"({"status":"issued","certificate":{"id":1234567}})"
                                   : R"({"status":"Issued"})";
    const triage_result t = triage.classify(response_view{200, {}, issued});
    check_triage(t);
    FUZZ_CHECK(t.verdict == verdict::pending && t.poll_now && triage.collecting());
    check_target(triage.next_request().target);
  }
  if (!reply.reply) return;
  const triage_result t = triage.classify(reply.reply->view());
  check_triage(t);
  check_target(triage.next_request().target);
  if (t.poll_now) FUZZ_CHECK(triage.collecting());
}

// Counts sends and checks each one against the run's limits before the scripted server answers.
class checked_transport {
 public:
  checked_transport(scripted_transport& server, virtual_clock& clock, time_point deadline,
                    std::uint32_t max_sends)
      : server_(&server), clock_(&clock), deadline_(deadline), max_sends_(max_sends) {}

  result<response> send(const request_view& req) {
    ++sends_;
    FUZZ_CHECK(sends_ <= max_sends_);        // bounded, whatever the server answers
    FUZZ_CHECK(clock_->now() <= deadline_);  // no request goes out after the deadline
    FUZZ_CHECK(req.method == "GET");
    check_target(req.target);
    return server_->send(req);
  }
  std::uint32_t sends() const { return sends_; }

 private:
  scripted_transport* server_;
  virtual_clock* clock_;
  time_point deadline_;
  std::uint32_t max_sends_;
  std::uint32_t sends_ = 0;
};

void run_poller(async_ca ca, std::uint8_t cfg1, std::uint8_t cfg2, std::uint8_t seed,
                std::vector<scripted_reply> replies) {
  constexpr std::array<duration, 4> max_waits{30s, 120s, 600s, 600s};
  constexpr std::array<retry_after_mode, 4> modes{
      retry_after_mode::at_least_schedule, retry_after_mode::hint_replaces,
      retry_after_mode::ignore, retry_after_mode::at_least_schedule};
  limits lim;
  lim.max_wait = max_waits[(cfg1 >> 5) & 3u];
  lim.min_delay = (cfg1 & 0x80u) ? 5s : 1s;
  lim.max_attempts = cfg2 >> 3;
  retry_after_policy ra;
  ra.mode = modes[(cfg1 >> 3) & 3u];

  const auto sched = named_schedule(schedule_list[(cfg1 & 7u) % schedule_list.size()]);
  const auto jit = named_jitter(jitter_list[(cfg2 & 7u) % jitter_list.size()], 0.2, 5min);
  FUZZ_CHECK(sched.has_value() && jit.has_value());

  const time_point start =
      time_point{std::chrono::sys_days{std::chrono::year{2025} / std::chrono::January / 1}};
  virtual_clock clock{start};
  virtual_sleeper sleeper{clock};
  scripted_transport server{clock};
  server.script("*", std::move(replies));
  // Every wait but the last is at least min_delay, and a stage change skips at most
  // max_immediate_polls waits in a row: this many sends can never be needed.
  const auto waits = static_cast<std::uint32_t>(lim.max_wait / lim.effective_min_delay());
  const std::uint32_t bound = (waits + 2) * (async_ca_poll_machine<>::max_immediate_polls + 1);
  checked_transport transport{server, clock, start + lim.max_wait, bound};

  async_ca_poll_machine m{async_ca_triage{order_for(ca)}, backoff_policy{*sched, *jit, lim, ra},
                          splitmix64{seed}};
  const outcome o = run(m, transport, clock, sleeper);
  FUZZ_CHECK(o.sends == transport.sends());
  FUZZ_CHECK(o.sends >= 1);
  // The cap bounds the polls; a stage change (status -> collect) may add its immediate request.
  if (lim.max_attempts != 0)
    FUZZ_CHECK(o.sends <= lim.max_attempts + async_ca_poll_machine<>::max_immediate_polls);
  switch (o.kind) {
    case outcome_kind::issued: FUZZ_CHECK(!o.certificate.empty()); break;
    case outcome_kind::still_pending:
    case outcome_kind::failed: FUZZ_CHECK(!o.reason.empty() && o.certificate.empty()); break;
    case outcome_kind::needs_person:  // a refused order: says what the person must do
      FUZZ_CHECK(!o.reason.empty() && !o.action.empty() && o.certificate.empty());
      break;
    default: FUZZ_CHECK(false);  // nothing cancels this run, and async-CA polling has no other ends
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in{data, size};
  const std::uint8_t b0 = in.u8();
  const auto ca = static_cast<async_ca>(b0 % 5);
  const bool collect_stage = (b0 & 0x08u) != 0;
  const std::uint8_t cfg1 = in.u8();
  const std::uint8_t cfg2 = in.u8();
  const std::uint8_t seed = in.u8();

  std::vector<scripted_reply> replies;
  do replies.push_back(read_reply(in));
  while (!in.empty() && replies.size() < 16);

  classify_one(ca, collect_stage, replies.front());
  run_poller(ca, cfg1, cfg2, seed, std::move(replies));
  return 0;
}
