#include "sim/cluster/cluster_sim.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include <absl/container/flat_hash_map.h>
#include <fmt/format.h>

#include "core/hash/key_hash.h"
#include "core/ring/distribution.h"
#include "sim/cluster/client.h"
#include "sim/cluster/context.h"
#include "sim/cluster/membership_sim.h"
#include "sim/cluster/node_host.h"
#include "sim/cluster/protocol.h"

namespace hcsim::sim {
namespace {

using Kind = TimelineEvent::Kind;

constexpr std::uint64_t kMaxAnalysedKeys = std::uint64_t{1} << 27;
constexpr std::uint32_t kMaxBatchBytes = 256u << 20;     // a batch closes before it would pass this
constexpr std::uint32_t kMaxMigrationAttempts = 10;       // sends of one batch, with doubling waits
constexpr std::uint64_t kMaxOutstandingAtStart = 1u << 24; // closed loop: clients x concurrency
constexpr std::uint64_t kMaxLinkPairs = 1u << 22;         // links one set_link event may change

bool changes_membership(Kind k) { return k == Kind::kAddNode || k == Kind::kRemoveNode; }


double seconds(TimeNs ns) { return static_cast<double>(ns) / 1e9; }
double micros(std::int64_t ns) { return static_cast<double>(ns) / 1e3; }

const std::vector<std::string>& base_metrics() {
  static const std::vector<std::string> names = {
      "requests", "throughput_rps", "gets", "hits", "misses", "hit_ratio", "sets", "dels", "backfills",
      "errors", "timeouts", "success_ratio", "unrouted", "forwards", "latency_mean_us", "latency_p50_us", "latency_p99_us",
      "latency_p999_us", "latency_max_us", "net_messages", "net_bytes", "net_dropped", "evictions",
      "keys_end", "nodes_end", "initial.nodes", "initial.keys", "initial.avg", "initial.min", "initial.max",
      "initial.load_factor", "initial.stddev", "initial.expected_stddev"};
  return names;
}
const std::vector<std::string>& change_metrics() {
  static const std::vector<std::string> names = {
      "at_s", "nodes", "load_factor", "stddev", "moved_keys", "moved_fraction", "expected_moved_fraction",
      "hit_ratio_before", "hit_ratio_min", "hit_ratio_end", "recovery_s", "migration_keys",
      "migration_bytes", "migration_s"};
  return names;
}

// One membership change and what followed it.
struct Change {
  std::size_t number = 0;  // 1-based
  TimeNs at_ns = 0;
  std::string_view event;
  std::string node;
  core::DistributionStats dist;
  core::MovementStats move;
  double hit_ratio_before = 0.0;
  std::uint64_t migration_keys = 0;
  std::uint64_t migration_bytes = 0;
  std::uint64_t batches = 0;
  std::uint64_t batches_acked = 0;
  TimeNs migration_done_ns = -1;
  std::size_t event_row = 0;
};

struct MigrationItem {
  std::string key;
  std::uint64_t value_bytes;
  TimeNs expire_at_ns;
};
struct MigrationBatch {
  NodeHost* source = nullptr;
  EndpointId to = 0;
  std::size_t change = 0;  // index into changes_
  std::vector<MigrationItem> items;
  std::vector<bool> stored;  // per item: the new owner holds it (set on arrival)
  std::uint32_t bytes = 0;   // on the wire; at most kMaxBatchBytes
  std::uint32_t attempts = 0;
  bool acked = false;
};

class ClusterRun {
 public:
  explicit ClusterRun(const Scenario& sc)
      : sc_(sc),
        ctx_(sc, Simulator::Options{.seed = sc.seed}, sc.network.link),
        hash_(core::parse_hash_kind(sc.cluster.hash).value_or(core::HashKind::kXxh64)) {}

  core::Status build();
  core::Result<RunResult> run(const ProgressFn& progress);

 private:
  core::Result<NodeHost*> add_host(const std::string& name);
  void publish_ring(std::shared_ptr<const core::RingSnapshot> ring);
  void on_event(std::size_t i);
  void on_control(NodeHost& host, const Message& m);
  void membership_change(const TimelineEvent& ev);
  void migrate_from(NodeHost& source, const core::RingSnapshot& next, std::size_t change);
  void send_batch(std::size_t batch);
  void preload(std::uint64_t first, std::uint64_t count);
  void loss_burst(const TimelineEvent& ev);
  void refresh_view();
  std::vector<EndpointId> expand(const std::vector<std::string>& names) const;
  void sample_interval(TimeNs start_ns, TimeNs end_ns);
  void distribution_rows(const std::string& stage, TimeNs at_ns, const core::DistributionStats& d);
  RunResult finish(double wall_s);

