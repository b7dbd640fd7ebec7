// SPDX-License-Identifier: MIT
/* libFuzzer target: arbitrary bytes as a query to dns_answer, against a zone with every
 * answer path (wildcards, CNAME/DNAME chains, a delegation, big RRsets) and steering
 * policies built as the server builds them (tests/unit/steer_view.c) on geoip/sample.mmdb:
 * geo and nets rules, nearest, weighted, sticky, all and first_n, CNAME services whose
 * targets lead into chains, DNAMEs and loops, every all_down mode. Each input is answered
 * for four clients (UDP and TCP; IPv4, IPv4-mapped, IPv6 and no source address; ECS honoured
 * or ignored; health unknown, all down, or mixed with drains), so ECS options in the input
 * reach the steered paths. Two clients hold a clock at the time of the seeds signed with the
 * view's TSIG key (tsig-*.bin, dnspython's at 1700000000), so signed queries reach the
 * signing path; the others check TSIGs against another time or no clock. Asserts that a
 * response echoes the ID with QR set, respects the UDP limit, is exactly one message by its
 * counts, and matches the reported rcode. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dns/dns.h"
#include "steer_view.h"
#include "wire_end.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char zone_text[] = "$ORIGIN example.com.\n$TTL 300\n"
                                "@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n@ MX 10 mail\n"
                                "ns1 A 192.0.2.1\nmail A 192.0.2.2\nmail AAAA 2001:db8::2\n"
                                "*.w A 192.0.2.3\nc CNAME c2\nc2 CNAME w\nloop CNAME loop\n"
                                "d DNAME example.com.\nsub NS ns.sub\nns.sub A 192.0.2.4\n"
                                "t TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
                                "t TXT \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n"
                                "a.b.c.e A 192.0.2.5\ngeo MX 10 mail\n";

static const char checks[] = "  web: { type: tcp, port: 80 }\n";

static const char services[] =
    "  geo.example.com:\n"
    "    pools:\n"
    "      eu: { members: [ {address: 192.0.2.10, check: web, weight: 3},\n"
    "                       {address: \"2001:db8::10\", check: web} ] }\n"
    "      us: { members: [ {address: 198.51.100.10, check: web} ] }\n"
    "      ap: { members: [ {address: 203.0.113.10} ] }\n"
    "    geo: { subdivision: { US-NY: [us] }, country: { DE: [eu, us] },\n"
    "           continent: { AS: [ap] }, default: [us, eu] }\n"
    "    nets: { \"10.1.0.0/16\": [ap], \"2001:db8:3::/48\": [eu] }\n"
    "  sticky.example.com:\n"
    "    select: sticky\n"
    "    sticky_prefix: { v4: 20, v6: 48 }\n"
    "    all_down: nodata\n"
    "    pools:\n"
    "      p: { members: [ {address: 192.0.2.51, check: web}, {address: 192.0.2.52},\n"
    "                      {address: \"2001:db8::51\", check: web}, {address: \"2001:db8::52\"} ] "
    "}\n"
    "    geo: { country: { JP: [p] }, default: [p] }\n"
    "  near.example.com:\n"
    "    order: nearest\n"
    "    nearest_n: 2\n"
    "    select: all\n"
    "    all_down: \"pool:b\"\n"
    "    pools:\n"
    "      a: { coordinates: [50.1, 8.7], members: [ {address: 192.0.2.61, check: web},\n"
    "                                                 {address: 192.0.2.62, down: true} ] }\n"
    "      b: { coordinates: [35.7, 139.7], members: [ {address: 192.0.2.63, check: web} ] }\n"
    "      c: { coordinates: [40.7, -74.0], members: [ {address: \"2001:db8::63\"} ] }\n"
    "  first.example.com:\n"
    "    select: first_n\n"
    "    first_n: 2\n"
    "    pools:\n"
    "      p: { members: [ {address: 192.0.2.71, check: web}, {address: 192.0.2.72},\n"
    "                      {address: 192.0.2.73} ] }\n"
    "  cdn.example.com:\n"
    "    type: cname\n"
    "    pools:\n"
    "      near: { members: [ {target: c.example.com., check: web}, {target: x.d.example.com.} ] "
    "}\n"
    "      far: { members: [ {target: loop.example.com.}, {target: edge.example.net.},\n"
    "                        {target: s.w.example.com.}, {target: www.sub.example.com.} ] }\n"
    "    geo: { country: { DE: [near] }, default: [far] }\n"
    "  s.w.example.com:\n"
    "    ttl: 5\n"
    "    pools: { p: { members: [ {address: 192.0.2.81}, {address: \"2001:db8::81\"} ] } }\n";

static struct steer_view sv;
static struct health_table *all_down, *mixed;
static struct tsig_keyring *keys;

static struct health_table *
table(void)
{
    size_t n = sv.health->count;
    struct health_table *t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));
    if (!t)
        abort();
    t->count = (uint32_t)n;
    return t;
}

static void
init(void)
{
    char mmdb[4096], err[STEER_VIEW_ERR_MAX];
    log_set_level(LOG_LEVEL_ERROR);
    snprintf(mmdb, sizeof(mmdb), "%s/geoip/sample.mmdb", MERIDIAN_SOURCE_DIR);
    if (steer_view_load(&sv, mmdb, "example.com", zone_text, checks, services, err) < 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    static const uint8_t nsid[] = "fuzz";
    sv.view.nsid = nsid;
    sv.view.nsid_len = 4;
    /* tests/unit/tsig/test_tsig.c's known-answer key, and a SHA-512 one. */
    static const uint8_t secret[] = "meridian-tsig-kat-0123456789abcd";
    keys = tsig_keyring_new();
    if (tsig_keyring_add(keys, (const uint8_t *)"\007kat-key\007example", TSIG_HMAC_SHA256, secret,
                         32) < 0 ||
        tsig_keyring_add(keys, (const uint8_t *)"\x04k512", TSIG_HMAC_SHA512, secret, 32) < 0)
        abort();
    sv.view.tsig = keys;
    /* DNS cookies (RFC 7873): the RFC 9018 appendix A secret, so seeds can carry valid ones. */
    static struct dns_cookie_secrets cookies = {
        .current = {0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f, 0x48, 0xe7, 0xdc, 0x84,
                    0x9e, 0x37, 0xbf, 0xcf},
        .has_previous = true};
    sv.view.cookies = &cookies;
    all_down = table();
    mixed = table();
    for (uint32_t i = 0; i < all_down->count; i++) {
        all_down->entries[i] = (struct health_entry){.state = HEALTH_DOWN, .earliest_change_s = 7};
        mixed->entries[i] = (struct health_entry){.state = (uint8_t)(i % 3),
                                                  .drained = i % 4 == 1,
                                                  .earliest_change_s = i % 2 ? 3 : HEALTH_NEVER};
    }
}

