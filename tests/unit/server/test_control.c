// SPDX-License-Identifier: MIT
/* Unit tests for the control protocol (src/server/control.c, control_parse.c): command lines
 * run through control_execute() against a snapshot loaded from a config in a private temp
 * directory and published as the server publishes it, without a health monitor (so the
 * commands that need one must say so). Every reply is compared whole. Single-threaded
 * apart from the RCU library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_tmpdir.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "server/control.h"
#include "server/control_parse.h"
#include "server/snapshot.h"

static char tmpdir[] = "/tmp/meridian-test-control-XXXXXX";
static char *reply;
static volatile sig_atomic_t hups;

static void
on_hup(int sig)
{
    (void)sig;
    hups++;
}

static int
write_file(const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int
setup(void **state)
{
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    char yaml[PATH_MAX + 512], path[PATH_MAX], err[CONFIG_ERR_MAX];
    struct snapshot *snap;

    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(yaml, sizeof(yaml),
             "geoip: { database: \"%s/geoip/sample.mmdb\" }\n"
             "zones: [ { origin: example.com, file: example.com.zone } ]\n"
             "services:\n"
             "  geo.example.com:\n"
             "    pools:\n"
             "      eu: { members: [ {address: 192.0.2.10} ] }\n"
             "      us: { members: [ {address: 198.51.100.10} ] }\n"
             "    geo: { country: { DE: [eu] }, default: [us] }\n",
             src ? src : ".");
    if (write_file("meridian.yaml", yaml) < 0 ||
        write_file("example.com.zone", "$ORIGIN example.com.\n$TTL 300\n"
                                       "@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n") < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/meridian.yaml", tmpdir);
    if (snapshot_load(path, &snap, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    rcu_register_thread();
    (void)snapshot_publish(snap);
    signal(SIGHUP, on_hup);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    snapshot_free(snapshot_publish(NULL));
    rcu_unregister_thread();
    free(reply);
    return test_tmpdir_remove(tmpdir);
}

/* The reply to one command line, as text. */
static const char *
run(const char *command)
{
    char line[1024];
    size_t len = 0;
    snprintf(line, sizeof(line), "%s", command);
    free(reply);
    reply = NULL;
    FILE *out = open_memstream(&reply, &len);
    assert_non_null(out);
    control_execute(NULL, line, out);
    assert_int_equal(fclose(out), 0);
    return reply;
}

static void
assert_prefix(const char *text, const char *prefix)
{
    if (strncmp(text, prefix, strlen(prefix)) != 0)
        fail_msg("reply does not start with \"%s\":\n%s", prefix, text);
}

static const char unknown[] =
    "error: unknown command; try: status | states | drain SEL | undrain SEL | force up|down SEL "
    "| explain CLIENT QNAME QTYPE | reload\n";

static void
test_parse_errors(void **state)
{
    (void)state;
    assert_string_equal(run(""), "error: empty command\n");
    assert_string_equal(run(" \t\r\n"), "error: empty command\n");
    assert_string_equal(run("bogus"), unknown);
    assert_string_equal(run("status now"), unknown); /* word counts are exact */
    assert_string_equal(run("drain"), unknown);      /* a selector is required */
    assert_string_equal(run("force sideways all"), unknown);
    assert_string_equal(run("explain 10.2.0.1 geo.example.com"), unknown);
    assert_string_equal(run("STATUS"), unknown); /* commands are lowercase */
}

static void
test_parse_words(void **state)
{
    char line[] = "  force\tdown pool  geo.example.com eu\r\n";
    struct control_command cmd;
    const char *error;

    (void)state;
    assert_int_equal(control_parse(line, &cmd, &error), 0);
    assert_int_equal(cmd.op, CONTROL_FORCE);
    assert_int_equal(cmd.force, HEALTH_FORCE_DOWN);
    assert_int_equal(cmd.arg_count, 3);
    assert_string_equal(cmd.args[0], "pool");
    assert_string_equal(cmd.args[1], "geo.example.com");
    assert_string_equal(cmd.args[2], "eu");

    /* Words past the eighth are not read. */
    char many[] = "drain a b c d e f g h i";
    assert_int_equal(control_parse(many, &cmd, &error), 0);
    assert_int_equal(cmd.arg_count, CONTROL_MAX_WORDS - 1);
    assert_string_equal(cmd.args[6], "g");
}

static void
test_status(void **state)
{
    (void)state;
    const char *r = run("status");
    assert_prefix(r, "ok\nsite: active\nzones: 1\nrecords: 3\nloaded: ");
    if (!strstr(r, "\nlast_reload: none\nhealth: 0 up, 0 down, 0 unknown\ngeoip: "))
        fail_msg("status:\n%s", r);
}

static void
test_site_drain(void **state)
{
    (void)state;
    assert_string_equal(run("drain site"), "ok\nsite drained\n");
    assert_true(control_site_drained());
    assert_prefix(run("status"), "ok\nsite: drained\n");
    assert_string_equal(run("force up site"),
                        "error: a site can be drained or undrained, not forced up\n");
    assert_string_equal(run("undrain site"), "ok\nsite undrained\n");
    assert_false(control_site_drained());
}

/* Without a health monitor, member commands refuse rather than pretend. */
static void
test_no_monitor(void **state)
{
    (void)state;
    assert_string_equal(run("states"), "error: health monitoring is not running\n");
    assert_string_equal(run("drain all"), "error: health monitoring is not running\n");
    assert_string_equal(run("force down member 192.0.2.10"),
                        "error: health monitoring is not running\n");
}

static void
test_explain(void **state)
{
    (void)state;
    const char *r = run("explain 10.2.0.0/24 geo.example.com A");
    assert_prefix(r, "ok\nquery: geo.example.com A from 10.2.0.0/24 (as an ECS prefix)\n");
    if (!strstr(r, "\n  geo.example.com. 30 A 192.0.2.10\n") || !strstr(r, "ecs: source /24"))
        fail_msg("explain:\n%s", r);
    r = run("explain 127.0.0.1 ns1.example.com A");
    assert_prefix(r, "ok\nquery: ns1.example.com A from 127.0.0.1 (as the source address)\n"
                     "no steering policy at this name: static zone data answers\n");
}

/* Arguments that do not parse are an error reply, not "ok" with nothing after it. */
static void
test_explain_bad_arguments(void **state)
{
    static const char usage[] = "error: usage: explain CLIENT[/PREFIX] QNAME QTYPE\n";

    (void)state;
    assert_string_equal(run("explain bogus geo.example.com A"), usage);
    assert_string_equal(run("explain 10.2.0.0/33 geo.example.com A"), usage);
    assert_string_equal(run("explain 10.2.0.1 geo.example.com NOTATYPE"), usage);
    assert_string_equal(run("explain 10.2.0.1 a..b A"), usage);
}

static void
test_reload(void **state)
{
    (void)state;
    int before = hups;
    assert_string_equal(run("reload"), "ok\nreload requested (see `status` for its result)\n");
    assert_int_equal(hups, before + 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_words),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_site_drain),
        cmocka_unit_test(test_no_monitor),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_explain_bad_arguments),
        cmocka_unit_test(test_reload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
