// SPDX-License-Identifier: MIT
/* The journal file (see xfr_journal.h). Layout, integers in network order:
 *
 *   header:  "MERIDIAN-JNL" (12) | version u16 (1) | origin length u8 | origin (lowercased
 *            wire) | BLAKE2b-128 of everything before it (16)
 *   record:  payload length u32 | payload | BLAKE2b-128 of length and payload (16)
 *   payload: from serial u32 | to serial u32 | fingerprint of the "to" version (16, zero if
 *            unknown) | the difference's wire bytes u64 | old SOA: TTL u32, RDLENGTH u16,
 *            RDATA | new SOA: the same | removed: count u32, length u32, run | added: count
 *            u32, length u32, run
 *
 * A run is the in-memory format of struct xfr_diff (xfr_rr_next), so a record is the
 * difference's own bytes and reading one back is a copy. Reading checks everything a
 * transfer later trusts: framing, checksums, origin, the chain of serials (RFC 1982
 * increases), each SOA's serial, each owner a name inside the zone, counts and lengths, and
 * the names inside the RDATA the writer compresses. Main thread. */
#include "xfr/xfr_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/dnswire.h"
#include "common/fd_io.h"

#define MAGIC "MERIDIAN-JNL"
#define MAGIC_LEN 12
#define VERSION 1
#define SUM_LEN 16
/* A record holds at most a history's bytes; a file at most that twice over (the writer
 * compacts before), with room for framing: anything longer is not ours. */
#define FILE_MAX ((size_t)4 * XFR_HISTORY_BYTES + ((size_t)1 << 20))

/* --- the fingerprint ---------------------------------------------------------------------- */

/* Order-independent: each record's 128-bit digest is added into two 64-bit lanes, so a
 * version compiled in another node order (a secondary's copy read back from disk) has the
 * same fingerprint, and a difference moves it by what it removes and adds. `sign` is 1 to add
 * a record, -1 to take it away. */
static void
fp_add(struct xfr_fingerprint *acc, int sign, const uint8_t *owner, uint16_t type, uint32_t ttl,
       const uint8_t *rd, uint16_t rdlen)
{
    crypto_generichash_state st;
    uint8_t fixed[8], digest[16];
    int olen = dname_wire_length(owner, DNAME_MAX_LEN);
    dnswire_put16(fixed, type);
    dnswire_put32(fixed + 2, ttl);
    dnswire_put16(fixed + 6, rdlen);
    crypto_generichash_init(&st, NULL, 0, sizeof(digest));
    crypto_generichash_update(&st, owner, (unsigned long long)olen);
    crypto_generichash_update(&st, fixed, sizeof(fixed));
    crypto_generichash_update(&st, rd, rdlen);
    crypto_generichash_final(&st, digest, sizeof(digest));
    uint64_t a, b;
    memcpy(&a, digest, 8);
    memcpy(&b, digest + 8, 8);
    /* Unsigned arithmetic wraps: adding then taking away a record leaves no trace. */
    acc->lane[0] += sign > 0 ? a : -a;
    acc->lane[1] += sign > 0 ? b : -b;
    acc->count += sign > 0 ? 1u : (uint64_t)-1;
}

static void
fp_add_set(struct xfr_fingerprint *acc, int sign, const uint8_t *owner,
           const struct zone_rrset *set)
{
    size_t pos = 0;
    for (uint16_t i = 0; i < set->count; i++) {
        uint16_t len = dnswire_get16(set->rdata + pos);
        fp_add(acc, sign, owner, set->type, set->ttl, set->rdata + pos + 2, len);
        pos += 2u + len;
    }
}

static void
fp_add_run(struct xfr_fingerprint *acc, int sign, const uint8_t *run, size_t len)
{
    size_t pos = 0;
    struct xfr_rr rr;
    while (xfr_rr_next(run, len, &pos, &rr))
        fp_add(acc, sign, rr.owner, rr.type, rr.ttl, rr.rdata, rr.rdlen);
}

void
xfr_zone_fingerprint_sum(const struct xfr_zone *xz, struct xfr_fingerprint *out)
{
    const struct zone *z = xz->zone;
    uint8_t lowered[DNAME_MAX_LEN];
    memset(out, 0, sizeof(*out));
    dname_lower_copy(lowered, z->origin);
    fp_add_set(out, 1, lowered, z->soa);
    struct xfr_walk w = {0};
    struct xfr_rrset r;
    while (xfr_walk_next(xz, &w, &r))
        fp_add_set(out, 1, r.owner, r.set);
}

