/* SPDX-License-Identifier: MIT */
/* Shared by the dnssec unit tests and dnssec_tool: RRsets in the zone's RDATA format
 * (zone/zone.h struct zone_rrset) built from presentation text by ldns, an encoder
 * independent of the code under test. Single-threaded setup; the results are read-only. */
#ifndef MERIDIAN_TESTS_DNSSEC_TEST_H
#define MERIDIAN_TESTS_DNSSEC_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/dname.h"

#define T_RRSET_MAX 16384

struct t_rrset {
    uint8_t owner[DNAME_MAX_LEN]; /* as written: case kept */
    uint16_t type;
    uint16_t rclass;
    uint32_t ttl;
    uint16_t count;
    size_t len;
    uint8_t rdata[T_RRSET_MAX]; /* count times: 16-bit length, wire RDATA */
};

/* Parses one record ("owner ttl class type rdata", absolute names) and appends its RDATA;
 * the first record of an empty set gives owner, type, class and TTL. 0, or -1 if ldns
 * cannot parse it or the set is full. */
int t_rrset_add(struct t_rrset *set, const char *text);

/* The RDATA (wire, case kept) of one record into out: its length, or -1. *type gets its
 * type if type is not NULL. */
int t_rdata(const char *text, uint8_t *out, size_t max, uint16_t *type);

/* A wire name from presentation text into buf (abort on a bad name). */
const uint8_t *t_name(const char *text, uint8_t buf[DNAME_MAX_LEN]);

#endif
