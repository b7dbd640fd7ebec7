// SPDX-License-Identifier: MIT
/* Names of DNS types and rcodes, the query builder and the reading of replies (see
 * dnswire.h). Used by the config loader, the health probes, the anycast canary and
 * `meridiand -q`, never by the answer path, which needs only the header's inline cursors.
 * Pure: caller memory only, any thread. */
#include "common/dnswire.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* The mnemonics an operator may type. A name added here becomes accepted input wherever
 * the caller passes no list of its own (`meridiand -q`). */
static const struct {
    const char *name;
    uint16_t type;
} type_names[] = {
    {"A", DNS_TYPE_A},
    {"AAAA", DNS_TYPE_AAAA},
    {"NS", DNS_TYPE_NS},
    {"CNAME", DNS_TYPE_CNAME},
    {"SOA", DNS_TYPE_SOA},
    {"PTR", DNS_TYPE_PTR},
    {"MX", DNS_TYPE_MX},
    {"TXT", DNS_TYPE_TXT},
    {"SRV", DNS_TYPE_SRV},
    {"DNAME", DNS_TYPE_DNAME},
    {"DS", DNS_TYPE_DS},
    {"SVCB", DNS_TYPE_SVCB},
    {"HTTPS", DNS_TYPE_HTTPS},
    {"CAA", DNS_TYPE_CAA},
    {"DNSKEY", DNS_TYPE_DNSKEY},
    {"NSEC3", DNS_TYPE_NSEC3},
    {"NSEC3PARAM", DNS_TYPE_NSEC3PARAM},
    {"CDS", DNS_TYPE_CDS},
    {"CDNSKEY", DNS_TYPE_CDNSKEY},
    {"ANY", DNS_TYPE_ANY},
};

/* Indexed by rcode (RFC 1035 §4.1.1, RFC 2136 §2.2). */
static const char *const rcode_names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                          "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                          "NXRRSET", "NOTAUTH", "NOTZONE"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *
dnswire_type_name(uint16_t type)
{
    for (size_t i = 0; i < COUNT(type_names); i++)
        if (type_names[i].type == type)
            return type_names[i].name;
    return NULL;
}

/* `name`, or PREFIXnnn (RFC 3597 §5's form) in buf when there is none. */
static const char *
name_or_number(const char *name, const char *prefix, unsigned value,
               char buf[DNSWIRE_TYPE_TEXT_MAX])
{
    if (name)
        return name;
    snprintf(buf, DNSWIRE_TYPE_TEXT_MAX, "%s%u", prefix, value);
    return buf;
}

const char *
dnswire_type_text(uint16_t type, char buf[DNSWIRE_TYPE_TEXT_MAX])
{
    return name_or_number(dnswire_type_name(type), "TYPE", type, buf);
}

static bool
type_allowed(uint16_t type, const uint16_t *allowed, size_t count)
{
    if (!allowed)
        return true;
    for (size_t i = 0; i < count; i++)
        if (allowed[i] == type)
            return true;
    return false;
}

int
dnswire_type_from_text(const char *text, const uint16_t *allowed, size_t count, bool numeric)
{
    if (!text)
        return -1;
    for (size_t i = 0; i < COUNT(type_names); i++)
        if (strcasecmp(text, type_names[i].name) == 0)
            return type_allowed(type_names[i].type, allowed, count) ? type_names[i].type : -1;
    if (!numeric || strncasecmp(text, "TYPE", 4) != 0 || text[4] == '\0')
        return -1;
    /* Digits only: strtoul would take spaces and a sign. */
    unsigned long v = 0;
    for (const char *p = text + 4; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > UINT16_MAX)
            return -1;
    }
    return v > 0 ? (int)v : -1;
}

