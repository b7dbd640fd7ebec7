# SPDX-License-Identifier: MIT
"""The steered names of e2e 012 and their checks: every variant a steering policy answers
with is signed (dnssec_variants.h), so each answer, asked with ECS for each `nets` rule,
must validate against example.test's DNSKEY with a served TTL at most the RRSIG's original
TTL, while members fail their (file) check and are drained or forced down with meridianctl.
The expected answers come from a model of the services below (README, Traffic steering:
the first pool of the client's order with a healthy member of the family answers; with none,
all_down: all fails open to the first pool with a member not forced down)."""

import ipaddress
import os

import harness as h

P = "example.test."
FLAGGED = ("192.0.2.11", "198.51.100.22", "192.0.2.61")  # members with the `flag` check
GEO_POOLS = {"eu": ["192.0.2.11", "192.0.2.12", "2001:db8:e::11"],
             "us": ["198.51.100.21", "198.51.100.22", "2001:db8:1::21"],
             "lo": ["192.0.2.31"]}
# (ECS prefix, pool order): one per nets rule, and one that no rule matches (declared order).
CLIENTS = [("10.1.0.0/16", ("eu", "us")), ("10.2.0.0/16", ("us", "eu")),
           ("127.0.0.0/24", ("lo", "eu")), ("2001:db8:99::/48", ("us", "eu")),
           # Only IPv4 members in its pools: AAAA is NODATA for it while the name has AAAA
           # for others (README: "no member of the asked family ... answers NODATA").
           ("10.3.0.0/16", ("lo",)),
           ("192.0.2.0/24", ("eu", "us", "lo"))]
WEIGHTED = ["192.0.2.41", "192.0.2.42", "192.0.2.43"]
FIRST_N = ["192.0.2.51", "192.0.2.52", "192.0.2.53", "192.0.2.54"]
CDN = {"10.1.0.0/16": "www.example.test.", "10.2.0.0/16": "www.secure.example.test."}


def services_yaml():
    def members(addrs):
        return "[ %s ]" % ", ".join("{ address: \"%s\"%s }" % (a, ", check: flag"
                                                               if a in FLAGGED else "")
                                    for a in addrs)
    lines = ["services:",
             "  geo.example.test:",
             "    ttl: 60",
             "    select: all",
             "    pools:"]
    lines += ["      %s: { members: %s }" % (p, members(m)) for p, m in GEO_POOLS.items()]
    lines += ["    nets:"]
    lines += ['      "%s": [%s]' % (c, ", ".join(o)) for c, o in CLIENTS[:-1]]
    lines += ["  w.example.test:", "    ttl: 30", "    select: weighted",
              "    pools: { p: { members: %s } }" % members(WEIGHTED),
              "  first.example.test:", "    ttl: 40", "    select: first_n", "    first_n: 2",
              "    pools: { p: { members: %s } }" % members(FIRST_N),
              "  cdn.example.test:", "    type: cname", "    ttl: 50", "    pools:",
              "      a: { members: [ { target: www.example.test. } ] }",
              "      b: { members: [ { target: www.secure.example.test. } ] }",
              "    nets:", '      "10.1.0.0/16": [a, b]', '      "10.2.0.0/16": [b, a]',
              # Its only member fails from the start: fail closed, NODATA (README, all_down).
              "  gone.example.test:", "    ttl: 20", "    all_down: nodata",
              "    pools: { p: { members: %s } }" % members(["192.0.2.61"])]
    return lines


def write_states(tmp, down):
    """The file check's states: every flagged member up unless in `down` (absent = down)."""
    text = "".join("%s %s\n" % (a, "down" if a in down or a == "192.0.2.61" else "up")
                   for a in FLAGGED)
    path = tmp.join("states.txt")
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(path + ".new", path)


class Ctl(h.Meridianctl):
    """meridianctl -s SOCKET, and the state of one member's target."""

    def state_of(self, addr):
        """The effective state of the target of member addr ("up", "down") or None."""
        rc, out = self("states")
        for line in out.splitlines() if rc == 0 else ():
            parts = line.split()
            if parts and (parts[0] == addr or parts[0].startswith(addr + "|")):
                return parts[1]
        return None


class Collect:
    """Gathers the errors of several checks into one (h.Results' check interface)."""

    def __init__(self):
        self.errors = []

    def check(self, label, errs):
        self.errors += ["%s: %s" % (label, e) for e in errs]
        return not errs


def family(addr):
    return ipaddress.ip_address(addr).version


def expect_select_all(order, fam, down, forced):
    """The members `select: all` answers with: the first pool of `order` with a member of the
    family up, else (all_down: all) the first with one not forced down, else none."""
    for pool in order:
        got = [a for a in GEO_POOLS[pool] if family(a) == fam and a not in down | forced]
        if got:
            return got
    for pool in order:
        got = [a for a in GEO_POOLS[pool] if family(a) == fam and a not in forced]
        if got:
            return got
    return []


