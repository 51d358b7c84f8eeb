#include "core/ring/lookup_cache.h"

#include <gtest/gtest.h>

namespace hcsim::core {
namespace {

bool has(LookupCache& c, const char* key, std::uint64_t version = 1) {
  std::vector<NodeIndex> out;
  return c.get(key, version, out);
}

// Worked on paper: capacity 3; put a b c; get a (order a c b); put d evicts b.
TEST(LookupCache, EvictsTheLeastRecentlyUsed) {
  LookupCache c(3);
  c.clear(1);
  c.put("a", 1, {1});
  c.put("b", 1, {2});
  c.put("c", 1, {3});
  EXPECT_TRUE(has(c, "a"));
  c.put("d", 1, {4});
  EXPECT_EQ(c.size(), 3u);
  EXPECT_FALSE(has(c, "b"));
  EXPECT_TRUE(has(c, "a"));
  EXPECT_TRUE(has(c, "c"));
  EXPECT_TRUE(has(c, "d"));
  // Order now d c a... after the gets: a, c, d (most recent last read d). put e evicts a.
  c.put("e", 1, {5});
  EXPECT_FALSE(has(c, "a"));
}

TEST(LookupCache, ReturnsTheStoredListAndOverwrites) {
  LookupCache c(2);
  c.clear(1);
  c.put("k", 1, {7, 8, 9});
  std::vector<NodeIndex> out;
  ASSERT_TRUE(c.get("k", 1, out));
  EXPECT_EQ(out, (std::vector<NodeIndex>{7, 8, 9}));
  c.put("k", 1, {1});
  ASSERT_TRUE(c.get("k", 1, out));
  EXPECT_EQ(out, (std::vector<NodeIndex>{1}));
  EXPECT_EQ(c.size(), 1u);
}

TEST(LookupCache, OtherVersionsNeverHitNorStore) {
  LookupCache c(4);
  c.clear(1);
  c.put("k", 1, {1});
  EXPECT_FALSE(has(c, "k", 2));
  c.clear(2);
  EXPECT_FALSE(has(c, "k", 2));
  EXPECT_EQ(c.size(), 0u);
  c.put("late", 1, {1});  // computed on the old ring: refused
  EXPECT_EQ(c.size(), 0u);
}

TEST(LookupCache, ZeroCapacityStoresNothing) {
  LookupCache c(0);
  c.clear(1);
  c.put("k", 1, {1});
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(has(c, "k"));
}

}  // namespace
}  // namespace hcsim::core
