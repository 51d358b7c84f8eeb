// IdTable: the store's index from a key's 64-bit hash to its EntryId. The
// keys themselves live in the store's entries; the caller supplies equality.
//
// Open addressing over 64-byte buckets, each exactly one cache line: 12
// one-byte tags (a slice of the hash; 0 marks an empty slot), a 32-bit
// overflow count, and 12 ids. A key's home bucket comes from the hash's low bits; a
// full bucket passes the key to the next one (linear), counting it in its
// overflow. A lookup compares all 12 tags at once and stops at the first
// bucket whose overflow count is zero, so it reads one line in the common
// case. (Abseil's flat_hash_set, used before, keeps control bytes and slots in
// separate arrays: two dependent cache misses per lookup.) This is the design
// of Folly's F14 (tags, chunk-local slots, outbound overflow counts), sized so
// that a chunk of 4-byte ids is one line.
//
// At most 10 of a bucket's 12 slots are filled on average before the table
// doubles; it never shrinks (clear() frees it). Its contents depend only on
// the hashes and the order of operations, never on addresses. Not thread-safe.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/store/eviction_policy.h"

namespace hcsim::core {

class IdTable {
 public:
  static constexpr std::size_t kSlots = 12;
  static constexpr std::size_t kFillPerBucket = 10;  // grow past this many entries per bucket

  struct alignas(64) Bucket {
    std::uint8_t tags[kSlots];  // 0: empty
    // Keys stored past this bucket whose probe passed it. Exact: it cannot
    // exceed the number of ids (< 2^32), so it never saturates and always
    // returns to 0 when those keys leave (an 8-bit count stuck at its
    // maximum would make every miss probe on, for good).
    std::uint32_t overflow;
    EntryId ids[kSlots];
  };
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");

  IdTable() = default;
  ~IdTable() { release(); }
  IdTable(const IdTable&) = delete;
  IdTable& operator=(const IdTable&) = delete;

  std::size_t size() const { return size_; }
  std::size_t bucket_count() const { return bucket_count_; }
  std::size_t memory_bytes() const { return bucket_count_ * sizeof(Bucket); }
  // Bytes the table would grow by if one more key went in now.
  std::size_t growth_bytes_for_insert() const {
    return size_ + 1 > bucket_count_ * kFillPerBucket ? grown_bucket_count() * sizeof(Bucket) - memory_bytes() : 0;
  }

  // A hint: starts loading the bucket a lookup of `hash` reads first.
  void prefetch(std::uint64_t hash) const {
    if (bucket_count_ != 0) __builtin_prefetch(&buckets_[home_of(hash)]);
  }

  // The slot holding the id for which eq(id) is true among those stored
  // under `hash`, or nullptr. A slot stays valid until the next insert,
  // erase or clear.
  template <class Eq>
  EntryId* find(std::uint64_t hash, Eq&& eq) {
    if (bucket_count_ == 0) return nullptr;
    const std::uint8_t tag = tag_of(hash);
    std::size_t i = home_of(hash);
    for (std::size_t probes = 0; probes < bucket_count_; ++probes) {
      Bucket& b = buckets_[i];
      for (unsigned m = match(b, tag); m != 0; m &= m - 1) {
        EntryId& slot = b.ids[__builtin_ctz(m)];
        if (eq(slot)) return &slot;
      }
      if (b.overflow == 0) return nullptr;
      i = (i + 1) & (bucket_count_ - 1);
    }
    return nullptr;
  }

  // Adds `id` under `hash`; the caller knows no stored id is equal to it.
  // When the table must grow, for_each_stored(add) is called to move every
  // id already stored: it must call add(hash, id) once for each of them.
  // (The caller walks its own records in memory order: walking the buckets
  // instead would read each id's key at a random address.)
  template <class ForEachStored>
  void insert(std::uint64_t hash, EntryId id, ForEachStored&& for_each_stored) {
    if (size_ + 1 > bucket_count_ * kFillPerBucket) grow(for_each_stored);
    place(hash, id);
    ++size_;
  }

