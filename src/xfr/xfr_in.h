/* SPDX-License-Identifier: MIT */
/* Incoming zone transfers, the data side (ARCHITECTURE.md §13): reading the response stream
 * of an AXFR (RFC 5936 §2.2) or IXFR (RFC 1995 §4) message by message into the records of
 * the new version of the zone. An IXFR answer is recognised by its form: the SOA alone (the
 * zone is not newer: up to date), the whole zone (its second record is not our SOA), or
 * differences, which are applied one after the other to the version we hold (a record
 * deleted must be there; an added one that is there already only takes the new TTL).
 *
 * Whatever the peer sends is bad input until checked: the header (a response to our ID,
 * opcode QUERY, NOERROR, not truncated), the question, class IN, every owner inside the
 * zone, the SOA serials of every step, nothing after the closing SOA, and the bounds (records,
 * bytes, messages). Any failure ends the transfer with a message; the caller keeps the
 * version it had. The zone checks (SOA, apex NS, CNAME, glue) come after, in zone_build.
 *
 * Pure: no sockets, no clock, no TSIG (the caller verifies each message and passes its body).
 * One transfer on one thread; the base version must outlive it. */
#ifndef MERIDIAN_XFR_XFR_IN_H
#define MERIDIAN_XFR_XFR_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xfr/xfr.h"
#include "zone/zone.h"

/* Defaults of the bounds: beyond any zone we mean to serve from memory (a 1M-record zone is
 * about 60 MiB on the wire), and finite. */
#define XFR_IN_MAX_RECORDS ((size_t)16 << 20)
#define XFR_IN_MAX_BYTES ((size_t)2 << 30)
#define XFR_IN_MAX_MESSAGES 1000000u

struct xfr_in_limits {
    size_t max_records; /* records received, and records of the version built */
    size_t max_bytes;   /* message bytes received */
    uint32_t max_messages;
};

enum xfr_in_status {
    XFR_IN_MORE,  /* the message was good; the stream goes on */
    XFR_IN_DONE,  /* the closing SOA came: xfr_in_result has the new version (or none) */
    XFR_IN_ERROR, /* the transfer failed: xfr_in.err says why, xfr_in.rcode what the peer said */
};

enum xfr_in_kind {
    XFR_IN_UNKNOWN,     /* not decided yet */
    XFR_IN_FULL,        /* the whole zone (AXFR, or IXFR answered in full) */
    XFR_IN_INCREMENTAL, /* IXFR differences */
    XFR_IN_UP_TO_DATE,  /* IXFR: the SOA alone, our version is current */
};

struct xfr_in_entry;

struct xfr_in {
    uint8_t origin[DNAME_MAX_LEN]; /* lowercased wire */
    uint16_t id;
    uint16_t qtype; /* DNS_TYPE_AXFR or DNS_TYPE_IXFR */
    const struct zone_records *base;
    uint32_t base_serial;
    struct xfr_in_limits limits;
    enum xfr_in_kind kind;
    uint8_t rcode;  /* the peer's rcode when it refused (error) */
    uint32_t serial; /* of the new version (its first SOA) */
    uint32_t messages;
    size_t records, bytes;
    uint32_t from, to; /* incremental: the step being read, from -> to */
    bool adding;       /* incremental: after the step's new SOA */
    bool done;
    uint32_t changes; /* incremental: records deleted and added */
    char err[XFR_ERR_MAX];
    /* The records collected: the whole zone (full), or the working set (incremental) */
    struct zone_records full;
    struct xfr_in_entry *entries;
    size_t entry_count, entry_cap;
    uint32_t *slots; /* open addressing over entries, UINT32_MAX = empty */
    size_t slot_mask;
    struct zone_records added; /* storage of the records the differences add */
    uint8_t *rdata_buf; /* one record's RDATA with its names expanded */
};

/* Starts reading the answer to our request `id` of type qtype (AXFR or IXFR) for origin
 * (wire, any case). IXFR: `base` is the version we hold (its SOA first) with serial
 * base_serial; AXFR: base NULL. limits NULL: the defaults. */
void xfr_in_init(struct xfr_in *x, const uint8_t *origin, uint16_t qtype, uint16_t id,
                 const struct zone_records *base, uint32_t base_serial,
                 const struct xfr_in_limits *limits);
void xfr_in_fini(struct xfr_in *x);

/* Reads the next response message msg[0..len) (its TSIG already verified and left out:
 * `len` is tsig_stream_verify's body_len). Once XFR_IN_DONE or XFR_IN_ERROR is returned,
 * every further call returns XFR_IN_ERROR. */
enum xfr_in_status xfr_in_message(struct xfr_in *x, const uint8_t *msg, size_t len);

/* After XFR_IN_DONE: the new version's records, SOA first, into `out` (initialized here);
 * false when there is none (XFR_IN_UP_TO_DATE). */
bool xfr_in_result(struct xfr_in *x, struct zone_records *out);

/* "AXFR", "IXFR" (incremental), "IXFR (full)", "IXFR (up to date)". */
const char *xfr_in_kind_text(const struct xfr_in *x);

#endif
