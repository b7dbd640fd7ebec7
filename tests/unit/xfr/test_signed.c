// SPDX-License-Identifier: MIT
/* A signed zone with steered names, transferred: the AXFR carries DNSKEY, CDS, CDNSKEY,
 * NSEC3PARAM, the NSEC3 chain, the delegation with its DS and glue, and for every steered name
 * the records xfr_zone.c documents (the file's own, else the first pool of the default order,
 * members forced down left out, a CNAME service's first target), each authoritative RRset with
 * signatures that ldns verifies against the DNSKEY RRset of the transfer. A second version
 * re-signed with the first as previous reuses the steered RRsets' signatures, so its
 * difference holds only what changed; a restart from the signature store serves the same
 * bytes, and new signatures raise the serial. Policies come from a config against geoip/sample.mmdb
 * (tests/unit/steer_view.c); keys are made in a temp directory. Single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/dnswire.h"
#include "dnssec/dnssec_sigstore.h"
#include "steer_view.h"
#include "test_tmpdir.h"
#include "xfr_test.h"

static const char zone_v1[] = "$ORIGIN example.com.\n"
                              "$TTL 3600\n"
                              "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                              "@ NS ns1\n"
                              "ns1 A 192.0.2.1\n"
                              "www A 192.0.2.80\n"
                              "txt TXT \"one\"\n"
                              "sub NS ns.sub\n"
                              "ns.sub A 192.0.2.53\n"
                              "sec NS ns.sec.example.net.\n"
                              "sec DS 12345 13 2 "
                              "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n";

static const char services[] =
    "  geo.example.com:\n"
    "    ttl: 20\n"
    "    pools:\n"
    "      eu: { members: [ {address: 192.0.2.10}, {address: \"2001:db8::10\"} ] }\n"
    "      us: { members: [ {address: 198.51.100.10}, {address: \"2001:db8::20\"} ] }\n"
    "    geo: { country: { DE: [eu] }, default: [us, eu] }\n"
    "  www.example.com:\n"
    "    pools: { p: { members: [ {address: 192.0.2.81}, {address: \"2001:db8::81\"} ] } }\n"
    "  all.example.com:\n"
    "    select: all\n"
    "    pools:\n"
    "      p: { members: [ {address: 192.0.2.61}, {address: 192.0.2.62, down: true},\n"
    "                      {address: 192.0.2.63} ] }\n"
    "  mixed.example.com:\n"
    "    pools:\n"
    "      six: { members: [ {address: \"2001:db8::6\"} ] }\n"
    "      four: { members: [ {address: 192.0.2.4} ] }\n"
    "  cdn.example.com:\n"
    "    type: cname\n"
    "    pools:\n"
    "      near: { members: [ {target: www.example.com.} ] }\n"
    "      far: { members: [ {target: edge.example.net.} ] }\n"
    "    geo: { country: { DE: [near] }, default: [far] }\n";

static char keydir[] = "/tmp/meridian-xfr-keys-XXXXXX";

struct version {
    struct steer_view sv;
    struct dnssec_zone *dz;
    struct xfr_zone *xz;
};

/* Loads and signs text as version v at `now`, replacing previous (or, without one, taking
 * the signatures of `stored`). */
