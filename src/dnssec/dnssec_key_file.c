// SPDX-License-Identifier: MIT
/* Key files in BIND's format (dnssec_key.h): K<zone>.+<alg>+<tag>.key holds the DNSKEY
 * record in presentation form, .private the key as "Private-key-format: v1.3",
 * "Algorithm: 13 (ECDSAP256SHA256)", "PrivateKey: <base64>" and BIND's timing fields, which
 * BIND, ldns-signzone and Knot's `keymgr import-bind` read. Writing goes through a temporary
 * file and link(), so it never replaces a file; reading reports "file:line: message".
 * Runs on the loader thread. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/base64.h"
#include "common/dnswire.h"
#include "common/fd_io.h"
#include "dnssec/dnssec_internal.h"

#define KEY_FILE_MAX 65536 /* a .key file of ours is under 300 bytes */
#define KEY_TOKENS_MAX 64
#define TIME_TEXT_LEN 14                         /* YYYYMMDDHHMMSS, BIND's timing fields (UTC) */
#define FILE_TEXT_MAX (2 * DNAME_TEXT_MAX + 512) /* the zone's name is twice in a .key */

size_t
dnssec_zone_file_base(const uint8_t *owner, char name[DNSSEC_KEY_NAME_MAX])
{
    char text[DNAME_TEXT_MAX];
    size_t n = 0;
    dname_to_text(owner, text, sizeof(text));
    name[n++] = 'K';
    /* '/' cannot be in a file name (RFC 2317 zones have it: "0/25.2.0.192.in-addr.arpa"). */
    for (const char *p = text; *p && n + 4 < DNSSEC_KEY_NAME_MAX - 12; p++) {
        if (*p == '/') {
            memcpy(name + n, "\\047", 4);
            n += 4;
        } else {
            name[n++] = *p;
        }
    }
    name[n] = '\0';
    return n;
}

void
dnssec_key_name(const struct dnssec_key *key, char name[DNSSEC_KEY_NAME_MAX])
{
    size_t n = dnssec_zone_file_base(key->owner, name);
    snprintf(name + n, DNSSEC_KEY_NAME_MAX - n, "+%03u+%05u", key->algorithm, key->tag);
}

int
dnssec_key_name_parse(const char *name, uint8_t owner[DNAME_MAX_LEN], unsigned *algorithm,
                      unsigned *tag)
{
    char text[DNAME_TEXT_MAX];
    size_t len = strlen(name);
    /* "K" <absolute zone name> "+" 3 digits "+" 5 digits; the root zone is "K.+013+12345". */
    if (len < 12 || name[0] != 'K' || len - 11 >= sizeof(text))
        return -1;
    const char *suffix = name + len - 10;
    if (suffix[0] != '+' || suffix[4] != '+')
        return -1;
    for (int i = 1; i < 10; i++)
        if (i != 4 && (suffix[i] < '0' || suffix[i] > '9'))
            return -1;
    memcpy(text, name + 1, len - 11);
    text[len - 11] = '\0';
    if (text[len - 12] != '.' || dname_from_text(text, owner) < 0)
        return -1;
    *algorithm = (unsigned)((suffix[1] - '0') * 100 + (suffix[2] - '0') * 10 + (suffix[3] - '0'));
    *tag = (unsigned)atoi(suffix + 5);
    return 0;
}

/* base + suffix into out; -1 if it does not fit. */
static int
path_with(char out[PATH_MAX], const char *base, const char *suffix)
{
    int n = snprintf(out, PATH_MAX, "%s%s", base, suffix);
    return n >= 0 && n < PATH_MAX ? 0 : -1;
}

/* BIND's timing text of t (UTC). */
static void
time_text(time_t t, char out[TIME_TEXT_LEN + 1])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, TIME_TEXT_LEN + 1, "%Y%m%d%H%M%S", &tm);
}

int
dnssec_file_write(const char *path, const char *text, mode_t mode, bool replace,
                  char err[DNSSEC_ERR_MAX])
{
    char tmp[PATH_MAX];
    int ret = -1;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp)) {
        dnssec_errorf(err, "%s: path too long", path);
        return -1;
    }
    int fd = mkstemp(tmp); /* O_EXCL, mode 0600 */
    if (fd < 0) {
        dnssec_errorf(err, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    bool ok = fchmod(fd, mode) == 0 && fd_write_all(fd, text, strlen(text)) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        dnssec_errorf(err, "%s: cannot write: %s", tmp, strerror(saved));
        goto out;
    }
    /* rename() replaces atomically; link() fails rather than replace. */
    if (replace ? rename(tmp, path) != 0 : link(tmp, path) != 0) {
        dnssec_errorf(err, "%s: %s", path,
                      errno == EEXIST ? "exists (a key file is never overwritten)"
                                      : strerror(errno));
        goto out;
    }
    ret = 0;
out:
    if (!replace || ret < 0)
        unlink(tmp);
    return ret;
}

