#include "core/cluster/simple_coordinator.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/cluster/ring_routing.h"
#include "support/manual_timers.h"
#include "support/reference_ring.h"

namespace hcsim::core::cluster {
namespace {

using test_support::ManualTimers;

constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kSec = 1'000'000'000;
constexpr TimeNs kStart = 1000 * kSec;  // a non-zero clock, so "non-zero start time" means something

ClusterConfig config_for(std::string id) {
  ClusterConfig c;
  c.node_id = std::move(id);
  return c;
}

class SimpleCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = SimpleCoordinator::create(config_for("test-node"), clock_, timers_);
    ASSERT_TRUE(created.is_ok()) << created.status().message();
    coordinator_ = std::move(created).value();
  }
  SimpleCoordinator& c() { return *coordinator_; }
  void start() { ASSERT_TRUE(c().start().is_ok()); }

  ManualClock clock_{kStart};
  ManualTimers timers_{clock_};
  std::unique_ptr<SimpleCoordinator> coordinator_;
};

TEST(SimpleCoordinatorCreate, RejectsAnInvalidConfig) {
  ManualClock clock;
  ManualTimers timers(clock);
  auto bad = SimpleCoordinator::create(ClusterConfig{}, clock, timers);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(), "invalid cluster configuration: node_id is required");

  ClusterConfig c = config_for("n");
  c.hash_ring.vnodes_per_node = 0;  // would make HashRing throw: caught by validation instead
  auto bad_ring = SimpleCoordinator::create(c, clock, timers);
  ASSERT_FALSE(bad_ring.is_ok());
  EXPECT_EQ(bad_ring.status().message(),
            "invalid cluster configuration: hash_ring: vnodes_per_node must be in 1..65536 (got 0)");
}

// Seed test "New".
TEST_F(SimpleCoordinatorTest, NewStoresTheLocalIdAndIsIdle) {
  EXPECT_EQ(c().local_node_id(), "test-node");
  EXPECT_FALSE(c().running());
  EXPECT_EQ(timers_.pending(), 0u);
  const CoordinatorHealth h = c().health();
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.cluster_size, 0u);
  EXPECT_EQ(h.issues, (std::vector<std::string>{"coordinator not running", "no nodes in cluster"}));
  EXPECT_FALSE(c().membership().healthy());
  EXPECT_TRUE(c().membership().members().empty());
  EXPECT_EQ(c().routing().route_key("k"), std::nullopt);
}

// Seed test "Lifecycle".
TEST_F(SimpleCoordinatorTest, Lifecycle) {
  start();
  const CoordinatorHealth h = c().health();
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.local_node_id, "test-node");
  EXPECT_EQ(h.cluster_size, 1u);
  EXPECT_TRUE(h.connected_to_seeds);
  EXPECT_TRUE(h.issues.empty());
  EXPECT_EQ(h.last_heartbeat_ns, kStart);

  const Status again = c().start();
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.message(), "coordinator already running");
  EXPECT_EQ(c().health().cluster_size, 1u);

  EXPECT_TRUE(c().stop().is_ok());
  EXPECT_TRUE(c().stop().is_ok());
  EXPECT_FALSE(c().running());
  EXPECT_EQ(c().health().cluster_size, 0u);
  EXPECT_FALSE(c().health().healthy);
  timers_.run_due();
  EXPECT_EQ(timers_.pending(), 0u);  // heartbeat cancelled, nothing left behind
}

TEST_F(SimpleCoordinatorTest, RestartsAfterStop) {
  start();
  ASSERT_TRUE(c().stop().is_ok());
  clock_.advance(kSec);
  start();
  EXPECT_TRUE(c().health().healthy);
  EXPECT_EQ(c().metrics().start_time_ns, kStart + kSec);
  EXPECT_EQ(c().routing().route_key("k"), "test-node");
}

TEST_F(SimpleCoordinatorTest, WorksThroughTheInterface) {
  CoordinatorService& service = c();
  ASSERT_TRUE(service.start().is_ok());
  EXPECT_EQ(service.local_node_id(), "test-node");
  EXPECT_EQ(service.routing().route_key("a"), "test-node");
  EXPECT_EQ(service.membership().members().size(), 1u);
  EXPECT_TRUE(service.health().healthy);
  EXPECT_TRUE(service.stop().is_ok());
}

