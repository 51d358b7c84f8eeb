#include "sim/metrics/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "core/runtime/random.h"

namespace hcsim::sim {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// Histograms are 57 KiB: keep them off the test's stack.
std::unique_ptr<Histogram> make() { return std::make_unique<Histogram>(); }

TEST(Histogram, EmptyReportsZero) {
  const auto h = make();
  EXPECT_EQ(h->count(), 0u);
  EXPECT_EQ(h->min(), 0);
  EXPECT_EQ(h->max(), 0);
  EXPECT_EQ(h->mean(), 0.0);
  for (const double q : {0.0, 0.5, 0.99, 1.0}) EXPECT_EQ(h->percentile(q), 0) << q;
}

TEST(Histogram, SmallValuesAreExact) {
  for (std::int64_t v = 0; v < 256; ++v) {
    ASSERT_EQ(Histogram::bucket_of(v), static_cast<std::size_t>(v));
    ASSERT_EQ(Histogram::bucket_upper(static_cast<std::size_t>(v)), v);
  }
  const auto h = make();
  for (std::int64_t v = 1; v <= 100; ++v) h->record(v);
  EXPECT_EQ(h->count(), 100u);
  EXPECT_EQ(h->min(), 1);
  EXPECT_EQ(h->max(), 100);
  EXPECT_DOUBLE_EQ(h->mean(), 50.5);
  EXPECT_EQ(h->percentile(0.0), 1);
  EXPECT_EQ(h->percentile(0.01), 1);
  EXPECT_EQ(h->percentile(0.255), 26);  // ceil(25.5)
  EXPECT_EQ(h->percentile(0.5), 50);
  EXPECT_EQ(h->percentile(0.9), 90);
  EXPECT_EQ(h->percentile(0.99), 99);  // 0.99 * 100 is 99, not 99.00000000000001
  EXPECT_EQ(h->percentile(0.999), 100);
  EXPECT_EQ(h->percentile(1.0), 100);
  // Out-of-range q acts as the nearest end.
  EXPECT_EQ(h->percentile(-1.0), 1);
  EXPECT_EQ(h->percentile(2.0), 100);
  EXPECT_EQ(h->percentile(std::numeric_limits<double>::quiet_NaN()), 1);
}

// Worked by hand. 1000 = 250 * 4: exponent 9, shift 2, sub-bucket 250,
// bucket 2 * 128 + 250 = 506 holding 1000..1003. 2000 = 250 * 8: shift 3,
// bucket 3 * 128 + 250 = 634 holding 2000..2007.
TEST(Histogram, BucketsWorkedByHand) {
  EXPECT_EQ(Histogram::bucket_of(-5), 0u);
  EXPECT_EQ(Histogram::bucket_of(256), 256u);
  EXPECT_EQ(Histogram::bucket_of(257), 256u);
  EXPECT_EQ(Histogram::bucket_upper(256), 257);
  EXPECT_EQ(Histogram::bucket_of(258), 257u);
  EXPECT_EQ(Histogram::bucket_of(511), 383u);
  EXPECT_EQ(Histogram::bucket_of(512), 384u);
  EXPECT_EQ(Histogram::bucket_of(999), 505u);
  EXPECT_EQ(Histogram::bucket_of(1000), 506u);
  EXPECT_EQ(Histogram::bucket_of(1003), 506u);
  EXPECT_EQ(Histogram::bucket_of(1004), 507u);
  EXPECT_EQ(Histogram::bucket_upper(506), 1003);
  EXPECT_EQ(Histogram::bucket_of(2000), 634u);
  EXPECT_EQ(Histogram::bucket_upper(634), 2007);
  // 2^62 = 128 * 2^55: bucket 55 * 128 + 128; the last bucket ends at 2^63 - 1.
  EXPECT_EQ(Histogram::bucket_of(std::int64_t{1} << 62), 7168u);
  EXPECT_EQ(Histogram::bucket_upper(7168), (std::int64_t{129} << 55) - 1);
  EXPECT_EQ(Histogram::bucket_of(kMax), 7295u);
  EXPECT_EQ(Histogram::bucket_upper(7295), kMax);

  const auto h = make();
  h->record(1000);
  h->record(2000);
  EXPECT_EQ(h->percentile(0.5), 1003);   // rank 1: upper edge of 1000's bucket
  EXPECT_EQ(h->percentile(0.75), 2000);  // rank 2: 2007 clamped to the max
  EXPECT_EQ(h->percentile(1.0), 2000);
  EXPECT_EQ(h->percentile(0.0), 1000);
}

// Every value's bucket contains it with an upper edge less than 1% above;
// buckets tile the value range in order with no gaps.
TEST(Histogram, BucketOfAndUpperAreConsistent) {
  std::vector<std::int64_t> values;
  for (std::int64_t v = 0; v <= (1 << 20); ++v) values.push_back(v);
  core::SeededRandom random(1);
  for (int e = 20; e < 63; ++e) {
    const std::int64_t base = std::int64_t{1} << e;
    values.push_back(base - 1);
    values.push_back(base);
    values.push_back(base + 1);
    for (int i = 0; i < 1000; ++i) {
      values.push_back(base + static_cast<std::int64_t>(random.uniform(static_cast<std::uint64_t>(base))));
    }
  }
  values.push_back(kMax);
  std::sort(values.begin(), values.end());
  std::size_t previous = 0;
  for (const std::int64_t v : values) {
    const std::size_t b = Histogram::bucket_of(v);
    const std::int64_t upper = Histogram::bucket_upper(b);
    ASSERT_GE(upper, v);
    ASSERT_LT(static_cast<double>(upper - v), 0.01 * static_cast<double>(v) + 0.5) << v;
    ASSERT_GE(b, previous) << v;
    previous = b;
  }
  EXPECT_EQ(previous, 7295u);
  // Bucket by bucket: upper edges strictly increase, the next value after an
  // edge opens the next bucket, and width - 1 <= lower edge / 128.
  std::int64_t lower = 0;
  for (std::size_t b = 0; b <= 7295; ++b) {
    const std::int64_t upper = Histogram::bucket_upper(b);
    ASSERT_EQ(Histogram::bucket_of(lower), b);
    ASSERT_EQ(Histogram::bucket_of(upper), b);
    ASSERT_GE(upper, lower);
    ASSERT_LE((upper - lower) * 128, lower) << b;
    if (b < 7295) {  // the last edge is INT64_MAX: nothing follows it
      ASSERT_EQ(Histogram::bucket_of(upper + 1), b + 1);
      lower = upper + 1;
    }
  }
}

TEST(Histogram, PercentilesWithinOnePercentOfSortedValues) {
  constexpr int kValues = 100'000;
  core::SeededRandom random(2);
  std::vector<std::int64_t> values;
  const auto h = make();
  std::int64_t sum = 0;
  for (int i = 0; i < kValues; ++i) {
    // Log-uniform over [1, 1e9] ns, so every octave is populated.
    const auto v = static_cast<std::int64_t>(std::exp(random.unit() * std::log(1e9)));
    values.push_back(v);
    sum += v;
    h->record(v);
  }
  std::sort(values.begin(), values.end());
  EXPECT_EQ(h->count(), static_cast<std::uint64_t>(kValues));
  EXPECT_EQ(h->min(), values.front());
  EXPECT_EQ(h->max(), values.back());
  EXPECT_DOUBLE_EQ(h->mean(), static_cast<double>(sum) / kValues);
  // q = rank / 100000: the exact answer is the rank-th smallest value.
  for (const int rank : {1, 10, 100, 1000, 10'000, 25'000, 50'000, 75'000, 90'000, 99'000,
                         99'900, 99'990, 99'999, 100'000}) {
    const double q = rank / static_cast<double>(kValues);
    const std::int64_t exact = values[static_cast<std::size_t>(rank - 1)];
    const std::int64_t got = h->percentile(q);
    EXPECT_GE(got, exact) << "q=" << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * 1.01) << "q=" << q;
    EXPECT_LE(got, Histogram::bucket_upper(Histogram::bucket_of(exact))) << "q=" << q;
  }
}

