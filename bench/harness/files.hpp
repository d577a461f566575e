// Reading the files a scenario names, bounded: a path is checked before it is read, and no more
// than the limit is ever read, so `/dev/zero`, a directory or a 10 GB file is an error with its
// reason (exit 2), never an abort (docs/limits.md).
#pragma once

#include <cstddef>
#include <string>

namespace certretry::harness {

// Largest file a scenario may name with `body_file`, each (docs/harness.md).
inline constexpr std::size_t max_body_file_bytes = 64u << 20;

// "4 MiB", "64 KiB", "100 bytes": a limit as messages write it.
std::string size_text(std::size_t bytes);

// Reads at most `limit` bytes of `path` into `out`. On failure `error` says why, after the path:
// "PATH: cannot open (No such file or directory)", "PATH: is a directory", "PATH: larger than
// the 4 MiB limit of a scenario" (`what` names the limit's owner: "a scenario").
bool read_file_bounded(const std::string& path, std::size_t limit, const char* what,
                       std::string& out, std::string& error);

}  // namespace certretry::harness
