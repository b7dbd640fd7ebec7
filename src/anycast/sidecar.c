// SPDX-License-Identifier: MIT
/* The sidecar's wiring (see sidecar.h). Probe rounds run back to back on a timer whose delay
 * the state machine chooses (fast while RISING/FALLING), measured from the start of the
 * previous round; every input (round, command, deadline) goes through the pure state machine,
 * whose transitions are logged and whose gate intent is applied raise-first. Gates are only
 * touched when the intent differs from what is applied, i.e. on transitions (or to retry a
 * failed ioctl). In fallback mode the "gates" are the include file plus `configure`. Event
 * loop thread. */
#include "anycast/sidecar.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anycast/bird_client.h"
#include "anycast/canary.h"
#include "anycast/control.h"
#include "anycast/fallback.h"
#include "anycast/gate.h"
#include "common/notify.h"
#include "anycast/probe.h"
#include "anycast/state.h"
#include "anycast/verify.h"
#include "common/alloc.h"
#include "common/log.h"

#define CONFIGURE_DEADLINE_MS 5000 /* `configure` re-reads the whole BIRD config */
#define STOP_WAIT_MS 3000          /* fallback withdrawal at exit */

struct anycast_sidecar {
    struct ev_loop *loop;
    const struct anycast_config *cfg;
    struct anycast_canary canary;
    struct anycast_state state;
    struct anycast_gate gates[2]; /* ANYCAST_GATE_NORMAL, ANYCAST_GATE_DRAIN */
    bool fallback;
    struct anycast_gates applied; /* in effect (devices) or last configured (fallback) */
    uint64_t gate_epoch;          /* applied gate changes */
    uint64_t last_change_ms;
    uint64_t gate_errors;
    struct anycast_prober *prober;
    uint64_t rounds;
    uint64_t round_start_ms;
    uint64_t round_end_ms; /* last completed round, or the start time */
    uint64_t probes;
    uint64_t probe_failures;
    struct anycast_round_report last;
    bool have_last;
    ev_timer probe_timer;
    ev_timer deadline_timer;
    struct anycast_control *control;
    struct anycast_verifier *verifier;
    /* fallback */
    struct anycast_bird_session *configure;
    struct anycast_bird_session *disable; /* emergency `disable` after a failed configure */
    bool configure_dirty;                 /* the file changed while a `configure` was running */
    bool fallback_known;                  /* BIRD confirmed a file at least once */
    enum anycast_intent written;          /* intent of the file on disk */
    uint64_t fallback_errors;
};

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static enum anycast_intent
intent_of(struct anycast_gates g)
{
    if (g.normal)
        return ANYCAST_INTENT_ANNOUNCE;
    return g.drain ? ANYCAST_INTENT_DRAIN : ANYCAST_INTENT_WITHDRAW;
}

static bool
same_gates(struct anycast_gates a, struct anycast_gates b)
{
    return a.normal == b.normal && a.drain == b.drain;
}

/* ---- fallback: include file + configure ------------------------------------------------ */

static void start_configure(struct anycast_sidecar *sc);

static void
on_disabled(void *arg, int rc, const char *err, const struct anycast_bird_reply *replies,
            size_t count)
{
    struct anycast_sidecar *sc = arg;
    sc->disable = NULL;
    for (size_t i = 0; i < count; i++)
        log_warning("fallback: disable: %04d %s", replies[i].code,
                    anycast_bird_reply_message(&replies[i]));
    if (rc < 0)
        log_error("fallback: disable failed: %s", err);
}

