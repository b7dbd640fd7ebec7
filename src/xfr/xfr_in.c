// SPDX-License-Identifier: MIT
/* Reading AXFR and IXFR answers into a new version of a zone (see xfr_in.h). A full answer
 * is collected as it comes; differences are applied to a working set made of the base
 * version's records, a hash table keyed by owner, type and RDATA (RFC 2181 §5: an RRset is
 * a set, so a record is its owner, type and RDATA; the TTL is an attribute), so that every
 * deletion and addition costs one probe. Names inside RDATA are stored uncompressed: the
 * types RFC 3597 §4 lets a peer compress are expanded here. Runs on the transfer client's
 * thread. */
#include "xfr/xfr_in.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"

struct xfr_in_entry {
    const uint8_t *owner;
    const uint8_t *rdata;
    uint32_t ttl;
    uint16_t type;
    uint16_t rdlen;
    uint8_t owner_len;
    bool alive;
};

#define NO_ENTRY UINT32_MAX

void
xfr_in_init(struct xfr_in *x, const uint8_t *origin, uint16_t qtype, uint16_t id,
            const struct zone_records *base, uint32_t base_serial,
            const struct xfr_in_limits *limits)
{
    static const struct xfr_in_limits defaults = {
        .max_records = XFR_IN_MAX_RECORDS,
        .max_bytes = XFR_IN_MAX_BYTES,
        .max_messages = XFR_IN_MAX_MESSAGES,
    };
    *x = (struct xfr_in){.qtype = qtype, .id = id, .base = base, .base_serial = base_serial};
    x->limits = limits ? *limits : defaults;
    dname_lower_copy(x->origin, origin);
    zone_records_init(&x->full);
    zone_records_init(&x->added);
    x->rdata_buf = xmalloc(65535 + 2 * DNAME_MAX_LEN);
}

void
xfr_in_fini(struct xfr_in *x)
{
    zone_records_fini(&x->full);
    zone_records_fini(&x->added);
    free(x->entries);
    free(x->slots);
    free(x->rdata_buf);
    x->entries = NULL;
    x->slots = NULL;
    x->rdata_buf = NULL;
}

static enum xfr_in_status
fail(struct xfr_in *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum xfr_in_status
fail(struct xfr_in *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, sizeof(x->err), fmt, ap);
    va_end(ap);
    x->done = true;
    return XFR_IN_ERROR;
}

/* --- the working set of an incremental transfer ------------------------------------------ */

static uint32_t
entry_hash(const uint8_t *owner, uint8_t owner_len, uint16_t type, const uint8_t *rd,
           uint16_t rdlen)
{
    /* FNV-1a: cheap, and the input is the peer's, but a probe sequence it lengthens only
     * costs this transfer's own time, which the caller bounds. */
    uint32_t h = 2166136261u;
    for (uint8_t i = 0; i < owner_len; i++)
        h = (h ^ owner[i]) * 16777619u;
    h = (h ^ (type >> 8)) * 16777619u;
    h = (h ^ (type & 0xFF)) * 16777619u;
    for (uint16_t i = 0; i < rdlen; i++)
        h = (h ^ rd[i]) * 16777619u;
    return h;
}

static bool
entry_is(const struct xfr_in_entry *e, const uint8_t *owner, uint8_t owner_len, uint16_t type,
         const uint8_t *rd, uint16_t rdlen)
{
    return e->type == type && e->owner_len == owner_len && e->rdlen == rdlen &&
           memcmp(e->owner, owner, owner_len) == 0 && memcmp(e->rdata, rd, rdlen) == 0;
}

/* The slot holding the record, or the empty slot where it would go. */
static size_t
find_slot(const struct xfr_in *x, const uint8_t *owner, uint8_t owner_len, uint16_t type,
          const uint8_t *rd, uint16_t rdlen)
{
    size_t i = entry_hash(owner, owner_len, type, rd, rdlen) & x->slot_mask;
    while (x->slots[i] != NO_ENTRY &&
           !entry_is(&x->entries[x->slots[i]], owner, owner_len, type, rd, rdlen))
        i = (i + 1) & x->slot_mask;
    return i;
}

static void
rehash(struct xfr_in *x, size_t size)
{
    free(x->slots);
    x->slots = xmalloc(size * sizeof(*x->slots));
    for (size_t i = 0; i < size; i++)
        x->slots[i] = NO_ENTRY;
    x->slot_mask = size - 1;
    for (size_t k = 0; k < x->entry_count; k++) {
        const struct xfr_in_entry *e = &x->entries[k];
        x->slots[find_slot(x, e->owner, e->owner_len, e->type, e->rdata, e->rdlen)] =
            (uint32_t)k;
    }
}

