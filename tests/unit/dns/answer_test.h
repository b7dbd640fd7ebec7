/* SPDX-License-Identifier: MIT */
/* Helpers of the dns_answer unit tests: build a query with ldns, run it through dns_answer
 * into a poisoned buffer, check that the returned length is exactly one well-formed message
 * that echoes the query, and decode it; compare sections and read the ECS option. Tests
 * only (ldns never enters src/dns). Single-threaded. */
#ifndef MERIDIAN_TESTS_DNS_ANSWER_TEST_H
#define MERIDIAN_TESTS_DNS_ANSWER_TEST_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

/* One query and the client that sends it. */
struct answer_q {
    const char *name; /* as sent, case kept */
    ldns_rr_type type;
    ldns_rr_class rclass; /* 0 = IN */
    bool edns;            /* implied by nsid, ecs and dnssec_ok */
    uint16_t udp_size;    /* EDNS payload size; 0 = 1232 */
    bool nsid;
    bool dnssec_ok;  /* the DO bit (RFC 3225) */
    bool cd;         /* the CD bit (RFC 4035 §3.2.2) */
    const char *ecs; /* "10.2.0.0/24", "2001:db8:2::/48": an ECS option (RFC 7871 §6) */
    bool tcp;
    const char *source; /* the packet's source address ("127.0.1.1", "::1"), or NULL */
    bool ecs_ignore;    /* the listener ignores ECS */
    uint64_t random;
    uint32_t now_s;
    const struct health_table *health;
    /* "hmac-sha256:name:base64secret" (dig -y): the query is signed by ldns (RFC 8945) at
     * the real time, and the response must carry a TSIG; see answer_tsig_verify. */
    const char *tsig;
    uint64_t wall_s; /* the server's clock for TSIG checks (dns_client.wall_s) */
};

/* The query's wire as answer_ask sends it (ID 4242; signed when q->tsig is set); free()
 * it. */
uint8_t *answer_build(const struct answer_q *q, size_t *len);

/* The last response's wire (answer_ask keeps a copy) and, for a signed query, its MAC. */
extern uint8_t answer_wire[65535];
extern size_t answer_wire_len;

/* Does the last response's TSIG verify (ldns_pkt_tsig_verify) with q->tsig's key, chained to
 * the query's MAC? */
bool answer_tsig_verify(const ldns_pkt *r, const struct answer_q *q);

/* Compiles the zone `origin` from master-file text (through a temporary file) into a set of
 * one zone; fails the test on a load error. Free with zone_set_free. */
struct zone_set *answer_zone_set(const char *origin, const char *text);

/* The result dns_answer reported for the last answer_ask(). */
extern struct dns_result answer_last;

/* Answers q from view and returns the decoded response (free with ldns_pkt_free). Fails the
 * test unless the response is exactly the returned length of well-formed message, echoes
 * ID, RD and the question as sent, has QR set and RA and CD clear (RFC 4035 §3.1.6), carries
 * OPT exactly when the query did, with DO copied (RFC 3225 §3), and agrees with the
 * dns_result. */
ldns_pkt *answer_ask(const struct dns_view *view, const struct answer_q *q);

/* The section as "owner ttl class type rdata" lines must equal want: sorted (RRset order
 * is free, RFC 2181 §5) or in order (a CNAME chain is read in order, RFC 1034 §3.6.2). */
void answer_assert_section(ldns_rr_list *list, const char *want);
void answer_assert_ordered(ldns_rr_list *list, const char *want);

/* The ECS option of a response, decoded. */
struct answer_ecs {
    uint16_t family;
    uint8_t source;
    uint8_t scope;
    uint8_t addr[16];
    size_t addr_len; /* ADDRESS bytes in the option */
};

/* Parses "address/bits" (IPv4 or IPv6) into addr (zero-filled); returns the family, 4 or 6,
 * and fails the test on bad text. */
int answer_prefix(const char *text, uint8_t addr[16], int *bits);

/* Finds the response's ECS option (failing the test if it has two or a malformed one).
 * false when there is none. */
bool answer_ecs(const ldns_pkt *r, struct answer_ecs *out);

#endif
