#include "core/store/memory_pool.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/mman.h>
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();  // in the TSan and ASan runtimes
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/runtime/random.h"

namespace hcsim::core {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * 1024;

std::unique_ptr<MemoryPool> make_pool(std::uint64_t max_bytes, std::string name = "test") {
  MemoryPoolConfig config;
  config.name = std::move(name);
  config.max_bytes = max_bytes;
  auto pool = MemoryPool::create(std::move(config));
  EXPECT_TRUE(pool.is_ok()) << pool.status().message();
  return std::move(pool).value();
}

std::string create_error(MemoryPoolConfig config) {
  auto pool = MemoryPool::create(std::move(config));
  return pool.is_ok() ? "ok" : pool.status().message();
}

// ---- charged_size ----------------------------------------------------------

TEST(MemoryPoolChargedSize, ClassBoundariesWorkedByHand) {
  EXPECT_EQ(MemoryPool::charged_size(0), 8u);  // an empty value still takes a chunk
  EXPECT_EQ(MemoryPool::charged_size(1), 8u);
  EXPECT_EQ(MemoryPool::charged_size(8), 8u);
  EXPECT_EQ(MemoryPool::charged_size(9), 16u);
  EXPECT_EQ(MemoryPool::charged_size(121), 128u);
  EXPECT_EQ(MemoryPool::charged_size(128), 128u);
  EXPECT_EQ(MemoryPool::charged_size(129), 144u);  // 128..256 in steps of 16
  EXPECT_EQ(MemoryPool::charged_size(256), 256u);
  EXPECT_EQ(MemoryPool::charged_size(257), 288u);  // 256..512 in steps of 32
  EXPECT_EQ(MemoryPool::charged_size(1000), 1024u);
  EXPECT_EQ(MemoryPool::charged_size(1025), 1152u);
  EXPECT_EQ(MemoryPool::charged_size(9000), 9216u);  // 8K..16K in steps of 1K
  EXPECT_EQ(MemoryPool::charged_size(16384), 16384u);
  // Above 16 KiB: 32-byte header + n, rounded up to 4 KiB.
  EXPECT_EQ(MemoryPool::charged_size(16385), 20480u);
  EXPECT_EQ(MemoryPool::charged_size(20448), 20480u);
  EXPECT_EQ(MemoryPool::charged_size(20449), 24576u);
  EXPECT_EQ(MemoryPool::charged_size(40960), 45056u);
  // Saturates instead of wrapping: never fits any pool.
  EXPECT_EQ(MemoryPool::charged_size(std::numeric_limits<std::size_t>::max()),
            std::numeric_limits<std::size_t>::max());
}

TEST(MemoryPoolChargedSize, SeventyTwoClassesUpTo16KiB) {
  std::vector<std::size_t> expected;
  for (std::size_t s = 8; s <= 128; s += 8) expected.push_back(s);
  for (std::size_t base = 128; base < 16384; base *= 2) {
    for (std::size_t i = 1; i <= 8; ++i) expected.push_back(base + i * base / 8);
  }
  ASSERT_EQ(expected.size(), 72u);
  std::vector<std::size_t> seen;
  for (std::size_t n = 0; n <= 16384; ++n) {
    const std::size_t c = MemoryPool::charged_size(n);
    if (seen.empty() || seen.back() != c) seen.push_back(c);
  }
  EXPECT_EQ(seen, expected);
}

TEST(MemoryPoolChargedSize, MonotoneAndWasteBounded) {
  std::size_t prev = 0;
  for (std::size_t n = 0; n <= 200000; ++n) {
    const std::size_t c = MemoryPool::charged_size(n);
    ASSERT_GE(c, n) << n;
    ASSERT_GE(c, prev) << n;
    ASSERT_EQ(c % 8, 0u) << n;
    if (n >= 1 && n <= 128) {
      ASSERT_LE(c - n, 7u) << n;
    } else if (n > 128 && n <= 16384) {
      ASSERT_LT((c - n) * 8, n) << n;  // under 12.5%
    } else if (n > 16384) {
      ASSERT_EQ(c % 4096, 0u) << n;
      ASSERT_GE(c - n, 32u) << n;
      ASSERT_LT(c - n, 4096u + 32u) << n;
    }
    prev = c;
  }
}

// ---- Creation, thresholds, resize: exact error texts -------------------------

TEST(MemoryPoolErrors, CreateRejectsBadConfigWithExactMessages) {
  MemoryPoolConfig c;
  c.name = "";
  c.max_bytes = 100;
  EXPECT_EQ(create_error(c), "pool name cannot be empty");
  c.name = "p";
  c.max_bytes = 0;
  EXPECT_EQ(create_error(c), "pool max size must be greater than 0");
  c.max_bytes = MemoryPool::kMaxPoolBytes + 1;
  EXPECT_EQ(create_error(c), "pool max size must be at most 1099511627776 bytes");
  c.max_bytes = MemoryPool::kMaxPoolBytes;
  EXPECT_EQ(create_error(c), "ok");
  c.max_bytes = 100;
  c.warning_threshold = -0.01;
  EXPECT_EQ(create_error(c), "thresholds must be between 0.0 and 1.0");
  c.warning_threshold = 0.85;
  c.panic_threshold = 1.01;
  EXPECT_EQ(create_error(c), "thresholds must be between 0.0 and 1.0");
  c.panic_threshold = std::nan("");
  EXPECT_EQ(create_error(c), "thresholds must be between 0.0 and 1.0");
  c.panic_threshold = 0.95;
  c.critical_threshold = 0.85;  // equal to warning: not strictly ordered
  EXPECT_EQ(create_error(c), "thresholds must be ordered: warning < critical < panic");
  c.critical_threshold = 0.96;
  EXPECT_EQ(create_error(c), "thresholds must be ordered: warning < critical < panic");
  c.warning_threshold = 0.0;
  c.critical_threshold = 0.5;
  c.panic_threshold = 1.0;
  EXPECT_EQ(create_error(c), "ok");
}

TEST(MemoryPoolErrors, SetThresholdsValidatesAndKeepsOldValuesOnError) {
  auto pool = make_pool(1000);
  Status st = pool->set_thresholds(0.5, 1.5, 0.9);
  EXPECT_EQ(st.message(), "thresholds must be between 0.0 and 1.0");
  st = pool->set_thresholds(0.5, 0.4, 0.9);
  EXPECT_EQ(st.message(), "thresholds must be ordered: warning < critical < panic");
  st = pool->set_thresholds(0.5, 0.9, 0.9);
  EXPECT_EQ(st.message(), "thresholds must be ordered: warning < critical < panic");
  MemoryPoolStats s = pool->stats();
  EXPECT_EQ(s.warning_threshold, 0.85);
  EXPECT_EQ(s.critical_threshold, 0.90);
  EXPECT_EQ(s.panic_threshold, 0.95);
  ASSERT_TRUE(pool->set_thresholds(0.1, 0.2, 0.3).is_ok());
  s = pool->stats();
  EXPECT_EQ(s.warning_threshold, 0.1);
  EXPECT_EQ(s.critical_threshold, 0.2);
  EXPECT_EQ(s.panic_threshold, 0.3);
}

TEST(MemoryPoolErrors, ResizeRules) {
  auto pool = make_pool(1000);
  std::vector<PressureLevel> events;
  pool->set_pressure_handler([&](PressureLevel l, double) { events.push_back(l); });
  void* p = pool->allocate(500);  // class 512
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(pool->used_bytes(), 512u);
  EXPECT_EQ(pool->resize(0).message(), "invalid pool size: 0");
  EXPECT_EQ(pool->resize(511).message(), "cannot resize below current usage: 511 < 512");
  EXPECT_EQ(pool->resize(MemoryPool::kMaxPoolBytes + 1).message(),
            "pool max size must be at most 1099511627776 bytes");
  EXPECT_EQ(pool->max_bytes(), 1000u);
  EXPECT_TRUE(events.empty());
  // Shrinking to exactly the use is allowed and puts the pool at pressure 1.
  ASSERT_TRUE(pool->resize(512).is_ok());
  EXPECT_EQ(pool->max_bytes(), 512u);
  EXPECT_EQ(pool->available_bytes(), 0u);
  EXPECT_EQ(pool->level(), PressureLevel::kPanic);
  EXPECT_EQ(events, std::vector<PressureLevel>{PressureLevel::kPanic});
  EXPECT_EQ(pool->allocate(0), nullptr);
  // Growing re-arms: back to normal, and a later rise reports again.
  ASSERT_TRUE(pool->resize(10000).is_ok());
  EXPECT_EQ(pool->level(), PressureLevel::kNormal);
  EXPECT_EQ(pool->available_bytes(), 10000u - 512u);
  pool->charge_external(9000);  // 9512 / 10000 >= 0.95
  EXPECT_EQ(events, (std::vector<PressureLevel>{PressureLevel::kPanic, PressureLevel::kPanic}));
  pool->charge_external(-9000);
  pool->deallocate(p, 500);
  EXPECT_EQ(pool->used_bytes(), 0u);
}

// ---- Seed behaviour adapted to real charging ---------------------------------

TEST(MemoryPool, AllocateAndFreeReturnUsedToZero) {
  auto pool = make_pool(1 * kMiB);
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t n : {0, 1, 100, 1000, 5000, 16384, 16385, 100000}) {
    void* p = pool->allocate(n);
    ASSERT_NE(p, nullptr) << n;
    blocks.emplace_back(p, n);
  }
  // 8 + 8 + 104 + 1024 + 5120 + 16384 + 20480 + (100032 rounded up to 4 KiB = 102400)
  EXPECT_EQ(pool->used_bytes(), 145528u);
  for (auto [p, n] : blocks) pool->deallocate(p, n);
  EXPECT_EQ(pool->used_bytes(), 0u);
  EXPECT_EQ(pool->stats().requested_bytes, 0u);
  EXPECT_EQ(pool->stats().live_allocations, 0u);
}

