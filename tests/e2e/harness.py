# SPDX-License-Identifier: MIT
"""Shared end-to-end harness for Meridian (STYLE.md, Tests).

Starts and stops servers by pid (meridiand, knotd) in a private temp
directory, gives each test its own loopback ports (see Ports), waits for
readiness by polling a query against a deadline (never a bare sleep) and makes
every server prove its identity with an NSID unique to the run, sends DNS
messages and raw bytes over UDP and TCP, and compares two responses field by
field (see Comparing responses).

Network safety: every address used here is in 127.0.0.0/8 or ::1; every loop is
bounded in count and in time.

Exit codes: 0 all passed, 1 a failure, 77 skipped (ctest SKIP_RETURN_CODE).
"""

import os
import sys

SKIP = 77


def _time_scale():
    """MERIDIAN_TEST_TIME_SCALE, which ctest sets from the CMake option of that name (3 for
    the Asan build, 1 for Release): sanitizers make the server several times slower."""
    try:
        value = int(os.environ.get("MERIDIAN_TEST_TIME_SCALE", "1"))
    except ValueError:
        value = 1
    return max(1, min(value, 99))


TIME_SCALE = _time_scale()


def scaled(seconds):
    """A time bound or timeout for this build: `seconds` is what a Release build on a loaded
    2-core machine needs. Lower bounds ("not before") are never scaled."""
    return seconds * TIME_SCALE


REPLY_TIMEOUT = scaled(2.0)  # how long a reply that must come may take


def _ensure_dnspython():
    """Re-run under the Debian interpreter when this python3 lacks dnspython.

    A developer's PATH may put another python3 (pyenv, venv) before
    /usr/bin/python3, which is the one python3-dnspython installs into."""
    import importlib.util
    if importlib.util.find_spec("dns") is not None:
        return
    system = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(system) and \
            os.path.exists(system) and not os.environ.get("MERIDIAN_E2E_REEXEC"):
        os.environ["MERIDIAN_E2E_REEXEC"] = "1"
        os.execv(system, [system] + sys.argv)
    print("SKIP: python3 module 'dns' (Debian python3-dnspython) is missing")
    sys.exit(SKIP)


_ensure_dnspython()

import argparse  # noqa: E402
import collections  # noqa: E402
import errno  # noqa: E402
import fcntl  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import dns.edns  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.opcode  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdata  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.query  # noqa: E402
import dns.zone  # noqa: E402

V4 = "127.0.0.1"
V6 = "::1"
E2E_DIR = os.path.dirname(os.path.abspath(__file__))

# A `server:` line for a test that sends many UDP queries from loopback for another purpose:
# rate limiting is on and limits loopback by default (tested in e2e 020), which would drop
# some of its answers.
RRL_EXEMPT_LOOPBACK = "rrl: {exempt_loopback: true}"

# ----------------------------------------------------------------------------
# Command line, tools, temp dirs


def parse_args(description, extra=None):
    """Common options of every e2e test; `extra(parser)` may add its own."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--meridiand", required=True, help="path to the meridiand binary")
    p.add_argument("--knotd", default=None, help="path to knotd (default: search PATH, /usr/sbin)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir and print its path")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print every check, not only failures")
    if extra:
        extra(p)
    args = p.parse_args()
    if not os.access(args.meridiand, os.X_OK):
        print("FAIL: meridiand is not an executable file: %s" % args.meridiand)
        print("0 passed, 1 failed")
        sys.exit(1)
    return args


def find_tool(name, explicit=None):
    """Path of an executable, or None. ctest's PATH often lacks /usr/sbin."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    return None


def skip(reason):
    print("SKIP: " + reason)
    sys.stdout.flush()
    sys.exit(SKIP)


def require_tool(name, explicit=None, package=None):
    """find_tool(), or SKIP naming the Debian package that has it."""
    found = find_tool(name, explicit)
    if not found:
        skip("%s not found (Debian %s)" % (name, package or name))
    return found


def start_knotd(others, knot, tmp, port, config, nsid, zone):
    """knotd on V4@port with `config`, appended to `others` (run_servers stops it), ready
    to answer for `zone`."""
    knotd = Knotd(knot, tmp.path, port, config, nsid)
    knotd.addrs = (V4,)
    others.append(knotd.start())
    knotd.wait_ready(zone, timeout=scaled(30))
    return knotd


