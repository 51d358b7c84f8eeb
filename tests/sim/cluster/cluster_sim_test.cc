// The simulator end to end, from typed scenarios: determinism, and the
// figures where theory gives the answer (moved fraction, network latency
// sums, M/M/1 queueing delay), plus crash, proxy and migration behaviour.
#include "sim/cluster/cluster_sim.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "sim/cluster/run_output.h"

namespace hcsim::sim {
namespace {

constexpr TimeNs kUs = 1'000;
constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kS = 1'000'000'000;

Scenario small_scenario() {
  Scenario s;
  s.name = "small";
  s.source_path = "test.yaml";
  s.seed = 5;
  s.duration_ns = 2 * kS;
  s.interval_ns = 500 * kMs;
  s.cluster.nodes = 4;
  s.cluster.vnodes = 64;
  s.cluster.memory_bytes = 8ull << 20;
  s.network.link.latency = Distribution::lognormal(100 * kUs, 400 * kUs);
  s.workload.clients = 3;
  s.workload.rate_per_s = 20'000;
  s.workload.keys = 5'000;
  s.workload.popularity.kind = KeyPopularity::Kind::kZipfian;
  s.workload.value_bytes = Distribution::uniform(100, 2000);
  TimelineEvent preload;
  preload.kind = TimelineEvent::Kind::kPreload;
  preload.count = 5'000;
  s.timeline.push_back(preload);
  TimelineEvent add;
  add.kind = TimelineEvent::Kind::kAddNode;
  add.at_ns = 1 * kS;
  add.node = "node5";
  s.timeline.push_back(add);
  return s;
}

double metric(const RunResult& r, const std::string& name) {
  const double* v = r.find(name);
  EXPECT_NE(v, nullptr) << name;
  return v ? *v : std::nan("");
}

RunResult run_ok(const Scenario& s) {
  auto r = run_scenario(s);
  EXPECT_TRUE(r.is_ok()) << (r.is_ok() ? "" : r.status().message());
  return r.is_ok() ? std::move(r).value() : RunResult{};
}

std::vector<OutputFile> deterministic_files(const Scenario& s, const RunResult& r) {
  std::vector<OutputFile> files;
  for (auto& f : run_output_files(s, r, "test")) {
    if (f.name != "speed.csv") files.push_back(std::move(f));
  }
  return files;
}

TEST(ClusterSim, SameSeedSameBytesOtherSeedOtherBytes) {
  const Scenario s = small_scenario();
  const auto a = deterministic_files(s, run_ok(s));
  const auto b = deterministic_files(s, run_ok(s));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].content, b[i].content) << a[i].name;
  }
  Scenario other = s;
  other.seed = 6;
  const auto c = deterministic_files(other, run_ok(other));
  bool timeseries_differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name == "timeseries.csv") timeseries_differs = a[i].content != c[i].content;
  }
  EXPECT_TRUE(timeseries_differs);
}

TEST(ClusterSim, SummaryNamesAreKnownBeforeTheRun) {
  const Scenario s = small_scenario();
  const RunResult r = run_ok(s);
  const auto names = summary_metric_names(s);
  ASSERT_EQ(names.size(), r.summary.size());
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(names[i], r.summary[i].first);
  EXPECT_NE(std::find(names.begin(), names.end(), "change1.moved_fraction"), names.end());
}

