#!/usr/bin/python3
"""SWIM protocol traffic per node vs cluster size: runs a membership scenario
(scenarios/swim1000.yaml by default) at several cluster sizes with the same
crash/restart timeline (crashed nodes renamed to ones that exist at each
size), and writes OUT_DIR/traffic_curve.csv (nodes, bytes_per_node_s,
msgs_per_node_s, log_bound_bytes) and a plot (default
plots/membership_traffic.png).

log_bound_bytes = bytes(N0) * ln(N) / ln(N0), N0 the smallest size (50 by
default): SWIM's load per node is constant except for the news, which each
member retransmits O(log n) times. With --check the script exits 1, naming
each offending size, unless bytes(N) <= log_bound_bytes(N) for every size and
bytes(N0) < 1024 B/s.

Usage: /usr/bin/python3 plots/membership_curve.py [--hcsim PATH] [--out-dir DIR]
           [--plot FILE.png] [--sizes 50,100,...] [--check] [--jobs J]
Exit: 0 fine, 1 a --check failed, 2 bad arguments or a failed hcsim run.
"""
import argparse
import concurrent.futures
import csv
import math
import os
import re
import shutil
import sys

from hcsim_runs import RunError, read_metrics, read_sections, run_hcsim
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_SIZES = "50,100,200,500,1000"
BASE_BYTES_MAX = 1024.0  # bytes per node per second at the smallest size


def fail(message):
    print(f"membership_curve.py: {message}", file=sys.stderr)
    sys.exit(2)


def load_scenario(path):
    try:
        sc = read_sections(path)
    except (OSError, UnicodeDecodeError) as e:
        fail(f"{path}: cannot read the scenario: {e}")
    if "membership" not in sc:
        fail(f"{path}: not a membership scenario (no membership: section)")
    return sc


EVENT = re.compile(r'^\{\s*at:\s*([^,{}]+?)\s*,\s*([a-z_]+):\s*"?([^",{}]+?)"?\s*\}$')


def scaled_timeline(sc, nodes):
    """The scenario's timeline with every node name nodeK mapped to
    node max(2, ceil(K * nodes / N_scenario)): the same events at the same
    times, on nodes that exist at this size. node1 is left alone: it is the
    default seed, which restarted nodes join through."""
    cluster = sc.get("cluster") if isinstance(sc.get("cluster"), dict) else {}
    try:
        base = int(cluster.get("nodes", "3"))
    except ValueError:
        fail(f"cluster.nodes: not an integer: {cluster.get('nodes')}")
    prefix = cluster.get("node_prefix", "node")
    pattern = re.compile(re.escape(prefix) + r"([0-9]+)$")
    names = {}

    def rename(name):
        m = pattern.match(name)
        if not m:
            fail(f"timeline names {name!r}, not a {prefix}<number> node: cannot scale it")
        k = int(m.group(1))
        new = f"{prefix}{min(nodes, max(2, math.ceil(k * nodes / base)))}"
        if names.setdefault(new, name) != name:
            fail(f"at {nodes} nodes, {name} and {names[new]} would both become {new}")
        return new

    timeline = sc.get("timeline") or []
    if not isinstance(timeline, list):
        fail("timeline: expected a block list of {at: ..., ACTION: NODE} items")
    items = []
    for ev in timeline:
        m = EVENT.match(ev)
        if not m:
            fail(f"timeline event {ev!r}: expected {{at: TIME, ACTION: NODE}}")
        at, action, node = m.groups()
        if action not in ("crash_node", "restart_node", "add_node", "remove_node"):
            fail(f"timeline action {action}: only node crashes, restarts, adds and removes can be scaled")
        items.append(f"{{at: {at}, {action}: {rename(node)}}}")
    return "[" + ", ".join(items) + "]"


