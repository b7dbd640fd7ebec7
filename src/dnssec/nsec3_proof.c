// SPDX-License-Identifier: MIT
/* The query-path side of NSEC3 (RFC 5155 §7.2): finding the record that matches or covers a
 * hash in the sorted chain, and choosing the records each kind of response needs. The
 * closest encloser is found the way dns_answer's resolve() finds it, walking the query name
 * down from the apex with one table probe per label; names that exist reach their NSEC3
 * through the chain's node map, so only names that do not exist are hashed. Pure: reads the
 * immutable zone and chain, writes the caller's proof; any worker thread, no allocation. */
#include <string.h>

#include "common/dnswire.h"
#include "dnssec/nsec3.h"

const struct nsec3_entry *
nsec3_chain_node(const struct nsec3_chain *c, const struct zone *z, const struct zone_node *node)
{
    size_t i = (size_t)(node - z->nodes);
    if (i >= c->node_count || c->node_entry[i] == ZONE_NONE)
        return NULL;
    return &c->entries[c->node_entry[i]];
}

const struct nsec3_entry *
nsec3_chain_wildcard_cover(const struct nsec3_chain *c, const struct zone *z,
                           const struct zone_node *node)
{
    size_t i = (size_t)(node - z->nodes);
    if (i >= c->node_count || c->wildcard_cover[i] == ZONE_NONE)
        return NULL;
    return &c->entries[c->wildcard_cover[i]];
}

/* Binary search inside the hash's bucket: the number of entries whose hash sorts before
 * `hash`, and whether the next one equals it. Big-endian prefixes order as the hashes do;
 * only equal ones need memcmp. */
static uint32_t
search(const struct nsec3_chain *c, const uint8_t *hash, bool *equal)
{
    *equal = false;
    if (c->count == 0)
        return 0; /* an empty (or finished) chain has no index */
    uint64_t key = nsec3_hash_prefix(hash);
    uint64_t b = c->bucket_bits ? key >> (64 - c->bucket_bits) : 0;
    /* Hashes are uniform, so the bucket starts near b / 2^bits of the way through the
     * prefixes: fetching that line beside the bucket's bounds takes one memory round trip
     * where reading the bounds first and the prefixes after took two. */
    __builtin_prefetch(&c->prefix[(uint32_t)(((uint64_t)b * c->count) >> c->bucket_bits)]);
    uint32_t lo = c->bucket[b], hi = c->bucket[b + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t at = c->prefix[mid];
        int cmp = at < key ? -1 : at > key ? 1 : memcmp(c->entries[mid].hash, hash, NSEC3_HASH_LEN);
        if (cmp < 0) {
            lo = mid + 1;
        } else if (cmp > 0) {
            hi = mid;
        } else {
            *equal = true;
            return mid;
        }
    }
    return lo;
}

const struct nsec3_entry *
nsec3_chain_match(const struct nsec3_chain *c, const uint8_t hash[NSEC3_HASH_LEN])
{
    bool equal;
    uint32_t i = search(c, hash, &equal);
    return equal ? &c->entries[i] : NULL;
}

const struct nsec3_entry *
nsec3_chain_cover(const struct nsec3_chain *c, const uint8_t hash[NSEC3_HASH_LEN])
{
    bool equal;
    uint32_t before = search(c, hash, &equal);
    if (equal || c->count == 0)
        return NULL;
    /* The predecessor; a hash before the first one is covered by the last entry, whose next
     * hash wraps around to the first (RFC 5155 §3.1.7). */
    return &c->entries[before > 0 ? before - 1 : c->count - 1];
}

/* Where the walk down the name ended. */
struct walk {
    const struct zone_node *ce;  /* the closest encloser: lname itself if it exists */
    const struct zone_node *cut; /* the first delegation met (the walk stops there) */
    const uint8_t *next_closer;  /* lname's ancestor one label below ce, if !exists */
    bool exists;
};

/* RFC 5155 §7.2.1 with the zone's own knowledge: the deepest existing ancestor-or-self of
 * lname, stopping at a zone cut as the answer path does (below it lies the child's zone). */
static int
walk(const struct zone *z, const uint8_t *lname, struct walk *w)
{
    int offsets[DNAME_MAX_LABELS + 1];
    int labels = 0, len = 0;
    memset(w, 0, sizeof(*w));
    if (!dname_is_subdomain(lname, z->origin))
        return -1;
    while (lname[len]) {
        offsets[labels++] = len;
        len += 1 + lname[len];
    }
    len++;
    w->ce = &z->nodes[0];
    int depth;
    for (depth = z->origin_labels + 1; depth <= labels; depth++) {
        int off = offsets[labels - depth];
        const struct zone_node *n = zone_lookup(z, lname + off, len - off);
        if (!n)
            break;
        w->ce = n;
        if (n->flags & ZONE_NODE_DELEGATION) {
            w->cut = n;
            depth++;
            break;
        }
    }
    w->exists = depth > labels;
    if (!w->exists)
        w->next_closer = lname + offsets[labels - depth];
    return 0;
}

/* Adds an entry unless it is already in the proof; false for a missing one. */
static bool
add(struct nsec3_proof *out, const struct nsec3_entry *e)
{
    if (!e)
        return false;
    for (unsigned i = 0; i < out->count; i++)
        if (out->entries[i] == e)
            return true;
    out->entries[out->count++] = e;
    return true;
}