/* Adds an entry that is not in the set (load factor kept at or below 1/2). */
static void
entry_add(struct xfr_in *x, const struct zone_record *r)
{
    if (x->entry_count == x->entry_cap) {
        x->entry_cap = x->entry_cap ? x->entry_cap * 2 : 1024;
        x->entries = xrealloc(x->entries, x->entry_cap * sizeof(*x->entries));
    }
    if ((x->entry_count + 1) * 2 > x->slot_mask + 1)
        rehash(x, x->slot_mask ? (x->slot_mask + 1) * 2 : 2048);
    size_t slot = find_slot(x, r->owner, r->owner_len, r->type, r->rdata, r->rdlen);
    x->entries[x->entry_count] = (struct xfr_in_entry){
        .owner = r->owner, .owner_len = r->owner_len, .type = r->type, .ttl = r->ttl,
        .rdata = r->rdata, .rdlen = r->rdlen, .alive = true};
    x->slots[slot] = (uint32_t)x->entry_count++;
}

/* The base version without its SOA becomes the working set. */
static void
start_incremental(struct xfr_in *x)
{
    x->kind = XFR_IN_INCREMENTAL;
    x->from = x->base_serial;
    x->adding = false;
    for (size_t i = 0; i < x->base->count; i++)
        if (x->base->recs[i].type != DNS_TYPE_SOA)
            entry_add(x, &x->base->recs[i]);
}

static enum xfr_in_status
apply(struct xfr_in *x, const uint8_t *owner, uint8_t owner_len, uint16_t type, uint32_t ttl,
      const uint8_t *rd, uint16_t rdlen)
{
    size_t slot = find_slot(x, owner, owner_len, type, rd, rdlen);
    struct xfr_in_entry *e = x->slots[slot] == NO_ENTRY ? NULL : &x->entries[x->slots[slot]];
    char text[DNAME_TEXT_MAX], tname[DNSWIRE_TYPE_TEXT_MAX];
    x->changes++;
    if (!x->adding) {
        /* RFC 1995 §4: the deletions of a step are records of the older version. */
        if (!e || !e->alive) {
            dname_to_text(owner, text, sizeof(text));
            return fail(x, "IXFR %u -> %u deletes %s %s, which the zone does not have", x->from,
                        x->to ? x->to : x->from, text, dnswire_type_text(type, tname));
        }
        e->alive = false;
        return XFR_IN_MORE;
    }
    if (e) {
        e->alive = true;
        e->ttl = ttl;
        return XFR_IN_MORE;
    }
    if (x->entry_count >= x->limits.max_records)
        return fail(x, "more than %zu records", x->limits.max_records);
    zone_records_add(&x->added, owner, type, ttl, rd, rdlen);
    entry_add(x, &x->added.recs[x->added.count - 1]);
    return XFR_IN_MORE;
}

/* --- records ------------------------------------------------------------------------------ */

/* Where the names of RDATA lie, for the types RFC 3597 §4 lets a sender compress: a fixed
 * prefix, then `names` names, then the rest copied. */
static bool
compressible(uint16_t type, size_t *prefix, int *names)
{
    *prefix = 0;
    *names = 1;
    switch (type) {
    case DNS_TYPE_NS:
    case 3:  /* MD */
    case 4:  /* MF */
    case DNS_TYPE_CNAME:
    case 7:  /* MB */
    case 8:  /* MG */
    case 9:  /* MR */
    case DNS_TYPE_PTR:
    case DNS_TYPE_DNAME:
        return true;
    case DNS_TYPE_SOA:
    case 14: /* MINFO */
    case 17: /* RP */
        *names = 2;
        return true;
    case DNS_TYPE_MX:
    case 18: /* AFSDB */
    case 21: /* RT */
    case 36: /* KX */
        *prefix = 2;
        return true;
    case 26: /* PX */
        *prefix = 2;
        *names = 2;
        return true;
    case DNS_TYPE_SRV:
        *prefix = 6;
        return true;
    default:
        return false;
    }
}

/* The record's RDATA with its names expanded into out (room for 65535 + 2 * 255 bytes). */
static int
read_rdata(const uint8_t *msg, size_t len, const struct dnswire_rr *rr, uint8_t *out,
           size_t *out_len)
{
    size_t prefix;
    int names;
    const size_t end = rr->rdpos + rr->rdlen;
    if (!compressible(rr->type, &prefix, &names)) {
        memcpy(out, msg + rr->rdpos, rr->rdlen);
        *out_len = rr->rdlen;
        return 0;
    }
    if (prefix > rr->rdlen)
        return -1;
    memcpy(out, msg + rr->rdpos, prefix);
    size_t pos = rr->rdpos + prefix, n = prefix;
    for (int i = 0; i < names; i++) {
        uint8_t name[DNAME_MAX_LEN];
        /* A name read through pointers must still end inside this RDATA. */
        int nl = dname_read_compressed(msg, len, &pos, name);
        if (nl < 0 || pos > end)
            return -1;
        memcpy(out + n, name, (size_t)nl);
        n += (size_t)nl;
    }
    memcpy(out + n, msg + pos, end - pos);
    n += end - pos;
    if (n > 65535)
        return -1;
    *out_len = n;
    return 0;
}

