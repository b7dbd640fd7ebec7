#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Zone transfers of a 1,000,000-record zone (big.test), meridiand beside knotd.
#
#   xfr.sh [-P PHASES] [-r REPS] [-l LAT_S] [-Q QPS] [-n MAX_AXFR] [-o OUTDIR]
#   xfr.sh -R OUTDIR                                re-print the tables of an earlier run
#
# Phases (-P, default "out in lat"):
#   out  each server as the primary of big.test (transfer allowed from 127.0.0.1): one AXFR
#        by dig to nothing but its statistics (records, messages, bytes): wall time, the
#        server's CPU time over the transfer, its peak memory (VmHWM) before and after.
#   in   each server as the secondary of each primary, with nothing on disk: time from the
#        secondary's start until the zone's last name answers (SOA query, AXFR, whatever the
#        server does before serving it), its CPU time and its peak memory at that point.
#   lat  meridiand (2 workers) serving big.test: dnsperf at QPS queries/s (2000) for LAT_S s
#        (20) of random big.test names: idle; while AXFRs of the zone from it run back to
#        back (at most MAX_AXFR, 10, stopped when dnsperf ends; a light client reads them);
#        and (control) while the same AXFRs come from LAT_CONTROL (knot): p50 / p99 / p99.9 /
#        max latency from dnsperf -v, and lost queries. REPS rounds of each (median).
#        LAT_SERVERS (meridiand) may add meridiand-b (MERIDIAND_B) for a before/after.
# REPS (-r, 2): repetitions of out and in; rounds of lat.
# Ports: PORT_BASE (5730) + bench-lib's offsets (meridiand +0, knot +2, secondaries +7, +8).
# Not pinned: every server has the machine's two cores, the clients too (the figures to
# compare are the ratios within a run, and the CPU times).
# Output: Markdown tables on stdout and OUTDIR/xfr.md; raw data in OUTDIR/{out,in,lat}.tsv.
set -euo pipefail
PORT_BASE=${PORT_BASE:-5730}
. "$(dirname "$0")/bench-lib.sh"

PHASES="out in lat" LAT_SERVERS=${LAT_SERVERS:-meridiand} LAT_CONTROL=${LAT_CONTROL:-knot} REPS=2 LAT_S=20 LAT_QPS=2000 MAX_AXFR=10 OUTDIR="" REPORT_ONLY=""
while getopts "P:r:l:Q:n:o:R:h" opt; do
    case $opt in
    P) PHASES=$OPTARG ;;
    r) REPS=$OPTARG ;;
    l) LAT_S=$OPTARG ;;
    Q) LAT_QPS=$OPTARG ;;
    n) MAX_AXFR=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    R) REPORT_ONLY=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done

