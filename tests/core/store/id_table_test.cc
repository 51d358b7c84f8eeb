// IdTable against a reference map, through random inserts, erases, growth
// and clears, with hashes chosen to crowd buckets (shared homes, shared tags,
// overflow counts that saturate).
#include "core/store/id_table.h"

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/runtime/random.h"

namespace hcsim::core {
namespace {

// Ids stand for keys; each id's "key" is itself, with a hash from `hash_fn`.
struct Harness {
  explicit Harness(std::function<std::uint64_t(EntryId)> fn) : hash_fn(std::move(fn)) {}
  std::function<std::uint64_t(EntryId)> hash_fn;
  IdTable table;
  std::map<EntryId, bool> live;  // reference

  EntryId* find(EntryId id) {
    return table.find(hash_fn(id), [id](EntryId x) { return x == id; });
  }
  void insert(EntryId id) {
    table.insert(hash_fn(id), id, [this](auto&& add) {
      for (const auto& [other, unused] : live) add(hash_fn(other), other);
    });
    live[id] = true;
  }
  void erase(EntryId id) {
    EntryId* slot = find(id);
    ASSERT_NE(slot, nullptr) << id;
    table.erase(slot, hash_fn(id));
    live.erase(id);
  }
  // Every live id is found in its own slot; a sample of absent ids is not.
  void check(EntryId universe) {
    ASSERT_EQ(table.size(), live.size());
    for (EntryId id = 0; id < universe; ++id) {
      EntryId* slot = find(id);
      if (live.count(id) != 0) {
        ASSERT_NE(slot, nullptr) << "live id " << id << " not found";
        ASSERT_EQ(*slot, id);
      } else {
        ASSERT_EQ(slot, nullptr) << "absent id " << id << " found";
      }
    }
    EXPECT_LE(table.size(), table.bucket_count() * IdTable::kFillPerBucket);
  }
};

void random_walk(Harness& h, EntryId universe, int steps, std::uint64_t seed) {
  SeededRandom random(seed);
  for (int step = 0; step < steps; ++step) {
    const auto id = static_cast<EntryId>(random.uniform(universe));
    if (h.live.count(id) != 0) {
      h.erase(id);
    } else {
      h.insert(id);
    }
    if (step % 97 == 0) h.check(universe);
    if (::testing::Test::HasFatalFailure()) return;
  }
  h.check(universe);
}

TEST(IdTable, EmptyTableFindsNothingAndHoldsNoMemory) {
  IdTable t;
  EXPECT_EQ(t.find(123, [](EntryId) { return true; }), nullptr);
  EXPECT_EQ(t.size(), 0U);
  EXPECT_EQ(t.memory_bytes(), 0U);
  EXPECT_EQ(t.growth_bytes_for_insert(), 64U);  // the first bucket
}

TEST(IdTable, WellSpreadHashesAgreeWithAReferenceMap) {
  Harness h([](EntryId id) { return (std::uint64_t{id} + 1) * 0x9e3779b97f4a7c15ULL; });
  random_walk(h, 20000, 60000, 1);
}

TEST(IdTable, ManyKeysSharingAHomeBucketAndTag) {
  // 8 home buckets at most and 4 tags: long overflow chains (counts past
  // 255) and tag collisions everywhere.
  Harness h([](EntryId id) { return std::uint64_t{id % 8} | (std::uint64_t{id % 4 + 1} << 40); });
  for (EntryId id = 0; id < 3000; ++id) h.insert(id);
  h.check(3000);
  random_walk(h, 3000, 20000, 2);
}

TEST(IdTable, TagZeroIsMappedToAStoredTag) {
  // Hashes whose tag bits are zero must still be found (0 marks empty).
  Harness h([](EntryId id) { return std::uint64_t{id} * 0x10001ULL & 0xFFFFFFFFFFULL; });
  random_walk(h, 5000, 15000, 3);
}

TEST(IdTable, GrowthIsAnnouncedAndDoubles) {
  Harness h([](EntryId id) { return (std::uint64_t{id} + 7) * 0xff51afd7ed558ccdULL; });
  EntryId next = 0;
  for (int doubling = 0; doubling < 8; ++doubling) {
    // Fill until the next insert would grow the table.
    while (h.table.growth_bytes_for_insert() == 0) h.insert(next++);
    const std::size_t before = h.table.memory_bytes();
    const std::size_t announced = h.table.growth_bytes_for_insert();
    EXPECT_EQ(h.table.size(), h.table.bucket_count() * IdTable::kFillPerBucket);
    h.insert(next++);
    EXPECT_EQ(h.table.memory_bytes(), before + announced);
    EXPECT_EQ(h.table.memory_bytes(), before == 0 ? 64U : 2 * before);
  }
  h.check(next + 100);
}

TEST(IdTable, ClearFreesEverythingAndTheTableIsReusable) {
  Harness h([](EntryId id) { return std::uint64_t{id} * 0xc4ceb9fe1a85ec53ULL; });
  for (EntryId id = 0; id < 1000; ++id) h.insert(id);
  h.table.clear();
  h.live.clear();
  EXPECT_EQ(h.table.memory_bytes(), 0U);
  h.check(1000);
  random_walk(h, 1000, 3000, 4);
}

TEST(IdTable, OverflowCountsAreExactAndReturnToZero) {
  // 300 keys at home 0 fill buckets 0..24 in order (12 each): bucket k was
  // passed by every key stored after it. Counts past 255 stay exact.
  Harness h([](EntryId id) { return std::uint64_t{id + 1} << 40; });  // home 0, distinct tags mod 255
  for (EntryId id = 0; id < 300; ++id) h.insert(id);
  ASSERT_EQ(h.table.bucket_count(), 32U);
  for (std::size_t k = 0; k < 32; ++k) {
    const std::uint32_t expected = k < 25 ? 300 - 12 * static_cast<std::uint32_t>(k + 1) : 0;
    EXPECT_EQ(h.table.overflow_count(k), expected) << "bucket " << k;
  }
  for (EntryId id = 0; id < 300; id += 2) h.erase(id);
  for (EntryId id = 1; id < 300; id += 2) h.erase(id);
  for (std::size_t k = 0; k < 32; ++k) EXPECT_EQ(h.table.overflow_count(k), 0U) << "bucket " << k;
  h.check(300);
}

TEST(IdTable, AMissEndsWhenEveryBucketHasOverflowed) {
  // Two buckets, each passed by a key stored in the other, so no bucket has
  // an overflow count of 0 and only the probe limit can end a miss.
  // Ids below 13 are homed in bucket 0, the rest in bucket 1.
  Harness h([](EntryId id) { return std::uint64_t{id} << 1 | (id >= 13 ? 1U : 0U) | std::uint64_t{id + 1} << 40; });
  for (EntryId id = 0; id < 13; ++id) h.insert(id);  // 12 fill bucket 0; the 13th goes on to bucket 1
  ASSERT_EQ(h.table.bucket_count(), 2U);
  for (EntryId id = 13; id < 20; ++id) h.insert(id);  // bucket 1: 8 ids, 20 in all (the most 2 buckets take)
  for (EntryId id = 0; id < 6; ++id) h.erase(id);     // room in bucket 0
  for (EntryId id = 20; id < 24; ++id) h.insert(id);  // bucket 1 full
  h.insert(24);                                       // passes bucket 1, wraps to bucket 0
  ASSERT_EQ(h.table.bucket_count(), 2U);
  EXPECT_EQ(h.table.overflow_count(0), 1U);
  EXPECT_EQ(h.table.overflow_count(1), 1U);
  h.check(40);  // misses homed in either bucket (0..5 and 25..39) end, and return nothing
}

}  // namespace
}  // namespace hcsim::core
