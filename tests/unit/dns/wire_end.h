/* SPDX-License-Identifier: MIT */
/* A structural check of responses for tests and fuzzers: where a message ends when walked
 * by its header counts (question entries, then records with their RDLENGTH). A response
 * whose returned length differs from that end has stale, missing or miscounted bytes. */
#ifndef MERIDIAN_TESTS_DNS_WIRE_END_H
#define MERIDIAN_TESTS_DNS_WIRE_END_H

#include <stddef.h>
#include <stdint.h>

/* The offset where the message in m[0..n) ends, or 0 if it is cut short or malformed. */
size_t wire_message_end(const uint8_t *m, size_t n);

#endif
