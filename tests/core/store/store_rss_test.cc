// Resident memory against the budget: a store with a 256 MiB budget is filled
// with three times that much data, and the process's resident set (from
// /proc/self/statm) may grow by at most the budget plus 10%. Its own process,
// and not built under ThreadSanitizer (whose shadow memory is resident too).
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/store/basic_store.h"

namespace hcsim::core {
namespace {

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size_pages = 0;
  std::uint64_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

void fill_past_budget(const std::string& policy, bool mixed_sizes) {
  constexpr std::uint64_t kBudget = 256ULL << 20;
  ManualClock clock;
  SeededRandom random(5);
  BasicStoreConfig config;
  config.name = "rss";
  config.max_memory_bytes = kBudget;
  config.eviction.policy = policy;
  const std::uint64_t before = resident_bytes();
  auto store = std::move(BasicStore::create(config, clock, random)).value();
  SeededRandom sizes(9);
  std::string key;
  std::string value(1024, 'v');
  std::uint64_t written = 0;
  for (std::uint64_t i = 0; written < 3 * kBudget; ++i) {
    key = fmt::format("key:{:012}", i);
    const std::size_t bytes = mixed_sizes ? 16 + sizes.uniform(496) : 100;
    ASSERT_TRUE(store->set(key, std::string_view(value.data(), bytes)).is_ok());
    written += key.size() + bytes;
  }
  const std::uint64_t growth = resident_bytes() - before;
  const StoreStats s = store->stats();
  const MemoryPoolStats m = store->memory_stats();
  fmt::print("{} {}: budget {} MiB, {} entries, charged {:.1f} MiB, reserved {:.1f} MiB, RSS growth {:.1f} MiB ({:.3f} x budget)\n",
             policy, mixed_sizes ? "mixed 16..511 B values" : "100 B values", kBudget >> 20, s.items,
             static_cast<double>(s.memory_used_bytes) / (1 << 20), static_cast<double>(m.reserved_bytes) / (1 << 20),
             static_cast<double>(growth) / (1 << 20), static_cast<double>(growth) / static_cast<double>(kBudget));
  EXPECT_GT(s.evictions, s.items);  // filled far past the budget
  EXPECT_LE(s.memory_used_bytes, kBudget);
  EXPECT_LE(growth, kBudget + kBudget / 10);
}

TEST(StoreRssTest, FixedSizeValuesStayWithinBudgetPlusTenPercent) { fill_past_budget("lru", false); }
TEST(StoreRssTest, MixedSizeValuesStayWithinBudgetPlusTenPercent) { fill_past_budget("s3fifo", true); }

}  // namespace
}  // namespace hcsim::core
