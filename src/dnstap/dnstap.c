// SPDX-License-Identifier: MIT
/* The dnstap query log (see dnstap.h): fstrm's I/O thread over our transport (dnstap_io.c),
 * one input queue per worker, and per worker a ring of preallocated record buffers. A
 * worker takes a free buffer, packs the record into it (dnstap_encode.c) and submits it to
 * its queue; once the I/O thread has written (or discarded) it, fstrm calls slot_release on
 * the I/O thread, which puts the buffer back on the worker's free ring. The ring is
 * single-producer (I/O thread) single-consumer (the worker), so neither side locks. A buffer
 * whose submit failed stays with the worker as its spare (the worker may not push onto its
 * own ring). Worker threads call dnstap_sample and dnstap_log; the rest runs on the main
 * thread, counters are read by the control thread. */
#include "dnstap/dnstap.h"

#include <fstrm.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "dnstap/dnstap_io.h"

/* fstrm input queue per worker: entries (a power of two). At 2 records per query it holds
 * the log of 512 queries that the I/O thread has not taken yet. */
#define DNSTAP_QUEUE_SIZE 1024
/* Records queued before a worker wakes the I/O thread (a futex wake, and on a busy core a
 * context switch): a quarter of the queue, so the wake-ups stay rare and the thread still
 * has the other three quarters' time to catch up. Below it, the thread writes at its flush
 * timeout (1 s). fstrm's option counts the free entries left at the wake-up (its default,
 * 32, wakes the thread when the queue is all but full, and records drop while it wakes). */
#define DNSTAP_WAKE_AFTER 256
#define DNSTAP_NOTIFY_THRESHOLD (DNSTAP_QUEUE_SIZE - DNSTAP_WAKE_AFTER)
/* fstrm's output queue: records written with one writev (dnstap_io.c sends 2 iovecs each). */
#define DNSTAP_OUTPUT_QUEUE 64
/* Buffers per worker: every record that can be in flight (its input queue, the output
 * queue, the one being processed), so the queue fills before the ring runs dry. */
#define DNSTAP_SLOTS 2048
/* One record: headers, addresses, identity and version (255 bytes each at most), a query and
 * a UDP response of the default 1232-byte limit. Larger ones are heap-allocated. */
#define DNSTAP_SLOT_SIZE 2048
#define NO_SLOT UINT32_MAX

_Static_assert((DNSTAP_SLOTS & (DNSTAP_SLOTS - 1)) == 0, "the ring's index mask");
_Static_assert(DNSTAP_SLOTS >= DNSTAP_QUEUE_SIZE + DNSTAP_OUTPUT_QUEUE + 1, "ring too small");

struct dnstap_worker {
    _Alignas(64) _Atomic uint32_t head; /* free ring: the I/O thread pushes here */
    _Alignas(64) uint32_t tail;         /* the worker pops here */
    uint32_t spare;                     /* a slot the worker keeps after a failed submit */
    uint64_t seen;                      /* queries, for sampling */
    struct fstrm_iothr_queue *queue;
    struct dnstap *dt;
    uint8_t *slab; /* DNSTAP_SLOTS * DNSTAP_SLOT_SIZE */
    uint32_t *ring; /* free slot indexes */
    _Atomic uint64_t logged, dropped; /* written by the worker */
    _Atomic uint64_t lost;            /* written by the I/O thread */
};

struct dnstap {
    struct config_dnstap cfg; /* copy: paths, sampling, what changes need a restart */
    struct dnstap_origin origin;
    struct dnstap_io io;
    struct fstrm_iothr *iothr;
    unsigned worker_count;
    struct dnstap_worker *workers;
};

static char *
dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static bool
same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* fstrm's free function for ring buffers (I/O thread): the record was written, or
 * discarded while the output was not open (counted as lost). */
static void
slot_release(void *data, void *arg)
{
    struct dnstap_worker *w = arg;
    if (!atomic_load_explicit(&w->dt->io.open, memory_order_relaxed))
        atomic_fetch_add_explicit(&w->lost, 1, memory_order_relaxed);
    uint32_t slot = (uint32_t)(((uint8_t *)data - w->slab) / DNSTAP_SLOT_SIZE);
    uint32_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
    w->ring[head & (DNSTAP_SLOTS - 1)] = slot;
    /* Release: the worker that sees the new head sees the index written before it. */
    atomic_store_explicit(&w->head, head + 1, memory_order_release);
}

/* The same for a heap record (too large for a slot). */
static void
heap_release(void *data, void *arg)
{
    struct dnstap_worker *w = arg;
    if (!atomic_load_explicit(&w->dt->io.open, memory_order_relaxed))
        atomic_fetch_add_explicit(&w->lost, 1, memory_order_relaxed);
    free(data);
}

/* A free slot of the worker, or NO_SLOT when every one is in flight. */
static uint32_t
slot_take(struct dnstap_worker *w)
{
    uint32_t slot = w->spare;
    if (slot != NO_SLOT) {
        w->spare = NO_SLOT;
        return slot;
    }
    if (w->tail == atomic_load_explicit(&w->head, memory_order_acquire))
        return NO_SLOT;
    return w->ring[w->tail++ & (DNSTAP_SLOTS - 1)];
}

