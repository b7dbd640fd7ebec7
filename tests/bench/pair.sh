#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Paired comparison of two meridiand servers on a busy machine: two builds, two settings, or
# a signed zone against the same zone unsigned. Server CPU per answer, in many short
# alternating rounds, as a median of per-pair ratios.
#
#   pair.sh [-r PAIRS] [-d SECONDS] [-w WARMUP_S] [-m "MIXES"] [-A SERVER] [-B SERVER]
#           [-o OUTDIR]
#
# Servers A (-A, default meridiand) and B (-B, default meridiand-b) run side by side for the
# whole time, one worker each, pinned to CPU $SERVER_CPU. Each is one of
#   meridiand            $MERIDIAND (its rrl setting $MERIDIAND_RRL; see bench-lib.sh)
#   meridiand-b          $MERIDIAND_B ($MERIDIAND_B_RRL): a second build or setting
#   meridiand-signed     meridiand's binary, its zones signed at load (`dnssec:` as dnssec.sh:
#                        ECDSAP256SHA256 CSK, NSEC3 without salt or extra iterations)
#   meridiand-b-signed   meridiand-b's binary, signed the same way
# serving bench.test (and, when a mix is geo, geo.test with the steered www.geo.test of
# geo.sh on its synthetic database, as dnssec.sh's capacity phase does). MIXES (-m, default
# "plain"), as in dnssec.sh:
#   plain   run.sh's 100,000-query bench.test mix, no EDNS
#   static  the same with DO=1 (blast -D)
#   nx      random non-existent names directly under bench.test, DO=1 (signed: SOA + 3 NSEC3
#           and their RRSIGs)
#   geo     www.geo.test A with a different ECS /24 per query, DO=1
# Both servers must pass run.sh's answer checks (and geo.sh's steered ones with geo); a signed
# one also must put NSEC3 records in a DO name error. Then WARMUP_S (2) s per server and mix,
# then PAIRS (20) pairs per mix of SECONDS (2) blast saturation runs from CPU $GEN_CPU: in
# each pair A then B, B then A in every other pair; the mixes take turns within a pair, so
# every mix sees the same stretch of the machine's drift. CPU is each server's run time in
# nanoseconds from /proc/PID/task/*/schedstat (user and system, every thread), not 10 ms
# ticks, so a 2 s round resolves well under 1%; pairs a few seconds apart see nearly the same
# load from whatever else shares the machine, which run.sh's longer rounds (minutes apart per
# server pair) do not. The share of system time (kernel: mostly the send) comes from the
# utime/stime ticks.
# Output: per pair and mix us/answer of A and B, B/A, the other load on the server's core
# (the larger of the two rounds'), response bytes and system share of each; per mix the
# median ratio with its quartiles and min-max, over all pairs and over the pairs with other
# load at most QUIET_PCT % (10), in OUTDIR/pairs.tsv and OUTDIR/summary.txt (and stdout).
# Examples:
#   # what rate limiting costs: the same binary with and without
#   MERIDIAND_B=build-bench/src/meridiand MERIDIAND_B_RRL='rrl: {log_only: true, rate: 16000}' \
#     flock /tmp/meridian-bench.lock tests/bench/pair.sh -r 20
#   # what signing costs DO=1 clients (issue 11's capacity target), three mixes
#   flock /tmp/meridian-bench.lock tests/bench/pair.sh -B meridiand-signed -m "nx static geo"
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"

PAIRS=20 SECS=2 WARMUP_S=2 OUTDIR="" QUIET_PCT=${QUIET_PCT:-10} MIXES=plain
SRV_A=meridiand SRV_B=meridiand-b
BLAST_SOCKETS=${BLAST_SOCKETS:-16} BLAST_WINDOW=${BLAST_WINDOW:-16}
FILLER=${FILLER:-20000} NQUERIES=${NQUERIES:-50000}
while getopts "r:d:w:m:A:B:o:h" opt; do
    case $opt in
    r) PAIRS=$OPTARG ;;
    d) SECS=$OPTARG ;;
    w) WARMUP_S=$OPTARG ;;
    m) MIXES=$OPTARG ;;
    A) SRV_A=$OPTARG ;;
    B) SRV_B=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done
