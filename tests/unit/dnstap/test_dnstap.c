// SPDX-License-Identifier: MIT
/* The dnstap query log. Records are packed by dnstap_encode and read back with protobuf-c's
 * generated unpacker (the reader every dnstap tool shares), field by field: type, identity,
 * version, socket family and protocol, addresses, ports, times, messages, extra. The decision
 * text is checked on real steered answers (dns_answer on policies built from a config over
 * geoip/sample.mmdb). The log itself runs its fstrm I/O thread: to a file read back with
 * fstrm's file reader, to a socket nobody listens on (records counted as lost, none
 * dropped), and to a reader that accepts but never reads (the queue fills: records dropped
 * and counted, and dnstap_log never blocks). Single-threaded but for fstrm's thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <arpa/inet.h>
#include <fstrm.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "answer_test.h"
#include "dnstap/dnstap.h"
#include "dnstap/dnstap.pb-c.h"
#include "steer_view.h"
#include "test_time.h"
#include "test_tmpdir.h"

static char tmpdir[] = "/tmp/meridian-dnstap-XXXXXX";

static const uint8_t query[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                3,    'w',  'w',  'w',  4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
static const uint8_t response[] = {0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,
                                   3,    'w',  'w',  'w',  4, 't', 'e', 's', 't', 0, 0, 1,
                                   0,    1,    0xc0, 12,   0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
                                   192,  0,    2,    10};

static struct sockaddr_in
v4(const char *addr, uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
    return sa;
}

static struct sockaddr_in6
v6(const char *addr, uint16_t port)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    assert_int_equal(inet_pton(AF_INET6, addr, &sa.sin6_addr), 1);
    return sa;
}

/* Packs ev as `kind` and unpacks it (free with dnstap__dnstap__free_unpacked). */
static Dnstap__Dnstap *
round_trip(const struct dnstap_origin *origin, enum dnstap_kind kind,
           const struct dnstap_event *ev)
{
    uint8_t buf[4096];
    size_t needed = 0;
    size_t len = dnstap_encode(origin, kind, ev, buf, sizeof(buf), &needed);
    assert_true(len > 0);
    assert_int_equal(len, needed);
    Dnstap__Dnstap *d = dnstap__dnstap__unpack(NULL, len, buf);
    assert_non_null(d);
    assert_int_equal(d->type, DNSTAP__DNSTAP__TYPE__MESSAGE);
    assert_non_null(d->message);
    return d;
}

static void
assert_bytes(protobuf_c_boolean has, ProtobufCBinaryData got, const void *want, size_t len)
{
    assert_true(has);
    assert_int_equal(got.len, len);
    assert_memory_equal(got.data, want, len);
}

/* AUTH_QUERY over UDP/IPv4: the query and its metadata, no response fields, no extra. */
static void
test_query_record(void **state)
{
    (void)state;
    struct sockaddr_in client = v4("192.0.2.7", 5353), local = v4("127.0.0.1", 53);
    struct dnstap_event ev = {.client = (struct sockaddr *)&client,
                              .local = (struct sockaddr *)&local,
                              .query_time = {1700000000, 123456789},
                              .response_time = {1700000001, 5},
                              .query = query,
                              .query_len = sizeof(query),
                              .response = response,
                              .response_len = sizeof(response),
                              .extra = "not in queries",
                              .extra_len = 14};
    struct dnstap_origin origin = {.identity = "ns1.test", .version = "Meridian 0.1.0"};
    Dnstap__Dnstap *d = round_trip(&origin, DNSTAP_AUTH_QUERY, &ev);
    const Dnstap__Message *m = d->message;
    assert_bytes(d->has_identity, d->identity, "ns1.test", 8);
    assert_bytes(d->has_version, d->version, "Meridian 0.1.0", 14);
    assert_false(d->has_extra);
    assert_int_equal(m->type, DNSTAP__MESSAGE__TYPE__AUTH_QUERY);
    assert_true(m->has_socket_family && m->has_socket_protocol);
    assert_int_equal(m->socket_family, DNSTAP__SOCKET_FAMILY__INET);
    assert_int_equal(m->socket_protocol, DNSTAP__SOCKET_PROTOCOL__UDP);
    assert_bytes(m->has_query_address, m->query_address, "\xc0\x00\x02\x07", 4);
    assert_bytes(m->has_response_address, m->response_address, "\x7f\x00\x00\x01", 4);
    assert_true(m->has_query_port && m->has_response_port);
    assert_int_equal(m->query_port, 5353);
    assert_int_equal(m->response_port, 53);
    assert_true(m->has_query_time_sec && m->has_query_time_nsec);
    assert_int_equal(m->query_time_sec, 1700000000);
    assert_int_equal(m->query_time_nsec, 123456789);
    assert_bytes(m->has_query_message, m->query_message, query, sizeof(query));
    assert_false(m->has_response_message);
    assert_false(m->has_response_time_sec);
    dnstap__dnstap__free_unpacked(d, NULL);
}

