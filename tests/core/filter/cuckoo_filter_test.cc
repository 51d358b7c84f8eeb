// CuckooFilter: config errors, the operations, no false negatives (also when
// adds fail: the seed lost the last displaced fingerprint), measured against
// expected false-positive rates, exact stats, determinism.
#include "core/filter/cuckoo_filter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace hcsim::core {
namespace {

// Hashes of fixed 16-byte keys "<prefix:4><i as 12 digits>", e.g. key:000000000042.
std::uint64_t key_hash(std::string_view prefix, std::uint64_t i) {
  std::array<char, 16> buf{};
  std::copy(prefix.begin(), prefix.end(), buf.begin());
  for (int d = 15; d >= 4; --d) {
    buf[static_cast<std::size_t>(d)] = static_cast<char>('0' + i % 10);
    i /= 10;
  }
  return CuckooFilter::hash(std::string_view(buf.data(), buf.size()));
}

// A distinct, well-mixed 64-bit hash per index, computed in registers (the
// big loops stay fast under ThreadSanitizer): splitmix64 is a bijection.
std::uint64_t synthetic_hash(std::uint64_t i, std::uint64_t stream) {
  std::uint64_t state = i ^ (stream << 40);
  return splitmix64(state);
}

CuckooFilter make(const CuckooFilterConfig& config) {
  Result<CuckooFilter> r = CuckooFilter::create(config);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return std::move(r).value();
}

std::string create_error(const CuckooFilterConfig& config) {
  Result<CuckooFilter> r = CuckooFilter::create(config);
  return r.is_ok() ? std::string("(ok)") : r.status().message();
}

TEST(CuckooFilterConfig, ErrorsNameTheRule) {
  EXPECT_EQ(create_error({.expected_items = 0}), "expected_items must be greater than 0");
  EXPECT_EQ(create_error({.expected_items = (1ULL << 32) + 1}), "expected_items must be at most 4294967296");
  for (double rate : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
    EXPECT_EQ(create_error({.false_positive_rate = rate}), "false_positive_rate must be between 0 and 1") << rate;
  }
  for (std::uint32_t bits : {1U, 3U, 33U, 64U}) {
    EXPECT_EQ(create_error({.fingerprint_bits = bits}), "fingerprint_bits must be between 4 and 32") << bits;
  }
  for (double load : {0.0, -0.5, 1.0001, std::nan("")}) {
    EXPECT_EQ(create_error({.target_load = load}), "target_load must be in (0, 1]") << load;
  }
  for (std::uint32_t slots : {0U, 65U}) {
    EXPECT_EQ(create_error({.stash_slots = slots}), "stash_slots must be between 1 and 64") << slots;
  }
  EXPECT_EQ(create_error({.max_kicks = 65537}), "max_kicks must be at most 65536");
  // 2^32 / (4 * 0.2) = 5,368,709,120 buckets > 2^32.
  EXPECT_EQ(create_error({.expected_items = 1ULL << 32, .target_load = 0.2}),
            "expected_items / (4 * target_load) needs more than 2^32 buckets: raise target_load");
  // The rate is only read (and checked) when fingerprint_bits is 0.
  EXPECT_EQ(create_error({.false_positive_rate = 0.0, .fingerprint_bits = 8}), "(ok)");
  // Bounds themselves are valid.
  EXPECT_EQ(create_error({.expected_items = 1, .fingerprint_bits = 4, .target_load = 1.0, .max_kicks = 65536,
                          .stash_slots = 64}),
            "(ok)");
  EXPECT_EQ(create_error({.expected_items = 1, .fingerprint_bits = 32, .stash_slots = 1}), "(ok)");
}

TEST(CuckooFilterConfig, FingerprintBitsFromRate) {
  // ceil(log2(8 / rate)), clamped to 4..32.
  EXPECT_EQ(make({.expected_items = 1000, .false_positive_rate = 0.002}).fingerprint_bits(), 12U);      // log2(4000) = 11.97
  EXPECT_EQ(make({.expected_items = 1000, .false_positive_rate = 0.001}).fingerprint_bits(), 13U);      // log2(8000) = 12.97
  EXPECT_EQ(make({.expected_items = 1000, .false_positive_rate = 8.0 / 1024}).fingerprint_bits(), 10U);  // exactly 10
  EXPECT_EQ(make({.expected_items = 1000, .false_positive_rate = 0.5}).fingerprint_bits(), 4U);         // log2(16) = 4
  EXPECT_EQ(make({.expected_items = 1000, .false_positive_rate = 0.9}).fingerprint_bits(), 4U);         // 3.15, clamped up
  EXPECT_EQ(make({.expected_items = 1000, .false_positive_rate = 1e-12}).fingerprint_bits(), 32U);      // 42.9, clamped down
  EXPECT_EQ(make({.expected_items = 1000, .false_positive_rate = 0.5, .fingerprint_bits = 20}).fingerprint_bits(), 20U);
}

TEST(CuckooFilterConfig, Geometry) {
  // Default: 1,000,000 / 3.8 = 263,157.9 -> 263,158 -> 2^19 buckets;
  // capacity floor(2^19 * 3.8) = 1,992,294; table 2^19 * 48 bits = 393,216
  // words + 1 padding word, stash 8 x 8 bytes.
  CuckooFilter f = make({});
  EXPECT_EQ(f.fingerprint_bits(), 12U);
  EXPECT_EQ(f.buckets(), 524288U);
  EXPECT_EQ(f.capacity(), 1992294U);
  EXPECT_EQ(f.memory_bytes(), 393217U * 8 + 64);
  // Odd width: 3 buckets -> 4; 4 * 4 * 13 = 208 bits -> 4 words + 1.
  CuckooFilter g = make({.expected_items = 10, .fingerprint_bits = 13, .target_load = 1.0, .stash_slots = 3});
  EXPECT_EQ(g.buckets(), 4U);
  EXPECT_EQ(g.capacity(), 16U);
  EXPECT_EQ(g.memory_bytes(), 5U * 8 + 3 * 8);
  // target_load 0.5: 100 / 2 = 50 -> 64 buckets, capacity 128.
  CuckooFilter h = make({.expected_items = 100, .fingerprint_bits = 8, .target_load = 0.5});
  EXPECT_EQ(h.buckets(), 64U);
  EXPECT_EQ(h.capacity(), 128U);
}

TEST(CuckooFilterConfig, TheoreticalFprFormula) {
  // 1 - (1 - 1/(2^f - 1))^8, worked out separately.
  EXPECT_NEAR(make({.fingerprint_bits = 8}).theoretical_fpr(), 0.0309453061853866, 1e-14);
  EXPECT_NEAR(make({.fingerprint_bits = 12}).theoretical_fpr(), 0.0019519330235979737, 1e-15);
  EXPECT_NEAR(make({.fingerprint_bits = 16}).theoretical_fpr(), 0.00012206565591554863, 1e-16);
  // Empty filter: nothing to match.
  EXPECT_EQ(make({.fingerprint_bits = 8}).expected_fpr(), 0.0);
}

TEST(CuckooFilter, RoundTrips) {
  for (std::uint32_t bits : {4U, 7U, 12U, 16U, 17U, 25U, 32U}) {
    SCOPED_TRACE(bits);
    CuckooFilter f = make({.expected_items = 1000, .fingerprint_bits = bits});
    const std::uint64_t a = key_hash("key:", 1);
    const std::uint64_t b = key_hash("key:", 2);
    EXPECT_EQ(f.size(), 0U);
    EXPECT_FALSE(f.contains(a));
    EXPECT_FALSE(f.remove(a));  // missing key
    EXPECT_TRUE(f.add(a));
    EXPECT_TRUE(f.contains(a));
    EXPECT_EQ(f.size(), 1U);
    EXPECT_DOUBLE_EQ(f.load_factor(), 1.0 / static_cast<double>(f.capacity()));
    // Duplicates: a multiset, one copy removed per remove.
    EXPECT_TRUE(f.add(a));
    EXPECT_TRUE(f.add(b));
    EXPECT_EQ(f.size(), 3U);
    EXPECT_TRUE(f.remove(a));
    EXPECT_TRUE(f.contains(a));
    EXPECT_EQ(f.size(), 2U);
    EXPECT_TRUE(f.remove(a));
    EXPECT_EQ(f.size(), 1U);
    if (bits >= 12) {
      EXPECT_FALSE(f.contains(a));  // a 4-bit fingerprint may collide with b's
    }
    EXPECT_TRUE(f.contains(b));
    f.clear();
    EXPECT_EQ(f.size(), 0U);
    EXPECT_FALSE(f.contains(b));
    EXPECT_EQ(f.stats().adds, 0U);
  }
}

// Every key added (and not removed) is contained, among 2,000,000 distinct
// keys with a third removed and some of those re-added along the way.
TEST(CuckooFilter, NoFalseNegativesWithChurn) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer's shadow memory turns each random access to the 6 MiB
  // table into several cache misses (~20 s at full size). The same test at an
  // eighth of the size; the release build runs it at full size.
  constexpr std::uint64_t kKeys = 250'000;
#else
  constexpr std::uint64_t kKeys = 2'000'000;
#endif
  CuckooFilter f = make({.expected_items = kKeys});
  auto hash = [](std::uint64_t i) { return synthetic_hash(i, 1); };
  std::vector<std::uint8_t> present(kKeys, 0);
  std::vector<std::uint64_t> removed;
  SeededRandom rng(7);
  std::uint64_t count = 0;
  std::uint64_t removes = 0;
  std::uint64_t readds = 0;
  auto check_all = [&] {
    std::uint64_t missing = 0;
    for (std::uint64_t j = 0; j < kKeys; ++j) missing += (present[j] != 0 && !f.contains(hash(j))) ? 1 : 0;
    EXPECT_EQ(missing, 0U);
    EXPECT_EQ(f.size(), count);
  };
  for (std::uint64_t i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(f.add(hash(i))) << i;
    present[i] = 1;
    ++count;
    if (i % 3 == 2) {  // remove a random key added so far
      const std::uint64_t j = rng.uniform(i + 1);
      if (present[j] != 0) {
        ASSERT_TRUE(f.remove(hash(j))) << j;
        present[j] = 0;
        --count;
        ++removes;
        removed.push_back(j);
      }
    }
    if (i % 6 == 5 && !removed.empty()) {  // re-add one removed key
      const std::size_t k = rng.uniform(removed.size());
      const std::uint64_t j = removed[k];
      removed[k] = removed.back();
      removed.pop_back();
      ASSERT_TRUE(f.add(hash(j))) << j;
      present[j] = 1;
      ++count;
      ++readds;
    }
  }
  check_all();
  EXPECT_GT(removes, kKeys / 4);  // about a third of the keys were removed ...
  EXPECT_GT(readds, kKeys / 8);   // ... and about half of those re-added
  // Everything present can be removed exactly once more.
  for (std::uint64_t j = 0; j < kKeys; ++j) {
    if (present[j] != 0) {
      ASSERT_TRUE(f.remove(hash(j))) << j;
    }
  }
  EXPECT_EQ(f.size(), 0U);
}

