// SPDX-License-Identifier: MIT
/* Steered answers in a signed zone (ARCHITECTURE.md §5, dnssec_variants.h): the view is built
 * as meridiand builds it (tests/unit/steer_view.c) and signed with a fresh CSK, and its
 * variants are signed by the server's own code (src/server/steer_sign.c, compiled into this
 * test with a snapshot that holds just the policies, zones and signer output). Then every
 * steered answer dns_answer gives to DO=1 queries, for weighted, sticky, all, first_n and
 * CNAME services, several clients (ECS, source address, none), random draws and health
 * tables with members down, drained or about to change, must carry an RRSIG that verifies
 * with the RRset as served (original TTL the service's, served TTL at most that); steered
 * NODATA its NSEC3 proof. What health makes new (a subset of an `all` pool) is unsigned until
 * steer_sign runs with that table, which is why the health thread calls it before
 * publishing. Single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer_test.h"
#include "dnssec_check.h"
#include "server/steer_sign.h"
#include "steer_view.h"
#include "test_tmpdir.h"

static const char zone_text[] = "$ORIGIN example.com.\n"
                                "$TTL 3600\n"
                                "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                                "@ NS ns1\n"
                                "ns1 A 192.0.2.1\n"
                                "mail A 192.0.2.25\n"
                                "www A 192.0.2.80\n"
                                "alias CNAME w\n";

static const char checks[] = "  web: { type: tcp, port: 80 }\n";

static const char services[] =
    "  w.example.com:\n"
    "    ttl: 30\n"
    "    pools:\n"
    "      p: { members: [ {address: 192.0.2.41, weight: 1, check: web},\n"
    "                      {address: 192.0.2.42, weight: 3, check: web},\n"
    "                      {address: \"2001:db8::41\", check: web} ] }\n"
    "  sticky.example.com:\n"
    "    select: sticky\n"
    "    ttl: 40\n"
    "    pools:\n"
    "      p: { members: [ {address: 192.0.2.51, check: web}, {address: 192.0.2.52, check: web},\n"
    "                      {address: 192.0.2.53, check: web}, {address: \"2001:db8::51\"},\n"
    "                      {address: \"2001:db8::52\"} ] }\n"
    /* Geo and `all`: DE gets eu then us, everyone else us then eu. */
    "  all.example.com:\n"
    "    select: all\n"
    "    ttl: 20\n"
    "    pools:\n"
    "      eu: { members: [ {address: 192.0.2.61, check: web}, {address: 192.0.2.62, check: web},\n"
    "                       {address: 192.0.2.63, check: web},\n"
    "                       {address: \"2001:db8::61\", check: web},\n"
    "                       {address: \"2001:db8::62\", check: web} ] }\n"
    "      us: { members: [ {address: 198.51.100.71, check: web},\n"
    "                       {address: 198.51.100.72, check: web} ] }\n"
    "    geo: { country: { DE: [eu, us] }, default: [us, eu] }\n"
    /* IPv4 only, so AAAA is a steered NODATA; every member down is NODATA too. */
    "  first.example.com:\n"
    "    select: first_n\n"
    "    first_n: 2\n"
    "    ttl: 25\n"
    "    all_down: nodata\n"
    "    pools:\n"
    "      p: { members: [ {address: 192.0.2.81, check: web}, {address: 192.0.2.82, check: web},\n"
    "                      {address: 192.0.2.83, check: web}, {address: 192.0.2.84, check: web} ] "
    "}\n"
    "  cdn.example.com:\n"
    "    type: cname\n"
    "    ttl: 45\n"
    "    pools:\n"
    "      near: { members: [ {target: www.example.com., check: web} ] }\n"
    "      far: { members: [ {target: edge.example.net., check: web} ] }\n"
    "    geo: { country: { DE: [near, far] }, default: [far, near] }\n"
    "  wcdn.example.com:\n"
    "    type: cname\n"
    "    ttl: 35\n"
    "    pools:\n"
    "      p: { members: [ {target: www.example.com., weight: 1},\n"
    "                      {target: mail.example.com., weight: 3} ] }\n"
    /* NODATA that depends on health or the client, at names whose NSEC3 bit map lists the
     * type (test_nodata_*): all_down: nodata, and a location whose pools lack IPv6. */
    "  nodata.example.com:\n"
    "    ttl: 15\n"
    "    all_down: nodata\n"
    "    pools: { p: { members: [ {address: 192.0.2.111, check: web},\n"
    "                             {address: \"2001:db8::111\", check: web} ] } }\n"
    "  ncdn.example.com:\n"
    "    type: cname\n"
    "    ttl: 15\n"
    "    all_down: nodata\n"
    "    pools: { p: { members: [ {target: edge2.example.net., check: web} ] } }\n"
    "  geo6.example.com:\n"
    "    ttl: 20\n"
    "    pools:\n"
    "      eu: { members: [ {address: 192.0.2.101}, {address: \"2001:db8::101\"} ] }\n"
    "      ap: { members: [ {address: 203.0.113.101} ] }\n"
    "    geo: { continent: { AS: [ap] }, default: [eu] }\n"
    /* Only the hook test changes its members' health. */
    "  flap.example.com:\n"
    "    select: all\n"
    "    ttl: 15\n"
    "    pools:\n"
    "      p: { members: [ {address: 192.0.2.91, check: web}, {address: 192.0.2.92, check: web},\n"
    "                      {address: 192.0.2.93, check: web} ] }\n";

