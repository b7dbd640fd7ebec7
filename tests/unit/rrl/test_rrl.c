// SPDX-License-Identifier: MIT
/* rrl_check on an injected millisecond clock: the token bucket (burst, refill, fractions at
 * low rates), slip, the bucket key (client prefix, class, name ignoring case), the
 * exemptions (valid cookie, exempt prefixes), log_only, the large class, the counters, and
 * rrl_prefetch's hint (the same buckets as without it; malformed queries; exemptions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "rrl/rrl.h"

static const uint8_t key[16] = {7, 7, 7};

static struct sockaddr_storage client_addr;

static const struct sockaddr *
client(const char *text)
{
    memset(&client_addr, 0, sizeof(client_addr));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&client_addr;
        s6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&client_addr;
        s4->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
    }
    return (const struct sockaddr *)&client_addr;
}

static struct config_rrl
settings(uint32_t rate, uint32_t slip)
{
    return (struct config_rrl){.enabled = true, .rate = rate, .slip = slip, .ipv4_prefix = 24,
                               .ipv6_prefix = 56, .large_size = 1024};
}

/* Responses sent in full among `n` asked at time t from `from` about `name`. */
static unsigned
sent(struct rrl *rrl, const struct config_rrl *cfg, const char *from, const char *name,
     enum dns_response_class cls, unsigned n, uint64_t t)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++) {
        struct rrl_response r = {.client = client(from), .cls = cls,
                                 .name = (const uint8_t *)name, .size = 100};
        ok += rrl_check(rrl, 0, cfg, &r, t) == RRL_SEND;
    }
    return ok;
}

#define WWW "\3www\7example\3com"

static void
test_bucket_burst_and_refill(void **state)
{
    (void)state;
    struct rrl *rrl = rrl_new(1024, 1, key);
    struct config_rrl cfg = settings(5, 0);
    /* A fresh bucket holds one second's worth. */
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_POSITIVE, 10, 1000), 5);
    /* 5/s: one more every 200 ms, none before. */
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_POSITIVE, 3, 1150), 0);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_POSITIVE, 3, 1200), 1);
    /* A long pause refills to the cap, not beyond. */
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_POSITIVE, 20, 60000), 5);
    /* A flood for 10 s at 1 ms steps gets the rate, give or take the burst. */
    unsigned total = 0;
    for (uint64_t t = 100000; t < 110000; t++)
        total += sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_POSITIVE, 1, t);
    assert_in_range(total, 54, 56);
    rrl_free(rrl);
}

/* At 1/s with a query every 10 ms each step earns a hundredth of a response: none of it
 * may be lost to rounding, or such a bucket would refill slower than its rate, or never. */
static void
test_low_rate_fractions(void **state)
{
    (void)state;
    struct rrl *rrl = rrl_new(1024, 1, key);
    struct config_rrl cfg = settings(1, 0);
    unsigned total = 0;
    for (uint64_t t = 0; t < 10000; t += 10)
        total += sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_POSITIVE, 1, 5000 + t);
    assert_in_range(total, 10, 11);
    rrl_free(rrl);
}

static void
test_slip(void **state)
{
    (void)state;
    struct rrl *rrl = rrl_new(1024, 1, key);
    struct rrl_response r = {.client = client("192.0.2.1"), .cls = DNS_RESP_POSITIVE,
                             .name = (const uint8_t *)WWW, .size = 100};
    unsigned slips[3] = {0, 1, 3};
    for (int k = 0; k < 3; k++) {
        struct rrl *fresh = rrl_new(1024, 1, key);
        struct config_rrl cfg = settings(1, slips[k]);
        assert_int_equal(rrl_check(fresh, 0, &cfg, &r, 1000), RRL_SEND);
        unsigned slipped = 0, dropped = 0;
        for (int i = 0; i < 9; i++) {
            enum rrl_verdict v = rrl_check(fresh, 0, &cfg, &r, 1000);
            slipped += v == RRL_SLIP;
            dropped += v == RRL_DROP;
        }
        /* slip 0: drop all; 1: every limited response a stub; 3: every third. */
        assert_int_equal(slipped, slips[k] == 0 ? 0 : 9 / slips[k]);
        assert_int_equal(slipped + dropped, 9);
        struct rrl_counters c;
        rrl_counters_sum(fresh, &c);
        assert_int_equal(c.slipped, slipped);
        assert_int_equal(c.dropped, dropped);
        assert_int_equal(c.limited[DNS_RESP_POSITIVE], 9);
        assert_int_equal(c.responses, 10);
        rrl_free(fresh);
    }
    rrl_free(rrl);
}

