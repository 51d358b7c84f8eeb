// The simulated network: numbered endpoints (nodes and clients) joined by
// directed links, each with a latency distribution, a bandwidth (a message of
// B bytes holds the link for B / bandwidth; a link is FIFO), loss,
// duplication and reordering, plus partitions (symmetric or one-way) and
// endpoints that are down. Messages carry a real size in bytes. Every random
// draw of a link comes from its own stream, derived from the scenario seed
// and the link's endpoints, so results do not depend on traffic elsewhere.
//
// Per message, in this order (part of the reproducibility contract):
//  1. sender or receiver down -> dropped_down; blocked by a partition ->
//     dropped_partition. No random draw, no link state is touched.
//  2. Draws from the link's stream sim.stream(kLink, link_index(from, to)),
//     each skipped when its probability is 0 (so a loss-free, duplicate-free,
//     reorder-free link's stream feeds its latency only):
//       loss: unit() < loss -> dropped_loss;
//       latency: config.latency.sample_int (ns);
//       duplicate: unit() < duplicate;
//       reorder: unit() < reorder, then if reordered and reorder_delay_ns > 0
//       the hold-back uniform(reorder_delay_ns + 1), in [0, reorder_delay_ns].
//  3. Timing: tx = ceil(bytes * 1e9 / bandwidth) ns (0 if unlimited);
//     start = max(now, free_at); free_at = start + tx;
//     in order: arrival = max(start + tx + latency, last_delivery), and
//       last_delivery = arrival (equal arrivals run in send order);
//     reordered: arrival = start + tx + latency + hold-back, ignoring and
//       leaving last_delivery.
//     A duplicate is a second copy at arrival + 1 ns; it does not move
//     last_delivery. Times saturate at the largest TimeNs.
//  4. At arrival: receiver down now -> dropped_down; else delivered and its
//     handler runs (an endpoint without a handler counts as delivered).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "core/runtime/random.h"
#include "sim/engine/distribution.h"
#include "sim/engine/simulator.h"

namespace hcsim::sim {

using EndpointId = std::uint32_t;

// What the network carries. It never reads the fields after `bytes`: they are
// the protocol's (see cluster/), copied to the receiver as they were sent.
struct Message {
  EndpointId from = 0;
  EndpointId to = 0;
  std::uint32_t bytes = 0;    // size on the wire, > 0
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::uint64_t request_id = 0;
  std::uint64_t key = 0;      // the workload's key index
  std::uint64_t value_bytes = 0;
  std::int64_t sent_ns = 0;   // stamped by send()
  std::uint64_t aux = 0;
};

struct LinkConfig {
  Distribution latency = Distribution::constant(100'000);  // ns, one way
  double bandwidth_bytes_per_s = 0.0;  // 0: unlimited
  double loss = 0.0;                   // probability a message is dropped
  double duplicate = 0.0;              // probability a message is delivered twice
  double reorder = 0.0;                // probability a message skips the FIFO order...
  TimeNs reorder_delay_ns = 1'000'000; // ...and is held back by up to this long, uniformly
};

struct NetworkStats {
  std::uint64_t sent = 0;              // send() calls
  std::uint64_t sent_bytes = 0;
  std::uint64_t delivered = 0;         // handler calls (duplicates included)
  std::uint64_t delivered_bytes = 0;
  std::uint64_t dropped_loss = 0;
  std::uint64_t dropped_partition = 0; // blocked by a partition at send time
  std::uint64_t dropped_down = 0;      // sender or receiver down (at send or at delivery)
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
};

class Network {
 public:
  using Handler = std::function<void(const Message&)>;

  // Most partition() calls in force at once (until heal()): bounds the
  // per-endpoint membership bits at kMaxPartitions / 64 words per side.
  static constexpr std::size_t kMaxPartitions = 4096;

  // `sim` must outlive the network. Links not configured otherwise use
  // `default_link`. Destroying the network cancels its deliveries still
  // pending in `sim`.
  Network(Simulator& sim, LinkConfig default_link);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;
  ~Network();

  // Endpoints are numbered 0, 1, ... in the order they are added. Handlers
  // may add endpoints and may replace any handler, their own included (that
  // one takes effect when the running call returns).
  EndpointId add_endpoint(std::string name, Handler handler);
  void set_handler(EndpointId id, Handler handler);
  std::size_t endpoint_count() const { return endpoints_.size(); }
  const std::string& endpoint_name(EndpointId id) const { return endpoints_[id].name; }

