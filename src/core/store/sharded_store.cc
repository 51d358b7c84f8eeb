#include "core/store/sharded_store.h"

#include <atomic>
#include <cassert>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

#include <fmt/format.h>

namespace hcsim::core {

namespace {

// Cache line size assumed for layout (std::hardware_destructive_interference_size
// is 64 on x86-64 and most ARM cores; GCC warns when it is used in a layout).
constexpr std::size_t kCacheLineBytes = 64;

// Pause in a spin loop: lets the sibling hyperthread run and ends the loop
// without a memory-order mis-speculation when the lock frees.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// The shard lock. std::mutex (glibc) sleeps in the kernel on the first failed
// attempt, and the holder then pays a futex wake on unlock; on a VM that
// round trip (a halted vCPU woken by an IPI) costs several microseconds, many
// times a shard operation (~0.7 us). With two threads on 16 shards about one
// lock() in 18 finds the other thread holding the shard (measured: 5.4%), so
// two threads were slower than one (store-sharded: ~55,000 futex calls/s).
// This lock spins for a bounded time first (longer than any ordinary shard
// operation) and only then sleeps on the atomic (a futex on Linux), so a
// preempted or slow holder (clear(), a long eviction run) costs no CPU.
// state_: 0 free, 1 held, 2 held and a thread may be asleep waiting.
class ShardLock {
 public:
  void lock() {
    std::uint32_t expected = 0;
    if (state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
    lock_contended();
  }
  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == 2) state_.notify_one();
  }

 private:
  // A pause takes 26 ns on this project's AMD EPYC VMs (~40 ns on recent
  // Intel cores): about 8-15 us in all, ten times a shard operation.
  static constexpr int kSpins = 300;

  void lock_contended() {
    for (int i = 0; i < kSpins; ++i) {
      cpu_relax();
      // Read before trying: a failing CAS would take the line away from the holder.
      std::uint32_t expected = 0;
      if (state_.load(std::memory_order_relaxed) == 0 &&
          state_.compare_exchange_weak(expected, 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return;
      }
    }
    // Sleep. Taking the lock with state 2 keeps unlock() waking the others;
    // at worst one wake too many.
    while (state_.exchange(2, std::memory_order_acquire) != 0) state_.wait(2, std::memory_order_relaxed);
  }

  std::atomic<std::uint32_t> state_{0};
};

}  // namespace

// One shard on one cache line of its own (lock, random stream, store
// pointer: 56 bytes), so a thread working on one shard never takes a line from
// a thread working on another. (They were separate 88-byte heap blocks packed
// against each other and against the previous shard's BasicStore, whose
// counters change on every operation.)
struct alignas(kCacheLineBytes) ShardedStore::Shard {
  explicit Shard(std::uint64_t seed) : random(seed) {}
  mutable ShardLock mu;
  SeededRandom random;  // declared before store: the store keeps a reference to it
  std::unique_ptr<BasicStore> store;
};

Result<std::unique_ptr<ShardedStore>> ShardedStore::create(ShardedStoreConfig config, const Clock& clock) {
  if (config.shards == 0 || config.shards > 1024 || !std::has_single_bit(config.shards)) {
    return Status::error("shards must be a power of two between 1 and 1024");
  }
  if (config.store.max_memory_bytes == 0) return Status::error("max memory must be greater than 0");
  std::vector<std::unique_ptr<Shard>> shards;
  std::uint64_t seed_state = config.seed;
  for (std::uint32_t i = 0; i < config.shards; ++i) {
    auto shard = std::make_unique<Shard>(splitmix64(seed_state));
    BasicStoreConfig c = config.store;
    c.max_memory_bytes = config.store.max_memory_bytes / config.shards;
    if (c.filter_expected_items != 0) c.filter_expected_items = (c.filter_expected_items + config.shards - 1) / config.shards;
    if (!config.store.name.empty()) c.name = fmt::format("{}/{}", config.store.name, i);
    Result<std::unique_ptr<BasicStore>> store = BasicStore::create(std::move(c), clock, shard->random);
    if (!store.is_ok()) return store.status();
    shard->store = std::move(store).value();
    shards.push_back(std::move(shard));
  }
  return std::unique_ptr<ShardedStore>(new ShardedStore(std::move(shards)));
}

ShardedStore::ShardedStore(std::vector<std::unique_ptr<Shard>> shards) : shards_(std::move(shards)) {
  static_assert(alignof(Shard) == kCacheLineBytes && sizeof(Shard) == kCacheLineBytes);
  shift_ = 64U - static_cast<unsigned>(std::countr_zero(shards_.size()));
}

ShardedStore::~ShardedStore() = default;

ShardedStore::Shard& ShardedStore::shard_for(const HashedKey& key) const { return *shards_[shard_of(key)]; }

Status ShardedStore::set(HashedKey key, std::string_view value, std::optional<TimeNs> ttl_ns) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  return s.store->set(key, value, ttl_ns);
}

Status ShardedStore::set_size_only(HashedKey key, std::uint64_t value_bytes, std::optional<TimeNs> ttl_ns) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  return s.store->set_size_only(key, value_bytes, ttl_ns);
}

