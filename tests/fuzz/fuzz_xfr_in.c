// SPDX-License-Identifier: MIT
/* libFuzzer target: arbitrary bytes as the response stream of a zone transfer from a
 * primary (src/xfr/xfr_in.c), then, as the secondary does, the transferred version through
 * zone_build's checks. Input: one byte choosing AXFR or IXFR (from a base version of serial
 * 1), then messages each with a 2-octet length prefix, as on TCP. Every message must be read
 * to MORE, DONE or ERROR with a terminated reason; a finished transfer must build into a zone
 * or fail with "source:N: message". Never a crash, a leak or an unbounded allocation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"
#include "common/log.h"
#include "xfr/xfr_in.h"
#include "zone/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID 0x1234
static const uint8_t origin[] = "\7example\3com";

/* The version we hold for IXFR: SOA serial 1, NS, the server's address. */
static void
base_version(struct zone_records *r)
{
    static const uint8_t soa[] = "\3ns1\7example\3com\0\4host\7example\3com\0"
                                 "\0\0\0\1\0\0\x1c\x20\0\0\x0e\x10\0\x12\x75\0\0\0\1\x2c";
    static const uint8_t ns1[] = "\3ns1\7example\3com";
    static const uint8_t addr[] = {192, 0, 2, 1};
    zone_records_init(r);
    zone_records_add(r, origin, DNS_TYPE_SOA, 300, soa, sizeof(soa) - 1);
    zone_records_add(r, origin, DNS_TYPE_NS, 300, ns1, sizeof(ns1));
    zone_records_add(r, ns1, DNS_TYPE_A, 300, addr, sizeof(addr));
}

static void
check_text(const char *err, size_t max)
{
    if (!memchr(err, '\0', max) || !err[0])
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        log_set_level(LOG_LEVEL_ERROR);
        quiet = true;
    }
    if (size < 1)
        return 0;
    bool ixfr = data[0] & 1;
    struct zone_records base;
    base_version(&base);
    /* Small bounds, so the fuzzer reaches them. */
    struct xfr_in_limits limits = {.max_records = 4096, .max_bytes = 1 << 20,
                                   .max_messages = 64};
    struct xfr_in x;
    xfr_in_init(&x, origin, ixfr ? DNS_TYPE_IXFR : DNS_TYPE_AXFR, ID, ixfr ? &base : NULL, 1,
                &limits);
    size_t pos = 1;
    enum xfr_in_status st = XFR_IN_MORE;
    while (st == XFR_IN_MORE && size - pos >= 2) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        st = xfr_in_message(&x, data + pos, len);
        pos += len;
    }
    if (st == XFR_IN_ERROR)
        check_text(x.err, sizeof(x.err));
    struct zone_records out;
    if (st == XFR_IN_DONE && xfr_in_result(&x, &out)) {
        struct zone *z = NULL;
        char err[ZONE_ERR_MAX];
        memset(err, 0xA5, sizeof(err));
        if (zone_build("example.com", "xfr", &out, NULL, 0, NULL, &z, err) == 0) {
            zone_free(z);
        } else {
            check_text(err, sizeof(err));
            if (strncmp(err, "xfr:", 4) != 0)
                abort(); /* every error names the record's position */
        }
        zone_records_fini(&out);
    }
    xfr_in_fini(&x);
    zone_records_fini(&base);
    return 0;
}