void
xfr_fingerprint_apply(struct xfr_fingerprint *fp, const uint8_t *origin, const struct xfr_diff *d)
{
    uint8_t lowered[DNAME_MAX_LEN];
    dname_lower_copy(lowered, origin);
    fp_add_set(fp, -1, lowered, &d->old_soa);
    fp_add_run(fp, -1, d->removed, d->removed_len);
    fp_add_set(fp, 1, lowered, &d->new_soa);
    fp_add_run(fp, 1, d->added, d->added_len);
}

void
xfr_fingerprint_final(const struct xfr_fingerprint *fp, uint8_t out[XFR_FINGERPRINT_LEN])
{
    uint8_t sums[24];
    memcpy(sums, fp->lane, 16);
    memcpy(sums + 16, &fp->count, 8);
    crypto_generichash(out, XFR_FINGERPRINT_LEN, sums, sizeof(sums), NULL, 0);
}

void
xfr_zone_fingerprint(const struct xfr_zone *xz, uint8_t out[XFR_FINGERPRINT_LEN])
{
    struct xfr_fingerprint fp;
    xfr_zone_fingerprint_sum(xz, &fp);
    xfr_fingerprint_final(&fp, out);
}

/* --- encoding ----------------------------------------------------------------------------- */

struct buf {
    uint8_t *data;
    size_t len, cap;
};

static uint8_t *
buf_grow(struct buf *b, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = b->cap ? b->cap : 4096;
        while (b->cap < b->len + n)
            b->cap *= 2;
        b->data = xrealloc(b->data, b->cap);
    }
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

static void
put_u16(struct buf *b, uint16_t v)
{
    dnswire_put16(buf_grow(b, 2), v);
}

static void
put_u32(struct buf *b, uint32_t v)
{
    dnswire_put32(buf_grow(b, 4), v);
}

static void
put_bytes(struct buf *b, const void *p, size_t n)
{
    if (n)
        memcpy(buf_grow(b, n), p, n);
}

static void
sum(const uint8_t *p, size_t n, uint8_t out[SUM_LEN])
{
    crypto_generichash(out, SUM_LEN, p, n, NULL, 0);
}

/* The checksum of b's bytes from `at` on, after them. */
static void
put_sum(struct buf *b, size_t at)
{
    size_t end = b->len;
    buf_grow(b, SUM_LEN); /* may move b->data */
    sum(b->data + at, end - at, b->data + end);
}

static void
put_header(struct buf *b, const uint8_t *origin)
{
    int olen = dname_wire_length(origin, DNAME_MAX_LEN);
    size_t at = b->len;
    put_bytes(b, MAGIC, MAGIC_LEN);
    put_u16(b, VERSION);
    buf_grow(b, 1)[0] = (uint8_t)olen;
    put_bytes(b, origin, (size_t)olen);
    put_sum(b, at);
}

static void
put_soa(struct buf *b, const struct zone_rrset *soa)
{
    uint16_t len = dnswire_get16(soa->rdata);
    put_u32(b, soa->ttl);
    put_u16(b, len);
    put_bytes(b, soa->rdata + 2, len);
}

/* One framed record; returns its size. */
static size_t
put_record(struct buf *b, const struct xfr_diff *d, const uint8_t fp[XFR_FINGERPRINT_LEN])
{
    size_t at = b->len;
    put_u32(b, 0); /* the payload's length, set below */
    put_u32(b, d->from_serial);
    put_u32(b, d->to_serial);
    put_bytes(b, fp, XFR_FINGERPRINT_LEN);
    put_u32(b, (uint32_t)((uint64_t)d->bytes >> 32));
    put_u32(b, (uint32_t)d->bytes);
    put_soa(b, &d->old_soa);
    put_soa(b, &d->new_soa);
    put_u32(b, d->removed_count);
    put_u32(b, (uint32_t)d->removed_len);
    put_bytes(b, d->removed, d->removed_len);
    put_u32(b, d->added_count);
    put_u32(b, (uint32_t)d->added_len);
    put_bytes(b, d->added, d->added_len);
    dnswire_put32(b->data + at, (uint32_t)(b->len - at - 4));
    put_sum(b, at);
    return b->len - at;
}

static void
put_records(struct buf *b, struct xfr_diff *const *diffs, uint32_t count,
            const uint8_t fp[XFR_FINGERPRINT_LEN], size_t *bytes)
{
    static const uint8_t unknown[XFR_FINGERPRINT_LEN];
    for (uint32_t i = 0; i < count; i++)
        bytes[i] = put_record(b, diffs[i], i + 1 == count ? fp : unknown);
}

