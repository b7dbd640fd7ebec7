/* SPDX-License-Identifier: MIT */
/* Blocking writes of a whole buffer to a file descriptor, for the files meridiand keeps in its
 * state directory (keys, journals). Not for sockets a loop polls: those have their own
 * non-blocking writers. Any thread. */
#ifndef MERIDIAN_COMMON_FD_IO_H
#define MERIDIAN_COMMON_FD_IO_H

#include <stddef.h>

/* Writes all n bytes of p to fd, retrying short writes and EINTR: 0, or -1 with errno set
 * (a write of 0 bytes counts as an error, errno EIO). */
int fd_write_all(int fd, const void *p, size_t n);

#endif
