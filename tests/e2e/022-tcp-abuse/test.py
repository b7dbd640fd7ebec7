#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 022: TCP abuse under a low open-files limit (issue 13, part 2).

meridiand runs with RLIMIT_NOFILE 256 (soft and hard, so it cannot raise it), 2 workers and
the default tcp_max_connections 512, which cannot fit: it must say so and serve what fits.
Then, each phase bounded in time:

* connection flood: more connections than fit, from 64 source addresses, each kept alive by
  a byte every 1.5 s and reopened when closed;
* slowloris: connections that send a query one byte every 0.3 s; each must be closed within
  tcp_io_timeout (1 s here) of its first byte plus slack, not kept alive by the trickle;
* 10,000 pipelined queries sent and never read: the server stops reading and drops the
  connection after tcp_idle_timeout (3 s here), without blocking anyone else;
* per-client quota: 100 connections from one address keep at most tcp_max_per_client (8)
  per worker.

During each: a UDP query and a query on a fresh TCP connection from another address are
answered within 100 ms (the best of 3, so a busy machine's hiccup does not fail it), a DNS
health check of meridiand itself and a TCP check of a test listener keep their member up
(both addresses stay in the steered answer), and the control socket answers `status`.
Before the fix the flood exhausted descriptors: accept paused, fresh TCP clients and the
health checks failed with EMFILE.

Network safety: 127.0.0.0/8 only; every loop is bounded in count and time.
"""

import os
import resource
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.message  # noqa: E402
import dns.rdatatype  # noqa: E402

ORIGIN = "abuse.test"
# `big` answers ~1 KB, so 10,000 unread answers (10 MB) cannot all hide in socket buffers.
ZONE = h.small_zone(ORIGIN, "www A 192.0.2.80",
                    "big TXT " + " ".join('"%s"' % ("x" * 250) for _ in range(4)))
NOFILE = 256
IO_TIMEOUT = 1.0
IDLE_TIMEOUT = 3.0
PER_CLIENT = 8
WORKERS = 2
BOUND_MS = 100.0  # a fresh client's answer, best of 3
PHASE_S = 6.0  # how long each attack runs while we measure
NSID = h.new_nsid("abuse")
HEALTH_ADDR_TCP = "127.0.0.2"  # the tcp check's member: a listener of this test


class LimitedMeridiand(h.Meridiand):
    """meridiand with RLIMIT_NOFILE lowered (hard too) before exec."""

    def start(self):
        self._log = open(self.log_path, "wb")
        import subprocess

        def lower():
            resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
        self.proc = subprocess.Popen(self.command(), cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=lower)
        return self


def write_config(path, port, tmp, tcp_port):
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: %d" % WORKERS,
             '  nsid: "%s"' % NSID,
             "  tcp_io_timeout: %dms" % (IO_TIMEOUT * 1000),
             "  tcp_idle_timeout: %dms" % (IDLE_TIMEOUT * 1000),
             "  tcp_max_per_client: %d" % PER_CLIENT,
             "  control_socket: %s" % tmp.join("ctl.sock"),
             "  state_file: %s" % tmp.join("meridian.state"),
             "zones:",
             "  - origin: %s" % ORIGIN,
             "    file: %s" % tmp.join("zone"),
             "checks:",
             "  self-dns: { type: dns, port: %d, qname: www.%s, expect_answer: 192.0.2.80, "
             "interval: 500ms, timeout: 400ms, rise: 1, fall: 2 }" % (port, ORIGIN),
             "  listener: { type: tcp, port: %d, interval: 500ms, timeout: 400ms, rise: 1, "
             "fall: 2 }" % tcp_port,
             "services:",
             "  svc.%s:" % ORIGIN,
             "    select: all",
             "    pools:",
             "      main:",
             "        members:",
             "          - { address: %s, check: self-dns }" % h.V4,
             "          - { address: %s, check: listener }" % HEALTH_ADDR_TCP]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def query_wire(name="www.%s" % ORIGIN, qtype="A"):
    q = dns.message.make_query(name, qtype)
    q.flags &= ~dns.flags.RD
    return q.to_wire()


def tcp_conn(port, source, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect((h.V4, port))
    return s


def fresh_latency_ms(port):
    """(best UDP ms, best TCP ms) over 3 tries each; None for a transport never answered."""
    wire = query_wire()
    best_udp = best_tcp = None
    for _ in range(3):
        t = time.monotonic()
        reply = h.udp_exchange(wire, port, timeout=1.0)
        ms = (time.monotonic() - t) * 1000
        if reply and (best_udp is None or ms < best_udp):
            best_udp = ms
        t = time.monotonic()
        try:
            with tcp_conn(port, "127.0.0.9", timeout=1.0) as s:
                s.sendall(struct.pack("!H", len(wire)) + wire)
                reply = h.tcp_read_message(s, timeout=1.0)
        except OSError:
            reply = None
        ms = (time.monotonic() - t) * 1000
        if reply and (best_tcp is None or ms < best_tcp):
            best_tcp = ms
    return best_udp, best_tcp


def steered_addrs(port):
    reply = h.parse(h.udp_exchange(query_wire("svc.%s" % ORIGIN), port, timeout=1.0))
    if reply is None:
        return None
    return sorted(r.address for rr in reply.answer for r in rr if rr.rdtype == dns.rdatatype.A)


def service_checks(results, label, port, ctl_sock):
    """During an attack: fresh clients fast, health members up, control answering."""
    udp, tcp = fresh_latency_ms(port)
    results.check("%s: a UDP query answered within %d ms (best of 3: %s ms)"
                  % (label, BOUND_MS, "%.1f" % udp if udp is not None else "none"),
                  [] if udp is not None and udp < BOUND_MS else ["best %r ms" % udp])
    results.check("%s: a fresh TCP client answered within %d ms (best of 3: %s ms)"
                  % (label, BOUND_MS, "%.1f" % tcp if tcp is not None else "none"),
                  [] if tcp is not None and tcp < BOUND_MS else ["best %r ms" % tcp])
    addrs = steered_addrs(port)
    want = sorted([h.V4, HEALTH_ADDR_TCP])
    results.check("%s: the DNS and TCP health checks keep both members up (%s)"
                  % (label, addrs), [] if addrs == want else ["answer %s, want %s" % (addrs, want)])
    t = time.monotonic()
    rc, text = h.control(ctl_sock, "status", timeout=5.0)
    took = time.monotonic() - t
    results.check("%s: the control socket answers status (%.2f s)" % (label, took),
                  [] if rc == 0 and took < 5.0 else ["rc %d: %s" % (rc, text[:200])])


TCP_ESTABLISHED = 1


def is_closed(s):
    """True if the server closed (FIN or RST) the connection: the socket left ESTABLISHED
    (tcp_info's first byte, tcpi_state). Unread data in the socket does not hide it. Never
    blocks."""
    try:
        return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != TCP_ESTABLISHED
    except OSError:
        return True


def phase_flood(results, port, ctl_sock):
    """More connections than the descriptors hold, each kept alive by a byte every 1.5 s."""
    conns = []
    sources = ["127.21.%d.%d" % (i // 200, i % 200 + 1) for i in range(64)]
    opened = refused = 0
    for i in range(400):
        try:
            conns.append(tcp_conn(port, sources[i % len(sources)], timeout=0.5))
            opened += 1
        except OSError:
            refused += 1
    deadline = time.monotonic() + PHASE_S
    measured = False
    reopened = 0
    while time.monotonic() < deadline:
        for j, s in enumerate(conns):
            try:
                if s is None or is_closed(s):
                    raise OSError("closed")
                s.send(b"\x00", socket.MSG_DONTWAIT)
            except OSError:
                if s:
                    s.close()
                conns[j] = None
                if reopened < 2000:
                    try:
                        conns[j] = tcp_conn(port, sources[j % len(sources)], timeout=0.2)
                        reopened += 1
                    except OSError:
                        pass
        if not measured and time.monotonic() > deadline - PHASE_S / 2:
            service_checks(results, "connection flood (%d opened, %d reopened)"
                           % (opened, reopened), port, ctl_sock)
            measured = True
        time.sleep(1.5)
    if not measured:
        service_checks(results, "connection flood", port, ctl_sock)
    for s in conns:
        if s:
            s.close()


def phase_slowloris(results, port, ctl_sock):
    """Queries sent one byte every 0.3 s: each connection closed within the I/O timeout."""
    wire = query_wire()
    msg = struct.pack("!H", len(wire)) + wire
    conns = []
    for i in range(60):
        try:
            conns.append(tcp_conn(port, "127.22.0.%d" % (i + 1), timeout=0.5))
        except OSError:
            pass
    started = time.monotonic()
    closed_at = {}
    pos = 0
    measured = False
    while time.monotonic() - started < IO_TIMEOUT + h.scaled(3.0) and len(closed_at) < len(conns):
        for k, s in enumerate(conns):
            if k in closed_at:
                continue
            if is_closed(s):
                closed_at[k] = time.monotonic() - started
                continue
            try:
                s.send(msg[pos % len(msg):pos % len(msg) + 1], socket.MSG_DONTWAIT)
            except OSError:
                closed_at[k] = time.monotonic() - started
        pos += 1
        if not measured and time.monotonic() - started > IO_TIMEOUT / 2:
            service_checks(results, "slowloris", port, ctl_sock)
            measured = True
        time.sleep(0.3)
    bound = IO_TIMEOUT + h.scaled(2.0)
    late = [t for t in closed_at.values() if t > bound]
    results.check("slowloris: all %d trickling connections closed by the I/O timeout (%.1f s, "
                  "latest %.2f s, bound %.1f s), not kept alive by their bytes"
                  % (len(conns), IO_TIMEOUT, max(closed_at.values() or [0]), bound),
                  [] if conns and len(closed_at) == len(conns) and not late else
                  ["%d of %d closed, %d late" % (len(closed_at), len(conns), len(late))])
    for s in conns:
        s.close()


def _hex_addr(ip, port):
    return "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(ip))[0], port)


def server_rx_queue(port, client):
    """Bytes waiting unread in the server's socket of the connection from `client`."""
    local, remote = _hex_addr(h.V4, port), _hex_addr(*client)
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == local and fields[2] == remote:
                    return int(fields[4].split(":")[1], 16)
    except OSError:
        pass
    return 0


def phase_pipeline(results, port, ctl_sock):
    """10,000 queries sent, none read: dropped after the idle timeout, others unaffected."""
    wire = query_wire("big.%s" % ORIGIN, "TXT")
    msg = struct.pack("!H", len(wire)) + wire
    data = msg * 10000
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive window: the answers back up into the server at once.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind(("127.23.0.1", 0))
    s.settimeout(2.0)
    s.connect((h.V4, port))
    s.setblocking(False)
    sent = 0
    started = time.monotonic()
    # Push what the kernel takes within 2 s (the server stops reading once its bounded
    # output is stuck behind the client's unread answers, so the rest backs up here).
    while sent < len(data) and time.monotonic() - started < 2.0:
        try:
            sent += s.send(data[sent:sent + 65536])
        except BlockingIOError:
            time.sleep(0.05)
        except OSError:
            break
    # The server's side of the connection, from /proc/net/tcp: unread bytes in its receive
    # queue (the socket buffers are large on loopback, so the client's sends need not block).
    unread = h.wait_for(lambda: server_rx_queue(port, s.getsockname()) > 0, h.scaled(2.0),
                        step=0.1)
    results.check("pipeline: the server stopped reading (%d bytes queued unread on its side, "
                  "%d of %d bytes sent)" % (server_rx_queue(port, s.getsockname()), sent,
                                            len(data)),
                  [] if unread else ["the server's receive queue is empty"])
    service_checks(results, "10,000 pipelined queries never read", port, ctl_sock)
    ok = h.wait_for(lambda: is_closed(s), IDLE_TIMEOUT + h.scaled(4.0), step=0.1)
    took = time.monotonic() - started
    results.check("pipeline: the connection that never reads is dropped (%.1f s after it "
                  "started, idle timeout %.1f s)" % (took, IDLE_TIMEOUT),
                  [] if ok else ["still open after %.1f s" % took])
    s.close()


def phase_quota(results, port):
    """One source address keeps at most tcp_max_per_client connections per worker."""
    conns = []
    for _ in range(100):
        try:
            conns.append(tcp_conn(port, "127.24.0.1", timeout=0.5))
        except OSError:
            pass
    # Resets arrive at once after accept; allow the server a moment on a busy machine.
    limit = PER_CLIENT * WORKERS
    h.wait_for(lambda: sum(not is_closed(c) for c in conns) <= limit, h.scaled(3.0), step=0.1)
    alive = sum(not is_closed(c) for c in conns)
    results.check("quota: one address keeps %d of %d connections (at most %d per worker x %d)"
                  % (alive, len(conns), PER_CLIENT, WORKERS),
                  [] if 0 < alive <= limit else ["%d alive" % alive])
    udp, tcp = fresh_latency_ms(port)
    results.check("quota: another address is still served over TCP (%s ms)" % tcp,
                  [] if tcp is not None else ["no answer"])
    for c in conns:
        c.close()


def main():
    args = h.parse_args(__doc__)
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 2000:
        h.skip("this test opens ~1,000 sockets itself: its own open-files hard limit is %d"
               % resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    results = h.Results(args.verbose)
    with h.TempDir(keep=args.keep) as tmp:
        with open(tmp.join("zone"), "w") as f:
            f.write(ZONE)
        listener = h.TcpAcceptor(HEALTH_ADDR_TCP)
        conf = tmp.join("meridian.yaml")

        def make(port):
            write_config(conf, port, tmp, listener.port)
            return LimitedMeridiand(args.meridiand, tmp.path, port, conf, NSID, addrs=(h.V4,))
        srv = h.start_with_free_port(make, ORIGIN)
        try:
            port = srv.port
            ctl_sock = tmp.join("ctl.sock")
            fit = h.wait_for(lambda: "TCP connections per worker" in srv.log_tail(200), 5)
            results.check("start: the open-files limit %d cannot hold 2 x 512 connections: "
                          "the tables are lowered with a warning" % NOFILE,
                          [] if fit else ["no warning in the log:\n" + srv.log_tail(20)])
            up = h.wait_for(lambda: steered_addrs(port) == sorted([h.V4, HEALTH_ADDR_TCP]),
                            h.scaled(5.0), step=0.1)
            results.check("start: both health-checked members up", [] if up else
                          ["answer %s" % steered_addrs(port)])
            phase_flood(results, port, ctl_sock)
            phase_slowloris(results, port, ctl_sock)
            phase_pipeline(results, port, ctl_sock)
            phase_quota(results, port)
            results.check("meridiand still running", [] if srv.alive() else
                          ["exited:\n" + srv.log_tail()])
            log = srv.log_tail(400)
            results.check("no 'Too many open files' in the log", [] if "Too many open files"
                          not in log else [l for l in log.splitlines() if "open files" in l][:5])
        finally:
            srv.stop()
            listener.close()
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
