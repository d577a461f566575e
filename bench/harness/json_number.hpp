// A JSON number read from the harness's files (scenarios, fleet and tune files, expectations).
#pragma once

#include <simdjson.h>

#include <optional>

namespace certretry::harness {

// A number of any of simdjson's three kinds as a double; nothing for any other value.
inline std::optional<double> number_of(simdjson::dom::element e) {
  if (e.is_int64()) return static_cast<double>(e.get_int64().value());
  if (e.is_uint64()) return static_cast<double>(e.get_uint64().value());
  if (e.is_double()) return e.get_double().value();
  return std::nullopt;
}

}  // namespace certretry::harness
