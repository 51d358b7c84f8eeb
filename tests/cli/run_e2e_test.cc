// End-to-end: `hcsim run` as a user runs it: files written, determinism,
// exit statuses 0/1/2, nothing written on bad input, reproducible from the
// resolved scenario.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/hcsim_process.h"

namespace {

using hcsim::testing::has;
using hcsim::testing::run_hcsim;
namespace fs = std::filesystem;

const std::string kTiny = std::string(HCSIM_SOURCE_DIR) + "/tests/cli/data/tiny.yaml";
const std::vector<std::string> kDeterministic = {"summary.csv", "timeseries.csv", "nodes.csv", "distribution.csv",
                                                 "events.csv", "scenario.yaml"};

std::string out_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "hcsim_run_e2e_" + std::to_string(getpid()) + "_" + name;
  fs::remove_all(dir);
  return dir;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(HcsimRun, WritesEveryReportAndPassesItsChecks) {
  const std::string dir = out_dir("basic");
  const auto r = run_hcsim("run " + kTiny + " --out " + dir);
  ASSERT_EQ(r.status, 0) << r.err;
  for (const auto& f : kDeterministic) EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  EXPECT_TRUE(fs::exists(dir + "/speed.csv"));
  EXPECT_TRUE(has(r.out, "hit_ratio")) << r.out;
  EXPECT_TRUE(has(r.out, "all 2 checks passed")) << r.out;
  EXPECT_TRUE(has(slurp(dir + "/summary.csv"), "metric,value\nrequests,"));
  EXPECT_TRUE(has(slurp(dir + "/scenario.yaml"), "seed: 9"));
}

TEST(HcsimRun, SameSeedGivesByteIdenticalReportsAnotherSeedDoesNot) {
  const std::string a = out_dir("det_a"), b = out_dir("det_b"), c = out_dir("det_c");
  ASSERT_EQ(run_hcsim("run " + kTiny + " --quiet --out " + a).status, 0);
  ASSERT_EQ(run_hcsim("run " + kTiny + " --quiet --out " + b).status, 0);
  ASSERT_EQ(run_hcsim("run " + kTiny + " --quiet --seed 10 --out " + c).status, 0);
  for (const auto& f : kDeterministic) {
    EXPECT_EQ(slurp(a + "/" + f), slurp(b + "/" + f)) << f;
    EXPECT_FALSE(slurp(a + "/" + f).empty()) << f;
  }
  EXPECT_NE(slurp(a + "/timeseries.csv"), slurp(c + "/timeseries.csv"));
  EXPECT_NE(slurp(a + "/summary.csv"), slurp(c + "/summary.csv"));
}

TEST(HcsimRun, TheResolvedScenarioReproducesTheRun) {
  const std::string a = out_dir("repro_a"), b = out_dir("repro_b");
  ASSERT_EQ(run_hcsim("run " + kTiny + " --quiet --seed 77 --set workload.rate=5k/s --out " + a).status, 0);
  const auto r = run_hcsim("run " + a + "/scenario.yaml --quiet --out " + b);
  ASSERT_EQ(r.status, 0) << r.err;
  for (const std::string f : {"summary.csv", "timeseries.csv", "events.csv"}) {
    EXPECT_EQ(slurp(a + "/" + f), slurp(b + "/" + f)) << f;
  }
}

TEST(HcsimRun, AFailedCheckExitsOneAndNamesIt) {
  const std::string dir = out_dir("failed");
  const auto r = run_hcsim("run " + kTiny + " --quiet --out " + dir + " --set expect.0.min=2");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(has(r.err, "tiny.yaml:22: hit_ratio = ")) << r.err;
  EXPECT_TRUE(has(r.err, "expected >= 2")) << r.err;
  EXPECT_TRUE(has(r.err, "1 of 2 checks failed")) << r.err;
  EXPECT_TRUE(fs::exists(dir + "/summary.csv"));  // the reports are still written
}

TEST(HcsimRun, BadInputExitsTwoAndWritesNothing) {
  const std::string dir = out_dir("bad");
  auto r = run_hcsim("run " + kTiny + " --out " + dir + " --set cluster.nodes=0");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "--set cluster.nodes")) << r.err;
  EXPECT_FALSE(fs::exists(dir));
  r = run_hcsim("run " + kTiny + " --out " + dir + " --set expect.0.metric=hit_ration");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "unknown metric 'hit_ration'")) << r.err;
  EXPECT_FALSE(fs::exists(dir));
  r = run_hcsim("run /no/such/file.yaml --out " + dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "/no/such/file.yaml")) << r.err;
  r = run_hcsim("run " + kTiny + " --set novalue");
  EXPECT_EQ(r.status, 2);
  EXPECT_FALSE(fs::exists(dir));
}

TEST(HcsimRun, QuietPrintsNothingOnSuccess) {
  const auto r = run_hcsim("run " + kTiny + " --quiet --out " + out_dir("quiet"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

}  // namespace
