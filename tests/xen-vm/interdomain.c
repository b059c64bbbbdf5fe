/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * interdomain.c - the inter-domain cases with one end in each domain.
 *
 * On real Xen (EVTCHNX_TEST_TARGET=xen) one end is a handle of dom0 and
 * the other a handle of the guest named by $EVTCHNX_XEN_GUEST, driven over
 * the guest's console (xpeer.h); without a guest every case is skipped.  On the sim
 * the same cases run with the control domain 0 and guest domain 1 of one
 * lab, so both targets are judged by the same checks.  The last case
 * destroys the guest (xl destroy on Xen).
 */
#include "harness.h"
#include "xpeer.h"

#include <stdio.h>
#include <stdlib.h>

static struct xp_side d, g;
static uint32_t G; /* the guest's domid */
/* On the sim, a second handle of the guest's domain keeps it alive when
 * the case closes g, as the guest's kernel does on Xen. */
static struct evtchnx_handle *gk;

/* dom0's side (d) and a fresh guest handle (g). */
static void two(void)
{
	static bool remote_open;

	if (h_is_xen()) {
		static int failed;

		if (failed < 0)
			h_skip("the guest's peer does not answer on "
			       "its console (%s; its console follows)",
			       evtchnx_strerror(failed));
		if (xp_guest() < 0) {
			failed = xp_connect(30000);
			if (failed < 0)
				h_skip("the guest's peer does not answer on "
				       "its console (%s; its console follows)",
				       evtchnx_strerror(failed));
		}
		if (remote_open)
			xs_close_side(&g);
		remote_open = false;
		G = xp_guest();
		xs_local(&d, open_dom(0));
		CHECK_OK(xs_remote(&g));
		remote_open = true;
	} else {
		G = 1;
		xs_local(&d, open_dom(0));
		xs_local(&g, open_dom(1));
		gk = open_dom(1);
	}
	CHECK_EQ(xs_domid(&g), G);
	CHECK_EQ(xs_domid(&d), 0);
}

/* Close the guest's handle. */
static void close_g(void)
{
	if (g.remote) {
		xs_close_side(&g);
	} else {
		close_h(g.h);
		g.h = NULL;
	}
}

static int settle(void)
{
	return h_is_xen() ? 3000 : 0;
}

static void s_check(struct xp_side *s, uint32_t dom, uint32_t port,
		    uint32_t state, long long rdom, long long rport,
		    const char *file, int line)
{
	struct evtchnx_status st;
	int r = xs_status(s, dom, port, &st);

	if (r < 0)
		h_fail(file, line, "status(%u, %u) on the %s: %s", dom, port,
		       s->remote ? "guest" : "dom0", evtchnx_strerror(r));
	if (st.state != state || (rdom >= 0 && st.remote_domid != rdom) ||
	    (rport >= 0 && st.remote_port != rport))
		h_fail(file, line,
		       "status(%u, %u) on the %s: state %u remote %u:%u, "
		       "expected state %u remote %lld:%lld",
		       dom, port, s->remote ? "guest" : "dom0", st.state,
		       st.remote_domid, st.remote_port, state, rdom, rport);
}

#define S_CHECK(s, dom, port, state, rdom, rport)                              \
	s_check((s), (dom), (port), (state), (rdom), (rport), __FILE__, __LINE__)

/* The next port taken on @s is @port. */
#define TAKE(s, port) CHECK_EQ(xs_wait((s), settle()), (port))
/* Nothing deliverable on @s. */
#define NONE(s) CHECK_EQ(xs_wait((s), h_is_xen() ? 300 : 0), -ETIMEDOUT)

/* Unmask a taken port; real Xen may deliver once more an event that came
 * just before the take (allowed): take that one and unmask again. */
static void unmask(struct xp_side *s, uint32_t port)
{
	CHECK_OK(xs_unmask(s, port));
	if (h_exact_delivery())
		return;
	if (xs_wait(s, 100) == (int)port)
		CHECK_OK(xs_unmask(s, port));
}

/* dom0 offers, the guest binds; the bind's event is taken. */
static void chan_d_offers(uint32_t *pd, uint32_t *pg)
{
	*pd = CHECK_OK(xs_alloc(&d, SELF, G));
	*pg = CHECK_OK(xs_bind(&g, 0, *pd));
	TAKE(&g, *pg);
	unmask(&g, *pg);
}

