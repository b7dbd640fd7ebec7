#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 008: a second meridiand on an address one already serves is refused.

Both would set SO_REUSEPORT, which would let the second join the first's
socket group and the kernel split the queries between them without a word.
The test starts meridiand "first", then "second" (each with an NSID unique
to the run) on the same addresses, and asserts that the second exits non-zero
with `listen ADDRESS: already in use (another meridiand or DNS server is
listening there)` while every query, over UDP and TCP, keeps getting the
first's NSID. Then: a server holding only the TCP port (a plain listener of
another program) is refused the same way; and once the first has stopped, the
second starts on the address at once (TCP connections left in TIME_WAIT by the
first do not count).
"""

import os
import socket
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402


ORIGIN = "inuse.test"
ZONE = h.small_zone(ORIGIN, "www A 192.0.2.80")
ERROR = "already in use (another meridiand or DNS server is listening there)"


def nsid_of(port, tcp=False, addr=h.V4):
    """The NSID payload of the server answering on port (text), or None."""
    msg = h.parse(h.exchange(h.nsid_query("www." + ORIGIN, "A").to_wire(), port, tcp=tcp,
                             addr=addr))
    nsid = h.nsid_of(msg)
    return nsid.decode("ascii", "replace") if nsid is not None else None


def answered_by(port, count=40):
    """NSIDs seen over `count` UDP queries from fresh sockets (fresh source ports spread
    over a reuseport group) and a few TCP connections, both families."""
    seen = {}
    for i in range(count):
        for tcp in (False, True) if i % 8 == 0 else (False,):
            addr = h.V6 if i % 2 else h.V4
            n = nsid_of(port, tcp=tcp, addr=addr)
            seen[n] = seen.get(n, 0) + 1
    return seen


def run_refused(meridiand, config, cwd, timeout=20):
    try:
        p = subprocess.run([meridiand, "-c", config], cwd=cwd, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "still running after %d s (it was not refused)" % timeout
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        zone = tmp.join("inuse.test.zone")
        with open(zone, "w") as f:
            f.write(ZONE)
        first_cfg, second_cfg = tmp.join("first.yaml"), tmp.join("second.yaml")
        # NSIDs unique to this run: an answer from any server but these two is noticed.
        first_id, second_id = h.new_nsid("first"), h.new_nsid("second")

        def make(port):
            h.write_meridian_config(first_cfg, port, [(ORIGIN, zone)], nsid=first_id)
            return h.Meridiand(args.meridiand, tmp.path, port, first_cfg, first_id)

        first = h.start_with_free_port(make, ORIGIN)
        port = first.port
        try:
            h.write_meridian_config(second_cfg, port, [(ORIGIN, zone)], nsid=second_id)
            rc, out = run_refused(args.meridiand, second_cfg, tmp.path)
            want = "listen 127.0.0.1:%d: %s" % (port, ERROR)
            results.check("second meridiand on 127.0.0.1:%d and [::1]:%d: exit %s with '%s'"
                          % (port, port, rc, want),
                          [] if rc not in (0, None) and want in out else
                          ["exit %s: %s" % (rc, out.strip())])
            seen = answered_by(port)
            results.check("the first keeps answering every query, UDP and TCP, both families "
                          "(NSIDs seen: %s)" % seen,
                          [] if set(seen) == {first_id} else ["answers not all from %r" % first_id])
            results.check("first alive", [] if first.alive() else [first.log_tail()])
        finally:
            first.stop()

        # Another program holding only the TCP port of [::1] (the second address).
        other = h.free_port()
        holder = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        holder.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        holder.bind((h.V6, other))
        holder.listen(1)
        try:
            h.write_meridian_config(second_cfg, other, [(ORIGIN, zone)], nsid=second_id)
            rc, out = run_refused(args.meridiand, second_cfg, tmp.path)
            want = "listen [::1]:%d: %s" % (other, ERROR)
            results.check("a plain TCP listener of another program on [::1]:%d: exit %s, '%s'"
                          % (other, rc, want),
                          [] if rc not in (0, None) and want in out else
                          ["exit %s: %s" % (rc, out.strip())])
        finally:
            holder.close()

        # The first is gone (its TCP connections in TIME_WAIT): the second starts there.
        h.write_meridian_config(second_cfg, port, [(ORIGIN, zone)], nsid=second_id)
        second = h.Meridiand(args.meridiand, tmp.path, port, second_cfg, second_id).start()
        try:
            second.wait_ready(ORIGIN)
            seen = answered_by(port, count=8)
            results.check("after the first stopped, the second serves the address (%s)" % seen,
                          [] if set(seen) == {second_id} else ["answers not all from %r" % second_id])
        except RuntimeError as e:
            results.check("after the first stopped, the second serves the address", [str(e)])
        finally:
            second.stop()
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
