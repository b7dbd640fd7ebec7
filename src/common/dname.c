// SPDX-License-Identifier: MIT
/* Wire-format domain name helpers (RFC 1035 §3.1, RFC 4343 for case). */
#include "common/dname.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static inline uint8_t
lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int
dname_wire_length(const uint8_t *wire, size_t max)
{
    size_t pos = 0;
    for (;;) {
        if (pos >= max)
            return -1;
        uint8_t len = wire[pos];
        if (len & 0xC0) /* pointer or reserved type (RFC 6891 §5) */
            return -1;
        pos += 1u + len;
        if (pos > DNAME_MAX_LEN)
            return -1;
        if (len == 0)
            return (int)pos;
    }
}

int
dname_label_count(const uint8_t *wire)
{
    int n = 0;
    while (*wire) {
        n++;
        wire += 1u + *wire;
    }
    return n;
}

int
dname_lower_copy(uint8_t *dst, const uint8_t *wire)
{
    int pos = 0;
    for (;;) {
        uint8_t len = wire[pos];
        dst[pos] = len;
        for (int i = 1; i <= len; i++)
            dst[pos + i] = lower(wire[pos + i]);
        pos += 1 + len;
        if (len == 0)
            return pos;
    }
}

bool
dname_equal(const uint8_t *a, const uint8_t *b)
{
    for (;;) {
        if (*a != *b)
            return false;
        uint8_t len = *a;
        if (len == 0)
            return true;
        for (int i = 1; i <= len; i++)
            if (lower(a[i]) != lower(b[i]))
                return false;
        a += 1u + len;
        b += 1u + len;
    }
}

bool
dname_is_subdomain(const uint8_t *name, const uint8_t *parent)
{
    int skip = dname_label_count(name) - dname_label_count(parent);
    if (skip < 0)
        return false;
    while (skip-- > 0)
        name += 1u + *name;
    return dname_equal(name, parent);
}

int
dname_read_compressed(const uint8_t *msg, size_t len, size_t *pos, uint8_t out[DNAME_MAX_LEN])
{
    size_t p = *pos, o = 0;
    bool jumped = false;
    /* Each pointer must go somewhere a label could be; a name has at most 127 labels, so
     * more pointers than that is a loop. */
    unsigned pointers = 0;
    for (;;) {
        if (p >= len)
            return -1;
        uint8_t l = msg[p];
        if ((l & 0xC0) == 0xC0) {
            if (p + 1 >= len || ++pointers > DNAME_MAX_LABELS)
                return -1;
            if (!jumped)
                *pos = p + 2;
            jumped = true;
            p = (size_t)(l & 0x3F) << 8 | msg[p + 1];
            continue;
        }
        if (l & 0xC0)
            return -1; /* reserved label types */
        if (p + 1 + l > len || o + 1 + l > DNAME_MAX_LEN)
            return -1;
        memcpy(out + o, msg + p, 1u + l);
        o += 1u + l;
        p += 1u + l;
        if (l == 0)
            break;
    }
    if (!jumped)
        *pos = p;
    return (int)o;
}

void
dname_to_text(const uint8_t *wire, char *out, size_t out_size)
{
    size_t pos = 0;
    if (out_size == 0)
        return;
    if (*wire == 0) {
        snprintf(out, out_size, ".");
        return;
    }
    while (*wire && pos + 5 < out_size) {
        uint8_t len = *wire++;
        for (int i = 0; i < len && pos + 5 < out_size; i++) {
            uint8_t c = wire[i];
            if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' ||
                c == '@' || c == '$')
                pos += (size_t)snprintf(out + pos, out_size - pos, "\\%c", c);
            else if (c <= 0x20 || c >= 0x7f)
                pos += (size_t)snprintf(out + pos, out_size - pos, "\\%03u", c);
            else
                out[pos++] = (char)c;
        }
        wire += len;
        out[pos++] = '.';
    }
    out[pos] = '\0';
}

int
dname_from_text(const char *text, uint8_t *out)
{
    size_t pos = 0;
    if (strcmp(text, ".") == 0) {
        out[0] = 0;
        return 1;
    }
    while (*text) {
        size_t label_start = pos++;
        int len = 0;
        while (*text && *text != '.') {
            int c = (unsigned char)*text++;
            if (c == '\\') {
                if (isdigit((unsigned char)text[0]) && isdigit((unsigned char)text[1]) &&
                    isdigit((unsigned char)text[2])) {
                    c = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
                    if (c > 255)
                        return -1;
                    text += 3;
                } else if (*text) {
                    c = (unsigned char)*text++;
                } else {
                    return -1;
                }
            }
            if (++len > 63 || pos >= DNAME_MAX_LEN - 1)
                return -1;
            out[pos++] = (uint8_t)c;
        }
        if (len == 0)
            return -1; /* empty label ("a..b" or leading dot) */
        out[label_start] = (uint8_t)len;
        if (*text == '.')
            text++;
    }
    out[pos++] = 0;
    return pos > DNAME_MAX_LEN ? -1 : (int)pos;
}
