#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/xdp: the AF_XDP fast path (server.xdp, ARCHITECTURE.md §18) against the socket path.

Builds two network namespaces joined by a veth pair (two queues, so two AF_XDP sockets),
with 10.77.0.1/24 and fd77::1/64 on the server side and .2/::2 on the client side, and runs
meridiand in the server namespace three times:
  1. with server.xdp on the veth: the program is attached, the query set (static, CNAME,
     NXDOMAIN, EDNS, DO, TC without EDNS, steered by source and by ECS, malformed input
     dropped or FORMERR) is asked over IPv4 and IPv6 from the client namespace, and the
     server namespace's kernel UDP counter (/proc/net/snmp InDatagrams) must not move, so the
     answers came from the AF_XDP sockets; TCP to the same addresses still answers, another
     UDP port still gets the kernel's ICMP port unreachable and ping still works (ARP, NDP and
     ICMP pass); the MTU of both veth ends is changed while meridiand runs (1280, 3000, 1500,
     as an operator would): the answers over XDP must follow each limit (an answer that fits
     1500 but not 1280 comes back with TC, a 3000 MTU is held to a 2 KiB frame), and the log
     must say so; then kill -9, and the interface must have no XDP program left;
  2. without server.xdp: the same query set must give byte-identical answers, and the UDP
     counter must move (the control: the counter does see socket traffic);
  3. with server.xdp on an interface that does not exist: a clear error in the log, and the
     sockets answer;
  4. with server.xdp again: a reload without the section warns and keeps XDP; with meridiand
     stopped (SIGSTOP), 10000 queries overflow the receive frames, and the SIGTERM stop logs
     what the kernel dropped; SIGTERM detaches the program;
  5. with server.xdp and server.user nobody, started at MTU 3000: the log names the 2 KiB
     frame as the limit, XDP answers after the privilege drop and still follows an MTU
     change, and kill -9 detaches the program.
Root only (namespaces, XDP); SKIP (77) otherwise. Network safety: only addresses inside the
namespaces this test creates; every wait is bounded.
"""

import ctypes
import os
import pwd
import signal
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "e2e"))
import harness as h  # noqa: E402

import dns.edns  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TAG = "%d" % (os.getpid() % 100000)
NS_SRV = "mxdp-s-" + TAG
NS_CLI = "mxdp-c-" + TAG
VETH_SRV = "mxs" + TAG  # at most 15 characters
VETH_CLI = "mxc" + TAG
SRV4, CLI4, SRV6, CLI6 = "10.77.0.1", "10.77.0.2", "fd77::1", "fd77::2"
CLONE_NEWNET = 0x40000000

failures = []
passed = 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print("FAIL: " + what)
    sys.stdout.flush()


def run(*cmd, check_rc=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=h.scaled(30))
    if check_rc and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stdout.strip()))
    return r.stdout


def setup_namespaces():
    run("ip", "netns", "add", NS_SRV)
    run("ip", "netns", "add", NS_CLI)
    run("ip", "link", "add", VETH_SRV, "numtxqueues", "2", "numrxqueues", "2", "netns", NS_SRV,
        "type", "veth", "peer", "name", VETH_CLI, "numtxqueues", "2", "numrxqueues", "2",
        "netns", NS_CLI)
    for ns, dev, a4, a6 in ((NS_SRV, VETH_SRV, SRV4, SRV6), (NS_CLI, VETH_CLI, CLI4, CLI6)):
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "addr", "add", a4 + "/24", "dev", dev)
        run("ip", "-n", ns, "addr", "add", a6 + "/64", "dev", dev, "nodad")
        run("ip", "-n", ns, "link", "set", dev, "up")


def teardown_namespaces():
    for ns in (NS_SRV, NS_CLI):
        subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=h.scaled(30))


def enter_client_namespace():
    """This process's sockets from here on live in the client namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/var/run/netns/" + NS_CLI, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")
    os.close(fd)


def xdp_attached():
    return " xdp" in run("ip", "-n", NS_SRV, "link", "show", "dev", VETH_SRV) or \
        "prog/xdp" in run("ip", "-n", NS_SRV, "link", "show", "dev", VETH_SRV)


