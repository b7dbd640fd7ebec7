// SPDX-License-Identifier: MIT
/* HTTP and HTTPS checks through libcurl's multi interface, driven by the health loop: curl
 * names the sockets it waits on (CURLMOPT_SOCKETFUNCTION, one ev_io each) and the delay it
 * needs (CURLMOPT_TIMERFUNCTION, one ev_timer per context), and both call
 * curl_multi_socket_action. One easy handle per probe, never reused: every check opens a
 * fresh connection, so it tests the member rather than a kept-alive socket. The URL is
 * scheme://HOST:PORT/path where HOST is the check's `host` if set (Host header and TLS SNI)
 * and CURLOPT_CONNECT_TO sends the connection to the member's address; CONNECT_TO is per
 * handle, unlike CURLOPT_RESOLVE, which fills the multi handle's shared DNS cache. Up when
 * the status is one of expect_status and the body (at most BODY_MAX bytes of it are kept)
 * contains expect_body. No proxy, no redirects, no signals. The same machinery makes a plain
 * TCP connect to a name target (CURLOPT_CONNECT_ONLY), since curl resolves names without
 * blocking: this checker runs tcp checks on name targets. The multi handle, its timer and
 * sockets are the checker's per-context state (struct http_state). Health thread. */
#include "health/probe_internal.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"

/* Body bytes kept for the expect_body match; the transfer is stopped beyond. */
#define BODY_MAX (64 * 1024)
#define USER_AGENT "meridian-health/0.1"

extern const struct probe_checker probe_checker_http; /* at the end */

/* Per context: one curl multi handle driven by libev. */
struct http_state {
    struct probe_ctx *ctx;
    CURLM *multi; /* NULL if curl is unavailable: every probe reports down */
    ev_timer timer;
    struct curl_sock *socks;
};

struct curl_sock {
    ev_io io;
    struct http_state *hs;
    struct curl_sock *prev, *next; /* hs->socks */
};

struct http_probe {
    struct probe base;
    struct http_state *hs;
    CURL *easy;
    bool connect_only;
    bool stopped; /* we ended the transfer from write_cb: not an error */
    bool body_found;
    struct curl_slist *connect_to; /* curl keeps a pointer: freed with the handle */
    uint16_t *expect_status;
    size_t expect_status_count;
    char *expect_body;
    size_t expect_body_len;
    char *body;
    size_t body_len;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ready;

static void
curl_global_once(void)
{
    /* Once per process; never cleaned up, as other threads may still use libcurl. */
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        log_error("health: curl_global_init: %s", curl_easy_strerror(rc));
    curl_ready = rc == CURLE_OK;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    int m = vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        s[0] = '\0';
    return s;
}

/* --- the multi handle on libev ---------------------------------------------------------- */

static void check_done(struct http_state *hs);

static void
sock_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct curl_sock *cs = w->data;
    struct http_state *hs = cs->hs;
    struct probe_ctx *ctx = hs->ctx;
    curl_socket_t fd = w->fd;
    int action = 0;
    int running;
    (void)loop;

    /* cs may be freed inside socket_action (CURL_POLL_REMOVE): only hs and fd are used. */
    if (revents & EV_READ)
        action |= CURL_CSELECT_IN;
    if (revents & EV_WRITE)
        action |= CURL_CSELECT_OUT;
    probe_ctx_enter(ctx);
    curl_multi_socket_action(hs->multi, fd, action, &running);
    check_done(hs);
    probe_ctx_leave(ctx);
}

static void
curl_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct http_state *hs = w->data;
    struct probe_ctx *ctx = hs->ctx;
    int running;
    (void)loop;
    (void)revents;

    probe_ctx_enter(ctx);
    curl_multi_socket_action(hs->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(hs);
    probe_ctx_leave(ctx);
}

static void
sock_unlink_free(struct http_state *hs, struct curl_sock *cs)
{
    ev_io_stop(hs->ctx->loop, &cs->io);
    if (cs->prev)
        cs->prev->next = cs->next;
    else
        hs->socks = cs->next;
    if (cs->next)
        cs->next->prev = cs->prev;
    free(cs);
}

