// SPDX-License-Identifier: MIT
/* Building and freeing snapshots (see snapshot.h): config, then the GeoIP database, then the
 * policies, then the zones (each told which policies answer inside it, so steered names get
 * nodes that point at their policy), then the health specs and the TSIG key ring. Runs on
 * the main thread. */
#include "server/snapshot.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include <urcu.h>

#include "common/alloc.h"
#include "common/dnswire.h"
#include "common/log.h"
#include "dnssec/dnssec_sigstore.h"
#include "server/catalog.h"
#include "server/secondary.h"
#include "server/steer_sign.h"
#include "server/xfr_serve.h"

static struct snapshot *current; /* RCU-protected */
static time_t (*clock_fn)(void);  /* NULL: time(); set before any thread starts */

void
snapshot_set_clock(time_t (*clock)(void))
{
    clock_fn = clock;
}

time_t
snapshot_now(void)
{
    return clock_fn ? clock_fn() : time(NULL);
}
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot_reload last_reload;
static uint64_t reloads_started; /* under reload_lock */
static struct snapshot_reload_history history; /* under reload_lock; last[] newest first */

struct snapshot *
snapshot_current_get(void)
{
    return rcu_dereference(current);
}

struct snapshot *
snapshot_publish(struct snapshot *snap)
{
    return rcu_xchg_pointer(&current, snap);
}

uint64_t
snapshot_reload_begin(void)
{
    pthread_mutex_lock(&reload_lock);
    uint64_t seq = ++reloads_started;
    pthread_mutex_unlock(&reload_lock);
    return seq;
}

uint64_t
snapshot_reloads_started(void)
{
    pthread_mutex_lock(&reload_lock);
    uint64_t seq = reloads_started;
    pthread_mutex_unlock(&reload_lock);
    return seq;
}

void
snapshot_record_reload(bool ok, const char *message)
{
    pthread_mutex_lock(&reload_lock);
    last_reload.at = snapshot_now();
    last_reload.ok = ok;
    last_reload.seq = reloads_started;
    snprintf(last_reload.message, sizeof(last_reload.message), "%s", message ? message : "");
    if (ok)
        history.ok++;
    else
        history.failed++;
    memmove(&history.last[1], &history.last[0],
            (SNAPSHOT_RELOADS_KEPT - 1) * sizeof(history.last[0]));
    history.last[0] = last_reload;
    if (history.count < SNAPSHOT_RELOADS_KEPT)
        history.count++;
    pthread_mutex_unlock(&reload_lock);
}

void
snapshot_reload_history(struct snapshot_reload_history *out)
{
    pthread_mutex_lock(&reload_lock);
    *out = history;
    pthread_mutex_unlock(&reload_lock);
}

struct snapshot_reload
snapshot_last_reload(void)
{
    pthread_mutex_lock(&reload_lock);
    struct snapshot_reload r = last_reload;
    pthread_mutex_unlock(&reload_lock);
    return r;
}

/* One health spec per health target of the policies: its check and what to probe. */
static int
build_health_specs(struct snapshot *snap, char err[CONFIG_ERR_MAX])
{
    const struct policy_set *set = snap->policies;
    const struct config *cfg = snap->cfg;
    if (!set || set->health_count == 0)
        return 0;
    snap->health_count = set->health_count;
    snap->health_specs = xcalloc(set->health_count, sizeof(*snap->health_specs));
    for (uint32_t id = 0; id < set->health_count; id++) {
        const struct policy_health_target *t = &set->health_targets[id];
        struct health_spec *spec = &snap->health_specs[id];
        spec->key = t->key;
        spec->wait_at_startup = t->wait_at_startup;
        spec->config_down = t->config_down;
        spec->target.text = t->text;
        if (t->member->target) {
            spec->target.name = t->member->target;
        } else {
            spec->target.family = t->member->address.family;
            memcpy(spec->target.addr, t->member->address.addr, sizeof(spec->target.addr));
        }
        for (size_t c = 0; t->member->check && c < cfg->check_count; c++)
            if (strcmp(cfg->checks[c].name, t->member->check) == 0)
                spec->check = &cfg->checks[c];
        if (t->member->check && !spec->check) {
            snprintf(err, CONFIG_ERR_MAX, "%s:%d: unknown check '%s'", cfg->path,
                     t->member->line, t->member->check);
            return -1;
        }
    }
    return 0;
}

