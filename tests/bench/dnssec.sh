#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# DNSSEC benchmarks (issue 11): what online-served, load-time-signed zones cost meridiand,
# with Knot DNS (and ldns-signzone for signing) on the same data and machine.
#
#   dnssec.sh [-P PHASES] [-r ROUNDS] [-k SLICES] [-d SLICE_S] [-w WARMUP_S] [-M MIXES] [-n CHECK_N]
#             [-b BIG_REPS] [-B SIGNERS] [-s SETTLE_S] [-o OUTDIR] [SERVER...]
#   dnssec.sh -R OUTDIR                     re-print the tables of an earlier run
#
# Signing everywhere: ECDSAP256SHA256, one combined key (CSK), NSEC3 with 0 extra iterations
# and no salt (RFC 9276 §3.1): meridiand `dnssec: {algorithm: ecdsap256sha256, keys: csk,
# nsec3_iterations: 0, nsec3_salt: "-"}`, Knot `dnssec-signing: on` with a policy of the
# same (bench-lib.sh knot_dnssec_policy), ldns-signzone -n -t 0 with an ldns-keygen -k key.
#
# Phase cap (capacity; SERVER...: meridiand meridiand-signed knot knot-signed, default all;
#   also meridiand-b meridiand-b-signed, $MERIDIAND_B, to compare two builds):
#   every server serves bench.test and geo.test (the steered www.geo.test of geo.sh, with the
#   synthetic GeoIP2 database); the *-signed ones sign both zones at load.  One worker, all
#   threads on CPU $SERVER_CPU; blast (16x16 in flight) from CPU $GEN_CPU.  MIXES (-M, default
#   "static geo nx plain"):
#     static  run.sh's 100,000-query bench.test mix, DO=1 (blast -D)
#     geo     geo.sh's load: www.geo.test A, each query with its own ECS /24, DO=1
#     nx      100,000 random names directly under bench.test (gen-queries.sh nx): NXDOMAIN,
#             signed: SOA + 3 NSEC3 (RFC 5155 §7.2.2) with their RRSIGs, DO=1
#     plain   the static mix without EDNS (what a signed zone costs clients without DO)
#   Before measuring, each server must pass run.sh's 15 static checks, geo.sh's 9 steered
#   checks and the first CHECK_N (-n, 500) steered queries against the database; a signed
#   server also 9 dig +dnssec checks (RRSIGs in answers, NSEC3 in NXDOMAIN / NODATA /
#   wildcard / insecure-referral answers, signed steered answers per ECS) and 11 answers
#   validated by delv with the server's own DNSKEY as trust anchor.  All servers stay up side
#   by side.  Then WARMUP_S (2) s per server and mix, and ROUNDS (3) rounds; in each round,
#   mix by mix, the servers get SLICES (-k, 3) turns of one SLICE_S (-d, 2) s blast each in a
#   rotating order (bench-lib.sh paired_slices: signed and unsigned of a mix meet the same
#   host speed); a round's CPU per answer is its slices' server CPU (schedstat, every
#   thread) over their answers; every slice in OUTDIR/cap-slices.tsv.
# Phase big (1,000,005-record big.test; SIGNERS, -B, default "meridiand knot ldns"), BIG_REPS
#   (-b, 1) repetitions of:
#     meridiand unsigned (2 cores), signed pinned to 1 core, signed on 2 cores; Knot the
#     same (signing-threads 1 on 1 core, 2 on 2 cores); ldns-read-zone (parse + print: the
#     baseline) and ldns-signzone on 1 core.  A server's time to serving signed is from its
#     start until the zone's last name answers with its RRSIG (DO set, polled every 0.1 s);
#     CPU is utime + stime at that moment; memory (RSS, PSS, peak = VmHWM) SETTLE_S (-s, 2) s
#     later; signing CPU = CPU signed - CPU unsigned (same server, same zone).  meridiand's
#     signer time and counts come from its log line "zone big.test signed: serial S, N RRsets
#     signed, M reused, K NSEC3 records, T s".  Its signer starts one thread per online CPU: "1
#     core" pins both to one core (the per-core rate), "2 cores" lets them spread.
#     Reload (meridiand, 2 cores, unsigned and signed): one A record changed in the zone
#     file, `meridianctl reload` (SIGHUP and the log without it): the server's reload time,
#     the signer line (RRsets signed anew vs reused), peak memory; then the changed name must
#     be served (signed: with an RRSIG that delv validates).
# Output: Markdown on stdout and OUTDIR/table.md; raw data OUTDIR/cap.tsv, checks.tsv,
# big.tsv, blast.log, each server's config and log.
# Env: MERIDIAND, MERIDIANCTL (beside meridiand), BENCH_OUT (/tmp/meridian-bench), PORT_BASE
# (5480: meridiand +0, knot +2, meridiand-signed +5, knot-signed +6, meridiand-b +4, meridiand-b-signed +7),
# SERVER_CPU (1),
# GEN_CPU (0), BLAST_SOCKETS/BLAST_WINDOW (16/16), FILLER (20000), NQUERIES (50000).
set -euo pipefail
PORT_BASE=${PORT_BASE:-5480}
. "$(dirname "$0")/bench-lib.sh"

PHASES="cap big" ROUNDS=3 SLICES=3 BLAST_S=2 WARMUP_S=2 MIXES="static geo nx plain" CHECK_N=500
BIG_REPS=1 SIGNERS="meridiand knot ldns" SETTLE_S=2 OUTDIR="" REPORT_ONLY=""
BLAST_SOCKETS=${BLAST_SOCKETS:-16} BLAST_WINDOW=${BLAST_WINDOW:-16}
FILLER=${FILLER:-20000} NQUERIES=${NQUERIES:-50000}
CAP_SERVERS="meridiand meridiand-signed knot knot-signed"
# Before/after a change: meridiand-b and meridiand-b-signed run $MERIDIAND_B (bench-lib.sh).
CAP_KNOWN="$CAP_SERVERS meridiand-b meridiand-b-signed"
BIG_READY_TIMEOUT=900
while getopts "P:r:k:d:w:M:n:b:B:s:o:R:h" opt; do
    case $opt in
    P) PHASES=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    k) SLICES=$OPTARG ;;
    d) BLAST_S=$OPTARG ;;
    w) WARMUP_S=$OPTARG ;;
    M) MIXES=$OPTARG ;;
    n) CHECK_N=$OPTARG ;;
    b) BIG_REPS=$OPTARG ;;
    B) SIGNERS=$OPTARG ;;
    s) SETTLE_S=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    R) REPORT_ONLY=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

# ---------------------------------------------------------------------------- report
# Shared awk helpers: sorting, median/min/max of a list.
AWK_LIB='
function sortv(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]
    for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
