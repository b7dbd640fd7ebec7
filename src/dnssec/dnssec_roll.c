// SPDX-License-Identifier: MIT
/* The rollover state machine (see dnssec_roll.h): the roles each phase gives the old and the
 * new key, the waits of RFC 7583 between phases, and the state file's text. Pure functions:
 * the clock comes in as an argument, nothing is read or written here. Any thread. */
#include "dnssec/dnssec_roll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dname.h"
#include "dnssec/dnssec_internal.h"

enum {
    ROLE_ALL =
        DNSSEC_ROLE_PUBLISH | DNSSEC_ROLE_SIGN_ZONE | DNSSEC_ROLE_SIGN_KEYS | DNSSEC_ROLE_CDS,
    ROLE_KSK = DNSSEC_ROLE_PUBLISH | DNSSEC_ROLE_SIGN_KEYS | DNSSEC_ROLE_CDS,
    ROLE_ZSK = DNSSEC_ROLE_PUBLISH | DNSSEC_ROLE_SIGN_ZONE,
};

/* [kind][phase][0 old, 1 new] for phases PUBLISH, ACTIVE, DONE. */
static const unsigned roll_roles[3][3][2] = {
    [DNSSEC_ROLL_CSK] =
        {
            /* The new key is only published until every cache holding the DNSKEY RRset
             * has it (Ipub). */
            {ROLE_ALL, DNSSEC_ROLE_PUBLISH},
            /* The old key still signs the DNSKEY RRset: a resolver with the old DS starts
             * its chain there (RFC 7583 §3.3.1, the KSK half). */
            {DNSSEC_ROLE_PUBLISH | DNSSEC_ROLE_SIGN_KEYS, ROLE_ALL},
            {0, ROLE_ALL},
        },
    [DNSSEC_ROLL_KSK] =
        {
            /* Double-KSK: the DNSKEY RRset is signed by both from the start. */
            {ROLE_KSK, DNSSEC_ROLE_PUBLISH | DNSSEC_ROLE_SIGN_KEYS},
            {DNSSEC_ROLE_PUBLISH | DNSSEC_ROLE_SIGN_KEYS, ROLE_KSK},
            {0, ROLE_KSK},
        },
    [DNSSEC_ROLL_ZSK] =
        {
            /* Pre-publication (RFC 7583 §3.2.1). */
            {ROLE_ZSK, DNSSEC_ROLE_PUBLISH},
            {DNSSEC_ROLE_PUBLISH, ROLE_ZSK},
            {0, ROLE_ZSK},
        },
};

unsigned
dnssec_roll_roles(const struct dnssec_roll *r, uint16_t tag, bool sep, bool zsk_present)
{
    if (r && r->phase != DNSSEC_ROLL_NONE && (tag == r->old_tag || tag == r->new_tag))
        return roll_roles[r->kind][r->phase - DNSSEC_ROLL_PUBLISH][tag == r->new_tag];
    if (!sep)
        return ROLE_ZSK;
    return zsk_present ? ROLE_KSK : ROLE_ALL;
}

static uint32_t
max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static time_t
max_time(time_t a, time_t b)
{
    return a > b ? a : b;
}

