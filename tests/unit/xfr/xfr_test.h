/* SPDX-License-Identifier: MIT */
/* Shared by the xfr unit tests: zones from master-file text, transfer views with transfers
 * allowed, records rendered to text by ldns (a decoder independent of the code under test),
 * and the messages of a transfer decoded and checked. Single-threaded. */
#ifndef MERIDIAN_TESTS_XFR_TEST_H
#define MERIDIAN_TESTS_XFR_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xfr/xfr.h"
#include "xfr/xfr_stream.h"

/* Transfers allowed from everywhere (0.0.0.0/0 and ::/0). */
extern const struct config_transfer xt_allow_all;

/* A compiled zone from master-file text (written to a temp file, loaded, removed). */
struct zone *xt_zone(const char *origin, const char *text);
/* Its transfer view (transfers allowed), history followed from `previous` if given. */
struct xfr_zone *xt_xfr(const struct zone *zone, const struct xfr_zone *previous);

/* A list of record texts ("owner\tTTL\tIN\tTYPE\tRDATA", as ldns prints them). */
struct xt_list {
    char **items;
    size_t count;
};
void xt_list_add(struct xt_list *l, char *item); /* takes it */
void xt_list_free(struct xt_list *l);
/* Fails the test unless l holds exactly the records of `expected` (presentation text, NULL
 * terminated), in any order (sorted before comparing). */
void xt_list_expect(const struct xt_list *l, const char *const *expected);

/* One record rendered by ldns. */
char *xt_rr_text(const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                 uint16_t rdlen);
/* A difference's run as texts. */
void xt_run(const uint8_t *run, size_t len, struct xt_list *out);

/* The messages of a transfer: every answer record in order, checked on the way (each message
 * decodes, QR and AA set, TC clear, id and question as asked, rcode NOERROR, no authority
 * records, at most 65535 octets). */
struct xt_transfer {
    struct xt_list records;
    uint32_t messages;
    size_t bytes;
};
void xt_collect(struct xfr_stream *s, const uint8_t *first, size_t first_len,
                struct xt_transfer *out);
/* One message of s, checked and collected as xt_collect does. */
void xt_message(const struct xfr_stream *s, const uint8_t *m, size_t len, struct xt_transfer *out);

/* A request built by hand: AXFR, or IXFR with the client's serial. */
size_t xt_request(uint8_t *buf, uint16_t qtype, const char *zone, bool with_serial, uint32_t serial,
                  bool edns);

/* The rcode of a message (header bits). */
unsigned xt_rcode(const uint8_t *msg);

#endif