function med(a, n, what) { if (n == 0) return ""; sortv(a, n)
    if (what == "min") return a[1]; if (what == "max") return a[n]
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function pos(x) { return x < 0 ? 0 : x }
'

# Capacity tables from cap.tsv (and checks.tsv beside it).
cap_report() { # cap.tsv
    local tsv=$1 checks
    checks=$(dirname "$1")/checks.tsv
    [[ -r $checks ]] || checks=/dev/null
    awk -F'\t' "$AWK_LIB"'
    function st(srv, mix, c, what,   n, i, a) { n = 0
        for (i = 1; i <= nr; i++) if (S[i] == srv && X[i] == mix && V[i, c] != "") a[++n] = V[i, c] + 0
        return med(a, n, what) }
    function cnt(srv, mix,   i, n) { n = 0; for (i = 1; i <= nr; i++) n += (S[i] == srv && X[i] == mix); return n }
    function mm(srv, mix, c, fmt) { return sprintf(fmt " (" fmt "-" fmt ")", st(srv, mix, c, "med"),
        st(srv, mix, c, "min"), st(srv, mix, c, "max")) }
    # Per-round ratio a / b of column c for one mix: median (min-max).
    function paired(mix, sa, sb, c,   i, r, n, a, va, vb) {
        for (i = 1; i <= nr; i++) if (X[i] == mix && V[i, c] != "") {
            if (S[i] == sa) va[R[i]] = V[i, c] + 0
            if (S[i] == sb) vb[R[i]] = V[i, c] + 0 }
        n = 0
        for (r in va) if ((r in vb) && vb[r] != 0) a[++n] = va[r] / vb[r]
        if (n == 0) return "-"
        return sprintf("%.2f (%.2f-%.2f)", med(a, n, "med"), med(a, n, "min"), med(a, n, "max")) }
    function pmed(mix, sa, sb, c,   s) { s = paired(mix, sa, sb, c); return s == "-" ? "" : substr(s, 1, index(s, " ") - 1) + 0 }
    # "qps / us" pair of a signed server and its unsigned twin: the ratios and the verdicts.
    function twin(mix, signed, plain,   q, u) { q = pmed(mix, signed, plain, "answered_qps"); u = pmed(mix, signed, plain, "us_per_query")
        return sprintf("%s | %s | %s / %s", paired(mix, signed, plain, "answered_qps"), paired(mix, signed, plain, "us_per_query"),
          (q == "" ? "-" : (q >= 0.9 ? "yes" : "**no**")), (u == "" ? "-" : (u <= 1 / 0.9 ? "yes" : "**no**"))) }
    function bytes(srv, mix) { return cnt(srv, mix) ? sprintf("%.0f", st(srv, mix, "resp_bytes", "med")) : "-" }
    FNR == 1 { file++; for (i = 1; i <= NF; i++) H[file, i] = $i; next }
    file == 1 { nr++
      for (k = 1; k <= NF; k++) V[nr, H[1, k]] = $k
      S[nr] = V[nr, "server"]; X[nr] = V[nr, "mix"]; R[nr] = V[nr, "round"]
      if (!(X[nr] in xs)) { xs[X[nr]] = 1; xorder[++nx] = X[nr] }
      if (!(S[nr] in ss)) { ss[S[nr]] = 1; sorder[++ns] = S[nr] }
      next }
    file == 2 { nc++; for (k = 1; k <= NF; k++) C[nc, H[2, k]] = $k; next }
    END {
      desc["static"] = "static: run.sh mix, DO=1"; desc["geo"] = "geo: www.geo.test A + ECS, DO=1"
      desc["nx"] = "nx: random names, NXDOMAIN, DO=1"; desc["plain"] = "plain: run.sh mix, no EDNS"
      if (nc) {
        printf "#### Answer checks before measuring\n\n"
        printf "| server | static checks | steered checks | first N steered queries: N / differ from the database | dig +dnssec checks | delv: validated answers |\n"
        printf "|---|---|---|---|---|---|\n"
        for (i = 1; i <= nc; i++) printf "| %s | %s | %s | %s / %s | %s | %s |\n", C[i, "server"], C[i, "static"],
          C[i, "geo"], C[i, "geo_n"], C[i, "geo_wrong"], C[i, "dig"], C[i, "delv"]
        printf "\n"
      }
      if (!nr) { printf "(no capacity measurements)\n\n"; exit }
      printf "#### Capacity: one server worker on one core, blast saturation\n\n"
      printf "| query mix | server | rounds | answered qps, median (min-max) | server CPU %% | server CPU us/query, median (min-max) | lost %% | TC %% | NXDOMAIN %% | avg response bytes | generator CPU %% | other load %%, server / generator core |\n"
      printf "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
      for (x = 1; x <= nx; x++) { m = xorder[x]
        for (k = 1; k <= ns; k++) { s = sorder[k]; if (!cnt(s, m)) continue
          printf "| %s | %s | %d | %s | %.0f | %s | %.3f | %.2f | %.1f | %.1f | %.0f | %.0f / %.0f |\n",
            (m in desc ? desc[m] : m), s, cnt(s, m), mm(s, m, "answered_qps", "%.0f"), st(s, m, "server_cpu_pct", "med"),
            mm(s, m, "us_per_query", "%.2f"), st(s, m, "lost_pct", "med"), st(s, m, "tc_pct", "med"),
            st(s, m, "nxdomain_pct", "med"), st(s, m, "resp_bytes", "med"), st(s, m, "gen_cpu_pct", "med"),
            pos(st(s, m, "other_server_core_pct", "med")), pos(st(s, m, "other_gen_core_pct", "med")) } }
      printf "\n#### Signed / unsigned, per-round pairs: median (min-max)\n\n"
      printf "Target (issue 11): meridiand-signed qps >= 0.90x meridiand for every DO=1 mix. us/query above 1 = more CPU per answer when signed; \"target met\" is given by qps and by CPU per query (us/query <= 1.11x, i.e. >= 0.9x the capacity of a fully busy core).\n\n"
      printf "| query mix | meridiand-signed / meridiand: qps | us/query | target met: by qps / by CPU | response bytes, meridiand -> signed | knot-signed / knot: qps | us/query | response bytes, knot -> signed | meridiand-signed / knot-signed: qps | us/query |\n"
      printf "|---|---|---|---|---|---|---|---|---|---|\n"
      for (x = 1; x <= nx; x++) { m = xorder[x]
        printf "| %s | %s | %s -> %s | %s | %s | %s -> %s | %s | %s |\n", (m in desc ? desc[m] : m),
          twin(m, "meridiand-signed", "meridiand"), bytes("meridiand", m), bytes("meridiand-signed", m),
          paired(m, "knot-signed", "knot", "answered_qps"), paired(m, "knot-signed", "knot", "us_per_query"),
          bytes("knot", m), bytes("knot-signed", m),
          paired(m, "meridiand-signed", "knot-signed", "answered_qps"),
          paired(m, "meridiand-signed", "knot-signed", "us_per_query") }
      printf "\n"
      if (!("meridiand-b-signed" in ss)) exit
      printf "#### Before / after: meridiand-b (MERIDIAND_B) vs meridiand, per-round pairs: median (min-max)\n\n"
      printf "| query mix | b-signed / b: qps | us/query | target met (b): by qps / by CPU | signed / unsigned (this build): qps | us/query | target met: by qps / by CPU | signed / b-signed: qps | us/query | unsigned / b: qps | us/query |\n"
      printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
      for (x = 1; x <= nx; x++) { m = xorder[x]
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", (m in desc ? desc[m] : m),
          twin(m, "meridiand-b-signed", "meridiand-b"), twin(m, "meridiand-signed", "meridiand"),
          paired(m, "meridiand-signed", "meridiand-b-signed", "answered_qps"),
          paired(m, "meridiand-signed", "meridiand-b-signed", "us_per_query"),
          paired(m, "meridiand", "meridiand-b", "answered_qps"),
          paired(m, "meridiand", "meridiand-b", "us_per_query") }
      printf "\n"
    }' "$tsv" "$checks"
}

# Tables of the big phase from big.tsv.
big_report() { # big.tsv
    awk -F'\t' "$AWK_LIB"'
    # median / min / max of column c over the rows of (signer, variant, cores); cores "*": any
    function st(sg, va, co, c, what,   n, i, a) { n = 0
        for (i = 1; i <= nr; i++) if (G[i] == sg && A[i] == va && (co == "*" || K[i] == co) && V[i, c] != "" && V[i, c] != "-") a[++n] = V[i, c] + 0
        return med(a, n, what) }
    function cnt(sg, va, co,   i, n) { n = 0; for (i = 1; i <= nr; i++) n += (G[i] == sg && A[i] == va && K[i] == co); return n }
    function f(x, fmt) { return x == "" ? "-" : sprintf(fmt, x) }
    function mib(x) { return x == "" ? "-" : sprintf("%.0f", x / 1024) }
    function fr(sg, va, co, c, fmt, scale,   m) { m = st(sg, va, co, c, "med"); if (m == "") return "-"
        if (cnt(sg, va, co) < 2) return sprintf(fmt, m / scale)
        return sprintf(fmt " (" fmt "-" fmt ")", m / scale, st(sg, va, co, c, "min") / scale, st(sg, va, co, c, "max") / scale) }
    FNR == 1 { for (i = 1; i <= NF; i++) H[i] = $i; next }
    { nr++; for (k = 1; k <= NF; k++) V[nr, H[k]] = $k
      G[nr] = V[nr, "signer"]; A[nr] = V[nr, "variant"]; K[nr] = V[nr, "cores"]
      key = G[nr] SUBSEP A[nr] SUBSEP K[nr]
      if (!(key in seen)) { seen[key] = 1; order[++no] = key }
      if (V[nr, "records"] != "") records = V[nr, "records"] }
    END {
      if (!nr) { printf "(no big-zone measurements)\n\n"; exit }
      printf "#### 1M-record zone: start to serving signed, signing rate, memory\n\n"
      printf "big.test: %s records (%d names x A + AAAA, SOA, NS). ready = from process start until the last name answers (signed: with its RRSIG); ldns: the whole ldns-read-zone / ldns-signzone run (read, sign, write the file). Signing CPU = CPU at ready minus the same server'"'"'s unsigned CPU at ready (ldns: minus ldns-read-zone).\n\n", records, (records - 5) / 2
      printf "| signer | zone | cores (threads) | ready s | CPU s at ready | signer s (log) | signing CPU s | signatures | NSEC3 | signatures/s (wall of signing) | signatures per CPU-second | RSS MiB | peak MiB | other load %% |\n"
      printf "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
      for (o = 1; o <= no; o++) { split(order[o], p, SUBSEP); g = p[1]; a = p[2]; k = p[3]
        ucpu = st(g, "unsigned", "*", "cpu_s", "med"); uready = st(g, "unsigned", "*", "ready_ms", "med")
        cpu = st(g, a, k, "cpu_s", "med"); ready = st(g, a, k, "ready_ms", "med")
        sigs = st(g, a, k, "signatures", "med"); signs = st(g, a, k, "sign_s", "med")
        scpu = (a == "signed" && ucpu != "" && cpu != "") ? cpu - ucpu : ""
        swall = signs != "" ? signs : ((a == "signed" && uready != "" && ready != "") ? (ready - uready) / 1000 : "")
        printf "| %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", g, a, k, V_threads(g, a, k),
          fr(g, a, k, "ready_ms", "%.1f", 1000), fr(g, a, k, "cpu_s", "%.1f", 1), f(signs, "%.1f"), f(scpu, "%.1f"),
          f(sigs, "%d"), f(st(g, a, k, "nsec3", "med"), "%d"),
          (a == "signed" && sigs != "" && swall > 0) ? sprintf("%.0f", sigs / swall) : "-",
          (a == "signed" && sigs != "" && scpu > 0) ? sprintf("%.0f", sigs / scpu) : "-",
          mib(st(g, a, k, "rss_kb", "med")), mib(st(g, a, k, "peak_kb", "med")),
          f(pos(st(g, a, k, "other_pct", "med")), "%.0f") }
      printf "\n#### Memory per signed record (RSS after loading, 2 cores)\n\n"
      printf "| server | RSS unsigned MiB | RSS signed MiB | difference per record, bytes | per signature, bytes | peak signed MiB | peak / RSS signed |\n"
      printf "|---|---|---|---|---|---|---|\n"
      split("meridiand knot", svs, " ")
      for (j = 1; j <= 2; j++) { g = svs[j]; u = st(g, "unsigned", "2", "rss_kb", "med"); s = st(g, "signed", "2", "rss_kb", "med")
        if (u == "" || s == "") continue
        sigs = st(g, "signed", "2", "signatures", "med"); pk = st(g, "signed", "2", "peak_kb", "med")
        printf "| %s | %.0f | %.0f | %.0f | %s | %.0f | %.2f |\n", g, u / 1024, s / 1024, (s - u) * 1024 / records,
          sigs != "" ? sprintf("%.0f", (s - u) * 1024 / sigs) : "-", pk / 1024, pk / s }
      printf "\n#### meridiand reload with one A record changed (2 cores)\n\n"
      printf "| zone | reload s (server) | meridianctl wall s | RRsets signed anew / reused | signer s | RSS after MiB | peak MiB (load and reload) |\n"
      printf "|---|---|---|---|---|---|---|\n"
      split("unsigned signed", vs, " ")
      for (j = 1; j <= 2; j++) { a = vs[j]; if (st("meridiand", a, "2", "reload_ms", "med") == "") continue
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", a, fr("meridiand", a, "2", "reload_ms", "%.2f", 1000),
          fr("meridiand", a, "2", "reload_wall_ms", "%.2f", 1000),
          a == "signed" ? sprintf("%s / %s", f(st("meridiand", a, "2", "reload_signed", "med"), "%d"), f(st("meridiand", a, "2", "reload_reused", "med"), "%d")) : "-",
          f(st("meridiand", a, "2", "reload_sign_s", "med"), "%.2f"),
          mib(st("meridiand", a, "2", "reload_rss_kb", "med")), mib(st("meridiand", a, "2", "reload_peak_kb", "med")) }
      u = st("meridiand", "unsigned", "2", "reload_ms", "med"); s = st("meridiand", "signed", "2", "reload_ms", "med")
      if (u != "" && s != "" && u > 0) printf "\nReload time signed / unsigned: %.2fx.\n", s / u
      printf "\n"
    }
    function V_threads(g, a, k,   i) { for (i = 1; i <= nr; i++) if (G[i] == g && A[i] == a && K[i] == k) return V[i, "threads"]; return "-" }
    ' "$1"
}

print_report() { # outdir
    local d=$1
    if [[ -s $d/cap.tsv ]]; then
        echo "### Capacity with DO=1: signed vs unsigned"
        echo
        cap_report "$d/cap.tsv"
    fi
    if [[ -s $d/big.tsv ]]; then
        echo "### Signing a 1M-record zone"
        echo
        big_report "$d/big.tsv"
    fi
    [[ -s $d/notes.txt ]] && sed 's/^/- note: /' "$d/notes.txt"
    return 0
}

if [[ -n $REPORT_ONLY ]]; then
    print_report "$REPORT_ONLY"
    exit 0
fi

# ---------------------------------------------------------------------------- setup
for v in ROUNDS SLICES BLAST_S WARMUP_S CHECK_N BIG_REPS SETTLE_S FILLER NQUERIES; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done
((BLAST_S >= 1 && BLAST_S <= 60)) || die "-d: 1-60 s"
((SLICES >= 1 && SLICES <= 20)) || die "-k: 1-20"
((ROUNDS >= 1 && ROUNDS <= 20)) || die "-r: 1-20"
((BIG_REPS >= 1 && BIG_REPS <= 5)) || die "-b: 1-5"
((SETTLE_S <= 60)) || die "-s: 0-60 s"
((CHECK_N <= NQUERIES)) || die "-n must not exceed NQUERIES"
for p in $PHASES; do [[ $p == cap || $p == big ]] || die "-P: cap and/or big"; done
for m in $MIXES; do [[ " static geo nx plain " == *" $m "* ]] || die "-M: static geo nx plain"; done
for g in $SIGNERS; do [[ " meridiand knot ldns " == *" $g "* ]] || die "-B: meridiand knot ldns"; done
[[ $SERVER_CPU =~ ^[0-9]+$ && $GEN_CPU =~ ^[0-9]+$ && $SERVER_CPU != "$GEN_CPU" ]] ||
    die "SERVER_CPU and GEN_CPU must be two different single CPU numbers"
SERVERS=("$@")
((${#SERVERS[@]})) || read -r -a SERVERS <<<"$CAP_SERVERS"
for s in "${SERVERS[@]}"; do
    [[ " $CAP_KNOWN " == *" $s "* ]] || die "unknown server '$s' (known: $CAP_KNOWN)"
done
BOTH_CPUS=$(printf '%s\n' "$GEN_CPU" "$SERVER_CPU" | sort -n | paste -sd,)
MERIDIAND_BIN=$(find_meridiand)
MERIDIANCTL=${MERIDIANCTL:-$(dirname "$MERIDIAND_BIN")/meridianctl}
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/dnssec-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
: >"$OUTDIR/notes.txt"
NOTES_FILE=$OUTDIR/notes.txt
add_note() { echo "$*" >>"$NOTES_FILE"; note "$*"; }
build_blast
trap 'stop_all' EXIT
trap 'exit 130' INT TERM
# The harness (dig, delv, blast) stays on the generator's core; servers get their own mask.
taskset -p -c "$GEN_CPU" $$ >/dev/null

# Trust anchor file for delv from the server's own DNSKEY RRset (flags 257).
make_anchor() { # port zone file
    local keys
    keys=$(dig +norec +short +tries=1 +time=2 -p "$1" @"$BENCH_ADDR" "$2" DNSKEY 2>/dev/null |
        awk -v z="$2." '$1 == 257 { k = ""; for (i = 4; i <= NF; i++) k = k $i
            printf "  %s static-key 257 3 %s \"%s\";\n", z, $3, k }')
    [[ -n $keys ]] || return 1
    printf 'trust-anchors {\n%s\n};\n' "$keys" >"$3"
}

# delv with ZONE's anchor: every line "zone name type" must come back "fully validated"
# (positive or negative).  Prints failures; returns their number (sets DELV_OK / DELV_N).
delv_checks() { # port anchor_dir checks
    local port=$1 dir=$2 zone name type out fails=0
    DELV_OK=0 DELV_N=0
    while read -r zone name type; do
        [[ -n $zone ]] || continue
        DELV_N=$((DELV_N + 1))
        out=$(timeout 10 delv @"$BENCH_ADDR" -p "$port" -a "$dir/$zone.anchor" +root="$zone" \
            "$name" "$type" 2>&1) || true
        if [[ $out == *"fully validated"* ]]; then
            DELV_OK=$((DELV_OK + 1))
        else
            fails=$((fails + 1))
            echo "  delv $name $type (port $port): $(head -3 <<<"$out" | tr '\n' ' ')" >&2
        fi
    done <<<"$3"
    return $fails
}

# ---------------------------------------------------------------------------- phase cap
# dig +dnssec checks: "qname qtype rcode section patterns [subnet]": every pattern (joined by
# '&') must appear in the section (ans / auth).
DNSSEC_DIG_CHECKS="\
host0001.bench.test A NOERROR ans RRSIG&198.18.0.1
nx12345678.bench.test A NXDOMAIN auth NSEC3&RRSIG&SOA
host0007.bench.test MX NOERROR auth NSEC3&RRSIG
abc.wild.bench.test A NOERROR ans RRSIG&192.0.2.80
abc.wild.bench.test A NOERROR auth NSEC3
www.sub.bench.test A NOERROR auth NSEC3&ns1.sub.bench.test.
www.geo.test A NOERROR ans RRSIG&192.0.2.1 100.64.1.0/24
www.geo.test A NOERROR ans RRSIG&192.0.2.2 100.80.1.0/24
www.geo.test A NOERROR ans RRSIG&192.0.2.3 100.96.1.0/24"
# delv validation (no referral: delv would follow it): "zone name type".
DNSSEC_DELV_CHECKS="\
bench.test host0001.bench.test A
bench.test host0500.bench.test AAAA
bench.test www.bench.test A
bench.test abc.wild.bench.test A
bench.test nx12345678.bench.test A
bench.test x1.host0007.bench.test A
bench.test host0007.bench.test MX
bench.test bench.test MX
geo.test www.geo.test A
geo.test nx.geo.test A
geo.test geo.test MX"

dnssec_dig_checks() { # server; prints failures, returns their number (sets DIG_OK / DIG_N)
    local port out sec qn qt rc where pats sub p x ok fails=0
    port=$(port_of "$1")
    DIG_OK=0 DIG_N=0
    while read -r qn qt rc where pats sub; do
        DIG_N=$((DIG_N + 1))
        local ecs=()
        [[ -n $sub ]] && ecs=(+subnet="$sub")
        out=$(dig +norec +dnssec +tries=1 +time=1 "${ecs[@]}" -p "$port" @"$BENCH_ADDR" "$qn" "$qt" 2>/dev/null || true)
        if [[ $where == ans ]]; then
            sec=$(sed -n '/;; ANSWER SECTION:/,/^$/p' <<<"$out")
        else
            sec=$(sed -n '/;; AUTHORITY SECTION:/,/^$/p' <<<"$out")
        fi
        ok=1
        [[ $out == *"status: $rc,"* ]] || ok=0
        IFS='&' read -r -a p <<<"$pats"
        for x in "${p[@]}"; do [[ $sec == *"$x"* ]] || ok=0; done
        if ((ok)); then
            DIG_OK=$((DIG_OK + 1))
        else
            fails=$((fails + 1))
            echo "  $1: dig +dnssec $qn $qt${sub:+ (ECS $sub)}: want $rc, $where has '$pats'; got $(grep -o 'status: [A-Z]*' <<<"$out" || echo 'no answer')" >&2
        fi
    done <<<"$DNSSEC_DIG_CHECKS"
    return $fails
}

# The synthetic GeoIP database and ECS load of geo.sh (same files, shared with it).
prepare_geo() {
    geo_synth_data || return 1
    GEO_QFILE=$BENCH_DATA/geo-queries.txt
    echo "www.geo.test A" >"$GEO_QFILE"
}

# One saturation slice (bench-lib.sh paired_slices) of ITEM "server:mix"; round 0 is the
# warm-up, not recorded.
run_slice() { # item round slice pos seconds
    local s=${1%%:*} mix=${1#*:} args
    case $mix in
    static) args=(-q "$BENCH_DATA/queries.txt" -D) ;;
    geo) args=(-q "$GEO_QFILE" -e "$ECS.ecs" -D) ;;
    nx) args=(-q "$BENCH_DATA/queries-nx.txt" -D) ;;
    plain) args=(-q "$BENCH_DATA/queries.txt") ;;
    esac
    slice_blast "$s" "$5" "${args[@]}"
    (($2 >= 1)) || return 0
    echo "round=$2 slice=$3 server=$s mix=$mix $SLICE_OUT" >>"$OUTDIR/blast.log"
    slice_record "$SLICE_TSV" "$2" "$3" "$4" "$1" "$s" || add_note "round $2: blast against $s ($mix) failed"
}

# A round's row per server and mix in cap.tsv: its slices summed, so CPU per answer = all
# its slices' server CPU (schedstat) / all their answers.
cap_rows() { # round items...
    local r=$1 item sum
    shift
    for item in "$@"; do
        sum=$(slices_sum "$SLICE_TSV" "$r" "$item")
        [[ -n $sum ]] || continue
        awk -v OFS='\t' -v r="$r" -v s="${item%%:*}" -v mix="${item#*:}" -v hz="$CLK_TCK" \
            -v d="$(kv dur_s "$sum")" -v sent="$(kv sent "$sum")" -v ans="$(kv answered "$sum")" \
            -v lost="$(kv lost "$sum")" -v ns="$(kv server_ns "$sum")" -v w="$(kv wall_ns "$sum")" \
            -v gen="$(kv gen_ns "$sum")" -v sb="$(kv sbusy_ticks "$sum")" -v gb="$(kv gbusy_ticks "$sum")" \
            -v nx="$(kv nxdomain "$sum")" -v tc="$(kv tc "$sum")" -v rb="$(kv resp_bytes "$sum")" '
            BEGIN { cpu = ns / 1e9; w /= 1e9; g = gen / 1e9
              print r, s, mix, d, sent, ans, lost, ans / d, int(cpu * hz), 100 * cpu / w,
                cpu * 1e6 / ans, 100 * g / w, 100 * (sb / hz - cpu) / w, 100 * (gb / hz - g) / w,
                (sent > 0 ? 100 * lost / sent : 0), 100 * nx / ans, 100 * tc / ans, rb }' >>"$CAP_TSV"
    done
}

phase_cap() {
    ensure_data bench geo queries
    [[ -s $BENCH_DATA/queries-nx.txt ]] || "$BENCH_DIR/gen-queries.sh" nx >/dev/null
    prepare_geo || {
        add_note "cap: could not make the GeoIP database or the ECS load; phase skipped"
        return 0
    }
    CAP_TSV=$OUTDIR/cap.tsv
    printf 'round\tserver\tmix\tdur_s\tsent\tanswered\tlost\tanswered_qps\tserver_ticks\tserver_cpu_pct\tus_per_query\tgen_cpu_pct\tother_server_core_pct\tother_gen_core_pct\tlost_pct\tnxdomain_pct\ttc_pct\tresp_bytes\n' >"$CAP_TSV"
    printf 'server\tstatic\tgeo\tgeo_n\tgeo_wrong\tdig\tdelv\n' >"$OUTDIR/checks.tsv"
    local items=() active=() s m ok fails tally wrong tmo dig_r delv_r
    local nitems=$((${#SERVERS[@]} * $(wc -w <<<"$MIXES")))
    SERVER_MAX_LIFE=$((ROUNDS * nitems * SLICES * (BLAST_S + 3) + WARMUP_S * nitems * 2 + 600))
    WRITE_CONFIG=write_geo_config
    for s in "${SERVERS[@]}"; do
        WAIT_RRSIG=0
        [[ $s == *-signed ]] && WAIT_RRSIG=1
        if ! start_server "$s" "$OUTDIR/cap/$s" bench.test "" host1000.bench.test "$SERVER_CPU"; then
            add_note "cap: $s did not start or not ready; left out"
            continue
        fi
        ok=1 fails=0
        check_answers "$s" || fails=$?
        local static_r="$((15 - fails))/15"
        ((fails == 0)) || ok=0
        fails=0
        check_answers "$s" "$GEO_SYNTH_CHECKS" || fails=$?
        local geo_r="$((9 - fails))/9"
        ((fails == 0)) || ok=0
        tally=$("$BENCH_DIR/geo-data.pl" check "$(port_of "$s")" "$ECS.ecs" "$ECS.expect" "$CHECK_N") || tally=""
        wrong=$(kv wrong "$tally") tmo=$(kv timeout "$tally")
        [[ ${wrong:-x} == 0 && ${tmo:-x} == 0 ]] || ok=0
        dig_r="-" delv_r="-"
        if [[ $s == *-signed ]]; then
            fails=0
            dnssec_dig_checks "$s" || fails=$?
            dig_r="$DIG_OK/$DIG_N"
            ((fails == 0)) || ok=0
            local adir=$OUTDIR/cap/$s
            if make_anchor "$(port_of "$s")" bench.test "$adir/bench.test.anchor" &&
                make_anchor "$(port_of "$s")" geo.test "$adir/geo.test.anchor"; then
                fails=0
                delv_checks "$(port_of "$s")" "$adir" "$DNSSEC_DELV_CHECKS" || fails=$?
                delv_r="$DELV_OK/$DELV_N"
                ((fails == 0)) || ok=0
            else
                delv_r="no DNSKEY"
                ok=0
            fi
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$static_r" "$geo_r" "$CHECK_N" "${wrong:-?}" \
            "$dig_r" "$delv_r" >>"$OUTDIR/checks.tsv"
        note "cap $s: ready in ${READY_MS[$s]} ms; static $static_r, steered $geo_r, first $CHECK_N: wrong ${wrong:-?}; dig +dnssec $dig_r; delv $delv_r"
        if ((ok)); then
            active+=("$s")
        else
            add_note "cap: $s failed answer checks (see stderr and checks); left out"
            stop_server "$s"
        fi
    done
    WAIT_RRSIG=0
    ((${#active[@]})) || {
        add_note "cap: no server passed the checks"
        return 0
    }
    SLICE_TSV=$OUTDIR/cap-slices.tsv
    echo "$SLICE_COLUMNS" >"$SLICE_TSV"
    note "warm-up ${WARMUP_S}s per server and mix; then $ROUNDS rounds, each mix in $SLICES turns of ${BLAST_S}s per server (rotating order)"
    for m in $MIXES; do
        items=()
        for s in "${active[@]}"; do items+=("$s:$m"); done
        ((WARMUP_S > 0)) && paired_slices 0 1 "$WARMUP_S" "${items[@]}"
    done
    local r n0
    for ((r = 1; r <= ROUNDS; r++)); do
        for m in $MIXES; do
            items=()
            for s in "${active[@]}"; do items+=("$s:$m"); done
            paired_slices "$r" "$SLICES" "$BLAST_S" "${items[@]}"
            n0=$(wc -l <"$CAP_TSV")
            cap_rows "$r" "${items[@]}"
            note "round $r $m: $(tail -n +$((n0 + 1)) "$CAP_TSV" | awk -F'\t' '{printf "%s %.0f qps %.2f us/q  ", $2, $8, $11}')"
        done
    done
    stop_all
}

# ---------------------------------------------------------------------------- phase big
# Config writer for the big phase: meridiand and meridiand-signed with a control socket and
# info logging (load and signer lines), serving WD's own copy of the zone (edited for the
# reload); Knot from bench-lib.sh (KNOT_SIGNING_THREADS).
write_big_config() { # name wd port origin zonefile
    local name=$1 wd=$2 port=$3 origin=$4 zfile=$5
    case $name in
    meridiand | meridiand-signed)
        local dn=""
        [[ $name == meridiand-signed ]] && dn=", dnssec: $(meridiand_dnssec "$wd")"
        cp "$zfile" "$wd/$origin.zone"
        cat >"$wd/meridian.yaml" <<EOF
server: { listen: ["$BENCH_ADDR:$port"], workers: 1, log_level: info, control_socket: "$wd/control.sock"$(meridiand_rrl "$name") }
zones: [ { origin: $origin, file: "$wd/$origin.zone"$dn } ]
EOF
        SRV_CMD=("$MERIDIAND_BIN" -c "$wd/meridian.yaml")
        ;;
    *) write_config "$@" ;;
    esac
}

# One line of big.tsv; fields by name from the associative array ROW.
declare -A ROW=()
BIG_COLS="rep signer variant cores threads records ready_ms cpu_s sign_s signatures nsec3 rss_kb pss_kb peak_kb other_pct reload_ms reload_wall_ms reload_signed reload_reused reload_sign_s reload_rss_kb reload_peak_kb"
big_row() {
    local c line=""
    for c in $BIG_COLS; do line+="${ROW[$c]:--}"$'\t'; done
    echo "${line%$'\t'}" >>"$BIG_TSV"
    ROW=()
}

# The first number after WORD in meridiand's "zone X signed: ..." line number WHICH (1 =
# the load, last = the latest reload).
signer_field() { # log which(first|last) field(signed|reused|nsec3|s)
    local line
    if [[ $2 == first ]]; then
        line=$(grep -m1 'signed: .* RRsets signed' "$1" || true)
    else
        line=$(grep 'signed: .* RRsets signed' "$1" | tail -1 || true)
    fi
    [[ -n $line ]] || return 0
    case $3 in
    signed) sed -n 's/.* \([0-9]*\) RRsets signed.*/\1/p' <<<"$line" ;;
    reused) sed -n 's/.* \([0-9]*\) reused.*/\1/p' <<<"$line" ;;
    nsec3) sed -n 's/.* \([0-9]*\) NSEC3 records.*/\1/p' <<<"$line" ;;
    s) sed -n 's/.*, \([0-9.]*\) s$/\1/p' <<<"$line" ;;
    esac
}

