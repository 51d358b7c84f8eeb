#include "core/cluster/event_bus.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cluster/events.h"
#include "support/manual_timers.h"

namespace hcsim::core::cluster {
namespace {

using test_support::ManualTimers;

constexpr TimeNs kMs = 1'000'000;

// --- ManualTimers, the test double everything below stands on ---

TEST(ManualTimers, RunsDueCallbacksInTimeThenInsertionOrder) {
  ManualClock clock(100);
  ManualTimers timers(clock);
  std::vector<std::string> log;
  timers.schedule(20, [&] { log.push_back("b@" + std::to_string(clock.now())); });
  timers.schedule(10, [&] { log.push_back("a@" + std::to_string(clock.now())); });
  timers.schedule(20, [&] { log.push_back("c@" + std::to_string(clock.now())); });
  timers.schedule(50, [&] { log.push_back("late"); });
  EXPECT_EQ(timers.advance(9), 0u);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(clock.now(), 109);
  EXPECT_EQ(timers.advance(11), 3u);
  EXPECT_EQ(log, (std::vector<std::string>{"a@110", "b@120", "c@120"}));
  EXPECT_EQ(clock.now(), 120);
  EXPECT_EQ(timers.pending(), 1u);
  EXPECT_EQ(timers.next_due_ns(), 150);
}

TEST(ManualTimers, CancelAndIds) {
  ManualClock clock;
  ManualTimers timers(clock);
  int runs = 0;
  const TimerId a = timers.schedule(5, [&] { ++runs; });
  const TimerId b = timers.schedule(5, [&] { ++runs; });
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(timers.is_pending(a));
  EXPECT_TRUE(timers.cancel(a));
  EXPECT_FALSE(timers.cancel(a));
  EXPECT_FALSE(timers.cancel(12345));
  EXPECT_FALSE(timers.is_pending(a));
  timers.advance(5);
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(timers.cancel(b));  // already ran
}

TEST(ManualTimers, CallbacksMayScheduleAndCancel) {
  ManualClock clock;
  ManualTimers timers(clock);
  std::vector<std::string> log;
  TimerId victim = 0;
  TimerId self = 0;
  self = timers.schedule(10, [&] {
    log.push_back("first");
    EXPECT_FALSE(timers.cancel(self));  // a running timer is no longer pending
    EXPECT_TRUE(timers.cancel(victim));
    timers.schedule(0, [&] { log.push_back("now@" + std::to_string(clock.now())); });
    timers.schedule(5, [&] { log.push_back("later@" + std::to_string(clock.now())); });
  });
  victim = timers.schedule(12, [&] { log.push_back("victim"); });
  timers.advance(12);
  EXPECT_EQ(log, (std::vector<std::string>{"first", "now@10"}));
  timers.advance(3);
  EXPECT_EQ(log, (std::vector<std::string>{"first", "now@10", "later@15"}));
}

TEST(ManualTimers, RejectsBadRequests) {
  ManualClock clock(10);
  ManualTimers timers(clock);
  EXPECT_EQ(timers.schedule(-1, [] {}), 0u);
  EXPECT_EQ(timers.schedule(1, nullptr), 0u);
  EXPECT_EQ(timers.schedule(std::numeric_limits<TimeNs>::max(), [] {}), 0u);
  EXPECT_EQ(timers.rejected(), 3u);
  EXPECT_EQ(timers.pending(), 0u);
  EXPECT_THROW(timers.advance(-1), std::invalid_argument);
  EXPECT_THROW(timers.advance_to(5), std::invalid_argument);
}

TEST(ManualTimers, ClockMovedDirectlyThenRunDue) {
  ManualClock clock;
  ManualTimers timers(clock);
  TimeNs ran_at = -1;
  timers.schedule(10, [&] { ran_at = clock.now(); });
  clock.advance(50);  // the test stalls the event loop
  EXPECT_EQ(ran_at, -1);
  EXPECT_EQ(timers.run_due(), 1u);
  EXPECT_EQ(ran_at, 50);  // time never goes backwards
}

TEST(ManualTimers, RunNextJumpsToTheNextTimer) {
  ManualClock clock;
  ManualTimers timers(clock);
  int runs = 0;
  timers.schedule(1000, [&] { ++runs; });
  EXPECT_TRUE(timers.run_next());
  EXPECT_EQ(clock.now(), 1000);
  EXPECT_FALSE(timers.run_next());
  EXPECT_EQ(runs, 1);
}

TEST(ManualTimers, DetectsATimerLoop) {
  ManualClock clock;
  ManualTimers timers(clock);
  std::function<void()> again = [&] { timers.schedule(0, again); };
  timers.schedule(0, again);
  EXPECT_THROW(timers.run_due(), std::runtime_error);
}

// --- event names and metadata ---

TEST(Events, SeedNames) {
  const std::vector<std::pair<ClusterEventType, std::string>> cluster = {
      {ClusterEventType::kRebalanceStarted, "rebalance_started"},
      {ClusterEventType::kRebalanceCompleted, "rebalance_completed"},
      {ClusterEventType::kNodePromotion, "node_promotion"},
      {ClusterEventType::kNodeDemotion, "node_demotion"},
      {ClusterEventType::kTopologyChanged, "topology_changed"},
      {ClusterEventType::kConsensusLost, "consensus_lost"},
      {ClusterEventType::kConsensusRestored, "consensus_restored"},
      {ClusterEventType::kDataOperation, "data_operation"},
  };
  for (const auto& [type, name] : cluster) {
    EXPECT_EQ(to_string(type), name);
    EXPECT_EQ(parse_cluster_event_type(name), type);
    EXPECT_TRUE(is_valid(type));
  }
  const std::vector<std::pair<MembershipEventType, std::string>> membership = {
      {MembershipEventType::kJoined, "joined"},       {MembershipEventType::kLeft, "left"},
      {MembershipEventType::kFailed, "failed"},       {MembershipEventType::kUpdated, "updated"},
      {MembershipEventType::kRecovered, "recovered"},
  };
  for (const auto& [type, name] : membership) {
    EXPECT_EQ(to_string(type), name);
    EXPECT_EQ(parse_membership_event_type(name), type);
    EXPECT_TRUE(is_valid(type));
  }
  EXPECT_EQ(to_string(static_cast<ClusterEventType>(8)), "unknown");
  EXPECT_EQ(to_string(static_cast<MembershipEventType>(5)), "unknown");
  EXPECT_FALSE(is_valid(static_cast<ClusterEventType>(8)));
  EXPECT_FALSE(is_valid(static_cast<MembershipEventType>(5)));
  EXPECT_EQ(parse_cluster_event_type("joined"), std::nullopt);
  EXPECT_EQ(parse_membership_event_type(""), std::nullopt);
}

TEST(Events, NormalizeMetadataSortsAndChecks) {
  Result<Metadata> ok = normalize_metadata({{"zone", "b"}, {"http_port", "8080"}, {"rack", "r1"}});
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok.value(), (Metadata{{"http_port", "8080"}, {"rack", "r1"}, {"zone", "b"}}));
  EXPECT_TRUE(normalize_metadata({}).is_ok());

