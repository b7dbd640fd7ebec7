#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 001: meridiand and knotd serve the same zones; every query must get the
same answer, or a difference asserted with the RFC text it rests on.

Every reply is compared whole, in every mode (harness.py, Comparing responses):
id, opcode, rcode, the flags QR AA TC RD RA AD CD, the question exactly as
asked (a reply without one fails unless the case says the question could not
be read), each section as RRsets in order with their records as a multiset,
and the OPT (presence, version, DO, payload, options but EDE; NSID must be
each server's own). Where knotd differs on purpose, the case names the RFC
text it rests on, builds the reply we must give from knotd's (or from the
query, where knotd does not answer) and also checks that knotd still differs,
so a difference that disappears is noticed.

--self-test runs a second knotd in place of meridiand, to check the harness.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402  (re-executes under a python3 with dnspython)

import dns.edns  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.opcode  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.zone  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "zones"))

ZONES = [
    ("example.org", os.path.join(HERE, "zones", "example.org.zone")),
    ("hosted.example.org", os.path.join(HERE, "zones", "hosted.example.org.zone")),
    ("example", os.path.join(HERE, "zones", "example.zone")),
    # The example zones meridiand ships must answer like knotd too.
    ("example.com", os.path.join(SHIPPED, "example.com.zone")),
    ("2.0.192.in-addr.arpa", os.path.join(SHIPPED, "2.0.192.in-addr.arpa.zone")),
]
IDENTITY = "e2e-identity"
VERSION = "e2e-version 1.0"
UDP_MAX = 1232
NSID_LEN = 8  # each server's NSID, random per run; txtedge/txtover are sized for 8 octets
EDNS_DEFAULT = object()  # marker: "EDNS(0), payload 1232"


class Case:
    """One query and how to judge the answer.

    mode: full    the whole reply compared with knotd's (or with `differ`'s)
          any     RFC 8482 minimal ANY: as full, but the answer section is judged
                  by `check` (a subset of the name's data; servers pick different
                  RRsets)
          noreply neither server may answer
    differ(ref, query) -> Reply: the reply we must give where knotd differs on
          purpose, built from knotd's Reply `ref` (None when knotd gave none);
          `why` cites the RFC text the difference rests on.
    question: the question the reply must carry when it is not the query's (raw
          wires whose question cannot be read: []).
    check(resp, query) -> list of errors: extra assertions on meridiand's reply.
    ours_only: `check` asserts a choice knotd makes differently (not run by --self-test).
    """

    def __init__(self, label, query=None, wire=None, tcp=False, addr=h.V4, mode="full",
                 check=None, differ=None, why=None, question=None, want_size=None,
                 ours_only=False):
        self.label = label
        self.query = query
        self.wire = wire if wire is not None else query.to_wire()
        self.tcp = tcp
        self.addr = addr
        self.mode = mode
        self.check = check
        self.differ = differ
        self.why = why
        self.question = question
        self.want_size = want_size  # exact reply length in octets, where it is the point
        self.ours_only = ours_only or differ is not None  # not run by --self-test
        assert differ is None or why, "a deliberate difference needs its reason"


def make(name, rdtype="A", rdclass="IN", edns=EDNS_DEFAULT, payload=UDP_MAX, options=None,
         do=False, flags=dns.flags.RD, opcode=None):
    """A query; edns=None sends none, an int sends that EDNS version."""
    if edns is EDNS_DEFAULT:
        edns = 0
    q = dns.message.make_query(name, rdtype, rdclass, flags=flags)
    if edns is not None:
        # use_edns() directly: make_query(use_edns=1) means "True", i.e. version 0.
        q.use_edns(edns, ednsflags=dns.flags.DO if do else 0, payload=payload,
                   options=options or [])
    if opcode is not None:
        q.set_opcode(opcode)
    return q


def udp_limit(query):
    """RFC 6891 §6.2.3/§6.2.5: no EDNS -> 512; else the requester's size, at
    least 512, at most our udp_max_size."""
    if query is None or query.edns < 0:
        return 512
    return min(max(query.payload, 512), UDP_MAX)


# ---------------------------------------------------------------------------
# Extra assertions


def expect(rcode=None, flags_set=(), flags_clear=(), answer_min=None, edns=None):
    def check(resp, query):
        errs = []
        if rcode is not None and resp.rcode() != rcode:
            errs.append("rcode: want %s got %s" % (dns.rcode.to_text(rcode), h.rcode_text(resp)))
        for f in flags_set:
            if not resp.flags & f:
                errs.append("flag %s should be set" % dns.flags.to_text(f))
        for f in flags_clear:
            if resp.flags & f:
                errs.append("flag %s should be clear" % dns.flags.to_text(f))
        if answer_min is not None and len(resp.answer) < answer_min:
            errs.append("answer has %d RRsets, want >= %d" % (len(resp.answer), answer_min))
        if edns is not None and (resp.edns >= 0) != edns:
            errs.append("OPT should be %s" % ("present" if edns else "absent"))
        return errs
    return check


