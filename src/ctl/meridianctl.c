// SPDX-License-Identifier: MIT
/* meridianctl: the operator's command line for meridiand's (and meridian-anycast's) control
 * socket. Options come before the command; the command and its words are sent as one line
 * and the reply printed; exits 0 if the reply starts with "ok", 1 if with "error", 2 on a
 * usage error or if the server cannot be reached. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
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
            "  -V         print the version\n"
            "  -h         this help\n"
            "commands (meridiand):\n"
            "  status                           zones, reload result, health summary, site\n"
            "  states                           every health target and its state\n"
            "  stats                            query counters, answers per service, pool, member\n"
            "  drain SELECTOR | undrain SELECTOR\n"
            "  force up|down SELECTOR\n"
            "  explain CLIENT[/PREFIX] QNAME QTYPE\n"
            "  reload                           waits for the reload and reports its result\n"
            "  dnssec ds ZONE [sha256|sha384|all]\n"
            "                                   DS, DNSKEY, CDNSKEY records for the parent\n"
            "  dnssec roll ZONE [csk|ksk|zsk]   start a key rollover (answered after the reload)\n"
            "  dnssec ds-seen ZONE              the parent has the new DS (answered likewise)\n"
            "  zone status ZONE                 serial, last change, transfers, NOTIFY\n"
            "  zone refresh ZONE                a secondary zone: SOA query and IXFR now\n"
            "  zone retransfer ZONE             a secondary zone: full AXFR now\n"
            "SELECTOR: member ADDRESS | pool SERVICE POOL | service SERVICE | all | site\n"
            "commands (meridian-anycast, -s its socket): status | drain | undrain |\n"
            "  force up | force down | unforce\n");
}

int
main(int argc, char **argv)
{
    const char *path = getenv("MERIDIAN_CONTROL") ? getenv("MERIDIAN_CONTROL") : DEFAULT_SOCKET;
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"socket", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    /* '+': options end at the command, whose own words may start with '-'; ':': a missing
     * argument is told apart from an unknown option. Unknown options are errors: sending
     * them to the server as a command would only earn a confusing reply. */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:s:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            path = optarg;
            break;
        case 'V':
            printf("meridianctl 0.1.0\n");
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "meridianctl: %s needs an argument (see meridianctl -h)\n",
                    argv[optind - 1]);
            return 2;
        default:
            if (optopt && strncmp(argv[optind - 1], "--", 2) != 0)
                fprintf(stderr, "meridianctl: unknown option -%c (see meridianctl -h)\n", optopt);
            else
                fprintf(stderr, "meridianctl: unknown option %s (see meridianctl -h)\n",
                        argv[optind - 1]);
            return 2;
        }
    }
    int first = optind;
    if (first >= argc) {
        fprintf(stderr, "meridianctl: no command given\n");
        usage(stderr);
        return 2;
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
    /* The reply ends when the server closes; 30 s covers a slow `states` on a big config. A
     * reload is answered when it is done, which for large zones may take minutes; so are
     * `dnssec roll` and `dnssec ds-seen`, which reload. */
    bool reloads = strcmp(argv[first], "reload") == 0 ||
                   (strcmp(argv[first], "dnssec") == 0 && first + 1 < argc &&
                    (strcmp(argv[first + 1], "roll") == 0 ||
                     strcmp(argv[first + 1], "ds-seen") == 0));
    int timeout_ms = reloads ? 15 * 60 * 1000 : 30000;
    while (poll(&p, 1, timeout_ms) == 1) {
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