// The seed's bug: when the kick chain ran out, the last displaced fingerprint
// was dropped, so a stored key went invisible. Fill tiny tables past full with
// short chains and a tiny stash: every failed add changes nothing, every key
// whose add succeeded stays visible.
TEST(CuckooFilter, FailedAddsLoseNothing) {
  for (std::uint32_t kicks : {0U, 1U, 4U, 500U}) {
    for (std::uint32_t stash : {1U, 2U}) {
      SCOPED_TRACE(testing::Message() << "max_kicks " << kicks << " stash " << stash);
      CuckooFilter f = make({.expected_items = 256, .fingerprint_bits = 16, .target_load = 1.0,
                             .max_kicks = kicks, .stash_slots = stash, .seed = kicks * 10 + stash});
      ASSERT_EQ(f.buckets(), 64U);
      std::vector<std::uint64_t> added;
      std::uint64_t failures = 0;
      for (std::uint64_t i = 0; failures < 100; ++i) {
        ASSERT_LT(i, 100000U);
        const std::uint64_t h = key_hash("key:", i);
        if (f.add(h)) {
          added.push_back(h);
          continue;
        }
        ++failures;
        ASSERT_EQ(f.size(), added.size());
        for (std::uint64_t a : added) ASSERT_TRUE(f.contains(a)) << "key lost after failure " << failures;
      }
      const CuckooFilterStats s = f.stats();
      EXPECT_EQ(s.stash_used, stash);  // a failure needs a full stash
      EXPECT_EQ(s.failed_adds, 100U);
      EXPECT_EQ(s.adds, added.size());
      EXPECT_GT(added.size(), 128U);  // more than half the 256 slots were usable
      if (kicks == 0) {
        EXPECT_EQ(s.kicks, 0U);
      } else {
        EXPECT_LE(s.max_kick_chain, kicks);
      }
      // Remove everything: each stashed fingerprint comes back into the table.
      for (std::uint64_t a : added) ASSERT_TRUE(f.remove(a));
      EXPECT_EQ(f.size(), 0U);
      EXPECT_EQ(f.stats().stash_used, 0U);
    }
  }
}

