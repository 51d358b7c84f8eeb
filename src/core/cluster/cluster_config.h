// ClusterConfig: what a coordinator needs to know about itself and its
// cluster, with the seed's defaults, and validate_cluster_config, which checks
// the seed's rules in the seed's order (then a few bounds of ours).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/ring/hash_ring.h"
#include "core/runtime/clock.h"
#include "core/runtime/random.h"
#include "core/runtime/transport.h"
#include "core/util/status.h"

namespace hcsim::core::cluster {

inline constexpr TimeNs kNsPerSecond = 1'000'000'000;
inline constexpr std::size_t kMaxSeedNodes = 1024;

struct ClusterConfig {
  std::string node_id;  // required: the caller sets it
  std::string cluster_name = "hypercache";
  std::string bind_address = "0.0.0.0";
  std::uint32_t bind_port = 7946;
  std::vector<TransportAddress> seed_nodes;
  HashRingConfig hash_ring;
  TimeNs join_timeout_ns = 30 * kNsPerSecond;
  TimeNs heartbeat_interval_ns = 5 * kNsPerSecond;
  TimeNs failure_detection_timeout_ns = 30 * kNsPerSecond;
};

// Ok, or the first broken rule as "invalid cluster configuration: <rule>".
// The seed's rules, in its order and words:
//   node_id is required; cluster_name is required; bind_port must be between
//   1 and 65535; heartbeat_interval must be positive;
//   failure_detection_timeout must be greater than heartbeat_interval.
// Then ours: "node_id must be at most 255 bytes", "join_timeout must be
// positive", "seed_nodes must hold at most 1024 addresses", and
// "hash_ring: <the ring's own validation message>".
Status validate_cluster_config(const ClusterConfig& config);

// "node-" and 16 lower-case hex digits from `random` (the seed used the Unix
// time in nanoseconds; core code reads no system clock).
std::string generate_node_id(RandomSource& random);

}  // namespace hcsim::core::cluster