def run_size(hcsim, scenario, timeline, nodes, out):
    run_hcsim(hcsim, scenario, out, [f"cluster.nodes={nodes}", f"timeline={timeline}"], 1800,
              what=f"at {nodes} nodes")
    path = os.path.join(out, "summary.csv")
    s = read_metrics(path)
    speed = os.path.join(out, "speed.csv")
    wall_s = float(read_metrics(speed).get("wall_s", "nan")) if os.path.isfile(speed) else float("nan")
    try:
        return {
            "nodes": nodes,
            "bytes_per_node_s": float(s["protocol.bytes_per_node_s"]),
            "msgs_per_node_s": float(s["protocol.msgs_per_node_s"]),
            "crashes": int(float(s["detect.crashes"])),
            "undetected": int(float(s["detect.undetected"])),
            "false_deaths": int(float(s["membership.false_deaths"])),
            "wall_s": wall_s,
        }
    except (KeyError, ValueError) as e:
        raise RunError(f"{path}: missing or bad protocol figures ({e})")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hcsim", default=os.path.join(ROOT, "build", "release", "hcsim"),
                        help="the hcsim binary (default build/release/hcsim)")
    parser.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "swim1000.yaml"),
                        help="membership scenario (default scenarios/swim1000.yaml)")
    parser.add_argument("--out-dir", default=os.path.join(ROOT, "results", "membership"),
                        help="where traffic_curve.csv goes (default results/membership)")
    parser.add_argument("--plot", default=os.path.join(HERE, "membership_traffic.png"),
                        help="PNG or SVG to draw (default plots/membership_traffic.png); '' for none")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"cluster sizes (default {DEFAULT_SIZES})")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless traffic stays under the log bound and the smallest size under 1 KiB/s")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    args = parser.parse_args(argv)

    try:
        sizes = sorted({int(x) for x in args.sizes.split(",") if x.strip()})
    except ValueError:
        fail(f"--sizes: not a list of integers: {args.sizes}")
    if len(sizes) < 2 or sizes[0] < 2:
        fail("--sizes: at least two cluster sizes, each at least 2")
    if args.jobs < 1:
        fail("--jobs must be at least 1")
    if not (os.path.isfile(args.hcsim) and os.access(args.hcsim, os.X_OK)):
        fail(f"{args.hcsim}: no hcsim binary there (build it, or pass --hcsim PATH)")
    sc = load_scenario(args.scenario)
    timelines = {n: scaled_timeline(sc, n) for n in sizes}

    work = tempfile.mkdtemp(prefix="membership_curve.")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            # The largest first: it takes longest.
            futures = {n: pool.submit(run_size, args.hcsim, args.scenario, timelines[n], n,
                                      os.path.join(work, f"n{n}")) for n in reversed(sizes)}
            try:
                rows = [futures[n].result() for n in sizes]
            except RunError as e:
                for f in futures.values():
                    f.cancel()
                fail(str(e))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = rows[0]
    for r in rows:
        r["log_bound_bytes"] = base["bytes_per_node_s"] * math.log(r["nodes"]) / math.log(base["nodes"])

    os.makedirs(args.out_dir, exist_ok=True)
    out_csv = os.path.join(args.out_dir, "traffic_curve.csv")
    columns = ["nodes", "bytes_per_node_s", "msgs_per_node_s", "log_bound_bytes"]
    tmp = out_csv + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([r["nodes"]] + [f"{r[c]:.6g}" for c in columns[1:]])
    os.replace(tmp, out_csv)
    print(f"wrote {out_csv}")
    for r in rows:
        print(f"  {r['nodes']:>6} nodes: {r['bytes_per_node_s']:8.1f} B/s per node (bound {r['log_bound_bytes']:7.1f}), "
              f"{r['msgs_per_node_s']:.2f} msgs/s per node; {r['crashes']} crashes, {r['undetected']} undetected, "
              f"{r['false_deaths']} false deaths; {r['wall_s']:.1f} s wall")

    if args.plot:
        draw(rows, args.plot, os.path.basename(args.scenario))

    if args.check:
        problems = []
        if not base["bytes_per_node_s"] < BASE_BYTES_MAX:
            problems.append(f"N={base['nodes']}: {base['bytes_per_node_s']:.1f} B/s per node, not below "
                            f"{BASE_BYTES_MAX:.0f}")
        for r in rows[1:]:
            if r["bytes_per_node_s"] > r["log_bound_bytes"]:
                problems.append(f"N={r['nodes']}: {r['bytes_per_node_s']:.1f} B/s per node exceeds the log bound "
                                f"{r['log_bound_bytes']:.1f} (= {base['bytes_per_node_s']:.1f} * ln {r['nodes']} / "
                                f"ln {base['nodes']})")
        if problems:
            for p in problems:
                print(f"membership_curve.py: check failed: {p}", file=sys.stderr)
            sys.exit(1)
        print(f"check passed: traffic per node within the log bound at every size, "
              f"{base['bytes_per_node_s']:.1f} B/s at {base['nodes']} nodes")


def draw(rows, out, scenario_name):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("matplotlib is missing: install python3-matplotlib (scripts/install-deps.sh) "
             "and run with /usr/bin/python3")
    n = [r["nodes"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
    ax.plot(n, [r["bytes_per_node_s"] for r in rows], marker="o", linewidth=1.4, label="bytes sent per node per second")
    ax.plot(n, [r["log_bound_bytes"] for r in rows], linestyle="--", color="tab:red",
            label=f"bound: bytes({n[0]}) x ln N / ln {n[0]}")
    ax.set_xscale("log")
    ax.set_xticks(n)
    ax.set_xticklabels([str(x) for x in n])
    ax.set_xlabel("cluster size N (nodes)")
    ax.set_ylabel("bytes per node per second")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3, which="both")
    ax2 = ax.twinx()
    ax2.plot(n, [r["msgs_per_node_s"] for r in rows], marker="s", color="tab:green", linewidth=1.0,
             linestyle=":", label="messages sent per node per second")
    ax2.set_ylabel("messages per node per second")
    ax2.set_ylim(bottom=0, top=max(r["msgs_per_node_s"] for r in rows) * 1.6)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="lower right", fontsize=8)
    ax.set_title(f"{scenario_name}: SWIM traffic per node vs cluster size (10 simulated minutes, same crashes)")
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