static bool
is_apex_soa(const struct xfr_in *x, const uint8_t *owner, uint16_t type)
{
    return type == DNS_TYPE_SOA && dname_equal(owner, x->origin);
}

static uint32_t
soa_serial(const uint8_t *rd, size_t rdlen, bool *ok)
{
    uint32_t serial = 0, timers[4];
    *ok = zone_soa_fields(rd, rdlen, &serial, timers);
    return serial;
}

/* An apex SOA inside an incremental answer: a step's new SOA, the next step's old one, or
 * the closing one (RFC 1995 §4). */
static enum xfr_in_status
incremental_soa(struct xfr_in *x, uint32_t v)
{
    if (!x->adding) {
        if (!dnswire_serial_before(x->from, v) || dnswire_serial_before(x->serial, v))
            return fail(x, "IXFR step from serial %u goes to %u (expected a newer serial up to "
                           "%u)",
                        x->from, v, x->serial);
        x->to = v;
        x->adding = true;
    } else if (v == x->serial && x->to == x->serial) {
        x->done = true;
    } else if (v == x->to) {
        x->from = x->to;
        x->adding = false;
    } else {
        return fail(x, "IXFR: SOA serial %u where %u was expected", v, x->to);
    }
    return XFR_IN_MORE;
}

static enum xfr_in_status
record(struct xfr_in *x, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
       uint16_t rdlen)
{
    char text[DNAME_TEXT_MAX];
    bool ok = true;
    uint8_t lname[DNAME_MAX_LEN];
    int owner_len = dname_lower_copy(lname, owner);
    if (!dname_is_subdomain(lname, x->origin)) {
        dname_to_text(lname, text, sizeof(text));
        return fail(x, "record of %s, outside the zone", text);
    }
    bool soa = is_apex_soa(x, lname, type);
    uint32_t v = soa ? soa_serial(rd, rdlen, &ok) : 0;
    if (!ok)
        return fail(x, "malformed SOA record");
    if (x->records++ == 0) {
        /* RFC 5936 §2.2, RFC 1995 §4: the first record is the zone's (new) SOA. */
        if (!soa)
            return fail(x, "the answer does not start with the zone's SOA");
        x->serial = v;
        if (x->qtype == DNS_TYPE_AXFR)
            x->kind = XFR_IN_FULL;
        zone_records_add(&x->full, lname, type, ttl, rd, rdlen);
        return XFR_IN_MORE;
    }
    if (x->kind == XFR_IN_UNKNOWN) {
        /* RFC 1995 §4: differences start with the SOA of the version we hold. */
        if (soa && v == x->base_serial && x->base) {
            start_incremental(x);
            return XFR_IN_MORE;
        }
        x->kind = XFR_IN_FULL;
    }
    if (x->kind == XFR_IN_INCREMENTAL)
        return soa ? incremental_soa(x, v) : apply(x, lname, (uint8_t)owner_len, type, ttl, rd, rdlen);
    if (soa) {
        /* RFC 5936 §2.2: the last record is the same SOA again. */
        if (v != x->serial)
            return fail(x, "closing SOA serial %u differs from the opening %u", v, x->serial);
        x->done = true;
        return XFR_IN_MORE;
    }
    if (x->full.count >= x->limits.max_records)
        return fail(x, "more than %zu records", x->limits.max_records);
    zone_records_add(&x->full, lname, type, ttl, rd, rdlen);
    return XFR_IN_MORE;
}

/* The question of a response message: none (RFC 5936 §2.2.1 allows it after the first) or
 * ours. Moves *pos past it. */
static bool
question_ok(const struct xfr_in *x, const uint8_t *msg, size_t len, size_t *pos)
{
    uint16_t qd = dnswire_count(msg, DNS_OFF_QDCOUNT);
    uint8_t name[DNAME_MAX_LEN];
    if (qd == 0)
        return x->messages > 1;
    if (qd != 1 || dname_read_compressed(msg, len, pos, name) < 0 || *pos + 4 > len)
        return false;
    bool ours = dname_equal(name, x->origin) && dnswire_get16(msg + *pos) == x->qtype &&
                dnswire_get16(msg + *pos + 2) == DNS_CLASS_IN;
    *pos += 4;
    return ours;
}

