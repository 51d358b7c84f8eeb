#!/usr/bin/python3
"""SWIM failure detection under message loss: runs a membership scenario
(scenarios/swim50.yaml by default) for several loss rates and seeds, and sets
the measured detection delays and false suspicions beside the analysis of
the SWIM paper (Das, Gupta, Motivala, DSN 2002) adapted to this
implementation (docs/membership.md explains the model).

Writes OUT_DIR/loss_sweep.csv (one row per loss rate) and the plot
(default plots/membership_loss.png): detection latency vs loss, and false
suspicions per node-hour vs loss (log scale), each with the analytical line.

Usage: /usr/bin/python3 plots/membership_loss.py [--hcsim PATH] [--out-dir DIR]
           [--plot FILE.png] [--losses 0,0.01,...] [--seeds N] [--jobs J]

Needs Debian's python3-matplotlib (scripts/install-deps.sh)
and a built hcsim (default build/release/hcsim, as scripts/run.sh builds it).
"""
import argparse
import concurrent.futures
import csv
import math
import os
import shutil
import sys

from hcsim_runs import RunError, read_csv, read_sections, run_hcsim
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_LOSSES = "0,0.005,0.01,0.02,0.05,0.10"
# A metrics interval with this many false deaths or more is one burst: the
# suspected member never heard of its suspicion, so every member that did
# declares it dead on its own timer (each such declaration counts).
BURST = 5


def fail(message):
    print(f"membership_loss.py: {message}", file=sys.stderr)
    sys.exit(2)


