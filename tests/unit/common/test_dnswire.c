// SPDX-License-Identifier: MIT
/* Unit tests for the DNS wire vocabulary (src/common/dnswire.h): names and numbers of types
 * and rcodes checked against ldns's, the query builder decoded by ldns and compared with a
 * hand-built message, and the reply reader (question check, RR walk, RDATA compare and
 * render) on replies encoded by ldns or, for malformed ones, by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"

/* ------------------------------------------------------------------ names and numbers */

static void
test_type_numbers_match_ldns(void **state)
{
    static const struct {
        uint16_t ours;
        ldns_rr_type theirs;
    } pairs[] = {
        {DNS_TYPE_A, LDNS_RR_TYPE_A},
        {DNS_TYPE_NS, LDNS_RR_TYPE_NS},
        {DNS_TYPE_CNAME, LDNS_RR_TYPE_CNAME},
        {DNS_TYPE_SOA, LDNS_RR_TYPE_SOA},
        {DNS_TYPE_PTR, LDNS_RR_TYPE_PTR},
        {DNS_TYPE_MX, LDNS_RR_TYPE_MX},
        {DNS_TYPE_TXT, LDNS_RR_TYPE_TXT},
        {DNS_TYPE_AAAA, LDNS_RR_TYPE_AAAA},
        {DNS_TYPE_SRV, LDNS_RR_TYPE_SRV},
        {DNS_TYPE_DNAME, LDNS_RR_TYPE_DNAME},
        {DNS_TYPE_OPT, LDNS_RR_TYPE_OPT},
        {DNS_TYPE_DS, LDNS_RR_TYPE_DS},
        {DNS_TYPE_RRSIG, LDNS_RR_TYPE_RRSIG},
        {DNS_TYPE_NSEC, LDNS_RR_TYPE_NSEC},
        {DNS_TYPE_DNSKEY, LDNS_RR_TYPE_DNSKEY},
        {DNS_TYPE_CDS, LDNS_RR_TYPE_CDS},
        {DNS_TYPE_CDNSKEY, LDNS_RR_TYPE_CDNSKEY},
        {DNS_TYPE_SVCB, 64},
        {DNS_TYPE_HTTPS, 65},
        {DNS_TYPE_TSIG, LDNS_RR_TYPE_TSIG},
        {DNS_TYPE_IXFR, LDNS_RR_TYPE_IXFR},
        {DNS_TYPE_AXFR, LDNS_RR_TYPE_AXFR},
        {DNS_TYPE_MAILB, LDNS_RR_TYPE_MAILB},
        {DNS_TYPE_MAILA, LDNS_RR_TYPE_MAILA},
        {DNS_TYPE_ANY, LDNS_RR_TYPE_ANY},
        {DNS_TYPE_CAA, 257},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        assert_int_equal(pairs[i].ours, pairs[i].theirs);
    assert_int_equal(DNS_CLASS_IN, LDNS_RR_CLASS_IN);
    assert_int_equal(DNS_CLASS_CH, LDNS_RR_CLASS_CH);
    assert_int_equal(DNS_RCODE_NOTIMP, LDNS_RCODE_NOTIMPL);
    assert_int_equal(DNS_RCODE_REFUSED, LDNS_RCODE_REFUSED);
    assert_int_equal(DNS_RCODE_NOTZONE, LDNS_RCODE_NOTZONE);
}

static void
test_type_names(void **state)
{
    static const char *const names[] = {"A",   "AAAA",  "NS", "CNAME", "SOA",   "PTR", "MX", "TXT",
                                        "SRV", "DNAME", "DS", "SVCB",  "HTTPS", "CAA", "ANY"};
    char buf[DNSWIRE_TYPE_TEXT_MAX];
    (void)state;

    /* Every mnemonic we know is ldns's number for it, and back. */
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int t = dnswire_type_from_text(names[i], NULL, 0, false);
        assert_int_equal(t, ldns_get_rr_type_by_name(names[i]));
        assert_string_equal(dnswire_type_name((uint16_t)t), names[i]);
    }
    assert_int_equal(dnswire_type_from_text("aaaa", NULL, 0, false), DNS_TYPE_AAAA);
    assert_int_equal(dnswire_type_from_text("Https", NULL, 0, false), DNS_TYPE_HTTPS);
    assert_null(dnswire_type_name(DNS_TYPE_RRSIG)); /* not an operator's word */
    assert_string_equal(dnswire_type_text(DNS_TYPE_RRSIG, buf), "TYPE46");
    assert_string_equal(dnswire_type_text(65535, buf), "TYPE65535");
    assert_string_equal(dnswire_type_text(DNS_TYPE_MX, buf), "MX");

    /* RFC 3597 §5 numbers: digits only, 1..65535, only when asked for. */
    assert_int_equal(dnswire_type_from_text("TYPE65535", NULL, 0, true), 65535);
    assert_int_equal(dnswire_type_from_text("type46", NULL, 0, true), 46);
    assert_int_equal(dnswire_type_from_text("TYPE1", NULL, 0, false), -1);
    assert_int_equal(dnswire_type_from_text("TYPE0", NULL, 0, true), -1);
    assert_int_equal(dnswire_type_from_text("TYPE65536", NULL, 0, true), -1);
    assert_int_equal(dnswire_type_from_text("TYPE", NULL, 0, true), -1);
    assert_int_equal(dnswire_type_from_text("TYPE+1", NULL, 0, true), -1);
    assert_int_equal(dnswire_type_from_text("TYPE 1", NULL, 0, true), -1);
    assert_int_equal(dnswire_type_from_text("TYPE1x", NULL, 0, true), -1);
    assert_int_equal(dnswire_type_from_text("AAAAA", NULL, 0, true), -1);
    assert_int_equal(dnswire_type_from_text("", NULL, 0, true), -1);
    assert_int_equal(dnswire_type_from_text(NULL, NULL, 0, true), -1);

    /* A caller's list limits the mnemonics, not the numbers. */
    static const uint16_t few[] = {DNS_TYPE_A, DNS_TYPE_TXT};
    assert_int_equal(dnswire_type_from_text("txt", few, 2, false), DNS_TYPE_TXT);
    assert_int_equal(dnswire_type_from_text("DS", few, 2, true), -1);
    assert_int_equal(dnswire_type_from_text("TYPE43", few, 2, true), 43);
}