/* The key: one budget per client /24 (/56), response class and name (case ignored). */
static void
test_bucket_key(void **state)
{
    (void)state;
    struct rrl *rrl = rrl_new(1 << 16, 1, key);
    struct config_rrl cfg = settings(2, 0);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_POSITIVE, 1, 1000), 1);
    /* Same /24, another host, the name in other case: the same bucket. */
    assert_int_equal(sent(rrl, &cfg, "192.0.2.200", "\3WwW\7EXAMPLE\3com", DNS_RESP_POSITIVE,
                          5, 1000),
                     1);
    /* Another /24, another name, another class: each its own budget. */
    assert_int_equal(sent(rrl, &cfg, "192.0.3.1", WWW, DNS_RESP_POSITIVE, 5, 1000), 2);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", "\4mail\7example\3com", DNS_RESP_POSITIVE,
                          5, 1000),
                     2);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_NEGATIVE, 5, 1000), 2);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", NULL, DNS_RESP_ERROR, 5, 1000), 2);
    /* IPv6: a /56 shares, the next /56 does not. */
    assert_int_equal(sent(rrl, &cfg, "2001:db8:0:ff::1", WWW, DNS_RESP_POSITIVE, 1, 1000), 1);
    assert_int_equal(sent(rrl, &cfg, "2001:db8:0:1::2", WWW, DNS_RESP_POSITIVE, 5, 1000), 1);
    assert_int_equal(sent(rrl, &cfg, "2001:db8:0:100::1", WWW, DNS_RESP_POSITIVE, 5, 1000), 2);
    /* An IPv4-mapped address is its IPv4 client. */
    assert_int_equal(sent(rrl, &cfg, "::ffff:192.0.3.9", WWW, DNS_RESP_POSITIVE, 5, 1000), 0);
    rrl_free(rrl);
}

static void
test_exemptions_and_log_only(void **state)
{
    (void)state;
    struct rrl *rrl = rrl_new(1024, 2, key);
    struct config_prefix ex = {.family = 4, .prefix_len = 16, .addr = {198, 51}};
    struct config_rrl cfg = settings(1, 0);
    cfg.exempt = &ex;
    cfg.exempt_count = 1;
    assert_int_equal(sent(rrl, &cfg, "198.51.7.7", WWW, DNS_RESP_POSITIVE, 10, 1000), 10);
    assert_int_equal(sent(rrl, &cfg, "198.52.7.7", WWW, DNS_RESP_POSITIVE, 10, 1000), 1);
    /* A valid server cookie: the source address is proven, never limited. */
    struct rrl_response r = {.client = client("198.52.7.7"), .cls = DNS_RESP_POSITIVE,
                             .name = (const uint8_t *)WWW, .size = 100, .cookie_valid = true};
    for (int i = 0; i < 10; i++)
        assert_int_equal(rrl_check(rrl, 1, &cfg, &r, 1000), RRL_SEND);
    /* Loopback is exempt only with exempt_loopback (off by default), IPv4 and IPv6. */
    struct config_rrl loop = settings(1, 0);
    loop.exempt_loopback = true;
    assert_int_equal(sent(rrl, &loop, "127.9.9.9", WWW, DNS_RESP_POSITIVE, 5, 1000), 5);
    assert_int_equal(sent(rrl, &loop, "::1", WWW, DNS_RESP_POSITIVE, 5, 1000), 5);
    assert_int_equal(sent(rrl, &loop, "::2", WWW, DNS_RESP_POSITIVE, 5, 1000), 1);
    loop.exempt_loopback = false;
    assert_int_equal(sent(rrl, &loop, "127.9.9.9", WWW, DNS_RESP_POSITIVE, 5, 1000), 1);
    /* log_only: limited responses are counted but sent. */
    cfg.log_only = true;
    assert_int_equal(sent(rrl, &cfg, "198.52.7.7", WWW, DNS_RESP_POSITIVE, 4, 1000), 4);
    struct rrl_counters c;
    rrl_counters_sum(rrl, &c);
    assert_int_equal(c.exempt_prefix, 20);
    assert_int_equal(c.exempt_cookie, 10);
    assert_int_equal(c.would_limit, 4);
    assert_int_equal(c.dropped, 17);
    assert_int_equal(c.responses, 54);
    rrl_free(rrl);
}

