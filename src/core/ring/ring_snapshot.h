// RingSnapshot: one immutable state of the consistent-hash ring. Lookups are
// pure functions of (snapshot, key): no locks, no counters, safe from any
// number of threads. HashRing publishes a new snapshot on every change; the
// simulator gives each virtual node its own snapshot as its view of the ring.
//
// Layout: vnode positions sorted ascending in one array (plus kSlack
// UINT64_MAX sentinels), owners in a parallel array (padded with its first
// owners again for the wrap), and an index over the top b bits of the hash (2^b >= points)
// that narrows every search to about one element. Equal positions are
// ordered by node id, so the result never depends on insertion order.
// A derived snapshot (with_node, without_node) moves its parent's points run
// by run (move_runs) and shifts its parent's index; it shares nothing
// mutable with it.
#pragma once

#include <algorithm>
#include <cassert>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash/key_hash.h"

namespace hcsim::core {

using NodeIndex = std::uint32_t;
inline constexpr NodeIndex kNoNode = 0xFFFFFFFFu;

// The vnode key of vnode `v` of node `id`: "<id>:<v>" (the seed's format).
// Node ids are at most kMaxNodeIdBytes long (HashRing checks it).
inline constexpr std::size_t kMaxNodeIdBytes = 255;
inline constexpr std::size_t kMaxVnodeKeyBytes = kMaxNodeIdBytes + 1 + 10;
std::string vnode_key(std::string_view id, std::uint32_t v);

class RingSnapshot {
 public:
  // A node's vnode positions, ascending, as a snapshot computed them.
  struct NodePositions {
    HashKind hash;
    std::string id;
    std::vector<std::uint64_t> sorted;
  };
  struct NodeEntry {
    std::string id;
    std::uint32_t vnodes = 0;
    bool alive = true;
    // Set by the snapshot, shared by the snapshots derived from it (null in
    // an entry made elsewhere). Removing the node finds its points by
    // searching for these instead of scanning every owner; building from
    // entries reuses them when they match (hash, id, vnodes) instead of
    // hashing again.
    std::shared_ptr<const NodePositions> positions = nullptr;
  };

  // An empty ring.
  explicit RingSnapshot(HashKind hash = HashKind::kXxh64);
  // Builds from scratch: O(P log P) for P = total vnodes.
  RingSnapshot(HashKind hash, std::vector<NodeEntry> nodes);

  // Derived states, sharing nothing mutable with `this`. Preconditions (the
  // caller, HashRing, checks them and returns errors): id not present / present.
  // with_node is O(P + V log V) (merge), without_node O(P).
  RingSnapshot with_node(std::string_view id, std::uint32_t vnodes) const;
  RingSnapshot without_node(std::string_view id) const;
  // Same points, another alive flag: O(nodes), the points are shared.
  RingSnapshot with_alive(std::string_view id, bool alive) const;

  HashKind hash_kind() const { return hash_; }
  std::size_t node_count() const { return nodes_.size(); }
  std::size_t alive_count() const { return alive_count_; }
  std::size_t vnode_count() const { return points_->size; }
  bool empty() const { return nodes_.empty(); }
  const std::vector<NodeEntry>& nodes() const { return nodes_; }
  const std::string& node_id(NodeIndex i) const { return nodes_[i].id; }
  // kNoNode when absent.
  NodeIndex find_node(std::string_view id) const;

  std::uint64_t hash(std::string_view key) const { return hash_key(hash_, key); }
  // The sorted vnode positions (no sentinel).
  std::span<const std::uint64_t> positions() const { return {points_->positions, points_->size}; }

  // Index of the first vnode whose position is >= h, wrapping to 0.
  // Precondition: vnode_count() > 0.
  std::size_t successor(std::uint64_t h) const {
    const std::size_t i = search(h);
    return i == points_->size ? 0 : i;
  }

