# shellcheck shell=bash disable=SC2034  # variables here are used by run.sh and mem.sh
# SPDX-License-Identifier: MIT
# Shared helpers for run.sh, geo.sh and mem.sh (sourced, not run): server configs,
# start/stop by pid, readiness, CPU pinning, CPU and memory accounting from /proc.
#
# Every server is started as: setsid taskset -c CPU timeout MAXLIFE <server in foreground>,
# so even if the harness itself is killed, no server outlives SERVER_MAX_LIFE seconds.
# The harness only ever signals the pids it started (the timeout wrapper, which forwards
# the signal) and, if they do not exit, their own descendants.

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
REPO_ROOT=${REPO_ROOT:-$(cd "$BENCH_DIR/../.." && pwd)}
BENCH_OUT=${BENCH_OUT:-/tmp/meridian-bench}
BENCH_DATA=$BENCH_OUT/data
BENCH_ADDR=127.0.0.1
PORT_BASE=${PORT_BASE:-5460}
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
SERVER_MAX_LIFE=${SERVER_MAX_LIFE:-3600}
READY_TIMEOUT=${READY_TIMEOUT:-120}
CLK_TCK=$(getconf CLK_TCK)
ALL_SERVERS="meridiand gdnsd knot nsd"
export BENCH_OUT

declare -A SRV_PID=() READY_MS=()

die() {
    echo "error: $*" >&2
    exit 1
}
note() { echo "# $*" >&2; }

port_of() {
    case $1 in
    meridiand) echo $((PORT_BASE + 0)) ;;
    gdnsd) echo $((PORT_BASE + 1)) ;;
    knot) echo $((PORT_BASE + 2)) ;;
    nsd) echo $((PORT_BASE + 3)) ;;
    meridiand-b) echo $((PORT_BASE + 4)) ;;
    *) die "unknown server '$1' (known: $ALL_SERVERS)" ;;
    esac
}

# Path of the meridiand binary: $MERIDIAND, else the first executable build output.
# `find_meridiand meridiand-b`: $MERIDIAND_B, a second build measured in the same run as
# the first (before/after a change: same rounds, same load, ratios between them).
find_meridiand() {
    if [[ ${1:-} == meridiand-b ]]; then
        [[ -n ${MERIDIAND_B:-} ]] || die "server meridiand-b needs MERIDIAND_B (a meridiand binary)"
        echo "$MERIDIAND_B"
        return
    fi
    if [[ -n ${MERIDIAND:-} ]]; then
        echo "$MERIDIAND"
        return
    fi
    local c
    for c in "$REPO_ROOT"/build-bench/src/meridiand "$REPO_ROOT"/build/src/meridiand \
        "$REPO_ROOT"/build*/src/meridiand; do
        [[ -x $c ]] && {
            echo "$c"
            return
        }
    done
    echo "$REPO_ROOT/build/src/meridiand"
}

# Make sure data files exist (generated once; delete $BENCH_DATA to regenerate).
ensure_data() { # kinds...
    local k
    for k in "$@"; do
        case $k in
        queries) [[ -s $BENCH_DATA/queries.txt ]] || "$BENCH_DIR/gen-queries.sh" >/dev/null ;;
        *) [[ -s $BENCH_DATA/$k.test.zone ]] || "$BENCH_DIR/gen-zone.sh" "$k" >/dev/null ;;
        esac
    done
}

# Number of resource records in a generated zone file.
zone_records() { grep -cv '^[$;]' "$1"; }

# Build blast from source into $BENCH_OUT/bin when missing or older than the source.
build_blast() {
    BLAST=$BENCH_OUT/bin/blast
    mkdir -p "$BENCH_OUT/bin"
    if [[ ! -x $BLAST || $BENCH_DIR/blast.c -nt $BLAST ]]; then
        ${CC:-cc} -O2 -Wall -Wextra -o "$BLAST" "$BENCH_DIR/blast.c" || die "cannot build blast"
    fi
}

port_free() { [[ -z $(ss -Hlun "sport = :$1" 2>/dev/null) ]]; }

