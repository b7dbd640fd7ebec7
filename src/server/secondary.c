// SPDX-License-Identifier: MIT
/* The secondary role in meridiand (see secondary.h). Each secondary origin has a state that
 * lives until exit: its latest accepted version (reference-counted records, read by the main
 * thread while it compiles a snapshot), its SOA timers, its primaries as the last published
 * config gave them (keys copied: the thread holds no snapshot) and its last transfer, all
 * under one mutex; NOTIFY and the control commands only set atomic flags and write to an
 * eventfd, so a worker never waits. The transfer threads (SECONDARY_THREADS) sleep in poll()
 * on that eventfd until the earliest refresh or expiry, each refreshes a zone that is due and
 * that no other has claimed (a transfer blocks only its thread), and raises SIGUSR1 when
 * something must be published: a new version, an expiry, or a zone coming back. Catalog
 * zones (server/catalog.c) add one duty: a new version must read as a catalog, and after a
 * publish the copies of members that left a catalog are deleted (sweep). */
#include "server/secondary.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dnswire.h"
#include "common/log.h"
#include "server/secondary_fetch.h"
#include "server/snapshot.h"
#include "xfr/xfr_catalog.h"
#include "xfr/xfr_refresh.h"

struct version {
    atomic_uint refs;
    struct zone_records recs;
    uint32_t serial;
};

struct primary {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char text[80];
    bool has_key;
    uint8_t key_name[DNAME_MAX_LEN];
    enum tsig_algorithm algorithm;
    uint8_t secret[512]; /* CONFIG_TSIG_SECRET_MAX, checked when copied */
    size_t secret_len;
};

