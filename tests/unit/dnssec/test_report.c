// SPDX-License-Identifier: MIT
/* Unit tests for the operator texts (src/dnssec/dnssec_report.c) and for what the signer does
 * with keys and time (dnssec_zone.c): durations, the DS/DNSKEY/CDNSKEY lines of RFC 6605's
 * key (its DS is the RFC's), the status lines of a signed zone on an injected clock (the
 * earliest expiration, the ALARM exactly when less than refresh is left, the rollover line),
 * the keys' roles in the DNSKEY, CDS and RRSIG RRsets in each rollover phase, and the
 * expiration jitter that keeps new signatures from being due at once. Zones are loaded from
 * a file and signed with keys in a mkdtemp directory, removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/dnswire.h"
#include "dnssec/dnssec_internal.h"
#include "dnssec/dnssec_report.h"
#include "dnssec_test.h"
#include "test_tmpdir.h"

#define T0 1800000000 /* 2027-01-15T08:00:00Z */
#define RFC6605_PRIV "GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ="
#define RFC6605_DNSKEY                                                                             \
    "257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQ"    \
    "Lc8NAA=="

static char tmpdir[] = "/tmp/meridian-report-XXXXXX";
static char *text;
static size_t text_len;

/* An output stream whose text is `text` after done(). */
static FILE *
stream(void)
{
    free(text);
    text = NULL;
    FILE *f = open_memstream(&text, &text_len);
    assert_non_null(f);
    return f;
}

static const char *
done(FILE *f)
{
    assert_int_equal(fclose(f), 0);
    return text;
}

static void
test_duration(void **state)
{
    static const struct {
        int64_t s;
        const char *text;
    } cases[] = {
        {0, "0s"},           {42, "42s"},
        {60, "1m"},          {90, "1m 30s"},
        {3600, "1h"},        {3661, "1h 1m"},
        {86400 * 5, "5d"},   {13 * 86400 + 22 * 3600 + 59, "13d 22h"},
        {86400 + 59, "1d"},  {-7 * 60, "7m"},
        {-(3600 + 1), "1h"}, {45 * 86400, "45d"},
    };
    char buf[32];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dnssec_report_duration(cases[i].s, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].text);
    }
}

/* RFC 6605 §6.1: the key of example.net. and its DS. */
static void
test_ds_rfc6605(void **state)
{
    uint8_t priv[64], owner[DNAME_MAX_LEN];
    struct dnssec_key *key;
    char err[DNSSEC_ERR_MAX];
    (void)state;
    int n = base64_decode(RFC6605_PRIV, priv, sizeof(priv));
    assert_int_equal(n, 32);
    assert_int_equal(dnssec_key_from_private(t_name("example.net.", owner), 13, DNSSEC_FLAGS_KSK,
                                             priv, (size_t)n, &key, err),
                     0);
    struct dnssec_zone dz = {
        .cds_keys = {key}, .cds_count = 1, .origin = owner, .dnskey_ttl = 3600};
    FILE *f = stream();
    assert_int_equal(dnssec_report_ds(&dz, DNSSEC_REPORT_SHA256, f), 0);
    assert_string_equal(done(f),
                        "example.net. 3600 IN DS 55648 13 2 "
                        "B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17\n"
                        "example.net. 3600 IN DNSKEY " RFC6605_DNSKEY "\n"
                        "example.net. 3600 IN CDNSKEY " RFC6605_DNSKEY "\n");
    /* Both digests: the SHA-384 one (RFC 6605 §2) after the SHA-256 one, 48 bytes of hex. */
    f = stream();
    assert_int_equal(dnssec_report_ds(&dz, DNSSEC_REPORT_SHA256 | DNSSEC_REPORT_SHA384, f), 0);
    const char *t = done(f);
    const char *second = strchr(t, '\n') + 1;
    assert_int_equal(strncmp(second, "example.net. 3600 IN DS 55648 13 4 ", 35), 0);
    assert_int_equal(strcspn(second + 35, "\n"), 96);
    dnssec_key_free(key);
}

