#!/usr/bin/env bash
# Every test on a fresh Debian machine: install what is missing, build with
# warnings as errors, run the whole ctest suite (unit, end-to-end and the
# distribution regression gate), then build and run it again under
# ThreadSanitizer, and again as a Debug build (asserts on) under Address and
# UndefinedBehavior sanitizers, then fuzz the binary codec for a minute.
# Exits non-zero on the first failure.
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

echo "== fuzz the binary codec (bounded)"
# libFuzzer with ASan+UBSan over the membership protocol's codec, starting
# from valid frames the corpus program writes; new finds accumulate in
# build/fuzz/corpus across runs. Any crash or broken round trip fails here
# (the reproducer is left in build/fuzz/crash-*).
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHCSIM_FUZZ=ON \
  -DHCSIM_WERROR=ON > /dev/null
cmake --build build/fuzz -j "$jobs" --target hcsim_codec_fuzz hcsim_codec_corpus
build/fuzz/tests/fuzz/hcsim_codec_corpus build/fuzz/seeds
mkdir -p build/fuzz/corpus
build/fuzz/tests/fuzz/hcsim_codec_fuzz -max_total_time=60 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=build/fuzz/ -print_final_stats=1 build/fuzz/corpus build/fuzz/seeds
