#!/usr/bin/env bash
# Installs, from Debian's package archive, whatever hcsim needs to build and test
# that is not already on this machine. Safe to run again: it installs nothing
# when everything is present. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  cmake g++ ninja-build pkg-config git
  libcli11-dev libfmt-dev libeigen3-dev libbenchmark-dev libgtest-dev
  libxxhash-dev libfccp-dev libyaml-cpp-dev libabsl-dev
  python3-matplotlib
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