// Theory: adding a node moves exactly the keys in the hash-space share it
// takes over; with K keys the moved fraction is a binomial estimate of it.
TEST(ClusterSim, MovedFractionEqualsTheNewNodesShareOfTheRing) {
  Scenario s = small_scenario();
  s.cluster.nodes = 8;
  s.cluster.vnodes = 32;
  s.workload.keys = 200'000;
  s.workload.rate_per_s = 1'000;
  s.timeline[0].count = 1'000;
  s.timeline[1].node = "node9";
  const RunResult r = run_ok(s);
  const double expected = metric(r, "change1.expected_moved_fraction");
  const double moved = metric(r, "change1.moved_fraction");
  const double sigma = std::sqrt(expected * (1 - expected) / 200'000.0);
  EXPECT_GT(expected, 0.02);
  EXPECT_NEAR(moved, expected, 5 * sigma);
  // and the key count moved is the fraction of the key set
  EXPECT_DOUBLE_EQ(metric(r, "change1.moved_keys"), std::round(moved * 200'000));
}

// Theory: with constant link latency, no service time and no queueing, a
// request's latency is the sum of the two links it crosses (and four in
// proxy mode when the first node is not the owner).
TEST(ClusterSim, LatencyIsTheSumOfTheLinksWithoutQueueing) {
  Scenario s = small_scenario();
  s.timeline.resize(1);
  s.network.link.latency = Distribution::constant(150 * kUs);
  s.cluster.service = {Distribution::constant(0), Distribution::constant(0), Distribution::constant(0)};
  s.workload.cache_aside = false;
  const RunResult r = run_ok(s);
  EXPECT_GT(metric(r, "requests"), 30'000);
  EXPECT_DOUBLE_EQ(metric(r, "latency_mean_us"), 300.0);
  EXPECT_DOUBLE_EQ(metric(r, "latency_max_us"), 300.0);

  s.cluster.routing = "proxy";
  const RunResult p = run_ok(s);
  const double forwarded = metric(p, "forwards") / metric(p, "requests");
  EXPECT_NEAR(forwarded, 0.75, 0.02);  // 3 of 4 nodes do not own a given key
  // two links, or four when forwarded
  EXPECT_NEAR(metric(p, "latency_mean_us"), 300.0 + forwarded * 300.0, 1.0);
  EXPECT_DOUBLE_EQ(metric(p, "latency_max_us"), 600.0);
}

// Theory: one node with one worker, exponential service (mean 1/mu) and
// Poisson arrivals (rate lambda) is an M/M/1 queue: the mean time in the
// system is 1/(mu - lambda). At rho = 0.6 with mu = 100k/s that is 25 us.
TEST(ClusterSim, SingleWorkerNodeUnderPoissonLoadIsAnMM1Queue) {
  Scenario s = small_scenario();
  s.timeline.resize(1);
  s.duration_ns = 4 * kS;
  s.cluster.nodes = 1;
  s.cluster.workers = 1;
  s.cluster.queue_limit = 100'000;
  const Distribution service = Distribution::exponential(10 * kUs);
  s.cluster.service = {service, service, service};
  s.network.link.latency = Distribution::constant(5 * kUs);
  s.workload.rate_per_s = 60'000;
  s.workload.cache_aside = false;
  const RunResult r = run_ok(s);
  const double expected_us = 2 * 5.0 + 1e6 / (100'000.0 - 60'000.0);
  EXPECT_NEAR(metric(r, "latency_mean_us"), expected_us, 0.10 * expected_us);
  EXPECT_EQ(metric(r, "errors"), 0);
}

TEST(ClusterSim, ACrashedNodeTimesOutThenRestartsEmpty) {
  Scenario s = small_scenario();
  s.timeline.resize(1);
  s.duration_ns = 3 * kS;
  s.workload.timeout_ns = 20 * kMs;
  TimelineEvent crash;
  crash.kind = TimelineEvent::Kind::kCrashNode;
  crash.at_ns = 1 * kS;
  crash.node = "node2";
  TimelineEvent restart = crash;
  restart.kind = TimelineEvent::Kind::kRestartNode;
  restart.at_ns = 2 * kS;
  s.timeline.push_back(crash);
  s.timeline.push_back(restart);
  const RunResult r = run_ok(s);
  EXPECT_GT(metric(r, "timeouts"), 1000);
  // after the restart node2 serves again, from an empty store: misses
  EXPECT_GT(metric(r, "misses"), 100);
  const std::string nodes = r.per_node.render();
  EXPECT_NE(nodes.find(",node2,crashed,0,"), std::string::npos);
}

TEST(ClusterSim, MigrateMovesTheKeysThatColdRefetches) {
  Scenario cold = small_scenario();
  cold.workload.rate_per_s = 5'000;
  Scenario migrate = cold;
  migrate.cluster.rebalance = "migrate";
  const RunResult c = run_ok(cold);
  const RunResult m = run_ok(migrate);
  EXPECT_EQ(metric(c, "change1.migration_keys"), 0);
  EXPECT_EQ(metric(c, "change1.migration_s"), -1);
  // every preloaded key the new node owns travels (some were overwritten or
  // deleted meanwhile: no deletes in this mix, so exactly the moved keys)
  EXPECT_EQ(metric(m, "change1.migration_keys"), metric(m, "change1.moved_keys"));
  EXPECT_GT(metric(m, "change1.migration_bytes"), metric(m, "change1.migration_keys") * 100);
  EXPECT_GT(metric(m, "change1.migration_s"), 0);
  EXPECT_LT(metric(m, "change1.migration_s"), 0.1);
  // and so fewer misses than refetching cold
  EXPECT_LT(metric(m, "misses"), metric(c, "misses"));
}

TEST(ClusterSim, ExpectationsNameEveryFailedCheck) {
  Scenario s = small_scenario();
  Expectation ok;
  ok.metric = "hit_ratio";
  ok.min = 0.0;
  ok.line = 3;
  Expectation bad = ok;
  bad.metric = "timeouts";
  bad.min.reset();
  bad.equal = 1e9;
  bad.line = 4;
  s.expect = {ok, bad};
  EXPECT_TRUE(validate_expectations(s).is_ok());
  const auto failures = failed_expectations(s, run_ok(s));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("test.yaml:4: timeouts = 0, expected 1000000000 within 0"), std::string::npos) << failures[0];
  s.expect[0].metric = "hit_ration";
  const core::Status st = validate_expectations(s);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("test.yaml:3:1: expect: unknown metric 'hit_ration'"), std::string::npos);
}

}  // namespace
}  // namespace hcsim::sim

