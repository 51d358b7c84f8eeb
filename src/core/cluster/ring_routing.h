// RingRouting: the RoutingProvider over a HashRing, shared by both
// coordinators. It routes with the ring's current state and adds only the
// notion of "local node"; distribution analytics use the ring's snapshot.
// The ring must outlive it.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/cluster/interfaces.h"
#include "core/ring/hash_ring.h"

namespace hcsim::core::cluster {

class RingRouting final : public RoutingProvider {
 public:
  // `replication_factor` is what is_replica() checks against (at least 1).
  RingRouting(const HashRing& ring, std::string local_node_id, std::size_t replication_factor);

  std::optional<std::string> route_key(std::string_view key) const override;
  std::vector<std::string> replicas(std::string_view key, std::size_t count) const override;
  bool is_local(std::string_view key) const override;
  bool is_replica(std::string_view key) const override;
  std::vector<std::string> keys_for_node(std::string_view node, std::span<const std::string> keys) const override;
  DistributionStats analyze_distribution(std::span<const std::string> keys) const override;
  RingMetrics ring_metrics() const override;

  const std::string& local_node_id() const { return local_node_id_; }
  std::size_t replication_factor() const { return replication_factor_; }

 private:
  const HashRing& ring_;
  std::string local_node_id_;
  std::size_t replication_factor_;
};

}  // namespace hcsim::core::cluster
