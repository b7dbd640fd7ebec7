#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 013: the operator side of DNSSEC (issue 11), against the real meridiand.

* DS for the parent: `meridianctl dnssec ds ZONE all` and the offline `meridiand -c CONFIG
  --dnssec-ds ZONE all` print the same lines; the DS digests (2 and 4) are dnspython's
  make_ds of the DNSKEY the server serves; unknown and unsigned zones are errors (exit 1).
* `meridianctl status` shows each signed zone's earliest signature expiration (UTC and
  "in Nd Nh"), no earlier than any RRSIG served, its key and roles, and no ALARM.
* Background re-signing: with validity 1h and refresh 3590s the RRSIG of www.resign.test
  gets a later inception and expiration within seconds, with no reload sent, every answer
  validating (dnspython) meanwhile.
* A CSK rollover with tiny timings (TTLs 1 s, propagation delays 1-4 s, parent DS TTL 1 s):
  dig sees the DNSKEY set go old -> old+new -> (the zone's signer switches to the new key,
  CDS names it) -> new, never back; every answer on the way (DNSKEY, A, SOA, the NSEC3
  proof of an NXDOMAIN) validates with the DNSKEY set served at that moment, and that set
  is signed by the key the simulated parent's DS names (old until `ds-seen`, then new). A
  restart in the middle of the rollover continues it; `ds-seen` is refused before the CDS
  names the new key; the old key's files end in keys/retired/.
* A re-signing reload that fails keeps the old zone serving, is counted in `status`, and
  `status` raises the ALARM.
"""

import calendar
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.dnssec  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdata  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402

NSID = h.new_nsid("dnssec-ops")
ROLL = "roll.test"
RESIGN = "resign.test"
PLAIN = "plain.test"
UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def zone_text(origin, ttl):
    return ("$ORIGIN %s.\n$TTL %d\n@ SOA ns1 hostmaster 1 7200 3600 1209600 %d\n@ NS ns1\n"
            "ns1 A 192.0.2.1\nwww A 192.0.2.80\n" % (origin, ttl, ttl))


def write_config(path, port, tmp):
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: 1",
             '  nsid: "%s"' % NSID,
             "  control_socket: %s" % tmp.join("ctl.sock"),
             "  key_directory: %s" % tmp.join("keys"),
             "zones:",
             "  - origin: %s" % ROLL,
             "    file: %s.zone" % ROLL,
             # Ipub = 4 s + TTL 1 s: room for a restart inside phase publish.
             "    dnssec: { propagation_delay: 4s, parent_propagation_delay: 1s, "
             "parent_ds_ttl: 1s }",
             "  - origin: %s" % RESIGN,
             "    file: %s.zone" % RESIGN,
             "    dnssec: { validity: 1h, refresh: 3590s }",
             "  - origin: %s" % PLAIN,
             "    file: %s.zone" % PLAIN]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def run(cmd, timeout=60):
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "timeout"
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class Ops:
    """The server under test, its tools and its simulated parent."""

    def __init__(self, args, tmp, ctl, dig):
        self.args, self.tmp, self.ctl, self.dig = args, tmp, ctl, dig
        self.config = tmp.join("meridian.yaml")
        self.sock = tmp.join("ctl.sock")
        self.server = None
        self.sighups = 0  # never incremented: the test sends no reload

    def start(self, port=None):
        def make(p):
            write_config(self.config, p, self.tmp)
            return h.Meridiand(self.args.meridiand, self.tmp.path, p, self.config, NSID,
                               addrs=(h.V4,))
        if port is None:
            self.server = h.start_with_free_port(make, ROLL)
        else:
            self.server = make(port).start()
            self.server.wait_ready(ROLL, timeout=h.scaled(15))

    def ctl_run(self, *words):
        return run([self.ctl, "-s", self.sock] + list(words))

    def query(self, name, rdtype):
        q = dns.message.make_query(name, rdtype, want_dnssec=True)
        return dns.query.tcp(q, h.V4, port=self.server.port, timeout=h.REPLY_TIMEOUT)

    def dig_key_tags(self, zone):
        """The key tags of zone's DNSKEY set, as dig reports them ("key id = N")."""
        rc, out, err = run([self.dig, "+norec", "+multi", "+noall", "+answer", "+tcp",
                            "-p", str(self.server.port), "@" + h.V4, zone, "DNSKEY"])
        if rc != 0:
            raise RuntimeError("dig failed: %s %s" % (out, err))
        return frozenset(int(t) for t in re.findall(r"key id = (\d+)", out))