/* The two files' texts. priv holds the private key: the caller wipes it. */
static int
key_texts(const struct dnssec_key *key, char pub[FILE_TEXT_MAX], char priv[FILE_TEXT_MAX],
          char err[DNSSEC_ERR_MAX])
{
    uint8_t raw[DNSSEC_PRIVATE_LEN];
    char b64[64], rdata[256], zone[DNAME_TEXT_MAX], when[TIME_TEXT_LEN + 1];
    char comment[64] = "", timing[128] = "";
    int ret = -1;
    if (dnssec_key_private(key, raw) < 0) {
        dnssec_crypto_errorf(err, "reading the private key back");
        goto out;
    }
    /* Neither can fail with these buffers; checked all the same. */
    if (base64_encode(raw, sizeof(raw), b64, sizeof(b64)) < 0 ||
        dnssec_rdata_text(DNS_TYPE_DNSKEY, key->rdata, key->rdata_len, rdata, sizeof(rdata)) < 0) {
        dnssec_errorf(err, "cannot render the key");
        goto out;
    }
    dname_to_text(key->owner, zone, sizeof(zone));
    if (key->created) {
        /* Publish and Activate make BIND and Knot (keymgr import-bind) use the key now. */
        time_text(key->created, when);
        snprintf(comment, sizeof(comment), "; Created: %s\n", when);
        snprintf(timing, sizeof(timing), "Created: %s\nPublish: %s\nActivate: %s\n", when, when,
                 when);
    }
    /* BIND's layout: comments, then the record without a TTL (the signer sets it). */
    int n =
        snprintf(pub, FILE_TEXT_MAX, "; This is a %s key, keyid %u, for %s\n%s%s IN DNSKEY %s\n",
                 dnssec_key_is_sep(key) ? "key-signing" : "zone-signing", key->tag, zone, comment,
                 zone, rdata);
    int m = snprintf(priv, FILE_TEXT_MAX,
                     "Private-key-format: v1.3\nAlgorithm: %u (%s)\nPrivateKey: %s\n%s",
                     key->algorithm, dnssec_algorithm_name(key->algorithm), b64, timing);
    if (n < 0 || n >= FILE_TEXT_MAX || m < 0 || m >= FILE_TEXT_MAX) {
        dnssec_errorf(err, "cannot render the key");
        goto out;
    }
    ret = 0;
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(b64, sizeof(b64));
    return ret;
}

