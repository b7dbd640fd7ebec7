// SPDX-License-Identifier: MIT
/* Signed-answer checks (see dnssec_check.h): ldns decodes, dnssec_verify_rrset verifies. The
 * RRsets are rebuilt from the decoded records, so what is verified is what was sent. */
#include "dnssec_check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ldns 1.8's ldns_dnssec_verify_denial_nsec3 leaks the names it hashes on its NODATA path;
 * LeakSanitizer is told to look away for that one call (an exception to "tests leak
 * nothing", for a library that is not ours). */
#if defined(__SANITIZE_ADDRESS__)
#define LSAN_AVAILABLE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LSAN_AVAILABLE 1
#endif
#endif
#ifdef LSAN_AVAILABLE
#include <sanitizer/lsan_interface.h>
#else
#define __lsan_disable() ((void)0)
#define __lsan_enable() ((void)0)
#endif

#include "common/dnswire.h"
#include "dnssec/dnssec_sign.h"

#define LINES_MAX 64
#define LINE_MAX_LEN 1024
#define SET_RDATA_MAX 16384

/* ldns's text with tabs and runs of spaces made one space and no trailing space. */
static void
tidy(const char *in, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = in; *p && n + 1 < size; p++) {
        char c = *p == '\t' || *p == '\n' ? ' ' : *p;
        if (c == ' ' && (n == 0 || out[n - 1] == ' '))
            continue;
        out[n++] = c;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

static void
rr_text(const ldns_rr *rr, char *out, size_t size)
{
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG) {
        char *s = ldns_rr2str(rr);
        tidy(s, out, size);
        free(s);
        return;
    }
    char *owner = ldns_rdf2str(ldns_rr_owner(rr));
    char *signer = ldns_rdf2str(ldns_rr_rrsig_signame(rr));
    char *covered = ldns_rr_type2str(ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)));
    snprintf(out, size, "%s %u IN RRSIG %s %u %u %u %s", owner, ldns_rr_ttl(rr), covered,
             ldns_rdf2native_int8(ldns_rr_rrsig_algorithm(rr)),
             ldns_rdf2native_int8(ldns_rr_rrsig_labels(rr)),
             ldns_rdf2native_int32(ldns_rr_rrsig_origttl(rr)), signer);
    free(owner);
    free(signer);
    free(covered);
}

static int
line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* want's lines, sorted if asked, joined again into out. */
static void
sort_lines(const char *want, char *out, size_t size)
{
    char *copy = strdup(want);
    char *lines[LINES_MAX];
    size_t n = 0, pos = 0;
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l && n < LINES_MAX;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    qsort(lines, n, sizeof(lines[0]), line_cmp);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(out + pos, size > pos ? size - pos : 0, "%s\n", lines[i]);
    free(copy);
}

static void
assert_lines(ldns_rr_list *list, const char *want, bool sorted)
{
    static char got[LINES_MAX * LINE_MAX_LEN], line[LINE_MAX_LEN];
    static char want_sorted[LINES_MAX * LINE_MAX_LEN];
    size_t pos = 0;
    got[0] = '\0';
    for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++) {
        rr_text(ldns_rr_list_rr(list, i), line, sizeof(line));
        pos += (size_t)snprintf(got + pos, sizeof(got) - pos, "%s\n", line);
    }
    if (sorted) {
        static char tmp[LINES_MAX * LINE_MAX_LEN];
        sort_lines(got, tmp, sizeof(tmp));
        memcpy(got, tmp, sizeof(got));
        sort_lines(want, want_sorted, sizeof(want_sorted));
        want = want_sorted;
    }
    if (strcmp(got, want) != 0)
        fail_msg("section mismatch\n--- got:\n%s--- want:\n%s", got, want);
}

void
dnssec_assert_ordered(ldns_rr_list *list, const char *want)
{
    assert_lines(list, want, false);
}

void
dnssec_assert_sorted(ldns_rr_list *list, const char *want)
{
    assert_lines(list, want, true);
}

bool
dnssec_has_type(const ldns_rr_list *list, ldns_rr_type type)
{
    for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++)
        if (ldns_rr_get_type(ldns_rr_list_rr(list, i)) == type)
            return true;
    return false;
}

