// Scenario YAML -> validated Scenario, and back. The parser walks the YAML
// tree with one small helper per kind of field (integer in range, duration,
// size, probability, enum, distribution ...) and stops at the first error,
// which names its place as `file:line:col:` (or `--set path:` when an
// override put the offending value there). It never throws.
#include "sim/scenario/scenario.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

namespace hcsim::sim {
namespace {

constexpr TimeNs kNsPerS = 1'000'000'000;
constexpr TimeNs kMaxDurationNs = 7 * 24 * 3'600 * kNsPerS;  // 7 days
constexpr std::size_t kMaxInputBytes = 4u << 20;
constexpr std::size_t kMaxNameChars = 64;
constexpr std::size_t kMaxPrefixChars = 32;
constexpr std::size_t kMaxTextChars = 4'096;
constexpr std::size_t kMaxMetricChars = 128;
constexpr std::size_t kMaxTimelineEvents = 100'000;
constexpr std::size_t kMaxExpectations = 1'000;
constexpr std::size_t kMaxEndpoints = 100'000;
constexpr std::size_t kMaxOverridePathChars = 1'024;
constexpr std::size_t kMaxScalarChars = 256;  // of a number, quantity, name or enum value
constexpr std::size_t kMaxShownChars = 64;    // of a value quoted in a message
constexpr std::uint64_t kMaxNodes = 100'000;
constexpr std::uint64_t kMaxClients = 100'000;
constexpr std::uint64_t kMaxMemoryBytes = 1ull << 40;
constexpr std::uint64_t kMaxValueBytes = 512ull << 20;  // the store's limit (core::kMaxValueBytes)
constexpr std::uint64_t kMaxKeys = 1ull << 27;  // every key's placement is analysed per ring state
constexpr double kMaxRatePerS = 1e9;
constexpr double kMaxZipfSkew = 10.0;
constexpr double kMixTolerance = 1e-9;
constexpr int kMaxTreeDepth = 4'096;

constexpr std::string_view kEventActions[] = {"preload",   "add_node",   "remove_node", "crash_node",
                                              "restart_node", "partition", "heal",      "set_link",
                                              "pause_node", "clock_skew", "loss_burst"};
constexpr TimelineEvent::Kind kEventKinds[] = {
    TimelineEvent::Kind::kPreload,    TimelineEvent::Kind::kAddNode,   TimelineEvent::Kind::kRemoveNode,
    TimelineEvent::Kind::kCrashNode,  TimelineEvent::Kind::kRestartNode, TimelineEvent::Kind::kPartition,
    TimelineEvent::Kind::kHeal,       TimelineEvent::Kind::kSetLink,   TimelineEvent::Kind::kPauseNode,
    TimelineEvent::Kind::kClockSkew,  TimelineEvent::Kind::kLossBurst};
static_assert(std::size(kEventActions) == std::size(kEventKinds));

std::string_view action_name(TimelineEvent::Kind kind) {
  for (std::size_t i = 0; i < std::size(kEventKinds); ++i) {
    if (kEventKinds[i] == kind) return kEventActions[i];
  }
  return "?";
}

std::string join(const std::vector<std::string_view>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

std::string describe_node(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      if (n.Scalar().size() > kMaxShownChars) {
        return fmt::format("'{}...' ({} characters)", n.Scalar().substr(0, kMaxShownChars), n.Scalar().size());
      }
      return fmt::format("'{}'", n.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "<prefix><i>" with i in [1, count], written without leading zeros.
bool is_numbered(std::string_view name, std::string_view prefix, std::uint64_t count) {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return false;
  const std::string_view digits = name.substr(prefix.size());
  if (!all_digits(digits) || digits.front() == '0' || digits.size() > 12) return false;
  std::uint64_t i = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), i);
  return i >= 1 && i <= count;
}

bool valid_name(std::string_view s, std::size_t max_chars) {
  if (s.empty() || s.size() > max_chars || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

bool subtree_contains(const YAML::Node& root, const YAML::Node& target, int depth) {
  if (root.is(target)) return true;
  if (depth >= kMaxTreeDepth) return false;
  if (root.IsMap()) {
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (subtree_contains(it->first, target, depth + 1) || subtree_contains(it->second, target, depth + 1)) {
        return true;
      }
    }
  } else if (root.IsSequence()) {
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (subtree_contains(*it, target, depth + 1)) return true;
    }
  }
  return false;
}

// A node an override wrote, with the override's path.
struct OverrideMark {
  YAML::Node node;
  std::string path;
};

// One value of the tree with where it was written.
//
// yaml-cpp's Node::operator= writes through to the node it refers to (it
// changes the tree) instead of rebinding, so Item rebinds with reset():
// containers and std::optional may assign Items freely.
struct Item {
  YAML::Node key;  // the key it was written under (a null node for list items and the root)
  YAML::Node value;
  std::string path;  // dotted, for messages: "cluster.nodes", "timeline.2.at"

  Item() = default;
  Item(const YAML::Node& k, const YAML::Node& v, std::string p) : key(k), value(v), path(std::move(p)) {}
  Item(const Item&) = default;
  Item& operator=(const Item& other) {
    key.reset(other.key);
    value.reset(other.value);
    path = other.path;
    return *this;
  }
  ~Item() = default;
};

struct Bounds {  // a real interval, for messages as "[0, 1)"
  double lo;
  double hi;
  bool lo_open;
  bool hi_open;
  bool contains(double v) const { return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi); }
  std::string text() const { return fmt::format("{}{}, {}{}", lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']'); }
};
constexpr Bounds kProbability{0.0, 1.0, false, true};
constexpr Bounds kFraction{0.0, 1.0, false, false};
constexpr double kHuge = std::numeric_limits<double>::max();
constexpr Bounds kAnyNumber{-kHuge, kHuge, false, false};

enum class Quantity : std::uint8_t { kDuration, kSize };

class Parser {
 public:
  Parser(std::string display_name, const std::vector<OverrideMark>& marks)
      : display_(std::move(display_name)), marks_(marks) {}

  core::Result<Scenario> parse(const YAML::Node& root) {
    const Item top{YAML::Node(), root, ""};
    const bool ok = parse_top(top);
    if (!ok || !error_.empty()) {
      return core::Status::error(error_.empty() ? display_ + ": invalid scenario" : error_);
    }
    return std::move(s_);
  }

 private:
  using Handler = std::function<bool(const Item&)>;
  struct Field {
    std::string_view key;
    Handler parse;
  };

  // ---- errors -------------------------------------------------------------

  std::optional<std::string> override_path(const YAML::Node& n) const {
    for (auto it = marks_.rbegin(); it != marks_.rend(); ++it) {
      if (subtree_contains(it->node, n, 0)) return it->path;
    }
    return std::nullopt;
  }

  // Records the first error; always returns false so callers can `return fail(...)`.
  bool report(const Item& at, bool at_key, bool with_path, std::string_view message) {
    if (!error_.empty()) return false;
    const std::string path_prefix = with_path && !at.path.empty() ? at.path + ": " : "";
    if (const auto ov = override_path(at.value)) {
      error_ = fmt::format("--set {}: {}{}", *ov, with_path && at.path == *ov ? "" : path_prefix, message);
      return false;
    }
    // A null value's mark is that of the next token, so prefer its key then.
    const bool value_marked = !at.value.Mark().is_null();
    const bool key_marked = !at.key.Mark().is_null();
    YAML::Mark mark = YAML::Mark::null_mark();
    if (key_marked && (at_key || at.value.IsNull() || !value_marked)) {
      mark = at.key.Mark();
    } else if (value_marked) {
      mark = at.value.Mark();
    }
    if (mark.is_null()) {
      error_ = fmt::format("{}: {}{}", display_, path_prefix, message);
    } else {
      error_ = fmt::format("{}:{}:{}: {}{}", display_, mark.line + 1, mark.column + 1, path_prefix, message);
    }
    return false;
  }
  bool fail(const Item& at, std::string_view message) { return report(at, false, true, message); }
  bool fail_key(const Item& at, std::string_view message) { return report(at, true, false, message); }

