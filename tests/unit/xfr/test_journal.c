// SPDX-License-Identifier: MIT
/* The IXFR journal file (xfr_journal.h) and the zone fingerprint: a history written, read
 * back byte for byte and served the same (the IXFR from the oldest serial); appending;
 * adopting a history read back, trimmed by count and to the zone's size (RFC 1995 §5);
 * every kind of damage (each byte flipped, every truncation, another zone's file, records
 * that do not chain) refused as a whole; fingerprints equal for the same data in another
 * order and different for a changed TTL or record, and moved by differences to the same
 * sums as a pass over the later version. Single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dname.h"
#include "common/dnswire.h"
#include "test_tmpdir.h"
#include "xfr/xfr_journal.h"
#include "xfr_test.h"

static char tmpl[] = "/tmp/meridian-journal-XXXXXX";

/* Version `serial` of j.test: www's address and the CNAME v<serial> change; 60 padding
 * names keep the differences well below the zone's size (RFC 1995 §5). */
static char *
version_text(unsigned serial, unsigned www_ttl, const char *extra)
{
    static char text[8192];
    int n = snprintf(text, sizeof(text),
                     "$ORIGIN j.test.\n$TTL 300\n@ SOA ns1 host %u 7200 3600 1209600 300\n"
                     "@ NS ns1\nns1 A 192.0.2.1\nmail MX 10 ns1\nwww %u A 192.0.2.%u\n"
                     "t1 TXT \"one\"\nt2 TXT \"two\"\nt3 TXT \"three\"\n%s",
                     serial, www_ttl, serial, extra);
    for (int i = 0; i < 60; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "pad%d A 198.51.100.%d\n", i, i + 1);
    return text;
}

/* Versions 1..n of j.test, each following the one before: the last's history. */
struct chain {
    struct zone *zones[8];
    struct xfr_zone *views[8];
    unsigned n;
};

static void
chain_make(struct chain *c, unsigned n)
{
    char extra[64];
    memset(c, 0, sizeof(*c));
    for (unsigned i = 0; i < n; i++) {
        snprintf(extra, sizeof(extra), "v%u CNAME www\n", i + 1);
        c->zones[i] = xt_zone("j.test", version_text(i + 1, 300, extra));
        c->views[i] = xt_xfr(c->zones[i], i ? c->views[i - 1] : NULL);
    }
    c->n = n;
}

static struct xfr_zone *
chain_last(const struct chain *c)
{
    return c->views[c->n - 1];
}

static void
chain_free(struct chain *c)
{
    for (unsigned i = 0; i < c->n; i++) {
        xfr_zone_free(c->views[i]);
        zone_free(c->zones[i]);
    }
}

static const char *
path_of(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", test_tmpdir_template, name);
    return path;
}

