#include "sim/engine/distribution.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace hcsim::sim {
namespace {

std::vector<double> samples(const Distribution& d, std::size_t n, std::uint64_t seed = 1) {
  core::SeededRandom r(seed);
  std::vector<double> out(n);
  for (double& v : out) v = d.sample(r);
  std::sort(out.begin(), out.end());
  return out;
}

double quantile(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

TEST(Distribution, ConstantUsesNoRandomness) {
  core::SeededRandom a(3), b(3);
  EXPECT_EQ(Distribution::constant(250).sample(a), 250.0);
  EXPECT_EQ(Distribution::constant(250).sample_int(a), 250);
  EXPECT_EQ(a.next(), b.next());  // the stream did not move
}

TEST(Distribution, UniformStaysInItsRangeWithTheRightMean) {
  const auto v = samples(Distribution::uniform(50, 150), 200'000);
  EXPECT_GE(v.front(), 50.0);
  EXPECT_LE(v.back(), 150.0);
  // sd of the mean: (100/sqrt(12))/sqrt(n) = 0.065
  EXPECT_NEAR(mean(v), 100.0, 0.33);
  EXPECT_NEAR(quantile(v, 0.25), 75.0, 0.6);
}

TEST(Distribution, LognormalHitsItsMedianAndP99) {
  const Distribution d = Distribution::lognormal(100'000, 1'000'000);
  const auto v = samples(d, 400'000);
  EXPECT_NEAR(quantile(v, 0.5) / 100'000.0, 1.0, 0.02);
  EXPECT_NEAR(quantile(v, 0.99) / 1'000'000.0, 1.0, 0.05);
  // the mean is median * exp(sigma^2 / 2) with sigma = ln(10) / z(0.99)
  const double sigma = std::log(10.0) / 2.3263478740408408;
  EXPECT_NEAR(d.mean(), 100'000.0 * std::exp(sigma * sigma / 2), 1e-6);
  EXPECT_NEAR(mean(v) / d.mean(), 1.0, 0.02);
}

TEST(Distribution, ExponentialHasItsMeanAndMedian) {
  const auto v = samples(Distribution::exponential(10'000), 400'000);
  EXPECT_NEAR(mean(v), 10'000.0, 10'000.0 * 5 / std::sqrt(400'000.0));
  EXPECT_NEAR(quantile(v, 0.5), 10'000.0 * std::log(2.0), 100.0);
  EXPECT_GE(v.front(), 0.0);
}

TEST(Distribution, NormalIsTruncatedAtZero) {
  const auto wide = samples(Distribution::normal(10, 20), 100'000);
  EXPECT_GE(wide.front(), 0.0);
  const auto narrow = samples(Distribution::normal(1000, 10), 200'000);
  EXPECT_NEAR(mean(narrow), 1000.0, 0.2);
  EXPECT_NEAR(quantile(narrow, 0.8413), 1010.0, 0.3);  // mean + 1 sd
}

// The ziggurat against the normal law: moments, the CDF at several points
// (5 sigma binomial bounds over 4M deviates) and the tail beyond the base
// layer's edge (3.4426), which takes its own sampling path.
TEST(Distribution, StandardNormalFollowsTheNormalLaw) {
  core::SeededRandom r(11);
  constexpr int kN = 4'000'000;
  const double points[] = {-3.5, -2.0, -1.0, -0.3, 0.0, 0.5, 1.5, 2.5, 3.4426, 4.0};
  std::vector<int> below(std::size(points), 0);
  double sum = 0, sum2 = 0;
  for (int i = 0; i < kN; ++i) {
    const double z = standard_normal(r);
    sum += z;
    sum2 += z * z;
    for (std::size_t j = 0; j < std::size(points); ++j) below[j] += z < points[j] ? 1 : 0;
  }
  EXPECT_NEAR(sum / kN, 0.0, 5.0 / std::sqrt(kN));
  EXPECT_NEAR(sum2 / kN, 1.0, 5.0 * std::sqrt(2.0 / kN));
  for (std::size_t j = 0; j < std::size(points); ++j) {
    const double p = 0.5 * std::erfc(-points[j] / std::sqrt(2.0));
    const double sd = std::sqrt(p * (1 - p) / kN);
    EXPECT_NEAR(static_cast<double>(below[j]) / kN, p, 5 * sd + 1e-7) << "at " << points[j];
  }
}

TEST(Distribution, SameSeedSameSamples) {
  const Distribution d = Distribution::lognormal(5, 50);
  EXPECT_EQ(samples(d, 1000, 9), samples(d, 1000, 9));
  EXPECT_NE(samples(d, 1000, 9), samples(d, 1000, 10));
}

TEST(Distribution, ValidateNamesTheQuantityAndTheProblem) {
  EXPECT_TRUE(Distribution::uniform(1, 1).validate("x").is_ok());
  EXPECT_EQ(Distribution::uniform(2, 1).validate("latency").message(),
            "latency: uniform range is empty (max 1 < min 2)");
  EXPECT_EQ(Distribution::lognormal(10, 5).validate("latency").message(),
            "latency: lognormal p99 5 is below its median 10");
  EXPECT_EQ(Distribution::lognormal(0, 5).validate("v").message(), "v: lognormal median must be greater than 0");
  EXPECT_EQ(Distribution::constant(-1).validate("v").message(), "v: parameters must not be negative");
  EXPECT_EQ(Distribution::constant(NAN).validate("v").message(), "v: parameters must be finite");
}

TEST(Distribution, DescribeForReports) {
  EXPECT_EQ(Distribution::constant(100).describe("ns"), "constant(100ns)");
  EXPECT_EQ(Distribution::lognormal(1024, 16384).describe("B"), "lognormal(median 1024B, p99 16384B)");
  EXPECT_TRUE(Distribution::constant(0).is_zero());
  EXPECT_FALSE(Distribution::exponential(0).is_zero());
}

}  // namespace
}  // namespace hcsim::sim
