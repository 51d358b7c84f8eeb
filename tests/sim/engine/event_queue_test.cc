#include "sim/engine/event_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/random.h"

namespace hcsim::sim {
namespace {

// Runs the next event with time <= limit (its time into *time); false if none.
bool run_one(EventQueue& q, TimeNs limit, TimeNs* time = nullptr) {
  return q.run_next(limit, [time](TimeNs t) {
    if (time != nullptr) *time = t;
  });
}
constexpr TimeNs kForever = std::numeric_limits<TimeNs>::max();

TEST(CallbackTest, SmallCapturesAreInlineBigOnesOnTheHeapBothRun) {
  int calls = 0;
  Callback small([&calls] { ++calls; });
  EXPECT_TRUE(small.stored_inline());
  std::array<char, 64> big_payload{};
  big_payload[63] = 5;
  Callback big([&calls, big_payload] { calls += big_payload[63]; });
  EXPECT_FALSE(big.stored_inline());
  small();
  big();
  EXPECT_EQ(calls, 6);
  Callback empty;
  EXPECT_FALSE(empty);
  EXPECT_TRUE(small);
}

TEST(CallbackTest, MovesAndDestroysCapturesExactlyOnce) {
  auto token = std::make_shared<int>(7);
  {
    Callback inline_cb([token] { EXPECT_EQ(*token, 7); });  // 16 bytes, not trivially copyable
    std::array<char, 64> pad{};
    Callback heap_cb([token, pad] { EXPECT_EQ(pad[0], 0); });
    EXPECT_TRUE(inline_cb.stored_inline());
    EXPECT_FALSE(heap_cb.stored_inline());
    EXPECT_EQ(token.use_count(), 3);
    Callback moved(std::move(inline_cb));
    Callback moved_heap;
    moved_heap = std::move(heap_cb);
    EXPECT_FALSE(inline_cb);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_FALSE(heap_cb);    // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(token.use_count(), 3);
    moved();
    moved_heap();
    moved.reset();
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);
}

TEST(CallbackTest, ACallbackIsMovedInNotWrapped) {
  int calls = 0;
  Callback inner([&calls] { ++calls; });
  Callback outer;
  outer.emplace(std::move(inner));
  EXPECT_TRUE(outer.stored_inline());  // wrapping would need 48 bytes: heap
  outer();
  EXPECT_EQ(calls, 1);
}

TEST(CallbackTest, MoveOnlyCapture) {
  auto owned = std::make_unique<int>(41);
  int seen = 0;
  Callback cb([p = std::move(owned), &seen] { seen = *p + 1; });
  Callback other(std::move(cb));
  other();
  EXPECT_EQ(seen, 42);
}

TEST(EventQueueTest, PopsInTimeOrder) {
  EventQueue q;
  std::vector<int> order;
  const TimeNs times[] = {50, 10, 30, 20, 40, 1'000'000'007, 64, 63, 4096};
  for (int i = 0; i < 9; ++i) {
    ASSERT_NE(q.push(times[i], [&order, i] { order.push_back(i); }), kInvalidEventId);
  }
  EXPECT_EQ(q.size(), 9u);
  std::vector<TimeNs> seen;
  TimeNs t = 0;
  while (run_one(q, kForever, &t)) seen.push_back(t);
  EXPECT_EQ(order, (std::vector<int>{1, 3, 2, 4, 0, 7, 6, 8, 5}));
  EXPECT_EQ(seen, (std::vector<TimeNs>{10, 20, 30, 40, 50, 63, 64, 4096, 1'000'000'007}));
  EXPECT_TRUE(q.empty());
}

TEST(EventQueueTest, EqualTimesRunInPushOrder) {
  EventQueue q;
  std::vector<int> order;
  // 300 events at one time, interleaved with others; pushed while `last` is
  // far below, so they are re-filed (moved) several times before they run.
  for (int i = 0; i < 300; ++i) {
    q.push(1'000'000, [&order, i] { order.push_back(i); });
    q.push(1'000'000 + 1 + i, [&order, i] { order.push_back(1000 + i); });
    q.push(999'000 - i, [&order, i] { order.push_back(-1 - i); });
  }
  while (run_one(q, kForever)) {
  }
  ASSERT_EQ(order.size(), 900u);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(order[static_cast<std::size_t>(i)], -300 + i);         // 998'701 .. 999'000
    EXPECT_EQ(order[static_cast<std::size_t>(300 + i)], i);          // 1'000'000, push order
    EXPECT_EQ(order[static_cast<std::size_t>(600 + i)], 1000 + i);   // 1'000'001 ..
  }
  EXPECT_GT(q.moves(), 0u);
}

TEST(EventQueueTest, EqualTimesPushedAtDifferentMomentsKeepPushOrder) {
  EventQueue q;
  std::vector<char> order;
  q.push(5000, [&order] { order.push_back('a'); });
  q.push(100, [&order, &q] {
    order.push_back('x');
    q.push(5000, [&order] { order.push_back('c'); });  // pushed after 'a' and 'b'
    q.push(300, [&order, &q] {
      order.push_back('y');
      q.push(5000, [&order] { order.push_back('d'); });
    });
  });
  q.push(5000, [&order] { order.push_back('b'); });
  while (run_one(q, kForever)) {
  }
  EXPECT_EQ(std::string(order.begin(), order.end()), "xyabcd");
}


// Pushes that land inside the time range of the bucket being popped, in
// falling time order with repeats: every event must still pop in (time, push
// order).
TEST(EventQueueTest, FallingPushesInsideTheCurrentRangeKeepTimeAndPushOrder) {
  EventQueue q;
  std::vector<std::pair<TimeNs, int>> popped;
  std::vector<std::pair<TimeNs, int>> pushed;
  const auto record = [&popped](TimeNs t, int label) { return [&popped, t, label] { popped.emplace_back(t, label); }; };
  pushed.emplace_back(1'000'000, 0);
  q.push(1'000'000, record(1'000'000, 0));
  pushed.emplace_back(1'000'001, 1);
  q.push(1'000'001, record(1'000'001, 1));
  ASSERT_TRUE(run_one(q, kForever));  // time 1'000'000: later pushes fall in its range
  int label = 2;
  for (TimeNs t = 1'000'600; t >= 1'000'000; --t) {
    for (int repeat = 0; repeat < 1 + static_cast<int>(t % 3); ++repeat) {
      pushed.emplace_back(t, label);
      ASSERT_NE(q.push(t, record(t, label)), kInvalidEventId);
      ++label;
    }
  }
  while (run_one(q, kForever)) {
  }
  // The expected order: by time, then by push order (label).
  std::vector<std::pair<TimeNs, int>> expected = pushed;
  std::stable_sort(expected.begin(), expected.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  ASSERT_EQ(popped.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(popped[i], expected[i]) << "at " << i;
  }
  EXPECT_GT(q.moves(), 0u);
}
TEST(EventQueueTest, ExtremeTimes) {
  EventQueue q;
  std::vector<TimeNs> seen;
  const TimeNs lo = std::numeric_limits<TimeNs>::min();
  for (TimeNs t : {kForever, TimeNs{0}, lo, TimeNs{-5}, TimeNs{5}}) q.push(t, [] {});
  TimeNs t = 0;
  while (run_one(q, kForever, &t)) seen.push_back(t);
  EXPECT_EQ(seen, (std::vector<TimeNs>{lo, -5, 0, 5, kForever}));
}

TEST(EventQueueTest, LimitIsInclusiveAndNothingLaterRuns) {
  EventQueue q;
  int ran = 0;
  q.push(10, [&ran] { ran += 1; });
  q.push(20, [&ran] { ran += 10; });
  q.push(4000, [&ran] { ran += 100; });
  EXPECT_TRUE(run_one(q, 15));
  EXPECT_FALSE(run_one(q, 15));
  EXPECT_FALSE(run_one(q, 19));
  EXPECT_EQ(ran, 1);
  EXPECT_LE(q.last_time(), 19);
  EXPECT_TRUE(run_one(q, 20));
  EXPECT_FALSE(run_one(q, 3999));
  EXPECT_EQ(ran, 11);
  EXPECT_TRUE(run_one(q, 4000));
  EXPECT_EQ(ran, 111);
}

TEST(EventQueueTest, RefusesTimesBeforeTheLastPopped) {
  EventQueue q;
  q.push(100, [] {});
  ASSERT_TRUE(run_one(q, kForever));
  EXPECT_EQ(q.last_time(), 100);
  EXPECT_EQ(q.push(99, [] {}), kInvalidEventId);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_NE(q.push(100, [] {}), kInvalidEventId);
}

// last_time() is the latest popped time: a run_next that runs nothing leaves
// it, and pushes before the next event's bucket, alone.
TEST(EventQueueTest, ARunThatRunsNothingChangesNothing) {
  EventQueue q;
  std::vector<TimeNs> order;
  const TimeNs before = q.last_time();
  q.push(1000, [&order] { order.push_back(1000); });
  q.push(5000, [&order] { order.push_back(5000); });
  EXPECT_FALSE(run_one(q, 999));
  EXPECT_EQ(q.last_time(), before);
  ASSERT_NE(q.push(-5, [&order] { order.push_back(-5); }), kInvalidEventId);
  ASSERT_NE(q.push(0, [&order] { order.push_back(0); }), kInvalidEventId);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run_one(q, 1000));
  EXPECT_FALSE(run_one(q, 4999));  // 5000 is due later
  EXPECT_EQ(q.last_time(), 1000);
  ASSERT_TRUE(run_one(q, kForever));
  EXPECT_FALSE(run_one(q, kForever));
  EXPECT_EQ(order, (std::vector<TimeNs>{-5, 0, 1000, 5000}));
}

// Two events pending, each pushing its successor a little later, for 200,000
// events: what the queue stores stays proportional to what is pending.
TEST(EventQueueTest, StorageStaysBoundedWhileFewEventsChainForever) {
  EventQueue q;
  std::size_t most = 0;
  std::function<void()> next = [&q, &next] { q.push(q.last_time() + 2, [&next] { next(); }); };
  q.push(0, [&next] { next(); });
  q.push(1, [&next] { next(); });
  for (int i = 0; i < 200'000; ++i) {
    ASSERT_TRUE(run_one(q, kForever));
    most = std::max(most, q.stored_entries());
  }
  EXPECT_EQ(q.size(), 2u);
  EXPECT_LE(most, 8u);
}

TEST(EventQueueTest, CancelSemantics) {
  EventQueue q;
  int ran = 0;
  const EventId a = q.push(10, [&ran] { ran += 1; });
  const EventId b = q.push(20, [&ran] { ran += 10; });
  EXPECT_TRUE(q.cancel(a));
  EXPECT_FALSE(q.cancel(a));  // twice
  EXPECT_FALSE(q.cancel(kInvalidEventId));
  EXPECT_FALSE(q.cancel(12345));               // a slot never used
  EXPECT_FALSE(q.cancel(b + (1ULL << 32)));    // b's slot, wrong generation
  EXPECT_EQ(q.size(), 1u);
  // a's slot is reused; a's id must not reach the new event.
  const EventId c = q.push(30, [&ran] { ran += 100; });
  EXPECT_NE(c, a);
  EXPECT_EQ(c & 0xffffffffULL, a & 0xffffffffULL);
  EXPECT_FALSE(q.cancel(a));
  EXPECT_TRUE(run_one(q, kForever));
  EXPECT_FALSE(q.cancel(b));  // already ran
  EXPECT_TRUE(run_one(q, kForever));
  EXPECT_FALSE(run_one(q, kForever));
  EXPECT_EQ(ran, 110);
}

TEST(EventQueueTest, CapacityIsBoundedAndFreedByRunAndCancel) {
  EventQueue q(EventQueue::Options{.max_pending = 4});
  EXPECT_EQ(q.max_pending(), 4u);
  std::vector<EventId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(q.push(i, [] {}));
  for (EventId id : ids) EXPECT_NE(id, kInvalidEventId);
  EXPECT_EQ(q.push(10, [] {}), kInvalidEventId);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_TRUE(run_one(q, kForever));
  EXPECT_NE(q.push(10, [] {}), kInvalidEventId);
  EXPECT_EQ(q.push(11, [] {}), kInvalidEventId);
  EXPECT_TRUE(q.cancel(ids[3]));
  EXPECT_NE(q.push(11, [] {}), kInvalidEventId);
  EXPECT_EQ(q.size(), 4u);

  EventQueue zero(EventQueue::Options{.max_pending = 0});  // clamped to 1
  EXPECT_EQ(zero.max_pending(), 1u);
  EXPECT_NE(zero.push(1, [] {}), kInvalidEventId);
  EXPECT_EQ(zero.push(2, [] {}), kInvalidEventId);
}

TEST(EventQueueTest, TombstonesAreSweptSoEntriesStayBounded) {
  EventQueue q;
  std::vector<EventId> ids;
  for (int i = 0; i < 10'000; ++i) ids.push_back(q.push(1'000'000 + 7 * i, [] {}));
  for (int i = 0; i < 10'000; ++i) {
    if (i % 1000 != 0) {
      ASSERT_TRUE(q.cancel(ids[static_cast<std::size_t>(i)]));
    }
    ASSERT_LE(q.entries(), 2 * q.size() + EventQueue::kSweepMin + 1);
  }
  EXPECT_EQ(q.size(), 10u);
  EXPECT_GE(q.sweeps(), 1u);
  TimeNs next = 0;
  ASSERT_TRUE(q.next_time(next));
  EXPECT_EQ(next, 1'000'000);
  std::vector<TimeNs> seen;
  TimeNs t = 0;
  while (run_one(q, kForever, &t)) seen.push_back(t);
  ASSERT_EQ(seen.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(seen[i], 1'000'000 + 7'000 * static_cast<TimeNs>(i));
  EXPECT_EQ(q.entries(), 0u);
}

TEST(EventQueueTest, SweepsKeepEqualTimesInPushOrder) {
  EventQueue q;
  std::vector<int> order;
  const auto sweep_with_cancels = [&q](TimeNs t, int n) {
    std::vector<EventId> doomed;
    for (int i = 0; i < n; ++i) doomed.push_back(q.push(t, [] { FAIL() << "cancelled event ran"; }));
    const std::uint64_t before = q.sweeps();
    for (EventId id : doomed) ASSERT_TRUE(q.cancel(id));
    EXPECT_GT(q.sweeps(), before);
  };
  // Only far events (beyond the ring, ~1 ms) leave tombstones, so all of
  // this is far: 200 equal times in a high-level radix bucket, swept.
  constexpr TimeNs kFar = 10'000'000;
  for (int i = 0; i < 200; ++i) q.push(kFar, [&order, i] { order.push_back(i); });
  sweep_with_cancels(kFar + 5000, 400);
  // Run two: the 200 move into the ring in order as it reaches them, and a
  // sweep of the far queue now must not disturb them.
  ASSERT_TRUE(run_one(q, kForever));
  ASSERT_TRUE(run_one(q, kForever));
  sweep_with_cancels(3 * kFar, 400);
  while (run_one(q, kForever)) {
  }
  ASSERT_EQ(order.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

// A cancelled far event earlier than the first live one, in the same radix
// bucket: when the ring is empty and jumps to the live one, the tombstone
// lies below the ring's start and must be dropped, not waited for (the bug
// this guards against made run_next loop forever).
TEST(EventQueueTest, FarTombstonesBelowTheFirstLiveFarEventAreDropped) {
  EventQueue q;
  constexpr TimeNs kFar = 10'000'000;  // ~10 ms: beyond the ring
  const EventId early = q.push(kFar, [] { FAIL() << "cancelled event ran"; });
  std::vector<TimeNs> ran;
  q.push(kFar + 700, [&ran, &q] { ran.push_back(q.last_time()); });
  q.push(kFar + 700'000, [&ran, &q] { ran.push_back(q.last_time()); });
  ASSERT_TRUE(q.cancel(early));
  EXPECT_EQ(q.tombstones(), 1u);
  ASSERT_TRUE(run_one(q, kForever));
  ASSERT_TRUE(run_one(q, kForever));
  EXPECT_FALSE(run_one(q, kForever));
  EXPECT_EQ(ran, (std::vector<TimeNs>{kFar + 700, kFar + 700'000}));
  EXPECT_EQ(q.tombstones(), 0u);
  EXPECT_EQ(q.stored_entries(), 0u);
}

// Far cancels leave tombstones; pops lower the live count too, so the sweep
// check runs there as well (found in review: entries() broke its bound after
// a few pops, and a long run kept dead entries until time reached them).
TEST(EventQueueTest, PopsAlsoSweepSoEntriesStayBounded) {
  EventQueue q;
  for (TimeNs t = 0; t < 10; ++t) q.push(t, [] {});
  std::vector<EventId> far;
  for (TimeNs i = 0; i < 74; ++i) far.push_back(q.push(10'000'000 + i, [] {}));
  for (EventId id : far) ASSERT_TRUE(q.cancel(id));
  EXPECT_EQ(q.sweeps(), 0u);  // 74 tombstones, 10 live: not yet
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(run_one(q, 100));
    ASSERT_LE(q.entries(), 2 * q.size() + EventQueue::kSweepMin + 1) << "after pop " << i;
  }
  EXPECT_GE(q.sweeps(), 1u);
  EXPECT_EQ(q.stored_entries(), q.size());
}

// A callable whose destructor cancels its own event: cancel must finish its
// bookkeeping before destroying it, so the second cancel finds nothing.
TEST(EventQueueTest, ACallbackDestructorThatCancelsItsOwnEventIsHarmless) {
  EventQueue q;
  struct SelfCancel {
    EventQueue* queue;
    std::shared_ptr<EventId> id;
    std::shared_ptr<bool> second;
    SelfCancel(EventQueue* q, std::shared_ptr<EventId> i, std::shared_ptr<bool> s)
        : queue(q), id(std::move(i)), second(std::move(s)) {}
    SelfCancel(SelfCancel&& o) noexcept = default;
    ~SelfCancel() {
      if (id && *id != kInvalidEventId) *second = queue->cancel(*id);
    }
    void operator()() const {}
  };
  auto id = std::make_shared<EventId>(kInvalidEventId);
  auto second = std::make_shared<bool>(true);
  *id = q.push(5, SelfCancel(&q, id, second));
  q.push(6, [] {});
  ASSERT_TRUE(q.cancel(*id));
  EXPECT_FALSE(*second);
  EXPECT_EQ(q.size(), 1u);
  const EventId other = q.push(7, [] {});  // the free list is intact
  EXPECT_NE(other, kInvalidEventId);
  EXPECT_EQ(q.size(), 2u);
  *id = kInvalidEventId;
}

TEST(EventQueueTest, NextTimeSkipsCancelledAndChangesNothing) {
  EventQueue q;
  TimeNs t = 0;
  EXPECT_FALSE(q.next_time(t));
  const EventId a = q.push(70, [] {});
  q.push(90, [] {});
  q.cancel(a);
  ASSERT_TRUE(q.next_time(t));
  EXPECT_EQ(t, 90);
  EXPECT_EQ(q.push(80, [] {}) != kInvalidEventId, true);  // still allowed: nothing was popped
  ASSERT_TRUE(q.next_time(t));
  EXPECT_EQ(t, 80);
}

TEST(EventQueueTest, CallbacksMayPushAndCancelWhileRunning) {
  EventQueue q;
  std::vector<int> order;
  EventId victim = kInvalidEventId;
  q.push(10, [&] {
    order.push_back(1);
    EXPECT_TRUE(q.cancel(victim));
    q.push(10, [&order] { order.push_back(3); });  // same time: after those already queued
  });
  q.push(10, [&order] { order.push_back(2); });
  victim = q.push(10, [&order] { order.push_back(99); });
  while (run_one(q, kForever)) {
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

// Crowded ring buckets: many events inside one 2^kNearBits-ns bucket (so it
// is sorted when popped), callbacks pushing into the bucket being popped
// (some at the very time being run), cancels that trigger sweeps, ring wraps
// and far events. Order and next_time() are checked against a reference map
// at every step, for several seeds.
TEST(EventQueueTest, CrowdedBucketsWithPushesAndCancelsMatchTheReference) {
  constexpr TimeNs kBucket = TimeNs{1} << EventQueue::kNearBits;
  constexpr TimeNs kRing = kBucket * EventQueue::kNearBuckets;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    core::SeededRandom rng(seed);
    EventQueue q;
    std::map<std::pair<TimeNs, std::uint64_t>, std::uint64_t> ref;  // (time, seq) -> label
    std::vector<std::pair<EventId, std::pair<TimeNs, std::uint64_t>>> issued;
    std::uint64_t seq = 0;
    std::uint64_t ran_label = ~std::uint64_t{0};
    std::function<void(TimeNs)> push_at;
    push_at = [&](TimeNs t) {
      const std::uint64_t label = seq++;
      const EventId id = q.push(t, [&, label] {
        ran_label = label;
        // Callbacks push too: mostly into the same bucket, now and then at
        // the time being run, now and then a ring or more away.
        const TimeNs now = q.last_time();
        const std::uint64_t dice = rng.uniform(10);
        if (dice < 4) push_at(now + static_cast<TimeNs>(rng.uniform(static_cast<std::uint64_t>(kBucket))));
        if (dice == 4) push_at(now);
        if (dice == 5) push_at(now + kRing + static_cast<TimeNs>(rng.uniform(3 * static_cast<std::uint64_t>(kRing))));
      });
      ASSERT_NE(id, kInvalidEventId);
      ref.emplace(std::make_pair(t, label), label);
      issued.emplace_back(id, std::make_pair(t, label));
    };
    TimeNs base = 0;
    for (int round = 0; round < 40; ++round) {
      // A crowd: 20..200 events in two adjacent buckets, with many ties.
      const auto crowd = static_cast<int>(20 + rng.uniform(181));
      for (int i = 0; i < crowd; ++i) push_at(base + static_cast<TimeNs>(rng.uniform(2 * kBucket) / 8 * 8));
      // Run about half, cancelling now and then; check each step.
      const auto steps = static_cast<int>(rng.uniform(static_cast<std::uint64_t>(crowd)) + 1);
      for (int i = 0; i < steps && !ref.empty(); ++i) {
        if (rng.uniform(4) == 0 && !issued.empty()) {
          const auto& [id, key] = issued[rng.uniform(issued.size())];
          ASSERT_EQ(q.cancel(id), ref.erase(key) == 1);
          continue;
        }
        TimeNs expected_next = 0;
        ASSERT_TRUE(q.next_time(expected_next));
        ASSERT_EQ(expected_next, ref.begin()->first.first) << "seed " << seed << " round " << round;
        const std::uint64_t want = ref.begin()->second;
        ref.erase(ref.begin());
        TimeNs t = 0;
        ASSERT_TRUE(run_one(q, kForever, &t));
        ASSERT_EQ(ran_label, want) << "seed " << seed << " round " << round << " step " << i;
        ASSERT_EQ(q.size(), ref.size());
      }
      if (rng.uniform(3) == 0) {
        // A mass cancel in the middle of a (likely sorted) bucket with
        // events pushed after it was sorted; far ones leave enough
        // tombstones for sweeps now and then.
        for (const auto& [id, key] : issued) {
          if (rng.uniform(10) < 8 && ref.erase(key) == 1) {
            ASSERT_TRUE(q.cancel(id));
          }
        }
        ASSERT_EQ(q.size(), ref.size());
        for (int i = 0; i < 5 && !ref.empty(); ++i) {
          const std::uint64_t want = ref.begin()->second;
          ref.erase(ref.begin());
          ASSERT_TRUE(run_one(q, kForever));
          ASSERT_EQ(ran_label, want) << "seed " << seed << " round " << round << " after a sweep";
        }
      }
      base = q.last_time() + static_cast<TimeNs>(rng.uniform(static_cast<std::uint64_t>(2 * kRing)));
      if (issued.size() > 4000) issued.erase(issued.begin(), issued.begin() + 2000);
    }
    // Drain: everything left comes out in (time, push) order (callbacks still
    // push, fewer than one event each on average, so this ends).
    while (!ref.empty()) {
      const std::uint64_t want = ref.begin()->second;
      ref.erase(ref.begin());
      ASSERT_TRUE(run_one(q, std::numeric_limits<TimeNs>::max()));
      ASSERT_EQ(ran_label, want) << "seed " << seed << " drain";  // its own pushes join ref
    }
    EXPECT_TRUE(q.empty());
    EXPECT_GT(q.sweeps(), 0u);
    EXPECT_GT(q.moves(), 0u);
  }
}

// The reference: std::map keyed by (time, push sequence). One million random
// operations (push, cancel, run with a limit), with delays drawn so that ties,
// zero delays and large jumps are all common; phases alternate between growth
// and drain so the queue size sweeps from 0 to a few thousand.
TEST(EventQueueTest, MatchesReferenceOverOneMillionRandomOps) {
  core::SeededRandom rng(20240611);
  EventQueue q;
  std::map<std::pair<TimeNs, std::uint64_t>, std::uint64_t> ref;  // -> label
  std::map<std::uint64_t, std::pair<TimeNs, std::uint64_t>> key_of;  // label -> key, while pending
  std::vector<std::pair<EventId, std::uint64_t>> issued;             // id, label
  std::uint64_t seq = 0;
  TimeNs floor = 0;  // pushes at or after this are always accepted
  std::uint64_t ran_label = 0;
  bool ran = false;

  const auto delay = [&rng]() -> TimeNs {
    switch (rng.uniform(5)) {
      case 0: return 0;
      case 1: return static_cast<TimeNs>(rng.uniform(4));
      case 2: return static_cast<TimeNs>(rng.uniform(1000));
      case 3: return static_cast<TimeNs>(rng.uniform(1'000'000));
      default: return static_cast<TimeNs>(rng.uniform(1ULL << 40));
    }
  };

  constexpr int kOps = 1'000'000;
  for (int op = 0; op < kOps; ++op) {
    // Phases of 20,000 ops: grow, cancel-heavy (sweeps), drain.
    const int phase = (op / 20'000) % 3;
    const std::uint64_t push_pct = phase == 0 ? 50 : phase == 1 ? 20 : 25;
    const std::uint64_t cancel_pct = phase == 1 ? 60 : 15;
    const std::uint64_t dice = rng.uniform(100);
    if (dice < push_pct) {
      const TimeNs t = floor + delay();
      const std::uint64_t label = seq++;
      const EventId id = q.push(t, [&ran, &ran_label, label] {
        ran = true;
        ran_label = label;
      });
      ASSERT_NE(id, kInvalidEventId);
      ref.emplace(std::make_pair(t, label), label);
      key_of.emplace(label, std::make_pair(t, label));
      issued.emplace_back(id, label);
    } else if (dice < push_pct + cancel_pct && !issued.empty()) {
      // Mostly recent ids (likely pending), sometimes any (likely gone).
      const std::size_t window = phase == 1 ? std::min<std::size_t>(issued.size(), 3000) : issued.size();
      const auto& [id, label] = issued[issued.size() - 1 - rng.uniform(window)];
      const auto it = key_of.find(label);
      const bool pending = it != key_of.end();
      ASSERT_EQ(q.cancel(id), pending);
      if (pending) {
        ref.erase(it->second);
        key_of.erase(it);
      }
    } else {
      const TimeNs limit = floor + (rng.uniform(4) == 0 ? kForever - floor : delay());
      ran = false;
      TimeNs t = 0;
      const bool did = run_one(q, limit, &t);
      const bool expect = !ref.empty() && ref.begin()->first.first <= limit;
      ASSERT_EQ(did, expect) << "op " << op;
      if (did) {
        ASSERT_TRUE(ran);
        ASSERT_EQ(ran_label, ref.begin()->second) << "op " << op;
        ASSERT_EQ(t, ref.begin()->first.first);
        key_of.erase(ran_label);
        ref.erase(ref.begin());
        floor = t;
      } else if (limit != kForever) {
        floor = limit;  // run_next may have advanced up to limit
      }
    }
    ASSERT_EQ(q.size(), ref.size());
    ASSERT_LE(q.last_time(), floor);
    ASSERT_LE(q.entries(), 2 * q.size() + EventQueue::kSweepMin + 1);
    if (issued.size() > 50'000) issued.erase(issued.begin(), issued.begin() + 25'000);
  }
  EXPECT_GT(q.moves(), 0u);
  // (Sweeps are rare here: only far events leave tombstones. The sweep tests
  // above and CrowdedBuckets... cover them.)
}

}  // namespace
}  // namespace hcsim::sim
