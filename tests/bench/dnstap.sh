#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cost of the dnstap query log (server.dnstap, sample 1: every query logged): the same
# meridiand binary twice, `meridiand` without the log and `meridiand-b` with it, each pinned
# to SERVER_CPU (its fstrm I/O thread too), blasted in turn from GEN_CPU with the static mix
# (bench.test) and the steered name (www.geo.test by ECS, synthetic GeoIP database: the
# decision text goes into every response record), interleaved rounds, order reversed every
# other round. Reports answered qps and server CPU per query, medians, and the ratio with
# the log on / off; and the log's own counters (logged, dropped, lost) from `status`, since
# records dropped under overload would flatter the ratio.
#
# Where the log goes: DNSTAP_OUT=file (default) writes to /dev/null through fstrm's file
# path (the whole cost of packing, queueing and writev, no disk); DNSTAP_OUT=socket runs
# fstrm_capture -w /dev/null on GEN_CPU beside the load generator (a real reader).
#
# Usage: tests/bench/dnstap.sh [-r ROUNDS] [-d SECONDS] [-w WARMUP_S] [-o OUTDIR]
# Environment: PORT_BASE (5630), SERVER_CPU (1), GEN_CPU (0), BLAST_SOCKETS/BLAST_WINDOW
# (16/16), BENCH_OUT (/tmp/meridian-bench), MERIDIAND, DNSTAP_OUT (file|socket), FILLER
# (20000), NQUERIES (50000).
set -euo pipefail

PORT_BASE=${PORT_BASE:-5630}
# shellcheck source=tests/bench/bench-lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bench-lib.sh"

ROUNDS=3 BLAST_S=5 WARMUP_S=2 OUTDIR=""
BLAST_SOCKETS=${BLAST_SOCKETS:-16} BLAST_WINDOW=${BLAST_WINDOW:-16}
FILLER=${FILLER:-20000} NQUERIES=${NQUERIES:-50000} DNSTAP_OUT=${DNSTAP_OUT:-file}
while getopts "r:d:w:o:" opt; do
    case $opt in
    r) ROUNDS=$OPTARG ;;
    d) BLAST_S=$OPTARG ;;
    w) WARMUP_S=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) die "usage: $0 [-r ROUNDS] [-d SECONDS] [-w WARMUP_S] [-o OUTDIR]" ;;
    esac
done
[[ $DNSTAP_OUT == file || $DNSTAP_OUT == socket ]] || die "DNSTAP_OUT: file or socket"
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/dnstap-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
TSV=$OUTDIR/results.tsv
: >"$TSV"
NOTES=()
# Both servers are the same build: the only difference is the config.
MERIDIAND_B=$(find_meridiand meridiand)
export MERIDIAND_B
CAPTURE_PID=""

cleanup() {
    stop_all
    [[ -n $CAPTURE_PID ]] && kill "$CAPTURE_PID" 2>/dev/null && wait "$CAPTURE_PID" 2>/dev/null
    return 0
}
trap cleanup EXIT

# geo.sh's config (geo.test with the steered www, bench.test), plus for meridiand-b the log
# and a control socket to read its counters.
write_dnstap_config() { # name wd port origin zonefile
    write_geo_config "$@"
    [[ $1 == meridiand-b ]] || return 0
    local target="file: /dev/null"
    [[ $DNSTAP_OUT == socket ]] && target="socket: \"$2/tap.sock\""
    sed -i "s|log_level: warning|log_level: warning, control_socket: \"$2/ctl.sock\", dnstap: { $target }|" \
        "$2/meridian.yaml"
    grep -q "dnstap:" "$2/meridian.yaml" || die "could not add dnstap to $2/meridian.yaml"
}

run_one() { # server mix round seconds record(0/1)
    local s=$1 mix=$2 out args
    if [[ $mix == steered ]]; then
        args=(-q "$GEO_QFILE" -e "$ECS.ecs")
    else
        args=(-q "$BENCH_DATA/queries.txt")
    fi
    blast_measure "$s" "$4" "${args[@]}"
    out=$BLAST_OUT
    (($5)) || return 0
    [[ -n $out ]] || {
        NOTES+=("round $3: blast against $s ($mix) failed")
        return 0
    }
    echo "round=$3 server=$s mix=$mix $out" >>"$OUTDIR/blast.log"
    awk -v OFS='\t' -v r="$3" -v s="$s" -v mix="$mix" -v d="$(kv duration_s "$out")" \
        -v ans="$(kv answered "$out")" -v lost="$(kv lost "$out")" -v t="$T_TICKS" \
        -v hz="$CLK_TCK" -v w="$T_WALL" -v sbusy="$T_SBUSY" '
        BEGIN { cpu = t / hz
          print r, s, mix, ans / d, (ans > 0 ? cpu * 1e6 / ans : 0), lost,
            100 * (sbusy / hz - cpu) / w }' >>"$TSV"
}

