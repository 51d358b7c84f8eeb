// Small per-thread ids for contention-free counters: each thread gets an id in
// [0, kThreadSlots) that is its own alone while it lives (released at thread
// exit, then reused). When every id is taken, threads share kSharedThreadSlot.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace hcsim::core {

inline constexpr std::size_t kThreadSlots = 64;
inline constexpr std::size_t kSharedThreadSlot = kThreadSlots;

namespace detail {
// slot + 1 once assigned, 0 before: plain data, so reading it needs no TLS guard.
extern thread_local std::size_t tl_thread_slot_plus_one;
std::size_t assign_thread_slot();
}  // namespace detail

// This thread's slot: < kThreadSlots if exclusive, else kSharedThreadSlot.
inline std::size_t current_thread_slot() {
  const std::size_t s = detail::tl_thread_slot_plus_one;
  return s != 0 ? s - 1 : detail::assign_thread_slot();
}

// One counter per slot, each on its own cache line. add() from the owning
// thread is a plain load and store (no lock prefix); the shared slot uses an
// atomic add. total() may run on any thread at any time.
class SlottedCounter {
 public:
  void add(std::uint64_t n = 1) {
    const std::size_t slot = current_thread_slot();
    std::atomic<std::uint64_t>& cell = cells_[slot].value;
    if (slot != kSharedThreadSlot) {
      add_to(cell, n);
    } else {
      cell.fetch_add(n, std::memory_order_relaxed);
    }
  }
  // This thread's own cell, for a caller that caches it (per thread) and
  // bumps it with add_to; nullptr when this thread has the shared slot, whose
  // cell needs add(). Valid while the counter and this thread live.
  std::atomic<std::uint64_t>* own_cell() {
    const std::size_t slot = current_thread_slot();
    return slot != kSharedThreadSlot ? &cells_[slot].value : nullptr;
  }
  // What add() does on a thread's own cell: a plain load and store.
  static void add_to(std::atomic<std::uint64_t>& own, std::uint64_t n = 1) {
    own.store(own.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t total() const {
    std::uint64_t sum = 0;
    for (const Cell& c : cells_) sum += c.value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Cell {
    std::atomic<std::uint64_t> value{0};
  };
  Cell cells_[kThreadSlots + 1];
};

}  // namespace hcsim::core
