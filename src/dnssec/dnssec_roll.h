/* SPDX-License-Identifier: MIT */
/* Key rollovers (RFC 7583) of one zone: the state of a rollover, the roles it gives each key,
 * the step from one phase to the next, and its state file K<zone>.state in the key directory.
 *
 * One rollover at a time per zone, of one key kind:
 *   ZSK  pre-publication (RFC 7583 §3.2.1): publish the new key; after Ipub (propagation delay
 *        + DNSKEY TTL) it signs the zone and the old one only stays published; after Iret
 *        (propagation delay + the largest signed TTL) the old one is removed.
 *   KSK  double-KSK (RFC 7583 §3.3.1): publish the new key (it signs the DNSKEY RRset with
 *        the old one); after Ipub CDS/CDNSKEY (RFC 7344) name the new key, and the operator
 *        replaces the DS at the parent and says so (`meridianctl dnssec ds-seen`: nothing
 *        polls the parent); after the parent's propagation delay + its DS TTL the old key is
 *        removed.
 *   CSK  both at once: publish; after Ipub the new key signs everything and is in CDS, the
 *        old one keeps signing only the DNSKEY RRset (resolvers still holding the old DS need
 *        it); the old key goes once both the ZSK wait and the DS wait are over.
 * A phase counts from the moment the server first published a zone signed in it (`since`),
 * not from when it was decided, so a reload that failed never shortens a wait. The last
 * phase, DONE, drops the old key from the zone; once that is published its files move to
 * <key directory>/retired/ and the state returns to NONE.
 *
 * The pure functions (roles, step, published, text) take the clock as an argument: any
 * thread, no I/O. The file functions run on the main thread (the signer reads the state on
 * the loader thread, which is the main thread too). */
#ifndef MERIDIAN_DNSSEC_DNSSEC_ROLL_H
#define MERIDIAN_DNSSEC_DNSSEC_ROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dnssec/dnssec_key.h"

enum dnssec_roll_kind { DNSSEC_ROLL_CSK, DNSSEC_ROLL_KSK, DNSSEC_ROLL_ZSK };

enum dnssec_roll_phase {
    DNSSEC_ROLL_NONE,    /* no rollover under way */
    DNSSEC_ROLL_PUBLISH, /* the new key is in the DNSKEY RRset, not yet signing the zone */
    DNSSEC_ROLL_ACTIVE,  /* the new key signs (ZSK, CSK) or is in CDS (KSK, CSK) */
    DNSSEC_ROLL_DONE,    /* the old key is left out of the zone */
};

struct dnssec_roll {
    enum dnssec_roll_phase phase;
    enum dnssec_roll_kind kind;
    uint8_t algorithm;
    uint16_t old_tag, new_tag;
    time_t started;  /* when the rollover was asked for */
    time_t since;    /* when a zone in this phase was first published; 0: not yet */
    time_t ds_seen;  /* KSK, CSK: when the operator said the parent has the new DS; 0: not yet */
    time_t finished; /* phase NONE: when the last rollover ended (0: never) */
    /* The largest DNSKEY TTL and signed-RRset TTL served since the rollover started: cached
     * copies of the old data live that long, whatever the zone's TTLs are now. */
    uint32_t ttl_key, ttl_sig;
};

/* RFC 7583 §2 timing parameters; seconds. */
struct dnssec_roll_timing {
    uint32_t propagation_s;        /* Dprp: the zone's changes reach every server */
    uint32_t parent_propagation_s; /* DprpP: the parent's DS change reaches its servers */
    uint32_t parent_ds_ttl_s;      /* TTLds: the TTL of the DS at the parent */
    uint32_t ttl_key, ttl_sig;     /* TTLkey and TTLsig of the zone served now */
};

/* What a key does in the zone. */
enum {
    DNSSEC_ROLE_PUBLISH = 1,   /* in the DNSKEY RRset */
    DNSSEC_ROLE_SIGN_ZONE = 2, /* signs every RRset but DNSKEY, CDS and CDNSKEY */
    DNSSEC_ROLE_SIGN_KEYS = 4, /* signs the DNSKEY, CDS and CDNSKEY RRsets */
    DNSSEC_ROLE_CDS = 8,       /* in CDS and CDNSKEY: the DS the parent should hold */
};

/* The roles of the key with `tag` and the SEP bit `sep` under rollover r (NULL or NONE: none
 * under way). Keys outside the rollover keep the roles of their kind: a SEP key publishes,
 * signs the keys and is in CDS, and signs the zone too when the zone has no ZSK
 * (`zsk_present` false: a CSK); a ZSK publishes and signs the zone. */
unsigned dnssec_roll_roles(const struct dnssec_roll *r, uint16_t tag, bool sep, bool zsk_present);

