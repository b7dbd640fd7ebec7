/* SPDX-License-Identifier: MIT */
/* systemd notification (sd_notify protocol: one datagram to $NOTIFY_SOCKET) and the watchdog
 * period from $WATCHDOG_USEC. No-ops outside systemd. Event loop thread. */
#ifndef MERIDIAN_ANYCAST_NOTIFY_H
#define MERIDIAN_ANYCAST_NOTIFY_H

#include <stdint.h>

/* Sends e.g. "READY=1", "WATCHDOG=1", "STATUS=UP". */
void anycast_notify(const char *state);

/* The watchdog timeout in microseconds if systemd set one for this process, else 0. */
uint64_t anycast_notify_watchdog_usec(void);

#endif
