/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * conf_delivery.c - the delivery contract: the level-triggered fd,
 * pending/unmask, coalescing, is_pending, pending_batch, wait, the pending
 * bit left by bind_interdomain, sends on unbound and VIRQ ports, virqs,
 * loopback, peers closing and reconnecting, and 1000 channels at once.
 */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define PORT_SPACE (1u << 17) /* covers the sim's and Xen's FIFO ABI limit */

struct delayed_send {
	struct evtchnx_handle *h;
	uint32_t port;
	unsigned int delay_ms;
	int result;
};

static void *delayed_send_thread(void *arg)
{
	struct delayed_send *d = arg;

	h_sleep_ms(d->delay_ms);
	d->result = evtchnx_send(d->h, d->port);
	return NULL;
}

CASE(fd_level_triggered)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	/* Nothing yet. */
	EXPECT_NONE(b);
	CHECK_EQ(evtchnx_is_pending(b, pb), 0);
	/* A send makes the receiver's fd readable, and only the receiver's. */
	CHECK_EQ(evtchnx_send(a, pa), 0);
	CHECK_READABLE(b);
	CHECK_READABLE(b); /* polling does not consume */
	CHECK_NOT_READABLE(a);
	CHECK_EQ(evtchnx_is_pending(b, pb), 1);
	/* Taking the only port makes it unreadable; the port stays masked. */
	CHECK_EQ(evtchnx_pending(b), pb);
	CHECK_NOT_READABLE(b);
	CHECK_EQ(evtchnx_is_pending(b, pb), 0);
	CHECK_ERR(evtchnx_pending(b), EAGAIN);
	/* A send while masked is latched: not readable, but pending. */
	CHECK_EQ(evtchnx_send(a, pa), 0);
	CHECK_NOT_READABLE(b);
	CHECK_LATCHED(b, pb);
	CHECK_ERR(evtchnx_pending(b), EAGAIN);
	/* Unmask: readable again, delivered once. */
	CHECK_EQ(evtchnx_unmask(b, pb), 0);
	CHECK_READABLE(b);
	CHECK_EQ(evtchnx_pending(b), pb);
	CHECK_NOT_READABLE(b);
	CHECK_EQ(evtchnx_unmask(b, pb), 0);
	if (h_exact_delivery())
		EXPECT_NONE(b);
}

CASE(masked_events_latched_delivered_once)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb);
	/* Three sends while masked. */
	for (int i = 0; i < 3; i++)
		CHECK_OK(evtchnx_send(a, pa));
	EXPECT_NONE(b);
	CHECK_OK(evtchnx_unmask(b, pb));
	EXPECT_PORT(b, pb);
	EXPECT_NONE(b);
	CHECK_OK(evtchnx_unmask(b, pb));
	if (h_exact_delivery())
		EXPECT_NONE(b);
}

CASE(coalescing_before_take)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(evtchnx_send(a, pa), 0);
	CHECK_READABLE(b); /* delivery is asynchronous on xen */
	CHECK_EQ(evtchnx_is_pending(b, pb), 1);
	EXPECT_PORT(b, pb);
	EXPECT_NONE(b);
	UNMASK(b, pb);
	if (h_exact_delivery())
		EXPECT_NONE(b);
	/* The channel still works. */
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb);
}

CASE(is_pending_semantics)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;
	int pu;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	pu = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 0x7FEF));
	CHECK_EQ(evtchnx_is_pending(b, pb), 0);
	CHECK_EQ(evtchnx_is_pending(b, pu), 0);
	CHECK_OK(evtchnx_send(a, pa));
	if (h_is_xen())
		CHECK_READABLE(b);
	/* Peeking does not consume. */
	CHECK_EQ(evtchnx_is_pending(b, pb), 1);
	CHECK_EQ(evtchnx_is_pending(b, pb), 1);
	/* The sender's own bit is not set. */
	CHECK_EQ(evtchnx_is_pending(a, pa), 0);
	CHECK_READABLE(b); /* on xen too, though peeking read it out of the kernel */
	EXPECT_PORT(b, pb);
	CHECK_EQ(evtchnx_is_pending(b, pb), 0);
	/* Latched while masked. */
	CHECK_OK(evtchnx_send(a, pa));
	CHECK_LATCHED(b, pb);
	CHECK_OK(evtchnx_unmask(b, pb));
	CHECK_READABLE(b); /* delivery is asynchronous on xen */
	CHECK_EQ(evtchnx_is_pending(b, pb), 1);
	EXPECT_PORT(b, pb);
	CHECK_EQ(evtchnx_is_pending(b, pb), 0);
	CHECK_EQ(evtchnx_is_pending(b, pu), 0);
}

