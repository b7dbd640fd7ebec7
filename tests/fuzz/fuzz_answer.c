// SPDX-License-Identifier: MIT
/* libFuzzer target: arbitrary bytes as a query to dns_answer over UDP and TCP, against a
 * zone with every answer path (wildcards, CNAME/DNAME chains, a delegation, big RRsets).
 * Asserts the response never exceeds the limit and always echoes the ID. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char zone_text[] = "$ORIGIN example.com.\n$TTL 300\n"
                                "@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n@ MX 10 mail\n"
                                "ns1 A 192.0.2.1\nmail A 192.0.2.2\nmail AAAA 2001:db8::2\n"
                                "*.w A 192.0.2.3\nc CNAME c2\nc2 CNAME w\nloop CNAME loop\n"
                                "d DNAME example.com.\nsub NS ns.sub\nns.sub A 192.0.2.4\n"
                                "t TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
                                "t TXT \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n"
                                "a.b.c.e A 192.0.2.5\n";

static struct dns_view view;

static void
init(void)
{
    char path[] = "/tmp/meridian-fuzz-zone-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, zone_text, sizeof(zone_text) - 1) < 0)
        abort();
    close(fd);
    struct zone **zones = calloc(1, sizeof(*zones));
    char err[ZONE_ERR_MAX];
    if (zone_load("example.com", path, &zones[0], err) < 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    unlink(path);
    static const uint8_t nsid[] = "fuzz";
    view = (struct dns_view){.zones = zone_set_new(zones, 1), .identity = "fuzz",
                             .version = "fuzz", .nsid = nsid, .nsid_len = 4,
                             .udp_max_size = 1232};
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[65535];
    if (!view.zones)
        init();
    for (int tcp = 0; tcp < 2; tcp++) {
        struct dns_client client = {.tcp = tcp};
        struct dns_result res;
        size_t n = dns_answer(&view, &client, data, size, out, sizeof(out), &res);
        if (n == 0)
            continue;
        if (n < 12 || (!tcp && n > 1232) || memcmp(out, data, 2) != 0)
            abort();
    }
    return 0;
}
