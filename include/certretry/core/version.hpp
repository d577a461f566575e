// certretry/core/version.hpp — the library's version, as CMakeLists.txt's project() states it
// (a test keeps the two equal). Transports name it in their User-Agent.
#pragma once

#include <string_view>

#define CERTRETRY_VERSION_STRING "0.1.0"

namespace certretry {

/// The library's version, "major.minor.patch".
inline constexpr std::string_view version = CERTRETRY_VERSION_STRING;

}  // namespace certretry
