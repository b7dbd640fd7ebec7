// SPDX-License-Identifier: MIT
/* dns_answer: wire in, wire out. Queries are built and responses decoded with ldns (tests
 * only, answer_test.c), and every section is asserted: rcode, flags, records, TTLs, EDNS.
 * Every call writes into a poisoned buffer and its returned length is checked (exactly one
 * well-formed message; 0 for a dropped query), so a stale reply cannot pass. */
#include <ldns/ldns.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "answer_test.h"
#include "wire_end.h"
#include "dns/dns.h"

static const char zone_text[] =
    "$ORIGIN example.com.\n"
    "$TTL 3600\n"
    "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
    "@ NS ns1\n"
    "@ NS ns2.example.net.\n"
    "@ MX 10 mail\n"
    "ns1 A 192.0.2.1\n"
    "mail A 192.0.2.25\n"
    "mail AAAA 2001:db8::25\n"
    "www A 192.0.2.80\n"
    "alias CNAME www\n"
    "chain CNAME alias\n"
    "dangling CNAME nowhere\n"
    "external CNAME www.example.org.\n"
    "loop1 CNAME loop2\n"
    "loop2 CNAME loop1\n"
    "*.wild A 192.0.2.99\n"
    "*.wild TXT \"wild\"\n"
    "host.wild A 192.0.2.98\n"
    "a.b.ent A 192.0.2.7\n"
    "dn DNAME target\n"
    "x.target A 192.0.2.66\n"
    "sub NS ns.sub\n"
    "sub NS ns1\n"
    "sub DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE\n"
    "ns.sub A 192.0.2.53\n"
    "big TXT \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"1123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"2123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"3123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"4123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"5123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"6123456789012345678901234567890123456789012345678901234567890123456789\"\n";

static struct zone_set *zones;
static const uint8_t nsid[] = {'s', 'i', 't', 'e', '1'};
static struct dns_view view;

static int
setup(void **state)
{
    (void)state;
    zones = answer_zone_set("example.com", zone_text);
    view = (struct dns_view){.zones = zones,
                             .identity = "ns.test",
                             .version = "Meridian test",
                             .nsid = nsid,
                             .nsid_len = sizeof(nsid),
                             .udp_max_size = 1232};
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    zone_set_free(zones);
    return 0;
}

/* One query through dns_answer, checked and decoded by answer_ask(). */
static ldns_pkt *
ask(struct answer_q q)
{
    return answer_ask(&view, &q);
}

static uint8_t raw_out[4096];

/* Answers a hand-built query over UDP into a poisoned buffer (so a stale reply cannot
 * pass). The reply must be exactly want_len bytes, walk as one message by its counts, echo
 * the ID with QR set and agree with the dns_result; returns its rcode. want_len 0: the
 * query must be dropped (dns_answer returns 0) and -1 is returned. */
static int
raw(const uint8_t *query, size_t len, size_t want_len)
{
    struct dns_client client = {.tcp = false};
    struct dns_result res;
    memset(raw_out, 0xA5, sizeof(raw_out));
    memset(&res, 0xA5, sizeof(res));
    size_t n = dns_answer(&view, &client, query, len, raw_out, sizeof(raw_out), &res);
    assert_int_equal(n, want_len);
    if (want_len == 0)
        return -1;
    assert_int_equal(wire_message_end(raw_out, n), n);
    assert_memory_equal(raw_out, query, 2);
    assert_true(raw_out[2] & 0x80);
    assert_int_equal(res.rcode & 0xF, raw_out[3] & 0xF);
    return raw_out[3] & 0xF;
}

static const char soa_neg[] =
    "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 "
    "300\n";

static void
test_positive(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "www.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_aa(r));
    answer_assert_section(ldns_pkt_answer(r), "www.example.com. 3600 IN A 192.0.2.80\n");
    assert_int_equal(ldns_pkt_nscount(r), 0);
    assert_int_equal(ldns_pkt_arcount(r), 0);
    ldns_pkt_free(r);
}

