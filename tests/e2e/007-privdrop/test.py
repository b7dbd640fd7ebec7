#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 007: privilege drop (server.user / server.group) for runs outside systemd.

Run as root, meridiand starts with `user: nobody`, `group: nogroup`, its state
file and control socket in a directory only nobody may write (the test chowns
it), and a file check and an exec check on one service. The test shows:

* /proc/PID/status after the start: real, effective, saved and filesystem uid
  and gid are nobody's and nogroup's, no supplementary group 0, no capability;
* no regular file is open for writing except the inherited stdout/stderr;
* the control socket belongs to nobody:nogroup with mode 0660, and
  `meridianctl status` and `reload` work, also run as nobody;
* the state file is written (owned by nobody) at the first health change and
  rewritten at the next one (the atomic rename in the nobody-owned directory);
* the exec check runs as nobody (it writes its own uid to a file);
* refusals: a state file whose directory nobody cannot write, and a process
  that is neither root nor the configured user, exit 1 with a clear error;
  started as nobody with `user: nobody` it runs.

Without root it says SKIP (exit 77): only root can switch users.
"""

import os
import re
import stat
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

ORIGIN = "priv.test"


def write(path, text, mode=0o644):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# Every server this test starts answers with this run's NSID (harness.py: identity).
NSID = h.new_nsid("privdrop")


def write_config(path, port, run_dir, states, exec_uid_file, user="nobody", group="nogroup",
                 state_dir=None):
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: 1",
             '  nsid: "%s"' % NSID,
             "  control_socket: %s" % os.path.join(run_dir, "control.sock"),
             "  state_file: %s" % os.path.join(state_dir or run_dir, "meridian.state")]
    if user:
        lines.append("  user: %s" % user)
    if group:
        lines.append("  group: %s" % group)
    lines += ["zones:",
              "  - origin: %s" % ORIGIN,
              "    file: %s" % os.path.join(os.path.dirname(path), "priv.test.zone"),
              # Signed: the first load (as root) makes the keys, beside the state file.
              "    dnssec: true",
              "health:",
              "  startup_wait: 5s",
              "checks:",
              "  states: { type: file, file: %s, interval: 300ms, timeout: 200ms, rise: 1,"
              " fall: 1 }" % states,
              '  whoami: { type: exec, command: ["/bin/sh", "-c", "id -u > %s"],'
              " interval: 300ms, timeout: 200ms, rise: 1, fall: 1 }" % exec_uid_file,
              "services:",
              "  www.%s:" % ORIGIN,
              "    ttl: 30",
              "    pools:",
              "      main:",
              "        members:",
              "          - { address: 192.0.2.10, check: states }",
              "          - { address: 192.0.2.11, check: whoami }"]
    write(path, "\n".join(lines) + "\n")


ZONE = """$ORIGIN priv.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
"""


def proc_status(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return fields


def open_for_writing(pid):
    """Regular files the process holds open for writing, fds 0-2 (inherited) aside."""
    found = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        if int(fd) <= 2:
            continue
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            st = os.stat("/proc/%d/fd/%s" % (pid, fd))
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                flags = int(re.search(r"^flags:\s+(\d+)", f.read(), re.M).group(1), 8)
        except (OSError, AttributeError):
            continue
        if stat.S_ISREG(st.st_mode) and flags & (os.O_WRONLY | os.O_RDWR):
            found.append("fd %s -> %s (owner uid %d)" % (fd, target, st.st_uid))
    return found


class AsUser(h.Meridiand):
    """meridiand started as another user (subprocess's user/group), stopped by pid."""

    def __init__(self, binary, workdir, port, config_path, uid, gid):
        super().__init__(binary, workdir, port, config_path, NSID, addrs=(h.V4,))
        self.uid, self.gid = uid, gid

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     user=self.uid, group=self.gid, extra_groups=[])
        return self


