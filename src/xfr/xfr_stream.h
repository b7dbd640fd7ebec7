/* SPDX-License-Identifier: MIT */
/* Outgoing zone transfers, the message side (ARCHITECTURE.md §11): recognising an AXFR or
 * IXFR request, deciding what it gets (the ACL, the zone, the client's serial against the
 * history), and writing the answer one message at a time: AXFR (RFC 5936 §2.2) as a stream of
 * messages filled up to 64 KiB with compressed names, SOA first and last; IXFR (RFC 1995 §4)
 * as the sequence of differences from the client's version, or the whole zone when the
 * history does not reach that far, or the SOA alone when the client is up to date or the
 * answer does not fit a UDP message (§2).
 *
 * Pure like dns_answer(): no sockets, locks or allocation; the caller keeps the zone (and its
 * snapshot) alive until the stream has ended. A stream lives in the caller's memory (net/
 * keeps it in the connection) and is advanced on one thread at a time. */
#ifndef MERIDIAN_XFR_XFR_STREAM_H
#define MERIDIAN_XFR_XFR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tsig/tsig.h"
#include "xfr/xfr.h"

/* A transfer request as received. */
struct xfr_request {
    uint16_t id;
    uint16_t flags;               /* the query's header flags (RD is copied, RFC 5936 §2.2.1) */
    uint16_t qtype;               /* DNS_TYPE_AXFR or DNS_TYPE_IXFR */
    uint8_t qname[DNAME_MAX_LEN]; /* as sent: echoed in every message's question */
    uint8_t lname[DNAME_MAX_LEN]; /* lowercased */
    bool edns;                    /* an OPT came: every message carries ours (RFC 6891 §6.1.1) */
    bool edns_do;
    uint16_t edns_udp_size;
    bool has_serial; /* IXFR: the client's SOA in the authority section (RFC 1995 §3) */
    uint32_t serial;
    size_t tsig_at; /* offset of a TSIG record (RFC 8945 §4.2: the last record), 0 = none */
};

/* Reads a zone transfer request: opcode QUERY, one question of type AXFR or IXFR and class
 * IN, EDNS version 0 if any, well-formed to its last byte. Returns true with req filled;
 * false for anything else. meridiand asks only for what dns_answer() has checked and found
 * to be a transfer (dns_result.transfer), so malformed messages, other EDNS versions or
 * bad ECS options get dns_answer's rcodes. Any thread. */
bool xfr_request_parse(const uint8_t *msg, size_t len, struct xfr_request *req);

/* Per-message signing (RFC 8945 §5.3.1: every message of a transfer is signed, each MAC
 * covering the previous one; xfr_tsig_signer below is the TSIG one). `sign` gets each
 * finished message in place (msg[0..len), writable up to max) and returns its new length with
 * the TSIG record appended, or 0 to abort the stream; `state` is the stream's signer_state,
 * set up from `init` before the first message; index counts messages from 0, last marks the
 * final one. `room` bytes are kept free at the end of every message for the record. The
 * signer must outlive the stream (xfr_stream keeps a pointer to it). */
#define XFR_SIGNER_STATE_MAX 384
struct xfr_signer {
    size_t (*sign)(void *state, uint8_t *msg, size_t len, size_t max, uint32_t index, bool last);
    size_t room;
    const void *init;
    size_t init_len; /* at most XFR_SIGNER_STATE_MAX */
};

/* The TSIG signer's state (what xfr_signer.init points at): the stream of MACs, and the
 * wall clock each message's Time Signed is read from (RFC 8945 §5.3.1 has every message
 * carry its own time, so a transfer longer than the fudge still verifies). */
struct xfr_tsig {
    struct tsig_stream stream;
    uint64_t (*clock_s)(void); /* UNIX seconds */
};

/* Sets `signer` up to sign every message of the answer to a request whose TSIG verified
 * with error 0 (`req`, from tsig_request_verify), with the request's key: the first MAC
 * chained to the request's, each later one to the one before (tsig_stream_respond,
 * tsig_stream_sign), room for the record kept in each message. `init` is caller storage that
 * xfr_begin copies into the stream; `signer` must outlive the stream. Any thread. */