/* --- writing ------------------------------------------------------------------------------- */

/* mkdir of path's directory (one level: the state directory itself exists), and an fd on it
 * to sync the rename. -1 with errno on failure. */
static int
open_dir(const char *path)
{
    char *copy = xstrdup(path);
    const char *dir = dirname(copy);
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        free(copy);
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    return fd;
}

int
xfr_journal_write(const char *path, const uint8_t *origin, struct xfr_diff *const *diffs,
                  uint32_t count, const uint8_t fp[XFR_FINGERPRINT_LEN], size_t *bytes,
                  size_t *file_bytes, char err[XFR_JOURNAL_ERR_MAX])
{
    struct buf b = {0};
    char tmp[4096];
    int rc = -1, fd = -1, dir = -1;
    put_header(&b, origin);
    put_records(&b, diffs, count, fp, bytes);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    dir = open_dir(path);
    if (dir < 0) {
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%.300s: directory: %.150s", path, strerror(errno));
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 || fd_write_all(fd, b.data, b.len) < 0 || fdatasync(fd) < 0) {
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%.300s: %.150s", tmp, strerror(errno));
        goto out;
    }
    int closed = close(fd);
    fd = -1;
    /* rename replaces atomically: a reader sees the old journal or the new one. */
    if (closed < 0 || rename(tmp, path) < 0 || fsync(dir) < 0) {
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%.300s: %.150s", path, strerror(errno));
        goto out;
    }
    *file_bytes = b.len;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        (void)unlink(tmp);
    if (dir >= 0)
        close(dir);
    free(b.data);
    return rc;
}

int
xfr_journal_append(const char *path, size_t file_bytes, struct xfr_diff *const *diffs,
                   uint32_t count, const uint8_t fp[XFR_FINGERPRINT_LEN], size_t *bytes,
                   size_t *new_file_bytes, char err[XFR_JOURNAL_ERR_MAX])
{
    struct buf b = {0};
    struct stat st;
    int rc = -1;
    put_records(&b, diffs, count, fp, bytes);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%.300s: %.150s", path, strerror(errno));
        goto out;
    }
    if ((size_t)st.st_size != file_bytes) {
        snprintf(err, XFR_JOURNAL_ERR_MAX,
                 "%s: %lld bytes, not the %zu written: changed by "
                 "someone else",
                 path, (long long)st.st_size, file_bytes);
        goto out;
    }
    if (lseek(fd, (off_t)file_bytes, SEEK_SET) < 0 || fd_write_all(fd, b.data, b.len) < 0 ||
        fdatasync(fd) < 0) {
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%.300s: %.150s", path, strerror(errno));
        /* Cut the partial record off: the file stays a valid journal of the old records
         * (and if even that fails, its checksum makes a reader refuse it). */
        (void)!ftruncate(fd, (off_t)file_bytes);
        goto out;
    }
    *new_file_bytes = file_bytes + b.len;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(b.data);
    return rc;
}

/* --- reading ------------------------------------------------------------------------------- */

struct cursor {
    const uint8_t *p;
    size_t len, pos;
};

static bool
take(struct cursor *c, size_t n, const uint8_t **out)
{
    if (c->len - c->pos < n)
        return false;
    *out = c->p + c->pos;
    c->pos += n;
    return true;
}

static bool
take32(struct cursor *c, uint32_t *v)
{
    const uint8_t *p;
    if (!take(c, 4, &p))
        return false;
    *v = dnswire_get32(p);
    return true;
}

static bool
take16(struct cursor *c, uint16_t *v)
{
    const uint8_t *p;
    if (!take(c, 2, &p))
        return false;
    *v = dnswire_get16(p);
    return true;
}

/* A name of exactly the bytes at rd[*at..), moved past. */
static bool
rdata_name(const uint8_t *rd, uint16_t len, size_t *at)
{
    int n = *at <= len ? dname_wire_length(rd + *at, len - *at) : -1;
    if (n < 0)
        return false;
    *at += (size_t)n;
    return true;
}

/* The RDATA of the types whose names the writer reads (dns_writer.c, compressible_names). */
static bool
rdata_ok(uint16_t type, const uint8_t *rd, uint16_t len)
{
    size_t at = 0;
    switch (type) {
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
        return rdata_name(rd, len, &at) && at == len;
    case DNS_TYPE_MX:
        at = 2;
        return len >= 2 && rdata_name(rd, len, &at) && at == len;
    case DNS_TYPE_SOA:
        return rdata_name(rd, len, &at) && rdata_name(rd, len, &at) && at + 20 == len;
    default:
        return true;
    }
}