bool ShardedStore::get(HashedKey key, std::string* value_out) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  const GetResult r = s.store->get(key);
  if (r.found && value_out != nullptr) value_out->assign(r.value);
  return r.found;
}

template <class Fn>
void ShardedStore::for_each_shard_group(std::span<const HashedKey> keys, Fn&& fn) {
  // A counting sort by shard: stable, so each shard's keys keep their order.
  assert(keys.size() <= UINT32_MAX);
  std::vector<std::uint32_t> starts(shards_.size() + 1, 0);
  for (const HashedKey& k : keys) ++starts[shard_of(k) + 1];
  for (std::size_t g = 1; g < starts.size(); ++g) starts[g] += starts[g - 1];
  std::vector<std::uint32_t> next(starts.begin(), starts.end() - 1);
  std::vector<std::uint32_t> order(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) order[next[shard_of(keys[i])]++] = static_cast<std::uint32_t>(i);
  std::vector<HashedKey> group_keys;
  for (std::size_t g = 0; g < shards_.size(); ++g) {
    if (starts[g] == starts[g + 1]) continue;
    const std::span<const std::uint32_t> positions(order.data() + starts[g], starts[g + 1] - starts[g]);
    group_keys.clear();
    for (const std::uint32_t p : positions) group_keys.push_back(keys[p]);
    Shard& s = *shards_[g];
    std::lock_guard lock(s.mu);
    fn(*s.store, std::span<const HashedKey>(group_keys), positions);
  }
}

void ShardedStore::set_many(std::span<const HashedKey> keys, std::span<const std::string_view> values,
                            std::span<Status> statuses, std::optional<TimeNs> ttl_ns) {
  assert(values.size() >= keys.size() && statuses.size() >= keys.size());
  std::vector<std::string_view> group_values;
  std::vector<Status> group_statuses;
  for_each_shard_group(keys, [&](BasicStore& store, std::span<const HashedKey> group_keys,
                                 std::span<const std::uint32_t> positions) {
    group_values.clear();
    for (const std::uint32_t p : positions) group_values.push_back(values[p]);
    group_statuses.assign(positions.size(), Status::ok());
    store.set_many(group_keys, group_values, group_statuses, ttl_ns);
    for (std::size_t j = 0; j < positions.size(); ++j) statuses[positions[j]] = std::move(group_statuses[j]);
  });
}

void ShardedStore::get_many(std::span<const HashedKey> keys, std::span<std::optional<std::string>> results) {
  assert(results.size() >= keys.size());
  std::vector<GetResult> group_results;
  for_each_shard_group(keys, [&](BasicStore& store, std::span<const HashedKey> group_keys,
                                 std::span<const std::uint32_t> positions) {
    group_results.resize(group_keys.size());
    store.get_many(group_keys, group_results);
    // Copied while the lock is held: the values point into the store.
    for (std::size_t j = 0; j < positions.size(); ++j) {
      const GetResult& r = group_results[j];
      if (r.found) {
        results[positions[j]] = std::string(r.value);
      } else {
        results[positions[j]].reset();
      }
    }
  });
}

bool ShardedStore::del(HashedKey key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  return s.store->del(key);
}

bool ShardedStore::exists(HashedKey key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  return s.store->exists(key);
}

TtlResult ShardedStore::ttl(HashedKey key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  return s.store->ttl(key);
}

bool ShardedStore::expire(HashedKey key, TimeNs ttl_ns) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  return s.store->expire(key, ttl_ns);
}

bool ShardedStore::persist(HashedKey key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  return s.store->persist(key);
}

void ShardedStore::clear() {
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    s->store->clear();
  }
}

ExpiryStep ShardedStore::active_expire() {
  ExpiryStep total;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    const ExpiryStep step = s->store->active_expire();
    total.rounds += step.rounds;
    total.sampled += step.sampled;
    total.expired += step.expired;
  }
  return total;
}

std::size_t ShardedStore::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->store->size();
  }
  return n;
}

std::uint64_t ShardedStore::memory_used_bytes() const {
  std::uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->store->memory_used_bytes();
  }
  return n;
}

StoreStats ShardedStore::shard_stats(std::uint32_t shard) const {
  const Shard& s = *shards_.at(shard);
  std::lock_guard lock(s.mu);
  return s.store->stats();
}

StoreStats ShardedStore::stats() const {
  StoreStats total;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    const StoreStats st = s->store->stats();
    total.items += st.items;
    total.memory_used_bytes += st.memory_used_bytes;
    total.key_value_bytes += st.key_value_bytes;
    total.hits += st.hits;
    total.misses += st.misses;
    total.sets += st.sets;
    total.deletes += st.deletes;
    total.evictions += st.evictions;
    total.expirations += st.expirations;
    total.errors += st.errors;
    total.filter_rejects += st.filter_rejects;
    total.filter_add_failures += st.filter_add_failures;
  }
  const std::uint64_t lookups = total.hits + total.misses;
  total.hit_ratio = lookups == 0 ? 0.0 : static_cast<double>(total.hits) / static_cast<double>(lookups);
  return total;
}

}  // namespace hcsim::core