static void
on_configured(void *arg, int rc, const char *err, const struct anycast_bird_reply *replies,
              size_t count)
{
    struct anycast_sidecar *sc = arg;
    const struct anycast_bird_reply *r = count > 0 ? &replies[count - 1] : NULL;

    sc->configure = NULL;
    if (rc == 0 && r && anycast_fallback_configured(r->code)) {
        sc->fallback_known = true;
        log_info("fallback: BIRD reconfigured (%s): %04d %s", anycast_intent_name(sc->written),
                 r->code, anycast_bird_reply_message(r));
    } else {
        sc->fallback_errors++;
        log_error("fallback: `configure` failed: %s%s%s", rc < 0 ? err : "",
                  r ? anycast_bird_reply_message(r) : "", rc < 0 || r ? "" : "no reply");
        /* BIRD: a broken BIRD config blocks every `configure`; a
         * withdrawal must still happen, so disable the protocols directly (undone by the next
         * successful `configure`, which then carries the same intent). */
        if (sc->written == ANYCAST_INTENT_WITHDRAW && !sc->configure_dirty) {
            char **cmds = xcalloc(sc->cfg->bird_protocol_count + 1, sizeof(char *));
            for (size_t i = 0; i < sc->cfg->bird_protocol_count; i++) {
                char buf[128];
                snprintf(buf, sizeof(buf), "disable \"%s\"", sc->cfg->bird_protocols[i]);
                cmds[i] = xstrdup(buf);
            }
            log_warning("fallback: withdrawing with `disable` instead");
            anycast_bird_session_cancel(sc->disable);
            sc->disable = anycast_bird_session_start(
                sc->loop, sc->cfg->bird_socket, false, (const char *const *)cmds,
                sc->cfg->bird_protocol_count, CONFIGURE_DEADLINE_MS, on_disabled, sc);
            for (size_t i = 0; i < sc->cfg->bird_protocol_count; i++)
                free(cmds[i]);
            free(cmds);
        }
    }
    if (sc->configure_dirty) {
        sc->configure_dirty = false;
        start_configure(sc);
    }
}

static void
start_configure(struct anycast_sidecar *sc)
{
    static const char *const cmd[] = {"configure"};
    if (sc->configure) {
        sc->configure_dirty = true; /* run again with the newest file when this one ends */
        return;
    }
    sc->configure = anycast_bird_session_start(sc->loop, sc->cfg->bird_socket, false, cmd, 1,
                                               CONFIGURE_DEADLINE_MS, on_configured, sc);
}

/* Writes the include file for `gates` and asks BIRD to read it. */
static int
apply_fallback(struct anycast_sidecar *sc, struct anycast_gates gates)
{
    enum anycast_intent intent = intent_of(gates);
    char *text = anycast_fallback_render(sc->cfg, intent);
    char err[256];
    int rc = anycast_fallback_write(sc->cfg->fallback_include, text, err, sizeof(err));

    free(text);
    if (rc < 0) {
        sc->fallback_errors++;
        log_error("fallback: %s", err);
        return -1;
    }
    sc->written = intent;
    start_configure(sc);
    return 0;
}

/* ---- gates ------------------------------------------------------------------------------ */

/* Moves the gates to the state's intent, raise-first (make-before-break). */
static void
apply_gates(struct anycast_sidecar *sc)
{
    struct anycast_gates want = anycast_state_gates(&sc->state);
    struct anycast_gate_step steps[2];
    size_t n;

    if (same_gates(want, sc->applied))
        return;
    if (sc->fallback) {
        if (apply_fallback(sc, want) == 0) {
            sc->applied = want;
            sc->gate_epoch++;
            sc->last_change_ms = mono_ms();
        } else {
            sc->gate_errors++;
        }
        return;
    }
    n = anycast_gate_plan(sc->applied, want, steps);
    for (size_t i = 0; i < n; i++) {
        struct anycast_gate *g = &sc->gates[steps[i].gate];
        char err[256];
        /* A failed raise does not stop the lowering that follows: the state asked for the
         * other gate to go down, and leaving it up would ignore a withdrawal. */
        if (anycast_gate_set(g, steps[i].up, err, sizeof(err)) < 0) {
            sc->gate_errors++;
            log_error("gate: %s (will retry)", err);
            continue;
        }
        if (steps[i].gate == ANYCAST_GATE_NORMAL)
            sc->applied.normal = steps[i].up;
        else
            sc->applied.drain = steps[i].up;
        sc->gate_epoch++;
        sc->last_change_ms = mono_ms();
        log_info("gate %s %s", g->name, steps[i].up ? "up" : "down");
    }
}

