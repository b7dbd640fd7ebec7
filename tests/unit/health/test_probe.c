// SPDX-License-Identifier: MIT
/* Unit tests for health probes against real servers on loopback started by the test itself:
 * a TCP listener that never accepts (the kernel completes handshakes, so TCP checks are up
 * and HTTP requests go unanswered), a closed port, python3 http.server over HTTP and over
 * HTTPS with a self-signed certificate made by openssl at test time, a small UDP DNS
 * responder thread, child processes for exec checks, and state files. Every wait is bounded,
 * and every upper bound is scaled for the build (test_time.h); the python servers exit when
 * their stdin closes, so a crashed test leaves none behind. Without python3 or openssl the
 * whole binary exits 77 (skipped, never "passed" with cases left out); IPv6 loopback is
 * required, as in the e2e tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_tmpdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health/probe.h"
#include "test_time.h"
#include "test_tmpdir.h"

#define WAIT_MS test_ms(5000) /* bound for anything that should happen soon */
#define MAX_RESULTS 16

extern char **environ;

/* ---------------------------------------------------------------------------------------- */
/* results and the loop                                                                       */

struct result {
    int calls;
    bool up;
    char reason[256];
    double at_ms;
};

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int done_total; /* callbacks seen, all probes */

static void
on_done(void *arg, bool up, const char *reason)
{
    struct result *r = arg;
    r->calls++;
    r->up = up;
    snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "(null)");
    r->at_ms = now_ms();
    done_total++;
    if (getenv("MERIDIAN_TEST_VERBOSE"))
        fprintf(stderr, "  done: %s (%s)\n", up ? "up" : "down", r->reason);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* Runs the loop until *counter >= want or max_ms pass. */
static bool
run_until(struct ev_loop *loop, const int *counter, int want, int max_ms)
{
    ev_timer tick;
    double deadline = now_ms() + max_ms;

    /* A ticking timer, so that EVRUN_ONCE returns even when nothing else happens. */
    ev_timer_init(&tick, tick_cb, 0.01, 0.01);
    ev_timer_start(loop, &tick);
    while (*counter < want && now_ms() < deadline)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &tick);
    return *counter >= want;
}

static void
run_for(struct ev_loop *loop, int ms)
{
    int never = 0;
    run_until(loop, &never, 1, ms);
}

struct fixture {
    struct ev_loop *loop;
    struct probe_ctx *ctx;
    struct result r[MAX_RESULTS];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->loop = ev_loop_new(EVFLAG_AUTO);
    f->ctx = probe_ctx_new(f->loop, 8);
    done_total = 0;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    probe_ctx_free(f->ctx);
    ev_loop_destroy(f->loop);
    free(f);
    return 0;
}

static struct config_check
make_check(enum config_check_type type, uint16_t port)
{
    struct config_check c;
    memset(&c, 0, sizeof(c));
    c.name = "test";
    c.type = type;
    c.interval_ms = (uint32_t)test_ms(5000);
    c.timeout_ms = (uint32_t)test_ms(2000); /* generous: only timeout tests expect one */
    c.rise = 2;
    c.fall = 3;
    c.port = port;
    c.tls_verify = true;
    c.qtype = 1;
    return c;
}

static struct probe_target
make_target(const char *text)
{
    struct probe_target t;
    memset(&t, 0, sizeof(t));
    t.text = text;
    if (inet_pton(AF_INET, text, t.addr) == 1)
        t.family = 4;
    else if (inet_pton(AF_INET6, text, t.addr) == 1)
        t.family = 6;
    else
        t.name = text;
    return t;
}

/* Starts one probe and waits for its report. */
static struct result *
probe_once(struct fixture *f, const struct config_check *c, const char *address)
{
    struct probe_target t = make_target(address);
    struct result *r = &f->r[0];
    memset(r, 0, sizeof(*r));
    int rc = probe_start(f->ctx, c, &t, on_done, r);
    if (rc == 0)
        assert_int_equal(r->calls, 0); /* never reported from inside probe_start */
    assert_true(run_until(f->loop, &r->calls, 1, (int)c->timeout_ms + WAIT_MS));
    assert_int_equal(r->calls, 1);
    return r;
}

#define assert_reason_starts(r, prefix)                                                            \
    do {                                                                                           \
        if (strncmp((r)->reason, (prefix), strlen(prefix)) != 0)                                   \
            fail_msg("reason '%s' does not start with '%s'", (r)->reason, (prefix));               \
    } while (0)

/* ---------------------------------------------------------------------------------------- */
/* loopback servers                                                                           */

static char tmpdir[] = "/tmp/meridian-test-probe-XXXXXX";

static int
listen_tcp(const char *address, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    if (strchr(address, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, address, &s6->sin6_addr);
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, address, &s4->sin_addr);
        len = sizeof(*s4);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0) {
        close(fd);
        return -1;
    }
    len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

/* A TCP port on 127.0.0.1 that refuses connections for the test's whole run: bound but never
 * listening, so a connect gets a reset, and held (the fd stays open until the process exits)
 * so that no other process can take the port in between. */
static uint16_t
refusing_tcp_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    return ntohs(sin.sin_port); /* fd deliberately left open: it holds the port */
}

/* A UDP destination with no socket, so a datagram gets ICMP port unreachable: a bound
 * socket that never reads would not refuse, so the port cannot be held. It is made safe
 * instead: a random address in 127.77.0.0/16 and a port below the kernel's ephemeral range
 * (32768 and up by default), which no automatic bind of any process uses and no other test
 * binds on that address. Writes the address into addr. */
