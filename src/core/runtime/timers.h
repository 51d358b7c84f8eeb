// The timer half of the runtime seam: core code defers work only through an
// injected Timers service (schedule a callback after a delay, cancel it). The
// simulator implements it in virtual time; a real-time implementation comes
// with the network server. Callbacks run on the owner's single thread.
#pragma once

#include <cstdint>
#include <functional>

#include "core/runtime/clock.h"

namespace hcsim::core {

using TimerId = std::uint64_t;  // 0 is never a valid id

class Timers {
 public:
  virtual ~Timers() = default;
  // Runs `callback` once, `after_ns` (>= 0) from now. Returns its id.
  virtual TimerId schedule(TimeNs after_ns, std::function<void()> callback) = 0;
  // Cancels a pending timer; false if it already ran, was cancelled, or never existed.
  virtual bool cancel(TimerId id) = 0;
};

}  // namespace hcsim::core