CASE(unmask_when_not_masked_is_harmless)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_EQ(evtchnx_unmask(b, pb), 0);
	CHECK_EQ(evtchnx_unmask(b, pb), 0);
	CHECK_EQ(evtchnx_unmask(a, pa), 0);
	EXPECT_NONE(b);
	EXPECT_NONE(a);
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb);
}

/* Take ports from @h until @want distinct ones were seen (each in @expect)
 * or nothing more comes; every port must be new (no second delivery
 * without an unmask).  Returns how many were taken. */
static unsigned int drain(struct evtchnx_handle *h, const uint8_t *expect,
			  uint8_t *seen, unsigned int want, unsigned int batch)
{
	uint32_t *ports = calloc(batch, sizeof(*ports));
	unsigned int got = 0;

	CHECK(ports != NULL);
	while (got < want) {
		int n = evtchnx_pending_batch(h, ports, batch);

		if (n < 0) {
			free(ports);
			CHECK_OK(n);
		}
		if (n == 0) {
			/* On the sim everything sent is there at once. */
			if (h_settle_ms() == 0 ||
			    !h_readable(h, h_settle_ms()))
				break;
			continue;
		}
		if ((unsigned int)n > batch) {
			free(ports);
			h_fail(__FILE__, __LINE__,
			       "pending_batch returned %d > max %u", n, batch);
		}
		for (int i = 0; i < n; i++) {
			uint32_t p = ports[i];

			if (p >= PORT_SPACE || !expect[p] || seen[p]) {
				free(ports);
				h_fail(__FILE__, __LINE__,
				       "port %u delivered %s", p,
				       p < PORT_SPACE && seen[p] ?
					       "twice without an unmask" :
					       "but not expected");
			}
			seen[p] = 1;
			got++;
		}
	}
	free(ports);
	return got;
}

CASE(pending_batch_drains_many)
{
	enum { N = 64 };
	struct evtchnx_handle *a, *b;
	uint32_t pa[N], pb[N];
	uint8_t *expect = calloc(PORT_SPACE, 1), *seen = calloc(PORT_SPACE, 1);
	uint32_t one[1];
	unsigned int got;

	CHECK(expect && seen);
	open_pair(&a, &b);
	for (int i = 0; i < N; i++)
		h_channel(a, b, &pa[i], &pb[i]);
	for (int i = 0; i < N; i++) {
		CHECK_OK(evtchnx_send(a, pa[i]));
		expect[pb[i]] = 1;
	}
	CHECK_READABLE(b);
	/* Small batches: never more than max. */
	got = drain(b, expect, seen, N, 10);
	CHECK_EQ(got, N);
	EXPECT_NONE(b);
	CHECK_EQ(evtchnx_pending_batch(b, one, 1), 0);
	for (int i = 0; i < N; i++)
		CHECK_OK(evtchnx_unmask(b, pb[i]));
	if (h_exact_delivery())
		EXPECT_NONE(b);
	/* Again with one big batch. */
	memset(seen, 0, PORT_SPACE);
	for (int i = 0; i < N; i++)
		CHECK_OK(evtchnx_send(a, pa[i]));
	got = drain(b, expect, seen, N, 4 * N);
	CHECK_EQ(got, N);
	EXPECT_NONE(b);
	free(expect);
	free(seen);
}

