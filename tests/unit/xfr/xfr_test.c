// SPDX-License-Identifier: MIT
/* xfr unit test helpers (see xfr_test.h). ldns decodes and prints every record, so a record
 * the code under test encodes wrongly shows as text that differs from the zone file's. */
#include "xfr_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "common/dnswire.h"

static struct config_prefix all[2] = {{.family = 4, .prefix_len = 0},
                                      {.family = 6, .prefix_len = 0}};
const struct config_transfer xt_allow_all = {.enabled = true, .allow = all, .allow_count = 2};

struct zone *
xt_zone(const char *origin, const char *text)
{
    char path[] = "/tmp/meridian-xfr-zone-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct zone *z = NULL;
    char err[ZONE_ERR_MAX];
    int rc = zone_load(origin, path, &z, err);
    unlink(path);
    if (rc < 0)
        fail_msg("zone_load: %s", err);
    return z;
}

struct xfr_zone *
xt_xfr(const struct zone *zone, const struct xfr_zone *previous)
{
    struct xfr_zone_params p = {.transfer = &xt_allow_all, .previous = previous, .now = 1};
    struct xfr_zone *xz = NULL;
    char err[XFR_ERR_MAX];
    if (xfr_zone_new(zone, &p, &xz, err) < 0)
        fail_msg("xfr_zone_new: %s", err);
    if (previous)
        (void)xfr_zone_follow(xz, previous, XFR_HISTORY_VERSIONS, XFR_HISTORY_BYTES);
    return xz;
}

void
xt_list_add(struct xt_list *l, char *item)
{
    l->items = realloc(l->items, (l->count + 1) * sizeof(*l->items));
    assert_non_null(l->items);
    l->items[l->count++] = item;
}

void
xt_list_free(struct xt_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static int
text_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ldns prints a record with a final newline. */
static char *
rr_str(const ldns_rr *rr)
{
    char *s = ldns_rr2str(rr);
    assert_non_null(s);
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    return s;
}

static char *
normalize(const char *text)
{
    ldns_rr *rr = NULL;
    if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
        fail_msg("ldns cannot read expected record: %s", text);
    char *s = rr_str(rr);
    ldns_rr_free(rr);
    return s;
}

void
xt_list_expect(const struct xt_list *l, const char *const *expected)
{
    struct xt_list want = {0};
    for (size_t i = 0; expected[i]; i++)
        xt_list_add(&want, normalize(expected[i]));
    char **got = calloc(l->count + 1, sizeof(*got));
    memcpy(got, l->items, l->count * sizeof(*got));
    qsort(got, l->count, sizeof(*got), text_cmp);
    qsort(want.items, want.count, sizeof(*want.items), text_cmp);
    bool same = want.count == l->count;
    for (size_t i = 0; same && i < want.count; i++)
        same = strcmp(want.items[i], got[i]) == 0;
    if (!same) {
        fprintf(stderr, "got %zu records:\n", l->count);
        for (size_t i = 0; i < l->count; i++)
            fprintf(stderr, "  %s\n", got[i]);
        fprintf(stderr, "expected %zu:\n", want.count);
        for (size_t i = 0; i < want.count; i++)
            fprintf(stderr, "  %s\n", want.items[i]);
    }
    free(got);
    xt_list_free(&want);
    assert_true(same);
}

char *
xt_rr_text(const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
    uint8_t wire[DNAME_MAX_LEN + 10 + 65535];
    int olen = dname_wire_length(owner, DNAME_MAX_LEN);
    assert_true(olen > 0);
    memcpy(wire, owner, (size_t)olen);
    dnswire_put16(wire + olen, type);
    dnswire_put16(wire + olen + 2, DNS_CLASS_IN);
    dnswire_put32(wire + olen + 4, ttl);
    dnswire_put16(wire + olen + 8, rdlen);
    memcpy(wire + olen + 10, rdata, rdlen);
    ldns_rr *rr = NULL;
    size_t pos = 0;
    assert_int_equal(ldns_wire2rr(&rr, wire, (size_t)olen + 10 + rdlen, &pos, LDNS_SECTION_ANSWER),
                     LDNS_STATUS_OK);
    char *s = rr_str(rr);
    ldns_rr_free(rr);
    return s;
}

void
xt_run(const uint8_t *run, size_t len, struct xt_list *out)
{
    size_t pos = 0;
    struct xfr_rr rr;
    while (xfr_rr_next(run, len, &pos, &rr))
        xt_list_add(out, xt_rr_text(rr.owner, rr.type, rr.ttl, rr.rdata, rr.rdlen));
    assert_int_equal(pos, len);
}

void
xt_message(const struct xfr_stream *s, const uint8_t *m, size_t len, struct xt_transfer *out)
{
    ldns_pkt *pkt = NULL;
    assert_true(len > 0 && len <= 65535);
    assert_int_equal(ldns_wire2pkt(&pkt, m, len), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_id(pkt), s->id);
    assert_true(ldns_pkt_qr(pkt));
    assert_true(ldns_pkt_aa(pkt));
    assert_false(ldns_pkt_tc(pkt));
    assert_int_equal(ldns_pkt_get_rcode(pkt), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_qdcount(pkt), 1);
    assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)), s->qtype);
    assert_int_equal(ldns_pkt_nscount(pkt), 0);
    ldns_rr_list *an = ldns_pkt_answer(pkt);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++)
        xt_list_add(&out->records, rr_str(ldns_rr_list_rr(an, i)));
    out->messages++;
    out->bytes += len;
    ldns_pkt_free(pkt);
}

