// SPDX-License-Identifier: MIT
/* Unit tests for meridiand's DNSSEC upkeep (src/server/lifecycle.c server_upkeep,
 * dnssec_ops.c) on an injected clock (snapshot_set_clock): the timer asks to be woken exactly
 * when signatures fall due, re-signs then through the reload path (the RRSIGs' inception and
 * expiration move, nothing before), keeps the old snapshot when that reload fails (counted,
 * ALARM in status, retried after the interval), and drives ZSK and KSK rollovers from
 * `meridianctl dnssec roll` to the old key's retirement at the times RFC 7583 gives,
 * waiting for `ds-seen` as long as it takes. Also `dnssec ds`'s replies. The server is not
 * started (no sockets, no workers): snapshots are loaded and published as server_start does,
 * and reloads run on this thread as on the main thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_tmpdir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <urcu.h>

#include "common/dnswire.h"
#include "dnssec/dnssec_report.h"
#include "server/control.h"
#include "server/dnssec_ops.h"
#include "server/lifecycle.h"
#include "server/snapshot.h"

#define T0 1800000000 /* 2027-01-15T08:00:00Z */

static char tmpdir[] = "/tmp/meridian-test-upkeep-XXXXXX";
static char config_path[PATH_MAX];
static time_t fake_now;
static struct server srv;
static char *reply;

static time_t
fake_clock(void)
{
    return fake_now;
}

