// A JSON number read from the harness's files (scenarios, fleet and tune files, expectations).
#pragma once

#include "certretry/core/time.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <optional>

namespace certretry::harness {

// A number of any of simdjson's three kinds as a double; nothing for any other value.
inline std::optional<double> number_of(simdjson::dom::element e) {
  if (e.is_int64()) return static_cast<double>(e.get_int64().value());
  if (e.is_uint64()) return static_cast<double>(e.get_uint64().value());
  if (e.is_double()) return e.get_double().value();
  return std::nullopt;
}

// Seconds the caller has already bounded, as a duration of whole milliseconds (rounded).
inline duration ms_of_seconds(double s) {
  return duration{static_cast<std::int64_t>(std::llround(s * 1000.0))};
}

}  // namespace certretry::harness
