#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Manual smoke test for meridian-anycast (not a ctest; the BGP lab in tests/bgp is the real
# end-to-end test). Needs root. Builds one network namespace of its own, puts the anycast
# addresses on its lo, runs a fake authority (fake_dns.py) and, if installed, a BIRD with
# static protocols routed via the gate devices, then drives the sidecar through its states
# and watches `ip link` and BIRD follow. A second run exercises the include-file fallback
# (gate_device set to an existing non-tun device, so TUNSETIFF fails).
#   usage: sudo tests/unit/anycast/smoke-netns.sh [BUILD_DIR]   (default build-any)
#   KEEP=1 keeps the run directory. All traffic stays inside the namespace; every wait is
#   bounded; only processes this script started are killed, by pid.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/build-any}
bin=$build/src/meridian-anycast
NS=manysmoke-$$
RUN=$(mktemp -d /tmp/meridian-anycast-smoke.XXXXXX)
PIDS=()
PASSES=0
FAILS=0

skip() { echo "SKIP: $*"; rm -rf -- "$RUN"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, tun devices)"
command -v ip >/dev/null || skip "needs iproute2"
command -v python3 >/dev/null || skip "needs python3"
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
[ -x "$bin" ] || skip "build $bin first (cmake --build $build --target meridian-anycast)"
HAVE_BIRD=0
command -v bird >/dev/null && command -v birdc >/dev/null && HAVE_BIRD=1

