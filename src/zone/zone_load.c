// SPDX-License-Identifier: MIT
/* Zone file reader: RFC 1035 §5 master files. zone_split cuts the file into self-contained
 * record texts (each with its line number, absolute owner, origin and default TTL); ldns
 * parses them, on several threads for large zones since ldns costs about 1.5 us a record.
 * $INCLUDE is refused (a zone is one file, so `kzonecheck` and knotd read the same input). Each record is reduced to owner (lowercased wire), type, TTL and uncompressed wire
 * RDATA in a scratch arena, then handed to zone_compile(). ldns objects never leave this
 * file. Runs on the main or loader thread. */
#include <errno.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "zone/zone_internal.h"
#include "zone/zone_split.h"

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

/* Parses records [first, last) of the split file into r; stops at the first error. */
/* The next whitespace-separated token of a record text at *p, backslash escapes kept inside
 * it; advances *p. Empty at the end. */
static size_t
next_token(const char **p, char *out, size_t out_size)
{
    const char *s = *p;
    size_t n = 0;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '(' || *s == ')')
        s++;
    while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '(' && *s != ')') {
        if (*s == '\\' && s[1])
            s++;
        if (n + 1 < out_size)
            out[n++] = *s;
        s++;
    }
    out[n] = '\0';
    *p = s;
    return n;
}

static bool
is_class(const char *t)
{
    static const char *const classes[] = {"IN", "CH", "CS", "HS", "NONE", "ANY"};
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (strcasecmp(t, classes[i]) == 0)
            return true;
    return strncasecmp(t, "CLASS", 5) == 0 && t[5] >= '0' && t[5] <= '9';
}

/* ldns reports a type mnemonic it does not know as "could not parse the RR's rdata", which
 * sends the reader to the wrong place. RFC 1035 §5.1: owner, then TTL and class in either
 * order (both optional), then the type. Writes the type token if ldns does not know it
 * (RFC 3597 TYPEnnn is known). */
static bool
unknown_type(const char *text, char *type, size_t type_size)
{
    char tok[64];
    const char *p = text;
    if (next_token(&p, tok, sizeof(tok)) == 0) /* the owner */
        return false;
    for (int i = 0; i < 3; i++) {
        if (next_token(&p, tok, sizeof(tok)) == 0)
            return false;
        if ((tok[0] >= '0' && tok[0] <= '9') || is_class(tok))
            continue; /* TTL ("3600", "1h") or class */
        if (ldns_get_rr_type_by_name(tok) != 0)
            return false;
        snprintf(type, type_size, "%s", tok);
        return true;
    }
    return false;
}

struct parse_job {
    struct reader r;
    const struct zone_split *split;
    size_t first, last;
    int rc;
    char err[ZONE_ERR_MAX];
};

static void *
parse_range(void *arg)
{
    struct parse_job *j = arg;
    const struct zone_split *s = j->split;
    ldns_rdf *origin = NULL;
    uint32_t origin_context = UINT32_MAX;
    j->rc = 0;
    for (size_t i = j->first; i < j->last; i++) {
        const struct zone_split_record *rec = &s->records[i];
        const struct zone_split_context *ctx = &s->contexts[rec->context];
        if (rec->context != origin_context) {
            ldns_rdf_deep_free(origin);
            origin = NULL;
            if (ldns_str2rdf_dname(&origin, ctx->origin) != LDNS_STATUS_OK) {
                zone_error(j->err, j->r.file, rec->line, "bad $ORIGIN '%s'", ctx->origin);
                j->rc = -1;
                break;
            }
            origin_context = rec->context;
        }
        ldns_rr *rr = NULL;
        ldns_status st = ldns_rr_new_frm_str(&rr, s->text + rec->text, ctx->default_ttl, origin,
                                             NULL);
        if (st != LDNS_STATUS_OK) {
            char type[64];
            if (unknown_type(s->text + rec->text, type, sizeof(type)))
                zone_error(j->err, j->r.file, rec->line,
                           "unknown RR type '%s' (an unknown type can be written as TYPEnnn "
                           "with RFC 3597 \\# rdata)",
                           type);
            else
                zone_error(j->err, j->r.file, rec->line, "%s", ldns_get_errorstr_by_id(st));
            j->rc = -1;
            break;
        }
        int rc = add_record(&j->r, rr, rec->line, j->err);
        ldns_rr_free(rr);
        if (rc < 0) {
            j->rc = -1;
            break;
        }
    }
    ldns_rdf_deep_free(origin);
    return NULL;
}

/* ldns parsing costs about 1.5 us per record; large zones are split across threads. */
#define PARALLEL_MIN_RECORDS 20000
#define MAX_PARSE_THREADS 4

static unsigned
parse_threads(size_t records)
{
    if (records < PARALLEL_MIN_RECORDS)
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = cpus > 0 ? (unsigned)cpus : 1;
    return n > MAX_PARSE_THREADS ? MAX_PARSE_THREADS : n;
}

