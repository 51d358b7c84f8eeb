// DistributedCoordinator: the multi-node CoordinatorService. SWIM membership
// (swim_membership.h) over the injected Transport drives this node's own
// ring: a member that appears is added, and alive, suspect, dead and left map
// to the ring's alive, suspected, dead and leaving statuses (only alive nodes
// own keys). Every change is published on the membership event bus (joined,
// updated, failed, left, recovered), and topology changes on the cluster bus.
// Ring changes made by one message are applied together, right after it
// (one rebuild, not one per member), through a zero-delay timer.
// Single-threaded; the runtime objects must outlive it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/cluster/cluster_config.h"
#include "core/cluster/event_bus.h"
#include "core/cluster/interfaces.h"
#include "core/cluster/lamport_clock.h"
#include "core/cluster/ring_routing.h"
#include "core/cluster/swim_membership.h"
#include "core/ring/hash_ring.h"
#include "core/util/result.h"

namespace hcsim::core::cluster {

NodeStatus ring_status(MemberState state);  // alive, suspected, dead, leaving

class DistributedCoordinator final : public CoordinatorService {
 public:
  using Runtime = SwimMembership::Runtime;
  // Synchronous hook on every member change this node sees (for measuring;
  // subscribers use the event bus).
  using MemberObserver = SwimMembership::Listener;

  // Errors: validate_cluster_config's, then validate(swim)'s.
  static Result<std::unique_ptr<DistributedCoordinator>> create(ClusterConfig config, SwimConfig swim, Runtime runtime,
                                                                EventBusOptions bus_options = {});
  ~DistributedCoordinator() override;
  DistributedCoordinator(const DistributedCoordinator&) = delete;
  DistributedCoordinator& operator=(const DistributedCoordinator&) = delete;

  void set_member_observer(MemberObserver observer) { observer_ = std::move(observer); }

  // Starts membership (a fresh incarnation), resets the ring to the local
  // node (a restart relearns the others), joins config.seed_nodes (if any),
  // starts the heartbeat and publishes topology_changed "node_started".
  // Errors: "coordinator already running", a ring error, membership's.
  Status start() override;
  // Stops at once (as a crash would: no goodbye), publishes
  // topology_changed "node_stopping", clears the ring of the local node and
  // closes the buses after delivering what is queued. Idempotent.
  Status stop() override;
  // Graceful: announces the departure, which spreads for leave_linger, then
  // stops. Error when not running.
  Status leave();
  // Members known without asking (a predefined cluster), added to the ring
  // in one rebuild. Error when not running or an id is taken.
  Status add_known_members(std::span<const std::pair<std::string, TransportAddress>> members);

  const std::string& local_node_id() const override { return config_.node_id; }
  MembershipProvider& membership() override { return membership_; }
  RoutingProvider& routing() override { return routing_; }
  ClusterEventBus& event_bus() override { return cluster_bus_; }
  LamportClock& clock() override { return lamport_; }
  Status trigger_rebalance() override;
  // Healthy = running, joined (a seed answered, or no seeds), heartbeat
  // within failure_detection_timeout and at least one alive member. Issues
  // in this order: "coordinator not running", "not joined to any seed",
  // "heartbeat timeout", "no alive members".
  CoordinatorHealth health() const override;
  CoordinatorMetrics metrics() const override;

  bool running() const { return running_; }
  const HashRing& ring() const { return ring_; }
  // The protocol engine (null before the first start).
  const SwimMembership* swim() const { return swim_.get(); }
  SwimMembership* swim() { return swim_.get(); }
  const ClusterConfig& config() const { return config_; }

 private:
  class Membership final : public MembershipProvider {
   public:
    explicit Membership(DistributedCoordinator& owner) : owner_(owner) {}
    Status join(std::span<const TransportAddress> seeds) override;
    Status leave() override { return owner_.leave(); }
    std::vector<Member> members() const override;
    std::optional<Member> member(std::string_view id) const override;
    Status update_metadata(Metadata metadata) override;
    SubscriptionId subscribe(std::vector<MembershipEventType> types,
                             std::function<void(const MembershipEvent&)> handler) override;
    bool unsubscribe(SubscriptionId id) override;
    MembershipMetrics metrics() const override;
    bool healthy() const override;
    std::vector<Member> alive_nodes() const override;

   private:
    DistributedCoordinator& owner_;
  };

  DistributedCoordinator(ClusterConfig config, SwimConfig swim, Runtime runtime, EventBusOptions bus_options);
  void on_member(const SwimMember& m, std::optional<MemberState> before);
  void flush_ring();
  void heartbeat();
  void publish_topology(std::string data);
  Member to_member(const SwimMember& m) const;

  const ClusterConfig config_;
  const SwimConfig swim_config_;
  const Runtime rt_;
  HashRing ring_;
  RingRouting routing_;
  ClusterEventBus cluster_bus_;
  MembershipEventBus membership_bus_;
  LamportClock lamport_;
  Membership membership_{*this};
  std::unique_ptr<SwimMembership> swim_;
  MemberObserver observer_;
  Metadata metadata_;
  bool running_ = false;
  TimeNs start_time_ns_ = 0;
  TimeNs last_heartbeat_ns_ = 0;
  TimerId heartbeat_timer_ = 0;
  // Ring changes waiting for the flush: new members, then status changes
  // in order.
  std::vector<std::string> pending_adds_;
  std::vector<std::pair<std::string, NodeStatus>> pending_status_;
  TimerId flush_timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards timers against destruction
};

}  // namespace hcsim::core::cluster