def ctl(binary, sock, *words, uid=None, gid=None):
    kw = {}
    if uid is not None:
        kw = {"user": uid, "group": gid, "extra_groups": []}
    try:
        p = subprocess.run([binary, "-s", sock] + list(words), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60, **kw)
    except subprocess.TimeoutExpired:
        return 2, "timeout"
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def run_once(meridiand, config, cwd, uid=None, gid=None, timeout=20):
    """Runs meridiand expecting it to exit by itself (a refusal); kills it at the deadline."""
    kw = {"user": uid, "group": gid, "extra_groups": []} if uid is not None else {}
    try:
        p = subprocess.run([meridiand, "-c", config], cwd=cwd, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        return None, "still running after %d s" % timeout
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def check_running(results, args, ctlbin, tmp, nobody, nogroup):
    run_dir = tmp.join("run")
    states = tmp.join("states.txt")
    uid_file = os.path.join(run_dir, "exec-uid")
    write(states, "192.0.2.10 up\n")
    config = tmp.join("meridian.yaml")
    sock = os.path.join(run_dir, "control.sock")
    state_file = os.path.join(run_dir, "meridian.state")

    def make(port):
        write_config(config, port, run_dir, states, uid_file)
        return h.Meridiand(args.meridiand, tmp.path, port, config, NSID, addrs=(h.V4,))

    server = h.start_with_free_port(make, ORIGIN)
    try:
        pid = server.proc.pid
        st = proc_status(pid)
        want_u = [str(nobody)] * 4
        want_g = [str(nogroup)] * 4
        errs = []
        if st.get("Uid") != want_u:
            errs.append("Uid: %s, want %s" % (st.get("Uid"), want_u))
        if st.get("Gid") != want_g:
            errs.append("Gid: %s, want %s" % (st.get("Gid"), want_g))
        if "0" in st.get("Groups", []):
            errs.append("Groups still has 0: %s" % st.get("Groups"))
        for cap in ("CapEff", "CapPrm", "CapAmb"):
            if st.get(cap, ["0"])[0].strip("0"):
                errs.append("%s: %s" % (cap, st.get(cap)))
        results.check("/proc/%d/status: uid %s, gid %s (real, effective, saved, fs), groups %s, "
                      "no capabilities" % (pid, st.get("Uid"), st.get("Gid"), st.get("Groups")),
                      errs)
        # The signature store (README, DNSSEC: restarts) is written once the server is
        # ready: a file legitimately open until then.
        ok = h.wait_for(lambda: h.log_has(server, r"signatures kept for the next start"))
        results.check("the signature store written after the start, as nobody",
                      [] if ok and os.stat(os.path.join(run_dir, "keys", "K%s.signatures"
                                                        % ORIGIN)).st_uid == nobody
                      else [server.log_tail()])
        results.check("no regular file open for writing but the inherited stdout/stderr",
                      open_for_writing(pid))

        s = os.stat(sock)
        errs = []
        if (s.st_uid, s.st_gid) != (nobody, nogroup) or stat.S_IMODE(s.st_mode) != 0o660:
            errs.append("socket %d:%d mode %o" % (s.st_uid, s.st_gid, stat.S_IMODE(s.st_mode)))
        results.check("control socket owned by nobody:nogroup, mode 0660", errs)
        for who, kw in (("root", {}), ("nobody", {"uid": nobody, "gid": nogroup})):
            rc, out = ctl(ctlbin, sock, "status", **kw)
            results.check("meridianctl status as %s after the drop (exit %d)" % (who, rc),
                          [] if rc == 0 and "site: active" in out else [out])

        # The first round made both targets up: a transition, so the state file was saved.
        ok = h.wait_for(lambda: os.path.exists(state_file)
                      and "192.0.2.10|states up" in open(state_file).read())
        errs = [] if ok else ["no state file with '192.0.2.10|states up'"]
        if ok and os.stat(state_file).st_uid != nobody:
            errs.append("state file owner uid %d" % os.stat(state_file).st_uid)
        results.check("state file written by nobody after the drop", errs)
        write(states, "192.0.2.10 down\n")
        ok = h.wait_for(lambda: "192.0.2.10|states down" in open(state_file).read())
        results.check("state file rewritten (rename in nobody's directory) at the next change",
                      [] if ok else ["still: " + open(state_file).read()])
        rc, out = ctl(ctlbin, sock, "states")
        results.check("meridianctl states shows the change",
                      [] if rc == 0 and re.search(r"192\.0\.2\.10\|states\s+down", out) else [out])

        ok = h.wait_for(lambda: os.path.exists(uid_file) and open(uid_file).read().strip())
        got = open(uid_file).read().strip() if ok else None
        results.check("exec check ran as nobody (id -u: %s)" % got,
                      [] if got == str(nobody) else ["want %d" % nobody])

        # The DNSSEC keys the first load made as root were handed to nobody before the
        # switch, so a reload (as nobody) reads them.
        key_dir = os.path.join(run_dir, "keys")
        keys = sorted(os.listdir(key_dir)) if os.path.isdir(key_dir) else []
        errs = [] if any(k.endswith(".private") for k in keys) else ["no key in %s" % keys]
        for k in keys:
            st_k = os.stat(os.path.join(key_dir, k))
            if st_k.st_uid != nobody:
                errs.append("%s owned by uid %d" % (k, st_k.st_uid))
            if k.endswith(".private") and stat.S_IMODE(st_k.st_mode) != 0o600:
                errs.append("%s mode %o" % (k, stat.S_IMODE(st_k.st_mode)))
        if os.stat(key_dir).st_uid != nobody:
            errs.append("key directory owned by uid %d" % os.stat(key_dir).st_uid)
        results.check("DNSSEC key files %s owned by nobody, .private 0600" % keys, errs)

        rc, out = ctl(ctlbin, sock, "reload", uid=nobody, gid=nogroup)
        results.check("meridianctl reload as nobody: the reload runs as nobody and succeeds",
                      [] if rc == 0 and out.startswith("ok") else ["exit %d: %s" % (rc, out)])
        results.check("server alive", [] if server.alive() else [server.log_tail()])
    finally:
        server.stop()
    results.check("control socket removed at exit", [] if not os.path.exists(sock) else
                  ["%s still there" % sock])


def check_refusals(results, args, tmp, nobody, nogroup):
    run_dir = tmp.join("run")
    states = tmp.join("states.txt")
    config = tmp.join("refuse.yaml")
    uid_file = os.path.join(run_dir, "exec-uid")
    port = h.free_port()

    # The state file in a directory only root may write: refused after the switch.
    write_config(config, port, run_dir, states, uid_file, state_dir=tmp.path)
    rc, out = run_once(args.meridiand, config, tmp.path)
    results.check("state directory not writable by nobody: exit 1, says so (%s)"
                  % out.strip().splitlines()[-1:],
                  [] if rc == 1 and "not writable by uid %d" % nobody in out else
                  ["exit %s: %s" % (rc, out)])

    # Started as nobody (not root) with user: root: cannot switch, refused.
    write_config(config, port, run_dir, states, uid_file, user="root", group=None)
    rc, out = run_once(args.meridiand, config, tmp.path, uid=nobody, gid=nogroup)
    results.check("started as nobody with user: root: exit 1, cannot switch",
                  [] if rc == 1 and "cannot switch" in out else ["exit %s: %s" % (rc, out)])

    # Started as nobody with user: nobody: already that user, runs.
    def make(p):
        write_config(config, p, run_dir, states, uid_file)
        return AsUser(args.meridiand, tmp.path, p, config, nobody, nogroup)

    try:
        server = h.start_with_free_port(make, ORIGIN)
    except RuntimeError as e:
        results.check("started as nobody with user: nobody: runs", [str(e)])
        return
    st = proc_status(server.proc.pid)
    server.stop()
    results.check("started as nobody with user: nobody: runs as uid %s" % st.get("Uid"),
                  [] if st.get("Uid") == [str(nobody)] * 4 else ["Uid %s" % st.get("Uid")])


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    if os.geteuid() != 0:
        h.skip("needs root: only root can switch to server.user (run the e2e label as root)")
    import grp
    import pwd
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
        nogroup = grp.getgrnam("nogroup").gr_gid
    except KeyError as e:
        h.skip("no user nobody or group nogroup on this system: %s" % e)
    ctlbin = os.path.join(os.path.dirname(os.path.abspath(args.meridiand)), "meridianctl")
    if not os.access(ctlbin, os.X_OK):
        h.skip("meridianctl is not built next to meridiand: %s" % ctlbin)
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        # nobody must reach the config, zone and check files (read), and write only run/.
        os.chmod(tmp.path, 0o755)
        os.mkdir(tmp.join("run"), 0o750)
        os.chown(tmp.join("run"), nobody, nogroup)
        write(tmp.join("priv.test.zone"), ZONE)
        check_running(results, args, ctlbin, tmp, nobody, nogroup)
        check_refusals(results, args, tmp, nobody, nogroup)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
