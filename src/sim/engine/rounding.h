// ceil(fraction * n) as a count in [1, n], where a product within a few ulps
// of a whole number counts as that number (0.07 * 100 is 7.000000000000001
// in doubles: 7, not 8). Shared by percentile ranks and hot-key counts.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>

namespace hcsim::sim {

inline std::uint64_t ceil_count(double fraction, std::uint64_t n) {
  const double product = fraction * static_cast<double>(n);
  const double nearest = std::round(product);
  const double c = std::fabs(product - nearest) <= 4.0 * DBL_EPSILON * product ? nearest : std::ceil(product);
  if (c >= static_cast<double>(n)) return n;
  if (c > 1.0) return static_cast<std::uint64_t>(c);  // false for NaN too
  return 1;
}

}  // namespace hcsim::sim
