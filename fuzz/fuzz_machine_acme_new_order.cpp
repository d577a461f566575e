// The ACME new-order machine (acme/new_order.hpp) driven by the fuzz input: a policy (the
// harness's default or an extreme one), the error backoff, the `replaces` claim and the nonce
// options, then replies from the verifier's acme-new-order alphabet
// (include/certretry/verify/subjects.hpp) and raw ones, transport errors and late wake-ups;
// the verifier's invariants checked after every step (machine_fuzz.hpp), one `replaces`
// fallback per order among them.
//
// Input layout: the policy (machine_fuzz.hpp, read_policy), the error backoff
// (read_error_backoff), then one byte: bit 0 claims `replaces`, bit 1 the directory advertises
// renewalInfo, bit 2 a nonce at hand at the start, bits 3-4 badNonce retries (0, 1, 3, 10),
// bit 7 a small max_body_bytes; then the events (machine_fuzz.hpp).
#include "acme_bodies.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/verify/subjects.hpp"
#include "machine_fuzz.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

using namespace certretry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzing::byte_reader in(data, size);
  const auto p = fuzzing::read_policy(in, acme::default_policy());
  acme::new_order_options o;
  o.errors = fuzzing::read_error_backoff(in, o.errors);
  const std::uint8_t opts = in.u8();
  if (opts & 1) o.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  o.renewal_info_advertised = (opts & 2) != 0;
  if (opts & 4) o.nonce.initial = "fuzzNonce0";
  static constexpr std::array<std::uint32_t, 4> retries{0, 1, 3, 10};
  o.nonce.max_bad_nonce_retries = retries[(opts >> 3) & 3];
  if (opts & 0x80) o.max_body_bytes = 64;
  verify::subject s = verify::acme_new_order_subject(o, p, 1, "{}", fuzzing::fuzz_start);
  const bool valid = bool(p.validate()) && !o.errors.check();
  fuzzing::policy_facts(s.f, p);
  // A badNonce is resent at once, with a HEAD new-nonce before it when the error had no nonce
  // (acme/exchange.hpp): two requests per retry without a wait.
  s.f.max_sends_in_a_row += 2 * o.nonce.max_bad_nonce_retries;
  fuzzing::drive(std::move(s), in, {fuzzing::acme_bodies, {}}, {.policy_valid = valid});
  return 0;
}
