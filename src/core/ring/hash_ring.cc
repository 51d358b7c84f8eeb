#include "core/ring/hash_ring.h"

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "core/util/absl_compat.h"

namespace hcsim::core {
namespace {

std::atomic<std::uint64_t> g_next_ring_id{1};

Status check_node_id(std::string_view id) {
  if (id.empty()) return Status::error("node id must not be empty");
  if (id.size() > kMaxNodeIdBytes) {
    return Status::error(fmt::format("node id is longer than {} bytes", kMaxNodeIdBytes));
  }
  return Status::ok();
}

}  // namespace

Status validate(const HashRingConfig& c) {
  if (c.vnodes_per_node < 1 || c.vnodes_per_node > kMaxVnodesPerNode) {
    return Status::error(fmt::format("vnodes_per_node must be in 1..{} (got {})", kMaxVnodesPerNode, c.vnodes_per_node));
  }
  if (c.replication_factor < 1 || c.replication_factor > kMaxReplicationFactor) {
    return Status::error(
        fmt::format("replication_factor must be in 1..{} (got {})", kMaxReplicationFactor, c.replication_factor));
  }
  if (c.lookup_cache_size > kMaxLookupCacheSize) {
    return Status::error(
        fmt::format("lookup_cache_size must be at most {} (got {})", kMaxLookupCacheSize, c.lookup_cache_size));
  }
  return Status::ok();
}

HashRing::HashRing(HashRingConfig config, const Clock* clock)
    : ring_id_(g_next_ring_id.fetch_add(1, std::memory_order_relaxed)), config_(config), clock_(clock) {
  if (Status s = validate(config_); !s.is_ok()) throw std::invalid_argument(s.message());
  auto initial = std::make_shared<Published>(Published{RingSnapshot(config_.hash), {}, 1});
  current_ = std::move(initial);
  version_.store(1, std::memory_order_release);
  if (config_.lookup_cache_size > 0) {
    cache_ = std::make_unique<LookupCache>(config_.lookup_cache_size);
    cache_->clear(1);
  }
}

thread_local std::shared_ptr<const HashRing::Published> HashRing::tl_view_owners_[HashRing::kViewSlots];

const HashRing::ViewSlot& HashRing::refresh_view() const {
  const std::size_t k = ring_id_ % kViewSlots;
  std::lock_guard lock(publish_mu_);
  tl_view_owners_[k] = current_;
  tl_views_[k] = {ring_id_, current_->version, current_.get(), lookups_.own_cell()};
  return tl_views_[k];
}

std::shared_ptr<const RingSnapshot> HashRing::snapshot() const {
  std::lock_guard lock(publish_mu_);
  return std::shared_ptr<const RingSnapshot>(current_, &current_->ring);
}

void HashRing::publish(RingSnapshot next, bool routing_changed) {
  auto fresh = std::make_shared<Published>();
  fresh->ring = std::move(next);
  fresh->ids.reserve(fresh->ring.node_count());
  // Node order survives a change except where a node was added (at the
  // end) or removed, so most views come from the current state's list with
  // a string compare instead of a lookup in the interned set. current_ is
  // written only under write_mu_, which the caller holds.
  const std::vector<std::string_view>& old_ids = current_->ids;
  std::size_t j = 0;
  for (const auto& n : fresh->ring.nodes()) {
    if (j < old_ids.size() && old_ids[j] == n.id) {
      fresh->ids.push_back(old_ids[j++]);
    } else if (j + 1 < old_ids.size() && old_ids[j + 1] == n.id) {  // old_ids[j] was removed
      fresh->ids.push_back(old_ids[j + 1]);
      j += 2;
    } else {
      fresh->ids.push_back(*interned_ids_.find(to_absl(n.id)));
    }
  }
  std::uint64_t v;
  {
    std::lock_guard lock(publish_mu_);
    v = current_->version + 1;
    fresh->version = v;
    current_ = std::move(fresh);
    version_.store(v, std::memory_order_release);
  }
  if (routing_changed) {
    ++routing_changes_;
    if (cache_) cache_->clear(v);
  }
}

Status HashRing::add_node(std::string_view id, std::string_view address, int port) {
  if (Status s = check_node_id(id); !s.is_ok()) return s;
  std::lock_guard lock(write_mu_);
  if (infos_.contains(to_absl(id))) return Status::error(fmt::format("node {} already exists", id));
  const std::shared_ptr<const RingSnapshot> cur = snapshot();
  if (cur->vnode_count() + config_.vnodes_per_node > kMaxRingVnodes) {
    return Status::error(fmt::format("adding node {} would exceed {} vnodes on the ring", id, kMaxRingVnodes));
  }
  if (!interned_ids_.contains(to_absl(id))) {
    if (interned_ids_.size() >= kMaxDistinctNodeIds) {
      return Status::error(fmt::format("the ring has seen {} distinct node ids, its limit", kMaxDistinctNodeIds));
    }
    interned_ids_.emplace(id);
  }
  NodeInfo info;
  info.id = std::string(id);
  info.address = std::string(address);
  info.port = port;
  info.last_seen_ns = now();
  info.vnodes = config_.vnodes_per_node;
  infos_.emplace(info.id, std::move(info));
  publish(cur->with_node(id, config_.vnodes_per_node), true);
  return Status::ok();
}

Status HashRing::add_nodes(std::span<const std::string> ids) {
  if (ids.empty()) return Status::ok();
  for (const std::string& id : ids) {
    if (Status s = check_node_id(id); !s.is_ok()) return s;
  }
  std::lock_guard lock(write_mu_);
  const std::shared_ptr<const RingSnapshot> cur = snapshot();
  if (cur->vnode_count() + ids.size() * std::size_t{config_.vnodes_per_node} > kMaxRingVnodes) {
    return Status::error(fmt::format("adding {} nodes would exceed {} vnodes on the ring", ids.size(), kMaxRingVnodes));
  }
  absl::flat_hash_set<std::string_view> batch;
  std::size_t fresh_ids = 0;
  for (const std::string& id : ids) {
    if (infos_.contains(to_absl(id)) || !batch.insert(id).second) {
      return Status::error(fmt::format("node {} already exists", id));
    }
    if (!interned_ids_.contains(to_absl(id))) ++fresh_ids;
  }
  if (interned_ids_.size() + fresh_ids > kMaxDistinctNodeIds) {
    return Status::error(fmt::format("the ring has seen {} distinct node ids, its limit", kMaxDistinctNodeIds));
  }
  std::vector<RingSnapshot::NodeEntry> entries = cur->nodes();
  for (const std::string& id : ids) {
    if (!interned_ids_.contains(to_absl(id))) interned_ids_.emplace(id);
    NodeInfo info;
    info.id = id;
    info.last_seen_ns = now();
    info.vnodes = config_.vnodes_per_node;
    infos_.emplace(info.id, std::move(info));
    entries.push_back({id, config_.vnodes_per_node, true});
  }
  publish(RingSnapshot(cur->hash_kind(), std::move(entries)), true);
  return Status::ok();
}

Status HashRing::remove_node(std::string_view id) {
  std::lock_guard lock(write_mu_);
  const auto it = infos_.find(to_absl(id));
  if (it == infos_.end()) return Status::error(fmt::format("node {} does not exist", id));
  const bool was_alive = it->second.status == NodeStatus::kAlive;
  infos_.erase(it);
  // A non-alive node's vnodes route nothing, so removing it moves no key.
  publish(snapshot()->without_node(id), was_alive);
  return Status::ok();
}

Status HashRing::set_node_status(std::string_view id, NodeStatus status) {
  std::lock_guard lock(write_mu_);
  const auto it = infos_.find(to_absl(id));
  if (it == infos_.end()) return Status::error(fmt::format("node {} does not exist", id));
  const bool was_alive = it->second.status == NodeStatus::kAlive;
  const bool is_alive = status == NodeStatus::kAlive;
  it->second.status = status;
  it->second.last_seen_ns = now();
  if (was_alive != is_alive) publish(snapshot()->with_alive(id, is_alive), true);
  return Status::ok();
}

Status HashRing::update_node_load(std::string_view id, double load) {
  if (std::isnan(load)) return Status::error(fmt::format("load of node {} must be a number", id));
  std::lock_guard lock(write_mu_);
  const auto it = infos_.find(to_absl(id));
  if (it == infos_.end()) return Status::error(fmt::format("node {} does not exist", id));
  it->second.load = std::clamp(load, 0.0, 1.0);
  it->second.last_seen_ns = now();
  return Status::ok();
}

std::optional<std::string_view> HashRing::get_node_cached(std::string_view key) const {
  std::vector<std::string_view> one;
  get_replicas(key, 1, one);
  if (one.empty()) return std::nullopt;
  return one.front();
}

std::vector<std::string_view> HashRing::get_replicas(std::string_view key, std::size_t n) const {
  std::vector<std::string_view> out;
  get_replicas(key, n, out);
  return out;
}

std::size_t HashRing::get_replicas_slow(std::string_view key, std::size_t n, std::vector<std::string_view>& out) const {
  const Published& p = counted_view();
  out.clear();
  if (n == 0) return 0;
  std::vector<NodeIndex> ids;
  if (cache_ && n <= config_.replication_factor) {
    // The cache holds lists of replication_factor entries for one version;
    // entries of other versions are misses, so a stale list is never served.
    if (cache_->get(key, p.version, ids)) {
      cache_hits_.add();
    } else {
      ids.resize(config_.replication_factor);
      ids.resize(p.ring.replicas(key, ids));
      cache_->put(key, p.version, ids);
    }
    ids.resize(std::min(n, ids.size()));
  } else {
    ids.resize(std::min(n, p.ring.alive_count()));
    ids.resize(p.ring.replicas(key, ids));
  }
  for (const NodeIndex id : ids) out.push_back(p.ids[id]);
  return ids.size();
}

std::vector<NodeInfo> HashRing::nodes() const {
  std::vector<NodeInfo> out;
  {
    std::lock_guard lock(write_mu_);
    out.reserve(infos_.size());
    for (const auto& [id, info] : infos_) out.push_back(info);
  }
  std::sort(out.begin(), out.end(), [](const NodeInfo& a, const NodeInfo& b) { return a.id < b.id; });
  return out;
}

std::optional<NodeInfo> HashRing::node(std::string_view id) const {
  std::lock_guard lock(write_mu_);
  const auto it = infos_.find(to_absl(id));
  if (it == infos_.end()) return std::nullopt;
  return it->second;
}

std::size_t HashRing::node_count() const { return view().ring.node_count(); }
std::size_t HashRing::vnode_count() const { return view().ring.vnode_count(); }

RingMetrics HashRing::metrics() const {
  RingMetrics m;
  m.lookups = lookups_.total();
  m.cache_hits = cache_hits_.total();
  m.cache_hit_rate = m.lookups == 0 ? 0.0 : static_cast<double>(m.cache_hits) / static_cast<double>(m.lookups);
  {
    std::lock_guard lock(write_mu_);
    m.total_nodes = infos_.size();
    for (const auto& [id, info] : infos_) {
      switch (info.status) {
        case NodeStatus::kAlive: ++m.alive_nodes; break;
        case NodeStatus::kSuspected: ++m.suspected_nodes; break;
        case NodeStatus::kDead: ++m.dead_nodes; break;
        case NodeStatus::kLeaving: ++m.leaving_nodes; break;
        case NodeStatus::kUpdating: ++m.updating_nodes; break;
      }
    }
    m.routing_changes = routing_changes_;
  }
  m.total_vnodes = vnode_count();
  m.cache_capacity = config_.lookup_cache_size;
  m.cache_size = cache_ ? cache_->size() : 0;
  return m;
}

}  // namespace hcsim::core
