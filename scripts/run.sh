#!/usr/bin/env bash
# The main job on a fresh Debian machine: install what is missing, build
# hcsim (Release), and run it. The main job is the rebalance5 scenario
# (reports in results/rebalance5/); extra arguments replace it, e.g.
#   scripts/run.sh run scenarios/crash.yaml
#   scripts/run.sh dist --nodes 3 --keys 1000 --add 1
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DHCSIM_BUILD_TESTS=OFF > /dev/null
cmake --build build/release --target hcsim
if [ $# -eq 0 ]; then
  set -- run scenarios/rebalance5.yaml
fi
exec build/release/hcsim "$@"
