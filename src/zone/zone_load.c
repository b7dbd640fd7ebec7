// SPDX-License-Identifier: MIT
/* Zone file reader: RFC 1035 §5 master files through ldns, one record at a time so every
 * record keeps its line number for error messages. Directives ($ORIGIN, $TTL) are handled
 * by ldns; $INCLUDE is refused (a zone is one file, so `kzonecheck` and knotd read the same
 * input). Each record is reduced to owner (lowercased wire), type, TTL and uncompressed wire
 * RDATA in a scratch arena, then handed to zone_compile(). ldns objects never leave this
 * file. Runs on the main or loader thread. */
#include <errno.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>

#include "common/log.h"
#include "zone/zone_internal.h"

/* RFC 2308 §4 leaves the default to the operator; 3600 matches knotd's default. */
#define ZONE_DEFAULT_TTL 3600

void
zone_error(char err[ZONE_ERR_MAX], const char *file, int line, const char *fmt, ...)
{
    int n = snprintf(err, ZONE_ERR_MAX, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, ZONE_ERR_MAX - (size_t)n, fmt, ap);
    va_end(ap);
}

struct reader {
    const char *file;
    struct zone *zone;
    struct arena scratch;
    struct zone_record *recs;
    size_t count;
    size_t cap;
    ldns_buffer *buf;
};

/* Converts one ldns record; 0 or -1 with err set. */
static int
add_record(struct reader *r, const ldns_rr *rr, int line, char err[ZONE_ERR_MAX])
{
    const ldns_rdf *owner = ldns_rr_owner(rr);
    uint8_t lname[DNAME_MAX_LEN];
    char text[DNAME_TEXT_MAX], origin_text[DNAME_TEXT_MAX];

    if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
        zone_error(err, r->file, line, "only class IN is supported");
        return -1;
    }
    int len = dname_lower_copy(lname, ldns_rdf_data(owner));
    if (!dname_is_subdomain(lname, r->zone->origin)) {
        dname_to_text(lname, text, sizeof(text));
        dname_to_text(r->zone->origin, origin_text, sizeof(origin_text));
        zone_error(err, r->file, line, "%s is outside the zone %s", text, origin_text);
        return -1;
    }
    ldns_buffer_clear(r->buf);
    if (ldns_rr_rdata2buffer_wire(r->buf, rr) != LDNS_STATUS_OK ||
        ldns_buffer_position(r->buf) > 65535) {
        zone_error(err, r->file, line, "cannot encode RDATA");
        return -1;
    }
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->recs = xrealloc(r->recs, r->cap * sizeof(*r->recs));
    }
    struct zone_record *rec = &r->recs[r->count++];
    /* Consecutive records usually share the owner: keep one copy. */
    if (r->count > 1 && rec[-1].owner_len == len && memcmp(rec[-1].owner, lname, (size_t)len) == 0)
        rec->owner = rec[-1].owner;
    else
        rec->owner = arena_memdup(&r->scratch, lname, (size_t)len);
    rec->owner_len = (uint8_t)len;
    rec->type = ldns_rr_get_type(rr);
    rec->ttl = ldns_rr_ttl(rr);
    rec->rdlen = (uint16_t)ldns_buffer_position(r->buf);
    rec->rdata = arena_memdup(&r->scratch, ldns_buffer_begin(r->buf), rec->rdlen);
    rec->line = line;
    return 0;
}

static int
read_records(struct reader *r, FILE *fp, const char *origin_text, char err[ZONE_ERR_MAX])
{
    int rc = -1;
    int line = 0;
    uint32_t default_ttl = ZONE_DEFAULT_TTL;
    ldns_rdf *origin = NULL, *prev = NULL;

    if (ldns_str2rdf_dname(&origin, origin_text) != LDNS_STATUS_OK) {
        zone_error(err, r->file, 0, "bad origin '%s'", origin_text);
        goto out;
    }
    prev = ldns_rdf_clone(origin);
    while (!feof(fp)) {
        int first_line = line + 1;
        ldns_rr *rr = NULL;
        ldns_status st = ldns_rr_new_frm_fp_l(&rr, fp, &default_ttl, &origin, &prev, &line);
        switch (st) {
        case LDNS_STATUS_OK:
            break;
        case LDNS_STATUS_SYNTAX_EMPTY:
        case LDNS_STATUS_SYNTAX_TTL:
        case LDNS_STATUS_SYNTAX_ORIGIN:
            continue;
        case LDNS_STATUS_SYNTAX_INCLUDE:
            zone_error(err, r->file, line, "$INCLUDE is not supported (one zone, one file)");
            goto out;
        default:
            zone_error(err, r->file, line > 0 ? line : 1, "%s", ldns_get_errorstr_by_id(st));
            goto out;
        }
        /* ldns counts lines consumed; a record starts on the first line it read. */
        int rc_add = add_record(r, rr, first_line < line ? first_line : line, err);
        ldns_rr_free(rr);
        if (rc_add < 0)
            goto out;
    }
    rc = 0;
out:
    ldns_rdf_deep_free(origin);
    ldns_rdf_deep_free(prev);
    return rc;
}

int
zone_load(const char *origin, const char *file, struct zone **out, char err[ZONE_ERR_MAX])
{
    return zone_load_steered(origin, file, NULL, 0, out, err);
}

int
zone_load_steered(const char *origin, const char *file, const uint8_t *const *steered,
                  size_t steered_count, struct zone **out, char err[ZONE_ERR_MAX])
{
    int rc = -1;
    struct reader r = {.file = file};
    struct zone *zone = xcalloc(1, sizeof(*zone));
    arena_init(&zone->arena);
    arena_init(&r.scratch);
    zone->file = xstrdup(file);
    r.zone = zone;
    r.buf = ldns_buffer_new(4096);

    FILE *fp = NULL;
    zone->origin_len = dname_from_text(origin, zone->origin);
    if (zone->origin_len < 0) {
        zone_error(err, file, 0, "bad zone origin '%s'", origin);
        goto out;
    }
    dname_lower_copy(zone->origin, zone->origin);
    zone->origin_labels = dname_label_count(zone->origin);

    fp = fopen(file, "r");
    if (!fp) {
        snprintf(err, ZONE_ERR_MAX, "%s: cannot open: %s", file, strerror(errno));
        goto out;
    }
    /* ldns reads with getc(): only this thread uses the stream, so skip the lock per byte. */
    __fsetlocking(fp, FSETLOCKING_BYCALLER);
    char origin_abs[DNAME_TEXT_MAX];
    dname_to_text(zone->origin, origin_abs, sizeof(origin_abs));
    if (read_records(&r, fp, origin_abs, err) < 0)
        goto out;
    if (zone_compile(zone, r.recs, r.count, steered, steered_count, err) < 0)
        goto out;
    rc = 0;
out:
    if (fp)
        fclose(fp);
    ldns_buffer_free(r.buf);
    free(r.recs);
    arena_fini(&r.scratch);
    if (rc < 0) {
        zone_free(zone);
        zone = NULL;
    }
    *out = zone;
    return rc;
}
