// SPDX-License-Identifier: MIT
/* Unit tests for the health part of config_load(): the `checks` section (every type with its
 * fields and defaults), the `health` section, server.state_file and server.control_socket,
 * a service's `startup` and the members' references to checks, and the exact
 * "file:line: message" of each error. Each test writes its files into a private mkdtemp
 * directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_tmpdir.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"

static char tmpdir[] = "/tmp/meridian-test-checks-XXXXXX";

static const char zones_tail[] = "zones:\n  - {origin: example.com, file: example.com.zone}\n";

/* tmpdir + "/" + name into out; the test fails if it does not fit. */
static void
tmp_path(char *out, size_t out_size, const char *name)
{
    int n = snprintf(out, out_size, "%s/%s", tmpdir, name);
    if (n < 0 || (size_t)n >= out_size)
        fail_msg("path too long: %s", name);
}

/* Writes `text` to tmpdir/name and returns the path (static storage, one at a time). */
static const char *
write_file(const char *name, const char *text)
{
    static char path[PATH_MAX];
    FILE *f;

    tmp_path(path, sizeof(path), name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Loads `yaml` with a zones section appended. */
static struct config *
load_yaml(const char *yaml)
{
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX], text[8192];
    const char *path;
    int n = snprintf(text, sizeof(text), "%s%s", yaml, zones_tail);

    if (n < 0 || (size_t)n >= sizeof(text))
        fail_msg("config text too long");
    path = write_file("ok.yaml", text);
    if (config_load(path, &cfg, err) != 0)
        fail_msg("config_load(%s): %s", path, err);
    assert_non_null(cfg);
    return cfg;
}

/* Loads `yaml` (with a zones section appended, so the file is otherwise valid) and expects
 * the error "<config path>:<where>" exactly. */
static void
expect_error(const char *yaml, const char *where)
{
    struct config *cfg = (struct config *)1;
    char err[CONFIG_ERR_MAX], text[8192], want[CONFIG_ERR_MAX + PATH_MAX];
    const char *path;
    int n = snprintf(text, sizeof(text), "%s%s", yaml, zones_tail);

    if (n < 0 || (size_t)n >= sizeof(text))
        fail_msg("config text too long");
    path = write_file("bad.yaml", text);
    n = snprintf(want, sizeof(want), "%s:%s", path, where);
    if (n < 0 || (size_t)n >= sizeof(want))
        fail_msg("message too long");
    assert_int_equal(config_load(path, &cfg, err), -1);
    assert_null(cfg);
    assert_string_equal(err, want);
}

static const struct config_check *
find(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->check_count; i++)
        if (strcmp(cfg->checks[i].name, name) == 0)
            return &cfg->checks[i];
    fail_msg("no check '%s'", name);
    return NULL;
}

static void
assert_argv(char **argv, const char *const *want)
{
    size_t i = 0;
    assert_non_null(argv);
    for (; want[i]; i++) {
        assert_non_null(argv[i]);
        assert_string_equal(argv[i], want[i]);
    }
    assert_null(argv[i]);
}

/* What every check has unless set. */
static void
assert_common_defaults(const struct config_check *c)
{
    assert_int_equal(c->interval_ms, 5000);
    assert_int_equal(c->timeout_ms, 2000);
    assert_int_equal(c->rise, 2);
    assert_int_equal(c->fall, 3);
}

/* The fields of other types stay empty. */
static void
assert_no_http(const struct config_check *c)
{
    assert_null(c->method);
    assert_null(c->path);
    assert_null(c->host);
    assert_null(c->expect_status);
    assert_int_equal(c->expect_status_count, 0);
    assert_null(c->expect_body);
}

static void
assert_no_dns(const struct config_check *c)
{
    assert_null(c->qname);
    assert_int_equal(c->qtype, 0);
    assert_int_equal(c->expect_rcode, 0);
    assert_null(c->expect_answer);
}