def sigs_for(msg_section, rrset):
    for r in msg_section:
        if r.rdtype == dns.rdatatype.RRSIG and r.name == rrset.name and \
                r.covers == rrset.rdtype:
            return r
    return None


def check_signed(section, keys, errs, what):
    """Every RRset of section has an RRSIG RRset that validates with keys; returns the key
    tags that signed (validly) the RRsets, per RRset type."""
    signers = {}
    for rrset in section:
        if rrset.rdtype == dns.rdatatype.RRSIG:
            continue
        sigs = sigs_for(section, rrset)
        if sigs is None:
            errs.append("%s: %s %s has no RRSIG" % (what, rrset.name,
                                                    dns.rdatatype.to_text(rrset.rdtype)))
            continue
        good = set()
        for sig in sigs:
            try:
                dns.dnssec.validate_rrsig(rrset, sig, keys)
                good.add(sig.key_tag)
            except dns.dnssec.ValidationFailure as e:
                errs.append("%s: %s %s: RRSIG by %d does not validate: %s"
                            % (what, rrset.name, dns.rdatatype.to_text(rrset.rdtype),
                               sig.key_tag, e))
        signers[rrset.rdtype] = good
    return signers


def snapshot(ops, zone, parent_ds, errs):
    """One look at zone as a validator would take it: the DNSKEY set, which must be signed by
    the key parent_ds names; then A, SOA and an NXDOMAIN, validated with that DNSKEY set.
    Returns (DNSKEY tags, tags signing www A, tags in CDS)."""
    origin = dns.name.from_text(zone)
    m = ops.query(zone, "DNSKEY")
    dnskey = m.find_rrset(m.answer, origin, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    keys = {origin: dnskey}
    signers = check_signed(m.answer, keys, errs, "%s DNSKEY" % zone)
    by_tag = {dns.dnssec.key_id(k): k for k in dnskey}
    chain = False
    for ds in parent_ds:
        k = by_tag.get(ds.key_tag)
        if k is not None and dns.dnssec.make_ds(origin, k, ds.digest_type) == ds and \
                ds.key_tag in signers.get(dns.rdatatype.DNSKEY, ()):
            chain = True
    if not chain:
        errs.append("%s: the DNSKEY set (keys %s, signed by %s) is not signed by the key of "
                    "the parent's DS %s" % (zone, sorted(by_tag),
                                            sorted(signers.get(dns.rdatatype.DNSKEY, ())),
                                            [d.key_tag for d in parent_ds]))
    a = ops.query("www." + zone, "A")
    www = check_signed(a.answer, keys, errs, "www.%s A" % zone)
    check_signed(ops.query(zone, "SOA").answer, keys, errs, "%s SOA" % zone)
    nx = ops.query("nx." + zone, "A")
    if nx.rcode() != dns.rcode.NXDOMAIN or not any(
            r.rdtype == dns.rdatatype.NSEC3 for r in nx.authority):
        errs.append("nx.%s: not an NXDOMAIN with NSEC3: %s" % (zone, h.summary(nx)))
    check_signed(nx.authority, keys, errs, "nx.%s A" % zone)
    cds = ops.query(zone, "CDS")
    cds_tags = {r.key_tag for rr in cds.answer if rr.rdtype == dns.rdatatype.CDS for r in rr}
    return (frozenset(by_tag), frozenset(www.get(dns.rdatatype.A, ())), frozenset(cds_tags))


def parse_ds_lines(text):
    ds = []
    for line in text.splitlines():
        f = line.split(None, 4)
        if len(f) == 5 and f[3] == "DS":
            ds.append(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, f[4]))
    return ds


