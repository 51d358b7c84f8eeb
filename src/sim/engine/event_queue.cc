#include "sim/engine/event_queue.h"

#include <algorithm>

namespace hcsim::sim {

EventQueue::EventQueue(Options options)
    : max_pending_(std::clamp<std::size_t>(options.max_pending, 1, kMaxPendingLimit)),
      near_(kNearBuckets),
      far_(std::size_t{kLevels} * kDigits) {}

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

// ---- The ring ------------------------------------------------------------------

void EventQueue::sort_bucket(unsigned pos) {
  std::vector<Entry>& items = near_[pos];
  constexpr std::size_t kInsertionSortMax = 32;
  if (items.size() <= kInsertionSortMax) {  // stable: an entry moves only past later times
    for (std::size_t i = 1; i < items.size(); ++i) {
      const Entry e = items[i];
      std::size_t j = i;
      for (; j > 0 && items[j - 1].time > e.time; --j) items[j] = items[j - 1];
      items[j] = e;
    }
  } else {
    std::stable_sort(items.begin(), items.end(), [](const Entry& a, const Entry& b) { return a.time < b.time; });
  }
  moves_ += items.size();
  sorted_pos_ = pos;
  sorted_head_ = 0;
  sorted_end_ = static_cast<std::uint32_t>(items.size());
}

bool EventQueue::take_sorted(unsigned pos, std::uint64_t limit_key, Entry& out) {
  if (pos != sorted_pos_) sort_bucket(pos);
  std::vector<Entry>& items = near_[pos];
  // Entries pushed since the sort go after every entry of an equal or
  // earlier time, in push order (usually at the end: a short walk).
  // (sorted_end_ <= 1 when take_near emptied this bucket as a bucket of one:
  // what is before it is then trivially sorted.)
  sorted_end_ = std::min(sorted_end_, static_cast<std::uint32_t>(items.size()));
  for (std::size_t i = sorted_end_; i < items.size(); ++i) {
    const Entry e = items[i];
    std::size_t j = i;
    for (; j > sorted_head_ && items[j - 1].time > e.time; --j) items[j] = items[j - 1];
    items[j] = e;
  }
  sorted_end_ = static_cast<std::uint32_t>(items.size());
  if (items[sorted_head_].time > limit_key) return false;
  out = items[sorted_head_];
  if (++sorted_head_ == items.size()) {
    clear_near(sorted_pos_);
  } else if (sorted_head_ >= 32 && 2 * std::size_t{sorted_head_} >= items.size()) {
    // Drop the popped front, so a bucket that never empties stays bounded.
    items.erase(items.begin(), items.begin() + sorted_head_);
    sorted_end_ -= sorted_head_;
    sorted_head_ = 0;
  }
  return true;
}

void EventQueue::clear_near(unsigned pos) {
  std::vector<Entry>& items = near_[pos];
  if (items.capacity() > kKeepCapacity && items.capacity() > 2 * entries()) {
    std::vector<Entry>().swap(items);
  } else {
    items.clear();
  }
  near_bits_[pos / 64] &= ~(std::uint64_t{1} << (pos % 64));
  if (pos == sorted_pos_) {
    sorted_pos_ = kNoPos;
    sorted_head_ = 0;
    sorted_end_ = 0;
  }
}

// ---- The far radix queue ----------------------------------------------------------

void EventQueue::empty_far_bucket(unsigned level, unsigned digit) {
  std::vector<Entry>& items = far_[level * kDigits + digit];
  if (items.capacity() > kKeepCapacity && items.capacity() > 2 * entries()) {
    std::vector<Entry>().swap(items);
  } else {
    items.clear();
  }
  far_digit_mask_[level] &= ~(std::uint64_t{1} << digit);
  if (far_digit_mask_[level] == 0) far_level_mask_ &= ~(1u << level);
}

std::uint64_t EventQueue::far_min() const {
  assert(far_level_mask_ != 0);
  const auto level = static_cast<unsigned>(std::countr_zero(far_level_mask_));
  const auto digit = static_cast<unsigned>(std::countr_zero(far_digit_mask_[level]));
  const std::vector<Entry>& items = far_[level * kDigits + digit];
  std::uint64_t m = items[0].time;
  for (const Entry& e : items) m = std::min(m, e.time);
  return m;
}

void EventQueue::pull_far() {
  while (far_level_mask_ != 0) {
    const auto level = static_cast<unsigned>(std::countr_zero(far_level_mask_));
    const auto digit = static_cast<unsigned>(std::countr_zero(far_digit_mask_[level]));
    std::vector<Entry>& items = far_[level * kDigits + digit];
    if (level == 0) {  // one exact time, in push order
      if ((items[0].time >> kNearBits) - cur_ >= kNearBuckets) {
        far_next_ = items[0].time >> kNearBits;
        return;
      }
      for (const Entry& e : items) near_put(e);
      moves_ += items.size();
      empty_far_bucket(0, digit);
      continue;
    }
    std::size_t m = 0;
    for (std::size_t j = 1; j < items.size(); ++j) {
      if (items[j].time < items[m].time) m = j;  // strict: the first of equal times
    }
    if ((items[m].time >> kNearBits) - cur_ >= kNearBuckets) {
      far_next_ = items[m].time >> kNearBits;
      return;
    }
    // The minimum becomes the radix's reference and the rest move to lower
    // levels (all empty: this is the lowest bucket), in order; entries of its
    // time land in a level-0 bucket and follow it into the ring next.
    const Entry first = items[m];
    far_last_ = first.time;
    for (std::size_t j = 0; j < items.size(); ++j) {
      if (j != m) far_put(items[j]);
    }
    moves_ += items.size();
    empty_far_bucket(level, digit);
    near_put(first);
  }
  far_next_ = kNoFar;
}

// ---- Introspection and upkeep -------------------------------------------------------

std::size_t EventQueue::stored_entries() const {
  std::size_t n = 0;
  for (const std::vector<Entry>& b : near_) n += b.size();
  for (const std::vector<Entry>& b : far_) n += b.size();
  return n;
}

bool EventQueue::next_time(TimeNs& time) const {
  const auto start = static_cast<unsigned>(cur_) & (kNearBuckets - 1);
  for (unsigned k = 0; k < kNearBuckets; ++k) {  // ring buckets in time order
    const unsigned pos = (start + k) & (kNearBuckets - 1);
    if ((near_bits_[pos / 64] >> (pos % 64) & 1) == 0) continue;
    const std::vector<Entry>& items = near_[pos];
    bool found = false;
    std::uint64_t best = 0;
    for (std::size_t j = pos == sorted_pos_ ? sorted_head_ : 0; j < items.size(); ++j) {
      if (is_live(items[j]) && (!found || items[j].time < best)) {
        best = items[j].time;
        found = true;
      }
    }
    if (found) {
      time = unbias(best);
      return true;
    }
  }
  for (std::uint32_t levels = far_level_mask_; levels != 0; levels &= levels - 1) {
    const auto level = static_cast<unsigned>(std::countr_zero(levels));
    for (std::uint64_t digits = far_digit_mask_[level]; digits != 0; digits &= digits - 1) {
      const auto digit = static_cast<unsigned>(std::countr_zero(digits));
      bool found = false;
      std::uint64_t best = 0;
      for (const Entry& e : far_[level * kDigits + digit]) {
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
  for (unsigned pos = 0; pos < kNearBuckets; ++pos) {
    if ((near_bits_[pos / 64] >> (pos % 64) & 1) == 0) continue;
    std::vector<Entry>& items = near_[pos];
    const bool sorted = pos == sorted_pos_;
    std::size_t kept = 0;
    std::size_t kept_sorted = 0;  // kept entries from the sorted part
    for (std::size_t j = sorted ? sorted_head_ : 0; j < items.size(); ++j) {
      if (is_live(items[j])) items[kept++] = items[j];
      if (j < sorted_end_) kept_sorted = kept;
    }
    if (kept == 0) {
      clear_near(pos);
    } else {
      items.resize(kept);
      if (sorted) {
        sorted_head_ = 0;
        sorted_end_ = static_cast<std::uint32_t>(kept_sorted);
      }
    }
  }
  for (std::uint32_t levels = far_level_mask_; levels != 0; levels &= levels - 1) {
    const auto level = static_cast<unsigned>(std::countr_zero(levels));
    for (std::uint64_t digits = far_digit_mask_[level]; digits != 0; digits &= digits - 1) {
      const auto digit = static_cast<unsigned>(std::countr_zero(digits));
      std::vector<Entry>& items = far_[level * kDigits + digit];
      std::size_t kept = 0;
      for (const Entry& e : items) {
        if (is_live(e)) items[kept++] = e;
      }
      if (kept == 0) {
        empty_far_bucket(level, digit);
      } else {
        items.resize(kept);
      }
    }
  }
  tombstones_ = 0;
  ++sweeps_;
}

}  // namespace hcsim::sim