// At and past full load, with removes freeing slots next to stashed
// fingerprints: stash entries move back and nothing goes missing.
TEST(CuckooFilter, ChurnAtFullLoadKeepsEveryKey) {
  CuckooFilter f = make({.expected_items = 4096, .fingerprint_bits = 12, .target_load = 1.0, .max_kicks = 100,
                         .stash_slots = 8, .seed = 3});
  ASSERT_EQ(f.buckets(), 1024U);
  SeededRandom rng(11);
  std::vector<std::uint64_t> present;
  std::uint64_t next_key = 0;
  for (; next_key < 10000; ++next_key) {  // fill until the first refusal
    const std::uint64_t h = key_hash("key:", next_key);
    if (!f.add(h)) break;
    present.push_back(h);
  }
  ASSERT_LT(next_key, 10000U);
  ++next_key;
  EXPECT_EQ(f.stats().stash_used, 8U);
  EXPECT_GT(present.size(), 3900U);  // over 95% of 4096 slots, with the stash
  std::uint64_t stash_moves_back = 0;
  for (int op = 0; op < 40000; ++op) {
    if (rng.uniform(2) == 0 && !present.empty()) {
      const std::size_t k = rng.uniform(present.size());
      const std::uint64_t stashed_before = f.stats().stash_used;
      ASSERT_TRUE(f.remove(present[k]));
      present[k] = present.back();
      present.pop_back();
      stash_moves_back += f.stats().stash_used < stashed_before ? 1 : 0;
    } else {
      const std::uint64_t h = key_hash("key:", next_key++);
      if (f.add(h)) present.push_back(h);
    }
    ASSERT_EQ(f.size(), present.size());
    if (op % 200 == 0) {
      for (std::uint64_t h : present) ASSERT_TRUE(f.contains(h)) << "op " << op;
    }
  }
  for (std::uint64_t h : present) ASSERT_TRUE(f.contains(h));
  EXPECT_GT(stash_moves_back, 0U);
  EXPECT_GT(f.stats().failed_adds, 0U);
}