static uint16_t
refusing_udp_dest(char addr[INET_ADDRSTRLEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned seed = (unsigned)ts.tv_nsec ^ (unsigned)getpid() << 16;
    snprintf(addr, INET_ADDRSTRLEN, "127.77.%u.%u", rand_r(&seed) % 256, 1 + rand_r(&seed) % 254);
    return (uint16_t)(10000 + rand_r(&seed) % 20000);
}

struct py_server {
    pid_t pid;
    int stdin_w;
    uint16_t port;
};

static struct py_server http_srv = {.pid = -1, .stdin_w = -1};
static struct py_server https_srv = {.pid = -1, .stdin_w = -1};

static const char server_py[] =
    "import http.server, os, socketserver, ssl, sys, threading\n"
    "def watch():\n"
    "    sys.stdin.read()\n"
    "    os._exit(0)\n"
    "threading.Thread(target=watch, daemon=True).start()\n"
    "last_sni = ['']\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.0'\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "    def do_GET(self):\n"
    "        p = self.path\n"
    "        if p == '/ok':\n"
    "            code, body = 200, b'all ok here'\n"
    "        elif p == '/fail':\n"
    "            code, body = 503, b'maintenance'\n"
    "        elif p == '/host':\n"
    "            code, body = 200, ('host=' + str(self.headers.get('Host'))).encode()\n"
    "        elif p == '/sni':\n"
    "            code, body = 200, ('sni=' + last_sni[0]).encode()\n"
    "        elif p == '/big':\n"
    "            code, body = 200, b'x' * 200000 + b'needle'\n"
    "        else:\n"
    "            code, body = 404, b'nope'\n"
    "        self.send_response(code)\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        try:\n"
    "            self.wfile.write(body)\n"
    "        except OSError:\n"
    "            pass\n"
    "    def do_POST(self):\n"
    "        self.send_response(201 if self.command == 'POST' else 400)\n"
    "        self.send_header('Content-Length', '0')\n"
    "        self.end_headers()\n"
    "class S(socketserver.ThreadingMixIn, http.server.HTTPServer):\n"
    "    daemon_threads = True\n"
    "    def handle_error(self, request, client_address):\n"
    "        pass\n"
    "srv = S(('127.0.0.1', 0), H)\n"
    "if len(sys.argv) > 2:\n"
    "    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "    ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "    def sni(sock, name, c):\n"
    "        last_sni[0] = str(name)\n"
    "    ctx.sni_callback = sni\n"
    "    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n"
    "print(srv.server_address[1], flush=True)\n"
    "srv.serve_forever()\n";

static void
path_in_tmp(char *out, size_t size, const char *name)
{
    int n = snprintf(out, size, "%s/%s", tmpdir, name);
    assert_true(n > 0 && (size_t)n < size);
}

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_true(fputs(text, fp) >= 0);
    assert_int_equal(fclose(fp), 0);
}