CASE(pending_batch_einval)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb, ports[4];

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	CHECK_ERR(evtchnx_pending_batch(b, NULL, 4), EINVAL);
	CHECK_ERR(evtchnx_pending_batch(b, ports, 0), EINVAL);
	CHECK_ERR(evtchnx_pending_batch(b, NULL, 0), EINVAL);
	/* The failed calls took nothing. */
	CHECK_READABLE(b);
	CHECK_EQ(evtchnx_pending_batch(b, ports, 4), 1);
	CHECK_EQ(ports[0], pb);
}

CASE(wait_timeout)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;
	uint64_t t0, dt;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	t0 = h_now_ms();
	CHECK_ERR(evtchnx_wait(b, 200), ETIMEDOUT);
	dt = h_now_ms() - t0;
	if (dt + 2 < 200)
		h_fail(__FILE__, __LINE__,
		       "evtchnx_wait(200) returned -ETIMEDOUT after %llu ms",
		       (unsigned long long)dt);
	/* 0 polls. */
	CHECK_ERR(evtchnx_wait(b, 0), ETIMEDOUT);
	CHECK_OK(evtchnx_send(a, pa));
	if (h_is_xen())
		CHECK_READABLE(b);
	CHECK_EQ(evtchnx_wait(b, 0), pb);
	CHECK_ERR(evtchnx_wait(b, 0), ETIMEDOUT);
}

CASE(wait_returns_port_already_pending)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	CHECK_EQ(evtchnx_wait(b, -1), pb);
	/* Taken and masked. */
	CHECK_OK(evtchnx_send(a, pa));
	CHECK_NOT_READABLE(b);
	CHECK_LATCHED(b, pb);
	CHECK_OK(evtchnx_unmask(b, pb));
	CHECK_EQ(evtchnx_wait(b, 5000), pb);
}

CASE(wait_blocks_until_event)
{
	struct evtchnx_handle *a, *b;
	struct delayed_send d;
	pthread_t t;
	uint32_t pa, pb;
	int r;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	d = (struct delayed_send){ .h = a, .port = pa, .delay_ms = 100 };
	CHECK_EQ(pthread_create(&t, NULL, delayed_send_thread, &d), 0);
	r = evtchnx_wait(b, 10000);
	pthread_join(t, NULL);
	CHECK_EQ(d.result, 0);
	CHECK_EQ(r, pb);
	UNMASK(b, pb);
	/* Forever (negative timeout). */
	d = (struct delayed_send){ .h = a, .port = pa, .delay_ms = 100 };
	CHECK_EQ(pthread_create(&t, NULL, delayed_send_thread, &d), 0);
	r = evtchnx_wait(b, -1);
	pthread_join(t, NULL);
	CHECK_EQ(d.result, 0);
	CHECK_EQ(r, pb);
	EXPECT_NONE(b);
}

struct delayed_signal {
	pthread_t target;
	unsigned int delay_ms;
};

static void *delayed_signal_thread(void *arg)
{
	struct delayed_signal *d = arg;

	h_sleep_ms(d->delay_ms);
	pthread_kill(d->target, SIGUSR1);
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

CASE(wait_interrupted_by_signal)
{
	struct evtchnx_handle *a, *b;
	struct sigaction sa, old;
	struct delayed_signal d;
	pthread_t t;
	uint32_t pa, pb;
	int r;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(sigaction(SIGUSR1, &sa, &old), 0);
	d = (struct delayed_signal){ .target = pthread_self(), .delay_ms = 100 };
	CHECK_EQ(pthread_create(&t, NULL, delayed_signal_thread, &d), 0);
	errno = 0;
	r = evtchnx_wait(b, 10000);
	pthread_join(t, NULL);
	sigaction(SIGUSR1, &old, NULL);
	CHECK_EQ(r, -EINTR);
	CHECK_EQ(errno, EINTR);
	/* The handle still works. */
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb);
}

