// SPDX-License-Identifier: MIT
/* The AF_XDP fast path for UDP (ARCHITECTURE.md §18). On the thread calling net_open: loads
 * the filter program embedded at build time (xdp_filter.bpf.c) and attaches it to the
 * configured interface as a bpf_link, which the kernel detaches when the link's descriptor
 * closes, so when meridiand exits or dies (no interface left redirecting into a socket
 * nobody reads); then creates one AF_XDP socket with its own UMEM per receive queue,
 * zero-copy where the driver has it, and fills the program's maps. Each queue belongs to one
 * worker (queue mod workers), which reads its RX ring from its libev loop, asks the same
 * handler as udp.c, rewrites the query's frame into the reply in place and sends it on the
 * TX ring. A frame is in the fill ring, the kernel, the RX ring, the TX or completion ring,
 * or on the queue's free stack: nothing is allocated per packet. Queries the handler drops,
 * or that do not parse, give their frame back at once. */
#include "net/xdp.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
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

/* The program's object file, embedded by the build (xxd -i of xdp_filter.bpf.o). */
extern const unsigned char xdp_filter_obj[];
extern const unsigned int xdp_filter_obj_len;

/* 2 KiB frames hold any Ethernet frame of a 1500-byte MTU; UDP replies are written into the
 * query's frame, so an answer is limited to what fits after the headers (the handler then
 * sets TC, RFC 1035 §4.2.1, exactly as for a small EDNS buffer). */
#define XDP_FRAME_SIZE 2048u
#define XDP_RING_SIZE 2048u
/* Frames per queue: a full fill ring plus a full TX ring in flight. */
#define XDP_FRAMES (2u * XDP_RING_SIZE)
/* RX descriptors per peek, and peeks per wakeup (bounded so that one queue does not starve
 * the worker's TCP connections and other queues; the fd stays readable for the rest). */
#define XDP_BATCH 64u
#define XDP_MAX_BATCHES 8

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
    uint8_t *area;  /* XDP_FRAMES * XDP_FRAME_SIZE, page aligned */
    uint64_t *free; /* free stack of frame addresses */
    uint32_t free_count;
    uint8_t out[XDP_FRAME_SIZE]; /* the handler's answer before it goes into the frame */
};