pass() { PASSES=$((PASSES + 1)); echo "PASS: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ] || [ "$FAILS" -gt 0 ]; then echo "run directory kept: $RUN"
    else rm -rf -- "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS cmd... : polls every 50 ms, bounded.
wait_for() {
    local tmo=$1 i; shift
    for ((i = 0; i < tmo * 20; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

nsx() { ip netns exec "$NS" "$@"; }
# link_up DEV / link_down DEV / link_gone DEV: the IFF_UP flag as `ip link` shows it.
link_up() { nsx ip -o link show dev "$1" 2>/dev/null | grep -q '[<,]UP[,>]'; }
link_down() { nsx ip -o link show dev "$1" 2>/dev/null | grep -q . && ! link_up "$1"; }
link_gone() { ! nsx ip -o link show dev "$1" >/dev/null 2>&1; }
# The kernel deletes the two devices one after the other: poll for both together.
gates_gone() { link_gone mgate0 && link_gone mdrain0; }
# ctl CMD... : one control request, prints the reply.
ctl() {
    python3 - "$RUN/anycast.sock" "$*" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode())
EOF
}
state_is() { ctl status 2>/dev/null | grep -qx "state: $1"; }
bird_ok() { ctl status 2>/dev/null | grep -qx 'bird: ok'; }
# bird_route PREFIX PROTO : BIRD holds PREFIX from PROTO (an answer without it = absent).
bird_route() { birdc -s "$RUN/bird.ctl" show route for "$1" protocol "$2" 2>/dev/null | grep -qF "$1 "; }
# birdc exits 1 on 8001 "Network not found": judge the text, and treat no answer as unknown.
bird_no_route() {
    local out
    out=$(birdc -s "$RUN/bird.ctl" show route for "$1" protocol "$2" 2>/dev/null)
    printf '%s' "$out" | grep -q 'BIRD .* ready' && ! printf '%s' "$out" | grep -qF "$1 "
}
show_links() { nsx ip -br link show | grep -E 'mgate0|mdrain0' | sed 's/^/    /'; }

# ---- namespace, addresses, fake authority, BIRD -------------------------------------------
ip netns add "$NS" || { echo "cannot create netns"; exit 1; }
nsx ip link set lo up
nsx ip addr add 192.0.2.53/32 dev lo
nsx ip addr add 2001:db8:53::53/128 dev lo nodad
echo ok >"$RUN/dns_mode"
echo active >"$RUN/site_mode"
# Started without a shell function in between, so $! is the process itself (`ip netns exec`
# execs the command) and kill by pid reaches it.
ip netns exec "$NS" python3 "$here/fake_dns.py" "$RUN" canary.example.com 192.0.2.1 192.0.2.53 2001:db8:53::53 \
    >"$RUN/fake_dns.log" 2>&1 &
PIDS+=($!)
wait_for 5 test -e "$RUN/fake_dns.ready" || { echo "fake authority did not start"; cat "$RUN/fake_dns.log"; exit 1; }

printf 'protocol static fb4 { ipv4; }\nprotocol static fb6 { ipv6; }\n' >"$RUN/fallback.conf"
if [ "$HAVE_BIRD" = 1 ]; then
    cat >"$RUN/bird.conf" <<EOF
router id 192.0.2.53;
protocol device { scan time 10; }
protocol static anycast4 { ipv4; route 192.0.2.53/32 via "mgate0"; }
protocol static anycast6 { ipv6; route 2001:db8:53::53/128 via "mgate0"; }
protocol static anycast4d {
  ipv4 { preference 190; };
  route 192.0.2.53/32 via "mdrain0" { bgp_community.add((65535, 0)); };
}
protocol static anycast6d {
  ipv6 { preference 190; };
  route 2001:db8:53::53/128 via "mdrain0" { bgp_community.add((65535, 0)); };
}
include "$RUN/fallback.conf";
EOF
    ip netns exec "$NS" bird -c "$RUN/bird.conf" -s "$RUN/bird.ctl" -P "$RUN/bird.pid" -f >"$RUN/bird.log" 2>&1 &
    PIDS+=($!)
    wait_for 5 test -S "$RUN/bird.ctl" || { echo "BIRD did not start"; cat "$RUN/bird.log"; exit 1; }
else
    echo "note: bird/birdc not installed, BIRD checks skipped"
fi

write_config() { # GATE_DEVICE BIRD_PROTOCOLS DRAIN_PROTOCOLS FALLBACK
    cat >"$RUN/meridian.yaml" <<EOF
zones: []   # meridiand's keys are ignored by the sidecar
anycast:
  prefixes: ["192.0.2.53/32", "2001:db8:53::53/128"]
  service_addresses: ["192.0.2.53", "[2001:db8:53::53]:53"]
  canary: { name: canary.example.com, type: A, expect: 192.0.2.1 }
  interval: 200ms
  fast_interval: 100ms
  timeout: 300ms
  tcp_every: 2
  rise: 2
  fall: 2
  hold_down: 1s
  hold_down_max: 4s
  drain_time: 1s
  gate_device: $1
  drain_device: mdrain0
  bird_socket: "$( [ "$HAVE_BIRD" = 1 ] && echo "$RUN/bird.ctl" )"
  bird_protocols: [$2]
  bird_drain_protocols: [$3]
  bird_interval: 300ms
  control_socket: $RUN/anycast.sock
  meridiand_control: $RUN/meridiand.sock
  fallback_include: "$4"
  log_level: debug
EOF
}

start_sidecar() {
    ip netns exec "$NS" "$bin" -c "$RUN/meridian.yaml" >>"$RUN/anycast.log" 2>&1 &
    SIDECAR=$!
    PIDS+=($SIDECAR)
    wait_for 5 test -S "$RUN/anycast.sock" || { fail "sidecar did not start"; cat "$RUN/anycast.log"; exit 1; }
}

# ---- run 1: gate devices ----------------------------------------------------------------
write_config mgate0 "anycast4, anycast6" "anycast4d, anycast6d" ""
"$bin" -n -c "$RUN/meridian.yaml" && pass "config check (-n)" || fail "config check (-n)"
start_sidecar
wait_for 5 link_down mgate0 && link_down mdrain0 && pass "gates created, down" || fail "gates not created down"
wait_for 5 state_is UP && wait_for 2 link_up mgate0 && link_down mdrain0 \
    && pass "STARTUP -> RISING -> UP: mgate0 up, mdrain0 down" || fail "did not come up"
show_links
if [ "$HAVE_BIRD" = 1 ]; then
    wait_for 3 bird_route 192.0.2.53/32 anycast4 && bird_route 2001:db8:53::53/128 anycast6 \
        && pass "BIRD originates both prefixes via mgate0" || fail "BIRD has no gate route"
    wait_for 3 bird_ok && pass "sidecar verification: bird: ok" || { fail "bird verification"; ctl status; }
fi

echo servfail >"$RUN/dns_mode"
t0=$(date +%s%3N)
wait_for 5 state_is DOWN && wait_for 2 link_down mgate0 && link_down mdrain0 \
    && pass "SERVFAIL: FALLING -> DOWN, both gates down in $(( $(date +%s%3N) - t0 )) ms" || fail "no withdrawal on SERVFAIL"
[ "$HAVE_BIRD" = 1 ] && { wait_for 3 bird_no_route 192.0.2.53/32 anycast4 && pass "BIRD route gone" || { fail "BIRD route still there"; birdc -s "$RUN/bird.ctl" show route for 192.0.2.53/32 all; show_links; }; }
ctl status | grep -E '^(reason|last_round|hold_down_left_ms|flaps):' | sed 's/^/    /'
echo ok >"$RUN/dns_mode"
wait_for 6 state_is UP && link_up mgate0 && pass "recovered after the hold-down" || fail "did not recover"

for m in drop noaa wrong; do
    echo "$m" >"$RUN/dns_mode"
    wait_for 5 state_is DOWN && link_down mgate0 && pass "$m: withdrawn ($(ctl status | sed -n 's/^reason: //p'))" || fail "$m: not withdrawn"
    echo ok >"$RUN/dns_mode"
    wait_for 12 state_is UP || fail "$m: did not recover"
done
ctl status | grep -E '^(hold_down_next_ms|flaps):' | sed 's/^/    /'

ctl drain | head -2 | tr '\n' ' '; echo
link_up mdrain0 && link_down mgate0 && state_is DRAINING \
    && pass "drain: DRAINING, mdrain0 up, mgate0 down" || fail "drain did not swap the gates"
[ "$HAVE_BIRD" = 1 ] && { wait_for 3 bird_route 192.0.2.53/32 anycast4d && pass "BIRD originates via mdrain0 (GSHUT)" || fail "no drain route"; }
wait_for 3 state_is DRAINED && link_down mdrain0 && link_down mgate0 \
    && pass "after drain_time: DRAINED, both down" || fail "drain did not finish"
ctl undrain >/dev/null
wait_for 3 state_is UP && link_up mgate0 && pass "undrain: RISING -> UP" || fail "undrain"

kill -USR1 "$SIDECAR"
wait_for 2 state_is DRAINING && pass "SIGUSR1: DRAINING" || fail "SIGUSR1"
kill -USR2 "$SIDECAR"
wait_for 2 state_is UP && link_up mgate0 && link_down mdrain0 && pass "SIGUSR2: drain cancelled, UP" || fail "SIGUSR2"

echo slow >"$RUN/dns_mode"
wait_for 5 state_is DEGRADED && link_down mgate0 && link_up mdrain0 \
    && pass "slow answers: DEGRADED (drain gate only, still announced)" || fail "slow answers"
echo ok >"$RUN/dns_mode"
wait_for 5 state_is UP && link_up mgate0 && link_down mdrain0 && pass "soft failure cleared: UP" || fail "no UP after slow"

echo reloadfail >"$RUN/site_mode"
wait_for 5 state_is DEGRADED && pass "meridiand last_reload failed: DEGRADED" || fail "reload failure"
echo drained >"$RUN/site_mode"
wait_for 5 state_is DRAINED && link_down mgate0 && link_down mdrain0 && pass "meridiand site drained: DRAINED" || fail "site drain"
echo active >"$RUN/site_mode"
wait_for 5 state_is UP && pass "meridiand site active: UP" || fail "site undrain"

ctl force down | head -1 | grep -q ok && link_down mgate0 && state_is FORCED && pass "force down: FORCED, withdrawn" || fail "force down"
ctl drain | grep -q '^error:' && pass "drain refused while FORCED" || fail "drain while forced"
ctl unforce >/dev/null
wait_for 3 state_is UP && pass "unforce: UP" || fail "unforce"
echo servfail >"$RUN/dns_mode"
ctl force up >/dev/null
sleep 1
state_is FORCED && link_up mgate0 && pass "force up holds the gate up while probes fail" || fail "force up"
ctl unforce >/dev/null
wait_for 3 state_is DOWN && pass "unforce with failing probes: FALLING -> DOWN" || fail "unforce with failures"
echo ok >"$RUN/dns_mode"
wait_for 10 state_is UP || fail "no UP before SIGTERM test"

ctl status | sed 's/^/    /'
kill -TERM "$SIDECAR"
wait_for 5 gates_gone && pass "SIGTERM: devices withdrawn and deleted" || fail "SIGTERM"
wait "$SIDECAR" 2>/dev/null; rc=$?
[ "$rc" = 0 ] && pass "exit status 0 after SIGTERM" || fail "exit status $rc after SIGTERM"

start_sidecar
wait_for 5 state_is UP && link_up mgate0 || fail "second start"
kill -9 "$SIDECAR"
t0=$(date +%s%3N)
wait_for 5 gates_gone && pass "SIGKILL: the kernel deleted the gates in $(( $(date +%s%3N) - t0 )) ms" || fail "SIGKILL left the gates"
[ "$HAVE_BIRD" = 1 ] && { wait_for 3 bird_no_route 192.0.2.53/32 anycast4 && pass "BIRD route gone after SIGKILL" || fail "BIRD route after SIGKILL"; }
rm -f "$RUN/anycast.sock"

# ---- run 2: include-file fallback ----------------------------------------------------------
if [ "$HAVE_BIRD" = 1 ]; then
    # `lo` exists and is no tun device: TUNSETIFF fails, the sidecar falls back.
    write_config lo "fb4, fb6" "" "$RUN/fallback.conf"
    start_sidecar
    grep -q 'using the fallback include file' "$RUN/anycast.log" && pass "fallback mode chosen" || fail "no fallback"
    wait_for 5 state_is UP && wait_for 3 bird_route 192.0.2.53/32 fb4 && bird_route 2001:db8:53::53/128 fb6 \
        && pass "fallback: UP, BIRD originates from the include file" || { fail "fallback announce"; cat "$RUN/fallback.conf"; }
    ctl drain >/dev/null
    wait_for 3 sh -c "birdc -s '$RUN/bird.ctl' show route for 192.0.2.53/32 protocol fb4 all | grep -q '(65535,0)'" \
        && pass "fallback drain: route carries GRACEFUL_SHUTDOWN" || fail "fallback drain"
    wait_for 3 state_is DRAINED && wait_for 3 bird_no_route 192.0.2.53/32 fb4 && pass "fallback: withdrawn after drain_time" || fail "fallback withdraw"
    ctl undrain >/dev/null
    wait_for 5 state_is UP && wait_for 3 bird_route 192.0.2.53/32 fb4 || fail "fallback re-announce"
    kill -TERM "$SIDECAR"
    wait "$SIDECAR" 2>/dev/null
    bird_no_route 192.0.2.53/32 fb4 && grep -q 'intent: withdraw' "$RUN/fallback.conf" \
        && pass "fallback SIGTERM: withdrawn file + configure" || fail "fallback SIGTERM"
fi

grep -E 'state .* -> ' "$RUN/anycast.log" | tail -n 5 | sed 's/^/    log: /'
echo "$PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
