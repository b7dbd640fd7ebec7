// SPDX-License-Identifier: MIT
/* dns_answer on the cases an outside review found answered wrongly (issue 13): a DNAME at
 * the apex, a DNAME whose target is below itself, a CNAME loop, an NSID too long for the
 * reply, and the additional section of SVCB/HTTPS answers (RFC 9460 §4.1). Each expected
 * answer is knotd's, or where we differ on purpose the comment says why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "answer_test.h"
#include "dns/dns.h"

static const char zone_text[] =
    "$ORIGIN wa.test.\n"
    "$TTL 300\n"
    "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
    "@ NS ns1\n"
    "ns1 A 192.0.2.1\n"
    "www A 192.0.2.80\n"
    "loop1 CNAME loop2\n"
    "loop2 CNAME loop3\n"
    "loop3 CNAME loop1\n"
    "dself DNAME sub.dself.wa.test.\n"
    "svc HTTPS 1 . alpn=h2\n"
    "svc A 192.0.2.10\n"
    "svc AAAA 2001:db8::10\n"
    "alias HTTPS 0 svc.wa.test.\n"
    "alias2 HTTPS 0 alias.wa.test.\n"
    "tgt HTTPS 1 t1.wa.test. alpn=h2\n"
    "t1 A 192.0.2.11\n"
    "t1 HTTPS 1 . alpn=h3\n"
    "aloop HTTPS 0 aloop2.wa.test.\n"
    "aloop2 HTTPS 0 aloop.wa.test.\n"
    "_dns.svcb SVCB 1 t1.wa.test. alpn=dot\n";

/* RFC 6672 §2.3: a DNAME may sit at the apex beside SOA and NS. */
static const char apex_text[] =
    "$ORIGIN apex.test.\n"
    "$TTL 300\n"
    "@ SOA ns1.wa.test. hostmaster 1 7200 3600 1209600 300\n"
    "@ NS ns1.wa.test.\n"
    "@ DNAME wa.test.\n";

static struct zone_set *zones, *apex;
static uint8_t long_nsid[512];
static struct dns_view view, apex_view;

static int
setup(void **state)
{
    (void)state;
    memset(long_nsid, 'n', sizeof(long_nsid));
    zones = answer_zone_set("wa.test", zone_text);
    apex = answer_zone_set("apex.test", apex_text);
    view = (struct dns_view){.zones = zones, .identity = "ns.test", .version = "test",
                             .nsid = long_nsid, .nsid_len = sizeof(long_nsid),
                             .udp_max_size = 1232};
    apex_view = view;
    apex_view.zones = apex;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    zone_set_free(zones);
    zone_set_free(apex);
    return 0;
}

static ldns_pkt *
ask(const struct dns_view *v, struct answer_q q)
{
    return answer_ask(v, &q);
}