static void
check(const struct dns_client *client, const uint8_t *data, size_t size)
{
    static uint8_t out[65535];
    struct dns_result res;
    size_t n = dns_answer(&sv.view, client, data, size, out, sizeof(out), &res);
    if (n == 0)
        return;
    if (n < 12 || (!client->tcp && n > 1232) || memcmp(out, data, 2) != 0 || !(out[2] & 0x80))
        abort();
    if (wire_message_end(out, n) != n || (res.rcode & 0xF) != (out[3] & 0xF))
        abort();
    /* Rate limiting's TC=1 stub of it is a message too. */
    size_t stub = dns_truncate_to_question(out, n);
    if (stub > n || wire_message_end(out, stub) != stub)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sv.zones)
        init();
    /* The random number comes from the input, so weighted picks vary with it. */
    uint64_t random = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++)
        random = (random ^ data[i]) * 0x100000001b3ULL;

    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 mapped = {.sin6_family = AF_INET6}, v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET, "127.0.1.1", &v4.sin_addr);
    inet_pton(AF_INET6, "::ffff:127.0.4.1", &mapped.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:2::1", &v6.sin6_addr);
    const struct dns_client clients[] = {
        {.addr = (struct sockaddr *)&v4, .random = random, .now_s = 1, .wall_s = 1700000000},
        {.addr = (struct sockaddr *)&mapped,
         .tcp = true,
         .health = all_down,
         .now_s = 5,
         .wall_s = 1700000100},
        {.addr = (struct sockaddr *)&v6,
         .ecs_ignore = true,
         .random = random >> 7,
         .health = mixed,
         .now_s = 2,
         .wall_s = 1800000000},
        {.random = ~random, .health = mixed},
    };
    for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++)
        check(&clients[i], data, size);
    return 0;
}