def with_ecs_echo(ref, query):
    """Our reply to a well-formed ECS query for static data: knotd's, plus the option
    echoed with scope 0 (the answer does not depend on the client)."""
    sent = h.opt_value(query, h.ECS)
    opt = ref.opt._replace(options=tuple(sorted(ref.opt.options + (
        h.ecs_option(sent.address, sent.srclen, 0),))))
    return ref.replace(opt=opt)


def error_reply(rcode, question=None, opt="echo"):
    """differ: `rcode` with no records (knotd's reply not used)."""
    return lambda ref, query: h.Reply.to_query(query, rcode, question=question, opt=opt)


def recase(ref, section, index, owner):
    """differ: knotd's reply with the owner of RRset `index` of `section` written `owner`."""
    sets = list(getattr(ref, section))
    rrset = sets[index]
    sets[index] = rrset._replace(owner=owner, records=tuple(sorted((owner, ttl, rd)
                                                                  for _, ttl, rd in rrset.records)))
    return ref.replace(**{section: tuple(sets)})


def with_opt(ref, query):
    """differ: knotd's reply plus our OPT (payload 1232, no options)."""
    return ref.replace(opt=h.Opt(0, False, UDP_MAX, ()))


# ---------------------------------------------------------------------------
# Zone data for RFC 8482 ANY checks


class ZoneData:
    def __init__(self, zones):
        self.zones = [dns.zone.from_file(path, origin, relativize=False)
                      for origin, path in zones]

    def rrsets(self, qname):
        """{(type, class): sorted ((ttl, rdata), ...)} of qname, or of its wildcard source."""
        name = dns.name.from_text(qname.lower())
        for z in sorted(self.zones, key=lambda z: -len(z.origin.labels)):
            if not name.is_subdomain(z.origin):
                continue
            node = z.get_node(name)
            if node is None:
                node = z.get_node(dns.name.Name(("*",) + name.parent().labels))
            if node is None:
                return {}
            return {(rds.rdtype, rds.rdclass):
                    tuple(sorted((rds.ttl, rd.to_digestable(dns.name.root)) for rd in rds))
                    for rds in node}
        return {}


def owner_addresses(zone_data):
    """The reply to an HTTPS query whose ServiceMode TargetName is "." (RFC 9460 §2.5.2: the
    owner is the target): knotd's, with the owner's A and AAAA RRsets in the additional
    section (§4.1), where knotd adds none."""
    def differ(ref, query):
        qname = query.question[0].name.to_text()
        data = zone_data.rrsets(qname)
        extra = []
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            recs = data.get((rdtype, dns.rdataclass.IN))
            if recs:
                extra.append(h.RRset(qname, rdtype, dns.rdataclass.IN,
                                     tuple(sorted((qname, ttl, rd) for ttl, rd in recs))))
        return ref.replace(additional=ref.additional + tuple(extra))
    return differ


def any_check(zone_data, tcp=False):
    """RFC 8482 §4.1: at least one RRset of the name, each one whole, owner as asked; over
    UDP (meridiand's choice, against amplification) exactly one, over TCP all of them."""
    def check(resp, query):
        qname = query.question[0].name.to_text()
        answer = h.Reply.of(resp).answer
        if not answer:
            return ["ANY answer is empty (RFC 8482 §4.1: return at least one RRset)"]
        errs = []
        data = zone_data.rrsets(qname)
        for rrset in answer:
            owners = {o for o, _, _ in rrset.records}
            recs = tuple(sorted((ttl, rd) for _, ttl, rd in rrset.records))
            if owners != {qname}:
                errs.append("ANY answer owner %s != %s (as asked)" % (sorted(owners), qname))
            elif data.get((rrset.rdtype, rrset.rdclass)) != recs:
                errs.append("ANY answer is not a whole RRset of the zone: %s"
                            % h.rrset_text(rrset))
        types = [r.rdtype for r in answer]
        if len(set(types)) != len(types):
            errs.append("ANY answer repeats an RRset: %s" % types)
        if not tcp and len(answer) != 1:
            errs.append("ANY over UDP: %d RRsets, meridiand gives one" % len(answer))
        if tcp and set(types) != {t for t, _ in data}:
            errs.append("ANY over TCP: types %s, the name has %s"
                        % (sorted(types), sorted(t for t, _ in data)))
        return errs
    return check


# ---------------------------------------------------------------------------
# The queries