/* AUTH_RESPONSE over TCP/IPv6 with the decision in extra; no identity or version when the
 * origin has none; a local address of the other family is left out. */
static void
test_response_record(void **state)
{
    (void)state;
    struct sockaddr_in6 client = v6("2001:db8::7", 40000);
    struct sockaddr_in local = v4("127.0.0.1", 53);
    const char extra[] = "svc=www.test. pool=eu";
    struct dnstap_event ev = {.tcp = true,
                              .client = (struct sockaddr *)&client,
                              .local = (struct sockaddr *)&local,
                              .query_time = {1700000000, 1},
                              .response_time = {1700000000, 999999999},
                              .query = query,
                              .query_len = sizeof(query),
                              .response = response,
                              .response_len = sizeof(response),
                              .extra = extra,
                              .extra_len = strlen(extra)};
    struct dnstap_origin origin = {0};
    Dnstap__Dnstap *d = round_trip(&origin, DNSTAP_AUTH_RESPONSE, &ev);
    const Dnstap__Message *m = d->message;
    uint8_t addr[16];
    inet_pton(AF_INET6, "2001:db8::7", addr);
    assert_false(d->has_identity);
    assert_false(d->has_version);
    assert_bytes(d->has_extra, d->extra, extra, strlen(extra));
    assert_int_equal(m->type, DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE);
    assert_int_equal(m->socket_family, DNSTAP__SOCKET_FAMILY__INET6);
    assert_int_equal(m->socket_protocol, DNSTAP__SOCKET_PROTOCOL__TCP);
    assert_bytes(m->has_query_address, m->query_address, addr, 16);
    assert_int_equal(m->query_port, 40000);
    assert_false(m->has_response_address);
    assert_false(m->has_response_port);
    assert_int_equal(m->query_time_sec, 1700000000);
    assert_int_equal(m->query_time_nsec, 1);
    assert_true(m->has_response_time_sec && m->has_response_time_nsec);
    assert_int_equal(m->response_time_sec, 1700000000);
    assert_int_equal(m->response_time_nsec, 999999999);
    assert_bytes(m->has_response_message, m->response_message, response, sizeof(response));
    assert_false(m->has_query_message);
    dnstap__dnstap__free_unpacked(d, NULL);
}

/* A record larger than the buffer is not written; `needed` says how large it is. */
static void
test_record_too_large(void **state)
{
    (void)state;
    struct sockaddr_in client = v4("192.0.2.7", 5353);
    struct dnstap_event ev = {.client = (struct sockaddr *)&client,
                              .query = query,
                              .query_len = sizeof(query)};
    struct dnstap_origin origin = {.identity = "x"};
    uint8_t buf[256];
    size_t needed = 0, full = dnstap_encode(&origin, DNSTAP_AUTH_QUERY, &ev, buf, sizeof(buf),
                                            &needed);
    assert_true(full > 0);
    memset(buf, 0xAA, sizeof(buf));
    assert_int_equal(dnstap_encode(&origin, DNSTAP_AUTH_QUERY, &ev, buf, full - 1, &needed), 0);
    assert_int_equal(needed, full);
    assert_int_equal(buf[0], 0xAA); /* nothing written */
}

/* --- The decision text of real steered answers. */

static const char zone_text[] = "$ORIGIN example.com.\n"
                                "$TTL 3600\n"
                                "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                                "@ NS ns1\n"
                                "ns1 A 192.0.2.1\n"
                                "www A 192.0.2.80\n";