static void
test_dname_at_apex(void **state)
{
    (void)state;
    ldns_pkt *r = ask(&apex_view, (struct answer_q){.name = "www.apex.test.",
                                                    .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_aa(r));
    /* The target zone is not in this view: the chain ends at the synthesized CNAME. */
    answer_assert_ordered(ldns_pkt_answer(r), "apex.test. 300 IN DNAME wa.test.\n"
                                              "www.apex.test. 300 IN CNAME www.wa.test.\n");
    ldns_pkt_free(r);
    /* The apex itself keeps its own data. */
    r = ask(&apex_view, (struct answer_q){.name = "apex.test.", .type = LDNS_RR_TYPE_NS});
    answer_assert_section(ldns_pkt_answer(r), "apex.test. 300 IN NS ns1.wa.test.\n");
    ldns_pkt_free(r);
}

static void
test_dname_below_itself(void **state)
{
    (void)state;
    /* Each synthesized name falls under the same DNAME again: the DNAME is listed once and
     * meeting it again ends the chain (knotd goes on for 5 CNAMEs; every further link is
     * one more name under the same redirection). */
    ldns_pkt *r = ask(&view, (struct answer_q){.name = "x.dself.wa.test.",
                                               .type = LDNS_RR_TYPE_A});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    answer_assert_ordered(ldns_pkt_answer(r),
                          "dself.wa.test. 300 IN DNAME sub.dself.wa.test.\n"
                          "x.dself.wa.test. 300 IN CNAME x.sub.dself.wa.test.\n");
    ldns_pkt_free(r);
}

static void
test_cname_loop_once(void **state)
{
    (void)state;
    ldns_pkt *r = ask(&view, (struct answer_q){.name = "loop1.wa.test.",
                                               .type = LDNS_RR_TYPE_A});
    answer_assert_ordered(ldns_pkt_answer(r), "loop1.wa.test. 300 IN CNAME loop2.wa.test.\n"
                                              "loop2.wa.test. 300 IN CNAME loop3.wa.test.\n"
                                              "loop3.wa.test. 300 IN CNAME loop1.wa.test.\n");
    ldns_pkt_free(r);
}

static size_t
nsid_options(const ldns_pkt *r)
{
    ldns_rdf *data = ldns_pkt_edns_data(r);
    size_t n = 0;
    for (size_t at = 0; data && at + 4 <= ldns_rdf_size(data);) {
        const uint8_t *p = ldns_rdf_data(data) + at;
        n += p[0] == 0 && p[1] == 3;
        at += 4u + (size_t)(p[2] << 8 | p[3]);
    }
    return n;
}

static void
test_long_nsid_left_out(void **state)
{
    (void)state;
    /* 512 + 4 octets of NSID cannot fit a 512-octet reply: RFC 5001 §2.2 lets the server
     * leave it out, and the answer must still come. */
    ldns_pkt *r = ask(&view, (struct answer_q){.name = "www.wa.test.", .type = LDNS_RR_TYPE_A,
                                               .nsid = true, .udp_size = 512});
    assert_int_equal(ldns_pkt_ancount(r), 1);
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(nsid_options(r), 0);
    ldns_pkt_free(r);
    /* With room it is there. */
    r = ask(&view, (struct answer_q){.name = "www.wa.test.", .type = LDNS_RR_TYPE_A,
                                     .nsid = true});
    assert_int_equal(ldns_pkt_ancount(r), 1);
    assert_int_equal(nsid_options(r), 1);
    ldns_pkt_free(r);
}

static void
test_svcb_additional(void **state)
{
    (void)state;
    /* ServiceMode "." is the owner (RFC 9460 §2.5.2): its addresses (knotd adds none). */
    ldns_pkt *r = ask(&view, (struct answer_q){.name = "svc.wa.test.",
                                               .type = LDNS_RR_TYPE_HTTPS});
    answer_assert_section(ldns_pkt_additional(r), "svc.wa.test. 300 IN A 192.0.2.10\n"
                                                  "svc.wa.test. 300 IN AAAA 2001:db8::10\n");
    ldns_pkt_free(r);
    /* Under ANY over TCP the owner's addresses are in the answer: not repeated. */
    r = ask(&view, (struct answer_q){.name = "svc.wa.test.", .type = LDNS_RR_TYPE_ANY,
                                     .tcp = true});
    assert_int_equal(ldns_pkt_ancount(r), 3);
    assert_int_equal(ldns_pkt_arcount(r), 0);
    ldns_pkt_free(r);
    /* A target's addresses and its own HTTPS RRset (as knotd). */
    r = ask(&view, (struct answer_q){.name = "tgt.wa.test.", .type = LDNS_RR_TYPE_HTTPS});
    answer_assert_section(ldns_pkt_additional(r),
                          "t1.wa.test. 300 IN A 192.0.2.11\n"
                          "t1.wa.test. 300 IN HTTPS 1 . alpn=h3\n");
    ldns_pkt_free(r);
    /* An AliasMode chain is followed to the service (knotd stops after one link). */
    r = ask(&view, (struct answer_q){.name = "alias2.wa.test.", .type = LDNS_RR_TYPE_HTTPS});
    answer_assert_section(ldns_pkt_additional(r),
                          "alias.wa.test. 300 IN HTTPS 0 svc.wa.test.\n"
                          "svc.wa.test. 300 IN A 192.0.2.10\n"
                          "svc.wa.test. 300 IN AAAA 2001:db8::10\n"
                          "svc.wa.test. 300 IN HTTPS 1 . alpn=h2\n");
    ldns_pkt_free(r);
    /* A loop of aliases: each RRset once. */
    r = ask(&view, (struct answer_q){.name = "aloop.wa.test.", .type = LDNS_RR_TYPE_HTTPS});
    answer_assert_section(ldns_pkt_additional(r),
                          "aloop2.wa.test. 300 IN HTTPS 0 aloop.wa.test.\n");
    ldns_pkt_free(r);
    /* SVCB the same way. */
    r = ask(&view, (struct answer_q){.name = "_dns.svcb.wa.test.", .type = LDNS_RR_TYPE_SVCB});
    answer_assert_section(ldns_pkt_additional(r), "t1.wa.test. 300 IN A 192.0.2.11\n");
    ldns_pkt_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dname_at_apex),
        cmocka_unit_test(test_dname_below_itself),
        cmocka_unit_test(test_cname_loop_once),
        cmocka_unit_test(test_long_nsid_left_out),
        cmocka_unit_test(test_svcb_additional),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
