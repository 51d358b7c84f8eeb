#include "sim/metrics/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cfloat>
#include <cmath>
#include <limits>

#include "sim/engine/rounding.h"

namespace hcsim::sim {
namespace {

constexpr std::uint64_t kExactMask = (std::uint64_t{2} << Histogram::kSubBucketBits) - 1;  // 255

}  // namespace

std::size_t Histogram::bucket_of(std::int64_t value) {
  const std::uint64_t v = value < 0 ? 0 : static_cast<std::uint64_t>(value);
  // shift = floor(log2(v)) - 7 for v >= 256, 0 below (v | 255 has bit width
  // 8 there): the bucket is shift * 128 + (v >> shift), where v >> shift is
  // in [128, 256) above 255 and is v itself below.
  const int shift = static_cast<int>(std::bit_width(v | kExactMask)) - (kSubBucketBits + 1);
  const std::size_t bucket = (static_cast<std::size_t>(shift) << kSubBucketBits) + (v >> shift);
  assert(bucket < kBuckets);
  return bucket;
}

std::int64_t Histogram::bucket_upper(std::size_t bucket) {
  assert(bucket < kBuckets);
  bucket = std::min(bucket, kBuckets - 1);
  const int shift = std::max(0, static_cast<int>(bucket >> kSubBucketBits) - 1);
  const std::uint64_t sub = bucket - (static_cast<std::uint64_t>(shift) << kSubBucketBits);
  // The top bucket's (sub + 1) << shift is 2^63: fine in unsigned arithmetic.
  return static_cast<std::int64_t>(((sub + 1) << shift) - 1);
}

void Histogram::record(std::int64_t value) { record_n(value, 1); }

void Histogram::record_n(std::int64_t value, std::uint64_t n) {
  if (n == 0) return;
  value = std::max<std::int64_t>(value, 0);
  assert(count_ <= std::numeric_limits<std::uint64_t>::max() - n);
  counts_[bucket_of(value)] += n;
  if (count_ == 0) {
    min_ = value;
    max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  count_ += n;
  sum_ += static_cast<Sum>(value) * n;
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  // Only the occupied range of the other histogram has counts.
  const std::size_t first = bucket_of(other.min_);
  const std::size_t last = bucket_of(other.max_);
  for (std::size_t b = first; b <= last; ++b) counts_[b] += other.counts_[b];
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::reset() {
  counts_.fill(0);
  count_ = 0;
  min_ = 0;
  max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const {
  if (count_ == 0) return 0.0;
  return static_cast<double>(static_cast<long double>(sum_) / static_cast<long double>(count_));
}

std::int64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0.0)) return min_;  // also NaN
  if (q >= 1.0) return max_;
  const std::uint64_t rank = ceil_count(q, count_);
  const std::size_t first = bucket_of(min_);
  const std::size_t last = bucket_of(max_);
  std::uint64_t seen = 0;
  for (std::size_t b = first; b <= last; ++b) {
    seen += counts_[b];
    if (seen >= rank) return std::min(bucket_upper(b), max_);
  }
  assert(false && "bucket counts add up to count()");
  return max_;
}

}  // namespace hcsim::sim
