// CuckooFilter: approximate set membership with deletion (Fan et al. 2014).
// 4 slots per bucket, fingerprints of 4..32 bits chosen from a target
// false-positive rate, partial-key cuckoo hashing with bounded displacement,
// and a small victim stash: a failed add changes nothing already stored, so a
// key that was added (and not removed) is always reported present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/runtime/random.h"
#include "core/util/result.h"

namespace hcsim::core {

struct CuckooFilterConfig {
  std::uint64_t expected_items = 1'000'000;  // > 0
  double false_positive_rate = 0.002;        // in (0,1); used when fingerprint_bits == 0
  std::uint32_t fingerprint_bits = 0;        // 0: from the rate; else 4..32
  double target_load = 0.95;                 // design load of the table, in (0,1]
  std::uint32_t max_kicks = 500;             // displacement steps per add, >= 0
  std::uint32_t stash_slots = 8;             // victim stash size, 1..64
  std::uint64_t seed = 0x5eed;               // the kick RNG (deterministic)
};

struct CuckooFilterStats {
  std::uint64_t size = 0;
  std::uint64_t capacity = 0;
  double load_factor = 0.0;
  std::uint32_t fingerprint_bits = 0;
  std::uint64_t buckets = 0;
  std::uint64_t memory_bytes = 0;
  double bits_per_item = 0.0;  // memory bits / size (0 when empty)
  double theoretical_fpr = 0.0;
  std::uint64_t adds = 0, failed_adds = 0, lookups = 0, removes = 0, failed_removes = 0;
  std::uint64_t kicks = 0, max_kick_chain = 0, stash_used = 0;
};

class CuckooFilter {
 public:
  // Errors name the rule: "expected_items must be greater than 0",
  // "false_positive_rate must be between 0 and 1", "fingerprint_bits must be
  // between 4 and 32", "target_load must be in (0, 1]", "stash_slots must be
  // between 1 and 64".
  static Result<CuckooFilter> create(const CuckooFilterConfig& config);

  // Adds one copy of the key (by its 64-bit hash, e.g. XXH3 of the key).
  // false when the table and the stash are full; nothing stored is lost then.
  bool add(std::uint64_t key_hash);
  // Whether the key may be present (false positives at about
  // theoretical_fpr(); never a false negative for an added key).
  bool contains(std::uint64_t key_hash) const;
  // Removes one copy; false if no copy was found. Only remove keys that were added.
  bool remove(std::uint64_t key_hash);
  void clear();

  // Convenience: the same operations keyed by the key's bytes (XXH3-64).
  static std::uint64_t hash(std::string_view key);

  std::uint64_t size() const;
  std::uint64_t capacity() const;  // buckets * 4 * target_load
  double load_factor() const;      // size / capacity
  std::uint32_t fingerprint_bits() const;
  std::uint64_t memory_bytes() const;
  // 1 - (1 - 2^-f)^(2b) ~= 2b / 2^f with b = 4 slots.
  double theoretical_fpr() const;
  CuckooFilterStats stats() const;
  // Probes `probes` keys guaranteed absent (hashes drawn from `random` that
  // were never added is not guaranteed, so callers pass hashes of fresh keys):
  // the fraction reported present.
  double measured_fpr(const std::vector<std::uint64_t>& absent_key_hashes) const;

 private:
  CuckooFilter() = default;
  // Implementation state is the helper's choice; keep it movable.
};

}  // namespace hcsim::core