void
xt_collect(struct xfr_stream *s, const uint8_t *first, size_t first_len, struct xt_transfer *out)
{
    static uint8_t buf[65535];
    xt_message(s, first, first_len, out);
    for (unsigned guard = 0; guard < 100000; guard++) {
        size_t n = xfr_stream_next(s, buf, sizeof(buf));
        if (n == 0)
            break;
        xt_message(s, buf, n, out);
    }
    assert_false(s->more);
    assert_int_equal(s->messages, out->messages);
}

size_t
xt_request(uint8_t *buf, uint16_t qtype, const char *zone, bool with_serial, uint32_t serial,
           bool edns)
{
    uint8_t name[DNAME_MAX_LEN];
    int nlen = dname_from_text(zone, name);
    assert_true(nlen > 0);
    memset(buf, 0, DNS_HEADER_LEN);
    dnswire_put16(buf, 0x2233);
    dnswire_put16(buf + DNS_OFF_QDCOUNT, 1);
    dnswire_put16(buf + DNS_OFF_NSCOUNT, with_serial ? 1 : 0);
    dnswire_put16(buf + DNS_OFF_ARCOUNT, edns ? 1 : 0);
    size_t pos = DNS_HEADER_LEN;
    memcpy(buf + pos, name, (size_t)nlen);
    pos += (size_t)nlen;
    dnswire_put16(buf + pos, qtype);
    dnswire_put16(buf + pos + 2, DNS_CLASS_IN);
    pos += 4;
    if (with_serial) {
        /* RFC 1995 §3: the client's SOA; MNAME and RNAME compressed to the question. */
        buf[pos] = 0xC0;
        buf[pos + 1] = DNS_HEADER_LEN;
        dnswire_put16(buf + pos + 2, DNS_TYPE_SOA);
        dnswire_put16(buf + pos + 4, DNS_CLASS_IN);
        dnswire_put32(buf + pos + 6, 0);
        dnswire_put16(buf + pos + 10, 24);
        pos += 12;
        buf[pos] = 0xC0;
        buf[pos + 1] = DNS_HEADER_LEN;
        buf[pos + 2] = 0xC0;
        buf[pos + 3] = DNS_HEADER_LEN;
        dnswire_put32(buf + pos + 4, serial);
        memset(buf + pos + 8, 0, 16);
        pos += 24;
    }
    if (edns) {
        buf[pos] = 0;
        dnswire_put16(buf + pos + 1, DNS_TYPE_OPT);
        dnswire_put16(buf + pos + 3, 1232);
        dnswire_put32(buf + pos + 5, 0);
        dnswire_put16(buf + pos + 9, 0);
        pos += 11;
    }
    return pos;
}

unsigned
xt_rcode(const uint8_t *msg)
{
    return msg[3] & 0x0F;
}