def build_cases(zone_data):
    cases = []
    nsid = dns.edns.GenericOption(h.NSID, b"")  # RFC 5001 §2.1: empty in a query

    def add(label, query, **kw):
        cases.append(Case(label, query, **kw))

    def types(name, rdtypes, **kw):
        for t in rdtypes:
            add("%s %s" % (name, t), make(name, t, **kw))

    # Every type at its owner, plus NODATA types beside them.
    types("example.org", ["SOA", "NS", "MX", "A", "AAAA", "TXT", "CAA", "SSHFP",
                          "HINFO", "SRV", "DS", "DNSKEY", "CNAME"])
    https_why = ("RFC 9460 §4.1: A and AAAA \"for any TargetNames that are in the zone\"; "
                 "§2.5.2: a ServiceMode TargetName \".\" is the owner (knotd adds nothing)")
    for name in ("example.org", "www.example.org", "example.com"):
        add("%s HTTPS" % name, make(name, "HTTPS"), differ=owner_addresses(zone_data),
            why=https_why)
    types("ns1.example.org", ["A", "AAAA", "MX"])
    types("ns2.example.org", ["A", "AAAA"])
    types("mail.example.org", ["A", "AAAA"])
    types("www.example.org", ["A", "AAAA", "TXT", "SVCB"])
    types("txt.example.org", ["TXT"])
    types("_sip._udp.example.org", ["SRV"])
    types("_xmpp._tcp.example.org", ["SRV"])
    types("sip.example.org", ["NAPTR", "A"])
    types("_443._tcp.www.example.org", ["TLSA"])
    types("_dns.example.org", ["SVCB"])
    types("svc.example.org", ["SVCB"])
    types("svc2.example.org", ["SVCB"])
    types("ptr.example.org", ["PTR"])
    types("opaque.example.org", ["TYPE65400", "TYPE65401", "A", "TYPE65402"])
    types("opaque-a.example.org", ["A"])

    # NXDOMAIN, NODATA, empty non-terminals.
    types("nothere.example.org", ["A", "AAAA", "SOA"])
    types("deeper.nothere.example.org", ["A"])
    types("dept.example.org", ["A", "NS"])
    types("host.dept.example.org", ["A", "TXT"])
    types("deep.example.org", ["A"])
    types("x.deep.example.org", ["A"])
    types("b.x.deep.example.org", ["A"])
    types("nope.b.x.deep.example.org", ["A"])

    # CNAME chains.
    types("c1.example.org", ["A", "AAAA", "CNAME", "TXT"])
    types("c3.example.org", ["A"])
    types("cext.example.org", ["A", "CNAME"])
    types("cnx.example.org", ["A"])
    types("cwild.example.org", ["A", "TXT"])
    types("cwc.example.org", ["A"])
    types("cdel.example.org", ["A"])
    types("cdname.example.org", ["A"])
    types("cnodata.example.org", ["A", "MX"])
    types("cloop1.example.org", ["A"])
    types("cself.example.org", ["A"])
    types("ccross.example.org", ["A"])
    types("cent.example.org", ["A"])

    # DNAME (RFC 6672).
    types("old.example.org", ["DNAME", "A"])
    types("host.old.example.org", ["A", "AAAA", "MX"])
    types("c.old.example.org", ["A"])
    types("missing.old.example.org", ["A"])
    types("a.b.old.example.org", ["A"])
    types("x.dext.example.org", ["A"])
    types("host.dchain.example.org", ["A"])
    types("x.dlong.example.org", ["A"])
    # RFC 6672 §2.2: a synthesised name longer than 255 octets is YXDOMAIN.
    types("a" * 60 + "." + "b" * 20 + ".dlong.example.org", ["A"])

    # Wildcards (RFC 4592).
    types("foo.wild.example.org", ["A", "TXT", "MX", "AAAA"])
    types("a.b.c.wild.example.org", ["A"])
    types("exact.wild.example.org", ["A", "TXT"])
    types("sub.exact.wild.example.org", ["A"])
    types("*.wild.example.org", ["A"])
    types("ent.wild.example.org", ["A"])
    types("x.ent.wild.example.org", ["A"])
    types("foo.wc.example.org", ["A", "CNAME", "TXT"])
    types("foo.wmx.example.org", ["MX", "A"])

    # Delegations: in-bailiwick glue, sibling glue, no glue, in-zone NS target.
    types("sub.example.org", ["NS", "A", "DS", "SOA"])
    types("host.sub.example.org", ["A", "DS"])
    types("ns1.sub.example.org", ["A", "AAAA"])
    types("a.b.sub.example.org", ["MX"])
    types("sib.example.org", ["A", "NS"])
    types("host.sib.example.org", ["A"])
    types("ext.example.org", ["A"])
    types("inz.example.org", ["A"])
    types("host.big.example.org", ["A"])
    # A child zone hosted here: longest match wins; DS comes from the parent.
    types("hosted.example.org", ["SOA", "NS", "A", "DS"])
    types("www.hosted.example.org", ["A"])
    types("any.thing.hosted.example.org", ["TXT", "A"])
    types("ns1.hosted.example.org", ["A"])

    # RFC 4592 §2.2.1 example zone and its example queries (§2.2.1 lists the
    # answers: synthesis, NODATA, no synthesis, referral).
    types("host3.example", ["MX", "A"])
    types("foo.bar.example", ["TXT"])
    types("host1.example", ["MX"])
    types("sub.*.example", ["MX"])
    types("_telnet._tcp.host1.example", ["SRV"])
    types("host.subdel.example", ["A"])
    types("ghost.*.example", ["MX"])
    types("_ssh._tcp.host1.example", ["SRV"])
    types("_ssh._tcp.host2.example", ["SRV"])
    types("_tcp.host2.example", ["SRV"])
    types("host2.example", ["A"])

    # The shipped example zones.
    types("example.com", ["SOA", "NS", "MX", "A", "AAAA", "TXT", "CAA"])
    types("www.example.com", ["A", "SSHFP"])
    types("files.example.com", ["A"])
    types("cdn.example.com", ["A"])
    types("txt.example.com", ["TXT"])
    types("_sip._udp.example.com", ["SRV"])
    types("sip.example.com", ["NAPTR"])
    types("_http._tcp.example.com", ["PTR"])
    types("web._http._tcp.example.com", ["SRV", "TXT"])
    types("_dns.example.com", ["SVCB"])
    types("_443._tcp.www.example.com", ["TLSA"])
    types("sub.example.com", ["DS", "NS"])
    types("host.sub.example.com", ["A"])
    types("any.wild.example.com", ["A", "TXT"])
    types("dept.example.com", ["A"])
    types("host.old.example.com", ["A"])
    types("opaque.example.com", ["TYPE65400"])
    types("10.ptr.example.com", ["PTR"])
    types("10.2.0.192.in-addr.arpa", ["PTR"])
    types("99.2.0.192.in-addr.arpa", ["PTR"])
    types("2.0.192.in-addr.arpa", ["SOA", "NS"])

    # Outside our zones: REFUSED (no referral to the root, RFC 1034 §4.3.1 for
    # a server that is not a recursor).
    types("www.example.net", ["A"])
    types("org", ["SOA"])
    types(".", ["NS"])
    types("com", ["NS"])
    types("2.0.192.in-addr.arpa.example.org.example.net", ["A"])

    # Without EDNS; RD clear; DO/CD/AD handling (RFC 3225, RFC 6840 §5.7-5.8).
    types("www.example.org", ["A", "MX"], edns=None)
    types("c1.example.org", ["A"], edns=None)
    types("host.sub.example.org", ["A"], edns=None)
    add("www.example.org A RD=0", make("www.example.org", flags=0))
    add("www.example.org A DO=1", make("www.example.org", do=True))
    add("nothere.example.org A DO=1", make("nothere.example.org", do=True))
    # CD: RFC 4035 §3.1.6, "A security-aware name server SHOULD clear the CD bit when
    # composing an authoritative response"; knotd and NSD clear it, and so do we.
    add("www.example.org A CD=1", make("www.example.org", flags=dns.flags.RD | dns.flags.CD),
        check=expect(flags_clear=(dns.flags.CD,)))
    add("www.example.org A CD=1 DO=1", make("www.example.org", do=True,
                                             flags=dns.flags.RD | dns.flags.CD),
        check=expect(flags_clear=(dns.flags.CD,)))
    add("www.example.org A AD=1", make("www.example.org", flags=dns.flags.RD | dns.flags.AD))

    # 0x20 mixed case: question echoed as asked; owners compared exactly (they
    # follow the question where compressed to it), RDATA canonically.
    for name, t in (("wWw.ExAmPlE.oRg", "A"), ("FoO.WiLd.example.org", "A"),
                    ("hOsT.SuB.example.org", "A"), ("NoThErE.example.ORG", "A"),
                    ("C1.EXAMPLE.ORG", "A"), ("HOST3.EXAMPLE", "MX"),
                    ("WWW.HOSTED.EXAMPLE.ORG", "A"), ("x.DeXt.example.org", "A")):
        add("0x20 %s %s" % (name, t), make(name, t))
    # DNAME synthesis (RFC 6672 §2.2) from a mixed-case name: the new name keeps the
    # client's labels for the part it copies (host -> HoSt.new.eXaMpLe.org), where
    # knotd lowercases them; so the owner of the target's A differs in case.
    add("0x20 HoSt.OlD.eXaMpLe.org A", make("HoSt.OlD.eXaMpLe.org"),
        differ=lambda ref, query: recase(ref, "answer", 2, "HoSt.new.eXaMpLe.org."),
        why="RFC 4343 §4.1: \"Case is preserved on output, except when output is optimized "
            "by using indirect labels\": the labels copied from the query keep its case")

    # TCP (RFC 7766) and IPv6 transport.
    for name, t in (("www.example.org", "A"), ("example.org", "SOA"), ("txtbig.example.org", "TXT"),
                    ("txt1300.example.org", "TXT"), ("huge.example.org", "A"),
                    ("nothere.example.org", "A"), ("c1.example.org", "A")):
        add("tcp %s %s" % (name, t), make(name, t), tcp=True)
    add("tcp txt1300 TXT no EDNS", make("txt1300.example.org", "TXT", edns=None), tcp=True)
    for name, t in (("www.example.org", "AAAA"), ("host.sub.example.org", "A")):
        add("ipv6 %s %s" % (name, t), make(name, t), addr=h.V6)
    add("ipv6 tcp www.example.org A", make("www.example.org"), addr=h.V6, tcp=True)

    # UDP size limits: 512 without EDNS, the requester's payload with EDNS
    # (raised to 512, capped at 1232). The txtNNN names are sized for this.
    for name in ("txt500", "txt600", "txt900", "txt1232", "txt1300", "txtbig"):
        qn = name + ".example.org"
        add("udp noedns %s TXT" % name, make(qn, "TXT", edns=None))
        add("udp edns1232 %s TXT" % name, make(qn, "TXT"))
    add("udp edns4096 txt1300 TXT", make("txt1300.example.org", "TXT", payload=4096))
    add("udp edns512 txt600 TXT", make("txt600.example.org", "TXT", payload=512))
    add("udp edns100 txt500 TXT", make("txt500.example.org", "TXT", payload=100))
    add("udp nsid txt1232 TXT", make("txt1232.example.org", "TXT",
                                       options=[dns.edns.GenericOption(h.NSID, b"")]))
    # Exactly at the limit, NSID included in the arithmetic: 1232 fits, 1233 not.
    for name in ("txtedge", "txtover"):
        qn = name + ".example.org"
        add("udp nsid %s TXT" % name, make(qn, "TXT", options=[nsid]),
            want_size=1232 if name == "txtedge" else None)
        add("udp edns1232 %s TXT" % name, make(qn, "TXT"),
            want_size=1220 if name == "txtedge" else 1221)
    add("udp noedns ctxtbig TXT", make("ctxtbig.example.org", "TXT", edns=None))
    # Referrals: RFC 9471 §3: all in-domain glue must fit, else TC.
    add("udp noedns big referral", make("host.big.example.org", edns=None))
    add("udp edns big referral", make("host.big.example.org"))
    add("udp edns huge referral", make("host.huge.example.org"))

    # EDNS options.
    unknown = dns.edns.GenericOption(65001, b"\x01\x02\x03")
    ecs4 = dns.edns.ECSOption("192.0.2.0", 24)
    ecs6 = dns.edns.ECSOption("2001:db8::", 56)
    add("nsid www A", make("www.example.org", options=[nsid]))
    add("nsid nxdomain", make("nothere.example.org", options=[nsid]))
    add("nsid refused", make("www.example.net", options=[nsid]))
    add("nsid tcp", make("www.example.org", options=[nsid]), tcp=True)
    add("unknown option ignored", make("www.example.org", options=[unknown]))
    add("unknown option + nsid", make("www.example.org", options=[unknown, nsid]))
    add("edns version 1 -> BADVERS", make("www.example.org", edns=1))
    add("edns version 1 + nsid", make("www.example.org", edns=1, options=[nsid]))
    add("edns version 255 nxdomain", make("nothere.example.org", edns=255))
    # RFC 7871 §7.2.1: "An Authoritative Nameserver that implements this protocol
    # and receives an ECS option MUST include an ECS option in its response",
    # FAMILY, SOURCE and ADDRESS as sent; static data holds for every client:
    # scope 0. knotd (no geoip module) does not implement ECS, and "Such a
    # server MUST NOT include an ECS option within replies".
    ecs_why = "RFC 7871 §7.2.1: ECS-aware servers echo the option; knotd is not ECS-aware"
    add("ecs v4 www A", make("www.example.org", options=[ecs4]), differ=with_ecs_echo,
        why=ecs_why)
    add("ecs v6 www AAAA", make("www.example.org", "AAAA", options=[ecs6]),
        differ=with_ecs_echo, why=ecs_why)
    add("ecs v4 nxdomain", make("nothere.example.org", options=[ecs4]), differ=with_ecs_echo,
        why=ecs_why)
    add("ecs v4 + nsid tcp", make("www.example.org", options=[ecs4, nsid]), tcp=True,
        differ=with_ecs_echo, why=ecs_why)
    # Malformed ECS: FORMERR, our OPT without ECS (nothing sound to echo). knotd
    # ignores the option and answers.
    for what, payload, why in (
            ("unknown family 3", bytes([0, 3, 24, 0, 10, 2, 0]),
             "RFC 7871 §7.2.1: a wrongly formatted option (e.g. unknown FAMILY) MUST get FORMERR"),
            ("source /33", bytes([0, 1, 33, 0, 10, 2, 0, 0, 0]),
             "RFC 7871 §7.2.1: a wrongly formatted option MUST get FORMERR"),
            ("address bits beyond /22", bytes([0, 1, 22, 0, 10, 2, 3]),
             "RFC 7871 §6: stray ADDRESS bits SHOULD get FORMERR"),
            ("address longer than /24", bytes([0, 1, 24, 0, 10, 2, 0, 0]),
             "RFC 7871 §6: too many ADDRESS octets SHOULD get FORMERR")):
        add("ecs malformed: %s" % what,
            make("www.example.org", options=[dns.edns.GenericOption(h.ECS, payload)]),
            differ=error_reply(dns.rcode.FORMERR), why=why)
    add("ecs malformed: two options",
        make("www.example.org", options=[ecs4, dns.edns.ECSOption("198.51.100.0", 24)]),
        differ=error_reply(dns.rcode.FORMERR),
        why="no RFC covers two ECS options: FORMERR is our choice (which subnet to answer?)")

    # CHAOS (identity/version configured alike on both servers). No RFC says
    # whether these answers are authoritative: BIND and NSD set AA (they serve
    # a built-in CH zone), knotd does not. We set AA, like BIND and NSD.
    def chaos_aa(ref, query):
        return ref.replace(flags=ref.flags | dns.flags.AA)
    chaos_why = "no RFC covers CHAOS TXT: AA set as BIND and NSD do (knotd clears it)"
    for name in ("id.server", "hostname.bind", "version.bind", "version.server"):
        add("chaos %s TXT" % name, make(name, "TXT", "CH"), differ=chaos_aa, why=chaos_why)
    add("chaos ID.SERVER TXT 0x20", make("ID.Server", "TXT", "CH"), differ=chaos_aa,
        why=chaos_why)
    add("chaos id.server TXT tcp", make("id.server", "TXT", "CH"), tcp=True, differ=chaos_aa,
        why=chaos_why)
    add("chaos version.bind A", make("version.bind", "A", "CH"))
    add("chaos authors.bind TXT", make("authors.bind", "TXT", "CH"))
    add("chaos www.example.org TXT", make("www.example.org", "TXT", "CH"))

    # RFC 8482 minimal ANY.
    any_ok = any_check(zone_data)
    for name in ("example.org", "www.example.org", "txt.example.org", "sip.example.org",
                 "foo.wild.example.org", "example.com", "host3.example"):
        add("ANY %s" % name, make(name, "ANY"), mode="any", check=any_ok)
    # Over TCP, RFC 8482 §4.1 still allows a subset; we give every RRset (knotd one).
    add("ANY tcp www.example.org", make("www.example.org", "ANY"), tcp=True, mode="any",
        check=any_check(zone_data, tcp=True), ours_only=True)
    add("ANY nxdomain", make("nothere.example.org", "ANY"))
    add("ANY ent", make("dept.example.org", "ANY"))
    add("ANY referral", make("host.sub.example.org", "ANY"))

    # Opcodes. STATUS (2), unassigned 3 and 15, DSO (6, RFC 8490 §5.1.1:
    # NOTIMP from a server without DSO): NOTIMP with the question and, RFC 6891
    # §6.1.1, an OPT when the query had one (and NSID when asked).
    for op in (2, 3, 6, 15):
        add("opcode %d" % op, make("www.example.org", opcode=op))
        add("opcode %d no EDNS" % op, make("www.example.org", opcode=op, edns=None))
    add("opcode 2 + nsid", make("www.example.org", opcode=2, options=[nsid]))
    add("opcode 2 tcp", make("www.example.org", opcode=2), tcp=True)
    add("opcode 2 CD=1 DO=1", make("www.example.org", opcode=2, do=True,
                                   flags=dns.flags.RD | dns.flags.CD))
    # EDNS version before opcode (knotd's order): BADVERS.
    add("opcode 2 + edns version 1", make("www.example.org", opcode=2, edns=1))
    # NOTIFY (4) and UPDATE (5): knotd implements both and answers NOTAUTH as
    # no ACL allows them. meridiand's zones are all primaries: a NOTIFY for one is
    # REFUSED, as NSD answers one no allow-notify permits; UPDATE is not implemented.
    add("opcode 4", make("example.org", "SOA", opcode=4),
        differ=lambda ref, query: ref.replace(rcode=dns.rcode.REFUSED),
        why="RFC 1996: NOTIFY is for secondaries; a primary-only zone refuses it as NSD "
            "does (knotd: NOTAUTH)")
    add("opcode 5", make("example.org", "SOA", opcode=5),
        differ=lambda ref, query: ref.replace(rcode=dns.rcode.NOTIMP),
        why="RFC 2136 §2.2: NOTIMP, the server does not support the Operation code "
            "(knotd supports it: NOTAUTH)")
    # Obsolete mail QTYPEs: knotd answers NODATA.
    for t in ("MAILA", "MAILB"):
        add("qtype %s" % t, make("www.example.org", t), differ=error_reply(dns.rcode.NOTIMP),
            why="RFC 1035 §3.2.3 QTYPEs we do not implement: §4.1.1 NOTIMP, \"does not "
                "support the requested kind of query\" (BIND too)")
    # CD in error replies and referrals: cleared (RFC 4035 §3.1.6), as knotd does.
    cd = dns.flags.RD | dns.flags.CD
    add("CD=1 refused", make("www.example.net", flags=cd))
    add("CD=1 nxdomain", make("nothere.example.org", flags=cd))
    add("CD=1 referral", make("host.sub.example.org", flags=cd))
    add("CD=1 chaos", make("version.bind", "TXT", "CH", flags=cd), differ=chaos_aa,
        why=chaos_why)

    # Malformed: FORMERR (or silence for a response).
    add_malformed(add)
    resp = make("www.example.org", edns=None, flags=dns.flags.QR)
    add("QR=1 query is not answered", resp, mode="noreply")
    # A meta-type as the question: RFC 6895 §3.1 says Meta-TYPEs "in some cases can
    # also be used in queries"; knotd (and NSD) answer NODATA, so do we.
    for t in ("OPT", "TSIG", "TKEY"):
        add("qtype %s in question" % t, make("www.example.org", t))
    return cases


