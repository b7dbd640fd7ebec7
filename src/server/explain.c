// SPDX-License-Identifier: MIT
/* Offline query explanation for operators (see explain.h). Builds a real query message (with
 * an ECS option when a prefix is given), runs it through dns_answer() exactly as a worker
 * would, and decodes the answer section for display. Main thread only. */
#include "server/explain.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"

/* The answer, authority and additional records, one a line, with the ECS scope of the OPT
 * record (RFC 7871 §6). */
static void
print_answer(const uint8_t *msg, size_t len, FILE *out)
{
    const char *rcode = dnswire_rcode_name(dnswire_rcode(msg));
    uint16_t flags = dnswire_flags(msg);
    fprintf(out, "response: %s%s%s, %u answer records\n", rcode ? rcode : "?",
            flags & DNS_FLAG_AA ? ", aa" : "", flags & DNS_FLAG_TC ? ", tc" : "",
            dnswire_count(msg, DNS_OFF_ANCOUNT));
    size_t pos = DNS_HEADER_LEN;
    char name[DNAME_TEXT_MAX], rdata[DNAME_TEXT_MAX], tbuf[DNSWIRE_TYPE_TEXT_MAX];
    uint8_t qname[DNAME_MAX_LEN];
    if (dname_read_compressed(msg, len, &pos, qname) < 0)
        return;
    pos += 4;
    unsigned count = (unsigned)dnswire_count(msg, DNS_OFF_ANCOUNT) +
                     dnswire_count(msg, DNS_OFF_NSCOUNT) + dnswire_count(msg, DNS_OFF_ARCOUNT);
    for (unsigned i = 0; i < count; i++) {
        struct dnswire_rr rr;
        if (dnswire_rr_read(msg, len, &pos, &rr) < 0)
            return;
        if (rr.type == DNS_TYPE_OPT) {
            size_t end = rr.rdpos + rr.rdlen;
            for (size_t o = rr.rdpos; o + 4 <= end;) {
                uint16_t code = dnswire_get16(msg + o), olen = dnswire_get16(msg + o + 2);
                if (code == DNS_OPT_ECS && olen >= 4)
                    fprintf(out, "ecs: source /%u, scope /%u\n", msg[o + 6], msg[o + 7]);
                o += 4u + olen;
            }
        } else {
            dname_to_text(rr.owner, name, sizeof(name));
            dnswire_rdata_text(msg, len, &rr, rdata, sizeof(rdata));
            fprintf(out, "  %s %u %s %s\n", name, rr.ttl, dnswire_type_text(rr.type, tbuf), rdata);
        }
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

/* A query for qname/qtype with EDNS (RFC 6891 §6.1.2: OPT with our UDP size) and, when
 * prefix >= 0, an ECS option (RFC 7871 §6) with the address cut to the prefix. */
static size_t
build_query(const uint8_t *qname, int qname_len, uint16_t qtype,
            const struct sockaddr_storage *ss, int prefix, uint8_t *buf)
{
    size_t pos = dnswire_query(buf, 0x4d51, 0, qname, (size_t)qname_len, qtype, DNS_CLASS_IN);
    dnswire_put16(buf + DNS_OFF_ARCOUNT, 1);
    size_t opt = pos;
    buf[pos] = 0; /* root owner */
    dnswire_put16(buf + pos + 1, DNS_TYPE_OPT);
    dnswire_put16(buf + pos + 3, DNS_EDNS_DEFAULT_SIZE);
    dnswire_put32(buf + pos + 5, 0);
    pos += 11;
    if (prefix >= 0) {
        bool v4 = ss->ss_family == AF_INET;
        const uint8_t *addr = v4 ? (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr
                                 : (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
        size_t bytes = ((size_t)prefix + 7) / 8;
        dnswire_put16(buf + pos, DNS_OPT_ECS);
        dnswire_put16(buf + pos + 2, (uint16_t)(4 + bytes));
        dnswire_put16(buf + pos + 4, v4 ? 1 : 2);
        buf[pos + 6] = (uint8_t)prefix;
        buf[pos + 7] = 0;
        pos += 8;
        memcpy(buf + pos, addr, bytes);
        if (prefix % 8)
            buf[pos + bytes - 1] &= (uint8_t)(0xFF << (8 - prefix % 8));
        pos += bytes;
    }
    dnswire_put16(buf + opt + 9, (uint16_t)(pos - opt - 11));
    return pos;
}

int
explain_query(const struct snapshot *snap, const struct health_table *health,
              const char *client, const char *qname_text, const char *qtype_text, FILE *out,
              char *err, size_t err_size)
{
    struct sockaddr_storage ss;
    int prefix;
    uint8_t qname[DNAME_MAX_LEN], lname[DNAME_MAX_LEN];
    int qtype = dnswire_type_from_text(qtype_text, NULL, 0, true);
    int qname_len = dname_from_text(qname_text, qname);
    if (parse_client(client, &ss, &prefix) < 0) {
        snprintf(err, err_size,
                 "client '%.80s': expected an IPv4 or IPv6 address, optionally with /PREFIX "
                 "(0..32, 0..128) to send it as an ECS prefix",
                 client);
        return -1;
    }
    if (qname_len < 0) {
        snprintf(err, err_size, "qname '%.300s': not a valid domain name", qname_text);
        return -1;
    }
    if (qtype < 0) {
        char list[256];
        dnswire_type_list(NULL, 0, true, list, sizeof(list));
        snprintf(err, err_size, "qtype '%.40s': unknown; expected %s", qtype_text, list);
        return -1;
    }
    dname_lower_copy(lname, qname);
    fprintf(out, "query: %s %s from %s%s\n", qname_text, qtype_text, client,
            prefix >= 0 ? " (as an ECS prefix)" : " (as the source address)");

    const struct policy_service *svc =
        snap->policies ? policy_set_find(snap->policies, lname, qname_len) : NULL;
    if (svc) {
        /* The same client the answer below is computed for: the ECS prefix when one is
         * given, else the address as the source. */
        bool v4 = ss.ss_family == AF_INET;
        struct policy_ecs ecs = {
            .family = v4 ? 1 : 2,
            .source = (uint8_t)(prefix > 0 ? prefix : 0),
            .addr = v4 ? (const uint8_t *)&((const struct sockaddr_in *)&ss)->sin_addr
                       : (const uint8_t *)&((const struct sockaddr_in6 *)&ss)->sin6_addr,
        };
        struct policy_client pc;
        policy_client_init(&pc, (const struct sockaddr *)&ss, prefix >= 0 ? &ecs : NULL);
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
