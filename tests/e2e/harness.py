# SPDX-License-Identifier: MIT
"""Shared end-to-end harness for Meridian (STYLE.md, Tests).

Starts and stops servers by pid (meridiand, knotd) in a private temp
directory, picks free loopback ports by binding, waits for readiness by
polling a query against a deadline (never a bare sleep), sends DNS messages
and raw bytes over UDP and TCP, and compares two responses RRset by RRset.

Network safety: every address used here is 127.0.0.1 or ::1; every loop is
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
import errno  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
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

V4 = "127.0.0.1"
V6 = "::1"
E2E_DIR = os.path.dirname(os.path.abspath(__file__))

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


def free_port(attempts=64):
    """A port free for UDP and TCP on both 127.0.0.1 and ::1.

    The kernel picks an ephemeral TCP port; we then hold it on every
    family/protocol pair we will listen on. Another process may still take it
    between our close and the server's bind; tests that start servers retry."""
    for _ in range(attempts):
        held = []
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(s)
            s.bind((V4, 0))
            port = s.getsockname()[1]
            for fam, addr in ((socket.AF_INET, V4), (socket.AF_INET6, V6)):
                for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    if fam == socket.AF_INET and typ == socket.SOCK_STREAM:
                        continue
                    t = socket.socket(fam, typ)
                    held.append(t)
                    t.bind((addr, port))
            return port
        except OSError as e:
            if e.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                raise
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no free loopback port after %d attempts" % attempts)


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
    """dns.message or None when the bytes do not parse.

    dnspython rejects opcodes it has no name for (3, 7-15); such a reply is
    parsed with the opcode bits cleared. opcode_of() gives the real one."""
    if wire is None:
        return None
    op = (wire[2] >> 3) & 0xF if len(wire) > 2 else 0
    if op not in (0, 1, 2, 4, 5):
        wire = wire[:2] + bytes([wire[2] & 0x87]) + wire[3:]
    try:
        msg = dns.message.from_wire(wire)
    except Exception:  # any dnspython parse error: caller reports it
        return None
    msg.wire_opcode = op
    return msg


def opcode_of(msg):
    """The opcode as an int, also for opcodes dnspython cannot name."""
    return getattr(msg, "wire_opcode", (msg.flags >> 11) & 0xF)


# ----------------------------------------------------------------------------
# Servers


class Server:
    """A child process we started; stopped by its own pid only."""

    name = "server"

    def __init__(self, workdir, port):
        self.workdir = workdir
        self.port = port
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

    def wait_ready(self, qname, timeout=15.0, addr=V4):
        """Poll a SOA query until any DNS reply arrives, the process dies, or
        the deadline passes. Each poll waits at most 0.2 s for its reply."""
        q = dns.message.make_query(qname, "SOA")
        wire = q.to_wire()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("%s exited with %s before it was ready:\n%s"
                                   % (self.name, self.proc.returncode, self.log_tail()))
            reply = udp_exchange(wire, self.port, addr, timeout=0.2)
            if reply is not None and parse(reply) is not None:
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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class Meridiand(Server):
    name = "meridiand"

    def __init__(self, binary, workdir, port, config_path):
        super().__init__(workdir, port)
        self.binary = binary
        self.config_path = config_path

    def command(self):
        return [self.binary, "-c", self.config_path]


class Knotd(Server):
    name = "knotd"

    def __init__(self, binary, workdir, port, config_path):
        super().__init__(workdir, port)
        self.binary = binary
        self.config_path = config_path

    def command(self):
        return [self.binary, "-c", self.config_path]


def _yaml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_meridian_config(path, port, zones, identity=None, version=None, nsid=None,
                          hide_identity=False, hide_version=False, workers=2,
                          udp_max_size=1232, tcp_idle_timeout="10s", extra_server=None):
    """A meridiand YAML config. zones: list of (origin, absolute zone path)."""
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
    if nsid is not None:
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


