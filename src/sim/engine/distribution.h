// Random distributions of the simulator's quantities: latencies and service
// times (integer nanoseconds) and value sizes (bytes). Each is a small value
// type that samples from a caller-owned seeded stream, so that the same
// stream always gives the same sequence on any machine (no <random>
// distributions, whose algorithms differ between standard libraries).
#pragma once

#include <cstdint>
#include <string>

#include "core/runtime/random.h"
#include "core/util/status.h"

namespace hcsim::sim {

struct Distribution {
  enum class Kind : std::uint8_t {
    kConstant,     // always `a`
    kUniform,      // uniform in [a, b]
    kNormal,       // mean a, standard deviation b, truncated at 0 (resampled)
    kLognormal,    // median a, 99th percentile b (b >= a)
    kExponential,  // mean a
  };
  Kind kind = Kind::kConstant;
  double a = 0.0;
  double b = 0.0;

  static Distribution constant(double value) { return {Kind::kConstant, value, 0.0}; }
  static Distribution uniform(double lo, double hi) { return {Kind::kUniform, lo, hi}; }
  static Distribution normal(double mean, double stddev) { return {Kind::kNormal, mean, stddev}; }
  static Distribution lognormal(double median, double p99) { return {Kind::kLognormal, median, p99}; }
  static Distribution exponential(double mean) { return {Kind::kExponential, mean, 0.0}; }

  // Rejects negative or non-finite parameters, uniform with b < a, lognormal
  // with p99 < median; `what` names the quantity in the message.
  core::Status validate(const std::string& what) const;

  // A sample, always >= 0 and finite. Draws: constant none; uniform and
  // exponential one; normal and lognormal one for about 99% of samples
  // (the ziggurat's rare wedge and tail cases, and normal's resampling
  // below 0, take more). The same stream always gives the same samples.
  double sample(core::SeededRandom& random) const;
  // Rounded to the nearest integer, clamped to [0, 2^62].
  std::int64_t sample_int(core::SeededRandom& random) const;

  // Exact mean of the distribution (normal: of the untruncated one).
  double mean() const;
  // "constant(100us)"-style text for reports; `unit` is "ns" or "B".
  std::string describe(const std::string& unit) const;
  bool is_zero() const { return kind == Kind::kConstant && a == 0.0; }
};

// A standard normal deviate by the ziggurat method (Marsaglia and Tsang,
// 2000): one u64 draw for about 99% of deviates, more in the wedges and the
// tail. Exposed for tests.
double standard_normal(core::SeededRandom& random);

}  // namespace hcsim::sim
