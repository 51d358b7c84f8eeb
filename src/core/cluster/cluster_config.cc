#include "core/cluster/cluster_config.h"

#include <fmt/format.h>

#include <string_view>

#include "core/ring/ring_snapshot.h"

namespace hcsim::core::cluster {
namespace {

Status invalid(std::string_view rule) { return Status::error(fmt::format("invalid cluster configuration: {}", rule)); }

}  // namespace

Status validate_cluster_config(const ClusterConfig& config) {
  if (config.node_id.empty()) return invalid("node_id is required");
  if (config.cluster_name.empty()) return invalid("cluster_name is required");
  const std::int64_t port = config.bind_port;  // wide and signed: 0 and 70000 both fail here
  if (port < 1 || port > 65535) return invalid("bind_port must be between 1 and 65535");
  if (config.heartbeat_interval_ns <= 0) return invalid("heartbeat_interval must be positive");
  if (config.failure_detection_timeout_ns <= config.heartbeat_interval_ns) {
    return invalid("failure_detection_timeout must be greater than heartbeat_interval");
  }
  if (config.node_id.size() > kMaxNodeIdBytes) {
    return invalid(fmt::format("node_id must be at most {} bytes", kMaxNodeIdBytes));
  }
  if (config.join_timeout_ns <= 0) return invalid("join_timeout must be positive");
  if (config.seed_nodes.size() > kMaxSeedNodes) {
    return invalid(fmt::format("seed_nodes must hold at most {} addresses", kMaxSeedNodes));
  }
  if (Status ring = core::validate(config.hash_ring); !ring.is_ok()) {
    return invalid(fmt::format("hash_ring: {}", ring.message()));
  }
  return Status::ok();
}

std::string generate_node_id(RandomSource& random) { return fmt::format("node-{:016x}", random.next_u64()); }

}  // namespace hcsim::core::cluster
