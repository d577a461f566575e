// certretry/core/invalid_value.hpp — a caller's value refused, by field and reason.
#pragma once

#include <string>
#include <string_view>

namespace certretry {

/// A value refused, by the field it came from and why; empty `why`: nothing refused. Both views
/// are static text, so building one never allocates. Machines refuse a bad policy
/// (errc::invalid_policy) or request value (errc::invalid_request_value) at start with
/// message() as the outcome's reason, before anything is sent.
///
/// Thread safety: static text only: safe to copy and read from any thread.
struct invalid_value {
  std::string_view field;  ///< the field refused (static text)
  std::string_view why;    ///< why, or empty when nothing was refused

  /// True when a value was refused.
  constexpr explicit operator bool() const noexcept { return !why.empty(); }
  /// "field: why", for an outcome's reason.
  std::string message() const {
    std::string m(field);
    m += ": ";
    m += why;
    return m;
  }
};

}  // namespace certretry