def add_malformed(add):
    """Hand-made messages that are wrong in one way each."""
    for edns in (None, 0):
        tag = "" if edns is None else " EDNS"
        # Two questions. RFC 9619 §4: "A DNS message with OPCODE = 0 and QDCOUNT > 1
        # MUST be treated as an incorrectly formatted message. The value of the RCODE
        # parameter in the response message MUST be set to 1 (FORMERR)." No question
        # is echoed (neither is the one the rcode is about); the OPT is (RFC 6891
        # §6.1.1). knotd 3.2 predates RFC 9619 and drops the message.
        one = make("www.example.org", edns=None).to_wire()
        q = make("www.example.org", edns=edns)
        w = q.to_wire()
        wire = w[:5] + b"\x02" + w[6:12] + one[12:] + w[12:]
        add("QDCOUNT=2" + tag, q, wire=wire, question=[],
            differ=error_reply(dns.rcode.FORMERR, question=()),
            why="RFC 9619 §4: QDCOUNT > 1 MUST get FORMERR (knotd drops)")
        # No question: nothing to answer, FORMERR (RFC 1035 §4.1.1; RFC 9619 covers
        # QDCOUNT > 1 only), as knotd answers, with the OPT if there was one.
        q = make("www.example.org", edns=edns)
        w = q.to_wire()
        wire = w[:4] + b"\x00\x00" + w[6:12] + (w[-11:] if edns is not None else b"")
        add("QDCOUNT=0" + tag, q, wire=wire, question=[])
        # Records in the answer and authority sections of a query are ignored, as
        # knotd does (RFC 1035 gives them no meaning in a QUERY).
        rr = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01"
        for sec, idx in (("answer", 7), ("authority", 9)):
            w = bytearray(q.to_wire())
            w[idx] = 1
            body = bytes(w)
            if edns is not None:
                body = body[:-11] + rr + body[-11:]
            else:
                body += rr
            add("a record in the %s section%s" % (sec, tag), q, wire=body)
        # Trailing bytes: FORMERR. With an OPT, knotd rejects the message before
        # reading it and omits the OPT; we read it whole, so RFC 6891 §6.1.1
        # ("If an OPT record is present in a received request, compliant
        # responders MUST include an OPT record") applies.
        q = make("www.example.org", edns=edns)
        if edns is None:
            add("trailing bytes", q, wire=q.to_wire() + b"zz")
        else:
            add("trailing bytes EDNS", q, wire=q.to_wire() + b"zz", differ=with_opt,
                why="RFC 6891 §6.1.1: the OPT present in the request MUST be answered")
            q2 = make("www.example.org", opcode=2)
            add("opcode 2 + trailing bytes EDNS", q2, wire=q2.to_wire() + b"zz",
                differ=with_opt,
                why="RFC 6891 §6.1.1: the OPT present in the request MUST be answered")
    # Two OPT records: RFC 6891 §6.1.1 "If a query message with more than one OPT RR
    # is received, a FORMERR (RCODE=1) MUST be returned"; neither OPT is trusted, so
    # the reply has none (knotd alike).
    q = make("www.example.org")
    w = bytearray(q.to_wire())
    w[11] = 2
    add("two OPT RRs", q, wire=bytes(w) + bytes(w[-11:]))
    # An OPT owned by another name than the root: RFC 6891 §6.1.2 "MUST be 0 (root
    # domain)". knotd accepts it; we reject the message and, not trusting that OPT,
    # send none.
    w = q.to_wire()
    add("OPT owner not the root", q, wire=w[:-11] + b"\xc0\x0c" + w[-10:],
        differ=error_reply(dns.rcode.FORMERR, opt=None),
        why="RFC 6891 §6.1.2: the OPT owner MUST be the root (knotd does not check)")
    # OPT options overrunning the RDATA: FORMERR without OPT, as knotd.
    add("OPT option overruns RDATA", q, wire=w[:-2] + b"\x00\x04\x00\x03\x00\x10")