/* The record's wire RDATA (names uncompressed, case as sent) after a 16-bit length. */
static size_t
put_rdata(const ldns_rr *rr, uint8_t *out, size_t max)
{
    ldns_buffer *buf = ldns_buffer_new(512);
    assert_int_equal(ldns_rr_rdata2buffer_wire(buf, rr), LDNS_STATUS_OK);
    size_t len = ldns_buffer_position(buf);
    assert_true(len + 2 <= max);
    dnswire_put16(out, (uint16_t)len);
    memcpy(out + 2, ldns_buffer_begin(buf), len);
    ldns_buffer_free(buf);
    return len + 2;
}

static const struct dnssec_key *
key_of(const struct dnssec_keyset *keys, uint16_t tag, uint8_t alg)
{
    for (size_t i = 0; i < keys->count; i++)
        if (keys->keys[i]->tag == tag && keys->keys[i]->algorithm == alg)
            return keys->keys[i];
    return NULL;
}

static bool
has_zsk(const struct dnssec_keyset *keys)
{
    for (size_t i = 0; i < keys->count; i++)
        if (!dnssec_key_is_sep(keys->keys[i]))
            return true;
    return false;
}

static void
verify_one(const struct dnssec_keyset *keys, ldns_rr_list *list, const ldns_rr *sig, time_t now)
{
    static uint8_t rdata[SET_RDATA_MAX];
    uint8_t sigwire[2 + DNSSEC_RRSIG_RDATA_MAX + 64];
    const ldns_rdf *owner = ldns_rr_owner(sig);
    ldns_rr_type covered = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig));
    uint32_t original = ldns_rdf2native_int32(ldns_rr_rrsig_origttl(sig));
    size_t pos = 0;
    uint16_t count = 0;
    char *name = ldns_rdf2str(owner);

    for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(list, i);
        if (ldns_rr_get_type(rr) != covered || ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
            continue;
        /* RFC 4034 §3: the RRSIG's TTL is its RRset's; RFC 4035 §5.3.3: a served TTL above
         * the original TTL would not be trusted beyond it. */
        if (ldns_rr_ttl(rr) != ldns_rr_ttl(sig) || ldns_rr_ttl(rr) > original)
            fail_msg("%s type %d: record TTL %u, RRSIG TTL %u, original TTL %u", name, covered,
                     ldns_rr_ttl(rr), ldns_rr_ttl(sig), original);
        pos += put_rdata(rr, rdata + pos, sizeof(rdata) - pos);
        count++;
    }
    if (count == 0)
        fail_msg("RRSIG %s type %d: the RRset it covers is not in the section", name, covered);
    size_t siglen = put_rdata(sig, sigwire, sizeof(sigwire)) - 2;
    uint16_t tag = ldns_rdf2native_int16(ldns_rr_rrsig_keytag(sig));
    uint8_t alg = ldns_rdf2native_int8(ldns_rr_rrsig_algorithm(sig));
    const struct dnssec_key *key = key_of(keys, tag, alg);
    if (!key)
        fail_msg("RRSIG %s type %d: no key with tag %u algorithm %u", name, covered, tag, alg);
    bool apex_keys = covered == LDNS_RR_TYPE_DNSKEY || covered == LDNS_RR_TYPE_CDS ||
                     covered == LDNS_RR_TYPE_CDNSKEY;
    if (apex_keys)
        assert_true(dnssec_key_is_sep(key));
    else if (has_zsk(keys))
        assert_false(dnssec_key_is_sep(key));
    const char *why = NULL;
    if (dnssec_verify_rrset(key->rdata, key->rdata_len, ldns_rdf_data(owner), (uint16_t)covered,
                            DNS_CLASS_IN, original, rdata, count, sigwire + 2, siglen, &why) != 0)
        fail_msg("RRSIG %s type %d (%u records) does not verify: %s", name, covered, count, why);
    /* RFC 4035 §5.3.1: valid now. */
    uint32_t expiration = ldns_rdf2native_int32(ldns_rr_rrsig_expiration(sig));
    uint32_t inception = ldns_rdf2native_int32(ldns_rr_rrsig_inception(sig));
    assert_true(inception <= (uint32_t)now && (uint32_t)now < expiration);
    free(name);
}

