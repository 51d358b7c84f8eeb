// The hcsim subcommands. Each add_*_command registers its options on the app
// and returns a pointer to the exit status it sets when it has run.
#pragma once

#include <CLI/CLI.hpp>

namespace hcsim::cli {

// Exit statuses shared by every subcommand (DESIGN.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitBadInput = 2;

void add_dist_command(CLI::App& app, int& exit_status);
void add_bench_command(CLI::App& app, int& exit_status);
void add_run_command(CLI::App& app, int& exit_status);

}  // namespace hcsim::cli