static void
load_at(struct version *v, const char *text, const struct xfr_zone *previous,
        const struct dnssec_sigstore *stored, time_t now)
{
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    char mmdb[PATH_MAX], err[STEER_VIEW_ERR_MAX];
    snprintf(mmdb, sizeof(mmdb), "%s/geoip/sample.mmdb", src ? src : ".");
    if (steer_view_load(&v->sv, mmdb, "example.com", text, NULL, services, err) < 0)
        fail_msg("steer_view_load: %s", err);
    struct zone *zone = v->sv.zones->zones[0];
    struct dnssec_sign_params p = {
        .key_directory = keydir,
        .algorithm = DNSSEC_ALG_ECDSAP256SHA256,
        .validity_s = 14 * 86400,
        .refresh_s = 5 * 86400,
        .now = now,
        .threads = 1,
        .previous = previous ? previous->zone : NULL,
        .stored = stored,
        .variants = 64,
    };
    char derr[DNSSEC_ERR_MAX];
    if (dnssec_zone_sign(zone, &p, &v->dz, derr) < 0)
        fail_msg("dnssec_zone_sign: %s", derr);
    struct xfr_zone_params xp = {.policies = v->sv.policies,
                                 .dz = v->dz,
                                 .transfer = &xt_allow_all,
                                 .previous = previous,
                                 .stored = stored,
                                 .refresh_s = p.refresh_s,
                                 .now = p.now};
    char xerr[XFR_ERR_MAX];
    if (xfr_zone_new(zone, &xp, &v->xz, xerr) < 0)
        fail_msg("xfr_zone_new: %s", xerr);
    if (previous)
        (void)xfr_zone_follow(v->xz, previous, XFR_HISTORY_VERSIONS, XFR_HISTORY_BYTES);
}

static void
load(struct version *v, const char *text, const struct xfr_zone *previous)
{
    load_at(v, text, previous, NULL, time(NULL));
}

static void
unload(struct version *v)
{
    xfr_zone_free(v->xz);
    steer_view_fini(&v->sv); /* the zone first: its RRsets point into dz */
    dnssec_zone_free(v->dz);
}

/* Every record of an AXFR of v, decoded by ldns. */
static ldns_rr_list *
axfr(struct version *v)
{
    static uint8_t buf[65535];
    uint8_t q[512];
    struct xfr_request req;
    struct xfr_stream s;
    struct xfr_zone *xzones[1] = {v->xz};
    struct xfr_view view = {.zones = v->sv.zones, .xzones = xzones, .udp_max_size = 1232};
    struct sockaddr_in6 client = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct xfr_client c = {.addr = (struct sockaddr *)&client, .tcp = true};
    assert_true(
        xfr_request_parse(q, xt_request(q, DNS_TYPE_AXFR, "example.com", false, 0, false), &req));
    ldns_rr_list *all = ldns_rr_list_new();
    size_t n = xfr_begin(&view, &req, &c, buf, sizeof(buf), &s);
    assert_int_equal(s.kind, XFR_KIND_AXFR);
    while (n > 0) {
        ldns_pkt *pkt = NULL;
        assert_int_equal(ldns_wire2pkt(&pkt, buf, n), LDNS_STATUS_OK);
        assert_int_equal(ldns_pkt_get_rcode(pkt), LDNS_RCODE_NOERROR);
        ldns_rr_list *an = ldns_pkt_answer(pkt);
        for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++)
            ldns_rr_list_push_rr(all, ldns_rr_clone(ldns_rr_list_rr(an, i)));
        ldns_pkt_free(pkt);
        n = xfr_stream_next(&s, buf, sizeof(buf));
    }
    return all;
}

/* The RRset of name/type in the transfer (the closing SOA left out). */
static ldns_rr_list *
rrset(const ldns_rr_list *all, const char *name, ldns_rr_type type)
{
    ldns_rdf *owner = ldns_dname_new_frm_str(name);
    ldns_rr_list *set = ldns_rr_list_new();
    for (size_t i = 0; i + 1 < ldns_rr_list_rr_count(all); i++) {
        ldns_rr *rr = ldns_rr_list_rr(all, i);
        if (ldns_rr_get_type(rr) == type && ldns_dname_compare(ldns_rr_owner(rr), owner) == 0)
            ldns_rr_list_push_rr(set, rr);
    }
    ldns_rdf_deep_free(owner);
    return set;
}