  // Removes the id in `slot` (from find) stored under `hash`.
  void erase(EntryId* slot, std::uint64_t hash) {
    auto* b = reinterpret_cast<Bucket*>(reinterpret_cast<std::uintptr_t>(slot) & ~std::uintptr_t{sizeof(Bucket) - 1});
    b->tags[slot - b->ids] = 0;
    // Undo the overflow counts the key left on its way from its home.
    for (std::size_t i = home_of(hash); &buckets_[i] != b; i = (i + 1) & (bucket_count_ - 1)) {
      assert(buckets_[i].overflow > 0);
      --buckets_[i].overflow;
    }
    --size_;
  }

  // A bucket's overflow count (for tests and diagnostics).
  std::uint32_t overflow_count(std::size_t bucket) const { return buckets_[bucket].overflow; }

  // Forgets every id and frees the buckets.
  void clear() {
    release();
    size_ = 0;
  }

 private:
  static std::uint8_t tag_of(std::uint64_t hash) {
    // Bits 40..47: neither the home bucket's low bits nor a sharded store's
    // top bits (which are the same for every key of a shard).
    const auto t = static_cast<std::uint8_t>(hash >> 40);
    return t == 0 ? 1 : t;
  }
  std::size_t home_of(std::uint64_t hash) const { return static_cast<std::size_t>(hash) & (bucket_count_ - 1); }
  std::size_t grown_bucket_count() const { return bucket_count_ == 0 ? 1 : bucket_count_ * 2; }

  // Bit s set where tags[s] == tag, s < kSlots.
  static unsigned match(const Bucket& b, std::uint8_t tag) {
#if defined(__SSE2__)
    const __m128i tags = _mm_load_si128(reinterpret_cast<const __m128i*>(b.tags));
    const int eq = _mm_movemask_epi8(_mm_cmpeq_epi8(tags, _mm_set1_epi8(static_cast<char>(tag))));
    return static_cast<unsigned>(eq) & ((1U << kSlots) - 1);
#else
    unsigned m = 0;
    for (std::size_t s = 0; s < kSlots; ++s) m |= static_cast<unsigned>(b.tags[s] == tag) << s;
    return m;
#endif
  }

  void place(std::uint64_t hash, EntryId id) {
    const std::uint8_t tag = tag_of(hash);
    for (std::size_t i = home_of(hash);; i = (i + 1) & (bucket_count_ - 1)) {
      Bucket& b = buckets_[i];
      if (const unsigned empty = match(b, 0); empty != 0) {
        const int s = __builtin_ctz(empty);
        b.tags[s] = tag;
        b.ids[s] = id;
        return;
      }
      ++b.overflow;
    }
  }

  template <class ForEachStored>
  void grow(ForEachStored& for_each_stored) {
    const std::size_t new_count = grown_bucket_count();
    Bucket* fresh = allocate(new_count);  // may throw: nothing has changed yet
    Bucket* old = buckets_;
    const std::size_t old_count = bucket_count_;
    buckets_ = fresh;
    bucket_count_ = new_count;
    // Each id is placed kGrowLag ids after its bucket was prefetched: the
    // new buckets are random lines, whose misses then overlap instead of
    // following one another.
    constexpr std::size_t kGrowLag = 16;
    std::uint64_t hashes[kGrowLag];
    EntryId ids[kGrowLag];
    std::size_t moved = 0;
    for_each_stored([&](std::uint64_t hash, EntryId id) {
      const std::size_t k = moved % kGrowLag;
      if (moved >= kGrowLag) place(hashes[k], ids[k]);
      prefetch(hash);
      hashes[k] = hash;
      ids[k] = id;
      ++moved;
    });
    for (std::size_t j = moved > kGrowLag ? moved - kGrowLag : 0; j < moved; ++j) {
      place(hashes[j % kGrowLag], ids[j % kGrowLag]);
    }
    assert(moved == size_);
    deallocate(old, old_count);
  }

  void release() {
    deallocate(buckets_, bucket_count_);
    buckets_ = nullptr;
    bucket_count_ = 0;
  }

  // Zeroed buckets; 2 MiB-aligned huge pages from 2 MiB up (a random probe
  // then costs one TLB entry per 2 MiB).
  static Bucket* allocate(std::size_t count);
  static void deallocate(Bucket* buckets, std::size_t count);

  Bucket* buckets_ = nullptr;
  std::size_t bucket_count_ = 0;  // 0 or a power of two
  std::size_t size_ = 0;
};

}  // namespace hcsim::core