  EXPECT_EQ(normalize_metadata({{"a", "1"}, {"", "x"}}).status().message(), "metadata key must not be empty");
  EXPECT_EQ(normalize_metadata({{"b", "1"}, {"a", "2"}, {"b", "3"}}).status().message(), "duplicate metadata key b");
  Metadata many;
  for (int i = 0; i < 65; ++i) many.emplace_back("k" + std::to_string(i), "");
  EXPECT_EQ(normalize_metadata(many).status().message(), "metadata has more than 64 entries");
  many.pop_back();
  EXPECT_TRUE(normalize_metadata(many).is_ok());
  EXPECT_EQ(normalize_metadata({{"k", std::string(4096, 'v')}}).status().message(),
            "metadata is larger than 4096 bytes");
  EXPECT_TRUE(normalize_metadata({{"k", std::string(4095, 'v')}}).is_ok());
}

// --- the event bus ---

class EventBusTest : public ::testing::Test {
 protected:
  ClusterEvent event(ClusterEventType type, std::string data = "") {
    ClusterEvent e;
    e.type = type;
    e.node_id = "node-1";
    e.data = std::move(data);
    return e;
  }
  // A handler that records every event it receives.
  std::function<void(const ClusterEvent&)> recorder(std::vector<ClusterEvent>& into) {
    return [&into](const ClusterEvent& e) { into.push_back(e); };
  }