def check_geo(results, check_direct, port, keys, label, down, forced, nodata_seen):
    """Each client's A and AAAA answer validates and is the model's. NODATA answers (with
    their NSEC3 proof) are one check per phase, each (client, type) judged the first time."""
    nodata = []
    for ecs, order in CLIENTS:
        for qtype, fam in (("A", 4), ("AAAA", 6)):
            want = expect_select_all(order, fam, down, forced)
            if want:
                check_direct(results, port, keys, "steered %s: geo, ECS %s %s -> %s, validated"
                             % (label, ecs, qtype, " ".join(want)), "geo." + P, qtype,
                             want=set(want), ecs=ecs)
            elif (ecs, qtype) not in nodata_seen:
                nodata_seen.add((ecs, qtype))
                nodata.append((ecs, qtype))
    if nodata:
        sub = Collect()
        for ecs, qtype in nodata:
            check_direct(sub, port, keys, "ECS %s %s" % (ecs, qtype), "geo." + P, qtype,
                         proof=("nodata", P, "geo." + P), ecs=ecs)
        results.check("steered %s: geo NODATA (%s) validates with its NSEC3 proof"
                      % (label, ", ".join("%s %s" % n for n in nodata)), sub.errors)


def check_weighted(results, ask, keys, port, label, up, validate_message):
    """Asks until every member that is up has come (bounded), validating each answer."""
    seen, errs = set(), []
    for _ in range(300):
        msg = ask(port, "w." + P, "A")
        if msg is None:
            errs.append("no reply")
            break
        e, n = validate_message(msg, keys.all())
        got = {rd.to_text() for rr in msg.answer if rr.rdtype == 1 for rd in rr}
        if e or len(got) != 1 or not got <= set(up):
            errs += e + ["answer %s, expected one of %s" % (sorted(got), up)]
            break
        seen |= got
        if seen == set(up):
            break
    if not errs and seen != set(up):
        errs.append("only %s came in 300 queries" % sorted(seen))
    results.check("steered %s: weighted w, each member that is up (%s) comes, validated"
                  % (label, " ".join(up)), errs)


def wait_states(results, ctl, label, down, forced):
    """Waits (bounded) until meridianctl states shows the model's states."""
    down = down | {"192.0.2.61"}  # gone's member: its check never passes
    want = {a: "down" if a in down | forced else "up" for a in FLAGGED + tuple(forced)}
    got = {}

    def settled():
        got.update({a: ctl.state_of(a) for a in want})
        return got == want
    ok = h.wait_for(settled, timeout=h.scaled(15), step=0.1)
    return results.check("%s: meridianctl states agrees" % label,
                         [] if ok else ["states %s, expected %s" % (got, want)])


def run(results, server, ctl, keys, tmp, ask, uport, digbin, dig, check_direct,
        validate_message):
    port = server.port
    # Phases: (label, flagged members failing their check, ctl commands). Cumulative.
    phases = [
        ("every member up", set(), []),
        ("192.0.2.11 failing", {"192.0.2.11"}, []),
        ("192.0.2.12, 192.0.2.41 and 192.0.2.51 drained", {"192.0.2.11"},
         [("drain", "member", "192.0.2.12"), ("drain", "member", "192.0.2.41"),
          ("drain", "member", "192.0.2.51")]),
        ("no us A member up (198.51.100.21 forced down, 198.51.100.22 failing): fail open",
         {"192.0.2.11", "198.51.100.22"}, [("force", "down", "member", "198.51.100.21")]),
        ("every A member forced down", {"192.0.2.11", "198.51.100.22"},
         [("drain", "member", "192.0.2.11"), ("force", "down", "member", "198.51.100.22"),
          ("drain", "member", "192.0.2.31")]),
        ("all forcing cleared, every check up", set(), [("undrain", "all")]),
    ]
    forced, nodata_seen = set(), set()
    for label, down, commands in phases:
        write_states(tmp, down)
        errs = []
        for words in commands:
            rc, out = ctl(*words)
            if rc != 0:
                errs.append("meridianctl %s: %s" % (" ".join(words), out))
            if words[0] == "undrain":
                forced = set()
            else:
                forced.add(words[-1])
        if errs:
            results.check("%s: meridianctl" % label, errs)
        if not wait_states(results, ctl, label, down, forced):
            continue
        check_geo(results, check_direct, port, keys, label, down, forced, nodata_seen)
        check_weighted(results, ask, keys, port, label, [a for a in WEIGHTED if a not in forced],
                       validate_message)
        want = [a for a in FIRST_N if a not in forced][:2]
        check_direct(results, port, keys, "steered %s: first_n first -> %s, validated"
                     % (label, " ".join(want)), "first." + P, "A", want=set(want))
    for ecs, target in CDN.items():
        check_direct(results, port, keys, "steered CNAME service, ECS %s -> %s, validated"
                     % (ecs, target), "cdn." + P, "A", want={target}, ecs=ecs,
                     want_type="CNAME")
    check_direct(results, port, keys, "steered CNAME service without ECS: chain followed, "
                 "validated", "cdn." + P, "A", want={"192.0.2.80"})
    check_direct(results, port, keys, "steered NODATA when every member is down (all_down: "
                 "nodata): a valid NSEC3 proof", "gone." + P, "A",
                 proof=("nodata", P, "gone." + P))
    if uport:
        got = dig(digbin, uport, "gone." + P, "A")
        ok = not isinstance(got, str) and got[0] == "NOERROR" and "ad" in got[1] and not got[2]
        results.check("unbound: steered NODATA (every member down, all_down: nodata) -> "
                      "NOERROR AD, no data", [] if ok else [str(got)])