struct FprCase {
  std::uint32_t bits;
  std::uint64_t probes;
};

// Filled to the design load (95%), the measured rate of absent keys is within
// 10% of expected_fpr(). Probe counts give >= ~1,800 expected hits, so one
// standard error is <= 2.4%.
TEST(CuckooFilterFpr, MeasuredWithinTenPercentOfExpected) {
  for (const FprCase c : {FprCase{8, 1'000'000}, FprCase{12, 4'000'000}, FprCase{16, 16'000'000}}) {
    SCOPED_TRACE(c.bits);
    // 62,259 / 3.8 = 16,383.9 -> 2^14 buckets, capacity 62,259.
    CuckooFilter f = make({.expected_items = 62259, .fingerprint_bits = c.bits});
    ASSERT_EQ(f.buckets(), 16384U);
    ASSERT_EQ(f.capacity(), 62259U);
    SeededRandom keys(c.bits);
    for (std::uint64_t i = 0; i < f.capacity(); ++i) ASSERT_TRUE(f.add(keys.next())) << i;
    EXPECT_DOUBLE_EQ(f.load_factor(), 1.0);
    // Random 64-bit hashes: one equal to an added hash has odds ~2^-48.
    SeededRandom absent(1000 + c.bits);
    std::vector<std::uint64_t> chunk(1 << 16);  // small: stays in cache
    double hits = 0;
    std::uint64_t done = 0;
    for (; done < c.probes; done += chunk.size()) {
      for (std::uint64_t& h : chunk) h = absent.next();
      hits += f.measured_fpr(chunk) * static_cast<double>(chunk.size());
    }
    const double measured = hits / static_cast<double>(done);
    const double expected = f.expected_fpr();
    // 1 - (1 - 1/(2^f - 1))^(8 * occupancy), occupancy 62,259 / 65,536.
    const double occupancy = 62259.0 / 65536.0;
    EXPECT_NEAR(expected, 1 - std::pow(1 - 1 / (std::pow(2.0, c.bits) - 1), 8 * occupancy), 1e-12);
    EXPECT_NEAR(measured, expected, 0.10 * expected) << "measured " << measured << " expected " << expected;
    EXPECT_LT(expected, f.theoretical_fpr());
    EXPECT_EQ(f.stats().lookups, 0U);  // measured_fpr probes are not lookups
  }
}

