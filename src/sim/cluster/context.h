// What the parts of one simulation run share: the engine, the network, the
// scenario, the routing view of the ring and the request metrics. Owned by
// the run (cluster_sim.cc); nodes and clients hold a reference.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/ring/ring_snapshot.h"
#include "sim/engine/simulator.h"
#include "sim/metrics/histogram.h"
#include "sim/network/network.h"
#include "sim/scenario/scenario.h"

namespace hcsim::sim {

class NodeHost;

struct RequestCounters {
  std::uint64_t requests = 0;   // replies and timeouts: requests that finished
  std::uint64_t gets = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t sets = 0;
  std::uint64_t dels = 0;
  std::uint64_t errors = 0;     // busy or failed replies
  std::uint64_t timeouts = 0;
  std::uint64_t backfills = 0;  // cache-aside SETs after a miss (also in sets)
  std::uint64_t forwards = 0;   // proxy mode: requests a node sent on to the owner
  std::uint64_t dropped_unrouted = 0;  // no node to send to

  void add(const RequestCounters& o);
};

struct ClusterContext {
  ClusterContext(const Scenario& scenario, Simulator::Options sim_options, LinkConfig default_link)
      : sc(scenario), sim(sim_options), net(sim, default_link) {}

  const Scenario& sc;
  // The scenario's modes, decided once (they are tested on every request).
  const bool proxy_routing = sc.cluster.routing == "proxy";
  const bool closed_loop = sc.workload.mode == "closed";
  // The root of the per-key value-size streams (see value_bytes_for).
  const std::uint64_t value_size_seed = Simulator::stream_seed(sc.seed, StreamKind::kOther, 2);
  Simulator sim;
  Network net;

  // The routing view: the ring that clients and nodes use, and its node
  // index -> the owner's endpoint.
  std::shared_ptr<const core::RingSnapshot> ring;
  std::vector<EndpointId> ring_endpoints;
  std::vector<EndpointId> entry_endpoints;  // of the alive ring nodes: where proxy-mode clients send
  std::vector<NodeHost*> hosts_by_endpoint;  // nullptr for clients

  RequestCounters interval;
  RequestCounters total;
  Histogram latency_interval;
  Histogram latency_total;

  // "key:<i>" in a caller's buffer (reused: no allocation once grown).
  std::string_view key_name(std::uint64_t index, std::string& buffer) const;
  // Every key has one value size, drawn from the workload's distribution by
  // a stream seeded with the key: a key's size does not depend on who sets it.
  std::uint64_t value_bytes_for(std::uint64_t key) const;
  // The owner's endpoint for a key, or nullopt on an empty ring.
  bool route(std::string_view key, EndpointId& owner) const;
};

}  // namespace hcsim::sim