/* Starts python3 server.py [cert key]; reads the port it prints. 0 or -1. */
static int
start_python(struct py_server *s, const char *cert, const char *key)
{
    char script[PATH_MAX], log[PATH_MAX];
    int in[2], out[2];
    path_in_tmp(script, sizeof(script), "server.py");
    path_in_tmp(log, sizeof(log), cert ? "https.log" : "http.log");
    if (pipe2(in, O_CLOEXEC) < 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    char *argv[] = {"python3", script, (char *)cert, (char *)key, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = posix_spawnp(&s->pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        s->pid = -1;
        close(in[1]);
        close(out[0]);
        return -1;
    }
    s->stdin_w = in[1];

    char line[32];
    size_t got = 0;
    double deadline = now_ms() + test_ms(10000);
    /* Bounded: until a newline, EOF or 10 s (scaled). */
    while (got < sizeof(line) - 1 && now_ms() < deadline) {
        struct pollfd pfd = {.fd = out[0], .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read(out[0], line + got, sizeof(line) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        line[got] = '\0';
        if (strchr(line, '\n'))
            break;
    }
    close(out[0]);
    line[got] = '\0';
    long port = strtol(line, NULL, 10);
    if (port <= 0 || port > 65535)
        return -1;
    s->port = (uint16_t)port;
    return 0;
}

static void
stop_python(struct py_server *s)
{
    if (s->stdin_w >= 0)
        close(s->stdin_w); /* its watchdog thread exits on EOF */
    s->stdin_w = -1;
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = -1;
            return;
        }
        usleep(10000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = -1;
}

/* DNS responder thread on 127.0.0.1 (and ::1 when available). */
struct dns_server {
    int fd[2];
    uint16_t port[2];
    pthread_t thread;
    atomic_bool stop;
    bool running;
};

static struct dns_server dns_srv = {.fd = {-1, -1}};

static void
put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Appends an RR owned by the question name (pointer to offset 12). */
static size_t
add_rr(uint8_t *out, size_t len, unsigned type, const void *rdata, size_t rdlen)
{
    uint8_t *p = out + len;
    p[0] = 0xC0;
    p[1] = 12;
    put16(p + 2, type);
    put16(p + 4, 1);
    memset(p + 6, 0, 4);
    p[9] = 60;
    put16(p + 10, (unsigned)rdlen);
    memcpy(p + 12, rdata, rdlen);
    return len + 12 + rdlen;
}

/* Builds the answer for one query; returns its length, 0 for none. */
static size_t
dns_respond(const uint8_t *q, size_t qlen, uint8_t *out)
{
    char name[256];
    size_t pos = 12, o = 0;
    if (qlen < 17)
        return 0;
    /* The question name in lowercase text, labels joined by dots. */
    while (pos < qlen && q[pos] && o < sizeof(name) - 70) {
        uint8_t l = q[pos];
        if (l > 63 || pos + 1 + l > qlen)
            return 0;
        for (unsigned i = 0; i < l; i++) {
            char c = (char)q[pos + 1 + i];
            name[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        name[o++] = '.';
        pos += 1u + l;
    }
    name[o] = '\0';
    pos++;
    if (pos + 4 > qlen)
        return 0;
    size_t qend = pos + 4;
    memcpy(out, q, qend);
    out[2] = 0x84; /* QR, AA */
    out[3] = 0;
    memset(out + 6, 0, 6);
    size_t len = qend;
    unsigned an = 0;

    if (strcmp(name, "a.test.") == 0) {
        uint8_t a[4] = {192, 0, 2, 1};
        len = add_rr(out, len, 1, a, 4);
        an = 1;
    } else if (strcmp(name, "aaaa.test.") == 0) {
        uint8_t a6[16];
        inet_pton(AF_INET6, "2001:db8::1", a6);
        len = add_rr(out, len, 28, a6, 16);
        an = 1;
    } else if (strcmp(name, "txt.test.") == 0) {
        static const uint8_t txt[] = "\x06hello \x05world";
        len = add_rr(out, len, 16, txt, sizeof(txt) - 1);
        an = 1;
    } else if (strcmp(name, "cname.test.") == 0) {
        /* "target" + pointer to "test." inside the question (offset 12 + 6). */
        static const uint8_t target[] = {6, 't', 'a', 'r', 'g', 'e', 't', 0xC0, 18};
        uint8_t a[4] = {192, 0, 2, 7};
        len = add_rr(out, len, 5, target, sizeof(target));
        len = add_rr(out, len, 1, a, 4); /* owner simplified: the question name */
        an = 2;
    } else if (strcmp(name, "mx.test.") == 0) {
        static const uint8_t mx[] = {0, 10, 4, 'm', 'a', 'i', 'l', 0xC0, 15};
        len = add_rr(out, len, 15, mx, sizeof(mx));
        an = 1;
    } else if (strcmp(name, "nx.test.") == 0) {
        out[3] = 3;
    } else if (strcmp(name, "wrongid.test.") == 0) {
        put16(out, (unsigned)((q[0] << 8 | q[1]) + 1));
    } else if (strcmp(name, "wrongq.test.") == 0) {
        out[13] ^= 0x01; /* changes the first letter of the first label */
    } else if (strcmp(name, "silent.test.") == 0) {
        return 0;
    } else {
        out[3] = 5;
    }
    put16(out + 6, an);
    return len;
}

static void *
dns_thread(void *arg)
{
    struct dns_server *s = arg;
    uint8_t q[512], a[1024];

    /* Bounded by the stop flag, checked at least every 50 ms. */
    while (!atomic_load(&s->stop)) {
        struct pollfd pfd[2] = {{.fd = s->fd[0], .events = POLLIN},
                                {.fd = s->fd[1], .events = POLLIN}};
        if (poll(pfd, 2, 50) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            struct sockaddr_storage from;
            socklen_t flen = sizeof(from);
            ssize_t n = recvfrom(s->fd[i], q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
            if (n <= 0)
                continue;
            size_t alen = dns_respond(q, (size_t)n, a);
            if (alen)
                sendto(s->fd[i], a, alen, 0, (struct sockaddr *)&from, flen);
        }
    }
    return NULL;
}

static int
udp_socket(int family, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, "127.0.0.1", &s4->sin_addr);
        len = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        len = sizeof(*s6);
    }
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        close(fd);
        return -1;
    }
    len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static int
group_setup(void **state)
{
    char cert[PATH_MAX], key[PATH_MAX], script[PATH_MAX], cmd[3 * PATH_MAX + 256];
    (void)state;

    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(tmpdir))
        return -1;
    path_in_tmp(script, sizeof(script), "server.py");
    write_file(script, server_py);
    if (start_python(&http_srv, NULL, NULL) < 0) {
        fprintf(stderr, "test_probe: python3 HTTP server did not start (see %s/http.log)\n",
                tmpdir);
        return -1;
    }

    path_in_tmp(cert, sizeof(cert), "cert.pem");
    path_in_tmp(key, sizeof(key), "key.pem");
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout '%s' -out '%s' -days 2 -subj /CN=www.example.test "
             "-addext subjectAltName=DNS:www.example.test >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0 || start_python(&https_srv, cert, key) != 0) {
        fprintf(stderr, "test_probe: openssl certificate or python3 HTTPS server failed\n");
        return -1;
    }

    dns_srv.fd[0] = udp_socket(AF_INET, &dns_srv.port[0]);
    dns_srv.fd[1] = udp_socket(AF_INET6, &dns_srv.port[1]);
    if (dns_srv.fd[0] < 0)
        return -1;
    atomic_store(&dns_srv.stop, false);
    if (pthread_create(&dns_srv.thread, NULL, dns_thread, &dns_srv) != 0)
        return -1;
    dns_srv.running = true;
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;

    stop_python(&http_srv);
    stop_python(&https_srv);
    if (dns_srv.running) {
        atomic_store(&dns_srv.stop, true);
        pthread_join(dns_srv.thread, NULL);
    }
    for (int i = 0; i < 2; i++)
        if (dns_srv.fd[i] >= 0)
            close(dns_srv.fd[i]);
    return test_tmpdir_remove(tmpdir) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------------------------------- */
/* tcp                                                                                        */

static void
test_tcp_up(void **state)
{
    struct fixture *f = *state;
    uint16_t port;
    int fd = listen_tcp("127.0.0.1", &port);
    assert_true(fd >= 0);
    struct config_check c = make_check(CONFIG_CHECK_TCP, port);
    struct result *r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);
    close(fd);
}

static void
test_tcp_up_v6(void **state)
{
    struct fixture *f = *state;
    uint16_t port;
    int fd = listen_tcp("::1", &port);
    if (fd < 0)
        fail_msg("no IPv6 loopback (::1): required, as by the e2e tests");
    struct config_check c = make_check(CONFIG_CHECK_TCP, port);
    struct result *r = probe_once(f, &c, "::1");
    assert_true(r->up);
    close(fd);
}

static void
test_tcp_refused(void **state)
{
    struct fixture *f = *state;
    struct config_check c = make_check(CONFIG_CHECK_TCP, refusing_tcp_port());
    struct result *r = probe_once(f, &c, "127.0.0.1");
    assert_false(r->up);
    assert_string_equal(r->reason, "connect: Connection refused");
}

/* A name target goes through curl's resolver ("localhost" never leaves the host). */
static void
test_tcp_name_target(void **state)
{
    struct fixture *f = *state;
    uint16_t port;
    int fd = listen_tcp("127.0.0.1", &port);
    assert_true(fd >= 0);
    struct config_check c = make_check(CONFIG_CHECK_TCP, port);
    struct result *r = probe_once(f, &c, "localhost.");
    assert_true(r->up);
    close(fd);
    c.port = refusing_tcp_port();
    r = probe_once(f, &c, "localhost.");
    assert_false(r->up);
    assert_reason_starts(r, "curl: ");
}

/* A done callback may start the next probe. */
static int chain_left;
static struct probe_ctx *chain_ctx;
static struct config_check chain_check;

static void
on_chain(void *arg, bool up, const char *reason)
{
    struct probe_target t = make_target("127.0.0.1");
    on_done(arg, up, reason);
    if (--chain_left > 0)
        assert_int_equal(probe_start(chain_ctx, &chain_check, &t, on_chain, arg), 0);
}

static void
test_restart_from_callback(void **state)
{
    struct fixture *f = *state;
    uint16_t port;
    int fd = listen_tcp("127.0.0.1", &port);
    assert_true(fd >= 0);
    struct probe_target t = make_target("127.0.0.1");
    chain_check = make_check(CONFIG_CHECK_TCP, port);
    chain_ctx = f->ctx;
    chain_left = 5;
    assert_int_equal(probe_start(f->ctx, &chain_check, &t, on_chain, &f->r[0]), 0);
    assert_true(run_until(f->loop, &f->r[0].calls, 5, WAIT_MS));
    assert_true(f->r[0].up);
    close(fd);
}

static void
test_bad_check_fails_at_once(void **state)
{
    struct fixture *f = *state;
    struct config_check c = make_check((enum config_check_type)99, 1);
    struct probe_target t = make_target("127.0.0.1");
    assert_int_equal(probe_start(f->ctx, &c, &t, on_done, &f->r[0]), -1);
    assert_int_equal(f->r[0].calls, 1);
    assert_false(f->r[0].up);

    /* A dns check needs an address; an exec check a command. */
    c = make_check(CONFIG_CHECK_DNS, 53);
    c.qname = "a.test.";
    t = make_target("www.example.test.");
    assert_int_equal(probe_start(f->ctx, &c, &t, on_done, &f->r[1]), -1);
    assert_int_equal(f->r[1].calls, 1);
    assert_string_equal(f->r[1].reason, "dns check needs an address");
    c = make_check(CONFIG_CHECK_EXEC, 0);
    t = make_target("127.0.0.1");
    assert_int_equal(probe_start(f->ctx, &c, &t, on_done, &f->r[2]), -1);
    assert_int_equal(f->r[2].calls, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* http, https                                                                                */

static void
test_http_up(void **state)
{
    struct fixture *f = *state;
    struct config_check c = make_check(CONFIG_CHECK_HTTP, http_srv.port);
    c.path = "/ok";
    struct result *r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);
    assert_string_equal(r->reason, "http status 200");
    c.expect_body = "ok";
    r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);
}

static void
test_http_status(void **state)
{
    struct fixture *f = *state;
    struct config_check c = make_check(CONFIG_CHECK_HTTP, http_srv.port);
    c.path = "/fail";
    struct result *r = probe_once(f, &c, "127.0.0.1");
    assert_false(r->up);
    assert_string_equal(r->reason, "http status 503");

    uint16_t codes[] = {200, 503};
    c.expect_status = codes;
    c.expect_status_count = 2;
    r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);

    /* Path without its slash, and a method other than GET. */
    c = make_check(CONFIG_CHECK_HTTP, http_srv.port);
    c.path = "missing";
    r = probe_once(f, &c, "127.0.0.1");
    assert_string_equal(r->reason, "http status 404");
    uint16_t created[] = {201};
    c.method = "POST";
    c.expect_status = created;
    c.expect_status_count = 1;
    r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);
}

static void
test_http_body(void **state)
{
    struct fixture *f = *state;
    struct config_check c = make_check(CONFIG_CHECK_HTTP, http_srv.port);
    c.path = "/ok";
    c.expect_body = "missing";
    struct result *r = probe_once(f, &c, "127.0.0.1");
    assert_false(r->up);
    assert_string_equal(r->reason, "body lacks 'missing'");

    /* Only the first 64 KiB count: "needle" comes after 200,000 bytes. */
    c.path = "/big";
    c.expect_body = "needle";
    r = probe_once(f, &c, "127.0.0.1");
    assert_false(r->up);
    assert_string_equal(r->reason, "body lacks 'needle'");
    c.expect_body = "xxxx";
    r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);
}

