// hcsim: the command line. One file per subcommand; this one only wires them.
#include <algorithm>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/version.h"

int main(int argc, char** argv) {
  CLI::App app{"hcsim: the HyperCache node's core structures, benchmarks and deterministic cluster simulations"};
  app.set_version_flag("--version", std::string(hcsim::cli::kVersion));
  app.require_subcommand(1);
  int exit_status = hcsim::cli::kExitOk;
  hcsim::cli::add_run_command(app, exit_status);
  hcsim::cli::add_dist_command(app, exit_status);
  hcsim::cli::add_bench_command(app, exit_status);
  // CLI11 would only say "A subcommand is required"; name what was typed.
  const auto subs = app.get_subcommands({});
  const auto is_sub = [&](const char* name) {
    return std::any_of(subs.begin(), subs.end(), [&](const CLI::App* s) { return s->get_name() == name; });
  };
  if (argc > 1 && argv[1][0] != '-' && !is_sub(argv[1])) {
    std::string known;
    for (const CLI::App* sub : subs) known += (known.empty() ? "" : ", ") + sub->get_name();
    fmt::print(stderr, "hcsim: unknown subcommand '{}'; one of: {} (see hcsim --help)\n", argv[1], known);
    return hcsim::cli::kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and a pointer to --help
    return hcsim::cli::kExitBadInput;
  }
  return exit_status;
}
