#include "shared.hpp"

namespace certretry::harness {

backoff_policy<any_schedule, any_jitter> make_policy(const backoff_settings& b,
                                                     std::string_view schedule_if_absent) {
  // Both names were checked when the options were read.
  const auto schedule = parse_schedule(b.schedule ? *b.schedule : schedule_if_absent);
  const auto jitter = named_jitter(b.jitter, b.jitter_pct / 100.0, jitter_cap);
  limits lim;
  lim.max_wait = b.max_wait;
  lim.min_delay = b.min_delay;
  lim.max_attempts = b.max_attempts;
  retry_after_policy ra;
  ra.mode = b.honor_retry_after ? retry_after_mode::at_least_schedule : retry_after_mode::ignore;
  ra.ceiling = b.retry_after_ceiling;
  return {schedule.value_or(any_schedule{schedules::certctl}), jitter.value_or(any_jitter{}), lim,
          ra};
}

bool scripts_new_nonce(const scenario& s, std::string_view url) {
  for (const auto& [key, replies] : s.server) {
    if (key == "*") return true;
    for (std::string_view method : {"HEAD ", "GET ", "POST "})
      if (key.size() == method.size() + url.size() && key.starts_with(method) &&
          std::string_view(key).substr(method.size()) == url)
        return true;
  }
  return false;
}

result<response> nonce_supplier::send(const request_view& r) {
  auto out = inner->send(r);
  if (out && !find_header(out.value().headers, acme::replay_nonce_header))
    out.value().headers.push_back(
        {std::string(acme::replay_nonce_header), "scriptNonce" + std::to_string(++issued)});
  return out;
}

}  // namespace certretry::harness
