// SPDX-License-Identifier: MIT
/* TSIG on messages (RFC 8945 §4-§5; see tsig.h): finding and reading the TSIG record,
 * computing a message's MAC, verifying requests and response streams, signing responses,
 * streams and requests. The MAC of a message (§4.3) covers, in this order: the prior MAC
 * (MAC Size and MAC) when the message answers or continues something signed; the message as
 * it was before its TSIG was added (header with the Original ID and ARCOUNT not counting the
 * TSIG); then the TSIG variables (§4.3.3: key name and algorithm in canonical form, CLASS ANY,
 * TTL 0, Time Signed, Fudge, Error, Other Len, Other Data), or within a stream after its
 * first message only the timers (Time Signed, Fudge; §5.3.1). Pure functions of their
 * arguments on caller memory: any thread, no allocation, no clock. */
#include <openssl/crypto.h>
#include <string.h>

#include "common/dnswire.h"
#include "tsig/tsig_internal.h"

#define CLASS_ANY 255
/* §5.3.1: "up to 99 intermediary messages without TSIG" may follow a signed one. */
#define UNSIGNED_RUN_MAX 99

/* A TSIG record as read from a message. */
struct tsig_rr {
    uint8_t name[DNAME_MAX_LEN]; /* owner, uncompressed, as sent */
    size_t name_len;
    const uint8_t *alg; /* algorithm name inside the message (never compressed, §4.2) */
    size_t alg_len;
    uint64_t time_signed;
    uint16_t fudge;
    uint16_t mac_len;
    const uint8_t *mac;
    uint16_t original_id;
    uint16_t error;
    uint16_t other_len;
    const uint8_t *other;
};

static uint64_t
get48(const uint8_t *p)
{
    return (uint64_t)dnswire_get16(p) << 32 | dnswire_get32(p + 2);
}

static void
put48(uint8_t *p, uint64_t v)
{
    dnswire_put16(p, (uint16_t)(v >> 32));
    dnswire_put32(p + 2, (uint32_t)v);
}

/* Steps over a possibly compressed name; the offset after it, or 0 when it runs past the
 * message (a name cannot end at offset 0). */
static size_t
skip_name(const uint8_t *msg, size_t len, size_t pos)
{
    for (int labels = 0; labels <= DNAME_MAX_LABELS && pos < len; labels++) {
        uint8_t l = msg[pos];
        if ((l & 0xC0) == 0xC0)
            return pos + 2 <= len ? pos + 2 : 0;
        if (l & 0xC0)
            return 0;
        pos += 1u + l;
        if (l == 0)
            return pos <= len ? pos : 0;
    }
    return 0;
}

int
tsig_find(const uint8_t *msg, size_t len, size_t *offset)
{
    if (len < DNS_HEADER_LEN)
        return -1;
    unsigned qd = dnswire_count(msg, DNS_OFF_QDCOUNT);
    unsigned rrs = dnswire_count(msg, DNS_OFF_ANCOUNT) + dnswire_count(msg, DNS_OFF_NSCOUNT);
    unsigned ar = dnswire_count(msg, DNS_OFF_ARCOUNT);
    size_t pos = DNS_HEADER_LEN;
    int found = 0;
    for (unsigned i = 0; i < qd; i++) {
        pos = skip_name(msg, len, pos);
        if (!pos || pos + 4 > len)
            return -1;
        pos += 4;
    }
    for (unsigned i = 0; i < rrs + ar; i++) {
        size_t start = pos;
        pos = skip_name(msg, len, pos);
        if (!pos || pos + 10 > len)
            return -1;
        uint16_t type = dnswire_get16(msg + pos);
        pos += 10u + dnswire_get16(msg + pos + 8);
        if (pos > len)
            return -1;
        if (type != DNS_TYPE_TSIG)
            continue;
        /* §5.1: only as the last record of the additional section. */
        if (i + 1 != rrs + ar || ar == 0)
            return -1;
        *offset = start;
        found = 1;
    }
    return pos == len ? found : -1;
}

