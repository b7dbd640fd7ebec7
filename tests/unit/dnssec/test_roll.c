// SPDX-License-Identifier: MIT
/* Unit tests for key rollovers (src/dnssec/dnssec_roll.c, dnssec_roll_file.c): the roles of
 * the old and the new key in each phase of each kind, the RFC 7583 waits of the step function
 * on an injected clock (each transition asserted one second early and on time), whole
 * rollovers driven as the server drives them (step, publish, stamp), the state file's text,
 * and the files: start (state before key, refusals), ds-seen, retire. File tests work in a
 * mkdtemp directory removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dnssec/dnssec_roll.h"
#include "dnssec_test.h"
#include "test_tmpdir.h"

enum {
    PUB = DNSSEC_ROLE_PUBLISH,
    ZONE = DNSSEC_ROLE_SIGN_ZONE,
    KEYS = DNSSEC_ROLE_SIGN_KEYS,
    CDS = DNSSEC_ROLE_CDS,
};

#define T0 1800000000 /* 2027-01-15T08:00:00Z */

/* RFC 7583 §2 parameters of a plausible zone: Dprp 1h, DprpP 2h, TTLds 1d, TTLkey 5m,
 * TTLsig 1d. */
static const struct dnssec_roll_timing timing = {
    .propagation_s = 3600,
    .parent_propagation_s = 7200,
    .parent_ds_ttl_s = 86400,
    .ttl_key = 300,
    .ttl_sig = 86400,
};

static struct dnssec_roll
rollover(enum dnssec_roll_kind kind, enum dnssec_roll_phase phase)
{
    return (struct dnssec_roll){.phase = phase,
                                .kind = kind,
                                .algorithm = 13,
                                .old_tag = 1111,
                                .new_tag = 2222,
                                .started = T0,
                                .since = T0};
}

static void
test_default_roles(void **state)
{
    (void)state;
    struct dnssec_roll none = rollover(DNSSEC_ROLL_CSK, DNSSEC_ROLL_NONE);
    /* A CSK does everything; with a ZSK beside it, the SEP key signs only the key RRsets. */
    assert_int_equal(dnssec_roll_roles(NULL, 5, true, false), PUB | ZONE | KEYS | CDS);
    assert_int_equal(dnssec_roll_roles(NULL, 5, true, true), PUB | KEYS | CDS);
    assert_int_equal(dnssec_roll_roles(NULL, 5, false, true), PUB | ZONE);
    /* Phase NONE names old and new tags of the last rollover: they mean nothing now. */
    assert_int_equal(dnssec_roll_roles(&none, 1111, true, false), PUB | ZONE | KEYS | CDS);
    /* A key outside the rollover keeps its kind's roles. */
    struct dnssec_roll zsk = rollover(DNSSEC_ROLL_ZSK, DNSSEC_ROLL_ACTIVE);
    assert_int_equal(dnssec_roll_roles(&zsk, 3333, true, true), PUB | KEYS | CDS);
}

