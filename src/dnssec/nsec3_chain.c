// SPDX-License-Identifier: MIT
/* Building the NSEC3 chain of a compiled zone (RFC 5155 §7.1): every authoritative node is
 * hashed, the hashes are sorted into the chain's order, and each gets its NSEC3 record (the
 * next hash and the type bit map of the original owner) pre-rendered in Meridian's RDATA
 * form, ready for a signer and for the answer path. Everything lives in the chain's arena.
 * Runs on the loader thread, next to the zone compiler; the result is immutable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"
#include "dnssec/nsec3.h"
#include "dnssec/typebitmap.h"

/* The extra types a steering policy may synthesize at a node (zone_node.steer_types). */
static const struct {
    uint8_t bit;
    uint16_t type;
} steer_map[] = {
    {ZONE_STEER_A, DNS_TYPE_A},
    {ZONE_STEER_AAAA, DNS_TYPE_AAAA},
    {ZONE_STEER_CNAME, DNS_TYPE_CNAME},
};

#define STEER_TYPES (sizeof(steer_map) / sizeof(steer_map[0]))

static int
entry_cmp(const void *pa, const void *pb)
{
    const struct nsec3_entry *a = pa, *b = pb;
    return memcmp(a->hash, b->hash, NSEC3_HASH_LEN);
}

/* The types at `node` for its bit map (RFC 5155 §3.2.1: "the RRSet types that exist at the
 * original owner name"), into types[] (room for rrset_count + STEER_TYPES + n + 1). */
static size_t
node_types(const struct zone_node *node, const uint16_t *extra, size_t n, uint16_t *types)
{
    size_t k = 0;
    bool sig = false;
    if (node->flags & ZONE_NODE_DELEGATION) {
        /* RFC 4034 §4.1.2, RFC 5155 §7.1: a cut owns only NS (unsigned) and DS (signed) on
         * this side; data at the cut's name beside them is the child's. */
        types[k++] = DNS_TYPE_NS;
        if (zone_node_rrset(node, DNS_TYPE_DS)) {
            types[k++] = DNS_TYPE_DS;
            sig = true;
        }
    } else {
        for (uint16_t i = 0; i < node->rrset_count; i++) {
            uint16_t t = node->rrsets[i].type;
            /* Signatures are the signer's, and an NSEC chain has no place in an NSEC3 zone. */
            if (t == DNS_TYPE_RRSIG || t == DNS_TYPE_NSEC)
                continue;
            types[k++] = t;
            sig = true;
        }
        for (size_t i = 0; i < STEER_TYPES; i++) {
            if (node->steer_types & steer_map[i].bit) {
                types[k++] = steer_map[i].type;
                sig = true;
            }
        }
        if (node->flags & ZONE_NODE_APEX) {
            for (size_t i = 0; i < n; i++)
                types[k++] = extra[i];
        }
    }
    if (sig)
        types[k++] = DNS_TYPE_RRSIG;
    return k;
}

/* The NSEC3 RDATA (RFC 5155 §3.2) of entry e, next hash `next`, into the arena. */
static void
render(struct nsec3_chain *c, struct nsec3_entry *e, const uint8_t *next, const uint8_t *map,
       size_t map_len, uint32_t ttl)
{
    const struct nsec3_params *p = &c->params;
    size_t rdlen = 4u + 1u + p->salt_len + 1u + NSEC3_HASH_LEN + map_len;
    uint8_t *rd = arena_alloc(&c->arena, 2 + rdlen, 1);
    uint8_t *w = rd;
    dnswire_put16(w, (uint16_t)rdlen);
    w[2] = NSEC3_ALG_SHA1;
    w[3] = 0; /* flags: no opt-out (RFC 9276 §3.1) */
    dnswire_put16(w + 4, p->iterations);
    w[6] = p->salt_len;
    memcpy(w + 7, p->salt, p->salt_len);
    w += 7 + p->salt_len;
    *w++ = NSEC3_HASH_LEN;
    memcpy(w, next, NSEC3_HASH_LEN);
    memcpy(w + NSEC3_HASH_LEN, map, map_len);
    e->rrset = (struct zone_rrset){.type = DNS_TYPE_NSEC3, .count = 1, .ttl = ttl, .rdata = rd};
}

