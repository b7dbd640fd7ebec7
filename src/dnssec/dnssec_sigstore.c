// SPDX-License-Identifier: MIT
/* The signature store (dnssec_sigstore.h). File layout, integers in network order:
 *
 *   "MERIDIAN SIGNATURES\n", u16 version (1), the origin (wire), u32 serial, u32 count,
 *   count times: owner (wire), u16 type, u32 TTL, u16 records, u32 length, RDATA (each
 *                record a u16 length and its bytes, as zone_rrset.rdata), u16 signatures,
 *                u32 length, RRSIG RDATA (the same framing),
 *   the SHA-256 of every byte before it.
 *
 * A reader trusts nothing before the checksum and the framing inside agree: every length is
 * checked against what is left, every RRSIG record holds at least its fixed fields. */
#include "dnssec/dnssec_sigstore.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/dname.h"
#include "common/dnswire.h"
#include "dnssec/dnssec_internal.h"
#include "dnssec/dnssec_zone.h"

#define MAGIC "MERIDIAN SIGNATURES\n"
#define MAGIC_LEN (sizeof(MAGIC) - 1)
#define VERSION 1
#define SUM_LEN 32
/* RFC 4034 §3.1: type covered, algorithm, labels, original TTL, expiration, inception, key
 * tag; the signer's name and the signature follow. can_reuse reads up to the key tag. */
#define RRSIG_FIXED 18

struct entry {
    const uint8_t *owner;
    uint64_t hash;
    struct zone_rrset set; /* set.rrsig points at sig */
    struct zone_rrset sig;
};

struct dnssec_sigstore {
    const uint8_t *file; /* the file, mapped: the entries point into it */
    size_t file_len;
    uint32_t serial;
    uint32_t count;
    struct entry *entries;
    uint32_t *slots; /* open addressing: entry index + 1, 0 free */
    uint32_t mask;
};

/* --- writing -------------------------------------------------------------------------------- */

/* The file is streamed through stdio and the digest: a zone of a million records makes a
 * store of hundreds of megabytes, which must not double the server's peak memory. */
struct out {
    FILE *f;
    EVP_MD_CTX *md;
    bool ok;
};

static void
out_bytes(struct out *o, const void *p, size_t n)
{
    if (n && o->ok)
        o->ok = fwrite(p, 1, n, o->f) == n && EVP_DigestUpdate(o->md, p, n) == 1;
}

static void
out_u16(struct out *o, uint16_t v)
{
    uint8_t b[2];
    dnswire_put16(b, v);
    out_bytes(o, b, sizeof(b));
}

static void
out_u32(struct out *o, uint32_t v)
{
    uint8_t b[4];
    dnswire_put32(b, v);
    out_bytes(o, b, sizeof(b));
}

static void
out_name(struct out *o, const uint8_t *name)
{
    out_bytes(o, name, (size_t)dname_wire_length(name, DNAME_MAX_LEN));
}

/* One entry (see the layout above); NULL o only counts it. Unsigned RRsets (delegation NS,
 * glue) are not entries. */
static void
out_rrset(struct out *o, const uint8_t *owner, const struct zone_rrset *set, uint32_t *count)
{
    if (!set->rrsig)
        return;
    (*count)++;
    if (!o)
        return;
    size_t bytes = zone_rrset_rdata_len(set), sig_bytes = zone_rrset_rdata_len(set->rrsig);
    out_name(o, owner);
    out_u16(o, set->type);
    out_u32(o, set->ttl);
    out_u16(o, set->count);
    out_u32(o, (uint32_t)bytes);
    out_bytes(o, set->rdata, bytes);
    out_u16(o, set->rrsig->count);
    out_u32(o, (uint32_t)sig_bytes);
    out_bytes(o, set->rrsig->rdata, sig_bytes);
}

/* Every entry of the store, in order: what dnssec_zone.c signs (the nodes' authoritative
 * RRsets, the steered names' NSEC3 records without a type, the NSEC3 chain), then the
 * caller's. Returns how many. */
