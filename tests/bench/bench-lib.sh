# shellcheck shell=bash disable=SC2034  # variables here are used by run.sh and mem.sh
# SPDX-License-Identifier: MIT
# Shared helpers for run.sh, geo.sh, mem.sh and dnssec.sh (sourced, not run): server configs,
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
    meridiand-signed) echo $((PORT_BASE + 5)) ;;
    knot-signed) echo $((PORT_BASE + 6)) ;;
    meridiand-sec) echo $((PORT_BASE + 7)) ;; # xfr.sh: the secondaries
    knot-sec) echo $((PORT_BASE + 8)) ;;
    meridiand-b-signed) echo $((PORT_BASE + 9)) ;;
    *) die "unknown server '$1' (known: $ALL_SERVERS meridiand-b meridiand-signed meridiand-b-signed knot-signed)" ;;
    esac
}

# Path of the meridiand binary: $MERIDIAND, else the first executable build output.
# `find_meridiand meridiand-b`: $MERIDIAND_B, a second build measured in the same run as
# the first (before/after a change: same rounds, same load, ratios between them).
# meridiand-signed is the same binary as meridiand, its zones configured with `dnssec`;
# meridiand-b-signed is meridiand-b's binary signing the same way.
find_meridiand() {
    if [[ ${1:-} == meridiand-b || ${1:-} == meridiand-b-signed ]]; then
        [[ -n ${MERIDIAND_B:-} ]] || die "server $1 needs MERIDIAND_B (a meridiand binary)"
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

# meridiand's rate limiting (server.rrl, on by default) is turned off in every bench config:
# the load comes from one address, and the other servers run without theirs (NSD's is set
# to 0 below; Knot and gdnsd have none configured). MERIDIAND_B_NO_RRL=1: meridiand-b is a
# build from before rate limiting, which would refuse the key. MERIDIAND_B_RRL="rrl: {...}":
# meridiand-b's own setting instead (e.g. the same binary with `log_only: true`, to measure
# what rate limiting costs per response without holding any back). MERIDIAND_RRL: the same
# for meridiand (A), e.g. both builds with `log_only: true` to compare two versions of rate
# limiting itself.
meridiand_rrl() { # name -> ", rrl: ..." for a flow-style server mapping, or nothing
    if [[ $1 == meridiand-b* && -n ${MERIDIAND_B_RRL:-} ]]; then
        echo ", $MERIDIAND_B_RRL"
    elif [[ $1 != meridiand-b* && -n ${MERIDIAND_RRL:-} ]]; then
        echo ", $MERIDIAND_RRL"
    elif [[ $1 != meridiand-b* || ${MERIDIAND_B_NO_RRL:-0} != 1 ]]; then
        echo ", rrl: { enabled: false }"
    fi
}

# DNSSEC signing settings of the *-signed servers, the same for each: one ECDSAP256SHA256
# combined signing key (CSK), NSEC3 with no extra iterations and no salt (RFC 9276 §3.1).
# meridiand's `dnssec:` mapping for a zone entry (keys in WD/keys):
meridiand_dnssec() { # wd
    echo "{ enabled: true, algorithm: ecdsap256sha256, keys: csk, nsec3_iterations: 0, nsec3_salt: \"-\", key_directory: \"$1/keys\" }"
}
# Knot's policy section; signing threads: KNOT_SIGNING_THREADS (default 1, Knot's own).
knot_dnssec_policy() {
    cat <<EOF
policy:
  - id: bench
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 0
    signing-threads: ${KNOT_SIGNING_THREADS:-1}
EOF
}
# ... and the lines of its zone template that turn signing on.
KNOT_DNSSEC_TEMPLATE="\
    dnssec-signing: on
    dnssec-policy: bench"

# Writes WD/knot.conf for knot or knot-signed on PORT: one UDP worker (+1 TCP, +1 background),
# the zone template (signing on for knot-signed), SERVER_EXTRA lines in `server:`, EXTRA
# sections before the template (e.g. mod-geoip) and ZONES, the entries of `zone:`.
write_knot_conf() { # name wd port server_extra extra zones
    local policy="" sign=""
    [[ $1 == knot-signed ]] && policy=$(knot_dnssec_policy) sign=$KNOT_DNSSEC_TEMPLATE
    mkdir -p "$2/db" "$2/zones"
    cat >"$2/knot.conf" <<EOF
server:
  rundir: "$2"
  listen: $BENCH_ADDR@$3
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
$4
log:
  - target: stderr
    any: warning
database:
  storage: "$2/db"
$5
$policy
template:
  - id: default
    storage: "$2/zones"
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
    semantic-checks: off
$sign
zone:
$6
EOF
    SRV_CMD=(knotd -c "$2/knot.conf")
}

# Writes NAME's config under WD for ORIGIN/ZONEFILE on PORT (one worker) and sets the
# global array SRV_CMD to the foreground command line.  meridiand-signed and knot-signed
# sign the zone at load (settings above); meridiand-signed logs at info level (its
# "zone X signed: ..." line) and has a control socket, WD/control.sock.
write_config() { # name wd port origin zonefile
    local name=$1 wd=$2 port=$3 origin=$4 zfile=$5
    case $name in
    meridiand | meridiand-b)
        cat >"$wd/meridian.yaml" <<EOF
server: { listen: ["$BENCH_ADDR:$port"], workers: 1, log_level: warning$(meridiand_rrl "$name") }
zones: [ { origin: $origin, file: $zfile } ]
EOF
        SRV_CMD=("$(find_meridiand "$name")" -c "$wd/meridian.yaml")
        ;;
    meridiand-signed | meridiand-b-signed)
        cat >"$wd/meridian.yaml" <<EOF
