// SPDX-License-Identifier: MIT
/* Zone compiler and lookup. Parsed records are sorted and grouped by owner and type into
 * nodes holding RRsets with contiguous pre-rendered RDATA; empty non-terminals become nodes
 * of their own (RFC 4592 §2.2.2: they exist), zone cuts and the data below them are flagged,
 * and every node is indexed by an open-addressing hash table of lowercased wire names. The
 * answer path walks the query name top-down from the apex with one table probe per label.
 * Load-time checks here: SOA and NS at the apex, CNAME exclusivity (RFC 1034 §3.6.2,
 * RFC 2181 §10.1), SOA only at the apex, in-domain glue present for every delegation.
 * Runs on the main or loader thread; the result is immutable. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"
#include "common/log.h"
#include "zone/zone_internal.h"

int
zone_target_offset(uint16_t type)
{
    switch (type) {
    case DNS_TYPE_NS:
        return 0;
    case DNS_TYPE_MX:
        return 2; /* RFC 1035 §3.3.9: PREFERENCE, EXCHANGE */
    case DNS_TYPE_SRV:
        return 6; /* RFC 2782: priority, weight, port, target */
    case DNS_TYPE_SVCB:
    case DNS_TYPE_HTTPS:
        return 2; /* RFC 9460 §2.2: SvcPriority, TargetName; §4.1 asks for its addresses */
    default:
        return -1;
    }
}

const struct zone_node *
zone_lookup(const struct zone *zone, const uint8_t *lname, int len)
{
    uint32_t h = dname_hash(lname, len);
    for (uint32_t i = h & zone->slot_mask;; i = (i + 1) & zone->slot_mask) {
        const struct zone_slot *s = &zone->slots[i];
        if (s->node == ZONE_NONE)
            return NULL;
        if (s->hash == h) {
            const struct zone_node *n = &zone->nodes[s->node];
            if (n->name_len == len && memcmp(n->name, lname, (size_t)len) == 0)
                return n;
        }
    }
}

const struct zone_rrset *
zone_node_rrset(const struct zone_node *node, uint16_t type)
{
    for (uint16_t i = 0; i < node->rrset_count; i++)
        if (node->rrsets[i].type == type)
            return &node->rrsets[i];
    return NULL;
}

size_t
zone_rrset_rdata_len(const struct zone_rrset *set)
{
    size_t pos = 0;
    for (uint16_t i = 0; i < set->count; i++)
        pos += 2u + dnswire_get16(set->rdata + pos);
    return pos;
}

/* --- building ------------------------------------------------------------------------ */

struct builder {
    struct zone *zone;
    uint32_t cap;
    uint32_t used_slots;
};

static void
table_insert(struct zone *zone, uint32_t hash, uint32_t node)
{
    uint32_t i = hash & zone->slot_mask;
    while (zone->slots[i].node != ZONE_NONE)
        i = (i + 1) & zone->slot_mask;
    zone->slots[i].hash = hash;
    zone->slots[i].node = node;
}

static void
table_resize(struct zone *zone, uint32_t size)
{
    struct zone_slot *old = zone->slots;
    uint32_t old_size = old ? zone->slot_mask + 1 : 0;
    zone->slots = xmalloc(size * sizeof(*zone->slots));
    for (uint32_t i = 0; i < size; i++)
        zone->slots[i].node = ZONE_NONE;
    zone->slot_mask = size - 1;
    for (uint32_t i = 0; i < old_size; i++)
        if (old[i].node != ZONE_NONE)
            table_insert(zone, old[i].hash, old[i].node);
    free(old);
}