static void
test_negative(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "nope.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    assert_true(ldns_pkt_aa(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    answer_assert_section(ldns_pkt_authority(r), soa_neg);
    ldns_pkt_free(r);

    r = ask((struct answer_q){.name = "www.example.com.", .type = LDNS_RR_TYPE_MX}); /* NODATA */
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    answer_assert_section(ldns_pkt_authority(r), soa_neg);
    ldns_pkt_free(r);

    /* An empty non-terminal exists: NODATA, not NXDOMAIN (RFC 8020). */
    r = ask((struct answer_q){.name = "b.ent.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    answer_assert_section(ldns_pkt_authority(r), soa_neg);
    ldns_pkt_free(r);
}

static void
test_wildcard(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "a.b.wild.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    answer_assert_section(ldns_pkt_answer(r), "a.b.wild.example.com. 3600 IN A 192.0.2.99\n");
    ldns_pkt_free(r);

    /* RFC 4592 §2.2.1: an existing name blocks the wildcard. */
    r = ask((struct answer_q){.name = "host.wild.example.com.", .type = LDNS_RR_TYPE_TXT});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);

    /* The wildcard owner has no MX: NODATA. */
    r = ask((struct answer_q){.name = "z.wild.example.com.", .type = LDNS_RR_TYPE_MX});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    answer_assert_section(ldns_pkt_authority(r), soa_neg);
    ldns_pkt_free(r);
}

static void
test_cname(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "chain.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_aa(r));
    /* RFC 1034 §3.6.2 / RFC 2308 §1: the chain in order, starting at the query name. */
    answer_assert_ordered(ldns_pkt_answer(r),
                          "chain.example.com. 3600 IN CNAME alias.example.com.\n"
                          "alias.example.com. 3600 IN CNAME www.example.com.\n"
                          "www.example.com. 3600 IN A 192.0.2.80\n");
    ldns_pkt_free(r);

    /* RFC 6604 §3: the rcode is that of the last name in the chain. */
    r = ask((struct answer_q){.name = "dangling.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    answer_assert_section(ldns_pkt_authority(r), soa_neg);
    ldns_pkt_free(r);

    r = ask((struct answer_q){.name = "external.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    answer_assert_section(ldns_pkt_answer(r),
                          "external.example.com. 3600 IN CNAME www.example.org.\n");
    ldns_pkt_free(r);

    /* A loop ends where it meets a name already answered: each link once, no error. */
    r = ask((struct answer_q){.name = "loop1.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 2);
    answer_assert_ordered(ldns_pkt_answer(r),
                          "loop1.example.com. 3600 IN CNAME loop2.example.com.\n"
                          "loop2.example.com. 3600 IN CNAME loop1.example.com.\n");
    ldns_pkt_free(r);

    /* Asking for the CNAME itself does not follow it. */
    r = ask((struct answer_q){.name = "alias.example.com.", .type = LDNS_RR_TYPE_CNAME});
    answer_assert_section(ldns_pkt_answer(r),
                          "alias.example.com. 3600 IN CNAME www.example.com.\n");
    ldns_pkt_free(r);
}

static void
test_dname(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "x.dn.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    answer_assert_ordered(ldns_pkt_answer(r),
                          "dn.example.com. 3600 IN DNAME target.example.com.\n"
                          "x.dn.example.com. 3600 IN CNAME x.target.example.com.\n"
                          "x.target.example.com. 3600 IN A 192.0.2.66\n");
    ldns_pkt_free(r);
}

static void
test_referral(void **state)
{
    (void)state;
    ldns_pkt *r =
        ask((struct answer_q){.name = "deep.www.sub.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_false(ldns_pkt_aa(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    answer_assert_section(ldns_pkt_authority(r), "sub.example.com. 3600 IN NS ns.sub.example.com.\n"
                                                 "sub.example.com. 3600 IN NS ns1.example.com.\n");
    answer_assert_section(ldns_pkt_additional(r), "ns1.example.com. 3600 IN A 192.0.2.1\n"
                                                  "ns.sub.example.com. 3600 IN A 192.0.2.53\n");
    ldns_pkt_free(r);

    /* DS lives on the parent side of the cut: an authoritative answer. */
    r = ask((struct answer_q){.name = "sub.example.com.", .type = LDNS_RR_TYPE_DS});
    assert_true(ldns_pkt_aa(r));
    assert_int_equal(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
}

static void
test_additional_and_case(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "ExAmPlE.cOm.", .type = LDNS_RR_TYPE_MX});
    answer_assert_section(ldns_pkt_answer(r), "ExAmPlE.cOm. 3600 IN MX 10 mail.ExAmPlE.cOm.\n");
    answer_assert_section(ldns_pkt_additional(r), "mail.ExAmPlE.cOm. 3600 IN A 192.0.2.25\n"
                                                  "mail.ExAmPlE.cOm. 3600 IN AAAA 2001:db8::25\n");
    /* The question keeps the client's case (0x20 resolvers depend on it). */
    char *q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)));
    assert_string_equal(q, "ExAmPlE.cOm.");
    free(q);
    ldns_pkt_free(r);
}

static void
test_refused_and_chaos(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "example.org.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    assert_false(ldns_pkt_aa(r));
    ldns_pkt_free(r);

    r = ask((struct answer_q){
        .name = "id.server.", .type = LDNS_RR_TYPE_TXT, .rclass = LDNS_RR_CLASS_CH});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    answer_assert_section(ldns_pkt_answer(r), "id.server. 0 CH TXT \"ns.test\"\n");
    ldns_pkt_free(r);

    r = ask((struct answer_q){
        .name = "version.bind.", .type = LDNS_RR_TYPE_TXT, .rclass = LDNS_RR_CLASS_CH});
    answer_assert_section(ldns_pkt_answer(r), "version.bind. 0 CH TXT \"Meridian test\"\n");
    ldns_pkt_free(r);

    view.version = NULL; /* hidden */
    r = ask((struct answer_q){
        .name = "version.bind.", .type = LDNS_RR_TYPE_TXT, .rclass = LDNS_RR_CLASS_CH});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    ldns_pkt_free(r);
    view.version = "Meridian test";
}

/* A secondary zone past its expire: SERVFAIL for every name in it, and no AA (RFC 1035
 * §3.3.13); the same zone answers again once it is no longer expired. */
static void
test_expired(void **state)
{
    (void)state;
    struct zone *z = view.zones->zones[0];
    z->expired = true;
    ldns_pkt *r = ask((struct answer_q){.name = "www.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
    assert_false(ldns_pkt_aa(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
    r = ask((struct answer_q){.name = "example.com.", .type = LDNS_RR_TYPE_SOA});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
    ldns_pkt_free(r);
    z->expired = false;
    r = ask((struct answer_q){.name = "www.example.com.", .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ldns_pkt_free(r);
}

static void
test_edns_nsid_and_truncation(void **state)
{
    (void)state;
    /* 7 x 73-byte TXT strings: about 600 bytes, over 512 but under 1232. */
    ldns_pkt *r = ask((struct answer_q){.name = "big.example.com.", .type = LDNS_RR_TYPE_TXT});
    assert_true(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);

    r = ask((struct answer_q){
        .name = "big.example.com.", .type = LDNS_RR_TYPE_TXT, .edns = true, .nsid = true});
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 7);
    assert_int_equal(ldns_pkt_edns_udp_size(r), 1232);
    ldns_rdf *data = ldns_pkt_edns_data(r);
    assert_non_null(data);
    static const uint8_t want[] = {0, 3, 0, 5, 's', 'i', 't', 'e', '1'};
    assert_int_equal(ldns_rdf_size(data), sizeof(want));
    assert_memory_equal(ldns_rdf_data(data), want, sizeof(want));
    ldns_pkt_free(r);

    /* An EDNS size below 512 counts as 512 (RFC 6891 §6.2.5). */
    r = ask((struct answer_q){
        .name = "big.example.com.", .type = LDNS_RR_TYPE_TXT, .edns = true, .udp_size = 100});
    assert_true(ldns_pkt_tc(r));
    ldns_pkt_free(r);

    /* TCP has room for everything. */
    r = ask((struct answer_q){.name = "big.example.com.", .type = LDNS_RR_TYPE_TXT, .tcp = true});
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 7);
    ldns_pkt_free(r);
}

static void
test_any(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "mail.example.com.", .type = LDNS_RR_TYPE_ANY});
    assert_int_equal(ldns_pkt_ancount(r), 1); /* RFC 8482: one RRset over UDP */
    ldns_pkt_free(r);
    r = ask((struct answer_q){.name = "mail.example.com.", .type = LDNS_RR_TYPE_ANY, .tcp = true});
    assert_int_equal(ldns_pkt_ancount(r), 2);
    ldns_pkt_free(r);
    /* The apex over TCP: its MX target's addresses in the additional section, as for MX. */
    r = ask((struct answer_q){.name = "example.com.", .type = LDNS_RR_TYPE_ANY, .tcp = true});
    answer_assert_section(ldns_pkt_additional(r), "mail.example.com. 3600 IN A 192.0.2.25\n"
                                                  "mail.example.com. 3600 IN AAAA 2001:db8::25\n"
                                                  "ns1.example.com. 3600 IN A 192.0.2.1\n");
    ldns_pkt_free(r);
}

/* AXFR and IXFR: checked like any query; a caller that answers transfers gets them reported
 * (nothing written), any other caller's are REFUSED; malformed ones keep their rcode. */
static void
test_transfer_requests(void **state)
{
    (void)state;
    /* example.com AXFR IN, id 0x4321. */
    uint8_t q[] = {0x43, 0x21, 0x00, 0x00, 0,   1,   0,   0,   0, 0, 0, 0, 7, 'e',
                   'x',  'a',  'm',  'p',  'l', 'e', 3,   'c', 'o', 'm', 0, 0, 252, 0, 1};
    struct dns_client client = {.tcp = true, .transfers = true};
    struct dns_result res;
    assert_int_equal(dns_answer(&view, &client, q, sizeof(q), raw_out, sizeof(raw_out), &res), 0);
    assert_true(res.transfer);
    assert_int_equal(res.qtype, 252);
    q[26] = 251; /* IXFR */
    assert_int_equal(dns_answer(&view, &client, q, sizeof(q), raw_out, sizeof(raw_out), &res), 0);
    assert_true(res.transfer);
    /* Without a caller for them: REFUSED, question echoed. */
    assert_int_equal(raw(q, sizeof(q), sizeof(q)), 5);
    /* Class CH is not a transfer: REFUSED even for that caller. */
    q[28] = 3;
    size_t n = dns_answer(&view, &client, q, sizeof(q), raw_out, sizeof(raw_out), &res);
    assert_int_equal(n, sizeof(q));
    assert_false(res.transfer);
    assert_int_equal(raw_out[3] & 0xF, 5);
    /* A trailing byte: FORMERR from the parser, not a transfer. */
    uint8_t trail[sizeof(q) + 1];
    memcpy(trail, q, sizeof(q));
    trail[28] = 1;
    trail[sizeof(q)] = 0;
    n = dns_answer(&view, &client, trail, sizeof(trail), raw_out, sizeof(raw_out), &res);
    assert_int_equal(n, sizeof(q));
    assert_false(res.transfer);
    assert_int_equal(raw_out[3] & 0xF, 1);
}

/* Malformed and odd messages, built by hand. Every reply is checked for its exact length
 * (an earlier reply left in the buffer cannot pass) and drops for a return of 0. */
static void
test_malformed(void **state)
{
    (void)state;
    /* www.example.com A, id 0x1234, RD. */
    uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0, 0,   0,   0,   0, 3, 'w', 'w', 'w', 7,
                   'e',  'x',  'a',  'm',  'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1,   0,   1};
    /* The answer: a pointer to the question's name, type, class, TTL, RDLENGTH, address. */
    static const uint8_t www_a[] = {0xC0, 12, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 192, 0, 2, 80};
    assert_int_equal(raw(q, sizeof(q), sizeof(q) + sizeof(www_a)), 0);
    assert_int_equal(raw_out[7], 1); /* ANCOUNT */
    assert_memory_equal(raw_out + sizeof(q), www_a, sizeof(www_a));

    /* A FORMERR first, then drops: each must report 0, whatever the buffer still holds. */
    uint8_t two[sizeof(q)];
    memcpy(two, q, sizeof(q));
    two[5] = 2; /* QDCOUNT 2: FORMERR, nothing echoed (the question is ambiguous) */
    assert_int_equal(raw(two, sizeof(two), 12), 1);
    assert_int_equal(raw(q, 11, 0), -1); /* shorter than a header: dropped */
    uint8_t resp[sizeof(q)];
    memcpy(resp, q, sizeof(q));
    resp[2] |= 0x80; /* QR set: never answered */
    assert_int_equal(raw(resp, sizeof(resp), 0), -1);

    /* Question cut short: FORMERR without a question (it could not be read). */
    assert_int_equal(raw(q, sizeof(q) - 3, 12), 1);
    assert_int_equal(raw_out[5], 0);

    /* A label length running past the end. */
    uint8_t badlabel[sizeof(q)];
    memcpy(badlabel, q, sizeof(q));
    badlabel[12] = 60;
    assert_int_equal(raw(badlabel, sizeof(badlabel), 12), 1);

    /* Opcode STATUS (2): NOTIMP with the question echoed (no EDNS, so no OPT). */
    uint8_t status[sizeof(q)];
    memcpy(status, q, sizeof(q));
    status[2] = 0x10;
    assert_int_equal(raw(status, sizeof(status), sizeof(q)), 4);
    assert_int_equal(raw_out[5], 1);
    assert_memory_equal(raw_out + 12, q + 12, sizeof(q) - 12);

    /* NOTIFY (RFC 1996): a zone we serve is a primary's, so REFUSED (as NSD); any other
     * name NOTAUTH (as Knot). The opcode is echoed, AA clear. */
    static const uint8_t notify[] = {0xab, 0xcd, 0x24, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                     7,    'e',  'x',  'a',  'm', 'p', 'l', 'e', 3, 'c', 'o',
                                     'm',  0,    0,    6,    0, 1};
    assert_int_equal(raw(notify, sizeof(notify), sizeof(notify)), 5);
    assert_int_equal(raw_out[2] & 0x7C, 0x20); /* opcode NOTIFY, AA clear */
    assert_memory_equal(raw_out + 12, notify + 12, sizeof(notify) - 12);
    uint8_t notify_www[sizeof(notify) + 4];
    memcpy(notify_www, notify, 12);
    memcpy(notify_www + 12, "\x03www", 4);
    memcpy(notify_www + 16, notify + 12, sizeof(notify) - 12);
    assert_int_equal(raw(notify_www, sizeof(notify_www), sizeof(notify_www)), 9);

    /* Trailing garbage: FORMERR, the question (which parsed) echoed. */
    uint8_t trail[sizeof(q) + 3];
    memcpy(trail, q, sizeof(q));
    memset(trail + sizeof(q), 0, 3);
    assert_int_equal(raw(trail, sizeof(trail), sizeof(q)), 1);
    assert_memory_equal(raw_out + 12, q + 12, sizeof(q) - 12);

    /* EDNS version 1: BADVERS = extended rcode 16 (RFC 6891 §6.1.3): header rcode 0, the
     * upper bits in our OPT, the last record. */
    uint8_t v1[sizeof(q) + 11];
    memcpy(v1, q, sizeof(q));
    v1[11] = 1;
    static const uint8_t opt[] = {0, 0, 41, 4, 0xd0, 0, 1, 0, 0, 0, 0};
    memcpy(v1 + sizeof(q), opt, sizeof(opt));
    assert_int_equal(raw(v1, sizeof(v1), sizeof(v1)), 0);
    assert_int_equal(raw_out[11], 1);             /* ARCOUNT: our OPT */
    assert_int_equal(raw_out[sizeof(q) + 2], 41); /* its type */
    assert_int_equal(raw_out[sizeof(q) + 5], 1);  /* extended rcode high bits: 16 >> 4 */
    assert_int_equal(raw_out[sizeof(q) + 6], 0);  /* our version: 0 */

    /* Two OPT records: FORMERR (RFC 6891 §6.1.1), with one OPT of ours. */
    uint8_t two_opt[sizeof(q) + 22];
    memcpy(two_opt, q, sizeof(q));
    two_opt[11] = 2;
    memcpy(two_opt + sizeof(q), opt, sizeof(opt));
    memcpy(two_opt + sizeof(q) + 11, opt, sizeof(opt));
    two_opt[sizeof(q) + 6] = 0; /* version 0 on both */
    two_opt[sizeof(q) + 17] = 0;
    assert_int_equal(raw(two_opt, sizeof(two_opt), sizeof(q)), 1);
    assert_int_equal(raw_out[11], 0); /* no OPT: neither of the two can be trusted */

    /* Every error reply to a query with one OPT carries ours (RFC 6891 §6.1.1). */
    uint8_t with_opt[sizeof(q) + 11];
    memcpy(with_opt, q, sizeof(q));
    with_opt[11] = 1;
    memcpy(with_opt + sizeof(q), opt, sizeof(opt));
    with_opt[sizeof(q) + 6] = 0;
    with_opt[2] = 0x11; /* opcode STATUS, RD */
    assert_int_equal(raw(with_opt, sizeof(with_opt), sizeof(with_opt)), 4); /* NOTIMP */
    assert_int_equal(raw_out[11], 1);
    assert_int_equal(raw_out[sizeof(with_opt) - 11 + 2], 41);
    uint8_t no_question[12 + 11];
    memcpy(no_question, with_opt, 12);
    no_question[2] = 0x01;
    no_question[5] = 0; /* QDCOUNT 0: FORMERR, still with OPT */
    memcpy(no_question + 12, opt, sizeof(opt));
    no_question[12 + 6] = 0;
    assert_int_equal(raw(no_question, sizeof(no_question), sizeof(no_question)), 1);
    assert_int_equal(raw_out[5], 0);
    assert_int_equal(raw_out[11], 1);

    /* CD is cleared (RFC 4035 §3.1.6), RD copied. */
    uint8_t cd[sizeof(q)];
    memcpy(cd, q, sizeof(q));
    cd[3] = 0x10;
    assert_int_equal(raw(cd, sizeof(cd), sizeof(q) + sizeof(www_a)), 0);
    assert_int_equal(raw_out[2] & 0x01, 1);
    assert_int_equal(raw_out[3] & 0xF0, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positive),
        cmocka_unit_test(test_negative),
        cmocka_unit_test(test_wildcard),
        cmocka_unit_test(test_cname),
        cmocka_unit_test(test_dname),
        cmocka_unit_test(test_referral),
        cmocka_unit_test(test_additional_and_case),
        cmocka_unit_test(test_refused_and_chaos),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_edns_nsid_and_truncation),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_transfer_requests),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