CASE(pending_on_bind)
{
	struct evtchnx_handle *a, *b;
	uint32_t da;
	int pa, pb;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, evtchnx_domid(b)));
	EXPECT_NONE(b);
	pb = CHECK_OK(evtchnx_bind_interdomain(b, da, pa));
	/* Nobody sent, yet the new local port is pending. */
	CHECK_EQ(evtchnx_is_pending(b, pb), 1);
	CHECK_READABLE(b);
	CHECK_EQ(evtchnx_pending(b), pb);
	EXPECT_NONE(b);
	EXPECT_NONE(a);
	CHECK_OK(evtchnx_unmask(b, pb));
	if (h_exact_delivery())
		EXPECT_NONE(b);
}

CASE(send_on_unbound_port_dropped)
{
	struct evtchnx_handle *a, *b;
	int pa, pb;

	open_pair(&a, &b);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, evtchnx_domid(b)));
	for (int i = 0; i < 3; i++)
		CHECK_EQ(evtchnx_send(a, pa), 0);
	EXPECT_NONE(a);
	EXPECT_NONE(b);
	CHECK_EQ(evtchnx_is_pending(a, pa), 0);
	/* When b binds, only the bind's own event is there, once. */
	pb = CHECK_OK(evtchnx_bind_interdomain(b, evtchnx_domid(a), pa));
	EXPECT_PORT(b, pb);
	EXPECT_NONE(b);
	CHECK_OK(evtchnx_unmask(b, pb));
	if (h_exact_delivery())
		EXPECT_NONE(b);
	EXPECT_NONE(a);
}

CASE(send_on_virq_port_einval)
{
	struct evtchnx_handle *a;
	int pv;

	require_sim("virq binding on xen depends on the running kernel");
	a = open_dom(1);
	pv = CHECK_OK(evtchnx_bind_virq(a, 0));
	CHECK_VIRQ(a, SELF, pv, 0);
	CHECK_ERR(evtchnx_send(a, pv), EINVAL);
	EXPECT_NONE(a);
	CHECK_EQ(evtchnx_unbind(a, pv), 0);
	CHECK_CLOSED(a, SELF, pv);
}

CASE(bind_virq_errors)
{
	struct evtchnx_handle *c, *a, *a2, *b;
	int pv, pg;

	require_sim("virq binding on xen depends on the running kernel");
	c = open_dom(0);
	a = open_dom(1);
	a2 = open_dom(1);
	b = open_dom(2);
	CHECK_ERR(evtchnx_bind_virq(a, EVTCHNX_NR_VIRQS), EINVAL);
	CHECK_ERR(evtchnx_bind_virq(a, 0xFFFFFFFFu), EINVAL);
	pv = CHECK_OK(evtchnx_bind_virq(a, 0));
	CHECK_ERR(evtchnx_bind_virq(a, 0), EEXIST);
	/* Bound in the domain, whichever handle asks. */
	CHECK_ERR(evtchnx_bind_virq(a2, 0), EEXIST);
	/* Per domain: b may bind the same virq. */
	CHECK_OK(evtchnx_bind_virq(b, 0));
	/* VIRQ_DOM_EXC (3) is global: handled by the control domain. */
	CHECK_ERR(evtchnx_bind_virq(a, 3), EBUSY);
	pg = CHECK_OK(evtchnx_bind_virq(c, 3));
	CHECK_VIRQ(c, SELF, pg, 3);
	CHECK_ERR(evtchnx_bind_virq(c, 3), EEXIST);
	CHECK_ERR(evtchnx_bind_virq(a, 3), EBUSY);
	/* After unbind, the virq can be bound again. */
	CHECK_OK(evtchnx_unbind(a, pv));
	CHECK_OK(evtchnx_bind_virq(a2, 0));
}