/* A positive answer above large_size draws on the `large` budget, apart from small ones. */
static void
test_large(void **state)
{
    (void)state;
    struct rrl *rrl = rrl_new(1024, 1, key);
    struct config_rrl cfg = settings(1, 0);
    struct rrl_response r = {.client = client("192.0.2.1"), .cls = DNS_RESP_POSITIVE,
                             .name = (const uint8_t *)WWW, .size = 1025};
    assert_int_equal(rrl_check(rrl, 0, &cfg, &r, 1000), RRL_SEND);
    assert_int_equal(rrl_check(rrl, 0, &cfg, &r, 1000), RRL_DROP);
    r.size = 1024;
    assert_int_equal(rrl_check(rrl, 0, &cfg, &r, 1000), RRL_SEND);
    struct rrl_counters c;
    rrl_counters_sum(rrl, &c);
    assert_int_equal(c.limited[DNS_RESP_LARGE], 1);
    assert_int_equal(c.limited[DNS_RESP_POSITIVE], 0);
    assert_string_equal(rrl_class_name(DNS_RESP_LARGE), "large");
    assert_int_equal(rrl_table_size(rrl), 1024);
    rrl_free(rrl);
}

/* A query message for WWW (type A, or `qtype`) from a client: header, question. */
static size_t
make_query(uint8_t *out, const char *name, uint16_t qtype)
{
    memset(out, 0, 12);
    out[5] = 1; /* QDCOUNT */
    size_t n = strlen(name) + 1;
    memcpy(out + 12, name, n);
    out[12 + n] = (uint8_t)(qtype >> 8);
    out[13 + n] = (uint8_t)qtype;
    out[14 + n] = 0;
    out[15 + n] = 1;
    return 16 + n;
}

/* One check of a response about `name` (NULL: the query's name, as dns_answer reports it
 * for positive and NODATA answers) with the hint made from the query. */
static enum rrl_verdict
check_hinted(struct rrl *rrl, const struct config_rrl *cfg, const uint8_t *query, size_t len,
             const char *from, const char *name, enum dns_response_class cls, size_t size)
{
    struct rrl_hint hint;
    const struct sockaddr *sa = client(from);
    rrl_prefetch(rrl, cfg, sa, query, len, &hint);
    struct rrl_response r = {.client = sa, .cls = cls,
                             .name = name ? (const uint8_t *)name : query + 12, .size = size,
                             .hint = &hint};
    return rrl_check(rrl, 0, cfg, &r, 1000);
}

/* The hint is a shortcut, not another key: a response checked with it draws on the same
 * bucket as one checked without, for every class that uses the query's name. */
static void
test_hint_same_buckets(void **state)
{
    (void)state;
    struct rrl *rrl = rrl_new(1 << 16, 1, key);
    struct config_rrl cfg = settings(3, 0);
    uint8_t q[300];
    /* The query's name in another case: the same budget (RFC 4343). */
    size_t len = make_query(q, "\3WWW\7example\3COM", 1);
    assert_int_equal(check_hinted(rrl, &cfg, q, len, "192.0.2.1", NULL, DNS_RESP_POSITIVE, 100),
                     RRL_SEND);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.9", WWW, DNS_RESP_POSITIVE, 1, 1000), 1);
    assert_int_equal(check_hinted(rrl, &cfg, q, len, "192.0.2.1", NULL, DNS_RESP_POSITIVE, 100),
                     RRL_SEND);
    assert_int_equal(check_hinted(rrl, &cfg, q, len, "192.0.2.1", NULL, DNS_RESP_POSITIVE, 100),
                     RRL_DROP);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.9", WWW, DNS_RESP_POSITIVE, 1, 1000), 0);
    /* NODATA (negative) and a positive answer above large_size: their own budgets, whether
     * the hash came from the hint or not. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            check_hinted(rrl, &cfg, q, len, "192.0.2.1", NULL, DNS_RESP_NEGATIVE, 100), RRL_SEND);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_NEGATIVE, 1, 1000), 0);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_LARGE, 3, 1000), 3);
    assert_int_equal(check_hinted(rrl, &cfg, q, len, "192.0.2.1", NULL, DNS_RESP_POSITIVE, 2000),
                     RRL_DROP);
    /* A response drawing on another name (NXDOMAIN: the zone's) ignores the hint's hash. */
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", "\7example\3com", DNS_RESP_NEGATIVE, 3, 1000),
                     3);
    assert_int_equal(check_hinted(rrl, &cfg, q, len, "192.0.2.1", "\7example\3com",
                                  DNS_RESP_NEGATIVE, 100),
                     RRL_DROP);
    /* Errors draw on the network alone. */
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", NULL, DNS_RESP_ERROR, 3, 1000), 3);
    struct rrl_hint hint;
    rrl_prefetch(rrl, &cfg, client("192.0.2.1"), q, len, &hint);
    struct rrl_response err = {.client = client("192.0.2.1"), .cls = DNS_RESP_ERROR,
                               .name = NULL, .size = 30, .hint = &hint};
    assert_int_equal(rrl_check(rrl, 0, &cfg, &err, 1000), RRL_DROP);
    rrl_free(rrl);
}