static void
test_type_list(void **state)
{
    static const uint16_t few[] = {DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_TXT};
    char buf[256];
    (void)state;

    dnswire_type_list(few, 3, false, buf, sizeof(buf));
    assert_string_equal(buf, "A, AAAA or TXT");
    dnswire_type_list(few, 1, true, buf, sizeof(buf));
    assert_string_equal(buf, "A or TYPEnnn (1..65535)");
    dnswire_type_list(NULL, 0, true, buf, sizeof(buf));
    assert_string_equal(buf, "A, AAAA, NS, CNAME, SOA, PTR, MX, TXT, SRV, DNAME, DS, SVCB, HTTPS, "
                             "CAA, ANY or TYPEnnn (1..65535)");
    /* Cut short, still a string. */
    dnswire_type_list(few, 3, false, buf, 6);
    assert_string_equal(buf, "A, AA");
}

static void
test_rcode_names(void **state)
{
    char buf[DNSWIRE_TYPE_TEXT_MAX];
    (void)state;

    assert_string_equal(dnswire_rcode_name(DNS_RCODE_NOERROR), "NOERROR");
    assert_string_equal(dnswire_rcode_name(DNS_RCODE_NXDOMAIN), "NXDOMAIN");
    assert_string_equal(dnswire_rcode_name(DNS_RCODE_NOTIMP), "NOTIMP");
    assert_string_equal(dnswire_rcode_name(DNS_RCODE_NOTZONE), "NOTZONE");
    assert_null(dnswire_rcode_name(11));
    assert_string_equal(dnswire_rcode_text(11, buf), "RCODE11");
    assert_string_equal(dnswire_rcode_text(DNS_RCODE_SERVFAIL, buf), "SERVFAIL");
    for (unsigned r = 0; r <= DNS_RCODE_NOTZONE; r++)
        assert_int_equal(dnswire_rcode_from_text(dnswire_rcode_name(r), 15), (int)r);
    assert_int_equal(dnswire_rcode_from_text("nxdomain", DNS_RCODE_REFUSED), DNS_RCODE_NXDOMAIN);
    assert_int_equal(dnswire_rcode_from_text("YXDOMAIN", DNS_RCODE_REFUSED), -1);
    assert_int_equal(dnswire_rcode_from_text("BOGUS", 15), -1);
    assert_int_equal(dnswire_rcode_from_text(NULL, 15), -1);
}

