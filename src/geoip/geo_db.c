// SPDX-License-Identifier: MIT
/* MaxMind DB compiler: opens an .mmdb with libmaxminddb, walks its whole search tree once
 * (MMDB_read_node, depth first) and turns it into a struct geo_db: the distinct locations
 * (continent, country, subdivision, coordinates) read from the data records with the
 * configured lookup paths, and a network trie from addresses to location ids, built
 * bottom-up so that sibling networks with one location are merged. Each data record is
 * decoded once (a hash map from data offset to location id) and equal locations share one
 * id. The file is closed before returning: lookups never touch MMDB data. Runs on the loader
 * thread; the result is immutable and shared by the workers.
 *
 * IPv6 databases hold IPv4 under ::/96; the node reached by 96 zero bits is the IPv4 root.
 * Writers alias ::ffff:0:0/96, 2002::/16 (and 2001::/32) to that node. Those aliases become
 * "unknown" leaves here instead of second copies of the IPv4 tree: callers turn such client
 * addresses into IPv4 with geo_normalize() first. Of ::/96 itself the IPv6 root keeps only
 * :: and ::1 (the two addresses geo_normalize leaves as IPv6), whose records are the IPv4
 * tree's 0.0.0.0 and 0.0.0.1. */
#include <errno.h>
#include <math.h>
#include <maxminddb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "geoip/geo_internal.h"
#include "geoip/geoip.h"

static const char *const geoip2_country[] = {"country", "iso_code", NULL};
static const char *const geoip2_continent[] = {"continent", "code", NULL};
static const char *const geoip2_subdivision[] = {"subdivisions", "0", "iso_code", NULL};
static const char *const geoip2_latitude[] = {"location", "latitude", NULL};
static const char *const geoip2_longitude[] = {"location", "longitude", NULL};

const struct geo_paths geo_paths_geoip2 = {
    .country = geoip2_country,
    .continent = geoip2_continent,
    .subdivision = geoip2_subdivision,
    .latitude = geoip2_latitude,
    .longitude = geoip2_longitude,
};

/* Flat layouts (ip-location-db, IPinfo and similar), tried when the configured path of a
 * country or continent finds no two-letter code in a record. */
static const char *const flat_country[][2] = {{"country_code", NULL}, {"country", NULL}};
static const char *const flat_continent[][2] = {{"continent_code", NULL}, {"continent", NULL}};

#define NO_NODE UINT32_MAX
#define NO_OFFSET UINT32_MAX /* empty slot in the offset map */
#define V4_START_DEPTH 96    /* ::/96 holds IPv4 in an IPv6 tree */
#define UNKNOWN_LEAF (GEO_TREE_LEAF | GEO_LOCATION_UNKNOWN)

struct loader {
    MMDB_s mmdb;
    const char *path;
    const struct geo_paths *paths;
    struct geo_db *db;
    uint32_t location_cap;
    /* Data offset -> location id, open addressing; every record is decoded once. */
    uint32_t *offset_keys;
    uint32_t *offset_ids;
    uint32_t offset_cap, offset_count;
    /* Location ids by content (slot = id + 1, 0 = free), so equal records share an id. */
    uint32_t *loc_slots;
    uint32_t loc_slot_cap;
    uint32_t v4_start; /* node reached by 96 zero bits (IPv6 trees), or NO_NODE */
    bool in_v6;        /* walking the IPv6 root, where v4_start is an alias */
    int max_depth;     /* address bits: 32 or 128 */
    uint64_t visits, max_visits;
    char *err;
};

