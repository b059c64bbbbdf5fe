/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * conf_threads.c - one handle used from several threads at once: sends
 * racing an unbind, concurrent pending/unmask with no event lost or
 * delivered twice, several waiters, concurrent allocation, handles
 * opened, bound and closed in many threads, and a second thread starting
 * on a handle its opener is busy with.
 *
 * Threads only count what they saw; the case's own thread checks after
 * joining them, so a failure never leaves a thread running.
 */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PORT_SPACE (1u << 17)

/* ---- sends racing an unbind ---------------------------------------------------- */

struct race_send {
	struct evtchnx_handle *h;
	uint32_t port;
	atomic_int *go;
	int bad;           /* results other than 0 / -ENOTCONN */
	int bad_value;
	int zero_after;    /* 0 after an -ENOTCONN had been seen */
	long sends;
};

static void *race_send_thread(void *arg)
{
	struct race_send *r = arg;
	bool closed = false;
	int after = 0;

	while (!atomic_load(r->go))
		sched_yield();
	for (long i = 0; i < 200000 && after < 20; i++) {
		int v = evtchnx_send(r->h, r->port);

		r->sends++;
		if (v == -ENOTCONN) {
			closed = true;
			after++;
		} else if (v == 0) {
			if (closed)
				r->zero_after++;
		} else {
			r->bad++;
			r->bad_value = v;
		}
	}
	return NULL;
}

CASE(sends_racing_unbind)
{
	enum { T = 4, ROUNDS = 20 };

	for (int round = 0; round < ROUNDS; round++) {
		struct evtchnx_handle *a, *b;
		struct race_send rs[T];
		pthread_t t[T];
		atomic_int go = 0;
		uint32_t pa, pb;
		int r;

		open_pair(&a, &b);
		h_channel(a, b, &pa, &pb);
		for (int i = 0; i < T; i++) {
			rs[i] = (struct race_send){ .h = a, .port = pa, .go = &go };
			CHECK_EQ(pthread_create(&t[i], NULL, race_send_thread, &rs[i]), 0);
		}
		atomic_store(&go, 1);
		h_sleep_ms(1 + round % 3);
		r = evtchnx_unbind(a, pa);
		for (int i = 0; i < T; i++)
			pthread_join(t[i], NULL);
		CHECK_EQ(r, 0);
		for (int i = 0; i < T; i++) {
			if (rs[i].bad)
				h_fail(__FILE__, __LINE__,
				       "round %d: send returned %d (%s) %d times",
				       round, rs[i].bad_value,
				       evtchnx_strerror(rs[i].bad_value),
				       rs[i].bad);
			CHECK_EQ(rs[i].zero_after, 0);
		}
		CHECK_ERR(evtchnx_unbind(a, pa), ENOTCONN);
		CHECK_UNBOUND(b, SELF, pb, evtchnx_domid(a));
		/* b got at most the one delivery its mask allows. */
		r = evtchnx_pending(b);
		CHECK(r == (int)pb || r == -EAGAIN);
		EXPECT_NONE(b);
		EXPECT_NONE(a);
		close_h(a);
		close_h(b);
	}
}

/* ---- concurrent pending/unmask --------------------------------------------------- */

enum { NCH = 32 };

struct pu_state {
	struct evtchnx_handle *a, *b;
	uint32_t pa[NCH], pb[NCH];
	int16_t idx_of[PORT_SPACE];
	atomic_int sent[NCH];     /* a send is outstanding */
	atomic_int inflight[NCH]; /* taken, not yet unmasked */
	atomic_long delivered;
	atomic_long spurious;
	atomic_int twice;         /* delivered twice without an unmask */
	atomic_int errors;
	atomic_int last_error;
	atomic_int stop;
};

struct pu_thread {
	struct pu_state *s;
	int use_wait;
};

