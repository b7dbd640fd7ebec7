// SPDX-License-Identifier: MIT
/* Master-file splitter (see zone_split.h). One pass over the lines with getline; the only
 * state carried between records is the origin, the default TTL and the last owner. Runs on
 * the loader thread. */
#include "zone/zone_split.h"

#include <ctype.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "zone/zone_internal.h"

static size_t
append(struct zone_split *s, const char *p, size_t n)
{
    if (s->text_len + n + 1 > s->text_cap) {
        while (s->text_len + n + 1 > s->text_cap)
            s->text_cap = s->text_cap ? s->text_cap * 2 : 1 << 20;
        s->text = xrealloc(s->text, s->text_cap);
    }
    size_t at = s->text_len;
    memcpy(s->text + at, p, n);
    s->text_len += n;
    s->text[s->text_len] = '\0';
    return at;
}

static uint32_t
add_context(struct zone_split *s, const char *origin, uint32_t ttl)
{
    if (s->context_count == s->context_cap) {
        s->context_cap = s->context_cap ? s->context_cap * 2 : 8;
        s->contexts = xrealloc(s->contexts, s->context_cap * sizeof(*s->contexts));
    }
    s->contexts[s->context_count] = (struct zone_split_context){xstrdup(origin), ttl};
    return (uint32_t)s->context_count++;
}

/* Cuts a ';' comment outside quotes and counts parentheses; returns the kept length.
 * `quoted` carries an open string across lines. */
static size_t
scan_line(const char *line, size_t len, int *depth, bool *quoted)
{
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (c == '\\' && i + 1 < len) {
            i++;
            continue;
        }
        if (c == '"')
            *quoted = !*quoted;
        else if (*quoted)
            continue;
        else if (c == ';')
            return i;
        else if (c == '(')
            (*depth)++;
        else if (c == ')')
            (*depth)--;
    }
    return len;
}

/* The first token (up to white space), and whether its last dot is escaped-free. */
static size_t
token_length(const char *p)
{
    size_t n = 0;
    while (p[n] && !isspace((unsigned char)p[n])) {
        if (p[n] == '\\' && p[n + 1])
            n++;
        n++;
    }
    return n;
}

static bool
ends_with_unescaped_dot(const char *p, size_t n)
{
    if (n == 0 || p[n - 1] != '.')
        return false;
    size_t backslashes = 0;
    while (backslashes + 1 < n && p[n - 2 - backslashes] == '\\')
        backslashes++;
    return backslashes % 2 == 0;
}

/* Writes the absolute form of name token p[0..n) relative to origin into out. */
static void
absolute_name(const char *p, size_t n, const char *origin, char *out, size_t out_size)
{
    if (n == 1 && p[0] == '@')
        snprintf(out, out_size, "%s", origin);
    else if (ends_with_unescaped_dot(p, n))
        snprintf(out, out_size, "%.*s", (int)n, p);
    else if (strcmp(origin, ".") == 0)
        snprintf(out, out_size, "%.*s.", (int)n, p);
    else
        snprintf(out, out_size, "%.*s.%s", (int)n, p, origin);
}

static void
add_record(struct zone_split *s, size_t text, int line, uint32_t context)
{
    if (s->count == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->records = xrealloc(s->records, s->cap * sizeof(*s->records));
    }
    s->records[s->count++] = (struct zone_split_record){text, line, context};
}

/* $ORIGIN and $TTL (RFC 1035 §5.1, RFC 2308 §4). */
static int
directive(struct zone_split *s, const char *file, int line, const char *p, char *origin,
          size_t origin_size, uint32_t *ttl, uint32_t *context, char err[ZONE_ERR_MAX])
{
    size_t n = token_length(p);
    const char *arg = p + n;
    while (isspace((unsigned char)*arg))
        arg++;
    size_t arg_len = token_length(arg);
    if (n == 7 && strncasecmp(p, "$ORIGIN", 7) == 0 && arg_len > 0) {
        char next[DNAME_TEXT_MAX];
        absolute_name(arg, arg_len, origin, next, sizeof(next));
        snprintf(origin, origin_size, "%s", next);
    } else if (n == 4 && strncasecmp(p, "$TTL", 4) == 0 && arg_len > 0) {
        char value[64];
        const char *end;
        snprintf(value, sizeof(value), "%.*s", (int)arg_len, arg);
        *ttl = ldns_str2period(value, &end);
        if (*end != '\0') {
            zone_error(err, file, line, "bad $TTL value '%s'", value);
            return -1;
        }
    } else if (n == 8 && strncasecmp(p, "$INCLUDE", 8) == 0) {
        zone_error(err, file, line, "$INCLUDE is not supported (one zone, one file)");
        return -1;
    } else {
        zone_error(err, file, line, "unknown or incomplete directive '%.*s'", (int)n, p);
        return -1;
    }
    *context = add_context(s, origin, *ttl);
    return 0;
}

int
zone_split_read(FILE *fp, const char *file, const char *origin_text, uint32_t default_ttl,
                struct zone_split *s, char err[ZONE_ERR_MAX])
{
    memset(s, 0, sizeof(*s));
    char origin[DNAME_TEXT_MAX], owner[DNAME_TEXT_MAX] = "";
    snprintf(origin, sizeof(origin), "%s", origin_text);
    snprintf(owner, sizeof(owner), "%s", origin_text);
    uint32_t ttl = default_ttl;
    uint32_t context = add_context(s, origin, ttl);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    int line_no = 0, depth = 0, start_line = 0;
    bool quoted = false, in_record = false;
    size_t record_text = 0;
    int rc = -1;

    while ((len = getline(&line, &line_cap, fp)) >= 0) {
        line_no++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        size_t keep = scan_line(line, (size_t)len, &depth, &quoted);
        if (in_record) {
            append(s, " ", 1);
            append(s, line, keep);
        } else {
            const char *p = line;
            bool blank_owner = isspace((unsigned char)*p);
            while (isspace((unsigned char)*p))
                p++;
            if ((size_t)(p - line) >= keep) {
                depth = 0; /* blank or comment-only line */
                quoted = false;
                continue;
            }
            if (*p == '$' && !blank_owner) {
                if (directive(s, file, line_no, p, origin, sizeof(origin), &ttl, &context, err) <
                    0)
                    goto out;
                depth = 0;
                continue;
            }
            /* Every record leaves with its owner spelled out and absolute. */
            size_t rest = 0;
            if (!blank_owner) {
                size_t n = token_length(p);
                absolute_name(p, n, origin, owner, sizeof(owner));
                rest = (size_t)(p - line) + n;
            }
            record_text = append(s, owner, strlen(owner));
            append(s, " ", 1);
            append(s, line + rest, keep > rest ? keep - rest : 0);
            start_line = line_no;
            in_record = true;
        }
        if (depth < 0) {
            zone_error(err, file, line_no, "')' without '('");
            goto out;
        }
        if (depth == 0 && !quoted) {
            add_record(s, record_text, start_line, context);
            s->text_len++; /* step past the NUL that append() left, so it stays */
            in_record = false;
        }
    }
    if (in_record) {
        zone_error(err, file, start_line, quoted ? "unterminated quoted string"
                                                 : "unbalanced '(' at end of file");
        goto out;
    }
    rc = 0;
out:
    free(line);
    return rc;
}

void
zone_split_fini(struct zone_split *s)
{
    for (size_t i = 0; i < s->context_count; i++)
        free(s->contexts[i].origin);
    free(s->contexts);
    free(s->records);
    free(s->text);
    memset(s, 0, sizeof(*s));
}
