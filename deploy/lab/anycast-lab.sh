#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# anycast-lab.sh: Meridian anycast on one machine. Two (or three) sites, a router and a client
# in network namespaces; every site runs the real meridiand (NSID = site name), the real
# meridian-anycast and BIRD with deploy/bird/site.conf; the router runs BIRD with
# deploy/bird/router.conf. See deploy/lab/README.md.
#
#   anycast-lab.sh up | status | query | down
#   anycast-lab.sh fail|recover|hang|kill-sidecar|start-sidecar|drain|undrain|restart-bird SITE
#
# SITE is 1, 2, 3 or site1..site3. Environment: LAB_NAME (default lab), LAB_DIR, LAB_SITES,
# MERIDIAND, MERIDIAN_ANYCAST and the LAB_* sidecar knobs described in lab-lib.sh.
set -u -o pipefail
export LC_ALL=C
# shellcheck source=deploy/lab/lab-lib.sh
. "$(dirname "$0")/lab-lib.sh"
lab_init || exit 2

usage() {
  sed -n '/^#   anycast-lab.sh/p' "$0" | sed 's/^#   /usage: /' >&2
  exit 2
}

site_arg() {
  local s=${1:-}
  s=${s#site}
  if ! [[ $s =~ ^[1-3]$ ]] || [ "$s" -gt "$LAB_SITES" ]; then
    echo "no such site: ${1:-}" >&2
    exit 2
  fi
  echo "$s"
}

need_up() {
  if [ ! -f "$LAB_DIR/state" ] || [ ! -e "/run/netns/$NS_R" ]; then
    echo "lab '$LAB_NAME' is not up (anycast-lab.sh up)" >&2
    exit 1
  fi
  # LAB_SITES as it was at `up`
  [ -f "$LAB_DIR/sites" ] && LAB_SITES=$(cat "$LAB_DIR/sites")
}

# show the router's view and what the client gets
status() {
  local n state
  printf 'lab %s (%s)\n' "$LAB_NAME" "$LAB_DIR"
  for ((n = 1; n <= LAB_SITES; n++)); do
    state="meridiand:"
    if lab_alive "s$n-meridiand"; then
      if [ "$(awk '{print $3}' "/proc/$(lab_pid "s$n-meridiand")/stat")" = T ]; then
        state+="stopped(SIGSTOP)"
      else state+="running"; fi
    else state+="down"; fi
    lab_alive "s$n-bird" && state+=" bird:running" || state+=" bird:down"
    if lab_alive "s$n-anycast"; then
      state+=" sidecar: $(lab_sidecar_brief "$n")"
    else state+=" sidecar:down"; fi
    printf 'site%s  %s\n' "$n" "$state"
  done
  echo "router paths for $ANY4 (proto best local_pref gshut as_path):"
  rt_paths "$ANY4" | sed 's/^/  /'
  echo "router paths for $ANY6:"
  rt_paths "$ANY6" | sed 's/^/  /'
  echo "client query $CANARY @$ANY4_ADDR -> $(lab_query "$ANY4_ADDR")"
  echo "client query $CANARY @$ANY6_ADDR -> $(lab_query "$ANY6_ADDR")"
}

cmd=${1:-}
case $cmd in
  up)
    if [ -e "/run/netns/$NS_R" ]; then
      echo "lab '$LAB_NAME' is already up; run: $0 down" >&2
      exit 1
    fi
    missing=$(lab_missing)
    if [ -n "$missing" ]; then
      echo "missing: $(tr "\n" " " <<< "$missing")" >&2
      exit 1
    fi
    # a half-built lab is removed again
    trap 'echo "up failed; tearing down" >&2; lab_down; exit 1' ERR INT TERM
    lab_log "building lab '$LAB_NAME' with $LAB_SITES sites in $LAB_DIR"
    lab_log "meridiand: $MERIDIAND  meridian-anycast: $MERIDIAN_ANYCAST"
    mkdir -p "$LAB_DIR" && echo "$LAB_SITES" > "$LAB_DIR/sites"
    lab_up full || false
    trap - ERR
    lab_log "waiting (max 30 s) for site1's announcement at the router"
    for ((i = 0; i < 300; i++)); do
      [ "$(rt_best "$ANY4")" = s1v4 ] && break
      sleep 0.1
    done
    trap - INT TERM
    status
    ;;
  status) need_up; status ;;
  query) need_up; lab_query "${2:-$ANY4_ADDR}" ;;
  fail) need_up; n=$(site_arg "${2:-}"); lab_stop "s$n-meridiand" && echo "site$n: meridiand stopped" ;;
  recover)
    need_up
    n=$(site_arg "${2:-}")
    lab_alive "s$n-meridiand" && lab_signal "s$n-meridiand" CONT
    lab_alive "s$n-meridiand" || lab_start_meridiand "$n"
    lab_alive "s$n-anycast" || lab_start_sidecar "$n"
    lab_alive "s$n-bird" || lab_start_bird "s$n"
    echo "site$n: meridiand, sidecar and BIRD running"
    ;;
  hang) need_up; n=$(site_arg "${2:-}"); lab_signal "s$n-meridiand" STOP && echo "site$n: meridiand stopped with SIGSTOP (recover: $0 recover $n)" ;;
  kill-sidecar) need_up; n=$(site_arg "${2:-}"); lab_signal "s$n-anycast" KILL && echo "site$n: meridian-anycast SIGKILLed (restart: $0 start-sidecar $n)" ;;
  start-sidecar) need_up; n=$(site_arg "${2:-}"); lab_alive "s$n-anycast" || lab_start_sidecar "$n" ;;
  drain) need_up; n=$(site_arg "${2:-}"); lab_sidecar_cmd "$n" drain ;;
  undrain) need_up; n=$(site_arg "${2:-}"); lab_sidecar_cmd "$n" undrain ;;
  restart-bird)
    need_up
    n=$(site_arg "${2:-}")
    lab_stop "s$n-bird"
    lab_start_bird "s$n" && echo "site$n: BIRD restarted"
    ;;
  down)
    [ -f "$LAB_DIR/state" ] || { echo "lab '$LAB_NAME': nothing to tear down" >&2; exit 0; }
    if lab_down; then
      rm -rf -- "$LAB_DIR"
      echo "lab '$LAB_NAME' torn down"
    else
      echo "lab '$LAB_NAME': something was left behind; see $LAB_DIR/state" >&2
      exit 1
    fi
    ;;
  *) usage ;;
esac
