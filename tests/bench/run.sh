#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Side-by-side benchmark of meridiand against gdnsd, Knot DNS and NSD on loopback.
#
#   run.sh [-r ROUNDS] [-k SLICES] [-d SLICE_S] [-p PACED_S] [-l LAT_S] [-L LAT_PCT] [-C LAT_CAP]
#          [-w WARMUP_S] [-o OUTDIR] [SERVER...]   SERVER: meridiand gdnsd knot nsd (default: all)
#                                                  or meridiand-b ($MERIDIAND_B, a second build)
#   run.sh -R RESULTS.tsv                          re-print the tables of an earlier run
#
# All servers serve bench.test (gen-zone.sh bench), each on its own 127.0.0.1 port
# (PORT_BASE + 0..3), each with ONE worker, all their threads pinned to CPU $SERVER_CPU
# (default 1); load comes from CPU $GEN_CPU (default 0).  Each server must pass the answer
# checks (bench-lib.sh BENCH_CHECKS) or it is left out (with a note in the output).  All
# servers stay up side by side for the whole run.  Then ROUNDS rounds (5), each:
#   1. saturation in paired slices (bench-lib.sh paired_slices): SLICES (4) turns of one
#      blast (16 sockets x 16 in flight) of SLICE_S s (2) per server, the order rotating
#      from turn to turn and round to round, so every server of a round meets the same host
#      speed; per server and round: answered qps, and server CPU per answered query from
#      /proc/PID/task/*/schedstat (ns; every thread of every process) summed over its slices;
#      per slice (OUTDIR/slices.tsv) also blast's own CPU per query, the same client for
#      every server: a host-speed proxy;
#   2. latency, server by server (order reversed every other round), at RATE = LAT_PCT% (50)
#      of the server's saturation qps (best slice of warm-up and round 1, then fixed), capped
#      at LAT_CAP (100000; dnsperf itself tops out near 250k qps here and queues well before):
#      a. blast paced at RATE for PACED_S s (5): avg/p50/p99 from its 1 us histogram;
#      b. dnsperf -Q RATE for LAT_S s (10): avg, and p50/p99/max from dnsperf -v; plus
#         server CPU per query at this load.
#      -p 0 or -l 0 skips a or b.
# Output: Markdown tables on stdout and in OUTDIR/table.md (with per-round ratios between
# servers, median and spread), raw data in OUTDIR/results.tsv and OUTDIR/slices.tsv.
# Env: MERIDIAND (binary; default build-bench/src/meridiand, then build/src/meridiand),
#      BENCH_OUT (/tmp/meridian-bench), PORT_BASE (5460), SERVER_CPU, GEN_CPU, REF (ratio
#      reference; default meridiand if measured, else gdnsd), BLAST_SOCKETS, BLAST_WINDOW.
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"

ROUNDS=5 SLICES=4 BLAST_S=2 LAT_S=10 PACED_S=5 LAT_PCT=50 LAT_CAP=100000 WARMUP_S=2 OUTDIR="" REPORT_ONLY=""
BLAST_SOCKETS=${BLAST_SOCKETS:-16} BLAST_WINDOW=${BLAST_WINDOW:-16}
while getopts "r:k:d:l:p:L:C:w:o:R:h" opt; do
    case $opt in
    r) ROUNDS=$OPTARG ;;
    k) SLICES=$OPTARG ;;
    d) BLAST_S=$OPTARG ;;
    l) LAT_S=$OPTARG ;;
    p) PACED_S=$OPTARG ;;
    L) LAT_PCT=$OPTARG ;;
    C) LAT_CAP=$OPTARG ;;
    w) WARMUP_S=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    R) REPORT_ONLY=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
