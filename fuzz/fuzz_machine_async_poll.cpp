// The async-CA poll machine (async_ca/poller.hpp) driven by the fuzz input: a policy (the
// harness's default or an extreme one), a CA profile, then replies from the verifier's
// async-poll alphabet (include/certretry/verify/subjects.hpp) and raw ones, transport errors
// and late wake-ups; the verifier's invariants checked after every step (machine_fuzz.hpp).
//
// Input layout: the policy (machine_fuzz.hpp, read_policy), then one byte: bits 0-2 the CA
// (DigiCert, Sectigo, Entrust, GlobalSign, generic), bit 7 a small max_body_bytes (64); then
// the events (machine_fuzz.hpp).
#include "certretry/async_ca/poller.hpp"
#include "certretry/verify/subjects.hpp"
#include "machine_fuzz.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace certretry;

// What the CAs answer (docs/async-polling.md), and near misses.
constexpr std::array<std::string_view, 18> bodies{
    R"({"status":"issued","certificate":{"id":7}})",
    R"({"status":"waiting_pickup","certificate":{"id":7}})",
    R"({"status":"waiting_pickup"})",
    R"({"status":"needs_approval"})",
    R"({"status":"Issued"})",
    R"({"status":"Applied"})",
    R"({"status":"Not Enrolled"})",
    R"({"status":"AWAITING_APPROVAL"})",
    R"({"status":"ISSUED","certificate":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"})",
    R"({"status":"ISSUED","certificate":""})",
    R"({"status":"denied"})",
    R"({"status":"something new"})",
    R"({"errors":[{"code":"request_limit_exceeded","message":"slow down"}]})",
    R"({"status":null})",
    R"({"status":"issued","certificate":{"id":-1}})",
    "-----BEGIN CERTIFICATE-----\nMIIBverify\n-----END CERTIFICATE-----\n",
    "[]",
    "{\"status\":\"issued\"",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzing::byte_reader in(data, size);
  const backoff_policy<any_schedule, any_jitter> def{schedules::certctl, no_jitter{}};
  const auto p = fuzzing::read_policy(in, def);
  const std::uint8_t opts = in.u8();
  static constexpr std::array<async_ca, 5> cas{async_ca::digicert, async_ca::sectigo,
                                               async_ca::entrust, async_ca::globalsign,
                                               async_ca::generic};
  async_ca_order order{cas[(opts & 7) % cas.size()], "1", "1"};
  const std::size_t max_body = (opts & 0x80) ? 64 : default_max_body_bytes;
  verify::subject s =
      verify::async_poll_subject(std::move(order), p, 1, "{}", fuzzing::fuzz_start, max_body);
  const bool valid = bool(p.validate());
  fuzzing::policy_facts(s.f, p);
  fuzzing::drive(std::move(s), in, {bodies, {}}, {.policy_valid = valid});
  return 0;
}