/* Packs and queues one record; counts it as logged or dropped. Never blocks. */
static void
submit(struct dnstap *dt, struct dnstap_worker *w, enum dnstap_kind kind,
       const struct dnstap_event *ev)
{
    uint32_t slot = slot_take(w);
    if (slot == NO_SLOT) {
        atomic_fetch_add_explicit(&w->dropped, 1, memory_order_relaxed);
        return;
    }
    uint8_t *buf = w->slab + (size_t)slot * DNSTAP_SLOT_SIZE;
    void (*release)(void *, void *) = slot_release;
    size_t needed = 0;
    size_t len = dnstap_encode(&dt->origin, kind, ev, buf, DNSTAP_SLOT_SIZE, &needed);
    if (len == 0) {
        /* Too large for a slot: a TCP response, or a UDP one under a raised udp_max_size.
         * The heap, only here and only with dnstap on (dnstap.h). */
        w->spare = slot;
        buf = malloc(needed);
        len = buf ? dnstap_encode(&dt->origin, kind, ev, buf, needed, NULL) : 0;
        release = heap_release;
        slot = NO_SLOT;
    }
    if (len == 0 ||
        fstrm_iothr_submit(dt->iothr, w->queue, buf, len, release, w) != fstrm_res_success) {
        /* Queue full (fstrm_res_again): the reader is behind. Ours to release. */
        if (slot != NO_SLOT)
            w->spare = slot;
        else
            free(buf);
        atomic_fetch_add_explicit(&w->dropped, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&w->logged, 1, memory_order_relaxed);
}

bool
dnstap_sample(struct dnstap *dt, unsigned worker, struct timespec *query_time)
{
    struct dnstap_worker *w = &dt->workers[worker];
    if (dt->cfg.sample > 1 && w->seen++ % dt->cfg.sample != 0)
        return false;
    clock_gettime(CLOCK_REALTIME, query_time); /* vDSO: no system call */
    return true;
}

void
dnstap_log(struct dnstap *dt, unsigned worker, struct dnstap_event *ev, const uint8_t *response,
           size_t response_len, const struct policy_set *policies, const struct dns_result *result)
{
    struct dnstap_worker *w = &dt->workers[worker];
    char extra[DNSTAP_EXTRA_MAX];
    clock_gettime(CLOCK_REALTIME, &ev->response_time);
    ev->response = response;
    ev->response_len = response_len;
    if (dt->cfg.queries)
        submit(dt, w, DNSTAP_AUTH_QUERY, ev);
    if (!dt->cfg.responses || ev->response_len == 0)
        return;
    if (result && result->steered) {
        ev->extra_len = dnstap_extra_format(policies, &result->decision, result->ecs, extra,
                                            sizeof(extra));
        ev->extra = ev->extra_len ? extra : NULL;
    }
    submit(dt, w, DNSTAP_AUTH_RESPONSE, ev);
    ev->extra = NULL; /* it pointed into this frame */
}

static void
worker_free(struct dnstap_worker *w)
{
    free(w->slab);
    free(w->ring);
}

static struct fstrm_iothr_options *
iothr_options(unsigned workers)
{
    struct fstrm_iothr_options *opt = fstrm_iothr_options_init();
    (void)fstrm_iothr_options_set_num_input_queues(opt, workers);
    (void)fstrm_iothr_options_set_input_queue_size(opt, DNSTAP_QUEUE_SIZE);
    (void)fstrm_iothr_options_set_output_queue_size(opt, DNSTAP_OUTPUT_QUEUE);
    (void)fstrm_iothr_options_set_queue_notify_threshold(opt, DNSTAP_NOTIFY_THRESHOLD);
    /* One producer per queue: its worker. */
    (void)fstrm_iothr_options_set_queue_model(opt, FSTRM_IOTHR_QUEUE_MODEL_SPSC);
    /* A collector started after us is found within a second. */
    (void)fstrm_iothr_options_set_reopen_interval(opt, 1);
    return opt;
}

int
dnstap_open(const struct config *cfg, unsigned workers, struct dnstap **out,
            char err[CONFIG_ERR_MAX])
{
    const struct config_dnstap *c = &cfg->dnstap;
    *out = NULL;
    if (!c->socket && !c->file)
        return 0;
    struct dnstap *dt = xcalloc(1, sizeof(*dt));
    dt->cfg = *c;
    dt->cfg.socket = dup_or_null(c->socket);
    dt->cfg.file = dup_or_null(c->file);
    dt->cfg.identity = dup_or_null(c->identity);
    dt->cfg.version = dup_or_null(c->version);
    /* By default the records name the server as its CHAOS answers do, and not when hidden. */
    dt->origin.identity = dt->cfg.identity   ? dt->cfg.identity
                          : cfg->hide_identity ? NULL
                                               : cfg->identity;
    dt->origin.version = dt->cfg.version    ? dt->cfg.version
                         : cfg->hide_version ? NULL
                                             : cfg->version;
    dt->origin.identity = dup_or_null(dt->origin.identity);
    dt->origin.version = dup_or_null(dt->origin.version);
    dt->io.socket = c->socket != NULL;
    dt->io.path = dt->io.socket ? dt->cfg.socket : dt->cfg.file;
    dt->worker_count = workers;
    dt->workers = aligned_alloc(_Alignof(struct dnstap_worker), workers * sizeof(*dt->workers));
    if (!dt->workers)
        abort(); /* as xmalloc: out of memory at start */
    memset(dt->workers, 0, workers * sizeof(*dt->workers));
    for (unsigned i = 0; i < workers; i++) {
        struct dnstap_worker *w = &dt->workers[i];
        w->dt = dt;
        w->spare = NO_SLOT;
        w->slab = xmalloc((size_t)DNSTAP_SLOTS * DNSTAP_SLOT_SIZE);
        w->ring = xmalloc(DNSTAP_SLOTS * sizeof(*w->ring));
        for (uint32_t s = 0; s < DNSTAP_SLOTS; s++)
            w->ring[s] = s;
        atomic_init(&w->head, DNSTAP_SLOTS); /* every slot free */
    }
    struct fstrm_writer *writer = dnstap_io_writer(&dt->io);
    struct fstrm_iothr_options *opt = writer ? iothr_options(workers) : NULL;
    dt->iothr = writer ? fstrm_iothr_init(opt, &writer) : NULL;
    fstrm_iothr_options_destroy(&opt);
    if (writer) /* fstrm_iothr_init takes it over only on success */
        fstrm_writer_destroy(&writer);
    if (!dt->iothr) {
        snprintf(err, CONFIG_ERR_MAX, "%s:%d: dnstap: cannot start the log writer", cfg->path,
                 c->line);
        dnstap_close(dt);
        return -1;
    }
    for (unsigned i = 0; i < workers; i++)
        dt->workers[i].queue = fstrm_iothr_get_input_queue(dt->iothr);
    *out = dt;
    return 0;
}

void
dnstap_close(struct dnstap *dt)
{
    if (!dt)
        return;
    /* Drains the queues, writes, closes, and releases every buffer: then they may go. */
    atomic_store(&dt->io.stopping, true);
    if (dt->iothr)
        fstrm_iothr_destroy(&dt->iothr);
    for (unsigned i = 0; i < dt->worker_count; i++)
        worker_free(&dt->workers[i]);
    free(dt->workers);
    free(dt->cfg.socket);
    free(dt->cfg.file);
    free(dt->cfg.identity);
    free(dt->cfg.version);
    free((void *)dt->origin.identity);
    free((void *)dt->origin.version);
    free(dt);
}

void
dnstap_counters_get(const struct dnstap *dt, unsigned worker, struct dnstap_counters *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; dt && i < dt->worker_count; i++) {
        if (worker != UINT32_MAX && worker != i)
            continue;
        struct dnstap_worker *w = &dt->workers[i];
        out->logged += atomic_load_explicit(&w->logged, memory_order_relaxed);
        out->dropped += atomic_load_explicit(&w->dropped, memory_order_relaxed);
        out->lost += atomic_load_explicit(&w->lost, memory_order_relaxed);
    }
}

