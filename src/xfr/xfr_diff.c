// SPDX-License-Identifier: MIT
/* Differences between two versions of a zone as transfers see them (see xfr.h), and the
 * history IXFR is served from. The two versions are compared RRset by RRset: each node of the
 * new version against the node of the same name in the old one (one hash lookup), by type and
 * by signature-or-not, the NSEC3 chains by hash; within an RRset records are compared by
 * RDATA, and a changed TTL replaces the whole RRset (RFC 1995 §4: "Modification of an RR is
 * performed first by removing the original RR and then adding the modified one"). Loader
 * thread; a difference is immutable once made, its count of references atomic. */
#include "xfr/xfr.h"

#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"

/* A growing run of records (the format xfr_rr_next reads). */
struct run {
    uint8_t *data;
    size_t len, cap;
    uint32_t count;
    size_t bytes; /* wire size */
};

static void
run_add(struct run *r, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
        uint16_t rdlen)
{
    int olen = dname_wire_length(owner, DNAME_MAX_LEN);
    size_t need = 1 + (size_t)olen + 2 + 4 + 2 + rdlen;
    if (r->len + need > r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4096;
        while (r->cap < r->len + need)
            r->cap *= 2;
        r->data = xrealloc(r->data, r->cap);
    }
    uint8_t *p = r->data + r->len;
    p[0] = (uint8_t)olen;
    memcpy(p + 1, owner, (size_t)olen);
    p += 1 + olen;
    dnswire_put16(p, type);
    dnswire_put32(p + 2, ttl);
    dnswire_put16(p + 6, rdlen);
    memcpy(p + 8, rd, rdlen);
    r->len += need;
    r->count++;
    r->bytes += (size_t)olen + 10 + rdlen;
}

bool
xfr_rr_next(const uint8_t *run, size_t len, size_t *pos, struct xfr_rr *rr)
{
    if (*pos >= len)
        return false;
    const uint8_t *p = run + *pos;
    rr->owner = p + 1;
    p += 1 + p[0];
    rr->type = dnswire_get16(p);
    rr->ttl = dnswire_get32(p + 2);
    rr->rdlen = dnswire_get16(p + 6);
    rr->rdata = p + 8;
    *pos = (size_t)(p + 8 + rr->rdlen - run);
    return true;
}

struct rec {
    const uint8_t *rd;
    uint16_t len;
};

static int
rec_cmp(const void *pa, const void *pb)
{
    const struct rec *a = pa, *b = pb;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return memcmp(a->rd, b->rd, a->len);
}

/* The records of set, sorted, into *recs (grown as needed). */
static void
records(const struct zone_rrset *set, struct rec **recs, size_t *cap)
{
    if (*cap < set->count) {
        *cap = set->count;
        *recs = xrealloc(*recs, *cap * sizeof(**recs));
    }
    size_t pos = 0;
    for (uint16_t i = 0; i < set->count; i++) {
        (*recs)[i] =
            (struct rec){.rd = set->rdata + pos + 2, .len = dnswire_get16(set->rdata + pos)};
        pos += 2u + (*recs)[i].len;
    }
    qsort(*recs, set->count, sizeof(**recs), rec_cmp);
}

struct differ {
    struct run removed, added;
    struct rec *a, *b; /* scratch */
    size_t a_cap, b_cap;
};

static void
add_all(struct run *r, const uint8_t *owner, const struct zone_rrset *set)
{
    size_t pos = 0;
    for (uint16_t i = 0; set && i < set->count; i++) {
        uint16_t len = dnswire_get16(set->rdata + pos);
        run_add(r, owner, set->type, set->ttl, set->rdata + pos + 2, len);
        pos += 2u + len;
    }
}

/* Records of `old` missing from `new` are removed, records of `new` missing from `old`
 * added (either may be NULL: absent). */
