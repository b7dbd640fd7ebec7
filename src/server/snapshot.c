// SPDX-License-Identifier: MIT
/* Building and freeing snapshots (see snapshot.h). Runs on the main thread. */
#include "server/snapshot.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"

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
    struct zone **zones = xcalloc(cfg->zone_count, sizeof(*zones));
    for (size_t i = 0; i < cfg->zone_count; i++) {
        char zerr[ZONE_ERR_MAX];
        const struct config_zone *cz = &cfg->zones[i];
        if (zone_load(cz->origin, cz->file, &zones[i], zerr) < 0) {
            /* An error without a line in the zone (it could not be opened) is located at
             * the zone's entry in the config instead. */
            size_t flen = strlen(cz->file);
            if (strncmp(zerr, cz->file, flen) == 0 && strncmp(zerr + flen, ": ", 2) == 0)
                snprintf(err, CONFIG_ERR_MAX, "%.150s:%d: zone %.80s: %.250s", cfg->path, cz->line,
                         cz->origin, zerr);
            else
                snprintf(err, CONFIG_ERR_MAX, "%s", zerr);
            for (size_t j = 0; j < i; j++)
                zone_free(zones[j]);
            free(zones);
            config_free(snap->cfg);
            free(snap);
            return -1;
        }
        snap->record_count += zones[i]->record_count;
    }
    snap->zones = zone_set_new(zones, cfg->zone_count);
    snap->view.zones = snap->zones;
    snap->view.identity = cfg->hide_identity ? NULL : cfg->identity;
    snap->view.version = cfg->hide_version ? NULL : cfg->version;
    snap->view.nsid = cfg->nsid;
    snap->view.nsid_len = (uint16_t)cfg->nsid_len;
    snap->view.udp_max_size = cfg->udp_max_size;
    /* The loader's scratch space is gone: give it back rather than keep it in the heap. */
    malloc_trim(0);
    *out = snap;
    return 0;
}

void
snapshot_free(struct snapshot *snap)
{
    if (!snap)
        return;
    zone_set_free(snap->zones);
    config_free(snap->cfg);
    free(snap);
}
