# SPDX-License-Identifier: MIT
"""DNSSEC checks of e2e 012, done here with dnspython and python3-cryptography, without any
resolver: RRSIGs validated against a zone's DNSKEY RRset (RFC 4035 §5.3), the DNSKEY RRset
against a DS (RFC 4034 §5), and NSEC3 denial proofs worked out from the hashes (RFC 5155
§8: closest encloser, next closer, wildcard, type bitmaps). Each function returns a list of
errors, empty when the check passed."""

import base64
import time

import dns.dnssec
import dns.flags
import dns.name
import dns.rdataclass
import dns.rdatatype

IN = dns.rdataclass.IN
RRSIG = dns.rdatatype.RRSIG
NSEC3 = dns.rdatatype.NSEC3
CNAME = dns.rdatatype.CNAME
DNAME = dns.rdatatype.DNAME


def name(text):
    return dns.name.from_text(text) if isinstance(text, str) else text


def sigs_for(msg, section, rrset):
    """The RRSIG RRset covering `rrset` in the same section (a name or list), or None."""
    if isinstance(section, str):
        section = getattr(msg, section)
    try:
        return msg.find_rrset(section, rrset.name, IN, RRSIG, rrset.rdtype)
    except KeyError:
        return None


def validate(rrset, sigs, keys):
    """Errors of `rrset` against its RRSIG RRset and keys ({zone name: DNSKEY RRset}): the
    signature (inception, expiration, key tag, algorithm, the bytes), the served TTL at most
    the original TTL (RFC 4035 §5.3.3) and the RRSIG's TTL equal to the RRset's (RFC 4034
    §3)."""
    what = "%s %s" % (rrset.name, dns.rdatatype.to_text(rrset.rdtype))
    if sigs is None or len(sigs) == 0:
        return ["%s: no RRSIG" % what]
    errs = []
    try:
        dns.dnssec.validate(rrset, sigs, keys, now=time.time())
    except dns.dnssec.ValidationFailure as e:
        errs.append("%s: does not validate (%s) against keys %s; RRSIG %s"
                    % (what, e, {str(k): [dns.dnssec.key_id(r) for r in v]
                                 for k, v in keys.items()}, sigs))
    for sig in sigs:
        if rrset.ttl > sig.original_ttl:
            errs.append("%s: served TTL %d above the RRSIG's original TTL %d"
                        % (what, rrset.ttl, sig.original_ttl))
    if sigs.ttl != rrset.ttl:
        errs.append("%s: RRSIG TTL %d, the RRset's %d" % (what, sigs.ttl, rrset.ttl))
    return errs


def dname_synthesized(msg, rrset):
    """A CNAME a DNAME in the answer synthesized (RFC 6672 §5.3.1: never signed)."""
    if rrset.rdtype != CNAME:
        return False
    return any(r.rdtype == DNAME and rrset.name.is_subdomain(r.name) and rrset.name != r.name
               for r in msg.answer)


def validate_message(msg, keys, sections=("answer", "authority")):
    """Validates every RRset of the sections but those that are never signed: a DNAME's
    synthesized CNAME and a referral's NS RRset (RFC 4035 §2.2). Also no RRSIG may cover an
    RRset that is not there. Returns (errors, number of RRsets validated)."""
    errs, count = [], 0
    for section in sections:
        rrsets = getattr(msg, section)
        for rrset in rrsets:
            if rrset.rdtype == RRSIG:
                for sig in rrset:
                    try:
                        msg.find_rrset(rrsets, rrset.name, IN, sig.type_covered)
                    except KeyError:
                        errs.append("%s: RRSIG over %s, which is not in the section"
                                    % (rrset.name, dns.rdatatype.to_text(sig.type_covered)))
                continue
            if dname_synthesized(msg, rrset):
                if sigs_for(msg, section, rrset) is not None:
                    errs.append("%s: a synthesized CNAME carries an RRSIG" % rrset.name)
                continue
            if section == "authority" and rrset.rdtype == dns.rdatatype.NS and \
                    not msg.flags & dns.flags.AA:
                continue
            errs += validate(rrset, sigs_for(msg, section, rrset), keys)
            count += 1
    return errs, count


def check_dnskey(zone, dnskey, sigs, ds_list=None):
    """The DNSKEY RRset of `zone` is signed by one of its SEP keys and, with ds_list, one of
    those keys matches a DS (digest recomputed here)."""
    zone = name(zone)
    sep = [k for k in dnskey if k.flags & 0x0001]
    errs = [] if sep else ["%s: no SEP key in the DNSKEY RRset" % zone]
    sep_tags = {dns.dnssec.key_id(k) for k in sep}
    if sigs is None or not any(s.key_tag in sep_tags for s in sigs):
        errs.append("%s DNSKEY: no RRSIG by a SEP key (tags %s)" % (zone, sorted(sep_tags)))
    errs += validate(dnskey, sigs, {zone: dnskey})
    if ds_list is not None:
        made = {dns.dnssec.make_ds(zone, k, ds.digest_type).to_text()
                for k in sep for ds in ds_list}
        if not any(ds.to_text() in made for ds in ds_list):
            errs.append("%s: no SEP key matches DS %s (made %s)"
                        % (zone, [d.to_text() for d in ds_list], sorted(made)))
    return errs


