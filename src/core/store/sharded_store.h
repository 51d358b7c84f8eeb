// ShardedStore: the thread-safe store for a real server. N BasicStores, each
// behind its own lock with its own memory pool (budget / N), eviction policy,
// filter and seeded random stream; a key's shard comes from the top bits of
// its hash times an odd constant, so threads working on different keys
// rarely meet. Each shard's
// lock has a cache line of its own, and a thread that does meet another on a
// shard spins briefly before it sleeps (a shard operation takes about a
// microsecond). The simulator drives a BasicStore directly from its single
// thread instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/basic_store.h"

namespace hcsim::core {

struct ShardedStoreConfig {
  BasicStoreConfig store;       // name and max_memory_bytes are for the whole store
  std::uint32_t shards = 16;    // a power of two, 1..1024
  std::uint64_t seed = 1;       // shard i draws from SeededRandom(derived from seed and i)
};

class ShardedStore {
 public:
  // Errors: "shards must be a power of two between 1 and 1024", then the
  // BasicStore rules (applied to each shard's share of the budget).
  static Result<std::unique_ptr<ShardedStore>> create(ShardedStoreConfig config, const Clock& clock);
  ~ShardedStore();

  Status set(HashedKey key, std::string_view value, std::optional<TimeNs> ttl_ns = std::nullopt);
  Status set_size_only(HashedKey key, std::uint64_t value_bytes, std::optional<TimeNs> ttl_ns = std::nullopt);
  // Copies the value out under the shard's lock; false on a miss.
  bool get(HashedKey key, std::string* value_out);
  // Many sets and gets at once (a pipeline of requests). The keys are
  // grouped by shard; each shard takes its own keys in their order under one
  // hold of its lock, through BasicStore::set_many / get_many, so their
  // cache misses overlap. Keys of different shards never affect each other,
  // so set_many has the effect of the sets in order: statuses[i] is what
  // set(keys[i], values[i], ttl_ns) would have returned. get_many copies
  // each value out under its shard's lock, as get() does: results[i] is
  // keys[i]'s value, or nullopt on a miss. The spans after keys must be at
  // least as long as it.
  void set_many(std::span<const HashedKey> keys, std::span<const std::string_view> values,
                std::span<Status> statuses, std::optional<TimeNs> ttl_ns = std::nullopt);
  void get_many(std::span<const HashedKey> keys, std::span<std::optional<std::string>> results);
  bool del(HashedKey key);
  bool exists(HashedKey key);
  TtlResult ttl(HashedKey key);
  bool expire(HashedKey key, TimeNs ttl_ns);
  bool persist(HashedKey key);
  void clear();
  // One active-expiry step on every shard.
  ExpiryStep active_expire();

  std::size_t size() const;
  std::uint64_t memory_used_bytes() const;
  std::uint32_t shard_count() const { return static_cast<std::uint32_t>(shards_.size()); }
  // The shard that holds `key`, in [0, shard_count()): a server that gives
  // each shard to one thread routes a request to shard_of(key)'s thread.
  // The top bits of the hash times an odd constant: they depend on every
  // bit of the hash, so the keys of one shard still differ in every bit the
  // shard's store uses. (Picking by the hash's own top bits fixed them for
  // a shard, and the filter takes its fingerprints from the top 32: with 16
  // shards its false-positive rate was 0.023 instead of 0.0015.)
  std::uint32_t shard_of(const HashedKey& key) const {
    constexpr std::uint64_t kMix = 0x9e3779b97f4a7c15ULL;
    return shift_ >= 64 ? 0 : static_cast<std::uint32_t>((key.hash * kMix) >> shift_);
  }
  // Sums of the shards' counters (hit_ratio recomputed from the sums).
  StoreStats stats() const;
  // One shard's counters (a server that gives shards to threads watches
  // each thread's load with them); shard < shard_count(), else
  // std::out_of_range.
  StoreStats shard_stats(std::uint32_t shard) const;

 private:
  struct Shard;
  explicit ShardedStore(std::vector<std::unique_ptr<Shard>> shards);
  Shard& shard_for(const HashedKey& key) const;
  // For each shard holding some of `keys`, with its lock held:
  // fn(store, group_keys, positions), where group_keys are that shard's keys
  // in their order and positions[j] is group_keys[j]'s index in `keys`.
  template <class Fn>
  void for_each_shard_group(std::span<const HashedKey> keys, Fn&& fn);

  std::vector<std::unique_ptr<Shard>> shards_;
  unsigned shift_ = 64;
};

}  // namespace hcsim::core
