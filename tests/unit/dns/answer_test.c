// SPDX-License-Identifier: MIT
/* dns_answer test helpers (see answer_test.h): queries built with ldns, responses checked
 * byte-exactly for length and decoded with ldns. Single-threaded. */
#include "answer_test.h"
#include "wire_end.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define OPT_NSID 3
#define OPT_ECS 8
#define POISON 0xA5

struct dns_result answer_last;
uint8_t answer_wire[65535];
size_t answer_wire_len;
static ldns_rdf *query_mac; /* the last signed query's MAC (ldns keeps it in the packet) */

/* Splits "alg:name:secret" (dig -y) into its parts in `buf`. */
static void
split_tsig(const char *spec, char *buf, size_t size, char **alg, char **name, char **secret)
{
    assert_true(strlen(spec) < size);
    strcpy(buf, spec);
    *alg = buf;
    *name = strchr(buf, ':');
    assert_non_null(*name);
    *(*name)++ = '\0';
    *secret = strchr(*name, ':');
    assert_non_null(*secret);
    *(*secret)++ = '\0';
}

/* Signs the query with ldns, as a client would (Time Signed: now, Fudge 300). */
static void
sign_query(ldns_pkt *pkt, const char *spec)
{
    char buf[512], *alg, *name, *secret, fqalg[64];
    split_tsig(spec, buf, sizeof(buf), &alg, &name, &secret);
    snprintf(fqalg, sizeof(fqalg), "%s.", alg);
    assert_int_equal(ldns_pkt_tsig_sign(pkt, name, secret, 300, fqalg, NULL), LDNS_STATUS_OK);
    ldns_rdf_deep_free(query_mac);
    query_mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(pkt), 3));
}

bool
answer_tsig_verify(const ldns_pkt *r, const struct answer_q *q)
{
    char buf[512], *alg, *name, *secret;
    split_tsig(q->tsig, buf, sizeof(buf), &alg, &name, &secret);
    ldns_pkt *copy = ldns_pkt_clone(r);
    bool ok = ldns_pkt_tsig_verify(copy, answer_wire, answer_wire_len, name, secret, query_mac);
    ldns_pkt_free(copy);
    return ok;
}

struct zone_set *
answer_zone_set(const char *origin, const char *text)
{
    char path[] = "/tmp/meridian-test-zone-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    struct zone **list = calloc(1, sizeof(*list));
    char err[ZONE_ERR_MAX];
    if (zone_load(origin, path, &list[0], err) < 0)
        fail_msg("%s", err);
    unlink(path);
    return zone_set_new(list, 1);
}

int
answer_prefix(const char *text, uint8_t addr[16], int *bits)
{
    char host[64];
    const char *slash = strchr(text, '/');
    assert_non_null(slash);
    assert_true((size_t)(slash - text) < sizeof(host));
    memcpy(host, text, (size_t)(slash - text));
    host[slash - text] = '\0';
    *bits = atoi(slash + 1);
    memset(addr, 0, 16);
    int family = 4;
    if (inet_pton(AF_INET, host, addr) != 1) {
        assert_int_equal(inet_pton(AF_INET6, host, addr), 1);
        family = 6;
    }
    assert_true(*bits >= 0 && *bits <= (family == 4 ? 32 : 128));
    return family;
}

/* Appends an ECS option for "address/bits" (RFC 7871 §6: ADDRESS holds just the prefix's
 * bytes). */
static size_t
put_ecs(uint8_t *p, const char *text)
{
    uint8_t raw[16];
    int bits;
    int family = answer_prefix(text, raw, &bits);
    size_t bytes = ((size_t)bits + 7) / 8;
    p[0] = 0;
    p[1] = OPT_ECS;
    p[2] = 0;
    p[3] = (uint8_t)(4 + bytes);
    p[4] = 0;
    p[5] = family == 4 ? 1 : 2; /* IANA address family numbers */
    p[6] = (uint8_t)bits;
    p[7] = 0; /* SCOPE PREFIX-LENGTH: 0 in queries */
    memcpy(p + 8, raw, bytes);
    return 8 + bytes;
}

uint8_t *
answer_build(const struct answer_q *q, size_t *len)
{
    ldns_rdf *name = ldns_dname_new_frm_str(q->name);
    assert_non_null(name);
    ldns_pkt *pkt =
        ldns_pkt_query_new(name, q->type, q->rclass ? q->rclass : LDNS_RR_CLASS_IN, LDNS_RD);
    ldns_pkt_set_id(pkt, 4242);
    ldns_pkt_set_cd(pkt, q->cd);
    if (q->edns || q->nsid || q->ecs || q->dnssec_ok) {
        ldns_pkt_set_edns_udp_size(pkt, q->udp_size ? q->udp_size : 1232);
        ldns_pkt_set_edns_do(pkt, q->dnssec_ok);
        uint8_t opts[64];
        size_t n = 0;
        if (q->nsid) {
            static const uint8_t nsid[] = {0, OPT_NSID, 0, 0};
            memcpy(opts, nsid, sizeof(nsid));
            n += sizeof(nsid);
        }
        if (q->ecs)
            n += put_ecs(opts + n, q->ecs);
        if (n)
            ldns_pkt_set_edns_data(pkt, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, n, opts));
    }
    if (q->tsig)
        sign_query(pkt, q->tsig);
    uint8_t *wire;
    assert_int_equal(ldns_pkt2wire(&wire, pkt, len), LDNS_STATUS_OK);
    ldns_pkt_free(pkt);
    return wire;
}

/* The query's source address, if any. */
static const struct sockaddr *
source(const char *text, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (!text)
        return NULL;
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
        sin6->sin6_family = AF_INET6;
    }
    return (const struct sockaddr *)ss;
}

