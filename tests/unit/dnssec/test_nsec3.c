// SPDX-License-Identifier: MIT
/* NSEC3 (RFC 5155): hashes against the Appendix A vectors and ldns, base32hex against
 * RFC 4648 §10, type bit maps against RFC 4034 §4.3, the chain of the Appendix A zone
 * (owners, order, next hashes, bit maps, RDATA as ldns encodes the appendix's text), the
 * Appendix B proofs (with the no-opt-out equivalents where the appendix relies on opt-out),
 * which nodes get records, steered types, build errors, and that the query-path functions
 * make no OpenSSL allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "test_crypto_allocs.h"

#include "common/dname.h"
#include "common/dnswire.h"
#include "dnssec/nsec3.h"
#include "dnssec/typebitmap.h"
#include "zone/zone.h"

/* RFC 5155 Appendix A: salt aabbccdd, 12 iterations. */
static const struct nsec3_params rfc_params = {
    .iterations = 12, .salt_len = 4, .salt = {0xaa, 0xbb, 0xcc, 0xdd}};

static int
wire(const char *text, uint8_t out[DNAME_MAX_LEN])
{
    int len = dname_from_text(text, out);
    assert_true(len > 0);
    return len;
}

static void
hash_text(const char *name, const struct nsec3_params *p, char out[NSEC3_B32_LEN + 1])
{
    uint8_t w[DNAME_MAX_LEN], h[NSEC3_HASH_LEN];
    wire(name, w);
    nsec3_hash(w, p, h);
    assert_int_equal(nsec3_base32hex(h, sizeof(h), out, NSEC3_B32_LEN + 1), NSEC3_B32_LEN);
}

/* The owner label of an entry as text. */
static void
label_of(const struct nsec3_entry *e, char out[NSEC3_B32_LEN + 1])
{
    assert_int_equal(e->owner[0], NSEC3_B32_LEN);
    memcpy(out, e->owner + 1, NSEC3_B32_LEN);
    out[NSEC3_B32_LEN] = '\0';
}

/* Offsets into an NSEC3 record's RDATA (after the 16-bit length). */
static const uint8_t *
rdata_next(const struct nsec3_entry *e)
{
    const uint8_t *rd = e->rrset.rdata + 2;
    assert_int_equal(rd[5 + rd[4]], NSEC3_HASH_LEN);
    return rd + 5 + rd[4] + 1;
}

static const uint8_t *
rdata_map(const struct nsec3_entry *e, size_t *len)
{
    const uint8_t *rd = e->rrset.rdata + 2;
    const uint8_t *map = rdata_next(e) + NSEC3_HASH_LEN;
    *len = dnswire_get16(e->rrset.rdata) - (size_t)(map - rd);
    return map;
}

/* --- encodings --------------------------------------------------------------------------- */

static void
test_base32hex_rfc4648(void **state)
{
    /* RFC 4648 §10; NSEC3 uses it lowercase and unpadded (RFC 5155 §3.3), so the expected
     * text is the vector with its "=" removed and lowercased. */
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},
             {"f", "CO======"},
             {"fo", "CPNG===="},
             {"foo", "CPNMU==="},
             {"foob", "CPNMUOG="},
             {"fooba", "CPNMUOJ1"},
             {"foobar", "CPNMUOJ1E8======"}};
    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char want[32], got[32];
        size_t n = 0;
        for (const char *p = v[i].out; *p && *p != '='; p++)
            want[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        want[n] = '\0';
        int len = nsec3_base32hex((const uint8_t *)v[i].in, strlen(v[i].in), got, sizeof(got));
        assert_int_equal(len, (int)n);
        assert_string_equal(got, want);
    }
    /* Room for the characters and the NUL, or -1. */
    char small[9];
    assert_int_equal(nsec3_base32hex((const uint8_t *)"fooba", 5, small, 8), -1);
    assert_int_equal(nsec3_base32hex((const uint8_t *)"fooba", 5, small, 9), 8);
}

/* RFC 5155 Appendix A's hashed owner names (and 2t7b4g4vsa5smi47k61mv5bv1a22bojr.example,
 * a name of the zone that looks like a hash). */
static const struct {
    const char *name, *hash;
} rfc_hashes[] = {
    {"example", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"},
    {"a.example", "35mthgpgcu1qg68fab165klnsnk3dpvl"},
    {"ai.example", "gjeqe526plbf1g8mklp59enfd789njgi"},
    {"ns1.example", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"},
    {"ns2.example", "q04jkcevqvmu85r014c7dkba38o0ji5r"},
    {"w.example", "k8udemvp1j2f7eg6jebps17vp3n8i58h"},
    {"*.w.example", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"},
    {"x.w.example", "b4um86eghhds6nea196smvmlo4ors995"},
    {"y.w.example", "ji6neoaepv8b5o6k4ev33abha8ht9fgc"},
    {"x.y.w.example", "2vptu5timamqttgl4luu9kg21e0aor3s"},
    {"xx.example", "t644ebqk9bibcna874givr6joj62mlhv"},
    {"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example", "kohar7mbb8dc2ce8a9qvl8hon4k53uhi"},
};

/* The hash of c.example, which RFC 5155 Appendix A does not list (its delegation is
 * opted out); test_hash_vectors checks it against ldns. */
#define H_C_EXAMPLE "4g6p9u5gvfshp30pqecj98b3maqbn1ck"

/* ldns's hash of `name` as lowercase text. */
static void
ldns_hash_text(const char *name, const struct nsec3_params *p, char out[NSEC3_B32_LEN + 1])
{
    ldns_rdf *n = ldns_dname_new_frm_str(name);
    assert_non_null(n);
    ldns_rdf *h = ldns_nsec3_hash_name(n, NSEC3_ALG_SHA1, p->iterations, p->salt_len, p->salt);
    assert_non_null(h);
    char *text = ldns_rdf2str(h);
    assert_true(strlen(text) >= NSEC3_B32_LEN);
    for (int i = 0; i < NSEC3_B32_LEN; i++)
        out[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] - 'A' + 'a' : text[i]);
    out[NSEC3_B32_LEN] = '\0';
    free(text);
    ldns_rdf_deep_free(h);
    ldns_rdf_deep_free(n);
}

static void
test_hash_vectors(void **state)
{
    char got[NSEC3_B32_LEN + 1], want[NSEC3_B32_LEN + 1];
    (void)state;
    for (size_t i = 0; i < sizeof(rfc_hashes) / sizeof(rfc_hashes[0]); i++) {
        hash_text(rfc_hashes[i].name, &rfc_params, got);
        assert_string_equal(got, rfc_hashes[i].hash);
    }
    hash_text("c.example", &rfc_params, got);
    ldns_hash_text("c.example", &rfc_params, want);
    assert_string_equal(want, H_C_EXAMPLE);
    assert_string_equal(got, want);

    /* Other parameters against ldns: RFC 9276's (no salt, no extra iteration) first. */
    const struct nsec3_params params[] = {
        {0},
        {.iterations = 1},
        {.iterations = 0, .salt_len = 1, .salt = {0xff}},
        {.iterations = 100, .salt_len = 8, .salt = {1, 2, 3, 4, 5, 6, 7, 8}},
    };
    const char *names[] = {".", "example", "www.example.com", "*.example.org",
                           "a.very.deep.name.below.example.net"};
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
            hash_text(names[j], &params[i], got);
            ldns_hash_text(names[j], &params[i], want);
            assert_string_equal(got, want);
        }
    }
}

