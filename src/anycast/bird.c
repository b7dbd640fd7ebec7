// SPDX-License-Identifier: MIT
/* BIRD reply reader, row parsers and the verification verdict (see bird.h). Pure: text in,
 * structs out; the socket side is bird_client.c. Formats were recorded from BIRD 2.0.12 on
 * this project's test machine (tests/unit/anycast/test_bird.c keeps the transcripts). Event
 * loop thread. */
#include "anycast/bird.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

void
anycast_bird_reply_init(struct anycast_bird_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->code = -1;
}

void
anycast_bird_reply_fini(struct anycast_bird_reply *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->lines[i].text);
    free(r->lines);
    anycast_bird_reply_init(r);
}

static void
add_line(struct anycast_bird_reply *r, uint16_t code, const char *text, size_t len)
{
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->lines = xrealloc(r->lines, r->cap * sizeof(*r->lines));
    }
    r->lines[r->count].code = code;
    r->lines[r->count].text = xmalloc(len + 1);
    memcpy(r->lines[r->count].text, text, len);
    r->lines[r->count].text[len] = '\0';
    r->count++;
}

int
anycast_bird_reply_feed(struct anycast_bird_reply *r, const char *line)
{
    size_t len = strlen(line);
    uint16_t code = 0;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (r->code >= 0)
        return -1; /* the reply was complete already */
    /* '+' lines are asynchronous log messages, not part of the reply (nest/cli.c). */
    if (len > 0 && line[0] == '+')
        return ANYCAST_BIRD_MORE;
    /* " text": a continuation of the previous code; only valid after a coded line. */
    if (len > 0 && line[0] == ' ') {
        if (r->count == 0)
            return -1;
        add_line(r, r->last_code, line + 1, len - 1);
        return ANYCAST_BIRD_MORE;
    }
    if (len < 4 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]) || !isdigit((unsigned char)line[3]))
        return -1;
    for (int i = 0; i < 4; i++)
        code = (uint16_t)(code * 10 + (uint16_t)(line[i] - '0'));
    /* "NNNN" alone ends a reply as "NNNN " does. */
    if (len == 4 || line[4] == ' ') {
        add_line(r, code, len > 4 ? line + 5 : "", len > 4 ? len - 5 : 0);
        r->code = code;
        r->last_code = code;
        return ANYCAST_BIRD_DONE;
    }
    if (line[4] != '-')
        return -1;
    add_line(r, code, line + 5, len - 5);
    r->last_code = code;
    return ANYCAST_BIRD_MORE;
}

const char *
anycast_bird_reply_message(const struct anycast_bird_reply *r)
{
    return r->code >= 0 && r->count > 0 ? r->lines[r->count - 1].text : "";
}

bool
anycast_bird_reply_error(const struct anycast_bird_reply *r)
{
    return r->code >= 8000;
}

/* Copies the next whitespace-separated token of *p into out; "" at the end. */
static void
next_token(const char **p, char *out, size_t size)
{
    const char *s = *p;
    size_t n;
    while (*s == ' ' || *s == '\t')
        s++;
    n = strcspn(s, " \t");
    snprintf(out, size, "%.*s", (int)n, s);
    *p = s + n;
}

