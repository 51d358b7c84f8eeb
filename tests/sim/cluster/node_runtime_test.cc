// NodeRuntime: one simulated process's view of the runtime seam. Its clock
// follows the simulator's with a skew and a drift; its timers run by that
// clock and wait while it is paused; its messages wait too, in order.
#include "sim/cluster/node_runtime.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hcsim::sim {
namespace {

constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kS = 1'000'000'000;

struct Fixture {
  Simulator sim{Simulator::Options{.seed = 1}};
  Network net{sim, LinkConfig{}};
  EndpointId a = net.add_endpoint("a", [this](const Message& m) { rt_a->deliver(m); });
  EndpointId b = net.add_endpoint("b", [this](const Message& m) { rt_b->deliver(m); });
  std::unique_ptr<NodeRuntime> rt_a = std::make_unique<NodeRuntime>(sim, net, a, 11);
  std::unique_ptr<NodeRuntime> rt_b = std::make_unique<NodeRuntime>(sim, net, b, 12);
};

TEST(NodeRuntime, ClockSkewAndDrift) {
  Fixture f;
  f.sim.run_until(10 * kS);
  EXPECT_EQ(f.rt_a->now(), 10 * kS);
  f.rt_a->set_skew(5 * kS, 0.5);  // jumps 5 s ahead, then runs 1.5x fast
  EXPECT_EQ(f.rt_a->now(), 15 * kS);
  f.sim.run_until(12 * kS);
  EXPECT_EQ(f.rt_a->now(), 18 * kS);
  EXPECT_EQ(f.rt_b->now(), 12 * kS);  // the other node's clock is untouched
  // A timer of 3 s local time fires after 2 s of simulated time.
  TimeNs fired_sim = -1, fired_local = -1;
  f.rt_a->schedule(3 * kS, [&] {
    fired_sim = f.sim.now();
    fired_local = f.rt_a->now();
  });
  f.sim.run_until(20 * kS);
  EXPECT_EQ(fired_sim, 14 * kS);
  EXPECT_EQ(fired_local, 21 * kS);
  // Drift back to 0: from now on it runs at the simulator's speed, 12 s
  // ahead (18 s at 12 s, + 8 s x 1.5 = 30 s at 20 s).
  f.rt_a->set_skew(0, 0.0);
  EXPECT_EQ(f.rt_a->now(), 30 * kS);
  f.sim.run_until(21 * kS);
  EXPECT_EQ(f.rt_a->now(), 31 * kS);
}

TEST(NodeRuntime, PauseHoldsTimersAndMessagesInOrderUntilTheResume) {
  Fixture f;
  std::vector<std::string> log;
  f.rt_b->transport().set_receiver([&](core::TransportAddress from, std::string_view payload) {
    log.push_back("msg " + std::to_string(from) + " " + std::string(payload) + " @" + std::to_string(f.sim.now() / kMs));
  });
  f.rt_b->schedule(100 * kMs, [&] { log.push_back("t1 @" + std::to_string(f.sim.now() / kMs)); });
  f.rt_b->schedule(300 * kMs, [&] { log.push_back("t2 @" + std::to_string(f.sim.now() / kMs)); });
  const core::TimerId cancelled = f.rt_b->schedule(200 * kMs, [&] { log.push_back("never"); });
  f.rt_b->pause(1 * kS);
  EXPECT_TRUE(f.rt_b->paused());
  f.rt_a->transport().send(f.b, "x");
  f.sim.after(500 * kMs, [&] { f.rt_a->transport().send(f.b, "y"); });
  f.sim.run_until(400 * kMs);
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(f.rt_b->cancel(cancelled));  // still pending: cancelling works
  f.sim.run_until(2 * kS);
  EXPECT_FALSE(f.rt_b->paused());
  // In the order they came due or arrived: x at 0.1 ms, t1 at 100 ms, t2 at
  // 300 ms, y at 500.1 ms.
  const std::vector<std::string> expected = {"msg 0 x @1000", "t1 @1000", "t2 @1000", "msg 0 y @1000"};
  EXPECT_EQ(log, expected);
  // Once resumed, delivery is immediate again.
  f.rt_a->transport().send(f.b, "z");
  f.sim.run_until(3 * kS);
  EXPECT_EQ(log.back().rfind("msg 0 z @2000", 0), 0u) << log.back();
}

TEST(NodeRuntime, AHeldTimerCanCancelALaterOneDuringTheReplay) {
  Fixture f;
  std::vector<int> ran;
  core::TimerId second = 0;
  f.rt_b->schedule(100 * kMs, [&] {
    ran.push_back(1);
    EXPECT_TRUE(f.rt_b->cancel(second));  // still waiting in the replay: cancellable
  });
  second = f.rt_b->schedule(200 * kMs, [&] { ran.push_back(2); });
  f.rt_b->pause(1 * kS);
  f.sim.run_until(2 * kS);
  EXPECT_EQ(ran, std::vector<int>{1});
  EXPECT_FALSE(f.rt_b->cancel(second));
}

TEST(NodeRuntime, ResetDropsEverythingPending) {
  Fixture f;
  int fired = 0, received = 0;
  f.rt_b->transport().set_receiver([&](core::TransportAddress, std::string_view) { ++received; });
  f.rt_b->schedule(1 * kS, [&] { ++fired; });
  f.rt_b->pause(5 * kS);
  f.rt_a->transport().send(f.b, "held");
  f.sim.run_until(2 * kS);
  f.rt_b->reset();  // a crash
  EXPECT_FALSE(f.rt_b->paused());
  f.sim.run_until(10 * kS);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(received, 0);
  EXPECT_EQ(f.rt_b->schedule(-1, [] {}), 0u);  // bad requests are refused
  EXPECT_EQ(f.rt_b->schedule(1, {}), 0u);
}

}  // namespace
}  // namespace hcsim::sim