static int fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "path: message" into the caller's buffer; returns -1. */
static int
fail(struct loader *l, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(l->err, GEO_ERR_MAX, "%s: ", l->path);

    if (n < 0 || n >= GEO_ERR_MAX)
        return -1;
    va_start(ap, fmt);
    vsnprintf(l->err + n, GEO_ERR_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static uint32_t
hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* ---- data offset -> location id ---------------------------------------------------- */

static bool
offset_find(const struct loader *l, uint32_t offset, uint32_t *id)
{
    uint32_t mask = l->offset_cap - 1;

    if (l->offset_cap == 0)
        return false;
    for (uint32_t i = hash32(offset) & mask; l->offset_keys[i] != NO_OFFSET; i = (i + 1) & mask)
        if (l->offset_keys[i] == offset) {
            *id = l->offset_ids[i];
            return true;
        }
    return false;
}

static void
offset_insert(struct loader *l, uint32_t offset, uint32_t id)
{
    uint32_t mask, i;

    /* Keep the load factor at or below 1/2 so probe chains stay short. */
    if ((l->offset_count + 1) * 2 > l->offset_cap) {
        uint32_t *keys = l->offset_keys, *ids = l->offset_ids, old_cap = l->offset_cap;
        l->offset_cap = old_cap ? old_cap * 2 : 256;
        l->offset_keys = xmalloc(l->offset_cap * sizeof(uint32_t));
        l->offset_ids = xmalloc(l->offset_cap * sizeof(uint32_t));
        memset(l->offset_keys, 0xff, l->offset_cap * sizeof(uint32_t)); /* all NO_OFFSET */
        l->offset_count = 0;
        for (uint32_t j = 0; j < old_cap; j++)
            if (keys[j] != NO_OFFSET)
                offset_insert(l, keys[j], ids[j]);
        free(keys);
        free(ids);
    }
    mask = l->offset_cap - 1;
    for (i = hash32(offset) & mask; l->offset_keys[i] != NO_OFFSET; i = (i + 1) & mask)
        ;
    l->offset_keys[i] = offset;
    l->offset_ids[i] = id;
    l->offset_count++;
}

/* ---- distinct locations ------------------------------------------------------------ */

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* Hashes exactly the fields location_equal() compares. */
static uint32_t
location_hash(const struct geo_location *loc)
{
    uint64_t h = 1469598103934665603ULL;

    h = fnv1a(h, loc->continent, sizeof(loc->continent));
    h = fnv1a(h, loc->country, sizeof(loc->country));
    h = fnv1a(h, loc->subdivision, sizeof(loc->subdivision));
    if (loc->has_coords) {
        h = fnv1a(h, &loc->latitude, sizeof(loc->latitude));
        h = fnv1a(h, &loc->longitude, sizeof(loc->longitude));
    }
    return (uint32_t)(h ^ (h >> 32));
}

static bool
location_equal(const struct geo_location *a, const struct geo_location *b)
{
    return strcmp(a->continent, b->continent) == 0 && strcmp(a->country, b->country) == 0 &&
           strcmp(a->subdivision, b->subdivision) == 0 && a->has_coords == b->has_coords &&
           (!a->has_coords || (a->latitude == b->latitude && a->longitude == b->longitude));
}

static void
loc_slot_put(struct loader *l, const struct geo_location *loc, uint32_t id)
{
    uint32_t mask = l->loc_slot_cap - 1, i;

    for (i = location_hash(loc) & mask; l->loc_slots[i]; i = (i + 1) & mask)
        ;
    l->loc_slots[i] = id + 1;
}

/* The id of `loc`, adding it if new. A record with none of the fields is the unknown
 * location: it answers like an address without a record. */
static uint32_t
location_intern(struct loader *l, const struct geo_location *loc)
{
    struct geo_db *db = l->db;
    uint32_t mask, i, id;

    if (!loc->continent[0] && !loc->country[0] && !loc->subdivision[0] && !loc->has_coords)
        return GEO_LOCATION_UNKNOWN;
    mask = l->loc_slot_cap - 1;
    for (i = location_hash(loc) & mask; l->loc_slots[i]; i = (i + 1) & mask)
        if (location_equal(&db->locations[l->loc_slots[i] - 1], loc))
            return l->loc_slots[i] - 1;

    /* Ids become leaf values, which must stay below GEO_TREE_LEAF; the data section of a
     * file under 4 GiB cannot hold 2^31 records, so this cannot overflow. */
    if (db->location_count == l->location_cap) {
        l->location_cap *= 2;
        db->locations = xrealloc(db->locations, l->location_cap * sizeof(*db->locations));
    }
    id = db->location_count++;
    db->locations[id] = *loc;
    if ((db->location_count + 1) * 2 > l->loc_slot_cap) {
        free(l->loc_slots);
        l->loc_slot_cap *= 2;
        l->loc_slots = xcalloc(l->loc_slot_cap, sizeof(uint32_t));
        for (uint32_t j = 1; j < db->location_count; j++)
            loc_slot_put(l, &db->locations[j], j);
    } else {
        loc_slot_put(l, loc, id);
    }
    return id;
}

/* ---- reading one data record ------------------------------------------------------- */

/* The value at `keys` below `entry`; has_data is false when the record lacks it. Missing
 * keys and type mismatches along the path are absences; anything else is a corrupt file. */
static int
get_value(struct loader *l, MMDB_entry_s entry, const char *const *keys, MMDB_entry_data_s *d)
{
    int rc;

    memset(d, 0, sizeof(*d));
    if (!keys)
        return 0;
    rc = MMDB_aget_value(&entry, d, keys);
    if (rc == MMDB_SUCCESS)
        return 0;
    d->has_data = false;
    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || rc == MMDB_INVALID_LOOKUP_PATH_ERROR)
        return 0;
    return fail(l, "data record at offset %u: %s", entry.offset, MMDB_strerror(rc));
}

/* Copies a code of min..max ASCII letters (or digits too, for subdivisions), upper-cased,
 * into out, which the caller zeroed; anything else leaves out untouched (all zero, since
 * locations are hashed over their whole buffers). */
static bool
copy_code(const MMDB_entry_data_s *d, char *out, uint32_t min, uint32_t max, bool digits)
{
    if (!d->has_data || d->type != MMDB_DATA_TYPE_UTF8_STRING || d->data_size < min ||
        d->data_size > max)
        return false;
    for (uint32_t i = 0; i < d->data_size; i++) {
        char c = d->utf8_string[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (digits && c >= '0' && c <= '9')))
            return false;
    }
    for (uint32_t i = 0; i < d->data_size; i++) {
        char c = d->utf8_string[i];
        out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    out[d->data_size] = '\0';
    return true;
}

static bool
number(const MMDB_entry_data_s *d, double *v)
{
    if (!d->has_data)
        return false;
    switch (d->type) {
    case MMDB_DATA_TYPE_DOUBLE:
        *v = d->double_value;
        break;
    case MMDB_DATA_TYPE_FLOAT:
        *v = d->float_value;
        break;
    case MMDB_DATA_TYPE_INT32:
        *v = d->int32;
        break;
    case MMDB_DATA_TYPE_UINT16:
        *v = d->uint16;
        break;
    case MMDB_DATA_TYPE_UINT32:
        *v = d->uint32;
        break;
    default:
        return false;
    }
    return isfinite(*v);
}

/* A two-letter code from the configured path, else from the flat top-level keys. */
static int
read_code2(struct loader *l, MMDB_entry_s entry, const char *const *keys,
           const char *const flat[][2], char out[3])
{
    MMDB_entry_data_s d;

    if (!keys)
        return 0;
    if (get_value(l, entry, keys, &d) < 0)
        return -1;
    if (copy_code(&d, out, 2, 2, false))
        return 0;
    for (int i = 0; i < 2; i++) {
        if (get_value(l, entry, flat[i], &d) < 0)
            return -1;
        if (copy_code(&d, out, 2, 2, false))
            return 0;
    }
    return 0;
}

static int
read_location(struct loader *l, MMDB_entry_s entry, struct geo_location *loc)
{
    const struct geo_paths *p = l->paths;
    MMDB_entry_data_s d;
    double lat, lon;
    bool has_lat, has_lon;

    memset(loc, 0, sizeof(*loc)); /* padding too: locations are hashed field by field */
    if (read_code2(l, entry, p->country, flat_country, loc->country) < 0 ||
        read_code2(l, entry, p->continent, flat_continent, loc->continent) < 0)
        return -1;
    if (get_value(l, entry, p->subdivision, &d) < 0)
        return -1;
    copy_code(&d, loc->subdivision, 1, sizeof(loc->subdivision) - 1, true);

    if (get_value(l, entry, p->latitude, &d) < 0)
        return -1;
    has_lat = number(&d, &lat) && lat >= -90.0 && lat <= 90.0;
    if (get_value(l, entry, p->longitude, &d) < 0)
        return -1;
    has_lon = number(&d, &lon) && lon >= -180.0 && lon <= 180.0;
    if (has_lat && has_lon) {
        loc->has_coords = true;
        loc->latitude = lat == 0.0 ? 0.0 : lat; /* -0.0 would hash apart from 0.0 */
        loc->longitude = lon == 0.0 ? 0.0 : lon;
    }

    /* Country-only databases still serve continent rules. */
    if (loc->country[0] && !loc->continent[0]) {
        const char *c = geo_continent_of(loc->country);
        if (c)
            memcpy(loc->continent, c, 3);
    }
    return 0;
}

/* The location id of a data record, decoding it on first sight. */
static int
resolve(struct loader *l, MMDB_entry_s entry, uint32_t *id)
{
    struct geo_location loc;

    if (offset_find(l, entry.offset, id))
        return 0;
    if (read_location(l, entry, &loc) < 0)
        return -1;
    *id = location_intern(l, &loc);
    offset_insert(l, entry.offset, *id);
    return 0;
}

/* ---- the search tree ----------------------------------------------------------------- */

static int
read_node(struct loader *l, uint32_t node, MMDB_search_node_s *n)
{
    int rc = MMDB_read_node(&l->mmdb, node, n);

    if (rc != MMDB_SUCCESS)
        return fail(l, "corrupt search tree: node %u: %s", node, MMDB_strerror(rc));
    return 0;
}

/* The leaf for a record that is not a search node. */
static int
leaf_of(struct loader *l, uint8_t type, MMDB_entry_s entry, uint32_t *ref)
{
    uint32_t id;

    switch (type) {
    case MMDB_RECORD_TYPE_EMPTY:
        *ref = UNKNOWN_LEAF;
        return 0;
    case MMDB_RECORD_TYPE_DATA:
        if (resolve(l, entry, &id) < 0)
            return -1;
        *ref = GEO_TREE_LEAF | id;
        return 0;
    default:
        return fail(l, "corrupt search tree: record points outside the file");
    }
}

/* The IPv6 root's copy of ::/96: unknown except :: and ::1, which carry the records of
 * 0.0.0.0 and 0.0.0.1 (the same slots of the MMDB tree). */
static uint32_t
compat_chain(struct loader *l)
{
    static const uint8_t v4_zero[4] = {0, 0, 0, 0}, v4_one[4] = {0, 0, 0, 1};
    struct geo_tree *t = &l->db->tree;
    uint32_t ref = geo_tree_join(t, GEO_TREE_LEAF | geo_tree_lookup(t, 4, v4_zero, NULL),
                                 GEO_TREE_LEAF | geo_tree_lookup(t, 4, v4_one, NULL));

    /* Bits 96..126 are zero on the way to :: and ::1; the other side is unknown. */
    for (int d = 126; d >= V4_START_DEPTH; d--)
        ref = geo_tree_join(t, ref, UNKNOWN_LEAF);
    return ref;
}

static int walk_node(struct loader *l, uint32_t node, int depth, bool zero_path, uint32_t *ref);

/* Compiles one record; `depth` is the prefix length of the network it covers. */
static int
walk_record(struct loader *l, uint8_t type, uint64_t record, MMDB_entry_s entry, int depth,
            bool zero_path, uint32_t *ref)
{
    if (type != MMDB_RECORD_TYPE_SEARCH_NODE)
        return leaf_of(l, type, entry, ref);
    if (l->in_v6 && record == l->v4_start) {
        /* ::/96 itself, or one of the aliases of the IPv4 tree. */
        *ref = (zero_path && depth == V4_START_DEPTH) ? compat_chain(l) : UNKNOWN_LEAF;
        return 0;
    }
    return walk_node(l, (uint32_t)record, depth, zero_path, ref);
}

/* Compiles the subtree of `node`, which tests address bit `depth`; `zero_path` says all
 * bits before it are zero. Recursion is bounded by the address length. */
static int
walk_node(struct loader *l, uint32_t node, int depth, bool zero_path, uint32_t *ref)
{
    MMDB_search_node_s n;
    uint32_t left, right;

    if (depth >= l->max_depth)
        return fail(l, "corrupt search tree: deeper than %d bits", l->max_depth);
    /* In a well-formed file every node has one parent; a file whose records share or loop
     * could make the walk exponential. */
    if (++l->visits > l->max_visits)
        return fail(l, "corrupt search tree: nodes are shared or form a loop");
    if (read_node(l, node, &n) < 0 ||
        walk_record(l, n.left_record_type, n.left_record, n.left_record_entry, depth + 1, zero_path,
                    &left) < 0 ||
        walk_record(l, n.right_record_type, n.right_record, n.right_record_entry, depth + 1, false,
                    &right) < 0)
        return -1;
    *ref = geo_tree_join(&l->db->tree, left, right);
    return 0;
}

/* Follows 96 zero bits from the root to the IPv4 tree, as libmaxminddb does for IPv4
 * lookups. If a record ends the path early, all of IPv4 is that one record. */
static int
find_v4_start(struct loader *l, uint32_t *v4_leaf)
{
    uint32_t node = 0;

    for (int d = 0; d < V4_START_DEPTH; d++) {
        MMDB_search_node_s n;
        if (read_node(l, node, &n) < 0)
            return -1;
        if (n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
            l->v4_start = NO_NODE;
            return leaf_of(l, n.left_record_type, n.left_record_entry, v4_leaf);
        }
        node = (uint32_t)n.left_record;
    }
    l->v4_start = node;
    return 0;
}

static int
compile(struct loader *l)
{
    const MMDB_metadata_s *md = &l->mmdb.metadata;
    struct geo_tree *t = &l->db->tree;

    /* Each node is walked once (the IPv4 tree from its start node, not via the aliases);
     * the slack only tolerates writers that share a few nodes. */
    l->max_visits = 4 * (uint64_t)md->node_count + 1024;
    if (md->ip_version == 4) {
        l->max_depth = 32;
        return walk_node(l, 0, 0, true, &t->root_v4);
    }
    if (md->ip_version != 6)
        return fail(l, "unsupported ip_version %u", md->ip_version);
    l->max_depth = 128;
    if (find_v4_start(l, &t->root_v4) < 0)
        return -1;
    if (l->v4_start != NO_NODE && walk_node(l, l->v4_start, V4_START_DEPTH, true, &t->root_v4) < 0)
        return -1;
    /* The IPv4 root is complete before the IPv6 walk: compat_chain() looks into it. */
    l->in_v6 = true;
    return walk_node(l, 0, 0, true, &t->root_v6);
}

int
geo_db_load(const char *path, const struct geo_paths *paths, struct geo_db **out,
            char err[GEO_ERR_MAX])
{
    struct loader l = {.path = path, .paths = paths ? paths : &geo_paths_geoip2, .err = err};
    struct geo_db *db = xcalloc(1, sizeof(*db));
    bool opened = false;
    int rc = -1, status;

    *out = NULL;
    err[0] = '\0';
    l.db = db;
    geo_tree_init_constant(&db->tree, GEO_LOCATION_UNKNOWN);
    status = MMDB_open(path, MMDB_MODE_MMAP, &l.mmdb);
    if (status == MMDB_IO_ERROR) {
        fail(&l, "cannot open: %s (%s)", MMDB_strerror(status), strerror(errno));
        goto out;
    } else if (status != MMDB_SUCCESS) {
        fail(&l, "cannot open: %s", MMDB_strerror(status));
        goto out;
    }
    opened = true;

    db->path = xstrdup(path);
    db->build_epoch = l.mmdb.metadata.build_epoch;
    db->database_type = xstrdup(l.mmdb.metadata.database_type ? l.mmdb.metadata.database_type : "");
    l.location_cap = 64;
    db->locations = xcalloc(l.location_cap, sizeof(*db->locations)); /* [0]: unknown */
    db->location_count = 1;
    l.loc_slot_cap = 128;
    l.loc_slots = xcalloc(l.loc_slot_cap, sizeof(uint32_t));

    if (compile(&l) < 0)
        goto out;
    geo_tree_shrink(&db->tree);
    db->locations = xrealloc(db->locations, db->location_count * sizeof(*db->locations));
    *out = db;
    rc = 0;
out:
    if (opened)
        MMDB_close(&l.mmdb);
    free(l.offset_keys);
    free(l.offset_ids);
    free(l.loc_slots);
    if (rc < 0)
        geo_db_free(db);
    return rc;
}

void
geo_db_free(struct geo_db *db)
{
    if (!db)
        return;
    free(db->locations);
    geo_tree_fini(&db->tree);
    free(db->path);
    free(db->database_type);
    free(db);
}