/* Adds a node named `name` (already in the zone arena) and indexes it. */
static uint32_t
add_node(struct builder *b, const uint8_t *name, int len)
{
    struct zone *zone = b->zone;
    if (zone->node_count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        zone->nodes = xrealloc(zone->nodes, b->cap * sizeof(*zone->nodes));
    }
    /* Keep the load factor at or below 1/2 so probes stay short. */
    if ((zone->node_count + 1) * 2 > zone->slot_mask + 1)
        table_resize(zone, (zone->slot_mask + 1) * 2);
    uint32_t idx = zone->node_count++;
    struct zone_node *n = &zone->nodes[idx];
    memset(n, 0, sizeof(*n));
    n->name = name;
    n->name_len = (uint8_t)len;
    n->label_count = (uint8_t)dname_label_count(name);
    table_insert(zone, dname_hash(name, len), idx);
    return idx;
}

static int
record_cmp(const void *pa, const void *pb)
{
    const struct zone_record *a = pa, *b = pb;
    if (a->owner_len != b->owner_len)
        return a->owner_len < b->owner_len ? -1 : 1;
    int c = a->owner == b->owner ? 0 : memcmp(a->owner, b->owner, a->owner_len);
    if (c)
        return c;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    /* Equal RDATA next to each other, the earliest line first: duplicates are found in one
     * pass (build_rrset) instead of comparing every pair. */
    if (a->rdlen != b->rdlen)
        return a->rdlen < b->rdlen ? -1 : 1;
    c = memcmp(a->rdata, b->rdata, a->rdlen);
    if (c)
        return c;
    return a->line < b->line ? -1 : a->line > b->line;
}

static int
line_cmp(const void *pa, const void *pb)
{
    const struct zone_record *a = pa, *b = pb;
    return a->line < b->line ? -1 : a->line > b->line;
}

static bool
same_owner(const struct zone_record *a, const struct zone_record *b)
{
    return a->owner_len == b->owner_len &&
           (a->owner == b->owner || memcmp(a->owner, b->owner, a->owner_len) == 0);
}

static bool
same_rdata(const struct zone_record *a, const struct zone_record *b)
{
    return a->rdlen == b->rdlen && memcmp(a->rdata, b->rdata, a->rdlen) == 0;
}

/* The largest RRset a response can carry: a 64 KiB message less its header and a question
 * of the longest name, every record's owner compressed to a 2-octet pointer (RFC 1035
 * §4.1.4) before TYPE, CLASS, TTL, RDLENGTH. A larger one could never be answered, and its
 * record count would not fit the header's 16-bit ANCOUNT. */
#define RRSET_MAX_WIRE (65535u - 12u - (DNAME_MAX_LEN + 4u))

/* Builds one RRset from recs[0..n) (same owner and type, sorted by RDATA then line).
 * Duplicate records are dropped (RFC 2181 §5: an RRset is a set), keeping the earliest;
 * the rest go back to file order. Fails if the RRset could not fit in a response. */
static int
build_rrset(struct zone *zone, struct zone_rrset *set, struct zone_record *recs, size_t n,
            char err[ZONE_ERR_MAX])
{
    size_t bytes = 0, wire = 0, count = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && same_rdata(&recs[i], &recs[count - 1]))
            continue;
        recs[count++] = recs[i];
        bytes += 2u + recs[i].rdlen;
        wire += 12u + recs[i].rdlen;
        if (wire > RRSET_MAX_WIRE) {
            char owner[DNAME_TEXT_MAX], type[DNSWIRE_TYPE_TEXT_MAX];
            dname_to_text(recs[i].owner, owner, sizeof(owner));
            zone_error(err, zone->file, recs[i].line,
                       "RRset %s %s is too large: over %u octets (%zu records so far) cannot "
                       "fit in a 64 KiB DNS message",
                       owner, dnswire_type_text(recs[i].type, type), RRSET_MAX_WIRE, count);
            return -1;
        }
    }
    qsort(recs, count, sizeof(*recs), line_cmp);
    uint8_t *p = arena_alloc(&zone->arena, bytes, 1);
    /* RFC 2181 §5.2: one TTL per RRset; the first one wins. Unsigned until dnssec/ says. */
    *set = (struct zone_rrset){.type = recs[0].type, .ttl = recs[0].ttl, .rdata = p,
                               .count = (uint16_t)count};
    for (size_t i = 0; i < count; i++) {
        if (recs[i].ttl != set->ttl) {
            log_warning("%s:%d: TTL %u differs from the RRset's TTL %u; using %u", zone->file,
                        recs[i].line, recs[i].ttl, set->ttl, set->ttl);
        }
        dnswire_put16(p, recs[i].rdlen);
        memcpy(p + 2, recs[i].rdata, recs[i].rdlen);
        p += 2u + recs[i].rdlen;
    }
    return 0;
}

