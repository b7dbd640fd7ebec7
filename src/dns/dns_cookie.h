/* SPDX-License-Identifier: MIT */
/* DNS cookies (RFC 7873) with the interoperable server cookie of RFC 9018: version 1, a
 * 32-bit timestamp and SipHash-2-4 over the client cookie, the version, the timestamp and the
 * client's address, keyed with a 16-byte secret that every site of a fleet shares, so a
 * resolver's cookie stays valid whichever site anycast routes it to. Two secrets are held
 * for a rollover: cookies are made with the current one and accepted from either. Pure
 * functions, no allocation: called on the workers by dns_answer(). */
#ifndef MERIDIAN_DNS_DNS_COOKIE_H
#define MERIDIAN_DNS_DNS_COOKIE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNS_COOKIE_CLIENT_LEN 8  /* RFC 7873 §4.1 */
#define DNS_COOKIE_SERVER_LEN 16 /* RFC 9018 §4: version, reserved, timestamp, hash */
#define DNS_COOKIE_SERVER_MAX 32 /* RFC 7873 §4.2: 8 to 32 octets */
#define DNS_COOKIE_SECRET_LEN 16 /* SipHash-2-4 key */

struct dns_cookie_secrets {
    uint8_t current[DNS_COOKIE_SECRET_LEN];  /* makes new cookies, and accepts them */
    uint8_t previous[DNS_COOKIE_SECRET_LEN]; /* accepted only (a rollover in progress) */
    bool has_previous;
};

/* RFC 9018 §4.4: the server cookie for `client` (8 octets) asking from `addr` (AF_INET, or
 * AF_INET6: an IPv4-mapped address counts as its IPv4 address) at wall-clock time `now_s`,
 * keyed with `secret`. */
void dns_cookie_make(const uint8_t secret[DNS_COOKIE_SECRET_LEN], const uint8_t *client,
                     const struct sockaddr *addr, uint32_t now_s,
                     uint8_t out[DNS_COOKIE_SERVER_LEN]);

enum dns_cookie_check {
    DNS_COOKIE_VALID,   /* made by one of the secrets for this client, recent enough */
    DNS_COOKIE_REFRESH, /* valid, but older than half an hour: answer with a new one */
    DNS_COOKIE_INVALID, /* wrong length or version, forged, from another address, or stale */
};

/* RFC 9018 §4.3: checks a server cookie (`len` octets) the client sent back. A timestamp
 * more than an hour in the past or five minutes in the future is invalid (serial number
 * arithmetic, RFC 1982, so the 2106 wrap of the 32-bit seconds changes nothing). */
enum dns_cookie_check dns_cookie_check(const struct dns_cookie_secrets *secrets,
                                       const uint8_t *client, const uint8_t *server, size_t len,
                                       const struct sockaddr *addr, uint32_t now_s);

#endif