static void
test_defaults(void **state)
{
    static const char *const argv[] = {"/bin/true", NULL};
    char want[PATH_MAX];
    struct config *cfg;
    const struct config_check *c;

    (void)state;
    cfg = load_yaml("checks:\n"
                    "  t: {type: tcp, port: 22}\n"
                    "  h: {type: http}\n"
                    "  s: {type: https}\n"
                    "  d: {type: dns, qname: health.example.com}\n"
                    "  e: {type: exec, command: [/bin/true]}\n"
                    "  f: {type: file, file: states.txt}\n");
    assert_int_equal(cfg->check_count, 6);
    assert_int_equal(cfg->startup_wait_ms, 10000);
    assert_int_equal(cfg->exec_max_concurrent, 8);
    assert_null(cfg->state_file);
    assert_null(cfg->control_socket);

    c = &cfg->checks[0];
    assert_string_equal(c->name, "t");
    assert_int_equal(c->line, 2);
    assert_int_equal(c->type, CONFIG_CHECK_TCP);
    assert_common_defaults(c);
    assert_int_equal(c->port, 22);
    assert_no_http(c);
    assert_no_dns(c);
    assert_null(c->argv);
    assert_null(c->file);

    c = &cfg->checks[1];
    assert_string_equal(c->name, "h");
    assert_int_equal(c->line, 3);
    assert_int_equal(c->type, CONFIG_CHECK_HTTP);
    assert_common_defaults(c);
    assert_int_equal(c->port, 80);
    assert_string_equal(c->method, "GET");
    assert_string_equal(c->path, "/");
    assert_null(c->host);
    assert_int_equal(c->expect_status_count, 1);
    assert_int_equal(c->expect_status[0], 200);
    assert_null(c->expect_body);
    assert_true(c->tls_verify);
    assert_no_dns(c);
    assert_null(c->argv);
    assert_null(c->file);

    c = &cfg->checks[2];
    assert_int_equal(c->type, CONFIG_CHECK_HTTPS);
    assert_common_defaults(c);
    assert_int_equal(c->port, 443);
    assert_string_equal(c->method, "GET");
    assert_string_equal(c->path, "/");
    assert_null(c->host);
    assert_int_equal(c->expect_status_count, 1);
    assert_int_equal(c->expect_status[0], 200);
    assert_true(c->tls_verify);

    c = &cfg->checks[3];
    assert_int_equal(c->type, CONFIG_CHECK_DNS);
    assert_common_defaults(c);
    assert_int_equal(c->port, 53);
    assert_string_equal(c->qname, "health.example.com.");
    assert_int_equal(c->qtype, 1);
    assert_int_equal(c->expect_rcode, 0);
    assert_null(c->expect_answer);
    assert_no_http(c);

    c = &cfg->checks[4];
    assert_int_equal(c->type, CONFIG_CHECK_EXEC);
    assert_common_defaults(c);
    assert_int_equal(c->port, 0);
    assert_argv(c->argv, argv);
    assert_no_http(c);
    assert_no_dns(c);
    assert_null(c->file);

    c = &cfg->checks[5];
    assert_int_equal(c->type, CONFIG_CHECK_FILE);
    assert_common_defaults(c);
    assert_int_equal(c->port, 0);
    tmp_path(want, sizeof(want), "states.txt");
    assert_string_equal(c->file, want);
    assert_null(c->argv);
    assert_no_http(c);
    assert_no_dns(c);
    config_free(cfg);

    /* No checks section at all, and an empty one. */
    cfg = load_yaml("");
    assert_int_equal(cfg->check_count, 0);
    config_free(cfg);
    cfg = load_yaml("checks: {}\n");
    assert_int_equal(cfg->check_count, 0);
    config_free(cfg);
}

