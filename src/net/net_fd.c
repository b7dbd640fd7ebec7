// SPDX-License-Identifier: MIT
/* The open-files budget (net_fd.h): the descriptors the workers need and raising the
 * process's soft limit. Main thread, at start. */
#include "net/net_fd.h"

#include <sys/resource.h>

uint64_t
net_fd_fixed(unsigned workers, size_t listen_count)
{
    return (uint64_t)workers * (NET_FD_PER_WORKER + NET_FD_PER_LISTEN * (uint64_t)listen_count);
}

uint32_t
net_fd_tcp_fit(uint64_t limit, uint64_t reserve, unsigned workers, size_t listen_count,
               uint32_t wanted)
{
    uint64_t fixed = net_fd_fixed(workers, listen_count);

    if (workers == 0 || limit <= reserve || limit - reserve <= fixed)
        return 0;
    uint64_t each = (limit - reserve - fixed) / workers;
    return each < wanted ? (uint32_t)each : wanted;
}

uint64_t
net_fd_raise_limit(uint64_t *raised_from)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        *raised_from = 1024;
        return 1024; /* cannot happen on Linux; assume the usual default */
    }
    *raised_from = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    if (rl.rlim_cur != rl.rlim_max) {
        /* An unlimited hard limit cannot be the soft one for descriptors (the kernel caps
         * it at fs.nr_open, 1048576 by default): ask for that much instead. */
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}
