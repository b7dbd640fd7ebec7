// SPDX-License-Identifier: MIT
/* Unit tests for the `tsig_keys` section of config_load(): keys with inline secrets and
 * secret files (decoded bytes, names as lowercased wire, the three algorithms, lookup by
 * name), the permission rule of secret files, and the exact "file:line: message" of each
 * error. Each test writes its files into a private mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_tmpdir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"

static char dir[] = "/tmp/meridian-test-tsig-XXXXXX";

/* "foobar" and RFC 4648's "Zm9vYmFy"; 32 bytes 0x00..0x1f. */
#define SECRET32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

/* Writes text to dir/name with the given mode; returns the path in a static buffer. */
static const char *
put_file(const char *name, const char *text, mode_t mode)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

/* Loads the section `keys` with a zone after it; returns config_load's result, the config
 * (NULL on error) and the message. The config file is dir/meridian.yaml. */
static int
load_keys(const char *keys, struct config **cfg, char err[CONFIG_ERR_MAX])
{
    char text[4096];
    snprintf(text, sizeof(text), "%szones:\n  - {origin: example.com, file: example.com.zone}\n",
             keys);
    const char *path = put_file("meridian.yaml", text, 0644);
    return config_load(path, cfg, err);
}

static struct config *
load_ok(const char *keys)
{
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX];
    if (load_keys(keys, &cfg, err) != 0)
        fail_msg("config_load: %s", err);
    return cfg;
}

/* The load fails with "<dir>/meridian.yaml:<line>: <message>". */
static void
load_fails(const char *keys, const char *line_message)
{
    struct config *cfg = (struct config *)1;
    char err[CONFIG_ERR_MAX], want[PATH_MAX + CONFIG_ERR_MAX];
    assert_int_equal(load_keys(keys, &cfg, err), -1);
    assert_null(cfg);
    snprintf(want, sizeof(want), "%s/meridian.yaml:%s", dir, line_message);
    assert_string_equal(err, want);
}

static void
test_keys(void **state)
{
    (void)state;
    put_file("k2.secret", "  " SECRET32 "\n\n", 0600);
    put_file("k3.secret", "Zm9vYmFy", 0400);
    struct config *cfg = load_ok("tsig_keys:\n"
                                 "  xfr-key: { algorithm: hmac-sha256, secret: \"Zm9vYmFy\" }\n"
                                 "  Second.Example.: {algorithm: hmac-sha384,\n"
                                 "                    secret_file: k2.secret}\n"
                                 "  third: {algorithm: hmac-sha512, secret_file: k3.secret}\n");
    assert_int_equal(cfg->tsig_key_count, 3);
    const struct config_tsig_key *k = &cfg->tsig_keys[0];
    assert_string_equal(k->name, "xfr-key");
    assert_memory_equal(k->name_wire, "\x07xfr-key", 9); /* with the root label */
    assert_int_equal(k->algorithm, CONFIG_TSIG_HMAC_SHA256);
    assert_int_equal(k->secret_len, 6);
    assert_memory_equal(k->secret, "foobar", 6);
    assert_null(k->secret_file);
    assert_int_equal(k->line, 2);

    k = &cfg->tsig_keys[1];
    assert_string_equal(k->name, "Second.Example.");
    assert_memory_equal(k->name_wire,
                        "\x06second\x07"
                        "example",
                        16);
    assert_int_equal(k->algorithm, CONFIG_TSIG_HMAC_SHA384);
    assert_int_equal(k->secret_len, 32);
    for (size_t i = 0; i < 32; i++)
        assert_int_equal(k->secret[i], i);
    char want[PATH_MAX];
    snprintf(want, sizeof(want), "%s/k2.secret", dir); /* taken from the config's directory */
    assert_string_equal(k->secret_file, want);
    assert_int_equal(cfg->tsig_keys[2].algorithm, CONFIG_TSIG_HMAC_SHA512);
    assert_memory_equal(cfg->tsig_keys[2].secret, "foobar", 6);

    /* Lookup is by domain name: case and the final dot do not matter (RFC 4343). */
    assert_ptr_equal(config_tsig_key_find(cfg, "XFR-KEY."), &cfg->tsig_keys[0]);
    assert_ptr_equal(config_tsig_key_find(cfg, "second.example"), &cfg->tsig_keys[1]);
    assert_null(config_tsig_key_find(cfg, "xfr"));
    assert_null(config_tsig_key_find(cfg, "bad..name"));
    assert_string_equal(config_tsig_algorithm_name(CONFIG_TSIG_HMAC_SHA384), "hmac-sha384");
    config_free(cfg);

    /* No section: no keys. */
    cfg = load_ok("");
    assert_int_equal(cfg->tsig_key_count, 0);
    assert_null(config_tsig_key_find(cfg, "xfr-key"));
    config_free(cfg);
}