static void *pu_receiver(void *arg)
{
	struct pu_thread *pt = arg;
	struct pu_state *s = pt->s;

	while (!atomic_load(&s->stop)) {
		int r = pt->use_wait ? evtchnx_wait(s->b, 20)
				     : evtchnx_pending(s->b);
		int idx;

		if (r == -EAGAIN || r == -ETIMEDOUT) {
			if (!pt->use_wait)
				sched_yield();
			continue;
		}
		if (r < 0 || (uint32_t)r >= PORT_SPACE || s->idx_of[r] < 0) {
			atomic_fetch_add(&s->errors, 1);
			atomic_store(&s->last_error, r);
			continue;
		}
		idx = s->idx_of[r];
		if (atomic_exchange(&s->inflight[idx], 1))
			atomic_fetch_add(&s->twice, 1);
		if (atomic_exchange(&s->sent[idx], 0))
			atomic_fetch_add(&s->delivered, 1);
		else
			atomic_fetch_add(&s->spurious, 1);
		atomic_store(&s->inflight[idx], 0);
		r = evtchnx_unmask(s->b, (uint32_t)r);
		if (r != 0) {
			atomic_fetch_add(&s->errors, 1);
			atomic_store(&s->last_error, r);
		}
	}
	return NULL;
}

CASE(concurrent_pending_unmask_no_loss)
{
	enum { RECV = 4 };
	/* Fewer on real Xen, whose test machine emulates the CPU. */
	const long SENDS = h_is_xen() ? 2000 : 20000;
	struct pu_state *s = calloc(1, sizeof(*s));
	struct pu_thread pt[RECV];
	pthread_t t[RECV];
	long sends = 0, send_errors = 0;
	int last_send_error = 0;
	uint64_t end;

	CHECK(s != NULL);
	memset(s->idx_of, 0xFF, sizeof(s->idx_of));
	open_pair(&s->a, &s->b);
	for (int i = 0; i < NCH; i++) {
		h_channel(s->a, s->b, &s->pa[i], &s->pb[i]);
		CHECK(s->pb[i] < PORT_SPACE);
		s->idx_of[s->pb[i]] = (int16_t)i;
	}
	for (int i = 0; i < RECV; i++) {
		pt[i] = (struct pu_thread){ .s = s, .use_wait = i % 2 };
		CHECK_EQ(pthread_create(&t[i], NULL, pu_receiver, &pt[i]), 0);
	}
	/* One outstanding send per port at a time: each send must give
	 * exactly one delivery. */
	end = h_now_ms() + 20000;
	for (int i = 0; sends < SENDS && h_now_ms() < end; i = (i + 1) % NCH) {
		int r;

		if (atomic_load(&s->sent[i])) {
			if (i == NCH - 1)
				sched_yield();
			continue;
		}
		atomic_store(&s->sent[i], 1);
		r = evtchnx_send(s->a, s->pa[i]);
		if (r != 0) {
			send_errors++;
			last_send_error = r;
		}
		sends++;
	}
	end = h_now_ms() + 10000;
	while (atomic_load(&s->delivered) + atomic_load(&s->spurious) < sends &&
	       h_now_ms() < end)
		h_sleep_ms(1);
	h_sleep_ms(50); /* let late duplicates show */
	atomic_store(&s->stop, 1);
	for (int i = 0; i < RECV; i++)
		pthread_join(t[i], NULL);

	if (send_errors)
		h_fail(__FILE__, __LINE__, "%ld sends failed, last %d (%s)",
		       send_errors, last_send_error,
		       evtchnx_strerror(last_send_error));
	if (atomic_load(&s->errors))
		h_fail(__FILE__, __LINE__,
		       "%d receiver errors, last result %d (%s)",
		       atomic_load(&s->errors), atomic_load(&s->last_error),
		       evtchnx_strerror(atomic_load(&s->last_error)));
	CHECK_EQ(atomic_load(&s->twice), 0);
	/* No event lost: one delivery per send. */
	if (h_exact_delivery()) {
		CHECK_EQ(atomic_load(&s->delivered), sends);
		CHECK_EQ(atomic_load(&s->spurious), 0);
	} else {
		/* A re-delivery may stand in for the event that follows it. */
		CHECK(atomic_load(&s->delivered) + atomic_load(&s->spurious) >=
		      sends);
	}
	/* All sends were made within the time bound. */
	CHECK_EQ(sends, SENDS);
	EXPECT_NONE(s->b);
	free(s);
}

