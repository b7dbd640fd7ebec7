#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Steered-name benchmark: meridiand against gdnsd (geoip plugin) and Knot DNS (mod-geoip,
# geodb mode) answering www.geo.test by the country of the query's EDNS Client Subnet.
#
#   geo.sh [-r ROUNDS] [-d BLAST_S] [-w WARMUP_S] [-n CHECK_N] [-N QUERIES] [-D DBS]
#          [-S STATIC] [-o OUTDIR] [SERVER...]      SERVER: meridiand gdnsd knot (default all)
#   geo.sh -R RESULTS.tsv                            re-print the tables of an earlier run
#
# Zone geo.test (gen-zone.sh geo: SOA, NS) with www answered by country: US -> 192.0.2.1,
# DE -> 192.0.2.2, anything else -> 192.0.2.3.  Every query carries ECS with a different
# /24 (geo-data.pl ecs, fixed seed: 30% US, 30% DE, 40% other countries).  DBS (-D, default
# "synth real"), one phase each, servers restarted in between:
#   synth: geo-data.pl mmdb: GeoIP2-Country layout, 100.64.0.0/12 US, 100.80.0.0/12 DE,
#          100.96.0.0/11 FR and 20,000 random /16-/24 networks with random countries;
#   real:  $REAL_DB (geo-whois-asn-country.mmdb, flat country_code layout): meridiand reads
#          it with its default lookup paths, Knot with geodb-key country_code; gdnsd cannot
#          read flat layouts (every client gets the default) and is left out of that phase.
# Each server also serves bench.test; the servers in STATIC (-S, default "meridiand") are
# measured with run.sh's static mix as well, in the same rounds, for "steered minus static".
# Per phase: start (one worker, all threads on CPU $SERVER_CPU), check answers (static checks,
# dig +subnet checks for US/DE/other, and the answers to the first CHECK_N (2000) queries of
# the load file compared with the database, geo-data.pl check: a server that differs is left
# out), warm up WARMUP_S (2) s each, then ROUNDS (3) rounds, order reversed every other
# round, of blast saturation (16 sockets x 16 in flight, from CPU $GEN_CPU) for BLAST_S (8) s
# per server and query mix: answered qps and server CPU per answered query.
# Output: Markdown on stdout and in OUTDIR/table.md; raw data OUTDIR/results.tsv and
# checks.tsv.  Env: MERIDIAND, BENCH_OUT (/tmp/meridian-bench), PORT_BASE (5470, +0..+2),
# SERVER_CPU (1), GEN_CPU (0), REAL_DB, BLAST_SOCKETS/BLAST_WINDOW (16/16), FILLER (20000).
set -euo pipefail
PORT_BASE=${PORT_BASE:-5470}
. "$(dirname "$0")/bench-lib.sh"

ROUNDS=3 BLAST_S=8 WARMUP_S=2 CHECK_N=2000 NQUERIES=50000 DBS="synth real" STATIC=meridiand
OUTDIR="" REPORT_ONLY=""
BLAST_SOCKETS=${BLAST_SOCKETS:-16} BLAST_WINDOW=${BLAST_WINDOW:-16} FILLER=${FILLER:-20000}
GEO_SERVERS="meridiand gdnsd knot"
GEO_KNOWN="$GEO_SERVERS meridiand-b" # meridiand-b: $MERIDIAND_B, a second build (bench-lib.sh)
if [[ -z ${REAL_DB:-} ]]; then
    REAL_DB=/var/lib/GeoIP/geo-whois-asn-country.mmdb
    [[ -r $REAL_DB ]] || REAL_DB=/work/shared/geoip/real/geo-whois-asn-country.mmdb
fi
while getopts "r:d:w:n:N:D:S:o:R:h" opt; do
    case $opt in
    r) ROUNDS=$OPTARG ;;
    d) BLAST_S=$OPTARG ;;
    w) WARMUP_S=$OPTARG ;;
    n) CHECK_N=$OPTARG ;;
    N) NQUERIES=$OPTARG ;;
    D) DBS=$OPTARG ;;
    S) STATIC=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    R) REPORT_ONLY=$OPTARG ;;
    *) awk 'NR > 2 && !/^#/ {exit} NR > 2 {print}' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