void
dnswire_type_list(const uint16_t *types, size_t count, bool numeric, char *buf, size_t size)
{
    size_t o = 0;
    char tbuf[DNSWIRE_TYPE_TEXT_MAX];

    if (!types)
        count = COUNT(type_names);
    size_t total = count + (numeric ? 1 : 0);
    buf[0] = '\0';
    for (size_t i = 0; i < total && o < size; i++) {
        const char *word = i >= count ? "TYPEnnn (1..65535)"
                           : types    ? dnswire_type_text(types[i], tbuf)
                                      : type_names[i].name;
        const char *sep = i == 0 ? "" : i + 1 == total ? " or " : ", ";
        int n = snprintf(buf + o, size - o, "%s%s", sep, word);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

const char *
dnswire_rcode_name(unsigned rcode)
{
    return rcode < COUNT(rcode_names) ? rcode_names[rcode] : NULL;
}

const char *
dnswire_rcode_text(unsigned rcode, char buf[DNSWIRE_TYPE_TEXT_MAX])
{
    return name_or_number(dnswire_rcode_name(rcode), "RCODE", rcode, buf);
}

int
dnswire_rcode_from_text(const char *text, unsigned max)
{
    for (unsigned i = 0; text && i < COUNT(rcode_names) && i <= max; i++)
        if (strcasecmp(text, rcode_names[i]) == 0)
            return (int)i;
    return -1;
}

size_t
dnswire_query(uint8_t *buf, uint16_t id, uint16_t flags, const uint8_t *qname, size_t qname_len,
              uint16_t qtype, uint16_t qclass)
{
    memset(buf, 0, DNS_HEADER_LEN);
    dnswire_put16(buf + DNS_OFF_ID, id);
    dnswire_put16(buf + DNS_OFF_FLAGS, flags);
    dnswire_put16(buf + DNS_OFF_QDCOUNT, 1);
    memcpy(buf + DNS_HEADER_LEN, qname, qname_len);
    dnswire_put16(buf + DNS_HEADER_LEN + qname_len, qtype);
    dnswire_put16(buf + DNS_HEADER_LEN + qname_len + 2, qclass);
    return DNS_HEADER_LEN + qname_len + 4;
}

bool
dnswire_reply_matches(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *qname,
                      uint16_t qtype, size_t *pos)
{
    uint8_t name[DNAME_MAX_LEN];
    size_t p = DNS_HEADER_LEN;

    if (len < DNS_HEADER_LEN || dnswire_id(msg) != id || !(dnswire_flags(msg) & DNS_FLAG_QR) ||
        dnswire_opcode(msg) != DNS_OPCODE_QUERY)
        return false;
    /* The question must be ours (0x20-style case changes allowed: RFC 4343). */
    if (dnswire_count(msg, DNS_OFF_QDCOUNT) != 1 || dname_read_compressed(msg, len, &p, name) < 0 ||
        p + 4 > len || !dname_equal(name, qname) || dnswire_get16(msg + p) != qtype ||
        dnswire_get16(msg + p + 2) != DNS_CLASS_IN)
        return false;
    *pos = p + 4;
    return true;
}

int
dnswire_rr_read(const uint8_t *msg, size_t len, size_t *pos, struct dnswire_rr *rr)
{
    size_t p = *pos;
    if (dname_read_compressed(msg, len, &p, rr->owner) < 0 || p + 10 > len)
        return -1;
    rr->type = dnswire_get16(msg + p);
    rr->rclass = dnswire_get16(msg + p + 2);
    rr->ttl = dnswire_get32(msg + p + 4);
    rr->rdlen = dnswire_get16(msg + p + 8);
    rr->rdpos = p + 10;
    if (rr->rdpos + rr->rdlen > len)
        return -1;
    *pos = rr->rdpos + rr->rdlen;
    return 0;
}

/* Reads the name at msg[pos], which must end inside the RDATA, and compares it with the
 * presentation name `expect`. */
static bool
name_matches(const uint8_t *msg, size_t len, size_t pos, const struct dnswire_rr *rr,
             const char *expect)
{
    uint8_t name[DNAME_MAX_LEN], want[DNAME_MAX_LEN];
    if (dname_read_compressed(msg, len, &pos, name) < 0 || pos > rr->rdpos + rr->rdlen)
        return false;
    return dname_from_text(expect, want) >= 0 && dname_equal(name, want);
}

bool
dnswire_rdata_matches(const uint8_t *msg, size_t len, const struct dnswire_rr *rr,
                      const char *expect)
{
    uint8_t addr[16];
    size_t pos = rr->rdpos, end = rr->rdpos + rr->rdlen;

    switch (rr->type) {
    case DNS_TYPE_A:
        return rr->rdlen == 4 && inet_pton(AF_INET, expect, addr) == 1 &&
               memcmp(addr, msg + pos, 4) == 0;
    case DNS_TYPE_AAAA:
        return rr->rdlen == 16 && inet_pton(AF_INET6, expect, addr) == 1 &&
               memcmp(addr, msg + pos, 16) == 0;
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
    case DNS_TYPE_DNAME:
        return name_matches(msg, len, pos, rr, expect);
    case DNS_TYPE_MX: {
        /* RFC 1035 §3.3.9: PREFERENCE, EXCHANGE. */
        const char *space = strchr(expect, ' ');
        return rr->rdlen >= 3 && space && strtoul(expect, NULL, 10) == dnswire_get16(msg + pos) &&
               name_matches(msg, len, pos + 2, rr, space + 1);
    }
    case DNS_TYPE_TXT: {
        /* RFC 1035 §3.3.14: character-strings, compared joined, piece by piece. */
        size_t want = strlen(expect), o = 0;
        while (pos < end) {
            uint8_t l = msg[pos++];
            if (pos + l > end || o + l > want || memcmp(msg + pos, expect + o, l) != 0)
                return false;
            o += l;
            pos += l;
        }
        return o == want;
    }
    default:
        return false;
    }
}

void
dnswire_rdata_text(const uint8_t *msg, size_t len, const struct dnswire_rr *rr, char *out,
                   size_t size)
{
    uint8_t name[DNAME_MAX_LEN];
    size_t pos = rr->rdpos;

    if ((rr->type == DNS_TYPE_A && rr->rdlen == 4) ||
        (rr->type == DNS_TYPE_AAAA && rr->rdlen == 16)) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(rr->type == DNS_TYPE_A ? AF_INET : AF_INET6, msg + pos, text, sizeof(text));
        snprintf(out, size, "%s", text);
    } else if ((rr->type == DNS_TYPE_NS || rr->type == DNS_TYPE_CNAME || rr->type == DNS_TYPE_PTR ||
                rr->type == DNS_TYPE_DNAME) &&
               dname_read_compressed(msg, len, &pos, name) >= 0) {
        dname_to_text(name, out, size);
    } else {
        snprintf(out, size, "(%u bytes)", rr->rdlen);
    }
}