// Seed test "Membership".
TEST_F(SimpleCoordinatorTest, Membership) {
  start();
  MembershipProvider& m = c().membership();
  EXPECT_EQ(&m, &c().membership());
  const std::vector<Member> members = m.members();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].node_id, "test-node");
  EXPECT_EQ(members[0].status, NodeStatus::kAlive);
  EXPECT_EQ(members[0].joined_at_ns, kStart);
  const std::optional<Member> found = m.member("test-node");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, members[0]);
  EXPECT_FALSE(m.member("unknown").has_value());
  EXPECT_TRUE(m.healthy());
  EXPECT_EQ(m.alive_nodes(), members);

  clock_.advance(250 * kMs);
  const MembershipMetrics metrics = m.metrics();
  EXPECT_EQ(metrics.total, 1u);
  EXPECT_EQ(metrics.healthy, 1u);
  EXPECT_EQ(metrics.suspected, 0u);
  EXPECT_EQ(metrics.failed, 0u);
  EXPECT_EQ(metrics.left, 0u);
  EXPECT_EQ(metrics.cluster_age_ns, 250 * kMs);
  EXPECT_EQ(metrics.event_count, 1u);  // joined
  EXPECT_EQ(metrics.last_event_ns, kStart);
}

TEST_F(SimpleCoordinatorTest, JoinIsANoOpAndLeaveStops) {
  start();
  const std::vector<TransportAddress> seeds = {1, 2, 3};
  EXPECT_TRUE(c().membership().join(seeds).is_ok());
  EXPECT_EQ(c().membership().members().size(), 1u);
  EXPECT_TRUE(c().membership().leave().is_ok());
  EXPECT_FALSE(c().running());
  EXPECT_TRUE(c().membership().members().empty());
  EXPECT_EQ(c().membership().metrics().total, 0u);
  EXPECT_EQ(c().membership().metrics().cluster_age_ns, 0);
  EXPECT_TRUE(c().membership().leave().is_ok());
}

TEST_F(SimpleCoordinatorTest, MembershipEventsJoinedUpdatedLeft) {
  std::vector<MembershipEvent> got;
  const SubscriptionId id = c().membership().subscribe({}, [&](const MembershipEvent& e) { got.push_back(e); });
  ASSERT_NE(id, 0u);
  start();
  EXPECT_TRUE(got.empty());  // never inside start()
  timers_.run_due();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, MembershipEventType::kJoined);
  EXPECT_EQ(got[0].member.node_id, "test-node");
  EXPECT_EQ(got[0].member.status, NodeStatus::kAlive);
  EXPECT_EQ(got[0].timestamp_ns, kStart);

  clock_.advance(kMs);
  ASSERT_TRUE(c().membership().update_metadata({{"zone", "eu"}, {"http_port", "8080"}}).is_ok());
  timers_.run_due();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].type, MembershipEventType::kUpdated);
  EXPECT_EQ(got[1].member.metadata, (Metadata{{"http_port", "8080"}, {"zone", "eu"}}));
  EXPECT_EQ(c().membership().member("test-node")->metadata, got[1].member.metadata);

  clock_.advance(kMs);
  ASSERT_TRUE(c().stop().is_ok());
  timers_.run_due();
  ASSERT_EQ(got.size(), 3u);  // `left` still reaches the subscriber...
  EXPECT_EQ(got[2].type, MembershipEventType::kLeft);
  EXPECT_EQ(got[2].member.node_id, "test-node");
  EXPECT_EQ(got[2].member.status, NodeStatus::kLeaving);
  EXPECT_EQ(got[2].timestamp_ns, kStart + 2 * kMs);
  EXPECT_FALSE(c().membership().unsubscribe(id));  // ...which is then dropped
  EXPECT_EQ(c().membership().metrics().event_count, 3u);
  EXPECT_EQ(c().membership().metrics().last_event_ns, kStart + 2 * kMs);
}