/* Reads the TSIG record at msg[off], which must end the message. 0 or -1 (§5.2: "cannot be
 * interpreted", FORMERR). */
static int
parse_rr(const uint8_t *msg, size_t len, size_t off, struct tsig_rr *rr)
{
    size_t pos = off;
    int n = dname_read_compressed(msg, len, &pos, rr->name);
    if (n < 0 || pos + 10 > len)
        return -1;
    rr->name_len = (size_t)n;
    /* §4.2: CLASS ANY, TTL 0. */
    if (dnswire_get16(msg + pos) != DNS_TYPE_TSIG || dnswire_get16(msg + pos + 2) != CLASS_ANY ||
        dnswire_get32(msg + pos + 4) != 0)
        return -1;
    size_t rdlen = dnswire_get16(msg + pos + 8);
    pos += 10;
    size_t end = pos + rdlen;
    if (end != len)
        return -1;
    int alg = dname_wire_length(msg + pos, end - pos);
    if (alg < 0)
        return -1;
    rr->alg = msg + pos;
    rr->alg_len = (size_t)alg;
    pos += (size_t)alg;
    if (pos + 10 > end)
        return -1;
    rr->time_signed = get48(msg + pos);
    rr->fudge = dnswire_get16(msg + pos + 6);
    rr->mac_len = dnswire_get16(msg + pos + 8);
    pos += 10;
    if (pos + rr->mac_len + 6 > end)
        return -1;
    rr->mac = msg + pos;
    pos += rr->mac_len;
    rr->original_id = dnswire_get16(msg + pos);
    rr->error = dnswire_get16(msg + pos + 2);
    rr->other_len = dnswire_get16(msg + pos + 4);
    pos += 6;
    rr->other = msg + pos;
    return pos + rr->other_len == end ? 0 : -1;
}

/* Is the record's algorithm the key's? Names compare case-insensitively (RFC 4343). */
static bool
algorithm_is(const struct tsig_rr *rr, enum tsig_algorithm algorithm)
{
    size_t n;
    const uint8_t *wire = tsig_algorithm_wire(algorithm, &n);
    return rr->alg_len == n && dname_equal(rr->alg, wire);
}

/* §5.2.2.1: a MAC longer than the hash, or shorter than 10 octets and half the hash, is a
 * format error (a zero-length MAC appears only in error responses, which are not verified). */
static bool
mac_len_allowed(size_t mac_len, enum tsig_algorithm algorithm)
{
    size_t full = tsig_algorithm_mac_len(algorithm);
    size_t least = (full + 1) / 2 > 10 ? (full + 1) / 2 : 10;
    return mac_len <= full && mac_len >= least;
}

static bool
time_within(uint64_t time_signed, uint16_t fudge, uint64_t now_s)
{
    uint64_t skew = now_s > time_signed ? now_s - time_signed : time_signed - now_s;
    return skew <= fudge;
}

/* The prior MAC: MAC Size then MAC (§4.3.1, §5.3.1). */
static void
digest_prior(struct tsig_hmac *h, const uint8_t *mac, uint16_t mac_len)
{
    uint8_t size[2];
    dnswire_put16(size, mac_len);
    tsig_hmac_update(h, size, 2);
    tsig_hmac_update(h, mac, mac_len);
}

/* The message as before its TSIG (§4.3.2): header with the Original ID and ARCOUNT less
 * `tsig_records` (1 when msg[0..body_len) is followed by its TSIG, 0 while signing). */
static void
digest_body(struct tsig_hmac *h, const uint8_t *msg, size_t body_len, uint16_t original_id,
            unsigned tsig_records)
{
    uint8_t header[DNS_HEADER_LEN];
    memcpy(header, msg, DNS_HEADER_LEN);
    dnswire_put16(header + DNS_OFF_ID, original_id);
    dnswire_put16(header + DNS_OFF_ARCOUNT,
                  (uint16_t)(dnswire_count(msg, DNS_OFF_ARCOUNT) - tsig_records));
    tsig_hmac_update(h, header, DNS_HEADER_LEN);
    tsig_hmac_update(h, msg + DNS_HEADER_LEN, body_len - DNS_HEADER_LEN);
}