[[ $PAIRS =~ ^[0-9]+$ && $SECS =~ ^[0-9]+$ && $WARMUP_S =~ ^[0-9]+$ ]] || die "numbers only"
((PAIRS >= 1 && PAIRS <= 200 && SECS >= 1 && SECS <= 30)) || die "pairs 1-200, seconds 1-30"
read -r -a MIX_LIST <<<"$MIXES"
((${#MIX_LIST[@]} >= 1)) || die "-m: at least one mix"
for m in "${MIX_LIST[@]}"; do
    [[ " plain static nx geo " == *" $m "* ]] || die "-m: plain static nx geo"
done
((PAIRS * SECS * 2 * ${#MIX_LIST[@]} <= 540)) ||
    die "at most 9 minutes of load (pairs x seconds x 2 x mixes)"
for s in "$SRV_A" "$SRV_B"; do
    [[ " meridiand meridiand-b meridiand-signed meridiand-b-signed " == *" $s "* ]] ||
        die "-A/-B: meridiand meridiand-b meridiand-signed meridiand-b-signed"
    [[ $s != meridiand-b* || -n ${MERIDIAND_B:-} ]] || die "$s needs MERIDIAND_B (a meridiand binary)"
done
[[ $SRV_A != "$SRV_B" ]] || die "-A and -B must differ"
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/pair-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
ensure_data queries bench
[[ " ${MIX_LIST[*]} " != *" nx "* || -s $BENCH_DATA/queries-nx.txt ]] ||
    "$BENCH_DIR/gen-queries.sh" nx >/dev/null
CHECKS=$BENCH_CHECKS
if [[ " ${MIX_LIST[*]} " == *" geo "* ]]; then
    # dnssec.sh's setup: both zones in every server, the steered name on the synthetic database.
    ensure_data geo
    geo_synth_data || die "cannot make the GeoIP database or the ECS load"
    GEO_QFILE=$BENCH_DATA/geo-queries.txt
    echo "www.geo.test A" >"$GEO_QFILE"
    WRITE_CONFIG=write_geo_config
    CHECKS+=$'\n'$GEO_SYNTH_CHECKS
fi
build_blast
trap stop_all EXIT

for s in "$SRV_A" "$SRV_B"; do
    # A signed server is ready once it serves the signed zone (the A RRset's RRSIG).
    WAIT_RRSIG=0
    [[ $s == *-signed ]] && WAIT_RRSIG=1
    start_server "$s" "$OUTDIR/$s" bench.test "$BENCH_DATA/bench.test.zone" host1000.bench.test \
        "$SERVER_CPU" || die "$s did not start"
    check_answers "$s" "$CHECKS" || die "$s failed the answer checks"
    if [[ $s == *-signed ]]; then
        out=$(dig +norec +dnssec +tries=1 +time=2 -p "$(port_of "$s")" @"$BENCH_ADDR" \
            nx12345678.bench.test A 2>/dev/null || true)
        [[ $out == *"status: NXDOMAIN"* && $out =~ [[:space:]]IN[[:space:]]+NSEC3[[:space:]] ]] ||
            die "$s: a DO name error has no NSEC3 records"
    fi
done
WAIT_RRSIG=0

# System-time clock ticks of NAME's processes (all threads), for the kernel's share.
sys_ticks() { # name
    local p sum=0 f a
    for p in $(server_pids "$1"); do
        f=$(cat /proc/"$p"/stat 2>/dev/null) || continue
        f=${f##*) } # fields after "(comm) "; stime is field 15
        read -r -a a <<<"$f"
        sum=$((sum + a[12]))
    done
    echo "$sum"
}

# blast's arguments for MIX.
mix_args() { # mix
    case $1 in
    plain) echo "-q $BENCH_DATA/queries.txt" ;;
    static) echo "-q $BENCH_DATA/queries.txt -D" ;;
    nx) echo "-q $BENCH_DATA/queries-nx.txt -D" ;;
    geo) echo "-q $GEO_QFILE -e $ECS.ecs -D" ;;
    esac
}

# One blast at saturation against NAME: "answered cpu_ns other_pct resp_bytes sys_pct",
# other_pct being what else ran on the server's core meanwhile (its busy time from /proc/stat
# minus the server's), sys_pct the server's system ticks as a share of its run time.
one() { # name mix seconds
    local ns0 ns b0 t0 s0 out args
    read -r -a args <<<"$(mix_args "$2")"
    ns0=$(sched_ns "$1") b0=$(busy_ticks "cpu$SERVER_CPU") t0=$(date +%s%N) s0=$(sys_ticks "$1")
    out=$(taskset -c "$GEN_CPU" timeout $(($3 + 15)) "$BLAST" -s "$BENCH_ADDR" -p "$(port_of "$1")" \
        "${args[@]}" -d "$3" -c "$BLAST_SOCKETS" -w "$BLAST_WINDOW") || true
    ns=$(($(sched_ns "$1") - ns0))
    echo "$(kv answered "$out") $ns $(awk -v b="$(($(busy_ticks "cpu$SERVER_CPU") - b0))" \
        -v hz="$CLK_TCK" -v ns="$ns" -v w="$(($(date +%s%N) - t0))" \
        -v st="$(($(sys_ticks "$1") - s0))" -v rb="$(kv avg_resp_bytes "$out")" \
        'BEGIN { o = 100 * (b / hz - ns / 1e9) / (w / 1e9)
                 printf "%.0f %.0f %.0f", (o < 0 ? 0 : o), rb, (ns > 0 ? 100 * st / hz / (ns / 1e9) : 0) }')"
}

note "warm-up ${WARMUP_S}s per server and mix; then $PAIRS pairs of ${SECS}s blasts per mix ($MIXES; A/B order alternating)"
if ((WARMUP_S > 0)); then
    for m in "${MIX_LIST[@]}"; do
        one "$SRV_A" "$m" "$WARMUP_S" >/dev/null
        one "$SRV_B" "$m" "$WARMUP_S" >/dev/null
    done
fi
TSV=$OUTDIR/pairs.tsv
printf 'pair\tmix\tA_answered\tA_us\tB_answered\tB_us\tB_over_A\tother_pct\tA_bytes\tB_bytes\tA_sys_pct\tB_sys_pct\n' >"$TSV"
for ((i = 1; i <= PAIRS; i++)); do
    for m in "${MIX_LIST[@]}"; do
        if ((i % 2)); then
            read -r an ans ao ab asy < <(one "$SRV_A" "$m" "$SECS")
            read -r bn bns bo bb bsy < <(one "$SRV_B" "$m" "$SECS")
        else
            read -r bn bns bo bb bsy < <(one "$SRV_B" "$m" "$SECS")
            read -r an ans ao ab asy < <(one "$SRV_A" "$m" "$SECS")
        fi
        ((${an:-0} > 0 && ${bn:-0} > 0)) || die "pair $i ($m): no answers (A ${an:-?}, B ${bn:-?})"
        awk -v OFS='\t' -v i="$i" -v m="$m" -v an="$an" -v ans="$ans" -v bn="$bn" -v bns="$bns" \
            -v o="$((ao > bo ? ao : bo))" -v ab="$ab" -v bb="$bb" -v asy="$asy" -v bsy="$bsy" 'BEGIN {
            a = ans / 1000 / an; b = bns / 1000 / bn
            printf "%d\t%s\t%d\t%.4f\t%d\t%.4f\t%.4f\t%d\t%d\t%d\t%d\t%d\n", i, m, an, a, bn, b, b / a, o,
                ab, bb, asy, bsy }' >>"$TSV"
        note "pair $i $m: $(tail -1 "$TSV" | cut -f3-)"
    done
done

# Median, quartiles and range of a column of TSV for MIX, over the pairs whose other load on
# the server's core (the larger of the two rounds') was at most MAX_OTHER % (default: all).
column_stats() { # mix column [max_other]
    tail -n +2 "$TSV" | awk -F'\t' -v x="$1" -v c="$2" -v m="${3:-100}" '$2 == x && $8 <= m {print $c}' |
        sort -g | awk '{v[NR] = $1} END {
        if (NR == 0) { printf "no pairs"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "median %.4f, quartiles %.4f-%.4f, min-max %.4f-%.4f (n=%d)",
        m, v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)], v[1], v[NR], NR }'
}
{
    echo "A: $SRV_A $(find_meridiand "$SRV_A")$(meridiand_rrl "$SRV_A")"
    echo "B: $SRV_B $(find_meridiand "$SRV_B")$(meridiand_rrl "$SRV_B")"
    for m in "${MIX_LIST[@]}"; do
        echo "mix $m ($(column_stats "$m" 9 | sed 's/^median \([0-9]*\).*/\1/') -> $(column_stats "$m" 10 |
            sed 's/^median \([0-9]*\).*/\1/') response bytes; system time $(column_stats "$m" 11 |
            sed 's/^median \([0-9]*\).*/\1/')% -> $(column_stats "$m" 12 | sed 's/^median \([0-9]*\).*/\1/')%):"
        echo "  A us/answer: $(column_stats "$m" 4)"
        echo "  B us/answer: $(column_stats "$m" 6)"
        echo "  B/A per pair: $(column_stats "$m" 7)"
        echo "  B/A per pair, other load on the server core <= ${QUIET_PCT}%: $(column_stats "$m" 7 "$QUIET_PCT")"
    done
} | tee "$OUTDIR/summary.txt"
