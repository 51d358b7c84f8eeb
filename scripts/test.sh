#!/usr/bin/env bash
# Every test on a fresh Debian machine: install what is missing, build with
# warnings as errors, run the whole ctest suite (unit, end-to-end and the
# distribution regression gate), then build and run it again under
# ThreadSanitizer, and again as a Debug build (asserts on) under Address and
# UndefinedBehavior sanitizers. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)

echo "== release build (warnings are errors)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DHCSIM_WERROR=ON -DHCSIM_BUILD_TESTS=ON > /dev/null
cmake --build build/release -j "$jobs"
ctest --test-dir build/release --output-on-failure -j "$jobs"

echo "== ThreadSanitizer build"
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHCSIM_TSAN=ON -DHCSIM_WERROR=ON \
  -DHCSIM_BUILD_TESTS=ON > /dev/null
cmake --build build/tsan -j "$jobs"
# TSan needs a fixed address-space layout on kernels with large mmap ASLR.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
setarch "$(uname -m)" -R ctest --test-dir build/tsan --output-on-failure -j "$jobs"

echo "== Debug build with AddressSanitizer and UBSan (asserts on)"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHCSIM_ASAN=ON -DHCSIM_WERROR=ON \
  -DHCSIM_BUILD_TESTS=ON > /dev/null
cmake --build build/asan -j "$jobs"
export ASAN_OPTIONS="detect_leaks=0 abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
ctest --test-dir build/asan --output-on-failure -j "$jobs"