/* The RDATA texts of name/type, sorted and joined by spaces. */
static void
expect_rdata(const ldns_rr_list *all, const char *name, ldns_rr_type type, const char *want)
{
    ldns_rr_list *set = rrset(all, name, type);
    char got[512] = "";
    char *items[16];
    size_t count = ldns_rr_list_rr_count(set);
    assert_true(count < 16);
    for (size_t i = 0; i < count; i++)
        items[i] = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(set, i), 0));
    for (size_t i = 0; i < count; i++)
        for (size_t j = i + 1; j < count; j++)
            if (strcmp(items[j], items[i]) < 0) {
                char *t = items[i];
                items[i] = items[j];
                items[j] = t;
            }
    for (size_t i = 0; i < count; i++) {
        strcat(got, i ? " " : "");
        strcat(got, items[i]);
        free(items[i]);
    }
    if (strcmp(got, want) != 0)
        fail_msg("%s %s: got '%s', want '%s'", name, ldns_rr_type2str(type), got, want);
    ldns_rr_list_free(set);
}

/* Every RRSIG verifies against the transfer's DNSKEYs; returns how many there were. */
static size_t
verify_all(const ldns_rr_list *all)
{
    ldns_rr_list *keys = rrset(all, "example.com.", LDNS_RR_TYPE_DNSKEY);
    assert_true(ldns_rr_list_rr_count(keys) > 0);
    size_t sigs = 0;
    for (size_t i = 0; i + 1 < ldns_rr_list_rr_count(all); i++) {
        ldns_rr *sig = ldns_rr_list_rr(all, i);
        if (ldns_rr_get_type(sig) != LDNS_RR_TYPE_RRSIG)
            continue;
        char *owner = ldns_rdf2str(ldns_rr_owner(sig));
        ldns_rr_type covered = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig));
        ldns_rr_list *set = rrset(all, owner, covered);
        ldns_rr_list *good = ldns_rr_list_new();
        ldns_status st = ldns_verify_rrsig_keylist(set, sig, keys, good);
        if (st != LDNS_STATUS_OK)
            fail_msg("RRSIG %s %s: %s", owner, ldns_rr_type2str(covered),
                     ldns_get_errorstr_by_id(st));
        ldns_rr_list_free(good);
        ldns_rr_list_free(set);
        free(owner);
        sigs++;
    }
    ldns_rr_list_free(keys);
    return sigs;
}

/* True if some RRSIG at name covers type. */
static bool
signed_type(const ldns_rr_list *all, const char *name, ldns_rr_type type)
{
    ldns_rr_list *sigs = rrset(all, name, LDNS_RR_TYPE_RRSIG);
    bool found = false;
    for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); i++)
        found |= ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(ldns_rr_list_rr(sigs, i))) == type;
    ldns_rr_list_free(sigs);
    return found;
}