def check_ds(results, ops):
    rc, ctl_out, err = ops.ctl_run("dnssec", "ds", ROLL, "all")
    results.check("meridianctl dnssec ds %s all: ok (exit %s)" % (ROLL, rc),
                  [] if rc == 0 and ctl_out.startswith("ok\n") else [ctl_out + err])
    rc, off_out, err = run([ops.args.meridiand, "-c", ops.config, "--dnssec-ds", ROLL, "all"])
    results.check("meridiand --dnssec-ds %s all prints what meridianctl does" % ROLL,
                  [] if rc == 0 and off_out == ctl_out[3:] and off_out else
                  ["exit %s\nmeridiand:\n%s%s\nmeridianctl:\n%s" % (rc, off_out, err,
                                                                   ctl_out[3:])])
    lines = ctl_out[3:].splitlines()
    errs = []
    origin = dns.name.from_text(ROLL)
    m = ops.query(ROLL, "DNSKEY")
    served = m.find_rrset(m.answer, origin, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    sep = [k for k in served if k.flags & 1]
    if len(sep) != 1 or len(lines) != 4:
        errs.append("expected one SEP key and 4 lines (DS 2, DS 4, DNSKEY, CDNSKEY):\n%s"
                    % ctl_out)
    else:
        want = [dns.dnssec.make_ds(origin, sep[0], d).to_text() for d in ("SHA256", "SHA384")]
        ds = parse_ds_lines(ctl_out)
        for i, d in enumerate(("SHA256", "SHA384")):
            if ds[i] != dns.dnssec.make_ds(origin, sep[0], d):
                errs.append("DS %s: %s, dnspython: %s" % (d, lines[i], want[i]))
        key_text = sep[0].to_text()
        for i, t in ((2, "DNSKEY"), (3, "CDNSKEY")):
            rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                     lines[i].split(None, 4)[4])
            if not lines[i].startswith("%s. 1 IN %s " % (ROLL, t)) or rd != sep[0]:
                errs.append("%s line %r is not the served key %s" % (t, lines[i], key_text))
    results.check("the DS digests are dnspython's make_ds of the served DNSKEY", errs)
    for words, want in ((["dnssec", "ds", "nowhere.test"], "no zone nowhere.test is configured"),
                        (["dnssec", "ds", PLAIN], "zone %s is not signed" % PLAIN)):
        rc, out, err = ops.ctl_run(*words)
        results.check("meridianctl %s: exit 1, '%s'" % (" ".join(words), want),
                      [] if rc == 1 and want in out else ["exit %s: %s%s" % (rc, out, err)])
    rc, out, err = run([ops.args.meridiand, "-c", ops.config, "--dnssec-ds", PLAIN])
    results.check("meridiand --dnssec-ds %s: exit 1, not signed" % PLAIN,
                  [] if rc == 1 and "is not signed" in err and not out else
                  ["exit %s: %s%s" % (rc, out, err)])
    return parse_ds_lines(ctl_out)[:1]