server: { listen: ["$BENCH_ADDR:$port"], workers: 1, log_level: info, control_socket: "$wd/control.sock"$(meridiand_rrl "$name") }
zones: [ { origin: $origin, file: $zfile, dnssec: $(meridiand_dnssec "$wd") } ]
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
    knot | knot-signed)
        write_knot_conf "$name" "$wd" "$port" "" "" "  - domain: $origin
    file: \"$zfile\""
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

# ---------------------------------------------------------------------------- geo.test
# The steered-name setup of geo.sh, shared with dnssec.sh.

# ECS list + expected answers for DB into PREFIX.{ecs,expect}, unless up to date.
gen_ecs() { # db prefix [csv]
    if [[ ! -s $2.ecs || ! -s $2.expect || $1 -nt $2.ecs || $BENCH_DIR/geo-data.pl -nt $2.ecs ]]; then
        "$BENCH_DIR/geo-data.pl" ecs "$1" "$2" "$NQUERIES" 11 ${3:+"$3"} >&2
    fi
}

# The synthetic GeoIP2-Country database (geo-data.pl mmdb, FILLER random networks) and its
# ECS load of NQUERIES queries: sets GEO_DB, GEO_FLAT=0 and ECS (file prefix).
geo_synth_data() {
    GEO_DB=$BENCH_DATA/geo-synth-$FILLER.mmdb GEO_FLAT=0
    if [[ ! -s $GEO_DB || $BENCH_DIR/geo-data.pl -nt $GEO_DB ]]; then
        "$BENCH_DIR/geo-data.pl" mmdb "$GEO_DB" "$FILLER" >&2 || return 1
    fi
    ECS=$BENCH_DATA/geo-synth-$FILLER-$NQUERIES
    gen_ecs "$GEO_DB" "$ECS" "$GEO_DB.csv"
}

# Known answers from the synthetic database (check_answers format).
GEO_SYNTH_CHECKS="\
geo.test SOA NOERROR hostmaster.geo.test.
geo.test NS NOERROR ns2.geo.test.
www.geo.test A NOERROR addr:192.0.2.1 100.64.1.0/24
www.geo.test A NOERROR addr:192.0.2.1 100.79.255.0/24
www.geo.test A NOERROR addr:192.0.2.2 100.80.1.0/24
www.geo.test A NOERROR addr:192.0.2.2 100.95.255.0/24
www.geo.test A NOERROR addr:192.0.2.3 100.96.1.0/24
www.geo.test A NOERROR addr:192.0.2.3 100.127.255.0/24
www.geo.test A NOERROR addr:192.0.2.3"

