/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xenevtchn_probe.c - probe what a libxenevtchn program can observe: the
 * state of a loopback channel through every call of the API, the errno
 * of each misuse, masking and coalescing, a blocking and a non-blocking
 * xenevtchn_pending().  Written against Xen's own <xenevtchn.h>, linked
 * with Xen's libxenevtchn.
 *
 * The same binary runs in dom0 of real Xen and, through `evtchnx run`, on
 * a sim lab as any domain: its channels are loopback (DOMID_SELF) between
 * two handles of its own domain.
 *
 * Prints one "PASS name" or "FAIL name (...)" line per check and exits 0
 * when every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>

#define SELF DOMID_SELF
#define WAIT_MS 5000

static int failures;

static int check(int ok, const char *name, int err)
{
	if (ok)
		printf("PASS probe_%s\n", name);
	else {
		printf("FAIL probe_%s (errno %d: %s)\n", name, err, strerror(err));
		failures++;
	}
	fflush(stdout);
	return ok;
}

/* A call that must fail with -1 and @want. */
#define CHECK_ERR(call, want, name)                                          \
	do {                                                                 \
		int r_;                                                      \
		errno = 0;                                                   \
		r_ = (call);                                                 \
		check(r_ == -1 && errno == (want), name, errno);             \
	} while (0)

static int readable(xenevtchn_handle *xce, int ms)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

static int take(xenevtchn_handle *xce)
{
	if (!readable(xce, WAIT_MS)) {
		errno = ETIMEDOUT;
		return -1;
	}
	return xenevtchn_pending(xce);
}

