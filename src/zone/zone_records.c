// SPDX-License-Identifier: MIT
/* Zones that do not come from a file we parsed: the records of one version of a zone held
 * together (a secondary's transferred copy), compiled with the same checks as a zone file
 * after the checks a file's parser makes (owners inside the zone, names in RDATA well
 * formed), and written as an RFC 1035 master file, atomically, so a restart can serve the
 * copy before the first refresh. ldns renders the records to text here and nowhere else on
 * this side. Runs on the thread that owns the records (the transfer client, or the loader). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dnswire.h"
#include "zone/zone_internal.h"

void
zone_records_init(struct zone_records *r)
{
    *r = (struct zone_records){0};
    arena_init(&r->arena);
}

void
zone_records_fini(struct zone_records *r)
{
    free(r->recs);
    arena_fini(&r->arena);
    *r = (struct zone_records){0};
}

void
zone_records_add(struct zone_records *r, const uint8_t *owner, uint16_t type, uint32_t ttl,
                 const uint8_t *rdata, uint16_t rdlen)
{
    uint8_t lname[DNAME_MAX_LEN];
    int len = dname_lower_copy(lname, owner);
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->recs = xrealloc(r->recs, r->cap * sizeof(*r->recs));
    }
    struct zone_record *rec = &r->recs[r->count++];
    /* Transfers send an owner's records together: keep one copy of the name. */
    if (r->count > 1 && rec[-1].owner_len == len && memcmp(rec[-1].owner, lname, (size_t)len) == 0)
        rec->owner = rec[-1].owner;
    else {
        rec->owner = arena_memdup(&r->arena, lname, (size_t)len);
        r->bytes += (size_t)len;
    }
    rec->owner_len = (uint8_t)len;
    rec->type = type;
    rec->ttl = ttl;
    rec->rdlen = rdlen;
    rec->rdata = rdlen ? arena_memdup(&r->arena, rdata, rdlen) : (const uint8_t *)"";
    rec->line = (int)r->count;
    r->bytes += rdlen + 10u;
}

bool
zone_soa_fields(const uint8_t *rd, size_t rdlen, uint32_t *serial, uint32_t timers[4])
{
    int mname = dname_wire_length(rd, rdlen);
    int rname = mname < 0 ? -1 : dname_wire_length(rd + mname, rdlen - (size_t)mname);
    if (rname < 0 || (size_t)mname + (size_t)rname + 20 != rdlen)
        return false;
    const uint8_t *f = rd + mname + rname;
    *serial = dnswire_get32(f);
    for (int i = 0; i < 4; i++)
        timers[i] = dnswire_get32(f + 4 + 4 * i);
    return true;
}

void
zone_set_serial(struct zone *zone, uint32_t serial)
{
    /* The zone is still private to its loader: its arena's bytes may be written. */
    uint8_t *rd = (uint8_t *)(uintptr_t)(zone->soa->rdata + 2);
    size_t rdlen = dnswire_get16(zone->soa->rdata);
    int mname = dname_wire_length(rd, rdlen);
    int rname = mname < 0 ? -1 : dname_wire_length(rd + mname, rdlen - (size_t)mname);
    if (rname < 0 || (size_t)mname + (size_t)rname + 20 != rdlen)
        return; /* not a SOA's RDATA: zone_load refused such a zone */
    dnswire_put32(rd + mname + rname, serial);
    zone->serial = serial;
}

/* The names a file's parser would have checked: RDATA of these types holds them at fixed
 * places (RFC 1035 §3.3, RFC 2782, RFC 6672), each a valid uncompressed name, and nothing
 * may follow the last. */
static bool
rdata_well_formed(uint16_t type, const uint8_t *rd, size_t len)
{
    size_t pos = 0;
    int names = 1;
    switch (type) {
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_DNAME:
    case DNS_TYPE_PTR:
        break;
    case DNS_TYPE_SOA:
        names = 2;
        break;
    case DNS_TYPE_MX:
        pos = 2;
        break;
    case DNS_TYPE_SRV:
        pos = 6;
        break;
    case DNS_TYPE_A:
        return len == 4;
    case DNS_TYPE_AAAA:
        return len == 16;
    default:
        return true;
    }
    for (int i = 0; i < names; i++) {
        int n = pos < len ? dname_wire_length(rd + pos, len - pos) : -1;
        if (n < 0)
            return false;
        pos += (size_t)n;
    }
    return type == DNS_TYPE_SOA ? pos + 20 == len : pos == len;
}

