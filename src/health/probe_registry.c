// SPDX-License-Identifier: MIT
/* The registry of health checkers: the one place that lists them (ARCHITECTURE.md §6). A new
 * checker is a new probe_<name>.c defining `const struct probe_checker probe_checker_<name>`,
 * plus its line in each list below. The order is the order of their per-context ctx_new
 * (and ctx_free); which checker runs a check is decided by the type masks, not the order. */
#include "health/probe_internal.h"

extern const struct probe_checker probe_checker_tcp;
extern const struct probe_checker probe_checker_http;
extern const struct probe_checker probe_checker_dns;
extern const struct probe_checker probe_checker_exec;
extern const struct probe_checker probe_checker_file;

const struct probe_checker *const probe_checkers[] = {
    &probe_checker_tcp,  /* tcp to an address */
    &probe_checker_http, /* http, https; tcp to a name (libcurl resolves it) */
    &probe_checker_dns,  /* dns */
    &probe_checker_exec, /* exec */
    &probe_checker_file, /* file */
};

const size_t probe_checker_count = sizeof(probe_checkers) / sizeof(probe_checkers[0]);
