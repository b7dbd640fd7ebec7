// SPDX-License-Identifier: MIT
/* DNS over UDP for one worker. Each worker owns one SO_REUSEPORT socket per listen address;
 * when one becomes readable it reads up to UDP_BATCH datagrams with one recvmmsg, asks the
 * handler for each answer, and sends all answers with one sendmmsg: the per-packet syscalls
 * are what limits a core (measured here: ~400k qps per core with batching, ~170k without). Runs
 * only on the worker's thread; all buffers are allocated once when the worker is built.
 * Per-packet problems (truncated or short queries, send errors) are dropped silently. */
#include "net/net_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"

/* Datagrams per recvmmsg/sendmmsg. */
#define UDP_BATCH 32
/* Receive buffer per datagram. DNS queries are small (a question plus OPT, a cookie, maybe
 * ECS): one that does not fit is cut by the kernel, flagged MSG_TRUNC and dropped. */
#define UDP_RECV_SIZE 4096
/* Batches per wakeup: enough to drain a burst, bounded so that one busy socket does not
 * starve the worker's other sockets and TCP connections. The socket is level-triggered, so
 * what is left is read in the next loop iteration. */
#define UDP_MAX_BATCHES 8
/* Answers of one batch wait here for sendmmsg. The handler is always given NET_MSG_MAX bytes
 * to write into; when less is left, the pending answers are sent early. 256 KiB holds a full
 * batch of answers up to 6 KiB each without that. */
#define UDP_SEND_SPACE (256 * 1024)
/* Kernel socket buffers: room for bursts while the worker is busy elsewhere. The kernel caps
 * this at net.core.rmem_max / wmem_max; a smaller buffer is not an error. */
#define UDP_SOCKBUF_SIZE (4 * 1024 * 1024)

/* Room for one IP_PKTINFO or IPV6_PKTINFO control message, suitably aligned. */
union udp_cmsg {
    struct cmsghdr align;
    uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

struct udp_state {
    /* Receive side: slot i holds datagram i of the current batch. */
    struct mmsghdr rmsg[UDP_BATCH];
    struct iovec riov[UDP_BATCH];
    struct sockaddr_storage rname[UDP_BATCH];
    union udp_cmsg rctl[UDP_BATCH];
    /* Send side: answers not yet handed to sendmmsg, in sbuf[0, sused). */
    struct mmsghdr smsg[UDP_BATCH];
    struct iovec siov[UDP_BATCH];
    union udp_cmsg sctl[UDP_BATCH];
    unsigned scount;
    size_t sused;
    uint8_t rbuf[UDP_BATCH][UDP_RECV_SIZE];
    uint8_t sbuf[UDP_SEND_SPACE];
};

int
net_udp_open(const struct net_listen *l, int *out, char err[CONFIG_ERR_MAX])
{
    int one = 1;
    int size = UDP_SOCKBUF_SIZE;
    int fd = -1;
    int ret = -1;

    if (net_socket_open(l, SOCK_DGRAM, &fd, err) < 0)
        goto out;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));

    if (l->addr.ss_family == AF_INET) {
        /* Send without DF and ignore ICMP "fragmentation needed": a forged ICMP must not be
         * able to lower the MTU we use towards a client (PMTU poisoning). Older kernels lack
         * OMIT; DONT is the next best. */
        int pmtu = IP_PMTUDISC_OMIT;
        if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0) {
            pmtu = IP_PMTUDISC_DONT;
            (void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
        }
    } else {
        int pmtu = IPV6_PMTUDISC_OMIT;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
    }

    /* On a wildcard socket the kernel would pick the reply's source address by routing, and
     * a client talking to a secondary address would see the answer come from another one and
     * drop it. Ask for each datagram's destination so the reply can use it as its source. */
    if (l->wildcard) {
        int rc = l->addr.ss_family == AF_INET
                     ? setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))
                     : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
        if (rc < 0) {
            net_error(err, l, "setsockopt PKTINFO", errno);
            goto out;
        }
    }
    *out = fd;
    fd = -1;
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    return ret;
}

/* Sends the pending answers. sendmmsg stops at the first datagram it cannot send: when that
 * is because the socket buffer is full, the rest are dropped rather than waited for (clients
 * retry, RFC 1035 §4.2.1); any other error (e.g. an unroutable client) costs only that one
 * datagram. */
static void
udp_flush(struct net_sock *s, struct udp_state *u)
{
    unsigned i = 0;

    while (i < u->scount) {
        int n = sendmmsg(s->fd, u->smsg + i, u->scount - i, MSG_DONTWAIT);
        if (n > 0) {
            i += (unsigned)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        i++;
    }
    u->scount = 0;
    u->sused = 0;
}

/* Makes the reply leave from the address the query was sent to (wildcard sockets only). */
static void
udp_reply_source(struct msghdr *rh, struct msghdr *sh, union udp_cmsg *ctl)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(rh); c; c = CMSG_NXTHDR(rh, c)) {
        struct cmsghdr *oc;

        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo in;
            memcpy(&in, CMSG_DATA(c), sizeof(in));
            /* ipi_addr is the header's destination; interface 0 lets routing choose the way
             * out, as it would for a socket bound to that address. */
            struct in_pktinfo pi = {.ipi_ifindex = 0, .ipi_spec_dst = in.ipi_addr};
            memset(ctl, 0, sizeof(*ctl));
            sh->msg_control = ctl->buf;
            sh->msg_controllen = CMSG_SPACE(sizeof(pi));
            oc = CMSG_FIRSTHDR(sh);
            oc->cmsg_level = IPPROTO_IP;
            oc->cmsg_type = IP_PKTINFO;
            oc->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(oc), &pi, sizeof(pi));
            return;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            /* Keep the interface: a link-local source is meaningless without it. */
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            memset(ctl, 0, sizeof(*ctl));
            sh->msg_control = ctl->buf;
            sh->msg_controllen = CMSG_SPACE(sizeof(pi));
            oc = CMSG_FIRSTHDR(sh);
            oc->cmsg_level = IPPROTO_IPV6;
            oc->cmsg_type = IPV6_PKTINFO;
            oc->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(oc), &pi, sizeof(pi));
            return;
        }
    }
}

