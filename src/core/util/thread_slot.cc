#include "core/util/thread_slot.h"

#include <bitset>
#include <mutex>

namespace hcsim::core {
namespace {

std::mutex& slots_mutex() {
  static std::mutex mu;
  return mu;
}
std::bitset<kThreadSlots>& slots_taken() {
  static std::bitset<kThreadSlots> taken;
  return taken;
}

// Takes a free slot on first use by a thread; gives it back when the thread ends.
// The mutex orders the last writes of a slot's old owner before the new owner's.
struct SlotHolder {
  std::size_t slot = kSharedThreadSlot;
  SlotHolder() {
    std::lock_guard lock(slots_mutex());
    auto& taken = slots_taken();
    for (std::size_t i = 0; i < kThreadSlots; ++i) {
      if (!taken[i]) {
        taken[i] = true;
        slot = i;
        break;
      }
    }
  }
  ~SlotHolder() {
    if (slot == kSharedThreadSlot) return;
    std::lock_guard lock(slots_mutex());
    slots_taken()[slot] = false;
  }
};

}  // namespace

namespace detail {

thread_local std::size_t tl_thread_slot_plus_one = 0;

std::size_t assign_thread_slot() {
  thread_local SlotHolder holder;  // constructed once per thread, released at exit
  tl_thread_slot_plus_one = holder.slot + 1;
  return holder.slot;
}

}  // namespace detail

}  // namespace hcsim::core
