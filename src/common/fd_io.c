// SPDX-License-Identifier: MIT
#include "common/fd_io.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

int
fd_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *at = p;
    while (n > 0) {
        ssize_t w = write(fd, at, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = EIO;
        if (w <= 0)
            return -1;
        at += w;
        n -= (size_t)w;
    }
    return 0;
}
