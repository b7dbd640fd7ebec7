#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-anycast.sh: the `bgp` ctest. Builds the anycast lab (deploy/lab/lab-lib.sh: a router, a
# client and two sites in network namespaces; BIRD with the shipped deploy/bird configs on
# every side; the real meridiand and meridian-anycast at each site) and checks, each against
# a time bound and with the measured time printed:
#
#   boot        sessions up, nothing announced before the sidecars run
#   startup     the sidecars announce; site1 is the router's best path (site2 prepends);
#               the client's queries to the anycast address are answered by site1 (NSID)
#   configure   an unrelated `birdc configure` at site1 changes nothing at the router, over
#               a window closed by events (sidecar probe rounds and BIRD checks), proved by
#               counters at both ends of the session (see the configure section)
#   fail        meridiand at site1 killed -> site1 withdrawn, client answered by site2;
#               restarted -> announced again, not before the hold-down
#   hang        meridiand at site1 SIGSTOPped -> withdrawn; SIGCONT -> back after hold-down
#   sidecar     meridian-anycast SIGKILLed -> withdrawn within 1 s x scale (its tun gates vanish)
#   flap        a flapping meridiand: the route stays withdrawn for at least hold_down,
#               and the second withdrawal holds at least twice as long (doubling)
#   drain       GRACEFUL_SHUTDOWN path first (best path moves to site2 while site1 is still
#               announced), withdrawal after drain_time; undrain announces again
#   bird        BIRD at site1 restarted -> announcement restored
#
# Time bounds: an upper bound is "model x measured stretch + slack", times the time scale
# MERIDIAN_TEST_TIME_SCALE (ctest sets it: 3 for Asan, 2 for Debug, 1 otherwise;
# tests/CMakeLists.txt). The model comes from the sidecar timers set below; the stretch is the
# sidecar's probe period measured in this run over its configured interval (asserted to stay
# close to it, so a slow sidecar cannot widen its own bounds); the slack covers scheduling on
# a loaded 2-core machine. Chains with no probe round in them (sidecar killed, BIRD stopped)
# have a fixed bound times the scale. Lower bounds ("not before the hold-down") are never
# scaled. A route change is timed by the router's BIRD trace log (when it reached the
# router's RIB), not by when polling noticed it, so slow polling on a loaded machine does not
# count against the sidecar; polling goes on to 3x the bound, so a late change is reported
# with its time rather than as missing.
#
# Usage: test-anycast.sh [--meridiand PATH] [--anycast PATH] (or MERIDIAND, MERIDIAN_ANYCAST).
# Needs root, ip netns, bird2, dig, /dev/net/tun; exits 77 (SKIP) with the reason otherwise.
# Ends with "N passed, N failed"; exit 0 only if nothing failed. KEEP=1 keeps the run
# directory (it is kept anyway when something failed).
set -u -o pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/lab/lab-lib.sh
. "$HERE/../../deploy/lab/lab-lib.sh"

while [ $# -gt 0 ]; do
  case $1 in
    --meridiand) MERIDIAND=$2; shift 2 ;;
    --anycast) MERIDIAN_ANYCAST=$2; shift 2 ;;
    *) echo "usage: $0 [--meridiand PATH] [--anycast PATH]" >&2; exit 2 ;;
  esac
done

# shellcheck disable=SC2034  # the LAB_* knobs are read by lab-lib.sh
# Short sidecar timers so the whole run stays around a minute; the bounds below follow them.
LAB_NAME="t$$"
TEST_BASE=/run/meridian-bgp-test
LAB_DIR="$TEST_BASE/$LAB_NAME"
LAB_SITES=2
LAB_INTERVAL=1s INTERVAL_MS=1000
LAB_FAST_INTERVAL=200ms FAST_MS=200
LAB_TIMEOUT=500ms TIMEOUT_MS=500
LAB_RISE=3 LAB_FALL=3
LAB_HOLD_DOWN=3s HOLD_MS=3000
LAB_HOLD_DOWN_MAX=12s HOLD_MAX_MS=12000
LAB_DRAIN_TIME=3s DRAIN_MS=3000
BIRD_CHECK_MS=2000 # the sidecar's default bird_interval (lab-lib.sh leaves it unset)

SCALE=${MERIDIAN_TEST_TIME_SCALE:-1}
if ! [[ $SCALE =~ ^[1-9][0-9]?$ ]]; then
  echo "MERIDIAN_TEST_TIME_SCALE must be an integer 1..99, not '$SCALE'" >&2
  exit 2