static void
write_file(const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static const char zone_text[] =
    "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 h 1 7200 3600 1209600 300\n"
    "@ NS ns1\nns1 A 192.0.2.1\nwww 3600 A 192.0.2.80\n";

/* A config with example.com signed as `dnssec` says, loaded and published at T0. */
static int
start(const char *dnssec)
{
    char yaml[1024], err[CONFIG_ERR_MAX];
    struct snapshot *snap;
    strcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(yaml, sizeof(yaml),
             "zones: [ { origin: example.com, file: example.com.zone, dnssec: %s },\n"
             "         { origin: example.net, file: example.net.zone } ]\n",
             dnssec);
    write_file("meridian.yaml", yaml);
    write_file("example.com.zone", zone_text);
    write_file("example.net.zone", "$ORIGIN example.net.\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n"
                                   "ns1 A 192.0.2.1\n");
    snprintf(config_path, sizeof(config_path), "%s/meridian.yaml", tmpdir);
    fake_now = T0;
    snapshot_set_clock(fake_clock);
    if (snapshot_load(config_path, &snap, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    rcu_register_thread();
    (void)snapshot_publish(snap);
    srv = (struct server){.path = config_path, .upkeep_interval_s = 60};
    dnssec_ops_published(snap, fake_now);
    return 0;
}

static int
setup_resign(void **state)
{
    (void)state;
    return start("{ validity: 1h, refresh: 3590s }");
}

static int
setup_split(void **state)
{
    (void)state;
    return start("{ keys: ksk-zsk, propagation_delay: 10s, parent_propagation_delay: 20s, "
                 "parent_ds_ttl: 30s }");
}

static int
teardown(void **state)
{
    (void)state;
    health_monitor_stop(srv.monitor); /* a reload starts one, as in meridiand */
    synchronize_rcu();
    snapshot_free(snapshot_publish(NULL));
    rcu_unregister_thread();
    snapshot_set_clock(NULL);
    free(reply);
    reply = NULL;
    return test_tmpdir_remove(tmpdir);
}

static struct snapshot *
current(void)
{
    return snapshot_current_get(); /* this thread is the only publisher */
}

/* The reply to one command line. */
static const char *
run(const char *command, uint64_t *op)
{
    char line[256];
    size_t len = 0;
    uint64_t ignored;
    snprintf(line, sizeof(line), "%s", command);
    free(reply);
    reply = NULL;
    FILE *out = open_memstream(&reply, &len);
    rcu_read_lock();
    control_execute_op(NULL, line, out, op ? op : &ignored);
    rcu_read_unlock();
    assert_int_equal(fclose(out), 0);
    return reply;
}

/* The inception and expiration of www.example.com A's RRSIG in the current snapshot. */
static void
www_rrsig(uint32_t *inception, uint32_t *expiration)
{
    uint8_t name[DNAME_MAX_LEN];
    assert_true(dname_from_text("www.example.com.", name) > 0);
    const struct zone *z = zone_set_find(current()->zones, name);
    const struct zone_node *node = zone_lookup(z, name, dname_wire_length(name, DNAME_MAX_LEN));
    const struct zone_rrset *a = zone_node_rrset(node, DNS_TYPE_A);
    assert_non_null(a->rrsig);
    *expiration = dnswire_get32(a->rrsig->rdata + 2 + 8);
    *inception = dnswire_get32(a->rrsig->rdata + 2 + 12);
}

static void
test_resign(void **state)
{
    uint32_t inc0, exp0, inc, exp;
    (void)state;
    struct snapshot *first = current();
    www_rrsig(&inc0, &exp0);
    assert_int_equal(inc0, T0 - 3600);
    uint32_t earliest = first->signed_zones[0]->earliest_expiration;
    time_t due = (time_t)earliest - 3590;
    assert_true(due >= T0 + 8 && due <= T0 + 10);
    /* The timer asks to be woken at the due time, and does nothing before. */
    assert_int_equal(server_upkeep(&srv), due);
    fake_now = due - 1;
    assert_int_equal(server_upkeep(&srv), due);
    assert_ptr_equal(current(), first);
    /* At the due time: re-signed, through a reload; the RRSIG moved. */
    fake_now = due;
    assert_int_equal(server_upkeep(&srv), due + 1);
    assert_ptr_not_equal(current(), first);
    www_rrsig(&inc, &exp);
    assert_int_equal(inc, due - 3600);
    assert_true(exp >= due + 3598 && exp > exp0);
    const char *r = run("status", NULL);
    if (!strstr(r, "\ndnssec upkeep: 1 reloads to re-sign or roll keys, 0 failed\n") ||
        strstr(r, "ALARM"))
        fail_msg("status:\n%s", r);

    /* With a 5 s interval and nothing due sooner, it looks again in 5 s. */
    srv.upkeep_interval_s = 5;
    fake_now = due + 1;
    assert_int_equal(server_upkeep(&srv), due + 6);
    srv.upkeep_interval_s = 60;

    /* A reload that fails keeps the zone served, is counted, and is retried a minute
     * later; meanwhile status raises the ALARM. */
    write_file("example.com.zone", "$ORIGIN example.com.\n@ SOA broken\n");
    struct snapshot *second = current();
    due = (time_t)second->signed_zones[0]->earliest_expiration - 3590;
    fake_now = due;
    assert_int_equal(server_upkeep(&srv), due + 60);
    assert_ptr_equal(current(), second);
    fake_now = due + 1;
    assert_int_equal(server_upkeep(&srv), due + 60); /* no retry yet */
    r = run("status", NULL);
    if (!strstr(r, "\ndnssec upkeep: 2 reloads to re-sign or roll keys, 1 failed; last: ") ||
        !strstr(r, "\nALARM: dnssec: example.com. a signature expires ") ||
        !strstr(r, "less than refresh (59m 50s) away: re-signing is failing\n"))
        fail_msg("status:\n%s", r);
    write_file("example.com.zone", zone_text);
    fake_now = due + 60;
    assert_int_equal(server_upkeep(&srv), due + 61);
    assert_ptr_not_equal(current(), second);
    www_rrsig(&inc, &exp);
    assert_int_equal(inc, due + 60 - 3600);
    assert_null(strstr(run("status", NULL), "ALARM"));
}

/* The DNSKEY RRset of the current snapshot: does it hold key `tag`? */
static bool
published(uint16_t tag)
{
    const struct dnssec_zone *dz = current()->signed_zones[0];
    for (size_t i = 0; i < dz->keys.count; i++)
        if (dz->keys.keys[i]->tag == tag)
            return dz->roles[i] & DNSSEC_ROLE_PUBLISH;
    return false;
}

static struct dnssec_roll
state_now(void)
{
    struct dnssec_roll r;
    char err[DNSSEC_ERR_MAX];
    const struct dnssec_zone *dz = current()->signed_zones[0];
    assert_int_equal(
        dnssec_roll_load(current()->cfg->zones[0].dnssec.key_directory, dz->origin, &r, err), 0);
    return r;
}

/* A parked command as the control thread runs it: queued, then the reload, then the reply's
 * first part. */
static const char *
parked(const char *command)
{
    static char text[DNSSEC_OPS_TEXT_MAX];
    uint64_t op = 0;
    bool ok;
    run(command, &op);
    if (op == 0)
        fail_msg("%s: not parked: %s", command, reply);
    assert_true(server_reload(&srv));
    assert_true(dnssec_ops_result(op, &ok, text));
    return text;
}

/* Runs the timer, the clock jumping to each time it names, until the rollover reaches
 * `phase` published (or NONE); returns the time that happened. */
static time_t
until(enum dnssec_roll_phase phase)
{
    for (int i = 0; i < 200; i++) {
        struct dnssec_roll r = state_now();
        if (r.phase == phase && (r.since || phase == DNSSEC_ROLL_NONE))
            return phase == DNSSEC_ROLL_NONE ? r.finished : r.since;
        fake_now = server_upkeep(&srv);
    }
    fail_msg("phase %s not reached in 200 rounds", dnssec_roll_phase_name(phase));
    return 0;
}

static void
test_split_rollovers(void **state)
{
    char path[PATH_MAX];
    struct stat st;
    (void)state;
    assert_string_equal(run("dnssec roll example.com", NULL),
                        "error: dnssec roll: example.com has a KSK and a ZSK: say which (dnssec "
                        "roll example.com ksk|zsk)\n");
    assert_string_equal(parked("dnssec roll example.com csk"),
                        "example.com.: the zone's keys are a KSK and a ZSK (keys: ksk-zsk): roll "
                        "ksk or zsk");
    /* ZSK pre-publication: TTLkey 300 (the SOA's), TTLsig 3600 (www), Dprp 10 s. */
    const char *text = parked("dnssec roll example.com zsk");
    if (!strstr(text, "example.com. zsk rollover started: key "))
        fail_msg("%s", text);
    struct dnssec_roll r = state_now();
    assert_int_equal(r.since, T0); /* published by that reload, at once */
    assert_true(published(r.old_tag) && published(r.new_tag));
    assert_int_equal(until(DNSSEC_ROLL_ACTIVE), T0 + 10 + 300);
    assert_true(published(r.old_tag) && published(r.new_tag));
    time_t done = until(DNSSEC_ROLL_DONE);
    assert_int_equal(done, T0 + 310 + 10 + 3600);
    assert_false(published(r.old_tag));
    /* The old key's files go at the timer's next look, a second after that reload. */
    assert_int_equal(until(DNSSEC_ROLL_NONE), done + 1);
    /* `keys` beside the config, the default key directory. */
    snprintf(path, sizeof(path), "%s/keys/retired/Kexample.com.+013+%05u.key", tmpdir, r.old_tag);
    assert_int_equal(stat(path, &st), 0);

    /* KSK double-KSK: ds-seen is refused before phase active, then nothing moves without
     * it, then DprpP + TTLds (50 s) after it. */
    text = parked("dnssec roll example.com ksk");
    r = state_now();
    assert_int_equal(r.kind, DNSSEC_ROLL_KSK);
    text = parked("dnssec ds-seen example.com");
    if (!strstr(text, "phase publish: the parent's DS may change only in phase active"))
        fail_msg("%s", text);
    time_t active = until(DNSSEC_ROLL_ACTIVE);
    assert_int_equal(active, r.since + 310);
    for (int i = 0; i < 5; i++)
        fake_now = server_upkeep(&srv); /* a minute each: nothing is due */
    assert_int_equal(state_now().phase, DNSSEC_ROLL_ACTIVE);
    assert_true(fake_now >= active + 300);
    const char *status = run("status", NULL);
    if (!strstr(status, "; waiting for `meridianctl dnssec ds-seen example.com.` once the "
                        "parent's DS names key "))
        fail_msg("%s", status);
    time_t seen = fake_now;
    text = parked("dnssec ds-seen example.com.");
    if (!strstr(text, "the parent's DS for key "))
        fail_msg("%s", text);
    assert_int_equal(until(DNSSEC_ROLL_DONE), seen + 50);
    assert_false(published(r.old_tag));
    until(DNSSEC_ROLL_NONE);
    text = parked("dnssec ds-seen example.com");
    assert_string_equal(text, "example.com.: no KSK or CSK rollover is under way");
}

static void
test_ds_command(void **state)
{
    char *want = NULL;
    size_t len = 0;
    (void)state;
    FILE *f = open_memstream(&want, &len);
    assert_int_equal(dnssec_report_ds(current()->signed_zones[0], DNSSEC_REPORT_SHA256, f), 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(strncmp(want, "example.com. 300 IN DS ", 23), 0);
    const char *r = run("dnssec ds EXAMPLE.com.", NULL);
    assert_int_equal(strncmp(r, "ok\n", 3), 0);
    assert_string_equal(r + 3, want);
    free(want);
    assert_string_equal(run("dnssec ds example.org", NULL),
                        "error: dnssec ds: no zone example.org is configured\n");
    assert_string_equal(run("dnssec ds example.com sha1", NULL),
                        "error: dnssec ds: 'sha1' is not one of sha256|sha384|all\n");
    assert_string_equal(run("dnssec", NULL),
                        "error: dnssec needs a subcommand: dnssec ds ZONE [sha256|sha384|all] | "
                        "dnssec roll ZONE [csk|ksk|zsk] | dnssec ds-seen ZONE\n");
    assert_string_equal(run("dnssec ds-seen", NULL),
                        "error: dnssec ds-seen needs a zone: dnssec ds ZONE [sha256|sha384|all] | "
                        "dnssec roll ZONE [csk|ksk|zsk] | dnssec ds-seen ZONE\n");
    assert_string_equal(run("dnssec roll example.org", NULL),
                        "error: dnssec roll: no zone example.org is configured\n");
    assert_string_equal(run("dnssec ds example.net", NULL),
                        "error: dnssec ds: zone example.net is not signed (no `dnssec:` in its "
                        "entry)\n");
    assert_string_equal(run("dnssec ds-seen example.net", NULL),
                        "error: dnssec ds-seen: zone example.net is not signed (no `dnssec:` in "
                        "its entry)\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resign, setup_resign, teardown),
        cmocka_unit_test_setup_teardown(test_split_rollovers, setup_split, teardown),
        cmocka_unit_test_setup_teardown(test_ds_command, setup_split, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