static void
test_signed_axfr(void **state)
{
    (void)state;
    struct version v = {0};
    load(&v, zone_v1, NULL);
    ldns_rr_list *all = axfr(&v);
    size_t n = ldns_rr_list_rr_count(all);
    assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(all, 0)), LDNS_RR_TYPE_SOA);
    assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(all, n - 1)), LDNS_RR_TYPE_SOA);

    /* What steered names carry (xfr_zone.c). */
    expect_rdata(all, "geo.example.com.", LDNS_RR_TYPE_A, "198.51.100.10");
    expect_rdata(all, "geo.example.com.", LDNS_RR_TYPE_AAAA, "2001:db8::20");
    expect_rdata(all, "www.example.com.", LDNS_RR_TYPE_A, "192.0.2.80"); /* the file's */
    expect_rdata(all, "www.example.com.", LDNS_RR_TYPE_AAAA, "2001:db8::81");
    expect_rdata(all, "all.example.com.", LDNS_RR_TYPE_A, "192.0.2.61 192.0.2.63");
    expect_rdata(all, "mixed.example.com.", LDNS_RR_TYPE_A, "192.0.2.4");
    expect_rdata(all, "mixed.example.com.", LDNS_RR_TYPE_AAAA, "2001:db8::6");
    expect_rdata(all, "cdn.example.com.", LDNS_RR_TYPE_CNAME, "edge.example.net.");
    expect_rdata(all, "all.example.com.", LDNS_RR_TYPE_AAAA, "");
    /* Signer-made records and the delegations. */
    expect_rdata(all, "sec.example.com.", LDNS_RR_TYPE_NS, "ns.sec.example.net.");
    expect_rdata(all, "ns.sub.example.com.", LDNS_RR_TYPE_A, "192.0.2.53");
    ldns_rr_list *types[] = {rrset(all, "example.com.", LDNS_RR_TYPE_DNSKEY),
                             rrset(all, "example.com.", LDNS_RR_TYPE_CDS),
                             rrset(all, "example.com.", LDNS_RR_TYPE_CDNSKEY),
                             rrset(all, "example.com.", LDNS_RR_TYPE_NSEC3PARAM),
                             rrset(all, "sec.example.com.", LDNS_RR_TYPE_DS)};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        assert_true(ldns_rr_list_rr_count(types[i]) > 0);
        ldns_rr_list_free(types[i]);
    }
    size_t nsec3 = 0;
    for (size_t i = 0; i < n; i++)
        nsec3 += ldns_rr_get_type(ldns_rr_list_rr(all, i)) == LDNS_RR_TYPE_NSEC3;
    assert_int_equal(nsec3, v.dz->chain.count);

    /* Every signature verifies; the steered RRsets, the DS and the SOA are signed, the
     * delegation NS and glue are not (RFC 4035 §2.2). */
    assert_true(verify_all(all) >= 20);
    assert_true(signed_type(all, "geo.example.com.", LDNS_RR_TYPE_A));
    assert_true(signed_type(all, "geo.example.com.", LDNS_RR_TYPE_AAAA));
    assert_true(signed_type(all, "www.example.com.", LDNS_RR_TYPE_AAAA));
    assert_true(signed_type(all, "cdn.example.com.", LDNS_RR_TYPE_CNAME));
    assert_true(signed_type(all, "sec.example.com.", LDNS_RR_TYPE_DS));
    assert_true(signed_type(all, "example.com.", LDNS_RR_TYPE_SOA));
    assert_false(signed_type(all, "sub.example.com.", LDNS_RR_TYPE_NS));
    assert_false(signed_type(all, "ns.sub.example.com.", LDNS_RR_TYPE_A));
    ldns_rr_list_deep_free(all);
    unload(&v);
}

static bool
run_has_owner(const uint8_t *run, size_t len, const char *name)
{
    uint8_t want[DNAME_MAX_LEN];
    assert_true(dname_from_text(name, want) > 0);
    size_t pos = 0;
    struct xfr_rr rr;
    while (xfr_rr_next(run, len, &pos, &rr))
        if (dname_equal(rr.owner, want))
            return true;
    return false;
}

/* A new version re-signed: the difference holds the changed record, its signature and the
 * SOA's, not the steered RRsets' (their signatures are reused). */
static void
test_signed_difference(void **state)
{
    (void)state;
    struct version v1 = {0}, v2 = {0};
    load(&v1, zone_v1, NULL);
    char text[sizeof(zone_v1) + 64];
    snprintf(text, sizeof(text), "%s", zone_v1);
    char *serial = strstr(text, " 1 7200");
    serial[1] = '2';
    char *one = strstr(text, "\"one\"");
    memcpy(one, "\"two\"", 5);
    load(&v2, text, v1.xz);
    assert_int_equal(v2.xz->history.count, 1);
    const struct xfr_diff *d = v2.xz->history.diffs[0];
    struct xt_list removed = {0}, added = {0};
    xt_run(d->removed, d->removed_len, &removed);
    xt_run(d->added, d->added_len, &added);
    /* TXT and its RRSIG, and the SOA's RRSIG: three records each way. */
    assert_int_equal(removed.count, 3);
    assert_int_equal(added.count, 3);
    assert_true(run_has_owner(d->added, d->added_len, "txt.example.com"));
    assert_false(run_has_owner(d->added, d->added_len, "geo.example.com"));
    assert_false(run_has_owner(d->added, d->added_len, "cdn.example.com"));
    /* The reused signatures still verify in the new version's transfer. */
    ldns_rr_list *all = axfr(&v2);
    assert_true(verify_all(all) >= 20);
    ldns_rr_list_deep_free(all);
    xt_list_free(&removed);
    xt_list_free(&added);
    unload(&v2);
    unload(&v1);
}