struct secondary_zone {
    struct secondary_zone *next; /* set once, before the zone is linked */
    uint8_t origin[DNAME_MAX_LEN];
    char origin_text[DNAME_TEXT_MAX];
    atomic_bool refresh_wanted, axfr_wanted;
    atomic_bool sweep_wanted; /* a catalog: remove what its members left behind */
    /* Under lock: */
    struct version *version;
    struct xfr_refresh timers;
    bool timers_set;
    bool published_expired; /* what the last snapshot load served */
    bool active;            /* in the last published config */
    bool busy;              /* a transfer thread is refreshing it */
    bool catalog;           /* a catalog zone (RFC 9432): a new version must read as one */
    char member_of[DNAME_TEXT_MAX]; /* a catalog's member: that catalog, else "" */
    struct primary *primaries;
    size_t primary_count;
    struct zone_limits limits; /* zones[].max_records, max_size */
    char *file;
    int64_t last_at;
    char last_kind[24];
    char last_result[700];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct secondary_zone *zones; /* under lock; entries are freed only at exit */
static int wake_fd = -1;
static int stop_fd = -1; /* written once, at stop: ends the transfers in flight */
static pthread_t threads[SECONDARY_THREADS];
static size_t running; /* threads started */
static atomic_bool stopping;

static void
version_unref(struct version *v)
{
    if (v && atomic_fetch_sub(&v->refs, 1) == 1) {
        zone_records_fini(&v->recs);
        free(v);
    }
}

static struct secondary_zone *
zone_get(const uint8_t *origin, bool create)
{
    pthread_mutex_lock(&lock);
    struct secondary_zone *z = zones;
    while (z && !dname_equal(z->origin, origin))
        z = z->next;
    if (!z && create) {
        z = xcalloc(1, sizeof(*z));
        dname_lower_copy(z->origin, origin);
        dname_to_text(z->origin, z->origin_text, sizeof(z->origin_text));
        z->next = zones;
        zones = z;
    }
    pthread_mutex_unlock(&lock);
    return z;
}

static void
wake(void)
{
    uint64_t one = 1;
    if (wake_fd >= 0 && write(wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return; /* nothing more to do: the thread wakes at its next timer anyway */
}

/* SOA timers of a version (its SOA is its first record). */
static void
version_timers(const struct version *v, uint32_t timers[4])
{
    uint32_t serial;
    if (!zone_soa_fields(v->recs.recs[0].rdata, v->recs.recs[0].rdlen, &serial, timers))
        memset(timers, 0, 4 * sizeof(*timers));
}

static struct version *
version_new(struct zone_records *recs)
{
    struct version *v = xcalloc(1, sizeof(*v));
    uint32_t timers[4];
    atomic_init(&v->refs, 1);
    v->recs = *recs;
    zone_records_init(recs);
    if (!zone_soa_fields(v->recs.recs[0].rdata, v->recs.recs[0].rdlen, &v->serial, timers))
        v->serial = 0;
    return v;
}

/* The disk copy, read once at the first load: served until the first refresh, and counted
 * as refreshed when it was last written or confirmed (its mtime). */
static void
load_disk_copy(struct secondary_zone *z, const struct config_zone *cz, int64_t now)
{
    struct zone_records recs;
    char err[ZONE_ERR_MAX];
    struct stat st;
    if (zone_records_load(cz->origin, cz->file, &recs, err) < 0 || recs.count == 0 ||
        recs.recs[0].type != DNS_TYPE_SOA || stat(cz->file, &st) < 0) {
        if (access(cz->file, F_OK) == 0)
            log_warning("zone %s: the copy on disk cannot be used (%s): waiting for a transfer",
                        cz->origin, err);
        zone_records_fini(&recs);
        return;
    }
    /* The SOA first, where a transfer puts it (the parser keeps the file's order). */
    struct version *v = version_new(&recs);
    uint32_t timers[4];
    version_timers(v, timers);
    pthread_mutex_lock(&lock);
    z->version = v;
    xfr_refresh_done(&z->timers, timers, (int64_t)st.st_mtime, now);
    z->timers_set = true;
    pthread_mutex_unlock(&lock);
    log_info("zone %s: serial %u from the copy on disk %s", cz->origin, v->serial, cz->file);
}

/* A zone with no data to serve: a SOA and NS under the reserved name "invalid." (RFC 6761
 * §6.4) so every part of the server can handle it; flagged expired, so none is ever sent. */
static int
placeholder(const struct config_zone *cz, const struct zone_steer *steered, size_t n,
            struct zone **out, char err[ZONE_ERR_MAX])
{
    struct zone_records r;
    uint8_t origin[DNAME_MAX_LEN], rd[64];
    const uint8_t invalid[] = "\7invalid";
    zone_records_init(&r);
    dname_from_text(cz->origin, origin);
    memcpy(rd, invalid, sizeof(invalid));
    memcpy(rd + sizeof(invalid), invalid, sizeof(invalid));
    memset(rd + 2 * sizeof(invalid), 0, 20);
    zone_records_add(&r, origin, DNS_TYPE_SOA, 0, rd, (uint16_t)(2 * sizeof(invalid) + 20));
    zone_records_add(&r, origin, DNS_TYPE_NS, 0, invalid, sizeof(invalid));
    int rc = zone_build(cz->origin, cz->file, &r, steered, n, NULL, out, err);
    zone_records_fini(&r);
    if (rc == 0)
        (*out)->expired = true;
    return rc;
}

/* The state of secondary entry cz, made at its first load (from the disk copy, if any). */
static struct secondary_zone *
state_of(const struct config_zone *cz, int64_t now)
{
    uint8_t origin[DNAME_MAX_LEN];
    dname_from_text(cz->origin, origin);
    dname_lower_copy(origin, origin);
    struct secondary_zone *z = zone_get(origin, true);
    pthread_mutex_lock(&lock);
    bool first = !z->timers_set;
    pthread_mutex_unlock(&lock);
    if (first)
        load_disk_copy(z, cz, now);
    pthread_mutex_lock(&lock);
    if (!z->timers_set) {
        xfr_refresh_init(&z->timers, now);
        z->timers_set = true;
    }
    pthread_mutex_unlock(&lock);
    return z;
}

const struct zone_records *
secondary_records_hold(const struct config_zone *cz, uint32_t *serial, void **hold)
{
    struct secondary_zone *z = state_of(cz, snapshot_now());
    pthread_mutex_lock(&lock);
    struct version *v = z->version;
    if (v)
        atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&lock);
    *hold = v;
    *serial = v ? v->serial : 0;
    return v ? &v->recs : NULL;
}

void
secondary_records_release(void *hold)
{
    version_unref(hold);
}

int
secondary_zone_load(const struct config_zone *cz, const struct zone_steer *steered,
                    size_t steered_count, struct zone **out, struct secondary_zone **state,
                    char err[ZONE_ERR_MAX])
{
    int64_t now = snapshot_now();
    struct secondary_zone *z = state_of(cz, now);
    *state = z;
    pthread_mutex_lock(&lock);
    struct version *v = z->version;
    if (v)
        atomic_fetch_add(&v->refs, 1);
    bool expired = xfr_refresh_expired(&z->timers, now);
    z->published_expired = expired;
    pthread_mutex_unlock(&lock);
    const struct zone_limits limits = {.max_records = cz->max_records,
                                       .max_bytes = cz->max_bytes};
    int rc = v && !expired ? zone_build(cz->origin, cz->file, &v->recs, steered, steered_count,
                                        &limits, out, err)
                           : placeholder(cz, steered, steered_count, out, err);
    version_unref(v);
    return rc;
}

/* --- the thread --------------------------------------------------------------------------- */

/* RFC 9432 §4.2.1, §4.3: a new version of a catalog that is broken (version, two PTRs at a
 * member node) is not applied. Refused as a failed transfer, the previous version and its
 * members stay, on disk too, and the retry timer asks again. */
static void
refuse_broken_catalog(const struct secondary_zone *z, struct secondary_fetch *f)
{
    struct xfr_catalog cat;
    char err[XFR_CATALOG_ERR_MAX];
    if (xfr_catalog_read(z->origin, &f->recs, &cat, err) == 0) {
        xfr_catalog_fini(&cat);
        return;
    }
    log_error("catalog %s: serial %u refused: %s; the previous version and its member zones "
              "stay",
              z->origin_text, f->serial, err);
    snprintf(f->err, sizeof(f->err), "serial %u is not a catalog we can apply: %s", f->serial,
             err);
    zone_records_fini(&f->recs);
    f->outcome = SECONDARY_FAILED;
}

/* One refresh of z: its primaries in order until one answers. */
static void
refresh_zone(struct secondary_zone *z, int64_t now)
{
    pthread_mutex_lock(&lock);
    size_t count = z->primary_count;
    struct primary *ps = xmalloc((count ? count : 1) * sizeof(*ps));
    memcpy(ps, z->primaries, count * sizeof(*ps));
    struct version *base = z->version;
    if (base)
        atomic_fetch_add(&base->refs, 1);
    char *file = xstrdup(z->file ? z->file : "");
    bool catalog = z->catalog;
    struct zone_limits limits = z->limits;
    pthread_mutex_unlock(&lock);

    bool force = atomic_exchange(&z->axfr_wanted, false);
    struct secondary_fetch f = {0};
    for (size_t i = 0; i < count; i++) {
        struct primary *p = &ps[i];
        struct tsig_keyring *ring = NULL;
        if (p->has_key) {
            ring = tsig_keyring_new();
            if (tsig_keyring_add(ring, p->key_name, p->algorithm, p->secret, p->secret_len) < 0)
                abort(); /* one key in a new ring */
        }
        f = (struct secondary_fetch){
            .origin = z->origin,
            .origin_text = z->origin_text,
            .addr = (const struct sockaddr *)&p->addr,
            .addr_len = p->addr_len,
            .addr_text = p->text,
            .key = ring ? tsig_keyring_find(ring, p->key_name) : NULL,
            .base = base ? &base->recs : NULL,
            .base_serial = base ? base->serial : 0,
            .force_axfr = force,
            .cancel_fd = stop_fd,
            .limits = &limits,
        };
        secondary_fetch(&f);
        tsig_keyring_free(ring);
        if (f.outcome == SECONDARY_NEW)
            log_info("zone %s: %s from %s: new version, serial %u", z->origin_text, f.kind,
                     p->text, f.serial);
        else if (f.outcome == SECONDARY_UP_TO_DATE) /* every refresh period: not news */
            log_debug("zone %s: %s from %s: up to date, serial %u", z->origin_text, f.kind,
                      p->text, f.serial);
        if (f.outcome != SECONDARY_FAILED || atomic_load(&stopping))
            break;
        log_warning("zone %s: refresh from %s failed (%s): %s", z->origin_text, p->text, f.kind,
                    f.err);
    }
    if (f.outcome == SECONDARY_NEW && catalog)
        refuse_broken_catalog(z, &f);
    struct version *nv = f.outcome == SECONDARY_NEW ? version_new(&f.recs) : NULL;
    if (nv) {
        char comment[DNAME_TEXT_MAX + 100], err[ZONE_ERR_MAX];
        snprintf(comment, sizeof(comment), "zone %s serial %u, %s from a primary (meridiand)",
                 z->origin_text, nv->serial, f.kind);
        if (file[0] && zone_records_write(&nv->recs, comment, file, err) < 0)
            log_error("zone %s: the new version is served but not saved: %s", z->origin_text,
                      err);
    } else if (f.outcome == SECONDARY_UP_TO_DATE && file[0]) {
        /* The copy on disk is confirmed: its age counts from now after a restart. */
        (void)utimensat(AT_FDCWD, file, NULL, 0);
    }
    pthread_mutex_lock(&lock);
    uint32_t timers[4];
    z->last_at = now;
    snprintf(z->last_kind, sizeof(z->last_kind), "%s", f.kind);
    if (f.outcome == SECONDARY_FAILED) {
        snprintf(z->last_result, sizeof(z->last_result), "failed: %s",
                 count ? f.err : "no primaries");
        xfr_refresh_failed(&z->timers, now);
    } else {
        if (nv) {
            version_unref(z->version);
            z->version = nv;
        }
        snprintf(z->last_result, sizeof(z->last_result), "%s serial %u",
                 nv ? "ok: new version" : "ok: up to date", f.serial);
        if (z->version) {
            version_timers(z->version, timers);
            xfr_refresh_done(&z->timers, timers, now, now);
        }
    }
    pthread_mutex_unlock(&lock);
    version_unref(base);
    free(ps);
    free(file);
    if (nv)
        kill(getpid(), SIGUSR1); /* the main thread publishes it (lifecycle.c) */
}

/* The directory of a catalog's member copies: its own copy's path without ".zone", then
 * ".members" (config_zone_add_member's callers put them there: server/catalog.c). */
static void
members_directory(const char *catalog_file, char *out, size_t out_size)
{
    size_t n = strlen(catalog_file);
    if (n > 5 && strcmp(catalog_file + n - 5, ".zone") == 0)
        n -= 5;
    snprintf(out, out_size, "%.*s.members", (int)n, catalog_file);
}

/* A member that left catalog c (RFC 9432 §5.2: "removed from the catalog ... the member zone
 * is no longer served"): its version is dropped and its copy deleted, so that coming back
 * starts from a fresh transfer. Then the copies in c's members directory that no active
 * member owns (removed while we were down) go too. The transfer thread: it writes the copies,
 * so a copy being written cannot be deleted half-way. */
static void
sweep(struct secondary_zone *c)
{
    char dir[4096];
    pthread_mutex_lock(&lock);
    members_directory(c->file ? c->file : "", dir, sizeof(dir));
    bool on = c->active && c->file;
    for (struct secondary_zone *z = zones; on && z; z = z->next) {
        if (z->active || strcmp(z->member_of, c->origin_text) != 0 || !z->file)
            continue;
        if (z->busy) { /* its refresher may be writing the copy: after it is done */
            atomic_store(&c->sweep_wanted, true);
            continue;
        }
        if (z->version || z->timers.refreshed_at)
            log_info("zone %s: no longer in catalog %s: not served, its copy %s removed",
                     z->origin_text, c->origin_text, z->file);
        if (unlink(z->file) < 0 && errno != ENOENT)
            log_warning("zone %s: cannot remove %s: %s", z->origin_text, z->file,
                        strerror(errno));
        version_unref(z->version);
        z->version = NULL;
        z->timers_set = false;
        xfr_refresh_init(&z->timers, snapshot_now());
        z->last_at = 0;
        z->member_of[0] = 0;
    }
    DIR *d = on ? opendir(dir) : NULL;
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".zone") != 0)
            continue;
        char path[4096 + 256];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        bool owned = false;
        for (struct secondary_zone *z = zones; z && !owned; z = z->next)
            owned = (z->active || z->busy) && z->file && strcmp(z->file, path) == 0;
        if (owned)
            continue;
        log_info("catalog %s: %s is the copy of no member zone: removed", c->origin_text, path);
        if (unlink(path) < 0)
            log_warning("catalog %s: cannot remove %s: %s", c->origin_text, path,
                        strerror(errno));
    }
    if (d)
        closedir(d);
    pthread_mutex_unlock(&lock);
}