def kill_and_check_detached(proc, what):
    """kill -9, then the kernel must drop the program with the process's link."""
    stop(proc, signal.SIGKILL)
    deadline = time.monotonic() + h.scaled(10)
    while xdp_attached() and time.monotonic() < deadline:
        time.sleep(0.1)
    check(not xdp_attached(), what)


def cpu_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks."""
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def udp_in_datagrams():
    """The server namespace's kernel UDP receive counters (RFC 4113 udpInDatagrams), IPv4
    (/proc/net/snmp) plus IPv6 (/proc/net/snmp6)."""
    out = run("ip", "netns", "exec", NS_SRV, "cat", "/proc/net/snmp")
    lines = [ln.split() for ln in out.splitlines() if ln.startswith("Udp:")]
    v4 = int(lines[1][lines[0].index("InDatagrams")])
    out = run("ip", "netns", "exec", NS_SRV, "cat", "/proc/net/snmp6")
    v6 = [int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("Udp6InDatagrams")]
    return v4 + v6[0]


def start(tmp, name, xdp_section):
    text = open(os.path.join(HERE, "meridian.yaml.in")).read()
    text = text.replace("@XDP@", xdp_section).replace("@DIR@", HERE)
    conf = os.path.join(tmp, name + ".yaml")
    h.write_file(conf, text)
    log = open(os.path.join(tmp, name + ".log"), "w")
    proc = subprocess.Popen(["ip", "netns", "exec", NS_SRV, ARGS.meridiand, "-c", conf],
                            stdout=log, stderr=subprocess.STDOUT)
    # Ready when it answers over TCP (both paths serve TCP from sockets).
    deadline = time.monotonic() + h.scaled(30)
    q = dns.message.make_query("www.xdp.test", "A").to_wire()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("meridiand exited: " + open(log.name).read())
        try:
            if h.tcp_exchange(q, 53, SRV4, timeout=1):
                return proc, log.name
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("meridiand did not answer: " + open(log.name).read())


def stop(proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    try:
        proc.wait(timeout=h.scaled(30))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def echo(addr):
    """One ICMP / ICMPv6 echo request (RFC 792, RFC 4443 §4.1); True if a reply came."""
    v6 = ":" in addr
    fam, proto, req, rep = ((socket.AF_INET6, socket.IPPROTO_ICMPV6, 128, 129) if v6
                            else (socket.AF_INET, socket.IPPROTO_ICMP, 8, 0))
    payload = b"meridian-xdp"
    msg = struct.pack("!BBHHH", req, 0, 0, 0x4d58, 1) + payload
    if not v6:  # the kernel fills in the ICMPv6 checksum itself
        s16 = sum(struct.unpack("!%dH" % (len(msg) // 2), msg))
        while s16 >> 16:
            s16 = (s16 & 0xffff) + (s16 >> 16)
        msg = msg[:2] + struct.pack("!H", ~s16 & 0xffff) + msg[4:]
    deadline = time.monotonic() + h.scaled(5)
    with socket.socket(fam, socket.SOCK_RAW, proto) as s:
        s.settimeout(1)
        s.sendto(msg, (addr, 0))
        while time.monotonic() < deadline:
            try:
                data = s.recv(2048)
            except socket.timeout:
                continue
            icmp = data if v6 else data[(data[0] & 0x0f) * 4:]
            if icmp[0] == rep and icmp.endswith(payload):
                return True
    return False


def query(name, rdtype, **kw):
    m = dns.message.make_query(name, rdtype, **kw)
    m.id = 4242
    return m.to_wire()


# The veth's MTU (the kernel's default) and a query whose answer exceeds it.
MTU = 1500
WIDE_QUERY = query("wide.xdp.test", "TXT", use_edns=0, payload=4096)


# Fits a 1500-byte MTU (about 1,370 octets of DNS) but not a 1280-byte one.
MID_QUERY = query("mid.xdp.test", "TXT", use_edns=0, payload=4096)
# With a jumbo MTU replies are still held to a 2 KiB frame: its Ethernet header off.
FRAME_IP_MAX = 2048 - 14


def ip_udp_len(addr):
    """The IP and UDP headers in front of a DNS message to addr."""
    return (40 if ":" in addr else 20) + 8


def set_mtu(mtu):
    """Both ends of the veth pair, as an operator would change a link's MTU."""
    run("ip", "-n", NS_SRV, "link", "set", "dev", VETH_SRV, "mtu", str(mtu))
    run("ip", "-n", NS_CLI, "link", "set", "dev", VETH_CLI, "mtu", str(mtu))


