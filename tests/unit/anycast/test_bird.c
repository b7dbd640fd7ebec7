// SPDX-License-Identifier: MIT
/* Unit tests for the BIRD reply reader and the verification rules (src/anycast/bird.h), with
 * replies recorded from BIRD 2.0.12 on a site holding the gate devices mgate0/mdrain0, static
 * protocols anycast4/6 (via mgate0) and anycast4d/6d (via mdrain0, preference 190, community
 * (65535,0)) and BGP uplinks up4/up6. Also the fallback include file's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "anycast/bird.h"
#include "anycast/config.h"
#include "anycast/fallback.h"

/* ---- recorded replies (exact bytes, one reply each) ---- */

static const char welcome[] = "0001 BIRD 2.0.12 ready.\n";
static const char restricted[] = "0016 Access restricted\n";
static const char access_denied[] = "8007 Access denied\n";
static const char not_found[] = "8001 Network not found\n";
static const char no_tables[] = "9001 No valid tables\n";
static const char syntax_error[] =
    "9001 syntax error, unexpected CF_SYM_UNDEFINED, expecting CF_SYM_KNOWN\n";
/* `show route for 192.0.2.53/32 protocol anycast4` while the protocol has no route but the
 * network exists (via anycast4d): an empty, successful reply. */
static const char empty_ok[] = "0000 \n";

static const char protocols_up[] =
    "2002-Name       Proto      Table      State  Since         Info\n"
    "1002-device1    Device     ---        up     01:46:12.776  \n"
    " anycast4   Static     master4    up     01:46:12.776  \n"
    " anycast6   Static     master6    up     01:46:12.776  \n"
    " anycast4d  Static     master4    up     01:46:12.776  \n"
    " anycast6d  Static     master6    up     01:46:12.776  \n"
    " up4        BGP        ---        up     01:46:13.585  Established   \n"
    " up6        BGP        ---        up     01:46:13.623  Established   \n"
    "0000 \n";

static const char protocols_peer_down[] =
    "2002-Name       Proto      Table      State  Since         Info\n"
    "1002-device1    Device     ---        up     01:46:12.776  \n"
    " anycast4   Static     master4    up     01:46:12.776  \n"
    " anycast6   Static     master6    up     01:46:12.776  \n"
    " anycast4d  Static     master4    down   01:46:29.066  \n"
    " anycast6d  Static     master6    up     01:46:12.776  \n"
    " up4        BGP        ---        start  01:46:28.254  Active        Socket: Connection "
    "refused\n"
    " up6        BGP        ---        up     01:46:13.623  Established   \n"
    "0000 \n";

/* Gate up: `show route for 192.0.2.53/32` (same text for `... export up4`). */
static const char route_normal[] = "1007-Table master4:\n"
                                   " 192.0.2.53/32        unicast [anycast4 01:46:20.301] * (200)\n"
                                   " \tdev mgate0\n"
                                   "0000 \n";

/* Both gates up (make-before-break moment): two routes, the normal one best. */
static const char route_both[] = "1007-Table master4:\n"
                                 " 192.0.2.53/32        unicast [anycast4 01:46:20.301] * (200)\n"
                                 " \tdev mgate0\n"
                                 "                      unicast [anycast4d 01:46:21.053] (190)\n"
                                 " \tdev mdrain0\n"
                                 "0000 \n";

/* Drain gate only (normal gate down). */
static const char route_drain[] = "1007-Table master4:\n"
                                  " 192.0.2.53/32        unicast [anycast4d 01:46:21.053] * (190)\n"
                                  " \tdev mdrain0\n"
                                  "0000 \n";

/* `show route for 2001:db8:53::53/128 all` with both gates up: attribute rows 1008/1012 and a
 * repeated 1007 code for the second route. */
static const char route_all_v6[] =
    "1007-Table master6:\n"
    " 2001:db8:53::53/128  unicast [anycast6 01:46:32.662] * (200)\n"
    " \tdev mgate0\n"
    "1008-\tType: static univ\n"
    "1007-                     unicast [anycast6d 01:46:21.053] (190)\n"
    " \tdev mdrain0\n"
    "1008-\tType: static univ\n"
    "1012-\tBGP.community: (65535,0)\n"
    "0000 \n";