/* The NSEC3 covering the hash of `name`. */
static const struct nsec3_entry *
cover_name(const struct nsec3_chain *c, const uint8_t *name)
{
    uint8_t hash[NSEC3_HASH_LEN];
    nsec3_hash(name, &c->params, hash);
    return nsec3_chain_cover(c, hash);
}

/* "*.<ce>" into buf; its length, or -1 if it would be too long. */
static int
wildcard_of(const struct zone_node *ce, uint8_t buf[DNAME_MAX_LEN])
{
    if (ce->name_len + 2 > DNAME_MAX_LEN)
        return -1;
    buf[0] = 1;
    buf[1] = '*';
    memcpy(buf + 2, ce->name, ce->name_len);
    return ce->name_len + 2;
}

/* RFC 5155 §7.2.1 closest (provable) encloser proof: the closest encloser's NSEC3 and the
 * one covering the next closer name (the first of up to 2 hashes). */
static bool
closest_encloser_proof(const struct nsec3_chain *c, const struct zone *z, const struct walk *w,
                       struct nsec3_proof *out)
{
    return add(out, nsec3_chain_node(c, z, w->ce)) && add(out, cover_name(c, w->next_closer));
}

static int
finish(struct nsec3_proof *out, bool ok)
{
    if (!ok)
        out->count = 0;
    return ok ? 0 : -1;
}

int
nsec3_prove_nxdomain_at(const struct nsec3_chain *c, const struct zone *z,
                        const struct zone_node *ce, const uint8_t *next_closer,
                        struct nsec3_proof *out)
{
    out->count = 0;
    /* §7.2.2: the closest encloser proof, and the wildcard that would have matched at the
     * closest encloser does not exist either (a match there means a wildcard answer, not a
     * name error): its covering record was found when the chain was built. */
    bool ok = add(out, nsec3_chain_node(c, z, ce)) && add(out, cover_name(c, next_closer)) &&
              add(out, nsec3_chain_wildcard_cover(c, z, ce));
    return finish(out, ok);
}

int
nsec3_prove_nxdomain(const struct nsec3_chain *c, const struct zone *z, const uint8_t *lname,
                     struct nsec3_proof *out)
{
    struct walk w;
    out->count = 0;
    if (walk(z, lname, &w) < 0 || w.exists || w.cut)
        return -1;
    return nsec3_prove_nxdomain_at(c, z, w.ce, w.next_closer, out);
}

int
nsec3_prove_nodata(const struct nsec3_chain *c, const struct zone *z, const uint8_t *lname,
                   uint16_t qtype, struct nsec3_proof *out)
{
    struct walk w;
    out->count = 0;
    if (walk(z, lname, &w) < 0)
        return -1;
    if (w.exists) {
        /* §7.2.3, and §7.2.4 for DS at a delegation: the NSEC3 of the name itself, whose
         * bit map lacks the type (and CNAME). At a cut only a DS query gets here. */
        if (w.cut && qtype != DNS_TYPE_DS)
            return -1;
        return finish(out, add(out, nsec3_chain_node(c, z, w.ce)));
    }
    /* §7.2.4: no NSEC3 matches a DS query's name: the closest provable encloser proof. */
    if (qtype != DNS_TYPE_DS || w.cut)
        return -1;
    return finish(out, closest_encloser_proof(c, z, &w, out));
}

/* The walk for a name a wildcard answers: not existing, no cut above it, and "*.<ce>" a
 * node of the zone (returned). */
static const struct zone_node *
wildcard_walk(const struct zone *z, const uint8_t *lname, struct walk *w)
{
    uint8_t wild[DNAME_MAX_LEN];
    if (walk(z, lname, w) < 0 || w->exists || w->cut || !(w->ce->flags & ZONE_NODE_WILDCARD_CHILD))
        return NULL;
    int len = wildcard_of(w->ce, wild);
    return len < 0 ? NULL : zone_lookup(z, wild, len);
}

int
nsec3_prove_wildcard_nodata(const struct nsec3_chain *c, const struct zone *z, const uint8_t *lname,
                            struct nsec3_proof *out)
{
    struct walk w;
    out->count = 0;
    const struct zone_node *star = wildcard_walk(z, lname, &w);
    bool ok =
        star && closest_encloser_proof(c, z, &w, out) && add(out, nsec3_chain_node(c, z, star));
    return finish(out, ok);
}

int
nsec3_prove_wildcard_answer(const struct nsec3_chain *c, const struct zone *z, const uint8_t *lname,
                            struct nsec3_proof *out)
{
    struct walk w;
    out->count = 0;
    /* §7.2.6: the closest encloser is implied by the RRSIG labels field of the expanded
     * answer; only the next closer name must be shown not to exist. */
    bool ok = wildcard_walk(z, lname, &w) && add(out, cover_name(c, w.next_closer));
    return finish(out, ok);
}

int
nsec3_prove_referral(const struct nsec3_chain *c, const struct zone *z, const uint8_t *lname,
                     struct nsec3_proof *out)
{
    struct walk w;
    out->count = 0;
    if (walk(z, lname, &w) < 0 || !w.cut)
        return -1;
    if (zone_node_rrset(w.cut, DNS_TYPE_DS))
        return 0; /* a signed delegation: its DS RRset and RRSIG say it all */
    return finish(out, add(out, nsec3_chain_node(c, z, w.cut)));
}
