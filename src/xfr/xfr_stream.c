// SPDX-License-Identifier: MIT
/* Zone transfer requests and the messages that answer them (see xfr_stream.h). The stream is
 * a generator of records (the SOA, the walk or the differences, the SOA again) and each
 * message takes as many as fit below 64 KiB (RFC 5936 §2.2: any number of records per
 * message), names compressed by the same writer as dns_answer() uses. Every message repeats
 * the question (§2.2.1 allows it after the first) and carries our OPT when the request had
 * one. Runs on a worker thread; no allocation. */
#include "xfr/xfr_stream.h"

#include <stddef.h>
#include <string.h>

#include "common/dnswire.h"
#include "dns/dns_writer.h"

#define OPT_LEN 11 /* RFC 6891 §6.1.2: root owner, type, class, TTL, RDLENGTH 0 */
#define EDE_LEN 6  /* RFC 8914 §2: an Extended DNS Error option without EXTRA-TEXT */
#define UDP_LIMIT_DEFAULT                                                                          \
    512 /* RFC 1035 §4.2.1; RFC 6891 §6.2.5: a smaller EDNS size counts as it */

/* The SOA's serial (RFC 1035 §3.3.13): after MNAME and RNAME. rd is the RDATA. */
static bool
soa_serial(const uint8_t *msg, size_t len, size_t rdpos, uint16_t rdlen, uint32_t *serial)
{
    uint8_t name[DNAME_MAX_LEN];
    size_t pos = rdpos;
    if (dname_read_compressed(msg, len, &pos, name) < 0 ||
        dname_read_compressed(msg, len, &pos, name) < 0 || pos + 20 > rdpos + rdlen)
        return false;
    *serial = dnswire_get32(msg + pos);
    return true;
}

bool
xfr_request_parse(const uint8_t *msg, size_t len, struct xfr_request *req)
{
    /* Every query passes here: the cheap checks come first. */
    if (len < DNS_HEADER_LEN)
        return false;
    uint16_t flags = dnswire_flags(msg);
    if ((flags & DNS_FLAG_QR) || dnswire_opcode(msg) != DNS_OPCODE_QUERY ||
        dnswire_count(msg, DNS_OFF_QDCOUNT) != 1)
        return false;
    int qlen = dname_wire_length(msg + DNS_HEADER_LEN, len - DNS_HEADER_LEN);
    size_t pos = DNS_HEADER_LEN + (size_t)qlen;
    if (qlen < 0 || pos + 4 > len)
        return false;
    uint16_t qtype = dnswire_get16(msg + pos), qclass = dnswire_get16(msg + pos + 2);
    if ((qtype != DNS_TYPE_AXFR && qtype != DNS_TYPE_IXFR) || qclass != DNS_CLASS_IN)
        return false;
    memset(req, 0, offsetof(struct xfr_request, qname));
    req->edns = req->edns_do = req->has_serial = false;
    req->edns_udp_size = 0;
    req->serial = 0;
    req->tsig_at = 0;
    req->id = dnswire_id(msg);
    req->flags = flags;
    req->qtype = qtype;
    memcpy(req->qname, msg + DNS_HEADER_LEN, (size_t)qlen);
    dname_lower_copy(req->lname, req->qname);
    pos += 4;
    struct dnswire_rr rr;
    /* Answer records mean nothing in a query: stepped over, as dns_answer does. */
    for (uint16_t i = 0; i < dnswire_count(msg, DNS_OFF_ANCOUNT); i++)
        if (dnswire_rr_read(msg, len, &pos, &rr) < 0)
            return false;
    /* RFC 1995 §3: the IXFR client's version is the SOA in the authority section. */
    uint16_t ns = dnswire_count(msg, DNS_OFF_NSCOUNT), ar = dnswire_count(msg, DNS_OFF_ARCOUNT);
    for (uint16_t i = 0; i < ns; i++) {
        if (dnswire_rr_read(msg, len, &pos, &rr) < 0)
            return false;
        if (i == 0 && qtype == DNS_TYPE_IXFR && rr.type == DNS_TYPE_SOA &&
            dname_equal(rr.owner, req->lname))
            req->has_serial = soa_serial(msg, len, rr.rdpos, rr.rdlen, &req->serial);
    }
    for (uint16_t i = 0; i < ar; i++) {
        size_t at = pos;
        if (dnswire_rr_read(msg, len, &pos, &rr) < 0)
            return false;
        if (rr.type == DNS_TYPE_OPT) {
            /* RFC 6891 §6.1.1: one OPT, version 0 (dns_answer answers the rest). */
            if (req->edns || rr.owner[0] != 0 || ((rr.ttl >> 16) & 0xff) != 0)
                return false;
            req->edns = true;
            req->edns_do = (rr.ttl & 0x8000) != 0;
            req->edns_udp_size = rr.rclass;
        } else if (rr.type == DNS_TYPE_TSIG) {
            req->tsig_at = at; /* verified (or not) by the TSIG step, RFC 8945 §5.2 */
        }
    }
    return pos == len;
}