// The default rate (0.002 -> 12 bits) at the design load, with real keys:
// at most 0.2% false positives, at most 13 bits per stored key.
TEST(CuckooFilterFpr, TwelveBitsAtDesignLoad) {
  // 62,259 / 3.8 = 16,383.9 -> 2^14 buckets, capacity 62,259.
  CuckooFilter f = make({.expected_items = 62259, .false_positive_rate = 0.002});
  ASSERT_EQ(f.fingerprint_bits(), 12U);
  ASSERT_EQ(f.capacity(), 62259U);
  std::vector<std::uint64_t> stored(f.capacity());
  for (std::uint64_t i = 0; i < stored.size(); ++i) {
    stored[i] = key_hash("key:", i);
    ASSERT_TRUE(f.add(stored[i])) << i;
  }
  constexpr std::uint64_t kProbes = 4'000'000;  // ~7,400 expected hits: 1.2% standard error
  std::vector<std::uint64_t> chunk(1 << 16);
  double hits = 0;
  std::uint64_t done = 0;
  for (; done < kProbes; done += chunk.size()) {
    for (std::uint64_t i = 0; i < chunk.size(); ++i) chunk[i] = synthetic_hash(done + i, 2);
    hits += f.measured_fpr(chunk) * static_cast<double>(chunk.size());
  }
  const double measured = hits / static_cast<double>(done);
  const CuckooFilterStats s = f.stats();
  EXPECT_LE(measured, 0.002);
  EXPECT_NEAR(measured, s.expected_fpr, 0.10 * s.expected_fpr);
  // 12 / 0.95 = 12.63 bits, plus the 72 bytes of padding and stash.
  EXPECT_LE(s.bits_per_item, 13.0);
  EXPECT_NEAR(s.bits_per_item, (16384.0 * 48 + 72 * 8) / 62259, 1e-9);  // 12.64
  // All stored keys are still there.
  for (const std::uint64_t h : stored) ASSERT_TRUE(f.contains(h));
}

// Every counter, worked out by hand on a one-bucket filter (both candidate
// buckets are the same one), max_kicks 3, stash of 2.
TEST(CuckooFilterStats, CountedExactly) {
  CuckooFilter f = make({.expected_items = 4, .fingerprint_bits = 8, .target_load = 1.0, .max_kicks = 3,
                         .stash_slots = 2, .seed = 1});
  ASSERT_EQ(f.buckets(), 1U);
  // Fingerprint = ((hash >> 32) * 255 >> 32) + 1.
  const std::uint64_t a = 0x00000000'12345678ULL;  // fingerprint 1
  const std::uint64_t b = 0xffffffff'00000000ULL;  // fingerprint 255
  const std::uint64_t c = 0x80000000'00000000ULL;  // fingerprint 128
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(f.add(a));
  EXPECT_EQ(f.stats().kicks, 0U);
  ASSERT_TRUE(f.add(a));  // bucket full: 3 kicks, then the stash
  ASSERT_TRUE(f.add(b));  // 3 more kicks, stash full
  EXPECT_FALSE(f.add(a));  // stash full and bucket full: refused, no kicks
  CuckooFilterStats s = f.stats();
  EXPECT_EQ(s.size, 6U);
  EXPECT_EQ(s.adds, 6U);
  EXPECT_EQ(s.failed_adds, 1U);
  EXPECT_EQ(s.kicks, 6U);
  EXPECT_EQ(s.max_kick_chain, 3U);
  EXPECT_EQ(s.stash_used, 2U);
  EXPECT_DOUBLE_EQ(s.load_factor, 1.5);
  EXPECT_TRUE(f.contains(a));
  EXPECT_TRUE(f.contains(b));
  EXPECT_FALSE(f.contains(c));
  EXPECT_FALSE(f.remove(c));
  EXPECT_TRUE(f.remove(b));  // from the table (a stashed one moves in) or from the stash
  EXPECT_FALSE(f.remove(b));
  EXPECT_FALSE(f.contains(b));
  EXPECT_EQ(f.stats().stash_used, 1U);
  EXPECT_TRUE(f.remove(a));  // frees a slot: the stashed copy of a moves in
  s = f.stats();
  EXPECT_EQ(s.size, 4U);
  EXPECT_EQ(s.capacity, 4U);
  EXPECT_DOUBLE_EQ(s.load_factor, 1.0);
  EXPECT_EQ(s.fingerprint_bits, 8U);
  EXPECT_EQ(s.buckets, 1U);
  EXPECT_EQ(s.adds, 6U);
  EXPECT_EQ(s.failed_adds, 1U);
  EXPECT_EQ(s.lookups, 4U);
  EXPECT_EQ(s.removes, 2U);
  EXPECT_EQ(s.failed_removes, 2U);
  EXPECT_EQ(s.kicks, 6U);
  EXPECT_EQ(s.max_kick_chain, 3U);
  EXPECT_EQ(s.stash_used, 0U);
  // 32 table bits -> 1 word, + 1 padding word, + 2 stash entries of 8 bytes.
  EXPECT_EQ(s.memory_bytes, 32U);
  EXPECT_DOUBLE_EQ(s.bits_per_item, 64.0);
  EXPECT_NEAR(s.theoretical_fpr, 0.0309453061853866, 1e-14);  // 1 - (254/255)^8
  EXPECT_NEAR(s.expected_fpr, 0.01559424330481829, 1e-14);    // one bucket, full: 1 - (254/255)^4
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(f.remove(a));
  EXPECT_FALSE(f.remove(a));
  EXPECT_EQ(f.size(), 0U);
  EXPECT_EQ(f.stats().bits_per_item, 0.0);
}

