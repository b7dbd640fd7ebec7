// SPDX-License-Identifier: MIT
/* sd_notify without libsystemd (see notify.h): the protocol is one datagram on a UNIX socket
 * whose path (or abstract name, '@') is in $NOTIFY_SOCKET. Any thread. */
#include "common/notify.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void
notify_systemd(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t len;
    int fd;

    if (!path || (path[0] != '/' && path[0] != '@'))
        return;
    len = strlen(path);
    if (len >= sizeof(sun.sun_path))
        return;
    memcpy(sun.sun_path, path, len);
    if (sun.sun_path[0] == '@')
        sun.sun_path[0] = '\0'; /* abstract namespace */
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    (void)sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    close(fd);
}

uint64_t
notify_watchdog_usec(void)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    char *end;
    unsigned long long v;

    if (!usec)
        return 0;
    /* WATCHDOG_PID, when set, names the process the watchdog is meant for. */
    if (pid && strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    v = strtoull(usec, &end, 10);
    return *end == '\0' ? (uint64_t)v : 0;
}