enum dnssec_roll_action
dnssec_roll_step(const struct dnssec_roll *cur, const struct dnssec_roll_timing *t, time_t now,
                 struct dnssec_roll *next, time_t *when)
{
    *next = *cur;
    *when = 0;
    uint32_t ttl_key = max_u32(cur->ttl_key, t->ttl_key);
    uint32_t ttl_sig = max_u32(cur->ttl_sig, t->ttl_sig);
    /* A phase not yet published waits for its publication, whatever the clock says. */
    if (cur->phase == DNSSEC_ROLL_NONE || cur->since == 0)
        return DNSSEC_ROLL_WAIT;
    time_t at = 0;
    switch (cur->phase) {
    case DNSSEC_ROLL_NONE:
        return DNSSEC_ROLL_WAIT;
    case DNSSEC_ROLL_PUBLISH:
        /* RFC 7583 §3.2.1: Ipub = Dprp + TTLkey, until every cache holding the DNSKEY RRset
         * holds the one with the new key. */
        at = cur->since + (time_t)t->propagation_s + ttl_key;
        break;
    case DNSSEC_ROLL_ACTIVE:
        /* ZSK and CSK: Iret = Dsgn + Dprp + TTLsig, until no cache holds a signature by the
         * old key (Dsgn is 0: the whole zone is signed anew at once). */
        if (cur->kind != DNSSEC_ROLL_KSK)
            at = cur->since + (time_t)t->propagation_s + ttl_sig;
        /* KSK and CSK (RFC 7583 §3.3.1): after the parent's DS changed, DprpP + TTLds, until
         * no resolver holds the old DS. The change is the operator's word. */
        if (cur->kind != DNSSEC_ROLL_ZSK) {
            if (cur->ds_seen == 0)
                return DNSSEC_ROLL_WAIT;
            at = max_time(at, max_time(cur->ds_seen, cur->since) + (time_t)t->parent_propagation_s +
                                  t->parent_ds_ttl_s);
        }
        break;
    case DNSSEC_ROLL_DONE:
        /* The zone without the old key is out: its files can go. */
        next->phase = DNSSEC_ROLL_NONE;
        next->since = 0;
        next->finished = now;
        return DNSSEC_ROLL_FINISH;
    }
    if (now < at) {
        *when = at;
        return DNSSEC_ROLL_WAIT;
    }
    next->phase = cur->phase + 1;
    next->since = 0;
    next->ttl_key = ttl_key;
    next->ttl_sig = ttl_sig;
    return DNSSEC_ROLL_ADVANCE;
}

bool
dnssec_roll_keys_present(const struct dnssec_roll *r, const struct dnssec_keyset *set)
{
    bool old_found = false, new_found = false;
    for (size_t i = 0; i < set->count; i++) {
        const struct dnssec_key *k = set->keys[i];
        if (k->algorithm != r->algorithm)
            continue;
        old_found = old_found || k->tag == r->old_tag;
        new_found = new_found || k->tag == r->new_tag;
    }
    return old_found && new_found;
}

bool
dnssec_roll_same_phase(const struct dnssec_roll *a, const struct dnssec_roll *b)
{
    return a->phase == b->phase && a->kind == b->kind && a->old_tag == b->old_tag &&
           a->new_tag == b->new_tag && a->started == b->started;
}

bool
dnssec_roll_published(const struct dnssec_roll *cur, const struct dnssec_roll *applied,
                      uint32_t ttl_key, uint32_t ttl_sig, time_t now, struct dnssec_roll *next)
{
    *next = *cur;
    if (cur->phase == DNSSEC_ROLL_NONE)
        return false;
    if (cur->since == 0 && dnssec_roll_same_phase(cur, applied))
        next->since = now;
    next->ttl_key = max_u32(cur->ttl_key, ttl_key);
    next->ttl_sig = max_u32(cur->ttl_sig, ttl_sig);
    return next->since != cur->since || next->ttl_key != cur->ttl_key ||
           next->ttl_sig != cur->ttl_sig;
}

static const char *const kind_names[] = {"csk", "ksk", "zsk"};
static const char *const phase_names[] = {"none", "publish", "active", "done"};

const char *
dnssec_roll_kind_name(enum dnssec_roll_kind kind)
{
    return (unsigned)kind < 3 ? kind_names[kind] : "?";
}

const char *
dnssec_roll_phase_name(enum dnssec_roll_phase phase)
{
    return (unsigned)phase < 4 ? phase_names[phase] : "?";
}

int
dnssec_roll_kind_parse(const char *name, enum dnssec_roll_kind *out)
{
    for (unsigned i = 0; i < 3; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (enum dnssec_roll_kind)i;
            return 0;
        }
    }
    return -1;
}

/* "2026-01-02T03:04:05Z", or "0" for none. */
static void
time_text(time_t t, char out[24])
{
    struct tm tm;
    if (t == 0 || !gmtime_r(&t, &tm) || strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 24, "0");
}

static int
parse_time(const char *s, time_t *out)
{
    struct tm tm = {0};
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end)
        return -1;
    *out = timegm(&tm);
    return 0;
}

