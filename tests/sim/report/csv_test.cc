#include "sim/report/csv.h"

#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace hcsim::sim {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Csv, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(csv_escape("plain"), "plain");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_escape("two\nlines"), "\"two\nlines\"");
  CsvTable t({"name", "value"});
  t.add_row({"x,y", "1"});
  t.add_row({"z", "2"});
  t.set(1, 1, "3");
  EXPECT_EQ(t.render(), "name,value\n\"x,y\",1\nz,3\n");
}

TEST(Csv, NumbersAreFormattedTheSameEverywhere) {
  EXPECT_EQ(format_number(0), "0");
  EXPECT_EQ(format_number(10000000), "10000000");
  EXPECT_EQ(format_number(-3), "-3");
  EXPECT_EQ(format_number(0.5), "0.5");
  EXPECT_EQ(format_number(88.5569), "88.5569");
  EXPECT_EQ(format_number(1.0 / 3.0), "0.333333");
  EXPECT_EQ(format_number(1.5e20), "1.5e+20");
  EXPECT_EQ(format_number(std::nan("")), "nan");
  EXPECT_EQ(format_number(-INFINITY), "-inf");
  EXPECT_EQ(format_integer(18446744073709551615ull), "18446744073709551615");
}

TEST(Csv, FilesAreWrittenWholeAndLeaveNoTemporaries) {
  const std::string dir = ::testing::TempDir() + "/hcsim_csv_test/nested";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(write_files_atomically(dir, {{"a.csv", "x\n1\n"}, {"b.csv", "y\n2\n"}}).is_ok());
  EXPECT_EQ(slurp(dir + "/a.csv"), "x\n1\n");
  EXPECT_EQ(slurp(dir + "/b.csv"), "y\n2\n");
  // replaced whole on a second run
  ASSERT_TRUE(write_files_atomically(dir, {{"a.csv", "x\n9\n"}}).is_ok());
  EXPECT_EQ(slurp(dir + "/a.csv"), "x\n9\n");
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos);
    ++files;
  }
  EXPECT_EQ(files, 2u);
}

TEST(Csv, AnUnwritableDirectoryIsAnErrorThatNamesIt) {
  const std::string file = ::testing::TempDir() + "/hcsim_csv_test_file";
  { std::ofstream(file) << "not a directory"; }
  const core::Status s = write_files_atomically(file + "/sub", {{"a.csv", "x\n"}});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(file + "/sub"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hcsim::sim
