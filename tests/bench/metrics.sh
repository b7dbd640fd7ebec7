#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cost of counting (issue 14): capacity of meridiand with its counters and the HTTP
# listener on (this build, server.http_listen set, /metrics scraped every second during
# the load) against a build without them (MERIDIAND_B, e.g. the commit before the stats
# module, run as server meridiand-b), interleaved rounds with the order reversed every
# other round, on two mixes: the static bench.test mix and the steered www.geo.test (ECS
# per query, synthetic GeoIP database: what geo.sh uses). Reported per mix: answered qps
# and server CPU us per answer for each, and the median of the per-round ratios
# (meridiand / meridiand-b; qps >= 0.98 is the target).
#
#   MERIDIAND_B=/path/to/before/meridiand tests/bench/metrics.sh [-r ROUNDS] [-d SECONDS]
#                                                                [-w WARMUP] [-o OUTDIR]
#
# Not part of ctest. Loopback only; servers pinned to CPU $SERVER_CPU, blast on $GEN_CPU;
# every process started here is stopped by pid (bench-lib.sh). Env: MERIDIAND (default
# build-bench/src/meridiand), MERIDIAND_B (required), PORT_BASE (5490: meridiand +0,
# meridiand-b +4, HTTP +10), BENCH_OUT (/tmp/meridian-bench).
set -euo pipefail
PORT_BASE=${PORT_BASE:-5490}
. "$(dirname "$0")/bench-lib.sh"

ROUNDS=5 BLAST_S=6 WARMUP_S=2 OUTDIR=""
while getopts "r:d:w:o:h" opt; do
    case $opt in
    r) ROUNDS=$OPTARG ;;
    d) BLAST_S=$OPTARG ;;
    w) WARMUP_S=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done
[[ -n ${MERIDIAND_B:-} ]] || die "MERIDIAND_B must name the meridiand to compare with"
HTTP_PORT=$((PORT_BASE + 10))
FILLER=20000 NQUERIES=50000
BLAST_SOCKETS=${BLAST_SOCKETS:-16} BLAST_WINDOW=${BLAST_WINDOW:-16}
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/metrics-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
TSV=$OUTDIR/results.tsv
: >"$TSV"
ensure_data bench geo queries
build_blast
geo_synth_data || die "cannot make the synthetic GeoIP data"
GEO_QFILE=$BENCH_DATA/geo-queries.txt
[[ -s $GEO_QFILE ]] || echo "www.geo.test A" >"$GEO_QFILE"
SERVER_MAX_LIFE=$((ROUNDS * 4 * (BLAST_S + 10) + WARMUP_S * 8 + 600))

# geo.sh's config, plus the HTTP listener for this build only.
write_metrics_config() { # name wd port origin zonefile
    write_geo_config "$@"
    if [[ $1 == meridiand ]]; then
        sed -i "s|^server: { |server: { http_listen: \"$BENCH_ADDR:$HTTP_PORT\", |" "$2/meridian.yaml"
    fi
}

SCRAPER=""
stop_scraper() {
    [[ -n $SCRAPER ]] && kill "$SCRAPER" 2>/dev/null && wait "$SCRAPER" 2>/dev/null
    SCRAPER=""
}
cleanup() {
    stop_scraper || true
    stop_all
}
trap cleanup EXIT

run_one() { # server mix round seconds record(0/1)
    local s=$1 mix=$2 args
    if [[ $mix == steered ]]; then
        args=(-q "$GEO_QFILE" -e "$ECS.ecs")
    else
        args=(-q "$BENCH_DATA/queries.txt")
    fi
    if [[ $s == meridiand ]]; then
        # A scraper far busier than Prometheus' 15 s: one GET a second, bounded by the run.
        (for _ in $(seq 1 $(($4 + 2))); do
            curl -s -o /dev/null --max-time 2 "http://$BENCH_ADDR:$HTTP_PORT/metrics" || true
            sleep 1
        done) &
        SCRAPER=$!
    fi
    blast_measure "$s" "$4" "${args[@]}"
    stop_scraper || true
    (($5)) || return 0
    [[ -n $BLAST_OUT ]] || die "blast against $s ($mix) failed"
    echo "round=$3 server=$s mix=$mix $BLAST_OUT" >>"$OUTDIR/blast.log"
    awk -v OFS='\t' -v r="$3" -v s="$s" -v mix="$mix" -v d="$(kv duration_s "$BLAST_OUT")" \
        -v ans="$(kv answered "$BLAST_OUT")" -v t="$T_TICKS" -v hz="$CLK_TCK" \
        'BEGIN { print r, s, mix, ans / d, (ans > 0 ? t / hz * 1e6 / ans : 0) }' >>"$TSV"
}

WRITE_CONFIG=write_metrics_config
for s in meridiand meridiand-b; do
    start_server "$s" "$OUTDIR/$s" geo.test "$BENCH_DATA/geo.test.zone" www.geo.test "$SERVER_CPU" ||
        die "$s did not start"
done
curl -sf "http://$BENCH_ADDR:$HTTP_PORT/metrics" >/dev/null || die "meridiand's /metrics does not answer"
run_items "$TSV" "$OUTDIR" '{printf "%.0f qps, %.3f us/answer", $4, $5}' \
    meridiand:static meridiand-b:static meridiand:steered meridiand-b:steered
curl -s "http://$BENCH_ADDR:$HTTP_PORT/metrics" >"$OUTDIR/metrics.txt"

echo "| mix | meridiand qps (median) | meridiand-b qps | qps ratio median (min-max) | CPU us/answer ratio median |"
echo "|---|---|---|---|---|"
for mix in static steered; do
    a=$(awk -F'\t' -v m=$mix '$2 == "meridiand" && $3 == m {print $4}' "$TSV" | stats_line)
    b=$(awk -F'\t' -v m=$mix '$2 == "meridiand-b" && $3 == m {print $4}' "$TSV" | stats_line)
    q=$(awk -F'\t' -v m=$mix '$3 == m {v[$1, $2] = $4} END {for (k in v) {split(k, p, SUBSEP);
        if (p[2] == "meridiand" && v[p[1], "meridiand-b"] > 0) print v[k] / v[p[1], "meridiand-b"]}}' "$TSV" | stats_line)
    c=$(awk -F'\t' -v m=$mix '$3 == m {v[$1, $2] = $5} END {for (k in v) {split(k, p, SUBSEP);
        if (p[2] == "meridiand" && v[p[1], "meridiand-b"] > 0) print v[k] / v[p[1], "meridiand-b"]}}' "$TSV" | stats_line)
    read -r qm qlo qhi <<<"$q"
    printf "| %s | %.0f | %.0f | %.3f (%.3f-%.3f) | %.3f |\n" "$mix" "${a%% *}" "${b%% *}" \
        "$qm" "$qlo" "$qhi" "${c%% *}"
done
echo "raw: $TSV; meridiand's last scrape: $OUTDIR/metrics.txt"
