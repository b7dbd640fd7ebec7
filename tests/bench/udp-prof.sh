#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Where a UDP server's CPU per answer goes: system calls, wake-ups and batch sizes per answer,
# counted by perf's syscall tracepoints (no strace: ptrace would slow every call it counts).
#
#   udp-prof.sh [-d SECONDS] [-Q "RATE ..."] [-H "HOG ..."] [-o OUTDIR] [SERVER...]
#
# SERVER: meridiand, meridiand-b ($MERIDIAND_B), gdnsd, knot (default: meridiand gdnsd).
# Each is started as in run.sh (one worker, every thread on CPU $SERVER_CPU, bench.test);
# then for each HOG and each RATE (0 = saturation: blast 16 sockets x 16 in flight; else
# blast paced at RATE qps) one run of SECONDS (5) from CPU $GEN_CPU, with perf stat attached
# to every thread of the server. HOG (default "none"): none; nice19 (a busy loop at nice 19
# on the server's core, like a neighbour's build); half (a busy loop at nice 0 there: the
# server gets about half of the core). The hog lives at most SECONDS + 5 s.
# Output: one Markdown table (stdout and OUTDIR/prof.md): answered qps, CPU us per answer
# (perf task-clock of the server's threads), and per 1,000 answers: context switches, all
# system calls, recvmmsg (and those that returned EAGAIN), sendmmsg, epoll_wait/pwait,
# futex; answers per successful recvmmsg. Root (tracepoints). Run under the bench lock.
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"

DUR=5 RATES="0" HOGS="none" OUTDIR=""
while getopts "d:Q:H:o:" opt; do
    case $opt in
    d) DUR=$OPTARG ;;
    Q) RATES=$OPTARG ;;
    H) HOGS=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ $DUR =~ ^[0-9]+$ ]] && ((DUR >= 1 && DUR <= 60)) || die "-d: 1-60 s"
SERVERS=("$@")
((${#SERVERS[@]})) || SERVERS=(meridiand gdnsd)
BLAST_SOCKETS=${BLAST_SOCKETS:-16} BLAST_WINDOW=${BLAST_WINDOW:-16}
SERVER_MAX_LIFE=$((${#SERVERS[@]} * $(wc -w <<<"$RATES $HOGS") * (DUR + 20) + 300))
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/prof-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
ensure_data bench queries
build_blast
HOG_PID=""
stop_hog() {
    [[ -n $HOG_PID ]] && { kill "$HOG_PID" 2>/dev/null || true; wait "$HOG_PID" 2>/dev/null || true; }
    HOG_PID=""
}
trap 'stop_hog; stop_all' EXIT
trap 'exit 130' INT TERM
taskset -p -c "$GEN_CPU" $$ >/dev/null

EVENTS=(-e task-clock -e context-switches -e raw_syscalls:sys_enter
    -e syscalls:sys_enter_recvmmsg -e syscalls:sys_exit_recvmmsg --filter 'ret == -11'
    -e syscalls:sys_enter_sendmmsg -e syscalls:sys_enter_epoll_wait
    -e syscalls:sys_enter_epoll_pwait -e syscalls:sys_enter_futex)

start_hog() { # none|nice19|half
    case $1 in
    none) return 0 ;;
    nice19) taskset -c "$SERVER_CPU" timeout $((DUR + 5)) nice -n 19 bash -c 'while :; do :; done' & ;;
    half) taskset -c "$SERVER_CPU" timeout $((DUR + 5)) bash -c 'while :; do :; done' & ;;
    *) die "unknown hog '$1'" ;;
    esac
    HOG_PID=$!
}

TSV=$OUTDIR/prof.tsv
printf 'server\thog\trate\tqps\tus_per_answer\tcs_k\tsys_k\trecvmmsg_k\teagain_k\tsendmmsg_k\tepoll_k\tfutex_k\tper_recvmmsg\n' >"$TSV"
for s in "${SERVERS[@]}"; do
    start_server "$s" "$OUTDIR/$s" bench.test "$BENCH_DATA/bench.test.zone" host1000.bench.test \
        "$SERVER_CPU" || die "$s did not start"
    check_answers "$s" || die "$s: wrong answers"
    pids=$(server_pids "$s" | paste -sd,)
    # Warm-up: caches, the kernel's socket memory.
    taskset -c "$GEN_CPU" "$BLAST" -s "$BENCH_ADDR" -p "$(port_of "$s")" -q "$BENCH_DATA/queries.txt" \
        -d 2 -c "$BLAST_SOCKETS" -w "$BLAST_WINDOW" >/dev/null
    for hog in $HOGS; do
        for rate in $RATES; do
            start_hog "$hog"
            perf stat -x, -o "$OUTDIR/perf-$s-$hog-$rate.csv" "${EVENTS[@]}" -p "$pids" \
                -- sleep "$DUR" 2>/dev/null &
            perf_pid=$!
            sleep 0.2 # perf attached before the load starts
            out=$(taskset -c "$GEN_CPU" timeout $((DUR + 15)) "$BLAST" -s "$BENCH_ADDR" \
                -p "$(port_of "$s")" -q "$BENCH_DATA/queries.txt" -d "$((DUR - 1))" \
                -c "$BLAST_SOCKETS" -w "$BLAST_WINDOW" -Q "$rate") || true
            wait "$perf_pid" || true
            stop_hog
            echo "server=$s hog=$hog rate=$rate $out" >>"$OUTDIR/blast.log"
            awk -F, -v OFS='\t' -v s="$s" -v hog="$hog" -v rate="$rate" \
                -v ans="$(kv answered "$out")" -v d="$(kv duration_s "$out")" '
                /^#/ || NF < 3 { next }
                { v = $1 + 0; e = $3
                  if (e == "task-clock") tc = v
                  else if (e == "context-switches") cs = v
                  else if (e == "raw_syscalls:sys_enter") sc = v
                  else if (e == "syscalls:sys_enter_recvmmsg") rm = v
                  else if (e == "syscalls:sys_exit_recvmmsg") ea = v
                  else if (e == "syscalls:sys_enter_sendmmsg") sm = v
                  else if (e ~ /epoll_p?wait$/) ep += v
                  else if (e == "syscalls:sys_enter_futex") fx += v }
                END { k = ans > 0 ? 1000 / ans : 0
                  print s, hog, rate, (d > 0 ? ans / d : 0), (ans > 0 ? tc * 1000 / ans : 0),
                    cs * k, sc * k, rm * k, ea * k, sm * k, ep * k, fx * k,
                    (rm - ea > 0 ? ans / (rm - ea) : 0) }' "$OUTDIR/perf-$s-$hog-$rate.csv" >>"$TSV"
            note "$(tail -1 "$TSV")"
        done
    done
    stop_server "$s"
done
{
    echo "| server | hog | offered qps | answered qps | CPU us/answer | per 1k answers: context switches | syscalls | recvmmsg | of which EAGAIN | sendmmsg | epoll_wait | futex | answers per recvmmsg |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %.0f | %.2f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
        $1, $2, ($3 == 0 ? "max" : $3), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }' "$TSV"
} | tee "$OUTDIR/prof.md"