static void
test_http_host_header(void **state)
{
    struct fixture *f = *state;
    char expect[64];
    struct config_check c = make_check(CONFIG_CHECK_HTTP, http_srv.port);
    c.path = "/host";
    c.host = "www.example.test";
    snprintf(expect, sizeof(expect), "host=www.example.test:%u", http_srv.port);
    c.expect_body = expect;
    struct result *r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);

    c.host = NULL;
    snprintf(expect, sizeof(expect), "host=127.0.0.1:%u", http_srv.port);
    r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);
}

static void
test_http_refused(void **state)
{
    struct fixture *f = *state;
    struct config_check c = make_check(CONFIG_CHECK_HTTP, refusing_tcp_port());
    struct result *r = probe_once(f, &c, "127.0.0.1");
    assert_false(r->up);
    assert_string_equal(r->reason, "curl: Couldn't connect to server");
}

/* Connected (the kernel accepts into the backlog) but never answered: the deadline. */
static void
test_http_timeout(void **state)
{
    struct fixture *f = *state;
    uint16_t port;
    int fd = listen_tcp("127.0.0.1", &port);
    assert_true(fd >= 0);
    struct config_check c = make_check(CONFIG_CHECK_HTTP, port);
    c.timeout_ms = 300;
    double start = now_ms();
    struct result *r = probe_once(f, &c, "127.0.0.1");
    double took = r->at_ms - start;
    assert_false(r->up);
    assert_string_equal(r->reason, "timeout after 300 ms");
    /* Not before the deadline; after it, within what a loaded machine adds. */
    if (took < 250 || took >= 300 + test_ms(700))
        fail_msg("timeout reported after %.0f ms (300 ms, bound %d ms)", took, 300 + test_ms(700));
    close(fd);
}

