// SPDX-License-Identifier: MIT
/* Canary query and reply judge (see canary.h), on common/dnswire's query builder and reply
 * reader: not dns/ (the answer path, which this sidecar must not link) nor zone/ (ldns).
 * Pure; used on the event loop thread and by the config loader. */
#include "anycast/canary.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/dnswire.h"

/* The types whose RDATA the canary can compare (common/dnswire.c). */
static const uint16_t canary_types[] = {DNS_TYPE_A,     DNS_TYPE_AAAA, DNS_TYPE_TXT,
                                        DNS_TYPE_CNAME, DNS_TYPE_NS,   DNS_TYPE_PTR};

int
anycast_canary_init(struct anycast_canary *c, const char *name, const char *type,
                    const char *expect, char *err, size_t err_size)
{
    size_t ntypes = sizeof(canary_types) / sizeof(canary_types[0]);
    uint8_t wire[DNAME_MAX_LEN];

    memset(c, 0, sizeof(*c));
    if (!name || name[0] == '\0' || dname_from_text(name, c->qname) < 0) {
        snprintf(err, err_size, "canary: invalid name '%s'", name ? name : "");
        return -1;
    }
    int qtype = dnswire_type_from_text(type ? type : "A", canary_types, ntypes, false);
    if (qtype < 0) {
        char list[64];
        dnswire_type_list(canary_types, ntypes, false, list, sizeof(list));
        snprintf(err, err_size, "canary: type must be %s", list);
        return -1;
    }
    c->qtype = (uint16_t)qtype;
    if (!expect || strlen(expect) > ANYCAST_CANARY_TEXT_MAX) {
        snprintf(err, err_size, "canary: expect must be 0..%d bytes", ANYCAST_CANARY_TEXT_MAX);
        return -1;
    }
    snprintf(c->expect_text, sizeof(c->expect_text), "%s", expect);
    /* The reply is compared with this text (dnswire_rdata_matches); it must be of the
     * type's form, or no answer could ever pass. */
    switch (c->qtype) {
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA:
        if (inet_pton(c->qtype == DNS_TYPE_A ? AF_INET : AF_INET6, expect, wire) != 1) {
            snprintf(err, err_size, "canary: expect '%s' is not an %s address", expect,
                     c->qtype == DNS_TYPE_A ? "IPv4" : "IPv6");
            return -1;
        }
        break;
    case DNS_TYPE_TXT:
        break;
    default:
        if (!expect[0] || dname_from_text(expect, wire) < 0) {
            snprintf(err, err_size, "canary: expect '%s' is not a domain name", expect);
            return -1;
        }
        break;
    }
    return 0;
}

size_t
anycast_canary_query(const struct anycast_canary *c, uint16_t id, uint8_t *buf)
{
    int n = dname_wire_length(c->qname, DNAME_MAX_LEN);

    /* RFC 1035 §4.1.1: QR=0, opcode QUERY, RD clear (we ask the authority itself). */
    return dnswire_query(buf, id, 0, c->qname, (size_t)n, c->qtype, DNS_CLASS_IN);
}

/* Renders one RR's RDATA for a mismatch message: TXT as its strings joined. */
static void
render_rdata(const uint8_t *msg, size_t len, const struct dnswire_rr *rr, char *out, size_t size)
{
    size_t pos = rr->rdpos, end = rr->rdpos + rr->rdlen, o = 0;

    if (rr->type != DNS_TYPE_TXT) {
        dnswire_rdata_text(msg, len, rr, out, size);
        return;
    }
    while (pos < end && o + 1 < size) {
        uint8_t l = msg[pos++];
        for (uint8_t k = 0; k < l && pos < end && o + 1 < size; k++, pos++)
            out[o++] = (char)msg[pos];
    }
    out[o] = '\0';
}

enum anycast_verdict
anycast_canary_check(const struct anycast_canary *c, uint16_t id, const uint8_t *msg, size_t len,
                     char *why, size_t why_size)
{
    size_t pos;
    char seen[96] = "", rbuf[DNSWIRE_TYPE_TEXT_MAX];
    uint16_t flags;

    why[0] = '\0';
    /* RFC 5452 §9.1: only a reply matching ID, QR, opcode and question is ours. */
    if (!dnswire_reply_matches(msg, len, id, c->qname, c->qtype, &pos))
        return ANYCAST_ANSWER_FOREIGN;
    if (dnswire_rcode(msg) != DNS_RCODE_NOERROR) {
        snprintf(why, why_size, "%s", dnswire_rcode_text(dnswire_rcode(msg), rbuf));
        return ANYCAST_ANSWER_FAIL;
    }
    flags = dnswire_flags(msg);
    if (flags & DNS_FLAG_TC) {
        snprintf(why, why_size, "truncated (TC)");
        return ANYCAST_ANSWER_FAIL;
    }
    if (!(flags & DNS_FLAG_AA)) {
        snprintf(why, why_size, "not authoritative (AA clear)");
        return ANYCAST_ANSWER_FAIL;
    }
    uint16_t ancount = dnswire_count(msg, DNS_OFF_ANCOUNT);
    for (uint16_t i = 0; i < ancount; i++) {
        struct dnswire_rr rr;
        if (dnswire_rr_read(msg, len, &pos, &rr) < 0) {
            snprintf(why, why_size, "malformed answer section");
            return ANYCAST_ANSWER_FAIL;
        }
        if (rr.type == c->qtype && rr.rclass == DNS_CLASS_IN && dname_equal(rr.owner, c->qname)) {
            if (dnswire_rdata_matches(msg, len, &rr, c->expect_text))
                return ANYCAST_ANSWER_PASS;
            if (seen[0] == '\0')
                render_rdata(msg, len, &rr, seen, sizeof(seen));
        }
    }
    if (seen[0])
        snprintf(why, why_size, "wrong answer '%s', expected '%s'", seen, c->expect_text);
    else
        snprintf(why, why_size, "no %s answer", dnswire_type_name(c->qtype));
    return ANYCAST_ANSWER_FAIL;
}
