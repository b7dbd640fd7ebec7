#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 018: catalog zones, consumed and produced (RFC 9432; README.md, Catalog zones).

knotd generates catalog.test (`catalog-role: generate`) over 50 member zones and is their
primary, every exchange TSIG-signed (xfr-key). meridiand has the catalog with `catalog:
true`, a zone of its own, clash.test, that knotd's catalog also lists, and stuck.test, whose
primary accepts connections and never answers. Checks:
all 50 members arrive (bounded time, measured) and equal knotd's copies record by record; the
clash is logged and our clash.test keeps serving; `zone status` names each member's catalog and
the catalog's members. A member added at knotd (config reload) is served after knotd's NOTIFY
without a restart; a member removed is REFUSED and its copy deleted. A second catalog, served
by knotd from a file, turns to version "1": refused with a log line, its member keeps
serving. Restarted with knotd down, meridiand serves the members from its disk copies.
The producer: meridiand generates produced.test (`catalog: produce`) of its own zones; knotd
consumes it (`catalog-role: interpret`) and serves our zones, equal to ours, and a zone added
at meridiand (reload) after our NOTIFY of the catalog.
Needs knotd and knotc (SKIP without).
"""

import base64
import os
import re
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.tsigkeyring  # noqa: E402

CAT, BADCAT = "catalog.test", "filecat.test"
MEMBERS = ["m%02d.test" % i for i in range(50)]
ADDED, REMOVED, CLASH, FILEMEMBER = "new.test", "m01.test", "clash.test", "fm.test"
STUCK = "stuck.test"  # its primary accepts connections and never answers
PRODUCED, OWN, OWN_ADDED = "produced.test", ["own1.test", "own2.test"], "own3.test"
SECRET = base64.b64encode(b"meridian e2e 018 catalog secret!!").decode()
KEYRING = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", SECRET)})


def zone_text(origin, serial, www):
    lines = ["$ORIGIN %s." % origin, "$TTL 300",
             "@ SOA ns1 hostmaster %d 3600 600 1209600 300" % serial,
             "@ NS ns1", "ns1 A 192.0.2.1", "www A %s" % www, "mail MX 10 www"]
    lines += ["h%d TXT \"%s %d\"" % (i, origin, i) for i in range(20)]
    return "\n".join(lines) + "\n"


def file_catalog(version, serial):
    """A catalog zone knotd serves as a plain zone from a file (so its content is ours)."""
    return "\n".join(["$ORIGIN %s." % BADCAT, "$TTL 0",
                      "@ SOA invalid. invalid. %d 3600 600 1209600 0" % serial,
                      "@ NS invalid.", 'version TXT "%s"' % version,
                      "u1.zones PTR %s." % FILEMEMBER]) + "\n"


def knot_config(tmp, kport, mport, members):
    lines = h.knot_primary_head(tmp, kport, mport, "k018", SECRET) + [
             "  - id: plain", "    address: %s" % h.V4, "    action: transfer",
             "  - id: notify_m", "    address: %s" % h.V4, "    key: xfr-key",
             "    action: notify",
             "template:", "  - id: default", '    storage: "%s"' % tmp.path,
             "    zonefile-sync: -1", "    zonefile-load: difference",
             "    journal-content: changes", "    notify: meridiand", "    acl: [xfr, plain]",
             # The members of meridiand's produced catalog: secondaries of meridiand.
             "  - id: from_meridiand", '    storage: "%s"' % tmp.join("knot-storage"),
             "    master: meridiand", "    acl: [notify_m, plain]", "    zonefile-sync: -1",
             "    zonefile-load: none", "    journal-content: changes",
             "zone:",
             "  - domain: %s" % PRODUCED, "    master: meridiand", "    acl: [notify_m, plain]",
             "    catalog-role: interpret", "    catalog-template: from_meridiand",
             "    zonefile-load: none", '    storage: "%s"' % tmp.join("knot-storage"),
             "  - domain: %s" % CAT, "    catalog-role: generate",
             "  - domain: %s" % BADCAT, "    file: %s.zone" % BADCAT,
             "  - domain: %s" % FILEMEMBER, "    file: %s.zone" % FILEMEMBER]
    for z in members:
        lines += ["  - domain: %s" % z, "    file: %s.zone" % z, "    catalog-role: member",
                  "    catalog-zone: %s" % CAT]
    h.write_file(tmp.join("knot.conf"), "\n".join(lines) + "\n")
    return tmp.join("knot.conf")


def meridian_config(tmp, mport, kport, stuck_port, own=OWN):
    key = "{ address: \"%s:%d\", key: xfr-key }" % (h.V4, kport)
    lines = ["server:", '  listen: ["%s:%d"]' % (h.V4, mport), "  workers: 1",
             '  nsid: "m018"', '  control_socket: "%s"' % tmp.join("control.sock"),
             '  state_file: "%s"' % tmp.join("state", "health.state"),
             "tsig_keys:", '  xfr-key: { algorithm: hmac-sha256, secret: "%s" }' % SECRET,
             "zones:",
             "  - origin: %s" % STUCK,
             '    primaries: [ { address: "%s:%d" } ]' % (h.V4, stuck_port),
             "  - origin: %s" % CAT, "    primaries: [ %s ]" % key, "    catalog: true",
             '    transfer: { allow: ["127.0.0.1"], keys: [xfr-key] }',
             "  - origin: %s" % BADCAT, "    primaries: [ %s ]" % key, "    catalog: true",
             "  - origin: %s" % CLASH, "    file: %s.zone" % CLASH,
             "  - origin: %s" % PRODUCED, "    catalog: produce",
             '    transfer: { allow: ["127.0.0.1"] }',
             '    notify: [ { address: "%s:%d", key: xfr-key } ]' % (h.V4, kport)]
    for z in own:
        lines += ["  - origin: %s" % z, "    file: %s.zone" % z,
                  '    transfer: { allow: ["127.0.0.1"] }']
    os.makedirs(tmp.join("state"), exist_ok=True)
    h.write_file(tmp.join("meridian.yaml"), "\n".join(lines) + "\n")
    return tmp.join("meridian.yaml")


def knotc(tmp, *words):
    p = subprocess.run(["knotc", "-s", tmp.join("knot-run", "knot.sock")] + list(words),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=h.scaled(30))
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def member_copy(tmp, zone):
    return tmp.join("state", "secondary", "%s.members" % CAT, "%s.zone" % zone)


def all_served(port, zones):
    return all(h.soa_serial(port, z) == 1 for z in zones)


def check_initial(results, m, knotd, tmp):
    port, kport = m.port, knotd.port
    t0 = time.monotonic()
    # Well under the 30 s a refresh of STUCK.test waits for its silent primary: the zones
    # due at start must not wait in line behind it.
    bound = h.scaled(20)
    ok = h.wait_for(lambda: all_served(port, MEMBERS), bound, step=0.2)
    took = time.monotonic() - t0
    missing = [z for z in MEMBERS if h.soa_serial(port, z) != 1]
    results.check("all %d members of %s served within %.0f s, a primary of another zone "
                  "silent (%.1f s after start)" % (len(MEMBERS), CAT, bound, took),
                  [] if ok else ["missing: %s" % missing, m.log_tail()])
    print("note: %d catalog members arrived %.1f s after meridiand answered" % (len(MEMBERS), took))
    errs = []
    for z in MEMBERS:
        errs += ["%s: %s" % (z, e) for e in
                 h.compare_records(h.axfr_records(port, z, keyring=KEYRING),
                                   h.axfr_records(kport, z))]
    results.check("every member equals knotd's copy, record by record", errs[:20])
    results.check("the clash with our own %s is logged (RFC 9432 §5.4)" % CLASH,
                  [] if h.log_has(m, r"catalog %s\.: member %s\. ignored: a configured zone"
                                  % (re.escape(CAT), re.escape(CLASH))) else [m.log_tail()])
    results.check("our own %s keeps serving (not knotd's)" % CLASH,
                  [] if h.a_of(port, "www." + CLASH) == ["192.0.2.99"] else
                  [str(h.a_of(port, "www." + CLASH))])
    rc, out = h.control(tmp.join("control.sock"), "zone", "status", "m07.test")
    results.check("zone status of a member names its catalog",
                  [] if rc == 0 and re.search(r"^catalog_member_of: %s\.$" % re.escape(CAT), out,
                                              re.M) else [out])
    rc, out = h.control(tmp.join("control.sock"), "zone", "status", CAT)
    results.check("zone status of the catalog lists its 50 members",
                  [] if rc == 0 and re.search(r"^catalog_members: 50$", out, re.M) and
                  re.search(r"^catalog_member: m49\.test\.$", out, re.M) else [out])
    results.check("the member copies are on disk",
                  [] if all(os.path.exists(member_copy(tmp, z)) for z in MEMBERS) else
                  [str(os.listdir(os.path.dirname(member_copy(tmp, MEMBERS[0]))))])


def check_changes(results, m, knotd, tmp, mport, kport):
    members = [z for z in MEMBERS if z != REMOVED] + [ADDED, CLASH]
    knot_config(tmp, kport, mport, members)
    rc, out = knotc(tmp, "reload")
    results.check("knotc reload with %s added, %s removed" % (ADDED, REMOVED),
                  [] if rc == 0 else [out])
    ok = h.wait_for(lambda: h.soa_serial(mport, ADDED) == 1, h.scaled(30), step=0.2)
    results.check("%s, added at knotd, is served without a restart" % ADDED,
                  [] if ok else [m.log_tail(), knotd.log_tail()])
    results.check("%s equals knotd's copy" % ADDED,
                  h.compare_records(h.axfr_records(mport, ADDED, keyring=KEYRING),
                                    h.axfr_records(kport, ADDED)))
    results.check("knotd's NOTIFY of the catalog brought it (our log: IXFR or AXFR of %s)" % CAT,
                  [] if h.log_has(m, r"zone %s\.: [AI]XFR.* from 127\.0\.0\.1:%d: new version"
                                  % (re.escape(CAT), kport)) else [m.log_tail()])
    ok = h.wait_for(lambda: h.rcode_of(mport, REMOVED, "SOA") == "REFUSED", h.scaled(30), step=0.2)
    results.check("%s, removed at knotd, is REFUSED" % REMOVED, [] if ok else [m.log_tail()])
    ok = h.wait_for(lambda: not os.path.exists(member_copy(tmp, REMOVED)), h.scaled(15))
    results.check("its copy on disk is deleted", [] if ok else [m.log_tail()])
    results.check("the other members still serve", [] if all_served(mport, MEMBERS[2:]) else
                  [m.log_tail()])


def check_bad_version(results, m, knotd, tmp):
    mport = m.port
    ok = h.wait_for(lambda: h.soa_serial(mport, FILEMEMBER) == 1, h.scaled(30), step=0.2)
    results.check("%s, member of the file catalog %s, is served" % (FILEMEMBER, BADCAT),
                  [] if ok else [m.log_tail()])
    h.write_file(tmp.join(BADCAT + ".zone"), file_catalog("1", 2))
    rc, out = knotc(tmp, "zone-reload", BADCAT)
    ok = h.wait_for(lambda: h.log_has(m, r"catalog %s\.: serial 2 refused: catalog schema "
                                      r"version \"1\" is not supported" % re.escape(BADCAT)),
                    h.scaled(30), step=0.2)
    results.check("a catalog turned to version \"1\" is refused with a clear log line",
                  [] if ok and rc == 0 else [out, m.log_tail()])
    results.check("its member keeps serving, the catalog stays at serial 1",
                  [] if h.soa_serial(mport, FILEMEMBER) == 1 and
                  h.soa_serial(mport, BADCAT) == 1 else [m.log_tail()])


def check_producer(results, m, knotd, tmp, stuck_port):
    """knotd consumes our produced catalog: our own zones appear there, then one added."""
    mport, kport = m.port, knotd.port
    ok = h.wait_for(lambda: all(h.soa_serial(kport, z) == 1 for z in OWN), h.scaled(30),
                    step=0.2)
    results.check("knotd, consuming our catalog %s, serves our zones %s" % (PRODUCED, OWN),
                  [] if ok else [knotd.log_tail()])
    ours = h.axfr_records(mport, PRODUCED)
    results.check("our catalog lists our zones and version \"2\", not the catalogs or members",
                  [] if not isinstance(ours, str) and
                  any(re.search(r"zones\.%s\. 0 IN PTR own1\.test\.$" % re.escape(PRODUCED), r)
                      for r in ours) and
                  any(r.startswith("version.%s. 0 IN TXT \"2\"" % PRODUCED) for r in ours) and
                  not any(re.search(r"PTR (m\d\d|catalog|filecat|new)\.test\.$", r) for r in ours)
                  else [str(ours)])
    for z in OWN:
        results.check("%s at knotd equals ours" % z,
                      h.compare_records(h.axfr_records(mport, z), h.axfr_records(kport, z)))
    serial = h.soa_serial(mport, PRODUCED)
    meridian_config(tmp, mport, kport, stuck_port, OWN + [OWN_ADDED])
    rc, out = h.control(tmp.join("control.sock"), "reload")
    results.check("reload with %s added" % OWN_ADDED, [] if rc == 0 else [out])
    results.check("our catalog's serial grew", [] if (h.soa_serial(mport, PRODUCED) or 0) >
                  (serial or 0) else [str(serial), str(h.soa_serial(mport, PRODUCED))])
    ok = h.wait_for(lambda: h.soa_serial(kport, OWN_ADDED) == 1, h.scaled(30), step=0.2)
    results.check("knotd serves %s after our NOTIFY of the catalog" % OWN_ADDED,
                  [] if ok else [knotd.log_tail(), m.log_tail()])


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    knot = h.find_tool("knotd", args.knotd)
    if not knot or not h.find_tool("knotc"):
        h.skip("knotd/knotc not found (Debian knot)")
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        for z in MEMBERS + [ADDED, CLASH, FILEMEMBER] + OWN + [OWN_ADDED]:
            h.write_file(tmp.join(z + ".zone"), zone_text(z, 1, "192.0.2.%d" % (len(z) + 10)))
        h.write_file(tmp.join(CLASH + ".zone"), zone_text(CLASH, 1, "192.0.2.99"))
        h.write_file(tmp.join(BADCAT + ".zone"), file_catalog("2", 1))
        mport, kport = h.free_port(), h.free_port()
        # Listening, never accepting: connections complete in the kernel's backlog and
        # every query on them waits for its timeout.
        silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        silent.bind((h.V4, 0))
        silent.listen(64)
        kconf = knot_config(tmp, kport, mport, MEMBERS + [CLASH])
        mconf = meridian_config(tmp, mport, kport, silent.getsockname()[1])
        knotd = h.Knotd(knot, tmp.path, kport, kconf, "k018")
        knotd.addrs = (h.V4,)
        m = None
        try:
            knotd.start()
            knotd.wait_ready(CAT, timeout=h.scaled(30))
            m = h.Meridiand(args.meridiand, tmp.path, mport, mconf, "m018", addrs=(h.V4,))
            m.start()
            m.wait_ready(CLASH, timeout=h.scaled(30))
            check_initial(results, m, knotd, tmp)
            check_changes(results, m, knotd, tmp, mport, kport)
            check_bad_version(results, m, knotd, tmp)
            check_producer(results, m, knotd, tmp, silent.getsockname()[1])
            before = {z: h.axfr_records(mport, z, keyring=KEYRING) for z in (ADDED, "m33.test")}
            knotd.stop()
            status = m.stop()
            results.check("meridiand exits cleanly on SIGTERM (%s)" % status,
                          [] if status == 0 else [m.log_tail()])
            m = h.Meridiand(args.meridiand, tmp.path, mport, mconf, "m018", addrs=(h.V4,))
            m.log_path = tmp.join("meridiand-restart.log")
            m.start()
            m.wait_ready(CLASH, timeout=h.scaled(30))
            members = [z for z in MEMBERS if z != REMOVED] + [ADDED, FILEMEMBER]
            ok = all_served(mport, members)
            results.check("restarted with knotd down: every member served from disk",
                          [] if ok else [m.log_tail()])
            errs = []
            for z, recs in before.items():
                errs += h.compare_records(h.axfr_records(mport, z, keyring=KEYRING), recs,
                                          other="before the restart")
            results.check("their data equals what was served before", errs)
            results.check("%s is still REFUSED after the restart" % REMOVED,
                          [] if h.rcode_of(mport, REMOVED, "SOA") == "REFUSED" else [m.log_tail()])
        except RuntimeError as e:
            results.check("servers start", [str(e)])
        finally:
            silent.close()
            knotd.stop()
            if m:
                m.stop()
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