/* The config zone whose origin is the longest suffix of `name` (lowercased wire), or -1. */
static int
zone_for_name(const struct config *cfg, const uint8_t *const *origins, const uint8_t *name)
{
    int best = -1, best_labels = -1;
    for (size_t i = 0; i < cfg->zone_count; i++) {
        int labels = dname_label_count(origins[i]);
        if (labels > best_labels && dname_is_subdomain(name, origins[i])) {
            best = (int)i;
            best_labels = labels;
        }
    }
    return best;
}

static int
load_geo(struct snapshot *snap, char err[CONFIG_ERR_MAX])
{
    const struct config *cfg = snap->cfg;
    if (!cfg->geoip_database)
        return 0;
    const struct geo_paths paths = {
        .country = (const char *const *)cfg->geoip_country_path,
        .continent = (const char *const *)cfg->geoip_continent_path,
        .subdivision = (const char *const *)cfg->geoip_subdivision_path,
        .latitude = (const char *const *)cfg->geoip_latitude_path,
        .longitude = (const char *const *)cfg->geoip_longitude_path,
    };
    char gerr[GEO_ERR_MAX];
    if (geo_db_load(cfg->geoip_database, &paths, &snap->geo, gerr) < 0) {
        snprintf(err, CONFIG_ERR_MAX, "%.150s:%d: geoip: %.300s", cfg->path, cfg->geoip_line,
                 gerr);
        return -1;
    }
    return 0;
}

static void
zone_error(char err[CONFIG_ERR_MAX], const struct config *cfg, const struct config_zone *cz,
           const char *zerr)
{
    /* An error without a line in the zone (it could not be opened) is located at the zone's
     * entry in the config instead. */
    size_t flen = cz->file ? strlen(cz->file) : 0; /* a produced catalog has none */
    if (flen && strncmp(zerr, cz->file, flen) == 0 && strncmp(zerr + flen, ": ", 2) == 0)
        snprintf(err, CONFIG_ERR_MAX, "%.150s:%d: zone %.80s: %.250s", cfg->path, cz->line,
                 cz->origin, zerr);
    else
        snprintf(err, CONFIG_ERR_MAX, "%s", zerr);
}

/* What a zone compiler is told of a policy: its name, index and the types it answers. */
static void
steer_of(const struct config *cfg, const struct policy_set *set, uint32_t i, char *where,
         size_t where_size, struct zone_steer *out)
{
    const struct policy_service *svc = &set->services[i];
    snprintf(where, where_size, "%.200s:%d: service %.260s", cfg->path, cfg->services[i].line,
             cfg->services[i].name);
    *out = (struct zone_steer){
        .name = svc->owner,
        .index = (uint16_t)i,
        .types = (uint8_t)(svc->cname ? ZONE_STEER_CNAME
                                      : (svc->has_v4 ? ZONE_STEER_A : 0) |
                                            (svc->has_v6 ? ZONE_STEER_AAAA : 0)),
        .where = where,
    };
}

/* The version of `origin` the running server serves, whose unchanged signatures a reload
 * reuses. Main thread: the only one that publishes, so it may read `current` without the
 * RCU read side. */
static const struct zone *
serving_zone(const uint8_t *origin)
{
    const struct snapshot *cur = rcu_dereference(current);
    const struct zone *z = cur && cur->zones ? zone_set_find(cur->zones, origin) : NULL;
    return z && dname_equal(z->origin, origin) ? z : NULL;
}

/* Signs a zone with `dnssec` on (RFC 4035 §2): keys, NSEC3 chain, RRSIGs. A zone that cannot
 * be signed fails the load: it is never served unsigned in place of a signed one. */
