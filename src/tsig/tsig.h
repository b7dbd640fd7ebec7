/* SPDX-License-Identifier: MIT */
/* TSIG (RFC 8945): shared-secret authentication of DNS messages with HMAC-SHA256/384/512.
 *
 * Keys live in a key ring built at load (tsig_keyring_*), where each secret is turned into the
 * two HMAC states of RFC 2104 (key XOR ipad, key XOR opad, already hashed), so signing and
 * verifying never see the secret again and never allocate. A key ring is immutable once
 * built: any thread may use it until tsig_keyring_free; its keys live exactly as long (a copy
 * made with tsig_key_dup lives on its own).
 *
 * Three uses, all on caller memory, no allocation, no locks, no clock (the caller passes the
 * wall-clock time in UNIX seconds as `now_s`):
 *
 * 1. Requests we receive (the answer path, and the transfer server): find the TSIG record
 *    (tsig_find), check it (tsig_request_verify: key, MAC, time, truncation in the order of
 *    RFC 8945 §5.2), then answer. A single response is signed with tsig_response_sign, which
 *    also writes the error responses of §5.3.2 (BADKEY and BADSIG unsigned, BADTIME and
 *    BADTRUNC signed). Reserve tsig_response_size() bytes for it when writing the response.
 *
 * 2. Response streams we send (AXFR/IXFR over TCP, RFC 8945 §5.3.1): after a request verified
 *    with error 0, tsig_stream_respond starts a stream and tsig_stream_sign signs each message
 *    in turn: the first MAC covers the request MAC and every TSIG variable, each later one the
 *    previous MAC, the message and the timers only. Every message is signed.
 *
 * 3. Requests we send and their responses (SOA, AXFR/IXFR, NOTIFY): tsig_request_sign signs
 *    the request and starts a stream; tsig_stream_verify checks each response message (a
 *    single response is a stream of one); tsig_stream_end says whether the stream ended on a
 *    signed message, as §5.3.1 requires.
 *
 * Message buffers hold one DNS message without the TCP length prefix. Signing appends the
 * TSIG record after everything else and counts it in ARCOUNT (§5.1: it must be the last
 * record); the message must not carry a TSIG already. */
#ifndef MERIDIAN_TSIG_TSIG_H
#define MERIDIAN_TSIG_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dname.h"

/* RFC 8945 §6: HMAC-SHA256 is mandatory; SHA-384 and SHA-512 are the others we take. */
enum tsig_algorithm {
    TSIG_HMAC_SHA256 = 0,
    TSIG_HMAC_SHA384,
    TSIG_HMAC_SHA512,
};

/* The TSIG record's Error field (RFC 8945 §3, IANA "DNS RCODEs"): what a response reports
 * about the request. Responses with an error have RCODE NOTAUTH (9). */
enum tsig_error {
    TSIG_ERROR_NONE = 0,
    TSIG_ERROR_BADSIG = 16,   /* the MAC did not verify (§5.2.2) */
    TSIG_ERROR_BADKEY = 17,   /* unknown key, or the key's algorithm differs (§5.2.1) */
    TSIG_ERROR_BADTIME = 18,  /* Time Signed outside Fudge of the server's clock (§5.2.3) */
    TSIG_ERROR_BADTRUNC = 22, /* a truncated MAC our policy does not take (§5.2.4) */
};

#define TSIG_FUDGE_DEFAULT 300 /* seconds; RFC 8945 §10 recommends 300 */
#define TSIG_MAC_MAX 64        /* HMAC-SHA512 */
/* The largest TSIG record: owner and algorithm names of 255 octets, TYPE CLASS TTL RDLENGTH,
 * the RDATA's fixed fields, a 64-octet MAC and 6 octets of Other Data (BADTIME). */
#define TSIG_RR_MAX (DNAME_MAX_LEN + 10 + DNAME_MAX_LEN + 16 + TSIG_MAC_MAX + 6)
/* A stream's running HMAC (opaque, see struct tsig_stream). */
#define TSIG_HMAC_STATE_SIZE 240

struct tsig_key;
struct tsig_keyring;

/* ---- keys ---- */

/* "hmac-sha256", "hmac-sha384", "hmac-sha512". */
const char *tsig_algorithm_name(enum tsig_algorithm algorithm);
/* Full MAC length of the algorithm: 32, 48 or 64. */
size_t tsig_algorithm_mac_len(enum tsig_algorithm algorithm);

