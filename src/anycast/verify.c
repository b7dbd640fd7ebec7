// SPDX-License-Identifier: MIT
/* BIRD verification loop (see verify.h): builds the command list once from the config, runs
 * it on a restricted session every bird_interval, and judges the replies with the pure
 * checks in bird.c. Event loop thread. */
#include "anycast/verify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anycast/bird_client.h"
#include "common/alloc.h"
#include "common/log.h"

#define SETTLE_MS 1000     /* a gate change this recent makes a check inconclusive */
#define CONFIRM_CHECKS 2   /* mismatches in a row before one is reported */
#define PROTOCOLS_MAX 4096 /* rows of `show protocols` looked at */
#define ROUTES_MAX 64      /* routes per prefix looked at */
#define MSG_MAX 256

enum verdict { V_OFF, V_UNKNOWN, V_OK, V_MISMATCH };

struct anycast_verifier {
    struct ev_loop *loop;
    const struct anycast_config *cfg;
    bool fallback;
    anycast_verify_input_fn input;
    anycast_verify_mismatch_fn mismatch;
    void *arg;
    ev_timer timer;
    char **commands;
    size_t command_count;
    struct anycast_bird_session *session;
    struct anycast_verify_input at_start;
    uint64_t started_ms;
    enum verdict verdict;
    unsigned streak; /* mismatching checks in a row */
    char msg[MSG_MAX];
    char peers[MSG_MAX];
    uint64_t checks;
    uint64_t mismatches; /* times a confirmed mismatch began */
    uint64_t errors;     /* sessions that failed (BIRD unreachable, timeout) */
};

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* "show route for PREFIX" or, with a peer, "... export PEER". */
static char *
route_command(const char *prefix, const char *peer)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "show route for %s%s%s", prefix, peer ? " export " : "",
             peer ? peer : "");
    return xstrdup(buf);
}

static void
build_commands(struct anycast_verifier *v)
{
    const struct anycast_config *cfg = v->cfg;
    size_t n = 0;

    v->command_count = 1 + cfg->prefix_count * (1 + cfg->bird_peer_count);
    v->commands = xcalloc(v->command_count, sizeof(char *));
    v->commands[n++] = xstrdup("show protocols");
    for (size_t i = 0; i < cfg->prefix_count; i++)
        v->commands[n++] = route_command(cfg->prefixes[i].text, NULL);
    for (size_t i = 0; i < cfg->prefix_count; i++)
        for (size_t k = 0; k < cfg->bird_peer_count; k++)
            v->commands[n++] = route_command(cfg->prefixes[i].text, cfg->bird_peers[k]);
}

static const struct anycast_bird_protocol *
find_protocol(const struct anycast_bird_protocol *rows, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0)
            return &rows[i];
    return NULL;
}

static bool
established(const struct anycast_bird_protocol *row)
{
    return row && strcmp(row->state, "up") == 0 && strncmp(row->info, "Established", 11) == 0;
}

