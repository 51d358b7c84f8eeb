#include "sim/cluster/client.h"

#include <algorithm>
#include <cmath>

#include "sim/cluster/protocol.h"

namespace hcsim::sim {
namespace {
std::uint64_t request_id(std::uint32_t slot, std::uint32_t generation) {
  return (std::uint64_t{generation} << 32) | slot;
}
}  // namespace

Client::Client(ClusterContext& ctx, std::uint32_t number)
    : ctx_(ctx),
      number_(number),
      random_(ctx.sim.stream(StreamKind::kClient, number)),
      chooser_(ctx.sc.workload.popularity, ctx.sc.workload.keys) {
  const WorkloadSpec& w = ctx.sc.workload;
  mean_gap_ns_ = 1e9 * static_cast<double>(w.clients) / w.rate_per_s;
}

namespace {
// An exponential gap with the given mean, clamped so that the cast to TimeNs
// cannot overflow at absurdly low rates.
TimeNs exponential_gap(double mean_ns, core::SeededRandom& random) {
  const double gap = -mean_ns * std::log(static_cast<double>((random.next() >> 11) + 1) * 0x1.0p-53);
  return static_cast<TimeNs>(std::min(gap, 1e18));
}
}  // namespace

void Client::start() {
  const WorkloadSpec& w = ctx_.sc.workload;
  if (!ctx_.closed_loop) {
    ctx_.sim.at(w.start_ns + exponential_gap(mean_gap_ns_, random_), [this] { arrival(); });
  } else {
    for (std::uint32_t i = 0; i < w.concurrency; ++i) {
      ctx_.sim.at(w.start_ns, [this] { issue_random(); });
    }
  }
}

void Client::arrival() {
  issue_random();
  ctx_.sim.after(exponential_gap(mean_gap_ns_, random_), [this] { arrival(); });
}

void Client::issue_random() {
  const WorkloadSpec& w = ctx_.sc.workload;
  const std::uint64_t key = chooser_.next(random_);
  const double u = static_cast<double>(random_.next() >> 11) * 0x1.0p-53;
  const std::uint16_t op = u < w.get_fraction ? protocol::kGet
                           : u < w.get_fraction + w.set_fraction ? protocol::kSet
                                                                  : protocol::kDel;
  issue(op, key, false);
}

void Client::issue(std::uint16_t op, std::uint64_t key, bool backfill) {
  const TimeNs now = ctx_.sim.now();
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(pending_.size());
    pending_.emplace_back();
  }
  Pending& p = pending_[slot];
  p.start_ns = now;
  p.key = key;
  ++p.generation;
  p.op = op;
  p.live = true;
  p.backfill = backfill;
  ++outstanding_;
  if (backfill) ++ctx_.interval.backfills;
  const std::uint64_t id = request_id(slot, p.generation);
  deadlines_.emplace_back(now + ctx_.sc.workload.timeout_ns, id);
  arm_deadline();

  const std::string_view name = ctx_.key_name(key, key_buffer_);
  EndpointId to = 0;
  bool routed;
  if (ctx_.proxy_routing) {
    // Any member node: the one this request draws.
    routed = !ctx_.entry_endpoints.empty();
    if (routed) to = ctx_.entry_endpoints[random_.uniform(ctx_.entry_endpoints.size())];
  } else {
    routed = ctx_.route(name, to);
  }
  if (!routed) {
    ++ctx_.interval.dropped_unrouted;
    return;  // times out
  }
  Message m;
  m.from = endpoint_;
  m.to = to;
  m.type = op;
  m.request_id = id;
  m.key = key;
  m.bytes = protocol::kHeaderBytes + static_cast<std::uint32_t>(name.size());
  if (op == protocol::kSet) {
    m.value_bytes = ctx_.value_bytes_for(key);
    m.bytes += static_cast<std::uint32_t>(m.value_bytes);
  }
  ctx_.net.send(m);
}