CASE(raise_virq_delivery)
{
	struct evtchnx_handle *c, *a, *b;
	int pv, pg;

	require_sim(H_SIM_ONLY_TOOLSTACK);
	c = open_dom(0);
	a = open_dom(1);
	b = open_dom(2);
	pv = CHECK_OK(evtchnx_bind_virq(a, 0));
	CHECK_EQ(evtchnx_raise_virq(c, 1, 0), 0);
	CHECK_READABLE(a);
	EXPECT_PORT(a, pv);
	EXPECT_NONE(b);
	/* Latched while masked. */
	CHECK_EQ(evtchnx_raise_virq(c, 1, 0), 0);
	CHECK_EQ(evtchnx_raise_virq(c, 1, 0), 0);
	EXPECT_NONE(a);
	CHECK_EQ(evtchnx_is_pending(a, pv), 1);
	CHECK_OK(evtchnx_unmask(a, pv));
	EXPECT_PORT(a, pv);
	EXPECT_NONE(a);
	CHECK_OK(evtchnx_unmask(a, pv));
	/* A virq nobody bound is dropped. */
	CHECK_EQ(evtchnx_raise_virq(c, 1, 1), 0);
	CHECK_EQ(evtchnx_raise_virq(c, 2, 0), 0);
	EXPECT_NONE(a);
	EXPECT_NONE(b);
	/* Errors. */
	CHECK_ERR(evtchnx_raise_virq(c, 1, EVTCHNX_NR_VIRQS), EINVAL);
	CHECK_ERR(evtchnx_raise_virq(c, 1, 0xFFFFFFFFu), EINVAL);
	CHECK_ERR(evtchnx_raise_virq(c, 77, 0), ESRCH);
	CHECK_ERR(evtchnx_raise_virq(a, 1, 0), EPERM);
	/* A global virq reaches the control domain. */
	pg = CHECK_OK(evtchnx_bind_virq(c, 3));
	CHECK_EQ(evtchnx_raise_virq(c, 0, 3), 0);
	EXPECT_PORT(c, pg);
	/* Unbound: raising no longer reaches the handle. */
	CHECK_OK(evtchnx_unbind(a, pv));
	CHECK_EQ(evtchnx_raise_virq(c, 1, 0), 0);
	EXPECT_NONE(a);
}

CASE(loopback)
{
	struct evtchnx_handle *a = open_dom(1);
	uint32_t da = (uint32_t)evtchnx_domid(a);
	int p1, p2;

	p1 = CHECK_OK(evtchnx_alloc_unbound(a, SELF, SELF));
	p2 = CHECK_OK(evtchnx_bind_interdomain(a, SELF, p1));
	CHECK_INTERDOMAIN(a, SELF, p1, da, p2);
	CHECK_INTERDOMAIN(a, SELF, p2, da, p1);
	EXPECT_PORT(a, p2);
	UNMASK(a, p2);
	EXPECT_NONE(a);
	CHECK_OK(evtchnx_send(a, p1));
	EXPECT_PORT(a, p2);
	EXPECT_NONE(a);
	CHECK_OK(evtchnx_send(a, p2));
	EXPECT_PORT(a, p1);
	EXPECT_NONE(a);
	CHECK_OK(evtchnx_unmask(a, p1));
	CHECK_OK(evtchnx_unmask(a, p2));
	/* Closing one end leaves the other UNBOUND, offered to a. */
	CHECK_OK(evtchnx_unbind(a, p1));
	CHECK_UNBOUND(a, SELF, p2, da);
}

CASE(loopback_two_handles)
{
	struct evtchnx_handle *h1 = open_dom(1);
	struct evtchnx_handle *h2 = open_dom(1);
	int p1, p2;

	p1 = CHECK_OK(evtchnx_alloc_unbound(h1, SELF, SELF));
	p2 = CHECK_OK(evtchnx_bind_interdomain(h2, SELF, p1));
	EXPECT_PORT(h2, p2);
	UNMASK(h2, p2);
	EXPECT_NONE(h1);
	CHECK_OK(evtchnx_send(h1, p1));
	EXPECT_NONE(h1);
	EXPECT_PORT(h2, p2);
	CHECK_OK(evtchnx_send(h2, p2));
	EXPECT_NONE(h2);
	EXPECT_PORT(h1, p1);
}