/* Fills one owner's node from its records recs[0..n) (sorted by type). */
static int
build_node(struct zone *zone, struct zone_node *node, struct zone_record *recs, size_t n,
           char err[ZONE_ERR_MAX])
{
    size_t types = 0;
    const struct zone_record *cname = NULL, *other = NULL;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || recs[i].type != recs[i - 1].type)
            types++;
        if (recs[i].type == DNS_TYPE_CNAME) {
            if (cname) {
                zone_error(err, zone->file, recs[i].line, "more than one CNAME at this name");
                return -1;
            }
            cname = &recs[i];
        } else if (recs[i].type != DNS_TYPE_RRSIG && recs[i].type != DNS_TYPE_NSEC) {
            if (!other || recs[i].line < other->line)
                other = &recs[i];
        }
        if (recs[i].type == DNS_TYPE_SOA && !(node->flags & ZONE_NODE_APEX)) {
            zone_error(err, zone->file, recs[i].line, "SOA record outside the zone apex");
            return -1;
        }
    }
    if (cname && other) {
        /* RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME owner has no other data. */
        int line = cname->line > other->line ? cname->line : other->line;
        zone_error(err, zone->file, line, "CNAME and other data at the same name");
        return -1;
    }
    struct zone_rrset *sets = arena_alloc(&zone->arena, types * sizeof(*sets), 8);
    size_t start = 0, k = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && recs[i].type == recs[start].type)
            continue;
        if (build_rrset(zone, &sets[k++], &recs[start], i - start, err) < 0)
            return -1;
        start = i;
    }
    node->rrsets = sets;
    node->rrset_count = (uint16_t)types;
    if (cname)
        node->flags |= ZONE_NODE_CNAME;
    if (zone_node_rrset(node, DNS_TYPE_DNAME))
        node->flags |= ZONE_NODE_DNAME;
    if (zone_node_rrset(node, DNS_TYPE_NS) && !(node->flags & ZONE_NODE_APEX))
        node->flags |= ZONE_NODE_DELEGATION;
    return 0;
}

/* Creates the empty non-terminals between each owner and the apex; their names are
 * suffixes of the owner's stored name, so they cost no name storage. */
static void
add_empty_non_terminals(struct builder *b, uint32_t owner_nodes)
{
    struct zone *zone = b->zone;
    for (uint32_t i = 1; i < owner_nodes; i++) {
        const uint8_t *name = zone->nodes[i].name;
        int len = zone->nodes[i].name_len;
        int depth = zone->nodes[i].label_count;
        while (depth - 1 > zone->origin_labels) {
            len -= 1 + name[0];
            name += 1 + name[0];
            depth--;
            if (zone_lookup(zone, name, len))
                break;
            add_node(b, name, len);
        }
    }
}

/* Sets the flags that depend on ancestors: below a zone cut, parent of a wildcard. */
static void
flag_ancestry(struct zone *zone)
{
    for (uint32_t i = 1; i < zone->node_count; i++) {
        struct zone_node *n = &zone->nodes[i];
        const uint8_t *name = n->name;
        int len = n->name_len;
        if (name[0] == 1 && name[1] == '*') {
            struct zone_node *parent = (struct zone_node *)zone_lookup(zone, name + 2, len - 2);
            if (parent)
                parent->flags |= ZONE_NODE_WILDCARD_CHILD;
        }
        for (int depth = n->label_count; depth - 1 > zone->origin_labels; depth--) {
            len -= 1 + name[0];
            name += 1 + name[0];
            const struct zone_node *anc = zone_lookup(zone, name, len);
            if (anc && (anc->flags & ZONE_NODE_DELEGATION)) {
                n->flags |= ZONE_NODE_NONAUTH;
                break;
            }
        }
    }
}

