// SPDX-License-Identifier: MIT
/* dns_answer on a signed zone (RFC 4035 §3.1, RFC 5155 §7.2): the zone is loaded, signed with
 * dnssec_zone_sign into a temporary key directory, and queried with DO=1 through the wire.
 * Every section is asserted exactly, RRSIGs as a summary (covered type, algorithm, labels,
 * original TTL, signer) and each verified against the zone's keys with the RRset as served
 * (dnssec_check.c). The NSEC3 records a proof must hold are worked out here from the zone's
 * names alone: hashed with ldns (and checked against nsec3_hash), sorted, and matched or
 * covered by the test's own search, never by the proof functions under test. The whole group
 * runs twice: an ECDSA CSK with RFC 9276 NSEC3 parameters, and Ed25519 KSK+ZSK with salt and
 * iterations. Single-threaded. */
#include <ldns/ldns.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "answer_test.h"
#include "dns/dns_internal.h"
#include "dnssec/dnssec_zone.h"
#include "dnssec/nsec3.h"
#include "dnssec_check.h"
#include "test_tmpdir.h"

/* Five TXT records of 83 bytes on the wire (distinct: RFC 2181 §5 drops duplicates): 459
 * bytes of response with EDNS, under 512; their RRSIG (107 bytes) does not fit beside them. */
#define BIG_TXT(d)                                                                                 \
    "\"" d "123456789012345678901234567890123456789012345678901234567890123456789\"\n"
#define BIG_RECORDS(prefix)                                                                        \
    prefix BIG_TXT("0") prefix BIG_TXT("1") prefix BIG_TXT("2") prefix BIG_TXT("3")                \
        prefix BIG_TXT("4")

static const char zone_text[] = "$ORIGIN example.com.\n"
                                "$TTL 3600\n"
                                "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                                "@ NS ns1\n"
                                "@ MX 10 mail\n"
                                "ns1 A 192.0.2.1\n"
                                "mail A 192.0.2.25\n"
                                "www A 192.0.2.80\n"
                                "www AAAA 2001:db8::80\n"
                                "alias CNAME www\n"
                                "chain CNAME alias\n"
                                "dangling CNAME nowhere\n"
                                "*.wild A 192.0.2.99\n"
                                "host.wild A 192.0.2.98\n"
                                "a.b.ent A 192.0.2.7\n"
                                "secure NS ns.secure\n"
                                "secure DS 12345 13 2 "
                                "49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE49FD46E6C4B45C55D4AC69CB\n"
                                "ns.secure A 192.0.2.53\n"
                                "insecure NS ns.insecure\n"
                                "ns.insecure A 192.0.2.54\n" BIG_RECORDS("big TXT ");

/* The authoritative names of the zone and the types their NSEC3 bit maps must list (RFC 5155
 * §7.1: empty non-terminals with none; a delegation with NS, and DS and RRSIG when signed;
 * glue below a cut has no NSEC3), in type-number order as ldns prints them. */
static const struct {
    const char *name;
    const char *types;
} names[] = {
    {"example.com.", " NS SOA MX RRSIG DNSKEY NSEC3PARAM CDS CDNSKEY"},
    {"ns1.example.com.", " A RRSIG"},
    {"mail.example.com.", " A RRSIG"},
    {"www.example.com.", " A AAAA RRSIG"},
    {"alias.example.com.", " CNAME RRSIG"},
    {"chain.example.com.", " CNAME RRSIG"},
    {"dangling.example.com.", " CNAME RRSIG"},
    {"wild.example.com.", ""},
    {"*.wild.example.com.", " A RRSIG"},
    {"host.wild.example.com.", " A RRSIG"},
    {"ent.example.com.", ""},
    {"b.ent.example.com.", ""},
    {"a.b.ent.example.com.", " A RRSIG"},
    {"secure.example.com.", " NS DS RRSIG"},
    {"insecure.example.com.", " NS"},
    {"big.example.com.", " TXT RRSIG"},
};
#define NAME_COUNT (sizeof(names) / sizeof(names[0]))

/* The two signing set-ups the group runs with. */
static const struct setup_params {
    const char *title;
    uint8_t algorithm;
    bool split;
    uint16_t iterations;
    uint8_t salt_len;
    uint8_t salt[4];
    const char *salt_text;
} setups[] = {
    {.title = "ECDSAP256SHA256 CSK, NSEC3 0 -",
     .algorithm = DNSSEC_ALG_ECDSAP256SHA256,
     .salt_text = "-"},
    {.title = "ED25519 KSK+ZSK, NSEC3 5 aabbccdd",
     .algorithm = DNSSEC_ALG_ED25519,
     .split = true,
     .iterations = 5,
     .salt_len = 4,
     .salt = {0xaa, 0xbb, 0xcc, 0xdd},
     .salt_text = "aabbccdd"},
};
static const struct setup_params *sp;

static const char ds_rdata[] =
    "12345 13 2 49fd46e6c4b45c55d4ac69cbd3cd34ac1afe51de49fd46e6c4b45c55d4ac69cb";
static const char soa_rdata[] = "ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300";

/* One NSEC3 record the chain must have: the base32hex hash of a name. */
struct hashed {
    char b32[NSEC3_B32_LEN + 1];
    const char *name;
    const char *types;
};

static char keydir[64];
static struct zone_set *zones;
static struct zone *zone0; /* the zone of `zones`, for its pre-made negative records */
static struct dnssec_zone *dz;
static struct dns_view view;
static time_t now;
static struct hashed chain[NAME_COUNT];

/* The expected text of a section, built line by line. */
static char want[16384];
static size_t want_len;

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
add(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    want_len += (size_t)vsnprintf(want + want_len, sizeof(want) - want_len, fmt, ap);
    va_end(ap);
    assert_true(want_len < sizeof(want));
}

