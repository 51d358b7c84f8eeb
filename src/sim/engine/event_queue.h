// The simulator's pending-event structure. Events pop in (time, insertion
// sequence) order, so equal times run in the order they were pushed. Push is
// O(1), pop amortised O(1) for events spread over time (O(log k) for k events
// sharing one bucket), cancel O(1) by generation-checked id; it is bounded (a
// fixed maximum of pending events: push fails, never grows past it) and
// allocates nothing per event for callbacks whose captures fit in
// Callback::kInlineBytes.
//
// Layout. `last` is the time of the latest event run; every pending time is
// >= last, and pushes before last are refused (a discrete-event simulation
// never schedules into the past). Time is cut into buckets of 2^kNearBits ns;
// `cur` is last's bucket.
// - Near: a ring of kNearBuckets buckets holds the events of buckets cur ..
//   cur + kNearBuckets - 1, each bucket in ring position (bucket mod
//   kNearBuckets) as a circular doubly linked list of its events in push
//   order, through a per-event node and a sentinel node per position; a
//   bitmap marks the non-empty positions. An event a little in the future
//   (the common case) is linked once, where it will be popped. Popping takes
//   the minimum of the first non-empty bucket (the first one, on ties); a
//   bucket of more than kSortAbove events is stably sorted when first popped
//   from and then popped from the front; events pushed into it later are put
//   in order before the next pop. Cancel unlinks at once.
// - Far: events beyond the ring wait as (time, id) entries in a monotone radix
//   queue (6-bit digits: an entry goes to (level, digit) by the highest bit
//   where its time differs from the radix's own reference time). When cur
//   advances, far events whose bucket enters the ring move into it, in (time,
//   push) order. Cancelling a far event leaves a tombstone entry, dropped when
//   it is reached or swept when tombstones outnumber live events.
// Events are appended and moved in order, so equal times stay in push order
// without a sequence number. Callbacks live in a slab of 64-byte slots indexed
// by the id, freed when the event runs or is cancelled.
// Not thread-safe: one simulation is one thread.
#pragma once