CASE(events_isolated_between_handles)
{
	struct evtchnx_handle *a, *b, *d;
	uint32_t pab, pb, pad, pd;

	open_pair(&a, &b);
	d = open_dom(3);
	h_channel(a, b, &pab, &pb);
	h_channel(a, d, &pad, &pd);
	CHECK_OK(evtchnx_send(a, pab));
	CHECK_READABLE(b);
	EXPECT_NONE(d);
	EXPECT_NONE(a);
	EXPECT_PORT(b, pb);
	CHECK_OK(evtchnx_send(a, pad));
	EXPECT_PORT(d, pd);
	EXPECT_NONE(b);
	CHECK_EQ(evtchnx_is_pending(b, pb), 0);
}

CASE(close_and_reconnect)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb, da, db;
	int pb2;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	db = (uint32_t)evtchnx_domid(b);
	h_channel(a, b, &pa, &pb);
	CHECK_EQ(evtchnx_unbind(b, pb), 0);
	/* The survivor is UNBOUND, offered to the closer, and not notified. */
	CHECK_UNBOUND(a, SELF, pa, db);
	EXPECT_NONE(a);
	CHECK_EQ(evtchnx_send(a, pa), 0);
	EXPECT_NONE(a);
	EXPECT_NONE(b);
	/* The closer binds again: events flow both ways. */
	pb2 = CHECK_OK(evtchnx_bind_interdomain(b, da, pa));
	CHECK_INTERDOMAIN(a, SELF, pa, db, pb2);
	CHECK_INTERDOMAIN(b, SELF, pb2, da, pa);
	EXPECT_PORT(b, pb2);
	UNMASK(b, pb2);
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb2);
	CHECK_OK(evtchnx_send(b, pb2));
	EXPECT_PORT(a, pa);
}

CASE(peer_handle_close_then_new_handle_binds)
{
	struct evtchnx_handle *a, *b, *b2;
	uint32_t pa, pb, da, db;
	int q;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	db = (uint32_t)evtchnx_domid(b);
	h_channel(a, b, &pa, &pb);
	close_h(b);
	/* Applied when evtchnx_close() returns. */
	CHECK_UNBOUND(a, SELF, pa, db);
	EXPECT_NONE(a);
	b2 = open_dom(db);
	q = CHECK_OK(evtchnx_bind_interdomain(b2, da, pa));
	EXPECT_PORT(b2, q);
	UNMASK(b2, q);
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b2, q);
	CHECK_OK(evtchnx_send(b2, q));
	EXPECT_PORT(a, pa);
}

CASE(event_sent_before_peer_unbind_delivered)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	CHECK_OK(evtchnx_unbind(a, pa));
	CHECK_READABLE(b);
	EXPECT_PORT(b, pb);
	CHECK_UNBOUND(b, SELF, pb, evtchnx_domid(a));
	UNMASK(b, pb);
	EXPECT_NONE(b);
}

CASE(event_sent_before_peer_close_delivered)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb, da;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	close_h(a);
	CHECK_READABLE(b);
	EXPECT_PORT(b, pb);
	CHECK_UNBOUND(b, SELF, pb, da);
	UNMASK(b, pb);
	EXPECT_NONE(b);
}

/* The receiver makes no call between the peer's bind, send and close: it
 * never saw the channel, yet the event is still its to take. */
CASE(event_from_a_channel_the_receiver_never_saw)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;

	open_pair(&a, &b);
	pa = (uint32_t)CHECK_OK(evtchnx_alloc_unbound(a, SELF, (uint32_t)evtchnx_domid(b)));
	pb = (uint32_t)CHECK_OK(evtchnx_bind_interdomain(b, (uint32_t)evtchnx_domid(a), pa));
	CHECK_OK(evtchnx_send(b, pb));
	CHECK_OK(evtchnx_unbind(b, pb));
	CHECK_READABLE(a);
	EXPECT_PORT(a, pa);
	CHECK_UNBOUND(a, SELF, pa, evtchnx_domid(b));
	UNMASK(a, pa);
	EXPECT_NONE(a);
	/* And once more with the peer's whole handle closed. */
	b = h_open_raw(h_target(), &(struct evtchnx_open_opts){
		.sz = sizeof(struct evtchnx_open_opts), .domid = h_dom(2) });
	CHECK(b != NULL);
	pb = (uint32_t)CHECK_OK(evtchnx_bind_interdomain(b, (uint32_t)evtchnx_domid(a), pa));
	CHECK_OK(evtchnx_send(b, pb));
	close_h(b);
	CHECK_READABLE(a);
	EXPECT_PORT(a, pa);
	UNMASK(a, pa);
	EXPECT_NONE(a);
}