# Writes NAME's config under WD for ORIGIN/ZONEFILE on PORT (one worker) and sets the
# global array SRV_CMD to the foreground command line.
write_config() { # name wd port origin zonefile
    local name=$1 wd=$2 port=$3 origin=$4 zfile=$5
    case $name in
    meridiand | meridiand-b)
        cat >"$wd/meridian.yaml" <<EOF
server: { listen: ["$BENCH_ADDR:$port"], workers: 1, log_level: warning }
zones: [ { origin: $origin, file: $zfile } ]
EOF
        SRV_CMD=("$(find_meridiand "$name")" -c "$wd/meridian.yaml")
        ;;
    gdnsd)
        # gdnsd 3: a config dir with config + zones/<origin>; "start" stays in the foreground.
        mkdir -p "$wd/etc/zones" "$wd/run" "$wd/state"
        ln -sf "$zfile" "$wd/etc/zones/$origin"
        cat >"$wd/etc/config" <<EOF
options => {
  listen => [ $BENCH_ADDR:$port ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => $wd/run
  state_dir => $wd/state
}
EOF
        SRV_CMD=(gdnsd -c "$wd/etc" start)
        ;;
    knot)
        mkdir -p "$wd/db" "$wd/zones"
        cat >"$wd/knot.conf" <<EOF
server:
  rundir: "$wd"
  listen: $BENCH_ADDR@$port
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
log:
  - target: stderr
    any: warning
database:
  storage: "$wd/db"
template:
  - id: default
    storage: "$wd/zones"
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
    semantic-checks: off
zone:
  - domain: $origin
    file: "$zfile"
EOF
        SRV_CMD=(knotd -c "$wd/knot.conf")
        ;;
    nsd)
        # rrl-ratelimit 0: Debian's NSD rate-limits to 200 qps per /24 by default, which
        # would drop most of a loopback benchmark.  database "": parse the zone file.
        cat >"$wd/nsd.conf" <<EOF
server:
    ip-address: $BENCH_ADDR@$port
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$wd"
    database: ""
    zonelistfile: "$wd/zone.list"
    xfrdfile: "$wd/xfrd.state"
    xfrdir: "$wd"
    pidfile: "$wd/nsd.pid"
    logfile: "$wd/nsd.log"
    verbosity: 0
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: $origin
    zonefile: "$zfile"
EOF
        SRV_CMD=(nsd -d -c "$wd/nsd.conf")
        ;;
    *) die "unknown server '$name'" ;;
    esac
}

# pids of PID's descendants (not PID itself), depth first.
descendants() {
    local c
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$c"
        descendants "$c"
    done
}

# The server's own processes: everything below the timeout wrapper.
server_pids() { descendants "${SRV_PID[$1]}"; }

# One dig query, optionally with an EDNS Client Subnet option; prints dig's full output.
# Loopback only, one try.
dq() { # port name type [subnet]
    local ecs=()
    [[ -n ${4:-} ]] && ecs=(+subnet="$4")
    dig +norec +tries=1 +time=1 "${ecs[@]}" -p "$1" @"$BENCH_ADDR" "$2" "$3" 2>/dev/null || true
}

# Poll every 20 ms until NAME/A answers NOERROR with an answer, up to TIMEOUT s.
wait_answer() { # port name timeout_s wrapper_pid
    local port=$1 name=$2 deadline=$(($(date +%s) + $3)) pid=$4 out
    while (($(date +%s) < deadline)); do
        kill -0 "$pid" 2>/dev/null || return 2
        out=$(dq "$port" "$name" A)
        [[ $out == *"status: NOERROR"* && $out != *"ANSWER: 0,"* && $out == *"ANSWER: "* ]] && return 0
        sleep 0.02
    done
    return 1
}

