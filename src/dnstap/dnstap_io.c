// SPDX-License-Identifier: MIT
/* The dnstap transport (see dnstap_io.h): a UNIX stream socket, connected on every open
 * (fstrm's I/O thread retries a failed open every reopen interval), or a file created or
 * truncated at open. Writes are blocking and complete or fail: they run on fstrm's I/O thread,
 * never on a worker, whose only contact with the log is a non-blocking queue. */
#include "dnstap/dnstap_io.h"

#include <errno.h>
#include <fcntl.h>
#include <fstrm.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

#define DNSTAP_CONTENT_TYPE "protobuf:dnstap.Dnstap"
#define DNSTAP_IO_TIMEOUT_S 2

static fstrm_res
io_open(void *obj)
{
    struct dnstap_io *io = obj;
    if (io->fd >= 0)
        return fstrm_res_success;
    if (io->socket) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        /* config_dnstap.c refused paths that do not fit. */
        strncpy(sa.sun_path, io->path, sizeof(sa.sun_path) - 1);
        io->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        /* A reader that accepts but stops reading must not hold the I/O thread forever:
         * a stuck write or handshake fails after this, the records count as lost, and the
         * server's stop (which waits for the thread) stays bounded. */
        struct timeval stuck = {.tv_sec = DNSTAP_IO_TIMEOUT_S};
        if (io->fd >= 0 &&
            (setsockopt(io->fd, SOL_SOCKET, SO_SNDTIMEO, &stuck, sizeof(stuck)) < 0 ||
             setsockopt(io->fd, SOL_SOCKET, SO_RCVTIMEO, &stuck, sizeof(stuck)) < 0)) {
            close(io->fd);
            io->fd = -1;
        }
        if (io->fd >= 0 && connect(io->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            int err = errno;
            close(io->fd);
            io->fd = -1;
            errno = err;
        }
    } else {
        io->fd = open(io->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    }
    if (io->fd < 0) {
        /* Logged once per outage, not per retry (every second). */
        if (!io->failing)
            log_warning("dnstap: cannot open %s %s: %s; records are lost until it opens "
                        "(retrying every second)",
                        io->socket ? "socket" : "file", io->path, strerror(errno));
        io->failing = true;
        return fstrm_res_failure;
    }
    if (io->failing || atomic_load(&io->opens) > 0)
        log_info("dnstap: %s %s open", io->socket ? "socket" : "file", io->path);
    io->failing = false;
    atomic_store(&io->open, true);
    atomic_fetch_add(&io->opens, 1);
    return fstrm_res_success;
}

static fstrm_res
io_close(void *obj)
{
    struct dnstap_io *io = obj;
    if (atomic_load(&io->open) && io->socket && !atomic_load(&io->stopping))
        log_warning("dnstap: socket %s closed (reader gone?); reopening every second",
                    io->path);
    atomic_store(&io->open, false);
    if (io->fd < 0)
        return fstrm_res_failure;
    int rc = close(io->fd);
    io->fd = -1;
    return rc == 0 ? fstrm_res_success : fstrm_res_failure;
}

/* The handshake's control frames (socket only): all `count` bytes, or the stream ended. */
static fstrm_res
io_read(void *obj, void *data, size_t count)
{
    struct dnstap_io *io = obj;
    uint8_t *p = data;
    while (count > 0) {
        ssize_t n = read(io->fd, p, count);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return fstrm_res_stop;
        if (n < 0)
            return fstrm_res_failure;
        p += n;
        count -= (size_t)n;
    }
    return fstrm_res_success;
}

/* All of iov[0..count), count <= IO_IOV_MAX, advancing iov as the kernel takes bytes. */
static bool
write_all(struct dnstap_io *io, struct iovec *v, int count)
{
    int first = 0;
    while (first < count) {
        struct msghdr msg = {.msg_iov = v + first, .msg_iovlen = (size_t)(count - first)};
        ssize_t n = io->socket ? sendmsg(io->fd, &msg, MSG_NOSIGNAL)
                               : writev(io->fd, v + first, count - first);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        /* Skip what went out: whole buffers, then part of the next one. */
        while (first < count && (size_t)n >= v[first].iov_len)
            n -= (ssize_t)v[first++].iov_len;
        if (first < count) {
            v[first].iov_base = (uint8_t *)v[first].iov_base + n;
            v[first].iov_len -= (size_t)n;
        }
    }
    return true;
}

/* All of iov, or a failure (fstrm then closes and reopens later). MSG_NOSIGNAL: a reader
 * that went away must not kill the server with SIGPIPE. fstrm hands a length and a frame
 * per message, so a flush of its output queue is two iovecs per message: sent in windows
 * of a copy we may advance. */
#define IO_IOV_MAX 128
static fstrm_res
io_write(void *obj, const struct iovec *iov, int iovcnt)
{
    struct dnstap_io *io = obj;
    struct iovec v[IO_IOV_MAX];
    for (int done = 0; done < iovcnt;) {
        int count = iovcnt - done < IO_IOV_MAX ? iovcnt - done : IO_IOV_MAX;
        memcpy(v, iov + done, (size_t)count * sizeof(*v));
        if (!write_all(io, v, count))
            return fstrm_res_failure;
        done += count;
    }
    return fstrm_res_success;
}

struct fstrm_writer *
dnstap_io_writer(struct dnstap_io *io)
{
    io->fd = -1;
    struct fstrm_rdwr *rdwr = fstrm_rdwr_init(io);
    fstrm_rdwr_set_open(rdwr, io_open);
    fstrm_rdwr_set_close(rdwr, io_close);
    fstrm_rdwr_set_write(rdwr, io_write);
    if (io->socket) /* a read method makes fstrm handshake (bidirectional stream) */
        fstrm_rdwr_set_read(rdwr, io_read);
    struct fstrm_writer_options *wopt = fstrm_writer_options_init();
    fstrm_writer_options_add_content_type(wopt, DNSTAP_CONTENT_TYPE,
                                          sizeof(DNSTAP_CONTENT_TYPE) - 1);
    struct fstrm_writer *w = fstrm_writer_init(wopt, &rdwr);
    fstrm_writer_options_destroy(&wopt);
    if (!w && rdwr)
        fstrm_rdwr_destroy(&rdwr);
    return w;
}
