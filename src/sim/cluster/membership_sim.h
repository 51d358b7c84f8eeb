// The coordinator layer of a simulation run: every node runs a real
// core::cluster::DistributedCoordinator (SWIM membership driving its own
// ring) on its own NodeRuntime, over the simulated network. The layer starts
// and stops coordinators as the timeline crashes, restarts, adds, removes,
// pauses and skews nodes, and measures the protocol against the ground
// truth it alone knows: failure-detection latency per crash (to the first
// suspicion, to the first declared death, to every member knowing), false
// suspicions and deaths of nodes that were up, the time membership takes to
// converge after a start, join or heal, and protocol traffic per node.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "core/cluster/distributed_coordinator.h"
#include "sim/cluster/context.h"
#include "sim/cluster/node_runtime.h"
#include "sim/report/csv.h"

namespace hcsim::sim {

class MembershipLayer {
 public:
  explicit MembershipLayer(ClusterContext& ctx);
  ~MembershipLayer();
  MembershipLayer(const MembershipLayer&) = delete;
  MembershipLayer& operator=(const MembershipLayer&) = delete;

  // A node's endpoint exists (not started yet). number: 1-based creation order.
  void add_node(const std::string& name, EndpointId endpoint, std::uint32_t number);
  // The initial nodes: all at once (static bootstrap) or each at a random
  // time within join_spread, joining through the seeds.
  core::Status start_initial(const std::vector<std::string>& names);
  // The owner of `key` in `node`'s own ring (its coordinator's view);
  // false when that ring has no alive node or the node runs no coordinator.
  bool route(EndpointId node, std::string_view key, EndpointId& owner) const;
  // The ring of the first running node (by creation order), or null.
  std::shared_ptr<const core::RingSnapshot> view() const;
  // For the endpoint's handler: true if `m` was a coordinator message.
  bool deliver(EndpointId to, const Message& m);

  // Timeline hooks (the data side of each node is handled by its NodeHost).
  void crash(const std::string& name);
  void restart(const std::string& name);   // a new process: new coordinator, joins through the seeds
  void join(const std::string& name);      // add_node
  void leave(const std::string& name);     // remove_node: a graceful leave
  void pause(const std::string& name, TimeNs for_ns);
  void skew(const std::string& name, TimeNs offset_ns, double drift);
  void healed();                           // a partition healed: watch convergence from now

  void sample_interval(TimeNs start_ns, TimeNs end_ns);
  // Adds the summary figures (names: summary_names()).
  void summarize(std::map<std::string, double>& v, TimeNs duration_ns) const;
  static const std::vector<std::string>& summary_names();

  CsvTable take_timeseries() { return std::move(timeseries_); }
  CsvTable take_detections();
  core::Status failure() const { return failure_; }

 private:
  struct Node;
  struct Crash {
    std::string node;
    TimeNs at_ns = 0;
    TimeNs first_suspect_ns = -1;
    TimeNs first_dead_ns = -1;
    TimeNs all_know_ns = -1;
    TimeNs restart_ns = -1;
  };
  struct Watch {  // a convergence watch
    std::string cause;
    TimeNs from_ns = 0;
    TimeNs converged_ns = -1;
  };

  enum class Start : std::uint8_t { kStatic, kInitialJoin, kJoin };
  core::Status start_node(Node& n, Start how);
  void stop_node(Node& n);  // no longer counted as a member (ground truth)
  std::vector<core::TransportAddress> seeds_for(const Node& n, bool initial) const;
  void on_change(Node& observer, const core::cluster::SwimMember& m, std::optional<core::protocol::MemberState> before);
  bool excused(const Node& subject, TimeNs now) const;  // paused lately: suspicion is not false
  void check_all_know(Node& subject);
  void recheck_open_crashes();  // after a member stops: it may have been the last not to know
  void check_converged();
  void watch(std::string cause);
  Node* by_name(std::string_view name);

  ClusterContext& ctx_;
  const MembershipSpec& spec_;
  std::vector<std::unique_ptr<Node>> nodes_;  // creation order
  absl::flat_hash_map<std::string, std::uint32_t> index_;
  std::vector<Node*> by_endpoint_;
  // Ground truth and the convergence count: pairs (observer, subject), both
  // running, that the observer sees alive; converged when all of them do.
  std::uint64_t running_ = 0;
  std::uint64_t alive_pairs_ = 0;
  std::vector<Crash> crashes_;
  std::vector<Watch> watches_;
  std::uint64_t false_suspicions_ = 0, false_deaths_ = 0;
  std::set<std::pair<std::string, std::uint32_t>> false_death_episodes_;  // (member, incarnation)
  std::uint64_t false_suspicions_interval_ = 0, false_deaths_interval_ = 0;
  std::uint64_t last_msgs_ = 0, last_bytes_ = 0;
  double max_bytes_per_node_s_ = 0.0;
  double node_seconds_ = 0.0;  // running nodes x seconds, for per-node rates
  core::Status failure_ = core::Status::ok();

  CsvTable timeseries_{{"time_s", "running_nodes", "converged", "alive_view_fraction", "suspect_views", "dead_views",
                        "protocol_msgs", "protocol_bytes", "bytes_per_node_s", "false_suspicions", "false_deaths"}};
};

}  // namespace hcsim::sim