static void
test_full(void **state)
{
    static const char *const argv[] = {"/usr/bin/check", "--host", "{address}", "", "a b", NULL};
    struct config *cfg;
    const struct config_check *c;

    (void)state;
    cfg = load_yaml("checks:\n"
                    "  web-http:\n"
                    "    type: http\n"
                    "    interval: 10s\n"
                    "    timeout: 500ms\n"
                    "    rise: 1\n"
                    "    fall: 100\n"
                    "    port: 8080\n"
                    "    method: HEAD\n"
                    "    path: /healthz?full=1\n"
                    "    host: www.example.com\n"
                    "    expect_status: [200, 204]\n"
                    "    expect_body: \"ok\"\n"
                    "  web-https:\n"
                    "    type: https\n"
                    "    interval: 1h\n"
                    "    timeout: 59m\n"
                    "    port: 8443\n"
                    "    method: POST\n"
                    "    path: /\n"
                    "    host: 192.0.2.1\n"
                    "    expect_status: 503\n"
                    "    expect_body: \"all good\"\n"
                    "    tls_verify: false\n"
                    "  dns:\n"
                    "    type: dns\n"
                    "    interval: 100ms\n"
                    "    timeout: 1ms\n"
                    "    rise: 100\n"
                    "    fall: 1\n"
                    "    port: 5353\n"
                    "    qname: health.example.com.\n"
                    "    qtype: AAAA\n"
                    "    expect_rcode: NXDOMAIN\n"
                    "    expect_answer: 2001:db8::1\n"
                    "  Exec_1.x:\n"
                    "    type: exec\n"
                    "    interval: 30\n"
                    "    command: [\"/usr/bin/check\", \"--host\", \"{address}\", \"\", \"a b\"]\n"
                    "  tcp: {type: tcp, port: 65535, interval: 2m, timeout: 1m}\n"
                    "  file: {type: file, file: /var/lib/meridian/states}\n");
    assert_int_equal(cfg->check_count, 6);

    c = find(cfg, "web-http");
    assert_int_equal(c->line, 2);
    assert_int_equal(c->type, CONFIG_CHECK_HTTP);
    assert_int_equal(c->interval_ms, 10000);
    assert_int_equal(c->timeout_ms, 500);
    assert_int_equal(c->rise, 1);
    assert_int_equal(c->fall, 100);
    assert_int_equal(c->port, 8080);
    assert_string_equal(c->method, "HEAD");
    assert_string_equal(c->path, "/healthz?full=1");
    assert_string_equal(c->host, "www.example.com");
    assert_int_equal(c->expect_status_count, 2);
    assert_int_equal(c->expect_status[0], 200);
    assert_int_equal(c->expect_status[1], 204);
    assert_string_equal(c->expect_body, "ok");
    assert_true(c->tls_verify);

    c = find(cfg, "web-https");
    assert_int_equal(c->line, 14);
    assert_int_equal(c->type, CONFIG_CHECK_HTTPS);
    assert_int_equal(c->interval_ms, 3600000);
    assert_int_equal(c->timeout_ms, 59 * 60000);
    assert_int_equal(c->port, 8443);
    assert_string_equal(c->method, "POST");
    assert_string_equal(c->path, "/");
    assert_string_equal(c->host, "192.0.2.1");
    assert_int_equal(c->expect_status_count, 1);
    assert_int_equal(c->expect_status[0], 503);
    assert_string_equal(c->expect_body, "all good");
    assert_false(c->tls_verify);

    c = find(cfg, "dns");
    assert_int_equal(c->type, CONFIG_CHECK_DNS);
    assert_int_equal(c->interval_ms, 100);
    assert_int_equal(c->timeout_ms, 1);
    assert_int_equal(c->rise, 100);
    assert_int_equal(c->fall, 1);
    assert_int_equal(c->port, 5353);
    assert_string_equal(c->qname, "health.example.com.");
    assert_int_equal(c->qtype, 28);
    assert_int_equal(c->expect_rcode, 3);
    assert_string_equal(c->expect_answer, "2001:db8::1");

    c = find(cfg, "Exec_1.x");
    assert_int_equal(c->type, CONFIG_CHECK_EXEC);
    assert_int_equal(c->interval_ms, 30000);
    assert_int_equal(c->timeout_ms, 2000);
    assert_argv(c->argv, argv);

    c = find(cfg, "tcp");
    assert_int_equal(c->type, CONFIG_CHECK_TCP);
    assert_int_equal(c->port, 65535);
    assert_int_equal(c->interval_ms, 120000);
    assert_int_equal(c->timeout_ms, 60000);

    c = find(cfg, "file");
    assert_int_equal(c->type, CONFIG_CHECK_FILE);
    assert_string_equal(c->file, "/var/lib/meridian/states");
    config_free(cfg);
}

static void
test_methods_and_names(void **state)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "OPTIONS"};
    static const char name63[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
    char yaml[256];
    struct config *cfg;

    (void)state;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        int n =
            snprintf(yaml, sizeof(yaml), "checks: { h: { type: http, method: %s } }\n", methods[i]);
        assert_true(n > 0 && (size_t)n < sizeof(yaml));
        cfg = load_yaml(yaml);
        assert_string_equal(cfg->checks[0].method, methods[i]);
        config_free(cfg);
    }
    assert_int_equal(strlen(name63), 63);
    {
        int n = snprintf(yaml, sizeof(yaml), "checks: { %s: { type: tcp, port: 1 } }\n", name63);
        assert_true(n > 0 && (size_t)n < sizeof(yaml));
    }
    cfg = load_yaml(yaml);
    assert_string_equal(cfg->checks[0].name, name63);
    assert_int_equal(cfg->checks[0].port, 1);
    config_free(cfg);
}

