// SPDX-License-Identifier: MIT
/* Catalog zones, the consumer (see catalog.h): each catalog's held version is read with
 * xfr_catalog_read and its usable members become config entries. Names already served (the
 * configured zones, then the members of catalogs listed earlier in the config) are kept in a
 * sorted array of wire names, so a catalog of N members costs N log N. What a catalog gets
 * wrong is logged when its serial is new to this process, not at every reload. Main thread. */
#include "server/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dnswire.h"
#include "common/log.h"
#include "server/secondary.h"
#include "server/snapshot.h"
#include "xfr/xfr_catalog.h"

/* The last serial logged per catalog (main thread only; more catalogs than this just log at
 * every reload). */
#define LOGGED_MAX 64
static struct {
    uint8_t origin[DNAME_MAX_LEN];
    uint32_t serial;
} logged[LOGGED_MAX];
static size_t logged_count;

/* True once per (catalog, serial): this version's problems are news. */
static bool
news(const uint8_t *origin, uint32_t serial)
{
    for (size_t i = 0; i < logged_count; i++) {
        if (!dname_equal(logged[i].origin, origin))
            continue;
        bool changed = logged[i].serial != serial;
        logged[i].serial = serial;
        return changed;
    }
    if (logged_count < LOGGED_MAX) {
        dname_lower_copy(logged[logged_count].origin, origin);
        logged[logged_count++].serial = serial;
    }
    return true;
}

struct name_set {
    uint8_t (*names)[DNAME_MAX_LEN];
    size_t count, cap;
};

static int
name_cmp(const void *a, const void *b)
{
    const uint8_t *x = a, *y = b;
    int lx = dname_wire_length(x, DNAME_MAX_LEN), ly = dname_wire_length(y, DNAME_MAX_LEN);
    return lx != ly ? lx - ly : memcmp(x, y, (size_t)lx);
}

static void
name_set_add(struct name_set *s, const uint8_t *lname)
{
    if (s->count == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->names = xrealloc(s->names, s->cap * sizeof(*s->names));
    }
    memcpy(s->names[s->count++], lname, (size_t)dname_wire_length(lname, DNAME_MAX_LEN));
}

static void
name_set_sort(struct name_set *s)
{
    qsort(s->names, s->count, sizeof(*s->names), name_cmp);
}

/* Among the first `sorted` names (those added since the last sort are not searched: one
 * catalog never names a zone twice, xfr_catalog_read saw to that). */
static bool
name_set_has(const struct name_set *s, size_t sorted, const uint8_t *lname)
{
    return sorted && bsearch(lname, s->names, sorted, sizeof(*s->names), name_cmp);
}

/* "<dir>/<member without the final dot>.zone", '/' in a label made '_' (as config_secondary.c
 * names default copies). */
static void
member_file(const char *catalog_file, const char *member, char *out, size_t out_size)
{
    size_t n = strlen(catalog_file), len = strlen(member);
    if (n > 5 && strcmp(catalog_file + n - 5, ".zone") == 0)
        n -= 5;
    if (len > 1 && member[len - 1] == '.')
        len--;
    int prefix = snprintf(out, out_size, "%.*s.members/", (int)n, catalog_file);
    snprintf(out + prefix, out_size - (size_t)prefix, "%.*s.zone", (int)len, member);
    for (char *c = out + prefix; *c; c++)
        if (*c == '/')
            *c = '_';
}

/* RFC 9432 §4.4: properties we read but do not act on, said once per version. */
static void
log_properties(const char *catalog, const struct xfr_catalog_member *m, const char *member)
{
    if (m->coo) {
        char coo[DNAME_TEXT_MAX];
        dname_to_text(m->coo, coo, sizeof(coo));
        log_info("catalog %s: member %s: coo property (to %s) ignored: a change of ownership "
                 "needs the other catalog configured, and its members arrive through it",
                 catalog, member, coo);
    }
    if (m->group)
        log_info("catalog %s: member %s: group property \"%.*s\" ignored (no group settings "
                 "exist: every member is served alike)",
                 catalog, member, (int)m->group[0], (const char *)m->group + 1);
}

/* Adds the usable members of catalog entry cfg->zones[ci]; `taken` holds the names served
 * so far and gets the added ones. */