static void
test_cursors(void **state)
{
    uint8_t b[8] = {0};
    (void)state;

    dnswire_put16(b, 0xABCD);
    dnswire_put32(b + 2, 0x01020304);
    const uint8_t want[] = {0xAB, 0xCD, 1, 2, 3, 4, 0, 0};
    assert_memory_equal(b, want, sizeof(want));
    assert_int_equal(dnswire_get16(b), 0xABCD);
    assert_int_equal(dnswire_get32(b + 2), 0x01020304);
    b[4] = 0xFF;
    assert_int_equal(dnswire_get32(b + 2), 0x0102FF04u);
}

/* ------------------------------------------------------------------ the query builder */

static void
test_query_builder(void **state)
{
    uint8_t qname[DNAME_MAX_LEN], buf[DNSWIRE_QUERY_MAX];
    int qlen = dname_from_text("Www.Example.COM.", qname);
    (void)state;

    assert_true(qlen > 0);
    size_t n = dnswire_query(buf, 0xBEEF, 0, qname, (size_t)qlen, DNS_TYPE_AAAA, DNS_CLASS_IN);

    /* By hand: RFC 1035 §4.1.1 header, §4.1.2 question. */
    static const uint8_t want[] = {0xBE, 0xEF, 0,   0,   0,   1,   0,   0,   0,   0,   0,
                                   0,    3,    'W', 'w', 'w', 7,   'E', 'x', 'a', 'm', 'p',
                                   'l',  'e',  3,   'C', 'O', 'M', 0,   0,   28,  0,   1};
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    /* And as ldns reads it. */
    ldns_pkt *pkt = NULL;
    assert_int_equal(ldns_wire2pkt(&pkt, buf, n), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_id(pkt), 0xBEEF);
    assert_false(ldns_pkt_qr(pkt));
    assert_false(ldns_pkt_rd(pkt));
    assert_int_equal(ldns_pkt_get_opcode(pkt), LDNS_PACKET_QUERY);
    assert_int_equal(ldns_pkt_qdcount(pkt), 1);
    assert_int_equal(ldns_pkt_ancount(pkt) + ldns_pkt_nscount(pkt) + ldns_pkt_arcount(pkt), 0);
    ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
    assert_int_equal(ldns_rr_get_type(q), LDNS_RR_TYPE_AAAA);
    assert_int_equal(ldns_rr_get_class(q), LDNS_RR_CLASS_IN);
    char *owner = ldns_rdf2str(ldns_rr_owner(q));
    assert_string_equal(owner, "Www.Example.COM.");
    free(owner);
    ldns_pkt_free(pkt);

    /* Flags pass through; the longest name fits DNSWIRE_QUERY_MAX. */
    n = dnswire_query(buf, 7, DNS_FLAG_RD, qname, (size_t)qlen, DNS_TYPE_TXT, DNS_CLASS_CH);
    assert_int_equal(ldns_wire2pkt(&pkt, buf, n), LDNS_STATUS_OK);
    assert_true(ldns_pkt_rd(pkt));
    q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
    assert_int_equal(ldns_rr_get_class(q), LDNS_RR_CLASS_CH);
    ldns_pkt_free(pkt);
    /* Three 63-octet labels, one of 61 and the root: 255 octets (RFC 1035 §2.3.4). */
    uint8_t longest[DNAME_MAX_LEN];
    for (int i = 0; i < 4; i++) {
        longest[i * 64] = i < 3 ? 63 : 61;
        memset(longest + i * 64 + 1, 'a', longest[i * 64]);
    }
    longest[254] = 0;
    assert_int_equal(dname_wire_length(longest, sizeof(longest)), 255);
    assert_int_equal(dnswire_query(buf, 1, 0, longest, 255, 1, 1), DNSWIRE_QUERY_MAX);
}

/* ------------------------------------------------------------------ reading replies */

/* A reply to qname/qtype encoded by ldns: AA set, with the answer records given as text. */
static size_t
ldns_reply(const char *qname, ldns_rr_type qtype, uint16_t id, const char *const *answers,
           size_t count, uint8_t *out, size_t out_max)
{
    ldns_rdf *name = ldns_dname_new_frm_str(qname);
    ldns_pkt *pkt = ldns_pkt_query_new(name, qtype, LDNS_RR_CLASS_IN, 0);
    ldns_pkt_set_id(pkt, id);
    ldns_pkt_set_qr(pkt, true);
    ldns_pkt_set_aa(pkt, true);
    for (size_t i = 0; i < count; i++) {
        ldns_rr *rr = NULL;
        assert_int_equal(ldns_rr_new_frm_str(&rr, answers[i], 0, NULL, NULL), LDNS_STATUS_OK);
        assert_true(ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr));
    }
    uint8_t *wire = NULL;
    size_t n = 0;
    assert_int_equal(ldns_pkt2wire(&wire, pkt, &n), LDNS_STATUS_OK);
    assert_true(n <= out_max);
    memcpy(out, wire, n);
    free(wire);
    ldns_pkt_free(pkt);
    return n;
}

