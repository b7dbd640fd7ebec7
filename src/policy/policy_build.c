// SPDX-License-Identifier: MIT
/* Compiling `services` into policies: members get health ids (one per distinct target and
 * check, so a pair is probed once however many services use it), rules become pool orders,
 * and every client-dependent rule (geo, nearest, nets) is folded into one network tree per
 * service whose leaves are order indices: GeoIP locations are mapped through the rules
 * (subdivision, then country, then continent, then default), `nets` are set on top, most
 * specific last, and equal neighbours are merged so a leaf's depth is the widest prefix with
 * that answer. Runs on the loader thread. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "policy/policy_internal.h"

/* A compiled tree and the location -> order map it came from, to share it. */
struct tree_entry {
    uint32_t *map; /* NULL for the constant tree */
    uint32_t len;
    struct geo_tree *tree;
};

struct builder {
    const struct config *cfg;
    struct policy_set *set;
    struct tree_entry *trees;
    uint32_t tree_count;
    struct policy_health_target *targets; /* index = health id */
    uint32_t health_count;
    uint32_t health_cap;
};

static void
member_text(const struct config_member *m, char *buf, size_t size)
{
    if (m->target)
        snprintf(buf, size, "%s", m->target);
    else
        inet_ntop(m->address.family == 4 ? AF_INET : AF_INET6, m->address.addr, buf,
                  (socklen_t)size);
}

/* One health id per distinct (target, check). A linear search: load time only, and 5,000
 * members cost about 12 million short compares. */
static uint32_t
health_id(struct builder *b, const struct config_member *m, bool wait_at_startup)
{
    char text[DNAME_TEXT_MAX], key[DNAME_TEXT_MAX + 80];
    member_text(m, text, sizeof(text));
    if (snprintf(key, sizeof(key), "%s|%s", text, m->check ? m->check : "") >= (int)sizeof(key))
        key[sizeof(key) - 1] = '\0';
    for (uint32_t i = 0; i < b->health_count; i++) {
        if (strcmp(b->targets[i].key, key) == 0) {
            b->targets[i].wait_at_startup |= wait_at_startup;
            b->targets[i].config_down &= m->down;
            return i;
        }
    }
    if (b->health_count == b->health_cap) {
        b->health_cap = b->health_cap ? b->health_cap * 2 : 64;
        b->targets = xrealloc(b->targets, b->health_cap * sizeof(*b->targets));
    }
    b->targets[b->health_count] = (struct policy_health_target){
        .key = xstrdup(key), .text = xstrdup(text), .member = m,
        .wait_at_startup = wait_at_startup, .config_down = m->down};
    return b->health_count++;
}

/* FNV-1a over the member's address or target: its identity for sticky hashing. */
static uint64_t
member_key(const struct config_member *m)
{
    uint64_t h = 14695981039346656037ULL;
    const uint8_t *p = m->target ? (const uint8_t *)m->target : m->address.addr;
    size_t n = m->target ? strlen(m->target) : sizeof(m->address.addr);
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* Returns the index of an order equal to `pools`, adding it if new. */
static uint32_t
add_order(struct policy_service *svc, uint32_t *cap, const uint32_t *pools, uint32_t count,
          const char *why)
{
    for (uint32_t i = 0; i < svc->order_count; i++) {
        const struct policy_order *o = &svc->orders[i];
        if (o->count == count && memcmp(o->pools, pools, count * sizeof(*pools)) == 0)
            return i;
    }
    if (svc->order_count == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        svc->orders = xrealloc(svc->orders, *cap * sizeof(*svc->orders));
    }
    uint32_t *copy = xmalloc(count * sizeof(*copy));
    memcpy(copy, pools, count * sizeof(*copy));
    svc->orders[svc->order_count] =
        (struct policy_order){.pools = copy, .count = count, .why = xstrdup(why)};
    return svc->order_count++;
}

static const struct config_geo_rule *
find_rule(const struct config_geo_rule *rules, size_t count, const char *key)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(rules[i].key, key) == 0)
            return &rules[i];
    return NULL;
}

struct by_distance {
    uint32_t pool;
    double km;
};

static int
distance_cmp(const void *pa, const void *pb)
{
    const struct by_distance *a = pa, *b = pb;
    if (a->km != b->km)
        return a->km < b->km ? -1 : 1;
    return a->pool < b->pool ? -1 : a->pool > b->pool;
}