/* The values of the TSIG variables that vary per message. */
struct tsig_vars {
    uint64_t time_signed;
    uint16_t fudge;
    uint16_t error;
    uint16_t other_len;
    const uint8_t *other;
};

/* §4.3.3 in full (the key's own name and algorithm are the canonical forms, lowercase), or
 * after a stream's first message the timers only (§5.3.1). */
static void
digest_vars(struct tsig_hmac *h, const struct tsig_key *key, const struct tsig_vars *v,
            bool timers_only)
{
    uint8_t buf[10];
    if (!timers_only) {
        size_t alg_len;
        const uint8_t *alg = tsig_algorithm_wire(key->algorithm, &alg_len);
        tsig_hmac_update(h, key->name, key->name_len);
        dnswire_put16(buf, CLASS_ANY);
        dnswire_put32(buf + 2, 0); /* TTL */
        tsig_hmac_update(h, buf, 6);
        tsig_hmac_update(h, alg, alg_len);
    }
    put48(buf, v->time_signed);
    dnswire_put16(buf + 6, v->fudge);
    tsig_hmac_update(h, buf, 8);
    if (timers_only)
        return;
    dnswire_put16(buf, v->error);
    dnswire_put16(buf + 2, v->other_len);
    tsig_hmac_update(h, buf, 4);
    if (v->other_len)
        tsig_hmac_update(h, v->other, v->other_len);
}

/* A TSIG record to append. */
struct tsig_out {
    const uint8_t *owner;
    size_t owner_len;
    const uint8_t *alg;
    size_t alg_len;
    const uint8_t *mac;
    uint16_t mac_len;
    uint16_t original_id;
    struct tsig_vars vars;
};

static size_t
out_size(const struct tsig_out *o)
{
    return o->owner_len + 10u + o->alg_len + 16u + o->mac_len + o->vars.other_len;
}

/* Appends the record (names uncompressed: the algorithm name must not be compressed, §4.2,
 * and the owner gains little) and counts it in ARCOUNT. The new length, or 0 if it does not
 * fit. */
static size_t
append_rr(uint8_t *msg, size_t len, size_t max, const struct tsig_out *o)
{
    size_t need = out_size(o);
    if (len < DNS_HEADER_LEN || len + need > max || len + need > 65535)
        return 0;
    uint8_t *p = msg + len;
    memcpy(p, o->owner, o->owner_len);
    p += o->owner_len;
    dnswire_put16(p, DNS_TYPE_TSIG);
    dnswire_put16(p + 2, CLASS_ANY);
    dnswire_put32(p + 4, 0);
    dnswire_put16(p + 8, (uint16_t)(need - o->owner_len - 10));
    p += 10;
    memcpy(p, o->alg, o->alg_len);
    p += o->alg_len;
    put48(p, o->vars.time_signed);
    dnswire_put16(p + 6, o->vars.fudge);
    dnswire_put16(p + 8, o->mac_len);
    p += 10;
    if (o->mac_len) /* an unsigned error response has no MAC at all (NULL) */
        memcpy(p, o->mac, o->mac_len);
    p += o->mac_len;
    dnswire_put16(p, o->original_id);
    dnswire_put16(p + 2, o->vars.error);
    dnswire_put16(p + 4, o->vars.other_len);
    if (o->vars.other_len)
        memcpy(p + 6, o->vars.other, o->vars.other_len);
    dnswire_put16(msg + DNS_OFF_ARCOUNT, (uint16_t)(dnswire_count(msg, DNS_OFF_ARCOUNT) + 1));
    return len + need;
}

