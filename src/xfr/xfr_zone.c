// SPDX-License-Identifier: MIT
/* The transfer view of a compiled zone (see xfr.h): the walk over everything a full transfer
 * carries, and the records that stand for steered names. A steered name is answered per
 * client by its policy; a secondary can only serve one static RRset there, so a transfer
 * carries valid DNS that never reveals the configuration:
 * - the zone file's own A or AAAA RRset at the name, where the file has one;
 * - otherwise, for each address family the service answers, the addresses of the first pool
 *   of its default order (`default:`, else the pools in declared order) that has members of
 *   that family, members forced down (`down: true`) left out unless all are: what a client
 *   with no location rule gets when every member is up (at most POLICY_MAX_ANSWER records);
 * - for a CNAME service, a CNAME to the first member of that pool (RFC 1034 §3.6.2: one).
 * So the NSEC3 type bit map of the name (which lists the types the policy answers) matches
 * what the secondary holds. In a signed zone these RRsets are signed at load into the zone's
 * variant table, with the service's TTL as the answers are. Loader thread; read-only after. */
#include "xfr/xfr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"
#include "dnssec/dnssec_sigstore.h"

static bool
pool_has(const struct policy_pool *pool, int family, bool up_only)
{
    for (uint32_t m = 0; m < pool->member_count; m++)
        if (pool->members[m].family == family && !(up_only && pool->members[m].forced_down))
            return true;
    return false;
}

/* The pool whose members stand for the service in family (0: CNAME members): the first of
 * the default order with a member not forced down, else the first of any order, else the
 * first with any member of the family at all. */
static const struct policy_pool *
carried_pool(const struct policy_service *svc, int family, bool *up_only)
{
    for (int pass = 0; pass < 2; pass++) {
        *up_only = pass == 0;
        const struct policy_order *def = svc->order_count ? &svc->orders[0] : NULL;
        for (uint32_t i = 0; def && i < def->count; i++)
            if (pool_has(&svc->pools[def->pools[i]], family, *up_only))
                return &svc->pools[def->pools[i]];
        for (uint32_t p = 0; p < svc->pool_count; p++)
            if (pool_has(&svc->pools[p], family, *up_only))
                return &svc->pools[p];
    }
    return NULL;
}

/* The RDATA (zone layout) of the members of `pool` of `family` into rd; returns the record
 * count. Duplicates are left out (RFC 2181 §5: an RRset has no duplicate records). */
static uint16_t
member_rdata(const struct policy_service *svc, const struct policy_pool *pool, int family,
             bool up_only, uint8_t *rd, size_t *len)
{
    uint16_t count = 0;
    size_t pos = 0, alen = family == 4 ? 4 : 16;
    for (uint32_t m = 0; m < pool->member_count && count < POLICY_MAX_ANSWER; m++) {
        const struct policy_member *mem = &pool->members[m];
        if (mem->family != family || (up_only && mem->forced_down))
            continue;
        if (svc->cname) {
            int n = dname_wire_length(mem->target, DNAME_MAX_LEN);
            dnswire_put16(rd, (uint16_t)n);
            memcpy(rd + 2, mem->target, (size_t)n);
            *len = 2 + (size_t)n;
            return 1; /* RFC 1034 §3.6.2: a CNAME RRset has one record */
        }
        bool dup = false;
        for (size_t at = 0; at < pos && !dup; at += 2 + alen)
            dup = memcmp(rd + at + 2, mem->addr, alen) == 0;
        if (dup)
            continue;
        dnswire_put16(rd + pos, (uint16_t)alen);
        memcpy(rd + pos + 2, mem->addr, alen);
        pos += 2 + alen;
        count++;
    }
    *len = pos;
    return count;
}

