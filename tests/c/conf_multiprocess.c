/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * conf_multiprocess.c - channels between processes over a shared lab:
 * ping-pong with exact counts, peers killed with SIGKILL (also while
 * blocked in wait), eight processes around one control process, handles
 * inherited across fork(), an fd that stays exact while takes race sends,
 * and the lab server leaving when idle and starting again on demand.
 *
 * Every case runs in the shared lab h_shared_target(), also when the
 * target is "sim" (a private lab cannot span processes).  Children report
 * through pipes (struct h_link); the parent waits for them.
 */
#include "harness.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINK_MS 10000
#define EVENT_MS 10000

/* In a child: a peer that binds @port of @da as domain @db, takes the
 * bind's event, reports its port, answers one event, and exits 0. */
static void child_echo_once(struct h_link *l, uint32_t da, uint32_t db,
			    uint32_t port)
{
	struct evtchnx_handle *b;
	int q;

	h_link_child(l);
	b = open_shared(db);
	q = CHECK_OK(evtchnx_bind_interdomain(b, da, port));
	CHECK_EQ(evtchnx_wait(b, EVENT_MS), q);
	UNMASK(b, q);
	h_link_put(l, q);
	CHECK_EQ(evtchnx_wait(b, EVENT_MS), q);
	CHECK_OK(evtchnx_unmask(b, q));
	CHECK_OK(evtchnx_send(b, q));
	h_link_put(l, 1);
	evtchnx_close(b);
	h_child_exit(0);
}

/* In the parent: the other side of child_echo_once(). */
static void parent_echo_once(struct evtchnx_handle *a, struct h_link *l,
			     pid_t pid, uint32_t port, uint32_t db)
{
	int q;

	h_link_parent(l);
	q = h_link_get(l, LINK_MS);
	CHECK_INTERDOMAIN(a, SELF, port, db, q);
	CHECK_OK(evtchnx_send(a, port));
	CHECK_EQ(evtchnx_wait(a, EVENT_MS), port);
	CHECK_OK(evtchnx_unmask(a, port));
	CHECK_EQ(h_link_get(l, LINK_MS), 1);
	CHECK_EQ(h_wait_child(pid, LINK_MS), 0);
	CHECK_UNBOUND(a, SELF, port, db);
}

CASE(pingpong_1000_round_trips)
{
	enum { N = 1000 };
	struct evtchnx_handle *a;
	struct h_link l;
	uint32_t da, db = h_dom(2);
	int p, q;
	pid_t pid;

	a = open_shared(h_dom(1));
	da = (uint32_t)evtchnx_domid(a);
	p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	h_link_init(&l);
	pid = h_fork();
	if (pid == 0) {
		struct evtchnx_handle *b;
		int port, count = 0;

		h_link_child(&l);
		b = open_shared(db);
		port = CHECK_OK(evtchnx_bind_interdomain(
			b, da, (uint32_t)h_link_get(&l, LINK_MS)));
		/* The bind's own event. */
		CHECK_EQ(evtchnx_wait(b, EVENT_MS), port);
		UNMASK(b, port);
		h_link_put(&l, port);
		for (int i = 0; i < N; i++) {
			CHECK_EQ(evtchnx_wait(b, EVENT_MS), port);
			count++;
			CHECK_OK(evtchnx_unmask(b, port));
			CHECK_OK(evtchnx_send(b, port));
		}
		if (h_exact_delivery())
			CHECK_ERR(evtchnx_wait(b, 100), ETIMEDOUT);
		h_link_put(&l, count);
		evtchnx_close(b);
		h_child_exit(0);
	}
	h_link_parent(&l);
	h_link_put(&l, p);
	q = h_link_get(&l, LINK_MS);
	CHECK_INTERDOMAIN(a, SELF, p, db, q);
	for (int i = 0; i < N; i++) {
		CHECK_OK(evtchnx_send(a, p));
		CHECK_EQ(evtchnx_wait(a, EVENT_MS), p);
		CHECK_OK(evtchnx_unmask(a, p));
	}
	CHECK_EQ(h_link_get(&l, LINK_MS), N);
	CHECK_EQ(h_wait_child(pid, LINK_MS), 0);
	if (h_exact_delivery())
		EXPECT_NONE(a);
	/* The child closed its handle: our end is UNBOUND at once. */
	CHECK_UNBOUND(a, SELF, p, db);
}