TEST(Histogram, P0IsMinAndP100IsMax) {
  const auto h = make();
  for (const std::int64_t v : {77'777, 1001, 5003}) h->record(v);
  EXPECT_EQ(h->percentile(0.0), 1001);
  EXPECT_EQ(h->percentile(1.0), 77'777);
  // A tiny q is rank 1: the upper edge of 1001's bucket (1000..1003).
  EXPECT_EQ(h->percentile(1e-9), 1003);
  // 77777 sits in a bucket 512 wide; the report is clamped to the max.
  EXPECT_EQ(h->percentile(0.9), 77'777);
}

TEST(Histogram, MergeEqualsRecordingBoth) {
  const auto a = make();
  const auto b = make();
  const auto both = make();
  core::SeededRandom random(3);
  for (int i = 0; i < 50'000; ++i) {
    const auto x = static_cast<std::int64_t>(random.uniform(5'000));
    const auto y = static_cast<std::int64_t>(1'000'000 + random.uniform(100'000'000));
    a->record(x);
    b->record(y);
    both->record(x);
    both->record(y);
  }
  a->merge(*b);
  EXPECT_EQ(a->count(), both->count());
  EXPECT_EQ(a->min(), both->min());
  EXPECT_EQ(a->max(), both->max());
  EXPECT_EQ(a->mean(), both->mean());
  for (int k = 0; k <= 1000; ++k) {
    ASSERT_EQ(a->percentile(k / 1000.0), both->percentile(k / 1000.0)) << k;
  }
  // Merging into an empty histogram copies; merging an empty one changes nothing.
  const auto empty = make();
  const auto copy = make();
  copy->merge(*both);
  copy->merge(*empty);
  EXPECT_EQ(copy->count(), both->count());
  EXPECT_EQ(copy->min(), both->min());
  EXPECT_EQ(copy->max(), both->max());
  EXPECT_EQ(copy->percentile(0.5), both->percentile(0.5));
  // A merged histogram with a smaller minimum than the receiver's.
  const auto high = make();
  high->record(900);
  const auto low = make();
  low->record(3);
  high->merge(*low);
  EXPECT_EQ(high->min(), 3);
  EXPECT_EQ(high->percentile(0.5), 3);
  EXPECT_EQ(high->percentile(1.0), 900);
}

TEST(Histogram, ResetForgetsEverything) {
  const auto h = make();
  h->record(1'000'000);
  h->record(5);
  h->reset();
  EXPECT_EQ(h->count(), 0u);
  EXPECT_EQ(h->min(), 0);
  EXPECT_EQ(h->max(), 0);
  EXPECT_EQ(h->mean(), 0.0);
  EXPECT_EQ(h->percentile(0.5), 0);
  h->record(7);
  EXPECT_EQ(h->min(), 7);  // not stuck at the old 5
  EXPECT_EQ(h->max(), 7);
  EXPECT_EQ(h->percentile(1.0), 7);
  EXPECT_EQ(h->percentile(0.5), 7);  // the old counts are gone
  EXPECT_EQ(h->count(), 1u);
}

TEST(Histogram, RecordNAndNegativeValues) {
  const auto a = make();
  const auto b = make();
  a->record_n(300, 5);
  a->record_n(12345, 0);  // no-op
  for (int i = 0; i < 5; ++i) b->record(300);
  EXPECT_EQ(a->count(), 5u);
  EXPECT_EQ(a->max(), 300);
  EXPECT_EQ(a->mean(), b->mean());
  EXPECT_EQ(a->percentile(0.5), b->percentile(0.5));
  a->record(-7);
  EXPECT_EQ(a->min(), 0);
  EXPECT_EQ(a->count(), 6u);
  EXPECT_DOUBLE_EQ(a->mean(), 1500.0 / 6.0);
}

// The sum is exact: a double accumulator would drop the 1s added to 2^53,
// and a 64-bit one would overflow on three times 2^63 - 1.
TEST(Histogram, MeanIsExact) {
  const auto h = make();
  h->record(std::int64_t{1} << 53);
  for (int i = 0; i < 1000; ++i) h->record(1);
  EXPECT_EQ(h->mean(), 9007199254741992.0 / 1001.0);

  const auto big = make();
  big->record_n(kMax, 3);
  EXPECT_EQ(big->mean(), static_cast<double>(kMax));
  EXPECT_EQ(big->percentile(0.5), kMax);
}

}  // namespace
}  // namespace hcsim::sim