/* Feeds a recorded reply line by line; every line but the last must ask for more. */
static void
feed(struct anycast_bird_reply *r, const char *text)
{
    char *copy = strdup(text), *save = NULL;
    int rc = -2;
    anycast_bird_reply_init(r);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        assert_int_not_equal(rc, ANYCAST_BIRD_DONE);
        rc = anycast_bird_reply_feed(r, line);
        assert_int_not_equal(rc, -1);
    }
    assert_int_equal(rc, ANYCAST_BIRD_DONE);
    free(copy);
}

static void
test_reader_codes(void **unused)
{
    struct anycast_bird_reply r;
    (void)unused;
    feed(&r, welcome);
    assert_int_equal(r.code, 1);
    assert_string_equal(anycast_bird_reply_message(&r), "BIRD 2.0.12 ready.");
    assert_false(anycast_bird_reply_error(&r));
    anycast_bird_reply_fini(&r);

    feed(&r, restricted);
    assert_int_equal(r.code, 16);
    anycast_bird_reply_fini(&r);

    feed(&r, access_denied);
    assert_int_equal(r.code, 8007);
    assert_true(anycast_bird_reply_error(&r));
    anycast_bird_reply_fini(&r);

    feed(&r, syntax_error);
    assert_int_equal(r.code, 9001);
    anycast_bird_reply_fini(&r);

    /* Continuation lines inherit the code of the line before. */
    feed(&r, protocols_up);
    assert_int_equal(r.code, 0);
    assert_int_equal(r.count, 9);
    assert_int_equal(r.lines[0].code, 2002);
    assert_int_equal(r.lines[2].code, 1002);
    assert_string_equal(r.lines[2].text, "anycast4   Static     master4    up     01:46:12.776  ");
    anycast_bird_reply_fini(&r);
}

static void
test_reader_edge_cases(void **unused)
{
    struct anycast_bird_reply r;
    (void)unused;
    anycast_bird_reply_init(&r);
    /* A continuation before any coded line is out of step. */
    assert_int_equal(anycast_bird_reply_feed(&r, " orphan"), -1);
    assert_int_equal(anycast_bird_reply_feed(&r, "12x4 nope"), -1);
    assert_int_equal(anycast_bird_reply_feed(&r, "1234?bad separator"), -1);
    assert_int_equal(anycast_bird_reply_feed(&r, "abc"), -1);
    /* '+' lines are asynchronous messages, skipped; CR is tolerated; "NNNN" alone ends. */
    assert_int_equal(anycast_bird_reply_feed(&r, "+2024-01-01 log line"), ANYCAST_BIRD_MORE);
    assert_int_equal(anycast_bird_reply_feed(&r, "1007-Table master4:\r"), ANYCAST_BIRD_MORE);
    assert_string_equal(r.lines[0].text, "Table master4:");
    assert_int_equal(anycast_bird_reply_feed(&r, "0000"), ANYCAST_BIRD_DONE);
    assert_int_equal(r.code, 0);
    /* Nothing may follow a complete reply. */
    assert_int_equal(anycast_bird_reply_feed(&r, "0000 "), -1);
    anycast_bird_reply_fini(&r);
    assert_int_equal(r.code, -1);
    assert_string_equal(anycast_bird_reply_message(&r), "");
}

