#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Health checks at scale: meridiand with MEMBERS (5,000) health targets probed every INTERVAL
# (5 s), for about RUN_S (60) s: probe start lateness from `meridianctl status`, and the CPU
# per answered query of a steered name with and without those checks running.
#
#   health-scale.sh [-m MEMBERS] [-i INTERVAL_S] [-t RUN_S] [-H HTTP_PCT] [-Q QPS]
#                   [-l LOAD_S] [-I IDLE_S] [-r ROUNDS] [-o OUTDIR]
#
# Targets (every one a distinct (address, check) pair):
#   * (100 - HTTP_PCT)% TCP checks (`tcp`, one port) on addresses 127.20.0.1.. spread over
#     /24s of 250 addresses (5,000 members: 18 /24s); only 127.0.0.1 has a listener on that
#     port (a python accept-and-close loop bound to 127.0.0.1), so these connections are
#     refused at once (RST) and the members are down, which is what a probe costs anyway;
#   * HTTP_PCT% (10, at most 10) HTTP checks against two `python3 -m http.server` bound to
#     127.0.0.1 (half on each port): one check definition per member (`h0`, `h1`, ... each
#     with its own path), all at 127.0.0.1, so they are distinct targets that answer 200;
#   * grouped into services `sNNN.scale.test` of 5 pools x 10 members (a pool lists an
#     address once, so each pool has at most one 127.0.0.1 member).
# The steered name `www.scale.test` (weighted; 127.0.0.1 with a TCP check, up, and
# 127.30.0.2, refused, down) is the same in both configurations; "without" keeps every
# service and member but drops their `check:` keys, so nothing else differs.
#
# Per round: (a) "with": meridiand (one worker, every thread on CPU $SERVER_CPU) with the
# checks; IDLE_S (10) s without queries (the health thread's own CPU), then dnsperf -Q QPS
# (20000) for LOAD_S (20) s from CPU $GEN_CPU on www.scale.test A, then idle until RUN_S (60)
# s after start; then `meridianctl status` (probes started, lateness p50/p99/max, health
# counts) and `states`. (b) "without": the same without the checks, IDLE_S and LOAD_S again.
# Reported: server CPU us per answered query (all threads, from /proc), both runs and their
# ratio; the idle CPU % (what the checks cost with no queries); and "query path" us/query =
# (CPU during the load - idle rate x load time) / answers, to see whether the checks slow the
# query path itself (the health table is one array read per member).
#
# Not part of ctest. Everything is bounded: meridiand, the listeners and dnsperf run under
# `timeout`; an exit trap stops every process this script started, by pid. Loopback only.
# Env: MERIDIAND (default build-bench/src/meridiand, else build/...), MERIDIANCTL (default:
# next to meridiand), BENCH_OUT (/tmp/meridian-bench), PORT_BASE (5480: DNS +0, HTTP +1/+2,
# TCP +3), SERVER_CPU (1), GEN_CPU (0).
set -euo pipefail
PORT_BASE=${PORT_BASE:-5480}
. "$(dirname "$0")/bench-lib.sh"

MEMBERS=5000 INTERVAL_S=5 RUN_S=60 HTTP_PCT=10 QPS=20000 LOAD_S=20 IDLE_S=10 ROUNDS=1 OUTDIR=""
while getopts "m:i:t:H:Q:l:I:r:o:h" opt; do
    case $opt in
    m) MEMBERS=$OPTARG ;;
    i) INTERVAL_S=$OPTARG ;;
    t) RUN_S=$OPTARG ;;
    H) HTTP_PCT=$OPTARG ;;
    Q) QPS=$OPTARG ;;
    l) LOAD_S=$OPTARG ;;
    I) IDLE_S=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
for v in MEMBERS INTERVAL_S RUN_S HTTP_PCT QPS LOAD_S IDLE_S ROUNDS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done
((MEMBERS >= 100 && MEMBERS <= 50000)) || die "-m: 100-50000 members"
((INTERVAL_S >= 1 && INTERVAL_S <= 60)) || die "-i: 1-60 s"
((HTTP_PCT <= 10)) || die "-H: 0-10 % (one HTTP member per pool of 10)"
((QPS >= 100 && QPS <= 200000)) || die "-Q: 100-200000 qps"
((LOAD_S >= 2 && LOAD_S <= 120 && IDLE_S >= 2 && IDLE_S <= 60)) || die "-l 2-120, -I 2-60 s"
((RUN_S >= IDLE_S + LOAD_S + 5 && RUN_S <= 600)) || die "-t: IDLE_S + LOAD_S + 5 .. 600 s"
((ROUNDS >= 1 && ROUNDS <= 5)) || die "-r: 1-5 rounds"
[[ $SERVER_CPU =~ ^[0-9]+$ && $GEN_CPU =~ ^[0-9]+$ && $SERVER_CPU != "$GEN_CPU" ]] ||
    die "SERVER_CPU and GEN_CPU must be two different single CPU numbers"