/* The current record of the stream into rr; false when there is none (done). */
static bool
current(const struct xfr_stream *s, struct xfr_rr *rr)
{
    const struct zone *z = s->xz->zone;
    const struct zone_rrset *soa = NULL;
    const struct xfr_diff *d = s->diff < s->diff_end ? s->xz->history.diffs[s->diff] : NULL;
    switch (s->phase) {
    case XFR_PHASE_SOA_OPEN:
    case XFR_PHASE_SOA_CLOSE:
        soa = z->soa;
        break;
    case XFR_PHASE_OLD_SOA:
        soa = &d->old_soa;
        break;
    case XFR_PHASE_NEW_SOA:
        soa = &d->new_soa;
        break;
    case XFR_PHASE_BODY:
        rr->owner = s->rrset.owner;
        rr->type = s->rrset.set->type;
        rr->ttl = s->rrset.set->ttl;
        rr->rdlen = dnswire_get16(s->rrset.set->rdata + s->rec_at);
        rr->rdata = s->rrset.set->rdata + s->rec_at + 2;
        return true;
    case XFR_PHASE_REMOVED:
    case XFR_PHASE_ADDED: {
        size_t pos = s->run_at;
        bool removed = s->phase == XFR_PHASE_REMOVED;
        return xfr_rr_next(removed ? d->removed : d->added, removed ? d->removed_len : d->added_len,
                           &pos, rr);
    }
    case XFR_PHASE_DONE:
        return false;
    }
    rr->owner = z->origin;
    rr->type = DNS_TYPE_SOA;
    rr->ttl = soa->ttl;
    rr->rdlen = dnswire_get16(soa->rdata);
    rr->rdata = soa->rdata + 2;
    return true;
}

/* Moves to the walk's next RRset, or to the closing SOA after the last. */
static void
next_rrset(struct xfr_stream *s)
{
    s->rec = 0;
    s->rec_at = 0;
    s->phase = xfr_walk_next(s->xz, &s->walk, &s->rrset) ? XFR_PHASE_BODY : XFR_PHASE_SOA_CLOSE;
}

/* The difference's records start at the first of `phase`'s run, skipping an empty run. */
static void
enter_run(struct xfr_stream *s, enum xfr_phase phase)
{
    const struct xfr_diff *d = s->xz->history.diffs[s->diff];
    s->run_at = 0;
    s->phase = phase;
    if (phase == XFR_PHASE_REMOVED && d->removed_len == 0)
        s->phase = XFR_PHASE_NEW_SOA;
    else if (phase == XFR_PHASE_ADDED && d->added_len == 0)
        s->phase = ++s->diff < s->diff_end ? XFR_PHASE_OLD_SOA : XFR_PHASE_SOA_CLOSE;
}

/* Past the current record (RFC 1995 §4 order: per difference the old SOA, the removed
 * records, the new SOA, the added records). */
