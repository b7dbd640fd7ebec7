// SPDX-License-Identifier: MIT
/* dns_answer with TSIG (RFC 8945): queries signed by ldns (an implementation independent of
 * src/tsig), responses decoded and their TSIG verified by ldns. Authentic queries get their
 * answer signed for each algorithm, with EDNS, over TCP and truncated over UDP; unknown keys,
 * wrong secrets, skewed clocks and truncated MACs get NOTAUTH with the TSIG error and the
 * signing §5.3.2 asks for; misplaced or unreadable TSIG records get FORMERR; a TSIG that
 * cannot fit a UDP response gets TC; a signed AXFR is verified and handed to the transfer
 * code with its key and MAC. */
#include <ldns/ldns.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "answer_test.h"
#include "wire_end.h"
#include "common/dnswire.h"
#include "dns/dns.h"

static const char zone_text[] =
    "$ORIGIN example.com.\n"
    "$TTL 3600\n"
    "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
    "@ NS ns1\n"
    "ns1 A 192.0.2.1\n"
    "www A 192.0.2.80\n"
    "big TXT \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"1123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"2123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"3123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"4123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"5123456789012345678901234567890123456789012345678901234567890123456789\"\n";

/* 32 bytes; the wrong one differs in its last byte. */
#define SECRET "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
#define WRONG "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzU="

static struct zone_set *zones;
static struct tsig_keyring *ring;
static struct dns_view view;

static int
setup(void **state)
{
    (void)state;
    zones = answer_zone_set("example.com", zone_text);
    uint8_t secret[32];
    memcpy(secret, "secret-secret-secret-secret-1234", 32); /* SECRET decoded */
    ring = tsig_keyring_new();
    /* Octal length escapes: a hex one would swallow the label's first letters. */
    static const char *const names[] = {"\007xfr-key", "\004k384\007example", "\004k512"};
    for (int a = 0; a < 3; a++)
        assert_int_equal(tsig_keyring_add(ring, (const uint8_t *)names[a], (enum tsig_algorithm)a,
                                          secret, sizeof(secret)),
                         0);
    view = (struct dns_view){.zones = zones, .udp_max_size = 1232, .tsig = ring};
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    zone_set_free(zones);
    tsig_keyring_free(ring);
    return 0;
}

/* The response's TSIG record, decoded by ldns (RDATA fields: algorithm, Time Signed, Fudge,
 * MAC Size and MAC, Original ID, Error, Other Len and Other Data): its Error and MAC size. */
static void
assert_tsig(const ldns_pkt *r, unsigned error, size_t mac_len)
{
    ldns_rr *t = ldns_pkt_tsig(r);
    assert_non_null(t);
    assert_int_equal(ldns_rdf_size(ldns_rr_rdf(t, 3)), 2 + mac_len);
    assert_int_equal(dnswire_get16(ldns_rdf_data(ldns_rr_rdf(t, 3))), mac_len);
    assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(t, 4)), 4242); /* Original ID */
    assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(t, 5)), error);
    assert_int_equal(answer_last.tsig_error, error);
}

static uint64_t
now(void)
{
    return (uint64_t)time(NULL);
}