static void
test_dns_values(void **state)
{
    static const struct {
        const char *text;
        uint16_t type;
    } qtypes[] = {
        {"A", 1},     {"AAAA", 28},   {"TXT", 16},          {"CNAME", 5},    {"MX", 15},
        {"NS", 2},    {"SOA", 6},     {"SRV", 33},          {"PTR", 12},     {"TYPE1", 1},
        {"aaaa", 28}, {"TYPE99", 99}, {"type65535", 65535}, {"TYPE065", 65},
    };
    static const char *const rcodes[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                         "NXDOMAIN", "NOTIMP",  "REFUSED"};
    char yaml[256];
    struct config *cfg;
    int n;

    (void)state;
    for (size_t i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++) {
        n = snprintf(yaml, sizeof(yaml), "checks: { d: { type: dns, qname: a, qtype: %s } }\n",
                     qtypes[i].text);
        assert_true(n > 0 && (size_t)n < sizeof(yaml));
        cfg = load_yaml(yaml);
        assert_int_equal(cfg->checks[0].qtype, qtypes[i].type);
        assert_string_equal(cfg->checks[0].qname, "a.");
        config_free(cfg);
    }
    for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
        n = snprintf(yaml, sizeof(yaml),
                     "checks: { d: { type: dns, qname: a, expect_rcode: %s } }\n", rcodes[i]);
        assert_true(n > 0 && (size_t)n < sizeof(yaml));
        cfg = load_yaml(yaml);
        assert_int_equal(cfg->checks[0].expect_rcode, i);
        config_free(cfg);
    }
    /* An escaped final dot is part of the label, not the root. */
    cfg = load_yaml("checks: { d: { type: dns, qname: 'a\\.' } }\n");
    assert_string_equal(cfg->checks[0].qname, "a\\..");
    config_free(cfg);
}

static void
test_health_and_server(void **state)
{
    char want[PATH_MAX];
    struct config *cfg;

    (void)state;
    cfg = load_yaml("server:\n"
                    "  state_file: meridian.state\n"
                    "  control_socket: run/meridian.sock\n"
                    "health:\n"
                    "  startup_wait: 0\n"
                    "  exec_max_concurrent: 1\n");
    tmp_path(want, sizeof(want), "meridian.state");
    assert_string_equal(cfg->state_file, want);
    tmp_path(want, sizeof(want), "run/meridian.sock");
    assert_string_equal(cfg->control_socket, want);
    assert_int_equal(cfg->startup_wait_ms, 0);
    assert_int_equal(cfg->exec_max_concurrent, 1);
    config_free(cfg);

    cfg = load_yaml("server:\n"
                    "  state_file: /var/lib/meridian/state\n"
                    "  control_socket: /run/meridian.sock\n"
                    "health: { startup_wait: 10m, exec_max_concurrent: 1024 }\n");
    assert_string_equal(cfg->state_file, "/var/lib/meridian/state");
    assert_string_equal(cfg->control_socket, "/run/meridian.sock");
    assert_int_equal(cfg->startup_wait_ms, 600000);
    assert_int_equal(cfg->exec_max_concurrent, 1024);
    config_free(cfg);

    cfg = load_yaml("health: { startup_wait: 1500ms }\n");
    assert_int_equal(cfg->startup_wait_ms, 1500);
    assert_int_equal(cfg->exec_max_concurrent, 8);
    config_free(cfg);
}

/* Members refer to checks defined anywhere in the file; startup is per service. */
static void
test_references(void **state)
{
    struct config *cfg;
    const struct config_service *s;

    (void)state;
    cfg = load_yaml("services:\n"
                    "  www.example.com:\n"
                    "    startup: persisted\n"
                    "    pools:\n"
                    "      eu: { members: [ {address: 192.0.2.1, check: web},\n"
                    "                       {address: 192.0.2.2} ] }\n"
                    "  api.example.com:\n"
                    "    startup: wait\n"
                    "    pools: { a: { members: [ {address: 192.0.2.3, check: ping} ] } }\n"
                    "  cdn.example.com:\n"
                    "    pools: { a: { members: [ {address: 192.0.2.4, check: web} ] } }\n"
                    "  up.example.com:\n"
                    "    startup: up\n"
                    "    pools: { a: { members: [ {address: 192.0.2.5, check: web} ] } }\n"
                    "checks:\n"
                    "  web: { type: http, path: /healthz }\n"
                    "  ping: { type: tcp, port: 443 }\n"
                    "server: { state_file: meridian.state }\n");
    assert_int_equal(cfg->service_count, 4);
    s = &cfg->services[0];
    assert_true(s->startup_persisted);
    assert_false(s->startup_up);
    assert_string_equal(s->pools[0].members[0].check, "web");
    assert_null(s->pools[0].members[1].check);
    assert_false(cfg->services[1].startup_persisted);
    assert_string_equal(cfg->services[1].pools[0].members[0].check, "ping");
    assert_false(cfg->services[2].startup_persisted);
    assert_false(cfg->services[2].startup_up);
    assert_false(cfg->services[3].startup_persisted);
    assert_true(cfg->services[3].startup_up);
    config_free(cfg);
}

/* One check's keys start at line 3. */
#define CHK "checks:\n  c:\n"

