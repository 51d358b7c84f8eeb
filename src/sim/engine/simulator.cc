#include "sim/engine/simulator.h"

namespace hcsim::sim {

namespace {

std::uint64_t mix(std::uint64_t x) { return core::splitmix64(x); }

}  // namespace

Simulator::Simulator(Options options)
    : queue_(EventQueue::Options{.max_pending = options.max_pending}),
      seed_(options.seed),
      now_ns_(options.start_ns) {}

core::TimerId Simulator::schedule(TimeNs after_ns, std::function<void()> callback) {
  return after(after_ns, std::move(callback));  // `at` rejects an empty callback
}

bool Simulator::run_until(TimeNs end_ns) {
  stop_requested_ = false;
  const auto before = [this](TimeNs t) {
    now_ns_ = t;
    ++events_processed_;
  };
  while (queue_.run_next(end_ns, before)) {
    if (stop_requested_) return false;
  }
  if (end_ns > now_ns_) now_ns_ = end_ns;
  return true;
}

bool Simulator::run_next() {
  return queue_.run_next(std::numeric_limits<TimeNs>::max(), [this](TimeNs t) {
    now_ns_ = t;
    ++events_processed_;
  });
}

std::uint64_t Simulator::stream_seed(std::uint64_t scenario_seed, StreamKind kind, std::uint64_t index) {
  const std::uint64_t base = mix(scenario_seed);
  const std::uint64_t family = mix(base ^ static_cast<std::uint64_t>(kind));
  return mix(family ^ index);
}

core::SeededRandom Simulator::stream(StreamKind kind, std::uint64_t index) const {
  return core::SeededRandom(stream_seed(seed_, kind, index));
}

}  // namespace hcsim::sim