static void
test_signed_answers(void **state)
{
    (void)state;
    /* ldns 1.8 has no HMAC-SHA384 (tests/unit/tsig covers it against dnspython). */
    static const char *const keys[] = {"hmac-sha256:Xfr-Key.:" SECRET, /* any case */
                                       "hmac-sha512:k512:" SECRET};
    for (int a = 0; a < 2; a++) {
        for (int mode = 0; mode < 3; mode++) {
            struct answer_q q = {.name = "www.example.com.",
                                 .type = LDNS_RR_TYPE_A,
                                 .tsig = keys[a],
                                 .wall_s = now(),
                                 .edns = mode == 1,
                                 .tcp = mode == 2};
            ldns_pkt *r = answer_ask(&view, &q);
            assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
            assert_true(ldns_pkt_aa(r));
            answer_assert_section(ldns_pkt_answer(r), "www.example.com. 3600 IN A 192.0.2.80\n");
            assert_tsig(r, 0, a ? 64 : 32);
            assert_true(answer_tsig_verify(r, &q));
            ldns_pkt_free(r);
        }
    }
    /* Not verified with another secret: the check is real. */
    struct answer_q q = {.name = "www.example.com.",
                         .type = LDNS_RR_TYPE_A,
                         .tsig = "hmac-sha256:xfr-key:" SECRET,
                         .wall_s = now()};
    ldns_pkt *r = answer_ask(&view, &q);
    q.tsig = "hmac-sha256:xfr-key:" WRONG;
    assert_false(answer_tsig_verify(r, &q));
    ldns_pkt_free(r);
}

static void
test_key_errors(void **state)
{
    (void)state;
    /* §5.2.1 unknown key (what ISC's genreport sends), the key's name with another
     * algorithm, and a server with no keys at all: BADKEY, unsigned (§5.3.2). */
    static const char *const badkey[] = {"hmac-sha256:nokey:" SECRET,
                                         "hmac-sha512:xfr-key:" SECRET};
    for (int i = 0; i < 3; i++) {
        struct dns_view v = view;
        if (i == 2)
            v.tsig = NULL;
        struct answer_q q = {.name = "www.example.com.",
                             .type = LDNS_RR_TYPE_A,
                             .tsig = badkey[i % 2],
                             .wall_s = i == 2 ? 0 : now()};
        ldns_pkt *r = answer_ask(&v, &q);
        assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOTAUTH);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        assert_false(ldns_pkt_aa(r));
        assert_tsig(r, 17, 0);
        assert_int_equal(answer_last.rcode, LDNS_RCODE_NOTAUTH);
        ldns_pkt_free(r);
    }
    /* §5.2.2: the wrong secret. */
    struct answer_q q = {.name = "www.example.com.",
                         .type = LDNS_RR_TYPE_A,
                         .tsig = "hmac-sha256:xfr-key:" WRONG,
                         .wall_s = now(),
                         .edns = true};
    ldns_pkt *r = answer_ask(&view, &q);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOTAUTH);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_tsig(r, 16, 0);
    ldns_pkt_free(r);
}

static void
test_bad_time(void **state)
{
    (void)state;
    /* §5.2.3: the server's clock 301 s off either way: BADTIME, signed, so the client can
     * check it; Other Data holds the server's time. 300 s off is still in time. */
    static const int64_t skews[] = {301, -301, 300, -300};
    for (int i = 0; i < 4; i++) {
        uint64_t t = now();
        struct answer_q q = {.name = "www.example.com.",
                             .type = LDNS_RR_TYPE_A,
                             .tsig = "hmac-sha256:xfr-key:" SECRET,
                             .wall_s = (uint64_t)((int64_t)t + skews[i])};
        ldns_pkt *r = answer_ask(&view, &q);
        if (time(NULL) != (time_t)t) { /* the second turned while signing: not this case */
            ldns_pkt_free(r);
            i--;
            continue;
        }
        bool late = skews[i] == 301 || skews[i] == -301;
        assert_int_equal(ldns_pkt_get_rcode(r), late ? LDNS_RCODE_NOTAUTH : LDNS_RCODE_NOERROR);
        assert_tsig(r, late ? 18 : 0, 32);
        assert_true(answer_tsig_verify(r, &q));
        ldns_rr *tsig = ldns_pkt_tsig(r);
        if (late) {
            ldns_rdf *other = ldns_rr_rdf(tsig, 6);
            assert_int_equal(ldns_rdf_size(other), 2 + 6);
            const uint8_t *p = ldns_rdf_data(other) + 2;
            assert_int_equal((uint64_t)dnswire_get16(p) << 32 | dnswire_get32(p + 2), q.wall_s);
        }
        ldns_pkt_free(r);
    }
}

