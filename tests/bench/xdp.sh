#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The AF_XDP fast path (server.xdp, ARCHITECTURE.md §18) against Knot DNS's XDP mode and both
# servers on sockets. Builds two network namespaces joined by a veth pair (one queue, IPv4
# XDP_NET.1 / .2, nothing outside the namespaces), and for each of meridiand-xdp, knot-xdp,
# meridiand-sockets and knot-sockets (one worker each, pinned to SERVER_CPU) sends a static
# query mix with kxdpgun (Debian knot-dnsutils, pinned to GEN_CPU) at each fixed offered rate
# for DURATION seconds. Reports the share of queries answered and the server process's CPU
# (utime + stime of all its threads, user and system apart) per answer in microseconds. On
# veth a frame's receive side runs in its sender's softirq: the queries' (the XDP program, the
# copy into the server's UMEM or the kernel's UDP input) on GEN_CPU, charged to kxdpgun, and
# the replies' (kxdpgun's XDP program and AF_XDP copy) on SERVER_CPU inside the server's
# sendto, charged to the server: about 40% of an XDP server's time here, the same for both.
#
# Usage: tests/bench/xdp.sh [-d SECONDS] [-r "RATE ..."] [-o OUTDIR] [-p PAIRS [-s SECONDS]]
# -p: paired mode (see paired_run): all servers up at once, each on a veth pair of its own,
# kxdpgun loading each in turn for -s seconds, PAIRS rounds per rate.
# Environment: MERIDIAND (default: build-bench, else build), KNOTD, SERVER_CPU (1), GEN_CPU
# (0), BENCH_OUT (/tmp/meridian-bench), SERVERS (a subset of the four names, or
# meridiand-b-xdp: the binary MERIDIAND_B through XDP, for before/after runs, meridiand-c-xdp:
# MERIDIAND_C), XDP_NET (the
# veth's /24, default 10.78.0) and XDP_NS (namespace name prefix, default mxb), so that two
# runs on one machine do not collide; XDP_PERF_STAT and XDP_PERF_RECORD (below). Root only.
set -euo pipefail

# shellcheck source=tests/bench/bench-lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bench-lib.sh"

DURATION=5 RATES="20000 50000 100000" OUTDIR="" PAIRS=0 SLICE=2
SERVERS=${SERVERS:-meridiand-xdp knot-xdp meridiand-sockets knot-sockets}
while getopts "d:r:o:p:s:" opt; do
    case $opt in
    d) DURATION=$OPTARG ;;
    r) RATES=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    p) PAIRS=$OPTARG ;;
    s) SLICE=$OPTARG ;;
    *) die "usage: $0 [-d SECONDS] [-r \"RATE ...\"] [-o OUTDIR] [-p PAIRS [-s SECONDS]]" ;;
    esac
done
[[ $(id -u) == 0 ]] || die "needs root (namespaces, XDP)"
KXDPGUN=$(command -v kxdpgun || echo /usr/sbin/kxdpgun)
KNOTD=${KNOTD:-$(command -v knotd || echo /usr/sbin/knotd)}
[[ -x $KXDPGUN ]] || die "kxdpgun not found (Debian knot-dnsutils)"
[[ -x $KNOTD ]] || die "knotd not found (Debian knot)"
MERIDIAND=$(find_meridiand meridiand)
[[ " $SERVERS " == *" meridiand-b-xdp "* ]] && MERIDIAND_B=$(find_meridiand meridiand-b)
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/xdp-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
WD=$OUTDIR/work
mkdir -p "$WD"

TAG=$$
XDP_NET=${XDP_NET:-10.78.0} XDP_NS=${XDP_NS:-mxb}
NS_S=$XDP_NS-s-$TAG NS_C=$XDP_NS-c-$TAG
SERVER_PID=""
declare -A PIDS=()