/* ---- several waiters ------------------------------------------------------------------ */

struct waiter {
	struct evtchnx_handle *h;
	int result;
};

static void *waiter_thread(void *arg)
{
	struct waiter *w = arg;

	w->result = evtchnx_wait(w->h, 10000);
	return NULL;
}

CASE(several_waiters_get_distinct_ports)
{
	enum { W = 3 };
	struct evtchnx_handle *a, *b;
	struct waiter w[W];
	pthread_t t[W];
	uint32_t pa[W], pb[W];
	bool seen[W] = { false };

	open_pair(&a, &b);
	for (int i = 0; i < W; i++)
		h_channel(a, b, &pa[i], &pb[i]);
	for (int i = 0; i < W; i++) {
		w[i] = (struct waiter){ .h = b, .result = 0 };
		CHECK_EQ(pthread_create(&t[i], NULL, waiter_thread, &w[i]), 0);
	}
	h_sleep_ms(100);
	for (int i = 0; i < W; i++)
		CHECK_OK(evtchnx_send(a, pa[i]));
	for (int i = 0; i < W; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < W; i++) {
		int k = -1;

		for (int j = 0; j < W; j++)
			if (w[i].result == (int)pb[j])
				k = j;
		if (k < 0)
			h_fail(__FILE__, __LINE__, "waiter %d got %d (%s)", i,
			       w[i].result, evtchnx_strerror(w[i].result));
		if (seen[k])
			h_fail(__FILE__, __LINE__,
			       "port %u given to two waiters without an unmask",
			       pb[k]);
		seen[k] = true;
	}
	EXPECT_NONE(b);
}

/* ---- concurrent allocation on one handle -------------------------------------------------- */

struct alloc_state {
	struct evtchnx_handle *h;
	atomic_uchar owned[PORT_SPACE];
	atomic_int dup, errors, last_error;
};

static void *alloc_thread(void *arg)
{
	struct alloc_state *s = arg;

	for (int i = 0; i < 300; i++) {
		int p = evtchnx_alloc_unbound(s->h, SELF, 0);
		int r;

		if (p < 1 || (uint32_t)p >= PORT_SPACE) {
			atomic_fetch_add(&s->errors, 1);
			atomic_store(&s->last_error, p);
			continue;
		}
		if (atomic_exchange(&s->owned[p], 1))
			atomic_fetch_add(&s->dup, 1);
		atomic_store(&s->owned[p], 0);
		r = evtchnx_unbind(s->h, (uint32_t)p);
		if (r != 0) {
			atomic_fetch_add(&s->errors, 1);
			atomic_store(&s->last_error, r);
		}
	}
	return NULL;
}

CASE(concurrent_alloc_unbind_one_handle)
{
	enum { T = 4 };
	struct alloc_state *s = calloc(1, sizeof(*s));
	pthread_t t[T];
	int p;

	CHECK(s != NULL);
	s->h = open_dom(1);
	for (int i = 0; i < T; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, alloc_thread, s), 0);
	for (int i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&s->errors))
		h_fail(__FILE__, __LINE__, "%d failed calls, last %d (%s)",
		       atomic_load(&s->errors), atomic_load(&s->last_error),
		       evtchnx_strerror(atomic_load(&s->last_error)));
	CHECK_EQ(atomic_load(&s->dup), 0);
	/* Everything was given back. */
	p = CHECK_OK(evtchnx_alloc_unbound(s->h, SELF, 0));
	if (h_fresh_domains())
		CHECK_EQ(p, 1);
	EXPECT_NONE(s->h);
	free(s);
}