static void
diff_rrset(struct differ *d, const uint8_t *owner, const struct zone_rrset *old,
           const struct zone_rrset *new)
{
    if (!old || !new || old->ttl != new->ttl || old->type != new->type) {
        add_all(&d->removed, owner, old);
        add_all(&d->added, owner, new);
        return;
    }
    records(old, &d->a, &d->a_cap);
    records(new, &d->b, &d->b_cap);
    size_t i = 0, j = 0;
    while (i < old->count || j < new->count) {
        int c = i == old->count ? 1 : j == new->count ? -1 : rec_cmp(&d->a[i], &d->b[j]);
        if (c < 0) {
            run_add(&d->removed, owner, old->type, old->ttl, d->a[i].rd, d->a[i].len);
            i++;
        } else if (c > 0) {
            run_add(&d->added, owner, new->type, new->ttl, d->b[j].rd, d->b[j].len);
            j++;
        } else {
            i++;
            j++;
        }
    }
}

/* What a transfer carries at one node, keyed by type and signature-or-not. */
struct keyed {
    uint16_t type; /* the RRset's, or the covered type for signatures */
    bool sig;
    const struct zone_rrset *set;
};

static size_t
node_sets(const struct xfr_zone *xz, const struct zone_node *node, struct keyed **out, size_t *cap)
{
    size_t n = 0, max = 2u * node->rrset_count + 6;
    if (*cap < max) {
        *cap = max;
        *out = xrealloc(*out, *cap * sizeof(**out));
    }
    uint32_t idx = (uint32_t)(node - xz->zone->nodes);
    for (uint16_t r = 0; r < node->rrset_count; r++) {
        const struct zone_rrset *set = &node->rrsets[r];
        /* The SOA frames every version in IXFR; its signature changes like any RRset. */
        if (!(idx == 0 && set->type == DNS_TYPE_SOA))
            (*out)[n++] = (struct keyed){.type = set->type, .sig = false, .set = set};
        if (set->rrsig)
            (*out)[n++] = (struct keyed){.type = set->type, .sig = true, .set = set->rrsig};
    }
    for (uint32_t e = xfr_zone_extras_of(xz, idx); e < xz->extra_count && xz->extras[e].node == idx;
         e++) {
        const struct xfr_extra *x = &xz->extras[e];
        (*out)[n++] = (struct keyed){.type = x->set.type, .sig = false, .set = &x->set};
        if (x->set.rrsig)
            (*out)[n++] = (struct keyed){.type = x->set.type, .sig = true, .set = x->set.rrsig};
    }
    return n;
}

struct node_scratch {
    struct keyed *old, *new;
    size_t old_cap, new_cap;
    bool *matched; /* old_cap entries */
    size_t matched_cap;
};

/* One node of the new version against the old version's node of the same name (or NULL). */
static void
diff_node(struct differ *d, struct node_scratch *s, const struct xfr_zone *from,
          const struct zone_node *old, const struct xfr_zone *to, const struct zone_node *new)
{
    size_t no = old ? node_sets(from, old, &s->old, &s->old_cap) : 0;
    size_t nn = new ? node_sets(to, new, &s->new, &s->new_cap) : 0;
    const uint8_t *owner = new ? new->name : old->name;
    if (s->matched_cap < no) {
        s->matched_cap = no;
        s->matched = xrealloc(s->matched, no * sizeof(*s->matched));
    }
    bool *matched = s->matched;
    if (no)
        memset(matched, 0, no * sizeof(*matched));
    for (size_t j = 0; j < nn; j++) {
        const struct zone_rrset *prev = NULL;
        for (size_t i = 0; i < no && !prev; i++) {
            if (!matched[i] && s->old[i].type == s->new[j].type && s->old[i].sig == s->new[j].sig) {
                matched[i] = true;
                prev = s->old[i].set;
            }
        }
        diff_rrset(d, owner, prev, s->new[j].set);
    }
    for (size_t i = 0; i < no; i++)
        if (!matched[i])
            diff_rrset(d, owner, s->old[i].set, NULL);
}

static const struct nsec3_chain *
chain_of(const struct xfr_zone *xz)
{
    return xz->zone->dnssec ? &xz->zone->dnssec->chain : NULL;
}

