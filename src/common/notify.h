/* SPDX-License-Identifier: MIT */
/* systemd notification (sd_notify protocol: one datagram to $NOTIFY_SOCKET) and the watchdog
 * period from $WATCHDOG_USEC, for meridiand and meridian-anycast (Type=notify units). No-ops
 * outside systemd. Any thread. */
#ifndef MERIDIAN_COMMON_NOTIFY_H
#define MERIDIAN_COMMON_NOTIFY_H

#include <stdint.h>

/* Sends e.g. "READY=1", "WATCHDOG=1", "STATUS=UP". */
void notify_systemd(const char *state);

/* The watchdog timeout in microseconds if systemd set one for this process, else 0. */
uint64_t notify_watchdog_usec(void);

#endif
