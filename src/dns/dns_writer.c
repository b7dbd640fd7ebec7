// SPDX-License-Identifier: MIT
/* Response writer with name compression (RFC 1035 §4.1.4). Every name written is recorded
 * by offset; a later name is written as its new labels plus a pointer to the longest
 * already-written suffix, compared case-insensitively (RFC 4343), so owners that repeat the
 * question take its case. Names inside RDATA are compressed only for the types RFC 3597 §4
 * allows (NS, CNAME, SOA, PTR, MX); DNAME (RFC 6672 §2.5) and SRV (RFC 2782) never are.
 * Writes into the caller's buffer: no allocation. */
#include <stdint.h>
#include <string.h>

#include "dns/dns_internal.h"

static inline uint8_t
lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

void
dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t limit)
{
    w->buf = buf;
    w->limit = limit;
    w->pos = DNS_HEADER_LEN;
    memset(w->count, 0, sizeof(w->count));
    w->comp_count = 0;
    w->keys_pending = 0;
    w->qname_len = 0;
    w->last_owner = SIZE_MAX;
}

/* True if the (possibly compressed) name at packet offset `off` equals the uncompressed
 * `name`, ignoring case. Pointers in our own output always point backwards. */
static bool
name_at_equals(const uint8_t *buf, uint16_t off, const uint8_t *name)
{
    for (int guard = 0; guard < DNAME_MAX_LABELS; guard++) {
        uint8_t l = buf[off];
        while ((l & 0xC0) == 0xC0) {
            off = (uint16_t)(((l & 0x3F) << 8) | buf[off + 1]);
            l = buf[off];
        }
        if (l != *name)
            return false;
        if (l == 0)
            return true;
        /* Usually the very same bytes (an owner repeating the question): memcmp first. */
        if (memcmp(buf + off + 1, name + 1, l) != 0)
            for (int i = 1; i <= l; i++)
                if (lower(buf[off + i]) != lower(name[i]))
                    return false;
        off = (uint16_t)(off + 1 + l);
        name += 1 + l;
    }
    return false;
}

/* The compression keys of every suffix of `name` (labels at `offsets`, `len` bytes with the
 * root): length << 8 | an FNV-1a hash of the suffix's lowercased bytes, folded to 8 bits.
 * Computed from the root up, so each suffix extends the hash of the one after it. */
static void
suffix_keys(const uint8_t *name, const uint8_t *offsets, int labels, int len, uint16_t *keys)
{
    uint32_t h = 2166136261u;
    for (int i = labels - 1; i >= 0; i--) {
        const uint8_t *l = name + offsets[i];
        for (int k = l[0]; k >= 0; k--)
            h = (h ^ lower(l[k])) * 16777619u;
        uint8_t tag = (uint8_t)(h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24));
        keys[i] = (uint16_t)((len - offsets[i]) << 8 | tag);
    }
}

/* Labels of the uncompressed `name`: their offsets; returns the count, *len the wire length
 * with the root byte. */
static int
name_labels(const uint8_t *name, uint8_t *offsets, int *len)
{
    int labels = 0, n = 0;
    offsets[0] = 0; /* the root's (no labels); also tells GCC the array is written */
    while (name[n]) {
        offsets[labels++] = (uint8_t)n;
        n += 1 + name[n];
    }
    *len = n + 1;
    return labels;
}

/* Gives the question's entries the keys dns_writer_question left out. */
static void
question_keys(struct dns_writer *w)
{
    uint8_t offsets[DNAME_MAX_LABELS];
    uint16_t keys[DNAME_MAX_LABELS];
    int len;
    int labels = name_labels(w->buf + DNS_HEADER_LEN, offsets, &len);
    suffix_keys(w->buf + DNS_HEADER_LEN, offsets, labels, len, keys);
    for (int i = 0; i < w->keys_pending && i < labels; i++)
        w->comp_key[i] = keys[i];
    w->keys_pending = 0;
}