fi
# Per-event slack: the sidecar, two BIRDs and the kernel each wake up once or twice between a
# fault and the router's RIB; on a loaded machine each wake-up may wait its turn.
SLACK_MS=1000
# withdrawal after meridiand hangs: the next round (<= interval), then `fall` failed rounds,
# each up to the probe timeout plus the fast interval
DETECT_MODEL_MS=$((INTERVAL_MS + LAB_FALL * (TIMEOUT_MS + FAST_MS)))
# after meridiand dies its probes are refused at once (ICMP port unreachable, TCP RST), so
# the failed rounds follow each other at the fast interval
DEAD_MODEL_MS=$((INTERVAL_MS + LAB_FALL * FAST_MS))
# announcement of a healthy site: the next round, then `rise` passing rounds
RISE_MODEL_MS=$((INTERVAL_MS + LAB_RISE * (TIMEOUT_MS + FAST_MS)))
# the sidecar's probe period measured in this run (the configure section); until then the
# configured interval. Bounds taken from the models scale with PERIOD_MS / INTERVAL_MS.
PERIOD_MS=$INTERVAL_MS
# a measured period above this fails the run (and no bound stretches further)
PERIOD_MAX_MS=$((INTERVAL_MS + 250 * SCALE))
# bound MODEL_MS [SLACK_MS]: the upper bound for a change the sidecar's rounds drive
bound() { echo $((SCALE * ($1 * PERIOD_MS / INTERVAL_MS + ${2:-$SLACK_MS}))); }
# scaled MS: a fixed upper bound for a chain of events (no probe rounds in it)
scaled() { echo $((SCALE * $1)); }
lab_init || exit 2

