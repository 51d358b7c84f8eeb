// HashRing: the node's consistent-hash ring with virtual nodes, the seed's
// behaviour done right. Membership changes (add, remove, status) are serialised
// and each publishes a new immutable RingSnapshot; lookups read the current
// snapshot without taking any lock shared with other readers (a per-thread
// cache of (ring, version) -> snapshot), so readers never block each other.
//
// Seed-compatible by default: XXH64 seed 0, vnode v of node id at "<id>:<v>",
// a key goes to the first vnode at or after its hash, wrapping; replicas are
// the first N distinct alive nodes clockwise.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/node_hash_set.h>

#include "core/hash/key_hash.h"
#include "core/ring/lookup_cache.h"
#include "core/ring/node.h"
#include "core/ring/ring_snapshot.h"
#include "core/runtime/clock.h"
#include "core/util/status.h"
#include "core/util/thread_slot.h"

namespace hcsim::core {

struct HashRingConfig {
  std::uint32_t vnodes_per_node = 256;
  std::uint32_t replication_factor = 3;  // the default replica count only
  HashKind hash = HashKind::kXxh64;
  std::size_t lookup_cache_size = 0;  // hot-key LRU entries; 0 = off
};

// Bounds, so that no input can make the ring unbounded.
inline constexpr std::uint32_t kMaxVnodesPerNode = 65536;
inline constexpr std::uint32_t kMaxReplicationFactor = 1024;
inline constexpr std::size_t kMaxLookupCacheSize = 1u << 24;
inline constexpr std::size_t kMaxRingVnodes = 1u << 27;
// Lookups return views of interned ids that live as long as the ring; a ring
// keeps one copy of every distinct id it has seen, at most this many.
inline constexpr std::size_t kMaxDistinctNodeIds = 1u << 18;

// Ok, or the first broken rule, e.g. "vnodes_per_node must be in 1..65536 (got 0)".
Status validate(const HashRingConfig& config);

struct RingMetrics {
  std::uint64_t lookups = 0;     // get_node and get_replicas calls, one each
  std::uint64_t cache_hits = 0;
  double cache_hit_rate = 0.0;   // hits / lookups, 0 without lookups
  std::size_t total_nodes = 0;
  std::size_t alive_nodes = 0;
  std::size_t suspected_nodes = 0;
  std::size_t dead_nodes = 0;
  std::size_t leaving_nodes = 0;
  std::size_t updating_nodes = 0;
  std::size_t total_vnodes = 0;
  std::uint64_t routing_changes = 0;  // published changes that can move keys
  std::size_t cache_size = 0;
  std::size_t cache_capacity = 0;
};

class HashRing {
 public:
  // Throws std::invalid_argument with validate()'s message on a bad config.
  // `clock` (may be null: times read as 0) stamps last_seen; it must outlive the ring.
  explicit HashRing(HashRingConfig config = {}, const Clock* clock = nullptr);
  HashRing(const HashRing&) = delete;
  HashRing& operator=(const HashRing&) = delete;

  const HashRingConfig& config() const { return config_; }

  // Membership. Errors: "node <id> already exists", "node <id> does not exist",
  // "node id must not be empty", ... Nothing changes on error.
  Status add_node(std::string_view id, std::string_view address = "", int port = 0);
  // Adds many alive nodes with one rebuild (O(P log P) for P vnodes) where
  // add_node would merge once per node: the same ring as adding them one by
  // one in this order. All or nothing: an error (a duplicate, a bad id, the
  // vnode limit) adds none.
  Status add_nodes(std::span<const std::string> ids);
  Status remove_node(std::string_view id);
  Status set_node_status(std::string_view id, NodeStatus status);
  // Clamped to [0, 1]; no effect on routing. Error on NaN or unknown id.
  Status update_node_load(std::string_view id, double load);

