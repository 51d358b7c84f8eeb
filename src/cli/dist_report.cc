#include "cli/dist_report.h"

#include <cassert>

#include <fmt/format.h>

#include "core/ring/hash_ring.h"
#include "core/ring/ring_snapshot.h"

namespace hcsim::cli {
namespace {

using core::DistributionStats;

std::string node_name(std::uint64_t i) { return fmt::format("node{}", i); }

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// The figures of one state as JSON members (no braces), shared by the top
// level and "before".
std::string json_members(const DistributionStats& s) {
  std::string per_node;
  for (const auto& n : s.per_node) {
    if (!per_node.empty()) per_node += ",";
    per_node += fmt::format("{}:{}", json_string(n.id), n.keys);
  }
  return fmt::format(
      "\"nodes\":{},\"keys\":{},\"routed_keys\":{},\"avg\":{},\"min\":{},\"max\":{},\"load_factor\":{},"
      "\"stddev\":{},\"expected_stddev\":{},\"per_node\":{{{}}}",
      s.nodes, s.total_keys, s.routed_keys, s.avg, s.min, s.max, s.load_factor, s.stddev, s.expected_stddev,
      per_node);
}

std::string table_block(const DistributionStats& s, std::string_view title) {
  std::string out = fmt::format("{}\n{:<12} {:>10} {:>8} {:>10}\n", title, "node", "keys", "share", "arc share");
  for (const auto& n : s.per_node) {
    const double share = s.total_keys ? 100.0 * static_cast<double>(n.keys) / static_cast<double>(s.total_keys) : 0.0;
    out += fmt::format("{:<12} {:>10} {:>7.2f}% {:>9.2f}%{}\n", n.id, n.keys, share, 100.0 * n.arc_share,
                       n.alive ? "" : "  (not alive)");
  }
  out += fmt::format("{:<14}{:>12}\n", "nodes", s.nodes);
  out += fmt::format("{:<14}{:>12.2f}\n", "average", s.avg);
  out += fmt::format("{:<14}{:>12}\n", "min", s.min);
  out += fmt::format("{:<14}{:>12}\n", "max", s.max);
  out += fmt::format("{:<14}{:>12.2f}\n", "load factor", s.load_factor);
  out += fmt::format("{:<14}{:>12.2f}   (random-ring theory: {:.2f})\n", "std dev", s.stddev, s.expected_stddev);
  return out;
}

std::string csv_rows(const DistributionStats& s, std::string_view state) {
  std::string out;
  for (const auto& n : s.per_node) {
    const double share = s.total_keys ? static_cast<double>(n.keys) / static_cast<double>(s.total_keys) : 0.0;
    out += fmt::format("{},{},{},{},{},{}\n", state, n.id, n.alive ? 1 : 0, n.keys, share, n.arc_share);
  }
  return out;
}

}  // namespace

core::Status validate(const DistOptions& o) {
  if (o.nodes < 1 || o.nodes > kMaxDistNodes) {
    return core::Status::error(fmt::format("--nodes must be in 1..{} (got {})", kMaxDistNodes, o.nodes));
  }
  if (o.vnodes < 1 || o.vnodes > core::kMaxVnodesPerNode) {
    return core::Status::error(fmt::format("--vnodes must be in 1..{} (got {})", core::kMaxVnodesPerNode, o.vnodes));
  }
  if (o.keys > kMaxDistKeys) {
    return core::Status::error(fmt::format("--keys must be at most {} (got {})", kMaxDistKeys, o.keys));
  }
  if (o.add > kMaxDistNodes) {
    return core::Status::error(fmt::format("--add must be at most {} (got {})", kMaxDistNodes, o.add));
  }
  if (o.remove >= o.nodes && o.add == 0) {
    return core::Status::error(
        fmt::format("--remove {} would leave no node (there are {}); add nodes or remove fewer", o.remove, o.nodes));
  }
  if (o.remove > o.nodes) {
    return core::Status::error(fmt::format("--remove {} is more than the {} nodes there are", o.remove, o.nodes));
  }
  const std::uint64_t most = std::uint64_t{o.nodes + o.add} * o.vnodes;
  if (most > core::kMaxRingVnodes) {
    return core::Status::error(fmt::format("(nodes + add) x vnodes = {} is more than the ring's limit of {} vnodes",
                                           most, core::kMaxRingVnodes));
  }
  return core::Status::ok();
}

// A ring of the given node numbers, built in one pass (O(P log P)): the
// report needs no concurrent HashRing, and adding nodes one by one would
// rebuild the ring each time.
core::RingSnapshot build_ring(const DistOptions& o, const std::vector<std::uint32_t>& numbers) {
  std::vector<core::RingSnapshot::NodeEntry> entries;
  entries.reserve(numbers.size());
  for (const std::uint32_t i : numbers) entries.push_back({node_name(i), o.vnodes, true});
  return core::RingSnapshot(o.hash, std::move(entries));
}

DistReport build_dist_report(const DistOptions& o) {
  assert(validate(o).is_ok());
  std::vector<std::uint32_t> numbers;
  for (std::uint32_t i = 1; i <= o.nodes; ++i) numbers.push_back(i);
  const core::RingSnapshot before = build_ring(o, numbers);
  const core::KeySet keys = core::KeySet::sequential(o.keys);
  DistReport report;
  report.options = o;
  report.before = core::analyze_distribution(before, keys);
  if (o.add == 0 && o.remove == 0) return report;

  numbers.resize(o.nodes - o.remove);  // removes node(N-R+1)..nodeN
  for (std::uint32_t i = o.nodes + 1; i <= o.nodes + o.add; ++i) numbers.push_back(i);
  const core::RingSnapshot after = build_ring(o, numbers);
  report.after = core::analyze_distribution(after, keys);
  report.movement = core::compare_owners(before, after, keys);
  return report;
}

std::string format_dist(const DistReport& r, DistFormat format) {
  const DistOptions& o = r.options;
  const DistributionStats& last = r.after ? *r.after : r.before;
  switch (format) {
    case DistFormat::kJson: {
      std::string out = fmt::format("{{\"vnodes\":{},\"hash\":{},{}", o.vnodes,
                                    json_string(core::hash_kind_name(o.hash)), json_members(last));
      if (r.after) {
        out += fmt::format(",\"added\":{},\"removed\":{},\"before\":{{{}}}", o.add, o.remove, json_members(r.before));
        out += fmt::format(",\"moved_keys\":{},\"moved_fraction\":{},\"expected_moved_fraction\":{}",
                           r.movement->moved_keys, r.movement->moved_fraction, r.movement->expected_fraction);
      }
      return out + "}\n";
    }
    case DistFormat::kCsv: {
      std::string out = "state,node,alive,keys,share,arc_share\n";
      if (!r.after) return out + csv_rows(r.before, "current");
      return out + csv_rows(r.before, "before") + csv_rows(*r.after, "after");
    }
    case DistFormat::kTable: {
      std::string out = fmt::format("hcsim dist: {} nodes x {} vnodes, {} keys (key:0..key:{}), hash {}\n\n", o.nodes,
                                    o.vnodes, o.keys, o.keys == 0 ? 0 : o.keys - 1, core::hash_kind_name(o.hash));
      if (!r.after) return out + table_block(r.before, "ring");
      out += table_block(r.before, "before") + "\n";
      std::string change;
      if (o.add) change += fmt::format("added node{}..node{}", o.nodes + 1, o.nodes + o.add);
      if (o.remove) {
        change += fmt::format("{}removed node{}..node{}", change.empty() ? "" : ", ", o.nodes - o.remove + 1, o.nodes);
      }
      out += table_block(*r.after, "after (" + change + ")") + "\n";
      out += fmt::format("moved: {} of {} keys ({:.1f}%); the hash space that changed owner: {:.1f}%",
                         r.movement->moved_keys, r.movement->total_keys, 100.0 * r.movement->moved_fraction,
                         100.0 * r.movement->expected_fraction);
      if (o.add && !o.remove) {
        out += fmt::format("; ideal A/(N+A): {:.1f}%", 100.0 * o.add / static_cast<double>(o.nodes + o.add));
      } else if (o.remove && !o.add) {
        out += fmt::format("; ideal R/N: {:.1f}%", 100.0 * o.remove / static_cast<double>(o.nodes));
      }
      return out + "\n";
    }
  }
  return {};
}

}  // namespace hcsim::cli
