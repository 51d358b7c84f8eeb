// The simulator's pending-event structure. Events pop in (time, insertion
// sequence) order, so equal times run in the order they were pushed. Push is
// O(1), pop amortised O(1) (at most 10 moves per event over its life), cancel
// O(1) by generation-checked id; it is bounded (a fixed maximum of pending
// events: push fails, never grows past it) and allocates nothing per event for
// callbacks whose captures fit in Callback::kInlineBytes.
//
// Layout: a monotone radix queue. `last` is the time of the latest event
// popped; every pending time is >= last, and pushes before last are refused
// (a discrete-event simulation never schedules into the past). An entry
// {time, id} goes to bucket (level, digit): level = index of the highest bit
// where time differs from last, divided by 6; digit = the 6 bits of time at
// that level. Buckets in (level, digit) order hold increasing, disjoint time
// ranges; level 0 buckets hold one exact time each, popped first-in first-out.
// Popping from a higher bucket takes its minimum (the first one, on ties), sets
// last to it and re-files the rest into lower levels, preserving their order.
// Entries are appended and moved in order, so equal times stay in push order
// without a sequence number. Callbacks live in a slab of 64-byte slots indexed
// by the id; cancel frees the slot at once and leaves a tombstone entry, dropped
// when popped, or swept when tombstones outnumber live events.
// Not thread-safe: one simulation is one thread.
#pragma once

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/runtime/clock.h"

namespace hcsim::sim {

using core::TimeNs;

// A move-only `void()` callable. Captures of up to kInlineBytes (alignment <= 8,
// nothrow-movable) live inside the object; bigger ones go to the heap.
class Callback {
 public:
  static constexpr std::size_t kInlineBytes = 40;

