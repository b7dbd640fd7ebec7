// SPDX-License-Identifier: MIT
/* AXFR and IXFR answers (xfr_begin, xfr_stream_next) on known zones, decoded by ldns: an AXFR
 * is the SOA, every record of the zone once, the SOA (RFC 5936 §2.2), in as many messages as
 * it needs below 64 KiB with compressed names; an IXFR is exactly SOA(new), then per version
 * SOA(old), the removed records, SOA(newer), the added records, and SOA(new) (RFC 1995 §4), or
 * the SOA alone for a current or newer serial (§2), or the whole zone for a serial the history
 * does not reach (§4); over UDP the whole answer in one message or the SOA alone (§2), AXFR
 * NOTIMP (RFC 5936 §4.2). Refusals: a zone not served (NOTAUTH), the ACL (REFUSED), an IXFR
 * without its SOA (FORMERR). The request parser and the signing hook. Single-threaded. */
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

#include <ldns/ldns.h>

#include "common/dnswire.h"
#include "xfr_test.h"

#define PAD 60 /* unchanged names, so that a small difference is well below the zone */

static uint8_t out[65535];

/* Version `serial` of x.test: www's second address and one TXT record change. */
static char *
zone_text(uint32_t serial, int pad, int big)
{
    size_t cap = 1u << 22, n = 0;
    char *t = malloc(cap);
    n += (size_t)snprintf(t + n, cap - n,
                          "$ORIGIN x.test.\n$TTL 300\n@ SOA ns1 host %u 7200 3600 1209600 300\n"
                          "@ NS ns1\n@ NS ns2.example.\nns1 A 192.0.2.1\nwww A 192.0.2.10\n"
                          "www A 192.0.2.%u\nv%u TXT \"version %u\"\nsub NS ns.sub\n"
                          "ns.sub A 192.0.2.53\nmail MX 10 ns1\n",
                          serial, 10 + serial, serial, serial);
    for (int i = 0; i < pad; i++)
        n += (size_t)snprintf(t + n, cap - n, "p%d AAAA 2001:db8::%x\n", i, i + 1);
    /* Long TXT records: about 2 MB for big, many messages. */
    for (int i = 0; i < big; i++)
        n += (size_t)snprintf(t + n, cap - n,
                              "host%d A 198.51.100.%d\nhost%d TXT \"%0200d\" \"%0200d\"\n", i,
                              i % 256, i, i, i);
    return t;
}

struct fixture {
    struct zone *zones[3];
    struct xfr_zone *xz[3];
    struct zone_set *set;
    struct xfr_zone *xzones[1];
    struct xfr_view view;
    struct sockaddr_in client;
};

static struct fixture *
fixture_new(int big)
{
    struct fixture *f = calloc(1, sizeof(*f));
    for (uint32_t i = 0; i < 3; i++) {
        char *text = zone_text(i + 1, PAD, big);
        f->zones[i] = xt_zone("x.test", text);
        free(text);
        f->xz[i] = xt_xfr(f->zones[i], i ? f->xz[i - 1] : NULL);
    }
    struct zone **zs = malloc(sizeof(*zs));
    zs[0] = f->zones[2];
    f->set = zone_set_new(zs, 1);
    f->xzones[0] = f->xz[2];
    f->view = (struct xfr_view){.zones = f->set, .xzones = f->xzones, .udp_max_size = 1232};
    f->client.sin_family = AF_INET;
    f->client.sin_addr.s_addr = htonl(0x7f000001);
    return f;
}

static void
fixture_free(struct fixture *f)
{
    for (int i = 0; i < 3; i++)
        xfr_zone_free(f->xz[i]);
    zone_free(f->zones[0]);
    zone_free(f->zones[1]);
    zone_set_free(f->set); /* zones[2] */
    free(f);
}

static int
setup(void **state)
{
    *state = fixture_new(0);
    return 0;
}

static int
teardown(void **state)
{
    fixture_free(*state);
    return 0;
}

/* Asks and collects every message; returns the first's length. */
static size_t
ask(struct fixture *f, uint16_t qtype, bool with_serial, uint32_t serial, bool tcp,
    struct xfr_stream *s, struct xt_transfer *t)
{
    uint8_t q[512];
    struct xfr_request req;
    size_t qlen = xt_request(q, qtype, "X.test", with_serial, serial, true);
    assert_true(xfr_request_parse(q, qlen, &req));
    struct xfr_client c = {.addr = (struct sockaddr *)&f->client, .tcp = tcp};
    size_t n = xfr_begin(&f->view, &req, &c, out, sizeof(out), s);
    assert_true(n > 0);
    if (t && xt_rcode(out) == 0)
        xt_collect(s, out, n, t);
    return n;
}

