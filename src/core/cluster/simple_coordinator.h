// SimpleCoordinator: the seed's single-node CoordinatorService, done right.
// It holds the local node in its own ring, beats a heartbeat through Timers,
// reports health from it, and offers the cluster and membership event buses
// (membership subscribers see `joined` for the local node on start and `left`
// on stop). No networking: join() has nobody to contact and is a no-op.
// Single-threaded; the Clock and Timers must outlive it.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/cluster/cluster_config.h"
#include "core/cluster/event_bus.h"
#include "core/cluster/interfaces.h"
#include "core/cluster/lamport_clock.h"
#include "core/cluster/ring_routing.h"
#include "core/ring/hash_ring.h"
#include "core/runtime/clock.h"
#include "core/runtime/timers.h"
#include "core/util/result.h"

namespace hcsim::core::cluster {

class SimpleCoordinator final : public CoordinatorService {
 public:
  // Fails with validate_cluster_config's error on a bad config.
  static Result<std::unique_ptr<SimpleCoordinator>> create(ClusterConfig config, const Clock& clock, Timers& timers,
                                                           EventBusOptions bus_options = {});
  ~SimpleCoordinator() override;
  SimpleCoordinator(const SimpleCoordinator&) = delete;
  SimpleCoordinator& operator=(const SimpleCoordinator&) = delete;

  // Adds the local node to the ring, starts the heartbeat and publishes
  // `joined`. Errors: "coordinator already running", "failed to add local
  // node to ring: ...", "failed to schedule the heartbeat".
  Status start() override;
  // No-op when not running. Otherwise cancels the heartbeat, publishes
  // `left`, removes the local node from the ring, closes the cluster event
  // bus (pending deliveries dropped) and drains then closes the membership
  // bus (so `left` still reaches its subscribers). Always ok.
  Status stop() override;
  const std::string& local_node_id() const override { return config_.node_id; }
  MembershipProvider& membership() override { return membership_; }
  RoutingProvider& routing() override { return routing_; }
  ClusterEventBus& event_bus() override { return cluster_bus_; }
  LamportClock& clock() override { return lamport_; }
  // Ticks the Lamport clock and publishes rebalance_started from the local
  // node, correlation id "<node>-rebalance-<lamport time>". Error when not
  // running ("coordinator not running").
  Status trigger_rebalance() override;
  // Healthy = running, last heartbeat less than failure_detection_timeout ago
  // and a non-empty ring. Issues, in this order: "coordinator not running",
  // "heartbeat timeout", "no nodes in cluster".
  CoordinatorHealth health() const override;
  CoordinatorMetrics metrics() const override;

  const ClusterConfig& config() const { return config_; }
  bool running() const { return running_; }
  const HashRing& ring() const { return ring_; }

 private:
  class Membership final : public MembershipProvider {
   public:
    explicit Membership(SimpleCoordinator& owner) : owner_(owner) {}
    // Seeds are ignored: a single node has nobody to join. Always ok.
    Status join(std::span<const TransportAddress> seeds) override;
    Status leave() override;  // = stop()
    std::vector<Member> members() const override;
    std::optional<Member> member(std::string_view id) const override;
    // Stored (normalized) and published as `updated` when running.
    Status update_metadata(Metadata metadata) override;
    SubscriptionId subscribe(std::vector<MembershipEventType> types,
                             std::function<void(const MembershipEvent&)> handler) override;
    bool unsubscribe(SubscriptionId id) override;
    MembershipMetrics metrics() const override;
    bool healthy() const override;
    std::vector<Member> alive_nodes() const override;

   private:
    SimpleCoordinator& owner_;
  };

  SimpleCoordinator(ClusterConfig config, const Clock& clock, Timers& timers, EventBusOptions bus_options);
  Member member_from(const NodeInfo& node) const;
  void on_heartbeat();
  void publish_membership(MembershipEventType type, Member member);

  const ClusterConfig config_;
  const Clock& clock_;
  Timers& timers_;
  HashRing ring_;
  RingRouting routing_;
  LamportClock lamport_;
  ClusterEventBus cluster_bus_;
  MembershipEventBus membership_bus_;
  Membership membership_;
  Metadata metadata_;
  bool running_ = false;
  TimeNs start_time_ns_ = 0;
  TimeNs last_heartbeat_ns_ = 0;
  TimerId heartbeat_timer_ = 0;
};

}  // namespace hcsim::core::cluster
