#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 011: every step of meridiand's start that can fail unwinds cleanly.

Each case starts meridiand with one start step made to fail and asserts a
clean exit: status 1 (0 for a stop signal during the start), the step's own
error message, no sanitizer report (in the Asan build a leak, a use after free
or undefined behaviour on the unwinding path aborts the process and prints
"ERROR: AddressSanitizer" or "LeakSanitizer"), no process left in meridiand's
session (exec checks run in it), and no control socket file left behind.

The steps, in start order (ARCHITECTURE.md §2):

* the snapshot: GeoIP database a directory, missing, or not an mmdb;
* the listen sockets: the port held by a plain listener of the test;
* the control socket: its directory missing, its path too long;
* the privilege drop (root only): a state file directory the user cannot
  write; started as nobody with another server.user;
* a stop signal while `startup: wait` waits for the first round, with an exec
  probe in flight;
* every thread start: failthread.so (LD_PRELOAD, built beside this test) makes
  the Nth pthread_create fail, N = 1, 2, ... until a run starts every thread
  (liburcu's call_rcu thread, health, control, each worker); that run must
  serve and stop with status 0. liburcu aborts when it cannot start its
  thread (no error is returned to us): that case must be the first thread,
  before any socket, state file or probe exists.

Asan runs set ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 (added to the
caller's). Without root the privilege cases are reported as SKIP lines.
"""

import os
import pwd
import random
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

ORIGIN = "start.test"
ZONE = h.small_zone(ORIGIN)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
GEOIP_MMDB = os.path.join(ROOT, "geoip", "sample.mmdb")
URCU_ABORT = "call_rcu_data_init"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
NSID = h.new_nsid("start")
# A sleep only this run starts: an exec probe in flight is then recognisable.
SLEEP_ARG = "%d.%03d" % (h.scaled(30), random.randrange(1000))


def write_config(path, tmp, port, geoip=GEOIP_MMDB, control=None, state=None, user=None,
                 startup_wait="300ms", workers=2):
    control = control or tmp.join("control.sock")
    state = state or tmp.join("meridian.state")
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: %d" % workers,
             '  nsid: "%s"' % NSID,
             "  log_level: info",
             '  control_socket: "%s"' % control,
             '  state_file: "%s"' % state]
    if user:
        lines += ["  user: %s" % user[0], "  group: %s" % user[1]]
    lines += ["health:",
              "  startup_wait: %s" % startup_wait,
              "zones:",
              '  - { origin: %s, file: "%s" }' % (ORIGIN, tmp.join("start.test.zone")),
              "geoip:",
              '  database: "%s"' % geoip,
              "checks:",
              '  states: { type: file, file: "%s", interval: 1s, timeout: 500ms }'
              % tmp.join("states.txt"),
              '  sleeper: { type: exec, command: ["/bin/sleep", "%s"], interval: %ds, '
              "timeout: %ds }" % (SLEEP_ARG, h.scaled(60), h.scaled(45)),
              "services:",
              "  www.%s:" % ORIGIN,
              "    ttl: 30",
              "    startup: wait",
              "    pools:",
              "      main:",
              "        members:",
              "          - { address: 192.0.2.10, check: states }",
              "          - { address: 192.0.2.11, check: sleeper }",
              "    geo:",
              "      continent: { EU: [main] }",
              "      default: [main]"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o644)
    return path


def session_members(sid):
    """Pids of live processes in session sid (meridiand's, from start_new_session)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # Fields after the command (which may hold spaces) in parentheses: state ppid pgrp
        # session.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(name))
    return found


def sleeper_running(sid):
    """True if the sleeper exec probe runs in session sid."""
    for pid in session_members(sid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if SLEEP_ARG.encode() in f.read():
                    return True
        except OSError:
            pass
    return False


class Run:
    """One meridiand run: its status, its output, whether it got ready, and what stayed."""

    def __init__(self, rc, log, ready, leftover):
        self.rc, self.log, self.ready, self.leftover = rc, log, ready, leftover


def run(meridiand, config, tmp, env_extra=None, as_user=None, stop_when=None,
        timeout=None, wait_probe=False):
    """Start meridiand in its own session; wait until it exits, or until `stop_when`
    (default "ready: ") appears in its output (and with wait_probe, until the sleeper probe
    runs), then SIGTERM it. Kills its own pid on a timeout."""
    timeout = timeout or h.scaled(30)
    stop_when = stop_when or "ready: "
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS"), "detect_leaks=1",
                                               "abort_on_error=1") if o)
    env.update(env_extra or {})
    preexec = None
    if as_user:
        def preexec():
            os.setgroups([])
            os.setgid(as_user.pw_gid)
            os.setuid(as_user.pw_uid)
    log_path = tmp.join("meridiand.log")
    with open(log_path, "wb") as log:
        p = subprocess.Popen([meridiand, "-c", config], cwd=tmp.path, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT, env=env,
                             start_new_session=True, preexec_fn=preexec)
    ready = probe_seen = False
    deadline = time.monotonic() + timeout
    signalled = False
    while p.poll() is None and time.monotonic() < deadline:
        with open(log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        if stop_when in text and not signalled:
            ready = stop_when == "ready: "
            if wait_probe:
                probe_seen = h.wait_for(lambda: sleeper_running(p.pid), timeout=h.scaled(10))
            p.send_signal(signal.SIGTERM)
            signalled = True
        try:
            p.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            pass
    if p.poll() is None:
        p.kill()
        p.wait()
        rc = None
    else:
        rc = p.returncode
    leftover = session_members(p.pid)
    with open(log_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    r = Run(rc, text, ready, leftover)
    r.probe_seen = probe_seen
    return r


def clean_exit(r, want_rc, want_msg, control=None):
    """Errors for run r unless it exited want_rc with want_msg, no sanitizer report, no
    process left, no control socket file left."""
    errs = []
    if r.rc != want_rc:
        errs.append("exit status %s, wanted %d (a negative status is a signal: a crash or a "
                    "sanitizer abort)" % (r.rc, want_rc))
    if want_msg not in r.log:
        errs.append("no message %r" % want_msg)
    for mark in SANITIZER_MARKS:
        if mark in r.log:
            errs.append("sanitizer report %r" % mark)
    if r.leftover:
        errs.append("processes left in its session: %s" % r.leftover)
    if control and os.path.exists(control):
        errs.append("control socket %s left behind" % control)
    if errs:
        errs.append("output:\n" + "\n".join(r.log.splitlines()[-25:]))
    return errs


def free_port():
    return h.free_port(addrs=(h.V4,))


def main():
    args = h.parse_args(__doc__.splitlines()[0], lambda p: p.add_argument(
        "--failthread", required=True, help="path to failthread.so (built beside this test)"))
    results = h.Results(args.verbose)
    md = args.meridiand
    shim = args.failthread
    with h.TempDir(args.keep) as tmp:
        os.chmod(tmp.path, 0o755)
        for name, text in (("start.test.zone", ZONE), ("states.txt", "")):
            with open(tmp.join(name), "w") as f:
                f.write(text)
            os.chmod(tmp.join(name), 0o644)
        cfg = tmp.join("meridian.yaml")
        sock = tmp.join("control.sock")

        # The snapshot: nothing is started yet.
        corrupt = tmp.join("corrupt.mmdb")
        with open(corrupt, "wb") as f:
            f.write(bytes(random.randrange(256) for _ in range(4096)))
        for label, geoip in (("a directory", tmp.path), ("missing", tmp.join("none.mmdb")),
                             ("not an mmdb", corrupt)):
            write_config(cfg, tmp, free_port(), geoip=geoip)
            r = run(md, cfg, tmp)
            results.check("GeoIP database %s: exit 1, '%s:N: geoip: ...'" % (label, cfg),
                          clean_exit(r, 1, "%s:" % cfg, sock) +
                          ([] if ": geoip: " in r.log else ["no 'geoip:' in the message"]))

        # The listen sockets: the port held by a plain listener (no SO_REUSEPORT).
        port = free_port()
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        holder.bind((h.V4, port))
        holder.listen(1)
        try:
            write_config(cfg, tmp, port)
            r = run(md, cfg, tmp)
            want = "listen %s:%d: already in use" % (h.V4, port)
            results.check("listen address in use: exit 1, '%s'" % want,
                          clean_exit(r, 1, want, sock))
        finally:
            holder.close()

        # The control socket, opened after the listen sockets.
        missing = tmp.join("no-such-dir", "control.sock")
        write_config(cfg, tmp, free_port(), control=missing)
        r = run(md, cfg, tmp)
        want = "control socket %s: No such file or directory" % missing
        results.check("control socket directory missing: exit 1, '%s'" % want,
                      clean_exit(r, 1, want))
        long_path = tmp.join("x" * 120 + ".sock")
        write_config(cfg, tmp, free_port(), control=long_path)
        r = run(md, cfg, tmp)
        results.check("control socket path too long (refused with the config): exit 1",
                      clean_exit(r, 1, "is too long for a UNIX socket", long_path))

        # The privilege drop, after both sockets exist.
        if os.geteuid() != 0:
            print("SKIP: privilege drop cases: need root to switch users")
        else:
            nobody = pwd.getpwnam("nobody")
            group = "nogroup"
            state_dir = tmp.join("root-only")
            os.mkdir(state_dir, 0o755)
            write_config(cfg, tmp, free_port(), state=os.path.join(state_dir, "m.state"),
                         user=("nobody", group), control=tmp.join("run", "control.sock"))
            os.makedirs(tmp.join("run"), exist_ok=True)
            os.chown(tmp.join("run"), nobody.pw_uid, nobody.pw_gid)
            r = run(md, cfg, tmp)
            results.check("state file directory not writable by server.user: exit 1",
                          clean_exit(r, 1, "its directory %s is not writable" % state_dir,
                                     tmp.join("run", "control.sock")))
            # Not root and not the configured user: privdrop_apply refuses. The control
            # socket goes where nobody may create it.
            write_config(cfg, tmp, free_port(), user=("daemon", "daemon"),
                         control=tmp.join("run", "control.sock"),
                         state=tmp.join("run", "m.state"))
            r = run(md, cfg, tmp, as_user=nobody)
            results.check("started as nobody with server.user daemon: exit 1",
                          clean_exit(r, 1, "which is neither root nor that user",
                                     tmp.join("run", "control.sock")))

        # A stop signal during `startup: wait`, an exec probe (the sleeper) in flight.
        write_config(cfg, tmp, free_port(), startup_wait="%ds" % h.scaled(20))
        r = run(md, cfg, tmp, stop_when="loaded ", wait_probe=True)
        results.check("SIGTERM while waiting for the first round, the sleeper probe running: "
                      "exit 0, the probe killed",
                      clean_exit(r, 0, "during start: stopping", sock) +
                      ([] if r.probe_seen else ["the sleeper probe was never seen running"]))

        # Every thread start, failed in turn.
        if not os.path.exists(shim):
            results.check("failthread.so", ["%s missing" % shim])
            return results.finish()
        env = {"LD_PRELOAD": shim,
               # Sanitizer runtimes want to come first in the library list; ours only
               # wraps pthread_create and calls the next one.
               "ASAN_OPTIONS": ":".join(o for o in (os.environ.get("ASAN_OPTIONS"),
                                                    "verify_asan_link_order=0") if o)}
        thread_msgs = ("health: cannot start its thread", "control thread: ",
                       ": pthread_create: ")
        started = False
        for n in range(1, 13):
            write_config(cfg, tmp, free_port())
            env["MERIDIAN_FAIL_THREAD"] = str(n)
            r = run(md, cfg, tmp, env_extra=env)
            if "pthread_create call %d fails" % n not in r.log:
                results.check("thread starts: no call %d, so all %d started: served and "
                              "stopped with 0" % (n, n - 1),
                              clean_exit(r, 0, "ready: ", sock) +
                              ([] if r.ready else ["never ready"]))
                started = True
                break
            if URCU_ABORT in r.log:
                # liburcu's call_rcu thread: liburcu aborts when it cannot start it, so
                # meridiand starts it first, before any socket, file or child exists.
                results.check("thread start %d (liburcu's call_rcu thread) fails: liburcu "
                              "aborts before anything was started" % n,
                              clean_exit(r, -signal.SIGABRT, URCU_ABORT, sock) +
                              ([] if n == 1 else ["not the first thread started"]) +
                              (["started a step first: %r" % l for l in r.log.splitlines()
                                if "running as" in l or "health:" in l]))
                continue
            msg = next((m for m in thread_msgs if m in r.log), thread_msgs[0])
            line = next((l for l in r.log.splitlines() if msg in l), "")
            results.check("thread start %d fails: exit 1 (%s)" % (n, line.strip()),
                          clean_exit(r, 1, msg, sock) +
                          (["it got ready without that thread"] if r.ready else []))
        if not started:
            results.check("thread starts: the server started within 12 threads", ["never"])
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
