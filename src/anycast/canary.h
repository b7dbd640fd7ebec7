/* SPDX-License-Identifier: MIT */
/* The canary query and the judgement of its answer, pure (bytes in, verdict out). A probe
 * asks for one name and type, class IN, RD clear, no EDNS (RFC 1035 §4.1), and passes only if
 * the reply is authoritative (AA), NOERROR, not truncated, and one answer RR for that name and
 * type carries the expected RDATA: A/AAAA compared as addresses, CNAME/NS/PTR as names
 * (case-insensitive, RFC 4343), TXT as its character-strings joined. Used by the prober on the
 * event loop thread and by the config loader to validate `canary:`. */
#ifndef MERIDIAN_ANYCAST_CANARY_H
#define MERIDIAN_ANYCAST_CANARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dname.h"
#include "common/dnswire.h"

#define ANYCAST_CANARY_TEXT_MAX 256 /* TXT expect */
#define ANYCAST_QUERY_MAX DNSWIRE_QUERY_MAX

struct anycast_canary {
    uint8_t qname[DNAME_MAX_LEN];
    uint16_t qtype;
    char expect_text[ANYCAST_CANARY_TEXT_MAX + 1]; /* of the type's form (checked) */
};

/* Validates and stores the canary. `type` NULL means A. 0, or -1 with a message in err. */
int anycast_canary_init(struct anycast_canary *c, const char *name, const char *type,
                        const char *expect, char *err, size_t err_size)
    __attribute__((warn_unused_result));

/* Writes the query with `id` into buf (at least ANYCAST_QUERY_MAX bytes); returns its length. */
size_t anycast_canary_query(const struct anycast_canary *c, uint16_t id, uint8_t *buf);

enum anycast_verdict {
    ANYCAST_ANSWER_PASS,    /* authoritative, expected RDATA present */
    ANYCAST_ANSWER_FAIL,    /* a reply to our query that fails; *why says how */
    ANYCAST_ANSWER_FOREIGN, /* not a reply to this query (ID, QR, opcode or question differ) */
};

/* Judges `msg` as the reply to the query with `id`. */
enum anycast_verdict anycast_canary_check(const struct anycast_canary *c, uint16_t id,
                                          const uint8_t *msg, size_t len, char *why,
                                          size_t why_size);

#endif