/* The hashed owner name: one base32hex label, then the origin (RFC 5155 §3). */
static void
make_owner(struct nsec3_chain *c, const struct zone *z, struct nsec3_entry *e)
{
    char label[NSEC3_B32_LEN + 1];
    uint8_t *o = arena_alloc(&c->arena, 1u + NSEC3_B32_LEN + (size_t)z->origin_len, 1);
    if (nsec3_base32hex(e->hash, NSEC3_HASH_LEN, label, sizeof(label)) != NSEC3_B32_LEN)
        abort(); /* the buffer is sized for it */
    o[0] = NSEC3_B32_LEN;
    memcpy(o + 1, label, NSEC3_B32_LEN);
    memcpy(o + 1 + NSEC3_B32_LEN, z->origin, (size_t)z->origin_len);
    e->owner = o;
    e->owner_len = (uint8_t)(1 + NSEC3_B32_LEN + z->origin_len);
}

/* struct nsec3_chain.prefix and .bucket, for the sorted entries. */
static void
index_hashes(struct nsec3_chain *c)
{
    unsigned bits = 0;
    while (bits < 24 && (1u << bits) < c->count)
        bits++;
    size_t buckets = (size_t)1 << bits;
    c->bucket_bits = bits;
    c->prefix = arena_alloc(&c->arena, (c->count ? c->count : 1) * sizeof(*c->prefix), 8);
    c->bucket = arena_alloc(&c->arena, (buckets + 1) * sizeof(*c->bucket), 4);
    uint32_t i = 0;
    for (uint32_t e = 0; e < c->count; e++)
        c->prefix[e] = nsec3_hash_prefix(c->entries[e].hash);
    /* bucket[b]: the first entry whose top bits are b or more. */
    for (size_t b = 0; b < buckets; b++) {
        while (i < c->count && (bits ? c->prefix[i] >> (64 - bits) : 0) < b)
            i++;
        c->bucket[b] = i;
    }
    c->bucket[buckets] = c->count;
}

/* struct nsec3_chain.wildcard_cover: for each node that can be the closest encloser of a
 * name error (authoritative, not a cut), the entry covering "*.<node>"; ZONE_NONE where the
 * wildcard exists (the hash matches) or its name would be too long. One hash and one binary
 * search per node here instead of per negative answer. */
static void
find_wildcard_covers(struct nsec3_chain *c, const struct zone *z)
{
    uint8_t wild[DNAME_MAX_LEN], hash[NSEC3_HASH_LEN];
    wild[0] = 1;
    wild[1] = '*';
    for (uint32_t i = 0; i < z->node_count; i++) {
        const struct zone_node *node = &z->nodes[i];
        c->wildcard_cover[i] = ZONE_NONE;
        if ((node->flags & (ZONE_NODE_NONAUTH | ZONE_NODE_DELEGATION)) ||
            node->name_len + 2 > DNAME_MAX_LEN)
            continue;
        memcpy(wild + 2, node->name, node->name_len);
        nsec3_hash(wild, &c->params, hash);
        const struct nsec3_entry *e = nsec3_chain_cover(c, hash);
        if (e)
            c->wildcard_cover[i] = (uint32_t)(e - c->entries);
    }
}

