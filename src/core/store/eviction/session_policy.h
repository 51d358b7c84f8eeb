// The seed's SessionEviction in O(1) per call. victim(now) returns, in order:
// the oldest-created entry if now - created > session_ttl; else the least
// recently accessed if now - last_access > idle_timeout; else the
// oldest-created if now - created > grace_period; else the least recently
// accessed. An update (overwrite) restarts the entry's session, as the seed's
// delete+insert did. 32 bytes per id, one cache line half: the links of two
// lists (by creation, by access) and the two times.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/store/eviction/lru_policy.h"
#include "core/store/eviction_policy.h"

namespace hcsim::core {

class SessionPolicy final : public EvictionPolicy {
 public:
  // All three durations > 0 (validate() checks them).
  SessionPolicy(TimeNs session_ttl_ns, TimeNs idle_timeout_ns, TimeNs grace_period_ns);

  std::string_view name() const override { return "session"; }
  void on_insert(EntryId id, std::uint64_t key_hash, TimeNs now) override;
  void on_access(EntryId id, TimeNs now) override;
  void on_update(EntryId id, TimeNs now) override;
  void on_remove(EntryId id, std::uint64_t key_hash, RemoveReason reason) override;
  std::optional<EntryId> victim(TimeNs now) override { return peek_victim(now); }
  // Choosing changes nothing here, so the hint is exact.
  std::optional<EntryId> peek_victim(TimeNs now) const override;
  void clear() override;
  std::size_t size() const override { return by_created_.size(); }
  std::size_t memory_bytes() const override { return slots_.capacity() * sizeof(Slot); }
  void reserve(std::size_t ids) override { slots_.reserve(ids); }

 private:
  struct alignas(32) Slot {
    IdLink by_created;
    IdLink by_access;
    TimeNs created_ns = 0;
    TimeNs last_access_ns = 0;
  };
  static_assert(sizeof(Slot) == 32);
  // IdQueue's view of one of the two links in each slot.
  template <IdLink Slot::*kMember>
  struct SlotLinks {
    std::vector<Slot>& slots;
    IdLink& link(EntryId id) { return slots[id].*kMember; }
    void ensure([[maybe_unused]] EntryId id) const { assert(id < slots.size()); }
  };
  SlotLinks<&Slot::by_created> created_links() { return {slots_}; }
  SlotLinks<&Slot::by_access> access_links() { return {slots_}; }
  bool tracked(EntryId id) const { return id < slots_.size() && slots_[id].by_created.older != kUnlinked; }

  TimeNs session_ttl_ns_;
  TimeNs idle_timeout_ns_;
  TimeNs grace_period_ns_;
  std::vector<Slot> slots_;  // by id
  IdQueue by_created_;       // oldest = created longest ago (times never go back)
  IdQueue by_access_;        // oldest = least recently accessed
};

}  // namespace hcsim::core