/* The first zone due for a refresh that no other thread is refreshing, claimed (busy), or
 * NULL; *next gets the earliest time anything is due among the others, *publish whether an
 * expiry changed what must be served. Under lock. */
static struct secondary_zone *
claim_due(int64_t now, int64_t *next, bool *publish)
{
    for (struct secondary_zone *z = zones; z; z = z->next) {
        if (!z->active || z->busy)
            continue; /* a busy zone's timers are its refresher's until it is done */
        if (atomic_exchange(&z->refresh_wanted, false))
            xfr_refresh_now(&z->timers, now);
        if (z->timers.next <= now) {
            z->busy = true;
            return z;
        }
        /* RFC 1035 §3.3.13: past expire the zone is no longer served (and a zone that comes
         * back is served again): the next load decides from the timers. */
        if (z->version && xfr_refresh_expired(&z->timers, now) != z->published_expired)
            *publish = true;
        int64_t w = xfr_refresh_wake(&z->timers, now);
        if (w < *next)
            *next = w;
    }
    return NULL;
}

/* Each transfer thread: takes the first zone due that no other thread has, refreshes it, and
 * looks again; with nothing to take it sleeps until the earliest due time or a wake-up. Before
 * a refresh it wakes the other threads, so that zones due together (a catalog's new members)
 * are refreshed SECONDARY_THREADS at a time and a primary that does not answer holds one
 * thread, not every zone. */
