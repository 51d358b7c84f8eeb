#include "core/store/eviction/sampled_lru_policy.h"

#include <algorithm>

namespace hcsim::core {

SampledLruPolicy::SampledLruPolicy(std::uint32_t sample_size, RandomSource& random)
    : sample_size_(std::clamp(sample_size, 1u, 64u)), random_(random) {
  assert(sample_size >= 1 && sample_size <= 64);
}

void SampledLruPolicy::on_insert(EntryId id, std::uint64_t /*key_hash*/, TimeNs now) {
  assert(!tracked(id));
  assert(now != kNotTracked);
  if (tracked(id)) {  // caller bug: treat as an access
    on_access(id, now);
    return;
  }
  if (id >= last_access_ns_.size()) last_access_ns_.resize(std::size_t{id} + 1, kNotTracked);
  last_access_ns_[id] = now;
  ++size_;
}

void SampledLruPolicy::on_access(EntryId id, TimeNs now) {
  assert(tracked(id));
  if (!tracked(id)) return;
  last_access_ns_[id] = now;
}

void SampledLruPolicy::on_remove(EntryId id, std::uint64_t /*key_hash*/, RemoveReason /*reason*/) {
  assert(tracked(id));
  if (!tracked(id)) return;
  last_access_ns_[id] = kNotTracked;
  --size_;
  // Keep the drawn range tight: untracked ids at its top leave it
  // (amortised O(1): each id leaves once per time it was added).
  while (!last_access_ns_.empty() && last_access_ns_.back() == kNotTracked) last_access_ns_.pop_back();
}

EntryId SampledLruPolicy::redraw(std::size_t at, std::uint32_t draws) {
  const std::size_t n = last_access_ns_.size();
  for (; draws < kRedraws; ++draws) {
    at = static_cast<std::size_t>(random_.uniform(n));
    if (last_access_ns_[at] != kNotTracked) return static_cast<EntryId>(at);
  }
  // Mostly free: the next tracked id from the last draw (made in the
  // current range: kRedraws > 1). The top id is always tracked (on_remove
  // trims the range), so this ends by n - 1.
  while (last_access_ns_[at] == kNotTracked) ++at;
  return static_cast<EntryId>(at);
}

void SampledLruPolicy::draw_sample(EntryId* sample) {
  // First draws only, their times prefetched: nothing waits for them here
  // (a load would hold up the rest of the set), and they are checked when
  // the sample is used.
  const std::size_t n = last_access_ns_.size();
  for (std::uint32_t i = 0; i < sample_size_; ++i) {
    sample[i] = static_cast<EntryId>(random_.uniform(n));
    __builtin_prefetch(&last_access_ns_[sample[i]]);
  }
}

EntryId SampledLruPolicy::oldest_of(const EntryId* sample) const {
  EntryId best = sample[0];
  for (std::uint32_t i = 1; i < sample_size_; ++i) {
    if (last_access_ns_[sample[i]] < last_access_ns_[best]) best = sample[i];  // strict: ties keep the first drawn
  }
  return best;
}

std::optional<EntryId> SampledLruPolicy::peek(std::uint32_t ahead) const {
  if (size_ == 0 || !sampled_) return std::nullopt;
  const EntryId* s = sample(ahead);
  for (std::uint32_t i = 0; i < sample_size_; ++i) {
    if (!tracked(s[i])) return std::nullopt;
  }
  return oldest_of(s);
}

std::optional<EntryId> SampledLruPolicy::peek_victim(TimeNs /*now*/) const { return peek(0); }
std::optional<EntryId> SampledLruPolicy::peek_victim_later(std::uint32_t later, TimeNs /*now*/) const {
  return later < kAhead ? peek(later) : std::nullopt;
}

std::optional<EntryId> SampledLruPolicy::victim(TimeNs /*now*/) {
  if (size_ == 0) return std::nullopt;
  if (!sampled_) {
    for (std::uint32_t k = 0; k < kAhead; ++k) draw_sample(samples_[k]);
    next_ = 0;
    sampled_ = true;
  }
  // A first draw that is free now (or was all along) is drawn again.
  EntryId* s = sample(0);
  for (std::uint32_t i = 0; i < sample_size_; ++i) {
    if (!tracked(s[i])) s[i] = redraw(s[i], 1);
  }
  const EntryId best = oldest_of(s);
  draw_sample(s);  // the call kAhead calls from now
  next_ = (next_ + 1) % kAhead;
  return best;
}

void SampledLruPolicy::clear() {
  std::vector<TimeNs>().swap(last_access_ns_);
  size_ = 0;
  sampled_ = false;
}

}  // namespace hcsim::core