/* Every phase of every kind: who is published, who signs what, who is in CDS. */
static void
test_rollover_roles(void **state)
{
    static const struct {
        enum dnssec_roll_kind kind;
        enum dnssec_roll_phase phase;
        unsigned old_roles, new_roles;
    } cases[] = {
        /* RFC 7583 §3.2.1 pre-publication: published first, signing after Ipub, the old key
         * published until Iret, then gone. */
        {DNSSEC_ROLL_ZSK, DNSSEC_ROLL_PUBLISH, PUB | ZONE, PUB},
        {DNSSEC_ROLL_ZSK, DNSSEC_ROLL_ACTIVE, PUB, PUB | ZONE},
        {DNSSEC_ROLL_ZSK, DNSSEC_ROLL_DONE, 0, PUB | ZONE},
        /* §3.3.1 double-KSK: both sign the DNSKEY RRset; CDS moves to the new key. */
        {DNSSEC_ROLL_KSK, DNSSEC_ROLL_PUBLISH, PUB | KEYS | CDS, PUB | KEYS},
        {DNSSEC_ROLL_KSK, DNSSEC_ROLL_ACTIVE, PUB | KEYS, PUB | KEYS | CDS},
        {DNSSEC_ROLL_KSK, DNSSEC_ROLL_DONE, 0, PUB | KEYS | CDS},
        /* CSK: the new key takes over the zone and CDS at once; the old one keeps the DNSKEY
         * RRset signed for resolvers holding the old DS. */
        {DNSSEC_ROLL_CSK, DNSSEC_ROLL_PUBLISH, PUB | ZONE | KEYS | CDS, PUB},
        {DNSSEC_ROLL_CSK, DNSSEC_ROLL_ACTIVE, PUB | KEYS, PUB | ZONE | KEYS | CDS},
        {DNSSEC_ROLL_CSK, DNSSEC_ROLL_DONE, 0, PUB | ZONE | KEYS | CDS},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dnssec_roll r = rollover(cases[i].kind, cases[i].phase);
        bool sep = cases[i].kind != DNSSEC_ROLL_ZSK;
        bool zsk = cases[i].kind != DNSSEC_ROLL_CSK;
        unsigned got_old = dnssec_roll_roles(&r, r.old_tag, sep, zsk);
        unsigned got_new = dnssec_roll_roles(&r, r.new_tag, sep, zsk);
        if (got_old != cases[i].old_roles || got_new != cases[i].new_roles)
            fail_msg("%s %s: old %u new %u, expected %u %u", dnssec_roll_kind_name(cases[i].kind),
                     dnssec_roll_phase_name(cases[i].phase), got_old, got_new, cases[i].old_roles,
                     cases[i].new_roles);
        /* The zone always has a key signing the DNSKEY RRset, one in CDS, and one signing
         * the zone (the KSK of a KSK rollover: the ZSK, outside it). */
        assert_true((got_old | got_new) & KEYS || cases[i].kind == DNSSEC_ROLL_ZSK);
    }
}

/* The step waits until `at` and no longer: one second before, nothing; at `at`, `want`. */
static void
assert_step_at(const struct dnssec_roll *r, time_t at, enum dnssec_roll_action want,
               enum dnssec_roll_phase want_phase)
{
    struct dnssec_roll next;
    time_t when;
    assert_int_equal(dnssec_roll_step(r, &timing, at - 1, &next, &when), DNSSEC_ROLL_WAIT);
    assert_int_equal(when, at);
    assert_int_equal(next.phase, r->phase);
    assert_int_equal(dnssec_roll_step(r, &timing, at, &next, &when), want);
    assert_int_equal(next.phase, want_phase);
    assert_int_equal(next.since, 0); /* the next phase counts from its publication */
}