cleanup() {
    local p
    for p in $SERVER_PID "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns del "$NS_C" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$NS_S"
ip netns add "$NS_C"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done

# Veth pair i between the namespaces: server side mbs<i>x<tag> with .1 of its own /24 (the
# third octet of XDP_NET plus i), client side mbc<i>x<tag> with .2.
make_pair() { # i
    local i=$1 net=${XDP_NET%.*}.$((${XDP_NET##*.} + $1))
    local ifs=mbs${i}x$TAG ifc=mbc${i}x$TAG
    ip link add "$ifs" netns "$NS_S" type veth peer name "$ifc" netns "$NS_C"
    ip -n "$NS_S" addr add "$net.1/24" dev "$ifs"
    ip -n "$NS_C" addr add "$net.2/24" dev "$ifc"
    ip -n "$NS_S" link set "$ifs" up
    ip -n "$NS_C" link set "$ifc" up
    # kxdpgun needs the server's MAC: a permanent neighbour entry spares the ARP.
    local mac
    mac=$(ip -n "$NS_S" -br link show dev "$ifs" | awk '{print $3}')
    ip -n "$NS_C" neigh replace "$net.1" lladdr "$mac" dev "$ifc" nud permanent
}

# Makes pair i the one the functions below use: IF_S, IF_C, SRV.
use_pair() { # i
    IF_S=mbs${1}x$TAG IF_C=mbc${1}x$TAG SRV=${XDP_NET%.*}.$((${XDP_NET##*.} + $1)).1
}

cat >"$WD/bench.xdp.zone" <<ZONE
\$ORIGIN bench.xdp.
\$TTL 3600
@    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
     IN NS  ns1
ns1  IN A   192.0.2.1
www  IN A   192.0.2.80
     IN AAAA 2001:db8::80
mail IN MX  10 www
ZONE
# kxdpgun's templates: "name type", one a line, sent in turn.
printf '%s\n' "www.bench.xdp A" "www.bench.xdp AAAA" "bench.xdp SOA" "mail.bench.xdp MX" \
    "nope.bench.xdp A" >"$WD/queries.txt"

write_meridiand() { # name with_xdp
    cat >"$WD/$1.yaml" <<CONF
server:
  listen: ["$SRV:53"]
  workers: 1
  log_level: info  # the XDP queue's batching figures are logged at stop
  rrl: { enabled: false }  # one source address: rate limiting would answer half with TC
$([[ $2 == yes ]] && echo "  xdp: { interface: $IF_S }")
zones:
  - origin: bench.xdp
    file: "$WD/bench.xdp.zone"
CONF
}

write_knot() { # name with_xdp
    mkdir -p "$WD/$1"
    cat >"$WD/$1.conf" <<CONF
server:
    rundir: "$WD/$1"
    listen: $SRV@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
$([[ $2 == yes ]] && printf 'xdp:\n    listen: %s@53\n    udp: on\n' "$IF_S")
database:
    storage: "$WD/$1"
log:
  - target: stderr
    any: warning
zone:
  - domain: bench.xdp
    file: "$WD/bench.xdp.zone"
    zonefile-sync: -1
    journal-content: none
CONF
}

start() { # name
    local cmd
    case $1 in
    meridiand-b-*) cmd=("$MERIDIAND_B" -c "$WD/$1.yaml") ;;
    meridiand-c-*) cmd=("${MERIDIAND_C:?meridiand-c needs MERIDIAND_C}" -c "$WD/$1.yaml") ;;
    meridiand-*) cmd=("$MERIDIAND" -c "$WD/$1.yaml") ;;
    knot-*) cmd=("$KNOTD" -c "$WD/$1.conf") ;;
    esac
    ip netns exec "$NS_S" taskset -c "$SERVER_CPU" timeout 600 "${cmd[@]}" \
        >"$OUTDIR/$1.log" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 1 100); do
        if ip netns exec "$NS_C" dig +short +tries=1 +time=1 @"$SRV" www.bench.xdp A 2>/dev/null |
            grep -q 192.0.2.80; then
            pin_threads
            return 0
        fi
        sleep 0.2
    done
    die "$1 did not answer (see $OUTDIR/$1.log)"
}

# knotd pins each UDP/XDP worker thread to CPU (thread number mod CPUs) itself, over the
# taskset it was started with: on 2 cores its XDP worker landed on GEN_CPU, beside kxdpgun,
# where the frames the generator's softirq just wrote are in its own cache. Put every thread
# of the server back on SERVER_CPU (the threads exist once it answers) and check.
pin_threads() {
    local p t
    for p in $(pgrep -P "$SERVER_PID"); do
        taskset -a -p -c "$SERVER_CPU" "$p" >/dev/null
        for t in /proc/"$p"/task/*; do
            [[ $(awk '/^Cpus_allowed_list/ {print $2}' "$t/status") == "$SERVER_CPU" ]] ||
                die "thread ${t##*/} of $p is not on CPU $SERVER_CPU"
        done
    done
}

stop() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    # knotd leaves its XDP program attached when it exits (redirecting into sockets nobody
    # reads); meridiand's goes with the process, once the kernel's deferred release of the
    # link ran (allow it a second). Clear the interface for the next server.
    local i
    for i in 1 2 3 4 5; do
        ip -n "$NS_S" link show dev "$IF_S" | grep -q xdp || break
        sleep 0.2
    done
    if ip -n "$NS_S" link show dev "$IF_S" | grep -q xdp; then
        note "$1: an XDP program is still attached after stopping the server: removing it"
        ip -n "$NS_S" link set dev "$IF_S" xdp off 2>/dev/null || true
        ip -n "$NS_S" link set dev "$IF_S" xdpgeneric off 2>/dev/null || true
    fi
}

