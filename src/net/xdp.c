// SPDX-License-Identifier: MIT
/* The AF_XDP fast path for UDP (ARCHITECTURE.md §18). On the thread calling net_open: loads
 * the filter program embedded at build time (xdp_filter.bpf.c) and attaches it to the
 * configured interface as a bpf_link, which the kernel detaches when the link's descriptor
 * closes, so when meridiand exits or dies (no interface left redirecting into a socket
 * nobody reads); then creates one AF_XDP socket with its own UMEM per receive queue,
 * zero-copy where the driver has it, and fills the program's maps. Each queue belongs to one
 * worker (queue mod workers), which reads its RX ring from its libev loop, asks the same
 * handler as udp.c to write the answer straight into a reply frame and sends that on the TX
 * ring. Each UMEM has two kinds of frame: receive frames (fill ring -> kernel -> RX ring ->
 * back to the fill ring once the batch is answered) and reply frames (the queue's reply
 * stack -> TX ring -> completion ring -> the stack). The reply limit follows the interface's
 * MTU while meridiand runs: the worker of queue 0 reads the kernel's link notifications
 * (xdp_mtu.c) and sets every queue's limit. Nothing is allocated per packet. */
#include "net/xdp.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include "common/alloc.h"
#include "common/log.h"
#include "net/xdp_filter.h"
#include "net/xdp_frame.h"
#include "net/xdp_mtu.h"

/* The program's object file, embedded by the build (xxd -i of xdp_filter.bpf.o). */
extern const unsigned char xdp_filter_obj[];
extern const unsigned int xdp_filter_obj_len;

/* 2 KiB frames hold any Ethernet frame of a 1500-byte MTU; an answer is limited to what fits
 * in one after the headers (the handler then sets TC, RFC 1035 §4.2.1, exactly as for a
 * small EDNS buffer). */
#define XDP_FRAME_SIZE 2048u
/* Receive frames: as many as the fill and RX rings hold, so a batch's frames always fit back
 * in. 4096 is 40 ms of queries at 100k qps: on a shared 2-core VM the worker was seen to be
 * off its core long enough to empty a fill ring of 2048 (the kernel then drops queries).
 * Reply frames: as many as the TX and completion rings hold, so neither can overflow. */
#define XDP_RX_FRAMES 4096u
#define XDP_TX_FRAMES 2048u
#define XDP_FRAMES (XDP_RX_FRAMES + XDP_TX_FRAMES)
/* RX descriptors per peek: the kernel's copy-mode transmit sends at most 32 descriptors per
 * system call (TX_BATCH_SIZE in net/xdp/xsk.c), so a batch's replies go in one sendto.
 * Peeks per wakeup are bounded, so one queue does not starve the worker's TCP connections and
 * other queues; the fd stays readable for the rest. */
#define XDP_BATCH 32u
#define XDP_MAX_BATCHES 16
/* sendto calls per batch when the kernel says it has more to send (EAGAIN). */
#define XDP_MAX_KICKS 4
/* One netlink datagram: an RTM_NEWLINK of a plain interface is 1-2 KiB; a longer one (a NIC
 * with many virtual functions) arrives truncated and the MTU is then read with SIOCGIFMTU. */
#define XDP_NETLINK_BUF 16384u
/* Netlink datagrams read per wake-up, so a storm of link changes on a host with many
 * interfaces does not hold the worker; the socket stays readable for the rest. */
#define XDP_NETLINK_READS 64