/* The text built so far; the next add() starts anew. */
static const char *
take(void)
{
    static char out[sizeof(want)];
    memcpy(out, want, want_len + 1);
    want_len = 0;
    want[0] = '\0';
    return out;
}

/* The hash of a name as base32hex (RFC 5155 §5, §3.3), by ldns. */
static void
hash_text(const char *name, char out[NSEC3_B32_LEN + 1])
{
    ldns_rdf *dname = ldns_dname_new_frm_str(name);
    assert_non_null(dname);
    ldns_dname2canonical(dname);
    ldns_rdf *h = ldns_nsec3_hash_name(dname, NSEC3_ALG_SHA1, sp->iterations, sp->salt_len,
                                       (uint8_t *)sp->salt);
    assert_non_null(h);
    char *text = ldns_rdf2str(h);
    assert_int_equal(strlen(text), NSEC3_B32_LEN + 1); /* one label and the root dot */
    memcpy(out, text, NSEC3_B32_LEN);
    out[NSEC3_B32_LEN] = '\0';
    free(text);
    ldns_rdf_deep_free(h);
    ldns_rdf_deep_free(dname);
}

static int
hashed_cmp(const void *a, const void *b)
{
    /* base32hex keeps the order of the bytes (RFC 4648 §7). */
    return strcmp(((const struct hashed *)a)->b32, ((const struct hashed *)b)->b32);
}

/* The chain's records in hash order, and nsec3_hash agreeing with ldns on every name. */
static void
build_chain(void)
{
    struct nsec3_params p = {.iterations = sp->iterations, .salt_len = sp->salt_len};
    memcpy(p.salt, sp->salt, sp->salt_len);
    for (size_t i = 0; i < NAME_COUNT; i++) {
        uint8_t wire[DNAME_MAX_LEN], h[NSEC3_HASH_LEN];
        char ours[NSEC3_B32_LEN + 1];
        chain[i].name = names[i].name;
        chain[i].types = names[i].types;
        hash_text(names[i].name, chain[i].b32);
        assert_true(dname_from_text(names[i].name, wire) > 0);
        nsec3_hash(wire, &p, h);
        assert_int_equal(nsec3_base32hex(h, sizeof(h), ours, sizeof(ours)), NSEC3_B32_LEN);
        assert_string_equal(ours, chain[i].b32);
    }
    qsort(chain, NAME_COUNT, sizeof(chain[0]), hashed_cmp);
}

/* The record whose owner is the hash of `name` (RFC 5155 §7.2.1 "matches"). */
static const struct hashed *
match(const char *name)
{
    char h[NSEC3_B32_LEN + 1];
    hash_text(name, h);
    for (size_t i = 0; i < NAME_COUNT; i++)
        if (strcmp(chain[i].b32, h) == 0)
            return &chain[i];
    fail_msg("no NSEC3 matches %s", name);
    return NULL;
}

/* The record whose owner hash and next hash enclose the hash of `name` (RFC 5155 §1.3
 * "covers"), the last one wrapping around to the first. */
static const struct hashed *
cover(const char *name)
{
    char h[NSEC3_B32_LEN + 1];
    hash_text(name, h);
    const struct hashed *c = &chain[NAME_COUNT - 1];
    for (size_t i = 0; i < NAME_COUNT; i++) {
        int cmp = strcmp(chain[i].b32, h);
        if (cmp == 0)
            fail_msg("%s exists in the chain: no NSEC3 covers it", name);
        if (cmp < 0)
            c = &chain[i];
    }
    return c;
}

/* An RRSIG summary line (dnssec_check.h). */
static void
add_sig(const char *owner, uint32_t ttl, const char *type, unsigned labels, uint32_t original)
{
    add("%s %u IN RRSIG %s %u %u %u example.com.\n", owner, ttl, type, sp->algorithm, labels,
        original);
}

/* A record with its RRSIG line, original TTL the record's: an authoritative RRset as it
 * stands in the zone. */
static void
add_signed(const char *owner, uint32_t ttl, const char *type, const char *rdata, unsigned labels)
{
    add("%s %u IN %s %s\n", owner, ttl, type, rdata);
    add_sig(owner, ttl, type, labels, ttl);
}

/* An NSEC3 record of the chain and its RRSIG, unless it is in the section already (a proof
 * names each record once). TTL: the SOA's negative TTL (RFC 5155 §7.1, RFC 9077 §3.3). */
static void
add_nsec3(const struct hashed *e)
{
    char owner[NSEC3_B32_LEN + 16];
    snprintf(owner, sizeof(owner), "%s.example.com.", e->b32);
    if (strstr(want, owner))
        return;
    const struct hashed *next = e + 1 < chain + NAME_COUNT ? e + 1 : chain;
    add("%s 300 IN NSEC3 1 0 %u %s %s%s\n", owner, sp->iterations, sp->salt_text, next->b32,
        e->types);
    add_sig(owner, 300, "NSEC3", 3, 300);
}

/* SOA and its RRSIG in a negative answer: TTL min(SOA TTL, MINIMUM), original TTL 3600. */
static void
add_soa(void)
{
    add("example.com. 300 IN SOA %s\n", soa_rdata);
    add_sig("example.com.", 300, "SOA", 2, 3600);
}

/* RFC 5155 §7.2.1-§7.2.2: closest encloser `ce` of `name`, its next closer name `nc`. */
static void
add_nxdomain_proof(const char *ce, const char *nc)
{
    char wild[DNAME_TEXT_MAX];
    snprintf(wild, sizeof(wild), "*.%s", ce);
    /* dns_answer's order: the two records of the closest encloser, then the next closer's
     * cover (add_nxdomain_proof). */
    add_nsec3(match(ce));
    add_nsec3(cover(wild));
    add_nsec3(cover(nc));
}

