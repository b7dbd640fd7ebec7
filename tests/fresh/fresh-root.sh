#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fresh-machine test (ctest label `fresh`). Proves, on a minimal Debian 12 root built with
# mmdebstrap from this machine's apt sources, that
#   A. the README's first command, ./deploy/run-example.sh, installs what it needs, builds and
#      serves: queried from outside the root (host dig -> 127.0.0.1:5353 and [::1]:5353; the
#      root shares the host's network namespace, so every query stays on loopback);
#   B. the Debian package builds there from its Build-Depends alone (apt-get build-dep ./,
#      dpkg-buildpackage -us -uc -b), and lintian on the host finds no error;
#   C. the package installs into another fresh root with apt-get (runtime deps from the
#      mirror): meridian user, conffile, state/runtime dirs, `meridiand -n` on the example.
# The pristine root is cached as a tarball under $MERIDIAN_FRESH_CACHE (/tmp by default);
# every phase starts from its own copy. Downloaded .debs and apt lists are shared between
# runs. The repository goes in as `git archive HEAD` of the source tree: a clean clone's
# content, so uncommitted changes are not tested.
# Each root runs in its own mount and pid namespace (unshare): its /proc, /dev, /sys and
# cache mounts vanish with it, and killing the namespace's first process ends everything
# started inside. Needs root, mmdebstrap, lintian, dig, git; without them: exit 77 (SKIP).
# Logs of the last run: $MERIDIAN_FRESH_CACHE/logs/.
#   MERIDIAN_FRESH_CACHE    cache directory (default /tmp/meridian-fresh-cache)
#   MERIDIAN_FRESH_REBUILD  1: rebuild the pristine root even if cached
set -euo pipefail