# ---------------------------------------------------------------------------
# Running


def judge(case, exp, got, got_wire, ref_nsid, cand_nsid):
    """Errors for one case; exp is knotd's reply, got the candidate's (and got_wire its
    bytes); each server's NSID token, to recognise its own NSID."""
    if case.mode == "noreply":
        errs = []
        if exp is not None:
            errs.append("knotd answered (test assumption broken)")
        if got is not None:
            errs.append("answered a query with QR=1 (RFC 1035 §4.1.1: drop responses)")
        return errs
    if got is None:
        return ["no response (expected %s)" % h.summary(exp)]
    errs = h.check_question(case.query, got, case.question)
    if not case.tcp:
        limit = udp_limit(case.query)
        if len(got_wire) > limit:
            errs.append("UDP response %d bytes > limit %d" % (len(got_wire), limit))
    if case.want_size is not None and len(got_wire) != case.want_size:
        errs.append("reply is %d octets, want exactly %d" % (len(got_wire), case.want_size))
    ref = h.Reply.of(exp, ref_nsid)
    if case.differ is not None:
        want = case.differ(ref, case.query)
        if ref is not None and not h.diff_replies(want, ref):
            errs.append("knotd now answers as we must (%s): make this a plain case" % case.why)
    elif ref is None:
        return errs + ["knotd gave no response; meridiand: %s" % h.summary(got)]
    else:
        want = ref
    skip = ("answer",) if case.mode == "any" else ()
    errs += h.diff_replies(want, h.Reply.of(got, cand_nsid), skip)
    if case.check is not None:
        errs += case.check(got, case.query)
    if errs and case.why:
        errs.append("deliberate difference: %s" % case.why)
    return errs


