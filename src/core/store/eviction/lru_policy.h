// Exact LRU over dense EntryIds, O(1) per call, 8 bytes per id: a doubly
// linked list whose u32 links live in one array indexed by id (no pointers).
// IdLinks/IdQueue, the list itself, are shared by sieve, s3fifo and session.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/store/eviction_policy.h"

namespace hcsim::core {

inline constexpr EntryId kNoEntry = 0xFFFF'FFFFu;   // the end of a list
inline constexpr EntryId kUnlinked = 0xFFFF'FFFEu;  // marks an id in no list
inline constexpr EntryId kMaxEntryId = 0xFFFF'FFFDu;

// The two links of an id in one list: toward the oldest and the newest end.
struct IdLink {
  EntryId older = kUnlinked;
  EntryId newer = kUnlinked;
};

// Per-id links in one array. One IdLinks may back several IdQueues (s3fifo's
// small and main) provided each id is in at most one of them at a time.
// Grows on demand (amortised); an id's links say whether it is linked.
class IdLinks {
 public:
  bool linked(EntryId id) const { return id < links_.size() && links_[id].older != kUnlinked; }
  EntryId older(EntryId id) const {
    assert(linked(id));
    return links_[id].older;
  }
  EntryId newer(EntryId id) const {
    assert(linked(id));
    return links_[id].newer;
  }
  void reserve(std::size_t ids) { links_.reserve(ids); }
  // Unlinks everything and releases the memory.
  void clear() { std::vector<IdLink>().swap(links_); }
  std::size_t memory_bytes() const { return links_.capacity() * sizeof(IdLink); }

  // The storage interface IdQueue works through (another one: SessionPolicy
  // keeps two lists' links and its times side by side, one cache line per id).
  IdLink& link(EntryId id) { return links_[id]; }
  void ensure(EntryId id) {
    assert(id <= kMaxEntryId);
    if (id >= links_.size()) [[unlikely]] grow(id);
  }

 private:
  // Sizes the links to their whole capacity (which memory_bytes() counts
  // anyway), so that ids up to it need no resize call of their own.
  [[gnu::noinline]] void grow(EntryId id) {
    links_.resize(std::size_t{id} + 1);
    links_.resize(links_.capacity());
  }

  std::vector<IdLink> links_;
};

// A FIFO/recency queue of ids: newest at one end, oldest at the other. The
// links live in `Links` (IdLinks or alike: link(id), ensure(id)).
class IdQueue {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  EntryId newest() const { return newest_; }
  EntryId oldest() const { return oldest_; }

  template <class Links>
  void push_newest(Links& links, EntryId id) {
    links.ensure(id);
    IdLink& link = links.link(id);
    assert(link.older == kUnlinked);
    link.older = newest_;
    link.newer = kNoEntry;
    if (newest_ != kNoEntry) {
      links.link(newest_).newer = id;
    } else {
      oldest_ = id;
    }
    newest_ = id;
    ++size_;
  }
  // `id` must be in this queue.
  template <class Links>
  void unlink(Links& links, EntryId id) {
    IdLink& link = links.link(id);
    assert(link.older != kUnlinked && size_ > 0);
    if (link.older != kNoEntry) {
      links.link(link.older).newer = link.newer;
    } else {
      oldest_ = link.newer;
    }
    if (link.newer != kNoEntry) {
      links.link(link.newer).older = link.older;
    } else {
      newest_ = link.older;
    }
    link = IdLink{};
    --size_;
  }
  template <class Links>
  void move_to_newest(Links& links, EntryId id) {
    if (newest_ == id) return;
    // unlink + push_newest, knowing that id is linked and has a newer entry.
    IdLink& link = links.link(id);
    const EntryId older = link.older;
    const EntryId newer = link.newer;
    assert(older != kUnlinked && newer != kNoEntry);
    links.link(newer).older = older;
    if (older != kNoEntry) {
      links.link(older).newer = newer;
    } else {
      oldest_ = newer;
    }
    link.older = newest_;
    link.newer = kNoEntry;
    links.link(newest_).newer = id;
    newest_ = id;
  }
  void clear() { *this = IdQueue(); }

 private:
  EntryId newest_ = kNoEntry;
  EntryId oldest_ = kNoEntry;
  std::size_t size_ = 0;
};

class LruPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const override { return "lru"; }
  void on_insert(EntryId id, std::uint64_t key_hash, TimeNs now) override;
  // The move to the newest end waits in a small buffer, applied in order
  // before anything reads or changes the order (insert, remove, victim,
  // clear) or when the buffer is full: the order is exactly LRU whenever it
  // is used. A get's move depends on its own table lookup, often a cache
  // miss; done at once it held up the next get's work (store-get-hit
  // 123 -> 106 ns, interleaved).
  void on_access(EntryId id, TimeNs /*now*/) override {
    pending_[pending_count_++] = id;
    if (pending_count_ == kPendingTouches) apply_touches();
  }
  bool uses_time() const override { return false; }
  void on_remove(EntryId id, std::uint64_t key_hash, RemoveReason reason) override;
  std::optional<EntryId> victim(TimeNs now) override;
  // The oldest, unless touches are pending (they may move it).
  std::optional<EntryId> peek_victim(TimeNs /*now*/) const override {
    if (queue_.empty() || pending_count_ != 0) return std::nullopt;
    return queue_.oldest();
  }
  void clear() override;
  std::size_t size() const override { return queue_.size(); }
  std::size_t memory_bytes() const override { return links_.memory_bytes(); }
  void reserve(std::size_t ids) override { links_.reserve(ids); }

 private:
  static constexpr std::uint32_t kPendingTouches = 64;
  void apply_touches();  // every pending touch, in order
  void settle() {
    if (pending_count_ != 0) apply_touches();
  }

  IdLinks links_;
  IdQueue queue_;  // newest = most recently used
  std::uint32_t pending_count_ = 0;
  EntryId pending_[kPendingTouches];
};

}  // namespace hcsim::core
