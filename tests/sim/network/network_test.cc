#include "sim/network/network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace hcsim::sim {
namespace {

struct Delivery {
  TimeNs time_ns;
  EndpointId from;
  EndpointId to;
  std::uint64_t request_id;
  TimeNs sent_ns;
  bool operator==(const Delivery&) const = default;
};

// A network whose endpoints all append their deliveries to one trace.
struct Fixture {
  explicit Fixture(std::uint64_t seed, LinkConfig config = {}, std::size_t endpoints = 2)
      : sim(Simulator::Options{.seed = seed}), net(sim, config) {
    for (std::size_t i = 0; i < endpoints; ++i) add();
  }
  EndpointId add() {
    return net.add_endpoint("e" + std::to_string(net.endpoint_count()), [this](const Message& m) {
      trace.push_back(Delivery{sim.now(), m.from, m.to, m.request_id, m.sent_ns});
    });
  }
  bool send(EndpointId from, EndpointId to, std::uint32_t bytes, std::uint64_t request_id = 0) {
    Message m;
    m.from = from;
    m.to = to;
    m.bytes = bytes;
    m.request_id = request_id;
    return net.send(m);
  }
  // Sends at an absolute time (from the event loop).
  void send_at(TimeNs when_ns, EndpointId from, EndpointId to, std::uint32_t bytes, std::uint64_t request_id) {
    sim.at(when_ns, [this, from, to, bytes, request_id] { send(from, to, bytes, request_id); });
  }