static void *
run(void *arg)
{
    (void)arg;
    while (!atomic_load(&stopping)) {
        int64_t now = snapshot_now(), next = now + 3600;
        bool publish = false;
        pthread_mutex_lock(&lock);
        struct secondary_zone *head = zones;
        pthread_mutex_unlock(&lock);
        for (struct secondary_zone *z = head; z; z = z->next)
            if (atomic_exchange(&z->sweep_wanted, false))
                sweep(z);
        pthread_mutex_lock(&lock);
        struct secondary_zone *due = claim_due(now, &next, &publish);
        pthread_mutex_unlock(&lock);
        if (publish)
            kill(getpid(), SIGUSR1);
        if (due) {
            wake(); /* another thread may take the next zone due */
            refresh_zone(due, now);
            pthread_mutex_lock(&lock);
            due->busy = false;
            pthread_mutex_unlock(&lock);
            continue;
        }
        int64_t wait_s = next - snapshot_now();
        struct pollfd p = {.fd = wake_fd, .events = POLLIN};
        /* Stopping: the count is left up, so every thread's poll returns at once. */
        if (poll(&p, 1, wait_s <= 0 ? 200 : wait_s > 3600 ? 3600000 : (int)wait_s * 1000) > 0 &&
            !atomic_load(&stopping)) {
            uint64_t v;
            (void)!read(wake_fd, &v, sizeof(v));
        }
    }
    return NULL;
}