void
dnssec_roll_format(const struct dnssec_roll *r, const uint8_t *origin,
                   char out[DNSSEC_ROLL_TEXT_MAX])
{
    char zone[DNAME_TEXT_MAX], started[24], since[24], ds_seen[24], finished[24];
    dname_to_text(origin, zone, sizeof(zone));
    time_text(r->started, started);
    time_text(r->since, since);
    time_text(r->ds_seen, ds_seen);
    time_text(r->finished, finished);
    snprintf(out, DNSSEC_ROLL_TEXT_MAX,
             "# DNSSEC key rollover of %.300s, kept by meridiand (RFC 7583 phases: publish,\n"
             "# active, done). `meridianctl status` explains it; edit only while meridiand "
             "is stopped.\n"
             "phase: %s\nkind: %s\nalgorithm: %u\nold: %u\nnew: %u\nstarted: %s\nsince: %s\n"
             "ds_seen: %s\nfinished: %s\nttl_key: %u\nttl_sig: %u\n",
             zone, dnssec_roll_phase_name(r->phase), dnssec_roll_kind_name(r->kind), r->algorithm,
             r->old_tag, r->new_tag, started, since, ds_seen, finished, r->ttl_key, r->ttl_sig);
}

/* An unsigned decimal up to max. */
static int
parse_number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v > max)
        return -1;
    *out = v;
    return 0;
}

/* One "key: value" line into r. */
static int
parse_field(const char *key, const char *value, struct dnssec_roll *r)
{
    unsigned long n;
    if (strcmp(key, "phase") == 0) {
        for (unsigned i = 0; i < 4; i++) {
            if (strcmp(value, phase_names[i]) == 0) {
                r->phase = (enum dnssec_roll_phase)i;
                return 0;
            }
        }
        return -1;
    }
    if (strcmp(key, "kind") == 0)
        return dnssec_roll_kind_parse(value, &r->kind);
    if (strcmp(key, "started") == 0)
        return parse_time(value, &r->started);
    if (strcmp(key, "since") == 0)
        return parse_time(value, &r->since);
    if (strcmp(key, "ds_seen") == 0)
        return parse_time(value, &r->ds_seen);
    if (strcmp(key, "finished") == 0)
        return parse_time(value, &r->finished);
    bool u8 = strcmp(key, "algorithm") == 0;
    bool u16 = strcmp(key, "old") == 0 || strcmp(key, "new") == 0;
    bool u32 = strcmp(key, "ttl_key") == 0 || strcmp(key, "ttl_sig") == 0;
    if (!u8 && !u16 && !u32)
        return -2;
    if (parse_number(value, u8 ? 255 : u16 ? 65535 : UINT32_MAX, &n) < 0)
        return -1;
    if (u8)
        r->algorithm = (uint8_t)n;
    else if (strcmp(key, "old") == 0)
        r->old_tag = (uint16_t)n;
    else if (strcmp(key, "new") == 0)
        r->new_tag = (uint16_t)n;
    else if (strcmp(key, "ttl_key") == 0)
        r->ttl_key = (uint32_t)n;
    else
        r->ttl_sig = (uint32_t)n;
    return 0;
}

int
dnssec_roll_parse(const char *text, const char *file, struct dnssec_roll *out,
                  char err[DNSSEC_ERR_MAX])
{
    char line[256];
    unsigned lineno = 0;
    memset(out, 0, sizeof(*out));
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        lineno++;
        if (len >= sizeof(line)) {
            dnssec_errorf(err, "%s:%u: line too long", file, lineno);
            return -1;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (p[len] == '\n');
        while (len > 0 && strchr(" \t\r", line[len - 1]))
            line[--len] = '\0';
        const char *key = line + strspn(line, " \t");
        if (*key == '\0' || *key == '#')
            continue;
        char *colon = strchr(line, ':');
        if (!colon) {
            dnssec_errorf(err, "%s:%u: expected \"key: value\"", file, lineno);
            return -1;
        }
        *colon = '\0';
        const char *value = colon + 1 + strspn(colon + 1, " \t");
        int rc = parse_field(key, value, out);
        if (rc == -2) {
            dnssec_errorf(err, "%s:%u: unknown key '%s'", file, lineno, key);
            return -1;
        }
        if (rc < 0) {
            dnssec_errorf(err, "%s:%u: bad %s '%s'", file, lineno, key, value);
            return -1;
        }
    }
    if (out->phase != DNSSEC_ROLL_NONE &&
        (out->old_tag == out->new_tag || !dnssec_algorithm_name(out->algorithm))) {
        dnssec_errorf(err,
                      "%s: a rollover needs an algorithm of ours and two different key tags "
                      "(old, new)",
                      file);
        return -1;
    }
    return 0;
}
