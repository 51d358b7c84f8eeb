#include "core/cluster/ring_routing.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace hcsim::core::cluster {

RingRouting::RingRouting(const HashRing& ring, std::string local_node_id, std::size_t replication_factor)
    : ring_(ring),
      local_node_id_(std::move(local_node_id)),
      replication_factor_(std::max<std::size_t>(1, replication_factor)) {}

std::optional<std::string> RingRouting::route_key(std::string_view key) const {
  const std::optional<std::string_view> owner = ring_.get_node(key);
  if (!owner) return std::nullopt;
  return std::string(*owner);
}

std::vector<std::string> RingRouting::replicas(std::string_view key, std::size_t count) const {
  const std::vector<std::string_view> ids = ring_.get_replicas(key, count);
  return std::vector<std::string>(ids.begin(), ids.end());
}

bool RingRouting::is_local(std::string_view key) const {
  const std::optional<std::string_view> owner = ring_.get_node(key);
  return owner && *owner == local_node_id_;
}

bool RingRouting::is_replica(std::string_view key) const {
  const std::vector<std::string_view> ids = ring_.get_replicas(key, replication_factor_);
  return std::find(ids.begin(), ids.end(), std::string_view(local_node_id_)) != ids.end();
}

std::vector<std::string> RingRouting::keys_for_node(std::string_view node, std::span<const std::string> keys) const {
  // One snapshot for the whole batch: a consistent answer, and no lookup
  // counted per key.
  const std::shared_ptr<const RingSnapshot> ring = ring_.snapshot();
  const NodeIndex target = ring->find_node(node);
  std::vector<std::string> out;
  if (target == kNoNode) return out;
  for (const std::string& key : keys) {
    if (ring->primary(key) == target) out.push_back(key);
  }
  return out;
}

DistributionStats RingRouting::analyze_distribution(std::span<const std::string> keys) const {
  return core::analyze_distribution(*ring_.snapshot(),
                                    KeySet::list(std::vector<std::string>(keys.begin(), keys.end())));
}

RingMetrics RingRouting::ring_metrics() const { return ring_.metrics(); }

}  // namespace hcsim::core::cluster