/* ---- state machine plumbing -------------------------------------------------------------- */

static void arm_deadline(struct anycast_sidecar *sc);

static void
handle_result(struct anycast_sidecar *sc, const struct anycast_result *res)
{
    for (size_t i = 0; i < res->count; i++) {
        const struct anycast_transition *t = &res->steps[i];
        char status[ANYCAST_REASON_MAX + 32];
        log_info("state %s -> %s: %s", anycast_state_name(t->from), anycast_state_name(t->to),
                 t->reason);
        snprintf(status, sizeof(status), "STATUS=%s: %s", anycast_state_name(t->to), t->reason);
        notify_systemd(status);
    }
    apply_gates(sc);
    arm_deadline(sc);
}

static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct anycast_sidecar *sc = w->data;
    struct anycast_result res;
    (void)loop;
    (void)revents;
    anycast_state_tick(&sc->state, mono_ms(), &res);
    handle_result(sc, &res);
}

static void
arm_deadline(struct anycast_sidecar *sc)
{
    uint64_t at = anycast_state_deadline_ms(&sc->state), now = mono_ms();
    ev_timer_stop(sc->loop, &sc->deadline_timer);
    if (at == 0)
        return;
    ev_timer_set(&sc->deadline_timer, at > now ? (double)(at - now) / 1000.0 : 0.0, 0.0);
    ev_timer_start(sc->loop, &sc->deadline_timer);
}

static void
schedule_round(struct anycast_sidecar *sc)
{
    uint64_t next = sc->round_start_ms + anycast_state_probe_delay_ms(&sc->state);
    uint64_t now = mono_ms();
    ev_timer_stop(sc->loop, &sc->probe_timer);
    ev_timer_set(&sc->probe_timer, next > now ? (double)(next - now) / 1000.0 : 0.0, 0.0);
    ev_timer_start(sc->loop, &sc->probe_timer);
}

static void
on_round(void *arg, const struct anycast_round_report *r)
{
    struct anycast_sidecar *sc = arg;
    struct anycast_round round = {
        .hard_fail = r->hard_fail,
        .soft_fail = r->soft_fail,
        /* meridiand unreachable: keep the last word on the site drain. */
        .site_drained = r->status_ok ? r->site_drained : sc->state.site_drained,
        .hard_reason = r->hard_reason,
        .soft_reason = r->soft_reason,
    };
    struct anycast_result res;

    sc->last = *r;
    sc->have_last = true;
    sc->round_end_ms = mono_ms();
    sc->probes += r->probes;
    sc->probe_failures += r->failed;
    if (r->hard_fail || r->soft_fail)
        log_debug("round %llu: %s%s%s%s", (unsigned long long)sc->rounds,
                  r->hard_fail ? "hard: " : "", r->hard_fail ? r->hard_reason : "",
                  r->soft_fail ? " soft: " : "", r->soft_fail ? r->soft_reason : "");
    anycast_state_round(&sc->state, &round, mono_ms(), &res);
    handle_result(sc, &res);
    schedule_round(sc);
}

static void
on_probe_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct anycast_sidecar *sc = w->data;
    uint32_t every = sc->cfg->tcp_every;
    (void)loop;
    (void)revents;
    if (anycast_prober_running(sc->prober))
        return;
    /* TCP in the first round and then every tcp_every-th. */
    sc->round_start_ms = mono_ms();
    anycast_prober_start(sc->prober, every > 0 && sc->rounds % every == 0);
    sc->rounds++;
}