/* NSEC3 records by hash (RFC 5155 §7.1: the chain is in hash order in both versions). */
static void
diff_chains(struct differ *d, const struct nsec3_chain *a, const struct nsec3_chain *b)
{
    uint32_t na = a ? a->count : 0, nb = b ? b->count : 0, i = 0, j = 0;
    while (i < na || j < nb) {
        int c = i == na   ? 1
                : j == nb ? -1
                          : memcmp(a->entries[i].hash, b->entries[j].hash, NSEC3_HASH_LEN);
        const struct nsec3_entry *old = c <= 0 ? &a->entries[i] : NULL;
        const struct nsec3_entry *new = c >= 0 ? &b->entries[j] : NULL;
        const uint8_t *owner = new ? new->owner : old->owner;
        diff_rrset(d, owner, old ? &old->rrset : NULL, new ? &new->rrset : NULL);
        diff_rrset(d, owner, old ? old->rrset.rrsig : NULL, new ? new->rrset.rrsig : NULL);
        i += c <= 0;
        j += c >= 0;
    }
}

/* A copy of a zone's one-record SOA RRset whose RDATA lives at rd. */
static struct zone_rrset
soa_copy(const struct zone *z, uint8_t *rd, size_t *len)
{
    *len = 2u + dnswire_get16(z->soa->rdata);
    memcpy(rd, z->soa->rdata, *len);
    return (struct zone_rrset){.type = DNS_TYPE_SOA, .count = 1, .ttl = z->soa->ttl, .rdata = rd};
}

struct xfr_diff *
xfr_diff_new(const struct xfr_zone *from, const struct xfr_zone *to)
{
    struct xfr_diff *diff = xcalloc(1, sizeof(*diff));
    struct differ d = {0};
    struct node_scratch s = {0};
    const struct zone *za = from->zone, *zb = to->zone;
    atomic_init(&diff->refs, 1);
    diff->from_serial = za->serial;
    diff->to_serial = zb->serial;
    size_t la = 2u + dnswire_get16(za->soa->rdata), lb = 2u + dnswire_get16(zb->soa->rdata);
    diff->soa_rdata = xmalloc(la + lb);
    diff->old_soa = soa_copy(za, diff->soa_rdata, &la);
    diff->new_soa = soa_copy(zb, diff->soa_rdata + la, &lb);

    /* Every name of the new version, then the names only the old one has. */
    for (uint32_t i = 0; i < zb->node_count; i++) {
        const struct zone_node *n = &zb->nodes[i];
        diff_node(&d, &s, from, zone_lookup(za, n->name, n->name_len), to, n);
    }
    for (uint32_t i = 0; i < za->node_count; i++) {
        const struct zone_node *n = &za->nodes[i];
        if (!zone_lookup(zb, n->name, n->name_len))
            diff_node(&d, &s, from, n, to, NULL);
    }
    diff_chains(&d, chain_of(from), chain_of(to));

    diff->removed = d.removed.data;
    diff->removed_len = d.removed.len;
    diff->removed_count = d.removed.count;
    diff->added = d.added.data;
    diff->added_len = d.added.len;
    diff->added_count = d.added.count;
    int olen = za->origin_len;
    diff->bytes = d.removed.bytes + d.added.bytes + 2 * (size_t)olen + 20 + la + lb;
    free(d.a);
    free(d.b);
    free(s.old);
    free(s.new);
    free(s.matched);
    return diff;
}

void
xfr_diff_ref(struct xfr_diff *d)
{
    atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
}

