#include "core/ring/hash_ring.h"

#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "support/reference_ring.h"

namespace hcsim::core {
namespace {

std::unique_ptr<HashRing> ring_with(int nodes, HashRingConfig config = {}) {
  auto r = std::make_unique<HashRing>(config);
  for (int i = 1; i <= nodes; ++i) EXPECT_TRUE(r->add_node("node" + std::to_string(i)).is_ok());
  return r;
}

TEST(HashRing, StartsEmpty) {
  HashRing r;
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.node_count(), 0u);
  EXPECT_EQ(r.vnode_count(), 0u);
  EXPECT_EQ(r.get_node("k"), std::nullopt);
  EXPECT_TRUE(r.get_replicas("k", 3).empty());
}

TEST(HashRing, AddNodeStoresRecordAndVnodes) {
  ManualClock clock(5000);
  HashRing r({}, &clock);
  ASSERT_TRUE(r.add_node("node1", "10.0.0.1", 7000).is_ok());
  EXPECT_EQ(r.node_count(), 1u);
  EXPECT_EQ(r.vnode_count(), 256u);
  const auto n = r.node("node1");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->address, "10.0.0.1");
  EXPECT_EQ(n->port, 7000);
  EXPECT_EQ(n->status, NodeStatus::kAlive);
  EXPECT_EQ(n->last_seen_ns, 5000);
  EXPECT_EQ(n->vnodes, 256u);
}

TEST(HashRing, MembershipErrorsNameTheNodeAndChangeNothing) {
  auto r = ring_with(2);
  Status s = r->add_node("node1");
  EXPECT_EQ(s.message(), "node node1 already exists");
  EXPECT_EQ(r->node_count(), 2u);
  s = r->remove_node("node9");
  EXPECT_EQ(s.message(), "node node9 does not exist");
  s = r->set_node_status("node9", NodeStatus::kDead);
  EXPECT_EQ(s.message(), "node node9 does not exist");
  s = r->update_node_load("node9", 0.5);
  EXPECT_EQ(s.message(), "node node9 does not exist");
  s = r->add_node("");
  EXPECT_EQ(s.message(), "node id must not be empty");
  s = r->add_node(std::string(256, 'x'));
  EXPECT_EQ(s.message(), "node id is longer than 255 bytes");
  s = r->update_node_load("node1", std::nan(""));
  EXPECT_EQ(s.message(), "load of node node1 must be a number");
  EXPECT_EQ(r->node_count(), 2u);
  EXPECT_EQ(r->vnode_count(), 512u);
}

TEST(HashRing, RemoveNode) {
  auto r = ring_with(2);
  ASSERT_TRUE(r->remove_node("node1").is_ok());
  EXPECT_EQ(r->node_count(), 1u);
  EXPECT_EQ(r->vnode_count(), 256u);
  EXPECT_FALSE(r->node("node1").has_value());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r->get_node("key:" + std::to_string(i)), "node2");
}

TEST(HashRing, ConfigValidationNamesTheRule) {
  HashRingConfig c;
  c.vnodes_per_node = 0;
  EXPECT_EQ(validate(c).message(), "vnodes_per_node must be in 1..65536 (got 0)");
  EXPECT_THROW(HashRing{c}, std::invalid_argument);
  c = {};
  c.replication_factor = 0;
  EXPECT_EQ(validate(c).message(), "replication_factor must be in 1..1024 (got 0)");
  c = {};
  c.lookup_cache_size = kMaxLookupCacheSize + 1;
  EXPECT_EQ(validate(c).message(), "lookup_cache_size must be at most 16777216 (got 16777217)");
  EXPECT_TRUE(validate(HashRingConfig{}).is_ok());
}