/* A run of `count` records, every owner a name in the zone. */
static bool
run_ok(const uint8_t *run, size_t len, uint32_t count, const uint8_t *origin)
{
    size_t pos = 0;
    uint32_t n = 0;
    while (pos < len) {
        size_t olen = run[pos];
        if (olen == 0 || len - pos < 1 + olen + 8)
            return false;
        const uint8_t *owner = run + pos + 1;
        if (dname_wire_length(owner, olen) != (int)olen || !dname_is_subdomain(owner, origin))
            return false;
        const uint8_t *f = owner + olen;
        uint16_t type = dnswire_get16(f), rdlen = dnswire_get16(f + 6);
        if (len - pos - 1 - olen - 8 < rdlen || !rdata_ok(type, f + 8, rdlen))
            return false;
        pos += 1 + olen + 8 + rdlen;
        n++;
    }
    return n == count;
}

static bool
soa_ok(const struct zone_rrset *soa, uint32_t serial)
{
    uint16_t len = dnswire_get16(soa->rdata);
    const uint8_t *rd = soa->rdata + 2;
    return rdata_ok(DNS_TYPE_SOA, rd, len) && dnswire_get32(rd + len - 20) == serial;
}

static bool
take_run(struct cursor *c, uint8_t **run, size_t *len, uint32_t *count, const uint8_t *origin)
{
    uint32_t n;
    const uint8_t *p;
    if (!take32(c, count) || !take32(c, &n) || !take(c, n, &p) || !run_ok(p, n, *count, origin))
        return false;
    *run = xmalloc(n ? n : 1);
    memcpy(*run, p, n);
    *len = n;
    return true;
}

/* One record's payload as a difference, or NULL. */
static struct xfr_diff *
parse_payload(struct cursor *c, const uint8_t *origin, uint8_t fp[XFR_FINGERPRINT_LEN])
{
    struct xfr_diff *d = xcalloc(1, sizeof(*d)), *ret = NULL;
    const uint8_t *p, *old_rd, *new_rd;
    uint32_t hi, lo, old_ttl, new_ttl;
    uint16_t old_len, new_len;
    atomic_init(&d->refs, 1);
    if (!take32(c, &d->from_serial) || !take32(c, &d->to_serial) ||
        !take(c, XFR_FINGERPRINT_LEN, &p) || !take32(c, &hi) || !take32(c, &lo) ||
        !take32(c, &old_ttl) || !take16(c, &old_len) || !take(c, old_len, &old_rd) ||
        !take32(c, &new_ttl) || !take16(c, &new_len) || !take(c, new_len, &new_rd))
        goto out;
    memcpy(fp, p, XFR_FINGERPRINT_LEN);
    d->bytes = (size_t)(((uint64_t)hi << 32) | lo);
    d->soa_rdata = xmalloc(4u + old_len + new_len);
    dnswire_put16(d->soa_rdata, old_len);
    memcpy(d->soa_rdata + 2, old_rd, old_len);
    dnswire_put16(d->soa_rdata + 2 + old_len, new_len);
    memcpy(d->soa_rdata + 4 + old_len, new_rd, new_len);
    d->old_soa = (struct zone_rrset){
        .type = DNS_TYPE_SOA, .count = 1, .ttl = old_ttl, .rdata = d->soa_rdata};
    d->new_soa = (struct zone_rrset){
        .type = DNS_TYPE_SOA, .count = 1, .ttl = new_ttl, .rdata = d->soa_rdata + 2 + old_len};
    if (!soa_ok(&d->old_soa, d->from_serial) || !soa_ok(&d->new_soa, d->to_serial) ||
        !dnswire_serial_before(d->from_serial, d->to_serial) || d->bytes > XFR_HISTORY_BYTES)
        goto out;
    if (!take_run(c, &d->removed, &d->removed_len, &d->removed_count, origin) ||
        !take_run(c, &d->added, &d->added_len, &d->added_count, origin) || c->pos != c->len)
        goto out;
    ret = d;
    d = NULL;
out:
    xfr_diff_unref(d);
    return ret;
}