  Simulator sim;
  Network net;
  std::vector<Delivery> trace;
};

LinkConfig constant_link(TimeNs latency_ns) {
  LinkConfig c;
  c.latency = Distribution::constant(static_cast<double>(latency_ns));
  return c;
}

// |x - n p| <= 4.5 sigma of a binomial(n, p).
void expect_binomial(std::uint64_t x, std::uint64_t n, double p) {
  const double mean = static_cast<double>(n) * p;
  const double sigma = std::sqrt(static_cast<double>(n) * p * (1.0 - p));
  EXPECT_NEAR(static_cast<double>(x), mean, 4.5 * sigma) << "n=" << n << " p=" << p;
}

std::size_t inversions_of_adjacent(const std::vector<Delivery>& trace) {
  std::size_t n = 0;
  for (std::size_t i = 1; i < trace.size(); ++i) n += trace[i].request_id < trace[i - 1].request_id ? 1 : 0;
  return n;
}

TEST(NetworkTest, ConstantLatencyDeliversAtSendTimePlusLatencyWithTheMessageIntact) {
  Simulator sim;
  Network net(sim, constant_link(250'000));
  std::vector<std::pair<TimeNs, Message>> got;
  const EndpointId a = net.add_endpoint("a", nullptr);
  const EndpointId b = net.add_endpoint("b", [&](const Message& m) { got.emplace_back(sim.now(), m); });
  EXPECT_EQ(net.endpoint_count(), 2u);
  EXPECT_EQ(net.endpoint_name(b), "b");
  sim.at(1000, [&] {
    Message m;
    m.from = a;
    m.to = b;
    m.bytes = 64;
    m.type = 7;
    m.flags = 3;
    m.request_id = 42;
    m.key = 9;
    m.value_bytes = 1024;
    m.sent_ns = -5;  // overwritten by send()
    m.aux = 77;
    EXPECT_TRUE(net.send(m));
  });
  sim.run_until(1000);
  EXPECT_EQ(net.in_flight(), 1u);
  sim.run_until(10'000'000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, 251'000);
  const Message& m = got[0].second;
  EXPECT_EQ(m.from, a);
  EXPECT_EQ(m.to, b);
  EXPECT_EQ(m.bytes, 64u);
  EXPECT_EQ(m.type, 7);
  EXPECT_EQ(m.flags, 3);
  EXPECT_EQ(m.request_id, 42u);
  EXPECT_EQ(m.key, 9u);
  EXPECT_EQ(m.value_bytes, 1024u);
  EXPECT_EQ(m.sent_ns, 1000);
  EXPECT_EQ(m.aux, 77u);
  EXPECT_EQ(net.in_flight(), 0u);
}

TEST(NetworkTest, BandwidthSerialisesBackToBackMessages) {
  LinkConfig c = constant_link(50'000);
  c.bandwidth_bytes_per_s = 1e6;  // 1000 B take 1 ms
  Fixture f(1, c);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(f.send(0, 1, 1000, i));
  f.send_at(10'000'000, 0, 1, 1000, 3);  // link idle again: starts at once
  f.send_at(10'500'000, 0, 1, 1000, 4);  // link busy until 11 ms: waits
  f.send_at(10'500'000, 1, 0, 1000, 5);  // the other direction has its own bandwidth
  f.sim.run_until(100'000'000);
  const std::vector<Delivery> expected = {
      {1'050'000, 0, 1, 0, 0},
      {2'050'000, 0, 1, 1, 0},
      {3'050'000, 0, 1, 2, 0},
      {11'050'000, 0, 1, 3, 10'000'000},
      {11'550'000, 1, 0, 5, 10'500'000},
      {12'050'000, 0, 1, 4, 10'500'000},
  };
  EXPECT_EQ(f.trace, expected);
}

TEST(NetworkTest, TransmissionTimeRoundsUpToWholeNanoseconds) {
  LinkConfig c = constant_link(0);
  c.bandwidth_bytes_per_s = 3;  // 1 B: 1e9 / 3 = 333333333.3 ns -> 333333334
  Fixture f(1, c, 3);
  LinkConfig fractional = constant_link(0);
  fractional.bandwidth_bytes_per_s = 1.5;  // 1 B: 666666666.7 ns -> 666666667
  f.net.set_link(0, 2, fractional);
  ASSERT_TRUE(f.send(0, 1, 1, 1));
  ASSERT_TRUE(f.send(0, 2, 1, 2));
  f.sim.run_until(10'000'000'000);
  ASSERT_EQ(f.trace.size(), 2u);
  EXPECT_EQ(f.trace[0].time_ns, 333'333'334);
  EXPECT_EQ(f.trace[1].time_ns, 666'666'667);
}

TEST(NetworkTest, FifoHoldsWithUniformRandomLatency) {
  LinkConfig c;
  c.latency = Distribution::uniform(10'000, 1'000'000);  // spread 100x the send spacing
  Fixture f(3, c);
  constexpr std::uint64_t kMessages = 10'000;
  for (std::uint64_t i = 0; i < kMessages; ++i) f.send_at(static_cast<TimeNs>(i) * 10'000, 0, 1, 100, i);
  f.sim.run_until(1'000'000'000);
  ASSERT_EQ(f.trace.size(), kMessages);
  for (std::uint64_t i = 0; i < kMessages; ++i) ASSERT_EQ(f.trace[i].request_id, i) << "position " << i;
  // The bound did bite: a message held back by a slower predecessor arrives
  // at the same time as it (ties of two free uniform draws are rare).
  std::size_t held = 0;
  for (std::size_t i = 1; i < f.trace.size(); ++i) held += f.trace[i].time_ns == f.trace[i - 1].time_ns ? 1 : 0;
  EXPECT_GT(held, kMessages / 4);
  EXPECT_EQ(f.net.stats().reordered, 0u);
}

// Constant latency L, no bandwidth limit: an in-order message arrives at
// exactly sent + L; a reordered one at sent + L + uniform[0, 1 ms].
struct ReorderRun {
  NetworkStats stats;
  std::size_t late = 0;
  std::size_t on_time = 0;
  std::size_t inversions = 0;
  TimeNs max_extra_ns = 0;
};
ReorderRun run_reorder(double reorder, std::uint64_t messages) {
  LinkConfig c = constant_link(100'000);
  c.reorder = reorder;
  c.reorder_delay_ns = 1'000'000;
  Fixture f(11, c);
  for (std::uint64_t i = 0; i < messages; ++i) f.send_at(static_cast<TimeNs>(i) * 10'000, 0, 1, 100, i);
  f.sim.run_until(10'000'000'000);
  ReorderRun r;
  r.stats = f.net.stats();
  for (const Delivery& d : f.trace) {
    const TimeNs extra = d.time_ns - d.sent_ns - 100'000;
    (extra > 0 ? r.late : r.on_time) += 1;
    r.max_extra_ns = std::max(r.max_extra_ns, extra);
    EXPECT_GE(extra, 0);
  }
  r.inversions = inversions_of_adjacent(f.trace);
  EXPECT_EQ(f.trace.size(), messages);
  return r;
}

TEST(NetworkTest, ReorderingHappensAtTheExpectedRateAndOnlyWithReorder) {
  constexpr std::uint64_t kMessages = 20'000;
  const ReorderRun with = run_reorder(0.1, kMessages);
  expect_binomial(with.stats.reordered, kMessages, 0.1);
  // Every reordered message is held back (a hold-back of exactly 0 has
  // probability 1e-6 each), and only those are.
  EXPECT_LE(with.late, with.stats.reordered);
  EXPECT_GE(with.late + 2, with.stats.reordered);
  EXPECT_GT(with.inversions, 0u);
  EXPECT_LE(with.max_extra_ns, 1'000'000);
  EXPECT_GT(with.max_extra_ns, 990'000);  // the hold-back spans its range

  const ReorderRun without = run_reorder(0.0, kMessages);
  EXPECT_EQ(without.stats.reordered, 0u);
  EXPECT_EQ(without.late, 0u);
  EXPECT_EQ(without.inversions, 0u);
}

TEST(NetworkTest, LossRateIsWithinBinomialTolerance) {
  LinkConfig c = constant_link(1000);
  c.loss = 0.1;
  Fixture f(5, c);
  constexpr std::uint64_t kMessages = 100'000;
  std::uint64_t refused = 0;
  for (std::uint64_t i = 0; i < kMessages; ++i) refused += f.send(0, 1, 10, i) ? 0 : 1;
  const NetworkStats& s = f.net.stats();
  EXPECT_EQ(s.sent, kMessages);
  EXPECT_EQ(s.dropped_loss, refused);
  expect_binomial(s.dropped_loss, kMessages, 0.1);
  EXPECT_EQ(f.net.in_flight(), kMessages - refused);
  f.sim.run_until(1'000'000);
  EXPECT_EQ(s.delivered, kMessages - refused);
  EXPECT_EQ(f.trace.size(), kMessages - refused);

  LinkConfig all = constant_link(1000);
  all.loss = 1.0;
  f.net.set_link(1, 0, all);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(f.send(1, 0, 10));
  EXPECT_EQ(s.dropped_loss, refused + 100);
}

TEST(NetworkTest, DuplicationRateAndTheCopyArrivesOneNanosecondLater) {
  LinkConfig c = constant_link(5000);
  c.duplicate = 0.2;
  Fixture f(6, c);
  constexpr std::uint64_t kMessages = 50'000;
  for (std::uint64_t i = 0; i < kMessages; ++i) f.send_at(static_cast<TimeNs>(i) * 100, 0, 1, 10, i);
  f.sim.run_until(1'000'000'000);
  const NetworkStats& s = f.net.stats();
  expect_binomial(s.duplicated, kMessages, 0.2);
  EXPECT_EQ(s.delivered, kMessages + s.duplicated);
  EXPECT_EQ(s.delivered_bytes, 10 * (kMessages + s.duplicated));
  std::map<std::uint64_t, std::vector<TimeNs>> copies;
  for (const Delivery& d : f.trace) copies[d.request_id].push_back(d.time_ns);
  ASSERT_EQ(copies.size(), kMessages);
  std::uint64_t twice = 0;
  for (const auto& [id, times] : copies) {
    ASSERT_LE(times.size(), 2u);
    EXPECT_EQ(times[0], static_cast<TimeNs>(id) * 100 + 5000);
    if (times.size() == 2) {
      ++twice;
      EXPECT_EQ(times[1], times[0] + 1);
    }
  }
  EXPECT_EQ(twice, s.duplicated);
}

TEST(NetworkTest, SymmetricPartitionBlocksBothWaysAndHeals) {
  Fixture f(1, constant_link(1000), 4);
  const std::vector<EndpointId> left = {0, 1};
  const std::vector<EndpointId> right = {2, 3};
  EXPECT_FALSE(f.net.blocked(0, 2));
  f.net.partition(left, right, /*one_way=*/false);
  EXPECT_EQ(f.net.partition_count(), 1u);
  for (EndpointId x : left) {
    for (EndpointId y : right) {
      EXPECT_TRUE(f.net.blocked(x, y));
      EXPECT_TRUE(f.net.blocked(y, x));
    }
  }
  EXPECT_FALSE(f.net.blocked(0, 1));
  EXPECT_FALSE(f.net.blocked(3, 2));
  EXPECT_FALSE(f.send(0, 2, 10));
  EXPECT_FALSE(f.send(3, 1, 10));
  EXPECT_TRUE(f.send(0, 1, 10));
  EXPECT_EQ(f.net.stats().dropped_partition, 2u);
  f.net.heal();
  EXPECT_EQ(f.net.partition_count(), 0u);
  EXPECT_FALSE(f.net.blocked(0, 2));
  EXPECT_TRUE(f.send(0, 2, 10));
  EXPECT_TRUE(f.send(3, 1, 10));
  f.sim.run_until(1'000'000);
  EXPECT_EQ(f.trace.size(), 3u);
  EXPECT_EQ(f.net.stats().dropped_partition, 2u);
}

TEST(NetworkTest, OneWayPartitionBlocksOneDirectionAndPartitionsAddUp) {
  Fixture f(1, constant_link(1000), 4);
  const std::vector<EndpointId> a = {0};
  const std::vector<EndpointId> b = {1, 2};
  f.net.partition(a, b, /*one_way=*/true);
  EXPECT_TRUE(f.net.blocked(0, 1));
  EXPECT_TRUE(f.net.blocked(0, 2));
  EXPECT_FALSE(f.net.blocked(1, 0));
  EXPECT_FALSE(f.net.blocked(2, 0));
  EXPECT_FALSE(f.net.blocked(0, 3));
  EXPECT_FALSE(f.send(0, 1, 10));
  EXPECT_TRUE(f.send(1, 0, 10));
  // A second rule adds to the first.
  const std::vector<EndpointId> c = {3};
  f.net.partition(c, a, /*one_way=*/false);
  EXPECT_TRUE(f.net.blocked(0, 1));  // still
  EXPECT_TRUE(f.net.blocked(3, 0));
  EXPECT_TRUE(f.net.blocked(0, 3));
  EXPECT_FALSE(f.net.blocked(1, 0));
  EXPECT_FALSE(f.net.blocked(3, 1));
  f.net.heal();
  EXPECT_FALSE(f.net.blocked(0, 1));
  EXPECT_FALSE(f.net.blocked(0, 3));
}

TEST(NetworkTest, MessagesInFlightSurviveAPartition) {
  Fixture f(1, constant_link(10'000));
  ASSERT_TRUE(f.send(0, 1, 10, 1));
  const std::vector<EndpointId> a = {0};
  const std::vector<EndpointId> b = {1};
  f.sim.at(5000, [&] { f.net.partition(a, b, false); });
  f.sim.run_until(1'000'000);
  ASSERT_EQ(f.trace.size(), 1u);
  EXPECT_EQ(f.trace[0].time_ns, 10'000);
  EXPECT_TRUE(f.net.blocked(0, 1));
}

TEST(NetworkTest, LargePartitionsAndManyRulesAreExact) {
  constexpr EndpointId kEndpoints = 1000;
  Simulator sim;
  Network net(sim, constant_link(1000));
  for (EndpointId i = 0; i < kEndpoints; ++i) net.add_endpoint("n" + std::to_string(i), nullptr);
  std::vector<EndpointId> left;
  std::vector<EndpointId> right;
  for (EndpointId i = 0; i < kEndpoints; ++i) (i < kEndpoints / 2 ? left : right).push_back(i);
  net.partition(left, right, /*one_way=*/false);
  for (EndpointId x = 0; x < kEndpoints; x += 7) {
    for (EndpointId y = 0; y < kEndpoints; ++y) {
      ASSERT_EQ(net.blocked(x, y), (x < 500) != (y < 500)) << x << " -> " << y;
    }
  }
  // 70 one-way rules i -> i + 1 inside the left half: the rules span two
  // words, and the first rule's bits survive the re-layout.
  for (EndpointId i = 0; i < 70; ++i) {
    const EndpointId from[] = {i};
    const EndpointId to[] = {i + 1};
    net.partition(from, to, /*one_way=*/true);
  }
  EXPECT_EQ(net.partition_count(), 71u);
  for (EndpointId i = 0; i < 70; ++i) {
    EXPECT_TRUE(net.blocked(i, i + 1));
    EXPECT_FALSE(net.blocked(i + 1, i));
    EXPECT_FALSE(net.blocked(i, i + 2));
  }
  EXPECT_TRUE(net.blocked(10, 900));
  EXPECT_TRUE(net.blocked(900, 10));
  EXPECT_FALSE(net.blocked(600, 900));
  // An endpoint added after the partitions is in none of them.
  const EndpointId late = net.add_endpoint("late", nullptr);
  for (EndpointId y = 0; y < kEndpoints; y += 13) {
    EXPECT_FALSE(net.blocked(late, y));
    EXPECT_FALSE(net.blocked(y, late));
  }
  const EndpointId with_late[] = {late};
  const EndpointId zero[] = {0};
  net.partition(with_late, zero, /*one_way=*/true);
  EXPECT_TRUE(net.blocked(late, 0));
  EXPECT_FALSE(net.blocked(0, late));
  EXPECT_TRUE(net.blocked(69, 70));  // the re-layout kept the old rules
}

TEST(NetworkTest, DownEndpointsDropAtSendAndAtDelivery) {
  Fixture f(1, constant_link(10'000), 3);
  f.net.set_down(1, true);
  EXPECT_TRUE(f.net.is_down(1));
  EXPECT_FALSE(f.send(1, 0, 10));  // sender down
  EXPECT_FALSE(f.send(0, 1, 10));  // receiver down
  EXPECT_EQ(f.net.stats().dropped_down, 2u);
  f.net.set_down(1, false);
  EXPECT_FALSE(f.net.is_down(1));
  ASSERT_TRUE(f.send(0, 1, 10, 1));  // receiver goes down while it flies
  ASSERT_TRUE(f.send(0, 2, 10, 2));  // receiver goes down and comes back before arrival
  f.sim.at(5000, [&] {
    f.net.set_down(1, true);
    f.net.set_down(2, true);
  });
  f.sim.at(7000, [&] { f.net.set_down(2, false); });
  f.sim.run_until(1'000'000);
  ASSERT_EQ(f.trace.size(), 1u);
  EXPECT_EQ(f.trace[0].request_id, 2u);
  EXPECT_EQ(f.net.stats().dropped_down, 3u);
  EXPECT_EQ(f.net.stats().delivered, 1u);
  EXPECT_EQ(f.net.in_flight(), 0u);
}

TEST(NetworkTest, StatsCountersAreExactInAScriptedCase) {
  Fixture f(1, constant_link(10'000), 4);
  constexpr EndpointId a = 0, b = 1, c = 2, d = 3;
  LinkConfig lossy = constant_link(10'000);
  lossy.loss = 1.0;
  f.net.set_link(a, c, lossy);
  LinkConfig doubling = constant_link(10'000);
  doubling.duplicate = 1.0;
  f.net.set_link(b, a, doubling);
  EXPECT_TRUE(f.send(a, b, 100));    // delivered
  EXPECT_FALSE(f.send(a, c, 200));   // lost
  EXPECT_TRUE(f.send(b, a, 300));    // delivered twice
  const EndpointId cs[] = {c};
  const EndpointId ds[] = {d};
  f.net.partition(cs, ds, /*one_way=*/true);
  EXPECT_FALSE(f.send(c, d, 400));   // partition
  EXPECT_TRUE(f.send(d, c, 500));    // delivered
  f.net.set_down(d, true);
  EXPECT_FALSE(f.send(a, d, 600));   // receiver down
  EXPECT_FALSE(f.send(d, a, 700));   // sender down
  f.net.set_down(d, false);
  EXPECT_TRUE(f.send(a, d, 800));    // dropped at delivery
  EXPECT_EQ(f.net.in_flight(), 5u);
  f.sim.at(5000, [&] { f.net.set_down(d, true); });
  f.sim.run_until(1'000'000);
  const NetworkStats& s = f.net.stats();
  EXPECT_EQ(s.sent, 8u);
  EXPECT_EQ(s.sent_bytes, 3600u);
  EXPECT_EQ(s.delivered, 4u);
  EXPECT_EQ(s.delivered_bytes, 1200u);  // 100 + 300 + 300 + 500
  EXPECT_EQ(s.dropped_loss, 1u);
  EXPECT_EQ(s.dropped_partition, 1u);
  EXPECT_EQ(s.dropped_down, 3u);
  EXPECT_EQ(s.duplicated, 1u);
  EXPECT_EQ(s.reordered, 0u);
  EXPECT_EQ(f.net.in_flight(), 0u);
  const std::vector<Delivery> expected = {
      {10'000, a, b, 0, 0},
      {10'000, b, a, 0, 0},
      {10'000, d, c, 0, 0},
      {10'001, b, a, 0, 0},
  };
  EXPECT_EQ(f.trace, expected);
}

// Mixed traffic on all 12 links among four endpoints, every feature on.
std::vector<Delivery> mixed_trace(std::uint64_t seed) {
  LinkConfig c;
  c.latency = Distribution::uniform(10'000, 500'000);
  c.bandwidth_bytes_per_s = 1e8;
  c.loss = 0.05;
  c.duplicate = 0.05;
  c.reorder = 0.05;
  c.reorder_delay_ns = 200'000;
  Fixture f(seed, c, 4);
  for (std::uint64_t i = 0; i < 3000; ++i) {
    const auto from = static_cast<EndpointId>(i % 4);
    const auto to = static_cast<EndpointId>((from + 1 + (i / 4) % 3) % 4);
    f.send_at(static_cast<TimeNs>(i) * 1000, from, to, static_cast<std::uint32_t>(100 + i % 900), i);
  }
  f.sim.run_until(1'000'000'000);
  EXPECT_EQ(f.sim.rejected(), 0u);
  return f.trace;
}

TEST(NetworkTest, SameSeedGivesIdenticalTracesAndAnotherSeedDiffers) {
  const std::vector<Delivery> first = mixed_trace(2024);
  const std::vector<Delivery> second = mixed_trace(2024);
  const std::vector<Delivery> other = mixed_trace(2025);
  ASSERT_GT(first.size(), 2500u);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other);
}

TEST(NetworkTest, TrafficOnOneLinkDoesNotChangeAnotherLinksDeliveries) {
  LinkConfig c;
  c.latency = Distribution::exponential(200'000);
  c.bandwidth_bytes_per_s = 1e7;
  c.loss = 0.1;
  c.duplicate = 0.1;
  c.reorder = 0.1;
  const auto run = [&](bool crowd) {
    Fixture f(99, c, 3);
    for (std::uint64_t i = 0; i < 2000; ++i) {
      const auto t = static_cast<TimeNs>(i) * 50'000;
      if (crowd) {  // same sender, same receiver, reverse direction: all other links
        f.send_at(t, 0, 2, 1500, 1'000'000 + i);
        f.send_at(t, 2, 1, 1500, 2'000'000 + i);
        f.send_at(t, 1, 0, 1500, 3'000'000 + i);
      }
      f.send_at(t, 0, 1, 500, i);
      if (crowd) f.send_at(t + 1, 2, 1, 700, 4'000'000 + i);
    }
    f.sim.run_until(10'000'000'000);
    std::vector<Delivery> link01;
    for (const Delivery& d : f.trace) {
      if (d.from == 0 && d.to == 1) link01.push_back(d);
    }
    return std::make_pair(link01, f.trace.size());
  };
  const auto [alone, alone_total] = run(false);
  const auto [crowded, crowded_total] = run(true);
  ASSERT_GT(alone.size(), 1500u);
  EXPECT_GT(crowded_total, 4 * alone_total);
  EXPECT_EQ(alone, crowded);
}

TEST(NetworkTest, ALossFreeLinkUsesItsStreamForLatencyOnly) {
  constexpr std::uint64_t kSeed = 31;
  LinkConfig c;
  c.latency = Distribution::uniform(1000, 1'000'000);
  Fixture f(kSeed, c, 3);
  // Sent one at a time, so the FIFO bound never binds.
  for (std::uint64_t i = 0; i < 100; ++i) f.send_at(static_cast<TimeNs>(i) * 10'000'000, 2, 1, 10, i);
  f.sim.run_until(10'000'000'000);
  ASSERT_EQ(f.trace.size(), 100u);
  core::SeededRandom expected(Simulator::stream_seed(kSeed, StreamKind::kLink, Simulator::link_index(2, 1)));
  for (const Delivery& d : f.trace) EXPECT_EQ(d.time_ns - d.sent_ns, c.latency.sample_int(expected));
}

TEST(NetworkTest, LognormalLatencyHasTheConfiguredMedianAndP99) {
  LinkConfig c;
  c.latency = Distribution::lognormal(200'000, 2'000'000);
  Simulator sim(Simulator::Options{.seed = 8});
  Network net(sim, c);
  constexpr std::size_t kMessages = 200'000;
  std::vector<TimeNs> latencies;
  latencies.reserve(kMessages);
  const EndpointId a = net.add_endpoint("a", nullptr);
  const EndpointId b =
      net.add_endpoint("b", [&](const Message& m) { latencies.push_back(sim.now() - m.sent_ns); });
  for (std::size_t i = 0; i < kMessages; ++i) {  // one at a time: the FIFO bound never binds
    Message m;
    m.from = a;
    m.to = b;
    m.bytes = 100;
    ASSERT_TRUE(net.send(m));
    ASSERT_TRUE(sim.run_next());
  }
  ASSERT_EQ(latencies.size(), kMessages);
  auto at_rank = [&](std::size_t rank) {
    std::nth_element(latencies.begin(), latencies.begin() + static_cast<std::ptrdiff_t>(rank), latencies.end());
    return static_cast<double>(latencies[rank]);
  };
  const double median = at_rank(kMessages / 2);
  const double p99 = at_rank(kMessages * 99 / 100 - 1);
  EXPECT_NEAR(median / 200'000.0, 1.0, 0.05) << median;
  EXPECT_NEAR(p99 / 2'000'000.0, 1.0, 0.05) << p99;
}

TEST(NetworkTest, AHandlerReplyMakesTheRoundTripTheSumOfBothLatencies) {
  Simulator sim;
  Network net(sim, constant_link(1'000'000));
  std::vector<TimeNs> replies;
  int rounds = 0;
  const EndpointId a = net.add_endpoint("a", nullptr);
  const EndpointId b = net.add_endpoint("b", nullptr);
  net.set_link(a, b, constant_link(30'000));
  net.set_link(b, a, constant_link(70'000));
  net.set_handler(b, [&](const Message& m) {
    Message reply = m;
    reply.from = b;
    reply.to = a;
    EXPECT_TRUE(net.send(reply));
  });
  net.set_handler(a, [&](const Message& m) {
    replies.push_back(sim.now());
    EXPECT_EQ(sim.now() - m.sent_ns, 70'000);  // the reply's own stamp
    if (++rounds < 10) {
      Message again = m;
      again.from = a;
      again.to = b;
      EXPECT_TRUE(net.send(again));
    }
  });
  sim.at(1000, [&] {
    Message m;
    m.from = a;
    m.to = b;
    m.bytes = 64;
    net.send(m);
  });
  sim.run_until(1'000'000'000);
  ASSERT_EQ(replies.size(), 10u);
  for (std::size_t i = 0; i < replies.size(); ++i) EXPECT_EQ(replies[i], 1000 + 100'000 * static_cast<TimeNs>(i + 1));
  EXPECT_EQ(net.stats().delivered, 20u);
}

TEST(NetworkTest, HandlersMayChangeTheNetworkWhileTheyRun) {
  Simulator sim;
  Network net(sim, constant_link(1000));
  std::vector<std::string> log;
  const EndpointId a = net.add_endpoint("a", [&](const Message& m) { log.push_back("a<" + std::to_string(m.request_id)); });
  const EndpointId b = net.add_endpoint("b", nullptr);
  EndpointId late = 0;
  const auto reply = [&](std::uint64_t id) {
    Message r;
    r.from = b;
    r.to = a;
    r.bytes = 10;
    r.request_id = id;
    return net.send(r);
  };
  net.set_handler(b, [&](const Message& m) {
    switch (m.request_id) {
      case 1:
        net.set_down(a, true);
        EXPECT_FALSE(reply(1));  // receiver down
        net.set_down(a, false);
        EXPECT_TRUE(reply(11));
        break;
      case 2: {
        const EndpointId from[] = {b};
        const EndpointId to[] = {a};
        net.partition(from, to, /*one_way=*/true);
        EXPECT_FALSE(reply(2));  // blocked
        net.heal();
        EXPECT_TRUE(reply(12));
        break;
      }
      case 3: {
        // Replace the running handler, add an endpoint, and message it.
        net.set_handler(b, [&](const Message& n) { log.push_back("b2<" + std::to_string(n.request_id)); });
        late = net.add_endpoint("late", [&](const Message& n) { log.push_back("late<" + std::to_string(n.request_id)); });
        Message x;
        x.from = b;
        x.to = late;
        x.bytes = 10;
        x.request_id = 13;
        EXPECT_TRUE(net.send(x));
        log.push_back("b<3 done");  // the old handler still runs to its end
        break;
      }
      default:
        log.push_back("old b<" + std::to_string(m.request_id));
    }
  });
  for (std::uint64_t id = 1; id <= 4; ++id) {
    sim.at(static_cast<TimeNs>(id) * 100'000, [&net, a, b, id] {
      Message m;
      m.from = a;
      m.to = b;
      m.bytes = 10;
      m.request_id = id;
      net.send(m);
    });
  }
  sim.run_until(1'000'000);
  const std::vector<std::string> expected = {"a<11", "a<12", "b<3 done", "late<13", "b2<4"};
  EXPECT_EQ(log, expected);
  EXPECT_EQ(late, 2u);
  EXPECT_EQ(net.stats().dropped_down, 1u);
  EXPECT_EQ(net.stats().dropped_partition, 1u);
}

TEST(NetworkTest, SetLinkOverridesOneDirectionAndKeepsTheLinkState) {
  Fixture f(1, constant_link(100'000), 3);
  EXPECT_EQ(f.net.link(0, 1).latency.a, 100'000);
  ASSERT_TRUE(f.send(0, 1, 10, 1));  // arrives at 100 us; FIFO bound now 100 us
  f.net.set_link(0, 1, constant_link(10'000));
  EXPECT_EQ(f.net.link(0, 1).latency.a, 10'000);
  EXPECT_EQ(f.net.link(1, 0).latency.a, 100'000);  // the other direction keeps the default
  ASSERT_TRUE(f.send(0, 1, 10, 2));  // would arrive at 10 us; FIFO holds it to 100 us
  f.send_at(200'000, 0, 1, 10, 3);   // 210 us
  ASSERT_TRUE(f.send(1, 0, 10, 4));  // default: 100 us
  // The default changes every link without an override, created or not.
  LinkConfig slow = constant_link(500'000);
  f.sim.at(300'000, [&] {
    f.net.set_default_link(slow);
    f.send(1, 0, 10, 5);  // link created before: 800 us
    f.send(2, 0, 10, 6);  // new link: 800 us
    f.send(0, 1, 10, 7);  // override: 310 us
  });
  f.sim.run_until(10'000'000);
  EXPECT_EQ(f.net.link(1, 0).latency.a, 500'000);
  EXPECT_EQ(f.net.link(0, 1).latency.a, 10'000);
  const std::vector<Delivery> expected = {
      {100'000, 0, 1, 1, 0},
      {100'000, 0, 1, 2, 0},
      {100'000, 1, 0, 4, 0},
      {210'000, 0, 1, 3, 200'000},
      {310'000, 0, 1, 7, 300'000},
      {800'000, 1, 0, 5, 300'000},
      {800'000, 2, 0, 6, 300'000},
  };
  EXPECT_EQ(f.trace, expected);
}

TEST(NetworkTest, AFullEventQueueRefusesTheDeliveryAndHoldsNothing) {
  Simulator sim(Simulator::Options{.max_pending = 1});
  LinkConfig c = constant_link(1000);
  c.duplicate = 1.0;
  Network net(sim, c);
  int calls = 0;
  net.add_endpoint("a", nullptr);
  net.add_endpoint("b", [&](const Message&) { ++calls; });
  Message m;
  m.from = 0;
  m.to = 1;
  m.bytes = 10;
  EXPECT_TRUE(net.send(m));   // the original fits, its copy does not
  EXPECT_FALSE(net.send(m));  // nothing fits
  EXPECT_EQ(sim.rejected(), 2u);
  EXPECT_EQ(net.in_flight(), 1u);
  EXPECT_EQ(net.stats().duplicated, 0u);
  sim.run_until(1'000'000);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(net.in_flight(), 0u);
  EXPECT_TRUE(net.send(m));  // the refused slots were returned: room again
}

TEST(NetworkTest, DestroyingTheNetworkCancelsItsPendingDeliveries) {
  Simulator sim;
  int calls = 0;
  {
    Network net(sim, constant_link(1000));
    net.add_endpoint("a", nullptr);
    net.add_endpoint("b", [&](const Message&) { ++calls; });
    Message m;
    m.from = 0;
    m.to = 1;
    m.bytes = 10;
    ASSERT_TRUE(net.send(m));
    ASSERT_TRUE(net.send(m));
    EXPECT_EQ(sim.pending(), 2u);
  }
  EXPECT_EQ(sim.pending(), 0u);
  sim.run_until(1'000'000);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace hcsim::sim