def poll(cond, seconds=10):
    """cond() until it is true or the (scaled) bound passes; its last value."""
    deadline = time.monotonic() + h.scaled(seconds)
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(0.1)


def logged(log, line):
    """Whether meridiand's log holds the line, waiting for it (bounded)."""
    return poll(lambda: line in open(log).read())


def xdp_answer(wire, limit, truncated):
    """Per server address, the answer to wire over XDP if it has TC (truncated) or not, and
    fits an IP packet of limit bytes; None where it does not (yet)."""
    out = {}
    for a in (SRV4, SRV6):
        r = h.udp_exchange(wire, 53, a, timeout=h.scaled(1.5))
        ok = (r is not None and bool(h.parse(r).flags & dns.flags.TC) == truncated and
              len(r) + ip_udp_len(a) <= limit)
        out[a] = r if ok else None
    return out


def answers_follow(wire, limit, truncated):
    """Polls (bounded) until both addresses answer as xdp_answer asks; the last answers."""
    last = {}

    def both():
        last.update(xdp_answer(wire, limit, truncated))
        return all(last.values())

    poll(both)
    return last


def check_mtu_changes(log):
    """Step 1's MTU changes at run time (ARCHITECTURE.md §18): the reply limit follows the
    link's MTU, from the kernel's link notifications, without a restart."""
    # The control: at 1500 the mid answer is whole, and larger than a 1280 MTU holds.
    for a in (SRV4, SRV6):
        r = h.udp_exchange(MID_QUERY, 53, a, timeout=h.scaled(1.5))
        check(r is not None and not h.parse(r).flags & dns.flags.TC and
              1280 < len(r) + ip_udp_len(a) <= MTU,
              "at MTU %d the mid answer is whole and above 1280 (%s): %s" % (
                  MTU, a, len(r) if r else "no answer"))
    set_mtu(1280)
    # Lowered: a reply built for 1500 would be dropped by veth; it must come back with TC
    # within the new MTU.
    seen = answers_follow(MID_QUERY, 1280, truncated=True)
    check(all(seen.values()), "after the MTU went down to 1280 the mid answer comes back "
          "with TC within it: %s" % {a: len(r) if r else None for a, r in seen.items()})
    check(logged(log, "xdp %s: MTU now 1280, replies up to 1280 bytes\n" % VETH_SRV),
          "the log says the MTU is now 1280")
    # Jumbo: the 2 KiB frame, not the MTU, is the limit now, and the wide answer (TC at
    # 1500) fits it whole.
    set_mtu(3000)
    seen = answers_follow(WIDE_QUERY, FRAME_IP_MAX, truncated=False)
    check(all(seen.values()), "at MTU 3000 the wide answer comes whole within a 2 KiB "
          "frame: %s" % {a: len(r) if r else None for a, r in seen.items()})
    check(logged(log, "xdp %s: MTU now 3000, replies up to %d bytes (all a 2 KiB frame "
                 "holds)" % (VETH_SRV, FRAME_IP_MAX)), "the log says a 2 KiB frame limits")
    # Back to 1500: the mid answer is whole again, the wide one truncated again.
    set_mtu(MTU)
    seen = answers_follow(MID_QUERY, MTU, truncated=False)
    check(all(seen.values()), "back at MTU 1500 the mid answer is whole again: %s" % {
        a: len(r) if r else None for a, r in seen.items()})
    seen = xdp_answer(WIDE_QUERY, MTU, truncated=True)
    check(all(seen.values()), "back at MTU 1500 the wide answer has TC again")
    check(logged(log, "xdp %s: MTU now %d, replies up to %d bytes\n" % (VETH_SRV, MTU, MTU)),
          "the log says the MTU is 1500 again")


