// SPDX-License-Identifier: MIT
/* A zone's negative answer authority records made once per zone snapshot (RFC 2308 §3: the
 * SOA at the negative TTL; RFC 4035 §3.1.1: its RRSIGs; RFC 5155 §7.2.2: the NSEC3 records of
 * a name error directly below the apex that do not depend on the name, the apex's and the
 * one covering "*.<apex>", with their RRSIGs), written by the response writer after a
 * question for the origin and kept as a dns_replay. dns_answer() then writes them with one
 * copy and a few pointers set instead of a record, a compression search for MNAME and RNAME
 * (each hashed label by label) and three RRsets; the bytes are those the record path
 * writes (tests/unit/dns/test_dnssec_answer.c compares both). Runs on the loader thread
 * before the zone is shared; the result lives in the zone's arena. */
#include <stdlib.h>
#include <string.h>

#include "dns/dns_internal.h"
#include "dnssec/dnssec_zone.h"

/* The label of `name` (lowercased) right above the origin, of origin_len octets: a pointer
 * into name, or NULL when name is not strictly below it. */
static const uint8_t *
label_above(const uint8_t *name, int len, int origin_len)
{
    int at = 0;
    while (len - at > origin_len && name[at] != 0) {
        int next = at + 1 + name[at];
        if (len - next == origin_len)
            return name + at;
        at = next;
    }
    return NULL;
}

/* Notes the label above the origin of one SOA RDATA name (lowercased copy): a question with
 * that label there holds a longer suffix of the name, which the record path compresses
 * against instead of the origin. */
static void
note_above(struct dns_negative *n, const struct zone *zone, const uint8_t *name, size_t room)
{
    uint8_t lower[DNAME_MAX_LEN];
    int len = dname_wire_length(name, room);
    if (len < 0 || !dname_is_subdomain(name, zone->origin))
        return;
    dname_lower_copy(lower, name);
    const uint8_t *label = label_above(lower, len, zone->origin_len);
    if (label)
        memcpy(n->above[n->above_count++], label, 1u + label[0]);
}

void
dns_negative_render(struct zone *zone)
{
    zone->negative = NULL;
    /* A root zone's origin is one zero octet, never pointed to (put_owner_again). */
    if (!zone->soa || zone->origin_len <= 1 || zone->soa->count != 1)
        return;
    struct dns_negative *n = arena_alloc(&zone->arena, sizeof(*n), 8);
    memset(n, 0, sizeof(*n));
    uint8_t *buf = xmalloc(0x4000);
    struct dns_writer w;
    size_t ends[DNS_REPLAY_LEVELS] = {0}, lasts[DNS_REPLAY_LEVELS] = {0};
    uint16_t counts[DNS_REPLAY_LEVELS] = {0};
    dns_writer_init(&w, buf, 0x4000);
    if (dns_writer_question(&w, zone->origin, DNS_TYPE_SOA, DNS_CLASS_IN) < 0)
        goto out;
    size_t start = w.pos;
    /* As add_negative_capped and write_rrset_placed write them (dns_answer.c). */
    struct zone_rrset soa = *zone->soa;
    soa.ttl = zone->negative_ttl;
    if (dns_writer_rrset_after(&w, DNS_SECTION_NS, zone->origin, &soa, DNS_HEADER_LEN) < 0)
        goto out;
    ends[0] = w.pos, lasts[0] = w.last_owner, counts[0] = w.count[DNS_SECTION_NS];
    const struct dnssec_zone *dz = zone->dnssec;
    if (dz && soa.rrsig) {
        struct zone_rrset sig = *soa.rrsig;
        sig.ttl = soa.ttl;
        if (dns_writer_rrset_after(&w, DNS_SECTION_NS, zone->origin, &sig, w.last_owner) < 0)
            goto out;
        ends[1] = w.pos, lasts[1] = w.last_owner, counts[1] = w.count[DNS_SECTION_NS];
        /* The apex's NSEC3 and the cover of "*.<apex>", as finish_sections writes them. */
        const struct nsec3_chain *c = &dz->chain;
        const struct nsec3_entry *ce = nsec3_chain_node(c, zone, &zone->nodes[0]);
        const struct nsec3_entry *wc = nsec3_chain_wildcard_cover(c, zone, &zone->nodes[0]);
        const uint8_t *wire;
        size_t len;
        bool ok = ce && wc && (wire = nsec3_chain_wire(c, ce, &len)) &&
                  dns_writer_wire_below(&w, DNS_SECTION_NS, wire, len, DNS_HEADER_LEN) == 0;
        if (ok && wc != ce)
            ok = (wire = nsec3_chain_wire(c, wc, &len)) &&
                 dns_writer_wire_below(&w, DNS_SECTION_NS, wire, len, DNS_HEADER_LEN) == 0;
        if (ok) {
            ends[2] = w.pos, lasts[2] = w.last_owner, counts[2] = w.count[DNS_SECTION_NS];
            n->ce = ce;
            n->wc = wc != ce ? wc : NULL;
        }
    }
    if (dns_writer_capture(&w, start, ends, counts, lasts, DNS_REPLAY_LEVELS, &n->replay,
                           &zone->arena) < 0)
        goto out;
    /* MNAME and RNAME, back to back in the RDATA (after its 16-bit length). */
    const uint8_t *rd = soa.rdata + 2;
    size_t rdlen = dnswire_get16(soa.rdata);
    int mlen = dname_wire_length(rd, rdlen);
    if (mlen < 0)
        goto out;
    note_above(n, zone, rd, rdlen);
    note_above(n, zone, rd + mlen, rdlen - (size_t)mlen);
    zone->negative = n;
out:
    free(buf);
}

bool
dns_negative_conflict(const struct dns_negative *n, const uint8_t *lname, int len, int origin_len)
{
    if (n->above_count == 0)
        return false;
    const uint8_t *label = label_above(lname, len, origin_len);
    for (unsigned i = 0; label && i < n->above_count; i++)
        if (memcmp(label, n->above[i], 1u + label[0]) == 0)
            return true;
    return false;
}
