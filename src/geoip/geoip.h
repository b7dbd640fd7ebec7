/* SPDX-License-Identifier: MIT */
/* GeoIP: a MaxMind DB (libmaxminddb) compiled at load into network trees, so the query
 * path never decodes MMDB data. geo_db_load() walks the whole MMDB search tree once and
 * produces (1) the distinct locations it contains and (2) a binary trie from networks to
 * location ids, with sibling networks of the same location merged. A steering policy then
 * derives its own trie with geo_tree_map() (location -> answer id) which merges again
 * wherever neighbours get the same answer: the depth of the leaf a client lands in is the
 * widest correct ECS scope (RFC 7871 §7.2.1), as gdnsd does. Built on the loader thread;
 * immutable afterwards and read by every worker. */
#ifndef MERIDIAN_GEOIP_GEOIP_H
#define MERIDIAN_GEOIP_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GEO_ERR_MAX 512
#define GEO_LOCATION_UNKNOWN 0 /* location id of addresses with no record */

struct geo_location {
    char continent[3];   /* "EU", or "" if absent */
    char country[3];     /* "DE", or "" */
    char subdivision[8]; /* ISO 3166-2 without the country part ("CA" for US-CA), or "" */
    bool has_coords;
    double latitude;
    double longitude;
};

/* A binary trie over address bits. Each node has two children; a child is either another
 * node (index) or a leaf holding a value (GEO_TREE_LEAF bit set). IPv4 and IPv6 have their
 * own roots; a root may itself be a leaf. */
#define GEO_TREE_LEAF 0x80000000u
struct geo_tree {
    uint32_t (*nodes)[2];
    uint32_t node_count;
    uint32_t node_cap; /* entries allocated in nodes (private to geo_tree.c; 0 = node_count) */
    uint32_t root_v4; /* a child reference: node index or GEO_TREE_LEAF | value */
    uint32_t root_v6;
};

/* Lookup paths into MMDB records: NULL-terminated key lists (a decimal key indexes an
 * array). A NULL list means "not available in this layout". */
struct geo_paths {
    const char *const *country;
    const char *const *continent;
    const char *const *subdivision;
    const char *const *latitude;
    const char *const *longitude;
};

/* The GeoIP2/GeoLite2 City and Country layout. */
extern const struct geo_paths geo_paths_geoip2;

struct geo_db {
    struct geo_location *locations; /* [0] is the unknown location (all fields empty) */
    uint32_t location_count;
    struct geo_tree tree; /* leaf values are location ids */
    char *path;
    uint64_t build_epoch; /* from the MMDB metadata */
    char *database_type;  /* from the MMDB metadata */
};

/* Opens the MMDB at path and compiles it. When a record has a country but no continent,
 * the continent is derived from the country (a built-in ISO 3166 -> continent table), so
 * flat country-only databases still serve continent rules. When paths->country (or
 * paths->continent) finds nothing, the flat top-level keys "country_code" then "country"
 * ("continent_code" then "continent") are tried, if they hold a two-letter string. IPv4
 * lives under ::/96 in IPv6 databases; the IPv4-mapped (::ffff:0:0/96) and 6to4 (2002::/16)
 * aliases are not walked twice (lookups normalise those addresses to IPv4 first, see
 * geo_normalize). Returns 0, or -1 with "path: message" in err. */
int geo_db_load(const char *path, const struct geo_paths *paths, struct geo_db **out,
                char err[GEO_ERR_MAX]) __attribute__((warn_unused_result));
void geo_db_free(struct geo_db *db);

/* Finds the leaf for an address: family 4 (addr[0..3]) or 6 (addr[0..15]). Returns the leaf
 * value and its depth in *depth (the prefix length of the merged network holding the
 * address). For an ECS source prefix the caller passes the address with the bits beyond the
 * prefix zeroed (RFC 7871 §6); the depth may then exceed the source prefix, which RFC 7871
 * §7.2.1 allows as the scope. No allocation. */
uint32_t geo_tree_lookup(const struct geo_tree *tree, int family, const uint8_t *addr,
                         int *depth);

/* New tree with every leaf value v replaced by map[v] (v < map_len; values >= map_len map to
 * `fallback`), and sibling leaves with equal values merged bottom-up. */
int geo_tree_map(const struct geo_tree *src, const uint32_t *map, uint32_t map_len,
                 uint32_t fallback, struct geo_tree *out) __attribute__((warn_unused_result));

/* A tree where everything is `value` (for policies without GeoIP). */
void geo_tree_init_constant(struct geo_tree *tree, uint32_t value);

/* Sets `value` for a whole prefix (family 4/6), splitting leaves as needed; later calls win
 * over earlier ones on overlap only where they are more specific or equal: callers insert
 * least-specific first. Call geo_tree_merge afterwards. */
void geo_tree_set(struct geo_tree *tree, int family, const uint8_t *addr, int prefix_len,
                  uint32_t value);

/* Merges sibling leaves with equal values bottom-up and compacts the node array. */
void geo_tree_merge(struct geo_tree *tree);

void geo_tree_fini(struct geo_tree *tree);

/* Client address normalisation: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d, except :: and ::1) and 6to4 (2002:AABB:CCDD::/16 -> a.b.c.d) become
 * IPv4. family/addr/bits are updated in place (bits adjusted: 6to4 /48 source -> /32, mapped
 * /120 -> /24; a prefix that does not cover the embedded IPv4 address stays IPv6). */
void geo_normalize(int *family, uint8_t addr[16], int *bits);

/* Great-circle distance in km (haversine), for `order: nearest`. */
double geo_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