static void
test_step_waits(void **state)
{
    (void)state;
    /* PUBLISH: Ipub = Dprp + TTLkey for every kind. */
    for (int k = DNSSEC_ROLL_CSK; k <= DNSSEC_ROLL_ZSK; k++) {
        struct dnssec_roll r = rollover((enum dnssec_roll_kind)k, DNSSEC_ROLL_PUBLISH);
        assert_step_at(&r, T0 + 3600 + 300, DNSSEC_ROLL_ADVANCE, DNSSEC_ROLL_ACTIVE);
    }
    /* ZSK ACTIVE: Iret = Dprp + TTLsig. */
    struct dnssec_roll zsk = rollover(DNSSEC_ROLL_ZSK, DNSSEC_ROLL_ACTIVE);
    assert_step_at(&zsk, T0 + 3600 + 86400, DNSSEC_ROLL_ADVANCE, DNSSEC_ROLL_DONE);

    /* KSK ACTIVE: nothing happens without the operator's ds-seen, however long. */
    struct dnssec_roll ksk = rollover(DNSSEC_ROLL_KSK, DNSSEC_ROLL_ACTIVE), next;
    time_t when;
    assert_int_equal(dnssec_roll_step(&ksk, &timing, T0 + 365 * 86400, &next, &when),
                     DNSSEC_ROLL_WAIT);
    assert_int_equal(when, 0);
    /* Then DprpP + TTLds after it. */
    ksk.ds_seen = T0 + 1000;
    assert_step_at(&ksk, T0 + 1000 + 7200 + 86400, DNSSEC_ROLL_ADVANCE, DNSSEC_ROLL_DONE);
    /* A ds-seen before the phase was published counts from the publication. */
    ksk.ds_seen = T0 - 500;
    assert_step_at(&ksk, T0 + 7200 + 86400, DNSSEC_ROLL_ADVANCE, DNSSEC_ROLL_DONE);

    /* CSK ACTIVE: the later of the two waits. */
    struct dnssec_roll csk = rollover(DNSSEC_ROLL_CSK, DNSSEC_ROLL_ACTIVE);
    csk.ds_seen = T0 + 10;
    assert_step_at(&csk, T0 + 10 + 7200 + 86400, DNSSEC_ROLL_ADVANCE, DNSSEC_ROLL_DONE);
    csk.ds_seen = T0;
    struct dnssec_roll_timing short_parent = timing;
    short_parent.parent_ds_ttl_s = 60;
    assert_int_equal(dnssec_roll_step(&csk, &short_parent, T0 + 3600 + 86400 - 1, &next, &when),
                     DNSSEC_ROLL_WAIT);
    assert_int_equal(when, T0 + 3600 + 86400); /* the zone's Iret is the later one */

    /* DONE, published: finish at once, back to NONE with the end time. */
    struct dnssec_roll done = rollover(DNSSEC_ROLL_CSK, DNSSEC_ROLL_DONE);
    assert_int_equal(dnssec_roll_step(&done, &timing, T0 + 5, &next, &when), DNSSEC_ROLL_FINISH);
    assert_int_equal(next.phase, DNSSEC_ROLL_NONE);
    assert_int_equal(next.finished, T0 + 5);
    assert_int_equal(next.new_tag, 2222); /* the record of the last rollover stays */
}

/* A phase not published yet waits whatever the clock, and the TTLs seen during the rollover
 * count when the zone's are lower now. */
static void
test_step_unpublished_and_ttls(void **state)
{
    (void)state;
    struct dnssec_roll r = rollover(DNSSEC_ROLL_ZSK, DNSSEC_ROLL_PUBLISH), next;
    time_t when;
    r.since = 0;
    assert_int_equal(dnssec_roll_step(&r, &timing, T0 + 365 * 86400, &next, &when),
                     DNSSEC_ROLL_WAIT);
    assert_int_equal(when, 0);
    r.since = T0;
    r.ttl_key = 7200; /* the DNSKEY TTL was 2h when the rollover began */
    assert_step_at(&r, T0 + 3600 + 7200, DNSSEC_ROLL_ADVANCE, DNSSEC_ROLL_ACTIVE);
    assert_int_equal(dnssec_roll_step(&r, &timing, T0 + 3600 + 7200, &next, &when),
                     DNSSEC_ROLL_ADVANCE);
    assert_int_equal(next.ttl_key, 7200);
    assert_int_equal(next.ttl_sig, 86400);
}

static void
test_published(void **state)
{
    (void)state;
    struct dnssec_roll cur = rollover(DNSSEC_ROLL_CSK, DNSSEC_ROLL_ACTIVE), next;
    cur.since = 0;
    /* The snapshot was signed in phase PUBLISH: ACTIVE is not published yet. */
    struct dnssec_roll applied = rollover(DNSSEC_ROLL_CSK, DNSSEC_ROLL_PUBLISH);
    assert_true(dnssec_roll_published(&cur, &applied, 300, 600, T0 + 50, &next));
    assert_int_equal(next.since, 0);
    assert_int_equal(next.ttl_key, 300); /* the TTLs served count all the same */
    /* Signed in ACTIVE: it counts from now. */
    applied.phase = DNSSEC_ROLL_ACTIVE;
    assert_true(dnssec_roll_published(&cur, &applied, 300, 600, T0 + 60, &next));
    assert_int_equal(next.since, T0 + 60);
    /* Published again later: the first publication stays. */
    cur = next;
    assert_false(dnssec_roll_published(&cur, &applied, 300, 600, T0 + 90, &next));
    assert_int_equal(next.since, T0 + 60);
    /* Another rollover (a different new key) is not this one. */
    cur.since = 0;
    applied.new_tag = 4444;
    assert_false(dnssec_roll_published(&cur, &applied, 300, 600, T0 + 90, &next));
    struct dnssec_roll none = {0};
    assert_false(dnssec_roll_published(&none, &none, 300, 600, T0, &next));
}