const struct config_geo_rule *
policy_geo_rule(const struct config_service *c, const struct geo_location *loc, char *why,
                size_t why_size)
{
    const struct config_geo_rule *rule = NULL;
    char key[16];
    snprintf(why, why_size, "default");
    if (loc->country[0] && loc->subdivision[0]) {
        snprintf(key, sizeof(key), "%s-%s", loc->country, loc->subdivision);
        if ((rule = find_rule(c->subdivisions, c->subdivision_count, key)))
            snprintf(why, why_size, "subdivision %s", rule->key);
    }
    if (!rule && loc->country[0] &&
        (rule = find_rule(c->countries, c->country_count, loc->country)))
        snprintf(why, why_size, "country %s", rule->key);
    if (!rule && loc->continent[0] &&
        (rule = find_rule(c->continents, c->continent_count, loc->continent)))
        snprintf(why, why_size, "continent %s", rule->key);
    return rule;
}

/* The order for one GeoIP location: README "Traffic steering" precedence, or distance for nearest. */
static uint32_t
order_for_location(struct policy_service *svc, uint32_t *cap, const struct geo_location *loc)
{
    const struct config_service *c = svc->cfg;
    char why[64];
    if (c->nearest) {
        if (!loc->has_coords)
            return 0;
        struct by_distance d[64];
        uint32_t n = svc->pool_count < 64 ? svc->pool_count : 64;
        for (uint32_t i = 0; i < n; i++) {
            d[i].pool = i;
            d[i].km = geo_distance_km(loc->latitude, loc->longitude, c->pools[i].latitude,
                                      c->pools[i].longitude);
        }
        qsort(d, n, sizeof(*d), distance_cmp);
        if (c->nearest_n && c->nearest_n < n)
            n = c->nearest_n;
        uint32_t pools[64];
        for (uint32_t i = 0; i < n; i++)
            pools[i] = d[i].pool;
        return add_order(svc, cap, pools, n, "nearest");
    }
    const struct config_geo_rule *rule = policy_geo_rule(c, loc, why, sizeof(why));
    if (!rule)
        return 0;
    return add_order(svc, cap, rule->order.pools, (uint32_t)rule->order.count, why);
}

static int
net_cmp(const void *pa, const void *pb)
{
    const struct config_net_rule *a = *(const struct config_net_rule *const *)pa;
    const struct config_net_rule *b = *(const struct config_net_rule *const *)pb;
    return (int)a->net.prefix_len - (int)b->net.prefix_len;
}

static struct geo_tree *
new_tree(struct builder *b, uint32_t *map, uint32_t len)
{
    struct policy_set *set = b->set;
    struct geo_tree *tree = xcalloc(1, sizeof(*tree));
    set->trees = xrealloc(set->trees, (set->tree_count + 1) * sizeof(*set->trees));
    set->trees[set->tree_count++] = tree;
    b->trees = xrealloc(b->trees, (b->tree_count + 1) * sizeof(*b->trees));
    b->trees[b->tree_count++] = (struct tree_entry){.map = map, .len = len, .tree = tree};
    return tree;
}

/* A tree from a location -> order map, shared with an earlier service whose map is equal:
 * the leaves are order indices, so equal maps mean equal trees even when the services' pools
 * differ. On a real-world database a tree is several MB. Takes ownership of map. */
static struct geo_tree *
mapped_tree(struct builder *b, const struct geo_db *geo, uint32_t *map, bool shareable)
{
    for (uint32_t i = 0; shareable && i < b->tree_count; i++) {
        const struct tree_entry *e = &b->trees[i];
        if (e->map && e->len == geo->location_count &&
            memcmp(e->map, map, geo->location_count * sizeof(*map)) == 0) {
            free(map);
            return e->tree;
        }
    }
    struct geo_tree *tree = new_tree(b, shareable ? map : NULL, geo->location_count);
    int rc = geo_tree_map(&geo->tree, map, geo->location_count, 0, tree);
    if (!shareable)
        free(map);
    return rc < 0 ? NULL : tree;
}

