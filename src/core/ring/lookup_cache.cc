#include "core/ring/lookup_cache.h"

#include <cassert>

#include "core/util/absl_compat.h"

namespace hcsim::core {

LookupCache::LookupCache(std::size_t capacity) : capacity_(capacity) {
  assert(capacity < kNil);
}

std::size_t LookupCache::size() const {
  std::lock_guard lock(mu_);
  return index_.size();
}

void LookupCache::unlink(std::uint32_t i) {
  Entry& e = entries_[i];
  if (e.prev != kNil) entries_[e.prev].next = e.next; else head_ = e.next;
  if (e.next != kNil) entries_[e.next].prev = e.prev; else tail_ = e.prev;
  e.prev = e.next = kNil;
}

void LookupCache::push_front(std::uint32_t i) {
  Entry& e = entries_[i];
  e.prev = kNil;
  e.next = head_;
  if (head_ != kNil) entries_[head_].prev = i;
  head_ = i;
  if (tail_ == kNil) tail_ = i;
}

bool LookupCache::get(std::string_view key, std::uint64_t version, std::vector<NodeIndex>& out) {
  std::lock_guard lock(mu_);
  if (version != version_) return false;
  const auto it = index_.find(to_absl(key));
  if (it == index_.end()) return false;
  const std::uint32_t i = it->second;
  if (head_ != i) {
    unlink(i);
    push_front(i);
  }
  out = entries_[i].replicas;
  return true;
}

void LookupCache::put(std::string_view key, std::uint64_t version, const std::vector<NodeIndex>& replicas) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mu_);
  if (version != version_) return;
  if (const auto it = index_.find(to_absl(key)); it != index_.end()) {
    entries_[it->second].replicas = replicas;
    return;
  }
  std::uint32_t i;
  if (entries_.size() < capacity_) {
    i = static_cast<std::uint32_t>(entries_.size());
    entries_.emplace_back();
  } else {
    i = tail_;  // evict the least recently used, reuse its slot
    unlink(i);
    index_.erase(entries_[i].key);
  }
  entries_[i].key.assign(key);
  entries_[i].replicas = replicas;
  push_front(i);
  index_.emplace(entries_[i].key, i);
}

void LookupCache::clear(std::uint64_t version) {
  std::lock_guard lock(mu_);
  version_ = version;
  entries_.clear();
  index_.clear();
  head_ = tail_ = kNil;
}

}  // namespace hcsim::core
