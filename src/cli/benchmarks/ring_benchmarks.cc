// Ring benchmarks: the seed's setup (10 nodes x 256 vnodes, keys key:0..999,
// 3 replicas), cold-key variants that no cache can help, membership change,
// and a plain std::lower_bound ring as a same-run baseline.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/benchmarks/bench_registry.h"
#include "core/ring/hash_ring.h"

namespace hcsim::cli {
namespace {

constexpr std::uint32_t kSeedNodes = 10;
constexpr std::uint32_t kSeedVnodes = 256;
constexpr std::size_t kWarmKeys = 1000;
constexpr std::size_t kColdKeys = 1000000;
constexpr std::size_t kReplicas = 3;

std::vector<std::string> make_keys(std::size_t n) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) keys.push_back(fmt::format("key:{}", i));
  return keys;
}

void add_seed_nodes(core::HashRing& ring) {
  for (std::uint32_t i = 1; i <= kSeedNodes; ++i) {
    if (!ring.add_node(fmt::format("node{}", i)).is_ok()) std::abort();
  }
}

// Built once, shared by all threads of a benchmark (the ring is thread-safe).
const core::HashRing& seed_ring() {
  static core::HashRing* ring = [] {
    auto* r = new core::HashRing();  // lives for the process: threads may still read it
    add_seed_nodes(*r);
    return r;
  }();
  return *ring;
}
const std::vector<std::string>& warm_keys() {
  static const std::vector<std::string> keys = make_keys(kWarmKeys);
  return keys;
}
const std::vector<std::string>& cold_keys() {
  static const std::vector<std::string> keys = make_keys(kColdKeys);
  return keys;
}

// Threads start at different places in the key array.
std::size_t start_index(const benchmark::State& state, std::size_t n) {
  return (n / static_cast<std::size_t>(state.threads())) * static_cast<std::size_t>(state.thread_index());
}

// The loops read the key array through locals: DoNotOptimize's memory
// clobber would otherwise reload the vector's bounds on every lookup.
void run_getnode(benchmark::State& state, const std::vector<std::string>& keys) {
  const core::HashRing& ring = seed_ring();
  const std::string* const data = keys.data();
  const std::size_t n = keys.size();
  std::size_t i = start_index(state, n);
  for (auto _ : state) {
    auto node = ring.get_node(data[i]);
    benchmark::DoNotOptimize(node);
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void run_getreplicas(benchmark::State& state, const std::vector<std::string>& keys) {
  const core::HashRing& ring = seed_ring();
  std::vector<std::string_view> out;
  out.reserve(kReplicas);
  const std::string* const data = keys.data();
  const std::size_t n = keys.size();
  std::size_t i = start_index(state, n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring.get_replicas(data[i], kReplicas, out));
    benchmark::DoNotOptimize(out.data());
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// A direct port of the seed's layout: {position, node id, index} records
// sorted by position, std::lower_bound, no index table.
void run_baseline_lower_bound(benchmark::State& state) {
  struct VNode {
    std::uint64_t position;
    std::string node;
    std::uint32_t index;
  };
  static const std::vector<VNode> vnodes = [] {
    std::vector<VNode> v;
    for (std::uint32_t n = 1; n <= kSeedNodes; ++n) {
      const std::string id = fmt::format("node{}", n);
      for (std::uint32_t i = 0; i < kSeedVnodes; ++i) {
        v.push_back({core::hash_key(core::HashKind::kXxh64, core::vnode_key(id, i)), id, i});
      }
    }
    std::sort(v.begin(), v.end(), [](const VNode& a, const VNode& b) { return a.position < b.position; });
    return v;
  }();
  const std::vector<std::string>& keys = cold_keys();
  std::size_t i = start_index(state, keys.size());
  for (auto _ : state) {
    const std::uint64_t h = core::hash_key(core::HashKind::kXxh64, keys[i]);
    auto it = std::lower_bound(vnodes.begin(), vnodes.end(), h,
                               [](const VNode& v, std::uint64_t x) { return v.position < x; });
    if (it == vnodes.end()) it = vnodes.begin();
    std::string node = it->node;
    benchmark::DoNotOptimize(node);
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void run_addremove(benchmark::State& state) {
  core::HashRing ring;  // one per thread: membership changes are serialised anyway
  add_seed_nodes(ring);
  const std::string extra = fmt::format("node{}", kSeedNodes + 1);
  for (auto _ : state) {
    if (!ring.add_node(extra).is_ok() || !ring.remove_node(extra).is_ok()) {
      state.SkipWithError("add/remove failed");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

std::vector<BenchSpec> ring_benchmarks() {
  const std::string seed = fmt::format("{} nodes x {} vnodes, xxh64, no lookup cache", kSeedNodes, kSeedVnodes);
  return {
      {"getnode", seed + ", keys key:0..999 in turn",
       [](benchmark::State& s) { run_getnode(s, warm_keys()); }},
      {"getnode-cold", seed + ", 1,000,000 distinct pre-generated keys walked in order",
       [](benchmark::State& s) { run_getnode(s, cold_keys()); }},
      {"getreplicas", seed + ", 3 replicas into a reused vector, keys key:0..999 in turn",
       [](benchmark::State& s) { run_getreplicas(s, warm_keys()); }},
      {"getreplicas-cold", seed + ", 3 replicas into a reused vector, 1,000,000 distinct keys",
       [](benchmark::State& s) { run_getreplicas(s, cold_keys()); }},
      {"addremove", seed + ", add then remove an 11th 256-vnode node (one item = both)", run_addremove},
      {"baseline-lowerbound",
       "same ring as a seed-style sorted {position, id, index} vector + std::lower_bound, 1,000,000 keys",
       run_baseline_lower_bound},
  };
}

}  // namespace hcsim::cli