/* Copies a config zone's primaries and their keys for the thread. */
static void
set_primaries(struct secondary_zone *z, const struct config *cfg, const struct config_zone *cz)
{
    static const enum tsig_algorithm algorithms[] = {
        [CONFIG_TSIG_HMAC_SHA256] = TSIG_HMAC_SHA256,
        [CONFIG_TSIG_HMAC_SHA384] = TSIG_HMAC_SHA384,
        [CONFIG_TSIG_HMAC_SHA512] = TSIG_HMAC_SHA512,
    };
    struct primary *ps = xcalloc(cz->primary_count, sizeof(*ps));
    for (size_t k = 0; k < cz->primary_count; k++) {
        const struct config_primary *cp = &cz->primaries[k];
        ps[k].addr = cp->addr;
        ps[k].addr_len = cp->addr_len;
        snprintf(ps[k].text, sizeof(ps[k].text), "%s", cp->text);
        const struct config_tsig_key *key = cp->key ? config_tsig_key_find(cfg, cp->key) : NULL;
        if (key && key->secret_len <= sizeof(ps[k].secret)) {
            ps[k].has_key = true;
            memcpy(ps[k].key_name, key->name_wire, sizeof(ps[k].key_name));
            ps[k].algorithm = algorithms[key->algorithm];
            memcpy(ps[k].secret, key->secret, key->secret_len);
            ps[k].secret_len = key->secret_len;
        }
    }
    if (z->primaries)
        explicit_bzero(z->primaries, z->primary_count * sizeof(*z->primaries));
    free(z->primaries);
    z->primaries = ps;
    z->primary_count = cz->primary_count;
    z->limits = (struct zone_limits){.max_records = cz->max_records, .max_bytes = cz->max_bytes};
    free(z->file);
    z->file = xstrdup(cz->file);
    z->active = true;
    z->catalog = cz->catalog;
    z->member_of[0] = 0;
    uint8_t catalog[DNAME_MAX_LEN];
    if (cz->member_of && dname_from_text(cz->member_of, catalog) > 0) {
        dname_lower_copy(catalog, catalog);
        dname_to_text(catalog, z->member_of, sizeof(z->member_of));
    }
}

