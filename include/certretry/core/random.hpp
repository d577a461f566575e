// certretry/core/random.hpp — the injected random source.
//
// Machines draw randomness (jitter, the ARI window pick) only from a generator the caller
// passes in: any std::uniform_random_bit_generator. The mapping to [0, 1) is the library's own,
// not std::uniform_real_distribution's, so one seed gives one transcript on every platform.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <random>
#include <string_view>

namespace certretry {

template <class R>
concept random_source = std::uniform_random_bit_generator<std::remove_cvref_t<R>>;

/// A small, fast, seedable generator (Steele, Lea, Flood: SplitMix64). The default random source
/// of the harness and the simulator.
///
/// Thread safety: one per machine (its state advances on every draw): never share one between
/// threads.
class splitmix64 {
 public:
  /// Each draw is 64 bits.
  using result_type = std::uint64_t;
  /// A generator started at `seed`: the same seed gives the same sequence on every platform.
  constexpr explicit splitmix64(std::uint64_t seed = 1) noexcept : state_(seed) {}
  /// The smallest draw (std::uniform_random_bit_generator).
  static constexpr result_type min() noexcept { return 0; }
  /// The largest draw (std::uniform_random_bit_generator).
  static constexpr result_type max() noexcept { return ~result_type{0}; }
  /// The next 64-bit draw.
  constexpr result_type operator()() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

/// A uniform double in [0, 1) built from 53 random bits of any generator.
template <random_source R>
constexpr double uniform_unit(R& rng) {
  using gen = std::remove_cvref_t<R>;
  using word = typename gen::result_type;
  constexpr std::uint64_t span = static_cast<std::uint64_t>(gen::max() - gen::min());
  // Usable bits per call: floor(log2(span + 1)).
  constexpr int bits_per_call =
      span == ~std::uint64_t{0} ? 64 : static_cast<int>(std::bit_width(span + 1)) - 1;
  static_assert(bits_per_call >= 1, "random source must produce at least one bit");
  std::uint64_t acc = 0;
  int have = 0;
  while (have < 53) {
    const std::uint64_t draw = static_cast<std::uint64_t>(static_cast<word>(rng() - gen::min()));
    const int take = bits_per_call < 53 - have ? bits_per_call : 53 - have;
    const std::uint64_t mask = take == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << take) - 1);
    acc = (acc << take) | (draw & mask);
    have += take;
  }
  return static_cast<double>(acc) * 0x1.0p-53;
}

/// A uniform double in [lo, hi).
template <random_source R>
constexpr double uniform_between(R& rng, double lo, double hi) {
  return lo + (hi - lo) * uniform_unit(rng);
}

/// FNV-1a (64 bit): a stable hash for deriving per-object seeds from names (a DN, a CertID), so
/// one object's draws do not depend on which objects came before it.
constexpr std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace certretry