# Config writer for start_server (WRITE_CONFIG) of geo.sh and dnssec.sh: geo.test with the
# steered www (GEO_DB; GEO_FLAT=1: a flat country_code database), plus bench.test for the
# static mix; one worker.  meridiand-signed and knot-signed sign both zones (settings as in
# write_config); Knot's mod-geoip loads the zone's keys when the module loads, before a
# first zone load would make them, so keymgr makes them first.
write_geo_config() { # name wd port origin zonefile
    local name=$1 wd=$2 port=$3 gz=$BENCH_DATA/geo.test.zone bz=$BENCH_DATA/bench.test.zone
    case $name in
    meridiand | meridiand-b | meridiand-signed | meridiand-b-signed)
        # www is not in the zone file: the service creates it.  Default lookup paths
        # (country.iso_code, with the flat country_code as fallback).
        local dn="" level=warning
        [[ $name == *-signed ]] && dn=", dnssec: $(meridiand_dnssec "$wd")" level=info
        cat >"$wd/meridian.yaml" <<EOF
server: { listen: ["$BENCH_ADDR:$port"], workers: 1, log_level: $level$(meridiand_rrl "$name") }
geoip: { database: "$GEO_DB" }
zones:
  - { origin: geo.test, file: "$gz"$dn }
  - { origin: bench.test, file: "$bz"$dn }
services:
  www.geo.test:
    ttl: 60
    pools:
      us: { members: [ { address: 192.0.2.1 } ] }
      de: { members: [ { address: 192.0.2.2 } ] }
      other: { members: [ { address: 192.0.2.3 } ] }
    geo: { country: { US: [us], DE: [de] }, default: [other] }
EOF
        SRV_CMD=("$(find_meridiand "$name")" -c "$wd/meridian.yaml")
        ;;
    gdnsd)
        # geoip plugin: the map goes continent > country; ECS is on by default.
        mkdir -p "$wd/etc/zones" "$wd/run" "$wd/state"
        { cat "$gz"; echo "www 60 DYNA geoip!www_geo"; } >"$wd/etc/zones/geo.test"
        ln -sf "$bz" "$wd/etc/zones/bench.test"
        cat >"$wd/etc/config" <<EOF
options => {
  listen => [ $BENCH_ADDR:$port ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => "$wd/run"
  state_dir => "$wd/state"
}
plugins => { geoip => {
  maps => { geo => {
    geoip2_db => "$GEO_DB"
    datacenters => [ us, de, other ]
    map => { default => [ other ], NA => { US => [ us ] }, EU => { DE => [ de ] } }
  } }
  resources => { www_geo => {
    map => geo
    dcmap => { us => 192.0.2.1, de => 192.0.2.2, other => 192.0.2.3 }
  } }
} }
EOF
        SRV_CMD=(gdnsd -c "$wd/etc" start)
        ;;
    knot | knot-signed)
        # mod-geoip, geodb mode: US and DE from the module, everyone else the zone's www.
        { cat "$gz"; echo "www 60 IN A 192.0.2.3"; } >"$wd/geo.test.zone"
        cat >"$wd/geo.conf" <<EOF
www.geo.test:
  - geo: "US"
    A: 192.0.2.1
  - geo: "DE"
    A: 192.0.2.2
EOF
        local key="country/iso_code"
        ((GEO_FLAT)) && key=country_code
        write_knot_conf "$name" "$wd" "$port" "  edns-client-subnet: on" "mod-geoip:
  - id: geo
    config-file: \"$wd/geo.conf\"
    ttl: 60
    mode: geodb
    geodb-file: \"$GEO_DB\"
    geodb-key: [ $key ]" "  - domain: geo.test
    file: \"$wd/geo.test.zone\"
    module: mod-geoip/geo
  - domain: bench.test
    file: \"$bz\""
        if [[ $name == knot-signed ]]; then
            local z
            for z in geo.test. bench.test.; do
                keymgr -c "$wd/knot.conf" "$z" generate algorithm=ecdsap256sha256 ksk=yes zsk=yes \
                    >/dev/null || echo "error: keymgr could not make the key of $z" >&2
            done
        fi
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