  ManualClock clock_{1000};
  ManualTimers timers_{clock_};
};

TEST_F(EventBusTest, DeliversOnlySubscribedTypesAndNeverInsidePublish) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<ClusterEvent> got;
  const SubscriptionId id =
      bus.subscribe({ClusterEventType::kRebalanceStarted, ClusterEventType::kNodePromotion}, recorder(got));
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kRebalanceStarted, "test data")).is_ok());
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kTopologyChanged)).is_ok());
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kNodePromotion)).is_ok());
  EXPECT_TRUE(got.empty());  // publish only queues
  EXPECT_EQ(bus.metrics().queued, 2u);
  timers_.run_due();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, ClusterEventType::kRebalanceStarted);
  EXPECT_EQ(got[0].node_id, "node-1");
  EXPECT_EQ(got[0].data, "test data");
  EXPECT_EQ(got[0].timestamp_ns, 1000);  // stamped at publish
  EXPECT_EQ(got[1].type, ClusterEventType::kNodePromotion);
  const EventBusMetrics m = bus.metrics();
  EXPECT_EQ(m.published, 3u);
  EXPECT_EQ(m.delivered, 2u);
  EXPECT_EQ(m.dropped, 0u);
  EXPECT_EQ(m.queued, 0u);
  EXPECT_EQ(m.active_subscribers, 1u);
}

TEST_F(EventBusTest, EmptyTypeListMeansEveryType) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<ClusterEvent> got;
  ASSERT_NE(bus.subscribe({}, recorder(got)), 0u);
  for (int t = 0; t < 8; ++t) ASSERT_TRUE(bus.publish(event(static_cast<ClusterEventType>(t))).is_ok());
  timers_.run_due();
  ASSERT_EQ(got.size(), 8u);
  for (int t = 0; t < 8; ++t) EXPECT_EQ(got[t].type, static_cast<ClusterEventType>(t));
}

TEST_F(EventBusTest, CountsPublishesWithoutSubscribers) {
  ClusterEventBus bus(clock_, timers_);
  EXPECT_EQ(bus.metrics().last_event_time_ns, 0);
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  clock_.advance(7);
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  const EventBusMetrics m = bus.metrics();
  EXPECT_EQ(m.published, 2u);
  EXPECT_EQ(m.delivered, 0u);
  EXPECT_EQ(m.active_subscribers, 0u);
  EXPECT_EQ(m.last_event_time_ns, 1007);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(EventBusTest, KeepsACallersTimestamp) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<ClusterEvent> got;
  bus.subscribe({}, recorder(got));
  ClusterEvent e = event(ClusterEventType::kDataOperation);
  e.timestamp_ns = 42;
  e.correlation_id = "c-1";
  ASSERT_TRUE(bus.publish(e).is_ok());
  timers_.run_due();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], e);
}

TEST_F(EventBusTest, RejectsBadInput) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<ClusterEvent> got;
  EXPECT_EQ(bus.subscribe({}, nullptr), 0u);
  EXPECT_EQ(bus.subscribe({static_cast<ClusterEventType>(200)}, recorder(got)), 0u);
  EXPECT_EQ(bus.metrics().active_subscribers, 0u);
  bus.subscribe({}, recorder(got));
  const Status s = bus.publish(event(static_cast<ClusterEventType>(200)));
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "unknown event type 200");
  EXPECT_EQ(bus.metrics().published, 0u);
  timers_.run_due();
  EXPECT_TRUE(got.empty());
  EXPECT_FALSE(bus.unsubscribe(0));
  EXPECT_FALSE(bus.unsubscribe(999));
}