/* The question must be echoed as sent: one entry, the client's case (0x20 resolvers
 * depend on it), type and class. */
static void
assert_question(const ldns_pkt *r, const struct answer_q *q)
{
    assert_int_equal(ldns_pkt_qdcount(r), 1);
    const ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(r), 0);
    char *owner = ldns_rdf2str(ldns_rr_owner(qr));
    assert_string_equal(owner, q->name);
    free(owner);
    assert_int_equal(ldns_rr_get_type(qr), q->type);
    assert_int_equal(ldns_rr_get_class(qr), q->rclass ? q->rclass : LDNS_RR_CLASS_IN);
}

ldns_pkt *
answer_ask(const struct dns_view *view, const struct answer_q *q)
{
    static uint8_t out[65535];
    size_t wire_len;
    uint8_t *wire = answer_build(q, &wire_len);
    struct sockaddr_storage ss;
    struct dns_client client = {.addr = source(q->source, &ss),
                                .tcp = q->tcp,
                                .ecs_ignore = q->ecs_ignore,
                                .random = q->random,
                                .health = q->health,
                                .now_s = q->now_s,
                                .wall_s = q->wall_s};

    /* Poisoned, so bytes dns_answer did not write cannot pass for a response. */
    memset(out, POISON, sizeof(out));
    memset(&answer_last, POISON, sizeof(answer_last));
    size_t n = dns_answer(view, &client, wire, wire_len, out, sizeof(out), &answer_last);
    free(wire);
    assert_true(n >= 12);
    memcpy(answer_wire, out, n);
    answer_wire_len = n;
    if (wire_message_end(out, n) != n)
        fail_msg("dns_answer returned %zu bytes, the message in them ends at %zu", n,
                 wire_message_end(out, n));
    ldns_pkt *r = NULL;
    assert_int_equal(ldns_wire2pkt(&r, out, n), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_id(r), 4242);
    assert_true(ldns_pkt_qr(r));
    assert_true(ldns_pkt_rd(r));
    assert_false(ldns_pkt_ra(r));
    /* RFC 4035 §3.1.6: an authoritative server clears CD in its responses. */
    assert_false(ldns_pkt_cd(r));
    assert_question(r, q);
    /* RFC 6891 §7: OPT in the response exactly when the query had one; RFC 3225 §3: DO
     * copied into it. */
    bool edns = q->edns || q->nsid || q->ecs || q->dnssec_ok;
    assert_int_equal(ldns_pkt_edns_udp_size(r), edns ? view->udp_max_size : 0);
    assert_int_equal(ldns_pkt_edns_do(r), edns && q->dnssec_ok);
    assert_int_equal(answer_last.edns, edns);
    assert_int_equal(answer_last.rcode & 0xF, ldns_pkt_get_rcode(r));
    assert_int_equal(answer_last.truncated, ldns_pkt_tc(r));
    assert_int_equal(answer_last.qtype, q->type);
    assert_int_equal(answer_last.ecs, q->ecs && !q->ecs_ignore);
    if (!q->tcp)
        assert_true(n <= (edns ? view->udp_max_size : 512));
    /* RFC 8945 §5.2: a signed query gets a TSIG back, last; an unsigned one never does. */
    assert_int_equal(answer_last.tsig, q->tsig != NULL);
    assert_int_equal(ldns_pkt_tsig(r) != NULL, q->tsig != NULL);
    return r;
}

/* The section's records as "owner ttl class type rdata" lines, tabs made spaces. */
static char *
section_text(ldns_rr_list *list, bool sorted)
{
    ldns_rr_list *copy = ldns_rr_list_clone(list);
    if (sorted)
        ldns_rr_list_sort(copy);
    char *s = ldns_rr_list2str(copy);
    ldns_rr_list_deep_free(copy);
    for (char *p = s; *p; p++)
        if (*p == '\t')
            *p = ' ';
    return s;
}

static void
assert_text(ldns_rr_list *list, const char *want, bool sorted)
{
    char *got = section_text(list, sorted);
    if (strcmp(got, want) != 0)
        fail_msg("section mismatch\n--- got:\n%s--- want:\n%s", got, want);
    free(got);
}

void
answer_assert_section(ldns_rr_list *list, const char *want)
{
    assert_text(list, want, true);
}

void
answer_assert_ordered(ldns_rr_list *list, const char *want)
{
    assert_text(list, want, false);
}

bool
answer_ecs(const ldns_pkt *r, struct answer_ecs *out)
{
    ldns_rdf *data = ldns_pkt_edns_data(r);
    bool found = false;
    if (!data)
        return false;
    const uint8_t *p = ldns_rdf_data(data);
    size_t len = ldns_rdf_size(data), pos = 0;
    while (pos < len) {
        assert_true(pos + 4 <= len);
        uint16_t code = (uint16_t)(p[pos] << 8 | p[pos + 1]);
        size_t olen = (size_t)(p[pos + 2] << 8 | p[pos + 3]);
        assert_true(pos + 4 + olen <= len);
        if (code == OPT_ECS) {
            assert_false(found); /* one ECS option at most */
            assert_true(olen >= 4 && olen - 4 <= 16);
            found = true;
            memset(out, 0, sizeof(*out));
            out->family = (uint16_t)(p[pos + 4] << 8 | p[pos + 5]);
            out->source = p[pos + 6];
            out->scope = p[pos + 7];
            out->addr_len = olen - 4;
            memcpy(out->addr, p + pos + 8, out->addr_len);
        }
        pos += 4 + olen;
    }
    return found;
}