def run_cases(cases, ref, cand, results, self_test, dump=None):
    """Send every case to both servers and judge; returns the number sent."""
    sent = 0
    for case in cases:
        if self_test and case.ours_only:
            continue  # knotd differs on purpose here
        sent += 1
        exp_wire = h.exchange(case.wire, ref.port, case.tcp, case.addr)
        got_wire = h.exchange(case.wire, cand.port, case.tcp, case.addr)
        exp, got = h.parse(exp_wire), h.parse(got_wire)
        if dump is not None:
            dump.write(";; == %s (%s)\n%s\n" % (case.label, case.mode,
                                               exp.to_text() if exp else "no response"))
        if got_wire is not None and got is None:
            errs = ["unparseable response: %s" % got_wire.hex()]
        else:
            errs = judge(case, exp, got, got_wire, ref.nsid, cand.nsid)
        if errs:
            errs.append("knotd:     %s" % h.summary(exp))
            errs.append("meridiand: %s" % h.summary(got))
        proto = "tcp " if case.tcp and not case.label.startswith("tcp") else ""
        mode = "" if case.mode == "full" else " [%s]" % case.mode
        mode += " [differs on purpose]" if case.differ else ""
        results.check(proto + case.label + mode, errs)
    return sent


def hidden_cases():
    # hide_identity/hide_version: knotd with an empty identity/version
    # answers REFUSED, as meridiand's hide_* options promise.
    return [Case("hidden chaos %s" % n, make(n, "TXT", "CH"))
            for n in ("id.server", "hostname.bind", "version.bind", "version.server")]


