// CuckooFilter: approximate set membership with deletion (Fan et al. 2014).
// 4 slots per bucket, fingerprints of 4..32 bits chosen from a target
// false-positive rate, partial-key cuckoo hashing with bounded displacement,
// and a small victim stash: a failed add changes nothing already stored, so a
// key that was added (and not removed) is always reported present.
// Not thread-safe: one owner (a store shard) calls it; even contains() updates
// a lookup counter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/runtime/random.h"
#include "core/util/result.h"

namespace hcsim::core {

struct CuckooFilterConfig {
  std::uint64_t expected_items = 1'000'000;  // 1..2^32
  double false_positive_rate = 0.002;        // in (0,1); used (and checked) only when fingerprint_bits == 0
  std::uint32_t fingerprint_bits = 0;        // 0: ceil(log2(8 / rate)) clamped to 4..32; else 4..32
  double target_load = 0.95;                 // design load of the table, in (0,1]
  std::uint32_t max_kicks = 500;             // displacement steps per add, 0..65536
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
  double expected_fpr = 0.0;   // at the current occupancy (see expected_fpr())
  // adds: successful add() calls; failed_adds: add() calls that returned false.
  // lookups: contains() calls (measured_fpr() probes are not counted).
  // removes / failed_removes: remove() calls that returned true / false.
  std::uint64_t adds = 0, failed_adds = 0, lookups = 0, removes = 0, failed_removes = 0;
  // Counters run from create() or the last clear().
  // kicks: displacement steps made; max_kick_chain: most steps in one
  // add; stash_used: fingerprints in the stash now (0..stash_slots).
  std::uint64_t kicks = 0, max_kick_chain = 0, stash_used = 0;
};

// Layout: 2^k buckets of 4 slots; bucket i is bits [i*4f, (i+1)*4f) of one
// packed array, so a key costs f / load bits (12 / 0.95 = 12.6 at the design
// load). A key's candidates are i1 = hash & mask and i2 = i1 ^ mix(fp) (never
// i1 when there are 2+ buckets); the fingerprint comes from the high 32 hash
// bits. A lookup reads each candidate with one unaligned 8-byte load (16-byte
// for f > 16) and compares the 4 lanes at once, without branching on them.
class CuckooFilter {
 public:
  // Errors name the rule: "expected_items must be greater than 0",
  // "false_positive_rate must be between 0 and 1", "fingerprint_bits must be
  // between 4 and 32", "target_load must be in (0, 1]", "stash_slots must be
  // between 1 and 64"; also "expected_items must be at most 4294967296",
  // "max_kicks must be at most 65536" and, when expected_items / (4 *
  // target_load) needs more than 2^32 buckets, a message saying so.
  static Result<CuckooFilter> create(const CuckooFilterConfig& config);

  // Adds one copy of the key (by its 64-bit hash, e.g. XXH3 of the key).
  // Copies are counted (multiset). false when both buckets are full and the
  // stash is full; nothing stored changes then.
  bool add(std::uint64_t key_hash);
  // Hints, with no effect on the filter: start loading the bucket add(key_hash)
  // reads first, or both buckets contains(key_hash) reads.
  void prefetch_add(std::uint64_t key_hash) const { prefetch_bucket(key_hash & bucket_mask_); }
  void prefetch_contains(std::uint64_t key_hash) const {
    const std::uint64_t b1 = key_hash & bucket_mask_;
    prefetch_bucket(b1);
    prefetch_bucket(alt_bucket(b1, fingerprint_of(key_hash)));
  }
  // Whether the key may be present (false positives at about expected_fpr();
  // never a false negative for an added key).
  bool contains(std::uint64_t key_hash) const {
    ++lookups_;
    return probe(geometry(), key_hash);
  }
  // Removes one copy; false if no copy was found. Only remove keys that were
  // added (removing a false positive removes another key's fingerprint).
  // A slot freed next to a stashed fingerprint takes it back into the table.
  bool remove(std::uint64_t key_hash);
  // Back to the state create() returned: empty table and stash, counters 0,
  // kick RNG restarted from config.seed.
  void clear();