/* CURLMOPT_SOCKETFUNCTION: what curl waits for on one socket. */
static int
socket_fn(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct http_state *hs = userp;
    struct ev_loop *loop = hs->ctx->loop;
    struct curl_sock *cs = socketp;
    (void)easy;

    if (what == CURL_POLL_REMOVE) {
        if (cs)
            sock_unlink_free(hs, cs);
        return 0;
    }
    if (!cs) {
        cs = xcalloc(1, sizeof(*cs));
        cs->hs = hs;
        ev_init(&cs->io, sock_io_cb);
        cs->io.data = cs;
        cs->next = hs->socks;
        if (cs->next)
            cs->next->prev = cs;
        hs->socks = cs;
        curl_multi_assign(hs->multi, s, cs);
    }
    ev_io_stop(loop, &cs->io);
    ev_io_set(&cs->io, s,
              ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0));
    ev_io_start(loop, &cs->io);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants socket_action(TIMEOUT) after timeout_ms, or never (-1).
 * The call itself happens from the loop, never from inside this callback. */
static int
timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_state *hs = userp;
    struct ev_loop *loop = hs->ctx->loop;
    (void)multi;

    ev_timer_stop(loop, &hs->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&hs->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(loop, &hs->timer);
    }
    return 0;
}

static void *
http_ctx_new(struct probe_ctx *ctx)
{
    struct http_state *hs = xcalloc(1, sizeof(*hs));
    hs->ctx = ctx;
    pthread_once(&curl_once, curl_global_once);
    ev_init(&hs->timer, curl_timer_cb);
    hs->timer.data = hs;
    if (!curl_ready)
        return hs;
    CURLM *multi = curl_multi_init();
    if (!multi) {
        log_error("health: curl_multi_init failed: http checks will report down");
        return hs;
    }
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, hs);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, hs);
    hs->multi = multi;
    return hs;
}

static void
http_ctx_free(void *state)
{
    struct http_state *hs = state;
    /* Every easy handle is gone by now (the context released every probe first). */
    if (hs->multi)
        curl_multi_cleanup(hs->multi);
    ev_timer_stop(hs->ctx->loop, &hs->timer);
    /* Sockets curl did not announce as removed: stop their watchers all the same. */
    while (hs->socks)
        sock_unlink_free(hs, hs->socks);
    free(hs);
}

/* --- one probe --------------------------------------------------------------------------- */

static void
http_release(struct probe *p)
{
    struct http_probe *h = (struct http_probe *)p;
    if (h->easy) {
        if (h->hs->multi)
            curl_multi_remove_handle(h->hs->multi, h->easy);
        curl_easy_cleanup(h->easy);
    }
    curl_slist_free_all(h->connect_to);
    free(h->expect_status);
    free(h->expect_body);
    free(h->body);
    free(h);
}

/* CURLOPT_WRITEFUNCTION: keep the body until expect_body is seen or BODY_MAX is reached,
 * then stop the transfer (returning less than given ends it with CURLE_WRITE_ERROR). */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct http_probe *h = userp;
    size_t n = size * nmemb;

    if (!h->expect_body) {
        /* The status line is all we need: no reason to read the body. */
        h->stopped = true;
        return 0;
    }
    size_t room = BODY_MAX - h->body_len;
    size_t take = n < room ? n : room;
    /* Search only where a new match can be: from expect_body_len - 1 before the new bytes. */
    size_t from = h->body_len >= h->expect_body_len ? h->body_len - h->expect_body_len + 1 : 0;
    memcpy(h->body + h->body_len, data, take);
    h->body_len += take;
    if (memmem(h->body + from, h->body_len - from, h->expect_body, h->expect_body_len)) {
        h->body_found = true;
        h->stopped = true;
        return 0;
    }
    if (h->body_len == BODY_MAX) {
        h->stopped = true;
        return 0;
    }
    return n;
}