static int
build_tree(struct builder *b, struct policy_service *svc, uint32_t *cap, const struct geo_db *geo,
           char err[CONFIG_ERR_MAX])
{
    const struct config_service *c = svc->cfg;
    bool geo_rules = c->continent_count || c->country_count || c->subdivision_count || c->nearest;
    /* nets change the tree after mapping: such a tree is the service's own. */
    bool shareable = c->net_count == 0;
    struct geo_tree *tree = NULL;
    if (geo_rules && geo) {
        uint32_t *map = xmalloc(geo->location_count * sizeof(*map));
        for (uint32_t i = 0; i < geo->location_count; i++)
            map[i] = order_for_location(svc, cap, &geo->locations[i]);
        tree = mapped_tree(b, geo, map, shareable);
        if (!tree) {
            snprintf(err, CONFIG_ERR_MAX, "%s:%d: service %s: cannot build its network tree",
                     b->cfg->path, c->line, c->name);
            return -1;
        }
    } else {
        for (uint32_t i = 0; shareable && i < b->tree_count && !tree; i++)
            if (!b->trees[i].map && b->trees[i].len == 0)
                tree = b->trees[i].tree;
        if (!tree) {
            tree = new_tree(b, NULL, shareable ? 0 : 1);
            geo_tree_init_constant(tree, 0);
        }
    }
    if (c->net_count) {
        /* Least specific first, so more specific rules override where they overlap. */
        const struct config_net_rule **sorted = xmalloc(c->net_count * sizeof(*sorted));
        for (size_t i = 0; i < c->net_count; i++)
            sorted[i] = &c->nets[i];
        qsort(sorted, c->net_count, sizeof(*sorted), net_cmp);
        for (size_t i = 0; i < c->net_count; i++) {
            const struct config_net_rule *r = sorted[i];
            char why[96];
            snprintf(why, sizeof(why), "nets rule at %s:%d", r->file ? r->file : "config",
                     r->line);
            uint32_t order = add_order(svc, cap, r->order.pools, (uint32_t)r->order.count, why);
            geo_tree_set(tree, r->net.family, r->net.addr, r->net.prefix_len, order);
        }
        free(sorted);
        geo_tree_merge(tree);
    }
    svc->tree = tree;
    svc->client_dependent = geo_rules || c->net_count;
    return 0;
}

static int
build_service(struct builder *b, struct policy_service *svc, const struct config_service *c,
              const struct geo_db *geo, char err[CONFIG_ERR_MAX])
{
    static const enum policy_select_mode modes[] = {
        [CONFIG_SELECT_WEIGHTED] = POLICY_SELECT_WEIGHTED,
        [CONFIG_SELECT_STICKY] = POLICY_SELECT_STICKY,
        [CONFIG_SELECT_ALL] = POLICY_SELECT_ALL,
        [CONFIG_SELECT_FIRST_N] = POLICY_SELECT_FIRST_N,
    };
    static const enum policy_all_down all_down[] = {
        [CONFIG_ALL_DOWN_ALL] = POLICY_ALL_DOWN_ALL,
        [CONFIG_ALL_DOWN_NODATA] = POLICY_ALL_DOWN_NODATA,
        [CONFIG_ALL_DOWN_POOL] = POLICY_ALL_DOWN_POOL,
    };
    svc->cfg = c;
    svc->ttl_s = c->ttl_s;
    svc->cname = c->cname;
    svc->select = modes[c->select];
    /* A CNAME RRset has one record (RFC 1034 §3.6.2): all and first_n pick one by weight. */
    if (c->cname && (svc->select == POLICY_SELECT_ALL || svc->select == POLICY_SELECT_FIRST_N))
        svc->select = POLICY_SELECT_WEIGHTED;
    svc->first_n = c->first_n;
    svc->sticky_prefix_v4 = c->sticky_prefix_v4;
    svc->sticky_prefix_v6 = c->sticky_prefix_v6;
    svc->all_down = all_down[c->all_down];
    svc->all_down_pool = c->all_down_pool;
    int len = dname_from_text(c->name, svc->owner);
    if (len < 0) {
        snprintf(err, CONFIG_ERR_MAX, "%s:%d: bad service name '%s'", b->cfg->path, c->line,
                 c->name);
        return -1;
    }
    svc->owner_len = dname_lower_copy(svc->owner, svc->owner);
    svc->pool_count = (uint32_t)c->pool_count;
    svc->pools = xcalloc(c->pool_count, sizeof(*svc->pools));
    for (size_t p = 0; p < c->pool_count; p++) {
        const struct config_pool *cp = &c->pools[p];
        struct policy_pool *pool = &svc->pools[p];
        pool->name = cp->name;
        pool->member_count = (uint32_t)cp->member_count;
        pool->members = xcalloc(cp->member_count, sizeof(*pool->members));
        for (size_t m = 0; m < cp->member_count; m++) {
            const struct config_member *cm = &cp->members[m];
            struct policy_member *pm = &pool->members[m];
            pm->cfg = cm;
            pm->weight = cm->weight;
            pm->forced_down = cm->down;
            pm->health_id = health_id(b, cm, !c->startup_persisted && !c->startup_up);
            pm->key = member_key(cm);
            if (cm->target) {
                uint8_t wire[DNAME_MAX_LEN];
                int tlen = dname_from_text(cm->target, wire);
                if (tlen < 0) {
                    snprintf(err, CONFIG_ERR_MAX, "%s:%d: bad CNAME target '%s'", b->cfg->path,
                             cm->line, cm->target);
                    return -1;
                }
                uint8_t *t = xmalloc((size_t)tlen);
                memcpy(t, wire, (size_t)tlen);
                pm->target = t;
            } else {
                pm->family = cm->address.family;
                memcpy(pm->addr, cm->address.addr, sizeof(pm->addr));
                svc->has_v4 |= pm->family == 4;
                svc->has_v6 |= pm->family == 6;
            }
        }
    }
    uint32_t cap = 0;
    add_order(svc, &cap, c->default_order.pools, (uint32_t)c->default_order.count, "default");
    return build_tree(b, svc, &cap, geo, err);
}