struct blocked_wait {
	struct evtchnx_handle *h;
	int result;
};

static void *wait_5s(void *arg)
{
	struct blocked_wait *w = arg;

	w->result = evtchnx_wait(w->h, 5000);
	return NULL;
}

/* The receiver sleeps in evtchnx_wait() while the peer binds, sends and
 * closes at once: it wakes to learn of a channel that is already gone, and
 * must still take the event (it once woke to -EIO instead, asking for a
 * link that had gone with the channel). */
CASE(waiter_takes_the_event_of_a_channel_gone_before_it_woke)
{
	struct evtchnx_handle *a, *b;

	open_pair(&a, &b);
	for (int round = 0; round < 50; round++) {
		struct blocked_wait w = { .h = a };
		uint32_t pa, pb;
		pthread_t t;

		pa = (uint32_t)CHECK_OK(evtchnx_alloc_unbound(a, SELF, (uint32_t)evtchnx_domid(b)));
		CHECK(pthread_create(&t, NULL, wait_5s, &w) == 0);
		h_sleep_ms(round % 3); /* sometimes before it sleeps, mostly after */
		pb = (uint32_t)CHECK_OK(evtchnx_bind_interdomain(b, (uint32_t)evtchnx_domid(a), pa));
		CHECK_OK(evtchnx_send(b, pb));
		CHECK_OK(evtchnx_unbind(b, pb));
		pthread_join(t, NULL);
		CHECK_EQ(w.result, (int)pa);
		CHECK_OK(evtchnx_unbind(a, pa));
	}
}

CASE(event_latched_while_masked_survives_peer_close)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb);
	/* Latched while b holds the port masked, then a closes. */
	CHECK_OK(evtchnx_send(a, pa));
	CHECK_OK(evtchnx_unbind(a, pa));
	CHECK_LATCHED(b, pb);
	CHECK_OK(evtchnx_unmask(b, pb));
	EXPECT_PORT(b, pb);
	EXPECT_NONE(b);
}

CASE(new_port_starts_unmasked_after_rebind)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb, da;
	int pb2;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb);
	/* Closed while masked. */
	CHECK_OK(evtchnx_unbind(b, pb));
	pb2 = CHECK_OK(evtchnx_bind_interdomain(b, da, pa));
	if (h_fresh_domains())
		CHECK_EQ(pb2, pb);
	/* The bind's event is delivered: the port is not masked. */
	CHECK_READABLE(b);
	EXPECT_PORT(b, pb2);
	UNMASK(b, pb2);
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb2);
}

CASE(new_port_starts_unmasked_after_alloc)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb, db;
	int pb2, pa2;

	open_pair(&a, &b);
	db = (uint32_t)evtchnx_domid(b);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb);
	CHECK_OK(evtchnx_unbind(b, pb));
	/* Same number, now allocated by b and bound by a. */
	pb2 = CHECK_OK(evtchnx_alloc_unbound(b, SELF, evtchnx_domid(a)));
	if (h_fresh_domains())
		CHECK_EQ(pb2, pb);
	pa2 = CHECK_OK(evtchnx_bind_interdomain(a, db, pb2));
	EXPECT_PORT(a, pa2);
	UNMASK(a, pa2);
	EXPECT_NONE(b);
	CHECK_OK(evtchnx_send(a, pa2));
	CHECK_READABLE(b);
	EXPECT_PORT(b, pb2);
}