/* The zone file's records as ldns reads them (a second opinion on what a zone holds). */
static const char **
zone_records(uint32_t serial, int big, size_t *count)
{
    char *text = zone_text(serial, PAD, big);
    FILE *fp = fmemopen(text, strlen(text), "r");
    assert_non_null(fp);
    ldns_zone *z = NULL;
    ldns_rdf *origin = ldns_dname_new_frm_str("x.test.");
    assert_int_equal(ldns_zone_new_frm_fp(&z, fp, origin, 300, LDNS_RR_CLASS_IN), LDNS_STATUS_OK);
    fclose(fp);
    size_t n = ldns_rr_list_rr_count(ldns_zone_rrs(z));
    const char **recs = calloc(n + 2, sizeof(*recs));
    recs[0] = ldns_rr2str(ldns_zone_soa(z));
    for (size_t i = 0; i < n; i++)
        recs[i + 1] = ldns_rr2str(ldns_rr_list_rr(ldns_zone_rrs(z), i));
    *count = n + 1;
    ldns_zone_deep_free(z);
    ldns_rdf_deep_free(origin);
    free(text);
    return recs;
}

static void
free_records(const char **recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)recs[i]);
    free(recs);
}

static bool
is_soa(const char *rr, uint32_t serial)
{
    char want[32];
    snprintf(want, sizeof(want), "\tSOA\t");
    if (!strstr(rr, want))
        return false;
    snprintf(want, sizeof(want), "host.x.test. %u ", serial);
    return strstr(rr, want) != NULL;
}

/* The AXFR is the SOA, the zone, the SOA. */
static void
expect_full(const struct xt_transfer *t, uint32_t serial, int big)
{
    assert_true(t->records.count >= 3);
    assert_true(is_soa(t->records.items[0], serial));
    assert_true(is_soa(t->records.items[t->records.count - 1], serial));
    struct xt_list body = {.items = t->records.items + 1, .count = t->records.count - 1};
    size_t n;
    const char **recs = zone_records(serial, big, &n);
    /* The closing SOA is the zone's SOA record; the opening one was skipped above. */
    (void)n;
    xt_list_expect(&body, recs);
    free_records(recs, n);
}

static void
test_axfr(void **state)
{
    struct fixture *f = *state;
    struct xfr_stream s;
    struct xt_transfer t = {0};
    ask(f, DNS_TYPE_AXFR, false, 0, true, &s, &t);
    assert_int_equal(s.kind, XFR_KIND_AXFR);
    assert_int_equal(t.messages, 1);
    expect_full(&t, 3, 0);
    /* Glue and the delegation are carried (RFC 5936 §3.3: the zone's data, all of it). */
    bool glue = false;
    for (size_t i = 0; i < t.records.count; i++)
        glue |= strncmp(t.records.items[i], "ns.sub.x.test.\t", 15) == 0;
    assert_true(glue);
    xt_list_free(&t.records);
}

static void
test_axfr_many_messages(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(4000);
    struct xfr_stream s;
    struct xt_transfer t = {0};
    ask(f, DNS_TYPE_AXFR, false, 0, true, &s, &t);
    /* About 2 MB of records: many messages, each filled (all but the last above 60000). */
    assert_true(t.messages > 20);
    assert_true(t.bytes < f->xz[2]->wire_bytes); /* names compressed */
    expect_full(&t, 3, 4000);
    size_t soas = 0;
    for (size_t i = 0; i < t.records.count; i++)
        soas += strstr(t.records.items[i], "\tSOA\t") != NULL;
    assert_int_equal(soas, 2);
    assert_true(t.bytes / t.messages > 50000);
    xt_list_free(&t.records);
    fixture_free(f);
}

/* Index of the records between SOA markers of an IXFR: checks the SOA at `at` has `serial`
 * and returns the records up to the next SOA. */
static struct xt_list
segment(const struct xt_transfer *t, size_t *at, uint32_t serial)
{
    assert_true(*at < t->records.count);
    if (!is_soa(t->records.items[*at], serial))
        fail_msg("record %zu: expected SOA %u, got %s", *at, serial, t->records.items[*at]);
    size_t start = ++*at;
    while (*at < t->records.count && !strstr(t->records.items[*at], "\tSOA\t"))
        (*at)++;
    return (struct xt_list){.items = t->records.items + start, .count = *at - start};
}