  // ---- structure ------------------------------------------------------------

  // Checks that `at` is a map whose keys are all in `fields`, each once, then
  // parses the values in document order. A null value counts as an empty map
  // when `null_ok`.
  bool parse_map(const Item& at, const std::vector<Field>& fields, bool null_ok = true) {
    if (at.value.IsNull() && null_ok) return true;
    const std::string where = at.path.empty() ? std::string("the scenario") : at.path;
    if (!at.value.IsMap()) {
      return fail(at, fmt::format("expected a map (of {}), got {}", allowed_keys(fields), describe_node(at.value)));
    }
    std::vector<std::pair<Item, const Field*>> items;
    for (auto it = at.value.begin(); it != at.value.end(); ++it) {
      Item item{it->first, it->second, ""};
      if (!it->first.IsScalar()) return fail_key(item, fmt::format("keys in {} must be plain names", where));
      const std::string& key = it->first.Scalar();
      item.path = at.path.empty() ? key : at.path + "." + key;
      const Field* field = nullptr;
      for (const Field& f : fields) {
        if (f.key == key) field = &f;
      }
      if (field == nullptr) {
        return fail_key(item, fmt::format("unknown key '{}' in {} (allowed: {})", key, where, allowed_keys(fields)));
      }
      for (const auto& [prior, prior_field] : items) {
        if (prior_field == field) {
          const YAML::Mark m = prior.key.Mark();
          return fail_key(
              item, m.is_null() ? fmt::format("duplicate key '{}' in {}", key, where)
                                : fmt::format("duplicate key '{}' in {} (first at line {})", key, where, m.line + 1));
        }
      }
      items.emplace_back(std::move(item), field);
    }
    for (const auto& [item, field] : items) {
      if (!field->parse(item)) return false;
    }
    return true;
  }

  static std::string allowed_keys(const std::vector<Field>& fields) {
    std::vector<std::string_view> keys;
    for (const Field& f : fields) keys.push_back(f.key);
    return join(keys, ", ");
  }

  bool sequence(const Item& at, std::size_t max_items, std::string_view what, std::vector<Item>& out) {
    out.clear();
    if (at.value.IsNull()) return true;
    if (!at.value.IsSequence()) {
      return fail(at, fmt::format("expected a list of {}, got {}", what, describe_node(at.value)));
    }
    if (at.value.size() > max_items) {
      return fail(at, fmt::format("too many {} ({}, at most {})", what, at.value.size(), max_items));
    }
    std::size_t i = 0;
    for (auto it = at.value.begin(); it != at.value.end(); ++it, ++i) {
      out.push_back(Item{YAML::Node(), *it, fmt::format("{}.{}", at.path, i)});
    }
    return true;
  }

  // ---- scalar helpers ------------------------------------------------------

  // A scalar of at most `max_chars` (longer ones are quoted cut short).
  bool scalar(const Item& at, std::string_view expected, std::string& out, std::size_t max_chars = kMaxScalarChars) {
    if (!at.value.IsScalar() || at.value.Scalar().size() > max_chars) {
      return fail(at, fmt::format("expected {}, got {}", expected, describe_node(at.value)));
    }
    out = at.value.Scalar();
    return true;
  }

  template <typename T>
  bool uint_in(const Item& at, std::uint64_t lo, std::uint64_t hi, T& out) {
    static_assert(std::is_unsigned_v<T>);
    assert(hi <= std::numeric_limits<T>::max());
    const std::string expected = fmt::format("an integer from {} to {}", lo, hi);
    std::string text;
    if (!scalar(at, expected, text)) return false;
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (!all_digits(text) || ec != std::errc() || p != text.data() + text.size()) {
      return fail(at, fmt::format("expected {}, got '{}'", expected, text));
    }
    if (v < lo || v > hi) return fail(at, fmt::format("must be from {} to {}, got {}", lo, hi, v));
    out = static_cast<T>(v);
    return true;
  }

  bool number(const Item& at, Bounds bounds, double& out) {
    std::string text;
    if (!scalar(at, "a number", text)) return false;
    double v = 0.0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::general);
    if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) {
      return fail(at, fmt::format("expected a number, got '{}'", text));
    }
    if (!bounds.contains(v)) return fail(at, fmt::format("must be in {}, got {}", bounds.text(), text));
    out = v;
    return true;
  }

  bool boolean(const Item& at, bool& out) {
    std::string text;
    if (!scalar(at, "true or false", text)) return false;
    if (text == "true" || text == "True" || text == "TRUE") {
      out = true;
    } else if (text == "false" || text == "False" || text == "FALSE") {
      out = false;
    } else {
      return fail(at, fmt::format("expected true or false, got '{}'", text));
    }
    return true;
  }

  bool text(const Item& at, std::size_t max_chars, std::string& out) {
    if (at.value.IsNull()) {
      out.clear();
      return true;
    }
    if (at.value.IsScalar() && at.value.Scalar().size() > max_chars) {
      return fail(at, fmt::format("too long ({} characters, at most {})", at.value.Scalar().size(), max_chars));
    }
    std::string v;
    if (!scalar(at, "text", v, max_chars)) return false;
    out = std::move(v);
    return true;
  }

  bool name(const Item& at, std::size_t max_chars, std::string& out) {
    std::string v;
    if (!scalar(at, "a name", v)) return false;
    if (!valid_name(v, max_chars)) {
      return fail(at,
                  fmt::format("'{}' is not a valid name: use 1 to {} characters of A-Z a-z 0-9 _ . -", v, max_chars));
    }
    out = std::move(v);
    return true;
  }

  bool choice(const Item& at, const std::vector<std::string_view>& options, std::string& out) {
    const std::string expected = "one of " + join(options, ", ");
    std::string v;
    if (!scalar(at, expected, v)) return false;
    if (std::find(options.begin(), options.end(), v) == options.end()) {
      return fail(at, fmt::format("unknown value '{}' (use {})", v, join(options, ", ")));
    }
    out = std::move(v);
    return true;
  }

  bool duration(const Item& at, TimeNs lo, TimeNs hi, TimeNs& out) {
    std::string text;
    if (!scalar(at, "a duration (e.g. 250us, 10s)", text)) return false;
    const auto parsed = parse_duration(text);
    if (!parsed.is_ok()) return fail(at, parsed.status().message());
    const TimeNs v = parsed.value();
    if (v < lo) {
      if (lo == 1) return fail(at, fmt::format("must be greater than 0, got {}", text));
      if (lo == 0) return fail(at, fmt::format("must not be negative, got {}", text));
      return fail(at, fmt::format("must be at least {}, got {}", format_duration(lo), text));
    }
    if (v > hi) return fail(at, fmt::format("must be at most {}, got {}", format_duration(hi), text));
    out = v;
    return true;
  }

  bool bytes(const Item& at, std::uint64_t lo, std::uint64_t hi, std::uint64_t& out) {
    std::string text;
    if (!scalar(at, "a size (e.g. 64MiB, 1KB)", text)) return false;
    const auto parsed = parse_bytes(text);
    if (!parsed.is_ok()) return fail(at, parsed.status().message());
    const std::uint64_t v = parsed.value();
    if (v < lo) return fail(at, fmt::format("must be at least {}, got {}", format_bytes(lo), text));
    if (v > hi) return fail(at, fmt::format("must be at most {}, got {}", format_bytes(hi), text));
    out = v;
    return true;
  }

  bool rate(const Item& at, double& out) {
    std::string text;
    if (!scalar(at, "a rate (e.g. 50k/s)", text)) return false;
    const auto parsed = parse_rate(text);
    if (!parsed.is_ok()) return fail(at, parsed.status().message());
    const double v = parsed.value();
    if (!(v > 0.0)) return fail(at, fmt::format("must be greater than 0, got {}", text));
    if (v > kMaxRatePerS) return fail(at, fmt::format("must be at most 1000M/s, got {}", text));
    out = v;
    return true;
  }

