// S3-FIFO (Yang et al., SOSP'23): a small FIFO that filters one-hit wonders,
// a main FIFO with 2-bit frequencies (reinsertion with freq-1), and a ghost
// FIFO of 32-bit fingerprints of keys evicted from the small queue; a new key
// found in the ghost goes straight to main. O(1) amortised per call; 9 bytes
// per id (u32 links, state byte) plus the ghost (below). An evicted key's
// fingerprint comes from the hash on_remove is given: no copy per id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/store/eviction/lru_policy.h"
#include "core/store/eviction_policy.h"

namespace hcsim::core {

// A bounded FIFO set of 32-bit fingerprints with O(1) membership and O(1)
// removal from the middle: a ring of fingerprints plus an open-addressing
// table (linear probing, backward-shift deletion, load at most 1/2) whose u32
// entries pack the ring position with the probe distance and a few tag bits
// of the fingerprint, so probes rarely touch the ring. A ring slot whose
// fingerprint was erased, or pushed again later, is dead and is skipped when
// it leaves the ring. 4 bytes per ring slot plus 8-16 per slot in the table:
// 12-20 bytes per remembered key. At most kMaxRingSlots slots.
class GhostFifo {
 public:
  static constexpr std::size_t kMaxRingSlots = (std::size_t{1} << 26) - 1;

  bool contains(std::uint32_t fingerprint) const { return find(fingerprint) != kNotFound; }
  // Forgets `fingerprint`; false if it was not remembered.
  bool erase(std::uint32_t fingerprint);
  // Remembers `fingerprint` as the newest, first dropping the oldest slots
  // until at most `capacity` - 1 remain (capacity clamped to
  // [1, kMaxRingSlots]).
  void push(std::uint32_t fingerprint, std::size_t capacity);
  void clear();
  // Starts loading the table slot that `fingerprint` would probe first.
  void prefetch(std::uint32_t fingerprint) const {
    if (!table_.empty()) __builtin_prefetch(&table_[home(fingerprint)]);
  }
  std::size_t size() const { return live_; }  // fingerprints remembered
  std::size_t memory_bytes() const;

 private:
  static constexpr std::size_t kNotFound = ~std::size_t{0};
  static constexpr std::uint32_t kDistBits = 5;
  static constexpr std::uint32_t kDistSaturated = (1u << kDistBits) - 1;  // look the home up

  std::size_t home(std::uint32_t fingerprint) const {
    return static_cast<std::size_t>((fingerprint * 0x9E37'79B1u) >> home_shift_);
  }
  std::uint32_t tag(std::uint32_t fingerprint) const {
    return tag_bits_ == 0 ? 0 : (fingerprint * 0x85EB'CA77u) >> (32 - tag_bits_);
  }
  // Entry layout, low to high: ring index + 1 | probe distance | tag.
  std::size_t index_of(std::uint32_t entry) const { return (entry & index_mask_) - 1; }
  std::uint32_t dist_of(std::uint32_t entry) const { return (entry >> index_bits_) & kDistSaturated; }
  std::uint32_t tag_of(std::uint32_t entry) const { return entry >> (index_bits_ + kDistBits); }
  std::uint32_t make_entry(std::size_t index, std::size_t dist, std::uint32_t tag_value) const;

  std::size_t find(std::uint32_t fingerprint) const;  // table slot, or kNotFound
  std::size_t find_index(std::uint32_t fingerprint, std::size_t index) const;
  void erase_slot(std::size_t slot);
  void insert_slot(std::uint32_t fingerprint, std::size_t ring_index);
  void pop_oldest();
  void grow(std::size_t capacity);

  std::vector<std::uint32_t> ring_;   // physical ring; oldest at oldest_
  std::size_t oldest_ = 0;
  std::size_t used_ = 0;              // ring slots in use, dead ones included
  std::size_t live_ = 0;
  std::vector<std::uint32_t> table_;  // 0 = empty; size a power of two
  std::uint32_t home_shift_ = 32;
  std::uint32_t index_bits_ = 0;
  std::uint32_t tag_bits_ = 0;
  std::uint32_t index_mask_ = 0;
};

class S3FifoPolicy final : public EvictionPolicy {
 public:
  // Promotion from small to main needs at least this many hits while in small
  // (the SOSP'23 paper and the libCacheSim version it evaluated; libCacheSim
  // later defaults to 2).
  static constexpr std::uint8_t kMoveToMainThreshold = 1;
  static constexpr std::uint8_t kMaxFreq = 3;

  // small_queue_ratio in (0, 1) (validate() checks it).
  explicit S3FifoPolicy(double small_queue_ratio);

  std::string_view name() const override { return "s3fifo"; }
  void on_insert(EntryId id, std::uint64_t key_hash, TimeNs now) override;
  void on_access(EntryId id, TimeNs now) override;
  bool uses_time() const override { return false; }
  void on_remove(EntryId id, std::uint64_t key_hash, RemoveReason reason) override;
  void prefetch_eviction(std::uint64_t key_hash) const override { ghost_.prefetch(fingerprint(key_hash)); }
  // on_insert looks the key up in the ghost: the same slot.
  void prefetch_insert(std::uint64_t key_hash) const override { ghost_.prefetch(fingerprint(key_hash)); }
  std::optional<EntryId> victim(TimeNs now) override;
  // The tail victim() would look at first, if it would take it as it is.
  std::optional<EntryId> peek_victim(TimeNs now) const override;
  void clear() override;
  std::size_t size() const override { return small_.size() + main_.size(); }
  std::size_t memory_bytes() const override;
  void reserve(std::size_t ids) override;

  // Introspection for tests and reports.
  std::size_t small_size() const { return small_.size(); }
  std::size_t main_size() const { return main_.size(); }
  std::size_t ghost_size() const { return ghost_.size(); }
  // The ghost remembers at most the main queue's share of the largest number
  // of entries tracked at once (the paper sizes G like M; in a full store the
  // peak is its capacity in entries): peak - floor(ratio * peak), at least 1.
  std::size_t ghost_capacity() const;
  static std::uint32_t fingerprint(std::uint64_t key_hash) {
    return static_cast<std::uint32_t>(key_hash ^ (key_hash >> 32));
  }

 private:
  static constexpr std::uint8_t kFreqMask = 0x03;
  static constexpr std::uint8_t kInMain = 0x04;
  // victim() takes from the small queue first (it is over its share).
  bool evicts_from_small() const;

  double small_queue_ratio_;
  IdLinks links_;                       // shared by small_ and main_
  IdQueue small_;
  IdQueue main_;
  std::vector<std::uint8_t> state_;     // by id: freq (2 bits) | kInMain
  GhostFifo ghost_;
  std::size_t peak_tracked_ = 0;
};

}  // namespace hcsim::core