command -v dnsperf >/dev/null || die "dnsperf not found (Debian package dnsperf)"
command -v python3 >/dev/null || die "python3 not found"

MERIDIAND_BIN=$(find_meridiand)
[[ -x $MERIDIAND_BIN ]] || die "meridiand not found: $MERIDIAND_BIN (set MERIDIAND)"
MERIDIANCTL=${MERIDIANCTL:-$(dirname "$MERIDIAND_BIN")/meridianctl}
[[ -x $MERIDIANCTL ]] || die "meridianctl not found: $MERIDIANCTL (set MERIDIANCTL)"

DNS_PORT=$(port_of meridiand)
HTTP1=$((PORT_BASE + 1)) HTTP2=$((PORT_BASE + 2)) TCP_PORT=$((PORT_BASE + 3))
for p in "$HTTP1" "$HTTP2" "$TCP_PORT"; do
    [[ -z $(ss -Hltn "sport = :$p" 2>/dev/null) ]] || die "TCP port $p is in use (set PORT_BASE)"
done
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/health-scale-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
N_HTTP=$((MEMBERS * HTTP_PCT / 100))
N_TCP=$((MEMBERS - N_HTTP))
SERVER_MAX_LIFE=$((RUN_S + IDLE_S + LOAD_S + 120))
HELPER_LIFE=$((ROUNDS * (RUN_S + IDLE_S + LOAD_S + 120) + 120))

# ---------------------------------------------------------------------------- helpers
HELPER_PIDS=()
cleanup() {
    stop_all
    local p
    for p in "${HELPER_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${HELPER_PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
taskset -p -c "$GEN_CPU" $$ >/dev/null

# The TCP listener: accepts on 127.0.0.1 only and closes at once; bounded by `timeout`.
start_helpers() {
    mkdir -p "$OUTDIR/www"
    echo ok >"$OUTDIR/www/index.html"
    taskset -c "$GEN_CPU" timeout -s TERM "$HELPER_LIFE" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1024)
while True:
    c, _ = s.accept()
    c.close()
' "$TCP_PORT" >"$OUTDIR/tcp-listener.log" 2>&1 &
    HELPER_PIDS+=($!)
    local p
    for p in "$HTTP1" "$HTTP2"; do
        taskset -c "$GEN_CPU" timeout -s TERM "$HELPER_LIFE" python3 -m http.server \
            --bind 127.0.0.1 --directory "$OUTDIR/www" "$p" >"$OUTDIR/http-$p.log" 2>&1 &
        HELPER_PIDS+=($!)
    done
    local _
    for _ in $(seq 1 100); do
        [[ -n $(ss -Hltn "sport = :$TCP_PORT" 2>/dev/null) &&
            -n $(ss -Hltn "sport = :$HTTP1" 2>/dev/null) &&
            -n $(ss -Hltn "sport = :$HTTP2" 2>/dev/null) ]] && return 0
        sleep 0.1
    done
    die "the TCP/HTTP listeners did not start (see $OUTDIR/*.log)"
}

# Zone and the two configurations (checks on / off): see the awk program below for the
# member layout.
write_zone() {
    cat >"$OUTDIR/scale.test.zone" <<EOF
\$ORIGIN scale.test.
\$TTL 3600
@   IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@   IN NS  ns1
ns1 IN A   127.0.0.1
EOF
}

