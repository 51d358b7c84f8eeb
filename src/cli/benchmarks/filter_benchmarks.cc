// Cuckoo filter benchmarks: lookups (half present, half absent) and adds,
// 1,000,000 pre-generated 16-byte keys, each hashed (XXH3-64) in the timed
// loop as the store does once per key.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cli/benchmarks/bench_registry.h"
#include "core/filter/cuckoo_filter.h"
#include "core/runtime/random.h"

namespace hcsim::cli {
namespace {

constexpr std::size_t kKeys = 1'000'000;
constexpr std::size_t kKeyBytes = 16;
using Key = std::array<char, kKeyBytes>;

// "<prefix:4><i as 12 digits>", e.g. key:000000000042: exactly 16 bytes.
Key make_key(std::string_view prefix, std::size_t i) {
  Key k{};
  std::copy(prefix.begin(), prefix.end(), k.begin());
  for (std::size_t d = kKeyBytes; d-- > prefix.size();) {
    k[d] = static_cast<char>('0' + i % 10);
    i /= 10;
  }
  return k;
}

std::uint64_t hash_of(const Key& k) { return core::CuckooFilter::hash(std::string_view(k.data(), k.size())); }

core::CuckooFilter make_filter() {
  core::Result<core::CuckooFilter> r = core::CuckooFilter::create({.expected_items = kKeys});
  if (!r.is_ok()) std::abort();
  return std::move(r).value();
}

const std::vector<Key>& present_keys() {
  static const std::vector<Key> keys = [] {
    std::vector<Key> v;
    v.reserve(kKeys);
    for (std::size_t i = 0; i < kKeys; ++i) v.push_back(make_key("key:", i));
    return v;
  }();
  return keys;
}

// 1,000,000 present and 1,000,000 absent keys in a seeded shuffled order.
const std::vector<Key>& probe_keys() {
  static const std::vector<Key> keys = [] {
    std::vector<Key> v = present_keys();
    v.reserve(2 * kKeys);
    for (std::size_t i = 0; i < kKeys; ++i) v.push_back(make_key("abs:", i));
    core::SeededRandom rng(1);
    for (std::size_t i = v.size() - 1; i > 0; --i) std::swap(v[i], v[rng.uniform(i + 1)]);
    return v;
  }();
  return keys;
}

void run_contains(benchmark::State& state) {
  core::CuckooFilter filter = make_filter();
  for (const Key& k : present_keys()) {
    if (!filter.add(hash_of(k))) {
      state.SkipWithError("add failed while filling");
      return;
    }
  }
  const Key* const probes = probe_keys().data();
  const std::size_t n = probe_keys().size();
  std::size_t i = 0;
  std::uint64_t hits = 0;
  for (auto _ : state) {
    hits += filter.contains(hash_of(probes[i])) ? 1 : 0;
    if (++i == n) i = 0;
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  const core::CuckooFilterStats s = filter.stats();
  state.counters["load"] = s.load_factor;
  state.counters["bits_per_key"] = s.bits_per_item;
}

void run_add(benchmark::State& state) {
  core::CuckooFilter filter = make_filter();
  const Key* const keys = present_keys().data();
  const std::size_t n = present_keys().size();
  std::size_t i = 0;
  std::uint64_t kicks = 0;  // clear() resets the filter's counters
  for (auto _ : state) {
    if (!filter.add(hash_of(keys[i]))) {
      state.SkipWithError("add failed");
      break;
    }
    if (++i == n) {
      state.PauseTiming();
      kicks += filter.stats().kicks;
      filter.clear();
      i = 0;
      state.ResumeTiming();
    }
  }
  kicks += filter.stats().kicks;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  const auto adds = static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations()));
  state.counters["kicks_per_add"] = static_cast<double>(kicks) / adds;
}

}  // namespace

std::vector<BenchSpec> filter_benchmarks() {
  const std::string filter = "cuckoo filter for 1,000,000 keys (12-bit fingerprints, 2^19 buckets, 3 MiB)";
  return {
      {"filter-contains",
       filter + " holding 1,000,000 keys of 16 bytes; probes 50% present / 50% absent, shuffled, XXH3 in the loop",
       run_contains},
      {"filter-add",
       filter + "; adds 1,000,000 distinct 16-byte keys, XXH3 in the loop, cleared (untimed) when all are in",
       run_add},
  };
}

}  // namespace hcsim::cli