TEST_F(EventBusTest, DuplicateTypesInASubscriptionDeliverOnce) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<ClusterEvent> got;
  bus.subscribe({ClusterEventType::kNodeDemotion, ClusterEventType::kNodeDemotion}, recorder(got));
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kNodeDemotion)).is_ok());
  timers_.run_due();
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(EventBusTest, SubscriberLimit) {
  ClusterEventBus bus(clock_, timers_);
  for (std::size_t i = 0; i < kMaxSubscribers; ++i) ASSERT_NE(bus.subscribe({}, [](const ClusterEvent&) {}), 0u);
  EXPECT_EQ(bus.subscribe({}, [](const ClusterEvent&) {}), 0u);
  ASSERT_TRUE(bus.unsubscribe(1));
  EXPECT_NE(bus.subscribe({}, [](const ClusterEvent&) {}), 0u);
}

TEST_F(EventBusTest, FullQueueDropsAndCountsPerSubscriber) {
  ClusterEventBus bus(clock_, timers_, EventBusOptions{.queue_capacity = 3});
  std::vector<ClusterEvent> all;
  std::vector<ClusterEvent> promotions;
  const SubscriptionId a = bus.subscribe({}, recorder(all));
  const SubscriptionId b = bus.subscribe({ClusterEventType::kNodePromotion}, recorder(promotions));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(bus.publish(event(ClusterEventType::kRebalanceStarted, std::to_string(i))).is_ok());
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kNodePromotion, "p")).is_ok());  // a is full too

  EXPECT_EQ(bus.subscriber_metrics(a)->queued, 3u);
  EXPECT_EQ(bus.subscriber_metrics(a)->dropped, 3u);
  EXPECT_EQ(bus.subscriber_metrics(b)->queued, 1u);
  EXPECT_EQ(bus.subscriber_metrics(b)->dropped, 0u);
  EXPECT_EQ(bus.metrics().dropped, 3u);
  EXPECT_EQ(bus.metrics().published, 6u);

  timers_.run_due();
  ASSERT_EQ(all.size(), 3u);  // the first three, in order; later ones were dropped
  EXPECT_EQ(all[0].data, "0");
  EXPECT_EQ(all[1].data, "1");
  EXPECT_EQ(all[2].data, "2");
  ASSERT_EQ(promotions.size(), 1u);
  EXPECT_EQ(bus.subscriber_metrics(a)->delivered, 3u);
  EXPECT_EQ(bus.metrics().delivered, 4u);

  // Room again once delivered.
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kRebalanceStarted, "5")).is_ok());
  timers_.run_due();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3].data, "5");
  EXPECT_EQ(bus.metrics().dropped, 3u);
}

TEST_F(EventBusTest, ZeroCapacityDropsEverything) {
  ClusterEventBus bus(clock_, timers_, EventBusOptions{.queue_capacity = 0});
  std::vector<ClusterEvent> got;
  bus.subscribe({}, recorder(got));
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  timers_.run_due();
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(bus.metrics().dropped, 1u);
}

TEST_F(EventBusTest, OneTimerPerSubscriberDrainsFifo) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<ClusterEvent> got;
  bus.subscribe({}, recorder(got));
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, std::to_string(i))).is_ok());
  EXPECT_EQ(timers_.pending(), 1u);
  EXPECT_EQ(timers_.run_due(), 1u);  // one callback delivers all ten
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i].data, std::to_string(i));
}

TEST_F(EventBusTest, UnsubscribeBeforeDeliveryDiscardsQueuedEvents) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<ClusterEvent> got;
  std::vector<ClusterEvent> other;
  const SubscriptionId id = bus.subscribe({}, recorder(got));
  bus.subscribe({}, recorder(other));
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  EXPECT_TRUE(bus.unsubscribe(id));
  EXPECT_FALSE(bus.unsubscribe(id));
  EXPECT_FALSE(bus.subscriber_metrics(id).has_value());
  EXPECT_EQ(timers_.pending(), 1u);  // its timer was cancelled
  timers_.run_due();
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(other.size(), 2u);
  EXPECT_EQ(bus.metrics().discarded, 2u);
  EXPECT_EQ(bus.metrics().active_subscribers, 1u);
}