static void
expand_one(struct config *cfg, size_t ci, struct name_set *taken)
{
    uint8_t origin[DNAME_MAX_LEN];
    uint32_t serial;
    void *hold;
    char catalog[DNAME_TEXT_MAX];
    if (dname_from_text(cfg->zones[ci].origin, origin) < 0)
        return;
    dname_lower_copy(origin, origin);
    dname_to_text(origin, catalog, sizeof(catalog));
    const struct zone_records *recs = secondary_records_hold(&cfg->zones[ci], &serial, &hold);
    if (!recs) {
        secondary_records_release(hold);
        return;
    }
    bool say = news(origin, serial);
    struct xfr_catalog cat;
    char err[XFR_CATALOG_ERR_MAX];
    if (xfr_catalog_read(origin, recs, &cat, err) < 0) {
        /* Only a copy on disk can get here: the transfer thread refuses broken versions. */
        if (say)
            log_error("catalog %s: serial %u: %s: no member zones from it", catalog, serial, err);
        secondary_records_release(hold);
        return;
    }
    size_t added = 0, before = taken->count;
    for (size_t k = 0; k < cat.count; k++) {
        const struct xfr_catalog_member *m = &cat.members[k];
        char member[DNAME_TEXT_MAX], file[8192];
        if (m->zone[0] == 0 && m->skipped) {
            if (say)
                log_error("catalog %s: a member node's PTR is not a domain name: ignored", catalog);
            continue;
        }
        dname_to_text(m->zone, member, sizeof(member));
        if (m->skipped) {
            if (say)
                log_error("catalog %s: member %s ignored: %s (RFC 9432 §5.4)", catalog, member,
                          m->skipped);
            continue;
        }
        if (name_set_has(taken, before, m->zone)) {
            if (say)
                log_error("catalog %s: member %s ignored: a configured zone or a member of "
                          "another catalog has that name already (RFC 9432 §5.4)",
                          catalog, member);
            continue;
        }
        if (say)
            log_properties(catalog, m, member);
        member_file(cfg->zones[ci].file, member, file, sizeof(file));
        config_zone_add_member(cfg, ci, member, file);
        name_set_add(taken, m->zone);
        added++;
    }
    if (say)
        log_info("catalog %s: serial %u lists %zu member zones, %zu served", catalog, serial,
                 cat.count, added);
    if (taken->count > before)
        name_set_sort(taken);
    xfr_catalog_fini(&cat);
    secondary_records_release(hold);
}

void
catalog_expand(struct config *cfg)
{
    struct name_set taken = {0};
    size_t configured = cfg->zone_count;
    bool any = false;
    for (size_t i = 0; i < configured; i++) {
        uint8_t name[DNAME_MAX_LEN];
        any |= cfg->zones[i].catalog;
        if (dname_from_text(cfg->zones[i].origin, name) > 0) {
            dname_lower_copy(name, name);
            name_set_add(&taken, name);
        }
    }
    name_set_sort(&taken);
    for (size_t i = 0; any && i < configured; i++)
        if (cfg->zones[i].catalog)
            expand_one(cfg, i, &taken);
    free(taken.names);
}

/* --- the producer ------------------------------------------------------------------------ */

/* The serial of each produced catalog and the member set it was given for (main thread). */
#define PRODUCED_MAX 16
static struct {
    uint8_t origin[DNAME_MAX_LEN];
    uint32_t serial;
    uint64_t members; /* order-independent hash of the member names */
} produced[PRODUCED_MAX];
static size_t produced_count;

static uint64_t
fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

/* RFC 9432 §3: a new member set needs a new serial. Unix time, as Knot's generated catalogs
 * use: it grows across restarts (where the last serial is not kept), and one more than the
 * last serial when the set changes twice in a second. */
static uint32_t
produced_serial(const uint8_t *origin, uint64_t members, int64_t now)
{
    size_t i = 0;
    while (i < produced_count && !dname_equal(produced[i].origin, origin))
        i++;
    if (i == produced_count && produced_count < PRODUCED_MAX) {
        dname_lower_copy(produced[produced_count].origin, origin);
        produced[produced_count].serial = (uint32_t)now;
        produced[produced_count++].members = members;
        return (uint32_t)now;
    }
    if (i == produced_count) /* more produced catalogs than remembered: time alone */
        return (uint32_t)now;
    if (produced[i].members != members) {
        uint32_t next = produced[i].serial + 1;
        /* RFC 1982: now is "later" than the last serial unless the clock went back. */
        produced[i].serial = (int32_t)((uint32_t)now - next) > 0 ? (uint32_t)now : next;
        produced[i].members = members;
    }
    return produced[i].serial;
}