# Poll every WAIT_POLL_S (0.02) s until NAME/A answers NOERROR with an answer, up to
# TIMEOUT s.  With WAIT_RRSIG=1 the query sets DO and the answer must carry the A RRset's
# RRSIG (the signed zone is being served).
WAIT_POLL_S=${WAIT_POLL_S:-0.02}
WAIT_RRSIG=${WAIT_RRSIG:-0}
# dig aligns short owner names with tabs and long ones with spaces.
RRSIG_A_RE='[[:space:]]IN[[:space:]]+RRSIG[[:space:]]+A[[:space:]]'
wait_answer() { # port name timeout_s wrapper_pid
    local port=$1 name=$2 deadline=$(($(date +%s) + $3)) pid=$4 out dnssec=()
    ((WAIT_RRSIG)) && dnssec=(+dnssec)
    while (($(date +%s) < deadline)); do
        kill -0 "$pid" 2>/dev/null || return 2
        out=$(dig +norec +tries=1 +time=1 "${dnssec[@]}" -p "$port" @"$BENCH_ADDR" "$name" A 2>/dev/null || true)
        if [[ $out == *"status: NOERROR"* && $out != *"ANSWER: 0,"* && $out == *"ANSWER: "* ]]; then
            ((!WAIT_RRSIG)) && return 0
            [[ $out =~ $RRSIG_A_RE ]] && return 0
        fi
        sleep "$WAIT_POLL_S"
    done
    return 1
}

# With the kernel's autogroup scheduling (kernel.sched_autogroup_enabled=1), nice only ranks
# tasks inside one session: a `nice -n 19` build in another session still gets an equal share
# of the core against a server started with setsid. BENCH_AUTOGROUP_NICE (e.g. -20; root)
# sets the autogroup nice of the harness's session and of each server's session, so that the
# niced work of other sessions yields to the benchmark as it is meant to. The harness first
# moves into a session of its own (setsid), so that only the benchmark's processes (harness,
# load generator, servers) get the setting, not whatever else runs in the caller's session.
# Unset: nothing changes.
autogroup_nice() { # pid
    [[ -n ${BENCH_AUTOGROUP_NICE:-} && -w /proc/$1/autogroup ]] || return 0
    echo "$BENCH_AUTOGROUP_NICE" >"/proc/$1/autogroup" 2>/dev/null ||
        echo "warning: cannot set the autogroup nice of pid $1" >&2
}
if [[ -n ${BENCH_AUTOGROUP_NICE:-} && $(ps -o sid= -p $$ | tr -d ' ') != "$$" ]]; then
    exec setsid -w "$0" "$@"
fi
autogroup_nice $$

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
    autogroup_nice "$pid"
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

# One blast saturation run against SERVER for SECONDS with blast options ARGS, from CPU
# $GEN_CPU, with the accounting around it: sets BLAST_OUT (blast's key=value line, empty if
# it failed) and BLAST_GEN_S (its CPU seconds), and T_* (end_measure).
blast_measure() { # server seconds args...
    local s=$1 secs=$2
    shift 2
    begin_measure "$s"
    BLAST_OUT=$(taskset -c "$GEN_CPU" timeout $((secs + 15)) "$BLAST" -s "$BENCH_ADDR" \
        -p "$(port_of "$s")" "$@" -d "$secs" -c "$BLAST_SOCKETS" -w "$BLAST_WINDOW") || true
    end_measure "$s"
    BLAST_GEN_S=$(awk -v u="$(kv cpu_user_s "$BLAST_OUT")" -v y="$(kv cpu_sys_s "$BLAST_OUT")" 'BEGIN {print u + y}')
}

