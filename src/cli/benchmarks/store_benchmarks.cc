// Store benchmarks: 1,000,000 keys of 16 bytes ("key:" + 12 digits) with
// 64-byte values, single thread unless named. Keys are pre-generated (key
// formatting is not timed) and walked in the order they were written, as the
// ring's cold-key benchmarks walk theirs; each operation hashes its key once.
// The -shuffled variants visit them in a random order instead, so every
// entry, directory slot and policy record is a cache miss too.
// `memory-random-read` (independent misses) and `memory-dependent-read`
// (one miss's latency) measure the machine's costs in the same run.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/benchmarks/bench_registry.h"
#include "core/runtime/real_clock.h"
#include "core/store/basic_store.h"
#include "core/store/sharded_store.h"
#include "core/util/huge_page_allocator.h"

namespace hcsim::cli {
namespace {

constexpr std::size_t kKeys = 1'000'000;
constexpr std::size_t kValueBytes = 64;
constexpr std::uint64_t kRoomyBudget = 1ULL << 30;  // charged bytes; never reached

std::string bench_key(std::size_t i, char prefix = 'k') {
  return fmt::format("{}ey:{:012}", prefix, i);  // 16 bytes
}

// Fisher-Yates, from a fixed seed.
template <typename T>
void shuffle(std::vector<T>& items, std::uint64_t seed) {
  core::SeededRandom random(seed);
  for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[random.uniform(i)]);
}

std::vector<std::string> make_keys(std::size_t n, char prefix, bool shuffled) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) keys.push_back(bench_key(i, prefix));
  if (shuffled) shuffle(keys, 99);
  return keys;
}

const std::vector<std::string>& present_keys() {
  static const std::vector<std::string> keys = make_keys(kKeys, 'k', false);
  return keys;
}
const std::vector<std::string>& absent_keys() {
  static const std::vector<std::string> keys = make_keys(kKeys, 'K', false);
  return keys;
}
const std::vector<std::string>& shuffled_present_keys() {
  static const std::vector<std::string> keys = make_keys(kKeys, 'k', true);
  return keys;
}
const std::vector<std::string>& shuffled_absent_keys() {
  static const std::vector<std::string> keys = make_keys(kKeys, 'K', true);
  return keys;
}

// Independent random 8-byte reads over a 256 MiB array: the machine's cost
// of a cache and TLB miss, for scale.
void run_memory_random_read(benchmark::State& state) {
  static const std::vector<std::uint64_t> data(std::size_t{32} << 20, 1);
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  std::uint64_t sum = 0;
  for (auto _ : state) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sum += data[x & (data.size() - 1)];
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
// Dependent random reads (a pointer chase through one random cycle) over
// 256 MiB on huge pages: the latency of one cache miss, which a get of a
// key whose table bucket is not cached cannot avoid.
void run_memory_dependent_read(benchmark::State& state) {
  static const std::vector<std::uint32_t, core::HugePageAllocator<std::uint32_t>> next = [] {
    const std::size_t n = (std::size_t{256} << 20) / 64;  // one hop per 64-byte line
    std::vector<std::uint32_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
    shuffle(order, 5);
    std::vector<std::uint32_t, core::HugePageAllocator<std::uint32_t>> links(n * 16, 0);
    for (std::size_t i = 0; i < n; ++i) links[std::size_t{order[i]} * 16] = order[(i + 1) % n];
    return links;
  }();
  std::uint32_t at = 0;
  for (auto _ : state) at = next[std::size_t{at} * 16];
  benchmark::DoNotOptimize(at);
  state.SetItemsProcessed(state.iterations());
}

const std::string& value() {
  static const std::string v(kValueBytes, 'v');
  return v;
}

core::BasicStoreConfig store_config(std::uint64_t budget, const std::string& policy) {
  core::BasicStoreConfig c;
  c.name = "bench";
  c.max_memory_bytes = budget;
  c.eviction.policy = policy;
  c.filter_expected_items = kKeys;
  return c;
}

struct OwnedStore {
  core::RealClock clock;
  core::SeededRandom random{7};
  std::unique_ptr<core::BasicStore> store;
};

std::unique_ptr<OwnedStore> make_store(std::uint64_t budget, const std::string& policy) {
  auto owned = std::make_unique<OwnedStore>();
  auto r = core::BasicStore::create(store_config(budget, policy), owned->clock, owned->random);
  if (!r.is_ok()) {
    fmt::print(stderr, "bench store: {}\n", r.status().message());
    std::abort();
  }
  owned->store = std::move(r).value();
  return owned;
}

// An empty roomy store with the default policy.
std::unique_ptr<OwnedStore> make_roomy_store() { return make_store(kRoomyBudget, core::EvictionConfig{}.policy); }

void fill(core::BasicStore& store, const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    if (!store.set(k, value()).is_ok()) std::abort();
  }
}

