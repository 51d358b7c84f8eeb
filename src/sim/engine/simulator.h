// The simulator's engine: virtual time in integer nanoseconds, events run one
// at a time in (time, insertion sequence) order on one thread, and every
// random stream derived from the scenario seed by the fixed rule below. It is
// the simulation's implementation of the runtime seam (core::Clock, core::Timers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>

#include "core/runtime/clock.h"
#include "core/runtime/random.h"
#include "core/runtime/timers.h"
#include "sim/engine/event_queue.h"

namespace hcsim::sim {

// Which family a random stream belongs to. The numeric codes are part of the
// reproducibility contract: never renumber them.
enum class StreamKind : std::uint64_t { kNode = 1, kClient = 2, kLink = 3, kOther = 4, kMember = 5 };

class Simulator final : public core::Clock, public core::Timers {
 public:
  struct Options {
    std::uint64_t seed = 0;  // the scenario seed
    std::size_t max_pending = EventQueue::kDefaultMaxPending;
    TimeNs start_ns = 0;
  };

  Simulator() : Simulator(Options{}) {}
  explicit Simulator(Options options);
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // core::Clock: the current virtual time. Inside a callback it is the
  // event's time; it never goes backwards.
  TimeNs now() const override { return now_ns_; }

  // core::Timers. Bad requests are rejected, not clamped and not fatal: a
  // negative delay, a time past the end of TimeNs, an empty callback or a
  // full queue return core::TimerId 0, schedule nothing and count in
  // rejected(), in every build type (a scenario runner fails on rejected() > 0).
  core::TimerId schedule(TimeNs after_ns, std::function<void()> callback) override;
  bool cancel(core::TimerId id) override { return queue_.cancel(id); }

  // The simulator's own fast paths: no std::function, no virtual call, no
  // allocation for captures up to Callback::kInlineBytes. `at` with a time
  // before now() is rejected as above. Whatever the entry point, events at
  // equal times run in the order they were scheduled; one scheduled at now()
  // from a callback runs after everything already queued for now().
  template <class F>
  core::TimerId at(TimeNs when_ns, F&& callback) {
    if (when_ns < now_ns_) return reject();
    if constexpr (std::is_constructible_v<bool, const std::decay_t<F>&>) {
      if (!static_cast<bool>(callback)) return reject();  // an empty std::function, Callback, pointer
    }
    const EventId id = queue_.push(when_ns, std::forward<F>(callback));
    return id != kInvalidEventId ? id : reject();
  }
  template <class F>
  core::TimerId after(TimeNs delay_ns, F&& callback) {
    TimeNs when_ns;
    if (delay_ns < 0 || __builtin_add_overflow(now_ns_, delay_ns, &when_ns)) return reject();
    return at(when_ns, std::forward<F>(callback));
  }

  // Runs every event with time <= end_ns in order (including those scheduled
  // meanwhile), then sets now() = end_ns (if later) and returns true. If a
  // callback calls stop(), returns false right after that callback, with
  // now() at its time and the rest still pending; the next call resumes.
  bool run_until(TimeNs end_ns);
  // Runs the earliest pending event, whatever its time; false if none.
  bool run_next();
  // Asks the run_until in progress to return after the current callback;
  // outside run_until it has no effect.
  void stop() { stop_requested_ = true; }

  std::size_t pending() const { return queue_.size(); }
  std::uint64_t events_processed() const { return events_processed_; }
  std::uint64_t rejected() const { return rejected_; }
  std::uint64_t seed() const { return seed_; }
  const EventQueue& queue() const { return queue_; }

  // The fixed rule for random streams (part of the reproducibility contract:
  // changing it changes every result). With mix(x) = the value core::splitmix64
  // returns from state x (x + 0x9e3779b97f4a7c15, then the SplitMix64 finaliser):
  //   stream_seed(seed, kind, index) = mix(mix(mix(seed) ^ code(kind)) ^ index)
  // where code(kind) is StreamKind's numeric value. mix is a bijection, so
  // distinct indices of one kind and seed never share a stream seed.
  // Indices: a node's or client's number; a link from -> to uses
  // link_index(from, to).
  static std::uint64_t stream_seed(std::uint64_t scenario_seed, StreamKind kind, std::uint64_t index);
  static std::uint64_t link_index(std::uint32_t from, std::uint32_t to) {
    return (std::uint64_t{from} << 32) | to;
  }
  // core::SeededRandom(stream_seed(seed(), kind, index)).
  core::SeededRandom stream(StreamKind kind, std::uint64_t index) const;

 private:
  core::TimerId reject() {
    ++rejected_;
    return kInvalidEventId;
  }

  EventQueue queue_;
  std::uint64_t seed_;
  TimeNs now_ns_;
  std::uint64_t events_processed_ = 0;
  std::uint64_t rejected_ = 0;
  bool stop_requested_ = false;
};

}  // namespace hcsim::sim
