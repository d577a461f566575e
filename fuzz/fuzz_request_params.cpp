// Hostile callers: every machine built from fuzzed caller parameters (an async-CA order id and CA
// id, ACME URLs, payloads and identifiers, an ARI CertID and renewalInfo URL, a TPP DN and
// request body, a policy) and run against a server that answers from fuzzed bytes, through a
// transport that checks every request before it would go on the wire:
//   - no request line or header field carries a control character, and no target a space, a
//     dot segment or an empty segment (core/target.hpp: RFC 9112 §3, RFC 3986 §3.3);
//   - a value refused at start (errc::invalid_request_value or invalid_policy, naming a field)
//     sends nothing; the machine refuses an async-CA id exactly when it is empty, "." or "..", or
//     has a control character, and otherwise the id comes back from the path percent-decoded;
//   - every JSON body a machine sends is one JSON value;
//   - outcome.sends is what the transport saw.
//
// Input layout (every field optional; missing bytes read as 0):
//   byte 0  machine: async-CA (generic, digicert, sectigo, entrust, globalsign), tpp, ACME
//           new-order, poll, post, ARI
//   byte 1  policy: bits 0-2 pick one of the policies below (some invalid), bits 3-5 the reply
//           status, bit 6 a Retry-After on replies, bit 7 a Replay-Nonce from the input
//   then four strings (a length byte, then the bytes): the machine's caller values in order
//   (see build_and_run), then the reply body (a length byte x 4) and the nonce
#include "fuzz_support.hpp"

#include "certretry/acme/ari.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/core/json_text.hpp"
#include "certretry/core/target.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono_literals;
using fuzzing::byte_reader;

const time_point t0{std::chrono::sys_days{std::chrono::year{2025} / 1 / 1}};

constexpr std::array<int, 8> statuses{200, 201, 202, 400, 404, 429, 500, 503};

// Answers every request with the same reply, after checking the request as a wire would need it.
struct checking_transport {
  virtual_clock* clock;
  response reply;
  bool json_bodies = false;  // the machine sends JSON bodies (ACME, TPP)
  std::uint32_t seen = 0;

  result<response> send(const request_view& r) {
    ++seen;
    FUZZ_CHECK(header_name_problem(r.method).empty());
    FUZZ_CHECK(target_problem(r.target).empty());
    for (const char c : r.target) FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
    for (const auto& h : r.headers) {
      FUZZ_CHECK(header_name_problem(h.name).empty());
      for (const char c : h.value)
        FUZZ_CHECK(c == '\t' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
    }
    if (json_bodies && !r.body.empty()) FUZZ_CHECK(check_json(r.body).ok());
    clock->advance(1ms);
    return reply;
  }
};

backoff_policy<any_schedule, any_jitter> pick_policy(unsigned which) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  switch (which) {
    case 1: return {any_schedule{schedules::certctl}, any_jitter{proportional_jitter{nan}}};
    case 2: return {any_schedule{fixed_schedule{0ms}}, any_jitter{}, limits{.min_delay = 1ms}};
    case 3:
      return {any_schedule{fixed_schedule{duration::max()}}, any_jitter{},
              limits{.max_wait = duration::max()}};
    case 4: return {any_schedule{geometric_schedule{1ms, 1.0000001, 1000h}}, any_jitter{}};
    case 5: return {any_schedule{schedules::certctl}, any_jitter{}, limits{.max_wait = 10ms}};
    default:
      return {any_schedule{schedules::certctl}, any_jitter{no_jitter{}}, limits{.max_wait = 60s}};
  }
}