static void
test_section_errors(void **state)
{
    (void)state;
    expect_error("checks: [a]\n", "1: checks: expected a mapping of check names to checks");
    expect_error("checks:\n  bad name: {type: tcp, port: 1}\n",
                 "2: checks: invalid check name 'bad name' (1..63 letters, digits, '-', '_' or "
                 "'.')");
    expect_error("checks:\n  \"\": {type: tcp, port: 1}\n",
                 "2: checks: invalid check name '' (1..63 letters, digits, '-', '_' or '.')");
    expect_error("checks:\n"
                 "  abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:\n"
                 "    {type: tcp, port: 1}\n",
                 "2: checks: invalid check name "
                 "'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_' (1..63 "
                 "letters, digits, '-', '_' or '.')");
    expect_error("checks:\n"
                 "  a: {type: exec, command: [x]}\n"
                 "  b: {type: exec, command: [x]}\n"
                 "  a: {type: tcp, port: 1}\n",
                 "4: checks: duplicate check 'a' (first at line 2)");
    expect_error("checks:\n  [a]: {type: tcp}\n", "2: expected a key name, not a list");
    expect_error("checks:\n  c:\n", "2: c: missing value");
    expect_error("checks:\n  c: [tcp]\n", "2: check 'c': expected a mapping");
    expect_error("checks:\n  c: tcp\n", "2: check 'c': expected a mapping");
    /* The walker reports a missing key at the mapping's first line. */
    expect_error(CHK "    port: 1\n", "3: missing key 'type' in check 'c'");
    expect_error(CHK "    type:\n", "3: type: missing value");
    expect_error(CHK "    type: icmp\n", "3: type: expected tcp, http, https, dns, exec or file");
    expect_error(CHK "    type: TCP\n", "3: type: expected tcp, http, https, dns, exec or file");
    expect_error(CHK "    type: [tcp]\n", "3: type: expected tcp, http, https, dns, exec or file");
    expect_error(CHK "    type: tcp\n    port: 1\n    prot: 2\n",
                 "5: unknown key 'prot' in check 'c'");
    expect_error(CHK "    type: tcp\n    port: 1\n    port: 2\n", "5: duplicate key 'port'");
    expect_error(CHK "    type: tcp\n    port: 1\n    type: http\n", "5: duplicate key 'type'");
}

/* Keys of other types, each at its own line, wherever `type` is. */
static void
test_type_keys(void **state)
{
    (void)state;
    expect_error(CHK "    type: file\n    file: f\n    port: 1\n",
                 "5: port: only for tcp, http, https, dns and exec checks");
    expect_error(CHK "    port: 1\n    type: file\n    file: f\n",
                 "3: port: only for tcp, http, https, dns and exec checks");
    expect_error(CHK "    type: tcp\n    port: 1\n    method: GET\n",
                 "5: method: only for http and https checks");
    expect_error(CHK "    type: dns\n    qname: a\n    path: /\n",
                 "5: path: only for http and https checks");
    expect_error(CHK "    type: exec\n    command: [x]\n    host: a\n",
                 "5: host: only for http and https checks");
    expect_error(CHK "    type: tcp\n    port: 1\n    expect_status: 200\n",
                 "5: expect_status: only for http and https checks");
    expect_error(CHK "    type: file\n    file: f\n    expect_body: ok\n",
                 "5: expect_body: only for http and https checks");
    expect_error(CHK "    type: http\n    tls_verify: false\n",
                 "4: tls_verify: only for https checks");
    expect_error(CHK "    type: https\n    qname: a\n", "4: qname: only for dns checks");
    expect_error(CHK "    type: tcp\n    port: 1\n    qtype: A\n", "5: qtype: only for dns checks");
    expect_error(CHK "    type: http\n    expect_rcode: NOERROR\n",
                 "4: expect_rcode: only for dns checks");
    expect_error(CHK "    type: exec\n    command: [x]\n    expect_answer: a\n",
                 "5: expect_answer: only for dns checks");
    expect_error(CHK "    type: tcp\n    port: 1\n    command: [x]\n",
                 "5: command: only for exec checks");
    expect_error(CHK "    type: dns\n    qname: a\n    file: f\n", "5: file: only for file checks");
    /* Before the value is even looked at. */
    expect_error(CHK "    type: file\n    file: f\n    port: 0\n",
                 "5: port: only for tcp, http, https, dns and exec checks");
}

static void
test_required(void **state)
{
    (void)state;
    expect_error(CHK "    type: tcp\n", "3: missing key 'port' in check 'c'");
    expect_error(CHK "    type: dns\n    port: 53\n", "3: missing key 'qname' in check 'c'");
    expect_error(CHK "    type: exec\n", "3: missing key 'command' in check 'c'");
    expect_error(CHK "    type: file\n", "3: missing key 'file' in check 'c'");
    expect_error("checks:\n  c: {type: tcp}\n", "2: missing key 'port' in check 'c'");
}

