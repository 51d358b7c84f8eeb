// The time half of the runtime seam: core code reads time only through Clock.
// Time is integer nanoseconds from an arbitrary epoch; it never goes backwards.
// ManualClock is the test double; RealClock (real_clock.h) reads the system.
#pragma once

#include <cassert>
#include <cstdint>

namespace hcsim::core {

using TimeNs = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeNs now() const = 0;
};

// One reading of a clock, taken the first time it is asked for and never if
// it is not; or a reading the caller already has.
class LazyNow {
 public:
  explicit LazyNow(const Clock& clock) : clock_(&clock) {}
  explicit LazyNow(TimeNs known_ns) : now_ns_(known_ns) {}
  TimeNs operator()() {
    if (clock_ != nullptr) {
      now_ns_ = clock_->now();
      clock_ = nullptr;
    }
    return now_ns_;
  }

 private:
  const Clock* clock_ = nullptr;
  TimeNs now_ns_ = 0;
};

// A clock that moves only when told to. Not thread-safe: one owner drives it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeNs start_ns = 0) : now_ns_(start_ns) {}
  TimeNs now() const override { return now_ns_; }
  void advance(TimeNs delta_ns) {
    assert(delta_ns >= 0);
    now_ns_ += delta_ns;
  }
  void set(TimeNs t_ns) {
    assert(t_ns >= now_ns_);
    now_ns_ = t_ns;
  }

 private:
  TimeNs now_ns_;
};

}  // namespace hcsim::core
