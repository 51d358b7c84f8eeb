#include "core/ring/ring_snapshot.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <memory>
#include <random>
#include <tuple>
#include <utility>

#include <gtest/gtest.h>

namespace hcsim::core {
namespace {

RingSnapshot build(int nodes, std::uint32_t vnodes, HashKind hash = HashKind::kXxh64) {
  std::vector<RingSnapshot::NodeEntry> entries;
  for (int i = 1; i <= nodes; ++i) entries.push_back({"node" + std::to_string(i), vnodes, true});
  return RingSnapshot(hash, std::move(entries));
}

// successor() against std::lower_bound over the same positions.
void expect_successor_exact(const RingSnapshot& r, std::mt19937_64& rng, int probes) {
  const auto pos = r.positions();
  ASSERT_TRUE(std::is_sorted(pos.begin(), pos.end()));
  auto reference = [&](std::uint64_t h) {
    const auto it = std::lower_bound(pos.begin(), pos.end(), h);
    return it == pos.end() ? std::size_t{0} : static_cast<std::size_t>(it - pos.begin());
  };
  std::vector<std::uint64_t> probes_list = {0, 1, std::numeric_limits<std::uint64_t>::max()};
  for (const std::uint64_t p : pos) {  // on, just before and just after every point
    probes_list.push_back(p);
    probes_list.push_back(p - 1);
    probes_list.push_back(p + 1);
  }
  for (int i = 0; i < probes; ++i) probes_list.push_back(rng());
  for (const std::uint64_t h : probes_list) ASSERT_EQ(r.successor(h), reference(h)) << "hash " << h;
}

TEST(RingSnapshot, SuccessorEqualsLowerBoundForManyGeometries) {
  std::mt19937_64 rng(7);
  for (int nodes : {1, 2, 3, 10, 37}) {
    for (std::uint32_t vnodes : {1u, 2u, 7u, 100u, 256u}) {
      SCOPED_TRACE(testing::Message() << nodes << " x " << vnodes);
      expect_successor_exact(build(nodes, vnodes), rng, 2000);
      expect_successor_exact(build(nodes, vnodes, HashKind::kXxh3), rng, 500);
    }
  }
}

TEST(RingSnapshot, CrowdedBucketsStillExact) {
  // Points packed into a tiny arc crowd one bucket of the index far past the
  // two unconditional steps. Built from raw positions through with_node on a
  // ring whose ids hash close together is impractical, so use many vnodes of
  // few nodes and probe every point: buckets of 3+ occur at this density.
  std::mt19937_64 rng(11);
  const RingSnapshot r = build(3, 4000);
  std::size_t crowded = 0;
  const auto pos = r.positions();
  const unsigned b = static_cast<unsigned>(std::bit_width(pos.size() - 1));
  for (std::size_t i = 2; i < pos.size(); ++i) crowded += (pos[i] >> (64 - b)) == (pos[i - 2] >> (64 - b));
  ASSERT_GT(crowded, 0u) << "the test needs buckets with three or more points";
  expect_successor_exact(r, rng, 5000);
}

TEST(RingSnapshot, EmptyRingHasNoOwner) {
  const RingSnapshot r;
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.vnode_count(), 0u);
  EXPECT_EQ(r.primary("anything"), kNoNode);
  std::vector<NodeIndex> out(3);
  EXPECT_EQ(r.replicas("anything", out), 0u);
}

TEST(RingSnapshot, IncrementalChangesEqualFromScratchBuilds) {
  RingSnapshot r = build(4, 128);
  r = r.with_node("node5", 128);
  const RingSnapshot scratch5 = build(5, 128);
  EXPECT_TRUE(std::ranges::equal(r.positions(), scratch5.positions()));
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "k" + std::to_string(i);
    ASSERT_EQ(r.node_id(r.primary(key)), scratch5.node_id(scratch5.primary(key)));
  }
  r = r.without_node("node5");
  const RingSnapshot scratch4 = build(4, 128);
  EXPECT_TRUE(std::ranges::equal(r.positions(), scratch4.positions()));
  EXPECT_EQ(r.node_count(), 4u);
  EXPECT_EQ(r.find_node("node5"), kNoNode);
}