CASE(peer_sigkill_survivor_unbound_and_keeps_working)
{
	struct evtchnx_handle *a, *c = NULL;
	struct h_link l, l2;
	uint32_t da, db = h_dom(2);
	int p[5], q[5];
	pid_t pid;

	a = open_shared(h_dom(1));
	if (!h_is_xen())
		c = open_shared(0);
	da = (uint32_t)evtchnx_domid(a);
	for (int i = 0; i < 3; i++)
		p[i] = CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	h_link_init(&l);
	pid = h_fork();
	if (pid == 0) {
		struct evtchnx_handle *b;
		int mine[5];

		h_link_child(&l);
		b = open_shared(db);
		for (int i = 0; i < 3; i++) {
			mine[i] = CHECK_OK(evtchnx_bind_interdomain(
				b, da, (uint32_t)h_link_get(&l, LINK_MS)));
			h_link_put(&l, mine[i]);
		}
		for (int i = 3; i < 5; i++) {
			mine[i] = CHECK_OK(evtchnx_alloc_unbound(b, SELF, da));
			h_link_put(&l, mine[i]);
		}
		/* Once the parent has bound our two offers: one event on
		 * the first channel, then stay alive until killed. */
		h_link_get(&l, LINK_MS);
		CHECK_OK(evtchnx_send(b, mine[0]));
		h_link_put(&l, 1);
		for (;;)
			pause();
	}
	h_link_parent(&l);
	for (int i = 0; i < 3; i++)
		h_link_put(&l, p[i]);
	for (int i = 0; i < 5; i++)
		q[i] = h_link_get(&l, LINK_MS);
	for (int i = 3; i < 5; i++) {
		p[i] = CHECK_OK(evtchnx_bind_interdomain(a, db, q[i]));
		EXPECT_PORT(a, p[i]);
		UNMASK(a, p[i]);
	}
	for (int i = 0; i < 5; i++)
		CHECK_INTERDOMAIN(a, SELF, p[i], db, q[i]);
	h_link_put(&l, 1);
	CHECK_EQ(h_link_get(&l, LINK_MS), 1);

	h_kill_child(pid);
	for (int i = 0; i < 5; i++)
		WAIT_UNBOUND(a, p[i], db);
	/* The event sent before the peer died is still delivered, once. */
	EXPECT_PORT(a, p[0]);
	EXPECT_NONE(a);
	UNMASK(a, p[0]);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(evtchnx_send(a, p[i]), 0);
	EXPECT_NONE(a);
	/* The dead process's implicit domain is gone. */
	if (c)
		WAIT_NO_DOMAIN(c, db);
	/* A new process of that domain reconnects to a surviving port. */
	h_link_init(&l2);
	pid = h_fork();
	if (pid == 0)
		child_echo_once(&l2, da, db, p[1]);
	parent_echo_once(a, &l2, pid, p[1], db);
	/* And fresh channels work. */
	{
		int n1 = CHECK_OK(evtchnx_alloc_unbound(a, SELF, SELF));
		int n2 = CHECK_OK(evtchnx_bind_interdomain(a, SELF, n1));

		EXPECT_PORT(a, n2);
		UNMASK(a, n2);
		CHECK_OK(evtchnx_send(a, n1));
		EXPECT_PORT(a, n2);
	}
}

