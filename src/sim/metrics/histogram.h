// A latency histogram in the HdrHistogram style: log-linear buckets over
// non-negative integer values (nanoseconds) with a relative error under 1%
// (128 sub-buckets per power of two), fixed memory, O(1) record, exact count,
// min, max and sum. Percentiles report the upper edge of the bucket the rank
// falls in, clamped to the exact max, so p100 == max.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace hcsim::sim {

// Bucket layout: values 0..255 each have a bucket of their own (bucket index
// = value); above, each power of two [2^e, 2^(e+1)) for e >= 8 is split into
// 128 buckets of width 2^(e-7), so a value's bucket upper edge exceeds it by
// less than 1/128 (0.79%) of it. 7296 buckets (57 KiB) cover 0..2^63-1.
class Histogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 128 sub-buckets per doubling
  static constexpr int kMaxExponent = 63 - kSubBucketBits;

  void record(std::int64_t value);  // negative values count as 0
  void record_n(std::int64_t value, std::uint64_t n);
  void merge(const Histogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::int64_t min() const { return count_ ? min_ : 0; }
  std::int64_t max() const { return count_ ? max_ : 0; }
  double mean() const;  // exact sum / count, rounded once; 0 with no values
  // q in [0, 1]; 0 with no values. The smallest bucket upper edge v such that
  // at least ceil(q * count) values are <= v (at least one value), min() for q = 0.
  // q * count within a few ulps of an integer counts as that integer.
  // Clamped to max(). q > 1 acts as 1, q < 0 (or NaN) as 0.
  std::int64_t percentile(double q) const;

  static std::size_t bucket_of(std::int64_t value);
  static std::int64_t bucket_upper(std::size_t bucket);  // the largest value in the bucket

 private:
  static constexpr std::size_t kBuckets = std::size_t{kMaxExponent + 1} << kSubBucketBits;
  __extension__ using Sum = unsigned __int128;  // count * (2^63 - 1) fits: exact

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  Sum sum_ = 0;
};

}  // namespace hcsim::sim
