#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 023: the control socket serves many clients at once and guards its path (issue 13).

* Slow clients: 10 connections that send half a command and never read, then 40 more than
  the socket serves at once (32): `meridianctl status` from another client is answered within
  1 s each time. Before the fix the thread served one client at a time, waiting 2 s for each
  silent one's line (20 s for 10).
* A client that sends `states` and never reads its reply does not hold the next one either.
* A regular file at the control socket path: meridiand refuses to start, says why, and the
  file is left as it was. A socket another server listens on: refused too, left alone. A
  stale socket file (nobody listening): replaced, the start succeeds.
* The health state file is written without permissions for others (0640).

Network safety: 127.0.0.1 only; every loop is bounded in count and time.
"""

import os
import socket
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

ORIGIN = "ctlc.test"
ZONE = h.small_zone(ORIGIN, "www A 192.0.2.80")
NSID = h.new_nsid("ctlclients")
STATUS_BOUND_S = 1.0


def write_config(path, port, tmp, sock, check_port):
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: 1",
             '  nsid: "%s"' % NSID,
             "  control_socket: %s" % sock,
             "  state_file: %s" % tmp.join("meridian.state"),
             "zones:",
             "  - origin: %s" % ORIGIN,
             "    file: %s" % tmp.join("zone"),
             "checks:",
             "  listener: { type: tcp, port: %d, interval: 500ms, timeout: 400ms, rise: 1, "
             "fall: 1 }" % check_port,
             "services:",
             "  svc.%s:" % ORIGIN,
             "    startup: up",
             "    pools:",
             "      main:",
             "        members:",
             "          - { address: 127.0.0.1, check: listener }"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def timed_status(ctl):
    t = time.monotonic()
    rc, out = ctl("status")
    return rc, out, time.monotonic() - t


def slow_client(sock, payload):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2.0)
    s.connect(sock)
    if payload:
        s.sendall(payload)
    return s


def check_slow_clients(results, ctl, sock):
    slow = [slow_client(sock, b"sta") for _ in range(10)]
    rc, out, took = timed_status(ctl)
    results.check("10 clients that send half a command and never read: `meridianctl status` "
                  "answered in %.2f s (< %.1f s)" % (took, STATUS_BOUND_S),
                  [] if rc == 0 and took < STATUS_BOUND_S else ["rc %d after %.2f s: %s"
                                                               % (rc, took, out[:200])])
    many = []
    for _ in range(40):
        try:
            many.append(slow_client(sock, None))
        except OSError:
            break
    rc, out, took = timed_status(ctl)
    results.check("%d more silent clients than the %d served at once: status answered in "
                  "%.2f s" % (len(many), 32, took),
                  [] if rc == 0 and took < STATUS_BOUND_S else ["rc %d after %.2f s: %s"
                                                               % (rc, took, out[:200])])
    # A client that asks for `states` and never reads its reply.
    reader = slow_client(sock, b"states\n")
    rc, out, took = timed_status(ctl)
    results.check("a client that never reads its reply: status answered in %.2f s" % took,
                  [] if rc == 0 and took < STATUS_BOUND_S else ["rc %d after %.2f s" % (rc, took)])
    for s in slow + many + [reader]:
        s.close()


def start_expect_failure(binary, tmp, conf, port, sock, check_port):
    write_config(conf, port, tmp, sock, check_port)
    try:
        p = subprocess.run([binary, "-c", conf], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=h.scaled(20))
    except subprocess.TimeoutExpired:
        return None, "did not exit"
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def check_path_guard(results, binary, tmp, check_port):
    port = h.free_port(addrs=(h.V4,))
    conf = tmp.join("guard.yaml")
    # A regular file.
    path = tmp.join("not-a-socket")
    content = b"precious data\n"
    with open(path, "wb") as f:
        f.write(content)
    rc, out = start_expect_failure(binary, tmp, conf, port, path, check_port)
    try:
        with open(path, "rb") as f:
            kept = f.read()
    except OSError as e:  # replaced by a socket
        kept = "unreadable: %s" % e
    results.check("a regular file at the control socket path: start fails with a clear error, "
                  "file intact (exit %s)" % rc,
                  [] if rc not in (0, None) and "not a socket" in out and kept == content and
                  os.path.exists(path) and stat.S_ISREG(os.lstat(path).st_mode) else
                  ["exit %s, output %r, file now %r" % (rc, out[-300:], kept)])
    # A socket someone listens on.
    live = tmp.join("live.sock")
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(live)
    other.listen(4)
    try:
        rc, out = start_expect_failure(binary, tmp, conf, port, live, check_port)
        alive = True
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.settimeout(2)
                c.connect(live)
        except OSError:
            alive = False
        results.check("another server's socket at the path: start fails, its socket stays "
                      "(exit %s)" % rc,
                      [] if rc not in (0, None) and "another server" in out and alive else
                      ["exit %s, output %r, socket reachable %s" % (rc, out[-300:], alive)])
    finally:
        other.close()
    # A stale socket (nobody listens any more): replaced.
    stale = tmp.join("stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    return stale


def main():
    args = h.parse_args(__doc__, h.meridianctl_option)
    ctl_bin = h.meridianctl_path(args)
    results = h.Results(args.verbose)
    with h.TempDir(keep=args.keep) as tmp:
        with open(tmp.join("zone"), "w") as f:
            f.write(ZONE)
        listener = h.TcpAcceptor(h.V4)
        try:
            stale = check_path_guard(results, args.meridiand, tmp, listener.port)
            conf = tmp.join("meridian.yaml")

            def make(port):
                write_config(conf, port, tmp, stale, listener.port)
                return h.Meridiand(args.meridiand, tmp.path, port, conf, NSID, addrs=(h.V4,))
            srv = h.start_with_free_port(make, ORIGIN)
            try:
                ctl = h.Meridianctl(ctl_bin, stale)
                rc, out, took = timed_status(ctl)
                results.check("a stale socket file at the path is replaced: status answers",
                              [] if rc == 0 else ["rc %d: %s" % (rc, out[:200])])
                check_slow_clients(results, ctl, stale)
                state = tmp.join("meridian.state")
                h.wait_for(lambda: os.path.exists(state), h.scaled(5.0))
                mode = stat.S_IMODE(os.stat(state).st_mode) if os.path.exists(state) else None
                results.check("the state file is not readable by others (mode %s)"
                              % (oct(mode) if mode is not None else "missing"),
                              [] if mode is not None and not mode & 0o007 else
                              ["mode %s" % (oct(mode) if mode is not None else None)])
                results.check("meridiand still running", [] if srv.alive() else
                              ["exited:\n" + srv.log_tail()])
            finally:
                srv.stop()
            results.check("the socket file is removed at stop", [] if not os.path.exists(stale)
                          else ["%s still there" % stale])
        finally:
            listener.close()
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