// Seed golden vectors (seed-behaviour.md §1.10).
TEST(HashRing, SeedGoldenRouting) {
  auto r = ring_with(3);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"user:1", "node1"},      {"user:2", "node1"},      {"user:3", "node1"},
      {"session:abc", "node3"}, {"session:def", "node1"}, {"session:ghi", "node3"},
      {"product:123", "node2"}, {"product:456", "node3"}, {"product:789", "node3"}};
  for (int repeat = 0; repeat < 10; ++repeat) {
    for (const auto& [key, node] : expected) EXPECT_EQ(r->get_node(key), node) << key;
  }
}

TEST(HashRing, DeadNodeKeysFallToTheNextAliveNode) {
  auto r = ring_with(2);
  ASSERT_TRUE(r->set_node_status("node1", NodeStatus::kDead).is_ok());
  EXPECT_EQ(r->get_node("testkey"), "node2");
  EXPECT_EQ(r->node("node1")->status, NodeStatus::kDead);
}

TEST(HashRing, EveryNonAliveStatusIsSkippedAndNoAliveNodeMeansNoNode) {
  for (NodeStatus st : {NodeStatus::kSuspected, NodeStatus::kDead, NodeStatus::kLeaving, NodeStatus::kUpdating}) {
    auto r = ring_with(3);
    for (const char* id : {"node1", "node2"}) ASSERT_TRUE(r->set_node_status(id, st).is_ok());
    for (int i = 0; i < 200; ++i) EXPECT_EQ(r->get_node("key:" + std::to_string(i)), "node3");
    ASSERT_TRUE(r->set_node_status("node3", st).is_ok());
    EXPECT_EQ(r->get_node("key:1"), std::nullopt);
    EXPECT_TRUE(r->get_replicas("key:1", 3).empty());
    ASSERT_TRUE(r->set_node_status("node2", NodeStatus::kAlive).is_ok());
    EXPECT_EQ(r->get_node("key:1"), "node2");
  }
}

TEST(HashRing, ReplicasAreDistinctAliveAndStartWithThePrimary) {
  auto r = ring_with(6);
  ASSERT_TRUE(r->set_node_status("node4", NodeStatus::kSuspected).is_ok());
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "key:" + std::to_string(i);
    const auto reps = r->get_replicas(key);
    ASSERT_EQ(reps.size(), 3u);
    EXPECT_EQ(std::set<std::string_view>(reps.begin(), reps.end()).size(), 3u);
    EXPECT_EQ(reps.front(), r->get_node(key));
    for (auto id : reps) EXPECT_NE(id, "node4");
    const auto one = r->get_replicas(key, 1);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one.front(), reps.front());
  }
}

TEST(HashRing, ReplicasBeyondTheFactorAndBeyondAliveNodes) {
  auto r = ring_with(5);  // replication factor 3
  EXPECT_EQ(r->get_replicas("k", 5).size(), 5u);
  EXPECT_EQ(r->get_replicas("k", 4).size(), 4u);
  EXPECT_EQ(r->get_replicas("k", 50).size(), 5u);  // all alive ones
  ASSERT_TRUE(r->set_node_status("node2", NodeStatus::kDead).is_ok());
  EXPECT_EQ(r->get_replicas("k", 50).size(), 4u);
  EXPECT_TRUE(r->get_replicas("k", 0).empty());
}

TEST(HashRing, ManyReplicasUseTheBitmapPathAndAgreeWithTheReference) {
  auto r = ring_with(40, HashRingConfig{.vnodes_per_node = 16});
  test_support::ReferenceRing ref;
  for (int i = 1; i <= 40; ++i) ref.add("node" + std::to_string(i), 16);
  for (int i = 0; i < 300; ++i) {
    const std::string key = "key:" + std::to_string(i);
    const auto got = r->get_replicas(key, 25);
    const auto want = ref.replicas(key, 25);
    ASSERT_EQ(std::vector<std::string>(got.begin(), got.end()), want) << key;
  }
}