def ecs(prefix, length):
    return [dns.edns.ECSOption(prefix, length)]


def query_set():
    """(label, wire) pairs: what both paths must answer alike."""
    qs = [
        ("A static", query("www.xdp.test", "A")),
        ("AAAA static", query("www.xdp.test", "AAAA")),
        ("CNAME", query("alias.xdp.test", "A")),
        ("NXDOMAIN", query("nope.xdp.test", "A")),
        ("NODATA", query("www.xdp.test", "MX")),
        ("REFUSED out of zone", query("example.org", "A")),
        ("SOA EDNS", query("xdp.test", "SOA", use_edns=0)),
        ("DO", query("xdp.test", "SOA", want_dnssec=True)),
        ("TC without EDNS", query("big.xdp.test", "TXT")),
        ("big with EDNS", query("big.xdp.test", "TXT", use_edns=0, payload=1232)),
        ("steered by source", query("geo.xdp.test", "A")),
        ("steered AAAA by source", query("geo.xdp.test", "AAAA")),
        ("steered ECS 10.1/16", query("geo.xdp.test", "A", use_edns=0,
                                      options=ecs("10.1.2.0", 24))),
        ("steered ECS 10.2/16", query("geo.xdp.test", "A", use_edns=0,
                                      options=ecs("10.2.3.0", 24))),
        ("steered ECS v6", query("geo.xdp.test", "AAAA", use_edns=0,
                                 options=ecs("2001:db8:1::", 48))),
        ("EDNS version 1 (BADVERS)", query("www.xdp.test", "A", use_edns=1)),
    ]
    base = query("www.xdp.test", "A")
    qs += [
        ("header only, QDCOUNT 1 (FORMERR)", base[:12]),
        ("truncated question", base[:-3]),
        ("trailing garbage", base + b"\x00\x01\x02"),
        ("short (dropped)", b"\x12\x34\x01"),
        ("a response (dropped)", struct.pack("!H", 4242) + b"\x84\x00" + base[4:]),
        ("random bytes", bytes(range(37, 37 + 60))),
        ("bad ECS length", query("geo.xdp.test", "A", use_edns=0,
                                 options=[dns.edns.GenericOption(8, b"\x00\x01\x40\x00\x0a")])),
    ]
    return qs


def ask_all(addr):
    out = {}
    for label, wire in query_set():
        out[label] = h.udp_exchange(wire, 53, addr, timeout=h.scaled(1.5))
    return out


def main():
    with h.TempDir(ARGS.keep, prefix="meridian-xdp-") as tmp:
        run_all(tmp)
    print("%d passed, %d failed" % (passed, len(failures)))
    sys.exit(1 if failures else 0)