def start_pair(args, tmp, tag, knotd, self_test, **ident):
    """Start knotd (reference) and the candidate on their own free ports."""
    wd = tmp.join(tag)
    os.makedirs(wd, exist_ok=True)

    def knot(port, sub="ref"):
        d = os.path.join(wd, sub)
        os.makedirs(d, exist_ok=True)
        nsid = h.new_nsid("knotd", NSID_LEN)
        conf = h.write_knot_config(os.path.join(d, "knot.conf"), d, port, ZONES, nsid=nsid,
                                   udp_max_size=UDP_MAX, **ident)
        return h.Knotd(knotd, d, port, conf, nsid)

    def meridian(port):
        d = os.path.join(wd, "meridian")
        os.makedirs(d, exist_ok=True)
        nsid = h.new_nsid("meridiand", NSID_LEN)
        # Thousands of queries from loopback, compared with Knot's answers: not rate limited.
        conf = h.write_meridian_config(os.path.join(d, "meridian.yaml"), port, ZONES,
                                       nsid=nsid, udp_max_size=UDP_MAX,
                                       extra_server=[h.RRL_EXEMPT_LOOPBACK], **ident)
        return h.Meridiand(args.meridiand, d, port, conf, nsid)

    ref = h.start_with_free_port(knot, "example.org")
    try:
        if self_test:
            cand = h.start_with_free_port(lambda p: knot(p, "cand"), "example.org")
        else:
            cand = h.start_with_free_port(meridian, "example.org")
    except Exception:
        ref.stop()
        raise
    return ref, cand