static bool
is_member_of_produced(const struct config_zone *z)
{
    return !z->catalog && !z->catalog_produce && !z->member_of;
}

int
catalog_produce_load(const struct config *cfg, size_t ci, const struct zone_steer *steered,
                     size_t steered_count, const struct zone_limits *limits, struct zone **out,
                     char err[ZONE_ERR_MAX])
{
    const struct config_zone *cz = &cfg->zones[ci];
    uint8_t origin[DNAME_MAX_LEN], owner[DNAME_MAX_LEN], member[DNAME_MAX_LEN];
    char source[DNAME_TEXT_MAX + 64];
    struct zone_records r;
    int origin_len = dname_from_text(cz->origin, origin);
    uint64_t set = 0;
    if (origin_len < 0 || origin_len + 8 + 18 > DNAME_MAX_LEN) {
        snprintf(err, ZONE_ERR_MAX, "%s: catalog name too long for its member records", cz->origin);
        return -1;
    }
    dname_lower_copy(origin, origin);
    snprintf(source, sizeof(source), "catalog %s (generated)", cz->origin);
    zone_records_init(&r);
    for (size_t i = 0; i < cfg->zone_count; i++) {
        if (i == ci || !is_member_of_produced(&cfg->zones[i]) ||
            dname_from_text(cfg->zones[i].origin, member) < 0)
            continue;
        int len = dname_lower_copy(member, member);
        /* RFC 9432 §4.3: <unique-N>.zones.<catalog> PTR <member>. The label is a hash of the
         * member's name, so it stays the same across reloads and restarts (a new label
         * would be a member reset, §5.5). */
        uint64_t h = fnv1a64(member, (size_t)len);
        set += h * 0x9e3779b97f4a7c15u + 1; /* a sum: the order of the zones does not count */
        owner[0] = 16;
        snprintf((char *)owner + 1, 17, "%016llx", (unsigned long long)h);
        memcpy(owner + 17, "\5zones", 6);
        memcpy(owner + 23, origin, (size_t)origin_len);
        zone_records_add(&r, owner, DNS_TYPE_PTR, 0, member, (uint16_t)len);
    }
    /* RFC 9432 §4.1: SOA and NS as any zone, the NS "invalid." (no server resolves it);
     * §4.2.1: the schema version. The SOA goes first, where a version's SOA is. */
    struct zone_records full;
    zone_records_init(&full);
    uint8_t rd[64];
    const uint8_t invalid[] = "\7invalid";
    uint32_t fields[5] = {produced_serial(origin, set, snapshot_now()), 3600, 600, 2419200, 0};
    memcpy(rd, invalid, sizeof(invalid));
    memcpy(rd + sizeof(invalid), invalid, sizeof(invalid));
    for (int k = 0; k < 5; k++)
        dnswire_put32(rd + 2 * sizeof(invalid) + 4 * k, fields[k]);
    zone_records_add(&full, origin, DNS_TYPE_SOA, 0, rd, 2 * sizeof(invalid) + 20);
    zone_records_add(&full, origin, DNS_TYPE_NS, 0, invalid, sizeof(invalid));
    uint8_t version_owner[DNAME_MAX_LEN + 8];
    memcpy(version_owner, "\7version", 8);
    memcpy(version_owner + 8, origin, (size_t)origin_len);
    const uint8_t version[] = "\1" XFR_CATALOG_VERSION;
    zone_records_add(&full, version_owner, DNS_TYPE_TXT, 0, version, 2);
    for (size_t k = 0; k < r.count; k++)
        zone_records_add(&full, r.recs[k].owner, r.recs[k].type, r.recs[k].ttl, r.recs[k].rdata,
                         r.recs[k].rdlen);
    zone_records_fini(&r);
    int rc = zone_build(cz->origin, source, &full, steered, steered_count, limits, out, err);
    zone_records_fini(&full);
    return rc;
}
