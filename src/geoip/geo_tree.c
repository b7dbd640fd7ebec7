// SPDX-License-Identifier: MIT
/* Network tries: binary tries over address bits whose leaves carry a value (a location id in
 * a struct geo_db, an answer id in a policy's tree). Every trie is built bottom-up through
 * geo_tree_join(), so two sibling leaves with the same value never survive: a leaf's depth is
 * the widest network around the address that has one value, which is the ECS scope a policy
 * answers with (RFC 7871 §7.2.1). Also the client address normalisation that decides which
 * of the two roots a lookup starts from, and the great-circle distance for `nearest`.
 * Building (map, set, merge) runs on the loader thread; geo_tree_lookup() runs on workers
 * and reads an immutable tree without allocating. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "geoip/geo_internal.h"
#include "geoip/geoip.h"

#define FIRST_CAP 64

/* Bit `i` (0 = most significant) of an address in network order. */
static inline unsigned
addr_bit(const uint8_t *addr, int i)
{
    return (addr[i >> 3] >> (7 - (i & 7))) & 1u;
}

static uint32_t
capacity(const struct geo_tree *tree)
{
    return tree->node_cap > tree->node_count ? tree->node_cap : tree->node_count;
}

/* Makes room for `extra` more nodes. Node indexes share 32 bits with the leaf flag, so a
 * trie of 2^31 nodes cannot be expressed; like running out of memory, that aborts. */
static void
reserve(struct geo_tree *tree, uint32_t extra)
{
    uint64_t need = (uint64_t)tree->node_count + extra;
    uint64_t cap = capacity(tree);

    if (need <= cap)
        return;
    if (need >= GEO_TREE_LEAF) {
        fputs("geoip: network trie exceeds 2^31 nodes\n", stderr);
        abort();
    }
    cap = cap ? cap * 2 : FIRST_CAP;
    if (cap < need)
        cap = need;
    if (cap >= GEO_TREE_LEAF)
        cap = GEO_TREE_LEAF - 1;
    tree->nodes = xrealloc(tree->nodes, cap * sizeof(*tree->nodes));
    tree->node_cap = (uint32_t)cap;
}

/* Gives back the slack left by doubling once a tree is complete. */
void
geo_tree_shrink(struct geo_tree *tree)
{
    if (tree->node_count == 0) {
        free(tree->nodes);
        tree->nodes = NULL;
    } else if (tree->node_cap > tree->node_count) {
        tree->nodes = xrealloc(tree->nodes, tree->node_count * sizeof(*tree->nodes));
    }
    tree->node_cap = tree->node_count;
}

uint32_t
geo_tree_join(struct geo_tree *tree, uint32_t left, uint32_t right)
{
    uint32_t n;

    if (left == right && (left & GEO_TREE_LEAF))
        return left; /* equal sibling leaves: their parent is the same leaf */
    reserve(tree, 1);
    n = tree->node_count++;
    tree->nodes[n][0] = left;
    tree->nodes[n][1] = right;
    return n;
}

uint32_t
geo_tree_lookup(const struct geo_tree *tree, int family, const uint8_t *addr, int *depth)
{
    int max = family == 4 ? 32 : 128;
    uint32_t ref = family == 4 ? tree->root_v4 : tree->root_v6;
    int d = 0;

    while (!(ref & GEO_TREE_LEAF) && d < max)
        ref = tree->nodes[ref][addr_bit(addr, d++)];
    if (depth)
        *depth = d;
    /* A node below the last address bit cannot come from this module; answer "unknown". */
    return (ref & GEO_TREE_LEAF) ? ref & ~GEO_TREE_LEAF : GEO_LOCATION_UNKNOWN;
}

/* How leaves are rewritten while a trie is copied; map == NULL keeps values. */
struct remap {
    const struct geo_tree *src;
    const uint32_t *map;
    uint32_t map_len;
    uint32_t fallback;
};

/* Copies the subtree at `ref` into `out` in post-order, remapping leaves and merging equal
 * siblings on the way up. Recursion depth is at most 128 (one level per address bit). Nodes
 * no longer reachable from a root (dropped by geo_tree_set) are not copied. */
static uint32_t
copy_ref(const struct remap *rm, uint32_t ref, struct geo_tree *out)
{
    uint32_t left, right;

    if (ref & GEO_TREE_LEAF) {
        uint32_t v = ref & ~GEO_TREE_LEAF;
        if (rm->map)
            v = v < rm->map_len ? rm->map[v] : rm->fallback;
        return GEO_TREE_LEAF | v;
    }
    left = copy_ref(rm, rm->src->nodes[ref][0], out);
    right = copy_ref(rm, rm->src->nodes[ref][1], out);
    return geo_tree_join(out, left, right);
}

static void
copy_tree(const struct remap *rm, struct geo_tree *out)
{
    memset(out, 0, sizeof(*out));
    /* A copy never has more nodes than its source, so one allocation suffices. */
    reserve(out, rm->src->node_count);
    out->root_v4 = copy_ref(rm, rm->src->root_v4, out);
    out->root_v6 = copy_ref(rm, rm->src->root_v6, out);
    geo_tree_shrink(out);
}