static uint32_t
out_entries(struct out *o, const struct zone *zone, const struct dnssec_sigstore_rrset *more,
            size_t more_count)
{
    const struct dnssec_zone *dz = zone->dnssec;
    uint32_t count = 0;
    for (uint32_t i = 0; i < zone->node_count; i++)
        for (uint16_t r = 0; r < zone->nodes[i].rrset_count; r++)
            out_rrset(o, zone->nodes[i].name, &zone->nodes[i].rrsets[r], &count);
    for (uint32_t d = 0; dz && d < dz->denial_count; d++)
        out_rrset(o, dz->denials[d].entry.owner, &dz->denials[d].entry.rrset, &count);
    for (uint32_t e = 0; dz && e < dz->chain.count; e++)
        out_rrset(o, dz->chain.entries[e].owner, &dz->chain.entries[e].rrset, &count);
    for (size_t m = 0; m < more_count; m++)
        out_rrset(o, more[m].owner, more[m].set, &count);
    return count;
}

static void
store_path(const char *dir, const uint8_t *origin, char out[PATH_MAX])
{
    char base[DNSSEC_KEY_NAME_MAX];
    dnssec_zone_file_base(origin, base);
    snprintf(out, PATH_MAX, "%s/%ssignatures", dir, base);
}

int
dnssec_sigstore_save(const char *dir, const struct zone *zone,
                     const struct dnssec_sigstore_rrset *more, size_t more_count,
                     char err[DNSSEC_ERR_MAX])
{
    char path[PATH_MAX], tmp[PATH_MAX + 16];
    uint8_t sum[SUM_LEN];
    struct out o = {.ok = true};
    int ret = -1;

    store_path(dir, zone->origin, path);
    snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp); /* O_EXCL, mode 0600 */
    if (fd < 0) {
        dnssec_errorf(err, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    o.f = fdopen(fd, "w");
    o.md = EVP_MD_CTX_new();
    if (!o.f || !o.md || EVP_DigestInit_ex(o.md, EVP_sha256(), NULL) != 1) {
        dnssec_crypto_errorf(err, "%s: cannot start writing", tmp);
        if (!o.f)
            close(fd);
        goto out;
    }
    setvbuf(o.f, NULL, _IOFBF, 1 << 20);
    out_bytes(&o, MAGIC, MAGIC_LEN);
    out_u16(&o, VERSION);
    out_name(&o, zone->origin);
    out_u32(&o, zone->serial);
    out_u32(&o, out_entries(NULL, zone, more, more_count));
    out_entries(&o, zone, more, more_count);
    /* The digest follows the bytes it covers and is not part of them. */
    o.ok = o.ok && EVP_DigestFinal_ex(o.md, sum, NULL) == 1 &&
           fwrite(sum, 1, SUM_LEN, o.f) == SUM_LEN && fflush(o.f) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (fclose(o.f) != 0 && o.ok) {
        o.ok = false;
        saved = errno;
    }
    o.f = NULL;
    if (!o.ok) {
        dnssec_errorf(err, "%s: cannot write: %s", tmp, strerror(saved));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        dnssec_errorf(err, "%s: %s", path, strerror(errno));
        goto out;
    }
    ret = 0;
out:
    if (o.f)
        fclose(o.f);
    EVP_MD_CTX_free(o.md);
    if (ret < 0)
        unlink(tmp);
    return ret;
}

/* --- reading -------------------------------------------------------------------------------- */

/* FNV-1a over the parts two equal RRsets share. Not a defence against anything: the file is
 * the server's own, and every hit is compared byte for byte. */
static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t
rrset_hash(const uint8_t *owner, size_t owner_len, const struct zone_rrset *set, size_t bytes)
{
    uint8_t head[6];
    dnswire_put16(head, set->type);
    dnswire_put32(head + 2, set->ttl);
    uint64_t h = fnv(0xcbf29ce484222325ull, owner, owner_len);
    return fnv(fnv(h, head, sizeof(head)), set->rdata, bytes);
}

/* Checks that bytes [p, p + len) hold exactly `count` records framed by 16-bit lengths,
 * each at least `min` long. */
static bool
framed(const uint8_t *p, size_t len, uint16_t count, size_t min)
{
    size_t pos = 0;
    for (uint16_t i = 0; i < count; i++) {
        if (len - pos < 2)
            return false;
        size_t n = dnswire_get16(p + pos);
        if (n < min || len - pos - 2 < n)
            return false;
        pos += 2 + n;
    }
    return pos == len;
}

struct reader {
    const uint8_t *p;
    size_t left;
};

static const uint8_t *
take(struct reader *r, size_t n)
{
    if (r->left < n)
        return NULL;
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static const uint8_t *
take_name(struct reader *r, size_t *len)
{
    int n = dname_wire_length(r->p, r->left);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return take(r, (size_t)n);
}

/* One entry of the file into e; false if it is malformed. */
static bool
read_entry(struct reader *r, struct entry *e)
{
    size_t owner_len;
    const uint8_t *h, *rd, *s;
    if (!(e->owner = take_name(r, &owner_len)) || !(h = take(r, 12)))
        return false;
    e->set = (struct zone_rrset){.type = dnswire_get16(h),
                                 .ttl = dnswire_get32(h + 2),
                                 .count = dnswire_get16(h + 6)};
    size_t bytes = dnswire_get32(h + 8);
    if (!(rd = take(r, bytes)) || !framed(rd, bytes, e->set.count, 0) || !(s = take(r, 6)))
        return false;
    e->sig = (struct zone_rrset){
        .type = DNS_TYPE_RRSIG, .ttl = e->set.ttl, .count = dnswire_get16(s)};
    size_t sig_bytes = dnswire_get32(s + 2);
    const uint8_t *sd = take(r, sig_bytes);
    if (!sd || e->sig.count == 0 || !framed(sd, sig_bytes, e->sig.count, RRSIG_FIXED))
        return false;
    e->set.rdata = rd;
    e->sig.rdata = sd;
    e->hash = rrset_hash(e->owner, owner_len, &e->set, bytes);
    return true;
}

static void
index_entries(struct dnssec_sigstore *st)
{
    uint32_t size = 16;
    while (size < 2 * (uint64_t)st->count)
        size *= 2;
    st->mask = size - 1;
    st->slots = xcalloc(size, sizeof(*st->slots));
    for (uint32_t i = 0; i < st->count; i++) {
        struct entry *e = &st->entries[i];
        e->set.rrsig = &e->sig;
        uint32_t at = (uint32_t)e->hash & st->mask;
        while (st->slots[at])
            at = (at + 1) & st->mask;
        st->slots[at] = i + 1;
    }
}

/* The file mapped read-only (the entries point into it): no copy, and no page faults one by
 * one for a store of hundreds of megabytes. */
static uint8_t *
map_file(const char *path, size_t *len, char err[DNSSEC_ERR_MAX])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    uint8_t *data = NULL;
    if (fd < 0) {
        dnssec_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &sb) != 0) {
        dnssec_errorf(err, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (sb.st_size <= 0) {
        dnssec_errorf(err, "%s: empty", path);
        goto out;
    }
    *len = (size_t)sb.st_size;
    void *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED)
        dnssec_errorf(err, "%s: cannot map: %s", path, strerror(errno));
    else
        data = p;
out:
    close(fd);
    return data;
}

/* Parses the file's bytes into st; NULL, or what is wrong with them. */
static const char *
parse(struct dnssec_sigstore *st, size_t len, const uint8_t *origin)
{
    uint8_t sum[SUM_LEN];
    if (len < MAGIC_LEN + 2 + SUM_LEN || memcmp(st->file, MAGIC, MAGIC_LEN) != 0)
        return "not a signature store";
    if (dnswire_get16(st->file + MAGIC_LEN) != VERSION)
        return "a format this version does not read";
    if (EVP_Digest(st->file, len - SUM_LEN, sum, NULL, EVP_sha256(), NULL) != 1 ||
        memcmp(sum, st->file + len - SUM_LEN, SUM_LEN) != 0)
        return "checksum mismatch (damaged or cut short)";
    struct reader r = {.p = st->file + MAGIC_LEN + 2, .left = len - MAGIC_LEN - 2 - SUM_LEN};
    size_t origin_len;
    const uint8_t *o = take_name(&r, &origin_len), *h;
    if (!o || !(h = take(&r, 8)))
        return "truncated header";
    if (!dname_equal(o, origin))
        return "written for another zone";
    st->serial = dnswire_get32(h);
    uint32_t count = dnswire_get32(h + 4);
    /* Each entry takes at least 1 + 12 + 6 + 2 + RRSIG_FIXED bytes: a count the file cannot
     * hold is refused before anything is allocated for it. */
    if (count > r.left / (21 + RRSIG_FIXED))
        return "bad entry count";
    st->entries = xcalloc(count ? count : 1, sizeof(*st->entries));
    for (; st->count < count; st->count++)
        if (!read_entry(&r, &st->entries[st->count]))
            return "malformed entry";
    if (r.left != 0)
        return "trailing bytes";
    index_entries(st);
    return NULL;
}

int
dnssec_sigstore_load(const char *dir, const uint8_t *origin, struct dnssec_sigstore **out,
                     char err[DNSSEC_ERR_MAX])
{
    char path[PATH_MAX];
    struct stat sb;
    size_t len;
    *out = NULL;
    store_path(dir, origin, path);
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return 0;
    struct dnssec_sigstore *st = xcalloc(1, sizeof(*st));
    if (!(st->file = map_file(path, &len, err))) {
        dnssec_sigstore_free(st);
        return -1;
    }
    st->file_len = len;
    const char *why = parse(st, len, origin);
    if (why) {
        dnssec_errorf(err, "%s: %s", path, why);
        dnssec_sigstore_free(st);
        return -1;
    }
    *out = st;
    return 0;
}

int
dnssec_sigstore_remove(const char *dir, const uint8_t *origin, char err[DNSSEC_ERR_MAX])
{
    char path[PATH_MAX];
    store_path(dir, origin, path);
    if (unlink(path) != 0 && errno != ENOENT) {
        dnssec_errorf(err, "%s: cannot remove: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

uint32_t
dnssec_sigstore_serial(const struct dnssec_sigstore *st)
{
    return st->serial;
}

uint32_t
dnssec_sigstore_count(const struct dnssec_sigstore *st)
{
    return st->count;
}

const struct zone_rrset *
dnssec_sigstore_find(const struct dnssec_sigstore *st, const uint8_t *owner,
                     const struct zone_rrset *set)
{
    size_t owner_len = (size_t)dname_wire_length(owner, DNAME_MAX_LEN);
    size_t bytes = zone_rrset_rdata_len(set);
    uint64_t hash = rrset_hash(owner, owner_len, set, bytes);
    for (uint32_t at = (uint32_t)hash & st->mask; st->slots[at]; at = (at + 1) & st->mask) {
        const struct entry *e = &st->entries[st->slots[at] - 1];
        if (e->hash == hash && e->set.type == set->type && e->set.ttl == set->ttl &&
            e->set.count == set->count && zone_rrset_rdata_len(&e->set) == bytes &&
            memcmp(e->set.rdata, set->rdata, bytes) == 0 && dname_equal(e->owner, owner))
            return &e->set;
    }
    return NULL;
}

void
dnssec_sigstore_free(struct dnssec_sigstore *st)
{
    if (!st)
        return;
    free(st->slots);
    free(st->entries);
    if (st->file)
        munmap((void *)(uintptr_t)st->file, st->file_len);
    free(st);
}
