// SPDX-License-Identifier: MIT
/* The health thread (see monitor.h). Each target has a repeating ev_timer; a tick starts a
 * probe, its result runs the rise/fall state machine (from unknown the first result decides,
 * after that `rise` successes or `fall` failures in a row flip the state), and the published
 * table is rebuilt before the loop next sleeps: at once after a transition or forcing, else
 * at most once a second. Each entry carries the earliest second its state can next change,
 * a lower bound computed from the probe schedule, which steering uses to cap TTLs (a stale
 * bound is still a lower bound, so publishing lazily is safe). Other threads talk to the
 * loop through a call queue woken by ev_async. */
#include "health/monitor.h"

#include "health/fsm.h"
#include "health/state_file.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "common/alloc.h"
#include "common/log.h"

/* Room for an rcu_head in front of every published table, so call_rcu can free it. */
#define TABLE_HEAD_SPACE ((sizeof(struct rcu_head) + 15u) & ~(size_t)15u)
/* Without a transition, republish at most this often (bounds are conservative anyway). */
#define REPUBLISH_INTERVAL_S 1.0

static const char *const *const state_names = health_state_names;
static const char *const *const force_names = health_force_names;

struct target {
    struct health_monitor *m;
    const struct health_spec *spec;
    struct health_fsm fsm; /* the real state from probes, and its counters */
    uint8_t force;         /* enum health_force from the operator */
    bool in_flight;
    bool first_done;
    uint64_t transitions;
    time_t since; /* wall clock of the last change of `real` */
    char last_error[160];
    ev_timer timer;
    double due; /* ev_now() time the timer is due next, to measure lateness */
    double started; /* ev_time() when the probe in flight started */
    uint64_t probes; /* results received */
    uint64_t latency[HEALTH_LATENCY_BUCKETS + 1];
    double latency_sum_s;
};

const double health_latency_bounds_s[HEALTH_LATENCY_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0};

/* The state steering sees: the operator's forcing over the probes, and `down: true` in the
 * config over both (policy_select never picks such a member). */
static uint8_t
effective_state(const struct target *t)
{
    if (t->spec->config_down || t->force == HEALTH_FORCE_DOWN)
        return HEALTH_DOWN;
    if (t->force == HEALTH_FORCE_UP || !t->spec->check)
        return HEALTH_UP;
    return t->fsm.state;
}

/* Probe start lateness (how long after its due time a probe started), in log2 buckets of
 * milliseconds: [0] < 1 ms, [k] < 2^k ms. Health thread only; read through a call. */
#define LATENESS_BUCKETS 16
struct lateness {
    uint64_t buckets[LATENESS_BUCKETS];
    uint64_t count;
    double max_ms;
};

struct call {
    void (*fn)(struct health_monitor *m, void *arg);
    void *arg;
    bool done;
    struct call *next;
};

struct health_monitor {
    pthread_t thread;
    struct ev_loop *loop;
    ev_async wake;
    ev_prepare publish_check;
    struct probe_ctx *probes;

    const struct config *cfg;
    struct target *targets;
    uint32_t count;
    struct health_table **slot;
    struct health_hook hook; /* before each publish (ARCHITECTURE.md §4) */

    struct lateness lateness;
    /* The last transitions, for the status page: a ring, recent_next the next slot. */
    struct health_transition recent[HEALTH_RECENT_MAX];
    uint32_t recent_next, recent_count;
    bool dirty;          /* something changed since the last publish */
    bool urgent;         /* a state changed: publish before sleeping */
    bool states_changed; /* save the state file on the next publish */
    double last_publish;
    bool stopping;

    pthread_mutex_t lock; /* guards calls, unknown_waiting, and wakes the cond */
    pthread_cond_t cond;
    struct call *calls;
    uint32_t unknown_waiting; /* wait_at_startup targets without a first result */
};

