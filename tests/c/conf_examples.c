/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * conf_examples.c - the example cases 1-10 of the event-channel rules,
 * literally, one case each.  A and B are unprivileged domains, C is the
 * control domain 0, D another unprivileged domain.
 */
#include "harness.h"

#include <unistd.h>

struct ab {
	struct evtchnx_handle *a, *b;
	uint32_t da, db;
};

static void open_ab(struct ab *x)
{
	open_pair(&x->a, &x->b);
	x->da = (uint32_t)evtchnx_domid(x->a);
	x->db = (uint32_t)evtchnx_domid(x->b);
}

/* Examples 1 and 2 as preconditions: p offered to b, bound by b as q, q's
 * bind event taken and unmasked. */
static void connect_ab(struct ab *x, uint32_t *p, uint32_t *q)
{
	*p = (uint32_t)CHECK_OK(evtchnx_alloc_unbound(x->a, SELF, x->db));
	*q = (uint32_t)CHECK_OK(evtchnx_bind_interdomain(x->b, x->da, *p));
	EXPECT_PORT(x->b, *q);
	UNMASK(x->b, *q);
}

/* 1. A alloc_unbound(SELF, b) -> port p >= 1; status(SELF, p) = unbound,
 * remote b. */
CASE(example1_alloc_unbound)
{
	struct ab x;
	int p;

	open_ab(&x);
	p = evtchnx_alloc_unbound(x.a, SELF, x.db);
	CHECK(p >= 1);
	CHECK_UNBOUND(x.a, SELF, p, x.db);
}

/* 2. B bind_interdomain(a, p) -> q; status on both ends = interdomain,
 * cross-linked; q is pending. */
CASE(example2_bind_interdomain)
{
	struct ab x;
	int p, q;

	open_ab(&x);
	p = CHECK_OK(evtchnx_alloc_unbound(x.a, SELF, x.db));
	q = evtchnx_bind_interdomain(x.b, x.da, p);
	CHECK(q >= 1);
	CHECK_INTERDOMAIN(x.a, SELF, p, x.db, q);
	CHECK_INTERDOMAIN(x.b, SELF, q, x.da, p);
	CHECK_EQ(evtchnx_is_pending(x.b, q), 1);
	CHECK_READABLE(x.b);
	CHECK_EQ(evtchnx_pending(x.b), q);
}

/* 3. A send(p) -> B's fd becomes readable; B pending() -> q; q stays
 * masked until B unmasks it. */
CASE(example3_send_pending_unmask)
{
	struct ab x;
	uint32_t p, q;

	open_ab(&x);
	connect_ab(&x, &p, &q);
	CHECK_NOT_READABLE(x.b);
	CHECK_EQ(evtchnx_send(x.a, p), 0);
	CHECK_READABLE(x.b);
	CHECK_EQ(evtchnx_pending(x.b), q);
	/* Masked: a further send is latched, not delivered. */
	CHECK_EQ(evtchnx_send(x.a, p), 0);
	CHECK_NOT_READABLE(x.b);
	CHECK_ERR(evtchnx_pending(x.b), EAGAIN);
	CHECK_LATCHED(x.b, q);
	CHECK_EQ(evtchnx_unmask(x.b, q), 0);
	CHECK_READABLE(x.b);
	CHECK_EQ(evtchnx_pending(x.b), q);
}

/* 4. A send(p) twice before B reads -> B sees q once. */
CASE(example4_coalescing)
{
	struct ab x;
	uint32_t p, q;

	open_ab(&x);
	connect_ab(&x, &p, &q);
	CHECK_EQ(evtchnx_send(x.a, p), 0);
	CHECK_EQ(evtchnx_send(x.a, p), 0);
	EXPECT_PORT(x.b, q);
	EXPECT_NONE(x.b);
	CHECK_OK(evtchnx_unmask(x.b, q));
	if (h_exact_delivery())
		EXPECT_NONE(x.b);
}

/* 5. A unbind(p) -> 0; B's q = unbound, remote a; B send(q) -> 0 and
 * nothing arrives anywhere. */
CASE(example5_unbind_peer_unbound)
{
	struct ab x;
	uint32_t p, q;

	open_ab(&x);
	connect_ab(&x, &p, &q);
	CHECK_EQ(evtchnx_unbind(x.a, p), 0);
	CHECK_UNBOUND(x.b, SELF, q, x.da);
	CHECK_EQ(evtchnx_send(x.b, q), 0);
	EXPECT_NONE(x.a);
	EXPECT_NONE(x.b);
}

/* 6. A unbind(p) again -> -ENOTCONN; unbind(0) -> -EINVAL;
 * send(0xFFFFFFFF) -> -EINVAL. */
CASE(example6_errors)
{
	struct ab x;
	uint32_t p, q;

	open_ab(&x);
	connect_ab(&x, &p, &q);
	CHECK_EQ(evtchnx_unbind(x.a, p), 0);
	CHECK_ERR(evtchnx_unbind(x.a, p), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(x.a, 0), EINVAL);
	CHECK_ERR(evtchnx_send(x.a, 0xFFFFFFFFu), EINVAL);
}

