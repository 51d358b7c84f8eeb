// A physical node as the ring knows it: id, address, status and load.
// Only Alive nodes receive keys; the vnodes of other nodes stay on the ring
// and their keys fall through to the next alive node clockwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/runtime/clock.h"

namespace hcsim::core {

// Ordinals match the seed's enum (Alive=0 ... Updating=4).
enum class NodeStatus : std::uint8_t { kAlive = 0, kSuspected = 1, kDead = 2, kLeaving = 3, kUpdating = 4 };

// "alive", "suspected", "dead", "leaving", "updating".
std::string_view node_status_name(NodeStatus status);
std::optional<NodeStatus> parse_node_status(std::string_view name);

struct NodeInfo {
  std::string id;
  std::string address;
  int port = 0;
  NodeStatus status = NodeStatus::kAlive;
  double load = 0.0;  // in [0, 1]
  TimeNs last_seen_ns = 0;
  std::uint32_t vnodes = 0;
};

}  // namespace hcsim::core
