/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xen_backend.c - cases for what only the xen backend does, on real Xen
 * (run in dom0 of the test VM): the internal queue that is_pending() and
 * unbind fill and that pending() serves before the device, the event Xen
 * leaves on a new port, batches across queue and ring, an open that leaves
 * no port behind, and handles in a child after fork().
 *
 * Prints one "PASS name" / "FAIL name" line per case; exit 0, 1, or 77 when
 * this is not a Xen host.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evtchnx.h"

#define SELF EVTCHNX_DOMID_SELF
#define SETTLE_MS 5000

static int failures;
static int case_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("  %s:%d: check failed: %s\n", __FILE__,        \
			       __LINE__, #cond);                               \
			case_failed = 1;                                       \
			return;                                                \
		}                                                              \
	} while (0)
#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long a_ = (a), b_ = (b);                                  \
		if (a_ != b_) {                                                \
			printf("  %s:%d: %s == %s: got %lld, expected %lld\n", \
			       __FILE__, __LINE__, #a, #b, a_, b_);            \
			case_failed = 1;                                       \
			return;                                                \
		}                                                              \
	} while (0)

static bool readable(struct evtchnx_handle *h, int ms)
{
	struct pollfd pfd = { .fd = evtchnx_fd(h), .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

/* A channel a -> b with nothing pending afterwards. */
static void channel(struct evtchnx_handle *a, struct evtchnx_handle *b,
		    uint32_t *pa, uint32_t *pb)
{
	int p = evtchnx_alloc_unbound(a, SELF, SELF);
	int q = evtchnx_bind_interdomain(b, SELF, (uint32_t)p);

	*pa = (uint32_t)p;
	*pb = (uint32_t)q;
	if (p > 0 && q > 0 && evtchnx_wait(b, SETTLE_MS) == q)
		evtchnx_unmask(b, (uint32_t)q);
}

/* Wait (bounded) until both ports came out of the kernel, peeking: that
 * moves them into the handle's queue. */
static bool peek_both(struct evtchnx_handle *b, uint32_t p1, uint32_t p2)
{
	for (int i = 0; i < 100; i++) {
		if (evtchnx_is_pending(b, p1) == 1 &&
		    evtchnx_is_pending(b, p2) == 1)
			return true;
		readable(b, 50);
	}
	return false;
}

/* Two ports made pending and peeked: pending() returns them from the queue,
 * one per call, without the device, and then nothing is left. */
static void peek_then_pending(void)
{
	struct evtchnx_handle *a = evtchnx_open("xen", NULL);
	struct evtchnx_handle *b = evtchnx_open("xen", NULL);
	uint32_t pa1, pb1, pa2, pb2, got[4];

	CHECK(a && b);
	channel(a, b, &pa1, &pb1);
	channel(a, b, &pa2, &pb2);
	CHECK(pb1 > 0 && pb2 > 0);
	CHECK(!readable(b, 0));
	CHECK_EQ(evtchnx_send(a, pa1), 0);
	CHECK_EQ(evtchnx_send(a, pa2), 0);
	CHECK(peek_both(b, pb1, pb2));
	CHECK_EQ(evtchnx_pending_batch(b, got, 1), 1);
	CHECK(got[0] == pb1 || got[0] == pb2);
	CHECK_EQ(evtchnx_is_pending(b, got[0]), 0);
	CHECK_EQ(evtchnx_pending_batch(b, got + 1, 4), 1);
	CHECK(got[1] != got[0] && (got[1] == pb1 || got[1] == pb2));
	CHECK_EQ(evtchnx_pending(b), -EAGAIN);
	CHECK(!readable(b, 0));
	CHECK_EQ(evtchnx_unmask(b, pb1), 0);
	CHECK_EQ(evtchnx_unmask(b, pb2), 0);
	/* The handle keeps working through the ring. */
	CHECK_EQ(evtchnx_send(a, pa2), 0);
	CHECK_EQ(evtchnx_wait(b, SETTLE_MS), pb2);
	CHECK(!readable(b, 0));
	evtchnx_close(a);
	evtchnx_close(b);
}

/* A port that fired and is unbound before it is taken is never returned,
 * its event does not leak to a port that reuses the number, and the other
 * ports that were pending are returned by the next pending(). */
static void unbind_purges(void)
{
	struct evtchnx_handle *a = evtchnx_open("xen", NULL);
	struct evtchnx_handle *b = evtchnx_open("xen", NULL);
	uint32_t pa1, pb1, pa2, pb2;
	int again;

	CHECK(a && b);
	channel(a, b, &pa1, &pb1);
	channel(a, b, &pa2, &pb2);
	CHECK_EQ(evtchnx_send(a, pa2), 0);
	CHECK(readable(b, SETTLE_MS));
	CHECK_EQ(evtchnx_send(a, pa1), 0);
	/* Let pb1's event reach the ring too (it cannot be seen without
	 * taking it). */
	readable(b, 200);
	CHECK_EQ(evtchnx_unbind(b, pb1), 0);
	CHECK_EQ(evtchnx_pending(b), (int)pb2);
	CHECK_EQ(evtchnx_pending(b), -EAGAIN);
	CHECK(!readable(b, 0));
	/* The freed number comes back first-fit, with nothing pending. */
	again = evtchnx_alloc_unbound(b, SELF, SELF);
	CHECK(again > 0);
	CHECK_EQ(evtchnx_is_pending(b, (uint32_t)again), 0);
	CHECK_EQ(evtchnx_pending(b), -EAGAIN);
	CHECK_EQ(evtchnx_unbind(b, (uint32_t)again), 0);
	CHECK_EQ(evtchnx_unmask(b, pb2), 0);
	CHECK_EQ(evtchnx_unbind(b, pb2), 0);
	CHECK_EQ(evtchnx_send(a, pa1), 0); /* now unbound: dropped */
	CHECK(!readable(b, 200));
	evtchnx_close(a);
	evtchnx_close(b);
}

/* Xen's event on a newly bound port: pending from the moment the bind
 * returns (is_pending), delivered once when the kernel reports it. */
static void bind_event(void)
{
	struct evtchnx_handle *a = evtchnx_open("xen", NULL);
	struct evtchnx_handle *b = evtchnx_open("xen", NULL);
	int p, q;

	CHECK(a && b);
	p = evtchnx_alloc_unbound(a, SELF, SELF);
	CHECK(p > 0);
	q = evtchnx_bind_interdomain(b, SELF, (uint32_t)p);
	CHECK(q > 0);
	CHECK_EQ(evtchnx_is_pending(b, (uint32_t)q), 1);
	CHECK_EQ(evtchnx_wait(b, SETTLE_MS), q);
	CHECK_EQ(evtchnx_is_pending(b, (uint32_t)q), 0);
	CHECK_EQ(evtchnx_pending(b), -EAGAIN);
	CHECK_EQ(evtchnx_unmask(b, (uint32_t)q), 0);
	CHECK_EQ(evtchnx_send(a, (uint32_t)p), 0);
	CHECK_EQ(evtchnx_wait(b, SETTLE_MS), q);
	evtchnx_close(a);
	evtchnx_close(b);
}

/* Opening a handle leaves no port of its own bound: a port freed just
 * before the open is the next one allocated after it, and every number
 * near it that the handle did not bind is -ENOTCONN. */
static void open_leaves_no_port(void)
{
	struct evtchnx_handle *a = evtchnx_open("xen", NULL);
	struct evtchnx_handle *b;
	int first, p;

	CHECK(a);
	first = evtchnx_alloc_unbound(a, SELF, SELF);
	CHECK(first > 0);
	evtchnx_close(a);
	b = evtchnx_open("xen", NULL);
	CHECK(b);
	CHECK_EQ(evtchnx_domid(b), 0);
	p = evtchnx_alloc_unbound(b, SELF, SELF);
	CHECK_EQ(p, first);
	for (uint32_t q = 1; q < (uint32_t)first + 8; q++) {
		if (q == (uint32_t)first)
			continue;
		CHECK_EQ(evtchnx_send(b, q), -ENOTCONN);
		CHECK_EQ(evtchnx_unmask(b, q), -ENOTCONN);
		CHECK_EQ(evtchnx_is_pending(b, q), -ENOTCONN);
		CHECK_EQ(evtchnx_unbind(b, q), -ENOTCONN);
	}
	CHECK_EQ(evtchnx_pending(b), -EAGAIN);
	CHECK(!readable(b, 0));
	evtchnx_close(b);
}

/* Many ports pending at once, taken with one batch, each exactly once. */
static void big_batch(void)
{
	enum { N = 40 };
	struct evtchnx_handle *a = evtchnx_open("xen", NULL);
	struct evtchnx_handle *b = evtchnx_open("xen", NULL);
	uint32_t pa[N], pb[N], got[2 * N];
	int total = 0, seen[N] = { 0 };

	CHECK(a && b);
	for (int i = 0; i < N; i++) {
		channel(a, b, &pa[i], &pb[i]);
		CHECK(pb[i] > 0);
	}
	CHECK(!readable(b, 0));
	for (int i = 0; i < N; i++)
		CHECK_EQ(evtchnx_send(a, pa[i]), 0);
	/* Peek at half of them first, so that the batch spans queue and ring. */
	readable(b, SETTLE_MS);
	for (int i = 0; i < N; i += 2)
		evtchnx_is_pending(b, pb[i]);
	for (int tries = 0; total < N && tries < 100; tries++) {
		int r = evtchnx_pending_batch(b, got + total, 2 * N - total);

		CHECK(r >= 0);
		total += r;
		if (total < N)
			readable(b, 100);
	}
	CHECK_EQ(total, N);
	for (int k = 0; k < total; k++) {
		int idx = -1;

		for (int i = 0; i < N; i++)
			if (pb[i] == got[k])
				idx = i;
		CHECK(idx >= 0);
		CHECK_EQ(seen[idx]++, 0);
	}
	CHECK(!readable(b, 0));
	for (int i = 0; i < N; i++)
		CHECK_EQ(evtchnx_unmask(b, pb[i]), 0);
	CHECK(!readable(b, 200));
	evtchnx_close(a);
	evtchnx_close(b);
}

/* A child closes the handle it inherited; the parent's ports live on. */
static void fork_child_close(void)
{
	struct evtchnx_handle *a = evtchnx_open("xen", NULL);
	struct evtchnx_handle *b = evtchnx_open("xen", NULL);
	uint32_t pa, pb;
	int status;
	pid_t pid;

	CHECK(a && b);
	channel(a, b, &pa, &pb);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int bad = evtchnx_send(a, pa) != -EBADF;

		evtchnx_close(a);
		evtchnx_close(b);
		_exit(bad);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(evtchnx_send(a, pa), 0);
	CHECK_EQ(evtchnx_wait(b, SETTLE_MS), pb);
	CHECK_EQ(evtchnx_unmask(b, pb), 0);
	evtchnx_close(a);
	evtchnx_close(b);
}

static void run(const char *name, void (*fn)(void))
{
	case_failed = 0;
	fn();
	printf("%s %s\n", case_failed ? "FAIL" : "PASS", name);
	fflush(stdout);
	failures += case_failed;
}

int main(void)
{
	if (access("/dev/xen/evtchn", F_OK) != 0) {
		printf("# not a Xen host (no /dev/xen/evtchn)\n");
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	run("peek_then_pending", peek_then_pending);
	run("unbind_purges", unbind_purges);
	run("bind_event", bind_event);
	run("open_leaves_no_port", open_leaves_no_port);
	run("big_batch", big_batch);
	run("fork_child_close", fork_child_close);
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