# Spot checks of a served big.test; signed: NSEC3 in an NXDOMAIN and delv validation.
big_checks() { # server signed(0/1) wd
    local port out fails=0
    port=$(port_of "$1")
    out=$(dq "$port" h0000001.big.test A)
    [[ $out == *"10.0.0.1"* ]] || fails=$((fails + 1))
    out=$(dq "$port" "$BIG_LAST" AAAA)
    [[ $out == *"status: NOERROR"* && $out == *"2001:db8:"* ]] || fails=$((fails + 1))
    out=$(dq "$port" nonexistent.big.test A)
    [[ $out == *"status: NXDOMAIN"* ]] || fails=$((fails + 1))
    if (($2)); then
        out=$(dig +norec +dnssec +tries=1 +time=2 -p "$port" @"$BENCH_ADDR" nonexistent.big.test A 2>/dev/null || true)
        [[ $out == *"status: NXDOMAIN"* && $out =~ [[:space:]]IN[[:space:]]+NSEC3[[:space:]] ]] || fails=$((fails + 1))
        if make_anchor "$port" big.test "$3/big.test.anchor"; then
            delv_checks "$port" "$3" "big.test h0000001.big.test A
big.test $BIG_LAST AAAA
big.test nonexistent.big.test A" || fails=$((fails + $?))
        else
            fails=$((fails + 1))
        fi
    fi
    ((fails == 0)) || echo "  $1: $fails big.test checks failed" >&2
    return $fails
}