static void
test_protocols(void **unused)
{
    struct anycast_bird_reply r;
    struct anycast_bird_protocol rows[16];
    int n;
    (void)unused;
    feed(&r, protocols_up);
    n = anycast_bird_parse_protocols(&r, rows, 16);
    assert_int_equal(n, 7);
    assert_string_equal(rows[0].name, "device1");
    assert_string_equal(rows[0].info, "");
    assert_string_equal(rows[1].name, "anycast4");
    assert_string_equal(rows[1].proto, "Static");
    assert_string_equal(rows[1].state, "up");
    assert_string_equal(rows[5].name, "up4");
    assert_string_equal(rows[5].proto, "BGP");
    assert_string_equal(rows[5].info, "Established");
    /* max bounds the rows stored. */
    assert_int_equal(anycast_bird_parse_protocols(&r, rows, 2), 2);
    anycast_bird_reply_fini(&r);

    feed(&r, protocols_peer_down);
    n = anycast_bird_parse_protocols(&r, rows, 16);
    assert_int_equal(n, 7);
    assert_string_equal(rows[3].state, "down");
    assert_string_equal(rows[5].state, "start");
    assert_string_equal(rows[5].info, "Active        Socket: Connection refused");
    anycast_bird_reply_fini(&r);

    /* A date-aware timeformat puts two words in Since. */
    anycast_bird_reply_init(&r);
    assert_int_equal(anycast_bird_reply_feed(&r, "1002-up4  BGP  ---  up  2024-05-01 "
                                                 "10:00:00  Established"),
                     ANYCAST_BIRD_MORE);
    assert_int_equal(anycast_bird_reply_feed(&r, "0000 "), ANYCAST_BIRD_DONE);
    assert_int_equal(anycast_bird_parse_protocols(&r, rows, 16), 1);
    assert_string_equal(rows[0].info, "Established");
    anycast_bird_reply_fini(&r);

    feed(&r, access_denied);
    assert_int_equal(anycast_bird_parse_protocols(&r, rows, 16), -1);
    anycast_bird_reply_fini(&r);
}

static void
test_routes(void **unused)
{
    struct anycast_bird_reply r;
    struct anycast_bird_route routes[8];
    size_t n;
    (void)unused;
    feed(&r, route_normal);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_ROUTES);
    assert_int_equal(n, 1);
    assert_string_equal(routes[0].proto, "anycast4");
    assert_true(routes[0].primary);
    anycast_bird_reply_fini(&r);

    feed(&r, route_both);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_ROUTES);
    assert_int_equal(n, 2);
    assert_string_equal(routes[1].proto, "anycast4d");
    assert_false(routes[1].primary);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 1, &n), ANYCAST_BIRD_ROUTES);
    assert_int_equal(n, 1);
    anycast_bird_reply_fini(&r);

    feed(&r, route_all_v6);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_ROUTES);
    assert_int_equal(n, 2);
    assert_string_equal(routes[0].proto, "anycast6");
    assert_string_equal(routes[1].proto, "anycast6d");
    anycast_bird_reply_fini(&r);

    feed(&r, not_found);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_ROUTES);
    assert_int_equal(n, 0);
    anycast_bird_reply_fini(&r);

    feed(&r, empty_ok);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_ROUTES);
    assert_int_equal(n, 0);
    anycast_bird_reply_fini(&r);

    feed(&r, no_tables);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_NO_TABLE);
    anycast_bird_reply_fini(&r);

    feed(&r, syntax_error);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_FAILED);
    anycast_bird_reply_fini(&r);

    /* An incomplete reply is never "no routes". */
    anycast_bird_reply_init(&r);
    assert_int_equal(anycast_bird_reply_feed(&r, "1007-Table master4:"), ANYCAST_BIRD_MORE);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_FAILED);
    anycast_bird_reply_fini(&r);
}

static char *normal_names[] = {"anycast4", "anycast6"};
static char *drain_names[] = {"anycast4d", "anycast6d"};
static const struct anycast_bird_names names = {normal_names, 2, drain_names, 2};
static const struct anycast_bird_names names_no_drain = {normal_names, 2, NULL, 0};

/* Parses `text` as `show route` and runs the route check. */
static int
check_routes(enum anycast_intent intent, const struct anycast_bird_names *nm, const char *text,
             char *msg, size_t size)
{
    struct anycast_bird_reply r;
    struct anycast_bird_route routes[8];
    size_t n;
    int rc;
    feed(&r, text);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_ROUTES);
    rc = anycast_bird_check_routes(intent, nm, routes, n, msg, size);
    anycast_bird_reply_fini(&r);
    return rc;
}

