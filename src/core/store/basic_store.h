// BasicStore: one node's key-value store with TTL, a real memory budget and
// synchronous eviction. Every byte it holds (entry headers, keys, values,
// allocator rounding, its hash table, id directory, TTL index, eviction
// metadata and cuckoo filter) is charged to its MemoryPool, so max_memory_bytes
// is what it really spends. Single owner: not thread-safe (ShardedStore adds
// locking); it reads time only from the injected Clock and randomness only
// from the injected RandomSource, and starts no threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/filter/cuckoo_filter.h"
#include "core/runtime/clock.h"
#include "core/runtime/random.h"
#include "core/store/eviction_policy.h"
#include "core/store/id_table.h"
#include "core/store/memory_pool.h"
#include "core/util/result.h"
#include "core/util/status.h"

namespace hcsim::core {

// Bounds on input: a key is at most 65535 bytes, a value at most 512 MiB
// (Redis's default proto-max-bulk-len).
inline constexpr std::size_t kMaxKeyBytes = 65535;
inline constexpr std::uint64_t kMaxValueBytes = 512ULL << 20;

// The store's key hash (XXH3-64): table, filter and shard choice all use it.
inline std::uint64_t store_key_hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

// A key with its hash computed once; converts implicitly from a string_view.
struct HashedKey {
  HashedKey(std::string_view k) : key(k), hash(store_key_hash(k)) {}  // NOLINT: implicit by design
  HashedKey(const std::string& k) : HashedKey(std::string_view(k)) {}  // NOLINT
  HashedKey(const char* k) : HashedKey(std::string_view(k)) {}         // NOLINT
  HashedKey(std::string_view k, std::uint64_t h) : key(k), hash(h) {}
  std::string_view key;
  std::uint64_t hash;
};

struct BasicStoreConfig {
  std::string name;                    // required
  std::uint64_t max_memory_bytes = 0;  // required, > 0
  TimeNs default_ttl_ns = 0;           // 0: entries set without a TTL never expire
  EvictionConfig eviction;             // policy by name; "lru" by default
  bool filter_enabled = true;
  std::uint64_t filter_expected_items = 0;  // 0: max_memory_bytes / 64
  double filter_false_positive_rate = 0.002;
  std::uint32_t max_evictions_per_set = 4096;  // bound on the work one set may do
  std::uint32_t expiry_sample_size = 20;       // keys with a TTL sampled per sweep round
  std::uint32_t expiry_max_rounds = 16;        // rounds per active_expire() call
  double expiry_repeat_fraction = 0.25;        // repeat a round while more than this expired
};

struct StoreStats {
  std::uint64_t items = 0;
  std::uint64_t memory_used_bytes = 0;  // everything charged to the pool
  std::uint64_t key_value_bytes = 0;    // key + value bytes of live entries (size-only values included)
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t sets = 0;
  std::uint64_t deletes = 0;
  std::uint64_t evictions = 0;
  std::uint64_t expirations = 0;
  std::uint64_t errors = 0;
  std::uint64_t filter_rejects = 0;        // misses answered by the filter alone (see get())
  std::uint64_t filter_add_failures = 0;   // keys the filter had no room for (looked up without it)
  double hit_ratio = 0.0;                  // hits / (hits + misses), 0 with no lookups
};

struct GetResult {
  bool found = false;
  std::string_view value;         // payload; empty for size-only values. Valid until the next mutation.
  std::uint64_t value_bytes = 0;  // the value's size (also for size-only values)
};

struct TtlResult {
  enum class Kind : std::uint8_t { kMissing, kNoTtl, kExpiresIn };
  Kind kind = Kind::kMissing;
  TimeNs remaining_ns = 0;  // only for kExpiresIn, > 0
};

struct ExpiryStep {
  std::uint32_t rounds = 0;
  std::uint32_t sampled = 0;
  std::uint32_t expired = 0;
};

class BasicStore {
 public:
  // Errors: "store name cannot be empty", "max memory must be greater than 0",
  // the eviction config's rule, "filter_false_positive_rate must be between 0
  // and 1", "expiry_sample_size must be between 1 and 1024",
  // "expiry_max_rounds must be between 1 and 1024", "max_evictions_per_set
  // must be greater than 0", and a budget too small for the store's own
  // structures. `clock` and `random` must outlive the store.
  static Result<std::unique_ptr<BasicStore>> create(BasicStoreConfig config, const Clock& clock,
                                                    RandomSource& random);
  ~BasicStore();
  BasicStore(const BasicStore&) = delete;
  BasicStore& operator=(const BasicStore&) = delete;

