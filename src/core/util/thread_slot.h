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
      cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    } else {
      cell.fetch_add(n, std::memory_order_relaxed);
    }
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