CASE(stale_sender_cannot_reach_reused_port)
{
	struct evtchnx_handle *a, *b, *d;
	uint32_t pa, pb, db;
	int pd, pb2;

	open_pair(&a, &b);
	d = open_dom(3);
	db = (uint32_t)evtchnx_domid(b);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_unbind(b, pb));
	/* b's next port is bound to d, with the number pb had. */
	pd = CHECK_OK(evtchnx_alloc_unbound(d, SELF, db));
	pb2 = CHECK_OK(evtchnx_bind_interdomain(b, evtchnx_domid(d), pd));
	if (h_fresh_domains())
		CHECK_EQ(pb2, pb);
	EXPECT_PORT(b, pb2);
	UNMASK(b, pb2);
	/* a's old end is UNBOUND: its sends reach nobody, least of all the
	 * port that reused the number. */
	for (int i = 0; i < 5; i++)
		CHECK_EQ(evtchnx_send(a, pa), 0);
	EXPECT_NONE(b);
	CHECK_EQ(evtchnx_is_pending(b, pb2), 0);
	CHECK_OK(evtchnx_send(d, pd));
	EXPECT_PORT(b, pb2);
}

CASE(unbind_clears_pending)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;
	int again;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	CHECK_READABLE(b);
	CHECK_OK(evtchnx_unbind(b, pb));
	EXPECT_NONE(b);
	again = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 0x7FEF));
	if (h_fresh_domains())
		CHECK_EQ(again, pb);
	CHECK_EQ(evtchnx_is_pending(b, again), 0);
	EXPECT_NONE(b);
}

/* Send on every port of @from, then take them all from @to: each exactly
 * once. */
static void round_trip_all(struct evtchnx_handle *from, const uint32_t *pf,
			   struct evtchnx_handle *to, const uint32_t *pt,
			   unsigned int n, uint8_t *expect, uint8_t *seen)
{
	unsigned int got;

	memset(expect, 0, PORT_SPACE);
	memset(seen, 0, PORT_SPACE);
	for (unsigned int i = 0; i < n; i++)
		expect[pt[i]] = 1;
	for (unsigned int i = 0; i < n; i++)
		CHECK_EQ(evtchnx_send(from, pf[i]), 0);
	got = drain(to, expect, seen, n, 256);
	CHECK_EQ(got, n);
	EXPECT_NONE(to);
	for (unsigned int i = 0; i < n; i++)
		CHECK_OK(evtchnx_unmask(to, pt[i]));
	if (h_exact_delivery())
		EXPECT_NONE(to);
}

CASE(channels_1000_no_event_lost)
{
	enum { N = 1000 };
	struct evtchnx_handle *a, *b;
	uint32_t *pa = calloc(N, sizeof(*pa)), *pb = calloc(N, sizeof(*pb));
	uint8_t *expect = calloc(PORT_SPACE, 1), *seen = calloc(PORT_SPACE, 1);
	uint32_t da, db;
	unsigned int got;

	CHECK(pa && pb && expect && seen);
	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	db = (uint32_t)evtchnx_domid(b);
	for (unsigned int i = 0; i < N; i++)
		pa[i] = (uint32_t)CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	for (unsigned int i = 0; i < N; i++) {
		pb[i] = (uint32_t)CHECK_OK(
			evtchnx_bind_interdomain(b, da, pa[i]));
		CHECK(pb[i] < PORT_SPACE);
		expect[pb[i]] = 1;
	}
	/* Every bind left its port pending: 1000 deliveries, once each. */
	got = drain(b, expect, seen, N, 256);
	CHECK_EQ(got, N);
	EXPECT_NONE(b);
	for (unsigned int i = 0; i < N; i++)
		CHECK_OK(evtchnx_unmask(b, pb[i]));
	for (int round = 0; round < 3; round++) {
		round_trip_all(a, pa, b, pb, N, expect, seen);
		round_trip_all(b, pb, a, pa, N, expect, seen);
	}
	free(pa);
	free(pb);
	free(expect);
	free(seen);
}