def write_knot_config(path, workdir, port, zones, identity=None, version=None, nsid=None,
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
    if nsid is not None:
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


def start_with_free_port(make_server, ready_name, attempts=5):
    """Start make_server(port) on a fresh free port, retrying when the port was
    taken between free_port() and the server's bind."""
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
    raise RuntimeError(str(last))


# ----------------------------------------------------------------------------
# Comparing responses


FLAG_BITS = (("QR", dns.flags.QR), ("AA", dns.flags.AA), ("TC", dns.flags.TC),
             ("RD", dns.flags.RD), ("RA", dns.flags.RA), ("AD", dns.flags.AD),
             ("CD", dns.flags.CD))
EDE = 15  # RFC 8914: presence is the server's choice ("where they help")
NSID = dns.edns.NSID
ECS = dns.edns.ECS


def flag_text(flags):
    return " ".join(n for n, b in FLAG_BITS if flags & b) or "-"


def rcode_text(msg):
    return dns.rcode.to_text(msg.rcode())


def rrset_rows(section):
    """A section as a set of (owner lowercased, type, class, ttl, rdata).

    Owner names are lowercased because 0x20 queries make wildcard and
    DNAME-synthesised owners follow the question's case (RFC 4343 allows it);
    rdata is compared in its canonical (RFC 4034 §6.2) form."""
    rows = set()
    for rrset in section:
        owner = rrset.name.to_text().lower()
        for rd in rrset:
            rows.add((owner, rrset.rdtype, rrset.rdclass, rrset.ttl,
                      rd.to_digestable(dns.name.root)))
    return rows


def row_text(row):
    owner, rdtype, rdclass, ttl, rdata = row
    try:
        rd = dns.rdata.from_wire(rdclass, rdtype, rdata, 0, len(rdata))
        text = rd.to_text()
    except Exception:
        text = rdata.hex()
    return "%s %d %s %s %s" % (owner, ttl, dns.rdataclass.to_text(rdclass),
                               dns.rdatatype.to_text(rdtype), text)


def opt_codes(msg):
    return {o.otype for o in msg.options} if msg.edns >= 0 else set()


def opt_value(msg, code):
    for o in msg.options if msg.edns >= 0 else ():
        if o.otype == code:
            return o
    return None


def summary(msg):
    if msg is None:
        return "no response"
    parts = [rcode_text(msg), flag_text(msg.flags),
             "an=%d ns=%d ar=%d" % (len(rrset_rows(msg.answer)), len(rrset_rows(msg.authority)),
                                    len(rrset_rows(msg.additional)))]
    if msg.edns >= 0:
        parts.append("edns%d payload=%d opts=%s" % (msg.edns, msg.payload,
                                                     sorted(opt_codes(msg))))
    return " ".join(parts)


def check_question(query, resp):
    """Problems with the echoed id/opcode/question (case preserved, RFC 4343)."""
    errs = []
    if resp.id != query.id:
        errs.append("id %d != query id %d" % (resp.id, query.id))
    if opcode_of(resp) != opcode_of(query):
        errs.append("opcode %d != query opcode %d" % (opcode_of(resp), opcode_of(query)))
    if resp.question:
        if len(resp.question) != len(query.question):
            errs.append("question count %d != %d" % (len(resp.question), len(query.question)))
        else:
            for a, b in zip(resp.question, query.question):
                if a.name.to_text() != b.name.to_text() or a.rdtype != b.rdtype or \
                        a.rdclass != b.rdclass:
                    errs.append("question %s != asked %s (case must be preserved)"
                                % (a.to_text(), b.to_text()))
    return errs


def diff_headers(exp, got, flags=True, ignore=0):
    """rcode and the flags QR AA TC RD RA AD CD, less those in `ignore`."""
    errs = []
    if exp.rcode() != got.rcode():
        errs.append("rcode: expected %s got %s" % (rcode_text(exp), rcode_text(got)))
    if flags:
        mask = 0
        for _, b in FLAG_BITS:
            mask |= b
        mask &= ~ignore
        if (exp.flags & mask) != (got.flags & mask):
            errs.append("flags: expected [%s] got [%s]" % (flag_text(exp.flags),
                                                          flag_text(got.flags)))
    return errs


def diff_edns(exp, got, compare_payload=True):
    """OPT presence, version, DO, payload, NSID value; EDE ignored; ECS checked
    by the caller where it matters."""
    errs = []
    if (exp.edns >= 0) != (got.edns >= 0):
        errs.append("OPT: expected %s got %s" % ("present" if exp.edns >= 0 else "absent",
                                                 "present" if got.edns >= 0 else "absent"))
        return errs
    if exp.edns < 0:
        return errs
    if exp.edns != got.edns:
        errs.append("EDNS version: expected %d got %d" % (exp.edns, got.edns))
    if (exp.ednsflags & dns.flags.DO) != (got.ednsflags & dns.flags.DO):
        errs.append("DO bit differs")
    if compare_payload and exp.payload != got.payload:
        errs.append("EDNS payload: expected %d got %d" % (exp.payload, got.payload))
    ignore = {EDE, ECS}
    ec, gc = opt_codes(exp) - ignore, opt_codes(got) - ignore
    if ec != gc:
        errs.append("EDNS options: expected %s got %s" % (sorted(ec), sorted(gc)))
    e, g = opt_value(exp, NSID), opt_value(got, NSID)
    if e is not None and g is not None and e.to_wire() != g.to_wire():
        errs.append("NSID: expected %r got %r" % (e.to_wire(), g.to_wire()))
    return errs


def diff_sections(exp, got, sections=("answer", "authority", "additional")):
    errs = []
    for sec in sections:
        e, g = rrset_rows(getattr(exp, sec)), rrset_rows(getattr(got, sec))
        for row in sorted(e - g):
            errs.append("%s missing: %s" % (sec, row_text(row)))
        for row in sorted(g - e):
            errs.append("%s extra:   %s" % (sec, row_text(row)))
    return errs


def diff_full(exp, got, ignore_flags=0):
    return (diff_headers(exp, got, ignore=ignore_flags) + diff_edns(exp, got)
            + diff_sections(exp, got))


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
