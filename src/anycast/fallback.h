/* SPDX-License-Identifier: MIT */
/* Fallback where no tun device may be created (some containers): the sidecar owns a BIRD
 * include file holding the static protocols named in bird_protocols (one per address
 * family of `prefixes`, IPv4 first) and rewrites it on every gate change, then asks BIRD to
 * `configure`. Announce = `route PREFIX blackhole;`, drain = the same with the
 * GRACEFUL_SHUTDOWN community (65535, 0) (RFC 8326), withdraw = the protocol with no routes
 * (valid in BIRD 2). Weaker than the gates: it fails open if the sidecar dies, and a syntax
 * error anywhere in BIRD's config blocks it; on a failed `configure` while withdrawing the
 * sidecar also sends `disable` for those protocols. Event loop thread. */
#ifndef MERIDIAN_ANYCAST_FALLBACK_H
#define MERIDIAN_ANYCAST_FALLBACK_H

#include <stddef.h>

#include "anycast/bird.h"
#include "anycast/config.h"

/* The include file's text for `intent` (heap string). */
char *anycast_fallback_render(const struct anycast_config *cfg, enum anycast_intent intent);

/* Writes `text` to `path` atomically (temporary file in the same directory, fsync, rename),
 * so BIRD never reads half a file. 0, or -1 with a message in err. */
int anycast_fallback_write(const char *path, const char *text, char *err, size_t err_size)
    __attribute__((warn_unused_result));

/* True for the replies to `configure` that mean BIRD took the new file: 0003 Reconfigured,
 * 0004 Reconfiguration in progress (BIRD 3, or protocols restarting), 0005 queued. */
bool anycast_fallback_configured(int code);

#endif