static void
test_https(void **state)
{
    struct fixture *f = *state;
    struct config_check c = make_check(CONFIG_CHECK_HTTPS, https_srv.port);
    c.path = "/sni";
    c.host = "www.example.test";
    c.expect_body = "sni=www.example.test";
    c.tls_verify = false;
    struct result *r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);

    /* Self-signed: verification fails. */
    c.tls_verify = true;
    r = probe_once(f, &c, "127.0.0.1");
    assert_false(r->up);
    assert_reason_starts(r, "curl: ");

    /* Plain HTTP to the TLS port is not a pass either. */
    c = make_check(CONFIG_CHECK_HTTP, https_srv.port);
    c.timeout_ms = 1000;
    r = probe_once(f, &c, "127.0.0.1");
    assert_false(r->up);
}

/* ---------------------------------------------------------------------------------------- */
/* dns                                                                                        */

static struct result *
dns_probe(struct fixture *f, const char *address, uint16_t port, const char *qname, uint16_t qtype,
          uint8_t rcode, const char *answer)
{
    struct config_check c = make_check(CONFIG_CHECK_DNS, port);
    c.qname = (char *)qname;
    c.qtype = qtype;
    c.expect_rcode = rcode;
    c.expect_answer = (char *)answer;
    c.timeout_ms = (uint32_t)test_ms(500);
    return probe_once(f, &c, address);
}

/* The reason of a dns probe that ran into its deadline (see dns_probe). */
static void
assert_dns_timeout(const struct result *r)
{
    char want[64];
    snprintf(want, sizeof(want), "timeout after %d ms", test_ms(500));
    assert_string_equal(r->reason, want);
}

static void
test_dns(void **state)
{
    struct fixture *f = *state;
    uint16_t p = dns_srv.port[0];
    struct result *r;

    r = dns_probe(f, "127.0.0.1", p, "a.test.", 1, 0, NULL);
    assert_true(r->up);
    r = dns_probe(f, "127.0.0.1", p, "A.Test", 1, 0, "192.0.2.1");
    assert_true(r->up);
    r = dns_probe(f, "127.0.0.1", p, "a.test.", 1, 0, "192.0.2.2");
    assert_false(r->up);
    assert_string_equal(r->reason, "no answer equals '192.0.2.2'");
    r = dns_probe(f, "127.0.0.1", p, "aaaa.test.", 28, 0, "2001:DB8:0::1");
    assert_true(r->up);
    r = dns_probe(f, "127.0.0.1", p, "txt.test.", 16, 0, "hello world");
    assert_true(r->up);
    r = dns_probe(f, "127.0.0.1", p, "txt.test.", 16, 0, "hello");
    assert_false(r->up);
    r = dns_probe(f, "127.0.0.1", p, "cname.test.", 1, 0, "target.test.");
    assert_true(r->up);
    r = dns_probe(f, "127.0.0.1", p, "cname.test.", 1, 0, "TARGET.test");
    assert_true(r->up);
    r = dns_probe(f, "127.0.0.1", p, "cname.test.", 1, 0, "192.0.2.7");
    assert_true(r->up);
    r = dns_probe(f, "127.0.0.1", p, "mx.test.", 15, 0, "10 mail.test.");
    assert_true(r->up);
}

static void
test_dns_rcode(void **state)
{
    struct fixture *f = *state;
    uint16_t p = dns_srv.port[0];
    struct result *r = dns_probe(f, "127.0.0.1", p, "nx.test.", 1, 0, NULL);
    assert_false(r->up);
    assert_string_equal(r->reason, "rcode NXDOMAIN (expected NOERROR)");
    r = dns_probe(f, "127.0.0.1", p, "nx.test.", 1, 3, NULL);
    assert_true(r->up);
    r = dns_probe(f, "127.0.0.1", p, "other.example.", 1, 0, NULL);
    assert_string_equal(r->reason, "rcode REFUSED (expected NOERROR)");
}