/* Names and TTLs of the services the sweep asks. */
static const struct {
    const char *name;
    uint32_t ttl;
    bool subsets; /* all / first_n: answers health makes new need steer_sign */
} svcs[] = {
    {"w.example.com.", 30, false},   {"sticky.example.com.", 40, false},
    {"all.example.com.", 20, true},  {"first.example.com.", 25, true},
    {"cdn.example.com.", 45, false}, {"wcdn.example.com.", 35, false},
};

/* Who asks: ECS from DE, JP and the US, IPv6 ECS from DE, source addresses, nobody. */
static const struct {
    const char *ecs, *source;
} clients[] = {
    {"10.2.0.0/24", NULL}, {"10.3.0.0/24", NULL}, {"10.1.2.0/24", NULL}, {"2001:db8:2::/48", NULL},
    {NULL, "127.0.1.1"},   {NULL, "127.0.4.1"},   {NULL, "::1"},         {NULL, NULL},
};

static struct steer_view sv;
static struct snapshot snap;
static char keydir[64];
static time_t now;

static int
setup(void **state)
{
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    char mmdb[PATH_MAX], err[STEER_VIEW_ERR_MAX];

    (void)state;
    snprintf(mmdb, sizeof(mmdb), "%s/geoip/sample.mmdb", src ? src : ".");
    snprintf(keydir, sizeof(keydir), "/tmp/meridian-steer-keys-XXXXXX");
    if (!mkdtemp(keydir))
        return -1;
    if (steer_view_load(&sv, mmdb, "example.com", zone_text, checks, services, err) < 0 ||
        steer_view_sign(&sv, keydir, DNSSEC_ALG_ECDSAP256SHA256,
                        steer_sign_expected(sv.policies, sv.zones->zones[0]), err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    /* The snapshot as steer_sign reads it; the loader signs with no health known. */
    snap = (struct snapshot){
        .zones = sv.zones, .policies = sv.policies, .signed_zones = &sv.signed_zone};
    steer_sign(&snap, NULL, time(NULL));
    now = time(NULL);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    steer_view_fini(&sv);
    return test_tmpdir_remove(keydir);
}

static int
reset_health(void **state)
{
    (void)state;
    steer_view_health_reset(&sv);
    return 0;
}

static struct health_entry *
entry(const char *addr)
{
    struct health_entry *e = steer_view_health_entry(&sv, addr);
    if (!e)
        fail_msg("no health target %s", addr);
    return e;
}

static ldns_pkt *
ask(const char *name, ldns_rr_type type, size_t client, uint64_t random, uint32_t now_s)
{
    return answer_ask(&sv.view, &(struct answer_q){.name = name,
                                                   .type = type,
                                                   .dnssec_ok = true,
                                                   .ecs = clients[client].ecs,
                                                   .source = clients[client].source,
                                                   .random = random,
                                                   .now_s = now_s,
                                                   .health = sv.health});
}

/* The RRSIG in list covering owner/type, or NULL. */
static const ldns_rr *
rrsig_of(const ldns_rr_list *list, const ldns_rr *rr)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
        const ldns_rr *s = ldns_rr_list_rr(list, i);
        if (ldns_rr_get_type(s) == LDNS_RR_TYPE_RRSIG &&
            ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(s)) == ldns_rr_get_type(rr) &&
            ldns_dname_compare(ldns_rr_owner(s), ldns_rr_owner(rr)) == 0)
            return s;
    }
    return NULL;
}

/* Is the list's record `rr` the service's steered RRset? */
static bool
is_owner(const ldns_rr *rr, const char *name)
{
    ldns_rdf *owner = ldns_dname_new_frm_str(name);
    bool same = ldns_dname_compare(ldns_rr_owner(rr), owner) == 0;
    ldns_rdf_deep_free(owner);
    return same;
}