static void
test_timing_errors(void **state)
{
    (void)state;
    expect_error(CHK "    type: tcp\n    port: 1\n    interval: 99ms\n",
                 "5: interval: expected a duration 100ms..1h (e.g. 10s, 500ms, 2m)");
    expect_error(CHK "    type: tcp\n    port: 1\n    interval: 61m\n",
                 "5: interval: expected a duration 100ms..1h (e.g. 10s, 500ms, 2m)");
    expect_error(CHK "    type: tcp\n    port: 1\n    interval: fast\n",
                 "5: interval: expected a duration 100ms..1h (e.g. 10s, 500ms, 2m)");
    expect_error(CHK "    type: tcp\n    port: 1\n    timeout: 0\n",
                 "5: timeout: expected a duration 1ms..1h (e.g. 10s, 500ms, 2m)");
    expect_error(CHK "    type: tcp\n    port: 1\n    timeout: -1s\n",
                 "5: timeout: expected a duration 1ms..1h (e.g. 10s, 500ms, 2m)");
    /* At the timeout when it is given, else at the interval. */
    expect_error(CHK "    type: tcp\n    port: 1\n    timeout: 5s\n",
                 "5: timeout 5s must be less than interval 5s");
    expect_error(CHK "    type: tcp\n    timeout: 3s\n    interval: 2500ms\n    port: 1\n",
                 "4: timeout 3s must be less than interval 2500ms");
    expect_error(CHK "    type: tcp\n    port: 1\n    interval: 1s\n",
                 "5: timeout 2s must be less than interval 1s");
    expect_error(CHK "    type: tcp\n    port: 1\n    interval: 2s\n",
                 "5: timeout 2s must be less than interval 2s");
    expect_error(CHK "    type: tcp\n    port: 1\n    rise: 0\n",
                 "5: rise: expected an integer 1..100");
    expect_error(CHK "    type: tcp\n    port: 1\n    rise: 101\n",
                 "5: rise: expected an integer 1..100");
    expect_error(CHK "    type: tcp\n    port: 1\n    fall: 0\n",
                 "5: fall: expected an integer 1..100");
    expect_error(CHK "    type: tcp\n    port: 1\n    fall: x\n",
                 "5: fall: expected an integer 1..100");
    expect_error(CHK "    type: tcp\n    port: 0\n", "4: port: expected an integer 1..65535");
    expect_error(CHK "    type: http\n    port: 65536\n", "4: port: expected an integer 1..65535");
    expect_error(CHK "    type: dns\n    qname: a\n    port: [53]\n",
                 "5: port: expected an integer 1..65535");
}

static void
test_http_errors(void **state)
{
    static const char path_msg[] =
        "4: path: expected a path starting with '/', at most 1024 bytes, without spaces or "
        "control characters";
    static const char host_msg[] =
        "4: host: expected a host name of 1..255 bytes, without spaces or control characters";
    static const char status_msg[] = "expect_status: expected a status code 100..599";
    char yaml[2048], long_path[1026];
    int n;

    (void)state;
    long_path[0] = '/';
    memset(long_path + 1, 'a', sizeof(long_path) - 2);
    long_path[sizeof(long_path) - 1] = '\0';
    expect_error(CHK "    type: http\n    method: get\n",
                 "4: method: expected GET, HEAD, POST, PUT or OPTIONS");
    expect_error(CHK "    type: https\n    method: PATCH\n",
                 "4: method: expected GET, HEAD, POST, PUT or OPTIONS");
    expect_error(CHK "    type: http\n    path: healthz\n", path_msg);
    expect_error(CHK "    type: http\n    path: \"\"\n", path_msg);
    expect_error(CHK "    type: http\n    path: \"/a b\"\n", path_msg);
    expect_error(CHK "    type: http\n    path: \"/a\\r\\nX: 1\"\n", path_msg);
    expect_error(CHK "    type: http\n    path: [/]\n", path_msg);
    assert_int_equal(strlen(long_path), 1025);
    n = snprintf(yaml, sizeof(yaml), CHK "    type: http\n    path: %s\n", long_path);
    assert_true(n > 0 && (size_t)n < sizeof(yaml));
    expect_error(yaml, path_msg);
    /* 1024 bytes are fine. */
    n = snprintf(yaml, sizeof(yaml), CHK "    type: http\n    path: %.1024s\n", long_path);
    assert_true(n > 0 && (size_t)n < sizeof(yaml));
    config_free(load_yaml(yaml));
    expect_error(CHK "    type: http\n    host: \"\"\n", host_msg);
    expect_error(CHK "    type: http\n    host: \"a b\"\n", host_msg);
    expect_error(CHK "    type: http\n    host: \"a\\nb\"\n", host_msg);
    expect_error(CHK "    type: http\n    expect_status: 99\n",
                 "4: expect_status: expected a status code 100..599");
    expect_error(CHK "    type: http\n    expect_status: 600\n",
                 "4: expect_status: expected a status code 100..599");
    expect_error(CHK "    type: http\n    expect_status: ok\n",
                 "4: expect_status: expected a status code 100..599");
    n = snprintf(yaml, sizeof(yaml), "6: %s", status_msg);
    assert_true(n > 0 && (size_t)n < sizeof(yaml));
    expect_error(CHK "    type: http\n    expect_status:\n      - 200\n      - 2000\n", yaml);
    expect_error(CHK "    type: http\n    expect_status: [200, [201]]\n",
                 "4: expect_status: expected a status code 100..599");
    expect_error(CHK "    type: http\n    expect_status: []\n",
                 "4: expect_status: expected a status code 100..599 or a list of them");
    expect_error(CHK "    type: http\n    expect_status: {200: ok}\n",
                 "4: expect_status: expected a status code 100..599 or a list of them");
    expect_error(CHK "    type: http\n    expect_status: [200, 204, 200]\n",
                 "4: expect_status: 200 listed twice");
    expect_error(CHK "    type: http\n    expect_body: \"\"\n",
                 "4: expect_body: expected a string of 1..1024 bytes");
    expect_error(CHK "    type: https\n    tls_verify: maybe\n",
                 "4: tls_verify: expected true or false");
}