  Callback() noexcept = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Callback>>>
  Callback(F&& f) {  // NOLINT: implicit, like std::function
    emplace(std::forward<F>(f));
  }
  Callback(Callback&& other) noexcept { take(other); }
  Callback& operator=(Callback&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { reset(); }

  // Replaces the held callable (if any) with `f`. A Callback is moved in,
  // not wrapped.
  template <class F>
  void emplace(F&& f) {
    using T = std::decay_t<F>;
    if constexpr (std::is_same_v<T, Callback>) {
      *this = std::forward<F>(f);
    } else {
      static_assert(std::is_invocable_v<T&>, "a Callback must be callable with no arguments");
      reset();
      if constexpr (kFitsInline<T>) {
        ::new (static_cast<void*>(buf_)) T(std::forward<F>(f));
        ops_ = &kInlineOps<T>;
      } else {
        T* heap = new T(std::forward<F>(f));
        std::memcpy(buf_, &heap, sizeof heap);
        ops_ = &kHeapOps<T>;
      }
    }
  }

  // Precondition: not empty.
  void operator()() {
    assert(ops_ != nullptr);
    ops_->invoke(buf_);
  }
  explicit operator bool() const noexcept { return ops_ != nullptr; }
  bool stored_inline() const noexcept { return ops_ != nullptr && ops_->stored_inline; }

  void reset() noexcept {
    if (ops_ != nullptr) {
      if (ops_->destroy != nullptr) ops_->destroy(buf_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    void (*invoke)(void* storage);
    void (*relocate)(void* dst, void* src) noexcept;  // nullptr: the bytes may be copied
    void (*destroy)(void* storage) noexcept;          // nullptr: nothing to do
    bool stored_inline;
  };

  template <class T>
  static constexpr bool kFitsInline = sizeof(T) <= kInlineBytes && alignof(T) <= 8 &&
                                      std::is_nothrow_move_constructible_v<T>;

  template <class T>
  static T* inline_object(void* storage) noexcept {
    return std::launder(static_cast<T*>(storage));
  }
  template <class T>
  static T* heap_object(void* storage) noexcept {
    T* p;
    std::memcpy(&p, storage, sizeof p);
    return p;
  }

  template <class T>
  static constexpr Ops kInlineOps = {
      [](void* s) { static_cast<void>((*inline_object<T>(s))()); },
      std::is_trivially_copyable_v<T> ? nullptr
                                      : +[](void* dst, void* src) noexcept {
                                          T* from = inline_object<T>(src);
                                          ::new (dst) T(std::move(*from));
                                          from->~T();
                                        },
      std::is_trivially_destructible_v<T> ? nullptr : +[](void* s) noexcept { inline_object<T>(s)->~T(); },
      true,
  };
  template <class T>
  static constexpr Ops kHeapOps = {
      [](void* s) { static_cast<void>((*heap_object<T>(s))()); },
      nullptr,  // the storage holds only the pointer
      [](void* s) noexcept { delete heap_object<T>(s); },
      false,
  };

  void take(Callback& other) noexcept {
    ops_ = other.ops_;
    if (ops_ == nullptr) return;
    if (ops_->relocate != nullptr) {
      ops_->relocate(buf_, other.buf_);
    } else {
      std::memcpy(buf_, other.buf_, kInlineBytes);
    }
    other.ops_ = nullptr;
  }

  alignas(8) unsigned char buf_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

// Identifies one pushed event: generation << 32 | slot. 0 is never valid.
using EventId = std::uint64_t;
inline constexpr EventId kInvalidEventId = 0;

class EventQueue {
 public:
  static constexpr std::size_t kDefaultMaxPending = std::size_t{1} << 26;
  static constexpr std::size_t kMaxPendingLimit = std::size_t{1} << 31;
  static constexpr std::size_t kSweepMin = 64;  // tombstones tolerated beyond the live count

  struct Options {
    // Most events pending at once; clamped into [1, kMaxPendingLimit].
    std::size_t max_pending = kDefaultMaxPending;
  };

  EventQueue() : EventQueue(Options{}) {}
  explicit EventQueue(Options options);
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;
  ~EventQueue() = default;

  // Adds an event at `time`. Returns kInvalidEventId, changing nothing, if
  // max_pending events are pending or time < last_time().
  template <class F>
  EventId push(TimeNs time, F&& callback) {
    const std::uint64_t key = bias(time);
    if (live_ >= max_pending_ || key < last_) return kInvalidEventId;
    const std::uint32_t index = allocate_slot();
    Slot& s = slots_[index];
    s.callback.emplace(std::forward<F>(callback));
    const EventId id = (std::uint64_t{s.generation} << 32) | index;
    s.id = id;
    ++live_;
    put(Entry{key, id});
    return id;
  }

  // Cancels a pending event; false if it already ran (or is running), was
  // cancelled, or never existed. O(1) amortised.
  bool cancel(EventId id);

  // Pops the earliest pending event if its time is <= limit, calls
  // before(time), then runs its callback (which may push and cancel events;
  // its own id is already dead). Returns false, running nothing, if there is
  // no such event. Either way last_time() stays <= limit or the time run.
  template <class Before>
  bool run_next(TimeNs limit, Before&& before) {
    const std::uint64_t limit_key = bias(limit);
    for (;;) {
      if (live_ == 0) {
        if (tombstones_ != 0) sweep();  // only tombstones left: drop them now
        return false;
      }
      assert(level_mask_ != 0);
      const auto level = static_cast<unsigned>(std::countr_zero(level_mask_));
      const auto digit = static_cast<unsigned>(std::countr_zero(digit_mask_[level]));
      Bucket& b = buckets_[level * kDigits + digit];
      Entry e;
      if (level == 0) {  // one exact time: first in, first out
        e = b.items[b.head];
        if (e.time > limit_key) return false;
        if (++b.head == b.items.size()) empty_bucket(0, digit);
      } else if (b.items.size() == 1) {
        e = b.items[0];
        if (e.time > limit_key) return false;
        empty_bucket(level, digit);
      } else if (!take_min(level, digit, limit_key, e)) {
        return false;
      }
      last_ = e.time;
      const auto index = static_cast<std::uint32_t>(e.id);
      Slot& s = slots_[index];
      if (s.id != e.id) {  // a tombstone
        --tombstones_;
        continue;
      }
      // The callback leaves its slot before it runs: slots_ may grow while it
      // runs, and the slot is free for the callback's own pushes.
      Callback callback(std::move(s.callback));
      release_slot(index);
      --live_;
      before(unbias(e.time));
      callback();
      prefetch_next();
      return true;
    }
  }

  // The time of the earliest pending event; false if none is pending.
  // Changes nothing (a scan of the lowest non-empty buckets).
  bool next_time(TimeNs& time) const;

  // The time of the latest event popped (run or dropped); pushes before it
  // are refused. Starts at the smallest TimeNs.
  TimeNs last_time() const { return unbias(last_); }

  std::size_t size() const { return live_; }  // pending events
  bool empty() const { return live_ == 0; }
  std::size_t max_pending() const { return max_pending_; }

  // Introspection for tests and reports.
  std::size_t entries() const { return live_ + tombstones_; }  // bucketed entries
  // Entries stored, including popped ones a level-0 bucket has not dropped yet.
  std::size_t stored_entries() const;
  std::size_t tombstones() const { return tombstones_; }
  std::uint64_t sweeps() const { return sweeps_; }
  std::uint64_t moves() const { return moves_; }  // entries re-filed by pops

 private:
  struct Entry {
    std::uint64_t time;  // TimeNs + 2^63: unsigned order equals signed order
    EventId id;
  };
  struct Bucket {
    std::vector<Entry> items;
    std::uint32_t head = 0;  // level 0: items before head are popped
  };
  struct Slot {
    Callback callback;
    EventId id = kInvalidEventId;  // the pending event's id; 0 when free
    std::uint32_t generation = 1;  // never 0
    std::uint32_t next_free = kNoSlot;
  };

  static constexpr unsigned kDigitBits = 6;
  static constexpr unsigned kDigits = 1u << kDigitBits;
  static constexpr unsigned kLevels = (64 + kDigitBits - 1) / kDigitBits;  // 11
  // An emptied bucket keeps its memory for reuse unless it holds room for
  // more than kKeepCapacity entries and twice the entries now queued.
  static constexpr std::size_t kKeepCapacity = 256;
  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
  static constexpr std::size_t kPrefetchBucket = 32;  // see take_min

  static std::uint64_t bias(TimeNs t) { return static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63); }
  static TimeNs unbias(std::uint64_t t) { return static_cast<TimeNs>(t ^ (std::uint64_t{1} << 63)); }

  // Starts loading the slot of the entry that is probably popped next (the
  // front of the lowest bucket): slots are 64 bytes, so rarely still in L1.
  void prefetch_next() const {
    if (level_mask_ == 0) return;
    const auto level = static_cast<unsigned>(std::countr_zero(level_mask_));
    const auto digit = static_cast<unsigned>(std::countr_zero(digit_mask_[level]));
    const Bucket& b = buckets_[level * kDigits + digit];
    __builtin_prefetch(&slots_[static_cast<std::uint32_t>(b.items[b.head].id)]);
  }
  bool is_live(const Entry& e) const { return slots_[static_cast<std::uint32_t>(e.id)].id == e.id; }

  // Files `e` (time >= last_) in its bucket.
  void put(const Entry& e) {
    const std::uint64_t diff = e.time ^ last_;
    const unsigned level = static_cast<unsigned>(std::bit_width(diff | 1) - 1) / kDigitBits;
    const auto digit = static_cast<unsigned>(e.time >> (kDigitBits * level)) & (kDigits - 1);
    buckets_[level * kDigits + digit].items.push_back(e);
    digit_mask_[level] |= std::uint64_t{1} << digit;
    level_mask_ |= 1u << level;
  }
  void empty_bucket(unsigned level, unsigned digit) {
    Bucket& b = buckets_[level * kDigits + digit];
    if (b.items.capacity() > kKeepCapacity && b.items.capacity() > 2 * entries()) {
      std::vector<Entry>().swap(b.items);
    } else {
      b.items.clear();
    }
    b.head = 0;
    digit_mask_[level] &= ~(std::uint64_t{1} << digit);
    if (digit_mask_[level] == 0) level_mask_ &= ~(1u << level);
  }
  // Pops the minimum of bucket (level >= 1, digit) into `out` if it is <=
  // limit_key: last_ becomes its time and the rest move to lower levels.
  bool take_min(unsigned level, unsigned digit, std::uint64_t limit_key, Entry& out);

  std::uint32_t allocate_slot() {
    if (free_head_ != kNoSlot) {
      const std::uint32_t index = free_head_;
      free_head_ = slots_[index].next_free;
      return index;
    }
    return allocate_fresh_slot();
  }
  std::uint32_t allocate_fresh_slot();
  void release_slot(std::uint32_t index) {
    Slot& s = slots_[index];
    s.id = kInvalidEventId;
    const std::uint32_t g = s.generation;
    s.generation = g + 1 + static_cast<std::uint32_t>(g == ~std::uint32_t{0});  // skips 0
    s.next_free = free_head_;
    free_head_ = index;
  }

  void sweep();  // drops every tombstone, keeping the order of the rest

  std::size_t max_pending_;
  std::uint64_t last_ = 0;  // bias(min TimeNs)
  std::uint32_t level_mask_ = 0;  // bit L: some digit of level L is non-empty
  std::uint64_t digit_mask_[kLevels] = {};
  std::vector<Bucket> buckets_;  // kLevels * kDigits, (level, digit) order
  std::vector<Slot> slots_;      // grows on demand to at most max_pending, never shrinks
  std::uint32_t free_head_ = kNoSlot;
  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;
  std::uint64_t sweeps_ = 0;
  std::uint64_t moves_ = 0;
};

}  // namespace hcsim::sim