// The replica fast path looks at a window of the next 8 vnodes (owners are
// padded past the end, wrapping as often as a tiny ring needs) and falls back
// to the walk when the window holds too few nodes, when a node is down or
// when there are more than 64 nodes. Every side of that, against the
// independent reference, through one reused output vector.
TEST(HashRing, ReplicasAgreeWithTheReferenceOnEveryPathAndGeometry) {
  std::vector<std::string_view> out;
  for (const int nodes : {1, 2, 3, 5, 10, 64, 65}) {
    for (const std::uint32_t vnodes : {1u, 2u, 3u, 16u}) {
      for (const bool with_dead : {false, true}) {
        SCOPED_TRACE(testing::Message() << nodes << " nodes x " << vnodes << " vnodes, dead: " << with_dead);
        auto r = ring_with(nodes, HashRingConfig{.vnodes_per_node = vnodes});
        test_support::ReferenceRing ref;
        for (int i = 1; i <= nodes; ++i) ref.add("node" + std::to_string(i), static_cast<int>(vnodes));
        if (with_dead) {
          for (int i = 2; i <= nodes; i += 3) {
            ASSERT_TRUE(r->set_node_status("node" + std::to_string(i), NodeStatus::kDead).is_ok());
            ref.set_alive("node" + std::to_string(i), false);
          }
        }
        for (int i = 0; i < 150; ++i) {
          const std::string key = "key:" + std::to_string(i);
          for (const std::size_t n : {1u, 2u, 3u, 4u, 7u, 8u, 9u, 17u}) {
            const std::size_t k = r->get_replicas(key, n, out);
            const std::vector<std::string> want = ref.replicas(key, n);
            ASSERT_EQ(k, want.size()) << key << " n=" << n;
            ASSERT_EQ(std::vector<std::string>(out.begin(), out.end()), want) << key << " n=" << n;
          }
        }
      }
    }
  }
}

TEST(HashRing, LoadIsClampedAndDoesNotRoute) {
  auto r = ring_with(1);
  ASSERT_TRUE(r->update_node_load("node1", 0.75).is_ok());
  EXPECT_DOUBLE_EQ(r->node("node1")->load, 0.75);
  ASSERT_TRUE(r->update_node_load("node1", 1.5).is_ok());
  EXPECT_DOUBLE_EQ(r->node("node1")->load, 1.0);
  ASSERT_TRUE(r->update_node_load("node1", -0.5).is_ok());
  EXPECT_DOUBLE_EQ(r->node("node1")->load, 0.0);
  EXPECT_EQ(r->metrics().routing_changes, 1u);  // only the add
}

TEST(HashRing, NodesAreSortedCopies) {
  auto r = ring_with(3);
  auto list = r->nodes();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id, "node1");
  EXPECT_EQ(list[2].id, "node3");
  list[0].status = NodeStatus::kDead;
  EXPECT_EQ(r->node("node1")->status, NodeStatus::kAlive);
}

TEST(HashRing, ViewsOfIdsOutliveRemoval) {
  auto r = ring_with(2);
  const auto owner = r->get_node("key:1");
  ASSERT_TRUE(owner.has_value());
  const std::string copy(*owner);
  ASSERT_TRUE(r->remove_node(copy).is_ok());
  EXPECT_EQ(*owner, copy);  // interned for the ring's lifetime
  ASSERT_TRUE(r->add_node(copy).is_ok());  // the same id again reuses its copy
}