  // The owner of the key: the first alive node clockwise; kNoNode if none.
  NodeIndex primary_for_hash(std::uint64_t h) const {
    if (!all_alive_) [[unlikely]] return primary_with_dead(h);
    return fast_.owners[search(h)];  // owners[size] repeats owners[0]: the wrap needs no branch
  }
  NodeIndex primary(std::string_view key) const { return primary_for_hash(hash(key)); }

  // The first min(out.size(), alive_count()) distinct alive nodes clockwise,
  // primary first, written to `out`; returns how many were written.
  std::size_t replicas_for_hash(std::uint64_t h, std::span<NodeIndex> out) const {
    const std::size_t want = std::min(out.size(), alive_count_);
    if (want == 0) return 0;
    const std::size_t start = search(h);  // owners[size..] repeat owners[0..]
    if (window_replicas(start, want, [out](std::size_t i, NodeIndex n) { out[i] = n; })) [[likely]] return want;
    return replicas_walk(start == points_->size ? 0 : start, out.first(want));
  }
  // The same for n <= kMaxEachReplicas, handing each replica to emit(i,
  // node) in order instead of writing it to a span: a caller that maps
  // nodes to something else (HashRing: to node ids) then saves a store and
  // a reload on every lookup's critical path.
  static constexpr std::size_t kMaxEachReplicas = 16;
  template <typename Emit>
  std::size_t replicas_each(std::uint64_t h, std::size_t n, Emit&& emit) const {
    assert(n <= kMaxEachReplicas);
    const std::size_t want = std::min(n, alive_count_);
    if (want == 0) return 0;
    const std::size_t start = search(h);
    if (window_replicas(start, want, emit)) [[likely]] return want;
    NodeIndex walked[kMaxEachReplicas];
    replicas_walk(start == points_->size ? 0 : start, std::span(walked, want));
    for (std::size_t i = 0; i < want; ++i) emit(i, walked[i]);
    return want;
  }
  std::size_t replicas(std::string_view key, std::span<NodeIndex> out) const {
    return replicas_for_hash(hash(key), out);
  }

  // Exact share of the hash space (ring arc) owned by each node (alive-aware),
  // indexed by NodeIndex; sums to 1 when any node is alive.
  std::vector<double> arc_shares() const;