int
dnssec_dir_sync(const char *dir, char err[DNSSEC_ERR_MAX])
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        dnssec_errorf(err, "%s: cannot sync: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int
dnssec_key_save(struct dnssec_key *key, const char *dir, char err[DNSSEC_ERR_MAX])
{
    char name[DNSSEC_KEY_NAME_MAX], base[PATH_MAX], pub_path[PATH_MAX], priv_path[PATH_MAX];
    char pub[FILE_TEXT_MAX], priv[FILE_TEXT_MAX];
    int ret = -1;
    dnssec_key_name(key, name);
    if (snprintf(base, sizeof(base), "%s/%s", dir, name) >= (int)sizeof(base)) {
        dnssec_errorf(err, "%s/%s: path too long", dir, name);
        return -1;
    }
    if (path_with(pub_path, base, ".key") < 0 || path_with(priv_path, base, ".private") < 0) {
        dnssec_errorf(err, "%s: path too long", base);
        return -1;
    }
    if (key_texts(key, pub, priv, err) < 0)
        goto out;
    /* The private file first: a .key without its .private would look like a key that
     * cannot be loaded. If the .key exists, the .private just made is removed again. */
    if (dnssec_file_write(priv_path, priv, 0600, false, err) < 0)
        goto out;
    if (dnssec_file_write(pub_path, pub, 0644, false, err) < 0) {
        unlink(priv_path);
        goto out;
    }
    if (dnssec_dir_sync(dir, err) < 0)
        goto out;
    free(key->path);
    key->path = xstrdup(base);
    ret = 0;
out:
    OPENSSL_cleanse(priv, sizeof(priv));
    return ret;
}

/* One token of a .key file: text[0..len) on `line`. */
struct token {
    const char *text;
    size_t len;
    unsigned line;
};

/* The tokens of the one record in a .key file (RFC 1035 §5.1: ';' comments, parentheses
 * continue a record over lines, '\' escapes the next character). */
static int
key_tokens(const char *file, const char *p, struct token *tok, size_t *count,
           char err[DNSSEC_ERR_MAX])
{
    unsigned line = 1;
    int depth = 0;
    size_t n = 0;
    bool ended = false;
    while (*p) {
        if (*p == '\n') {
            ended = ended || (depth == 0 && n > 0);
            line++;
            p++;
        } else if (*p == ' ' || *p == '\t' || *p == '\r') {
            p++;
        } else if (*p == ';') {
            p += strcspn(p, "\n");
        } else if (*p == '(' || *p == ')') {
            depth += *p++ == '(' ? 1 : -1;
            if (depth < 0) {
                dnssec_errorf(err, "%s:%u: ')' without '('", file, line);
                return -1;
            }
        } else {
            if (ended || n == KEY_TOKENS_MAX) {
                dnssec_errorf(err, "%s:%u: %s", file, line,
                              ended ? "more than one record (a .key file holds one DNSKEY)"
                                    : "record too long");
                return -1;
            }
            tok[n].text = p;
            tok[n].line = line;
            while (*p && !strchr(" \t\r\n;()", *p))
                p += (*p == '\\' && p[1]) ? 2 : 1;
            tok[n].len = (size_t)(p - tok[n].text);
            n++;
        }
    }
    if (depth != 0 || n == 0) {
        dnssec_errorf(err, "%s:%u: %s", file, line, n ? "'(' not closed" : "no DNSKEY record");
        return -1;
    }
    *count = n;
    return 0;
}

/* A token as a C string in buf, or "" if it does not fit. */
static const char *
token_str(const struct token *t, char *buf, size_t size)
{
    if (t->len >= size)
        return "";
    memcpy(buf, t->text, t->len);
    buf[t->len] = '\0';
    return buf;
}

/* A decimal token up to max, or -1. */
static long
token_number(const struct token *t, long max)
{
    char buf[16];
    char *end;
    const char *s = token_str(t, buf, sizeof(buf));
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    return (*end || errno || v > max) ? -1 : v;
}

/* What a .key file says. */
struct key_file {
    uint8_t owner[DNAME_MAX_LEN];
    uint8_t rdata[DNSSEC_DNSKEY_RDATA_MAX];
    size_t rdata_len;
    unsigned line; /* of the record */
};

char *
dnssec_file_read(const char *file, char err[DNSSEC_ERR_MAX])
{
    FILE *f = fopen(file, "re");
    if (!f) {
        dnssec_errorf(err, "%s: cannot open: %s", file, strerror(errno));
        return NULL;
    }
    char *text = xmalloc(KEY_FILE_MAX + 1);
    size_t len = fread(text, 1, KEY_FILE_MAX + 1, f);
    if (ferror(f) || len > KEY_FILE_MAX) {
        dnssec_errorf(err, "%s: %s", file,
                      ferror(f) ? strerror(errno) : "too large (64 KiB at most)");
        free(text);
        text = NULL;
    } else {
        text[len] = '\0';
    }
    fclose(f);
    return text;
}

/* "<owner> [<ttl>] [IN] DNSKEY <flags> <protocol> <algorithm> <base64>..." (RFC 4034 §2.2;
 * TTL and class in either order, RFC 1035 §5.1). */
static int
parse_key_file(const char *file, struct key_file *kf, char err[DNSSEC_ERR_MAX])
{
    struct token tok[KEY_TOKENS_MAX];
    char buf[DNAME_TEXT_MAX], b64[KEY_TOKENS_MAX * 8];
    size_t count = 0, i = 1, b64_len = 0;
    int ret = -1;
    char *text = dnssec_file_read(file, err);
    if (!text || key_tokens(file, text, tok, &count, err) < 0)
        goto out;
    kf->line = tok[0].line;
    if (dname_from_text(token_str(&tok[0], buf, sizeof(buf)), kf->owner) < 0) {
        dnssec_errorf(err, "%s:%u: bad owner name", file, tok[0].line);
        goto out;
    }
    while (i < count && i < 3 &&
           (token_number(&tok[i], INT32_MAX) >= 0 ||
            strcasecmp(token_str(&tok[i], buf, sizeof(buf)), "IN") == 0))
        i++;
    if (i + 4 >= count || strcasecmp(token_str(&tok[i], buf, sizeof(buf)), "DNSKEY") != 0) {
        dnssec_errorf(err,
                      "%s:%u: expected \"<zone> [ttl] IN DNSKEY <flags> 3 <algorithm> "
                      "<key>\"",
                      file, tok[i < count ? i : count - 1].line);
        goto out;
    }
    long flags = token_number(&tok[i + 1], 65535), protocol = token_number(&tok[i + 2], 255),
         algorithm = token_number(&tok[i + 3], 255);
    if (flags < 0 || protocol != 3 || algorithm < 0) {
        dnssec_errorf(err,
                      "%s:%u: bad DNSKEY flags, protocol or algorithm (protocol must be 3: "
                      "RFC 4034 §2.1.2)",
                      file, tok[i + 1].line);
        goto out;
    }
    size_t pub_len = dnssec_public_len((uint8_t)algorithm);
    if (pub_len == 0) {
        dnssec_errorf(err,
                      "%s:%u: algorithm %ld is not supported (13 ECDSAP256SHA256 or 15 "
                      "ED25519)",
                      file, tok[i + 3].line, algorithm);
        goto out;
    }
    /* RFC 4034 §2.2: the key's base64 may be split by blanks. */
    for (size_t j = i + 4; j < count && b64_len + tok[j].len < sizeof(b64); j++) {
        memcpy(b64 + b64_len, tok[j].text, tok[j].len);
        b64_len += tok[j].len;
    }
    b64[b64_len] = '\0';
    if (base64_decode(b64, kf->rdata + 4, sizeof(kf->rdata) - 4) != (int)pub_len) {
        dnssec_errorf(err, "%s:%u: the public key is not %zu bytes of base64", file,
                      tok[count - 1].line, pub_len);
        goto out;
    }
    dnswire_put16(kf->rdata, (uint16_t)flags);
    kf->rdata[2] = 3;
    kf->rdata[3] = (uint8_t)algorithm;
    kf->rdata_len = 4 + pub_len;
    ret = 0;
out:
    free(text);
    return ret;
}

/* What a .private file says. */
struct private_file {
    unsigned algorithm, algorithm_line;
    uint8_t key[2 * DNSSEC_PRIVATE_LEN]; /* room to report a wrong length */
    int key_len;
    unsigned key_line;
    time_t created;
    bool format;
};

/* BIND's YYYYMMDDHHMMSS (UTC), or -1. */
static time_t
parse_time(const char *s)
{
    struct tm tm = {0};
    char *end;
    if (strlen(s) != TIME_TEXT_LEN || strspn(s, "0123456789") != TIME_TEXT_LEN)
        return -1;
    end = strptime(s, "%Y%m%d%H%M%S", &tm);
    return end && !*end ? timegm(&tm) : -1;
}

/* One "Field: value" line of a .private file. */
static int
private_field(const char *file, unsigned line, char *text, struct private_file *pf,
              char err[DNSSEC_ERR_MAX])
{
    char *colon = strchr(text, ':');
    if (!colon) {
        dnssec_errorf(err, "%s:%u: expected \"Field: value\"", file, line);
        return -1;
    }
    *colon = '\0';
    const char *value = colon + 1 + strspn(colon + 1, " \t");
    if (strcmp(text, "Private-key-format") == 0) {
        if (strncmp(value, "v1.", 3) != 0) {
            dnssec_errorf(err, "%s:%u: Private-key-format %s is not v1.x", file, line, value);
            return -1;
        }
        pf->format = true;
    } else if (strcmp(text, "Algorithm") == 0) {
        /* "13 (ECDSAP256SHA256)": the number is what counts. */
        char *end;
        unsigned long alg = strtoul(value, &end, 10);
        if (end == value || alg > 255 || (*end && *end != ' ')) {
            dnssec_errorf(err, "%s:%u: bad Algorithm \"%s\"", file, line, value);
            return -1;
        }
        pf->algorithm = (unsigned)alg;
        pf->algorithm_line = line;
    } else if (strcmp(text, "PrivateKey") == 0) {
        pf->key_len = base64_decode(value, pf->key, sizeof(pf->key));
        pf->key_line = line;
        if (pf->key_len < 0) {
            dnssec_errorf(err, "%s:%u: PrivateKey is not base64 of a key", file, line);
            return -1;
        }
    } else if (strcmp(text, "Created") == 0) {
        pf->created = parse_time(value);
        if (pf->created < 0) {
            dnssec_errorf(err, "%s:%u: bad Created time \"%s\" (YYYYMMDDHHMMSS)", file, line,
                          value);
            return -1;
        }
    }
    /* Other fields (Publish, Activate, ... and other algorithms' key parts) do not matter
     * here. */
    return 0;
}

static int
parse_private_file(const char *file, struct private_file *pf, char err[DNSSEC_ERR_MAX])
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    int ret = -1;
    FILE *f = fopen(file, "re");
    if (!f) {
        dnssec_errorf(err, "%s: cannot open: %s", file, strerror(errno));
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && strchr(" \t\r\n", line[len - 1]))
            line[--len] = '\0';
        if (len > 0 && private_field(file, lineno, line, pf, err) < 0)
            goto out;
    }
    const char *missing = !pf->format           ? "Private-key-format"
                          : !pf->algorithm_line ? "Algorithm"
                          : !pf->key_line       ? "PrivateKey"
                                                : NULL;
    if (missing) {
        dnssec_errorf(err, "%s:%u: no \"%s:\" line", file, lineno ? lineno : 1, missing);
        goto out;
    }
    ret = 0;