/* A whole rollover as the server runs it: step at each time it names, publish, stamp. Returns
 * the time each phase was published (phase_at[phase]) and when it finished. */
static time_t
drive(struct dnssec_roll r, time_t ds_seen_after, time_t phase_at[4])
{
    time_t now = r.started;
    memset(phase_at, 0, 4 * sizeof(*phase_at));
    for (int round = 0; round < 20; round++) {
        struct dnssec_roll next, applied;
        time_t when;
        /* The reload publishes the zone signed in the current phase. */
        applied = r;
        assert_true(
            dnssec_roll_published(&r, &applied, timing.ttl_key, timing.ttl_sig, now, &next) ||
            r.since != 0);
        r = next;
        if (!phase_at[r.phase])
            phase_at[r.phase] = r.since;
        if (r.phase == DNSSEC_ROLL_ACTIVE && r.kind != DNSSEC_ROLL_ZSK && !r.ds_seen)
            r.ds_seen = r.since + ds_seen_after;
        enum dnssec_roll_action a = dnssec_roll_step(&r, &timing, now, &next, &when);
        if (a == DNSSEC_ROLL_FINISH)
            return next.finished;
        if (a == DNSSEC_ROLL_WAIT) {
            assert_true(when > now);
            now = when;
            continue;
        }
        r = next;
    }
    fail_msg("the rollover did not finish in 20 rounds");
    return 0;
}

static void
test_whole_rollovers(void **state)
{
    time_t at[4];
    (void)state;
    struct dnssec_roll r = rollover(DNSSEC_ROLL_ZSK, DNSSEC_ROLL_PUBLISH);
    r.since = 0;
    assert_int_equal(drive(r, 0, at), T0 + 3900 + 90000);
    assert_int_equal(at[DNSSEC_ROLL_PUBLISH], T0);
    assert_int_equal(at[DNSSEC_ROLL_ACTIVE], T0 + 3900);
    assert_int_equal(at[DNSSEC_ROLL_DONE], T0 + 3900 + 90000);

    r.kind = DNSSEC_ROLL_KSK; /* the parent's DS changes an hour into ACTIVE */
    assert_int_equal(drive(r, 3600, at), T0 + 3900 + 3600 + 93600);
    assert_int_equal(at[DNSSEC_ROLL_ACTIVE], T0 + 3900);

    r.kind = DNSSEC_ROLL_CSK; /* the zone's Iret (1d 1h) ends before the DS wait (1d 3h) */
    assert_int_equal(drive(r, 0, at), T0 + 3900 + 93600);
}

static void
test_text_round_trip(void **state)
{
    uint8_t origin[DNAME_MAX_LEN];
    char text[DNSSEC_ROLL_TEXT_MAX], err[DNSSEC_ERR_MAX];
    struct dnssec_roll r = rollover(DNSSEC_ROLL_KSK, DNSSEC_ROLL_ACTIVE), back;
    (void)state;
    r.ds_seen = T0 + 61;
    r.ttl_key = 300;
    r.ttl_sig = 86400;
    dnssec_roll_format(&r, t_name("example.com.", origin), text);
    if (!strstr(text, "\nphase: active\nkind: ksk\nalgorithm: 13\nold: 1111\nnew: 2222\n"
                      "started: 2027-01-15T08:00:00Z\nsince: 2027-01-15T08:00:00Z\n"
                      "ds_seen: 2027-01-15T08:01:01Z\nfinished: 0\nttl_key: 300\n"
                      "ttl_sig: 86400\n"))
        fail_msg("state text:\n%s", text);
    assert_int_equal(dnssec_roll_parse(text, "K.state", &back, err), 0);
    assert_memory_equal(&back, &r, sizeof(r));
}

