// Scenario parsing: a full scenario field by field, the defaults, `--set`
// overrides, the to_yaml round trip, and every file under invalid/ (each
// names on its first line the exact place and text of its error).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/scenario/scenario.h"

namespace hcsim::sim {
namespace {

using Kind = TimelineEvent::Kind;

constexpr const char* kFull = R"(name: rebalance5
description: "Five nodes, then a sixth"
seed: 42
duration: 20s
interval: 500ms
cluster:
  nodes: 5
  node_prefix: n
  vnodes: 128
  hash: xxh3
  memory: 32MiB
  eviction: s3fifo
  filter: false
  workers: 8
  queue_limit: 0
  service_time: {get: 2500ns, set: {exponential: 3us}, del: {uniform: [1us, 2us]}}
  routing: proxy
  rebalance: migrate
  migration_batch: 32
network:
  latency: {lognormal: {median: 100us, p99: 1ms}}
  bandwidth: 10Gbps
  loss: 0.001
  duplicate: 0.002
  reorder: 0.01
  reorder_delay: 2ms
workload:
  clients: 3
  mode: closed
  rate: 200k/s
  concurrency: 8
  think_time: 50us
  keys: 20000
  key_prefix: "k:"
  popularity: {zipfian: {skew: 1.2, scramble: true}}
  mix: {get: 0.8, set: 0.15, del: 0.05}
  value_size: {normal: {mean: 1KiB, stddev: 256B}}
  ttl: 30s
  cache_aside: false
  backend_latency: {constant: 2ms}
  timeout: 50ms
  start: 1s
timeline:
  - {at: 0s, preload: 10000}
  - {at: 12s, remove_node: n2}
  - {at: 10s, add_node: n6}
  - {at: 12s, crash_node: n3}
  - {at: 15s, restart_node: n3}
  - {at: 5s, partition: {a: [n1, n2], b: [nodes, clients], one_way: true}}
  - {at: 8s, heal: true}
  - {at: 5s, set_link: {a: [n1], b: [client2], latency: 5ms, loss: 0.1}}
  - {at: 20s, preload: {first: 100, count: 50}}
expect:
  - {metric: initial.load_factor, equal: 1.07, tolerance: 0.005}
  - {metric: hit_ratio, min: 0.8, max: 1}
  - {metric: timeouts, max: 0}
)";

Scenario parse_ok(const std::string& text, const std::vector<Override>& overrides = {}) {
  auto r = parse_scenario_text(text, "test.yaml", overrides);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? std::move(r).value() : Scenario{};
}

std::string parse_error(const std::string& text, const std::vector<Override>& overrides = {}) {
  auto r = parse_scenario_text(text, "test.yaml", overrides);
  EXPECT_FALSE(r.is_ok()) << "parsed:\n" << text;
  return r.is_ok() ? "" : r.status().message();
}

void expect_distribution(const Distribution& d, Distribution::Kind kind, double a, double b) {
  EXPECT_EQ(d.kind, kind);
  EXPECT_EQ(d.a, a);
  EXPECT_EQ(d.b, b);
}

void expect_same_link(const LinkSpec& x, const LinkSpec& y) {
  expect_distribution(x.latency, y.latency.kind, y.latency.a, y.latency.b);
  EXPECT_EQ(x.bandwidth_bytes_per_s, y.bandwidth_bytes_per_s);
  EXPECT_EQ(x.loss, y.loss);
  EXPECT_EQ(x.duplicate, y.duplicate);
  EXPECT_EQ(x.reorder, y.reorder);
  EXPECT_EQ(x.reorder_delay_ns, y.reorder_delay_ns);
}

// Every field but source_path and the line numbers, which name where a value was written.
void expect_same(const Scenario& x, const Scenario& y) {
  EXPECT_EQ(x.name, y.name);
  EXPECT_EQ(x.description, y.description);
  EXPECT_EQ(x.seed, y.seed);
  EXPECT_EQ(x.duration_ns, y.duration_ns);
  EXPECT_EQ(x.interval_ns, y.interval_ns);
  const ClusterSpec &c = x.cluster, &d = y.cluster;
  EXPECT_EQ(c.nodes, d.nodes);
  EXPECT_EQ(c.node_prefix, d.node_prefix);
  EXPECT_EQ(c.vnodes, d.vnodes);
  EXPECT_EQ(c.hash, d.hash);
  EXPECT_EQ(c.memory_bytes, d.memory_bytes);
  EXPECT_EQ(c.eviction, d.eviction);
  EXPECT_EQ(c.filter, d.filter);
  EXPECT_EQ(c.workers, d.workers);
  EXPECT_EQ(c.queue_limit, d.queue_limit);
  expect_distribution(c.service.get, d.service.get.kind, d.service.get.a, d.service.get.b);
  expect_distribution(c.service.set, d.service.set.kind, d.service.set.a, d.service.set.b);
  expect_distribution(c.service.del, d.service.del.kind, d.service.del.a, d.service.del.b);
  EXPECT_EQ(c.routing, d.routing);
  EXPECT_EQ(c.rebalance, d.rebalance);
  EXPECT_EQ(c.migration_batch_keys, d.migration_batch_keys);
  expect_same_link(x.network.link, y.network.link);
  const WorkloadSpec &w = x.workload, &v = y.workload;
  EXPECT_EQ(w.clients, v.clients);
  EXPECT_EQ(w.mode, v.mode);
  EXPECT_EQ(w.rate_per_s, v.rate_per_s);
  EXPECT_EQ(w.concurrency, v.concurrency);
  EXPECT_EQ(w.think_time_ns, v.think_time_ns);
  EXPECT_EQ(w.keys, v.keys);
  EXPECT_EQ(w.key_prefix, v.key_prefix);
  EXPECT_EQ(w.popularity.kind, v.popularity.kind);
  EXPECT_EQ(w.popularity.zipf_skew, v.popularity.zipf_skew);
  EXPECT_EQ(w.popularity.zipf_scramble, v.popularity.zipf_scramble);
  EXPECT_EQ(w.popularity.hot_key_fraction, v.popularity.hot_key_fraction);
  EXPECT_EQ(w.popularity.hot_request_fraction, v.popularity.hot_request_fraction);
  EXPECT_EQ(w.get_fraction, v.get_fraction);
  EXPECT_EQ(w.set_fraction, v.set_fraction);
  EXPECT_EQ(w.del_fraction, v.del_fraction);
  expect_distribution(w.value_bytes, v.value_bytes.kind, v.value_bytes.a, v.value_bytes.b);
  EXPECT_EQ(w.ttl_ns, v.ttl_ns);
  EXPECT_EQ(w.cache_aside, v.cache_aside);
  expect_distribution(w.backend_latency, v.backend_latency.kind, v.backend_latency.a, v.backend_latency.b);
  EXPECT_EQ(w.timeout_ns, v.timeout_ns);
  EXPECT_EQ(w.start_ns, v.start_ns);
  ASSERT_EQ(x.timeline.size(), y.timeline.size());
  for (std::size_t i = 0; i < x.timeline.size(); ++i) {
    const TimelineEvent &e = x.timeline[i], &f = y.timeline[i];
    EXPECT_EQ(e.kind, f.kind) << i;
    EXPECT_EQ(e.at_ns, f.at_ns) << i;
    EXPECT_EQ(e.node, f.node) << i;
    EXPECT_EQ(e.first, f.first) << i;
    EXPECT_EQ(e.count, f.count) << i;
    EXPECT_EQ(e.a, f.a) << i;
    EXPECT_EQ(e.b, f.b) << i;
    EXPECT_EQ(e.one_way, f.one_way) << i;
    if (e.kind == Kind::kSetLink) expect_same_link(e.link, f.link);
  }
  ASSERT_EQ(x.expect.size(), y.expect.size());
  for (std::size_t i = 0; i < x.expect.size(); ++i) {
    EXPECT_EQ(x.expect[i].metric, y.expect[i].metric) << i;
    EXPECT_EQ(x.expect[i].min, y.expect[i].min) << i;
    EXPECT_EQ(x.expect[i].max, y.expect[i].max) << i;
    EXPECT_EQ(x.expect[i].equal, y.expect[i].equal) << i;
    EXPECT_EQ(x.expect[i].tolerance, y.expect[i].tolerance) << i;
  }
}

TEST(Scenario, FullScenarioEveryField) {
  const Scenario s = parse_ok(kFull);
  EXPECT_EQ(s.name, "rebalance5");
  EXPECT_EQ(s.description, "Five nodes, then a sixth");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.duration_ns, 20'000'000'000);
  EXPECT_EQ(s.interval_ns, 500'000'000);
  EXPECT_EQ(s.source_path, "test.yaml");

  const ClusterSpec& c = s.cluster;
  EXPECT_EQ(c.nodes, 5u);
  EXPECT_EQ(c.node_prefix, "n");
  EXPECT_EQ(c.vnodes, 128u);
  EXPECT_EQ(c.hash, "xxh3");
  EXPECT_EQ(c.memory_bytes, 33'554'432u);
  EXPECT_EQ(c.eviction, "s3fifo");
  EXPECT_FALSE(c.filter);
  EXPECT_EQ(c.workers, 8u);
  EXPECT_EQ(c.queue_limit, 0u);
  expect_distribution(c.service.get, Distribution::Kind::kConstant, 2'500, 0);
  expect_distribution(c.service.set, Distribution::Kind::kExponential, 3'000, 0);
  expect_distribution(c.service.del, Distribution::Kind::kUniform, 1'000, 2'000);
  EXPECT_EQ(c.routing, "proxy");
  EXPECT_EQ(c.rebalance, "migrate");
  EXPECT_EQ(c.migration_batch_keys, 32u);

  const LinkSpec& l = s.network.link;
  expect_distribution(l.latency, Distribution::Kind::kLognormal, 100'000, 1'000'000);
  EXPECT_EQ(l.bandwidth_bytes_per_s, 1.25e9);
  EXPECT_EQ(l.loss, 0.001);
  EXPECT_EQ(l.duplicate, 0.002);
  EXPECT_EQ(l.reorder, 0.01);
  EXPECT_EQ(l.reorder_delay_ns, 2'000'000);

  const WorkloadSpec& w = s.workload;
  EXPECT_EQ(w.clients, 3u);
  EXPECT_EQ(w.mode, "closed");
  EXPECT_EQ(w.rate_per_s, 200'000.0);
  EXPECT_EQ(w.concurrency, 8u);
  EXPECT_EQ(w.think_time_ns, 50'000);
  EXPECT_EQ(w.keys, 20'000u);
  EXPECT_EQ(w.key_prefix, "k:");
  EXPECT_EQ(w.popularity.kind, KeyPopularity::Kind::kZipfian);
  EXPECT_EQ(w.popularity.zipf_skew, 1.2);
  EXPECT_TRUE(w.popularity.zipf_scramble);
  EXPECT_EQ(w.get_fraction, 0.8);
  EXPECT_EQ(w.set_fraction, 0.15);
  EXPECT_EQ(w.del_fraction, 0.05);
  expect_distribution(w.value_bytes, Distribution::Kind::kNormal, 1'024, 256);
  EXPECT_EQ(w.ttl_ns, 30'000'000'000);
  EXPECT_FALSE(w.cache_aside);
  expect_distribution(w.backend_latency, Distribution::Kind::kConstant, 2'000'000, 0);
  EXPECT_EQ(w.timeout_ns, 50'000'000);
  EXPECT_EQ(w.start_ns, 1'000'000'000);

  // Stably sorted by time; lines are where each item was written.
  struct Want {
    Kind kind;
    TimeNs at_s;
    int line;
    const char* node;
  };
  const Want want[] = {
      {Kind::kPreload, 0, 44, ""},      {Kind::kPartition, 5, 49, ""},      {Kind::kSetLink, 5, 51, ""},
      {Kind::kHeal, 8, 50, ""},         {Kind::kAddNode, 10, 46, "n6"},     {Kind::kRemoveNode, 12, 45, "n2"},
      {Kind::kCrashNode, 12, 47, "n3"}, {Kind::kRestartNode, 15, 48, "n3"}, {Kind::kPreload, 20, 52, ""},
  };
  ASSERT_EQ(s.timeline.size(), std::size(want));
  for (std::size_t i = 0; i < s.timeline.size(); ++i) {
    EXPECT_EQ(s.timeline[i].kind, want[i].kind) << i;
    EXPECT_EQ(s.timeline[i].at_ns, want[i].at_s * 1'000'000'000) << i;
    EXPECT_EQ(s.timeline[i].line, want[i].line) << i;
    EXPECT_EQ(s.timeline[i].node, want[i].node) << i;
  }
  EXPECT_EQ(s.timeline[0].first, 0u);
  EXPECT_EQ(s.timeline[0].count, 10'000u);
  EXPECT_EQ(s.timeline[8].first, 100u);
  EXPECT_EQ(s.timeline[8].count, 50u);
  EXPECT_EQ(s.timeline[1].a, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(s.timeline[1].b, (std::vector<std::string>{"nodes", "clients"}));
  EXPECT_TRUE(s.timeline[1].one_way);
  const TimelineEvent& link = s.timeline[2];
  EXPECT_EQ(link.a, (std::vector<std::string>{"n1"}));
  EXPECT_EQ(link.b, (std::vector<std::string>{"client2"}));
  EXPECT_FALSE(link.one_way);
  expect_distribution(link.link.latency, Distribution::Kind::kConstant, 5'000'000, 0);
  EXPECT_EQ(link.link.loss, 0.1);
  EXPECT_EQ(link.link.bandwidth_bytes_per_s, 1.25e9);  // the rest keep the network's values
  EXPECT_EQ(link.link.duplicate, 0.002);
  EXPECT_EQ(link.link.reorder, 0.01);
  EXPECT_EQ(link.link.reorder_delay_ns, 2'000'000);

  ASSERT_EQ(s.expect.size(), 3u);
  EXPECT_EQ(s.expect[0].metric, "initial.load_factor");
  EXPECT_EQ(s.expect[0].equal, 1.07);
  EXPECT_EQ(s.expect[0].tolerance, 0.005);
  EXPECT_FALSE(s.expect[0].min.has_value());
  EXPECT_EQ(s.expect[0].line, 54);
  EXPECT_EQ(s.expect[1].metric, "hit_ratio");
  EXPECT_EQ(s.expect[1].min, 0.8);
  EXPECT_EQ(s.expect[1].max, 1.0);
  EXPECT_FALSE(s.expect[1].equal.has_value());
  EXPECT_EQ(s.expect[1].line, 55);
  EXPECT_EQ(s.expect[2].max, 0.0);
  EXPECT_EQ(s.expect[2].line, 56);
}

TEST(Scenario, DefaultsAreTheStructDefaults) {
  const Scenario s = parse_ok("name: minimal\n");
  EXPECT_EQ(s.name, "minimal");
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.duration_ns, 10'000'000'000);
  EXPECT_EQ(s.interval_ns, 1'000'000'000);
  EXPECT_EQ(s.cluster.nodes, 3u);
  EXPECT_EQ(s.cluster.node_prefix, "node");
  EXPECT_EQ(s.cluster.vnodes, 256u);
  EXPECT_EQ(s.cluster.hash, "xxh64");
  EXPECT_EQ(s.cluster.memory_bytes, 64ull << 20);
  EXPECT_EQ(s.cluster.eviction, "lru");
  EXPECT_TRUE(s.cluster.filter);
  EXPECT_EQ(s.cluster.workers, 4u);
  EXPECT_EQ(s.cluster.queue_limit, 1'024u);
  expect_distribution(s.cluster.service.get, Distribution::Kind::kConstant, 2'000, 0);
  expect_distribution(s.cluster.service.set, Distribution::Kind::kConstant, 3'000, 0);
  EXPECT_EQ(s.cluster.routing, "client");
  EXPECT_EQ(s.cluster.rebalance, "cold");
  EXPECT_EQ(s.cluster.migration_batch_keys, 64u);
  expect_distribution(s.network.link.latency, Distribution::Kind::kConstant, 100'000, 0);
  EXPECT_EQ(s.network.link.bandwidth_bytes_per_s, 0.0);
  EXPECT_EQ(s.network.link.loss, 0.0);
  EXPECT_EQ(s.network.link.reorder_delay_ns, 1'000'000);
  EXPECT_EQ(s.workload.clients, 4u);
  EXPECT_EQ(s.workload.mode, "open");
  EXPECT_EQ(s.workload.rate_per_s, 100'000.0);
  EXPECT_EQ(s.workload.keys, 10'000u);
  EXPECT_EQ(s.workload.key_prefix, "key:");
  EXPECT_EQ(s.workload.popularity.kind, KeyPopularity::Kind::kUniform);
  EXPECT_EQ(s.workload.get_fraction, 0.9);
  EXPECT_EQ(s.workload.set_fraction, 0.1);
  EXPECT_EQ(s.workload.del_fraction, 0.0);
  expect_distribution(s.workload.value_bytes, Distribution::Kind::kConstant, 1'024, 0);
  EXPECT_EQ(s.workload.timeout_ns, 100'000'000);
  EXPECT_TRUE(s.timeline.empty());
  EXPECT_TRUE(s.expect.empty());
  Scenario defaults;
  defaults.name = "minimal";
  expect_same(s, defaults);

  // Empty sections and a mix that names only some fractions (the others are 0).
  const Scenario t = parse_ok("name: m\ncluster:\nnetwork: {}\nworkload: {mix: {set: 1}}\ntimeline:\nexpect: []\n");
  EXPECT_EQ(t.cluster.nodes, 3u);
  EXPECT_EQ(t.workload.get_fraction, 0.0);
  EXPECT_EQ(t.workload.set_fraction, 1.0);
  EXPECT_EQ(t.workload.del_fraction, 0.0);
}

TEST(Scenario, PopularityAndDistributionForms) {
  Scenario s = parse_ok("name: p\nworkload: {popularity: {zipfian: 0.7}, value_size: {constant: 100B}}\n");
  EXPECT_EQ(s.workload.popularity.kind, KeyPopularity::Kind::kZipfian);
  EXPECT_EQ(s.workload.popularity.zipf_skew, 0.7);
  EXPECT_FALSE(s.workload.popularity.zipf_scramble);
  expect_distribution(s.workload.value_bytes, Distribution::Kind::kConstant, 100, 0);
  s = parse_ok("name: p\nworkload: {popularity: {hotspot: {keys: 0.1, requests: 0.9}}}\n");
  EXPECT_EQ(s.workload.popularity.kind, KeyPopularity::Kind::kHotspot);
  EXPECT_EQ(s.workload.popularity.hot_key_fraction, 0.1);
  EXPECT_EQ(s.workload.popularity.hot_request_fraction, 0.9);
  s = parse_ok("name: p\nworkload: {popularity: sequential, rate: 1000}\n");
  EXPECT_EQ(s.workload.popularity.kind, KeyPopularity::Kind::kSequential);
  EXPECT_EQ(s.workload.rate_per_s, 1'000.0);
}

TEST(Scenario, ParseOverride) {
  auto o = parse_override("workload.rate=100k/s");
  ASSERT_TRUE(o.is_ok());
  EXPECT_EQ(o.value().path, "workload.rate");
  EXPECT_EQ(o.value().value, "100k/s");
  o = parse_override("description=a=b");
  ASSERT_TRUE(o.is_ok());
  EXPECT_EQ(o.value().path, "description");
  EXPECT_EQ(o.value().value, "a=b");
  o = parse_override("description=");
  ASSERT_TRUE(o.is_ok());
  EXPECT_EQ(o.value().value, "");

  EXPECT_EQ(parse_override("workload.rate").status().message(),
            "--set 'workload.rate': expected PATH=VALUE (e.g. workload.rate=100k/s)");
  EXPECT_EQ(parse_override("=5").status().message(), "--set '=5': empty path");
  EXPECT_EQ(parse_override("a..b=1").status().message(), "--set 'a..b=1': empty part in the dotted path");
  EXPECT_EQ(parse_override("a.=1").status().message(), "--set 'a.=1': empty part in the dotted path");
}

constexpr const char* kSmall = R"(name: small
cluster:
  nodes: 2
timeline:
  - {at: 1s, preload: 100}
  - {at: 2s, crash_node: node1}
)";

TEST(Scenario, OverridesReplaceCreateAndIndexLists) {
  const Scenario s = parse_ok(kSmall, {
                                          {"workload.rate", "50k/s"},
                                          {"timeline.1.at", "3s"},
                                          {"timeline.0", "{at: 4s, heal: true}"},
                                          {"network.loss", "0.01"},             // creates network:
                                          {"cluster.service_time.get", "5us"},  // creates service_time:
                                          {"seed", "1"},
                                          {"seed", "2"},  // in order: the last wins
                                          {"cluster.nodes", "4"},
                                      });
  EXPECT_EQ(s.workload.rate_per_s, 50'000.0);
  EXPECT_EQ(s.network.link.loss, 0.01);
  expect_distribution(s.cluster.service.get, Distribution::Kind::kConstant, 5'000, 0);
  expect_distribution(s.cluster.service.set, Distribution::Kind::kConstant, 3'000, 0);
  EXPECT_EQ(s.seed, 2u);
  EXPECT_EQ(s.cluster.nodes, 4u);
  ASSERT_EQ(s.timeline.size(), 2u);
  EXPECT_EQ(s.timeline[0].kind, Kind::kCrashNode);
  EXPECT_EQ(s.timeline[0].at_ns, 3'000'000'000);
  EXPECT_EQ(s.timeline[1].kind, Kind::kHeal);
  EXPECT_EQ(s.timeline[1].at_ns, 4'000'000'000);
}

TEST(Scenario, OverrideErrorsNameTheOverride) {
  EXPECT_EQ(parse_error(kSmall, {{"cluster.nodes", "five"}}),
            "--set cluster.nodes: expected an integer from 1 to 100000, got 'five'");
  EXPECT_EQ(parse_error(kSmall, {{"cluster.nodez", "5"}})
                .rfind("--set cluster.nodez: unknown key 'nodez' in cluster "
                       "(allowed: nodes, node_prefix, vnodes,",
                       0),
            0u);
  EXPECT_EQ(parse_error(kSmall, {{"foo.bar", "1"}}).rfind("--set foo.bar: unknown key 'foo' in the scenario", 0), 0u);
  EXPECT_EQ(parse_error(kSmall, {{"name.x", "1"}}),
            "--set name.x: 'name' is 'small', not a map or a list: cannot set 'x' inside it");
  EXPECT_EQ(parse_error(kSmall, {{"timeline.5.at", "1s"}}),
            "--set timeline.5.at: 'timeline' is a list of 2 items: '5' is not an index from 0 to 1");
  EXPECT_EQ(parse_error(kSmall, {{"timeline.x", "1s"}}),
            "--set timeline.x: 'timeline' is a list of 2 items: 'x' is not an index from 0 to 1");
  EXPECT_EQ(
      parse_error(kSmall, {{"workload.mix", "{get: 1"}}).rfind("--set workload.mix: malformed value '{get: 1': ", 0),
      0u);
  EXPECT_EQ(parse_error(kSmall, {{"timeline.1.at", "30s"}}),
            "--set timeline.1.at: 30s is after the end of the run (duration 10s)");
  EXPECT_EQ(parse_error(kSmall, {{"timeline.1.crash_node", "node9"}}),
            "--set timeline.1.crash_node: 'node9' is not a node of the cluster at 2s");
  EXPECT_EQ(parse_error(kSmall, {{"workload.mix.get", "2"}}), "--set workload.mix.get: must be in [0, 1], got 2");
  EXPECT_EQ(parse_error(kSmall, {{"", "2"}}), "--set : empty path");
  // An error in the file itself still names the file, overrides or not.
  EXPECT_EQ(parse_error("name: x\nseed: -1\n", {{"cluster.nodes", "2"}}),
            "test.yaml:2:7: seed: expected an integer from 0 to 18446744073709551615, got '-1'");
}

TEST(Scenario, ToYamlRoundTrips) {
  const Scenario s = parse_ok(kFull);
  const std::string yaml = to_yaml(s, {"written by a test", "second line"});
  EXPECT_EQ(yaml.rfind("# written by a test\n# second line\nname: \"rebalance5\"\n", 0), 0u) << yaml;
  const Scenario t = parse_ok(yaml);
  expect_same(t, s);
  EXPECT_EQ(to_yaml(t), to_yaml(s));

  // Canonical units and explicit values.
  EXPECT_NE(yaml.find("  memory: 32MiB\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  bandwidth: 1250000000B/s\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  rate: 200000/s\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("    get: 2500ns\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  - {at: 0s, preload: {first: 0, count: 10000}}\n"), std::string::npos) << yaml;

  // Defaults, and values whose text needs care: quotes, escapes, fractions.
  Scenario odd = parse_ok(R"(name: odd
description: "say \"hi\"\n\ttab \\ back, caf\u00e9"
workload:
  rate: 0.5/s
  key_prefix: ""
  popularity: {hotspot: {keys: 0.3, requests: 0.65}}
  value_size: {lognormal: {median: 1000B, p99: 3KiB}}
network: {bandwidth: 1bps, latency: {normal: {mean: 1500ns, stddev: 1us}}, loss: 1e-05}
cluster: {nodes: 1}
timeline: [{at: 10s, add_node: "true"}]
expect: [{metric: "a \"b\"", min: -2.5}]
)");
  EXPECT_EQ(odd.description, "say \"hi\"\n\ttab \\ back, caf\xC3\xA9");
  EXPECT_EQ(odd.network.link.bandwidth_bytes_per_s, 0.125);
  const Scenario odd2 = parse_ok(to_yaml(odd));
  expect_same(odd2, odd);
  EXPECT_EQ(to_yaml(odd2), to_yaml(odd));
  Scenario defaults;
  defaults.name = "d";
  const Scenario d2 = parse_ok(to_yaml(defaults));
  expect_same(d2, defaults);
}

TEST(Scenario, FileErrors) {
  const auto r = parse_scenario_file("/nonexistent/dir/x.yaml");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "/nonexistent/dir/x.yaml: cannot read file");
}

TEST(Scenario, TruncatedInputNeverThrows) {
  const std::string full = kFull;
  int failures = 0;
  for (std::size_t n = 0; n < full.size(); n += 3) {  // every third cut: ~600 parses
    core::Result<Scenario> r = core::Status::error("unset");
    EXPECT_NO_THROW(r = parse_scenario_text(full.substr(0, n), "cut.yaml")) << n;
    if (!r.is_ok()) {
      ++failures;
      EXPECT_EQ(r.status().message().rfind("cut.yaml:", 0), 0u) << n << ": " << r.status().message();
    }
  }
  EXPECT_GT(failures, 0);
}

TEST(Scenario, DeeplyNestedInputIsAnError) {
  const std::string text = "name: x\nseed: " + std::string(5'000, '[') + std::string(5'000, ']') + "\n";
  const std::string message = parse_error(text);
  EXPECT_EQ(message.rfind("test.yaml:2:", 0), 0u) << message;
  EXPECT_NE(message.find("malformed YAML: nested too deeply"), std::string::npos) << message;
}

std::vector<std::filesystem::path> yaml_files(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Each file's first line is `# expect: LINE:COL: TEXT`: the error must start
// with `<file>:LINE:COL: ` and contain TEXT.
TEST(Scenario, InvalidFilesReportPlaceAndReason) {
  const auto files = yaml_files(std::string(HCSIM_SOURCE_DIR) + "/tests/sim/scenario/invalid");
  EXPECT_GE(files.size(), 24u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    std::ifstream in(file);
    std::string first;
    std::getline(in, first);
    const std::string prefix = "# expect: ";
    ASSERT_EQ(first.rfind(prefix, 0), 0u) << first;
    const std::string spec = first.substr(prefix.size());
    const std::size_t colon1 = spec.find(':');
    const std::size_t colon2 = spec.find(':', colon1 + 1);
    ASSERT_NE(colon2, std::string::npos) << first;
    const std::string place = spec.substr(0, colon2 + 1);  // "7:10:"
    const std::string text = spec.substr(colon2 + 2);
    ASSERT_FALSE(text.empty());
    core::Result<Scenario> r = core::Status::error("unset");
    EXPECT_NO_THROW(r = parse_scenario_file(file.string()));
    ASSERT_FALSE(r.is_ok());
    const std::string& message = r.status().message();
    EXPECT_EQ(message.rfind(file.string() + ":" + place + " ", 0), 0u) << message;
    EXPECT_NE(message.find(text), std::string::npos) << message;
  }
}

TEST(Scenario, ValidFilesParse) {
  const auto files = yaml_files(std::string(HCSIM_SOURCE_DIR) + "/tests/sim/scenario/valid");
  EXPECT_GE(files.size(), 1u);
  for (const auto& file : files) {
    const auto r = parse_scenario_file(file.string());
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    if (r.is_ok()) {
      EXPECT_EQ(r.value().source_path, file.string());
    }
  }
}

// The example in scenarios/README.md is valid, and is the one under valid/.
TEST(Scenario, ReadmeExampleParses) {
  std::ifstream in(std::string(HCSIM_SOURCE_DIR) + "/scenarios/README.md");
  ASSERT_TRUE(in.good());
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t start = readme.find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  const std::size_t end = readme.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  const Scenario from_readme = parse_ok(readme.substr(start + 8, end - start - 8));
  const auto from_file =
      parse_scenario_file(std::string(HCSIM_SOURCE_DIR) + "/tests/sim/scenario/valid/rebalance5.yaml");
  ASSERT_TRUE(from_file.is_ok()) << from_file.status().message();
  EXPECT_EQ(to_yaml(from_readme), to_yaml(from_file.value()));
  EXPECT_EQ(from_readme.timeline.size(), 8u);
}

TEST(Scenario, MembershipSectionAndItsEvents) {
  const Scenario s = parse_ok(R"(name: m
cluster: {nodes: 5}
workload: {clients: 0}
membership:
  bootstrap: static
  seeds: [node2, node3]
  join_spread: 2s
  probe_interval: 2s
  probe_timeout: 800ms
  indirect_checks: 5
  suspicion_mult: 6
  retransmit_mult: 3
  gossip_interval: 100ms
  gossip_nodes: 4
  gossip_to_dead: 10s
  push_pull_interval: 30s
  reconnect_dead: false
timeline:
  - {at: 1s, pause_node: {node: node4, for: 3s}}
  - {at: 2s, clock_skew: {node: node5, offset: 1500ms, drift: 0.05}}
  - {at: 3s, loss_burst: {loss: 0.25, for: 2s, a: [node1], b: [node2, node3]}}
  - {at: 6s, loss_burst: {loss: 0.5, for: 1s}}
)");
  EXPECT_TRUE(s.membership.enabled);
  EXPECT_EQ(s.workload.clients, 0u);
  EXPECT_EQ(s.membership.bootstrap, "static");
  EXPECT_EQ(s.membership.seeds, (std::vector<std::string>{"node2", "node3"}));
  EXPECT_EQ(s.membership.join_spread_ns, 2'000'000'000);
  const core::cluster::SwimConfig& c = s.membership.swim;
  EXPECT_EQ(c.probe_interval_ns, 2'000'000'000);
  EXPECT_EQ(c.probe_timeout_ns, 800'000'000);
  EXPECT_EQ(c.indirect_checks, 5u);
  EXPECT_EQ(c.suspicion_mult, 6u);
  EXPECT_EQ(c.retransmit_mult, 3u);
  EXPECT_EQ(c.gossip_interval_ns, 100'000'000);
  EXPECT_EQ(c.gossip_nodes, 4u);
  EXPECT_EQ(c.gossip_to_dead_ns, 10'000'000'000);
  EXPECT_EQ(c.push_pull_interval_ns, 30'000'000'000);
  EXPECT_FALSE(c.reconnect_dead);
  ASSERT_EQ(s.timeline.size(), 4u);
  EXPECT_EQ(s.timeline[0].kind, TimelineEvent::Kind::kPauseNode);
  EXPECT_EQ(s.timeline[0].node, "node4");
  EXPECT_EQ(s.timeline[0].for_ns, 3'000'000'000);
  EXPECT_EQ(s.timeline[1].kind, TimelineEvent::Kind::kClockSkew);
  EXPECT_EQ(s.timeline[1].offset_ns, 1'500'000'000);
  EXPECT_DOUBLE_EQ(s.timeline[1].drift, 0.05);
  EXPECT_EQ(s.timeline[2].kind, TimelineEvent::Kind::kLossBurst);
  EXPECT_DOUBLE_EQ(s.timeline[2].loss, 0.25);
  EXPECT_EQ(s.timeline[2].a, (std::vector<std::string>{"node1"}));
  EXPECT_EQ(s.timeline[3].a, (std::vector<std::string>{"nodes"}));  // the default groups: every node
  EXPECT_EQ(s.timeline[3].b, (std::vector<std::string>{"nodes"}));
  // The resolved form says everything and reads back the same.
  const std::string yaml = to_yaml(s);
  EXPECT_NE(yaml.find("membership:\n  protocol: swim\n  bootstrap: static\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("{at: 2s, clock_skew: {node: \"node5\", offset: 1500ms, drift: 0.05}}"), std::string::npos)
      << yaml;
  EXPECT_EQ(to_yaml(parse_ok(yaml)), yaml);
  // Without the section, nothing of it is written and it stays off.
  const Scenario plain = parse_ok("name: p\n");
  EXPECT_FALSE(plain.membership.enabled);
  EXPECT_EQ(to_yaml(plain).find("membership:"), std::string::npos);
}

// Every shipped scenario parses, and its resolved form reads back the same.
TEST(Scenario, ShippedScenariosRoundTrip) {
  const auto files = yaml_files(std::string(HCSIM_SOURCE_DIR) + "/scenarios");
  EXPECT_GE(files.size(), 8u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const auto r = parse_scenario_file(file.string());
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    const std::string yaml = to_yaml(r.value());
    EXPECT_EQ(to_yaml(parse_ok(yaml)), yaml);
  }
}

}  // namespace
}  // namespace hcsim::sim
