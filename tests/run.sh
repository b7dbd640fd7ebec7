#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs build and test dependencies, then builds and runs every test: unit and e2e tests
# twice, in a normal (Release, hardened) build and an ASan+UBSan build; the BGP lab tests
# (network namespaces, real BIRD), the AF_XDP test (namespaces, veth) and the fresh-root
# test (mmdebstrap, the Debian package) in the normal build; and a bounded libFuzzer run of
# each fuzz target (clang). This is exactly what CI runs (.ci/run).
#   FUZZ_SECONDS          seconds per fuzz target (default 30)
#   MERIDIAN_ALLOW_SKIPS  1: a skipped test (exit 77: a missing tool, privilege or data file)
#                         is reported but does not fail the run. Ignored when CI=true: CI
#                         provides everything, so there every test run here is required.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh --test

jobs=$(nproc)
skipped=()
# ctest_run BUILD-DIR CTEST-ARGS...: ctest, then the tests it skipped, by name with their
# reason (tests/ctest_skipped.py reads ctest's JUnit report). ctest's exit status.
ctest_run() {
    local dir=$1 junit line rc=0
    shift
    junit="$PWD/$dir/ctest-junit.xml"
    rm -f "$junit"
    ctest --test-dir "$dir" --output-junit "$junit" "$@" || rc=$?
    while IFS= read -r line; do
        echo "SKIPPED in $dir: $line"
        skipped+=("$dir: $line")
    done < <(python3 tests/ctest_skipped.py "$junit" || echo "(no ctest report: $junit)")
    return "$rc"
}
run_suite() { # build-dir build-type [extra cmake args]
    local dir=$1 type=$2
    shift 2
    echo "=== $dir ($type) ==="
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DMERIDIAN_TESTS=ON "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
}

run_suite build Release
ctest_run build -L 'unit|e2e' --output-on-failure -j"$jobs"
# BGP lab tests: real BIRD and the real programs in network namespaces (needs root; they
# say SKIP without it). One at a time: they time failovers.
ctest_run build -L bgp --output-on-failure
# AF_XDP: meridiand's answers through XDP against its socket answers over a veth pair between
# namespaces (needs root; SKIP without it). On its own: it attaches XDP programs.
ctest_run build -L xdp --output-on-failure
# A fresh minimal Debian 12 root: the README's run command and the Debian package (needs root
# and the Debian mirror; SKIP without root or mmdebstrap).
ctest_run build -L fresh --output-on-failure

run_suite build-asan Asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest_run build-asan -L 'unit|e2e' --output-on-failure -j"$jobs"

echo "=== build-fuzz (clang, libFuzzer) ==="
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMERIDIAN_FUZZ=ON \
    -DMERIDIAN_FUZZ_SECONDS="${FUZZ_SECONDS:-30}" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz
ctest_run build-fuzz -L fuzz --output-on-failure

if [ ${#skipped[@]} -gt 0 ]; then
    echo "=== ${#skipped[@]} test(s) skipped ==="
    printf '  %s\n' "${skipped[@]}"
    if [ "${CI:-}" = true ] || [ "${MERIDIAN_ALLOW_SKIPS:-0}" != 1 ]; then
        echo "FAIL: skipped tests did not run; install what they name" \
            "(MERIDIAN_ALLOW_SKIPS=1 accepts skips, outside CI only)"
        exit 1
    fi
fi
echo "=== every test ran and passed ==="
