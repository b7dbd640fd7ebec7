/* SPDX-License-Identifier: MIT */
/* Shared by the unit tests that serve on a loopback port: a port held for the life of the
 * process, never probed, released and hoped for. Same protocol as tests/e2e/harness.py
 * (Ports), so unit and end-to-end tests running in parallel never share a port: the port lies
 * outside the kernel's ephemeral range (ip_local_port_range), so no kernel-chosen port lands
 * on it, and an flock() on $TMPDIR/meridian-e2e-ports/<port>.lock (default /tmp) keeps every
 * other cooperating test process off it until this process exits; the lock dies with the
 * process, so nothing stale is left. A test may close and bind its port again as often as it
 * likes. */
#ifndef MERIDIAN_TESTS_TEST_PORT_H
#define MERIDIAN_TESTS_TEST_PORT_H

#include <stdint.h>

/* Picks a port that is locked for this process and bindable now for UDP and TCP on
 * 127.0.0.1 and [::1] (without SO_REUSEPORT, so no server of ours holds it either). 0, or
 * -1 with a message on stderr when none was found. Not thread-safe; call from the test's
 * main thread. */
int test_port_hold(uint16_t *port);

#endif