# utime and stime of the server (the timeout wrapper's child and its threads), in ticks:
# "user system". Without CONFIG_IRQ_TIME_ACCOUNTING the softirqs a system call runs on its
# way out (on veth: the peer's receive of our replies) count as the server's system time.
server_ticks() {
    local p u=0 s=0 f
    for p in $(pgrep -P "$SERVER_PID"); do
        for t in /proc/"$p"/task/*/stat; do
            f=$(cat "$t" 2>/dev/null) || continue
            f=${f##*) }
            read -r -a a <<<"$f"
            u=$((u + a[11])) s=$((s + a[12]))
        done
    done
    echo "$u $s"
}

# Per thread "tid comm utime stime" (ticks), for threads.tsv: which thread the time went to.
thread_ticks() {
    local p t f
    for p in $(pgrep -P "$SERVER_PID"); do
        for t in /proc/"$p"/task/*/stat; do
            f=$(cat "$t" 2>/dev/null) || continue
            local comm=${f#*(} rest=${f##*) } tid=${t%/stat}
            comm=${comm%%)*}
            read -r -a a <<<"$rest"
            echo "${tid##*/} ${comm// /_} ${a[11]} ${a[12]}"
        done
    done
}

# XDP_PERF_STAT=1: perf stat counts the server's system calls and context switches per rate
# (its tracepoints, attached to the server's threads: no ptrace slowing what it counts), per
# 1,000 answers in syscalls.tsv. XDP_PERF_RECORD=1: perf record -g of SERVER_CPU for each
# rate, in NAME-RATE.perf.data (perf report --comm NAME). XDP_PERF_TRACE=1: perf trace -s
# of the server's threads, the time spent in each system call (trace-NAME-RATE.txt; a
# non-blocking sendto's time is the CPU of the transmit it runs). All cost some CPU themselves:
# compare servers within one such run, not with a run without them.
PERF_PID=""
perf_start() { # name rate
    local tids
    tids=$(for p in $(pgrep -P "$SERVER_PID"); do ls /proc/"$p"/task; done | paste -sd,)
    if [[ -n ${XDP_PERF_STAT:-} ]]; then
        perf stat -x, -o "$OUTDIR/perf-$1-$2.csv" -e context-switches,raw_syscalls:sys_enter \
            -e syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_poll \
            -e syscalls:sys_enter_ppoll,syscalls:sys_enter_epoll_wait \
            -e syscalls:sys_enter_epoll_pwait -e napi:napi_poll -t "$tids" \
            -- sleep $((DURATION + 1)) &
        PERF_PID=$!
    elif [[ ${XDP_PERF_TRACE:-} == calls ]]; then
        perf trace -t "$tids" -e sendto,epoll_wait,poll,ppoll -e napi:napi_poll \
            -o "$OUTDIR/calls-$1-$2.txt" -- sleep $((DURATION + 1)) >/dev/null 2>&1 &
        PERF_PID=$!
    elif [[ -n ${XDP_PERF_TRACE:-} ]]; then
        perf trace -s -t "$tids" -o "$OUTDIR/trace-$1-$2.txt" -- sleep $((DURATION + 1)) \
            >/dev/null 2>&1 &
        PERF_PID=$!
    elif [[ -n ${XDP_PERF_RECORD:-} ]]; then
        perf record -q -g -C "$SERVER_CPU" -o "$OUTDIR/$1-$2.perf.data" \
            -- sleep $((DURATION + 1)) >/dev/null 2>&1 &
        PERF_PID=$!
    fi
    [[ -z $PERF_PID ]] || sleep 0.3 # attached before the load starts
}

