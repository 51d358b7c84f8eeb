// The randomness half of the runtime seam: core code draws random numbers only
// from an injected RandomSource. SeededRandom (xoshiro256**, seeded through
// SplitMix64) is deterministic: the same seed gives the same stream anywhere.
#pragma once

#include <cassert>
#include <cstdint>

namespace hcsim::core {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual std::uint64_t next_u64() = 0;

  // Uniform in [0, bound), bound > 0 (Lemire's multiply-shift, without the
  // rejection step: the bias is below 2^-32 for bounds under 2^32).
  std::uint64_t uniform(std::uint64_t bound) {
    assert(bound > 0);
    __extension__ using U128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<U128>(next_u64()) * bound) >> 64);
  }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
};

// SplitMix64 step: also the fixed rule for deriving child seeds.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (std::uint64_t& word : s_) word = splitmix64(sm);
  }
  std::uint64_t next_u64() override { return next(); }

  // Non-virtual fast path for owners that hold a SeededRandom directly.
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace hcsim::core