TEST(MemoryPool, PoolOneClassWideTakesOneAllocationThenFails) {
  auto pool = make_pool(96);
  EXPECT_TRUE(pool->fits(96));
  void* p = pool->allocate(90);  // class 96
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(pool->used_bytes(), 96u);
  EXPECT_FALSE(pool->fits(0));
  EXPECT_EQ(pool->allocate(0), nullptr);
  EXPECT_EQ(pool->allocate(1), nullptr);
  EXPECT_EQ(pool->allocate(std::numeric_limits<std::size_t>::max()), nullptr);  // no wrap-around
  MemoryPoolStats s = pool->stats();
  EXPECT_EQ(s.failures, 3u);
  EXPECT_EQ(s.used_bytes, 96u);  // failures change nothing
  EXPECT_EQ(s.total_allocations, 1u);
  EXPECT_EQ(s.live_allocations, 1u);
  pool->deallocate(p, 90);
  EXPECT_NE(pool->allocate(96), nullptr);  // freed room is usable again (leaked: the pool owns it)
  // A pool narrower than the smallest class accepts nothing, not even n == 0.
  auto tiny = make_pool(7);
  EXPECT_EQ(tiny->allocate(0), nullptr);
  EXPECT_EQ(tiny->stats().failures, 1u);
}

