// SPDX-License-Identifier: MIT
/* Signed transfers (xfr_tsig.c with xfr_begin/xfr_stream_next): a request signed with a key
 * the zone's `transfer:` lists is answered by a stream whose every message is signed, and the
 * client side of src/tsig (tsig_stream_verify, chained from the request it signed) verifies
 * each one in turn (RFC 8945 §5.3.1), each with its own Time Signed read from the clock; the
 * records are those of an unsigned AXFR of the same zone, and every message, its TSIG
 * included, stays within the buffer. IXFR over TCP and UDP alike. A known key the zone does
 * not list, or the right key from outside `allow`, is REFUSED in a signed message; an
 * unsigned request is REFUSED unsigned. A changed byte, a skipped message or another secret
 * fails verification. Single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"
#include "xfr_test.h"

#define T0 1700000000u /* the test's wall clock at the request */
#define STEP 100u      /* seconds the clock moves per message: 4 messages outrun the fudge */

static const uint8_t secret[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t other_secret[32] = "fedcba9876543210fedcba9876543210";

static uint8_t out[65535];
static uint64_t clock_s;

/* The signer's clock: STEP seconds later at each message. */
static uint64_t
ticking_clock(void)
{
    clock_s += STEP;
    return clock_s;
}

struct fixture {
    struct zone *z1, *z2;
    struct xfr_zone *x1, *x2;
    struct zone_set *set;
    struct xfr_zone *xzones[1];
    struct xfr_view view;
    struct config_prefix nets[1];
    char *keys[2];
    struct config_transfer acl;
    struct tsig_keyring *server, *client;
    const struct tsig_key *xfr_key, *other_key, *stranger; /* the client's */
};

/* Version `serial` of s.test: about 1 MB (many messages); www's address changes. */
static char *
zone_text(uint32_t serial)
{
    size_t cap = 1u << 21, n = 0;
    char *t = malloc(cap);
    n += (size_t)snprintf(t + n, cap - n,
                          "$ORIGIN s.test.\n$TTL 300\n@ SOA ns1 host %u 7200 3600 1209600 300\n"
                          "@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.%u\n",
                          serial, serial);
    for (int i = 0; i < 2000; i++)
        n += (size_t)snprintf(t + n, cap - n, "h%d TXT \"%0200d\" \"%0200d\"\n", i, i, i);
    return t;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char *t1 = zone_text(1), *t2 = zone_text(2);
    f->z1 = xt_zone("s.test", t1);
    f->z2 = xt_zone("s.test", t2);
    free(t1);
    free(t2);
    f->x1 = xt_xfr(f->z1, NULL);
    f->x2 = xt_xfr(f->z2, f->x1);
    struct zone **zs = malloc(sizeof(*zs));
    zs[0] = f->z2;
    f->set = zone_set_new(zs, 1);
    f->xzones[0] = f->x2;
    f->view = (struct xfr_view){.zones = f->set, .xzones = f->xzones, .udp_max_size = 1232};
    /* transfer: { allow: ["127.0.0.0/8"], keys: [Xfr-Key, other-key.] }: both required. */
    f->nets[0] = (struct config_prefix){.family = 4, .prefix_len = 8, .addr = {127}};
    f->keys[0] = "Xfr-Key";
    f->keys[1] = "other-key.";
    f->acl = (struct config_transfer){
        .enabled = true, .allow = f->nets, .allow_count = 1, .keys = f->keys, .key_count = 2};
    f->x2->transfer = &f->acl;
    /* The server's ring and the client's, each with its own copy of the secrets; the
     * stranger is a key of the server that the zone does not list. */
    static const uint8_t *const names[] = {(const uint8_t *)"\x07xfr-key",
                                           (const uint8_t *)"\x09other-key",
                                           (const uint8_t *)"\x08stranger"};
    f->server = tsig_keyring_new();
    f->client = tsig_keyring_new();
    for (int i = 0; i < 3; i++) {
        enum tsig_algorithm alg = (enum tsig_algorithm)(2 - i); /* sha512, sha384, sha256 */
        assert_int_equal(tsig_keyring_add(f->server, names[i], alg, secret, 32), 0);
        assert_int_equal(tsig_keyring_add(f->client, names[i], alg, secret, 32), 0);
    }
    f->xfr_key = tsig_keyring_find(f->client, names[0]);
    f->other_key = tsig_keyring_find(f->client, names[1]);
    f->stranger = tsig_keyring_find(f->client, names[2]);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    xfr_zone_free(f->x1);
    xfr_zone_free(f->x2);
    zone_free(f->z1);
    zone_set_free(f->set); /* z2 */
    tsig_keyring_free(f->server);
    tsig_keyring_free(f->client);
    free(f);
    return 0;
}

/* A client asking from `addr`: its request, signed with `key` unless NULL (the client's
 * stream set up to verify the answer), verified by the server as dns_answer does, answered
 * with the TSIG signer when authentic. Returns the first message's length. */
struct asked {
    struct tsig_stream client; /* the client's view of the exchange */
    struct xfr_signer signer;  /* must outlive the stream */
    struct xfr_stream s;
};

static size_t
ask(struct fixture *f, const char *addr, const struct tsig_key *key, uint16_t qtype,
    bool with_serial, uint32_t serial, bool tcp, size_t out_max, struct asked *a)
{
    uint8_t q[1024];
    size_t qlen = xt_request(q, qtype, "s.test", with_serial, serial, false);
    clock_s = T0;
    if (key) {
        qlen = tsig_request_sign(&a->client, key, q, qlen, sizeof(q), T0);
        assert_true(qlen > 0);
    }
    struct xfr_request req;
    assert_true(xfr_request_parse(q, qlen, &req));
    struct sockaddr_in sin = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
    struct xfr_client c = {.addr = (struct sockaddr *)&sin, .tcp = tcp};
    struct tsig_request treq;
    struct xfr_tsig init;
    if (key) {
        assert_int_equal(req.tsig_at > 0, true);
        assert_int_equal(tsig_request_verify(f->server, q, qlen, req.tsig_at, T0, &treq), 0);
        assert_int_equal(treq.error, TSIG_ERROR_NONE);
        xfr_tsig_signer(&a->signer, &init, &treq, ticking_clock);
        assert_int_equal(a->signer.room, tsig_key_rr_size(treq.key));
        c.key = tsig_key_name(treq.key);
        c.signer = &a->signer;
    }
    memset(out, 0xEE, out_max);
    return xfr_begin(&f->view, &req, &c, out, out_max, &a->s);
}

/* Verifies a message as the client (its TSIG last, the records before it), with the clock
 * at the time the signer read for it; collects its records. */
static void
verify(struct asked *a, const uint8_t *m, size_t len, size_t out_max, struct xt_transfer *t)
{
    assert_true(len > DNS_HEADER_LEN && len <= out_max);
    size_t body = 0, at = 0;
    uint64_t signed_at = T0 + (uint64_t)STEP * (a->s.messages);
    assert_int_equal(tsig_find(m, len, &at), 1);
    assert_int_equal(tsig_stream_verify(&a->client, m, len, signed_at, &body), TSIG_OK);
    assert_int_equal(body, at);
    if (t)
        xt_message(&a->s, m, len, t);
}

/* Every message of the rest of the stream, verified in turn. */
static void
verify_all(struct asked *a, size_t first, size_t out_max, struct xt_transfer *t)
{
    static uint8_t buf[65535];
    verify(a, out, first, out_max, t);
    size_t n;
    while ((n = xfr_stream_next(&a->s, buf, out_max)) > 0)
        verify(a, buf, n, out_max, t);
    assert_false(a->s.more);
    assert_int_equal(tsig_stream_end(&a->client), TSIG_OK);
}

/* The same zone unsigned, from everywhere: the reference. */
static void
unsigned_axfr(struct fixture *f, struct xt_transfer *t)
{
    struct asked a;
    f->x2->transfer = &xt_allow_all;
    size_t n = ask(f, "192.0.2.1", NULL, DNS_TYPE_AXFR, false, 0, true, sizeof(out), &a);
    xt_collect(&a.s, out, n, t);
    f->x2->transfer = &f->acl;
}

static void
test_signed_axfr(void **state)
{
    struct fixture *f = *state;
    struct xt_transfer want = {0};
    unsigned_axfr(f, &want);
    assert_true(want.messages > 10);
    /* Full-size messages, and messages of 4 KiB: the TSIG always fits. */
    static const size_t sizes[] = {sizeof(out), 4096};
    for (int i = 0; i < 2; i++) {
        struct asked a;
        struct xt_transfer got = {0};
        size_t n = ask(f, "127.0.0.1", f->xfr_key, DNS_TYPE_AXFR, false, 0, true, sizes[i], &a);
        assert_int_equal(a.s.kind, XFR_KIND_AXFR);
        verify_all(&a, n, sizes[i], &got);
        assert_int_equal(got.records.count, want.records.count);
        for (size_t k = 0; k < got.records.count; k++)
            assert_string_equal(got.records.items[k], want.records.items[k]);
        assert_true(got.messages >= want.messages);
        /* Each message read the clock once: the last was signed 100 s after the one before. */
        assert_int_equal(clock_s, T0 + (uint64_t)STEP * got.messages);
        xt_list_free(&got.records);
    }
    xt_list_free(&want.records);
}

static void
test_signed_ixfr(void **state)
{
    struct fixture *f = *state;
    struct asked a;
    struct xt_transfer got = {0};
    /* TCP: SOA 2, SOA 1, www's old address, SOA 2, the new one, SOA 2 (RFC 1995 §4). */
    size_t n = ask(f, "127.0.0.1", f->other_key, DNS_TYPE_IXFR, true, 1, true, sizeof(out), &a);
    assert_int_equal(a.s.kind, XFR_KIND_IXFR);
    verify_all(&a, n, sizeof(out), &got);
    assert_int_equal(got.records.count, 6);
    assert_non_null(strstr(got.records.items[2], "192.0.2.1"));
    assert_non_null(strstr(got.records.items[4], "192.0.2.2"));
    xt_list_free(&got.records);
    /* UDP without EDNS: one message of at most 512 octets with its TSIG (RFC 1995 §2). */
    n = ask(f, "127.0.0.1", f->other_key, DNS_TYPE_IXFR, true, 1, false, sizeof(out), &a);
    assert_true(n <= 512);
    assert_false(a.s.more);
    verify(&a, out, n, 512, NULL);
    assert_int_equal(xt_rcode(out), DNS_RCODE_NOERROR);
}

static void
test_refusals(void **state)
{
    struct fixture *f = *state;
    struct asked a;
    /* A key of the server that the zone does not list, its MAC verified: REFUSED, in a
     * message signed with it (RFC 8945 §5.3: a response to an authentic request is signed),
     * as NSD answers (knotd answers NOTAUTH/BADKEY unsigned). */
    size_t n = ask(f, "127.0.0.1", f->stranger, DNS_TYPE_AXFR, false, 0, true, sizeof(out), &a);
    assert_int_equal(xt_rcode(out), DNS_RCODE_REFUSED);
    assert_false(a.s.more);
    verify(&a, out, n, sizeof(out), NULL);
    /* The right key from outside `allow`: both are required. */
    n = ask(f, "192.0.2.1", f->xfr_key, DNS_TYPE_AXFR, false, 0, true, sizeof(out), &a);
    assert_int_equal(xt_rcode(out), DNS_RCODE_REFUSED);
    verify(&a, out, n, sizeof(out), NULL);
    /* Unsigned from inside `allow`: REFUSED, and no TSIG in it. */
    n = ask(f, "127.0.0.1", NULL, DNS_TYPE_AXFR, false, 0, true, sizeof(out), &a);
    assert_int_equal(xt_rcode(out), DNS_RCODE_REFUSED);
    size_t at = 0;
    assert_int_equal(tsig_find(out, n, &at), 0);
    /* Signed AXFR over UDP: NOTIMP, signed too. */
    n = ask(f, "127.0.0.1", f->xfr_key, DNS_TYPE_AXFR, false, 0, false, 512, &a);
    assert_int_equal(xt_rcode(out), DNS_RCODE_NOTIMP);
    verify(&a, out, n, 512, NULL);
}

/* The client catches what the chain protects: a changed byte, a message left out, a MAC
 * computed with another secret. */
static void
test_tampering(void **state)
{
    struct fixture *f = *state;
    static uint8_t buf[65535];
    struct asked a;
    /* A changed record in the second message. */
    size_t n = ask(f, "127.0.0.1", f->xfr_key, DNS_TYPE_AXFR, false, 0, true, sizeof(out), &a);
    verify(&a, out, n, sizeof(out), NULL);
    n = xfr_stream_next(&a.s, buf, sizeof(buf));
    assert_true(n > 1000);
    buf[n / 2] ^= 1;
    assert_int_equal(tsig_stream_verify(&a.client, buf, n, T0 + 2 * STEP, NULL), TSIG_BADSIG);
    /* The second message left out: the third does not chain to the first. */
    n = ask(f, "127.0.0.1", f->xfr_key, DNS_TYPE_AXFR, false, 0, true, sizeof(out), &a);
    verify(&a, out, n, sizeof(out), NULL);
    assert_true(xfr_stream_next(&a.s, buf, sizeof(buf)) > 0);
    n = xfr_stream_next(&a.s, buf, sizeof(buf));
    assert_int_equal(tsig_stream_verify(&a.client, buf, n, T0 + 3 * STEP, NULL), TSIG_BADSIG);
    /* A client that holds another secret under the same name. */
    struct tsig_keyring *wrong = tsig_keyring_new();
    assert_int_equal(
        tsig_keyring_add(wrong, (const uint8_t *)"\x07xfr-key", TSIG_HMAC_SHA512, other_secret, 32),
        0);
    n = ask(f, "127.0.0.1", f->xfr_key, DNS_TYPE_AXFR, false, 0, true, sizeof(out), &a);
    a.client.key = tsig_keyring_find(wrong, (const uint8_t *)"\x07xfr-key");
    assert_int_equal(tsig_stream_verify(&a.client, out, n, T0 + STEP, NULL), TSIG_BADSIG);
    tsig_keyring_free(wrong);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_axfr),
        cmocka_unit_test(test_signed_ixfr),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_tampering),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
