/* SPDX-License-Identifier: MIT */
/* Type bit maps of NSEC and NSEC3 records (RFC 4034 §4.1.2, RFC 5155 §3.2.1): the set of RR
 * types at a name, as windows of up to 32 octets. Pure functions on caller memory, no
 * allocation, any thread. */
#ifndef MERIDIAN_DNSSEC_TYPEBITMAP_H
#define MERIDIAN_DNSSEC_TYPEBITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest bit map: 256 windows, each a window number, a length and 32 octets. */
#define TYPEBITMAP_MAX (256 * 34)

/* Encodes the set of `types` (n entries, any order, duplicates allowed) into out. Returns
 * the length (0 for an empty set: RFC 5155 §3.2.1 allows an empty map, e.g. for an empty
 * non-terminal), or -1 if out_size is too small. */
int typebitmap_encode(const uint16_t *types, size_t n, uint8_t *out, size_t out_size)
    __attribute__((warn_unused_result));

/* Is `type` in the bit map of `len` octets? False for a malformed map (RFC 4034 §4.1.2:
 * windows in increasing order, lengths 1..32). */
bool typebitmap_contains(const uint8_t *map, size_t len, uint16_t type);

/* The map of `len` octets without `type` into out (a well-formed map: windows left empty
 * are dropped, trailing zero octets cut). Returns the new length, or -1 if the map is
 * malformed or out too small. */
int typebitmap_without(const uint8_t *map, size_t len, uint16_t type, uint8_t *out,
                       size_t out_size) __attribute__((warn_unused_result));

/* Is the map well formed (RFC 4034 §4.1.2)? */
bool typebitmap_valid(const uint8_t *map, size_t len);

#endif
