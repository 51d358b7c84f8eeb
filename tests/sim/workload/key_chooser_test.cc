#include "sim/workload/key_chooser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

namespace hcsim::sim {
namespace {

using core::SeededRandom;
using Kind = KeyPopularity::Kind;

KeyPopularity of_kind(Kind kind) {
  KeyPopularity p;
  p.kind = kind;
  return p;
}

KeyPopularity zipf(double skew, bool scramble = false) {
  KeyPopularity p;
  p.kind = Kind::kZipfian;
  p.zipf_skew = skew;
  p.zipf_scramble = scramble;
  return p;
}

KeyPopularity hotspot(double key_fraction, double request_fraction) {
  KeyPopularity p;
  p.kind = Kind::kHotspot;
  p.hot_key_fraction = key_fraction;
  p.hot_request_fraction = request_fraction;
  return p;
}

// |observed - expected| within 5 standard deviations of a binomial count.
void expect_binomial(std::uint64_t observed, std::uint64_t trials, double p, const char* what) {
  const double mean = static_cast<double>(trials) * p;
  const double sigma = std::sqrt(static_cast<double>(trials) * p * (1.0 - p));
  EXPECT_NEAR(static_cast<double>(observed), mean, 5.0 * sigma) << what << " p=" << p;
}

// Pearson's chi-square statistic must stay below df + 5 sqrt(2 df) (its
// mean plus five standard deviations).
void expect_chi_square(const std::vector<std::uint64_t>& counts, const std::vector<double>& p,
                       std::uint64_t trials) {
  ASSERT_EQ(counts.size(), p.size());
  double chi = 0.0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double expected = static_cast<double>(trials) * p[i];
    ASSERT_GE(expected, 5.0) << "bin " << i;
    const double d = static_cast<double>(counts[i]) - expected;
    chi += d * d / expected;
  }
  const double df = static_cast<double>(counts.size() - 1);
  EXPECT_LT(chi, df + 5.0 * std::sqrt(2.0 * df));
}

// --- zipfian probabilities -------------------------------------------------

TEST(KeyChooserZipf, ProbabilitiesWorkedByHand) {
  const KeyChooser one(zipf(0.99), 1);
  EXPECT_DOUBLE_EQ(one.probability(0), 1.0);
  EXPECT_EQ(one.probability(1), 0.0);

  const KeyChooser two(zipf(1.0), 2);  // H = 1 + 1/2
  EXPECT_NEAR(two.probability(0), 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(two.probability(1), 1.0 / 3.0, 1e-15);

  const KeyChooser three(zipf(2.0), 3);  // H = 1 + 1/4 + 1/9 = 49/36
  EXPECT_NEAR(three.probability(0), 36.0 / 49.0, 1e-15);
  EXPECT_NEAR(three.probability(1), 9.0 / 49.0, 1e-15);
  EXPECT_NEAR(three.probability(2), 4.0 / 49.0, 1e-15);
  EXPECT_EQ(three.probability(3), 0.0);
}

TEST(KeyChooserZipf, ProbabilitiesSumToOneAndFollowThePowerLaw) {
  for (const double s : {0.01, 0.5, 0.99, 1.0, 1.5, 10.0}) {
    const KeyChooser chooser(zipf(s), 1000);
    double sum = 0.0;
    for (std::uint64_t i = 0; i < 1000; ++i) sum += chooser.probability(i);
    EXPECT_NEAR(sum, 1.0, 1e-12) << "s=" << s;
    EXPECT_NEAR(chooser.probability(0) / chooser.probability(1), std::pow(2.0, s), 1e-12)
        << "s=" << s;
    EXPECT_NEAR(chooser.probability(9) / chooser.probability(99), std::pow(10.0, s),
                1e-12 * std::pow(10.0, s))
        << "s=" << s;
  }
}

// Above 10^7 keys H(n, s) comes from Euler-Maclaurin: closed forms at 2^40.
TEST(KeyChooserZipf, HarmonicNumberForHugeKeySpaces) {
  const double n = 1099511627776.0;  // 2^40
  // H(n, 1) = ln n + gamma + 1/(2n) - 1/(12 n^2) + ...
  const double h1 = 40.0 * std::numbers::ln2 + std::numbers::egamma + 1.0 / (2.0 * n);
  const KeyChooser s1(zipf(1.0), KeyChooser::kMaxKeys);
  EXPECT_NEAR(s1.probability(0) * h1, 1.0, 1e-13);
  // H(n, 2) = pi^2/6 - 1/n + 1/(2 n^2) - ...
  const double h2 = std::numbers::pi * std::numbers::pi / 6.0 - 1.0 / n;
  const KeyChooser s2(zipf(2.0), KeyChooser::kMaxKeys);
  EXPECT_NEAR(s2.probability(0) * h2, 1.0, 1e-13);
  // The last key: (1/n^2) / H.
  EXPECT_NEAR(s2.probability(KeyChooser::kMaxKeys - 1) * n * n * h2, 1.0, 1e-12);
}

// The exact sum (n = 10^7) and the approximation (n = 10^7 + 1) must differ
// by exactly the one extra term, to 1e-12 of H.
TEST(KeyChooserZipf, HarmonicApproximationContinuesTheExactSum) {
  constexpr std::uint64_t kN = KeyChooser::kExactHarmonicMaxKeys;
  const double s = 0.99;
  const KeyChooser exact(zipf(s), kN);
  const KeyChooser approximated(zipf(s), kN + 1);
  const double h_exact = 1.0 / exact.probability(0);
  const double h_approx = 1.0 / approximated.probability(0);
  const double extra = std::pow(static_cast<double>(kN + 1), -s);
  EXPECT_NEAR(h_approx - h_exact, extra, 1e-12 * h_exact);
  EXPECT_GT(h_approx, h_exact);
}

// --- zipfian sampling -------------------------------------------------------

class ZipfFrequencies : public ::testing::TestWithParam<double> {};

TEST_P(ZipfFrequencies, MatchProbabilities) {
  const double s = GetParam();
  constexpr std::uint64_t kKeys = 1000;
  constexpr std::uint64_t kDraws = 1'000'000;
  KeyChooser chooser(zipf(s), kKeys);
  SeededRandom random(42);
  std::vector<std::uint64_t> counts(kKeys, 0);
  for (std::uint64_t i = 0; i < kDraws; ++i) {
    const std::uint64_t key = chooser.next(random);
    ASSERT_LT(key, kKeys);
    ++counts[key];
  }
  std::vector<double> p(kKeys);
  for (std::uint64_t i = 0; i < kKeys; ++i) p[i] = chooser.probability(i);
  // The top 20 ranks one by one.
  for (std::uint64_t i = 0; i < 20; ++i) expect_binomial(counts[i], kDraws, p[i], "rank");
  // The tail's total mass.
  std::uint64_t tail = 0;
  double tail_p = 0.0;
  for (std::uint64_t i = 20; i < kKeys; ++i) {
    tail += counts[i];
    tail_p += p[i];
  }
  expect_binomial(tail, kDraws, tail_p, "tail");
  // All 1000 ranks together (the smallest expectation, s = 1.5, is 12).
  expect_chi_square(counts, p, kDraws);
}

INSTANTIATE_TEST_SUITE_P(Skews, ZipfFrequencies, ::testing::Values(0.99, 1.0, 1.5));

TEST(KeyChooserZipf, HugeKeySpaceStaysInRange) {
  constexpr std::uint64_t kKeys = KeyChooser::kMaxKeys;
  constexpr std::uint64_t kDraws = 100'000;
  for (const double s : {0.01, 0.5, 0.99, 1.0, 1.5, 10.0}) {
    for (const bool scramble : {false, true}) {
      KeyChooser chooser(zipf(s, scramble), kKeys);
      SeededRandom random(7);
      for (std::uint64_t i = 0; i < kDraws; ++i) ASSERT_LT(chooser.next(random), kKeys) << s;
    }
  }
  // Rank 1's share at s = 0.99 (its probability from the approximation).
  {
    KeyChooser chooser(zipf(0.99), kKeys);
    SeededRandom random(8);
    std::uint64_t zeros = 0;
    for (std::uint64_t i = 0; i < kDraws; ++i) zeros += chooser.next(random) == 0 ? 1 : 0;
    expect_binomial(zeros, kDraws, chooser.probability(0), "rank 1 of 2^40");
  }
  // s = 0.5: P(rank > n/2) = 1 - (2 sqrt(n/2) + zeta(1/2)) / (2 sqrt(n) + zeta(1/2))
  // to 1e-12, about 1 - sqrt(1/2) = 0.2929: the upper half of the key space is
  // reached, with the right weight.
  {
    KeyChooser chooser(zipf(0.5), kKeys);
    SeededRandom random(9);
    std::uint64_t upper_half = 0;
    for (std::uint64_t i = 0; i < kDraws; ++i) {
      upper_half += chooser.next(random) >= kKeys / 2 ? 1 : 0;
    }
    const double zeta_half = -1.4603545088095868;
    const double n = static_cast<double>(kKeys);
    const double p = 1.0 - (2.0 * std::sqrt(n / 2.0) + zeta_half) / (2.0 * std::sqrt(n) + zeta_half);
    expect_binomial(upper_half, kDraws, p, "upper half of 2^40 at s=0.5");
  }
}

// --- zipf_scramble ---------------------------------------------------------

// Zipfian probabilities are strictly decreasing in the rank, so the scrambled
// chooser's probabilities, sorted, equal the unscrambled ones exactly if and
// only if every rank is the image of exactly one index.
TEST(KeyChooserZipf, ScrambleIsABijection) {
  for (const std::uint64_t n : {1ULL, 2ULL, 3ULL, 5ULL, 64ULL, 1000ULL, 1023ULL, 1025ULL, 4097ULL,
                                65536ULL, 99991ULL, 100000ULL}) {
    const KeyChooser plain(zipf(0.99), n);
    const KeyChooser scrambled(zipf(0.99, true), n);
    std::vector<double> expected(n);
    std::vector<double> got(n);
    std::uint64_t moved = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      expected[i] = plain.probability(i);
      got[i] = scrambled.probability(i);
      moved += got[i] != expected[i] ? 1 : 0;
    }
    std::sort(got.begin(), got.end(), std::greater<>());
    EXPECT_TRUE(got == expected) << "n=" << n;
    if (n >= 64) {
      EXPECT_GT(moved, n / 2) << "n=" << n << ": the bijection barely moves ranks";
    }
  }
}

// Same stream, scramble on and off: the scrambled key is a fixed function of
// the plain rank, one-to-one, and carries that rank's probability.
TEST(KeyChooserZipf, ScramblePreservesFrequenciesPerRank) {
  for (const std::uint64_t n : {1000ULL, 1025ULL}) {
    KeyChooser plain(zipf(1.2), n);
    KeyChooser scrambled(zipf(1.2, true), n);
    SeededRandom random_a(5);
    SeededRandom random_b(5);
    std::vector<std::int64_t> image(n, -1);
    std::vector<std::int64_t> preimage(n, -1);
    for (int i = 0; i < 100'000; ++i) {
      const std::uint64_t rank = plain.next(random_a);
      const std::uint64_t key = scrambled.next(random_b);
      ASSERT_LT(key, n);
      if (image[rank] < 0) {
        image[rank] = static_cast<std::int64_t>(key);
        ASSERT_EQ(preimage[key], -1) << "two ranks map to key " << key;
        preimage[key] = static_cast<std::int64_t>(rank);
        ASSERT_EQ(scrambled.probability(key), plain.probability(rank));
      }
      ASSERT_EQ(image[rank], static_cast<std::int64_t>(key));
    }
    EXPECT_NE(image[0], 0) << "rank 1 should not stay on key 0 (n=" << n << ")";
  }
}

// --- hotspot ---------------------------------------------------------------

// The hot set is a prefix; find its length from the probabilities.
std::uint64_t hot_prefix(const KeyChooser& chooser) {
  const double hot_p = chooser.probability(0);
  std::uint64_t lo = 1;  // probability(lo - 1) == hot_p
  std::uint64_t hi = chooser.keys();
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (chooser.probability(mid) == hot_p) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

TEST(KeyChooserHotspot, HotSetBoundary) {
  struct Case {
    std::uint64_t keys;
    double key_fraction;
    std::uint64_t hot;
  };
  const Case cases[] = {
      {1000, 0.2, 200},
      {100, 0.07, 7},  // 0.07 * 100 = 7.000000000000001 in doubles
      {3, 0.5, 2},     // ceil(1.5)
      {10, 0.95, 9},   // ceil(9.5) = 10, but fewer than keys unless the fraction is 1
      {10, 0.001, 1},  // at least one
      {2, 0.999, 1},
      {KeyChooser::kMaxKeys, 0.2, 219902325556},  // ceil(219902325555.2)
  };
  for (const Case& c : cases) {
    const KeyChooser chooser(hotspot(c.key_fraction, 0.6), c.keys);
    EXPECT_EQ(hot_prefix(chooser), c.hot) << c.keys << " x " << c.key_fraction;
    const double hot_p = 0.6 / static_cast<double>(c.hot);
    const double cold_p = 0.4 / static_cast<double>(c.keys - c.hot);
    EXPECT_DOUBLE_EQ(chooser.probability(c.hot - 1), hot_p);
    EXPECT_DOUBLE_EQ(chooser.probability(c.hot), cold_p);
  }
  // All keys hot: uniform over all of them, whatever the request fraction.
  for (const std::uint64_t keys : {1ULL, 10ULL}) {
    KeyChooser all(hotspot(1.0, 0.3), keys);
    SeededRandom random(3);
    for (std::uint64_t i = 0; i < keys; ++i) {
      EXPECT_DOUBLE_EQ(all.probability(i), 1.0 / static_cast<double>(keys));
    }
    for (int i = 0; i < 10'000; ++i) ASSERT_LT(all.next(random), keys);
  }
  // One key: it is hot even with a fraction below 1.
  KeyChooser single(hotspot(0.2, 0.8), 1);
  EXPECT_DOUBLE_EQ(single.probability(0), 1.0);
}

TEST(KeyChooserHotspot, ExactShareOverAMillionDraws) {
  constexpr std::uint64_t kKeys = 1000;
  constexpr std::uint64_t kHot = 200;
  constexpr std::uint64_t kDraws = 1'000'000;
  KeyChooser chooser(hotspot(0.2, 0.8), kKeys);
  EXPECT_DOUBLE_EQ(chooser.probability(0), 0.8 / 200.0);
  EXPECT_DOUBLE_EQ(chooser.probability(999), 0.2 / 800.0);
  SeededRandom random(11);
  std::vector<std::uint64_t> counts(kKeys, 0);
  for (std::uint64_t i = 0; i < kDraws; ++i) {
    const std::uint64_t key = chooser.next(random);
    ASSERT_LT(key, kKeys);
    ++counts[key];
  }
  std::uint64_t hot = 0;
  for (std::uint64_t i = 0; i < kHot; ++i) hot += counts[i];
  expect_binomial(hot, kDraws, 0.8, "hot share");
  // Uniform within each side.
  const std::vector<std::uint64_t> hot_counts(counts.begin(), counts.begin() + kHot);
  expect_chi_square(hot_counts, std::vector<double>(kHot, 1.0 / kHot), hot);
  const std::vector<std::uint64_t> cold_counts(counts.begin() + kHot, counts.end());
  expect_chi_square(cold_counts, std::vector<double>(kKeys - kHot, 1.0 / (kKeys - kHot)),
                    kDraws - hot);
}

// Exactly one unit() draw for the side, then one uniform() draw for the key.
TEST(KeyChooserHotspot, DrawsOneUnitThenOneUniform) {
  KeyChooser chooser(hotspot(0.2, 0.8), 1000);
  SeededRandom random(21);
  SeededRandom replay(21);
  for (int i = 0; i < 10'000; ++i) {
    const bool hot = replay.unit() < 0.8;
    const std::uint64_t expected = hot ? replay.uniform(200) : 200 + replay.uniform(800);
    ASSERT_EQ(chooser.next(random), expected) << "draw " << i;
  }
  // With no cold keys the side draw still happens.
  KeyChooser all(hotspot(1.0, 0.5), 7);
  for (int i = 0; i < 1000; ++i) {
    (void)replay.unit();
    ASSERT_EQ(all.next(random), replay.uniform(7));
  }
  EXPECT_EQ(random.next(), replay.next());
}

// --- uniform and sequential ------------------------------------------------

TEST(KeyChooserUniform, OneDrawEachAndChiSquare) {
  KeyChooser chooser(of_kind(Kind::kUniform), 100);
  EXPECT_DOUBLE_EQ(chooser.probability(42), 0.01);
  EXPECT_EQ(chooser.probability(100), 0.0);
  SeededRandom random(31);
  SeededRandom replay(31);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(chooser.next(random), replay.uniform(100));

  constexpr std::uint64_t kDraws = 1'000'000;
  std::vector<std::uint64_t> counts(100, 0);
  for (std::uint64_t i = 0; i < kDraws; ++i) ++counts[chooser.next(random)];
  expect_chi_square(counts, std::vector<double>(100, 0.01), kDraws);
}

TEST(KeyChooserSequential, OrderWrapsAndUsesNoRandomness) {
  KeyChooser chooser(of_kind(Kind::kSequential), 3);
  SeededRandom random(41);
  const std::uint64_t expected[] = {0, 1, 2, 0, 1, 2, 0};
  for (const std::uint64_t key : expected) EXPECT_EQ(chooser.next(random), key);
  SeededRandom fresh(41);
  EXPECT_EQ(random.next(), fresh.next());
  EXPECT_DOUBLE_EQ(chooser.probability(2), 1.0 / 3.0);

  KeyChooser single(of_kind(Kind::kSequential), 1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(single.next(random), 0u);
}

// --- determinism and validation --------------------------------------------

TEST(KeyChooser, DeterministicForAFixedSeed) {
  const KeyPopularity kinds[] = {of_kind(Kind::kUniform), zipf(0.99), zipf(0.99, true),
                                 hotspot(0.1, 0.9)};
  for (const KeyPopularity& p : kinds) {
    KeyChooser a(p, 1'000'000);
    KeyChooser b(p, 1'000'000);
    KeyChooser c(p, 1'000'000);
    SeededRandom ra(99);
    SeededRandom rb(99);
    SeededRandom rc(100);
    int differences = 0;
    for (int i = 0; i < 10'000; ++i) {
      const std::uint64_t key = a.next(ra);
      ASSERT_EQ(key, b.next(rb));
      differences += key != c.next(rc) ? 1 : 0;
    }
    EXPECT_GT(differences, 1000) << "another seed should give another sequence";
  }
}

TEST(KeyChooser, ValidateNamesTheField) {
  const auto message = [](const KeyPopularity& p, std::uint64_t keys) {
    return KeyChooser::validate(p, keys).message();
  };
  EXPECT_TRUE(KeyChooser::validate(zipf(0.99), 1000).is_ok());
  EXPECT_TRUE(KeyChooser::validate(zipf(10.0), KeyChooser::kMaxKeys).is_ok());
  EXPECT_TRUE(KeyChooser::validate(hotspot(1.0, 1.0), 1).is_ok());
  EXPECT_TRUE(KeyChooser::validate(of_kind(Kind::kSequential), 1).is_ok());
  // Fields the kind does not use are not checked.
  KeyPopularity uniform = of_kind(Kind::kUniform);
  uniform.zipf_skew = -1.0;
  uniform.hot_key_fraction = 2.0;
  EXPECT_TRUE(KeyChooser::validate(uniform, 10).is_ok());

  EXPECT_EQ(message(of_kind(Kind::kUniform), 0), "keys must be at least 1, got 0");
  EXPECT_EQ(message(of_kind(Kind::kUniform), KeyChooser::kMaxKeys + 1),
            "keys must be at most 1099511627776 (2^40), got 1099511627777");
  EXPECT_EQ(message(zipf(-1.0), 10), "zipfian skew must be greater than 0, got -1");
  EXPECT_EQ(message(zipf(0.0), 10), "zipfian skew must be greater than 0, got 0");
  EXPECT_EQ(message(zipf(std::numeric_limits<double>::quiet_NaN()), 10),
            "zipfian skew must be greater than 0, got nan");
  EXPECT_EQ(message(zipf(10.5), 10), "zipfian skew must be at most 10, got 10.5");
  EXPECT_EQ(message(hotspot(0.0, 0.8), 10), "hotspot hot_key_fraction must be in (0, 1], got 0");
  EXPECT_EQ(message(hotspot(1.5, 0.8), 10),
            "hotspot hot_key_fraction must be in (0, 1], got 1.5");
  EXPECT_EQ(message(hotspot(0.2, -0.25), 10),
            "hotspot hot_request_fraction must be in (0, 1], got -0.25");
  EXPECT_EQ(message(hotspot(0.2, 1.01), 10),
            "hotspot hot_request_fraction must be in (0, 1], got 1.01");
}

#ifdef NDEBUG
// The constructor asserts validity; a release build clamps instead of
// misbehaving on input that skipped validate().
TEST(KeyChooser, InvalidParametersStayInRangeInRelease) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const KeyPopularity bad[] = {zipf(-1.0), zipf(nan), zipf(1e9), hotspot(nan, nan),
                               hotspot(-3.0, 7.0), of_kind(Kind::kSequential)};
  for (const KeyPopularity& p : bad) {
    for (const std::uint64_t keys : {0ULL, 5ULL}) {
      KeyChooser chooser(p, keys);
      SeededRandom random(1);
      for (int i = 0; i < 1000; ++i) ASSERT_LT(chooser.next(random), std::max<std::uint64_t>(keys, 1));
      double sum = 0.0;
      for (std::uint64_t i = 0; i < chooser.keys(); ++i) sum += chooser.probability(i);
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
  }
}
#endif

}  // namespace
}  // namespace hcsim::sim
