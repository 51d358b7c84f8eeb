// `hcsim bench`: runs the Google Benchmark benchmarks compiled into hcsim.
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "cli/benchmarks/bench_registry.h"
#include "cli/commands.h"

namespace hcsim::cli {

std::vector<BenchSpec> all_benchmarks() {
  std::vector<BenchSpec> all = ring_benchmarks();
  for (auto family : {filter_benchmarks, store_benchmarks, sim_benchmarks}) {
    std::vector<BenchSpec> more = family();
    all.insert(all.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return all;
}

namespace {

// CSV with one column per counter any benchmark reported, empty where a
// benchmark has no such counter. (Google Benchmark's own CSV reporter fixes
// its columns at the first benchmark and aborts at a later one with other
// counters, e.g. `hcsim bench store-set store-set-evict-lru --format csv`.)
// Rows are held until the end, when every counter name is known.
class CsvReporter final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context& /*context*/) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      for (const auto& [name, counter] : run.counters) {
        if (name != "items_per_second" && name != "bytes_per_second") counter_names_.insert(name);
      }
      runs_.push_back(run);
    }
  }
  void Finalize() override {
    std::string out = "name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,error_occurred,error_message";
    for (const std::string& name : counter_names_) out += "," + quoted(name);
    out += '\n';
    for (const Run& run : runs_) {
      if (run.aggregate_unit == benchmark::kPercentage) {
        // A coefficient of variation: the times are ratios, not durations.
        out += fmt::format("{},{},{:g},{:g},ratio", quoted(run.benchmark_name()), run.iterations,
                           run.real_accumulated_time, run.cpu_accumulated_time);
      } else {
        out += fmt::format("{},{},{:g},{:g},{}", quoted(run.benchmark_name()), run.iterations, run.GetAdjustedRealTime(),
                           run.GetAdjustedCPUTime(), benchmark::GetTimeUnitString(run.time_unit));
      }
      for (const char* fixed : {"bytes_per_second", "items_per_second"}) {
        const auto it = run.counters.find(fixed);
        out += it == run.counters.end() ? "," : fmt::format(",{:g}", it->second.value);
      }
      out += fmt::format(",{},{},{}", quoted(run.report_label), run.error_occurred ? "true" : "",
                         quoted(run.error_message));
      for (const std::string& name : counter_names_) {
        const auto it = run.counters.find(name);
        out += it == run.counters.end() ? "," : fmt::format(",{:g}", it->second.value);
      }
      out += '\n';
    }
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }

 private:
  static std::string quoted(const std::string& text) {
    if (text.empty()) return "";
    std::string q = "\"";
    for (const char c : text) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  std::vector<Run> runs_;
  std::set<std::string> counter_names_;
};

struct BenchArgs {
  std::vector<std::string> names;
  std::string format = "console";
  double min_time_s = 0.5;
  std::vector<int> threads = {1};
  int repetitions = 1;
  bool list = false;
};

int run_bench(const BenchArgs& args) {
  const std::vector<BenchSpec> specs = all_benchmarks();
  if (args.list) {
    for (const BenchSpec& s : specs) fmt::print("{:<22} {}\n", s.name, s.setup);
    return kExitOk;
  }
  for (const std::string& name : args.names) {
    const bool known = std::any_of(specs.begin(), specs.end(), [&](const BenchSpec& s) { return s.name == name; });
    if (!known) {
      fmt::print(stderr, "hcsim bench: unknown benchmark '{}'; `hcsim bench --list` shows them all\n", name);
      return kExitBadInput;
    }
  }
  for (const BenchSpec& s : specs) {
    if (!args.names.empty() && std::find(args.names.begin(), args.names.end(), s.name) == args.names.end()) continue;
    auto* b = benchmark::RegisterBenchmark(s.name.c_str(), s.run);
    b->UseRealTime();  // with threads, items/s is then the aggregate rate
    for (const int t : args.threads) b->Threads(t);
  }
  std::vector<std::string> flags = {
      "hcsim bench",
      "--benchmark_format=" + (args.format == "csv" ? std::string("console") : args.format),
      fmt::format("--benchmark_min_time={}", args.min_time_s),
      fmt::format("--benchmark_repetitions={}", args.repetitions),
  };
  if (args.repetitions > 1) flags.push_back("--benchmark_report_aggregates_only=true");
  std::vector<char*> argv;
  for (std::string& f : flags) argv.push_back(f.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  if (args.format == "console") {
    fmt::print(stderr, "setups:\n");
    for (const BenchSpec& s : specs) {
      if (args.names.empty() || std::find(args.names.begin(), args.names.end(), s.name) != args.names.end()) {
        fmt::print(stderr, "  {:<22} {}\n", s.name, s.setup);
      }
    }
  }
  if (args.format == "csv") {
    CsvReporter csv;
    benchmark::RunSpecifiedBenchmarks(&csv);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return kExitOk;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand("bench", "Run the built-in Google Benchmark benchmarks of the core structures");
  cmd->footer(
      "Examples:\n"
      "  hcsim bench --list\n"
      "  hcsim bench getnode getnode-cold getreplicas addremove\n"
      "  hcsim bench getnode-cold --threads 1,2 --repetitions 5\n"
      "  hcsim bench getnode --format json > getnode.json");
  auto args = std::make_shared<BenchArgs>();
  cmd->add_option("names", args->names, "Benchmarks to run (default: all)");
  cmd->add_flag("--list", args->list, "List the benchmarks and their setups, run nothing");
  cmd->add_option("--format", args->format, "Output: console, csv or json (Google Benchmark's own JSON)")
      ->check(CLI::IsMember({"console", "csv", "json"}))
      ->capture_default_str();
  cmd->add_option("--min-time", args->min_time_s, "Minimum seconds per benchmark run")
      ->check(CLI::Range(0.001, 600.0))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Threads, one run per value (e.g. 1,2)")
      ->delimiter(',')
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--repetitions", args->repetitions, "Repeat each run; >1 reports mean, median and stddev")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->callback([args, &exit_status] { exit_status = run_bench(*args); });
}

}  // namespace hcsim::cli