static const char services[] =
    "  geo.example.com:\n"
    "    ttl: 20\n"
    "    pools:\n"
    "      eu: { members: [ {address: 192.0.2.10}, {address: \"2001:db8::10\"} ] }\n"
    "      us: { members: [ {address: 198.51.100.10} ] }\n"
    "    geo: { country: { DE: [eu] }, default: [us, eu] }\n"
    /* No ttl: the default, 30 s. */
    "  alias.example.com:\n"
    "    type: cname\n"
    "    pools: { p: { members: [ {target: www.example.com.} ] } }\n"
    "  down.example.com:\n"
    "    ttl: 30\n"
    "    pools: { p: { members: [ {address: 192.0.2.50, down: true} ] } }\n"
    "    all_down: nodata\n";

static struct steer_view sv;
static bool sv_loaded;

static int
load_view(void)
{
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    char mmdb[PATH_MAX], err[STEER_VIEW_ERR_MAX];
    snprintf(mmdb, sizeof(mmdb), "%s/geoip/sample.mmdb", src ? src : ".");
    if (steer_view_load(&sv, mmdb, "example.com", zone_text, NULL, services, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    sv_loaded = true;
    return 0;
}

/* The extra text of the answer to q. */
static const char *
extra_of(struct answer_q q)
{
    static char text[DNSTAP_EXTRA_MAX];
    q.health = sv.health;
    ldns_pkt_free(answer_ask(&sv.view, &q));
    assert_true(answer_last.steered);
    size_t n = dnstap_extra_format(sv.policies, &answer_last.decision, answer_last.ecs, text,
                                   sizeof(text));
    assert_int_equal(n, strlen(text));
    return text;
}

static void
test_extra_geo(void **state)
{
    (void)state;
    /* ECS from Frankfurt (sample.csv: 127.0.1.0/24, DE): the country rule, pool eu. The
     * scope is whatever the answer's ECS option carried. */
    struct answer_q q = {.name = "geo.example.com.", .type = LDNS_RR_TYPE_A, .ecs = "127.0.1.0/24"};
    const char *text = extra_of(q);
    char want[256];
    snprintf(want, sizeof(want),
             "svc=geo.example.com. pool=eu member=192.0.2.10 members=1 ttl=20 ecs=/%u "
             "failed_open=0 rule=country DE",
             (unsigned)answer_last.decision.scope);
    assert_string_equal(text, want);
    assert_true(answer_last.decision.scope > 0);
    /* No ECS, source 127.0.0.1 (US): the default rule, first pool us; AAAA falls through
     * to eu, the pool with an IPv6 member. */
    q = (struct answer_q){.name = "geo.example.com.", .type = LDNS_RR_TYPE_A, .source = "127.0.0.1"};
    assert_string_equal(extra_of(q), "svc=geo.example.com. pool=us member=198.51.100.10 "
                                     "members=1 ttl=20 ecs=- failed_open=0 rule=default");
    q.type = LDNS_RR_TYPE_AAAA;
    assert_string_equal(extra_of(q), "svc=geo.example.com. pool=eu member=2001:db8::10 "
                                     "members=1 ttl=20 ecs=- failed_open=0 rule=default");
}

/* A CNAME member is named by its target; a service with every member down and all_down:
 * nodata answers nothing (pool and member "-"), and all_down applied (failed_open=1). */
static void
test_extra_cname_and_nodata(void **state)
{
    (void)state;
    struct answer_q q = {.name = "alias.example.com.", .type = LDNS_RR_TYPE_A, .source = "127.0.0.1"};
    assert_string_equal(extra_of(q), "svc=alias.example.com. pool=p member=www.example.com. "
                                     "members=1 ttl=30 ecs=- failed_open=0 rule=default");
    q.name = "down.example.com.";
    assert_string_equal(extra_of(q), "svc=down.example.com. pool=- member=- members=0 ttl=30 "
                                     "ecs=- failed_open=1 rule=default");
}

/* A decision naming a service the set does not have gives no text. */
static void
test_extra_unknown_service(void **state)
{
    (void)state;
    struct dns_decision d = {.service = 99};
    char text[64] = "unchanged";
    assert_int_equal(dnstap_extra_format(sv.policies, &d, false, text, sizeof(text)), 0);
    assert_int_equal(dnstap_extra_format(NULL, &d, false, text, sizeof(text)), 0);
}

/* --- The log with its I/O thread. */

static struct config
dnstap_config(const char *socket, const char *file, unsigned sample)
{
    struct config cfg = {.path = "test.yaml", .identity = "ns1.test", .version = "v1"};
    cfg.dnstap = (struct config_dnstap){.socket = (char *)socket,
                                        .file = (char *)file,
                                        .queries = true,
                                        .responses = true,
                                        .sample = sample,
                                        .line = 7};
    return cfg;
}

/* Logs `count` queries on `worker` (each chosen by sampling or not). */
static unsigned
log_queries(struct dnstap *dt, unsigned worker, unsigned count)
{
    struct sockaddr_in client = v4("192.0.2.7", 5353);
    unsigned sampled = 0;
    for (unsigned i = 0; i < count; i++) {
        struct dnstap_event ev = {.client = (struct sockaddr *)&client,
                                  .query = query,
                                  .query_len = sizeof(query)};
        if (!dnstap_sample(dt, worker, &ev.query_time))
            continue;
        sampled++;
        dnstap_log(dt, worker, &ev, response, sizeof(response), NULL, NULL);
    }
    return sampled;
}

/* A file: every record arrives, in order per worker, readable by fstrm's reader; sampling
 * keeps one query in 3. */
static void
test_log_file(void **state)
{
    (void)state;
    char path[PATH_MAX], err[CONFIG_ERR_MAX];
    snprintf(path, sizeof(path), "%s/log.fstrm", tmpdir);
    struct config cfg = dnstap_config(NULL, path, 3);
    struct dnstap *dt;
    assert_int_equal(dnstap_open(&cfg, 2, &dt, err), 0);
    assert_non_null(dt);
    unsigned sampled = log_queries(dt, 0, 30) + log_queries(dt, 1, 3);
    assert_int_equal(sampled, 10 + 1);
    struct dnstap_counters c;
    dnstap_counters_get(dt, 0, &c);
    assert_int_equal(c.logged, 20);
    dnstap_close(dt); /* writes everything out */

    struct fstrm_file_options *fopt = fstrm_file_options_init();
    fstrm_file_options_set_file_path(fopt, path);
    struct fstrm_reader *r = fstrm_file_reader_init(fopt, NULL);
    fstrm_file_options_destroy(&fopt);
    assert_non_null(r);
    assert_int_equal(fstrm_reader_open(r), fstrm_res_success);
    const uint8_t *data;
    size_t len;
    unsigned queries = 0, responses = 0;
    while (fstrm_reader_read(r, &data, &len) == fstrm_res_success) {
        Dnstap__Dnstap *d = dnstap__dnstap__unpack(NULL, len, data);
        assert_non_null(d);
        assert_bytes(d->has_identity, d->identity, "ns1.test", 8);
        if (d->message->type == DNSTAP__MESSAGE__TYPE__AUTH_QUERY) {
            queries++;
            assert_bytes(d->message->has_query_message, d->message->query_message, query,
                         sizeof(query));
        } else {
            responses++;
            assert_bytes(d->message->has_response_message, d->message->response_message,
                         response, sizeof(response));
        }
        dnstap__dnstap__free_unpacked(d, NULL);
    }
    fstrm_reader_destroy(&r);
    assert_int_equal(queries, 11);
    assert_int_equal(responses, 11);
}

/* Polls (bounded) until the worker's lost counter reaches `want`. */
static bool
wait_lost(const struct dnstap *dt, uint64_t want)
{
    for (int i = 0; i < 200 * test_time_scale(); i++) {
        struct dnstap_counters c;
        dnstap_counters_get(dt, UINT32_MAX, &c);
        if (c.lost >= want)
            return true;
        struct timespec ms = {0, 50 * 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    return false;
}

/* No reader on the socket: the I/O thread cannot open the output, so what it takes from the
 * queues is lost (counted), and the workers' records are queued as usual. */
static void
test_log_socket_absent(void **state)
{
    (void)state;
    char path[PATH_MAX], err[CONFIG_ERR_MAX];
    snprintf(path, sizeof(path), "%s/nobody.sock", tmpdir);
    struct config cfg = dnstap_config(path, NULL, 1);
    struct dnstap *dt;
    assert_int_equal(dnstap_open(&cfg, 1, &dt, err), 0);
    log_queries(dt, 0, 50);
    struct dnstap_counters c;
    dnstap_counters_get(dt, 0, &c);
    assert_int_equal(c.logged, 100);
    assert_int_equal(c.dropped, 0);
    /* The I/O thread wakes at the queue's notify threshold or after its flush timeout. */
    assert_true(wait_lost(dt, 100));
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    dnstap_status(dt, out);
    fclose(out);
    assert_non_null(strstr(text, "not open"));
    assert_non_null(strstr(text, "dnstap_records: logged 100, dropped 0, lost 100\n"));
    free(text);
    dnstap_close(dt);
}

/* A reader that accepts the connection but never reads: fstrm's I/O thread waits for the
 * handshake, the worker's queue fills, and further records are dropped and counted while
 * dnstap_log returns at once. The wait is bounded (dnstap_io.c's socket timeouts), so
 * closing the log, as a server stop does, returns while the reader is still stuck. */
static void
test_log_reader_stuck(void **state)
{
    (void)state;
    char path[PATH_MAX], err[CONFIG_ERR_MAX];
    snprintf(path, sizeof(path), "%s/stuck.sock", tmpdir);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    struct config cfg = dnstap_config(path, NULL, 1);
    struct dnstap *dt;
    assert_int_equal(dnstap_open(&cfg, 1, &dt, err), 0);
    log_queries(dt, 0, 2000); /* returns: no record waits for the reader */
    struct dnstap_counters c;
    dnstap_counters_get(dt, 0, &c);
    assert_int_equal(c.logged + c.dropped, 4000);
    /* At most the queue (1024) and what the I/O thread took before it blocked. */
    assert_true(c.logged <= 1024 + 64 + 2);
    assert_true(c.dropped >= 4000 - 1024 - 64 - 2);
    /* The listener stays open (never accepting): only the timeouts end the thread's wait.
     * A regression would hang here: SIGALRM then kills the test process (a failure), after
     * far longer than the 2 s timeouts take. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    alarm((unsigned)(60 * test_time_scale()));
    dnstap_close(dt);
    alarm(0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* It did wait for the stuck reader (a handshake timeout at least), then gave up. */
    assert_true(t1.tv_sec - t0.tv_sec >= 1);
    close(lfd);
}

/* A reload compares the new section with the one the log started with. */
static void
test_config_changed(void **state)
{
    (void)state;
    char path[PATH_MAX], err[CONFIG_ERR_MAX];
    snprintf(path, sizeof(path), "%s/changed.fstrm", tmpdir);
    struct config cfg = dnstap_config(NULL, path, 1);
    struct config none = dnstap_config(NULL, NULL, 1);
    struct dnstap *dt;
    assert_false(dnstap_config_changed(NULL, &none));
    assert_true(dnstap_config_changed(NULL, &cfg));
    assert_int_equal(dnstap_open(&none, 1, &dt, err), 0);
    assert_null(dt);
    assert_int_equal(dnstap_open(&cfg, 1, &dt, err), 0);
    assert_false(dnstap_config_changed(dt, &cfg));
    assert_true(dnstap_config_changed(dt, &none));
    cfg.dnstap.sample = 10;
    assert_true(dnstap_config_changed(dt, &cfg));
    cfg.dnstap.sample = 1;
    cfg.dnstap.identity = "other";
    assert_true(dnstap_config_changed(dt, &cfg));
    dnstap_close(dt);
}

static int
group_setup(void **state)
{
    if (test_tmpdir_setup(state) < 0)
        return -1;
    return load_view();
}

static int
group_teardown(void **state)
{
    if (sv_loaded)
        steer_view_fini(&sv);
    return test_tmpdir_teardown(state);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_record),
        cmocka_unit_test(test_response_record),
        cmocka_unit_test(test_record_too_large),
        cmocka_unit_test(test_extra_geo),
        cmocka_unit_test(test_extra_cname_and_nodata),
        cmocka_unit_test(test_extra_unknown_service),
        cmocka_unit_test(test_log_file),
        cmocka_unit_test(test_log_socket_absent),
        cmocka_unit_test(test_log_reader_stuck),
        cmocka_unit_test(test_config_changed),
    };
    test_tmpdir_template = tmpdir;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
