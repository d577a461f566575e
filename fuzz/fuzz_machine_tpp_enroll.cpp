// The Venafi TPP enrollment machine (tpp/enroll.hpp) driven by the fuzz input: a policy (the
// harness's default or an extreme one), the reset strategy and retrieve mode, then replies from
// the verifier's tpp-enroll alphabet (include/certretry/verify/subjects.hpp) and raw ones,
// transport errors and late wake-ups; the verifier's invariants checked after every step
// (machine_fuzz.hpp), one reset per enrollment and the configured reset among them.
//
// Input layout: the policy (machine_fuzz.hpp, read_policy), the error backoff
// (read_error_backoff), then one byte: bits 0-1 strategy (reset-on-detection,
// reset-before-request, query-only), bit 2 poll mode (else watch), bits 3-4 the watch (30 s, 0, 1 s,
// 10 min), bit 5 WorkToDoTimeout on the request, bit 6 resume an enrollment (retrieve
// first; not under reset-before-request), bit 7 a small max_body_bytes; then the events (machine_fuzz.hpp).
#include "certretry/tpp/enroll.hpp"
#include "certretry/tpp/reply.hpp"
#include "certretry/verify/subjects.hpp"
#include "machine_fuzz.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace certretry;
using namespace std::chrono_literals;

// TPP's bodies (docs/tpp.md, docs/sources.md#tpp-retrieve, #tpp-reset, #tpp-writeup) and near
// misses.
constexpr std::array<std::string_view, 16> bodies{
    R"({"CertificateDN":"\\VED\\Policy\\certretry\\example.com","Guid":"{1}"})",
    R"({"Stage":500,"Status":"WebSDK CertRequest Module Requested Certificate"})",
    R"({"Stage":500,"Status":"This certificate cannot be processed while it is in an error state. Fix any errors, and then click Retry."})",
    R"({"Stage":500,"Status":"Post CSR"})",
    R"({"Stage":-1,"Status":"Queued for renewal"})",
    R"({"Stage":-1,"Status":"Not yet available"})",
    R"({"CertificateData":"TUlJQ3ZlcmlmeQ==","Format":"base64","Filename":"x.cer"})",
    R"({"ProcessingResetCompleted":true})",
    R"({"Error":"Reset is not completed. No reset is required for the certificate."})",
    R"({"Error":"Certificate \\VED\\Policy\\certretry\\example.com does not exist or you do not have sufficient rights to the object."})",
    R"({"Error":"Reset is not completed. The certificate is locked."})",
    R"({"ProcessingResetCompleted":false})",
    R"({"CertificateDN":"","Error":"Certificate does not comply with policy."})",
    R"({"CertificateData":""})",
    R"({"Stage":"500","Status":42})",
    "<html>Service Unavailable</html>",
};

// A raw reply is a stale-enrollment message when the machine's detector would say so about a
// 500 that speaks about the enrollment (tpp/enroll.hpp, on_retrieve_reply).
bool stale(const response& r) {
  if (r.status != 500) return false;
  tpp::reply_reader reader;
  const tpp::reply rep = reader.read(r.body);
  return rep.json && tpp::stale_enrollment_detector{}(rep.status);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzing::byte_reader in(data, size);
  tpp::enroll_options o;
  // The harness's defaults: certctl's schedule under watch, VCert's 2 s under poll (chosen
  // below, once the mode is read: the policy bytes come first in every machine target).
  const backoff_policy<any_schedule, any_jitter> watch_def{schedules::certctl, no_jitter{}};
  const auto p = fuzzing::read_policy(in, watch_def);
  o.errors = fuzzing::read_error_backoff(in, o.errors);
  const std::uint8_t opts = in.u8();
  static constexpr std::array<tpp::reset_strategy, 3> strategies{
      tpp::reset_strategy::reset_on_detection, tpp::reset_strategy::reset_before_request,
      tpp::reset_strategy::query_only};
  o.strategy = strategies[(opts & 3) % 3];
  o.mode = (opts & 4) ? tpp::retrieve_mode::poll : tpp::retrieve_mode::watch;
  static constexpr std::array<duration, 4> watches{30s, 0s, 1s, 10min};
  o.watch = watches[(opts >> 3) & 3];
  if (opts & 0x20) o.request_work_to_do_timeout = o.watch;
  o.certificate_dn = "\\VED\\Policy\\certretry\\example.com";
  // A resumed run retrieves first; reset-before-request's "reset first" is about a new request.
  if ((opts & 0x40) && o.strategy != tpp::reset_strategy::reset_before_request)
    o.resume_dn = o.certificate_dn;
  const auto policy = (o.mode == tpp::retrieve_mode::poll && (size == 0 || (data[0] & 1) == 0))
                          ? backoff_policy<any_schedule, any_jitter>{schedules::vcert, no_jitter{}}
                          : p;
  verify::subject s = verify::tpp_subject(o, policy, 1, "{}", fuzzing::fuzz_start);
  const bool valid = bool(policy.validate()) && !o.errors.check();
  fuzzing::policy_facts(s.f, policy);
  fuzzing::drive(std::move(s), in, {bodies, &stale}, {.policy_valid = valid});
  return 0;
}