perf_stop() {
    [[ -n $PERF_PID ]] || return 0
    wait "$PERF_PID" || true
    PERF_PID=""
}

perf_counts() { # name rate answered
    [[ -f $OUTDIR/syscalls.tsv ]] || printf 'server\trate\tanswered\tsyscalls_k\tcs_k\tsendto_k\trecvfrom_k\tpoll_k\tepoll_k\tnapi_k\n' >"$OUTDIR/syscalls.tsv"
    awk -F, -v OFS='\t' -v n="$1" -v r="$2" -v a="$3" '
        /^#/ || NF < 3 { next }
        { v = $1 + 0; e = $3
          if (e == "context-switches") cs = v
          else if (e == "raw_syscalls:sys_enter") sc = v
          else if (e ~ /sendto$/) st = v
          else if (e ~ /recvfrom$/) rf = v
          else if (e == "napi:napi_poll") np = v
          else if (e ~ /_p?poll$/) pl += v
          else if (e ~ /epoll_p?wait$/) ep += v }
        END { k = a > 0 ? 1000 / a : 0
          printf "%s\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\n", n, r, a, sc * k,
              cs * k, st * k, rf * k, pl * k, ep * k, np * k }' "$OUTDIR/perf-$1-$2.csv" | tee -a "$OUTDIR/syscalls.tsv"
}

# CPU time of the server's threads so far, in nanoseconds (schedstat: exact, unlike ticks).
server_ns() {
    # shellcheck disable=SC2046 # one argument per pid
    pids_sched_ns $(pgrep -P "$SERVER_PID")
}

