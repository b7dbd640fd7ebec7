// SPDX-License-Identifier: MIT
/* The dnssec module on the command line, for interop.py to compare with other
 * implementations (not installed):
 *   dnssec_tool keys DIR ZONE ALG SPLIT   load or make the zone's keys (dnssec_keystore_load);
 *       prints "path <base>" and its DNSKEY, CDNSKEY, DS (SHA-256, SHA-384) and CDS records
 *   dnssec_tool sign DIR ZONE ALG SPLIT INCEPTION EXPIRATION   signs each RRset on stdin
 *       (records in presentation form, RRsets separated by blank lines) with the zone's
 *       SEP key (DNSKEY RRsets, or all without SPLIT) or ZSK; prints each RRSIG RDATA in hex
 *   dnssec_tool verify   each group on stdin is a DNSKEY record, the RRset, an RRSIG record;
 *       prints "OK" or "FAIL <reason>" per group (dnssec_verify_rrset)
 * Records are parsed by ldns (dnssec_test.c). Exit status 0, or 1 on a usage or load error. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"
#include "dnssec/dnssec_key.h"
#include "dnssec/dnssec_sign.h"
#include "dnssec_test.h"

#define GROUP_LINES 64

/* Reads the next group of non-empty lines from stdin into lines[] (heap strings). */
static size_t
read_group(char *lines[GROUP_LINES])
{
    char buf[8192];
    size_t n = 0;
    while (fgets(buf, sizeof(buf), stdin)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0] == '\0') {
            if (n > 0)
                break;
            continue;
        }
        if (n == GROUP_LINES) {
            fprintf(stderr, "group too long\n");
            exit(1);
        }
        lines[n++] = strdup(buf);
    }
    return n;
}

static void
free_group(char *lines[GROUP_LINES], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
}

static int
load_keys(char **argv, struct dnssec_keyset *set, uint8_t zone[DNAME_MAX_LEN])
{
    char err[DNSSEC_ERR_MAX];
    if (dname_from_text(argv[1], zone) < 0 ||
        dnssec_keystore_load(argv[0], zone, (uint8_t)atoi(argv[2]), atoi(argv[3]) != 0, set, err) <
            0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static void
print_rr(const uint8_t *owner, uint16_t type, const uint8_t *rdata, size_t len)
{
    char text[DNSSEC_RR_TEXT_MAX];
    if (dnssec_rr_text(owner, 3600, type, rdata, len, text, sizeof(text)) == 0)
        printf("%s\n", text);
    else
        printf("ERROR rendering type %u\n", type);
}

static int
keys(char **argv)
{
    struct dnssec_keyset set;
    uint8_t zone[DNAME_MAX_LEN], ds[DNSSEC_DS_RDATA_MAX];
    if (load_keys(argv, &set, zone) < 0)
        return 1;
    for (size_t i = 0; i < set.count; i++) {
        const struct dnssec_key *key = set.keys[i];
        printf("path %s\n", key->path);
        print_rr(zone, DNS_TYPE_DNSKEY, key->rdata, key->rdata_len);
        print_rr(zone, DNS_TYPE_CDNSKEY, key->rdata, key->rdata_len);
        for (uint8_t digest = 2; digest <= 4; digest += 2) {
            int n = dnssec_ds_rdata(zone, key->rdata, key->rdata_len, digest, ds, sizeof(ds));
            print_rr(zone, DNS_TYPE_DS, ds, n > 0 ? (size_t)n : 0);
            if (digest == 2)
                print_rr(zone, DNS_TYPE_CDS, ds, n > 0 ? (size_t)n : 0);
        }
    }
    dnssec_keyset_fini(&set);
    return 0;
}

static int
sign(char **argv)
{
    struct dnssec_keyset set;
    uint8_t zone[DNAME_MAX_LEN], sig[DNSSEC_RRSIG_RDATA_MAX];
    char *lines[GROUP_LINES];
    size_t n;
    bool split = atoi(argv[3]) != 0;
    uint8_t algorithm = (uint8_t)atoi(argv[2]);
    uint32_t inception = (uint32_t)strtoul(argv[4], NULL, 10);
    uint32_t expiration = (uint32_t)strtoul(argv[5], NULL, 10);
    if (load_keys(argv, &set, zone) < 0)
        return 1;
    while ((n = read_group(lines)) > 0) {
        static struct t_rrset rrset;
        memset(&rrset, 0, sizeof(rrset));
        int len = -1;
        for (size_t i = 0; i < n; i++)
            if (t_rrset_add(&rrset, lines[i]) < 0)
                printf("ERROR parsing %s\n", lines[i]);
        bool want_sep = !split || rrset.type == DNS_TYPE_DNSKEY;
        for (size_t i = 0; i < set.count && len < 0; i++)
            if (set.keys[i]->algorithm == algorithm && dnssec_key_is_sep(set.keys[i]) == want_sep)
                len = dnssec_sign_rrset(set.keys[i], rrset.owner, rrset.type, rrset.rclass,
                                        rrset.ttl, rrset.rdata, rrset.count, inception, expiration,
                                        NULL, sig, sizeof(sig));
        if (len < 0) {
            printf("ERROR %d\n", len);
        } else {
            for (int i = 0; i < len; i++)
                printf("%02x", sig[i]);
            printf("\n");
        }
        free_group(lines, n);
    }
    dnssec_keyset_fini(&set);
    return 0;
}

static int
verify(void)
{
    char *lines[GROUP_LINES];
    size_t n;
    uint8_t dnskey[1024], rrsig[1024];
    while ((n = read_group(lines)) > 0) {
        static struct t_rrset rrset;
        memset(&rrset, 0, sizeof(rrset));
        const char *why = "a DNSKEY, the records and an RRSIG expected";
        int key_len = t_rdata(lines[0], dnskey, sizeof(dnskey), NULL);
        int sig_len = n >= 3 ? t_rdata(lines[n - 1], rrsig, sizeof(rrsig), NULL) : -1;
        for (size_t i = 1; i + 1 < n; i++)
            if (t_rrset_add(&rrset, lines[i]) < 0)
                break;
        if (key_len > 0 && sig_len > 0 && rrset.count == n - 2 &&
            dnssec_verify_rrset(dnskey, (size_t)key_len, rrset.owner, rrset.type, rrset.rclass,
                                rrset.ttl, rrset.rdata, rrset.count, rrsig, (size_t)sig_len,
                                &why) == 0)
            printf("OK\n");
        else
            printf("FAIL %s\n", why);
        free_group(lines, n);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 6 && strcmp(argv[1], "keys") == 0)
        return keys(argv + 2);
    if (argc == 8 && strcmp(argv[1], "sign") == 0)
        return sign(argv + 2);
    if (argc == 2 && strcmp(argv[1], "verify") == 0)
        return verify();
    fprintf(stderr, "usage: dnssec_tool keys DIR ZONE ALG SPLIT | sign DIR ZONE ALG SPLIT "
                    "INCEPTION EXPIRATION | verify\n");
    return 1;
}
