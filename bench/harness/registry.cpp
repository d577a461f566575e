// The machines `replay` knows, and replay() itself.
#include "machines/machines.hpp"

namespace certretry::harness {

const std::vector<machine_adapter>& machines() {
  // By name: --help and error messages list them in this order.
  static const std::vector<machine_adapter> all{
      acme_new_order_machine(), acme_poll_machine(),  acme_post_machine(),
      ari_renewal_machine(),    async_poll_machine(), tpp_enroll_machine(),
  };
  return all;
}

std::vector<std::string> machine_names() {
  std::vector<std::string> names;
  for (const auto& m : machines()) names.emplace_back(m.name);
  return names;
}

replay_result replay(const scenario& s, const replay_output& out) {
  for (const auto& m : machines())
    if (m.name == s.machine) return m.replay(s, out);
  std::string known;
  for (const auto& n : machine_names()) known += (known.empty() ? "" : ", ") + n;
  return malformed("machine: '" + s.machine + "' is not a machine this harness knows (" + known +
                   ")");
}

}  // namespace certretry::harness
