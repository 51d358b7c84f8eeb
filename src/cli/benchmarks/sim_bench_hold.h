// What the event-engine benchmarks share: the hold model. kPending events
// stay pending; each processed event schedules one new event at now + a delay
// taken in turn from a precomputed table of kDelays delays, uniform in
// [1 ns, 1 ms] (SeededRandom(7)), so no random generator runs in the timed
// loop. One item = one event run.
#pragma once

#include <cstddef>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/runtime/clock.h"
#include "core/runtime/random.h"

namespace hcsim::cli::sim_bench {

using core::TimeNs;

inline constexpr std::size_t kPending = 1000;
inline constexpr std::size_t kDelays = 4096;  // a power of two
inline constexpr TimeNs kDelayMaxNs = 1'000'000;

inline const std::vector<TimeNs>& delay_table() {
  static const std::vector<TimeNs> table = [] {
    core::SeededRandom random(7);
    std::vector<TimeNs> t(kDelays);
    for (TimeNs& d : t) d = 1 + static_cast<TimeNs>(random.uniform(kDelayMaxNs));
    return t;
  }();
  return table;
}

class Delays {
 public:
  TimeNs next() {
    const TimeNs d = table_[next_];
    next_ = (next_ + 1) & (kDelays - 1);
    return d;
  }

 private:
  const std::vector<TimeNs>& table_ = delay_table();
  std::size_t next_ = 0;
};

// sim-events-baseline, in its own file (see src/cli/CMakeLists.txt).
void run_sim_events_baseline(benchmark::State& state);

}  // namespace hcsim::cli::sim_bench