struct xdp_queue {
    ev_io io; /* io.data points back here */
    struct net_worker *worker;
    struct net *net;
    uint32_t id;
    struct xsk_umem *umem;
    struct xsk_socket *xsk;
    struct xsk_ring_prod fill;
    struct xsk_ring_cons comp;
    struct xsk_ring_cons rx;
    struct xsk_ring_prod tx;
    uint8_t *area; /* XDP_FRAMES * XDP_FRAME_SIZE, page aligned */
    /* Receive frames answered in this batch, on their way back to the fill ring. */
    uint64_t *rx_free;
    uint32_t rx_free_count;
    /* Reply frames not in the kernel. A stack: the frame used next is the one the kernel
     * gave back last, so replies are built in (and the kernel's copy-mode transmit reads
     * from) a handful of cache- and TLB-warm frames instead of cycling through the UMEM. */
    uint64_t *tx_free;
    uint32_t tx_free_count;
    /* need_wakeup was granted (zero-copy): kick the kernel only when a ring says so. */
    bool need_wakeup;
    /* Copy mode bound with need_wakeup: every poll of the socket transmits (see kick). */
    bool poll_tx;
    /* The longest reply frame: the Ethernet header plus the interface's MTU, at most a frame.
     * The kernel does not fragment what an AF_XDP socket sends, and a longer frame is dropped
     * on the wire (veth drops it in veth_xmit), so a larger answer must be truncated. Written
     * by the worker watching the MTU (follow_mtu), which may not be this queue's: atomic,
     * relaxed on both sides, as nothing else is published with it and a query answered with
     * the old limit while the MTU changes is no different from one in flight at the change;
     * on x86 and arm64 the relaxed load is a plain load. */
    _Atomic uint32_t frame_max;
    /* How the loop batches, logged at stop (log_batching): wake-ups (read callbacks),
     * replies queued, sendto calls, and wake-ups that left replies to the next epoll_wait's
     * poll of the socket (each a transmit of its own). */
    uint64_t wakeups, replies, sendtos, poll_transmits;
};

struct net_xdp {
    char ifname[IF_NAMESIZE];
    int ifindex;
    struct bpf_object *obj;
    int link_fd;
    struct xdp_queue *queues;
    unsigned queue_count;
    /* Link notifications (xdp_mtu.c), read by the worker of queue 0; -1 when they could not
     * be had (the limit then stays the MTU at start). */
    int nl_fd;
    ev_io nl_io;     /* nl_io.data points back here */
    uint8_t *nl_buf; /* XDP_NETLINK_BUF bytes */
    /* The MTU the limit follows; after the start only the netlink watcher's thread uses it,
     * as gone (the link was removed, link_gone). */
    uint32_t mtu;
    bool gone;
};

/* Receive queues of the interface: its queues/rx-N entries in sysfs (veth and every
 * multiqueue NIC list them). */
static unsigned
rx_queue_count(const char *ifname)
{
    char path[64 + IF_NAMESIZE];
    unsigned n = 0;
    snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
    DIR *d = opendir(path);
    if (!d)
        return 1;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "rx-", 3) == 0)
            n++;
    closedir(d);
    return n ? n : 1;
}

/* One key per listen address in the program's map: the address's family, bytes (zeros for a
 * wildcard, which the program tries second) and port. */