static void
advance(struct xfr_stream *s)
{
    const struct xfr_diff *d = s->diff < s->diff_end ? s->xz->history.diffs[s->diff] : NULL;
    struct xfr_rr rr;
    switch (s->phase) {
    case XFR_PHASE_SOA_OPEN:
        if (s->kind == XFR_KIND_IXFR)
            s->phase = XFR_PHASE_OLD_SOA;
        else if (s->kind == XFR_KIND_UP_TO_DATE || s->kind == XFR_KIND_UDP_SOA)
            s->phase = XFR_PHASE_DONE;
        else
            next_rrset(s);
        break;
    case XFR_PHASE_BODY:
        s->rec_at += 2u + dnswire_get16(s->rrset.set->rdata + s->rec_at);
        if (++s->rec == s->rrset.set->count)
            next_rrset(s);
        break;
    case XFR_PHASE_OLD_SOA:
        enter_run(s, XFR_PHASE_REMOVED);
        break;
    case XFR_PHASE_NEW_SOA:
        enter_run(s, XFR_PHASE_ADDED);
        break;
    case XFR_PHASE_REMOVED:
        (void)xfr_rr_next(d->removed, d->removed_len, &s->run_at, &rr);
        if (s->run_at >= d->removed_len)
            s->phase = XFR_PHASE_NEW_SOA;
        break;
    case XFR_PHASE_ADDED:
        (void)xfr_rr_next(d->added, d->added_len, &s->run_at, &rr);
        if (s->run_at >= d->added_len)
            s->phase = ++s->diff < s->diff_end ? XFR_PHASE_OLD_SOA : XFR_PHASE_SOA_CLOSE;
        break;
    case XFR_PHASE_SOA_CLOSE:
    case XFR_PHASE_DONE:
        s->phase = XFR_PHASE_DONE;
        break;
    }
}

/* RFC 6891 §6.1.2-§6.1.3: our OPT, DO copied (RFC 3225 §3); for a transfer the ACL
 * refused, RFC 8914 §4.19 "Prohibited" (knotd answers NOTAUTH without an EDE; REFUSED with
 * the reason tells an operator at the secondary what to fix). */
static size_t
put_opt(const struct xfr_stream *s, uint8_t *p)
{
    p[0] = 0;
    dnswire_put16(p + 1, DNS_TYPE_OPT);
    dnswire_put16(p + 3, s->udp_max_size);
    dnswire_put32(p + 5, s->edns_do ? 0x8000 : 0);
    dnswire_put16(p + 9, s->prohibited ? EDE_LEN : 0);
    if (!s->prohibited)
        return OPT_LEN;
    dnswire_put16(p + OPT_LEN, DNS_OPT_EDE);
    dnswire_put16(p + OPT_LEN + 2, 2);
    dnswire_put16(p + OPT_LEN + 4, DNS_EDE_PROHIBITED);
    return OPT_LEN + EDE_LEN;
}

/* Header values (RFC 5936 §2.2.1): ID copied, QR, opcode QUERY, AA when the rcode is
 * NOERROR, TC clear, RD copied, the rest zero; the question copied. */
static void
message_begin(const struct xfr_stream *s, struct dns_writer *w, uint8_t *out, size_t limit)
{
    dns_writer_init(w, out, limit);
    uint16_t flags = (uint16_t)(DNS_FLAG_QR | (s->flags & DNS_FLAG_RD) |
                                (s->rcode == DNS_RCODE_NOERROR ? DNS_FLAG_AA : 0) | s->rcode);
    dnswire_put16(out, s->id);
    dnswire_put16(out + 2, flags);
    (void)dns_writer_question(w, s->qname, s->qtype, DNS_CLASS_IN);
    /* Names compress to what the message already holds, case and all (RFC 4343 keeps them
     * equal): not to the question as the client wrote it, so the zone keeps its own case. */
    dns_writer_forget_names(w);
}