static void
test_ixfr_sequence(void **state)
{
    struct fixture *f = *state;
    struct xfr_stream s;
    struct xt_transfer t = {0};
    ask(f, DNS_TYPE_IXFR, true, 1, true, &s, &t);
    assert_int_equal(s.kind, XFR_KIND_IXFR);
    /* RFC 1995 §4: SOA 3; SOA 1, removed 1>2, SOA 2, added 1>2; SOA 2, removed 2>3, SOA 3,
     * added 2>3; SOA 3. */
    size_t at = 0;
    struct xt_list none = segment(&t, &at, 3);
    assert_int_equal(none.count, 0);
    struct xt_list r12 = segment(&t, &at, 1), a12 = segment(&t, &at, 2);
    struct xt_list r23 = segment(&t, &at, 2), a23 = segment(&t, &at, 3);
    struct xt_list end = segment(&t, &at, 3);
    assert_int_equal(end.count, 0);
    assert_int_equal(at, t.records.count);
    static const char *const want_r12[] = {"www.x.test. 300 IN A 192.0.2.11",
                                           "v1.x.test. 300 IN TXT \"version 1\"", NULL};
    static const char *const want_a12[] = {"www.x.test. 300 IN A 192.0.2.12",
                                           "v2.x.test. 300 IN TXT \"version 2\"", NULL};
    static const char *const want_r23[] = {"www.x.test. 300 IN A 192.0.2.12",
                                           "v2.x.test. 300 IN TXT \"version 2\"", NULL};
    static const char *const want_a23[] = {"www.x.test. 300 IN A 192.0.2.13",
                                           "v3.x.test. 300 IN TXT \"version 3\"", NULL};
    xt_list_expect(&r12, want_r12);
    xt_list_expect(&a12, want_a12);
    xt_list_expect(&r23, want_r23);
    xt_list_expect(&a23, want_a23);
    xt_list_free(&t.records);

    /* From 2: the last difference only. */
    struct xt_transfer t2 = {0};
    ask(f, DNS_TYPE_IXFR, true, 2, true, &s, &t2);
    assert_int_equal(s.kind, XFR_KIND_IXFR);
    at = 0;
    assert_int_equal(segment(&t2, &at, 3).count, 0);
    struct xt_list r = segment(&t2, &at, 2), a = segment(&t2, &at, 3);
    xt_list_expect(&r, want_r23);
    xt_list_expect(&a, want_a23);
    assert_int_equal(segment(&t2, &at, 3).count, 0);
    assert_int_equal(at, t2.records.count);
    xt_list_free(&t2.records);
}

static void
test_ixfr_current_and_unknown(void **state)
{
    struct fixture *f = *state;
    struct xfr_stream s;
    /* RFC 1995 §2: the same or a newer serial gets the SOA alone. */
    uint32_t serials[] = {3, 4, 0x7fffffff};
    for (size_t i = 0; i < 3; i++) {
        struct xt_transfer t = {0};
        ask(f, DNS_TYPE_IXFR, true, serials[i], true, &s, &t);
        assert_int_equal(s.kind, XFR_KIND_UP_TO_DATE);
        assert_int_equal(t.records.count, 1);
        assert_true(is_soa(t.records.items[0], 3));
        xt_list_free(&t.records);
    }
    /* A serial the history does not reach: the whole zone (RFC 1995 §4), as AXFR would. */
    struct xt_transfer t = {0};
    ask(f, DNS_TYPE_IXFR, true, 0xfffffff0u, true, &s, &t);
    assert_int_equal(s.kind, XFR_KIND_IXFR_FULL);
    expect_full(&t, 3, 0);
    xt_list_free(&t.records);
}