int
anycast_bird_parse_protocols(const struct anycast_bird_reply *r, struct anycast_bird_protocol *out,
                             size_t max)
{
    size_t n = 0;

    if (r->code < 0 || anycast_bird_reply_error(r))
        return -1;
    /* Rows: "name proto table state since [info...]"; since is "HH:MM:SS.mmm" or, with a
     * date-aware timeformat, "YYYY-MM-DD HH:MM:SS". */
    for (size_t i = 0; i < r->count && n < max; i++) {
        const char *p = r->lines[i].text;
        char table[64], since[64];
        struct anycast_bird_protocol *row = &out[n];

        if (r->lines[i].code != 1002)
            continue;
        memset(row, 0, sizeof(*row));
        next_token(&p, row->name, sizeof(row->name));
        next_token(&p, row->proto, sizeof(row->proto));
        next_token(&p, table, sizeof(table));
        next_token(&p, row->state, sizeof(row->state));
        next_token(&p, since, sizeof(since));
        if (row->name[0] == '\0' || row->state[0] == '\0')
            continue;
        if (strchr(since, '-') && !strchr(since, ':')) {
            const char *q = p;
            char tm[64];
            next_token(&q, tm, sizeof(tm));
            if (strchr(tm, ':'))
                p = q;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        snprintf(row->info, sizeof(row->info), "%s", p);
        /* Trailing padding from BIRD's columns. */
        for (size_t k = strlen(row->info); k > 0 && row->info[k - 1] == ' '; k--)
            row->info[k - 1] = '\0';
        n++;
    }
    return (int)n;
}

enum anycast_bird_routes
anycast_bird_parse_routes(const struct anycast_bird_reply *r, struct anycast_bird_route *out,
                          size_t max, size_t *count)
{
    *count = 0;
    if (r->code < 0)
        return ANYCAST_BIRD_FAILED;
    if (r->code == 8001)
        return ANYCAST_BIRD_ROUTES; /* "Network not found" */
    if (r->code == 9001 && strcmp(anycast_bird_reply_message(r), "No valid tables") == 0)
        return ANYCAST_BIRD_NO_TABLE;
    if (anycast_bird_reply_error(r))
        return ANYCAST_BIRD_FAILED;
    /* 1007 rows: "Table master4:", then per route "[PREFIX] TYPE [PROTO TIME...] [*] (PREF)"
     * followed by "\tdev X" / "\tvia ..." lines; 1008+ are attributes (`all`). */
    for (size_t i = 0; i < r->count; i++) {
        const char *t = r->lines[i].text, *open, *close;
        size_t n;

        if (r->lines[i].code != 1007 || strncmp(t, "Table ", 6) == 0)
            continue;
        open = strchr(t, '[');
        close = open ? strchr(open, ']') : NULL;
        if (!close)
            continue;
        if (*count < max) {
            struct anycast_bird_route *route = &out[*count];
            n = strcspn(open + 1, " ]");
            snprintf(route->proto, sizeof(route->proto), "%.*s", (int)n, open + 1);
            route->primary = strncmp(close + 1, " *", 2) == 0;
        }
        (*count)++;
    }
    if (*count > max)
        *count = max;
    return ANYCAST_BIRD_ROUTES;
}

const char *
anycast_intent_name(enum anycast_intent intent)
{
    switch (intent) {
    case ANYCAST_INTENT_ANNOUNCE:
        return "announce";
    case ANYCAST_INTENT_DRAIN:
        return "announce-gshut";
    default:
        return "withdraw";
    }
}

static bool
listed(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* The first route from a protocol in names[], or NULL. */
static const struct anycast_bird_route *
find_from(const struct anycast_bird_route *routes, size_t count, char *const *names, size_t n)
{
    for (size_t i = 0; i < count; i++)
        if (listed(names, n, routes[i].proto))
            return &routes[i];
    return NULL;
}

int
anycast_bird_check_routes(enum anycast_intent intent, const struct anycast_bird_names *names,
                          const struct anycast_bird_route *routes, size_t count, char *msg,
                          size_t msg_size)
{
    const struct anycast_bird_route *normal =
        find_from(routes, count, names->normal, names->normal_count);
    const struct anycast_bird_route *drain =
        find_from(routes, count, names->drain, names->drain_count);
    const char *want = anycast_intent_name(intent);

    msg[0] = '\0';
    /* The normal protocols must carry a route exactly when the normal gate is up... */
    if (names->normal_count > 0 && intent == ANYCAST_INTENT_ANNOUNCE && !normal) {
        snprintf(msg, msg_size, "%s: no route from %s%s", want, names->normal[0],
                 names->normal_count > 1 ? " (or the other bird_protocols)" : "");
        return -1;
    }
    if (normal && intent != ANYCAST_INTENT_ANNOUNCE) {
        snprintf(msg, msg_size, "%s: route from %s present", want, normal->proto);
        return -1;
    }
    /* ...and the drain protocols exactly when only the drain gate is up. */
    if (names->drain_count > 0 && intent == ANYCAST_INTENT_DRAIN && !drain) {
        snprintf(msg, msg_size, "%s: no route from %s%s", want, names->drain[0],
                 names->drain_count > 1 ? " (or the other bird_drain_protocols)" : "");
        return -1;
    }
    if (drain && intent != ANYCAST_INTENT_DRAIN) {
        snprintf(msg, msg_size, "%s: route from %s present", want, drain->proto);
        return -1;
    }
    return 0;
}

int
anycast_bird_check_export(enum anycast_intent intent, const struct anycast_bird_names *names,
                          const char *peer, const struct anycast_bird_route *routes, size_t count,
                          char *msg, size_t msg_size)
{
    const char *want = anycast_intent_name(intent);
    const struct anycast_bird_route *first = count > 0 ? &routes[0] : NULL;
    const struct anycast_bird_route *normal =
        find_from(routes, count, names->normal, names->normal_count);
    const struct anycast_bird_route *drain =
        find_from(routes, count, names->drain, names->drain_count);
    const struct anycast_bird_route *wrong = NULL;

    msg[0] = '\0';
    /* BIRD shows the route it exports to the peer (after the export filter). */
    if (intent == ANYCAST_INTENT_WITHDRAW) {
        /* Routes from protocols we do not know about are not ours to judge, unless no names
         * are configured at all. */
        wrong = normal ? normal : drain;
        if (!wrong && names->normal_count == 0 && names->drain_count == 0)
            wrong = first;
        if (wrong) {
            snprintf(msg, msg_size, "%s: still exported to %s (from %s)", want, peer, wrong->proto);
            return -1;
        }
        return 0;
    }
    if (!first) {
        snprintf(msg, msg_size, "%s: not exported to %s", want, peer);
        return -1;
    }
    if (intent == ANYCAST_INTENT_ANNOUNCE && names->normal_count > 0 && !normal)
        wrong = first;
    if (intent == ANYCAST_INTENT_DRAIN)
        wrong = normal ? normal : names->drain_count > 0 && !drain ? first : NULL;
    if (wrong) {
        snprintf(msg, msg_size, "%s: %s gets the route from %s", want, peer, wrong->proto);
        return -1;
    }
    return 0;
}
