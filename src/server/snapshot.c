// SPDX-License-Identifier: MIT
/* Building and freeing snapshots (see snapshot.h): config, then the GeoIP database, then the
 * zones (each told which of its names are steered, so they get nodes), then the policies,
 * with the cross-checks that need both zones and services. Runs on the main thread. */
#include "server/snapshot.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>

#include "common/alloc.h"
#include "common/dnswire.h"
#include "common/log.h"

static struct snapshot *current; /* RCU-protected */
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot_reload last_reload;
static uint64_t reloads_started; /* under reload_lock */

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
    last_reload.at = time(NULL);
    last_reload.ok = ok;
    last_reload.seq = reloads_started;
    snprintf(last_reload.message, sizeof(last_reload.message), "%s", message ? message : "");
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

/* Points every steered node at its policy, so answers skip the lookup by name. The zones
 * are not published yet, so they may still be written. */
static void
link_steered_nodes(struct snapshot *snap)
{
    const struct policy_set *set = snap->policies;
    for (uint32_t i = 0; set && i < set->count && i < UINT16_MAX; i++) {
        const struct policy_service *svc = &set->services[i];
        const struct zone *z = zone_set_find(snap->zones, svc->owner);
        const struct zone_node *node = z ? zone_lookup(z, svc->owner, svc->owner_len) : NULL;
        if (node)
            ((struct zone_node *)node)->steer = (uint16_t)(i + 1);
    }
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
    size_t flen = strlen(cz->file);
    if (strncmp(zerr, cz->file, flen) == 0 && strncmp(zerr + flen, ": ", 2) == 0)
        snprintf(err, CONFIG_ERR_MAX, "%.150s:%d: zone %.80s: %.250s", cfg->path, cz->line,
                 cz->origin, zerr);
    else
        snprintf(err, CONFIG_ERR_MAX, "%s", zerr);
}

/* Loads every zone; steered names go to the zone that holds them. */
static int
load_zones(struct snapshot *snap, char err[CONFIG_ERR_MAX])
{
    const struct config *cfg = snap->cfg;
    int rc = -1;
    uint8_t **origins = xcalloc(cfg->zone_count, sizeof(*origins));
    uint8_t **names = xcalloc(cfg->service_count + 1, sizeof(*names));
    int *owner_zone = xcalloc(cfg->service_count + 1, sizeof(*owner_zone));
    const uint8_t **steered = xcalloc(cfg->service_count + 1, sizeof(*steered));
    struct zone **zones = xcalloc(cfg->zone_count, sizeof(*zones));

    for (size_t i = 0; i < cfg->zone_count; i++) {
        origins[i] = xmalloc(DNAME_MAX_LEN);
        if (dname_from_text(cfg->zones[i].origin, origins[i]) < 0) {
            snprintf(err, CONFIG_ERR_MAX, "%s:%d: bad zone origin", cfg->path, cfg->zones[i].line);
            goto out;
        }
        dname_lower_copy(origins[i], origins[i]);
    }
    for (size_t s = 0; s < cfg->service_count; s++) {
        names[s] = xmalloc(DNAME_MAX_LEN);
        if (dname_from_text(cfg->services[s].name, names[s]) < 0) {
            snprintf(err, CONFIG_ERR_MAX, "%s:%d: bad service name", cfg->path,
                     cfg->services[s].line);
            goto out;
        }
        dname_lower_copy(names[s], names[s]);
        owner_zone[s] = zone_for_name(cfg, (const uint8_t *const *)origins, names[s]);
        if (owner_zone[s] < 0) {
            snprintf(err, CONFIG_ERR_MAX, "%s:%d: service %s is not inside any configured zone",
                     cfg->path, cfg->services[s].line, cfg->services[s].name);
            goto out;
        }
    }
    for (size_t i = 0; i < cfg->zone_count; i++) {
        size_t n = 0;
        for (size_t s = 0; s < cfg->service_count; s++)
            if (owner_zone[s] == (int)i)
                steered[n++] = names[s];
        char zerr[ZONE_ERR_MAX];
        const struct config_zone *cz = &cfg->zones[i];
        if (zone_load_steered(cz->origin, cz->file, steered, n, &zones[i], zerr) < 0) {
            zone_error(err, cfg, cz, zerr);
            goto out;
        }
        snap->record_count += zones[i]->record_count;
    }
    /* A steered name must be authoritative data we may synthesize at. */
    for (size_t s = 0; s < cfg->service_count; s++) {
        const struct config_service *cs = &cfg->services[s];
        const struct zone *z = zones[owner_zone[s]];
        const struct zone_node *node =
            zone_lookup(z, names[s], dname_wire_length(names[s], DNAME_MAX_LEN));
        const char *why = NULL;
        if (node->flags & (ZONE_NODE_NONAUTH | ZONE_NODE_DELEGATION))
            why = "is at or below a delegation in its zone";
        else if (node->flags & ZONE_NODE_CNAME)
            why = "has a CNAME record in its zone";
        else if (cs->cname && node->rrset_count > 0)
            why = "is a CNAME service but its zone has other data at that name (RFC 1034 "
                  "§3.6.2)";
        if (why) {
            snprintf(err, CONFIG_ERR_MAX, "%s:%d: service %s %s", cfg->path, cs->line, cs->name,
                     why);
            goto out;
        }
        if (zone_node_rrset(node, DNS_TYPE_A) || zone_node_rrset(node, DNS_TYPE_AAAA))
            log_warning("%s:%d: service %s overrides the A/AAAA records of its zone", cfg->path,
                        cs->line, cs->name);
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
    for (size_t s = 0; s < cfg->service_count; s++)
        free(names[s]);
    free(origins);
    free(names);
    free(owner_zone);
    free(steered);
    return rc;
}

int
snapshot_load(const char *path, struct snapshot **out, char err[CONFIG_ERR_MAX])
{
    struct snapshot *snap = xcalloc(1, sizeof(*snap));
    *out = NULL;
    if (config_load(path, &snap->cfg, err) < 0) {
        free(snap);
        return -1;
    }
    const struct config *cfg = snap->cfg;
    if (load_geo(snap, err) < 0 || load_zones(snap, err) < 0)
        goto fail;
    if (cfg->service_count && policy_set_build(cfg, snap->geo, &snap->policies, err) < 0)
        goto fail;
    if (build_health_specs(snap, err) < 0)
        goto fail;
    link_steered_nodes(snap);
    snap->loaded_at = time(NULL);
    snap->view.zones = snap->zones;
    snap->view.identity = cfg->hide_identity ? NULL : cfg->identity;
    snap->view.version = cfg->hide_version ? NULL : cfg->version;
    snap->view.nsid = cfg->nsid;
    snap->view.nsid_len = (uint16_t)cfg->nsid_len;
    snap->view.udp_max_size = cfg->udp_max_size;
    snap->view.policies = snap->policies;
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
    health_table_free(snap->health);
    free(snap->health_specs);
    policy_set_free(snap->policies);
    zone_set_free(snap->zones);
    geo_db_free(snap->geo);
    config_free(snap->cfg);
    free(snap);
}
