#include "core/cluster/simple_coordinator.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace hcsim::core::cluster {

Result<std::unique_ptr<SimpleCoordinator>> SimpleCoordinator::create(ClusterConfig config, const Clock& clock,
                                                                     Timers& timers, EventBusOptions bus_options) {
  if (Status s = validate_cluster_config(config); !s.is_ok()) return s;
  // validate_cluster_config checked the ring config, so HashRing cannot throw.
  return std::unique_ptr<SimpleCoordinator>(new SimpleCoordinator(std::move(config), clock, timers, bus_options));
}

SimpleCoordinator::SimpleCoordinator(ClusterConfig config, const Clock& clock, Timers& timers,
                                     EventBusOptions bus_options)
    : config_(std::move(config)),
      clock_(clock),
      timers_(timers),
      ring_(config_.hash_ring, &clock),
      routing_(ring_, config_.node_id, config_.hash_ring.replication_factor),
      cluster_bus_(clock, timers, bus_options),
      membership_bus_(clock, timers, bus_options),
      membership_(*this),
      last_heartbeat_ns_(clock.now()) {}

SimpleCoordinator::~SimpleCoordinator() {
  if (heartbeat_timer_ != 0) timers_.cancel(heartbeat_timer_);
}

Status SimpleCoordinator::start() {
  if (running_) return Status::error("coordinator already running");
  if (Status s = ring_.add_node(config_.node_id, config_.bind_address, static_cast<int>(config_.bind_port));
      !s.is_ok()) {
    return Status::error(fmt::format("failed to add local node to ring: {}", s.message()));
  }
  const TimeNs now = clock_.now();
  heartbeat_timer_ = timers_.schedule(config_.heartbeat_interval_ns, [this] { on_heartbeat(); });
  if (heartbeat_timer_ == 0) {
    (void)ring_.remove_node(config_.node_id);
    return Status::error("failed to schedule the heartbeat");
  }
  running_ = true;
  start_time_ns_ = now;
  last_heartbeat_ns_ = now;
  if (const std::optional<NodeInfo> local = ring_.node(config_.node_id)) {
    publish_membership(MembershipEventType::kJoined, member_from(*local));
  }
  return Status::ok();
}

Status SimpleCoordinator::stop() {
  if (!running_) return Status::ok();
  running_ = false;
  if (heartbeat_timer_ != 0) timers_.cancel(heartbeat_timer_);
  heartbeat_timer_ = 0;
  if (const std::optional<NodeInfo> local = ring_.node(config_.node_id)) {
    Member left = member_from(*local);
    left.status = NodeStatus::kLeaving;
    publish_membership(MembershipEventType::kLeft, std::move(left));
  }
  (void)ring_.remove_node(config_.node_id);  // it may already be gone: nothing to undo
  cluster_bus_.close();
  membership_bus_.drain_and_close();
  return Status::ok();
}

void SimpleCoordinator::on_heartbeat() {
  heartbeat_timer_ = 0;
  last_heartbeat_ns_ = clock_.now();
  if (!running_) return;
  // If Timers refuses, the heartbeat stops and health() reports the timeout.
  heartbeat_timer_ = timers_.schedule(config_.heartbeat_interval_ns, [this] { on_heartbeat(); });
}

Status SimpleCoordinator::trigger_rebalance() {
  if (!running_) return Status::error("coordinator not running");
  const std::uint64_t lamport = lamport_.tick();
  ClusterEvent event;
  event.type = ClusterEventType::kRebalanceStarted;
  event.node_id = config_.node_id;
  event.correlation_id = fmt::format("{}-rebalance-{}", config_.node_id, lamport);
  event.timestamp_ns = clock_.now();
  return cluster_bus_.publish(std::move(event));
}

CoordinatorHealth SimpleCoordinator::health() const {
  CoordinatorHealth h;
  const TimeNs now = clock_.now();
  h.local_node_id = config_.node_id;
  h.cluster_size = ring_.node_count();
  h.connected_to_seeds = true;  // a single node has no seeds to lose
  h.last_heartbeat_ns = last_heartbeat_ns_;
  h.uptime_ns = running_ ? now - start_time_ns_ : 0;
  const bool beating = now - last_heartbeat_ns_ < config_.failure_detection_timeout_ns;
  if (!running_) h.issues.emplace_back("coordinator not running");
  if (!beating) h.issues.emplace_back("heartbeat timeout");
  if (h.cluster_size == 0) h.issues.emplace_back("no nodes in cluster");
  h.healthy = running_ && beating && h.cluster_size > 0;
  return h;
}

