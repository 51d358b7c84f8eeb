#include "core/store/eviction/sieve_policy.h"

#include <cassert>

namespace hcsim::core {

void SievePolicy::on_insert(EntryId id, std::uint64_t key_hash, TimeNs now) {
  assert(!links_.linked(id));
  if (links_.linked(id)) on_remove(id, key_hash, RemoveReason::kOverwrite);  // caller bug: re-insert as new
  queue_.push_newest(links_, id);
  if (id >= visited_.size()) visited_.resize(std::size_t{id} + 1, 0);
  visited_[id] = 0;
  (void)key_hash;
  (void)now;
}

void SievePolicy::on_access(EntryId id, TimeNs /*now*/) {
  assert(links_.linked(id));
  if (!links_.linked(id)) return;
  visited_[id] = 1;
}

void SievePolicy::on_remove(EntryId id, std::uint64_t /*key_hash*/, RemoveReason /*reason*/) {
  assert(links_.linked(id));
  if (!links_.linked(id)) return;
  // The hand moves on to where it would have gone after evicting `id`: the
  // next newer entry (kNoEntry at the head: wrap to the tail next time).
  if (hand_ == id) hand_ = links_.newer(id);
  queue_.unlink(links_, id);
  visited_[id] = 0;
}

std::optional<EntryId> SievePolicy::peek_victim(TimeNs /*now*/) const {
  if (queue_.empty()) return std::nullopt;
  const EntryId at = hand_start();
  if (visited_[at] != 0) return std::nullopt;
  return at;
}

std::optional<EntryId> SievePolicy::victim(TimeNs /*now*/) {
  if (queue_.empty()) return std::nullopt;
  EntryId at = hand_start();
  // Terminates: each step clears a bit, so after at most one lap every entry
  // is unvisited.
  while (visited_[at] != 0) {
    visited_[at] = 0;
    at = links_.newer(at);
    if (at == kNoEntry) at = queue_.oldest();
  }
  hand_ = at;  // stays on the victim; on_remove moves it on
  return at;
}

void SievePolicy::clear() {
  links_.clear();
  queue_.clear();
  std::vector<std::uint8_t>().swap(visited_);
  hand_ = kNoEntry;
}

void SievePolicy::reserve(std::size_t ids) {
  links_.reserve(ids);
  visited_.reserve(ids);
}

}  // namespace hcsim::core
