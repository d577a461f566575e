// A saved failure ledger (ledger/ledger_json.hpp) is read back from wherever the caller kept it:
// a file, a shared volume, a Kubernetes annotation. Any bytes: an error value with a message, or
// a ledger that saves to the same text it reads back as, whose counts add up, and whose gate and
// record never fail (a record after the largest counts saturates instead of wrapping).
#include "certretry/ledger/ledger_json.hpp"
#include "fuzz_support.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace certretry;
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  std::string detail;
  auto parsed = parse_ledger(text, detail);
  if (!parsed) {
    FUZZ_CHECK(!detail.empty() && detail.size() < 1024);
    FUZZ_CHECK(detail.find('\n') == std::string::npos);
    return 0;
  }
  failure_ledger l = parsed.value();
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < failure_class_count; ++i)
    sum += l.failures(static_cast<failure_class>(i));
  FUZZ_CHECK(sum <= l.consecutive_failures());
  FUZZ_CHECK(l.unit().size() <= ledger_max_text + 3 && l.action().size() <= ledger_max_text + 3);

  // Saved again, it reads back as the same ledger and the same text.
  const std::string saved = to_json(l);
  FUZZ_CHECK(saved.size() <= ledger_max_json);
  std::string again_detail;
  auto again = parse_ledger(saved, again_detail);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again.value() == l);
  FUZZ_CHECK(to_json(again.value()) == saved);

  // The gate and a record work at any time the ledger can name.
  const time_point now = l.next_attempt().value_or(time_point{});
  const gate_decision d = l.gate(now);
  if (l.needs_person()) FUZZ_CHECK(d.k == gate_decision::kind::needs_person);
  outcome o;
  o.kind = outcome_kind::failed;
  o.reason = "again";
  const std::uint32_t before = l.consecutive_failures();
  l.record(o, now);
  FUZZ_CHECK(l.consecutive_failures() >= before);
  FUZZ_CHECK(!l.gate(now).allowed());
  return 0;
}
