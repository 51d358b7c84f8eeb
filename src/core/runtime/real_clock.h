// The real-time side of the clock seam: a monotonic clock for benchmarks and the
// network server. The only file under src/core/ that may read a system clock.
#pragma once

#include <chrono>

#include "core/runtime/clock.h"

namespace hcsim::core {

class RealClock final : public Clock {
 public:
  TimeNs now() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace hcsim::core
