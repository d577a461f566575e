// What every fuzz target shares: invariant checks that say which one broke, and a reader that
// turns the fuzz input into choices and byte strings.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace certretry::fuzzing {

// Says which invariant broke (the stack alone does not, once inlined), then aborts.
[[noreturn]] inline void violated(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
  std::abort();
}

// Reads the input front to back; past the end every read gives zeros or nothing.
class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string_view bytes(std::size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    const std::string_view out{reinterpret_cast<const char*>(data_ + pos_), n};
    pos_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace certretry::fuzzing

#define FUZZ_CHECK(cond) \
  ((cond) ? void() : ::certretry::fuzzing::violated(#cond, __FILE__, __LINE__))