# ---------------------------------------------------------------------------- report
report() { # outdir
    local d=$1
    if [[ -s $d/out.tsv ]]; then
        echo "### AXFR out: one full transfer of big.test to dig"
        echo
        echo "| primary | records | messages | MB | wall s, median (min-max) | server CPU s | peak MiB before | peak MiB after |"
        echo "|---|---|---|---|---|---|---|---|"
        for s in meridiand knot; do
            awk -F'\t' -v s="$s" 'NR > 1 && $2 == s' "$d/out.tsv" | grep -q . || continue
            read -r wm wl wh < <(awk -F'\t' -v s="$s" 'NR > 1 && $2 == s {print $6 / 1000}' "$d/out.tsv" | stats_line)
            read -r cm _ _ < <(awk -F'\t' -v s="$s" 'NR > 1 && $2 == s {print $7 / 1000}' "$d/out.tsv" | stats_line)
            awk -F'\t' -v s="$s" -v wm="$wm" -v wl="$wl" -v wh="$wh" -v cm="$cm" '
                NR > 1 && $2 == s { r = $3; m = $4; b = $5; h0 = $8; if ($9 > h1) h1 = $9 }
                END { printf "| %s | %d | %d | %.1f | %.2f (%.2f-%.2f) | %.2f | %.0f | %.0f |\n",
                      s, r, m, b / 1e6, wm, wl, wh, cm, h0 / 1024, h1 / 1024 }' "$d/out.tsv"
        done
        echo
    fi
    if [[ -s $d/in.tsv ]]; then
        echo "### AXFR in: a secondary with nothing on disk, from its start to serving the zone's last name"
        echo
        echo "| primary -> secondary | s to serving, median (min-max) | secondary CPU s | secondary peak MiB |"
        echo "|---|---|---|---|"
        awk -F'\t' 'NR > 1 {print $2 "\t" $3}' "$d/in.tsv" | sort -u | while IFS=$'\t' read -r p s; do
            read -r tm tl th < <(awk -F'\t' -v p="$p" -v s="$s" 'NR > 1 && $2 == p && $3 == s {print $4 / 1000}' "$d/in.tsv" | stats_line)
            read -r cm _ _ < <(awk -F'\t' -v p="$p" -v s="$s" 'NR > 1 && $2 == p && $3 == s {print $5 / 1000}' "$d/in.tsv" | stats_line)
            read -r hm _ _ < <(awk -F'\t' -v p="$p" -v s="$s" 'NR > 1 && $2 == p && $3 == s {print $6 / 1024}' "$d/in.tsv" | stats_line)
            printf '| %s -> %s | %.1f (%.1f-%.1f) | %.1f | %.0f |\n' "$p" "${s%-sec}" "$tm" "$tl" "$th" "$cm" "$hm"
        done
        echo
    fi
    if [[ -s $d/lat.tsv ]]; then
        echo "### Query latency idle and during AXFRs of big.test (2 workers)"
        echo
        echo "| server | state | offered qps | answered | lost | AXFRs in the window | p50 ms | p99 ms | p99.9 ms | max ms |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
        awk -F'\t' 'NR > 1 {print $2}' "$d/lat.tsv" | awk '!seen[$0]++' | while read -r srv; do
            for st in idle axfr control; do
                awk -F'\t' -v s="$srv" -v st="$st" 'NR > 1 && $2 == s && $3 == st' "$d/lat.tsv" | grep -q . || continue
                local row c m
                row="| $srv | $st | $(awk -F'\t' 'NR == 2 {print $4}' "$d/lat.tsv")"
                for c in 5 6 7 8 9 10 11; do
                    read -r m _ _ < <(awk -F'\t' -v s="$srv" -v st="$st" -v c="$c" 'NR > 1 && $2 == s && $3 == st {print $c}' "$d/lat.tsv" | stats_line)
                    ((c >= 8)) && m=$(awk -v v="$m" 'BEGIN {printf "%.3f", v / 1000}')
                    row+=" | $m"
                done
                echo "$row |"
            done
        done
        echo
        echo "Medians over rounds; latency of answered queries from dnsperf -v (1 us histogram)."
    fi
}

if [[ -n $REPORT_ONLY ]]; then
    report "$REPORT_ONLY"
    exit 0
fi
if ! [[ $REPS =~ ^[0-9]+$ ]] || ((REPS < 1 || REPS > 10)); then die "reps: 1-10"; fi
if ! [[ $LAT_S =~ ^[0-9]+$ ]] || ((LAT_S < 1 || LAT_S > 120)); then die "latency seconds: 1-120"; fi
if ! [[ $LAT_QPS =~ ^[0-9]+$ ]] || ((LAT_QPS < 1 || LAT_QPS > 50000)); then die "qps: 1-50000"; fi
if ! [[ $MAX_AXFR =~ ^[0-9]+$ ]] || ((MAX_AXFR < 1 || MAX_AXFR > 100)); then die "max AXFRs: 1-100"; fi
command -v dig >/dev/null || die "dig (dnsutils) is needed"
command -v knotd >/dev/null || die "knotd (knot) is needed"

OUTDIR=${OUTDIR:-$BENCH_OUT/runs/xfr-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
ensure_data big
BIG=$BENCH_DATA/big.test.zone
BIG_LAST=$(awk '$1 ~ /^h[0-9]+$/ {n = $1} END {print n}' "$BIG").big.test
READY_TIMEOUT=${READY_TIMEOUT:-600}
SERVER_MAX_LIFE=$((READY_TIMEOUT + 2 * LAT_S * REPS + 900))
AXFR_TIMEOUT=300
WORKERS=1 PRIMARY_PORT=""
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

# Configs: the primaries allow transfers from 127.0.0.1; a NAME-sec is the secondary of the
# server on PRIMARY_PORT, with nothing on disk (a fresh WD each time).
xfr_write_config() { # name wd port origin zonefile
    local name=$1 wd=$2 port=$3 origin=$4 zfile=$5
    case $name in
    meridiand | meridiand-b)
        cat >"$wd/meridian.yaml" <<EOF
server: { listen: ["$BENCH_ADDR:$port"], workers: $WORKERS, log_level: info$(meridiand_rrl "$name") }
zones: [ { origin: $origin, file: $zfile, transfer: { allow: ["127.0.0.1"] } } ]
EOF
        SRV_CMD=("$(find_meridiand "$name")" -c "$wd/meridian.yaml")
        ;;
    meridiand-sec)
        cat >"$wd/meridian.yaml" <<EOF
