#include "core/cluster/swim_membership.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>

#include "core/protocol/binary_codec.h"
#include "core/util/absl_compat.h"

namespace hcsim::core::cluster {

using protocol::MemberUpdate;
using protocol::MessageType;
using protocol::SwimMessage;

namespace {

// An upper bound of one update's encoded size (varints at their widest).
std::size_t update_bytes(const MemberUpdate& u) {
  std::size_t n = 1 + 5 + 5 + 2 + u.node.size() + u.from.size() + 1;
  for (const auto& [k, v] : u.metadata) n += 2 + k.size() + v.size();
  return n;
}

// Frame, type, sequence, names and address at their widest: magic, version
// and type (3), payload length (3), seq (5), two string lengths (2), target
// address (5), join (1), update count (2), checksum (4).
std::size_t base_bytes(const SwimMessage& m) { return 25 + m.sender.size() + m.target.size(); }

}  // namespace

Status validate(const SwimConfig& c) {
  if (c.probe_interval_ns <= 0) return Status::error("probe_interval must be positive");
  if (c.probe_timeout_ns <= 0 || c.probe_timeout_ns >= c.probe_interval_ns) {
    return Status::error("probe_timeout must be positive and below probe_interval");
  }
  if (c.suspicion_mult < 1) return Status::error("suspicion_mult must be at least 1");
  if (c.retransmit_mult < 1) return Status::error("retransmit_mult must be at least 1");
  if (c.gossip_interval_ns <= 0) return Status::error("gossip_interval must be positive");
  if (c.gossip_nodes < 1) return Status::error("gossip_nodes must be at least 1");
  if (c.indirect_checks > 64) return Status::error("indirect_checks must be at most 64");
  if (c.gossip_nodes > 64) return Status::error("gossip_nodes must be at most 64");
  if (c.push_pull_interval_ns < 0) return Status::error("push_pull_interval must not be negative");
  if (c.gossip_to_dead_ns < 0) return Status::error("gossip_to_dead must not be negative");
  if (c.join_retry_ns <= 0) return Status::error("join_retry must be positive");
  if (c.leave_linger_ns < 0) return Status::error("leave_linger must not be negative");
  if (c.packet_bytes_max < 256 || c.packet_bytes_max > protocol::kMaxFrameBytes) {
    return Status::error("packet_bytes_max must be in 256..65536");
  }
  if (c.members_max < 1 || c.members_max > protocol::kMaxUpdates) {
    return Status::error("members_max must be in 1..4096");
  }
  return Status::ok();
}

TimeNs suspicion_timeout_ns(const SwimConfig& config, std::size_t members) {
  const double scale = std::max(1.0, std::log10(static_cast<double>(std::max<std::size_t>(members, 1))));
  return static_cast<TimeNs>(static_cast<double>(config.suspicion_mult) * scale *
                             static_cast<double>(config.probe_interval_ns));
}

std::uint32_t retransmit_limit(const SwimConfig& config, std::size_t members) {
  const double scale = std::ceil(std::log10(static_cast<double>(members) + 1.0));
  return config.retransmit_mult * static_cast<std::uint32_t>(scale);
}

SwimMembership::SwimMembership(std::string self, SwimConfig config, Runtime runtime)
    : self_(std::move(self)), config_(config), rt_(runtime) {
  assert(validate(config_).is_ok());
  assert(rt_.clock && rt_.timers && rt_.random && rt_.transport);
}

SwimMembership::~SwimMembership() { ++*generation_; }

TimerId SwimMembership::after(TimeNs delay_ns, std::function<void()> fn) {
  return rt_.timers->schedule(delay_ns, [life = generation_, gen = *generation_, fn = std::move(fn)] {
    if (*life == gen) fn();
  });
}

void SwimMembership::cancel(TimerId& id) {
  if (id != 0) rt_.timers->cancel(id);
  id = 0;
}

Status SwimMembership::check_metadata(const SwimMetadata& metadata) const {
  if (metadata.size() > protocol::kMaxMetadataPairs) return Status::error("metadata has more than 64 pairs");
  for (const auto& [k, v] : metadata) {
    if (k.size() > protocol::kMaxStringBytes || v.size() > protocol::kMaxStringBytes) {
      return Status::error("metadata key or value is longer than 255 bytes");
    }
  }
  // It must fit a gossip message (no target) on its own, or it could never be piggybacked.
  MemberUpdate u;
  u.node = self_;
  u.metadata = metadata;
  SwimMessage gossip;
  gossip.sender = self_;
  const std::size_t bytes = base_bytes(gossip) + update_bytes(u);
  if (bytes > config_.packet_bytes_max) {
    return Status::error("metadata needs " + std::to_string(bytes) + " bytes, above packet_bytes_max " +
                         std::to_string(config_.packet_bytes_max));
  }
  return Status::ok();
}

Status SwimMembership::start(SwimMetadata metadata) {
  if (started_) return Status::error("membership already started");
  if (self_.empty() || self_.size() > protocol::kMaxStringBytes) {
    return Status::error("node id must be 1..255 bytes");
  }
  if (Status s = check_metadata(metadata); !s.is_ok()) return s;
  started_ = true;
  running_ = true;
  Entry me;
  me.node = self_;
  me.address = rt_.transport->self();
  me.metadata = std::move(metadata);
  me.state_change_ns = me.joined_at_ns = rt_.clock->now();
  members_.push_back(std::move(me));
  queued_.emplace_back();
  index_.emplace(self_, 0);
  ++counts_[static_cast<std::size_t>(MemberState::kAlive)];
  rt_.transport->set_receiver(
      [this, life = generation_, gen = *generation_](TransportAddress from, std::string_view bytes) {
        if (*life == gen) on_receive(from, bytes);
      });
  // Spread the first probe over one period so that nodes started together
  // do not probe in lockstep.
  after(static_cast<TimeNs>(rt_.random->uniform(static_cast<std::uint64_t>(config_.probe_interval_ns))),
        [this] { probe_tick(); });
  after(static_cast<TimeNs>(rt_.random->uniform(static_cast<std::uint64_t>(config_.gossip_interval_ns))),
        [this] { gossip_tick(); });
  if (config_.push_pull_interval_ns > 0) after(config_.push_pull_interval_ns, [this] { push_pull_tick(); });
  return Status::ok();
}

Status SwimMembership::add_known_member(std::string_view node, TransportAddress address) {
  if (!running_) return Status::error("membership is not running");
  if (node.empty() || node.size() > protocol::kMaxStringBytes) return Status::error("node id must be 1..255 bytes");
  if (index_.contains(to_absl(node))) return Status::error("member " + std::string(node) + " already known");
  if (members_.size() >= config_.members_max) return Status::error("membership is full");
  const Index i = add_member(std::string(node), address, 0, {});
  notify(i, std::nullopt);
  return Status::ok();
}

Status SwimMembership::join(std::span<const TransportAddress> seeds) {
  if (!running_) return Status::error("membership is not running");
  std::vector<TransportAddress> targets;
  for (TransportAddress s : seeds) {
    if (s != rt_.transport->self()) targets.push_back(s);
  }
  if (targets.empty()) {
    joined_ = true;
    return Status::ok();
  }
  join_tick(std::move(targets), 0);
  return Status::ok();
}

void SwimMembership::join_tick(std::vector<TransportAddress> seeds, std::uint32_t attempt) {
  if (joined_ || !running_) return;
  if (attempt >= config_.join_attempts) return;
  for (TransportAddress s : seeds) send_sync(s, MessageType::kSync, /*join=*/true);
  after(config_.join_retry_ns,
        [this, seeds = std::move(seeds), attempt]() mutable { join_tick(std::move(seeds), attempt + 1); });
}

Status SwimMembership::leave() {
  if (!running_) return Status::error("membership is not running");
  if (leaving_) return Status::error("already leaving");
  leaving_ = true;
  Entry& me = members_[0];
  --counts_[static_cast<std::size_t>(me.state)];
  me.state = MemberState::kLeft;
  ++counts_[static_cast<std::size_t>(me.state)];
  me.from = self_;
  me.state_change_ns = rt_.clock->now();
  queue_news(0);
  gossip_round();  // at once, not at the next tick
  after(config_.leave_linger_ns, [this] { stop(); });
  return Status::ok();
}

void SwimMembership::stop() {
  if (!running_) return;
  running_ = false;
  ++*generation_;
  for (Entry& e : members_) e.suspicion_timer = 0;  // their callbacks are void now
  probe_ = Probe{};
  relays_.clear();
}

Status SwimMembership::update_metadata(SwimMetadata metadata) {
  if (!running_ || leaving_) return Status::error("membership is not running");
  if (Status s = check_metadata(metadata); !s.is_ok()) return s;
  Entry& me = members_[0];
  me.metadata = std::move(metadata);
  ++me.incarnation;
  queue_news(0);
  notify(0, MemberState::kAlive);
  return Status::ok();
}

const SwimMember* SwimMembership::find(std::string_view node) const {
  const auto it = index_.find(to_absl(node));
  return it == index_.end() ? nullptr : &members_[it->second];
}

std::vector<SwimMember> SwimMembership::members() const {
  std::vector<SwimMember> out(members_.begin(), members_.end());
  std::sort(out.begin(), out.end(), [](const SwimMember& a, const SwimMember& b) { return a.node < b.node; });
  return out;
}

// ---- receiving -------------------------------------------------------------

void SwimMembership::on_receive(TransportAddress from, std::string_view bytes) {
  if (!running_) return;
  ++stats_.messages_received;
  stats_.bytes_received += bytes.size();
  Result<SwimMessage> decoded = protocol::decode(bytes);
  if (!decoded.is_ok()) {
    ++stats_.decode_errors;
    return;
  }
  handle(from, decoded.value());
}

void SwimMembership::handle(TransportAddress from, SwimMessage& m) {
  const bool sync = m.type == MessageType::kSync || m.type == MessageType::kSyncReply;
  if (!sync && !m.sender.empty() && m.sender != self_) {
    // A member we never heard of, or believe dead, talks to us: we missed
    // its join or its refutation (the news ran out before it reached us).
    const auto known = index_.find(to_absl(m.sender));
    if (known == index_.end() || members_[known->second].state == MemberState::kDead) ask_state(from, m.sender);
  }
  // News first: a ping that carries our own death makes the ack carry the
  // refutation.
  for (const MemberUpdate& u : m.updates) apply(u, sync);
  if (!running_) return;
  switch (m.type) {
    case MessageType::kPing: {
      if (m.target != self_) return;  // meant for an earlier owner of this address
      SwimMessage ack;
      ack.type = MessageType::kAck;
      ack.seq = m.seq;
      send(from, ack);
      return;
    }
    case MessageType::kIndirectPing: {
      if (relays_.size() >= kMaxRelays || m.target == self_) return;
      const std::uint32_t seq = next_seq_++;
      Relay r{from, m.seq, 0};
      r.expiry = after(config_.probe_timeout_ns, [this, seq] { relays_.erase(seq); });
      relays_[seq] = r;
      ++stats_.relayed_probes;
      SwimMessage ping;
      ping.type = MessageType::kPing;
      ping.seq = seq;
      ping.target = m.target;
      send(m.target_address, ping);
      return;
    }
    case MessageType::kAck: {
      if (probe_.active && m.seq == probe_.seq) {
        probe_.acked = true;
        cancel(probe_.timeout_timer);
        return;
      }
      const auto it = relays_.find(m.seq);
      if (it == relays_.end()) return;
      SwimMessage ack;
      ack.type = MessageType::kAck;
      ack.seq = it->second.origin_seq;
      const TransportAddress origin = it->second.origin;
      cancel(it->second.expiry);
      relays_.erase(it);
      send(origin, ack);
      return;
    }
    case MessageType::kGossip:
      return;
    case MessageType::kSync:
      send_sync(from, MessageType::kSyncReply, false);
      return;
    case MessageType::kSyncReply:
      joined_ = true;
      return;
  }
}

void SwimMembership::ask_state(TransportAddress from, const std::string& sender) {
  // One state exchange with it fixes that (and teaches it what it may have
  // missed too); at most one per sender per probe period.
  const TimeNs now = rt_.clock->now();
  if (asked_.size() >= kMaxAsked) asked_.clear();
  auto [it, fresh] = asked_.try_emplace(sender, now);
  if (!fresh && now - it->second < config_.probe_interval_ns) return;
  it->second = now;
  send_sync(from, MessageType::kSync, false);
}

void SwimMembership::apply(const MemberUpdate& u, bool from_sync) {
  if (!running_) return;
  switch (u.state) {
    case MemberState::kAlive:
      on_alive(u);
      return;
    case MemberState::kSuspect:
      on_suspect(u);
      return;
    case MemberState::kDead:
      // As memberlist: a death learned from a state exchange (not seen
      // happen) is only a suspicion here, which gives the member its chance
      // to refute.
      if (from_sync) {
        on_suspect(u);
      } else {
        on_dead(u, false);
      }
      return;
    case MemberState::kLeft:
      on_dead(u, true);
      return;
  }
}

void SwimMembership::on_alive(const MemberUpdate& u) {
  const auto it = index_.find(u.node);
  if (it == index_.end()) {
    if (u.node.empty()) return;
    if (members_.size() >= config_.members_max) {  // dead members are kept, not reaped: see SwimConfig
      ++stats_.members_refused;
      return;
    }
    const Index i = add_member(u.node, u.address, u.incarnation, u.metadata);
    queue_news(i);
    notify(i, std::nullopt);
    return;
  }
  const Index i = it->second;
  Entry& m = members_[i];
  if (i == 0) {
    // Someone has a newer incarnation of us than we do (we restarted and
    // lost count): go above it.
    if (u.incarnation >= m.incarnation && (u.incarnation > m.incarnation || u.metadata != m.metadata) && !leaving_) {
      refute(u.incarnation);
    }
    return;
  }
  if (u.incarnation <= m.incarnation) return;
  const std::optional<MemberState> before = m.state;
  cancel(m.suspicion_timer);
  m.address = u.address;
  m.metadata = u.metadata;
  set_state(i, MemberState::kAlive, u.incarnation, "");
  queue_news(i);
  notify(i, before);
}

void SwimMembership::on_suspect(const MemberUpdate& u) {
  const auto it = index_.find(u.node);
  if (it == index_.end()) return;
  const Index i = it->second;
  Entry& m = members_[i];
  if (u.incarnation < m.incarnation) {
    if (i == 0) restate();
    return;
  }
  if (m.state == MemberState::kDead || m.state == MemberState::kLeft) return;
  if (i == 0) {
    if (!leaving_) refute(u.incarnation);
    return;
  }
  if (m.state == MemberState::kSuspect && u.incarnation == m.incarnation) return;  // already known
  const std::optional<MemberState> before = m.state;
  cancel(m.suspicion_timer);
  set_state(i, MemberState::kSuspect, u.incarnation, u.from);
  const std::uint32_t inc = u.incarnation;
  m.suspicion_timer = after(suspicion_timeout_ns(config_, members_.size()), [this, i, inc] {
    Entry& s = members_[i];
    s.suspicion_timer = 0;
    if (s.state != MemberState::kSuspect || s.incarnation != inc) return;
    set_state(i, MemberState::kDead, inc, self_);
    queue_news(i);
    notify(i, MemberState::kSuspect);
  });
  queue_news(i);
  notify(i, before);
}

void SwimMembership::on_dead(const MemberUpdate& u, bool left) {
  const auto it = index_.find(u.node);
  if (it == index_.end()) return;
  const Index i = it->second;
  Entry& m = members_[i];
  if (u.incarnation < m.incarnation) {
    if (i == 0) restate();
    return;
  }
  if (m.state == MemberState::kLeft) return;
  if (m.state == MemberState::kDead && !left) return;
  if (i == 0) {
    if (!leaving_) refute(u.incarnation);
    return;
  }
  const std::optional<MemberState> before = m.state;
  cancel(m.suspicion_timer);
  set_state(i, left ? MemberState::kLeft : MemberState::kDead, u.incarnation, u.from);
  queue_news(i);
  notify(i, before);
}

void SwimMembership::refute(std::uint32_t accused_incarnation) {
  Entry& me = members_[0];
  me.incarnation = std::max(me.incarnation, accused_incarnation) + 1;
  ++stats_.refutations;
  queue_news(0);
}

void SwimMembership::restate() {
  // Someone still spreads an old suspicion or death of ours: it missed the
  // refutation. Our current state goes out again (piggybacked first on the
  // reply to that very message), without a new incarnation.
  if (leaving_) return;
  ++stats_.restatements;
  queue_news(0);
}

void SwimMembership::set_state(Index i, MemberState state, std::uint32_t incarnation, std::string_view from) {
  Entry& m = members_[i];
  if (state == MemberState::kDead && m.state != MemberState::kDead && config_.reconnect_dead) {
    const bool listed = std::any_of(recent_dead_.begin(), recent_dead_.end(),
                                    [i](const RecentDead& r) { return r.member == i; });
    if (!listed) recent_dead_.push_back({i, 0});
  }
  if (m.state != state) {
    --counts_[static_cast<std::size_t>(m.state)];
    ++counts_[static_cast<std::size_t>(state)];
    m.state = state;
  }
  m.incarnation = incarnation;
  m.from = std::string(from);
  m.state_change_ns = rt_.clock->now();
}

void SwimMembership::notify(Index i, std::optional<MemberState> before) {
  if (listener_) listener_(members_[i], before);
}

// ---- probing -----------------------------------------------------------------

SwimMembership::Index SwimMembership::add_member(std::string node, TransportAddress address,
                                                std::uint32_t incarnation, SwimMetadata metadata) {
  Entry e;
  e.node = std::move(node);
  e.address = address;
  e.incarnation = incarnation;
  e.metadata = std::move(metadata);
  e.state_change_ns = e.joined_at_ns = rt_.clock->now();
  const Index i = static_cast<Index>(members_.size());
  index_.emplace(e.node, i);
  members_.push_back(std::move(e));
  queued_.emplace_back();
  ++counts_[static_cast<std::size_t>(MemberState::kAlive)];
  insert_probe_order(i);
  return i;
}

void SwimMembership::insert_probe_order(Index i) {
  // A random place in the probe order (as memberlist does), so that members
  // learned in the same order are not probed by everyone at the same time.
  probe_order_.push_back(i);
  std::swap(probe_order_.back(), probe_order_[rt_.random->uniform(probe_order_.size())]);
}

SwimMembership::Index SwimMembership::next_probe_target() {
  for (int round = 0; round < 2; ++round) {
    while (probe_pos_ < probe_order_.size()) {
      const Index i = probe_order_[probe_pos_++];
      const MemberState s = members_[i].state;
      if (s == MemberState::kAlive || s == MemberState::kSuspect) return i;
    }
    // End of a round: a fresh random order (Fisher-Yates).
    for (std::size_t k = probe_order_.size(); k > 1; --k) {
      std::swap(probe_order_[k - 1], probe_order_[rt_.random->uniform(k)]);
    }
    probe_pos_ = 0;
  }
  return kNone;
}

void SwimMembership::probe_tick() {
  after(config_.probe_interval_ns, [this] { probe_tick(); });
  if (leaving_) return;
  // The previous probe's period is over: no ack, direct or indirect, means suspicion.
  if (probe_.active && !probe_.acked) {
    const Entry& t = members_[probe_.target];
    if (t.state == MemberState::kAlive) {
      ++stats_.suspicions;
      MemberUpdate u;
      u.state = MemberState::kSuspect;
      u.node = t.node;
      u.incarnation = t.incarnation;
      u.from = self_;
      on_suspect(u);
    }
  }
  cancel(probe_.timeout_timer);
  probe_ = Probe{};
  if (config_.reconnect_dead) {
    reconnect_ping();
    recheck_recent_dead();
  }

  const Index target = next_probe_target();
  if (target == kNone) return;
  probe_.active = true;
  probe_.target = target;
  probe_.seq = next_seq_++;
  ++stats_.probes;
  SwimMessage ping;
  ping.type = MessageType::kPing;
  ping.seq = probe_.seq;
  ping.target = members_[target].node;
  send(members_[target].address, ping);
  const std::uint32_t seq = probe_.seq;
  probe_.timeout_timer = after(config_.probe_timeout_ns, [this, seq] { probe_timeout(seq); });
}

void SwimMembership::probe_timeout(std::uint32_t seq) {
  if (!probe_.active || probe_.seq != seq) return;
  probe_.timeout_timer = 0;
  if (probe_.acked) return;
  const Index target = probe_.target;
  const std::vector<Index> helpers =
      random_members(config_.indirect_checks, target, [](const Entry& e) { return e.state == MemberState::kAlive; });
  for (Index h : helpers) {
    ++stats_.indirect_probes;
    SwimMessage req;
    req.type = MessageType::kIndirectPing;
    req.seq = seq;
    req.target = members_[target].node;
    req.target_address = members_[target].address;
    send(members_[h].address, req);
  }
}

void SwimMembership::reconnect_ping() {
  const std::size_t dead = count(MemberState::kDead);
  if (dead == 0) return;
  const std::size_t others = std::max<std::size_t>(live_members(), 2) - 1;
  // Probability dead/others, capped at 1: about one ping per dead member
  // per period over the whole cluster.
  if (rt_.random->uniform(others) >= dead) return;
  const std::vector<Index> pick =
      random_members(1, kNone, [](const Entry& e) { return e.state == MemberState::kDead; });
  if (!pick.empty()) send_reconnect(pick[0]);
}

void SwimMembership::recheck_recent_dead() {
  // Pings at 1, 2, 4, 8 and 16 periods after the death: a false death held
  // by a few members (their refutation news ran out) is undone in seconds.
  const TimeNs now = rt_.clock->now();
  std::size_t kept = 0;
  for (RecentDead& r : recent_dead_) {
    const Entry& e = members_[r.member];
    if (e.state != MemberState::kDead) continue;  // revived or left: done
    const TimeNs due = e.state_change_ns + (TimeNs{1} << r.step) * config_.probe_interval_ns;
    if (now >= due) {
      send_reconnect(r.member);
      ++r.step;
    }
    if (r.step < kRecentDeadPings) recent_dead_[kept++] = r;
  }
  recent_dead_.resize(kept);
}

void SwimMembership::send_reconnect(Index i) {
  ++stats_.reconnect_pings;
  SwimMessage ping;
  ping.type = MessageType::kPing;
  ping.seq = next_seq_++;
  ping.target = members_[i].node;
  ping.updates.push_back(update_of(i));  // its death, so that a live member refutes it
  send(members_[i].address, ping, /*piggyback=*/false);
}

template <typename Pred>
std::vector<SwimMembership::Index> SwimMembership::random_members(std::size_t k, Index exclude, Pred eligible) {
  std::vector<Index> out;
  const std::size_t n = members_.size();
  if (k == 0 || n <= 1) return out;
  auto ok = [&](Index i) {
    return i != 0 && i != exclude && eligible(members_[i]) && std::find(out.begin(), out.end(), i) == out.end();
  };
  // Rejection sampling is O(k) when most members are eligible; a bounded
  // number of tries, then one scan from a random start.
  for (std::size_t tries = 0; out.size() < k && tries < 4 * k + 8; ++tries) {
    const Index i = static_cast<Index>(rt_.random->uniform(n));
    if (ok(i)) out.push_back(i);
  }
  if (out.size() < k) {
    const std::size_t start = rt_.random->uniform(n);
    for (std::size_t step = 0; step < n && out.size() < k; ++step) {
      const Index i = static_cast<Index>((start + step) % n);
      if (ok(i)) out.push_back(i);
    }
  }
  return out;
}

// ---- dissemination -------------------------------------------------------------

void SwimMembership::gossip_tick() {
  after(config_.gossip_interval_ns, [this] { gossip_tick(); });
  gossip_round();
}

void SwimMembership::gossip_round() {
  if (queue_.empty()) return;
  const TimeNs now = rt_.clock->now();
  const std::vector<Index> targets = random_members(config_.gossip_nodes, kNone, [&](const Entry& e) {
    return e.state == MemberState::kAlive || e.state == MemberState::kSuspect ||
           (e.state == MemberState::kDead && now - e.state_change_ns < config_.gossip_to_dead_ns);
  });
  for (Index t : targets) {
    if (queue_.empty()) break;
    SwimMessage g;
    g.type = MessageType::kGossip;
    send(members_[t].address, g);
  }
}

void SwimMembership::push_pull_tick() {
  // memberlist's scaling: beyond 32 members, the interval grows with log2(n).
  const double n = static_cast<double>(live_members());
  const double scale = n <= 32 ? 1.0 : std::ceil(std::log2(n) - 5.0) + 1.0;
  after(static_cast<TimeNs>(static_cast<double>(config_.push_pull_interval_ns) * scale), [this] { push_pull_tick(); });
  if (leaving_) return;
  const std::vector<Index> pick =
      random_members(1, kNone, [](const Entry& e) { return e.state == MemberState::kAlive; });
  if (!pick.empty()) send_sync(members_[pick[0]].address, MessageType::kSync, false);
}

// The full state, in as many frames as it takes: the first of `type` (a
// kSync asks for one reply), the rest as kSyncReply, which the receiver
// applies the same way without answering.
void SwimMembership::send_sync(TransportAddress to, MessageType type, bool join) {
  if (type == MessageType::kSync) ++stats_.syncs;
  SwimMessage m;
  m.type = type;
  m.join = join;
  m.sender = self_;
  std::size_t bytes = base_bytes(m);
  for (Index i = 0; i < members_.size(); ++i) {
    MemberUpdate u = update_of(i);
    const std::size_t u_bytes = update_bytes(u);
    if (bytes + u_bytes > protocol::kMaxFrameBytes || m.updates.size() == protocol::kMaxUpdates) {
      send(to, m, /*piggyback=*/false);
      m.type = MessageType::kSyncReply;
      m.updates.clear();
      bytes = base_bytes(m);
    }
    bytes += u_bytes;
    m.updates.push_back(std::move(u));
  }
  send(to, m, /*piggyback=*/false);
}

protocol::MemberUpdate SwimMembership::update_of(Index i) const {
  const Entry& e = members_[i];
  MemberUpdate u;
  u.state = e.state;
  u.incarnation = e.incarnation;
  u.address = e.address;
  u.node = e.node;
  u.from = e.from;
  if (e.state == MemberState::kAlive) u.metadata = e.metadata;
  return u;
}

void SwimMembership::queue_news(Index i) {
  if (queued_[i]) queue_.erase(*queued_[i]);
  // Newest first among equals: the serial counts down.
  const NewsKey key{0, ~std::uint64_t{0} - news_serial_++, i};
  queue_.insert(key);
  queued_[i] = key;
}

void SwimMembership::fill_news(SwimMessage& m, std::size_t budget) {
  if (queue_.empty()) return;
  const std::uint32_t limit = retransmit_limit(config_, members_.size());
  std::vector<NewsKey> sent;
  for (auto it = queue_.begin(); it != queue_.end() && m.updates.size() < protocol::kMaxUpdates; ++it) {
    MemberUpdate u = update_of(std::get<2>(*it));
    const std::size_t bytes = update_bytes(u);
    if (bytes > budget) continue;
    budget -= bytes;
    m.updates.push_back(std::move(u));
    sent.push_back(*it);
    if (budget < 16) break;
  }
  for (const NewsKey& k : sent) {
    queue_.erase(k);
    const Index i = std::get<2>(k);
    const std::uint32_t transmits = std::get<0>(k) + 1;
    if (transmits >= limit) {
      queued_[i].reset();
    } else {
      const NewsKey next{transmits, std::get<1>(k), i};
      queue_.insert(next);
      queued_[i] = next;
    }
  }
  stats_.news_sent += sent.size();
}

void SwimMembership::send(TransportAddress to, SwimMessage& m, bool piggyback) {
  m.sender = self_;
  if (piggyback) {
    const std::size_t base = base_bytes(m);
    if (base < config_.packet_bytes_max) fill_news(m, config_.packet_bytes_max - base);
  }
  std::string bytes = protocol::encode(m);
  ++stats_.messages_sent;
  stats_.bytes_sent += bytes.size();
  rt_.transport->send(to, std::move(bytes));
}

}  // namespace hcsim::core::cluster