static void
print_counters(FILE *out, const char *name, const struct dnstap_counters *c)
{
    fprintf(out, "%s: logged %llu, dropped %llu, lost %llu\n", name,
            (unsigned long long)c->logged, (unsigned long long)c->dropped,
            (unsigned long long)c->lost);
}

void
dnstap_status(const struct dnstap *dt, FILE *out)
{
    if (!dt) {
        fprintf(out, "dnstap: off\n");
        return;
    }
    fprintf(out, "dnstap: %s %s, %s (%u opens), %s%s, 1 in %u queries\n",
            dt->io.socket ? "socket" : "file", dt->io.path,
            atomic_load(&dt->io.open) ? "open" : "not open", atomic_load(&dt->io.opens),
            dt->cfg.queries ? "queries" : "",
            dt->cfg.responses ? (dt->cfg.queries ? " and responses" : "responses") : "",
            dt->cfg.sample);
    struct dnstap_counters c;
    dnstap_counters_get(dt, UINT32_MAX, &c);
    print_counters(out, "dnstap_records", &c);
    for (unsigned i = 0; i < dt->worker_count; i++) {
        char name[32];
        snprintf(name, sizeof(name), "dnstap_worker_%u", i);
        dnstap_counters_get(dt, i, &c);
        print_counters(out, name, &c);
    }
}

bool
dnstap_config_changed(const struct dnstap *dt, const struct config *cfg)
{
    const struct config_dnstap *c = &cfg->dnstap;
    if (!dt)
        return c->socket || c->file;
    return !same_text(dt->cfg.socket, c->socket) || !same_text(dt->cfg.file, c->file) ||
           !same_text(dt->cfg.identity, c->identity) ||
           !same_text(dt->cfg.version, c->version) || dt->cfg.queries != c->queries ||
           dt->cfg.responses != c->responses || dt->cfg.sample != c->sample;
}
