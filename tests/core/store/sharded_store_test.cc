// ShardedStore: configuration errors, the same semantics as one store, and
// many threads working at once (run under ThreadSanitizer in CI).
#include "core/store/sharded_store.h"

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace hcsim::core {
namespace {

ShardedStoreConfig sharded_config(std::uint32_t shards, std::uint64_t max_bytes = 64ULL << 20) {
  ShardedStoreConfig c;
  c.store.name = "sharded";
  c.store.max_memory_bytes = max_bytes;
  c.shards = shards;
  return c;
}

// A clock several threads may read at once.
class FixedClock final : public Clock {
 public:
  TimeNs now() const override { return 1'000'000'000; }
};

TEST(ShardedStoreTest, CreateErrors) {
  FixedClock clock;
  for (std::uint32_t bad : {0U, 3U, 2048U}) {
    Result<std::unique_ptr<ShardedStore>> r = ShardedStore::create(sharded_config(bad), clock);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().message(), "shards must be a power of two between 1 and 1024");
  }
  ShardedStoreConfig c = sharded_config(4);
  c.store.name = "";
  EXPECT_EQ(ShardedStore::create(c, clock).status().message(), "store name cannot be empty");
  EXPECT_EQ(ShardedStore::create(sharded_config(4, 0), clock).status().message(), "max memory must be greater than 0");
}

TEST(ShardedStoreTest, BehavesLikeOneStore) {
  FixedClock clock;
  auto store = std::move(ShardedStore::create(sharded_config(8), clock)).value();
  EXPECT_EQ(store->shard_count(), 8U);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(store->set(fmt::format("key:{}", i), fmt::format("v{}", i)).is_ok());
  EXPECT_EQ(store->size(), 1000U);
  std::string v;
  ASSERT_TRUE(store->get("key:7", &v));
  EXPECT_EQ(v, "v7");
  EXPECT_FALSE(store->get("nope", &v));
  EXPECT_TRUE(store->exists("key:1"));
  EXPECT_TRUE(store->del("key:1"));
  EXPECT_FALSE(store->exists("key:1"));
  EXPECT_TRUE(store->expire("key:2", 5'000'000'000));
  EXPECT_EQ(store->ttl("key:2").kind, TtlResult::Kind::kExpiresIn);
  EXPECT_TRUE(store->persist("key:2"));
  EXPECT_EQ(store->ttl("key:2").kind, TtlResult::Kind::kNoTtl);
  ASSERT_TRUE(store->set_size_only("sized", 1000).is_ok());
  EXPECT_TRUE(store->get("sized", &v));
  EXPECT_TRUE(v.empty());
  StoreStats s = store->stats();
  EXPECT_EQ(s.items, 1000U);
  EXPECT_EQ(s.hits, 2U);
  EXPECT_EQ(s.misses, 1U);
  EXPECT_GT(store->memory_used_bytes(), 1000U * 16);
  // Keys spread over every shard.
  store->clear();
  EXPECT_EQ(store->size(), 0U);
  EXPECT_EQ(store->active_expire().sampled, 0U);
}

// shard_of names the shard a key lives in, and every shard gets keys.
TEST(ShardedStoreTest, ShardOfNamesTheShardThatHoldsTheKey) {
  FixedClock clock;
  auto store = std::move(ShardedStore::create(sharded_config(8), clock)).value();
  std::vector<std::uint64_t> expected(8, 0);
  for (int i = 0; i < 4000; ++i) {
    const std::string key = fmt::format("key:{}", i);
    const std::uint32_t s = store->shard_of(key);
    ASSERT_LT(s, 8U);
    ++expected[s];
    ASSERT_TRUE(store->set(key, "v").is_ok());
  }
  for (std::uint32_t s = 0; s < 8; ++s) {
    EXPECT_EQ(store->shard_stats(s).items, expected[s]) << "shard " << s;
    EXPECT_GT(expected[s], 400U) << "shard " << s;  // 500 expected; binomial sd 21
  }
  EXPECT_THROW(store->shard_stats(8), std::out_of_range);
  auto one = std::move(ShardedStore::create(sharded_config(1), clock)).value();
  EXPECT_EQ(one->shard_of(HashedKey("key:1")), 0U);
}

// The single-owner design: each thread works only on the keys of its own
// shards (shard s to thread s mod 2), so the threads never share a shard;
// every count lands on the owner's shards.
TEST(ShardedStoreTest, OwnerThreadsTouchOnlyTheirShards) {
  FixedClock clock;
  auto store = std::move(ShardedStore::create(sharded_config(8), clock)).value();
  constexpr std::uint32_t kThreads = 2;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (std::uint32_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string v;
      for (int i = 0; i < 20000; ++i) {
        const std::string key = fmt::format("key:{}", i % 5000);
        if (store->shard_of(key) % kThreads != t) continue;
        if (!store->set(key, key).is_ok()) wrong.fetch_add(1);
        if (!store->get(key, &v) || v != key) wrong.fetch_add(1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  std::vector<std::uint64_t> keys_of(8, 0);
  for (int i = 0; i < 5000; ++i) ++keys_of[store->shard_of(fmt::format("key:{}", i))];
  for (std::uint32_t s = 0; s < 8; ++s) {
    const StoreStats st = store->shard_stats(s);
    EXPECT_EQ(st.items, keys_of[s]) << "shard " << s;
    EXPECT_EQ(st.sets, 4 * keys_of[s]) << "shard " << s;  // each key set once per pass, 4 passes
    EXPECT_EQ(st.hits, 4 * keys_of[s]) << "shard " << s;
  }
}

// Each shard's filter answers misses at its configured false-positive rate:
// the keys of one shard must not share the hash bits its filter uses.
TEST(ShardedStoreTest, EveryShardsFilterKeepsItsFalsePositiveRate) {
  FixedClock clock;
  ShardedStoreConfig c = sharded_config(16, 256ULL << 20);
  constexpr int kKeys = 100'000;
  c.store.filter_false_positive_rate = 0.002;
  c.store.filter_expected_items = kKeys;  // over all shards: each filter at its design load
  auto store = std::move(ShardedStore::create(c, clock)).value();
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(store->set(fmt::format("key:{}", i), "v").is_ok());
  std::string v;
  for (int i = 0; i < 4 * kKeys; ++i) ASSERT_FALSE(store->get(fmt::format("absent:{}", i), &v));
  const StoreStats s = store->stats();
  ASSERT_EQ(s.misses, 4U * kKeys);
  const double false_positive_rate = 1.0 - static_cast<double>(s.filter_rejects) / static_cast<double>(s.misses);
  EXPECT_LT(false_positive_rate, 2 * 0.002) << s.filter_rejects;
}

TEST(ShardedStoreTest, ConcurrentWritersAndReaders) {
  FixedClock clock;
  auto store = std::move(ShardedStore::create(sharded_config(16, 8ULL << 20), clock)).value();
  constexpr int kThreads = 4;
  constexpr int kOps = 20000;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string v;
      for (int i = 0; i < kOps; ++i) {
        const std::string key = fmt::format("t{}:{}", t, i % 3000);
        const std::string value = fmt::format("{}:{}", t, i % 3000);
        if (!store->set(key, value).is_ok()) wrong.fetch_add(1);
        if (store->get(key, &v) && v != value) wrong.fetch_add(1);
        if (i % 5 == 0) store->del(fmt::format("t{}:{}", (t + 1) % kThreads, i % 3000));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const StoreStats s = store->stats();
  EXPECT_EQ(s.sets, static_cast<std::uint64_t>(kThreads * kOps));
  EXPECT_LE(store->memory_used_bytes(), 8ULL << 20);
  EXPECT_EQ(s.items, store->size());
}

// set_many and get_many over keys of every shard do what the calls one by
// one do: the same statuses (errors at their own positions), the same
// values, the same counters; a key given twice ends with its later value.
TEST(ShardedStoreTest, ManyKeysAtOnceAsOneByOne) {
  FixedClock clock;
  for (const std::string policy : {"lru", "sampled-lru"}) {
    SCOPED_TRACE(policy);
    ShardedStoreConfig c = sharded_config(8, 256 * 1024);  // small: most later sets evict
    c.store.eviction.policy = policy;
    auto many = std::move(ShardedStore::create(c, clock)).value();
    auto one = std::move(ShardedStore::create(c, clock)).value();
    SeededRandom pick(4);
    for (int round = 0; round < 200; ++round) {
      const std::size_t n = 1 + pick.uniform(40);
      std::vector<std::string> names;
      std::vector<std::string> payloads;
      for (std::size_t i = 0; i < n; ++i) {
        names.push_back(fmt::format("key:{}", pick.uniform(3000)));
        payloads.push_back(std::string(pick.uniform(400), static_cast<char>('a' + round % 26)));
      }
      if (round % 9 == 4) names[n / 2] = "";  // an error in the middle
      if (n > 3) names[n - 1] = names[1];     // a key twice
      std::vector<HashedKey> keys(names.begin(), names.end());
      std::vector<std::string_view> values(payloads.begin(), payloads.end());
      std::vector<Status> statuses(n, Status::error("not set"));
      many->set_many(keys, values, statuses);
      for (std::size_t i = 0; i < n; ++i) {
        const Status expected = one->set(keys[i], values[i]);
        ASSERT_EQ(statuses[i].is_ok(), expected.is_ok()) << round << " " << i;
        ASSERT_EQ(statuses[i].message(), expected.message()) << round << " " << i;
      }
      // Read back a mix of keys just set and others, present or not.
      std::vector<std::string> wanted(names.begin(), names.end());
      for (int i = 0; i < 10; ++i) wanted.push_back(fmt::format("key:{}", pick.uniform(3000)));
      wanted[0] = "";
      std::vector<HashedKey> read(wanted.begin(), wanted.end());
      std::vector<std::optional<std::string>> results(read.size(), std::string("stale"));
      many->get_many(read, results);
      for (std::size_t i = 0; i < read.size(); ++i) {
        std::string v;
        const bool found = one->get(read[i], &v);
        ASSERT_EQ(results[i].has_value(), found) << wanted[i];
        if (found) {
          ASSERT_EQ(*results[i], v) << wanted[i];
        }
      }
    }
    const StoreStats a = one->stats();
    const StoreStats b = many->stats();
    EXPECT_GT(a.evictions, 500U);
    EXPECT_GT(a.hits, 100U);
    EXPECT_GT(a.misses, 100U);
    EXPECT_EQ(b.sets, a.sets);
    EXPECT_EQ(b.errors, a.errors);
    EXPECT_EQ(b.evictions, a.evictions);
    EXPECT_EQ(b.hits, a.hits);
    EXPECT_EQ(b.misses, a.misses);
    EXPECT_EQ(b.items, a.items);
    EXPECT_EQ(many->memory_used_bytes(), one->memory_used_bytes());
  }
}

// Batches from several threads at once (under ThreadSanitizer in CI): each
// thread owns its keys, so every get_many must see the thread's own last
// set_many.
TEST(ShardedStoreTest, ConcurrentBatchesLoseNothing) {
  FixedClock clock;
  auto store = std::move(ShardedStore::create(sharded_config(4, 32ULL << 20), clock)).value();
  constexpr int kThreads = 4;
  constexpr int kRounds = 300;
  constexpr int kBatch = 24;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> names;
      for (int k = 0; k < kBatch; ++k) names.push_back(fmt::format("t{}:{}", t, k));
      const std::vector<HashedKey> keys(names.begin(), names.end());
      std::vector<Status> statuses(kBatch, Status::ok());
      std::vector<std::optional<std::string>> results(kBatch);
      for (int round = 0; round < kRounds; ++round) {
        const std::string value = fmt::format("{}:{}", t, round);
        const std::vector<std::string_view> values(kBatch, value);
        store->set_many(keys, values, statuses);
        for (const Status& st : statuses) wrong.fetch_add(st.is_ok() ? 0 : 1);
        store->get_many(keys, results);
        for (const std::optional<std::string>& r : results) wrong.fetch_add(r == value ? 0 : 1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const StoreStats s = store->stats();
  EXPECT_EQ(s.sets, static_cast<std::uint64_t>(kThreads * kRounds * kBatch));
  EXPECT_EQ(s.hits, static_cast<std::uint64_t>(kThreads * kRounds * kBatch));
  EXPECT_EQ(s.items, static_cast<std::uint64_t>(kThreads * kBatch));
}

// Every thread on one shard: most lock() calls meet another thread, and with
// more threads than cores holders get preempted, so waiters also give up
// spinning and sleep. No update may be lost and every read must see the
// reader's own last write (each thread owns its keys).
TEST(ShardedStoreTest, OneShardManyThreadsLoseNothing) {
  FixedClock clock;
  auto store = std::move(ShardedStore::create(sharded_config(1, 8ULL << 20), clock)).value();
  constexpr int kThreads = 8;
  constexpr int kKeys = 100;
  constexpr int kRounds = 40;
  std::atomic<int> wrong{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();  // start together
      std::string v;
      for (int round = 0; round < kRounds; ++round) {
        for (int k = 0; k < kKeys; ++k) {
          const std::string key = fmt::format("t{}:{}", t, k);
          const std::string value = fmt::format("{}", round);
          if (!store->set(key, value).is_ok()) wrong.fetch_add(1);
          if (!store->get(key, &v) || v != value) wrong.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const StoreStats s = store->stats();
  EXPECT_EQ(s.sets, 32000U);  // 8 threads x 100 keys x 40 rounds
  EXPECT_EQ(s.hits, 32000U);  // one get after each set
  EXPECT_EQ(s.misses, 0U);
  EXPECT_EQ(s.items, 800U);
  std::string v;
  ASSERT_TRUE(store->get("t7:99", &v));
  EXPECT_EQ(v, "39");
}

// Operations that take every shard's lock in turn (clear, size, stats) running
// against per-key operations must neither deadlock nor lose a count.
TEST(ShardedStoreTest, WholeStoreCallsBesidePerKeyCalls) {
  FixedClock clock;
  auto store = std::move(ShardedStore::create(sharded_config(4, 8ULL << 20), clock)).value();
  std::atomic<bool> done{false};
  std::thread sweeper([&] {
    while (!done.load()) {
      EXPECT_LE(store->size(), 2000U);
      EXPECT_LE(store->stats().items, 2000U);
      store->active_expire();
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        if (!store->set(fmt::format("w{}:{}", t, i % 1000), "v").is_ok()) ADD_FAILURE() << "set failed";
      }
    });
  }
  for (std::thread& th : writers) th.join();
  done.store(true);
  sweeper.join();
  const StoreStats s = store->stats();
  EXPECT_EQ(s.sets, 10000U);  // 2 writers x 5000
  EXPECT_EQ(s.items, 2000U);  // 2 writers x 1000 distinct keys
  store->clear();
  EXPECT_EQ(store->size(), 0U);
}

}  // namespace
}  // namespace hcsim::core