static int set_nonblock(xenevtchn_handle *xce, int on)
{
	int fd = xenevtchn_fd(xce), fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* xenevtchn_pending() on a non-blocking descriptor: the port, or -1. */
static int pending_now(xenevtchn_handle *xce)
{
	int r;

	set_nonblock(xce, 1);
	r = xenevtchn_pending(xce);
	set_nonblock(xce, 0);
	return r;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	xenevtchn_handle *a, *b, *c;
	int pa, pb, pc, p, r;
	double t0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	check(xenevtchn_close(NULL) == 0, "close_null", errno);
	errno = 0;
	check(xenevtchn_fdopen(NULL, 0, XENEVTCHN_NO_CLOEXEC) == NULL && errno == EINVAL,
	      "fdopen_no_cloexec_einval", errno);

	a = xenevtchn_open(NULL, 0);
	b = xenevtchn_open(NULL, 0);
	if (!check(a && b, "open", errno))
		return 1;
	check(xenevtchn_fd(a) >= 0 && xenevtchn_fd(b) >= 0 &&
		      xenevtchn_fd(a) != xenevtchn_fd(b), "fd", errno);
	check(fcntl(xenevtchn_fd(a), F_GETFD) & FD_CLOEXEC, "fd_cloexec", errno);
	check(!(fcntl(xenevtchn_fd(a), F_GETFL) & O_NONBLOCK), "fd_blocking", errno);

	/* A loopback channel between two handles of this domain. */
	pa = xenevtchn_bind_unbound_port(a, SELF);
	if (!check(pa > 0, "bind_unbound_port", errno))
		return 1;
	pb = xenevtchn_bind_interdomain(b, SELF, (evtchn_port_t)pa);
	if (!check(pb > 0 && pb != pa, "bind_interdomain", errno))
		return 1;
	CHECK_ERR(xenevtchn_bind_interdomain(b, SELF, (evtchn_port_t)pa), EINVAL,
		  "bind_interdomain_bound_port_einval");
	CHECK_ERR(xenevtchn_bind_interdomain(b, 0x7FEF, 1), ESRCH,
		  "bind_interdomain_no_domain_esrch");

	/* Xen leaves the new port pending. */
	check(take(b) == pb, "initial_event", errno);
	check(!readable(b, 0), "fd_quiet_after_take", errno);
	check(xenevtchn_unmask(b, (evtchn_port_t)pb) == 0, "unmask", errno);
	CHECK_ERR(pending_now(b), EAGAIN, "pending_nonblocking_eagain");

	/* Delivery both ways. */
	check(xenevtchn_notify(a, (evtchn_port_t)pa) == 0, "notify_a", errno);
	check(take(b) == pb, "deliver_a_to_b", errno);
	check(xenevtchn_notify(b, (evtchn_port_t)pb) == 0, "notify_b", errno);
	check(take(a) == pa, "deliver_b_to_a", errno);
	check(xenevtchn_unmask(a, (evtchn_port_t)pa) == 0, "unmask_a", errno);

	/* b's port is taken, so masked: events latch and coalesce, and come
	 * out once after the unmask. */
	check(xenevtchn_notify(a, (evtchn_port_t)pa) == 0 &&
		      xenevtchn_notify(a, (evtchn_port_t)pa) == 0, "notify_twice_masked", errno);
	CHECK_ERR(pending_now(b), EAGAIN, "masked_port_not_delivered");
	check(xenevtchn_unmask(b, (evtchn_port_t)pb) == 0, "unmask_b", errno);
	check(take(b) == pb, "latched_event_after_unmask", errno);
	check(xenevtchn_unmask(b, (evtchn_port_t)pb) == 0, "unmask_b2", errno);
	CHECK_ERR(pending_now(b), EAGAIN, "coalesced_to_one_event");

	/* A blocking xenevtchn_pending() waits until a signal interrupts it. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = now_ms();
	errno = 0;
	r = xenevtchn_pending(b);
	check(r == -1 && errno == EINTR && now_ms() - t0 >= 150, "pending_blocks_until_signal",
	      errno);

	/* Ports of another handle, or of nobody. */
	CHECK_ERR(xenevtchn_notify(b, (evtchn_port_t)pa), ENOTCONN, "notify_other_handle_enotconn");
	CHECK_ERR(xenevtchn_notify(a, 0), ENOTCONN, "notify_port0_enotconn");
	CHECK_ERR(xenevtchn_unbind(a, (evtchn_port_t)pb), ENOTCONN, "unbind_other_handle_enotconn");
	CHECK_ERR(xenevtchn_unbind(a, 0), ENOTCONN, "unbind_port0_enotconn");
	CHECK_ERR(xenevtchn_unbind(a, 0xFFFFFFFFu), EINVAL, "unbind_huge_port_einval");
	check(xenevtchn_unmask(a, (evtchn_port_t)pb) == 0, "unmask_other_handle_ignored", errno);
	check(xenevtchn_unmask(a, 0xFFFFFFFFu) == 0, "unmask_huge_port_ignored", errno);
	CHECK_ERR(xenevtchn_bind_virq(a, 99), EINVAL, "bind_virq_out_of_range_einval");

	/* Closing one end: the other goes back to unbound, a notify on it
	 * succeeds and goes nowhere. */
	check(xenevtchn_unbind(b, (evtchn_port_t)pb) == 0, "unbind_b", errno);
	CHECK_ERR(xenevtchn_unbind(b, (evtchn_port_t)pb), ENOTCONN, "unbind_twice_enotconn");
	CHECK_ERR(xenevtchn_notify(b, (evtchn_port_t)pb), ENOTCONN, "notify_closed_enotconn");
	check(xenevtchn_notify(a, (evtchn_port_t)pa) == 0, "notify_peer_closed_ok", errno);
	check(!readable(a, 100) && !readable(b, 0), "no_event_after_close", errno);
	/* The survivor can be bound again by its own domain. */
	pb = xenevtchn_bind_interdomain(b, SELF, (evtchn_port_t)pa);
	check(pb > 0, "rebind_survivor", errno);
	check(take(b) == pb, "rebind_initial_event", errno);
	check(xenevtchn_unmask(b, (evtchn_port_t)pb) == 0, "rebind_unmask", errno);
	check(xenevtchn_notify(a, (evtchn_port_t)pa) == 0 && take(b) == pb, "rebind_deliver",
	      errno);
	check(xenevtchn_unmask(b, (evtchn_port_t)pb) == 0, "rebind_unmask2", errno);

	/* Restriction. */
	c = xenevtchn_open(NULL, 0);
	if (check(c != NULL, "open_c", errno)) {
		CHECK_ERR(xenevtchn_restrict(c, 0), EINVAL, "restrict_dom0_einval");
		check(xenevtchn_restrict(c, 5) == 0, "restrict", errno);
		CHECK_ERR(xenevtchn_restrict(c, 6), EACCES, "restrict_twice_eacces");
		CHECK_ERR(xenevtchn_bind_unbound_port(c, SELF), EACCES,
			  "restricted_bind_unbound_eacces");
		CHECK_ERR(xenevtchn_bind_virq(c, 0), EACCES, "restricted_bind_virq_eacces");
		pc = xenevtchn_bind_unbound_port(a, SELF);
		if (check(pc > 0, "bind_unbound_port_for_c", errno)) {
			CHECK_ERR(xenevtchn_bind_interdomain(c, SELF, (evtchn_port_t)pc), EACCES,
				  "restricted_bind_interdomain_eacces");
			check(xenevtchn_unbind(a, (evtchn_port_t)pc) == 0, "unbind_pc", errno);
		}
		check(xenevtchn_close(c) == 0, "close_c", errno);
	}

	/* Closing a handle closes its ports. */
	check(xenevtchn_close(b) == 0, "close_b", errno);
	check(xenevtchn_notify(a, (evtchn_port_t)pa) == 0 && !readable(a, 100),
	      "notify_after_peer_handle_closed", errno);
	p = xenevtchn_unbind(a, (evtchn_port_t)pa);
	check(p == 0, "unbind_a", errno);
	check(xenevtchn_close(a) == 0, "close_a", errno);

	printf("probe: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