void Client::on_message(const Message& m) {
  if (m.type != protocol::kReply) return;
  const auto slot = static_cast<std::uint32_t>(m.request_id & 0xffffffffu);
  const auto generation = static_cast<std::uint32_t>(m.request_id >> 32);
  if (slot >= pending_.size()) return;
  Pending& p = pending_[slot];
  if (!p.live || p.generation != generation) return;  // late (timed out) or duplicated
  p.live = false;
  free_.push_back(slot);
  --outstanding_;
  drop_finished_deadlines();
  RequestCounters& c = ctx_.interval;
  ++c.requests;
  const TimeNs latency = ctx_.sim.now() - p.start_ns;
  ctx_.latency_interval.record(latency);
  const bool error = (m.flags & (protocol::kBusy | protocol::kFailed)) != 0;
  switch (p.op) {
    case protocol::kGet:
      ++c.gets;
      if (error) {
        ++c.errors;
      } else if (m.flags & protocol::kHit) {
        ++c.hits;
      } else {
        ++c.misses;
        if (ctx_.sc.workload.cache_aside) {
          const std::uint64_t key = p.key;
          const TimeNs backend = ctx_.sc.workload.backend_latency.sample_int(random_);
          ctx_.sim.after(backend, [this, key] { issue(protocol::kSet, key, true); });
        }
      }
      break;
    case protocol::kSet:
      ++c.sets;
      if (error) ++c.errors;
      break;
    default:
      ++c.dels;
      if (error) ++c.errors;
      break;
  }
  finished(p, (m.flags & (protocol::kBusy | protocol::kFailed)) != 0);
}

void Client::finished(const Pending& p, bool failed) {
  // A backfill is extra work of the GET that missed, not a request slot of
  // the closed loop: the loop's concurrency stays fixed.
  if (!ctx_.closed_loop || p.backfill) return;
  // At least 1 ns later, so that a zero-time round trip cannot spin at one
  // instant; after an error or a timeout, a back-off as real clients do (a
  // busy node would otherwise be hammered at the network's round-trip rate).
  TimeNs wait = std::max<TimeNs>(ctx_.sc.workload.think_time_ns, 1);
  if (failed) wait = std::max(wait, kRetryBackoffNs);
  ctx_.sim.after(wait, [this] { issue_random(); });
}

void Client::drop_finished_deadlines() {
  while (!deadlines_.empty()) {
    const std::uint64_t id = deadlines_.front().second;
    const Pending& p = pending_[static_cast<std::uint32_t>(id & 0xffffffffu)];
    if (p.live && p.generation == static_cast<std::uint32_t>(id >> 32)) return;
    deadlines_.pop_front();
  }
}

void Client::arm_deadline() {
  if (deadline_armed_ || deadlines_.empty()) return;
  deadline_armed_ = true;
  ctx_.sim.at(deadlines_.front().first, [this] { on_deadline(); });
}

void Client::on_deadline() {
  deadline_armed_ = false;
  const TimeNs now = ctx_.sim.now();
  while (!deadlines_.empty()) {
    const auto [deadline, id] = deadlines_.front();
    const auto slot = static_cast<std::uint32_t>(id & 0xffffffffu);
    Pending& p = pending_[slot];
    const bool live = p.live && p.generation == static_cast<std::uint32_t>(id >> 32);
    if (!live) {
      deadlines_.pop_front();
      continue;
    }
    if (deadline > now) break;
    deadlines_.pop_front();
    p.live = false;
    free_.push_back(slot);
    --outstanding_;
    ++ctx_.interval.requests;
    ++ctx_.interval.timeouts;
    switch (p.op) {
      case protocol::kGet: ++ctx_.interval.gets; break;
      case protocol::kSet: ++ctx_.interval.sets; break;
      default: ++ctx_.interval.dels; break;
    }
    finished(p, true);
  }
  arm_deadline();
}

}  // namespace hcsim::sim