TEST_F(EventBusTest, UnsubscribeMidQueueFromAHandler) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<std::string> got;
  SubscriptionId self = 0;
  std::vector<std::string> victim_got;
  const SubscriptionId victim = bus.subscribe({}, [&](const ClusterEvent& e) { victim_got.push_back(e.data); });
  self = bus.subscribe({}, [&](const ClusterEvent& e) {
    got.push_back(e.data);
    if (e.data == "1") {
      EXPECT_TRUE(bus.unsubscribe(self));  // itself, while it runs
    }
  });
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, std::to_string(i))).is_ok());
  timers_.run_due();
  EXPECT_EQ(got, (std::vector<std::string>{"0", "1"}));  // 2 and 3 were queued, never delivered
  EXPECT_EQ(victim_got.size(), 4u);
  EXPECT_EQ(bus.metrics().discarded, 2u);

  // Now one handler unsubscribes another whose events are still queued.
  std::vector<std::string> late;
  SubscriptionId second = 0;
  bus.subscribe({}, [&](const ClusterEvent&) { EXPECT_TRUE(bus.unsubscribe(second)); });
  second = bus.subscribe({}, [&](const ClusterEvent& e) { late.push_back(e.data); });
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, "x")).is_ok());
  timers_.run_due();
  EXPECT_TRUE(late.empty());
  EXPECT_EQ(victim_got.size(), 5u);
  EXPECT_TRUE(bus.unsubscribe(victim));
}

TEST_F(EventBusTest, ReentrantPublishFromAHandlerIsDeferred) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<std::string> log;
  int depth = 0;
  bus.subscribe({}, [&](const ClusterEvent& e) {
    ++depth;
    EXPECT_EQ(depth, 1) << "handler re-entered";
    log.push_back(std::string(to_string(e.type)));
    if (e.type == ClusterEventType::kRebalanceStarted) {
      EXPECT_TRUE(bus.publish(event(ClusterEventType::kRebalanceCompleted)).is_ok());
      EXPECT_EQ(log.size(), 1u);  // not delivered inside publish
    }
    --depth;
  });
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kRebalanceStarted)).is_ok());
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kTopologyChanged)).is_ok());
  timers_.run_due();
  // FIFO per subscriber: the republished event follows what was queued before it.
  EXPECT_EQ(log, (std::vector<std::string>{"rebalance_started", "topology_changed", "rebalance_completed"}));
  EXPECT_EQ(bus.metrics().published, 3u);
  EXPECT_EQ(bus.metrics().delivered, 3u);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(EventBusTest, SubscribeFromAHandlerSeesOnlyLaterEvents) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<ClusterEvent> late;
  bool subscribed = false;
  bus.subscribe({}, [&](const ClusterEvent&) {
    if (!subscribed) {
      subscribed = true;
      EXPECT_NE(bus.subscribe({}, recorder(late)), 0u);
    }
  });
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, "first")).is_ok());
  timers_.run_due();
  EXPECT_TRUE(late.empty());
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, "second")).is_ok());
  timers_.run_due();
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].data, "second");
}