static void
test_udp(void **state)
{
    struct fixture *f = *state;
    struct xfr_stream s;
    /* A small IXFR fits one datagram: the whole sequence, no stream. */
    struct xt_transfer t = {0};
    size_t n = ask(f, DNS_TYPE_IXFR, true, 2, false, &s, &t);
    assert_int_equal(s.kind, XFR_KIND_IXFR);
    assert_true(n <= 1232);
    assert_int_equal(t.messages, 1);
    assert_int_equal(t.records.count, 8);
    xt_list_free(&t.records);
    /* The whole zone does not: the SOA alone, so the client asks over TCP (RFC 1995 §2). */
    struct xt_transfer t2 = {0};
    ask(f, DNS_TYPE_IXFR, true, 0xfffffff0u, false, &s, &t2);
    assert_int_equal(s.kind, XFR_KIND_UDP_SOA);
    assert_int_equal(t2.records.count, 1);
    assert_true(is_soa(t2.records.items[0], 3));
    xt_list_free(&t2.records);
    /* RFC 5936 §4.2: no AXFR over UDP. */
    n = ask(f, DNS_TYPE_AXFR, false, 0, false, &s, NULL);
    assert_int_equal(xt_rcode(out), DNS_RCODE_NOTIMP);
    assert_int_equal(s.kind, XFR_KIND_ERROR);
    assert_false(s.more);
    assert_true(n > DNS_HEADER_LEN);
}

/* An error: rcode, the question echoed, our OPT, nothing else; AA clear. */
static void
expect_error(size_t n, unsigned rcode)
{
    ldns_pkt *pkt = NULL;
    assert_int_equal(ldns_wire2pkt(&pkt, out, n), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_get_rcode(pkt), rcode);
    assert_false(ldns_pkt_aa(pkt));
    assert_true(ldns_pkt_qr(pkt));
    assert_int_equal(ldns_pkt_qdcount(pkt), 1);
    assert_int_equal(ldns_pkt_ancount(pkt) + ldns_pkt_nscount(pkt), 0);
    assert_int_equal(ldns_pkt_edns_udp_size(pkt), 1232);
    ldns_pkt_free(pkt);
}

/* The message of length n ends with an OPT carrying only RFC 8914 EDE `code`, or (code -1)
 * an OPT without options. */
static void
expect_ede(size_t n, int code)
{
    static const uint8_t prohibited[] = {0, DNS_OPT_EDE, 0, 2, 0, DNS_EDE_PROHIBITED};
    if (code < 0) {
        assert_int_equal(dnswire_get16(out + n - 2), 0); /* RDLENGTH */
        return;
    }
    assert_int_equal(code, DNS_EDE_PROHIBITED);
    assert_int_equal(dnswire_get16(out + n - 8), 6);
    assert_memory_equal(out + n - 6, prohibited, 6);
}

static void
test_refusals(void **state)
{
    struct fixture *f = *state;
    struct xfr_stream s;
    uint8_t q[512];
    struct xfr_request req;
    struct xfr_client c = {.addr = (struct sockaddr *)&f->client, .tcp = true};

    /* Not a zone apex we serve: NOTAUTH (RFC 5936 §2.2.1). */
    const char *names[] = {"www.x.test", "other.test"};
    for (int i = 0; i < 2; i++) {
        size_t qlen = xt_request(q, DNS_TYPE_AXFR, names[i], false, 0, true);
        assert_true(xfr_request_parse(q, qlen, &req));
        expect_error(xfr_begin(&f->view, &req, &c, out, sizeof(out), &s), LDNS_RCODE_NOTAUTH);
    }
    /* IXFR without the client's SOA (RFC 1995 §3). */
    size_t qlen = xt_request(q, DNS_TYPE_IXFR, "x.test", false, 0, true);
    assert_true(xfr_request_parse(q, qlen, &req));
    assert_false(req.has_serial);
    expect_error(xfr_begin(&f->view, &req, &c, out, sizeof(out), &s), LDNS_RCODE_FORMERR);

    /* The ACL: a network the client is not in, and no `transfer:` at all. */
    struct config_prefix ten = {.family = 4, .prefix_len = 8, .addr = {10}};
    struct config_transfer only_ten = {.enabled = true, .allow = &ten, .allow_count = 1};
    struct config_transfer none = {0};
    const struct config_transfer *saved = f->xz[2]->transfer;
    qlen = xt_request(q, DNS_TYPE_AXFR, "x.test", false, 0, true);
    assert_true(xfr_request_parse(q, qlen, &req));
    f->xz[2]->transfer = &only_ten;
    size_t n = xfr_begin(&f->view, &req, &c, out, sizeof(out), &s);
    expect_error(n, LDNS_RCODE_REFUSED);
    expect_ede(n, DNS_EDE_PROHIBITED); /* RFC 8914 §4.19 */
    f->xz[2]->transfer = &none;
    n = xfr_begin(&f->view, &req, &c, out, sizeof(out), &s);
    expect_error(n, LDNS_RCODE_REFUSED);
    expect_ede(n, DNS_EDE_PROHIBITED);
    /* A zone we do not serve is NOTAUTH, without a reason (knotd answers the same). */
    qlen = xt_request(q, DNS_TYPE_AXFR, "nope.test", false, 0, true);
    assert_true(xfr_request_parse(q, qlen, &req));
    n = xfr_begin(&f->view, &req, &c, out, sizeof(out), &s);
    expect_error(n, LDNS_RCODE_NOTAUTH);
    expect_ede(n, -1);
    qlen = xt_request(q, DNS_TYPE_AXFR, "x.test", false, 0, true);
    assert_true(xfr_request_parse(q, qlen, &req));
    f->client.sin_addr.s_addr = htonl(0x0a000001);
    f->xz[2]->transfer = &only_ten;
    assert_true(xfr_begin(&f->view, &req, &c, out, sizeof(out), &s) > 0);
    assert_int_equal(xt_rcode(out), 0);
    assert_int_equal(s.kind, XFR_KIND_AXFR);
    f->xz[2]->transfer = saved;
}