# Warm-up (WARMUP_S s per item, not recorded), then ROUNDS rounds of BLAST_S s per item
# ("server:mix"), order reversed every other round.  Each run is the calling script's
# `run_one SERVER MIX ROUND SECONDS RECORD(0/1)`, which appends to TSV; the new line is
# shown with the awk program SUMMARY.  A server that died is reported (see LOGDIR/server/).
run_items() { # tsv logdir summary items...
    local tsv=$1 logdir=$2 summary=$3 item s round i n0 order=()
    shift 3
    local items=("$@")
    note "warm-up ${WARMUP_S}s per server and mix; then $ROUNDS rounds of ${BLAST_S}s blast each"
    if ((WARMUP_S > 0)); then
        for item in "${items[@]}"; do run_one "${item%%:*}" "${item#*:}" 0 "$WARMUP_S" 0; done
    fi
    for ((round = 1; round <= ROUNDS; round++)); do
        order=("${items[@]}")
        if ((round % 2 == 0)); then
            order=()
            for ((i = ${#items[@]} - 1; i >= 0; i--)); do order+=("${items[i]}"); done
        fi
        for item in "${order[@]}"; do
            s=${item%%:*}
            kill -0 "${SRV_PID[$s]}" 2>/dev/null || die "$s (pid ${SRV_PID[$s]}) exited; see $logdir/$s/server.log"
            n0=$(wc -l <"$tsv")
            run_one "$s" "${item#*:}" "$round" "$BLAST_S" 1
            note "round $round $item: $(tail -n +$((n0 + 1)) "$tsv" | awk -F'\t' "$summary")"
        done
    done
}

# Filter for `dnsperf -v` output: its "> RCODE name type latency" lines (one per answer) go
# into a 1 us histogram, every other line passes; at the end one line
# "PCT p50_us=N p99_us=N max_us=N n=N p999_us=N" (answers only: lost queries have no line).
dnsperf_pct() {
    awk '
        /^> / { if ($NF ~ /^[0-9.]+$/) { us = int($NF * 1e6); h[us]++; n++; if (us > mx) mx = us }; next }
        { print }
        function pct(p,   acc, i, target) { target = n * p; acc = 0
            for (i = 0; i <= mx; i++) { acc += h[i]; if (acc >= target) return i } return mx }
        END { printf "PCT p50_us=%d p99_us=%d max_us=%d n=%d p999_us=%d\n", pct(0.50), pct(0.99), mx, n, pct(0.999) }'
}

# Median and min-max helpers for report tables (values on stdin, one per line).
stats_line() { sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "- - -"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m, v[1], v[NR] }'; }

# ---------------------------------------------------------------------------- paired slices
# Saturation measured in short interleaved slices (run.sh): every server stays up side by
# side, and each round gives each of them several short blasts ("slices") in a rotating
# order, so all servers of a round meet the same host speed. This VM's speed drifts for
# kernel-heavy work (the same server: 2.2 to 3.5 us per answer in rounds a minute apart),
# which long back-to-back runs per server turn into false differences between servers.
# Server CPU comes from /proc/PID/task/*/schedstat (nanoseconds on the CPU, user and system,
# every thread of every process of the server), not 10 ms ticks, so a 2 s slice resolves well
# under 1%. Blast is the same client for every server: its own CPU per query is recorded per
# slice as a host-speed proxy (a round where it rose too was a slow host, not a slow server).

# Time on the CPU (ns) of every thread of the processes PID...
pids_sched_ns() { # pid...
    local p t a sum=0
    for p in "$@"; do
        for t in /proc/"$p"/task/*/schedstat; do
            read -r a _ <"$t" 2>/dev/null || continue
            sum=$((sum + a))
        done
    done
    echo "$sum"
}

# Time on the CPU (ns) of every thread of NAME's processes.
sched_ns() { # name
    # shellcheck disable=SC2046 # one argument per pid
    pids_sched_ns $(server_pids "$1")
}

# Columns of a slices TSV (slice_record writes one line per slice).
SLICE_COLUMNS="round	slice	pos	item	server	dur_s	sent	answered	lost	server_ns	wall_ns	gen_ns	sbusy_ticks	gbusy_ticks	nxdomain	tc	resp_bytes	us_per_answer	gen_us_per_query	other_server_core_pct"

# One saturation slice against SERVER for SECONDS with blast options ARGS (queries etc.),
# from CPU $GEN_CPU. Sets SLICE_OUT (blast's key=value line; empty if it failed), SLICE_NS
# (server CPU, ns), SLICE_WALL_NS, SLICE_SBUSY / SLICE_GBUSY (busy ticks of the server's and
# the generator's core).
slice_blast() { # server seconds args...
    local s=$1 secs=$2 ns0 sb0 gb0 t0
    shift 2
    ns0=$(sched_ns "$s") sb0=$(busy_ticks "cpu$SERVER_CPU") gb0=$(busy_ticks "cpu$GEN_CPU")
    t0=$(date +%s%N)
    SLICE_OUT=$(taskset -c "$GEN_CPU" timeout $((secs + 15)) "$BLAST" -s "$BENCH_ADDR" \
        -p "$(port_of "$s")" "$@" -d "$secs" -c "$BLAST_SOCKETS" -w "$BLAST_WINDOW") || true
    SLICE_WALL_NS=$(($(date +%s%N) - t0))
    SLICE_NS=$(($(sched_ns "$s") - ns0))
    SLICE_SBUSY=$(($(busy_ticks "cpu$SERVER_CPU") - sb0))
    SLICE_GBUSY=$(($(busy_ticks "cpu$GEN_CPU") - gb0))
}

# Appends the last slice_blast as one line of TSV (columns SLICE_COLUMNS); returns 1 if
# blast failed or nothing was answered.
slice_record() { # tsv round slice pos item server
    local ans
    ans=$(kv answered "$SLICE_OUT")
    ((${ans:-0} > 0)) || return 1
    awk -v OFS='\t' -v r="$2" -v j="$3" -v pos="$4" -v item="$5" -v s="$6" \
        -v d="$(kv duration_s "$SLICE_OUT")" -v sent="$(kv sent "$SLICE_OUT")" -v ans="$ans" \
        -v lost="$(kv lost "$SLICE_OUT")" -v ns="$SLICE_NS" -v w="$SLICE_WALL_NS" \
        -v gu="$(kv cpu_user_s "$SLICE_OUT")" -v gs="$(kv cpu_sys_s "$SLICE_OUT")" \
        -v sb="$SLICE_SBUSY" -v gb="$SLICE_GBUSY" -v nx="$(kv rcode_NXDOMAIN "$SLICE_OUT")" \
        -v tc="$(kv tc "$SLICE_OUT")" \
        -v rb="$(kv avg_resp_bytes "$SLICE_OUT")" -v hz="$CLK_TCK" 'BEGIN {
        gen = (gu + gs) * 1e9; o = 100 * (sb / hz - ns / 1e9) / (w / 1e9)
        print r, j, pos, item, s, d, sent, ans, lost, ns, w, sprintf("%.0f", gen), sb, gb, nx + 0, tc + 0, rb,
            sprintf("%.4f", ns / 1000 / ans), sprintf("%.4f", sent > 0 ? gen / 1000 / sent : 0),
            sprintf("%.1f", o < 0 ? 0 : o) }' >>"$1"
}

# ROUND's slices: SLICES turns of SECONDS each over ITEMS ("server" or "server:mix"), slice j
# starting at item (j + ROUND) mod n, so that every item takes every place in the order
# over the rounds and no server always follows the same one. Each run is the caller's
# `run_slice ITEM ROUND SLICE POS SECONDS`. A server that died is reported.
paired_slices() { # round slices seconds items...
    local round=$1 nsl=$2 secs=$3 j k n item
    shift 3
    local items=("$@")
    n=${#items[@]}
    for ((j = 1; j <= nsl; j++)); do
        for ((k = 0; k < n; k++)); do
            item=${items[(j + round + k) % n]}
            kill -0 "${SRV_PID[${item%%:*}]}" 2>/dev/null ||
                die "${item%%:*} (pid ${SRV_PID[${item%%:*}]}) exited"
            run_slice "$item" "$round" "$j" "$((k + 1))" "$secs"
        done
    done
}

# Sums of ROUND's slices of ITEM in a slices TSV, as "key=value ..." (kv): slices, dur_s,
# sent, answered, lost, server_ns, wall_ns, gen_ns, sbusy_ticks, gbusy_ticks, nxdomain, tc,
# resp_bytes (answer-weighted mean); nothing if there were none.
slices_sum() { # tsv round item
    awk -F'\t' -v r="$2" -v it="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["round"] == r && $c["item"] == it { n++
            for (k in c) if (k != "round" && k != "slice" && k != "pos" && k != "item" && k != "server") S[k] += $c[k]
            rb += $c["resp_bytes"] * $c["answered"] }
        END { if (!n) exit
            printf "slices=%d dur_s=%.3f sent=%.0f answered=%.0f lost=%.0f server_ns=%.0f wall_ns=%.0f gen_ns=%.0f sbusy_ticks=%.0f gbusy_ticks=%.0f nxdomain=%.0f tc=%.0f resp_bytes=%.1f\n",
                n, S["dur_s"], S["sent"], S["answered"], S["lost"], S["server_ns"], S["wall_ns"], S["gen_ns"],
                S["sbusy_ticks"], S["gbusy_ticks"], S["nxdomain"], S["tc"], S["answered"] ? rb / S["answered"] : 0 }' "$1"
}