/* Notes a change of t's effective state in the ring of recent transitions. */
static void
note_transition(struct health_monitor *m, const struct target *t, uint8_t from, uint8_t to,
                const char *why)
{
    if (from == to)
        return;
    struct health_transition *tr = &m->recent[m->recent_next];
    tr->at = time(NULL);
    snprintf(tr->key, sizeof(tr->key), "%s", t->spec->key);
    tr->from = from;
    tr->to = to;
    snprintf(tr->why, sizeof(tr->why), "%s", why);
    m->recent_next = (m->recent_next + 1) % HEALTH_RECENT_MAX;
    if (m->recent_count < HEALTH_RECENT_MAX)
        m->recent_count++;
}

uint32_t
health_now_s(void)
{
    /* Coarse is enough for whole seconds and costs a few ns: workers read it per query. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint32_t)ts.tv_sec;
}

void
health_table_free(struct health_table *table)
{
    if (table)
        free((char *)table - TABLE_HEAD_SPACE);
}

static void
free_table_rcu(struct rcu_head *head)
{
    free(head);
}

/* --- state file ------------------------------------------------------------------------- */

/* The state file (format in state_file.h), written whole and renamed into place. */
static void
save_states(struct health_monitor *m)
{
    const char *path = m->cfg->state_file;
    if (!path)
        return;
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return;
    /* Owner read-write, group read (meridianctl's group may look), nobody else: the file
     * names every backend and its state. fchmod as well, for a .tmp left by an older run. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    FILE *f = fd >= 0 && fchmod(fd, 0640) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        log_warning("health: cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    fprintf(f, "# meridian health states: key state force since transitions\n");
    for (uint32_t i = 0; i < m->count; i++) {
        const struct target *t = &m->targets[i];
        health_state_write(f, t->spec->key, t->fsm.state, t->force, (long long)t->since,
                           (unsigned long long)t->transitions);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        log_warning("health: cannot save %s: %s", path, strerror(errno));
}

struct restore {
    struct health_monitor *m;
    uint32_t restored;
};

static void
restore_one(const struct health_saved *saved, void *arg)
{
    struct restore *r = arg;
    for (uint32_t i = 0; i < r->m->count; i++) {
        struct target *t = &r->m->targets[i];
        if (strcmp(t->spec->key, saved->key) != 0)
            continue;
        /* Targets of `startup: wait` services take their state from the first probe
         * round; only the operator's forcing carries over for them. */
        if (!t->spec->wait_at_startup)
            t->fsm.state = saved->state;
        t->force = saved->force;
        t->since = (time_t)saved->since;
        t->transitions = saved->transitions;
        r->restored++;
    }
}

static void
load_states(struct health_monitor *m)
{
    const char *path = m->cfg->state_file;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        /* Absent is normal on the first start; unreadable (e.g. written by root before
         * server.user was set) loses the saved states and forcing: say so. */
        if (path && errno != ENOENT)
            log_warning("health: cannot read %s: %s; starting without saved states", path,
                        strerror(errno));
        return;
    }
    struct restore r = {.m = m};
    (void)health_state_read(f, restore_one, &r);
    fclose(f);
    log_info("health: restored %u states from %s", r.restored, path);
}

/* --- publishing --------------------------------------------------------------------------- */

/* Lower bound of the monotonic second at which t's effective state may change. */
static uint32_t
earliest_change(struct health_monitor *m, const struct target *t, double mono_now)
{
    const struct config_check *c = t->spec->check;
    if (!c || t->force != HEALTH_FORCE_NONE || t->spec->config_down)
        return HEALTH_NEVER;
    /* The next result arrives when the probe in flight (or the next one) completes: at the
     * soonest now, or when the timer fires. */
    double next = t->in_flight ? 0.0 : ev_timer_remaining(m->loop, (ev_timer *)&t->timer);
    return health_fsm_earliest_change(&t->fsm, c->rise, c->fall, mono_now, next,
                                      c->interval_ms / 1000.0);
}

