// SPDX-License-Identifier: MIT
/* Gate devices (see gate.h): TUNSETIFF on /dev/net/tun, TUNSETPERSIST 0 so the device dies
 * with the fd even if a persistent one of that name was left behind, and SIOCGIFFLAGS /
 * SIOCSIFFLAGS through a short-lived AF_INET datagram socket. Event loop thread. */
#include "anycast/gate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

#define DROP_BATCH 64 /* packets read per wakeup */

static void
drop_packets(struct ev_loop *loop, ev_io *w, int revents)
{
    struct anycast_gate *g = w->data;
    unsigned char buf[2048];

    (void)loop;
    (void)revents;
    /* Nothing is ever routed here on purpose; bounded so a flood cannot starve the loop. */
    for (int i = 0; i < DROP_BATCH; i++)
        if (read(g->fd, buf, sizeof(buf)) < 0)
            break;
}

static int
set_flags(const char *name, bool up, char *err, size_t err_size)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int rc = -1;

    if (s < 0) {
        snprintf(err, err_size, "%s: socket: %s", name, strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        snprintf(err, err_size, "%s: SIOCGIFFLAGS: %s", name, strerror(errno));
        goto out;
    }
    if (up)
        ifr.ifr_flags |= IFF_UP;
    else
        ifr.ifr_flags &= ~IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
        snprintf(err, err_size, "%s: SIOCSIFFLAGS: %s", name, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    close(s);
    return rc;
}

int
anycast_gate_open(struct anycast_gate *g, struct ev_loop *loop, const char *name, char *err,
                  size_t err_size)
{
    struct ifreq ifr;
    int rc = -1;

    memset(g, 0, sizeof(*g));
    g->loop = loop;
    snprintf(g->name, sizeof(g->name), "%s", name);
    g->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (g->fd < 0) {
        snprintf(err, err_size, "/dev/net/tun: %s", strerror(errno));
        goto out;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(g->fd, TUNSETIFF, &ifr) < 0) {
        /* EBUSY: another process holds a device of that name (a second sidecar?); EINVAL: a
         * device of that name exists and is no tun device. */
        snprintf(err, err_size, "%s: TUNSETIFF: %s%s", name, strerror(errno),
                 errno == EBUSY ? " (in use by another process?)" : "");
        goto out;
    }
    /* Attaching to a leftover persistent device would outlive us: make it die with the fd. */
    if (ioctl(g->fd, TUNSETPERSIST, 0) < 0) {
        snprintf(err, err_size, "%s: TUNSETPERSIST: %s", name, strerror(errno));
        goto out;
    }
    if (set_flags(name, false, err, err_size) < 0)
        goto out;
    ev_io_init(&g->io, drop_packets, g->fd, EV_READ);
    g->io.data = g;
    ev_io_start(loop, &g->io);
    rc = 0;
out:
    if (rc < 0 && g->fd >= 0) {
        close(g->fd);
        g->fd = -1;
    }
    return rc;
}

int
anycast_gate_set(struct anycast_gate *g, bool up, char *err, size_t err_size)
{
    if (g->fd < 0) {
        snprintf(err, err_size, "%s: not open", g->name);
        return -1;
    }
    if (set_flags(g->name, up, err, err_size) < 0)
        return -1;
    g->up = up;
    return 0;
}

void
anycast_gate_close(struct anycast_gate *g)
{
    char err[128];
    if (g->fd < 0)
        return;
    /* Down first, so BIRD sees the withdrawal even if something else holds the fd open
     * (a forked child would keep the device alive; O_CLOEXEC prevents that for exec). */
    if (set_flags(g->name, false, err, sizeof(err)) < 0)
        log_warning("gate %s: %s", g->name, err);
    ev_io_stop(g->loop, &g->io);
    close(g->fd);
    g->fd = -1;
    g->up = false;
}
