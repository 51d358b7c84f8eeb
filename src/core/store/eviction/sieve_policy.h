// SIEVE (Zhang et al., NSDI'24): one FIFO queue, new entries at the head, a
// visited bit set by every hit (an update counts as a hit). The hand walks
// from the tail toward the head clearing visited bits and stops at the first
// unvisited entry: the victim. The hand keeps its place between evictions and
// moves on to the next newer entry when the entry under it is removed.
// O(1) amortised per call, 9 bytes per id (u32 links + visited byte).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/store/eviction/lru_policy.h"
#include "core/store/eviction_policy.h"

namespace hcsim::core {

class SievePolicy final : public EvictionPolicy {
 public:
  std::string_view name() const override { return "sieve"; }
  void on_insert(EntryId id, std::uint64_t key_hash, TimeNs now) override;
  void on_access(EntryId id, TimeNs now) override;
  bool uses_time() const override { return false; }
  void on_remove(EntryId id, std::uint64_t key_hash, RemoveReason reason) override;
  std::optional<EntryId> victim(TimeNs now) override;
  // The entry under the hand if it is unvisited (else the walk decides).
  std::optional<EntryId> peek_victim(TimeNs now) const override;
  void clear() override;
  std::size_t size() const override { return queue_.size(); }
  std::size_t memory_bytes() const override { return links_.memory_bytes() + visited_.capacity(); }
  void reserve(std::size_t ids) override;

 private:
  // Where the hand looks first: its place, or the tail. Queue not empty.
  EntryId hand_start() const { return hand_ != kNoEntry ? hand_ : queue_.oldest(); }

  IdLinks links_;
  IdQueue queue_;                       // newest = head
  std::vector<std::uint8_t> visited_;   // by id: 1 after a hit, cleared by the hand
  EntryId hand_ = kNoEntry;             // kNoEntry: start at the tail (oldest)
};

}  // namespace hcsim::core