static void
publish(struct health_monitor *m)
{
    size_t size = sizeof(struct health_table) + m->count * sizeof(struct health_entry);
    char *block = xcalloc(1, TABLE_HEAD_SPACE + size);
    struct health_table *table = (struct health_table *)(block + TABLE_HEAD_SPACE);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double mono_now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    /* ev_timer_remaining counts from the loop's clock, which lags by the callbacks run since
     * the loop woke (long on a loaded host); brought up to date after reading mono_now, it
     * makes each bound no later than the timer's due time. */
    ev_now_update(m->loop);
    table->count = m->count;
    for (uint32_t i = 0; i < m->count; i++) {
        const struct target *t = &m->targets[i];
        table->entries[i].state = effective_state(t);
        table->entries[i].drained = t->force == HEALTH_FORCE_DOWN;
        table->entries[i].waiting = t->spec->wait_at_startup && !t->first_done;
        table->entries[i].earliest_change_s = earliest_change(m, t, mono_now);
    }
    if (m->hook.before_publish)
        m->hook.before_publish(m->hook.arg, table);
    struct health_table *old = rcu_xchg_pointer(m->slot, table);
    if (old)
        call_rcu((struct rcu_head *)((char *)old - TABLE_HEAD_SPACE), free_table_rcu);
    if (m->states_changed)
        save_states(m);
    m->dirty = m->urgent = m->states_changed = false;
    m->last_publish = ev_now(m->loop);
}

static void
publish_check_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct health_monitor *m = w->data;
    (void)revents;
    if (m->urgent || (m->dirty && ev_now(loop) - m->last_publish >= REPUBLISH_INTERVAL_S))
        publish(m);
}

/* --- probing ------------------------------------------------------------------------------ */

static void
probe_done(void *arg, bool up, const char *reason)
{
    struct target *t = arg;
    struct health_monitor *m = t->m;
    const struct config_check *c = t->spec->check;
    t->in_flight = false;
    if (!up)
        snprintf(t->last_error, sizeof(t->last_error), "%s", reason ? reason : "failed");
    double took = ev_time() - t->started;
    unsigned b = 0;
    while (b < HEALTH_LATENCY_BUCKETS && took > health_latency_bounds_s[b])
        b++;
    t->latency[b]++;
    t->latency_sum_s += took > 0 ? took : 0;
    t->probes++;
    uint8_t before = t->fsm.state;
    uint8_t effective_before = effective_state(t);
    if (health_fsm_step(&t->fsm, up, c->rise, c->fall)) {
        note_transition(m, t, effective_before, effective_state(t),
                        up ? "probe succeeded" : (reason ? reason : "probe failed"));
        log_info("health: %s %s -> %s (%s)", t->spec->key, state_names[before],
                 state_names[t->fsm.state],
                 up ? "probe succeeded" : (reason ? reason : "probe failed"));
        t->since = time(NULL);
        t->transitions++;
        m->urgent = m->states_changed = true;
    }
    m->dirty = true;
    if (!t->first_done) {
        t->first_done = true;
        if (t->spec->wait_at_startup) {
            m->urgent = true; /* its service may answer now: publish before sleeping */
            pthread_mutex_lock(&m->lock);
            m->unknown_waiting--;
            pthread_cond_broadcast(&m->cond);
            pthread_mutex_unlock(&m->lock);
        }
    }
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct target *t = w->data;
    struct health_monitor *m = t->m;
    (void)revents;
    double late_ms = (ev_now(loop) - t->due) * 1000.0;
    /* The next probe starts a whole interval after this one, not on a fixed grid: after a
     * stall, a grid would start it sooner, and the earliest-change bound that caps TTLs
     * (earliest_change) counts whole intervals between probe starts. */
    ev_now_update(loop);
    ev_timer_again(loop, w);
    t->due = ev_now(loop) + t->spec->check->interval_ms / 1000.0;
    if (late_ms < 0)
        late_ms = 0;
    int bucket = 0;
    while (bucket < LATENESS_BUCKETS - 1 && late_ms >= (double)(1u << bucket))
        bucket++;
    m->lateness.buckets[bucket]++;
    m->lateness.count++;
    if (late_ms > m->lateness.max_ms)
        m->lateness.max_ms = late_ms;
    if (t->in_flight)
        return; /* timeout < interval, so this only happens if the loop fell behind */
    t->in_flight = true;
    t->started = ev_time();
    /* A probe that cannot start reports at once through probe_done. */
    (void)probe_start(t->m->probes, t->spec->check, &t->spec->target, probe_done, t);
}

