#include "sim/cluster/membership_sim.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include <fmt/format.h>

#include "core/hash/key_hash.h"
#include "core/util/absl_compat.h"

namespace hcsim::sim {

using core::cluster::DistributedCoordinator;
using core::cluster::SwimMember;
using core::protocol::MemberState;

namespace {

double seconds(TimeNs ns) { return static_cast<double>(ns) / 1e9; }

// Quantile of sorted values by the nearest-rank rule.
double nearest_rank(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

std::string delay_cell(TimeNs at_ns, TimeNs from_ns) {
  return at_ns >= 0 ? format_number(seconds(at_ns - from_ns)) : "";
}

}  // namespace

struct MembershipLayer::Node {
  std::string name;
  EndpointId endpoint = 0;
  std::uint32_t number = 0;
  std::unique_ptr<NodeRuntime> rt;
  std::unique_ptr<DistributedCoordinator> coord;
  bool running = false;           // the ground truth: its process is up and a member
  TimeNs paused_until_ns = -1;
  std::uint64_t alive_seen = 0;   // running subjects it sees alive
  std::optional<std::size_t> open_crash;
  std::uint64_t refutations_before = 0;  // of earlier coordinators (restarts)

  bool sees_alive(const std::string& subject) const {
    if (!coord || !coord->swim()) return false;
    const SwimMember* m = coord->swim()->find(subject);
    return m && m->state == MemberState::kAlive;
  }
};

MembershipLayer::MembershipLayer(ClusterContext& ctx) : ctx_(ctx), spec_(ctx.sc.membership) {}

MembershipLayer::~MembershipLayer() {
  // Coordinators first: their destructors touch their runtimes.
  for (auto& n : nodes_) n->coord.reset();
}

MembershipLayer::Node* MembershipLayer::by_name(std::string_view name) {
  const auto it = index_.find(core::to_absl(name));
  return it == index_.end() ? nullptr : nodes_[it->second].get();
}

void MembershipLayer::add_node(const std::string& name, EndpointId endpoint, std::uint32_t number) {
  auto n = std::make_unique<Node>();
  n->name = name;
  n->endpoint = endpoint;
  n->number = number;
  n->rt = std::make_unique<NodeRuntime>(ctx_.sim, ctx_.net, endpoint,
                                        Simulator::stream_seed(ctx_.sc.seed, StreamKind::kMember, number));
  if (by_endpoint_.size() <= endpoint) by_endpoint_.resize(endpoint + 1, nullptr);
  by_endpoint_[endpoint] = n.get();
  index_.emplace(name, static_cast<std::uint32_t>(nodes_.size()));
  nodes_.push_back(std::move(n));
}

std::vector<core::TransportAddress> MembershipLayer::seeds_for(const Node& n, bool initial) const {
  std::vector<core::TransportAddress> out;
  std::vector<std::string> names = spec_.seeds;
  if (names.empty()) names.push_back(ctx_.sc.cluster.node_prefix + "1");
  for (const std::string& s : names) {
    const auto it = index_.find(s);
    if (it != index_.end() && s != n.name) out.push_back(nodes_[it->second]->endpoint);
  }
  // The only seed is this node. On the first start it founds the cluster;
  // later (a restart) it asks the first other nodes by creation order, as
  // an operator's fuller seed list would.
  if (out.empty() && !initial) {
    for (const auto& other : nodes_) {
      if (other.get() != &n && out.size() < 3) out.push_back(other->endpoint);
    }
  }
  return out;
}

core::Status MembershipLayer::start_node(Node& n, Start how) {
  core::cluster::ClusterConfig cfg;
  cfg.node_id = n.name;
  cfg.hash_ring.vnodes_per_node = ctx_.sc.cluster.vnodes;
  cfg.hash_ring.hash = core::parse_hash_kind(ctx_.sc.cluster.hash).value_or(core::HashKind::kXxh64);
  cfg.hash_ring.replication_factor = 1;
  if (how != Start::kStatic) cfg.seed_nodes = seeds_for(n, how == Start::kInitialJoin);
  auto created = DistributedCoordinator::create(
      cfg, spec_.swim, {.clock = n.rt.get(), .timers = n.rt.get(), .random = &n.rt->random(), .transport = &n.rt->transport()});
  if (!created.is_ok()) return created.status();
  if (n.coord) n.refutations_before += n.coord->swim() ? n.coord->swim()->stats().refutations : 0;
  n.coord = std::move(created).value();
  Node* self = &n;
  n.coord->set_member_observer(
      [this, self](const SwimMember& m, std::optional<MemberState> before) { on_change(*self, m, before); });
  // Running first, so that what it learns from now on counts.
  n.running = true;
  ++running_;
  n.alive_seen = 0;
  for (const auto& o : nodes_) {
    if (o.get() != &n && o->running && o->sees_alive(n.name)) {
      ++alive_pairs_;
      ++o->alive_seen;
    }
  }
  if (core::Status s = n.coord->start(); !s.is_ok()) return s;
  return core::Status::ok();
}

core::Status MembershipLayer::start_initial(const std::vector<std::string>& names) {
  watch("start");
  const bool is_static = spec_.bootstrap == "static";
  if (is_static) {
    std::vector<std::pair<std::string, core::TransportAddress>> all;
    for (const std::string& name : names) all.emplace_back(name, by_name(name)->endpoint);
    for (const std::string& name : names) {
      Node& n = *by_name(name);
      if (core::Status s = start_node(n, Start::kStatic); !s.is_ok()) return s;
      std::vector<std::pair<std::string, core::TransportAddress>> others;
      others.reserve(all.size());
      for (const auto& e : all) {
        if (e.first != name) others.push_back(e);
      }
      if (core::Status s = n.coord->add_known_members(others); !s.is_ok()) return s;
    }
    check_converged();
    return core::Status::ok();
  }
  core::SeededRandom spread(Simulator::stream_seed(ctx_.sc.seed, StreamKind::kOther, 3));
  for (const std::string& name : names) {
    Node* n = by_name(name);
    const TimeNs at =
        n->number == 1 || spec_.join_spread_ns == 0
            ? 0
            : static_cast<TimeNs>(spread.uniform(static_cast<std::uint64_t>(spec_.join_spread_ns)));
    if (ctx_.sim.at(at, [this, n] {
          if (core::Status s = start_node(*n, Start::kInitialJoin); !s.is_ok() && failure_.is_ok()) failure_ = s;
        }) == 0) {
      return core::Status::error("the event engine rejected a node start");
    }
  }
  return core::Status::ok();
}

std::shared_ptr<const core::RingSnapshot> MembershipLayer::view() const {
  for (const auto& n : nodes_) {
    if (n->running && n->coord && n->coord->running()) return n->coord->ring().snapshot();
  }
  return nullptr;
}

bool MembershipLayer::route(EndpointId node, std::string_view key, EndpointId& owner) const {
  const Node* n = node < by_endpoint_.size() ? by_endpoint_[node] : nullptr;
  if (!n || !n->coord || !n->coord->running()) return false;
  const std::optional<std::string_view> id = n->coord->ring().get_node(key);
  if (!id) return false;
  const auto it = index_.find(core::to_absl(*id));
  if (it == index_.end()) return false;
  owner = nodes_[it->second]->endpoint;
  return true;
}

bool MembershipLayer::deliver(EndpointId to, const Message& m) {
  if (m.type != SimTransport::kMessageType) return false;
  Node* n = to < by_endpoint_.size() ? by_endpoint_[to] : nullptr;
  if (n) n->rt->deliver(m);
  return true;
}

void MembershipLayer::stop_node(Node& n) {
  if (!n.running) return;
  for (const auto& o : nodes_) {
    if (o.get() != &n && o->running && o->sees_alive(n.name)) {
      --alive_pairs_;
      --o->alive_seen;
    }
  }
  alive_pairs_ -= n.alive_seen;
  n.alive_seen = 0;
  n.running = false;
  --running_;
}

void MembershipLayer::crash(const std::string& name) {
  Node* n = by_name(name);
  if (!n) return;
  const bool was_running = n->running;
  stop_node(*n);
  if (n->coord) (void)n->coord->stop();
  n->rt->reset();
  if (was_running) {
    n->open_crash = crashes_.size();
    crashes_.push_back(Crash{.node = name, .at_ns = ctx_.sim.now()});
    // Already suspected or dead in some views (it was paused, or cut off):
    // those views count from the crash on.
    Crash& c = crashes_.back();
    for (const auto& o : nodes_) {
      const SwimMember* m = o->running ? o->coord->swim()->find(name) : nullptr;
      if (!m || m->state == MemberState::kAlive) continue;
      c.first_suspect_ns = c.at_ns;
      if (m->state == MemberState::kDead || m->state == MemberState::kLeft) c.first_dead_ns = c.at_ns;
    }
  }
  recheck_open_crashes();  // the observer that had not learned of a crash may be this one
  check_converged();
}

void MembershipLayer::recheck_open_crashes() {
  for (const auto& n : nodes_) {
    if (n->open_crash) check_all_know(*n);
  }
}

void MembershipLayer::restart(const std::string& name) {
  Node* n = by_name(name);
  if (!n || n->running) return;
  if (n->open_crash) {
    crashes_[*n->open_crash].restart_ns = ctx_.sim.now();
    n->open_crash.reset();
  }
  if (core::Status s = start_node(*n, Start::kJoin); !s.is_ok() && failure_.is_ok()) failure_ = s;
  watch("restart " + name);  // after the start: it is a member that the others must learn of
}

void MembershipLayer::join(const std::string& name) {
  Node* n = by_name(name);
  if (!n || n->running) return;
  if (n->coord) {  // it left earlier: a new process
    (void)n->coord->stop();
    n->rt->reset();
  }
  if (core::Status s = start_node(*n, Start::kJoin); !s.is_ok() && failure_.is_ok()) failure_ = s;
  watch("join " + name);
}

void MembershipLayer::leave(const std::string& name) {
  Node* n = by_name(name);
  if (!n || !n->running) return;
  // From now on it is not a member (the others should see it leave), but
  // its coordinator keeps running for the linger to spread the news.
  stop_node(*n);
  (void)n->coord->leave();
  recheck_open_crashes();
  check_converged();
}

void MembershipLayer::pause(const std::string& name, TimeNs for_ns) {
  Node* n = by_name(name);
  if (!n) return;
  n->rt->pause(for_ns);
  n->paused_until_ns = std::max(n->paused_until_ns, ctx_.sim.now() + for_ns);
}

void MembershipLayer::skew(const std::string& name, TimeNs offset_ns, double drift) {
  Node* n = by_name(name);
  if (n) n->rt->set_skew(offset_ns, drift);
}

void MembershipLayer::healed() { watch("heal"); }

void MembershipLayer::watch(std::string cause) {
  watches_.push_back(Watch{.cause = std::move(cause), .from_ns = ctx_.sim.now()});
  check_converged();
}

bool MembershipLayer::excused(const Node& subject, TimeNs now) const {
  if (subject.paused_until_ns < 0) return false;
  const TimeNs grace = core::cluster::suspicion_timeout_ns(spec_.swim, nodes_.size()) + 2 * spec_.swim.probe_interval_ns;
  return now < subject.paused_until_ns + grace;
}

void MembershipLayer::on_change(Node& o, const SwimMember& m, std::optional<MemberState> before) {
  if (m.node == o.name) return;
  Node* s = by_name(m.node);
  if (!s) return;
  const bool was_alive = before && *before == MemberState::kAlive;
  const bool is_alive = m.state == MemberState::kAlive;
  if (o.running && s->running && was_alive != is_alive) {
    if (is_alive) {
      ++alive_pairs_;
      ++o.alive_seen;
    } else {
      --alive_pairs_;
      --o.alive_seen;
    }
  }
  const TimeNs now = ctx_.sim.now();
  const bool state_changed = !before || *before != m.state;
  if (state_changed && o.running) {
    const bool up = s->running && !excused(*s, now);
    // A false suspicion is counted at the member whose probe raised it, and
    // a false death at each member whose own suspicion timer declared it
    // (those that only hear of either are not counted); episodes count a
    // false death once per (member, incarnation).
    const bool origin = m.from == o.name;
    if (m.state == MemberState::kSuspect) {
      if (up && origin) {
        ++false_suspicions_;
        ++false_suspicions_interval_;
      } else if (!up && s->open_crash && crashes_[*s->open_crash].first_suspect_ns < 0) {
        crashes_[*s->open_crash].first_suspect_ns = now;
      }
    } else if (m.state == MemberState::kDead) {
      if (up && origin) {
        ++false_deaths_;
        ++false_deaths_interval_;
        false_death_episodes_.emplace(m.node, m.incarnation);
      } else if (!up && s->open_crash) {
        Crash& c = crashes_[*s->open_crash];
        if (c.first_dead_ns < 0) c.first_dead_ns = now;
        if (c.first_suspect_ns < 0) c.first_suspect_ns = now;  // learned as dead straight away
        check_all_know(*s);
      }
    }
  }
  check_converged();
}

void MembershipLayer::check_all_know(Node& subject) {
  Crash& c = crashes_[*subject.open_crash];
  if (c.all_know_ns >= 0) return;
  for (const auto& o : nodes_) {
    if (!o->running || o.get() == &subject) continue;
    // A member that never heard of it does not count on it either.
    const SwimMember* m = o->coord->swim()->find(subject.name);
    if (m && m->state != MemberState::kDead && m->state != MemberState::kLeft) return;
  }
  c.all_know_ns = ctx_.sim.now();
}

void MembershipLayer::check_converged() {
  if (watches_.empty() || watches_.back().converged_ns >= 0) return;
  if (running_ == 0 || alive_pairs_ != running_ * (running_ - 1)) return;
  // Initial joins spread over time: not converged before every node started.
  if (watches_.size() == 1 && spec_.bootstrap == "join" && running_ < ctx_.sc.cluster.nodes) return;
  for (Watch& w : watches_) {
    if (w.converged_ns < 0) w.converged_ns = ctx_.sim.now();
  }
}

void MembershipLayer::sample_interval(TimeNs start_ns, TimeNs end_ns) {
  std::uint64_t msgs = 0, bytes = 0, suspect_views = 0, dead_views = 0;
  for (const auto& n : nodes_) {
    msgs += n->rt->transport().sent();
    bytes += n->rt->transport().bytes_sent();
    if (n->running && n->coord && n->coord->swim()) {
      suspect_views += n->coord->swim()->count(MemberState::kSuspect);
      dead_views += n->coord->swim()->count(MemberState::kDead);
    }
  }
  const double span_s = seconds(end_ns - start_ns);
  const double per_node = running_ > 0 ? static_cast<double>(bytes - last_bytes_) / (static_cast<double>(running_) * span_s) : 0.0;
  max_bytes_per_node_s_ = std::max(max_bytes_per_node_s_, per_node);
  node_seconds_ += static_cast<double>(running_) * span_s;
  const double pairs = static_cast<double>(running_) * static_cast<double>(running_ > 0 ? running_ - 1 : 0);
  const bool converged = running_ > 0 && alive_pairs_ == running_ * (running_ - 1);
  timeseries_.add_row({format_number(seconds(end_ns)), format_integer(running_), converged ? "1" : "0",
                       format_number(pairs > 0 ? static_cast<double>(alive_pairs_) / pairs : 1.0),
                       format_integer(suspect_views), format_integer(dead_views), format_integer(msgs - last_msgs_),
                       format_integer(bytes - last_bytes_), format_number(per_node),
                       format_integer(false_suspicions_interval_), format_integer(false_deaths_interval_)});
  last_msgs_ = msgs;
  last_bytes_ = bytes;
  false_suspicions_interval_ = false_deaths_interval_ = 0;
}

const std::vector<std::string>& MembershipLayer::summary_names() {
  static const std::vector<std::string> names = {
      "membership.nodes_running_end", "membership.converged_end", "membership.initial_converge_s",
      "membership.converge_max_s",    "membership.unconverged",   "membership.false_suspicions",
      "membership.false_deaths",      "membership.false_death_episodes", "membership.refutations",   "detect.crashes",
      "detect.undetected",            "detect.suspect_s_mean",    "detect.suspect_s_max",
      "detect.dead_s_mean",           "detect.dead_s_max",        "detect.all_know_s_mean",
      "detect.all_know_s_p50",        "detect.all_know_s_p99",    "detect.all_know_s_max",
      "protocol.msgs_per_node_s",     "protocol.bytes_per_node_s", "protocol.bytes_per_node_s_max_interval"};
  return names;
}

void MembershipLayer::summarize(std::map<std::string, double>& v, TimeNs duration_ns) const {
  (void)duration_ns;
  v["membership.nodes_running_end"] = static_cast<double>(running_);
  v["membership.converged_end"] = running_ > 0 && alive_pairs_ == running_ * (running_ - 1) ? 1.0 : 0.0;
  double initial = -1.0, worst = 0.0;
  std::uint64_t unconverged = 0;
  for (std::size_t i = 0; i < watches_.size(); ++i) {
    const Watch& w = watches_[i];
    if (w.converged_ns < 0) {
      ++unconverged;
      continue;
    }
    const double s = seconds(w.converged_ns - w.from_ns);
    if (i == 0) {
      initial = s;
    } else {
      worst = std::max(worst, s);
    }
  }
  v["membership.initial_converge_s"] = initial;
  v["membership.converge_max_s"] = worst;
  v["membership.unconverged"] = static_cast<double>(unconverged);
  v["membership.false_suspicions"] = static_cast<double>(false_suspicions_);
  v["membership.false_deaths"] = static_cast<double>(false_deaths_);
  v["membership.false_death_episodes"] = static_cast<double>(false_death_episodes_.size());
  std::uint64_t refutations = 0, msgs = 0, bytes = 0;
  for (const auto& n : nodes_) {
    refutations += n->refutations_before + (n->coord && n->coord->swim() ? n->coord->swim()->stats().refutations : 0);
    msgs += n->rt->transport().sent();
    bytes += n->rt->transport().bytes_sent();
  }
  v["membership.refutations"] = static_cast<double>(refutations);
  std::vector<double> suspect, dead, all;
  std::uint64_t undetected = 0;
  for (const Crash& c : crashes_) {
    if (c.first_suspect_ns >= 0) suspect.push_back(seconds(c.first_suspect_ns - c.at_ns));
    if (c.first_dead_ns >= 0) dead.push_back(seconds(c.first_dead_ns - c.at_ns));
    if (c.all_know_ns >= 0) {
      all.push_back(seconds(c.all_know_ns - c.at_ns));
    } else {
      ++undetected;
    }
  }
  std::sort(all.begin(), all.end());
  v["detect.crashes"] = static_cast<double>(crashes_.size());
  v["detect.undetected"] = static_cast<double>(undetected);
  v["detect.suspect_s_mean"] = mean(suspect);
  v["detect.suspect_s_max"] = suspect.empty() ? 0.0 : *std::max_element(suspect.begin(), suspect.end());
  v["detect.dead_s_mean"] = mean(dead);
  v["detect.dead_s_max"] = dead.empty() ? 0.0 : *std::max_element(dead.begin(), dead.end());
  v["detect.all_know_s_mean"] = mean(all);
  v["detect.all_know_s_p50"] = nearest_rank(all, 0.5);
  v["detect.all_know_s_p99"] = nearest_rank(all, 0.99);
  v["detect.all_know_s_max"] = all.empty() ? 0.0 : all.back();
  v["protocol.msgs_per_node_s"] = node_seconds_ > 0 ? static_cast<double>(msgs) / node_seconds_ : 0.0;
  v["protocol.bytes_per_node_s"] = node_seconds_ > 0 ? static_cast<double>(bytes) / node_seconds_ : 0.0;
  v["protocol.bytes_per_node_s_max_interval"] = max_bytes_per_node_s_;
}

CsvTable MembershipLayer::take_detections() {
  CsvTable t{{"node", "crash_s", "first_suspect_s", "first_dead_s", "all_know_s", "restart_s"}};
  for (const Crash& c : crashes_) {
    t.add_row({c.node, format_number(seconds(c.at_ns)), delay_cell(c.first_suspect_ns, c.at_ns),
               delay_cell(c.first_dead_ns, c.at_ns), delay_cell(c.all_know_ns, c.at_ns),
               c.restart_ns >= 0 ? format_number(seconds(c.restart_ns)) : ""});
  }
  return t;
}

}  // namespace hcsim::sim
