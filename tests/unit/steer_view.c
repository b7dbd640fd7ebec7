// SPDX-License-Identifier: MIT
/* A steered dns_view for tests and fuzzing (see steer_view.h). The order of the steps is
 * that of snapshot_load(): config, GeoIP, policies, zone with the steered names, links.
 * Single-threaded; everything is freed by steer_view_fini(). */
#include "steer_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    return fclose(f) != 0 ? -1 : rc;
}

/* One zone holding every steered name, each handed to the zone compiler with its policy
 * index as the server does (server/snapshot.c). */
static int
load_zone(struct steer_view *sv, const char *origin, const char *zone_path, char *err)
{
    const struct policy_set *set = sv->policies;
    struct zone_steer *steers = calloc(set->count + 1, sizeof(*steers));
    struct zone **list = calloc(1, sizeof(*list));
    char zerr[ZONE_ERR_MAX];
    int rc = -1;

    if (!steers || !list) {
        snprintf(err, STEER_VIEW_ERR_MAX, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < set->count; i++) {
        const struct policy_service *svc = &set->services[i];
        steers[i] = (struct zone_steer){
            .name = svc->owner,
            .index = (uint16_t)i,
            .types = (uint8_t)(svc->cname ? ZONE_STEER_CNAME
                                          : (svc->has_v4 ? ZONE_STEER_A : 0) |
                                                (svc->has_v6 ? ZONE_STEER_AAAA : 0)),
            .where = "steer_view",
        };
    }
    if (zone_load_steered(origin, zone_path, steers, set->count, NULL, &list[0], zerr) < 0) {
        snprintf(err, STEER_VIEW_ERR_MAX, "zone: %s", zerr);
        goto out;
    }
    sv->zones = zone_set_new(list, 1);
    list = NULL;
    rc = 0;
out:
    free(list);
    free(steers);
    return rc;
}

struct health_entry *
steer_view_health_entry(struct steer_view *sv, const char *text)
{
    for (uint32_t id = 0; id < sv->policies->health_count; id++)
        if (strcmp(sv->policies->health_targets[id].text, text) == 0)
            return &sv->health->entries[id];
    return NULL;
}

void
steer_view_health_reset(struct steer_view *sv)
{
    for (uint32_t i = 0; i < sv->health->count; i++)
        sv->health->entries[i] =
            (struct health_entry){.state = HEALTH_UNKNOWN, .earliest_change_s = HEALTH_NEVER};
}

int
steer_view_load(struct steer_view *sv, const char *mmdb_path, const char *origin,
                const char *zone_text, const char *checks_yaml, const char *services_yaml,
                char err[STEER_VIEW_ERR_MAX])
{
    char dir[] = "/tmp/meridian-steer-view-XXXXXX";
    char zone_path[sizeof(dir) + 16], cfg_path[sizeof(dir) + 16], cerr[CONFIG_ERR_MAX];
    char *cfg_text = NULL;
    size_t cfg_len = 0;
    int rc = -1;

    memset(sv, 0, sizeof(*sv));
    if (!mkdtemp(dir)) {
        snprintf(err, STEER_VIEW_ERR_MAX, "mkdtemp failed");
        return -1;
    }
    snprintf(zone_path, sizeof(zone_path), "%s/zone", dir);
    snprintf(cfg_path, sizeof(cfg_path), "%s/meridian.yaml", dir);
    FILE *f = open_memstream(&cfg_text, &cfg_len);
    if (!f) {
        snprintf(err, STEER_VIEW_ERR_MAX, "open_memstream failed");
        goto out;
    }
    fprintf(f, "geoip: { database: \"%s\" }\nzones: [ { origin: \"%s\", file: zone } ]\n",
            mmdb_path, origin);
    if (checks_yaml)
        fprintf(f, "checks:\n%s", checks_yaml);
    fprintf(f, "services:\n%s", services_yaml);
    if (fclose(f) != 0 || write_file(zone_path, zone_text) < 0 ||
        write_file(cfg_path, cfg_text) < 0) {
        snprintf(err, STEER_VIEW_ERR_MAX, "cannot write the files in %s", dir);
        goto out;
    }
    if (config_load(cfg_path, &sv->cfg, cerr) < 0 ||
        geo_db_load(mmdb_path, &geo_paths_geoip2, &sv->geo, cerr) < 0 ||
        policy_set_build(sv->cfg, sv->geo, &sv->policies, cerr) < 0) {
        snprintf(err, STEER_VIEW_ERR_MAX, "%s", cerr);
        goto out;
    }
    if (load_zone(sv, origin, zone_path, err) < 0)
        goto out;
    sv->health = calloc(1, sizeof(*sv->health) +
                               sv->policies->health_count * sizeof(sv->health->entries[0]));
    if (!sv->health) {
        snprintf(err, STEER_VIEW_ERR_MAX, "out of memory");
        goto out;
    }
    sv->health->count = sv->policies->health_count;
    steer_view_health_reset(sv);
    sv->view = (struct dns_view){.zones = sv->zones,
                                 .identity = "ns.test",
                                 .version = "Meridian test",
                                 .udp_max_size = 1232,
                                 .policies = sv->policies};
    rc = 0;
out:
    free(cfg_text);
    unlink(zone_path);
    unlink(cfg_path);
    rmdir(dir);
    if (rc < 0)
        steer_view_fini(sv);
    return rc;
}

int
steer_view_sign(struct steer_view *sv, const char *key_dir, uint8_t algorithm, uint32_t variants,
                char err[STEER_VIEW_ERR_MAX])
{
    char derr[DNSSEC_ERR_MAX];
    struct dnssec_sign_params p = {.key_directory = key_dir,
                                   .algorithm = algorithm,
                                   .validity_s = 14 * 86400,
                                   .refresh_s = 5 * 86400,
                                   .now = time(NULL),
                                   .threads = 1,
                                   .variants = variants};
    if (dnssec_zone_sign(sv->zones->zones[0], &p, &sv->signed_zone, derr) < 0) {
        snprintf(err, STEER_VIEW_ERR_MAX, "dnssec: %s", derr);
        return -1;
    }
    return 0;
}

void
steer_view_fini(struct steer_view *sv)
{
    zone_set_free(sv->zones);
    dnssec_zone_free(sv->signed_zone);
    policy_set_free(sv->policies);
    geo_db_free(sv->geo);
    config_free(sv->cfg);
    free(sv->health);
    memset(sv, 0, sizeof(*sv));
}
