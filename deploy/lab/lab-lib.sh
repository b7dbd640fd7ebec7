# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034  # variables are set here for the scripts that source it
# lab-lib.sh: the network-namespace anycast lab, as bash functions. Sourced by
# deploy/lab/anycast-lab.sh (the interactive lab) and tests/bgp/test-anycast.sh (the ctest
# `bgp` test), so the test exercises exactly the lab people play with.
#
# Topology (N = 1..LAB_SITES, 2 or 3):
#
#   client ──── router ──┬── site1   meridiand (NSID site1) + meridian-anycast + BIRD
#   .66/.65              ├── site2   ...        (NSID site2), AS path prepended once
#   198.51.100.64/30     └── site3   (optional), prepended twice
#
#   router <-> siteN: 198.51.100.(4N-4)/30 (router .4N-3, site .4N-2), 2001:db8:ffff:N::/64
#   router <-> client: 198.51.100.64/30, 2001:db8:ffff:100::/64
#   anycast: 192.0.2.53/32 and 2001:db8:53::53/128 on lo in every site
#
# Everything lives in namespaces named "mer-<LAB_NAME>-{r,c,s1,s2,s3}" and in LAB_DIR: the
# generated configs, logs, control sockets and a "state" file that records every namespace
# and every process the lab created, so `lab_down` can remove exactly those, by name and pid,
# even from another shell. Nothing touches the host's own interfaces or routes.
#
# Callers set (or take the defaults of) these before lab_init:
#   LAB_NAME       short tag, [a-z0-9]{1,12}          (default: lab)
#   LAB_DIR        run directory                      (default: /run/meridian-lab/$LAB_NAME)
#   LAB_SITES      2 or 3                             (default: 2)
#   MERIDIAND, MERIDIAN_ANYCAST   binaries            (default: first found in build-bgp/, build/)
#   LAB_INTERVAL LAB_FAST_INTERVAL LAB_TIMEOUT LAB_RISE LAB_FALL LAB_HOLD_DOWN
#   LAB_HOLD_DOWN_MAX LAB_DRAIN_TIME                  sidecar knobs (anycast: section)

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ANY4=192.0.2.53/32
ANY6=2001:db8:53::53/128
ANY4_ADDR=192.0.2.53
ANY6_ADDR=2001:db8:53::53
CANARY=canary.example.com
CANARY_EXPECT=192.0.2.1
PY=/usr/bin/python3

lab_log() { printf '%s  %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }

# now_ms: sets NOW to the wall clock in ms without forking (bash 5 EPOCHREALTIME).
now_ms() { local t=${EPOCHREALTIME/[.,]/}; NOW=$((t / 1000)); }

lab_init() {
  LAB_NAME=${LAB_NAME:-lab}
  if ! [[ $LAB_NAME =~ ^[a-z0-9]{1,12}$ ]]; then
    echo "LAB_NAME must be 1-12 characters a-z0-9" >&2
    return 1
  fi
  LAB_DIR=${LAB_DIR:-/run/meridian-lab/$LAB_NAME}
  LAB_SITES=${LAB_SITES:-2}
  case $LAB_SITES in 2 | 3) ;; *) echo "LAB_SITES must be 2 or 3" >&2; return 1 ;; esac
  NS_R="mer-$LAB_NAME-r"
  NS_C="mer-$LAB_NAME-c"
  LAB_INTERVAL=${LAB_INTERVAL:-1s}
  LAB_FAST_INTERVAL=${LAB_FAST_INTERVAL:-200ms}
  LAB_TIMEOUT=${LAB_TIMEOUT:-500ms}
  LAB_RISE=${LAB_RISE:-3}
  LAB_FALL=${LAB_FALL:-3}
  LAB_HOLD_DOWN=${LAB_HOLD_DOWN:-5s}
  LAB_HOLD_DOWN_MAX=${LAB_HOLD_DOWN_MAX:-5m}
  LAB_DRAIN_TIME=${LAB_DRAIN_TIME:-5s}
  if [ -z "${MERIDIAND:-}" ]; then
    for b in "$LAB_SRC/build-bgp/src/meridiand" "$LAB_SRC/build/src/meridiand"; do
      [ -x "$b" ] && { MERIDIAND=$b; break; }
    done
  fi
  if [ -z "${MERIDIAN_ANYCAST:-}" ]; then
    for b in "$LAB_SRC/build-bgp/src/meridian-anycast" "$LAB_SRC/build/src/meridian-anycast"; do
      [ -x "$b" ] && { MERIDIAN_ANYCAST=$b; break; }
    done
  fi
  MERIDIAND=${MERIDIAND:-}
  MERIDIAN_ANYCAST=${MERIDIAN_ANYCAST:-}
}