/* The whole file into memory (it is bounded: FILE_MAX). 0, 1 (no file) or -1. */
static int
slurp(const char *path, uint8_t **data, size_t *len, char err[XFR_JOURNAL_ERR_MAX])
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%.300s: %.150s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((size_t)st.st_size > FILE_MAX) {
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%s: %lld bytes: too long for a journal", path,
                 (long long)st.st_size);
        close(fd);
        return -1;
    }
    *len = (size_t)st.st_size;
    *data = xmalloc(*len ? *len : 1);
    size_t got = 0;
    while (got < *len) {
        ssize_t n = read(fd, *data + got, *len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != *len) {
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%s: read %zu of %zu bytes", path, got, *len);
        free(*data);
        return -1;
    }
    return 0;
}

static bool
header_ok(struct cursor *c, const uint8_t *origin, const char **why)
{
    const uint8_t *magic, *name, *check;
    uint16_t version;
    const uint8_t *olen;
    uint8_t want[SUM_LEN];
    if (!take(c, MAGIC_LEN, &magic) || memcmp(magic, MAGIC, MAGIC_LEN) != 0) {
        *why = "not a meridiand journal";
        return false;
    }
    if (!take16(c, &version) || version != VERSION) {
        *why = "unknown journal version";
        return false;
    }
    if (!take(c, 1, &olen) || !take(c, olen[0], &name) ||
        dname_wire_length(name, olen[0]) != (int)olen[0]) {
        *why = "bad header";
        return false;
    }
    size_t end = c->pos;
    if (!take(c, SUM_LEN, &check)) {
        *why = "bad header";
        return false;
    }
    sum(c->p, end, want);
    if (memcmp(check, want, SUM_LEN) != 0) {
        *why = "header checksum mismatch";
        return false;
    }
    if (!dname_equal(name, origin)) {
        *why = "written for another zone";
        return false;
    }
    return true;
}

static void
journal_add(struct xfr_journal *j, struct xfr_diff *d, size_t bytes)
{
    j->diffs = xrealloc(j->diffs, (j->count + 1) * sizeof(*j->diffs));
    j->record_bytes = xrealloc(j->record_bytes, (j->count + 1) * sizeof(*j->record_bytes));
    j->diffs[j->count] = d;
    j->record_bytes[j->count] = bytes;
    j->count++;
}

/* Every record after the header into j; false with why and the record's offset. */
static bool
read_records(struct cursor *c, const uint8_t *origin, struct xfr_journal *j, const char **why,
             size_t *at)
{
    while (c->pos < c->len) {
        uint32_t n;
        const uint8_t *payload, *check;
        uint8_t want[SUM_LEN];
        *at = c->pos;
        if (!take32(c, &n) || !take(c, n, &payload) || !take(c, SUM_LEN, &check)) {
            *why = "record cut short";
            return false;
        }
        sum(c->p + *at, 4u + n, want);
        if (memcmp(check, want, SUM_LEN) != 0) {
            *why = "record checksum mismatch";
            return false;
        }
        struct cursor pc = {.p = payload, .len = n};
        struct xfr_diff *d = parse_payload(&pc, origin, j->fingerprint);
        if (!d) {
            *why = "record does not parse";
            return false;
        }
        if (j->count && j->diffs[j->count - 1]->to_serial != d->from_serial) {
            xfr_diff_unref(d);
            *why = "serials do not chain";
            return false;
        }
        journal_add(j, d, c->pos - *at);
    }
    return true;
}

int
xfr_journal_read(const char *path, const uint8_t *origin, struct xfr_journal *out,
                 char err[XFR_JOURNAL_ERR_MAX])
{
    uint8_t *data = NULL;
    size_t len = 0, at = SIZE_MAX;
    memset(out, 0, sizeof(*out));
    int rc = slurp(path, &data, &len, err);
    if (rc != 0)
        return rc;
    struct cursor c = {.p = data, .len = len};
    const char *why = NULL;
    rc = -1;
    if (!header_ok(&c, origin, &why))
        goto out;
    out->header_bytes = c.pos;
    if (!read_records(&c, origin, out, &why, &at))
        goto out;
    if (out->count == 0) {
        why = "no records";
        goto out;
    }
    out->file_bytes = len;
    rc = 0;
out:
    if (rc < 0 && at != SIZE_MAX)
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%s: %s at byte %zu", path, why, at);
    else if (rc < 0)
        snprintf(err, XFR_JOURNAL_ERR_MAX, "%s: %s", path, why);
    free(data);
    if (rc < 0)
        xfr_journal_fini(out);
    return rc;
}

void
xfr_journal_fini(struct xfr_journal *j)
{
    for (uint32_t i = 0; i < j->count; i++)
        xfr_diff_unref(j->diffs[i]);
    free(j->diffs);
    free(j->record_bytes);
    memset(j, 0, sizeof(*j));
}