server: { listen: ["$BENCH_ADDR:$port"], workers: $WORKERS, log_level: info, state_file: "$wd/state"$(meridiand_rrl meridiand) }
zones: [ { origin: $origin, primaries: [ { address: "$BENCH_ADDR:$PRIMARY_PORT" } ] } ]
EOF
        SRV_CMD=("$(find_meridiand meridiand)" -c "$wd/meridian.yaml")
        ;;
    knot)
        write_knot_conf knot "$wd" "$port" "" "acl:
  - id: xfr
    address: $BENCH_ADDR
    action: transfer" "  - domain: $origin
    file: \"$zfile\"
    acl: xfr"
        ;;
    knot-sec)
        write_knot_conf knot "$wd" "$port" "" "remote:
  - id: primary
    address: $BENCH_ADDR@$PRIMARY_PORT
acl:
  - id: notify
    address: $BENCH_ADDR
    action: notify" "  - domain: $origin
    master: primary
    acl: notify
    zonefile-load: none"
        ;;
    *) die "xfr.sh: no transfer config for '$name'" ;;
    esac
}
WRITE_CONFIG=xfr_write_config

# One AXFR of big.test from PORT by dig, printing "records messages bytes" (empty: failed).
axfr_stats() { # port
    timeout "$AXFR_TIMEOUT" dig +tcp +noall +stats +tries=1 +time=30 -p "$1" @"$BENCH_ADDR" big.test AXFR 2>/dev/null |
        sed -n 's/.*XFR size: \([0-9]*\) records (messages \([0-9]*\), bytes \([0-9]*\)).*/\1 \2 \3/p' || true
}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# Is the zone's data right at NAME's port? The first and last names, and a name not there.
spot_check() { # name
    local port out
    port=$(port_of "$1")
    out=$(dq "$port" h0000001.big.test A)
    [[ $out == *"10.0.0.1"* ]] || return 1
    out=$(dq "$port" "$BIG_LAST" AAAA)
    [[ $out == *"status: NOERROR"* && $out == *"2001:db8:"* ]] || return 1
    out=$(dq "$port" nonexistent.big.test A)
    [[ $out == *"status: NXDOMAIN"* ]]
}

NOTES=()
start_primary() { # name rep
    start_server "$1" "$OUTDIR/$1-primary-$2" big.test "$BIG" "$BIG_LAST" "" && spot_check "$1" && return 0
    NOTES+=("rep $2: $1 did not serve big.test as a primary")
    stop_server "$1"
    return 1
}

phase_out() {
    local tsv=$OUTDIR/out.tsv rep s t0 ticks0 hwm0 stats
    printf 'rep\tserver\trecords\tmessages\tbytes\twall_ms\tcpu_ms\thwm_before_kb\thwm_after_kb\n' >"$tsv"
    for ((rep = 1; rep <= REPS; rep++)); do
        for s in meridiand knot; do
            start_primary "$s" "$rep" || continue
            hwm0=$(mem_kb "$s" VmHWM) ticks0=$(cpu_ticks "$s") t0=$(date +%s%N)
            stats=$(axfr_stats "$(port_of "$s")")
            local wall cpu
            wall=$(ms_since "$t0") cpu=$((($(cpu_ticks "$s") - ticks0) * 1000 / CLK_TCK))
            if [[ -z $stats ]]; then
                NOTES+=("rep $rep: the AXFR from $s failed")
            else
                # shellcheck disable=SC2086 # "records messages bytes": three fields
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$s" $stats "$wall" "$cpu" \
                    "$hwm0" "$(mem_kb "$s" VmHWM)" >>"$tsv"
                note "out rep $rep $s: $(tail -1 "$tsv" | cut -f3-)"
            fi
            stop_server "$s"
        done
    done
}