/* Builds the targets for specs, carrying state over from old targets by key. */
static void
install_targets(struct health_monitor *m, const struct health_spec *specs, uint32_t n,
                struct target *old, uint32_t old_count)
{
    m->targets = xcalloc(n ? n : 1, sizeof(*m->targets));
    m->count = n;
    uint32_t waiting = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct target *t = &m->targets[i];
        t->m = m;
        t->spec = &specs[i];
        t->since = time(NULL);
        for (uint32_t j = 0; j < old_count; j++) {
            if (strcmp(old[j].spec->key, specs[i].key) != 0)
                continue;
            t->fsm = old[j].fsm;
            t->force = old[j].force;
            t->transitions = old[j].transitions;
            t->since = old[j].since;
            t->first_done = old[j].first_done;
            t->probes = old[j].probes;
            memcpy(t->latency, old[j].latency, sizeof(t->latency));
            t->latency_sum_s = old[j].latency_sum_s;
            memcpy(t->last_error, old[j].last_error, sizeof(t->last_error));
            break;
        }
        if (!specs[i].check) {
            t->first_done = true;
            continue;
        }
        if (specs[i].wait_at_startup && !t->first_done)
            waiting++;
        /* Spread the first round over up to a second so a big config does not probe
         * everything in one burst; later rounds keep that spread. */
        double interval = specs[i].check->interval_ms / 1000.0;
        double first = (double)(i % 1000) / 1000.0 * (interval < 1.0 ? interval : 1.0);
        ev_timer_init(&t->timer, timer_cb, first, interval);
        t->timer.data = t;
        t->due = ev_now(m->loop) + first;
        ev_timer_start(m->loop, &t->timer);
    }
    pthread_mutex_lock(&m->lock);
    m->unknown_waiting = waiting;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

/* --- calls from other threads ------------------------------------------------------------ */

static void
wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    struct health_monitor *m = w->data;
    (void)revents;
    pthread_mutex_lock(&m->lock);
    struct call *calls = m->calls;
    m->calls = NULL;
    pthread_mutex_unlock(&m->lock);
    for (struct call *c = calls; c;) {
        struct call *next = c->next; /* c may be gone once done is set */
        c->fn(m, c->arg);
        pthread_mutex_lock(&m->lock);
        c->done = true;
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->lock);
        c = next;
    }
    if (m->stopping)
        ev_break(loop, EVBREAK_ALL);
}

/* Runs fn(m, arg) on the health thread and waits for it. */
static void
run_on_loop(struct health_monitor *m, void (*fn)(struct health_monitor *, void *), void *arg)
{
    struct call c = {.fn = fn, .arg = arg};
    pthread_mutex_lock(&m->lock);
    c.next = m->calls;
    m->calls = &c;
    pthread_mutex_unlock(&m->lock);
    ev_async_send(m->loop, &m->wake);
    pthread_mutex_lock(&m->lock);
    while (!c.done)
        pthread_cond_wait(&m->cond, &m->lock);
    pthread_mutex_unlock(&m->lock);
}

static void *
thread_main(void *arg)
{
    struct health_monitor *m = arg;
    rcu_register_thread();
    ev_run(m->loop, 0);
    rcu_unregister_thread();
    return NULL;
}

