#include "core/store/eviction/sampled_lru_policy.h"

#include <algorithm>

namespace hcsim::core {

SampledLruPolicy::SampledLruPolicy(std::uint32_t sample_size, RandomSource& random)
    : sample_size_(std::clamp(sample_size, 1u, 64u)), random_(random) {
  assert(sample_size >= 1 && sample_size <= 64);
}

void SampledLruPolicy::on_insert(EntryId id, std::uint64_t /*key_hash*/, TimeNs now) {
  assert(!tracked(id));
  if (tracked(id)) {  // caller bug: treat as an access
    on_access(id, now);
    return;
  }
  if (id >= position_.size()) position_.resize(std::size_t{id} + 1, kNotTracked);
  position_[id] = static_cast<std::uint32_t>(ids_.size());
  ids_.push_back(id);
  last_access_ns_.push_back(now);
}

void SampledLruPolicy::on_access(EntryId id, TimeNs now) {
  assert(tracked(id));
  if (!tracked(id)) return;
  last_access_ns_[position_[id]] = now;
}

void SampledLruPolicy::on_remove(EntryId id, std::uint64_t /*key_hash*/, RemoveReason /*reason*/) {
  // The victim's position is known from victim(): skip the (likely cache
  // missing) position_ read when it still holds.
  const bool known = last_victim_position_ < ids_.size() && ids_[last_victim_position_] == id;
  assert(known || tracked(id));
  if (!known && !tracked(id)) return;
  const std::uint32_t pos = known ? static_cast<std::uint32_t>(last_victim_position_) : position_[id];
  const std::size_t last = ids_.size() - 1;
  if (pos != last) {  // swap-remove: the last tracked id takes the hole
    const EntryId moved = ids_[last];
    ids_[pos] = moved;
    last_access_ns_[pos] = last_access_ns_[last];
    position_[moved] = pos;
  }
  ids_.pop_back();
  last_access_ns_.pop_back();
  position_[id] = kNotTracked;
}

std::optional<EntryId> SampledLruPolicy::victim(TimeNs /*now*/) {
  const std::size_t n = ids_.size();
  if (n == 0) return std::nullopt;
  // Draw every position first, then load: the loads are independent, so on
  // a large store their cache misses overlap instead of queueing behind the
  // comparisons.
  std::size_t picks[64];
  for (std::uint32_t i = 0; i < sample_size_; ++i) {
    picks[i] = static_cast<std::size_t>(random_.uniform(n));
    __builtin_prefetch(&ids_[picks[i]]);
  }
  TimeNs times_ns[64];
  for (std::uint32_t i = 0; i < sample_size_; ++i) times_ns[i] = last_access_ns_[picks[i]];
  std::uint32_t best = 0;
  for (std::uint32_t i = 1; i < sample_size_; ++i) {
    if (times_ns[i] < times_ns[best]) best = i;  // strict: ties keep the first drawn
  }
  last_victim_position_ = picks[best];
  return ids_[picks[best]];
}

void SampledLruPolicy::clear() {
  std::vector<EntryId>().swap(ids_);
  std::vector<TimeNs>().swap(last_access_ns_);
  std::vector<std::uint32_t>().swap(position_);
  last_victim_position_ = kNoPosition;
}

std::size_t SampledLruPolicy::memory_bytes() const {
  return ids_.capacity() * sizeof(EntryId) + last_access_ns_.capacity() * sizeof(TimeNs) +
         position_.capacity() * sizeof(std::uint32_t);
}

void SampledLruPolicy::reserve(std::size_t ids) {
  ids_.reserve(ids);
  last_access_ns_.reserve(ids);
  position_.reserve(ids);
}

}  // namespace hcsim::core