TEST(HashRing, MetricsCountEachLookupOnceAndNodesByStatus) {
  auto r = ring_with(5);
  ASSERT_TRUE(r->set_node_status("node1", NodeStatus::kSuspected).is_ok());
  ASSERT_TRUE(r->set_node_status("node2", NodeStatus::kDead).is_ok());
  ASSERT_TRUE(r->set_node_status("node3", NodeStatus::kLeaving).is_ok());
  ASSERT_TRUE(r->set_node_status("node4", NodeStatus::kUpdating).is_ok());
  for (int i = 0; i < 10; ++i) {
    (void)r->get_node("k" + std::to_string(i));
    (void)r->get_replicas("k" + std::to_string(i), 2);
  }
  const RingMetrics m = r->metrics();
  EXPECT_EQ(m.lookups, 20u);  // the seed counted every GetNode twice
  EXPECT_EQ(m.cache_hits, 0u);
  EXPECT_EQ(m.cache_hit_rate, 0.0);
  EXPECT_EQ(m.total_nodes, 5u);
  EXPECT_EQ(m.alive_nodes, 1u);
  EXPECT_EQ(m.suspected_nodes, 1u);
  EXPECT_EQ(m.dead_nodes, 1u);
  EXPECT_EQ(m.leaving_nodes, 1u);
  EXPECT_EQ(m.updating_nodes, 1u);
  EXPECT_EQ(m.total_vnodes, 5u * 256u);
  EXPECT_EQ(m.routing_changes, 5u + 4u);
  EXPECT_EQ(m.cache_capacity, 0u);
}

TEST(HashRing, StatusChangesAmongNonAliveStatesAreNotRoutingChanges) {
  auto r = ring_with(2);
  ASSERT_TRUE(r->set_node_status("node1", NodeStatus::kSuspected).is_ok());
  ASSERT_TRUE(r->set_node_status("node1", NodeStatus::kDead).is_ok());
  ASSERT_TRUE(r->set_node_status("node1", NodeStatus::kDead).is_ok());
  EXPECT_EQ(r->metrics().routing_changes, 3u);  // 2 adds + alive->suspected
  ASSERT_TRUE(r->remove_node("node1").is_ok());  // routed nothing: moves nothing
  EXPECT_EQ(r->metrics().routing_changes, 3u);
}

TEST(HashRing, LookupCacheHitsAndStaysBounded) {
  auto r = ring_with(2, HashRingConfig{.lookup_cache_size = 5});
  (void)r->get_replicas("hot", 3);
  (void)r->get_replicas("hot", 3);
  RingMetrics m = r->metrics();
  EXPECT_EQ(m.lookups, 2u);
  EXPECT_EQ(m.cache_hits, 1u);
  for (int i = 0; i < 7; ++i) (void)r->get_node("k" + std::to_string(i));
  m = r->metrics();
  EXPECT_EQ(m.cache_size, 5u);
  EXPECT_EQ(m.cache_capacity, 5u);
  // 10 keys looked up twice each: exactly half hit (the seed's 0.5, with one count per call).
  auto fresh = ring_with(2, HashRingConfig{.lookup_cache_size = 100});
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < 10; ++i) (void)fresh->get_replicas("x" + std::to_string(i));
  }
  EXPECT_DOUBLE_EQ(fresh->metrics().cache_hit_rate, 0.5);
}

TEST(HashRing, LookupCacheIsInvalidatedByRoutingChanges) {
  auto cached = ring_with(3, HashRingConfig{.lookup_cache_size = 1000});
  auto plain = ring_with(3);
  auto same = [&](const char* what) {
    for (int i = 0; i < 300; ++i) {
      const std::string key = "key:" + std::to_string(i);
      ASSERT_EQ(cached->get_replicas(key), plain->get_replicas(key)) << what << " " << key;
      ASSERT_EQ(cached->get_node(key), plain->get_node(key)) << what << " " << key;
    }
  };
  same("warm");
  same("cached");
  for (auto* r : {cached.get(), plain.get()}) ASSERT_TRUE(r->add_node("node4").is_ok());
  same("after add");
  for (auto* r : {cached.get(), plain.get()}) ASSERT_TRUE(r->set_node_status("node2", NodeStatus::kDead).is_ok());
  same("after death");
  for (auto* r : {cached.get(), plain.get()}) ASSERT_TRUE(r->set_node_status("node2", NodeStatus::kAlive).is_ok());
  same("after recovery");
  for (auto* r : {cached.get(), plain.get()}) ASSERT_TRUE(r->remove_node("node1").is_ok());
  same("after remove");
  EXPECT_GT(cached->metrics().cache_hits, 0u);
}