static void
test_text_errors(void **state)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"phase: active\nkind: csk\nalgorithm: 13\nold: 1\nnew: 1\n",
         "f: a rollover needs an algorithm of ours and two different key tags (old, new)"},
        {"phase: publish\nkind: csk\nalgorithm: 8\nold: 1\nnew: 2\n",
         "f: a rollover needs an algorithm of ours and two different key tags (old, new)"},
        {"# comment\nphase: sideways\n", "f:2: bad phase 'sideways'"},
        {"colour: blue\n", "f:1: unknown key 'colour'"},
        {"old: 70000\n", "f:1: bad old '70000'"},
        {"since: yesterday\n", "f:1: bad since 'yesterday'"},
        {"kind: psk\n", "f:1: bad kind 'psk'"},
        {"phase none\n", "f:1: expected \"key: value\""},
    };
    struct dnssec_roll r;
    char err[DNSSEC_ERR_MAX];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(dnssec_roll_parse(cases[i].text, "f", &r, err), -1);
        assert_string_equal(err, cases[i].err);
    }
    /* An empty file, and the record of a finished rollover, are no rollover. */
    assert_int_equal(dnssec_roll_parse("", "f", &r, err), 0);
    assert_int_equal(r.phase, DNSSEC_ROLL_NONE);
    assert_int_equal(dnssec_roll_parse("phase: none\nold: 5\nnew: 5\n", "f", &r, err), 0);
}

/* ----- files ----- */

static char tmpdir[] = "/tmp/meridian-roll-XXXXXX";

