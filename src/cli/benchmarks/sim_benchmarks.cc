// Simulator engine benchmarks: the hold model. 1,000 events stay pending; each
// processed event schedules one new event at now + a delay taken in turn from a
// precomputed table of 4,096 delays, uniform in [1 ns, 1 ms] (SeededRandom(7)),
// so no random generator runs in the timed loop. One item = one event run.
// The baseline runs the same loop on a plain std::priority_queue in the same
// process, so the ratio is measured on the same machine state.
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <queue>
#include <vector>

#include "cli/benchmarks/bench_registry.h"
#include "core/runtime/random.h"
#include "sim/engine/simulator.h"

namespace hcsim::cli {
namespace {

using core::TimeNs;

constexpr std::size_t kPending = 1000;
constexpr std::size_t kDelays = 4096;  // a power of two
constexpr TimeNs kDelayMaxNs = 1'000'000;

const std::vector<TimeNs>& delay_table() {
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

// sim-events-baseline: std::priority_queue of (time, seq, callback index), one
// std::function per pending chain, called through the index.
struct BaselineEntry {
  TimeNs time;
  std::uint64_t seq;
  std::uint32_t callback;
};
struct Later {
  bool operator()(const BaselineEntry& a, const BaselineEntry& b) const {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
};
struct BaselineHold {
  std::priority_queue<BaselineEntry, std::vector<BaselineEntry>, Later> queue;
  std::vector<std::function<void()>> callbacks;
  TimeNs now_ns = 0;
  std::uint64_t seq = 0;
  Delays delays;
};

void run_sim_events_baseline(benchmark::State& state) {
  BaselineHold hold;
  for (std::uint32_t i = 0; i < kPending; ++i) {
    hold.callbacks.emplace_back([h = &hold, i] { h->queue.push({h->now_ns + h->delays.next(), h->seq++, i}); });
    hold.queue.push({hold.delays.next(), hold.seq++, i});
  }
  for (auto _ : state) {
    const BaselineEntry e = hold.queue.top();
    hold.queue.pop();
    hold.now_ns = e.time;
    hold.callbacks[e.callback]();
  }
  if (hold.queue.size() != kPending) state.SkipWithError("event count drifted");
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