def duration_s(text):
    """A scenario duration ("200ms", "1s", "2m") in seconds."""
    text = str(text).strip()
    for unit, scale in (("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * scale
            except ValueError:
                break
    raise ValueError(f"not a duration: {text!r}")


def nearest_rank(sorted_values, q):
    """The q-quantile by the nearest-rank rule (as hcsim's summary uses)."""
    if not sorted_values:
        return float("nan")
    rank = math.ceil(q * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


# ---- the analysis --------------------------------------------------------------


def expected_first_ping_periods(probers):
    """Expected time, in probe periods, from a crash to the first ping any
    member sends to the crashed one. `probers` live members each probe once
    a period at their own uniformly random phase, each target 1/probers of
    the time (their lists hold the other probers and the crashed member), so
    P(no ping by t) = [(1-p)^floor(t) * (1 - p*frac(t))]^N with p = 1/N.
    Integrated over t:  (1 - (1-p)^(N+1)) / (p (N+1) (1 - (1-p)^N))  ~ 1.
    (Round-robin selection gives the same mean to within 1% for N ~ 50;
    it bounds the worst case instead: 2N-1 periods.)"""
    n = float(probers)
    p = 1.0 / n
    return (1.0 - (1.0 - p) ** (n + 1.0)) / (p * (n + 1.0) * (1.0 - (1.0 - p) ** n))


def paper_first_detection_periods(q_f):
    """SWIM paper, section 3.1: E[T] = T' / (1 - e^{-q_f}) (1.58 T' when
    every other member is up): periods counted from a period start, with
    detection at the end of the period whose ping found the failure."""
    return 1.0 / (1.0 - math.exp(-q_f))


def p_false_suspicion(loss, indirect_checks):
    """One probe of a live member ends in suspicion when the direct ping or
    its ack is lost, and each of the k indirect paths (ping-req, ping, ack,
    ack: 4 messages) loses at least one message (independent loss q)."""
    direct_fails = 1.0 - (1.0 - loss) ** 2
    path_fails = 1.0 - (1.0 - loss) ** 4
    return direct_fails * path_fails ** indirect_checks


def suspicion_timeout_s(params, members):
    return params["suspicion_mult"] * max(1.0, math.log10(max(members, 1))) * params["probe_interval_s"]


def retransmit_limit(params, members):
    return params["retransmit_mult"] * math.ceil(math.log10(members + 1))


def gossip_spread_s(params, members, loss):
    """A rough estimate of the time from the first declared death to every
    member knowing it. News reaches a member through gossip (gossip_nodes
    members every gossip interval) and piggybacked on probe pings and acks
    (about 2 messages a period), so an informed member passes it on at rate
    r = (b/T_g + 2/T')(1-q). The informed count grows as e^{rt} to most of
    the cluster in about ln(n-1)/r; the last members then each wait an
    exponential time, and a member also declares the death itself when its
    own suspicion timer ends (its suspicion came from the same kind of
    spread, S earlier), which halves that tail: about 1.5 ln(n-1)/r."""
    rate = (params["gossip_nodes"] / params["gossip_interval_s"] + 2.0 / params["probe_interval_s"]) * (1.0 - loss)
    return 1.5 * math.log(members - 1) / rate


def news_miss_probability(params, members, loss):
    """Infection-style dissemination: every member that learns an item sends
    it retransmit_mult * ceil(log10(n+1)) = L times to random members, so a
    given member receives about L(1-q) copies (Poisson): it misses the item
    with probability e^{-L(1-q)}."""
    return math.exp(-retransmit_limit(params, members) * (1.0 - loss))


def expected_first_suspicion_s(params, probers, loss):
    """Crash to the first suspicion. Mostly: the first ping after the crash,
    then the end of that prober's period (+T'). But a ping sent in the last
    probe_timeout (tau) before the crash whose ping or ack was lost (p_d =
    1-(1-q)^2) sends its indirect probes after the crash: they fail, and
    that prober suspects at the end of its period, T'-tau..T' after the
    crash, before any post-crash ping could. Pings reach the crashed member
    at about one per period in all, so such early suspicions are a Poisson
    process of rate p_d/T' over a window tau long."""
    t = params["probe_interval_s"]
    tau = params["probe_timeout_s"]
    late = (expected_first_ping_periods(probers) + 1.0) * t
    rate = (1.0 - (1.0 - loss) ** 2) / t
    if rate * tau < 1e-12:
        return late
    p_none = math.exp(-rate * tau)
    first_in_window = 1.0 / rate - tau * p_none / (1.0 - p_none)
    return p_none * late + (1.0 - p_none) * (t - tau + first_in_window)


def model_row(params, members, probers, loss):
    t = params["probe_interval_s"]
    first_ping_s = expected_first_ping_periods(probers) * t
    suspect_s = expected_first_suspicion_s(params, probers, loss)
    dead_s = suspect_s + suspicion_timeout_s(params, members)
    p = p_false_suspicion(loss, params["indirect_checks"])
    probes_per_node_hour = 3600.0 / t
    return {
        "model_probers": probers,
        "model_first_ping_s": first_ping_s,
        "model_suspect_s": suspect_s,
        "paper_first_detection_s": paper_first_detection_periods(probers / (members - 1)) * t,
        "model_suspicion_timeout_s": suspicion_timeout_s(params, members),
        "model_dead_s": dead_s,
        "model_all_know_s": dead_s + gossip_spread_s(params, members, loss),
        "model_false_suspicion_per_probe": p,
        "model_false_suspicions_per_node_hour": p * probes_per_node_hour,
        "model_news_miss_probability": news_miss_probability(params, members, loss),
    }


# ---- running hcsim ---------------------------------------------------------------


def run_one(hcsim, scenario, loss, seed, out):
    return run_hcsim(hcsim, scenario, out, [f"network.loss={loss}", f"seed={seed}"], 600,
                     expect_files=("summary.csv", "detection.csv", "membership.csv", "scenario.yaml"))


def swim_params(resolved_scenario):
    sc = read_sections(resolved_scenario)
    m = sc.get("membership")
    cluster = sc.get("cluster")
    try:
        return {
            "nodes": int(cluster["nodes"]),
            "probe_interval_s": duration_s(m["probe_interval"]),
            "probe_timeout_s": duration_s(m["probe_timeout"]),
            "indirect_checks": int(m["indirect_checks"]),
            "suspicion_mult": float(m["suspicion_mult"]),
            "retransmit_mult": float(m["retransmit_mult"]),
            "gossip_interval_s": duration_s(m["gossip_interval"]),
            "gossip_nodes": int(m["gossip_nodes"]),
        }
    except (KeyError, TypeError, ValueError) as e:
        fail(f"{resolved_scenario}: no SWIM membership parameters ({e}); is it a membership scenario?")


def collect(run_dir):
    """One run's figures: per-crash delays, false suspicions/deaths, node-hours
    and the live probers at each crash."""
    summary = {r["metric"]: float(r["value"]) for r in read_csv(os.path.join(run_dir, "summary.csv"))}
    crashes = read_csv(os.path.join(run_dir, "detection.csv"))
    series = read_csv(os.path.join(run_dir, "membership.csv"))
    node_s, last = 0.0, 0.0
    singles = bursts = 0
    for r in series:
        t = float(r["time_s"])
        node_s += int(r["running_nodes"]) * (t - last)
        last = t
        deaths = int(r["false_deaths"])
        singles += deaths == 1
        bursts += deaths >= BURST
    nodes = int(summary["initial.nodes"])
    probers = []
    for c in crashes:
        at = float(c["crash_s"])
        down = sum(1 for o in crashes if o is not c and float(o["crash_s"]) < at
                   and (o["restart_s"] == "" or float(o["restart_s"]) > at))
        probers.append(nodes - 1 - down)

    def delays(col):
        return [float(c[col]) for c in crashes if c[col] != ""]

    return {
        "crashes": len(crashes),
        "undetected": sum(1 for c in crashes if c["all_know_s"] == ""),
        "suspect": delays("first_suspect_s"),
        "dead": delays("first_dead_s"),
        "all_know": delays("all_know_s"),
        "false_suspicions": int(summary["membership.false_suspicions"]),
        "false_deaths": int(summary["membership.false_deaths"]),
        "false_death_singles": singles,
        "false_death_bursts": bursts,
        "initial_converge_s": summary["membership.initial_converge_s"],
        "node_hours": node_s / 3600.0,
        "probers": probers,
    }


def fmt(x):
    if isinstance(x, int):
        return str(x)
    if x != x:  # nan
        return ""
    return f"{x:.6g}"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hcsim", default=os.path.join(ROOT, "build", "release", "hcsim"),
                        help="the hcsim binary (default build/release/hcsim)")
    parser.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "swim50.yaml"),
                        help="membership scenario to sweep (default scenarios/swim50.yaml)")
    parser.add_argument("--out-dir", default=os.path.join(ROOT, "results", "membership"),
                        help="where loss_sweep.csv goes (default results/membership)")
    parser.add_argument("--plot", default=os.path.join(HERE, "membership_loss.png"),
                        help="PNG or SVG to draw (default plots/membership_loss.png); '' for none")
    parser.add_argument("--losses", default=DEFAULT_LOSSES, help=f"loss rates (default {DEFAULT_LOSSES})")
    parser.add_argument("--seeds", type=int, default=8, help="runs per loss rate, seeds 1..N (default 8)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    args = parser.parse_args(argv)

    try:
        losses = [float(x) for x in args.losses.split(",") if x.strip()]
    except ValueError:
        fail(f"--losses: not a list of numbers: {args.losses}")
    if not losses or any(not 0.0 <= q < 1.0 for q in losses):
        fail("--losses: each loss rate must be in [0, 1)")
    if args.seeds < 1 or args.jobs < 1:
        fail("--seeds and --jobs must be at least 1")
    if not (os.path.isfile(args.hcsim) and os.access(args.hcsim, os.X_OK)):
        fail(f"{args.hcsim}: no hcsim binary there (build it, or pass --hcsim PATH)")
    if not os.path.isfile(args.scenario):
        fail(f"{args.scenario}: not found")

    work = tempfile.mkdtemp(prefix="membership_loss.")
    try:
        jobs = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for q in losses:
                for seed in range(1, args.seeds + 1):
                    out = os.path.join(work, f"loss{q}_seed{seed}")
                    jobs[(q, seed)] = pool.submit(run_one, args.hcsim, args.scenario, q, seed, out)
            try:
                runs = {key: collect(f.result()) for key, f in jobs.items()}
            except RunError as e:
                for f in jobs.values():
                    f.cancel()
                fail(str(e))
        params = swim_params(os.path.join(jobs[(losses[0], 1)].result(), "scenario.yaml"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    members = params["nodes"]
    rows = []
    for q in losses:
        rs = [runs[(q, s)] for s in range(1, args.seeds + 1)]
        row = {"loss": q, "runs": len(rs), "crashes": sum(r["crashes"] for r in rs),
               "undetected": sum(r["undetected"] for r in rs)}
        for name in ("suspect", "dead", "all_know"):
            values = sorted(v for r in rs for v in r[name])
            row[f"{name}_s_mean"] = sum(values) / len(values) if values else float("nan")
            row[f"{name}_s_p50"] = nearest_rank(values, 0.50)
            row[f"{name}_s_p99"] = nearest_rank(values, 0.99)
            row[f"{name}_s_max"] = values[-1] if values else float("nan")
        node_hours = sum(r["node_hours"] for r in rs)
        row["node_hours"] = node_hours
        row["false_suspicions"] = sum(r["false_suspicions"] for r in rs)
        row["false_suspicions_per_node_hour"] = row["false_suspicions"] / node_hours
        row["false_deaths"] = sum(r["false_deaths"] for r in rs)
        row["false_deaths_per_node_hour"] = row["false_deaths"] / node_hours
        row["false_death_singles"] = sum(r["false_death_singles"] for r in rs)
        row["false_death_bursts"] = sum(r["false_death_bursts"] for r in rs)
        row["initial_converge_s_max"] = max(r["initial_converge_s"] for r in rs)
        probers = [p for r in rs for p in r["probers"]]
        mean_probers = sum(probers) / len(probers) if probers else members - 1
        row.update(model_row(params, members, mean_probers, q))
        # Expected false deaths, from the expected false suspicions: one
        # member missing the refutation (n-2 candidates), or the suspected
        # member missing the suspicion itself (a burst).
        expected_fs = row["model_false_suspicions_per_node_hour"] * node_hours
        miss = row["model_news_miss_probability"]
        row["model_false_death_singles"] = expected_fs * (members - 2) * miss
        row["model_false_death_bursts"] = expected_fs * miss
        rows.append(row)

    os.makedirs(args.out_dir, exist_ok=True)
    out_csv = os.path.join(args.out_dir, "loss_sweep.csv")
    columns = list(rows[0].keys())
    tmp = out_csv + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            w.writerow([fmt(row[c]) for c in columns])
    os.replace(tmp, out_csv)
    print(f"wrote {out_csv}")
    for row in rows:
        print(f"  loss {row['loss']:<6g} crashes {row['crashes']:>4}  suspect {row['suspect_s_mean']:.2f} s "
              f"(model {row['model_suspect_s']:.2f})  dead {row['dead_s_mean']:.2f} s (model {row['model_dead_s']:.2f})  "
              f"all know {row['all_know_s_mean']:.2f} s  false suspicions/node-h "
              f"{row['false_suspicions_per_node_hour']:.4g} (model {row['model_false_suspicions_per_node_hour']:.3g})  "
              f"false deaths {row['false_deaths']} ({row['false_death_singles']} single, "
              f"{row['false_death_bursts']} bursts; model {row['model_false_death_singles']:.2g}, "
              f"{row['model_false_death_bursts']:.2g})")
    if args.plot:
        draw(rows, params, args.plot, os.path.basename(args.scenario), args.seeds)


def draw(rows, params, out, scenario_name, seeds):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("matplotlib is missing: install python3-matplotlib (scripts/install-deps.sh) "
             "and run with /usr/bin/python3")
    loss_pct = [100.0 * r["loss"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2), constrained_layout=True)
    series = (("suspect", "first suspicion", "tab:blue", "model_suspect_s"),
              ("dead", "declared dead", "tab:orange", "model_dead_s"),
              ("all_know", "every member knows", "tab:green", "model_all_know_s"))
    for key, label, color, model in series:
        ax1.plot(loss_pct, [r[f"{key}_s_mean"] for r in rows], marker="o", color=color, linewidth=1.4,
                 label=f"{label}: mean")
        ax1.plot(loss_pct, [r[f"{key}_s_p99"] for r in rows], marker="^", color=color, linewidth=0.8,
                 linestyle=":", label=f"{label}: p99")
        ax1.plot(loss_pct, [r[model] for r in rows], color=color, linestyle="--", linewidth=1.2,
                 label=f"{label}: model" + (" (rough)" if key == "all_know" else ""))
    ax1.axhline(paper_first_detection_periods(1.0) * params["probe_interval_s"], color="grey",
                linestyle="-.", linewidth=0.9, label="paper: T'/(1-1/e), first detection")
    ax1.set_xlabel("message loss (%)")
    ax1.set_ylabel("delay after the crash (s)")
    top = max(max(r["all_know_s_p99"], r["dead_s_p99"]) for r in rows)
    ax1.set_ylim(0, 1.45 * top)
    ax1.set_title(f"detection latency ({rows[0]['crashes']} crashes per loss rate)")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=7, ncol=3, loc="upper center")

    fine = [i / 1000.0 for i in range(1, 1 + int(1000 * max(r["loss"] for r in rows)))] or [0.001]
    per_hour = 3600.0 / params["probe_interval_s"]
    ax2.plot([100 * q for q in fine], [p_false_suspicion(q, params["indirect_checks"]) * per_hour for q in fine],
             color="tab:red", linestyle="--", label=f"model: 3600/T' x (1-(1-q)^2)(1-(1-q)^4)^{params['indirect_checks']}")
    seen = [(x, r) for x, r in zip(loss_pct, rows) if r["false_suspicions"] > 0]
    ax2.plot([x for x, _ in seen], [r["false_suspicions_per_node_hour"] for _, r in seen], marker="o",
             color="tab:red", linestyle="none", label="false suspicions (measured)")
    none = [(x, r) for x, r in zip(loss_pct, rows) if r["false_suspicions"] == 0]
    if none:
        ax2.plot([x for x, _ in none], [1.0 / r["node_hours"] for _, r in none], marker="v", color="tab:red",
                 markerfacecolor="none", linestyle="none", label="none seen: below 1 per total node-hours")
    # False deaths as events: a single member's declaration, or a burst.
    def events(r):
        return r["false_death_singles"] + r["false_death_bursts"]

    def model_events(r):
        return r["model_false_death_singles"] + r["model_false_death_bursts"]

    deaths = [(x, r) for x, r in zip(loss_pct, rows) if events(r) > 0]
    if deaths:
        ax2.plot([x for x, _ in deaths], [events(r) / r["node_hours"] for _, r in deaths], marker="s",
                 color="black", linestyle="none", label="false-death events (measured)")
    modelled = [(x, r) for x, r in zip(loss_pct, rows) if model_events(r) > 0]
    ax2.plot([x for x, _ in modelled], [model_events(r) / r["node_hours"] for _, r in modelled], color="black",
             linestyle=":", marker=".", label="false-death events: model (n-1) e^{-L(1-q)} per suspicion")
    ax2.set_yscale("log")
    ax2.set_xlabel("message loss (%)")
    ax2.set_ylabel("per node-hour")
    ax2.set_title(f"false suspicions ({rows[0]['node_hours']:.0f} node-hours per loss rate)")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{scenario_name}: SWIM under message loss, {params['nodes']} nodes, {seeds} seeds per loss rate")
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
