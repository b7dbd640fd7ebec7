// SPDX-License-Identifier: MIT
/* Canary query encoder and reply judge (see canary.h). A few dozen lines of DNS wire format,
 * written here rather than borrowed from dns/ (the answer path, which this sidecar must not
 * link) or zone/ (ldns). Pure; used on the event loop thread and by the config loader. */
#include "anycast/canary.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HEADER_LEN 12
#define CLASS_IN 1

enum { T_A = 1, T_NS = 2, T_CNAME = 5, T_PTR = 12, T_TXT = 16, T_AAAA = 28 };

static const struct {
    const char *name;
    uint16_t type;
} types[] = {{"A", T_A},         {"AAAA", T_AAAA}, {"TXT", T_TXT},
             {"CNAME", T_CNAME}, {"NS", T_NS},     {"PTR", T_PTR}};

static const char *const rcode_names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                          "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                          "NXRRSET", "NOTAUTH", "NOTZONE"};

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static const char *
type_name(uint16_t type)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (types[i].type == type)
            return types[i].name;
    return "?";
}

int
anycast_canary_init(struct anycast_canary *c, const char *name, const char *type,
                    const char *expect, char *err, size_t err_size)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    if (!name || name[0] == '\0' || dname_from_text(name, c->qname) < 0) {
        snprintf(err, err_size, "canary: invalid name '%s'", name ? name : "");
        return -1;
    }
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(type ? type : "A", types[i].name) == 0)
            break;
    if (i == sizeof(types) / sizeof(types[0])) {
        snprintf(err, err_size, "canary: type must be A, AAAA, TXT, CNAME, NS or PTR");
        return -1;
    }
    c->qtype = types[i].type;
    if (!expect || strlen(expect) > ANYCAST_CANARY_TEXT_MAX) {
        snprintf(err, err_size, "canary: expect must be 0..%d bytes", ANYCAST_CANARY_TEXT_MAX);
        return -1;
    }
    snprintf(c->expect_text, sizeof(c->expect_text), "%s", expect);
    switch (c->qtype) {
    case T_A:
    case T_AAAA:
        c->expect_len = c->qtype == T_A ? 4 : 16;
        if (inet_pton(c->qtype == T_A ? AF_INET : AF_INET6, expect, c->expect) != 1) {
            snprintf(err, err_size, "canary: expect '%s' is not an %s address", expect,
                     c->qtype == T_A ? "IPv4" : "IPv6");
            return -1;
        }
        break;
    case T_TXT:
        c->expect_len = strlen(expect);
        memcpy(c->expect, expect, c->expect_len);
        break;
    default: {
        int n = expect[0] ? dname_from_text(expect, c->expect) : -1;
        if (n < 0) {
            snprintf(err, err_size, "canary: expect '%s' is not a domain name", expect);
            return -1;
        }
        c->expect_len = (size_t)n;
        break;
    }
    }
    return 0;
}

size_t
anycast_canary_query(const struct anycast_canary *c, uint16_t id, uint8_t *buf)
{
    int n = dname_wire_length(c->qname, DNAME_MAX_LEN);
    size_t len = (size_t)n;

    /* RFC 1035 §4.1.1: QR=0, opcode QUERY, RD clear (we ask the authority itself). */
    memset(buf, 0, HEADER_LEN);
    put16(buf, id);
    put16(buf + 4, 1);
    memcpy(buf + HEADER_LEN, c->qname, len);
    put16(buf + HEADER_LEN + len, c->qtype);
    put16(buf + HEADER_LEN + len + 2, CLASS_IN);
    return HEADER_LEN + len + 4;
}


/* Renders one RR's RDATA for a mismatch message. */
static void
render_rdata(const uint8_t *msg, size_t len, size_t rdpos, uint16_t rdlen, uint16_t type, char *out,
             size_t size)
{
    uint8_t name[DNAME_MAX_LEN];
    size_t pos = rdpos;

    if ((type == T_A && rdlen == 4) || (type == T_AAAA && rdlen == 16)) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(type == T_A ? AF_INET : AF_INET6, msg + rdpos, text, sizeof(text));
        snprintf(out, size, "%s", text);
    } else if (type == T_TXT) {
        size_t o = 0;
        while (pos < rdpos + rdlen && o + 1 < size) {
            uint8_t l = msg[pos++];
            for (uint8_t k = 0; k < l && pos < rdpos + rdlen && o + 1 < size; k++, pos++)
                out[o++] = (char)msg[pos];
        }
        out[o] = '\0';
    } else if (type != T_A && type != T_AAAA && dname_read_compressed(msg, len, &pos, name) >= 0) {
        dname_to_text(name, out, size);
    } else {
        snprintf(out, size, "(%u bytes)", rdlen);
    }
}

