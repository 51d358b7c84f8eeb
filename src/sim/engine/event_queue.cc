#include "sim/engine/event_queue.h"

#include <algorithm>

namespace hcsim::sim {

EventQueue::EventQueue(Options options)
    : max_pending_(std::clamp<std::size_t>(options.max_pending, 1, kMaxPendingLimit)),
      buckets_(std::size_t{kLevels} * kDigits) {}

std::uint32_t EventQueue::allocate_fresh_slot() {
  // Pending events hold at most max_pending slots and a running event none
  // (it leaves its slot first), so the slab stops at max_pending.
  assert(slots_.size() < max_pending_);
  slots_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

bool EventQueue::cancel(EventId id) {
  const auto index = static_cast<std::uint32_t>(id);
  if (id == kInvalidEventId || index >= slots_.size()) return false;
  Slot& s = slots_[index];
  if (s.id != id) return false;  // ran, cancelled, or a stale generation
  s.callback.reset();
  release_slot(index);
  --live_;
  ++tombstones_;
  if (tombstones_ > live_ + kSweepMin) sweep();
  return true;
}

bool EventQueue::take_min(unsigned level, unsigned digit, std::uint64_t limit_key, Entry& out) {
  std::vector<Entry>& items = buckets_[level * kDigits + digit].items;
  // Every time here (and in later buckets) is at least the bucket's floor:
  // last_'s bits above this level, then `digit`, then zeros.
  const unsigned shift = kDigitBits * level;
  const unsigned above_shift = shift + kDigitBits;
  const std::uint64_t above = above_shift >= 64 ? 0 : (last_ >> above_shift) << above_shift;
  if ((above | (std::uint64_t{digit} << shift)) > limit_key) return false;
  std::size_t m = 0;
  std::uint64_t min_time = items[0].time;
  for (std::size_t j = 1; j < items.size(); ++j) {
    const bool smaller = items[j].time < min_time;  // strict: the first of equal times wins
    m = smaller ? j : m;
    min_time = smaller ? items[j].time : min_time;
  }
  if (min_time > limit_key) return false;
  out = items[m];
  last_ = out.time;
  // The targets are lower levels, all empty now (this is the lowest non-empty
  // bucket), and appending in order keeps equal times in push order. If the
  // bucket is small its entries are popped within the next few events: start
  // loading their slots (64 bytes each, rarely still in L1) now.
  const bool soon = items.size() <= kPrefetchBucket;
  for (std::size_t j = 0; j < items.size(); ++j) {
    if (j == m) continue;
    put(items[j]);
    if (soon) __builtin_prefetch(&slots_[static_cast<std::uint32_t>(items[j].id)]);
  }
  moves_ += items.size() - 1;
  empty_bucket(level, digit);
  return true;
}

std::size_t EventQueue::stored_entries() const {
  std::size_t n = 0;
  for (const Bucket& b : buckets_) n += b.items.size();
  return n;
}

bool EventQueue::next_time(TimeNs& time) const {
  for (std::uint32_t levels = level_mask_; levels != 0; levels &= levels - 1) {
    const auto level = static_cast<unsigned>(std::countr_zero(levels));
    for (std::uint64_t digits = digit_mask_[level]; digits != 0; digits &= digits - 1) {
      const auto digit = static_cast<unsigned>(std::countr_zero(digits));
      const Bucket& b = buckets_[level * kDigits + digit];
      bool found = false;
      std::uint64_t best = 0;
      for (std::size_t j = b.head; j < b.items.size(); ++j) {
        const Entry& e = b.items[j];
        if (is_live(e) && (!found || e.time < best)) {
          best = e.time;
          found = true;
        }
      }
      if (found) {
        time = unbias(best);
        return true;
      }
    }
  }
  return false;
}

void EventQueue::sweep() {
  for (std::uint32_t levels = level_mask_; levels != 0; levels &= levels - 1) {
    const auto level = static_cast<unsigned>(std::countr_zero(levels));
    for (std::uint64_t digits = digit_mask_[level]; digits != 0; digits &= digits - 1) {
      const auto digit = static_cast<unsigned>(std::countr_zero(digits));
      Bucket& b = buckets_[level * kDigits + digit];
      std::size_t kept = 0;
      for (std::size_t j = b.head; j < b.items.size(); ++j) {
        if (is_live(b.items[j])) b.items[kept++] = b.items[j];
      }
      if (kept == 0) {
        empty_bucket(level, digit);
      } else {
        b.items.resize(kept);
        b.head = 0;
      }
    }
  }
  tombstones_ = 0;
  ++sweeps_;
}

}  // namespace hcsim::sim
