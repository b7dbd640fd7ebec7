#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Stand-in for meridian-anycast, for developing the BIRD configs, the lab and the BGP test
before (or without) the real sidecar. NOT the product: the test uses build/src/meridian-anycast
and only falls back to this file when told to (MERIDIAN_ANYCAST=.../standin-anycast.py).

It does what DESIGN.md §7 asks of the sidecar, in the simplest way: reads the `anycast:`
section of the YAML file given with -c, creates the gate and drain tun devices (not
persistent, so they vanish with this process), probes the service addresses with a DNS query
for the canary (AA and the expected answer), runs rise/fall with a fast interval during
transitions and a hold-down that doubles on repeated withdrawals, and serves a line-based
control socket: status, drain, undrain, force up|down, unforce.
"""
import fcntl
import os
import select
import signal
import socket
import struct
import sys
import time

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import yaml

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def duration(v):
    s = str(v).strip()
    for suffix, mul in (("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)):
        if s.endswith(suffix) and s[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(s[: -len(suffix)]) * mul
    return float(s)


class Gate:
    """A tun device held open by this process; up = BIRD's static route is usable."""

    def __init__(self, name):
        self.name = name.encode()
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH", self.name, IFF_TUN | IFF_NO_PI))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up = None
        self.set(False)

    def set(self, up):
        if self.up == up:
            return
        req = struct.pack("16sH22x", self.name, 0)
        flags = struct.unpack("16sH", fcntl.ioctl(self.sock, SIOCGIFFLAGS, req)[:18])[1]
        flags = (flags | IFF_UP) if up else (flags & ~IFF_UP)
        fcntl.ioctl(self.sock, SIOCSIFFLAGS, struct.pack("16sH22x", self.name, flags))
        self.up = up


def parse_addr(a):
    a = str(a)
    if a.startswith("["):
        host, _, port = a[1:].partition("]")
        return host, int(port[1:]) if port.startswith(":") else 53
    if a.count(":") == 1:
        host, port = a.split(":")
        return host, int(port)
    return a, 53