static int
group_setup(void **state)
{
    char path[] = "/tmp/meridian-test-dnssec-answer-XXXXXX";
    char zerr[ZONE_ERR_MAX], err[DNSSEC_ERR_MAX];
    (void)state;
    snprintf(keydir, sizeof(keydir), "/tmp/meridian-dnssec-keys-XXXXXX");
    assert_non_null(mkdtemp(keydir));
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, zone_text, sizeof(zone_text) - 1), (ssize_t)sizeof(zone_text) - 1);
    close(fd);
    struct zone **list = calloc(1, sizeof(*list));
    if (zone_load("example.com", path, &list[0], zerr) < 0)
        fail_msg("%s", zerr);
    unlink(path);
    now = time(NULL);
    struct dnssec_sign_params p = {
        .key_directory = keydir,
        .algorithm = sp->algorithm,
        .split_keys = sp->split,
        .validity_s = 14 * 86400,
        .refresh_s = 5 * 86400,
        .nsec3 = {.iterations = sp->iterations, .salt_len = sp->salt_len},
        .now = now,
        .threads = 1};
    memcpy(p.nsec3.salt, sp->salt, sp->salt_len);
    if (dnssec_zone_sign(list[0], &p, &dz, err) < 0)
        fail_msg("%s", err);
    /* As the server's snapshot does: every test answers with the pre-made negative records. */
    dns_negative_render(list[0]);
    assert_non_null(list[0]->negative);
    zone0 = list[0];
    assert_int_equal(dz->keys.count, sp->split ? 2 : 1);
    zones = zone_set_new(list, 1);
    view = (struct dns_view){.zones = zones, .identity = "ns.test", .udp_max_size = 1232};
    build_chain();
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    zone_set_free(zones);
    dnssec_zone_free(dz);
    assert_int_equal(test_tmpdir_remove(keydir), 0);
    return 0;
}

/* q with DO=1 (over UDP with EDNS 1232 unless q says otherwise); every RRSIG it carries
 * must verify. */
static ldns_pkt *
ask(struct answer_q q)
{
    q.dnssec_ok = true;
    ldns_pkt *r = answer_ask(&view, &q);
    dnssec_verify_pkt(&dz->keys, r, now);
    return r;
}

static ldns_pkt *
ask_do(const char *name, ldns_rr_type type)
{
    return ask((struct answer_q){.name = name, .type = type});
}

static unsigned
nsec3_count(const ldns_pkt *r)
{
    unsigned n = 0;
    for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_authority(r)); i++)
        n += ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(r), i)) == LDNS_RR_TYPE_NSEC3;
    return n;
}

/* ldns's validator accepts the response's denial of the question (dnssec_check.h). */
static void
assert_ldns_denial(const ldns_pkt *r)
{
    ldns_status st = dnssec_ldns_denial(r);
    if (st != LDNS_STATUS_OK)
        fail_msg("ldns rejects the denial: %s", ldns_get_errorstr_by_id(st));
}

static void
assert_header(const ldns_pkt *r, ldns_pkt_rcode rcode, bool aa)
{
    assert_int_equal(ldns_pkt_get_rcode(r), rcode);
    assert_int_equal(ldns_pkt_aa(r), aa);
    assert_false(ldns_pkt_tc(r));
}

/* --- positive answers --- */

static void
test_positive(void **state)
{
    (void)state;
    ldns_pkt *r = ask_do("www.example.com.", LDNS_RR_TYPE_A);
    assert_header(r, LDNS_RCODE_NOERROR, true);
    add_signed("www.example.com.", 3600, "A", "192.0.2.80", 3);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    assert_int_equal(ldns_pkt_nscount(r), 0);
    assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_additional(r)), 0);
    assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 1);
    ldns_pkt_free(r);

    /* The owner as the client wrote it; the signature is over the canonical form. */
    r = ask_do("WwW.ExAmple.COM.", LDNS_RR_TYPE_AAAA);
    add_signed("WwW.ExAmple.COM.", 3600, "AAAA", "2001:db8::80", 3);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    ldns_pkt_free(r);

    /* The additional section's addresses are authoritative data: signed too. */
    r = ask_do("example.com.", LDNS_RR_TYPE_MX);
    add_signed("example.com.", 3600, "MX", "10 mail.example.com.", 2);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    assert_int_equal(ldns_pkt_nscount(r), 0);
    add_signed("mail.example.com.", 3600, "A", "192.0.2.25", 3);
    dnssec_assert_ordered(ldns_pkt_additional(r), take());
    assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 2);
    ldns_pkt_free(r);
}

/* The apex's signer records: DNSKEY (by the SEP key: dnssec_check.c), CDS, CDNSKEY and
 * NSEC3PARAM, each with its RRSIG. */
static void
test_apex_keys(void **state)
{
    char line[1024];
    (void)state;
    ldns_pkt *r = ask_do("example.com.", LDNS_RR_TYPE_DNSKEY);
    assert_header(r, LDNS_RCODE_NOERROR, true);
    for (size_t i = 0; i < dz->keys.count; i++) {
        const struct dnssec_key *k = dz->keys.keys[i];
        dnssec_rr_line("example.com.", 3600, LDNS_RR_TYPE_DNSKEY, k->rdata, k->rdata_len, line,
                       sizeof(line));
        add("%s", line);
    }
    add_sig("example.com.", 3600, "DNSKEY", 2, 3600);
    dnssec_assert_sorted(ldns_pkt_answer(r), take());
    assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 1);
    ldns_pkt_free(r);

    static const ldns_rr_type sep_types[] = {LDNS_RR_TYPE_CDS, LDNS_RR_TYPE_CDNSKEY};
    for (int t = 0; t < 2; t++) {
        r = ask_do("example.com.", sep_types[t]);
        assert_header(r, LDNS_RCODE_NOERROR, true);
        assert_int_equal(ldns_pkt_ancount(r), 2); /* the CSK's or the KSK's, and its RRSIG */
        assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 1);
        ldns_pkt_free(r);
    }

    r = ask_do("example.com.", LDNS_RR_TYPE_NSEC3PARAM);
    add("example.com. 300 IN NSEC3PARAM 1 0 %u %s\n", sp->iterations, sp->salt_text);
    add_sig("example.com.", 300, "NSEC3PARAM", 2, 300);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    ldns_pkt_free(r);
}

