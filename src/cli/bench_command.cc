// `hcsim bench`: runs the Google Benchmark benchmarks compiled into hcsim.
#include <algorithm>
#include <cstdio>
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
      "--benchmark_format=" + args.format,
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
  benchmark::RunSpecifiedBenchmarks();
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