bool
anycast_sidecar_alive(const struct anycast_sidecar *sc)
{
    const struct anycast_config *cfg = sc->cfg;
    uint64_t period =
        cfg->interval_ms > cfg->fast_interval_ms ? cfg->interval_ms : cfg->fast_interval_ms;
    return mono_ms() - sc->round_end_ms <= 2 * (period + cfg->timeout_ms) + 1000;
}

/* ---- BIRD verification hooks --------------------------------------------------------------- */

static void
verify_input(void *arg, struct anycast_verify_input *in)
{
    struct anycast_sidecar *sc = arg;
    in->intent = intent_of(sc->applied);
    in->gate_epoch = sc->gate_epoch;
    in->last_change_ms = sc->last_change_ms;
}

static void
verify_mismatch(void *arg, const char *msg)
{
    struct anycast_sidecar *sc = arg;
    (void)msg;
    /* The file is the fallback's source of truth: BIRD restarted or someone reconfigured
     * with another file; apply it again. With gates BIRD follows the links by itself. */
    if (sc->fallback)
        (void)apply_fallback(sc, sc->applied);
}

/* ---- control commands ---------------------------------------------------------------------- */

static void
write_status(struct anycast_sidecar *sc, FILE *out)
{
    const struct anycast_state *s = &sc->state;
    uint64_t now = mono_ms();
    struct anycast_gates want = anycast_state_gates(s);
    static const char *const forced[] = {"none", "up", "down"};

    fprintf(out, "ok\nstate: %s\nreason: %s\nin_state_ms: %llu\n", anycast_state_name(s->st),
            s->reason, (unsigned long long)(now - s->entered_ms));
    fprintf(out, "intent: %s\n", anycast_intent_name(intent_of(want)));
    if (sc->fallback)
        fprintf(out, "gates: fallback %s: %s%s\n", sc->cfg->fallback_include,
                anycast_intent_name(intent_of(sc->applied)),
                sc->fallback_known ? "" : " (not yet confirmed by BIRD)");
    else
        fprintf(out, "gates: %s %s, %s %s\n", sc->gates[0].name, sc->applied.normal ? "up" : "down",
                sc->gates[1].name, sc->applied.drain ? "up" : "down");
    fprintf(out, "forced: %s\n", forced[s->forced]);
    fprintf(out, "drain: %s\n",
            s->drain_cmd && s->site_drained ? "command+meridiand"
            : s->drain_cmd                  ? "command"
            : s->site_drained               ? "meridiand"
                                            : "none");
    fprintf(out, "hold_down_left_ms: %llu\nhold_down_next_ms: %u\nflaps: %llu\n",
            (unsigned long long)anycast_state_hold_left_ms(s, now), s->hold_next_ms,
            (unsigned long long)s->flaps);
    if (!sc->have_last)
        fprintf(out, "last_round: none\n");
    else if (sc->last.hard_fail)
        fprintf(out, "last_round: hard: %s\n", sc->last.hard_reason);
    else if (sc->last.soft_fail)
        fprintf(out, "last_round: soft: %s\n", sc->last.soft_reason);
    else
        fprintf(out, "last_round: ok (%u ms max)\n", sc->last.max_rtt_ms);
    fprintf(out, "rounds: %llu\nprobes: %llu\nprobe_failures: %llu\n",
            (unsigned long long)sc->rounds, (unsigned long long)sc->probes,
            (unsigned long long)sc->probe_failures);
    if (!sc->cfg->meridiand_control)
        fprintf(out, "meridiand: not configured\n");
    else if (sc->have_last && sc->last.status_ok)
        fprintf(out, "meridiand: site %s\n", sc->last.site_drained ? "drained" : "active");
    else
        fprintf(out, "meridiand: unavailable\n");
    anycast_verifier_status(sc->verifier, out);
    fprintf(out, "gate_changes: %llu\ngate_errors: %llu\n", (unsigned long long)sc->gate_epoch,
            (unsigned long long)sc->gate_errors);
    if (sc->fallback)
        fprintf(out, "fallback_errors: %llu\n", (unsigned long long)sc->fallback_errors);
    fprintf(out, "transitions: %llu\nentered:", (unsigned long long)s->transitions);
    for (int i = 0; i < ANYCAST_STATE_COUNT; i++)
        fprintf(out, " %s=%llu", anycast_state_name((enum anycast_st)i),
                (unsigned long long)s->entries[i]);
    fprintf(out, "\nprefixes:");
    for (size_t i = 0; i < sc->cfg->prefix_count; i++)
        fprintf(out, " %s", sc->cfg->prefixes[i].text);
    fprintf(out, "\n");
}

