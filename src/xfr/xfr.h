/* SPDX-License-Identifier: MIT */
/* Outgoing zone transfers, the data side (ARCHITECTURE.md §11): what a transfer of a
 * compiled zone carries (struct xfr_zone: the zone's RRsets, their signatures, the NSEC3
 * chain and the records that stand for steered names), the differences between successive
 * versions of a zone and the bounded history of them that IXFR is served from (RFC 1995),
 * the per-zone counters, and the transfer ACL. Streams of messages are xfr_stream.h, NOTIFY
 * xfr_notify.h.
 *
 * An xfr_zone is built on the loader thread next to its zone, as part of a snapshot, and is
 * immutable afterwards: workers read it while a transfer streams (the snapshot is pinned for
 * the stream's life). Differences are immutable too and reference-counted, so a history is
 * carried from one snapshot to the next without copying. */
#ifndef MERIDIAN_XFR_XFR_H
#define MERIDIAN_XFR_XFR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "common/alloc.h"
#include "config/config.h"
#include "dnssec/dnssec_zone.h"
#include "policy/policy.h"
#include "zone/zone.h"

#define XFR_ERR_MAX 512
/* History bounds per zone: versions kept, and bytes of differences. RFC 1995 §5 also purges
 * what would make an IXFR longer than the AXFR: the bytes never exceed the zone's size. */
#define XFR_HISTORY_VERSIONS 32
#define XFR_HISTORY_BYTES ((size_t)64 << 20)

/* Counters of one zone origin, kept by the server across reloads (the xfr_zone of each
 * snapshot points at its origin's). Any thread: atomics. */
struct xfr_stats {
    _Atomic uint32_t serial;            /* of the version served */
    _Atomic int64_t changed_at;         /* when that serial was first served (seconds, epoch) */
    atomic_uint_fast64_t axfr;          /* full transfers (AXFR, and IXFR answered in full) */
    atomic_uint_fast64_t ixfr;          /* incremental transfers */
    atomic_uint_fast64_t up_to_date;    /* IXFR answered with the SOA alone */
    atomic_uint_fast64_t refused;       /* not allowed (REFUSED) */
    atomic_uint_fast64_t aborted;       /* streams cut short: the client left or stalled */
    atomic_uint_fast64_t notify_sent;   /* NOTIFY messages sent, retries included */
    atomic_uint_fast64_t notify_acked;  /* targets that acknowledged (NOERROR) */
    atomic_uint_fast64_t notify_failed; /* targets that refused or never answered */
};

/* A steered name's RRset as transfers carry it (the answer path synthesizes its own). */
struct xfr_extra {
    uint32_t node;         /* zone node index */
    struct zone_rrset set; /* RDATA in the xfr_zone's arena; in signed zones `rrsig` is the
                              signature from the zone's variant table (dnssec_variants.h) */
};

/* One difference between two versions of a zone (RFC 1995 §4): the records removed and
 * added, each a run of (owner length, lowercased owner, type, TTL, RDATA length, RDATA) read
 * with xfr_rr_next(); the SOA records of both versions are apart. Immutable; counted. */
struct xfr_diff {
    atomic_uint refs;
    uint32_t from_serial, to_serial;
    struct zone_rrset old_soa, new_soa; /* one record each */
    uint8_t *removed, *added;
    size_t removed_len, added_len;
    uint32_t removed_count, added_count;
    size_t bytes;       /* wire size of the difference, for the history bound */
    uint8_t *soa_rdata; /* both SOAs' RDATA */
};

/* Differences ending at the zone's serial, oldest first: diffs[i]->to_serial ==
 * diffs[i + 1]->from_serial and the last one's to_serial is the zone's. */
struct xfr_history {
    struct xfr_diff **diffs;
    uint32_t count;
    size_t bytes;
};

struct xfr_zone {
    const struct zone *zone;
    const struct config_transfer *transfer; /* the zone entry's; `enabled` false = REFUSED */
    struct xfr_extra *extras;               /* sorted by node */
    uint32_t extra_count;
    size_t wire_bytes;          /* an AXFR's records, both SOAs, uncompressed */
    struct xfr_history history; /* empty without `transfer:` */
    struct xfr_stats *stats;    /* NULL allowed (tests) */
    struct arena arena;
};

