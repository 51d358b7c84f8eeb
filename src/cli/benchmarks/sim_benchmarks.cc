// Simulator engine benchmarks on the hold model (sim_bench_hold.h). The
// baseline (sim_baseline_benchmark.cc) runs the same loop on a plain
// std::priority_queue in the same process, so the ratio is measured on the
// same machine state.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/benchmarks/bench_registry.h"
#include "cli/benchmarks/sim_bench_hold.h"
#include "sim/engine/simulator.h"

namespace hcsim::cli {
namespace {

using sim_bench::Delays;
using sim_bench::kPending;
using sim_bench::run_sim_events_baseline;

// sim-events: Simulator::after with an 8-byte functor (stored inline).
struct EngineHold {
  sim::Simulator sim;
  Delays delays;
};
struct Tick {
  EngineHold* hold;
  void operator()() const { hold->sim.after(hold->delays.next(), Tick{hold}); }
};

void run_sim_events(benchmark::State& state) {
  EngineHold hold;
  for (std::size_t i = 0; i < kPending; ++i) hold.sim.after(hold.delays.next(), Tick{&hold});
  for (auto _ : state) {
    hold.sim.run_next();
  }
  if (hold.sim.pending() != kPending || hold.sim.rejected() != 0) state.SkipWithError("event count drifted");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// sim-events-timers: the same through the virtual core::Timers seam, one
// std::function per event (what core code pays).
struct SeamHold {
  sim::Simulator sim;
  core::Timers* timers = &sim;
  Delays delays;
};
void seam_tick(SeamHold* hold) {
  hold->timers->schedule(hold->delays.next(), [hold] { seam_tick(hold); });
}

void run_sim_events_timers(benchmark::State& state) {
  SeamHold hold;
  for (std::size_t i = 0; i < kPending; ++i) {
    hold.timers->schedule(hold.delays.next(), [h = &hold] { seam_tick(h); });
  }
  for (auto _ : state) {
    hold.sim.run_next();
  }
  if (hold.sim.pending() != kPending || hold.sim.rejected() != 0) state.SkipWithError("event count drifted");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

std::vector<BenchSpec> sim_benchmarks() {
  const std::string hold = "1,000 pending; each event schedules one at now + table delay U[1ns,1ms]";
  return {
      {"sim-events", hold + "; Simulator::after, 8-byte inline callback", run_sim_events},
      {"sim-events-timers", hold + "; via core::Timers::schedule (virtual, std::function)",
       run_sim_events_timers},
      {"sim-events-baseline", hold + "; plain std::priority_queue<(time,seq,index)> + std::function",
       run_sim_events_baseline},
  };
}

}  // namespace hcsim::cli
