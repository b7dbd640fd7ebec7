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
#include "server/metrics.h"
#include "server/snapshot.h"
#include "rrl/rrl.h"

#include <netinet/in.h>

static char tmpdir[] = "/tmp/meridian-test-control-XXXXXX";
static char *reply;

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
             "zones:\n"
             "  - origin: example.com\n"
             "    file: example.com.zone\n"
             "    transfer: { allow: [\"127.0.0.0/8\", \"::1\"], keys: [k] }\n"
             "    notify: [\"127.0.0.1:5399\", { address: \"127.0.0.1:5398\", key: k }]\n"
             "  - { origin: other.example, file: other.zone }\n"
             "tsig_keys:\n"
             "  k: { algorithm: hmac-sha256, secret: \"c2VjcmV0\" }\n"
             "services:\n"
             "  geo.example.com:\n"
             "    pools:\n"
             "      eu: { members: [ {address: 192.0.2.10} ] }\n"
             "      us: { members: [ {address: 198.51.100.10} ] }\n"
             "    geo: { country: { DE: [eu] }, default: [us] }\n",
             src ? src : ".");
    if (write_file("meridian.yaml", yaml) < 0 ||
        write_file("example.com.zone", "$ORIGIN example.com.\n$TTL 300\n"
                                       "@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n") < 0 ||
        write_file("other.zone", "$ORIGIN other.example.\n$TTL 300\n"
                                 "@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n") < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/meridian.yaml", tmpdir);
    if (snapshot_load(path, &snap, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    rcu_register_thread();
    (void)snapshot_publish(snap);
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

static const char commands[] = "; try: status | states | stats | drain SELECTOR | undrain SELECTOR | "
                               "force up|down SELECTOR | explain CLIENT QNAME QTYPE | reload | "
                               "dnssec ds|roll|ds-seen ZONE | zone status|refresh|retransfer ZONE | "
                               "rrl\n";
static const char selectors[] = "member ADDRESS | pool SERVICE POOL | service SERVICE | all | site\n";

/* The reply `want` built from parts (the error texts repeat the command and selector lists). */
static const char *
joined(const char *a, const char *b)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "%s%s", a, b);
    return buf;
}

static void
test_parse_errors(void **state)
{
    (void)state;
    assert_string_equal(run(""), "error: empty command\n");
    assert_string_equal(run(" \t\r\n"), "error: empty command\n");
    /* Each error names what is wrong: the unknown word, the missing part. */
    assert_string_equal(run("bogus"), joined("error: unknown command 'bogus'", commands));
    assert_string_equal(run("status now"), "error: status takes no arguments\n");
    assert_string_equal(run("stats now"), "error: stats takes no arguments\n");
    assert_string_equal(run("drain"), joined("error: drain needs a selector: ", selectors));
    assert_string_equal(run("force sideways all"),
                        joined("error: force needs up or down, then a selector: force up|down ",
                               selectors));
    assert_string_equal(run("force up"), joined("error: force up needs a selector: ", selectors));
    assert_string_equal(run("explain 10.2.0.1 geo.example.com"),
                        "error: explain needs CLIENT[/PREFIX] QNAME QTYPE\n");
    assert_string_equal(run("STATUS"), /* commands are lowercase */
                        joined("error: unknown command 'STATUS'", commands));
    assert_string_equal(run("drain a b c d e f g h"), "error: too many words (at most 8)\n");
}

static void
test_parse_words(void **state)
{
    char line[] = "  force\tdown pool  geo.example.com eu\r\n";
    struct control_command cmd;
    char error[CONTROL_ERROR_MAX];

    (void)state;
    assert_int_equal(control_parse(line, &cmd, error), 0);
    assert_int_equal(cmd.op, CONTROL_FORCE);
    assert_int_equal(cmd.force, HEALTH_FORCE_DOWN);
    assert_int_equal(cmd.arg_count, 3);
    assert_string_equal(cmd.args[0], "pool");
    assert_string_equal(cmd.args[1], "geo.example.com");
    assert_string_equal(cmd.args[2], "eu");

    /* Eight words is the most a command has. */
    char many[] = "drain a b c d e f g";
    assert_int_equal(control_parse(many, &cmd, error), 0);
    assert_int_equal(cmd.arg_count, CONTROL_MAX_WORDS - 1);
    assert_string_equal(cmd.args[6], "g");
    char more[] = "drain a b c d e f g h";
    assert_int_equal(control_parse(more, &cmd, error), -1);
    assert_string_equal(error, "too many words (at most 8)");
}

/* `zone status`: what a primary knows of a zone (transfers and NOTIFY counted by the server
 * as they happen; none here). */
static void
test_zone_status(void **state)
{
    (void)state;
    assert_string_equal(run("zone status EXAMPLE.com."),
                        "ok\n"
                        "zone: example.com.\n"
                        "role: primary\n"
                        "serial: 1\n"
                        "last_change: not served yet\n"
                        "transfer: from 127.0.0.0/8, ::1/128; key k\n"
                        "history: 0 versions\n"
                        "transfers: axfr 0, ixfr 0, up_to_date 0, refused 0, abandoned 0\n"
                        "notify: 127.0.0.1:5399 127.0.0.1:5398 (key k)\n"
                        "notifies: sent 0, acked 0, failed 0\n");
    assert_prefix(run("zone status other.example"), "ok\nzone: other.example.\n");
    assert_non_null(strstr(reply, "\ntransfer: refused (no `transfer:`)\nhistory: 0 versions\n"));
    assert_non_null(strstr(reply, "\nnotify: none\n"));
    assert_string_equal(run("zone status nope.test"), "error: no zone nope.test\n");
    assert_string_equal(run("zone status"), "error: zone needs status|refresh|retransfer ZONE\n");
    /* refresh and retransfer are for secondary zones only. */
    assert_string_equal(run("zone refresh example.com"),
                        "error: no secondary zone example.com (an entry with `primaries:`)\n");
    assert_string_equal(run("zone retransfer"), "error: zone needs status|refresh|retransfer ZONE\n");
    assert_string_equal(run("zone reload example.com"),
                        "error: zone needs status|refresh|retransfer ZONE\n");
}

static void
test_status(void **state)
{
    (void)state;
    const char *r = run("status");
    assert_prefix(r, "ok\nsite: active\nzones: 2\nrecords: 6\nloaded: ");
    if (!strstr(r, "\nlast_reload: none\nhealth: 0 up, 0 down, 0 unknown\ngeoip: "))
        fail_msg("status:\n%s", r);
}

/* `stats`: the registered counters summed over the workers, then per service. */
static void
test_stats_command(void **state)
{
    (void)state;
    assert_prefix(run("stats"), "ok\nqueries udp ipv4 0\n");
    struct stats *st = stats_new(2);
    stats_inc(&stats_worker_get(st, 0)->queries[STATS_UDP][STATS_IPV4]);
    stats_inc(&stats_worker_get(st, 1)->queries[STATS_UDP][STATS_IPV4]);
    stats_inc(&stats_worker_get(st, 1)->queries[STATS_TCP][STATS_IPV6]);
    stats_event(stats_worker_get(st, 0), STATS_EVENT_TCP_EVICTED);
    metrics_register(st);
    const char *r = run("stats");
    metrics_register(NULL);
    stats_free(st);
    assert_prefix(r, "ok\nqueries udp ipv4 2\nqueries udp ipv6 0\nqueries tcp ipv4 0\n"
                     "queries tcp ipv6 1\n");
    if (!strstr(r, "\ntcp evicted 1\n") || !strstr(r, "\nreloads ok 0\nreloads failed 0\n"))
        fail_msg("stats:\n%s", r);
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

/* `rrl`: the settings of the current config and every worker's counters added up. */
static void
test_rrl(void **state)
{
    (void)state;
    assert_string_equal(run("rrl now"), "error: rrl takes no arguments\n");
    static const uint8_t key[16] = {1};
    struct rrl *rrl = rrl_new(1000, 2, key);
    control_set_rrl(rrl);
    struct config_rrl cfg = {.enabled = true, .rate = 2, .slip = 2, .ipv4_prefix = 24,
                             .ipv6_prefix = 56, .large_size = 1024};
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F010001)};
    struct rrl_response resp = {.client = (const struct sockaddr *)&sin,
                                 .cls = DNS_RESP_NEGATIVE, .name = (const uint8_t *)"\0",
                                 .size = 100};
    /* Two within the rate, then limited: slip 2 makes every second one a stub. */
    for (unsigned i = 0; i < 6; i++)
        (void)rrl_check(rrl, i % 2, &cfg, &resp, 5000);
    const char *r = run("rrl");
    assert_prefix(r, "ok\nrrl: on, rate 20/s, slip 2, ipv4_prefix 24, ipv6_prefix 56, exempt 0 "
                     "prefixes, large_size 1024, table 1024 buckets\n");
    if (!strstr(r, "\nresponses 6, dropped 2, slipped 2, would_limit 0, exempt_cookie 0, "
                   "exempt_prefix 0\nlimited: positive 0 negative 4 error 0 referral 0 large 0 "
                   "wildcard 0\n"))
        fail_msg("rrl:\n%s", r);
    control_set_rrl(NULL);
    rrl_free(rrl);
}

