// SPDX-License-Identifier: MIT
/* Base64 encoding and strict decoding (RFC 4648 §4). Written here rather than taken from
 * OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock because common/ uses libc only, and because
 * EVP_DecodeBlock accepts blanks and writes padding as zero bytes, which needs a scratch
 * buffer (a second copy of a secret). Pure: caller memory only, any thread. */
#include "common/base64.h"

#include <stdbool.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_encode(const uint8_t *in, size_t len, char *out, size_t size)
{
    if (size > 0)
        out[0] = '\0';
    if (len > (size_t)(INT32_MAX / 4 * 3) || BASE64_ENCODED_LEN(len) + 1 > size)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        /* One 24-bit group (§4), short at the end: missing octets count as zero bits and
         * their output characters become '='. */
        size_t left = len - i;
        uint32_t group = (uint32_t)in[i] << 16;
        if (left > 1)
            group |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            group |= in[i + 2];
        out[o++] = alphabet[(group >> 18) & 63];
        out[o++] = alphabet[(group >> 12) & 63];
        out[o++] = left > 1 ? alphabet[(group >> 6) & 63] : '=';
        out[o++] = left > 2 ? alphabet[group & 63] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

/* The 6-bit value of an alphabet character, or -1. */
static int
value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int
base64_decode(const char *text, uint8_t *out, size_t max)
{
    size_t len = strlen(text);
    if (len == 0 || len % 4 != 0 || len > (size_t)INT32_MAX)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        /* '=' only in the last quantum, as its final one or two characters. */
        int pad = last ? (text[i + 3] == '=') + (text[i + 3] == '=' && text[i + 2] == '=') : 0;
        uint32_t group = 0;
        for (int k = 0; k < 4; k++) {
            int v = k < 4 - pad ? value_of(text[i + k]) : 0;
            if (v < 0)
                return -1;
            group = group << 6 | (uint32_t)v;
        }
        /* §3.5: the bits beyond the last octet are zero in a canonical encoding. */
        if ((pad == 1 && (group & 0xFF)) || (pad == 2 && (group & 0xFFFF)))
            return -1;
        size_t bytes = 3u - (size_t)pad;
        if (n + bytes > max)
            return -1;
        out[n++] = (uint8_t)(group >> 16);
        if (bytes > 1)
            out[n++] = (uint8_t)(group >> 8);
        if (bytes > 2)
            out[n++] = (uint8_t)group;
    }
    return (int)n;
}