int
health_monitor_start(const struct config *cfg, const struct health_spec *specs, uint32_t n,
                     struct health_table **slot, const struct health_hook *hook,
                     struct health_monitor **out, char err[CONFIG_ERR_MAX])
{
    struct health_monitor *m = xcalloc(1, sizeof(*m));
    m->cfg = cfg;
    m->slot = slot;
    m->hook = hook ? *hook : (struct health_hook){0};
    m->loop = ev_loop_new(EVFLAG_AUTO);
    if (!m->loop) {
        snprintf(err, CONFIG_ERR_MAX, "health: cannot create an event loop");
        free(m);
        return -1;
    }
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cond, &attr);
    pthread_condattr_destroy(&attr);
    m->probes = probe_ctx_new(m->loop, cfg->exec_max_concurrent);
    ev_async_init(&m->wake, wake_cb);
    m->wake.data = m;
    ev_async_start(m->loop, &m->wake);
    ev_prepare_init(&m->publish_check, publish_check_cb);
    m->publish_check.data = m;
    ev_prepare_start(m->loop, &m->publish_check);

    install_targets(m, specs, n, NULL, 0);
    load_states(m);
    publish(m); /* a table exists before any worker answers */
    int rc = pthread_create(&m->thread, NULL, thread_main, m);
    if (rc != 0) {
        snprintf(err, CONFIG_ERR_MAX, "health: cannot start its thread: %s", strerror(rc));
        probe_ctx_free(m->probes);
        ev_loop_destroy(m->loop);
        free(m->targets);
        free(m);
        return -1;
    }
    *out = m;
    return 0;
}

uint32_t
health_monitor_wait_first_round(struct health_monitor *m, uint32_t max_wait_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += max_wait_ms / 1000;
    deadline.tv_nsec += (long)(max_wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&m->lock);
    while (m->unknown_waiting > 0 &&
           pthread_cond_timedwait(&m->cond, &m->lock, &deadline) != ETIMEDOUT)
        ;
    uint32_t left = m->unknown_waiting;
    pthread_mutex_unlock(&m->lock);
    return left;
}

struct update_args {
    const struct config *cfg;
    const struct health_spec *specs;
    uint32_t n;
    struct health_table **slot;
    const struct health_hook *hook;
};

static void
do_update(struct health_monitor *m, void *arg)
{
    struct update_args *u = arg;
    /* Probes in flight refer to the old checks: abandon them. */
    probe_ctx_free(m->probes);
    for (uint32_t i = 0; i < m->count; i++)
        if (m->targets[i].spec->check)
            ev_timer_stop(m->loop, &m->targets[i].timer);
    struct target *old = m->targets;
    uint32_t old_count = m->count;
    m->cfg = u->cfg;
    m->slot = u->slot;
    m->hook = u->hook ? *u->hook : (struct health_hook){0};
    m->probes = probe_ctx_new(m->loop, u->cfg->exec_max_concurrent);
    install_targets(m, u->specs, u->n, old, old_count);
    free(old);
    m->states_changed = true;
    publish(m);
}

void
health_monitor_update(struct health_monitor *m, const struct config *cfg,
                      const struct health_spec *specs, uint32_t n, struct health_table **slot,
                      const struct health_hook *hook)
{
    struct update_args u = {.cfg = cfg, .specs = specs, .n = n, .slot = slot, .hook = hook};
    run_on_loop(m, do_update, &u);
}

struct force_args {
    const char *const *keys;
    uint32_t n;
    enum health_force force;
    const char *who;
    uint32_t matched;
};

static void
do_force(struct health_monitor *m, void *arg)
{
    struct force_args *f = arg;
    for (uint32_t i = 0; i < m->count; i++) {
        struct target *t = &m->targets[i];
        for (uint32_t k = 0; k < f->n; k++) {
            if (strcmp(t->spec->key, f->keys[k]) != 0)
                continue;
            if (t->force != f->force)
                log_info("health: %s forced %s -> %s by %s", t->spec->key, force_names[t->force],
                         force_names[f->force], f->who);
            uint8_t before = effective_state(t);
            t->force = (uint8_t)f->force;
            char why[96];
            snprintf(why, sizeof(why), "forced %s by %s", force_names[f->force], f->who);
            note_transition(m, t, before, effective_state(t), why);
            f->matched++;
            break;
        }
    }
    m->urgent = m->states_changed = true;
    publish(m);
}

uint32_t
health_monitor_force(struct health_monitor *m, const char *const *keys, uint32_t n,
                     enum health_force force, const char *who)
{
    struct force_args f = {.keys = keys, .n = n, .force = force, .who = who};
    run_on_loop(m, do_force, &f);
    return f.matched;
}