TEST(CuckooFilterStats, SameSeedSameHistory) {
  auto run = [](std::uint64_t seed) {
    CuckooFilter f = make({.expected_items = 2000, .fingerprint_bits = 10, .target_load = 1.0, .seed = seed});
    for (std::uint64_t i = 0; i < 2100; ++i) (void)f.add(key_hash("key:", i));
    for (std::uint64_t i = 0; i < 300; ++i) (void)f.remove(key_hash("key:", i * 7));
    for (std::uint64_t i = 0; i < 1000; ++i) (void)f.contains(key_hash("abs:", i));
    std::vector<bool> answers;
    for (std::uint64_t i = 0; i < 5000; ++i) answers.push_back(f.contains(key_hash("abs:", i)));
    return std::make_pair(f.stats(), answers);
  };
  const auto [s1, a1] = run(42);
  const auto [s2, a2] = run(42);
  EXPECT_GT(s1.kicks, 0U);
  EXPECT_EQ(s1.size, s2.size);
  EXPECT_EQ(s1.adds, s2.adds);
  EXPECT_EQ(s1.failed_adds, s2.failed_adds);
  EXPECT_EQ(s1.lookups, s2.lookups);
  EXPECT_EQ(s1.removes, s2.removes);
  EXPECT_EQ(s1.failed_removes, s2.failed_removes);
  EXPECT_EQ(s1.kicks, s2.kicks);
  EXPECT_EQ(s1.max_kick_chain, s2.max_kick_chain);
  EXPECT_EQ(s1.stash_used, s2.stash_used);
  EXPECT_EQ(a1, a2);
  // The seed drives the kicks: another seed takes other paths.
  const auto [s3, a3] = run(43);
  EXPECT_NE(s1.kicks, s3.kicks);
}

TEST(CuckooFilterStats, ClearRestartsFromTheSeed) {
  CuckooFilter f = make({.expected_items = 1000, .fingerprint_bits = 12, .target_load = 1.0});
  auto fill = [&] {
    for (std::uint64_t i = 0; i < 1050; ++i) (void)f.add(key_hash("key:", i));
    return f.stats();
  };
  const CuckooFilterStats first = fill();
  ASSERT_GT(first.kicks, 0U);
  f.clear();
  EXPECT_EQ(f.size(), 0U);
  EXPECT_EQ(f.stats().stash_used, 0U);
  EXPECT_FALSE(f.contains(key_hash("key:", 5)));
  const CuckooFilterStats second = fill();
  EXPECT_EQ(second.kicks, first.kicks);
  EXPECT_EQ(second.size, first.size);
  EXPECT_EQ(second.stash_used, first.stash_used);
  EXPECT_EQ(second.lookups, 1U);
}

}  // namespace
}  // namespace hcsim::core
