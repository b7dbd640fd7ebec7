// SPDX-License-Identifier: MIT
/* DNS cookies: the RFC 9018 Appendix A test vectors through dns_cookie_make/check (IPv4,
 * IPv6, Reserved octets hashed as sent, a secret rollover), and dns_answer's handling of
 * the COOKIE option (RFC 7873 §5.2: client cookie only, a valid one echoed, a stale, old or
 * forged one replaced, malformed lengths FORMERR, a query without a question); the Extended
 * DNS Error of an out-of-zone REFUSED (RFC 8914 §4.21); the rate limiting class of each kind
 * of answer and the TC=1 stub. Queries are built by hand: the options are the point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "answer_test.h"
#include "common/dnswire.h"
#include "dns/dns.h"

static void
hex(const char *text, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(text), 2 * n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sscanf(text + 2 * i, "%2hhx", &out[i]), 1);
}

static struct sockaddr_storage addr_store;

static const struct sockaddr *
addr(const char *text)
{
    memset(&addr_store, 0, sizeof(addr_store));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&addr_store;
        s6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&addr_store;
        s4->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
    }
    return (const struct sockaddr *)&addr_store;
}

static void
assert_cookie(const char *secret, const char *client, const char *ip, uint32_t ts,
              const char *want)
{
    uint8_t key[16], cc[8], got[16], exp[16];
    hex(secret, key, 16);
    hex(client, cc, 8);
    hex(want, exp, 16);
    dns_cookie_make(key, cc, addr(ip), ts, got);
    assert_memory_equal(got, exp, 16);
}

/* RFC 9018 Appendix A.1-A.4: the server cookies each example's server sends. */
static void
test_rfc9018_vectors(void **state)
{
    (void)state;
    assert_cookie("e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100",
                  1559731985, "010000005cf79f111f8130c3eee29480");
    assert_cookie("e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100",
                  1559734385, "010000005cf7a871d4a564a1442aca77");
    assert_cookie("e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", "203.0.113.203",
                  1559734700, "010000005cf7a9acf73a7810aca2381e");
    assert_cookie("dd3bdf9344b678b185a6f5cb60fca715", "22681ab97d52c298",
                  "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741817,
                  "010000005cf7c57926556bd0934c72f8");
    assert_cookie("445536bcd2513298075a5d379663c962", "22681ab97d52c298",
                  "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741961,
                  "010000005cf7c609a6bb79d16625507a");
}

/* The other direction: cookies the examples' clients send back. */
static void
test_rfc9018_check(void **state)
{
    (void)state;
    struct dns_cookie_secrets s = {0};
    uint8_t cc[8], sc[16];
    /* A.3: the client's cookie has Reserved octets set by another implementation: they are
     * hashed as sent (RFC 9018 §4.2), so it verifies, at its own time. */
    hex("e5e973e5a6b2a43f48e7dc849e37bfcf", s.current, 16);
    hex("fc93fc62807ddb86", cc, 8);
    hex("01abcdef5cf78f71a314227b6679ebf5", sc, 16);
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr("203.0.113.203"), 0x5cf78f71),
                     DNS_COOKIE_VALID);
    /* From another address it is not ours; neither is it with a changed Reserved octet. */
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr("203.0.113.204"), 0x5cf78f71),
                     DNS_COOKIE_INVALID);
    sc[1] ^= 1;
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr("203.0.113.203"), 0x5cf78f71),
                     DNS_COOKIE_INVALID);
    sc[1] ^= 1;
    /* RFC 9018 §4.3 window: 30 min old: valid, to refresh; an hour: still; a second more:
     * stale. Five minutes ahead: valid; a second more: not. */
    uint32_t ts = 0x5cf78f71;
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr("203.0.113.203"), ts + 1800),
                     DNS_COOKIE_VALID);
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr("203.0.113.203"), ts + 1801),
                     DNS_COOKIE_REFRESH);
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr("203.0.113.203"), ts + 3600),
                     DNS_COOKIE_REFRESH);
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr("203.0.113.203"), ts + 3601),
                     DNS_COOKIE_INVALID);
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr("203.0.113.203"), ts - 300),
                     DNS_COOKIE_VALID);
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr("203.0.113.203"), ts - 301),
                     DNS_COOKIE_INVALID);
    /* Only version 1, 16 octets. */
    assert_int_equal(dns_cookie_check(&s, cc, sc, 8, addr("203.0.113.203"), ts),
                     DNS_COOKIE_INVALID);
    /* A.4: the secret rolled over; the cookie made with the old one verifies while the old
     * secret is kept as `previous`, and not once it is dropped. */
    hex("445536bcd2513298075a5d379663c962", s.current, 16);
    hex("dd3bdf9344b678b185a6f5cb60fca715", s.previous, 16);
    s.has_previous = true;
    hex("22681ab97d52c298", cc, 8);
    hex("010000005cf7c57926556bd0934c72f8", sc, 16);
    const char *ip6 = "2001:db8:220:1:59de:d0f4:8769:82b8";
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr(ip6), 1559741961), DNS_COOKIE_VALID);
    s.has_previous = false;
    assert_int_equal(dns_cookie_check(&s, cc, sc, 16, addr(ip6), 1559741961),
                     DNS_COOKIE_INVALID);
}