/* Does one answer RR's RDATA equal the canary's expectation? */
static bool
rdata_matches(const struct anycast_canary *c, const uint8_t *msg, size_t len, size_t rdpos,
              uint16_t rdlen)
{
    uint8_t name[DNAME_MAX_LEN];
    uint8_t text[ANYCAST_CANARY_TEXT_MAX];
    size_t pos = rdpos, o = 0;

    switch (c->qtype) {
    case T_A:
    case T_AAAA:
        return rdlen == c->expect_len && memcmp(msg + rdpos, c->expect, rdlen) == 0;
    case T_TXT:
        /* RFC 1035 §3.3.14: one or more character-strings, compared joined. */
        while (pos < rdpos + rdlen) {
            uint8_t l = msg[pos++];
            if (pos + l > rdpos + rdlen || o + l > sizeof(text))
                return false;
            memcpy(text + o, msg + pos, l);
            o += l;
            pos += l;
        }
        return o == c->expect_len && memcmp(text, c->expect, o) == 0;
    default:
        /* Pointers may lead anywhere earlier; the name itself must end inside the RDATA. */
        if (dname_read_compressed(msg, len, &pos, name) < 0 || pos > rdpos + rdlen)
            return false;
        return dname_equal(name, c->expect);
    }
}

enum anycast_verdict
anycast_canary_check(const struct anycast_canary *c, uint16_t id, const uint8_t *msg, size_t len,
                     char *why, size_t why_size)
{
    uint8_t name[DNAME_MAX_LEN];
    size_t pos = HEADER_LEN;
    char seen[96] = "";
    unsigned rcode;
    uint16_t ancount;

    why[0] = '\0';
    /* RFC 5452 §9.1: only a reply matching ID, QR, opcode and question is ours. */
    if (len < HEADER_LEN || get16(msg) != id || !(msg[2] & 0x80) || (msg[2] & 0x78) != 0)
        return ANYCAST_ANSWER_FOREIGN;
    if (get16(msg + 4) != 1 || dname_read_compressed(msg, len, &pos, name) < 0 || pos + 4 > len ||
        !dname_equal(name, c->qname) || get16(msg + pos) != c->qtype ||
        get16(msg + pos + 2) != CLASS_IN)
        return ANYCAST_ANSWER_FOREIGN;
    pos += 4;

    rcode = msg[3] & 0x0F;
    if (rcode != 0) {
        if (rcode < sizeof(rcode_names) / sizeof(rcode_names[0]))
            snprintf(why, why_size, "%s", rcode_names[rcode]);
        else
            snprintf(why, why_size, "RCODE%u", rcode);
        return ANYCAST_ANSWER_FAIL;
    }
    if (msg[2] & 0x02) {
        snprintf(why, why_size, "truncated (TC)");
        return ANYCAST_ANSWER_FAIL;
    }
    if (!(msg[2] & 0x04)) {
        snprintf(why, why_size, "not authoritative (AA clear)");
        return ANYCAST_ANSWER_FAIL;
    }
    ancount = get16(msg + 6);
    for (uint16_t i = 0; i < ancount; i++) {
        uint8_t owner[DNAME_MAX_LEN];
        if (dname_read_compressed(msg, len, &pos, owner) < 0 || pos + 10 > len) {
            snprintf(why, why_size, "malformed answer section");
            return ANYCAST_ANSWER_FAIL;
        }
        uint16_t type = get16(msg + pos), klass = get16(msg + pos + 2);
        uint16_t rdlen = get16(msg + pos + 8);
        size_t rdpos = pos + 10;
        if (rdpos + rdlen > len) {
            snprintf(why, why_size, "malformed answer section");
            return ANYCAST_ANSWER_FAIL;
        }
        if (type == c->qtype && klass == CLASS_IN && dname_equal(owner, c->qname)) {
            if (rdata_matches(c, msg, len, rdpos, rdlen))
                return ANYCAST_ANSWER_PASS;
            if (seen[0] == '\0')
                render_rdata(msg, len, rdpos, rdlen, type, seen, sizeof(seen));
        }
        pos = rdpos + rdlen;
    }
    if (seen[0])
        snprintf(why, why_size, "wrong answer '%s', expected '%s'", seen, c->expect_text);
    else
        snprintf(why, why_size, "no %s answer", type_name(c->qtype));
    return ANYCAST_ANSWER_FAIL;
}