// Pool of 800 bytes, 8-byte chunks: warning at 680 (85th), critical at 720
// (90th), panic at 760 (95th allocation), each worked out as used / 800.
TEST(MemoryPool, ThresholdCallbacksFireOncePerCrossingAndReArm) {
  auto pool = make_pool(800);
  std::vector<std::pair<PressureLevel, double>> events;
  pool->set_pressure_handler([&](PressureLevel l, double p) { events.emplace_back(l, p); });
  std::vector<void*> blocks;
  std::vector<std::size_t> fired_at;
  for (int i = 1; i <= 100; ++i) {
    const std::size_t before = events.size();
    void* p = pool->allocate(8);
    ASSERT_NE(p, nullptr);
    blocks.push_back(p);
    if (events.size() != before) fired_at.push_back(static_cast<std::size_t>(i));
  }
  EXPECT_EQ(fired_at, (std::vector<std::size_t>{85, 90, 95}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], std::make_pair(PressureLevel::kWarning, 0.85));
  EXPECT_EQ(events[1], std::make_pair(PressureLevel::kCritical, 0.90));
  EXPECT_EQ(events[2], std::make_pair(PressureLevel::kPanic, 0.95));
  EXPECT_EQ(pool->level(), PressureLevel::kPanic);
  EXPECT_EQ(pool->allocate(8), nullptr);  // full: 800 / 800
  EXPECT_EQ(events.size(), 3u);

  auto free_to = [&](std::size_t live) {
    while (blocks.size() > live) {
      pool->deallocate(blocks.back(), 8);
      blocks.pop_back();
    }
  };
  free_to(94);  // 752 < 760: panic re-armed, no callback on the way down
  EXPECT_EQ(pool->level(), PressureLevel::kCritical);
  EXPECT_EQ(events.size(), 3u);
  blocks.push_back(pool->allocate(8));  // 760 again
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3], std::make_pair(PressureLevel::kPanic, 0.95));
  free_to(84);  // 672: below warning
  EXPECT_EQ(pool->level(), PressureLevel::kNormal);
  blocks.push_back(pool->allocate(8));  // 680: warning again
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[4], std::make_pair(PressureLevel::kWarning, 0.85));
  // A jump over two levels reports only the highest: 680 + 100 = 780.
  pool->charge_external(100);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[5], std::make_pair(PressureLevel::kPanic, 780.0 / 800.0));
  pool->charge_external(-100);
  EXPECT_EQ(pool->level(), PressureLevel::kWarning);
  EXPECT_EQ(events.size(), 6u);
  free_to(0);
  EXPECT_EQ(pool->used_bytes(), 0u);
}