/* An empty key ring (main or loader thread). */
struct tsig_keyring *tsig_keyring_new(void);
/* Wipes every key's HMAC state and frees the ring and its keys. NULL is fine. */
void tsig_keyring_free(struct tsig_keyring *ring);
/* Adds a key: `name` a valid wire name (any case, stored lowercased), secret_len >= 1 bytes
 * of secret (copied into the HMAC states only; the caller wipes its own copy). 0, or -1 when
 * the ring has a key of that name already (RFC 4343: case-insensitive). */
int tsig_keyring_add(struct tsig_keyring *ring, const uint8_t *name, enum tsig_algorithm algorithm,
                     const uint8_t *secret, size_t secret_len) __attribute__((warn_unused_result));
/* The key named `name` (wire, any case), or NULL. NULL ring: none. Any thread, no allocation. */
const struct tsig_key *tsig_keyring_find(const struct tsig_keyring *ring, const uint8_t *name);
size_t tsig_keyring_count(const struct tsig_keyring *ring);

/* A copy of a key that lives on its own, for a thread that outlives the ring the key came
 * from (the NOTIFY sender keeps one per pending target). Free it with tsig_key_free, which
 * wipes its HMAC states; NULL is fine there. */
struct tsig_key *tsig_key_dup(const struct tsig_key *key);
void tsig_key_free(struct tsig_key *key);

/* The key's name (lowercased wire) and algorithm. */
const uint8_t *tsig_key_name(const struct tsig_key *key);
enum tsig_algorithm tsig_key_algorithm(const struct tsig_key *key);
/* Bytes the TSIG record of a message signed with this key takes (owner = key name, full MAC,
 * no Other Data): what a stream reserves in each message. */
size_t tsig_key_rr_size(const struct tsig_key *key);

/* ---- messages we receive: finding and verifying a request's TSIG ---- */

/* Finds the TSIG record of a message (RFC 8945 §5.1): the last record of the additional
 * section. Returns 1 with *offset at the record's owner name, 0 when the message has no TSIG,
 * -1 when the records cannot be delimited, a TSIG is anywhere else, or there are two
 * (FORMERR). Walks the whole message; the answer path finds it in its own parse instead. */
int tsig_find(const uint8_t *msg, size_t len, size_t *offset) __attribute__((warn_unused_result));

/* What a request's TSIG said and what its response needs (caller storage). */
struct tsig_request {
    const struct tsig_key *key; /* set when the MAC verified (error 0, BADTIME, BADTRUNC) */
    uint16_t error;             /* enum tsig_error: 0 = authentic, else answer NOTAUTH */
    uint16_t original_id;
    uint16_t fudge;
    uint64_t time_signed; /* 48 bits */
    uint16_t mac_len;     /* the request MAC, chained into the response's (§4.3.1) */
    uint8_t mac[TSIG_MAC_MAX];
    /* Key and algorithm names as the request wrote them, echoed in the response's TSIG. */
    uint16_t name_len;
    uint16_t alg_len;
    uint8_t name[DNAME_MAX_LEN];
    uint8_t alg[DNAME_MAX_LEN];
};

/* Checks the TSIG record at msg[offset] (from tsig_find) of a request against `ring` (NULL:
 * no keys) at `now_s`, in the order of RFC 8945 §5.2: the key (name and algorithm, else
 * BADKEY), the MAC's length (§5.2.2.1: more than the hash or less than max(10, half of it)
 * is FORMERR), the MAC (BADSIG), the time (|now - Time Signed| > Fudge: BADTIME), and our
 * truncation policy (a full-length MAC is required, else BADTRUNC, as BIND does unless
 * configured otherwise). Returns -1 when the record cannot be interpreted (FORMERR, §5.2:
 * bad RDATA, CLASS not ANY, TTL not 0, not the message's end): answer without TSIG. Else
 * returns 0 with `req` filled: req->error 0 means authentic. Any thread, no allocation. */
int tsig_request_verify(const struct tsig_keyring *ring, const uint8_t *msg, size_t len,
                        size_t offset, uint64_t now_s, struct tsig_request *req)
    __attribute__((warn_unused_result));

/* ---- a response to a verified request ---- */

/* Bytes the response's TSIG record will take: reserve them while writing the response. */
size_t tsig_response_size(const struct tsig_request *req);

/* Appends the TSIG record of the response to `req` to the message msg[0..len) (header with
 * ID and RCODE final; ARCOUNT without the TSIG) and increments ARCOUNT. By req->error:
 * 0 signs with the request MAC chained (§4.3.1-§4.3.3); BADKEY and BADSIG write an unsigned
 * record, MAC size 0 (§5.3.2); BADTIME signs with Time Signed and Fudge of the request and
 * the server time `now_s` in Other Data (§5.2.3); BADTRUNC signs. The owner and algorithm
 * names are the request's. With now_s 0 (a caller that holds no keys need not read a clock)
 * an unsigned record carries the request's time. Returns the new length, or 0 when max
 * leaves no room. */