static void
set_addr(struct sockaddr_storage *ss, const char *text)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        return;
    }
    assert_int_equal(inet_pton(AF_INET6, text, &a6->sin6_addr), 1);
    a6->sin6_family = AF_INET6;
}

/* key: the signing key's name as text (NULL: unsigned), given to the ACL in wire form as
 * the TSIG module names it. */
static bool
allows(const struct config_transfer *t, const char *addr, const char *key)
{
    struct sockaddr_storage ss;
    uint8_t wire[DNAME_MAX_LEN];
    set_addr(&ss, addr);
    if (key)
        assert_true(dname_from_text(key, wire) > 0);
    return xfr_acl_allows(t, (struct sockaddr *)&ss, key ? wire : NULL);
}

static void
test_acl(void **state)
{
    (void)state;
    struct config_prefix nets[2] = {
        {.family = 4, .prefix_len = 25, .addr = {127, 0, 0, 0}},
        {.family = 6, .prefix_len = 32, .addr = {0x20, 0x01, 0x0d, 0xb8}}};
    char *keys[] = {"xfr-key", "other.key."};
    struct config_transfer addr_only = {.enabled = true, .allow = nets, .allow_count = 2};
    struct config_transfer key_only = {.enabled = true, .keys = keys, .key_count = 2};
    struct config_transfer both = {
        .enabled = true, .allow = nets, .allow_count = 2, .keys = keys, .key_count = 2};
    struct config_transfer off = {0};

    assert_true(allows(&addr_only, "127.0.0.1", NULL));
    assert_true(allows(&addr_only, "127.0.0.127", "anything"));
    assert_false(allows(&addr_only, "127.0.0.128", NULL)); /* /25 */
    assert_true(allows(&addr_only, "2001:db8:ffff::1", NULL));
    assert_false(allows(&addr_only, "2001:db9::1", NULL));
    assert_true(allows(&addr_only, "::ffff:127.0.0.2", NULL)); /* IPv4-mapped */
    assert_false(allows(&addr_only, "::1", NULL));

    assert_true(allows(&key_only, "192.0.2.1", "xfr-key"));
    assert_true(allows(&key_only, "192.0.2.1", "XFR-Key.")); /* a domain name: RFC 8945 §4.2 */
    assert_true(allows(&key_only, "::1", "other.key"));
    assert_false(allows(&key_only, "127.0.0.1", NULL));
    assert_false(allows(&key_only, "127.0.0.1", "xfr-key2"));

    /* Both given: both required. */
    assert_true(allows(&both, "127.0.0.1", "xfr-key"));
    assert_false(allows(&both, "127.0.0.1", NULL));
    assert_false(allows(&both, "192.0.2.1", "xfr-key"));

    assert_false(allows(&off, "127.0.0.1", "xfr-key"));
    assert_false(xfr_acl_allows(NULL, NULL, NULL));
}