def utc_epoch(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def check_status(results, ops):
    rc, out, err = ops.ctl_run("status")
    errs = []
    for zone, span in ((ROLL, r"in 1[23]d \d+h"), (RESIGN, r"in 59m \d+s")):
        m = re.search(r"\ndnssec: %s\. earliest expiration: (%s) \((%s)\)\n"
                      % (re.escape(zone), UTC, span), out)
        if not m:
            errs.append("%s: no earliest expiration line like '%s'" % (zone, span))
            continue
        earliest = utc_epoch(m.group(1))
        a = ops.query("www." + zone, "A")
        for rr in a.answer:
            if rr.rdtype == dns.rdatatype.RRSIG and any(s.expiration < earliest for s in rr):
                errs.append("%s: an RRSIG expires before the 'earliest' %s" % (zone, m.group(1)))
        if not re.search(r"\ndnssec: %s\. key \d+ ECDSAP256SHA256 CSK: published, signs zone, "
                         r"signs keys, in CDS\n" % re.escape(zone), out):
            errs.append("%s: no key line" % zone)
    if "ALARM" in out or PLAIN in out.split("geoip:")[1]:
        errs.append("an ALARM, or a line for the unsigned zone")
    results.check("status: earliest expirations, keys and roles, no ALARM (exit %s)" % rc,
                  errs + ([out] if errs else []))


def www_rrsig(ops, zone):
    a = ops.query("www." + zone, "A")
    for rr in a.answer:
        if rr.rdtype == dns.rdatatype.RRSIG:
            s = list(rr)[0]
            return s.inception, s.expiration
    return None


def check_resign(results, ops):
    first = www_rrsig(ops, RESIGN)
    errs, seen = [], [first]
    # Due about 8-10 s after signing (refresh 3590 s of 3600, jitter 2 s); the timer wakes
    # at the due time.
    deadline = time.monotonic() + h.scaled(30)
    while time.monotonic() < deadline:
        snapshot(ops, RESIGN, parent_ds=ops.resign_ds, errs=errs)
        cur = www_rrsig(ops, RESIGN)
        if cur != seen[-1]:
            seen.append(cur)
        if len(seen) >= 3:
            break
        time.sleep(0.25)
    if len(seen) < 3:
        errs.append("the RRSIG did not change twice within %d s: %s" % (h.scaled(30), seen))
    for a, b in zip(seen, seen[1:]):
        if not (b[0] > a[0] and b[1] > a[1]):
            errs.append("inception/expiration did not move forward: %s -> %s" % (a, b))
    log = open(ops.server.log_path, "rb").read().decode("utf-8", "replace")
    if "dnssec upkeep (resign.test.: signatures due for refresh)" not in log:
        errs.append("no upkeep reload in the log")
    if "signal 1" in log:
        errs.append("a SIGHUP reached the server")
    results.check("re-signing without a reload: RRSIG inception/expiration move (%s), every "
                  "answer validates" % " -> ".join("%d/%d" % s for s in seen[:3]), errs[:10])


def state_phase(ops):
    try:
        with open(ops.tmp.join("keys", "K%s.state" % ROLL)) as f:
            m = re.search(r"^phase: (\w+)$", f.read(), re.M)
            return m.group(1) if m else None
    except OSError:
        return None


def check_rollover(results, ops, parent_ds):
    errs = []
    old_keys, old_signers, old_cds = snapshot(ops, ROLL, parent_ds, errs)
    results.check("before the rollover: one key, signing, in CDS, validating",
                  errs + ([] if len(old_keys) == 1 and old_signers == old_keys == old_cds
                          else ["keys %s signers %s cds %s" % (old_keys, old_signers,
                                                               old_cds)]))
    (old,) = old_keys
    rc, out, err = ops.ctl_run("dnssec", "roll", ROLL)
    m = re.search(r"csk rollover started: key (\d+) is published beside key (\d+)", out)
    results.check("meridianctl dnssec roll %s: ok (exit %s)" % (ROLL, rc),
                  [] if rc == 0 and m and int(m.group(2)) == old and "\nreloaded: " in out
                  else [out + err])
    if not m:
        return
    new = int(m.group(1))
    rc, out, err = ops.ctl_run("dnssec", "ds-seen", ROLL)
    results.check("ds-seen in phase publish: refused (exit %s)" % rc,
                  [] if rc == 1 and "may change only in phase active" in out else [out + err])

    # Observe: every look validates against the parent's DS of the moment; the DNSKEY set as
    # dig sees it and the zone's signer give the sequence of states.
    states, errs, restarted, ds_seen, last = ["old"], [], False, False, "old"
    stages = {(frozenset([old]), frozenset([old])): "old",
              (frozenset([old, new]), frozenset([old])): "old+new, old signs",
              (frozenset([old, new]), frozenset([new])): "old+new, new signs",
              (frozenset([new]), frozenset([new])): "new"}
    deadline = time.monotonic() + h.scaled(60)
    while time.monotonic() < deadline:
        dig_before = ops.dig_key_tags(ROLL)
        keys, signers, cds = snapshot(ops, ROLL, parent_ds, errs)
        dig_after = ops.dig_key_tags(ROLL)
        # dig's view must be dnspython's, unless the set changed between the looks.
        if dig_before == dig_after and dig_after != keys:
            errs.append("dig's DNSKEY tags %s differ from dnspython's %s" % (dig_after, keys))
        stage = stages.get((keys, signers), "unexpected: keys %s signers %s" % (keys, signers))
        if stage == "old+new, new signs" and cds != {new}:
            errs.append("the new key signs but CDS names %s" % sorted(cds))
        if stage == "old+new, old signs" and cds != {old}:
            errs.append("the new key is only published but CDS names %s" % sorted(cds))
        if stage != last:
            states.append(stage)
            last = stage
        if stage == "old+new, old signs" and not restarted and state_phase(ops) == "publish":
            # A restart in the middle: the state file carries the rollover over.
            port = ops.server.port
            ops.server.stop()
            ops.start(port)
            restarted = True
            states.append("restart")
            last = "restart"
        if stage == "old+new, new signs" and not ds_seen:
            # The operator gives the parent the new DS (from `dnssec ds`) and says so.
            rc, out, err = ops.ctl_run("dnssec", "ds", ROLL)
            new_ds = parse_ds_lines(out)
            if rc != 0 or [d.key_tag for d in new_ds] != [new]:
                errs.append("dnssec ds during phase active: %s%s" % (out, err))
            parent_ds = new_ds
            rc, out, err = ops.ctl_run("dnssec", "ds-seen", ROLL)
            if rc != 0 or "the parent's DS for key %d noted" % new not in out:
                errs.append("ds-seen: exit %s: %s%s" % (rc, out, err))
            ds_seen = True
            states.append("ds-seen")  # the stage stays until the DS waits are over
        if stage == "new":
            break
        time.sleep(0.1)
    want = ["old", "old+new, old signs", "restart", "old+new, old signs", "old+new, new signs",
            "ds-seen", "new"]
    # The restart may land as the phase ends: the look after it may see the next stage.
    alt = want[:3] + want[4:]
    results.check("rollover as dig and dnspython see it: %s" % " -> ".join(states),
                  errs[:10] + ([] if states in (want, alt) else ["expected %s" % want]))
    # The old key's files go at the timer's next look, a second after the last phase.
    ended = r"rollover: none; the last one \(csk %d -> %d\) ended %s" % (old, new, UTC)
    out = ""

    def finished():
        nonlocal out
        out = ops.ctl_run("status")[1]
        return re.search(ended, out) is not None
    h.wait_for(finished, timeout=h.scaled(10), step=0.2)
    retired = os.path.exists(ops.tmp.join("keys", "retired", "K%s.+013+%05d.key" % (ROLL, old)))
    results.check("after the rollover: status says it ended, the old key is retired",
                  [] if re.search(ended, out) and retired and state_phase(ops) == "none" else
                  ["retired file: %s, state phase %s\n%s" % (retired, state_phase(ops), out)])


def check_failed_resign(results, ops):
    """Breaking resign.test's file: the next re-signing reload fails; the zone keeps being
    served and validating, the failure is counted and the ALARM is raised."""
    with open(ops.tmp.join(RESIGN + ".zone"), "w") as f:
        f.write("$ORIGIN resign.test.\n@ SOA broken\n")
    errs, out = [], ""
    deadline = time.monotonic() + h.scaled(30)
    while time.monotonic() < deadline:
        rc, out, err = ops.ctl_run("status")
        if re.search(r"dnssec upkeep: \d+ reloads to re-sign or roll keys, [1-9]\d* failed; "
                     r"last: ", out):
            break
        time.sleep(0.25)
    else:
        errs.append("no failed upkeep reload counted:\n" + out)
    # The reload failed at the due time, exactly refresh before the earliest expiration; a
    # second later less than refresh is left.
    alarm = re.compile(r"\nALARM: dnssec: resign\.test\. ")

    def raised():
        nonlocal out
        out = ops.ctl_run("status")[1]
        return alarm.search(out) is not None
    h.wait_for(raised, timeout=h.scaled(5), step=0.25)
    if not re.search(r"\nALARM: dnssec: resign\.test\. a signature expires %s \(in 59m \d+s\), "
                     r"less than refresh \(59m 50s\) away: re-signing is failing\n" % UTC, out):
        errs.append("no ALARM:\n" + out)
    snapshot(ops, RESIGN, ops.resign_ds, errs)
    results.check("a failed re-signing: counted, ALARM, the old zone still serves and validates",
                  errs)


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    ctl = os.path.join(os.path.dirname(os.path.abspath(args.meridiand)), "meridianctl")
    if not os.access(ctl, os.X_OK):
        h.skip("meridianctl is not built next to meridiand: %s" % ctl)
    dig = h.find_tool("dig")
    if not dig:
        h.skip("dig (Debian dnsutils) is missing")
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        for zone, ttl in ((ROLL, 1), (RESIGN, 300), (PLAIN, 300)):
            with open(tmp.join(zone + ".zone"), "w") as f:
                f.write(zone_text(zone, ttl))
        ops = Ops(args, tmp, ctl, dig)
        ops.start()
        try:
            parent_ds = check_ds(results, ops)
            rc, out, err = ops.ctl_run("dnssec", "ds", RESIGN)
            ops.resign_ds = parse_ds_lines(out)
            check_status(results, ops)
            check_resign(results, ops)
            check_rollover(results, ops, parent_ds)
            check_failed_resign(results, ops)
            results.check("server alive", [] if ops.server.alive() else
                          [ops.server.log_tail()])
        finally:
            ops.server.stop()
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