out:
    if (line)
        OPENSSL_cleanse(line, cap);
    free(line);
    fclose(f);
    return ret;
}

int
dnssec_key_load(const char *path, struct dnssec_key **out, char err[DNSSEC_ERR_MAX])
{
    char base[PATH_MAX], pub_path[PATH_MAX], priv_path[PATH_MAX], zone[DNAME_TEXT_MAX];
    char sub[DNSSEC_ERR_MAX];
    uint8_t owner[DNAME_MAX_LEN];
    unsigned algorithm, tag;
    struct key_file kf = {0};
    struct private_file pf = {0};
    int ret = -1;
    *out = NULL;
    size_t len = strlen(path);
    if (len >= sizeof(base)) {
        dnssec_errorf(err, "%s: path too long", path);
        return -1;
    }
    memcpy(base, path, len + 1);
    if (len > 4 && strcmp(base + len - 4, ".key") == 0)
        base[len - 4] = '\0';
    else if (len > 8 && strcmp(base + len - 8, ".private") == 0)
        base[len - 8] = '\0';
    const char *name = strrchr(base, '/') ? strrchr(base, '/') + 1 : base;
    if (dnssec_key_name_parse(name, owner, &algorithm, &tag) < 0) {
        dnssec_errorf(err, "%s: not a key file name (K<zone>.+<algorithm>+<tag>)", path);
        return -1;
    }
    if (path_with(pub_path, base, ".key") < 0 || path_with(priv_path, base, ".private") < 0) {
        dnssec_errorf(err, "%s: path too long", path);
        return -1;
    }
    if (parse_key_file(pub_path, &kf, err) < 0 || parse_private_file(priv_path, &pf, err) < 0)
        goto out;
    dname_to_text(owner, zone, sizeof(zone));
    if (!dname_equal(kf.owner, owner) || kf.rdata[3] != algorithm) {
        dnssec_errorf(err,
                      "%s:%u: the record is not a DNSKEY of %s with algorithm %u as the "
                      "file name says",
                      pub_path, kf.line, zone, algorithm);
        goto out;
    }
    if (pf.algorithm != algorithm) {
        dnssec_errorf(err, "%s:%u: Algorithm %u differs from the file name's %u", priv_path,
                      pf.algorithm_line, pf.algorithm, algorithm);
        goto out;
    }
    if (dnssec_key_from_private(owner, (uint8_t)algorithm, dnswire_get16(kf.rdata), pf.key,
                                (size_t)pf.key_len, out, sub) < 0) {
        dnssec_errorf(err, "%s:%u: %s", priv_path, pf.key_line, sub);
        goto out;
    }
    if ((*out)->rdata_len != kf.rdata_len || memcmp((*out)->rdata, kf.rdata, kf.rdata_len)) {
        dnssec_errorf(err, "%s:%u: the public key is not the one of %s", pub_path, kf.line,
                      priv_path);
        goto out;
    }
    if ((*out)->tag != tag) {
        dnssec_errorf(err, "%s: the key tag is %u, not the file name's %u", pub_path, (*out)->tag,
                      tag);
        goto out;
    }
    (*out)->path = xstrdup(base);
    (*out)->created = pf.created;
    ret = 0;
out:
    if (ret < 0) {
        dnssec_key_free(*out);
        *out = NULL;
    }
    OPENSSL_cleanse(&pf, sizeof(pf));
    return ret;
}