/* A DO=1 answer of the service `name` (TTL `ttl`): a positive one has every answer RRset signed,
 * the steered one with the service's TTL as original TTL; a steered NODATA the NSEC3 matching the
 * name, without the type. `must` false: the steered RRset may lack its RRSIG (returns whether it
 * had one). Every RRSIG present must verify. */
static bool
check_answer(const ldns_pkt *r, const char *name, uint32_t ttl, ldns_rr_type type, bool must)
{
    const ldns_rr_list *an = ldns_pkt_answer(r), *ns = ldns_pkt_authority(r);
    bool steered_signed = true, steered_seen = false;
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_true(answer_last.steered);
    dnssec_verify_pkt(&sv.signed_zone->keys, r, now);
    if (ldns_rr_list_rr_count(an) == 0) {
        /* Steered NODATA: SOA, its RRSIG, the name's NSEC3 and its RRSIG. */
        assert_int_equal(ldns_rr_list_rr_count(ns), 4);
        const ldns_rr *nsec3 = ldns_rr_list_rr(ns, 2);
        assert_int_equal(ldns_rr_get_type(nsec3), LDNS_RR_TYPE_NSEC3);
        assert_non_null(rrsig_of(ns, nsec3));
        /* RFC 5155 §8.5: neither the type's bit nor CNAME's. */
        assert_false(ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(nsec3), type));
        assert_false(ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(nsec3), LDNS_RR_TYPE_CNAME));
        /* RFC 5155 §7.2.3: the NSEC3 matching the name (hashed by ldns). */
        ldns_rdf *owner = ldns_dname_new_frm_str(name);
        ldns_rdf *hashed = ldns_nsec3_hash_name_frm_nsec3(nsec3, owner);
        ldns_rdf *label = ldns_dname_label(ldns_rr_owner(nsec3), 0);
        assert_int_equal(ldns_dname_compare(label, hashed), 0);
        ldns_rdf_deep_free(label);
        ldns_rdf_deep_free(hashed);
        ldns_rdf_deep_free(owner);
        ldns_status st = dnssec_ldns_denial(r);
        if (st != LDNS_STATUS_OK)
            fail_msg("ldns rejects the NODATA proof: %s", ldns_get_errorstr_by_id(st));
        return true;
    }
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG)
            continue;
        const ldns_rr *sig = rrsig_of(an, rr);
        bool steered = is_owner(rr, name);
        steered_seen |= steered;
        if (!sig) {
            char *text = ldns_rr2str(rr);
            if (!steered || must)
                fail_msg("no RRSIG for %s", text);
            free(text);
            steered_signed = false;
            continue;
        }
        if (steered) {
            /* Original TTL: the service's; served: at most that (capped by health). */
            assert_int_equal(ldns_rdf2native_int32(ldns_rr_rrsig_origttl(sig)), ttl);
            assert_true(ldns_rr_ttl(rr) <= ttl);
        }
    }
    assert_true(steered_seen);
    return steered_signed;
}

/* Every service, both families, every client, a few random draws: `must` as above for the
 * services whose answers are all signed at load (each member alone), and for all services
 * once steer_sign has seen the table. Returns the number of steered answers that lacked
 * their RRSIG. */
static unsigned
sweep(bool signed_for_health, uint32_t now_s)
{
    static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
    unsigned unsigned_answers = 0;
    for (size_t s = 0; s < sizeof(svcs) / sizeof(svcs[0]); s++)
        for (int t = 0; t < 2; t++)
            for (size_t c = 0; c < sizeof(clients) / sizeof(clients[0]); c++)
                for (uint64_t random = 0; random < 4; random++) {
                    ldns_pkt *r = ask(svcs[s].name, types[t], c, random, now_s);
                    if (!check_answer(r, svcs[s].name, svcs[s].ttl, types[t],
                                      signed_for_health || !svcs[s].subsets))
                        unsigned_answers++;
                    ldns_pkt_free(r);
                }
    return unsigned_answers;
}

/* Health as the health thread publishes it: the sweep runs before steer_sign sees the
 * table (only `all` and first_n may miss signatures: returns how many did) and after. */
static unsigned
sweep_health(uint32_t now_s)
{
    unsigned before = sweep(false, now_s);
    steer_sign(&snap, sv.health, time(NULL));
    assert_int_equal(sweep(true, now_s), 0);
    return before;
}

