#include "core/store/eviction/lru_policy.h"

namespace hcsim::core {

void LruPolicy::on_insert(EntryId id, std::uint64_t /*key_hash*/, TimeNs /*now*/) {
  assert(!links_.linked(id));
  if (links_.linked(id)) queue_.unlink(links_, id);  // caller bug: re-insert as new
  queue_.push_newest(links_, id);
}

void LruPolicy::on_access(EntryId id, TimeNs /*now*/) { touch(id); }

void LruPolicy::on_remove(EntryId id, std::uint64_t /*key_hash*/, RemoveReason /*reason*/) {
  assert(links_.linked(id));
  if (!links_.linked(id)) return;
  queue_.unlink(links_, id);
}

std::optional<EntryId> LruPolicy::victim(TimeNs /*now*/) {
  if (queue_.empty()) return std::nullopt;
  return queue_.oldest();
}

void LruPolicy::clear() {
  links_.clear();
  queue_.clear();
}

}  // namespace hcsim::core