/* The wire of a query for www.example.com A, id 4242, with `extra` additional records. */
static size_t
raw_query(uint8_t *buf, const uint8_t *extra, size_t extra_len, uint16_t arcount)
{
    size_t n = dnswire_query(buf, 4242, 0,
                             (const uint8_t *)"\x03www\x07"
                                              "example\x03"
                                              "com",
                             17, DNS_TYPE_A, DNS_CLASS_IN);
    memcpy(buf + n, extra, extra_len);
    dnswire_put16(buf + DNS_OFF_ARCOUNT, arcount);
    return n + extra_len;
}

/* Answers raw bytes over UDP; checks one message of exactly the returned length. */
static size_t
answer_raw(const uint8_t *query, size_t len, uint8_t *out, size_t out_max)
{
    struct dns_client client = {.wall_s = now()};
    memset(out, 0xA5, out_max);
    size_t n = dns_answer(&view, &client, query, len, out, out_max, &answer_last);
    assert_true(n >= DNS_HEADER_LEN);
    assert_int_equal(wire_message_end(out, n), n);
    return n;
}

/* A TSIG record for key "xfr-key" with a 32-octet MAC of zeros (it never verifies). */
static size_t
raw_tsig(uint8_t *p, uint16_t rclass)
{
    static const uint8_t head[] = "\x07xfr-key\x00\x00\xfa";
    size_t n = sizeof(head) - 1;
    memcpy(p, head, n);
    dnswire_put16(p + n, rclass);
    dnswire_put32(p + n + 2, 0);
    dnswire_put16(p + n + 6, 13 + 16 + 32);
    n += 8;
    memcpy(p + n, "\x0bhmac-sha256", 13);
    n += 13;
    memset(p + n, 0, 16 + 32);
    dnswire_put16(p + n + 8, 32);         /* MAC Size */
    dnswire_put16(p + n + 10 + 32, 4242); /* Original ID */
    return n + 16 + 32;
}

