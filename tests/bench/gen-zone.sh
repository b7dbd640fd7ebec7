#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes the benchmark zones (deterministic: same output on every run).
#
#   gen-zone.sh bench [OUT]   bench.test: SOA, 2 NS + address, apex A/AAAA/MX/TXT, www and ftp
#                             CNAMEs, wildcard *.wild, SRV, a delegation (sub) with glue, and
#                             host0001..host1000 with A + AAAA (about 2,020 records)
#   gen-zone.sh big [OUT]     big.test: BIG_NAMES (default 500,000) names x (A + AAAA)
#                             = 1,000,000 records, plus SOA/NS (memory and load-time test)
#   gen-zone.sh tiny [OUT]    tiny.test: SOA, NS, two A (baseline for memory per record)
#   gen-zone.sh geo [OUT]     geo.test: SOA, 2 NS + address only; geo.sh adds the steered
#                             www per server (meridiand: a service, so nothing in the zone)
#
# OUT defaults to $BENCH_OUT/data/<origin>.zone (BENCH_OUT=/tmp/meridian-bench).
# Prints the path written and the record count ("PATH RECORDS") on stdout.
set -euo pipefail

kind=${1:-}
case "$kind" in
bench | big | tiny | geo) ;;
*)
    echo "usage: $0 bench|big|tiny|geo [OUT]" >&2
    exit 2
    ;;
esac
origin=$kind.test
out=${2:-${BENCH_OUT:-/tmp/meridian-bench}/data/$origin.zone}
mkdir -p "$(dirname "$out")"
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT

header() { # origin
    cat <<Z
\$ORIGIN $1.
\$TTL 3600
@       IN SOA   ns1.$1. hostmaster.$1. 2024010101 7200 3600 1209600 300
@       IN NS    ns1.$1.
@       IN NS    ns2.$1.
ns1     IN A     192.0.2.53
ns2     IN A     198.51.100.53
Z
}

case "$kind" in
geo)
    header "$origin" >"$tmp"
    ;;
tiny)
    {
        header "$origin"
        echo "www     IN A     192.0.2.10"
    } >"$tmp"
    ;;
bench)
    {
        header "$origin"
        cat <<'Z'
@       IN A     192.0.2.1
@       IN AAAA  2001:db8::1
@       IN MX    10 mail
@       IN MX    20 mail2
@       IN TXT   "v=spf1 mx -all"
@       IN TXT   "meridian benchmark zone"
mail    IN A     192.0.2.25
mail2   IN A     192.0.2.26
www     IN CNAME host0001
ftp     IN CNAME www
*.wild  IN A     192.0.2.80
*.wild  IN AAAA  2001:db8::80
_sip._udp IN SRV 10 60 5060 host0002
; delegation with in-bailiwick glue: answered with a referral
sub     IN NS    ns1.sub
ns1.sub IN A     192.0.2.153
Z
        # host0001..host1000: A in 198.18.0.0/15, AAAA in 2001:db8:1::/64
        awk 'BEGIN { for (i = 1; i <= 1000; i++) {
            printf "host%04d IN A     198.18.%d.%d\n", i, int(i / 256), i % 256
            printf "host%04d IN AAAA  2001:db8:1::%x\n", i, i } }'
    } >"$tmp"
    ;;
big)
    n=${BIG_NAMES:-500000}
    {
        header "$origin"
        awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) {
            printf "h%07d 300 IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
            printf "h%07d 300 IN AAAA 2001:db8:%x:%x::1\n", i, int(i / 65536), i % 65536 } }'
    } >"$tmp"
    ;;
esac
mv "$tmp" "$out"
trap - EXIT
# Count RRs: every line that is not a directive or comment.
records=$(grep -cv '^[$;]' "$out")
echo "$out $records"
