"""Shared by the plot scripts that drive `hcsim run`: running it with
overrides, reading its CSV reports, and reading a scenario file's sections
without a YAML library."""

import csv
import os
import shlex
import subprocess


class RunError(Exception):
    """A failed hcsim run (raised in a worker thread, reported once by main)."""


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_metrics(path):
    """summary.csv or speed.csv as {metric: value string}."""
    return {r["metric"]: r["value"] for r in read_csv(path)}


def run_hcsim(hcsim, scenario, out, sets, timeout_s, expect_files=("summary.csv",), what=""):
    """Runs `hcsim run SCENARIO --quiet --out OUT --set expect=[] --set ...`
    and checks that it wrote `expect_files`; RunError (with the exact
    command) otherwise."""
    cmd = [hcsim, "run", scenario, "--quiet", "--out", out, "--set", "expect=[]"]
    for s in sets:
        cmd += ["--set", s]
    where = f" {what}" if what else ""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except OSError as e:
        raise RunError(f"cannot run {hcsim}: {e}")
    except subprocess.TimeoutExpired:
        raise RunError(f"timed out after {timeout_s} s: {shlex.join(cmd)}")
    if proc.returncode != 0:
        raise RunError(f"hcsim failed{where} (exit {proc.returncode}): {shlex.join(cmd)}\n{proc.stderr.strip()}")
    for name in expect_files:
        if not os.path.isfile(os.path.join(out, name)):
            raise RunError(f"hcsim wrote no {name}{where} (is it a scenario with a membership: section?): "
                           f"{shlex.join(cmd)}")
    return out


def read_sections(path):
    """The top-level sections of a scenario file as hcsim writes and ships
    them (block style, two-space indents; no YAML library needed): a
    section's `key: value` lines become a dict of raw strings, its `- item`
    lines a list of raw strings, and `key: value` at the top a string."""
    sections, current = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line[0].isspace():
                key, _, value = line.partition(":")
                value = value.strip()
                current = key.strip() if not value else None
                sections[key.strip()] = value if value else None
                continue
            if current is None:
                continue
            item = line.strip()
            if item.startswith("- "):
                if sections[current] is None:
                    sections[current] = []
                if isinstance(sections[current], list):
                    sections[current].append(item[2:].strip())
            elif line.startswith("  ") and not line.startswith("   "):
                key, _, value = item.partition(":")
                if sections[current] is None:
                    sections[current] = {}
                if isinstance(sections[current], dict):
                    sections[current][key.strip()] = value.strip().strip('"')
    return sections
