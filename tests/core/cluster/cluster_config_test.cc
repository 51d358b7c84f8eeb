#include "core/cluster/cluster_config.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace hcsim::core::cluster {
namespace {

ClusterConfig valid_config() {
  ClusterConfig c;
  c.node_id = "node-1";
  return c;
}

std::string error_of(const ClusterConfig& c) {
  const Status s = validate_cluster_config(c);
  return s.is_ok() ? "ok" : s.message();
}

TEST(ClusterConfig, DefaultsAreTheSeeds) {
  const ClusterConfig c;
  EXPECT_EQ(c.node_id, "");
  EXPECT_EQ(c.cluster_name, "hypercache");
  EXPECT_EQ(c.bind_address, "0.0.0.0");
  EXPECT_EQ(c.bind_port, 7946u);
  EXPECT_TRUE(c.seed_nodes.empty());
  EXPECT_EQ(c.join_timeout_ns, 30'000'000'000);
  EXPECT_EQ(c.heartbeat_interval_ns, 5'000'000'000);
  EXPECT_EQ(c.failure_detection_timeout_ns, 30'000'000'000);
  EXPECT_EQ(c.hash_ring.vnodes_per_node, 256u);
  EXPECT_EQ(c.hash_ring.replication_factor, 3u);
}

TEST(ClusterConfig, ValidDefaultWithNodeId) { EXPECT_EQ(error_of(valid_config()), "ok"); }

// The seed's six invalid cases, with their exact messages.
TEST(ClusterConfig, EmptyNodeId) {
  ClusterConfig c = valid_config();
  c.node_id = "";
  EXPECT_EQ(error_of(c), "invalid cluster configuration: node_id is required");
}

TEST(ClusterConfig, EmptyClusterName) {
  ClusterConfig c = valid_config();
  c.cluster_name = "";
  EXPECT_EQ(error_of(c), "invalid cluster configuration: cluster_name is required");
}

TEST(ClusterConfig, PortZero) {
  ClusterConfig c = valid_config();
  c.bind_port = 0;
  EXPECT_EQ(error_of(c), "invalid cluster configuration: bind_port must be between 1 and 65535");
}

TEST(ClusterConfig, Port70000) {
  ClusterConfig c = valid_config();
  c.bind_port = 70000;
  EXPECT_EQ(error_of(c), "invalid cluster configuration: bind_port must be between 1 and 65535");
}

TEST(ClusterConfig, HeartbeatZero) {
  ClusterConfig c = valid_config();
  c.heartbeat_interval_ns = 0;
  EXPECT_EQ(error_of(c), "invalid cluster configuration: heartbeat_interval must be positive");
  c.heartbeat_interval_ns = -1;
  EXPECT_EQ(error_of(c), "invalid cluster configuration: heartbeat_interval must be positive");
}

TEST(ClusterConfig, FailureTimeoutBelowHeartbeat) {
  ClusterConfig c = valid_config();
  c.failure_detection_timeout_ns = c.heartbeat_interval_ns - 1;
  EXPECT_EQ(error_of(c),
            "invalid cluster configuration: failure_detection_timeout must be greater than heartbeat_interval");
  c.failure_detection_timeout_ns = c.heartbeat_interval_ns;  // equal is not greater
  EXPECT_EQ(error_of(c),
            "invalid cluster configuration: failure_detection_timeout must be greater than heartbeat_interval");
  c.failure_detection_timeout_ns = c.heartbeat_interval_ns + 1;
  EXPECT_EQ(error_of(c), "ok");
}

TEST(ClusterConfig, PortBoundsAreInclusive) {
  ClusterConfig c = valid_config();
  c.bind_port = 1;
  EXPECT_EQ(error_of(c), "ok");
  c.bind_port = 65535;
  EXPECT_EQ(error_of(c), "ok");
  c.bind_port = 65536;
  EXPECT_NE(error_of(c), "ok");
}

TEST(ClusterConfig, RulesAreCheckedInTheSeedsOrder) {
  ClusterConfig c;  // every seed rule broken at once
  c.cluster_name = "";
  c.bind_port = 0;
  c.heartbeat_interval_ns = 0;
  c.failure_detection_timeout_ns = 0;
  EXPECT_EQ(error_of(c), "invalid cluster configuration: node_id is required");
  c.node_id = "n";
  EXPECT_EQ(error_of(c), "invalid cluster configuration: cluster_name is required");
  c.cluster_name = "x";
  EXPECT_EQ(error_of(c), "invalid cluster configuration: bind_port must be between 1 and 65535");
  c.bind_port = 80;
  EXPECT_EQ(error_of(c), "invalid cluster configuration: heartbeat_interval must be positive");
  c.heartbeat_interval_ns = 10;
  EXPECT_EQ(error_of(c),
            "invalid cluster configuration: failure_detection_timeout must be greater than heartbeat_interval");
  c.failure_detection_timeout_ns = 11;
  EXPECT_EQ(error_of(c), "ok");
}

TEST(ClusterConfig, OurBoundsAfterTheSeeds) {
  ClusterConfig c = valid_config();
  c.node_id = std::string(256, 'n');
  EXPECT_EQ(error_of(c), "invalid cluster configuration: node_id must be at most 255 bytes");
  c.node_id = std::string(255, 'n');
  EXPECT_EQ(error_of(c), "ok");

  c = valid_config();
  c.join_timeout_ns = 0;
  EXPECT_EQ(error_of(c), "invalid cluster configuration: join_timeout must be positive");

  c = valid_config();
  c.seed_nodes.assign(kMaxSeedNodes + 1, 7);
  EXPECT_EQ(error_of(c), "invalid cluster configuration: seed_nodes must hold at most 1024 addresses");
  c.seed_nodes.resize(kMaxSeedNodes);
  EXPECT_EQ(error_of(c), "ok");

  c = valid_config();
  c.hash_ring.vnodes_per_node = 0;
  EXPECT_EQ(error_of(c), "invalid cluster configuration: hash_ring: vnodes_per_node must be in 1..65536 (got 0)");
  c = valid_config();
  c.hash_ring.replication_factor = 0;
  EXPECT_EQ(error_of(c), "invalid cluster configuration: hash_ring: replication_factor must be in 1..1024 (got 0)");
}

TEST(GenerateNodeId, PrefixedUniqueAndDeterministic) {
  SeededRandom random(42);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = generate_node_id(random);
    ASSERT_EQ(id.rfind("node-", 0), 0u) << id;
    ASSERT_EQ(id.size(), 5u + 16u) << id;
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef", 5), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  SeededRandom a(7);
  SeededRandom b(7);
  EXPECT_EQ(generate_node_id(a), generate_node_id(b));
  SeededRandom c(8);
  EXPECT_NE(generate_node_id(a), generate_node_id(c));
}

TEST(GenerateNodeId, ValidatesAsNodeId) {
  SeededRandom random(1);
  ClusterConfig c;
  c.node_id = generate_node_id(random);
  EXPECT_EQ(error_of(c), "ok");
}

}  // namespace
}  // namespace hcsim::core::cluster
