#include "core/store/eviction/s3fifo_policy.h"

#include <algorithm>
#include <cassert>

namespace hcsim::core {

// ---- GhostFifo ----

std::uint32_t GhostFifo::make_entry(std::size_t index, std::size_t dist, std::uint32_t tag_value) const {
  const auto d = static_cast<std::uint32_t>(std::min<std::size_t>(dist, kDistSaturated));
  return static_cast<std::uint32_t>(index + 1) | (d << index_bits_) | (tag_value << (index_bits_ + kDistBits));
}

std::size_t GhostFifo::find(std::uint32_t fingerprint) const {
  if (table_.empty()) return kNotFound;
  const std::size_t mask = table_.size() - 1;
  const std::uint32_t want = tag(fingerprint);
  for (std::size_t slot = home(fingerprint);; slot = (slot + 1) & mask) {
    const std::uint32_t entry = table_[slot];
    if (entry == 0) return kNotFound;
    if (tag_of(entry) == want && ring_[index_of(entry)] == fingerprint) return slot;
  }
}

std::size_t GhostFifo::find_index(std::uint32_t fingerprint, std::size_t index) const {
  // Ring positions are unique in the table: no need to read the ring.
  if (table_.empty()) return kNotFound;
  const std::size_t mask = table_.size() - 1;
  for (std::size_t slot = home(fingerprint);; slot = (slot + 1) & mask) {
    const std::uint32_t entry = table_[slot];
    if (entry == 0) return kNotFound;
    if (index_of(entry) == index) return slot;
  }
}

void GhostFifo::insert_slot(std::uint32_t fingerprint, std::size_t ring_index) {
  const std::size_t mask = table_.size() - 1;
  std::size_t slot = home(fingerprint);
  std::size_t dist = 0;
  while (table_[slot] != 0) {
    slot = (slot + 1) & mask;
    ++dist;
  }
  table_[slot] = make_entry(ring_index, dist, tag(fingerprint));
}

void GhostFifo::erase_slot(std::size_t slot) {
  // Backward-shift deletion: an entry later in the probe run moves into the
  // hole when its home is at or before the hole, i.e. when its probe
  // distance is at least its gap to the hole.
  const std::size_t mask = table_.size() - 1;
  std::size_t hole = slot;
  std::size_t at = slot;
  for (;;) {
    at = (at + 1) & mask;
    const std::uint32_t entry = table_[at];
    if (entry == 0) break;
    std::size_t dist = dist_of(entry);
    if (dist == kDistSaturated) dist = (at - home(ring_[index_of(entry)])) & mask;
    const std::size_t gap = (at - hole) & mask;
    if (dist < gap) continue;
    table_[hole] = make_entry(index_of(entry), dist - gap, tag_of(entry));
    hole = at;
  }
  table_[hole] = 0;
}

bool GhostFifo::erase(std::uint32_t fingerprint) {
  const std::size_t slot = find(fingerprint);
  if (slot == kNotFound) return false;
  erase_slot(slot);  // its ring slot is now dead
  --live_;
  return true;
}

void GhostFifo::pop_oldest() {
  assert(used_ > 0);
  const std::size_t index = oldest_;
  const std::size_t slot = find_index(ring_[index], index);
  if (slot != kNotFound) {  // live, not dead
    erase_slot(slot);
    --live_;
  }
  oldest_ = index + 1 == ring_.size() ? 0 : index + 1;
  --used_;
}

void GhostFifo::grow(std::size_t capacity) {
  const std::size_t ring_size = std::min(std::max({capacity, ring_.size() * 2, std::size_t{8}}), kMaxRingSlots);
  std::size_t table_size = 16;
  std::uint32_t table_bits = 4;
  while (table_size < 2 * ring_size) {
    table_size *= 2;
    ++table_bits;
  }
  // Slots keep their FIFO order (dead ones too, so growing never changes
  // what is forgotten when); the live ones are indexed again.
  std::vector<std::uint32_t> ring(ring_size, 0);
  std::vector<bool> live(used_, false);
  for (std::size_t k = 0, index = oldest_; k < used_; ++k) {
    ring[k] = ring_[index];
    live[k] = find_index(ring_[index], index) != kNotFound;
    index = index + 1 == ring_.size() ? 0 : index + 1;
  }
  ring_.swap(ring);
  oldest_ = 0;
  home_shift_ = 32 - table_bits;
  index_bits_ = 0;
  while ((std::size_t{1} << index_bits_) <= ring_size) ++index_bits_;  // index + 1 <= ring_size fits
  index_mask_ = (1u << index_bits_) - 1;
  assert(index_bits_ + kDistBits <= 32);
  tag_bits_ = 32 - index_bits_ - kDistBits;
  std::vector<std::uint32_t>(table_size, 0).swap(table_);
  for (std::size_t k = 0; k < used_; ++k) {
    if (live[k]) insert_slot(ring_[k], k);
  }
}

void GhostFifo::push(std::uint32_t fingerprint, std::size_t capacity) {
  assert(capacity >= 1);
  capacity = std::clamp(capacity, std::size_t{1}, kMaxRingSlots);
  if (capacity > ring_.size()) grow(capacity);
  while (used_ >= capacity) pop_oldest();
  std::size_t index = oldest_ + used_;
  if (index >= ring_.size()) index -= ring_.size();
  ring_[index] = fingerprint;  // a free slot: nothing in the table points here
  ++used_;
  const std::size_t slot = find(fingerprint);
  if (slot != kNotFound) {  // already remembered: now as the newest
    const std::uint32_t entry = table_[slot];
    table_[slot] = make_entry(index, dist_of(entry), tag_of(entry));
  } else {
    insert_slot(fingerprint, index);
    ++live_;
  }
  // The next push, one eviction away, pops the oldest slot once it is full.
  if (used_ >= capacity) {
    std::size_t next = oldest_ + used_ - capacity;
    if (next >= ring_.size()) next -= ring_.size();
    prefetch(ring_[next]);
  }
}

void GhostFifo::clear() {
  std::vector<std::uint32_t>().swap(ring_);
  std::vector<std::uint32_t>().swap(table_);
  oldest_ = used_ = live_ = 0;
  home_shift_ = 32;
  index_bits_ = tag_bits_ = index_mask_ = 0;
}

std::size_t GhostFifo::memory_bytes() const {
  return (ring_.capacity() + table_.capacity()) * sizeof(std::uint32_t);
}

// ---- S3FifoPolicy ----

S3FifoPolicy::S3FifoPolicy(double small_queue_ratio) : small_queue_ratio_(small_queue_ratio) {
  assert(small_queue_ratio_ > 0.0 && small_queue_ratio_ < 1.0);
}

std::size_t S3FifoPolicy::ghost_capacity() const {
  const auto small_share = static_cast<std::size_t>(small_queue_ratio_ * static_cast<double>(peak_tracked_));
  return std::max(peak_tracked_ - std::min(small_share, peak_tracked_), std::size_t{1});
}

void S3FifoPolicy::on_insert(EntryId id, std::uint64_t key_hash, TimeNs /*now*/) {
  assert(!links_.linked(id));
  if (links_.linked(id)) on_remove(id, key_hash, RemoveReason::kOverwrite);  // caller bug: re-insert as new
  if (id >= state_.size()) state_.resize(std::size_t{id} + 1, 0);
  if (ghost_.erase(fingerprint(key_hash))) {  // evicted from small recently: straight to main
    main_.push_newest(links_, id);
    state_[id] = kInMain;
  } else {
    small_.push_newest(links_, id);
    state_[id] = 0;
  }
  peak_tracked_ = std::max(peak_tracked_, size());
}

void S3FifoPolicy::on_access(EntryId id, TimeNs /*now*/) {
  assert(links_.linked(id));
  if (!links_.linked(id)) return;
  const std::uint8_t state = state_[id];
  if ((state & kFreqMask) < kMaxFreq) state_[id] = static_cast<std::uint8_t>(state + 1);
}

void S3FifoPolicy::on_remove(EntryId id, std::uint64_t key_hash, RemoveReason reason) {
  assert(links_.linked(id));
  if (!links_.linked(id)) return;
  if ((state_[id] & kInMain) != 0) {
    main_.unlink(links_, id);
  } else {
    small_.unlink(links_, id);
    if (reason == RemoveReason::kEvicted) ghost_.push(fingerprint(key_hash), ghost_capacity());
  }
  state_[id] = 0;
}

bool S3FifoPolicy::evicts_from_small() const {
  const auto small_target = static_cast<std::size_t>(small_queue_ratio_ * static_cast<double>(size()));
  return !small_.empty() && (main_.empty() || small_.size() >= small_target);
}

std::optional<EntryId> S3FifoPolicy::peek_victim(TimeNs /*now*/) const {
  if (size() == 0) return std::nullopt;
  const bool small = evicts_from_small();
  const EntryId tail = small ? small_.oldest() : main_.oldest();
  const std::uint8_t freq = state_[tail] & kFreqMask;
  if (small ? freq >= kMoveToMainThreshold : freq != 0) return std::nullopt;
  return tail;
}

std::optional<EntryId> S3FifoPolicy::victim(TimeNs /*now*/) {
  if (size() == 0) return std::nullopt;
  if (evicts_from_small()) {
    // Scan small from its tail: entries hit since insertion move to main's
    // head with their frequency cleared; the first one not hit is the victim.
    while (!small_.empty()) {
      const EntryId tail = small_.oldest();
      if ((state_[tail] & kFreqMask) < kMoveToMainThreshold) return tail;
      small_.unlink(links_, tail);
      main_.push_newest(links_, tail);
      state_[tail] = kInMain;
    }
  }
  // Main: FIFO-reinsertion with 2-bit frequencies. Terminates: every
  // reinsertion lowers a frequency.
  for (;;) {
    const EntryId tail = main_.oldest();
    const std::uint8_t freq = state_[tail] & kFreqMask;
    if (freq == 0) return tail;
    state_[tail] = static_cast<std::uint8_t>(kInMain | (freq - 1));
    main_.move_to_newest(links_, tail);
  }
}

void S3FifoPolicy::clear() {
  links_.clear();
  small_.clear();
  main_.clear();
  std::vector<std::uint8_t>().swap(state_);
  ghost_.clear();
  peak_tracked_ = 0;
}

std::size_t S3FifoPolicy::memory_bytes() const {
  return links_.memory_bytes() + state_.capacity() + ghost_.memory_bytes();
}

void S3FifoPolicy::reserve(std::size_t ids) {
  links_.reserve(ids);
  state_.reserve(ids);
}

}  // namespace hcsim::core
