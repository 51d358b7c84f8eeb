// The logic behind `hcsim dist`: build the seed-style ring (node1..nodeN,
// keys key:0..key:K-1), optionally add and remove nodes, and render the
// distribution figures as a table, CSV or JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/hash/key_hash.h"
#include "core/ring/distribution.h"
#include "core/util/status.h"

namespace hcsim::cli {

enum class DistFormat { kTable, kCsv, kJson };

struct DistOptions {
  std::uint32_t nodes = 5;
  std::uint32_t vnodes = 256;
  std::uint64_t keys = 10000;
  std::uint32_t add = 0;     // adds node(N+1)..node(N+A)
  std::uint32_t remove = 0;  // removes node(N-R+1)..nodeN
  core::HashKind hash = core::HashKind::kXxh64;
};

inline constexpr std::uint32_t kMaxDistNodes = 100000;
inline constexpr std::uint64_t kMaxDistKeys = 1000000000;

struct DistReport {
  DistOptions options;
  core::DistributionStats before;
  std::optional<core::DistributionStats> after;  // with --add/--remove
  std::optional<core::MovementStats> movement;
};

// Ok, or what is wrong with the options, naming the flag.
core::Status validate(const DistOptions& options);
// Precondition: validate(options) is ok.
DistReport build_dist_report(const DistOptions& options);

std::string format_dist(const DistReport& report, DistFormat format);

}  // namespace hcsim::cli
