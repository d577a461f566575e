# Warnings for certretry's own targets (tests, harness, benchmarks, examples, fuzzers).
add_library(certretry_warnings INTERFACE)
target_compile_options(certretry_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Werror=return-type>)