/* v's signature store, with the steered RRsets its transfers carry (as dnssec_ops.c). */
static int
save_store(const struct version *v, char err[DNSSEC_ERR_MAX])
{
    const struct zone *z = v->sv.zones->zones[0];
    struct dnssec_sigstore_rrset more[32];
    assert_true(v->xz->extra_count <= 32);
    for (uint32_t e = 0; e < v->xz->extra_count; e++)
        more[e] = (struct dnssec_sigstore_rrset){.owner = z->nodes[v->xz->extras[e].node].name,
                                                 .set = &v->xz->extras[e].set};
    return dnssec_sigstore_save(keydir, z, more, v->xz->extra_count, err);
}

/* Every record of both transfers equal, in order. */
static void
assert_same_axfr(struct version *a, struct version *b)
{
    ldns_rr_list *x = axfr(a), *y = axfr(b);
    assert_int_equal(ldns_rr_list_rr_count(x), ldns_rr_list_rr_count(y));
    for (size_t i = 0; i < ldns_rr_list_rr_count(x); i++)
        assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(x, i), ldns_rr_list_rr(y, i)), 0);
    ldns_rr_list_deep_free(x);
    ldns_rr_list_deep_free(y);
}

static void
flip_byte(const char *path, long at)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, at < 0 ? SEEK_END : SEEK_SET), 0);
    int c = fgetc(f);
    assert_int_equal(fseek(f, -1, SEEK_CUR), 0);
    fputc(c ^ 0x55, f);
    fclose(f);
}

/* A restart: the version signed from the store equals the one that wrote it, signatures and
 * serial included, without a signature made; a store of another zone or damaged anywhere
 * is refused with the reason. */
