// `hcsim run SCENARIO`: one simulation. Parses the scenario (exit 2 on bad
// input, nothing written), runs it with a progress bar on a terminal, writes
// the CSV reports whole, prints the summary, then applies the `expect:`
// checks (exit 1 naming every failed one).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/version.h"
#include "sim/cluster/cluster_sim.h"
#include "sim/cluster/run_output.h"
#include "sim/scenario/scenario.h"

namespace hcsim::cli {
namespace {

// Redraws one line on stderr, at most every 100 ms, and only once the run
// has taken a second (short runs stay quiet).
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()) {}
  void update(core::TimeNs now_ns, core::TimeNs end_ns) {
    if (!enabled_) return;
    const auto t = std::chrono::steady_clock::now();
    const double wall = std::chrono::duration<double>(t - start_).count();
    if (wall < 1.0 || (drawn_ && t - last_ < std::chrono::milliseconds(100) && now_ns < end_ns)) return;
    last_ = t;
    drawn_ = true;
    const double done = end_ns > 0 ? static_cast<double>(now_ns) / static_cast<double>(end_ns) : 1.0;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(done * kWidth);
    const double eta = done > 0 ? wall * (1.0 - done) / done : 0.0;
    fmt::print(stderr, "\r[{:#<{}}{:.<{}}] {:3.0f}%  {:.1f}s of {:.1f}s simulated  {:.1f}s wall, ~{:.0f}s left ",
               "", filled, "", kWidth - filled, done * 100, static_cast<double>(now_ns) / 1e9,
               static_cast<double>(end_ns) / 1e9, wall, eta);
    std::fflush(stderr);
  }
  void finish() {
    if (drawn_) fmt::print(stderr, "\r{:<100}\r", "");
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace

void add_run_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand("run", "Run a cluster simulation scenario and write its CSV reports");
  cmd->footer(
      "Reports go to results/<scenario name>/ (or --out): summary.csv, timeseries.csv, nodes.csv,\n"
      "distribution.csv, events.csv, speed.csv and the resolved scenario.yaml.\n"
      "Exit status: 0 all checks passed, 1 an expect: check failed, 2 bad input or I/O error.\n"
      "Examples:\n"
      "  hcsim run scenarios/rebalance5.yaml\n"
      "  hcsim run scenarios/rebalance5.yaml --seed 7 --out /tmp/r5 --set workload.rate=50k/s\n"
      "  hcsim run scenarios/crash.yaml --quiet");
  struct Args {
    std::string path;
    std::optional<std::uint64_t> seed;
    std::string out;
    std::vector<std::string> sets;
    bool quiet = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("scenario", args->path, "Scenario YAML file (see scenarios/README.md)")->required();
  cmd->add_option("--seed", args->seed, "Override the scenario's seed");
  cmd->add_option("--out", args->out, "Directory for the reports (default results/<name>)");
  cmd->add_option("--set", args->sets, "Override a field before validation: path=value (e.g. workload.rate=50k/s); repeatable")
      ->take_all();
  cmd->add_flag("--quiet,-q", args->quiet, "No progress bar and no summary table (failed checks still print)");
  cmd->callback([args, &exit_status] {
    std::vector<sim::Override> overrides;
    for (const std::string& text : args->sets) {
      auto o = sim::parse_override(text);
      if (!o.is_ok()) {
        fmt::print(stderr, "hcsim run: {}\n", o.status().message());
        exit_status = kExitBadInput;
        return;
      }
      overrides.push_back(std::move(o).value());
    }
    auto parsed = sim::parse_scenario_file(args->path, overrides);
    if (!parsed.is_ok()) {
      fmt::print(stderr, "{}\n", parsed.status().message());
      exit_status = kExitBadInput;
      return;
    }
    sim::Scenario scenario = std::move(parsed).value();
    if (args->seed) scenario.seed = *args->seed;
    if (core::Status s = sim::validate_expectations(scenario); !s.is_ok()) {
      fmt::print(stderr, "{}\n", s.message());
      exit_status = kExitBadInput;
      return;
    }
    const std::string out = args->out.empty() ? "results/" + scenario.name : args->out;
    ProgressBar bar(!args->quiet && ::isatty(STDERR_FILENO) == 1);
    auto result = sim::run_scenario(scenario, [&](core::TimeNs now, core::TimeNs end) { bar.update(now, end); });
    bar.finish();
    if (!result.is_ok()) {
      fmt::print(stderr, "hcsim run: {}: {}\n", args->path, result.status().message());
      exit_status = kExitBadInput;
      return;
    }
    const auto files = sim::run_output_files(scenario, result.value(), kVersion);
    if (core::Status s = sim::write_files_atomically(out, files); !s.is_ok()) {
      fmt::print(stderr, "hcsim run: {}\n", s.message());
      exit_status = kExitBadInput;
      return;
    }
    if (!args->quiet) {
      fmt::print("{}", sim::summary_table(scenario, result.value()));
      fmt::print("reports: {}/\n", out);
    }
    const auto failures = sim::failed_expectations(scenario, result.value());
    for (const std::string& f : failures) fmt::print(stderr, "check failed: {}\n", f);
    if (!failures.empty()) {
      fmt::print(stderr, "hcsim run: {} of {} checks failed\n", failures.size(), scenario.expect.size());
      exit_status = kExitCheckFailed;
      return;
    }
    if (!args->quiet && !scenario.expect.empty()) fmt::print("all {} checks passed\n", scenario.expect.size());
    exit_status = kExitOk;
  });
}

}  // namespace hcsim::cli
