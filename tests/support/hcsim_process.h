// Runs the hcsim binary (HCSIM_BINARY, a compile definition) as a user would
// and captures its exit status, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace hcsim::testing {

struct ProcessResult {
  int status = -1;
  std::string out;
  std::string err;
};

inline ProcessResult run_hcsim(const std::string& args) {
  // ctest runs tests in parallel processes: one stderr file per process and call.
  static int calls = 0;
  const std::string err_file =
      ::testing::TempDir() + "hcsim_e2e_stderr." + std::to_string(getpid()) + "." + std::to_string(++calls);
  const std::string cmd = std::string(HCSIM_BINARY) + " " + args + " 2>" + err_file;
  ProcessResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int raw = pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream e(err_file);
  std::stringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  std::remove(err_file.c_str());
  return r;
}

inline bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace hcsim::testing