CASE(guest_offers_dom0_binds)
{
	uint32_t p, q;

	two();
	p = CHECK_OK(xs_alloc(&g, SELF, 0));
	S_CHECK(&g, SELF, p, EVTCHNX_STATE_UNBOUND, 0, -1);
	S_CHECK(&d, G, p, EVTCHNX_STATE_UNBOUND, 0, -1);
	q = CHECK_OK(xs_bind(&d, G, p));
	S_CHECK(&d, SELF, q, EVTCHNX_STATE_INTERDOMAIN, G, p);
	S_CHECK(&g, SELF, p, EVTCHNX_STATE_INTERDOMAIN, 0, q);
	S_CHECK(&d, G, p, EVTCHNX_STATE_INTERDOMAIN, 0, q);
	/* The bind leaves the new port pending. */
	TAKE(&d, q);
	unmask(&d, q);
	NONE(&g);
	/* Both ways. */
	CHECK_OK(xs_send(&d, q));
	TAKE(&g, p);
	unmask(&g, p);
	CHECK_OK(xs_send(&g, p));
	TAKE(&d, q);
	unmask(&d, q);
	NONE(&d);
	NONE(&g);
}

CASE(dom0_offers_guest_binds)
{
	uint32_t p, q;

	two();
	p = CHECK_OK(xs_alloc(&d, SELF, G));
	S_CHECK(&d, SELF, p, EVTCHNX_STATE_UNBOUND, G, -1);
	q = CHECK_OK(xs_bind(&g, 0, p));
	S_CHECK(&g, SELF, q, EVTCHNX_STATE_INTERDOMAIN, 0, p);
	S_CHECK(&d, SELF, p, EVTCHNX_STATE_INTERDOMAIN, G, q);
	CHECK_EQ(xs_ispend(&g, q), 1);
	TAKE(&g, q);
	unmask(&g, q);
	CHECK_OK(xs_send(&g, q));
	TAKE(&d, p);
	unmask(&d, p);
	CHECK_OK(xs_send(&d, p));
	TAKE(&g, q);
	unmask(&g, q);
	NONE(&d);
	NONE(&g);
}

CASE(sends_coalesce_across_domains)
{
	uint32_t p, q;
	int r;

	two();
	chan_d_offers(&p, &q);
	CHECK_OK(xs_send(&d, p));
	CHECK_OK(xs_send(&d, p));
	CHECK_OK(xs_send(&d, p));
	TAKE(&g, q);
	/* A send while the port is taken is latched, then delivered after
	 * the unmask. */
	CHECK_OK(xs_send(&d, p));
	CHECK_OK(xs_unmask(&g, q));
	TAKE(&g, q);
	CHECK_OK(xs_unmask(&g, q));
	r = xs_wait(&g, h_is_xen() ? 300 : 0);
	if (h_exact_delivery())
		CHECK_EQ(r, -ETIMEDOUT);
	else if (r == (int)q)
		CHECK_OK(xs_unmask(&g, q));
	NONE(&g);
}

CASE(batch_in_guest)
{
	uint32_t p1, q1, p2, q2, got[8];
	int n;

	two();
	chan_d_offers(&p1, &q1);
	chan_d_offers(&p2, &q2);
	CHECK_OK(xs_send(&d, p2));
	CHECK_OK(xs_send(&d, p1));
	CHECK_EQ(xs_readable(&g, settle()), 1);
	if (h_is_xen())
		h_sleep_ms(200);
	n = CHECK_OK(xs_batch(&g, got, 8));
	CHECK_EQ(n, 2);
	CHECK_EQ(got[0], q2);
	CHECK_EQ(got[1], q1);
	unmask(&g, q1);
	unmask(&g, q2);
	NONE(&g);
}

CASE(dom0_allocs_in_guest_for_dom0)
{
	uint32_t p, q;

	two();
	p = CHECK_OK(xs_alloc(&d, G, SELF));
	/* DOMID_SELF names the caller, dom0, not the port's domain. */
	S_CHECK(&d, G, p, EVTCHNX_STATE_UNBOUND, 0, -1);
	S_CHECK(&g, SELF, p, EVTCHNX_STATE_UNBOUND, 0, -1);
	/* No handle of the guest owns it. */
	CHECK_ERR(xs_send(&g, p), ENOTCONN);
	q = CHECK_OK(xs_bind(&d, G, p));
	S_CHECK(&d, SELF, q, EVTCHNX_STATE_INTERDOMAIN, G, p);
	S_CHECK(&g, SELF, p, EVTCHNX_STATE_INTERDOMAIN, 0, q);
	TAKE(&d, q);
	unmask(&d, q);
	CHECK_OK(xs_unbind(&d, q));
	S_CHECK(&g, SELF, p, EVTCHNX_STATE_UNBOUND, 0, -1);
}