static bool
status_expected(const struct http_probe *h, long code)
{
    if (h->expect_status_count == 0)
        return code == 200;
    for (size_t i = 0; i < h->expect_status_count; i++)
        if (code == h->expect_status[i])
            return true;
    return false;
}

/* Judges one finished transfer. */
static void
http_result(struct http_probe *h, CURLcode res)
{
    char reason[PROBE_REASON_MAX];
    long code = 0;

    if (res == CURLE_OPERATION_TIMEDOUT) {
        probe_format(reason, sizeof(reason), "timeout after %u ms", h->base.timeout_ms);
        probe_finish(&h->base, false, reason);
        return;
    }
    if (h->connect_only) {
        if (res == CURLE_OK)
            probe_finish(&h->base, true, "connected");
        else {
            probe_format(reason, sizeof(reason), "curl: %s", curl_easy_strerror(res));
            probe_finish(&h->base, false, reason);
        }
        return;
    }
    if (res != CURLE_OK && !(res == CURLE_WRITE_ERROR && h->stopped)) {
        probe_format(reason, sizeof(reason), "curl: %s", curl_easy_strerror(res));
        probe_finish(&h->base, false, reason);
        return;
    }
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
    if (!status_expected(h, code)) {
        probe_format(reason, sizeof(reason), "http status %ld", code);
        probe_finish(&h->base, false, reason);
    } else if (h->expect_body && !h->body_found) {
        probe_format(reason, sizeof(reason), "body lacks '%.64s'", h->expect_body);
        probe_finish(&h->base, false, reason);
    } else {
        probe_format(reason, sizeof(reason), "http status %ld", code);
        probe_finish(&h->base, true, reason);
    }
}

/* Reports every finished transfer. A done() may free the context: stop then. */
static void
check_done(struct http_state *hs)
{
    CURLMsg *msg;
    int left;

    /* Bounded: each DONE message removes its handle from the multi handle. */
    while (!hs->ctx->dead && hs->multi && (msg = curl_multi_info_read(hs->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result; /* msg is invalid once the handle is removed */
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        if (priv)
            http_result((struct http_probe *)(void *)priv, res);
    }
}

/* The host part of a URL or CONNECT_TO entry: IPv6 in brackets, a name without its final
 * dot (it would end up in the Host header and SNI). */
static char *
target_host(const struct probe_target *target)
{
    char text[INET6_ADDRSTRLEN];
    if (target->family == 4 && inet_ntop(AF_INET, target->addr, text, sizeof(text)))
        return xasprintf("%s", text);
    if (target->family == 6 && inet_ntop(AF_INET6, target->addr, text, sizeof(text)))
        return xasprintf("[%s]", text);
    const char *name = target->name ? target->name : (target->text ? target->text : "");
    size_t len = strlen(name);
    if (len > 1 && name[len - 1] == '.')
        len--;
    return xasprintf("%.*s", (int)len, name);
}

static char *
name_host(const char *name)
{
    size_t len = strlen(name);
    if (len > 1 && name[len - 1] == '.')
        len--;
    return xasprintf("%.*s", (int)len, name);
}

/* The options every handle gets, whatever it checks. */
static void
common_options(struct http_probe *h, const struct config_check *check)
{
    CURL *e = h->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)h);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)check->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)check->timeout_ms);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

/* Creates the probe and its easy handle; on failure the probe is already reported. */
static struct http_probe *
http_new(struct probe_ctx *ctx, struct http_state *hs, const struct config_check *check,
         probe_done_fn done, void *arg)
{
    struct http_probe *h = probe_alloc(ctx, sizeof(*h), &probe_checker_http, check, done, arg);
    h->hs = hs;
    if (!hs->multi) {
        probe_fail_now(&h->base, "curl unavailable");
        return NULL;
    }
    h->easy = curl_easy_init();
    if (!h->easy) {
        probe_fail_now(&h->base, "curl_easy_init failed");
        return NULL;
    }
    common_options(h, check);
    return h;
}

