#include "core/ring/distribution.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "core/ring/hash_ring.h"
#include "support/reference_ring.h"

namespace hcsim::core {
namespace {

std::shared_ptr<const RingSnapshot> seed_ring(int nodes, std::uint32_t vnodes = 256, HashKind h = HashKind::kXxh64) {
  HashRing r(HashRingConfig{.vnodes_per_node = vnodes, .hash = h});
  for (int i = 1; i <= nodes; ++i) EXPECT_TRUE(r.add_node("node" + std::to_string(i)).is_ok());
  return r.snapshot();
}

// The seed's published figures (seed-behaviour.md §1.10), exactly.
TEST(Distribution, SeedGoldenFiveNodes) {
  const auto st = analyze_distribution(*seed_ring(5), KeySet::sequential(10000));
  ASSERT_EQ(st.per_node.size(), 5u);
  const std::uint64_t expected[] = {1886, 1929, 2142, 2028, 2015};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(st.per_node[i].id, "node" + std::to_string(i + 1));
    EXPECT_EQ(st.per_node[i].keys, expected[i]);
  }
  EXPECT_EQ(st.min, 1886u);
  EXPECT_EQ(st.max, 2142u);
  EXPECT_DOUBLE_EQ(st.avg, 2000.0);
  EXPECT_EQ(std::round(st.load_factor * 100) / 100, 1.07);
  EXPECT_EQ(std::round(st.stddev * 100) / 100, 88.56);
}

TEST(Distribution, SeedGoldenMovementThreeToFour) {
  const auto before = seed_ring(3);
  const auto after = seed_ring(4);
  const auto m = compare_owners(*before, *after, KeySet::sequential(1000));
  EXPECT_EQ(m.moved_keys, 243u);
  EXPECT_DOUBLE_EQ(m.moved_fraction, 0.243);
}

// Owners computed once give exactly the figures of the streaming analyses.
TEST(Distribution, FiguresFromPrecomputedOwnersAreTheSame) {
  const auto before = seed_ring(3);
  const auto after = seed_ring(4);
  const KeySet keys = KeySet::sequential(1000);
  std::vector<std::uint64_t> hashes;
  keys.for_each([&](std::string_view k) { hashes.push_back(before->hash(k)); });
  const auto owners_before = primary_owners(*before, hashes);
  const auto owners_after = primary_owners(*after, hashes);
  const auto m = movement_of(*before, owners_before, *after, owners_after);
  EXPECT_EQ(m.moved_keys, 243u);
  EXPECT_EQ(m.expected_fraction, compare_owners(*before, *after, keys).expected_fraction);
  const auto five = seed_ring(5);
  std::vector<std::uint64_t> h5;
  KeySet::sequential(10000).for_each([&](std::string_view k) { h5.push_back(five->hash(k)); });
  const auto d = distribution_of(*five, primary_owners(*five, h5));
  const auto ref = analyze_distribution(*five, KeySet::sequential(10000));
  ASSERT_EQ(d.per_node.size(), ref.per_node.size());
  for (std::size_t i = 0; i < d.per_node.size(); ++i) EXPECT_EQ(d.per_node[i].keys, ref.per_node[i].keys);
  EXPECT_EQ(d.stddev, ref.stddev);
  EXPECT_EQ(d.load_factor, ref.load_factor);
  EXPECT_EQ(d.expected_stddev, ref.expected_stddev);
  // an empty ring owns nothing
  EXPECT_EQ(primary_owners(RingSnapshot(), h5)[0], kNoNode);
}

// Every configuration, not just the two above: against the independent
// reference ring, exactly.
TEST(Distribution, AgreesExactlyWithAnIndependentReference) {
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 24; ++trial) {
    const int nodes = std::uniform_int_distribution<int>(1, 12)(rng);
    const auto vnodes = static_cast<std::uint32_t>(std::uniform_int_distribution<int>(1, 300)(rng));
    const auto keys = static_cast<std::uint64_t>(std::uniform_int_distribution<int>(0, 3000)(rng));
    const bool xxh3 = trial % 3 == 0;
    SCOPED_TRACE(testing::Message() << nodes << " nodes x " << vnodes << " vnodes, " << keys << " keys, xxh3 " << xxh3);
    const auto snap = seed_ring(nodes, vnodes, xxh3 ? HashKind::kXxh3 : HashKind::kXxh64);
    test_support::ReferenceRing ref(xxh3);
    for (int i = 1; i <= nodes; ++i) ref.add("node" + std::to_string(i), static_cast<int>(vnodes));
    const auto got = analyze_distribution(*snap, KeySet::sequential(keys));
    const auto want = ref.stats(keys);
    for (const auto& n : got.per_node) ASSERT_EQ(n.keys, want.counts.at(n.id)) << n.id;
    EXPECT_EQ(got.min, want.min);
    EXPECT_EQ(got.max, want.max);
    EXPECT_NEAR(got.avg, want.avg, 1e-9);
    EXPECT_NEAR(got.stddev, want.stddev, 1e-9);
    EXPECT_NEAR(got.load_factor, want.load_factor, 1e-12);

    // Adding a node: moved keys against the reference's own count.
    const auto grown = snap->with_node("extra", vnodes);
    ref.add("extra", static_cast<int>(vnodes));
    std::uint64_t ref_moved = 0;
    test_support::ReferenceRing old_ref(xxh3);
    for (int i = 1; i <= nodes; ++i) old_ref.add("node" + std::to_string(i), static_cast<int>(vnodes));
    for (std::uint64_t k = 0; k < keys; ++k) {
      const std::string key = "key:" + std::to_string(k);
      ref_moved += old_ref.primary(key) != ref.primary(key);
    }
    EXPECT_EQ(compare_owners(*snap, grown, KeySet::sequential(keys)).moved_keys, ref_moved);
  }
}