TEST(HashRing, Xxh3IsSelectable) {
  auto r = ring_with(4, HashRingConfig{.hash = HashKind::kXxh3});
  test_support::ReferenceRing ref(/*xxh3=*/true);
  for (int i = 1; i <= 4; ++i) ref.add("node" + std::to_string(i), 256);
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "key:" + std::to_string(i);
    ASSERT_EQ(r->get_node(key), ref.primary(key));
  }
}

// ---- add_nodes: many nodes, one rebuild ------------------------------------------

std::vector<std::string> ids(int first, int last) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i) out.push_back("node" + std::to_string(i));
  return out;
}

TEST(HashRingAddNodes, RoutesLikeAddNodeOneByOne) {
  HashRing batched;
  HashRing sequential;
  test_support::ReferenceRing ref;
  // Two nodes first (one of them dead), then a batch of five in a given order.
  for (HashRing* r : {&batched, &sequential}) {
    ASSERT_TRUE(r->add_node("node1").is_ok());
    ASSERT_TRUE(r->add_node("node2").is_ok());
    ASSERT_TRUE(r->set_node_status("node2", NodeStatus::kDead).is_ok());
  }
  const std::vector<std::string> batch = {"node7", "node3", "node5", "node4", "node6"};
  ASSERT_TRUE(batched.add_nodes(batch).is_ok());
  for (const std::string& id : batch) ASSERT_TRUE(sequential.add_node(id).is_ok());
  ref.add("node1", 256);
  for (const std::string& id : batch) ref.add(id, 256);  // node2 is dead: it routes nothing

  EXPECT_EQ(batched.node_count(), 7u);
  EXPECT_EQ(batched.vnode_count(), sequential.vnode_count());
  EXPECT_EQ(batched.vnode_count(), 7u * 256u);
  EXPECT_EQ(batched.node("node2")->status, NodeStatus::kDead);
  EXPECT_EQ(batched.node("node6")->status, NodeStatus::kAlive);
  EXPECT_EQ(batched.node("node6")->vnodes, 256u);
  const std::vector<NodeInfo> a = batched.nodes();
  const std::vector<NodeInfo> b = sequential.nodes();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].status, b[i].status);
  }
  for (int i = 0; i < 10'000; ++i) {
    const std::string key = "key:" + std::to_string(i);
    ASSERT_EQ(batched.get_node(key), sequential.get_node(key)) << key;
    ASSERT_EQ(batched.get_node(key), ref.primary(key)) << key;
    ASSERT_EQ(batched.get_replicas(key), sequential.get_replicas(key)) << key;
    ASSERT_EQ(batched.get_replicas(key, 7), sequential.get_replicas(key, 7)) << key;
  }
  // One routing change for the batch, one per node one by one.
  EXPECT_EQ(batched.metrics().routing_changes, 2u + 1u + 1u);
  EXPECT_EQ(sequential.metrics().routing_changes, 2u + 1u + 5u);
}

TEST(HashRingAddNodes, IntoAnEmptyRingStampsEachRecord) {
  ManualClock clock(777);
  HashRing batched({.vnodes_per_node = 16}, &clock);
  HashRing sequential({.vnodes_per_node = 16});
  const std::vector<std::string> batch = ids(1, 40);
  ASSERT_TRUE(batched.add_nodes(batch).is_ok());
  for (const std::string& id : batch) ASSERT_TRUE(sequential.add_node(id).is_ok());
  EXPECT_EQ(batched.vnode_count(), 40u * 16u);
  const std::optional<NodeInfo> n = batched.node("node17");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->last_seen_ns, 777);
  EXPECT_EQ(n->vnodes, 16u);
  for (int i = 0; i < 10'000; ++i) {
    const std::string key = "key:" + std::to_string(i);
    ASSERT_EQ(batched.get_node(key), sequential.get_node(key)) << key;
    ASSERT_EQ(batched.get_replicas(key, 5), sequential.get_replicas(key, 5)) << key;
  }
}

