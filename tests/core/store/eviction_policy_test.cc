// Eviction policies: hand-worked access sequences with exact victim orders
// for every policy, randomized model checks (lru against a std::list, session
// against a brute-force scan of the seed's rules, every policy against a set
// of live ids), validation messages, clear() and per-id memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include "core/runtime/random.h"
#include "core/store/eviction/lru_policy.h"
#include "core/store/eviction/s3fifo_policy.h"
#include "core/store/eviction/sampled_lru_policy.h"
#include "core/store/eviction/session_policy.h"
#include "core/store/eviction/sieve_policy.h"
#include "core/store/eviction_policy.h"

namespace hcsim::core {
namespace {

std::unique_ptr<EvictionPolicy> make(const EvictionConfig& config, RandomSource& random) {
  auto made = make_eviction_policy(config, random);
  EXPECT_TRUE(made.is_ok()) << made.status().message();
  return std::move(made).value();
}

std::unique_ptr<EvictionPolicy> make(const std::string& name, RandomSource& random) {
  EvictionConfig config;
  config.policy = name;
  return make(config, random);
}

// on_insert and on_remove as a store calls them: the hash an id was
// inserted with is given again when it leaves.
absl::flat_hash_map<std::pair<const EvictionPolicy*, EntryId>, std::uint64_t>& inserted_hashes() {
  static absl::flat_hash_map<std::pair<const EvictionPolicy*, EntryId>, std::uint64_t> hashes;
  return hashes;
}
void insert(EvictionPolicy& policy, EntryId id, std::uint64_t key_hash, TimeNs now) {
  inserted_hashes()[{&policy, id}] = key_hash;
  policy.on_insert(id, key_hash, now);
}
void remove(EvictionPolicy& policy, EntryId id, RemoveReason reason) {
  const auto it = inserted_hashes().find(std::pair<const EvictionPolicy*, EntryId>{&policy, id});
  ASSERT_NE(it, inserted_hashes().end()) << "id " << id << " was never inserted";
  const std::uint64_t key_hash = it->second;
  inserted_hashes().erase(it);
  policy.on_remove(id, key_hash, reason);
}

// Asks for a victim and evicts it, `count` times; the victims in order.
std::vector<EntryId> evict(EvictionPolicy& policy, int count, TimeNs now) {
  std::vector<EntryId> victims;
  for (int i = 0; i < count; ++i) {
    const std::optional<EntryId> victim = policy.victim(now);
    if (!victim) break;
    victims.push_back(*victim);
    remove(policy, *victim, RemoveReason::kEvicted);
  }
  return victims;
}

// Returns scripted values so a test chooses which positions sampled-lru draws.
class ScriptedRandom final : public RandomSource {
 public:
  // Queues a draw that uniform(bound) maps to `index`.
  void pick(std::uint64_t index, std::uint64_t bound) {
    __extension__ using U128 = unsigned __int128;
    values_.push_back(static_cast<std::uint64_t>(((static_cast<U128>(index) << 64) + bound - 1) / bound));
  }
  std::uint64_t next_u64() override {
    EXPECT_FALSE(values_.empty()) << "more draws than scripted";
    if (values_.empty()) return 0;
    const std::uint64_t value = values_.front();
    values_.pop_front();
    return value;
  }
  std::size_t left() const { return values_.size(); }

