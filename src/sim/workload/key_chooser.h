// Key popularity: which of `keys` keys (indices 0..keys-1, named "key:<i>" by
// the workload) the next request is for. Uniform, zipfian with a given skew
// (O(1) per sample by rejection-inversion, no table of n entries), hotspot
// (a fraction of the keys gets a fraction of the requests) or sequential.
// Same parameters + same random stream = same key sequence, on any machine.
#pragma once

#include <cstdint>

#include "core/runtime/random.h"
#include "core/util/status.h"

namespace hcsim::sim {

struct KeyPopularity {
  enum class Kind : std::uint8_t { kUniform, kZipfian, kHotspot, kSequential };
  Kind kind = Kind::kUniform;
  double zipf_skew = 0.99;           // kZipfian: P(rank r) proportional to 1/r^skew, skew > 0
  double hot_key_fraction = 0.2;     // kHotspot: the first ceil(fraction*keys) keys are hot
  double hot_request_fraction = 0.8; // kHotspot: share of requests that go to hot keys
  bool zipf_scramble = false;        // kZipfian: spread ranks over the key space by a fixed bijection
};

// Not thread-safe (next() advances state; probability() fills a cache on
// first use): one chooser per client, as everything in a simulation.
class KeyChooser {
 public:
  static constexpr std::uint64_t kMaxKeys = std::uint64_t{1} << 40;
  static constexpr double kMaxZipfSkew = 10.0;
  // probability() sums H(n, s) exactly (O(n), once) up to this many keys and
  // uses an Euler-Maclaurin expansion above it (relative error < 1e-12).
  static constexpr std::uint64_t kExactHarmonicMaxKeys = 10'000'000;

  // keys >= 1; parameters validated by validate() (asserted here; out of
  // range values are clamped so that a release build never misbehaves).
  KeyChooser(KeyPopularity popularity, std::uint64_t keys);
  // keys in [1, 2^40]; only the fields the kind uses are checked: zipfian
  // skew in (0, 10], hotspot fractions in (0, 1]. Messages name the field.
  static core::Status validate(const KeyPopularity& popularity, std::uint64_t keys);

  // A key index in [0, keys). Zipfian: rank 1 is key 0 unless zipf_scramble.
  // Sequential: 0, 1, ..., keys-1, 0, ... (no randomness used).
  // Draws: uniform one uniform(keys); hotspot exactly one unit() (hot or
  // not) then one uniform() (which key); zipfian one unit() per
  // rejection-inversion attempt (1.000 to 1.008 per sample measured for
  // skews 0.01..10; at most 64).
  std::uint64_t next(core::SeededRandom& random);

  // The exact probability of key index i (for tests and reports); 0 for
  // i >= keys. Sequential: 1/keys, the share of each key over a cycle.
  double probability(std::uint64_t index) const;
  std::uint64_t keys() const { return keys_; }

 private:
  std::uint64_t next_zipf_rank(core::SeededRandom& random) const;  // 0-based rank
  double zipf_h_integral(double x) const;
  double zipf_h_integral_inverse(double x) const;
  double zipf_h(double x) const;
  double harmonic() const;  // H(keys, s), computed on first use
  // The fixed bijection of [0, keys) used by zipf_scramble, and its inverse.
  std::uint64_t scramble(std::uint64_t rank) const;
  std::uint64_t unscramble(std::uint64_t index) const;
  std::uint64_t feistel(std::uint64_t x, bool inverse) const;

  KeyPopularity p_;
  std::uint64_t keys_;
  std::uint64_t cursor_ = 0;  // sequential
  std::uint64_t hot_keys_ = 0;
  // zipfian rejection-inversion constants (Hormann & Derflinger 1996)
  double s_ = 0.0;            // the skew
  double h_x1_ = 0.0;         // H(1.5) - h(1): lower end of the sampled range
  double h_n_ = 0.0;          // H(keys + 0.5): upper end
  double squeeze_ = 0.0;      // accept at once when k - x <= squeeze_
  // zipf_scramble: Feistel network over `bits` bits (left half high bits)
  int scramble_left_bits_ = 0;
  int scramble_right_bits_ = 0;
  mutable double harmonic_ = 0.0;  // 0 until computed
};

}  // namespace hcsim::sim