int
zone_build(const char *origin, const char *source, const struct zone_records *r,
           const struct zone_steer *steered, size_t steered_count,
           const struct zone_limits *limits, struct zone **out, char err[ZONE_ERR_MAX])
{
    int rc = -1;
    struct zone *zone = xcalloc(1, sizeof(*zone));
    struct zone_record *recs = xmalloc((r->count ? r->count : 1) * sizeof(*recs));
    arena_init(&zone->arena);
    zone->file = xstrdup(source);
    zone->origin_len = dname_from_text(origin, zone->origin);
    if (zone->origin_len < 0) {
        zone_error(err, source, 0, "bad zone origin '%s'", origin);
        goto out;
    }
    dname_lower_copy(zone->origin, zone->origin);
    zone->origin_labels = dname_label_count(zone->origin);
    for (size_t i = 0; i < r->count; i++) {
        const struct zone_record *rec = &r->recs[i];
        char text[DNAME_TEXT_MAX], type[DNSWIRE_TYPE_TEXT_MAX];
        dname_to_text(rec->owner, text, sizeof(text));
        if (!dname_is_subdomain(rec->owner, zone->origin)) {
            zone_error(err, source, (int)i + 1, "%s is outside the zone %s", text, origin);
            goto out;
        }
        if (!rdata_well_formed(rec->type, rec->rdata, rec->rdlen)) {
            zone_error(err, source, (int)i + 1, "%s %s: malformed RDATA", text,
                       dnswire_type_text(rec->type, type));
            goto out;
        }
        recs[i] = *rec;
        recs[i].line = (int)i + 1;
    }
    if (zone_compile(zone, recs, r->count, steered, steered_count, limits, err) < 0)
        goto out;
    rc = 0;
out:
    free(recs);
    if (rc < 0) {
        zone_free(zone);
        zone = NULL;
    }
    *out = zone;
    return rc;
}

/* mkdir -p of the directory of `path`. */
static int
make_parent(const char *path)
{
    char *copy = xstrdup(path);
    char *dir = dirname(copy);
    int rc = 0;
    for (char *p = dir + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0750) < 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    if (rc == 0 && mkdir(dir, 0750) < 0 && errno != EEXIST)
        rc = -1;
    free(copy);
    return rc;
}

/* An A or AAAA record as master-file text, as ldns would write it: most records of a big zone
 * are addresses, and ldns_wire2rr and ldns_rr2str allocate several times per record (5 of
 * the 12 s a secondary took to serve a new 1M-record zone went to writing the copy). The
 * owner is escaped by dname_to_text (RFC 1035 §5.1). 1 if written, 0 if not an address, -1
 * on a write error. */
static int
write_address(FILE *f, const struct zone_record *rec)
{
    int af;
    if (rec->type == DNS_TYPE_A && rec->rdlen == 4)
        af = AF_INET;
    else if (rec->type == DNS_TYPE_AAAA && rec->rdlen == 16)
        af = AF_INET6;
    else
        return 0;
    char owner[DNAME_TEXT_MAX], addr[INET6_ADDRSTRLEN];
    dname_to_text(rec->owner, owner, sizeof(owner));
    if (!inet_ntop(af, rec->rdata, addr, sizeof(addr)))
        return -1;
    return fprintf(f, "%s\t%u\tIN\t%s\t%s\n", owner, (unsigned)rec->ttl,
                   af == AF_INET ? "A" : "AAAA", addr) < 0
               ? -1
               : 1;
}

/* One record as master-file text: addresses directly, the rest through ldns (RFC 3597 form
 * for types it does not know). */
static int
write_record(FILE *f, const struct zone_record *rec, uint8_t *wire)
{
    int done = write_address(f, rec);
    if (done != 0)
        return done < 0 ? -1 : 0;
    size_t pos = 0;
    memcpy(wire, rec->owner, rec->owner_len);
    pos = rec->owner_len;
    dnswire_put16(wire + pos, rec->type);
    dnswire_put16(wire + pos + 2, DNS_CLASS_IN);
    dnswire_put32(wire + pos + 4, rec->ttl);
    dnswire_put16(wire + pos + 8, rec->rdlen);
    memcpy(wire + pos + 10, rec->rdata, rec->rdlen);
    size_t len = pos + 10 + rec->rdlen, at = 0;
    ldns_rr *rr = NULL;
    if (ldns_wire2rr(&rr, wire, len, &at, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
        return -1;
    char *text = ldns_rr2str(rr);
    ldns_rr_free(rr);
    if (!text)
        return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    free(text);
    return rc;
}

int
zone_records_write(const struct zone_records *r, const char *comment, const char *path,
                   char err[ZONE_ERR_MAX])
{
    size_t n = strlen(path) + sizeof(".tmp");
    char *tmp = xmalloc(n);
    uint8_t *wire = xmalloc(DNAME_MAX_LEN + 10 + 65535);
    snprintf(tmp, n, "%s.tmp", path);
    int rc = -1;
    FILE *f = NULL;
    if (make_parent(path) < 0) {
        snprintf(err, ZONE_ERR_MAX, "%s: cannot make its directory: %s", path, strerror(errno));
        goto out;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, ZONE_ERR_MAX, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    fprintf(f, "; %s\n", comment);
    for (size_t i = 0; i < r->count; i++) {
        if (write_record(f, &r->recs[i], wire) < 0) {
            snprintf(err, ZONE_ERR_MAX, "%s: record %zu cannot be written", tmp, i + 1);
            goto out;
        }
    }
    /* Whole on disk before it replaces the old copy: a crash leaves one or the other. */
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        snprintf(err, ZONE_ERR_MAX, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    int closed = fclose(f);
    f = NULL;
    if (closed != 0 || rename(tmp, path) < 0) {
        snprintf(err, ZONE_ERR_MAX, "%s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    free(wire);
    return rc;
}