/* The counts, the OPT and the signature: a finished message of w's length. */
static size_t
message_end(struct xfr_stream *s, struct dns_writer *w, uint8_t *out, size_t out_max)
{
    if (s->edns)
        w->count[DNS_SECTION_AR]++;
    dns_writer_finish(w);
    size_t len = w->pos;
    if (s->edns)
        len += put_opt(s, out + len);
    bool last = s->phase == XFR_PHASE_DONE;
    /* TSIG (RFC 8945 §5.3.1): each message signed as it leaves, room kept below out_max. */
    if (s->signer) {
        len = s->signer->sign(s->signer_state, out, len, out_max, s->messages, last);
        if (len == 0) {
            s->phase = XFR_PHASE_DONE;
            s->more = false;
            return 0;
        }
    }
    s->messages++;
    s->bytes += len;
    s->more = !last;
    return len;
}

/* Room for the sections: below 64 KiB (RFC 1035 §4.2.2) and the caller's buffer, less our
 * OPT and the signature. */
static size_t
section_limit(const struct xfr_stream *s, size_t out_max)
{
    size_t limit = out_max < 65535 ? out_max : 65535;
    size_t reserve = (s->edns ? OPT_LEN + (s->prohibited ? EDE_LEN : 0) : 0) +
                     (s->signer ? s->signer->room : 0);
    return limit > reserve ? limit - reserve : 0;
}

/* One message with as many records as fit. A record that does not fit an empty message
 * (impossible below 64 KiB for data a zone loads) ends the stream with SERVFAIL, as RFC 5936
 * §2.2 has a server abort a transfer it cannot complete. */
static size_t
fill(struct xfr_stream *s, uint8_t *out, size_t out_max)
{
    struct dns_writer w;
    struct xfr_rr rr;
    size_t limit = section_limit(s, out_max);
    if (limit < DNS_HEADER_LEN + DNAME_MAX_LEN + 4)
        return 0;
    message_begin(s, &w, out, limit);
    uint32_t n = 0;
    while (current(s, &rr)) {
        if (dns_writer_rr(&w, DNS_SECTION_AN, rr.owner, rr.type, DNS_CLASS_IN, rr.ttl, rr.rdata,
                          rr.rdlen) < 0)
            break;
        advance(s);
        n++;
    }
    if (n == 0 && s->phase != XFR_PHASE_DONE) {
        s->rcode = DNS_RCODE_SERVFAIL;
        s->phase = XFR_PHASE_DONE;
        message_begin(s, &w, out, limit);
    }
    s->records += n;
    return message_end(s, &w, out, out_max);
}

/* An answer without records: an error rcode. */
static size_t
error_message(struct xfr_stream *s, uint8_t rcode, uint8_t *out, size_t out_max)
{
    struct dns_writer w;
    s->kind = XFR_KIND_ERROR;
    s->rcode = rcode;
    s->phase = XFR_PHASE_DONE;
    size_t limit = section_limit(s, out_max);
    if (limit < DNS_HEADER_LEN + DNAME_MAX_LEN + 4)
        return 0;
    message_begin(s, &w, out, limit);
    return message_end(s, &w, out, out_max);
}

/* The zone whose origin is exactly the question's name (RFC 5936 §2.1: "the zone apex"). */
static const struct xfr_zone *
find_zone(const struct xfr_view *v, const uint8_t *lname)
{
    const struct zone *z = v->zones ? zone_set_find(v->zones, lname) : NULL;
    if (!z || !dname_equal(z->origin, lname))
        return NULL;
    for (size_t i = 0; i < v->zones->count; i++)
        if (v->zones->zones[i] == z)
            return v->xzones ? v->xzones[i] : NULL;
    return NULL;
}

/* IXFR: the difference starting at the client's serial (RFC 1995 §4), or none. */
static bool
find_diff(const struct xfr_zone *xz, uint32_t serial, uint32_t *at)
{
    for (uint32_t i = 0; i < xz->history.count; i++) {
        if (xz->history.diffs[i]->from_serial == serial) {
            *at = i;
            return true;
        }
    }
    return false;
}