CASE(peer_killed_while_blocked_in_wait)
{
	struct evtchnx_handle *a;
	struct h_link lb, ld;
	uint32_t da, db = h_dom(2), dd = h_dom(3);
	int pb, pd, qb;
	pid_t pidb, pidd;

	a = open_shared(h_dom(1));
	da = (uint32_t)evtchnx_domid(a);
	pb = CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	pd = CHECK_OK(evtchnx_alloc_unbound(a, SELF, dd));

	/* D: a bystander with its own channel to A. */
	h_link_init(&ld);
	pidd = h_fork();
	if (pidd == 0)
		child_echo_once(&ld, da, dd, (uint32_t)pd);
	h_link_parent(&ld);

	/* B: blocks in wait() for ever. */
	h_link_init(&lb);
	pidb = h_fork();
	if (pidb == 0) {
		struct evtchnx_handle *b;
		int q;

		h_link_child(&lb);
		b = open_shared(db);
		q = CHECK_OK(evtchnx_bind_interdomain(b, da, (uint32_t)pb));
		CHECK_EQ(evtchnx_wait(b, EVENT_MS), q);
		/* Masked now: no event can wake the wait below. */
		h_link_put(&lb, q);
		evtchnx_wait(b, -1);
		h_child_exit(2);
	}
	h_link_parent(&lb);
	qb = h_link_get(&lb, LINK_MS);
	CHECK_INTERDOMAIN(a, SELF, pb, db, qb);
	/* Give it time to block, then kill it in the middle of wait(). */
	h_sleep_ms(200);
	CHECK_EQ(waitpid(pidb, NULL, WNOHANG), 0);
	h_kill_child(pidb);
	WAIT_UNBOUND(a, pb, db);
	CHECK_EQ(evtchnx_send(a, pb), 0);
	EXPECT_NONE(a);
	/* The bystander was not disturbed. */
	parent_echo_once(a, &ld, pidd, (uint32_t)pd, dd);
}

CASE(stale_sender_in_other_process_cannot_reach_reused_port)
{
	struct evtchnx_handle *b, *d;
	struct h_link l;
	uint32_t db, dd;
	int pb, pd, pb2, bad, sends;
	pid_t pid;

	b = open_shared(h_dom(2));
	d = open_shared(h_dom(3));
	db = (uint32_t)evtchnx_domid(b);
	dd = (uint32_t)evtchnx_domid(d);
	pb = CHECK_OK(evtchnx_alloc_unbound(b, SELF, h_dom(1)));
	h_link_init(&l);
	pid = h_fork();
	if (pid == 0) {
		struct evtchnx_handle *a;
		struct pollfd stop;
		uint64_t end = h_now_ms() + 10000;
		int pa, nbad = 0, n = 0;

		h_link_child(&l);
		a = open_shared(h_dom(1));
		pa = CHECK_OK(evtchnx_bind_interdomain(a, db, pb));
		h_link_put(&l, pa);
		stop.fd = l.p2c[0];
		stop.events = POLLIN;
		/* Send without pause until told to stop: while the channel
		 * is up and after the peer closed it, every send returns 0. */
		while (h_now_ms() < end) {
			if (evtchnx_send(a, pa) != 0)
				nbad++;
			if (++n % 64 == 0 && poll(&stop, 1, 0) > 0)
				break;
		}
		h_link_get(&l, LINK_MS);
		h_link_put(&l, nbad);
		h_link_put(&l, n);
		h_child_exit(0);
	}
	h_link_parent(&l);
	CHECK(h_link_get(&l, LINK_MS) >= 1);
	h_sleep_ms(50);
	CHECK_OK(evtchnx_unbind(b, pb));
	/* Reuse the number for a channel with d while the old peer still
	 * sends on its end. */
	pd = CHECK_OK(evtchnx_alloc_unbound(d, SELF, db));
	pb2 = CHECK_OK(evtchnx_bind_interdomain(b, dd, pd));
	if (h_fresh_domains())
		CHECK_EQ(pb2, pb);
	CHECK_EQ(evtchnx_wait(b, EVENT_MS), pb2);
	UNMASK(b, pb2);
	h_sleep_ms(100);
	CHECK_EQ(evtchnx_is_pending(b, pb2), 0);
	CHECK_ERR(evtchnx_pending(b), EAGAIN);
	h_link_put(&l, 1);
	bad = h_link_get(&l, LINK_MS);
	sends = h_link_get(&l, LINK_MS);
	CHECK_EQ(h_wait_child(pid, LINK_MS), 0);
	CHECK_EQ(bad, 0);
	CHECK(sends > 0);
	h_note("%d sends from the old peer", sends);
	CHECK_ERR(evtchnx_pending(b), EAGAIN);
	CHECK_OK(evtchnx_send(d, pd));
	CHECK_EQ(evtchnx_wait(b, EVENT_MS), pb2);
}