  // Stores a value (an empty one is valid). ttl_ns: nullopt means the
  // default TTL; otherwise it must be > 0. Evicts through the policy until the
  // entry fits, never the key being written. On error the key keeps its old
  // value (or stays absent); entries already evicted while making room stay
  // evicted, as in Redis. `value` may be this key's own current value; it must
  // not point at another entry of this store (copy a GetResult first).
  Status set(HashedKey key, std::string_view value, std::optional<TimeNs> ttl_ns = std::nullopt);
  // The same, holding only the value's size: identical memory accounting.
  Status set_size_only(HashedKey key, std::uint64_t value_bytes, std::optional<TimeNs> ttl_ns = std::nullopt);
  // A get consults the filter only while misses are common: of the last
  // few dozen gets (an exponentially decayed count), at least
  // kFilterMissShare missed. Measured over 1M keys, the filter saves a miss
  // about 100 ns (a table bucket from memory) and costs a hit about 50 ns
  // (its own bucket), so below about a third of misses it only slows gets
  // down; a hit-heavy store answers from the table alone (filter_rejects
  // then stays put) and a run of misses turns the filter back on within
  // about two dozen gets. Answers never depend on it: the filter has no
  // false negatives.
  GetResult get(HashedKey key) {
    LazyNow now(clock_);
    return get_at(key, now);
  }
  // Many gets at one instant (a multi-key get, like Redis's MGET): results[i]
  // is what get(keys[i]) would return, with the same stats and policy
  // updates, in order. The filter and table buckets of up to 8 keys are
  // loaded together first, so their cache misses overlap instead of
  // following one another. results.size() must be at least keys.size(); each
  // value stays valid until the next mutation (a later key of the same batch
  // never frees an entry an earlier one found: the time does not move).
  void get_many(std::span<const HashedKey> keys, std::span<GetResult> results);
  // Many sets (a multi-key set, like Redis's MSET, but each key succeeds or
  // fails on its own): statuses[i] is what set(keys[i], values[i], ttl_ns)
  // would return, with the same effects, in order (a key given twice ends
  // with its later value). The table buckets and first filter buckets of
  // up to 8 keys are loaded together first, so that new keys' cache misses
  // overlap instead of following one another. values.size() and
  // statuses.size() must be at least keys.size(); a value may not point
  // into this store (copy a GetResult first).
  void set_many(std::span<const HashedKey> keys, std::span<const std::string_view> values,
                std::span<Status> statuses, std::optional<TimeNs> ttl_ns = std::nullopt);
  bool del(HashedKey key);
  // Neither exists() nor ttl() counts as a hit or a miss.
  bool exists(HashedKey key);
  TtlResult ttl(HashedKey key);
  // Sets a TTL on an existing key (false if missing). ttl_ns <= 0 deletes the
  // key, as Redis's EXPIRE does.
  bool expire(HashedKey key, TimeNs ttl_ns);
  // Removes a key's TTL; false if the key is missing or has none.
  bool persist(HashedKey key);
  void clear();

  // The bounded active sweep the caller drives (Redis style): sample up to
  // expiry_sample_size keys that have a TTL (probing at most 16 times that
  // many random entries), delete the expired ones, repeat while more than
  // expiry_repeat_fraction of a sample had expired, at most
  // expiry_max_rounds rounds.
  ExpiryStep active_expire();

  std::size_t size() const { return table_.size(); }
  std::uint64_t memory_used_bytes() const { return pool_->used_bytes(); }
  const std::string& name() const { return name_; }
  std::string_view policy_name() const { return policy_->name(); }
  StoreStats stats() const;
  MemoryPoolStats memory_stats() const { return pool_->stats(); }
  std::optional<CuckooFilterStats> filter_stats() const;
  // Filter-only operations (the seed's FilterContains/FilterAdd, used by gossip).
  bool filter_contains(HashedKey key) const;

  // Calls fn(key, value_bytes, expire_at_ns) for every live entry (expire_at
  // 0: no TTL) in id order, which is deterministic (never the hash table's
  // order, which depends on addresses). fn must not modify the store.
  template <class Fn>
  void for_each_live(Fn&& fn) const {
    const TimeNs now = clock_.now();
    for (const Entry* e : directory_) {
      if (e != nullptr && !is_expired(*e, now)) fn(e->key(), std::uint64_t{e->value_bytes}, e->expire_at_ns);
    }
  }

 private:
  static constexpr std::uint8_t kHasPayload = 1;
  static constexpr std::uint8_t kInFilter = 2;
  // How often a set asks the policy again when it offers the key being set.
  static constexpr std::uint32_t kSelfVictimRetries = 8;

  // One pool chunk: this 16-byte header, then the key bytes, then the value
  // bytes (absent for size-only values, which are charged as if present).
  struct Entry {
    TimeNs expire_at_ns;  // 0: no TTL
    std::uint32_t value_bytes;
    std::uint16_t key_bytes;
    std::uint8_t flags;
    std::uint8_t unused;