TEST_F(EventBusTest, SelfFeedingHandlerDoesNotMonopoliseOneCallback) {
  ClusterEventBus bus(clock_, timers_);
  int calls = 0;
  bus.subscribe({}, [&](const ClusterEvent&) {
    if (++calls < 5) {
      EXPECT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
    }
  });
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  EXPECT_TRUE(timers_.run_next());  // one callback: only what was queued when it began
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(timers_.pending(), 1u);
  timers_.run_due();
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(EventBusTest, DeliveryDelayAndLatencyMetrics) {
  ClusterEventBus bus(clock_, timers_, EventBusOptions{.queue_capacity = 100, .delivery_delay_ns = 10 * kMs});
  std::vector<TimeNs> delivered_at;
  bus.subscribe({}, [&](const ClusterEvent&) { delivered_at.push_back(clock_.now()); });

  const TimeNs t0 = clock_.now();
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());  // due t0+10
  timers_.advance(4 * kMs);
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());  // due t0+14
  timers_.advance(5 * kMs);                                                   // t0+9
  EXPECT_TRUE(delivered_at.empty());
  timers_.advance(1 * kMs);  // t0+10: only the first is due
  EXPECT_EQ(delivered_at, (std::vector<TimeNs>{t0 + 10 * kMs}));
  timers_.advance(4 * kMs);  // t0+14
  EXPECT_EQ(delivered_at, (std::vector<TimeNs>{t0 + 10 * kMs, t0 + 14 * kMs}));
  EXPECT_DOUBLE_EQ(bus.metrics().delivery_latency_mean_ns, 10.0 * kMs);
  EXPECT_EQ(bus.metrics().delivery_latency_max_ns, 10 * kMs);

  // A stalled event loop: published at t0+14, delivered at t0+39 (latency 25 ms).
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  clock_.advance(25 * kMs);
  timers_.run_due();
  ASSERT_EQ(delivered_at.size(), 3u);
  EXPECT_EQ(delivered_at[2], t0 + 39 * kMs);
  EXPECT_DOUBLE_EQ(bus.metrics().delivery_latency_mean_ns, (10.0 + 10.0 + 25.0) / 3.0 * kMs);
  EXPECT_EQ(bus.metrics().delivery_latency_max_ns, 25 * kMs);
}

TEST_F(EventBusTest, ZeroDelayHasZeroLatency) {
  ClusterEventBus bus(clock_, timers_, EventBusOptions{.queue_capacity = 10, .delivery_delay_ns = -5});
  EXPECT_EQ(bus.options().delivery_delay_ns, 0);
  bus.subscribe({}, [](const ClusterEvent&) {});
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  timers_.run_due();
  EXPECT_EQ(bus.metrics().delivered, 1u);
  EXPECT_EQ(bus.metrics().delivery_latency_mean_ns, 0.0);
  EXPECT_EQ(bus.metrics().delivery_latency_max_ns, 0);
}

TEST_F(EventBusTest, DeliveryOrderAcrossSubscribersIsSubscriptionOrder) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<std::string> log;
  bus.subscribe({}, [&](const ClusterEvent& e) { log.push_back("a" + e.data); });
  bus.subscribe({}, [&](const ClusterEvent& e) { log.push_back("b" + e.data); });
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, "1")).is_ok());
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, "2")).is_ok());
  timers_.run_due();
  EXPECT_EQ(log, (std::vector<std::string>{"a1", "a2", "b1", "b2"}));
}

TEST_F(EventBusTest, CloseDropsSubscribersAndPendingDeliveries) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<ClusterEvent> got;
  const SubscriptionId id = bus.subscribe({}, recorder(got));
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  bus.close();
  EXPECT_EQ(timers_.pending(), 0u);
  timers_.advance(kMs);
  EXPECT_TRUE(got.empty());
  EXPECT_FALSE(bus.unsubscribe(id));
  EXPECT_EQ(bus.metrics().active_subscribers, 0u);
  EXPECT_EQ(bus.metrics().discarded, 1u);
  // Still usable, counters kept.
  std::vector<ClusterEvent> fresh;
  ASSERT_NE(bus.subscribe({}, recorder(fresh)), 0u);
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation)).is_ok());
  timers_.run_due();
  EXPECT_EQ(fresh.size(), 1u);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(bus.metrics().published, 2u);
}

