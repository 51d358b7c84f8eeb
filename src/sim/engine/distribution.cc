#include "sim/engine/distribution.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace hcsim::sim {
namespace {

// z such that P(Z <= z) = 0.99 for a standard normal Z.
constexpr double kZ99 = 2.3263478740408408;
constexpr double kMaxSample = 4.611686018427387904e18;  // 2^62

double unit_open(core::SeededRandom& random) {  // in (0, 1]
  return static_cast<double>((random.next() >> 11) + 1) * 0x1.0p-53;
}

double clamp_sample(double v) {
  if (!(v >= 0.0)) return 0.0;  // also NaN
  return std::min(v, kMaxSample);
}

std::string fmt_value(double v, const std::string& unit) { return fmt::format("{:g}{}", v, unit); }

}  // namespace

namespace {

// The ziggurat of Marsaglia and Tsang (2000) for the standard normal: 128
// layers of equal area under f(x) = exp(-x^2/2), the base layer holding the
// tail beyond kR. The tables follow from kR and the layer area kV alone.
constexpr int kLayers = 128;
constexpr double kR = 3.442619855899;
constexpr double kV = 9.91256303526217e-3;

struct Ziggurat {
  double x[kLayers + 1];  // layer i spans [0, x[i]]; x[0] is the base's pseudo-width
  double f[kLayers + 1];  // f(x[i])
  Ziggurat() {
    const auto pdf = [](double v) { return std::exp(-0.5 * v * v); };
    x[0] = kV / pdf(kR);
    x[1] = kR;
    for (int i = 1; i < kLayers - 1; ++i) x[i + 1] = std::sqrt(-2.0 * std::log(kV / x[i] + pdf(x[i])));
    x[kLayers] = 0.0;
    x[kLayers - 1] = std::max(x[kLayers - 1], 0.0);
    for (int i = 0; i <= kLayers; ++i) f[i] = pdf(x[i]);
  }
};

const Ziggurat& ziggurat() {
  static const Ziggurat z;
  return z;
}

}  // namespace

double standard_normal(core::SeededRandom& random) {
  const Ziggurat& z = ziggurat();
  for (;;) {
    // One draw per attempt: the low 7 bits pick the layer, the top 53 a
    // signed position across it (disjoint bits).
    const std::uint64_t bits = random.next();
    const auto i = static_cast<int>(bits & (kLayers - 1));
    const double u = 2.0 * static_cast<double>(bits >> 11) * 0x1.0p-53 - 1.0;
    const double v = u * z.x[i];
    if (std::fabs(v) < z.x[i + 1]) return v;  // inside the layer's core rectangle: ~99% of draws
    if (i == 0) {
      // The tail beyond kR (Marsaglia 1964).
      double t, y;
      do {
        t = -std::log(unit_open(random)) / kR;
        y = -std::log(unit_open(random));
      } while (2.0 * y < t * t);
      return u < 0 ? -(kR + t) : kR + t;
    }
    // The wedge between the rectangle and the curve.
    const double w = static_cast<double>(random.next() >> 11) * 0x1.0p-53;
    if (z.f[i + 1] + w * (z.f[i] - z.f[i + 1]) < std::exp(-0.5 * v * v)) return v;
  }
}

core::Status Distribution::validate(const std::string& what) const {
  const auto bad = [&](const std::string& why) { return core::Status::error(what + ": " + why); };
  if (!std::isfinite(a) || !std::isfinite(b)) return bad("parameters must be finite");
  if (a < 0.0 || b < 0.0) return bad("parameters must not be negative");
  if (a > kMaxSample || b > kMaxSample) return bad("parameters too large");
  switch (kind) {
    case Kind::kConstant:
      return core::Status::ok();
    case Kind::kUniform:
      if (b < a) return bad(fmt::format("uniform range is empty (max {} < min {})", b, a));
      return core::Status::ok();
    case Kind::kNormal:
      return core::Status::ok();
    case Kind::kLognormal:
      if (a <= 0.0) return bad("lognormal median must be greater than 0");
      if (b < a) return bad(fmt::format("lognormal p99 {} is below its median {}", b, a));
      return core::Status::ok();
    case Kind::kExponential:
      return core::Status::ok();
  }
  return bad("unknown distribution");
}

double Distribution::sample(core::SeededRandom& random) const {
  switch (kind) {
    case Kind::kConstant:
      return a;
    case Kind::kUniform:
      return a + (b - a) * (static_cast<double>(random.next() >> 11) * 0x1.0p-53);
    case Kind::kNormal: {
      if (b == 0.0) return clamp_sample(a);
      for (int i = 0; i < 64; ++i) {  // truncation at 0 by resampling, bounded
        const double v = a + b * standard_normal(random);
        if (v >= 0.0) return std::min(v, kMaxSample);
      }
      return 0.0;
    }
    case Kind::kLognormal: {
      // sigma for the last (median, p99) seen on this thread: a run samples
      // few distinct lognormals, so the log is rarely recomputed.
      thread_local double last_a = 0.0, last_b = 0.0, last_sigma = 0.0;
      if (a != last_a || b != last_b) {
        last_a = a;
        last_b = b;
        last_sigma = std::log(b / a) / kZ99;
      }
      return clamp_sample(a * std::exp(last_sigma * standard_normal(random)));
    }
    case Kind::kExponential:
      return clamp_sample(-a * std::log(unit_open(random)));
  }
  return 0.0;
}

std::int64_t Distribution::sample_int(core::SeededRandom& random) const {
  return static_cast<std::int64_t>(std::llround(sample(random)));
}

double Distribution::mean() const {
  switch (kind) {
    case Kind::kConstant:
      return a;
    case Kind::kUniform:
      return (a + b) / 2.0;
    case Kind::kNormal:
      return a;
    case Kind::kLognormal: {
      const double sigma = std::log(b / a) / kZ99;
      return a * std::exp(sigma * sigma / 2.0);
    }
    case Kind::kExponential:
      return a;
  }
  return 0.0;
}

std::string Distribution::describe(const std::string& unit) const {
  switch (kind) {
    case Kind::kConstant:
      return "constant(" + fmt_value(a, unit) + ")";
    case Kind::kUniform:
      return "uniform(" + fmt_value(a, unit) + ", " + fmt_value(b, unit) + ")";
    case Kind::kNormal:
      return "normal(mean " + fmt_value(a, unit) + ", stddev " + fmt_value(b, unit) + ")";
    case Kind::kLognormal:
      return "lognormal(median " + fmt_value(a, unit) + ", p99 " + fmt_value(b, unit) + ")";
    case Kind::kExponential:
      return "exponential(mean " + fmt_value(a, unit) + ")";
  }
  return "?";
}

}  // namespace hcsim::sim
