#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 028: the IXFR history survives a restart (README.md, Zone transfers: the journal).

meridiand serves three zones with `transfer:`: jnl.test (journal on, the default), off.test
(`journal: false`) and signed.test (signed). Reloads take each through serials 1, 2 and 3;
then meridiand restarts. An IXFR from serial 1 (and from 2) of jnl.test must be incremental,
its SOAs and removed and added records exactly the two differences. A second meridiand,
our secondary for jnl.test (NOTIFY, IXFR) that transfers it out too, keeps its own journal:
after its restart an IXFR from it is incremental as well. trim.test, whose history holds
only the last few of its 14 versions (RFC 1995 §5), has its journal trimmed and compacted
with it and reads the same history back after a restart. knotd, which held
serial 1 and is told of serial 3 only by the NOTIFY of the restarted server, must fetch it
by IXFR and then hold what we serve. off.test, with the same changes but no journal, gives
the whole zone (so the journal is what makes the difference). signed.test restarts from the
signatures kept in the key directory: the same AXFR byte for byte, its journal read back and
IXFR incremental; an edit without raising the file's serial is served as serial 4, which a
restart keeps; a damaged signature store is a warning and a fresh signing; with `dnssec`
turned off it is served above the signed serial, across a restart, until the file's is newer.
Then the journal as the first run left it is put back under three faults, each restart
giving a full transfer and never a stale difference: the zone file changed to serial 4
while meridiand was down (the journal is deleted), the data changed under serial 3, and a
byte of the journal flipped (a warning naming the file, meridiand keeps running). Needs
knotd for the comparison part (SKIP without).
"""

import os
import re
import shutil
import stat
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402

PLAIN, OFF, SIGNED, TRIM = "jnl.test", "off.test", "signed.test", "trim.test"
TRIM_VERSIONS = 14


def zone_text(origin, serial, www=None):
    """Version `serial` of a zone: 2 replaces www's address and adds new; 3 removes old and
    adds extra. Padding names keep the differences a small part of the zone (RFC 1995 §5)."""
    lines = ["$ORIGIN %s." % origin, "$TTL 300",
             "@ SOA ns1 hostmaster %d 3600 600 1209600 300" % serial,
             "@ NS ns1", "ns1 A 192.0.2.1",
             "www A %s" % (www or ("192.0.2.10" if serial == 1 else "192.0.2.11"))]
    if serial >= 2:
        lines.append('new TXT "v2"')
    if serial < 3:
        lines.append('old TXT "gone"')
    if serial >= 3:
        lines.append("extra A 192.0.2.33")
    lines += ["h%d A 198.51.100.%d" % (i, i % 250 + 1) for i in range(100)]
    return "\n".join(lines) + "\n"


# The differences of jnl.test, as (removed, added) record texts.
DIFFS = {
    (1, 2): ({"www.jnl.test. 300 IN A 192.0.2.10"},
             {"www.jnl.test. 300 IN A 192.0.2.11", 'new.jnl.test. 300 IN TXT "v2"'}),
    (2, 3): ({'old.jnl.test. 300 IN TXT "gone"'}, {"extra.jnl.test. 300 IN A 192.0.2.33"}),
}


def meridian_config(tmp, port, nsid, notify_ports=(), signed=True):
    targets = ", ".join('"127.0.0.1:%d"' % p for p in notify_ports)
    notify = ["    notify: [%s]" % targets] if notify_ports else []
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: 1",
             '  nsid: "%s"' % nsid,
             '  control_socket: "%s"' % tmp.join("control.sock"),
             '  key_directory: "%s"' % tmp.join("keys"),
             "  " + h.RRL_EXEMPT_LOOPBACK,
             "zones:",
             "  - origin: %s" % PLAIN,
             "    file: %s.zone" % PLAIN,
             '    transfer: { allow: ["127.0.0.1/32"] }'] + notify + [
             "  - origin: %s" % OFF,
             "    file: %s.zone" % OFF,
             "    journal: false",
             '    transfer: { allow: ["127.0.0.1/32"] }',
             "  - origin: %s" % SIGNED,
             "    file: %s.zone" % SIGNED,
             "    dnssec: %s" % ("true" if signed else "false"),
             '    transfer: { allow: ["127.0.0.1/32"] }',
             "  - origin: %s" % TRIM,
             "    file: %s.zone" % TRIM,
             '    transfer: { allow: ["127.0.0.1/32"] }']
    path = tmp.join("meridian.yaml")
    h.write_file(path, "\n".join(lines) + "\n")
    return path


def secondary_config(tmp, port, nsid, primary_port):
    """A second meridiand, the secondary of jnl.test from the first, transferring it out:
    its copy and its journal in sec/."""
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: 1",
             '  nsid: "%s"' % nsid,
             "  " + h.RRL_EXEMPT_LOOPBACK,
             "zones:",
             "  - origin: %s" % PLAIN,
             '    primaries: [ { address: "%s:%d" } ]' % (h.V4, primary_port),
             '    transfer: { allow: ["127.0.0.1/32"] }']
    os.makedirs(tmp.join("sec"), exist_ok=True)
    path = tmp.join("sec", "meridian.yaml")
    h.write_file(path, "\n".join(lines) + "\n")
    return path


def check_secondary(results, sec, tmp):
    """The secondary followed 1 > 2 > 3 by NOTIFY and IXFR; its history, kept in its own
    journal, survives its restart too (the copy on disk read back has the same data)."""
    ok = h.wait_for(lambda: h.soa_serial(sec.port, PLAIN) == 3, h.scaled(20))
    results.check("the secondary meridiand has serial 3", [] if ok else [sec.log_tail()])
    check_incremental(results, sec.port, PLAIN, 1, 3, "the secondary, before its restart")
    status = restart(sec, "restarted")
    results.check("the secondary exits cleanly (%s)" % status, [] if status == 0 else [])
    results.check("the secondary reads its history back from %s"
                  % tmp.join("sec", "journal", PLAIN + ".jnl"),
                  [] if h.log_has(sec, r"zone %s: IXFR history read from .*sec/journal/%s: 2 "
                                     r"versions" % (re.escape(PLAIN + "."),
                                                    re.escape(PLAIN + ".jnl")))
                  else [sec.log_tail()])
    check_incremental(results, sec.port, PLAIN, 1, 3, "the secondary, after its restart")


def trim_text(serial):
    """A small zone whose every version replaces a 240-octet TXT: RFC 1995 §5 (never more
    bytes than the zone) keeps only the last few differences."""
    lines = ["$ORIGIN %s." % TRIM, "$TTL 300",
             "@ SOA ns1 hostmaster %d 3600 600 1209600 300" % serial, "@ NS ns1",
             "ns1 A 192.0.2.1", 'big TXT "%s"' % ("%03d" % serial * 80)]
    lines += ["p%d A 198.51.100.%d" % (i, i + 1) for i in range(40)]
    return "\n".join(lines) + "\n"


def write_zones(tmp, serial, www=None):
    for z in (PLAIN, OFF, SIGNED):
        h.write_file(tmp.join(z + ".zone"), zone_text(z, serial, www))
    if not os.path.exists(tmp.join(TRIM + ".zone")):
        h.write_file(tmp.join(TRIM + ".zone"), trim_text(1))


def ixfr(port, zone, serial):
    q = dns.message.make_query(zone, "IXFR")
    q.authority.append(dns.rrset.from_text(zone + ".", 0, "IN", "SOA",
                                           "ns1.%s. hostmaster.%s. %d 1 1 1 1"
                                           % (zone, zone, serial)))
    try:
        r = dns.query.tcp(q, h.V4, port=port, timeout=h.REPLY_TIMEOUT, one_rr_per_rrset=True)
    except Exception as e:  # the error is the finding
        return "IXFR failed: %r" % e
    if r.rcode() != 0:
        return "rcode %d" % r.rcode()
    return [(rrset.rdtype, "%s %d IN %s %s" % (rrset.name, rrset.ttl,
                                              dns.rdatatype.to_text(rrset.rdtype), rd.to_text()),
             rd) for rrset in r.answer for rd in rrset]


def check_incremental(results, port, zone, start, current, who="after the restart"):
    """RFC 1995 §4: SOA current, then per difference the old SOA, what it removed, the new
    SOA, what it added; then SOA current. Checked record by record against DIFFS."""
    got = ixfr(port, zone, start)
    label = "IXFR of %s from serial %d (%s): incremental, exactly the " \
            "differences %s" % (zone, start, who, ", ".join("%d>%d" % (a, b) for a, b in
                                                        sorted(DIFFS) if a >= start))
    if isinstance(got, str):
        results.check(label, [got])
        return
    errs = []
    soa = [i for i, (t, _, _) in enumerate(got) if t == dns.rdatatype.SOA]
    serials = [got[i][2].serial for i in soa]
    steps = [(a, b) for a, b in sorted(DIFFS) if a >= start and b <= current]
    want = [current] + [s for a, b in steps for s in (a, b)] + [current]
    if serials != want:
        errs.append("SOA serials %s, want %s" % (serials, want))
    else:
        for k, (a, b) in enumerate(steps):
            i0, i1, i2 = soa[1 + 2 * k], soa[2 + 2 * k], soa[3 + 2 * k]
            removed = {text for _, text, _ in got[i0 + 1:i1]}
            added = {text for _, text, _ in got[i1 + 1:i2]}
            if removed != DIFFS[(a, b)][0]:
                errs.append("%d>%d removed %s, want %s" % (a, b, sorted(removed),
                                                           sorted(DIFFS[(a, b)][0])))
            if added != DIFFS[(a, b)][1]:
                errs.append("%d>%d added %s, want %s" % (a, b, sorted(added),
                                                         sorted(DIFFS[(a, b)][1])))
    results.check(label, errs)


def check_full(results, port, zone, start, why):
    """The whole zone (RFC 1995 §4: as an AXFR would, between the SOAs), not a difference."""
    got = ixfr(port, zone, start)
    axfr = h.axfr_records(port, zone)
    label = "IXFR of %s from serial %d %s: the whole zone" % (zone, start, why)
    if isinstance(got, str) or isinstance(axfr, str):
        results.check(label, [x for x in (got, axfr) if isinstance(x, str)])
        return
    soas = [rd.serial for t, _, rd in got if t == dns.rdatatype.SOA]
    records = sorted(text for _, text, _ in got[1:])
    axfr_lines = sorted(" ".join(line.split()) for line in axfr)
    errs = []
    if len(soas) != 2 or len(got) != len(axfr) + 1:
        errs.append("%d records with SOA serials %s; the AXFR has %d" % (len(got), soas,
                                                                          len(axfr)))
    elif sorted(" ".join(r.split()) for r in records) != axfr_lines:
        errs.append("records differ from the AXFR")
    results.check(label, errs)


def restart(meridiand, tag):
    """The first run's exit status; the new run answers."""
    status = meridiand.restart(tag)
    meridiand.wait_ready(PLAIN, timeout=h.scaled(60))
    return status