  // Lookups return node ids as views that stay valid for the ring's lifetime.
  // The primary owner, or nullopt when no node is alive ("no node").
  // Inline, so a caller's lookup loop pays no call: the fast path is a counter
  // bump, the per-thread view check and the snapshot's search.
  std::optional<std::string_view> get_node(std::string_view key) const {
    if (cache_) [[unlikely]] return get_node_cached(key);
    const Published& p = counted_view();
    const NodeIndex n = p.ring.primary(key);
    if (n == kNoNode) [[unlikely]] return std::nullopt;
    return p.ids[n];
  }
  // The first n distinct alive nodes clockwise (primary first); fewer when
  // fewer are alive. n may exceed the replication factor.
  std::vector<std::string_view> get_replicas(std::string_view key, std::size_t n) const;
  std::vector<std::string_view> get_replicas(std::string_view key) const {
    return get_replicas(key, config_.replication_factor);
  }
  // The same into a caller's vector (reusing its storage); returns the count.
  // Inline like get_node; the cached path, n == 0 and many replicas go out
  // of line.
  std::size_t get_replicas(std::string_view key, std::size_t n, std::vector<std::string_view>& out) const {
    if (cache_ || n - 1 >= kStackReplicas) [[unlikely]] return get_replicas_slow(key, n, out);
    const Published& p = counted_view();
    out.resize(std::min(n, p.ring.alive_count()));
    std::string_view* const dst = out.data();
    const std::string_view* const ids = p.ids.data();
    return p.ring.replicas_each(p.ring.hash(key), n, [dst, ids](std::size_t i, NodeIndex node) { dst[i] = ids[node]; });
  }

  std::vector<NodeInfo> nodes() const;  // sorted by id
  std::optional<NodeInfo> node(std::string_view id) const;
  std::size_t node_count() const;
  std::size_t vnode_count() const;
  bool empty() const { return node_count() == 0; }
  RingMetrics metrics() const;

  // The current immutable state, for analytics and for handing to others.
  std::shared_ptr<const RingSnapshot> snapshot() const;

  // A published state: the snapshot plus its node ids as interned views.
  struct Published {
    RingSnapshot ring;
    std::vector<std::string_view> ids;  // by NodeIndex
    std::uint64_t version = 0;
  };

 private:
  // The per-thread cache of (ring, version) -> published state. Plain data,
  // so the fast path needs no TLS guard.
  struct ViewSlot {
    std::uint64_t ring_id;
    std::uint64_t version;
    const Published* state;
    std::atomic<std::uint64_t>* lookups;  // this thread's lookups_ cell; nullptr: shared
  };
  static constexpr std::size_t kViewSlots = 8;
  // constinit and inline: the compiler sees it needs no dynamic initialisation,
  // so reading it costs no TLS-wrapper check.
  static inline constinit thread_local ViewSlot tl_views_[kViewSlots] = {};
  // A slot's owner keeps its state alive until this thread reads another
  // version or ring through the slot, or exits: at most kViewSlots per thread.
  static thread_local std::shared_ptr<const Published> tl_view_owners_[kViewSlots];

  const Published& view() const { return *view_slot().state; }
  const ViewSlot& view_slot() const {
    const std::uint64_t v = version_.load(std::memory_order_acquire);
    const ViewSlot& slot = tl_views_[ring_id_ % kViewSlots];
    if (slot.ring_id == ring_id_ && slot.version == v) [[likely]] return slot;
    return refresh_view();
  }
  const ViewSlot& refresh_view() const;
  // view(), counting one lookup in this thread's cell.
  const Published& counted_view() const {
    const ViewSlot& slot = view_slot();
    if (slot.lookups != nullptr) [[likely]] {
      SlottedCounter::add_to(*slot.lookups);
    } else {
      lookups_.add();
    }
    return *slot.state;
  }
  std::optional<std::string_view> get_node_cached(std::string_view key) const;
  static constexpr std::size_t kStackReplicas = RingSnapshot::kMaxEachReplicas;  // get_replicas' inline path: 1..16
  std::size_t get_replicas_slow(std::string_view key, std::size_t n, std::vector<std::string_view>& out) const;
  void publish(RingSnapshot next, bool routing_changed);  // holds write_mu_
  TimeNs now() const { return clock_ ? clock_->now() : 0; }

  // Read by every lookup, written only on a change: a cache line of their own.
  alignas(64) std::atomic<std::uint64_t> version_{1};
  const std::uint64_t ring_id_;  // tells this ring's entries apart in per-thread caches
  const HashRingConfig config_;
  const Clock* const clock_;
  std::unique_ptr<LookupCache> cache_;  // null when off

  alignas(64) mutable std::mutex write_mu_;  // membership changes and node records

  absl::flat_hash_map<std::string, NodeInfo> infos_;
  absl::node_hash_set<std::string> interned_ids_;  // stable addresses; never shrinks
  std::uint64_t routing_changes_ = 0;

  mutable std::mutex publish_mu_;  // guards current_; held only to copy a pointer
  std::shared_ptr<const Published> current_;
  mutable SlottedCounter lookups_;
  mutable SlottedCounter cache_hits_;
};

}  // namespace hcsim::core