/* RFC 1034 §3.6.2: each link of the chain and the final RRset, each followed by its RRSIG. */
static void
test_cname_chain(void **state)
{
    (void)state;
    ldns_pkt *r = ask_do("chain.example.com.", LDNS_RR_TYPE_A);
    assert_header(r, LDNS_RCODE_NOERROR, true);
    add_signed("chain.example.com.", 3600, "CNAME", "alias.example.com.", 3);
    add_signed("alias.example.com.", 3600, "CNAME", "www.example.com.", 3);
    add_signed("www.example.com.", 3600, "A", "192.0.2.80", 3);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    assert_int_equal(ldns_pkt_nscount(r), 0);
    assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 3);
    ldns_pkt_free(r);

    /* A chain ending in a name that does not exist: the CNAME, then the target's NXDOMAIN
     * proof (RFC 4035 §3.1.3.2 applies to the last name of the chain). */
    r = ask_do("dangling.example.com.", LDNS_RR_TYPE_A);
    assert_header(r, LDNS_RCODE_NXDOMAIN, true);
    add_signed("dangling.example.com.", 3600, "CNAME", "nowhere.example.com.", 3);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    add_soa();
    add_nxdomain_proof("example.com.", "nowhere.example.com.");
    dnssec_assert_ordered(ldns_pkt_authority(r), take());
    ldns_pkt_free(r);
}

/* --- denial of existence --- */

/* RFC 5155 §7.2.2: the closest encloser's match, the next closer's cover and the cover of
 * the wildcard at the closest encloser. */
static void
test_nxdomain(void **state)
{
    static const struct {
        const char *qname, *ce, *nc;
    } cases[] = {
        {"nope.example.com.", "example.com.", "nope.example.com."},
        {"x.y.ent.example.com.", "ent.example.com.", "y.ent.example.com."},
        {"q.a.b.ent.example.com.", "a.b.ent.example.com.", "q.a.b.ent.example.com."},
        {"Deep.Er.Host.Wild.example.com.", "host.wild.example.com.", "er.host.wild.example.com."},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ldns_pkt *r = ask_do(cases[i].qname, LDNS_RR_TYPE_A);
        assert_header(r, LDNS_RCODE_NXDOMAIN, true);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        add_soa();
        add_nxdomain_proof(cases[i].ce, cases[i].nc);
        dnssec_assert_ordered(ldns_pkt_authority(r), take());
        unsigned nsec3 = nsec3_count(r);
        assert_true(nsec3 >= 2 && nsec3 <= 3);
        assert_ldns_denial(r);
        assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 1 + nsec3);
        ldns_pkt_free(r);
    }
}

/* RFC 5155 §7.2.3: the NSEC3 matching the name, its bit map without the type. */
static void
test_nodata(void **state)
{
    static const struct {
        const char *qname, *name;
        ldns_rr_type type;
    } cases[] = {
        {"www.example.com.", "www.example.com.", LDNS_RR_TYPE_TXT},
        {"example.com.", "example.com.", LDNS_RR_TYPE_A},
        {"host.wild.example.com.", "host.wild.example.com.", LDNS_RR_TYPE_TXT},
        /* Empty non-terminals (RFC 8020): an NSEC3 with an empty bit map. */
        {"b.ent.example.com.", "b.ent.example.com.", LDNS_RR_TYPE_A},
        {"ENT.example.com.", "ent.example.com.", LDNS_RR_TYPE_TXT},
        {"wild.example.com.", "wild.example.com.", LDNS_RR_TYPE_A},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ldns_pkt *r = ask_do(cases[i].qname, cases[i].type);
        assert_header(r, LDNS_RCODE_NOERROR, true);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        add_soa();
        add_nsec3(match(cases[i].name));
        dnssec_assert_ordered(ldns_pkt_authority(r), take());
        const ldns_rr *nsec3 = ldns_rr_list_rr(ldns_pkt_authority(r), 2);
        assert_false(ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(nsec3), cases[i].type));
        assert_false(ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(nsec3), LDNS_RR_TYPE_CNAME));
        assert_ldns_denial(r);
        ldns_pkt_free(r);
    }
}

/* QTYPE RRSIG: the name's signatures (its NSEC3 lists RRSIG, so NODATA would be bogus); an
 * empty non-terminal has none and keeps its NODATA proof. */
static void
test_qtype_rrsig(void **state)
{
    (void)state;
    /* Not through ask(): its check wants each RRSIG beside the RRset it covers. */
    struct answer_q q = {.name = "www.example.com.", .type = LDNS_RR_TYPE_RRSIG, .dnssec_ok = true};
    ldns_pkt *r = answer_ask(&view, &q);
    assert_header(r, LDNS_RCODE_NOERROR, true);
    const ldns_rr_list *an = ldns_pkt_answer(r);
    assert_true(ldns_rr_list_rr_count(an) >= 2); /* over A and AAAA at least */
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++)
        assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(an, i)), LDNS_RR_TYPE_RRSIG);
    ldns_pkt_free(r);

    r = ask_do("ent.example.com.", LDNS_RR_TYPE_RRSIG);
    assert_header(r, LDNS_RCODE_NOERROR, true);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_ldns_denial(r);
    ldns_pkt_free(r);
}