// The default policy's store with every present key, built once.
OwnedStore& full_store() {
  static OwnedStore* owned = [] {
    auto s = make_roomy_store();
    fill(*s->store, present_keys());
    return s.release();
  }();
  return *owned;
}

// The loop reads the key array through locals, as the ring's benchmarks do:
// DoNotOptimize's memory clobber would otherwise reload the vector's bounds
// on every get.
void run_get(benchmark::State& state, const std::vector<std::string>& keys, bool expect_found) {
  core::BasicStore& store = *full_store().store;
  const std::string* const data = keys.data();
  const std::size_t n = keys.size();
  std::size_t i = 0;
  std::size_t wrong = 0;
  for (auto _ : state) {
    const core::GetResult r = store.get(data[i]);
    wrong += r.found != expect_found ? 1 : 0;
    benchmark::DoNotOptimize(r);
    if (++i == n) i = 0;
  }
  if (wrong != 0) state.SkipWithError("a lookup gave the wrong answer");
  state.SetItemsProcessed(state.iterations());
}

// get_many over batches of 16 keys; items are keys.
void run_get_many(benchmark::State& state, const std::vector<std::string>& keys) {
  constexpr std::size_t kBatch = 16;
  static_assert(kKeys % kBatch == 0);
  core::BasicStore& store = *full_store().store;
  std::vector<core::HashedKey> batch(kBatch, core::HashedKey(std::string_view()));
  std::vector<core::GetResult> results(kBatch);
  std::size_t i = 0;
  std::size_t missed = 0;
  for (auto _ : state) {
    for (std::size_t k = 0; k < kBatch; ++k) batch[k] = core::HashedKey(keys[i + k]);
    store.get_many(batch, results);
    for (const core::GetResult& r : results) missed += r.found ? 0 : 1;
    benchmark::DoNotOptimize(results.data());
    i += kBatch;
    if (i == keys.size()) i = 0;
  }
  if (missed != 0) state.SkipWithError("a present key was missed");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatch));
}

// Once all kKeys present keys are set (i == kKeys), a new empty store,
// made outside the timing.
void renew_when_spent(benchmark::State& state, std::unique_ptr<OwnedStore>& owned, std::size_t& i) {
  if (i != kKeys) return;
  state.PauseTiming();
  owned = make_roomy_store();
  i = 0;
  state.ResumeTiming();
}

void run_set_new(benchmark::State& state) {
  const std::vector<std::string>& keys = present_keys();
  auto owned = make_roomy_store();
  std::size_t i = 0;
  for (auto _ : state) {
    renew_when_spent(state, owned, i);
    if (!owned->store->set(keys[i++], value()).is_ok()) state.SkipWithError("set failed");
  }
  if (owned->store->stats().evictions != 0) state.SkipWithError("store-set must not evict");
  state.SetItemsProcessed(state.iterations());
}

// store-set through set_many, 16 new keys a call; items are keys.
void run_set_many_new(benchmark::State& state) {
  constexpr std::size_t kBatch = 16;
  static_assert(kKeys % kBatch == 0);
  const std::vector<std::string>& keys = present_keys();
  auto owned = make_roomy_store();
  std::vector<core::HashedKey> batch(kBatch, core::HashedKey(std::string_view()));
  const std::vector<std::string_view> values(kBatch, value());
  std::vector<core::Status> statuses(kBatch, core::Status::ok());
  std::size_t i = 0;
  std::size_t failed = 0;
  for (auto _ : state) {
    renew_when_spent(state, owned, i);
    for (std::size_t k = 0; k < kBatch; ++k) batch[k] = core::HashedKey(keys[i + k]);
    owned->store->set_many(batch, values, statuses);
    for (const core::Status& st : statuses) failed += st.is_ok() ? 0 : 1;
    i += kBatch;
  }
  if (failed != 0) state.SkipWithError("set failed");
  if (owned->store->stats().evictions != 0) state.SkipWithError("store-set-many must not evict");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatch));
}

