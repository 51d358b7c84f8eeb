#include "core/ring/node.h"

#include <array>

namespace hcsim::core {
namespace {
constexpr std::array<std::string_view, 5> kStatusNames = {"alive", "suspected", "dead", "leaving", "updating"};
}

std::string_view node_status_name(NodeStatus status) {
  const auto i = static_cast<std::size_t>(status);
  return i < kStatusNames.size() ? kStatusNames[i] : std::string_view("unknown");
}

std::optional<NodeStatus> parse_node_status(std::string_view name) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<NodeStatus>(i);
  }
  return std::nullopt;
}

}  // namespace hcsim::core