/* RFC 9460 §2.5.2: in ServiceMode (SvcPriority > 0) a TargetName of "." stands for the
 * owner name, whose addresses are then the ones to add (§4.1). In AliasMode "." means no
 * service exists: no target. */
static bool
svcb_target_is_owner(uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
    return (type == DNS_TYPE_SVCB || type == DNS_TYPE_HTTPS) && rdlen > 2 &&
           dnswire_get16(rd) != 0 && rd[2] == 0;
}

/* For NS, MX, SRV, SVCB and HTTPS RRsets: the node of each target, for the additional
 * section. */
static void
link_targets(struct zone *zone)
{
    for (uint32_t i = 0; i < zone->node_count; i++) {
        struct zone_node *n = &zone->nodes[i];
        for (uint16_t s = 0; s < n->rrset_count; s++) {
            struct zone_rrset *set = (struct zone_rrset *)&n->rrsets[s];
            int off = zone_target_offset(set->type);
            if (off < 0)
                continue;
            uint32_t *targets = arena_alloc(&zone->arena, set->count * sizeof(*targets), 4);
            const uint8_t *p = set->rdata;
            for (uint16_t r = 0; r < set->count; r++) {
                uint16_t rdlen = dnswire_get16(p);
                uint8_t lname[DNAME_MAX_LEN];
                targets[r] = ZONE_NONE;
                if (svcb_target_is_owner(set->type, p + 2, rdlen))
                    targets[r] = i;
                else if (rdlen > off && dname_wire_length(p + 2 + off, (size_t)(rdlen - off)) > 0) {
                    int len = dname_lower_copy(lname, p + 2 + off);
                    const struct zone_node *t = zone_lookup(zone, lname, len);
                    if (t)
                        targets[r] = (uint32_t)(t - zone->nodes);
                }
                p += 2u + rdlen;
            }
            set->targets = targets;
        }
    }
}

/* Every name server below its own delegation needs an address in this zone, or the
 * delegation cannot be followed (RFC 1034 §4.2.1, RFC 9471 §2). */
static int
check_glue(struct zone *zone, const struct zone_record *recs, size_t count, char err[ZONE_ERR_MAX])
{
    for (size_t i = 0; i < count; i++) {
        const struct zone_record *r = &recs[i];
        if (r->type != DNS_TYPE_NS || dname_equal(r->owner, zone->origin))
            continue;
        if (dname_wire_length(r->rdata, r->rdlen) < 0)
            continue;
        uint8_t target[DNAME_MAX_LEN];
        int len = dname_lower_copy(target, r->rdata);
        if (!dname_is_subdomain(target, r->owner))
            continue;
        const struct zone_node *t = zone_lookup(zone, target, len);
        if (!t || (!zone_node_rrset(t, DNS_TYPE_A) && !zone_node_rrset(t, DNS_TYPE_AAAA))) {
            char text[DNAME_TEXT_MAX];
            dname_to_text(target, text, sizeof(text));
            zone_error(err, zone->file, r->line, "missing glue: name server %s has no A/AAAA record",
                    text);
            return -1;
        }
    }
    return 0;
}

static void
read_soa(struct zone *zone)
{
    const struct zone_rrset *soa = zone->soa;
    const uint8_t *rd = soa->rdata + 2;
    uint16_t rdlen = dnswire_get16(soa->rdata);
    int mname = dname_wire_length(rd, rdlen);
    int rname = mname < 0 ? -1 : dname_wire_length(rd + mname, (size_t)(rdlen - mname));
    if (rname < 0 || (size_t)(mname + rname + 20) > rdlen)
        return; /* ldns validated the SOA syntax; this is unreachable in practice */
    const uint8_t *f = rd + mname + rname;
    zone->serial = dnswire_get32(f);
    uint32_t minimum = dnswire_get32(f + 16);
    zone->negative_ttl = soa->ttl < minimum ? soa->ttl : minimum;
}