int
geo_tree_map(const struct geo_tree *src, const uint32_t *map, uint32_t map_len, uint32_t fallback,
             struct geo_tree *out)
{
    struct remap rm = {.src = src, .map = map, .map_len = map_len, .fallback = fallback};

    /* Values share 32 bits with the leaf flag: 2^31 and above cannot be stored. */
    if (fallback & GEO_TREE_LEAF)
        goto out;
    for (uint32_t i = 0; i < map_len; i++)
        if (map[i] & GEO_TREE_LEAF)
            goto out;
    copy_tree(&rm, out);
    return 0;
out:
    geo_tree_init_constant(out, 0);
    return -1;
}

void
geo_tree_init_constant(struct geo_tree *tree, uint32_t value)
{
    memset(tree, 0, sizeof(*tree));
    tree->root_v4 = GEO_TREE_LEAF | value;
    tree->root_v6 = GEO_TREE_LEAF | value;
}

void
geo_tree_set(struct geo_tree *tree, int family, const uint8_t *addr, int prefix_len, uint32_t value)
{
    int max = family == 4 ? 32 : 128;
    uint32_t *ref;

    if (value & GEO_TREE_LEAF) {
        fputs("geoip: geo_tree_set value out of range\n", stderr);
        abort(); /* a caller bug, like a NULL pointer: ids are small */
    }
    if (prefix_len < 0)
        prefix_len = 0;
    if (prefix_len > max)
        prefix_len = max;
    /* Room for every split first: `ref` points into the node array, which must not move. */
    reserve(tree, (uint32_t)prefix_len);
    ref = family == 4 ? &tree->root_v4 : &tree->root_v6;
    for (int d = 0; d < prefix_len; d++) {
        if (*ref & GEO_TREE_LEAF) {
            /* Split the leaf: both halves keep its value until the walk goes deeper. */
            uint32_t n = tree->node_count++;
            tree->nodes[n][0] = *ref;
            tree->nodes[n][1] = *ref;
            *ref = n;
        }
        ref = &tree->nodes[*ref][addr_bit(addr, d)];
    }
    /* Whatever was below the prefix is replaced; the orphaned nodes go in geo_tree_merge. */
    *ref = GEO_TREE_LEAF | value;
}

void
geo_tree_merge(struct geo_tree *tree)
{
    struct remap rm = {.src = tree};
    struct geo_tree merged;

    copy_tree(&rm, &merged);
    free(tree->nodes);
    *tree = merged;
}

void
geo_tree_fini(struct geo_tree *tree)
{
    free(tree->nodes);
    geo_tree_init_constant(tree, GEO_LOCATION_UNKNOWN);
}

/* Which embedded IPv4 address an IPv6 address carries: the byte offset of the address and
 * the prefix length of the marker before it, or false for a genuine IPv6 address. */
static bool
embedded_v4(const uint8_t addr[16], int *offset, int *marker_bits)
{
    static const uint8_t zero[12];
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(addr, mapped, 12) == 0) { /* RFC 4291 §2.5.5.2 */
        *offset = 12;
        *marker_bits = 96;
        return true;
    }
    if (memcmp(addr, zero, 12) == 0) {
        /* RFC 4291 §2.5.5.1 (deprecated, still what MMDB trees hold under ::/96); the
         * unspecified address and ::1 are IPv6 addresses, not IPv4 0.0.0.0 and 0.0.0.1. */
        if (addr[12] == 0 && addr[13] == 0 && addr[14] == 0 && addr[15] <= 1)
            return false;
        *offset = 12;
        *marker_bits = 96;
        return true;
    }
    if (addr[0] == 0x20 && addr[1] == 0x02) { /* 6to4, RFC 3056 §2: 2002:V4ADDR::/48 */
        *offset = 2;
        *marker_bits = 16;
        return true;
    }
    return false;
}

void
geo_normalize(int *family, uint8_t addr[16], int *bits)
{
    int offset, marker, len = bits ? *bits : 128;
    uint8_t v4[4];

    if (*family != 6 || !embedded_v4(addr, &offset, &marker))
        return;
    /* A source prefix that ends inside the marker says nothing about the IPv4 address. */
    if (len <= marker)
        return;
    memcpy(v4, addr + offset, sizeof(v4));
    memset(addr, 0, 16);
    memcpy(addr, v4, sizeof(v4));
    *family = 4;
    if (bits)
        *bits = len - marker > 32 ? 32 : len - marker;
}

double
geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI / 180.0;
    const double earth_km = 6371.0088; /* IUGG mean radius */
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

    /* Rounding can push h a hair above 1 for antipodes; asin needs [0, 1]. */
    if (h > 1.0)
        h = 1.0;
    return 2.0 * earth_km * asin(sqrt(h));
}
