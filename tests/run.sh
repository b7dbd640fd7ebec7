#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs build and test dependencies, then builds and runs every test: unit and e2e tests
# twice, in a normal (Release, hardened) build and an ASan+UBSan build; the BGP lab tests
# (network namespaces, real BIRD) in the normal build; and a bounded libFuzzer run of each
# fuzz target (clang). This is exactly what CI runs (.ci/run).
#   FUZZ_SECONDS   seconds per fuzz target (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh --test

jobs=$(nproc)
run_suite() { # build-dir build-type [extra cmake args]
    local dir=$1 type=$2
    shift 2
    echo "=== $dir ($type) ==="
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DMERIDIAN_TESTS=ON "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
}

run_suite build Release
ctest --test-dir build -L 'unit|e2e' --output-on-failure -j"$jobs"
# BGP lab tests: real BIRD and the real programs in network namespaces (needs root; they
# say SKIP without it). One at a time: they time failovers.
ctest --test-dir build -L bgp --output-on-failure

run_suite build-asan Asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L 'unit|e2e' --output-on-failure -j"$jobs"

echo "=== build-fuzz (clang, libFuzzer) ==="
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMERIDIAN_FUZZ=ON \
    -DMERIDIAN_FUZZ_SECONDS="${FUZZ_SECONDS:-30}" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz
ctest --test-dir build-fuzz -L fuzz --output-on-failure