static int
check_zone(const struct zone *z, const struct nsec3_params *p, char err[NSEC3_ERR_MAX])
{
    char text[DNAME_TEXT_MAX];
    if (p->iterations > NSEC3_ITERATIONS_MAX) {
        snprintf(err, NSEC3_ERR_MAX, "NSEC3 iterations %u: at most %d (RFC 9276 §3.2 asks for 0)",
                 p->iterations, NSEC3_ITERATIONS_MAX);
        return -1;
    }
    dname_to_text(z->origin, text, sizeof(text));
    if (1 + NSEC3_B32_LEN + z->origin_len > DNAME_MAX_LEN) {
        snprintf(err, NSEC3_ERR_MAX,
                 "zone %.100s: origin too long for NSEC3 owner names (a 32-octet label under it "
                 "exceeds 255 octets)",
                 text);
        return -1;
    }
    for (uint32_t i = 0; i < z->node_count; i++) {
        if (zone_node_rrset(&z->nodes[i], DNS_TYPE_NSEC3)) {
            dname_to_text(z->nodes[i].name, text, sizeof(text));
            snprintf(err, NSEC3_ERR_MAX,
                     "%.100s: the zone already has NSEC3 records; Meridian builds the chain "
                     "itself",
                     text);
            return -1;
        }
    }
    return 0;
}

int
nsec3_chain_build(const struct zone *z, const struct nsec3_params *p,
                  const uint16_t *extra_apex_types, size_t n, struct nsec3_chain *out,
                  char err[NSEC3_ERR_MAX])
{
    int ret = -1;
    uint16_t *types = NULL;
    uint8_t *map = NULL;
    memset(out, 0, sizeof(*out));
    arena_init(&out->arena);
    out->params = *p;
    if (check_zone(z, p, err) < 0)
        goto out;

    /* RFC 5155 §7.1: every authoritative name, empty non-terminals included; names below a
     * cut (glue, occluded data) get none. */
    uint32_t count = 0, max_sets = 0;
    for (uint32_t i = 0; i < z->node_count; i++) {
        if (!(z->nodes[i].flags & ZONE_NODE_NONAUTH))
            count++;
        if (z->nodes[i].rrset_count > max_sets)
            max_sets = z->nodes[i].rrset_count;
    }
    out->entries = arena_alloc(&out->arena, count * sizeof(*out->entries), 8);
    out->node_entry = arena_alloc(&out->arena, z->node_count * sizeof(*out->node_entry), 4);
    out->wildcard_cover = arena_alloc(&out->arena, z->node_count * sizeof(*out->wildcard_cover), 4);
    out->node_count = z->node_count;
    uint32_t k = 0;
    for (uint32_t i = 0; i < z->node_count; i++) {
        out->node_entry[i] = ZONE_NONE;
        if (z->nodes[i].flags & ZONE_NODE_NONAUTH)
            continue;
        struct nsec3_entry *e = &out->entries[k++];
        memset(e, 0, sizeof(*e));
        e->node = i;
        nsec3_hash(z->nodes[i].name, p, e->hash);
    }
    out->count = count;
    qsort(out->entries, count, sizeof(*out->entries), entry_cmp);

    index_hashes(out);
    for (uint32_t i = 0; i + 1 < count; i++) {
        if (memcmp(out->entries[i].hash, out->entries[i + 1].hash, NSEC3_HASH_LEN) == 0) {
            char a[DNAME_TEXT_MAX], b[DNAME_TEXT_MAX];
            dname_to_text(z->nodes[out->entries[i].node].name, a, sizeof(a));
            dname_to_text(z->nodes[out->entries[i + 1].node].name, b, sizeof(b));
            snprintf(err, NSEC3_ERR_MAX,
                     "NSEC3 hash collision between %.100s and %.100s: use another salt", a, b);
            goto out;
        }
    }

    types = xmalloc((max_sets + STEER_TYPES + n + 1) * sizeof(*types));
    map = xmalloc(TYPEBITMAP_MAX);
    /* RFC 9077 §3.3 (updating RFC 5155 §3): the TTL of negative answers. */
    uint32_t ttl = z->negative_ttl;
    for (uint32_t i = 0; i < count; i++) {
        struct nsec3_entry *e = &out->entries[i];
        out->node_entry[e->node] = i;
        size_t nt = node_types(&z->nodes[e->node], extra_apex_types, n, types);
        int map_len = typebitmap_encode(types, nt, map, TYPEBITMAP_MAX);
        if (map_len < 0)
            abort(); /* TYPEBITMAP_MAX holds every type */
        make_owner(out, z, e);
        /* RFC 5155 §3.1.7: the next hash in order; the last one points back to the first. */
        render(out, e, out->entries[(i + 1) % count].hash, map, (size_t)map_len, ttl);
    }

    find_wildcard_covers(out, z);

    uint8_t *param = arena_alloc(&out->arena, NSEC3PARAM_RDATA_MAX, 1);
    if (nsec3_param_rdata(p, param, NSEC3PARAM_RDATA_MAX) < 0)
        abort(); /* NSEC3PARAM_RDATA_MAX holds any salt */
    out->param =
        (struct zone_rrset){.type = DNS_TYPE_NSEC3PARAM, .count = 1, .ttl = ttl, .rdata = param};
    ret = 0;
out:
    free(types);
    free(map);
    if (ret < 0)
        nsec3_chain_fini(out);
    return ret;
}