/* 7. A alloc_unbound(dom=b, a) -> -EPERM; C alloc_unbound(dom=b, SELF) ->
 * port in b, remote = 0. */
CASE(example7_alloc_on_behalf)
{
	struct evtchnx_handle *c;
	struct ab x;
	int pb;

	require_multi_domain();
	c = open_dom(0);
	open_ab(&x);
	CHECK_ERR(evtchnx_alloc_unbound(x.a, x.db, x.da), EPERM);
	pb = evtchnx_alloc_unbound(c, x.db, SELF);
	CHECK(pb >= 1);
	CHECK_UNBOUND(c, x.db, pb, 0);
	CHECK_UNBOUND(x.b, SELF, pb, 0);
}

/* 8. D bind_interdomain(a, p) while p is offered to b -> -EINVAL. */
CASE(example8_bind_not_offered)
{
	struct evtchnx_handle *d;
	struct ab x;
	int p;

	require_multi_domain();
	open_ab(&x);
	d = open_dom(3);
	p = CHECK_OK(evtchnx_alloc_unbound(x.a, SELF, x.db));
	CHECK_ERR(evtchnx_bind_interdomain(d, x.da, p), EINVAL);
	CHECK_UNBOUND(x.a, SELF, p, x.db);
}

/* 9. Loopback: A alloc_unbound(SELF, SELF) -> p1; A bind_interdomain(SELF,
 * p1) -> p2; send on either end raises the other. */
CASE(example9_loopback)
{
	struct evtchnx_handle *a = open_dom(1);
	int p1, p2;

	p1 = CHECK_OK(evtchnx_alloc_unbound(a, SELF, SELF));
	p2 = CHECK_OK(evtchnx_bind_interdomain(a, SELF, p1));
	EXPECT_PORT(a, p2);
	UNMASK(a, p2);
	CHECK_OK(evtchnx_send(a, p1));
	EXPECT_PORT(a, p2);
	EXPECT_NONE(a);
	CHECK_OK(evtchnx_send(a, p2));
	EXPECT_PORT(a, p1);
	EXPECT_NONE(a);
}

/* 10. Kill B's process while channels are open -> A's ends become
 * unbound, A keeps working.  (A shared lab: B is another process.) */
CASE(example10_kill_peer_process)
{
	struct evtchnx_handle *a;
	struct h_link l;
	uint32_t da, db = h_dom(2);
	int p1, p2, p3, q1, q2, q3, l1, l2;
	pid_t pid;

	a = open_shared(h_dom(1));
	da = (uint32_t)evtchnx_domid(a);
	p1 = CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	p2 = CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	h_link_init(&l);
	pid = h_fork();
	if (pid == 0) {
		struct evtchnx_handle *b;
		int32_t r1, r2;

		h_link_child(&l);
		b = open_shared(db);
		r1 = h_link_get(&l, 10000);
		r2 = h_link_get(&l, 10000);
		h_link_put(&l, CHECK_OK(evtchnx_bind_interdomain(b, da, r1)));
		h_link_put(&l, CHECK_OK(evtchnx_bind_interdomain(b, da, r2)));
		h_link_put(&l, CHECK_OK(evtchnx_alloc_unbound(b, SELF, da)));
		/* Stay alive, channels open, until killed. */
		for (;;)
			pause();
	}
	h_link_parent(&l);
	h_link_put(&l, p1);
	h_link_put(&l, p2);
	q1 = h_link_get(&l, 10000);
	q2 = h_link_get(&l, 10000);
	q3 = h_link_get(&l, 10000);
	p3 = CHECK_OK(evtchnx_bind_interdomain(a, db, q3));
	EXPECT_PORT(a, p3);
	UNMASK(a, p3);
	CHECK_INTERDOMAIN(a, SELF, p1, db, q1);
	CHECK_INTERDOMAIN(a, SELF, p2, db, q2);
	CHECK_INTERDOMAIN(a, SELF, p3, db, q3);

	h_kill_child(pid);
	WAIT_UNBOUND(a, p1, db);
	WAIT_UNBOUND(a, p2, db);
	WAIT_UNBOUND(a, p3, db);
	/* A keeps working. */
	CHECK_EQ(evtchnx_send(a, p1), 0);
	CHECK_EQ(evtchnx_send(a, p3), 0);
	EXPECT_NONE(a);
	l1 = CHECK_OK(evtchnx_alloc_unbound(a, SELF, SELF));
	l2 = CHECK_OK(evtchnx_bind_interdomain(a, SELF, l1));
	EXPECT_PORT(a, l2);
	UNMASK(a, l2);
	CHECK_OK(evtchnx_send(a, l1));
	EXPECT_PORT(a, l2);
	CHECK_OK(evtchnx_unbind(a, p2));
}
