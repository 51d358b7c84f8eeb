// The cluster coordinator's interfaces: membership (who is in the cluster),
// routing (which node owns a key) and the coordinator service that ties them
// to an event bus and a Lamport clock. SimpleCoordinator (one node, no
// network) and DistributedCoordinator (SWIM over a Transport) implement them.
// Errors come back as Status; nothing throws. Single-threaded, like the buses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/cluster/event_bus.h"
#include "core/cluster/events.h"
#include "core/cluster/lamport_clock.h"
#include "core/ring/distribution.h"
#include "core/ring/hash_ring.h"
#include "core/runtime/clock.h"
#include "core/runtime/transport.h"
#include "core/util/status.h"

namespace hcsim::core::cluster {

struct MembershipMetrics {
  std::size_t total = 0;
  std::size_t healthy = 0;  // alive
  std::size_t suspected = 0;
  std::size_t failed = 0;         // dead
  std::size_t left = 0;           // leaving or left
  TimeNs cluster_age_ns = 0;      // since this node started (0 when not running)
  TimeNs last_event_ns = 0;       // time of the last membership event; 0 before any
  std::uint64_t event_count = 0;  // membership events published
};

class MembershipProvider {
 public:
  virtual ~MembershipProvider() = default;
  virtual Status join(std::span<const TransportAddress> seeds) = 0;
  virtual Status leave() = 0;
  virtual std::vector<Member> members() const = 0;  // sorted by node_id
  virtual std::optional<Member> member(std::string_view id) const = 0;
  // Replaces the local member's metadata (normalize_metadata's rules).
  virtual Status update_metadata(Metadata metadata) = 0;
  // Empty `types` means every type; 0 on failure (see EventBus::subscribe).
  virtual SubscriptionId subscribe(std::vector<MembershipEventType> types,
                                   std::function<void(const MembershipEvent&)> handler) = 0;
  virtual bool unsubscribe(SubscriptionId id) = 0;
  virtual MembershipMetrics metrics() const = 0;
  virtual bool healthy() const = 0;
  virtual std::vector<Member> alive_nodes() const = 0;  // sorted by node_id
};

class RoutingProvider {
 public:
  virtual ~RoutingProvider() = default;
  // The primary owner; nullopt when no node is alive.
  virtual std::optional<std::string> route_key(std::string_view key) const = 0;
  // The first `count` distinct alive nodes clockwise, primary first.
  virtual std::vector<std::string> replicas(std::string_view key, std::size_t count) const = 0;
  // The local node is the primary.
  virtual bool is_local(std::string_view key) const = 0;
  // The local node is among the first replication_factor replicas.
  virtual bool is_replica(std::string_view key) const = 0;
  // The keys (in their given order) whose primary is `node`.
  virtual std::vector<std::string> keys_for_node(std::string_view node, std::span<const std::string> keys) const = 0;
  virtual DistributionStats analyze_distribution(std::span<const std::string> keys) const = 0;
  virtual RingMetrics ring_metrics() const = 0;
};

struct CoordinatorHealth {
  bool healthy = false;
  std::string local_node_id;
  std::size_t cluster_size = 0;
  bool connected_to_seeds = false;
  TimeNs last_heartbeat_ns = 0;
  TimeNs uptime_ns = 0;  // 0 when not running
  std::vector<std::string> issues;
};

struct CoordinatorMetrics {
  MembershipMetrics membership;
  RingMetrics ring;
  EventBusMetrics event_bus;       // the cluster event bus
  EventBusMetrics membership_bus;  // the membership event bus
  TimeNs uptime_ns = 0;
  TimeNs start_time_ns = 0;  // of the last start(); 0 before any
};

class CoordinatorService {
 public:
  virtual ~CoordinatorService() = default;
  virtual Status start() = 0;
  virtual Status stop() = 0;  // idempotent
  virtual const std::string& local_node_id() const = 0;
  virtual MembershipProvider& membership() = 0;
  virtual RoutingProvider& routing() = 0;
  virtual ClusterEventBus& event_bus() = 0;
  // One clock per coordinator: the same object on every call.
  virtual LamportClock& clock() = 0;
  // Publishes rebalance_started from the local node.
  virtual Status trigger_rebalance() = 0;
  virtual CoordinatorHealth health() const = 0;
  virtual CoordinatorMetrics metrics() const = 0;
};

}  // namespace hcsim::core::cluster