static void
test_reply_matches(void **state)
{
    uint8_t msg[512], qname[DNAME_MAX_LEN];
    size_t pos = 0;
    (void)state;

    assert_true(dname_from_text("www.example.com", qname) > 0);
    size_t n = ldns_reply("WWW.example.COM.", LDNS_RR_TYPE_A, 0x4242, NULL, 0, msg, sizeof(msg));
    /* RFC 4343: the case of the echoed question may differ. */
    assert_true(dnswire_reply_matches(msg, n, 0x4242, qname, DNS_TYPE_A, &pos));
    assert_int_equal(pos, n); /* header + question, nothing else */

    assert_false(dnswire_reply_matches(msg, n, 0x4243, qname, DNS_TYPE_A, &pos));
    assert_false(dnswire_reply_matches(msg, n, 0x4242, qname, DNS_TYPE_AAAA, &pos));
    assert_false(dnswire_reply_matches(msg, n - 1, 0x4242, qname, DNS_TYPE_A, &pos));
    assert_false(dnswire_reply_matches(msg, 11, 0x4242, qname, DNS_TYPE_A, &pos));
    uint8_t other[DNAME_MAX_LEN];
    assert_true(dname_from_text("example.com", other) > 0);
    assert_false(dnswire_reply_matches(msg, n, 0x4242, other, DNS_TYPE_A, &pos));

    uint8_t bad[512];
    memcpy(bad, msg, n);
    bad[2] &= 0x7F; /* QR clear: a query, not a reply */
    assert_false(dnswire_reply_matches(bad, n, 0x4242, qname, DNS_TYPE_A, &pos));
    memcpy(bad, msg, n);
    bad[2] |= 4 << 3; /* opcode NOTIFY */
    assert_false(dnswire_reply_matches(bad, n, 0x4242, qname, DNS_TYPE_A, &pos));
    memcpy(bad, msg, n);
    dnswire_put16(bad + n - 2, DNS_CLASS_CH);
    assert_false(dnswire_reply_matches(bad, n, 0x4242, qname, DNS_TYPE_A, &pos));
    memcpy(bad, msg, n);
    dnswire_put16(bad + DNS_OFF_QDCOUNT, 2);
    assert_false(dnswire_reply_matches(bad, n, 0x4242, qname, DNS_TYPE_A, &pos));
}

static void
test_rr_read(void **state)
{
    static const char *const answers[] = {
        "www.example.com. 300 IN CNAME target.example.com.",
        "target.example.com. 60 IN A 192.0.2.1",
        "target.example.com. 4294967295 IN AAAA 2001:db8::1",
    };
    uint8_t msg[512], qname[DNAME_MAX_LEN], owner[DNAME_MAX_LEN];
    size_t pos = 0;
    struct dnswire_rr rr;
    (void)state;

    assert_true(dname_from_text("www.example.com", qname) > 0);
    size_t n = ldns_reply("www.example.com.", LDNS_RR_TYPE_A, 1, answers, 3, msg, sizeof(msg));
    assert_true(dnswire_reply_matches(msg, n, 1, qname, DNS_TYPE_A, &pos));
    assert_int_equal(dnswire_count(msg, DNS_OFF_ANCOUNT), 3);

    assert_int_equal(dnswire_rr_read(msg, n, &pos, &rr), 0);
    assert_true(dname_equal(rr.owner, qname));
    assert_int_equal(rr.type, DNS_TYPE_CNAME);
    assert_int_equal(rr.rclass, DNS_CLASS_IN);
    assert_int_equal(rr.ttl, 300);
    assert_int_equal(rr.rdpos + rr.rdlen, pos);

    assert_int_equal(dnswire_rr_read(msg, n, &pos, &rr), 0);
    assert_true(dname_from_text("target.example.com", owner) > 0);
    assert_true(dname_equal(rr.owner, owner));
    assert_int_equal(rr.type, DNS_TYPE_A);
    assert_int_equal(rr.rdlen, 4);
    assert_int_equal(rr.ttl, 60);

    size_t at = pos;
    assert_int_equal(dnswire_rr_read(msg, n, &pos, &rr), 0);
    assert_int_equal(rr.type, DNS_TYPE_AAAA);
    assert_int_equal(rr.ttl, 4294967295u);
    assert_int_equal(rr.rdlen, 16);
    assert_int_equal(pos, n);

    /* Cut anywhere inside the last record: malformed, and the cursor stays. */
    for (size_t cut = at; cut < n; cut++) {
        size_t p = at;
        assert_int_equal(dnswire_rr_read(msg, cut, &p, &rr), -1);
        assert_int_equal(p, at);
    }
}