/* Writes `name` compressed; returns 0 or -1 (no room). */
static int
put_name(struct dns_writer *w, const uint8_t *name)
{
    uint8_t offsets[DNAME_MAX_LABELS];
    uint16_t keys[DNAME_MAX_LABELS];
    int len;
    int labels = name_labels(name, offsets, &len);
    /* The question's very bytes again (most owners): the search would end at its entry,
     * the first; point there without hashing anything. The root is one byte as it is. */
    if (labels > 0 && w->qname_len == (size_t)len && w->comp_count > 0 &&
        w->comp[0] == DNS_HEADER_LEN && memcmp(w->buf + DNS_HEADER_LEN, name, (size_t)len) == 0) {
        if (w->pos + 2 > w->limit)
            return -1;
        dnswire_put16(w->buf + w->pos, (uint16_t)(0xC000 | DNS_HEADER_LEN));
        w->pos += 2;
        return 0;
    }
    if (w->keys_pending)
        question_keys(w);
    suffix_keys(name, offsets, labels, len, keys);
    /* The longest suffix already in the packet. */
    int match_label = labels;
    uint16_t match = 0;
    for (int i = 0; i < labels && !match; i++) {
        for (int j = 0; j < w->comp_count; j++) {
            if (w->comp_key[j] == keys[i] &&
                name_at_equals(w->buf, w->comp[j], name + offsets[i])) {
                match = w->comp[j];
                match_label = i;
                break;
            }
        }
    }
    size_t prefix_len = match_label < labels ? offsets[match_label] : (size_t)len - 1;
    size_t need = prefix_len + (match ? 2 : 1);
    if (w->pos + need > w->limit)
        return -1;
    /* Record the new labels as compression targets (offsets must fit in 14 bits). */
    for (int i = 0; i < match_label; i++) {
        size_t off = w->pos + offsets[i];
        if (off < 0x4000 && w->comp_count < DNS_COMPRESS_MAX) {
            w->comp[w->comp_count] = (uint16_t)off;
            w->comp_key[w->comp_count] = keys[i];
            w->comp_count++;
        }
    }
    memcpy(w->buf + w->pos, name, prefix_len);
    w->pos += prefix_len;
    if (match) {
        dnswire_put16(w->buf + w->pos, (uint16_t)(0xC000 | match));
        w->pos += 2;
    } else {
        w->buf[w->pos++] = 0;
    }
    return 0;
}

/* The first name of the message, so nothing to compress against: written as it is, its
 * labels recorded as targets whose keys wait (keys_pending) until a search needs them. */
int
dns_writer_question(struct dns_writer *w, const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
    uint8_t offsets[DNAME_MAX_LABELS];
    int len;
    int labels = name_labels(qname, offsets, &len);
    if (w->pos != DNS_HEADER_LEN || w->comp_count != 0 || labels > DNS_COMPRESS_MAX) {
        if (put_name(w, qname) < 0) /* not the first name: the general way */
            return -1;
    } else {
        if (w->pos + (size_t)len > w->limit)
            return -1;
        memcpy(w->buf + w->pos, qname, (size_t)len);
        for (int i = 0; i < labels; i++)
            w->comp[i] = (uint16_t)(DNS_HEADER_LEN + offsets[i]);
        w->comp_count = labels;
        w->keys_pending = labels;
        w->qname_len = (size_t)len;
        w->pos += (size_t)len;
    }
    if (w->pos + 4 > w->limit)
        return -1;
    dnswire_put16(w->buf + w->pos, qtype);
    dnswire_put16(w->buf + w->pos + 2, qclass);
    w->pos += 4;
    w->count[DNS_SECTION_QD] = 1;
    return 0;
}

/* Type, class, TTL and a placeholder RDLENGTH; returns the RDLENGTH offset or 0. */
static size_t
put_fixed(struct dns_writer *w, uint16_t type, uint16_t rclass, uint32_t ttl)
{
    if (w->pos + 10 > w->limit)
        return 0;
    uint8_t *p = w->buf + w->pos;
    dnswire_put16(p, type);
    dnswire_put16(p + 2, rclass);
    dnswire_put32(p + 4, ttl);
    w->pos += 10;
    return w->pos - 2;
}

/* RDATA whose embedded names may be compressed: offsets of the names, -1 terminated. */
static const int8_t *
compressible_names(uint16_t type)
{
    static const int8_t at0[] = {0, -1}, at2[] = {2, -1}, soa[] = {0, 0, -1};
    switch (type) {
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
        return at0;
    case DNS_TYPE_MX:
        return at2;
    case DNS_TYPE_SOA:
        return soa; /* MNAME then RNAME, back to back */
    default:
        return NULL;
    }
}