static void
test_typebitmap_rfc4034(void **state)
{
    /* RFC 4034 §4.3: "A MX RRSIG NSEC TYPE1234" (the types out of order and one twice). */
    static const uint16_t types[] = {1234,           DNS_TYPE_NSEC, DNS_TYPE_A,
                                     DNS_TYPE_RRSIG, DNS_TYPE_MX,   DNS_TYPE_A};
    static const uint8_t want[] = {0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20};
    uint8_t map[TYPEBITMAP_MAX];
    (void)state;
    int len = typebitmap_encode(types, sizeof(types) / sizeof(types[0]), map, sizeof(map));
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(map, want, sizeof(want));
    assert_true(typebitmap_valid(map, (size_t)len));
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        assert_true(typebitmap_contains(map, (size_t)len, types[i]));
    assert_false(typebitmap_contains(map, (size_t)len, DNS_TYPE_NS));
    assert_false(typebitmap_contains(map, (size_t)len, 1235));
    assert_false(typebitmap_contains(map, (size_t)len, 0x0501)); /* a window not present */
    /* Too small a buffer, the empty set, the highest type. */
    assert_int_equal(typebitmap_encode(types, 6, map, sizeof(want) - 1), -1);
    assert_int_equal(typebitmap_encode(types, 6, map, sizeof(want)), sizeof(want));
    assert_int_equal(typebitmap_encode(NULL, 0, map, sizeof(map)), 0);
    static const uint16_t top[] = {65535};
    assert_int_equal(typebitmap_encode(top, 1, map, sizeof(map)), 34);
    assert_int_equal(map[0], 255);
    assert_int_equal(map[1], 32);
    assert_int_equal(map[33], 0x01);
    /* Malformed maps: a zero-length window, windows out of order, running past the end. */
    static const uint8_t zero[] = {0x00, 0x00};
    static const uint8_t order[] = {0x01, 0x01, 0x40, 0x00, 0x01, 0x40};
    static const uint8_t past[] = {0x00, 0x03, 0x40};
    assert_false(typebitmap_valid(zero, sizeof(zero)));
    assert_false(typebitmap_valid(order, sizeof(order)));
    assert_false(typebitmap_contains(past, sizeof(past), DNS_TYPE_A));
}

/* --- the Appendix A chain ------------------------------------------------------------------ */

static struct zone *
load_rfc_zone(void)
{
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    char path[512], err[ZONE_ERR_MAX] = "";
    struct zone *z = NULL;
    if (!src)
        fail_msg("MERIDIAN_SOURCE_DIR is not set (ctest sets it to the source tree)");
    snprintf(path, sizeof(path), "%s/tests/unit/dnssec/rfc5155.zone", src);
    if (zone_load("example", path, &z, err) != 0)
        fail_msg("%s", err);
    return z;
}

static const uint16_t signer_types[] = {DNS_TYPE_DNSKEY, DNS_TYPE_NSEC3PARAM};

/* The fixture of the tests on the Appendix A zone: the zone and its chain. */
struct rfc {
    struct zone *z;
    struct nsec3_chain c;
};

static int
setup_rfc(void **state)
{
    char err[NSEC3_ERR_MAX] = "";
    struct rfc *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->z = load_rfc_zone();
    if (nsec3_chain_build(r->z, &rfc_params, signer_types, 2, &r->c, err) != 0)
        fail_msg("%s", err);
    *state = r;
    return 0;
}

static int
teardown_rfc(void **state)
{
    struct rfc *r = *state;
    nsec3_chain_fini(&r->c);
    zone_free(r->z);
    free(r);
    return 0;
}

/* The appendix's chain in its order, as "owner next types", flags 0 instead of the
 * appendix's 1: this chain has no opt-out (RFC 9276 §3.1). With no opt-out the insecure
 * delegation c.example gets an NSEC3 too (4g6p..., between 35mt... and b4um...), so
 * 35mthgpg...'s next hash is c.example's instead of the appendix's b4um86eg..., and
 * c.example's record (NS only: no DS, and nothing signed at an unsigned cut) points on to
 * b4um86eg.... Every other record reads as published. */