static int
check_export(enum anycast_intent intent, const struct anycast_bird_names *nm, const char *text,
             char *msg, size_t size)
{
    struct anycast_bird_reply r;
    struct anycast_bird_route routes[8];
    size_t n;
    int rc;
    feed(&r, text);
    assert_int_equal(anycast_bird_parse_routes(&r, routes, 8, &n), ANYCAST_BIRD_ROUTES);
    rc = anycast_bird_check_export(intent, nm, "up4", routes, n, msg, size);
    anycast_bird_reply_fini(&r);
    return rc;
}

static void
test_check_routes(void **unused)
{
    char msg[256];
    (void)unused;
    /* Agreement. */
    assert_int_equal(check_routes(ANYCAST_INTENT_ANNOUNCE, &names, route_normal, msg, 256), 0);
    assert_int_equal(check_routes(ANYCAST_INTENT_DRAIN, &names, route_drain, msg, 256), 0);
    assert_int_equal(check_routes(ANYCAST_INTENT_WITHDRAW, &names, not_found, msg, 256), 0);
    assert_string_equal(msg, "");

    /* Announce, but BIRD has no route from the gate's protocol (wrong device name in BIRD's
     * config, protocol disabled, ...). */
    assert_int_equal(check_routes(ANYCAST_INTENT_ANNOUNCE, &names, not_found, msg, 256), -1);
    assert_string_equal(msg, "announce: no route from anycast4 (or the other bird_protocols)");
    assert_int_equal(check_routes(ANYCAST_INTENT_ANNOUNCE, &names, route_drain, msg, 256), -1);
    /* Withdraw, but a route is still there. */
    assert_int_equal(check_routes(ANYCAST_INTENT_WITHDRAW, &names, route_normal, msg, 256), -1);
    assert_string_equal(msg, "withdraw: route from anycast4 present");
    assert_int_equal(check_routes(ANYCAST_INTENT_WITHDRAW, &names, route_drain, msg, 256), -1);
    assert_string_equal(msg, "withdraw: route from anycast4d present");
    /* Drain intent with the normal route still up. */
    assert_int_equal(check_routes(ANYCAST_INTENT_DRAIN, &names, route_both, msg, 256), -1);
    assert_string_equal(msg, "announce-gshut: route from anycast4 present");
    assert_int_equal(check_routes(ANYCAST_INTENT_DRAIN, &names, not_found, msg, 256), -1);
    assert_string_equal(msg, "announce-gshut: no route from anycast4d (or the other "
                             "bird_drain_protocols)");
    /* Announce with the drain route also up (a half-done change). */
    assert_int_equal(check_routes(ANYCAST_INTENT_ANNOUNCE, &names, route_both, msg, 256), -1);
    /* Without drain protocols configured, drain routes are not looked at. */
    assert_int_equal(check_routes(ANYCAST_INTENT_DRAIN, &names_no_drain, not_found, msg, 256), 0);
    assert_int_equal(check_routes(ANYCAST_INTENT_ANNOUNCE, &names_no_drain, route_both, msg, 256),
                     0);
}

static void
test_check_export(void **unused)
{
    static const struct anycast_bird_names none = {NULL, 0, NULL, 0};
    char msg[256];
    (void)unused;
    assert_int_equal(check_export(ANYCAST_INTENT_ANNOUNCE, &names, route_normal, msg, 256), 0);
    assert_int_equal(check_export(ANYCAST_INTENT_DRAIN, &names, route_drain, msg, 256), 0);
    assert_int_equal(check_export(ANYCAST_INTENT_WITHDRAW, &names, not_found, msg, 256), 0);

    assert_int_equal(check_export(ANYCAST_INTENT_ANNOUNCE, &names, not_found, msg, 256), -1);
    assert_string_equal(msg, "announce: not exported to up4");
    assert_int_equal(check_export(ANYCAST_INTENT_ANNOUNCE, &names, route_drain, msg, 256), -1);
    assert_string_equal(msg, "announce: up4 gets the route from anycast4d");
    assert_int_equal(check_export(ANYCAST_INTENT_DRAIN, &names, route_normal, msg, 256), -1);
    assert_string_equal(msg, "announce-gshut: up4 gets the route from anycast4");
    assert_int_equal(check_export(ANYCAST_INTENT_WITHDRAW, &names, route_drain, msg, 256), -1);
    assert_string_equal(msg, "withdraw: still exported to up4 (from anycast4d)");
    /* Drain without drain protocols: anything but the normal protocols will do. */
    assert_int_equal(check_export(ANYCAST_INTENT_DRAIN, &names_no_drain, route_drain, msg, 256), 0);
    assert_int_equal(check_export(ANYCAST_INTENT_DRAIN, &names_no_drain, route_normal, msg, 256),
                     -1);
    /* No protocol names at all: exported or not is all that is checked. */
    assert_int_equal(check_export(ANYCAST_INTENT_ANNOUNCE, &none, route_drain, msg, 256), 0);
    assert_int_equal(check_export(ANYCAST_INTENT_WITHDRAW, &none, route_normal, msg, 256), -1);
    assert_string_equal(anycast_intent_name(ANYCAST_INTENT_WITHDRAW), "withdraw");
}