write_scale_config() { # file with_checks(0/1) wd
    local f=$1 with=$2 wd=$3
    awk -v with="$with" -v n="$MEMBERS" -v nh="$N_HTTP" -v iv="$INTERVAL_S" \
        -v dport="$DNS_PORT" -v h1="$HTTP1" -v h2="$HTTP2" -v tport="$TCP_PORT" \
        -v zone="$OUTDIR/scale.test.zone" -v wd="$wd" '
    BEGIN {
        print "server:"
        printf "  listen: [\"127.0.0.1:%d\"]\n  workers: 1\n  log_level: warning\n", dport
        printf "  control_socket: \"%s/ctl.sock\"\n", wd
        print "  rrl: { enabled: false }"
        print "health: { startup_wait: 30s }"
        printf "zones: [ { origin: scale.test, file: \"%s\" } ]\n", zone
        print "checks:"
        printf "  tcp: { type: tcp, port: %d, interval: %ds, timeout: 2s, rise: 2, fall: 3 }\n", tport, iv
        for (i = 0; i < nh && with; i++)
            printf "  h%d: { type: http, port: %d, path: /?m=%d, interval: %ds, timeout: 2s }\n",
                i, (i % 2 ? h2 : h1), i, iv
        print "services:"
        print "  www.scale.test:"
        print "    ttl: 30"
        print "    select: weighted"
        print "    pools:"
        print "      main:"
        print "        members:"
        print "          - { address: 127.0.0.1, check: tcp }"
        print "          - { address: 127.30.0.2, check: tcp }"
        # Services of 5 pools x 10 members; the first member of pool j is 127.0.0.1 with
        # check h<j> for j < nh (one per pool: a pool cannot list an address twice).
        k = 0
        for (j = 0; j * 10 < n; j++) {
            if (j % 5 == 0)
                printf "  s%03d.scale.test:\n    select: all\n    pools:\n", j / 5
            printf "      p%d:\n        members:\n", j % 5
            for (i = 0; i < 10 && j * 10 + i < n; i++) {
                if (i == 0 && j < nh) {
                    addr = "127.0.0.1"; chk = "h" j
                } else {
                    addr = sprintf("127.20.%d.%d", int(k / 250), k % 250 + 1); chk = "tcp"; k++
                }
                if (with)
                    printf "          - { address: %s, check: %s }\n", addr, chk
                else
                    printf "          - { address: %s }\n", addr
            }
        }
    }' >"$f"
}

# WRITE_CONFIG hook for bench-lib start_server: SCALE_MODE picks the configuration.
SCALE_MODE=with
write_scale() { # name wd port origin zonefile
    write_scale_config "$2/meridian.yaml" "$([[ $SCALE_MODE == with ]] && echo 1 || echo 0)" "$2"
    SRV_CMD=("$MERIDIAND_BIN" -c "$2/meridian.yaml")
}

# dnsperf -Q QPS for LOAD_S s on www.scale.test A; sets LOAD_ANS, LOAD_TICKS, LOAD_WALL.
run_load() { # label
    local out
    begin_measure meridiand
    out=$(taskset -c "$GEN_CPU" timeout $((LOAD_S + 20)) dnsperf -s 127.0.0.1 -p "$DNS_PORT" \
        -d "$OUTDIR/query.txt" -l "$LOAD_S" -Q "$QPS" -c 16 -q 500 -t 2 2>&1) || true
    end_measure meridiand
    printf '== %s\n%s\n' "$1" "$out" >>"$OUTDIR/dnsperf.log"
    LOAD_ANS=$(sed -n 's/.*Queries completed: *\([0-9]*\).*/\1/p' <<<"$out")
    LOAD_TICKS=$T_TICKS LOAD_WALL=$T_WALL
    [[ -n $LOAD_ANS && $LOAD_ANS -gt 0 ]] || die "dnsperf failed ($1), see $OUTDIR/dnsperf.log"
}

# Idle CPU (no queries) over IDLE_S s; sets IDLE_TICKS, IDLE_WALL.
run_idle() {
    begin_measure meridiand
    sleep "$IDLE_S"
    end_measure meridiand
    IDLE_TICKS=$T_TICKS IDLE_WALL=$T_WALL
}

ctl() { timeout 60 "$MERIDIANCTL" -s "$1/ctl.sock" "${@:2}"; }

# ---------------------------------------------------------------------------- run
write_zone
echo "www.scale.test A" >"$OUTDIR/query.txt"
start_helpers
WRITE_CONFIG=write_scale
TSV=$OUTDIR/results.tsv
printf 'round\tmode\tready_ms\tidle_cpu_pct\tload_s\tanswered\tanswered_qps\tload_cpu_pct\tus_per_query\tquery_path_us\tprobes\tlate_p50_ms\tlate_p99_ms\tlate_max_ms\tup\tdown\tunknown\n' >"$TSV"
note "meridiand: $MERIDIAND_BIN; $MEMBERS members ($N_TCP tcp, $N_HTTP http) every ${INTERVAL_S}s; dnsperf -Q $QPS for ${LOAD_S}s; $ROUNDS round(s), about $((ROUNDS * (RUN_S + IDLE_S + LOAD_S + 10))) s"