static const char *const rfc_chain[] = {
    "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom 2t7b4g4vsa5smi47k61mv5bv1a22bojr "
    "MX DNSKEY NS SOA NSEC3PARAM RRSIG",
    "2t7b4g4vsa5smi47k61mv5bv1a22bojr 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
    "2vptu5timamqttgl4luu9kg21e0aor3s 35mthgpgcu1qg68fab165klnsnk3dpvl MX RRSIG",
    "35mthgpgcu1qg68fab165klnsnk3dpvl " H_C_EXAMPLE " NS DS RRSIG", /* appendix: b4um... */
    H_C_EXAMPLE " b4um86eghhds6nea196smvmlo4ors995 NS",             /* not in the appendix */
    "b4um86eghhds6nea196smvmlo4ors995 gjeqe526plbf1g8mklp59enfd789njgi MX RRSIG",
    "gjeqe526plbf1g8mklp59enfd789njgi ji6neoaepv8b5o6k4ev33abha8ht9fgc A HINFO AAAA RRSIG",
    "ji6neoaepv8b5o6k4ev33abha8ht9fgc k8udemvp1j2f7eg6jebps17vp3n8i58h",
    "k8udemvp1j2f7eg6jebps17vp3n8i58h kohar7mbb8dc2ce8a9qvl8hon4k53uhi",
    "kohar7mbb8dc2ce8a9qvl8hon4k53uhi q04jkcevqvmu85r014c7dkba38o0ji5r A RRSIG",
    "q04jkcevqvmu85r014c7dkba38o0ji5r r53bq7cc2uvmubfu5ocmm6pers9tk9en A RRSIG",
    "r53bq7cc2uvmubfu5ocmm6pers9tk9en t644ebqk9bibcna874givr6joj62mlhv MX RRSIG",
    "t644ebqk9bibcna874givr6joj62mlhv 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom A HINFO AAAA RRSIG",
};

#define RFC_CHAIN_LEN (sizeof(rfc_chain) / sizeof(rfc_chain[0]))

/* ldns's RDATA for one line of rfc_chain, in Meridian's form (16-bit length first). */
static size_t
ldns_nsec3_rdata(const char *line, uint8_t *out, size_t size, char owner[NSEC3_B32_LEN + 1])
{
    char text[512];
    const char *sp = strchr(line, ' ');
    snprintf(text, sizeof(text), "%.*s.example. 3600 IN NSEC3 1 0 12 aabbccdd%s", (int)(sp - line),
             line, sp);
    memcpy(owner, line, NSEC3_B32_LEN);
    owner[NSEC3_B32_LEN] = '\0';
    ldns_rr *rr = NULL;
    if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
        fail_msg("ldns cannot parse '%s'", text);
    ldns_buffer *buf = ldns_buffer_new(1024);
    assert_int_equal(ldns_rr_rdata2buffer_wire(buf, rr), LDNS_STATUS_OK);
    size_t len = ldns_buffer_position(buf);
    assert_true(len + 2 <= size);
    dnswire_put16(out, (uint16_t)len);
    memcpy(out + 2, ldns_buffer_begin(buf), len);
    ldns_buffer_free(buf);
    ldns_rr_free(rr);
    return len + 2;
}

static void
test_chain_appendix_a(void **state)
{
    struct rfc *r = *state;
    struct zone *z = r->z;
    struct nsec3_chain *c = &r->c;

    assert_int_equal(c->count, RFC_CHAIN_LEN);
    for (uint32_t i = 0; i < c->count; i++) {
        const struct nsec3_entry *e = &c->entries[i];
        char label[NSEC3_B32_LEN + 1], want_label[NSEC3_B32_LEN + 1];
        uint8_t want[512];
        size_t want_len = ldns_nsec3_rdata(rfc_chain[i], want, sizeof(want), want_label);
        label_of(e, label);
        assert_string_equal(label, want_label);
        /* The owner is the label under the origin, and hashes its node's name. */
        assert_int_equal(e->owner_len, 1 + NSEC3_B32_LEN + 9);
        assert_memory_equal(e->owner + 1 + NSEC3_B32_LEN, "\007example", 9);
        uint8_t h[NSEC3_HASH_LEN];
        nsec3_hash(z->nodes[e->node].name, &rfc_params, h);
        assert_memory_equal(h, e->hash, NSEC3_HASH_LEN);
        assert_ptr_equal(nsec3_chain_node(c, z, &z->nodes[e->node]), e);
        /* Byte for byte what ldns makes of the line: alg, flags, iterations, salt, next
         * hash and bit map. */
        assert_int_equal(e->rrset.type, DNS_TYPE_NSEC3);
        assert_int_equal(e->rrset.count, 1);
        assert_int_equal(e->rrset.ttl, 3600); /* min(SOA TTL, SOA MINIMUM) */
        assert_int_equal(2 + dnswire_get16(e->rrset.rdata), want_len);
        assert_memory_equal(e->rrset.rdata, want, want_len);
        /* And the chain links: each next hash is the following owner's hash. */
        assert_memory_equal(rdata_next(e), c->entries[(i + 1) % c->count].hash, NSEC3_HASH_LEN);
    }
    /* Glue below the cuts gets no record (RFC 5155 §7.1). */
    static const char *const glue[] = {"ns1.a.example", "ns2.a.example", "ns1.c.example",
                                       "ns2.c.example"};
    for (size_t i = 0; i < 4; i++) {
        uint8_t w[DNAME_MAX_LEN];
        int len = wire(glue[i], w);
        const struct zone_node *n = zone_lookup(z, w, len);
        assert_non_null(n);
        assert_null(nsec3_chain_node(c, z, n));
    }
    /* NSEC3PARAM 1 0 12 aabbccdd (RFC 5155 §4.3: flags 0 in NSEC3PARAM). */
    static const uint8_t param[] = {0x00, 0x09, 0x01, 0x00, 0x00, 0x0c,
                                    0x04, 0xaa, 0xbb, 0xcc, 0xdd};
    assert_int_equal(c->param.type, DNS_TYPE_NSEC3PARAM);
    assert_int_equal(c->param.count, 1);
    assert_memory_equal(c->param.rdata, param, sizeof(param));
    uint8_t buf[NSEC3PARAM_RDATA_MAX];
    assert_int_equal(nsec3_param_rdata(&rfc_params, buf, sizeof(buf)), sizeof(param));
    assert_int_equal(nsec3_param_rdata(&rfc_params, buf, sizeof(param) - 1), -1);

    nsec3_chain_fini(c);
    assert_int_equal(c->count, 0);
    nsec3_chain_fini(c); /* twice is harmless (the teardown does it again) */
}

