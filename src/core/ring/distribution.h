// Distribution analytics over a key set: per-node key counts and balance
// figures for one ring state, and the keys whose primary changes between two
// states. Pure functions of snapshots: they never touch a ring's counters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ring/ring_snapshot.h"

namespace hcsim::core {

// A key set: `count` keys "<prefix><i>" for i from `first` (the seed's
// "key:0".."key:K-1"), or an explicit list when `explicit_keys` is not empty.
struct KeySet {
  std::string prefix = "key:";
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  std::vector<std::string> explicit_keys;

  static KeySet sequential(std::uint64_t count, std::string prefix = "key:");
  static KeySet list(std::vector<std::string> keys);
  std::uint64_t size() const { return explicit_keys.empty() ? count : explicit_keys.size(); }

  // Calls fn(std::string_view) for every key, in order.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    if (!explicit_keys.empty()) {
      for (const std::string& k : explicit_keys) fn(std::string_view(k));
      return;
    }
    std::string key = prefix;
    for (std::uint64_t i = first; i < first + count; ++i) {
      key.resize(prefix.size());
      append_decimal(key, i);
      fn(std::string_view(key));
    }
  }

 private:
  static void append_decimal(std::string& s, std::uint64_t v);
};

struct NodeLoad {
  std::string id;
  bool alive = true;
  std::uint64_t keys = 0;
  double arc_share = 0.0;  // exact share of the hash space this node owns
};

struct DistributionStats {
  std::uint64_t total_keys = 0;
  std::uint64_t routed_keys = 0;  // keys that found an alive node
  std::size_t nodes = 0;          // alive nodes: the ones statistics run over
  std::vector<NodeLoad> per_node; // every node, in ring order of joining
  std::uint64_t min = 0;          // over alive nodes, including ones with no key
  std::uint64_t max = 0;
  double avg = 0.0;
  double load_factor = 0.0;       // max / avg; 0 when avg is 0
  double stddev = 0.0;            // population standard deviation
  // Theory for a ring of uniform random points (placement-notes §5):
  // relative std-dev sqrt((N-1)/(N*V+1) + (N-1)/K), times avg.
  double expected_stddev = 0.0;
};

DistributionStats analyze_distribution(const RingSnapshot& ring, const KeySet& keys);

struct MovementStats {
  std::uint64_t total_keys = 0;
  std::uint64_t moved_keys = 0;  // keys whose primary differs (by node id)
  double moved_fraction = 0.0;
  // The share of the hash space whose owner changed: what moved_fraction
  // tends to as keys grow (for one added node: its arc share).
  double expected_fraction = 0.0;
};

MovementStats compare_owners(const RingSnapshot& before, const RingSnapshot& after, const KeySet& keys);

// The same figures from owners computed once (for big key sets analysed
// after every membership change): primary_owners gives each key hash's
// primary (kNoNode on an empty ring); distribution_of and movement_of equal
// analyze_distribution and compare_owners for the keys those hashes came from.
std::vector<NodeIndex> primary_owners(const RingSnapshot& ring, std::span<const std::uint64_t> key_hashes);
DistributionStats distribution_of(const RingSnapshot& ring, std::span<const NodeIndex> owners);
MovementStats movement_of(const RingSnapshot& before, std::span<const NodeIndex> owners_before,
                          const RingSnapshot& after, std::span<const NodeIndex> owners_after);

// The share of the hash space whose primary differs between two states.
double changed_arc_share(const RingSnapshot& before, const RingSnapshot& after);

}  // namespace hcsim::core
