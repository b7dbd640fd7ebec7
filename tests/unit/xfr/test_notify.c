// SPDX-License-Identifier: MIT
/* The NOTIFY sender (xfr_notify.c) against three secondaries played by sockets of this test
 * on 127.0.0.1 / ::1: one acknowledges, one answers REFUSED, one never answers. Checked: the
 * message (RFC 1996 §3.7: opcode NOTIFY, AA, the zone's SOA as question and answer), the
 * retries to the silent one (same ID, as many as asked, spaced by a growing timeout), a
 * newer serial replacing what is pending, and the counters. Time bounds scaled for the
 * build (test_time.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/dnswire.h"
#include "test_time.h"
#include "xfr/xfr_notify.h"
#include "xfr_test.h"

#define TRIES 3
#define FIRST_TIMEOUT_S 0.1

static const char zone_text[] = "$ORIGIN n.test.\n$TTL 300\n"
                                "@ SOA ns1 host 42 7200 3600 1209600 300\n@ NS ns1\n"
                                "ns1 A 192.0.2.1\n";

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A bound UDP socket on a kernel-chosen loopback port, and its config_notify entry. */
static int
secondary(int family, struct config_notify *t, char *text, size_t text_size)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    memset(t, 0, sizeof(*t));
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&t->addr;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        t->addr_len = sizeof(*a);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&t->addr;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        t->addr_len = sizeof(*a);
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&t->addr, t->addr_len), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&t->addr, &t->addr_len), 0);
    uint16_t port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&t->addr)->sin_port
                                            : ((struct sockaddr_in6 *)&t->addr)->sin6_port);
    snprintf(text, text_size, family == AF_INET ? "127.0.0.1:%u" : "[::1]:%u", port);
    t->text = text;
    return fd;
}

/* Reads one NOTIFY (within timeout_ms), checks it, answers with rcode unless rcode < 0.
 * Returns its ID, or -1 on timeout. */
static int
serve_one(int fd, int rcode, int timeout_ms, uint32_t want_serial)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return -1;
    uint8_t m[1024];
    struct sockaddr_storage from;
    socklen_t from_len = sizeof(from);
    ssize_t n = recvfrom(fd, m, sizeof(m), 0, (struct sockaddr *)&from, &from_len);
    assert_true(n > DNS_HEADER_LEN);
    assert_int_equal(dnswire_opcode(m), 4); /* RFC 1996 §3.1 */
    assert_true(dnswire_flags(m) & DNS_FLAG_AA);
    assert_false(dnswire_flags(m) & DNS_FLAG_QR);
    assert_int_equal(dnswire_count(m, DNS_OFF_QDCOUNT), 1);
    assert_int_equal(dnswire_count(m, DNS_OFF_ANCOUNT), 1);
    size_t pos = DNS_HEADER_LEN;
    uint8_t name[DNAME_MAX_LEN], want[DNAME_MAX_LEN];
    assert_true(dname_read_compressed(m, (size_t)n, &pos, name) > 0);
    assert_true(dname_from_text("n.test", want) > 0);
    assert_true(dname_equal(name, want));
    assert_int_equal(dnswire_get16(m + pos), DNS_TYPE_SOA);
    pos += 4;
    struct dnswire_rr rr;
    assert_int_equal(dnswire_rr_read(m, (size_t)n, &pos, &rr), 0);
    assert_int_equal(rr.type, DNS_TYPE_SOA);
    char text[512];
    char *s = xt_rr_text(rr.owner, rr.type, rr.ttl, m + rr.rdpos, rr.rdlen);
    snprintf(text, sizeof(text), " %u 7200", want_serial);
    assert_non_null(strstr(s, text));
    free(s);
    if (rcode >= 0) {
        m[2] |= 0x80; /* QR */
        m[3] = (uint8_t)((m[3] & 0xF0) | rcode);
        assert_int_equal(sendto(fd, m, (size_t)n, 0, (struct sockaddr *)&from, from_len), n);
    }
    return dnswire_id(m);
}