/* RFC 4035 §3.1.3.3, RFC 5155 §7.2.6: the expanded answer (RRSIG labels below the owner's,
 * RFC 4034 §3.1.3) and the NSEC3 covering the next closer name. */
static void
test_wildcard_answer(void **state)
{
    static const struct {
        const char *qname, *nc;
    } cases[] = {
        {"x.wild.example.com.", "x.wild.example.com."},
        {"a.B.wild.example.com.", "b.wild.example.com."},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ldns_pkt *r = ask_do(cases[i].qname, LDNS_RR_TYPE_A);
        assert_header(r, LDNS_RCODE_NOERROR, true);
        add_signed(cases[i].qname, 3600, "A", "192.0.2.99", 3);
        dnssec_assert_ordered(ldns_pkt_answer(r), take());
        const ldns_rr *sig = ldns_rr_list_rr(ldns_pkt_answer(r), 1);
        assert_true(ldns_rdf2native_int8(ldns_rr_rrsig_labels(sig)) <
                    ldns_dname_label_count(ldns_rr_owner(sig)));
        add_nsec3(cover(cases[i].nc));
        dnssec_assert_ordered(ldns_pkt_authority(r), take());
        assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 2);
        ldns_pkt_free(r);
    }

    /* The wildcard's own name asked for: an exact match, nothing to prove. */
    ldns_pkt *r = ask_do("*.wild.example.com.", LDNS_RR_TYPE_A);
    add_signed("*.wild.example.com.", 3600, "A", "192.0.2.99", 3);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    assert_int_equal(ldns_pkt_nscount(r), 0);
    ldns_pkt_free(r);
}

/* RFC 5155 §7.2.5: closest encloser match, next closer cover, and the wildcard's match,
 * whose bit map lacks the type. */
static void
test_wildcard_nodata(void **state)
{
    (void)state;
    ldns_pkt *r = ask_do("x.y.wild.example.com.", LDNS_RR_TYPE_MX);
    assert_header(r, LDNS_RCODE_NOERROR, true);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    add_soa();
    add_nsec3(match("wild.example.com."));
    add_nsec3(cover("y.wild.example.com."));
    add_nsec3(match("*.wild.example.com."));
    dnssec_assert_ordered(ldns_pkt_authority(r), take());
    assert_ldns_denial(r);
    assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 1 + nsec3_count(r));
    ldns_pkt_free(r);
}

/* --- delegations --- */

/* RFC 4035 §3.1.4: a referral to a secure child carries its DS RRset and RRSIG; the NS RRset
 * is not signed (§2.2), glue neither; not authoritative. */
static void
test_secure_referral(void **state)
{
    static const char *const qnames[] = {"host.secure.example.com.", "secure.example.com."};
    (void)state;
    for (int i = 0; i < 2; i++) {
        ldns_pkt *r = ask_do(qnames[i], LDNS_RR_TYPE_A);
        assert_header(r, LDNS_RCODE_NOERROR, false);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        add("secure.example.com. 3600 IN NS ns.secure.example.com.\n");
        add_signed("secure.example.com.", 3600, "DS", ds_rdata, 3);
        dnssec_assert_ordered(ldns_pkt_authority(r), take());
        dnssec_assert_ordered(ldns_pkt_additional(r),
                              "ns.secure.example.com. 3600 IN A 192.0.2.53\n");
        assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 1);
        ldns_pkt_free(r);
    }

    /* DS asked for at the cut: the parent's authoritative answer (RFC 4035 §3.1.4.1). */
    ldns_pkt *r = ask_do("secure.example.com.", LDNS_RR_TYPE_DS);
    assert_header(r, LDNS_RCODE_NOERROR, true);
    add_signed("secure.example.com.", 3600, "DS", ds_rdata, 3);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    assert_int_equal(ldns_pkt_nscount(r), 0);
    ldns_pkt_free(r);
}

/* RFC 5155 §7.2.7: a referral to an unsigned child proves there is no DS with the NSEC3
 * matching the cut (NS in its bit map, DS not); §7.2.4: so does a DS query at the cut. */
static void
test_insecure_referral(void **state)
{
    (void)state;
    ldns_pkt *r = ask_do("host.insecure.example.com.", LDNS_RR_TYPE_A);
    assert_header(r, LDNS_RCODE_NOERROR, false);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    add("insecure.example.com. 3600 IN NS ns.insecure.example.com.\n");
    add_nsec3(match("insecure.example.com."));
    dnssec_assert_ordered(ldns_pkt_authority(r), take());
    const ldns_rr *nsec3 = ldns_rr_list_rr(ldns_pkt_authority(r), 1);
    assert_true(ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(nsec3), LDNS_RR_TYPE_NS));
    assert_false(ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(nsec3), LDNS_RR_TYPE_DS));
    dnssec_assert_ordered(ldns_pkt_additional(r),
                          "ns.insecure.example.com. 3600 IN A 192.0.2.54\n");
    assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 1);
    ldns_pkt_free(r);

    r = ask_do("insecure.example.com.", LDNS_RR_TYPE_DS);
    assert_header(r, LDNS_RCODE_NOERROR, true);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    add_soa();
    add_nsec3(match("insecure.example.com."));
    dnssec_assert_ordered(ldns_pkt_authority(r), take());
    assert_ldns_denial(r);
    assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 2);
    ldns_pkt_free(r);
}

/* --- transport and flags --- */

