#include "core/cluster/distributed_coordinator.h"

#include <algorithm>
#include <utility>

namespace hcsim::core::cluster {

NodeStatus ring_status(MemberState state) {
  switch (state) {
    case MemberState::kAlive:
      return NodeStatus::kAlive;
    case MemberState::kSuspect:
      return NodeStatus::kSuspected;
    case MemberState::kDead:
      return NodeStatus::kDead;
    case MemberState::kLeft:
      return NodeStatus::kLeaving;
  }
  return NodeStatus::kDead;
}

Result<std::unique_ptr<DistributedCoordinator>> DistributedCoordinator::create(ClusterConfig config, SwimConfig swim,
                                                                               Runtime runtime,
                                                                               EventBusOptions bus_options) {
  if (Status s = validate_cluster_config(config); !s.is_ok()) return s;
  if (Status s = validate(swim); !s.is_ok()) return Status::error("invalid membership configuration: " + s.message());
  if (Status s = validate(config.hash_ring); !s.is_ok()) return s;
  if (!runtime.clock || !runtime.timers || !runtime.random || !runtime.transport) {
    return Status::error("the coordinator needs a clock, timers, a random source and a transport");
  }
  return std::unique_ptr<DistributedCoordinator>(
      new DistributedCoordinator(std::move(config), swim, runtime, bus_options));
}

DistributedCoordinator::DistributedCoordinator(ClusterConfig config, SwimConfig swim, Runtime runtime,
                                               EventBusOptions bus_options)
    : config_(std::move(config)),
      swim_config_(swim),
      rt_(runtime),
      ring_(config_.hash_ring, rt_.clock),
      routing_(ring_, config_.node_id, config_.hash_ring.replication_factor),
      cluster_bus_(*rt_.clock, *rt_.timers, bus_options),
      membership_bus_(*rt_.clock, *rt_.timers, bus_options) {}

DistributedCoordinator::~DistributedCoordinator() { *alive_ = false; }

Status DistributedCoordinator::start() {
  if (running_) return Status::error("coordinator already running");
  // A restart: the new membership starts from nothing, and so does the ring
  // (a member it does not learn again must not keep its old status).
  for (const NodeInfo& n : ring_.nodes()) {
    if (n.id != config_.node_id) (void)ring_.remove_node(n.id);
  }
  if (Status s = ring_.add_node(config_.node_id); !s.is_ok()) {
    if (!ring_.node(config_.node_id)) return Status::error("failed to add local node to ring: " + s.message());
    (void)ring_.set_node_status(config_.node_id, NodeStatus::kAlive);  // a restart: it is in the ring already
  }
  swim_ = std::make_unique<SwimMembership>(config_.node_id, swim_config_, rt_);
  swim_->set_listener([this](const SwimMember& m, std::optional<MemberState> before) { on_member(m, before); });
  if (Status s = swim_->start(metadata_); !s.is_ok()) return s;
  running_ = true;
  start_time_ns_ = last_heartbeat_ns_ = rt_.clock->now();
  if (!config_.seed_nodes.empty()) {
    if (Status s = swim_->join(config_.seed_nodes); !s.is_ok()) return s;
  } else {
    (void)swim_->join({});
  }
  heartbeat_timer_ = rt_.timers->schedule(config_.heartbeat_interval_ns, [this, alive = alive_] {
    if (*alive) heartbeat();
  });
  publish_topology("node_started");
  return Status::ok();
}

void DistributedCoordinator::heartbeat() {
  heartbeat_timer_ = 0;
  if (!running_) return;
  if (swim_ && !swim_->running()) {  // a leave ran its course
    (void)stop();
    return;
  }
  last_heartbeat_ns_ = rt_.clock->now();
  const std::size_t alive = swim_ ? std::max<std::size_t>(swim_->count(MemberState::kAlive), 1) : 1;
  (void)ring_.update_node_load(config_.node_id, 1.0 / static_cast<double>(alive));
  heartbeat_timer_ = rt_.timers->schedule(config_.heartbeat_interval_ns, [this, alive_flag = alive_] {
    if (*alive_flag) heartbeat();
  });
}

Status DistributedCoordinator::stop() {
  if (!running_) return Status::ok();
  publish_topology("node_stopping");
  running_ = false;
  if (swim_) swim_->stop();
  if (heartbeat_timer_ != 0) rt_.timers->cancel(heartbeat_timer_);
  heartbeat_timer_ = 0;
  if (flush_timer_ != 0) rt_.timers->cancel(flush_timer_);
  flush_timer_ = 0;
  pending_adds_.clear();
  pending_status_.clear();
  (void)ring_.remove_node(config_.node_id);
  cluster_bus_.drain_and_close();
  membership_bus_.drain_and_close();
  return Status::ok();
}

Status DistributedCoordinator::leave() {
  if (!running_ || !swim_) return Status::error("coordinator not running");
  if (Status s = swim_->leave(); !s.is_ok()) return s;
  publish_topology("node_leaving");
  return Status::ok();
}

Status DistributedCoordinator::add_known_members(std::span<const std::pair<std::string, TransportAddress>> members) {
  if (!running_ || !swim_) return Status::error("coordinator not running");
  for (const auto& [id, address] : members) {
    if (Status s = swim_->add_known_member(id, address); !s.is_ok()) return s;
  }
  flush_ring();  // now, not after a timer: the caller sets up a cluster
  return Status::ok();
}

Status DistributedCoordinator::trigger_rebalance() {
  if (!running_) return Status::error("coordinator not running");
  ClusterEvent e;
  e.type = ClusterEventType::kRebalanceStarted;
  e.node_id = config_.node_id;
  e.correlation_id = config_.node_id + "-rebalance-" + std::to_string(lamport_.tick());
  return cluster_bus_.publish(std::move(e));
}

void DistributedCoordinator::publish_topology(std::string data) {
  ClusterEvent e;
  e.type = ClusterEventType::kTopologyChanged;
  e.node_id = config_.node_id;
  e.correlation_id = std::to_string(lamport_.tick());
  e.data = std::move(data);
  (void)cluster_bus_.publish(std::move(e));
}

Member DistributedCoordinator::to_member(const SwimMember& m) const {
  Member out;
  out.node_id = m.node;
  out.address = m.address;
  out.status = ring_status(m.state);
  out.incarnation = m.incarnation;
  out.metadata = m.metadata;
  out.last_seen_ns = m.state_change_ns;
  out.joined_at_ns = m.joined_at_ns;
  return out;
}

void DistributedCoordinator::on_member(const SwimMember& m, std::optional<MemberState> before) {
  if (observer_) observer_(m, before);
  if (m.node == config_.node_id) {
    MembershipEvent e{MembershipEventType::kUpdated, to_member(m), 0};
    (void)membership_bus_.publish(std::move(e));
    return;
  }
  MembershipEventType type = MembershipEventType::kUpdated;
  if (!before) {
    type = MembershipEventType::kJoined;
    pending_adds_.push_back(m.node);
    if (m.state != MemberState::kAlive) pending_status_.emplace_back(m.node, ring_status(m.state));
  } else {
    switch (m.state) {
      case MemberState::kAlive:
        type = *before == MemberState::kAlive ? MembershipEventType::kUpdated : MembershipEventType::kRecovered;
        break;
      case MemberState::kSuspect:
        type = MembershipEventType::kUpdated;
        break;
      case MemberState::kDead:
        type = MembershipEventType::kFailed;
        break;
      case MemberState::kLeft:
        type = MembershipEventType::kLeft;
        break;
    }
    if (m.state != *before) pending_status_.emplace_back(m.node, ring_status(m.state));
  }
  (void)membership_bus_.publish(MembershipEvent{type, to_member(m), 0});
  if (type == MembershipEventType::kJoined) publish_topology("node_added:" + m.node);
  if (type == MembershipEventType::kFailed) publish_topology("node_failed:" + m.node);
  if (type == MembershipEventType::kLeft) publish_topology("node_left:" + m.node);
  if (type == MembershipEventType::kRecovered) publish_topology("node_recovered:" + m.node);
  if (flush_timer_ == 0 && (!pending_adds_.empty() || !pending_status_.empty())) {
    flush_timer_ = rt_.timers->schedule(0, [this, alive = alive_] {
      if (!*alive) return;
      flush_timer_ = 0;
      flush_ring();
    });
  }
}

void DistributedCoordinator::flush_ring() {
  if (flush_timer_ != 0) {
    rt_.timers->cancel(flush_timer_);
    flush_timer_ = 0;
  }
  if (!pending_adds_.empty()) {
    // Members the ring already holds (they left and came back) only change status.
    std::vector<std::string> fresh;
    for (std::string& id : pending_adds_) {
      if (ring_.node(id)) {
        pending_status_.insert(pending_status_.begin(), {id, NodeStatus::kAlive});
      } else {
        fresh.push_back(std::move(id));
      }
    }
    pending_adds_.clear();
    (void)ring_.add_nodes(fresh);
  }
  for (const auto& [id, status] : pending_status_) (void)ring_.set_node_status(id, status);
  pending_status_.clear();
}

CoordinatorHealth DistributedCoordinator::health() const {
  CoordinatorHealth h;
  h.local_node_id = config_.node_id;
  h.cluster_size = swim_ ? swim_->count(MemberState::kAlive) + swim_->count(MemberState::kSuspect) : 0;
  h.connected_to_seeds = swim_ && swim_->joined();
  h.last_heartbeat_ns = last_heartbeat_ns_;
  const TimeNs now = rt_.clock->now();
  h.uptime_ns = running_ ? now - start_time_ns_ : 0;
  if (!running_) h.issues.emplace_back("coordinator not running");
  if (running_ && !h.connected_to_seeds) h.issues.emplace_back("not joined to any seed");
  if (running_ && now - last_heartbeat_ns_ >= config_.failure_detection_timeout_ns) {
    h.issues.emplace_back("heartbeat timeout");
  }
  if (!swim_ || swim_->count(MemberState::kAlive) == 0) h.issues.emplace_back("no alive members");
  h.healthy = h.issues.empty();
  return h;
}

CoordinatorMetrics DistributedCoordinator::metrics() const {
  CoordinatorMetrics m;
  m.membership = membership_.metrics();
  m.ring = ring_.metrics();
  m.event_bus = cluster_bus_.metrics();
  m.membership_bus = membership_bus_.metrics();
  m.start_time_ns = start_time_ns_;
  m.uptime_ns = running_ ? rt_.clock->now() - start_time_ns_ : 0;
  return m;
}

// ---- the membership facade ---------------------------------------------------

Status DistributedCoordinator::Membership::join(std::span<const TransportAddress> seeds) {
  if (!owner_.running_ || !owner_.swim_) return Status::error("coordinator not running");
  return owner_.swim_->join(seeds);
}

std::vector<Member> DistributedCoordinator::Membership::members() const {
  std::vector<Member> out;
  if (!owner_.swim_) return out;
  for (const SwimMember& m : owner_.swim_->members()) out.push_back(owner_.to_member(m));
  return out;
}

std::optional<Member> DistributedCoordinator::Membership::member(std::string_view id) const {
  if (!owner_.swim_) return std::nullopt;
  const SwimMember* m = owner_.swim_->find(id);
  if (!m) return std::nullopt;
  return owner_.to_member(*m);
}

Status DistributedCoordinator::Membership::update_metadata(Metadata metadata) {
  Result<Metadata> normal = normalize_metadata(std::move(metadata));
  if (!normal.is_ok()) return normal.status();
  if (owner_.running_ && owner_.swim_) {
    // Kept for the next start only if the protocol accepts it.
    if (Status s = owner_.swim_->update_metadata(normal.value()); !s.is_ok()) return s;
  }
  owner_.metadata_ = std::move(normal).value();  // when not running: used at the next start
  return Status::ok();
}

SubscriptionId DistributedCoordinator::Membership::subscribe(std::vector<MembershipEventType> types,
                                                             std::function<void(const MembershipEvent&)> handler) {
  return owner_.membership_bus_.subscribe(std::move(types), std::move(handler));
}

bool DistributedCoordinator::Membership::unsubscribe(SubscriptionId id) {
  return owner_.membership_bus_.unsubscribe(id);
}

MembershipMetrics DistributedCoordinator::Membership::metrics() const {
  MembershipMetrics m;
  const SwimMembership* s = owner_.swim_.get();
  if (s) {
    m.total = s->member_count();
    m.healthy = s->count(MemberState::kAlive);
    m.suspected = s->count(MemberState::kSuspect);
    m.failed = s->count(MemberState::kDead);
    m.left = s->count(MemberState::kLeft);
  }
  m.cluster_age_ns = owner_.running_ ? owner_.rt_.clock->now() - owner_.start_time_ns_ : 0;
  const EventBusMetrics bus = owner_.membership_bus_.metrics();
  m.last_event_ns = bus.last_event_time_ns;
  m.event_count = bus.published;
  return m;
}

bool DistributedCoordinator::Membership::healthy() const { return owner_.health().healthy; }

std::vector<Member> DistributedCoordinator::Membership::alive_nodes() const {
  std::vector<Member> out;
  if (!owner_.swim_) return out;
  for (const SwimMember& m : owner_.swim_->members()) {
    if (m.state == MemberState::kAlive) out.push_back(owner_.to_member(m));
  }
  return out;
}

}  // namespace hcsim::core::cluster
