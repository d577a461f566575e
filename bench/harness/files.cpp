#include "files.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace certretry::harness {

std::string size_text(std::size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

bool read_file_bounded(const std::string& path, std::size_t limit, const char* what,
                       std::string& out, std::string& error) {
  const auto too_large = [&] {
    error = path + ": larger than the " + size_text(limit) + " limit of " + what;
    return false;
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = path + ": cannot open (" + std::strerror(errno) + ")";
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    error = path + ": is a directory, not a file";
    return false;
  }
  if (S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) > limit) return too_large();
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> f{std::fopen(path.c_str(), "rb"),
                                                          &std::fclose};
  if (!f) {
    error = path + ": cannot open (" + std::strerror(errno) + ")";
    return false;
  }
  // Devices and pipes have no size to check: read one byte past the limit at most.
  out.clear();
  char buf[65536];
  for (;;) {
    const std::size_t want = std::min(sizeof buf, limit + 1 - out.size());
    const std::size_t n = std::fread(buf, 1, want, f.get());
    out.append(buf, n);
    if (out.size() > limit) {
      out.clear();
      return too_large();
    }
    if (n < want) break;
  }
  if (std::ferror(f.get())) {
    error = path + ": cannot read (" + std::strerror(errno) + ")";
    return false;
  }
  return true;
}

}  // namespace certretry::harness