static void
test_dns_errors(void **state)
{
    static const char qtype_msg[] =
        "5: qtype: expected A, AAAA, TXT, CNAME, MX, NS, SOA, SRV, PTR or TYPEnnn (1..65535)";

    (void)state;
    expect_error(CHK "    type: dns\n    qname: bad..name\n",
                 "4: qname: invalid domain name 'bad..name'");
    expect_error(CHK "    type: dns\n    qname: \"\"\n", "4: qname: invalid domain name ''");
    expect_error(CHK "    type: dns\n    qname: [a]\n",
                 "4: qname: invalid domain name '(not a string)'");
    expect_error(CHK "    type: dns\n    qname: a\n    qtype: ANY\n", qtype_msg);
    expect_error(CHK "    type: dns\n    qname: a\n    qtype: TYPE0\n", qtype_msg);
    expect_error(CHK "    type: dns\n    qname: a\n    qtype: TYPE65536\n", qtype_msg);
    expect_error(CHK "    type: dns\n    qname: a\n    qtype: TYPE\n", qtype_msg);
    expect_error(CHK "    type: dns\n    qname: a\n    qtype: TYPE-1\n", qtype_msg);
    expect_error(CHK "    type: dns\n    qname: a\n    qtype: 1\n", qtype_msg);
    expect_error(CHK "    type: dns\n    qname: a\n    expect_rcode: BADVERS\n",
                 "5: expect_rcode: expected NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP or "
                 "REFUSED");
    expect_error(CHK "    type: dns\n    qname: a\n    expect_rcode: 0\n",
                 "5: expect_rcode: expected NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP or "
                 "REFUSED");
    expect_error(CHK "    type: dns\n    qname: a\n    expect_answer: \"\"\n",
                 "5: expect_answer: expected a string of 1..1024 bytes");
}

static void
test_exec_file_errors(void **state)
{
    static const char use_list[] =
        "4: command: use a list of strings, e.g. [\"/usr/bin/check\", \"{address}\"]";

    (void)state;
    expect_error(CHK "    type: exec\n    command: /usr/bin/check --host {address}\n", use_list);
    expect_error(CHK "    type: exec\n    command: \"/usr/bin/check\"\n", use_list);
    expect_error(CHK "    type: exec\n    command: []\n",
                 "4: command: expected a non-empty list of strings");
    expect_error(CHK "    type: exec\n    command: {a: b}\n",
                 "4: command: expected a non-empty list of strings");
    expect_error(CHK "    type: exec\n    command:\n      - /bin/check\n      - [a]\n",
                 "6: command: expected a string");
    expect_error(CHK "    type: exec\n    command: [/bin/check, ~]\n",
                 "4: command: expected a string");
    expect_error(CHK "    type: exec\n    command: [\"\", a]\n",
                 "4: command: the program (first item) is empty");
    /* {port} is the check's port: an exec check that uses it must set one. */
    expect_error(CHK "    type: exec\n    command: [/bin/check, \"--port={port}\"]\n",
                 "4: command uses {port} but check 'c' sets no port");
    struct config *cfg = load_yaml(CHK "    type: exec\n    port: 8080\n"
                                       "    command: [/bin/check, \"{address}\", \"{port}\"]\n");
    assert_int_equal(find(cfg, "c")->port, 8080);
    config_free(cfg);
    expect_error(CHK "    type: file\n    file: \"\"\n", "4: file: expected a path");
    expect_error(CHK "    type: file\n    file: [a]\n", "4: file: expected a path");
}

