// Replay main for the fuzz targets when they are not built with libFuzzer: runs
// LLVMFuzzerTestOneInput once over each file named on the command line, and over every regular
// file of each directory named (sorted, not recursive), so the seed corpora (and any crash
// reproducers kept in them) run as plain tests with any compiler.
//
// Usage: fuzz_<name> PATH...   Exit 0 when every input ran; 1 when a path cannot be read.
// An invariant violation inside the target aborts, which fails the test.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool run_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
  // Copy into an exactly sized heap buffer, as libFuzzer does, so ASan sees overreads.
  std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  std::fprintf(stderr, "running %s (%zu bytes)\n", path.c_str(), data.size());
  static const std::uint8_t none = 0;  // libFuzzer never passes a null pointer either
  LLVMFuzzerTestOneInput(data.empty() ? &none : data.data(), data.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t ran = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg{argv[i]};
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(arg, ec))
        if (e.is_regular_file()) files.push_back(e.path());
      if (ec) {
        std::fprintf(stderr, "cannot list %s: %s\n", arg.c_str(), ec.message().c_str());
        ok = false;
        continue;
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (run_file(f))
          ++ran;
        else
          ok = false;
      }
    } else if (run_file(arg)) {
      ++ran;
    } else {
      ok = false;
    }
  }
  std::printf("%zu inputs ran\n", ran);
  return ok ? 0 : 1;
}
