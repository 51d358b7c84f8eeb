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

bool EventQueue::refill_run(std::uint64_t limit_key) {
  for (;;) {
    if (level_mask_ == 0) return false;
    const auto level = static_cast<unsigned>(std::countr_zero(level_mask_));
    const auto digit = static_cast<unsigned>(std::countr_zero(digit_mask_[level]));
    // The bucket's range: base_'s bits above this level, then `digit`, then
    // anything below.
    const unsigned shift = kDigitBits * level;
    const unsigned above_shift = shift + kDigitBits;
    const std::uint64_t above = above_shift >= 64 ? 0 : (base_ >> above_shift) << above_shift;
    const std::uint64_t floor = above | (std::uint64_t{digit} << shift);
    if (floor > limit_key) return false;
    const std::uint64_t span = shift >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << shift) - 1;
    base_ = floor;
    last_ = std::max(last_, floor);
    std::vector<Entry>& items = buckets_[level * kDigits + digit].items;
    const std::size_t n = items.size();
    if (n <= kRunMax || level == 0) {
      // The run takes the bucket's entries; a stable insertion sort (times
      // are already in push order among equals).
      run_.clear();
      run_.insert(run_.end(), items.begin(), items.end());
      for (std::size_t i = 1; i < run_.size(); ++i) {
        const Entry e = run_[i];
        std::size_t j = i;
        for (; j > 0 && run_[j - 1].time > e.time; --j) run_[j] = run_[j - 1];
        run_[j] = e;
      }
      run_head_ = 0;
      run_max_ = floor + span;
      run_open_ = true;
      moves_ += n;
      empty_bucket(level, digit);
      return true;
    }
    // Too big to sort: re-file it into the (empty) lower levels, in order.
    run_open_ = false;
    for (const Entry& e : items) put(e);
    moves_ += n;
    empty_bucket(level, digit);
  }
}

void EventQueue::insert_into_run(const Entry& e) {
  if (run_head_ == run_.size()) {
    run_.clear();
    run_head_ = 0;
  }
  // Equal or later than the last: appended (equal times stay in push order).
  std::size_t j = run_.size();
  if (j == run_head_ || run_[j - 1].time <= e.time) {
    run_.push_back(e);
    return;
  }
  // Earlier: shifted into place, unless that moves more than kRunMax entries;
  // then the run and the new entry go back into buckets relative to base_
  // (the run's floor). They land in levels below the run's former bucket,
  // all empty, in order, and pushes go to buckets until the next refill.
  std::size_t k = j;
  while (k > run_head_ && run_[k - 1].time > e.time && j - k < kRunMax) --k;
  if (k > run_head_ && run_[k - 1].time > e.time) {
    for (std::size_t i = run_head_; i < run_.size(); ++i) put(run_[i]);
    moves_ += run_.size() - run_head_;
    run_.clear();
    run_head_ = 0;
    run_open_ = false;
    put(e);
    return;
  }
  run_.insert(run_.begin() + static_cast<std::ptrdiff_t>(k), e);
}

bool EventQueue::next_time(TimeNs& time) const {
  // The run's times are below every bucketed one, and sorted.
  for (std::size_t j = run_head_; j < run_.size(); ++j) {
    if (is_live(run_[j])) {
      time = unbias(run_[j].time);
      return true;
    }
  }
  for (std::uint32_t levels = level_mask_; levels != 0; levels &= levels - 1) {
    const auto level = static_cast<unsigned>(std::countr_zero(levels));
    for (std::uint64_t digits = digit_mask_[level]; digits != 0; digits &= digits - 1) {
      const auto digit = static_cast<unsigned>(std::countr_zero(digits));
      const Bucket& b = buckets_[level * kDigits + digit];
      bool found = false;
      std::uint64_t best = 0;
      for (std::size_t j = 0; j < b.items.size(); ++j) {
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
      for (std::size_t j = 0; j < b.items.size(); ++j) {
        if (is_live(b.items[j])) b.items[kept++] = b.items[j];
      }
      if (kept == 0) {
        empty_bucket(level, digit);
      } else {
        b.items.resize(kept);
      }
    }
  }
  std::size_t kept = 0;
  for (std::size_t j = run_head_; j < run_.size(); ++j) {
    if (is_live(run_[j])) run_[kept++] = run_[j];
  }
  run_.resize(kept);
  run_head_ = 0;
  tombstones_ = 0;
  ++sweeps_;
}

}  // namespace hcsim::sim