src=${MERIDIAN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cache=${MERIDIAN_FRESH_CACHE:-/tmp/meridian-fresh-cache}
port=5353
suite=bookworm
max_age_days=14     # an older pristine root is rebuilt, so it stays close to the mirror
serve_timeout=900   # phase A: apt-get install + build + start, cold cache included
build_timeout=900   # phase B: build-dep install + package build
install_timeout=600 # phase C

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (mmdebstrap, chroot, mount namespaces)"
for tool in mmdebstrap lintian dig git unshare ss; do
    command -v "$tool" >/dev/null || skip "$tool not installed (deploy/install-deps.sh --test)"
done
git -C "$src" rev-parse --verify -q HEAD >/dev/null || skip "$src is not a git checkout"

t0=$(date +%s)
t_phase=$t0
phase() { # name: prints the time the previous phase took
    local now
    now=$(date +%s)
    echo "--- [$((now - t_phase)) s] $*"
    t_phase=$now
}

mkdir -p "$cache/archives/partial" "$cache/lists/partial"
# One run at a time: the runs share the caches and port 5353.
exec 9>"$cache/lock"
flock -n 9 || fail "another fresh-root run holds $cache/lock"

# --- cleanup: namespaces by pid, then work directories ------------------------------------
declare -a ns_parents=()
work="$cache/run.$$"
logs="$cache/logs" # kept after the run (the work directory is not)
rm -rf "$logs"
mkdir -p "$logs"

mounted_under() { # dir: true if the host has anything mounted at or below dir
    awk -v d="$1" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' \
        /proc/self/mountinfo
}
remove_tree() { # dir: refuses while anything is mounted below it (never rm a bound /dev)
    [ -e "$1" ] || return 0
    if mounted_under "$1"; then
        echo "cleanup: $1 still has mounts, left in place"
        return 1
    fi
    rm -rf --one-file-system "$1"
}
alive() { # pid: running (a child that exited stays a zombie until waited for: not alive)
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}
ns_init() { # unshare's pid: prints the pid of its child, the namespace's first process
    cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}'
}
cleanup() {
    local p c
    set +e
    for p in "${ns_parents[@]}"; do
        c=$(ns_init "$p")
        [ -n "$c" ] && kill -KILL "$c" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    remove_tree "$work" || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Work directories of earlier runs that died without cleaning up (ctest timeout: SIGKILL).
for d in "$cache"/run.*; do
    [ -d "$d" ] || continue
    pid=${d##*.}
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "removing stale $d"
        remove_tree "$d" || true
    fi
done

# Nothing may already answer where the example server will listen.
taken=$(ss -Hlnut "sport = :$port" | awk '{print $5}' |
    grep -E "^(127\.0\.0\.1|\[::1\]|0\.0\.0\.0|\*|\[::\]):$port\$" || true)
[ -z "$taken" ] || fail "port $port is already in use on loopback ($(echo $taken)); stop that" \
    "server first (the example listens on 127.0.0.1:$port and [::1]:$port)"

# --- this machine's Debian 12 sources -----------------------------------------------------
# One-line "deb" entries from sources.list, *.list and deb822 *.sources (what apt reads),
# keeping only the bookworm suites: other repositories on this machine are not part of a
# fresh Debian 12 install. Signed-By file paths are kept (the keyring is in the root too).
sources=$(python3 - "$suite" <<'EOF'
import glob, re, sys
suite = sys.argv[1]
wanted = re.compile(r"^%s(-updates|-security|/updates)?$" % re.escape(suite))
out = []
def add(uri, dist, comps, signed_by):
    if not wanted.match(dist):
        return
    opt = " [signed-by=%s]" % signed_by if signed_by and signed_by.startswith("/") else ""
    line = "deb%s %s %s %s" % (opt, uri, dist, " ".join(comps))
    if line not in out:
        out.append(line)
one_line = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
for path in one_line:
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        continue
    for line in lines:
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^deb\s+(\[([^]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        opts = dict(o.split("=", 1) for o in (m.group(2) or "").split() if "=" in o)
        add(m.group(3), m.group(4), m.group(5).split() or ["main"], opts.get("signed-by"))
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(path).read()):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, val = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = val.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            for dist in fields.get("suites", "").split():
                add(uri, dist, fields.get("components", "main").split(), fields.get("signed-by"))
print("\n".join(out))
EOF
)
[ -n "$sources" ] || fail "no Debian 12 ($suite) entries in /etc/apt/sources.list{,.d/*}"
echo "apt sources (from this machine):"
echo "$sources" | sed 's/^/  /'

# --- the pristine root --------------------------------------------------------------------
# apt options this machine uses for its mirrors go into the root too (a snapshot mirror
# needs Check-Valid-Until false; a proxy is needed everywhere or nowhere).
aptopts=()
eval "$(apt-config shell valid_until Acquire::Check-Valid-Until http_proxy Acquire::http::Proxy)"
[ -n "${valid_until:-}" ] && aptopts+=(--aptopt="Acquire::Check-Valid-Until \"$valid_until\"")
[ -n "${http_proxy:-}" ] && aptopts+=(--aptopt="Acquire::http::Proxy \"$http_proxy\"")
# dpkg without fsync: these roots are thrown away (mmdebstrap does the same while it builds).
aptopts+=(--dpkgopt=force-unsafe-io)
includes=()
# https mirrors: a machine installed from them has the CA certificates.
grep -q 'https://' <<<"$sources" && includes+=(--include=ca-certificates)

key=$( { echo "$sources"; echo "${aptopts[*]-}" "${includes[*]-}"; mmdebstrap --version; } |
    sha256sum | cut -c1-12)
pristine="$cache/$suite-minbase-$key.tar"
if [ -f "$pristine" ] && [ "${MERIDIAN_FRESH_REBUILD:-0}" != 1 ] &&
    [ -z "$(find "$pristine" -mtime +"$max_age_days")" ]; then
    phase "pristine root: cached $pristine"
else
    phase "pristine root: mmdebstrap --variant=minbase $suite (cold cache)"
    rm -f "$cache/$suite"-minbase-*.tar
    mirrors=()
    while IFS= read -r line; do mirrors+=("$line"); done <<<"$sources"
    timeout 900 mmdebstrap --variant=minbase --format=tar "${aptopts[@]}" "${includes[@]}" \
        "$suite" "$pristine.tmp" "${mirrors[@]}" 9>&- > "$logs/mmdebstrap.log" 2>&1 ||
        { tail -30 "$logs/mmdebstrap.log"; fail "mmdebstrap failed (log: $logs/mmdebstrap.log)"; }
    mv "$pristine.tmp" "$pristine"
    phase "pristine root built ($(du -h "$pristine" | cut -f1))"
fi

mkdir -p "$work"
new_root() { # name: extracts a fresh copy of the pristine root, prints its path
    local root="$work/$1"
    mkdir -p "$root"
    tar -xpf "$pristine" --numeric-owner -C "$root"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    echo "$root"
}
# in_root root log command...: runs the command as root inside root (chroot) in new mount and
# pid namespaces, in the background; the unshare pid is in $ns_pid and in ns_parents.
in_root() {
    local root=$1 log=$2
    shift 2
    unshare --mount --pid --fork --kill-child --propagation private -- bash -c '
        set -e
        r=$1 cache=$2
        shift 2
        mount -t proc proc "$r/proc"
        mount --rbind /dev "$r/dev"
        mount --rbind /sys "$r/sys"
        mount --bind "$cache/archives" "$r/var/cache/apt/archives"
        mount --bind "$cache/lists" "$r/var/lib/apt/lists"
        # Not exec: the command must not be the namespace init (pid 1 ignores signals it has
        # no handler for, and its exit kills the rest at once).
        chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
            LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
        exit $?' in_root "$root" "$cache" "$@" 9>&- >"$log" 2>&1 </dev/null &
    ns_pid=$!
    ns_parents+=("$ns_pid")
}
wait_root() { # pid seconds what log: waits for a backgrounded in_root, fails on error/timeout
    local pid=$1 limit=$2 what=$3 log=$4 i
    for ((i = 0; i < limit; i++)); do
        alive "$pid" || break
        sleep 1
    done
    if alive "$pid"; then
        tail -30 "$log"
        fail "$what: still running after $limit s (log: $log)"
    fi
    if ! wait "$pid"; then
        tail -40 "$log"
        fail "$what failed (log: $log)"
    fi
}

tree_of_head() { # dir: the repository's HEAD, as a clean clone has it
    mkdir -p "$1"
    git -C "$src" archive --format=tar HEAD | tar -xf - -C "$1"
}
echo "source: $src at $(git -C "$src" rev-parse --short HEAD)" \
    "$(git -C "$src" status --porcelain | grep -q . && echo '(uncommitted changes not tested)')"

# --- A: the README's first command in a fresh root, queried from outside ------------------
phase "A: fresh root, ./deploy/run-example.sh"
root=$(new_root a)
tree_of_head "$root/root/meridian"
log_a="$logs/run-example.log"
in_root "$root" "$log_a" /bin/sh -c 'cd /root/meridian && exec ./deploy/run-example.sh'
pid_a=$ns_pid

q() { dig -p "$port" +norec +time=2 +tries=1 "$@"; }
ready=0
for ((i = 0; i < serve_timeout; i += 2)); do
    if ! alive "$pid_a"; then
        tail -40 "$log_a"
        fail "run-example.sh exited before serving (log: $log_a)"
    fi
    if q @127.0.0.1 www.example.com A +short 2>/dev/null | grep -q '^192\.0\.2\.'; then
        ready=1
        break
    fi
    sleep 2
done
[ "$ready" = 1 ] || { tail -30 "$log_a"; fail "no answer on 127.0.0.1:$port within $serve_timeout s"; }
phase "A: answering (install-deps + build + start)"
grep -q 'ok: .* zones' "$log_a" || fail "run-example.sh did not print meridiand -n's ok line"

expect() { # description expected actual
    if [ "$2" != "$3" ]; then
        fail "$1: expected [$2], got [$3]"
    fi
    echo "ok: $1: $3"
}
sorted() { sort | tr '\n' ' ' | sed 's/ $//'; }
# Static answers (zones/example.com.zone) over UDP and TCP, IPv4 and IPv6 loopback.
expect "www.example.com A (udp, 127.0.0.1)" "192.0.2.10 192.0.2.11" \
    "$(q @127.0.0.1 www.example.com A +short | sorted)"
expect "example.com MX (tcp, ::1)" "10 mail.example.com. 20 mail.example.net." \
    "$(q @::1 +tcp example.com MX +short | sort -n | tr '\n' ' ' | sed 's/ $//')"
out=$(q @127.0.0.1 nonexistent.example.com A)
grep -q 'status: NXDOMAIN' <<<"$out" && grep -q 'flags: qr aa' <<<"$out" ||
    fail "nonexistent.example.com: expected an authoritative NXDOMAIN, got: $out"
echo "ok: nonexistent.example.com: authoritative NXDOMAIN"
# Steering (zones/meridian.yaml, geoip/sample.csv): the ECS subnet picks the pool, and the
# reply's ECS option carries a scope (RFC 7871 §7.2.1).
out=$(q @127.0.0.1 geo.example.com A +subnet=10.2.0.0/24)
ans=$(awk '/^geo\.example\.com\..*IN[[:space:]]+A[[:space:]]/ {print $NF}' <<<"$out")
case "$ans" in
192.0.2.10 | 192.0.2.11) echo "ok: geo.example.com A for ECS 10.2.0.0/24 (DE, EU): $ans" ;;
*) fail "geo.example.com for ECS 10.2.0.0/24 (EU): expected the eu pool, got [$ans]: $out" ;;
esac
grep -Eq 'CLIENT-SUBNET: 10\.2\.0\.0/24/[0-9]+' <<<"$out" ||
    fail "geo.example.com: no ECS option with a scope in the reply: $out"
expect "geo.example.com A for ECS 10.1.0.0/24 (US, NA)" "198.51.100.10" \
    "$(q @127.0.0.1 geo.example.com A +subnet=10.1.0.0/24 +short)"
expect "geo.example.com A for ECS 10.99.0.0/24 (nets rule)" "203.0.113.10" \
    "$(q @127.0.0.1 geo.example.com A +subnet=10.99.0.0/24 +short)"

# Stop the server by its pid (the namespace init's child: run-example.sh exec'd meridiand).
server=$(cat "/proc/$(ns_init "$pid_a")/task/$(ns_init "$pid_a")/children" | awk '{print $1}')
[ -n "$server" ] && [ "$(cat "/proc/$server/comm")" = meridiand ] ||
    fail "cannot find meridiand under namespace $pid_a"
kill -TERM "$server"
wait_root "$pid_a" 20 "meridiand stop (SIGTERM)" "$log_a"
echo "ok: meridiand stopped on SIGTERM with status 0"
remove_tree "$root"
phase "A: done"

# --- B: the package, built in a fresh root from its Build-Depends -------------------------
root=$(new_root b)
tree_of_head "$root/root/src/meridian"
log_b="$logs/package-build.log"
in_root "$root" "$log_b" /bin/sh -c 'set -e
    apt-get update -q
    cd /root/src/meridian
    apt-get build-dep -y -q --no-install-recommends ./
    dpkg-buildpackage -us -uc -b'
wait_root "$ns_pid" "$build_timeout" "package build (apt-get build-dep ./, dpkg-buildpackage)" \
    "$log_b"
mkdir -p "$work/out"
cp "$root"/root/src/meridian*_*.deb "$root"/root/src/meridian_*.changes \
    "$root"/root/src/meridian_*.buildinfo "$work/out/"
deb=$(ls "$work"/out/meridian_*_*.deb | grep -v dbgsym)
remove_tree "$root"
phase "B: built $(basename "$deb")"

# lintian on the host, on the .changes (every .deb it lists and the .buildinfo): errors fail
# the test, warnings are printed. A file lintian skips must fail too, not pass unchecked.
rc=0
lintian_out=$(lintian --fail-on error "$work"/out/meridian_*.changes 2>&1) || rc=$?
lintian_out=$(grep -v 'running with root privileges' <<<"$lintian_out" || true)
echo "${lintian_out:-lintian: no tags}" | sed 's/^/  /'
echo "lintian: $(grep -c '^E:' <<<"$lintian_out" || true) errors," \
    "$(grep -c '^W:' <<<"$lintian_out" || true) warnings (exit status $rc)"
! grep -Eq '^Skipping|No packages selected' <<<"$lintian_out" || fail "lintian checked nothing"
[ "$rc" = 0 ] && ! grep -q '^E:' <<<"$lintian_out" || fail "lintian reports errors"
phase "B: lintian"

# --- C: install the package into another fresh root ---------------------------------------
root=$(new_root c)
cp "$deb" "$root/tmp/"
log_c="$logs/package-install.log"
in_root "$root" "$log_c" /bin/bash -c 'set -e
    apt-get update -q
    cd /tmp
    apt-get install -y -q ./meridian_*.deb
    echo "== checks"
    getent passwd meridian
    for p in meridiand meridianctl meridian-anycast; do test -x /usr/sbin/$p; done
    test -f /lib/systemd/system/meridiand.service
    test -f /lib/systemd/system/meridian-anycast.service
    grep -q "^ExecStart=/usr/sbin/meridiand -c /etc/meridian/meridian.yaml" \
        /lib/systemd/system/meridiand.service
    grep -q "^User=meridian" /lib/systemd/system/meridiand.service
    test -f /etc/meridian/meridian.yaml
    dpkg-query -W -f="\${Conffiles}\n" meridian | grep -q "^ /etc/meridian/meridian.yaml "
    for d in /var/lib/meridian /run/meridian; do
        owner=$(stat -c %U:%G "$d")
        [ "$owner" = meridian:meridian ] || { echo "$d owned by $owner"; exit 1; }
    done
    # The sidecar has its own runtime directory (neither unit removes the other'"'"'s socket).
    owner=$(stat -c %U:%G /run/meridian-anycast)
    [ "$owner" = root:meridian ] || { echo "/run/meridian-anycast owned by $owner"; exit 1; }
    # As the service user, like ExecStartPre=.
    runuser -u meridian -- /usr/sbin/meridiand -n -c /etc/meridian/meridian.yaml
    # The example must never probe anything: no checks section, no member with a check.
    if grep -Eq "^[^#]*(^checks:|check:)" /etc/meridian/meridian.yaml; then
        echo "the example configuration has health checks"; exit 1
    fi
    systemd-analyze verify /lib/systemd/system/meridiand.service \
        /lib/systemd/system/meridian-anycast.service
    echo "units verified (systemd-analyze)"
    echo "== all checks passed"'
wait_root "$ns_pid" "$install_timeout" "package install and checks" "$log_c"
sed -n '/^== checks/,$p' "$log_c" | sed 's/^/  /'
remove_tree "$root"
phase "C: installed and checked"

echo "fresh-root test passed in $(($(date +%s) - t0)) s"