ns_site() { echo "mer-$LAB_NAME-s$1"; }

# lab_missing: prints what this machine lacks for the lab (empty = all there).
lab_missing() {
  local c miss=()
  [ "$(id -u)" = 0 ] || miss+=("root")
  for c in ip bird birdc dig timeout setsid; do
    command -v "$c" >/dev/null 2>&1 || miss+=("$c")
  done
  [ -c /dev/net/tun ] || miss+=("/dev/net/tun")
  [ -x "$PY" ] || miss+=("$PY")
  [ -n "$MERIDIAND" ] && [ -x "$MERIDIAND" ] || miss+=("meridiand binary (set MERIDIAND)")
  [ -n "$MERIDIAN_ANYCAST" ] && [ -x "$MERIDIAN_ANYCAST" ] \
    || miss+=("meridian-anycast binary (set MERIDIAN_ANYCAST)")
  if [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1; then
    local probe="mer-probe$$"
    if ip netns add "$probe" 2>/dev/null; then ip netns del "$probe"; else miss+=("ip netns"); fi
  fi
  printf '%s\n' "${miss[@]}"
}

# ------------------------------------------------------------------ state ----
# The state file: "ns NAME" and "pid NAME PID" lines, appended as things are created.
lab_record() { echo "$*" >> "$LAB_DIR/state"; }

# lab_pid NAME: the last recorded pid of NAME (e.g. s1-meridiand, r-bird).
lab_pid() {
  [ -f "$LAB_DIR/state" ] || return 1
  awk -v n="$1" '$1 == "pid" && $2 == n { p = $3 } END { if (p) print p; else exit 1 }' \
    "$LAB_DIR/state"
}

# lab_ours PID: the process runs and its command line names LAB_DIR (so a recycled pid of
# somebody else's process is never signalled).
lab_ours() {
  local pid=$1 cmd
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  # (2> first: the process may be gone by the time the shell opens the file)
  cmd=$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")
  [[ $cmd == *"$LAB_DIR/"* ]]
}

# lab_alive NAME: the recorded process of NAME runs (and is not a zombie).
lab_alive() {
  local pid
  pid=$(lab_pid "$1") || return 1
  lab_ours "$pid" || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

# lab_signal NAME SIG: signal the recorded process of NAME, if it is still ours.
lab_signal() {
  local pid
  pid=$(lab_pid "$1") || return 1
  lab_ours "$pid" || return 1
  kill -s "$2" "$pid"
}

# lab_spawn NAME NS CMD...: start CMD inside namespace NS in its own session (so it outlives
# the shell that ran `up`), output to $LAB_DIR/NAME.log, and record its pid. `ip netns exec`
# and `setsid` (not a group leader here) both exec, so $! is the program's own pid.
lab_spawn() {
  local name=$1 ns=$2
  shift 2
  setsid ip netns exec "$ns" "$@" < /dev/null >> "$LAB_DIR/$name.log" 2>&1 &
  LAB_LAST_PID=$!
  lab_record pid "$name" "$LAB_LAST_PID"
  # out of the job table: no "Killed" notices when a test kills it (bash still reaps it)
  disown "$LAB_LAST_PID"
}

# lab_wait_gone NAME TIMEOUT_S: wait until the recorded process of NAME has exited.
lab_wait_gone() {
  local i pid
  pid=$(lab_pid "$1") || return 0
  for ((i = 0; i < $2 * 20; i++)); do
    lab_ours "$pid" || return 0
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.05
  done
  return 1
}

# lab_stop NAME: SIGTERM (after SIGCONT, in case it is stopped), SIGKILL after 3 s.
lab_stop() {
  lab_alive "$1" || return 0
  lab_signal "$1" CONT 2>/dev/null
  lab_signal "$1" TERM 2>/dev/null
  lab_wait_gone "$1" 3 && return 0
  lab_signal "$1" KILL 2>/dev/null
  lab_wait_gone "$1" 2
}

# lab_down: stop every recorded process, delete every recorded namespace. Idempotent; also
# cleans up after an `up` that failed half-way or a test that was killed.
lab_down() {
  local pids=() n p ns left=0
  [ -f "$LAB_DIR/state" ] || return 0
  # every pid ever recorded, not just the last per name (restarted processes)
  while read -r _ n p; do
    lab_ours "$p" || continue
    kill -CONT "$p" 2>/dev/null
    kill -TERM "$p" 2>/dev/null
    pids+=("$p")
  done < <(awk '$1 == "pid"' "$LAB_DIR/state")
  for ((n = 0; n < 60; n++)); do
    left=0
    for p in "${pids[@]}"; do
      if lab_ours "$p" && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]; then
        left=1
      fi
    done
    [ "$left" = 0 ] && break
    sleep 0.05
  done
  for p in "${pids[@]}"; do lab_ours "$p" && kill -KILL "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  while read -r _ ns; do
    [[ $ns == mer-* ]] && [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
  done < <(awk '$1 == "ns"' "$LAB_DIR/state")
  left=0
  while read -r _ ns; do [ -e "/run/netns/$ns" ] && left=1; done < <(awk '$1 == "ns"' "$LAB_DIR/state")
  for p in "${pids[@]}"; do
    lab_ours "$p" && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && left=1
  done
  return "$left"
}

# ---------------------------------------------------------------- network ----
lab_add_ns() {
  ip netns add "$1" || return 1
  lab_record ns "$1"
  ip -n "$1" link set lo up
  # inside the namespace only: no reverse-path filtering between the lab's links
  ip netns exec "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    > /dev/null
}

# lab_link NS_A IF_A NS_B IF_B: a veth pair created directly inside the two namespaces.
lab_link() {
  ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" || return 1
  ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

lab_build_net() {
  local n ns b
  lab_add_ns "$NS_R" && lab_add_ns "$NS_C" || return 1
  ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 > /dev/null
  lab_link "$NS_R" to-client "$NS_C" uplink || return 1
  ip -n "$NS_R" addr add 198.51.100.65/30 dev to-client
  ip -n "$NS_C" addr add 198.51.100.66/30 dev uplink
  ip -n "$NS_R" -6 addr add 2001:db8:ffff:100::1/64 dev to-client nodad
  ip -n "$NS_C" -6 addr add 2001:db8:ffff:100::2/64 dev uplink nodad
  ip -n "$NS_C" route add default via 198.51.100.65
  ip -n "$NS_C" -6 route add default via 2001:db8:ffff:100::1
  for ((n = 1; n <= LAB_SITES; n++)); do
    ns=$(ns_site "$n")
    b=$((4 * n - 4))
    lab_add_ns "$ns" || return 1
    lab_link "$NS_R" "to-s$n" "$ns" uplink || return 1
    ip -n "$NS_R" addr add "198.51.100.$((b + 1))/30" dev "to-s$n"
    ip -n "$ns" addr add "198.51.100.$((b + 2))/30" dev uplink
    ip -n "$NS_R" -6 addr add "2001:db8:ffff:$n::1/64" dev "to-s$n" nodad
    ip -n "$ns" -6 addr add "2001:db8:ffff:$n::2/64" dev uplink nodad
    # the service addresses live on lo: serving does not depend on the announcement
    ip -n "$ns" addr add "$ANY4" dev lo
    ip -n "$ns" -6 addr add "$ANY6" dev lo nodad
  done
}

# ---------------------------------------------------------------- configs ----
# The shipped configs minus their settings block (everything after the "end" marker).
lab_conf_body() { sed '1,/^# ---- per-.* settings: end/d' "$1"; }

lab_bird_header() {
  cat << EOF
# generated by deploy/lab/lab-lib.sh for lab "$LAB_NAME"; the rest is $1 verbatim
log "$LAB_DIR/$2-bird.log" all;
timeformat log "%F %T.%3f";
timeformat protocol "%F %T.%3f";
timeformat route "%F %T.%3f";
debug protocols { states, routes };
define HOLD_TIME = 6;
define KEEPALIVE_TIME = 2;
define CONNECT_DELAY = 1;
define ERROR_WAIT_MIN = 1;
define ERROR_WAIT_MAX = 4;
define ANYCAST4 = [ $ANY4 ];
define ANYCAST6 = [ $ANY6 ];
EOF
}

lab_write_bird_configs() {
  local n b f
  f="$LAB_DIR/r-bird.conf"
  {
    lab_bird_header deploy/bird/router.conf r
    echo "define ROUTER_ID = 198.51.100.65;"
    echo "define LOCAL_AS = 65000;"
    echo "define SITE_AS = 65053;"
    for ((n = 1; n <= 3; n++)); do
      b=$((4 * n - 4))
      echo "define SITE${n}_4 = 198.51.100.$((b + 2));"
      echo "define SITE${n}_6 = 2001:db8:ffff:$n::2;"
    done
    lab_conf_body "$LAB_SRC/deploy/bird/router.conf"
    if [ "$LAB_SITES" = 3 ]; then
      # a third site: the same session pair as s1/s2 in router.conf
      cat << 'EOF'
protocol bgp s3v4 from anycast_site {
  neighbor SITE3_4 as SITE_AS;
  ipv4 { import filter from_site4; import limit 10 action block; export where net = 0.0.0.0/0; };
}
protocol bgp s3v6 from anycast_site {
  neighbor SITE3_6 as SITE_AS;
  ipv6 { import filter from_site6; import limit 10 action block; export where net = ::/0; };
}
EOF
    fi
  } > "$f"
  for ((n = 1; n <= LAB_SITES; n++)); do
    b=$((4 * n - 4))
    f="$LAB_DIR/s$n-bird.conf"
    {
      lab_bird_header deploy/bird/site.conf "s$n"
      echo "define SITE_ROUTER_ID = 198.51.100.$((b + 2));"
      echo "define SITE_AS = 65053;"
      echo "define UPSTREAM_AS = 65000;"
      echo "define UPSTREAM4 = 198.51.100.$((b + 1));"
      echo "define UPSTREAM6 = 2001:db8:ffff:$n::1;"
      # site1 is the preferred site: the others prepend (n-1) times, so failover is visible
      echo "define PREPEND = $((n - 1));"
      echo "define DRAIN_PREPEND = 2;"
      lab_conf_body "$LAB_SRC/deploy/bird/site.conf"
    } > "$f"
  done
  for f in "$LAB_DIR"/*-bird.conf; do
    bird -p -c "$f" > "$LAB_DIR/bird-parse.log" 2>&1 || { cat "$LAB_DIR/bird-parse.log" >&2; return 1; }
  done
}

lab_write_zone() {
  cat > "$LAB_DIR/example.com.zone" << EOF
; lab zone, the same at every site; the sites differ only in their NSID
\$ORIGIN example.com.
\$TTL 60
@       IN SOA ns1 hostmaster 1 7200 3600 1209600 60
        IN NS  ns1
ns1     IN A    $ANY4_ADDR
ns1     IN AAAA $ANY6_ADDR
canary  IN A    $CANARY_EXPECT
www     IN A    192.0.2.80
EOF
}

# lab_write_site_yaml N: $LAB_DIR/sN.yaml, one file with meridiand's sections and the
# sidecar's anycast: section (meridiand skips that key, the sidecar skips the others). If this
# meridiand does not accept the anycast: key yet, it gets sN-dns.yaml without it; if it has no
# server.control_socket, the sidecar is not pointed at one (the sidecar counts an unreachable
# meridiand_control as a soft failure, which would keep the site DEGRADED).
lab_write_site_yaml() {
  local n=$1 d="$LAB_DIR" ctl="$LAB_DIR/s$1-meridiand.sock"
  lab_dns_yaml "$n" "$ctl" > "$d/s$n-dns.yaml"
  if ! "$MERIDIAND" -n -c "$d/s$n-dns.yaml" > /dev/null 2>&1; then
    ctl=""
    lab_dns_yaml "$n" "" > "$d/s$n-dns.yaml"
    "$MERIDIAND" -n -c "$d/s$n-dns.yaml" > /dev/null || return 1
  fi
  {
    cat "$d/s$n-dns.yaml"
    cat << EOF
anycast:
  prefixes: ["$ANY4", "$ANY6"]
  service_addresses: ["$ANY4_ADDR", "[$ANY6_ADDR]:53"]
  canary: { name: $CANARY, type: A, expect: $CANARY_EXPECT }
  interval: $LAB_INTERVAL
  fast_interval: $LAB_FAST_INTERVAL
  timeout: $LAB_TIMEOUT
  rise: $LAB_RISE
  fall: $LAB_FALL
  hold_down: $LAB_HOLD_DOWN
  hold_down_max: $LAB_HOLD_DOWN_MAX
  drain_time: $LAB_DRAIN_TIME
  gate_device: mgate0
  drain_device: mdrain0
  bird_socket: $d/s$n-bird.ctl
  bird_protocols: [anycast4, anycast6]
  bird_drain_protocols: [anycast4d, anycast6d]
  bird_peers: [up4, up6]
  control_socket: $d/s$n-anycast.sock
  meridiand_control: "$ctl"
EOF
  } > "$d/s$n.yaml"
  if "$MERIDIAND" -n -c "$d/s$n.yaml" > /dev/null 2>&1; then
    echo "$d/s$n.yaml" > "$d/s$n.meridiand-conf"
  else
    echo "$d/s$n-dns.yaml" > "$d/s$n.meridiand-conf"
  fi
}

# lab_dns_yaml N CONTROL_SOCKET: meridiand's part of site N's configuration.
lab_dns_yaml() {
  cat << EOF
server:
  listen: ["$ANY4_ADDR:53", "[$ANY6_ADDR]:53"]
  workers: 1
  identity: "site$1"
  nsid: "site$1"
  log_level: info
EOF
  [ -n "$2" ] && echo "  control_socket: $2"
  cat << EOF
zones:
  - origin: example.com
    file: $LAB_DIR/example.com.zone
EOF
}

# ---------------------------------------------------------------- daemons ----
# lab_start_bird WHO (r | sN): BIRD in its namespace, waits (bounded) for its socket.
lab_start_bird() {
  local who=$1 ns i
  if [ "$who" = r ]; then ns=$NS_R; else ns=$(ns_site "${who#s}"); fi
  rm -f "$LAB_DIR/$who-bird.ctl"
  lab_spawn "$who-bird" "$ns" bird -f -c "$LAB_DIR/$who-bird.conf" -s "$LAB_DIR/$who-bird.ctl" \
    -P "$LAB_DIR/$who-bird.pid"
  for ((i = 0; i < 100; i++)); do
    birdc -s "$LAB_DIR/$who-bird.ctl" show status > /dev/null 2>&1 && return 0
    kill -0 "$LAB_LAST_PID" 2> /dev/null || break # just started: no pid reuse yet
    sleep 0.05
  done
  echo "BIRD $who did not start; see $LAB_DIR/$who-bird.log" >&2
  return 1
}

# lab_start_meridiand N: waits (bounded) until it answers the canary on the anycast address.
lab_start_meridiand() {
  local n=$1 ns i
  ns=$(ns_site "$n")
  lab_spawn "s$n-meridiand" "$ns" "$MERIDIAND" -c "$(cat "$LAB_DIR/s$n.meridiand-conf")"
  for ((i = 0; i < 100; i++)); do
    if ip netns exec "$ns" dig +norec +time=1 +tries=1 +short "@$ANY4_ADDR" "$CANARY" A 2> /dev/null \
      | grep -qx "$CANARY_EXPECT"; then
      return 0
    fi
    kill -0 "$LAB_LAST_PID" 2> /dev/null || break
    sleep 0.1
  done
  echo "meridiand at site$n did not answer; see $LAB_DIR/s$n-meridiand.log" >&2
  return 1
}

# lab_start_sidecar N: the sidecar runs inside the site namespace (its gates must be where
# that site's BIRD is; its probes go to the local service addresses). Waits for its control
# socket.
lab_start_sidecar() {
  local n=$1 ns i
  ns=$(ns_site "$n")
  rm -f "$LAB_DIR/s$n-anycast.sock"
  lab_spawn "s$n-anycast" "$ns" "$MERIDIAN_ANYCAST" -c "$LAB_DIR/s$n.yaml"
  for ((i = 0; i < 200; i++)); do
    [ -S "$LAB_DIR/s$n-anycast.sock" ] && return 0
    kill -0 "$LAB_LAST_PID" 2> /dev/null || break
    sleep 0.05
  done
  echo "meridian-anycast at site$n did not start; see $LAB_DIR/s$n-anycast.log" >&2
  return 1
}

# lab_up [nosidecar]: the whole lab; with "nosidecar" everything but the sidecars.
lab_up() {
  local n
  mkdir -p "$LAB_DIR" || return 1
  : >> "$LAB_DIR/state"
  lab_write_zone
  lab_write_bird_configs || return 1
  for ((n = 1; n <= LAB_SITES; n++)); do lab_write_site_yaml "$n" || return 1; done
  lab_build_net || return 1
  lab_start_bird r || return 1
  for ((n = 1; n <= LAB_SITES; n++)); do
    lab_start_bird "s$n" || return 1
    lab_start_meridiand "$n" || return 1
  done
  [ "${1:-}" = nosidecar ] && return 0
  for ((n = 1; n <= LAB_SITES; n++)); do lab_start_sidecar "$n" || return 1; done
}

# ---------------------------------------------------------------- queries ----
# lab_birdc WHO ARGS...: birdc against r or sN, bounded; -v keeps the reply codes.
lab_birdc() {
  local who=$1
  shift
  timeout 5 birdc -v -s "$LAB_DIR/$who-bird.ctl" "$@" 2>&1
}

# rt_paths PREFIX: the router's paths for PREFIX, one line each:
#   "<proto> <best|-> lp=<local_pref> <gshut|-> path=<as path with _ for spaces>"
# Status 0 with no lines = BIRD answered and has no path; status 2 = no usable answer (must
# never be read as "withdrawn").
rt_paths() {
  local out rc
  out=$(lab_birdc r show route "$1" all)
  rc=$?
  grep -q '^0001 ' <<< "$out" || return 2   # no greeting: BIRD not reached
  if [ "$rc" != 0 ]; then
    grep -q '^8001 ' <<< "$out" && return 0 # "Network not found"
    return 2
  fi
  grep -qE '^(8|9)[0-9]{3}' <<< "$out" && return 2
  awk '
    function flush() { if (p != "") print p, best, "lp=" lp, gs, "path=" path; p = "" }
    /unicast \[/ {
      flush()
      s = $0; sub(/.*unicast \[/, "", s); split(s, w, " "); p = w[1]
      best = ($0 ~ /\] \* \(/) ? "best" : "-"; lp = "?"; gs = "-"; path = ""
    }
    /BGP.local_pref:/ { lp = $NF }
    /BGP.as_path:/ { s = $0; sub(/.*BGP.as_path: */, "", s); gsub(/ /, "_", s); path = s }
    /BGP.community:/ && /\(65535,0\)/ { gs = "gshut" }
    END { flush() }' <<< "$(sed 's/^[0-9][0-9][0-9][0-9][- ]//' <<< "$out")"
}

# rt_best PREFIX: protocol name of the router's best path ("" = none; status 2 = unknown).
rt_best() {
  local paths rc
  paths=$(rt_paths "$1")
  rc=$?
  [ "$rc" = 0 ] || return "$rc"
  awk '$2 == "best" { print $1 }' <<< "$paths"
}

# rt_has PREFIX PROTO: 0 = the router holds PREFIX from PROTO, 1 = it does not, 2 = unknown.
rt_has() {
  local paths
  paths=$(rt_paths "$1") || return 2
  awk -v p="$2" '$1 == p { f = 1 } END { exit !f }' <<< "$paths" && return 0
  return 1
}
rt_absent() { rt_has "$@"; [ $? = 1 ]; }

# lab_query [ADDR]: the NSID of the site that answered the client's query for the canary,
# "noanswer" if nothing came back in 1 s.
lab_query() {
  local out nsid
  out=$(ip netns exec "$NS_C" dig +norec +nsid +time=1 +tries=1 "@${1:-$ANY4_ADDR}" "$CANARY" A 2>&1)
  nsid=$(sed -n 's/^; NSID: .*("\(.*\)")$/\1/p' <<< "$out" | head -n 1)
  if [ -n "$nsid" ]; then echo "$nsid"; elif grep -q 'status: ' <<< "$out"; then echo "nonsid"
  else echo "noanswer"; fi
}

# lab_sidecar_cmd N COMMAND...: one command on the sidecar's control socket; prints the reply.
lab_sidecar_cmd() {
  local n=$1
  shift
  timeout 5 "$PY" - "$LAB_DIR/s$n-anycast.sock" "$*" << 'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        out += d
        s.settimeout(0.3)   # a server that keeps the connection open: stop after a pause
except socket.timeout:
    pass
sys.stdout.write(out.decode(errors="replace"))
EOF
}

# lab_sidecar_brief N: the sidecar's state in one line (a few keys of its `status` reply).
lab_sidecar_brief() {
  lab_sidecar_cmd "$1" status 2> /dev/null | awk -F': ' '
    /^(state|gates|hold_down_left_ms|hold_down_next_ms|flaps|bird):/ { printf "%s=%s  ", $1, $2 }
    /^error/ { print }'
}

# rib_event_ms T0 PROTO PREFIX added|removed: ms from T0 (epoch ms) to the first trace line
# in the router's log at or after T0 in which PROTO's route for PREFIX was added/removed:
# when the change reached the router's RIB, independent of polling lag. "?" if none.
rib_event_ms() {
  local t0=$1 since stamp
  since=$(date -d "@$((t0 / 1000)).$(printf %03d $((t0 % 1000)))" '+%F %T.%3N')
  stamp=$(awk -v s="$since" -v p="$2." -v x=" $3 " -v e="$4" '
    ($1 " " $2) >= s && index($0, "<TRACE> " p) && index($0, x) && $0 ~ ("> " e) {
      print $1 " " $2; exit }' "$LAB_DIR/r-bird.log" 2> /dev/null)
  if [ -z "$stamp" ]; then echo "?"; return 1; fi
  echo $(($(date -d "$stamp" +%s%3N) - t0))
}