# Changes one A record of WD's zone copy (the middle name, $BIG_MID, to 192.0.2.99),
# reloads, checks the answer.  Fills ROW's reload_* fields.
big_reload() { # server signed(0/1) wd
    local s=$1 wd=$3 port out t0 t1 p reply
    port=$(port_of "$s")
    awk -v n="${BIG_MID%%.*}" '$1 == n && $4 == "A" {$5 = "192.0.2.99"} {print}' "$wd/big.test.zone" >"$wd/big.test.zone.new"
    mv "$wd/big.test.zone.new" "$wd/big.test.zone"
    local nlog
    nlog=$(grep -c 'reloaded:' "$wd/server.log" || true)
    t0=$(date +%s%N)
    if [[ -x $MERIDIANCTL ]]; then
        reply=$(timeout 900 "$MERIDIANCTL" -s "$wd/control.sock" reload 2>&1) || true
    else
        p=$(server_pids "$s" | head -1)
        kill -HUP "$p"
        for _ in $(seq 1 9000); do
            (($(grep -c 'reloaded:' "$wd/server.log" || true) > nlog)) && break
            sleep 0.1
        done
        reply=$(grep 'reloaded:' "$wd/server.log" | tail -1)
    fi
    t1=$(date +%s%N)
    ROW[reload_wall_ms]=$(((t1 - t0) / 1000000))
    ROW[reload_ms]=$(sed -n 's/.*reloaded: .* in \([0-9.]*\) s.*/\1/p' <<<"$reply" | head -1 |
        awk '{printf "%.0f", $1 * 1000}')
    [[ -n ${ROW[reload_ms]} ]] || add_note "big: $s reload failed: $(tr '\n' ' ' <<<"$reply")"
    if (($2)); then
        ROW[reload_signed]=$(signer_field "$wd/server.log" last signed)
        ROW[reload_reused]=$(signer_field "$wd/server.log" last reused)
        ROW[reload_sign_s]=$(signer_field "$wd/server.log" last s)
    fi
    ROW[reload_rss_kb]=$(mem_kb "$s" Rss)
    ROW[reload_peak_kb]=$(mem_kb "$s" VmHWM)
    out=$(dig +norec +dnssec +tries=1 +time=2 -p "$port" @"$BENCH_ADDR" "$BIG_MID" A 2>/dev/null || true)
    local ok=1
    [[ $out == *"192.0.2.99"* ]] || ok=0
    if (($2)); then
        [[ $out =~ $RRSIG_A_RE ]] || ok=0
        delv_checks "$port" "$wd" "big.test $BIG_MID A
big.test nonexistent.big.test A" || ok=0
    fi
    ((ok)) || add_note "big: after the reload $s does not serve the changed record correctly (signed: validated)"
}