static int
put_rdata(struct dns_writer *w, uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
    const int8_t *names = compressible_names(type);
    if (!names || rdlen == 0) {
        if (w->pos + rdlen > w->limit)
            return -1;
        memcpy(w->buf + w->pos, rd, rdlen);
        w->pos += rdlen;
        return 0;
    }
    size_t in = 0;
    for (; *names >= 0; names++) {
        size_t fixed = (size_t)*names; /* bytes before the name, relative to `in` */
        if (in + fixed > rdlen || w->pos + fixed > w->limit)
            return -1;
        memcpy(w->buf + w->pos, rd + in, fixed);
        w->pos += fixed;
        in += fixed;
        int nlen = dname_wire_length(rd + in, rdlen - in);
        if (nlen < 0)
            return -1;
        if (put_name(w, rd + in) < 0)
            return -1;
        in += (size_t)nlen;
    }
    if (w->pos + (rdlen - in) > w->limit)
        return -1;
    memcpy(w->buf + w->pos, rd + in, rdlen - in);
    w->pos += rdlen - in;
    return 0;
}

/* Everything after the owner: type, class, TTL, RDLENGTH and the RDATA. */
static int
put_rest(struct dns_writer *w, uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rd,
         uint16_t rdlen)
{
    size_t len_at = put_fixed(w, type, rclass, ttl);
    if (!len_at || put_rdata(w, type, rd, rdlen) < 0)
        return -1;
    dnswire_put16(w->buf + len_at, (uint16_t)(w->pos - len_at - 2));
    return 0;
}

static int
put_rr(struct dns_writer *w, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
       const uint8_t *rd, uint16_t rdlen)
{
    if (put_name(w, owner) < 0)
        return -1;
    return put_rest(w, type, rclass, ttl, rd, rdlen);
}

/* The owner written again, as the record at `at` has it: that record's 2-byte pointer, or
 * a pointer to its labels (RFC 1035 §4.1.4), with no search; put_name when it lies beyond
 * what 14 bits reach. The records of an RRset and the RRSIGs after it share their owner. */
static int
put_owner_again(struct dns_writer *w, size_t at, const uint8_t *owner)
{
    const uint8_t *p = w->buf + at;
    if (p[0] != 0 && (p[0] & 0xC0) != 0xC0 && at >= 0x4000)
        return put_name(w, owner);
    size_t need = p[0] == 0 ? 1 : 2;
    if (w->pos + need > w->limit)
        return -1;
    if (p[0] == 0)
        w->buf[w->pos] = 0; /* the root: one byte, shorter than a pointer */
    else if ((p[0] & 0xC0) == 0xC0)
        memcpy(w->buf + w->pos, p, 2);
    else
        dnswire_put16(w->buf + w->pos, (uint16_t)(0xC000 | at));
    w->pos += need;
    return 0;
}

int
dns_writer_rr(struct dns_writer *w, enum dns_section section, const uint8_t *owner,
              uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
    size_t pos = w->pos;
    int comp = w->comp_count;
    if (put_rr(w, owner, type, rclass, ttl, rdata, rdlen) < 0) {
        w->pos = pos;
        w->comp_count = comp;
        return -1;
    }
    w->count[section]++;
    return 0;
}

int
dns_writer_rrset(struct dns_writer *w, enum dns_section section, const uint8_t *owner,
                 const struct zone_rrset *set)
{
    return dns_writer_rrset_after(w, section, owner, set, SIZE_MAX);
}

/* `name` as its first label and a pointer to the rest of it, already in the packet at
 * suffix_at (RFC 1035 §4.1.4), with no search; put_name where that cannot be (the rest is
 * the root, or lies beyond what 14 bits reach). The label is not offered for compression:
 * only hashed NSEC3 owners are written this way, and no other name ends in them. */
static int
put_name_below(struct dns_writer *w, const uint8_t *name, size_t suffix_at)
{
    if (name[0] == 0 || suffix_at >= 0x4000 || w->buf[suffix_at] == 0)
        return put_name(w, name);
    size_t label = 1u + name[0];
    if (w->pos + label + 2 > w->limit)
        return -1;
    memcpy(w->buf + w->pos, name, label);
    dnswire_put16(w->buf + w->pos + label, (uint16_t)(0xC000 | suffix_at));
    w->pos += label + 2;
    return 0;
}

/* The records of `set`: the first owner written as owner_at has it (put_owner_again), or
 * below suffix_at (put_name_below), or searched for (put_name); the others point at it. */