  bool bandwidth(const Item& at, double& out) {
    std::string text;
    if (!scalar(at, "a bandwidth (e.g. 1GB/s, 10Gbps, unlimited)", text)) return false;
    const auto parsed = parse_bandwidth(text);
    if (!parsed.is_ok()) return fail(at, parsed.status().message());
    out = parsed.value();
    return true;
  }

  // A distribution parameter: a duration (ns) or a size (bytes), >= 0, bounded.
  bool quantity(const Item& at, Quantity kind, double& out) {
    if (kind == Quantity::kDuration) {
      TimeNs v = 0;
      if (!duration(at, 0, kMaxDurationNs, v)) return false;
      out = static_cast<double>(v);
    } else {
      std::uint64_t v = 0;
      if (!bytes(at, 0, kMaxValueBytes, v)) return false;
      out = static_cast<double>(v);
    }
    return true;
  }

  std::string format_quantity(double v, Quantity kind) const {
    return kind == Quantity::kDuration ? format_duration(static_cast<TimeNs>(v))
                                       : format_bytes(static_cast<std::uint64_t>(v));
  }

  bool distribution(const Item& at, Quantity kind, Distribution& out) {
    Distribution d;
    if (at.value.IsScalar()) {
      double v = 0.0;
      if (!quantity(at, kind, v)) return false;
      out = Distribution::constant(v);
      return true;
    }
    const std::string example = kind == Quantity::kDuration ? "100us" : "1KiB";
    if (!at.value.IsMap() || at.value.size() != 1) {
      return fail(at, fmt::format("expected a {} (e.g. {}) or a map with one of constant, uniform, normal, "
                                  "lognormal, exponential; got {}",
                                  kind == Quantity::kDuration ? "duration" : "size", example,
                                  at.value.IsMap() ? fmt::format("a map of {} keys", at.value.size())
                                                   : describe_node(at.value)));
    }
    const auto scalar_param = [&](Distribution::Kind k) {
      return [this, kind, k, &d](const Item& item) {
        double v = 0.0;
        if (!quantity(item, kind, v)) return false;
        d = Distribution{k, v, 0.0};
        return true;
      };
    };
    const auto pair_param = [&](Distribution::Kind k, std::string_view first, std::string_view second) {
      return [this, kind, k, first, second, &d](const Item& item) {
        d.kind = k;
        bool has_first = false, has_second = false;
        if (!parse_map(item,
                       {{first, [&](const Item& i) { return has_first = quantity(i, kind, d.a); }},
                        {second, [&](const Item& i) { return has_second = quantity(i, kind, d.b); }}},
                       false)) {
          return false;
        }
        if (!has_first || !has_second) {
          return fail(item, fmt::format("needs both {} and {}", first, second));
        }
        return true;
      };
    };
    const auto uniform = [&](const Item& item) {
      std::vector<Item> bounds;
      if (!sequence(item, 2, "bounds", bounds)) return false;
      if (bounds.size() != 2 || !item.value.IsSequence()) {
        return fail(item, "expected a list of two bounds [min, max]");
      }
      d.kind = Distribution::Kind::kUniform;
      return quantity(bounds[0], kind, d.a) && quantity(bounds[1], kind, d.b);
    };
    const std::vector<Field> kinds = {
        {"constant", scalar_param(Distribution::Kind::kConstant)},
        {"uniform", uniform},
        {"normal", pair_param(Distribution::Kind::kNormal, "mean", "stddev")},
        {"lognormal", pair_param(Distribution::Kind::kLognormal, "median", "p99")},
        {"exponential", scalar_param(Distribution::Kind::kExponential)},
    };
    if (!parse_map(at, kinds, false)) return false;
    const Item inner{at.value.begin()->first, at.value.begin()->second,
                     at.path + "." + at.value.begin()->first.Scalar()};
    if (d.kind == Distribution::Kind::kUniform && d.b < d.a) {
      return fail(inner, fmt::format("the range is empty: max {} is below min {}", format_quantity(d.b, kind),
                                     format_quantity(d.a, kind)));
    }
    if (d.kind == Distribution::Kind::kLognormal) {
      if (!(d.a > 0.0)) return fail(inner, "median must be greater than 0");
      if (d.b < d.a) {
        return fail(inner, fmt::format("p99 {} is below the median {}", format_quantity(d.b, kind),
                                       format_quantity(d.a, kind)));
      }
    }
    const core::Status valid = d.validate("distribution");
    if (!valid.is_ok()) return fail(inner, valid.message());
    out = d;
    return true;
  }

  // ---- sections ------------------------------------------------------------

  bool parse_top(const Item& top) {
    bool has_name = false;
    const std::vector<Field> fields = {
        {"name", [&](const Item& i) { return has_name = name(i, kMaxNameChars, s_.name); }},
        {"description", [&](const Item& i) { return text(i, kMaxTextChars, s_.description); }},
        {"seed", [&](const Item& i) { return uint_in(i, 0, std::numeric_limits<std::uint64_t>::max(), s_.seed); }},
        {"duration",
         [&](const Item& i) {
           duration_at_ = i;
           return duration(i, 1, kMaxDurationNs, s_.duration_ns);
         }},
        {"interval",
         [&](const Item& i) {
           interval_at_ = i;
           return duration(i, 1, kMaxDurationNs, s_.interval_ns);
         }},
        {"cluster", [&](const Item& i) { return parse_cluster(i); }},
        {"network", [&](const Item& i) { return parse_map(i, link_fields(s_.network.link)); }},
        {"workload", [&](const Item& i) { return parse_workload(i); }},
        {"membership", [&](const Item& i) { return parse_membership(i); }},
        {"timeline",
         [&](const Item& i) {  // parsed last: it refers to the other sections
           timeline_at_ = i;
           return true;
         }},
        {"expect", [&](const Item& i) { return parse_expect(i); }},
    };
    if (!parse_map(top, fields, false)) return false;
    if (!has_name) return fail(top, "missing 'name' (the scenario's name, e.g. name: rebalance5)");

    const Item& when = interval_at_ ? *interval_at_ : duration_at_ ? *duration_at_ : top;
    if (s_.interval_ns > s_.duration_ns) {
      return fail(when, fmt::format("interval {} is longer than the duration {}", format_duration(s_.interval_ns),
                                    format_duration(s_.duration_ns)));
    }
    if (s_.duration_ns % s_.interval_ns != 0) {
      return fail(when, fmt::format("the duration {} is not a whole number of intervals of {}",
                                    format_duration(s_.duration_ns), format_duration(s_.interval_ns)));
    }
    if (s_.workload.start_ns >= s_.duration_ns) {
      return fail(start_at_ ? *start_at_ : top,
                  fmt::format("workload start {} is not before the end of the run ({})",
                              format_duration(s_.workload.start_ns), format_duration(s_.duration_ns)));
    }
    if (is_numbered(s_.cluster.node_prefix + "1", "client", s_.workload.clients)) {
      return fail(node_prefix_at_ ? *node_prefix_at_ : top,
                  fmt::format("node prefix '{}' makes node names that are also client names (client1..client{})",
                              s_.cluster.node_prefix, s_.workload.clients));
    }
    if (seeds_at_) {
      for (const std::string& seed : s_.membership.seeds) {
        if (!is_numbered(seed, s_.cluster.node_prefix, s_.cluster.nodes)) {
          return fail(*seeds_at_, fmt::format("seed '{}' is not one of the initial nodes ({}1..{}{})", seed,
                                              s_.cluster.node_prefix, s_.cluster.node_prefix, s_.cluster.nodes));
        }
      }
    }
    if (timeline_at_ && !parse_timeline(*timeline_at_)) return false;
    return true;
  }