CASE(eight_processes_with_control)
{
	enum { NPROC = 8, ROUNDS = 50 };
	struct evtchnx_handle *c;
	struct h_link l[NPROC];
	pid_t pid[NPROC];
	int p[NPROC], count[NPROC] = { 0 };
	uint32_t dc;
	int total = 0;

	c = open_shared(0);
	dc = (uint32_t)evtchnx_domid(c);
	for (int i = 0; i < NPROC; i++) {
		p[i] = CHECK_OK(evtchnx_alloc_unbound(c, SELF, h_dom(10 + i)));
		h_link_init(&l[i]);
		pid[i] = h_fork();
		if (pid[i] == 0) {
			struct evtchnx_handle *b;
			int q, n = 0;

			h_link_child(&l[i]);
			b = open_shared(h_dom(10 + i));
			q = CHECK_OK(evtchnx_bind_interdomain(b, dc, p[i]));
			CHECK_EQ(evtchnx_wait(b, EVENT_MS), q);
			UNMASK(b, q);
			h_link_put(&l[i], q);
			/* Start when the control process says so. */
			h_link_get(&l[i], LINK_MS);
			for (int r = 0; r < ROUNDS; r++) {
				CHECK_OK(evtchnx_send(b, q));
				CHECK_EQ(evtchnx_wait(b, EVENT_MS), q);
				CHECK_OK(evtchnx_unmask(b, q));
				n++;
			}
			if (h_exact_delivery())
				CHECK_ERR(evtchnx_wait(b, 50), ETIMEDOUT);
			h_link_put(&l[i], n);
			/* Half close their handle, half just exit. */
			if (i % 2 == 0)
				evtchnx_close(b);
			h_child_exit(0);
		}
		h_link_parent(&l[i]);
	}
	for (int i = 0; i < NPROC; i++) {
		int q = h_link_get(&l[i], LINK_MS);

		CHECK_INTERDOMAIN(c, SELF, p[i], h_dom(10 + i), q);
	}
	for (int i = 0; i < NPROC; i++)
		h_link_put(&l[i], 1);
	while (total < NPROC * ROUNDS) {
		int r = evtchnx_wait(c, EVENT_MS);
		int who = -1;

		CHECK_OK(r);
		for (int i = 0; i < NPROC; i++)
			if (p[i] == r)
				who = i;
		if (who < 0)
			h_fail(__FILE__, __LINE__, "unexpected port %d delivered", r);
		count[who]++;
		total++;
		CHECK_OK(evtchnx_unmask(c, r));
		CHECK_OK(evtchnx_send(c, r));
	}
	for (int i = 0; i < NPROC; i++) {
		CHECK_EQ(h_link_get(&l[i], LINK_MS), ROUNDS);
		CHECK_EQ(count[i], ROUNDS);
		CHECK_EQ(h_wait_child(pid[i], LINK_MS), 0);
	}
	if (h_exact_delivery())
		EXPECT_NONE(c);
	/* Every child is gone: its end was closed, ours is UNBOUND. */
	for (int i = 0; i < NPROC; i++)
		WAIT_UNBOUND(c, p[i], h_dom(10 + i));
}

/*
 * The receiver takes each event while the sender's send() may still be on
 * its way (between setting the bit and writing the doorbell).  Once the
 * send has returned, the fd must not stay readable for the event taken.
 */
CASE(fd_exact_when_taking_races_the_send)
{
	/* Fewer rounds on real Xen: it checks delivery only (is_xen() has no
	 * exact fd to check), and an emulated machine is slow. */
	const int rounds = h_is_xen() ? 50 : 2000;
	struct evtchnx_handle *a;
	struct h_link l;
	uint32_t da;
	pid_t pid;
	int p, q;

	a = open_shared(h_dom(1));
	da = (uint32_t)evtchnx_domid(a);
	p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, h_dom(2)));
	h_link_init(&l);
	pid = h_fork();
	if (pid == 0) {
		struct evtchnx_handle *b;

		h_link_child(&l);
		b = open_shared(h_dom(2));
		q = CHECK_OK(evtchnx_bind_interdomain(b, da, p));
		h_link_put(&l, q);
		for (int r = 0; r < rounds; r++) {
			h_link_get(&l, LINK_MS);
			CHECK_OK(evtchnx_send(b, q));
			h_link_put(&l, r);
		}
		evtchnx_close(b);
		h_child_exit(0);
	}
	h_link_parent(&l);
	q = h_link_get(&l, LINK_MS);
	CHECK_INTERDOMAIN(a, SELF, p, h_dom(2), q);
	for (int r = 0; r < rounds; r++) {
		uint64_t end = h_now_ms() + EVENT_MS;
		int got;

		h_link_put(&l, 1);
		/* Take it as soon as the bit shows, not after the wake-up. */
		while ((got = evtchnx_pending(a)) == -EAGAIN && h_now_ms() < end)
			;
		CHECK_EQ(got, p);
		CHECK_EQ(h_link_get(&l, LINK_MS), r);
		if (!h_exact_delivery()) {
			UNMASK(a, p);
			continue;
		}
		EXPECT_NONE(a);
		CHECK_OK(evtchnx_unmask(a, p));
		EXPECT_NONE(a);
	}
	CHECK_EQ(h_wait_child(pid, LINK_MS), 0);
}

