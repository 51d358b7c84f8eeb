#include "core/cluster/distributed_coordinator.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/manual_network.h"
#include "support/manual_timers.h"

namespace hcsim::core::cluster {
namespace {

using test_support::ManualNetwork;
using test_support::ManualTimers;

constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kSec = 1'000'000'000;
constexpr TimeNs kStart = 500 * kSec;

std::string name_of(std::size_t i) { return "node" + std::to_string(i); }

std::vector<std::string> keys(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back("key:" + std::to_string(i));
  return out;
}

ClusterConfig config_for(std::size_t i, std::vector<TransportAddress> seeds = {}) {
  ClusterConfig c;
  c.node_id = name_of(i);
  c.seed_nodes = std::move(seeds);
  c.hash_ring.vnodes_per_node = 64;
  return c;
}

// N coordinators ("node<i>" at address i) over one ManualNetwork, sharing
// one ManualClock and ManualTimers, each with its own seeded random stream.
class CoordinatorCluster {
 public:
  explicit CoordinatorCluster(std::size_t n, SwimConfig swim = {}) : swim_(swim), net_(timers_, n) {
    for (std::size_t i = 0; i < n; ++i) randoms_.push_back(std::make_unique<SeededRandom>(1000 + i));
    coordinators_.resize(n);
  }

  DistributedCoordinator::Runtime runtime(std::size_t i) {
    return {&clock_, &timers_, randoms_.at(i).get(), &net_.transport(i)};
  }
  // Creates coordinator i (not started); node 0 has no seeds, the others seed node 0.
  DistributedCoordinator& create(std::size_t i, std::optional<std::vector<TransportAddress>> seeds = std::nullopt) {
    std::vector<TransportAddress> s = seeds ? *seeds : (i == 0 ? std::vector<TransportAddress>{}
                                                               : std::vector<TransportAddress>{0});
    auto created = DistributedCoordinator::create(config_for(i, std::move(s)), swim_, runtime(i));
    EXPECT_TRUE(created.is_ok()) << created.status().message();
    coordinators_.at(i) = std::move(created).value();
    return *coordinators_[i];
  }
  // Creates and starts every coordinator.
  void form() {
    for (std::size_t i = 0; i < size(); ++i) {
      create(i);
      EXPECT_TRUE(c(i).start().is_ok());
    }
  }
  // form(), then runs until every ring holds every node alive, and settles.
  void form_and_settle() {
    form();
    ASSERT_TRUE(run_until([&] { return rings_complete(); }, 10 * kSec).has_value()) << "rings did not fill";
    run_for(3 * kSec);
  }
  bool rings_complete() {
    for (std::size_t o = 0; o < size(); ++o) {
      for (std::size_t m = 0; m < size(); ++m) {
        if (ring_status(o, m) != NodeStatus::kAlive) return false;
      }
    }
    return true;
  }
  std::optional<NodeStatus> ring_status(std::size_t observer, std::size_t member) {
    const std::optional<NodeInfo> n = c(observer).ring().node(name_of(member));
    if (!n) return std::nullopt;
    return n->status;
  }

  DistributedCoordinator& c(std::size_t i) { return *coordinators_.at(i); }
  std::size_t size() const { return coordinators_.size(); }
  void run_for(TimeNs d) { timers_.advance(d); }
  std::optional<TimeNs> run_until(const std::function<bool()>& done, TimeNs max, TimeNs step = 10 * kMs) {
    const TimeNs end = clock_.now() + max;
    while (!done()) {
      if (clock_.now() >= end) return std::nullopt;
      timers_.advance(std::min(step, end - clock_.now()));
    }
    return clock_.now();
  }
  ManualClock& clock() { return clock_; }
  ManualTimers& timers() { return timers_; }
  ManualNetwork& net() { return net_; }

