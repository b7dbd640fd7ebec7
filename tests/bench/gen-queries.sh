#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes the query mix for bench.test as "name type" lines (dnsperf and blast input).
#
#   gen-queries.sh [N] [OUT]      N lines (default 100000), OUT default
#                                 $BENCH_OUT/data/queries.txt; env SEED (default 1)
#   gen-queries.sh big [N] [OUT]  N random names of big.test (A), for load tests of that zone
#   gen-queries.sh nx [N] [OUT]   N random non-existent names directly under bench.test (A):
#                                 labels of 8-16 characters [a-z0-9] (all NXDOMAIN; with a
#                                 signed zone each answer carries NSEC3 proofs), for dnssec.sh
#
# Mix (per mille, drawn independently per line with a fixed-seed generator, so the same
# N and SEED always give the same file):
#   700 existing:  350 hostNNNN A, 350 hostNNNN AAAA
#   100 NXDOMAIN:   80 random names under the apex, 20 names below an existing host
#   100 NODATA:     40 hostNNNN MX, 40 hostNNNN TXT, 20 mail AAAA
#   100 other:      apex MX 10, TXT 10, NS 10, SOA 10; www A (CNAME chain) 15, ftp A 5,
#                   www CNAME 5; wildcard A 10, AAAA 5; SRV 10; referral (www.sub A) 10
# Expected rcodes: 90% NOERROR, 10% NXDOMAIN.
set -euo pipefail

mode=bench
if [[ ${1:-} == big || ${1:-} == nx ]]; then
    mode=$1
    shift
fi
n=${1:-100000}
suffix=""
[[ $mode != bench ]] && suffix=-$mode
out=${2:-${BENCH_OUT:-/tmp/meridian-bench}/data/queries$suffix.txt}
[[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || {
    echo "usage: $0 [big|nx] [N] [OUT]" >&2
    exit 2
}
mkdir -p "$(dirname "$out")"

# Park-Miller minimal standard generator: products stay below 2^53, so every awk
# (mawk, gawk, busybox) computes exactly the same sequence.
awk -v n="$n" -v seed="${SEED:-1}" -v mode="$mode" -v bign="${BIG_NAMES:-500000}" '
function rnd(m) { state = (state * 16807) % 2147483647; return int(state / 2147483647 * m) }
function host() { return sprintf("host%04d.bench.test", rnd(1000) + 1) }
BEGIN {
    state = seed % 2147483646 + 1
    for (i = 0; i < n; i++) {
        if (mode == "big") { printf "h%07d.big.test A\n", rnd(bign); continue }
        if (mode == "nx") { l = ""; k = 8 + rnd(9)
            while (k-- > 0) l = l substr("abcdefghijklmnopqrstuvwxyz0123456789", rnd(36) + 1, 1)
            print l ".bench.test A"; continue }
        r = rnd(1000)
        if      (r < 350) print host() " A"
        else if (r < 700) print host() " AAAA"
        else if (r < 780) printf "nx%08d.bench.test A\n", rnd(100000000)
        else if (r < 800) { x = rnd(100); print "x" x "." host() " A" }
        else if (r < 840) print host() " MX"
        else if (r < 880) print host() " TXT"
        else if (r < 900) print "mail.bench.test AAAA"
        else if (r < 910) print "bench.test MX"
        else if (r < 920) print "bench.test TXT"
        else if (r < 930) print "bench.test NS"
        else if (r < 940) print "bench.test SOA"
        else if (r < 955) print "www.bench.test A"
        else if (r < 960) print "ftp.bench.test A"
        else if (r < 965) print "www.bench.test CNAME"
        else if (r < 975) printf "w%d.wild.bench.test A\n", rnd(100000)
        else if (r < 980) printf "w%d.wild.bench.test AAAA\n", rnd(100000)
        else if (r < 990) print "_sip._udp.bench.test SRV"
        else              print "www.sub.bench.test A"
    }
}' >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
echo "$out"
