// SPDX-License-Identifier: MIT
/* A server's zones, indexed by origin. A query belongs to the zone with the longest origin
 * that is a suffix of its name: found by probing each suffix of the name, longest first.
 * Immutable after zone_set_new; read by every worker. */
#include <stdlib.h>
#include <string.h>

#include "zone/zone.h"

struct zone_set *
zone_set_new(struct zone **zones, size_t count)
{
    struct zone_set *set = xcalloc(1, sizeof(*set));
    set->zones = zones;
    set->count = count;
    uint32_t size = 8;
    while (size < count * 2 + 2)
        size *= 2;
    set->slots = xmalloc(size * sizeof(*set->slots));
    set->slot_mask = size - 1;
    for (uint32_t i = 0; i < size; i++)
        set->slots[i].node = ZONE_NONE;
    for (size_t z = 0; z < count; z++) {
        uint32_t h = dname_hash(zones[z]->origin, zones[z]->origin_len);
        uint32_t i = h & set->slot_mask;
        while (set->slots[i].node != ZONE_NONE)
            i = (i + 1) & set->slot_mask;
        set->slots[i].hash = h;
        set->slots[i].node = (uint32_t)z;
        if (zones[z]->origin_labels > set->max_labels)
            set->max_labels = zones[z]->origin_labels;
    }
    return set;
}

void
zone_set_free(struct zone_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        zone_free(set->zones[i]);
    free(set->zones);
    free(set->slots);
    free(set);
}

static const struct zone *
find_origin(const struct zone_set *set, const uint8_t *lname, int len)
{
    uint32_t h = dname_hash(lname, len);
    for (uint32_t i = h & set->slot_mask;; i = (i + 1) & set->slot_mask) {
        const struct zone_slot *s = &set->slots[i];
        if (s->node == ZONE_NONE)
            return NULL;
        const struct zone *z = set->zones[s->node];
        if (s->hash == h && z->origin_len == len && memcmp(z->origin, lname, (size_t)len) == 0)
            return z;
    }
}

const struct zone *
zone_set_find(const struct zone_set *set, const uint8_t *lname)
{
    int len = 0, labels = 0;
    while (lname[len]) {
        len += 1 + lname[len];
        labels++;
    }
    len++;
    /* No origin has more labels than max_labels: skip the suffixes that are longer. */
    for (; labels > set->max_labels; labels--) {
        len -= 1 + lname[0];
        lname += 1 + lname[0];
    }
    for (;;) {
        const struct zone *z = find_origin(set, lname, len);
        if (z)
            return z;
        if (*lname == 0)
            return NULL;
        len -= 1 + lname[0];
        lname += 1 + lname[0];
    }
}