static void
test_key_errors(void **state)
{
    (void)state;
    load_fails("tsig_keys: [a, b]\n", "1: tsig_keys: expected a mapping of key names to keys");
    load_fails("tsig_keys:\n  bad..name: {algorithm: hmac-sha256, secret: Zm9vYmFy}\n",
               "2: tsig_keys: invalid key name 'bad..name' (a domain name)");
    load_fails("tsig_keys:\n  \".\": {algorithm: hmac-sha256, secret: Zm9vYmFy}\n",
               "2: tsig_keys: invalid key name '.' (a domain name)");
    load_fails("tsig_keys:\n  k: hmac-sha256\n",
               "2: tsig_keys: k: expected a mapping {algorithm, secret or secret_file}");
    load_fails("tsig_keys:\n  k: {secret: Zm9vYmFy}\n", "2: missing key 'algorithm' in tsig key");
    load_fails("tsig_keys:\n  k: {algorithm: hmac-md5, secret: Zm9vYmFy}\n",
               "2: algorithm: expected hmac-sha256, hmac-sha384 or hmac-sha512");
    load_fails("tsig_keys:\n  k: {algorithm: hmac-sha256}\n",
               "2: tsig_keys: k: missing secret or secret_file");
    load_fails("tsig_keys:\n  k: {algorithm: hmac-sha256, secret: Zm9vYmFy, sekret: x}\n",
               "2: unknown key 'sekret' in tsig key");
    load_fails("tsig_keys:\n  k:\n    algorithm: hmac-sha256\n    secret: Zm9vYmFy\n"
               "    secret_file: k.secret\n",
               "5: tsig_keys: k: give secret or secret_file, not both");
    /* Base64 is strict: blanks inside, missing padding, non-zero trailing bits. */
    static const char *const bad[] = {"Zm9v YmFy", "Zm9vYg", "Zh==", "\"\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char keys[256];
        snprintf(keys, sizeof(keys),
                 "tsig_keys:\n  k:\n    algorithm: hmac-sha256\n"
                 "    secret: %s\n",
                 bad[i]);
        load_fails(keys, "4: tsig_keys: k: secret is not a base64 secret (RFC 4648, 1..512 "
                         "bytes)");
    }
    /* 513 bytes is more than a key. */
    char keys[2048], b64[1024];
    size_t n = 0;
    for (; n < 513 / 3 * 4; n++)
        b64[n] = 'A';
    memcpy(b64 + n, "AAA=", 5); /* 171 * 3 = 513 bytes */
    snprintf(keys, sizeof(keys), "tsig_keys:\n  k: {algorithm: hmac-sha256, secret: %s}\n", b64);
    load_fails(keys, "2: tsig_keys: k: secret is not a base64 secret (RFC 4648, 1..512 bytes)");
    /* Two spellings of one name are one key (RFC 4343). */
    load_fails("tsig_keys:\n  xfr: {algorithm: hmac-sha256, secret: Zm9vYmFy}\n"
               "  XFR.: {algorithm: hmac-sha512, secret: Zm9vYmFy}\n",
               "3: tsig_keys: duplicate key 'XFR.' (first at line 2)");
}

static void
test_secret_file_errors(void **state)
{
    (void)state;
    char msg[PATH_MAX + 256];
    load_fails("tsig_keys:\n  k: {algorithm: hmac-sha256, secret_file: \"\"}\n",
               "2: tsig_keys: k: secret_file: expected a path");

    snprintf(msg, sizeof(msg), "2: tsig_keys: k: secret_file '%s/none': No such file or directory",
             dir);
    load_fails("tsig_keys:\n  k: {algorithm: hmac-sha256, secret_file: none}\n", msg);

    /* Any access for group or others is refused, as ssh refuses a private key file. */
    static const mode_t modes[] = {0640, 0604, 0620, 0601, 0644, 0660};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        put_file("open.secret", "Zm9vYmFy\n", modes[i]);
        snprintf(msg, sizeof(msg),
                 "3: tsig_keys: k: secret_file '%s/open.secret' has permissions %04o: a secret "
                 "must not be accessible by group or others (chmod 600, owned by the server's "
                 "user)",
                 dir, (unsigned)modes[i]);
        load_fails("tsig_keys:\n  k: {algorithm: hmac-sha256,\n"
                   "      secret_file: open.secret}\n",
                   msg);
    }

    snprintf(msg, sizeof(msg), "2: tsig_keys: k: secret_file '%s' is not a regular file", dir);
    char keys[PATH_MAX + 128];
    snprintf(keys, sizeof(keys), "tsig_keys:\n  k: {algorithm: hmac-sha256, secret_file: %s}\n",
             dir);
    load_fails(keys, msg);

    /* Not base64: a BIND `secret` clause, nothing. */
    static const char *const not_base64[][2] = {{"text.secret", "secret = \"Zm9vYmFy\";\n"},
                                                {"empty.secret", "\n"}};
    for (size_t i = 0; i < 2; i++) {
        put_file(not_base64[i][0], not_base64[i][1], 0600);
        snprintf(msg, sizeof(msg),
                 "2: tsig_keys: k: secret_file '%s/%s' is not a base64 secret (RFC 4648, "
                 "1..512 bytes)",
                 dir, not_base64[i][0]);
        snprintf(keys, sizeof(keys), "tsig_keys:\n  k: {algorithm: hmac-sha256, secret_file: %s}\n",
                 not_base64[i][0]);
        load_fails(keys, msg);
    }

    char big[4096];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    put_file("big.secret", big, 0600);
    snprintf(msg, sizeof(msg),
             "2: tsig_keys: k: secret_file '%s/big.secret' is too long for a "
             "secret",
             dir);
    load_fails("tsig_keys:\n  k: {algorithm: hmac-sha256, secret_file: big.secret}\n", msg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_secret_file_errors),
    };
    test_tmpdir_template = dir;
    return cmocka_run_group_tests(tests, test_tmpdir_setup, test_tmpdir_teardown);
}
