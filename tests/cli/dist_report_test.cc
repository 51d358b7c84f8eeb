#include "cli/dist_report.h"

#include <gtest/gtest.h>

namespace hcsim::cli {
namespace {

DistOptions opts(std::uint32_t nodes, std::uint64_t keys, std::uint32_t add = 0, std::uint32_t remove = 0) {
  DistOptions o;
  o.nodes = nodes;
  o.keys = keys;
  o.add = add;
  o.remove = remove;
  return o;
}

TEST(DistReport, ValidationNamesTheFlag) {
  DistOptions o;
  o.nodes = 0;
  EXPECT_EQ(validate(o).message(), "--nodes must be in 1..100000 (got 0)");
  o = {};
  o.vnodes = 0;
  EXPECT_EQ(validate(o).message(), "--vnodes must be in 1..65536 (got 0)");
  o = {};
  o.keys = kMaxDistKeys + 1;
  EXPECT_EQ(validate(o).message(), "--keys must be at most 1000000000 (got 1000000001)");
  o = {};
  o.remove = 5;
  EXPECT_EQ(validate(o).message(), "--remove 5 would leave no node (there are 5); add nodes or remove fewer");
  o.add = 1;
  EXPECT_TRUE(validate(o).is_ok());
  o.remove = 6;
  EXPECT_EQ(validate(o).message(), "--remove 6 is more than the 5 nodes there are");
  o = {};
  o.nodes = 100000;
  o.vnodes = 65536;
  EXPECT_EQ(validate(o).message(),
            "(nodes + add) x vnodes = 6553600000 is more than the ring's limit of 134217728 vnodes");
}

TEST(DistReport, TableShowsTheSeedFigures) {
  const std::string out = format_dist(build_dist_report({}), DistFormat::kTable);
  EXPECT_NE(out.find("average            2000.00"), std::string::npos) << out;
  EXPECT_NE(out.find("load factor           1.07"), std::string::npos) << out;
  EXPECT_NE(out.find("std dev              88.56"), std::string::npos) << out;
}

TEST(DistReport, MovementThreeToFour) {
  const DistReport r = build_dist_report(opts(3, 1000, 1));
  ASSERT_TRUE(r.movement.has_value());
  EXPECT_EQ(r.movement->moved_keys, 243u);
  const std::string out = format_dist(r, DistFormat::kTable);
  EXPECT_NE(out.find("moved: 243 of 1000 keys (24.3%)"), std::string::npos) << out;
  EXPECT_NE(out.find("after (added node4..node4)"), std::string::npos) << out;
}

TEST(DistReport, RemoveTakesTheLastNodesAndAddAndRemoveCombine) {
  DistOptions o = opts(4, 2000, 0, 1);
  DistReport r = build_dist_report(o);
  ASSERT_EQ(r.after->per_node.size(), 3u);
  EXPECT_EQ(r.after->per_node.back().id, "node3");
  o.add = 2;
  r = build_dist_report(o);
  ASSERT_EQ(r.after->per_node.size(), 5u);
  EXPECT_EQ(r.after->per_node.back().id, "node6");
  for (const auto& n : r.after->per_node) EXPECT_NE(n.id, "node4");
}

TEST(DistReport, CsvHasOneRowPerNodeAndState) {
  DistOptions o = opts(2, 10);
  EXPECT_EQ(format_dist(build_dist_report(o), DistFormat::kCsv).rfind("state,node,alive,keys,share,arc_share\n", 0),
            0u);
  o.add = 1;
  const std::string csv = format_dist(build_dist_report(o), DistFormat::kCsv);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 + 3);
  EXPECT_NE(csv.find("\nafter,node3,1,"), std::string::npos) << csv;
}

TEST(DistReport, JsonHasTheRequiredFields) {
  const std::string json = format_dist(build_dist_report(opts(3, 1000, 1)), DistFormat::kJson);
  for (const char* field : {"\"nodes\":4", "\"keys\":1000", "\"avg\":250", "\"min\":", "\"max\":", "\"load_factor\":",
                            "\"stddev\":", "\"per_node\":{\"node1\":", "\"moved_fraction\":0.243", "\"before\":{"}) {
    EXPECT_NE(json.find(field), std::string::npos) << field << " in " << json;
  }
  EXPECT_EQ(json.back(), '\n');
}

}  // namespace
}  // namespace hcsim::cli