for v in ROUNDS SLICES BLAST_S LAT_S PACED_S LAT_PCT LAT_CAP WARMUP_S; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done
((BLAST_S >= 1 && BLAST_S <= 60 && LAT_S <= 300 && PACED_S <= 300)) || die "durations: 0-300 s (-d: 1-60)"
((SLICES >= 1 && SLICES <= 20)) || die "slices: 1-20"
((ROUNDS >= 1 && ROUNDS <= 20)) || die "rounds: 1-20"
[[ $SERVER_CPU =~ ^[0-9]+$ && $GEN_CPU =~ ^[0-9]+$ && $SERVER_CPU != "$GEN_CPU" ]] ||
    die "SERVER_CPU and GEN_CPU must be two different single CPU numbers"

# ---------------------------------------------------------------------------- report
# Markdown tables from results.tsv: medians with min-max over rounds, ratios to REF.
report() { # results.tsv
    local tsv=$1 ref=${REF:-}
    if [[ -z $ref ]]; then
        ref=gdnsd
        awk -F'\t' '$2 == "meridiand" {f = 1} END {exit !f}' "$tsv" && ref=meridiand
    fi
    awk -F'\t' -v ref="$ref" '
    function sortv(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    # median / min / max of column c for (mode, server)
    function st(mode, srv, c, what,   n, i, a, k) { n = 0
        for (i = 1; i <= nr; i++) if (M[i] == mode && S[i] == srv && V[i, c] != "") a[++n] = V[i, c] + 0
        if (n == 0) return ""
        sortv(a, n)
        if (what == "min") return a[1]
        if (what == "max") return a[n]
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function pos(x) { return x < 0 ? 0 : x }
    function cnt(mode, srv,   i, n) { n = 0; for (i = 1; i <= nr; i++) n += (M[i] == mode && S[i] == srv); return n }
    function mm(mode, srv, c, fmt) { return sprintf(fmt " (" fmt "-" fmt ")", st(mode, srv, c, "med"),
        st(mode, srv, c, "min"), st(mode, srv, c, "max")) }
    function ratio(mode, srv, c,   r) { r = st(mode, ref, c, "med")
        return (r == "" || r == 0) ? "-" : sprintf("%.2f", st(mode, srv, c, "med") / r) }
    # Per-round ratios a/b of column c between servers x and y (each round pairs the two
    # servers under the same load): median, min or max over the rounds both were measured.
    function prr(mode, x, y, c, inv, what,   r, n, a, u, v) { n = 0
        for (r = 1; r <= maxr; r++) {
            u = X[mode, x, r, c]; v = X[mode, y, r, c]
            if (u == "" || v == "" || u + 0 == 0 || v + 0 == 0) continue
            a[++n] = inv ? v / u : u / v }
        if (n == 0) return ""
        sortv(a, n)
        if (what == "n") return n
        if (what == "min") return a[1]
        if (what == "max") return a[n]
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function prrs(mode, x, y, c, inv) { if (prr(mode, x, y, c, inv, "n") == "") return "-"
        return sprintf("%.2f (%.2f-%.2f)", prr(mode, x, y, c, inv, "med"),
            prr(mode, x, y, c, inv, "min"), prr(mode, x, y, c, inv, "max")) }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { nr++; M[nr] = $col["mode"]; S[nr] = $col["server"]
      for (k in col) V[nr, k] = $col[k]
      r = $col["round"] + 0; if (r > maxr) maxr = r
      X[M[nr], S[nr], r, "us_per_query"] = $col["us_per_query"]
      X[M[nr], S[nr], r, "answered_qps"] = $col["answered_qps"]
      if ("gen_us_per_query" in col) X[M[nr], S[nr], r, "gen_us_per_query"] = $col["gen_us_per_query"]
      if (!(S[nr] in seen)) { seen[S[nr]] = 1; order[++ns] = S[nr] } }
    END {
      printf "### Saturation: blast in paired slices, one server worker on one core\n\n"
      printf "| server | rounds | answered qps, median (min-max) | qps vs %s | server CPU %% | server CPU us/query, median (min-max) | us/query vs %s | lost %% | NXDOMAIN %% | avg response bytes | generator CPU %% | other load %%, server / generator core |\n", ref, ref
      printf "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
      for (k = 1; k <= ns; k++) { s = order[k]; if (!cnt("blast", s)) continue
        printf "| %s | %d | %s | %s | %.0f | %s | %s | %.3f | %.1f | %.1f | %.0f | %.0f / %.0f |\n", s, cnt("blast", s),
          mm("blast", s, "answered_qps", "%.0f"), ratio("blast", s, "answered_qps"),
          st("blast", s, "server_cpu_pct"), mm("blast", s, "us_per_query", "%.2f"),
          ratio("blast", s, "us_per_query"), st("blast", s, "lost_pct"), st("blast", s, "nxdomain_pct"),
          st("blast", s, "resp_bytes"), st("blast", s, "gen_cpu_pct"), pos(st("blast", s, "other_server_core_pct")),
          pos(st("blast", s, "other_gen_core_pct")) }
      printf "\n### Per-round ratios: each meridiand build against each other server\n\n"
      printf "Each round measures every server under the same load, so the ratio of two servers in one round is steadier than the ratio of their medians. CPU per answer: the other server'"'"'s / meridiand'"'"'s (above 1: meridiand spends less); qps: meridiand'"'"'s / the other'"'"'s. Median (min-max) over rounds.\n\n"
      printf "| meridiand | against | rounds | saturation: CPU per answer, other / meridiand | saturation: qps, meridiand / other | at the latency rate (dnsperf): CPU per answer, other / meridiand |\n"
      printf "|---|---|---|---|---|---|\n"
      for (k = 1; k <= ns; k++) { x = order[k]; if (x !~ /^meridiand/) continue
        for (j = 1; j <= ns; j++) { y = order[j]; if (y == x) continue
          n = prr("blast", x, y, "us_per_query", 1, "n"); if (n == "") continue
          printf "| %s | %s | %d | %s | %s | %s |\n", x, y, n, prrs("blast", x, y, "us_per_query", 1),
            prrs("blast", x, y, "answered_qps", 0), prrs("latency", x, y, "us_per_query", 1) } }
      printf "\n### Saturation per round: server CPU us per answer, and the host-speed proxy\n\n"
      printf "Blast'"'"'s own CPU per query is the same client for every server: a round where it rose as well was a slower host, not a slower server.\n\n| round | blast CPU us/query (mean over servers) |"
      for (k = 1; k <= ns; k++) if (cnt("blast", order[k])) printf " %s us/answer |", order[k]
      printf "\n|---|---|"
      for (k = 1; k <= ns; k++) if (cnt("blast", order[k])) printf "---|"
      printf "\n"
      for (r = 1; r <= maxr; r++) { g = 0; gn = 0
        for (k = 1; k <= ns; k++) if (X["blast", order[k], r, "gen_us_per_query"] != "") {
          g += X["blast", order[k], r, "gen_us_per_query"]; gn++ }
        if (!gn) continue
        printf "| %d | %.3f |", r, g / gn
        for (k = 1; k <= ns; k++) if (cnt("blast", order[k])) { v = X["blast", order[k], r, "us_per_query"]
          printf " %s |", v == "" ? "-" : sprintf("%.3f", v) }
        printf "\n" }
      printf "\n### Latency at a fixed rate: blast paced, dnsperf\n\n"
      printf "| server | offered qps | blast paced: avg / p50 / p99 ms | p99 vs %s | dnsperf: avg ms, median (min-max) | avg vs %s | dnsperf: p50 / p99 / max ms | dnsperf lost | server CPU us/query at this rate | us/query vs %s | other load %%, server / generator core |\n", ref, ref, ref
      printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
      for (k = 1; k <= ns; k++) { s = order[k]; p = cnt("paced", s); d = cnt("latency", s)
        if (!p && !d) continue
        cm = d ? "latency" : "paced"
        printf "| %s | %.0f | %s | %s | %s | %s | %s | %s | %.2f | %s | %.0f / %.0f |\n", s,
          st(cm, s, "offered"),
          p ? sprintf("%.3f / %.3f / %.3f", st("paced", s, "lat_avg_ms"), st("paced", s, "lat_p50_ms"),
                      st("paced", s, "lat_p99_ms")) : "-",
          p ? ratio("paced", s, "lat_p99_ms") : "-",
          d ? mm("latency", s, "lat_avg_ms", "%.3f") : "-", d ? ratio("latency", s, "lat_avg_ms") : "-",
          d ? sprintf("%.3f / %.3f / %.3f", st("latency", s, "lat_p50_ms"), st("latency", s, "lat_p99_ms"),
                      st("latency", s, "lat_max_ms")) : "-",
          d ? sprintf("%.0f", st("latency", s, "lost")) : "-",
          st(cm, s, "us_per_query"), ratio(cm, s, "us_per_query"),
          pos(st(cm, s, "other_server_core_pct")), pos(st(cm, s, "other_gen_core_pct")) }
    }' "$tsv"
}

if [[ -n $REPORT_ONLY ]]; then
    report "$REPORT_ONLY"
    exit 0
fi

# ---------------------------------------------------------------------------- setup
SERVERS=("$@")
((${#SERVERS[@]})) || read -r -a SERVERS <<<"$ALL_SERVERS"
for s in "${SERVERS[@]}"; do port_of "$s" >/dev/null; done
# Hard bound on every server's lifetime: the whole run plus a margin.
SERVER_MAX_LIFE=$((ROUNDS * ${#SERVERS[@]} * (SLICES * (BLAST_S + 2) + LAT_S + PACED_S + 30) + 300))
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
ensure_data bench queries
build_blast
QFILE=$BENCH_DATA/queries.txt
trap 'stop_all' EXIT
trap 'exit 130' INT TERM
# The harness itself (dig, awk parsing dnsperf output, ...) stays on the generator's core;
# servers get their own mask at start.
taskset -p -c "$GEN_CPU" $$ >/dev/null

TSV=$OUTDIR/results.tsv
printf 'round\tserver\tmode\toffered\tdur_s\tsent\tanswered\tlost\tanswered_qps\tserver_ticks\tserver_cpu_pct\tus_per_query\tgen_cpu_pct\tother_server_core_pct\tother_gen_core_pct\tlost_pct\tnxdomain_pct\tresp_bytes\tlat_avg_ms\tlat_p50_ms\tlat_p99_ms\tlat_max_ms\tgen_us_per_query\n' >"$TSV"
SLICE_TSV=$OUTDIR/slices.tsv
echo "$SLICE_COLUMNS" >"$SLICE_TSV"
NOTES=()
ACTIVE=()
for s in "${SERVERS[@]}"; do
    if ! start_server "$s" "$OUTDIR/$s" bench.test "$BENCH_DATA/bench.test.zone" \
        host1000.bench.test "$SERVER_CPU"; then
        NOTES+=("$s: did not start or not ready; left out")
        continue
    fi
    if ! check_answers "$s"; then
        NOTES+=("$s: wrong answers to the checks (see stderr); left out")
        stop_server "$s"
        continue
    fi
    note "$s: ready in ${READY_MS[$s]} ms on port $(port_of "$s"), checks passed"
    ACTIVE+=("$s")
done
((${#ACTIVE[@]})) || die "no server passed the checks"

# One saturation slice (bench-lib.sh paired_slices): blast at full windows against SERVER;
# round 0 is the warm-up, not recorded. The latency rate derives from the best slice of the
# warm-up and round 1: other load only ever lowers a saturation figure, so the maximum is the
# better capacity estimate.
run_slice() { # server round slice pos seconds
    local s=$1 q
    slice_blast "$s" "$5" -q "$QFILE"
    [[ -n $SLICE_OUT ]] && echo "round=$2 slice=$3 server=$s mode=blast $SLICE_OUT" >>"$OUTDIR/blast.log"
    if (($2 <= 1)) && [[ -n $(kv answered "$SLICE_OUT") ]]; then
        q=$(awk -v a="$(kv answered "$SLICE_OUT")" -v d="$(kv duration_s "$SLICE_OUT")" 'BEGIN {printf "%d", a / d}')
        ((q > ${SAT_QPS[$s]:-0})) && SAT_QPS[$s]=$q
    fi
    (($2 >= 1)) || return 0
    slice_record "$SLICE_TSV" "$2" "$3" "$4" "$s" "$s" || NOTES+=("round $2 slice $3: blast against $s failed")
}

# A round's saturation row per server in results.tsv: its slices summed (answers, server ns,
# wall time), so CPU per answer = all its slices' server CPU / all their answers.
saturation_rows() { # round
    local s sum
    for s in "${ACTIVE[@]}"; do
        sum=$(slices_sum "$SLICE_TSV" "$1" "$s")
        [[ -n $sum ]] || continue
        awk -v OFS='\t' -v r="$1" -v s="$s" -v hz="$CLK_TCK" -v d="$(kv dur_s "$sum")" \
            -v sent="$(kv sent "$sum")" -v ans="$(kv answered "$sum")" -v lost="$(kv lost "$sum")" \
            -v ns="$(kv server_ns "$sum")" -v w="$(kv wall_ns "$sum")" -v gen="$(kv gen_ns "$sum")" \
            -v sb="$(kv sbusy_ticks "$sum")" -v gb="$(kv gbusy_ticks "$sum")" \
            -v nx="$(kv nxdomain "$sum")" -v rb="$(kv resp_bytes "$sum")" '
            BEGIN { cpu = ns / 1e9; w /= 1e9; g = gen / 1e9
              print r, s, "blast", "max", d, sent, ans, lost, ans / d, int(cpu * hz), 100 * cpu / w,
                cpu * 1e6 / ans, 100 * g / w, 100 * (sb / hz - cpu) / w, 100 * (gb / hz - g) / w,
                (sent > 0 ? 100 * lost / sent : 0), 100 * nx / ans, rb, "", "", "", "",
                (sent > 0 ? gen / 1000 / sent : "") }' >>"$TSV"
    done
}

# Paced blast at RATE qps against SERVER (mode "paced"): latency from blast's histogram.
run_paced() { # server round seconds rate
    local s=$1 out gen_s rate=$4
    begin_measure "$s"
    out=$(taskset -c "$GEN_CPU" timeout $(($3 + 15)) "$BLAST" -s "$BENCH_ADDR" \
        -p "$(port_of "$s")" -q "$QFILE" -d "$3" -c "$BLAST_SOCKETS" -w "$BLAST_WINDOW" \
        -Q "$rate") || true
    end_measure "$s"
    [[ -n $out ]] || {
        NOTES+=("round $2: paced blast against $s failed")
        return 0
    }
    echo "round=$2 server=$s mode=paced $out" >>"$OUTDIR/blast.log"
    gen_s=$(awk -v u="$(kv cpu_user_s "$out")" -v y="$(kv cpu_sys_s "$out")" 'BEGIN {print u + y}')
    awk -v OFS='\t' -v r="$2" -v s="$s" -v d="$(kv duration_s "$out")" -v sent="$(kv sent "$out")" \
        -v ans="$(kv answered "$out")" -v lost="$(kv lost "$out")" -v t="$T_TICKS" -v hz="$CLK_TCK" \
        -v w="$T_WALL" -v offered="$rate" \
        -v sbusy="$T_SBUSY" -v gbusy="$T_GBUSY" -v gen="$gen_s" -v nx="$(kv rcode_NXDOMAIN "$out")" \
        -v rb="$(kv avg_resp_bytes "$out")" -v p50="$(kv lat_p50_us "$out")" \
        -v p99="$(kv lat_p99_us "$out")" -v lavg="$(kv lat_avg_us "$out")" -v lmax="$(kv lat_max_us "$out")" '
        BEGIN { cpu = t / hz
          print r, s, "paced", offered, d, sent, ans, lost, ans / d, t, 100 * cpu / w,
            (ans > 0 ? cpu * 1e6 / ans : 0), 100 * gen / w, 100 * (sbusy / hz - cpu) / w,
            100 * (gbusy / hz - gen) / w,
            (sent > 0 ? 100 * lost / sent : 0), (ans > 0 ? 100 * nx / ans : 0), rb,
            lavg / 1000, p50 / 1000, p99 / 1000, lmax / 1000, (sent > 0 ? gen * 1e6 / sent : "") }' >>"$TSV"
    return 0
}

# dnsperf -v's per-answer latencies become percentiles (bench-lib.sh dnsperf_pct).
run_dnsperf() { # server round rate
    local s=$1 rate=$3 out
    begin_measure "$s"
    out=$(taskset -c "$GEN_CPU" timeout $((LAT_S + 20)) /usr/bin/time -f 'gen_cpu_s=%U+%S' \
        dnsperf -s "$BENCH_ADDR" -p "$(port_of "$s")" -d "$QFILE" -l "$LAT_S" -Q "$rate" \
        -c 16 -q 500 -t 2 -v 2>&1 | dnsperf_pct) || true
    end_measure "$s"
    echo "== round $2 $s rate $rate" >>"$OUTDIR/dnsperf.log"
    echo "$out" >>"$OUTDIR/dnsperf.log"
    local sent ans lost avg gen p50 p99 mx
    sent=$(sed -n 's/.*Queries sent: *\([0-9]*\).*/\1/p' <<<"$out")
    ans=$(sed -n 's/.*Queries completed: *\([0-9]*\).*/\1/p' <<<"$out")
    lost=$(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' <<<"$out")
    avg=$(sed -n 's/.*Average Latency (s): *\([0-9.]*\).*/\1/p' <<<"$out")
    gen=$(sed -n 's/.*gen_cpu_s=\([0-9.+]*\).*/\1/p' <<<"$out")
    read -r p50 p99 mx < <(sed -n 's/^PCT p50_us=\([0-9]*\) p99_us=\([0-9]*\) max_us=\([0-9]*\).*/\1 \2 \3/p' <<<"$out")
    [[ -n $ans && -n $avg ]] || {
        NOTES+=("round $2: dnsperf against $s failed")
        return 0
    }
    awk -v OFS='\t' -v r="$2" -v s="$s" -v rate="$rate" -v d="$LAT_S" -v sent="$sent" -v ans="$ans" \
        -v lost="$lost" -v t="$T_TICKS" -v hz="$CLK_TCK" -v w="$T_WALL" -v sbusy="$T_SBUSY" \
        -v gbusy="$T_GBUSY" \
        -v gen="$gen" -v avg="$avg" -v p50="$p50" -v p99="$p99" -v mx="$mx" '
        BEGIN { cpu = t / hz; split(gen, g, "+"); gen = g[1] + g[2]
          print r, s, "latency", rate, d, sent, ans, lost, ans / d, t, 100 * cpu / w,
            (ans > 0 ? cpu * 1e6 / ans : 0), 100 * gen / w, 100 * (sbusy / hz - cpu) / w,
            100 * (gbusy / hz - gen) / w,
            (sent > 0 ? 100 * lost / sent : 0), "", "", avg * 1000, p50 / 1000, p99 / 1000, mx / 1000, "" }' >>"$TSV"
}

# ---------------------------------------------------------------------------- rounds
declare -A SAT_QPS=()
note "warm-up ${WARMUP_S}s each; then $ROUNDS rounds of $SLICES x ${BLAST_S}s saturation slices per server (rotating order), then ${PACED_S}s paced blast + ${LAT_S}s dnsperf per server"
((WARMUP_S > 0)) && paired_slices 0 1 "$WARMUP_S" "${ACTIVE[@]}"
for ((round = 1; round <= ROUNDS; round++)); do
    paired_slices "$round" "$SLICES" "$BLAST_S" "${ACTIVE[@]}"
    n0=$(wc -l <"$TSV")
    saturation_rows "$round"
    note "round $round saturation: $(tail -n +$((n0 + 1)) "$TSV" | awk -F'\t' '{printf "%s qps %.0f us/q %.3f (blast %.3f)  ", $2, $9, $12, $23}')"
    order=("${ACTIVE[@]}")
    if ((round % 2 == 0)); then
        order=()
        for ((i = ${#ACTIVE[@]} - 1; i >= 0; i--)); do order+=("${ACTIVE[i]}"); done
    fi
    ((PACED_S > 0 || LAT_S > 0)) || continue
    for s in "${order[@]}"; do
        # A server that died mid-run is reported, not silently measured as zero.
        kill -0 "${SRV_PID[$s]}" 2>/dev/null || die "$s (pid ${SRV_PID[$s]}) exited; see $OUTDIR/$s/server.log"
        n0=$(wc -l <"$TSV")
        rate=$(awk -v q="${SAT_QPS[$s]:-0}" -v p="$LAT_PCT" -v c="$LAT_CAP" \
            'BEGIN {r = int(q * p / 100); if (c > 0 && r > c) r = c; print (r < 1000 ? 1000 : r)}')
        ((PACED_S > 0)) && run_paced "$s" "$round" "$PACED_S" "$rate"
        ((LAT_S > 0)) && run_dnsperf "$s" "$round" "$rate"
        note "round $round $s: $(tail -n +$((n0 + 1)) "$TSV" | awk -F'\t' '{printf "%s %s qps %.0f us/q %.2f  ", $3, $4, $9, $12}')"
    done
done
stop_all

# ---------------------------------------------------------------------------- output
{
    echo "## Meridian benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Host: $(getconf _NPROCESSORS_ONLN) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r)." \
        "Servers: $(for s in "${ACTIVE[@]}"; do
            case $s in
            meridiand*) printf '%s (%s) ' "$s" "$(find_meridiand "$s")" ;;
            gdnsd) printf 'gdnsd %s, ' "$(gdnsd -h 2>&1 | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)" ;;
            knot*) printf '%s (Knot %s), ' "$s" "$(knotd -V | awk '{print $NF}')" ;;
            nsd) printf 'NSD %s, ' "$(nsd -v 2>&1 | awk 'NR == 1 {print $NF}')" ;;
            esac
        done)dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}')."
    echo "Each server: one worker, all threads on CPU $SERVER_CPU; load from CPU $GEN_CPU; zone bench.test" \
        "($(zone_records "$BENCH_DATA/bench.test.zone") records), $(wc -l <"$QFILE") queries (70% A/AAAA," \
        "10% NXDOMAIN, 10% NODATA, 10% other). All servers up side by side; $ROUNDS rounds." \
        "Saturation in paired slices: per round $SLICES turns of one ${BLAST_S}-s blast (${BLAST_SOCKETS}x${BLAST_WINDOW} in flight) per server," \
        "order rotating; server CPU from schedstat (all threads). Latency (order reversed every other round) at ${LAT_PCT}% of" \
        "the server's saturation (best of warm-up and round 1; cap ${LAT_CAP} qps): blast paced ${PACED_S} s," \
        "dnsperf -c 16 -q 500 ${LAT_S} s. Medians over rounds."
    echo
    report "$TSV"
    for n in "${NOTES[@]}"; do echo "- note: $n"; done
} | tee "$OUTDIR/table.md"
note "results: $TSV, tables: $OUTDIR/table.md"
