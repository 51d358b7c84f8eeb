#include "cli/benchmarks/bench_registry.h"
namespace hcsim::cli {
std::vector<BenchSpec> filter_benchmarks() { return {}; }
}  // namespace hcsim::cli