static int
put_rrset(struct dns_writer *w, enum dns_section section, const uint8_t *owner,
          const struct zone_rrset *set, size_t owner_at, size_t suffix_at)
{
    size_t pos = w->pos;
    int comp = w->comp_count;
    const uint8_t *p = set->rdata;
    for (uint16_t i = 0; i < set->count; i++) {
        uint16_t rdlen = dnswire_get16(p);
        size_t start = w->pos;
        int rc;
        if (owner_at != SIZE_MAX)
            rc = put_owner_again(w, owner_at, owner);
        else if (suffix_at != SIZE_MAX)
            rc = put_name_below(w, owner, suffix_at);
        else
            rc = put_name(w, owner);
        if (rc < 0 || put_rest(w, set->type, DNS_CLASS_IN, set->ttl, p + 2, rdlen) < 0) {
            w->pos = pos;
            w->comp_count = comp;
            return -1;
        }
        if (owner_at == SIZE_MAX)
            owner_at = start;
        p += 2u + rdlen;
    }
    w->count[section] = (uint16_t)(w->count[section] + set->count);
    w->last_owner = owner_at;
    return 0;
}

int
dns_writer_rrset_after(struct dns_writer *w, enum dns_section section, const uint8_t *owner,
                       const struct zone_rrset *set, size_t owner_at)
{
    return put_rrset(w, section, owner, set, owner_at, SIZE_MAX);
}

int
dns_writer_rrset_below(struct dns_writer *w, enum dns_section section, const uint8_t *owner,
                       const struct zone_rrset *set, size_t suffix_at)
{
    return put_rrset(w, section, owner, set, SIZE_MAX, suffix_at);
}

int
dns_writer_wire_below(struct dns_writer *w, enum dns_section section, const uint8_t *wire,
                      size_t len, size_t suffix_at)
{
    size_t at = w->pos, label = 1u + wire[0];
    /* Both pointers need 14 bits (RFC 1035 §4.1.4); a root suffix is not worth one. */
    if (at + len > 0x4000 || suffix_at >= 0x4000 || w->buf[suffix_at] == 0 || wire[0] == 0)
        return 1;
    if (at + len > w->limit)
        return -1;
    uint8_t *out = w->buf + at;
    memcpy(out, wire, len);
    dnswire_put16(out + label, (uint16_t)(0xC000 | suffix_at));
    /* The first record's RDLENGTH, then each later record: pointer, type, class, TTL,
     * RDLENGTH, RDATA. The lengths are read from `wire`, not from the copy: reading back
     * two bytes just written by memcpy's wide stores stalls until they reach the cache. */
    size_t off = label + 2 + 10 + dnswire_get16(wire + label + 2 + 8);
    uint16_t records = 1;
    while (off + 12 <= len) {
        dnswire_put16(out + off, (uint16_t)(0xC000 | at));
        off += 12u + dnswire_get16(wire + off + 10);
        records++;
    }
    w->pos += len;
    w->count[section] = (uint16_t)(w->count[section] + records);
    w->last_owner = at;
    return 0;
}

/* Notes the compression pointer of the name at buf[p] (labels then a pointer or the root);
 * returns the offset after the name, or 0 when the name runs past `end` or the patches are
 * full. */
static size_t
capture_name(const uint8_t *buf, size_t p, size_t end, size_t start, struct dns_replay *out,
             unsigned *patches)
{
    while (p < end && buf[p] != 0 && (buf[p] & 0xC0) != 0xC0)
        p += 1u + buf[p];
    if (p >= end)
        return 0;
    if (buf[p] == 0)
        return p + 1;
    if (p + 2 > end || *patches == DNS_REPLAY_PATCHES)
        return 0;
    size_t to = (size_t)(buf[p] & 0x3F) << 8 | buf[p + 1];
    out->patch_at[*patches] = (uint16_t)(p - start);
    /* Before the run only the question is in the packet: a pointer there points into the
     * origin (the question's name is the origin when the run is made). */
    out->patch_to[*patches] = (uint16_t)(to < start ? 0x8000 | (to - DNS_HEADER_LEN) : to - start);
    (*patches)++;
    return p + 2;
}

