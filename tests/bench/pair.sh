#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Paired before/after of two meridiand builds or settings on a busy machine: server CPU per
# answer, in many short alternating rounds, as a median of per-pair ratios.
#
#   pair.sh [-r PAIRS] [-d SECONDS] [-w WARMUP_S] [-o OUTDIR]
#
# meridiand ($MERIDIAND, its rrl setting $MERIDIAND_RRL) and meridiand-b ($MERIDIAND_B,
# $MERIDIAND_B_RRL; see bench-lib.sh meridiand_rrl) run side by side for the whole time, one
# worker each, pinned to CPU $SERVER_CPU, serving bench.test. Then PAIRS (20) pairs of
# SECONDS (2) blast saturation runs from CPU $GEN_CPU, A then B, B then A in every other pair.
# CPU is each server's run time in nanoseconds from /proc/PID/task/*/schedstat (user and
# system, every thread), not 10 ms ticks, so a 2 s round resolves well under 1%; pairs a few
# seconds apart see nearly the same load from whatever else shares the machine, which
# run.sh's longer rounds (minutes apart per server pair) do not.
# Output: per pair us/answer of A and B, B/A and the other load on the server's core (the
# larger of the two rounds'); the median ratio with its quartiles and min-max, over all pairs
# and over the pairs with other load at most QUIET_PCT % (10), in OUTDIR/pairs.tsv and on
# stdout.
# Example (what rate limiting costs, the same binary with and without):
#   MERIDIAND_B=build-bench/src/meridiand MERIDIAND_B_RRL='rrl: {log_only: true, rate: 16000}' \
#     flock /tmp/meridian-bench.lock tests/bench/pair.sh -r 20
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"

PAIRS=20 SECS=2 WARMUP_S=2 OUTDIR="" QUIET_PCT=${QUIET_PCT:-10}
BLAST_SOCKETS=${BLAST_SOCKETS:-16} BLAST_WINDOW=${BLAST_WINDOW:-16}
while getopts "r:d:w:o:h" opt; do
    case $opt in
    r) PAIRS=$OPTARG ;;
    d) SECS=$OPTARG ;;
    w) WARMUP_S=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done
[[ $PAIRS =~ ^[0-9]+$ && $SECS =~ ^[0-9]+$ && $WARMUP_S =~ ^[0-9]+$ ]] || die "numbers only"
((PAIRS >= 1 && PAIRS <= 200 && SECS >= 1 && SECS <= 30)) || die "pairs 1-200, seconds 1-30"
((PAIRS * SECS * 2 <= 540)) || die "at most 9 minutes of load (pairs x seconds x 2)"
[[ -n ${MERIDIAND_B:-} ]] || die "MERIDIAND_B: the second build (may be the same binary)"
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/pair-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
ensure_data queries bench
build_blast
trap stop_all EXIT

for s in meridiand meridiand-b; do
    start_server "$s" "$OUTDIR/$s" bench.test "$BENCH_DATA/bench.test.zone" bench.test \
        "$SERVER_CPU" || die "$s did not start"
    check_answers "$s" || die "$s failed the answer checks"
done

# Run time (ns) of every thread of NAME's processes.
run_ns() { # name
    local p sum=0 t a
    for p in $(server_pids "$1"); do
        for t in /proc/"$p"/task/*/schedstat; do
            read -r a _ <"$t" 2>/dev/null || continue
            sum=$((sum + a))
        done
    done
    echo "$sum"
}

# One blast at saturation against NAME: "answered cpu_ns other_pct", other_pct being what
# else ran on the server's core meanwhile (its busy time from /proc/stat minus the server's).
one() { # name seconds
    local ns0 ns b0 t0 out
    ns0=$(run_ns "$1") b0=$(busy_ticks "cpu$SERVER_CPU") t0=$(date +%s%N)
    out=$(taskset -c "$GEN_CPU" timeout $(($2 + 15)) "$BLAST" -s "$BENCH_ADDR" -p "$(port_of "$1")" \
        -q "$BENCH_DATA/queries.txt" -d "$2" -c "$BLAST_SOCKETS" -w "$BLAST_WINDOW") || true
    ns=$(($(run_ns "$1") - ns0))
    echo "$(kv answered "$out") $ns $(awk -v b="$(($(busy_ticks "cpu$SERVER_CPU") - b0))" \
        -v hz="$CLK_TCK" -v ns="$ns" -v w="$(($(date +%s%N) - t0))" \
        'BEGIN { o = 100 * (b / hz - ns / 1e9) / (w / 1e9); printf "%.0f", o < 0 ? 0 : o }')"
}

note "warm-up ${WARMUP_S}s each; then $PAIRS pairs of ${SECS}s blasts (A/B order alternating)"
if ((WARMUP_S > 0)); then
    one meridiand "$WARMUP_S" >/dev/null
    one meridiand-b "$WARMUP_S" >/dev/null
fi
TSV=$OUTDIR/pairs.tsv
printf 'pair\tA_answered\tA_us\tB_answered\tB_us\tB_over_A\tother_pct\n' >"$TSV"
for ((i = 1; i <= PAIRS; i++)); do
    if ((i % 2)); then
        read -r an ans ao < <(one meridiand "$SECS")
        read -r bn bns bo < <(one meridiand-b "$SECS")
    else
        read -r bn bns bo < <(one meridiand-b "$SECS")
        read -r an ans ao < <(one meridiand "$SECS")
    fi
    ((${an:-0} > 0 && ${bn:-0} > 0)) || die "pair $i: no answers (A ${an:-?}, B ${bn:-?})"
    awk -v OFS='\t' -v i="$i" -v an="$an" -v ans="$ans" -v bn="$bn" -v bns="$bns" \
        -v o="$((ao > bo ? ao : bo))" 'BEGIN {
        a = ans / 1000 / an; b = bns / 1000 / bn
        printf "%d\t%d\t%.4f\t%d\t%.4f\t%.4f\t%d\n", i, an, a, bn, b, b / a, o }' >>"$TSV"
    note "pair $i: $(tail -1 "$TSV")"
done

# Median, quartiles and range of a column of TSV, over the pairs whose other load on the
# server's core (the larger of the two rounds') was at most MAX_OTHER % (default: all).
column_stats() { # column [max_other]
    tail -n +2 "$TSV" | awk -F'\t' -v c="$1" -v m="${2:-100}" '$7 <= m {print $c}' | sort -g |
        awk '{v[NR] = $1} END {
        if (NR == 0) { printf "no pairs"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "median %.4f, quartiles %.4f-%.4f, min-max %.4f-%.4f (n=%d)",
        m, v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)], v[1], v[NR], NR }' 
}
{
    echo "A: meridiand $(find_meridiand meridiand)$(meridiand_rrl meridiand)"
    echo "B: meridiand-b $(find_meridiand meridiand-b)$(meridiand_rrl meridiand-b)"
    echo "A us/answer: $(column_stats 3)"
    echo "B us/answer: $(column_stats 5)"
    echo "B/A per pair: $(column_stats 6)"
    echo "B/A per pair, other load on the server core <= ${QUIET_PCT}%: $(column_stats 6 "$QUIET_PCT")"
} | tee "$OUTDIR/summary.txt"