# Start NAME on its port serving ORIGIN from ZONEFILE, wait until READY_NAME answers.
# PIN (cpu list, may be empty) is applied with taskset and re-applied to every thread
# after start (knotd pins its UDP workers itself, overriding the inherited mask).
# Sets SRV_PID[name] (the wrapper pid) and READY_MS[name]; returns 1 on failure.
start_server() { # name wd origin zonefile ready_name pin
    local name=$1 wd=$2 origin=$3 zfile=$4 ready=$5 pin=$6 port t0 pid rc
    port=$(port_of "$name")
    mkdir -p "$wd"
    port_free "$port" || {
        echo "error: port $port (for $name) is in use" >&2
        return 1
    }
    # WRITE_CONFIG: the config writer (same arguments as write_config; geo.sh sets its own).
    "${WRITE_CONFIG:-write_config}" "$name" "$wd" "$port" "$origin" "$zfile"
    if [[ $name == meridiand* && ! -x ${SRV_CMD[0]} ]]; then
        echo "error: $name binary ${SRV_CMD[0]} not found" >&2
        return 1
    fi
    local taskset_cmd=()
    [[ -n $pin ]] && taskset_cmd=(taskset -c "$pin")
    t0=$(date +%s%N)
    setsid "${taskset_cmd[@]}" timeout -s TERM "$SERVER_MAX_LIFE" "${SRV_CMD[@]}" \
        >"$wd/server.log" 2>&1 </dev/null &
    pid=$!
    SRV_PID[$name]=$pid
    rc=0
    wait_answer "$port" "$ready" "$READY_TIMEOUT" "$pid" || rc=$?
    if ((rc != 0)); then
        echo "error: $name on port $port not ready (rc=$rc); last log lines:" >&2
        tail -5 "$wd/server.log" >&2
        stop_server "$name"
        return 1
    fi
    READY_MS[$name]=$((($(date +%s%N) - t0) / 1000000))
    if [[ -n $pin ]]; then
        local p
        for p in $(server_pids "$name"); do
            taskset -a -p -c "$pin" "$p" >/dev/null 2>&1 || true
        done
        check_pinned "$name" "$pin" || return 1
    fi
    return 0
}

# Verify that every thread of NAME is restricted to the cpu list PIN.
check_pinned() { # name pin
    local p t want=$2 got bad=0
    for p in $(server_pids "$1"); do
        for t in /proc/"$p"/task/*; do
            got=$(taskset -c -p "${t##*/}" 2>/dev/null | sed 's/.*: //')
            [[ -n $got && $got != "$want" ]] && bad=1 &&
                echo "error: $1 thread ${t##*/} has affinity $got, want $want" >&2
        done
    done
    return $bad
}

# TERM to the wrapper (timeout forwards it to the server); KILL the server's own
# processes if they are still there after 10 s.
stop_server() { # name
    local name=$1 pid=${SRV_PID[$1]:-} tree p alive
    [[ -z $pid ]] && return 0
    unset "SRV_PID[$name]"
    tree="$pid $(descendants "$pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        alive=0
        for p in $tree; do kill -0 "$p" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for p in $tree; do kill -KILL "$p" 2>/dev/null || true; done
    wait "$pid" 2>/dev/null || true
    return 0
}

stop_all() {
    local n
    for n in "${!SRV_PID[@]}"; do stop_server "$n"; done
}

