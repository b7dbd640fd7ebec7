/* SPDX-License-Identifier: MIT */
/* meridiand's view of the site, from one `status` request on its control socket (reply:
 * "ok" first, then "key: value" lines; the sidecar reads "site: active|drained",
 * "loaded: UNIXTIME" and "last_reload: ok|failed|none at T[: error]"). Pure parsing and
 * judging; the request itself is made by the prober. Event loop thread. */
#ifndef MERIDIAN_ANYCAST_SITE_H
#define MERIDIAN_ANYCAST_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct anycast_site_status {
    bool drained;       /* "site: drained": an operator drained the site in meridiand */
    bool reload_failed; /* "last_reload: failed ..." */
    bool have_loaded;
    int64_t loaded_unix; /* "loaded: <UTC time>" (or Unix seconds), wall-clock seconds */
    char reload_error[160];
};

/* Parses a complete reply. 0, or -1 with a message in err if it is not an "ok" reply. */
int anycast_site_parse(const char *text, struct anycast_site_status *out, char *err,
                       size_t err_size) __attribute__((warn_unused_result));

/* The soft failure the status implies at `now_unix` (max_age_ms 0 = no age limit): true with
 * a reason, or false. A drained site is not a soft failure (it is a drain). */
bool anycast_site_soft_failure(const struct anycast_site_status *st, int64_t now_unix,
                               uint32_t max_age_ms, char *why, size_t why_size);

#endif