/* ---- handles opened, bound and closed in many threads ------------------------------------------ */

struct obc_state {
	struct evtchnx_handle *c;
	const char *target;
	uint32_t dc;
	atomic_int errors, last_error, last_line;
};

struct obc_thread {
	struct obc_state *s;
	uint32_t domid;
};

#define OBC_EXPECT(cond, val)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			atomic_fetch_add(&s->errors, 1);                       \
			atomic_store(&s->last_error, (val));                   \
			atomic_store(&s->last_line, __LINE__);                 \
			goto out;                                              \
		}                                                              \
	} while (0)

static void *obc_thread_fn(void *arg)
{
	struct obc_thread *ot = arg;
	struct obc_state *s = ot->s;

	for (int i = 0; i < 20; i++) {
		struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = ot->domid };
		struct evtchnx_handle *h = evtchnx_open(s->target, &o);
		struct evtchnx_status st;
		int p, q, r;

		OBC_EXPECT(h != NULL, -errno);
		p = evtchnx_alloc_unbound(h, SELF, s->dc);
		if (p < 1)
			evtchnx_close(h);
		OBC_EXPECT(p >= 1, p);
		q = evtchnx_bind_interdomain(s->c, (uint32_t)evtchnx_domid(h),
					     (uint32_t)p);
		if (q < 1)
			evtchnx_close(h);
		OBC_EXPECT(q >= 1, q);
		r = evtchnx_send(h, (uint32_t)p);
		if (r != 0)
			evtchnx_close(h);
		OBC_EXPECT(r == 0, r);
		if (i % 2) {
			r = evtchnx_unbind(s->c, (uint32_t)q);
			if (r != 0)
				evtchnx_close(h);
			OBC_EXPECT(r == 0, r);
			evtchnx_close(h);
		} else {
			evtchnx_close(h);
			memset(&st, 0, sizeof(st));
			st.sz = sizeof(st);
			r = evtchnx_status(s->c, SELF, (uint32_t)q, &st);
			OBC_EXPECT(r == 0, r);
			OBC_EXPECT(st.state == EVTCHNX_STATE_UNBOUND,
				   (int)st.state);
			r = evtchnx_unbind(s->c, (uint32_t)q);
			OBC_EXPECT(r == 0, r);
		}
	}
out:
	return NULL;
}

CASE(concurrent_open_bind_close)
{
	enum { T = 4 };
	struct obc_state s;
	struct obc_thread ot[T];
	pthread_t t[T];

	memset(&s, 0, sizeof(s));
	s.c = open_dom(0);
	s.target = h_target();
	s.dc = (uint32_t)evtchnx_domid(s.c);
	for (int i = 0; i < T; i++) {
		ot[i] = (struct obc_thread){ .s = &s, .domid = h_dom(10 + (uint32_t)i) };
		CHECK_EQ(pthread_create(&t[i], NULL, obc_thread_fn, &ot[i]), 0);
	}
	for (int i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&s.errors))
		h_fail(__FILE__, __LINE__,
		       "%d thread failures, last at line %d: %d (%s)",
		       atomic_load(&s.errors), atomic_load(&s.last_line),
		       atomic_load(&s.last_error),
		       evtchnx_strerror(atomic_load(&s.last_error)));
	/* Every port of c was closed: none of the events it was sent may be
	 * delivered now. */
	EXPECT_NONE(s.c);
	if (!h_is_xen()) {
		for (int i = 0; i < T; i++) {
			struct evtchnx_status st;

			CHECK_ERR(h_status(s.c, 10 + (uint32_t)i, 0, &st), ESRCH);
		}
		CHECK_EQ(evtchnx_alloc_unbound(s.c, SELF, 0), 1);
	}
}

/* ---- status during traffic; reset during traffic ---------------------------------------------- */

