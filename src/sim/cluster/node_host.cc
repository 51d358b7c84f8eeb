#include "sim/cluster/node_host.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include <fmt/format.h>

#include "sim/cluster/protocol.h"

namespace hcsim::sim {
namespace {
// Per-entry bytes beyond key and value: header, index and policy metadata.
constexpr double kEntryOverheadBytes = 48.0;
}  // namespace

NodeHost::NodeHost(ClusterContext& ctx, std::string name, std::uint32_t number, ControlFn on_control)
    : ctx_(ctx),
      name_(std::move(name)),
      number_(number),
      on_control_(std::move(on_control)),
      service_random_(ctx.sim.stream(StreamKind::kNode, number)),
      store_random_(Simulator::stream_seed(ctx.sim.seed(), StreamKind::kOther, (std::uint64_t{1} << 32) | number)) {}

core::Status NodeHost::init() {
  const ClusterSpec& c = ctx_.sc.cluster;
  core::BasicStoreConfig config;
  config.name = name_;
  config.max_memory_bytes = c.memory_bytes;
  config.eviction.policy = c.eviction;
  config.filter_enabled = c.filter;
  // Sized for the entries the budget can hold at the workload's mean value
  // size (the core's default assumes 64-byte entries: far too big a filter
  // for kilobyte values, and a cache miss on every lookup).
  const double entry_bytes = ctx_.sc.workload.value_bytes.mean() +
                             static_cast<double>(ctx_.sc.workload.key_prefix.size()) + 8.0 + kEntryOverheadBytes;
  config.filter_expected_items = std::max<std::uint64_t>(
      64, static_cast<std::uint64_t>(static_cast<double>(c.memory_bytes) / entry_bytes));
  auto store = core::BasicStore::create(std::move(config), ctx_.sim, store_random_);
  if (!store.is_ok()) return core::Status::error(fmt::format("node {}: {}", name_, store.status().message()));
  store_ = std::move(store).value();
  // Without a sweep, entries nobody reads again would hold memory (and
  // count as items) forever after they expire.
  if (ctx_.sc.workload.ttl_ns > 0) ctx_.sim.after(kExpiryPeriodNs, [this] { expire_tick(); });
  return core::Status::ok();
}

void NodeHost::expire_tick() {
  // Like Redis's cycle: keep sweeping while a quarter or more of the sampled
  // entries had expired, within a bounded effort per tick.
  for (int i = 0; i < kExpiryCallsPerTick && state_ != State::kCrashed; ++i) {
    const core::ExpiryStep step = store_->active_expire();
    if (step.sampled == 0 || step.expired * 4 < step.sampled) break;
  }
  ctx_.sim.after(kExpiryPeriodNs, [this] { expire_tick(); });
}

void NodeHost::on_message(const Message& m) {
  switch (m.type) {
    case protocol::kGet:
    case protocol::kSet:
    case protocol::kDel:
      break;
    case protocol::kReply: {
      // proxy mode: the owner's answer to a request this node forwarded.
      Message relay = m;
      relay.from = endpoint_;
      relay.to = static_cast<EndpointId>(m.aux);
      relay.flags = static_cast<std::uint16_t>(m.flags & ~protocol::kForwarded);
      ctx_.net.send(relay);
      return;
    }
    default:
      on_control_(*this, m);
      return;
  }
  if (ctx_.proxy_routing && !(m.flags & protocol::kForwarded)) {
    EndpointId owner = endpoint_;
    const std::string_view key = ctx_.key_name(m.key, key_buffer_);
    const bool routed = router_ ? router_(key, owner) : ctx_.route(key, owner);
    if (routed && owner != endpoint_) {
      Message fwd = m;
      fwd.from = endpoint_;
      fwd.to = owner;
      fwd.aux = m.from;
      fwd.flags = static_cast<std::uint16_t>(m.flags | protocol::kForwarded);
      ++ctx_.interval.forwards;
      ctx_.net.send(fwd);
      return;
    }
  }
  admit(m);
}

Message NodeHost::reply_to(const Message& m) const {
  Message reply = m;  // keeps request_id, key and (proxy mode) aux
  reply.type = protocol::kReply;
  reply.from = endpoint_;
  reply.to = m.from;
  reply.flags = static_cast<std::uint16_t>(m.flags & protocol::kForwarded);
  reply.value_bytes = 0;
  reply.bytes = protocol::kHeaderBytes;
  return reply;
}

void NodeHost::admit(const Message& m) {
  if (busy_ < ctx_.sc.cluster.workers) {
    start_service(m);
    return;
  }
  if (queue_.size() < ctx_.sc.cluster.queue_limit) {
    queue_.push_back(m);
    return;
  }
  Message reply = reply_to(m);
  reply.flags |= protocol::kBusy;
  ctx_.net.send(reply);
}

void NodeHost::start_service(const Message& m) {
  ++busy_;
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    in_service_[slot] = m;
  } else {
    slot = static_cast<std::uint32_t>(in_service_.size());
    in_service_.push_back(m);
  }
  const ServiceTimes& st = ctx_.sc.cluster.service;
  const Distribution& d = m.type == protocol::kGet ? st.get : (m.type == protocol::kSet ? st.set : st.del);
  const TimeNs service_ns = d.sample_int(service_random_);
  const std::uint64_t epoch = epoch_;
  ctx_.sim.after(service_ns, [this, slot, epoch] { complete(slot, epoch); });
}

void NodeHost::complete(std::uint32_t slot, std::uint64_t epoch) {
  if (epoch != epoch_) return;  // the node crashed meanwhile: the request is lost
  const Message request = in_service_[slot];
  free_slots_.push_back(slot);
  --busy_;
  ++served_interval;
  ++served_total;
  ctx_.net.send(execute(request));
  if (!queue_.empty() && busy_ < ctx_.sc.cluster.workers) {
    const Message next = queue_.front();
    queue_.pop_front();
    start_service(next);
  }
}

Message NodeHost::execute(const Message& m) {
  const std::string_view key = ctx_.key_name(m.key, key_buffer_);
  Message reply = reply_to(m);
  const core::HashedKey hk(key);
  switch (m.type) {
    case protocol::kGet: {
      const core::GetResult r = store_->get(hk);
      if (r.found) {
        reply.flags |= protocol::kHit;
        reply.value_bytes = r.value_bytes;
        reply.bytes += static_cast<std::uint32_t>(r.value_bytes);
      }
      break;
    }
    case protocol::kSet: {
      const TimeNs ttl = ctx_.sc.workload.ttl_ns;
      const core::Status s = store_->set_size_only(
          hk, m.value_bytes, ttl > 0 ? std::optional<TimeNs>(ttl) : std::nullopt);
      if (!s.is_ok()) reply.flags |= protocol::kFailed;
      break;
    }
    case protocol::kDel:
      if (store_->del(hk)) reply.flags |= protocol::kHit;
      break;
    default:
      assert(false);
  }
  return reply;
}

void NodeHost::crash() {
  state_ = State::kCrashed;
  ++epoch_;
  ctx_.net.set_down(endpoint_, true);
  queue_.clear();
  in_service_.clear();
  free_slots_.clear();
  busy_ = 0;
  store_->clear();
}

void NodeHost::restart() {
  state_ = State::kMember;
  ctx_.net.set_down(endpoint_, false);
}

void NodeHost::leave() { state_ = State::kLeft; }

}  // namespace hcsim::sim
