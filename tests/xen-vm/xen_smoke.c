/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xen_smoke.c - raw libxenevtchn loopback round trip, no evtchnx involved.
 *
 * Runs first in the VM: proves that the hypervisor, the dom0 kernel's
 * event-channel driver and the serial-log path work before the evtchnx
 * suite is judged.  Prints one "PASS name" / "FAIL name" line per step.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <xenevtchn.h>

static int failures;

static void check(int ok, const char *name, int err)
{
	if (ok) {
		printf("PASS %s\n", name);
	} else {
		printf("FAIL %s (errno %d: %s)\n", name, err, strerror(err));
		failures++;
	}
	fflush(stdout);
}

/* Wait for one event on @xce and return its port, or -1. */
static int take(xenevtchn_handle *xce)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };

	if (poll(&pfd, 1, 5000) != 1)
		return -1;
	return xenevtchn_pending(xce);
}

int main(void)
{
	xenevtchn_handle *a, *b;
	int pa, pb, p;

	a = xenevtchn_open(NULL, 0);
	b = xenevtchn_open(NULL, 0);
	check(a && b, "smoke_open", errno);
	if (!a || !b)
		return 1;

	pa = xenevtchn_bind_unbound_port(a, 0);
	check(pa > 0, "smoke_bind_unbound", errno);
	pb = xenevtchn_bind_interdomain(b, 0, pa);
	check(pb > 0, "smoke_bind_interdomain", errno);
	if (pa <= 0 || pb <= 0)
		return 1;

	/* Xen leaves the new interdomain port pending. */
	p = take(b);
	check(p == pb, "smoke_initial_event", errno);
	check(xenevtchn_unmask(b, pb) == 0, "smoke_unmask_b", errno);

	check(xenevtchn_notify(a, pa) == 0, "smoke_notify_a", errno);
	p = take(b);
	check(p == pb, "smoke_deliver_a_to_b", errno);
	check(xenevtchn_unmask(b, pb) == 0, "smoke_unmask_b2", errno);

	check(xenevtchn_notify(b, pb) == 0, "smoke_notify_b", errno);
	p = take(a);
	check(p == pa, "smoke_deliver_b_to_a", errno);
	check(xenevtchn_unmask(a, pa) == 0, "smoke_unmask_a", errno);

	check(xenevtchn_unbind(a, pa) == 0, "smoke_unbind_a", errno);
	check(xenevtchn_unbind(b, pb) == 0, "smoke_unbind_b", errno);
	errno = 0;
	check(xenevtchn_notify(a, pa) == -1 && errno == ENOTCONN,
	      "smoke_notify_closed_enotconn", errno);

	xenevtchn_close(a);
	xenevtchn_close(b);
	printf("smoke: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