struct traffic {
	struct evtchnx_handle *h;
	uint32_t port;
	int mode; /* 0 send, 1 status, 2 receive */
	atomic_int *stop;
	int bad, bad_value;
};

static void *traffic_thread(void *arg)
{
	struct traffic *tr = arg;

	while (!atomic_load(tr->stop)) {
		struct evtchnx_status st;
		int r;

		switch (tr->mode) {
		case 0:
			r = evtchnx_send(tr->h, tr->port);
			if (r != 0 && r != -ENOTCONN) {
				tr->bad++;
				tr->bad_value = r;
			}
			break;
		case 1:
			r = h_status(tr->h, SELF, tr->port, &st);
			if (r != 0) {
				tr->bad++;
				tr->bad_value = r;
			}
			break;
		default:
			r = evtchnx_wait(tr->h, 5);
			if (r >= 0) {
				r = evtchnx_unmask(tr->h, (uint32_t)r);
				if (r != 0 && r != -ENOTCONN) {
					tr->bad++;
					tr->bad_value = r;
				}
			} else if (r != -ETIMEDOUT) {
				tr->bad++;
				tr->bad_value = r;
			}
			break;
		}
	}
	return NULL;
}

CASE(status_during_traffic)
{
	struct evtchnx_handle *a, *b;
	struct traffic tr[4];
	pthread_t t[4];
	atomic_int stop = 0;
	uint32_t pa, pb;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	tr[0] = (struct traffic){ .h = a, .port = pa, .mode = 0, .stop = &stop };
	tr[1] = (struct traffic){ .h = a, .port = pa, .mode = 1, .stop = &stop };
	tr[2] = (struct traffic){ .h = b, .port = pb, .mode = 1, .stop = &stop };
	tr[3] = (struct traffic){ .h = b, .port = pb, .mode = 2, .stop = &stop };
	for (int i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, traffic_thread, &tr[i]), 0);
	h_sleep_ms(300);
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++)
		if (tr[i].bad)
			h_fail(__FILE__, __LINE__, "thread %d: %d bad results, last %d (%s)",
			       i, tr[i].bad, tr[i].bad_value,
			       evtchnx_strerror(tr[i].bad_value));
	CHECK_INTERDOMAIN(a, SELF, pa, evtchnx_domid(b), pb);
}

CASE(reset_during_traffic)
{
	struct evtchnx_handle *c, *a, *b;
	struct traffic tr[3];
	pthread_t t[3];
	atomic_int stop = 0;
	uint32_t pa, pb;

	require_sim(H_XEN_RESET_OTHER);
	c = open_dom(0);
	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	tr[0] = (struct traffic){ .h = b, .port = pb, .mode = 0, .stop = &stop };
	tr[1] = (struct traffic){ .h = a, .port = pa, .mode = 0, .stop = &stop };
	tr[2] = (struct traffic){ .h = a, .port = pa, .mode = 2, .stop = &stop };
	for (int i = 0; i < 3; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, traffic_thread, &tr[i]), 0);
	h_sleep_ms(50);
	CHECK_EQ(evtchnx_reset(c, 1), 0);
	h_sleep_ms(50);
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 3; i++)
		if (tr[i].bad)
			h_fail(__FILE__, __LINE__, "thread %d: %d bad results, last %d (%s)",
			       i, tr[i].bad, tr[i].bad_value,
			       evtchnx_strerror(tr[i].bad_value));
	CHECK_UNBOUND(b, SELF, pb, 1);
	CHECK_CLOSED(c, 1, pa);
	CHECK_ERR(evtchnx_send(a, pa), ENOTCONN);
	EXPECT_NONE(a);
	CHECK_EQ(evtchnx_alloc_unbound(a, SELF, 0), 1);
}

/* ---- the opener busy when a second thread starts -------------------------------- */