def reload_to(results, tmp, port, serial):
    write_zones(tmp, serial)
    rc, out = h.control(tmp.join("control.sock"), "reload")
    results.check("reload with serial %d" % serial,
                  [] if rc == 0 and h.soa_serial(port, PLAIN) == serial else [out])


def ixfr_text(got):
    return got if isinstance(got, str) else [text for _, text, _ in got]


def check_signed_restart(results, tmp, port, meridiand, before):
    """The signatures kept in the key directory (README, DNSSEC: restarts) make the restarted
    server serve signed.test byte for byte as before, so its journal still fits."""
    axfr_before, ixfr_before = before
    store = tmp.join("keys", "K%s.signatures" % SIGNED)
    mode = stat.S_IMODE(os.stat(store).st_mode) if os.path.exists(store) else None
    results.check("the signatures of %s are kept in %s, mode 0600" % (SIGNED, store),
                  [] if mode == 0o600 else ["mode %r" % mode])
    results.check("%s: the restart signs nothing anew (log)" % SIGNED,
                  [] if h.log_has(meridiand, r"zone %s signed: serial 3, 0 RRsets signed, "
                                           r"[1-9]\d* reused \(kept from the last run\)"
                                  % re.escape(SIGNED)) else [meridiand.log_tail()])
    axfr_after = h.axfr_records(port, SIGNED)
    results.check("%s: the AXFR after the restart equals the one before, signatures included"
                  % SIGNED,
                  [] if not isinstance(axfr_after, str) and axfr_after == axfr_before and
                  any(" RRSIG " in line for line in axfr_after) else
                  ["before %d records, after %s" % (len(axfr_before), axfr_after[:3]
                                                    if isinstance(axfr_after, str) else
                                                    len(axfr_after))])
    results.check("%s: the IXFR history is read back at start" % SIGNED,
                  [] if h.log_has(meridiand, r"zone %s: IXFR history read from .*: 2 "
                                           r"versions \(serials 1\.\.3\)"
                                  % re.escape(SIGNED + ".")) else [meridiand.log_tail()])
    got = ixfr(port, SIGNED, 1)
    serials = [rd.serial for t, _, rd in got if t == dns.rdatatype.SOA] \
        if not isinstance(got, str) else got
    # RFC 1995 §4: SOA 3, then 1 > 2 and 2 > 3 (old SOA, removals, new SOA, additions), SOA 3.
    results.check("IXFR of %s from serial 1 after the restart: incremental (SOAs 3 1 2 2 3 3), "
                  "the same records as before the restart" % SIGNED,
                  [] if serials == [3, 1, 2, 2, 3, 3] and
                  ixfr_text(got) == ixfr_text(ixfr_before) else
                  ["SOA serials %s" % (serials,)])