 private:
  std::deque<std::uint64_t> values_;
};

// ---- names, validation, factory ----

TEST(EvictionConfigTest, NamesListsEveryPolicyInHelpOrder) {
  const std::vector<std::string_view> expected = {"session", "lru", "sampled-lru", "sieve", "s3fifo", "noeviction"};
  EXPECT_EQ(eviction_policy_names(), expected);
}

TEST(EvictionConfigTest, DefaultConfigIsValidAndEveryNameBuildsThatPolicy) {
  EXPECT_TRUE(validate(EvictionConfig{}).is_ok());
  SeededRandom random(1);
  for (std::string_view name : eviction_policy_names()) {
    auto policy = make(std::string(name), random);
    ASSERT_NE(policy, nullptr);
    EXPECT_EQ(policy->name(), name);
    EXPECT_EQ(policy->evicts(), name != "noeviction") << name;
  }
}

TEST(EvictionConfigTest, EveryRuleHasItsExactMessage) {
  auto message_of = [](const EvictionConfig& config) {
    const Status status = validate(config);
    return status.is_ok() ? std::string("ok") : status.message();
  };
  EvictionConfig config;
  config.policy = "fifo";
  EXPECT_EQ(message_of(config),
            "unknown eviction policy 'fifo' (expected one of: session, lru, sampled-lru, sieve, s3fifo, noeviction)");
  config.policy = "";
  EXPECT_EQ(message_of(config),
            "unknown eviction policy '' (expected one of: session, lru, sampled-lru, sieve, s3fifo, noeviction)");
  config.policy = "LRU";  // names are case-sensitive
  EXPECT_NE(message_of(config), "ok");

  for (const auto& [size, message] : std::vector<std::pair<std::uint32_t, std::string>>{
           {0, "sample_size must be between 1 and 64"},
           {1, "ok"},
           {64, "ok"},
           {65, "sample_size must be between 1 and 64"}}) {
    EvictionConfig c;
    c.policy = "sampled-lru";
    c.sample_size = size;
    EXPECT_EQ(message_of(c), message) << size;
  }
  for (TimeNs bad : {TimeNs{0}, TimeNs{-5}}) {
    EvictionConfig c;
    c.session_ttl_ns = bad;
    EXPECT_EQ(message_of(c), "session_ttl must be greater than 0");
    c = EvictionConfig{};
    c.idle_timeout_ns = bad;
    EXPECT_EQ(message_of(c), "idle_timeout must be greater than 0");
    c = EvictionConfig{};
    c.grace_period_ns = bad;
    EXPECT_EQ(message_of(c), "grace_period must be greater than 0");
  }
  EvictionConfig tiny;
  tiny.session_ttl_ns = tiny.idle_timeout_ns = tiny.grace_period_ns = 1;
  EXPECT_EQ(message_of(tiny), "ok");
  for (double ratio : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
    EvictionConfig c;
    c.small_queue_ratio = ratio;
    EXPECT_EQ(message_of(c), "small_queue_ratio must be between 0 and 1") << ratio;
  }
  for (double ratio : {0.001, 0.5, 0.999}) {
    EvictionConfig c;
    c.small_queue_ratio = ratio;
    EXPECT_EQ(message_of(c), "ok") << ratio;
  }
}

TEST(EvictionConfigTest, FactoryRefusesInvalidConfigWithTheSameMessage) {
  SeededRandom random(1);
  EvictionConfig config;
  config.policy = "sampled-lru";
  config.sample_size = 65;
  auto made = make_eviction_policy(config, random);
  ASSERT_FALSE(made.is_ok());
  EXPECT_EQ(made.status().message(), "sample_size must be between 1 and 64");
  config = EvictionConfig{};
  config.policy = "arc";
  made = make_eviction_policy(config, random);
  ASSERT_FALSE(made.is_ok());
  EXPECT_EQ(made.status().message(), validate(config).message());
}

// ---- noeviction ----

TEST(NoEvictionTest, TracksNothingAndNeverNamesAVictim) {
  SeededRandom random(1);
  auto policy = make("noeviction", random);
  for (EntryId id = 0; id < 10; ++id) insert(*policy, id, id, id);
  policy->on_access(3, 20);
  policy->on_update(4, 21);
  remove(*policy, 5, RemoveReason::kDeleted);
  EXPECT_FALSE(policy->evicts());
  EXPECT_EQ(policy->victim(100), std::nullopt);
  EXPECT_EQ(policy->size(), 0u);
  EXPECT_EQ(policy->memory_bytes(), 0u);
}

// ---- lru ----

TEST(LruTest, HandWorkedSequence) {
  LruPolicy lru;
  for (EntryId id = 0; id < 4; ++id) insert(lru, id, 100 + id, id + 1);  // LRU..MRU: 0 1 2 3
  lru.on_access(1, 5);                                                      // 0 2 3 1
  lru.on_access(0, 6);                                                      // 2 3 1 0
  lru.on_update(2, 7);                                                      // 3 1 0 2
  remove(lru, 3, RemoveReason::kDeleted);                                 // 1 0 2
  insert(lru, 4, 104, 8);                                                 // 1 0 2 4
  EXPECT_EQ(lru.victim(9), EntryId{1});
  EXPECT_EQ(lru.victim(9), EntryId{1});  // asking does not untrack
  insert(lru, 3, 203, 9);              // id 3 reused: 1 0 2 4 3
  lru.on_access(1, 10);                  // 0 2 4 3 1
  EXPECT_EQ(lru.size(), 5u);
  EXPECT_EQ(evict(lru, 10, 11), (std::vector<EntryId>{0, 2, 4, 3, 1}));
  EXPECT_EQ(lru.size(), 0u);
  EXPECT_EQ(lru.victim(12), std::nullopt);
}

// Gets' moves to the newest end wait in a buffer of 64 (LruPolicy::on_access):
// long runs of accesses, through the buffer's full drains and a partial one,
// leave exactly the LRU order.
TEST(LruTest, LongRunsOfAccessesLeaveTheExactOrder) {
  constexpr EntryId kIds = 300;
  LruPolicy lru;
  for (EntryId id = 0; id < kIds; ++id) insert(lru, id, 1000 + id, id + 1);
  std::vector<EntryId> expected;  // LRU first
  for (EntryId id = 0; id < kIds; ++id) expected.push_back(id);
  SeededRandom random(77);
  for (int i = 0; i < 1000; ++i) {  // 15 full buffers and 40 pending at the end
    const auto id = static_cast<EntryId>(random.uniform(kIds));
    lru.on_access(id, 0);
    expected.erase(std::find(expected.begin(), expected.end(), id));
    expected.push_back(id);
  }
  EXPECT_EQ(lru.size(), std::size_t{kIds});
  EXPECT_EQ(evict(lru, kIds, 0), expected);
}

TEST(LruTest, MatchesStdListReferenceOver100kRandomOps) {
  LruPolicy lru;
  std::list<EntryId> reference;  // front = MRU
  absl::flat_hash_map<EntryId, std::list<EntryId>::iterator> where;
  std::vector<EntryId> free_ids;
  EntryId next_id = 0;
  SeededRandom random(2024);
  TimeNs now = 0;
  auto live_at = [&](std::uint64_t k) {  // some live id (walks the list; lists stay short)
    auto it = reference.begin();
    std::advance(it, static_cast<long>(k % reference.size()));
    return *it;
  };
  for (int op = 0; op < 100'000; ++op) {
    now += static_cast<TimeNs>(random.uniform(10));
    const std::uint64_t dice = random.uniform(100);
    if (dice < 35 || reference.empty()) {
      if (reference.size() >= 64) {  // full: evict first, as the store does
        ASSERT_EQ(lru.victim(now), reference.back());
        remove(lru, reference.back(), RemoveReason::kEvicted);
        free_ids.push_back(reference.back());
        where.erase(reference.back());
        reference.pop_back();
      }
      EntryId id = next_id;
      if (!free_ids.empty()) {
        id = free_ids.back();
        free_ids.pop_back();
      } else {
        ++next_id;
      }
      insert(lru, id, random.next(), now);
      reference.push_front(id);
      where[id] = reference.begin();
    } else if (dice < 75) {
      const EntryId id = live_at(random.next());
      if (dice < 65) {
        lru.on_access(id, now);
      } else {
        lru.on_update(id, now);
      }
      reference.splice(reference.begin(), reference, where[id]);
    } else if (dice < 85) {
      const EntryId id = live_at(random.next());
      remove(lru, id, dice < 80 ? RemoveReason::kDeleted : RemoveReason::kExpired);
      reference.erase(where[id]);
      where.erase(id);
      free_ids.push_back(id);
    } else {
      ASSERT_EQ(lru.victim(now), reference.back()) << "op " << op;
      remove(lru, reference.back(), RemoveReason::kEvicted);
      free_ids.push_back(reference.back());
      where.erase(reference.back());
      reference.pop_back();
    }
    ASSERT_EQ(lru.size(), reference.size());
  }
}

// ---- sampled-lru ----

TEST(SampledLruTest, HandWorkedSequenceWithScriptedDraws) {
  ScriptedRandom random;
  SampledLruPolicy policy(3, random);
  for (EntryId id = 0; id < 5; ++id) insert(policy, id, id, 10 * (id + 1));
  // Ids 0..4, last access 10 20 30 40 50.
  policy.on_access(0, 60);  // 60 20 30 40 50
  EXPECT_EQ(policy.peek_victim(60), std::nullopt);  // nothing drawn yet
  EXPECT_EQ(policy.peek_victim_later(1, 60), std::nullopt);
  // The first call draws its own sample, ids 0, 3, 2: times 60, 40, 30 ->
  // id 2; then the next two calls': B = 1, 2, 4 and C = 0, 3, 4; then, as
  // it returns, the sample of the call three from now: D = 4, 4, 0.
  for (const EntryId id : {0, 3, 2, 1, 2, 4, 0, 3, 4, 4, 4, 0}) random.pick(id, 5);
  EXPECT_EQ(policy.victim(61), EntryId{2});
  EXPECT_EQ(random.left(), 0u);  // exactly four samples
  // B (20 30 50) -> 1, C (60 40 50) -> 3, D (50 50 60) -> 4; the hints
  // follow accesses made since the draws.
  EXPECT_EQ(policy.peek_victim(61), EntryId{1});
  EXPECT_EQ(policy.peek_victim_later(1, 61), EntryId{3});
  EXPECT_EQ(policy.peek_victim_later(2, 61), EntryId{4});
  EXPECT_EQ(policy.peek_victim_later(3, 61), std::nullopt);  // not drawn
  policy.on_access(1, 62);  // 60 62 30 40 50
  EXPECT_EQ(policy.peek_victim(62), EntryId{2});
  remove(policy, 2, RemoveReason::kEvicted);
  EXPECT_EQ(policy.peek_victim(62), std::nullopt);  // a sampled id left
  EXPECT_EQ(policy.peek_victim_later(1, 62), EntryId{3});
  // Id 2 is free; the range is still 0..4 (4 is tracked). Its place in B
  // is drawn again: 2 (free) then 3 (@40). B is now 1 @62, 3 @40, 4 @50 ->
  // id 3; then E = 0, 4, 1 is drawn.
  for (const EntryId id : {2, 3, 0, 4, 1}) random.pick(id, 5);
  EXPECT_EQ(policy.victim(63), EntryId{3});
  EXPECT_EQ(random.left(), 0u);
  remove(policy, 3, RemoveReason::kEvicted);
  EXPECT_EQ(policy.peek_victim(63), std::nullopt);  // C holds the free id 3
  EXPECT_EQ(policy.peek_victim_later(1, 63), EntryId{4});  // D: 4 @50, 4 @50, 0 @60
  EXPECT_EQ(policy.peek_victim_later(2, 63), EntryId{4});  // E: 0 @60, 4 @50, 1 @62
  // Removing the top id shrinks the range past the free ids 2 and 3: ids
  // 0, 1. C's 3 and 4 are out of it, so they are drawn again.
  remove(policy, 4, RemoveReason::kEvicted);
  EXPECT_EQ(policy.size(), 2u);
  // Ids 0 and 1 tie at 70: the first in the sample wins.
  policy.on_access(1, 70);
  policy.on_access(0, 70);
  random.pick(1, 2);  // for C's 3: C is now 0, 1, 4
  random.pick(1, 2);  // for C's 4: 0, 1, 1 -> id 0 (first of the tie)
  for (const EntryId id : {1, 1, 0}) random.pick(id, 2);  // F
  EXPECT_EQ(policy.victim(71), EntryId{0});
  EXPECT_EQ(random.left(), 0u);
  policy.on_access(1, 80);
  random.pick(1, 2);  // D's 4s drawn again: 1, 1, 0
  random.pick(1, 2);
  for (const EntryId id : {0, 0, 0}) random.pick(id, 2);  // G
  EXPECT_EQ(policy.victim(81), EntryId{0});  // 1 @80, 1 @80, 0 @70: strictly older, wins
  EXPECT_EQ(random.left(), 0u);
}

TEST(SampledLruTest, AfterKRedrawsOnFreeIdsThePickTakesTheNextTrackedId) {
  ScriptedRandom random;
  SampledLruPolicy policy(1, random);
  for (EntryId id = 0; id < 10; ++id) insert(policy, id, id, id);
  for (EntryId id = 1; id < 9; ++id) remove(policy, id, RemoveReason::kDeleted);  // tracked: 0 and 9
  // The first call draws its own sample and the next two: 5 (free), 0, 0.
  random.pick(5, 10);
  random.pick(0, 10);
  random.pick(0, 10);
  // Its own is drawn again, landing on free ids up to the kRedraws-th
  // draw, also free: the next tracked id from 3 is 9.
  for (std::uint32_t i = 0; i + 2 < SampledLruPolicy::kRedraws; ++i) random.pick(5, 10);
  random.pick(3, 10);
  random.pick(6, 10);  // the sample three calls on: free, checked only when used
  EXPECT_EQ(policy.victim(20), EntryId{9});
  EXPECT_EQ(random.left(), 0u);
  EXPECT_EQ(policy.peek_victim(20), EntryId{0});
  EXPECT_EQ(policy.peek_victim_later(1, 20), EntryId{0});
  EXPECT_EQ(policy.peek_victim_later(2, 20), std::nullopt);
  random.pick(9, 10);
  EXPECT_EQ(policy.victim(20), EntryId{0});
  random.pick(2, 10);
  EXPECT_EQ(policy.victim(20), EntryId{0});
  EXPECT_EQ(random.left(), 0u);
  // The free 6 is used now: drawn again until the kRedraws-th draw lands
  // on 0 (the fallback from 2 would give 9); then the next sample, 9.
  for (std::uint32_t i = 0; i + 2 < SampledLruPolicy::kRedraws; ++i) random.pick(2, 10);
  random.pick(0, 10);
  random.pick(9, 10);
  EXPECT_EQ(policy.victim(20), EntryId{0});
  EXPECT_EQ(random.left(), 0u);
  EXPECT_EQ(policy.peek_victim(20), EntryId{9});  // the 9 drawn two calls ago
  EXPECT_EQ(policy.peek_victim_later(1, 20), std::nullopt);  // the free 2
}

TEST(SampledLruTest, SampleOfOneOverOneTrackedIdIsThatId) {
  for (std::uint32_t sample_size : {1u, 5u, 64u}) {
    SeededRandom random(9);
    SampledLruPolicy policy(sample_size, random);
    insert(policy, 7, 1234, 0);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(policy.victim(i), EntryId{7}) << sample_size;
    remove(policy, 7, RemoveReason::kEvicted);
    EXPECT_EQ(policy.victim(30), std::nullopt);
  }
}

TEST(SampledLruTest, SixtyFourDrawsOverFourIdsFindTheExactLru) {
  // With 64 draws over 4 ids every id is drawn with probability > 1 - 1e-7,
  // so the victim is the exact LRU: id 2 (last access 1).
  SeededRandom random(5);
  SampledLruPolicy policy(64, random);
  insert(policy, 0, 0, 0);
  insert(policy, 1, 1, 0);
  insert(policy, 2, 2, 1);
  insert(policy, 3, 3, 2);
  policy.on_access(0, 5);
  policy.on_access(1, 6);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(policy.victim(10), EntryId{2});
}

// ---- sieve ----

TEST(SieveTest, HandWorkedSequenceHandKeepsItsPlace) {
  SievePolicy sieve;
  enum : EntryId { A, B, C, D, E, F, G };
  for (EntryId id : {A, B, C, D, E}) insert(sieve, id, id, id);  // head E D C B A tail
  sieve.on_access(A, 10);
  sieve.on_access(B, 11);
  sieve.on_update(D, 12);  // an update counts as a hit
  // 1: hand starts at the tail: A visited (clear), B visited (clear), C -> C.
  EXPECT_EQ(sieve.victim(13), EntryId{C});
  EXPECT_EQ(sieve.victim(13), EntryId{C});  // asking again: same, hand on C
  remove(sieve, C, RemoveReason::kEvicted);  // hand -> D (next newer)
  insert(sieve, F, F, 14);                   // head F E D B A
  // 2: hand at D: visited (clear), E -> E. (Restarting at the tail would
  // have taken A, whose bit the first sweep cleared.)
  EXPECT_EQ(sieve.victim(15), EntryId{E});
  remove(sieve, E, RemoveReason::kEvicted);  // hand -> F
  sieve.on_access(A, 16);
  // 3: hand at F, unvisited -> F, although it is the newest.
  EXPECT_EQ(sieve.victim(17), EntryId{F});
  remove(sieve, F, RemoveReason::kEvicted);  // F was the head: hand wraps
  // 4: queue D B A; from the tail: A visited (clear), B -> B.
  EXPECT_EQ(sieve.victim(18), EntryId{B});
  remove(sieve, B, RemoveReason::kEvicted);  // hand -> D
  insert(sieve, G, G, 19);                   // head G D A
  remove(sieve, D, RemoveReason::kDeleted);  // deleted under the hand: hand -> G
  // 5: hand at G -> G (from the tail it would be A).
  EXPECT_EQ(sieve.victim(20), EntryId{G});
  remove(sieve, G, RemoveReason::kEvicted);
  // 6: only A is left.
  EXPECT_EQ(sieve.victim(21), EntryId{A});
  remove(sieve, A, RemoveReason::kEvicted);
  EXPECT_EQ(sieve.victim(22), std::nullopt);
  EXPECT_EQ(sieve.size(), 0u);
}

TEST(SieveTest, AllVisitedLapsOnceThenTakesTheTail) {
  SievePolicy sieve;
  for (EntryId id = 0; id < 4; ++id) insert(sieve, id, id, 0);
  for (EntryId id = 0; id < 4; ++id) sieve.on_access(id, 1);
  // The hand clears 0,1,2,3, wraps to the tail: 0. Then 1, 2, 3 in order.
  EXPECT_EQ(evict(sieve, 4, 2), (std::vector<EntryId>{0, 1, 2, 3}));
}

// ---- s3fifo ----

TEST(S3FifoTest, HandWorkedPromotionGhostAndReadmission) {
  // ratio 0.25: small's share is floor(0.25 * tracked); ghost capacity is
  // peak - floor(0.25 * peak) = 3 for a peak of 4 tracked entries.
  S3FifoPolicy s3(0.25);
  const std::uint64_t k0 = 1000, k1 = 1001, k2 = 1002, k3 = 1003, k4 = 1004, k5 = 1005;
  insert(s3, 0, k0, 1);
  insert(s3, 1, k1, 2);
  insert(s3, 2, k2, 3);
  insert(s3, 3, k3, 4);  // small (new..old): 3 2 1 0
  s3.on_access(1, 5);      // freq 1
  s3.on_access(3, 6);
  s3.on_access(3, 7);  // freq 2
  EXPECT_EQ(s3.ghost_capacity(), 3u);
  // 1: main empty -> small; tail 0 has freq 0 -> victim, its key to ghost.
  EXPECT_EQ(evict(s3, 1, 8), std::vector<EntryId>{0});
  EXPECT_EQ(s3.ghost_size(), 1u);  // {k0}
  insert(s3, 4, k4, 9);          // small: 4 3 2 1
  // 2: main empty -> small; tail 1 has freq 1 -> main (freq 0); tail 2 -> victim.
  EXPECT_EQ(evict(s3, 1, 10), std::vector<EntryId>{2});
  EXPECT_EQ(s3.small_size(), 2u);  // 4 3
  EXPECT_EQ(s3.main_size(), 1u);   // 1
  EXPECT_EQ(s3.ghost_size(), 2u);  // {k0, k2}
  // id 0 reused for key k0, which the ghost remembers: straight to main.
  insert(s3, 0, k0, 11);  // main: 0 1
  EXPECT_EQ(s3.main_size(), 2u);
  EXPECT_EQ(s3.ghost_size(), 1u);  // {k2}
  s3.on_access(1, 12);             // freq 1 in main
  // 3: tracked 4, small 2 >= floor(1.0) -> small; tail 3 (freq 2) -> main
  // head with freq 0; tail 4 (freq 0) -> victim.
  EXPECT_EQ(evict(s3, 1, 13), std::vector<EntryId>{4});
  EXPECT_EQ(s3.small_size(), 0u);
  EXPECT_EQ(s3.main_size(), 3u);   // 3 0 1
  EXPECT_EQ(s3.ghost_size(), 2u);  // {k2, k4}
  // 4: small empty -> main; tail 1 (freq 1) reinserted with freq 0; tail 0
  // (freq 0) -> victim. Evicted from main: no ghost entry.
  EXPECT_EQ(evict(s3, 1, 14), std::vector<EntryId>{0});
  EXPECT_EQ(s3.ghost_size(), 2u);
  insert(s3, 2, k5, 15);  // new key: small
  insert(s3, 4, k2, 16);  // remembered: main 4 1 3
  EXPECT_EQ(s3.small_size(), 1u);
  EXPECT_EQ(s3.main_size(), 3u);
  EXPECT_EQ(s3.ghost_size(), 1u);  // {k4}
  // 5: tracked 4, small 1 >= 1 -> small tail 2 -> victim (k5 to ghost).
  // 6..8: tracked 3, small empty -> main in FIFO order: 3, 1, 4.
  EXPECT_EQ(evict(s3, 10, 17), (std::vector<EntryId>{2, 3, 1, 4}));
  EXPECT_EQ(s3.ghost_size(), 2u);  // {k4, k5}
  EXPECT_EQ(s3.victim(18), std::nullopt);
}

TEST(S3FifoTest, MainReinsertsWithFrequencyMinusOneCappedAtThree) {
  S3FifoPolicy s3(0.5);
  // Put 0 and 1 in main via the ghost: insert, evict from small, re-insert.
  insert(s3, 0, 10, 0);
  EXPECT_EQ(evict(s3, 1, 1), std::vector<EntryId>{0});
  insert(s3, 0, 10, 2);  // main
  insert(s3, 1, 11, 3);  // small
  EXPECT_EQ(evict(s3, 1, 4), std::vector<EntryId>{1});  // small 1 >= floor(0.5*2)
  insert(s3, 1, 11, 5);  // main: 1 0
  ASSERT_EQ(s3.main_size(), 2u);
  for (int i = 0; i < 5; ++i) s3.on_access(0, 6);  // capped at 3
  for (int i = 0; i < 3; ++i) s3.on_access(1, 7);  // 3
  // Main (new..old) 1 0. Laps: 0 3->2, 1 3->2, 0 2->1, 1 2->1, 0 1->0,
  // 1 1->0, then tail 0 has 0: victim 0, then 1. (Uncapped, 0 would hold 5
  // and 1 would go first.)
  EXPECT_EQ(evict(s3, 2, 8), (std::vector<EntryId>{0, 1}));
}

TEST(S3FifoTest, GhostIsBoundedAndOnlyEvictionsFromSmallEnterIt) {
  S3FifoPolicy s3(0.5);
  const std::uint64_t k1 = 1, k2 = 2, k3 = 3;
  insert(s3, 0, k1, 0);
  insert(s3, 1, k2, 1);  // peak 2: ghost capacity 2 - floor(1) = 1
  EXPECT_EQ(s3.ghost_capacity(), 1u);
  EXPECT_EQ(evict(s3, 1, 2), std::vector<EntryId>{0});  // ghost {k1}
  insert(s3, 0, k3, 3);
  EXPECT_EQ(evict(s3, 1, 4), std::vector<EntryId>{1});  // ghost {k2}: k1 dropped
  EXPECT_EQ(s3.ghost_size(), 1u);
  insert(s3, 1, k1, 5);  // forgotten: small
  EXPECT_EQ(s3.main_size(), 0u);
  insert(s3, 2, k2, 6);  // remembered: main
  EXPECT_EQ(s3.main_size(), 1u);
  EXPECT_EQ(s3.ghost_size(), 0u);

  // Deleted, expired or overwritten entries and entries evicted from main do
  // not enter the ghost.
  S3FifoPolicy other(0.5);
  insert(other, 0, 42, 0);
  remove(other, 0, RemoveReason::kDeleted);
  insert(other, 0, 43, 1);
  remove(other, 0, RemoveReason::kExpired);
  insert(other, 0, 44, 2);
  remove(other, 0, RemoveReason::kOverwrite);
  EXPECT_EQ(other.ghost_size(), 0u);
  for (std::uint64_t key : {42, 43, 44}) {
    insert(other, 0, key, 3);
    EXPECT_EQ(other.main_size(), 0u) << key;
    remove(other, 0, RemoveReason::kDeleted);
  }
  insert(other, 0, 50, 4);
  EXPECT_EQ(evict(other, 1, 5), std::vector<EntryId>{0});
  insert(other, 0, 50, 6);  // main
  ASSERT_EQ(other.main_size(), 1u);
  EXPECT_EQ(evict(other, 1, 7), std::vector<EntryId>{0});  // from main
  EXPECT_EQ(other.ghost_size(), 0u);
}

// Drives a GhostFifo and a reference with the same random pushes and
// erasures of fingerprints drawn from `universe`, the capacity growing slowly
// to `max_capacity`. Reference: a FIFO of (fingerprint, sequence) slots; a
// fingerprint is remembered iff its latest slot is still in the FIFO and it
// was not erased since.
void check_ghost_against_reference(const std::vector<std::uint32_t>& universe, std::size_t max_capacity,
                                   std::uint64_t seed) {
  GhostFifo ghost;
  std::deque<std::pair<std::uint32_t, std::uint64_t>> slots;
  absl::flat_hash_map<std::uint32_t, std::uint64_t> latest;
  std::uint64_t sequence = 0;
  std::size_t capacity = 1;
  SeededRandom random(seed);
  for (int op = 0; op < 40'000; ++op) {
    const std::uint32_t fp = universe[random.uniform(universe.size())];
    const std::uint64_t dice = random.uniform(100);
    if (dice < 2 && capacity < max_capacity) ++capacity;
    if (dice < 60) {
      ghost.push(fp, capacity);
      while (slots.size() >= capacity) {
        auto it = latest.find(slots.front().first);
        if (it != latest.end() && it->second == slots.front().second) latest.erase(it);
        slots.pop_front();
      }
      slots.emplace_back(fp, ++sequence);
      latest[fp] = sequence;
    } else {
      ASSERT_EQ(ghost.erase(fp), latest.erase(fp) == 1) << op;
    }
    ASSERT_EQ(ghost.size(), latest.size()) << op;
    if (op % 16 == 0) {
      for (std::uint32_t probe : universe) {
        ASSERT_EQ(ghost.contains(probe), latest.contains(probe)) << op << " " << probe;
      }
    }
  }
  EXPECT_GT(ghost.memory_bytes(), 0u);
  ghost.clear();
  EXPECT_EQ(ghost.size(), 0u);
  EXPECT_EQ(ghost.memory_bytes(), 0u);
  EXPECT_FALSE(ghost.contains(universe[0]));
}

TEST(GhostFifoTest, MatchesReferenceUnderMiddleErasureAndGrowth) {
  std::vector<std::uint32_t> universe;  // dense small values: many shared probe runs
  for (std::uint32_t fp = 0; fp < 96; ++fp) universe.push_back(fp);
  check_ghost_against_reference(universe, 80, 77);
}

TEST(GhostFifoTest, MatchesReferenceWhenEveryFingerprintSharesOneHomeSlot) {
  // White-box: the table's home slot is the top bits of fp * 0x9E3779B1, so
  // these fingerprints all start probing at slot 0 in any table up to 4096
  // slots. Probe runs grow past 31, the distance the entries can hold.
  std::vector<std::uint32_t> universe;
  for (std::uint32_t fp = 1; universe.size() < 120; ++fp) {
    if (fp * 0x9E37'79B1u < (1u << 20)) universe.push_back(fp);
  }
  check_ghost_against_reference(universe, 100, 78);
}

// ---- session ----

constexpr TimeNs kTtl = 100, kIdle = 50, kGrace = 20;

TEST(SessionTest, EachRuleFiresOnlyPastItsThreshold) {
  enum : EntryId { A, B };
  {  // Rule 1 (session over) vs rule 2.
    SessionPolicy session(kTtl, kIdle, kGrace);
    insert(session, A, 0, 0);
    insert(session, B, 1, 10);
    session.on_access(A, 80);  // oldest-created A; least recent B (10)
    // t=100: A's age is 100, not > 100; B idle 90 > 50 -> rule 2: B.
    EXPECT_EQ(session.victim(100), EntryId{B});
    EXPECT_EQ(session.victim(101), EntryId{A});  // age 101 > 100 -> rule 1
  }
  {  // Rule 2 (idle) vs rule 3.
    SessionPolicy session(kTtl, kIdle, kGrace);
    insert(session, A, 0, 0);
    insert(session, B, 1, 10);
    session.on_access(A, 40);
    // t=60: A age 60 <= 100; B idle 50, not > 50; A age 60 > 20 -> rule 3: A.
    EXPECT_EQ(session.victim(60), EntryId{A});
    EXPECT_EQ(session.victim(61), EntryId{B});  // idle 51 > 50 -> rule 2
  }
  {  // Rule 3 (past grace) vs rule 4 (plain LRU).
    SessionPolicy session(kTtl, kIdle, kGrace);
    insert(session, A, 0, 0);
    insert(session, B, 1, 5);
    session.on_access(A, 10);
    // t=20: A age 20, not > 20; B idle 15 -> rule 4: least recent, B.
    EXPECT_EQ(session.victim(20), EntryId{B});
    EXPECT_EQ(session.victim(21), EntryId{A});  // age 21 > 20 -> rule 3
  }
}

TEST(SessionTest, HandWorkedSequenceWalksThroughAllFourRules) {
  SessionPolicy session(kTtl, kIdle, kGrace);
  enum : EntryId { A, B, C, D, E };
  insert(session, A, 0, 50);
  insert(session, B, 1, 120);
  insert(session, C, 2, 130);
  session.on_access(B, 140);
  insert(session, D, 3, 182);
  insert(session, E, 4, 184);
  session.on_access(D, 187);
  session.on_access(C, 189);
  session.on_access(A, 190);
  // Created: A50 B120 C130 D182 E184. Accessed: B140 E184 D187 C189 A190.
  // At t=200:
  //   A: age 150 > 100                                  -> rule 1: A
  //   B: age 80; least recent B idle 60 > 50            -> rule 2: B
  //   C: age 70; least recent E idle 16; 70 > 20        -> rule 3: C (LRU says E)
  //   D: age 18 <= 20                                   -> rule 4: E
  //   D                                                 -> rule 4: D
  EXPECT_EQ(evict(session, 10, 200), (std::vector<EntryId>{A, B, C, E, D}));
}

TEST(SessionTest, UpdateRestartsTheSession) {
  SessionPolicy session(kTtl, kIdle, kGrace);
  enum : EntryId { A, B };
  insert(session, A, 0, 0);
  insert(session, B, 1, 1);
  session.on_update(A, 60);  // created and accessed at 60: B is now the oldest
  session.on_access(B, 70);
  // t=102: B age 101 > 100 -> rule 1: B (without the restart: A, age 102).
  EXPECT_EQ(session.victim(102), EntryId{B});
  remove(session, B, RemoveReason::kEvicted);
  // A: age 42, idle 42 -> rule 3 (42 > 20): A.
  EXPECT_EQ(session.victim(102), EntryId{A});
}

// The seed's rules, by scanning every live entry (the seed was O(n)).
struct SessionModel {
  struct Entry {
    TimeNs created_ns;
    TimeNs last_access_ns;
    std::uint64_t created_seq;
    std::uint64_t access_seq;
  };
  absl::flat_hash_map<EntryId, Entry> live;
  std::uint64_t seq = 0;
  int rule_counts[4] = {0, 0, 0, 0};

  std::optional<EntryId> victim(TimeNs now) {
    if (live.empty()) return std::nullopt;
    EntryId oldest = 0, least_recent = 0;
    std::uint64_t best_created = std::numeric_limits<std::uint64_t>::max(), best_access = best_created;
    for (const auto& [id, entry] : live) {
      if (entry.created_seq < best_created) {
        best_created = entry.created_seq;
        oldest = id;
      }
      if (entry.access_seq < best_access) {
        best_access = entry.access_seq;
        least_recent = id;
      }
    }
    const Entry& o = live.at(oldest);
    const Entry& l = live.at(least_recent);
    if (now - o.created_ns > kTtl) return ++rule_counts[0], oldest;
    if (now - l.last_access_ns > kIdle) return ++rule_counts[1], least_recent;
    if (now - o.created_ns > kGrace) return ++rule_counts[2], oldest;
    return ++rule_counts[3], least_recent;
  }
};

TEST(SessionTest, MatchesBruteForceSeedRulesOver100kRandomOps) {
  SessionPolicy session(kTtl, kIdle, kGrace);
  SessionModel model;
  std::vector<EntryId> ids;  // live, for picking
  std::vector<EntryId> free_ids;
  EntryId next_id = 0;
  SeededRandom random(31);
  TimeNs now = 0;
  for (int op = 0; op < 100'000; ++op) {
    // Time runs at four speeds in turn, so that every rule gets its turn.
    now += static_cast<TimeNs>(random.uniform(std::uint64_t{1} << (op / 2500 % 4)));
    const std::uint64_t dice = random.uniform(100);
    if (dice < 30 || ids.empty()) {
      if (ids.size() >= 40) {
        const std::optional<EntryId> expected = model.victim(now);
        ASSERT_EQ(session.victim(now), expected) << op;
        remove(session, *expected, RemoveReason::kEvicted);
        model.live.erase(*expected);
        ids.erase(std::find(ids.begin(), ids.end(), *expected));
        free_ids.push_back(*expected);
      }
      EntryId id = next_id;
      if (!free_ids.empty()) {
        id = free_ids.back();
        free_ids.pop_back();
      } else {
        ++next_id;
      }
      insert(session, id, id, now);
      model.live[id] = {now, now, ++model.seq, model.seq};
      ids.push_back(id);
    } else if (dice < 80) {
      const EntryId id = ids[random.uniform(ids.size())];
      SessionModel::Entry& entry = model.live[id];
      if (dice < 70) {
        session.on_access(id, now);
      } else {
        session.on_update(id, now);
        entry.created_ns = now;
        entry.created_seq = ++model.seq;
      }
      entry.last_access_ns = now;
      entry.access_seq = ++model.seq;
    } else if (dice < 88) {
      const std::size_t at = random.uniform(ids.size());
      const EntryId id = ids[at];
      remove(session, id, RemoveReason::kDeleted);
      model.live.erase(id);
      ids[at] = ids.back();
      ids.pop_back();
      free_ids.push_back(id);
    } else {
      const std::optional<EntryId> expected = model.victim(now);
      ASSERT_EQ(session.victim(now), expected) << op;
      remove(session, *expected, RemoveReason::kEvicted);
      model.live.erase(*expected);
      ids.erase(std::find(ids.begin(), ids.end(), *expected));
      free_ids.push_back(*expected);
    }
    ASSERT_EQ(session.size(), model.live.size());
  }
  for (int rule = 0; rule < 4; ++rule) {
    EXPECT_GT(model.rule_counts[rule], 1000) << "rule " << rule + 1;
  }
}

// ---- every policy ----

TEST(EveryPolicyTest, RandomOpsNeverNameAnUntrackedIdAndSizeMatches) {
  for (std::string_view name : eviction_policy_names()) {
    SCOPED_TRACE(std::string(name));
    SeededRandom policy_random(3);
    EvictionConfig config;
    config.policy = std::string(name);
    config.session_ttl_ns = 3000;
    config.idle_timeout_ns = 1000;
    config.grace_period_ns = 300;
    auto policy = make(config, policy_random);
    const bool tracks = name != "noeviction";
    absl::flat_hash_set<EntryId> live;
    std::vector<EntryId> ids;
    std::vector<EntryId> free_ids;
    EntryId next_id = 0;
    SeededRandom random(11);
    TimeNs now = 0;
    auto remove_live = [&](EntryId id, RemoveReason reason) {
      remove(*policy, id, reason);
      live.erase(id);
      ids.erase(std::find(ids.begin(), ids.end(), id));
      free_ids.push_back(id);
    };
    std::size_t hints = 0;
    auto evict_one = [&]() {
      const std::optional<EntryId> hint = policy->peek_victim(now);
      const std::optional<EntryId> victim = policy->victim(now);
      if (!tracks || live.empty()) {
        ASSERT_EQ(hint, std::nullopt);
        ASSERT_EQ(victim, std::nullopt);
        return;
      }
      ASSERT_TRUE(victim.has_value());
      if (hint) {
        ++hints;
        ASSERT_EQ(*hint, *victim) << "a peeked victim is exact";
      }
      ASSERT_TRUE(live.contains(*victim)) << *victim;
      remove_live(*victim, RemoveReason::kEvicted);
    };
    for (int op = 0; op < 100'000; ++op) {
      now += static_cast<TimeNs>(random.uniform(20));
      const std::uint64_t dice = random.uniform(100);
      if (dice < 35 || ids.empty()) {
        if (ids.size() >= 200) {
          if (!tracks) continue;
          evict_one();
        }
        EntryId id = next_id;
        if (!free_ids.empty()) {
          id = free_ids[random.uniform(free_ids.size())];  // reuse any free id
          free_ids.erase(std::find(free_ids.begin(), free_ids.end(), id));
        } else {
          ++next_id;
        }
        insert(*policy, id, random.uniform(400), now);  // recurring keys exercise the ghost
        live.insert(id);
        ids.push_back(id);
      } else if (dice < 65) {
        policy->on_access(ids[random.uniform(ids.size())], now);
      } else if (dice < 75) {
        policy->on_update(ids[random.uniform(ids.size())], now);
      } else if (dice < 85) {
        remove_live(ids[random.uniform(ids.size())], dice < 80 ? RemoveReason::kDeleted : RemoveReason::kExpired);
      } else {
        evict_one();
        if (HasFatalFailure()) return;
      }
      if (HasFatalFailure()) return;
      ASSERT_EQ(policy->size(), tracks ? live.size() : 0u) << op;
    }
    // Drain: every tracked id comes out exactly once.
    while (tracks && !live.empty()) {
      evict_one();
      if (HasFatalFailure()) return;
    }
    EXPECT_EQ(policy->victim(now), std::nullopt);
    EXPECT_EQ(policy->size(), 0u);
    // Every evicting policy gives the hint often (session's choice changes
    // nothing, so it always can; sampled-lru whenever its next sample is
    // still tracked).
    if (name == "noeviction") {
      EXPECT_EQ(hints, 0u);
    } else {
      EXPECT_GT(hints, 1000u);
    }
  }
}

TEST(EveryPolicyTest, ClearForgetsEverythingAndIdsCanBeReinserted) {
  for (std::string_view name : eviction_policy_names()) {
    SCOPED_TRACE(std::string(name));
    SeededRandom random(4);
    auto policy = make(std::string(name), random);
    for (EntryId id = 0; id < 50; ++id) insert(*policy, id, 7000 + id, id);
    for (EntryId id = 0; id < 50; id += 3) policy->on_access(id, 100);
    evict(*policy, 5, 200);  // s3fifo: fills its ghost
    policy->clear();
    EXPECT_EQ(policy->size(), 0u);
    EXPECT_EQ(policy->victim(300), std::nullopt);
    EXPECT_EQ(policy->memory_bytes(), 0u);
    for (EntryId id = 0; id < 3; ++id) insert(*policy, id, 7000 + id, 400 + id);
    if (name == "noeviction") continue;
    EXPECT_EQ(policy->size(), 3u);
    const std::optional<EntryId> victim = policy->victim(500);
    ASSERT_TRUE(victim.has_value());
    EXPECT_LT(*victim, 3u);
    if (name != "sampled-lru") {
      EXPECT_EQ(*victim, 0u);  // the oldest, in every ordered policy
    }
  }
  // s3fifo's ghost is forgotten too: a key evicted before clear() goes to small.
  S3FifoPolicy s3(0.1);
  insert(s3, 0, 99, 0);
  EXPECT_EQ(evict(s3, 1, 1), std::vector<EntryId>{0});
  ASSERT_EQ(s3.ghost_size(), 1u);
  s3.clear();
  EXPECT_EQ(s3.ghost_size(), 0u);
  insert(s3, 0, 99, 2);
  EXPECT_EQ(s3.main_size(), 0u);
  EXPECT_EQ(s3.small_size(), 1u);
}

TEST(EveryPolicyTest, PerIdMetadataBytesAfterReserve) {
  // A store that reserves for its capacity pays exactly this per id.
  const std::vector<std::pair<std::string, std::size_t>> expected = {
      {"lru", 8}, {"sieve", 9}, {"sampled-lru", 8}, {"s3fifo", 9}, {"session", 32}, {"noeviction", 0}};
  for (const auto& [name, bytes] : expected) {
    SeededRandom random(1);
    auto policy = make(name, random);
    policy->reserve(1000);
    for (EntryId id = 0; id < 1000; ++id) insert(*policy, id, id, id);
    EXPECT_EQ(policy->memory_bytes(), 1000 * bytes) << name;  // s3fifo: no evictions, empty ghost
  }
}

}  // namespace
}  // namespace hcsim::core