TEST(Distribution, AverageCountsNodesThatGotNoKeys) {
  const auto st = analyze_distribution(*seed_ring(4), KeySet::sequential(1));
  EXPECT_EQ(st.nodes, 4u);
  EXPECT_DOUBLE_EQ(st.avg, 0.25);
  EXPECT_EQ(st.min, 0u);
  EXPECT_EQ(st.max, 1u);
  EXPECT_DOUBLE_EQ(st.load_factor, 4.0);
}

TEST(Distribution, DeadNodesAreListedButNotAveraged) {
  const auto snap = seed_ring(4)->with_alive("node2", false);
  const auto st = analyze_distribution(snap, KeySet::sequential(5000));
  EXPECT_EQ(st.nodes, 3u);
  EXPECT_EQ(st.per_node.size(), 4u);
  EXPECT_FALSE(st.per_node[1].alive);
  EXPECT_EQ(st.per_node[1].keys, 0u);
  EXPECT_DOUBLE_EQ(st.avg, 5000.0 / 3);
}

TEST(Distribution, ExplicitKeyLists) {
  const auto snap = seed_ring(3);
  const auto st = analyze_distribution(*snap, KeySet::list({"user:1", "user:2", "session:abc"}));
  EXPECT_EQ(st.total_keys, 3u);
  EXPECT_EQ(st.per_node[0].keys, 2u);  // node1: user:1, user:2
  EXPECT_EQ(st.per_node[2].keys, 1u);  // node3: session:abc
}

// Minimal movement: on add, every moved key goes to the new node; on remove,
// only the removed node's keys move.
TEST(Distribution, MovementIsMinimal) {
  for (int nodes : {2, 5, 9}) {
    const auto before = seed_ring(nodes, 128);
    const auto added = before->with_node("new", 128);
    const auto removed = before->without_node("node2");
    std::uint64_t to_new = 0;
    KeySet::sequential(20000).for_each([&](std::string_view key) {
      const std::string& was = before->node_id(before->primary(key));
      const std::string& now_add = added.node_id(added.primary(key));
      if (was != now_add) {
        ASSERT_EQ(now_add, "new") << key;
        ++to_new;
      }
      const std::string& now_rm = removed.node_id(removed.primary(key));
      if (was != "node2") ASSERT_EQ(now_rm, was) << key;
      else ASSERT_NE(now_rm, "node2");
    });
    EXPECT_GT(to_new, 0u);
  }
}

// Theory: the moved fraction on adding a node tends to the new node's arc
// share; with K keys the count is Binomial(K, share), so allow 4 sigma.
TEST(Distribution, MovedFractionMatchesTheNewNodesArcShare) {
  for (int nodes : {3, 10, 30}) {
    const auto before = seed_ring(nodes, 256);
    const auto after = before->with_node("new", 256);
    const double share = after.arc_shares()[after.find_node("new")];
    EXPECT_NEAR(changed_arc_share(*before, after), share, 1e-12);
    const std::uint64_t k = 200000;
    const auto m = compare_owners(*before, after, KeySet::sequential(k));
    const double sigma = std::sqrt(share * (1 - share) / static_cast<double>(k));
    EXPECT_NEAR(m.moved_fraction, share, 4 * sigma) << nodes << " nodes";
    EXPECT_DOUBLE_EQ(m.expected_fraction, changed_arc_share(*before, after));
    // and the share is near the ideal 1/(N+1) within the ring's 1/sqrt(V) spread
    EXPECT_NEAR(share, 1.0 / (nodes + 1), 4.0 / (nodes + 1) / std::sqrt(256.0));
  }
}

TEST(Distribution, KeySetGeneratesTheSeedNames) {
  std::vector<std::string> seen;
  KeySet::sequential(3).for_each([&](std::string_view k) { seen.emplace_back(k); });
  EXPECT_EQ(seen, (std::vector<std::string>{"key:0", "key:1", "key:2"}));
  EXPECT_EQ(KeySet::sequential(12, "user:").size(), 12u);
}

}  // namespace
}  // namespace hcsim::core
