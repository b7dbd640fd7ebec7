/* SPDX-License-Identifier: MIT */
/* Private to dnstap/: the byte transport under the Frame Streams writer (fstrm's `rdwr`
 * interface), to a UNIX stream socket (bidirectional: fstrm's READY/ACCEPT handshake) or a
 * file (unidirectional). Ours rather than fstrm_unix_writer/fstrm_file_writer so that the
 * log knows whether its output is open: what fstrm discards while it is not (a missing
 * socket, a reader that went away) is then counted as lost instead of vanishing. Every
 * operation runs on fstrm's I/O thread; `open` may be read from any thread. */
#ifndef MERIDIAN_DNSTAP_DNSTAP_IO_H
#define MERIDIAN_DNSTAP_DNSTAP_IO_H

#include <stdatomic.h>
#include <stdbool.h>

struct fstrm_writer;

struct dnstap_io {
    const char *path; /* borrowed: the socket or file path */
    bool socket;      /* a UNIX socket (else a file) */
    int fd;           /* -1 when closed */
    bool failing;     /* the last open failed (its warning is logged once) */
    atomic_bool open; /* the output is open: frames written now reach it */
    atomic_uint opens; /* successful opens, for `status` (a reconnect shows) */
    atomic_bool stopping; /* set before the writer is closed for good: no warning then */
};

/* A Frame Streams writer for "protobuf:dnstap.Dnstap" frames over io (which must outlive
 * it), or NULL if fstrm could not make one. Nothing is opened yet. */
struct fstrm_writer *dnstap_io_writer(struct dnstap_io *io);

#endif
