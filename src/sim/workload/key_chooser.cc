#include "sim/workload/key_chooser.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cfloat>
#include <cmath>

#include <fmt/format.h>

#include "sim/engine/rounding.h"

namespace hcsim::sim {
namespace {

constexpr double kTaylorThreshold = 1e-8;
constexpr int kMaxZipfAttempts = 64;
constexpr double kMinZipfSkew = 1e-6;  // release-build clamp of an invalid skew

// log1p(x) / x, continuous at 0 (Taylor series near 0 avoids 0/0 and the
// cancellation of the direct form).
double log1p_over_x(double x) {
  if (std::fabs(x) > kTaylorThreshold) return std::log1p(x) / x;
  return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

// expm1(x) / x, continuous at 0.
double expm1_over_x(double x) {
  if (std::fabs(x) > kTaylorThreshold) return std::expm1(x) / x;
  return 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

// ceil_count(fraction, keys) (0.07 x 100 keys: 7 hot, not 8), below keys
// unless the fraction is 1.
std::uint64_t hot_key_count(double fraction, std::uint64_t keys) {
  std::uint64_t hot = ceil_count(fraction, keys);
  if (!(fraction >= 1.0) && hot >= keys && keys > 1) hot = keys - 1;
  assert(hot >= 1 && hot <= keys);
  return hot;
}

// Feistel round function: a 64-bit finalizer (SplitMix64's) over the half
// and a fixed round key.
constexpr int kFeistelRounds = 4;
constexpr std::uint64_t kFeistelKeys[kFeistelRounds] = {
    0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};

std::uint64_t feistel_round(std::uint64_t half, int round) {
  std::uint64_t z = half ^ kFeistelKeys[round];
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string show(double v) { return fmt::format("{}", v); }

}  // namespace

core::Status KeyChooser::validate(const KeyPopularity& popularity, std::uint64_t keys) {
  if (keys < 1) return core::Status::error(fmt::format("keys must be at least 1, got {}", keys));
  if (keys > kMaxKeys) {
    return core::Status::error(
        fmt::format("keys must be at most {} (2^40), got {}", kMaxKeys, keys));
  }
  switch (popularity.kind) {
    case KeyPopularity::Kind::kUniform:
    case KeyPopularity::Kind::kSequential:
      return core::Status::ok();
    case KeyPopularity::Kind::kZipfian: {
      const double s = popularity.zipf_skew;
      if (!(s > 0.0)) {
        return core::Status::error("zipfian skew must be greater than 0, got " + show(s));
      }
      if (s > kMaxZipfSkew) {
        return core::Status::error("zipfian skew must be at most 10, got " + show(s));
      }
      return core::Status::ok();
    }
    case KeyPopularity::Kind::kHotspot: {
      const double k = popularity.hot_key_fraction;
      if (!(k > 0.0 && k <= 1.0)) {
        return core::Status::error("hotspot hot_key_fraction must be in (0, 1], got " + show(k));
      }
      const double r = popularity.hot_request_fraction;
      if (!(r > 0.0 && r <= 1.0)) {
        return core::Status::error("hotspot hot_request_fraction must be in (0, 1], got " +
                                   show(r));
      }
      return core::Status::ok();
    }
  }
  return core::Status::error("unknown key popularity kind");
}

KeyChooser::KeyChooser(KeyPopularity popularity, std::uint64_t keys)
    : p_(popularity), keys_(std::clamp<std::uint64_t>(keys, 1, kMaxKeys)) {
  assert(validate(popularity, keys).is_ok());
  switch (p_.kind) {
    case KeyPopularity::Kind::kHotspot: {
      double& r = p_.hot_request_fraction;
      if (!(r >= 0.0)) r = 0.0;  // also NaN
      if (r > 1.0) r = 1.0;
      hot_keys_ = hot_key_count(p_.hot_key_fraction, keys_);
      break;
    }
    case KeyPopularity::Kind::kZipfian: {
      const double skew = p_.zipf_skew;
      s_ = skew > kMaxZipfSkew ? kMaxZipfSkew : (skew >= kMinZipfSkew ? skew : kMinZipfSkew);
      // Rejection-inversion (Hormann & Derflinger 1996) with the hat h(x) =
      // x^-s and its integral H(x) = (x^(1-s) - 1) / (1 - s) (log x at s = 1),
      // ranks k in [1, n]. The range of u is [H(1.5) - h(1), H(n + 0.5)]:
      // rank 1 gets an interval of exactly h(1), so it is never rejected.
      h_x1_ = zipf_h_integral(1.5) - 1.0;
      h_n_ = zipf_h_integral(static_cast<double>(keys_) + 0.5);
      squeeze_ = 2.0 - zipf_h_integral_inverse(zipf_h_integral(2.5) - zipf_h(2.0));
      if (p_.zipf_scramble && keys_ > 1) {
        const int bits = static_cast<int>(std::bit_width(keys_ - 1));  // 2^bits >= keys, the smallest such
        scramble_left_bits_ = bits / 2;
        scramble_right_bits_ = bits - bits / 2;
      }
      break;
    }
    case KeyPopularity::Kind::kUniform:
    case KeyPopularity::Kind::kSequential:
      break;
  }
}

double KeyChooser::zipf_h(double x) const { return std::exp(-s_ * std::log(x)); }

double KeyChooser::zipf_h_integral(double x) const {
  const double log_x = std::log(x);
  return expm1_over_x((1.0 - s_) * log_x) * log_x;
}

double KeyChooser::zipf_h_integral_inverse(double x) const {
  // (1 - s) x > -1 on the sampled range; clamp the rounding at its end (the
  // result is then +inf, which next_zipf_rank clamps to rank n).
  const double t = std::max((1.0 - s_) * x, -1.0);
  return std::exp(log1p_over_x(t) * x);
}

std::uint64_t KeyChooser::next_zipf_rank(core::SeededRandom& random) const {
  const double n = static_cast<double>(keys_);
  double k = 1.0;
  for (int attempt = 0; attempt < kMaxZipfAttempts; ++attempt) {
    // u uniform in (h_x1_, h_n_]; x = H^-1(u) has density h; round to the
    // nearest rank and accept when u lies in the top h(k) of k's interval
    // [H(k - 0.5), H(k + 0.5)], so rank k has probability h(k) / H(n, s).
    const double u = h_n_ + random.unit() * (h_x1_ - h_n_);
    const double x = zipf_h_integral_inverse(u);
    k = std::floor(x + 0.5);
    if (!(k <= n)) {
      k = n;  // also +inf
    } else if (k < 1.0) {
      k = 1.0;
    }
    if (k - x <= squeeze_ || u >= zipf_h_integral(k + 0.5) - zipf_h(k)) break;
  }
  // Exiting by the bound takes 64 rejections in a row: far below 2^-64.
  const auto rank = static_cast<std::uint64_t>(k) - 1;
  assert(rank < keys_);
  return rank;
}

std::uint64_t KeyChooser::feistel(std::uint64_t x, bool inverse) const {
  // Alternating Feistel network: even rounds xor the right half with a
  // function of the left, odd rounds the left with a function of the right.
  // Each round is its own inverse, so the inverse runs them backwards.
  const int rb = scramble_right_bits_;
  const std::uint64_t right_mask = (std::uint64_t{1} << rb) - 1;
  const std::uint64_t left_mask = (std::uint64_t{1} << scramble_left_bits_) - 1;
  std::uint64_t left = x >> rb;
  std::uint64_t right = x & right_mask;
  for (int j = 0; j < kFeistelRounds; ++j) {
    const int round = inverse ? kFeistelRounds - 1 - j : j;
    if (round % 2 == 0) {
      right ^= feistel_round(left, round) & right_mask;
    } else {
      left ^= feistel_round(right, round) & left_mask;
    }
  }
  return (left << rb) | right;
}

// Cycle-walking: the Feistel network permutes [0, 2^bits); re-applying it
// until the value falls in [0, keys) gives a permutation of [0, keys) (the
// walk stays on x's cycle, which returns to x < keys). 2^bits < 2 keys, so
// the expected number of steps is below 2; the cycle length bounds it.
std::uint64_t KeyChooser::scramble(std::uint64_t rank) const {
  if (scramble_left_bits_ + scramble_right_bits_ == 0) return rank;
  const std::uint64_t domain = std::uint64_t{1} << (scramble_left_bits_ + scramble_right_bits_);
  std::uint64_t y = rank;
  for (std::uint64_t step = 0; step < domain; ++step) {
    y = feistel(y, false);
    if (y < keys_) return y;
  }
  assert(false && "a Feistel cycle through a value below keys returns below keys");
  return rank;
}

std::uint64_t KeyChooser::unscramble(std::uint64_t index) const {
  if (scramble_left_bits_ + scramble_right_bits_ == 0) return index;
  const std::uint64_t domain = std::uint64_t{1} << (scramble_left_bits_ + scramble_right_bits_);
  std::uint64_t y = index;
  for (std::uint64_t step = 0; step < domain; ++step) {
    y = feistel(y, true);
    if (y < keys_) return y;
  }
  assert(false && "a Feistel cycle through a value below keys returns below keys");
  return index;
}

std::uint64_t KeyChooser::next(core::SeededRandom& random) {
  switch (p_.kind) {
    case KeyPopularity::Kind::kUniform:
      return random.uniform(keys_);
    case KeyPopularity::Kind::kZipfian: {
      const std::uint64_t rank = next_zipf_rank(random);
      return p_.zipf_scramble ? scramble(rank) : rank;
    }
    case KeyPopularity::Kind::kHotspot: {
      const bool hot = random.unit() < p_.hot_request_fraction;
      const std::uint64_t others = keys_ - hot_keys_;
      if (hot || others == 0) return random.uniform(hot_keys_);
      return hot_keys_ + random.uniform(others);
    }
    case KeyPopularity::Kind::kSequential: {
      const std::uint64_t key = cursor_;
      cursor_ = cursor_ + 1 == keys_ ? 0 : cursor_ + 1;
      return key;
    }
  }
  return 0;
}

// H(n, s) = sum over k = 1..n of k^-s. Exact (compensated sum, smallest terms
// first) for n <= kExactHarmonicMaxKeys. Above: the first m - 1 terms exactly
// and the rest by Euler-Maclaurin with terms up to B6 f^(5):
//   sum_{k=m..n} f(k) = int_m^n f + (f(m) + f(n))/2 + (f'(n) - f'(m))/12
//                       - (f'''(n) - f'''(m))/720 + (f^(5)(n) - f^(5)(m))/30240 + R,
// where |R| is at most the next term, |B8|/8! |f^(7)(m)| = (s)_7 m^-(s+7) /
// 1209600, below 1e-26 for m = 1000 and any s in (0, 10]: what is left is
// the doubles' rounding (relative error well below 1e-12).
double KeyChooser::harmonic() const {
  if (harmonic_ > 0.0) return harmonic_;
  const double s = s_;
  double sum = 0.0;
  double compensation = 0.0;
  const auto add = [&](double term) {  // Neumaier summation
    const double t = sum + term;
    if (std::fabs(sum) >= std::fabs(term)) {
      compensation += (sum - t) + term;
    } else {
      compensation += (term - t) + sum;
    }
    sum = t;
  };
  if (keys_ <= kExactHarmonicMaxKeys) {
    for (std::uint64_t k = keys_; k >= 1; --k) add(std::pow(static_cast<double>(k), -s));
  } else {
    constexpr std::uint64_t kHead = 1000;
    const double m = static_cast<double>(kHead);
    const double n = static_cast<double>(keys_);
    const auto f = [s](double x) { return std::pow(x, -s); };
    const auto d1 = [s](double x) { return -s * std::pow(x, -s - 1.0); };
    const auto d3 = [s](double x) { return -s * (s + 1) * (s + 2) * std::pow(x, -s - 3.0); };
    const auto d5 = [s](double x) {
      return -s * (s + 1) * (s + 2) * (s + 3) * (s + 4) * std::pow(x, -s - 5.0);
    };
    // int_m^n x^-s dx = m^(1-s) * (exp((1-s) L) - 1) / (1-s), L = log(n/m)
    const double log_ratio = std::log(n / m);
    add(f(m) * m * log_ratio * expm1_over_x((1.0 - s) * log_ratio));
    add((f(m) + f(n)) / 2.0);
    add((d1(n) - d1(m)) / 12.0);
    add(-(d3(n) - d3(m)) / 720.0);
    add((d5(n) - d5(m)) / 30240.0);
    for (std::uint64_t k = kHead - 1; k >= 1; --k) add(f(static_cast<double>(k)));
  }
  harmonic_ = sum + compensation;
  assert(harmonic_ >= 1.0);
  return harmonic_;
}

double KeyChooser::probability(std::uint64_t index) const {
  if (index >= keys_) return 0.0;
  const double n = static_cast<double>(keys_);
  switch (p_.kind) {
    case KeyPopularity::Kind::kUniform:
    case KeyPopularity::Kind::kSequential:
      return 1.0 / n;
    case KeyPopularity::Kind::kZipfian: {
      const std::uint64_t rank = p_.zipf_scramble ? unscramble(index) : index;
      return std::pow(static_cast<double>(rank + 1), -s_) / harmonic();
    }
    case KeyPopularity::Kind::kHotspot: {
      const std::uint64_t others = keys_ - hot_keys_;
      if (others == 0) return 1.0 / n;
      const double r = p_.hot_request_fraction;
      if (index < hot_keys_) return r / static_cast<double>(hot_keys_);
      return (1.0 - r) / static_cast<double>(others);
    }
  }
  return 0.0;
}

}  // namespace hcsim::sim
