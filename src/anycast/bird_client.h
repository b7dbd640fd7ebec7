/* SPDX-License-Identifier: MIT */
/* An asynchronous BIRD CLI session on the event loop: connect to the control socket, read the
 * 0001 welcome, optionally send `restrict` (read-only session, BIRD answers 0016), then send
 * each command in turn and collect its complete reply (bird.h). The whole session has one
 * deadline, so a frozen BIRD cannot hold the sidecar. The callback runs once, from the loop;
 * the session frees itself (and the replies) when the callback returns. Event loop thread. */
#ifndef MERIDIAN_ANYCAST_BIRD_CLIENT_H
#define MERIDIAN_ANYCAST_BIRD_CLIENT_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anycast/bird.h"

struct anycast_bird_session;

/* rc 0: every command got a complete reply (which may itself be an 8xxx/9xxx error);
 * rc -1: connection, protocol or deadline failure, `err` says which (replies[] then holds
 * what was complete, `count` of them). */
typedef void (*anycast_bird_done_fn)(void *arg, int rc, const char *err,
                                     const struct anycast_bird_reply *replies, size_t count);

/* Starts a session; commands are copied. Returns the session (for cancelling) or NULL if the
 * callback has already run (e.g. connect refused: rc -1). */
struct anycast_bird_session *anycast_bird_session_start(struct ev_loop *loop, const char *path,
                                                        bool restricted,
                                                        const char *const *commands, size_t count,
                                                        uint32_t timeout_ms,
                                                        anycast_bird_done_fn done, void *arg);

/* Stops a running session without calling its callback. */
void anycast_bird_session_cancel(struct anycast_bird_session *s);

#endif
