#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 009: meridianctl and meridiand's operator surface, as issue 8 found it lacking.

* meridianctl: -V and -h answer locally; unknown options are usage errors (exit 2,
  nothing sent); -s/--socket/-sPATH are read before the command.
* `reload` waits for the reload and reports it: ok with a summary (exit 0), or
  the file:line error (exit 1) while the old data keeps answering; `status`
  then shows `last_reload: failed at <UTC> (N s ago): file:line: ...`.
* `status` shows UTC times with ages, not epoch seconds.
* `drain`/`undrain`/`force` without a selector and `explain` with bad input
  say what is missing (exit 1); an unknown command names itself.
* `states` lists a `down: true` member as down, forced `config`.
* `meridiand -q` with a bad client or type names it (exit 2), as do unknown
  options.
* SIGTERM stops meridiand at once while an exec probe runs, both during the
  first health round at start (startup_wait 25 s, probe timeout 20 s) and
  later, and the probe's child process is gone afterwards.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.message  # noqa: E402

ORIGIN = "ctl.test"
ZONE = h.small_zone(ORIGIN, "www A 192.0.2.80")
UTC_AGE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+ s ago\)"
# A stop must not wait for the probe's 20 s timeout; 5 s leaves room for a loaded
# machine and sanitizer builds while staying far below it.
STOP_BOUND_S = 5.0


def run(cmd, env=None, timeout=60):
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                           env=env)
    except subprocess.TimeoutExpired:
        return None, "", "timeout"
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# Every server this test starts answers with this run's NSID (harness.py: identity).
NSID = h.new_nsid("control")


def write_config(path, port, tmp, extra_checks=(), member_check=None, startup_wait="2s"):
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: 1",
             '  nsid: "%s"' % NSID,
             "  control_socket: %s" % tmp.join("ctl.sock"),
             "  state_file: %s" % tmp.join("meridian.state"),
             "zones:",
             "  - origin: %s" % ORIGIN,
             "    file: %s" % tmp.join("ctl.test.zone"),
             "health:",
             "  startup_wait: %s" % startup_wait]
    if extra_checks:
        lines.append("checks:")
        lines += ["  " + c for c in extra_checks]
    lines += ["services:",
              "  svc.%s:" % ORIGIN,
              "    pools:",
              "      main:",
              "        members:",
              "          - { address: 192.0.2.10%s }"
              % (", check: %s" % member_check if member_check else ""),
              "          - { address: 192.0.2.11, down: true }"]
    with open(path + ".new", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".new", path)


def www(port):
    msg = h.parse(h.udp_exchange(dns.message.make_query("www." + ORIGIN, "A").to_wire(), port))
    return sorted(rr.address for rrset in msg.answer for rr in rrset) if msg else None


def check_ctl_options(results, ctlbin, sock):
    rc, out, err = run([ctlbin, "-V"])
    results.check("meridianctl -V prints the version (exit %s)" % rc,
                  [] if rc == 0 and out.startswith("meridianctl ") else [out + err])
    rc, out, err = run([ctlbin, "-h"])
    results.check("meridianctl -h prints the help (exit %s)" % rc,
                  [] if rc == 0 and "usage: meridianctl" in out else [out + err])
    for bad, want in ((["-x", "status"], "unknown option -x"),
                      (["--frob", "status"], "unknown option --frob"),
                      (["-s"], "-s needs an argument")):
        rc, out, err = run([ctlbin, "-s", sock] + bad if bad != ["-s"] else [ctlbin] + bad)
        results.check("meridianctl %s: usage error, exit 2, nothing sent (%s)"
                      % (" ".join(bad), err.strip()),
                      [] if rc == 2 and want in err and not out else
                      ["exit %s out %r err %r" % (rc, out, err)])
    env = dict(os.environ, MERIDIAN_CONTROL="/nonexistent/control.sock")
    for form in (["-s", sock], ["--socket", sock], ["-s" + sock]):
        rc, out, err = run([ctlbin] + form + ["status"], env=env)
        results.check("meridianctl %s status (over $MERIDIAN_CONTROL)" % form[0][:8],
                      [] if rc == 0 and out.startswith("ok") else ["exit %s: %s" % (rc, out + err)])


