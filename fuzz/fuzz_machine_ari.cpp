// The ACME renewalInfo machine (acme/ari.hpp) driven by the fuzz input: the ARI options (the
// harness's defaults or extreme ones: notAfter from already past to a century away, Retry-After
// clamps, long-term retry, error backoff), then replies from the verifier's ari-renewal alphabet
// (include/certretry/verify/subjects.hpp) and raw ones, transport errors and late wake-ups; the
// verifier's invariants checked after every step (machine_fuzz.hpp): no renewalInfo request at
// or after notAfter, no wait below the floor but the wait for the window, Retry-After (RFC 9773
// §4.3) honoured up to the clamp.
//
// Input layout: one byte: bit 0 extreme options (then: notAfter, notBefore, min and max
// Retry-After, long-term retry, temporary retries, one byte each, and the error backoff, as
// machine_fuzz.hpp's read_error_backoff), bit 1 do not wait for the window; then the events
// (machine_fuzz.hpp).
#include "certretry/acme/ari.hpp"
#include "certretry/verify/subjects.hpp"
#include "machine_fuzz.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace certretry;
using namespace std::chrono_literals;

// renewalInfo replies (RFC 9773 §4.2) around the fuzz clock's start (2026-01-01), and near
// misses: an inverted window, dates at the ends of RFC 3339's range, offsets, fractions.
constexpr std::array<std::string_view, 14> bodies{
    R"({"suggestedWindow":{"start":"2026-01-01T01:00:00Z","end":"2026-01-01T02:00:00Z"}})",
    R"({"suggestedWindow":{"start":"2025-12-01T00:00:00Z","end":"2025-12-02T00:00:00Z"}})",
    R"({"suggestedWindow":{"start":"2026-01-02T00:00:00Z","end":"2026-01-01T00:00:00Z"}})",
    R"({"suggestedWindow":{"start":"0000-01-01T00:00:00Z","end":"9999-12-31T23:59:59Z"}})",
    R"({"suggestedWindow":{"start":"9999-12-31T23:59:58Z","end":"9999-12-31T23:59:59Z"}})",
    R"({"suggestedWindow":{"start":"2026-01-01T00:00:00.999999999+23:59","end":"2026-01-01T00:00:01-23:59"}})",
    R"({"suggestedWindow":{"start":"2026-03-31T00:00:00Z","end":"2026-04-30T00:00:00Z"}})",
    R"({"suggestedWindow":{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:00Z"}})",
    R"({"suggestedWindow":{"start":"2026-01-01T00:00:00Z"}})",
    R"({"suggestedWindow":{"start":1,"end":2}})",
    R"({"suggestedWindow":{"start":"2026-01-01T01:00:00Z","end":"2026-01-01T02:00:00Z"},"explanationURL":"https://ca.example/why"})",
    R"({"suggestedWindow":null})",
    R"({"type":"urn:ietf:params:acme:error:malformed","detail":"unknown certificate"})",
    "",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzing::byte_reader in(data, size);
  acme::ari_options o;
  o.cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  o.not_after = fuzzing::fuzz_start + std::chrono::hours{24 * 90};
  const std::uint8_t opts = in.u8();
  if (opts & 1) {
    static constexpr std::array<duration, 8> offsets{
        -1h, 0s, 1s, 1h, std::chrono::hours{24 * 90}, fuzzing::years(100), duration{1}, 59s};
    const std::uint8_t na = in.u8();
    if (na < 8)
      o.not_after.reset();
    else
      o.not_after = fuzzing::fuzz_start + offsets[na % offsets.size()];
    const std::uint8_t nb = in.u8();
    if (nb & 1) o.not_before = fuzzing::fuzz_start - offsets[(nb >> 1) % offsets.size()];
    o.min_retry_after = fuzzing::extreme_durations[in.u8() % fuzzing::extreme_durations.size()];
    o.max_retry_after = fuzzing::extreme_durations[in.u8() % fuzzing::extreme_durations.size()];
    o.long_term_retry = fuzzing::extreme_durations[in.u8() % fuzzing::extreme_durations.size()];
    o.max_temporary_retries = fuzzing::extreme_attempts[in.u8() % fuzzing::extreme_attempts.size()];
    o.errors = fuzzing::read_error_backoff(in, o.errors);
  }
  o.wait_for_window = (opts & 2) == 0;
  verify::subject s = verify::ari_subject(o, 1, "{}", fuzzing::fuzz_start);
  const bool valid = !o.check();
  fuzzing::drive(std::move(s), in, {bodies, {}}, {.policy_valid = valid});
  return 0;
}