static void
test_all_up(void **state)
{
    (void)state;
    assert_int_equal(sweep(true, 100), 0);
    /* Something was signed ahead: every member alone at least. */
    assert_true(sv.signed_zone->variants.used >= 20);
    assert_int_equal(sv.signed_zone->variants.full, 0);

    /* A static CNAME to a steered name: both RRsets signed, the steered one as a variant. */
    ldns_pkt *r = ask("alias.example.com.", LDNS_RR_TYPE_A, 7, 0, 0);
    dnssec_assert_ordered(ldns_pkt_answer(r),
                          "alias.example.com. 3600 IN CNAME w.example.com.\n"
                          "alias.example.com. 3600 IN RRSIG CNAME 13 3 3600 "
                          "example.com.\n"
                          "w.example.com. 30 IN A 192.0.2.41\n"
                          "w.example.com. 30 IN RRSIG A 13 3 30 example.com.\n");
    assert_int_equal(dnssec_verify_pkt(&sv.signed_zone->keys, r, now), 2);
    ldns_pkt_free(r);
}

static void
test_members_down(void **state)
{
    (void)state;
    /* One member of each service down. */
    static const char *const down1[] = {"192.0.2.42",   "192.0.2.51", "192.0.2.61",
                                        "2001:db8::61", "192.0.2.81", "www.example.com."};
    for (size_t i = 0; i < sizeof(down1) / sizeof(down1[0]); i++)
        entry(down1[i])->state = HEALTH_DOWN;
    /* New subsets of `all` and first_n (e.g. DE's 62 and 63): unsigned until steer_sign. */
    assert_true(sweep_health(100) > 0);
    /* More: eu's IPv4 all down (DE falls through to us), first_n left with one member,
     * the far CNAME target down too (fail open). */
    static const char *const down2[] = {"192.0.2.62", "192.0.2.63", "192.0.2.82", "192.0.2.83",
                                        "edge.example.net."};
    for (size_t i = 0; i < sizeof(down2) / sizeof(down2[0]); i++)
        entry(down2[i])->state = HEALTH_DOWN;
    sweep_health(100); /* us {71, 72} is the default order's answer: signed at load */
    /* Everything down: fail open (all_down: all), and a drained member stays out even then. */
    for (uint32_t id = 0; id < sv.health->count; id++)
        if (strncmp(sv.policies->health_targets[id].text, "192.0.2.8", 9) != 0 &&
            strncmp(sv.policies->health_targets[id].text, "192.0.2.9", 9) != 0)
            sv.health->entries[id].state = HEALTH_DOWN;
    entry("198.51.100.71")->drained = 1;
    sweep_health(100);
}

/* Health about to change caps the served TTL (policy_select); the RRSIG, made with the
 * service's TTL, still verifies and carries the served TTL (RFC 4034 §3, RFC 4035 §5.3.3). */
static void
test_capped_ttl(void **state)
{
    (void)state;
    static const char *const soon[] = {"192.0.2.41",       "192.0.2.42",       "2001:db8::41",
                                       "192.0.2.51",       "192.0.2.52",       "192.0.2.53",
                                       "192.0.2.61",       "198.51.100.71",    "192.0.2.81",
                                       "www.example.com.", "edge.example.net."};
    for (size_t i = 0; i < sizeof(soon) / sizeof(soon[0]); i++)
        entry(soon[i])->earliest_change_s = 1007;
    steer_sign(&snap, sv.health, time(NULL));
    assert_int_equal(sweep(true, 1000), 0);
    ldns_pkt *r = ask("w.example.com.", LDNS_RR_TYPE_A, 7, 0, 1000);
    assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(r), 0)), 7);
    assert_int_equal(dnssec_verify_pkt(&sv.signed_zone->keys, r, now), 1);
    ldns_pkt_free(r);
}

/* The health hook is needed: a subset of an `all` pool that only a new table produces has
 * no signature until steer_sign runs with that table. */