CASE(inherited_handle_ebadf_and_close_in_child)
{
	struct evtchnx_handle *h, *peer;
	struct h_link l;
	uint32_t ph, pp, dpeer;
	pid_t pid;

	h = open_shared(h_dom(1));
	peer = open_shared(h_dom(2));
	dpeer = (uint32_t)evtchnx_domid(peer);
	h_channel(h, peer, &ph, &pp);
	h_link_init(&l);
	pid = h_fork();
	if (pid == 0) {
		struct evtchnx_status st = { .sz = sizeof(st) };
		struct evtchnx_handle *n;
		uint32_t ports[4];
		int p1, p2;

		h_link_child(&l);
		CHECK_ERR(evtchnx_send(h, ph), EBADF);
		CHECK_ERR(evtchnx_unbind(h, ph), EBADF);
		CHECK_ERR(evtchnx_unmask(h, ph), EBADF);
		CHECK_ERR(evtchnx_is_pending(h, ph), EBADF);
		CHECK_ERR(evtchnx_alloc_unbound(h, SELF, 0), EBADF);
		CHECK_ERR(evtchnx_bind_interdomain(h, SELF, 1), EBADF);
		CHECK_ERR(evtchnx_bind_virq(h, 0), EBADF);
		CHECK_ERR(evtchnx_adopt(h, 1), EBADF);
		CHECK_ERR(evtchnx_status(h, SELF, ph, &st), EBADF);
		CHECK_ERR(evtchnx_reset(h, SELF), EBADF);
		CHECK_ERR(evtchnx_restrict(h, 5), EBADF);
		CHECK_ERR(evtchnx_pending(h), EBADF);
		CHECK_ERR(evtchnx_pending_batch(h, ports, 4), EBADF);
		CHECK_ERR(evtchnx_wait(h, 0), EBADF);
		CHECK_ERR(evtchnx_fd(h), EBADF);
		CHECK_ERR(evtchnx_domid(h), EBADF);
		CHECK_ERR(evtchnx_send(peer, pp), EBADF);
		/* Closing the copies must not touch the parent's ports. */
		evtchnx_close(h);
		evtchnx_close(peer);
		/* A new handle works in the child. */
		n = open_shared(h_dom(3));
		p1 = CHECK_OK(evtchnx_alloc_unbound(n, SELF, SELF));
		p2 = CHECK_OK(evtchnx_bind_interdomain(n, SELF, p1));
		CHECK_EQ(evtchnx_wait(n, EVENT_MS), p2);
		UNMASK(n, p2);
		CHECK_OK(evtchnx_send(n, p1));
		CHECK_EQ(evtchnx_wait(n, EVENT_MS), p2);
		evtchnx_close(n);
		h_link_put(&l, 1);
		h_child_exit(0);
	}
	h_link_parent(&l);
	CHECK_EQ(h_link_get(&l, LINK_MS), 1);
	CHECK_EQ(h_wait_child(pid, LINK_MS), 0);
	/* The parent's handles and ports are intact. */
	CHECK_INTERDOMAIN(h, SELF, ph, dpeer, pp);
	CHECK_INTERDOMAIN(peer, SELF, pp, evtchnx_domid(h), ph);
	CHECK_OK(evtchnx_send(h, ph));
	EXPECT_PORT(peer, pp);
	CHECK_OK(evtchnx_unmask(peer, pp));
	CHECK_OK(evtchnx_send(peer, pp));
	EXPECT_PORT(h, ph);
	CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
}