class TempDir:
    """A temp dir removed on exit unless --keep."""

    def __init__(self, keep=False, prefix="meridian-e2e-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        self.keep = keep

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.keep:
            print("kept temp dir " + self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False

    def join(self, *parts):
        return os.path.join(self.path, *parts)


# ----------------------------------------------------------------------------
# Ports
#
# Probing a free port, closing it and letting the server bind it later races with
# every other process, and meridiand binds with SO_REUSEPORT: a second meridiand
# of the same user on the same port does not fail, it silently takes half the
# queries. So ports are held, not probed: each comes from a range outside the
# kernel's ephemeral range (ip_local_port_range), so no kernel-chosen port
# (another test's client socket, another harness's ephemeral port) can land on
# it, and is locked with flock() on a per-port file in a shared directory for the
# life of this process, so no other harness process takes it. The lock dies with
# the process: no stale state. Only a program binding that exact number by
# itself could still collide: the server's bind then fails (retried elsewhere),
# or, with SO_REUSEPORT, the NSID check of Server.wait_ready sees the stranger.

PORT_LOCK_DIR = os.path.join(tempfile.gettempdir(), "meridian-e2e-ports")
_held = []  # lock files and sockets held until this process exits


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999  # the Linux default


def port_range():
    """[first, last] of the ports this harness allocates: below the ephemeral range if
    there is room, else above it."""
    lo, hi = _ephemeral_range()
    if lo - 1 >= 12000:
        return 10000, lo - 1
    if 65535 - (hi + 1) >= 2000:
        return hi + 1, 65535
    raise RuntimeError("no port range outside the ephemeral range %d-%d" % (lo, hi))


def _bindable(port, addrs, kinds):
    held = []
    try:
        for addr in addrs:
            fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
            for kind in kinds:
                t = socket.socket(fam, kind)
                held.append(t)
                t.bind((addr, port))
        return True
    except OSError as e:
        if e.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        return False
    finally:
        for t in held:
            t.close()


def free_port(addrs=(V4, V6), kinds=(socket.SOCK_STREAM, socket.SOCK_DGRAM), attempts=200):
    """A port held for this process until it exits (see above) and bindable now for every
    kind on every address of `addrs`."""
    first, last = port_range()
    os.makedirs(PORT_LOCK_DIR, mode=0o777, exist_ok=True)
    rnd = random.SystemRandom()
    for _ in range(attempts):
        port = rnd.randint(first, last)
        path = os.path.join(PORT_LOCK_DIR, "%d.lock" % port)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)  # another harness holds it
            continue
        if _bindable(port, addrs, kinds):
            _held.append(fd)
            return port
        os.close(fd)  # some other program has it: leave it alone
    raise RuntimeError("no free loopback port in %d-%d after %d attempts"
                       % (first, last, attempts))


def closed_tcp_port(addr=V4):
    """A port on which TCP connections to `addr` are refused, for as long as this process
    lives: a socket bound there that never listens answers every SYN with a reset, and no
    one else can bind the port meanwhile."""
    port = free_port((addr,), (socket.SOCK_STREAM,))
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    s.bind((addr, port))
    _held.append(s)
    return port


def silent_udp_port(addr=V4):
    """A UDP port where datagrams to `addr` are neither answered nor refused (no ICMP port
    unreachable): a bound socket that never reads, held while this process lives."""
    port = free_port((addr,), (socket.SOCK_DGRAM,))
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    _held.append(s)
    return port


# ----------------------------------------------------------------------------
# Raw transport


def udp_exchange(wire, port, addr=V4, timeout=REPLY_TIMEOUT, bufsize=65535):
    """Send one datagram, return the first reply's bytes or None on timeout."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.connect((addr, port))
        s.send(wire)
        try:
            return s.recv(bufsize)
        except (socket.timeout, ConnectionRefusedError):
            return None


def rcode_of(port, name, rtype="A"):
    """The rcode of a UDP query for name/rtype to our server on `port`, as text (NOERROR,
    SERVFAIL, ...), or None when nothing answers within a second."""
    r = parse(udp_exchange(dns.message.make_query(name, rtype).to_wire(), port, timeout=1.0))
    return None if r is None else dns.rcode.to_text(r.rcode())


def a_of(port, name):
    """The addresses in the answer to name/A over UDP, sorted ([] without a reply)."""
    r = parse(udp_exchange(dns.message.make_query(name, "A").to_wire(), port, timeout=1.0))
    return sorted(rd.to_text() for rrset in (r.answer if r else []) for rd in rrset)


def udp_send_only(wire, port, addr=V4):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        try:
            s.sendto(wire, (addr, port))
        except OSError:
            pass  # e.g. EMSGSIZE on an oversized datagram is the test's point


def _recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(n - len(buf))
        except (socket.timeout, ConnectionResetError):
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_connect(port, addr=V4, timeout=REPLY_TIMEOUT):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((addr, port))
    return s


def tcp_read_message(s, timeout=REPLY_TIMEOUT):
    """One length-prefixed message from a connected socket, or None."""
    deadline = time.monotonic() + timeout
    hdr = _recv_exact(s, 2, deadline)
    if hdr is None:
        return None
    (n,) = struct.unpack("!H", hdr)
    return _recv_exact(s, n, deadline)


def tcp_exchange(wire, port, addr=V4, timeout=REPLY_TIMEOUT):
    """Send one length-prefixed message on a new connection, return the reply."""
    try:
        with tcp_connect(port, addr, timeout) as s:
            s.sendall(struct.pack("!H", len(wire)) + wire)
            return tcp_read_message(s, timeout)
    except OSError:
        return None


def exchange(wire, port, tcp=False, addr=V4, timeout=REPLY_TIMEOUT):
    if tcp:
        return tcp_exchange(wire, port, addr, timeout)
    return udp_exchange(wire, port, addr, timeout)


def parse(wire):
    """dns.message or None when the bytes do not parse. dnspython merges the records of
    an RRset and drops duplicates; Reply.of() parses the bytes again record by record.

    dnspython rejects opcodes it has no name for (3, 7-15); such a reply is
    parsed with the opcode bits cleared. opcode_of() gives the real one."""
    if wire is None:
        return None
    op = (wire[2] >> 3) & 0xF if len(wire) > 2 else 0
    parsed = wire
    if op not in (0, 1, 2, 4, 5):
        parsed = wire[:2] + bytes([wire[2] & 0x87]) + wire[3:]
    try:
        msg = dns.message.from_wire(parsed)
    except Exception:  # any dnspython parse error: caller reports it
        return None
    msg.wire_opcode = op
    msg.parsed_wire = parsed
    return msg


def opcode_of(msg):
    """The opcode as an int, also for opcodes dnspython cannot name."""
    return getattr(msg, "wire_opcode", (msg.flags >> 11) & 0xF)


# ----------------------------------------------------------------------------
# Servers


def new_nsid(tag, length=None):
    """An NSID (RFC 5001) no other server can have: the harness configures it and checks
    that every server it talks to answers with it. `length`: exactly that many random hex
    characters instead (for tests whose message sizes count the NSID)."""
    if length:
        return secrets.token_hex((length + 1) // 2)[:length]
    return "e2e-%s-%d-%s" % (tag, os.getpid(), secrets.token_hex(6))


def nsid_query(qname, qtype="SOA"):
    q = dns.message.make_query(qname, qtype, use_edns=0, payload=1232,
                               options=[dns.edns.GenericOption(NSID, b"")])
    return q


def nsid_of(msg):
    """The NSID payload of a reply, or None."""
    opt = opt_value(msg, NSID) if msg is not None else None
    return opt.to_wire() if opt is not None else None


class TcpAcceptor:
    """A TCP health check's target on `addr` (loopback), a port the kernel picks: accepts
    and closes each connection on its own thread until close()."""

    def __init__(self, addr=V4, backlog=64):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((addr, 0))
        self.sock.listen(backlog)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                self.sock.accept()[0].close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(timeout=2)
        self.sock.close()


class Server:
    """A child process we started; stopped by its own pid only. `nsid` is the NSID its
    configuration gives it (new_nsid()): the proof that a reply comes from it."""

    name = "server"

    def __init__(self, workdir, port, nsid, addrs=(V4, V6)):
        self.workdir = workdir
        self.port = port
        self.nsid = nsid.encode() if isinstance(nsid, str) else nsid
        self.addrs = addrs
        self.proc = None
        self.log_path = os.path.join(workdir, self.name + ".log")

    def command(self):
        raise NotImplementedError

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(data[-lines:])

    def check_identity(self, qname, port=None, addrs=None, tries=6):
        """Errors unless every reply comes from this server: `tries` queries asking for NSID
        over UDP and over TCP to every address, each from a new socket (so a new source
        port, which SO_REUSEPORT hashes onto the sockets of every server sharing the port:
        a stranger sharing it is missed with probability 2^-tries per address and
        transport)."""
        port = port or self.port
        errs = []
        for addr in addrs or self.addrs:
            for tcp in (False, True):
                for _ in range(tries):
                    reply = parse(exchange(nsid_query(qname).to_wire(), port, tcp, addr,
                                           timeout=2.0))
                    got = nsid_of(reply)
                    if got != self.nsid:
                        errs.append("%s %s:%d answered with NSID %r, not %s's %r (%s)"
                                    % ("TCP" if tcp else "UDP", addr, port, got, self.name,
                                       self.nsid, summary(reply)))
                        break
        return errs

    def wait_ready(self, qname, timeout=15.0, addr=V4):
        """Poll an NSID query until a reply with our NSID arrives, the process dies, or the
        deadline passes (each poll waits at most 0.2 s); then check_identity(). A reply
        with another NSID or none is another server on our port: RuntimeError."""
        wire = nsid_query(qname).to_wire()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("%s exited with %s before it was ready:\n%s"
                                   % (self.name, self.proc.returncode, self.log_tail()))
            reply = udp_exchange(wire, self.port, addr, timeout=0.2)
            msg = parse(reply)
            if msg is not None:
                if nsid_of(msg) != self.nsid:
                    raise RuntimeError("port %d is answered by another server (NSID %r, ours "
                                       "%r): not ours, port in use" % (self.port, nsid_of(msg),
                                                                       self.nsid))
                errs = self.check_identity(qname)
                if errs:
                    raise RuntimeError("port %d is shared with another server, port in use:\n%s"
                                       % (self.port, "\n".join(errs)))
                return
            if reply is None:
                # Nothing listening yet gives an immediate ICMP refusal; pace the
                # loop without sleeping blindly: wait on the process instead.
                try:
                    self.proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
        raise RuntimeError("%s not answering on port %d after %.0f s:\n%s"
                           % (self.name, self.port, timeout, self.log_tail()))

    def stop(self, timeout=10.0):
        """SIGTERM, wait, then SIGKILL our own pid. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self._log.close()
        return self.proc.returncode

    def restart(self, tag):
        """Stops the server and starts it again on the same port, logging to a new file
        (<name>-<tag>.log) so that log_has() sees the new run only. Returns the first run's
        exit status."""
        status = self.stop()
        self.log_path = os.path.join(self.workdir, "%s-%s.log" % (self.name, tag))
        self.start()
        return status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def run_servers(results, meridiand, body):
    """Runs body(others) with meridiand started: body appends to `others` each other server
    it starts. Then meridiand must still run; a RuntimeError (a server that would not start)
    is a failed check. The others are stopped, then meridiand, which must exit cleanly."""
    others = []
    try:
        body(others)
        results.check("meridiand still running", [] if meridiand.alive() else
                      [meridiand.log_tail()])
    except RuntimeError as e:
        results.check("servers start", [str(e)])
    finally:
        for server in others:
            server.stop()
        status = meridiand.stop()
    results.check("meridiand exits cleanly on SIGTERM (%s)" % status,
                  [] if status == 0 else [meridiand.log_tail()])


class Meridiand(Server):
    name = "meridiand"

    def __init__(self, binary, workdir, port, config_path, nsid, addrs=(V4, V6)):
        super().__init__(workdir, port, nsid, addrs)
        self.binary = binary
        self.config_path = config_path

    def command(self):
        return [self.binary, "-c", self.config_path]


class Knotd(Server):
    name = "knotd"

    def __init__(self, binary, workdir, port, config_path, nsid):
        super().__init__(workdir, port, nsid)
        self.binary = binary
        self.config_path = config_path

    def command(self):
        return [self.binary, "-c", self.config_path]


def meridianctl_option(parser):
    """The --meridianctl option of tests that drive meridianctl (parse_args' `extra`)."""
    parser.add_argument("--meridianctl", default=None,
                        help="meridianctl binary (default: next to meridiand)")


def meridianctl_path(args):
    """--meridianctl, else the meridianctl built beside --meridiand. CMake passes the one it
    built, so a missing one is a broken build: a failure (exit 1), not a skip."""
    path = args.meridianctl or os.path.join(os.path.dirname(os.path.abspath(args.meridiand)),
                                            "meridianctl")
    if not os.access(path, os.X_OK):
        print("FAIL: meridianctl is not an executable file: %s" % path)
        print("0 passed, 1 failed")
        sys.exit(1)
    return path


class Meridianctl:
    """meridianctl -s SOCKET: ctl(*words) runs one command, returns (exit status, output);
    (2, "meridianctl timed out") after scaled(30) s."""

    def __init__(self, binary, sock):
        self.binary, self.sock = binary, sock

    def __call__(self, *words):
        try:
            p = subprocess.run([self.binary, "-s", self.sock] + list(words),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=scaled(30), check=False)
            return p.returncode, p.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            return 2, "meridianctl timed out"


def control(sock, *words, timeout=30.0):
    """One command on meridiand's control socket, as meridianctl sends it (one line in,
    the reply until close). Returns (0 if the reply starts with "ok", else 1, text), or
    (2, the error) when the socket cannot be used. Bounded: `timeout` per socket call."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(sock)
            s.sendall((" ".join(words) + "\n").encode())
            s.shutdown(socket.SHUT_WR)
            data = b""
            for _ in range(100000):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as e:
        return 2, str(e)
    text = data.decode("utf-8", "replace")
    return (0 if text.startswith("ok") else 1), text


def _yaml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def small_zone(origin, *records):
    """A minimal valid zone text for `origin` (SOA, NS, the NS's glue) plus `records`
    ("www A 192.0.2.80"), for tests whose point is not the zone."""
    lines = ["$ORIGIN %s." % origin.rstrip("."), "$TTL 300",
             "@ SOA ns1 hostmaster 1 7200 3600 1209600 300", "@ NS ns1", "ns1 A 192.0.2.1"]
    return "\n".join(lines + list(records)) + "\n"


def write_meridian_config(path, port, zones, nsid, identity=None, version=None,
                          hide_identity=False, hide_version=False, workers=2,
                          udp_max_size=1232, tcp_idle_timeout="10s", extra_server=None):
    """A meridiand YAML config. zones: list of (origin, absolute zone path); nsid: from
    new_nsid(), given to the Meridiand object too."""
    lines = ["server:",
             '  listen: ["%s:%d", "[%s]:%d"]' % (V4, port, V6, port),
             "  workers: %s" % workers,
             "  udp_max_size: %d" % udp_max_size,
             "  tcp_idle_timeout: %s" % tcp_idle_timeout,
             "  log_level: info"]
    if identity is not None:
        lines.append("  identity: " + _yaml_str(identity))
    if version is not None:
        lines.append("  version: " + _yaml_str(version))
    lines.append("  nsid: " + _yaml_str(nsid))
    lines.append("  hide_identity: %s" % ("true" if hide_identity else "false"))
    lines.append("  hide_version: %s" % ("true" if hide_version else "false"))
    for line in extra_server or ():
        lines.append("  " + line)
    lines.append("zones:")
    for origin, zpath in zones:
        lines.append("  - origin: " + origin)
        lines.append("    file: " + _yaml_str(zpath))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def write_knot_config(path, workdir, port, zones, nsid, identity=None, version=None,
                      hide_identity=False, hide_version=False, udp_max_size=1232):
    """A knotd 3.x config serving `zones` read-only from their files.

    Knot hides identity/version when they are set to an empty string, which is
    how hide_identity/hide_version are mirrored."""
    rundir = os.path.join(workdir, "knot-run")
    storage = os.path.join(workdir, "knot-storage")
    os.makedirs(rundir, exist_ok=True)
    os.makedirs(storage, exist_ok=True)
    lines = ["server:",
             "  rundir: " + _yaml_str(rundir),
             "  listen: [ %s@%d, %s@%d ]" % (V4, port, V6, port),
             "  udp-max-payload: %d" % udp_max_size,
             "  udp-workers: 1",
             "  tcp-workers: 1",
             "  background-workers: 1"]
    if hide_identity:
        lines.append('  identity: ""')
    elif identity is not None:
        lines.append("  identity: " + _yaml_str(identity))
    if hide_version:
        lines.append('  version: ""')
    elif version is not None:
        lines.append("  version: " + _yaml_str(version))
    lines.append("  nsid: " + _yaml_str(nsid))
    lines += ["database:",
              "  storage: " + _yaml_str(storage),
              "log:",
              "  - target: stderr",
              "    any: info",
              "template:",
              "  - id: default",
              "    storage: " + _yaml_str(storage),
              "    zonefile-sync: -1",
              "    zonefile-load: whole",
              "    journal-content: none",
              "    semantic-checks: off",
              "zone:"]
    for origin, zpath in zones:
        lines.append("  - domain: " + origin)
        lines.append("    file: " + _yaml_str(zpath))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# --- Zone transfers (015, 016) ------------------------------------------------------------

def write_file(path, text, mode=None):
    """Writes path whole or not at all (a new file renamed over it), with `mode` if given."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_knot_secondary(path, workdir, port, primary_port, zones, nsid, key=None):
    """A knotd 3.x config, listening on V4 only, that is the secondary of `zones` from
    meridiand at V4@primary_port, keeping them in memory (journal of changes, so IXFR). Its
    ACL takes NOTIFY and allows transfers out (the tests compare its copy) from V4. With
    key = (name, algorithm, base64 secret): its transfer requests are signed with the key,
    and it takes NOTIFY only signed with it."""
    rundir, storage = os.path.join(workdir, "knot-run"), os.path.join(workdir, "knot-storage")
    os.makedirs(rundir, exist_ok=True)
    os.makedirs(storage, exist_ok=True)
    lines = ["server:", "  rundir: " + _yaml_str(rundir), "  listen: [ %s@%d ]" % (V4, port),
             "  nsid: " + _yaml_str(nsid),
             "  udp-workers: 1", "  tcp-workers: 1", "  background-workers: 1",
             "log:", "  - target: stderr", "    any: %s" % ("debug" if key else "info")]
    if key:
        lines += ["key:", "  - id: %s" % key[0], "    algorithm: %s" % key[1],
                  "    secret: %s" % key[2]]
    lines += ["database:", "  storage: " + _yaml_str(storage),
              "remote:", "  - id: meridiand", "    address: %s@%d" % (V4, primary_port)]
    if key:
        lines += ["    key: %s" % key[0],
                  "acl:", "  - id: from_meridiand", "    address: %s" % V4,
                  "    key: %s" % key[0], "    action: notify",
                  "  - id: to_the_test", "    address: %s" % V4, "    action: transfer"]
    else:
        lines += ["acl:", "  - id: from_meridiand", "    address: %s" % V4,
                  "    action: [notify, transfer]"]
    lines += ["template:", "  - id: default", "    storage: " + _yaml_str(storage),
              "    zonefile-sync: -1", "    zonefile-load: none", "    journal-content: changes",
              "    semantic-checks: off",
              "zone:"]
    acl = "[from_meridiand, to_the_test]" if key else "from_meridiand"
    for z in zones:
        lines += ["  - domain: %s" % z, "    master: meridiand", "    acl: %s" % acl]
    write_file(path, "\n".join(lines) + "\n")
    return path


def knot_primary_head(tmp, kport, mport, nsid, secret):
    """The first lines of a knotd 3.x config that is the TSIG-signing primary of meridiand
    (016, 018): listening on V4@kport, key xfr-key (hmac-sha256, `secret`), remote
    `meridiand` at V4@mport signed with it, ACL `xfr` allowing transfers signed with it.
    The caller adds its own ACLs, template and zones."""
    for d in ("knot-run", "knot-storage"):
        os.makedirs(tmp.join(d), exist_ok=True)
    return ["server:", "  rundir: " + _yaml_str(tmp.join("knot-run")),
            "  listen: [ %s@%d ]" % (V4, kport), "  nsid: " + _yaml_str(nsid),
            "  udp-workers: 1", "  tcp-workers: 1", "  background-workers: 1",
            "log:", "  - target: stderr", "    any: info",
            "key:", "  - id: xfr-key", "    algorithm: hmac-sha256", "    secret: " + secret,
            "database:", "  storage: " + _yaml_str(tmp.join("knot-storage")),
            "remote:", "  - id: meridiand", "    address: %s@%d" % (V4, mport),
            "    key: xfr-key",
            "acl:", "  - id: xfr", "    address: %s" % V4, "    key: xfr-key",
            "    action: transfer"]


def log_has(server, pattern):
    """Does the server's log have a line matching the regular expression?"""
    try:
        with open(server.log_path, "rb") as f:
            return re.search(pattern, f.read().decode("utf-8", "replace"), re.M) is not None
    except OSError:
        return False


def soa_serial(port, zone):
    """The SOA serial a server on V4@port answers for zone, or None."""
    q = dns.message.make_query(zone, "SOA")
    r = parse(udp_exchange(q.to_wire(), port, timeout=1.0))
    if r is None or r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def axfr_records(port, zone, source=None, keyring=None, keyname=None):
    """Every record of an AXFR from V4@port (signed with the key if given: dnspython then
    verifies every message) as sorted text lines ("name ttl class type rdata"), or an error
    text. With a keyring of one key, keyname may be left out."""
    if keyring and keyname is None:
        keyname = next(iter(keyring))
    try:
        z = dns.zone.from_xfr(dns.query.xfr(V4, zone + ".", port=port, lifetime=scaled(30),
                                            source=source, keyring=keyring, keyname=keyname,
                                            relativize=False),
                              relativize=False)
    except Exception as e:  # any transfer, TSIG or parse error is the finding
        return "AXFR of %s from port %d failed: %r" % (zone, port, e)
    return sorted("%s %d %s %s %s" % (name, ttl, dns.rdataclass.to_text(rd.rdclass),
                                      dns.rdatatype.to_text(rd.rdtype), rd.to_text())
                  for name, ttl, rd in z.iterate_rdatas())


def compare_records(ours, theirs, other="knotd"):
    """Errors unless two axfr_records() results are equal (the first ten differences)."""
    if isinstance(ours, str) or isinstance(theirs, str):
        return [x for x in (ours, theirs) if isinstance(x, str)]
    if ours == theirs:
        return []
    return ["%d records here, %d at %s" % (len(ours), len(theirs), other)] + \
        ["only ours:   " + r for r in sorted(set(ours) - set(theirs))[:10]] + \
        ["only %s's: " % other + r for r in sorted(set(theirs) - set(ours))[:10]]


def wire_signed_at(msg, offset_s):
    """msg.to_wire() with its TSIG (msg.use_tsig) signed `offset_s` seconds away from now:
    dnspython takes Time Signed from time.time(), so it is shifted for that one call."""
    real = time.time
    time.time = lambda: real() + offset_s
    try:
        return msg.to_wire()
    finally:
        time.time = real


def reply_tsig(wire):
    """(rcode, TSIG rdata or None) of a reply, read without a keyring: the TSIG is the last
    record, and must end the message."""
    counts = struct.unpack("!HHHH", wire[4:12])
    off, last = 12, None
    for _ in range(counts[0]):
        _, used = dns.name.from_wire(wire, off)
        off += used + 4
    for _ in range(sum(counts[1:])):
        _, used = dns.name.from_wire(wire, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", wire[off + used:off + used + 10])
        last = (rtype, off + used + 10, rdlen)
        off += used + 10 + rdlen
    if last is None or last[0] != dns.rdatatype.TSIG or off != len(wire):
        return wire[3] & 0xF, None
    return wire[3] & 0xF, dns.rdata.from_wire(dns.rdataclass.ANY, dns.rdatatype.TSIG, wire,
                                              last[1], last[2])


def start_with_free_port(make_server, ready_name, attempts=5):
    """Start make_server(port) on a port from free_port(), and wait until it is ready and
    proves its identity; on a port in use (a failed bind, or another server answering)
    try another port."""
    last = None
    for _ in range(attempts):
        srv = make_server(free_port())
        srv.start()
        try:
            srv.wait_ready(ready_name)
            return srv
        except RuntimeError as e:
            last = e
            srv.stop()
            if "in use" not in str(e).lower():
                break
            print("note: port %d: %s; trying another" % (srv.port, str(e).splitlines()[0]))
    raise RuntimeError(str(last))


# ----------------------------------------------------------------------------
# Comparing responses
#
# A reply is reduced to a Reply: id, opcode, the flags QR AA TC RD RA AD CD,
# the full (extended) rcode, the question exactly as written (owner case
# included), each section as a list of RRsets in wire order, and the OPT
# (version, DO, payload, options). Two Replies are compared field by field:
#
# - RRsets: consecutive records with the same owner (compared caselessly), type
#   and class. Their order and number must match (CNAME/DNAME chains, the SOA of
#   a negative answer, glue): a duplicated, missing, split or reordered RRset
#   shows. Within an RRset the records are compared as a multiset of (owner as
#   written, TTL, RDATA): RFC 2181 §5 gives an RRset no order, and knotd keeps
#   RDATA in canonical order where meridiand keeps zone-file order, so only a
#   duplicate or missing record shows there. Owner case is compared exactly: it
#   follows the question for names compressed to it (RFC 4343), so 0x20 queries
#   check it. RDATA is compared in canonical form (RFC 4034 §6.2).
# - OPT options as a multiset of (code, payload), except EDE (RFC 8914): which
#   extended errors to attach is each server's choice (knotd adds "Not
#   Authoritative" to REFUSED). An NSID equal to the answering server's own
#   token compares as "<own NSID>", so two servers with different tokens agree
#   while a reply from any other server differs.

FLAG_BITS = (("QR", dns.flags.QR), ("AA", dns.flags.AA), ("TC", dns.flags.TC),
             ("RD", dns.flags.RD), ("RA", dns.flags.RA), ("AD", dns.flags.AD),
             ("CD", dns.flags.CD))
FLAG_MASK = 0
for _name, _bit in FLAG_BITS:
    FLAG_MASK |= _bit
EDE = 15
NSID = dns.edns.NSID
ECS = dns.edns.ECS
OWN_NSID = b"<own NSID>"

RRset = collections.namedtuple("RRset", "owner rdtype rdclass records")
Opt = collections.namedtuple("Opt", "version do payload options")


def flag_text(flags):
    return " ".join(n for n, b in FLAG_BITS if flags & b) or "-"


def rcode_text(msg):
    return dns.rcode.to_text(msg.rcode())


def opt_value(msg, code):
    for o in msg.options if msg.edns >= 0 else ():
        if o.otype == code:
            return o
    return None


def _rdata_text(rdclass, rdtype, rdata):
    try:
        return dns.rdata.from_wire(rdclass, rdtype, rdata, 0, len(rdata)).to_text()
    except Exception:
        return rdata.hex()


def ecs_option(address, srclen, scopelen=0):
    """(code, payload) of an ECS option as a Reply holds it."""
    return (ECS, dns.edns.ECSOption(address, srclen, scopelen).to_wire())


class Reply:
    """What the tests compare of a reply (see above). Build it with Reply.of(msg) or by
    hand, and change fields with replace()."""

    FIELDS = ("id", "opcode", "flags", "rcode", "question", "answer", "authority",
              "additional", "opt")

    def __init__(self, **kw):
        for f in self.FIELDS:
            setattr(self, f, kw.get(f))

    def replace(self, **kw):
        d = {f: getattr(self, f) for f in self.FIELDS}
        d.update(kw)
        return Reply(**d)

    @classmethod
    def of(cls, msg, nsid=None):
        """From a parse()d message; `nsid` is the answering server's own NSID."""
        if msg is None:
            return None
        # Every record its own RRset, in wire order: duplicates and order survive.
        opcode = opcode_of(msg)
        msg = dns.message.from_wire(msg.parsed_wire, one_rr_per_rrset=True)
        question = tuple((r.name.to_text(), r.rdtype, r.rdclass) for r in msg.question)
        sections = {}
        for sec in ("answer", "authority", "additional"):
            sets = []
            for rrset in getattr(msg, sec):
                for rd in rrset:
                    rec = (rrset.name.to_text(), rrset.ttl, rd.to_digestable(dns.name.root))
                    key = (rrset.name.to_text().lower(), rrset.rdtype, rrset.rdclass)
                    if sets and (sets[-1][0].lower(), sets[-1][1], sets[-1][2]) == key:
                        sets[-1][3].append(rec)
                    else:
                        sets.append((rrset.name.to_text(), rrset.rdtype, rrset.rdclass, [rec]))
            sections[sec] = tuple(RRset(o, t, c, tuple(sorted(recs))) for o, t, c, recs in sets)
        opt = None
        if msg.edns >= 0:
            options = []
            for o in msg.options:
                if o.otype == EDE:
                    continue
                payload = o.to_wire()
                if o.otype == NSID and nsid is not None and payload == nsid:
                    payload = OWN_NSID
                options.append((int(o.otype), payload))
            opt = Opt(msg.edns, bool(msg.ednsflags & dns.flags.DO), msg.payload,
                      tuple(sorted(options)))
        return cls(id=msg.id, opcode=opcode, flags=msg.flags & FLAG_MASK,
                   rcode=msg.rcode(), question=question, opt=opt, **sections)

    @classmethod
    def to_query(cls, query, rcode, flags=dns.flags.QR, question=None, opt="echo"):
        """The reply a query should get when no reference server gives one: `flags` plus
        the query's RD, the query's question unless `question` says otherwise, no records,
        and (opt="echo") an OPT with payload 1232 and no options if the query had one."""
        if opt == "echo":
            opt = Opt(0, False, 1232, ()) if query.edns >= 0 else None
        q = tuple((r.name.to_text(), r.rdtype, r.rdclass) for r in query.question)
        return cls(id=query.id, opcode=opcode_of(query), flags=flags | (query.flags & dns.flags.RD),
                   rcode=rcode, question=q if question is None else question, answer=(),
                   authority=(), additional=(), opt=opt)

    def counts(self):
        return "an=%d ns=%d ar=%d" % tuple(sum(len(s.records) for s in getattr(self, sec))
                                           for sec in ("answer", "authority", "additional"))


def rrset_text(rrset):
    recs = ["%s %d %s %s %s" % (owner, ttl, dns.rdataclass.to_text(rrset.rdclass),
                                dns.rdatatype.to_text(rrset.rdtype),
                                _rdata_text(rrset.rdclass, rrset.rdtype, rdata))
            for owner, ttl, rdata in rrset.records]
    return " | ".join(recs)


def _diff_section(name, exp, got):
    errs = []
    if len(exp) != len(got):
        errs.append("%s: %d RRsets, expected %d" % (name, len(got), len(exp)))
    for k in range(max(len(exp), len(got))):
        e = exp[k] if k < len(exp) else None
        g = got[k] if k < len(got) else None
        if e == g:
            continue
        errs.append("%s RRset %d: expected %s" % (name, k + 1, rrset_text(e) if e else "none"))
        errs.append("%s RRset %d:      got %s" % (name, k + 1, rrset_text(g) if g else "none"))
    return errs


def _opt_text(opt):
    if opt is None:
        return "no OPT"
    return "EDNS%d%s payload %d options %s" % (opt.version, " DO" if opt.do else "", opt.payload,
                                              [(c, p.hex() if p != OWN_NSID else p.decode())
                                               for c, p in opt.options])


def diff_replies(exp, got, skip=()):
    """Errors between two Replies, field by field; `skip` names fields judged elsewhere
    (e.g. "answer" for RFC 8482 ANY)."""
    errs = []
    if exp.id != got.id:
        errs.append("id %s, expected %s" % (got.id, exp.id))
    if exp.opcode != got.opcode:
        errs.append("opcode %s, expected %s" % (got.opcode, exp.opcode))
    if exp.rcode != got.rcode:
        errs.append("rcode %s, expected %s" % (dns.rcode.to_text(got.rcode),
                                               dns.rcode.to_text(exp.rcode)))
    if exp.flags != got.flags:
        errs.append("flags [%s], expected [%s]" % (flag_text(got.flags), flag_text(exp.flags)))
    if exp.question != got.question:
        errs.append("question %s, expected %s (exactly, case included)"
                    % (list(got.question) or "none", list(exp.question) or "none"))
    for sec in ("answer", "authority", "additional"):
        if sec not in skip:
            errs += _diff_section(sec, getattr(exp, sec), getattr(got, sec))
    if "opt" not in skip and exp.opt != got.opt:
        errs.append("OPT: %s, expected %s" % (_opt_text(got.opt), _opt_text(exp.opt)))
    return errs


def summary(msg):
    if msg is None:
        return "no response"
    r = Reply.of(msg)
    return "%s %s %s %s%s" % (rcode_text(msg), flag_text(msg.flags), r.counts(),
                              _opt_text(r.opt), "" if r.question else " (no question)")


def check_question(query, resp, expected=None):
    """Problems with the echoed id, opcode and question. The question must be the
    query's, exactly (case preserved, RFC 4343), or `expected` (a list of (name text,
    rdtype, rdclass)) where the reply must differ, e.g. [] for a FORMERR to a message
    whose question could not be read. A reply without a question fails."""
    errs = []
    if resp.id != query.id:
        errs.append("id %d != query id %d" % (resp.id, query.id))
    if opcode_of(resp) != opcode_of(query):
        errs.append("opcode %d != query opcode %d" % (opcode_of(resp), opcode_of(query)))
    want = [(r.name.to_text(), r.rdtype, r.rdclass) for r in query.question] \
        if expected is None else list(expected)
    got = [(r.name.to_text(), r.rdtype, r.rdclass) for r in resp.question]
    if got != want:
        errs.append("question %s, expected %s (exactly, case included)"
                    % (got or "none", want or "none"))
    return errs


# ----------------------------------------------------------------------------
# Results


class Results:
    """Counts checks, prints one line per failure, and the summary line."""

    def __init__(self, verbose=False):
        self.passed = 0
        self.failed = 0
        self.verbose = verbose

    def check(self, label, errors):
        if errors:
            self.failed += 1
            print("FAIL %s" % label)
            for e in errors:
                print("     %s" % e)
        else:
            self.passed += 1
            if self.verbose:
                print("ok   %s" % label)
        sys.stdout.flush()
        return not errors

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.stdout.flush()
        return 1 if self.failed else 0


def seeded_random(seed):
    return random.Random(seed)


def wait_for(predicate, timeout=15.0, step=0.05):
    """Polls predicate every `step` s until it is true (returns True) or the deadline passes
    (returns False): bounded, for states a test cannot be told about."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False



# ----------------------------------------------------------------------------
# meridiand's HTTP listener (server.http_listen): /metrics, /status, /status.json

def http_get(port, path, addr=V4, timeout=REPLY_TIMEOUT * 5):
    """(status, body text) of GET http://addr:port/path, or (None, why)."""
    import http.client
    try:
        conn = http.client.HTTPConnection(addr, port, timeout=timeout)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        conn.close()
        return resp.status, body
    except OSError as e:
        return None, str(e)


_PROM_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def prom_samples(text):
    """{(name, frozenset of (label, value))): value} of a Prometheus text exposition; label
    values unescaped."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        name, _, labels = head.partition("{")
        pairs = []
        for k, v in _PROM_LABEL.findall(labels):
            v = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)
            pairs.append((k, v))
        out[(name, frozenset(pairs))] = float(value)
    return out


def prom_value(samples, name, **labels):
    """The sample's value, 0 when absent."""
    return samples.get((name, frozenset(labels.items())), 0.0)