  // The key hash the filter expects: XXH3-64 of the key's bytes.
  static std::uint64_t hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

  std::uint64_t size() const;      // copies stored, table and stash
  std::uint64_t capacity() const;  // floor(buckets * 4 * target_load)
  double load_factor() const;      // size / capacity (may pass 1: the table holds buckets * 4)
  std::uint32_t fingerprint_bits() const;
  std::uint64_t buckets() const;
  // Heap bytes really allocated: 8 * ceil(buckets * 4 * f / 64) for the packed
  // table, + 8 bytes of read padding, + 8 * stash_slots for the stash.
  std::uint64_t memory_bytes() const;
  // The full-table bound: fingerprints are uniform over 1..2^f-1 (0 marks an
  // empty slot) and a lookup compares against 2 buckets x 4 slots, so
  // 1 - (1 - 1/(2^f - 1))^8  (~= 8 / 2^f).
  double theoretical_fpr() const;
  // The rate expected now: 1 - (1 - 1/(2^f - 1))^(8 * occupancy), occupancy =
  // table fingerprints / (buckets * 4). (With a single bucket both candidates
  // coincide and the exponent is 4 * occupancy; the stash adds about
  // stash_used * 2 / (buckets * (2^f - 1)), left out.)
  double expected_fpr() const;
  CuckooFilterStats stats() const;
  // The fraction of `absent_key_hashes` reported present. The caller
  // guarantees the hashes belong to keys that were never added (e.g. hashes of
  // fresh keys); not counted as lookups.
  double measured_fpr(std::span<const std::uint64_t> absent_key_hashes) const;

 private:
  __extension__ using U128 = unsigned __int128;
  struct StashEntry {
    std::uint32_t bucket;  // one of the fingerprint's two buckets (both full when stashed)
    std::uint32_t fingerprint;
  };

  CuckooFilter() = default;

  // What a lookup reads, copied out once so that loops keep it in registers.
  struct Geometry {
    const unsigned char* table;
    std::uint64_t bucket_mask;
    std::uint64_t ones64, highs64;  // the lane masks below, for f <= 16
    std::uint32_t bucket_bits, fp_mask;
    bool fast;  // f <= 16 and the stash is empty
  };
  Geometry geometry() const { return {bytes(), bucket_mask_, ones64_, highs64_, bucket_bits_, fp_mask_, fast_}; }