int
tsig_request_verify(const struct tsig_keyring *ring, const uint8_t *msg, size_t len, size_t offset,
                    uint64_t now_s, struct tsig_request *req)
{
    struct tsig_rr rr;
    memset(req, 0, offsetof(struct tsig_request, name));
    if (offset < DNS_HEADER_LEN || parse_rr(msg, len, offset, &rr) < 0)
        return -1;
    memcpy(req->name, rr.name, rr.name_len);
    req->name_len = (uint16_t)rr.name_len;
    memcpy(req->alg, rr.alg, rr.alg_len);
    req->alg_len = (uint16_t)rr.alg_len;
    req->original_id = rr.original_id;
    req->fudge = rr.fudge;
    req->time_signed = rr.time_signed;

    /* §5.2.1: an unknown key, or a known name with another algorithm. */
    const struct tsig_key *key = tsig_keyring_find(ring, rr.name);
    if (!key || !algorithm_is(&rr, key->algorithm)) {
        req->error = TSIG_ERROR_BADKEY;
        return 0;
    }
    if (!mac_len_allowed(rr.mac_len, key->algorithm))
        return -1;
    /* §5.2.2: the MAC, compared in constant time over the octets sent. */
    struct tsig_hmac h;
    uint8_t mac[TSIG_MAC_MAX];
    struct tsig_vars vars = {.time_signed = rr.time_signed,
                             .fudge = rr.fudge,
                             .error = rr.error,
                             .other_len = rr.other_len,
                             .other = rr.other};
    tsig_hmac_init(&h, key);
    digest_body(&h, msg, offset, rr.original_id, 1);
    digest_vars(&h, key, &vars, false);
    size_t full = tsig_hmac_final(&h, mac);
    if (CRYPTO_memcmp(mac, rr.mac, rr.mac_len) != 0) {
        req->error = TSIG_ERROR_BADSIG;
        return 0;
    }
    req->key = key;
    memcpy(req->mac, rr.mac, rr.mac_len);
    req->mac_len = rr.mac_len;
    /* §5.2.3 after the MAC (a forged time must not earn a signed BADTIME), then §5.2.4: our
     * policy takes full-length MACs only; §5.2.2.1 lets a signer truncate, not a verifier
     * accept less than it wants. */
    if (!time_within(rr.time_signed, rr.fudge, now_s))
        req->error = TSIG_ERROR_BADTIME;
    else if (rr.mac_len < full)
        req->error = TSIG_ERROR_BADTRUNC;
    return 0;
}

/* The response's record without its MAC, per req->error (tsig_response_sign). */
static void
response_out(const struct tsig_request *req, uint64_t now_s, uint8_t other[6], struct tsig_out *o)
{
    bool sign = req->key && req->error != TSIG_ERROR_BADSIG && req->error != TSIG_ERROR_BADKEY;
    *o = (struct tsig_out){.owner = req->name,
                           .owner_len = req->name_len,
                           .alg = req->alg,
                           .alg_len = req->alg_len,
                           .original_id = req->original_id,
                           .vars = {.time_signed = now_s ? now_s : req->time_signed,
                                    .fudge = TSIG_FUDGE_DEFAULT,
                                    .error = req->error}};
    if (sign)
        o->mac_len = (uint16_t)tsig_algorithm_mac_len(req->key->algorithm);
    else
        o->vars.fudge = req->fudge;
    if (req->error == TSIG_ERROR_BADTIME) {
        /* §5.2.3: the client's Time Signed and Fudge, the server's time in Other Data, so the
         * client can verify the answer despite its clock. */
        o->vars.time_signed = req->time_signed;
        o->vars.fudge = req->fudge;
        put48(other, now_s);
        o->vars.other = other;
        o->vars.other_len = 6;
    }
}

size_t
tsig_response_size(const struct tsig_request *req)
{
    uint8_t other[6];
    struct tsig_out o;
    response_out(req, 1, other, &o);
    return out_size(&o);
}