void
xfr_diff_unref(struct xfr_diff *d)
{
    if (!d || atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(d->removed);
    free(d->added);
    free(d->soa_rdata);
    free(d);
}

static bool
same_soa(const struct zone_rrset *a, const struct zone_rrset *b)
{
    size_t la = 2u + dnswire_get16(a->rdata), lb = 2u + dnswire_get16(b->rdata);
    return a->ttl == b->ttl && la == lb && memcmp(a->rdata, b->rdata, la) == 0;
}

static bool
enabled(const struct xfr_zone *xz)
{
    return xz && xz->transfer && xz->transfer->enabled;
}

/* RFC 1995 §5: "Information about older versions should be purged if the total length of
 * an IXFR response would be longer than that of an AXFR response": the differences plus the
 * two SOAs around them against the AXFR's records. */
static size_t
history_limit(const struct xfr_zone *xz, size_t max_bytes)
{
    size_t soa = (size_t)xz->zone->origin_len + 10 + dnswire_get16(xz->zone->soa->rdata);
    size_t room = xz->wire_bytes > 2 * soa ? xz->wire_bytes - 2 * soa : 0;
    return max_bytes < room ? max_bytes : room;
}

uint32_t
xfr_zone_adopt(struct xfr_zone *xz, struct xfr_diff *const *diffs, uint32_t count,
               uint32_t max_versions, size_t max_bytes)
{
    size_t limit = history_limit(xz, max_bytes), bytes = 0;
    uint32_t first = 0;
    if (!enabled(xz) || count == 0 || diffs[count - 1]->to_serial != xz->zone->serial)
        return 0;
    for (uint32_t i = 0; i < count; i++)
        bytes += diffs[i]->bytes;
    /* The oldest go first, as xfr_zone_follow trims. */
    while (first < count && (count - first > max_versions || bytes > limit))
        bytes -= diffs[first++]->bytes;
    if (first == count)
        return 0;
    uint32_t n = count - first;
    for (uint32_t i = 0; i < xz->history.count; i++)
        xfr_diff_unref(xz->history.diffs[i]);
    free(xz->history.diffs);
    xz->history.diffs = xcalloc(n, sizeof(*xz->history.diffs));
    for (uint32_t i = 0; i < n; i++) {
        xfr_diff_ref(diffs[first + i]);
        xz->history.diffs[i] = diffs[first + i];
    }
    xz->history.count = n;
    xz->history.bytes = bytes;
    return n;
}

enum xfr_change
xfr_zone_follow(struct xfr_zone *xz, const struct xfr_zone *previous, uint32_t max_versions,
                size_t max_bytes)
{
    if (!enabled(xz) || !enabled(previous))
        return XFR_CHANGE_NONE;
    uint32_t a = previous->zone->serial, b = xz->zone->serial;
    if (a != b && !dnswire_serial_before(a, b))
        return XFR_CHANGE_BACKWARDS;
    struct xfr_diff *d = xfr_diff_new(previous, xz);
    if (a == b) {
        bool same = d->removed_count == 0 && d->added_count == 0 &&
                    same_soa(previous->zone->soa, xz->zone->soa);
        xfr_diff_unref(d);
        if (!same)
            return XFR_CHANGE_NO_SERIAL;
        /* Same data: the same history still leads to it. */
        const struct xfr_history *h = &previous->history;
        xz->history.diffs = xcalloc(h->count ? h->count : 1, sizeof(*xz->history.diffs));
        for (uint32_t i = 0; i < h->count; i++) {
            xfr_diff_ref(h->diffs[i]);
            xz->history.diffs[i] = h->diffs[i];
        }
        xz->history.count = h->count;
        xz->history.bytes = h->bytes;
        return XFR_CHANGE_SAME;
    }
    size_t limit = history_limit(xz, max_bytes);
    const struct xfr_history *h = &previous->history;
    uint32_t first = 0;
    size_t bytes = h->bytes + d->bytes;
    while (first < h->count && (h->count - first + 1 > max_versions || bytes > limit))
        bytes -= h->diffs[first++]->bytes;
    if (bytes > limit || max_versions == 0) {
        xfr_diff_unref(d); /* the newest alone is too big: no history */
        xz->history = (struct xfr_history){0};
        return XFR_CHANGE_DIFF;
    }
    uint32_t n = h->count - first + 1;
    xz->history.diffs = xcalloc(n, sizeof(*xz->history.diffs));
    for (uint32_t i = first; i < h->count; i++) {
        xfr_diff_ref(h->diffs[i]);
        xz->history.diffs[i - first] = h->diffs[i];
    }
    xz->history.diffs[n - 1] = d;
    xz->history.count = n;
    xz->history.bytes = bytes;
    return XFR_CHANGE_DIFF;
}