TEST(MemoryPool, HandlerMayFreeMemoryWhileItRuns) {
  auto pool = make_pool(800);
  std::vector<void*> blocks;
  int calls = 0;
  pool->set_pressure_handler([&](PressureLevel l, double) {
    ++calls;
    EXPECT_EQ(l, PressureLevel::kWarning);
    for (int i = 0; i < 50; ++i) {  // "evict" 50 entries: 680 -> 280
      pool->deallocate(blocks.back(), 8);
      blocks.pop_back();
    }
  });
  for (int i = 0; i < 85; ++i) blocks.push_back(pool->allocate(8));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(pool->used_bytes(), 280u);
  EXPECT_EQ(pool->level(), PressureLevel::kNormal);
  EXPECT_EQ(pool->stats().live_allocations, 35u);
  for (void* p : blocks) pool->deallocate(p, 8);
}

// ---- Stats ------------------------------------------------------------------

// 1 MiB pool: the empty-span cache holds max(64 KiB, 1 MiB / 64) = one 64 KiB
// span. Classes 8, 104, 208 and 1024 live in 64 KiB spans.
TEST(MemoryPool, StatsAfterAKnownSequence) {
  auto pool = make_pool(1 * kMiB, "shard-3");
  void* a = pool->allocate(0);      // class 8, new span
  void* b = pool->allocate(100);    // class 104, new span
  void* c = pool->allocate(1000);   // class 1024, new span
  void* d = pool->allocate(20000);  // large: 20480
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(pool->allocate(2 * kMiB), nullptr);
  pool->deallocate(b, 100);  // its span empties and goes to the cache
  pool->charge_external(300);

  MemoryPoolStats s = pool->stats();
  EXPECT_EQ(s.name, "shard-3");
  EXPECT_EQ(s.max_bytes, 1048576u);
  EXPECT_EQ(s.used_bytes, 21812u);  // 8 + 1024 + 20480 + 300
  EXPECT_EQ(s.available_bytes, 1048576u - 21812u);
  EXPECT_EQ(s.pressure, 21812.0 / 1048576.0);
  EXPECT_EQ(s.requested_bytes, 21000u);
  EXPECT_EQ(s.external_bytes, 300u);
  EXPECT_EQ(s.internal_fragmentation_bytes, 512u);  // 8 + 1024 + 20480 - 21000
  EXPECT_EQ(s.reserved_bytes, 3 * 65536u + 20480u);
  EXPECT_EQ(s.touched_bytes, 3 * 4096u + 20480u);  // one page written per span
  EXPECT_EQ(s.live_allocations, 3u);
  EXPECT_EQ(s.total_allocations, 4u);
  EXPECT_EQ(s.total_frees, 1u);
  EXPECT_EQ(s.failures, 1u);

  void* e = pool->allocate(200);  // class 208 takes the cached span
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(pool->stats().reserved_bytes, 3 * 65536u + 20480u);

  pool->deallocate(a, 0);      // cached (cache was empty)
  pool->deallocate(e, 200);    // cache full: back to the system
  pool->deallocate(c, 1000);   // back to the system
  pool->deallocate(d, 20000);  // back to the system
  pool->charge_external(-300);
  s = pool->stats();
  EXPECT_EQ(s.used_bytes, 0u);
  EXPECT_EQ(s.reserved_bytes, 65536u);
  EXPECT_EQ(s.touched_bytes, 4096u);
  EXPECT_EQ(s.internal_fragmentation_bytes, 0u);
  EXPECT_EQ(s.total_allocations, 5u);
  EXPECT_EQ(s.total_frees, 5u);
}

