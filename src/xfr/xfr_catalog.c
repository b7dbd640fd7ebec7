// SPDX-License-Identifier: MIT
/* Reading a catalog zone (see xfr_catalog.h): one pass over the records picks the version
 * TXT, the member PTRs one label below zones.<catalog> and the coo/group properties two
 * labels below; sorting the members by their label finds member nodes with two PTRs (a
 * broken catalog), sorting them by zone name finds zones named twice (the later label is
 * skipped). Runs on whichever thread holds the records: the transfer client when it checks a
 * new version, the main thread when a snapshot is built. */
#include "xfr/xfr_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dnswire.h"

/* A property record (RFC 9432 §4.4) seen before its member is known. */
struct property {
    const uint8_t *unique; /* the member label it belongs to */
    const struct zone_record *rec;
};

/* RFC 4034 §6.1 order of two lowercased labels (length byte first): bytes, then length. */
static int
label_cmp(const uint8_t *a, const uint8_t *b)
{
    size_t n = a[0] < b[0] ? a[0] : b[0];
    int c = memcmp(a + 1, b + 1, n);
    return c ? c : (int)a[0] - (int)b[0];
}

static int
member_label_cmp(const void *a, const void *b)
{
    return label_cmp(((const struct xfr_catalog_member *)a)->unique,
                     ((const struct xfr_catalog_member *)b)->unique);
}

/* By zone name (any total order will do to find equal names), then by label, so the first
 * of equal names is the one whose label sorts first. */
static int
member_zone_cmp(const void *a, const void *b)
{
    const struct xfr_catalog_member *x = *(struct xfr_catalog_member *const *)a;
    const struct xfr_catalog_member *y = *(struct xfr_catalog_member *const *)b;
    int lx = dname_wire_length(x->zone, DNAME_MAX_LEN),
        ly = dname_wire_length(y->zone, DNAME_MAX_LEN);
    int c = lx != ly ? lx - ly : memcmp(x->zone, y->zone, (size_t)lx);
    return c ? c : label_cmp(x->unique, y->unique);
}

/* `owner` is `labels` labels below `parent` (both lowercased wire): its first label, or NULL. */
static const uint8_t *
below(const uint8_t *owner, const uint8_t *parent, int parent_labels, int labels)
{
    if (dname_label_count(owner) != parent_labels + labels || !dname_is_subdomain(owner, parent))
        return NULL;
    return owner;
}

/* The TXT RRset at version.<catalog> (RFC 9432 §4.2.1): exactly one record, one string "2". */
static int
check_version(const struct zone_records *r, const uint8_t *version_name, char *err)
{
    const struct zone_record *found = NULL;
    for (size_t i = 0; i < r->count; i++) {
        const struct zone_record *rec = &r->recs[i];
        if (rec->type != DNS_TYPE_TXT || !dname_equal(rec->owner, version_name))
            continue;
        if (found) {
            snprintf(err, XFR_CATALOG_ERR_MAX,
                     "version.<catalog> has more than one TXT record (RFC 9432 §4.2.1)");
            return -1;
        }
        found = rec;
    }
    if (!found) {
        snprintf(err, XFR_CATALOG_ERR_MAX,
                 "no version.<catalog> TXT record (RFC 9432 §4.2.1): not a catalog zone");
        return -1;
    }
    const uint8_t *rd = found->rdata;
    size_t want = sizeof(XFR_CATALOG_VERSION) - 1;
    if (found->rdlen != want + 1 || rd[0] != want || memcmp(rd + 1, XFR_CATALOG_VERSION, want)) {
        char text[64];
        size_t n = found->rdlen && rd[0] < found->rdlen ? rd[0] : 0;
        snprintf(text, sizeof(text), "%.*s%s", (int)(n > 40 ? 40 : n), (const char *)rd + 1,
                 found->rdlen > n + 1 ? "\" ..." : "\"");
        snprintf(err, XFR_CATALOG_ERR_MAX,
                 "catalog schema version \"%s is not supported (RFC 9432 §4.2.1: only \"%s\")",
                 text, XFR_CATALOG_VERSION);
        return -1;
    }
    return 0;
}

static void
label_text(const uint8_t *label, char *out, size_t out_size)
{
    uint8_t name[DNAME_MAX_LEN];
    memcpy(name, label, (size_t)label[0] + 1);
    name[label[0] + 1] = 0;
    dname_to_text(name, out, out_size);
}

/* Applies the coo and group properties to their members (bsearch by label). A member with two
 * coo PTRs makes the catalog broken (RFC 9432 §4.4.1). */
static int
apply_properties(struct xfr_catalog *c, const struct property *props, size_t n, char *err)
{
    for (size_t i = 0; i < n; i++) {
        struct xfr_catalog_member key = {.unique = props[i].unique};
        struct xfr_catalog_member *m =
            bsearch(&key, c->members, c->count, sizeof(*m), member_label_cmp);
        if (!m)
            continue; /* a property of no member: nothing to apply it to */
        const struct zone_record *rec = props[i].rec;
        if (rec->type == DNS_TYPE_TXT) {
            if (!m->group)
                m->group = rec->rdata;
            continue;
        }
        if (m->coo) {
            char text[DNAME_TEXT_MAX];
            label_text(m->unique, text, sizeof(text));
            snprintf(err, XFR_CATALOG_ERR_MAX,
                     "member node %.200s has more than one coo PTR record (RFC 9432 §4.4.1)", text);
            return -1;
        }
        m->coo = rec->rdata;
    }
    return 0;
}