  // Per-direction link settings; `set_link` replaces from -> to only. A link
  // that already carried traffic keeps its state (bandwidth and FIFO times,
  // random stream) and applies the new config to messages sent from now on.
  // `link` returns the override if any, else the default.
  void set_link(EndpointId from, EndpointId to, const LinkConfig& config);
  const LinkConfig& link(EndpointId from, EndpointId to) const;
  void set_default_link(const LinkConfig& config);  // every link without an override

  // A down endpoint neither sends nor receives: its messages are dropped at
  // send time, and messages in flight to it are dropped at delivery.
  void set_down(EndpointId id, bool down);
  bool is_down(EndpointId id) const { return down_[id] != 0; }

  // Blocks every message from a member of `a` to a member of `b`, and from
  // `b` to `a` unless `one_way`. Partitions add up; heal() removes them all.
  // Messages already in flight are delivered. Cost: partition() is
  // O(|a| + |b|) (plus a re-layout every 64 partitions); blocked() is one
  // branch with no partition, else O(partitions / 64) word tests.
  void partition(std::span<const EndpointId> a, std::span<const EndpointId> b, bool one_way);
  void heal();
  bool blocked(EndpointId from, EndpointId to) const {
    return partitions_ != 0 && blocked_slow(from, to);
  }
  std::size_t partition_count() const { return partitions_; }

  // Sends `message` (from, to and bytes set by the caller; bytes > 0). The
  // receiver's handler runs at the delivery time. Returns false if the
  // message was dropped at send time (down, partition or loss), or if the
  // simulator refused the delivery event (full queue: see sim.rejected()).
  bool send(Message message);
  // The same with opaque payload bytes (a protocol's encoded message: the
  // runtime seam's Transport uses it). `message.bytes` is still the size on
  // the wire; a duplicate carries its own copy of the payload.
  bool send(Message message, std::string payload);
  // The payload of the message whose handler is running; empty outside a
  // handler or for a message sent without one. Valid until the handler returns.
  std::string_view payload() const { return current_payload_; }

  const NetworkStats& stats() const { return stats_; }
  std::size_t in_flight() const { return in_flight_; }  // copies awaiting delivery

 private:
  static constexpr EndpointId kNoEndpoint = std::numeric_limits<EndpointId>::max();

  struct Endpoint {
    std::string name;
    Handler handler;
  };
  struct LinkState {
    core::SeededRandom random;
    TimeNs free_at_ns = 0;       // when the link's bandwidth is next free
    TimeNs last_delivery_ns = 0; // FIFO: no in-order message arrives before this
    const LinkConfig* config = nullptr;  // an entry of link_configs_, or &default_link_
  };
  struct Slot {
    Message message;
    EventId event = kInvalidEventId;  // the pending delivery; 0 when the slot is free
    std::string payload;
  };

  LinkState& state(EndpointId from, EndpointId to);
  bool blocked_slow(EndpointId from, EndpointId to) const;
  void set_words(std::size_t words);
  // Holds a copy of `m` and schedules its delivery at `arrival_ns`; false
  // (holding nothing) if the simulator refuses the event.
  bool schedule_delivery(const Message& m, TimeNs arrival_ns, const std::string& payload);
  bool send_impl(Message& message, const std::string& payload);
  std::string current_payload_;
  void deliver(std::uint32_t slot);

  Simulator& sim_;
  LinkConfig default_link_;
  std::deque<Endpoint> endpoints_;  // a deque: a running handler stays put while endpoints are added
  std::vector<std::uint8_t> down_;  // per endpoint
  absl::flat_hash_map<std::uint64_t, std::unique_ptr<LinkConfig>> link_configs_;  // stable addresses
  absl::flat_hash_map<std::uint64_t, LinkState> links_;

  // Partitions: rule r sets bit r of an endpoint's side_a_ / side_b_ words
  // (words_ per endpoint, endpoint-major) when the endpoint is in its `a` /
  // `b`; two_way_ has bit r unless rule r is one-way.
  std::size_t partitions_ = 0;
  std::size_t words_ = 0;
  std::vector<std::uint64_t> side_a_;
  std::vector<std::uint64_t> side_b_;
  std::vector<std::uint64_t> two_way_;

  std::vector<Slot> slots_;  // messages in flight
  std::vector<std::uint32_t> free_slots_;
  std::size_t in_flight_ = 0;

  EndpointId running_ = kNoEndpoint;  // whose handler is running
  Handler deferred_handler_;          // set_handler(running_, ...) waits here
  bool has_deferred_handler_ = false;

  NetworkStats stats_;
};

}  // namespace hcsim::sim