 private:
  SwimConfig swim_;
  ManualClock clock_{kStart};
  ManualTimers timers_{clock_};
  ManualNetwork net_;
  std::vector<std::unique_ptr<SeededRandom>> randoms_;
  std::vector<std::unique_ptr<DistributedCoordinator>> coordinators_;  // last: destroyed first
};

// ---- creation and lifecycle ------------------------------------------------------

TEST(DistributedCoordinatorCreate, Errors) {
  CoordinatorCluster k(1);
  auto no_id = DistributedCoordinator::create(ClusterConfig{}, SwimConfig{}, k.runtime(0));
  ASSERT_FALSE(no_id.is_ok());
  EXPECT_EQ(no_id.status().message(), "invalid cluster configuration: node_id is required");

  ClusterConfig bad_heartbeat = config_for(0);
  bad_heartbeat.failure_detection_timeout_ns = bad_heartbeat.heartbeat_interval_ns;
  auto hb = DistributedCoordinator::create(bad_heartbeat, SwimConfig{}, k.runtime(0));
  ASSERT_FALSE(hb.is_ok());
  EXPECT_EQ(hb.status().message(),
            "invalid cluster configuration: failure_detection_timeout must be greater than heartbeat_interval");

  SwimConfig bad_swim;
  bad_swim.probe_timeout_ns = 2 * bad_swim.probe_interval_ns;
  auto swim = DistributedCoordinator::create(config_for(0), bad_swim, k.runtime(0));
  ASSERT_FALSE(swim.is_ok());
  EXPECT_EQ(swim.status().message(),
            "invalid membership configuration: probe_timeout must be positive and below probe_interval");

  // The cluster config is checked first.
  auto both = DistributedCoordinator::create(ClusterConfig{}, bad_swim, k.runtime(0));
  ASSERT_FALSE(both.is_ok());
  EXPECT_EQ(both.status().message(), "invalid cluster configuration: node_id is required");

  DistributedCoordinator::Runtime no_transport = k.runtime(0);
  no_transport.transport = nullptr;
  auto rt = DistributedCoordinator::create(config_for(0), SwimConfig{}, no_transport);
  ASSERT_FALSE(rt.is_ok());
  EXPECT_EQ(rt.status().message(), "the coordinator needs a clock, timers, a random source and a transport");
}

TEST(DistributedCoordinator, StartTwiceStopIdempotentAndRestart) {
  CoordinatorCluster k(1);
  DistributedCoordinator& c = k.create(0);
  EXPECT_FALSE(c.running());
  EXPECT_EQ(c.swim(), nullptr);
  ASSERT_TRUE(c.start().is_ok());
  EXPECT_TRUE(c.running());
  EXPECT_EQ(c.start().message(), "coordinator already running");
  EXPECT_TRUE(c.running());
  ASSERT_TRUE(c.ring().node("node0").has_value());
  EXPECT_EQ(c.local_node_id(), "node0");
  k.run_for(2 * kSec);
  EXPECT_TRUE(c.stop().is_ok());
  EXPECT_FALSE(c.running());
  EXPECT_FALSE(c.swim()->running());
  EXPECT_FALSE(c.ring().node("node0").has_value());  // the local node leaves its ring
  EXPECT_TRUE(c.stop().is_ok());                      // idempotent
  EXPECT_FALSE(c.running());
  EXPECT_EQ(c.leave().message(), "coordinator not running");
  // A restart works and is a fresh membership.
  ASSERT_TRUE(c.start().is_ok());
  EXPECT_TRUE(c.running());
  EXPECT_TRUE(c.swim()->running());
  EXPECT_EQ(c.ring().node_count(), 1u);
  EXPECT_EQ(c.metrics().start_time_ns, kStart + 2 * kSec);
  k.run_for(kSec);
  EXPECT_EQ(c.metrics().uptime_ns, kSec);
  EXPECT_TRUE(c.stop().is_ok());
}

// ---- the ring follows membership ------------------------------------------------------

TEST(DistributedCoordinator, RingFollowsMembershipThroughCrashAndLeave) {
  CoordinatorCluster k(4);
  k.form_and_settle();
  for (std::size_t o = 0; o < 4; ++o) {
    EXPECT_EQ(k.c(o).ring().node_count(), 4u) << o;
    EXPECT_EQ(k.c(o).ring().metrics().alive_nodes, 4u) << o;
  }
  const std::vector<std::string> ks = keys(2000);
  std::size_t owned_by_3 = 0;
  for (const std::string& key : ks) owned_by_3 += k.c(0).routing().route_key(key) == "node3";
  ASSERT_GT(owned_by_3, 100u);  // so that "no key routes to it" below means something
  // Every node's ring routes every key alike.
  for (const std::string& key : ks) {
    for (std::size_t o = 1; o < 4; ++o) ASSERT_EQ(k.c(o).routing().route_key(key), k.c(0).routing().route_key(key));
  }

  // A crash: suspected, then dead, in every other ring.
  ASSERT_TRUE(k.c(3).stop().is_ok());
  std::vector<std::vector<NodeStatus>> seen(3);
  ASSERT_TRUE(k.run_until(
                   [&] {
                     bool all_dead = true;
                     for (std::size_t o = 0; o < 3; ++o) {
                       const std::optional<NodeStatus> s = k.ring_status(o, 3);
                       if (!s) return false;
                       if (seen[o].empty() || seen[o].back() != *s) seen[o].push_back(*s);
                       all_dead = all_dead && *s == NodeStatus::kDead;
                     }
                     return all_dead;
                   },
                   30 * kSec, kMs)
                  .has_value());
  for (std::size_t o = 0; o < 3; ++o) {
    EXPECT_EQ(seen[o], (std::vector<NodeStatus>{NodeStatus::kAlive, NodeStatus::kSuspected, NodeStatus::kDead}))
        << o;
    const RingMetrics m = k.c(o).ring().metrics();
    EXPECT_EQ(m.alive_nodes, 3u);
    EXPECT_EQ(m.dead_nodes, 1u);
    for (const std::string& key : ks) {
      const std::optional<std::string> owner = k.c(o).routing().route_key(key);
      ASSERT_TRUE(owner.has_value());
      ASSERT_NE(*owner, "node3");
      const std::vector<std::string> replicas = k.c(o).routing().replicas(key, 3);
      ASSERT_EQ(replicas.size(), 3u);
      ASSERT_EQ(std::count(replicas.begin(), replicas.end(), "node3"), 0);
    }
  }

  // A graceful leave: leaving in the others' rings; the leaver stops by itself.
  ASSERT_TRUE(k.c(2).leave().is_ok());
  ASSERT_TRUE(k.run_until([&] { return k.ring_status(0, 2) == NodeStatus::kLeaving &&
                                       k.ring_status(1, 2) == NodeStatus::kLeaving; },
                          5 * kSec)
                  .has_value());
  for (const std::string& key : ks) {
    ASSERT_NE(k.c(0).routing().route_key(key), "node2");
    ASSERT_NE(k.c(0).routing().route_key(key), "node3");
  }
  // leave_linger (1 s), then the next heartbeat (every 5 s) notices.
  k.run_for(6 * kSec);
  EXPECT_FALSE(k.c(2).running());
  EXPECT_FALSE(k.c(2).swim()->running());
  EXPECT_EQ(k.ring_status(0, 2), NodeStatus::kLeaving);
  EXPECT_EQ(k.c(0).ring().metrics().alive_nodes, 2u);
}

// A coordinator restarted after a member died while it was down must not
// route to that member: its ring is rebuilt from what the new membership
// learns (a seed does not pass on members it holds dead).
TEST(DistributedCoordinator, RestartDoesNotKeepAStaleRing) {
  CoordinatorCluster k(4);
  k.form_and_settle();
  ASSERT_TRUE(k.c(2).stop().is_ok());
  ASSERT_TRUE(k.c(3).stop().is_ok());
  ASSERT_TRUE(k.run_until([&] { return k.ring_status(0, 3) == NodeStatus::kDead &&
                                       k.ring_status(0, 2) == NodeStatus::kDead; },
                          30 * kSec)
                  .has_value());
  ASSERT_TRUE(k.c(2).start().is_ok());
  ASSERT_TRUE(k.run_until([&] { return k.ring_status(0, 2) == NodeStatus::kAlive &&
                                       k.ring_status(2, 0) == NodeStatus::kAlive &&
                                       k.ring_status(2, 1) == NodeStatus::kAlive; },
                          10 * kSec)
                  .has_value());
  k.run_for(5 * kSec);
  EXPECT_NE(k.ring_status(2, 3), NodeStatus::kAlive);
  for (const std::string& key : keys(2000)) {
    ASSERT_NE(k.c(2).routing().route_key(key), "node3") << key;
    ASSERT_EQ(k.c(2).routing().route_key(key), k.c(0).routing().route_key(key)) << key;
  }
}

// ---- events ----------------------------------------------------------------------------

struct SeenEvent {
  MembershipEventType type;
  std::string node;
  NodeStatus status;
  friend bool operator==(const SeenEvent&, const SeenEvent&) = default;
};

TEST(DistributedCoordinator, MembershipAndTopologyEventsReachSubscribers) {
  CoordinatorCluster k(3);
  DistributedCoordinator& c0 = k.create(0);
  std::vector<SeenEvent> member_events;
  std::vector<Member> node1_updates;
  ASSERT_NE(c0.membership().subscribe({}, [&](const MembershipEvent& e) {
              member_events.push_back({e.type, e.member.node_id, e.member.status});
              if (e.member.node_id == "node1" && e.type == MembershipEventType::kUpdated) {
                node1_updates.push_back(e.member);
              }
            }),
            0u);
  std::vector<std::string> topology;
  std::vector<std::string> correlation;
  ASSERT_NE(c0.event_bus().subscribe({ClusterEventType::kTopologyChanged},
                                     [&](const ClusterEvent& e) {
                                       EXPECT_EQ(e.node_id, "node0");
                                       topology.push_back(e.data);
                                       correlation.push_back(e.correlation_id);
                                     }),
            0u);
  ASSERT_TRUE(c0.start().is_ok());
  EXPECT_TRUE(topology.empty());  // delivered through the timers, not inside publish
  k.run_for(kMs);
  EXPECT_EQ(topology, (std::vector<std::string>{"node_started"}));
  for (std::size_t i = 1; i < 3; ++i) ASSERT_TRUE(k.create(i).start().is_ok());
  ASSERT_TRUE(k.run_until([&] { return k.rings_complete(); }, 10 * kSec).has_value());
  k.run_for(2 * kSec);

  // A metadata update of node1.
  ASSERT_TRUE(k.c(1).membership().update_metadata({{"zone", "a"}}).is_ok());
  k.run_for(2 * kSec);
  ASSERT_EQ(node1_updates.size(), 1u);
  EXPECT_EQ(node1_updates[0].metadata, (Metadata{{"zone", "a"}}));
  EXPECT_EQ(node1_updates[0].incarnation, 1u);

  // node2 crashes, is suspected and fails, then comes back.
  ASSERT_TRUE(k.c(2).stop().is_ok());
  ASSERT_TRUE(k.run_until([&] { return k.ring_status(0, 2) == NodeStatus::kDead; }, 30 * kSec).has_value());
  ASSERT_TRUE(k.c(2).start().is_ok());  // a fresh incarnation 0, joins through node0 again
  ASSERT_TRUE(k.run_until([&] { return k.ring_status(0, 2) == NodeStatus::kAlive; }, 10 * kSec).has_value());
  EXPECT_GT(c0.membership().member("node2")->incarnation, 0u);

  // node1 leaves.
  ASSERT_TRUE(k.c(1).leave().is_ok());
  k.run_for(3 * kSec);

  std::vector<SeenEvent> about_node2;
  std::vector<SeenEvent> about_node1;
  for (const SeenEvent& e : member_events) {
    if (e.node == "node2") about_node2.push_back(e);
    if (e.node == "node1") about_node1.push_back(e);
  }
  EXPECT_EQ(about_node2, (std::vector<SeenEvent>{
                             {MembershipEventType::kJoined, "node2", NodeStatus::kAlive},
                             {MembershipEventType::kUpdated, "node2", NodeStatus::kSuspected},
                             {MembershipEventType::kFailed, "node2", NodeStatus::kDead},
                             {MembershipEventType::kRecovered, "node2", NodeStatus::kAlive},
                         }));
  EXPECT_EQ(about_node1, (std::vector<SeenEvent>{
                             {MembershipEventType::kJoined, "node1", NodeStatus::kAlive},
                             {MembershipEventType::kUpdated, "node1", NodeStatus::kAlive},
                             {MembershipEventType::kLeft, "node1", NodeStatus::kLeaving},
                         }));
  EXPECT_EQ(topology, (std::vector<std::string>{"node_started", "node_added:node1", "node_added:node2",
                                                "node_failed:node2", "node_recovered:node2", "node_left:node1"}));
  // Correlation ids are the Lamport times: strictly increasing.
  for (std::size_t i = 1; i < correlation.size(); ++i) {
    EXPECT_LT(std::stoull(correlation[i - 1]), std::stoull(correlation[i]));
  }
  const MembershipMetrics mm = c0.membership().metrics();
  EXPECT_EQ(mm.event_count, member_events.size());
  EXPECT_GT(mm.last_event_ns, kStart);

  // stop() delivers what is queued, node_stopping included, then closes the bus.
  ASSERT_TRUE(c0.stop().is_ok());
  k.run_for(kMs);
  EXPECT_EQ(topology.back(), "node_stopping");
  EXPECT_EQ(c0.event_bus().metrics().active_subscribers, 0u);
}

TEST(DistributedCoordinator, LeavePublishesNodeLeavingLocally) {
  CoordinatorCluster k(1);
  DistributedCoordinator& c = k.create(0);
  std::vector<std::string> topology;
  c.event_bus().subscribe({ClusterEventType::kTopologyChanged},
                          [&](const ClusterEvent& e) { topology.push_back(e.data); });
  ASSERT_TRUE(c.start().is_ok());
  ASSERT_TRUE(c.membership().leave().is_ok());
  EXPECT_EQ(c.leave().message(), "already leaving");
  k.run_for(kMs);
  EXPECT_EQ(topology, (std::vector<std::string>{"node_started", "node_leaving"}));
  EXPECT_EQ(c.membership().member("node0")->status, NodeStatus::kLeaving);
}

// ---- health ----------------------------------------------------------------------------

TEST(DistributedCoordinator, HealthNamesEachIssue) {
  CoordinatorCluster k(2);
  DistributedCoordinator& c0 = k.create(0);
  CoordinatorHealth h = c0.health();
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.local_node_id, "node0");
  EXPECT_EQ(h.issues, (std::vector<std::string>{"coordinator not running", "no alive members"}));
  EXPECT_EQ(h.uptime_ns, 0);