static void
test_match_and_cover(void **state)
{
    struct rfc *r = *state;
    struct nsec3_chain *c = &r->c;
    uint8_t h[NSEC3_HASH_LEN];
    for (uint32_t i = 0; i < c->count; i++) {
        const struct nsec3_entry *e = &c->entries[i];
        assert_ptr_equal(nsec3_chain_match(c, e->hash), e);
        assert_null(nsec3_chain_cover(c, e->hash)); /* a matched hash is not covered */
        memcpy(h, e->hash, sizeof(h));
        h[NSEC3_HASH_LEN - 1]++; /* just after: covered by e (no two hashes are that close) */
        assert_ptr_equal(nsec3_chain_cover(c, h), e);
        assert_null(nsec3_chain_match(c, h));
    }
    /* Before the first hash and after the last: the last record, which wraps around. */
    memset(h, 0, sizeof(h));
    assert_ptr_equal(nsec3_chain_cover(c, h), &c->entries[c->count - 1]);
    memset(h, 0xff, sizeof(h));
    assert_ptr_equal(nsec3_chain_cover(c, h), &c->entries[c->count - 1]);
    nsec3_chain_fini(c);
    /* An empty chain matches and covers nothing. */
    assert_null(nsec3_chain_cover(c, h));
    assert_null(nsec3_chain_match(c, h));
}

/* --- Appendix B proofs ----------------------------------------------------------------------- */

/* Asserts that the proof holds exactly the owners listed (any order). */
static void
expect_owners(const struct nsec3_proof *p, const char *const *owners, unsigned n)
{
    char got[NSEC3_PROOF_MAX][NSEC3_B32_LEN + 1];
    for (unsigned i = 0; i < p->count; i++)
        label_of(p->entries[i], got[i]);
    if (p->count != n)
        fail_msg("proof has %u records, want %u (first %s)", p->count, n, p->count ? got[0] : "-");
    for (unsigned i = 0; i < n; i++) {
        bool found = false;
        for (unsigned j = 0; j < p->count && !found; j++)
            found = strcmp(got[j], owners[i]) == 0;
        if (!found)
            fail_msg("proof lacks %s", owners[i]);
    }
}

static const struct nsec3_entry *
by_owner(const struct nsec3_proof *p, const char *owner)
{
    char label[NSEC3_B32_LEN + 1];
    for (unsigned i = 0; i < p->count; i++) {
        label_of(p->entries[i], label);
        if (strcmp(label, owner) == 0)
            return p->entries[i];
    }
    fail_msg("no %s in the proof", owner);
    return NULL;
}

static bool
has_type(const struct nsec3_entry *e, uint16_t type)
{
    size_t len;
    const uint8_t *map = rdata_map(e, &len);
    return typebitmap_contains(map, len, type);
}

static void
test_appendix_b(void **state)
{
    struct rfc *r = *state;
    struct zone *z = r->z;
    struct nsec3_chain *c = &r->c;
    struct nsec3_proof p;
    uint8_t q[DNAME_MAX_LEN];

    /* B.1 Name Error, a.c.x.w.example: closest encloser x.w.example matched (b4um...), next
     * closer c->x.w.example (0va5...) covered by 0p9m..., wildcard *.x.w.example (92pq...)
     * covered. The appendix's cover for the wildcard is 35mthgpg...; with no opt-out the
     * NSEC3 of c->example (4g6p...) sits between 35mt... and 92pq..., so it covers instead. */
    wire("a.c.x.w.example", q);
    assert_int_equal(nsec3_prove_nxdomain(c, z, q, &p), 0);
    expect_owners(&p,
                  (const char *[]){"b4um86eghhds6nea196smvmlo4ors995",
                                   "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", H_C_EXAMPLE},
                  3);
    /* In the RFC's order: closest encloser, next closer, wildcard. */
    char label[NSEC3_B32_LEN + 1];
    label_of(p.entries[0], label);
    assert_string_equal(label, "b4um86eghhds6nea196smvmlo4ors995");
    label_of(p.entries[2], label);
    assert_string_equal(label, H_C_EXAMPLE);

    /* B.2 No Data, ns1.example MX: the NSEC3 matching ns1.example, without MX or CNAME. */
    wire("ns1.example", q);
    assert_int_equal(nsec3_prove_nodata(c, z, q, DNS_TYPE_MX, &p), 0);
    expect_owners(&p, (const char *[]){"2t7b4g4vsa5smi47k61mv5bv1a22bojr"}, 1);
    assert_false(has_type(p.entries[0], DNS_TYPE_MX));
    assert_false(has_type(p.entries[0], DNS_TYPE_CNAME));
    assert_true(has_type(p.entries[0], DNS_TYPE_A));

    /* B.2.1 No Data for the empty non-terminal y.w.example: its NSEC3, empty bit map. */
    wire("y.w.example", q);
    assert_int_equal(nsec3_prove_nodata(c, z, q, DNS_TYPE_A, &p), 0);
    expect_owners(&p, (const char *[]){"ji6neoaepv8b5o6k4ev33abha8ht9fgc"}, 1);
    size_t map_len;
    rdata_map(p.entries[0], &map_len);
    assert_int_equal(map_len, 0);

    /* B.3 Referral to an unsigned zone, mc.c.example MX. The appendix (opt-out) proves it
     * with the closest provable encloser: example matched (0p9m...) and c->example covered by
     * the opt-out record 35mthgpg.... Without opt-out (RFC 5155 §7.2.7) the NSEC3 matching
     * c->example itself is the proof: NS set, DS clear. */
    wire("mc.c.example", q);
    assert_int_equal(nsec3_prove_referral(c, z, q, &p), 0);
    expect_owners(&p, (const char *[]){H_C_EXAMPLE}, 1);
    assert_true(has_type(p.entries[0], DNS_TYPE_NS));
    assert_false(has_type(p.entries[0], DNS_TYPE_DS));
    assert_false(has_type(p.entries[0], DNS_TYPE_RRSIG));
    /* A referral to the signed a.example needs no NSEC3: its DS answers. */
    wire("mc.a.example", q);
    assert_int_equal(nsec3_prove_referral(c, z, q, &p), 0);
    assert_int_equal(p.count, 0);

    /* B.4 Wildcard Expansion, a.z.w.example MX: next closer z.w.example (qlu7...) covered
     * by q04j.... */
    wire("a.z.w.example", q);
    assert_int_equal(nsec3_prove_wildcard_answer(c, z, q, &p), 0);
    expect_owners(&p, (const char *[]){"q04jkcevqvmu85r014c7dkba38o0ji5r"}, 1);

    /* B.5 Wildcard No Data, a.z.w.example AAAA: closest encloser w.example matched
     * (k8ud...), next closer covered (q04j...), wildcard *.w.example matched (r53b...). */
    assert_int_equal(nsec3_prove_wildcard_nodata(c, z, q, &p), 0);
    expect_owners(&p,
                  (const char *[]){"k8udemvp1j2f7eg6jebps17vp3n8i58h",
                                   "q04jkcevqvmu85r014c7dkba38o0ji5r",
                                   "r53bq7cc2uvmubfu5ocmm6pers9tk9en"},
                  3);
    assert_false(has_type(by_owner(&p, "r53bq7cc2uvmubfu5ocmm6pers9tk9en"), DNS_TYPE_AAAA));
}

