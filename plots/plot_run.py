#!/usr/bin/python3
"""Draws one `hcsim run` result: the time series (throughput, hit ratio, p99
latency, with the timeline's events marked) and the per-node load before and
after the membership changes.

Usage: /usr/bin/python3 plots/plot_run.py RESULTS_DIR [--out FILE.png]
       (RESULTS_DIR is results/<scenario>/; default output RESULTS_DIR/run.png)

Needs Debian's python3-matplotlib (scripts/install-deps.sh installs it).
"""
import argparse
import csv
import os
import sys


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a run's results directory (results/<scenario>/)")
    parser.add_argument("--out", help="PNG or SVG file to write (default RESULTS/run.png)")
    args = parser.parse_args(argv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot_run.py: matplotlib is missing: install python3-matplotlib "
                 "(scripts/install-deps.sh) and run with /usr/bin/python3")
    needed = ["timeseries.csv", "events.csv", "distribution.csv", "summary.csv"]
    for name in needed:
        if not os.path.isfile(os.path.join(args.results, name)):
            sys.exit(f"plot_run.py: {os.path.join(args.results, name)}: not found (run `hcsim run` first)")
    series = read_csv(os.path.join(args.results, "timeseries.csv"))
    events = read_csv(os.path.join(args.results, "events.csv"))
    dist = read_csv(os.path.join(args.results, "distribution.csv"))
    name = os.path.basename(os.path.normpath(args.results))
    if not series:
        sys.exit("plot_run.py: timeseries.csv has no rows")

    t = [float(r["time_s"]) for r in series]
    panels = [
        ("throughput (k req/s)", [float(r["throughput_rps"]) / 1e3 for r in series]),
        ("hit ratio", [float(r["hit_ratio"]) for r in series]),
        ("p99 latency (us)", [float(r["latency_p99_us"]) for r in series]),
    ]
    stages = []
    for r in dist:
        if r["stage"] not in stages:
            stages.append(r["stage"])
    fig = plt.figure(figsize=(11, 9), constrained_layout=True)
    grid = fig.add_gridspec(4, 1, height_ratios=[1, 1, 1, 1.2])
    axes = [fig.add_subplot(grid[i]) for i in range(3)]
    for ax, (label, values) in zip(axes, panels):
        ax.plot(t, values, marker=".", linewidth=1.2)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        for e in events:
            if e["event"] == "preload":
                continue
            x = float(e["time_s"])
            ax.axvline(x, color="tab:red", linestyle="--", linewidth=0.8)
            if ax is axes[0]:
                ax.annotate(f'{e["event"]} {e["target"]}'.strip(), (x, 1.0), xycoords=("data", "axes fraction"),
                            rotation=0, fontsize=8, color="tab:red", ha="left", va="top",
                            xytext=(3, -3), textcoords="offset points")
    axes[-1].set_xlabel("simulated time (s)")
    axes[0].set_title(f"{name}: time series")

    ax = fig.add_subplot(grid[3])
    first, last = stages[0], stages[-1]
    nodes = []
    for r in dist:
        if r["node"] not in nodes:
            nodes.append(r["node"])
    show = nodes if len(nodes) <= 40 else None
    if show is None:
        # too many nodes for bars: a histogram of keys per node instead
        for stage, color in ((first, "tab:blue"), (last, "tab:orange")):
            ax.hist([int(r["keys"]) for r in dist if r["stage"] == stage], bins=50, alpha=0.6,
                    label=stage, color=color)
        ax.set_xlabel("keys per node")
        ax.set_ylabel("nodes")
    else:
        width = 0.4
        for offset, stage, color in ((-width / 2, first, "tab:blue"), (width / 2, last, "tab:orange")):
            keys = {r["node"]: int(r["keys"]) for r in dist if r["stage"] == stage}
            ax.bar([i + offset for i in range(len(show))], [keys.get(n, 0) for n in show], width,
                   label=stage, color=color)
        ax.set_xticks(range(len(show)))
        ax.set_xticklabels(show, rotation=45 if len(show) > 12 else 0, fontsize=8)
        ax.set_ylabel("keys owned")
    ax.set_title("per-node load: " + (f"{first} vs {last}" if first != last else first))
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    out = args.out or os.path.join(args.results, "run.png")
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
