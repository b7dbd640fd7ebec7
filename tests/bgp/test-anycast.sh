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
#   configure   an unrelated `birdc configure` at site1 changes nothing at the router
#   fail        meridiand at site1 killed -> site1 withdrawn, client answered by site2;
#               restarted -> announced again, not before the hold-down
#   hang        meridiand at site1 SIGSTOPped -> withdrawn; SIGCONT -> back after hold-down
#   sidecar     meridian-anycast SIGKILLed -> withdrawn within 1 s (its tun gates vanish)
#   flap        a flapping meridiand: the route stays withdrawn for at least hold_down,
#               and the second withdrawal holds at least twice as long (doubling)
#   drain       GRACEFUL_SHUTDOWN path first (best path moves to site2 while site1 is still
#               announced), withdrawal after drain_time; undrain announces again
#   bird        BIRD at site1 restarted -> announcement restored
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
# withdrawal after meridiand dies or hangs: the next round (<= interval) plus `fall` failed
# rounds at the fast interval, each up to the probe timeout, plus slack for this 2-core VM
DETECT_MS=$((INTERVAL_MS + LAB_FALL * (TIMEOUT_MS + FAST_MS) + 2000))
# announcement of a healthy site: `rise` passing rounds
RISE_MS=$((INTERVAL_MS + LAB_RISE * (TIMEOUT_MS + FAST_MS) + 3000))
lab_init || exit 2