for round in $(seq 1 "$ROUNDS"); do
    for mode in with without; do
        SCALE_MODE=$mode
        wd=$OUTDIR/r$round-$mode
        t0=$(date +%s)
        start_server meridiand "$wd" scale.test "$OUTDIR/scale.test.zone" www.scale.test \
            "$SERVER_CPU" || die "meridiand ($mode checks) did not start; see $wd/server.log"
        note "round $round, $mode checks: ready in ${READY_MS[meridiand]} ms"
        run_idle
        run_load "round $round $mode"
        probes="" p50="" p99="" pmax="" up="" down="" unknown=""
        if [[ $mode == with ]]; then
            left=$((t0 + RUN_S - $(date +%s)))
            ((left > 0)) && sleep "$left"
            st=$(ctl "$wd" status || true)
            ctl "$wd" states >"$wd/states.txt" 2>&1 || true
            echo "$st" >"$wd/status.txt"
            read -r probes p50 p99 pmax < <(sed -n 's/^probes: \([0-9]*\) started, lateness p50 < \([0-9]*\) ms, p99 < \([0-9]*\) ms, max \([0-9.]*\) ms$/\1 \2 \3 \4/p' <<<"$st") || true
            read -r up down unknown < <(sed -n 's/^health: \([0-9]*\) up, \([0-9]*\) down, \([0-9]*\) unknown$/\1 \2 \3/p' <<<"$st") || true
            note "round $round: $(grep '^probes:' <<<"$st" || echo 'no probes line') after $(($(date +%s) - t0)) s; $(grep '^health:' <<<"$st" || true)"
        fi
        awk -v OFS='\t' -v r="$round" -v m="$mode" -v ready="${READY_MS[meridiand]}" \
            -v it="$IDLE_TICKS" -v iw="$IDLE_WALL" -v lt="$LOAD_TICKS" -v lw="$LOAD_WALL" \
            -v ans="$LOAD_ANS" -v hz="$CLK_TCK" -v probes="$probes" -v p50="$p50" -v p99="$p99" \
            -v pmax="$pmax" -v up="$up" -v down="$down" -v unk="$unknown" '
            BEGIN { irate = it / hz / iw; lcpu = lt / hz
              qp = (lcpu - irate * lw) * 1e6 / ans; if (qp < 0) qp = 0
              print r, m, ready, 100 * irate, lw, ans, ans / lw, 100 * lcpu / lw,
                lcpu * 1e6 / ans, qp, probes, p50, p99, pmax, up, down, unk }' >>"$TSV"
        stop_server meridiand
    done
done

# ---------------------------------------------------------------------------- report
{
    printf '\n### Health checks at scale: %d members every %d s, steered name under dnsperf -Q %d\n\n' \
        "$MEMBERS" "$INTERVAL_S" "$QPS"
    printf 'meridiand %s, one worker, all threads on CPU %s; dnsperf on CPU %s; %d round(s). ' \
        "$MERIDIAND_BIN" "$SERVER_CPU" "$GEN_CPU" "$ROUNDS"
    printf '%d TCP checks (refused: no listener on those addresses), %d HTTP checks (python http.server, 200).\n\n' \
        "$N_TCP" "$N_HTTP"
    awk -F'\t' -v iv="$INTERVAL_S" -v n="$MEMBERS" '
    NR == 1 { next }
    { key = $1 SUBSEP $2; row[key] = $0 }
    $2 == "with" { w_us[$1] = $9; w_qp[$1] = $10; w_idle[$1] = $4 }
    $2 == "without" { o_us[$1] = $9; o_qp[$1] = $10; o_idle[$1] = $4 }
    END {
        print "| round | checks | ready ms | idle CPU % | answered qps | CPU % under load | CPU us/query | query path us/query | probes started | lateness p50 / p99 / max ms | up / down / unknown |"
        print "|---|---|---|---|---|---|---|---|---|---|---|"
        for (r = 1; (r SUBSEP "with") in row; r++) for (m = 0; m < 2; m++) {
            split(row[r SUBSEP (m ? "without" : "with")], f, "\t")
            printf "| %s | %s | %s | %.1f | %.0f | %.1f | %.2f | %.2f | %s | %s | %s |\n",
                f[1], f[2], f[3], f[4], f[7], f[8], f[9], f[10],
                f[11] == "" ? "-" : f[11],
                f[12] == "" ? "-" : "< " f[12] " / < " f[13] " / " f[14],
                f[15] == "" ? "-" : f[15] " / " f[16] " / " f[17]
        }
        print ""
        for (r = 1; r in w_us; r++)
            printf "Round %d: CPU us/query with / without checks = %.2f / %.2f = **%.2fx**; query path only %.2f / %.2f = %.2fx; the checks alone cost %.1f%% of a core idle (%.1f%% without).\n",
                r, w_us[r], o_us[r], (o_us[r] > 0 ? w_us[r] / o_us[r] : 0), w_qp[r], o_qp[r],
                (o_qp[r] > 0 ? w_qp[r] / o_qp[r] : 0), w_idle[r], o_idle[r]
        printf "\nExpected probes: about %d per second (%d members / %d s).\n", n / iv, n, iv
    }' "$TSV"
} | tee "$OUTDIR/table.md"
note "raw data: $TSV, status/states per run under $OUTDIR/r*-with/"