void
secondary_published(const struct snapshot *snap)
{
    const struct config *cfg = snap->cfg;
    bool any = false;
    /* One lock section: a sweep must never see a zone that stays active as inactive. */
    pthread_mutex_lock(&lock);
    for (struct secondary_zone *z = zones; z; z = z->next)
        z->active = false;
    for (size_t i = 0; i < cfg->zone_count; i++) {
        const struct config_zone *cz = &cfg->zones[i];
        if (!cz->primaries)
            continue;
        struct secondary_zone *z = snap->secondaries[i];
        set_primaries(z, cfg, cz);
        if (cz->catalog) /* members may have left it */
            atomic_store(&z->sweep_wanted, true);
        any = true;
    }
    pthread_mutex_unlock(&lock);
    if (!any || running) {
        wake();
        return;
    }
    if (wake_fd < 0)
        wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (stop_fd < 0)
        stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0 || stop_fd < 0) {
        log_error("secondary zones: cannot start the transfer threads: %s", strerror(errno));
        return;
    }
    for (; running < SECONDARY_THREADS; running++) {
        int rc = pthread_create(&threads[running], NULL, run, NULL);
        if (rc != 0) { /* fewer threads still refresh every zone, more slowly */
            log_error("secondary zones: transfer thread %zu of %d not started: %s",
                      running + 1, SECONDARY_THREADS, strerror(rc));
            break;
        }
    }
}

/* --- NOTIFY, commands, status ------------------------------------------------------------ */