struct net_xdp {
    char ifname[IF_NAMESIZE];
    int ifindex;
    struct bpf_object *obj;
    int link_fd;
    struct xdp_queue *queues;
    unsigned queue_count;
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

/* Gives free frames to the kernel's fill ring, as many as it takes. */
static void
refill(struct xdp_queue *q)
{
    uint32_t idx;
    uint32_t room = xsk_prod_nb_free(&q->fill, q->free_count);
    uint32_t n = room < q->free_count ? room : q->free_count;
    if (n == 0 || xsk_ring_prod__reserve(&q->fill, n, &idx) != n)
        return;
    for (uint32_t i = 0; i < n; i++)
        *xsk_ring_prod__fill_addr(&q->fill, idx + i) = q->free[--q->free_count];
    xsk_ring_prod__submit(&q->fill, n);
    /* The kernel waits for a wake-up once it found the fill ring empty (need_wakeup). */
    if (xsk_ring_prod__needs_wakeup(&q->fill))
        (void)recvfrom(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* Frames whose reply the kernel has sent go back to the free stack. */
static void
complete(struct xdp_queue *q)
{
    uint32_t idx;
    uint32_t n = xsk_ring_cons__peek(&q->comp, XDP_RING_SIZE, &idx);
    for (uint32_t i = 0; i < n; i++)
        q->free[q->free_count++] =
            *xsk_ring_cons__comp_addr(&q->comp, idx + i) & ~(uint64_t)(XDP_FRAME_SIZE - 1);
    if (n)
        xsk_ring_cons__release(&q->comp, n);
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

/* Answers the query in the frame at addr (len bytes); the reply's length, or 0 to drop. */
static uint32_t
answer_frame(struct xdp_queue *q, uint64_t addr, uint32_t len)
{
    const struct net_handler *h = &q->net->handler;
    uint8_t *frame = xsk_umem__get_data(q->area, addr);
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
    /* The frame's addr may sit past the frame start (headroom); what is left of it after
     * the reply's headers is all the answer may take. */
    size_t room = XDP_FRAME_SIZE - (addr & (XDP_FRAME_SIZE - 1)) - fq.header_len;
    size_t n = h->answer(h->ctx, q->worker->id, &nq, q->out, room);
    if (n == 0 || n > room)
        return 0;
    return (uint32_t)xdp_frame_reply(frame, &fq, q->out, n);
}

/* Reads up to XDP_BATCH queries and queues their replies. Returns the number read. */
static uint32_t
drain_batch(struct xdp_queue *q)
{
    uint32_t idx_rx, idx_tx, sent = 0;
    uint32_t n = xsk_ring_cons__peek(&q->rx, XDP_BATCH, &idx_rx);

    /* The kernel wrote these frames on another CPU (on veth, the sender's): the first read
     * of each is a cache miss, measured at an eighth of the worker's time when taken one by
     * one. Ask for all of the batch's headers at once so the misses overlap. */
    for (uint32_t i = 0; i < n; i++)
        __builtin_prefetch(
            xsk_umem__get_data(q->area, xsk_ring_cons__rx_desc(&q->rx, idx_rx + i)->addr));
    for (uint32_t i = 0; i < n; i++) {
        const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx_rx + i);
        uint64_t addr = d->addr;
        uint32_t rlen = answer_frame(q, addr, d->len);
        /* A full TX ring drops the reply (clients retry, RFC 1035 §4.2.1). */
        if (rlen && xsk_ring_prod__reserve(&q->tx, 1, &idx_tx) == 1) {
            struct xdp_desc *t = xsk_ring_prod__tx_desc(&q->tx, idx_tx);
            t->addr = addr;
            t->len = rlen;
            sent++;
        } else {
            q->free[q->free_count++] = addr & ~(uint64_t)(XDP_FRAME_SIZE - 1);
        }
    }
    if (n)
        xsk_ring_cons__release(&q->rx, n);
    if (sent) {
        xsk_ring_prod__submit(&q->tx, sent);
        /* Copy mode and drivers without need_wakeup transmit only on a system call. */
        if (xsk_ring_prod__needs_wakeup(&q->tx))
            (void)sendto(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
    }
    return n;
}

static void
xdp_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct xdp_queue *q = io->data;
    (void)loop;
    (void)revents;
    for (int b = 0; b < XDP_MAX_BATCHES; b++) {
        complete(q);
        uint32_t n = drain_batch(q);
        refill(q);
        if (n < XDP_BATCH)
            break;
    }
    complete(q);
}

/* The UMEM and socket of queue q; every frame starts on the free stack and goes to the fill
 * ring. */
static int
queue_open(struct net_xdp *x, struct xdp_queue *q, const struct config_xdp *cfg,
           char err[CONFIG_ERR_MAX])
{
    const struct xsk_umem_config ucfg = {
        .fill_size = XDP_RING_SIZE,
        .comp_size = XDP_RING_SIZE,
        .frame_size = XDP_FRAME_SIZE,
        .frame_headroom = 0,
        .flags = 0,
    };
    /* Our own program is attached; libxdp must not load its default one. Without XDP_COPY
     * the kernel uses zero-copy where the driver supports it and copy mode otherwise;
     * XDP_ZEROCOPY would turn "unsupported" into an error. */
    const struct xsk_socket_config scfg = {
        .rx_size = XDP_RING_SIZE,
        .tx_size = XDP_RING_SIZE,
        .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
        .bind_flags = (__u16)(XDP_USE_NEED_WAKEUP | (cfg->zero_copy ? 0 : XDP_COPY)),
    };
    size_t size = (size_t)XDP_FRAMES * XDP_FRAME_SIZE;
    int rc;

    q->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q->area == MAP_FAILED) {
        q->area = NULL;
        snprintf(err, CONFIG_ERR_MAX, "xdp %s: umem: %s", x->ifname, strerror(errno));
        return -1;
    }
    rc = xsk_umem__create(&q->umem, q->area, size, &q->fill, &q->comp, &ucfg);
    if (rc < 0) {
        snprintf(err, CONFIG_ERR_MAX, "xdp %s queue %u: umem: %s", x->ifname, q->id, strerror(-rc));
        return -1;
    }
    rc = xsk_socket__create(&q->xsk, x->ifname, q->id, q->umem, &q->rx, &q->tx, &scfg);
    if (rc < 0) {
        snprintf(err, CONFIG_ERR_MAX, "xdp %s queue %u: AF_XDP socket: %s", x->ifname, q->id,
                 strerror(-rc));
        return -1;
    }
    q->free = xcalloc(XDP_FRAMES, sizeof(*q->free));
    for (uint32_t i = 0; i < XDP_FRAMES; i++)
        q->free[q->free_count++] = (uint64_t)i * XDP_FRAME_SIZE;
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

int
net_xdp_open(struct net *net, const struct config_xdp *cfg, struct net_xdp **out,
             char err[CONFIG_ERR_MAX])
{
    struct net_xdp *x = xcalloc(1, sizeof(*x));
    int ret = -1;

    x->link_fd = -1;
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
    log_info("xdp %s: %s mode, %u queue%s, %s", x->ifname, attached_mode(x), x->queue_count,
             x->queue_count == 1 ? "" : "s", zero_copy(&x->queues[0]) ? "zero-copy" : "copy");
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
        if (q->xsk)
            xsk_socket__delete(q->xsk);
        if (q->umem)
            (void)xsk_umem__delete(q->umem);
        if (q->area)
            munmap(q->area, (size_t)XDP_FRAMES * XDP_FRAME_SIZE);
        free(q->free);
    }
    free(x->queues);
    if (x->obj)
        bpf_object__close(x->obj);
    free(x);
}
