// The TPP load tables (docs/tpp.md) as a function: bench_tpp_load prints them,
// `certretry-harness report` runs them too.
#pragma once

#include "table_text.hpp"

#include "certretry/core/action.hpp"
#include "certretry/core/time.hpp"
#include "certretry/testing/tpp_server.hpp"
#include "certretry/tpp/enroll.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness {

// Every TPP table (exit_code 1 when the server's counts disagree with the clients') for `enrollments` enrollments per row (the docs: 10 000) and a seed.
table_run tpp_load_tables(std::size_t enrollments, std::uint64_t seed);

namespace tpp_load {

// One of the four clients of the tables.
struct client {
  std::string_view name;
  tpp::reset_strategy strategy;
  tpp::retrieve_mode mode;
  duration max_wait;
  bool vcert;  // true: the VCert baseline instead of certretry's machine
};

// certretry watch, certretry poll, VCert, cert-manager: the tables' order.
extern const std::array<client, 4> clients;

// The DN of enrollment i under the tables' policy folder.
std::string certificate_dn(std::size_t i);

// One enrollment of certificate i, start to finish, on the server's clock.
outcome enroll(const client& c, std::size_t i, model::tpp_server& server, virtual_clock& clock);

}  // namespace tpp_load
}  // namespace certretry::harness
