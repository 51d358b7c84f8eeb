#include "core/cluster/events.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace hcsim::core::cluster {
namespace {

constexpr std::array<std::string_view, 8> kClusterEventNames = {
    "rebalance_started", "rebalance_completed", "node_promotion",     "node_demotion",
    "topology_changed",  "consensus_lost",      "consensus_restored", "data_operation",
};
constexpr std::array<std::string_view, 5> kMembershipEventNames = {"joined", "left", "failed", "updated", "recovered"};

template <class Enum, std::size_t N>
std::string_view name_of(Enum value, const std::array<std::string_view, N>& names) {
  const auto i = static_cast<std::size_t>(value);
  return i < names.size() ? names[i] : std::string_view("unknown");
}

template <class Enum, std::size_t N>
std::optional<Enum> parse(std::string_view name, const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(ClusterEventType type) { return name_of(type, kClusterEventNames); }
std::string_view to_string(MembershipEventType type) { return name_of(type, kMembershipEventNames); }

std::optional<ClusterEventType> parse_cluster_event_type(std::string_view name) {
  return parse<ClusterEventType>(name, kClusterEventNames);
}
std::optional<MembershipEventType> parse_membership_event_type(std::string_view name) {
  return parse<MembershipEventType>(name, kMembershipEventNames);
}

bool is_valid(ClusterEventType type) { return static_cast<std::size_t>(type) < kClusterEventNames.size(); }
bool is_valid(MembershipEventType type) { return static_cast<std::size_t>(type) < kMembershipEventNames.size(); }

Result<Metadata> normalize_metadata(Metadata metadata) {
  if (metadata.size() > kMaxMetadataEntries) {
    return Status::error(fmt::format("metadata has more than {} entries", kMaxMetadataEntries));
  }
  std::size_t bytes = 0;
  for (const auto& [key, value] : metadata) {
    if (key.empty()) return Status::error("metadata key must not be empty");
    bytes += key.size() + value.size();
  }
  if (bytes > kMaxMetadataBytes) {
    return Status::error(fmt::format("metadata is larger than {} bytes", kMaxMetadataBytes));
  }
  std::stable_sort(metadata.begin(), metadata.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < metadata.size(); ++i) {
    if (metadata[i].first == metadata[i - 1].first) {
      return Status::error(fmt::format("duplicate metadata key {}", metadata[i].first));
    }
  }
  return metadata;
}

}  // namespace hcsim::core::cluster
