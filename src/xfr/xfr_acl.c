// SPDX-License-Identifier: MIT
/* Who may transfer a zone (see xfr.h): the zone entry's `transfer:` networks and TSIG key
 * names. The key is an input: the TSIG module verifies the request (RFC 8945 §5.2) and names
 * the key that signed it; this only decides. Any thread; no allocation. */
#include "xfr/xfr.h"

#include <netinet/in.h>
#include <string.h>

/* The client as (family 4 or 6, 16 bytes): an IPv4 address inside an IPv4-mapped IPv6 one
 * (RFC 4291 §2.5.5.2) counts as IPv4, so "192.0.2.0/24" matches it on a dual-stack socket. */
static int
client_address(const struct sockaddr *sa, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (sa && sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(addr, a6->s6_addr + 12, 4);
            return 4;
        }
        memcpy(addr, a6->s6_addr, 16);
        return 6;
    }
    return 0;
}

static bool
prefix_contains(const struct config_prefix *p, int family, const uint8_t *addr)
{
    if (p->family != family)
        return false;
    unsigned bits = p->prefix_len, full = bits / 8, rest = bits % 8;
    if (memcmp(p->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (p->addr[full] & mask) == (addr[full] & mask);
}

/* Key names compare as domain names (RFC 8945 §4.2): case-insensitive, final dot optional. */
static bool
same_key(const char *listed, const uint8_t *key)
{
    uint8_t wire[DNAME_MAX_LEN];
    return dname_from_text(listed, wire) > 0 && dname_equal(wire, key);
}

bool
xfr_acl_allows(const struct config_transfer *t, const struct sockaddr *client, const uint8_t *key)
{
    if (!t || !t->enabled)
        return false;
    if (t->allow_count) {
        uint8_t addr[16];
        int family = client_address(client, addr);
        bool inside = false;
        for (size_t i = 0; i < t->allow_count && !inside; i++)
            inside = prefix_contains(&t->allow[i], family, addr);
        if (!inside)
            return false;
    }
    if (t->key_count) {
        bool known = false;
        for (size_t i = 0; key && i < t->key_count && !known; i++)
            known = same_key(t->keys[i], key);
        if (!known)
            return false;
    }
    return true;
}