def run_all(tmp):
    xdp_section = "  xdp: { interface: %s }" % VETH_SRV
    proc = None
    try:
        setup_namespaces()
        enter_client_namespace()

        # 1. XDP.
        proc, log = start(tmp.path, "xdp", xdp_section)
        logtext = open(log).read()
        check("xdp %s: native mode" % VETH_SRV in logtext,
              "log names native mode: " + logtext.strip())
        check(xdp_attached(), "an XDP program is attached to the server's veth")
        before = udp_in_datagrams()
        via_xdp = {a: ask_all(a) for a in (SRV4, SRV6)}
        check(udp_in_datagrams() == before,
              "no query reached the kernel's UDP sockets (InDatagrams %d -> %d)"
              % (before, udp_in_datagrams()))
        answered = sum(1 for a in via_xdp for v in via_xdp[a].values() if v)
        check(answered >= 2 * 15, "XDP answered the query set (%d answers)" % answered)
        for a in (SRV4, SRV6):
            r = via_xdp[a]["A static"]
            check(r is not None and h.parse(r).rcode() == dns.rcode.NOERROR,
                  "XDP answer over %s" % a)
            tcp = h.tcp_exchange(query("www.xdp.test", "A"), 53, a)
            check(tcp is not None and r is not None and tcp == r,
                  "TCP to %s answers as UDP over XDP does" % a)
            tc = via_xdp[a]["TC without EDNS"]
            check(tc is not None and h.parse(tc).flags & dns.flags.TC, "TC over XDP (%s)" % a)
            # Larger than the MTU: a frame that long would be dropped on the wire, so the
            # answer must come back truncated, within the MTU (step 2 shows that on sockets
            # the same query gets the whole answer).
            wide = h.udp_exchange(WIDE_QUERY, 53, a, timeout=h.scaled(1.5))
            ip_udp = (40 if ":" in a else 20) + 8
            check(wide is not None and h.parse(wide).flags & dns.flags.TC and
                  len(wide) + ip_udp <= MTU,
                  "an answer larger than the MTU comes back with TC over XDP (%s): %s" % (
                      a, len(wide) if wide else "no answer"))
        # Another UDP port: the program passes it, the kernel answers port unreachable.
        for a in (SRV4, SRV6):
            fam = socket.AF_INET6 if ":" in a else socket.AF_INET
            with socket.socket(fam, socket.SOCK_DGRAM) as s:
                s.settimeout(h.scaled(2))
                s.connect((a, 9))
                s.send(b"x")
                try:
                    s.recv(10)
                    refused = False
                except ConnectionRefusedError:
                    refused = True
                except socket.timeout:
                    refused = False
            check(refused, "UDP to %s:9 passes to the kernel (port unreachable)" % a)
        for a in (SRV4, SRV6):
            check(echo(a), "ICMP echo to %s passes through XDP" % a)
        check_mtu_changes(log)
        kill_and_check_detached(proc, "kill -9 left no XDP program on the interface")
        proc = None

        # 2. Sockets: the same answers, and the counter sees them.
        proc, log = start(tmp.path, "sockets", "")
        check(not xdp_attached(), "no XDP program without server.xdp")
        before = udp_in_datagrams()
        via_sockets = {a: ask_all(a) for a in (SRV4, SRV6)}
        check(udp_in_datagrams() >= before + 2 * 15,
              "socket queries counted by the kernel (the control of step 1)")
        for a in (SRV4, SRV6):
            for label, _ in query_set():
                x, s = via_xdp[a][label], via_sockets[a][label]
                check(x == s, "%s over %s: XDP %s, sockets %s" % (
                    label, a, x.hex() if x else None, s.hex() if s else None))
        for a in (SRV4, SRV6):
            wide = h.udp_exchange(WIDE_QUERY, 53, a, timeout=h.scaled(1.5))
            check(wide is not None and not h.parse(wide).flags & dns.flags.TC and
                  len(wide) > MTU, "over sockets the wide answer is whole and larger than the "
                  "MTU (%s): %s" % (a, len(wide) if wide else "no answer"))
        check(via_sockets[SRV4]["steered by source"] != via_sockets[SRV6]["steered by source"],
              "the source address steers (the comparison can tell sources apart)")
        stop(proc)
        proc = None

        # 3. XDP on an interface that is not there: an error, then sockets.
        proc, log = start(tmp.path, "fallback", "  xdp: { interface: nosuch0 }")
        logtext = open(log).read()
        check("xdp nosuch0: no such interface; UDP on nosuch0 is served by sockets" in logtext,
              "fallback logged: " + logtext.strip())
        r = h.udp_exchange(query("www.xdp.test", "A"), 53, SRV4)
        check(r is not None and r == via_xdp[SRV4]["A static"], "fallback answers on sockets")
        stop(proc)
        proc = None
        # A clean stop detaches too.
        proc, log = start(tmp.path, "xdp2", xdp_section)
        check(xdp_attached(), "attached again after the kill")
        # server.xdp is read at start only: a reload without it says so and keeps XDP.
        conf = os.path.join(tmp.path, "xdp2.yaml")
        h.write_file(conf, open(conf).read().replace(xdp_section, ""))
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + h.scaled(15)
        while "server.xdp changed" not in open(log).read() and time.monotonic() < deadline:
            time.sleep(0.1)
        check("reload: server.xdp changed: the AF_XDP fast path keeps its settings from the "
              "start until meridiand restarts" in open(log).read(), "reload warns of server.xdp")
        check(xdp_attached(), "XDP stays after a reload")
        # A worker that cannot keep up: with meridiand stopped, more queries than a queue has
        # receive frames (4096); the kernel drops the rest, and the stop logs how many.
        check(" dropped " not in open(log).read(), "no drops logged before the flood")
        proc.send_signal(signal.SIGSTOP)
        flood = query("www.xdp.test", "A")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(10000):
                s.sendto(flood, (SRV4, 53))
        proc.send_signal(signal.SIGCONT)
        stop(proc)
        proc = None
        check(not xdp_attached(), "SIGTERM detaches the program")
        dropped = [ln for ln in open(log).read().splitlines() if "the kernel dropped" in ln]
        check(len(dropped) >= 1 and "with no frame in the fill ring): the worker fell behind"
              in dropped[0], "the stop logs the queries the kernel dropped: %s" % dropped)

        # 5. After the privilege drop (server.user) the sockets keep answering, and the
        # program still goes with the process.
        # Started with a jumbo MTU: the start's log names the 2 KiB frame as the limit.
        os.chmod(tmp.path, 0o755)
        set_mtu(3000)
        proc, log = start(tmp.path, "privdrop", xdp_section + "\n  user: nobody")
        check("running as user nobody" in open(log).read(), "privileges dropped")
        check("replies up to %d bytes (all a 2 KiB frame holds; the MTU at start is 3000)"
              % FRAME_IP_MAX in open(log).read(), "the start's log names the 2 KiB frame")
        before = udp_in_datagrams()
        r = h.udp_exchange(query("www.xdp.test", "A"), 53, SRV6)
        check(r is not None and r == via_xdp[SRV6]["A static"] and udp_in_datagrams() == before,
              "XDP answers after the privilege drop")
        # The link notifications are still read as nobody (the socket was opened as root).
        set_mtu(1280)
        check(logged(log, "xdp %s: MTU now 1280" % VETH_SRV), "the MTU is followed as nobody")
        seen = answers_follow(MID_QUERY, 1280, truncated=True)
        check(all(seen.values()), "as nobody the mid answer follows the MTU down to 1280")
        set_mtu(MTU)
        kill_and_check_detached(proc, "kill -9 of an unprivileged meridiand detaches the program")
        proc = None

        # 6. The interface removed under a running meridiand (ip link del; moving it to another
        # namespace looks the same from here): the log says so once, and meridiand runs on
        # without spinning on its dead sockets and stops cleanly.
        proc, log = start(tmp.path, "gone", xdp_section)
        run("ip", "-n", NS_SRV, "link", "del", "dev", VETH_SRV)
        check(logged(log, "xdp %s: the interface was removed" % VETH_SRV),
              "the removal of the XDP interface is logged")
        ticks0 = cpu_ticks(proc.pid)
        time.sleep(3)
        ticks = cpu_ticks(proc.pid) - ticks0
        check(proc.poll() is None and ticks < 1.5 * os.sysconf("SC_CLK_TCK"),
              "meridiand runs on after the removal, not spinning (%d ticks in 3 s)" % ticks)
        check(open(log).read().count("the interface was removed") == 1, "said once")
        stop(proc)
        check(proc.returncode == 0, "and stops cleanly (exit %s)" % proc.returncode)
        proc = None
    finally:
        if proc:
            stop(proc, signal.SIGKILL)
        teardown_namespaces()


def preflight():
    if os.geteuid() != 0:
        h.skip("needs root (network namespaces, XDP)")
    for tool in ("ip",):
        if not h.find_tool(tool):
            h.skip("%s not found" % tool)
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        h.skip("no user 'nobody' (for the privilege-drop case)")


ARGS = h.parse_args(__doc__.splitlines()[0])
preflight()
main()