 private:
  struct NoPoints {};
  // A snapshot whose points the caller sets (set_points) before use.
  RingSnapshot(HashKind hash, NoPoints) : hash_(hash) {}
  struct Points {
    // Arrays, not vectors: a derived snapshot writes every element once, so
    // zero-filling them first would only cost time.
    // One allocation holds the three arrays.
    std::unique_ptr<std::byte[]> memory;
    std::uint64_t* positions = nullptr;  // size + kSlack: UINT64_MAX sentinels after the points
    NodeIndex* owners = nullptr;         // size + kSlack: owners[size + k] == owners[k % size]
    std::uint32_t* table = nullptr;      // 2^b + kSlack entries: first index with top bits >= t
    unsigned shift = 63;                         // 64 - b
    std::size_t size = 0;
    std::size_t table_size() const { return std::size_t{1} << (64 - shift); }
  };
  // Arrays for `size` points, uninitialised, with the index's width chosen.
  static std::shared_ptr<Points> allocate_points(std::size_t size);
  // Writes the sentinels and the owner pads after positions and owners [0, size).
  static void finish_points(Points& p);
  // The index from scratch, from the sorted positions.
  static void build_table(Points& p);
  // Writes p's points and (if its index keeps the parent's width, which it
  // returns) its index from the parent `old`'s, where the points of `at`
  // (ascending indices into old's points for removed ones, insertion
  // points for inserted ones), whose positions are `changed`, are inserted
  // as node `added` or removed; owners pass through owner_fn.
  template <bool kInsert, typename OwnerFn>
  static bool move_runs(const Points& old, Points& p, std::span<const std::uint32_t> at, const std::uint64_t* changed,
                        NodeIndex added, OwnerFn owner_fn);
  // Gives `next` the points `p` (positions and owners written, and the
  // index too if `table_moved`, else it is built here), with their
  // sentinels and pads, and the alive counts.
  void finish_derived(RingSnapshot& next, std::shared_ptr<Points> p, bool table_moved) const;
  // The Points arrays a search reads, copied into the snapshot so that a
  // lookup does not first load them through points_.
  struct FastPath {
    const std::uint64_t* positions = nullptr;
    const NodeIndex* owners = nullptr;
    const std::uint32_t* table = nullptr;
    unsigned shift = 63;
  };
  void set_points(std::shared_ptr<const Points> points);
  // Index of the first position >= h, or size when h is past the last one.
  std::size_t search(std::uint64_t h) const {
    const FastPath& p = fast_;
    std::size_t i = p.table[h >> p.shift];
    // Sorted, so the number of the next two positions below h is the step;
    // both loads issue at once. Two sentinels make them safe at the end.
    const std::size_t step = std::size_t{p.positions[i] < h} + std::size_t{p.positions[i + 1] < h};
    i += step;
    if (step == 2) [[unlikely]] {
      while (p.positions[i] < h) ++i;  // a crowded bucket; the sentinel stops it
    }
    return i;
  }
  // Owners are padded with the first kReplicaWindow owners again (wrapping
  // as often as a small ring needs), so a window read from any search
  // result stays in bounds.
  static constexpr std::size_t kReplicaWindow = 8;
  // Elements past `size` in both point arrays (and past the index's 2^b):
  // the sentinels and pads, and room for the fixed-size run moves of a
  // derived snapshot.
  static constexpr std::size_t kSlack = 16;
  static_assert(kSlack >= kReplicaWindow);
  // The common case of the replica lookups, without a branch per vnode:
  // over the next kReplicaWindow owners from point `start` (the first half,
  // then the second only if needed), a bitmask of the nodes seen so far and
  // one of the window places that hold a node first; the answer is the
  // first `want` of those places, handed to emit(i, node). False (nothing
  // emitted) when some node is dead, want > kReplicaWindow, there are over
  // 64 nodes, or the window holds fewer than `want` distinct nodes.
  template <typename Emit>
  bool window_replicas(std::size_t start, std::size_t want, Emit&& emit) const {
    if (!(all_alive_ && want <= kReplicaWindow && nodes_.size() <= 64)) [[unlikely]] return false;
    const NodeIndex* o = fast_.owners + start;
    std::uint64_t seen = std::uint64_t{1} << o[0];
    unsigned firsts = 1;
    const auto look = [&](unsigned k) {
      firsts |= static_cast<unsigned>((~seen >> o[k]) & 1) << k;
      seen |= std::uint64_t{1} << o[k];
    };
    for (unsigned k = 1; k < kReplicaWindow / 2; ++k) look(k);
    if (static_cast<std::size_t>(std::popcount(firsts)) < want) {
      for (unsigned k = kReplicaWindow / 2; k < kReplicaWindow; ++k) look(k);
    }
    if (static_cast<std::size_t>(std::popcount(firsts)) < want) [[unlikely]] return false;
    for (std::size_t i = 0; i < want; ++i) {
      emit(i, o[std::countr_zero(firsts)]);
      firsts &= firsts - 1;
    }
    return true;
  }
  // The general replica walk from point `start`: out.size() (<= alive) nodes.
  std::size_t replicas_walk(std::size_t start, std::span<NodeIndex> out) const;
  NodeIndex first_alive_from(std::size_t i) const;
  NodeIndex primary_with_dead(std::uint64_t h) const;
  void count_alive();

  HashKind hash_;
  std::vector<NodeEntry> nodes_;
  std::vector<std::uint8_t> alive_;  // by NodeIndex, dense for the walk
  std::size_t alive_count_ = 0;
  bool all_alive_ = true;  // alive_count_ == nodes_.size()
  std::shared_ptr<const Points> points_;  // set only through set_points
  FastPath fast_;
};

}  // namespace hcsim::core
