#include "core/store/eviction/lru_policy.h"

namespace hcsim::core {

void LruPolicy::on_insert(EntryId id, std::uint64_t /*key_hash*/, TimeNs /*now*/) {
  settle();
  assert(!links_.linked(id));
  if (links_.linked(id)) queue_.unlink(links_, id);  // caller bug: re-insert as new
  queue_.push_newest(links_, id);
}

void LruPolicy::on_remove(EntryId id, std::uint64_t /*key_hash*/, RemoveReason /*reason*/) {
  settle();
  assert(links_.linked(id));
  if (!links_.linked(id)) return;
  queue_.unlink(links_, id);
}

std::optional<EntryId> LruPolicy::victim(TimeNs /*now*/) {
  settle();
  if (queue_.empty()) return std::nullopt;
  return queue_.oldest();
}

void LruPolicy::clear() {
  pending_count_ = 0;
  links_.clear();
  queue_.clear();
}

void LruPolicy::apply_touches() {
  // Every pending id was linked when touched, and nothing has been removed
  // since (removal settles first), so each is still linked.
  for (std::uint32_t i = 0; i < pending_count_; ++i) {
    const EntryId id = pending_[i];
    assert(links_.linked(id));
    if (links_.linked(id)) queue_.move_to_newest(links_, id);
  }
  pending_count_ = 0;
}

}  // namespace hcsim::core