  // The seed is unreachable: not joined.
  k.net().set_down(0, true);
  ASSERT_TRUE(c0.start().is_ok());
  DistributedCoordinator& c1 = k.create(1);
  ASSERT_TRUE(c1.start().is_ok());
  k.run_for(3 * kSec);
  h = c1.health();
  EXPECT_FALSE(h.healthy);
  EXPECT_FALSE(h.connected_to_seeds);
  EXPECT_EQ(h.issues, (std::vector<std::string>{"not joined to any seed"}));
  EXPECT_EQ(h.cluster_size, 1u);
  EXPECT_FALSE(c1.membership().healthy());
  EXPECT_TRUE(c0.health().healthy);  // no seeds: joined by founding
  k.net().set_down(0, false);
  k.run_for(2 * kSec);
  h = c1.health();
  EXPECT_TRUE(h.healthy);
  EXPECT_TRUE(h.issues.empty());
  EXPECT_TRUE(h.connected_to_seeds);
  EXPECT_EQ(h.cluster_size, 2u);
  EXPECT_EQ(h.uptime_ns, 5 * kSec);
  EXPECT_TRUE(c1.membership().healthy());

  // The heartbeat timer did not run for failure_detection_timeout (the clock
  // moved without the timers).
  const TimeNs last = c1.health().last_heartbeat_ns;
  EXPECT_EQ(last, kStart + 5 * kSec);  // the first heartbeat, heartbeat_interval after the start
  k.clock().advance(c1.config().failure_detection_timeout_ns + kSec);
  h = c1.health();
  EXPECT_EQ(h.issues, (std::vector<std::string>{"heartbeat timeout"}));
  k.timers().run_due();  // the heartbeat runs late
  EXPECT_TRUE(c1.health().healthy);
  EXPECT_EQ(c1.health().last_heartbeat_ns, k.clock().now());