/* RFC 8482 §4.1: one RRset for ANY over UDP, with its RRSIG; every RRset over TCP. */
static void
test_any(void **state)
{
    (void)state;
    ldns_pkt *r = ask_do("www.example.com.", LDNS_RR_TYPE_ANY);
    assert_header(r, LDNS_RCODE_NOERROR, true);
    add_signed("www.example.com.", 3600, "A", "192.0.2.80", 3);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    ldns_pkt_free(r);

    r = ask((struct answer_q){.name = "www.example.com.", .type = LDNS_RR_TYPE_ANY, .tcp = true});
    add_signed("www.example.com.", 3600, "A", "192.0.2.80", 3);
    add_signed("www.example.com.", 3600, "AAAA", "2001:db8::80", 3);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    assert_int_equal(dnssec_verify_pkt(&dz->keys, r, now), 2);
    ldns_pkt_free(r);

    /* The apex over UDP: its first RRset (NS, signed at the apex) and its glue, signed. */
    r = ask_do("example.com.", LDNS_RR_TYPE_ANY);
    add_signed("example.com.", 3600, "NS", "ns1.example.com.", 2);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    add_signed("ns1.example.com.", 3600, "A", "192.0.2.1", 3);
    dnssec_assert_ordered(ldns_pkt_additional(r), take());
    ldns_pkt_free(r);
}

/* RFC 4035 §3.1.1: an RRSIG that does not fit sets TC. 512 is the smallest EDNS size (RFC
 * 6891 §6.2.5); the unsigned answer fits in it, the signed one does not. */
static void
test_truncation(void **state)
{
    static const char big[] = BIG_RECORDS("big.example.com. 3600 IN TXT ");
    (void)state;
    ldns_pkt *r = answer_ask(&view, &(struct answer_q){.name = "big.example.com.",
                                                       .type = LDNS_RR_TYPE_TXT,
                                                       .edns = true,
                                                       .udp_size = 512});
    assert_header(r, LDNS_RCODE_NOERROR, true);
    add("%s", big);
    dnssec_assert_ordered(ldns_pkt_answer(r), take());
    ldns_pkt_free(r);

    r = ask((struct answer_q){.name = "big.example.com.",
                              .type = LDNS_RR_TYPE_TXT,
                              .edns = true,
                              .dnssec_ok = true,
                              .udp_size = 512});
    assert_true(ldns_pkt_tc(r));
    assert_false(dnssec_has_type(ldns_pkt_answer(r), LDNS_RR_TYPE_RRSIG));
    ldns_pkt_free(r);

    /* With room (EDNS 1232, or TCP): the whole signed RRset. */
    static const bool tcp[] = {false, true};
    for (int i = 0; i < 2; i++) {
        r = ask(
            (struct answer_q){.name = "big.example.com.", .type = LDNS_RR_TYPE_TXT, .tcp = tcp[i]});
        assert_header(r, LDNS_RCODE_NOERROR, true);
        add("%s", big);
        add_sig("big.example.com.", 3600, "TXT", 3, 3600);
        dnssec_assert_ordered(ldns_pkt_answer(r), take());
        ldns_pkt_free(r);
    }
}

/* The NSEC3 records of proofs are copied from their pre-rendered form (nsec3_chain.wire):
 * every response must be the very bytes the record-by-record writer makes from the same
 * records (the wires cleared), mixed case, a root-adjacent and a deep name, over UDP and TCP;
 * under a 512-byte limit that truncates, the same records up to the one that did not fit. */