CoordinatorMetrics SimpleCoordinator::metrics() const {
  CoordinatorMetrics m;
  m.membership = membership_.metrics();
  m.ring = ring_.metrics();
  m.event_bus = cluster_bus_.metrics();
  m.membership_bus = membership_bus_.metrics();
  m.uptime_ns = running_ ? clock_.now() - start_time_ns_ : 0;
  m.start_time_ns = start_time_ns_;
  return m;
}

Member SimpleCoordinator::member_from(const NodeInfo& node) const {
  Member m;
  m.node_id = node.id;
  m.status = node.status;
  if (node.id == config_.node_id) {
    m.metadata = metadata_;
    m.last_seen_ns = last_heartbeat_ns_;
    m.joined_at_ns = start_time_ns_;
  } else {
    m.last_seen_ns = node.last_seen_ns;
  }
  return m;
}

void SimpleCoordinator::publish_membership(MembershipEventType type, Member member) {
  MembershipEvent event;
  event.type = type;
  event.member = std::move(member);
  event.timestamp_ns = clock_.now();
  // Only a refusal by Timers can fail here; the bus counts it as dropped.
  (void)membership_bus_.publish(std::move(event));
}

// --- Membership facade ---

Status SimpleCoordinator::Membership::join(std::span<const TransportAddress> /*seeds*/) { return Status::ok(); }

Status SimpleCoordinator::Membership::leave() { return owner_.stop(); }

std::vector<Member> SimpleCoordinator::Membership::members() const {
  std::vector<Member> out;
  for (const NodeInfo& node : owner_.ring_.nodes()) out.push_back(owner_.member_from(node));  // sorted by id
  return out;
}

std::optional<Member> SimpleCoordinator::Membership::member(std::string_view id) const {
  const std::optional<NodeInfo> node = owner_.ring_.node(id);
  if (!node) return std::nullopt;
  return owner_.member_from(*node);
}

Status SimpleCoordinator::Membership::update_metadata(Metadata metadata) {
  Result<Metadata> normalized = normalize_metadata(std::move(metadata));
  if (!normalized.is_ok()) return normalized.status();
  owner_.metadata_ = std::move(normalized).value();
  if (owner_.running_) {
    if (const std::optional<NodeInfo> local = owner_.ring_.node(owner_.config_.node_id)) {
      owner_.publish_membership(MembershipEventType::kUpdated, owner_.member_from(*local));
    }
  }
  return Status::ok();
}

SubscriptionId SimpleCoordinator::Membership::subscribe(std::vector<MembershipEventType> types,
                                                        std::function<void(const MembershipEvent&)> handler) {
  return owner_.membership_bus_.subscribe(std::move(types), std::move(handler));
}

bool SimpleCoordinator::Membership::unsubscribe(SubscriptionId id) { return owner_.membership_bus_.unsubscribe(id); }

MembershipMetrics SimpleCoordinator::Membership::metrics() const {
  const RingMetrics ring = owner_.ring_.metrics();
  const EventBusMetrics bus = owner_.membership_bus_.metrics();
  MembershipMetrics m;
  m.total = ring.total_nodes;
  m.healthy = ring.alive_nodes;
  m.suspected = ring.suspected_nodes;
  m.failed = ring.dead_nodes;
  m.left = ring.leaving_nodes;
  m.cluster_age_ns = owner_.running_ ? owner_.clock_.now() - owner_.start_time_ns_ : 0;
  m.last_event_ns = bus.last_event_time_ns;
  m.event_count = bus.published;
  return m;
}

bool SimpleCoordinator::Membership::healthy() const { return owner_.health().healthy; }

std::vector<Member> SimpleCoordinator::Membership::alive_nodes() const {
  std::vector<Member> out = members();
  std::erase_if(out, [](const Member& m) { return m.status != NodeStatus::kAlive; });
  return out;
}

}  // namespace hcsim::core::cluster
