#include "sim/network/sim_transport.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hcsim::sim {
namespace {

struct Received {
  core::TransportAddress from;
  std::string payload;
  TimeNs at;
};

struct Pair {
  Simulator sim{Simulator::Options{.seed = 1}};
  Network net;
  SimTransport* a = nullptr;
  SimTransport* b = nullptr;
  std::vector<std::unique_ptr<SimTransport>> owned;
  std::vector<Received> got;

  explicit Pair(LinkConfig link) : net(sim, link) {
    for (int i = 0; i < 2; ++i) {
      const EndpointId id = net.add_endpoint("n" + std::to_string(i), nullptr);
      owned.push_back(std::make_unique<SimTransport>(net, id));
      SimTransport* t = owned.back().get();
      net.set_handler(id, [t](const Message& m) { EXPECT_TRUE(t->deliver(m)); });
    }
    a = owned[0].get();
    b = owned[1].get();
    b->set_receiver([this](core::TransportAddress from, std::string_view p) {
      got.push_back({from, std::string(p), sim.now()});
    });
  }
};

TEST(SimTransport, CarriesThePayloadWithItsSizeOnTheWire) {
  Pair p(LinkConfig{.latency = Distribution::constant(1000)});
  core::Transport& t = *p.a;  // used through the seam's interface
  EXPECT_EQ(t.self(), 0u);
  EXPECT_TRUE(t.send(1, "hello"));
  EXPECT_TRUE(t.send(1, std::string("\0bin\xff", 5)));
  p.sim.run_until(10'000);
  ASSERT_EQ(p.got.size(), 2u);
  EXPECT_EQ(p.got[0].from, 0u);
  EXPECT_EQ(p.got[0].payload, "hello");
  EXPECT_EQ(p.got[0].at, 1000);
  EXPECT_EQ(p.got[1].payload, std::string("\0bin\xff", 5));
  EXPECT_EQ(p.net.stats().delivered_bytes, 2 * (SimTransport::kHeaderBytes + 5));
  EXPECT_EQ(p.b->received(), 2u);
  EXPECT_TRUE(p.net.payload().empty());  // only valid inside a handler
}

TEST(SimTransport, ADuplicateCarriesItsOwnCopy) {
  Pair p(LinkConfig{.latency = Distribution::constant(1000), .duplicate = 1.0});
  EXPECT_TRUE(p.a->send(1, "twice"));
  p.sim.run_until(10'000);
  ASSERT_EQ(p.got.size(), 2u);
  EXPECT_EQ(p.got[0].payload, "twice");
  EXPECT_EQ(p.got[1].payload, "twice");
  EXPECT_EQ(p.got[1].at, 1001);
}

TEST(SimTransport, LossDownAndUnknownAddressesRefuse) {
  Pair lossy(LinkConfig{.latency = Distribution::constant(1000), .loss = 1.0});
  EXPECT_FALSE(lossy.a->send(1, "x"));
  Pair p(LinkConfig{.latency = Distribution::constant(1000)});
  EXPECT_FALSE(p.a->send(7, "nobody"));
  p.net.set_down(1, true);
  EXPECT_FALSE(p.a->send(1, "down"));
  p.sim.run_until(10'000);
  EXPECT_TRUE(p.got.empty());
  EXPECT_TRUE(lossy.got.empty());
}

TEST(SimTransport, OtherMessagesAreNotItsOwn) {
  Pair p(LinkConfig{});
  Message m;
  m.type = 1;
  EXPECT_FALSE(p.b->deliver(m));
  EXPECT_EQ(p.b->received(), 0u);
}

}  // namespace
}  // namespace hcsim::sim