def _b32(raw):
    return base64.b32hexencode(raw).decode().rstrip("=").lower()


def _types(rd):
    out = set()
    for window, bitmap in rd.windows:
        for i, byte in enumerate(bitmap):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    out.add(window * 256 + i * 8 + bit)
    return out


class Nsec3Set:
    """The NSEC3 records of a reply's authority section, for proofs about names of `zone`."""

    def __init__(self, msg, zone):
        self.zone = name(zone)
        self.records = []  # (owner hash, next hash, types)
        self.errors = []
        self.params = set()
        for rrset in msg.authority:
            if rrset.rdtype != NSEC3:
                continue
            if not rrset.name.parent() == self.zone:
                self.errors.append("NSEC3 owner %s is not a child of %s" % (rrset.name, self.zone))
            for rd in rrset:
                self.params.add((rd.algorithm, rd.flags, rd.iterations, rd.salt))
                self.records.append((rrset.name.labels[0].decode().lower(), _b32(rd.next),
                                     _types(rd)))
        if self.params and self.params != {(1, 0, 0, b"")}:
            self.errors.append("NSEC3 parameters %s, expected algorithm 1, flags 0 (no opt-out), "
                               "0 iterations, no salt (RFC 9276 §3.1)" % sorted(self.params))

    def hash(self, n):
        return dns.dnssec.nsec3_hash(name(n), b"", 0, 1).lower()

    def matching(self, n):
        h = self.hash(n)
        for owner, nxt, types in self.records:
            if owner == h:
                return types
        return None

    def covers(self, n):
        h = self.hash(n)
        for owner, nxt, _ in self.records:
            if owner < nxt and owner < h < nxt:
                return True
            if owner >= nxt and (h > owner or h < nxt):  # the last record wraps around
                return True
        return False

    def closest_encloser(self, qname):
        """RFC 5155 §8.3: (closest encloser, errors): the longest ancestor of qname with a
        matching NSEC3 and, one label longer towards qname, a covered next closer name."""
        qname = name(qname)
        ce = qname.parent()
        while ce != self.zone and self.matching(ce) is None:
            ce = ce.parent()
        errs = []
        if self.matching(ce) is None:
            errs.append("no NSEC3 matches any ancestor of %s" % qname)
        nc = dns.name.Name(qname.labels[-(len(ce.labels) + 1):])
        if not self.covers(nc):
            errs.append("next closer name %s (hash %s) not covered" % (nc, self.hash(nc)))
        return ce, errs

    def _absent(self, types, qtype, what):
        errs = []
        for t in (qtype, CNAME):
            if t in types:
                errs.append("%s: the matching NSEC3 lists %s" % (what, dns.rdatatype.to_text(t)))
        return errs

    def prove(self, kind, qname, qtype=None, ce_labels=None):
        """Errors of the proof `kind` for qname: nxdomain (§8.4), nodata (§8.5, §8.6 for DS),
        wildcard-nodata (§8.7), wildcard-answer (§8.8; ce_labels = the RRSIG's labels + 1 for
        the root), referral (§8.9: an insecure delegation, no opt-out)."""
        qname = name(qname)
        errs = list(self.errors)
        if not self.records:
            return errs + ["no NSEC3 records"]
        if kind == "nxdomain":
            if self.matching(qname) is not None:
                errs.append("an NSEC3 matches %s, which should not exist" % qname)
            ce, e = self.closest_encloser(qname)
            errs += e
            if not self.covers(dns.name.Name((b"*",) + ce.labels)):
                errs.append("wildcard *.%s not covered" % ce)
        elif kind in ("nodata", "referral"):
            types = self.matching(qname)
            if types is None:
                return errs + ["no NSEC3 matches %s (hash %s)" % (qname, self.hash(qname))]
            if kind == "nodata":
                errs += self._absent(types, qtype, str(qname))
            elif dns.rdatatype.NS not in types or dns.rdatatype.DS in types or \
                    dns.rdatatype.SOA in types:
                errs.append("%s: referral NSEC3 types %s, expected NS without DS and SOA"
                            % (qname, sorted(dns.rdatatype.to_text(t) for t in types)))
        elif kind == "wildcard-nodata":
            ce, e = self.closest_encloser(qname)
            errs += e
            wild = dns.name.Name((b"*",) + ce.labels)
            types = self.matching(wild)
            if types is None:
                errs.append("no NSEC3 matches the wildcard %s" % wild)
            else:
                errs += self._absent(types, qtype, str(wild))
        elif kind == "wildcard-answer":
            nc = dns.name.Name(qname.labels[-(ce_labels + 1):])
            if not self.covers(nc):
                errs.append("next closer name %s of the wildcard answer not covered" % nc)
        else:
            errs.append("unknown proof kind %s" % kind)
        return errs