// Carving a span populates its pages ahead of use (as many as the span has
// touched so far, at most 64 KiB), and touched_bytes counts exactly the
// pages that are resident. Each chunk is written as a store writes its
// entries; the pages past the last chunk are resident only if the pool
// populated them. On a kernel without MADV_POPULATE_WRITE (before Linux
// 5.14) the pool takes page faults as carving reaches each page instead.
TEST(MemoryPool, CarvingPopulatesPagesAheadAndCountsThemAsTouched) {
  constexpr std::size_t kSpan = 64 * 1024;
  constexpr std::size_t kPage = 4096;
  const bool kernel_populates = [] {
    void* m = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return false;
    const bool ok = ::madvise(m, kPage, MADV_POPULATE_WRITE) == 0;
    ::munmap(m, kPage);
    return ok;
  }();
  auto pool = make_pool(64 * kMiB);
  void* first = pool->allocate(96);  // class 96: 64 KiB spans, 682 chunks
  ASSERT_NE(first, nullptr);
  std::memset(first, 1, 96);
  auto* span = reinterpret_cast<unsigned char*>(reinterpret_cast<std::uintptr_t>(first) & ~(kSpan - 1));
  const auto resident_pages = [span] {
    unsigned char vec[kSpan / kPage];
    if (::mincore(span, kSpan, vec) != 0) return std::size_t{0};
    return static_cast<std::size_t>(std::count_if(std::begin(vec), std::end(vec), [](unsigned char v) { return (v & 1) != 0; }));
  };
  EXPECT_EQ(pool->stats().touched_bytes, kPage);  // the header's page
  EXPECT_EQ(resident_pages(), 1u);
  std::vector<std::uint64_t> steps;  // touched_bytes at each change
  std::size_t chunks = 1;
  for (;; ++chunks) {
    const std::uint64_t before = pool->stats().touched_bytes;
    void* p = pool->allocate(96);
    ASSERT_NE(p, nullptr);
    if (reinterpret_cast<unsigned char*>(p) < span || reinterpret_cast<unsigned char*>(p) >= span + kSpan) break;
    std::memset(p, 1, 96);
    const std::uint64_t touched = pool->stats().touched_bytes;
    // Every chunk handed out lies in counted pages, and exactly those are resident.
    ASSERT_LE(static_cast<std::size_t>(reinterpret_cast<unsigned char*>(p) + 96 - span), touched) << chunks;
    ASSERT_EQ(resident_pages() * kPage, touched) << chunks;
    if (touched != before) steps.push_back(touched);
  }
  EXPECT_EQ(chunks, 682u);  // the whole span was carved before the next began
  if (kernel_populates) {
    // Carving past 4 KiB reaches the page that ends at 8 KiB and populates
    // 4 KiB (what was touched) more: 12 KiB. Past that, 16 + 12 = 28 KiB;
    // past that, 32 + 28 = 60 KiB; then the span's end.
    EXPECT_EQ(steps, (std::vector<std::uint64_t>{12288, 28672, 61440, 65536}));
  } else {
    std::vector<std::uint64_t> page_by_page;
    for (std::uint64_t end = 2 * kPage; end <= kSpan; end += kPage) page_by_page.push_back(end);
    EXPECT_EQ(steps, page_by_page);
  }
}

// A chunk handed on within its class: counted as a free and an allocation,
// its charge unchanged, the requested bytes those of its new use.
TEST(MemoryPool, ReuseHandsAChunkOnWithinItsClass) {
  EXPECT_TRUE(MemoryPool::same_small_class(97, 104));   // both class 104
  EXPECT_FALSE(MemoryPool::same_small_class(96, 97));   // 96 and 104
  EXPECT_TRUE(MemoryPool::same_small_class(0, 8));      // class 8
  EXPECT_FALSE(MemoryPool::same_small_class(16384, 16385));  // the second is large
  EXPECT_FALSE(MemoryPool::same_small_class(20000, 20000));  // large: never

  auto pool = make_pool(1 * kMiB);
  void* a = pool->allocate(97);
  ASSERT_NE(a, nullptr);
  const MemoryPoolStats before = pool->stats();
  EXPECT_EQ(pool->reuse(a, 97, 104), a);
  MemoryPoolStats s = pool->stats();
  EXPECT_EQ(s.used_bytes, before.used_bytes);
  EXPECT_EQ(s.reserved_bytes, before.reserved_bytes);
  EXPECT_EQ(s.requested_bytes, 104u);
  EXPECT_EQ(s.internal_fragmentation_bytes, 0u);
  EXPECT_EQ(s.live_allocations, 1u);
  EXPECT_EQ(s.total_allocations, 2u);
  EXPECT_EQ(s.total_frees, 1u);
  EXPECT_EQ(s.total_reuses, 1u);
  EXPECT_EQ(pool->reuse(a, 104, 100), a);
  s = pool->stats();
  EXPECT_EQ(s.requested_bytes, 100u);
  EXPECT_EQ(s.internal_fragmentation_bytes, 4u);
  pool->deallocate(a, 100);  // freed as what it now holds
  s = pool->stats();
  EXPECT_EQ(s.used_bytes, 0u);
  EXPECT_EQ(s.requested_bytes, 0u);
  EXPECT_EQ(s.live_allocations, 0u);
  EXPECT_EQ(s.total_frees, 3u);
  EXPECT_EQ(s.total_reuses, 2u);
}