enum dnssec_roll_action {
    DNSSEC_ROLL_WAIT,    /* nothing to do now; *when is the next time to look (0: none known:
                          * the phase is not published yet, or the parent's DS is awaited) */
    DNSSEC_ROLL_ADVANCE, /* *next is the next phase (since 0): save it, then sign and publish */
    DNSSEC_ROLL_FINISH,  /* the zone without the old key is published: retire the old key's
                          * files, then save *next (phase NONE) */
};

/* The rollover's next step at `now` (RFC 7583 §3.2.1, §3.3.1). *next is always written (a
 * copy of *cur when waiting); *when is the earliest time the answer may change (0: not by the
 * clock alone). */
enum dnssec_roll_action dnssec_roll_step(const struct dnssec_roll *cur,
                                         const struct dnssec_roll_timing *t, time_t now,
                                         struct dnssec_roll *next, time_t *when);

/* A zone signed under `applied` (the state the signer read) was published at `now` with the
 * given TTLs: *next is *cur with the phase's `since` set, if cur is the same rollover in the
 * same phase and since was unset, and the TTL maxima raised. True if *next differs from *cur
 * (save it). */
bool dnssec_roll_published(const struct dnssec_roll *cur, const struct dnssec_roll *applied,
                           uint32_t ttl_key, uint32_t ttl_sig, time_t now,
                           struct dnssec_roll *next);

/* True if the zone's keys include both keys of rollover r (of its algorithm). A state naming a
 * missing key is void: the signer gives every key the roles of its kind. */
bool dnssec_roll_keys_present(const struct dnssec_roll *r, const struct dnssec_keyset *set);

/* True if a and b are the same rollover in the same phase (since and TTLs aside). */
bool dnssec_roll_same_phase(const struct dnssec_roll *a, const struct dnssec_roll *b);

/* "csk", "ksk", "zsk"; "none", "publish", "active", "done". */
const char *dnssec_roll_kind_name(enum dnssec_roll_kind kind);
const char *dnssec_roll_phase_name(enum dnssec_roll_phase phase);
/* The kind named by `name` (as above): 0, or -1 for another word. */
int dnssec_roll_kind_parse(const char *name, enum dnssec_roll_kind *out)
    __attribute__((warn_unused_result));

/* The state file's text: "key: value" lines, '#' comments, times as UTC
 * YYYY-MM-DDTHH:MM:SSZ (0 for none). Format then parse gives the same state back. */
#define DNSSEC_ROLL_TEXT_MAX 1024
void dnssec_roll_format(const struct dnssec_roll *r, const uint8_t *origin,
                        char out[DNSSEC_ROLL_TEXT_MAX]);
/* Parses text (from `file`, for messages "file:line: message"). A missing key keeps its zero
 * value; an unknown key, a bad value or an inconsistent state (a rollover without both key
 * tags) is an error. */
int dnssec_roll_parse(const char *text, const char *file, struct dnssec_roll *out,
                      char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

/* <dir>/K<zone>.state. A missing file is no rollover (phase NONE, 0); a malformed one -1. */
int dnssec_roll_load(const char *dir, const uint8_t *origin, struct dnssec_roll *out,
                     char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));
/* Replaces <dir>/K<zone>.state atomically (a temporary file, synced, renamed, the directory
 * synced). 0 or -1 with err. */
int dnssec_roll_save(const char *dir, const uint8_t *origin, const struct dnssec_roll *r,
                     char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

/* Starts a rollover of `kind` for zone `origin` whose keys (algorithm, split = KSK+ZSK) live
 * in dir: refused while one is under way, for a kind the layout lacks (csk needs split false,
 * ksk and zsk split true) or when the zone has not exactly one key of that kind signing now.
 * A new key is made with a tag no key of the zone has; the state (phase PUBLISH) is saved
 * before the key files, so no reader ever finds the new key without the state that says it
 * must not sign yet. *out is the new state. 0 or -1 with err. */
int dnssec_roll_start(const char *dir, const uint8_t *origin, uint8_t algorithm, bool split,
                      enum dnssec_roll_kind kind, time_t now, struct dnssec_roll *out,
                      char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

/* The operator saw the new DS at the parent: records `now` in the state. Only for a KSK or
 * CSK rollover in phase ACTIVE (before, the parent must still point at the old key). */
int dnssec_roll_ds_seen(const char *dir, const uint8_t *origin, time_t now, struct dnssec_roll *out,
                        char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

/* Moves the old key's files of rollover r into <dir>/retired/ (created 0700), where the key
 * store never looks. A file already gone is not an error. 0 or -1 with err. */
int dnssec_roll_retire(const char *dir, const uint8_t *origin, const struct dnssec_roll *r,
                       char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

#endif