TEST_F(SimpleCoordinatorTest, MembershipSubscriptionFiltersAndUnsubscribes) {
  std::vector<MembershipEventType> left_only;
  const SubscriptionId id = c().membership().subscribe({MembershipEventType::kLeft},
                                                       [&](const MembershipEvent& e) { left_only.push_back(e.type); });
  std::vector<MembershipEventType> gone;
  const SubscriptionId gone_id =
      c().membership().subscribe({}, [&](const MembershipEvent& e) { gone.push_back(e.type); });
  EXPECT_TRUE(c().membership().unsubscribe(gone_id));
  EXPECT_FALSE(c().membership().unsubscribe(gone_id));
  start();
  timers_.run_due();
  EXPECT_TRUE(left_only.empty());
  ASSERT_TRUE(c().stop().is_ok());
  timers_.run_due();
  EXPECT_EQ(left_only, (std::vector<MembershipEventType>{MembershipEventType::kLeft}));
  EXPECT_TRUE(gone.empty());
  EXPECT_FALSE(c().membership().unsubscribe(id));
}

TEST_F(SimpleCoordinatorTest, UpdateMetadataErrorsAndWhenStopped) {
  const Status dup = c().membership().update_metadata({{"a", "1"}, {"a", "2"}});
  ASSERT_FALSE(dup.is_ok());
  EXPECT_EQ(dup.message(), "duplicate metadata key a");
  std::vector<MembershipEvent> got;
  c().membership().subscribe({}, [&](const MembershipEvent& e) { got.push_back(e); });
  ASSERT_TRUE(c().membership().update_metadata({{"k", "v"}}).is_ok());  // stored, not published
  timers_.run_due();
  EXPECT_TRUE(got.empty());
  start();
  timers_.run_due();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].member.metadata, (Metadata{{"k", "v"}}));
}

// Seed test "Routing".
TEST_F(SimpleCoordinatorTest, Routing) {
  start();
  RoutingProvider& r = c().routing();
  EXPECT_EQ(&r, &c().routing());
  EXPECT_EQ(r.route_key("user:123"), "test-node");
  EXPECT_EQ(r.replicas("user:123", 1), (std::vector<std::string>{"test-node"}));
  EXPECT_EQ(r.replicas("user:123", 3), (std::vector<std::string>{"test-node"}));  // only one node
  EXPECT_TRUE(r.replicas("user:123", 0).empty());
  EXPECT_TRUE(r.is_local("user:123"));
  EXPECT_TRUE(r.is_replica("user:123"));

  const std::vector<std::string> keys = {"key1", "key2", "key3", "key4", "key5"};
  const DistributionStats d = r.analyze_distribution(keys);
  EXPECT_EQ(d.total_keys, 5u);
  EXPECT_EQ(d.nodes, 1u);
  ASSERT_EQ(d.per_node.size(), 1u);
  EXPECT_EQ(d.per_node[0].id, "test-node");
  EXPECT_EQ(d.per_node[0].keys, 5u);
  EXPECT_EQ(r.keys_for_node("test-node", keys), keys);
  EXPECT_TRUE(r.keys_for_node("unknown-node", keys).empty());
}

// Seed test "EventBus".
TEST_F(SimpleCoordinatorTest, EventBus) {
  start();
  ClusterEventBus& bus = c().event_bus();
  EXPECT_EQ(&bus, &c().event_bus());
  std::vector<ClusterEvent> got;
  const SubscriptionId id = bus.subscribe({ClusterEventType::kRebalanceStarted, ClusterEventType::kNodePromotion},
                                          [&](const ClusterEvent& e) { got.push_back(e); });
  ClusterEvent e;
  e.type = ClusterEventType::kRebalanceStarted;
  e.node_id = "test-node";
  e.data = "test data";
  ASSERT_TRUE(bus.publish(e).is_ok());
  timers_.advance(kSec);  // "within 1 s"
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, ClusterEventType::kRebalanceStarted);
  EXPECT_EQ(got[0].node_id, "test-node");
  EXPECT_EQ(got[0].data, "test data");

  EXPECT_TRUE(bus.unsubscribe(id));
  ASSERT_TRUE(bus.publish(e).is_ok());
  timers_.advance(kSec);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(bus.metrics().published, 2u);
  EXPECT_EQ(c().metrics().event_bus.published, 2u);
}

