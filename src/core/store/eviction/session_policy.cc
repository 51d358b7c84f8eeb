#include "core/store/eviction/session_policy.h"

namespace hcsim::core {

SessionPolicy::SessionPolicy(TimeNs session_ttl_ns, TimeNs idle_timeout_ns, TimeNs grace_period_ns)
    : session_ttl_ns_(session_ttl_ns), idle_timeout_ns_(idle_timeout_ns), grace_period_ns_(grace_period_ns) {
  assert(session_ttl_ns_ > 0 && idle_timeout_ns_ > 0 && grace_period_ns_ > 0);
}

void SessionPolicy::on_insert(EntryId id, std::uint64_t /*key_hash*/, TimeNs now) {
  assert(!tracked(id));
  if (tracked(id)) {  // caller bug: treat as an overwrite
    on_update(id, now);
    return;
  }
  assert(id <= kMaxEntryId);
  if (id >= slots_.size()) slots_.resize(std::size_t{id} + 1);
  Slot& slot = slots_[id];
  slot.created_ns = now;
  slot.last_access_ns = now;
  auto created = created_links();
  auto access = access_links();
  by_created_.push_newest(created, id);
  by_access_.push_newest(access, id);
}

void SessionPolicy::on_access(EntryId id, TimeNs now) {
  assert(tracked(id));
  if (!tracked(id)) return;
  slots_[id].last_access_ns = now;
  auto access = access_links();
  by_access_.move_to_newest(access, id);
}

void SessionPolicy::on_update(EntryId id, TimeNs now) {
  assert(tracked(id));
  if (!tracked(id)) return;
  slots_[id].created_ns = now;
  slots_[id].last_access_ns = now;
  auto created = created_links();
  auto access = access_links();
  by_created_.move_to_newest(created, id);
  by_access_.move_to_newest(access, id);
}

void SessionPolicy::on_remove(EntryId id, std::uint64_t /*key_hash*/, RemoveReason /*reason*/) {
  assert(tracked(id));
  if (!tracked(id)) return;
  auto created = created_links();
  auto access = access_links();
  by_created_.unlink(created, id);
  by_access_.unlink(access, id);
}

std::optional<EntryId> SessionPolicy::peek_victim(TimeNs now) const {
  if (by_created_.empty()) return std::nullopt;
  const EntryId oldest_created = by_created_.oldest();
  const EntryId least_recent = by_access_.oldest();
  const TimeNs age_ns = now - slots_[oldest_created].created_ns;
  if (age_ns > session_ttl_ns_) return oldest_created;                                    // 1. session over
  if (now - slots_[least_recent].last_access_ns > idle_timeout_ns_) return least_recent;  // 2. idle
  if (age_ns > grace_period_ns_) return oldest_created;                                   // 3. past grace
  return least_recent;                                                                    // 4. plain LRU
}

void SessionPolicy::clear() {
  std::vector<Slot>().swap(slots_);
  by_created_.clear();
  by_access_.clear();
}

}  // namespace hcsim::core
