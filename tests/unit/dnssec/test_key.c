// SPDX-License-Identifier: MIT
/* Unit tests for key files and the key directory (src/dnssec/dnssec_key_file.c,
 * dnssec_keystore.c): BIND's file format byte for byte (RFC 8080's key), save and load round
 * trips, modes 0600/0644/0700, never overwriting a key file, the "file:line: message" of
 * malformed files, and which keys a zone's directory yields or generates. Each test works in
 * its own mkdtemp directory, removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/dnswire.h"
#include "dnssec/dnssec_internal.h"
#include "dnssec/dnssec_key.h"
#include "dnssec/dnssec_sign.h"
#include "dnssec_test.h"
#include "test_tmpdir.h"

#define RFC8080_PRIV "ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI="
#define RFC8080_PUB "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4="

static char tmpdir[] = "/tmp/meridian-dnssec-XXXXXX";
static uint8_t name_buf[DNAME_MAX_LEN];
static char err[DNSSEC_ERR_MAX];

static void
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* The file's text into a static buffer ("" if missing). */
static const char *
read_text(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

static mode_t
file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Entries of dir other than "." and "..". */
static int
count_files(const char *dir)
{
    int n = 0;
    struct dirent *de;
    DIR *d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static struct dnssec_key *
rfc8080_key(void)
{
    uint8_t priv[DNSSEC_PRIVATE_LEN];
    struct dnssec_key *key = NULL;
    assert_int_equal(base64_decode(RFC8080_PRIV, priv, sizeof(priv)), 32);
    if (dnssec_key_from_private(t_name("Example.COM.", name_buf), DNSSEC_ALG_ED25519, 257, priv,
                                sizeof(priv), &key, err) < 0)
        fail_msg("%s", err);
    return key;
}

static void
test_file_format(void **state)
{
    char path[600];
    (void)state;
    struct dnssec_key *key = rfc8080_key();
    key->created = 1438207200; /* 20150729220000 */
    assert_int_equal(dnssec_key_save(key, tmpdir, err), 0);
    snprintf(path, sizeof(path), "%s/Kexample.com.+015+03613", tmpdir);
    assert_string_equal(key->path, path);
    /* BIND's .private layout (RFC 8080 §6.1 shows the first three lines of this key). */
    snprintf(path, sizeof(path), "%s/Kexample.com.+015+03613.private", tmpdir);
    assert_string_equal(read_text(path), "Private-key-format: v1.3\n"
                                         "Algorithm: 15 (ED25519)\n"
                                         "PrivateKey: " RFC8080_PRIV "\n"
                                         "Created: 20150729220000\n"
                                         "Publish: 20150729220000\n"
                                         "Activate: 20150729220000\n");
    assert_int_equal(file_mode(path), 0600);
    snprintf(path, sizeof(path), "%s/Kexample.com.+015+03613.key", tmpdir);
    assert_string_equal(read_text(path), "; This is a key-signing key, keyid 3613, for "
                                         "example.com.\n"
                                         "; Created: 20150729220000\n"
                                         "example.com. IN DNSKEY 257 3 15 " RFC8080_PUB "\n");
    assert_int_equal(file_mode(path), 0644);
    assert_int_equal(count_files(tmpdir), 2); /* no temporary file left behind */
    dnssec_key_free(key);
}

static void
test_save_load(void **state)
{
    static const uint8_t algorithms[] = {DNSSEC_ALG_ECDSAP256SHA256, DNSSEC_ALG_ED25519};
    static const char *const suffixes[] = {"", ".key", ".private"};
    static const char *const a[] = {"www.example.com. 300 IN A 192.0.2.1", NULL};
    char path[600];
    uint8_t sig[DNSSEC_RRSIG_RDATA_MAX];
    struct t_rrset set = {0};
    (void)state;
    assert_int_equal(t_rrset_add(&set, a[0]), 0);
    for (size_t i = 0; i < 2; i++) {
        for (uint16_t flags = 256; flags <= 257; flags++) {
            struct dnssec_key *key = NULL, *loaded = NULL;
            if (dnssec_key_generate(t_name("example.com.", name_buf), algorithms[i], flags, &key,
                                    err) < 0 ||
                dnssec_key_save(key, tmpdir, err) < 0)
                fail_msg("%s", err);
            for (size_t s = 0; s < 3; s++) {
                snprintf(path, sizeof(path), "%s%s", key->path, suffixes[s]);
                if (dnssec_key_load(path, &loaded, err) < 0)
                    fail_msg("%s", err);
                assert_int_equal(loaded->algorithm, algorithms[i]);
                assert_int_equal(loaded->flags, flags);
                assert_int_equal(loaded->tag, key->tag);
                assert_int_equal(loaded->rdata_len, key->rdata_len);
                assert_memory_equal(loaded->rdata, key->rdata, key->rdata_len);
                assert_memory_equal(loaded->owner, key->owner, 13);
                assert_true(loaded->created == key->created);
                assert_string_equal(loaded->path, key->path);
                /* The loaded private key signs what the generated public key verifies. */
                int n = dnssec_sign_rrset(loaded, set.owner, set.type, set.rclass, set.ttl,
                                          set.rdata, set.count, 1, 2, NULL, sig, sizeof(sig));
                assert_int_equal(n, 95);
                assert_int_equal(dnssec_verify_rrset(key->rdata, key->rdata_len, set.owner,
                                                     set.type, set.rclass, set.ttl, set.rdata,
                                                     set.count, sig, (size_t)n, NULL),
                                 0);
                dnssec_key_free(loaded);
            }
            dnssec_key_free(key);
        }
    }
}

static void
test_never_overwrite(void **state)
{
    char key_path[600], priv_path[600], before[4096];
    (void)state;
    struct dnssec_key *key = rfc8080_key();
    assert_int_equal(dnssec_key_save(key, tmpdir, err), 0);
    snprintf(key_path, sizeof(key_path), "%s.key", key->path);
    snprintf(priv_path, sizeof(priv_path), "%s.private", key->path);
    strcpy(before, read_text(priv_path));
    /* The same key again: its .private exists. */
    assert_int_equal(dnssec_key_save(key, tmpdir, err), -1);
    char expect[800];
    snprintf(expect, sizeof(expect), "%s: exists (a key file is never overwritten)", priv_path);
    assert_string_equal(err, expect);
    assert_string_equal(read_text(priv_path), before);
    /* Only the .key is in the way: it stays as it was and no .private is left behind. */
    assert_int_equal(unlink(priv_path), 0);
    write_text(key_path, "; someone else's file\n");
    assert_int_equal(dnssec_key_save(key, tmpdir, err), -1);
    snprintf(expect, sizeof(expect), "%s: exists (a key file is never overwritten)", key_path);
    assert_string_equal(err, expect);
    assert_string_equal(read_text(key_path), "; someone else's file\n");
    assert_int_equal(access(priv_path, F_OK), -1);
    assert_int_equal(count_files(tmpdir), 1); /* no temporary file left behind */
    /* An unwritable place names the file it could not create. */
    assert_int_equal(dnssec_key_save(key, "/nonexistent-meridian-dir", err), -1);
    assert_non_null(strstr(err, "/nonexistent-meridian-dir/Kexample.com.+015+03613.private.tmp-"));
    assert_non_null(strstr(err, ": cannot create: No such file or directory"));
    dnssec_key_free(key);
}

/* Writes the RFC 8080 key's two files with the given texts (NULL: the right one) and returns
 * what loading them says ("" if it loads). */
static const char *
load_error(const char *base, const char *key_text, const char *priv_text)
{
    char path[600];
    struct dnssec_key *key = NULL;
    snprintf(path, sizeof(path), "%s/%s.key", tmpdir, base);
    write_text(path, key_text ? key_text : "example.com. IN DNSKEY 257 3 15 " RFC8080_PUB "\n");
    snprintf(path, sizeof(path), "%s/%s.private", tmpdir, base);
    write_text(path, priv_text ? priv_text
                               : "Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\n"
                                 "PrivateKey: " RFC8080_PRIV "\n");
    snprintf(path, sizeof(path), "%s/%s", tmpdir, base);
    if (dnssec_key_load(path, &key, err) == 0) {
        assert_non_null(key);
        dnssec_key_free(key);
        return "";
    }
    assert_null(key);
    /* The message without the directory. */
    assert_memory_equal(err, tmpdir, strlen(tmpdir));
    return err + strlen(tmpdir) + 1;
}

static void
test_malformed_files(void **state)
{
    static const char base[] = "Kexample.com.+015+03613";
    (void)state;
    /* The file as the RFC shows it loads; so do other legal spellings of the record. */
    assert_string_equal(load_error(base, NULL, NULL), "");
    assert_string_equal(load_error(base,
                                   "; BIND wraps long keys\n"
                                   "example.com. 3600 IN DNSKEY 257 3 15 (\n"
                                   "    l02Woi0iS8Aa25FQkUd9RMzZ\n"
                                   "    HJpBoRQwAQEX1SxZJA4= ) ; key id = 3613\n",
                                   NULL),
                        "");
    assert_string_equal(load_error(base, "EXAMPLE.com. in 60 dnskey 257 3 15 " RFC8080_PUB, NULL),
                        "");
    /* .private files. */
    assert_string_equal(
        load_error(base, NULL, "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\n"),
        "Kexample.com.+015+03613.private:2: no \"PrivateKey:\" line");
    assert_string_equal(load_error(base, NULL, ""),
                        "Kexample.com.+015+03613.private:1: no \"Private-key-format:\" line");
    assert_string_equal(
        load_error(base, NULL, "Private-key-format: v1.3\nAlgorithm 15\nPrivateKey: x\n"),
        "Kexample.com.+015+03613.private:2: expected \"Field: value\"");
    assert_string_equal(load_error(base, NULL, "Private-key-format: v2.0\n"),
                        "Kexample.com.+015+03613.private:1: Private-key-format v2.0 is not v1.x");
    assert_string_equal(
        load_error(base, NULL,
                   "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: ODIy*NjAz\n"),
        "Kexample.com.+015+03613.private:3: PrivateKey is not base64 of a key");
    assert_string_equal(
        load_error(base, NULL,
                   "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: AAECAw==\n"),
        "Kexample.com.+015+03613.private:3: the ED25519 private key is 4 bytes, not 32");
    assert_string_equal(load_error(base, NULL,
                                   "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n"
                                   "PrivateKey: " RFC8080_PRIV "\n"),
                        "Kexample.com.+015+03613.private:2: Algorithm 13 differs from the file "
                        "name's 15");
    assert_string_equal(
        load_error(base, NULL,
                   "Private-key-format: v1.3\nAlgorithm: 15\nPrivateKey: " RFC8080_PRIV
                   "\nCreated: yesterday\n"),
        "Kexample.com.+015+03613.private:4: bad Created time \"yesterday\" "
        "(YYYYMMDDHHMMSS)");
    /* .key files. */
    char expect[800];
    snprintf(expect, sizeof(expect),
             "Kexample.com.+015+03613.key:1: the public key is not the one of %s/%s.private",
             tmpdir, base);
    assert_string_equal(load_error(base,
                                   "example.com. IN DNSKEY 257 3 15 " /* RFC 8080's 2nd */
                                   "zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=\n",
                                   NULL),
                        expect);
    assert_string_equal(load_error(base, "example.com. IN DNSKEY 257 4 15 " RFC8080_PUB, NULL),
                        "Kexample.com.+015+03613.key:1: bad DNSKEY flags, protocol or algorithm "
                        "(protocol must be 3: RFC 4034 §2.1.2)");
    assert_string_equal(load_error(base, "; comment\n\nexample.com. IN DS 3613 15 2 00\n", NULL),
                        "Kexample.com.+015+03613.key:3: expected \"<zone> [ttl] IN DNSKEY "
                        "<flags> 3 <algorithm> <key>\"");
    assert_string_equal(load_error(base,
                                   "example.com. IN DNSKEY 257 3 15 " RFC8080_PUB "\n"
                                   "example.com. IN DNSKEY 256 3 15 " RFC8080_PUB "\n",
                                   NULL),
                        "Kexample.com.+015+03613.key:2: more than one record (a .key file holds "
                        "one DNSKEY)");
    assert_string_equal(
        load_error(base, "example.com. IN DNSKEY 257 3 15 ( " RFC8080_PUB "\n", NULL),
        "Kexample.com.+015+03613.key:2: '(' not closed");
    assert_string_equal(load_error(base, "example.com. IN DNSKEY 257 3 15 l02Woi0i\n", NULL),
                        "Kexample.com.+015+03613.key:1: the public key is not 32 bytes of base64");
    assert_string_equal(load_error(base, "example.net. IN DNSKEY 257 3 15 " RFC8080_PUB, NULL),
                        "Kexample.com.+015+03613.key:1: the record is not a DNSKEY of example.com. "
                        "with algorithm 15 as the file name says");
    assert_string_equal(load_error(base, "example.com. IN DNSKEY 257 3 8 AwEAAQ==", NULL),
                        "Kexample.com.+015+03613.key:1: algorithm 8 is not supported (13 "
                        "ECDSAP256SHA256 or 15 ED25519)");
    /* The flags are the .key's: a ZSK's flags give another key tag than the name's. */
    assert_string_equal(load_error(base, "example.com. IN DNSKEY 256 3 15 " RFC8080_PUB, NULL),
                        "Kexample.com.+015+03613.key: the key tag is 3612, not the file name's "
                        "3613");
    assert_string_equal(load_error("Kexample.com.+015+03612", NULL, NULL),
                        "Kexample.com.+015+03612.key: the key tag is 3613, not the file name's "
                        "3612");
    /* A P-256 scalar of zero is no key (SEC 1 §3.2.1). */
    assert_string_equal(
        load_error("Kexample.com.+013+03613",
                   "example.com. IN DNSKEY 257 3 13 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"
                   "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
                   "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n"
                   "PrivateKey: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
        "Kexample.com.+013+03613.private:3: the P-256 private key is out of "
        "range");
    /* Names and missing files. */
    struct dnssec_key *key = NULL;
    assert_int_equal(dnssec_key_load("/tmp/example.com.key", &key, err), -1);
    assert_string_equal(err, "/tmp/example.com.key: not a key file name "
                             "(K<zone>.+<algorithm>+<tag>)");
    char path[600];
    snprintf(path, sizeof(path), "%s/Kexample.org.+015+03613", tmpdir);
    assert_int_equal(dnssec_key_load(path, &key, err), -1);
    snprintf(expect, sizeof(expect), "%s.key: cannot open: No such file or directory", path);
    assert_string_equal(err, expect);
}

static void
test_key_names(void **state)
{
    uint8_t owner[DNAME_MAX_LEN];
    unsigned algorithm, tag;
    char name[DNSSEC_KEY_NAME_MAX];
    (void)state;
    struct dnssec_key *key = rfc8080_key();
    dnssec_key_name(key, name);
    assert_string_equal(name, "Kexample.com.+015+03613");
    assert_int_equal(dnssec_key_name_parse(name, owner, &algorithm, &tag), 0);
    assert_true(dname_equal(owner, key->owner));
    assert_int_equal(algorithm, 15);
    assert_int_equal(tag, 3613);
    dnssec_key_free(key);
    /* RFC 2317 zones have '/' in a label; the root zone's name is "." */
    uint8_t priv[DNSSEC_PRIVATE_LEN] = {1};
    assert_int_equal(dnssec_key_from_private(t_name("0/25.2.0.192.in-addr.arpa.", name_buf),
                                             DNSSEC_ALG_ED25519, 257, priv, 32, &key, err),
                     0);
    dnssec_key_name(key, name);
    char expect[64];
    snprintf(expect, sizeof(expect), "K0\\04725.2.0.192.in-addr.arpa.+015+%05u", key->tag);
    assert_string_equal(name, expect);
    assert_int_equal(dnssec_key_name_parse(name, owner, &algorithm, &tag), 0);
    assert_true(dname_equal(owner, key->owner));
    assert_int_equal(dnssec_key_save(key, tmpdir, err), 0);
    dnssec_key_free(key);
    assert_int_equal(dnssec_key_name_parse("K.+013+00001", owner, &algorithm, &tag), 0);
    assert_int_equal(owner[0], 0);
    static const char *const bad[] = {"Kexample.com+013+00001",
                                      "Kexample.com.+13+00001",
                                      "Kexample.com.+013+0001x",
                                      "example.com.+013+00001",
                                      "K+013+00001",
                                      "Kexample..com.+013+00001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(dnssec_key_name_parse(bad[i], owner, &algorithm, &tag), -1);
}

/* Loads the keystore for zone in dir/keys; fails the test on error. */
static void
keystore(const char *zone, uint8_t algorithm, bool split, struct dnssec_keyset *set)
{
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/keys", tmpdir);
    if (dnssec_keystore_load(dir, t_name(zone, name_buf), algorithm, split, set, err) < 0)
        fail_msg("%s", err);
}

static void
test_keystore(void **state)
{
    char dir[600], path[700];
    struct dnssec_keyset set, again;
    (void)state;
    snprintf(dir, sizeof(dir), "%s/keys", tmpdir);
    /* An empty (missing) directory: created 0700, one CSK generated. */
    keystore("example.com.", DNSSEC_ALG_ECDSAP256SHA256, false, &set);
    assert_int_equal(file_mode(dir), 0700);
    assert_int_equal(set.count, 1);
    assert_int_equal(set.keys[0]->flags, 257);
    assert_int_equal(set.keys[0]->algorithm, 13);
    assert_int_equal(count_files(dir), 2);
    /* Loaded again, in any case of the zone's name: the same key, nothing new. */
    keystore("EXAMPLE.com.", DNSSEC_ALG_ECDSAP256SHA256, false, &again);
    assert_int_equal(again.count, 1);
    assert_memory_equal(again.keys[0]->rdata, set.keys[0]->rdata, set.keys[0]->rdata_len);
    assert_int_equal(count_files(dir), 2);
    dnssec_keyset_fini(&again);
    /* Split keys: the CSK has the SEP bit, so only a ZSK is added. */
    keystore("example.com.", DNSSEC_ALG_ECDSAP256SHA256, true, &again);
    assert_int_equal(again.count, 2);
    assert_int_equal(count_files(dir), 4);
    int zsk = again.keys[0]->flags == 256 ? 0 : 1;
    assert_int_equal(again.keys[zsk]->flags, 256);
    assert_int_equal(again.keys[1 - zsk]->tag, set.keys[0]->tag);
    assert_true(again.keys[0]->tag < again.keys[1]->tag); /* sorted */
    dnssec_keyset_fini(&again);
    dnssec_keyset_fini(&set);
    /* Other zones in the same directory, a subzone among them, and files that are not keys
     * are not read; each zone gets its own keys. */
    snprintf(path, sizeof(path), "%s/README", dir);
    write_text(path, "not a key\n");
    snprintf(path, sizeof(path), "%s/Kexample.com.key", dir);
    write_text(path, "not a key either\n");
    keystore("sub.example.com.", DNSSEC_ALG_ED25519, true, &set);
    assert_int_equal(set.count, 2);
    assert_int_equal(set.keys[0]->algorithm, 15);
    assert_true(dname_equal(set.keys[0]->owner, t_name("sub.example.com.", name_buf)));
    dnssec_keyset_fini(&set);
    keystore("example.com.", DNSSEC_ALG_ECDSAP256SHA256, true, &set);
    assert_int_equal(set.count, 2);
    dnssec_keyset_fini(&set);
    /* Another algorithm (a rollover): the old keys load, a CSK of the new one is added. */
    keystore("example.com.", DNSSEC_ALG_ED25519, false, &set);
    assert_int_equal(set.count, 3);
    assert_int_equal(set.keys[0]->algorithm, 13);
    assert_int_equal(set.keys[2]->algorithm, 15);
    assert_int_equal(set.keys[2]->flags, 257);
    assert_int_equal(count_files(dir), 2 * 3 + 2 * 2 + 2);
    /* A broken key file of the zone stops the load with its file:line. */
    char key_path[600];
    snprintf(key_path, sizeof(key_path), "%s.key", set.keys[2]->path);
    write_text(key_path, "example.com. IN DNSKEY 257 3 15\n");
    dnssec_keyset_fini(&set);
    assert_int_equal(
        dnssec_keystore_load(dir, t_name("example.com.", name_buf), 15, false, &set, err), -1);
    char expect[800];
    snprintf(expect, sizeof(expect),
             "%s:1: expected \"<zone> [ttl] IN DNSKEY <flags> 3 "
             "<algorithm> <key>\"",
             key_path);
    assert_string_equal(err, expect);
    assert_int_equal(set.count, 0);
    assert_null(set.keys);
    /* The directory must be one. */
    assert_int_equal(dnssec_keystore_load(path, name_buf, 13, false, &set, err), -1);
    snprintf(expect, sizeof(expect), "%s: not a directory", path);
    assert_string_equal(err, expect);
    assert_int_equal(dnssec_keystore_load(dir, name_buf, 8, false, &set, err), -1);
    assert_string_equal(err, "algorithm 8 is not supported (13 ECDSAP256SHA256 or 15 ED25519)");
}

static int
setup(void **unused)
{
    (void)unused;
    strcpy(tmpdir, "/tmp/meridian-dnssec-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **unused)
{
    (void)unused;
    return test_tmpdir_remove(tmpdir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