struct xfr_zone_params {
    const struct policy_set *policies;      /* the set the zone was compiled with, or NULL */
    struct dnssec_zone *dz;                 /* the zone's signer output (signed zones), or NULL */
    const struct config_transfer *transfer; /* NULL or not enabled: nothing to carry */
    struct xfr_stats *stats;
    /* The version of the same origin being replaced, or NULL: signatures of its steered
     * RRsets are reused when the RRset is the same, the signing keys are the same and more
     * than refresh_s is left (as dnssec_zone_sign reuses the zone's), so a reload that
     * changes nothing leaves nothing for IXFR to carry. */
    const struct xfr_zone *previous;
    /* Without a previous version (a start): the signature store the zone was signed from
     * (dnssec_sigstore.h), whose steered RRsets are reused the same way; or NULL. */
    const struct dnssec_sigstore *stored;
    uint32_t refresh_s;
    time_t now;
};

/* Builds the transfer view of `zone` (compiled, and signed if p->dz is set: steered RRsets
 * not reused from p->previous are signed into its variant table). Loader thread. 0, or -1
 * with err (a steered RRset that cannot be signed). */
int xfr_zone_new(const struct zone *zone, const struct xfr_zone_params *p, struct xfr_zone **out,
                 char err[XFR_ERR_MAX]) __attribute__((warn_unused_result));
void xfr_zone_free(struct xfr_zone *xz);

/* The index of node `node`'s first extra (extras are sorted by node), or extra_count. */
uint32_t xfr_zone_extras_of(const struct xfr_zone *xz, uint32_t node);

/* One RRset of a transfer: owner (lowercased wire) and records. */
struct xfr_rrset {
    const uint8_t *owner;
    const struct zone_rrset *set;
};

/* Walks every RRset a full transfer carries but the apex SOA (which opens and closes it):
 * per node in node order its RRsets, each followed by its RRSIG RRset, then its steered
 * RRsets and their signatures, then the NSEC3 records and theirs. Start zeroed. */
struct xfr_walk {
    uint32_t node; /* node index; node_count and above: NSEC3 entries */
    uint32_t slot; /* the RRset within the node */
    uint32_t extra;
};
bool xfr_walk_next(const struct xfr_zone *xz, struct xfr_walk *w, struct xfr_rrset *out);

/* What following a new version did to the history (for the log). */
enum xfr_change {
    XFR_CHANGE_NONE,      /* no transfers configured, or no previous version */
    XFR_CHANGE_SAME,      /* same serial, same data: history carried over */
    XFR_CHANGE_DIFF,      /* a new difference was added */
    XFR_CHANGE_NO_SERIAL, /* data changed but the serial did not: history dropped */
    XFR_CHANGE_BACKWARDS, /* the serial did not increase (RFC 1982): history dropped */
};

/* Sets xz's history from `previous` (the version of the same origin being replaced, or
 * NULL): its history, plus the difference from it to xz, trimmed to `max_versions` and
 * `max_bytes` (and the zone's own size, RFC 1995 §5). Loader thread. */
enum xfr_change xfr_zone_follow(struct xfr_zone *xz, const struct xfr_zone *previous,
                                uint32_t max_versions, size_t max_bytes);

/* Sets xz's history to the differences diffs[0..count) (oldest first, chained, the last
 * ending at xz's serial: a journal read back at start), trimmed from the oldest as
 * xfr_zone_follow trims. Takes its own references. Returns the versions kept (0: none; the
 * last does not end at xz's serial, transfers are off, or the newest alone is too big).
 * Loader thread. */
uint32_t xfr_zone_adopt(struct xfr_zone *xz, struct xfr_diff *const *diffs, uint32_t count,
                        uint32_t max_versions, size_t max_bytes);

/* The difference between two versions (new diff with one reference). */
struct xfr_diff *xfr_diff_new(const struct xfr_zone *from, const struct xfr_zone *to);
void xfr_diff_ref(struct xfr_diff *d);
void xfr_diff_unref(struct xfr_diff *d);

/* A record of a difference's run. */
struct xfr_rr {
    const uint8_t *owner;
    uint16_t type;
    uint32_t ttl;
    uint16_t rdlen;
    const uint8_t *rdata;
};
/* Reads the record at run[*pos] and moves *pos past it; false at the end. */
bool xfr_rr_next(const uint8_t *run, size_t len, size_t *pos, struct xfr_rr *rr);

/* May `client` (its address; key: the wire name of the TSIG key that signed the request,
 * verified, or NULL) transfer under `t`? allow and keys both given: both must match; one
 * given: that one; `transfer:` absent: never. Any thread, no allocation. */
bool xfr_acl_allows(const struct config_transfer *t, const struct sockaddr *client,
                    const uint8_t *key);

#endif