PASSES=0
FAILS=0
TIMES=()
pass() { PASSES=$((PASSES + 1)); echo "PASS: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
info() { echo "      $*"; }
# timing NAME MEASURED SOURCE BOUND_MS [POLLED_MS]: one row of the closing table
timing() {
  local polled=""
  [ $# -ge 5 ] && polled="; polled ${5} ms"
  TIMES+=("$(printf '%-60s %9s ms %-10s (bound %s ms%s)' "$1" "$2" "$3" "$4" "$polled")")
  echo "TIME: ${TIMES[-1]}"
}
# ------------------------------------------------------------- preflight ----
skip() {
  echo "SKIP: $*"
  echo "0 passed, 0 failed"
  exit 77
}
missing=$(lab_missing)
[ -z "$missing" ] || skip "missing: $(tr '\n' ' ' <<< "$missing")"

# Leftovers of an earlier run that was SIGKILLed (e.g. by a ctest timeout): its owner is
# gone, so remove what its state file recorded (only mer-* namespaces and processes whose
# command line names that run directory).
for d in "$TEST_BASE"/t*; do
  [ -f "$d/owner" ] || continue
  kill -0 "$(cat "$d/owner")" 2> /dev/null && continue
  (LAB_DIR=$d lab_down) && rm -rf -- "$d"
done

CLEANED=0
cleanup() {
  local rc=$?
  [ "$CLEANED" = 1 ] && return
  CLEANED=1
  trap - EXIT INT TERM
  [ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2> /dev/null && wait "$WATCHDOG" 2> /dev/null
  if [ "$rc" -ne 0 ] && [ "$FAILS" -eq 0 ]; then fail "aborted (status $rc) before all checks ran"; fi
  if lab_down; then pass "teardown: every process and namespace of the run removed"
  else fail "teardown left processes or namespaces behind (see $LAB_DIR/state)"; fi
  if [ ${#TIMES[@]} -gt 0 ]; then
    echo "---- measured times, ms from the action (router log: the router's BIRD trace log; polled:"
    echo "     between the start of the last poll that saw the old state and the end of the first"
    echo "     that saw the new one, judged on the first; time scale $SCALE) ----"
    printf '%s\n' "${TIMES[@]}"
  fi
  if [ "$FAILS" -gt 0 ] || [ "${KEEP:-0}" = 1 ]; then
    echo "run directory kept: $LAB_DIR"
  else
    rm -rf -- "$LAB_DIR"
  fi
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ] && exit 0
  exit 1
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

mkdir -p "$LAB_DIR" && echo $$ > "$LAB_DIR/owner"
# Our own deadline, below ctest's TIMEOUT of 600 s x scale (tests/bgp/CMakeLists.txt), so
# the trap still tears down. The timer
# gives up as soon as this shell is gone (it would be re-parented), so it never signals a
# recycled pid.
TEST_PID=$$
(
  end=$((SECONDS + 540 * SCALE))
  while [ "$SECONDS" -lt "$end" ]; do
    sleep 2
    read -r _ _ _ ppid _ < "/proc/$BASHPID/stat"
    [ "$ppid" = "$TEST_PID" ] || exit 0
  done
  kill -TERM "$TEST_PID"
) > /dev/null 2>&1 &
WATCHDOG=$!

# --------------------------------------------------------------- helpers ----
# wait_for CEILING_MS CMD...: poll CMD (every ~50 ms) until it succeeds, or fail (status 1)
# once CEILING_MS from T0 (set by the caller right before the action) have passed. What CMD
# waits for happened between the start of the last poll that failed and the end of the one
# that succeeded: EARLIEST and WAITED, in ms from T0 (EARLIEST 0 if the first poll succeeded).
# Bounds on polled changes are judged on EARLIEST, so a poll slowed down by a loaded machine
# is not taken for a late change (lateness shorter than one poll can go unseen).
wait_for() {
  local ceiling=$1 start
  shift
  EARLIEST=0
  while :; do
    now_ms
    start=$((NOW - T0))
    if "$@"; then now_ms; WAITED=$((NOW - T0)); return 0; fi
    EARLIEST=$start
    now_ms
    WAITED=$((NOW - T0))
    [ "$WAITED" -ge "$ceiling" ] && return 1
    sleep 0.05
  done
}
# await BOUND_MS CMD...: wait_for up to 3 x BOUND_MS, so that a change which comes late is
# still measured (and judged late) rather than reported as missing
await() {
  local b=$1
  shift
  wait_for $((3 * b)) "$@"
}
start_clock() { now_ms; T0=$NOW; }

site1_present() { rt_has "$ANY4" s1v4 && rt_has "$ANY6" s1v6; }
site1_absent() { rt_absent "$ANY4" s1v4 && rt_absent "$ANY6" s1v6; }
site2_present() { rt_has "$ANY4" s2v4 && rt_has "$ANY6" s2v6; }
best_is() { [ "$(rt_best "$ANY4")" = "$1" ] && [ "$(rt_best "$ANY6")" = "${1/v4/v6}" ]; }
site1_best() { site1_present && best_is s1v4; }
answered_by() { [ "$(lab_query "$ANY4_ADDR")" = "$1" ] && [ "$(lab_query "$ANY6_ADDR")" = "$1" ]; }
established() {
  local p out
  for p in "$@"; do
    out=$(lab_birdc r show protocols "$p") || return 1
    awk -v p="$p" '$1 ~ ("^([0-9][0-9][0-9][0-9]-)?" p "$") && / Established/ { f = 1 } END { exit !f }' \
      <<< "$out" || return 1
  done
}
# route_since PREFIX PROTO: the router's "since" stamp of PROTO's route for PREFIX
route_since() {
  lab_birdc r show route "$1" protocol "$2" \
    | sed -n "s/.*unicast \\[$2 \\([0-9-]* [0-9:.]*\\)\\].*/\\1/p" | head -n 1
}
# session_since WHO PROTO: the "since" stamp of the session PROTO at WHO (r or sN)
session_since() {
  lab_birdc "$1" show protocols "$2" \
    | awk -v p="$2" '$1 ~ ("^([0-9][0-9][0-9][0-9]-)?" p "$") { print $5 " " $6 }' | head -n 1
}
# counters WHO PROTO: PROTO's route counts and route change counters at WHO on one line
# ("Import updates: received rejected filtered ignored accepted", ...); "" if BIRD did not
# answer. Every UPDATE and withdrawal a session receives or sends counts, even an identical
# re-announcement, so equal counters mean nothing was sent, however briefly.
counters() {
  lab_birdc "$1" show protocols all "$2" | sed 's/^[0-9][0-9][0-9][0-9][- ]//' | awk '
    /^ *(Routes|Import updates|Import withdraws|Export updates|Export withdraws):/ {
      $1 = $1; printf "%s; ", $0 }'
}
# counter WHO PROTO "Import updates" N: the Nth number of that line (1 received .. 5 accepted)
counter() {
  counters "$1" "$2" | tr ';' '\n' | awk -v k="$3:" -v n="$4" '
    { sub(/^ +/, "") } index($0, k) == 1 { split(substr($0, length(k) + 1), w, " "); print w[n] }'
}
# BIRD prints monotonic times as wall-clock, so one stamp can read 1 ms apart in two queries
same_stamp() {
  [ -n "$1" ] && [ -n "$2" ] || return 1
  local d=$(($(date -d "$1" +%s%3N) - $(date -d "$2" +%s%3N)))
  [ "${d#-}" -le 50 ]
}
sidecar_status() { lab_sidecar_cmd 1 status 2> /dev/null | tr '\n' ' '; }
# sfield KEY: KEY's value in STATUS (a reply of the sidecar's `status` command)
sfield() { awk -F': ' -v k="$1" '$1 == k { print $2; exit }' <<< "$STATUS"; }

# route_event_ms PROTO4 added|removed: ms from T0 until the router's trace log shows that
# change for PROTO4's IPv4 prefix and for its IPv6 twin (the later of the two); "?" if either
# is missing. This is when the change reached the router's RIB, whatever polling saw.
route_event_ms() {
  local a b
  if a=$(rib_event_ms "$T0" "$1" "$ANY4" "$2") \
    && b=$(rib_event_ms "$T0" "${1/v4/v6}" "$ANY6" "$2"); then
    echo $((a > b ? a : b))
  else
    echo "?"
    return 1
  fi
}
# route_time PROTO4 added|removed (after a successful wait): EVENT_MS and EVENT_SRC from the
# router's log, or from polling (EARLIEST) if the log does not have it
route_time() {
  if EVENT_MS=$(route_event_ms "$1" "$2"); then EVENT_SRC="router log"
  else EVENT_MS=$EARLIEST EVENT_SRC="polled"; fi
}
polled_time() { EVENT_MS=$EARLIEST EVENT_SRC="polled"; }
# judge WHAT BOUND_MS [MIN_MS]: EVENT_MS within [MIN_MS, BOUND_MS]? PASS or FAIL, and a row
# of the closing table
judge() {
  local what=$1 hi=$2 lo=${3:-} b=$2
  [ -n "$lo" ] && b="$lo..$hi"
  local t=$EVENT_MS
  # a polled change is only known to lie between EARLIEST and WAITED
  [ "$EVENT_SRC" = polled ] && t="$EVENT_MS-$WAITED"
  if [ "$EVENT_MS" -le "$hi" ] && { [ -z "$lo" ] || [ "$EVENT_MS" -ge "$lo" ]; }; then
    pass "$what after $t ms ($EVENT_SRC; bound $b ms)"
  else
    fail "$what after $t ms ($EVENT_SRC), outside the bound $b ms"
  fi
  if [ "$EVENT_SRC" = "router log" ]; then timing "$what" "$t" "$EVENT_SRC" "$b" "$WAITED"
  else timing "$what" "$t" "$EVENT_SRC" "$b"; fi
}

# withdrawn_at: epoch ms at which the router log shows site1's route removed after T0
# (falls back to polling's earliest)
withdrawn_at() {
  local d
  d=$(route_event_ms s1v4 removed) && echo $((T0 + d)) || echo $((T0 + EARLIEST))
}

# ----------------------------------------------------------------- setup ----
echo "run directory $LAB_DIR; $(bird --version 2>&1 | head -n 1); meridiand $MERIDIAND;" \
  "meridian-anycast $MERIDIAN_ANYCAST; time scale $SCALE"
if lab_up nosidecar; then
  pass "setup: namespaces, links, BIRD x3 (configs from deploy/bird parse), meridiand x2"
else
  fail "setup failed"
  exit 1
fi

start_clock
if wait_for "$(scaled 30000)" established s1v4 s1v6 s2v4 s2v6; then
  polled_time
  judge "boot: the router's four BGP sessions are Established" "$(scaled 30000)"
else
  fail "boot: sessions not Established within $(scaled 30000) ms"
  exit 1
fi
# Nothing announced before the sidecars run, proved without waiting: a site's BIRD cannot
# announce a prefix that is not in its table (the gated statics need the sidecar's tun
# devices), and the router's import counters show that no site sent an update or a
# withdrawal since its session came up (so nothing came and went either).
boot_quiet() {
  local n pfx p out u w
  BOOT_WHY=""
  for n in 1 2; do
    for pfx in "$ANY4" "$ANY6"; do
      out=$(lab_birdc "s$n" show route "$pfx")
      if ! grep -q '^8001 ' <<< "$out"; then
        BOOT_WHY="site$n has $pfx: $(tr '\n' ' ' <<< "$out")"
        return 1
      fi
    done
  done
  for p in s1v4 s1v6 s2v4 s2v6; do
    u=$(counter r "$p" "Import updates" 1)
    w=$(counter r "$p" "Import withdraws" 1)
    if [ "$u" != 0 ] || [ "$w" != 0 ]; then
      BOOT_WHY="router $p received ${u:-?} updates, ${w:-?} withdrawals"
      return 1
    fi
  done
  out=$(rt_paths "$ANY4")$(rt_paths "$ANY6") || { BOOT_WHY="router not reached"; return 1; }
  [ -z "$out" ] || { BOOT_WHY="router has paths: $out"; return 1; }
}
if boot_quiet; then
  pass "boot: nothing announced before the sidecars run (the gated prefixes are in no site's" \
    "table; the router received no update or withdrawal on any session)"
else
  fail "boot: $BOOT_WHY"
fi

# --------------------------------------------------------------- startup ----
start_clock
if ! lab_start_sidecar 1 || ! lab_start_sidecar 2; then
  fail "a sidecar did not start"
  exit 1
fi
b=$(bound "$RISE_MODEL_MS")
if await "$b" site1_present; then
  route_time s1v4 added
  judge "startup: site1's prefixes (v4+v6) announced at the router" "$b"
else
  fail "startup: site1 not announced within $((3 * b)) ms (sidecar: $(sidecar_status))"
fi
# site2's sidecar started after site1's had opened its control socket
b=$(bound "$RISE_MODEL_MS" $((SLACK_MS + 2000)))
if await "$b" site2_present; then
  route_time s2v4 added
  judge "startup: site2's prefixes announced too (two paths)" "$b"
else
  fail "startup: site2 not announced within $((3 * b)) ms"
fi
if best_is s1v4; then
  pass "startup: site1 is the router's best path (site2 prepends)"
else
  fail "startup: best path is '$(rt_best "$ANY4")', expected s1v4"
fi
start_clock
b=$(scaled 5000)
if await "$b" answered_by site1; then
  polled_time
  judge "startup: client queries to $ANY4_ADDR and $ANY6_ADDR answered by site1 (NSID)" "$b"
else
  fail "startup: client got '$(lab_query)' / '$(lab_query "$ANY6_ADDR")', expected site1"
fi
if ip -n "$(ns_site 1)" route show table all proto bird | grep -q 'mgate0\|mdrain0\|192\.0\.2\.53'; then
  fail "kernel: site1's kernel table holds gate routes (kernel protocol exports anycast*)"
else
  pass "kernel: the anycast statics stay out of site1's kernel table"
fi
if lab_birdc s1 show route "$ANY4" export up4 | grep -qF "$ANY4 "; then
  pass "export: site1's BIRD exports $ANY4 to up4 ('show route ... export up4')"
else
  fail "export: site1's BIRD does not show $ANY4 exported to up4"
fi
info "site1 sidecar: $(lab_sidecar_brief 1)"

# ------------------------------------------------------------- configure ----
# An unrelated `birdc configure` at site1 must change nothing at the router. A look before and
# after a sleep cannot prove that: a change may come after the sleep, or come and go within
# it. Instead:
#  - What is compared are records that keep every change, however brief: the router's import
#    counters of s1v4/s1v6 (each UPDATE or withdrawal received from site1, even an identical
#    re-announcement), site1's export counters of up4/up6 (each update it sent, so one still
#    in flight at the end of the window counts too), the sessions' "since" stamps at both ends
#    (a session reset would zero the counters), the router's route "since" stamps, the
#    sidecar's transitions, gate changes and BIRD mismatches, and the router's trace log (no
#    route event for site1 since the configure).
#  - The window closes on events, not on a clock. BIRD applies a configuration before it
#    replies 0003; whatever else could react acts on the sidecar's probe rounds (a withdrawal
#    needs `fall` failed rounds) or on its BIRD verifier (a mismatch counts when two checks in
#    a row see it). So the window lasts until the sidecar's own status shows fall+1 probe
#    rounds and 3 BIRD checks started and completed after the reply.
# The rounds seen in the window also give the sidecar's probe period in this run (PERIOD_MS),
# which later bounds follow.
quiet_record() {
  local p
  for p in s1v4 s1v6; do echo "router $p: $(counters r "$p")"; done
  for p in up4 up6; do echo "site1 $p: $(counters s1 "$p")"; done
  STATUS=$(lab_sidecar_cmd 1 status 2> /dev/null)
  echo "sidecar: state $(sfield state), transitions $(sfield transitions)," \
    "gate_changes $(sfield gate_changes), bird_mismatches $(sfield bird_mismatches)"
}
quiet_stamps() {
  echo "$(route_since "$ANY4" s1v4)|$(route_since "$ANY6" s1v6)|$(session_since r s1v4)"
  echo "$(session_since r s1v6)|$(session_since s1 up4)|$(session_since s1 up6)"
}
same_stamps() {
  local a b i
  IFS='|' read -r -a a <<< "$(tr '\n' '|' <<< "$1")"
  IFS='|' read -r -a b <<< "$(tr '\n' '|' <<< "$2")"
  [ "${#a[@]}" = 6 ] && [ "${#b[@]}" = 6 ] || return 1
  for i in 0 1 2 3 4 5; do same_stamp "${a[$i]}" "${b[$i]}" || return 1; done
}
rec_before=$(quiet_record)
stamps_before=$(quiet_stamps)
start_clock
out=$(lab_birdc s1 configure)
STATUS=$(lab_sidecar_cmd 1 status 2> /dev/null)
r0=$(sfield rounds)
c0=$(sfield bird_checks)
window_ok=0
if [[ $r0 =~ ^[0-9]+$ ]] && [[ $c0 =~ ^[0-9]+$ ]]; then
  need_r=$((r0 + LAB_FALL + 2)) # rounds counts round starts: r0+1 .. r0+fall+1 are complete
  need_c=$((c0 + 3))            # the first may have overlapped the reply
  long=$(((LAB_FALL + 2) * INTERVAL_MS))
  [ $((3 * BIRD_CHECK_MS)) -gt "$long" ] && long=$((3 * BIRD_CHECK_MS))
  ceiling=$(scaled $((3 * long)))
  r_seen=$r0 r_first="" t_first=0 r_last=0 t_last=0
  while :; do
    STATUS=$(lab_sidecar_cmd 1 status 2> /dev/null)
    now_ms
    t=$((NOW - T0))
    r=$(sfield rounds)
    c=$(sfield bird_checks)
    if [[ $r =~ ^[0-9]+$ ]] && [ "$r" -gt "$r_seen" ]; then
      [ -z "$r_first" ] && r_first=$r t_first=$t
      r_seen=$r r_last=$r t_last=$t
    fi
    if [[ $c =~ ^[0-9]+$ ]] && [ "$r_seen" -ge "$need_r" ] && [ "$c" -ge "$need_c" ]; then
      window_ok=1
      break
    fi
    [ "$t" -ge "$ceiling" ] && break
    sleep 0.1
  done
fi
rec_after=$(quiet_record)
stamps_after=$(quiet_stamps)
ev='added|removed|updated'
events=$(rib_event_ms "$T0" s1v4 "$ANY4" "$ev")/$(rib_event_ms "$T0" s1v6 "$ANY6" "$ev")
# every record was read (BIRD and the sidecar answered): an empty one would compare equal
complete() {
  [ "$(grep -c 'Import updates: .*Export withdraws: ' <<< "$1")" = 4 ] \
    && grep -q '^sidecar: state [A-Z]' <<< "$1"
}
if [ "$window_ok" != 1 ]; then
  fail "configure: the sidecar did not complete $((LAB_FALL + 1)) probe rounds and 3 BIRD" \
    "checks within $ceiling ms (status: $(tr '\n' ' ' <<< "$STATUS"))"
elif grep -q '^0003' <<< "$out" && [ "$rec_before" = "$rec_after" ] \
  && same_stamps "$stamps_before" "$stamps_after" && [ "$events" = "?/?" ] \
  && complete "$rec_before" && complete "$rec_after" && best_is s1v4; then
  pass "configure: an unrelated 'birdc configure' at site1 changed nothing at the router over" \
    "$((r_seen - r0)) probe rounds and $((c - c0)) BIRD checks ($t ms): same counters at both" \
    "ends, same route and session stamps, no route event, sidecar still $(sfield state)"
else
  fail "configure: something changed (reply '$(tr '\n' ' ' <<< "$out")', router log events" \
    "v4/v6 after $events ms)"
  diff <(echo "$rec_before"; echo "$stamps_before") <(echo "$rec_after"; echo "$stamps_after") \
    | sed 's/^/      /'
fi
# the probe period while UP: from the first to the last round start seen in the window
if [ "$window_ok" = 1 ] && [ $((r_last - r_first)) -ge 2 ]; then
  PERIOD_MS=$(((t_last - t_first) / (r_last - r_first)))
  EVENT_MS=$PERIOD_MS EVENT_SRC="status"
  judge "sidecar probe period while UP (interval $INTERVAL_MS ms)" "$PERIOD_MAX_MS"
  # bounds stretch with the measured period, never below the model nor beyond the maximum
  if [ "$PERIOD_MS" -lt "$INTERVAL_MS" ]; then PERIOD_MS=$INTERVAL_MS; fi
  if [ "$PERIOD_MS" -gt "$PERIOD_MAX_MS" ]; then PERIOD_MS=$PERIOD_MAX_MS; fi
else
  fail "sidecar probe period: not measured (rounds ${r_first:-?}..$r_last)"
fi

# ------------------------------------------------------------------ fail ----
# fault WHAT SIG MODEL_MS: withdrawal after SIG to site1's meridiand, client moves to site2
fault() {
  local what=$1 b
  start_clock
  lab_signal s1-meridiand "$2" || { fail "$what: could not signal meridiand"; return 1; }
  b=$(bound "$3")
  if await "$b" site1_absent; then
    route_time s1v4 removed
    judge "$what: site1 withdrawn at the router" "$b"
  else
    fail "$what: site1 still announced after $((3 * b)) ms (sidecar: $(sidecar_status))"
    return 1
  fi
  W_AT=$(withdrawn_at)
  start_clock
  b=$(scaled 3000)
  if await "$b" answered_by site2; then
    polled_time
    judge "$what: client queries answered by site2 (after the withdrawal)" "$b"
  else
    fail "$what: client got '$(lab_query)', expected site2"
  fi
}

# recovered NAME MIN_HOLD_MS: site1 announced again, not before MIN_HOLD_MS after W_AT (the
# withdrawal), nor later than a rise after whichever came last of the hold-down's end and
# UP_AT (when meridiand was back: the caller sets it)
recovered() {
  local what=$1 min=$2 held rib from hi
  if wait_for $((HOLD_MAX_MS + 3 * $(bound "$RISE_MODEL_MS"))) site1_present; then
    # the router's log says exactly when the route came back; polling only says "by now"
    if rib=$(rib_event_ms "$W_AT" s1v4 "$ANY4" added); then held=$rib EVENT_SRC="router log"
    else held=$((T0 + EARLIEST - W_AT)) EVENT_SRC="polled"; fi
    from=$min
    [ $((UP_AT - W_AT)) -gt "$from" ] && from=$((UP_AT - W_AT))
    hi=$((from + $(bound "$RISE_MODEL_MS")))
    EVENT_MS=$held WAITED=$((T0 + WAITED - W_AT))
    judge "$what: site1 withdrawn -> announced again (hold-down $min ms)" "$hi" "$min"
  else
    fail "$what: site1 not announced again (sidecar: $(sidecar_status))"
  fi
  await "$(scaled 5000)" answered_by site1 || fail "$what: client not answered by site1 again"
}

fault "fail (meridiand SIGKILL)" KILL "$DEAD_MODEL_MS"
start_clock
lab_start_meridiand 1 || fail "fail: meridiand did not restart"
now_ms
UP_AT=$NOW
recovered "fail (meridiand restarted)" "$HOLD_MS"

# ------------------------------------------------------------------ hang ----
fault "hang (meridiand SIGSTOP)" STOP "$DETECT_MODEL_MS"
sleep 0.5 # stopped a little longer (not an assertion)
start_clock
lab_signal s1-meridiand CONT
now_ms
UP_AT=$NOW
# the second withdrawal of this sidecar: the hold-down has doubled
recovered "hang (meridiand SIGCONT)" $((2 * HOLD_MS))

# ------------------------------------------------------- sidecar SIGKILL ----
# No probe round involved: the kernel removes the sidecar's tun gates with the process, and
# BIRD at site1 follows the link state.
start_clock
lab_signal s1-anycast KILL
b=$(scaled 1000)
if await "$b" site1_absent; then
  route_time s1v4 removed
  judge "sidecar: SIGKILL of meridian-anycast withdrew site1 (its tun gates vanish)" "$b"
else
  fail "sidecar: site1 still announced $((3 * b)) ms after the sidecar's SIGKILL"
fi
start_clock
lab_start_sidecar 1 || fail "sidecar: restart failed"
b=$(bound "$RISE_MODEL_MS")
if await "$b" site1_present; then
  route_time s1v4 added
  judge "sidecar: a new sidecar announces site1 again" "$b"
else
  fail "sidecar: restarted sidecar did not announce ($(sidecar_status))"
fi
await "$(scaled 5000)" answered_by site1 || fail "sidecar: client not answered by site1 again"

# ------------------------------------------------------------------ flap ----
# A fresh sidecar (hold-down back to hold_down). meridiand dies, and while withdrawn it comes
# and goes twice before it stays up: the route must stay down for the whole hold-down.
flap_once() {
  local what=$1 min=$2
  start_clock
  lab_signal s1-meridiand KILL
  lab_wait_gone s1-meridiand 2
  if ! await "$(bound "$DEAD_MODEL_MS")" site1_absent; then
    fail "$what: site1 not withdrawn"
    return 1
  fi
  W_AT=$(withdrawn_at)
  lab_start_meridiand 1
  sleep 0.4 # up for a moment (not an assertion)
  lab_signal s1-meridiand KILL
  lab_wait_gone s1-meridiand 2
  sleep 0.4
  start_clock
  lab_start_meridiand 1 || fail "$what: meridiand did not restart"
  now_ms
  UP_AT=$NOW
  recovered "$what" "$min"
}
flap_once "flap 1" "$HOLD_MS"
flap_once "flap 2 (doubled hold-down)" $((2 * HOLD_MS))
info "site1 sidecar: $(lab_sidecar_brief 1)"

# ----------------------------------------------------------------- drain ----
drain_seen() {
  local p4 p6
  p4=$(rt_paths "$ANY4") && p6=$(rt_paths "$ANY6") || return 1
  # site2 best while site1's path is still there, with GRACEFUL_SHUTDOWN and local_pref 0
  awk '$1 ~ /^s2v[46]$/ && $2 == "best" { b++ }
       $1 ~ /^s1v[46]$/ && $3 == "lp=0" && $4 == "gshut" { g++ }
       END { exit !(b == 2 && g == 2) }' <<< "$p4"$'\n'"$p6"
}
await "$(scaled 5000)" best_is s1v4 > /dev/null
start_clock
reply=$(lab_sidecar_cmd 1 drain)
b=$(scaled 2000)
if await "$b" drain_seen; then
  route_time s1v4 added
  judge "drain: best path moved to site2, site1 still announced with GSHUT (local_pref 0)" "$b"
  info "router during the drain window: $(rt_paths "$ANY4" | tr '\n' ';')"
  if answered_by site2; then
    pass "drain: client answered by site2 during the drain window"
  else
    fail "drain: client got '$(lab_query)' during the drain window, expected site2"
  fi
else
  fail "drain: no GSHUT path / best path did not move (reply '$reply', router:" \
    "$(rt_paths "$ANY4" | tr '\n' ';'))"
fi
# not before drain_time (the clock started before the command; 300 ms for BIRD's log stamps,
# taken at the start of its event loop's turn), not later than drain_time plus the chain
b=$((DRAIN_MS + $(scaled 3000)))
if await "$b" site1_absent; then
  route_time s1v4 removed
  judge "drain: site1 withdrawn after drain_time" "$b" $((DRAIN_MS - 300))
else
  fail "drain: site1 still announced $((3 * b)) ms after the drain"
fi
start_clock
reply=$(lab_sidecar_cmd 1 undrain)
b=$(bound "$RISE_MODEL_MS")
if await "$b" site1_best; then
  route_time s1v4 added
  judge "undrain: site1 announced and best again" "$b"
else
  fail "undrain: site1 not back (reply '$reply', sidecar: $(sidecar_status))"
fi

# ------------------------------------------------------------ BIRD restart ----
start_clock
lab_stop s1-bird
b=$(scaled 3000)
if await "$b" site1_absent; then
  route_time s1v4 removed
  judge "bird: site1's BIRD stopped -> its paths are gone at the router" "$b"
else
  fail "bird: site1 still at the router after its BIRD stopped"
fi
start_clock
lab_start_bird s1 || fail "bird: site1's BIRD did not start"
# BGP's own timers: connect delay 1 s, error wait 1-4 s (lab-lib.sh)
b=$(scaled 15000)
if await "$b" site1_best; then
  route_time s1v4 added
  judge "bird: restarted BIRD at site1 announces again (gates still up)" "$b"
else
  fail "bird: site1 not announced after its BIRD restarted"
fi
b=$(scaled 5000)
if await "$b" answered_by site1; then
  polled_time
  judge "bird: client answered by site1 again" "$b"
else
  fail "bird: client got '$(lab_query)', expected site1"
fi