TEST_F(EventBusTest, CloseFromInsideAHandler) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<std::string> got;
  std::vector<std::string> other;
  bus.subscribe({}, [&](const ClusterEvent& e) {
    got.push_back(e.data);
    bus.close();
  });
  bus.subscribe({}, [&](const ClusterEvent& e) { other.push_back(e.data); });
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, "1")).is_ok());
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, "2")).is_ok());
  timers_.run_due();
  EXPECT_EQ(got, (std::vector<std::string>{"1"}));
  EXPECT_TRUE(other.empty());
  EXPECT_EQ(bus.metrics().discarded, 3u);  // one of the first's, two of the second's
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(EventBusTest, DrainAndCloseDeliversWhatIsQueuedThenDrops) {
  ClusterEventBus bus(clock_, timers_);
  std::vector<std::string> got;
  std::vector<std::string> idle_got;
  const SubscriptionId busy = bus.subscribe({}, [&](const ClusterEvent& e) { got.push_back(e.data); });
  const SubscriptionId idle =
      bus.subscribe({ClusterEventType::kNodePromotion}, [&](const ClusterEvent& e) { idle_got.push_back(e.data); });
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, "before")).is_ok());
  bus.drain_and_close();
  EXPECT_FALSE(bus.subscriber_metrics(idle).has_value());  // nothing queued: dropped at once
  EXPECT_TRUE(bus.subscriber_metrics(busy).has_value());
  EXPECT_EQ(bus.metrics().active_subscribers, 0u);
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kDataOperation, "after")).is_ok());
  ASSERT_TRUE(bus.publish(event(ClusterEventType::kNodePromotion, "after")).is_ok());
  timers_.run_due();
  EXPECT_EQ(got, (std::vector<std::string>{"before"}));
  EXPECT_TRUE(idle_got.empty());
  EXPECT_FALSE(bus.unsubscribe(busy));
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(EventBusTest, DestroyingTheBusCancelsItsTimers) {
  auto bus = std::make_unique<ClusterEventBus>(clock_, timers_);
  int calls = 0;
  bus->subscribe({}, [&](const ClusterEvent&) { ++calls; });
  ASSERT_TRUE(bus->publish(event(ClusterEventType::kDataOperation)).is_ok());
  EXPECT_EQ(timers_.pending(), 1u);
  bus.reset();
  EXPECT_EQ(timers_.pending(), 0u);
  timers_.advance(kMs);
  EXPECT_EQ(calls, 0);
}

// Timers that refuse every request, as a full simulator queue would.
class RefusingTimers final : public Timers {
 public:
  TimerId schedule(TimeNs, std::function<void()>) override { return 0; }
  bool cancel(TimerId) override { return false; }
};

TEST_F(EventBusTest, RefusedDeliveryIsAnErrorAndADrop) {
  RefusingTimers refusing;
  ClusterEventBus bus(clock_, refusing);
  bus.subscribe({}, [](const ClusterEvent&) {});
  const Status s = bus.publish(event(ClusterEventType::kDataOperation));
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(bus.metrics().published, 1u);
  EXPECT_EQ(bus.metrics().dropped, 1u);
  EXPECT_EQ(bus.metrics().queued, 0u);
}

TEST_F(EventBusTest, MembershipBusCarriesMembers) {
  MembershipEventBus bus(clock_, timers_);
  std::vector<MembershipEvent> got;
  bus.subscribe({MembershipEventType::kFailed, MembershipEventType::kRecovered},
                [&](const MembershipEvent& e) { got.push_back(e); });
  MembershipEvent e;
  e.type = MembershipEventType::kFailed;
  e.member.node_id = "node-7";
  e.member.address = 7;
  e.member.status = NodeStatus::kDead;
  e.member.incarnation = 3;
  e.member.metadata = {{"zone", "a"}};
  ASSERT_TRUE(bus.publish(e).is_ok());
  e.type = MembershipEventType::kJoined;
  ASSERT_TRUE(bus.publish(e).is_ok());
  timers_.run_due();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, MembershipEventType::kFailed);
  EXPECT_EQ(got[0].member.node_id, "node-7");
  EXPECT_EQ(got[0].member.incarnation, 3u);
  EXPECT_EQ(got[0].member.metadata, (Metadata{{"zone", "a"}}));
  EXPECT_EQ(got[0].timestamp_ns, 1000);
}

}  // namespace
}  // namespace hcsim::core::cluster