def main():
    def extra(p):
        p.add_argument("--self-test", action="store_true",
                       help="compare knotd with a second knotd (checks the harness)")
        p.add_argument("--dump", metavar="FILE", help="write knotd's answer to every query here")
    args = h.parse_args(__doc__.splitlines()[0], extra)
    knotd = h.find_tool("knotd", args.knotd)
    if knotd is None:
        h.skip("knotd not found (Debian package 'knot'); it is the reference server")
    results = h.Results(args.verbose)
    zone_data = ZoneData(ZONES)
    cases = build_cases(zone_data)
    queries = 0
    dump = open(args.dump, "w") if args.dump else None
    with h.TempDir(args.keep) as tmp:
        ident = dict(identity=IDENTITY, version=VERSION)
        ref, cand = start_pair(args, tmp, "visible", knotd, args.self_test, **ident)
        try:
            queries += run_cases(cases, ref, cand, results, args.self_test, dump)
            results.check("candidate still running", [] if cand.alive() else
                          ["exited with %s:\n%s" % (cand.proc.returncode, cand.log_tail())])
            # Every reply above came from the servers we started (no stranger on the port).
            results.check("both servers still the only ones on their ports",
                          ref.check_identity("example.org") + cand.check_identity("example.org"))
        finally:
            ref.stop()
            cand.stop()
        ident = dict(identity=IDENTITY, version=VERSION, hide_identity=True, hide_version=True)
        ref, cand = start_pair(args, tmp, "hidden", knotd, args.self_test, **ident)
        try:
            queries += run_cases(hidden_cases(), ref, cand, results, args.self_test, dump)
        finally:
            ref.stop()
            cand.stop()
    if dump:
        dump.close()
    print("%d queries" % queries)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
