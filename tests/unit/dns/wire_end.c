// SPDX-License-Identifier: MIT
/* Walking a DNS message by its header counts (see wire_end.h). No cmocka, so the fuzz
 * targets use it too. */
#include "wire_end.h"

/* Skips a name at pos (labels, ending in a root label or a compression pointer). Returns
 * the offset after it, or 0 if it runs past n. */
static size_t
skip_name(const uint8_t *m, size_t n, size_t pos)
{
    while (pos < n) {
        uint8_t l = m[pos];
        if ((l & 0xC0) == 0xC0)
            return pos + 2 <= n ? pos + 2 : 0;
        if (l & 0xC0)
            return 0; /* reserved label types */
        pos += 1u + l;
        if (l == 0)
            return pos;
    }
    return 0;
}

size_t
wire_message_end(const uint8_t *m, size_t n)
{
    if (n < 12)
        return 0;
    size_t pos = 12;
    unsigned qd = (unsigned)(m[4] << 8 | m[5]);
    unsigned rrs = (unsigned)(m[6] << 8 | m[7]) + (unsigned)(m[8] << 8 | m[9]) +
                   (unsigned)(m[10] << 8 | m[11]);
    for (unsigned i = 0; i < qd; i++) {
        pos = skip_name(m, n, pos);
        if (!pos || pos + 4 > n)
            return 0;
        pos += 4;
    }
    for (unsigned i = 0; i < rrs; i++) {
        pos = skip_name(m, n, pos);
        if (!pos || pos + 10 > n)
            return 0;
        size_t rdlen = (size_t)(m[pos + 8] << 8 | m[pos + 9]);
        pos += 10 + rdlen;
        if (pos > n)
            return 0;
    }
    return pos;
}

