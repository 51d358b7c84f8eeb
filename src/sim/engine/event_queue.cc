#include "sim/engine/event_queue.h"

#include <algorithm>

namespace hcsim::sim {

EventQueue::EventQueue(Options options)
    : max_pending_(std::clamp<std::size_t>(options.max_pending, 1, kMaxPendingLimit)),
      far_(std::size_t{kLevels} * kDigits),
      nodes_(kNearBuckets) {
  for (std::uint32_t pos = 0; pos < kNearBuckets; ++pos) nodes_[pos] = Node{0, pos, pos};  // empty lists
}

std::uint32_t EventQueue::allocate_fresh_slot() {
  // Pending events hold at most max_pending slots and a running event none
  // (it leaves its slot first), so the slab stops at max_pending.
  assert(slots_.size() < max_pending_);
  slots_.emplace_back();
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

bool EventQueue::cancel(EventId id) {
  const auto index = static_cast<std::uint32_t>(id);
  if (id == kInvalidEventId || index >= slots_.size()) return false;
  Slot& s = slots_[index];
  if (s.id != id) return false;  // ran, cancelled, or a stale generation
  const std::uint64_t time = node(index).time;
  if (in_ring(time)) {
    unlink(ring_pos(time), index + kNearBuckets);  // gone at once
  } else {
    ++tombstones_;  // its far entry stays until pulled or swept
  }
  // The bookkeeping is done before the callable is destroyed, so a
  // destructor that calls back into the queue finds the event gone.
  Callback doomed(std::move(s.callback));
  release_slot(index);
  --live_;
  if (tombstones_ > live_ + kSweepMin) sweep();
  return true;
}

// ---- The ring ------------------------------------------------------------------

void EventQueue::unlink(unsigned pos, std::uint32_t id) {
  if (pos == sorted_pos_ && id == sorted_tail_) sorted_tail_ = nodes_[id].prev;
  unlink_links(id);
  if (nodes_[pos].next == pos) {
    near_bits_[pos / 64] &= ~(std::uint64_t{1} << (pos % 64));
    if (pos == sorted_pos_) sorted_pos_ = kNoPos;
  }
}

void EventQueue::sort_bucket(unsigned pos) {
  scratch_.clear();
  for (std::uint32_t j = nodes_[pos].next; j != pos; j = nodes_[j].next) scratch_.push_back(j);
  std::stable_sort(scratch_.begin(), scratch_.end(),
                   [this](std::uint32_t a, std::uint32_t b) { return nodes_[a].time < nodes_[b].time; });
  nodes_[pos].next = pos;
  nodes_[pos].prev = pos;
  for (const std::uint32_t j : scratch_) insert_after(nodes_[pos].prev, j);
  moves_ += scratch_.size();
  sorted_pos_ = pos;
  sorted_tail_ = nodes_[pos].prev;
}

bool EventQueue::take_sorted(unsigned pos, std::uint64_t limit_key, std::uint32_t& index) {
  if (pos != sorted_pos_) sort_bucket(pos);
  // Events pushed since the sort follow sorted_tail_ in push order: each goes
  // after every event of an equal or earlier time (usually where it is). The
  // sentinel's time, 0, is below every event's, so the walks stop there.
  for (std::uint32_t x = nodes_[sorted_tail_].next; x != pos;) {
    const std::uint32_t next = nodes_[x].next;
    const std::uint64_t t = nodes_[x].time;
    if (t >= nodes_[sorted_tail_].time) {
      sorted_tail_ = x;
    } else {
      unlink_links(x);
      std::uint32_t p = nodes_[sorted_tail_].prev;
      while (nodes_[p].time > t) p = nodes_[p].prev;
      insert_after(p, x);
      ++moves_;
    }
    x = next;
  }
  const std::uint32_t first = nodes_[pos].next;
  if (nodes_[first].time > limit_key) return false;
  unlink(pos, first);
  index = first - kNearBuckets;
  return true;
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

std::vector<EventQueue::Entry>& EventQueue::lowest_far(unsigned& level, unsigned& digit) {
  assert(far_level_mask_ != 0);
  level = static_cast<unsigned>(std::countr_zero(far_level_mask_));
  digit = static_cast<unsigned>(std::countr_zero(far_digit_mask_[level]));
  return far_[level * kDigits + digit];
}

bool EventQueue::live_min(const std::vector<Entry>& items, std::uint64_t& best) const {
  bool found = false;
  for (const Entry& e : items) {
    if (is_live(e) && (!found || e.time < best)) {
      best = e.time;
      found = true;
    }
  }
  return found;
}

std::uint64_t EventQueue::far_min_live() {
  for (;;) {
    unsigned level;
    unsigned digit;
    std::vector<Entry>& items = lowest_far(level, digit);
    std::uint64_t m = 0;
    if (live_min(items, m)) return m;
    tombstones_ -= items.size();  // only tombstones: drop them
    empty_far_bucket(level, digit);
  }
}

void EventQueue::pull_far() {
  while (far_level_mask_ != 0) {
    unsigned level;
    unsigned digit;
    std::vector<Entry>& items = lowest_far(level, digit);
    if (level == 0) {  // one exact time, in push order
      if (!due(items[0].time)) {
        far_next_ = items[0].time >> kNearBits;
        return;
      }
      for (const Entry& e : items) {
        if (is_live(e)) {
          link(static_cast<std::uint32_t>(e.id));
          ++moves_;
        } else {
          --tombstones_;
        }
      }
      empty_far_bucket(0, digit);
      continue;
    }
    std::size_t m = 0;
    for (std::size_t j = 1; j < items.size(); ++j) {
      if (items[j].time < items[m].time) m = j;  // strict: the first of equal times
    }
    if (!due(items[m].time)) {
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
    if (is_live(first)) {
      link(static_cast<std::uint32_t>(first.id));
    } else {
      --tombstones_;
    }
  }
  far_next_ = kNoFar;
}

// ---- Introspection and upkeep -------------------------------------------------------

std::size_t EventQueue::stored_entries() const {
  std::size_t n = 0;
  for (std::uint32_t pos = 0; pos < kNearBuckets; ++pos) {
    for (std::uint32_t j = nodes_[pos].next; j != pos; j = nodes_[j].next) ++n;
  }
  for (const std::vector<Entry>& b : far_) n += b.size();
  return n;
}

bool EventQueue::next_time(TimeNs& time) const {
  unsigned pos;
  if (first_near(pos)) {  // every ring event is live; its first bucket holds the earliest
    std::uint64_t best = nodes_[nodes_[pos].next].time;
    for (std::uint32_t j = nodes_[pos].next; j != pos; j = nodes_[j].next) best = std::min(best, nodes_[j].time);
    time = unbias(best);
    return true;
  }
  for (std::uint32_t levels = far_level_mask_; levels != 0; levels &= levels - 1) {
    const auto level = static_cast<unsigned>(std::countr_zero(levels));
    for (std::uint64_t digits = far_digit_mask_[level]; digits != 0; digits &= digits - 1) {
      const auto digit = static_cast<unsigned>(std::countr_zero(digits));
      std::uint64_t best = 0;
      if (live_min(far_[level * kDigits + digit], best)) {
        time = unbias(best);
        return true;
      }
    }
  }
  return false;
}

void EventQueue::sweep() {
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