static int
fill_listen_map(struct net_xdp *x, const struct net *net, char err[CONFIG_ERR_MAX])
{
    int fd = bpf_object__find_map_fd_by_name(x->obj, "listen_map");
    __u32 one = 1;
    for (size_t i = 0; i < net->listen_count; i++) {
        const struct sockaddr_storage *ss = &net->listen[i].addr;
        struct xdp_filter_key k = {0};
        if (ss->ss_family == AF_INET) {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
            k.family = 4;
            memcpy(k.addr, &s4->sin_addr, 4);
            k.port = s4->sin_port;
        } else {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
            k.family = 6;
            memcpy(k.addr, &s6->sin6_addr, 16);
            k.port = s6->sin6_port;
        }
        if (bpf_map_update_elem(fd, &k, &one, BPF_ANY) < 0) {
            snprintf(err, CONFIG_ERR_MAX, "xdp %s: listen map: %s", x->ifname, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static uint64_t
frame_start(uint64_t addr)
{
    return addr & ~(uint64_t)(XDP_FRAME_SIZE - 1);
}

/* Gives answered receive frames back to the kernel's fill ring (it has room for all). */
static void
refill(struct xdp_queue *q)
{
    uint32_t idx;
    uint32_t room = xsk_prod_nb_free(&q->fill, q->rx_free_count);
    uint32_t n = room < q->rx_free_count ? room : q->rx_free_count;
    if (n == 0 || xsk_ring_prod__reserve(&q->fill, n, &idx) != n)
        return;
    for (uint32_t i = 0; i < n; i++)
        *xsk_ring_prod__fill_addr(&q->fill, idx + i) = q->rx_free[--q->rx_free_count];
    xsk_ring_prod__submit(&q->fill, n);
    /* A zero-copy driver waits for a wake-up once it found the fill ring empty. */
    if (q->need_wakeup && xsk_ring_prod__needs_wakeup(&q->fill))
        (void)recvfrom(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* Reply frames the kernel has sent go back on the stack. */
static void
complete(struct xdp_queue *q)
{
    uint32_t idx;
    uint32_t n = xsk_ring_cons__peek(&q->comp, XDP_TX_FRAMES, &idx);
    for (uint32_t i = 0; i < n; i++)
        q->tx_free[q->tx_free_count++] = frame_start(*xsk_ring_cons__comp_addr(&q->comp, idx + i));
    if (n)
        xsk_ring_cons__release(&q->comp, n);
}

/* Descriptors on the TX ring the kernel has not taken yet. */
static uint32_t
tx_pending(struct xdp_queue *q)
{
    return XDP_TX_FRAMES - xsk_prod_nb_free(&q->tx, XDP_TX_FRAMES);
}

/* Makes the kernel send what the TX ring holds. In copy mode only a system call transmits,
 * at most 32 descriptors per call (EAGAIN: more are waiting). With poll_tx the socket's poll
 * is such a call: the worker's next epoll_wait polls the socket before it sleeps (a socket
 * epoll reported stays on its ready list, level-triggered, and is polled again), so the last
 * batch of up to 32 is left to it and a wake-up costs one system call instead of two. */
static void
kick(struct xdp_queue *q)
{
    if (q->need_wakeup && !xsk_ring_prod__needs_wakeup(&q->tx))
        return;
    for (int i = 0; i < XDP_MAX_KICKS; i++) {
        if (q->poll_tx && tx_pending(q) <= XDP_BATCH)
            return;
        q->sendtos++;
        if (sendto(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 || errno != EAGAIN)
            return;
    }
}

/* The listen address a datagram was sent to: exact first, then the family's wildcard. */
static const struct net_listen *
find_listen(const struct net *net, const struct sockaddr_storage *local)
{
    const struct net_listen *wild = NULL;
    for (size_t i = 0; i < net->listen_count; i++) {
        const struct net_listen *l = &net->listen[i];
        if (l->addr.ss_family != local->ss_family)
            continue;
        if (local->ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&l->addr;
            const struct sockaddr_in *b = (const struct sockaddr_in *)local;
            if (a->sin_port != b->sin_port)
                continue;
            if (a->sin_addr.s_addr == b->sin_addr.s_addr)
                return l;
        } else {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&l->addr;
            const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)local;
            if (a->sin6_port != b->sin6_port)
                continue;
            if (memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0)
                return l;
        }
        if (l->wildcard)
            wild = l;
    }
    return wild;
}

/* Answers the query in the frame at addr (len bytes) into the reply frame at reply; the
 * reply's length, or 0 to drop. */
static uint32_t
answer_frame(struct xdp_queue *q, uint64_t addr, uint32_t len, uint64_t reply)
{
    const struct net_handler *h = &q->net->handler;
    const uint8_t *frame = xsk_umem__get_data(q->area, addr);
    uint8_t *out = xsk_umem__get_data(q->area, reply);
    struct xdp_frame_query fq;

    if (!xdp_frame_parse(frame, len, &fq))
        return 0;
    const struct net_listen *l = find_listen(q->net, &fq.local);
    if (!l)
        return 0;
    if (fq.dns_len < NET_DNS_HEADER_SIZE) {
        net_event_report(q->worker->net, q->worker->id, NET_EVENT_SHORT);
        return 0;
    }
    struct net_query nq = {
        .client = (const struct sockaddr *)&fq.client,
        .client_len = fq.client_len,
        .local = (const struct sockaddr *)&l->addr,
        .listen_index = l->index,
        .tcp = false,
        .data = fq.dns,
        .len = fq.dns_len,
    };
    /* The answer goes straight to its place in the reply frame, after the headers, and must
     * leave the frame within the MTU: the handler sets TC on what does not fit (RFC 1035
     * §4.2.1), as for a small EDNS buffer, and the client retries over TCP. */
    uint32_t frame_max = atomic_load_explicit(&q->frame_max, memory_order_relaxed);
    if (fq.header_len >= frame_max)
        return 0;
    size_t room = frame_max - fq.header_len;
    size_t n = h->answer(h->ctx, q->worker->id, &nq, out + fq.header_len, room);
    if (n == 0 || n > room)
        return 0;
    return (uint32_t)xdp_frame_reply(out, frame, &fq, n);
}

/* Answers one query into a reply frame from the stack and queues it on the TX ring; without
 * a free reply frame, or when the handler drops the query, nothing is sent (clients retry,
 * RFC 1035 §4.2.1). Returns whether a reply was queued. */
static bool
answer_one(struct xdp_queue *q, const struct xdp_desc *d)
{
    uint32_t idx;
    if (q->tx_free_count == 0)
        return false;
    uint64_t reply = q->tx_free[--q->tx_free_count];
    uint32_t rlen = answer_frame(q, d->addr, d->len, reply);
    if (rlen == 0 || xsk_ring_prod__reserve(&q->tx, 1, &idx) != 1) {
        q->tx_free[q->tx_free_count++] = reply;
        return false;
    }
    struct xdp_desc *t = xsk_ring_prod__tx_desc(&q->tx, idx);
    t->addr = reply;
    t->len = rlen;
    return true;
}

/* Reads up to XDP_BATCH queries and queues their replies. Returns the number read. */
static uint32_t
drain_batch(struct xdp_queue *q)
{
    uint32_t idx_rx, sent = 0;
    uint32_t n = xsk_ring_cons__peek(&q->rx, XDP_BATCH, &idx_rx);

    /* The kernel wrote these frames on another CPU (on veth, the sender's): the first read
     * of each is a cache miss, measured at an eighth of the worker's time when taken one by
     * one. Ask for all of the batch's frames at once so the misses overlap: the headers (42
     * bytes over IPv4, 62 over IPv6) and the question after them span two cache lines. */
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *f =
            xsk_umem__get_data(q->area, xsk_ring_cons__rx_desc(&q->rx, idx_rx + i)->addr);
        __builtin_prefetch(f);
        __builtin_prefetch(f + 64);
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx_rx + i);
        sent += answer_one(q, d);
        q->rx_free[q->rx_free_count++] = frame_start(d->addr);
    }
    if (n)
        xsk_ring_cons__release(&q->rx, n);
    if (sent) {
        q->replies += sent;
        xsk_ring_prod__submit(&q->tx, sent);
        kick(q);
    }
    return n;
}

static void
xdp_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct xdp_queue *q = io->data;
    (void)loop;
    (void)revents;
    /* With poll_tx, read until the ring is empty: queries that arrived while a batch was
     * answered join this wake-up's transmit instead of costing an epoll_wait and a transmit
     * of their own (a transmit's fixed part, the peer's receive on veth included, was
     * measured at over ten times a reply's). */
    for (int b = 0; b < XDP_MAX_BATCHES; b++) {
        complete(q);
        uint32_t n = drain_batch(q);
        refill(q);
        if (n == 0 || (n < XDP_BATCH && !q->poll_tx))
            break;
    }
    complete(q);
    q->wakeups++;
    q->poll_transmits += q->poll_tx && tx_pending(q) > 0;
}

/* The UMEM (its rings) and the socket of queue q, bound with flags; a negative errno. */
static int
queue_socket(struct net_xdp *x, struct xdp_queue *q, __u16 bind_flags)
{
    const struct xsk_umem_config ucfg = {
        .fill_size = XDP_RX_FRAMES,
        .comp_size = XDP_TX_FRAMES,
        .frame_size = XDP_FRAME_SIZE,
        .frame_headroom = 0,
        .flags = 0,
    };
    /* Our own program is attached; libxdp must not load its default one. */
    const struct xsk_socket_config scfg = {
        .rx_size = XDP_RX_FRAMES,
        .tx_size = XDP_TX_FRAMES,
        .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
        .bind_flags = bind_flags,
    };
    int rc = xsk_umem__create(&q->umem, q->area, (size_t)XDP_FRAMES * XDP_FRAME_SIZE, &q->fill,
                              &q->comp, &ucfg);
    if (rc < 0) {
        q->umem = NULL;
        return rc;
    }
    rc = xsk_socket__create(&q->xsk, x->ifname, q->id, q->umem, &q->rx, &q->tx, &scfg);
    if (rc < 0) {
        q->xsk = NULL;
        (void)xsk_umem__delete(q->umem);
        q->umem = NULL;
    }
    return rc;
}

/* Binds queue q's socket: zero-copy with need_wakeup where the driver has it (the driver
 * then says when it needs a system call), else copy mode. Copy mode transmits only on a
 * system call, so its TX ring always "needs" a wake-up; with the flag set every poll of the
 * socket runs a transmit pass (xsk_poll in net/xdp/xsk.c), which kick() uses in place of a
 * sendto. Kernels before 5.4 have no need_wakeup: plain copy mode, a sendto per batch. A
 * failed bind leaves nothing behind: the UMEM is registered anew for the next try. */
static int
queue_bind(struct net_xdp *x, struct xdp_queue *q, const struct config_xdp *cfg)
{
    q->need_wakeup = q->poll_tx = false;
    if (cfg->zero_copy && queue_socket(x, q, XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP) == 0) {
        q->need_wakeup = true;
        return 0;
    }
    if (queue_socket(x, q, XDP_COPY | XDP_USE_NEED_WAKEUP) == 0) {
        q->poll_tx = true;
        return 0;
    }
    return queue_socket(x, q, XDP_COPY);
}

/* The UMEM and socket of queue q: its receive frames go to the fill ring, its reply frames
 * onto the stack. */
static int
queue_open(struct net_xdp *x, struct xdp_queue *q, const struct config_xdp *cfg,
           char err[CONFIG_ERR_MAX])
{
    size_t size = (size_t)XDP_FRAMES * XDP_FRAME_SIZE;

    q->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q->area == MAP_FAILED) {
        q->area = NULL;
        snprintf(err, CONFIG_ERR_MAX, "xdp %s: umem: %s", x->ifname, strerror(errno));
        return -1;
    }
    int rc = queue_bind(x, q, cfg);
    if (rc < 0) {
        snprintf(err, CONFIG_ERR_MAX, "xdp %s queue %u: AF_XDP socket: %s", x->ifname, q->id,
                 strerror(-rc));
        return -1;
    }
    q->rx_free = xcalloc(XDP_RX_FRAMES, sizeof(*q->rx_free));
    q->tx_free = xcalloc(XDP_TX_FRAMES, sizeof(*q->tx_free));
    for (uint32_t i = 0; i < XDP_RX_FRAMES; i++)
        q->rx_free[q->rx_free_count++] = (uint64_t)i * XDP_FRAME_SIZE;
    for (uint32_t i = XDP_FRAMES; i > XDP_RX_FRAMES; i--)
        q->tx_free[q->tx_free_count++] = (uint64_t)(i - 1) * XDP_FRAME_SIZE;
    refill(q);
    int map_fd = bpf_object__find_map_fd_by_name(x->obj, "xsks_map");
    int fd = xsk_socket__fd(q->xsk);
    if (bpf_map_update_elem(map_fd, &q->id, &fd, BPF_ANY) < 0) {
        snprintf(err, CONFIG_ERR_MAX, "xdp %s queue %u: socket map: %s", x->ifname, q->id,
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* Loads the program and attaches it as a link owned by this process. */
static int
attach(struct net_xdp *x, const struct config_xdp *cfg, char err[CONFIG_ERR_MAX])
{
    x->obj = bpf_object__open_mem(xdp_filter_obj, xdp_filter_obj_len, NULL);
    if (!x->obj) {
        snprintf(err, CONFIG_ERR_MAX, "xdp: cannot open the filter program: %s", strerror(errno));
        return -1;
    }
    int rc = bpf_object__load(x->obj);
    if (rc < 0) {
        snprintf(err, CONFIG_ERR_MAX, "xdp: cannot load the filter program: %s%s", strerror(-rc),
                 rc == -EPERM ? " (needs CAP_BPF and CAP_NET_ADMIN)" : "");
        return -1;
    }
    struct bpf_program *prog = bpf_object__find_program_by_name(x->obj, "xdp_dns_filter");
    LIBBPF_OPTS(bpf_link_create_opts, opts);
    opts.flags = cfg->mode == CONFIG_XDP_NATIVE    ? XDP_FLAGS_DRV_MODE
                 : cfg->mode == CONFIG_XDP_GENERIC ? XDP_FLAGS_SKB_MODE
                                                   : 0;
    /* A link, not bpf_xdp_attach: the kernel detaches the program when the last descriptor
     * of the link closes, which a crash does too. Without a mode flag the kernel takes the
     * driver's native mode if it has one, generic otherwise. */
    x->link_fd = bpf_link_create(bpf_program__fd(prog), x->ifindex, BPF_XDP, &opts);
    if (x->link_fd < 0) {
        int e = errno;
        snprintf(err, CONFIG_ERR_MAX, "xdp %s: cannot attach the program: %s%s", x->ifname,
                 strerror(e),
                 e == EBUSY || e == EEXIST ? " (another XDP program is attached)" : "");
        return -1;
    }
    return 0;
}

/* "native" or "generic", as the kernel attached it. */
static const char *
attached_mode(const struct net_xdp *x)
{
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(x->ifindex, 0, &q) < 0)
        return "unknown";
    return q.attach_mode == XDP_ATTACHED_DRV   ? "native"
           : q.attach_mode == XDP_ATTACHED_SKB ? "generic"
           : q.attach_mode == XDP_ATTACHED_HW  ? "offloaded"
                                               : "unknown";
}

static bool
zero_copy(const struct xdp_queue *q)
{
    struct xdp_options o = {0};
    socklen_t len = sizeof(o);
    return getsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_OPTIONS, &o, &len) == 0 &&
           (o.flags & XDP_OPTIONS_ZEROCOPY);
}

/* Whether the 2 KiB frame, not the MTU, limits replies (a jumbo MTU): the log says so. */
static bool
frame_limits(uint32_t mtu, uint32_t frame_max)
{
    return frame_max - XDP_MTU_ETH_HEADER < mtu;
}

/* Sets every queue's reply limit from the MTU. The queues' workers see the new limit from
 * their next query on (relaxed atomics, see frame_max). */
static uint32_t
set_mtu(struct net_xdp *x, uint32_t mtu)
{
    uint32_t frame_max = xdp_mtu_frame_max(mtu, XDP_FRAME_SIZE);
    x->mtu = mtu;
    for (unsigned i = 0; i < x->queue_count; i++)
        atomic_store_explicit(&x->queues[i].frame_max, frame_max, memory_order_relaxed);
    return frame_max;
}

/* A new MTU from the kernel (0: none in what was read): the limit follows and the change is
 * logged, once per change. */
static void
follow_mtu(struct net_xdp *x, uint32_t mtu)
{
    if (mtu == 0 || mtu == x->mtu)
        return;
    uint32_t frame_max = set_mtu(x, mtu);
    log_info("xdp %s: MTU now %u, replies up to %u bytes%s", x->ifname, mtu,
             frame_max - XDP_MTU_ETH_HEADER,
             frame_limits(mtu, frame_max) ? " (all a 2 KiB frame holds)" : "");
}

/* The interface was deleted or moved to another network namespace: its program and queues
 * went with it, and nothing reaches the AF_XDP sockets any more. Said once: an interface
 * made again under the name is a new link, which meridiand does not take over before a
 * restart; meanwhile its UDP sockets, bound to the listen addresses, answer whatever the
 * kernel delivers to them. */
static void
link_gone(struct net_xdp *x)
{
    if (x->gone)
        return;
    x->gone = true;
    log_warning("xdp %s: the interface was removed: no query reaches meridiand through XDP "
                "any more; UDP to the listen addresses is answered by sockets, and a new "
                "interface is not taken over before a restart",
                x->ifname);
}

/* Reads one datagram of link notifications; false when there is nothing more to read. A
 * datagram the kernel could not deliver (ENOBUFS: the socket's buffer overflowed) or not
 * whole (MSG_TRUNC) may have carried our change, so then the MTU is asked for directly. */
static bool
read_link_notification(struct net_xdp *x)
{
    struct sockaddr_nl from = {0};
    struct iovec iov = {.iov_base = x->nl_buf, .iov_len = XDP_NETLINK_BUF};
    struct msghdr msg = {
        .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recvmsg(x->nl_fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
        int e = errno;
        if (e == ENOBUFS)
            follow_mtu(x, xdp_mtu_get(x->ifname));
        return e == ENOBUFS || e == EINTR;
    }
    if (msg.msg_flags & MSG_TRUNC)
        follow_mtu(x, xdp_mtu_get(x->ifname));
    else if (from.nl_pid == 0) { /* only the kernel's word: another process may send too */
        bool gone = false;
        follow_mtu(x, xdp_mtu_parse(x->nl_buf, (size_t)n, x->ifindex, &gone));
        if (gone)
            link_gone(x);
    }
    return true;
}

static void
xdp_link_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct net_xdp *x = io->data;
    (void)loop;
    (void)revents;
    for (int i = 0; i < XDP_NETLINK_READS; i++)
        if (!read_link_notification(x))
            break;
}

/* Subscribes to link notifications before the MTU is first read, so that no change can fall
 * between the read and the subscription. Without them (no netlink: a seccomp filter, an
 * exotic kernel) XDP still serves, with the MTU at start, and says so. */
static void
watch_mtu(struct net_xdp *x)
{
    int rc = xdp_mtu_watch_open(&x->nl_fd);
    if (rc < 0) {
        x->nl_fd = -1;
        log_warning("xdp %s: cannot follow MTU changes (netlink: %s); a change needs a restart",
                    x->ifname, strerror(-rc));
        return;
    }
    x->nl_buf = xmalloc(XDP_NETLINK_BUF);
}

int
net_xdp_open(struct net *net, const struct config_xdp *cfg, struct net_xdp **out,
             char err[CONFIG_ERR_MAX])
{
    struct net_xdp *x = xcalloc(1, sizeof(*x));
    int ret = -1;

    x->link_fd = -1;
    x->nl_fd = -1;
    snprintf(x->ifname, sizeof(x->ifname), "%s", cfg->interface);
    x->ifindex = (int)if_nametoindex(x->ifname);
    if (x->ifindex == 0) {
        snprintf(err, CONFIG_ERR_MAX, "xdp %s: no such interface", x->ifname);
        goto out;
    }
    /* Kernels before 5.11 charge BPF maps and UMEM pages to the locked-memory limit. */
    struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    (void)setrlimit(RLIMIT_MEMLOCK, &unlimited);
    if (attach(x, cfg, err) < 0 || fill_listen_map(x, net, err) < 0)
        goto out;
    x->queue_count = rx_queue_count(x->ifname);
    if (x->queue_count > XDP_FILTER_MAX_QUEUES)
        x->queue_count = XDP_FILTER_MAX_QUEUES;
    x->queues = xcalloc(x->queue_count, sizeof(*x->queues));
    for (unsigned i = 0; i < x->queue_count; i++) {
        struct xdp_queue *q = &x->queues[i];
        q->id = i;
        q->net = net;
        q->worker = &net->workers[i % net->worker_count];
        if (queue_open(x, q, cfg, err) < 0)
            goto out;
    }
    watch_mtu(x);
    /* 1500, Ethernet's, when the MTU cannot be read. */
    uint32_t mtu = xdp_mtu_get(x->ifname);
    uint32_t frame_max = set_mtu(x, mtu ? mtu : 1500);
    char limit[64] = "the MTU at start";
    if (frame_limits(x->mtu, frame_max))
        snprintf(limit, sizeof(limit), "all a 2 KiB frame holds; the MTU at start is %u", x->mtu);
    log_info("xdp %s: %s mode, %u queue%s, %s, replies up to %u bytes (%s)", x->ifname,
             attached_mode(x), x->queue_count, x->queue_count == 1 ? "" : "s",
             zero_copy(&x->queues[0]) ? "zero-copy" : "copy", frame_max - XDP_MTU_ETH_HEADER,
             limit);
    *out = x;
    x = NULL;
    ret = 0;
out:
    net_xdp_free(x);
    return ret;
}

void
net_xdp_worker_init(struct net_xdp *x, struct net_worker *w)
{
    if (!x)
        return;
    for (unsigned i = 0; i < x->queue_count; i++) {
        struct xdp_queue *q = &x->queues[i];
        if (q->worker != w)
            continue;
        ev_io_init(&q->io, xdp_read_cb, xsk_socket__fd(q->xsk), EV_READ);
        q->io.data = q;
        ev_io_start(w->loop, &q->io);
    }
    /* One netlink socket for the process, on one worker that serves XDP anyway (queue 0's),
     * rather than one per worker: every link change in the namespace wakes each such socket
     * once, and one reader can set all queues' limits. */
    if (x->nl_fd >= 0 && x->queues[0].worker == w) {
        ev_io_init(&x->nl_io, xdp_link_cb, x->nl_fd, EV_READ);
        x->nl_io.data = x;
        ev_io_start(w->loop, &x->nl_io);
    }
}

/* How queue q batched, logged at stop. Each transmit and each wake-up has a fixed cost on top
 * of its replies (a system call; in copy mode the kernel's transmit pass, ARCHITECTURE.md
 * §18), so replies per transmit and per wake-up say how well the loop amortised them. */
static void
log_batching(const struct net_xdp *x, const struct xdp_queue *q)
{
    uint64_t transmits = q->sendtos + q->poll_transmits;
    if (q->wakeups == 0)
        return;
    log_info("xdp %s queue %u: %llu replies in %llu transmits (%llu by sendto), %.1f per "
             "transmit; %llu wake-ups, %.1f replies each",
             x->ifname, q->id, (unsigned long long)q->replies, (unsigned long long)transmits,
             (unsigned long long)q->sendtos, transmits ? (double)q->replies / transmits : 0.0,
             (unsigned long long)q->wakeups, (double)q->replies / q->wakeups);
}

/* What the kernel dropped on queue q's socket, logged at stop when it dropped anything. */
static void
log_drops(const struct net_xdp *x, const struct xdp_queue *q)
{
    struct xdp_statistics st = {0};
    socklen_t len = sizeof(st);
    if (getsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
        return;
    /* rx_dropped counts a copy-mode receive that found no frame in the fill ring. */
    if (st.rx_ring_full || st.rx_dropped)
        log_info("xdp %s queue %u: the kernel dropped %llu queries (%llu with the RX ring full, "
                 "%llu with no frame in the fill ring): the worker fell behind",
                 x->ifname, q->id, (unsigned long long)(st.rx_ring_full + st.rx_dropped),
                 (unsigned long long)st.rx_ring_full,
                 (unsigned long long)st.rx_fill_ring_empty_descs);
}

void
net_xdp_free(struct net_xdp *x)
{
    if (!x)
        return;
    /* The link first: from here on the interface passes everything to the kernel again. */
    if (x->link_fd >= 0)
        close(x->link_fd);
    for (unsigned i = 0; x->queues && i < x->queue_count; i++) {
        struct xdp_queue *q = &x->queues[i];
        if (q->xsk) {
            log_batching(x, q);
            log_drops(x, q);
            xsk_socket__delete(q->xsk);
        }
        if (q->umem)
            (void)xsk_umem__delete(q->umem);
        if (q->area)
            munmap(q->area, (size_t)XDP_FRAMES * XDP_FRAME_SIZE);
        free(q->rx_free);
        free(q->tx_free);
    }
    free(x->queues);
    if (x->nl_fd >= 0)
        close(x->nl_fd);
    free(x->nl_buf);
    if (x->obj)
        bpf_object__close(x->obj);
    free(x);
}
