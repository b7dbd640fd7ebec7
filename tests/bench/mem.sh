#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Zone load time and memory per record: each server alone, first with tiny.test (a handful
# of records: the server's fixed overhead), then with big.test (1,000,000 records).
#
#   mem.sh [-r REPS] [-s SETTLE_S] [-o OUTDIR] [SERVER...]   (default: all four, 2 reps)
#   mem.sh -R mem.tsv                                         re-print an earlier table
#
# ready ms: from process start until the last name of the zone answers NOERROR with an
#           answer (polled every 20 ms with dig), so a half-loaded zone does not count.
# memory:   read SETTLE_S s (default 2) after ready, summed over all the server's processes:
#           PSS from /proc/PID/smaps_rollup (shared pages split fairly: NSD forks children
#           that share the zone copy-on-write), RSS likewise (double-counts NSD), peak =
#           largest VmHWM of one process.
# bytes/record = (PSS with big.test - PSS with tiny.test) / (records difference).
# One worker per server (as in run.sh), not pinned (set MEM_PIN=CPU to pin).
# Output: Markdown table on stdout and OUTDIR/mem.md; raw data in OUTDIR/mem.tsv.
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"

mem_report() { # mem.tsv
    local tsv=$1 ref=${REF:-} reps big_n tiny_n
    reps=$(awk -F'\t' 'NR > 1 && $1 > m {m = $1} END {print m + 0}' "$tsv")
    big_n=$(awk -F'\t' '$3 == "big" {print $4; exit}' "$tsv")
    tiny_n=$(awk -F'\t' '$3 == "tiny" {print $4; exit}' "$tsv")
    if [[ -z $ref ]]; then
        ref=gdnsd
        awk -F'\t' '$2 == "meridiand" && $3 == "big" {f = 1} END {exit !f}' "$tsv" && ref=meridiand
    fi
    echo "### Memory and load time: ${big_n:-?}-record zone (big.test) vs ${tiny_n:-?}-record zone (tiny.test)"
    echo
    echo "One worker per server, $reps repetitions (median, min-max). Memory read after the zone's" \
        "last name answered (+settle time); PSS/RSS summed over the server's processes."
    echo
    awk -F'\t' -v ref="$ref" '
    function sortv(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function st(srv, zone, c, what,   n, i, a) { n = 0
        for (i = 1; i <= nr; i++) if (S[i] == srv && Z[i] == zone) a[++n] = V[i, c] + 0
        if (n == 0) return ""
        sortv(a, n)
        if (what == "min") return a[1]
        if (what == "max") return a[n]
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function bpr(srv,   d) { if (st(srv, "big", "pss_kb") == "" || st(srv, "tiny", "pss_kb") == "") return ""
        d = st(srv, "big", "records") - st(srv, "tiny", "records")
        return (st(srv, "big", "pss_kb") - st(srv, "tiny", "pss_kb")) * 1024 / d }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { nr++; S[nr] = $col["server"]; Z[nr] = $col["zone"]; for (k in col) V[nr, k] = $col[k]
      if (!(S[nr] in seen)) { seen[S[nr]] = 1; order[++ns] = S[nr] } }
    END {
      printf "| server | tiny zone: ready ms | tiny zone: PSS MiB | 1M zone: ready ms, median (min-max) | 1M zone: PSS MiB | 1M zone: RSS MiB | 1M zone: peak MiB | PSS bytes per record | per record vs %s |\n", ref
      printf "|---|---|---|---|---|---|---|---|---|\n"
      r = bpr(ref)
      for (k = 1; k <= ns; k++) { s = order[k]; b = bpr(s)
        if (st(s, "big", "ready_ms") == "") { printf "| %s | %.0f | %.1f | failed | | | | | |\n", s,
            st(s, "tiny", "ready_ms"), st(s, "tiny", "pss_kb") / 1024; continue }
        printf "| %s | %.0f | %.1f | %.0f (%.0f-%.0f) | %.1f | %.1f | %.1f | %s | %s |\n", s,
          st(s, "tiny", "ready_ms"), st(s, "tiny", "pss_kb") / 1024,
          st(s, "big", "ready_ms"), st(s, "big", "ready_ms", "min"), st(s, "big", "ready_ms", "max"),
          st(s, "big", "pss_kb") / 1024, st(s, "big", "rss_kb") / 1024, st(s, "big", "peak_kb") / 1024,
          (b == "" ? "-" : sprintf("%.0f", b)), (b == "" || r == "" || r == 0 ? "-" : sprintf("%.2f", b / r)) }
    }' "$tsv"
}

REPS=2 SETTLE_S=2 OUTDIR="" REPORT_ONLY=""
while getopts "r:s:o:R:h" opt; do
    case $opt in
    r) REPS=$OPTARG ;;
    s) SETTLE_S=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    R) REPORT_ONLY=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [[ -n $REPORT_ONLY ]]; then
    mem_report "$REPORT_ONLY"
    exit 0