static void
write_history(const char *path, const struct xfr_zone *xz)
{
    uint8_t fp[XFR_FINGERPRINT_LEN];
    size_t bytes[XFR_HISTORY_VERSIONS], file_bytes = 0;
    char err[XFR_JOURNAL_ERR_MAX];
    xfr_zone_fingerprint(xz, fp);
    assert_int_equal(xfr_journal_write(path, xz->zone->origin, xz->history.diffs, xz->history.count,
                                       fp, bytes, &file_bytes, err),
                     0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((size_t)st.st_size, file_bytes);
    assert_int_equal(st.st_mode & 0777, 0640 & ~0022); /* 0640 under the usual umask */
}

static void
expect_same_diff(const struct xfr_diff *a, const struct xfr_diff *b)
{
    assert_int_equal(a->from_serial, b->from_serial);
    assert_int_equal(a->to_serial, b->to_serial);
    assert_int_equal(a->bytes, b->bytes);
    assert_int_equal(a->removed_count, b->removed_count);
    assert_int_equal(a->added_count, b->added_count);
    assert_int_equal(a->removed_len, b->removed_len);
    assert_int_equal(a->added_len, b->added_len);
    assert_memory_equal(a->removed, b->removed, a->removed_len);
    assert_memory_equal(a->added, b->added, a->added_len);
    assert_int_equal(a->old_soa.ttl, b->old_soa.ttl);
    assert_memory_equal(a->old_soa.rdata, b->old_soa.rdata, 2u + dnswire_get16(a->old_soa.rdata));
    assert_memory_equal(a->new_soa.rdata, b->new_soa.rdata, 2u + dnswire_get16(a->new_soa.rdata));
}

/* The IXFR from serial `from` as records, over xz's history. */
static void
ixfr(const struct xfr_zone *xz, uint32_t from, struct xt_transfer *out)
{
    struct xfr_zone *zones[] = {(struct xfr_zone *)xz};
    struct zone **zs = malloc(sizeof(*zs));
    zs[0] = (struct zone *)xz->zone;
    struct zone_set *set = zone_set_new(zs, 1);
    struct xfr_view view = {.zones = set, .xzones = zones, .udp_max_size = 1232};
    uint8_t q[512], m[65535];
    struct xfr_request req;
    struct xfr_stream s;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct xfr_client c = {.addr = (struct sockaddr *)&sin, .tcp = true};
    size_t qlen = xt_request(q, DNS_TYPE_IXFR, "j.test", true, from, false);
    assert_true(xfr_request_parse(q, qlen, &req));
    size_t n = xfr_begin(&view, &req, &c, m, sizeof(m), &s);
    assert_true(n > 0);
    memset(out, 0, sizeof(*out));
    xt_collect(&s, m, n, out);
    /* The set does not own the zone here: freed by hand, not by zone_set_free. */
    free(set->zones);
    free(set->slots);
    free(set);
}

static void
test_roundtrip(void **state)
{
    (void)state;
    struct chain c;
    chain_make(&c, 4);
    struct xfr_zone *last = chain_last(&c);
    assert_int_equal(last->history.count, 3);
    const char *path = path_of("rt.jnl");
    write_history(path, last);

    struct xfr_journal j;
    char err[XFR_JOURNAL_ERR_MAX];
    int rc = xfr_journal_read(path, last->zone->origin, &j, err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(j.count, 3);
    for (uint32_t i = 0; i < 3; i++)
        expect_same_diff(j.diffs[i], last->history.diffs[i]);
    uint8_t fp[XFR_FINGERPRINT_LEN];
    xfr_zone_fingerprint(last, fp);
    assert_memory_equal(j.fingerprint, fp, sizeof(fp));

    /* A restart: the same version loaded again, its history adopted from the file, serves
     * the same IXFR from serial 1 as the running server did. */
    struct zone *again = xt_zone("j.test", version_text(4, 300, "v4 CNAME www\n"));
    struct xfr_zone *fresh = xt_xfr(again, NULL);
    assert_int_equal(fresh->history.count, 0);
    assert_int_equal(
        xfr_zone_adopt(fresh, j.diffs, j.count, XFR_HISTORY_VERSIONS, XFR_HISTORY_BYTES), 3);
    xfr_zone_fingerprint(fresh, fp);
    assert_memory_equal(j.fingerprint, fp, sizeof(fp));
    struct xt_transfer before, after;
    ixfr(last, 1, &before);
    ixfr(fresh, 1, &after);
    assert_int_equal(before.records.count, after.records.count);
    assert_true(before.records.count > 4 * 2); /* SOAs and the differences, not one SOA */
    for (size_t i = 0; i < before.records.count; i++)
        assert_string_equal(before.records.items[i], after.records.items[i]);
    xt_list_free(&before.records);
    xt_list_free(&after.records);
    /* Not this version: nothing adopted. */
    struct xfr_zone *other = xt_xfr(c.zones[2], NULL);
    assert_int_equal(xfr_zone_adopt(other, j.diffs, j.count, 32, XFR_HISTORY_BYTES), 0);
    assert_int_equal(other->history.count, 0);
    xfr_zone_free(other);
    xfr_journal_fini(&j);
    xfr_zone_free(fresh);
    zone_free(again);
    chain_free(&c);
}

static void
test_append_and_trim(void **state)
{
    (void)state;
    struct chain c;
    chain_make(&c, 5);
    const char *path = path_of("append.jnl");
    /* Version 3's history (1>2 2>3) written, then 3>4 and 4>5 appended. */
    write_history(path, c.views[2]);
    struct xfr_journal j;
    char err[XFR_JOURNAL_ERR_MAX];
    assert_int_equal(xfr_journal_read(path, c.zones[0]->origin, &j, err), 0);
    struct xfr_zone *last = chain_last(&c);
    uint8_t fp[XFR_FINGERPRINT_LEN];
    size_t bytes[2], file_bytes = 0;
    xfr_zone_fingerprint(last, fp);
    /* The wrong length (someone changed the file): refused, file untouched. */
    assert_int_equal(xfr_journal_append(path, j.file_bytes + 1, last->history.diffs + 2, 2, fp,
                                        bytes, &file_bytes, err),
                     -1);
    assert_non_null(strstr(err, "changed"));
    assert_int_equal(xfr_journal_append(path, j.file_bytes, last->history.diffs + 2, 2, fp, bytes,
                                        &file_bytes, err),
                     0);
    assert_int_equal(file_bytes, j.file_bytes + bytes[0] + bytes[1]);
    xfr_journal_fini(&j);
    assert_int_equal(xfr_journal_read(path, c.zones[0]->origin, &j, err), 0);
    assert_int_equal(j.count, 4);
    for (uint32_t i = 0; i < 4; i++)
        expect_same_diff(j.diffs[i], last->history.diffs[i]);
    assert_memory_equal(j.fingerprint, fp, sizeof(fp));

    /* Trimmed to the newest two versions, as the history would be. */
    struct zone *z5 = xt_zone("j.test", version_text(5, 300, "v5 CNAME www\n"));
    struct xfr_zone *fresh = xt_xfr(z5, NULL);
    assert_int_equal(xfr_zone_adopt(fresh, j.diffs, j.count, 2, XFR_HISTORY_BYTES), 2);
    assert_int_equal(fresh->history.diffs[0]->from_serial, 3);
    assert_int_equal(fresh->history.bytes, j.diffs[2]->bytes + j.diffs[3]->bytes);
    /* RFC 1995 §5: never more bytes than the zone: a byte bound below the newest keeps none. */
    assert_int_equal(xfr_zone_adopt(fresh, j.diffs, j.count, 32, j.diffs[3]->bytes - 1), 0);
    xfr_zone_free(fresh);
    zone_free(z5);
    xfr_journal_fini(&j);
    chain_free(&c);
}

static uint8_t *
read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *data = malloc(*len);
    assert_int_equal(fread(data, 1, *len, f), *len);
    fclose(f);
    return data;
}

static void
write_bytes(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void
test_damage(void **state)
{
    (void)state;
    struct chain c;
    chain_make(&c, 3);
    const struct xfr_zone *last = chain_last(&c);
    char good[512];
    snprintf(good, sizeof(good), "%s", path_of("good.jnl")); /* path_of's storage is reused */
    write_history(good, last);
    size_t len;
    uint8_t *data = read_all(good, &len);
    char bad[512], err[XFR_JOURNAL_ERR_MAX];
    snprintf(bad, sizeof(bad), "%s", path_of("bad.jnl"));
    struct xfr_journal j;
    /* Every byte flipped, one at a time: refused, and the message names the file. */
    for (size_t i = 0; i < len; i++) {
        data[i] ^= 0x20;
        write_bytes(bad, data, len);
        data[i] ^= 0x20;
        int rc = xfr_journal_read(bad, last->zone->origin, &j, err);
        if (rc != -1)
            fail_msg("byte %zu flipped: read gave %d", i, rc);
        assert_non_null(strstr(err, bad));
        assert_int_equal(j.count, 0);
    }
    /* Every truncation (a crash in the middle of an append): refused, but for a cut
     * between records, which leaves the journal of the older records (ending at an older
     * serial, which the server then finds is not the zone's). */
    struct xfr_journal whole;
    assert_int_equal(xfr_journal_read(good, last->zone->origin, &whole, err), 0);
    assert_int_equal(whole.count, 2);
    size_t boundary = whole.header_bytes + whole.record_bytes[0];
    for (size_t n = 0; n < len; n++) {
        write_bytes(bad, data, n);
        int rc = xfr_journal_read(bad, last->zone->origin, &j, err);
        if (n == boundary) {
            assert_int_equal(rc, 0);
            assert_int_equal(j.count, 1);
            assert_int_equal(j.diffs[0]->to_serial, 2);
            xfr_journal_fini(&j);
        } else if (rc != -1) {
            fail_msg("cut to %zu of %zu bytes: accepted", n, len);
        }
    }
    xfr_journal_fini(&whole);
    /* Another zone's journal. */
    uint8_t other[DNAME_MAX_LEN];
    assert_true(dname_from_text("k.test", other) > 0);
    assert_int_equal(xfr_journal_read(good, other, &j, err), -1);
    assert_non_null(strstr(err, "another zone"));
    /* No file: 1, nothing said. */
    assert_int_equal(xfr_journal_read(path_of("none.jnl"), other, &j, err), 1);
    /* Records that do not chain: 1>2 then 1>2 again (each valid, checksums right). */
    uint8_t fp[XFR_FINGERPRINT_LEN] = {0};
    size_t bytes[2], fb;
    struct xfr_diff *twice[] = {last->history.diffs[0], last->history.diffs[0]};
    assert_int_equal(xfr_journal_write(bad, last->zone->origin, twice, 2, fp, bytes, &fb, err), 0);
    assert_int_equal(xfr_journal_read(bad, last->zone->origin, &j, err), -1);
    assert_non_null(strstr(err, "chain"));
    /* The good one still reads. */
    assert_int_equal(xfr_journal_read(good, last->zone->origin, &j, err), 0);
    xfr_journal_fini(&j);
    free(data);
    chain_free(&c);
}

static void
test_fingerprint(void **state)
{
    (void)state;
    /* The same records in another order: the same fingerprint. */
    static const char a[] = "$ORIGIN f.test.\n$TTL 300\n@ SOA ns1 host 1 7200 3600 1209600 300\n"
                            "@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\nwww A 192.0.2.3\n"
                            "zzz TXT \"z\"\n";
    static const char b[] = "$ORIGIN f.test.\n$TTL 300\n@ SOA ns1 host 1 7200 3600 1209600 300\n"
                            "zzz TXT \"z\"\nwww A 192.0.2.3\nns1 A 192.0.2.1\nwww A 192.0.2.2\n"
                            "@ NS ns1\n";
    static const char ttl[] =
        "$ORIGIN f.test.\n$TTL 300\n@ SOA ns1 host 1 7200 3600 1209600 300\n"
        "@ NS ns1\nns1 A 192.0.2.1\nwww 301 A 192.0.2.2\nwww 301 A 192.0.2.3\n"
        "zzz TXT \"z\"\n";
    static const char rec[] = "$ORIGIN f.test.\n$TTL 300\n@ SOA ns1 host 1 7200 3600 1209600 300\n"
                              "@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\nwww A 192.0.2.4\n"
                              "zzz TXT \"z\"\n";
    const char *texts[] = {a, b, ttl, rec};
    uint8_t fp[4][XFR_FINGERPRINT_LEN];
    for (int i = 0; i < 4; i++) {
        struct zone *z = xt_zone("f.test", texts[i]);
        struct xfr_zone *xz = xt_xfr(z, NULL);
        xfr_zone_fingerprint(xz, fp[i]);
        xfr_zone_free(xz);
        zone_free(z);
    }
    assert_memory_equal(fp[0], fp[1], XFR_FINGERPRINT_LEN);
    assert_memory_not_equal(fp[0], fp[2], XFR_FINGERPRINT_LEN);
    assert_memory_not_equal(fp[0], fp[3], XFR_FINGERPRINT_LEN);
}

/* A version's sums moved by the differences to a later one are that version's own sums:
 * addresses replaced, a TTL changed (the whole RRset removed and added), names gone and new,
 * the SOA; so a reload may move them instead of reading the whole zone. */
static void
test_fingerprint_steps(void **state)
{
    (void)state;
    struct chain c;
    chain_make(&c, 4);
    struct zone *ttl = xt_zone("j.test", version_text(5, 600, "v4 CNAME www\nnew TXT \"n\"\n"));
    struct xfr_zone *xttl = xt_xfr(ttl, chain_last(&c));
    assert_int_equal(xttl->history.count, 4);
    struct xfr_fingerprint sums, want;
    xfr_zone_fingerprint_sum(c.views[0], &sums);
    for (uint32_t i = 0; i < xttl->history.count; i++)
        xfr_fingerprint_apply(&sums, ttl->origin, xttl->history.diffs[i]);
    xfr_zone_fingerprint_sum(xttl, &want);
    assert_memory_equal(&sums, &want, sizeof(sums));
    uint8_t a[XFR_FINGERPRINT_LEN], b[XFR_FINGERPRINT_LEN];
    xfr_fingerprint_final(&sums, a);
    xfr_zone_fingerprint(xttl, b);
    assert_memory_equal(a, b, sizeof(a));
    /* Moved from the wrong version: not the same. */
    xfr_zone_fingerprint_sum(c.views[1], &sums);
    xfr_fingerprint_apply(&sums, ttl->origin, xttl->history.diffs[3]);
    assert_memory_not_equal(&sums, &want, sizeof(sums));
    xfr_zone_free(xttl);
    zone_free(ttl);
    chain_free(&c);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_append_and_trim),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_fingerprint_steps),
    };
    test_tmpdir_template = tmpl;
    return cmocka_run_group_tests(tests, test_tmpdir_setup, test_tmpdir_teardown);
}
