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
  // 8 home buckets at most and 4 tags: long overflow chains, tag collisions
  // everywhere, and bucket 0's overflow count saturates at 255.
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

TEST(IdTable, AbsentKeysEndEvenWhenEveryBucketOverflowed) {
  // Fill 2 buckets' worth past capacity through one home, then erase most:
  // saturated counts keep every bucket "overflowed", and a miss must still end.
  Harness h([](EntryId) { return std::uint64_t{5} << 40; });  // one home, one tag
  for (EntryId id = 0; id < 300; ++id) h.insert(id);
  for (EntryId id = 0; id < 290; ++id) h.erase(id);
  h.check(400);
}

}  // namespace
}  // namespace hcsim::core
