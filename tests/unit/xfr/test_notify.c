// SPDX-License-Identifier: MIT
/* The NOTIFY sender (xfr_notify.c) against three secondaries played by sockets of this test
 * on 127.0.0.1 / ::1: one acknowledges, one answers REFUSED, one never answers. Checked: the
 * message (RFC 1996 §3.7: opcode NOTIFY, AA, the zone's SOA as question and answer), the
 * retries to the silent one (same ID, as many as asked, spaced by a growing timeout), a
 * newer serial replacing what is pending, and the counters; a NOTIFY signed with a TSIG key,
 * verified by a secondary holding the secret, and only its signed reply counted (RFC 8945
 * §5.4). Time bounds scaled for the build (test_time.h). */
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
    xfr_notifier_send(n, z, t, 3, NULL, &stats);

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
    xfr_notifier_send(n, z42, &t, 1, NULL, &stats);
    assert_true(serve_one(fd, -1, test_ms(3000), 42) >= 0);
    xfr_notifier_send(n, z43, &t, 1, NULL, &stats);
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

/* A secondary for a signed NOTIFY: its socket, and its config entry naming key `name`
 * (ck is the tsig_keys entry the config check would resolve it to). */
static int
signed_secondary(int family, const char *name, struct config_tsig_key *ck, struct config_notify *t,
                 char *text, size_t text_size)
{
    int fd = secondary(family, t, text, text_size);
    memset(ck, 0, sizeof(*ck));
    ck->name = (char *)name;
    uint8_t wire[DNAME_MAX_LEN];
    assert_true(dname_from_text(name, wire) > 0);
    dname_lower_copy(ck->name_wire, wire);
    t->key = (char *)name;
    t->tsig_key = ck;
    return fd;
}

/* One signed NOTIFY (within 3 s, scaled) into m: its length, its TSIG's offset in *at, the
 * sender in from, and the request as `ring` verifies it in req (whatever its error). */
struct received {
    uint8_t m[2048];
    size_t len, at;
    struct sockaddr_storage from;
    socklen_t from_len;
    struct tsig_request req;
};

static void
receive_signed(int fd, const struct tsig_keyring *ring, struct received *got)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, test_ms(3000)), 1);
    got->from_len = sizeof(got->from);
    ssize_t n =
        recvfrom(fd, got->m, sizeof(got->m), 0, (struct sockaddr *)&got->from, &got->from_len);
    assert_true(n > DNS_HEADER_LEN);
    got->len = (size_t)n;
    assert_int_equal(tsig_find(got->m, got->len, &got->at), 1);
    assert_int_equal(
        tsig_request_verify(ring, got->m, got->len, got->at, (uint64_t)time(NULL), &got->req), 0);
}

/* Sends the secondary's reply to the NOTIFY in got: QR set, rcode, then signed per req
 * (tsig_response_sign: unsigned for BADKEY/BADSIG), or unsigned when req is NULL. */
static void
reply(int fd, const struct received *got, const struct tsig_request *req, unsigned rcode)
{
    uint8_t r[2048];
    size_t n = got->at;
    memcpy(r, got->m, got->at);
    r[2] |= 0x80;
    r[3] = (uint8_t)((r[3] & 0xF0) | rcode);
    dnswire_put16(r + DNS_OFF_ARCOUNT, (uint16_t)(dnswire_count(got->m, DNS_OFF_ARCOUNT) - 1));
    if (req) {
        n = tsig_response_sign(req, r, got->at, sizeof(r), (uint64_t)time(NULL));
        assert_true(n > got->at);
    }
    assert_int_equal(sendto(fd, r, n, 0, (const struct sockaddr *)&got->from, got->from_len),
                     (ssize_t)n);
}

/* A NOTIFY to a target with a key is signed with it (RFC 8945 §5.1): a secondary holding the
 * same secret verifies it, one with another secret or without the key does not. Its replies
 * count only when signed with the key and chained to our MAC (§5.4): an unsigned NOERROR, one
 * signed with another secret under the same name, and unsigned NOTAUTH/BADSIG and BADKEY are
 * ignored; the signed one is the acknowledgement. */