static void
test_notify(void **state)
{
    (void)state;
    struct zone *z = xt_zone("n.test", zone_text);
    struct config_notify t[3];
    char texts[3][64];
    int ack = secondary(AF_INET, &t[0], texts[0], 64);
    int refuse = secondary(AF_INET6, &t[1], texts[1], 64);
    int silent = secondary(AF_INET, &t[2], texts[2], 64);
    struct xfr_stats stats = {0};
    struct xfr_notifier *n = NULL;
    char err[XFR_ERR_MAX];
    assert_int_equal(xfr_notifier_start(TRIES, FIRST_TIMEOUT_S, &n, err), 0);
    xfr_notifier_send(n, z, t, 3, &stats);

    int wait = test_ms(3000);
    assert_true(serve_one(ack, DNS_RCODE_NOERROR, wait, 42) >= 0);
    assert_true(serve_one(refuse, DNS_RCODE_REFUSED, wait, 42) >= 0);
    /* The silent one: TRIES sends with the same ID. RFC 1996 §3.6: the interval grows
     * (0.1 s, 0.2 s, ...); the second and later arrive while this thread waits in poll, so
     * the gap between them is measured, never shorter than the timeout. */
    double at[TRIES];
    int id = serve_one(silent, -1, wait, 42);
    assert_true(id >= 0);
    for (int i = 1; i < TRIES; i++) {
        assert_int_equal(serve_one(silent, -1, wait, 42), id);
        at[i] = now_s();
        if (i >= 2)
            assert_true(at[i] - at[i - 1] >= FIRST_TIMEOUT_S * (1 << (i - 1)) * 0.9);
    }
    /* No more after that; acknowledgements and failures are counted. */
    assert_int_equal(serve_one(silent, -1, (int)(FIRST_TIMEOUT_S * (1 << TRIES) * 1000) + 200, 42),
                     -1);
    double deadline = now_s() + test_ms(3000) / 1000.0;
    while (atomic_load(&stats.notify_failed) < 2 && now_s() < deadline)
        usleep(10000);
    assert_int_equal(atomic_load(&stats.notify_sent), 2 + TRIES);
    assert_int_equal(atomic_load(&stats.notify_acked), 1);
    assert_int_equal(atomic_load(&stats.notify_failed), 2);
    xfr_notifier_stop(n);
    close(ack);
    close(refuse);
    close(silent);
    zone_free(z);
}

/* A newer serial for a target still waiting replaces the older one: the silent target hears
 * of serial 43 and no more of 42. */
static void
test_notify_newer_serial(void **state)
{
    (void)state;
    struct zone *z42 = xt_zone("n.test", zone_text);
    char text43[sizeof(zone_text)];
    snprintf(text43, sizeof(text43), "%s", zone_text);
    memcpy(strstr(text43, " 42 "), " 43 ", 4);
    struct zone *z43 = xt_zone("n.test", text43);
    struct config_notify t;
    char name[64];
    int fd = secondary(AF_INET, &t, name, sizeof(name));
    struct xfr_stats stats = {0};
    struct xfr_notifier *n = NULL;
    char err[XFR_ERR_MAX];
    assert_int_equal(xfr_notifier_start(TRIES, 0.5, &n, err), 0);
    xfr_notifier_send(n, z42, &t, 1, &stats);
    assert_true(serve_one(fd, -1, test_ms(3000), 42) >= 0);
    xfr_notifier_send(n, z43, &t, 1, &stats);
    assert_true(serve_one(fd, DNS_RCODE_NOERROR, test_ms(3000), 43) >= 0);
    /* Nothing for 42 comes back after its first timeout (0.5 s). */
    assert_int_equal(serve_one(fd, -1, 1200, 42), -1);
    assert_int_equal(atomic_load(&stats.notify_acked), 1);
    assert_int_equal(atomic_load(&stats.notify_sent), 2);
    xfr_notifier_stop(n);
    close(fd);
    zone_free(z42);
    zone_free(z43);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify),
        cmocka_unit_test(test_notify_newer_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
