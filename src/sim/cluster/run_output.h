// What a run leaves behind: the CSV files of results/<scenario>/ and the
// resolved scenario, the summary table printed at the end, and the verdict
// of the scenario's `expect:` checks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/cluster/cluster_sim.h"
#include "sim/report/csv.h"
#include "sim/scenario/scenario.h"

namespace hcsim::sim {

// summary.csv, timeseries.csv, nodes.csv, distribution.csv, events.csv
// (all deterministic: same scenario and seed, same bytes), speed.csv (wall
// time: the one file that depends on the machine) and scenario.yaml (the
// resolved scenario with its seed and the hcsim version: `hcsim run` on it
// reproduces the run).
std::vector<OutputFile> run_output_files(const Scenario& scenario, const RunResult& result, std::string_view version);

// Every `expect:` metric must be one the run will report: an unknown name is
// an error "file:line:col: ..." found before the run.
core::Status validate_expectations(const Scenario& scenario);

// One line per failed check, e.g.
// "scenarios/x.yaml:41: hit_ratio = 0.71, expected >= 0.8"; empty if all pass.
std::vector<std::string> failed_expectations(const Scenario& scenario, const RunResult& result);

// The table printed at the end of `hcsim run`.
std::string summary_table(const Scenario& scenario, const RunResult& result);

}  // namespace hcsim::sim
