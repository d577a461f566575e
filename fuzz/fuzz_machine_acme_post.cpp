// The signed ACME POST machine (acme/exchange.hpp, post_machine) driven by the fuzz input: a
// policy (the harness's default or an extreme one), the error backoff, the kind (finalize,
// challenge, other) and the nonce options, then replies from the verifier's acme-post alphabet
// (include/certretry/verify/subjects.hpp) and raw ones, transport errors and late wake-ups;
// the verifier's invariants checked after every step (machine_fuzz.hpp).
//
// Input layout: the policy (machine_fuzz.hpp, read_policy), the error backoff
// (read_error_backoff), then one byte: bits 0-1 the kind (finalize, challenge, other), bit 2 no
// nonce at hand at the start, bits 3-4 badNonce retries (0, 1, 3, 10), bit 5 POST-as-GET (an
// empty payload), bit 7 a small max_body_bytes; then the events (machine_fuzz.hpp).
#include "acme_bodies.hpp"
#include "certretry/acme/exchange.hpp"
#include "certretry/verify/subjects.hpp"
#include "machine_fuzz.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

using namespace certretry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzing::byte_reader in(data, size);
  const auto p = fuzzing::read_policy(in, acme::default_policy());
  acme::post_options o;
  o.errors = fuzzing::read_error_backoff(in, o.errors);
  const std::uint8_t opts = in.u8();
  switch ((opts & 3) % 3) {
    case 0:
      o.kind = acme::post_kind::finalize;
      o.url = "/acme/order/1/finalize";
      o.resource_url = "/acme/order/1";
      o.payload = R"({"csr":"MIIBPTCBxAIBADBFMQswCQYDVQQGEwJBVTET"})";
      break;
    case 1:
      o.kind = acme::post_kind::challenge;
      o.url = "/acme/chall/1";
      o.payload = "{}";
      break;
    default:
      o.kind = acme::post_kind::other;
      o.url = "/acme/new-account";
      o.payload = R"({"termsOfServiceAgreed":true})";
  }
  if (opts & 0x20) o.payload.clear();
  if (!(opts & 4)) o.nonce.initial = "fuzzNonce0";
  static constexpr std::array<std::uint32_t, 4> retries{0, 1, 3, 10};
  o.nonce.max_bad_nonce_retries = retries[(opts >> 3) & 3];
  if (opts & 0x80) o.max_body_bytes = 64;
  verify::subject s = verify::acme_post_subject(o, p, 1, "{}", fuzzing::fuzz_start);
  const bool valid = bool(p.validate()) && !o.errors.check();
  fuzzing::policy_facts(s.f, p);
  s.f.max_sends_in_a_row += 2 * o.nonce.max_bad_nonce_retries;
  fuzzing::drive(std::move(s), in, {fuzzing::acme_bodies, {}}, {.policy_valid = valid});
  return 0;
}
