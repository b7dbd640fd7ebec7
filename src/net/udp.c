// SPDX-License-Identifier: MIT
/* DNS over UDP. Each worker owns one SO_REUSEPORT socket per listen address, and each such
 * socket has a thread of its own that blocks in recvmmsg (MSG_WAITFORONE) for up to UDP_BATCH
 * datagrams, asks the handler for each answer, and sends all answers with one sendmmsg: the
 * per-packet syscalls are what limits a core (measured here: ~400k qps per core with batching,
 * ~170k without). A thread per socket instead of a watcher on the worker's libev loop spares
 * the epoll_wait per wake-up, the epoll callback the kernel runs for every datagram queued on
 * a registered socket, and the switching between reading from epoll and from an idle watcher
 * that a busy socket needed (README "Performance", ARCHITECTURE.md §3). The worker's loop keeps
 * TCP and AF_XDP. Each thread calls the handler with its own lane (net.h), so per-thread
 * state needs no lock. All buffers are allocated once when the worker is built.
 * Per-packet problems (truncated or short queries, send errors) are dropped silently. */
#include "net/net_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"

/* Datagrams per recvmmsg/sendmmsg. Under a flood every system call spared counts (each one
 * is dearer still in a virtual machine): measured here with tests/bench/pair.sh against 256
 * queries in flight, 64 spent 2% less CPU per answer than 32, and 16 (gdnsd's) 7% more. */
#define UDP_BATCH 64
/* Receive buffer per datagram. DNS queries are small (a question plus OPT, a cookie, maybe
 * ECS): one that does not fit is cut by the kernel, flagged MSG_TRUNC and dropped. */
#define UDP_RECV_SIZE 4096
/* Answers of one batch wait here for sendmmsg. The handler is always given NET_MSG_MAX bytes
 * to write into; when less is left, the pending answers are sent early. 384 KiB holds a full
 * batch of answers up to 5 KiB each without that. Pages never written stay unallocated. */
#define UDP_SEND_SPACE (384 * 1024)
/* Longest sleep in recvmmsg before the thread looks at the stop flag again, should the
 * shutdown(SHUT_RD) wake-up of net_udp_wake not reach it. An idle socket wakes this often. */
#define UDP_RCVTIMEO_S 1
/* Kernel socket buffers: room for bursts while the thread answers or waits for the CPU. The kernel caps
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
    const struct timeval rcvtimeo = {.tv_sec = UDP_RCVTIMEO_S};
    int fd = -1;
    int ret = -1;

    if (net_socket_open(l, SOCK_DGRAM, &fd, err) < 0)
        goto out;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    /* The socket's thread blocks in recvmmsg (udp_thread_main); sends stay non-blocking
     * (MSG_DONTWAIT). */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo)) < 0) {
        net_error(err, l, "blocking receive", errno);
        goto out;
    }

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
        net_event_report(s->worker->net, s->lane,
                         (rh->msg_flags & MSG_TRUNC) ? NET_EVENT_UDP_TRUNCATED : NET_EVENT_SHORT);
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
    size_t n = h->answer(h->ctx, s->lane, &q, out, NET_MSG_MAX);
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

/* The socket's thread: one blocking recvmmsg per batch. MSG_WAITFORONE sleeps in the kernel
 * until the first datagram and then takes whatever else is queued without waiting, so a busy
 * socket costs one recvmmsg and one sendmmsg per batch and an idle one sleeps in the same
 * call: no poll or epoll call per wake-up, no empty EAGAIN read, and no epoll wake-up
 * callback per datagram queued. net_udp_stop wakes it with shutdown(SHUT_RD) (the receive
 * then returns at once); SO_RCVTIMEO bounds the wait should that wake-up not come. */
static void *
udp_thread_main(void *arg)
{
    struct net_sock *s = arg;
    struct udp_state *u = s->udp;
    const struct net_handler *h = &s->worker->net->handler;

    if (h->thread_start)
        h->thread_start(h->ctx, s->lane);
    while (!atomic_load_explicit(&s->worker->net->stopping, memory_order_acquire)) {
        /* recvmmsg overwrites these lengths and flags; give every slot its full room back. */
        for (unsigned i = 0; i < UDP_BATCH; i++) {
            u->rmsg[i].msg_hdr.msg_namelen = sizeof(u->rname[i]);
            u->rmsg[i].msg_hdr.msg_controllen = sizeof(u->rctl[i]);
            u->rmsg[i].msg_hdr.msg_flags = 0;
        }
        int n = recvmmsg(s->fd, u->rmsg, UDP_BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue; /* EAGAIN (the timeout), EINTR: look at the stop flag again */
        if (atomic_load_explicit(&s->worker->net->stopping, memory_order_acquire))
            break; /* after shutdown(SHUT_RD) the kernel reports empty datagrams */
        for (unsigned i = 0; i < (unsigned)n; i++)
            udp_answer_one(s, u, i);
        /* The answers point into rname and rbuf: send them before the next recvmmsg. */
        udp_flush(s, u);
        if (h->idle)
            h->idle(h->ctx, s->lane);
    }
    if (h->thread_stop)
        h->thread_stop(h->ctx, s->lane);
    return NULL;
}

void
net_udp_worker_init(struct net_worker *w)
{
    for (size_t j = 0; j < w->net->listen_count; j++) {
        struct net_sock *s = &w->udp[j];
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
        s->udp = u;
        s->lane = w->net->worker_count + w->id * (unsigned)w->net->listen_count + (unsigned)j;
    }
}

int
net_udp_run(struct net_worker *w, char err[CONFIG_ERR_MAX])
{
    for (size_t j = 0; j < w->net->listen_count; j++) {
        struct net_sock *s = &w->udp[j];
        int rc = pthread_create(&s->thread, NULL, udp_thread_main, s);
        if (rc != 0) {
            snprintf(err, CONFIG_ERR_MAX, "worker %u: udp thread for %s: pthread_create: %s",
                     w->id, s->listen->text, strerror(rc));
            return -1;
        }
        s->started = true;
    }
    return 0;
}

void
net_udp_wake(struct net_worker *w)
{
    /* On an unbound-peer UDP socket shutdown returns ENOTCONN, but it still marks the
     * receive side shut and wakes the thread sleeping in recvmmsg. */
    for (size_t j = 0; j < w->net->listen_count; j++)
        if (w->udp[j].started)
            (void)shutdown(w->udp[j].fd, SHUT_RD);
}

void
net_udp_join(struct net_worker *w)
{
    for (size_t j = 0; j < w->net->listen_count; j++)
        if (w->udp[j].started) {
            pthread_join(w->udp[j].thread, NULL);
            w->udp[j].started = false;
        }
}

void
net_udp_worker_fini(struct net_worker *w)
{
    /* The sockets belong to net.c, which closes them. */
    for (size_t j = 0; j < w->net->listen_count; j++) {
        free(w->udp[j].udp);
        w->udp[j].udp = NULL;
    }
}
