// SPDX-License-Identifier: MIT
/* Loopback ports held for the life of a unit test process (see test_port.h). The lock files
 * and their protocol are tests/e2e/harness.py's: one file per port in a shared directory,
 * an exclusive non-blocking flock() taken and never released. */
#include "test_port.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ATTEMPTS 200

/* [first, last] outside the ephemeral range: below it if there is room, else above. */
static int
port_range(unsigned *first, unsigned *last)
{
    unsigned lo = 32768, hi = 60999; /* Linux's default */
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

    if (f) {
        if (fscanf(f, "%u %u", &lo, &hi) != 2)
            lo = 32768, hi = 60999;
        fclose(f);
    }
    if (lo >= 12001) {
        *first = 10000;
        *last = lo - 1;
    } else if (hi + 2001 <= 65535) {
        *first = hi + 1;
        *last = 65535;
    } else {
        fprintf(stderr, "test_port: no port range outside the ephemeral range %u-%u\n", lo, hi);
        return -1;
    }
    return 0;
}

/* True if a plain socket (no SO_REUSEPORT) of every type binds port on both loopbacks. The
 * sockets are closed again: the lock, not a socket, keeps the port ours. */
static bool
bindable(uint16_t port)
{
    static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    bool ok = true;

    for (int i = 0; i < 2 && ok; i++) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        int one = 1;
        int fd4 = socket(AF_INET, types[i] | SOCK_CLOEXEC, 0);
        int fd6 = socket(AF_INET6, types[i] | SOCK_CLOEXEC, 0);

        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin6.sin6_addr = in6addr_loopback;
        if (fd6 >= 0)
            setsockopt(fd6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        ok = fd4 >= 0 && fd6 >= 0 && bind(fd4, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
             bind(fd6, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
        if (fd4 >= 0)
            close(fd4);
        if (fd6 >= 0)
            close(fd6);
    }
    return ok;
}

int
test_port_hold(uint16_t *port)
{
    static bool seeded;
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[600];
    unsigned first, last;

    if (port_range(&first, &last) < 0)
        return -1;
    if (!tmp || !tmp[0])
        tmp = "/tmp";
    snprintf(dir, sizeof(dir), "%s/meridian-e2e-ports", tmp);
    /* 0777 as the harness asks (less the umask): tests of every user share the directory. */
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "test_port: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (!seeded) {
        srandom((unsigned)getpid() ^ (unsigned)time(NULL));
        seeded = true;
    }
    for (int i = 0; i < ATTEMPTS; i++) {
        unsigned p = first + (unsigned)random() % (last - first + 1);
        int fd;

        snprintf(path, sizeof(path), "%s/%u.lock", dir, p);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            close(fd); /* another test process holds it */
            continue;
        }
        if (bindable((uint16_t)p)) {
            *port = (uint16_t)p; /* fd stays open, and locked, until the process exits */
            return 0;
        }
        close(fd); /* some other program has it: leave it alone */
    }
    fprintf(stderr, "test_port: no free loopback port in %u-%u after %d attempts\n", first, last,
            ATTEMPTS);
    return -1;
}