static void
do_states(struct health_monitor *m, void *arg)
{
    FILE *out = arg;
    fprintf(out, "%-40s %-8s %-8s %-6s %-20s %11s  %s\n", "target", "state", "real", "forced",
            "since", "transitions", "last error");
    for (uint32_t i = 0; i < m->count; i++) {
        const struct target *t = &m->targets[i];
        uint8_t eff = effective_state(t);
        char since[32];
        struct tm tm;
        gmtime_r(&t->since, &tm);
        strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(out, "%-40s %-8s %-8s %-6s %-20s %11llu  %s\n", t->spec->key, state_names[eff],
                t->spec->check ? state_names[t->fsm.state] : "unchecked",
                t->spec->config_down ? "config" : force_names[t->force], since,
                (unsigned long long)t->transitions, t->last_error[0] ? t->last_error : "-");
    }
}

void
health_monitor_states(struct health_monitor *m, FILE *out)
{
    run_on_loop(m, do_states, out);
}

static void
do_report(struct health_monitor *m, void *arg)
{
    struct health_report *r = arg;
    r->targets = xcalloc(m->count ? m->count : 1, sizeof(*r->targets));
    r->count = m->count;
    for (uint32_t i = 0; i < m->count; i++) {
        const struct target *t = &m->targets[i];
        struct health_target_report *o = &r->targets[i];
        o->key = xstrdup(t->spec->key);
        o->state = effective_state(t);
        o->checked = t->spec->check != NULL;
        o->real = o->checked ? t->fsm.state : HEALTH_UP;
        o->force = t->force;
        o->config_down = t->spec->config_down;
        o->since = t->since;
        o->transitions = t->transitions;
        o->probes = t->probes;
        memcpy(o->last_error, t->last_error, sizeof(o->last_error));
        memcpy(o->latency, t->latency, sizeof(o->latency));
        o->latency_sum_s = t->latency_sum_s;
    }
    r->recent_count = m->recent_count;
    for (uint32_t k = 0; k < m->recent_count; k++)
        r->recent[k] = m->recent[(m->recent_next + HEALTH_RECENT_MAX - 1 - k) % HEALTH_RECENT_MAX];
}

void
health_monitor_report(struct health_monitor *m, struct health_report *out)
{
    memset(out, 0, sizeof(*out));
    run_on_loop(m, do_report, out);
}

void
health_report_fini(struct health_report *r)
{
    for (uint32_t i = 0; i < r->count; i++)
        free(r->targets[i].key);
    free(r->targets);
    memset(r, 0, sizeof(*r));
}

/* Upper bound (ms) of the bucket holding the q-quantile of probe lateness. */
static unsigned
lateness_quantile(const struct lateness *l, double q)
{
    uint64_t want = (uint64_t)((double)l->count * q), seen = 0;
    for (int b = 0; b < LATENESS_BUCKETS; b++) {
        seen += l->buckets[b];
        if (seen > want)
            return 1u << b;
    }
    return 1u << (LATENESS_BUCKETS - 1);
}

static void
do_summary(struct health_monitor *m, void *arg)
{
    FILE *out = arg;
    const struct lateness *l = &m->lateness;
    fprintf(out, "probes: %llu started, lateness p50 < %u ms, p99 < %u ms, max %.1f ms\n",
            (unsigned long long)l->count, l->count ? lateness_quantile(l, 0.5) : 0,
            l->count ? lateness_quantile(l, 0.99) : 0, l->max_ms);
}

void
health_monitor_summary(struct health_monitor *m, FILE *out)
{
    run_on_loop(m, do_summary, out);
}

static void
do_stop(struct health_monitor *m, void *arg)
{
    (void)arg;
    m->stopping = true;
    save_states(m);
}

void
health_monitor_stop(struct health_monitor *m)
{
    if (!m)
        return;
    run_on_loop(m, do_stop, NULL);
    pthread_join(m->thread, NULL);
    probe_ctx_free(m->probes);
    ev_loop_destroy(m->loop);
    free(m->targets);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->cond);
    free(m);
}