static void
test_hook_needed(void **state)
{
    (void)state;
    ldns_pkt *r = ask("flap.example.com.", LDNS_RR_TYPE_A, 7, 0, 0);
    dnssec_assert_ordered(ldns_pkt_answer(r), "flap.example.com. 15 IN A 192.0.2.91\n"
                                              "flap.example.com. 15 IN A 192.0.2.92\n"
                                              "flap.example.com. 15 IN A 192.0.2.93\n"
                                              "flap.example.com. 15 IN RRSIG A 13 3 15 "
                                              "example.com.\n");
    ldns_pkt_free(r);

    entry("192.0.2.91")->state = HEALTH_DOWN;
    uint32_t used = sv.signed_zone->variants.used;
    r = ask("flap.example.com.", LDNS_RR_TYPE_A, 7, 0, 0);
    dnssec_assert_ordered(ldns_pkt_answer(r), "flap.example.com. 15 IN A 192.0.2.92\n"
                                              "flap.example.com. 15 IN A 192.0.2.93\n");
    ldns_pkt_free(r);

    steer_sign(&snap, sv.health, time(NULL));
    assert_true(sv.signed_zone->variants.used > used);
    r = ask("flap.example.com.", LDNS_RR_TYPE_A, 7, 0, 0);
    dnssec_assert_ordered(ldns_pkt_answer(r), "flap.example.com. 15 IN A 192.0.2.92\n"
                                              "flap.example.com. 15 IN A 192.0.2.93\n"
                                              "flap.example.com. 15 IN RRSIG A 13 3 15 "
                                              "example.com.\n");
    assert_int_equal(dnssec_verify_pkt(&sv.signed_zone->keys, r, now), 1);
    ldns_pkt_free(r);

    /* Back up: the full set's signature from load serves again, nothing new to sign. */
    entry("192.0.2.91")->state = HEALTH_UP;
    used = sv.signed_zone->variants.used;
    steer_sign(&snap, sv.health, time(NULL));
    assert_int_equal(sv.signed_zone->variants.used, used);
    r = ask("flap.example.com.", LDNS_RR_TYPE_A, 7, 0, 0);
    assert_int_equal(dnssec_verify_pkt(&sv.signed_zone->keys, r, now), 1);
    ldns_pkt_free(r);
}

/* DO=0: the same steered answers without signatures or proofs. */
static void
test_no_do(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof(svcs) / sizeof(svcs[0]); s++) {
        ldns_pkt *r = answer_ask(&sv.view, &(struct answer_q){.name = svcs[s].name,
                                                              .type = LDNS_RR_TYPE_AAAA,
                                                              .edns = true,
                                                              .source = "127.0.1.1"});
        assert_false(dnssec_has_type(ldns_pkt_answer(r), LDNS_RR_TYPE_RRSIG));
        assert_false(dnssec_has_type(ldns_pkt_authority(r), LDNS_RR_TYPE_RRSIG));
        assert_false(dnssec_has_type(ldns_pkt_authority(r), LDNS_RR_TYPE_NSEC3));
        ldns_pkt_free(r);
    }
}

/* A NODATA that health makes (all_down: nodata) or that depends on the client (its pools
 * lack the family) is proved with the name's one NSEC3, whose bit map lists the type because
 * other times or other clients get it (nsec3_chain_build adds the steered types). RFC 5155
 * §8.5 (and §8.6 for CNAME): a validator MUST check that the type's bit and CNAME's are
 * clear, so these answers are bogus to every validating resolver (SERVFAIL for its clients).
 * Known defect, reported; these tests fail until dns_answer/dnssec handle it. */
static void
test_nodata_all_down(void **state)
{
    (void)state;
    entry("192.0.2.111")->state = HEALTH_DOWN;
    steer_sign(&snap, sv.health, time(NULL));
    ldns_pkt *r = ask("nodata.example.com.", LDNS_RR_TYPE_A, 7, 0, 0);
    check_answer(r, "nodata.example.com.", 15, LDNS_RR_TYPE_A, true);
    ldns_pkt_free(r);
}

static void
test_nodata_cname_all_down(void **state)
{
    (void)state;
    entry("edge2.example.net.")->state = HEALTH_DOWN;
    steer_sign(&snap, sv.health, time(NULL));
    ldns_pkt *r = ask("ncdn.example.com.", LDNS_RR_TYPE_A, 7, 0, 0);
    check_answer(r, "ncdn.example.com.", 15, LDNS_RR_TYPE_A, true);
    ldns_pkt_free(r);
}

static void
test_nodata_client_family(void **state)
{
    (void)state;
    ldns_pkt *r = ask("geo6.example.com.", LDNS_RR_TYPE_AAAA, 1, 0, 0); /* JP */
    check_answer(r, "geo6.example.com.", 20, LDNS_RR_TYPE_AAAA, true);
    ldns_pkt_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_all_up, reset_health),
        cmocka_unit_test_setup(test_hook_needed, reset_health),
        cmocka_unit_test_setup(test_members_down, reset_health),
        cmocka_unit_test_setup(test_capped_ttl, reset_health),
        cmocka_unit_test_setup(test_no_do, reset_health),
        cmocka_unit_test_setup(test_nodata_all_down, reset_health),
        cmocka_unit_test_setup(test_nodata_cname_all_down, reset_health),
        cmocka_unit_test_setup(test_nodata_client_family, reset_health),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