/* ----- zones signed in the temp directory ----- */

static int
setup(void **state)
{
    char path[512];
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(path, sizeof(path), "%s/example.com.zone", tmpdir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("$ORIGIN example.com.\n$TTL 300\n@ 600 SOA ns1 h 1 7200 3600 1209600 300\n@ NS ns1\n"
          "ns1 A 192.0.2.1\nwww 3600 A 192.0.2.80\n",
          f);
    return fclose(f);
}

static int
teardown(void **state)
{
    (void)state;
    free(text);
    return test_tmpdir_remove(tmpdir);
}

struct signed_zone {
    struct zone *zone;
    struct dnssec_zone *dz;
};

/* example.com. signed at `now` with a CSK (or KSK+ZSK), keys and state from tmpdir. */
static struct signed_zone
sign(time_t now, bool split, uint32_t validity_s, uint32_t refresh_s, const struct zone *previous)
{
    char path[512], zerr[ZONE_ERR_MAX], err[DNSSEC_ERR_MAX];
    struct signed_zone s;
    snprintf(path, sizeof(path), "%s/example.com.zone", tmpdir);
    if (zone_load("example.com", path, &s.zone, zerr) < 0)
        fail_msg("%s", zerr);
    const struct dnssec_sign_params p = {
        .key_directory = tmpdir,
        .algorithm = 13,
        .split_keys = split,
        .validity_s = validity_s,
        .refresh_s = refresh_s,
        .now = now,
        .threads = 1,
        .previous = previous,
    };
    if (dnssec_zone_sign(s.zone, &p, &s.dz, err) < 0)
        fail_msg("%s", err);
    return s;
}

static void
unsign(struct signed_zone *s)
{
    zone_free(s->zone);
    dnssec_zone_free(s->dz);
}

static const struct dnssec_roll_timing timing = {.propagation_s = 3600,
                                                 .parent_propagation_s = 3600,
                                                 .parent_ds_ttl_s = 86400,
                                                 .ttl_key = 600,
                                                 .ttl_sig = 3600};

/* "2027-...Z" of t. */
static const char *
utc(time_t t)
{
    static char buf[4][32];
    static int next;
    struct tm tm;
    char *b = buf[next++ % 4];
    gmtime_r(&t, &tm);
    strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

static void
test_status(void **state)
{
    char want[2048];
    (void)state;
    struct signed_zone s = sign(T0, false, 14 * 86400, 5 * 86400, NULL);
    const struct dnssec_zone *dz = s.dz;
    time_t earliest = dz->earliest_expiration;
    /* 14 days less at most a tenth (the jitter). */
    assert_true(earliest <= T0 + 14 * 86400 && earliest >= T0 + 14 * 86400 - 14 * 8640);
    uint16_t tag = dz->keys.keys[0]->tag;
    struct dnssec_roll none = {0};

    time_t now = earliest - (13 * 86400 + 22 * 3600 + 300);
    FILE *f = stream();
    dnssec_report_status(s.dz, &none, &timing, now, f);
    snprintf(want, sizeof(want),
             "dnssec: example.com. signed: %u RRsets signed, 0 reused, %u signatures\n"
             "dnssec: example.com. earliest expiration: %s (in 13d 22h)\n"
             "dnssec: example.com. key %u ECDSAP256SHA256 CSK: published, signs zone, signs "
             "keys, in CDS\n",
             dz->signed_rrsets, dz->signatures, utc(earliest), tag);
    assert_string_equal(done(f), want);
    assert_true(dz->signed_rrsets >= 9); /* SOA NS DNSKEY CDS CDNSKEY NSEC3PARAM A A, NSEC3s */

    /* Exactly refresh left: due, not late. A second less: the ALARM. */
    f = stream();
    dnssec_report_status(s.dz, &none, &timing, earliest - 5 * 86400, f);
    assert_null(strstr(done(f), "ALARM"));
    f = stream();
    dnssec_report_status(s.dz, &none, &timing, earliest - 5 * 86400 + 1, f);
    snprintf(want, sizeof(want),
             "ALARM: dnssec: example.com. a signature expires %s (in 4d 23h), less than refresh "
             "(5d) away: re-signing is failing\n",
             utc(earliest));
    const char *alarm = strstr(done(f), "ALARM");
    assert_non_null(alarm);
    assert_string_equal(alarm, want);

    /* Rollover lines: the next step's time, or what it waits for. */
    struct dnssec_roll r = {.phase = DNSSEC_ROLL_PUBLISH,
                            .kind = DNSSEC_ROLL_CSK,
                            .algorithm = 13,
                            .old_tag = tag,
                            .new_tag = 7,
                            .started = T0,
                            .since = T0};
    f = stream();
    dnssec_report_status(s.dz, &r, &timing, T0 + 60, f);
    snprintf(want, sizeof(want),
             "dnssec: example.com. rollover: csk %u -> 7, phase publish since %s (1m ago); next "
             "step %s (in 1h 9m)\n",
             tag, utc(T0), utc(T0 + 3600 + 600));
    assert_non_null(strstr(done(f), want));
    r.phase = DNSSEC_ROLL_ACTIVE;
    f = stream();
    dnssec_report_status(s.dz, &r, &timing, T0 + 60, f);
    assert_non_null(strstr(done(f), "phase active since 2027-01-15T08:00:00Z (1m ago); waiting "
                                    "for `meridianctl dnssec ds-seen example.com.` once the "
                                    "parent's DS names key 7\n"));
    f = stream();
    dnssec_report_status(s.dz, NULL, &timing, T0, f);
    assert_non_null(strstr(done(f), "rollover: the state file cannot be read"));
    unsign(&s);
}

/* Which keys the zone's DNSKEY, CDS and RRSIG RRsets name, as tags in RDATA order. */
static void
tags_of(const struct zone *zone, uint16_t type, bool sigs, uint16_t *out, unsigned *n)
{
    const struct zone_rrset *set = zone_node_rrset(&zone->nodes[0], type);
    *n = 0;
    if (!set)
        return;
    if (sigs)
        set = set->rrsig;
    const uint8_t *p = set->rdata;
    for (uint16_t i = 0; i < set->count; i++) {
        uint16_t len = dnswire_get16(p);
        out[(*n)++] = sigs                   ? dnswire_get16(p + 2 + 16)
                      : type == DNS_TYPE_CDS ? dnswire_get16(p + 2)
                                             : dnssec_key_tag(p + 2, len);
        p += 2u + len;
    }
}

static bool
has(const uint16_t *tags, unsigned n, uint16_t tag)
{
    for (unsigned i = 0; i < n; i++)
        if (tags[i] == tag)
            return true;
    return false;
}

/* The signed zone under each phase of a CSK rollover: DNSKEY, CDS, and who signed the
 * DNSKEY RRset and the SOA. */
static void
test_signer_roles(void **state)
{
    char err[DNSSEC_ERR_MAX];
    uint16_t dnskey[8], cds[8], key_sigs[8], soa_sigs[8];
    unsigned nk, nc, nks, nss;
    struct dnssec_roll r;
    uint8_t origin[DNAME_MAX_LEN];
    (void)state;
    t_name("example.com.", origin);
    struct signed_zone s = sign(T0, false, 14 * 86400, 5 * 86400, NULL);
    unsign(&s);
    assert_int_equal(dnssec_roll_start(tmpdir, origin, 13, false, DNSSEC_ROLL_CSK, T0, &r, err), 0);
    static const struct {
        enum dnssec_roll_phase phase;
        bool old_published, new_published, new_in_cds, old_signs_keys, new_signs_zone;
    } phases[] = {
        {DNSSEC_ROLL_PUBLISH, true, true, false, true, false},
        {DNSSEC_ROLL_ACTIVE, true, true, true, true, true},
        {DNSSEC_ROLL_DONE, false, true, true, false, true},
    };
    for (size_t i = 0; i < 3; i++) {
        r.phase = phases[i].phase;
        assert_int_equal(dnssec_roll_save(tmpdir, origin, &r, err), 0);
        s = sign(T0, false, 14 * 86400, 5 * 86400, NULL);
        tags_of(s.zone, DNS_TYPE_DNSKEY, false, dnskey, &nk);
        tags_of(s.zone, DNS_TYPE_CDS, false, cds, &nc);
        tags_of(s.zone, DNS_TYPE_DNSKEY, true, key_sigs, &nks);
        tags_of(s.zone, DNS_TYPE_SOA, true, soa_sigs, &nss);
        assert_int_equal(has(dnskey, nk, r.old_tag), phases[i].old_published);
        assert_int_equal(has(dnskey, nk, r.new_tag), phases[i].new_published);
        assert_int_equal(nc, 1); /* CDS: one key, the one the parent's DS should name */
        assert_int_equal(cds[0], phases[i].new_in_cds ? r.new_tag : r.old_tag);
        assert_int_equal(has(key_sigs, nks, r.old_tag), phases[i].old_signs_keys);
        assert_int_equal(nss, 1); /* the zone's data: one signature, by one key */
        assert_int_equal(soa_sigs[0], phases[i].new_signs_zone ? r.new_tag : r.old_tag);
        assert_memory_equal(&s.dz->roll, &r, sizeof(r));
        unsign(&s);
    }
    /* A state naming a key that is gone is ignored: both keys do everything. */
    r.phase = DNSSEC_ROLL_PUBLISH;
    r.new_tag = (uint16_t)(r.new_tag + 1);
    assert_int_equal(dnssec_roll_save(tmpdir, origin, &r, err), 0);
    s = sign(T0, false, 14 * 86400, 5 * 86400, NULL);
    assert_true(s.dz->roll_void);
    tags_of(s.zone, DNS_TYPE_SOA, true, soa_sigs, &nss);
    assert_int_equal(nss, 2);
    unsign(&s);
}

/* New signatures always have more than refresh + jitter left, so the next load reuses them;
 * at the due time (earliest - refresh) the whole batch is made anew. */
static void
test_jitter_and_reuse(void **state)
{
    (void)state;
    assert_int_equal(dnssec_zone_spread(14 * 86400, 5 * 86400), 14 * 8640);
    assert_int_equal(dnssec_zone_spread(3600, 3590), 2); /* a quarter of the 10 s margin */
    assert_int_equal(dnssec_zone_spread(7200, 6900), 75);
    struct signed_zone a = sign(T0, false, 3600, 3590, NULL);
    assert_true(a.dz->earliest_expiration >= T0 + 3600 - 2);
    time_t due = (time_t)a.dz->earliest_expiration - 3590;
    assert_true(due >= T0 + 8 && due <= T0 + 10);
    /* The signer's threshold is refresh + jitter (3592 s left): three seconds before the
     * timer's due time every signature is reused; at it, every one is made anew. */
    struct signed_zone b = sign(due - 3, false, 3600, 3590, a.zone);
    assert_int_equal(b.dz->signed_rrsets, 0);
    assert_int_equal(b.dz->reused_rrsets, a.dz->signed_rrsets);
    struct signed_zone c = sign(due, false, 3600, 3590, b.zone);
    assert_int_equal(c.dz->reused_rrsets, 0); /* the batch, not only the earliest */
    assert_true(c.dz->earliest_expiration >= due + 3600 - 2);
    unsign(&a);
    unsign(&b);
    unsign(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),     cmocka_unit_test(test_ds_rfc6605),
        cmocka_unit_test(test_status),       cmocka_unit_test(test_jitter_and_reuse),
        cmocka_unit_test(test_signer_roles), /* last: it leaves a rollover state behind */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