  static std::uint32_t fingerprint_of(std::uint64_t key_hash, std::uint32_t fp_mask) {
    // The high 32 bits (the bucket index uses the low ones) mapped uniformly
    // onto 1..2^f-1 by multiply-shift: 0 is reserved for "empty".
    return static_cast<std::uint32_t>(((key_hash >> 32) * fp_mask) >> 32) + 1;
  }
  static std::uint64_t alt_bucket(std::uint64_t bucket, std::uint32_t fingerprint, std::uint64_t bucket_mask) {
    std::uint64_t m = fingerprint * 0x9e3779b97f4a7c15ULL;
    m ^= m >> 32;
    std::uint64_t offset = m & bucket_mask;
    // A zero offset would make both candidates one bucket; use 1 instead
    // (still a function of the fingerprint alone, so alt(alt(i)) == i).
    offset |= static_cast<std::uint64_t>(offset == 0) & bucket_mask;
    return bucket ^ offset;
  }
  std::uint32_t fingerprint_of(std::uint64_t key_hash) const { return fingerprint_of(key_hash, fp_mask_); }
  std::uint64_t alt_bucket(std::uint64_t bucket, std::uint32_t fp) const { return alt_bucket(bucket, fp, bucket_mask_); }
  void prefetch_bucket(std::uint64_t bucket) const { __builtin_prefetch(bytes() + ((bucket * bucket_bits_) >> 3)); }
  // The bucket's 4 lanes in the low 4 * f bits of W (higher bits: the next
  // bucket's, not masked off).
  template <typename W>
  static W load_bucket(const unsigned char* table, std::uint64_t bucket, std::uint32_t bucket_bits) {
    const std::uint64_t bit = bucket * bucket_bits;
    W w;
    std::memcpy(&w, table + (bit >> 3), sizeof(W));
    return w >> (bit & 7);
  }
  // SWAR: the high bit of each lane of w equal to fp (exact for the lowest
  // such lane; higher lanes may be flagged by a borrow).
  template <typename W>
  static W matching_lanes(W w, std::uint32_t fp, W ones, W highs) {
    const W x = w ^ (ones * fp);
    return (x - ones) & ~x & highs;
  }
  bool probe(const Geometry& g, std::uint64_t key_hash) const {
    const std::uint32_t fp = fingerprint_of(key_hash, g.fp_mask);
    const std::uint64_t b1 = key_hash & g.bucket_mask;
    const std::uint64_t b2 = alt_bucket(b1, fp, g.bucket_mask);
    if (!g.fast) [[unlikely]] return probe_slow(b1, b2, fp);
    // No branch on the loaded buckets: a mispredicted one would hold back the
    // next lookup's loads until this lookup's cache misses resolve.
    const auto w1 = load_bucket<std::uint64_t>(g.table, b1, g.bucket_bits);
    const auto w2 = load_bucket<std::uint64_t>(g.table, b2, g.bucket_bits);
    return (matching_lanes(w1, fp, g.ones64, g.highs64) | matching_lanes(w2, fp, g.ones64, g.highs64)) != 0;
  }
  // Any width, and the stash.
  bool probe_slow(std::uint64_t b1, std::uint64_t b2, std::uint32_t fp) const;
  void update_fast() { fast_ = f_ <= 16 && stash_.empty(); }
  // Slots are addressed by lane_bit = slot * f, their offset in the bucket.
  // The lane_bit of the first slot holding `fp` (fp 0: an empty slot), or -1.
  int find_in_bucket(std::uint64_t bucket, std::uint32_t fp) const;
  std::uint32_t get_slot(std::uint64_t bucket, std::uint32_t lane_bit) const;
  void set_slot(std::uint64_t bucket, std::uint32_t lane_bit, std::uint32_t fp);
  bool insert_into(std::uint64_t bucket, std::uint32_t fp);
  void unstash_into(std::uint64_t bucket, std::uint32_t lane_bit);
  const unsigned char* bytes() const { return reinterpret_cast<const unsigned char*>(words_.data()); }
  unsigned char* bytes() { return reinterpret_cast<unsigned char*>(words_.data()); }

  CuckooFilterConfig config_;
  std::vector<std::uint64_t> words_;  // packed buckets, 4 * f bits each, + 1 padding word
  std::vector<StashEntry> stash_;     // capacity == config_.stash_slots, never grows
  SeededRandom rng_{0};
  std::uint64_t buckets_ = 0;
  std::uint64_t bucket_mask_ = 0;  // buckets_ - 1
  std::uint64_t capacity_ = 0;
  std::uint32_t f_ = 0;            // fingerprint bits
  std::uint32_t bucket_bits_ = 0;  // 4 * f_
  std::uint32_t fp_mask_ = 0;      // 2^f - 1
  U128 lane_ones_ = 0;             // 1 in the low bit of each of the 4 lanes
  U128 lane_highs_ = 0;            // 1 in the high bit of each lane
  std::uint64_t ones64_ = 0;       // the same, for f <= 16
  std::uint64_t highs64_ = 0;
  bool fast_ = false;              // f_ <= 16 && stash_.empty(): the lookup fast path
  std::uint64_t table_count_ = 0;  // fingerprints in the table (not the stash)
  std::uint64_t adds_ = 0, failed_adds_ = 0, removes_ = 0, failed_removes_ = 0;
  std::uint64_t kicks_ = 0, max_kick_chain_ = 0;
  mutable std::uint64_t lookups_ = 0;
};

inline std::uint64_t CuckooFilter::memory_bytes() const {
  return words_.capacity() * sizeof(std::uint64_t) + stash_.capacity() * sizeof(StashEntry);
}

}  // namespace hcsim::core