# utime + stime (clock ticks) summed over NAME's processes (all threads included).
cpu_ticks() { # name
    local p sum=0 f
    for p in $(server_pids "$1"); do
        f=$(cat /proc/"$p"/stat 2>/dev/null) || continue
        f=${f##*) } # fields after "(comm) "; utime, stime are fields 14, 15
        read -r -a a <<<"$f"
        sum=$((sum + a[11] + a[12]))
    done
    echo "$sum"
}

# Busy ticks of one CPU ("cpu1") or of the whole machine ("cpu") from /proc/stat.
busy_ticks() { # cpu|cpuN
    awk -v c="$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat
}

# Sum of a field (kB) over NAME's processes: smaps_rollup Pss/Rss, or status VmHWM (max).
mem_kb() { # name Pss|Rss|VmHWM
    local p v sum=0
    for p in $(server_pids "$1"); do
        if [[ $2 == VmHWM ]]; then
            v=$(awk '/^VmHWM:/ {print $2}' /proc/"$p"/status 2>/dev/null)
            ((${v:-0} > sum)) && sum=$v
        else
            v=$(awk -v k="$2:" '$1 == k {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null)
            sum=$((sum + ${v:-0}))
        fi
    done
    echo "$sum"
}

# Correctness check against bench.test: each line is
#   qname qtype rcode expect [subnet]
# expect: "-" empty answer; "ref:X" empty answer and X in the authority section;
# "addr:X" the answer's A/AAAA addresses are exactly X; otherwise a string that must
# appear in the answer section.  subnet: send it as EDNS Client Subnet (dig +subnet).
BENCH_CHECKS="\
host0001.bench.test A NOERROR 198.18.0.1
host0500.bench.test AAAA NOERROR 2001:db8:1::1f4
bench.test SOA NOERROR hostmaster.bench.test.
bench.test MX NOERROR mail.bench.test.
bench.test NS NOERROR ns2.bench.test.
bench.test TXT NOERROR v=spf1
www.bench.test A NOERROR host0001.bench.test.
www.bench.test CNAME NOERROR host0001.bench.test.
abc.wild.bench.test A NOERROR 192.0.2.80
_sip._udp.bench.test SRV NOERROR 5060
nx12345678.bench.test A NXDOMAIN -
x1.host0007.bench.test A NXDOMAIN -
host0007.bench.test MX NOERROR -
mail.bench.test AAAA NOERROR -
www.sub.bench.test A NOERROR ref:ns1.sub.bench.test."

# Runs CHECKS (default BENCH_CHECKS) against NAME; prints failures; returns their number.
check_answers() { # name [checks]
    local port fails=0 qn qt rc exp sub out ans auth
    port=$(port_of "$1")
    while read -r qn qt rc exp sub; do
        out=$(dq "$port" "$qn" "$qt" "$sub")
        ans=$(sed -n '/;; ANSWER SECTION:/,/^$/p' <<<"$out")
        auth=$(sed -n '/;; AUTHORITY SECTION:/,/^$/p' <<<"$out")
        local ok=1
        [[ $out == *"status: $rc,"* ]] || ok=0
        case $exp in
        -) [[ -z $ans ]] || ok=0 ;;
        ref:*) [[ -z $ans && $auth == *"${exp#ref:}"* ]] || ok=0 ;;
        addr:*) [[ $(awk '$4 == "A" || $4 == "AAAA" {printf "%s ", $5}' <<<"$ans") == "${exp#addr:} " ]] || ok=0 ;;
        *) [[ $ans == *"$exp"* ]] || ok=0 ;;
        esac
        if ((!ok)); then
            fails=$((fails + 1))
            echo "  $1: $qn $qt${sub:+ (ECS $sub)}: want $rc '$exp', got: $(grep -o 'status: [A-Z]*' <<<"$out" || echo 'no answer') $(tr '\n\t' '  ' <<<"$ans" | tr -s ' ')" >&2
        fi
    done <<<"${2:-$BENCH_CHECKS}"
    return $fails
}

# Value of KEY in a line of key=value pairs (blast's output).
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# Accounting around one load run: server CPU ticks, busy ticks of the server's and the
# generator's core, wall time; end_measure sets T_TICKS, T_SBUSY, T_GBUSY, T_WALL (s).
begin_measure() { # server
    T_TICKS0=$(cpu_ticks "$1")
    T_SBUSY0=$(busy_ticks "cpu$SERVER_CPU")
    T_GBUSY0=$(busy_ticks "cpu$GEN_CPU")
    T_NS0=$(date +%s%N)
}
end_measure() { # server
    T_TICKS=$(($(cpu_ticks "$1") - T_TICKS0))
    T_SBUSY=$(($(busy_ticks "cpu$SERVER_CPU") - T_SBUSY0))
    T_GBUSY=$(($(busy_ticks "cpu$GEN_CPU") - T_GBUSY0))
    T_WALL=$(awk -v a="$T_NS0" -v b="$(date +%s%N)" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
}

# Median and min-max helpers for report tables (values on stdin, one per line).
stats_line() { sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "- - -"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m, v[1], v[NR] }'; }
