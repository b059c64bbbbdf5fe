/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * conf_order.c - delivery order and limits: ports come out of pending() in
 * the order they became pending, a port that keeps firing cannot starve
 * one that fired before it, allocation stops cleanly when the domain's
 * ports (or the kernel's) run out, and pending() on an empty handle answers
 * at once.
 */
#include "harness.h"

#include <stdlib.h>

/* Rounds of the starvation cases: the waiting port must come out within
 * them (it is expected first). */
#define STARVE_ROUNDS 1000
/* Ports the exhaustion case may allocate: the FIFO ABI's per-domain limit,
 * above every target's. */
#define MAX_ALLOC (1u << 17)

/* @n channels from @a to @b; b's ends in @q (in allocation order, so
 * ascending on targets that allocate first-fit), a's in @pa. */
static void open_channels(struct evtchnx_handle *a, struct evtchnx_handle *b,
			  uint32_t *pa, uint32_t *q, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		h_channel(a, b, &pa[i], &q[i]);
}

/* Raise b's ports from the last to the first, @gap_ms apart, then expect
 * them from pending() in that same order. */
static void check_arrival_order(unsigned int n)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa[3], q[3];

	open_pair(&a, &b);
	open_channels(a, b, pa, q, n);
	for (unsigned int i = n; i-- > 0;) {
		CHECK_OK(evtchnx_send(a, pa[i]));
		if (i)
			h_sleep_ms(50);
	}
	for (unsigned int i = n; i-- > 0;)
		EXPECT_PORT(b, q[i]);
	EXPECT_NONE(b);
}

CASE(arrival_order_two_ports)
{
	check_arrival_order(2);
}

CASE(arrival_order_three_ports)
{
	check_arrival_order(3);
}

/* A program that polls the fd itself and takes one port per wake-up must
 * not sleep while a port is pending, whatever it calls in between: here a
 * peek (on xen it reads ports out of the kernel) and the unbind of a port
 * that fired. */
CASE(fd_shows_every_pending_port_between_calls)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa[3], q[3];
	int first, second;

	open_pair(&a, &b);
	open_channels(a, b, pa, q, 3); /* h_channel() took the binding's event */
	EXPECT_NONE(b);
	for (unsigned int i = 0; i < 3; i++)
		CHECK_OK(evtchnx_send(a, pa[i]));
	CHECK_READABLE(b);
	CHECK_EQ(evtchnx_is_pending(b, q[0]), 1);
	CHECK_OK(evtchnx_unbind(b, q[2])); /* fired, not taken */
	CHECK_READABLE(b);
	first = evtchnx_pending(b);
	CHECK(first == (int)q[0] || first == (int)q[1]);
	CHECK_READABLE(b);
	second = evtchnx_pending(b);
	CHECK(second == (int)q[0] || second == (int)q[1]);
	CHECK(first != second);
	EXPECT_NONE(b);
}

/* b's ports q[1..n-1] are raised, then q[0]; every time b takes q[0] it
 * unmasks it and a raises it again at once.  Every other port must still
 * come out: it became pending first. */
static void check_no_starvation(unsigned int n)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa[3], q[3];
	int first_at[3] = { -1, -1, -1 };
	unsigned int left = n - 1;

	open_pair(&a, &b);
	open_channels(a, b, pa, q, n);
	for (unsigned int i = n; i-- > 0;)
		CHECK_OK(evtchnx_send(a, pa[i]));
	for (int round = 0; round < STARVE_ROUNDS && left; round++) {
		int r = CHECK_OK(evtchnx_wait(b, h_settle_ms()));
		unsigned int k = 0;

		while (k < n && q[k] != (uint32_t)r)
			k++;
		if (k == n)
			h_fail(__FILE__, __LINE__, "pending() returned %d, not a port of the case", r);
		if (k == 0) {
			CHECK_OK(evtchnx_unmask(b, q[0]));
			CHECK_OK(evtchnx_send(a, pa[0]));
			continue;
		}
		if (first_at[k] >= 0)
			h_fail(__FILE__, __LINE__,
			       "port %u delivered twice without an unmask", q[k]);
		first_at[k] = round;
		left--;
	}
	for (unsigned int k = 1; k < n; k++) {
		if (first_at[k] < 0)
			h_fail(__FILE__, __LINE__,
			       "port %u, pending before port %u fired, was not delivered in %d rounds while %u kept firing",
			       q[k], q[0], STARVE_ROUNDS, q[0]);
		if (first_at[k] >= (int)(n - 1))
			h_note("port %u came out in round %d", q[k], first_at[k]);
	}
}