/* A steered name must be authoritative data a policy may synthesize at (needs the flags
 * of flag_ancestry). */
static int
check_steered(const struct zone *zone, const struct zone_steer *steered, size_t count,
              char err[ZONE_ERR_MAX])
{
    for (size_t i = 0; i < count; i++) {
        const struct zone_steer *s = &steered[i];
        const struct zone_node *node =
            zone_lookup(zone, s->name, dname_wire_length(s->name, DNAME_MAX_LEN));
        const char *why = NULL;
        if (node->flags & (ZONE_NODE_NONAUTH | ZONE_NODE_DELEGATION))
            why = "is at or below a delegation in its zone";
        else if (node->flags & ZONE_NODE_CNAME)
            why = "has a CNAME record in its zone";
        else if ((s->types & ZONE_STEER_CNAME) && node->rrset_count > 0)
            why = "is a CNAME service but its zone has other data at that name (RFC 1034 "
                  "§3.6.2)";
        if (why) {
            snprintf(err, ZONE_ERR_MAX, "%s %s", s->where, why);
            return -1;
        }
        if (zone_node_rrset(node, DNS_TYPE_A) || zone_node_rrset(node, DNS_TYPE_AAAA))
            log_warning("%s overrides the A/AAAA records of its zone", s->where);
    }
    return 0;
}

/* The zone's size within `limits`, counted in file (or transfer) order, so the error names
 * the first record past a limit. */
static int
check_limits(const struct zone *zone, const struct zone_record *recs, size_t count,
             const struct zone_limits *limits, char err[ZONE_ERR_MAX])
{
    uint64_t max_records = limits && limits->max_records ? limits->max_records
                                                         : ZONE_DEFAULT_MAX_RECORDS;
    uint64_t max_bytes = limits && limits->max_bytes ? limits->max_bytes : ZONE_DEFAULT_MAX_BYTES;
    uint64_t bytes = 0;
    for (size_t i = 0; i < count; i++) {
        if (i + 1 > max_records) {
            zone_error(err, zone->file, recs[i].line,
                       "zone has more than %llu records (max_records)",
                       (unsigned long long)max_records);
            return -1;
        }
        bytes += recs[i].owner_len + 10u + recs[i].rdlen;
        if (bytes > max_bytes) {
            zone_error(err, zone->file, recs[i].line,
                       "zone is larger than %llu octets (max_size)",
                       (unsigned long long)max_bytes);
            return -1;
        }
    }
    return 0;
}