static void
test_fallback_render(void **unused)
{
    struct anycast_prefix prefixes[3] = {
        {.text = "192.0.2.53/32", .family = AF_INET},
        {.text = "2001:db8:53::53/128", .family = AF_INET6},
        {.text = "198.51.100.0/24", .family = AF_INET},
    };
    char *protos[] = {"anycast4", "anycast6"};
    struct anycast_config cfg = {.prefixes = prefixes,
                                 .prefix_count = 3,
                                 .bird_protocols = protos,
                                 .bird_protocol_count = 2};
    char *text;
    (void)unused;
    text = anycast_fallback_render(&cfg, ANYCAST_INTENT_ANNOUNCE);
    assert_string_equal(text,
                        "# Written by meridian-anycast (fallback: no tun gate). Do not edit.\n"
                        "# intent: announce\n"
                        "protocol static anycast4 {\n"
                        "    ipv4;\n"
                        "    route 192.0.2.53/32 blackhole;\n"
                        "    route 198.51.100.0/24 blackhole;\n"
                        "}\n"
                        "protocol static anycast6 {\n"
                        "    ipv6;\n"
                        "    route 2001:db8:53::53/128 blackhole;\n"
                        "}\n");
    free(text);
    text = anycast_fallback_render(&cfg, ANYCAST_INTENT_DRAIN);
    assert_non_null(strstr(text, "    route 2001:db8:53::53/128 blackhole { "
                                 "bgp_community.add((65535, 0)); };\n"));
    free(text);
    /* Withdrawn: the protocols stay, empty (valid in BIRD 2). */
    text = anycast_fallback_render(&cfg, ANYCAST_INTENT_WITHDRAW);
    assert_string_equal(text,
                        "# Written by meridian-anycast (fallback: no tun gate). Do not edit.\n"
                        "# intent: withdraw\n"
                        "protocol static anycast4 {\n"
                        "    ipv4;\n"
                        "}\n"
                        "protocol static anycast6 {\n"
                        "    ipv6;\n"
                        "}\n");
    free(text);
    /* IPv6 only: the one name goes to IPv6. */
    cfg.prefixes = &prefixes[1];
    cfg.prefix_count = 1;
    cfg.bird_protocol_count = 1;
    protos[0] = "only6";
    text = anycast_fallback_render(&cfg, ANYCAST_INTENT_ANNOUNCE);
    assert_non_null(strstr(text, "protocol static only6 {\n    ipv6;\n"));
    free(text);
    assert_true(anycast_fallback_configured(3));
    assert_true(anycast_fallback_configured(4));
    assert_true(anycast_fallback_configured(5));
    assert_false(anycast_fallback_configured(8002));
    assert_false(anycast_fallback_configured(20));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_codes),    cmocka_unit_test(test_reader_edge_cases),
        cmocka_unit_test(test_protocols),       cmocka_unit_test(test_routes),
        cmocka_unit_test(test_check_routes),    cmocka_unit_test(test_check_export),
        cmocka_unit_test(test_fallback_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
