// The ACME resource poll machine (acme/poll.hpp) driven by the fuzz input: a policy (the
// harness's default or an extreme one), the error backoff, the pacing, the resource kind and
// the first Retry-After, then replies from the verifier's acme-poll alphabet
// (include/certretry/verify/subjects.hpp) and raw ones, transport errors and late wake-ups;
// the verifier's invariants checked after every step (machine_fuzz.hpp).
//
// Input layout: the policy (machine_fuzz.hpp, read_policy), the error backoff
// (read_error_backoff), then one byte: bits 0-1 the kind (order, authorization, challenge),
// bit 2 a nonce at hand, bits 3-4 badNonce retries (0, 1, 3, 10), bit 5 a first Retry-After
// (wait first), bit 6 extreme pacing (next byte: stretch and max_stretch, then the processing
// error floor), bit 7 a small max_body_bytes; then the events (machine_fuzz.hpp).
#include "acme_bodies.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/verify/subjects.hpp"
#include "machine_fuzz.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

using namespace certretry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzing::byte_reader in(data, size);
  const auto p = fuzzing::read_policy(in, acme::default_policy());
  acme::poll_options o;
  o.url = "/acme/order/1";
  o.errors = fuzzing::read_error_backoff(in, o.errors);
  const std::uint8_t opts = in.u8();
  static constexpr std::array<acme::resource_kind, 3> kinds{acme::resource_kind::order,
                                                            acme::resource_kind::authorization,
                                                            acme::resource_kind::challenge};
  o.kind = kinds[(opts & 3) % 3];
  if (opts & 4) o.nonce.initial = "fuzzNonce0";
  static constexpr std::array<std::uint32_t, 4> retries{0, 1, 3, 10};
  o.nonce.max_bad_nonce_retries = retries[(opts >> 3) & 3];
  if (opts & 0x20) {
    o.first_retry_after = fuzzing::extreme_durations[in.u8() % fuzzing::extreme_durations.size()];
    o.wait_first = true;
  }
  if (opts & 0x40) {
    const std::uint8_t b = in.u8();
    o.pacing.stretch = fuzzing::extreme_fractions[b % 10] * 4.0;
    o.pacing.max_stretch = fuzzing::extreme_fractions[(b / 10) % 10] * 4.0;
    o.pacing.processing_error_floor =
        fuzzing::extreme_durations[in.u8() % fuzzing::extreme_durations.size()];
  }
  if (opts & 0x80) o.max_body_bytes = 64;
  verify::subject s = verify::acme_poll_subject(o, p, 1, "{}", fuzzing::fuzz_start);
  const bool valid = bool(p.validate()) && !o.errors.check() && !o.pacing.check();
  fuzzing::policy_facts(s.f, p);
  s.f.max_sends_in_a_row += 2 * o.nonce.max_bad_nonce_retries;
  fuzzing::drive(std::move(s), in, {fuzzing::acme_bodies, {}}, {.policy_valid = valid});
  return 0;
}