/* dns_answer */

static struct zone_set *zones;
static struct dns_cookie_secrets secrets;
static struct dns_view view;
static uint8_t out[4096];
static struct dns_result result;

static int
setup(void **state)
{
    (void)state;
    zones = answer_zone_set("example.com.",
                            "$TTL 300\n"
                            "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                            "@ NS ns1\n"
                            "ns1 A 192.0.2.1\n"
                            "www A 192.0.2.80\n"
                            "*.wild A 192.0.2.9\n"
                            "child NS ns.child\n"
                            "ns.child A 192.0.2.53\n");
    hex("e5e973e5a6b2a43f48e7dc849e37bfcf", secrets.current, 16);
    view = (struct dns_view){.zones = zones, .udp_max_size = 1232, .cookies = &secrets};
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    zone_set_free(zones);
    return 0;
}

/* A query for `name` (text, "www.example.com") type A; `opt` options (code, len, data)
 * appended in an OPT when opt_len >= 0 (-1: no EDNS). qdcount 0 leaves the question out. */
static size_t
query(uint8_t *q, const char *name, int qdcount, const uint8_t *opt, int opt_len)
{
    memset(q, 0, 12);
    dnswire_put16(q, 0x1234);
    dnswire_put16(q + 4, (uint16_t)qdcount);
    dnswire_put16(q + 10, opt_len >= 0);
    size_t pos = 12;
    if (qdcount) {
        for (const char *p = name; *p;) {
            const char *dot = strchr(p, '.');
            size_t l = dot ? (size_t)(dot - p) : strlen(p);
            q[pos++] = (uint8_t)l;
            memcpy(q + pos, p, l);
            pos += l;
            p += l + (dot ? 1 : 0);
        }
        q[pos++] = 0;
        dnswire_put16(q + pos, DNS_TYPE_A);
        dnswire_put16(q + pos + 2, DNS_CLASS_IN);
        pos += 4;
    }
    if (opt_len >= 0) {
        q[pos] = 0;
        dnswire_put16(q + pos + 1, DNS_TYPE_OPT);
        dnswire_put16(q + pos + 3, 1232);
        memset(q + pos + 5, 0, 4);
        dnswire_put16(q + pos + 9, (uint16_t)opt_len);
        if (opt_len > 0)
            memcpy(q + pos + 11, opt, (size_t)opt_len);
        pos += 11u + (size_t)opt_len;
    }
    return pos;
}

/* Answers the query from 198.51.100.100 at time `now`; returns the length. */
static size_t
ask(const uint8_t *q, size_t len, uint32_t now)
{
    struct dns_client c = {.addr = addr("198.51.100.100"), .wall_s = now};
    return dns_answer(&view, &c, q, len, out, sizeof(out), &result);
}

/* The response's option `code` (its data in *data), or -1. */
static int
option(size_t len, uint16_t code, const uint8_t **data)
{
    /* The OPT is the last record in every response here; find it from the end. */
    for (size_t p = 12; p + 11 <= len; p++) {
        if (out[p] == 0 && dnswire_get16(out + p + 1) == DNS_TYPE_OPT &&
            p + 11 + dnswire_get16(out + p + 9) == len) {
            size_t o = p + 11;
            while (o + 4 <= len) {
                uint16_t c = dnswire_get16(out + o), l = dnswire_get16(out + o + 2);
                if (c == code) {
                    *data = out + o + 4;
                    return l;
                }
                o += 4u + l;
            }
            return -1;
        }
    }
    return -1;
}