void xfr_tsig_signer(struct xfr_signer *signer, struct xfr_tsig *init,
                     const struct tsig_request *req, uint64_t (*clock_s)(void));

/* Who asks. */
struct xfr_client {
    const struct sockaddr *addr;
    bool tcp;
    /* The wire name of the TSIG key that signed the request, verified (RFC 8945 §5.2), or
     * NULL: the input of the ACL (xfr_acl_allows). */
    const uint8_t *key;
    const struct xfr_signer *signer; /* NULL: messages go out unsigned */
};

/* Everything transfers read: the snapshot's zones and their transfer views. */
struct xfr_view {
    const struct zone_set *zones;
    struct xfr_zone *const *xzones; /* indexed like zones->zones */
    uint16_t udp_max_size;          /* our EDNS payload size (the OPT we send) */
};

/* What a request got. */
enum xfr_kind {
    XFR_KIND_ERROR,      /* one message with an error rcode (see xfr_stream.rcode) */
    XFR_KIND_AXFR,       /* the whole zone */
    XFR_KIND_IXFR,       /* differences */
    XFR_KIND_IXFR_FULL,  /* IXFR answered with the whole zone (RFC 1995 §4) */
    XFR_KIND_UP_TO_DATE, /* IXFR for our serial or a newer one: the SOA (RFC 1995 §2) */
    XFR_KIND_UDP_SOA,    /* IXFR over UDP too big for a message: the SOA, try TCP (§2) */
};

enum xfr_phase {
    XFR_PHASE_SOA_OPEN,
    XFR_PHASE_BODY,    /* AXFR: the walk */
    XFR_PHASE_OLD_SOA, /* IXFR, per difference: SOA of the older version, */
    XFR_PHASE_REMOVED, /*   the records removed, */
    XFR_PHASE_NEW_SOA, /*   SOA of the newer version, */
    XFR_PHASE_ADDED,   /*   the records added */
    XFR_PHASE_SOA_CLOSE,
    XFR_PHASE_DONE,
};

/* A transfer in progress. */
struct xfr_stream {
    const struct xfr_zone *xz;
    enum xfr_kind kind;
    uint8_t rcode;
    bool more; /* xfr_stream_next has messages to give */
    enum xfr_phase phase;
    /* Request */
    uint16_t id, flags;
    uint16_t qtype;
    bool edns, edns_do;
    uint16_t udp_max_size;
    uint8_t qname[DNAME_MAX_LEN];
    bool prohibited; /* refused by the zone's transfer ACL: EDE 18 to EDNS clients */
    /* Cursor: the walk and the RRset it is in (AXFR), or the difference and the offset in
     * its run (IXFR); rec is the record within the RRset, rec_at its offset in the RDATA. */
    struct xfr_walk walk;
    struct xfr_rrset rrset;
    uint16_t rec;
    size_t rec_at;
    uint32_t diff, diff_end;
    size_t run_at;
    /* What went out */
    uint32_t messages;
    uint64_t records, bytes;
    const struct xfr_signer *signer;
    _Alignas(16) unsigned char signer_state[XFR_SIGNER_STATE_MAX];
};

/* Answers a transfer request from `v` for `c`: writes the first (or only) message into out
 * (capacity out_max) and returns its length, with s set up; s->more says whether
 * xfr_stream_next has more to give (TCP only). Order of checks: AXFR over UDP is NOTIMP
 * (RFC 5936 §4.2, as NSD and Knot), a zone we do not serve NOTAUTH (§2.2.1), a client the
 * zone's `transfer:` does not allow REFUSED, an IXFR without its SOA FORMERR (RFC 1995 §3). */
size_t xfr_begin(const struct xfr_view *v, const struct xfr_request *req,
                 const struct xfr_client *c, uint8_t *out, size_t out_max, struct xfr_stream *s);

/* The next message of the stream into out, or 0 when it has ended (then s->more is false). */
size_t xfr_stream_next(struct xfr_stream *s, uint8_t *out, size_t out_max);

#endif