uint32_t
xfr_zone_extras_of(const struct xfr_zone *xz, uint32_t node)
{
    uint32_t lo = 0, hi = xz->extra_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (xz->extras[mid].node < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The extra of node `idx` and `type` in xz, or NULL. */
static const struct xfr_extra *
find_extra(const struct xfr_zone *xz, uint32_t idx, uint16_t type)
{
    for (uint32_t e = xfr_zone_extras_of(xz, idx); e < xz->extra_count && xz->extras[e].node == idx;
         e++)
        if (xz->extras[e].set.type == type)
            return &xz->extras[e];
    return NULL;
}

/* Is every signature of `sig` by one of the keys that sign RRsets now (dnssec_zone.h: the
 * zone-signing keys, or the SEP keys of a combined key) and valid for more than refresh_s
 * plus the expiration jitter? The zone's own RRsets are kept by the same rule
 * (dnssec_zone.c can_reuse), so all signatures made together are made anew together, in a
 * version whose serial the signer raised for them. */
static bool
still_good(const struct dnssec_zone *dz, const struct zone_rrset *sig, time_t now,
           uint32_t refresh_s)
{
    const struct dnssec_key *const *keys = dz->zone_count ? dz->zone_keys : dz->sep_keys;
    unsigned nkeys = dz->zone_count ? dz->zone_count : dz->sep_count;
    if (sig->count != nkeys)
        return false;
    size_t pos = 0;
    for (uint16_t i = 0; i < sig->count; i++) {
        const uint8_t *rd = sig->rdata + pos + 2; /* RFC 4034 §3.1 RRSIG RDATA */
        uint32_t expiration = dnswire_get32(rd + 8);
        uint16_t tag = dnswire_get16(rd + 16);
        bool known = false;
        for (unsigned k = 0; k < nkeys && !known; k++)
            known = keys[k]->tag == tag && keys[k]->algorithm == rd[2];
        if (!known || (int64_t)expiration - (int64_t)now <= (int64_t)refresh_s + dz->spread_s)
            return false;
        pos += 2u + dnswire_get16(sig->rdata + pos);
    }
    return true;
}

/* The signature the previous version made for the same RRset at the same name, copied into
 * xz's arena, if it may be kept. */
static const struct zone_rrset *
reused_signature(struct xfr_zone *xz, const struct xfr_zone_params *p, const uint8_t *owner,
                 const struct zone_rrset *set, size_t len)
{
    const struct xfr_zone *prev = p->previous;
    const struct zone_node *old =
        prev ? zone_lookup(prev->zone, owner, dname_wire_length(owner, DNAME_MAX_LEN)) : NULL;
    const struct xfr_extra *e =
        old ? find_extra(prev, (uint32_t)(old - prev->zone->nodes), set->type) : NULL;
    const struct zone_rrset *earlier = e ? &e->set : NULL;
    /* A start: the RRset as the last run served it, if the signature store has it. */
    if (!prev && p->stored)
        earlier = dnssec_sigstore_find(p->stored, owner, set);
    if (!earlier || !earlier->rrsig || earlier->ttl != set->ttl || earlier->count != set->count ||
        zone_rrset_rdata_len(earlier) != len || memcmp(earlier->rdata, set->rdata, len) != 0 ||
        !still_good(p->dz, earlier->rrsig, p->now, p->refresh_s))
        return NULL;
    struct zone_rrset *sig = arena_alloc(&xz->arena, sizeof(*sig), _Alignof(struct zone_rrset));
    *sig = *earlier->rrsig;
    sig->rdata = arena_memdup(&xz->arena, earlier->rrsig->rdata, zone_rrset_rdata_len(earlier->rrsig));
    return sig;
}

/* Adds the RRset of `type` standing for svc at node `idx`, signed in signed zones. */
static int
add_extra(struct xfr_zone *xz, uint32_t idx, const struct policy_service *svc, uint16_t type,
          const struct xfr_zone_params *p, uint32_t *cap, char err[XFR_ERR_MAX])
{
    struct dnssec_zone *dz = p->dz;
    int family = type == DNS_TYPE_A ? 4 : type == DNS_TYPE_AAAA ? 6 : 0;
    bool up_only;
    const struct policy_pool *pool = carried_pool(svc, family, &up_only);
    uint8_t rd[POLICY_MAX_ANSWER * (2 + 16) + 2 + DNAME_MAX_LEN];
    size_t len = 0;
    uint16_t count = pool ? member_rdata(svc, pool, family, up_only, rd, &len) : 0;
    if (count == 0)
        return 0;
    if (xz->extra_count == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        xz->extras = xrealloc(xz->extras, *cap * sizeof(*xz->extras));
    }
    struct xfr_extra *e = &xz->extras[xz->extra_count++];
    e->node = idx;
    e->set = (struct zone_rrset){.type = type,
                                 .count = count,
                                 .ttl = svc->ttl_s,
                                 .rdata = arena_memdup(&xz->arena, rd, len)};
    if (!dz)
        return 0;
    const uint8_t *owner = xz->zone->nodes[idx].name;
    e->set.rrsig = reused_signature(xz, p, owner, &e->set, len);
    if (e->set.rrsig)
        return 0;
    int rc = dnssec_variants_sign(&dz->variants, dz, owner, type, svc->ttl_s, e->set.rdata, count,
                                  len, p->now);
    e->set.rrsig = rc == 0 ? dnssec_variants_find(&dz->variants, owner, type, svc->ttl_s,
                                                  e->set.rdata, count, len)
                           : NULL;
    if (!e->set.rrsig) {
        char name[DNAME_TEXT_MAX];
        dname_to_text(owner, name, sizeof(name));
        snprintf(err, XFR_ERR_MAX,
                 "%s: cannot sign the RRset transfers carry for the steered "
                 "name %.300s (%s)",
                 xz->zone->file, name, rc == 1 ? "signature table full" : "signing failed");
        return -1;
    }
    return 0;
}

static int
build_extras(struct xfr_zone *xz, const struct xfr_zone_params *p, char err[XFR_ERR_MAX])
{
    const struct zone *z = xz->zone;
    const struct policy_set *policies = p->policies;
    uint32_t cap = 0;
    for (uint32_t i = 0; policies && i < z->node_count; i++) {
        const struct zone_node *node = &z->nodes[i];
        if (!(node->flags & ZONE_NODE_STEERED) || node->steer == 0 || node->steer > policies->count)
            continue;
        const struct policy_service *svc = &policies->services[node->steer - 1];
        static const struct {
            uint8_t bit;
            uint16_t type;
        } kinds[] = {{ZONE_STEER_A, DNS_TYPE_A},
                     {ZONE_STEER_AAAA, DNS_TYPE_AAAA},
                     {ZONE_STEER_CNAME, DNS_TYPE_CNAME}};
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            /* The file's own RRset of the type is carried as it is. */
            if (!(node->steer_types & kinds[k].bit) || zone_node_rrset(node, kinds[k].type))
                continue;
            if (add_extra(xz, i, svc, kinds[k].type, p, &cap, err) < 0)
                return -1;
        }
    }
    return 0;
}

static size_t
rrset_wire_bytes(const struct xfr_rrset *r)
{
    size_t n = 0, pos = 0;
    for (uint16_t i = 0; i < r->set->count; i++) {
        uint16_t rdlen = dnswire_get16(r->set->rdata + pos);
        n += (size_t)dname_wire_length(r->owner, DNAME_MAX_LEN) + 10 + rdlen;
        pos += 2u + rdlen;
    }
    return n;
}

int
xfr_zone_new(const struct zone *zone, const struct xfr_zone_params *p, struct xfr_zone **out,
             char err[XFR_ERR_MAX])
{
    struct xfr_zone *xz = xcalloc(1, sizeof(*xz));
    xz->zone = zone;
    xz->transfer = p->transfer;
    xz->stats = p->stats;
    arena_init(&xz->arena);
    *out = NULL;
    /* Only a zone that may be transferred needs what a transfer carries. */
    if (p->transfer && p->transfer->enabled) {
        if (build_extras(xz, p, err) < 0) {
            xfr_zone_free(xz);
            return -1;
        }
        struct xfr_walk w = {0};
        struct xfr_rrset r;
        struct xfr_rrset soa = {.owner = zone->origin, .set = zone->soa};
        xz->wire_bytes = 2 * rrset_wire_bytes(&soa); /* first and last (RFC 5936 §2.2) */
        while (xfr_walk_next(xz, &w, &r))
            xz->wire_bytes += rrset_wire_bytes(&r);
    }
    *out = xz;
    return 0;
}

void
xfr_zone_free(struct xfr_zone *xz)
{
    if (!xz)
        return;
    for (uint32_t i = 0; i < xz->history.count; i++)
        xfr_diff_unref(xz->history.diffs[i]);
    free(xz->history.diffs);
    free(xz->extras);
    arena_fini(&xz->arena);
    free(xz);
}

/* The first extra of node `idx` at or after `from`: the walk moves forward by one node at a
 * time, so a step or two from where it was. */
static uint32_t
extras_from(const struct xfr_zone *xz, uint32_t idx, uint32_t from)
{
    while (from < xz->extra_count && xz->extras[from].node < idx)
        from++;
    return from;
}

/* The RRset in `slot` of node `idx`: 2r is the node's RRset r, 2r + 1 its signatures, then
 * the extras the same way. Returns false past the node's last slot; *set is NULL for a slot
 * that carries nothing (the apex SOA, a missing signature). */
static bool
node_slot(const struct xfr_zone *xz, uint32_t idx, uint32_t slot, uint32_t first_extra,
          struct xfr_rrset *out)
{
    const struct zone *z = xz->zone;
    const struct zone_node *node = &z->nodes[idx];
    out->owner = node->name;
    out->set = NULL;
    uint32_t own = 2u * node->rrset_count;
    if (slot < own) {
        const struct zone_rrset *set = &node->rrsets[slot / 2];
        if (slot % 2)
            out->set = set->rrsig;
        else if (!(idx == 0 && set->type == DNS_TYPE_SOA))
            out->set = set;
        return true;
    }
    uint32_t e = first_extra + (slot - own) / 2;
    if (e >= xz->extra_count || xz->extras[e].node != idx)
        return false;
    const struct zone_rrset *set = &xz->extras[e].set;
    out->set = (slot - own) % 2 ? set->rrsig : set;
    return true;
}

bool
xfr_walk_next(const struct xfr_zone *xz, struct xfr_walk *w, struct xfr_rrset *out)
{
    const struct zone *z = xz->zone;
    const struct nsec3_chain *chain = z->dnssec ? &z->dnssec->chain : NULL;
    uint32_t total = z->node_count + (chain ? chain->count : 0);
    while (w->node < total) {
        if (w->node >= z->node_count) {
            /* NSEC3 records (RFC 5155 §7.1) and their signatures, in hash order. */
            const struct nsec3_entry *e = &chain->entries[w->node - z->node_count];
            const struct zone_rrset *set = w->slot == 0 ? &e->rrset : e->rrset.rrsig;
            bool more = w->slot == 0;
            w->slot = more ? 1 : 0;
            w->node += more ? 0 : 1;
            if (set) {
                *out = (struct xfr_rrset){.owner = e->owner, .set = set};
                return true;
            }
            continue;
        }
        w->extra = extras_from(xz, w->node, w->extra);
        if (!node_slot(xz, w->node, w->slot, w->extra, out)) {
            w->node++;
            w->slot = 0;
            continue;
        }
        w->slot++;
        if (out->set && out->set->count)
            return true;
    }
    return false;
}