static void
test_request_parse(void **state)
{
    (void)state;
    uint8_t q[512];
    struct xfr_request req;
    size_t n = xt_request(q, DNS_TYPE_IXFR, "Example.TEST", true, 77, true);
    assert_true(xfr_request_parse(q, n, &req));
    assert_int_equal(req.id, 0x2233);
    assert_int_equal(req.qtype, DNS_TYPE_IXFR);
    assert_true(req.has_serial);
    assert_int_equal(req.serial, 77);
    assert_true(req.edns);
    assert_false(req.edns_do);
    assert_int_equal(req.edns_udp_size, 1232);
    assert_memory_equal(req.qname,
                        "\x07"
                        "Example\x04TEST",
                        14);
    assert_memory_equal(req.lname,
                        "\x07"
                        "example\x04test",
                        14);
    assert_int_equal(req.tsig_at, 0);

    /* Not transfers, or better answered by dns_answer. */
    n = xt_request(q, DNS_TYPE_A, "x.test", false, 0, false);
    assert_false(xfr_request_parse(q, n, &req)); /* another type */
    n = xt_request(q, DNS_TYPE_AXFR, "x.test", false, 0, true);
    q[n - 5] = 1; /* EDNS version 1: BADVERS */
    assert_false(xfr_request_parse(q, n, &req));
    n = xt_request(q, DNS_TYPE_AXFR, "x.test", false, 0, false);
    q[n] = 0;
    assert_false(xfr_request_parse(q, n + 1, &req)); /* a trailing byte: FORMERR */
    assert_false(xfr_request_parse(q, n - 1, &req)); /* cut short */
    q[2] |= 0x80;
    assert_false(xfr_request_parse(q, n, &req)); /* a response */
    q[2] = (uint8_t)(4 << 3);
    assert_false(xfr_request_parse(q, n, &req)); /* NOTIFY */
    n = xt_request(q, DNS_TYPE_AXFR, "x.test", false, 0, false);
    dnswire_put16(q + n - 2, DNS_CLASS_CH);
    assert_false(xfr_request_parse(q, n, &req)); /* class CH: dns_answer REFUSES */

    /* A TSIG record is found for the TSIG step (RFC 8945 §4.2: last in the message). */
    n = xt_request(q, DNS_TYPE_AXFR, "x.test", false, 0, true);
    size_t tsig = n;
    static const uint8_t record[] = {3, 'k', 'e', 'y', 0, 0, 250,  0,   255,
                                     0, 0,   0,   0,   0, 2, 0xAB, 0xCD};
    memcpy(q + n, record, sizeof(record));
    n += sizeof(record);
    dnswire_put16(q + DNS_OFF_ARCOUNT, 2);
    assert_true(xfr_request_parse(q, n, &req));
    assert_int_equal(req.tsig_at, tsig);
}

/* A signer that appends a 20-octet record stand-in and checks what it is given. */
struct fake_signer {
    uint32_t calls, lasts;
    uint32_t next_index;
};

static size_t
fake_sign(void *state, uint8_t *msg, size_t len, size_t max, uint32_t index, bool last)
{
    struct fake_signer *fs = state;
    assert_int_equal(index, fs->next_index);
    fs->next_index++;
    fs->calls++;
    fs->lasts += last;
    assert_true(len + 20 <= max);
    memset(msg + len, 0xEE, 20);
    return len + 20;
}

static void
test_signer_hook(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1000);
    uint8_t q[512];
    struct xfr_request req;
    struct xfr_stream s;
    struct fake_signer init = {0};
    struct xfr_signer signer = {
        .sign = fake_sign, .room = 20, .init = &init, .init_len = sizeof(init)};
    struct xfr_client c = {.addr = (struct sockaddr *)&f->client, .tcp = true, .signer = &signer};
    size_t qlen = xt_request(q, DNS_TYPE_AXFR, "x.test", false, 0, true);
    assert_true(xfr_request_parse(q, qlen, &req));
    size_t n = xfr_begin(&f->view, &req, &c, out, sizeof(out), &s);
    uint32_t messages = 1;
    while (n > 0) {
        assert_true(n <= sizeof(out));
        /* The stand-in is the last thing in every message. */
        for (int i = 1; i <= 20; i++)
            assert_int_equal(out[n - (size_t)i], 0xEE);
        n = xfr_stream_next(&s, out, sizeof(out));
        messages += n > 0;
    }
    const struct fake_signer *fs = (const struct fake_signer *)s.signer_state;
    assert_true(messages > 1);
    assert_int_equal(fs->calls, messages);
    assert_int_equal(fs->lasts, 1);
    fixture_free(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_axfr, setup, teardown),
        cmocka_unit_test(test_axfr_many_messages),
        cmocka_unit_test_setup_teardown(test_ixfr_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ixfr_current_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test(test_acl),
        cmocka_unit_test(test_request_parse),
        cmocka_unit_test(test_signer_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
