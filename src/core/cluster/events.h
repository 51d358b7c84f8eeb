// The cluster's value types: membership and cluster event kinds (with the
// seed's names), a member as the coordinator sees it, and the events that the
// event buses carry. Plain values; metadata is kept sorted by key, unique.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ring/node.h"
#include "core/runtime/clock.h"
#include "core/runtime/transport.h"
#include "core/util/result.h"

namespace hcsim::core::cluster {

// A subscription handle on an event bus; 0 is never a valid id.
using SubscriptionId = std::uint64_t;

enum class ClusterEventType : std::uint8_t {
  kRebalanceStarted,
  kRebalanceCompleted,
  kNodePromotion,
  kNodeDemotion,
  kTopologyChanged,
  kConsensusLost,
  kConsensusRestored,
  kDataOperation,
};

enum class MembershipEventType : std::uint8_t { kJoined, kLeft, kFailed, kUpdated, kRecovered };

// The seed's names: "rebalance_started" ... "data_operation"; "joined" ...
// "recovered". "unknown" for a value outside the enum.
std::string_view to_string(ClusterEventType type);
std::string_view to_string(MembershipEventType type);
std::optional<ClusterEventType> parse_cluster_event_type(std::string_view name);
std::optional<MembershipEventType> parse_membership_event_type(std::string_view name);
// False for a value outside the enum (a cast from a bad integer).
bool is_valid(ClusterEventType type);
bool is_valid(MembershipEventType type);

// Key/value pairs, sorted by key, keys unique and non-empty.
using Metadata = std::vector<std::pair<std::string, std::string>>;
inline constexpr std::size_t kMaxMetadataEntries = 64;
inline constexpr std::size_t kMaxMetadataBytes = 4096;  // sum of key and value sizes

// Sorts `metadata` by key and checks it: errors "metadata key must not be
// empty", "duplicate metadata key <k>", "metadata has more than 64 entries",
// "metadata is larger than 4096 bytes".
Result<Metadata> normalize_metadata(Metadata metadata);

struct Member {
  std::string node_id;
  TransportAddress address = 0;
  NodeStatus status = NodeStatus::kAlive;
  std::uint32_t incarnation = 0;
  Metadata metadata;
  TimeNs last_seen_ns = 0;
  TimeNs joined_at_ns = 0;

  friend bool operator==(const Member&, const Member&) = default;
};

struct ClusterEvent {
  ClusterEventType type = ClusterEventType::kTopologyChanged;
  std::string node_id;
  std::string correlation_id;  // optional: empty when none
  std::string data;            // optional payload (the seed's JSON value, as text)
  TimeNs timestamp_ns = 0;     // publish() stamps now() when 0

  friend bool operator==(const ClusterEvent&, const ClusterEvent&) = default;
};

struct MembershipEvent {
  MembershipEventType type = MembershipEventType::kUpdated;
  Member member;
  TimeNs timestamp_ns = 0;  // publish() stamps now() when 0

  friend bool operator==(const MembershipEvent&, const MembershipEvent&) = default;
};

}  // namespace hcsim::core::cluster
