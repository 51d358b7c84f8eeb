// LookupCache: the ring's optional hot-key cache, a bounded exact LRU from key
// to replica list (the seed's was FIFO, and unbounded at size 0). Entries carry
// the ring version they were computed for; a different version is a miss, and
// clear(version) drops everything, so a stale list is never served.
// Thread-safe behind one mutex: it is off by default and meant for hot keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "core/ring/ring_snapshot.h"

namespace hcsim::core {

class LookupCache {
 public:
  explicit LookupCache(std::size_t capacity);

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const;

  // Copies the cached list into `out` on a hit for this version.
  bool get(std::string_view key, std::uint64_t version, std::vector<NodeIndex>& out);
  // Ignored when `version` is not the cache's current one (a racing change).
  void put(std::string_view key, std::uint64_t version, const std::vector<NodeIndex>& replicas);
  // Empties the cache; from now on only `version` is accepted.
  void clear(std::uint64_t version);

 private:
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;
  struct Entry {
    std::string key;
    std::vector<NodeIndex> replicas;
    std::uint32_t prev = kNil;  // towards most recent
    std::uint32_t next = kNil;  // towards least recent
  };
  void unlink(std::uint32_t i);
  void push_front(std::uint32_t i);

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::uint64_t version_ = 0;
  std::vector<Entry> entries_;  // never more than capacity_
  absl::flat_hash_map<std::string, std::uint32_t> index_;
  std::uint32_t head_ = kNil;  // most recently used
  std::uint32_t tail_ = kNil;  // least recently used
};

}  // namespace hcsim::core