static int
sign_zone(struct snapshot *snap, size_t i, struct zone *zone, char err[CONFIG_ERR_MAX])
{
    const struct config *cfg = snap->cfg;
    const struct config_zone *cz = &cfg->zones[i];
    const struct config_dnssec *d = &cz->dnssec;
    struct dnssec_sign_params p = {
        .key_directory = d->key_directory,
        .algorithm = d->algorithm,
        .split_keys = d->keys == CONFIG_DNSSEC_KSK_ZSK,
        .validity_s = d->validity_ms / 1000,
        .refresh_s = d->refresh_ms / 1000,
        .nsec3 = {.iterations = d->nsec3_iterations, .salt_len = d->nsec3_salt_len},
        .now = snapshot_now(),
        .previous = serving_zone(zone->origin),
        .variants = steer_sign_expected(snap->policies, zone),
    };
    memcpy(p.nsec3.salt, d->nsec3_salt, d->nsec3_salt_len);
    char derr[DNSSEC_ERR_MAX];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* A start (or a zone new to this run): the signatures the last run served, if kept. A
     * store that cannot be used costs only the time to sign anew. */
    struct dnssec_sigstore *stored = NULL;
    if (!p.previous && dnssec_sigstore_load(d->key_directory, zone->origin, &stored, derr) < 0)
        log_warning("zone %s: signatures kept from the last run not used (the zone is signed "
                    "anew): %s",
                    cz->origin, derr);
    p.stored = snap->sigstores[i] = stored;
    if (dnssec_zone_sign(zone, &p, &snap->signed_zones[i], derr) < 0) {
        snprintf(err, CONFIG_ERR_MAX, "%.150s:%d: zone %.80s: dnssec: %.250s", cfg->path, d->line,
                 cz->origin, derr);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const struct dnssec_zone *dz = snap->signed_zones[i];
    char serial[64] = "";
    if (zone->serial != dz->file_serial)
        snprintf(serial, sizeof(serial), " (the zone file has %u)", dz->file_serial);
    log_info("zone %s signed: serial %u%s, %u RRsets signed, %u reused%s, %u NSEC3 records, "
             "%.3f s",
             cz->origin, zone->serial, serial, dz->signed_rrsets, dz->reused_rrsets,
             p.stored ? " (kept from the last run)" : "", dz->chain.count,
             (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}

/* A primary zone served unsigned that was signed before. Signing raised the served serial
 * above the file's (dnssec_zone.h), and secondaries would not fetch the unsigned zone under a
 * lower one (RFC 1034 §4.3.5): it is served as the signed version's serial + 1 until the
 * file's is newer. The signature store keeps that floor across restarts, emptied of its
 * signatures (small), and goes once the file has taken the numbering back. */
static void
unsigned_serial(const struct config_zone *cz, struct zone *zone)
{
    const struct zone *prev = serving_zone(zone->origin);
    const char *dir = cz->dnssec.key_directory;
    struct dnssec_sigstore *stored = NULL;
    char derr[DNSSEC_ERR_MAX];
    uint32_t floor;
    bool was_signed;
    if (prev && prev->dnssec) {
        floor = prev->serial;
        was_signed = true;
    } else {
        /* No store: never signed (or the operator removed it). A damaged one: warned about
         * at the last signing; nothing to go by. */
        if (!dir || dnssec_sigstore_load(dir, zone->origin, &stored, derr) < 0 || !stored)
            return;
        floor = dnssec_sigstore_serial(stored);
        was_signed = dnssec_sigstore_count(stored) > 0;
        dnssec_sigstore_free(stored);
    }
    if (dnswire_serial_before(floor, zone->serial)) {
        if (dnssec_sigstore_remove(dir, zone->origin, derr) < 0)
            log_warning("zone %s: %s", cz->origin, derr);
        return;
    }
    uint32_t serial = was_signed ? floor + 1 : floor;
    if (serial != zone->serial)
        log_warning("zone %s is no longer signed: served as serial %u, above the signed "
                    "version's (the zone file has %u: give it a higher serial to take the "
                    "numbering back)",
                    cz->origin, serial, zone->serial);
    zone_set_serial(zone, serial);
    if (was_signed && dnssec_sigstore_save(dir, zone, NULL, 0, derr) < 0)
        log_warning("zone %s: %s", cz->origin, derr);
}

/* Loads every zone, each told which of the (already built) policies answer inside it. */
static int
load_zones(struct snapshot *snap, char err[CONFIG_ERR_MAX])
{
    const struct config *cfg = snap->cfg;
    const struct policy_set *set = snap->policies;
    uint32_t policies = set ? set->count : 0;
    int rc = -1;
    uint8_t **origins = xcalloc(cfg->zone_count, sizeof(*origins));
    int *owner_zone = xcalloc(policies + 1, sizeof(*owner_zone));
    struct zone_steer *steers = xcalloc(policies + 1, sizeof(*steers));
    char(*where)[512] = xcalloc(policies + 1, sizeof(*where));
    struct zone **zones = xcalloc(cfg->zone_count, sizeof(*zones));

    snap->signed_zones = xcalloc(cfg->zone_count, sizeof(*snap->signed_zones));
    snap->sigstores = xcalloc(cfg->zone_count, sizeof(*snap->sigstores));
    snap->secondaries = xcalloc(cfg->zone_count, sizeof(*snap->secondaries));
    if (policies >= UINT16_MAX) {
        snprintf(err, CONFIG_ERR_MAX, "%s: %u services; at most %u are supported", cfg->path,
                 policies, UINT16_MAX - 1);
        goto out;
    }
    for (size_t i = 0; i < cfg->zone_count; i++) {
        origins[i] = xmalloc(DNAME_MAX_LEN);
        if (dname_from_text(cfg->zones[i].origin, origins[i]) < 0) {
            snprintf(err, CONFIG_ERR_MAX, "%s:%d: bad zone origin", cfg->path, cfg->zones[i].line);
            goto out;
        }
        dname_lower_copy(origins[i], origins[i]);
    }
    for (uint32_t s = 0; s < policies; s++) {
        owner_zone[s] = zone_for_name(cfg, (const uint8_t *const *)origins, set->services[s].owner);
        if (owner_zone[s] < 0) {
            snprintf(err, CONFIG_ERR_MAX, "%s:%d: service %s is not inside any configured zone",
                     cfg->path, cfg->services[s].line, cfg->services[s].name);
            goto out;
        }
    }
    for (size_t i = 0; i < cfg->zone_count; i++) {
        size_t n = 0;
        for (uint32_t s = 0; s < policies; s++) {
            if (owner_zone[s] == (int)i) {
                steer_of(cfg, set, s, where[n], sizeof(where[n]), &steers[n]);
                n++;
            }
        }
        char zerr[ZONE_ERR_MAX];
        const struct config_zone *cz = &cfg->zones[i];
        const struct zone_limits limits = {.max_records = cz->max_records,
                                           .max_bytes = cz->max_bytes};
        /* A secondary zone comes from its latest transferred version (ARCHITECTURE.md §13). */
        int zrc = cz->primaries ? secondary_zone_load(cz, steers, n, &zones[i],
                                                      &snap->secondaries[i], zerr)
                  : cz->catalog_produce
                      ? catalog_produce_load(cfg, i, steers, n, &limits, &zones[i], zerr)
                      : zone_load_steered(cz->origin, cz->file, steers, n, &limits, &zones[i],
                                          zerr);
        if (zrc < 0) {
            zone_error(err, cfg, cz, zerr);
            goto out;
        }
        if (cz->dnssec.enabled) {
            if (sign_zone(snap, i, zones[i], err) < 0)
                goto out;
        } else if (!cz->primaries) {
            unsigned_serial(cz, zones[i]);
        }
        /* After the serial is final: the pre-made negative answer holds the SOA. */
        dns_negative_render(zones[i]);
        snap->record_count += zones[i]->record_count;
    }
    snap->zones = zone_set_new(zones, cfg->zone_count);
    zones = NULL;
    rc = 0;
out:
    if (zones) {
        for (size_t i = 0; i < cfg->zone_count; i++)
            zone_free(zones[i]);
        free(zones);
    }
    for (size_t i = 0; i < cfg->zone_count; i++)
        free(origins[i]);
    free(origins);
    free(owner_zone);
    free(steers);
    free(where);
    return rc;
}

/* The TSIG key ring (RFC 8945): each secret becomes its HMAC states here, once. */
static struct tsig_keyring *
load_tsig(const struct config *cfg)
{
    static const enum tsig_algorithm algorithms[] = {
        [CONFIG_TSIG_HMAC_SHA256] = TSIG_HMAC_SHA256,
        [CONFIG_TSIG_HMAC_SHA384] = TSIG_HMAC_SHA384,
        [CONFIG_TSIG_HMAC_SHA512] = TSIG_HMAC_SHA512,
    };
    if (cfg->tsig_key_count == 0)
        return NULL;
    struct tsig_keyring *ring = tsig_keyring_new();
    for (size_t i = 0; i < cfg->tsig_key_count; i++) {
        const struct config_tsig_key *k = &cfg->tsig_keys[i];
        /* The config refused two keys of one name, so adding cannot fail. */
        if (tsig_keyring_add(ring, k->name_wire, algorithms[k->algorithm], k->secret,
                             k->secret_len) < 0)
            abort();
    }
    return ring;
}

/* DNS cookies (RFC 9018 §5): the secrets of server.cookie_secret_file, shared by the fleet.
 * Without one, a random secret made once per process, so reloads keep clients' cookies
 * valid; cookies then hold only at this server, which is why fleets configure a file. */
static void
cookie_secrets(const struct config *cfg, struct dns_cookie_secrets *out)
{
    static uint8_t random_secret[DNS_COOKIE_SECRET_LEN];
    static bool have_random;
    memset(out, 0, sizeof(*out));
    if (cfg->cookies.secret_file) {
        memcpy(out->current, cfg->cookies.secret, sizeof(out->current));
        memcpy(out->previous, cfg->cookies.previous, sizeof(out->previous));
        out->has_previous = cfg->cookies.has_previous;
        return;
    }
    if (!have_random) { /* main thread only: snapshots are loaded there */
        randombytes_buf(random_secret, sizeof(random_secret));
        have_random = true;
    }
    memcpy(out->current, random_secret, sizeof(out->current));
}

static void
free_sigstores(struct snapshot *snap)
{
    for (size_t i = 0; snap->sigstores && i < snap->cfg->zone_count; i++)
        dnssec_sigstore_free(snap->sigstores[i]);
    free(snap->sigstores);
    snap->sigstores = NULL;
}

int
snapshot_load(const char *path, struct snapshot **out, char err[CONFIG_ERR_MAX])
{
    struct snapshot *snap = xcalloc(1, sizeof(*snap));
    atomic_init(&snap->refs, 1);
    *out = NULL;
    if (config_load(path, &snap->cfg, err) < 0) {
        free(snap);
        return -1;
    }
    /* Catalog members (RFC 9432) become zone entries before anything counts the zones. */
    catalog_expand(snap->cfg);
    const struct config *cfg = snap->cfg;
    /* Policies before zones: the zone compiler links each steered node to its policy. */
    if (load_geo(snap, err) < 0)
        goto fail;
    if (cfg->service_count && policy_set_build(cfg, snap->geo, &snap->policies, err) < 0)
        goto fail;
    if (load_zones(snap, err) < 0 || build_health_specs(snap, err) < 0)
        goto fail;
    /* Steered answers of signed zones, before any health is known (every member up); the
     * health thread signs what its tables make possible before publishing them. */
    steer_sign(snap, NULL, snapshot_now());
    /* What transfers carry, after signing: steered RRsets are signed into the variant
     * tables, and each history follows the version served now. */
    if (xfr_serve_load(snap, err) < 0)
        goto fail;
    free_sigstores(snap);
    snap->loaded_at = snapshot_now();
    snap->view.zones = snap->zones;
    snap->view.identity = cfg->hide_identity ? NULL : cfg->identity;
    snap->view.version = cfg->hide_version ? NULL : cfg->version;
    snap->view.nsid = cfg->nsid;
    snap->view.nsid_len = (uint16_t)cfg->nsid_len;
    snap->view.udp_max_size = cfg->udp_max_size;
    snap->view.policies = snap->policies;
    snap->tsig = load_tsig(cfg);
    snap->view.tsig = snap->tsig;
    snap->view.notify = secondary_notify;
    snap->view.notify_ctx = snap;
    cookie_secrets(cfg, &snap->cookies);
    snap->view.cookies = &snap->cookies;
    /* The loader's scratch space is gone: give it back rather than keep it in the heap. */
    malloc_trim(0);
    *out = snap;
    return 0;
fail:
    snapshot_free(snap);
    return -1;
}

void
snapshot_free(struct snapshot *snap)
{
    if (!snap)
        return;
    explicit_bzero(&snap->cookies, sizeof(snap->cookies));
    free_sigstores(snap);
    for (size_t i = 0; snap->xfr_zones && snap->zones && i < snap->zones->count; i++)
        xfr_zone_free(snap->xfr_zones[i]);
    free(snap->xfr_zones);
    health_table_free(snap->health);
    free(snap->health_specs);
    stats_steer_free(snap->stats_steer);
    policy_set_free(snap->policies);
    tsig_keyring_free(snap->tsig);
    zone_set_free(snap->zones);
    for (size_t i = 0; snap->signed_zones && i < snap->cfg->zone_count; i++)
        dnssec_zone_free(snap->signed_zones[i]);
    free(snap->signed_zones);
    free(snap->secondaries);
    geo_db_free(snap->geo);
    config_free(snap->cfg);
    free(snap);
}

void
snapshot_hold(struct snapshot *snap)
{
    atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
}

void
snapshot_release(struct snapshot *snap)
{
    if (snap && atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) == 1)
        snapshot_free(snap);
}