// with_node and without_node copy the old points in blocks and shift the old
// index instead of rebuilding it (when its width stays the same). A random
// walk of adds and removes, some keeping the width and some crossing a power
// of two, compared after every step with a ring built from scratch: the
// points, every point's owner, the index (through successor), the replicas.
TEST(RingSnapshot, EveryIncrementalStepEqualsAFromScratchBuild) {
  std::mt19937_64 rng(2026);
  RingSnapshot r = build(3, 50);
  int next_id = 4;
  int width_kept = 0;
  for (int step = 0; step < 80; ++step) {
    const std::size_t before = r.vnode_count();
    if (r.node_count() > 1 && rng() % 2 == 0) {
      r = r.without_node(r.node_id(static_cast<NodeIndex>(rng() % r.node_count())));
    } else {
      const std::uint32_t choices[] = {1, 3, 50, 256};
      r = r.with_node("node" + std::to_string(next_id++), choices[rng() % 4]);
    }
    width_kept += std::bit_width(before - 1) == std::bit_width(r.vnode_count() - 1);
    SCOPED_TRACE(testing::Message() << "step " << step << ": " << r.node_count() << " nodes, " << r.vnode_count()
                                    << " points");
    const RingSnapshot scratch(HashKind::kXxh64, r.nodes());
    ASSERT_TRUE(std::ranges::equal(r.positions(), scratch.positions()));
    for (const std::uint64_t p : r.positions()) {
      ASSERT_EQ(r.node_id(r.primary_for_hash(p)), scratch.node_id(scratch.primary_for_hash(p)));
    }
    expect_successor_exact(r, rng, 200);
    std::vector<NodeIndex> got(4);
    std::vector<NodeIndex> want(4);
    for (int i = 0; i < 100; ++i) {
      const std::string key = "key:" + std::to_string(i);
      const std::size_t n = r.replicas(key, got);
      ASSERT_EQ(n, scratch.replicas(key, want));
      for (std::size_t j = 0; j < n; ++j) ASSERT_EQ(r.node_id(got[j]), scratch.node_id(want[j]));
    }
  }
  EXPECT_GT(width_kept, 20) << "too few steps exercised the shifted index";
  EXPECT_LT(width_kept, 80) << "no step rebuilt the index";
}

// Vnode keys are written with their decimal digits counted up in place; every
// carry (9 -> 10 up to 99999 -> 100000) against keys formatted independently,
// both when a snapshot is built and when a node is added to one. A new
// node's positions are sorted by a radix pass over their top 16 bits plus an
// insertion sort up to 65,536 of them (12,000 share those bits a thousand
// times over), by std::sort past that.
TEST(RingSnapshot, VnodePositionsAreTheHashesOfTheSeedKeysAcrossDigitCarries) {
  for (const std::uint32_t vnodes : {12000u, 65536u, 100001u}) {
    SCOPED_TRACE(vnodes);
    std::vector<std::uint64_t> want;
    for (std::uint32_t v = 0; v < vnodes; ++v) {
      const std::string key = "n7:" + std::to_string(v);
      want.push_back(XXH64(key.data(), key.size(), 0));
    }
    std::sort(want.begin(), want.end());
    const RingSnapshot built(HashKind::kXxh64, {{"n7", vnodes, true}});
    EXPECT_TRUE(std::ranges::equal(built.positions(), want));
    const RingSnapshot added = RingSnapshot().with_node("n7", vnodes);
    EXPECT_TRUE(std::ranges::equal(added.positions(), want));
    const RingSnapshot second = build(2, 40).with_node("n7", vnodes);
    EXPECT_EQ(second.vnode_count(), vnodes + 80u);
    EXPECT_TRUE(std::ranges::includes(second.positions(), want));
  }
}

// Entries whose positions a test chose: equal positions, which XXH64 of real
// vnode keys practically never gives, in the tie order (by node id).
std::vector<RingSnapshot::NodeEntry> chosen_positions(
    const std::vector<std::pair<std::string, std::vector<std::uint64_t>>>& nodes) {
  std::vector<RingSnapshot::NodeEntry> entries;
  for (const auto& [id, sorted] : nodes) {
    entries.push_back({id, static_cast<std::uint32_t>(sorted.size()), true,
                       std::make_shared<const RingSnapshot::NodePositions>(
                           RingSnapshot::NodePositions{HashKind::kXxh64, id, sorted})});
  }
  return entries;
}