static int
http_go(struct http_probe *h)
{
    CURLMcode mc = curl_multi_add_handle(h->hs->multi, h->easy);
    if (mc != CURLM_OK)
        return probe_fail_now(&h->base, "curl: %s", curl_multi_strerror(mc));
    probe_arm(&h->base);
    return 0;
}

static int
request_start(struct probe_ctx *ctx, struct http_state *hs, const struct config_check *check,
              const struct probe_target *target, probe_done_fn done, void *arg)
{
    struct http_probe *h = http_new(ctx, hs, check, done, arg);
    if (!h)
        return -1;
    bool https = check->type == CONFIG_CHECK_HTTPS;
    uint16_t port = check->port ? check->port : (https ? 443 : 80);
    const char *path = check->path && *check->path ? check->path : "/";
    const char *method = check->method && *check->method ? check->method : "GET";
    char *member = target_host(target);
    char *host = check->host && *check->host ? name_host(check->host) : NULL;
    char *url = xasprintf("%s://%s:%u%s%s", https ? "https" : "http", host ? host : member,
                          (unsigned)port, path[0] == '/' ? "" : "/", path);
    int rc = 0;

    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h->easy, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
    if (host) {
        /* Host header and SNI name `host`; the connection goes to the member. */
        char *entry = xasprintf("%s:%u:%s:%u", host, (unsigned)port, member, (unsigned)port);
        h->connect_to = curl_slist_append(NULL, entry);
        free(entry);
        if (!h->connect_to) {
            rc = probe_fail_now(&h->base, "out of memory");
            goto out;
        }
        curl_easy_setopt(h->easy, CURLOPT_CONNECT_TO, h->connect_to);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h->easy, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h->easy, CURLOPT_CUSTOMREQUEST, method);
    if (https && !check->tls_verify) {
        curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (check->expect_status_count) {
        h->expect_status = xmalloc(check->expect_status_count * sizeof(uint16_t));
        memcpy(h->expect_status, check->expect_status,
               check->expect_status_count * sizeof(uint16_t));
        h->expect_status_count = check->expect_status_count;
    }
    if (check->expect_body && *check->expect_body) {
        h->expect_body = xstrdup(check->expect_body);
        h->expect_body_len = strlen(h->expect_body);
        h->body = xmalloc(BODY_MAX);
    }
    rc = http_go(h);
out:
    free(url);
    free(host);
    free(member);
    return rc;
}

/* TCP connect to a name target: curl resolves it without blocking (CURLOPT_CONNECT_ONLY). */
static int
connect_start(struct probe_ctx *ctx, struct http_state *hs, const struct config_check *check,
              const struct probe_target *target, probe_done_fn done, void *arg)
{
    struct http_probe *h = http_new(ctx, hs, check, done, arg);
    if (!h)
        return -1;
    char *member = target_host(target);
    char *url = xasprintf("http://%s:%u/", member, (unsigned)check->port);

    /* Resolve, connect, stop: the transfer is complete once connected. */
    h->connect_only = true;
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_CONNECT_ONLY, 1L);
    free(url);
    free(member);
    return http_go(h);
}

static int
http_start(struct probe_ctx *ctx, void *state, const struct config_check *check,
           const struct probe_target *target, probe_done_fn done, void *arg)
{
    if (check->type == CONFIG_CHECK_TCP)
        return connect_start(ctx, state, check, target, done, arg);
    return request_start(ctx, state, check, target, done, arg);
}

const struct probe_checker probe_checker_http = {
    .name = "http",
    .address_types = PROBE_TYPE(CONFIG_CHECK_HTTP) | PROBE_TYPE(CONFIG_CHECK_HTTPS),
    .name_types = PROBE_TYPE(CONFIG_CHECK_TCP) | PROBE_TYPE(CONFIG_CHECK_HTTP) |
                  PROBE_TYPE(CONFIG_CHECK_HTTPS),
    .ctx_new = http_ctx_new,
    .ctx_free = http_ctx_free,
    .start = http_start,
    .release = http_release,
};