size_t
tsig_response_sign(const struct tsig_request *req, uint8_t *msg, size_t len, size_t max,
                   uint64_t now_s)
{
    uint8_t other[6], mac[TSIG_MAC_MAX];
    struct tsig_out o;
    response_out(req, now_s, other, &o);
    if (len < DNS_HEADER_LEN || len + out_size(&o) > max)
        return 0;
    if (o.mac_len) {
        struct tsig_hmac h;
        tsig_hmac_init(&h, req->key);
        digest_prior(&h, req->mac, req->mac_len);
        digest_body(&h, msg, len, req->original_id, 0);
        digest_vars(&h, req->key, &o.vars, false);
        tsig_hmac_final(&h, mac);
        o.mac = mac;
    }
    return append_rr(msg, len, max, &o);
}

/* Signs msg with the key: prior MAC (if any), body, variables; appends the record with the
 * key's own name and algorithm and keeps the MAC in s. */
static size_t
sign_next(struct tsig_stream *s, uint8_t *msg, size_t len, size_t max, uint64_t now_s, bool prior,
          bool timers_only)
{
    const struct tsig_key *key = s->key;
    uint8_t mac[TSIG_MAC_MAX];
    struct tsig_out o = {.owner = key->name,
                         .owner_len = key->name_len,
                         .original_id = s->original_id,
                         .vars = {.time_signed = now_s, .fudge = TSIG_FUDGE_DEFAULT}};
    o.alg = tsig_algorithm_wire(key->algorithm, &o.alg_len);
    o.mac_len = (uint16_t)tsig_algorithm_mac_len(key->algorithm);
    if (len < DNS_HEADER_LEN || len + out_size(&o) > max)
        return 0;
    struct tsig_hmac h;
    tsig_hmac_init(&h, key);
    if (prior)
        digest_prior(&h, s->mac, s->mac_len);
    digest_body(&h, msg, len, s->original_id, 0);
    digest_vars(&h, key, &o.vars, timers_only);
    tsig_hmac_final(&h, mac);
    o.mac = mac;
    size_t n = append_rr(msg, len, max, &o);
    memcpy(s->mac, mac, o.mac_len);
    s->mac_len = o.mac_len;
    return n;
}

void
tsig_stream_respond(struct tsig_stream *s, const struct tsig_request *req)
{
    memset(s, 0, offsetof(struct tsig_stream, hmac));
    s->key = req->key;
    s->original_id = req->original_id;
    memcpy(s->mac, req->mac, req->mac_len);
    s->mac_len = req->mac_len;
}

size_t
tsig_stream_sign(struct tsig_stream *s, uint8_t *msg, size_t len, size_t max, uint64_t now_s)
{
    size_t n = sign_next(s, msg, len, max, now_s, true, s->messages > 0);
    if (n)
        s->messages++;
    return n;
}

size_t
tsig_request_sign(struct tsig_stream *s, const struct tsig_key *key, uint8_t *msg, size_t len,
                  size_t max, uint64_t now_s)
{
    memset(s, 0, offsetof(struct tsig_stream, hmac));
    s->key = key;
    if (len < DNS_HEADER_LEN)
        return 0;
    s->original_id = dnswire_id(msg);
    return sign_next(s, msg, len, max, now_s, false, false);
}

const char *
tsig_status_text(enum tsig_status status)
{
    switch (status) {
    case TSIG_OK:
        return "ok";
    case TSIG_UNSIGNED:
        return "unsigned message inside the stream";
    case TSIG_FORMERR:
        return "malformed or misplaced TSIG record";
    case TSIG_MISSING:
        return "TSIG missing";
    case TSIG_BADKEY:
        return "signed with another key (BADKEY)";
    case TSIG_BADSIG:
        return "MAC does not verify (BADSIG)";
    case TSIG_BADTIME:
        return "time signed outside the fudge (BADTIME)";
    case TSIG_BADTRUNC:
        return "truncated MAC (BADTRUNC)";
    case TSIG_PEER_ERROR:
        return "the peer reports a TSIG error";
    }
    return "?";
}

