// The coordinator layer in the simulator: real SWIM membership on every
// node, measured against the ground truth. Crash detection within the
// bounds the protocol's parameters give, false suspicions only when the
// network gives cause, pauses, loss bursts, partitions and heals,
// determinism, and the report files.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/cluster/swim_membership.h"
#include "sim/cluster/cluster_sim.h"
#include "sim/cluster/run_output.h"

namespace hcsim::sim {
namespace {

// A quiet cluster of `nodes` with constant 1 ms links and no traffic.
std::string cluster_yaml(int nodes, const std::string& extra_membership, const std::string& timeline,
                         const std::string& network = "latency: 1ms") {
  std::ostringstream y;
  y << "name: m\nseed: 3\nduration: 60s\ninterval: 1s\n";
  y << "cluster: {nodes: " << nodes << ", vnodes: 16}\n";
  y << "network: {" << network << "}\n";
  y << "workload: {clients: 0}\n";
  y << "membership:\n  bootstrap: static\n" << extra_membership;
  y << "timeline:\n" << (timeline.empty() ? "  []\n" : timeline);
  return y.str();
}

Scenario parse(const std::string& yaml, const std::vector<Override>& overrides = {}) {
  auto r = parse_scenario_text(yaml, "test.yaml", overrides);
  EXPECT_TRUE(r.is_ok()) << (r.is_ok() ? "" : r.status().message());
  return r.is_ok() ? r.value() : Scenario{};
}

RunResult run_ok(const Scenario& s) {
  auto r = run_scenario(s);
  EXPECT_TRUE(r.is_ok()) << (r.is_ok() ? "" : r.status().message());
  return r.is_ok() ? std::move(r).value() : RunResult{};
}

double metric(const RunResult& r, const std::string& name) {
  const double* v = r.find(name);
  EXPECT_NE(v, nullptr) << name;
  return v ? *v : std::nan("");
}

// One column of a rendered table, as numbers (empty cells as NaN).
std::vector<double> column(const CsvTable& t, const std::string& name) {
  std::istringstream in(t.render());
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::istringstream h(line);
    std::string cell;
    while (std::getline(h, cell, ',')) header.push_back(cell);
  }
  const auto it = std::find(header.begin(), header.end(), name);
  EXPECT_NE(it, header.end()) << name;
  const std::size_t col = static_cast<std::size_t>(it - header.begin());
  std::vector<double> out;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream r(line);
    std::string cell;
    while (std::getline(r, cell, ',')) cells.push_back(cell);
    if (line.back() == ',') cells.emplace_back();
    out.push_back(col < cells.size() && !cells[col].empty() ? std::stod(cells[col]) : std::nan(""));
  }
  return out;
}