CASE(dom0_allocs_in_guest_for_guest)
{
	uint32_t p, q;

	two();
	p = CHECK_OK(xs_alloc(&d, G, G));
	S_CHECK(&d, G, p, EVTCHNX_STATE_UNBOUND, G, -1);
	/* dom0 may not bind it: it is offered to the guest. */
	CHECK_ERR(xs_bind(&d, G, p), EINVAL);
	q = CHECK_OK(xs_bind(&g, SELF, p));
	S_CHECK(&g, SELF, q, EVTCHNX_STATE_INTERDOMAIN, G, p);
	S_CHECK(&d, G, p, EVTCHNX_STATE_INTERDOMAIN, G, q);
	CHECK_OK(xs_unbind(&g, q));
	S_CHECK(&d, G, p, EVTCHNX_STATE_UNBOUND, G, -1);
	S_CHECK(&d, G, q, EVTCHNX_STATE_CLOSED, -1, -1);
}

CASE(guest_is_not_privileged)
{
	uint32_t p;

	two();
	p = CHECK_OK(xs_alloc(&d, SELF, G));
	CHECK_ERR(xs_alloc(&g, 0, G), EPERM);
	CHECK_ERR(xs_status(&g, 0, p, &(struct evtchnx_status){ 0 }), EPERM);
	CHECK_ERR(xs_reset(&g, 0), EPERM);
	CHECK_ERR(xs_status(&g, 0x7000, 1, &(struct evtchnx_status){ 0 }),
		  ESRCH);
	CHECK_ERR(xs_bind(&g, 0x7000, 1), ESRCH);
	CHECK_ERR(xs_alloc(&g, 0x7000, 0), ESRCH);
	/* What dom0 may do in the guest's name. */
	S_CHECK(&d, G, 0, EVTCHNX_STATE_CLOSED, -1, -1);
	CHECK_ERR(xs_status(&d, G, 0xFFFFFFFF, &(struct evtchnx_status){ 0 }),
		  EINVAL);
}

CASE(bind_needs_the_offer)
{
	uint32_t p, p2;

	two();
	p = CHECK_OK(xs_alloc(&d, SELF, SELF));
	S_CHECK(&d, SELF, p, EVTCHNX_STATE_UNBOUND, 0, -1);
	CHECK_ERR(xs_bind(&g, 0, p), EINVAL);
	p2 = CHECK_OK(xs_alloc(&d, SELF, G));
	CHECK_ERR(xs_bind(&d, SELF, p2), EINVAL);
	CHECK_ERR(xs_bind(&g, 0, 0), EINVAL);
	CHECK_ERR(xs_bind(&g, 0, 0xFFFFFFFF), EINVAL);
	/* Nothing changed. */
	S_CHECK(&d, SELF, p, EVTCHNX_STATE_UNBOUND, 0, -1);
	S_CHECK(&d, SELF, p2, EVTCHNX_STATE_UNBOUND, G, -1);
}

CASE(bind_virq_in_guest)
{
	int v = -1, port = -1;

	two();
	CHECK_ERR(xs_virq(&g, EVTCHNX_NR_VIRQS), EINVAL);
	/* The guest's kernel holds the timer and a few more: the first
	 * per-vCPU virq it left free. */
	for (uint32_t i = 1; i < 8 && port < 0; i++) {
		if (i == 2 || i == 3 || i == 4)
			continue; /* global ones (console, dom_exc, ...) */
		port = xs_virq(&g, i);
		v = i;
	}
	if (port < 0)
		h_skip("the guest's kernel binds every per-vCPU virq tried");
	h_note("virq %d -> port %d", v, port);
	S_CHECK(&g, SELF, port, EVTCHNX_STATE_VIRQ, -1, -1);
	S_CHECK(&d, G, port, EVTCHNX_STATE_VIRQ, -1, -1);
	CHECK_ERR(xs_virq(&g, v), EEXIST);
	CHECK_ERR(xs_send(&g, port), EINVAL);
	CHECK_OK(xs_unbind(&g, port));
	S_CHECK(&d, G, port, EVTCHNX_STATE_CLOSED, -1, -1);
}

CASE(guest_unbind_leaves_dom0_unbound)
{
	uint32_t p, q;

	two();
	chan_d_offers(&p, &q);
	CHECK_OK(xs_unbind(&g, q));
	/* Xen does not tell the survivor. */
	S_CHECK(&d, SELF, p, EVTCHNX_STATE_UNBOUND, G, -1);
	CHECK_OK(xs_send(&d, p));
	NONE(&g);
	NONE(&d);
	CHECK_ERR(xs_unbind(&g, q), ENOTCONN);
	/* The same guest may bind it again. */
	q = CHECK_OK(xs_bind(&g, 0, p));
	S_CHECK(&d, SELF, p, EVTCHNX_STATE_INTERDOMAIN, G, q);
	TAKE(&g, q);
	unmask(&g, q);
	CHECK_OK(xs_send(&g, q));
	TAKE(&d, p);
	unmask(&d, p);
}