for v in ROUNDS BLAST_S WARMUP_S CHECK_N NQUERIES FILLER; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done
((BLAST_S >= 1 && BLAST_S <= 300)) || die "-d: 1-300 s"
((ROUNDS >= 1 && ROUNDS <= 20)) || die "rounds: 1-20"
((NQUERIES >= 1000 && NQUERIES <= 1000000 && CHECK_N <= NQUERIES)) || die "-N: 1000-1000000, -n <= -N"
for d in $DBS; do [[ $d == synth || $d == real ]] || die "-D: synth and/or real"; done
[[ $SERVER_CPU =~ ^[0-9]+$ && $GEN_CPU =~ ^[0-9]+$ && $SERVER_CPU != "$GEN_CPU" ]] ||
    die "SERVER_CPU and GEN_CPU must be two different single CPU numbers"

# ---------------------------------------------------------------------------- report
# Markdown from results.tsv and checks.tsv: per database, the answer checks, then the
# saturation table (medians with min-max over rounds, ratios to meridiand steered) and the
# per-round paired figures (meridiand steered - static; meridiand / gdnsd, / Knot).
report() { # results.tsv [checks.tsv]
    local tsv=$1 checks=${2:-$(dirname "$1")/checks.tsv}
    [[ -r $checks ]] || checks=/dev/null
    awk -F'\t' '
    function sortv(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function med(a, n, what) { if (n == 0) return ""; sortv(a, n)
        if (what == "min") return a[1]; if (what == "max") return a[n]
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function st(db, srv, mix, c, what,   n, i, a) { n = 0
        for (i = 1; i <= nr; i++) if (D[i] == db && S[i] == srv && X[i] == mix && V[i, c] != "") a[++n] = V[i, c] + 0
        return med(a, n, what) }
    function cnt(db, srv, mix,   i, n) { n = 0; for (i = 1; i <= nr; i++) n += (D[i] == db && S[i] == srv && X[i] == mix); return n }
    function mm(db, srv, mix, c, fmt) { return sprintf(fmt " (" fmt "-" fmt ")", st(db, srv, mix, c, "med"),
        st(db, srv, mix, c, "min"), st(db, srv, mix, c, "max")) }
    function ratio(db, srv, mix, c,   r) { r = st(db, "meridiand", "steered", c, "med")
        return (r == "" || r == 0) ? "-" : sprintf("%.2f", st(db, srv, mix, c, "med") / r) }
    function pos(x) { return x < 0 ? 0 : x }
    # Per-round pairs of column c: a - b ("diff") or a / b ("ratio"); median (min to max).
    function paired(db, sa, ma, sb, mb, c, op, fmt,   i, r, n, a, va, vb) {
        for (i = 1; i <= nr; i++) if (D[i] == db && V[i, c] != "") {
            if (S[i] == sa && X[i] == ma) va[R[i]] = V[i, c] + 0
            if (S[i] == sb && X[i] == mb) vb[R[i]] = V[i, c] + 0 }
        n = 0
        for (r in va) if ((r in vb) && (op == "diff" || vb[r] != 0)) a[++n] = (op == "diff") ? va[r] - vb[r] : va[r] / vb[r]
        if (n == 0) return "-"
        return sprintf(fmt " (" fmt " to " fmt ", %d rounds)", med(a, n, "med"), med(a, n, "min"), med(a, n, "max"), n) }
    function adddb(d) { if (!(d in dseen)) { dseen[d] = 1; dorder[++nd] = d } }
    FNR == 1 { file++; for (i = 1; i <= NF; i++) H[file, i] = $i; next }
    file == 1 { nr++
      for (k = 1; k <= NF; k++) V[nr, H[1, k]] = $k
      D[nr] = V[nr, "db"]; S[nr] = V[nr, "server"]; X[nr] = V[nr, "mix"]; R[nr] = V[nr, "round"]
      adddb(D[nr])
      key = D[nr] SUBSEP S[nr] SUBSEP X[nr]
      if (!(key in kseen)) { kseen[key] = 1; korder[D[nr], ++nk[D[nr]]] = S[nr] SUBSEP X[nr] }
      next }
    file == 2 { nc++; for (k = 1; k <= NF; k++) C[nc, H[2, k]] = $k; adddb(C[nc, "db"]); next }
    END {
      for (di = 1; di <= nd; di++) { db = dorder[di]
        printf "### %s\n\n", (db == "synth" ? "Synthetic GeoIP2-Country database" : "Real-world database (flat country_code layout)")
        for (i = 1; i <= nc; i++) if (C[i, "db"] == db && C[i, "server"] == "database") printf "%s\n\n", C[i, "note"]
        printf "| answers from | known ECS checks passed | first N queries of the load file: N | 192.0.2.1 (US) | 192.0.2.2 (DE) | 192.0.2.3 (other) | other / no answer | differ from the database | ECS scope returned (prefix:count) |\n"
        printf "|---|---|---|---|---|---|---|---|---|\n"
        for (i = 1; i <= nc; i++) if (C[i, "db"] == db)
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", C[i, "server"] == "database" ? "database (expected)" : C[i, "server"],
            C[i, "known"], C[i, "n"], C[i, "a1"], C[i, "a2"], C[i, "a3"], C[i, "other"] + C[i, "timeout"], C[i, "wrong"], C[i, "scope"]
        if (!nk[db]) { printf "\n(no measurements)\n\n"; continue }
        printf "\n| server | query mix | rounds | answered qps, median (min-max) | qps vs meridiand steered | server CPU %% | server CPU us/query, median (min-max) | us/query vs meridiand steered | lost %% | NOERROR %% | avg response bytes | generator CPU %% | other load %%, server / generator core |\n"
        printf "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for (k = 1; k <= nk[db]; k++) { split(korder[db, k], p, SUBSEP); s = p[1]; x = p[2]
          printf "| %s | %s | %d | %s | %s | %.0f | %s | %s | %.3f | %.1f | %.1f | %.0f | %.0f / %.0f |\n", s,
            (x == "steered" ? "steered: www A + ECS" : "static: run.sh mix"), cnt(db, s, x),
            mm(db, s, x, "answered_qps", "%.0f"), ratio(db, s, x, "answered_qps"), st(db, s, x, "server_cpu_pct", "med"),
            mm(db, s, x, "us_per_query", "%.2f"), ratio(db, s, x, "us_per_query"), st(db, s, x, "lost_pct", "med"),
            st(db, s, x, "noerror_pct", "med"), st(db, s, x, "resp_bytes", "med"), st(db, s, x, "gen_cpu_pct", "med"),
            pos(st(db, s, x, "other_server_core_pct", "med")), pos(st(db, s, x, "other_gen_core_pct", "med")) }
        printf "\nPer-round pairs, median (min to max):\n\n"
        if (cnt(db, "meridiand", "steered") && cnt(db, "meridiand", "static"))
          printf "- meridiand, steered minus static: %s us of server CPU per query (target <= +0.5 us).\n",
            paired(db, "meridiand", "steered", "meridiand", "static", "us_per_query", "diff", "%+.2f")
        split("gdnsd knot", o, " ")
        for (j = 1; j <= 2; j++) if (cnt(db, "meridiand", "steered") && cnt(db, o[j], "steered"))
          printf "- meridiand / %s, steered: qps %s%s; us/query %s.\n", o[j],
            paired(db, "meridiand", "steered", o[j], "steered", "answered_qps", "ratio", "%.2f"),
            o[j] == "gdnsd" ? " (target >= 1.0)" : "",
            paired(db, "meridiand", "steered", o[j], "steered", "us_per_query", "ratio", "%.2f")
        for (j = 1; j <= 2; j++) if (cnt(db, o[j], "steered") && cnt(db, o[j], "static"))
          printf "- %s, steered minus static: %s us of server CPU per query.\n", o[j],
            paired(db, o[j], "steered", o[j], "static", "us_per_query", "diff", "%+.2f")
        printf "\n"
      }
    }' "$tsv" "$checks"
}

if [[ -n $REPORT_ONLY ]]; then
    report "$REPORT_ONLY"
    exit 0
fi

# ---------------------------------------------------------------------------- setup
SERVERS=("$@")
((${#SERVERS[@]})) || read -r -a SERVERS <<<"$GEO_SERVERS"
for s in "${SERVERS[@]}" $STATIC; do
    [[ " $GEO_KNOWN " == *" $s "* ]] || die "unknown server '$s' (known: $GEO_KNOWN)"
done
OUTDIR=${OUTDIR:-$BENCH_OUT/runs/geo-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR"
ensure_data bench geo queries
build_blast
GEO_QFILE=$BENCH_DATA/geo-queries.txt
echo "www.geo.test A" >"$GEO_QFILE"
trap 'stop_all' EXIT
trap 'exit 130' INT TERM
# The harness (dig, the answer checks) stays on the generator's core.
taskset -p -c "$GEN_CPU" $$ >/dev/null

TSV=$OUTDIR/results.tsv CHECKS=$OUTDIR/checks.tsv
printf 'db\tround\tserver\tmix\tdur_s\tsent\tanswered\tlost\tanswered_qps\tserver_ticks\tserver_cpu_pct\tus_per_query\tgen_cpu_pct\tother_server_core_pct\tother_gen_core_pct\tlost_pct\tnoerror_pct\tresp_bytes\n' >"$TSV"
printf 'db\tserver\tknown\tn\ta1\ta2\ta3\tother\ttimeout\twrong\tscope\tnote\n' >"$CHECKS"
NOTES=()

mmdb_meta() { # db field (Type, Build epoch)
    mmdblookup --file "$1" --ip 8.8.8.8 --verbose 2>/dev/null | sed -n "s/^ *$2: *//p" | head -1
}

# Sets GEO_DB, GEO_FLAT (Knot's key), ECS (file prefix), GEO_CHECKS and DB_NOTE for a phase,
# and writes the database's expected split to checks.tsv.
prepare_db() { # synth|real
    local split
    case $1 in
    synth)
        geo_synth_data || return 1
        DB_NOTE="Database \`$(basename "$GEO_DB")\` (geo-data.pl mmdb, $(du -k "$GEO_DB" | cut -f1) KiB): GeoIP2-Country layout, $(($(wc -l <"$GEO_DB.csv") - 1)) networks: 100.64.0.0/12 US, 100.80.0.0/12 DE, 100.96.0.0/11 FR and $FILLER random /16-/24 networks with 24 random countries. ECS /24s: half of the draws from the three ranges, half from random networks of the file."
        GEO_CHECKS=$GEO_SYNTH_CHECKS
        ;;
    real)
        [[ -r $REAL_DB ]] || return 1
        GEO_DB=$REAL_DB GEO_FLAT=1
        ECS=$BENCH_DATA/geo-real-$(basename "$REAL_DB" .mmdb)-$NQUERIES
        gen_ecs "$GEO_DB" "$ECS" || return 1
        DB_NOTE="Database \`$GEO_DB\` ($(du -k "$GEO_DB" | cut -f1) KiB, type \"$(mmdb_meta "$GEO_DB" Type)\", build epoch $(mmdb_meta "$GEO_DB" 'Build epoch')): flat \`country_code\` records; data from the NRO and RIR statistics via ip-location-db, CC BY 4.0. ECS /24s drawn at random from 1-223.x.x.x (not 10/8, 127/8)."
        GEO_CHECKS="\
geo.test SOA NOERROR hostmaster.geo.test.
geo.test NS NOERROR ns2.geo.test.
www.geo.test A NOERROR addr:192.0.2.1 8.8.8.0/24
www.geo.test A NOERROR addr:192.0.2.1 8.8.4.0/24
www.geo.test A NOERROR addr:192.0.2.2 85.214.0.0/24
www.geo.test A NOERROR addr:192.0.2.2 91.0.0.0/24
www.geo.test A NOERROR addr:192.0.2.3 133.0.0.0/24
www.geo.test A NOERROR addr:192.0.2.3 200.160.0.0/24
www.geo.test A NOERROR addr:192.0.2.3"
        ;;
    esac
    split=$(awk '{n[$3]++} END {printf "%d US / %d DE / %d other", n["192.0.2.1"], n["192.0.2.2"], n["192.0.2.3"]}' "$ECS.expect")
    DB_NOTE+=" Load: $NQUERIES queries \`www.geo.test A\`, each with ECS for a different /24 (fixed seed): $split. Known checks: SOA, NS, 6 ECS networks (2 per answer) and one query without ECS (client 127.0.0.1, not in the database: default)."
    local n a1 a2 a3
    read -r n a1 a2 a3 < <(head -n "$CHECK_N" "$ECS.expect" |
        awk '{c[$3]++} END {print NR, c["192.0.2.1"] + 0, c["192.0.2.2"] + 0, c["192.0.2.3"] + 0}')
    printf '%s\tdatabase\t-\t%s\t%s\t%s\t%s\t0\t0\t-\t-\t%s\n' "$1" "$n" "$a1" "$a2" "$a3" "$DB_NOTE" >>"$CHECKS"
}

WRITE_CONFIG=write_geo_config # bench-lib.sh

# One blast saturation run of SERVER with MIX (steered: the ECS load; static: run.sh's mix).
run_one() { # server mix round seconds record(0/1)
    local s=$1 mix=$2 out args gen_s
    if [[ $mix == steered ]]; then
        args=(-q "$GEO_QFILE" -e "$ECS.ecs")
    else
        args=(-q "$BENCH_DATA/queries.txt")
    fi
    blast_measure "$s" "$4" "${args[@]}"
    out=$BLAST_OUT gen_s=$BLAST_GEN_S
    (($5)) || return 0
    [[ -n $out ]] || {
        NOTES+=("$DB round $3: blast against $s ($mix) failed")
        return 0
    }
    echo "db=$DB round=$3 server=$s mix=$mix $out" >>"$OUTDIR/blast.log"
    awk -v OFS='\t' -v db="$DB" -v r="$3" -v s="$s" -v mix="$mix" -v d="$(kv duration_s "$out")" \
        -v sent="$(kv sent "$out")" -v ans="$(kv answered "$out")" -v lost="$(kv lost "$out")" \
        -v t="$T_TICKS" -v hz="$CLK_TCK" -v w="$T_WALL" -v sbusy="$T_SBUSY" -v gbusy="$T_GBUSY" \
        -v gen="$gen_s" -v ok="$(kv rcode_NOERROR "$out")" -v rb="$(kv avg_resp_bytes "$out")" '
        BEGIN { cpu = t / hz
          print db, r, s, mix, d, sent, ans, lost, ans / d, t, 100 * cpu / w,
            (ans > 0 ? cpu * 1e6 / ans : 0), 100 * gen / w, 100 * (sbusy / hz - cpu) / w,
            100 * (gbusy / hz - gen) / w, (sent > 0 ? 100 * lost / sent : 0),
            (ans > 0 ? 100 * ok / ans : 0), rb }' >>"$TSV"
}

is_static() { [[ " $STATIC " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------- phases
# One database: start the servers, check them, warm up, measure, stop them.
run_phase() { # synth|real
    DB=$1
    if ! prepare_db "$DB"; then
        NOTES+=("$DB: no database (REAL_DB=$REAL_DB unreadable, or generation failed); phase skipped")
        return 0
    fi
    local s ok fails tally total n a1 a2 a3 other timeout wrong scope
    local items=()
    ACTIVE=()
    SERVER_MAX_LIFE=$((ROUNDS * 2 * ${#SERVERS[@]} * (BLAST_S + 10) + WARMUP_S * 6 + 600))
    total=$(grep -c . <<<"$GEO_CHECKS")
    for s in "${SERVERS[@]}"; do
        if [[ $DB == real && $s == gdnsd ]]; then
            NOTES+=("real: gdnsd left out: its geoip plugin reads only the GeoIP2 layout (continent.code, country.iso_code); with a flat country_code file every client would get the default answer")
            continue
        fi
        if ! start_server "$s" "$OUTDIR/$DB/$s" geo.test "$BENCH_DATA/geo.test.zone" www.geo.test "$SERVER_CPU"; then
            NOTES+=("$DB: $s did not start or not ready; left out")
            continue
        fi
        ok=1
        if is_static "$s" && ! check_answers "$s"; then
            NOTES+=("$DB: $s: wrong answers to the static checks (see stderr); left out")
            ok=0
        fi
        fails=0
        check_answers "$s" "$GEO_CHECKS" || fails=$?
        tally=$("$BENCH_DIR/geo-data.pl" check "$(port_of "$s")" "$ECS.ecs" "$ECS.expect" "$CHECK_N") || tally=""
        n=$(kv n "$tally") a1=$(kv .1 "$tally") a2=$(kv .2 "$tally") a3=$(kv .3 "$tally")
        other=$(kv other "$tally") timeout=$(kv timeout "$tally") wrong=$(kv wrong "$tally")
        scope=$(kv scope "$tally")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\n' "$DB" "$s" "$((total - fails))/$total" \
            "${n:--}" "${a1:--}" "${a2:--}" "${a3:--}" "${other:-0}" "${timeout:-0}" "${wrong:--}" \
            "${scope:--}" >>"$CHECKS"
        note "$DB $s: ready in ${READY_MS[$s]} ms; known checks $((total - fails))/$total; first $CHECK_N: $tally"
        if ((fails > 0)) || [[ ${wrong:-x} != 0 || ${timeout:-x} != 0 ]]; then
            NOTES+=("$DB: $s: wrong steered answers ($fails of $total known checks failed; ${wrong:-?} of the first $CHECK_N differ from the database, ${timeout:-?} timeouts); left out")
            ok=0
        fi
        if ((ok)); then ACTIVE+=("$s"); else stop_server "$s"; fi
    done
    ((${#ACTIVE[@]})) || {
        NOTES+=("$DB: no server passed the checks")
        return 0
    }
    for s in "${ACTIVE[@]}"; do
        if is_static "$s"; then items+=("$s:static"); fi
        items+=("$s:steered")
    done
    note "$DB: measuring"
    # shellcheck disable=SC2016 # an awk program
    run_items "$TSV" "$OUTDIR/$DB" \
        '{printf "qps %.0f, us/query %.2f, server CPU %.0f%%, other load %.0f%%", $9, $12, $11, $14}' "${items[@]}"
    stop_all
}

for d in $DBS; do run_phase "$d"; done

# ---------------------------------------------------------------------------- output
{
    m=$(find_meridiand)
    rev=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
    [[ -n $(git -C "$REPO_ROOT" status --porcelain -- src 2>/dev/null) ]] && rev+=" + uncommitted changes in src/"
    echo "## Meridian steered-name benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Host: $(getconf _NPROCESSORS_ONLN) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r)." \
        "Servers: meridiand ($m, built $(date -u -r "$m" '+%Y-%m-%d %H:%M UTC') from $rev)," \
        "gdnsd $(gdnsd -h 2>&1 | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1) (geoip plugin)," \
        "Knot $(knotd -V | awk '{print $NF}') (mod-geoip, geodb mode)."
    echo "Each server: one worker, all threads on CPU $SERVER_CPU; blast on CPU $GEN_CPU, ${BLAST_SOCKETS}x${BLAST_WINDOW}" \
        "in flight, ${BLAST_S} s per run; $ROUNDS rounds, order reversed every other round; medians over rounds (min-max)." \
        "www.geo.test: US -> 192.0.2.1, DE -> 192.0.2.2, anything else -> 192.0.2.3 (TTL 60)." \
        "Static mix: run.sh's bench.test queries (no EDNS) against the same server process."
    echo
    report "$TSV" "$CHECKS"
    for n in "${NOTES[@]}"; do echo "- note: $n"; done
} | tee "$OUTDIR/table.md"
note "results: $TSV, checks: $CHECKS, tables: $OUTDIR/table.md"