/* Replies that are not ours are ignored: the probe runs into its deadline. */
static void
test_dns_mismatch_and_down(void **state)
{
    struct fixture *f = *state;
    uint16_t p = dns_srv.port[0];
    struct result *r = dns_probe(f, "127.0.0.1", p, "wrongid.test.", 1, 0, NULL);
    assert_false(r->up);
    assert_dns_timeout(r);
    r = dns_probe(f, "127.0.0.1", p, "wrongq.test.", 1, 0, NULL);
    assert_dns_timeout(r);
    r = dns_probe(f, "127.0.0.1", p, "silent.test.", 1, 0, NULL);
    assert_dns_timeout(r);
    char refusing[INET_ADDRSTRLEN];
    uint16_t refusing_port = refusing_udp_dest(refusing);
    r = dns_probe(f, refusing, refusing_port, "a.test.", 1, 0, NULL);
    assert_false(r->up);
    assert_string_equal(r->reason, "recv: Connection refused");
}

static void
test_dns_v6(void **state)
{
    struct fixture *f = *state;
    if (dns_srv.fd[1] < 0)
        fail_msg("no IPv6 loopback (::1): required, as by the e2e tests");
    struct result *r = dns_probe(f, "::1", dns_srv.port[1], "a.test.", 1, 0, "192.0.2.1");
    assert_true(r->up);
}

/* ---------------------------------------------------------------------------------------- */
/* exec                                                                                       */

static struct result *
exec_probe(struct fixture *f, char **argv, uint32_t timeout_ms, uint16_t port)
{
    struct config_check c = make_check(CONFIG_CHECK_EXEC, port);
    c.argv = argv;
    c.timeout_ms = timeout_ms;
    return probe_once(f, &c, "127.0.0.1");
}

static void
test_exec(void **state)
{
    struct fixture *f = *state;
    char *t[] = {"true", NULL};
    char *fl[] = {"false", NULL};
    char *missing[] = {"/nonexistent/meridian-check", NULL};
    char *ph[] = {
        "/bin/sh", "-c",        "test \"$1\" = 127.0.0.1 && test \"$2\" = p=5353:127.0.0.1",
        "sh",      "{address}", "p={port}:{address}",
        NULL};
    /* Descriptors other than 0-2 are closed; 0-2 are /dev/null. */
    char *fds[] = {"/bin/sh", "-c", "test ! -e /proc/self/fd/3 && test -c /proc/self/fd/1", NULL};

    uint32_t timeout = (uint32_t)test_ms(2000);
    struct result *r = exec_probe(f, t, timeout, 0);
    assert_true(r->up);
    r = exec_probe(f, fl, timeout, 0);
    assert_false(r->up);
    assert_string_equal(r->reason, "exit status 1");
    r = exec_probe(f, ph, timeout, 5353);
    assert_true(r->up);
    r = exec_probe(f, missing, timeout, 0);
    assert_false(r->up);
    assert_reason_starts(r, "spawn /nonexistent/meridian-check: ");
    r = exec_probe(f, fds, timeout, 0);
    assert_true(r->up);
}

static pid_t
read_pid(const char *path, int max_ms)
{
    double deadline = now_ms() + max_ms;
    /* Bounded: until the file has a pid or max_ms pass. */
    while (now_ms() < deadline) {
        FILE *fp = fopen(path, "r");
        long pid = 0;
        if (fp) {
            if (fscanf(fp, "%ld", &pid) != 1)
                pid = 0;
            fclose(fp);
        }
        if (pid > 0)
            return (pid_t)pid;
        usleep(5000);
    }
    return -1;
}

/* Is the process gone (reaped, not a zombie)? Waits up to max_ms, running the loop. */
static bool
gone(struct ev_loop *loop, pid_t pid, int max_ms)
{
    double deadline = now_ms() + max_ms;
    while (now_ms() < deadline) {
        if (kill(pid, 0) < 0 && errno == ESRCH)
            return true;
        run_for(loop, 10);
    }
    return false;
}

static void
test_exec_timeout(void **state)
{
    struct fixture *f = *state;
    char pidfile[PATH_MAX], bgfile[PATH_MAX], script[3 * PATH_MAX];
    path_in_tmp(pidfile, sizeof(pidfile), "exec-timeout.pid");
    path_in_tmp(bgfile, sizeof(bgfile), "exec-timeout-bg.pid");
    unlink(pidfile);
    unlink(bgfile);
    /* The shell starts a background sleep, then becomes `sleep 5`: both must die. */
    snprintf(script, sizeof(script), "sleep 5 & echo $! > '%s'; echo $$ > '%s'; exec sleep 5",
             bgfile, pidfile);
    char *argv[] = {"/bin/sh", "-c", script, NULL};

    /* Long enough for the shell to start and write both pids on a loaded machine. */
    int timeout = test_ms(500);
    char reason[64];
    snprintf(reason, sizeof(reason), "timeout after %d ms", timeout);
    double start = now_ms();
    struct result *r = exec_probe(f, argv, (uint32_t)timeout, 0);
    double took = r->at_ms - start;
    assert_false(r->up);
    assert_string_equal(r->reason, reason);
    if (took < timeout - 50 || took >= timeout + test_ms(700))
        fail_msg("timeout reported after %.0f ms (%d ms, bound %d ms)", took, timeout,
                 timeout + test_ms(700));
    pid_t pid = read_pid(pidfile, 100);
    pid_t bg = read_pid(bgfile, 100);
    assert_true(pid > 0 && bg > 0);
    assert_true(gone(f->loop, pid, test_ms(2000)));
    /* The background sleep was reparented, not ours to reap: dead is enough. */
    double deadline = now_ms() + test_ms(2000);
    bool bg_dead = false;
    while (!bg_dead && now_ms() < deadline) {
        char stat_path[64], st[512];
        snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)bg);
        FILE *fp = fopen(stat_path, "r");
        if (!fp) {
            bg_dead = true;
            break;
        }
        /* A zombie ("Z") waiting for its new parent counts as dead. */
        bg_dead = fgets(st, sizeof(st), fp) && strstr(st, ") Z ");
        fclose(fp);
        usleep(5000);
    }
    assert_true(bg_dead);
}