phase_in() {
    local tsv=$OUTDIR/in.tsv rep p s
    printf 'rep\tprimary\tsecondary\tready_ms\tcpu_ms\thwm_kb\n' >"$tsv"
    for ((rep = 1; rep <= REPS; rep++)); do
        for p in knot meridiand; do
            start_primary "$p" "$rep" || continue
            PRIMARY_PORT=$(port_of "$p")
            for s in meridiand-sec knot-sec; do
                if ! start_server "$s" "$OUTDIR/$p-to-$s-$rep" big.test "" "$BIG_LAST" ""; then
                    NOTES+=("rep $rep: $s did not get big.test from $p")
                    continue
                fi
                if spot_check "$s"; then
                    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$p" "$s" "${READY_MS[$s]}" \
                        "$(($(cpu_ticks "$s") * 1000 / CLK_TCK))" "$(mem_kb "$s" VmHWM)" >>"$tsv"
                    note "in rep $rep $p -> $s: $(tail -1 "$tsv" | cut -f4-)"
                else
                    NOTES+=("rep $rep: $s answers wrongly after the transfer from $p")
                fi
                stop_server "$s"
            done
            stop_server "$p"
        done
    done
}

# dnsperf at LAT_QPS for LAT_S s against meridiand; sets LAT_ROW (answered, lost and the
# percentiles, tab-separated; empty if dnsperf failed).
run_dnsperf() { # server state round
    local out
    LAT_ROW=""
    out=$(timeout $((LAT_S + 30)) dnsperf -s "$BENCH_ADDR" -p "$(port_of "$1")" -d "$QFILE" \
        -l "$LAT_S" -Q "$LAT_QPS" -c 4 -q 200 -t 2 -v 2>&1 | dnsperf_pct) || true
    echo "== $1 $2 round $3" >>"$OUTDIR/dnsperf.log"
    echo "$out" >>"$OUTDIR/dnsperf.log"
    local sent ans lost pct
    sent=$(sed -n 's/.*Queries sent: *\([0-9]*\).*/\1/p' <<<"$out")
    ans=$(sed -n 's/.*Queries completed: *\([0-9]*\).*/\1/p' <<<"$out")
    lost=$(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' <<<"$out")
    pct=$(sed -n 's/^PCT p50_us=\([0-9]*\) p99_us=\([0-9]*\) max_us=\([0-9]*\) n=[0-9]* p999_us=\([0-9]*\)$/\1 \2 \4 \3/p' <<<"$out")
    if [[ -z $ans || -z $pct ]]; then
        NOTES+=("round $3: dnsperf ($1, $2) failed")
        return 0
    fi
    LAT_ROW=$(printf '%s\t%s\t%s' "$ans" "$lost" "$(tr ' ' '\t' <<<"$pct")")
}

lat_row() { # round server state axfrs
    [[ -n $LAT_ROW ]] || return 0
    local a b rest
    IFS=$'\t' read -r a b rest <<<"$LAT_ROW"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$LAT_QPS" "$a" "$b" "$4" "$rest" >>"$OUTDIR/lat.tsv"
    note "lat round $1 $2 $3: $(tail -1 "$OUTDIR/lat.tsv" | cut -f4-)"
}

# An AXFR of big.test from PORT read to its end and thrown away: the request, then MESSAGES
# length-prefixed messages read without parsing them (a light client, so that the CPU the
# measurement sees is the server's, not dig's). Exit status 0 when all of them came.
axfr_drain() { # port messages
    timeout "$AXFR_TIMEOUT" python3 - "$BENCH_ADDR" "$1" "$2" <<'PY'
import socket, struct, sys
addr, port, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
q = struct.pack("!HHHHHH", 0x4242, 0, 1, 0, 0, 0) + b"\x03big\x04test\x00" + struct.pack("!HH", 252, 1)
s = socket.create_connection((addr, port), timeout=60)
s.sendall(struct.pack("!H", len(q)) + q)
f = s.makefile("rb", buffering=1 << 20)
for _ in range(want):
    hdr = f.read(2)
    if len(hdr) < 2 or len(f.read(struct.unpack("!H", hdr)[0])) == 0:
        sys.exit(1)
PY
}

# The AXFR load of one latency window: transfers of big.test from PORT back to back (at most
# MAX_AXFR, each bounded by AXFR_TIMEOUT), each finished one a line in DONE; in the
# background, its pid in LOOP_PID.
start_axfr_loop() { # port messages done_file
    : >"$3"
    (for ((i = 0; i < MAX_AXFR; i++)); do axfr_drain "$1" "$2" && echo ok >>"$3"; done) &
    LOOP_PID=$!
}

# Stops the loop by pid (and its children); prints how many transfers ran in the window:
# those finished plus the one still running.
stop_axfr_loop() { # done_file
    local n
    n=$(wc -l <"$1")
    kill -0 "$LOOP_PID" 2>/dev/null && n=$((n + 1))
    # shellcheck disable=SC2046 # a list of pids
    kill -TERM $(descendants "$LOOP_PID") "$LOOP_PID" 2>/dev/null || true
    wait "$LOOP_PID" 2>/dev/null || true
    echo "$n"
}

# Each round, per server of LAT_SERVERS: dnsperf idle; during AXFRs from that server (axfr);
# during AXFRs from LAT_CONTROL, another server on the same machine (control: the same
# client and kernel work, none of it in the measured server, so axfr minus control is what
# the transfer costs the queries through the server itself).
phase_lat() {
    command -v dnsperf >/dev/null || {
        NOTES+=("lat: dnsperf is missing")
        return 0
    }
    QFILE=$BENCH_DATA/queries-big.txt
    [[ -s $QFILE ]] || "$BENCH_DIR/gen-queries.sh" big >/dev/null
    printf 'round\tserver\tstate\tqps\tanswered\tlost\taxfrs\tp50_us\tp99_us\tp999_us\tmax_us\n' >"$OUTDIR/lat.tsv"
    WORKERS=2
    local s round n done_file=$OUTDIR/axfrs-done up=() msgs
    declare -A MSGS=()
    for s in $LAT_SERVERS $LAT_CONTROL; do
        [[ -n ${MSGS[$s]:-} ]] && continue
        start_primary "$s" lat || continue
        # The number of messages of its AXFR, for the light client.
        msgs=$(axfr_stats "$(port_of "$s")" | awk '{print $2}')
        [[ -n $msgs ]] || {
            NOTES+=("lat: no AXFR from $s")
            continue
        }
        MSGS[$s]=$msgs
        [[ " $LAT_SERVERS " == *" $s "* ]] && up+=("$s")
    done
    [[ -n ${MSGS[$LAT_CONTROL]:-} ]] || NOTES+=("lat: no control server ($LAT_CONTROL)")
    for ((round = 1; round <= REPS; round++)); do
        for s in "${up[@]}"; do
            run_dnsperf "$s" idle "$round"
            lat_row "$round" "$s" idle 0
            start_axfr_loop "$(port_of "$s")" "${MSGS[$s]}" "$done_file"
            sleep 1 # the first transfer is under way when the measurement starts
            run_dnsperf "$s" axfr "$round"
            n=$(stop_axfr_loop "$done_file")
            lat_row "$round" "$s" axfr "$n"
            [[ -n ${MSGS[$LAT_CONTROL]:-} && $LAT_CONTROL != "$s" ]] || continue
            start_axfr_loop "$(port_of "$LAT_CONTROL")" "${MSGS[$LAT_CONTROL]}" "$done_file"
            sleep 1
            run_dnsperf "$s" control "$round"
            n=$(stop_axfr_loop "$done_file")
            lat_row "$round" "$s" "control" "$n"
        done
    done
    for s in "${!MSGS[@]}"; do stop_server "$s"; done
    WORKERS=1
}

for ph in $PHASES; do
    case $ph in
    out) phase_out ;;
    in) phase_in ;;
    lat) phase_lat ;;
    *) die "unknown phase '$ph' (out in lat)" ;;
    esac
done
{
    report "$OUTDIR"
    echo
    echo "meridiand $(find_meridiand meridiand), $(knotd --version 2>&1 | head -1), $(dig -v 2>&1 | head -1);" \
        "$(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
    for n in "${NOTES[@]}"; do echo "- note: $n"; done
} | tee "$OUTDIR/xfr.md"
note "raw data: $OUTDIR"
