// SPDX-License-Identifier: MIT
/* Offline query explanation for operators (see explain.h). Builds a real query message (with
 * an ECS option when a prefix is given), runs it through dns_answer() exactly as a worker
 * would, and decodes the answer section for display. Main thread only. */
#include "server/explain.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    uint16_t type;
} type_names[] = {{"A", 1},     {"NS", 2},    {"CNAME", 5},  {"SOA", 6},  {"PTR", 12},
                  {"MX", 15},   {"TXT", 16},  {"AAAA", 28},  {"SRV", 33}, {"DNAME", 39},
                  {"DS", 43},   {"SVCB", 64}, {"HTTPS", 65}, {"CAA", 257}, {"ANY", 255}};

static int
parse_type(const char *text)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (strcasecmp(text, type_names[i].name) == 0)
            return type_names[i].type;
    if (strncasecmp(text, "TYPE", 4) == 0) {
        char *end;
        long v = strtol(text + 4, &end, 10);
        if (*end == '\0' && v > 0 && v < 65536)
            return (int)v;
    }
    return -1;
}

static const char *
type_name(uint16_t type, char buf[16])
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (type_names[i].type == type)
            return type_names[i].name;
    snprintf(buf, 16, "TYPE%u", type);
    return buf;
}

/* Reads a possibly compressed name at *pos as text; advances *pos past it. */
static int
read_name(const uint8_t *msg, size_t len, size_t *pos, char *text, size_t text_size)
{
    uint8_t wire[DNAME_MAX_LEN];
    if (dname_read_compressed(msg, len, pos, wire) < 0)
        return -1;
    dname_to_text(wire, text, text_size);
    return 0;
}

static void
print_answer(const uint8_t *msg, size_t len, FILE *out)
{
    static const char *const rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                         "NOTIMP",  "REFUSED", "YXDOMAIN"};
    int rcode = msg[3] & 0xF;
    fprintf(out, "response: %s%s%s, %u answer records\n", rcode < 7 ? rcodes[rcode] : "?",
            msg[2] & 0x04 ? ", aa" : "", msg[2] & 0x02 ? ", tc" : "",
            (unsigned)(msg[6] << 8 | msg[7]));
    size_t pos = DNS_HEADER_LEN;
    char name[DNAME_TEXT_MAX], rdata[DNAME_TEXT_MAX], tbuf[16];
    if (read_name(msg, len, &pos, name, sizeof(name)) < 0)
        return;
    pos += 4;
    unsigned count = (unsigned)(msg[6] << 8 | msg[7]) + (unsigned)(msg[8] << 8 | msg[9]) +
                     (unsigned)(msg[10] << 8 | msg[11]);
    for (unsigned i = 0; i < count; i++) {
        if (read_name(msg, len, &pos, name, sizeof(name)) < 0 || pos + 10 > len)
            return;
        uint16_t type = (uint16_t)(msg[pos] << 8 | msg[pos + 1]);
        uint32_t ttl = (uint32_t)msg[pos + 4] << 24 | (uint32_t)msg[pos + 5] << 16 |
                       (uint32_t)msg[pos + 6] << 8 | msg[pos + 7];
        size_t rdlen = (size_t)(msg[pos + 8] << 8 | msg[pos + 9]);
        size_t rd = pos + 10;
        if (rd + rdlen > len)
            return;
        if (type == 41) { /* OPT: show the ECS scope */
            for (size_t o = rd; o + 4 <= rd + rdlen;) {
                uint16_t code = (uint16_t)(msg[o] << 8 | msg[o + 1]);
                uint16_t olen = (uint16_t)(msg[o + 2] << 8 | msg[o + 3]);
                if (code == 8 && olen >= 4)
                    fprintf(out, "ecs: source /%u, scope /%u\n", msg[o + 6], msg[o + 7]);
                o += 4u + olen;
            }
        } else {
            size_t rp = rd;
            if (type == 1 && rdlen == 4)
                inet_ntop(AF_INET, msg + rd, rdata, sizeof(rdata));
            else if (type == 28 && rdlen == 16)
                inet_ntop(AF_INET6, msg + rd, rdata, sizeof(rdata));
            else if ((type == 5 || type == 2 || type == 12 || type == 39) &&
                     read_name(msg, len, &rp, rdata, sizeof(rdata)) == 0)
                ;
            else
                snprintf(rdata, sizeof(rdata), "(%zu bytes)", rdlen);
            fprintf(out, "  %s %u %s %s\n", name, ttl, type_name(type, tbuf), rdata);
        }
        pos = rd + rdlen;
    }
}