/* exec_max 2, five 200 ms children: never more than two at once, all up. */
static void
test_exec_cap(void **state)
{
    struct fixture *f = *state;
    char logfile[PATH_MAX], script[2 * PATH_MAX + 128];
    struct probe_ctx *ctx = probe_ctx_new(f->loop, 2);
    path_in_tmp(logfile, sizeof(logfile), "exec-cap.log");
    unlink(logfile);
    snprintf(script, sizeof(script),
             "echo S $(date +%%s%%N) >> '%s'; sleep 0.2; echo E $(date +%%s%%N) >> '%s'", logfile,
             logfile);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    struct config_check c = make_check(CONFIG_CHECK_EXEC, 0);
    struct probe_target t = make_target("127.0.0.1");
    c.argv = argv;
    c.timeout_ms = (uint32_t)test_ms(3000);

    double start = now_ms();
    for (int i = 0; i < 5; i++)
        assert_int_equal(probe_start(ctx, &c, &t, on_done, &f->r[i]), 0);
    assert_true(run_until(f->loop, &done_total, 5, test_ms(10000)));
    double took = now_ms() - start;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f->r[i].calls, 1);
        assert_true(f->r[i].up);
    }
    /* Three rounds of 200 ms at least. */
    assert_true(took >= 550);

    /* Replay the start and end stamps in time order. */
    struct ev {
        long long t;
        int d;
    } evs[10];
    int n = 0;
    FILE *fp = fopen(logfile, "r");
    assert_non_null(fp);
    char kind;
    long long ts;
    while (n < 10 && fscanf(fp, " %c %lld", &kind, &ts) == 2) {
        evs[n].t = ts;
        evs[n].d = kind == 'S' ? 1 : -1;
        n++;
    }
    fclose(fp);
    assert_int_equal(n, 10);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && (evs[j].t < evs[j - 1].t ||
                                  (evs[j].t == evs[j - 1].t && evs[j].d < evs[j - 1].d));
             j--) {
            struct ev tmp = evs[j];
            evs[j] = evs[j - 1];
            evs[j - 1] = tmp;
        }
    int running = 0, most = 0;
    for (int i = 0; i < n; i++) {
        running += evs[i].d;
        if (running > most)
            most = running;
    }
    assert_int_equal(most, 2);
    probe_ctx_free(ctx);
}

/* ---------------------------------------------------------------------------------------- */
/* file                                                                                       */

static void
test_file(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    path_in_tmp(path, sizeof(path), "states");
    write_file(path, "# maintenance list\n"
                     "\n"
                     "127.0.0.1 up\n"
                     "127.0.0.2   down   # disk\n"
                     "2001:db8::1\tUP\n"
                     "www.example.test. up\n"
                     "127.0.0.3 up\n"
                     "127.0.0.3 down\n"
                     "127.0.0.4 maybe\n");
    struct config_check c = make_check(CONFIG_CHECK_FILE, 0);
    c.file = path;
    struct result *r = probe_once(f, &c, "127.0.0.1");
    assert_true(r->up);
    r = probe_once(f, &c, "127.0.0.2");
    assert_false(r->up);
    assert_string_equal(r->reason, "down in state file (line 4)");
    r = probe_once(f, &c, "2001:db8:0::0001");
    assert_true(r->up);
    r = probe_once(f, &c, "WWW.Example.Test");
    assert_true(r->up);
    r = probe_once(f, &c, "127.0.0.3");
    assert_false(r->up);
    r = probe_once(f, &c, "127.0.0.4");
    assert_string_equal(r->reason, "bad state in state file (line 9)");
    r = probe_once(f, &c, "127.0.0.9");
    assert_false(r->up);
    assert_string_equal(r->reason, "not in state file");

    path_in_tmp(path, sizeof(path), "no-such-states");
    r = probe_once(f, &c, "127.0.0.1");
    assert_false(r->up);
    assert_string_equal(r->reason, "state file: No such file or directory");
}

/* ---------------------------------------------------------------------------------------- */
/* cancellation                                                                               */