fi
if ! [[ $REPS =~ ^[0-9]+$ ]] || ((REPS < 1 || REPS > 10)); then die "reps: 1-10"; fi
if ! [[ $SETTLE_S =~ ^[0-9]+$ ]] || ((SETTLE_S > 60)); then die "settle: 0-60 s"; fi
SERVERS=("$@")
((${#SERVERS[@]})) || read -r -a SERVERS <<<"$ALL_SERVERS"
for s in "${SERVERS[@]}"; do port_of "$s" >/dev/null; done
SERVER_MAX_LIFE=$((READY_TIMEOUT + SETTLE_S + 120))
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/mem-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
ensure_data tiny big
TINY=$BENCH_DATA/tiny.test.zone BIG=$BENCH_DATA/big.test.zone
TINY_N=$(zone_records "$TINY") BIG_N=$(zone_records "$BIG")
# Last name written by gen-zone.sh big, and a few spot checks of the loaded data.
BIG_LAST=$(awk '$1 ~ /^h[0-9]+$/ {n = $1} END {print n}' "$BIG").big.test
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

TSV=$OUTDIR/mem.tsv
printf 'rep\tserver\tzone\trecords\tready_ms\tpss_kb\trss_kb\tpeak_kb\n' >"$TSV"
NOTES=()

spot_check_big() { # server
    local port out
    port=$(port_of "$1")
    out=$(dq "$port" h0000001.big.test A)
    [[ $out == *"10.0.0.1"* ]] || return 1
    out=$(dq "$port" "$BIG_LAST" AAAA)
    [[ $out == *"status: NOERROR"* && $out == *"2001:db8:"* ]] || return 1
    out=$(dq "$port" nonexistent.big.test A)
    [[ $out == *"status: NXDOMAIN"* ]]
}

measure() { # rep server zone(tiny|big)
    local rep=$1 s=$2 zone=$3 zfile ready n
    if [[ $zone == tiny ]]; then
        zfile=$TINY ready=www.tiny.test n=$TINY_N
    else
        zfile=$BIG ready=$BIG_LAST n=$BIG_N
    fi
    if ! start_server "$s" "$OUTDIR/$s-$zone-$rep" "$zone.test" "$zfile" "$ready" "${MEM_PIN:-}"; then
        NOTES+=("rep $rep: $s did not load $zone.test")
        return 0
    fi
    if [[ $zone == big ]] && ! spot_check_big "$s"; then
        NOTES+=("rep $rep: $s gave wrong answers from big.test; left out")
        stop_server "$s"
        return 0
    fi
    sleep "$SETTLE_S"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$s" "$zone" "$n" "${READY_MS[$s]}" \
        "$(mem_kb "$s" Pss)" "$(mem_kb "$s" Rss)" "$(mem_kb "$s" VmHWM)" >>"$TSV"
    note "rep $rep $s $zone: $(tail -1 "$TSV" | cut -f5-)"
    stop_server "$s"
}

for ((rep = 1; rep <= REPS; rep++)); do
    for s in "${SERVERS[@]}"; do
        measure "$rep" "$s" tiny
        measure "$rep" "$s" big
    done
done

{
    mem_report "$TSV"
    for n in "${NOTES[@]}"; do echo "- note: $n"; done
} | tee "$OUTDIR/mem.md"
note "raw data: $TSV"