// A store whose budget holds about 650,000 entries, filled; then every set
// is of a new key and evicts. The keys run through the present and the
// absent keys, 2,000,000 in all, so a key comes back only 2,000,000 sets
// after it was last set. (Over the 1,000,000 present keys alone, about 14%
// of sampled-lru's and 5% of s3fifo's sets found their key still stored,
// and overwrote it instead of evicting.) The counter evictions_per_set
// shows it.
void run_set_evict(benchmark::State& state, const std::string& policy) {
  const std::string* const halves[2] = {present_keys().data(), absent_keys().data()};
  const auto key = [&halves](std::size_t i) -> const std::string& {
    return i < kKeys ? halves[0][i] : halves[1][i - kKeys];
  };
  auto owned = make_store(96ULL << 20, policy);
  std::size_t i = 0;
  while (owned->store->stats().evictions == 0) {
    if (!owned->store->set(key(i++), value()).is_ok()) std::abort();
  }
  const std::uint64_t evictions_before = owned->store->stats().evictions;
  for (auto _ : state) {
    if (!owned->store->set(key(i), value()).is_ok()) state.SkipWithError("set failed");
    if (++i == 2 * kKeys) i = 0;
  }
  const core::StoreStats s = owned->store->stats();
  state.counters["evictions_per_set"] =
      static_cast<double>(s.evictions - evictions_before) / static_cast<double>(state.iterations());
  state.counters["items"] = static_cast<double>(s.items);
  state.SetItemsProcessed(state.iterations());
}

// Bytes per entry beyond key and value: everything the pool is charged
// (headers, rounding, table, directory, TTL index, policy metadata, filter)
// minus the key and value bytes, over 1,000,000 entries.
void run_overhead(benchmark::State& state, const std::string& policy) {
  double per_entry = 0;
  for (auto _ : state) {
    auto owned = make_store(kRoomyBudget, policy);
    fill(*owned->store, present_keys());
    const core::StoreStats s = owned->store->stats();
    per_entry = static_cast<double>(s.memory_used_bytes - s.key_value_bytes) / static_cast<double>(s.items);
  }
  state.counters["overhead_bytes_per_entry"] = per_entry;
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kKeys));
}

// Threads share one sharded store (16 shards); each does 90% gets, 10% sets
// over its own stretch of the keys (keys of every shard, as a server's
// connections would), so the threads do meet on shards: about one operation
// in 18 finds the other thread holding its shard's lock.
core::ShardedStore& sharded_store() {
  static core::ShardedStore* store = [] {
    static core::RealClock clock;
    core::ShardedStoreConfig c;
    c.store = store_config(kRoomyBudget, core::EvictionConfig{}.policy);
    c.shards = 16;
    auto r = core::ShardedStore::create(c, clock);
    if (!r.is_ok()) std::abort();
    core::ShardedStore* s = std::move(r).value().release();
    for (const std::string& k : present_keys()) {
      if (!s->set(k, value()).is_ok()) std::abort();
    }
    return s;
  }();
  return *store;
}

// The keys thread `t` of `threads` works on in store-sharded-owned: those
// of the shards it owns (shard s belongs to thread s mod threads).
std::vector<std::string> owned_keys(const core::ShardedStore& store, int t, int threads) {
  std::vector<std::string> keys;
  for (const std::string& k : present_keys()) {
    if (store.shard_of(k) % static_cast<std::uint32_t>(threads) == static_cast<std::uint32_t>(t)) keys.push_back(k);
  }
  return keys;
}

// 90% gets and 10% sets, walking keys[begin, end) round and round.
void run_sharded_mix(benchmark::State& state, core::ShardedStore& store, const std::vector<std::string>& keys,
                     std::size_t begin, std::size_t end) {
  std::size_t i = begin;
  std::string out;
  std::uint32_t op = 0;
  std::size_t wrong = 0;  // this thread's own: nothing shared but the store
  for (auto _ : state) {
    if (++op == 10) {
      op = 0;
      wrong += store.set(keys[i], value()).is_ok() ? 0 : 1;
    } else {
      wrong += store.get(keys[i], &out) ? 0 : 1;
      benchmark::DoNotOptimize(out.data());
    }
    if (++i == end) i = begin;
  }
  if (wrong != 0) state.SkipWithError("a set failed or a present key was missed");
  state.SetItemsProcessed(state.iterations());
}

void run_sharded(benchmark::State& state) {
  const std::vector<std::string>& keys = present_keys();
  const std::size_t n = keys.size() / static_cast<std::size_t>(state.threads());
  const std::size_t begin = n * static_cast<std::size_t>(state.thread_index());
  run_sharded_mix(state, sharded_store(), keys, begin, begin + n);
}