CASE(no_starvation_two_ports)
{
	check_no_starvation(2);
}

CASE(no_starvation_three_ports)
{
	check_no_starvation(3);
}

/* How long (s) the exhaustion case may allocate on a target without a fixed
 * port limit: $EVTCHNX_TEST_EXHAUST_S, 0 for no bound (then raise
 * $EVTCHNX_TEST_CASE_TIMEOUT too). */
static uint64_t exhaust_budget_ms(void)
{
	const char *v = getenv("EVTCHNX_TEST_EXHAUST_S");

	return (v && *v ? strtoull(v, NULL, 10) : 15) * 1000;
}

/* Allocate until the target refuses.  The sim must give exactly its port
 * limit less the reserved port 0, then -ENOSPC.  On Xen the kernel binds an
 * IRQ for every port it hands to user space and takes longer for each (in
 * the test VM, minutes before anything refuses): allocation runs until an
 * error or until the time budget is spent, the figure is reported, and only
 * at least 1000 ports and, if it came, a clean error are required. */
CASE(port_exhaustion)
{
	struct evtchnx_handle *h = open_dom(h_dom(1));
	int *ports = malloc(MAX_ALLOC * sizeof(*ports));
	uint64_t t0 = h_now_ms(), budget = h_is_xen() ? exhaust_budget_ms() : 0;
	unsigned int n = 0;
	int r = 0, err = 0;

	CHECK(ports != NULL);
	while (n < MAX_ALLOC) {
		errno = 0;
		r = evtchnx_alloc_unbound(h, SELF, SELF);
		if (r < 0) {
			err = errno;
			break;
		}
		ports[n++] = r;
		if (budget && h_now_ms() - t0 > budget)
			break;
	}
	if (r < 0)
		h_note("%u ports allocated in %llu ms, then %s (%s)", n,
		       (unsigned long long)(h_now_ms() - t0),
		       h_errname(-r) ? h_errname(-r) : "?",
		       evtchnx_strerror(-r));
	else
		h_note("%u ports allocated in %llu ms, no error yet (the bound of EVTCHNX_TEST_EXHAUST_S)",
		       n, (unsigned long long)(h_now_ms() - t0));
	t0 = h_now_ms();
	for (unsigned int i = 0; i < n; i++) {
		int u = evtchnx_unbind(h, (uint32_t)ports[i]);

		if (u != 0) {
			free(ports);
			CHECK_EQ(u, 0);
		}
	}
	free(ports);
	if (h_is_xen()) {
		h_note("all unbound in %llu ms", (unsigned long long)(h_now_ms() - t0));
		CHECK(n >= 1000);
		if (r < 0) {
			CHECK_EQ(err, -r);
			CHECK(r == -ENOSPC || r == -ENOMEM || r == -EBUSY ||
			      r == -EMFILE || r == -ENFILE);
		}
	} else {
		CHECK_EQ(r, -ENOSPC);
		CHECK_EQ(err, ENOSPC);
		CHECK_EQ(n, EVTCHNX_SIM_MAX_PORTS - 1);
	}
	/* Everything was given back: allocation works again. */
	r = CHECK_OK(evtchnx_alloc_unbound(h, SELF, SELF));
	CHECK_OK(evtchnx_unbind(h, (uint32_t)r));
}

/* pending() never waits: on a handle with nothing pending (with and
 * without ports) every call answers -EAGAIN at once. */
/* An empty pending() never sleeps or polls: most calls take well under a
 * millisecond.  Preemption on a loaded machine can stretch a few, so the
 * check is on the median, with a generous bound on the slowest (the old
 * design slept up to 100 ms on the sim and 2 s on xen). */
CASE(pending_empty_is_prompt)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb, got;
	uint64_t worst = 0;
	unsigned int slow = 0;

	open_pair(&a, &b);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 1000; i++) {
			uint64_t t = h_now_ms(), d;

			CHECK_ERR(evtchnx_pending(b), EAGAIN);
			CHECK_EQ(evtchnx_pending_batch(b, &got, 1), 0);
			d = h_now_ms() - t;
			if (d > worst)
				worst = d;
			slow += d >= 5;
		}
		if (round == 0)
			h_channel(a, b, &pa, &pb);
	}
	if (slow > 1000 || worst >= 1000)
		h_fail(__FILE__, __LINE__,
		       "empty pending(): %u of 2000 calls took 5 ms or more, the slowest %llu ms",
		       slow, (unsigned long long)worst);
	if (worst > 5)
		h_note("slowest empty pending(): %llu ms (%u of 2000 at 5 ms or more)",
		       (unsigned long long)worst, slow);
}