    char* key_data() { return reinterpret_cast<char*>(this + 1); }
    const char* key_data() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view key() const { return {key_data(), key_bytes}; }
    // key() == k, with the common 8..16-byte keys compared in two loads
    // rather than through a call to memcmp: a get is short enough that the
    // CPU overlaps its table miss with the next get's only if it stays lean.
    bool has_key(std::string_view k) const {
      const std::size_t n = k.size();
      if (n != key_bytes) return false;
      if (n >= 8 && n <= 16) {
        return ((load8(key_data()) ^ load8(k.data())) | (load8(key_data() + n - 8) ^ load8(k.data() + n - 8))) == 0;
      }
      return bytes_equal(key_data(), k.data(), n);
    }
    std::string_view payload() const {
      return (flags & kHasPayload) ? std::string_view(key_data() + key_bytes, value_bytes) : std::string_view();
    }
    std::size_t chunk_bytes() const { return chunk_size(key(), value_bytes, (flags & kHasPayload) != 0); }
    std::size_t charged_bytes() const { return sizeof(Entry) + key_bytes + value_bytes; }
  };
  static_assert(sizeof(Entry) == 16, "the entry header is part of the per-entry overhead");
  // The pool chunk an entry of this key and value takes (a size-only value
  // has no payload bytes in it).
  static std::size_t chunk_size(std::string_view key, std::uint64_t value_bytes, bool has_payload) {
    return sizeof(Entry) + key.size() + (has_payload ? value_bytes : 0);
  }

  // The table maps key hashes to ids; equality looks through the directory
  // at the entry's key.
  EntryId* find_slot(const HashedKey& key) {
    return table_.find(key.hash, [&](EntryId id) { return directory_[id]->has_key(key.key); });
  }
  // Out of line: the common keys never get here, and inline its call would
  // make the compiler keep the whole probe loop's state across it.
  [[gnu::noinline]] static bool bytes_equal(const char* a, const char* b, std::size_t n) {
    return std::memcmp(a, b, n) == 0;
  }
  static std::uint64_t load8(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }

  BasicStore(BasicStoreConfig config, const Clock& clock, RandomSource& random,
             std::unique_ptr<MemoryPool> pool, std::unique_ptr<EvictionPolicy> policy,
             std::optional<CuckooFilter> filter);

  Status put(HashedKey key, std::string_view payload, std::uint64_t value_bytes, bool has_payload,
             std::optional<TimeNs> ttl_ns);
  Status overwrite(EntryId id, const HashedKey& key, std::string_view payload, std::uint64_t value_bytes,
                   bool has_payload, TimeNs expire_at, std::size_t need, TimeNs now);
  GetResult get_at(const HashedKey& key, LazyNow& now);
  // The live entry for key, after lazy expiry; nullopt if none.
  std::optional<EntryId> find_live(const HashedKey& key, LazyNow& now) {
    const EntryId* slot = find_slot(key);
    if (slot == nullptr) return std::nullopt;
    const EntryId id = *slot;
    if (directory_[id]->expire_at_ns != 0 && drop_if_expired(id, key.hash, now)) return std::nullopt;
    return id;
  }
  // For an entry with a TTL: if it has expired, removes it and returns true.
  [[gnu::noinline]] bool drop_if_expired(EntryId id, std::uint64_t hash, LazyNow& now);
  bool is_expired(const Entry& e, TimeNs now) const;
  void remove_entry(EntryId id, std::uint64_t hash, RemoveReason reason) { free_entry(detach_entry(id, hash, reason)); }
  // remove_entry but for freeing: the entry leaves the table, filter, policy
  // and directory, and its memory is still the caller's to free.
  Entry* detach_entry(EntryId id, std::uint64_t hash, RemoveReason reason);
  Entry* allocate_entry(const HashedKey& key, std::string_view payload, std::uint64_t value_bytes,
                        bool has_payload);
  void free_entry(Entry* e);
  // A size-only entry is charged for its payload outside its chunk; this
  // gives that charge back (the first half of freeing it).
  void release_payload_charge(const Entry* e);
  void set_expiry(EntryId id, TimeNs expire_at_ns);
  // For a set of `key_hash` that will evict: starts loading what evicting
  // the policy's next victim touches (its entry's table bucket and first
  // filter bucket), and what the policy reads to insert the key, so those
  // misses overlap the new key's lookup.
  [[gnu::noinline]] void prefetch_victim(std::uint64_t key_hash, TimeNs now);
  // put()'s rare paths, out of line so that its common one stays short:
  // errors (counted; fail_full: no room and nothing to evict, or
  // noeviction; fail_could_not_free: max_evictions_per_set ran out;
  // fail_could_not_allocate: the system refused the memory), making
  // room for `need` bytes (evicting), and evicting what the new entry
  // `id`'s index growth took past the budget.
  [[gnu::noinline]] Status fail(std::string message);
  [[gnu::noinline]] Status fail_full();
  [[gnu::noinline]] Status fail_could_not_free(std::size_t need);
  [[gnu::noinline]] Status fail_could_not_allocate(std::size_t need);
  // chunk: the new entry's chunk size (see spare_).
  [[gnu::noinline]] Status make_room(std::size_t need, std::size_t chunk, TimeNs now);
  [[gnu::noinline]] void pay_back_index_growth(EntryId id, TimeNs now);
  bool evict_one(TimeNs now);
  // Removes a policy-chosen victim and counts it. Given the chunk size and
  // charge of an entry about to be stored, it keeps the victim's chunk as
  // spare_ instead of freeing it when the new entry can take it (same size
  // class, and the budget then holds), and returns true.
  bool evict(EntryId id, std::size_t need = 0, std::size_t chunk = 0);
  void sync_index_charge();
  std::uint64_t index_bytes() const;