const char *
tsig_error_text(uint16_t error)
{
    switch (error) {
    case TSIG_ERROR_NONE:
        return "NOERROR";
    case TSIG_ERROR_BADSIG:
        return "BADSIG";
    case TSIG_ERROR_BADKEY:
        return "BADKEY";
    case TSIG_ERROR_BADTIME:
        return "BADTIME";
    case TSIG_ERROR_BADTRUNC:
        return "BADTRUNC";
    }
    return "unknown";
}

/* An unsigned message inside a stream: its bytes join the MAC of the next signed one. */
static enum tsig_status
verify_unsigned(struct tsig_stream *s, struct tsig_hmac *h, const uint8_t *msg, size_t len)
{
    if (s->messages == 0 || s->unsigned_run == UNSIGNED_RUN_MAX)
        return TSIG_MISSING; /* §5.3.1: the first is signed, and at most 99 in a row are not */
    if (!s->hmac_open) {
        tsig_hmac_init(h, s->key);
        digest_prior(h, s->mac, s->mac_len);
        s->hmac_open = true;
    }
    tsig_hmac_update(h, msg, len);
    s->unsigned_run++;
    s->messages++;
    return TSIG_UNSIGNED;
}

enum tsig_status
tsig_stream_verify(struct tsig_stream *s, const uint8_t *msg, size_t len, uint64_t now_s,
                   size_t *body_len)
{
    struct tsig_hmac *h = (struct tsig_hmac *)(void *)s->hmac;
    struct tsig_rr rr;
    size_t off = 0;
    int found = tsig_find(msg, len, &off);
    if (body_len)
        *body_len = found == 1 ? off : len;
    if (found < 0)
        return TSIG_FORMERR;
    if (found == 0)
        return verify_unsigned(s, h, msg, len);
    if (parse_rr(msg, len, off, &rr) < 0)
        return TSIG_FORMERR;
    /* An error response is the peer refusing our request: nothing to verify (BADKEY and
     * BADSIG responses carry no MAC, §5.3.2). */
    if (rr.error != TSIG_ERROR_NONE) {
        s->peer_error = rr.error;
        return TSIG_PEER_ERROR;
    }
    const struct tsig_key *key = s->key;
    if (!dname_equal(rr.name, key->name) || !algorithm_is(&rr, key->algorithm))
        return TSIG_BADKEY;
    if (!mac_len_allowed(rr.mac_len, key->algorithm))
        return TSIG_FORMERR;
    if (!s->hmac_open) {
        tsig_hmac_init(h, key);
        digest_prior(h, s->mac, s->mac_len);
    }
    struct tsig_vars vars = {.time_signed = rr.time_signed,
                             .fudge = rr.fudge,
                             .error = rr.error,
                             .other_len = rr.other_len,
                             .other = rr.other};
    uint8_t mac[TSIG_MAC_MAX];
    digest_body(h, msg, off, rr.original_id, 1);
    digest_vars(h, key, &vars, s->messages > 0);
    size_t full = tsig_hmac_final(h, mac);
    s->hmac_open = false;
    if (CRYPTO_memcmp(mac, rr.mac, rr.mac_len) != 0)
        return TSIG_BADSIG;
    if (!time_within(rr.time_signed, rr.fudge, now_s))
        return TSIG_BADTIME;
    if (rr.mac_len < full)
        return TSIG_BADTRUNC;
    /* §4.3.1: the next MAC chains this one as received. */
    memcpy(s->mac, rr.mac, rr.mac_len);
    s->mac_len = rr.mac_len;
    s->unsigned_run = 0;
    s->messages++;
    return TSIG_OK;
}

enum tsig_status
tsig_stream_end(const struct tsig_stream *s)
{
    return s->messages > 0 && s->unsigned_run == 0 ? TSIG_OK : TSIG_MISSING;
}