static void
test_notify_signed(void **state)
{
    (void)state;
    static const uint8_t secret[32] = "0123456789abcdef0123456789abcdef";
    static const uint8_t other[32] = "fedcba9876543210fedcba9876543210";
    struct zone *z = xt_zone("n.test", zone_text);
    struct config_tsig_key ck;
    struct config_notify t;
    char text[64];
    int fd = signed_secondary(AF_INET, "Notify-Key.", &ck, &t, text, sizeof(text));
    struct tsig_keyring *ours = tsig_keyring_new(), *theirs = tsig_keyring_new(),
                        *forger = tsig_keyring_new(), *wrong_name = tsig_keyring_new();
    uint8_t name2[DNAME_MAX_LEN];
    assert_true(dname_from_text("another-key", name2) > 0);
    assert_int_equal(tsig_keyring_add(ours, ck.name_wire, TSIG_HMAC_SHA256, secret, 32), 0);
    assert_int_equal(tsig_keyring_add(theirs, ck.name_wire, TSIG_HMAC_SHA256, secret, 32), 0);
    assert_int_equal(tsig_keyring_add(forger, ck.name_wire, TSIG_HMAC_SHA256, other, 32), 0);
    assert_int_equal(tsig_keyring_add(wrong_name, name2, TSIG_HMAC_SHA256, secret, 32), 0);
    struct xfr_stats stats = {0};
    struct xfr_notifier *n = NULL;
    char err[XFR_ERR_MAX];
    /* One try with a long timeout: every reply below answers the first send. */
    assert_int_equal(xfr_notifier_start(1, 30, &n, err), 0);
    xfr_notifier_send(n, z, &t, 1, ours, &stats);
    tsig_keyring_free(ours); /* the notifier keeps its own copy */

    struct received got;
    receive_signed(fd, theirs, &got);
    assert_int_equal(got.req.error, TSIG_ERROR_NONE);
    assert_non_null(got.req.key);
    assert_int_equal(got.req.original_id, dnswire_id(got.m));
    struct tsig_request bad, badkey;
    assert_int_equal(
        tsig_request_verify(forger, got.m, got.len, got.at, (uint64_t)time(NULL), &bad), 0);
    assert_int_equal(bad.error, TSIG_ERROR_BADSIG);
    assert_int_equal(
        tsig_request_verify(wrong_name, got.m, got.len, got.at, (uint64_t)time(NULL), &badkey), 0);
    assert_int_equal(badkey.error, TSIG_ERROR_BADKEY);

    /* Replies that must not count. */
    reply(fd, &got, NULL, DNS_RCODE_NOERROR);
    struct tsig_request forged = got.req;
    forged.key = tsig_keyring_find(forger, ck.name_wire);
    reply(fd, &got, &forged, DNS_RCODE_NOERROR);
    reply(fd, &got, &bad, DNS_RCODE_NOTAUTH);
    reply(fd, &got, &badkey, DNS_RCODE_NOTAUTH);
    usleep((useconds_t)test_ms(300) * 1000);
    assert_int_equal(atomic_load(&stats.notify_acked), 0);
    assert_int_equal(atomic_load(&stats.notify_failed), 0);

    /* The signed one counts. */
    reply(fd, &got, &got.req, DNS_RCODE_NOERROR);
    double deadline = now_s() + test_ms(3000) / 1000.0;
    while (atomic_load(&stats.notify_acked) < 1 && now_s() < deadline)
        usleep(5000);
    assert_int_equal(atomic_load(&stats.notify_acked), 1);
    assert_int_equal(atomic_load(&stats.notify_failed), 0);
    assert_int_equal(atomic_load(&stats.notify_sent), 1);
    xfr_notifier_stop(n);
    tsig_keyring_free(theirs);
    tsig_keyring_free(forger);
    tsig_keyring_free(wrong_name);
    close(fd);
    zone_free(z);
}

/* Targets still waiting when the notifier stops, one replaced by a newer send: their key
 * copies are freed (ASan). The NOTIFY is signed with the full HMAC-SHA512. */
static void
test_notify_signed_stop(void **state)
{
    (void)state;
    static const uint8_t secret[16] = "0123456789abcdef";
    struct zone *z = xt_zone("n.test", zone_text);
    struct config_tsig_key ck;
    struct config_notify t;
    char text[64];
    int fd = signed_secondary(AF_INET6, "k", &ck, &t, text, sizeof(text));
    struct tsig_keyring *ours = tsig_keyring_new();
    assert_int_equal(tsig_keyring_add(ours, ck.name_wire, TSIG_HMAC_SHA512, secret, 16), 0);
    struct xfr_stats stats = {0};
    struct xfr_notifier *n = NULL;
    char err[XFR_ERR_MAX];
    assert_int_equal(xfr_notifier_start(1, 30, &n, err), 0);
    xfr_notifier_send(n, z, &t, 1, ours, &stats);
    xfr_notifier_send(n, z, &t, 1, ours, &stats); /* replaces the first */
    struct received got;
    receive_signed(fd, ours, &got);
    assert_int_equal(got.req.error, TSIG_ERROR_NONE);
    assert_int_equal(got.req.mac_len, 64);
    xfr_notifier_stop(n);
    tsig_keyring_free(ours);
    close(fd);
    zone_free(z);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify),
        cmocka_unit_test(test_notify_newer_serial),
        cmocka_unit_test(test_notify_signed),
        cmocka_unit_test(test_notify_signed_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
