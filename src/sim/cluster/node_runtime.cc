#include "sim/cluster/node_runtime.h"

#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

namespace hcsim::sim {

NodeRuntime::NodeRuntime(Simulator& sim, Network& net, EndpointId endpoint, std::uint64_t seed)
    : sim_(sim), net_(net), transport_(net, endpoint), random_(seed) {
  base_sim_ = base_local_ = sim_.now();
}

TimeNs NodeRuntime::now() const {
  const TimeNs elapsed = sim_.now() - base_sim_;
  if (rate_ == 1.0) return base_local_ + elapsed;
  return base_local_ + static_cast<TimeNs>(std::llround(static_cast<double>(elapsed) * rate_));
}

TimeNs NodeRuntime::to_sim_delay(TimeNs local_ns) const {
  if (rate_ == 1.0) return local_ns;
  const double d = std::ceil(static_cast<double>(local_ns) / rate_);
  return d >= 9e18 ? std::numeric_limits<TimeNs>::max() / 2 : static_cast<TimeNs>(d);
}

core::TimerId NodeRuntime::schedule(TimeNs after_ns, std::function<void()> callback) {
  if (after_ns < 0 || !callback) return 0;
  const core::TimerId id = next_id_++;
  const core::TimerId sim_id = sim_.after(to_sim_delay(after_ns), [this, id] { fire(id); });
  if (sim_id == 0) return 0;
  pending_.emplace(id, std::make_pair(sim_id, std::move(callback)));
  return id;
}

bool NodeRuntime::cancel(core::TimerId id) {
  const auto it = pending_.find(id);
  if (it != pending_.end()) {
    sim_.cancel(it->second.first);
    pending_.erase(it);
    return true;
  }
  for (auto h = held_.begin(); h != held_.end(); ++h) {
    if (h->id == id) {
      held_.erase(h);
      return true;
    }
  }
  return false;
}

void NodeRuntime::fire(core::TimerId id) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) return;
  std::function<void()> fn = std::move(it->second.second);
  pending_.erase(it);
  if (paused_) {
    held_.push_back(Held{.id = id, .callback = std::move(fn), .from = 0, .payload = {}});
    return;
  }
  fn();
}

void NodeRuntime::set_skew(TimeNs offset_ns, double drift) {
  assert(drift > -1.0 && offset_ns >= 0);
  const TimeNs local = now();
  base_sim_ = sim_.now();
  base_local_ = local + offset_ns;
  rate_ = 1.0 + drift;
}

void NodeRuntime::pause(TimeNs for_ns) {
  paused_ = true;
  const std::uint64_t serial = ++pause_serial_;
  sim_.after(for_ns, [this, serial] {
    if (serial == pause_serial_) resume();
  });
}

void NodeRuntime::resume() {
  paused_ = false;
  // What waited runs now, in the order it came due or arrived. Each item
  // leaves the queue before it runs, so it may cancel a later one, and a
  // new pause stops the replay where it is.
  while (!held_.empty() && !paused_) {
    Held h = std::move(held_.front());
    held_.pop_front();
    if (h.id != 0) {
      h.callback();
    } else {
      --held_messages_;
      transport_.deliver_payload(h.from, h.payload);
    }
  }
}

bool NodeRuntime::deliver(const Message& m) {
  if (m.type != SimTransport::kMessageType) return false;
  if (!paused_) return transport_.deliver(m);
  if (held_messages_ >= kMaxHeldMessages) {
    ++dropped_held_;
    return true;
  }
  held_.push_back(Held{.id = 0, .callback = {}, .from = m.from, .payload = std::string(net_.payload())});
  ++held_messages_;
  return true;
}

void NodeRuntime::reset() {
  for (auto& [id, entry] : pending_) sim_.cancel(entry.first);
  pending_.clear();
  held_.clear();
  held_messages_ = 0;
  paused_ = false;
  ++pause_serial_;
  transport_.set_receiver({});
}

}  // namespace hcsim::sim