namespace hcsim::sim {
namespace {

// Closed loop: backfills do not take a request slot, so the loop's own
// requests run at exactly concurrency / round trip.
TEST(ClusterSimReview, ClosedLoopConcurrencyStaysFixedWithBackfills) {
  Scenario s = small_scenario();
  s.timeline.clear();
  s.duration_ns = 1 * kS;
  s.cluster.nodes = 1;
  s.cluster.service = {Distribution::constant(0), Distribution::constant(0), Distribution::constant(0)};
  s.network.link.latency = Distribution::constant(100 * kUs);
  s.workload.clients = 1;
  s.workload.mode = "closed";
  s.workload.concurrency = 4;
  s.workload.keys = 1'000'000;  // nearly every GET misses and is backfilled
  s.workload.popularity.kind = KeyPopularity::Kind::kUniform;
  s.workload.backend_latency = Distribution::constant(50 * kUs);
  const RunResult r = run_ok(s);
  EXPECT_GT(metric(r, "backfills"), 15'000);
  // 4 slots x 1 s / (200 us + 1 ns) = 19999.9 round trips. Backfills count
  // when issued and requests when finished, so the few in flight at the end
  // (about 18k/s x 250 us = 5, plus the 4 slots) account for the slack.
  EXPECT_NEAR(metric(r, "requests") - metric(r, "backfills"), 19'999, 15);
}

TEST(ClusterSimReview, BusyRepliesBackOffInsteadOfSpinning) {
  Scenario s = small_scenario();
  s.timeline.clear();
  s.duration_ns = 1 * kS;
  s.cluster.nodes = 1;
  s.cluster.workers = 1;
  s.cluster.queue_limit = 0;
  s.cluster.service = {Distribution::constant(kMs), Distribution::constant(kMs), Distribution::constant(kMs)};
  s.network.link.latency = Distribution::constant(0);
  s.workload.clients = 1;
  s.workload.mode = "closed";
  s.workload.concurrency = 2;
  s.workload.cache_aside = false;
  const RunResult r = run_ok(s);
  // one slot is served every 1 ms; the other is refused and waits 1 ms each time
  EXPECT_NEAR(metric(r, "errors"), 1000, 2);
  EXPECT_NEAR(metric(r, "requests") - metric(r, "errors"), 1000, 2);
}

TEST(ClusterSimReview, ExpiredEntriesAreSweptAway) {
  Scenario s = small_scenario();
  s.timeline.clear();
  s.duration_ns = 3 * kS;
  s.workload.rate_per_s = 20'000;
  s.workload.keys = 1'000'000;
  s.workload.get_fraction = 0.5;
  s.workload.set_fraction = 0.5;
  s.workload.ttl_ns = 100 * kMs;
  s.workload.cache_aside = false;
  const RunResult r = run_ok(s);
  // about 10k sets/s x 100 ms = 1,000 live entries; without sweeps it would be 30,000
  EXPECT_LT(metric(r, "keys_end"), 2'500);
  EXPECT_GT(metric(r, "keys_end"), 500);
}

TEST(ClusterSimReview, MigrationOfHugeValuesSplitsBatchesAndCountsEveryByte) {
  Scenario s = small_scenario();
  s.duration_ns = 2 * kS;
  s.cluster.memory_bytes = 64ull << 30;
  s.cluster.filter = false;
  s.cluster.rebalance = "migrate";
  s.workload.keys = 40;
  s.workload.rate_per_s = 10;
  s.workload.value_bytes = Distribution::constant(256 << 20);
  s.timeline[0].count = 40;
  const RunResult r = run_ok(s);
  const double keys = metric(r, "change1.migration_keys");
  EXPECT_EQ(keys, metric(r, "change1.moved_keys"));
  EXPECT_GT(keys, 4);
  // every key is a 256 MiB value plus its name and a 16-byte record, and
  // batches (each with a 24-byte header) never pass 256 MiB: one key each
  const double value_bytes = keys * (256.0 * (1 << 20) + 16);
  EXPECT_GT(metric(r, "change1.migration_bytes"), value_bytes + keys * 24);
  EXPECT_LT(metric(r, "change1.migration_bytes"), value_bytes + keys * (24 + 8));
  EXPECT_GT(metric(r, "change1.migration_bytes"), 1e9);  // past what 32 bits can count
}

}  // namespace
}  // namespace hcsim::sim