static void
stream_init(struct xfr_stream *s, const struct xfr_view *v, const struct xfr_request *req,
            const struct xfr_client *c)
{
    memset(s, 0, offsetof(struct xfr_stream, signer_state));
    s->id = req->id;
    s->flags = req->flags;
    s->qtype = req->qtype;
    s->edns = req->edns;
    s->edns_do = req->edns_do;
    s->udp_max_size = v->udp_max_size;
    memcpy(s->qname, req->qname, (size_t)dname_wire_length(req->qname, DNAME_MAX_LEN));
    s->phase = XFR_PHASE_DONE;
    s->signer = c->signer;
    if (c->signer && c->signer->init_len <= sizeof(s->signer_state))
        memcpy(s->signer_state, c->signer->init, c->signer->init_len);
}

/* What an IXFR gets (RFC 1995 §2, §4). */
static enum xfr_kind
ixfr_kind(struct xfr_stream *s, const struct xfr_zone *xz, uint32_t serial)
{
    uint32_t ours = xz->zone->serial;
    /* §2: "If an IXFR query with the same or newer version number than that of the server
     * is received, it is replied to with a single SOA record of the server's current
     * version." */
    if (serial == ours || dnswire_serial_before(ours, serial))
        return XFR_KIND_UP_TO_DATE;
    if (find_diff(xz, serial, &s->diff)) {
        s->diff_end = xz->history.count;
        return XFR_KIND_IXFR;
    }
    return XFR_KIND_IXFR_FULL; /* §4: "the entire zone is returned" */
}

size_t
xfr_begin(const struct xfr_view *v, const struct xfr_request *req, const struct xfr_client *c,
          uint8_t *out, size_t out_max, struct xfr_stream *s)
{
    stream_init(s, v, req, c);
    /* RFC 5936 §4.2: AXFR needs TCP; NOTIMP, as NSD and Knot answer. */
    if (req->qtype == DNS_TYPE_AXFR && !c->tcp)
        return error_message(s, DNS_RCODE_NOTIMP, out, out_max);
    const struct xfr_zone *xz = find_zone(v, req->lname);
    if (!xz)
        return error_message(s, DNS_RCODE_NOTAUTH, out, out_max);
    s->xz = xz;
    if (!xfr_acl_allows(xz->transfer, c->addr, c->key)) {
        s->prohibited = true;
        return error_message(s, DNS_RCODE_REFUSED, out, out_max);
    }
    /* A secondary zone past its expire (or never transferred) has nothing valid to give
     * (RFC 1035 §3.3.13); SERVFAIL, as for its queries. */
    if (xz->zone->expired)
        return error_message(s, DNS_RCODE_SERVFAIL, out, out_max);
    if (req->qtype == DNS_TYPE_IXFR && !req->has_serial)
        return error_message(s, DNS_RCODE_FORMERR, out, out_max);
    s->kind = req->qtype == DNS_TYPE_AXFR ? XFR_KIND_AXFR : ixfr_kind(s, xz, req->serial);
    s->phase = XFR_PHASE_SOA_OPEN;
    if (c->tcp)
        return fill(s, out, out_max);
    /* RFC 1995 §2: over UDP the whole answer in one message, or the SOA alone ("to inform
     * the client that a TCP query should be initiated"). */
    size_t limit = UDP_LIMIT_DEFAULT;
    if (req->edns)
        limit = req->edns_udp_size < UDP_LIMIT_DEFAULT ? UDP_LIMIT_DEFAULT : req->edns_udp_size;
    if (limit > v->udp_max_size)
        limit = v->udp_max_size < UDP_LIMIT_DEFAULT ? UDP_LIMIT_DEFAULT : v->udp_max_size;
    if (limit > out_max)
        limit = out_max;
    size_t n = fill(s, out, limit);
    if (s->more || n == 0) {
        enum xfr_kind kind = s->kind == XFR_KIND_UP_TO_DATE ? s->kind : XFR_KIND_UDP_SOA;
        stream_init(s, v, req, c);
        s->xz = xz;
        s->kind = kind;
        s->phase = XFR_PHASE_SOA_OPEN;
        n = fill(s, out, limit);
    }
    s->more = false;
    return n;
}

size_t
xfr_stream_next(struct xfr_stream *s, uint8_t *out, size_t out_max)
{
    if (!s->more || s->phase == XFR_PHASE_DONE) {
        s->more = false;
        return 0;
    }
    return fill(s, out, out_max);
}
