#include "sim/cluster/run_output.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace hcsim::sim {

std::vector<OutputFile> run_output_files(const Scenario& scenario, const RunResult& result, std::string_view version) {
  CsvTable summary({"metric", "value"});
  for (const auto& [name, value] : result.summary) summary.add_row({name, format_number(value)});
  CsvTable speed({"metric", "value"});
  speed.add_row({"events", format_integer(result.speed.events)});
  speed.add_row({"wall_s", fmt::format("{:.3f}", result.speed.wall_s)});
  speed.add_row({"events_per_wall_s", format_number(std::round(result.speed.events_per_wall_s))});
  speed.add_row({"requests_per_wall_s", format_number(std::round(result.speed.requests_per_wall_s))});
  const std::string yaml = to_yaml(scenario, {fmt::format("resolved by hcsim {}: `hcsim run` on this file reproduces the run", version),
                                              fmt::format("source: {}", scenario.source_path)});
  std::vector<OutputFile> files = {
      {"summary.csv", summary.render()},
      {"timeseries.csv", result.timeseries.render()},
      {"nodes.csv", result.per_node.render()},
      {"distribution.csv", result.distribution.render()},
      {"events.csv", result.events.render()},
      {"speed.csv", speed.render()},
      {"scenario.yaml", yaml},
  };
  if (scenario.membership.enabled) {
    files.push_back({"membership.csv", result.membership.render()});
    files.push_back({"detection.csv", result.detection.render()});
  }
  return files;
}

core::Status validate_expectations(const Scenario& scenario) {
  const std::vector<std::string> names = summary_metric_names(scenario);
  for (const Expectation& e : scenario.expect) {
    if (std::find(names.begin(), names.end(), e.metric) != names.end()) continue;
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    return core::Status::error(fmt::format("{}:{}:1: expect: unknown metric '{}'; this scenario reports: {}",
                                           scenario.source_path, e.line, e.metric, known));
  }
  return core::Status::ok();
}

std::vector<std::string> failed_expectations(const Scenario& scenario, const RunResult& result) {
  std::vector<std::string> failures;
  for (const Expectation& e : scenario.expect) {
    const double* value = result.find(e.metric);
    const std::string where = fmt::format("{}:{}", scenario.source_path, e.line);
    if (value == nullptr) {
      failures.push_back(fmt::format("{}: {} was not reported", where, e.metric));
      continue;
    }
    const double v = *value;
    if (e.min && !(v >= *e.min)) {
      failures.push_back(fmt::format("{}: {} = {}, expected >= {}", where, e.metric, format_number(v), format_number(*e.min)));
    }
    if (e.max && !(v <= *e.max)) {
      failures.push_back(fmt::format("{}: {} = {}, expected <= {}", where, e.metric, format_number(v), format_number(*e.max)));
    }
    if (e.equal && !(std::fabs(v - *e.equal) <= e.tolerance)) {
      failures.push_back(fmt::format("{}: {} = {}, expected {} within {}", where, e.metric, format_number(v),
                                     format_number(*e.equal), format_number(e.tolerance)));
    }
  }
  return failures;
}

std::string summary_table(const Scenario& scenario, const RunResult& result) {
  std::size_t width = 6;
  for (const auto& [name, value] : result.summary) width = std::max(width, name.size());
  std::string out = fmt::format("{} (seed {}, {} simulated)\n", scenario.name, scenario.seed,
                                format_duration(scenario.duration_ns));
  for (const auto& [name, value] : result.summary) {
    out += fmt::format("  {:<{}}  {}\n", name, width, format_number(value));
  }
  out += fmt::format("  {:<{}}  {:.2f}\n", "wall_s", width, result.speed.wall_s);
  out += fmt::format("  {:<{}}  {}\n", "events_per_wall_s", width, format_number(std::round(result.speed.events_per_wall_s)));
  out += fmt::format("  {:<{}}  {}\n", "requests_per_wall_s", width,
                     format_number(std::round(result.speed.requests_per_wall_s)));
  return out;
}

}  // namespace hcsim::sim