static void
test_proof_wire(void **state)
{
    static const struct answer_q cases[] = {
        {.name = "nope.example.com.", .type = LDNS_RR_TYPE_A},
        {.name = "NoPe.ExAmple.COM.", .type = LDNS_RR_TYPE_AAAA},
        {.name = "q.a.b.ent.example.com.", .type = LDNS_RR_TYPE_A, .tcp = true},
        {.name = "Deep.Er.Host.Wild.example.com.", .type = LDNS_RR_TYPE_A},
        {.name = "x.y.wild.example.com.", .type = LDNS_RR_TYPE_MX},
        {.name = "a.B.wild.example.com.", .type = LDNS_RR_TYPE_A},
        {.name = "www.example.com.", .type = LDNS_RR_TYPE_TXT},
        {.name = "nope.example.com.", .type = LDNS_RR_TYPE_A, .udp_size = 512},
        {.name = "x.nowhere.example.com.", .type = LDNS_RR_TYPE_A, .udp_size = 512},
    };
    static uint8_t fast[65535], slow[65535];
    struct nsec3_chain *c = &dz->chain;
    uint8_t *wire = c->wire;
    unsigned truncated_cases = 0;
    assert_non_null(wire);
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct answer_q q = cases[i];
        q.dnssec_ok = true;
        size_t qlen;
        uint8_t *query = answer_build(&q, &qlen);
        struct dns_client client = {.tcp = q.tcp};
        struct dns_result res;
        size_t max = q.tcp ? sizeof(fast) : 1232;
        size_t fast_len = dns_answer(&view, &client, query, qlen, fast, max, &res);
        const struct dns_negative *negative = zone0->negative;
        c->wire = NULL;
        zone0->negative = NULL; /* it holds NSEC3 bytes too */
        size_t slow_len = dns_answer(&view, &client, query, qlen, slow, max, &res);
        c->wire = wire;
        zone0->negative = negative;
        assert_true(fast_len > 0);
        if (!(fast[2] & 0x02)) {
            assert_int_equal(fast_len, slow_len);
            assert_memory_equal(fast, slow, fast_len);
        } else {
            /* Truncated (RFC 2181 §9): the copy drops a record with its RRSIGs where the
             * writer kept the record and dropped its RRSIG; the rest is the same records. */
            ldns_pkt *f = NULL, *sl = NULL;
            assert_int_equal(ldns_wire2pkt(&f, fast, fast_len), LDNS_STATUS_OK);
            assert_int_equal(ldns_wire2pkt(&sl, slow, slow_len), LDNS_STATUS_OK);
            assert_true(ldns_pkt_tc(sl));
            ldns_rr_list *fa = ldns_pkt_authority(f), *sa = ldns_pkt_authority(sl);
            assert_int_equal(ldns_rr_list_rr_count(fa) + 1, ldns_rr_list_rr_count(sa));
            for (size_t k = 0; k < ldns_rr_list_rr_count(fa); k++)
                assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(fa, k), ldns_rr_list_rr(sa, k)),
                                 0);
            truncated_cases++;
            ldns_pkt_free(f);
            ldns_pkt_free(sl);
        }
        free(query);
        /* And it reads as a valid, verified response (answer_ask checks the framing). */
        ldns_pkt_free(ask(q));
    }
    assert_int_equal(truncated_cases, 2);
    size_t len;
    for (uint32_t e = 0; e < c->count; e++) /* every record of the chain is signed */
        assert_non_null(nsec3_chain_wire(c, &c->entries[e], &len));

    /* The writer: pointers must reach (14 bits, RFC 1035 §4.1.4), else 1 and nothing written;
     * no room: -1; otherwise the records counted and both pointers set. */
    const struct nsec3_entry *e = &c->entries[0];
    size_t bytes_len;
    const uint8_t *bytes = nsec3_chain_wire(c, e, &bytes_len);
    static uint8_t buf[0x5000];
    struct dns_writer w;
    dns_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(dns_writer_question(&w, dz->origin, DNS_TYPE_A, DNS_CLASS_IN), 0);
    size_t pos = w.pos;
    assert_int_equal(dns_writer_wire_below(&w, DNS_SECTION_NS, bytes, bytes_len, 0x4000), 1);
    w.pos = 0x4000 - bytes_len + 1;
    assert_int_equal(dns_writer_wire_below(&w, DNS_SECTION_NS, bytes, bytes_len, 12), 1);
    w.pos = pos;
    w.limit = pos + bytes_len - 1;
    assert_int_equal(dns_writer_wire_below(&w, DNS_SECTION_NS, bytes, bytes_len, 12), -1);
    assert_int_equal(w.pos, pos);
    assert_int_equal(w.count[DNS_SECTION_NS], 0);
    w.limit = sizeof(buf);
    assert_int_equal(dns_writer_wire_below(&w, DNS_SECTION_NS, bytes, bytes_len, 12), 0);
    assert_int_equal(w.pos, pos + bytes_len);
    assert_int_equal(w.count[DNS_SECTION_NS], 1 + e->rrset.rrsig->count);
    size_t label = 1u + bytes[0];
    assert_int_equal(dnswire_get16(buf + pos + label), 0xC000 | 12);
    size_t sig_at = pos + label + 2 + 10 + dnswire_get16(e->rrset.rdata);
    assert_int_equal(dnswire_get16(buf + sig_at), 0xC000 | pos);
}

/* The negative answers' authority records made once per zone (dns_negative.c) must be the
 * very bytes the record path writes (zone->negative cleared): names directly below the apex
 * of different lengths and case (the pointers into the question move), with and without DO,
 * NODATA at the apex and below it, a deeper name error, truncation, and questions whose
 * label above the origin is MNAME's or RNAME's (ns1, hostmaster), where the record path
 * compresses against the question's name instead. Whether the pre-made bytes were used is
 * seen by serving a copy with its SOA TTL changed. */
static void
test_negative_replay(void **state)
{
    static const struct {
        struct answer_q q;
        bool replayed;
    } cases[] = {
        {{.name = "nope.example.com.", .type = LDNS_RR_TYPE_A, .dnssec_ok = true}, true},
        {{.name = "X.example.com.", .type = LDNS_RR_TYPE_A, .dnssec_ok = true}, true},
        {{.name = "AVeryLongLabelOfFortyCharactersOrSo-0123.ExAmPlE.cOm.",
          .type = LDNS_RR_TYPE_AAAA,
          .dnssec_ok = true},
         true},
        {{.name = "nope.example.com.", .type = LDNS_RR_TYPE_A, .tcp = true, .dnssec_ok = true},
         true},
        {{.name = "nope.example.com.", .type = LDNS_RR_TYPE_A}, true},
        {{.name = "nope.example.com.", .type = LDNS_RR_TYPE_A, .edns = true}, true},
        {{.name = "Example.COM.", .type = LDNS_RR_TYPE_TXT, .dnssec_ok = true}, true},
        {{.name = "www.example.com.", .type = LDNS_RR_TYPE_TXT, .dnssec_ok = true}, true},
        {{.name = "x.y.ent.example.com.", .type = LDNS_RR_TYPE_A, .dnssec_ok = true}, true},
        {{.name = "NS1.example.com.", .type = LDNS_RR_TYPE_MX, .dnssec_ok = true}, false},
        {{.name = "a.Ns1.example.com.", .type = LDNS_RR_TYPE_A, .dnssec_ok = true}, false},
        {{.name = "HostMaster.example.com.", .type = LDNS_RR_TYPE_A, .dnssec_ok = true}, false},
        {{.name = "b.a.hostmaster.example.com.", .type = LDNS_RR_TYPE_A}, false},
        {{.name = "nope.example.com.", .type = LDNS_RR_TYPE_A, .udp_size = 512, .dnssec_ok = true},
         false},
        {{.name = "alias.example.com.", .type = LDNS_RR_TYPE_MX, .dnssec_ok = true}, false},
    };
    static uint8_t with[65535], without[65535], changed[65535];
    const struct dns_negative *negative = zone0->negative;
    /* The copy: the SOA's TTL (after its owner pointer, type and class) one higher. */
    struct dns_negative other = *negative;
    uint8_t *wire = malloc(negative->replay.len[2]);
    memcpy(wire, negative->replay.wire, negative->replay.len[2]);
    wire[2 + 2 + 2 + 3]++;
    other.replay.wire = wire;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t qlen;
        uint8_t *query = answer_build(&cases[i].q, &qlen);
        struct dns_client client = {.tcp = cases[i].q.tcp};
        struct dns_result res;
        size_t max = cases[i].q.tcp ? sizeof(with) : 1232;
        if (cases[i].q.udp_size)
            max = sizeof(with);
        size_t len = dns_answer(&view, &client, query, qlen, with, max, &res);
        zone0->negative = NULL;
        size_t len_without = dns_answer(&view, &client, query, qlen, without, max, &res);
        zone0->negative = &other;
        size_t len_changed = dns_answer(&view, &client, query, qlen, changed, max, &res);
        zone0->negative = negative;
        assert_true(len > DNS_HEADER_LEN);
        assert_int_equal(len, len_without);
        assert_memory_equal(with, without, len);
        assert_int_equal(len_changed, len);
        if ((memcmp(changed, with, len) != 0) != cases[i].replayed)
            fail_msg("%s: pre-made records %s", cases[i].q.name,
                     cases[i].replayed ? "not used" : "used");
        free(query);
        ldns_pkt_free(ask(cases[i].q)); /* and it reads as a verified response */
    }
    free(wire);
}