TEST(MembershipSim, CrashIsDetectedWithinTheProtocolsBounds) {
  // 10 nodes, no loss, constant latency: the suspicion timeout is
  // 4 * max(1, log10(10)) * 1 s = 4 s exactly.
  const Scenario s = parse(cluster_yaml(10, "", "  - {at: 10s, crash_node: node3}\n"));
  const RunResult r = run_ok(s);
  EXPECT_EQ(metric(r, "detect.crashes"), 1.0);
  EXPECT_EQ(metric(r, "detect.undetected"), 0.0);
  const double suspect = metric(r, "detect.suspect_s_max");
  const double dead = metric(r, "detect.dead_s_max");
  const double all = metric(r, "detect.all_know_s_max");
  // Each of the 9 others probes it once per round of 9 periods: the first
  // probe comes within one round at the latest, and suspicion at the end of
  // that probe's period.
  EXPECT_GT(suspect, 0.5);
  EXPECT_LE(suspect, 9.0 + 1.0);
  const TimeNs timeout = core::cluster::suspicion_timeout_ns(s.membership.swim, 10);
  EXPECT_EQ(timeout, 4'000'000'000);
  // The first death is the first suspector's own timer (or earlier news).
  EXPECT_NEAR(dead, suspect + 4.0, 1e-6);
  EXPECT_GE(all, dead);
  EXPECT_LE(all, dead + 3.0);  // gossip reaches 10 nodes in a few rounds of 200 ms
  EXPECT_EQ(metric(r, "membership.false_suspicions"), 0.0);
  EXPECT_EQ(metric(r, "membership.false_deaths"), 0.0);
  EXPECT_EQ(metric(r, "membership.nodes_running_end"), 9.0);
  EXPECT_EQ(metric(r, "membership.converged_end"), 1.0);
  // The detection table has the same figures.
  EXPECT_NEAR(column(r.detection, "first_dead_s")[0], dead, 1e-4);  // 6 significant digits in the CSV
  EXPECT_NEAR(column(r.detection, "crash_s")[0], 10.0, 1e-9);
}

TEST(MembershipSim, RestartedNodeRefutesItsDeathAndRejoins) {
  const Scenario s = parse(cluster_yaml(8, "", "  - {at: 5s, crash_node: node2}\n  - {at: 30s, restart_node: node2}\n"));
  const RunResult r = run_ok(s);
  EXPECT_EQ(metric(r, "membership.unconverged"), 0.0);
  EXPECT_EQ(metric(r, "membership.converged_end"), 1.0);
  EXPECT_GE(metric(r, "membership.refutations"), 1.0);  // its death, learned from the seed's state
  EXPECT_LE(metric(r, "membership.converge_max_s"), 5.0);
  EXPECT_NEAR(column(r.detection, "restart_s")[0], 30.0, 1e-9);
  EXPECT_EQ(column(r.membership, "running_nodes").back(), 8.0);
}

TEST(MembershipSim, NoLossNoFalseSuspicionAndSteadyTraffic) {
  const RunResult r = run_ok(parse(cluster_yaml(20, "", "")));
  EXPECT_EQ(metric(r, "membership.false_suspicions"), 0.0);
  EXPECT_EQ(metric(r, "membership.refutations"), 0.0);
  EXPECT_EQ(metric(r, "detect.crashes"), 0.0);
  // Steady state: one ping and one ack per node per period (no news to
  // gossip), each a short frame plus the simulated transport's 16-byte header.
  const double msgs = metric(r, "protocol.msgs_per_node_s");
  EXPECT_NEAR(msgs, 2.0, 0.1);
  const double bytes = metric(r, "protocol.bytes_per_node_s");
  EXPECT_GT(bytes, msgs * 16);
  EXPECT_LT(bytes, msgs * 80);
  for (double f : column(r.membership, "alive_view_fraction")) EXPECT_EQ(f, 1.0);
}

TEST(MembershipSim, AShortPauseIsSuspectedThenRefutedNotDeclaredDead) {
  // Stuck for 3 s: probes of it fail, the others suspect it, and it refutes
  // as soon as it runs again, well before the 4 s suspicion timeout ends.
  const RunResult r = run_ok(parse(cluster_yaml(10, "", "  - {at: 10s, pause_node: {node: node4, for: 3s}}\n")));
  const std::vector<double> suspect = column(r.membership, "suspect_views");
  const std::vector<double> dead = column(r.membership, "dead_views");
  EXPECT_GT(*std::max_element(suspect.begin(), suspect.end()), 0.0);
  EXPECT_EQ(*std::max_element(dead.begin(), dead.end()), 0.0);
  EXPECT_GE(metric(r, "membership.refutations"), 1.0);
  // A paused node is not up: suspecting it is not a false suspicion.
  EXPECT_EQ(metric(r, "membership.false_suspicions"), 0.0);
  EXPECT_EQ(metric(r, "membership.converged_end"), 1.0);
}

TEST(MembershipSim, ALongPauseIsDeclaredDeadThenComesBack) {
  const RunResult r = run_ok(parse(cluster_yaml(10, "", "  - {at: 10s, pause_node: {node: node4, for: 20s}}\n")));
  const std::vector<double> dead = column(r.membership, "dead_views");
  EXPECT_EQ(*std::max_element(dead.begin(), dead.end()), 9.0);  // every other member
  EXPECT_EQ(dead.back(), 0.0);
  EXPECT_EQ(metric(r, "membership.false_deaths"), 0.0);
  EXPECT_EQ(metric(r, "membership.converged_end"), 1.0);
}

TEST(MembershipSim, LossBurstCausesFalseSuspicionsOnlyWhileItLasts) {
  const std::string burst = "  - {at: 20s, loss_burst: {loss: 0.5, for: 5s}}\n";
  const RunResult r = run_ok(parse(cluster_yaml(20, "", burst)));
  const std::vector<double> time = column(r.membership, "time_s");
  const std::vector<double> fs = column(r.membership, "false_suspicions");
  double during = 0, outside = 0;
  for (std::size_t i = 0; i < time.size(); ++i) {
    // Suspicions raised in the burst's periods (a probe period runs over by 1 s).
    (time[i] > 20 && time[i] <= 26 ? during : outside) += fs[i];
  }
  EXPECT_GT(during, 0.0);
  EXPECT_EQ(outside, 0.0);  // the links got their settings back
  EXPECT_EQ(metric(r, "membership.converged_end"), 1.0);
  const RunResult quiet = run_ok(parse(cluster_yaml(20, "", "")));
  EXPECT_EQ(metric(quiet, "membership.false_suspicions"), 0.0);
}

TEST(MembershipSim, PartitionHealsAndConvergesThroughReconnectPings) {
  const std::string timeline =
      "  - {at: 5s, partition: {a: [node1, node2, node3, node4], b: [node5, node6, node7, node8]}}\n"
      "  - {at: 35s, heal: true}\n";
  const RunResult healed = run_ok(parse(cluster_yaml(8, "", timeline)));
  EXPECT_EQ(metric(healed, "membership.unconverged"), 0.0);
  EXPECT_LE(metric(healed, "membership.converge_max_s"), 15.0);
  EXPECT_EQ(metric(healed, "membership.converged_end"), 1.0);
  // During the partition each side declared the other dead.
  const std::vector<double> dead = column(healed.membership, "dead_views");
  EXPECT_EQ(*std::max_element(dead.begin(), dead.end()), 32.0);  // 8 observers x 4 on the other side
  // Without reconnect pings (and no anti-entropy) nothing crosses back.
  const RunResult stuck = run_ok(parse(cluster_yaml(8, "  reconnect_dead: false\n", timeline)));
  EXPECT_EQ(metric(stuck, "membership.converged_end"), 0.0);
  EXPECT_EQ(metric(stuck, "membership.unconverged"), 1.0);
}

TEST(MembershipSim, JoinThroughSeedsBuildsTheCluster) {
  std::string yaml = cluster_yaml(12, "", "");
  yaml.replace(yaml.find("bootstrap: static"), 17, "bootstrap: join\n  join_spread: 3s");
  const RunResult r = run_ok(parse(yaml));
  const double t = metric(r, "membership.initial_converge_s");
  EXPECT_GT(t, 0.0);
  EXPECT_LT(t, 3.0 + 5.0);
  EXPECT_EQ(metric(r, "membership.converged_end"), 1.0);
  EXPECT_EQ(column(r.membership, "running_nodes").back(), 12.0);
}

TEST(MembershipSim, GracefulLeaveIsNotAFailure) {
  const RunResult r = run_ok(parse(cluster_yaml(6, "", "  - {at: 10s, remove_node: node6}\n")));
  EXPECT_EQ(metric(r, "membership.false_deaths"), 0.0);
  EXPECT_EQ(metric(r, "detect.crashes"), 0.0);
  EXPECT_EQ(metric(r, "membership.nodes_running_end"), 5.0);
  EXPECT_EQ(metric(r, "membership.converged_end"), 1.0);
  const std::vector<double> dead = column(r.membership, "dead_views");
  EXPECT_EQ(*std::max_element(dead.begin(), dead.end()), 0.0);  // left, not dead
}

TEST(MembershipSim, ProxyRoutingFollowsEachNodesMembershipDrivenRing) {
  // node3 crashes at 5 s. With membership, once the others have declared it
  // dead (about 5 s later) its keys route to the next node and requests stop
  // timing out; without, they time out until the end.
  const std::string yaml = R"(name: p
seed: 9
duration: 20s
interval: 1s
cluster: {nodes: 6, vnodes: 32, routing: proxy}
network: {latency: 200us}
workload: {clients: 2, rate: 5k/s, keys: 2000, timeout: 20ms}
membership: {bootstrap: static}
timeline:
  - {at: 0s, preload: 2000}
  - {at: 5s, crash_node: node3}
)";
  const RunResult with = run_ok(parse(yaml));
  const double detected = 5.0 + metric(with, "detect.all_know_s_max");
  EXPECT_LT(detected, 12.0);
  const std::vector<double> time = column(with.timeseries, "time_s");
  const std::vector<double> timeouts = column(with.timeseries, "timeouts");
  double before = 0, during = 0, after = 0;
  for (std::size_t i = 0; i < time.size(); ++i) {
    if (time[i] <= 5) before += timeouts[i];
    else if (time[i] <= detected + 1.0) during += timeouts[i];  // + the interval that refreshes the clients' view
    else after += timeouts[i];
  }
  EXPECT_EQ(before, 0.0);
  EXPECT_GT(during, 100.0);
  EXPECT_EQ(after, 0.0);
  EXPECT_EQ(column(with.timeseries, "member_nodes").back(), 6.0);  // the dead node stays in the ring, not alive

  std::string without_yaml = yaml;
  without_yaml.replace(without_yaml.find("membership: {bootstrap: static}\n"), 31, "");
  const RunResult without = run_ok(parse(without_yaml));
  const std::vector<double> late = column(without.timeseries, "timeouts");
  EXPECT_GT(late.back(), 100.0);  // still timing out at the end
}

