/* SPDX-License-Identifier: MIT */
/* Private to the geoip module: the pieces geo_db.c (the MMDB compiler) shares with
 * geo_tree.c (trie building) and geo_continents.c (country -> continent). Loader thread. */
#ifndef MERIDIAN_GEOIP_GEO_INTERNAL_H
#define MERIDIAN_GEOIP_GEO_INTERNAL_H

#include <stdint.h>

#include "geoip/geoip.h"

/* The child reference for "left, right" appended to tree->nodes in post-order: two leaves
 * with the same value collapse into that leaf (sibling merge), anything else becomes a new
 * node. Building every trie bottom-up through this keeps it minimal: a node exists only if
 * its subtree holds two different values. Aborts if the tree outgrows 2^31 nodes. */
uint32_t geo_tree_join(struct geo_tree *tree, uint32_t left, uint32_t right);

/* Gives back the spare capacity of tree->nodes once a tree is complete. */
void geo_tree_shrink(struct geo_tree *tree);

/* The continent code ("EU") of an ISO 3166-1 alpha-2 country code (upper case), or NULL if
 * the code is unknown. Also knows the pseudo-codes EU, AP and XK found in GeoIP data. */
const char *geo_continent_of(const char country[2]);

#endif