int
dns_writer_capture(const struct dns_writer *w, size_t start, const size_t *ends,
                   const uint16_t *counts, const size_t *lasts, int levels, struct dns_replay *out,
                   struct arena *arena)
{
    memset(out, 0, sizeof(*out));
    size_t end = start;
    for (int i = 0; i < levels; i++)
        end = ends[i] > end ? ends[i] : end;
    if (levels > DNS_REPLAY_LEVELS || end >= 0x4000)
        return -1;
    unsigned patches = 0;
    int level = 0;
    size_t p = start;
    while (p < end) {
        p = capture_name(w->buf, p, end, start, out, &patches);
        if (!p || p + 10 > end)
            return -1;
        uint16_t type = dnswire_get16(w->buf + p);
        size_t rd = p + 10, rd_end = rd + dnswire_get16(w->buf + p + 8);
        /* The names inside RDATA that put_rdata compressed (compressible_names). */
        const int8_t *names = compressible_names(type);
        for (p = rd; names && *names >= 0 && p; names++)
            p = capture_name(w->buf, p + (size_t)*names, rd_end, start, out, &patches);
        if (!p || rd_end > end)
            return -1;
        p = rd_end;
        while (level < levels && (ends[level] == p || ends[level] == 0)) {
            out->patches[level] = (uint8_t)patches;
            level++;
        }
    }
    for (int i = 0; i < levels; i++) {
        if (ends[i] == 0)
            continue;
        out->len[i] = (uint16_t)(ends[i] - start);
        out->records[i] = counts[i];
        out->last_owner[i] = (uint16_t)(lasts[i] - start);
    }
    for (int j = 0; j < w->comp_count; j++) {
        if (w->comp[j] < start)
            continue;
        if (out->names == DNS_REPLAY_NAMES)
            return -1;
        out->name_at[out->names] = (uint16_t)(w->comp[j] - start);
        out->name_key[out->names++] = w->comp_key[j];
    }
    out->wire = arena_memdup(arena, w->buf + start, end - start);
    return 0;
}

int
dns_writer_replay(struct dns_writer *w, enum dns_section section, const struct dns_replay *r,
                  int level, size_t origin_at)
{
    size_t at = w->pos, len = r->len[level];
    /* Every pointer and every noted target must stay within 14 bits (RFC 1035 §4.1.4), and
     * put_name would have noted all the run's targets. */
    if (len == 0 || at + len > 0x4000 || at + len > w->limit || origin_at >= 0x4000 ||
        w->comp_count + r->names > DNS_COMPRESS_MAX)
        return 1;
    uint8_t *out = w->buf + at;
    memcpy(out, r->wire, len);
    for (unsigned i = 0; i < r->patches[level]; i++) {
        uint16_t to = r->patch_to[i];
        size_t base = (to & 0x8000) ? origin_at : at;
        dnswire_put16(out + r->patch_at[i], (uint16_t)(0xC000 | (base + (to & 0x7FFF))));
    }
    for (unsigned i = 0; i < r->names && r->name_at[i] < len; i++) {
        w->comp[w->comp_count] = (uint16_t)(at + r->name_at[i]);
        w->comp_key[w->comp_count++] = r->name_key[i];
    }
    w->pos += len;
    w->count[section] = (uint16_t)(w->count[section] + r->records[level]);
    w->last_owner = at + r->last_owner[level];
    return 0;
}

void
dns_writer_mark(const struct dns_writer *w, struct dns_writer_mark *m)
{
    m->pos = w->pos;
    memcpy(m->count, w->count, sizeof(m->count));
    m->comp_count = w->comp_count;
}

/* Compression entries past the mark point into the dropped bytes: forgetting them is enough,
 * entries before it still describe the bytes that stay. */
void
dns_writer_rewind(struct dns_writer *w, const struct dns_writer_mark *m)
{
    w->pos = m->pos;
    memcpy(w->count, m->count, sizeof(w->count));
    w->comp_count = m->comp_count;
    if (w->keys_pending > w->comp_count)
        w->keys_pending = w->comp_count;
    if (w->comp_count == 0)
        w->qname_len = 0;
}

void
dns_writer_forget_names(struct dns_writer *w)
{
    w->comp_count = 0;
    w->keys_pending = 0;
    w->qname_len = 0;
}

void
dns_writer_finish(struct dns_writer *w)
{
    for (int s = 0; s < 4; s++)
        dnswire_put16(w->buf + 4 + 2 * s, w->count[s]);
}