PASSES=0
FAILS=0
TIMES=()
pass() { PASSES=$((PASSES + 1)); echo "PASS: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
info() { echo "      $*"; }
# timing NAME MEASURED_MS BOUND_MS [ROUTER_LOG_MS]: one row of the closing table
timing() {
  local rib=""
  [ $# -ge 4 ] && rib=", router log ${4} ms"
  TIMES+=("$(printf '%-58s %6s ms  (bound %s ms%s)' "$1" "$2" "$3" "$rib")")
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
    echo "---- measured times (polled at the router; router log = its BIRD trace log) ----"
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
# Our own deadline, below ctest's TIMEOUT of 600 s, so the trap still tears down. The timer
# gives up as soon as this shell is gone (it would be re-parented), so it never signals a
# recycled pid.
TEST_PID=$$
(
  end=$((SECONDS + 540))
  while [ "$SECONDS" -lt "$end" ]; do
    sleep 2
    read -r _ _ _ ppid _ < "/proc/$BASHPID/stat"
    [ "$ppid" = "$TEST_PID" ] || exit 0
  done
  kill -TERM "$TEST_PID"
) > /dev/null 2>&1 &
WATCHDOG=$!

# --------------------------------------------------------------- helpers ----
# wait_for BOUND_MS CMD...: poll CMD (every ~50 ms) until it succeeds; WAITED = ms from T0
# (set by the caller right before the action). Returns 1 when BOUND_MS from T0 has passed.
wait_for() {
  local bound=$1
  shift
  while :; do
    if "$@"; then now_ms; WAITED=$((NOW - T0)); return 0; fi
    now_ms
    WAITED=$((NOW - T0))
    [ "$WAITED" -ge "$bound" ] && return 1
    sleep 0.05
  done
}
start_clock() { now_ms; T0=$NOW; }

site1_present() { rt_has "$ANY4" s1v4 && rt_has "$ANY6" s1v6; }
site1_absent() { rt_absent "$ANY4" s1v4 && rt_absent "$ANY6" s1v6; }
best_is() { [ "$(rt_best "$ANY4")" = "$1" ] && [ "$(rt_best "$ANY6")" = "${1/v4/v6}" ]; }
answered_by() { [ "$(lab_query "$ANY4_ADDR")" = "$1" ] && [ "$(lab_query "$ANY6_ADDR")" = "$1" ]; }
established() {
  local p out
  for p in "$@"; do
    out=$(lab_birdc r show protocols "$p") || return 1
    awk -v p="$p" '$1 ~ ("^([0-9][0-9][0-9][0-9]-)?" p "$") && / Established/ { f = 1 } END { exit !f }' \
      <<< "$out" || return 1
  done
}
# the router's "since" stamp of site1's IPv4 route, and of the s1v4 session
route_since() {
  lab_birdc r show route "$ANY4" protocol s1v4 \
    | sed -n 's/.*unicast \[s1v4 \([0-9-]* [0-9:.]*\)\].*/\1/p' | head -n 1
}
session_since() {
  lab_birdc r show protocols s1v4 | awk '/s1v4/ { print $5 " " $6 }' | head -n 1
}
# BIRD prints monotonic times as wall-clock, so one stamp can read 1 ms apart in two queries
same_stamp() {
  [ -n "$1" ] && [ -n "$2" ] || return 1
  local d=$(($(date -d "$1" +%s%3N) - $(date -d "$2" +%s%3N)))
  [ "${d#-}" -le 50 ]
}
sidecar_status() { lab_sidecar_cmd 1 status 2> /dev/null | tr '\n' ' '; }

# withdrawn_at: epoch ms at which the router log shows site1's IPv4 route removed after T0
# (falls back to the polled time)
withdrawn_at() {
  local d
  d=$(rib_event_ms "$T0" s1v4 "$ANY4" removed) && echo $((T0 + d)) || echo $((T0 + WAITED))
}

# ----------------------------------------------------------------- setup ----
echo "run directory $LAB_DIR; $(bird --version 2>&1 | head -n 1); meridiand $MERIDIAND;" \
  "meridian-anycast $MERIDIAN_ANYCAST"
if lab_up nosidecar; then
  pass "setup: namespaces, links, BIRD x3 (configs from deploy/bird parse), meridiand x2"
else
  fail "setup failed"
  exit 1
fi

start_clock
if wait_for 30000 established s1v4 s1v6 s2v4 s2v6; then
  pass "boot: the router's four BGP sessions are Established"
  timing "BGP sessions Established (after setup)" "$WAITED" 30000
else
  fail "boot: sessions not Established within 30 s"
  exit 1
fi
sleep 1
paths4=$(rt_paths "$ANY4")
rc4=$?
paths6=$(rt_paths "$ANY6")
rc6=$?
if [ "$rc4" = 0 ] && [ "$rc6" = 0 ] && [ -z "$paths4$paths6" ]; then
  pass "boot: BIRD starts with nothing announced (no gates before the sidecar runs)"
else
  fail "boot: router has anycast paths before any sidecar ran: $paths4 $paths6"
fi

# --------------------------------------------------------------- startup ----
start_clock
if ! lab_start_sidecar 1 || ! lab_start_sidecar 2; then
  fail "a sidecar did not start"
  exit 1
fi
if wait_for "$RISE_MS" site1_present; then
  pass "startup: site1's prefixes (v4+v6) appear at the router"
  timing "startup: sidecar start -> site1 announced" "$WAITED" "$RISE_MS" \
    "$(rib_event_ms "$T0" s1v4 "$ANY4" added)"
else
  fail "startup: site1 not announced within $RISE_MS ms (sidecar: $(sidecar_status))"
fi
site2_present() { rt_has "$ANY4" s2v4 && rt_has "$ANY6" s2v6; }
if wait_for $((RISE_MS + 2000)) site2_present; then
  pass "startup: site2's prefixes appear at the router too (two paths)"
else
  fail "startup: site2 not announced"
fi
if best_is s1v4; then
  pass "startup: site1 is the router's best path (site2 prepends)"
else
  fail "startup: best path is '$(rt_best "$ANY4")', expected s1v4"
fi
start_clock
if wait_for 5000 answered_by site1; then
  pass "startup: client queries to $ANY4_ADDR and $ANY6_ADDR answered by site1 (NSID)"
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
r_before=$(route_since)
s_before=$(session_since)
start_clock
out=$(lab_birdc s1 configure)
sleep 2
r_after=$(route_since)
s_after=$(session_since)
if grep -q '^0003' <<< "$out" && same_stamp "$r_before" "$r_after" \
  && same_stamp "$s_before" "$s_after" \
  && [ "$(rib_event_ms "$T0" s1v4 "$ANY4" 'added|removed')" = "?" ] \
  && [ "$(rib_event_ms "$T0" s1v6 "$ANY6" 'added|removed')" = "?" ] && best_is s1v4; then
  pass "configure: an unrelated 'birdc configure' at site1 changes nothing at the router" \
    "(route since $r_after, session since $s_after, no route event)"
else
  fail "configure: router changed (reply '$(tr '\n' ' ' <<< "$out")', route '$r_before' ->" \
    "'$r_after', session '$s_before' -> '$s_after')"
fi

# ------------------------------------------------------------------ fail ----
# fault SIG NAME: withdrawal after SIG to site1's process NAME, client moves to site2
fault() {
  local what=$1
  start_clock
  lab_signal s1-meridiand "$2" || { fail "$what: could not signal meridiand"; return 1; }
  if wait_for "$DETECT_MS" site1_absent; then
    pass "$what: site1 withdrawn at the router"
    timing "$what: site1 withdrawn" "$WAITED" "$DETECT_MS" "$(rib_event_ms "$T0" s1v4 "$ANY4" removed)"
  else
    fail "$what: site1 still announced after $DETECT_MS ms (sidecar: $(sidecar_status))"
    return 1
  fi
  W_AT=$(withdrawn_at)
  start_clock
  if wait_for 3000 answered_by site2; then
    pass "$what: client queries now answered by site2"
    timing "$what: client answered by site2 (after the withdrawal)" "$WAITED" 3000
  else
    fail "$what: client got '$(lab_query)', expected site2"
  fi
}

# recovered NAME MIN_HOLD_MS: site1 announced again, not before MIN_HOLD_MS after W_AT
recovered() {
  local what=$1 min=$2 held rib
  if wait_for $((HOLD_MAX_MS + RISE_MS)) site1_present; then
    now_ms
    held=$((NOW - W_AT))
    # the router's log says exactly when the route came back; polling only says "by now"
    rib=$(rib_event_ms "$W_AT" s1v4 "$ANY4" added) && held=$rib
    if [ "$held" -ge "$min" ]; then
      pass "$what: site1 announced again after ${held} ms withdrawn (hold-down >= $min ms)"
    else
      fail "$what: site1 back after only ${held} ms withdrawn, hold-down is $min ms"
    fi
    timing "$what: withdrawn -> announced again" "$held" "$((HOLD_MAX_MS + RISE_MS)) (min $min)"
  else
    fail "$what: site1 not announced again (sidecar: $(sidecar_status))"
  fi
  wait_for 5000 answered_by site1 || fail "$what: client not answered by site1 again"
}

fault "fail (meridiand SIGKILL)" KILL
start_clock
lab_start_meridiand 1 || fail "fail: meridiand did not restart"
recovered "fail (meridiand restarted)" "$HOLD_MS"

# ------------------------------------------------------------------ hang ----
fault "hang (meridiand SIGSTOP)" STOP
sleep 0.5
start_clock
lab_signal s1-meridiand CONT
# the second withdrawal of this sidecar: the hold-down has doubled
recovered "hang (meridiand SIGCONT)" $((2 * HOLD_MS))

# ------------------------------------------------------- sidecar SIGKILL ----
start_clock
lab_signal s1-anycast KILL
if wait_for 1000 site1_absent; then
  pass "sidecar: SIGKILL of meridian-anycast withdrew site1 within 1 s (its tun gates vanish)"
else
  fail "sidecar: site1 still announced 1 s after the sidecar's SIGKILL"
fi
timing "sidecar SIGKILL: site1 withdrawn" "$WAITED" 1000 "$(rib_event_ms "$T0" s1v4 "$ANY4" removed)"
start_clock
lab_start_sidecar 1 || fail "sidecar: restart failed"
if wait_for "$RISE_MS" site1_present; then
  pass "sidecar: a new sidecar announces site1 again"
  timing "sidecar restart: site1 announced" "$WAITED" "$RISE_MS" \
    "$(rib_event_ms "$T0" s1v4 "$ANY4" added)"
else
  fail "sidecar: restarted sidecar did not announce ($(sidecar_status))"
fi
wait_for 5000 answered_by site1 || fail "sidecar: client not answered by site1 again"

# ------------------------------------------------------------------ flap ----
# A fresh sidecar (hold-down back to hold_down). meridiand dies, and while withdrawn it comes
# and goes twice before it stays up: the route must stay down for the whole hold-down.
flap_once() {
  local what=$1 min=$2
  start_clock
  lab_signal s1-meridiand KILL
  lab_wait_gone s1-meridiand 2
  if ! wait_for "$DETECT_MS" site1_absent; then
    fail "$what: site1 not withdrawn"
    return 1
  fi
  W_AT=$(withdrawn_at)
  lab_start_meridiand 1
  sleep 0.4
  lab_signal s1-meridiand KILL
  lab_wait_gone s1-meridiand 2
  sleep 0.4
  start_clock
  lab_start_meridiand 1 || fail "$what: meridiand did not restart"
  recovered "$what" "$min"
}
flap_once "flap 1" "$HOLD_MS"
flap_once "flap 2 (doubled hold-down)" $((2 * HOLD_MS))
info "site1 sidecar: $(lab_sidecar_brief 1)"

# ----------------------------------------------------------------- drain ----
drain_seen() {
  local p
  p=$(rt_paths "$ANY4") || return 1
  # site2 best while site1's path is still there, with GRACEFUL_SHUTDOWN and local_pref 0
  awk '$1 == "s2v4" && $2 == "best" { b = 1 } $1 == "s1v4" && $3 == "lp=0" && $4 == "gshut" { g = 1 }
       END { exit !(b && g) }' <<< "$p"
}
wait_for 5000 best_is s1v4 > /dev/null
start_clock
reply=$(lab_sidecar_cmd 1 drain)
if wait_for 2000 drain_seen; then
  pass "drain: router's best path moved to site2 while site1 is still announced with" \
    "GRACEFUL_SHUTDOWN (local_pref 0)"
  timing "drain: best path moved to site2 (site1 still announced)" "$WAITED" 2000 \
    "$(rib_event_ms "$T0" s1v4 "$ANY4" added)"
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
if wait_for $((DRAIN_MS + 3000)) site1_absent; then
  if [ "$WAITED" -ge $((DRAIN_MS - 300)) ]; then
    pass "drain: site1 withdrawn after drain_time"
  else
    fail "drain: site1 withdrawn after $WAITED ms, before drain_time ($DRAIN_MS ms)"
  fi
  timing "drain: site1 withdrawn" "$WAITED" "$((DRAIN_MS + 3000)) (min $((DRAIN_MS - 300)))" \
    "$(rib_event_ms "$T0" s1v4 "$ANY4" removed)"
else
  fail "drain: site1 still announced $((DRAIN_MS + 3000)) ms after the drain"
fi
start_clock
reply=$(lab_sidecar_cmd 1 undrain)
site1_best() { site1_present && best_is s1v4; }
if wait_for "$RISE_MS" site1_best; then
  pass "undrain: site1 announced and best again"
  timing "undrain: site1 announced" "$WAITED" "$RISE_MS" "$(rib_event_ms "$T0" s1v4 "$ANY4" added)"
else
  fail "undrain: site1 not back (reply '$reply', sidecar: $(sidecar_status))"
fi

# ------------------------------------------------------------ BIRD restart ----
start_clock
lab_stop s1-bird
if wait_for 3000 site1_absent; then
  pass "bird: site1's BIRD stopped -> its paths are gone at the router"
  timing "bird stop: site1 withdrawn" "$WAITED" 3000 "$(rib_event_ms "$T0" s1v4 "$ANY4" removed)"
else
  fail "bird: site1 still at the router after its BIRD stopped"
fi
start_clock
lab_start_bird s1 || fail "bird: site1's BIRD did not start"
if wait_for 15000 site1_best; then
  pass "bird: restarted BIRD at site1 announces again (gates still up)"
  timing "bird restart: site1 announced" "$WAITED" 15000 "$(rib_event_ms "$T0" s1v4 "$ANY4" added)"
else
  fail "bird: site1 not announced after its BIRD restarted"
fi
if wait_for 5000 answered_by site1; then
  pass "bird: client answered by site1 again"
else
  fail "bird: client got '$(lab_query)', expected site1"
fi