struct late_caller {
	struct evtchnx_handle *h;
	uint32_t remote;
	atomic_int *go;
	int ops;
	int bad;
	int bad_value;
};

/* Allocates, inspects and frees ports of a handle another thread is busy
 * with; its first call is the handle's first from a second thread. */
static void *late_caller_thread(void *arg)
{
	struct late_caller *lc = arg;

	while (!atomic_load(lc->go))
		;
	for (int i = 0; i < 200; i++) {
		struct evtchnx_status st = { .sz = sizeof(st) };
		int p = evtchnx_alloc_unbound(lc->h, SELF, lc->remote);
		int r = p < 0 ? p : evtchnx_status(lc->h, SELF, (uint32_t)p, &st);

		if (r == 0 && st.state != EVTCHNX_STATE_UNBOUND)
			r = -EPROTO;
		if (r == 0)
			r = evtchnx_unbind(lc->h, (uint32_t)p);
		lc->ops++;
		if (r != 0) {
			lc->bad++;
			lc->bad_value = r;
		}
	}
	return NULL;
}

/*
 * The thread that opened a handle is in the middle of a stream of calls
 * when another thread makes its first call on the same handle.  Both see
 * every call succeed, and no event goes missing.
 */
static void busy_opener_rounds(int rounds, int calls)
{
	for (int round = 0; round < rounds; round++) {
		struct evtchnx_handle *a, *b;
		struct late_caller lc;
		atomic_int go = 0;
		pthread_t t;
		uint32_t pa, pb;
		int bad = 0, bad_value = 0, got = 0;

		open_pair(&a, &b);
		h_channel(a, b, &pa, &pb);
		lc = (struct late_caller){ .h = a, .remote = (uint32_t)evtchnx_domid(b),
					   .go = &go };
		CHECK_EQ(pthread_create(&t, NULL, late_caller_thread, &lc), 0);
		for (int i = 0; i < calls; i++) {
			int r;

			if (i == (round % 10 + 1) * calls / 20)
				atomic_store(&go, 1);
			/* Quick calls, and slow ones that ask the lab (or the
			 * hypervisor), so the second thread finds one running. */
			if (i & 1) {
				struct evtchnx_status st = { .sz = sizeof(st) };

				r = evtchnx_status(a, SELF, pa, &st);
				if (r == 0 && st.state != EVTCHNX_STATE_INTERDOMAIN)
					r = -EPROTO;
			} else {
				r = evtchnx_send(a, pa);
			}
			if (r == 0 && (i & 7) == 0) {
				r = evtchnx_wait(b, 10000);
				if (r == (int)pb) {
					got++;
					r = evtchnx_unmask(b, pb);
				}
			}
			if (r != 0) {
				bad++;
				bad_value = r;
			}
		}
		atomic_store(&go, 1);
		pthread_join(t, NULL);
		if (bad || lc.bad)
			h_fail(__FILE__, __LINE__,
			       "round %d: opener %d bad (last %d), second thread %d bad (last %d)",
			       round, bad, bad_value, lc.bad, lc.bad_value);
		CHECK_EQ(lc.ops, 200);
		CHECK_EQ(got, calls / 8);
		CHECK_INTERDOMAIN(a, SELF, pa, evtchnx_domid(b), pb);
		close_h(a);
		close_h(b);
	}
}

CASE(second_thread_joins_a_busy_opener)
{
	/* Fewer on real Xen: every call there is a system call, emulated. */
	busy_opener_rounds(h_is_xen() ? 4 : 30, h_is_xen() ? 2000 : 20000);
}

/* The same in a child process, which opens its handles after fork(). */
CASE(second_thread_joins_a_busy_opener_after_fork)
{
	pid_t pid = h_fork();

	if (pid == 0) {
		busy_opener_rounds(h_is_xen() ? 2 : 10, h_is_xen() ? 1000 : 10000);
		h_child_exit(0);
	}
	CHECK_EQ(h_wait_child(pid, 60000), 0);
}