def check_signed_serial(results, tmp, port, meridiand):
    """New signatures reach secondaries only under a newer serial (RFC 1034 §4.3.5): data
    changed without raising the zone file's serial is served under the old one + 1, which a
    restart keeps although the file still says 3."""
    h.write_file(tmp.join(SIGNED + ".zone"), zone_text(SIGNED, 3, www="192.0.2.99"))
    rc, out = h.control(tmp.join("control.sock"), "reload")
    serial = h.soa_serial(port, SIGNED)
    results.check("%s edited under serial 3 and reloaded: served as serial 4" % SIGNED,
                  [] if rc == 0 and serial == 4 and
                  h.log_has(meridiand, r"zone %s signed: serial 4 \(the zone file has 3\)"
                            % re.escape(SIGNED)) else ["rc %d serial %s" % (rc, serial), out])
    got = ixfr(port, SIGNED, 3)
    added = [t for t in ixfr_text(got) if " A 192.0.2.99" in t] if not isinstance(got, str) \
        else got
    results.check("IXFR of %s from serial 3: incremental, adds the new address" % SIGNED,
                  [] if added == ["www.%s. 300 IN A 192.0.2.99" % SIGNED] else [str(added)])
    status = restart(meridiand, "signed-serial")
    serial = h.soa_serial(port, SIGNED)
    results.check("after a restart %s is still served as serial 4, nothing signed anew "
                  "(exit %s)" % (SIGNED, status),
                  [] if serial == 4 and
                  h.log_has(meridiand, r"zone %s signed: serial 4 \(the zone file has 3\), "
                                       r"0 RRsets signed" % re.escape(SIGNED)) else
                  ["serial %s" % serial, meridiand.log_tail()])
    # A damaged store is only a cache: a warning naming it, the zone signed anew and served.
    store = tmp.join("keys", "K%s.signatures" % SIGNED)
    data = bytearray(open(store, "rb").read())
    data[len(data) // 2] ^= 0x55
    open(store, "wb").write(bytes(data))
    restart(meridiand, "signed-damaged")
    results.check("a damaged signature store: a warning naming it, %s signed anew and served"
                  % SIGNED,
                  [] if h.log_has(meridiand, r"warning: zone %s: signatures kept from the last "
                                           r"run not used .*K%s\.signatures: checksum mismatch"
                                  % (re.escape(SIGNED), re.escape(SIGNED))) and
                  h.soa_serial(port, SIGNED) is not None else [meridiand.log_tail()])
    check_unsigned_serial(results, tmp, port, meridiand)
    write_zones(tmp, 3)  # back to the common serial-3 data for the faults that follow


def check_unsigned_serial(results, tmp, port, meridiand):
    """Signing off: the unsigned zone must still reach secondaries holding the signed one,
    so it is served above the signed version's serial until the file's is newer; the floor
    survives a restart (README, DNSSEC: the serial of a signed zone)."""
    sock = tmp.join("control.sock")
    nsid = meridiand.nsid.decode()
    signed_serial = h.soa_serial(port, SIGNED)
    meridian_config(tmp, port, nsid, signed=False)
    rc, out = h.control(sock, "reload")
    serial = h.soa_serial(port, SIGNED)
    q = dns.message.make_query(SIGNED + ".", "SOA", want_dnssec=True)
    r = h.parse(h.udp_exchange(q.to_wire(), port, timeout=h.REPLY_TIMEOUT))
    rrsigs = [x for x in (r.answer if r else []) if x.rdtype == dns.rdatatype.RRSIG]
    results.check("dnssec turned off for %s (signed as %s): served unsigned as serial %s"
                  % (SIGNED, signed_serial, (signed_serial or 0) + 1),
                  [] if rc == 0 and signed_serial and serial == signed_serial + 1 and r and
                  not rrsigs and h.log_has(meridiand, r"zone %s is no longer signed: served as "
                                                      r"serial %d" % (re.escape(SIGNED),
                                                                       serial)) else
                  ["rc %d serial %s rrsigs %d" % (rc, serial, len(rrsigs)), out])
    restart(meridiand, "unsigned")
    results.check("after a restart the unsigned %s keeps serial %s" % (SIGNED, serial),
                  [] if h.soa_serial(port, SIGNED) == serial else [meridiand.log_tail()])
    store = tmp.join("keys", "K%s.signatures" % SIGNED)
    h.write_file(tmp.join(SIGNED + ".zone"), zone_text(SIGNED, serial + 1))
    rc, out = h.control(sock, "reload")
    results.check("the zone file raised to %d: served as such, the kept serial floor removed"
                  % (serial + 1),
                  [] if rc == 0 and h.soa_serial(port, SIGNED) == serial + 1 and
                  not os.path.exists(store) else
                  ["serial %s, store %s" % (h.soa_serial(port, SIGNED), os.path.exists(store))])
    meridian_config(tmp, port, nsid)


def check_knot(results, meridiand, knotd, port):
    kport = knotd.port
    ok = h.wait_for(lambda: h.soa_serial(kport, PLAIN) == 3, h.scaled(20))
    results.check("knotd, told by the restarted server's NOTIFY, has serial 3",
                  [] if ok else [knotd.log_tail()])
    results.check("knotd's log: IXFR (not AXFR) of serial 3 from us finished",
                  [] if h.log_has(knotd, r"\[%s\.\] IXFR, incoming, remote 127\.0\.0\.1@%d, "
                                       r"finished" % (re.escape(PLAIN), port)) else
                  [knotd.log_tail()])
    results.check("our log: that IXFR served incrementally",
                  [] if h.log_has(meridiand, r"IXFR \(incremental\) of %s\. serial 3 to "
                                           r"127\.0\.0\.1" % re.escape(PLAIN)) else
                  [meridiand.log_tail()])
    results.check("%s at knotd equals ours, record by record" % PLAIN,
                  h.compare_records(h.axfr_records(port, PLAIN), h.axfr_records(kport, PLAIN)))


def history_line(sock, zone):
    rc, out = h.control(sock, "zone", "status", zone)
    m = re.search(r"^history: .*$", out, re.M)
    return m.group(0) if rc == 0 and m else out


def check_trimmed(results, tmp, port, meridiand):
    """Many versions of a zone whose history holds few: the journal is trimmed with it (its
    dead records compacted away), and a restart reads back exactly the history served."""
    sock = tmp.join("control.sock")
    for serial in range(2, TRIM_VERSIONS + 1):
        h.write_file(tmp.join(TRIM + ".zone"), trim_text(serial))
        rc, out = h.control(sock, "reload")
        if rc != 0:
            results.check("reload trim.test to serial %d" % serial, [out])
            return
    before = history_line(sock, TRIM)
    m = re.match(r"history: (\d+) versions \(serials (\d+)\.\.(\d+)\), (\d+) bytes", before)
    results.check("trim.test after %d versions: a history of a few, ending at %d"
                  % (TRIM_VERSIONS, TRIM_VERSIONS),
                  [] if m and 1 <= int(m.group(1)) <= 4 and int(m.group(3)) == TRIM_VERSIONS
                  else [before])
    size = os.path.getsize(tmp.join("journal", TRIM + ".jnl"))
    # Header and framing aside, the file holds what the history does, and at most as much
    # again in trimmed records not yet compacted: without trimming it would hold all 13.
    limit = 2 * int(m.group(4)) + 600 if m else 0
    results.check("its journal is trimmed with it: %d bytes, at most %d" % (size, limit),
                  [] if size <= limit else ["%d bytes" % size])
    restart(meridiand, "trimmed")
    after = history_line(sock, TRIM)
    results.check("after a restart the same history: %s" % after,
                  [] if after == before else ["before: %s" % before])
    first = int(m.group(2)) if m else 1
    got = ixfr(port, TRIM, first)
    soas = [rd.serial for t, _, rd in got if t == dns.rdatatype.SOA] \
        if isinstance(got, list) else got
    want = [TRIM_VERSIONS] + [v for s in range(first, TRIM_VERSIONS) for v in (s, s + 1)] + \
        [TRIM_VERSIONS]
    results.check("IXFR of trim.test from serial %d after the restart: SOAs %s" % (first, want),
                  [] if soas == want else ["SOAs %s" % (soas,)])
    check_full(results, port, TRIM, first - 1, "(trimmed away) after the restart")


def faults(results, tmp, port, nsid, meridiand, saved):
    """Restarts with the first run's journal put back, under faults."""
    jpath = tmp.join("journal", PLAIN + ".jnl")
    meridian_config(tmp, port, nsid)  # no NOTIFY: knotd is gone
    # 1. The zone file went to serial 4 while we were down.
    write_zones(tmp, 4)
    restart(meridiand, "serial4")
    results.check("serial 4 on disk while down: the journal ending at 3 discarded (info)",
                  [] if h.log_has(meridiand, r"zone %s: journal .*%s ends at serial 3 but the "
                                           r"zone has serial 4: discarded"
                                  % (re.escape(PLAIN + "."), re.escape(PLAIN + ".jnl"))) else
                  [meridiand.log_tail()])
    check_full(results, port, PLAIN, 1, "when the file changed while down")
    check_full(results, port, PLAIN, 3, "(the journal's last serial) after that")
    results.check("and the stale journal is deleted", [] if not os.path.exists(jpath) else
                  ["%s still there" % jpath])
    # 2. The data changed under serial 3.
    write_zones(tmp, 3, www="192.0.2.99")
    shutil.copy(saved, jpath)
    restart(meridiand, "same-serial")
    results.check("data changed under serial 3 while down: a warning, the journal discarded",
                  [] if h.log_has(meridiand, r"warning.*zone %s: journal .* ends at serial 3, "
                                           r"but the zone's data under that serial differs"
                                  % re.escape(PLAIN + ".")) else [meridiand.log_tail()])
    check_full(results, port, PLAIN, 1, "when the data changed under the same serial")
    # 3. A flipped byte in the journal.
    write_zones(tmp, 3)
    with open(saved, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0x01
    with open(jpath, "wb") as f:
        f.write(bytes(data))
    restart(meridiand, "flipped")
    results.check("a flipped byte: a warning naming the journal file",
                  [] if h.log_has(meridiand, r"warning.*zone %s: journal ignored: .*%s: record "
                                           r"checksum mismatch" % (re.escape(PLAIN + "."),
                                                                   re.escape(jpath)))
                  else [meridiand.log_tail()])
    check_full(results, port, PLAIN, 1, "with a damaged journal")
    results.check("meridiand still running with the damaged journal",
                  [] if meridiand.alive() else [meridiand.log_tail()])
    # 4. The good journal back: incremental again (what the faults changed was the cause).
    shutil.copy(saved, jpath)
    restart(meridiand, "good-again")
    check_incremental(results, port, PLAIN, 1, 3)
    check_trimmed(results, tmp, port, meridiand)


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    knot = h.require_tool("knotd", args.knotd, "knot")
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        write_zones(tmp, 1)
        port, kport = h.free_port(addrs=(h.V4,)), h.free_port(addrs=(h.V4,))
        sport = h.free_port(addrs=(h.V4,))
        nsid, knsid, snsid = h.new_nsid("m028"), h.new_nsid("k028"), h.new_nsid("s028")
        config = meridian_config(tmp, port, nsid, notify_ports=(sport,))
        sconf = secondary_config(tmp, sport, snsid, port)
        kconf = h.write_knot_secondary(tmp.join("knot.conf"), tmp.path, kport, port, [PLAIN],
                                       knsid)
        meridiand = h.Meridiand(args.meridiand, tmp.path, port, config, nsid, addrs=(h.V4,))
        meridiand.start()
        jpath = tmp.join("journal", PLAIN + ".jnl")

        def body(others):
            meridiand.wait_ready(PLAIN, timeout=h.scaled(60))
            knotd = h.start_knotd(others, knot, tmp, kport, kconf, knsid, PLAIN)
            ok = h.wait_for(lambda: h.soa_serial(kport, PLAIN) == 1, h.scaled(30))
            results.check("knotd holds serial 1", [] if ok else [knotd.log_tail()])
            sec = h.Meridiand(args.meridiand, tmp.join("sec"), sport, sconf, snsid,
                              addrs=(h.V4,))
            others.append(sec.start())
            sec.wait_ready(PLAIN, timeout=h.scaled(60))
            ok = h.wait_for(lambda: h.soa_serial(sport, PLAIN) == 1, h.scaled(30))
            results.check("the secondary meridiand holds serial 1", [] if ok else
                          [sec.log_tail()])
            # knotd is not notified (its refresh is an hour): it stays at 1 while we go to 3;
            # the secondary meridiand is, and follows.
            reload_to(results, tmp, port, 2)
            reload_to(results, tmp, port, 3)
            check_incremental(results, port, PLAIN, 1, 3, "before the restart")
            check_secondary(results, sec, tmp)
            mode = stat.S_IMODE(os.stat(jpath).st_mode) if os.path.exists(jpath) else None
            results.check("the journal %s exists, mode 0640" % jpath,
                          [] if mode == 0o640 else ["mode %r" % mode])
            results.check("no journal for the zone with journal: false",
                          [] if not os.path.exists(tmp.join("journal", OFF + ".jnl")) else
                          ["off.test.jnl exists"])
            signed_before = (h.axfr_records(port, SIGNED), ixfr(port, SIGNED, 1))
            # The restart, now notifying knotd (RFC 1996: every zone is announced at start).
            meridian_config(tmp, port, nsid, notify_ports=(kport,))
            status = restart(meridiand, "restarted")
            results.check("first run exits cleanly (%s)" % status, [] if status == 0 else [])
            results.check("the history is read back at start",
                          [] if h.log_has(meridiand, r"zone %s: IXFR history read from .*: 2 "
                                                   r"versions \(serials 1\.\.3\)"
                                          % re.escape(PLAIN + ".")) else [meridiand.log_tail()])
            check_incremental(results, port, PLAIN, 1, 3)
            check_incremental(results, port, PLAIN, 2, 3)
            check_knot(results, meridiand, knotd, port)
            check_full(results, port, OFF, 1, "(journal: false) after the restart")
            check_signed_restart(results, tmp, port, meridiand, signed_before)
            check_signed_serial(results, tmp, port, meridiand)
            knotd.stop()
            saved = tmp.join("saved.jnl")
            if os.path.exists(jpath):
                shutil.copy(jpath, saved)
                faults(results, tmp, port, nsid, meridiand, saved)
            else:
                results.check("the journal is kept after the restart", ["%s gone" % jpath])

        h.run_servers(results, meridiand, body)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