TEST(MemoryPool, ResizeDownTrimsTheEmptySpanCache) {
  auto pool = make_pool(64 * kMiB);  // cache limit 1 MiB
  std::vector<void*> blocks;
  // Four 256 KiB spans of class 4096 (63 chunks each), then empty them all.
  for (int i = 0; i < 4 * 63; ++i) blocks.push_back(pool->allocate(4096));
  EXPECT_EQ(pool->stats().reserved_bytes, 4 * 262144u);
  for (void* p : blocks) pool->deallocate(p, 4096);
  EXPECT_EQ(pool->stats().reserved_bytes, 4 * 262144u);  // all four cached
  ASSERT_TRUE(pool->resize(16 * kMiB).is_ok());          // limit 256 KiB
  EXPECT_EQ(pool->stats().reserved_bytes, 262144u);
}

// ---- Reuse: freed chunks serve new allocations --------------------------------

void check_reuse(std::size_t n, std::uint64_t expected_count, std::uint64_t expected_reserved) {
  auto pool = make_pool(4 * kMiB);
  std::vector<void*> blocks;
  while (void* p = pool->allocate(n)) blocks.push_back(p);
  ASSERT_EQ(blocks.size(), expected_count);
  const std::uint64_t reserved = pool->stats().reserved_bytes;
  EXPECT_EQ(reserved, expected_reserved);
  SeededRandom rng(7);
  for (std::size_t i = blocks.size(); i > 1; --i) std::swap(blocks[i - 1], blocks[rng.uniform(i)]);
  const std::size_t half = blocks.size() / 2;
  for (std::size_t i = 0; i < half; ++i) pool->deallocate(blocks[i], n);
  for (std::size_t i = 0; i < half; ++i) {
    blocks[i] = pool->allocate(n);
    ASSERT_NE(blocks[i], nullptr) << i;
  }
  EXPECT_EQ(pool->stats().reserved_bytes, reserved);
  EXPECT_EQ(pool->allocate(n), nullptr);
  for (void* p : blocks) pool->deallocate(p, n);
  EXPECT_EQ(pool->used_bytes(), 0u);
}

TEST(MemoryPool, FreedChunksAreReusedWithoutGrowingReserve) {
  // 96: 4 MiB / 96 = 43690 chunks; 682 per 64 KiB span -> 65 spans.
  check_reuse(96, 43690, 65 * 65536u);
  // 5000 (class 5120): 819 chunks; 51 per 256 KiB span -> 17 spans.
  check_reuse(5000, 819, 17 * 262144u);
  // 16000 (class 16384): 256 chunks; 63 per 1 MiB span -> 5 spans.
  check_reuse(16000, 256, 5 * 1048576u);
  // 30000 (large, 32768 each): 128 blocks, exactly the budget.
  check_reuse(30000, 128, 128 * 32768u);
}

// ---- Alignment ----------------------------------------------------------------

TEST(MemoryPool, EveryPointerIsAligned) {
  auto pool = make_pool(256 * kMiB);
  std::vector<std::pair<void*, std::size_t>> blocks;
  auto check = [&](std::size_t n) {
    for (int rep = 0; rep < 3; ++rep) {
      void* p = pool->allocate(n);
      ASSERT_NE(p, nullptr) << n;
      const auto addr = reinterpret_cast<std::uintptr_t>(p);
      ASSERT_EQ(addr % 8, 0u) << n;
      if (MemoryPool::charged_size(n) % 16 == 0) {
        ASSERT_EQ(addr % 16, 0u) << n;
      }
      blocks.emplace_back(p, n);
    }
  };
  for (std::size_t n = 0; n <= 2048; ++n) check(n);
  for (std::size_t n = 2049; n <= 48 * kKiB; n += 61) check(n);
  for (auto [p, n] : blocks) pool->deallocate(p, n);
  EXPECT_EQ(pool->used_bytes(), 0u);
}

// ---- Ownership: the destructor returns every byte ------------------------------