static void
test_health_errors(void **state)
{
    char yaml[512], where[256];
    int n;

    (void)state;
    expect_error("health: [1]\n", "1: health: expected a mapping");
    expect_error("health:\n  startup_wait: 11m\n",
                 "2: startup_wait: expected a duration 0ms..10m (e.g. 10s, 500ms, 2m)");
    expect_error("health:\n  startup_wait: soon\n",
                 "2: startup_wait: expected a duration 0ms..10m (e.g. 10s, 500ms, 2m)");
    expect_error("health:\n  exec_max_concurrent: 0\n",
                 "2: exec_max_concurrent: expected an integer 1..1024");
    expect_error("health:\n  exec_max_concurrent: 1025\n",
                 "2: exec_max_concurrent: expected an integer 1..1024");
    expect_error("health:\n  interval: 1s\n", "2: unknown key 'interval' in health");
    expect_error("server:\n  state_file: \"\"\n", "2: state_file: expected a path");
    expect_error("server:\n  state_file: [a]\n", "2: state_file: expected a path");
    expect_error("server:\n  control_socket: \"\"\n", "2: control_socket: expected a path");
    /* sun_path is 108 bytes with the NUL; the limit applies to the resolved path. */
    n = snprintf(yaml, sizeof(yaml), "server:\n  control_socket: /%0106d\n", 0);
    assert_true(n > 0 && (size_t)n < sizeof(yaml));
    config_free(load_yaml(yaml));
    n = snprintf(yaml, sizeof(yaml), "server:\n  control_socket: /%0107d\n", 0);
    assert_true(n > 0 && (size_t)n < sizeof(yaml));
    n = snprintf(where, sizeof(where),
                 "2: control_socket: '/%0107d' is too long for a UNIX socket (108 bytes after "
                 "resolving, at most 107)",
                 0);
    assert_true(n > 0 && (size_t)n < sizeof(where));
    expect_error(yaml, where);
    /* Relative: the config directory counts. */
    n = snprintf(yaml, sizeof(yaml), "server:\n  control_socket: %080d\n", 0);
    assert_true(n > 0 && (size_t)n < sizeof(yaml));
    n = snprintf(where, sizeof(where),
                 "2: control_socket: '%080d' is too long for a UNIX socket (%zu bytes after "
                 "resolving, at most 107)",
                 0, strlen(tmpdir) + 1 + 80);
    assert_true(n > 0 && (size_t)n < sizeof(where));
    expect_error(yaml, where);
}

/* The service every error case below starts from (service at line 2, member at line 5). */
#define SVC                                                                                        \
    "services:\n"                                                                                  \
    "  www.example.com:\n"                                                                         \
    "    pools:\n"                                                                                 \
    "      eu:\n"                                                                                  \
    "        members: [ {address: 192.0.2.1, check: web} ]\n"

static void
test_reference_errors(void **state)
{
    (void)state;
    expect_error(SVC, "5: unknown check 'web'");
    expect_error(SVC "checks:\n  Web: {type: tcp, port: 80}\n", "5: unknown check 'web'");
    expect_error("checks:\n  web: {type: tcp, port: 80}\n"
                 "services:\n"
                 "  www.example.com:\n"
                 "    pools:\n"
                 "      eu:\n"
                 "        members:\n"
                 "          - {address: 192.0.2.1, check: web}\n"
                 "          - address: 192.0.2.2\n"
                 "            check: webb\n",
                 "9: unknown check 'webb'");
    expect_error(SVC "    startup: later\n", "6: startup: expected wait, persisted or up");
    expect_error(SVC "    startup: persisted\n"
                     "checks:\n  web: {type: tcp, port: 80}\n",
                 "2: service 'www.example.com.': startup: persisted needs server.state_file");
    /* `wait` needs nothing. */
    config_free(load_yaml(SVC "    startup: wait\n"
                              "checks:\n  web: {type: tcp, port: 80}\n"));
}

static int
setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_full),
        cmocka_unit_test(test_methods_and_names), cmocka_unit_test(test_dns_values),
        cmocka_unit_test(test_health_and_server), cmocka_unit_test(test_references),
        cmocka_unit_test(test_section_errors),    cmocka_unit_test(test_type_keys),
        cmocka_unit_test(test_required),          cmocka_unit_test(test_timing_errors),
        cmocka_unit_test(test_http_errors),       cmocka_unit_test(test_dns_errors),
        cmocka_unit_test(test_exec_file_errors),  cmocka_unit_test(test_health_errors),
        cmocka_unit_test(test_reference_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