static int
rcode(size_t len)
{
    int ext = 0;
    for (size_t p = 12; p + 11 <= len; p++)
        if (out[p] == 0 && dnswire_get16(out + p + 1) == DNS_TYPE_OPT &&
            p + 11 + dnswire_get16(out + p + 9) == len)
            ext = out[p + 5];
    return (ext << 4) | (out[3] & 0xF);
}

static void
test_answer_cookies(void **state)
{
    (void)state;
    uint8_t q[512], opt[64];
    const uint8_t *got;
    uint32_t now = 1559731985;
    /* Client cookie only (§5.2.3): answered, with the RFC 9018 A.1 server cookie. */
    dnswire_put16(opt, DNS_OPT_COOKIE);
    dnswire_put16(opt + 2, 8);
    hex("2464c4abcf10c957", opt + 4, 8);
    size_t n = ask(q, query(q, "www.example.com", 1, opt, 12), now);
    assert_int_equal(rcode(n), DNS_RCODE_NOERROR);
    assert_int_equal(dnswire_get16(out + 6), 1);
    assert_int_equal(option(n, DNS_OPT_COOKIE, &got), 24);
    uint8_t want[24];
    hex("2464c4abcf10c957010000005cf79f111f8130c3eee29480", want, 24);
    assert_memory_equal(got, want, 24);
    assert_true(result.cookie);
    assert_false(result.cookie_valid);
    /* Sent back 20 minutes later: valid (§5.2.5) and echoed as it is. */
    dnswire_put16(opt + 2, 24);
    memcpy(opt + 4, want, 24);
    n = ask(q, query(q, "www.example.com", 1, opt, 28), now + 1200);
    assert_int_equal(option(n, DNS_OPT_COOKIE, &got), 24);
    assert_memory_equal(got, want, 24);
    assert_true(result.cookie_valid);
    /* 40 minutes later (A.2): still valid, but replaced by a fresh one. */
    n = ask(q, query(q, "www.example.com", 1, opt, 28), 1559734385);
    assert_true(result.cookie_valid);
    assert_int_equal(option(n, DNS_OPT_COOKIE, &got), 24);
    hex("2464c4abcf10c957010000005cf7a871d4a564a1442aca77", want, 24);
    assert_memory_equal(got, want, 24);
    /* Over an hour old, or forged: answered as if only the client cookie came (§5.2.4 lets
     * a server do so over UDP), with a new cookie; no rate-limiting exemption. */
    n = ask(q, query(q, "www.example.com", 1, opt, 28), now + 3601);
    assert_int_equal(rcode(n), DNS_RCODE_NOERROR);
    assert_false(result.cookie_valid);
    assert_int_equal(option(n, DNS_OPT_COOKIE, &got), 24);
    assert_int_equal(dnswire_get32(got + 12), now + 3601);
    opt[4 + 23] ^= 0x55;
    n = ask(q, query(q, "www.example.com", 1, opt, 28), now + 10);
    assert_false(result.cookie_valid);
    assert_int_equal(dnswire_get16(out + 6), 1);
    /* §5.2.2: lengths other than 8 and 16..40 are FORMERR, without a cookie. */
    static const uint16_t bad[] = {0, 7, 9, 15, 41};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(opt + 4, 0xAB, 48);
        dnswire_put16(opt + 2, bad[i]);
        n = ask(q, query(q, "www.example.com", 1, opt, 4 + bad[i]), now);
        assert_int_equal(rcode(n), DNS_RCODE_FORMERR);
        assert_int_equal(option(n, DNS_OPT_COOKIE, &got), -1);
    }
    /* A server cookie of 8..32 octets not ours (another vendor's) is only invalid. */
    dnswire_put16(opt + 2, 16);
    n = ask(q, query(q, "www.example.com", 1, opt, 20), now);
    assert_int_equal(rcode(n), DNS_RCODE_NOERROR);
    assert_false(result.cookie_valid);
    /* §5.4: no question, a cookie: NOERROR with a server cookie. */
    dnswire_put16(opt + 2, 8);
    hex("2464c4abcf10c957", opt + 4, 8);
    n = ask(q, query(q, NULL, 0, opt, 12), now);
    assert_int_equal(rcode(n), DNS_RCODE_NOERROR);
    assert_int_equal(dnswire_get16(out + 4), 0);
    assert_int_equal(option(n, DNS_OPT_COOKIE, &got), 24);
    /* Without a question or a cookie it stays FORMERR. */
    n = ask(q, query(q, NULL, 0, opt, 0), now);
    assert_int_equal(rcode(n), DNS_RCODE_FORMERR);
    /* A view without cookies ignores the option (RFC 6891 §6.1.2). */
    view.cookies = NULL;
    n = ask(q, query(q, "www.example.com", 1, opt, 12), now);
    assert_int_equal(option(n, DNS_OPT_COOKIE, &got), -1);
    assert_false(result.cookie_valid);
    view.cookies = &secrets;
}