int
zone_compile(struct zone *zone, struct zone_record *recs, size_t count,
             const struct zone_steer *steered, size_t steered_count,
             const struct zone_limits *limits, char err[ZONE_ERR_MAX])
{
    struct builder b = {.zone = zone};
    if (check_limits(zone, recs, count, limits, err) < 0)
        return -1;
    qsort(recs, count, sizeof(*recs), record_cmp);

    size_t owners = 0;
    for (size_t i = 0; i < count; i++)
        if (i == 0 || !same_owner(&recs[i], &recs[i - 1]))
            owners++;
    uint32_t size = 16;
    while (size < owners * 2 + 2)
        size *= 2;
    table_resize(zone, size);

    /* The apex is node 0. */
    uint8_t *origin = arena_memdup(&zone->arena, zone->origin, (size_t)zone->origin_len);
    add_node(&b, origin, zone->origin_len);
    zone->nodes[0].flags = ZONE_NODE_APEX;

    size_t start = 0;
    for (size_t i = 1; i <= count; i++) {
        if (i < count && same_owner(&recs[i], &recs[start]))
            continue;
        uint32_t idx = 0;
        if (!dname_equal(recs[start].owner, zone->origin)) {
            uint8_t *name = arena_memdup(&zone->arena, recs[start].owner, recs[start].owner_len);
            idx = add_node(&b, name, recs[start].owner_len);
        }
        if (build_node(zone, &zone->nodes[idx], &recs[start], i - start, err) < 0)
            return -1;
        start = i;
    }

    char origin_text[DNAME_TEXT_MAX];
    dname_to_text(zone->origin, origin_text, sizeof(origin_text));
    const struct zone_node *apex = &zone->nodes[0];
    zone->soa = zone_node_rrset(apex, DNS_TYPE_SOA);
    if (!zone->soa) {
        zone_error(err, zone->file, 1, "zone %s has no SOA record at its apex", origin_text);
        return -1;
    }
    if (zone->soa->count != 1) {
        zone_error(err, zone->file, 1, "zone %s has more than one SOA record", origin_text);
        return -1;
    }
    if (!zone_node_rrset(apex, DNS_TYPE_NS)) {
        zone_error(err, zone->file, 1, "zone %s has no NS records at its apex", origin_text);
        return -1;
    }
    /* Steered names may have no data in the file: they get nodes of their own. */
    for (size_t i = 0; i < steered_count; i++) {
        const struct zone_steer *s = &steered[i];
        int len = dname_wire_length(s->name, DNAME_MAX_LEN);
        const struct zone_node *n = zone_lookup(zone, s->name, len);
        uint32_t idx = n ? (uint32_t)(n - zone->nodes)
                         : add_node(&b, arena_memdup(&zone->arena, s->name, (size_t)len), len);
        zone->nodes[idx].flags |= ZONE_NODE_STEERED;
        zone->nodes[idx].steer = (uint16_t)(s->index + 1);
        zone->nodes[idx].steer_types = s->types;
    }
    add_empty_non_terminals(&b, zone->node_count);
    flag_ancestry(zone);
    link_targets(zone);
    if (check_glue(zone, recs, count, err) < 0 || check_steered(zone, steered, steered_count, err) < 0)
        return -1;
    read_soa(zone);
    zone->record_count = 0;
    for (uint32_t i = 0; i < zone->node_count; i++)
        for (uint16_t s = 0; s < zone->nodes[i].rrset_count; s++)
            zone->record_count += zone->nodes[i].rrsets[s].count;
    return 0;
}

/* zone->soa points into the apex's RRset array, which the two functions below move. */
static void
refresh_soa(struct zone *zone)
{
    zone->soa = zone_node_rrset(&zone->nodes[0], DNS_TYPE_SOA);
}

void
zone_drop_types(struct zone *zone, const uint16_t *types, size_t count)
{
    for (uint32_t i = 0; i < zone->node_count; i++) {
        struct zone_node *node = &zone->nodes[i];
        struct zone_rrset *sets = node->rrsets;
        uint16_t kept = 0;
        for (uint16_t s = 0; s < node->rrset_count; s++) {
            bool drop = false;
            for (size_t t = 0; t < count && !drop; t++)
                drop = sets[s].type == types[t];
            if (drop)
                zone->record_count -= sets[s].count;
            else
                sets[kept++] = sets[s];
        }
        node->rrset_count = kept;
    }
    refresh_soa(zone);
}

void
zone_node_add_rrset(struct zone *zone, struct zone_node *node, const struct zone_rrset *set)
{
    struct zone_rrset *sets =
        arena_alloc(&zone->arena, (node->rrset_count + 1u) * sizeof(*sets), 8);
    uint16_t k = 0;
    for (uint16_t s = 0; s < node->rrset_count && node->rrsets[s].type < set->type; s++)
        sets[k++] = node->rrsets[s];
    sets[k] = *set;
    for (uint16_t s = k; s < node->rrset_count; s++)
        sets[s + 1] = node->rrsets[s];
    node->rrsets = sets;
    node->rrset_count++;
    zone->record_count += set->count;
    refresh_soa(zone);
}

void
zone_free(struct zone *zone)
{
    if (!zone)
        return;
    arena_fini(&zone->arena);
    free(zone->nodes);
    free(zone->slots);
    free(zone->file);
    free(zone);
}