/* Same IP address (the port a NOTIFY comes from is not the one we transfer from). */
static bool
same_host(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (!a || a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                      &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
    return a->sa_family == AF_INET6 &&
           memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

bool
secondary_notify(const void *ctx, const struct zone *zone, const struct sockaddr *from,
                 const struct tsig_key *key)
{
    const struct snapshot *snap = ctx;
    const struct config *cfg = snap->cfg;
    for (size_t i = 0; i < snap->zones->count; i++) {
        if (snap->zones->zones[i] != zone)
            continue;
        const struct config_zone *cz = &cfg->zones[i];
        for (size_t k = 0; k < cz->primary_count; k++) {
            const struct config_primary *p = &cz->primaries[k];
            if (!same_host(from, &p->addr))
                continue;
            /* RFC 1996 §3.10 and RFC 8945: a primary with a key notifies with it. */
            const struct config_tsig_key *ck = p->key ? config_tsig_key_find(cfg, p->key) : NULL;
            if (ck && (!key || !dname_equal(tsig_key_name(key), ck->name_wire)))
                continue;
            atomic_store(&snap->secondaries[i]->refresh_wanted, true);
            wake();
            return true;
        }
        return false;
    }
    return false;
}

int
secondary_request(const char *zone, bool full, char *err, size_t err_size)
{
    uint8_t origin[DNAME_MAX_LEN];
    struct secondary_zone *z = NULL;
    if (dname_from_text(zone, origin) > 0)
        z = zone_get(origin, false);
    pthread_mutex_lock(&lock);
    bool active = z && z->active;
    pthread_mutex_unlock(&lock);
    if (!active) {
        snprintf(err, err_size, "no secondary zone %s (an entry with `primaries:`)", zone);
        return -1;
    }
    if (full)
        atomic_store(&z->axfr_wanted, true);
    atomic_store(&z->refresh_wanted, true);
    wake();
    return 0;
}

static void
print_time(FILE *out, const char *what, int64_t t, int64_t now)
{
    char text[32];
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (t >= now)
        fprintf(out, "%s: %s (in %lld s)\n", what, text, (long long)(t - now));
    else
        fprintf(out, "%s: %s (%lld s ago)\n", what, text, (long long)(now - t));
}

void
secondary_status(const uint8_t *origin, FILE *out)
{
    struct secondary_zone *z = zone_get(origin, false);
    if (!z)
        return;
    int64_t now = snapshot_now();
    pthread_mutex_lock(&lock);
    if (z->version)
        fprintf(out, "secondary_serial: %u\n", z->version->serial);
    else
        fprintf(out, "secondary_serial: none (not transferred yet)\n");
    if (z->member_of[0])
        fprintf(out, "catalog_member_of: %s\n", z->member_of);
    if (z->catalog) {
        /* RFC 9432: the zones this catalog made secondaries of, as last published. */
        size_t members = 0;
        for (struct secondary_zone *m = zones; m; m = m->next)
            members += m->active && strcmp(m->member_of, z->origin_text) == 0;
        fprintf(out, "catalog_members: %zu\n", members);
        for (struct secondary_zone *m = zones; m; m = m->next)
            if (m->active && strcmp(m->member_of, z->origin_text) == 0)
                fprintf(out, "catalog_member: %s\n", m->origin_text);
    }
    fprintf(out, "primaries:");
    for (size_t k = 0; k < z->primary_count; k++)
        fprintf(out, " %s%s", z->primaries[k].text, z->primaries[k].has_key ? " (TSIG)" : "");
    fprintf(out, "\n");
    if (z->last_at) {
        print_time(out, "last_transfer", z->last_at, now);
        fprintf(out, "last_transfer_kind: %s\nlast_transfer_result: %s\n", z->last_kind,
                z->last_result);
    } else {
        fprintf(out, "last_transfer: none\n");
    }
    print_time(out, "next_refresh", z->timers.next, now);
    if (!z->version)
        fprintf(out, "expires: expired (no data: SERVFAIL)\n");
    else if (xfr_refresh_expired(&z->timers, now))
        fprintf(out, "expires: expired (SERVFAIL)\n");
    else
        print_time(out, "expires", z->timers.expires_at, now);
    pthread_mutex_unlock(&lock);
}

void
secondary_stop(void)
{
    if (running) {
        atomic_store(&stopping, true);
        wake();
        uint64_t one = 1;
        (void)!write(stop_fd, &one, sizeof(one));
        for (size_t i = 0; i < running; i++)
            pthread_join(threads[i], NULL);
        running = 0;
    }
    if (wake_fd >= 0)
        close(wake_fd);
    if (stop_fd >= 0)
        close(stop_fd);
    wake_fd = stop_fd = -1;
    pthread_mutex_lock(&lock);
    while (zones) {
        struct secondary_zone *next = zones->next;
        version_unref(zones->version);
        if (zones->primaries)
            explicit_bzero(zones->primaries, zones->primary_count * sizeof(*zones->primaries));
        free(zones->primaries);
        free(zones->file);
        free(zones);
        zones = next;
    }
    pthread_mutex_unlock(&lock);
    atomic_store(&stopping, false);
}