TEST(MembershipSim, ACrashIsKnownToAllOnceTheLastUnawareMemberStops) {
  // node6 is stuck from 20 s, so it never learns that node5 crashed at 21 s;
  // when node6 itself crashes at 40 s, every running member knows of both.
  // node6 was already dead in every view when it crashed: its detection
  // delays are 0.
  const RunResult r = run_ok(parse(cluster_yaml(
      10, "", "  - {at: 20s, pause_node: {node: node6, for: 30s}}\n  - {at: 21s, crash_node: node5}\n"
              "  - {at: 40s, crash_node: node6}\n")));
  EXPECT_EQ(metric(r, "detect.crashes"), 2.0);
  EXPECT_EQ(metric(r, "detect.undetected"), 0.0);
  const std::vector<double> all = column(r.detection, "all_know_s");
  EXPECT_NEAR(all[0], 19.0, 1e-6);  // node5: known to all when node6 stopped
  EXPECT_EQ(all[1], 0.0);
  EXPECT_EQ(column(r.detection, "first_dead_s")[1], 0.0);
}

TEST(MembershipSim, SameSeedSameReportsAndReportFiles) {
  const std::string timeline =
      "  - {at: 10s, crash_node: node3}\n  - {at: 20s, clock_skew: {node: node5, offset: 2s, drift: 0.3}}\n"
      "  - {at: 30s, restart_node: node3}\n";
  const Scenario s = parse(cluster_yaml(10, "", timeline, "latency: {lognormal: {median: 1ms, p99: 10ms}}, loss: 0.02"));
  const RunResult a = run_ok(s);
  const RunResult b = run_ok(s);
  EXPECT_EQ(a.summary, b.summary);
  EXPECT_EQ(a.membership.render(), b.membership.render());
  EXPECT_EQ(a.detection.render(), b.detection.render());
  const std::vector<OutputFile> files = run_output_files(s, a, "test");
  const auto has = [&](const std::string& name) {
    return std::any_of(files.begin(), files.end(), [&](const OutputFile& f) { return f.name == name; });
  };
  EXPECT_TRUE(has("membership.csv"));
  EXPECT_TRUE(has("detection.csv"));
  // Another seed, another run.
  const RunResult c = run_ok(parse(cluster_yaml(10, "", timeline, "latency: {lognormal: {median: 1ms, p99: 10ms}}, loss: 0.02"),
                                   {{"seed", "4"}}));
  EXPECT_NE(a.membership.render(), c.membership.render());
  // Without a membership section there are no such files.
  Scenario plain = s;
  plain.membership.enabled = false;
  plain.timeline.erase(plain.timeline.begin() + 1);  // clock_skew needs the coordinator
  const RunResult p = run_ok(plain);
  const std::vector<OutputFile> plain_files = run_output_files(plain, p, "test");
  EXPECT_FALSE(std::any_of(plain_files.begin(), plain_files.end(),
                           [](const OutputFile& f) { return f.name == "membership.csv"; }));
  EXPECT_EQ(p.find("membership.false_deaths"), nullptr);
}

}  // namespace
}  // namespace hcsim::sim
