/* SPDX-License-Identifier: MIT */
/* meridiand's HTTP listener (server.http_listen, off by default): GET /metrics (Prometheus),
 * /status (HTML) and /status.json, served by libmicrohttpd on one thread of its own that
 * reads the snapshot under RCU and asks the health thread for its report; it never touches a
 * worker (ARCHITECTURE.md §17). Opened (bound) before the privilege drop like the listen
 * sockets; started with the control thread; stopped before the health thread. */
#ifndef MERIDIAN_SERVER_HTTP_H
#define MERIDIAN_SERVER_HTTP_H

#include "config/config.h"
#include "health/monitor.h"

struct http;

/* Binds and listens on cfg->http_listen. 0, or -1 with "http_listen ADDR: why" in err. */
int http_open(const struct config *cfg, struct http **out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));
/* Starts the thread. 0, or -1 with err. */
int http_run(struct http *http, char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));
/* The health monitor the pages ask (NULL: none). http may be NULL. Any thread. */
void http_set_monitor(struct http *http, struct health_monitor *monitor);
/* Stops the thread, closes the socket, frees. NULL is fine. */
void http_stop(struct http *http);

#endif