# Data: the static mix and the synthetic GeoIP database with its ECS load (as geo.sh).
build_blast
ensure_data bench queries geo
geo_synth_data || die "cannot make the synthetic GeoIP data"
GEO_QFILE=$BENCH_DATA/geo-queries.txt
[[ -s $GEO_QFILE ]] || for ((i = 0; i < 1000; i++)); do echo "www.geo.test A"; done >"$GEO_QFILE"

BIN=$(find_meridiand meridiand)
note "meridiand: $BIN (both servers); dnstap to $DNSTAP_OUT; output in $OUTDIR"
WRITE_CONFIG=write_dnstap_config
for s in meridiand meridiand-b; do
    mkdir -p "$OUTDIR/$s"
    if [[ $s == meridiand-b && $DNSTAP_OUT == socket ]]; then
        setsid taskset -c "$GEN_CPU" timeout -s TERM "$SERVER_MAX_LIFE" fstrm_capture \
            -t protobuf:dnstap.Dnstap -u "$OUTDIR/$s/tap.sock" -w /dev/null \
            >"$OUTDIR/capture.log" 2>&1 </dev/null &
        CAPTURE_PID=$!
        for _ in $(seq 1 100); do [[ -S $OUTDIR/$s/tap.sock ]] && break; sleep 0.05; done
    fi
    start_server "$s" "$OUTDIR/$s" geo.test "" www.geo.test "$SERVER_CPU" ||
        die "$s did not start (see $OUTDIR/$s/server.log)"
done
# Same answers with the log on and off.
for s in meridiand meridiand-b; do
    check_answers "$s" || die "$s: wrong static answers"
    check_answers "$s" "$GEO_SYNTH_CHECKS" || die "$s: wrong steered answers"
done
CTL=$(dirname "$BIN")/meridianctl
log_counters() { "$CTL" -s "$OUTDIR/meridiand-b/ctl.sock" status 2>&1 | grep '^dnstap' || true; }
note "log before the load: $(log_counters | head -2 | tr '\n' ' ')"

run_items "$TSV" "$OUTDIR" '{printf "%.0f qps, %.2f us/q", $4, $5}' \
    meridiand:static meridiand-b:static meridiand:steered meridiand-b:steered

STATUS=$(log_counters)
stop_all

echo
echo "dnstap cost: $ROUNDS rounds x ${BLAST_S}s, $(nproc) CPUs, server on CPU $SERVER_CPU, load on CPU $GEN_CPU, log to $DNSTAP_OUT"
printf "%-8s %-12s %12s %12s %12s %10s\n" mix server "qps median" "min" "max" "us/q med"
for mix in static steered; do
    for s in meridiand meridiand-b; do
        q=$(awk -F'\t' -v s="$s" -v m="$mix" '$2 == s && $3 == m {print $4}' "$TSV" | stats_line)
        c=$(awk -F'\t' -v s="$s" -v m="$mix" '$2 == s && $3 == m {print $5}' "$TSV" | stats_line)
        read -r qm qmin qmax <<<"$q"
        read -r cm _ _ <<<"$c"
        printf "%-8s %-12s %12.0f %12.0f %12.0f %10.2f\n" "$mix" "$s$([[ $s == meridiand-b ]] && echo ' (on)')" \
            "$qm" "$qmin" "$qmax" "$cm"
        eval "Q_${mix}_${s//-/_}=$qm C_${mix}_${s//-/_}=$cm"
    done
    awk -v on="$(eval echo "\$Q_${mix}_meridiand_b")" -v off="$(eval echo "\$Q_${mix}_meridiand")" \
        -v con="$(eval echo "\$C_${mix}_meridiand_b")" -v coff="$(eval echo "\$C_${mix}_meridiand")" -v m="$mix" \
        'BEGIN { printf "%-8s on/off: capacity %.2fx, CPU per query %.2fx\n", m, on / off, con / coff }'
done
echo "log counters at the end (meridiand-b): "
echo "$STATUS" | sed 's/^/  /'
for n in "${NOTES[@]}"; do echo "note: $n"; done
echo "raw: $TSV"
