// SPDX-License-Identifier: MIT
/* The secondary role in meridiand (see secondary.h). Each secondary origin has a state that
 * lives until exit: its latest accepted version (reference-counted records, read by the main
 * thread while it compiles a snapshot), its SOA timers, its primaries as the last published
 * config gave them (keys copied: the thread holds no snapshot) and its last transfer, all
 * under one mutex; NOTIFY and the control commands only set atomic flags and write to an
 * eventfd, so a worker never waits. The thread sleeps in poll() on that eventfd until the
 * earliest refresh or expiry, refreshes what is due (one zone at a time: a transfer blocks
 * only this thread), and raises SIGUSR1 when something must be published: a new version,
 * an expiry, or a zone coming back. */
#include "server/secondary.h"

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
    /* Under lock: */
    struct version *version;
    struct xfr_refresh timers;
    bool timers_set;
    bool published_expired; /* what the last snapshot load served */
    bool active;            /* in the last published config */
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
static pthread_t thread;
static bool running;
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

int
secondary_zone_load(const struct config_zone *cz, const struct zone_steer *steered,
                    size_t steered_count, struct zone **out, struct secondary_zone **state,
                    char err[ZONE_ERR_MAX])
{
    uint8_t origin[DNAME_MAX_LEN];
    int64_t now = snapshot_now();
    dname_from_text(cz->origin, origin);
    dname_lower_copy(origin, origin);
    struct secondary_zone *z = zone_get(origin, true);
    *state = z;
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
        if (f.outcome != SECONDARY_FAILED)
            break;
        log_warning("zone %s: refresh from %s failed (%s): %s", z->origin_text, p->text, f.kind,
                    f.err);
    }
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
        for (struct secondary_zone *z = head; z && !atomic_load(&stopping); z = z->next) {
            pthread_mutex_lock(&lock);
            bool active = z->active;
            if (active && atomic_exchange(&z->refresh_wanted, false))
                xfr_refresh_now(&z->timers, now);
            bool due = active && z->timers.next <= now;
            pthread_mutex_unlock(&lock);
            if (due)
                refresh_zone(z, now);
            pthread_mutex_lock(&lock);
            now = snapshot_now();
            /* RFC 1035 §3.3.13: past expire the zone is no longer served (and a zone that
             * comes back is served again): the next load decides from the timers. */
            if (active && z->version && xfr_refresh_expired(&z->timers, now) != z->published_expired)
                publish = true;
            int64_t w = active ? xfr_refresh_wake(&z->timers, now) : next;
            if (w < next)
                next = w;
            pthread_mutex_unlock(&lock);
        }
        if (publish)
            kill(getpid(), SIGUSR1);
        int64_t wait_s = next - snapshot_now();
        struct pollfd p = {.fd = wake_fd, .events = POLLIN};
        if (poll(&p, 1, wait_s <= 0 ? 200 : wait_s > 3600 ? 3600000 : (int)wait_s * 1000) > 0) {
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
}

void
secondary_published(const struct snapshot *snap)
{
    const struct config *cfg = snap->cfg;
    bool any = false;
    pthread_mutex_lock(&lock);
    for (struct secondary_zone *z = zones; z; z = z->next)
        z->active = false;
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < cfg->zone_count; i++) {
        const struct config_zone *cz = &cfg->zones[i];
        if (!cz->primaries)
            continue;
        struct secondary_zone *z = snap->secondaries[i];
        pthread_mutex_lock(&lock);
        set_primaries(z, cfg, cz);
        pthread_mutex_unlock(&lock);
        any = true;
    }
    if (!any || running) {
        wake();
        return;
    }
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0 || pthread_create(&thread, NULL, run, NULL) != 0) {
        log_error("secondary zones: cannot start the transfer thread: %s", strerror(errno));
        return;
    }
    running = true;
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
        pthread_join(thread, NULL);
        running = false;
    }
    if (wake_fd >= 0)
        close(wake_fd);
    wake_fd = -1;
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