#include <algorithm>
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
  static constexpr unsigned kNearBits = 10;     // a bucket is 1,024 ns
  static constexpr unsigned kNearBuckets = 1024;  // the ring spans ~1 ms
  static constexpr std::size_t kSortAbove = 8;  // bigger buckets are sorted once, then popped in order

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
    node(index).time = key;
    if ((key >> kNearBits) - cur_ < kNearBuckets) [[likely]] {
      link(index);
    } else {
      far_put(Entry{key, id});
    }
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
    unsigned pos;
    while (!first_near(pos)) {  // the ring is empty: bring in the earliest far events
      if (live_ == 0) {
        if (tombstones_ != 0) sweep();  // only tombstones left: drop them now
        return false;
      }
      const std::uint64_t first = far_min_live();
      if (first > limit_key) return false;
      // `first` is live and is popped next, so cur_ may move to its bucket
      // (then last_ follows it below).
      cur_ = first >> kNearBits;
      pull_far();
    }
    std::uint32_t index;
    if (!take_near(pos, limit_key, index)) return false;
    const std::uint64_t time = node(index).time;
    last_ = time;
    cur_ = time >> kNearBits;
    if (far_next_ < cur_ + kNearBuckets) [[unlikely]] pull_far();
    // The callback leaves its slot before it runs: slots_ may grow while it
    // runs, and the slot is free for the callback's own pushes.
    Slot& s = slots_[index];
    Callback callback(std::move(s.callback));
    release_slot(index);
    --live_;
    if (tombstones_ > live_ + kSweepMin) [[unlikely]] sweep();  // entries() stays bounded
    before(unbias(time));
    callback();
    return true;
  }

  // The time of the earliest pending event; false if none is pending.
  // Changes nothing (a scan of the earliest non-empty buckets).
  bool next_time(TimeNs& time) const;

  // The time of the latest event run; pushes before it are refused. Starts
  // at the smallest TimeNs.
  TimeNs last_time() const { return unbias(last_); }

  std::size_t size() const { return live_; }  // pending events
  bool empty() const { return live_ == 0; }
  std::size_t max_pending() const { return max_pending_; }

  // Introspection for tests and reports.
  std::size_t entries() const { return live_ + tombstones_; }  // queued events and tombstones
  // Entries stored: events in the ring plus far entries (tombstones included).
  std::size_t stored_entries() const;
  std::size_t tombstones() const { return tombstones_; }
  std::uint64_t sweeps() const { return sweeps_; }
  // Entries moved after they were filed: re-filed inside the far queue,
  // brought from it into the ring, or placed by sorting a crowded bucket.
  std::uint64_t moves() const { return moves_; }

 private:
  struct Entry {  // a far entry
    std::uint64_t time;  // TimeNs + 2^63: unsigned order equals signed order
    EventId id;
  };
  struct Slot {
    Callback callback;
    EventId id = kInvalidEventId;  // the pending event's id; 0 when free
    std::uint32_t generation = 1;  // never 0
    std::uint32_t next_free = kNoSlot;
  };
  // A pending event's time and, while it is in the ring, its neighbours in
  // its bucket's list (in push order, or in time order for the sorted one).
  // Each bucket's list is circular through its own sentinel node (node id =
  // ring position, time 0), so linking and unlinking never branch; event
  // `index` is node index + kNearBuckets.
  struct Node {
    std::uint64_t time;
    std::uint32_t next;
    std::uint32_t prev;
  };

  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
  static constexpr unsigned kNearWords = kNearBuckets / 64;
  static constexpr unsigned kNoPos = ~0u;
  static constexpr std::uint64_t kNoFar = ~std::uint64_t{0};
  static constexpr unsigned kDigitBits = 6;
  static constexpr unsigned kDigits = 1u << kDigitBits;
  static constexpr unsigned kLevels = (64 + kDigitBits - 1) / kDigitBits;  // 11
  // An emptied far bucket keeps its memory for reuse unless it holds room for
  // more than kKeepCapacity entries and twice the entries now queued.
  static constexpr std::size_t kKeepCapacity = 256;

  static std::uint64_t bias(TimeNs t) { return static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63); }
  static TimeNs unbias(std::uint64_t t) { return static_cast<TimeNs>(t ^ (std::uint64_t{1} << 63)); }
  static unsigned ring_pos(std::uint64_t time) {
    return static_cast<unsigned>(time >> kNearBits) & (kNearBuckets - 1);
  }

  bool is_live(const Entry& e) const { return slots_[static_cast<std::uint32_t>(e.id)].id == e.id; }
  // For a pending event (time >= last_): whether it is in the ring, not far.
  bool in_ring(std::uint64_t time) const { return (time >> kNearBits) - cur_ < kNearBuckets; }
  // For a far entry: whether the ring has reached its bucket. (Far
  // tombstones may lie below cur_, once cur_ has jumped to the earliest live
  // far event.)
  bool due(std::uint64_t time) const { return (time >> kNearBits) < cur_ + kNearBuckets; }

  Node& node(std::uint32_t index) { return nodes_[index + kNearBuckets]; }
  const Node& node(std::uint32_t index) const { return nodes_[index + kNearBuckets]; }
  // Appends event `index` (its node's time set, within the ring) to its bucket.
  void link(std::uint32_t index) {
    const unsigned pos = ring_pos(node(index).time);
    const std::uint32_t id = index + kNearBuckets;
    Node& sentinel = nodes_[pos];
    Node& n = nodes_[id];
    n.next = pos;
    n.prev = sentinel.prev;
    nodes_[sentinel.prev].next = id;
    sentinel.prev = id;
    near_bits_[pos / 64] |= std::uint64_t{1} << (pos % 64);
  }
  // Takes event `index` out of bucket `pos`'s list, keeping the bitmap and
  // the sorted bucket's bookkeeping right.
  void unlink(unsigned pos, std::uint32_t id);  // a node id
  void unlink_links(std::uint32_t id) {             // the list pointers only
    const Node& n = nodes_[id];
    nodes_[n.prev].next = n.next;
    nodes_[n.next].prev = n.prev;
  }
  void insert_after(std::uint32_t after, std::uint32_t id) {  // node ids; after may be a sentinel
    Node& n = nodes_[id];
    n.prev = after;
    n.next = nodes_[after].next;
    nodes_[n.next].prev = id;
    nodes_[after].next = id;
  }
  // The ring position of the first non-empty bucket at or after cur_; false if
  // the ring is empty.
  bool first_near(unsigned& pos) const {
    const auto start = static_cast<unsigned>(cur_) & (kNearBuckets - 1);
    unsigned w = start / 64;
    std::uint64_t word = near_bits_[w] & (~std::uint64_t{0} << (start % 64));
    // Then the following words, ending with the start word again, whose bits
    // below start are buckets a whole ring later (its others are zero by then).
    for (unsigned n = 0; word == 0; ++n) {
      if (n == kNearWords) return false;
      w = (w + 1) % kNearWords;
      word = near_bits_[w];
    }
    pos = w * 64 + static_cast<unsigned>(std::countr_zero(word));
    return true;
  }
  // Removes the earliest event of ring bucket `pos` (not empty) into `index`
  // if its time is <= limit_key.
  bool take_near(unsigned pos, std::uint64_t limit_key, std::uint32_t& index) {
    Node& sentinel = nodes_[pos];
    if (sentinel.next == sentinel.prev) [[likely]] {  // a bucket of one
      const std::uint32_t id = sentinel.next;
      if (nodes_[id].time > limit_key) return false;
      sentinel.next = pos;
      sentinel.prev = pos;
      near_bits_[pos / 64] &= ~(std::uint64_t{1} << (pos % 64));
      sorted_pos_ = pos == sorted_pos_ ? kNoPos : sorted_pos_;
      index = id - kNearBuckets;
      return true;
    }
    if (pos == sorted_pos_) return take_sorted(pos, limit_key, index);
    // The first of the minimum times; a crowded bucket is sorted instead.
    std::uint32_t best = sentinel.next;
    std::uint64_t best_time = nodes_[best].time;
    std::size_t count = 1;
    for (std::uint32_t j = nodes_[best].next; j != pos; j = nodes_[j].next) {
      const std::uint64_t t = nodes_[j].time;
      best = t < best_time ? j : best;
      best_time = t < best_time ? t : best_time;
      ++count;
    }
    if (count > kSortAbove) [[unlikely]] return take_sorted(pos, limit_key, index);
    if (best_time > limit_key) return false;
    index = best - kNearBuckets;
    unlink(pos, best);
    return true;
  }
  // Pops from bucket `pos` in time order, sorting it first unless it is the
  // sorted bucket; events pushed into it since are put in order first.
  bool take_sorted(unsigned pos, std::uint64_t limit_key, std::uint32_t& index);
  void sort_bucket(unsigned pos);

  // The far radix queue.
  void far_put(const Entry& e) {
    const std::uint64_t diff = e.time ^ far_last_;
    const unsigned level = static_cast<unsigned>(std::bit_width(diff | 1) - 1) / kDigitBits;
    const auto digit = static_cast<unsigned>(e.time >> (kDigitBits * level)) & (kDigits - 1);
    far_[level * kDigits + digit].push_back(e);
    far_digit_mask_[level] |= std::uint64_t{1} << digit;
    far_level_mask_ |= 1u << level;
    far_next_ = std::min(far_next_, e.time >> kNearBits);
  }
  void empty_far_bucket(unsigned level, unsigned digit);
  // The earliest non-empty far bucket (precondition: far is not empty).
  std::vector<Entry>& lowest_far(unsigned& level, unsigned& digit);
  // The earliest live time in `items` into `best`; false if none is live.
  bool live_min(const std::vector<Entry>& items, std::uint64_t& best) const;
  // The earliest live far time, dropping lowest buckets that hold only
  // tombstones. Precondition: some far entry is live.
  std::uint64_t far_min_live();
  // Moves far events whose bucket is within the ring into it (dropping
  // tombstones); sets far_next_.
  void pull_far();

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

  void sweep();  // drops every far tombstone, keeping the order of the rest

  std::size_t max_pending_;
  std::uint64_t last_ = 0;  // bias(min TimeNs)
  std::uint64_t cur_ = 0;   // last_'s bucket (ahead of it only inside run_next)
  std::uint64_t near_bits_[kNearWords] = {};
  unsigned sorted_pos_ = kNoPos;  // the ring bucket kept in time order, if any
  // Its last node in order (its sentinel: none); nodes after it were pushed since.
  std::uint32_t sorted_tail_ = 0;
  std::uint64_t far_last_ = 0;        // the far radix's reference: <= every far time
  // <= the bucket of every far entry (kNoFar when far is empty): when cur_
  // comes within a ring of it, pull_far runs.
  std::uint64_t far_next_ = kNoFar;
  std::uint32_t far_level_mask_ = 0;  // bit L: some digit of level L is non-empty
  std::uint64_t far_digit_mask_[kLevels] = {};
  std::vector<std::vector<Entry>> far_;  // kLevels * kDigits, (level, digit) order
  std::vector<Slot> slots_;              // grows on demand to at most max_pending, never shrinks
  std::vector<Node> nodes_;              // kNearBuckets sentinels, then one per slot
  std::vector<std::uint32_t> scratch_;   // sort_bucket's
  std::uint32_t free_head_ = kNoSlot;
  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;  // cancelled far entries not yet dropped
  std::uint64_t sweeps_ = 0;
  std::uint64_t moves_ = 0;
};

}  // namespace hcsim::sim