/* RFC 9432 §5.4: a zone named by two member nodes is used once. */
static void
skip_duplicates(struct xfr_catalog *c)
{
    struct xfr_catalog_member **by_zone = xcalloc(c->count ? c->count : 1, sizeof(*by_zone));
    for (size_t i = 0; i < c->count; i++)
        by_zone[i] = &c->members[i];
    qsort(by_zone, c->count, sizeof(*by_zone), member_zone_cmp);
    for (size_t i = 1; i < c->count; i++)
        if (dname_equal(by_zone[i]->zone, by_zone[i - 1]->zone) && !by_zone[i]->skipped)
            by_zone[i]->skipped = "another member node of this catalog names the same zone";
    free(by_zone);
}

int
xfr_catalog_read(const uint8_t *origin, const struct zone_records *r, struct xfr_catalog *out,
                 char err[XFR_CATALOG_ERR_MAX])
{
    uint8_t zones_name[DNAME_MAX_LEN + 6], version_name[DNAME_MAX_LEN + 8];
    int origin_len = dname_wire_length(origin, DNAME_MAX_LEN);
    struct property *props = xcalloc(r->count ? r->count : 1, sizeof(*props));
    size_t prop_count = 0;
    int rc = -1;

    *out = (struct xfr_catalog){0};
    if (origin_len < 0 || origin_len + 8 > DNAME_MAX_LEN) {
        snprintf(err, XFR_CATALOG_ERR_MAX, "the catalog's name is too long for its records");
        goto out;
    }
    memcpy(zones_name, "\5zones", 6);
    memcpy(zones_name + 6, origin, (size_t)origin_len);
    memcpy(version_name, "\7version", 8);
    memcpy(version_name + 8, origin, (size_t)origin_len);
    if (check_version(r, version_name, err) < 0)
        goto out;

    int zones_labels = dname_label_count(zones_name);
    out->members = xcalloc(r->count ? r->count : 1, sizeof(*out->members));
    for (size_t i = 0; i < r->count; i++) {
        const struct zone_record *rec = &r->recs[i];
        if (rec->type == DNS_TYPE_PTR && below(rec->owner, zones_name, zones_labels, 1)) {
            /* RFC 9432 §4.3: <unique-N>.zones.<catalog> PTR <member zone>. */
            struct xfr_catalog_member *m = &out->members[out->count++];
            m->unique = rec->owner;
            if (dname_wire_length(rec->rdata, rec->rdlen) != (int)rec->rdlen) {
                m->skipped = "its PTR RDATA is not a domain name";
                m->zone[0] = 0;
            } else {
                dname_lower_copy(m->zone, rec->rdata);
                if (m->zone[0] == 0)
                    m->skipped = "it names the root";
                else if (dname_is_subdomain(m->zone, origin))
                    m->skipped = "it names the catalog zone itself or a name inside it";
            }
        } else if ((rec->type == DNS_TYPE_PTR || rec->type == DNS_TYPE_TXT) &&
                   below(rec->owner, zones_name, zones_labels, 2)) {
            /* RFC 9432 §4.4.1 coo.<unique-N>.zones PTR, §4.4.2 group.<unique-N>.zones TXT. */
            const uint8_t *first = rec->owner;
            bool coo = rec->type == DNS_TYPE_PTR && first[0] == 3 && !memcmp(first + 1, "coo", 3);
            bool group =
                rec->type == DNS_TYPE_TXT && first[0] == 5 && !memcmp(first + 1, "group", 5);
            if (coo || group)
                props[prop_count++] = (struct property){first + 1 + first[0], rec};
        }
    }
    qsort(out->members, out->count, sizeof(*out->members), member_label_cmp);
    for (size_t i = 1; i < out->count; i++) {
        if (label_cmp(out->members[i].unique, out->members[i - 1].unique) == 0) {
            char text[DNAME_TEXT_MAX];
            label_text(out->members[i].unique, text, sizeof(text));
            snprintf(err, XFR_CATALOG_ERR_MAX,
                     "member node %.200s has more than one PTR record (RFC 9432 §4.3)", text);
            goto out;
        }
    }
    if (apply_properties(out, props, prop_count, err) < 0)
        goto out;
    skip_duplicates(out);
    for (size_t i = 0; i < out->count; i++)
        out->used += !out->members[i].skipped;
    rc = 0;
out:
    free(props);
    if (rc < 0)
        xfr_catalog_fini(out);
    return rc;
}

void
xfr_catalog_fini(struct xfr_catalog *c)
{
    free(c->members);
    *c = (struct xfr_catalog){0};
}