CASE(dom0_unbind_leaves_guest_unbound)
{
	uint32_t p, q;

	two();
	chan_d_offers(&p, &q);
	CHECK_OK(xs_send(&d, p));
	CHECK_OK(xs_unbind(&d, p));
	S_CHECK(&g, SELF, q, EVTCHNX_STATE_UNBOUND, 0, -1);
	/* The event sent before the close is still delivered. */
	TAKE(&g, q);
	unmask(&g, q);
	CHECK_OK(xs_send(&g, q));
	NONE(&g);
}

CASE(guest_handle_close)
{
	uint32_t p, q, p2, q2;

	two();
	chan_d_offers(&p, &q);
	chan_d_offers(&p2, &q2);
	close_g();
	S_CHECK(&d, SELF, p, EVTCHNX_STATE_UNBOUND, G, -1);
	S_CHECK(&d, SELF, p2, EVTCHNX_STATE_UNBOUND, G, -1);
	S_CHECK(&d, G, q, EVTCHNX_STATE_CLOSED, -1, -1);
}

/* A dom0 handle restricted to the guest binds only the guest's offers. */
CASE(restrict_to_guest)
{
	struct evtchnx_handle *d2;
	uint32_t o, p, q;

	two();
	d2 = open_dom(0);
	o = CHECK_OK(evtchnx_alloc_unbound(d2, SELF, SELF));
	p = CHECK_OK(xs_alloc(&g, SELF, 0));
	CHECK_OK(evtchnx_restrict(d.h, G));
	CHECK_ERR(xs_bind(&d, SELF, o), EACCES);
	CHECK_ERR(xs_bind(&d, 0, o), EACCES);
	S_CHECK(&d, SELF, o, EVTCHNX_STATE_UNBOUND, 0, -1);
	q = CHECK_OK(xs_bind(&d, G, p));
	S_CHECK(&g, SELF, p, EVTCHNX_STATE_INTERDOMAIN, 0, q);
	TAKE(&d, q);
	unmask(&d, q);
	CHECK_OK(xs_send(&g, p));
	TAKE(&d, q);
	unmask(&d, q);
	CHECK_OK(xs_send(&d, q));
	TAKE(&g, p);
	unmask(&g, p);
	CHECK_OK(evtchnx_unbind(d2, o));
}

/* Last: dom0 resets the guest's channels, then the guest goes away with
 * channels open.  A reset also closes the guest kernel's own channels (its
 * console: the way to its peer), so the rest of the case uses ports dom0
 * allocates in the guest's name. */
CASE(guest_reset_then_destroyed)
{
	uint32_t p, q, p2, q2;
	char cmd[64];

	two();
	chan_d_offers(&p, &q);
	if (h_is_xen()) {
		/* Xen resets another domain only while it is paused (the sim
		 * has no pause: there the reset goes through at once). */
		CHECK_ERR(xs_reset(&d, G), EINVAL);
		snprintf(cmd, sizeof(cmd), "xl pause %u", G);
		CHECK_EQ(system(cmd), 0);
	}
	CHECK_OK(xs_reset(&d, G));
	/* dom0's end is UNBOUND with the guest's domid kept; every port of
	 * the guest is closed, so the next allocation there is port 1. */
	S_CHECK(&d, SELF, p, EVTCHNX_STATE_UNBOUND, G, -1);
	S_CHECK(&d, G, q, EVTCHNX_STATE_CLOSED, -1, -1);
	CHECK_OK(xs_send(&d, p));
	NONE(&d);
	p2 = CHECK_OK(xs_alloc(&d, G, SELF));
	CHECK_EQ(p2, 1);
	q2 = CHECK_OK(xs_bind(&d, G, p2));
	S_CHECK(&d, G, p2, EVTCHNX_STATE_INTERDOMAIN, 0, q2);
	TAKE(&d, q2);
	unmask(&d, q2);
	if (h_is_xen()) {
		snprintf(cmd, sizeof(cmd), "xl destroy %u", G);
		CHECK_EQ(system(cmd), 0);
		g.idx = -1; /* its peer is gone with it */
	} else {
		close_g();
		close_h(gk);
	}
	/* The remote domid is kept. */
	S_CHECK(&d, SELF, q2, EVTCHNX_STATE_UNBOUND, G, -1);
	S_CHECK(&d, SELF, p, EVTCHNX_STATE_UNBOUND, G, -1);
	CHECK_OK(xs_send(&d, q2));
	CHECK_ERR(xs_status(&d, G, p2, &(struct evtchnx_status){ 0 }), ESRCH);
	CHECK_ERR(xs_bind(&d, G, p2), ESRCH);
	CHECK_ERR(xs_alloc(&d, G, 0), ESRCH);
	CHECK_ERR(xs_reset(&d, G), ESRCH);
	NONE(&d);
	CHECK_OK(xs_unbind(&d, q2));
	CHECK_OK(xs_unbind(&d, p));
}