# -p PAIRS: every server up at once, each on a veth pair of its own (server i on pair i), all
# pinned to SERVER_CPU; per rate, PAIRS rounds in which kxdpgun loads each server in turn for
# SLICE seconds (the order rotated every round), so that drift on a shared machine hits all
# servers alike. Prints per rate each server's median CPU per answer and its per-round ratio
# to the first server named (median, quartiles, range).
paired_run() {
    local i=0 name names=() rate r k n0 n1 out sent answered order
    for name in $SERVERS; do
        make_pair $i
        use_pair $i
        case $name in
        meridiand-*) write_meridiand "$name" "$([[ $name == *-xdp ]] && echo yes || echo no)" ;;
        knot-*) write_knot "$name" "$([[ $name == *-xdp ]] && echo yes || echo no)" ;;
        esac
        start "$name"
        PIDS[$name]=$SERVER_PID
        SERVER_PID=""
        if [[ $name == *-xdp ]] && ! ip -n "$NS_S" link show dev "$IF_S" | grep -q xdp; then
            note "$name: no XDP program on $IF_S (see $OUTDIR/$name.log)"
        fi
        names+=("$name")
        i=$((i + 1))
    done
    # knotd pins its threads once more when another server starts? Check every server again.
    for name in "${names[@]}"; do
        SERVER_PID=${PIDS[$name]}
        pin_threads
    done
    SERVER_PID=""
    printf 'round\tserver\trate\tsent\tanswered\tshare\tcpu_us_per_answer\tuser_ticks\tsys_ticks\n' >"$OUTDIR/paired.tsv"
    for rate in $RATES; do
        for r in $(seq 1 "$PAIRS"); do
            order=()
            for k in $(seq 0 $((${#names[@]} - 1))); do
                order+=("${names[$(((k + r) % ${#names[@]}))]}")
            done
            for name in "${order[@]}"; do
                i=0
                for k in "${!names[@]}"; do [[ ${names[$k]} == "$name" ]] && i=$k; done
                use_pair "$i"
                SERVER_PID=${PIDS[$name]}
                n0=$(server_ns)
                read -r u0 s0 <<<"$(server_ticks)"
                out=$(ip netns exec "$NS_C" "$KXDPGUN" -t "$SLICE" -Q "$rate" -F "$GEN_CPU" \
                    -I "$IF_C" -i "$WD/queries.txt" "$SRV" 2>&1) || true
                n1=$(server_ns)
                read -r u1 s1 <<<"$(server_ticks)"
                sent=$(sed -n 's/^total queries: *\([0-9]*\).*/\1/p' <<<"$out" | head -1)
                answered=$(sed -n 's/^total replies: *\([0-9]*\).*/\1/p' <<<"$out" | head -1)
                sent=${sent:-0} answered=${answered:-0}
                awk -v OFS='\t' -v r="$r" -v n="$name" -v q="$rate" -v s="$sent" -v a="$answered" \
                    -v ns=$((n1 - n0)) -v u=$((u1 - u0)) -v y=$((s1 - s0)) 'BEGIN {
                        print r, n, q, s, a, sprintf("%.3f", s ? a / s : 0),
                            a ? sprintf("%.3f", ns / 1000 / a) : "-", u, y }' >>"$OUTDIR/paired.tsv"
            done
            SERVER_PID=""
        done
    done
    paired_table "$OUTDIR/paired.tsv" "${names[0]}" | tee "$OUTDIR/paired.md"
    note "results: $OUTDIR/paired.tsv, $OUTDIR/paired.md"
}

# The table of a paired run: per rate and server, the median CPU per answer (us), the lowest
# answered share, and the per-round ratio to REF: median (quartiles) [range].
paired_table() { # paired.tsv ref
    awk -F'\t' -v ref="$2" '
        function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
        function q(a, n, f,   x) { x = 1 + (n - 1) * f; return a[int(x)] + (x - int(x)) * (a[int(x) + (x > int(x))] - a[int(x)]) }
        NR == 1 { next }
        { cpu[$3, $1, $2] = $7
          if (!(($3, $2) in share) || $6 + 0 < share[$3, $2]) share[$3, $2] = $6 + 0
          if (!($3 in seen_rate)) { seen_rate[$3] = 1; rates[++nr] = $3 }
          if (!($2 in seen_srv)) { seen_srv[$2] = 1; srvs[++ns] = $2 }
          if ($1 > rounds) rounds = $1 }
        END {
          printf "| offered qps | server | CPU us/answer (median) | / %s per round: median (quartiles) [range] | answered (lowest) |\n", ref
          print "|---|---|---|---|---|"
          for (i = 1; i <= nr; i++) for (j = 1; j <= ns; j++) {
            s = srvs[j]; n = m = 0; delete c; delete x
            for (k = 1; k <= rounds; k++) {
              if ((rates[i], k, s) in cpu && cpu[rates[i], k, s] != "-") c[++n] = cpu[rates[i], k, s]
              if (s != ref && (rates[i], k, s) in cpu && (rates[i], k, ref) in cpu && cpu[rates[i], k, ref] > 0 && cpu[rates[i], k, s] != "-")
                x[++m] = cpu[rates[i], k, s] / cpu[rates[i], k, ref] }
            sort(c, n); sort(x, m)
            printf "| %d | %s | %.2f | %s | %.1f%% |\n", rates[i], s, n ? q(c, n, 0.5) : 0,
              m ? sprintf("%.2f (%.2f-%.2f) [%.2f-%.2f], n=%d", q(x, m, 0.5), q(x, m, 0.25), q(x, m, 0.75), x[1], x[m], m) : "-",
              100 * share[rates[i], s] }
        }' "$1"
}

if ((PAIRS > 0)); then
    paired_run
    exit 0
fi
printf 'server\trate\tsent\tanswered\tshare\tcpu_us_per_answer\tuser_ticks\tsys_ticks\n' | tee "$OUTDIR/results.tsv"

make_pair 0
use_pair 0
for name in $SERVERS; do
    case $name in
    meridiand-*) write_meridiand "$name" "$([[ $name == *-xdp ]] && echo yes || echo no)" ;;
    knot-*) write_knot "$name" "$([[ $name == *-xdp ]] && echo yes || echo no)" ;;
    esac
    start "$name"
    if [[ $name == *-xdp ]] && ! ip -n "$NS_S" link show dev "$IF_S" | grep -q xdp; then
        note "$name: no XDP program on $IF_S (see $OUTDIR/$name.log)"
    fi
    for rate in $RATES; do
        perf_start "$name" "$rate"
        read -r u0 s0 <<<"$(server_ticks)"
        thread_ticks >"$WD/threads0"
        out=$(ip netns exec "$NS_C" "$KXDPGUN" -t "$DURATION" -Q "$rate" -F "$GEN_CPU" \
            -I "$IF_C" -i "$WD/queries.txt" "$SRV" 2>&1) || true
        read -r u1 s1 <<<"$(server_ticks)"
        thread_ticks >"$WD/threads1"
        [[ -f $OUTDIR/threads.tsv ]] || printf 'server\trate\ttid\tthread\tuser_ticks\tsys_ticks\n' >"$OUTDIR/threads.tsv"
        awk -v OFS='\t' -v n="$name" -v r="$rate" 'NR == FNR { u[$1] = $3; s[$1] = $4; next }
            ($3 - u[$1]) + ($4 - s[$1]) > 0 { print n, r, $1, $2, $3 - u[$1], $4 - s[$1] }' \
            "$WD/threads0" "$WD/threads1" >>"$OUTDIR/threads.tsv"
        perf_stop
        echo "$out" >"$OUTDIR/$name-$rate.kxdpgun"
        sent=$(sed -n 's/^total queries: *\([0-9]*\).*/\1/p' <<<"$out" | head -1)
        answered=$(sed -n 's/^total replies: *\([0-9]*\).*/\1/p' <<<"$out" | head -1)
        sent=${sent:-0} answered=${answered:-0}
        awk -v n="$name" -v r="$rate" -v s="$sent" -v a="$answered" -v u=$((u1 - u0)) \
            -v y=$((s1 - s0)) -v hz="$CLK_TCK" 'BEGIN {
                printf "%s\t%d\t%d\t%d\t%.3f\t%s\t%d\t%d\n", n, r, s, a, s ? a / s : 0,
                    a ? sprintf("%.2f", (u + y) / hz * 1e6 / a) : "-", u, y }' |
            tee -a "$OUTDIR/results.tsv"
        [[ -z ${XDP_PERF_STAT:-} ]] || perf_counts "$name" "$rate" "$answered"
    done
    stop "$name"
done
note "results: $OUTDIR/results.tsv (kxdpgun outputs and server logs beside it)"