/* RFC 8914 §4.21: REFUSED for a zone we do not serve says "Not Authoritative" (knotd too),
 * to EDNS clients only. */
static void
test_ede(void **state)
{
    (void)state;
    uint8_t q[512];
    const uint8_t *got;
    size_t n = ask(q, query(q, "www.example.org", 1, NULL, 0), 0);
    assert_int_equal(rcode(n), DNS_RCODE_REFUSED);
    assert_int_equal(option(n, DNS_OPT_EDE, &got), 2);
    assert_int_equal(dnswire_get16(got), DNS_EDE_NOT_AUTHORITATIVE);
    n = ask(q, query(q, "www.example.org", 1, NULL, -1), 0);
    assert_int_equal(rcode(n), DNS_RCODE_REFUSED);
    assert_int_equal(dnswire_get16(out + 10), 0);
    /* An answer from our zone has none. */
    n = ask(q, query(q, "www.example.com", 1, NULL, 0), 0);
    assert_int_equal(option(n, DNS_OPT_EDE, &got), -1);
}

/* The rate-limiting class and name of each kind of answer. */
static void
test_response_class(void **state)
{
    (void)state;
    uint8_t q[512];
    static const struct {
        const char *name;
        enum dns_response_class cls;
        const char *key; /* the name whose budget it draws on, NULL = none */
    } cases[] = {
        {"www.example.com", DNS_RESP_POSITIVE, "\3www\7example\3com"},
        {"nope.example.com", DNS_RESP_NEGATIVE, "\7example\3com"},
        {"ns1.example.com", DNS_RESP_POSITIVE, "\3ns1\7example\3com"},
        {"a.wild.example.com", DNS_RESP_WILDCARD, "\4wild\7example\3com"},
        {"x.child.example.com", DNS_RESP_REFERRAL, "\5child\7example\3com"},
        {"www.example.org", DNS_RESP_ERROR, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        (void)ask(q, query(q, cases[i].name, 1, NULL, 0), 0);
        assert_int_equal(result.response_class, cases[i].cls);
        if (!cases[i].key)
            assert_null(result.class_name);
        else
            assert_string_equal((const char *)result.class_name, cases[i].key);
    }
}

/* The slip stub: header and question, TC set, nothing else. */
static void
test_truncate(void **state)
{
    (void)state;
    uint8_t q[512];
    size_t n = ask(q, query(q, "www.example.com", 1, NULL, 0), 0);
    size_t qlen = 12 + 17 + 4;
    assert_true(n > qlen);
    assert_int_equal(dns_truncate_to_question(out, n), qlen);
    assert_true(out[2] & (DNS_FLAG_TC >> 8));
    assert_true(out[2] & (DNS_FLAG_QR >> 8));
    assert_int_equal(dnswire_get16(out + 4), 1);
    assert_int_equal(dnswire_get16(out + 6), 0);
    assert_int_equal(dnswire_get16(out + 8), 0);
    assert_int_equal(dnswire_get16(out + 10), 0);
    assert_memory_equal(out + 12, q + 12, 17 + 4);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9018_vectors),
        cmocka_unit_test(test_rfc9018_check),
        cmocka_unit_test(test_answer_cookies),
        cmocka_unit_test(test_ede),
        cmocka_unit_test(test_response_class),
        cmocka_unit_test(test_truncate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