/* Reads the answer RRs of an ldns reply and says whether any RDATA matches `expect`. */
static bool
any_matches(const char *const *answers, size_t count, const char *expect)
{
    uint8_t msg[1024], qname[DNAME_MAX_LEN];
    size_t pos = 0;
    assert_true(dname_from_text("q.example.", qname) > 0);
    size_t n = ldns_reply("q.example.", LDNS_RR_TYPE_ANY, 9, answers, count, msg, sizeof(msg));
    assert_true(dnswire_reply_matches(msg, n, 9, qname, DNS_TYPE_ANY, &pos));
    for (size_t i = 0; i < count; i++) {
        struct dnswire_rr rr;
        assert_int_equal(dnswire_rr_read(msg, n, &pos, &rr), 0);
        if (dnswire_rdata_matches(msg, n, &rr, expect))
            return true;
    }
    return false;
}

static void
test_rdata_matches(void **state)
{
    static const char *const a[] = {"q.example. 60 IN A 192.0.2.1"};
    static const char *const aaaa[] = {"q.example. 60 IN AAAA 2001:db8::1"};
    static const char *const cname[] = {"q.example. 60 IN CNAME Target.Example."};
    static const char *const ns[] = {"q.example. 60 IN NS ns1.q.example."};
    static const char *const ptr[] = {"q.example. 60 IN PTR host.example."};
    static const char *const dname[] = {"q.example. 60 IN DNAME other.example."};
    static const char *const mx[] = {"q.example. 60 IN MX 10 mail.q.example."};
    static const char *const txt[] = {"q.example. 60 IN TXT \"hello \" \"world\""};
    static const char *const soa[] = {"q.example. 60 IN SOA ns.q.example. h.q.example. 1 2 3 4 5"};
    static const char *const two[] = {"q.example. 60 IN CNAME t.example.",
                                      "t.example. 60 IN A 192.0.2.7"};
    (void)state;

    assert_true(any_matches(a, 1, "192.0.2.1"));
    assert_false(any_matches(a, 1, "192.0.2.2"));
    assert_false(any_matches(a, 1, "2001:db8::1"));
    assert_false(any_matches(a, 1, "not an address"));
    assert_true(any_matches(aaaa, 1, "2001:DB8:0::1"));
    assert_false(any_matches(aaaa, 1, "2001:db8::2"));
    /* Names: any case (RFC 4343), final dot optional. */
    assert_true(any_matches(cname, 1, "target.example"));
    assert_true(any_matches(cname, 1, "TARGET.example."));
    assert_false(any_matches(cname, 1, "target.example.com."));
    assert_false(any_matches(cname, 1, ""));
    assert_true(any_matches(ns, 1, "ns1.q.example."));
    assert_true(any_matches(ptr, 1, "host.example"));
    assert_true(any_matches(dname, 1, "other.example."));
    assert_true(any_matches(mx, 1, "10 mail.q.example."));
    assert_true(any_matches(mx, 1, "10 MAIL.q.example"));
    assert_false(any_matches(mx, 1, "20 mail.q.example."));
    assert_false(any_matches(mx, 1, "10"));
    assert_false(any_matches(mx, 1, "mail.q.example."));
    /* RFC 1035 §3.3.14: the strings joined. */
    assert_true(any_matches(txt, 1, "hello world"));
    assert_false(any_matches(txt, 1, "hello"));
    assert_false(any_matches(txt, 1, "hello worlds"));
    assert_false(any_matches(txt, 1, "hello World"));
    assert_false(any_matches(soa, 1, "ns.q.example."));
    /* Each record by its own type: the CNAME target or the final address. */
    assert_true(any_matches(two, 2, "t.example."));
    assert_true(any_matches(two, 2, "192.0.2.7"));
    assert_false(any_matches(two, 2, "192.0.2.8"));
}