static int
setup_dir(void **state)
{
    (void)state;
    strcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown_dir(void **state)
{
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

/* Whether <tmpdir>/<sub>Kexample.com.+013+<tag><suffix> exists. */
static bool
exists(const char *sub, unsigned tag, const char *suffix)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%sKexample.com.+013+%05u%s", tmpdir, sub, tag, suffix);
    return stat(path, &st) == 0;
}

static void
test_files_csk(void **state)
{
    uint8_t origin[DNAME_MAX_LEN];
    char err[DNSSEC_ERR_MAX];
    struct dnssec_keyset set;
    struct dnssec_roll r, loaded;
    (void)state;
    t_name("example.com.", origin);
    /* No state file: no rollover. */
    assert_int_equal(dnssec_roll_load(tmpdir, origin, &loaded, err), 0);
    assert_int_equal(loaded.phase, DNSSEC_ROLL_NONE);
    /* The layout decides the kind. */
    assert_int_equal(dnssec_roll_start(tmpdir, origin, 13, false, DNSSEC_ROLL_KSK, T0, &r, err),
                     -1);
    assert_string_equal(err, "the zone's keys are one CSK (keys: csk): roll csk");
    assert_int_equal(dnssec_roll_start(tmpdir, origin, 13, false, DNSSEC_ROLL_CSK, T0, &r, err), 0);
    assert_int_equal(r.phase, DNSSEC_ROLL_PUBLISH);
    assert_int_equal(r.since, 0);
    assert_int_not_equal(r.old_tag, r.new_tag);
    assert_true(exists("", r.old_tag, ".key"));
    assert_true(exists("", r.new_tag, ".private"));
    assert_int_equal(dnssec_roll_load(tmpdir, origin, &loaded, err), 0);
    assert_memory_equal(&loaded, &r, sizeof(r));
    /* The key store now yields both keys and generates nothing more. */
    assert_int_equal(dnssec_keystore_load(tmpdir, origin, 13, false, &set, err), 0);
    assert_int_equal(set.count, 2);
    assert_true(dnssec_roll_keys_present(&r, &set));
    dnssec_keyset_fini(&set);
    /* One at a time; ds-seen only in phase active. */
    assert_int_equal(dnssec_roll_start(tmpdir, origin, 13, false, DNSSEC_ROLL_CSK, T0, &r, err),
                     -1);
    if (!strstr(err, "a csk rollover is under way (phase publish"))
        fail_msg("%s", err);
    assert_int_equal(dnssec_roll_ds_seen(tmpdir, origin, T0 + 5, &loaded, err), -1);
    if (!strstr(err, "phase publish: the parent's DS may change only in phase active"))
        fail_msg("%s", err);
    loaded.phase = DNSSEC_ROLL_ACTIVE;
    loaded.since = T0 + 10;
    assert_int_equal(dnssec_roll_save(tmpdir, origin, &loaded, err), 0);
    assert_int_equal(dnssec_roll_ds_seen(tmpdir, origin, T0 + 20, &loaded, err), 0);
    assert_int_equal(dnssec_roll_load(tmpdir, origin, &loaded, err), 0);
    assert_int_equal(loaded.ds_seen, T0 + 20);
    /* Retiring moves the old key away; the store then has the new key only. */
    assert_int_equal(dnssec_roll_retire(tmpdir, origin, &loaded, err), 0);
    assert_false(exists("", r.old_tag, ".key"));
    assert_true(exists("retired/", r.old_tag, ".key"));
    assert_true(exists("retired/", r.old_tag, ".private"));
    assert_int_equal(dnssec_roll_retire(tmpdir, origin, &loaded, err), 0); /* again: no error */
    assert_int_equal(dnssec_keystore_load(tmpdir, origin, 13, false, &set, err), 0);
    assert_int_equal(set.count, 1);
    assert_int_equal(set.keys[0]->tag, r.new_tag);
    dnssec_keyset_fini(&set);
}

static void
test_files_split(void **state)
{
    uint8_t origin[DNAME_MAX_LEN];
    char err[DNSSEC_ERR_MAX];
    struct dnssec_keyset set;
    struct dnssec_roll r;
    (void)state;
    t_name("split.example.", origin);
    assert_int_equal(dnssec_roll_start(tmpdir, origin, 15, true, DNSSEC_ROLL_CSK, T0, &r, err), -1);
    assert_string_equal(err,
                        "the zone's keys are a KSK and a ZSK (keys: ksk-zsk): roll ksk or zsk");
    assert_int_equal(dnssec_roll_start(tmpdir, origin, 15, true, DNSSEC_ROLL_ZSK, T0, &r, err), 0);
    assert_int_equal(dnssec_keystore_load(tmpdir, origin, 15, true, &set, err), 0);
    assert_int_equal(set.count, 3);
    for (size_t i = 0; i < set.count; i++) {
        const struct dnssec_key *k = set.keys[i];
        if (k->tag == r.old_tag || k->tag == r.new_tag)
            assert_false(dnssec_key_is_sep(k)); /* a ZSK rollover makes a ZSK */
    }
    dnssec_keyset_fini(&set);
    /* ds-seen has no place in a ZSK rollover. */
    assert_int_equal(dnssec_roll_ds_seen(tmpdir, origin, T0, &r, err), -1);
    assert_string_equal(err, "no KSK or CSK rollover is under way");
    /* A state naming a key the directory lacks is void: a new rollover may start. */
    r.new_tag = (uint16_t)(r.new_tag + 1);
    assert_int_equal(dnssec_roll_save(tmpdir, origin, &r, err), 0);
    assert_int_equal(dnssec_roll_start(tmpdir, origin, 15, true, DNSSEC_ROLL_KSK, T0, &r, err), 0);
    assert_int_equal(r.kind, DNSSEC_ROLL_KSK);
    /* Two ZSKs now (the first rollover's new key never left): a ZSK rollover cannot tell
     * which to replace. */
    struct dnssec_roll none = {.phase = DNSSEC_ROLL_NONE};
    assert_int_equal(dnssec_roll_save(tmpdir, origin, &none, err), 0);
    assert_int_equal(dnssec_roll_start(tmpdir, origin, 15, true, DNSSEC_ROLL_ZSK, T0, &r, err), -1);
    assert_string_equal(err, "the zone has 2 zone-signing keys of algorithm 15; a rollover "
                             "replaces exactly one");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_roles),
        cmocka_unit_test(test_rollover_roles),
        cmocka_unit_test(test_step_waits),
        cmocka_unit_test(test_step_unpublished_and_ttls),
        cmocka_unit_test(test_published),
        cmocka_unit_test(test_whole_rollovers),
        cmocka_unit_test(test_text_round_trip),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test_setup_teardown(test_files_csk, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_files_split, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
