/* SPDX-License-Identifier: MIT */
/* The health state file's text format: one line per health target, "key state force since
 * transitions" (e.g. "192.0.2.10|web-http up none 1700000000 3"); a line starting with '#'
 * is a comment, so a key starting with '#' is written indented.
 * The health thread writes it whole at each change and reads it once at start (monitor.c);
 * a line that does not parse is skipped, which costs that target its saved state, never the
 * start. Pure text functions on caller streams: any thread. */
#ifndef MERIDIAN_HEALTH_STATE_FILE_H
#define MERIDIAN_HEALTH_STATE_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HEALTH_STATE_KEY_MAX 800   /* longest key read back, with its NUL */
#define HEALTH_STATE_LINE_MAX 1024 /* lines this long or longer (with the newline) are skipped */

/* Names in the file, indexed by enum health_state and enum health_force. */
extern const char *const health_state_names[3];
extern const char *const health_force_names[3];

/* One line read back. */
struct health_saved {
    char key[HEALTH_STATE_KEY_MAX];
    uint8_t state;   /* enum health_state */
    uint8_t force;   /* enum health_force */
    long long since; /* wall clock of the last change of the probed state */
    unsigned long long transitions;
};

/* Writes one record line. state < 3, force < 3; the key has no blanks. */
void health_state_write(FILE *f, const char *key, uint8_t state, uint8_t force, long long since,
                        unsigned long long transitions);

/* Parses one line (with or without its newline). false for comments and malformed lines. */
bool health_state_parse(const char *line, struct health_saved *out);

/* Reads f to its end and calls fn for each record line. Returns the number of records. */
uint32_t health_state_read(FILE *f, void (*fn)(const struct health_saved *saved, void *arg),
                           void *arg);

#endif
