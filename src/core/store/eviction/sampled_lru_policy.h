// Redis-style approximated LRU (without Redis's candidate pool): victim()
// draws sample_size tracked ids uniformly at random (with replacement) from
// the injected RandomSource and returns the one least recently accessed
// (ties: the first drawn). O(sample_size) per victim, O(1) otherwise;
// 16 bytes per id (dense id array, access times by position, position by id).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/store/eviction_policy.h"

namespace hcsim::core {

class SampledLruPolicy final : public EvictionPolicy {
 public:
  // sample_size in [1, 64] (validate() checks it); `random` must outlive this.
  SampledLruPolicy(std::uint32_t sample_size, RandomSource& random);

  std::string_view name() const override { return "sampled-lru"; }
  void on_insert(EntryId id, std::uint64_t key_hash, TimeNs now) override;
  void on_access(EntryId id, TimeNs now) override;
  void on_remove(EntryId id, std::uint64_t key_hash, RemoveReason reason) override;
  std::optional<EntryId> victim(TimeNs now) override;
  void clear() override;
  std::size_t size() const override { return ids_.size(); }
  std::size_t memory_bytes() const override;
  void reserve(std::size_t ids) override;

 private:
  static constexpr std::uint32_t kNotTracked = 0xFFFF'FFFFu;
  bool tracked(EntryId id) const { return id < position_.size() && position_[id] != kNotTracked; }

  std::uint32_t sample_size_;
  RandomSource& random_;
  // Dense: ids_[i] is tracked and was last accessed at last_access_ns_[i];
  // sampling reads only last_access_ns_ (one memory access per sample).
  std::vector<EntryId> ids_;
  std::vector<TimeNs> last_access_ns_;
  std::vector<std::uint32_t> position_;  // by id: index into ids_, or kNotTracked
  static constexpr std::size_t kNoPosition = ~std::size_t{0};
  std::size_t last_victim_position_ = kNoPosition;  // where victim() found its answer
};

}  // namespace hcsim::core