/* By hand: a CNAME whose RDATA is a pointer back to the question name, and one whose name
 * runs past its RDATA length. */
static void
test_rdata_compressed(void **state)
{
    uint8_t qname[DNAME_MAX_LEN], msg[128];
    size_t n, pos;
    struct dnswire_rr rr;
    char text[64];
    (void)state;

    int qlen = dname_from_text("a.example", qname);
    n = dnswire_query(msg, 5, DNS_FLAG_QR, qname, (size_t)qlen, DNS_TYPE_CNAME, DNS_CLASS_IN);
    dnswire_put16(msg + DNS_OFF_ANCOUNT, 1);
    size_t rr_at = n;
    const uint8_t rec[] = {0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'b', 0xC0, 12};
    memcpy(msg + n, rec, sizeof(rec));
    n += sizeof(rec);

    assert_true(dnswire_reply_matches(msg, n, 5, qname, DNS_TYPE_CNAME, &pos));
    assert_int_equal(dnswire_rr_read(msg, n, &pos, &rr), 0);
    assert_true(dnswire_rdata_matches(msg, n, &rr, "b.a.example."));
    assert_false(dnswire_rdata_matches(msg, n, &rr, "a.example."));
    dnswire_rdata_text(msg, n, &rr, text, sizeof(text));
    assert_string_equal(text, "b.a.example.");

    /* RDLENGTH 2 ends inside the name (its pointer still in the message): no match. */
    msg[rr_at + 11] = 2;
    pos = rr_at;
    assert_int_equal(dnswire_rr_read(msg, n, &pos, &rr), 0);
    assert_false(dnswire_rdata_matches(msg, n, &rr, "b.a.example."));

    /* TXT with a string that claims more bytes than the RDATA has. */
    const uint8_t txt[] = {0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 5, 'a', 'b'};
    memcpy(msg + rr_at, txt, sizeof(txt));
    n = rr_at + sizeof(txt);
    pos = rr_at;
    assert_int_equal(dnswire_rr_read(msg, n, &pos, &rr), 0);
    assert_false(dnswire_rdata_matches(msg, n, &rr, "ab"));
}

static void
test_rdata_text(void **state)
{
    static const char *const answers[] = {
        "q.example. 60 IN A 192.0.2.1",
        "q.example. 60 IN AAAA 2001:db8::1",
        "q.example. 60 IN NS ns.q.example.",
        "q.example. 60 IN MX 10 mail.q.example.",
    };
    /* MX is not rendered: its size, which depends on ldns's compression, is shown. */
    static const char *const want[] = {"192.0.2.1", "2001:db8::1", "ns.q.example.", NULL};
    uint8_t msg[512], qname[DNAME_MAX_LEN];
    size_t pos = 0;
    char text[DNAME_TEXT_MAX];
    (void)state;

    assert_true(dname_from_text("q.example.", qname) > 0);
    size_t n = ldns_reply("q.example.", LDNS_RR_TYPE_ANY, 3, answers, 4, msg, sizeof(msg));
    assert_true(dnswire_reply_matches(msg, n, 3, qname, DNS_TYPE_ANY, &pos));
    for (size_t i = 0; i < 4; i++) {
        struct dnswire_rr rr;
        assert_int_equal(dnswire_rr_read(msg, n, &pos, &rr), 0);
        dnswire_rdata_text(msg, n, &rr, text, sizeof(text));
        if (!want[i]) {
            char bytes[32];
            snprintf(bytes, sizeof(bytes), "(%u bytes)", rr.rdlen);
            assert_string_equal(text, bytes);
        } else {
            assert_string_equal(text, want[i]);
        }
    }
    /* An A record of the wrong length is shown as bytes, not as an address. */
    struct dnswire_rr odd = {.type = DNS_TYPE_A, .rdlen = 3, .rdpos = 0};
    dnswire_rdata_text(msg, n, &odd, text, sizeof(text));
    assert_string_equal(text, "(3 bytes)");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_numbers_match_ldns),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_type_list),
        cmocka_unit_test(test_rcode_names),
        cmocka_unit_test(test_cursors),
        cmocka_unit_test(test_query_builder),
        cmocka_unit_test(test_reply_matches),
        cmocka_unit_test(test_rr_read),
        cmocka_unit_test(test_rdata_matches),
        cmocka_unit_test(test_rdata_compressed),
        cmocka_unit_test(test_rdata_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