// Bytes malloc has handed out and not had back (ThreadSanitizer replaces
// malloc, so ask its allocator there).
std::size_t malloc_in_use() {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

bool page_mapped(const void* p) {
  unsigned char vec = 0;
  const auto page = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{4095};
  return mincore(reinterpret_cast<void*>(page), 4096, &vec) == 0;
}

TEST(MemoryPool, DestructorFreesLeakedAllocations) {
  // Spans are mapped from the kernel: after the pool is gone their pages are
  // unmapped. Large blocks come from malloc: the bytes malloc has out must be
  // back where they were.
  std::vector<void*> small;
  small.reserve(2000);
  const std::size_t before = malloc_in_use();
  {
    auto pool = make_pool(64 * kMiB);
    for (std::size_t n = 0; n < 40000; n += 37) {
      void* p = pool->allocate(n);
      ASSERT_NE(p, nullptr);
      if (n <= 16384) small.push_back(p);
    }
    std::vector<void*> freed;
    for (int i = 0; i < 1000; ++i) freed.push_back(pool->allocate(100));
    for (void* p : freed) pool->deallocate(p, 100);  // leaves a cached span too
    EXPECT_EQ(pool->stats().live_allocations, 1082u);
    EXPECT_GT(malloc_in_use(), before + 10 * kMiB);  // the large blocks
    for (void* p : small) ASSERT_TRUE(page_mapped(p));
  }
  // Every large block is over 16 KiB, so less than that left over means none
  // leaked. (Exact equality is too strict: the first use of some library
  // code in this scope, gtest's or libc's, may keep a small allocation.)
  EXPECT_LT(malloc_in_use(), before + 16 * 1024);
  for (void* p : small) ASSERT_FALSE(page_mapped(p));
}

// Pages of spans given back leave the pool's account at once; a pool that held
// 32 MiB of small chunks keeps at most its empty-span cache afterwards.
TEST(MemoryPool, FreeingEverythingReturnsPagesBeyondTheCache) {
  auto pool = make_pool(32 * kMiB);  // cache bound 32 MiB / 64 = 512 KiB
  std::vector<std::pair<void*, std::size_t>> blocks;
  SeededRandom rng(3);
  for (;;) {
    const std::size_t n = rng.uniform(16385);
    void* p = pool->allocate(n);
    if (p == nullptr) break;
    std::memset(p, 0x5a, n);
    blocks.emplace_back(p, n);
  }
  MemoryPoolStats s = pool->stats();
  EXPECT_GT(s.touched_bytes, 31 * kMiB);
  EXPECT_LE(s.touched_bytes, s.reserved_bytes);
  for (auto [p, n] : blocks) pool->deallocate(p, n);
  s = pool->stats();
  EXPECT_EQ(s.used_bytes, 0u);
  EXPECT_LE(s.reserved_bytes, 512 * kKiB);
  EXPECT_LE(s.touched_bytes, s.reserved_bytes);
  // The pool still works after giving everything back.
  void* p = pool->allocate(16384);
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, 16384);
  pool->deallocate(p, 16384);
}

// ---- Randomized stress against a model -----------------------------------------

struct Block {
  void* p;
  std::size_t n;
  std::uint64_t id;
};

std::uint8_t fill_byte(std::uint64_t id) {
  return static_cast<std::uint8_t>(id * 0x9e3779b97f4a7c15ULL >> 56);
}

void fill(const Block& b) {
  auto* p = static_cast<unsigned char*>(b.p);
  std::memset(p, fill_byte(b.id), b.n);
  if (b.n >= 8) std::memcpy(p, &b.id, 8);
  if (b.n >= 16) {
    const std::uint64_t tail = ~b.id;
    std::memcpy(p + b.n - 8, &tail, 8);
  }
}

bool intact(const Block& b) {
  const auto* p = static_cast<const unsigned char*>(b.p);
  const std::uint8_t f = fill_byte(b.id);
  if (b.n < 16) {
    for (std::size_t i = (b.n >= 8 ? 8 : 0); i < b.n; ++i) {
      if (p[i] != f) return false;
    }
    return b.n < 8 || std::memcmp(p, &b.id, 8) == 0;
  }
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
  std::memcpy(&head, p, 8);
  std::memcpy(&tail, p + b.n - 8, 8);
  if (head != b.id || tail != ~b.id) return false;
  if (b.n == 16) return true;
  // All middle bytes equal each other (overlapping compare) and the first is f.
  return p[8] == f && std::memcmp(p + 8, p + 9, b.n - 17) == 0;
}

std::size_t pick_size(SeededRandom& rng) {
  static constexpr std::size_t kEdges[] = {0, 1, 8, 128, 129, 16384, 16385, 20448, 20449, 40960};
  const std::uint64_t r = rng.uniform(100);
  if (r < 3) return kEdges[rng.uniform(std::size(kEdges))];
  if (r < 70) return rng.uniform(257);
  if (r < 90) return 257 + rng.uniform(4096 - 257 + 1);
  return 4097 + rng.uniform(40960 - 4097 + 1);
}

