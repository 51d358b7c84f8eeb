// The benchmarks `hcsim bench` can run: a name, what it measures (its setup),
// and the Google Benchmark function. Families add theirs here.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace hcsim::cli {

struct BenchSpec {
  std::string name;
  std::string setup;  // printed by --list and as the benchmark's label
  std::function<void(benchmark::State&)> run;
};

std::vector<BenchSpec> ring_benchmarks();
std::vector<BenchSpec> filter_benchmarks();
std::vector<BenchSpec> store_benchmarks();
std::vector<BenchSpec> sim_benchmarks();

// Every benchmark, in the order --list prints them.
std::vector<BenchSpec> all_benchmarks();

}  // namespace hcsim::cli
