// `hcsim dist`: key distribution over the seed-style ring, and movement when
// nodes are added or removed. Parses flags, calls dist_report, prints.
#include <cstdio>
#include <map>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/dist_report.h"

namespace hcsim::cli {

void add_dist_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand("dist", "Key distribution over the ring (nodes node1..nodeN, keys key:0..key:K-1)");
  cmd->footer(
      "Examples:\n"
      "  hcsim dist --nodes 5 --vnodes 256 --keys 10000\n"
      "  hcsim dist --nodes 3 --vnodes 256 --keys 1000 --add 1\n"
      "  hcsim dist --nodes 10 --keys 100000 --remove 1 --format json");
  struct Args {
    DistOptions options;
    std::string hash = "xxh64";
    std::string format = "table";
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--nodes", args->options.nodes, "Physical nodes, named node1..nodeN")->capture_default_str();
  cmd->add_option("--vnodes", args->options.vnodes, "Virtual nodes per physical node")->capture_default_str();
  cmd->add_option("--keys", args->options.keys, "Keys key:0..key:K-1 to place")->capture_default_str();
  cmd->add_option("--add", args->options.add, "Then add node(N+1)..node(N+A) and report what moved");
  cmd->add_option("--remove", args->options.remove, "Then remove node(N-R+1)..nodeN and report what moved");
  cmd->add_option("--hash", args->hash, "Hash function: xxh64 (seed-compatible) or xxh3")
      ->check(CLI::IsMember({"xxh64", "xxh3"}))
      ->capture_default_str();
  cmd->add_option("--format", args->format, "Output: table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  cmd->callback([args, &exit_status] {
    args->options.hash = *core::parse_hash_kind(args->hash);
    if (core::Status s = validate(args->options); !s.is_ok()) {
      fmt::print(stderr, "hcsim dist: {}\n", s.message());
      exit_status = kExitBadInput;
      return;
    }
    static const std::map<std::string, DistFormat> kFormats = {
        {"table", DistFormat::kTable}, {"csv", DistFormat::kCsv}, {"json", DistFormat::kJson}};
    const DistReport report = build_dist_report(args->options);
    fmt::print("{}", format_dist(report, kFormats.at(args->format)));
    exit_status = kExitOk;
  });
}

}  // namespace hcsim::cli
