// One simulation run of a Scenario: real core nodes (store, memory pool,
// eviction, cuckoo filter, ring view) on a simulated network, driven by
// simulated clients and the scenario's timeline, measured per interval.
// Deterministic: the result depends only on the scenario (and its seed);
// only the `speed` figures depend on the machine.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sim/report/csv.h"
#include "sim/scenario/scenario.h"

namespace hcsim::sim {

struct RunSpeed {
  std::uint64_t events = 0;
  double wall_s = 0.0;
  double events_per_wall_s = 0.0;
  double requests_per_wall_s = 0.0;
};

struct RunResult {
  // Summary figures in a fixed order: what `expect:` checks refer to.
  std::vector<std::pair<std::string, double>> summary;
  CsvTable timeseries{{}};
  CsvTable per_node{{}};
  CsvTable distribution{{}};
  CsvTable events{{}};
  CsvTable membership{{}};  // with a membership: section only (else no columns)
  CsvTable detection{{}};
  RunSpeed speed;

  const double* find(const std::string& metric) const;
};

// Called after each interval with the simulated time reached and the end.
using ProgressFn = std::function<void(TimeNs now_ns, TimeNs end_ns)>;

// Runs the whole scenario. Errors only for what validation cannot know in
// advance (a node store that cannot be created with the given memory, a
// timer the engine rejected).
core::Result<RunResult> run_scenario(const Scenario& scenario, const ProgressFn& progress = {});

// The summary metric names a run of this scenario will report, known before
// it runs (so that `expect:` typos are found before any work is done).
std::vector<std::string> summary_metric_names(const Scenario& scenario);

}  // namespace hcsim::sim
