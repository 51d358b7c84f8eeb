// sim-events-baseline: the hold model (sim_bench_hold.h) on a plain
// std::priority_queue of (time, seq, callback index), one std::function per
// pending chain, called through the index.
//
// This file is compiled at -O2 (src/cli/CMakeLists.txt): GCC 12 at -O3, the
// release build's level, makes std::priority_queue's sift about 30% slower
// here (a standalone loop: 63 ns per event at -O2, 83 ns at -O3), and the
// baseline should be the best a plain priority queue does, which at -O2
// matches the reference of ~16 M events/s on this machine.
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "cli/benchmarks/sim_bench_hold.h"

namespace hcsim::cli::sim_bench {
namespace {

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

}  // namespace

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

}  // namespace hcsim::cli::sim_bench