static void
test_ds_and_refusals(void **state)
{
    struct rfc *r = *state;
    struct zone *z = r->z;
    struct nsec3_chain *c = &r->c;
    struct nsec3_proof p;
    uint8_t q[DNAME_MAX_LEN];

    /* §7.2.4 DS at the unsigned cut c->example: its own NSEC3 (NS, no DS). */
    wire("c.example", q);
    assert_int_equal(nsec3_prove_nodata(c, z, q, DNS_TYPE_DS, &p), 0);
    expect_owners(&p, (const char *[]){H_C_EXAMPLE}, 1);
    /* Any other type at a cut is a referral, not NODATA. */
    assert_int_equal(nsec3_prove_nodata(c, z, q, DNS_TYPE_A, &p), -1);
    assert_int_equal(p.count, 0);
    /* §7.2.4 DS with no matching NSEC3 (nx.example, je32...): closest provable encloser
     * example (0p9m...) and the cover of nx.example, the record before je32...: gjeq.... */
    wire("nx.example", q);
    assert_int_equal(nsec3_prove_nodata(c, z, q, DNS_TYPE_DS, &p), 0);
    expect_owners(
        &p,
        (const char *[]){"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "gjeqe526plbf1g8mklp59enfd789njgi"},
        2);
    assert_int_equal(nsec3_prove_nodata(c, z, q, DNS_TYPE_A, &p), -1);

    /* NXDOMAIN at the apex's level: example matched; nx.example and *.example (jhsv...)
     * both covered by gjeq...: one record for the two covers. */
    assert_int_equal(nsec3_prove_nxdomain(c, z, q, &p), 0);
    expect_owners(
        &p,
        (const char *[]){"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "gjeqe526plbf1g8mklp59enfd789njgi"},
        2);

    /* Each proof refuses a name of the wrong shape. */
    wire("xx.example", q); /* exists */
    assert_int_equal(nsec3_prove_nxdomain(c, z, q, &p), -1);
    assert_int_equal(nsec3_prove_wildcard_answer(c, z, q, &p), -1);
    assert_int_equal(nsec3_prove_referral(c, z, q, &p), -1);
    wire("b.example", q); /* no wildcard at example */
    assert_int_equal(nsec3_prove_wildcard_answer(c, z, q, &p), -1);
    assert_int_equal(nsec3_prove_wildcard_nodata(c, z, q, &p), -1);
    wire("a.b.x.w.example", q); /* x.w.example has no wildcard */
    assert_int_equal(nsec3_prove_wildcard_nodata(c, z, q, &p), -1);
    assert_int_equal(p.count, 0);
    wire("x.c.example", q); /* below a cut: a referral */
    assert_int_equal(nsec3_prove_nxdomain(c, z, q, &p), -1);
    assert_int_equal(nsec3_prove_nodata(c, z, q, DNS_TYPE_DS, &p), -1);
    wire("ns1.a.example", q);
    assert_int_equal(nsec3_prove_nodata(c, z, q, DNS_TYPE_A, &p), -1);
    wire("example.org", q); /* outside the zone */
    assert_int_equal(nsec3_prove_nxdomain(c, z, q, &p), -1);
    assert_int_equal(nsec3_prove_nodata(c, z, q, DNS_TYPE_A, &p), -1);
}

/* The query-path functions hash and search without OpenSSL allocating (its one-shot SHA1()
 * and EVP digests would). */
static void
test_no_crypto_allocation(void **state)
{
    struct rfc *r = *state;
    struct zone *z = r->z;
    struct nsec3_chain *c = &r->c;
    struct nsec3_proof p;
    uint8_t q[DNAME_MAX_LEN];
    size_t before = test_crypto_allocs();
    wire("a.c.x.w.example", q);
    assert_int_equal(nsec3_prove_nxdomain(c, z, q, &p), 0);
    wire("a.z.w.example", q);
    assert_int_equal(nsec3_prove_wildcard_nodata(c, z, q, &p), 0);
    assert_int_equal(nsec3_prove_wildcard_answer(c, z, q, &p), 0);
    assert_int_equal(test_crypto_allocs(), before);
    /* The counter counts: a one-shot EVP digest allocates. */
    unsigned char md[32];
    unsigned int md_len;
    assert_int_equal(EVP_Digest("x", 1, md, &md_len, EVP_sha256(), NULL), 1);
    assert_true(test_crypto_allocs() > before);
}

/* --- other zones ------------------------------------------------------------------------------ */

static char zone_path[64];

static struct zone *
load_text(const char *text, const struct zone_steer *steered, size_t n)
{
    char err[ZONE_ERR_MAX] = "";
    struct zone *z = NULL;
    strcpy(zone_path, "/tmp/meridian-test-nsec3-XXXXXX");
    int fd = mkstemp(zone_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int rc = zone_load_steered("example.com", zone_path, steered, n, NULL, &z, err);
    unlink(zone_path);
    if (rc != 0)
        fail_msg("%s", err);
    return z;
}

static const struct nsec3_entry *
entry_of(const struct nsec3_chain *c, const struct zone *z, const char *name)
{
    uint8_t w[DNAME_MAX_LEN];
    int len = wire(name, w);
    const struct zone_node *n = zone_lookup(z, w, len);
    if (!n)
        fail_msg("no node %s", name);
    return nsec3_chain_node(c, z, n);
}

/* The bit map of `name`'s NSEC3 is exactly `types`. */
static void
expect_map(const struct nsec3_chain *c, const struct zone *z, const char *name,
           const uint16_t *types, size_t n)
{
    const struct nsec3_entry *e = entry_of(c, z, name);
    uint8_t want[TYPEBITMAP_MAX];
    size_t len;
    if (!e)
        fail_msg("no NSEC3 for %s", name);
    int want_len = typebitmap_encode(types, n, want, sizeof(want));
    const uint8_t *map = rdata_map(e, &len);
    assert_int_equal(len, want_len);
    assert_memory_equal(map, want, len);
}

static void
test_nodes_and_steering(void **state)
{
    static const char text[] =
        "$ORIGIN example.com.\n$TTL 300\n"
        "@ SOA ns1 host 1 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.1\n"
        "www.deep CNAME ns1\n"        /* deep.example.com: an empty non-terminal */
        "sub.zone NS ns.sub.zone\n"   /* zone.example.com: ENT above a cut */
        "ns.sub.zone A 192.0.2.2\n"   /* glue */
        "a.b.sub.zone TXT occluded\n" /* below the cut: no record, nor its ENT */
        "sub.zone A 192.0.2.9\n"      /* data at the cut: the child's */
        "sec NS ns1\nsec DS 1 13 2 "
        "0000000000000000000000000000000000000000000000000000000000000000\n"
        "*.wild TXT any\n";
    static const uint8_t geo[] = "\003geo\007example\003com";
    static const uint8_t dual[] = "\004dual\007example\003com";
    /* geo answers A and AAAA; dual has no types yet (then a CNAME service, below). */
    struct zone_steer steered[] = {
        {.name = geo, .index = 0, .types = ZONE_STEER_A | ZONE_STEER_AAAA, .where = "geo"},
        {.name = dual, .index = 1, .types = 0, .where = "dual"},
    };
    char err[NSEC3_ERR_MAX] = "";
    struct nsec3_chain c;
    (void)state;
    struct zone *z = load_text(text, steered, 2);
    uint8_t w[DNAME_MAX_LEN];
    assert_int_equal(nsec3_chain_build(z, &(struct nsec3_params){0}, NULL, 0, &c, err), 0);

    /* RFC 9276 defaults in the RDATA: alg 1, flags 0, 0 iterations, no salt. */
    const uint8_t *rd = c.entries[0].rrset.rdata + 2;
    assert_memory_equal(rd, "\x01\x00\x00\x00\x00\x14", 6);
    assert_int_equal(c.entries[0].rrset.ttl, 60);

    expect_map(&c, z, "example.com", (const uint16_t[]){DNS_TYPE_SOA, DNS_TYPE_NS, DNS_TYPE_RRSIG},
               3);
    expect_map(&c, z, "deep.example.com", NULL, 0);
    expect_map(&c, z, "zone.example.com", NULL, 0);
    expect_map(&c, z, "www.deep.example.com", (const uint16_t[]){DNS_TYPE_CNAME, DNS_TYPE_RRSIG},
               2);
    expect_map(&c, z, "sub.zone.example.com", (const uint16_t[]){DNS_TYPE_NS}, 1);
    expect_map(&c, z, "sec.example.com",
               (const uint16_t[]){DNS_TYPE_NS, DNS_TYPE_DS, DNS_TYPE_RRSIG}, 3);
    expect_map(&c, z, "wild.example.com", NULL, 0);
    expect_map(&c, z, "*.wild.example.com", (const uint16_t[]){DNS_TYPE_TXT, DNS_TYPE_RRSIG}, 2);
    expect_map(&c, z, "geo.example.com",
               (const uint16_t[]){DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_RRSIG}, 3);
    expect_map(&c, z, "dual.example.com", NULL, 0); /* no steer types: nothing */
    assert_null(entry_of(&c, z, "ns.sub.zone.example.com"));
    assert_null(entry_of(&c, z, "a.b.sub.zone.example.com"));
    assert_null(entry_of(&c, z, "b.sub.zone.example.com"));
    /* 14 nodes (4 of them empty non-terminals), 3 below the cut. */
    assert_int_equal(z->node_count, 14);
    assert_int_equal(c.count, 11);
    nsec3_chain_fini(&c);

    /* dual: with a CNAME service it lists CNAME; the wildcard's record is under "*". */
    zone_free(z);
    steered[1].types = ZONE_STEER_CNAME;
    z = load_text(text, steered, 2);
    assert_int_equal(nsec3_chain_build(z, &(struct nsec3_params){0}, NULL, 0, &c, err), 0);
    expect_map(&c, z, "dual.example.com", (const uint16_t[]){DNS_TYPE_CNAME, DNS_TYPE_RRSIG}, 2);
    uint8_t h[NSEC3_HASH_LEN];
    wire("*.wild.example.com", w);
    nsec3_hash(w, &c.params, h);
    assert_ptr_equal(nsec3_chain_match(&c, h), entry_of(&c, z, "*.wild.example.com"));
    nsec3_chain_fini(&c);
    zone_free(z);
}

/* --- what the build precomputes for the query path ------------------------------------- */

/* The reference: the entry covering h by a scan of the whole chain (RFC 5155 §1.3: owner hash
 * < h < next hash, the last wrapping to the first), NULL if one matches. */
static const struct nsec3_entry *
cover_by_scan(const struct nsec3_chain *c, const uint8_t h[NSEC3_HASH_LEN])
{
    const struct nsec3_entry *best = NULL;
    for (uint32_t i = 0; i < c->count; i++) {
        int cmp = memcmp(c->entries[i].hash, h, NSEC3_HASH_LEN);
        if (cmp == 0)
            return NULL;
        if (cmp < 0 && (!best || memcmp(c->entries[i].hash, best->hash, NSEC3_HASH_LEN) > 0))
            best = &c->entries[i];
    }
    return best ? best : &c->entries[c->count - 1];
}

/* A zone of 700 hosts, 100 of them with a name two labels below (an empty non-terminal
 * between), a wildcard, a delegation with glue: 906 entries, a 10-bit bucket index. */
static struct zone *
load_big(void)
{
    size_t size = 64 * 1024, len = 0;
    char *text = malloc(size);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, size - len,
                            "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 host 1 3600 600 86400 60\n"
                            "@ NS ns1\nns1 A 192.0.2.1\n*.wild TXT any\n"
                            "sub NS ns.sub\nns.sub A 192.0.2.2\n");
    for (int i = 0; i < 700; i++)
        len += (size_t)snprintf(text + len, size - len, "%s%d A 192.0.2.3\n", i % 7 ? "h" : "x.y.h",
                                i);
    assert_true(len < size);
    struct zone *z = load_text(text, NULL, 0);
    free(text);
    return z;
}

/* The wildcard cover found at build time is the one a search finds, for every node; the
 * bucket index finds what a scan finds, for every entry and for pseudo-random hashes; the
 * name error proof from a caller's walk is the closest encloser's match, the next closer's
 * cover and the wildcard's cover. */
static void
test_precomputed(void **state)
{
    char err[NSEC3_ERR_MAX] = "";
    struct nsec3_chain c;
    uint8_t w[DNAME_MAX_LEN], h[NSEC3_HASH_LEN];
    (void)state;
    struct zone *z = load_big();
    static const struct nsec3_params salted = {.iterations = 2, .salt_len = 2, .salt = {1, 2}};
    const struct nsec3_params *params[] = {&(struct nsec3_params){0}, &salted};
    for (size_t pi = 0; pi < 2; pi++) {
        assert_int_equal(nsec3_chain_build(z, params[pi], NULL, 0, &c, err), 0);
        assert_true(c.count > 700);
        /* About one entry per bucket: 2^bits is the first power of two >= count (1,024). */
        assert_int_equal(c.bucket_bits, 10);
        assert_true(c.count > 512 && c.count <= 1024);
        unsigned checked = 0;
        for (uint32_t i = 0; i < z->node_count; i++) {
            const struct zone_node *node = &z->nodes[i];
            const struct nsec3_entry *got = nsec3_chain_wildcard_cover(&c, z, node);
            if (node->flags & (ZONE_NODE_NONAUTH | ZONE_NODE_DELEGATION)) {
                assert_null(got);
                continue;
            }
            w[0] = 1;
            w[1] = '*';
            memcpy(w + 2, node->name, node->name_len);
            nsec3_hash(w, &c.params, h);
            assert_ptr_equal(got, cover_by_scan(&c, h)); /* NULL where *.wild exists */
            assert_ptr_equal(got, nsec3_chain_cover(&c, h));
            checked++;
        }
        assert_true(checked >= c.count - 1); /* every entry's node but the cut's */
        for (uint32_t i = 0; i < c.count; i++)
            assert_ptr_equal(nsec3_chain_match(&c, c.entries[i].hash), &c.entries[i]);
        uint32_t x = 12345;
        for (int k = 0; k < 5000; k++) {
            for (int b = 0; b < NSEC3_HASH_LEN; b++) {
                x = x * 1103515245u + 12345u;
                h[b] = (uint8_t)(x >> 16);
            }
            if (k % 2) /* share a long prefix with an entry: the memcmp tie-break */
                memcpy(h, c.entries[(uint32_t)k % c.count].hash, 12);
            assert_ptr_equal(nsec3_chain_cover(&c, h), cover_by_scan(&c, h));
            assert_null(nsec3_chain_match(&c, h));
        }
        /* Name errors: x.h1 (ce h1), a.b.h7 (ce h7, next closer b.h7), q.nowhere (apex). */
        static const char *const names[][3] = {
            {"x.h1.example.com", "h1.example.com", "x.h1.example.com"},
            {"a.b.h7.example.com", "h7.example.com", "b.h7.example.com"},
            {"q.nowhere.example.com", "example.com", "nowhere.example.com"},
            {"n.y.h14.example.com", "y.h14.example.com", "n.y.h14.example.com"}};
        for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
            struct nsec3_proof p;
            uint8_t lname[DNAME_MAX_LEN], ce[DNAME_MAX_LEN], nc[DNAME_MAX_LEN];
            wire(names[n][0], lname);
            int ce_len = wire(names[n][1], ce);
            int nc_len = wire(names[n][2], nc);
            const struct zone_node *node = zone_lookup(z, ce, ce_len);
            assert_non_null(node);
            assert_int_equal(nsec3_prove_nxdomain(&c, z, lname, &p), 0);
            assert_int_equal(p.count, 3);
            assert_ptr_equal(p.entries[0], nsec3_chain_node(&c, z, node));
            nsec3_hash(nc, &c.params, h);
            assert_ptr_equal(p.entries[1], cover_by_scan(&c, h));
            w[0] = 1;
            w[1] = '*';
            memcpy(w + 2, ce, (size_t)ce_len);
            nsec3_hash(w, &c.params, h);
            assert_ptr_equal(p.entries[2], cover_by_scan(&c, h));
            struct nsec3_proof at;
            const uint8_t *next_closer = lname + (dname_wire_length(lname, DNAME_MAX_LEN) - nc_len);
            assert_int_equal(nsec3_prove_nxdomain_at(&c, z, node, next_closer, &at), 0);
            assert_int_equal(at.count, p.count);
            assert_memory_equal(at.entries, p.entries, sizeof(p.entries[0]) * p.count);
        }
        /* Below the wildcard's parent a name is answered by the wildcard: no name error. */
        struct nsec3_proof p;
        wire("x.wild.example.com", w);
        assert_int_equal(nsec3_prove_nxdomain(&c, z, w, &p), -1);
        nsec3_chain_fini(&c);
    }
    zone_free(z);
}

/* nsec3_chain_render_wire: each signed entry as response records (owner label, a pointer
 * left for the writer, the NSEC3 record, each RRSIG with its owner a pointer, at the NSEC3
 * record's TTL) in a slot of whole cache lines; unsigned entries and copies get none. */
static void
test_render_wire(void **state)
{
    char err[NSEC3_ERR_MAX] = "";
    struct nsec3_chain c;
    (void)state;
    struct zone *z = load_big();
    assert_int_equal(nsec3_chain_build(z, &(struct nsec3_params){0}, NULL, 0, &c, err), 0);
    /* Two made-up signatures of 5 and 3 octets for entry 0, none for the others. */
    static const uint8_t sig_rdata[] = {0, 5, 1, 2, 3, 4, 5, 0, 3, 7, 8, 9};
    struct zone_rrset sig = {.type = DNS_TYPE_RRSIG, .count = 2, .ttl = 60, .rdata = sig_rdata};
    c.entries[0].rrset.rrsig = &sig;
    nsec3_chain_render_wire(&c);
    size_t len = 0;
    for (uint32_t i = 1; i < c.count; i++)
        assert_null(nsec3_chain_wire(&c, &c.entries[i], &len));
    const struct nsec3_entry *e = &c.entries[0];
    const uint8_t *p = nsec3_chain_wire(&c, e, &len), *start = p;
    assert_non_null(p);
    size_t nsec3_rdlen = dnswire_get16(e->rrset.rdata);
    size_t want = 33 + 2 + 10 + nsec3_rdlen + (2 + 10 + 5) + (2 + 10 + 3);
    assert_int_equal(len, want);
    assert_int_equal(c.wire_stride, (2 + want + 63) / 64 * 64); /* whole cache lines */
    assert_int_equal((uintptr_t)c.wire % 64, 0);
    struct nsec3_entry other = *e; /* a copy (as a steered denial's) is not the chain's */
    assert_null(nsec3_chain_wire(&c, &other, &len));
    assert_memory_equal(p, e->owner, 33);
    assert_int_equal(dnswire_get16(p + 33), 0xC000);
    assert_int_equal(dnswire_get16(p + 35), DNS_TYPE_NSEC3);
    assert_int_equal(dnswire_get16(p + 37), DNS_CLASS_IN);
    assert_int_equal(dnswire_get32(p + 39), e->rrset.ttl);
    assert_memory_equal(p + 43, e->rrset.rdata, 2 + nsec3_rdlen);
    p += 45 + nsec3_rdlen;
    for (int k = 0; k < 2; k++) {
        const uint8_t *rd = k ? sig_rdata + 7 : sig_rdata;
        assert_int_equal(dnswire_get16(p), 0xC000);
        assert_int_equal(dnswire_get16(p + 2), DNS_TYPE_RRSIG);
        assert_int_equal(dnswire_get16(p + 4), DNS_CLASS_IN);
        assert_int_equal(dnswire_get32(p + 6), e->rrset.ttl);
        assert_memory_equal(p + 10, rd, 2u + dnswire_get16(rd));
        p += 12u + dnswire_get16(rd);
    }
    assert_ptr_equal(p, start + want);
    nsec3_chain_fini(&c);
    zone_free(z);
}

static void
test_build_errors(void **state)
{
    char err[NSEC3_ERR_MAX] = "";
    struct nsec3_chain c;
    (void)state;
    struct zone *z = load_text("$ORIGIN example.com.\n@ SOA ns1 host 1 3600 600 86400 60\n"
                               "@ NS ns1\nns1 A 192.0.2.1\n",
                               NULL, 0);
    /* RFC 9276 §3.2: iterations are capped. */
    struct nsec3_params p = {.iterations = NSEC3_ITERATIONS_MAX + 1};
    assert_int_equal(nsec3_chain_build(z, &p, NULL, 0, &c, err), -1);
    assert_non_null(strstr(err, "iterations"));
    assert_null(c.entries);
    p.iterations = NSEC3_ITERATIONS_MAX;
    assert_int_equal(nsec3_chain_build(z, &p, NULL, 0, &c, err), 0);
    nsec3_chain_fini(&c);
    zone_free(z);

    /* A zone that brings its own NSEC3 records. */
    z = load_text("$ORIGIN example.com.\n@ SOA ns1 host 1 3600 600 86400 60\n@ NS ns1\n"
                  "ns1 A 192.0.2.1\n"
                  "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom NSEC3 1 0 0 - "
                  "2t7b4g4vsa5smi47k61mv5bv1a22bojr A\n",
                  NULL, 0);
    assert_int_equal(nsec3_chain_build(z, &(struct nsec3_params){0}, NULL, 0, &c, err), -1);
    assert_non_null(strstr(err, "already has NSEC3"));
    zone_free(z);

    /* An origin so long that a 32-octet label does not fit under it (223 + 33 > 255). */
    char origin[256], text[1024];
    memset(origin, 'a', 64 * 3 + 31);
    for (int i = 1; i <= 3; i++)
        origin[64 * i - 1] = '.'; /* three 63-octet labels, then one of 31: 225 octets */
    origin[64 * 3 + 31] = '\0';
    snprintf(text, sizeof(text),
             "$ORIGIN %s.\n@ SOA ns1 host 1 3600 600 86400 60\n@ NS ns1\n"
             "ns1 A 192.0.2.1\n",
             origin);
    strcpy(zone_path, "/tmp/meridian-test-nsec3-XXXXXX");
    int fd = mkstemp(zone_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char zerr[ZONE_ERR_MAX];
    int rc = zone_load(origin, zone_path, &z, zerr);
    unlink(zone_path);
    if (rc != 0)
        fail_msg("%s", zerr);
    assert_int_equal(nsec3_chain_build(z, &(struct nsec3_params){0}, NULL, 0, &c, err), -1);
    assert_non_null(strstr(err, "origin too long"));
    zone_free(z);
}

int
main(void)
{
    /* Before anything makes OpenSSL allocate. */
    if (test_crypto_allocs_start() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base32hex_rfc4648),
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_typebitmap_rfc4034),
        cmocka_unit_test_setup_teardown(test_chain_appendix_a, setup_rfc, teardown_rfc),
        cmocka_unit_test_setup_teardown(test_match_and_cover, setup_rfc, teardown_rfc),
        cmocka_unit_test_setup_teardown(test_appendix_b, setup_rfc, teardown_rfc),
        cmocka_unit_test_setup_teardown(test_ds_and_refusals, setup_rfc, teardown_rfc),
        cmocka_unit_test_setup_teardown(test_no_crypto_allocation, setup_rfc, teardown_rfc),
        cmocka_unit_test(test_nodes_and_steering),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_precomputed),
        cmocka_unit_test(test_render_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
