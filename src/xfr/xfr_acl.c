// SPDX-License-Identifier: MIT
/* Who may transfer a zone (see xfr.h): the zone entry's `transfer:` networks and TSIG key
 * names. The key is an input: the TSIG module verifies the request (RFC 8945 §5.2) and names
 * the key that signed it; this only decides. Any thread; no allocation. */
#include "xfr/xfr.h"

#include <netinet/in.h>
#include <string.h>

#include "common/sockaddr.h"

static bool
prefix_contains(const struct config_prefix *p, int family, const uint8_t *addr)
{
    return p->family == family && sockaddr_prefix_match(p->addr, p->prefix_len, addr);
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
        int family = sockaddr_ip(client, addr);
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