// Seed test "Rebalance".
TEST_F(SimpleCoordinatorTest, TriggerRebalance) {
  const Status stopped = c().trigger_rebalance();
  ASSERT_FALSE(stopped.is_ok());
  EXPECT_EQ(stopped.message(), "coordinator not running");
  start();
  std::vector<ClusterEvent> got;
  c().event_bus().subscribe({ClusterEventType::kRebalanceStarted}, [&](const ClusterEvent& e) { got.push_back(e); });
  clock_.advance(3 * kMs);
  ASSERT_TRUE(c().trigger_rebalance().is_ok());
  ASSERT_TRUE(c().trigger_rebalance().is_ok());
  timers_.advance(kSec);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, ClusterEventType::kRebalanceStarted);
  EXPECT_EQ(got[0].node_id, "test-node");
  EXPECT_EQ(got[0].timestamp_ns, kStart + 3 * kMs);
  EXPECT_EQ(got[0].correlation_id, "test-node-rebalance-1");
  EXPECT_EQ(got[1].correlation_id, "test-node-rebalance-2");
  EXPECT_EQ(c().clock().time(), 2u);
}

TEST_F(SimpleCoordinatorTest, ClockIsOneSharedObject) {
  LamportClock& a = c().clock();
  LamportClock& b = c().clock();
  EXPECT_EQ(&a, &b);
  a.tick();
  b.witness(41);
  EXPECT_EQ(c().clock().time(), 42u);
}

// Seed test "Metrics".
TEST_F(SimpleCoordinatorTest, Metrics) {
  start();
  timers_.advance(100 * kMs);
  CoordinatorMetrics m = c().metrics();
  EXPECT_EQ(m.membership.total, 1u);
  EXPECT_EQ(m.membership.healthy, 1u);
  EXPECT_EQ(m.uptime_ns, 100 * kMs);
  EXPECT_EQ(m.start_time_ns, kStart);
  EXPECT_EQ(m.ring.total_nodes, 1u);
  EXPECT_EQ(m.ring.total_vnodes, 256u);
  EXPECT_EQ(m.membership_bus.published, 1u);  // joined
  const std::uint64_t lookups = m.ring.lookups;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(c().routing().route_key("key" + std::to_string(i)), "test-node");
  m = c().metrics();
  EXPECT_EQ(m.ring.lookups, lookups + 10);
  EXPECT_EQ(c().routing().ring_metrics().lookups, lookups + 10);
  ASSERT_TRUE(c().stop().is_ok());
  EXPECT_EQ(c().metrics().uptime_ns, 0);
  EXPECT_EQ(c().metrics().start_time_ns, kStart);
}

TEST_F(SimpleCoordinatorTest, HeartbeatKeepsItHealthy) {
  start();
  timers_.advance(62 * kSec);
  const CoordinatorHealth h = c().health();
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.last_heartbeat_ns, kStart + 60 * kSec);  // beats at 5, 10, ..., 60 s
  EXPECT_EQ(h.uptime_ns, 62 * kSec);
  EXPECT_EQ(timers_.pending(), 1u);  // exactly one heartbeat timer
  EXPECT_EQ(timers_.next_due_ns(), kStart + 65 * kSec);
  EXPECT_EQ(c().membership().members()[0].last_seen_ns, kStart + 60 * kSec);
}

TEST_F(SimpleCoordinatorTest, HeartbeatTimeoutWhenTheLoopStalls) {
  start();
  timers_.run_due();
  // The event loop stalls: time passes, no timer runs.
  clock_.advance(30 * kSec - 1);
  EXPECT_TRUE(c().health().healthy);
  clock_.advance(1);  // exactly failure_detection_timeout since the last beat
  CoordinatorHealth h = c().health();
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.issues, (std::vector<std::string>{"heartbeat timeout"}));
  EXPECT_FALSE(c().membership().healthy());
  // The loop resumes: the overdue beat runs and health comes back.
  EXPECT_EQ(timers_.run_due(), 1u);
  h = c().health();
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.last_heartbeat_ns, kStart + 30 * kSec);
}

