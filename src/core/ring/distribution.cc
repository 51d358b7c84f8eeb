#include "core/ring/distribution.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

#include <Eigen/Core>
#include <absl/container/flat_hash_map.h>

#include "core/util/absl_compat.h"

namespace hcsim::core {

KeySet KeySet::sequential(std::uint64_t count, std::string prefix) {
  KeySet k;
  k.prefix = std::move(prefix);
  k.count = count;
  return k;
}

KeySet KeySet::list(std::vector<std::string> keys) {
  KeySet k;
  k.explicit_keys = std::move(keys);
  return k;
}

void KeySet::append_decimal(std::string& s, std::uint64_t v) {
  char digits[24];
  const auto res = std::to_chars(digits, digits + sizeof(digits), v);
  s.append(digits, res.ptr);
}

namespace {
// Balance figures from per-node key counts (indexed by NodeIndex).
DistributionStats stats_from_counts(const RingSnapshot& ring, const std::vector<std::uint64_t>& counts,
                                    std::uint64_t total_keys) {
  DistributionStats st;
  st.total_keys = total_keys;
  const std::vector<double> shares = ring.arc_shares();
  Eigen::ArrayXd alive_counts(static_cast<Eigen::Index>(ring.alive_count()));
  Eigen::Index a = 0;
  std::uint64_t vnodes_alive = 0;
  for (NodeIndex i = 0; i < ring.node_count(); ++i) {
    const auto& entry = ring.nodes()[i];
    st.per_node.push_back({entry.id, entry.alive, counts[i], shares[i]});
    st.routed_keys += counts[i];
    if (entry.alive) {
      alive_counts[a++] = static_cast<double>(counts[i]);
      vnodes_alive += entry.vnodes;
    }
  }
  st.nodes = static_cast<std::size_t>(alive_counts.size());
  if (st.nodes == 0) return st;
  st.min = static_cast<std::uint64_t>(alive_counts.minCoeff());
  st.max = static_cast<std::uint64_t>(alive_counts.maxCoeff());
  st.avg = alive_counts.mean();
  st.load_factor = st.avg > 0 ? static_cast<double>(st.max) / st.avg : 0.0;
  st.stddev = std::sqrt((alive_counts - st.avg).square().mean());
  const double n = static_cast<double>(st.nodes);
  const double v = static_cast<double>(vnodes_alive) / n;
  const double k = static_cast<double>(st.routed_keys);
  const double rel_var = (n - 1) / (n * v + 1) + (k > 0 ? (n - 1) / k : 0.0);
  st.expected_stddev = st.avg * std::sqrt(rel_var);
  return st;
}
}  // namespace

DistributionStats analyze_distribution(const RingSnapshot& ring, const KeySet& keys) {
  std::vector<std::uint64_t> counts(ring.node_count(), 0);
  keys.for_each([&](std::string_view key) {
    const NodeIndex n = ring.primary(key);
    if (n != kNoNode) ++counts[n];
  });
  return stats_from_counts(ring, counts, keys.size());
}

std::vector<NodeIndex> primary_owners(const RingSnapshot& ring, std::span<const std::uint64_t> key_hashes) {
  std::vector<NodeIndex> owners(key_hashes.size(), kNoNode);
  if (ring.empty()) return owners;
  for (std::size_t i = 0; i < key_hashes.size(); ++i) owners[i] = ring.primary_for_hash(key_hashes[i]);
  return owners;
}

DistributionStats distribution_of(const RingSnapshot& ring, std::span<const NodeIndex> owners) {
  std::vector<std::uint64_t> counts(ring.node_count(), 0);
  for (const NodeIndex n : owners) {
    if (n != kNoNode) ++counts[n];
  }
  return stats_from_counts(ring, counts, owners.size());
}

namespace {
// For each node of `from`, its index in `to` (by id), or kNoNode: O(nodes).
std::vector<NodeIndex> map_nodes(const RingSnapshot& from, const RingSnapshot& to) {
  absl::flat_hash_map<absl::string_view, NodeIndex> index_in_to;
  index_in_to.reserve(to.node_count());
  for (NodeIndex i = 0; i < to.node_count(); ++i) index_in_to.emplace(to_absl(to.node_id(i)), i);
  std::vector<NodeIndex> map(from.node_count(), kNoNode);
  for (NodeIndex i = 0; i < from.node_count(); ++i) {
    if (const auto it = index_in_to.find(to_absl(from.node_id(i))); it != index_in_to.end()) map[i] = it->second;
  }
  return map;
}

// The share of the hash space whose primary differs, given map_nodes(before, after).
double changed_arc_share(const RingSnapshot& before, const RingSnapshot& after, const std::vector<NodeIndex>& map);
}  // namespace

MovementStats compare_owners(const RingSnapshot& before, const RingSnapshot& after, const KeySet& keys) {
  MovementStats m;
  m.total_keys = keys.size();
  const std::vector<NodeIndex> map = map_nodes(before, after);
  keys.for_each([&](std::string_view key) {
    const NodeIndex b = before.primary(key);
    const NodeIndex a = after.primary(key);
    const NodeIndex b_in_after = b == kNoNode ? kNoNode : map[b];
    if (b_in_after != a) ++m.moved_keys;
  });
  m.moved_fraction =
      m.total_keys == 0 ? 0.0 : static_cast<double>(m.moved_keys) / static_cast<double>(m.total_keys);
  m.expected_fraction = changed_arc_share(before, after, map);
  return m;
}

MovementStats movement_of(const RingSnapshot& before, std::span<const NodeIndex> owners_before,
                          const RingSnapshot& after, std::span<const NodeIndex> owners_after) {
  assert(owners_before.size() == owners_after.size());
  MovementStats m;
  m.total_keys = owners_before.size();
  const std::vector<NodeIndex> map = map_nodes(before, after);
  for (std::size_t i = 0; i < owners_before.size(); ++i) {
    const NodeIndex b = owners_before[i];
    if ((b == kNoNode ? kNoNode : map[b]) != owners_after[i]) ++m.moved_keys;
  }
  m.moved_fraction =
      m.total_keys == 0 ? 0.0 : static_cast<double>(m.moved_keys) / static_cast<double>(m.total_keys);
  m.expected_fraction = changed_arc_share(before, after, map);
  return m;
}

double changed_arc_share(const RingSnapshot& before, const RingSnapshot& after) {
  return changed_arc_share(before, after, map_nodes(before, after));
}

namespace {
double changed_arc_share(const RingSnapshot& before, const RingSnapshot& after, const std::vector<NodeIndex>& map) {
  if (before.hash_kind() != after.hash_kind()) return 1.0;
  // Walk the union of both rings' points: between consecutive boundaries the
  // owner in each state is constant, so compare owners once per segment.
  std::vector<std::uint64_t> bounds;
  bounds.reserve(before.vnode_count() + after.vnode_count());
  // Arc ends are exactly the vnode positions of either state.
  for (const RingSnapshot* r : {&before, &after}) {
    for (const std::uint64_t p : r->positions()) bounds.push_back(p);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  if (bounds.empty()) return 0.0;
  constexpr double kSpace = 18446744073709551616.0;  // 2^64
  double changed = 0.0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    // Segment (prev, bounds[i]]: every hash in it has the same owners; probe its end.
    const std::uint64_t prev = bounds[i == 0 ? bounds.size() - 1 : i - 1];
    const std::uint64_t len = bounds.size() == 1 ? 0 : bounds[i] - prev;  // modulo 2^64
    const NodeIndex b = before.empty() ? kNoNode : before.primary_for_hash(bounds[i]);
    const NodeIndex a = after.empty() ? kNoNode : after.primary_for_hash(bounds[i]);
    const NodeIndex b_in_after = b == kNoNode ? kNoNode : map[b];
    if (b_in_after != a) changed += bounds.size() == 1 ? kSpace : static_cast<double>(len);
  }
  return changed / kSpace;
}

}  // namespace

}  // namespace hcsim::core