# One server run: start, wait until serving (signed: with RRSIG), CPU, memory, checks,
# optionally the reload; one row of big.tsv.
big_server() { # rep signer(meridiand|knot) variant(unsigned|signed) cores reload(0/1)
    local rep=$1 g=$2 variant=$3 cores=$4 reload=$5 s pin wd b0 n0 cpu0 threads=2 wall
    s=$g
    [[ $variant == signed ]] && s=$g-signed
    pin=$BOTH_CPUS
    ((cores == 1)) && pin=$SERVER_CPU
    wd=$OUTDIR/big/$s-${cores}core-$rep
    mkdir -p "$wd"
    if [[ $g == knot ]]; then
        threads=$cores
        export KNOT_SIGNING_THREADS=$cores
        [[ $variant == unsigned ]] && threads="-"
    else
        threads="2, one per CPU"
        [[ $variant == unsigned ]] && threads="-"
    fi
    WAIT_RRSIG=0
    [[ $variant == signed ]] && WAIT_RRSIG=1
    SERVER_MAX_LIFE=$((BIG_READY_TIMEOUT + SETTLE_S + 1200))
    b0=$(busy_ticks cpu)
    n0=$(date +%s%N)
    if ! start_server "$s" "$wd" big.test "$BIG" "$BIG_LAST" "$pin"; then
        add_note "big rep $rep: $s ($cores cores) did not serve big.test; left out"
        WAIT_RRSIG=0
        return 0
    fi
    WAIT_RRSIG=0
    cpu0=$(cpu_ticks "$s")
    wall=$(awk -v a="$n0" -v b="$(date +%s%N)" 'BEGIN {print (b - a) / 1e9}')
    ROW=([rep]=$rep [signer]=$g [variant]=$variant [cores]=$cores [threads]=$threads
        [records]=$BIG_N [ready_ms]=${READY_MS[$s]})
    ROW[cpu_s]=$(awk -v t="$cpu0" -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", t / hz}')
    ROW[other_pct]=$(awk -v b="$(($(busy_ticks cpu) - b0))" -v t="$cpu0" -v hz="$CLK_TCK" -v w="$wall" \
        -v n="$(getconf _NPROCESSORS_ONLN)" 'BEGIN {printf "%.1f", 100 * (b - t) / hz / (w * n)}')
    if [[ $g == meridiand && $variant == signed ]]; then
        ROW[signatures]=$(signer_field "$wd/server.log" first signed)
        ROW[nsec3]=$(signer_field "$wd/server.log" first nsec3)
        ROW[sign_s]=$(signer_field "$wd/server.log" first s)
    fi
    if ! big_checks "$s" "$([[ $variant == signed ]] && echo 1 || echo 0)" "$wd"; then
        add_note "big rep $rep: $s ($cores cores) gave wrong answers from big.test"
    fi
    sleep "$SETTLE_S"
    ROW[rss_kb]=$(mem_kb "$s" Rss)
    ROW[pss_kb]=$(mem_kb "$s" Pss)
    ROW[peak_kb]=$(mem_kb "$s" VmHWM)
    if [[ $g == knot && $variant == signed ]]; then
        # What Knot signed: its RRSIG and NSEC3 records, read back through knotc.
        local counts
        counts=$(timeout 300 knotc -c "$wd/knot.conf" zone-read big.test 2>/dev/null |
            awk '$4 == "RRSIG" {r++} $4 == "NSEC3" {n++} END {print r + 0, n + 0}') || counts=""
        read -r 'ROW[signatures]' 'ROW[nsec3]' <<<"$counts"
    fi
    if ((reload)); then
        big_reload "$s" "$([[ $variant == signed ]] && echo 1 || echo 0)" "$wd"
    fi
    note "big rep $rep $s ($cores cores): ready ${ROW[ready_ms]} ms, CPU ${ROW[cpu_s]} s, signer ${ROW[sign_s]:--} s, signatures ${ROW[signatures]:--}, RSS ${ROW[rss_kb]} kB, peak ${ROW[peak_kb]} kB${ROW[reload_ms]:+, reload ${ROW[reload_ms]} ms}"
    big_row
    stop_server "$s"
    # Knot and meridiand keep nothing between runs: a new key and a new database each time
    # (meridiand's kept signatures, K<zone>.signatures, live with its keys).
    rm -rf "$wd/big.test.zone" "$wd/keys"
}

# ldns: ldns-read-zone (parse and print, the baseline) and ldns-signzone, one core.
big_ldns() { # rep
    local rep=$1 wd key tf out
    wd=$OUTDIR/big/ldns-$rep
    mkdir -p "$wd"
    (cd "$wd" && ldns-keygen -a ECDSAP256SHA256 -k big.test >key.name) || {
        add_note "big rep $rep: ldns-keygen failed"
        return 0
    }
    key=$wd/$(cat "$wd/key.name")
    tf='wall_s=%e user_s=%U sys_s=%S maxrss_kb=%M'
    local b0 n0
    for what in unsigned signed; do
        b0=$(busy_ticks cpu)
        n0=$(date +%s%N)
        if [[ $what == unsigned ]]; then
            out=$(timeout 900 taskset -c "$SERVER_CPU" /usr/bin/time -f "$tf" ldns-read-zone "$BIG" 2>&1 >"$wd/read.out") || true
        else
            out=$(timeout 1800 taskset -c "$SERVER_CPU" /usr/bin/time -f "$tf" ldns-signzone -n -t 0 \
                -o big.test -f "$wd/big.signed" "$BIG" "$key" 2>&1) || true
        fi
        local wall user sys rss
        wall=$(kv wall_s "$out") user=$(kv user_s "$out") sys=$(kv sys_s "$out") rss=$(kv maxrss_kb "$out")
        if [[ -z $wall ]]; then
            add_note "big rep $rep: ldns ($what) failed: $(tail -2 <<<"$out" | tr '\n' ' ')"
            continue
        fi
        ROW=([rep]=$rep [signer]=ldns [variant]=$what [cores]=1 [threads]=1 [records]=$BIG_N)
        ROW[ready_ms]=$(awk -v w="$wall" 'BEGIN {printf "%.0f", w * 1000}')
        ROW[cpu_s]=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
        ROW[peak_kb]=$rss
        ROW[other_pct]=$(awk -v b="$(($(busy_ticks cpu) - b0))" -v c="${ROW[cpu_s]}" -v hz="$CLK_TCK" \
            -v w="$(awk -v a="$n0" -v b="$(date +%s%N)" 'BEGIN {print (b - a) / 1e9}')" \
            -v n="$(getconf _NPROCESSORS_ONLN)" 'BEGIN {printf "%.1f", 100 * (b / hz - c) / (w * n)}')
        if [[ $what == signed ]]; then
            local counts
            counts=$(awk '$4 == "RRSIG" {r++} $4 == "NSEC3" {n++} $4 == "NSEC3PARAM" {p = $5 " " $6 " " $7 " " $8}
                END {print r + 0, n + 0, p}' "$wd/big.signed")
            read -r 'ROW[signatures]' 'ROW[nsec3]' _ <<<"$counts"
            [[ $counts == *" 1 0 0 -" ]] || add_note "big rep $rep: ldns-signzone's NSEC3PARAM is not '1 0 0 -': $counts"
        fi
        note "big rep $rep ldns $what: wall $wall s, CPU ${ROW[cpu_s]} s, max RSS $rss kB${ROW[signatures]:+, signatures ${ROW[signatures]}}"
        big_row
    done
    rm -f "$wd/read.out" "$wd/big.signed"
}

phase_big() {
    ensure_data big
    BIG=$BENCH_DATA/big.test.zone
    BIG_N=$(zone_records "$BIG")
    BIG_LAST=$(awk '$1 ~ /^h[0-9]+$/ {n = $1} END {print n}' "$BIG").big.test
    local last=${BIG_LAST#h}
    BIG_MID=$(printf 'h%07d.big.test' $((10#${last%%.*} / 2)))
    BIG_TSV=$OUTDIR/big.tsv
    tr ' ' '\t' <<<"$BIG_COLS" >"$BIG_TSV"
    WRITE_CONFIG=write_big_config
    WAIT_POLL_S=0.1
    READY_TIMEOUT=$BIG_READY_TIMEOUT
    local rep g
    for ((rep = 1; rep <= BIG_REPS; rep++)); do
        for g in $SIGNERS; do
            case $g in
            meridiand)
                big_server "$rep" meridiand unsigned 2 1
                big_server "$rep" meridiand signed 1 0
                big_server "$rep" meridiand signed 2 1
                ;;
            knot)
                big_server "$rep" knot unsigned 2 0
                big_server "$rep" knot signed 1 0
                big_server "$rep" knot signed 2 0
                ;;
            ldns) big_ldns "$rep" ;;
            esac
        done
    done
    WAIT_POLL_S=0.02 READY_TIMEOUT=120
}

for p in $PHASES; do
    case $p in
    cap) phase_cap ;;
    big) phase_big ;;
    esac
done

# ---------------------------------------------------------------------------- output
{
    rev=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
    [[ -n $(git -C "$REPO_ROOT" status --porcelain -- src 2>/dev/null) ]] && rev+=" + uncommitted changes in src/"
    echo "## Meridian DNSSEC benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Host: $(getconf _NPROCESSORS_ONLN) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r)." \
        "meridiand: $MERIDIAND_BIN (built $(date -u -r "$MERIDIAND_BIN" '+%Y-%m-%d %H:%M UTC') from $rev);" \
        "Knot $(knotd -V | awk '{print $NF}'); ldns $(ldns-signzone -v 2>&1 | sed -n 's/.*ldns version \([0-9.]*\).*/\1/p' | head -1)." \
        "Signing: ECDSAP256SHA256 CSK, NSEC3 (SHA-1, 0 extra iterations, no salt)."
    echo "Capacity: one worker per server, all threads on CPU $SERVER_CPU; blast ${BLAST_SOCKETS}x${BLAST_WINDOW} in flight from CPU $GEN_CPU," \
        "$ROUNDS rounds; per round and mix $SLICES turns of one ${BLAST_S}-s blast per server in rotating order, server CPU from schedstat; medians (min-max)."
    echo
    print_report "$OUTDIR"
} | tee "$OUTDIR/table.md"
note "tables: $OUTDIR/table.md; raw data in $OUTDIR"
