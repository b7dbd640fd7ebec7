// SPDX-License-Identifier: MIT
/* RFC 9018 server cookies (see dns_cookie.h): making one and checking one sent back. The
 * hash is libsodium's SipHash-2-4 (crypto_shorthash_siphash24), the function RFC 9018 §4.4
 * names, so that every implementation of it (BIND, Knot, PowerDNS, Unbound) sharing the
 * secret accepts our cookies. Runs on any worker thread; no allocation. */
#include "dns/dns_cookie.h"

#include <sodium.h>
#include <string.h>

#include "common/dnswire.h"
#include "common/sockaddr.h"

#define COOKIE_VERSION 1
/* RFC 9018 §4.3: "older than 1 hour", "more than 5 minutes in the future", and a new cookie
 * once the one sent is older than half an hour. */
#define COOKIE_MAX_AGE_S 3600
#define COOKIE_MAX_FUTURE_S 300
#define COOKIE_REFRESH_S 1800

/* The client address as hashed: 4 octets for IPv4 (also when it reached an IPv6 socket as
 * an IPv4-mapped address), 16 for IPv6. Returns the length, 0 for any other family. */
static size_t
client_ip(const struct sockaddr *addr, uint8_t out[16])
{
    int family = sockaddr_ip(addr, out);
    return family == 4 ? 4 : family == 6 ? 16 : 0;
}

/* RFC 9018 §4.4: Hash = SipHash-2-4(Client Cookie | Version | Reserved | Timestamp |
 * Client-IP, Server Secret), where `head` is Version | Reserved | Timestamp. */
static void
hash_with(const uint8_t secret[DNS_COOKIE_SECRET_LEN], const uint8_t *client,
          const uint8_t head[8], const uint8_t ip[16], size_t ip_len, uint8_t hash[8])
{
    uint8_t msg[DNS_COOKIE_CLIENT_LEN + 8 + 16];
    memcpy(msg, client, DNS_COOKIE_CLIENT_LEN);
    memcpy(msg + DNS_COOKIE_CLIENT_LEN, head, 8);
    memcpy(msg + DNS_COOKIE_CLIENT_LEN + 8, ip, ip_len);
    crypto_shorthash_siphash24(hash, msg, DNS_COOKIE_CLIENT_LEN + 8 + ip_len, secret);
}

void
dns_cookie_make(const uint8_t secret[DNS_COOKIE_SECRET_LEN], const uint8_t *client,
                const struct sockaddr *addr, uint32_t now_s, uint8_t out[DNS_COOKIE_SERVER_LEN])
{
    uint8_t ip[16] = {0};
    size_t ip_len = client_ip(addr, ip);
    out[0] = COOKIE_VERSION;
    out[1] = out[2] = out[3] = 0; /* Reserved: zero (§4.2) */
    dnswire_put32(out + 4, now_s);
    hash_with(secret, client, out, ip, ip_len, out + 8);
}

enum dns_cookie_check
dns_cookie_check(const struct dns_cookie_secrets *secrets, const uint8_t *client,
                 const uint8_t *server, size_t len, const struct sockaddr *addr, uint32_t now_s)
{
    /* RFC 9018 §4.1: only version 1 is defined, and it is 16 octets long. */
    if (len != DNS_COOKIE_SERVER_LEN || server[0] != COOKIE_VERSION)
        return DNS_COOKIE_INVALID;
    uint32_t ts = dnswire_get32(server + 4);
    /* Serial arithmetic (RFC 1982): the age is the signed difference. */
    int32_t age = (int32_t)(now_s - ts);
    if (age > COOKIE_MAX_AGE_S || age < -COOKIE_MAX_FUTURE_S)
        return DNS_COOKIE_INVALID;
    uint8_t ip[16] = {0}, hash[8];
    size_t ip_len = client_ip(addr, ip);
    /* §4.2: Reserved "MUST be ignored" on receipt: it is hashed as the client sent it back. */
    hash_with(secrets->current, client, server, ip, ip_len, hash);
    bool ok = sodium_memcmp(hash, server + 8, 8) == 0;
    if (!ok && secrets->has_previous) {
        hash_with(secrets->previous, client, server, ip, ip_len, hash);
        ok = sodium_memcmp(hash, server + 8, 8) == 0;
    }
    if (!ok)
        return DNS_COOKIE_INVALID;
    return age > COOKIE_REFRESH_S ? DNS_COOKIE_REFRESH : DNS_COOKIE_VALID;
}
