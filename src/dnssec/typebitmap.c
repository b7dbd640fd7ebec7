// SPDX-License-Identifier: MIT
/* Type bit maps (RFC 4034 §4.1.2): encoding a set of RR types into windows, and reading one
 * back. The encoder needs no scratch memory: it finds the windows present with a 256-bit mask,
 * then fills each window from the list. Used by the NSEC3 chain builder (and NSEC later) on
 * the loader thread; typebitmap_contains is cheap enough for any thread. */
#include "dnssec/typebitmap.h"

#include <string.h>

int
typebitmap_encode(const uint16_t *types, size_t n, uint8_t *out, size_t out_size)
{
    uint8_t windows[32] = {0}; /* bit w: window w has a type */
    for (size_t i = 0; i < n; i++)
        windows[types[i] >> 11] |= (uint8_t)(0x80 >> ((types[i] >> 8) & 7));
    size_t len = 0;
    for (unsigned w = 0; w < 256; w++) {
        if (!(windows[w >> 3] & (0x80 >> (w & 7))))
            continue;
        /* The window's octets run up to the last one with a bit set (§4.1.2: trailing zero
         * octets are left out). */
        unsigned octets = 0;
        for (size_t i = 0; i < n; i++)
            if ((types[i] >> 8) == w && (unsigned)((types[i] & 0xFF) >> 3) + 1 > octets)
                octets = (unsigned)((types[i] & 0xFF) >> 3) + 1;
        if (len + 2 + octets > out_size)
            return -1;
        uint8_t *win = out + len;
        win[0] = (uint8_t)w;
        win[1] = (uint8_t)octets;
        memset(win + 2, 0, octets);
        for (size_t i = 0; i < n; i++)
            if ((types[i] >> 8) == w)
                win[2 + ((types[i] & 0xFF) >> 3)] |= (uint8_t)(0x80 >> (types[i] & 7));
        len += 2 + octets;
    }
    return (int)len;
}

bool
typebitmap_valid(const uint8_t *map, size_t len)
{
    size_t pos = 0;
    int last = -1;
    while (pos < len) {
        if (len - pos < 2 || map[pos] <= last || map[pos + 1] == 0 || map[pos + 1] > 32 ||
            len - pos - 2 < map[pos + 1])
            return false;
        last = map[pos];
        pos += 2u + map[pos + 1];
    }
    return true;
}

bool
typebitmap_contains(const uint8_t *map, size_t len, uint16_t type)
{
    if (!typebitmap_valid(map, len))
        return false;
    unsigned w = type >> 8, octet = (type & 0xFF) >> 3;
    for (size_t pos = 0; pos < len; pos += 2u + map[pos + 1]) {
        if (map[pos] != w)
            continue;
        return octet < map[pos + 1] && (map[pos + 2 + octet] & (0x80 >> (type & 7)));
    }
    return false;
}

int
typebitmap_without(const uint8_t *map, size_t len, uint16_t type, uint8_t *out, size_t out_size)
{
    if (!typebitmap_valid(map, len))
        return -1;
    uint16_t types[65536 / 8]; /* a map of len <= TYPEBITMAP_MAX has few types in practice */
    size_t n = 0;
    for (size_t pos = 0; pos + 2 <= len;) {
        unsigned window = map[pos], octets = map[pos + 1];
        for (unsigned o = 0; o < octets; o++)
            for (unsigned bit = 0; bit < 8; bit++)
                if ((map[pos + 2 + o] & (0x80 >> bit)) && n < sizeof(types) / sizeof(types[0])) {
                    uint16_t t = (uint16_t)(window * 256 + o * 8 + bit);
                    if (t != type)
                        types[n++] = t;
                }
        pos += 2u + octets;
    }
    return typebitmap_encode(types, n, out, out_size);
}