/* probe_ctx_free with every kind in flight: no callback, no leak, the child killed. */
static void
test_free_in_flight(void **state)
{
    struct fixture *f = *state;
    char pidfile[PATH_MAX], script[PATH_MAX + 64], states[PATH_MAX];
    uint16_t port;
    int fd = listen_tcp("127.0.0.1", &port);
    assert_true(fd >= 0);
    struct probe_ctx *ctx = probe_ctx_new(f->loop, 1);
    struct probe_target t = make_target("127.0.0.1");
    path_in_tmp(pidfile, sizeof(pidfile), "free.pid");
    path_in_tmp(states, sizeof(states), "states-free");
    write_file(states, "127.0.0.1 up\n");
    unlink(pidfile);
    snprintf(script, sizeof(script), "echo $$ > '%s'; exec sleep 5", pidfile);
    char *argv[] = {"/bin/sh", "-c", script, NULL};

    struct config_check ce = make_check(CONFIG_CHECK_EXEC, 0);
    ce.argv = argv;
    ce.timeout_ms = 5000;
    assert_int_equal(probe_start(ctx, &ce, &t, on_done, &f->r[0]), 0);
    /* Let the child start and write its pid; nothing may report meanwhile. */
    pid_t pid = -1;
    for (int i = 0; i < test_ms(200) && pid <= 0; i++) {
        run_for(f->loop, 10);
        pid = read_pid(pidfile, 1);
    }
    assert_true(pid > 0);
    assert_int_equal(probe_start(ctx, &ce, &t, on_done, &f->r[1]), 0); /* queued */

    struct config_check ct = make_check(CONFIG_CHECK_TCP, port);
    assert_int_equal(probe_start(ctx, &ct, &t, on_done, &f->r[2]), 0);
    struct config_check ch = make_check(CONFIG_CHECK_HTTP, port);
    ch.expect_body = "x";
    assert_int_equal(probe_start(ctx, &ch, &t, on_done, &f->r[3]), 0);
    struct config_check cd = make_check(CONFIG_CHECK_DNS, dns_srv.port[0]);
    cd.qname = "silent.test.";
    assert_int_equal(probe_start(ctx, &cd, &t, on_done, &f->r[4]), 0);
    struct config_check cf = make_check(CONFIG_CHECK_FILE, 0);
    cf.file = states;
    assert_int_equal(probe_start(ctx, &cf, &t, on_done, &f->r[5]), 0);
    struct probe_target name = make_target("localhost.");
    assert_int_equal(probe_start(ctx, &ct, &name, on_done, &f->r[6]), 0);

    probe_ctx_free(ctx);
    run_for(f->loop, 200);
    assert_int_equal(done_total, 0);
    assert_true(gone(f->loop, pid, test_ms(2000)));
    close(fd);
}

/* probe_ctx_free from inside a done callback: the other probes are never reported. */
static struct probe_ctx *doomed_ctx;

static void
on_done_free(void *arg, bool up, const char *reason)
{
    on_done(arg, up, reason);
    probe_ctx_free(doomed_ctx);
    doomed_ctx = NULL;
}

static void
test_free_from_callback(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    char *sleeper[] = {"sleep", "5", NULL};
    uint16_t port;
    int fd = listen_tcp("127.0.0.1", &port);
    assert_true(fd >= 0);
    path_in_tmp(path, sizeof(path), "states-cb");
    write_file(path, "127.0.0.1 up\n");
    struct probe_target t = make_target("127.0.0.1");

    /* Three rounds: the freeing callback comes from a file, a tcp and an http probe. */
    for (int round = 0; round < 3; round++) {
        done_total = 0;
        memset(f->r, 0, sizeof(f->r));
        doomed_ctx = probe_ctx_new(f->loop, 1);
        struct config_check cf = make_check(CONFIG_CHECK_FILE, 0);
        cf.file = path;
        struct config_check ct = make_check(CONFIG_CHECK_TCP, port);
        struct config_check ch = make_check(CONFIG_CHECK_HTTP, http_srv.port);
        ch.path = "/ok";
        struct config_check ce = make_check(CONFIG_CHECK_EXEC, 0);
        ce.argv = sleeper;
        struct config_check cd = make_check(CONFIG_CHECK_DNS, dns_srv.port[0]);
        cd.qname = "silent.test.";
        if (round == 0)
            assert_int_equal(probe_start(doomed_ctx, &cf, &t, on_done_free, &f->r[0]), 0);
        else if (round == 1)
            assert_int_equal(probe_start(doomed_ctx, &ct, &t, on_done_free, &f->r[0]), 0);
        else
            assert_int_equal(probe_start(doomed_ctx, &ch, &t, on_done_free, &f->r[0]), 0);
        assert_int_equal(probe_start(doomed_ctx, &ce, &t, on_done, &f->r[1]), 0);
        assert_int_equal(probe_start(doomed_ctx, &ce, &t, on_done, &f->r[2]), 0);
        assert_int_equal(probe_start(doomed_ctx, &cd, &t, on_done, &f->r[3]), 0);
        assert_true(run_until(f->loop, &f->r[0].calls, 1, WAIT_MS));
        assert_null(doomed_ctx);
        run_for(f->loop, 100);
        assert_int_equal(done_total, 1);
    }
    close(fd);
}

/* Is `name` an executable file in a directory of PATH? */
static bool
on_path(const char *name)
{
    const char *dirs = getenv("PATH");
    char cand[PATH_MAX];
    while (dirs && *dirs) {
        size_t n = strcspn(dirs, ":");
        if (n > 0 &&
            snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, dirs, name) < (int)sizeof(cand) &&
            access(cand, X_OK) == 0)
            return true;
        dirs += n + (dirs[n] == ':');
    }
    return false;
}

int
main(void)
{
    /* The local HTTP and HTTPS servers are python3 with a certificate made by openssl.
     * Without them the binary is skipped as a whole (ctest SKIP_RETURN_CODE 77), so that
     * the http cases cannot pass by not running; CI installs both. */
    static const char *const tools[] = {"python3", "openssl"};
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
        if (!on_path(tools[i])) {
            printf("SKIP: %s not found in PATH (Debian packages python3, openssl)\n", tools[i]);
            return 77;
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_up_v6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_name_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_check_fails_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_host_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_rcode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_mismatch_and_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_v6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_from_callback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
