/* SPDX-License-Identifier: MIT */
/* The control protocol's command line (see control.h): "COMMAND ARGS..." split into words
 * and checked for a known command and its word count. Pure: no snapshot, no monitor, no
 * I/O, so the control thread, tests and the fuzzer call it alike. Any thread. */
#ifndef MERIDIAN_SERVER_CONTROL_PARSE_H
#define MERIDIAN_SERVER_CONTROL_PARSE_H

#include "health/monitor.h"

#define CONTROL_MAX_WORDS 8  /* a longer line is an error */
#define CONTROL_ERROR_MAX 320 /* room for control_parse's error text */

enum control_op {
    CONTROL_STATUS,
    CONTROL_STATES,
    CONTROL_FORCE,   /* drain, undrain, force up|down: `force` and the selector words */
    CONTROL_EXPLAIN, /* args: CLIENT[/PREFIX] QNAME QTYPE */
    CONTROL_RELOAD,
    CONTROL_DNSSEC_DS,      /* args: ZONE [sha256|sha384|all] */
    CONTROL_DNSSEC_ROLL,    /* args: ZONE [csk|ksk|zsk] */
    CONTROL_DNSSEC_DS_SEEN, /* args: ZONE */
    CONTROL_ZONE_STATUS, /* args: ZONE */
    CONTROL_ZONE_REFRESH,    /* args: ZONE (a secondary) */
    CONTROL_ZONE_RETRANSFER, /* args: ZONE (a secondary): AXFR whatever the serial */
    CONTROL_RRL,             /* response rate limiting: settings and counters */
    CONTROL_STATS,           /* the counters (server/metrics.h) */
};

struct control_command {
    enum control_op op;
    enum health_force force;       /* CONTROL_FORCE: drain = DOWN, undrain = NONE, force up|down */
    char *args[CONTROL_MAX_WORDS]; /* point into the line */
    int arg_count;
};

/* Splits `line` (modified in place: words are cut out of it) into a command. Returns 0, or
 * -1 with the reply's error text (without "error: "), naming what is missing or unknown, in
 * error. */
int control_parse(char *line, struct control_command *cmd, char error[CONTROL_ERROR_MAX])
    __attribute__((warn_unused_result));

#endif
