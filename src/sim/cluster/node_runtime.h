// The runtime seam as one simulated node's process sees it: its own clock
// (the simulator's, plus a skew that can jump and drift), timers that run by
// that clock and wait while the process is paused, a random stream of its
// own, and a transport over the simulated network whose messages also wait
// while it is paused. The coordinator runs on this, unchanged from a real node.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include <absl/container/flat_hash_map.h>

#include "core/runtime/clock.h"
#include "core/runtime/random.h"
#include "core/runtime/timers.h"
#include "sim/engine/simulator.h"
#include "sim/network/network.h"
#include "sim/network/sim_transport.h"

namespace hcsim::sim {

class NodeRuntime final : public core::Clock, public core::Timers {
 public:
  static constexpr std::size_t kMaxHeldMessages = 65'536;  // a paused node's inbox; more are dropped

  NodeRuntime(Simulator& sim, Network& net, EndpointId endpoint, std::uint64_t seed);
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  // core::Clock: local time = simulated time, shifted and scaled by the skew.
  TimeNs now() const override;
  // core::Timers: `after_ns` of local time; a timer due while paused runs at
  // the resume, in order.
  core::TimerId schedule(TimeNs after_ns, std::function<void()> callback) override;
  bool cancel(core::TimerId id) override;

  // From now on the local clock reads `offset_ns` (>= 0: a monotonic clock
  // never goes back) more than it did and runs at (1 + drift) times the
  // simulated speed (drift > -1).
  void set_skew(TimeNs offset_ns, double drift);
  // Stuck for `for_ns` of simulated time: no timer runs and no message is
  // handled until then; both wait and run at the resume.
  void pause(TimeNs for_ns);
  bool paused() const { return paused_; }

  // For the endpoint's handler: hands a transport message to the receiver
  // (or holds it while paused). false if `m` is not a transport message.
  bool deliver(const Message& m);
  // A crash: pending timers and held messages are dropped.
  void reset();

  SimTransport& transport() { return transport_; }
  core::SeededRandom& random() { return random_; }
  std::uint64_t dropped_while_paused() const { return dropped_held_; }

 private:
  // What waits while paused, in the (simulated) time order it came due or
  // arrived: a timer (id != 0) or a message.
  struct Held {
    core::TimerId id = 0;
    std::function<void()> callback;
    EndpointId from = 0;
    std::string payload;
  };
  TimeNs to_sim_delay(TimeNs local_ns) const;
  void fire(core::TimerId id);
  void resume();

  Simulator& sim_;
  Network& net_;
  SimTransport transport_;
  core::SeededRandom random_;
  // Local time at sim time t: base_local_ + (t - base_sim_) * rate_.
  TimeNs base_sim_ = 0;
  TimeNs base_local_ = 0;
  double rate_ = 1.0;
  bool paused_ = false;
  std::uint64_t pause_serial_ = 0;
  core::TimerId next_id_ = 1;
  absl::flat_hash_map<core::TimerId, std::pair<core::TimerId, std::function<void()>>> pending_;  // id -> (sim id, fn)
  std::deque<Held> held_;
  std::size_t held_messages_ = 0;
  std::uint64_t dropped_held_ = 0;
};

}  // namespace hcsim::sim
