// End-to-end: run the hcsim binary as a user would and check what it prints
// and how it exits.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "support/hcsim_process.h"

namespace {

using Result = hcsim::testing::ProcessResult;
using hcsim::testing::has;
Result hcsim(const std::string& args) { return hcsim::testing::run_hcsim(args); }

TEST(HcsimDist, SeedFiveNodeFigures) {
  const Result r = hcsim("dist --nodes 5 --vnodes 256 --keys 10000");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "average            2000.00")) << r.out;
  EXPECT_TRUE(has(r.out, "load factor           1.07")) << r.out;
  EXPECT_TRUE(has(r.out, "std dev              88.56")) << r.out;
}

TEST(HcsimDist, SeedMovementFigure) {
  const Result r = hcsim("dist --nodes 3 --vnodes 256 --keys 1000 --add 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "(24.3%)")) << r.out;
}

TEST(HcsimDist, JsonIsOneObject) {
  const Result r = hcsim("dist --nodes 5 --keys 10000 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "}\n");
  EXPECT_TRUE(has(r.out, "\"avg\":2000,"));
  EXPECT_TRUE(has(r.out, "\"load_factor\":1.071,"));
  EXPECT_TRUE(has(r.out, "\"per_node\":{\"node1\":1886,\"node2\":1929,\"node3\":2142,\"node4\":2028,\"node5\":2015}"));
}

TEST(HcsimDist, Xxh3ChangesPlacement) {
  const Result a = hcsim("dist --nodes 5 --keys 10000 --format csv");
  const Result b = hcsim("dist --nodes 5 --keys 10000 --format csv --hash xxh3");
  ASSERT_EQ(a.status, 0);
  ASSERT_EQ(b.status, 0);
  EXPECT_NE(a.out, b.out);
}

TEST(HcsimDist, BadInputExitsTwoWithAMessageAndPrintsNothing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"dist --nodes 0", "--nodes must be in 1..100000 (got 0)"},
      {"dist --nodes 3 --remove 3", "--remove 3 would leave no node"},
      {"dist --format xml", "--format"},
      {"dist --hash md5", "--hash"},
      {"dist --nodes abc", "--nodes"},
      {"dist --frobnicate", "frobnicate"},
      {"", "subcommand"},
      {"nosuchcommand", "nosuchcommand"},
  };
  for (const auto& [args, message] : cases) {
    const Result r = hcsim(args);
    EXPECT_EQ(r.status, 2) << args;
    EXPECT_TRUE(has(r.err, message)) << args << ": " << r.err;
    EXPECT_EQ(r.out, "") << args;
  }
}

TEST(HcsimHelp, EverySubcommandHasHelp) {
  for (const std::string sub : {"", "dist ", "bench "}) {
    const Result r = hcsim(sub + "--help");
    EXPECT_EQ(r.status, 0) << sub;
    EXPECT_TRUE(has(r.out, "Usage")) << sub << r.out;
  }
  EXPECT_TRUE(has(hcsim("dist --help").out, "hcsim dist --nodes 3 --vnodes 256 --keys 1000 --add 1"));
  EXPECT_EQ(hcsim("--version").status, 0);
}

TEST(HcsimBench, ListsTheBenchmarksWithTheirSetups) {
  const Result r = hcsim("bench --list");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* name : {"getnode ", "getnode-cold ", "getreplicas ", "getreplicas-cold ", "addremove "}) {
    EXPECT_TRUE(has(r.out, name)) << name;
  }
  EXPECT_TRUE(has(r.out, "10 nodes x 256 vnodes"));
}

TEST(HcsimBench, UnknownBenchmarkExitsTwo) {
  const Result r = hcsim("bench nosuchbench");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "unknown benchmark 'nosuchbench'")) << r.err;
}

TEST(HcsimBench, RunsAndReportsItemsPerSecondAsJson) {
  const Result r = hcsim("bench getnode addremove --min-time 0.01 --format json --threads 1,2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "\"name\": \"getnode/real_time/threads:1\"")) << r.out;
  EXPECT_TRUE(has(r.out, "\"name\": \"getnode/real_time/threads:2\"")) << r.out;
  EXPECT_TRUE(has(r.out, "\"name\": \"addremove/real_time/threads:1\"")) << r.out;
  EXPECT_TRUE(has(r.out, "\"items_per_second\"")) << r.out;
}

// Benchmarks with different counters share one CSV table (Google Benchmark's
// own CSV reporter aborted on the second one's counters).
TEST(HcsimBench, CsvHasAColumnForEveryBenchmarksCounters) {
  const Result r = hcsim("bench getnode filter-add --min-time 0.01 --format csv");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string header = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(header,
            "name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,error_occurred,"
            "error_message,\"kicks_per_add\"")
      << r.out;
  EXPECT_TRUE(has(r.out, "\n\"getnode/real_time/threads:1\",")) << r.out;
  EXPECT_TRUE(has(r.out, "\n\"filter-add/real_time/threads:1\",")) << r.out;
  // getnode has no such counter: its row ends in an empty cell.
  const std::size_t row = r.out.find("\n\"getnode/");
  const std::string getnode_row = r.out.substr(row + 1, r.out.find('\n', row + 1) - row - 1);
  EXPECT_EQ(getnode_row.back(), ',') << getnode_row;
  EXPECT_EQ(std::count(getnode_row.begin(), getnode_row.end(), ','), 10) << getnode_row;
}

}  // namespace
