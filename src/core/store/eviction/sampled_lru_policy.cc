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

EntryId SampledLruPolicy::pick() {
  const std::size_t n = last_access_ns_.size();
  std::size_t at = 0;
  for (std::uint32_t draw = 0; draw < kRedraws; ++draw) {
    at = static_cast<std::size_t>(random_.uniform(n));
    if (last_access_ns_[at] != kNotTracked) return static_cast<EntryId>(at);
  }
  // Mostly free: the next tracked id from the last draw. The top id is
  // always tracked (on_remove trims the range), so this ends by n - 1.
  while (last_access_ns_[at] == kNotTracked) ++at;
  return static_cast<EntryId>(at);
}

std::optional<EntryId> SampledLruPolicy::victim(TimeNs /*now*/) {
  if (size_ == 0) return std::nullopt;
  // The draws do not depend on one another's loads (a landed draw is
  // predicted), so on a large store their cache misses overlap.
  EntryId best = pick();
  for (std::uint32_t i = 1; i < sample_size_; ++i) {
    const EntryId id = pick();
    if (last_access_ns_[id] < last_access_ns_[best]) best = id;  // strict: ties keep the first drawn
  }
  return best;
}

void SampledLruPolicy::clear() {
  std::vector<TimeNs>().swap(last_access_ns_);
  size_ = 0;
}

}  // namespace hcsim::core