/* Judges a complete set of replies; returns the verdict with the first problem in msg. */
static enum verdict
judge(struct anycast_verifier *v, enum anycast_intent intent,
      const struct anycast_bird_reply *replies, char *msg, size_t msg_size)
{
    const struct anycast_config *cfg = v->cfg;
    struct anycast_bird_protocol *rows = xcalloc(PROTOCOLS_MAX, sizeof(*rows));
    struct anycast_bird_route routes[ROUTES_MAX];
    struct anycast_bird_names names = {cfg->bird_protocols, cfg->bird_protocol_count,
                                       cfg->bird_drain_protocols, cfg->bird_drain_protocol_count};
    enum verdict verdict = V_OK;
    size_t used = 0, count;
    int n = anycast_bird_parse_protocols(&replies[0], rows, PROTOCOLS_MAX);

    msg[0] = '\0';
    if (v->fallback) {
        /* One protocol per family carries the route whether plain or with GSHUT. */
        names.drain_count = 0;
        if (intent == ANYCAST_INTENT_DRAIN)
            intent = ANYCAST_INTENT_ANNOUNCE;
    }
    if (n < 0) {
        snprintf(msg, msg_size, "show protocols: %04d %s", replies[0].code,
                 anycast_bird_reply_message(&replies[0]));
        verdict = V_UNKNOWN;
        goto out;
    }
    v->peers[0] = '\0';
    for (size_t k = 0; k < cfg->bird_peer_count && used < sizeof(v->peers); k++) {
        const struct anycast_bird_protocol *row = find_protocol(rows, n, cfg->bird_peers[k]);
        int w = snprintf(v->peers + used, sizeof(v->peers) - used, "%s%s %s%s%s", k ? ", " : "",
                         cfg->bird_peers[k], row ? row->state : "missing",
                         row && row->info[0] ? "/" : "", row ? row->info : "");
        used += w > 0 ? (size_t)w : 0;
    }
    for (size_t i = 0; i < cfg->prefix_count && verdict == V_OK; i++) {
        const struct anycast_bird_reply *r = &replies[1 + i];
        if (anycast_bird_parse_routes(r, routes, ROUTES_MAX, &count) != ANYCAST_BIRD_ROUTES) {
            snprintf(msg, msg_size, "show route for %s: %04d %s", cfg->prefixes[i].text, r->code,
                     anycast_bird_reply_message(r));
            verdict = V_UNKNOWN;
        } else if (anycast_bird_check_routes(intent, &names, routes, count, msg, msg_size) < 0) {
            verdict = V_MISMATCH;
        }
        if (verdict == V_MISMATCH) {
            /* Say which prefix; the check's message names intent and protocol. */
            char detail[MSG_MAX];
            snprintf(detail, sizeof(detail), "%s %s", cfg->prefixes[i].text, msg);
            snprintf(msg, msg_size, "%s", detail);
        }
    }
    for (size_t i = 0; i < cfg->prefix_count && verdict == V_OK; i++) {
        for (size_t k = 0; k < cfg->bird_peer_count && verdict == V_OK; k++) {
            const struct anycast_bird_reply *r =
                &replies[1 + cfg->prefix_count + i * cfg->bird_peer_count + k];
            enum anycast_bird_routes kind;
            char detail[MSG_MAX];
            /* Only an established session can be exported to; its state is shown anyway. */
            if (!established(find_protocol(rows, n, cfg->bird_peers[k])))
                continue;
            kind = anycast_bird_parse_routes(r, routes, ROUTES_MAX, &count);
            if (kind == ANYCAST_BIRD_NO_TABLE)
                continue; /* the peer carries the other address family */
            if (kind == ANYCAST_BIRD_FAILED) {
                snprintf(msg, msg_size, "show route export %s: %04d %s", cfg->bird_peers[k],
                         r->code, anycast_bird_reply_message(r));
                verdict = V_UNKNOWN;
            } else if (anycast_bird_check_export(intent, &names, cfg->bird_peers[k], routes, count,
                                                 detail, sizeof(detail)) < 0) {
                /* A long prefix text and detail may not both fit: the message is cut. */
                if (snprintf(msg, msg_size, "%s %s", cfg->prefixes[i].text, detail) >=
                    (int)msg_size)
                    msg[msg_size - 1] = '\0';
                verdict = V_MISMATCH;
            }
        }
    }
out:
    free(rows);
    return verdict;
}

static void
set_verdict(struct anycast_verifier *v, enum verdict verdict, const char *msg)
{
    bool changed = verdict != v->verdict || strcmp(msg, v->msg) != 0;

    if (verdict == V_MISMATCH && changed) {
        v->mismatches++;
        log_warning("bird: mismatch: %s", msg);
    } else if (verdict == V_UNKNOWN && changed) {
        log_warning("bird: cannot verify: %s", msg);
    } else if (verdict == V_OK && v->verdict != V_OK) {
        log_info("bird: routes agree with the gates");
    }
    v->verdict = verdict;
    snprintf(v->msg, sizeof(v->msg), "%s", msg);
    if (verdict == V_MISMATCH && v->mismatch)
        v->mismatch(v->arg, msg);
}