bool is_refused_segment(std::string_view id) {
  if (id.empty() || id == "." || id == ".." || id.size() > max_target_bytes / 3) return true;
  for (const char c : id)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// `refused`: whether the machine must refuse a request value at start (when the test knows).
template <class Machine>
void run_checked(Machine& m, checking_transport& t, virtual_clock& clock,
                 std::optional<bool> refused) {
  virtual_sleeper sleeper{clock};
  // A caller deadline keeps hostile policies (an endless deadline) to a bounded run.
  const outcome o = run(m, t, clock, sleeper, t0 + 24h);
  FUZZ_CHECK(o.sends == t.seen);
  const bool refused_at_start =
      (o.error == errc::invalid_request_value || o.error == errc::invalid_policy) &&
      !o.reason.starts_with("request ");
  if (refused_at_start) {
    FUZZ_CHECK(t.seen == 0);
    FUZZ_CHECK(o.kind == outcome_kind::failed);
    FUZZ_CHECK(!o.reason.empty());
  }
  if (refused && o.error != errc::invalid_policy)
    FUZZ_CHECK(*refused == (o.error == errc::invalid_request_value));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in{data, size};
  const unsigned machine = in.u8() % 10;
  const unsigned flags = in.u8();
  std::array<std::string, 4> v;
  for (auto& s : v) s.assign(in.bytes(in.u8()));
  std::string body(in.bytes(static_cast<std::size_t>(in.u8()) * 4));
  const std::string nonce(in.bytes(in.u8()));

  virtual_clock clock{t0};
  checking_transport t{&clock, response{statuses[(flags >> 3) & 7], {}, body}};
  if (flags & 0x40) t.reply.headers.push_back({"Retry-After", "1"});
  if (flags & 0x80) t.reply.headers.push_back({"Replay-Nonce", nonce});
  const auto policy = pick_policy(flags & 7);

  switch (machine) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4: {
      // v[0] the order id, v[1] the CA id (Entrust).
      const auto ca = static_cast<async_ca>(machine);
      async_ca_poll_machine m{async_ca_triage{{ca, v[0], v[1]}}, policy, splitmix64{1}};
      run_checked(
          m, t, clock,
          is_refused_segment(v[0]) || (ca == async_ca::entrust && is_refused_segment(v[1])));
      if (ca == async_ca::generic && t.seen > 0) {
        // The first request's path is /orders/ and the id, percent-decoded, as given.
        const std::string target(m.triage().next_request().target);
        FUZZ_CHECK(target.starts_with("/orders/"));
        FUZZ_CHECK(percent_decode(std::string_view(target).substr(8)) == v[0]);
      }
      break;
    }
    case 5: {
      // v[0] the DN, v[1] the request body.
      tpp::enroll_options o;
      o.certificate_dn = v[0];
      o.request_body = v[1];
      if (v[2].size() & 1) o.strategy = tpp::reset_strategy::reset_before_request;
      t.json_bodies = check_json(v[1]).ok();
      tpp::enroll_machine m{std::move(o), policy, splitmix64{1}};
      run_checked(m, t, clock, std::nullopt);
      break;
    }
    case 6: {
      // v[0] the new-order URL, v[1] the new-nonce URL, v[2] identifiers, v[3] replaces.
      acme::new_order_options o;
      o.new_order_url = v[0];
      o.nonce.new_nonce_url = v[1];
      o.identifiers_json = v[2];
      o.replaces = v[3];
      // The directory advertises renewalInfo, so `replaces` is sent (RFC 9773 §5) and the
      // caller's text reaches the request body.
      o.renewal_info_advertised = true;
      t.json_bodies = true;
      acme::new_order_machine m{std::move(o), policy, splitmix64{1}};
      run_checked(m, t, clock, std::nullopt);
      break;
    }
    case 7: {
      acme::poll_options o;
      o.url = v[0];
      o.nonce.new_nonce_url = v[1];
      o.nonce.initial = v[2];
      t.json_bodies = true;
      acme::resource_poll_machine m{std::move(o), policy, splitmix64{1}};
      run_checked(m, t, clock, std::nullopt);
      break;
    }
    case 8: {
      acme::post_options o;
      o.url = v[0];
      o.nonce.new_nonce_url = v[1];
      o.payload = v[2];
      t.json_bodies = true;
      acme::post_machine m{std::move(o), policy, splitmix64{1}};
      run_checked(m, t, clock, std::nullopt);
      break;
    }
    default: {
      acme::ari_options o;
      o.renewal_info_url = v[0];
      o.cert_id = v[1];
      o.not_after = t0 + 2h;
      o.wait_for_window = (v[2].size() & 1) != 0;
      acme::ari_machine m{std::move(o), acme::ari_error_policy(), splitmix64{1}};
      run_checked(m, t, clock, std::nullopt);
      break;
    }
  }
  return 0;
}