/* Queries whose name cannot be read give no hint (and no read past the message); the
 * response is then checked as without one. Exemptions come with the hint. */
static void
test_hint_malformed_and_exempt(void **state)
{
    (void)state;
    struct rrl *rrl = rrl_new(1024, 1, key);
    struct config_rrl cfg = settings(1, 0);
    uint8_t q[300];
    size_t len = make_query(q, "\3www\7example\3com", 1);
    struct rrl_hint hint;
    const struct sockaddr *sa = client("192.0.2.1");
    /* Cut inside the name, a compression pointer, a header only, a name over 255 octets. */
    rrl_prefetch(rrl, &cfg, sa, q, 12 + 6, &hint);
    assert_null(hint.name);
    uint8_t ptr[14] = {[5] = 1, [12] = 0xC0, [13] = 0};
    rrl_prefetch(rrl, &cfg, sa, ptr, sizeof(ptr), &hint);
    assert_null(hint.name);
    rrl_prefetch(rrl, &cfg, sa, q, 12, &hint);
    assert_null(hint.name);
    uint8_t longq[12 + 300] = {[5] = 1};
    for (size_t i = 12; i + 64 < sizeof(longq); i += 64)
        longq[i] = 63;
    rrl_prefetch(rrl, &cfg, sa, longq, sizeof(longq), &hint);
    assert_null(hint.name);
    /* Well formed: the name, and the end of the message respected for the QTYPE. */
    rrl_prefetch(rrl, &cfg, sa, q, len - 4, &hint);
    assert_ptr_equal(hint.name, q + 12);
    assert_false(hint.exempt);
    /* A response with a hint that has no name is checked on its own name. */
    hint.name = NULL;
    struct rrl_response r = {.client = sa, .cls = DNS_RESP_POSITIVE, .name = q + 12,
                             .size = 100, .hint = &hint};
    assert_int_equal(rrl_check(rrl, 0, &cfg, &r, 1000), RRL_SEND);
    assert_int_equal(sent(rrl, &cfg, "192.0.2.1", WWW, DNS_RESP_POSITIVE, 1, 1000), 0);
    /* exempt_loopback: the hint says so, and rrl_check counts it as exempt. */
    struct config_rrl loop = settings(1, 0);
    loop.exempt_loopback = true;
    rrl_prefetch(rrl, &loop, client("127.0.0.1"), q, len, &hint);
    assert_true(hint.exempt);
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            check_hinted(rrl, &loop, q, len, "127.0.0.1", NULL, DNS_RESP_POSITIVE, 100),
            RRL_SEND);
    struct rrl_counters c;
    rrl_counters_sum(rrl, &c);
    assert_int_equal(c.exempt_prefix, 3);
    assert_int_equal(rrl_buckets_for(262144), 262144);
    assert_int_equal(rrl_buckets_for(262145), 524288);
    assert_int_equal(rrl_buckets_for(1), 1024);
    rrl_free(rrl);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_burst_and_refill),
        cmocka_unit_test(test_low_rate_fractions),
        cmocka_unit_test(test_slip),
        cmocka_unit_test(test_bucket_key),
        cmocka_unit_test(test_exemptions_and_log_only),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_hint_same_buckets),
        cmocka_unit_test(test_hint_malformed_and_exempt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