void run_sharded_owned(benchmark::State& state) {
  core::ShardedStore& store = sharded_store();
  const std::vector<std::string> keys = owned_keys(store, state.thread_index(), state.threads());
  run_sharded_mix(state, store, keys, 0, keys.size());
}

// One cache line handed back and forth between this thread and a second
// one: each iteration is a round trip, two transfers of the line between
// cores (the price of any line two threads both write).
void run_cross_core(benchmark::State& state) {
  if (state.threads() != 1) {
    state.SkipWithError("memory-cross-core starts its own second thread: run it without --threads");
    for (auto _ : state) {
    }
    return;
  }
  alignas(64) std::atomic<std::uint64_t> turn{0};
  std::atomic<bool> stop{false};
  std::thread partner([&] {
    for (std::uint64_t expect = 1;; expect += 2) {
      while (turn.load(std::memory_order_acquire) != expect) {
        if (stop.load(std::memory_order_relaxed)) return;
      }
      turn.store(expect + 1, std::memory_order_release);
    }
  });
  std::uint64_t next = 1;
  for (auto _ : state) {
    turn.store(next, std::memory_order_release);
    while (turn.load(std::memory_order_acquire) != next + 1) {
    }
    next += 2;
  }
  stop.store(true, std::memory_order_relaxed);
  partner.join();
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

std::vector<BenchSpec> store_benchmarks() {
  const std::string policy = core::EvictionConfig{}.policy;
  std::vector<BenchSpec> specs = {
      {"store-get-hit", fmt::format("1M keys (16 B) x 64 B values, {} policy, filter on, hits in write order", policy),
       [](benchmark::State& s) { run_get(s, present_keys(), true); }},
      {"store-get-miss", "same store, 1M absent keys: the filter answers",
       [](benchmark::State& s) { run_get(s, absent_keys(), false); }},
      {"store-get-hit-shuffled", "store-get-hit with the keys in a random order",
       [](benchmark::State& s) { run_get(s, shuffled_present_keys(), true); }},
      {"store-get-miss-shuffled", "store-get-miss with the keys in a random order",
       [](benchmark::State& s) { run_get(s, shuffled_absent_keys(), false); }},
      {"store-get-many", "store-get-hit through get_many, 16 keys a call (misses of 8 keys overlap); per key",
       [](benchmark::State& s) { run_get_many(s, present_keys()); }},
      {"store-get-many-shuffled", "store-get-many with the keys in a random order; per key",
       [](benchmark::State& s) { run_get_many(s, shuffled_present_keys()); }},
      {"memory-random-read", "independent random 8-byte reads over 256 MiB: this machine's miss cost",
       run_memory_random_read},
      {"memory-dependent-read", "dependent random reads (a pointer chase) over 256 MiB of huge pages: one miss's latency",
       run_memory_dependent_read},
      {"store-set", "new 16 B keys with 64 B values into a roomy store (no eviction)", run_set_new},
      {"store-set-many", "store-set through set_many, 16 keys a call (misses of 8 keys overlap); per key",
       run_set_many_new},
  };
  for (const std::string p : {"lru", "sampled-lru", "sieve", "s3fifo", "session"}) {
    specs.push_back({fmt::format("store-set-evict-{}", p),
                     fmt::format("96 MiB store kept full, {} policy: every set of a new key evicts", p),
                     [p](benchmark::State& s) { run_set_evict(s, p); }});
  }
  for (const std::string p : {"lru", "sampled-lru", "sieve", "s3fifo", "session"}) {
    specs.push_back({fmt::format("store-overhead-{}", p),
                     fmt::format("1M entries, {} policy: charged bytes per entry beyond key and value", p),
                     [p](benchmark::State& s) { run_overhead(s, p); }});
  }
  specs.push_back({"store-sharded", "16-shard store, 1M keys, 90% get / 10% set per thread (use --threads 1,2)",
                   run_sharded});
  specs.push_back({"store-sharded-owned",
                   "store-sharded, each thread working only on the keys of its own shards (shard s to thread s mod "
                   "threads), as a server that routes a request to its shard's thread",
                   run_sharded_owned});
  specs.push_back({"memory-cross-core",
                   "one cache line passed between two threads and back (run it without --threads): a round trip",
                   run_cross_core});
  return specs;
}

}  // namespace hcsim::cli