unsigned
dnssec_verify_list(const struct dnssec_keyset *keys, ldns_rr_list *list, time_t now)
{
    unsigned n = 0;
    for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(list, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
            verify_one(keys, list, rr, now);
            n++;
        }
    }
    return n;
}

unsigned
dnssec_verify_pkt(const struct dnssec_keyset *keys, const ldns_pkt *r, time_t now)
{
    return dnssec_verify_list(keys, ldns_pkt_answer(r), now) +
           dnssec_verify_list(keys, ldns_pkt_authority(r), now) +
           dnssec_verify_list(keys, ldns_pkt_additional(r), now);
}

ldns_status
dnssec_ldns_denial(const ldns_pkt *r)
{
    ldns_rr_list *ns = ldns_pkt_authority(r);
    ldns_rr_list *nsecs = ldns_rr_list_new(), *sigs = ldns_rr_list_new();
    for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
        ldns_rr *rr = ldns_rr_list_rr(ns, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NSEC3)
            ldns_rr_list_push_rr(nsecs, rr);
        else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
                 ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == LDNS_RR_TYPE_NSEC3)
            ldns_rr_list_push_rr(sigs, rr);
    }
    ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(r), 0);
    __lsan_disable();
    ldns_status st = ldns_dnssec_verify_denial_nsec3(q, nsecs, sigs, ldns_pkt_get_rcode(r),
                                                     ldns_rr_get_type(q), ldns_pkt_ancount(r) == 0);
    __lsan_enable();
    ldns_rr_list_free(nsecs); /* the records belong to the packet */
    ldns_rr_list_free(sigs);
    return st;
}

/* The list without DNSSEC records, as ldns's text. */
static char *
unsigned_text(ldns_rr_list *list, bool drop_ds)
{
    ldns_rr_list *kept = ldns_rr_list_new();
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
        ldns_rr *rr = ldns_rr_list_rr(list, i);
        ldns_rr_type t = ldns_rr_get_type(rr);
        if (t != LDNS_RR_TYPE_RRSIG && t != LDNS_RR_TYPE_NSEC3 &&
            !(drop_ds && t == LDNS_RR_TYPE_DS))
            ldns_rr_list_push_rr(kept, rr);
    }
    char *s = ldns_rr_list2str(kept);
    ldns_rr_list_free(kept); /* the records belong to the packet */
    return s;
}

void
dnssec_assert_unsigned_equal(ldns_rr_list *got, ldns_rr_list *signed_list, bool drop_ds)
{
    char *a = ldns_rr_list2str(got), *b = unsigned_text(signed_list, drop_ds);
    if (strcmp(a, b) != 0)
        fail_msg("DO=0 section\n%s--- differs from DO=1 without DNSSEC records:\n%s", a, b);
    free(a);
    free(b);
}

void
dnssec_rr_line(const char *owner, uint32_t ttl, uint16_t type, const uint8_t *rdata, size_t len,
               char *out, size_t size)
{
    uint8_t wire[DNAME_MAX_LEN + 10 + 1024];
    int olen = dname_from_text(owner, wire);
    assert_true(olen > 0 && (size_t)olen + 10 + len <= sizeof(wire));
    size_t pos = (size_t)olen;
    dnswire_put16(wire + pos, type);
    dnswire_put16(wire + pos + 2, DNS_CLASS_IN);
    dnswire_put32(wire + pos + 4, ttl);
    dnswire_put16(wire + pos + 8, (uint16_t)len);
    memcpy(wire + pos + 10, rdata, len);
    pos += 10 + len;
    ldns_rr *rr = NULL;
    size_t at = 0;
    assert_int_equal(ldns_wire2rr(&rr, wire, pos, &at, LDNS_SECTION_ANSWER), LDNS_STATUS_OK);
    char line[LINE_MAX_LEN];
    rr_text(rr, line, sizeof(line));
    snprintf(out, size, "%s\n", line);
    ldns_rr_free(rr);
}
