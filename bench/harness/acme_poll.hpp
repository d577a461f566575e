// The ACME order-polling table (docs/acme.md) as a function: bench_acme_poll prints it,
// `certretry-harness report` runs it too.
#pragma once

#include "table_text.hpp"

#include "certretry/core/time.hpp"
#include "certretry/testing/acme/server.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace certretry::harness {

// The table for `orders` orders per row (the docs: 10 000) and a seed; exit_code 1 when an
// order did not end valid or the server's poll count disagrees with a client's.
table_run acme_poll_tables(std::size_t orders, std::uint64_t seed);

namespace acme_poll {

enum class client_id : std::uint8_t { lego, certbot, acmez, acme_sh, certretry };

struct client {
  client_id id;
  std::string_view name;
  std::string_view reads;  // which replies' Retry-After it reads
};

// lego, certbot, acmez, acme.sh, certretry: the table's order.
extern const std::array<client, 5> clients;

struct server_kind {
  model::acme_order_style style;
  std::string_view name;
};

// Retry-After 3 s (Boulder), no Retry-After.
extern const std::array<server_kind, 2> servers;

// What one order cost a client.
struct order_result {
  bool valid = false;
  std::uint32_t polls = 0;  // as the client counted them
  duration to_valid{};      // finalize sent -> the reply saying valid received
};

// Client c finalizes order `id` and polls it until it is valid (or gives up after 10 min).
order_result poll_order(const client& c, model::acme_server& server, virtual_clock& clock,
                        std::uint64_t id);

}  // namespace acme_poll
}  // namespace certretry::harness