/* Answers datagram i of the batch and queues the answer. */
static void
udp_answer_one(struct net_sock *s, struct udp_state *u, unsigned i)
{
    const struct net_handler *h = &s->worker->net->handler;
    struct msghdr *rh = &u->rmsg[i].msg_hdr;
    size_t len = u->rmsg[i].msg_len;

    /* A truncated query would be answered as a different message; one shorter than a header
     * has nothing to answer to. */
    if ((rh->msg_flags & MSG_TRUNC) || len < NET_DNS_HEADER_SIZE) {
        net_event_report(s->worker, (rh->msg_flags & MSG_TRUNC) ? NET_EVENT_UDP_TRUNCATED
                                                                 : NET_EVENT_SHORT);
        return;
    }
    if (UDP_SEND_SPACE - u->sused < NET_MSG_MAX)
        udp_flush(s, u);

    struct net_query q = {
        .client = (const struct sockaddr *)&u->rname[i],
        .client_len = rh->msg_namelen,
        .local = (const struct sockaddr *)&s->listen->addr,
        .listen_index = s->listen->index,
        .tcp = false,
        .data = u->rbuf[i],
        .len = len,
    };
    uint8_t *out = u->sbuf + u->sused;
    size_t n = h->answer(h->ctx, s->worker->id, &q, out, NET_MSG_MAX);
    if (n == 0 || n > NET_MSG_MAX)
        return;

    unsigned j = u->scount++;
    u->siov[j] = (struct iovec){.iov_base = out, .iov_len = n};
    u->smsg[j].msg_hdr = (struct msghdr){
        .msg_name = rh->msg_name,
        .msg_namelen = rh->msg_namelen,
        .msg_iov = &u->siov[j],
        .msg_iovlen = 1,
    };
    if (s->listen->wildcard)
        udp_reply_source(rh, &u->smsg[j].msg_hdr, &u->sctl[j]);
    u->sused += n;
}

/* Reads and answers up to UDP_MAX_BATCHES batches; true if the last one was full (more
 * datagrams are probably waiting). */
static bool
udp_drain(struct net_sock *s)
{
    struct udp_state *u = s->worker->udp_state;
    for (int b = 0; b < UDP_MAX_BATCHES; b++) {
        /* recvmmsg overwrites these lengths and flags; give every slot its full room back. */
        for (unsigned i = 0; i < UDP_BATCH; i++) {
            u->rmsg[i].msg_hdr.msg_namelen = sizeof(u->rname[i]);
            u->rmsg[i].msg_hdr.msg_controllen = sizeof(u->rctl[i]);
            u->rmsg[i].msg_hdr.msg_flags = 0;
        }
        int n = recvmmsg(s->fd, u->rmsg, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false; /* EAGAIN: drained */
        }
        for (unsigned i = 0; i < (unsigned)n; i++)
            udp_answer_one(s, u, i);
        /* The answers point into rname and rbuf: send them before the next recvmmsg. */
        udp_flush(s, u);
        if (n < UDP_BATCH)
            return false; /* a short batch means the queue is empty: spare the EAGAIN */
    }
    return true;
}

/* Under load the socket stays out of epoll: while it is registered, every datagram the
 * kernel queues also runs epoll's wake-up callback under a spinlock, about 10% of a core at
 * 400k qps. So when a wake-up finds a full queue, the worker stops the io watcher (libev
 * then drops the fd from epoll) and keeps reading from an idle watcher, which lets other
 * watchers run between rounds; once a read comes back short, the io watcher returns. */
static void
udp_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct net_sock *s = io->data;
    (void)revents;
    if (udp_drain(s)) {
        ev_io_stop(loop, io);
        ev_idle_start(loop, &s->busy);
    }
}

static void
udp_busy_cb(struct ev_loop *loop, ev_idle *idle, int revents)
{
    struct net_sock *s = idle->data;
    (void)revents;
    if (!udp_drain(s)) {
        ev_idle_stop(loop, idle);
        ev_io_start(loop, &s->io);
    }
}

void
net_udp_worker_init(struct net_worker *w)
{
    struct udp_state *u = xcalloc(1, sizeof(*u));

    for (unsigned i = 0; i < UDP_BATCH; i++) {
        u->riov[i] = (struct iovec){.iov_base = u->rbuf[i], .iov_len = UDP_RECV_SIZE};
        u->rmsg[i].msg_hdr = (struct msghdr){
            .msg_name = &u->rname[i],
            .msg_iov = &u->riov[i],
            .msg_iovlen = 1,
            .msg_control = u->rctl[i].buf,
        };
    }
    w->udp_state = u;
    for (size_t i = 0; i < w->net->listen_count; i++) {
        struct net_sock *s = &w->udp[i];
        ev_io_init(&s->io, udp_read_cb, s->fd, EV_READ);
        s->io.data = s;
        ev_idle_init(&s->busy, udp_busy_cb);
        s->busy.data = s;
        ev_io_start(w->loop, &s->io);
    }
}

void
net_udp_worker_fini(struct net_worker *w)
{
    /* The sockets belong to net.c, which closes them; the watchers die with the loop. */
    free(w->udp_state);
    w->udp_state = NULL;
}