/* "192.0.2.1", "192.0.2.0/24", "2001:db8::1", "2001:db8::/48". */
static int
parse_client(const char *text, struct sockaddr_storage *ss, int *prefix)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n >= sizeof(host))
        return -1;
    memcpy(host, text, n);
    host[n] = '\0';
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    int max;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    *prefix = -1;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (*end || v < 0 || v > max)
            return -1;
        *prefix = (int)v;
    }
    return 0;
}

/* A query for qname/qtype with EDNS and, when prefix >= 0, an ECS option. */
static size_t
build_query(const uint8_t *qname, int qname_len, uint16_t qtype,
            const struct sockaddr_storage *ss, int prefix, uint8_t *buf)
{
    static const uint8_t header[] = {0x4d, 0x51, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 1};
    size_t pos = sizeof(header);
    memcpy(buf, header, sizeof(header));
    memcpy(buf + pos, qname, (size_t)qname_len);
    pos += (size_t)qname_len;
    buf[pos++] = (uint8_t)(qtype >> 8);
    buf[pos++] = (uint8_t)qtype;
    buf[pos++] = 0;
    buf[pos++] = 1; /* class IN */
    size_t opt = pos;
    static const uint8_t opt_head[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
    memcpy(buf + pos, opt_head, sizeof(opt_head));
    pos += sizeof(opt_head);
    if (prefix >= 0) {
        bool v4 = ss->ss_family == AF_INET;
        const uint8_t *addr = v4 ? (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr
                                 : (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
        size_t bytes = ((size_t)prefix + 7) / 8;
        buf[pos++] = 0;
        buf[pos++] = 8;
        buf[pos++] = 0;
        buf[pos++] = (uint8_t)(4 + bytes);
        buf[pos++] = 0;
        buf[pos++] = v4 ? 1 : 2;
        buf[pos++] = (uint8_t)prefix;
        buf[pos++] = 0;
        memcpy(buf + pos, addr, bytes);
        if (prefix % 8)
            buf[pos + bytes - 1] &= (uint8_t)(0xFF << (8 - prefix % 8));
        pos += bytes;
    }
    size_t rdlen = pos - opt - sizeof(opt_head);
    buf[opt + 9] = (uint8_t)(rdlen >> 8);
    buf[opt + 10] = (uint8_t)rdlen;
    return pos;
}

int
explain_query(const struct snapshot *snap, const struct health_table *health,
              const char *client, const char *qname_text, const char *qtype_text, FILE *out)
{
    struct sockaddr_storage ss;
    int prefix;
    uint8_t qname[DNAME_MAX_LEN], lname[DNAME_MAX_LEN];
    int qtype = parse_type(qtype_text);
    int qname_len = dname_from_text(qname_text, qname);
    if (parse_client(client, &ss, &prefix) < 0 || qtype < 0 || qname_len < 0)
        return -1; /* the caller says how to use it: -q and the control socket differ */
    dname_lower_copy(lname, qname);
    fprintf(out, "query: %s %s from %s%s\n", qname_text, qtype_text, client,
            prefix >= 0 ? " (as an ECS prefix)" : " (as the source address)");

    const struct policy_service *svc =
        snap->policies ? policy_set_find(snap->policies, lname, qname_len) : NULL;
    if (svc) {
        struct policy_client pc = {0};
        if (prefix != 0) {
            pc.family = ss.ss_family == AF_INET ? 4 : 6;
            pc.bits = prefix >= 0 ? prefix : (pc.family == 4 ? 32 : 128);
            memcpy(pc.addr,
                   pc.family == 4 ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                                  : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
                   pc.family == 4 ? 4 : 16);
            for (int bit = pc.bits; bit < (pc.family == 4 ? 32 : 128); bit++)
                pc.addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
            if (pc.family == 6)
                geo_normalize(&pc.family, pc.addr, &pc.bits);
        }
        policy_explain(svc, &pc, (uint16_t)qtype, health, health_now_s(), snap->geo, out);
    } else {
        fprintf(out, "no steering policy at this name: static zone data answers\n");
    }

    uint8_t query[512], resp[65535];
    size_t qlen = build_query(qname, qname_len, (uint16_t)qtype, &ss, prefix, query);
    struct dns_client dc = {
        .addr = (const struct sockaddr *)&ss, .random = 0, .health = health, .now_s = health_now_s()};
    struct dns_result res;
    size_t n = dns_answer(&snap->view, &dc, query, qlen, resp, sizeof(resp), &res);
    if (n >= DNS_HEADER_LEN)
        print_answer(resp, n, out);
    return 0;
}