TEST_F(SimpleCoordinatorTest, CustomHeartbeatAndTimeout) {
  ClusterConfig cfg = config_for("n1");
  cfg.heartbeat_interval_ns = 100 * kMs;
  cfg.failure_detection_timeout_ns = 250 * kMs;
  auto created = SimpleCoordinator::create(cfg, clock_, timers_);
  ASSERT_TRUE(created.is_ok());
  SimpleCoordinator& n = *created.value();
  ASSERT_TRUE(n.start().is_ok());
  timers_.advance(1 * kSec);
  EXPECT_EQ(n.health().last_heartbeat_ns, kStart + 1 * kSec);
  clock_.advance(249 * kMs);
  EXPECT_TRUE(n.health().healthy);
  clock_.advance(1 * kMs);
  EXPECT_FALSE(n.health().healthy);
}

TEST_F(SimpleCoordinatorTest, StopDropsClusterEventsStillQueued) {
  start();
  std::vector<ClusterEvent> got;
  c().event_bus().subscribe({}, [&](const ClusterEvent& e) { got.push_back(e); });
  ASSERT_TRUE(c().trigger_rebalance().is_ok());
  ASSERT_TRUE(c().stop().is_ok());
  timers_.advance(kSec);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(c().event_bus().metrics().active_subscribers, 0u);
  EXPECT_EQ(c().event_bus().metrics().discarded, 1u);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(SimpleCoordinatorTest, LeaveFromInsideAMembershipHandler) {
  std::vector<MembershipEventType> got;
  c().membership().subscribe({}, [&](const MembershipEvent& e) {
    got.push_back(e.type);
    if (e.type == MembershipEventType::kJoined) {
      EXPECT_TRUE(c().membership().leave().is_ok());
    }
  });
  start();
  timers_.run_due();
  EXPECT_EQ(got, (std::vector<MembershipEventType>{MembershipEventType::kJoined, MembershipEventType::kLeft}));
  EXPECT_FALSE(c().running());
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(SimpleCoordinatorTest, DestroyingCancelsEveryTimer) {
  start();
  c().membership().subscribe({}, [](const MembershipEvent&) {});
  ASSERT_TRUE(c().membership().update_metadata({{"a", "b"}}).is_ok());
  EXPECT_GE(timers_.pending(), 2u);  // heartbeat + a delivery
  coordinator_.reset();
  EXPECT_EQ(timers_.pending(), 0u);
  timers_.advance(60 * kSec);  // nothing dangling runs
}

// Seed test "Concurrency", single-threaded (the coordinator is owned by one
// thread): routes, publishes and health/metrics reads interleaved.
TEST_F(SimpleCoordinatorTest, InterleavedLoad) {
  start();
  int received = 0;
  c().event_bus().subscribe({ClusterEventType::kDataOperation}, [&](const ClusterEvent&) { ++received; });
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(c().routing().route_key("key:" + std::to_string(i)), "test-node");
    if (i % 10 == 0) {
      ClusterEvent e;
      e.type = ClusterEventType::kDataOperation;
      e.node_id = "test-node";
      ASSERT_TRUE(c().event_bus().publish(e).is_ok());
      ASSERT_TRUE(c().health().healthy);
      ASSERT_EQ(c().metrics().membership.total, 1u);
      timers_.advance(kMs);
    }
  }
  timers_.advance(kSec);
  EXPECT_EQ(received, 100);
  EXPECT_TRUE(c().health().healthy);
  EXPECT_EQ(c().event_bus().metrics().delivered, 100u);
  EXPECT_EQ(c().event_bus().metrics().dropped, 0u);
}

// --- RingRouting over a multi-node ring ---

TEST(RingRouting, SeedGoldenVectors) {
  HashRing ring;
  for (const char* id : {"node1", "node2", "node3"}) ASSERT_TRUE(ring.add_node(id).is_ok());
  RingRouting routing(ring, "node3", 3);
  EXPECT_EQ(routing.route_key("user:1"), "node1");
  EXPECT_EQ(routing.route_key("session:abc"), "node3");
  EXPECT_EQ(routing.route_key("product:123"), "node2");
  EXPECT_EQ(routing.route_key("product:456"), "node3");
  EXPECT_FALSE(routing.is_local("user:1"));
  EXPECT_TRUE(routing.is_local("session:abc"));
  EXPECT_TRUE(routing.is_replica("user:1"));  // 3 nodes, RF 3: everyone is a replica
}

TEST(RingRouting, DeadPrimaryFallsThrough) {
  HashRing ring;
  ASSERT_TRUE(ring.add_node("node1").is_ok());
  ASSERT_TRUE(ring.add_node("node2").is_ok());
  ASSERT_TRUE(ring.set_node_status("node1", NodeStatus::kDead).is_ok());
  RingRouting routing(ring, "node1", 2);
  EXPECT_EQ(routing.route_key("testkey"), "node2");
  EXPECT_FALSE(routing.is_local("testkey"));
  EXPECT_FALSE(routing.is_replica("testkey"));  // a dead node holds no replica
}

TEST(RingRouting, AgreesWithAnIndependentRing) {
  HashRing ring;
  test_support::ReferenceRing reference;
  for (int i = 1; i <= 5; ++i) {
    const std::string id = "node" + std::to_string(i);
    ASSERT_TRUE(ring.add_node(id).is_ok());
    reference.add(id, 256);
  }
  RingRouting routing(ring, "node2", 2);
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) keys.push_back("key:" + std::to_string(i));
  std::uint64_t local = 0;
  std::uint64_t replica = 0;
  std::vector<std::string> expected_node2;
  for (const std::string& key : keys) {
    const std::vector<std::string> want = reference.replicas(key, 3);
    ASSERT_EQ(routing.replicas(key, 3), want) << key;
    ASSERT_EQ(routing.route_key(key), want[0]) << key;
    const bool is_local = want[0] == "node2";
    const bool is_replica = is_local || want[1] == "node2";
    ASSERT_EQ(routing.is_local(key), is_local) << key;
    ASSERT_EQ(routing.is_replica(key), is_replica) << key;
    local += is_local;
    replica += is_replica;
    if (is_local) expected_node2.push_back(key);
  }
  EXPECT_GT(replica, local);  // RF 2 adds keys beyond the primary's
  EXPECT_EQ(routing.keys_for_node("node2", keys), expected_node2);
  const DistributionStats d = routing.analyze_distribution(keys);
  EXPECT_EQ(d.total_keys, 2000u);
  EXPECT_EQ(d.nodes, 5u);
  const auto want = reference.stats(0);  // just the node set
  std::uint64_t sum = 0;
  for (const NodeLoad& n : d.per_node) {
    sum += n.keys;
    EXPECT_TRUE(want.counts.count(n.id)) << n.id;
    if (n.id == "node2") {
      EXPECT_EQ(n.keys, local);
    }
  }
  EXPECT_EQ(sum, 2000u);
}

TEST(RingRouting, EmptyRing) {
  HashRing ring;
  RingRouting routing(ring, "node1", 3);
  const std::vector<std::string> keys = {"a", "b"};
  EXPECT_EQ(routing.route_key("a"), std::nullopt);
  EXPECT_TRUE(routing.replicas("a", 3).empty());
  EXPECT_FALSE(routing.is_local("a"));
  EXPECT_FALSE(routing.is_replica("a"));
  EXPECT_TRUE(routing.keys_for_node("node1", keys).empty());
  const DistributionStats d = routing.analyze_distribution(keys);
  EXPECT_EQ(d.total_keys, 2u);
  EXPECT_EQ(d.routed_keys, 0u);
  EXPECT_EQ(routing.ring_metrics().total_nodes, 0u);
}

}  // namespace
}  // namespace hcsim::core::cluster