def check_commands(results, ctlbin, sock, port, config, tmp):
    def ctl(*words):
        rc, out, err = run([ctlbin, "-s", sock] + list(words), timeout=120)
        return rc, out + err

    rc, out = ctl("status")
    errs = [] if rc == 0 else ["exit %s" % rc]
    if not re.search(r"^loaded: %s$" % UTC_AGE, out, re.M):
        errs.append("no 'loaded: <UTC> (N s ago)' line:\n" + out)
    if not re.search(r"^last_reload: none$", out, re.M):
        errs.append("no 'last_reload: none'")
    results.check("status: loaded as UTC time with age", errs)

    for words, want in ((["drain"], "drain needs a selector: member ADDRESS"),
                        (["undrain"], "undrain needs a selector"),
                        (["force"], "force needs up or down"),
                        (["force", "up"], "force up needs a selector"),
                        (["force", "sideways", "all"], "force needs up or down"),
                        (["explain", "192.0.2.1"], "explain needs CLIENT[/PREFIX] QNAME QTYPE"),
                        (["explain", "192.0.2.1", "svc." + ORIGIN, "BOGUS"], "qtype 'BOGUS'"),
                        (["explain", "300.1.1.1", "svc." + ORIGIN, "A"], "client '300.1.1.1'"),
                        (["status", "now"], "status takes no arguments"),
                        (["frobnicate"], "unknown command 'frobnicate'")):
        rc, out = ctl(*words)
        results.check("meridianctl %s: exit 1, '%s'" % (" ".join(words), want),
                      [] if rc == 1 and out.startswith("error: ") and want in out else
                      ["exit %s: %s" % (rc, out)])

    rc, out = ctl("states")
    m = re.search(r"^192\.0\.2\.11\|\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    results.check("states: the down: true member is down, forced config (%s)"
                  % (" / ".join(m.groups()) if m else None),
                  [] if rc == 0 and m and (m.group(1), m.group(3)) == ("down", "config") else
                  [out])

    rc, out = ctl("reload")
    results.check("reload of a good config: exit 0, 'reloaded: 1 zones, 4 records'",
                  [] if rc == 0 and re.search(r"^reloaded: 1 zones, 4 records in [\d.]+ s$", out,
                                              re.M) else ["exit %s: %s" % (rc, out)])
    with open(config, "a") as f:
        f.write("frobnicate: 1\n")  # an unknown key at the last line
    nlines = len(open(config).read().splitlines())
    rc, out = ctl("reload")
    want = "error: reload failed, still serving the previous data: %s:%d: unknown key " \
           "'frobnicate'" % (config, nlines)
    results.check("reload of a broken config: exit 1 with file:line",
                  [] if rc == 1 and out.startswith(want) else
                  ["exit %s: %r, want %r" % (rc, out, want)])
    results.check("the previous data keeps answering after the failed reload",
                  [] if www(port) == ["192.0.2.80"] else ["www: %s" % www(port)])
    rc, out = ctl("status")
    results.check("status: last_reload: failed at <UTC> (N s ago): file:line",
                  [] if re.search(r"^last_reload: failed at %s: %s:%d: unknown key"
                                  % (UTC_AGE, re.escape(config), nlines), out, re.M) else [out])


def exec_children(marker):
    """pids whose command line holds marker (our probe's `sleep`), from /proc."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def check_prompt_stop(results, args, tmp, during_start):
    # A unique sleep length marks this probe's child among the machine's processes.
    marker = "29.%d%d" % (os.getpid() % 1000, 1 if during_start else 2)
    config = tmp.join("stop.yaml")
    port = h.free_port()
    check = '  slow: { type: exec, command: ["/bin/sleep", "%s"], interval: 30s, timeout: 20s }' \
        % marker
    write_config(config, port, tmp, extra_checks=[check[2:]], member_check="slow",
                 startup_wait="25s" if during_start else "0s")
    server = h.Meridiand(args.meridiand, tmp.path, port, config, NSID, addrs=(h.V4,)).start()
    what = "during the first health round" if during_start else "while a probe runs"
    try:
        if during_start:
            ok = h.wait_for(lambda: exec_children(marker) or not server.alive())
        else:
            server.wait_ready(ORIGIN)
            ok = h.wait_for(lambda: exec_children(marker) or not server.alive())
        if not ok or not server.alive():
            results.check("SIGTERM %s: setup" % what, ["probe never started: " +
                                                        server.log_tail()])
            return
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        try:
            rc = server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        results.check("SIGTERM %s: exit %s in %.2f s (bound %.0f s; the probe's timeout is 20 s)"
                      % (what, rc, took, STOP_BOUND_S),
                      [] if rc == 0 and took < STOP_BOUND_S else [server.log_tail()])
        left = exec_children(marker)
        results.check("SIGTERM %s: the exec probe's child is gone" % what,
                      [] if not left else ["still running: %s" % left])
    finally:
        server.stop()
        for pid in exec_children(marker):  # our own probe's child only, by its marker
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def check_meridiand_cli(results, args, tmp):
    config = tmp.join("cli.yaml")
    write_config(config, h.free_port(), tmp)
    for q, want in ((["300.1.2.3", "svc." + ORIGIN, "A"], "client '300.1.2.3'"),
                    (["192.0.2.1/33", "svc." + ORIGIN, "A"], "client '192.0.2.1/33'"),
                    (["192.0.2.1", "svc." + ORIGIN, "BOGUS"], "qtype 'BOGUS'"),
                    (["192.0.2.1", "svc." + ORIGIN], "needs QNAME and QTYPE")):
        rc, out, err = run([args.meridiand, "-c", config, "-q"] + q)
        results.check("meridiand -q %s: exit 2, '%s'" % (" ".join(q), want),
                      [] if rc == 2 and want in err else ["exit %s: %s" % (rc, out + err)])
    rc, out, err = run([args.meridiand, "-c", config, "-q", "192.0.2.1", "svc." + ORIGIN, "A"])
    results.check("meridiand -q good input: exit 0, response shown",
                  [] if rc == 0 and "response: NOERROR" in out else [out + err])
    rc, out, err = run([args.meridiand, "-Z"])
    results.check("meridiand -Z: exit 2, unknown option named",
                  [] if rc == 2 and "unknown option -Z" in err else [err])


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    ctlbin = os.path.join(os.path.dirname(os.path.abspath(args.meridiand)), "meridianctl")
    if not os.access(ctlbin, os.X_OK):
        h.skip("meridianctl is not built next to meridiand: %s" % ctlbin)
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        with open(tmp.join("ctl.test.zone"), "w") as f:
            f.write(ZONE)
        config = tmp.join("meridian.yaml")
        sock = tmp.join("ctl.sock")

        def make(port):
            write_config(config, port, tmp)
            return h.Meridiand(args.meridiand, tmp.path, port, config, NSID, addrs=(h.V4,))

        server = h.start_with_free_port(make, ORIGIN)
        try:
            check_ctl_options(results, ctlbin, sock)
            check_commands(results, ctlbin, sock, server.port, config, tmp)
            results.check("server alive", [] if server.alive() else [server.log_tail()])
        finally:
            server.stop()
        check_meridiand_cli(results, args, tmp)
        check_prompt_stop(results, args, tmp, during_start=True)
        check_prompt_stop(results, args, tmp, during_start=False)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