TEST(HashRingAddNodes, AnErrorAddsNothing) {
  auto r = ring_with(2);
  const std::uint64_t changes = r->metrics().routing_changes;
  std::vector<std::string> before_routes;
  for (int i = 0; i < 500; ++i) before_routes.emplace_back(*r->get_node("key:" + std::to_string(i)));
  auto unchanged = [&](const char* what) {
    EXPECT_EQ(r->node_count(), 2u) << what;
    EXPECT_EQ(r->vnode_count(), 2u * 256u) << what;
    EXPECT_EQ(r->metrics().routing_changes, changes) << what;
    EXPECT_FALSE(r->node("a").has_value()) << what;
    for (int i = 0; i < 500; ++i) ASSERT_EQ(*r->get_node("key:" + std::to_string(i)), before_routes[i]) << what;
  };

  const std::vector<std::string> dup_in_batch = {"a", "b", "a"};
  EXPECT_EQ(r->add_nodes(dup_in_batch).message(), "node a already exists");
  unchanged("duplicate in the batch");
  EXPECT_FALSE(r->node("b").has_value());

  const std::vector<std::string> existing = {"a", "node2"};
  EXPECT_EQ(r->add_nodes(existing).message(), "node node2 already exists");
  unchanged("existing id");

  const std::vector<std::string> empty_id = {"a", ""};
  EXPECT_EQ(r->add_nodes(empty_id).message(), "node id must not be empty");
  unchanged("empty id");

  const std::vector<std::string> long_id = {"a", std::string(256, 'x')};
  EXPECT_EQ(r->add_nodes(long_id).message(), "node id is longer than 255 bytes");
  unchanged("long id");

  // After all that, a good batch still works.
  const std::vector<std::string> good = {"a", "b"};
  ASSERT_TRUE(r->add_nodes(good).is_ok());
  EXPECT_EQ(r->node_count(), 4u);
}

TEST(HashRingAddNodes, EmptyBatchIsOkAndChangesNothing) {
  auto r = ring_with(3);
  const std::uint64_t changes = r->metrics().routing_changes;
  EXPECT_TRUE(r->add_nodes({}).is_ok());
  const std::vector<std::string> none;
  EXPECT_TRUE(r->add_nodes(none).is_ok());
  EXPECT_EQ(r->node_count(), 3u);
  EXPECT_EQ(r->metrics().routing_changes, changes);
  HashRing empty;
  EXPECT_TRUE(empty.add_nodes({}).is_ok());
  EXPECT_TRUE(empty.empty());
}

TEST(HashRingAddNodes, ReaddsRemovedIds) {
  auto r = ring_with(3);
  ASSERT_TRUE(r->remove_node("node2").is_ok());
  const std::vector<std::string> back = {"node2", "node4"};
  ASSERT_TRUE(r->add_nodes(back).is_ok());
  auto fresh = ring_with(4);
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "key:" + std::to_string(i);
    ASSERT_EQ(r->get_node(key), fresh->get_node(key)) << key;
  }
}

TEST(NodeStatus, NamesRoundTrip) {
  for (int i = 0; i < 5; ++i) {
    const auto st = static_cast<NodeStatus>(i);
    EXPECT_EQ(parse_node_status(node_status_name(st)), st);
  }
  EXPECT_EQ(node_status_name(NodeStatus::kLeaving), "leaving");
  EXPECT_EQ(node_status_name(static_cast<NodeStatus>(9)), "unknown");
  EXPECT_EQ(parse_node_status("Alive"), std::nullopt);
}

}  // namespace
}  // namespace hcsim::core