/* Without a health monitor, member commands refuse rather than pretend. */
static void
test_no_monitor(void **state)
{
    (void)state;
    assert_string_equal(run("states"),
                        "error: health monitoring is not running (no member has a check)\n");
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
    (void)state;
    assert_prefix(run("explain bogus geo.example.com A"), "error: explain: client 'bogus': ");
    assert_prefix(run("explain 10.2.0.0/33 geo.example.com A"),
                  "error: explain: client '10.2.0.0/33': ");
    assert_prefix(run("explain 10.2.0.1 geo.example.com NOTATYPE"),
                  "error: explain: qtype 'NOTATYPE': unknown");
    assert_prefix(run("explain 10.2.0.1 a..b A"), "error: explain: qname 'a..b': ");
}

/* `reload` is answered by the control thread once the reload it asked for is done: here
 * nothing is written and the request is parked (the e2e test 009 checks the replies). */
static void
test_reload(void **state)
{
    char line[] = "reload";
    char *text = NULL;
    size_t len = 0;

    (void)state;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(control_execute(NULL, line, out), CONTROL_RELOAD_PARKED);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(len, 0);
    free(text);
    assert_string_equal(run("reload now"), "error: reload takes no arguments\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_words),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_zone_status),
        cmocka_unit_test(test_stats_command),
        cmocka_unit_test(test_site_drain),
        cmocka_unit_test(test_no_monitor),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_explain_bad_arguments),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_rrl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
