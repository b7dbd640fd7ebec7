/* SPDX-License-Identifier: MIT */
/* Base64 (RFC 4648 §4, the standard alphabet with '=' padding) for key material in files and
 * in the configuration: DNSSEC private and public keys, TSIG secrets. Pure functions on caller
 * memory: no allocation, no scratch copy (a decoded secret lands only in the caller's
 * buffer, which the caller wipes), any thread. */
#ifndef MERIDIAN_COMMON_BASE64_H
#define MERIDIAN_COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters base64_encode writes for len bytes, without the NUL. */
#define BASE64_ENCODED_LEN(len) (((len) + 2) / 3 * 4)

/* Encodes len bytes into out, NUL-terminated. Returns the length written (without the NUL),
 * or -1 if size is too small (out is then left empty when size > 0). */
int base64_encode(const uint8_t *in, size_t len, char *out, size_t size)
    __attribute__((warn_unused_result));

/* Decodes the NUL-terminated text into out. RFC 4648 §3.3: characters outside the alphabet
 * (whitespace included) are refused; §3.2: the padding is required, so the length is a
 * multiple of 4; §3.5: the bits a final quantum leaves unused must be zero, so every
 * encoding is canonical. Returns the number of bytes, or -1 if the text is empty or not
 * base64, or its bytes exceed max (out may then hold a partial result). */
int base64_decode(const char *text, uint8_t *out, size_t max) __attribute__((warn_unused_result));

#endif