  ASSERT_TRUE(c1.stop().is_ok());
  EXPECT_EQ(c1.health().issues, (std::vector<std::string>{"coordinator not running"}));
}

TEST(DistributedCoordinator, HealthWithNoAliveMemberAfterLeavingAlone) {
  CoordinatorCluster k(1);
  DistributedCoordinator& c = k.create(0);
  ASSERT_TRUE(c.start().is_ok());
  EXPECT_TRUE(c.health().healthy);
  ASSERT_TRUE(c.leave().is_ok());
  EXPECT_EQ(c.health().issues, (std::vector<std::string>{"no alive members"}));
  k.run_for(6 * kSec);  // linger, then the heartbeat stops the coordinator
  EXPECT_FALSE(c.running());
  EXPECT_EQ(c.health().issues, (std::vector<std::string>{"coordinator not running", "no alive members"}));
}

// ---- the membership facade ----------------------------------------------------------------

TEST(DistributedCoordinator, MembershipFacade) {
  CoordinatorCluster k(3);
  DistributedCoordinator& c0 = k.create(0);
  // Before the start: nothing to show; metadata waits for the start.
  EXPECT_TRUE(c0.membership().members().empty());
  EXPECT_EQ(c0.membership().member("node0"), std::nullopt);
  EXPECT_TRUE(c0.membership().alive_nodes().empty());
  EXPECT_EQ(c0.membership().join(std::vector<TransportAddress>{1}).message(), "coordinator not running");
  ASSERT_TRUE(c0.membership().update_metadata({{"role", "cache"}}).is_ok());
  ASSERT_TRUE(c0.start().is_ok());
  EXPECT_EQ(c0.membership().member("node0")->metadata, (Metadata{{"role", "cache"}}));
  for (std::size_t i = 1; i < 3; ++i) ASSERT_TRUE(k.create(i).start().is_ok());
  ASSERT_TRUE(k.run_until([&] { return k.rings_complete(); }, 10 * kSec).has_value());

  const std::vector<Member> members = c0.membership().members();
  ASSERT_EQ(members.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(members[i].node_id, name_of(i));
    EXPECT_EQ(members[i].address, i);
    EXPECT_EQ(members[i].status, NodeStatus::kAlive);
  }
  EXPECT_EQ(k.c(1).membership().member("node0")->metadata, (Metadata{{"role", "cache"}}));
  const std::optional<Member> m1 = c0.membership().member("node1");
  ASSERT_TRUE(m1.has_value());
  EXPECT_EQ(m1->address, 1u);
  EXPECT_GE(m1->joined_at_ns, kStart);
  EXPECT_EQ(c0.membership().member("nobody"), std::nullopt);
  EXPECT_EQ(c0.membership().alive_nodes().size(), 3u);

  // Metadata: normalize_metadata's errors, then a sorted copy spreads.
  EXPECT_EQ(c0.membership().update_metadata({{"", "x"}}).message(), "metadata key must not be empty");
  EXPECT_EQ(c0.membership().update_metadata({{"a", "1"}, {"a", "2"}}).message(), "duplicate metadata key a");
  Metadata many;
  for (int i = 0; i < 65; ++i) many.emplace_back("k" + std::to_string(100 + i), "v");
  EXPECT_EQ(c0.membership().update_metadata(many).message(), "metadata has more than 64 entries");
  EXPECT_EQ(c0.swim()->incarnation(), 0u);  // nothing was published
  ASSERT_TRUE(c0.membership().update_metadata({{"zone", "b"}, {"rack", "4"}}).is_ok());
  const Metadata sorted = {{"rack", "4"}, {"zone", "b"}};
  EXPECT_EQ(c0.membership().member("node0")->metadata, sorted);
  EXPECT_EQ(c0.membership().member("node0")->incarnation, 1u);
  k.run_for(2 * kSec);
  EXPECT_EQ(k.c(2).membership().member("node0")->metadata, sorted);

  // Metadata that normalize_metadata allows but the protocol cannot carry
  // (a value over 255 bytes) is refused, and not kept for the next start.
  EXPECT_EQ(c0.membership().update_metadata({{"blob", std::string(300, 'x')}}).message(),
            "metadata key or value is longer than 255 bytes");
  EXPECT_EQ(c0.membership().member("node0")->metadata, sorted);
  EXPECT_EQ(c0.membership().member("node0")->incarnation, 1u);

  // A crash shows in the counts.
  ASSERT_TRUE(k.c(2).stop().is_ok());
  ASSERT_TRUE(k.run_until([&] { return k.ring_status(0, 2) == NodeStatus::kDead; }, 30 * kSec).has_value());
  const MembershipMetrics mm = c0.membership().metrics();
  EXPECT_EQ(mm.total, 3u);
  EXPECT_EQ(mm.healthy, 2u);
  EXPECT_EQ(mm.suspected, 0u);
  EXPECT_EQ(mm.failed, 1u);
  EXPECT_EQ(mm.left, 0u);
  EXPECT_EQ(mm.cluster_age_ns, k.clock().now() - kStart);
  const std::vector<Member> alive = c0.membership().alive_nodes();
  ASSERT_EQ(alive.size(), 2u);
  EXPECT_EQ(alive[0].node_id, "node0");
  EXPECT_EQ(alive[1].node_id, "node1");
  EXPECT_EQ(c0.membership().member("node2")->status, NodeStatus::kDead);
  const CoordinatorMetrics cm = c0.metrics();
  EXPECT_EQ(cm.membership.failed, 1u);
  EXPECT_EQ(cm.ring.dead_nodes, 1u);
  EXPECT_EQ(cm.ring.alive_nodes, 2u);

  // A restart publishes the last accepted metadata.
  ASSERT_TRUE(c0.stop().is_ok());
  ASSERT_TRUE(c0.start().is_ok());
  EXPECT_EQ(c0.membership().member("node0")->metadata, sorted);
}

// While stopped, metadata is only normalised; the protocol's limits are
// checked at the next start, which then fails.
TEST(DistributedCoordinator, StartRefusesMetadataTheProtocolCannotCarry) {
  CoordinatorCluster k(1);
  DistributedCoordinator& c = k.create(0);
  ASSERT_TRUE(c.membership().update_metadata({{"blob", std::string(300, 'x')}}).is_ok());
  EXPECT_EQ(c.start().message(), "metadata key or value is longer than 255 bytes");
  EXPECT_FALSE(c.running());
  ASSERT_TRUE(c.membership().update_metadata({{"blob", "small"}}).is_ok());
  ASSERT_TRUE(c.start().is_ok());
  EXPECT_EQ(c.membership().member("node0")->metadata, (Metadata{{"blob", "small"}}));
}

// ---- a predefined cluster -------------------------------------------------------------------

TEST(DistributedCoordinator, AddKnownMembersBuildsTheRingInOneGo) {
  CoordinatorCluster k(4);
  DistributedCoordinator& c0 = k.create(0);
  const std::vector<std::pair<std::string, TransportAddress>> known = {{"node1", 1}, {"node2", 2}, {"node3", 3}};
  EXPECT_EQ(c0.add_known_members(known).message(), "coordinator not running");
  ASSERT_TRUE(c0.start().is_ok());
  const std::uint64_t changes = c0.ring().metrics().routing_changes;
  ASSERT_TRUE(c0.add_known_members(known).is_ok());
  // At once (no timer ran), with one routing change for the three.
  EXPECT_EQ(c0.ring().node_count(), 4u);
  EXPECT_EQ(c0.ring().metrics().routing_changes, changes + 1);
  EXPECT_EQ(c0.membership().members().size(), 4u);
  EXPECT_EQ(c0.membership().member("node3")->address, 3u);
  EXPECT_EQ(c0.membership().member("node3")->incarnation, 0u);
  // The same ring as adding the nodes one by one.
  HashRing reference(c0.config().hash_ring);
  for (std::size_t i = 0; i < 4; ++i) ASSERT_TRUE(reference.add_node(name_of(i)).is_ok());
  for (const std::string& key : keys(3000)) ASSERT_EQ(c0.ring().get_node(key), reference.get_node(key)) << key;

  const std::vector<std::pair<std::string, TransportAddress>> again = {{"node2", 2}};
  EXPECT_EQ(c0.add_known_members(again).message(), "member node2 already known");
  EXPECT_EQ(c0.ring().node_count(), 4u);

  // The known members start too and everyone agrees.
  for (std::size_t i = 1; i < 4; ++i) {
    DistributedCoordinator& ci = k.create(i, std::vector<TransportAddress>{});
    ASSERT_TRUE(ci.start().is_ok());
    std::vector<std::pair<std::string, TransportAddress>> peers;
    for (std::size_t j = 0; j < 4; ++j) {
      if (j != i) peers.emplace_back(name_of(j), static_cast<TransportAddress>(j));
    }
    ASSERT_TRUE(ci.add_known_members(peers).is_ok());
  }
  k.run_for(10 * kSec);
  EXPECT_TRUE(k.rings_complete());
}

TEST(DistributedCoordinator, TriggerRebalancePublishesOnTheClusterBus) {
  CoordinatorCluster k(1);
  DistributedCoordinator& c = k.create(0);
  EXPECT_EQ(c.trigger_rebalance().message(), "coordinator not running");
  std::vector<ClusterEvent> seen;
  ASSERT_NE(c.event_bus().subscribe({ClusterEventType::kRebalanceStarted},
                                    [&](const ClusterEvent& e) { seen.push_back(e); }),
            0u);
  ASSERT_TRUE(c.start().is_ok());
  ASSERT_TRUE(c.trigger_rebalance().is_ok());
  ASSERT_TRUE(c.trigger_rebalance().is_ok());
  k.run_for(kMs);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].type, ClusterEventType::kRebalanceStarted);
  EXPECT_EQ(seen[0].node_id, "node0");
  // start() ticked the Lamport clock once (node_started), then one tick each.
  EXPECT_EQ(seen[0].correlation_id, "node0-rebalance-2");
  EXPECT_EQ(seen[1].correlation_id, "node0-rebalance-3");
  EXPECT_EQ(c.clock().time(), 3u);
}

}  // namespace
}  // namespace hcsim::core::cluster