enum xfr_in_status
xfr_in_message(struct xfr_in *x, const uint8_t *msg, size_t len)
{
    char rc_text[DNSWIRE_TYPE_TEXT_MAX];
    if (x->done)
        return x->err[0] ? XFR_IN_ERROR : fail(x, "a message after the end of the transfer");
    x->messages++;
    x->bytes += len;
    if (x->messages > x->limits.max_messages)
        return fail(x, "more than %u messages", x->limits.max_messages);
    if (x->bytes > x->limits.max_bytes)
        return fail(x, "more than %zu bytes", x->limits.max_bytes);
    if (len < DNS_HEADER_LEN || dnswire_id(msg) != x->id ||
        !(dnswire_flags(msg) & DNS_FLAG_QR) || dnswire_opcode(msg) != DNS_OPCODE_QUERY)
        return fail(x, "not a response to our request");
    if (dnswire_rcode(msg) != DNS_RCODE_NOERROR) {
        x->rcode = (uint8_t)dnswire_rcode(msg);
        return fail(x, "the primary answered %s", dnswire_rcode_text(x->rcode, rc_text));
    }
    if (dnswire_flags(msg) & DNS_FLAG_TC)
        return fail(x, "truncated message (TC)");
    size_t pos = DNS_HEADER_LEN;
    if (!question_ok(x, msg, len, &pos))
        return fail(x, "the response's question is not ours");
    uint16_t an = dnswire_count(msg, DNS_OFF_ANCOUNT);
    uint8_t *rd = x->rdata_buf;
    for (uint16_t i = 0; i < an; i++) {
        struct dnswire_rr rr;
        size_t rdlen;
        if (x->done)
            return fail(x, "records after the closing SOA");
        if (dnswire_rr_read(msg, len, &pos, &rr) < 0 || read_rdata(msg, len, &rr, rd, &rdlen) < 0)
            return fail(x, "malformed record %u of message %u", i + 1, x->messages);
        if (rr.rclass != DNS_CLASS_IN)
            return fail(x, "a record of class %u (only IN is served)", rr.rclass);
        if (x->records >= x->limits.max_records)
            return fail(x, "more than %zu records", x->limits.max_records);
        if (record(x, rr.owner, rr.type, rr.ttl, rd, (uint16_t)rdlen) == XFR_IN_ERROR)
            return XFR_IN_ERROR;
    }
    if (x->kind == XFR_IN_UNKNOWN && x->records == 1) {
        /* RFC 1995 §4: the SOA alone means our version is current; a newer one alone is an
         * answer we cannot use (UDP's "use TCP"): the caller falls back to AXFR. */
        if (x->serial != x->base_serial && !dnswire_serial_before(x->serial, x->base_serial))
            return fail(x, "the IXFR answer is a newer SOA (serial %u) alone", x->serial);
        x->kind = XFR_IN_UP_TO_DATE;
        x->done = true;
    }
    if (x->records == 0)
        return fail(x, "an answer without records");
    return x->done ? XFR_IN_DONE : XFR_IN_MORE;
}

bool
xfr_in_result(struct xfr_in *x, struct zone_records *out)
{
    zone_records_init(out);
    if (!x->done || x->err[0] || x->kind == XFR_IN_UP_TO_DATE || x->kind == XFR_IN_UNKNOWN)
        return false;
    if (x->kind == XFR_IN_FULL) {
        /* Handed over whole: the records stay where they are. */
        zone_records_fini(out);
        *out = x->full;
        zone_records_init(&x->full);
        return true;
    }
    const struct zone_record *soa = &x->full.recs[0];
    zone_records_add(out, soa->owner, soa->type, soa->ttl, soa->rdata, soa->rdlen);
    for (size_t i = 0; i < x->entry_count; i++) {
        const struct xfr_in_entry *e = &x->entries[i];
        if (e->alive)
            zone_records_add(out, e->owner, e->type, e->ttl, e->rdata, e->rdlen);
    }
    return true;
}

const char *
xfr_in_kind_text(const struct xfr_in *x)
{
    switch (x->kind) {
    case XFR_IN_FULL:
        return x->qtype == DNS_TYPE_AXFR ? "AXFR" : "IXFR (full)";
    case XFR_IN_INCREMENTAL:
        return "IXFR";
    case XFR_IN_UP_TO_DATE:
        return "IXFR (up to date)";
    case XFR_IN_UNKNOWN:
        break;
    }
    return x->qtype == DNS_TYPE_AXFR ? "AXFR" : "IXFR";
}