/* Splits and parses the file; the records of every job are gathered into r. */
static int
read_records(struct reader *r, FILE *fp, const char *origin_text, char err[ZONE_ERR_MAX],
             struct parse_job **jobs_out, unsigned *job_count)
{
    struct zone_split split;
    if (zone_split_read(fp, r->file, origin_text, ZONE_DEFAULT_TTL, &split, err) < 0) {
        zone_split_fini(&split);
        return -1;
    }
    unsigned n = parse_threads(split.count);
    struct parse_job *jobs = xcalloc(n, sizeof(*jobs));
    pthread_t threads[MAX_PARSE_THREADS];
    for (unsigned t = 0; t < n; t++) {
        jobs[t].r = (struct reader){.file = r->file, .zone = r->zone};
        arena_init(&jobs[t].r.scratch);
        jobs[t].r.buf = ldns_buffer_new(4096);
        jobs[t].split = &split;
        jobs[t].first = split.count * t / n;
        jobs[t].last = split.count * (t + 1) / n;
    }
    bool started[MAX_PARSE_THREADS] = {false};
    for (unsigned t = 1; t < n; t++)
        started[t] = pthread_create(&threads[t], NULL, parse_range, &jobs[t]) == 0;
    parse_range(&jobs[0]);
    for (unsigned t = 1; t < n; t++) {
        if (started[t])
            pthread_join(threads[t], NULL);
        else
            parse_range(&jobs[t]); /* no thread could be started: do it here */
    }
    zone_split_fini(&split);

    /* The first error in file order wins: jobs cover increasing line ranges. */
    int rc = 0;
    for (unsigned t = 0; t < n && rc == 0; t++) {
        if (jobs[t].rc < 0) {
            memcpy(err, jobs[t].err, ZONE_ERR_MAX);
            rc = -1;
        }
    }
    size_t total = 0;
    for (unsigned t = 0; t < n; t++)
        total += jobs[t].r.count;
    r->recs = xmalloc((total ? total : 1) * sizeof(*r->recs));
    for (unsigned t = 0; t < n; t++) {
        /* A job without records has no array: memcpy from NULL is undefined even for 0. */
        if (jobs[t].r.count)
            memcpy(r->recs + r->count, jobs[t].r.recs, jobs[t].r.count * sizeof(*r->recs));
        r->count += jobs[t].r.count;
        free(jobs[t].r.recs);
        ldns_buffer_free(jobs[t].r.buf);
        jobs[t].r.recs = NULL;
    }
    *jobs_out = jobs;
    *job_count = n;
    return rc;
}

/* Sets the zone's origin, then splits and parses `file` into r (r->zone = zone). The caller
 * frees with parse_fini whatever the result. */
static int
parse_file(const char *origin, const char *file, struct zone *zone, struct reader *r,
           struct parse_job **jobs, unsigned *job_count, char err[ZONE_ERR_MAX])
{
    *r = (struct reader){.file = file, .zone = zone};
    zone->origin_len = dname_from_text(origin, zone->origin);
    if (zone->origin_len < 0) {
        zone_error(err, file, 0, "bad zone origin '%s'", origin);
        return -1;
    }
    dname_lower_copy(zone->origin, zone->origin);
    zone->origin_labels = dname_label_count(zone->origin);
    FILE *fp = fopen(file, "r");
    if (!fp) {
        snprintf(err, ZONE_ERR_MAX, "%s: cannot open: %s", file, strerror(errno));
        return -1;
    }
    char origin_abs[DNAME_TEXT_MAX];
    dname_to_text(zone->origin, origin_abs, sizeof(origin_abs));
    int rc = read_records(r, fp, origin_abs, err, jobs, job_count);
    fclose(fp);
    return rc;
}

static void
parse_fini(struct reader *r, struct parse_job *jobs, unsigned job_count)
{
    free(r->recs);
    for (unsigned t = 0; t < job_count; t++)
        arena_fini(&jobs[t].r.scratch);
    free(jobs);
}

int
zone_records_load(const char *origin, const char *file, struct zone_records *out,
                  char err[ZONE_ERR_MAX])
{
    struct reader r;
    struct parse_job *jobs = NULL;
    unsigned job_count = 0;
    struct zone *zone = xcalloc(1, sizeof(*zone)); /* the origin, for the parser's checks */
    zone_records_init(out);
    int rc = parse_file(origin, file, zone, &r, &jobs, &job_count, err);
    for (size_t i = 0; rc == 0 && i < r.count; i++)
        zone_records_add(out, r.recs[i].owner, r.recs[i].type, r.recs[i].ttl, r.recs[i].rdata,
                         r.recs[i].rdlen);
    parse_fini(&r, jobs, job_count);
    free(zone);
    return rc;
}

int
zone_load(const char *origin, const char *file, struct zone **out, char err[ZONE_ERR_MAX])
{
    return zone_load_steered(origin, file, NULL, 0, NULL, out, err);
}

int
zone_load_steered(const char *origin, const char *file, const struct zone_steer *steered,
                  size_t steered_count, const struct zone_limits *limits, struct zone **out,
                  char err[ZONE_ERR_MAX])
{
    struct reader r;
    struct parse_job *jobs = NULL;
    unsigned job_count = 0;
    struct zone *zone = xcalloc(1, sizeof(*zone));
    arena_init(&zone->arena);
    zone->file = xstrdup(file);
    int rc = parse_file(origin, file, zone, &r, &jobs, &job_count, err);
    if (rc == 0)
        rc = zone_compile(zone, r.recs, r.count, steered, steered_count, limits, err);
    parse_fini(&r, jobs, job_count);
    if (rc < 0) {
        zone_free(zone);
        zone = NULL;
    }
    *out = zone;
    return rc;
}