// Removing a node finds its points by searching for its positions; where
// another node (or the node itself) has the same position, it must take
// exactly its own points. Each removal against a build of the rest.
TEST(RingSnapshot, RemovingANodeWhosePositionsTieTakesExactlyItsPoints) {
  const std::vector<std::pair<std::string, std::vector<std::uint64_t>>> nodes = {
      {"a", {5, 10, 10, 40, 40}}, {"b", {10, 20, 40}}, {"c", {10, 40, 50, 50}}, {"d", {7, 20, 60}}};
  const RingSnapshot all(HashKind::kXxh64, chosen_positions(nodes));
  ASSERT_EQ(all.vnode_count(), 15u);
  for (std::size_t gone = 0; gone < nodes.size(); ++gone) {
    SCOPED_TRACE(nodes[gone].first);
    auto rest = nodes;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(gone));
    const RingSnapshot removed = all.without_node(nodes[gone].first);
    const RingSnapshot scratch(HashKind::kXxh64, chosen_positions(rest));
    ASSERT_TRUE(std::ranges::equal(removed.positions(), scratch.positions()));
    for (std::uint64_t h = 0; h <= 61; ++h) {
      ASSERT_EQ(removed.node_id(removed.primary_for_hash(h)), scratch.node_id(scratch.primary_for_hash(h))) << h;
    }
  }
}

// A snapshot keeps each node's sorted positions in its entry; building from
// entries reuses them only when they were computed for the same hash, id and
// vnode count, and hashes again otherwise.
TEST(RingSnapshot, EntriesCarryTheirPositionsAndStalePositionsAreRecomputed) {
  const RingSnapshot r = build(3, 64);
  for (const auto& n : r.nodes()) {
    ASSERT_NE(n.positions, nullptr);
    const RingSnapshot alone(HashKind::kXxh64, {{n.id, 64, true}});
    EXPECT_TRUE(std::ranges::equal(n.positions->sorted, alone.positions()));
  }
  const std::vector<std::uint64_t> fake = {1, 2, 3};
  for (const auto& [hash, id, vnodes] : {std::tuple{HashKind::kXxh3, "x", 3u}, std::tuple{HashKind::kXxh64, "y", 3u},
                                         std::tuple{HashKind::kXxh64, "x", 4u}}) {
    std::vector<RingSnapshot::NodeEntry> entries = {
        {"x", vnodes, true, std::make_shared<const RingSnapshot::NodePositions>(RingSnapshot::NodePositions{hash, id, fake})}};
    const RingSnapshot built(HashKind::kXxh64, entries);
    const RingSnapshot fresh(HashKind::kXxh64, {{"x", vnodes, true}});
    EXPECT_TRUE(std::ranges::equal(built.positions(), fresh.positions()));
    EXPECT_FALSE(std::ranges::equal(built.positions(), fake));
  }
}

TEST(RingSnapshot, RemovingAMiddleNodeRenumbersOwners) {
  RingSnapshot r = build(5, 64).without_node("node2");
  ASSERT_EQ(r.node_count(), 4u);
  EXPECT_EQ(r.node_id(1), "node3");
  std::vector<NodeIndex> out(4);
  for (int i = 0; i < 500; ++i) {
    const std::size_t n = r.replicas("key:" + std::to_string(i), out);
    ASSERT_EQ(n, 4u);
    for (std::size_t j = 0; j < n; ++j) ASSERT_LT(out[j], 4u);
  }
}

TEST(RingSnapshot, ArcSharesSumToOneAndFollowAliveness) {
  RingSnapshot r = build(5, 256);
  auto shares = r.arc_shares();
  double sum = 0;
  for (double s : shares) sum += s;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  r = r.with_alive("node3", false);
  shares = r.arc_shares();
  EXPECT_EQ(shares[r.find_node("node3")], 0.0);
  sum = 0;
  for (double s : shares) sum += s;
  EXPECT_NEAR(sum, 1.0, 1e-12);
}

TEST(RingSnapshot, SingleVnodeOwnsEverything) {
  const RingSnapshot r = build(1, 1);
  EXPECT_EQ(r.arc_shares()[0], 1.0);
  EXPECT_EQ(r.primary("x"), 0u);
}

TEST(RingSnapshot, VnodeKeyIsTheSeedFormat) {
  EXPECT_EQ(vnode_key("node1", 0), "node1:0");
  EXPECT_EQ(vnode_key("a:b", 4294967295u), "a:b:4294967295");
  const std::string long_id(1000, 'x');  // past HashRing's limit: still formatted whole
  EXPECT_EQ(vnode_key(long_id, 7), long_id + ":7");
}

}  // namespace
}  // namespace hcsim::core
