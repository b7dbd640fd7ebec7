/* SPDX-License-Identifier: MIT */
/* Domain names in uncompressed wire format (RFC 1035 §3.1): helpers shared by the zone
 * compiler and the answer path. Pure functions on caller memory, no allocation. */
#ifndef MERIDIAN_COMMON_DNAME_H
#define MERIDIAN_COMMON_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNAME_MAX_LEN 255   /* RFC 1035 §2.3.4 */
#define DNAME_MAX_LABELS 128
#define DNAME_TEXT_MAX 1024 /* 255 octets, each at most "\DDD" */

/* Length of the uncompressed name at `wire` (including the root label), or -1 if it runs
 * past `max`, exceeds 255 octets or uses a compression pointer / reserved label type. */
int dname_wire_length(const uint8_t *wire, size_t max);

/* Number of labels, not counting the root. `wire` must be valid. */
int dname_label_count(const uint8_t *wire);

/* Copies a valid name to `dst`, ASCII-lowercased (RFC 4343: case-insensitive compare).
 * Returns its length. */
int dname_lower_copy(uint8_t *dst, const uint8_t *wire);

/* Case-insensitive equality of two valid wire names. */
bool dname_equal(const uint8_t *a, const uint8_t *b);

/* True if `name` equals `parent` or lies below it (both valid; case-insensitive). */
bool dname_is_subdomain(const uint8_t *name, const uint8_t *parent);

/* Reads a possibly compressed name (RFC 1035 §4.1.4) at msg[*pos] into `out` (uncompressed)
 * and moves *pos past it in the message. Returns the name's length, or -1 if it is
 * malformed: past the end, a pointer loop (pointers are bounded), reserved label types, over
 * 255 octets. For reading responses (probes, tools); queries never carry compressed names in
 * their question. */
int dname_read_compressed(const uint8_t *msg, size_t len, size_t *pos, uint8_t out[DNAME_MAX_LEN]);

/* Presentation format with RFC 1035 §5.1 escapes, always ending in ".". */
void dname_to_text(const uint8_t *wire, char *out, size_t out_size);

/* Parses an absolute or relative presentation name (relative names are taken as absolute).
 * Returns the wire length or -1 on a syntax error. */
int dname_from_text(const char *text, uint8_t *out);

/* Hash of a lowercased wire name of len bytes for the open-addressing tables of zones,
 * origins and policies (FNV-1a: names are short, and it spreads host0001..host9999 well). */
static inline uint32_t
dname_hash(const uint8_t *lname, int len)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < len; i++)
        h = (h ^ lname[i]) * 16777619u;
    return h;
}

#endif