TEST(MemoryPoolStress, RandomOpsAgainstAModel) {
  const std::uint64_t max_bytes = 16 * kMiB;  // empty-span cache bound: 16 MiB / 64
  auto pool = make_pool(max_bytes);
  SeededRandom rng(20240601);
  std::vector<Block> live;
  std::map<std::uintptr_t, std::uintptr_t> extents;  // start -> end of live blocks
  std::uint64_t charged = 0;
  std::uint64_t requested = 0;
  std::uint64_t external = 0;
  std::uint64_t next_id = 1;
  std::uint64_t allocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t failures = 0;

  auto free_at = [&](std::size_t i) {
    const Block b = live[i];
    ASSERT_TRUE(intact(b)) << "block " << b.id << " of " << b.n << " bytes was overwritten";
    pool->deallocate(b.p, b.n);
    extents.erase(reinterpret_cast<std::uintptr_t>(b.p));
    charged -= MemoryPool::charged_size(b.n);
    requested -= b.n;
    ++frees;
    live[i] = live.back();
    live.pop_back();
  };

  constexpr int kOps = 300000;
  for (int op = 0; op < kOps; ++op) {
    const std::uint64_t r = rng.uniform(100);
    if (r < 60) {
      const std::size_t n = pick_size(rng);
      const std::uint64_t c = MemoryPool::charged_size(n);
      const bool should_fit = charged + external + c <= max_bytes;
      ASSERT_EQ(pool->fits(n), should_fit);
      void* p = pool->allocate(n);
      if (!should_fit) {
        ASSERT_EQ(p, nullptr);
        ++failures;
        if (!live.empty()) free_at(rng.uniform(live.size()));
        continue;
      }
      ASSERT_NE(p, nullptr);
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % 8, 0u);
      const auto start = reinterpret_cast<std::uintptr_t>(p);
      const std::uintptr_t end = start + std::max<std::size_t>(n, 1);
      auto next = extents.lower_bound(start);
      if (next != extents.end()) {
        ASSERT_LE(end, next->first) << "overlaps the next live block";
      }
      if (next != extents.begin()) {
        ASSERT_LE(std::prev(next)->second, start) << "overlaps the previous one";
      }
      extents.emplace(start, end);
      Block b{p, n, next_id++};
      fill(b);
      live.push_back(b);
      charged += c;
      requested += n;
      ++allocs;
    } else if (r < 97) {
      if (!live.empty()) free_at(rng.uniform(live.size()));
    } else {
      // External charge: up to 64 KiB on, or part of it off.
      if (rng.uniform(2) == 0) {
        const std::uint64_t d = rng.uniform(64 * kKiB);
        pool->charge_external(static_cast<std::int64_t>(d));
        external += d;
      } else if (external > 0) {
        const std::uint64_t d = 1 + rng.uniform(external);
        pool->charge_external(-static_cast<std::int64_t>(d));
        external -= d;
      }
    }
    ASSERT_EQ(pool->used_bytes(), charged + external);
    if (op % 4096 == 0) {
      const MemoryPoolStats s = pool->stats();
      ASSERT_EQ(s.requested_bytes, requested);
      ASSERT_EQ(s.external_bytes, external);
      ASSERT_EQ(s.internal_fragmentation_bytes, charged - requested);
      ASSERT_EQ(s.live_allocations, live.size());
      ASSERT_EQ(s.total_allocations, allocs);
      ASSERT_EQ(s.total_frees, frees);
      ASSERT_EQ(s.failures, failures);
      ASSERT_GE(s.reserved_bytes, charged);  // live chunks sit inside reserved memory
    }
  }
  // The model must have driven the pool to its limit and freed a lot.
  EXPECT_GT(failures, 1000u);
  EXPECT_GT(frees, 100000u);
  const MemoryPoolStats peak = pool->stats();
  // Churn at the limit reuses freed chunks: the pages the pool has written
  // stay near the budget. Each size class keeps the pages of the most chunks
  // it ever held at once, which in a pool this small (72 classes, ~6000 live
  // blocks, external charges moving the limit) costs ~17% (measured: 19.7 MB
  // written for 16 MiB); a 256 MiB pool measures ~3%.
  EXPECT_LE(peak.touched_bytes, max_bytes + max_bytes / 4);
  EXPECT_LE(peak.touched_bytes, peak.reserved_bytes);

  while (!live.empty()) free_at(live.size() - 1);
  pool->charge_external(-static_cast<std::int64_t>(external));
  const MemoryPoolStats end = pool->stats();
  EXPECT_EQ(end.used_bytes, 0u);
  EXPECT_EQ(end.requested_bytes, 0u);
  EXPECT_EQ(end.live_allocations, 0u);
  EXPECT_LE(end.reserved_bytes, max_bytes / 64);
}

}  // namespace
}  // namespace hcsim::core