void
anycast_sidecar_command(struct anycast_sidecar *sc, char *line, FILE *out)
{
    char *words[4];
    int n = 0;
    enum anycast_cmd cmd;
    struct anycast_result res;
    const char *why;

    for (char *save, *w = strtok_r(line, " \t\r\n", &save); w && n < 4;
         w = strtok_r(NULL, " \t\r\n", &save))
        words[n++] = w;
    if (n == 1 && strcmp(words[0], "status") == 0) {
        write_status(sc, out);
        return;
    }
    if (n == 1 && strcmp(words[0], "drain") == 0)
        cmd = ANYCAST_CMD_DRAIN;
    else if (n == 1 && strcmp(words[0], "undrain") == 0)
        cmd = ANYCAST_CMD_UNDRAIN;
    else if (n == 2 && strcmp(words[0], "force") == 0 && strcmp(words[1], "up") == 0)
        cmd = ANYCAST_CMD_FORCE_UP;
    else if (n == 2 && strcmp(words[0], "force") == 0 && strcmp(words[1], "down") == 0)
        cmd = ANYCAST_CMD_FORCE_DOWN;
    else if (n == 1 && strcmp(words[0], "unforce") == 0)
        cmd = ANYCAST_CMD_UNFORCE;
    else {
        fprintf(out, "error: unknown command; try: status | drain | undrain | force up|down | "
                     "unforce\n");
        return;
    }
    log_info("control: %s%s%s", words[0], n > 1 ? " " : "", n > 1 ? words[1] : "");
    if (anycast_state_command(&sc->state, cmd, mono_ms(), &res, &why) < 0) {
        fprintf(out, "error: %s\n", why);
        return;
    }
    handle_result(sc, &res);
    /* A state that changed the probe cadence (e.g. into RISING) takes effect now. */
    if (!anycast_prober_running(sc->prober))
        schedule_round(sc);
    fprintf(out, "ok\nstate: %s\n", anycast_state_name(sc->state.st));
    if (cmd == ANYCAST_CMD_UNDRAIN && sc->state.site_drained)
        fprintf(out, "note: the site is still drained in meridiand\n");
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static void
on_control(void *arg, char *line, FILE *out)
{
    anycast_sidecar_command(arg, line, out);
}

static int
open_gates(struct anycast_sidecar *sc, char *err, size_t err_size)
{
    if (anycast_gate_open(&sc->gates[0], sc->loop, sc->cfg->gate_device, err, err_size) < 0)
        return -1;
    if (anycast_gate_open(&sc->gates[1], sc->loop, sc->cfg->drain_device, err, err_size) < 0) {
        anycast_gate_close(&sc->gates[0]);
        return -1;
    }
    return 0;
}

int
anycast_sidecar_start(struct ev_loop *loop, const struct anycast_config *cfg,
                      struct anycast_sidecar **out, char *err, size_t err_size)
{
    struct anycast_sidecar *sc = xcalloc(1, sizeof(*sc));
    struct anycast_params params = {
        .rise = cfg->rise,
        .fall = cfg->fall,
        .interval_ms = cfg->interval_ms,
        .fast_interval_ms = cfg->fast_interval_ms,
        .hold_down_ms = cfg->hold_down_ms,
        .hold_down_max_ms = cfg->hold_down_max_ms,
        .flap_reset_ms = cfg->flap_reset_ms,
        .drain_time_ms = cfg->drain_time_ms,
    };
    char gate_err[256];
    int rc = -1;

    sc->loop = loop;
    sc->cfg = cfg;
    sc->gates[0].fd = sc->gates[1].fd = -1;
    *out = NULL;
    if (anycast_canary_init(&sc->canary, cfg->canary_name, cfg->canary_type, cfg->canary_expect,
                            err, err_size) < 0)
        goto out;
    anycast_state_init(&sc->state, &params, mono_ms());
    sc->round_end_ms = mono_ms();
    if (open_gates(sc, gate_err, sizeof(gate_err)) < 0) {
        if (!cfg->fallback_include) {
            snprintf(err, err_size,
                     "gate device: %s (needs CAP_NET_ADMIN and /dev/net/tun; or "
                     "set fallback_include)",
                     gate_err);
            goto out;
        }
        log_warning("gate device: %s; using the fallback include file %s", gate_err,
                    cfg->fallback_include);
        sc->fallback = true;
        /* BIRD must not announce before the probes say so: start from a withdrawn file. */
        if (apply_fallback(sc, (struct anycast_gates){0}) < 0) {
            snprintf(err, err_size, "fallback_include %s: cannot write", cfg->fallback_include);
            goto out;
        }
    } else {
        log_info("gates %s and %s created (down)", cfg->gate_device, cfg->drain_device);
    }
    if (anycast_control_start(loop, cfg->control_socket, on_control, sc, &sc->control, err,
                              err_size) < 0)
        goto out;
    sc->prober = anycast_prober_new(loop, cfg, &sc->canary, on_round, sc);
    sc->verifier = anycast_verifier_new(loop, cfg, sc->fallback, verify_input, verify_mismatch, sc);
    ev_timer_init(&sc->deadline_timer, on_deadline, 0.0, 0.0);
    sc->deadline_timer.data = sc;
    ev_timer_init(&sc->probe_timer, on_probe_timer, 0.0, 0.0);
    sc->probe_timer.data = sc;
    ev_timer_start(loop, &sc->probe_timer); /* first round at once */
    *out = sc;
    sc = NULL;
    rc = 0;
out:
    if (sc) {
        anycast_gate_close(&sc->gates[0]);
        anycast_gate_close(&sc->gates[1]);
        anycast_bird_session_cancel(sc->configure);
        anycast_bird_session_cancel(sc->disable);
        free(sc);
    }
    return rc;
}

void
anycast_sidecar_stop(struct anycast_sidecar *sc)
{
    if (!sc)
        return;
    ev_timer_stop(sc->loop, &sc->probe_timer);
    ev_timer_stop(sc->loop, &sc->deadline_timer);
    anycast_prober_free(sc->prober);
    anycast_verifier_free(sc->verifier);
    anycast_control_stop(sc->control);
    if (sc->fallback) {
        /* Nothing dies with us in this mode: write the withdrawal and wait (bounded) for
         * BIRD to take it. */
        uint64_t until = mono_ms() + STOP_WAIT_MS;
        anycast_bird_session_cancel(sc->configure);
        anycast_bird_session_cancel(sc->disable);
        sc->configure = sc->disable = NULL;
        sc->configure_dirty = false;
        if (apply_fallback(sc, (struct anycast_gates){0}) == 0)
            while ((sc->configure || sc->disable) && mono_ms() < until)
                ev_run(sc->loop, EVRUN_ONCE);
        anycast_bird_session_cancel(sc->configure);
        anycast_bird_session_cancel(sc->disable);
    } else {
        /* Both down, then close: the kernel deletes the devices with the last fd. */
        anycast_gate_close(&sc->gates[0]);
        anycast_gate_close(&sc->gates[1]);
        log_info("gates %s and %s withdrawn and closed", sc->cfg->gate_device,
                 sc->cfg->drain_device);
    }
    free(sc);
}
