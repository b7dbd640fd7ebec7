// SPDX-License-Identifier: MIT
/* meridianctl: the operator's command line for meridiand's control socket. Sends its
 * arguments as one command line and prints the reply; exits 0 if the reply starts with
 * "ok", 1 if with "error", 2 if the server cannot be reached. */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/meridian/control.sock"

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: meridianctl [-s SOCKET] COMMAND [ARGS...]\n"
            "  -s SOCKET  control socket (default $MERIDIAN_CONTROL or " DEFAULT_SOCKET ")\n"
            "commands:\n"
            "  status                           zones, reload result, health summary, site\n"
            "  states                           every health target and its state\n"
            "  drain SELECTOR | undrain SELECTOR\n"
            "  force up|down SELECTOR\n"
            "  explain CLIENT[/PREFIX] QNAME QTYPE\n"
            "  reload\n"
            "SELECTOR: member ADDRESS | pool SERVICE POOL | service SERVICE | all | site\n");
}

int
main(int argc, char **argv)
{
    const char *path = getenv("MERIDIAN_CONTROL") ? getenv("MERIDIAN_CONTROL") : DEFAULT_SOCKET;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-s") == 0) {
        path = argv[2];
        first = 3;
    }
    if (first >= argc || strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
        usage(first >= argc ? stderr : stdout);
        return first >= argc ? 2 : 0;
    }
    char line[1024];
    size_t used = 0;
    for (int i = first; i < argc; i++) {
        int n = snprintf(line + used, sizeof(line) - used, "%s%s", i > first ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof(line) - used - 1) {
            fprintf(stderr, "meridianctl: command too long\n");
            return 2;
        }
        used += (size_t)n;
    }
    line[used++] = '\n';

    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "meridianctl: socket path too long\n");
        return 2;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        fprintf(stderr, "meridianctl: %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (write(fd, line, used) != (ssize_t)used) {
        fprintf(stderr, "meridianctl: write: %s\n", strerror(errno));
        return 2;
    }
    shutdown(fd, SHUT_WR);
    char buf[4096];
    int status = 2;
    bool first_chunk = true;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    /* The reply ends when the server closes; 30 s covers a slow `states` on a big config. */
    while (poll(&p, 1, 30000) == 1) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        if (first_chunk) {
            status = strncmp(buf, "ok", 2) == 0 ? 0 : 1;
            first_chunk = false;
        }
        fwrite(buf, 1, (size_t)n, stdout);
    }
    close(fd);
    return status;
}
