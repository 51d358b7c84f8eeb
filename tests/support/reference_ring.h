// An independent, deliberately naive ring for tests: a std::map from XXH64 /
// XXH3 position to node id, std::map::lower_bound, wrap to begin(). It shares
// no code with src/core/ring, so agreement with it is evidence, not tautology.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <xxhash.h>

namespace hcsim::test_support {

class ReferenceRing {
 public:
  explicit ReferenceRing(bool xxh3 = false) : xxh3_(xxh3) {}

  std::uint64_t hash(const std::string& s) const {
    return xxh3_ ? XXH3_64bits(s.data(), s.size()) : XXH64(s.data(), s.size(), 0);
  }
  void add(const std::string& id, int vnodes) {
    for (int v = 0; v < vnodes; ++v) points_.emplace(hash(id + ":" + std::to_string(v)), id);
    ids_.push_back(id);
  }
  void remove(const std::string& id) {
    for (auto it = points_.begin(); it != points_.end();) it = it->second == id ? points_.erase(it) : std::next(it);
    std::erase(ids_, id);
  }
  void set_alive(const std::string& id, bool alive) {
    if (alive) dead_.erase(id); else dead_.insert(id);
  }
  // "" when no node is alive.
  std::string primary(const std::string& key) const {
    auto r = replicas(key, 1);
    return r.empty() ? "" : r.front();
  }
  std::vector<std::string> replicas(const std::string& key, std::size_t n) const {
    std::vector<std::string> out;
    if (points_.empty()) return out;
    auto it = points_.lower_bound(hash(key));
    for (std::size_t step = 0; step < points_.size() && out.size() < n; ++step, ++it) {
      if (it == points_.end()) it = points_.begin();
      if (dead_.count(it->second)) continue;
      if (std::find(out.begin(), out.end(), it->second) != out.end()) continue;
      out.push_back(it->second);
    }
    return out;
  }
  const std::vector<std::string>& ids() const { return ids_; }

  struct Stats {
    std::map<std::string, std::uint64_t> counts;
    double avg = 0, stddev = 0, load_factor = 0;
    std::uint64_t min = 0, max = 0;
  };
  // Statistics over alive nodes, nodes with no key included.
  Stats stats(std::uint64_t keys) const {
    Stats s;
    for (const auto& id : ids_) {
      if (!dead_.count(id)) s.counts[id] = 0;
    }
    for (std::uint64_t i = 0; i < keys; ++i) {
      const std::string p = primary("key:" + std::to_string(i));
      if (!p.empty()) ++s.counts[p];
    }
    if (s.counts.empty()) return s;
    double sum = 0;
    s.min = UINT64_MAX;
    for (const auto& [id, c] : s.counts) {
      sum += static_cast<double>(c);
      s.min = std::min(s.min, c);
      s.max = std::max(s.max, c);
    }
    s.avg = sum / static_cast<double>(s.counts.size());
    double sq = 0;
    for (const auto& [id, c] : s.counts) sq += (static_cast<double>(c) - s.avg) * (static_cast<double>(c) - s.avg);
    s.stddev = std::sqrt(sq / static_cast<double>(s.counts.size()));
    s.load_factor = s.avg > 0 ? static_cast<double>(s.max) / s.avg : 0;
    return s;
  }

 private:
  bool xxh3_;
  std::multimap<std::uint64_t, std::string> points_;
  std::vector<std::string> ids_;
  std::set<std::string> dead_;
};

}  // namespace hcsim::test_support