size_t tsig_response_sign(const struct tsig_request *req, uint8_t *msg, size_t len, size_t max,
                          uint64_t now_s) __attribute__((warn_unused_result));

/* ---- streams: several messages, each MAC chained to the one before (§5.3.1) ---- */

/* Caller storage for one exchange: a response stream we sign, or the responses to a request
 * we signed. Fields are private except peer_error. */
struct tsig_stream {
    const struct tsig_key *key;
    uint8_t mac[TSIG_MAC_MAX]; /* the last MAC: the request's, then each signed message's */
    uint16_t mac_len;
    uint16_t original_id;
    uint16_t peer_error;   /* after TSIG_PEER_ERROR: the Error field the peer sent */
    uint32_t messages;     /* messages signed or verified so far */
    uint32_t unsigned_run; /* verify: messages since the last signed one */
    bool hmac_open;        /* verify: unsigned messages are in the running HMAC */
    _Alignas(16) unsigned char hmac[TSIG_HMAC_STATE_SIZE];
};

/* Starts signing a response stream to `req`, which verified with error 0 (key set). */
void tsig_stream_respond(struct tsig_stream *s, const struct tsig_request *req);

/* Signs the stream's next message msg[0..len) (complete but for the TSIG) and appends its
 * TSIG record (owner: the key name, original ID: the request's, Time Signed: now_s, Fudge
 * 300). The first message's MAC covers the request MAC and all TSIG variables, later ones
 * the previous MAC, the message and the timers (§5.3.1). Reserve tsig_key_rr_size(s->key).
 * Returns the new length, or 0 when max leaves no room. */
size_t tsig_stream_sign(struct tsig_stream *s, uint8_t *msg, size_t len, size_t max, uint64_t now_s)
    __attribute__((warn_unused_result));

/* Signs a request we send (SOA query, AXFR/IXFR, NOTIFY): appends the TSIG record (owner the
 * key name, Time Signed now_s, Fudge 300, Original ID the message's ID) and sets `s` up to
 * verify the responses with tsig_stream_verify. Returns the new length, or 0 when max
 * leaves no room (reserve tsig_key_rr_size(key)). */
size_t tsig_request_sign(struct tsig_stream *s, const struct tsig_key *key, uint8_t *msg,
                         size_t len, size_t max, uint64_t now_s)
    __attribute__((warn_unused_result));

/* The result of verifying one response message. */
enum tsig_status {
    TSIG_OK = 0,     /* signed by the key, MAC chained, time within fudge */
    TSIG_UNSIGNED,   /* no TSIG on a message after the first: accepted for now (§5.3.1
                        allows 99 in a row); its bytes are in the next MAC */
    TSIG_FORMERR,    /* a TSIG that cannot be read or is not last; MAC size out of range */
    TSIG_MISSING,    /* a message that must be signed is not: the first response, the 100th
                        unsigned one in a row, or the last (tsig_stream_end) */
    TSIG_BADKEY,     /* signed with another key name or algorithm */
    TSIG_BADSIG,     /* the MAC is wrong */
    TSIG_BADTIME,    /* Time Signed outside Fudge of now_s */
    TSIG_BADTRUNC,   /* a truncated MAC: we require the full length */
    TSIG_PEER_ERROR, /* the peer reports an error in its TSIG (s->peer_error: BADKEY...) */
};

/* "ok", "unsigned", "malformed TSIG", ... for logs. */
const char *tsig_status_text(enum tsig_status status);
/* "BADSIG", "BADKEY", "BADTIME", "BADTRUNC" (enum tsig_error, as a peer may send), "NOERROR"
 * for 0, "unknown" for other values; for logs. */
const char *tsig_error_text(uint16_t error);

/* Verifies the next response message of the stream (after tsig_request_sign). *body_len (if
 * not NULL) gets the message length without its TSIG record (len when unsigned): the
 * records before it are the message's content, though ARCOUNT still counts the TSIG. Any
 * status but TSIG_OK and TSIG_UNSIGNED ends the exchange: the caller drops what it got. */
enum tsig_status tsig_stream_verify(struct tsig_stream *s, const uint8_t *msg, size_t len,
                                    uint64_t now_s, size_t *body_len)
    __attribute__((warn_unused_result));

/* After the last message: TSIG_OK if at least one message was verified and the last was
 * signed (§5.3.1), else TSIG_MISSING. */
enum tsig_status tsig_stream_end(const struct tsig_stream *s) __attribute__((warn_unused_result));

#endif