static void
test_format_errors(void **state)
{
    (void)state;
    uint8_t extra[256], q[512], out[1232];
    static const uint8_t opt[] = {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
    /* A TSIG record and no error: BADSIG, unsigned (a MAC of zeros). */
    size_t n = raw_tsig(extra, 255);
    size_t len = raw_query(q, extra, n, 1);
    answer_raw(q, len, out, sizeof(out));
    assert_int_equal(dnswire_rcode(out), DNS_RCODE_NOTAUTH);
    assert_int_equal(answer_last.tsig_error, 16);
    assert_int_equal(dnswire_count(out, DNS_OFF_ARCOUNT), 1);
    /* §5.1: a TSIG followed by an OPT is not last: FORMERR, no TSIG in the reply. */
    n = raw_tsig(extra, 255);
    memcpy(extra + n, opt, sizeof(opt));
    answer_raw(q, raw_query(q, extra, n + sizeof(opt), 2), out, sizeof(out));
    assert_int_equal(dnswire_rcode(out), DNS_RCODE_FORMERR);
    assert_false(answer_last.tsig);
    /* A TSIG in the answer section. */
    n = raw_tsig(extra, 255);
    len = raw_query(q, extra, n, 0);
    dnswire_put16(q + DNS_OFF_ANCOUNT, 1);
    answer_raw(q, len, out, sizeof(out));
    assert_int_equal(dnswire_rcode(out), DNS_RCODE_FORMERR);
    assert_int_equal(dnswire_count(out, DNS_OFF_ARCOUNT), 0);
    /* §4.2: CLASS must be ANY; §5.2: a record that cannot be interpreted is FORMERR. */
    n = raw_tsig(extra, DNS_CLASS_IN);
    answer_raw(q, raw_query(q, extra, n, 1), out, sizeof(out));
    assert_int_equal(dnswire_rcode(out), DNS_RCODE_FORMERR);
    assert_false(answer_last.tsig);
    assert_int_equal(dnswire_count(out, DNS_OFF_ARCOUNT), 0);
    /* Bytes after the TSIG it does not cover. */
    n = raw_tsig(extra, 255);
    extra[n] = 0;
    answer_raw(q, raw_query(q, extra, n + 1, 1), out, sizeof(out));
    assert_int_equal(dnswire_rcode(out), DNS_RCODE_FORMERR);
    assert_false(answer_last.tsig);
}

/* A signed query whose answer does not fit 512 octets: TC, the question and the TSIG, which
 * still verifies (the room was reserved like the OPT's). Over TCP the whole answer. */
static void
test_truncation(void **state)
{
    (void)state;
    struct answer_q q = {.name = "big.example.com.",
                         .type = LDNS_RR_TYPE_TXT,
                         .tsig = "hmac-sha512:k512:" SECRET,
                         .wall_s = now()};
    ldns_pkt *r = answer_ask(&view, &q);
    assert_true(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_true(answer_wire_len <= 512);
    assert_tsig(r, 0, 64);
    assert_true(answer_tsig_verify(r, &q));
    ldns_pkt_free(r);
    q.tcp = true;
    r = answer_ask(&view, &q);
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 6);
    assert_true(answer_tsig_verify(r, &q));
    ldns_pkt_free(r);
}

/* Key and algorithm names of ~250 octets: the BADKEY record echoing them cannot fit a
 * 512-octet response beside the question, so the reply is TC without TSIG. */
static void
test_tsig_too_long_for_udp(void **state)
{
    (void)state;
    uint8_t extra[600], q[1024], out[4096];
    size_t n = 0;
    for (int l = 0; l < 4; l++) { /* owner: 4 labels of 61 = 249 octets with the root */
        extra[n++] = 61;
        memset(extra + n, 'k', 61);
        n += 61;
    }
    extra[n++] = 0;
    dnswire_put16(extra + n, DNS_TYPE_TSIG);
    dnswire_put16(extra + n + 2, 255);
    dnswire_put32(extra + n + 4, 0);
    size_t rdlen_at = n + 8;
    n += 10;
    size_t rd = n;
    for (int l = 0; l < 4; l++) { /* an algorithm name as long */
        extra[n++] = 61;
        memset(extra + n, 'a', 61);
        n += 61;
    }
    extra[n++] = 0;
    memset(extra + n, 0, 16 + 32);
    dnswire_put16(extra + n + 8, 32);
    n += 16 + 32;
    dnswire_put16(extra + rdlen_at, (uint16_t)(n - rd));
    size_t len = answer_raw(q, raw_query(q, extra, n, 1), out, 512);
    assert_true(len <= 512);
    assert_int_equal(dnswire_rcode(out), DNS_RCODE_NOTAUTH);
    assert_true(dnswire_flags(out) & DNS_FLAG_TC);
    assert_int_equal(dnswire_count(out, DNS_OFF_QDCOUNT), 1);
    assert_int_equal(dnswire_count(out, DNS_OFF_ARCOUNT), 0);
    assert_false(answer_last.tsig);
    /* Over TCP it fits: BADKEY with both names echoed. */
    struct dns_client client = {.tcp = true, .wall_s = now()};
    len = dns_answer(&view, &client, q, raw_query(q, extra, n, 1), out, sizeof(out), &answer_last);
    assert_int_equal(wire_message_end(out, len), len);
    assert_int_equal(answer_last.tsig_error, 17);
    assert_int_equal(dnswire_count(out, DNS_OFF_ARCOUNT), 1);
}

/* An authentic query we refuse (a name outside our zones): REFUSED, and the reply signed
 * (§5.3: every response to an authentic request is). */
static void
test_signed_errors(void **state)
{
    (void)state;
    struct answer_q q = {.name = "www.example.org.",
                         .type = LDNS_RR_TYPE_A,
                         .tsig = "hmac-sha256:xfr-key:" SECRET,
                         .wall_s = now()};
    ldns_pkt *r = answer_ask(&view, &q);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    assert_tsig(r, 0, 32);
    assert_true(answer_tsig_verify(r, &q));
    ldns_pkt_free(r);
}

/* dns_answer leaves an AXFR/IXFR to a caller that answers transfers (xfr/); a signed one is
 * verified first, like any query (RFC 8945 §5.2), and only an authentic one is handed over,
 * with what signing the transfer needs: the key and the request's MAC (§5.3.1). */
static void
test_signed_transfer(void **state)
{
    (void)state;
    static uint8_t out[512];
    struct dns_result res;
    struct dns_client client = {.tcp = true, .transfers = true, .wall_s = now()};
    static const char *const keys[] = {"hmac-sha256:xfr-key:" SECRET, "hmac-sha512:K512:" SECRET};
    for (int i = 0; i < 2; i++) {
        struct answer_q q = {.name = "example.com.", .type = LDNS_RR_TYPE_AXFR, .tsig = keys[i]};
        size_t len;
        uint8_t *wire = answer_build(&q, &len);
        memset(&res, 0x5A, sizeof(res));
        assert_int_equal(dns_answer(&view, &client, wire, len, out, sizeof(out), &res), 0);
        assert_true(res.transfer);
        assert_true(res.tsig);
        assert_int_equal(res.tsig_error, 0);
        const struct tsig_request *t = &res.transfer_tsig;
        assert_int_equal(t->error, TSIG_ERROR_NONE);
        assert_ptr_equal(
            t->key, tsig_keyring_find(ring, (const uint8_t *)(i ? "\x04k512" : "\x07xfr-key")));
        assert_int_equal(t->original_id, 4242);
        /* The request's MAC, as sent: the last MAC Size + MAC before Original ID, Error and
         * Other Len (6 octets) at the end of the message. */
        size_t mac_len = i ? 64 : 32;
        assert_int_equal(t->mac_len, mac_len);
        assert_int_equal(dnswire_get16(wire + len - 6 - mac_len - 2), mac_len);
        assert_memory_equal(t->mac, wire + len - 6 - mac_len, mac_len);
        free(wire);
    }
    /* Not authentic: answered here, NOTAUTH with the TSIG error (unsigned), never handed
     * over. */
    static const char *const bad[] = {"hmac-sha256:xfr-key:" WRONG, "hmac-sha256:nokey:" SECRET};
    for (int i = 0; i < 2; i++) {
        struct answer_q q = {.name = "example.com.", .type = LDNS_RR_TYPE_AXFR, .tsig = bad[i]};
        size_t len;
        uint8_t *wire = answer_build(&q, &len);
        size_t n = dns_answer(&view, &client, wire, len, out, sizeof(out), &res);
        free(wire);
        assert_true(n > DNS_HEADER_LEN);
        assert_false(res.transfer);
        assert_int_equal(dnswire_rcode(out), DNS_RCODE_NOTAUTH);
        assert_int_equal(res.tsig_error, i ? TSIG_ERROR_BADKEY : TSIG_ERROR_BADSIG);
    }
    /* Unsigned: handed over without a TSIG. */
    struct answer_q q = {.name = "example.com.", .type = LDNS_RR_TYPE_IXFR};
    size_t len;
    uint8_t *wire = answer_build(&q, &len);
    assert_int_equal(dns_answer(&view, &client, wire, len, out, sizeof(out), &res), 0);
    free(wire);
    assert_true(res.transfer);
    assert_false(res.tsig);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_answers), cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_bad_time),       cmocka_unit_test(test_format_errors),
        cmocka_unit_test(test_truncation),     cmocka_unit_test(test_tsig_too_long_for_udp),
        cmocka_unit_test(test_signed_errors),  cmocka_unit_test(test_signed_transfer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