/* One record after its owner: type, class IN, TTL, RDLENGTH and RDATA (the zone's RDATA form
 * is RDLENGTH then RDATA already). */
static uint8_t *
put_record(uint8_t *w, uint16_t type, uint32_t ttl, const uint8_t *rd)
{
    size_t rdlen = dnswire_get16(rd);
    dnswire_put16(w, type);
    dnswire_put16(w + 2, DNS_CLASS_IN);
    dnswire_put32(w + 4, ttl);
    memcpy(w + 8, rd, 2 + rdlen);
    return w + 10 + rdlen;
}

/* The bytes of entry e with its RRSIGs (struct nsec3_chain.wire, after the length), or just
 * their length when out is NULL; 0 for an unsigned entry. */
static size_t
render_entry(const struct nsec3_entry *e, uint8_t *out)
{
    const struct zone_rrset *sig = e->rrset.rrsig;
    if (!sig)
        return 0;
    size_t label = 1u + e->owner[0];
    size_t len = label + 2 + 10 + dnswire_get16(e->rrset.rdata);
    const uint8_t *p = sig->rdata;
    for (uint16_t k = 0; k < sig->count; k++) {
        len += 2 + 10 + dnswire_get16(p);
        p += 2u + dnswire_get16(p);
    }
    if (!out)
        return len;
    uint8_t *w = out;
    memcpy(w, e->owner, label);
    w += label;
    /* The pointers stay zero here; the writer sets them (RFC 1035 §4.1.4). The served RRSIG
     * TTL is the NSEC3 record's (RFC 4034 §3). */
    dnswire_put16(w, 0xC000);
    w = put_record(w + 2, DNS_TYPE_NSEC3, e->rrset.ttl, e->rrset.rdata);
    p = sig->rdata;
    for (uint16_t k = 0; k < sig->count; k++) {
        dnswire_put16(w, 0xC000);
        w = put_record(w + 2, DNS_TYPE_RRSIG, e->rrset.ttl, p);
        p += 2u + dnswire_get16(p);
    }
    return len;
}

void
nsec3_chain_render_wire(struct nsec3_chain *c)
{
    size_t most = 0;
    for (uint32_t i = 0; i < c->count; i++) {
        size_t len = render_entry(&c->entries[i], NULL);
        most = len > most ? len : most;
    }
    /* A few hundred bytes; 16-bit lengths hold any, and a response could not take more. */
    if (most == 0 || most > UINT16_MAX)
        return;
    c->wire_stride = (2 + most + 63) / 64 * 64; /* whole cache lines */
    /* Aligned to a cache line by hand: the arena aligns within its chunks only. */
    uint8_t *raw = arena_alloc(&c->arena, c->count * c->wire_stride + 63, 1);
    c->wire = (uint8_t *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    for (uint32_t i = 0; i < c->count; i++) {
        uint8_t *slot = c->wire + (size_t)i * c->wire_stride;
        dnswire_put16(slot, (uint16_t)render_entry(&c->entries[i], slot + 2));
    }
}

void
nsec3_chain_fini(struct nsec3_chain *c)
{
    arena_fini(&c->arena);
    memset(c, 0, sizeof(*c));
}
