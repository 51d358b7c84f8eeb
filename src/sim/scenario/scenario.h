// A scenario: everything one simulation run needs, as typed, validated
// values. Parsed from YAML (docs: scenarios/README.md) with units on every
// quantity; every error names the place as `file:line:col: message`.
// A Scenario that parse_scenario returned is valid: the runner trusts it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cluster/swim_membership.h"
#include "core/runtime/clock.h"
#include "core/util/result.h"
#include "sim/engine/distribution.h"
#include "sim/network/network.h"
#include "sim/workload/key_chooser.h"

namespace hcsim::sim {

using core::TimeNs;

struct ServiceTimes {       // per operation, nanoseconds
  Distribution get = Distribution::constant(2'000);
  Distribution set = Distribution::constant(3'000);
  Distribution del = Distribution::constant(2'000);
};

struct ClusterSpec {
  std::uint32_t nodes = 3;                 // initial nodes node1..nodeN (>= 1)
  std::string node_prefix = "node";
  std::uint32_t vnodes = 256;              // per node, 1..65536
  std::string hash = "xxh64";              // xxh64 (seed-compatible) or xxh3
  std::uint64_t memory_bytes = 64ull << 20; // per node store budget
  std::string eviction = "lru";            // lru, sampled-lru, sieve, s3fifo, session, noeviction
  bool filter = true;
  std::uint32_t workers = 4;               // requests served at once per node, >= 1
  std::uint32_t queue_limit = 1024;        // waiting requests per node beyond which it answers "busy"
  ServiceTimes service;
  std::string routing = "client";          // client (smart clients) or proxy (any node forwards)
  std::string rebalance = "cold";          // cold (refetch on miss) or migrate
  std::uint32_t migration_batch_keys = 64; // keys per migration message
};

// A link's settings are the network's own (latency, bandwidth, loss,
// duplication, reordering): the scenario holds them as the network takes them.
using LinkSpec = LinkConfig;

struct NetworkSpec {
  LinkSpec link;  // every link unless an event changes it
};

// A `membership:` section makes every node run the cluster coordinator
// (SWIM membership driving its own ring) over the simulated network.
struct MembershipSpec {
  bool enabled = false;
  // join: each node starts knowing only itself and joins through the seeds
  // (membership builds the ring); static: every initial node starts knowing
  // every other one (a predefined ring).
  std::string bootstrap = "join";
  std::vector<std::string> seeds;    // node names; default: the first node
  TimeNs join_spread_ns = 0;         // initial joins at uniform random times in [0, spread)
  core::cluster::SwimConfig swim;    // memberlist's LAN defaults
};

struct WorkloadSpec {
  std::uint32_t clients = 4;         // 0: no traffic (a membership-only run)
  std::string mode = "open";          // open (Poisson arrivals) or closed (fixed concurrency)
  double rate_per_s = 100'000;        // open: total over all clients
  std::uint32_t concurrency = 16;     // closed: outstanding requests per client
  TimeNs think_time_ns = 0;           // closed: pause between a reply and the next request
  std::uint64_t keys = 10'000;        // key space key:0..key:<keys-1>
  std::string key_prefix = "key:";
  KeyPopularity popularity;           // default uniform
  double get_fraction = 0.9;          // the op mix; the three sum to 1
  double set_fraction = 0.1;
  double del_fraction = 0.0;
  Distribution value_bytes = Distribution::constant(1024);
  TimeNs ttl_ns = 0;                  // 0: no TTL
  bool cache_aside = true;            // a GET miss is followed by a SET after backend latency
  Distribution backend_latency = Distribution::constant(1'000'000);
  TimeNs timeout_ns = 100'000'000;    // a request unanswered this long counts as a timeout
  TimeNs start_ns = 0;                // traffic runs from start to the end of the run
};

struct TimelineEvent {
  enum class Kind : std::uint8_t {
    kPreload,      // keys [first, first+count) with the workload's value sizes, straight into owners
    kAddNode,      // node joins (empty)
    kRemoveNode,   // graceful leave (migrate: its keys move first)
    kCrashNode,    // down, data lost
    kRestartNode,  // back up, empty
    kPartition,    // blocks group a <-> b (or a -> b when one_way)
    kHeal,         // removes every partition
    kSetLink,      // changes link settings between two groups (both ways unless one_way)
    kPauseNode,    // a stuck process: handles nothing (messages wait, timers wait) for `for_ns`
    kClockSkew,    // the node's clock jumps ahead by offset_ns (>= 0: it is monotonic) and then runs at (1 + drift) speed
    kLossBurst,    // links between groups a and b lose `loss` of their messages for `for_ns`
  };
  Kind kind = Kind::kPreload;
  TimeNs at_ns = 0;
  std::string node;                // add/remove/crash/restart
  std::uint64_t first = 0;         // preload
  std::uint64_t count = 0;         // preload
  std::vector<std::string> a, b;   // partition / set_link: endpoint names; "clients" = every client, "nodes" = every node
  bool one_way = false;
  LinkSpec link;                   // set_link: the new settings
  TimeNs for_ns = 0;               // pause_node, loss_burst: how long
  TimeNs offset_ns = 0;            // clock_skew
  double drift = 0.0;              // clock_skew: extra speed, -0.5..1 (0.01 = 1% fast)
  double loss = 0.0;               // loss_burst
  int line = 0;                    // where it was written (1-based), for messages
};

// The YAML key of an event's action ("add_node", "crash_node", ...).
std::string_view timeline_action_name(TimelineEvent::Kind kind);

// One check of the `expect:` block on a summary figure.
struct Expectation {
  std::string metric;               // a summary.csv metric name
  std::optional<double> min;
  std::optional<double> max;
  std::optional<double> equal;      // with tolerance (absolute, default 0)
  double tolerance = 0.0;
  int line = 0;
};

struct Scenario {
  std::string name;                 // required; [A-Za-z0-9_.-]+, names results/<name>/
  std::string description;
  std::uint64_t seed = 1;
  TimeNs duration_ns = 10'000'000'000;
  TimeNs interval_ns = 1'000'000'000; // metrics interval; duration is a whole number of them
  ClusterSpec cluster;
  NetworkSpec network;
  MembershipSpec membership;
  WorkloadSpec workload;
  std::vector<TimelineEvent> timeline;  // sorted by time (stable)
  std::vector<Expectation> expect;
  std::string source_path;            // the file it came from
};

// `--set path=value` overrides, applied to the YAML before validation:
// path is dotted (workload.rate, timeline.2.at); value is parsed as YAML.
struct Override {
  std::string path;
  std::string value;
};
// Splits "path=value"; an error names the text.
core::Result<Override> parse_override(std::string_view text);

// Reads, applies overrides, validates. Errors: "file:line:col: message" (for
// an override: "--set path: message").
core::Result<Scenario> parse_scenario_file(const std::string& path, const std::vector<Override>& overrides = {});
core::Result<Scenario> parse_scenario_text(std::string_view yaml, const std::string& display_name,
                                           const std::vector<Override>& overrides = {});

// The scenario as YAML, every field explicit with canonical units; parsing it
// gives an equal Scenario. `extra_comment` lines are written first as # comments.
std::string to_yaml(const Scenario& scenario, const std::vector<std::string>& extra_comment = {});

// Units. Durations: ns, us, ms, s, m, h (e.g. 250us, 1.5s); sizes: B, KB, MB,
// GB (10^3), KiB, MiB, GiB (2^10); rates: 50k/s, 2M/s, 1000/s; bandwidth:
// sizes per second (1GB/s, 100MiB/s) or bits (10Gbps, 100Mbps). A bare
// number is an error for durations, sizes and bandwidth (units are required),
// and means per second for rates.
core::Result<TimeNs> parse_duration(std::string_view text);
core::Result<std::uint64_t> parse_bytes(std::string_view text);
core::Result<double> parse_rate(std::string_view text);
core::Result<double> parse_bandwidth(std::string_view text);  // bytes per second
std::string format_duration(TimeNs ns);  // canonical, exact: "250us", "10s", "1500ns"
std::string format_bytes(std::uint64_t bytes);  // "64MiB", "1000B"

}  // namespace hcsim::sim