static void
test_signed_restart(void **state)
{
    (void)state;
    struct version v1 = {0}, v2 = {0};
    char err[DNSSEC_ERR_MAX], path[PATH_MAX];
    struct dnssec_sigstore *st = NULL;
    time_t now = time(NULL);
    load_at(&v1, zone_v1, NULL, NULL, now);
    assert_true(v1.dz->changed);
    const struct zone *z1 = v1.sv.zones->zones[0];
    assert_int_equal(save_store(&v1, err), 0);
    assert_int_equal(dnssec_sigstore_load(keydir, z1->origin, &st, err), 0);
    assert_non_null(st);
    assert_int_equal(dnssec_sigstore_serial(st), 1);
    /* Every signed RRset: the nodes', the steered denials' and the chain's, and the steered
     * RRsets the transfer carries. */
    assert_true(v1.xz->extra_count > 0);
    assert_int_equal(dnssec_sigstore_count(st), v1.dz->signed_rrsets + v1.xz->extra_count);

    load_at(&v2, zone_v1, NULL, st, now + 3600);
    assert_int_equal(v2.dz->signed_rrsets, 0);
    assert_int_equal(v2.dz->reused_rrsets, v1.dz->signed_rrsets);
    assert_false(v2.dz->changed);
    assert_int_equal(v2.sv.zones->zones[0]->serial, 1);
    assert_same_axfr(&v1, &v2);
    dnssec_sigstore_free(st);
    unload(&v2);

    /* Another zone's origin. */
    uint8_t other[DNAME_MAX_LEN];
    assert_true(dname_from_text("example.org", other) > 0);
    snprintf(path, sizeof(path), "%s/Kexample.com.signatures", keydir);
    char copy[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s/Kexample.org.signatures", keydir);
    assert_int_equal(link(path, copy), 0);
    assert_int_equal(dnssec_sigstore_load(keydir, other, &st, err), -1);
    assert_non_null(strstr(err, "written for another zone"));
    unlink(copy);
    /* A flipped byte in the middle, in the checksum, and a file cut short. */
    for (int k = 0; k < 3; k++) {
        assert_int_equal(save_store(&v1, err), 0);
        if (k == 0)
            flip_byte(path, 200);
        else if (k == 1)
            flip_byte(path, -1);
        else
            assert_int_equal(truncate(path, 100), 0);
        assert_int_equal(dnssec_sigstore_load(keydir, z1->origin, &st, err), -1);
        assert_null(st);
        assert_non_null(strstr(err, "checksum mismatch"));
    }
    unlink(path);
    assert_int_equal(dnssec_sigstore_load(keydir, z1->origin, &st, err), 0);
    assert_null(st); /* none at all: not an error */
    unload(&v1);
}

/* RFC 1034 §4.3.5: secondaries fetch only a newer serial. Signatures made anew raise the
 * served serial by one when the file's is not newer; nothing new keeps it; a file serial
 * newer than the served one is taken as is. */
static void
test_signed_serial(void **state)
{
    (void)state;
    struct version v1 = {0}, v2 = {0}, v3 = {0}, v4 = {0};
    time_t now = time(NULL);
    load_at(&v1, zone_v1, NULL, NULL, now);
    /* validity 14 d, refresh 5 d: 10 days on, every signature is due. */
    load_at(&v2, zone_v1, v1.xz, NULL, now + 10 * 86400);
    assert_int_equal(v2.dz->reused_rrsets, 0);
    assert_true(v2.dz->changed);
    assert_int_equal(v2.dz->file_serial, 1);
    assert_int_equal(v2.sv.zones->zones[0]->serial, 2);
    /* Every signature changed: the difference would outgrow the zone, so IXFR gives it
     * whole (RFC 1995 §5) and there is no history. */
    assert_int_equal(v2.xz->history.count, 0);
    ldns_rr_list *all = axfr(&v2);
    assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(all, 0), 2)), 2);
    /* The raised SOA is signed (verified below for an edit: these signatures start ten days
     * from now, which ldns would refuse today). */
    assert_true(signed_type(all, "example.com.", LDNS_RR_TYPE_SOA));
    ldns_rr_list_deep_free(all);

    load_at(&v3, zone_v1, v2.xz, NULL, now + 10 * 86400 + 60);
    assert_int_equal(v3.dz->signed_rrsets, 0);
    assert_false(v3.dz->changed);
    assert_int_equal(v3.sv.zones->zones[0]->serial, 2);

    char text[sizeof(zone_v1) + 64];
    snprintf(text, sizeof(text), "%s", zone_v1);
    char *serial = strstr(text, " 1 7200");
    memcpy(serial + 1, "7", 1);
    load_at(&v4, text, v3.xz, NULL, now + 10 * 86400 + 120);
    assert_int_equal(v4.sv.zones->zones[0]->serial, 7);
    assert_int_equal(v4.dz->file_serial, 7);
    assert_true(v4.dz->changed);
    assert_int_equal(v4.dz->signed_rrsets, 1); /* the SOA alone */
    unload(&v4);

    /* An edit without raising the file's serial, today: served as 2, with the TXT and the
     * SOA signed anew, and every signature verifies against the DNSKEY RRset. */
    struct version v5 = {0}, v6 = {0};
    load_at(&v5, zone_v1, NULL, NULL, now);
    snprintf(text, sizeof(text), "%s", zone_v1);
    memcpy(strstr(text, "\"one\""), "\"two\"", 5);
    load_at(&v6, text, v5.xz, NULL, now);
    assert_int_equal(v6.sv.zones->zones[0]->serial, 2);
    assert_int_equal(v6.dz->signed_rrsets, 2);
    assert_int_equal(v6.xz->history.count, 1);
    all = axfr(&v6);
    assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(all, 0), 2)), 2);
    assert_true(verify_all(all) >= 20);
    ldns_rr_list_deep_free(all);
    unload(&v6);
    unload(&v5);
    unload(&v3);
    unload(&v2);
    unload(&v1);
}

static int
setup(void **state)
{
    (void)state;
    return mkdtemp(keydir) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(keydir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_axfr),
        cmocka_unit_test(test_signed_difference),
        cmocka_unit_test(test_signed_restart),
        cmocka_unit_test(test_signed_serial),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