  std::string name_;
  BasicStoreConfig config_;
  const Clock& clock_;
  RandomSource& random_;
  std::unique_ptr<MemoryPool> pool_;
  std::unique_ptr<EvictionPolicy> policy_;
  std::optional<CuckooFilter> filter_;
  bool policy_uses_time_ = true;  // the policy reads the `now` it is given
  // The decayed miss count of gets: each get takes 1/2^kMissScoreShift off
  // and a miss adds kMissScoreUnit, so it settles at kMissScoreAll times
  // the share of misses. Starts as if every get missed.
  static constexpr double kFilterMissShare = 0.3;
  static constexpr unsigned kMissScoreShift = 6;
  static constexpr std::uint32_t kMissScoreUnit = 1024;
  static constexpr std::uint32_t kMissScoreAll = kMissScoreUnit << kMissScoreShift;
  static constexpr auto kMissScoreConsult = static_cast<std::uint32_t>(kFilterMissShare * kMissScoreAll);
  static constexpr std::uint32_t kNeverConsult = kMissScoreAll + 1;  // above any score
  std::uint32_t miss_score_ = kMissScoreAll;
  // kMissScoreConsult while there is a filter to consult, else kNeverConsult
  // (no filter, or it is saturated: some live key is not in it, so gets
  // look up without it until clear()). One compare per get.
  std::uint32_t consult_at_ = kNeverConsult;
  bool consult_filter() const { return miss_score_ >= consult_at_; }
  void trust_filter() { consult_at_ = filter_ ? kMissScoreConsult : kNeverConsult; }
  void count_get(bool miss) { miss_score_ += (miss ? kMissScoreUnit : 0) - (miss_score_ >> kMissScoreShift); }

  // The entry prefetch_victim hashed, and its key's hash, so that evicting
  // it does not hash the key again. Valid while that entry lives: an
  // entry's key never changes, and free_entry forgets it before its memory
  // can hold another.
  const Entry* hinted_victim_ = nullptr;
  std::uint64_t hinted_victim_hash_ = 0;

  // An evicted entry's chunk, still charged, that make_room kept for the
  // entry put() stores next: allocate_entry takes it (MemoryPool::reuse),
  // sparing the pool a free and an allocation in the same span. Only ever
  // set between make_room and that allocate_entry.
  Entry* spare_ = nullptr;
  std::size_t spare_chunk_ = 0;  // the size it was allocated for

  std::vector<Entry*> directory_;   // EntryId -> entry
  std::vector<EntryId> free_ids_;   // ids to reuse, LIFO so ids stay dense
  std::size_t ttl_entries_ = 0;     // live entries with a TTL
  IdTable table_;
  std::uint64_t index_charged_bytes_ = 0;

  StoreStats stats_;
};

// Inline: a get must stay short for the CPU to overlap one get's table miss
// with the next get's (see has_key).
inline GetResult BasicStore::get_at(const HashedKey& key, LazyNow& now) {
  if (key.key.empty()) {
    ++stats_.errors;
    return {};
  }
  if (consult_filter() && !filter_->contains(key.hash)) {
    count_get(true);
    ++stats_.misses;
    ++stats_.filter_rejects;
    return {};
  }
  // The clock is read only when an answer depends on it (LazyNow): an entry
  // with a TTL, or a policy that records access times. A clock read (rdtsc
  // behind a fence) would otherwise stop the CPU from overlapping one get's
  // cache misses with the next's.
  const std::optional<EntryId> id = find_live(key, now);
  count_get(!id);
  if (!id) {
    ++stats_.misses;
    return {};
  }
  ++stats_.hits;
  policy_->on_access(*id, policy_uses_time_ ? now() : 0);
  const Entry* e = directory_[*id];
  return {.found = true, .value = e->payload(), .value_bytes = e->value_bytes};
}

}  // namespace hcsim::core