  bool parse_membership(const Item& at) {
    MembershipSpec& m = s_.membership;
    core::cluster::SwimConfig& c = m.swim;
    m.enabled = true;
    std::optional<Item> timeout_at;
    std::uint32_t indirect = c.indirect_checks, suspicion = c.suspicion_mult, retransmit = c.retransmit_mult,
                  gossip_nodes = c.gossip_nodes;
    if (!parse_map(
            at,
            {
                {"protocol",
                 [&](const Item& i) {
                   std::string v;
                   return choice(i, {"swim"}, v);
                 }},
                {"bootstrap", [&](const Item& i) { return choice(i, {"join", "static"}, m.bootstrap); }},
                {"seeds",
                 [&](const Item& i) {
                   seeds_at_ = i;
                   std::vector<Item> items;
                   return endpoints(i, m.seeds, items);
                 }},
                {"join_spread", [&](const Item& i) { return duration(i, 0, kMaxDurationNs, m.join_spread_ns); }},
                {"probe_interval", [&](const Item& i) { return duration(i, 1, kMaxDurationNs, c.probe_interval_ns); }},
                {"probe_timeout",
                 [&](const Item& i) {
                   timeout_at = i;
                   return duration(i, 1, kMaxDurationNs, c.probe_timeout_ns);
                 }},
                {"indirect_checks", [&](const Item& i) { return uint_in(i, 0, 64, indirect); }},
                {"suspicion_mult", [&](const Item& i) { return uint_in(i, 1, 1'000, suspicion); }},
                {"retransmit_mult", [&](const Item& i) { return uint_in(i, 1, 1'000, retransmit); }},
                {"gossip_interval", [&](const Item& i) { return duration(i, 1, kMaxDurationNs, c.gossip_interval_ns); }},
                {"gossip_nodes", [&](const Item& i) { return uint_in(i, 1, 64, gossip_nodes); }},
                {"gossip_to_dead", [&](const Item& i) { return duration(i, 0, kMaxDurationNs, c.gossip_to_dead_ns); }},
                {"push_pull_interval",
                 [&](const Item& i) { return duration(i, 0, kMaxDurationNs, c.push_pull_interval_ns); }},
                {"reconnect_dead", [&](const Item& i) { return boolean(i, c.reconnect_dead); }},
            })) {
      return false;
    }
    c.indirect_checks = indirect;
    c.suspicion_mult = suspicion;
    c.retransmit_mult = retransmit;
    c.gossip_nodes = gossip_nodes;
    if (c.probe_timeout_ns >= c.probe_interval_ns) {
      return fail(timeout_at ? *timeout_at : at,
                  fmt::format("probe_timeout {} must be shorter than probe_interval {}",
                              format_duration(c.probe_timeout_ns), format_duration(c.probe_interval_ns)));
    }
    if (const core::Status st = core::cluster::validate(c); !st.is_ok()) return fail(at, st.message());
    return true;
  }

  bool parse_cluster(const Item& at) {
    ClusterSpec& c = s_.cluster;
    return parse_map(
        at, {
                {"nodes", [&](const Item& i) { return uint_in(i, 1, kMaxNodes, c.nodes); }},
                {"node_prefix",
                 [&](const Item& i) {
                   node_prefix_at_ = i;
                   return name(i, kMaxPrefixChars, c.node_prefix);
                 }},
                {"vnodes", [&](const Item& i) { return uint_in(i, 1, 65'536, c.vnodes); }},
                {"hash",
                 [&](const Item& i) {
                   return choice(i, {"xxh64", "xxh3"}, c.hash);
                 }},
                {"memory", [&](const Item& i) { return bytes(i, 1, kMaxMemoryBytes, c.memory_bytes); }},
                {"eviction",
                 [&](const Item& i) {
                   return choice(i, {"lru", "sampled-lru", "sieve", "s3fifo", "session", "noeviction"}, c.eviction);
                 }},
                {"filter", [&](const Item& i) { return boolean(i, c.filter); }},
                {"workers", [&](const Item& i) { return uint_in(i, 1, 4'096, c.workers); }},
                {"queue_limit", [&](const Item& i) { return uint_in(i, 0, 1'000'000, c.queue_limit); }},
                {"service_time",
                 [&](const Item& i) {
                   return parse_map(
                       i,
                       {
                           {"get", [&](const Item& j) { return distribution(j, Quantity::kDuration, c.service.get); }},
                           {"set", [&](const Item& j) { return distribution(j, Quantity::kDuration, c.service.set); }},
                           {"del", [&](const Item& j) { return distribution(j, Quantity::kDuration, c.service.del); }},
                       });
                 }},
                {"routing",
                 [&](const Item& i) {
                   return choice(i, {"client", "proxy"}, c.routing);
                 }},
                {"rebalance",
                 [&](const Item& i) {
                   return choice(i, {"cold", "migrate"}, c.rebalance);
                 }},
                {"migration_batch", [&](const Item& i) { return uint_in(i, 1, 65'536, c.migration_batch_keys); }},
            });
  }

  std::vector<Field> link_fields(LinkSpec& link) {
    return {
        {"latency", [&](const Item& i) { return distribution(i, Quantity::kDuration, link.latency); }},
        {"bandwidth", [&](const Item& i) { return bandwidth(i, link.bandwidth_bytes_per_s); }},
        {"loss", [&](const Item& i) { return number(i, kProbability, link.loss); }},
        {"duplicate", [&](const Item& i) { return number(i, kProbability, link.duplicate); }},
        {"reorder", [&](const Item& i) { return number(i, kProbability, link.reorder); }},
        {"reorder_delay", [&](const Item& i) { return duration(i, 0, kMaxDurationNs, link.reorder_delay_ns); }},
    };
  }

  bool parse_workload(const Item& at) {
    WorkloadSpec& w = s_.workload;
    return parse_map(
        at,
        {
            {"clients", [&](const Item& i) { return uint_in(i, 0, kMaxClients, w.clients); }},
            {"mode",
             [&](const Item& i) {
               return choice(i, {"open", "closed"}, w.mode);
             }},
            {"rate", [&](const Item& i) { return rate(i, w.rate_per_s); }},
            {"concurrency", [&](const Item& i) { return uint_in(i, 1, 1'000'000, w.concurrency); }},
            {"think_time", [&](const Item& i) { return duration(i, 0, kMaxDurationNs, w.think_time_ns); }},
            {"keys", [&](const Item& i) { return uint_in(i, 1, kMaxKeys, w.keys); }},
            {"key_prefix", [&](const Item& i) { return text(i, kMaxNameChars, w.key_prefix); }},
            {"popularity", [&](const Item& i) { return parse_popularity(i); }},
            {"mix", [&](const Item& i) { return parse_mix(i); }},
            {"value_size", [&](const Item& i) { return distribution(i, Quantity::kSize, w.value_bytes); }},
            {"ttl", [&](const Item& i) { return duration(i, 0, kMaxDurationNs, w.ttl_ns); }},
            {"cache_aside", [&](const Item& i) { return boolean(i, w.cache_aside); }},
            {"backend_latency", [&](const Item& i) { return distribution(i, Quantity::kDuration, w.backend_latency); }},
            {"timeout", [&](const Item& i) { return duration(i, 1, kMaxDurationNs, w.timeout_ns); }},
            {"start",
             [&](const Item& i) {
               start_at_ = i;
               return duration(i, 0, kMaxDurationNs, w.start_ns);
             }},
        });
  }

  bool parse_popularity(const Item& at) {
    KeyPopularity p;
    const std::string usage =
        "use uniform, sequential, {zipfian: SKEW}, {zipfian: {skew: SKEW, scramble: BOOL}} or "
        "{hotspot: {keys: FRACTION, requests: FRACTION}}";
    if (at.value.IsScalar()) {
      std::string v = at.value.Scalar();
      if (v == "uniform") {
        p.kind = KeyPopularity::Kind::kUniform;
      } else if (v == "sequential") {
        p.kind = KeyPopularity::Kind::kSequential;
      } else {
        return fail(at, fmt::format("unknown popularity '{}' ({})", v, usage));
      }
      s_.workload.popularity = p;
      return true;
    }
    if (!at.value.IsMap() || at.value.size() != 1) {
      return fail(at, fmt::format("expected a popularity, got {} ({})", describe_node(at.value), usage));
    }
    const Bounds skew{0.0, kMaxZipfSkew, true, false};
    const std::vector<Field> kinds = {
        {"zipfian",
         [&](const Item& i) {
           p.kind = KeyPopularity::Kind::kZipfian;
           if (i.value.IsScalar()) return number(i, skew, p.zipf_skew);
           return parse_map(i,
                            {{"skew", [&](const Item& j) { return number(j, skew, p.zipf_skew); }},
                             {"scramble", [&](const Item& j) { return boolean(j, p.zipf_scramble); }}},
                            false);
         }},
        {"hotspot",
         [&](const Item& i) {
           p.kind = KeyPopularity::Kind::kHotspot;
           return parse_map(i,
                            {{"keys",
                              [&](const Item& j) {
                                return number(j, {0.0, 1.0, true, false}, p.hot_key_fraction);
                              }},
                             {"requests", [&](const Item& j) { return number(j, kFraction, p.hot_request_fraction); }}},
                            false);
         }},
    };
    if (!parse_map(at, kinds, false)) return false;
    s_.workload.popularity = p;
    return true;
  }

  bool parse_mix(const Item& at) {
    double get = 0.0, set = 0.0, del = 0.0;
    if (!parse_map(at,
                   {{"get", [&](const Item& i) { return number(i, kFraction, get); }},
                    {"set", [&](const Item& i) { return number(i, kFraction, set); }},
                    {"del", [&](const Item& i) { return number(i, kFraction, del); }}},
                   false)) {
      return false;
    }
    const double sum = get + set + del;
    if (std::fabs(sum - 1.0) > kMixTolerance) {
      return fail(at, fmt::format("get, set and del must sum to 1, got {} + {} + {} = {}", get, set, del, sum));
    }
    s_.workload.get_fraction = get;
    s_.workload.set_fraction = set;
    s_.workload.del_fraction = del;
    return true;
  }

  bool parse_expect(const Item& at) {
    std::vector<Item> items;
    if (!sequence(at, kMaxExpectations, "checks", items)) return false;
    for (const Item& item : items) {
      Expectation e;
      bool has_metric = false, has_tolerance = false;
      std::optional<Item> max_at, tolerance_at;
      double v = 0.0;
      const std::vector<Field> fields = {
          {"metric",
           [&](const Item& i) {
             if (!text(i, kMaxMetricChars, e.metric)) return false;
             if (e.metric.empty()) return fail(i, "must not be empty");
             return has_metric = true;
           }},
          {"min",
           [&](const Item& i) {
             if (!number(i, kAnyNumber, v)) return false;
             e.min = v;
             return true;
           }},
          {"max",
           [&](const Item& i) {
             max_at = i;
             if (!number(i, kAnyNumber, v)) return false;
             e.max = v;
             return true;
           }},
          {"equal",
           [&](const Item& i) {
             if (!number(i, kAnyNumber, v)) return false;
             e.equal = v;
             return true;
           }},
          {"tolerance",
           [&](const Item& i) {
             tolerance_at = i;
             if (!number(i, kAnyNumber, e.tolerance)) return false;
             if (e.tolerance < 0.0) return fail(i, fmt::format("must not be negative, got {}", e.tolerance));
             return has_tolerance = true;
           }},
      };
      if (!parse_map(item, fields, false)) return false;
      if (!has_metric) return fail(item, "missing 'metric' (a summary metric name)");
      if (!e.min && !e.max && !e.equal) return fail(item, "a check needs at least one of min, max or equal");
      if (e.min && e.max && *e.min > *e.max) {
        return fail(*max_at, fmt::format("min {} is greater than max {}", *e.min, *e.max));
      }
      if (has_tolerance && !e.equal) return fail(*tolerance_at, "tolerance applies only to 'equal'");
      e.line = item.value.Mark().is_null() ? 0 : item.value.Mark().line + 1;
      s_.expect.push_back(std::move(e));
    }
    return true;
  }

  // ---- timeline --------------------------------------------------------------

  struct Pending {
    TimelineEvent event;
    Item action;
    std::vector<Item> a_items, b_items;  // partition / set_link endpoints
  };

  bool endpoints(const Item& at, std::vector<std::string>& names, std::vector<Item>& items) {
    if (!sequence(at, kMaxEndpoints, "endpoints", items)) return false;
    if (items.empty()) return fail(at, "must list at least one endpoint (node names, client names, nodes or clients)");
    names.clear();
    for (const Item& i : items) {
      std::string n;
      if (!name(i, kMaxNameChars, n)) return false;
      names.push_back(std::move(n));
    }
    return true;
  }

  bool parse_groups(const Item& at, Pending& p, bool with_link) {
    bool has_a = false, has_b = false;
    std::vector<Field> fields = {
        {"a", [&](const Item& i) { return has_a = endpoints(i, p.event.a, p.a_items); }},
        {"b", [&](const Item& i) { return has_b = endpoints(i, p.event.b, p.b_items); }},
        {"one_way", [&](const Item& i) { return boolean(i, p.event.one_way); }},
    };
    if (with_link) {
      for (Field& f : link_fields(p.event.link)) fields.push_back(std::move(f));
    }
    if (!parse_map(at, fields, false)) return false;
    if (!has_a || !has_b) return fail(at, "needs both endpoint groups a and b");
    return true;
  }

  bool parse_action(Pending& p) {
    const Item& at = p.action;
    TimelineEvent& e = p.event;
    switch (e.kind) {
      case TimelineEvent::Kind::kPreload: {
        bool has_count = false;
        if (at.value.IsScalar()) {
          e.first = 0;
          has_count = uint_in(at, 1, kMaxKeys, e.count);
          if (!has_count) return false;
        } else if (!parse_map(at,
                              {{"first", [&](const Item& i) { return uint_in(i, 0, kMaxKeys - 1, e.first); }},
                               {"count", [&](const Item& i) { return has_count = uint_in(i, 1, kMaxKeys, e.count); }}},
                              false)) {
          return false;
        }
        if (!has_count) return fail(at, "needs count (preload: COUNT or preload: {first: F, count: C})");
        if (e.first + e.count > s_.workload.keys) {
          return fail(at, fmt::format("keys {}..{} are outside the key space (workload.keys is {})", e.first,
                                      e.first + e.count - 1, s_.workload.keys));
        }
        return true;
      }
      case TimelineEvent::Kind::kAddNode:
      case TimelineEvent::Kind::kRemoveNode:
      case TimelineEvent::Kind::kCrashNode:
      case TimelineEvent::Kind::kRestartNode:
        return name(at, kMaxNameChars, e.node);
      case TimelineEvent::Kind::kPartition:
        return parse_groups(at, p, false);
      case TimelineEvent::Kind::kHeal: {
        bool v = false;
        if (!boolean(at, v)) return false;
        if (!v) return fail(at, "write heal: true");
        return true;
      }
      case TimelineEvent::Kind::kSetLink:
        e.link = s_.network.link;  // unspecified fields keep the scenario's values
        return parse_groups(at, p, true);
      case TimelineEvent::Kind::kPauseNode:
      case TimelineEvent::Kind::kClockSkew: {
        const bool pause = e.kind == TimelineEvent::Kind::kPauseNode;
        if (!s_.membership.enabled) {
          return fail(at, fmt::format("needs a membership: section ({} acts on the node's coordinator)",
                                      pause ? "pause_node" : "clock_skew"));
        }
        bool has_node = false, has_for = false;
        std::vector<Field> fields = {{"node", [&](const Item& i) { return has_node = name(i, kMaxNameChars, e.node); }}};
        if (pause) {
          fields.push_back({"for", [&](const Item& i) { return has_for = duration(i, 1, kMaxDurationNs, e.for_ns); }});
        } else {
          fields.push_back(
              {"offset", [&](const Item& i) { return duration(i, 0, kMaxDurationNs, e.offset_ns); }});
          fields.push_back({"drift", [&](const Item& i) { return number(i, {-0.5, 1.0, false, false}, e.drift); }});
        }
        if (!parse_map(at, fields, false)) return false;
        if (!has_node) return fail(at, "needs node (the node's name)");
        if (pause && !has_for) return fail(at, "needs for (how long the node is stuck, e.g. for: 5s)");
        return true;
      }
      case TimelineEvent::Kind::kLossBurst: {
        bool has_loss = false, has_for = false;
        e.a = {"nodes"};
        e.b = {"nodes"};
        if (!parse_map(at,
                       {{"loss", [&](const Item& i) { return has_loss = number(i, kProbability, e.loss); }},
                        {"for", [&](const Item& i) { return has_for = duration(i, 1, kMaxDurationNs, e.for_ns); }},
                        {"a", [&](const Item& i) { return endpoints(i, e.a, p.a_items); }},
                        {"b", [&](const Item& i) { return endpoints(i, e.b, p.b_items); }}},
                       false)) {
          return false;
        }
        if (!has_loss || !has_for) return fail(at, "needs loss and for (e.g. loss_burst: {loss: 0.3, for: 5s})");
        return true;
      }
    }
    return fail(at, "unknown action");
  }

  bool parse_timeline(const Item& at) {
    std::vector<Item> items;
    if (!sequence(at, kMaxTimelineEvents, "events", items)) return false;
    std::vector<Pending> events;
    events.reserve(items.size());
    for (const Item& item : items) {
      Pending p;
      std::optional<Item> at_item;
      std::optional<Item> action;
      std::vector<Field> fields = {{"at", [&](const Item& i) {
                                      at_item = i;
                                      return duration(i, std::numeric_limits<TimeNs>::min(),
                                                      std::numeric_limits<TimeNs>::max(), p.event.at_ns);
                                    }}};
      for (std::size_t k = 0; k < std::size(kEventActions); ++k) {
        fields.push_back({kEventActions[k], [&, k](const Item& i) {
                            if (action) {
                              return fail_key(i, fmt::format("two actions in one event ('{}' and '{}'): write "
                                                             "one action per list item",
                                                             action->key.Scalar(), kEventActions[k]));
                            }
                            action = i;
                            p.event.kind = kEventKinds[k];
                            return true;
                          }});
      }
      if (!parse_map(item, fields, false)) return false;
      if (!at_item) return fail(item, "missing 'at' (when the event happens, e.g. at: 10s)");
      if (!action) {
        return fail(
            item,
            fmt::format("no action: add one of {}",
                        join(std::vector<std::string_view>(std::begin(kEventActions), std::end(kEventActions)), ", ")));
      }
      if (p.event.at_ns < 0) {
        return fail(*at_item, fmt::format("must not be negative, got {}", format_duration(p.event.at_ns)));
      }
      if (p.event.at_ns > s_.duration_ns) {
        return fail(*at_item, fmt::format("{} is after the end of the run (duration {})",
                                          format_duration(p.event.at_ns), format_duration(s_.duration_ns)));
      }
      p.action = *action;
      if (!parse_action(p)) return false;
      p.event.line = item.value.Mark().is_null() ? 0 : item.value.Mark().line + 1;
      events.push_back(std::move(p));
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const Pending& x, const Pending& y) { return x.event.at_ns < y.event.at_ns; });
    if (!check_membership(events)) return false;
    if (!check_bursts(events)) return false;
    s_.timeline.clear();
    for (Pending& p : events) s_.timeline.push_back(std::move(p.event));
    return true;
  }

  // A loss burst puts back the links' settings it found when it ends, so no
  // other burst and no set_link may start while one lasts (they would be
  // undone, or undo it).
  bool check_bursts(const std::vector<Pending>& events) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      const TimelineEvent& burst = events[i].event;
      if (burst.kind != TimelineEvent::Kind::kLossBurst) continue;
      const TimeNs end = burst.at_ns + burst.for_ns;
      for (std::size_t j = i + 1; j < events.size() && events[j].event.at_ns < end; ++j) {
        const TimelineEvent& e = events[j].event;
        if (e.kind != TimelineEvent::Kind::kLossBurst && e.kind != TimelineEvent::Kind::kSetLink) continue;
        return fail(events[j].action,
                    fmt::format("starts at {}, during the loss_burst of {} to {}: a loss burst restores the "
                                "links' settings when it ends, so bursts and set_link must not overlap one",
                                format_duration(e.at_ns), format_duration(burst.at_ns), format_duration(end)));
      }
    }
    return true;
  }

  // Replays the events in time order and checks that each names nodes that
  // exist (or not) as it needs.
  bool check_membership(const std::vector<Pending>& events) {
    enum class State : std::uint8_t { kAbsent, kLive, kCrashed };
    const ClusterSpec& c = s_.cluster;
    const std::uint64_t clients = s_.workload.clients;
    std::map<std::string, State, std::less<>> changed;  // names whose state differs from the start
    std::uint64_t members = c.nodes;
    const auto state = [&](const std::string& n) {
      const auto it = changed.find(n);
      if (it != changed.end()) return it->second;
      return is_numbered(n, c.node_prefix, c.nodes) ? State::kLive : State::kAbsent;
    };
    const auto is_client = [&](const std::string& n) { return is_numbered(n, "client", clients); };
    const auto is_group = [](const std::string& n) { return n == "nodes" || n == "clients"; };
    for (const Pending& p : events) {
      const TimelineEvent& e = p.event;
      const std::string when = format_duration(e.at_ns);
      const State st = state(e.node);
      const auto not_member = [&] {
        return fail(p.action, fmt::format("'{}' is not a node of the cluster at {}", e.node, when));
      };
      switch (e.kind) {
        case TimelineEvent::Kind::kAddNode:
          if (is_group(e.node) || is_client(e.node)) {
            return fail(p.action, fmt::format("'{}' is reserved: it names a group or a client", e.node));
          }
          if (st != State::kAbsent) {
            return fail(p.action, fmt::format("'{}' is already a node of the cluster at {}", e.node, when));
          }
          if (members >= kMaxNodes) return fail(p.action, fmt::format("more than {} nodes", kMaxNodes));
          changed[e.node] = State::kLive;
          ++members;
          break;
        case TimelineEvent::Kind::kRemoveNode:
          if (st == State::kAbsent) return not_member();
          if (st == State::kCrashed) {
            return fail(p.action, fmt::format("'{}' is crashed at {}: restart it before removing it", e.node, when));
          }
          if (members == 1) return fail(p.action, fmt::format("cannot remove '{}': it is the last node", e.node));
          changed[e.node] = State::kAbsent;
          --members;
          break;
        case TimelineEvent::Kind::kCrashNode:
          if (st == State::kAbsent) return not_member();
          if (st == State::kCrashed) return fail(p.action, fmt::format("'{}' is already crashed at {}", e.node, when));
          changed[e.node] = State::kCrashed;
          break;
        case TimelineEvent::Kind::kRestartNode:
          if (st == State::kAbsent) return not_member();
          if (st == State::kLive) {
            return fail(p.action,
                        fmt::format("'{}' is not crashed at {}: restart_node needs a crashed node", e.node, when));
          }
          changed[e.node] = State::kLive;
          break;
        case TimelineEvent::Kind::kPauseNode:
        case TimelineEvent::Kind::kClockSkew:
          if (st == State::kAbsent) return not_member();
          if (st == State::kCrashed) return fail(p.action, fmt::format("'{}' is crashed at {}", e.node, when));
          break;
        case TimelineEvent::Kind::kPartition:
        case TimelineEvent::Kind::kSetLink:
        case TimelineEvent::Kind::kLossBurst:
          for (const std::vector<Item>* group : {&p.a_items, &p.b_items}) {
            for (const Item& i : *group) {
              const std::string& n = i.value.Scalar();
              if (is_group(n) || is_client(n) || state(n) != State::kAbsent) continue;
              return fail(i, fmt::format("'{}' is not a node of the cluster at {}, a client (client1..client{}) "
                                         "or a group (nodes, clients)",
                                         n, when, clients));
            }
          }
          break;
        case TimelineEvent::Kind::kPreload:
        case TimelineEvent::Kind::kHeal:
          break;
      }
    }
    return true;
  }

  std::string display_;
  const std::vector<OverrideMark>& marks_;
  std::string error_;
  Scenario s_;
  std::optional<Item> duration_at_, interval_at_, start_at_, node_prefix_at_, timeline_at_, seeds_at_;
};

// ---- overrides ---------------------------------------------------------------

core::Status override_error(const std::string& path, std::string_view message) {
  return core::Status::error(fmt::format("--set {}: {}", path, message));
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

core::Status check_path(std::string_view path) {
  if (path.empty()) return core::Status::error("empty path");
  if (path.size() > kMaxOverridePathChars) return core::Status::error("path too long");
  for (const std::string& part : split_path(path)) {
    if (part.empty()) return core::Status::error("empty part in the dotted path");
  }
  return core::Status::ok();
}

// Finds `key` in the map `map` (the first one, as yaml-cpp's operator[] does).
bool find_in_map(const YAML::Node& map, const std::string& key, YAML::Node& out) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      out.reset(it->second);
      return true;
    }
  }
  return false;
}

// A list index, or nullopt when `part` is not one below `size`.
std::optional<std::size_t> list_index(const std::string& part, std::size_t size) {
  if (!all_digits(part) || part.size() > 9) return std::nullopt;
  std::size_t i = 0;
  std::from_chars(part.data(), part.data() + part.size(), i);
  if (i >= size) return std::nullopt;
  return i;
}

core::Status apply_override(YAML::Node& root, const Override& ov, std::vector<OverrideMark>& marks) {
  const core::Status path_ok = check_path(ov.path);
  if (!path_ok.is_ok()) return override_error(ov.path, path_ok.message());
  const std::vector<std::string> parts = split_path(ov.path);
  YAML::Node value;
  try {
    value.reset(YAML::Load(ov.value));
  } catch (const YAML::Exception& e) {
    return override_error(ov.path, fmt::format("malformed value '{}': {}", ov.value, e.msg));
  }
  YAML::Node cur;
  cur.reset(root);
  std::string walked;  // the path so far, for messages
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const std::string& part = parts[k];
    const bool last = k + 1 == parts.size();
    const std::string here = walked.empty() ? std::string("the scenario") : "'" + walked + "'";
    if (cur.IsSequence()) {
      const auto index = list_index(part, cur.size());
      if (!index) {
        return override_error(ov.path, fmt::format("{} is a list of {} items: '{}' is not an index from 0 to {}", here,
                                                   cur.size(), part, cur.size() == 0 ? 0 : cur.size() - 1));
      }
      if (last) {
        cur[*index] = value;
      } else {
        YAML::Node next = cur[*index];
        cur.reset(next);
      }
    } else if (cur.IsMap()) {
      YAML::Node next;
      const bool found = find_in_map(cur, part, next);
      if (last) {
        cur[part] = value;
      } else if (!found || next.IsNull()) {  // create the missing map
        YAML::Node created(YAML::NodeType::Map);
        cur[part] = created;
        marks.push_back({created, ov.path});
        cur.reset(created);
      } else {
        cur.reset(next);
      }
    } else {
      return override_error(ov.path, fmt::format("{} is {}, not a map or a list: cannot set '{}' inside it", here,
                                                 describe_node(cur), part));
    }
    walked += (walked.empty() ? "" : ".") + part;
  }
  marks.push_back({value, ov.path});
  return core::Status::ok();
}

std::string located(const std::string& display, const YAML::Mark& mark, std::string_view message) {
  if (mark.is_null()) return fmt::format("{}: {}", display, message);
  return fmt::format("{}:{}:{}: {}", display, mark.line + 1, mark.column + 1, message);
}

core::Result<Scenario> parse_text(std::string_view yaml, const std::string& display,
                                  const std::vector<Override>& overrides) {
  if (yaml.size() > kMaxInputBytes) {
    return core::Status::error(
        fmt::format("{}: too large ({} bytes, at most {})", display, yaml.size(), kMaxInputBytes));
  }
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's message for it is "bad file"
    return core::Status::error(located(display, e.mark, "malformed YAML: nested too deeply"));
  } catch (const YAML::Exception& e) {
    return core::Status::error(located(display, e.mark, "malformed YAML: " + e.msg));
  }
  for (std::size_t i = 1; i < docs.size(); ++i) {
    if (!docs[i].IsNull()) {
      return core::Status::error(located(display, docs[i].Mark(), "a second YAML document: a scenario file holds one"));
    }
  }
  if (docs.empty() || docs[0].IsNull()) {
    return core::Status::error(
        fmt::format("{}:1:1: empty scenario: expected a map of fields starting with name:", display));
  }
  YAML::Node root = docs[0];
  if (!root.IsMap()) {
    return core::Status::error(located(
        display, root.Mark(),
        fmt::format("a scenario must be a map of fields (name, duration, cluster ...), got {}", describe_node(root))));
  }
  std::vector<OverrideMark> marks;
  for (const Override& ov : overrides) {
    const core::Status st = apply_override(root, ov, marks);
    if (!st.is_ok()) return st;
  }
  Parser parser(display, marks);
  auto result = parser.parse(root);
  if (result.is_ok()) result.value().source_path = display;
  return result;
}

// ---- emitting ------------------------------------------------------------------

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string emit_duration(double ns) { return format_duration(static_cast<TimeNs>(std::llround(ns))); }
std::string emit_size(double b) { return format_bytes(static_cast<std::uint64_t>(std::llround(b))); }

std::string emit_distribution(const Distribution& d, Quantity kind) {
  const auto q = [&](double v) { return kind == Quantity::kDuration ? emit_duration(v) : emit_size(v); };
  switch (d.kind) {
    case Distribution::Kind::kConstant:
      return q(d.a);
    case Distribution::Kind::kUniform:
      return fmt::format("{{uniform: [{}, {}]}}", q(d.a), q(d.b));
    case Distribution::Kind::kNormal:
      return fmt::format("{{normal: {{mean: {}, stddev: {}}}}}", q(d.a), q(d.b));
    case Distribution::Kind::kLognormal:
      return fmt::format("{{lognormal: {{median: {}, p99: {}}}}}", q(d.a), q(d.b));
    case Distribution::Kind::kExponential:
      return fmt::format("{{exponential: {}}}", q(d.a));
  }
  return q(d.a);
}

std::string emit_bandwidth(double bytes_per_s) {
  return bytes_per_s == 0.0 ? std::string("unlimited") : fmt::format("{}B/s", bytes_per_s);
}

std::string emit_popularity(const KeyPopularity& p) {
  switch (p.kind) {
    case KeyPopularity::Kind::kUniform:
      return "uniform";
    case KeyPopularity::Kind::kSequential:
      return "sequential";
    case KeyPopularity::Kind::kZipfian:
      return fmt::format("{{zipfian: {{skew: {}, scramble: {}}}}}", p.zipf_skew, p.zipf_scramble);
    case KeyPopularity::Kind::kHotspot:
      return fmt::format("{{hotspot: {{keys: {}, requests: {}}}}}", p.hot_key_fraction, p.hot_request_fraction);
  }
  return "uniform";
}

std::string emit_names(const std::vector<std::string>& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += quoted(names[i]);
  }
  return out + "]";
}

std::string emit_link_fields(const LinkSpec& l) {
  return fmt::format("latency: {}, bandwidth: {}, loss: {}, duplicate: {}, reorder: {}, reorder_delay: {}",
                     emit_distribution(l.latency, Quantity::kDuration), emit_bandwidth(l.bandwidth_bytes_per_s), l.loss,
                     l.duplicate, l.reorder, format_duration(l.reorder_delay_ns));
}

std::string emit_event(const TimelineEvent& e) {
  std::string action;
  switch (e.kind) {
    case TimelineEvent::Kind::kPreload:
      action = fmt::format("{{first: {}, count: {}}}", e.first, e.count);
      break;
    case TimelineEvent::Kind::kAddNode:
    case TimelineEvent::Kind::kRemoveNode:
    case TimelineEvent::Kind::kCrashNode:
    case TimelineEvent::Kind::kRestartNode:
      action = quoted(e.node);
      break;
    case TimelineEvent::Kind::kPartition:
      action = fmt::format("{{a: {}, b: {}, one_way: {}}}", emit_names(e.a), emit_names(e.b), e.one_way);
      break;
    case TimelineEvent::Kind::kHeal:
      action = "true";
      break;
    case TimelineEvent::Kind::kSetLink:
      action = fmt::format("{{a: {}, b: {}, one_way: {}, {}}}", emit_names(e.a), emit_names(e.b), e.one_way,
                           emit_link_fields(e.link));
      break;
    case TimelineEvent::Kind::kPauseNode:
      action = fmt::format("{{node: {}, for: {}}}", quoted(e.node), format_duration(e.for_ns));
      break;
    case TimelineEvent::Kind::kClockSkew:
      action = fmt::format("{{node: {}, offset: {}, drift: {}}}", quoted(e.node), format_duration(e.offset_ns), e.drift);
      break;
    case TimelineEvent::Kind::kLossBurst:
      action = fmt::format("{{loss: {}, for: {}, a: {}, b: {}}}", e.loss, format_duration(e.for_ns), emit_names(e.a),
                           emit_names(e.b));
      break;
  }
  return fmt::format("  - {{at: {}, {}: {}}}\n", format_duration(e.at_ns), action_name(e.kind), action);
}

std::string emit_expectation(const Expectation& x) {
  std::string out = fmt::format("  - {{metric: {}", quoted(x.metric));
  if (x.min) out += fmt::format(", min: {}", *x.min);
  if (x.max) out += fmt::format(", max: {}", *x.max);
  if (x.equal) out += fmt::format(", equal: {}, tolerance: {}", *x.equal, x.tolerance);
  return out + "}\n";
}

}  // namespace

std::string_view timeline_action_name(TimelineEvent::Kind kind) { return action_name(kind); }

core::Result<Override> parse_override(std::string_view text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return core::Status::error(fmt::format("--set '{}': expected PATH=VALUE (e.g. workload.rate=100k/s)", text));
  }
  Override ov{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
  const core::Status st = check_path(ov.path);
  if (!st.is_ok()) return core::Status::error(fmt::format("--set '{}': {}", text, st.message()));
  return ov;
}

core::Result<Scenario> parse_scenario_text(std::string_view yaml, const std::string& display_name,
                                           const std::vector<Override>& overrides) {
  try {
    return parse_text(yaml, display_name, overrides);
  } catch (const YAML::Exception& e) {
    return core::Status::error(located(display_name, e.mark, e.msg));
  } catch (const std::exception& e) {
    return core::Status::error(fmt::format("{}: {}", display_name, e.what()));
  }
}

core::Result<Scenario> parse_scenario_file(const std::string& path, const std::vector<Override>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Status::error(fmt::format("{}: cannot read file", path));
  std::string text;
  char buffer[1 << 14];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxInputBytes) {
      return core::Status::error(fmt::format("{}: too large (more than {} bytes)", path, kMaxInputBytes));
    }
  }
  if (in.bad()) return core::Status::error(fmt::format("{}: cannot read file", path));
  return parse_scenario_text(text, path, overrides);
}

std::string to_yaml(const Scenario& s, const std::vector<std::string>& extra_comment) {
  std::string out;
  for (const std::string& line : extra_comment) out += fmt::format("# {}\n", line);
  const ClusterSpec& c = s.cluster;
  const WorkloadSpec& w = s.workload;
  const LinkSpec& l = s.network.link;
  out += fmt::format("name: {}\ndescription: {}\nseed: {}\nduration: {}\ninterval: {}\n", quoted(s.name),
                     quoted(s.description), s.seed, format_duration(s.duration_ns), format_duration(s.interval_ns));
  out += "cluster:\n";
  out += fmt::format("  nodes: {}\n  node_prefix: {}\n  vnodes: {}\n  hash: {}\n  memory: {}\n  eviction: {}\n",
                     c.nodes, quoted(c.node_prefix), c.vnodes, c.hash, format_bytes(c.memory_bytes), c.eviction);
  out += fmt::format("  filter: {}\n  workers: {}\n  queue_limit: {}\n", c.filter, c.workers, c.queue_limit);
  out += fmt::format(
      "  service_time:\n    get: {}\n    set: {}\n    del: {}\n", emit_distribution(c.service.get, Quantity::kDuration),
      emit_distribution(c.service.set, Quantity::kDuration), emit_distribution(c.service.del, Quantity::kDuration));
  out += fmt::format("  routing: {}\n  rebalance: {}\n  migration_batch: {}\n", c.routing, c.rebalance,
                     c.migration_batch_keys);
  out += "network:\n";
  out +=
      fmt::format("  latency: {}\n  bandwidth: {}\n  loss: {}\n  duplicate: {}\n  reorder: {}\n  reorder_delay: {}\n",
                  emit_distribution(l.latency, Quantity::kDuration), emit_bandwidth(l.bandwidth_bytes_per_s), l.loss,
                  l.duplicate, l.reorder, format_duration(l.reorder_delay_ns));
  if (s.membership.enabled) {
    const MembershipSpec& m = s.membership;
    const core::cluster::SwimConfig& sw = m.swim;
    out += "membership:\n  protocol: swim\n";
    out += fmt::format("  bootstrap: {}\n  seeds: {}\n  join_spread: {}\n", m.bootstrap,
                       emit_names(m.seeds.empty() ? std::vector<std::string>{s.cluster.node_prefix + "1"} : m.seeds), format_duration(m.join_spread_ns));
    out += fmt::format("  probe_interval: {}\n  probe_timeout: {}\n  indirect_checks: {}\n  suspicion_mult: {}\n",
                       format_duration(sw.probe_interval_ns), format_duration(sw.probe_timeout_ns), sw.indirect_checks,
                       sw.suspicion_mult);
    out += fmt::format("  retransmit_mult: {}\n  gossip_interval: {}\n  gossip_nodes: {}\n  gossip_to_dead: {}\n",
                       sw.retransmit_mult, format_duration(sw.gossip_interval_ns), sw.gossip_nodes,
                       format_duration(sw.gossip_to_dead_ns));
    out += fmt::format("  push_pull_interval: {}\n  reconnect_dead: {}\n", format_duration(sw.push_pull_interval_ns),
                       sw.reconnect_dead);
  }
  out += "workload:\n";
  out += fmt::format("  clients: {}\n  mode: {}\n  rate: {}/s\n  concurrency: {}\n  think_time: {}\n", w.clients,
                     w.mode, w.rate_per_s, w.concurrency, format_duration(w.think_time_ns));
  out += fmt::format("  keys: {}\n  key_prefix: {}\n  popularity: {}\n", w.keys, quoted(w.key_prefix),
                     emit_popularity(w.popularity));
  out += fmt::format("  mix: {{get: {}, set: {}, del: {}}}\n", w.get_fraction, w.set_fraction, w.del_fraction);
  out += fmt::format("  value_size: {}\n  ttl: {}\n  cache_aside: {}\n  backend_latency: {}\n",
                     emit_distribution(w.value_bytes, Quantity::kSize), format_duration(w.ttl_ns), w.cache_aside,
                     emit_distribution(w.backend_latency, Quantity::kDuration));
  out += fmt::format("  timeout: {}\n  start: {}\n", format_duration(w.timeout_ns), format_duration(w.start_ns));
  out += s.timeline.empty() ? "timeline: []\n" : "timeline:\n";
  for (const TimelineEvent& e : s.timeline) out += emit_event(e);
  out += s.expect.empty() ? "expect: []\n" : "expect:\n";
  for (const Expectation& x : s.expect) out += emit_expectation(x);
  return out;
}

}  // namespace hcsim::sim