int
policy_set_build(const struct config *cfg, const struct geo_db *geo, struct policy_set **out,
                 char err[CONFIG_ERR_MAX])
{
    struct policy_set *set = xcalloc(1, sizeof(*set));
    struct builder b = {.cfg = cfg, .set = set};
    set->services = xcalloc(cfg->service_count, sizeof(*set->services));
    int rc = -1;
    for (size_t i = 0; i < cfg->service_count; i++) {
        set->count++;
        if (build_service(&b, &set->services[i], &cfg->services[i], geo, err) < 0)
            goto out;
    }
    uint32_t size = 8;
    while (size < set->count * 2 + 2)
        size *= 2;
    set->slots = xmalloc(size * sizeof(*set->slots));
    set->slot_mask = size - 1;
    for (uint32_t i = 0; i < size; i++)
        set->slots[i] = UINT32_MAX;
    for (uint32_t s = 0; s < set->count; s++) {
        const struct policy_service *svc = &set->services[s];
        uint32_t i = dname_hash(svc->owner, svc->owner_len) & set->slot_mask;
        while (set->slots[i] != UINT32_MAX)
            i = (i + 1) & set->slot_mask;
        set->slots[i] = s;
    }
    rc = 0;
out:
    for (uint32_t i = 0; i < b.tree_count; i++)
        free(b.trees[i].map);
    free(b.trees);
    set->health_targets = b.targets;
    set->health_count = b.health_count;
    if (rc < 0) {
        policy_set_free(set);
        set = NULL;
    }
    *out = set;
    return rc;
}

void
policy_set_free(struct policy_set *set)
{
    if (!set)
        return;
    for (uint32_t s = 0; s < set->count; s++) {
        struct policy_service *svc = &set->services[s];
        for (uint32_t p = 0; p < svc->pool_count && svc->pools; p++) {
            for (uint32_t m = 0; m < svc->pools[p].member_count; m++)
                free((void *)svc->pools[p].members[m].target);
            free(svc->pools[p].members);
        }
        free(svc->pools);
        for (uint32_t o = 0; o < svc->order_count; o++) {
            free((void *)svc->orders[o].pools);
            free((void *)svc->orders[o].why);
        }
        free(svc->orders);
    }
    for (uint32_t t = 0; t < set->tree_count; t++) {
        geo_tree_fini(set->trees[t]);
        free(set->trees[t]);
    }
    free(set->trees);
    for (uint32_t i = 0; i < set->health_count; i++) {
        free(set->health_targets[i].key);
        free(set->health_targets[i].text);
    }
    free(set->health_targets);
    free(set->services);
    free(set->slots);
    free(set);
}