static void
on_done(void *arg, int rc, const char *err, const struct anycast_bird_reply *replies, size_t count)
{
    struct anycast_verifier *v = arg;
    struct anycast_verify_input now;
    char msg[MSG_MAX];
    enum verdict verdict;

    v->session = NULL;
    v->checks++;
    if (rc < 0 || count != v->command_count) {
        v->errors++;
        v->streak = 0;
        set_verdict(v, V_UNKNOWN, err);
        return;
    }
    v->input(v->arg, &now);
    /* BIRD follows a link change within milliseconds, but a check that straddles one can
     * see either side: judge only checks with no gate change during or shortly before. */
    if (now.gate_epoch != v->at_start.gate_epoch ||
        v->started_ms < v->at_start.last_change_ms + SETTLE_MS)
        return;
    verdict = judge(v, now.intent, replies, msg, sizeof(msg));
    if (verdict == V_MISMATCH && ++v->streak < CONFIRM_CHECKS)
        return;
    if (verdict != V_MISMATCH)
        v->streak = 0;
    set_verdict(v, verdict, msg);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct anycast_verifier *v = w->data;
    uint32_t deadline_ms = v->cfg->bird_interval_ms < 2000 ? v->cfg->bird_interval_ms : 2000;

    (void)revents;
    if (v->session)
        return; /* the previous check is still running (bounded by its deadline) */
    v->input(v->arg, &v->at_start);
    v->started_ms = mono_ms();
    v->session = anycast_bird_session_start(loop, v->cfg->bird_socket, true,
                                            (const char *const *)v->commands, v->command_count,
                                            deadline_ms, on_done, v);
}

struct anycast_verifier *
anycast_verifier_new(struct ev_loop *loop, const struct anycast_config *cfg, bool fallback,
                     anycast_verify_input_fn input, anycast_verify_mismatch_fn mismatch, void *arg)
{
    struct anycast_verifier *v = xcalloc(1, sizeof(*v));
    double period = (double)cfg->bird_interval_ms / 1000.0;

    v->loop = loop;
    v->cfg = cfg;
    v->fallback = fallback;
    v->input = input;
    v->mismatch = mismatch;
    v->arg = arg;
    v->verdict = V_OFF;
    snprintf(v->msg, sizeof(v->msg), "no bird_socket configured");
    if (!cfg->bird_socket)
        return v;
    v->verdict = V_UNKNOWN;
    snprintf(v->msg, sizeof(v->msg), "not checked yet");
    build_commands(v);
    ev_timer_init(&v->timer, on_timer, period, period);
    v->timer.data = v;
    ev_timer_start(loop, &v->timer);
    return v;
}

void
anycast_verifier_free(struct anycast_verifier *v)
{
    if (!v)
        return;
    ev_timer_stop(v->loop, &v->timer);
    anycast_bird_session_cancel(v->session);
    for (size_t i = 0; i < v->command_count; i++)
        free(v->commands[i]);
    free(v->commands);
    free(v);
}

void
anycast_verifier_status(const struct anycast_verifier *v, FILE *out)
{
    static const char *const names[] = {"off", "unknown", "ok", "mismatch"};
    fprintf(out, "bird: %s%s%s\n", names[v->verdict], v->verdict == V_OK ? "" : ": ",
            v->verdict == V_OK ? "" : v->msg);
    if (v->cfg->bird_peer_count)
        fprintf(out, "bird_peers: %s\n", v->peers[0] ? v->peers : "not checked yet");
    fprintf(out, "bird_checks: %llu\nbird_errors: %llu\nbird_mismatches: %llu\n",
            (unsigned long long)v->checks, (unsigned long long)v->errors,
            (unsigned long long)v->mismatches);
}
