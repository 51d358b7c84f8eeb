// LamportClock: a logical clock for ordering cluster events across nodes.
// tick() for a local event, witness(remote) when a message carrying a remote
// time arrives; the time never goes backwards and saturates instead of wrapping.
// Single-threaded: one owner (its coordinator) drives it, no locking.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace hcsim::core::cluster {

class LamportClock {
 public:
  explicit LamportClock(std::uint64_t start = 0) : time_(start) {}

  // A local event: advances by one and returns the new time.
  std::uint64_t tick() {
    if (time_ < kMax) ++time_;
    return time_;
  }
  // A remote time seen: max(local, remote) + 1, stored and returned.
  std::uint64_t witness(std::uint64_t remote) {
    time_ = std::max(time_, remote);
    return tick();
  }
  std::uint64_t time() const { return time_; }

 private:
  static constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t time_;
};

}  // namespace hcsim::core::cluster
