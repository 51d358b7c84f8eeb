#!/usr/bin/env bash
# The main job on a fresh Debian machine: install what is missing, build
# hcsim (Release), and run it. Until the simulator lands the main job is the
# seed's distribution report; extra arguments replace it, e.g.
#   scripts/run.sh dist --nodes 3 --keys 1000 --add 1
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DHCSIM_BUILD_TESTS=OFF > /dev/null
cmake --build build/release --target hcsim
if [ $# -eq 0 ]; then
  set -- dist --nodes 5 --vnodes 256 --keys 10000
fi
exec build/release/hcsim "$@"