CASE(inherited_descriptor_does_not_keep_dead_domain_alive)
{
	struct evtchnx_handle *a;
	struct h_link l;
	uint32_t da, dm = h_dom(3);
	int pa, q;
	pid_t pid, gpid;

	require_sim("on xen ports belong to the open file, which a forked child shares");
	a = open_shared(h_dom(1));
	da = (uint32_t)evtchnx_domid(a);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, dm));
	h_link_init(&l);
	pid = h_fork();
	if (pid == 0) {
		struct evtchnx_handle *m;
		pid_t g;

		h_link_child(&l);
		m = open_shared(dm);
		h_link_put(&l, CHECK_OK(evtchnx_bind_interdomain(m, da, pa)));
		/* A grandchild inherits m's descriptors and lingers. */
		g = fork();
		if (g == 0) {
			alarm(30);
			for (;;)
				pause();
		}
		h_link_put(&l, (int32_t)g);
		for (;;)
			pause();
	}
	h_link_parent(&l);
	q = h_link_get(&l, LINK_MS);
	gpid = (pid_t)h_link_get(&l, LINK_MS);
	CHECK_INTERDOMAIN(a, SELF, pa, dm, q);
	h_kill_child(pid);
	/* The grandchild still holds the descriptors: the lab must see that
	 * the process that opened the handle is dead all the same. */
	{
		uint64_t end = h_now_ms() + 10000;
		struct evtchnx_status st;
		bool unbound = false;
		bool g_alive = kill(gpid, 0) == 0;

		while (!unbound && h_now_ms() < end) {
			unbound = h_status(a, SELF, pa, &st) == 0 &&
				  st.state == EVTCHNX_STATE_UNBOUND &&
				  st.remote_domid == dm;
			if (!unbound)
				h_sleep_ms(5);
		}
		kill(gpid, SIGKILL);
		CHECK(g_alive);
		if (!unbound)
			h_fail(__FILE__, __LINE__,
			       "port %d still not UNBOUND 10 s after its peer's process was killed (state %u, remote %u) while a forked grandchild holds the descriptors",
			       pa, st.state, st.remote_domid);
	}
	CHECK_EQ(evtchnx_send(a, pa), 0);
	EXPECT_NONE(a);
}

CASE(child_exit_without_close_releases_ports)
{
	struct evtchnx_handle *a;
	struct h_link l;
	uint32_t da, db = h_dom(2);
	int pa, q;
	pid_t pid;

	a = open_shared(h_dom(1));
	da = (uint32_t)evtchnx_domid(a);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	h_link_init(&l);
	pid = h_fork();
	if (pid == 0) {
		struct evtchnx_handle *b;

		h_link_child(&l);
		b = open_shared(db);
		h_link_put(&l, CHECK_OK(evtchnx_bind_interdomain(b, da, pa)));
		/* Exit without evtchnx_close(). */
		h_child_exit(0);
	}
	h_link_parent(&l);
	q = h_link_get(&l, LINK_MS);
	CHECK(q >= 1);
	CHECK_EQ(h_wait_child(pid, LINK_MS), 0);
	WAIT_UNBOUND(a, pa, db);
	EXPECT_NONE(a);
}

CASE(concurrent_first_opens_share_one_lab)
{
	enum { N = 6 };
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 0 };
	struct evtchnx_handle *c;
	struct h_link l[N];
	int go[2];
	pid_t pid[N];
	char target[64];

	if (!h_can_spawn_labs())
		h_skip("lab servers are a sim feature; this target cannot start them");
	snprintf(target, sizeof(target), "sim:conf-race-%d", (int)getpid());
	if (pipe(go) < 0)
		h_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
	for (int i = 0; i < N; i++) {
		h_link_init(&l[i]);
		pid[i] = h_fork();
		if (pid[i] == 0) {
			struct evtchnx_open_opts co = { .sz = sizeof(co),
							.domid = 10 + (uint32_t)i };
			struct evtchnx_handle *h;
			char byte;

			h_link_child(&l[i]);
			close(go[1]);
			/* Everybody opens the new lab at the same moment. */
			if (read(go[0], &byte, 1) != 1)
				h_child_exit(3);
			h = evtchnx_open(target, &co);
			h_link_put(&l[i], h ? evtchnx_domid(h) : -errno);
			h_link_get(&l[i], LINK_MS);
			evtchnx_close(h);
			h_child_exit(0);
		}
		h_link_parent(&l[i]);
	}
	close(go[0]);
	if (write(go[1], "xxxxxx", N) != N)
		h_fail(__FILE__, __LINE__, "write: %s", strerror(errno));
	close(go[1]);
	for (int i = 0; i < N; i++) {
		int r = h_link_get(&l[i], LINK_MS);

		if (r < 0)
			h_fail(__FILE__, __LINE__, "child %d: evtchnx_open(%s): %s",
			       i, target, evtchnx_strerror(r));
		CHECK_EQ(r, 10 + i);
	}
	/* They all joined one lab: its control domain sees every domain. */
	c = h_open_raw(target, &o);
	CHECK(c != NULL);
	for (int i = 0; i < N; i++)
		CHECK_CLOSED(c, 10 + (uint32_t)i, 0);
	for (int i = 0; i < N; i++)
		h_link_put(&l[i], 1);
	for (int i = 0; i < N; i++)
		CHECK_EQ(h_wait_child(pid[i], LINK_MS), 0);
	for (int i = 0; i < N; i++) {
		struct evtchnx_status st;

		CHECK_ERR(h_status(c, 10 + (uint32_t)i, 0, &st), ESRCH);
	}
}

