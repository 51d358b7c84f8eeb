// Readers look up while one writer changes membership. Every answer must be
// one a published state could give: ids from the fixed set, replicas distinct,
// and the stable core (node1..node3, never touched) keeps the ring non-empty.
// The CI runs this suite again under ThreadSanitizer.
#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "core/ring/hash_ring.h"

namespace hcsim::core {
namespace {

void churn_while_reading(HashRingConfig config) {
  HashRing ring(config);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(ring.add_node("node" + std::to_string(i)).is_ok());
  const std::set<std::string> valid = {"node1", "node2", "node3", "node4", "node5"};
  std::atomic<bool> stop{false};
  std::atomic<long> lookups{0};
  std::atomic<int> bad{0};

  auto reader = [&](int seed) {
    std::vector<std::string_view> reps;
    long n = 0;
    for (int i = seed; !stop.load(std::memory_order_relaxed) || n < 2000; ++i, ++n) {
      const std::string key = "key:" + std::to_string(i % 5000);
      const auto owner = ring.get_node(key);
      if (!owner || !valid.count(std::string(*owner))) bad.fetch_add(1);
      ring.get_replicas(key, 3, reps);
      if (reps.size() != 3 || std::set<std::string_view>(reps.begin(), reps.end()).size() != 3) bad.fetch_add(1);
      for (auto id : reps) {
        if (!valid.count(std::string(id))) bad.fetch_add(1);
      }
    }
    lookups.fetch_add(n);
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) readers.emplace_back(reader, t * 1000);

  for (int round = 0; round < 60; ++round) {
    ASSERT_TRUE(ring.add_node("node4").is_ok());
    ASSERT_TRUE(ring.add_node("node5").is_ok());
    ASSERT_TRUE(ring.set_node_status("node4", NodeStatus::kSuspected).is_ok());
    ASSERT_TRUE(ring.update_node_load("node5", round / 60.0).is_ok());
    (void)ring.metrics();
    (void)ring.nodes();
    ASSERT_TRUE(ring.set_node_status("node4", NodeStatus::kAlive).is_ok());
    ASSERT_TRUE(ring.remove_node("node4").is_ok());
    ASSERT_TRUE(ring.remove_node("node5").is_ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(ring.node_count(), 3u);
  // Every lookup was counted exactly once (two per loop turn).
  EXPECT_EQ(ring.metrics().lookups, static_cast<std::uint64_t>(2 * lookups.load()));
}

TEST(HashRingConcurrency, ReadersDuringMembershipChanges) { churn_while_reading({}); }

TEST(HashRingConcurrency, ReadersDuringMembershipChangesWithLookupCache) {
  churn_while_reading(HashRingConfig{.lookup_cache_size = 256});
}

TEST(HashRingConcurrency, AfterAChangeEveryThreadSeesTheNewState) {
  HashRing ring;
  ASSERT_TRUE(ring.add_node("node1").is_ok());
  std::thread t([&] { EXPECT_EQ(ring.get_node("k"), "node1"); });
  t.join();
  ASSERT_TRUE(ring.add_node("node2").is_ok());
  ASSERT_TRUE(ring.set_node_status("node1", NodeStatus::kDead).is_ok());
  std::thread t2([&] { EXPECT_EQ(ring.get_node("k"), "node2"); });
  t2.join();
  EXPECT_EQ(ring.get_node("k"), "node2");
}

TEST(HashRingConcurrency, ManyRingsPerThreadShareTheViewCacheSafely) {
  // More rings than per-thread view slots: slots are reused, answers stay right.
  std::vector<std::unique_ptr<HashRing>> rings;
  for (int i = 0; i < 20; ++i) {
    rings.push_back(std::make_unique<HashRing>(HashRingConfig{.vnodes_per_node = 8}));
    ASSERT_TRUE(rings.back()->add_node("only" + std::to_string(i)).is_ok());
  }
  for (int pass = 0; pass < 3; ++pass) {
    for (int i = 0; i < 20; ++i) EXPECT_EQ(rings[i]->get_node("k"), "only" + std::to_string(i));
  }
  rings.erase(rings.begin(), rings.begin() + 10);  // destroyed rings never confuse new ones
  auto fresh = std::make_unique<HashRing>();
  ASSERT_TRUE(fresh->add_node("fresh").is_ok());
  EXPECT_EQ(fresh->get_node("k"), "fresh");
}

}  // namespace
}  // namespace hcsim::core