/* RFC 3225 §3, RFC 4035 §3.1: without DO (or without EDNS) no RRSIG, NSEC3 or referral DS,
 * and otherwise the same response as with DO. */
static void
test_no_do(void **state)
{
    static const struct {
        const char *name;
        ldns_rr_type type;
    } qs[] = {
        {"www.example.com.", LDNS_RR_TYPE_A},
        {"nope.example.com.", LDNS_RR_TYPE_A},
        {"www.example.com.", LDNS_RR_TYPE_TXT},
        {"b.ent.example.com.", LDNS_RR_TYPE_A},
        {"x.wild.example.com.", LDNS_RR_TYPE_A},
        {"x.wild.example.com.", LDNS_RR_TYPE_MX},
        {"host.secure.example.com.", LDNS_RR_TYPE_A},
        {"secure.example.com.", LDNS_RR_TYPE_DS},
        {"host.insecure.example.com.", LDNS_RR_TYPE_A},
        {"insecure.example.com.", LDNS_RR_TYPE_DS},
        {"example.com.", LDNS_RR_TYPE_DNSKEY},
        {"chain.example.com.", LDNS_RR_TYPE_A},
        {"dangling.example.com.", LDNS_RR_TYPE_A},
        {"example.com.", LDNS_RR_TYPE_ANY},
        {"example.com.", LDNS_RR_TYPE_MX},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        ldns_pkt *s = ask_do(qs[i].name, qs[i].type);
        bool referral = !ldns_pkt_aa(s);
        for (int edns = 0; edns < 2; edns++) {
            ldns_pkt *r = answer_ask(
                &view, &(struct answer_q){.name = qs[i].name, .type = qs[i].type, .edns = edns});
            assert_int_equal(ldns_pkt_get_rcode(r), ldns_pkt_get_rcode(s));
            assert_int_equal(ldns_pkt_aa(r), ldns_pkt_aa(s));
            assert_false(ldns_pkt_tc(r));
            ldns_rr_list *sections[] = {ldns_pkt_answer(r), ldns_pkt_authority(r),
                                        ldns_pkt_additional(r)};
            for (int k = 0; k < 3; k++) {
                assert_false(dnssec_has_type(sections[k], LDNS_RR_TYPE_RRSIG));
                assert_false(dnssec_has_type(sections[k], LDNS_RR_TYPE_NSEC3));
            }
            dnssec_assert_unsigned_equal(ldns_pkt_answer(r), ldns_pkt_answer(s), false);
            dnssec_assert_unsigned_equal(ldns_pkt_authority(r), ldns_pkt_authority(s), referral);
            dnssec_assert_unsigned_equal(ldns_pkt_additional(r), ldns_pkt_additional(s), false);
            ldns_pkt_free(r);
        }
        ldns_pkt_free(s);
    }
}

/* RFC 4035 §3.1.6: CD is cleared in authoritative responses, with or without DO
 * (answer_ask asserts it of every response; here the query sets it). */
static void
test_cd_cleared(void **state)
{
    (void)state;
    for (int dnssec_ok = 0; dnssec_ok < 2; dnssec_ok++) {
        ldns_pkt *r = answer_ask(&view, &(struct answer_q){.name = "nope.example.com.",
                                                           .type = LDNS_RR_TYPE_A,
                                                           .edns = true,
                                                           .dnssec_ok = dnssec_ok,
                                                           .cd = true});
        assert_false(ldns_pkt_cd(r));
        assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
        ldns_pkt_free(r);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positive),
        cmocka_unit_test(test_apex_keys),
        cmocka_unit_test(test_cname_chain),
        cmocka_unit_test(test_nxdomain),
        cmocka_unit_test(test_nodata),
        cmocka_unit_test(test_qtype_rrsig),
        cmocka_unit_test(test_wildcard_answer),
        cmocka_unit_test(test_wildcard_nodata),
        cmocka_unit_test(test_secure_referral),
        cmocka_unit_test(test_insecure_referral),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_no_do),
        cmocka_unit_test(test_cd_cleared),
        cmocka_unit_test(test_proof_wire),
        cmocka_unit_test(test_negative_replay),
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(setups) / sizeof(setups[0]); i++) {
        sp = &setups[i];
        failed += cmocka_run_group_tests_name(sp->title, tests, group_setup, group_teardown);
    }
    return failed;
}