CASE(lab_server_restarts_after_idle)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 1 };
	struct evtchnx_open_opts ns = { .sz = sizeof(ns), .domid = 1,
					.flags = EVTCHNX_OPEN_NO_SPAWN };
	struct evtchnx_handle *h;
	char target[64], *old;
	uint64_t end;
	bool refused = false;
	int p1, p2;

	if (!h_can_spawn_labs())
		h_skip("lab servers are a sim feature; this target cannot start them");
	snprintf(target, sizeof(target), "sim:conf-grace-%d", (int)getpid());
	old = getenv("EVTCHNX_LAB_GRACE_MS");
	old = old ? strdup(old) : NULL;
	setenv("EVTCHNX_LAB_GRACE_MS", "200", 1);

	h = h_open_raw(target, &o);
	if (!h)
		h_fail(__FILE__, __LINE__, "evtchnx_open(%s): %s", target,
		       evtchnx_strerror(-errno));
	p1 = CHECK_OK(evtchnx_alloc_unbound(h, SELF, SELF));
	p2 = CHECK_OK(evtchnx_bind_interdomain(h, SELF, p1));
	CHECK_EQ(evtchnx_wait(h, EVENT_MS), p2);
	close_h(h);

	/* With no client left the server leaves after the grace period:
	 * then a NO_SPAWN open is refused.  Probe less often than the grace
	 * period, or the probes themselves would keep it alive. */
	end = h_now_ms() + 10000;
	while (h_now_ms() < end) {
		struct evtchnx_handle *t;

		h_sleep_ms(500);
		errno = 0;
		t = evtchnx_open(target, &ns);
		if (!t && errno == ECONNREFUSED) {
			refused = true;
			break;
		}
		if (!t)
			h_fail(__FILE__, __LINE__,
			       "evtchnx_open(%s, NO_SPAWN): unexpected errno %d (%s)",
			       target, errno, evtchnx_strerror(-errno));
		evtchnx_close(t);
	}
	if (!refused)
		h_fail(__FILE__, __LINE__,
		       "the lab server of %s was still running 10 s after its last client left (grace 200 ms)",
		       target);
	/* A normal open starts a new server with a fresh lab. */
	h = h_open_raw(target, &o);
	if (old) {
		setenv("EVTCHNX_LAB_GRACE_MS", old, 1);
		free(old);
	} else {
		unsetenv("EVTCHNX_LAB_GRACE_MS");
	}
	if (!h)
		h_fail(__FILE__, __LINE__, "evtchnx_open(%s) after idle exit: %s",
		       target, evtchnx_strerror(-errno));
	p1 = CHECK_OK(evtchnx_alloc_unbound(h, SELF, SELF));
	CHECK_EQ(p1, 1);
	p2 = CHECK_OK(evtchnx_bind_interdomain(h, SELF, p1));
	CHECK_EQ(evtchnx_wait(h, EVENT_MS), p2);
	UNMASK(h, p2);
	CHECK_OK(evtchnx_send(h, p1));
	CHECK_EQ(evtchnx_wait(h, EVENT_MS), p2);
}