def log(msg):
    print("%s standin-anycast: %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def main():
    path = sys.argv[sys.argv.index("-c") + 1]
    with open(path) as f:
        cfg = yaml.safe_load(f)["anycast"]
    interval = duration(cfg.get("interval", "1s"))
    fast = duration(cfg.get("fast_interval", "200ms"))
    timeout = duration(cfg.get("timeout", "500ms"))
    rise, fall = int(cfg.get("rise", 3)), int(cfg.get("fall", 3))
    hold_base = duration(cfg.get("hold_down", "5s"))
    hold_max = duration(cfg.get("hold_down_max", "5m"))
    drain_time = duration(cfg.get("drain_time", "5s"))
    canary = cfg["canary"]
    targets = [parse_addr(a) for a in cfg["service_addresses"]]

    gate = Gate(cfg.get("gate_device", "mgate0"))
    drain = Gate(cfg.get("drain_device", "mdrain0"))
    ctl_path = cfg.get("control_socket")
    ctl = None
    if ctl_path:
        try:
            os.unlink(ctl_path)
        except FileNotFoundError:
            pass
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl.bind(ctl_path)
        ctl.listen(4)

    st = {"state": "STARTUP", "count": 0, "hold": hold_base, "hold_until": 0.0,
          "flaps": 0, "drain_end": 0.0, "forced": None, "last_withdraw": 0.0}

    def apply():
        s = st["state"]
        if st["forced"] is not None:
            gate.set(st["forced"] == "up")
            drain.set(False)
            return
        if s in ("UP", "FALLING"):
            gate.set(True)        # make before break: raise N, then drop D
            drain.set(False)
        elif s == "DRAINING":
            drain.set(True)
            gate.set(False)
        else:
            gate.set(False)
            drain.set(False)

    def goto(s, count=0):
        if s != st["state"]:
            log("%s -> %s" % (st["state"], s))
        if s == "DOWN" and st["state"] in ("UP", "FALLING"):
            now = time.monotonic()
            # doubling hold-down on repeated withdrawals within 10 minutes
            if now - st["last_withdraw"] < 600 and st["last_withdraw"]:
                st["hold"] = min(st["hold"] * 2, hold_max)
            else:
                st["hold"] = hold_base
            st["last_withdraw"] = now
            st["hold_until"] = now + st["hold"]
            st["flaps"] += 1
        st["state"], st["count"] = s, count
        apply()

    def probe():
        q = dns.message.make_query(canary["name"], canary.get("type", "A"))
        q.flags &= ~dns.flags.RD
        for host, port in targets:
            try:
                r = dns.query.udp(q, host, port=port, timeout=timeout)
            except Exception:
                return False
            if r.rcode() != 0 or not (r.flags & dns.flags.AA):
                return False
            got = [rd.to_text() for rr in r.answer for rd in rr]
            if str(canary.get("expect")) not in got:
                return False
        return True

    def command(line):
        w = line.split()
        if not w:
            return "error: empty command"
        if w[0] == "status":
            return "state %s gate %s drain %s flaps %d hold_down %.1fs forced %s" % (
                st["state"], "up" if gate.up else "down", "up" if drain.up else "down",
                st["flaps"], st["hold"], st["forced"] or "no")
        if w[0] == "drain":
            if st["state"] in ("UP", "FALLING"):
                st["drain_end"] = time.monotonic() + drain_time
                goto("DRAINING")
            elif st["state"] not in ("DRAINING", "DRAINED"):
                goto("DRAINED")
            return "ok draining"
        if w[0] == "undrain":
            if st["state"] in ("DRAINING", "DRAINED"):
                goto("RISING", 0)
            return "ok"
        if w[0] == "force" and len(w) == 2 and w[1] in ("up", "down"):
            st["forced"] = w[1]
            apply()
            return "ok forced %s" % w[1]
        if w[0] == "unforce":
            st["forced"] = None
            apply()
            return "ok"
        return "error: unknown command"

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    if os.environ.get("NOTIFY_SOCKET"):
        n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        addr = os.environ["NOTIFY_SOCKET"]
        n.sendto(b"READY=1", "\0" + addr[1:] if addr.startswith("@") else addr)
    log("ready")
    next_probe = time.monotonic()
    while not stop:
        now = time.monotonic()
        wait = max(0.0, next_probe - now)
        if st["state"] == "DRAINING":
            wait = min(wait, max(0.0, st["drain_end"] - now))
        try:
            r, _, _ = select.select([ctl] if ctl else [], [], [], wait)
        except InterruptedError:
            continue
        if r:
            c, _ = ctl.accept()
            c.settimeout(1)
            try:
                data = c.recv(512).decode(errors="replace").strip()
                c.sendall((command(data) + "\n").encode())
            except OSError:
                pass
            c.close()
        now = time.monotonic()
        if st["state"] == "DRAINING" and now >= st["drain_end"]:
            goto("DRAINED")
        if now < next_probe:
            continue
        ok = probe()
        s = st["state"]
        if s in ("STARTUP", "DOWN"):
            goto("RISING", 1) if ok else goto("DOWN")
        elif s == "RISING":
            if not ok:
                goto("DOWN")
            elif st["count"] + 1 >= rise and time.monotonic() >= st["hold_until"]:
                goto("UP")
            else:
                st["count"] += 1
        elif s == "UP":
            if not ok:
                goto("FALLING", 1)
        elif s == "FALLING":
            if ok:
                goto("UP")
            elif st["count"] + 1 >= fall:
                goto("DOWN")
            else:
                st["count"] += 1
        elif s == "DRAINING" and not ok:
            goto("DRAINED")
        fast_now = st["state"] in ("RISING", "FALLING", "STARTUP")
        next_probe = time.monotonic() + (fast if fast_now else interval)
    log("exiting")
    if ctl_path:
        try:
            os.unlink(ctl_path)
        except OSError:
            pass


if __name__ == "__main__":
    main()
