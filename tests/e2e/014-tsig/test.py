#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 014: TSIG (RFC 8945) on queries to a running meridiand, checked with dig and dnspython.

* The right key (hmac-sha256 from a secret_file, hmac-sha384 and hmac-sha512 inline), over
  UDP and TCP: `dig -y` gets the answer and verifies the signed response (no "could not be
  validated", a TSIG pseudosection with NOERROR).
* An unknown key (`dig -y` with another name, and the way ISC's genreport asks: an
  hmac-md5 key nobody configured): NOTAUTH with TSIG error BADKEY, no answer.
* A wrong secret: NOTAUTH/BADSIG. A client clock 1000 s off (dnspython signs at that time):
  NOTAUTH/BADTIME, which dnspython reads as PeerBadTime, with the server's time in Other Data.
* A reload that changes the secret file: the old secret is BADSIG at once, the new one works.
* `meridiand -n` refuses a secret file readable by others, naming the config's file:line.
* As root with `server.user: nobody`: a secret file only root can read stops the start (a
  reload, run as nobody, could not read it), naming the key's line; given to nobody, the
  server starts and answers signed queries. Without root these say SKIP.
"""

import base64
import os
import pwd
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.message  # noqa: E402
import dns.rcode  # noqa: E402
import dns.tsig  # noqa: E402

ORIGIN = "tsig.test"
ZONE = h.small_zone(ORIGIN, "www A 192.0.2.80")
NSID = h.new_nsid("tsig")
SECRET = base64.b64encode(b"e2e-tsig-secret-0123456789abcdef").decode()
NEW_SECRET = base64.b64encode(b"e2e-tsig-secret-after-the-reload").decode()
KEYS = [("hmac-sha256", "xfr-key"), ("hmac-sha384", "k384.example"),
        ("hmac-sha512", "k512")]
CONFIG_LINE_OF_SECRET_FILE = 10  # see write_config
CONFIG_LINE_OF_KEY = 8


def write_config(path, port, tmp, user=None):
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  user: %s" % user if user else "  log_level: info",
             "  workers: 1",
             '  nsid: "%s"' % NSID,
             "  control_socket: %s" % tmp.join("ctl.sock"),
             "tsig_keys:",
             "  xfr-key:",
             "    algorithm: hmac-sha256",
             "    secret_file: xfr-key.secret",
             "  k384.example: { algorithm: hmac-sha384, secret: \"%s\" }" % SECRET,
             "  k512: { algorithm: hmac-sha512, secret: \"%s\" }" % SECRET,
             "zones:",
             "  - origin: " + ORIGIN,
             "    file: tsig.test.zone"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_secret(tmp, secret, mode=0o600):
    path = tmp.join("xfr-key.secret")
    with open(path, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, mode)


def dig(digbin, port, key, *opts):
    cmd = [digbin, "@%s" % h.V4, "-p", str(port), "+time=%d" % max(2, int(h.REPLY_TIMEOUT)),
           "+tries=1", "www.%s" % ORIGIN, "A", "-y", key] + list(opts)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    return p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def tsig_line(out):
    """The TSIG pseudosection's record line of dig's output, or ""."""
    m = re.search(r";; TSIG PSEUDOSECTION:\n(.*)\n", out)
    return m.group(1) if m else ""


def check_dig(results, digbin, port):
    for alg, name in KEYS:
        for transport in ([], ["+tcp"]):
            out = dig(digbin, port, "%s:%s:%s" % (alg, name, SECRET), *transport)
            label = "%s %s right key" % (alg, "TCP" if transport else "UDP")
            errs = []
            if "status: NOERROR" not in out or "192.0.2.80" not in out:
                errs.append("no answer")
            # dig verifies a signed response and complains when it cannot.
            if "could not be validated" in out or "Couldn't verify" in out:
                errs.append("dig could not verify the response")
            # The MAC in base64, which dig splits with blanks.
            line = tsig_line(out)
            if not re.search(r"TSIG\s+%s\. \d+ 300 \d+ [^\n]+ \d+ NOERROR 0" % alg, line):
                errs.append("TSIG line: %r" % line)
            results.check(label, errs and errs + [out])
    for label, key, error in (
            ("unknown key", "hmac-sha256:nokey:%s" % SECRET, "BADKEY"),
            ("known name, other algorithm", "hmac-sha512:xfr-key:%s" % SECRET, "BADKEY"),
            ("wrong secret", "hmac-sha256:xfr-key:%s" % NEW_SECRET, "BADSIG")):
        out = dig(digbin, port, key)
        errs = []
        if "status: NOTAUTH" not in out or "192.0.2.80" in out:
            errs.append("not NOTAUTH without answer")
        # §5.3.2: unsigned (MAC size 0), the key name echoed.
        if not re.search(r"TSIG\s+hmac-sha\d+\. \d+ 300 0 \d+ %s 0" % error, tsig_line(out)):
            errs.append("TSIG line: %r" % tsig_line(out))
        results.check("dig: %s -> NOTAUTH/%s" % (label, error), errs and errs + [out])


def check_dnspython(results, port):
    # ISC's genreport asks with a key nobody configured; hmac-md5 is not even ours.
    key = dns.tsig.Key("genreport.example.", base64.b64encode(b"x" * 16).decode(),
                       dns.tsig.HMAC_MD5)
    q = dns.message.make_query("www." + ORIGIN, "SOA")
    q.use_tsig(key)
    wire = h.udp_exchange(q.to_wire(), port)
    errs = []
    if wire is None:
        errs.append("no reply")
    else:
        rcode, rd = h.reply_tsig(wire)
        if rcode != dns.rcode.NOTAUTH or rd is None or rd.error != dns.rcode.BADKEY or rd.mac:
            errs.append("rcode %s, TSIG %s" % (rcode, rd))
        elif rd.original_id != q.id or rd.algorithm != dns.tsig.HMAC_MD5:
            errs.append("TSIG not echoing the query's: %s" % rd)
    results.check("genreport-style unknown hmac-md5 key -> NOTAUTH/BADKEY", errs)

    # BADTIME: dnspython signs 1000 s in the past (its clock is time.time()).
    key = dns.tsig.Key("xfr-key", SECRET, dns.tsig.HMAC_SHA256)
    q = dns.message.make_query("www." + ORIGIN, "A")
    q.use_tsig(key)
    qwire = h.wire_signed_at(q, -1000)
    wire = h.udp_exchange(qwire, port)
    errs = []
    if wire is None:
        errs.append("no reply")
    else:
        try:
            dns.message.from_wire(wire, keyring={key.name: key}, request_mac=q.mac)
            errs.append("dnspython saw no error")
        except dns.tsig.PeerBadTime:
            pass
        rcode, rd = h.reply_tsig(wire)
        if rcode != dns.rcode.NOTAUTH or rd is None or rd.error != dns.rcode.BADTIME:
            errs.append("rcode %s, TSIG %s" % (rcode, rd))
        else:
            server_time = int.from_bytes(rd.other, "big") if len(rd.other) == 6 else -1
            if abs(server_time - time.time()) > 5:
                errs.append("Other Data %r is not the server's time" % rd.other)
            if rd.time_signed != q.tsig[0].time_signed or len(rd.mac) != 32:
                errs.append("not signed with the client's time: %s" % rd)
    results.check("clock 1000 s off -> NOTAUTH/BADTIME signed, server time in Other Data", errs)

    # The right key through dnspython too: it verifies our signature.
    q = dns.message.make_query("www." + ORIGIN, "A")
    q.use_tsig(key)
    wire = h.tcp_exchange(q.to_wire(), port)
    errs = []
    try:
        r = dns.message.from_wire(wire, keyring={key.name: key}, request_mac=q.mac)
        if not r.had_tsig or "192.0.2.80" not in r.to_text():
            errs.append("unsigned or no answer")
    except Exception as e:  # noqa: BLE001
        errs.append(repr(e))
    results.check("dnspython verifies the signed answer", errs)


def check_reload(results, digbin, port, tmp):
    write_secret(tmp, NEW_SECRET)
    code, text = h.control(tmp.join("ctl.sock"), "reload")
    results.check("reload with a new secret", [] if code == 0 else [text])
    old = dig(digbin, port, "hmac-sha256:xfr-key:%s" % SECRET)
    new = dig(digbin, port, "hmac-sha256:xfr-key:%s" % NEW_SECRET)
    errs = []
    if "BADSIG" not in tsig_line(old):
        errs.append("old secret: " + tsig_line(old))
    if "status: NOERROR" not in new or "could not be validated" in new:
        errs.append("new secret: " + new)
    results.check("after the reload: old secret BADSIG, new secret answered", errs)


def check_permissions(results, meridiand, tmp):
    write_secret(tmp, SECRET, 0o644)
    p = subprocess.run([meridiand, "-n", "-c", tmp.join("meridian.yaml")],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    err = p.stderr.decode("utf-8", "replace") + p.stdout.decode("utf-8", "replace")
    want = "meridian.yaml:%d: tsig_keys: xfr-key: secret_file '%s' has permissions 0644" % (
        CONFIG_LINE_OF_SECRET_FILE, tmp.join("xfr-key.secret"))
    results.check("meridiand -n refuses a secret file others can read",
                  [] if p.returncode != 0 and want in err else [p.returncode, err])
    write_secret(tmp, SECRET)


def check_privdrop(results, args, digbin, tmp):
    if os.geteuid() != 0:
        print("SKIP: secret files and server.user: need root to switch users")
        return
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        print("SKIP: secret files and server.user: no user nobody")
        return
    os.chmod(tmp.path, 0o711)  # nobody may reach the secret file, not list the directory
    config = tmp.join("meridian.yaml")
    secret = tmp.join("xfr-key.secret")
    write_secret(tmp, SECRET)  # root's, 0600
    port = h.free_port()
    write_config(config, port, tmp, user="nobody")
    try:  # run() kills it if it does not stop by itself
        p = subprocess.run([args.meridiand, "-c", config], cwd=tmp.path,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=h.scaled(20))
        code, err = p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        code, err = None, "meridiand started and kept running"
    want = ("meridian.yaml:%d: tsig_keys: xfr-key: secret_file %s is not readable by uid %d"
            % (CONFIG_LINE_OF_KEY, secret, nobody.pw_uid))
    results.check("user nobody: a secret only root can read stops the start",
                  [] if code and want in err else [code, err])

    os.chown(secret, nobody.pw_uid, nobody.pw_gid)

    def make(port):
        write_config(config, port, tmp, user="nobody")
        return h.Meridiand(args.meridiand, tmp.path, port, config, NSID, addrs=(h.V4,))

    server = h.start_with_free_port(make, ORIGIN)
    try:
        out = dig(digbin, server.port, "hmac-sha256:xfr-key:%s" % SECRET)
        ok = "status: NOERROR" in out and "could not be validated" not in out
        results.check("user nobody owning the secret file: started, signed answer",
                      [] if ok else [out])
    finally:
        server.stop()
    write_secret(tmp, SECRET)


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    digbin = h.find_tool("dig")
    if not digbin:
        h.skip("dig not found (Debian dnsutils / bind9-dnsutils)")
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        with open(tmp.join("tsig.test.zone"), "w") as f:
            f.write(ZONE)
        write_secret(tmp, SECRET)
        config = tmp.join("meridian.yaml")

        def make(port):
            write_config(config, port, tmp)
            return h.Meridiand(args.meridiand, tmp.path, port, config, NSID, addrs=(h.V4,))

        server = h.start_with_free_port(make, ORIGIN)
        try:
            check_dig(results, digbin, server.port)
            check_dnspython(results, server.port)
            check_reload(results, digbin, server.port, tmp)
            results.check("server alive", [] if server.alive() else [server.log_tail()])
        finally:
            server.stop()
        check_permissions(results, args.meridiand, tmp)
        check_privdrop(results, args, digbin, tmp)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
