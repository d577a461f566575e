// The main() of the load benchmarks (bench_tpp_load, bench_acme_poll): Google Benchmark's timed
// cases, then the table the docs quote. `--table-only` prints only the table (what the docs
// tests compare), `--seed=N` and `--<count_flag>=N` set its seed and size.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace certretry::bench {

// Reads `--name=value` into value; exits 2 on a value that is not a whole number.
inline bool take_flag(std::string_view arg, std::string_view name, std::uint64_t& value) {
  if (!arg.starts_with(name)) return false;
  const std::string text(arg.substr(name.size()));
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || end == nullptr || *end != '\0') {
    std::fprintf(stderr, "bad value for %.*s\n", static_cast<int>(name.size()), name.data());
    std::exit(2);
  }
  value = v;
  return true;
}

// print_table(count, seed) returns the exit status.
template <class PrintTable>
int table_main(int argc, char** argv, std::string_view count_flag, PrintTable print_table) {
  bool table_only = false;
  std::uint64_t seed = 1, n = 10000;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--table-only")
      table_only = true;
    else if (take_flag(arg, "--seed=", seed) || take_flag(arg, count_flag, n))
      continue;
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  if (n == 0) n = 1;
  if (!table_only) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
  }
  return print_table(static_cast<std::size_t>(n), seed);
}

}  // namespace certretry::bench