  const Scenario& sc_;
  ClusterContext ctx_;
  core::HashKind hash_;
  std::vector<std::unique_ptr<NodeHost>> hosts_;  // creation order
  std::map<std::string, NodeHost*> host_by_name_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::unique_ptr<MembershipLayer> members_;  // with a membership: section
  // Every workload key's ring hash, and its owner in the current ring: the
  // distribution figures of each membership change and the preload's
  // placement come from these, computed once per ring state.
  std::vector<std::uint64_t> key_hashes_;
  std::vector<core::NodeIndex> owners_;
  core::DistributionStats initial_;
  std::vector<Change> changes_;
  std::vector<MigrationBatch> batches_;
  core::Status failure_ = core::Status::ok();  // a run-time error inside an event

  std::vector<double> interval_hit_ratio_;  // of the intervals with at least one hit or miss
  std::vector<bool> interval_has_gets_;
  std::vector<TimeNs> interval_end_;
  NetworkStats last_net_;

  CsvTable timeseries_{{"time_s", "requests", "throughput_rps", "gets", "hits", "misses", "hit_ratio", "sets",
                        "dels", "backfills", "errors", "timeouts", "forwards", "latency_p50_us",
                        "latency_p99_us", "latency_p999_us", "net_messages", "net_bytes", "net_dropped",
                        "member_nodes", "keys"}};
  CsvTable per_node_{{"time_s", "node", "state", "keys", "memory_bytes", "requests", "evictions"}};
  CsvTable distribution_{{"stage", "time_s", "node", "keys", "arc_share"}};
  CsvTable events_{{"time_s", "event", "target", "detail", "moved_keys", "moved_fraction",
                    "expected_moved_fraction", "migration_keys", "migration_bytes", "migration_done_s"}};
};

core::Result<NodeHost*> ClusterRun::add_host(const std::string& name) {
  const auto number = static_cast<std::uint32_t>(hosts_.size() + 1);
  auto host = std::make_unique<NodeHost>(ctx_, name, number,
                                         [this](NodeHost& h, const Message& m) { on_control(h, m); });
  if (core::Status s = host->init(); !s.is_ok()) return s;
  NodeHost* raw = host.get();
  MembershipLayer* members = members_.get();
  const EndpointId id = ctx_.net.add_endpoint(name, [raw, members](const Message& m) {
    if (members && members->deliver(raw->endpoint(), m)) return;
    raw->on_message(m);
  });
  raw->set_endpoint(id);
  if (members) {
    members->add_node(name, id, number);
    // Proxy routing follows the node's own membership-driven ring.
    if (ctx_.proxy_routing) {
      raw->set_router([members, id](std::string_view key, EndpointId& owner) { return members->route(id, key, owner); });
    }
  }
  if (ctx_.hosts_by_endpoint.size() <= id) ctx_.hosts_by_endpoint.resize(id + 1, nullptr);
  ctx_.hosts_by_endpoint[id] = raw;
  host_by_name_[name] = raw;
  hosts_.push_back(std::move(host));
  return raw;
}

void ClusterRun::publish_ring(std::shared_ptr<const core::RingSnapshot> ring) {
  ctx_.ring = std::move(ring);
  ctx_.ring_endpoints.clear();
  ctx_.entry_endpoints.clear();
  for (const auto& n : ctx_.ring->nodes()) {
    const EndpointId e = host_by_name_.at(n.id)->endpoint();
    ctx_.ring_endpoints.push_back(e);
    if (n.alive) ctx_.entry_endpoints.push_back(e);
  }
}

core::Status ClusterRun::build() {
  if (sc_.membership.enabled) members_ = std::make_unique<MembershipLayer>(ctx_);
  std::vector<core::RingSnapshot::NodeEntry> entries;
  for (std::uint32_t i = 1; i <= sc_.cluster.nodes; ++i) {
    const std::string name = sc_.cluster.node_prefix + std::to_string(i);
    auto host = add_host(name);
    if (!host.is_ok()) return host.status();
    entries.push_back({name, sc_.cluster.vnodes, true});
  }
  if (ctx_.closed_loop &&
      std::uint64_t{sc_.workload.clients} * sc_.workload.concurrency > kMaxOutstandingAtStart) {
    return core::Status::error(fmt::format("workload: clients x concurrency = {} outstanding requests; at most {}",
                                           std::uint64_t{sc_.workload.clients} * sc_.workload.concurrency,
                                           kMaxOutstandingAtStart));
  }
  std::uint64_t max_nodes = sc_.cluster.nodes;
  for (const TimelineEvent& ev : sc_.timeline) max_nodes += ev.kind == Kind::kAddNode ? 1 : 0;
  const auto group_size = [&](const std::vector<std::string>& names) {
    std::uint64_t n = 0;
    for (const std::string& name : names) {
      n += name == "nodes" ? max_nodes : name == "clients" ? sc_.workload.clients : 1;
    }
    return n;
  };
  for (const TimelineEvent& ev : sc_.timeline) {
    if ((ev.kind == Kind::kSetLink || ev.kind == Kind::kLossBurst) && group_size(ev.a) * group_size(ev.b) > kMaxLinkPairs) {
        return core::Status::error(fmt::format("{}:{}: {} would change up to {} links; at most {}", sc_.source_path,
                                             ev.line, timeline_action_name(ev.kind),
                                             group_size(ev.a) * group_size(ev.b), kMaxLinkPairs));
    }
  }
  for (std::uint32_t i = 1; i <= sc_.workload.clients; ++i) {
    auto client = std::make_unique<Client>(ctx_, i);
    Client* raw = client.get();
    raw->set_endpoint(ctx_.net.add_endpoint("client" + std::to_string(i), [raw](const Message& m) { raw->on_message(m); }));
    clients_.push_back(std::move(client));
  }
  publish_ring(std::make_shared<const core::RingSnapshot>(hash_, std::move(entries)));
  if (sc_.workload.keys > kMaxAnalysedKeys) {
    return core::Status::error(fmt::format("workload.keys: at most {} keys are supported (the run analyses "
                                           "every key's placement), got {}", kMaxAnalysedKeys, sc_.workload.keys));
  }
  key_hashes_.resize(sc_.workload.keys);
  {
    std::string buffer;
    for (std::uint64_t k = 0; k < sc_.workload.keys; ++k) key_hashes_[k] = ctx_.ring->hash(ctx_.key_name(k, buffer));
  }
  owners_ = core::primary_owners(*ctx_.ring, key_hashes_);
  initial_ = core::distribution_of(*ctx_.ring, owners_);
  distribution_rows("initial", 0, initial_);
  // Timeline first: at equal times its events run before the traffic.
  for (std::size_t i = 0; i < sc_.timeline.size(); ++i) {
    if (ctx_.sim.at(sc_.timeline[i].at_ns, [this, i] { on_event(i); }) == 0) {
      return core::Status::error("the event engine rejected a timeline event");
    }
  }
  if (members_) {
    std::vector<std::string> names;
    for (const auto& h : hosts_) names.push_back(h->name());
    if (core::Status s = members_->start_initial(names); !s.is_ok()) return s;
  }
  for (auto& c : clients_) c->start();
  if (ctx_.sim.rejected() > 0) return core::Status::error("the event engine rejected the clients' first requests");
  return core::Status::ok();
}

std::vector<EndpointId> ClusterRun::expand(const std::vector<std::string>& names) const {
  std::vector<EndpointId> out;
  for (const std::string& n : names) {
    if (n == "nodes") {
      for (const auto& h : hosts_) out.push_back(h->endpoint());
    } else if (n == "clients") {
      for (const auto& c : clients_) out.push_back(c->endpoint());
    } else if (auto it = host_by_name_.find(n); it != host_by_name_.end()) {
      out.push_back(it->second->endpoint());
    } else if (n.rfind("client", 0) == 0) {
      const std::size_t i = std::stoul(n.substr(6));
      if (i >= 1 && i <= clients_.size()) out.push_back(clients_[i - 1]->endpoint());
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void ClusterRun::preload(std::uint64_t first, std::uint64_t count) {
  // Node by node (a counting sort of the keys by owner): one store's
  // structures stay in cache while it is filled.
  const std::size_t nodes = ctx_.ring->node_count();
  if (nodes == 0) return;
  std::vector<std::uint64_t> start(nodes + 1, 0);
  for (std::uint64_t k = first; k < first + count; ++k) {
    assert(owners_[k] != core::kNoNode);  // every ring node is alive here
    ++start[owners_[k] + 1];
  }
  for (std::size_t n = 0; n < nodes; ++n) start[n + 1] += start[n];
  std::vector<std::uint64_t> order(count);
  {
    std::vector<std::uint64_t> next(start.begin(), start.end() - 1);
    for (std::uint64_t k = first; k < first + count; ++k) order[next[owners_[k]]++] = k;
  }
  std::string buffer;
  const TimeNs ttl = sc_.workload.ttl_ns;
  for (std::size_t n = 0; n < nodes; ++n) {
    NodeHost* host = ctx_.hosts_by_endpoint[ctx_.ring_endpoints[n]];
    if (host->state() == NodeHost::State::kCrashed) continue;
    for (std::uint64_t i = start[n]; i < start[n + 1]; ++i) {
      const std::uint64_t k = order[i];
      // A full store with noeviction refuses: that is the scenario's outcome, not an error.
      (void)host->store().set_size_only(ctx_.key_name(k, buffer), ctx_.value_bytes_for(k),
                                        ttl > 0 ? std::optional<TimeNs>(ttl) : std::nullopt);
    }
  }
}

void ClusterRun::on_event(std::size_t i) {
  const TimelineEvent& ev = sc_.timeline[i];
  const TimeNs now = ctx_.sim.now();
  std::string detail;
  switch (ev.kind) {
    case Kind::kPreload:
      preload(ev.first, ev.count);
      detail = fmt::format("keys {}..{}", ev.first, ev.first + ev.count - 1);
      break;
    case Kind::kAddNode:
    case Kind::kRemoveNode:
      membership_change(ev);
      if (members_ && ev.kind == Kind::kAddNode) members_->join(ev.node);
      if (members_ && ev.kind == Kind::kRemoveNode) members_->leave(ev.node);
      return;  // membership_change writes its own row
    case Kind::kCrashNode:
      host_by_name_.at(ev.node)->crash();
      if (members_) members_->crash(ev.node);
      detail = members_ ? "data lost; the others' coordinators must detect it"
                        : "data lost; stays in the ring (no failure detection)";
      break;
    case Kind::kRestartNode:
      host_by_name_.at(ev.node)->restart();
      if (members_) members_->restart(ev.node);
      detail = "empty";
      break;
    case Kind::kPauseNode:
      members_->pause(ev.node, ev.for_ns);
      detail = fmt::format("for {}", format_duration(ev.for_ns));
      break;
    case Kind::kClockSkew:
      members_->skew(ev.node, ev.offset_ns, ev.drift);
      detail = fmt::format("offset {} drift {}", format_duration(ev.offset_ns), format_number(ev.drift));
      break;
    case Kind::kLossBurst:
      loss_burst(ev);
      detail = fmt::format("loss {} for {}", format_number(ev.loss), format_duration(ev.for_ns));
      break;
    case Kind::kPartition: {
      const auto a = expand(ev.a);
      const auto b = expand(ev.b);
      ctx_.net.partition(a, b, ev.one_way);
      detail = fmt::format("{} x {} endpoints{}", a.size(), b.size(), ev.one_way ? ", one way" : "");
      break;
    }
    case Kind::kHeal:
      ctx_.net.heal();
      if (members_) members_->healed();
      break;
    case Kind::kSetLink: {
      const auto a = expand(ev.a);
      const auto b = expand(ev.b);
      const LinkConfig& cfg = ev.link;
      for (EndpointId x : a) {
        for (EndpointId y : b) {
          if (x == y) continue;
          ctx_.net.set_link(x, y, cfg);
          if (!ev.one_way) ctx_.net.set_link(y, x, cfg);
        }
      }
      detail = fmt::format("latency {} loss {}", ev.link.latency.describe("ns"), format_number(ev.link.loss));
      break;
    }
  }
  const std::string target = ev.node.empty() ? "" : ev.node;
  events_.add_row({format_number(seconds(now)), std::string(timeline_action_name(ev.kind)), target, detail, "", "", "", "", "", ""});
}

void ClusterRun::refresh_view() {
  // With membership, the run's routing view (what smart clients route by,
  // where proxy-mode clients send, what the placement figures describe) is
  // the cluster's own: the ring of the first running node's coordinator,
  // fetched once per interval as a client refreshing its topology would.
  std::shared_ptr<const core::RingSnapshot> view = members_->view();
  if (!view || view == ctx_.ring || view->empty()) return;
  publish_ring(std::move(view));
  owners_ = core::primary_owners(*ctx_.ring, key_hashes_);
}

void ClusterRun::loss_burst(const TimelineEvent& ev) {
  // Every link from a to b (and b to a) loses `loss` of its messages for
  // the burst, then gets back the settings it had.
  struct Saved {
    EndpointId from, to;
    LinkConfig config;
  };
  auto saved = std::make_shared<std::vector<Saved>>();
  const auto a = expand(ev.a);
  const auto b = expand(ev.b);
  for (EndpointId x : a) {
    for (EndpointId y : b) {
      if (x == y) continue;
      for (const auto& [from, to] : {std::pair{x, y}, std::pair{y, x}}) {
        saved->push_back({from, to, ctx_.net.link(from, to)});
        LinkConfig burst = ctx_.net.link(from, to);
        burst.loss = std::max(burst.loss, ev.loss);
        ctx_.net.set_link(from, to, burst);
      }
    }
  }
  // Restored newest first: a link met twice (a and b overlap) gets back
  // what it had before the burst, not the burst's own settings.
  ctx_.sim.after(ev.for_ns, [this, saved] {
    for (auto it = saved->rbegin(); it != saved->rend(); ++it) ctx_.net.set_link(it->from, it->to, it->config);
  });
}

void ClusterRun::membership_change(const TimelineEvent& ev) {
  const TimeNs now = ctx_.sim.now();
  const std::shared_ptr<const core::RingSnapshot> before = ctx_.ring;
  Change change;
  change.number = changes_.size() + 1;
  change.at_ns = now;
  change.event = timeline_action_name(ev.kind);
  change.node = ev.node;
  // The last interval before the change that served GETs.
  change.hit_ratio_before = 0.0;
  for (std::size_t i = interval_hit_ratio_.size(); i-- > 0;) {
    if (interval_has_gets_[i]) {
      change.hit_ratio_before = interval_hit_ratio_[i];
      break;
    }
  }
  std::shared_ptr<const core::RingSnapshot> after;
  if (ev.kind == Kind::kAddNode) {
    auto it = host_by_name_.find(ev.node);
    NodeHost* host = nullptr;
    if (it == host_by_name_.end()) {
      auto added = add_host(ev.node);
      if (!added.is_ok()) {
        failure_ = added.status();
        ctx_.sim.stop();
        return;
      }
      host = added.value();
    } else {
      host = it->second;  // a node that left earlier and rejoins
      host->restart();
      host->store().clear();
    }
    after = std::make_shared<const core::RingSnapshot>(before->with_node(ev.node, sc_.cluster.vnodes));
  } else {
    after = std::make_shared<const core::RingSnapshot>(before->without_node(ev.node));
  }
  std::vector<core::NodeIndex> owners_after = core::primary_owners(*after, key_hashes_);
  change.dist = core::distribution_of(*after, owners_after);
  change.move = core::movement_of(*before, owners_, *after, owners_after);
  owners_ = std::move(owners_after);
  const std::size_t index = changes_.size();
  changes_.push_back(change);
  distribution_rows(fmt::format("change{}", change.number), now, change.dist);

  std::vector<NodeHost*> sources;
  if (sc_.cluster.rebalance == "migrate") {
    for (const auto& n : before->nodes()) {
      NodeHost* h = host_by_name_.at(n.id);
      if (h->state() != NodeHost::State::kCrashed) sources.push_back(h);
    }
  }
  publish_ring(after);
  if (ev.kind == Kind::kRemoveNode) host_by_name_.at(ev.node)->leave();
  for (NodeHost* h : sources) migrate_from(*h, *after, index);
  Change& c = changes_[index];
  c.event_row = events_.rows();
  if (c.batches == 0) c.migration_done_ns = sc_.cluster.rebalance == "migrate" ? now : -1;
  events_.add_row({format_number(seconds(now)), std::string(c.event), c.node,
                   fmt::format("{} nodes after", after->node_count()), format_integer(c.move.moved_keys),
                   format_number(c.move.moved_fraction), format_number(c.move.expected_fraction), "", "", ""});
}

void ClusterRun::migrate_from(NodeHost& source, const core::RingSnapshot& next, std::size_t change) {
  // Keys this node holds that another node owns now, batched per new owner.
  absl::flat_hash_map<EndpointId, std::size_t> open;  // owner -> open batch
  std::vector<std::size_t> order;                      // batches in creation order
  source.store().for_each_live([&](std::string_view key, std::uint64_t value_bytes, TimeNs expire_at) {
    const core::NodeIndex owner_index = next.primary(key);
    if (owner_index == core::kNoNode) return;
    const EndpointId owner = ctx_.ring_endpoints[owner_index];
    if (owner == source.endpoint()) return;
    const auto item_bytes = static_cast<std::uint32_t>(key.size() + 16 + value_bytes);  // value <= 512 MiB
    if (auto full = open.find(owner); full != open.end() && batches_[full->second].bytes + std::uint64_t{item_bytes} > kMaxBatchBytes) {
      open.erase(full);
    }
    auto [it, inserted] = open.try_emplace(owner, batches_.size());
    if (inserted) {
      batches_.push_back(MigrationBatch{.source = &source, .to = owner, .change = change, .items = {}, .stored = {},
                                        .bytes = protocol::kHeaderBytes, .attempts = 0, .acked = false});
      order.push_back(it->second);
    }
    MigrationBatch& b = batches_[it->second];
    b.items.push_back({std::string(key), value_bytes, expire_at});
    b.bytes += item_bytes;
    if (b.items.size() >= sc_.cluster.migration_batch_keys) open.erase(it);
  });
  for (std::size_t b : order) {
    batches_[b].stored.assign(batches_[b].items.size(), false);
    Change& c = changes_[change];
    ++c.batches;
    c.migration_keys += batches_[b].items.size();
    c.migration_bytes += batches_[b].bytes;
    send_batch(b);
  }
}

void ClusterRun::send_batch(std::size_t b) {
  MigrationBatch& batch = batches_[b];
  if (batch.acked || batch.attempts >= kMaxMigrationAttempts) return;
  ++batch.attempts;
  Message m;
  m.from = batch.source->endpoint();
  m.to = batch.to;
  m.type = protocol::kMigrate;
  m.bytes = batch.bytes;
  m.aux = b;
  ctx_.net.send(m);
  // Resent if no ack comes in time: twice the request timeout plus the
  // batch's own transfer time, doubling with every attempt (a partition may
  // last a while), so a slow link does not trigger needless copies.
  const double bandwidth = ctx_.net.link(m.from, m.to).bandwidth_bytes_per_s;
  const double transfer_ns = bandwidth > 0 ? static_cast<double>(batch.bytes) * 1e9 / bandwidth : 0.0;
  const double wait_ns = (2.0 * static_cast<double>(sc_.workload.timeout_ns) + transfer_ns) *
                         static_cast<double>(std::uint64_t{1} << (batch.attempts - 1));
  ctx_.sim.after(static_cast<TimeNs>(std::min(wait_ns, 1e18)), [this, b] { send_batch(b); });
}

void ClusterRun::on_control(NodeHost& host, const Message& m) {
  if (m.aux >= batches_.size()) return;
  MigrationBatch& batch = batches_[m.aux];
  const TimeNs now = ctx_.sim.now();
  if (m.type == protocol::kMigrate) {
    for (std::size_t i = 0; i < batch.items.size(); ++i) {
      const MigrationItem& item = batch.items[i];
      const core::HashedKey key(item.key);
      if (host.store().exists(key)) {  // a newer write got there first
        batch.stored[i] = true;
        continue;
      }
      if (item.expire_at_ns != 0 && item.expire_at_ns <= now) continue;
      const std::optional<TimeNs> ttl =
          item.expire_at_ns != 0 ? std::optional<TimeNs>(item.expire_at_ns - now) : std::nullopt;
      batch.stored[i] = host.store().set_size_only(key, item.value_bytes, ttl).is_ok();
    }
    Message ack;
    ack.from = host.endpoint();
    ack.to = m.from;
    ack.type = protocol::kMigrateAck;
    ack.bytes = protocol::kHeaderBytes;
    ack.aux = m.aux;
    ctx_.net.send(ack);
  } else if (m.type == protocol::kMigrateAck) {
    if (batch.acked) return;
    batch.acked = true;
    // The source lets go of what the new owner holds, unless the key came
    // back to it meanwhile (it rejoined, or the ring changed again).
    std::string buffer;
    for (std::size_t i = 0; i < batch.items.size(); ++i) {
      if (!batch.stored[i]) continue;
      EndpointId owner = 0;
      if (ctx_.route(batch.items[i].key, owner) && owner == host.endpoint()) continue;
      (void)host.store().del(core::HashedKey(batch.items[i].key));
    }
    Change& c = changes_[batch.change];
    if (++c.batches_acked == c.batches) c.migration_done_ns = now;
  }
}

void ClusterRun::distribution_rows(const std::string& stage, TimeNs at_ns, const core::DistributionStats& d) {
  for (const auto& n : d.per_node) {
    distribution_.add_row({stage, format_number(seconds(at_ns)), n.id, format_integer(n.keys), format_number(n.arc_share)});
  }
}

void ClusterRun::sample_interval(TimeNs start_ns, TimeNs end_ns) {
  RequestCounters& c = ctx_.interval;
  const Histogram& h = ctx_.latency_interval;
  const double span_s = seconds(end_ns - start_ns);
  const double hit_ratio = (c.hits + c.misses) > 0 ? static_cast<double>(c.hits) / static_cast<double>(c.hits + c.misses) : 0.0;
  const NetworkStats& net = ctx_.net.stats();
  const std::uint64_t dropped = net.dropped_loss + net.dropped_partition + net.dropped_down;
  const std::uint64_t last_dropped = last_net_.dropped_loss + last_net_.dropped_partition + last_net_.dropped_down;
  std::uint64_t keys = 0;
  for (const auto& host : hosts_) {
    const core::StoreStats s = host->store().stats();
    if (host->state() == NodeHost::State::kMember) keys += s.items;
    const char* state = host->state() == NodeHost::State::kMember ? "member"
                        : host->state() == NodeHost::State::kCrashed ? "crashed" : "left";
    per_node_.add_row({format_number(seconds(end_ns)), host->name(), state, format_integer(s.items),
                       format_integer(s.memory_used_bytes), format_integer(host->served_interval),
                       format_integer(s.evictions)});
    host->served_interval = 0;
  }
  timeseries_.add_row({format_number(seconds(end_ns)), format_integer(c.requests),
                       format_number(static_cast<double>(c.requests) / span_s), format_integer(c.gets),
                       format_integer(c.hits), format_integer(c.misses), format_number(hit_ratio),
                       format_integer(c.sets), format_integer(c.dels), format_integer(c.backfills),
                       format_integer(c.errors), format_integer(c.timeouts), format_integer(c.forwards),
                       format_number(micros(h.percentile(0.5))), format_number(micros(h.percentile(0.99))),
                       format_number(micros(h.percentile(0.999))),
                       format_integer(net.delivered - last_net_.delivered),
                       format_integer(net.delivered_bytes - last_net_.delivered_bytes),
                       format_integer(dropped - last_dropped), format_integer(ctx_.ring->node_count()),
                       format_integer(keys)});
  interval_hit_ratio_.push_back(hit_ratio);
  interval_has_gets_.push_back(c.hits + c.misses > 0);
  interval_end_.push_back(end_ns);
  last_net_ = net;
  ctx_.total.add(c);
  c = RequestCounters{};
  ctx_.latency_total.merge(ctx_.latency_interval);
  ctx_.latency_interval.reset();
}

core::Result<RunResult> ClusterRun::run(const ProgressFn& progress) {
  const auto wall_start = std::chrono::steady_clock::now();
  TimeNs start = 0;
  while (start < sc_.duration_ns) {
    const TimeNs end = std::min(sc_.duration_ns, start + sc_.interval_ns);
    ctx_.sim.run_until(end);
    if (!failure_.is_ok()) return failure_;
    sample_interval(start, end);
    if (members_) {
      if (!members_->failure().is_ok()) return members_->failure();
      members_->sample_interval(start, end);
      refresh_view();
    }
    if (progress) progress(end, sc_.duration_ns);
    start = end;
  }
  if (ctx_.sim.rejected() > 0) {
    return core::Status::error(fmt::format("the event engine rejected {} events (queue full?)", ctx_.sim.rejected()));
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return finish(wall_s);
}

RunResult ClusterRun::finish(double wall_s) {
  std::map<std::string, double> v;
  const RequestCounters& t = ctx_.total;
  const Histogram& h = ctx_.latency_total;
  v["requests"] = static_cast<double>(t.requests);
  v["throughput_rps"] = static_cast<double>(t.requests) / seconds(sc_.duration_ns);
  v["gets"] = static_cast<double>(t.gets);
  v["hits"] = static_cast<double>(t.hits);
  v["misses"] = static_cast<double>(t.misses);
  v["hit_ratio"] = (t.hits + t.misses) > 0 ? static_cast<double>(t.hits) / static_cast<double>(t.hits + t.misses) : 0.0;
  v["sets"] = static_cast<double>(t.sets);
  v["dels"] = static_cast<double>(t.dels);
  v["backfills"] = static_cast<double>(t.backfills);
  v["errors"] = static_cast<double>(t.errors);
  v["timeouts"] = static_cast<double>(t.timeouts);
  v["success_ratio"] = t.requests > 0 ? static_cast<double>(t.requests - t.errors - t.timeouts) / static_cast<double>(t.requests) : 0.0;
  v["unrouted"] = static_cast<double>(t.dropped_unrouted);
  v["forwards"] = static_cast<double>(t.forwards);
  v["latency_mean_us"] = h.mean() / 1e3;
  v["latency_p50_us"] = micros(h.percentile(0.5));
  v["latency_p99_us"] = micros(h.percentile(0.99));
  v["latency_p999_us"] = micros(h.percentile(0.999));
  v["latency_max_us"] = micros(h.max());
  const NetworkStats& net = ctx_.net.stats();
  v["net_messages"] = static_cast<double>(net.delivered);
  v["net_bytes"] = static_cast<double>(net.delivered_bytes);
  v["net_dropped"] = static_cast<double>(net.dropped_loss + net.dropped_partition + net.dropped_down);
  std::uint64_t evictions = 0, keys = 0;
  for (const auto& host : hosts_) {
    const core::StoreStats s = host->store().stats();
    evictions += s.evictions;
    if (host->state() == NodeHost::State::kMember) keys += s.items;
  }
  v["evictions"] = static_cast<double>(evictions);
  v["keys_end"] = static_cast<double>(keys);
  v["nodes_end"] = static_cast<double>(ctx_.ring->node_count());
  const auto dist = [&](const std::string& prefix, const core::DistributionStats& d) {
    v[prefix + "load_factor"] = d.load_factor;
    v[prefix + "stddev"] = d.stddev;
  };
  v["initial.nodes"] = static_cast<double>(initial_.nodes);
  v["initial.keys"] = static_cast<double>(initial_.total_keys);
  v["initial.avg"] = initial_.avg;
  v["initial.min"] = static_cast<double>(initial_.min);
  v["initial.max"] = static_cast<double>(initial_.max);
  v["initial.expected_stddev"] = initial_.expected_stddev;
  dist("initial.", initial_);
  for (const Change& c : changes_) {
    const std::string p = fmt::format("change{}.", c.number);
    v[p + "at_s"] = seconds(c.at_ns);
    v[p + "nodes"] = static_cast<double>(c.dist.nodes);
    dist(p, c.dist);
    v[p + "moved_keys"] = static_cast<double>(c.move.moved_keys);
    v[p + "moved_fraction"] = c.move.moved_fraction;
    v[p + "expected_moved_fraction"] = c.move.expected_fraction;
    v[p + "hit_ratio_before"] = c.hit_ratio_before;
    // The intervals that end after the change: the dip and the recovery.
    double min_ratio = 1.0, end_ratio = -1.0, recovery = -1.0;
    bool seen = false, dipped = false;
    for (std::size_t i = 0; i < interval_end_.size(); ++i) {
      if (interval_end_[i] <= c.at_ns || !interval_has_gets_[i]) continue;
      seen = true;
      min_ratio = std::min(min_ratio, interval_hit_ratio_[i]);
      end_ratio = interval_hit_ratio_[i];
      if (interval_hit_ratio_[i] < 0.99 * c.hit_ratio_before) dipped = true;
      if (recovery < 0 && (dipped || i + 1 == interval_end_.size()) &&
          interval_hit_ratio_[i] >= 0.99 * c.hit_ratio_before) {
        recovery = seconds(interval_end_[i] - c.at_ns);
      }
    }
    if (!dipped && seen) recovery = 0.0;
    v[p + "hit_ratio_min"] = seen ? min_ratio : -1.0;  // -1: no GETs were served after the change
    v[p + "hit_ratio_end"] = end_ratio;
    v[p + "recovery_s"] = recovery;
    v[p + "migration_keys"] = static_cast<double>(c.migration_keys);
    v[p + "migration_bytes"] = static_cast<double>(c.migration_bytes);
    v[p + "migration_s"] = c.migration_done_ns >= 0 ? seconds(c.migration_done_ns - c.at_ns) : -1.0;
  }
  if (members_) members_->summarize(v, sc_.duration_ns);
  v["sim.events"] = static_cast<double>(ctx_.sim.events_processed());
  RunResult r;
  for (const std::string& name : summary_metric_names(sc_)) {
    const auto it = v.find(name);
    assert(it != v.end());
    r.summary.emplace_back(name, it != v.end() ? it->second : 0.0);
  }
  // The membership rows get their migration figures now that they are known.
  for (const Change& c : changes_) {
    events_.set(c.event_row, 7, format_integer(c.migration_keys));
    events_.set(c.event_row, 8, format_integer(c.migration_bytes));
    events_.set(c.event_row, 9, c.migration_done_ns >= 0 ? format_number(seconds(c.migration_done_ns)) : "");
  }
  r.timeseries = std::move(timeseries_);
  r.per_node = std::move(per_node_);
  r.distribution = std::move(distribution_);
  r.events = std::move(events_);
  if (members_) {
    r.membership = members_->take_timeseries();
    r.detection = members_->take_detections();
  }
  r.speed.events = ctx_.sim.events_processed();
  r.speed.wall_s = wall_s;
  r.speed.events_per_wall_s = wall_s > 0 ? static_cast<double>(r.speed.events) / wall_s : 0.0;
  r.speed.requests_per_wall_s = wall_s > 0 ? static_cast<double>(t.requests) / wall_s : 0.0;
  return r;
}

}  // namespace

const double* RunResult::find(const std::string& metric) const {
  for (const auto& [name, value] : summary) {
    if (name == metric) return &value;
  }
  return nullptr;
}

std::vector<std::string> summary_metric_names(const Scenario& scenario) {
  std::vector<std::string> names = base_metrics();
  std::size_t changes = 0;
  for (const TimelineEvent& ev : scenario.timeline) {
    if (!changes_membership(ev.kind)) continue;
    ++changes;
    for (const std::string& m : change_metrics()) names.push_back(fmt::format("change{}.{}", changes, m));
  }
  if (scenario.membership.enabled) {
    for (const std::string& m : MembershipLayer::summary_names()) names.push_back(m);
  }
  names.push_back("sim.events");
  return names;
}

core::Result<RunResult> run_scenario(const Scenario& scenario, const ProgressFn& progress) {
  auto run = std::make_unique<ClusterRun>(scenario);
  if (core::Status s = run->build(); !s.is_ok()) return s;
  return run->run(progress);
}

}  // namespace hcsim::sim
