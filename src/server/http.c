// SPDX-License-Identifier: MIT
/* The HTTP listener (see http.h). libmicrohttpd runs in "external polling" mode on our own
 * thread, so the thread can register with RCU for its whole life (the pages read the
 * snapshot) and stop on an eventfd: poll() on MHD's epoll descriptor and the eventfd, then
 * MHD_run. Each request renders its page into a memory buffer handed to MHD, which frees it.
 * Only GET and HEAD; connections are few (an operator, a scraper), capped and timed out. */
#include "server/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu.h>

#include "common/alloc.h"
#include "common/log.h"
#include "server/metrics.h"

#define HTTP_MAX_CONNECTIONS 16
#define HTTP_TIMEOUT_S 10

struct http {
    int fd;   /* the listening socket, MHD's once it runs */
    int wake; /* eventfd: stop */
    char *text;
    struct MHD_Daemon *daemon;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    _Atomic(struct health_monitor *) monitor;
};

int
http_open(const struct config *cfg, struct http **out, char err[CONFIG_ERR_MAX])
{
    int one = 1;
    int fd = socket(cfg->http_listen.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (cfg->http_listen.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
        bind(fd, (const struct sockaddr *)&cfg->http_listen, cfg->http_listen_len) < 0 ||
        listen(fd, 64) < 0) {
        snprintf(err, CONFIG_ERR_MAX, "http_listen %s: %s", cfg->http_listen_text, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct http *http = xcalloc(1, sizeof(*http));
    http->fd = fd;
    http->wake = -1;
    http->text = xstrdup(cfg->http_listen_text);
    *out = http;
    return 0;
}

void
http_set_monitor(struct http *http, struct health_monitor *monitor)
{
    if (http)
        atomic_store(&http->monitor, monitor);
}

/* The page for `url` into a malloc'ed buffer; NULL for an unknown path. */
static char *
render(struct http *http, const char *url, size_t *len, const char **type)
{
    char *text = NULL;
    struct health_monitor *monitor = atomic_load(&http->monitor);
    FILE *out = open_memstream(&text, len);
    if (strcmp(url, "/metrics") == 0) {
        *type = "text/plain; version=0.0.4; charset=utf-8";
        metrics_prometheus(out, monitor);
    } else if (strcmp(url, "/status") == 0 || strcmp(url, "/") == 0) {
        *type = "text/html; charset=utf-8";
        status_page_html(out, monitor);
    } else if (strcmp(url, "/status.json") == 0) {
        *type = "application/json";
        status_page_json(out, monitor);
    } else {
        fclose(out);
        free(text);
        return NULL;
    }
    fclose(out);
    return text;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, char *body, size_t len, const char *type)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return reply(conn, status, xstrdup(text), strlen(text), "text/plain; charset=utf-8");
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **state)
{
    struct http *http = cls;
    (void)version;
    (void)upload;
    (void)state;
    if (*upload_size)
        return MHD_NO; /* a body we never asked for: drop the connection */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n");
    size_t len = 0;
    const char *type = NULL;
    char *body = render(http, url, &len, &type);
    if (!body)
        return reply_text(conn, MHD_HTTP_NOT_FOUND,
                          "not found: try /metrics, /status, /status.json\n");
    return reply(conn, MHD_HTTP_OK, body, len, type);
}

static void *
thread_main(void *arg)
{
    struct http *http = arg;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    rcu_register_thread();
    while (!atomic_load(&http->stop)) {
        MHD_UNSIGNED_LONG_LONG timeout_ms = 1000;
        if (MHD_get_timeout(http->daemon, &timeout_ms) != MHD_YES || timeout_ms > 1000)
            timeout_ms = 1000;
        struct pollfd p[2] = {{.fd = info->epoll_fd, .events = POLLIN},
                              {.fd = http->wake, .events = POLLIN}};
        if (poll(p, 2, (int)timeout_ms) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        MHD_run(http->daemon);
    }
    rcu_unregister_thread();
    return NULL;
}

int
http_run(struct http *http, char err[CONFIG_ERR_MAX])
{
    http->wake = eventfd(0, EFD_CLOEXEC);
    if (http->wake < 0) {
        snprintf(err, CONFIG_ERR_MAX, "http_listen %s: eventfd: %s", http->text, strerror(errno));
        return -1;
    }
    http->daemon =
        MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, http, MHD_OPTION_LISTEN_SOCKET,
                         http->fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_END);
    if (!http->daemon) {
        snprintf(err, CONFIG_ERR_MAX, "http_listen %s: libmicrohttpd failed to start", http->text);
        return -1;
    }
    http->fd = -1; /* MHD closes it */
    int rc = pthread_create(&http->thread, NULL, thread_main, http);
    if (rc != 0) {
        snprintf(err, CONFIG_ERR_MAX, "http_listen %s: thread: %s", http->text, strerror(rc));
        return -1;
    }
    http->running = true;
    return 0;
}

void
http_stop(struct http *http)
{
    if (!http)
        return;
    atomic_store(&http->stop, true);
    if (http->running) {
        uint64_t one = 1;
        (void)!write(http->wake, &one, sizeof(one));
        pthread_join(http->thread, NULL);
    }
    if (http->daemon)
        MHD_stop_daemon(http->daemon);
    if (http->fd >= 0)
        close(http->fd);
    if (http->wake >= 0)
        close(http->wake);
    free(http->text);
    free(http);
}
