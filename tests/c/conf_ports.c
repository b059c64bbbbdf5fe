/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * conf_ports.c - port life cycle: alloc_unbound, bind_interdomain, status,
 * unbind, reset, restrict, adopt, domain creation and destruction, and the
 * port and domain limits; every errno in the documented order.
 */
#include "harness.h"

#include <string.h>

#define NODOM 77u /* a domid nobody uses in this file */

/* Allocate every free port of @h's domain from @first on, checking that
 * they come in order up to the last one, then -ENOSPC. */
static void fill_ports(struct evtchnx_handle *h, uint32_t remote,
		       uint32_t first)
{
	for (uint32_t i = first; i < EVTCHNX_SIM_MAX_PORTS; i++) {
		int p = evtchnx_alloc_unbound(h, SELF, remote);

		if (p != (int)i)
			CHECK_EQ(p, i);
	}
	CHECK_ERR(evtchnx_alloc_unbound(h, SELF, remote), ENOSPC);
}

/* ---- alloc_unbound ----------------------------------------------------------- */

CASE(alloc_unbound_basic)
{
	struct evtchnx_handle *a, *b;
	int p;

	open_pair(&a, &b);
	p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, evtchnx_domid(b)));
	CHECK(p >= 1);
	if (h_fresh_domains())
		CHECK_EQ(p, 1);
	CHECK_UNBOUND(a, SELF, p, evtchnx_domid(b));
	CHECK_UNBOUND(a, evtchnx_domid(a), p, evtchnx_domid(b));
	/* Allocated in its own domain, the port belongs to the handle. */
	CHECK_EQ(evtchnx_is_pending(a, p), 0);
	CHECK_OK(evtchnx_unmask(a, p));
	EXPECT_NONE(a);
	EXPECT_NONE(b);
	CHECK_OK(evtchnx_unbind(a, p));
	CHECK_CLOSED(a, SELF, p);
}

CASE(alloc_own_domid_as_dom)
{
	struct evtchnx_handle *a = open_dom(1);
	int p = CHECK_OK(evtchnx_alloc_unbound(a, evtchnx_domid(a), h_dom(2)));

	CHECK_UNBOUND(a, SELF, p, h_dom(2));
	CHECK_OK(evtchnx_send(a, p));
	CHECK_OK(evtchnx_unbind(a, p));
}

CASE(alloc_remote_self_means_caller)
{
	struct evtchnx_handle *a = open_dom(1);
	int p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, SELF));

	CHECK_UNBOUND(a, SELF, p, evtchnx_domid(a));
}

CASE(alloc_remote_not_validated)
{
	struct evtchnx_handle *a = open_dom(1);
	int p;

	/* The remote domain may not exist yet. */
	p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, NODOM));
	CHECK_UNBOUND(a, SELF, p, NODOM);
	p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, 0x7FEF));
	CHECK_UNBOUND(a, SELF, p, 0x7FEF);
}

CASE(alloc_missing_domain_esrch)
{
	struct evtchnx_handle *a = open_dom(1);

	/* -ESRCH comes first, before the privilege check. */
	CHECK_ERR(evtchnx_alloc_unbound(a, NODOM, SELF), ESRCH);
	CHECK_ERR(evtchnx_alloc_unbound(a, NODOM, 0), ESRCH);
	CHECK_ERR(evtchnx_alloc_unbound(a, 0x7FF1, SELF), ESRCH);
	CHECK_ERR(evtchnx_alloc_unbound(a, 0xFFFF, SELF), ESRCH);
}

CASE(alloc_for_other_domain_eperm)
{
	struct evtchnx_handle *a, *b;

	require_multi_domain();
	open_pair(&a, &b);
	CHECK_ERR(evtchnx_alloc_unbound(a, evtchnx_domid(b), SELF), EPERM);
	CHECK_ERR(evtchnx_alloc_unbound(a, evtchnx_domid(b), evtchnx_domid(b)),
		  EPERM);
	CHECK_ERR(evtchnx_alloc_unbound(a, 0, SELF), EPERM);
	CHECK_ERR(evtchnx_alloc_unbound(a, 0, 0), EPERM);
	/* Nothing was allocated in b. */
	CHECK_EQ(evtchnx_alloc_unbound(b, SELF, 0), 1);
	CHECK_CLOSED(b, SELF, 2);
}

CASE(alloc_errno_order_full_domain)
{
	struct evtchnx_handle *c, *a, *b;

	require_sim("fills a domain's whole port table (the sim's limit)");
	c = open_dom(0);
	open_pair(&a, &b);
	fill_ports(b, 0, 1);
	/* ESRCH, then ENOSPC, then EPERM. */
	CHECK_ERR(evtchnx_alloc_unbound(a, evtchnx_domid(b), SELF), ENOSPC);
	CHECK_ERR(evtchnx_alloc_unbound(c, evtchnx_domid(b), SELF), ENOSPC);
	CHECK_ERR(evtchnx_alloc_unbound(a, NODOM, SELF), ESRCH);
	CHECK_ERR(evtchnx_alloc_unbound(b, SELF, 0), ENOSPC);
	/* a's own domain is not full. */
	CHECK_EQ(evtchnx_alloc_unbound(a, SELF, 0), 1);
}

CASE(alloc_on_behalf_by_control)
{
	struct evtchnx_handle *c, *b;
	uint32_t db;
	int pb, pc, pb2;

	require_multi_domain();
	c = open_dom(0);
	b = open_dom(2);
	db = (uint32_t)evtchnx_domid(b);
	pb = CHECK_OK(evtchnx_alloc_unbound(c, db, SELF));
	CHECK_EQ(pb, 1);
	/* remote SELF is stored as the caller's domid: 0. */
	CHECK_UNBOUND(c, db, pb, 0);
	CHECK_UNBOUND(b, SELF, pb, 0);
	/* The port belongs to no handle. */
	CHECK_ERR(evtchnx_send(b, pb), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(b, pb), ENOTCONN);
	CHECK_ERR(evtchnx_unmask(b, pb), ENOTCONN);
	CHECK_ERR(evtchnx_is_pending(b, pb), ENOTCONN);
	/* Nor does the control domain own a port of b. */
	CHECK_ERR(evtchnx_send(c, pb), ENOTCONN);
	/* An explicit remote is stored as given. */
	pb2 = CHECK_OK(evtchnx_alloc_unbound(c, db, 5));
	CHECK_EQ(pb2, 2);
	CHECK_UNBOUND(c, db, pb2, 5);
	/* b's next allocation is first-fit after them. */
	CHECK_EQ(evtchnx_alloc_unbound(b, SELF, 0), 3);
	/* The control domain binds the port it offered to itself. */
	pc = CHECK_OK(evtchnx_bind_interdomain(c, db, pb));
	CHECK_INTERDOMAIN(c, SELF, pc, db, pb);
	CHECK_INTERDOMAIN(c, db, pb, 0, pc);
	CHECK_INTERDOMAIN(b, SELF, pb, 0, pc);
	EXPECT_PORT(c, pc);
}

/* ---- first fit ------------------------------------------------------------------ */

CASE(first_fit_lowest_free)
{
	struct evtchnx_handle *h = open_dom(1);
	int p1, p2, p3;

	p1 = CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
	p2 = CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
	p3 = CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
	if (h_fresh_domains()) {
		CHECK_EQ(p1, 1);
		CHECK_EQ(p2, 2);
		CHECK_EQ(p3, 3);
	}
	CHECK(p1 < p2 && p2 < p3);
	CHECK_OK(evtchnx_unbind(h, p2));
	CHECK_EQ(evtchnx_alloc_unbound(h, SELF, 0), p2);
	CHECK_OK(evtchnx_unbind(h, p1));
	CHECK_OK(evtchnx_unbind(h, p3));
	CHECK_EQ(evtchnx_alloc_unbound(h, SELF, 0), p1);
	CHECK_EQ(evtchnx_alloc_unbound(h, SELF, 0), p3);
}

CASE(first_fit_shared_namespace)
{
	struct evtchnx_handle *h1 = open_dom(1);
	struct evtchnx_handle *h2 = open_dom(1);
	int p1, p2;

	p1 = CHECK_OK(evtchnx_alloc_unbound(h1, SELF, 0));
	p2 = CHECK_OK(evtchnx_alloc_unbound(h2, SELF, 0));
	CHECK(p1 != p2);
	if (h_fresh_domains()) {
		CHECK_EQ(p1, 1);
		CHECK_EQ(p2, 2);
	}
	CHECK_OK(evtchnx_unbind(h1, p1));
	CHECK_EQ(evtchnx_alloc_unbound(h2, SELF, 0), p1);
	/* Each handle owns what it allocated. */
	CHECK_ERR(evtchnx_unbind(h1, p1), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(h1, p2), ENOTCONN);
	CHECK_OK(evtchnx_unbind(h2, p1));
	CHECK_OK(evtchnx_unbind(h2, p2));
}

CASE(first_fit_across_kinds)
{
	struct evtchnx_handle *a, *b;
	int pa, pb, pv;

	require_sim("virq binding on xen depends on the running kernel");
	open_pair(&a, &b);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, 2));
	CHECK_EQ(pa, 1);
	CHECK_EQ(evtchnx_alloc_unbound(b, SELF, 0), 1);
	pb = CHECK_OK(evtchnx_bind_interdomain(b, 1, pa));
	CHECK_EQ(pb, 2);
	pv = CHECK_OK(evtchnx_bind_virq(b, 0));
	CHECK_EQ(pv, 3);
	CHECK_OK(evtchnx_unbind(b, 1));
	CHECK_EQ(evtchnx_bind_virq(b, 1), 1);
	CHECK_EQ(evtchnx_alloc_unbound(b, SELF, 0), 4);
}

/* ---- bind_interdomain ------------------------------------------------------------- */

CASE(bind_interdomain_basic)
{
	struct evtchnx_handle *a, *b;
	uint32_t da, db;
	int pa, pb;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	db = (uint32_t)evtchnx_domid(b);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	pb = CHECK_OK(evtchnx_bind_interdomain(b, da, pa));
	CHECK(pb >= 1);
	CHECK_INTERDOMAIN(a, SELF, pa, db, pb);
	CHECK_INTERDOMAIN(b, SELF, pb, da, pa);
	/* Xen leaves the new local port pending; the remote end is not. */
	CHECK_EQ(evtchnx_is_pending(b, pb), 1);
	CHECK_EQ(evtchnx_is_pending(a, pa), 0);
	EXPECT_NONE(a);
	EXPECT_PORT(b, pb);
}

CASE(bind_missing_domain_esrch)
{
	struct evtchnx_handle *b = open_dom(2);

	CHECK_ERR(evtchnx_bind_interdomain(b, NODOM, 1), ESRCH);
	CHECK_ERR(evtchnx_bind_interdomain(b, NODOM, 0xFFFFFFFFu), ESRCH);
	CHECK_ERR(evtchnx_bind_interdomain(b, 0x7FF1, 1), ESRCH);
	CHECK_ERR(evtchnx_bind_interdomain(b, 0xFFFF, 1), ESRCH);
}

CASE(bind_remote_port_invalid_einval)
{
	struct evtchnx_handle *a, *b;
	uint32_t da;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	CHECK_OK(evtchnx_alloc_unbound(a, SELF, evtchnx_domid(b)));
	CHECK_ERR(evtchnx_bind_interdomain(b, da, 0xFFFFFFFFu), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(b, da, 0x80000000u), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(b, da, h_port_limit()), EINVAL);
	/* Port 0 is RESERVED, never UNBOUND. */
	CHECK_ERR(evtchnx_bind_interdomain(b, da, 0), EINVAL);
}

CASE(bind_remote_port_not_offered_einval)
{
	struct evtchnx_handle *a, *b;
	uint32_t da, db;
	int pfree, poff, pa, pb;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	db = (uint32_t)evtchnx_domid(b);
	/* A free port (allocated, then closed). */
	pfree = CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	CHECK_OK(evtchnx_unbind(a, pfree));
	CHECK_ERR(evtchnx_bind_interdomain(b, da, pfree), EINVAL);
	/* Offered to a domain that is not b's. */
	poff = CHECK_OK(evtchnx_alloc_unbound(a, SELF, NODOM));
	CHECK_ERR(evtchnx_bind_interdomain(b, da, poff), EINVAL);
	CHECK_UNBOUND(a, SELF, poff, NODOM);
	/* Already INTERDOMAIN. */
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, db));
	pb = CHECK_OK(evtchnx_bind_interdomain(b, da, pa));
	CHECK_ERR(evtchnx_bind_interdomain(b, da, pa), EINVAL);
	CHECK_INTERDOMAIN(a, SELF, pa, db, pb);
	CHECK_INTERDOMAIN(b, SELF, pb, da, pa);
}

CASE(bind_offered_to_other_domain_einval)
{
	struct evtchnx_handle *a, *b, *d;
	uint32_t da;
	int p, q;

	require_multi_domain();
	open_pair(&a, &b);
	d = open_dom(3);
	da = (uint32_t)evtchnx_domid(a);
	p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, 3));
	CHECK_ERR(evtchnx_bind_interdomain(b, da, p), EINVAL);
	CHECK_UNBOUND(a, SELF, p, 3);
	/* The domain it was offered to binds it. */
	q = CHECK_OK(evtchnx_bind_interdomain(d, da, p));
	CHECK_INTERDOMAIN(a, SELF, p, 3, q);
}

CASE(bind_failure_changes_nothing)
{
	struct evtchnx_handle *a, *b;
	uint32_t da;
	int probe, pa;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, NODOM));
	/* The port b's next allocation gets (a and b may share a domain). */
	probe = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 0));
	CHECK_OK(evtchnx_unbind(b, probe));
	CHECK_ERR(evtchnx_bind_interdomain(b, NODOM, 1), ESRCH);
	CHECK_ERR(evtchnx_bind_interdomain(b, da, 0xFFFFFFFFu), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(b, da, pa), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(b, da, 0), EINVAL);
	/* No local port was kept by the failed binds. */
	CHECK_EQ(evtchnx_alloc_unbound(b, SELF, 0), probe);
	CHECK_UNBOUND(a, SELF, pa, NODOM);
	EXPECT_NONE(b);
}

CASE(bind_domid_self_not_wildcard)
{
	struct evtchnx_handle *c, *a, *b;
	uint32_t da;
	int pa, pb;

	require_multi_domain();
	c = open_dom(0);
	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, evtchnx_domid(b)));
	CHECK_ERR(evtchnx_bind_interdomain(b, SELF, pa), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(c, SELF, pa), EINVAL);
	CHECK_UNBOUND(a, SELF, pa, evtchnx_domid(b));
	pb = CHECK_OK(evtchnx_bind_interdomain(b, da, pa));
	CHECK_INTERDOMAIN(b, SELF, pb, da, pa);
}

CASE(bind_loopback_own_domid)
{
	struct evtchnx_handle *a = open_dom(1);
	uint32_t da = (uint32_t)evtchnx_domid(a);
	int p1, p2, p3, p4;

	p1 = CHECK_OK(evtchnx_alloc_unbound(a, SELF, SELF));
	p2 = CHECK_OK(evtchnx_bind_interdomain(a, da, p1));
	CHECK_INTERDOMAIN(a, SELF, p1, da, p2);
	CHECK_INTERDOMAIN(a, SELF, p2, da, p1);
	p3 = CHECK_OK(evtchnx_alloc_unbound(a, SELF, da));
	p4 = CHECK_OK(evtchnx_bind_interdomain(a, SELF, p3));
	CHECK_INTERDOMAIN(a, SELF, p3, da, p4);
	CHECK_INTERDOMAIN(a, SELF, p4, da, p3);
}

CASE(bind_enospc_before_remote_checks)
{
	struct evtchnx_handle *a, *b;
	int pa;

	require_sim("fills a domain's whole port table (the sim's limit)");
	open_pair(&a, &b);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, 2));
	fill_ports(b, 0, 1);
	CHECK_ERR(evtchnx_bind_interdomain(b, 1, 0xFFFFFFFFu), ENOSPC);
	CHECK_ERR(evtchnx_bind_interdomain(b, 1, 0), ENOSPC);
	CHECK_ERR(evtchnx_bind_interdomain(b, 1, pa), ENOSPC);
	CHECK_UNBOUND(a, SELF, pa, 2);
	/* The remote domain is looked up first. */
	CHECK_ERR(evtchnx_bind_interdomain(b, NODOM, 1), ESRCH);
	CHECK_ERR(evtchnx_bind_virq(b, 0), ENOSPC);
	/* One free port is enough. */
	CHECK_OK(evtchnx_unbind(b, 4000));
	CHECK_EQ(evtchnx_bind_interdomain(b, 1, pa), 4000);
}

/* ---- status -------------------------------------------------------------------------- */

CASE(status_port0_closed)
{
	struct evtchnx_handle *h = open_dom(1);

	CHECK_CLOSED(h, SELF, 0);
	CHECK_CLOSED(h, evtchnx_domid(h), 0);
}

CASE(status_invalid_port_einval)
{
	struct evtchnx_handle *h = open_dom(1);
	struct evtchnx_status st;

	CHECK_ERR(h_status(h, SELF, 0xFFFFFFFFu, &st), EINVAL);
	CHECK_ERR(h_status(h, SELF, 0x80000000u, &st), EINVAL);
	CHECK_ERR(h_status(h, SELF, h_port_limit(), &st), EINVAL);
	if (!h_is_xen()) {
		/* A never-used port inside the domain's table is free; below
		 * the limit but beyond the buckets allocated so far it is
		 * invalid, as on Xen (the table grows with allocation). */
		CHECK_CLOSED(h, SELF, 2);
		CHECK_ERR(h_status(h, SELF, EVTCHNX_SIM_MAX_PORTS - 1, &st),
			  EINVAL);
	}
}

CASE(status_other_domain_errno_order)
{
	struct evtchnx_handle *c, *a, *b;
	struct evtchnx_status st;
	uint32_t db;
	int pb;

	require_multi_domain();
	c = open_dom(0);
	open_pair(&a, &b);
	db = (uint32_t)evtchnx_domid(b);
	pb = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 0));
	/* ESRCH, then EINVAL (port), then EPERM. */
	CHECK_ERR(h_status(a, NODOM, 1, &st), ESRCH);
	CHECK_ERR(h_status(a, NODOM, 0xFFFFFFFFu, &st), ESRCH);
	CHECK_ERR(h_status(a, db, 0xFFFFFFFFu, &st), EINVAL);
	CHECK_ERR(h_status(a, db, pb, &st), EPERM);
	CHECK_ERR(h_status(a, db, 0, &st), EPERM);
	CHECK_ERR(h_status(a, 0, 0, &st), EPERM);
	/* The control domain may look. */
	CHECK_UNBOUND(c, db, pb, 0);
	CHECK_CLOSED(c, db, 0);
	CHECK_ERR(h_status(c, NODOM, 0, &st), ESRCH);
}

/* ---- own-port rules -------------------------------------------------------------------- */

CASE(unbind_twice_enotconn)
{
	struct evtchnx_handle *h = open_dom(1);
	int p = CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));

	CHECK_EQ(evtchnx_unbind(h, p), 0);
	CHECK_ERR(evtchnx_unbind(h, p), ENOTCONN);
	CHECK_ERR(evtchnx_send(h, p), ENOTCONN);
	CHECK_ERR(evtchnx_unmask(h, p), ENOTCONN);
	CHECK_ERR(evtchnx_is_pending(h, p), ENOTCONN);
	CHECK_CLOSED(h, SELF, p);
	CHECK_ERR(evtchnx_unbind(h, 0), EINVAL);
	CHECK_ERR(evtchnx_send(h, 0xFFFFFFFFu), EINVAL);
}

CASE(own_port_ops_out_of_range_einval)
{
	static uint32_t bad[] = { 0, 0, 0x7FFFFFFFu, 0x80000000u, 0x80000001u,
				  0xFFFFFFFEu, 0xFFFFFFFFu };
	struct evtchnx_handle *h = open_dom(1);

	bad[1] = h_port_limit();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (h_is_xen() && bad[i] == 0x7FFFFFFFu)
			continue;
		CHECK_ERR(evtchnx_send(h, bad[i]), EINVAL);
		CHECK_ERR(evtchnx_unbind(h, bad[i]), EINVAL);
		CHECK_ERR(evtchnx_unmask(h, bad[i]), EINVAL);
		CHECK_ERR(evtchnx_is_pending(h, bad[i]), EINVAL);
	}
}

CASE(own_port_ops_never_used_port_enotconn)
{
	struct evtchnx_handle *h;

	require_sim("which port numbers are free on xen depends on the kernel");
	h = open_dom(1);
	CHECK_ERR(evtchnx_send(h, 100), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(h, 100), ENOTCONN);
	CHECK_ERR(evtchnx_unmask(h, 100), ENOTCONN);
	CHECK_ERR(evtchnx_is_pending(h, 100), ENOTCONN);
	CHECK_ERR(evtchnx_send(h, EVTCHNX_SIM_MAX_PORTS - 1), ENOTCONN);
}

CASE(own_port_ops_other_handle_enotconn)
{
	struct evtchnx_handle *h1, *b, *h2;
	uint32_t pi, pb;
	int pu;

	open_pair(&h1, &b);
	h2 = open_dom(evtchnx_domid(h1));
	pu = CHECK_OK(evtchnx_alloc_unbound(h1, SELF, evtchnx_domid(b)));
	h_channel(h1, b, &pi, &pb);
	CHECK_ERR(evtchnx_send(h2, pu), ENOTCONN);
	CHECK_ERR(evtchnx_unmask(h2, pu), ENOTCONN);
	CHECK_ERR(evtchnx_is_pending(h2, pu), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(h2, pu), ENOTCONN);
	CHECK_ERR(evtchnx_send(h2, pi), ENOTCONN);
	CHECK_ERR(evtchnx_unmask(h2, pi), ENOTCONN);
	CHECK_ERR(evtchnx_is_pending(h2, pi), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(h2, pi), ENOTCONN);
	/* status is not about ownership: any handle of the domain sees. */
	CHECK_UNBOUND(h2, SELF, pu, evtchnx_domid(b));
	CHECK_INTERDOMAIN(h2, SELF, pi, evtchnx_domid(b), pb);
	/* Nothing changed for the owner. */
	CHECK_UNBOUND(h1, SELF, pu, evtchnx_domid(b));
	CHECK_INTERDOMAIN(h1, SELF, pi, evtchnx_domid(b), pb);
	CHECK_OK(evtchnx_send(h1, pi));
	EXPECT_PORT(b, pb);
	EXPECT_NONE(h2);
	/* The range check still comes first. */
	CHECK_ERR(evtchnx_send(h2, 0), EINVAL);
	CHECK_ERR(evtchnx_unbind(h2, 0xFFFFFFFFu), EINVAL);
}

CASE(domid_above_ffff_einval)
{
	static const uint32_t bad[] = { 0x10000, 0x10001, 0x80000000u,
					0xFFFFFFFFu };
	struct evtchnx_handle *h = open_dom(1);
	struct evtchnx_status st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_ERR(evtchnx_alloc_unbound(h, bad[i], SELF), EINVAL);
		CHECK_ERR(evtchnx_alloc_unbound(h, SELF, bad[i]), EINVAL);
		CHECK_ERR(evtchnx_bind_interdomain(h, bad[i], 1), EINVAL);
		CHECK_ERR(h_status(h, bad[i], 0, &st), EINVAL);
		CHECK_ERR(evtchnx_reset(h, bad[i]), EINVAL);
		CHECK_ERR(evtchnx_restrict(h, bad[i]), EINVAL);
	}
	/* The handle is still unrestricted and works. */
	CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
}

CASE(toolstack_domid_above_ffff_einval)
{
	static const uint32_t bad[] = { 0x10000, 0xFFFFFFFFu };
	struct evtchnx_handle *c;

	require_sim(H_SIM_ONLY_TOOLSTACK);
	c = open_dom(0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_ERR(evtchnx_domain_create(c, bad[i]), EINVAL);
		CHECK_ERR(evtchnx_domain_destroy(c, bad[i]), EINVAL);
		CHECK_ERR(evtchnx_raise_virq(c, bad[i], 0), EINVAL);
	}
}

/* ---- reset --------------------------------------------------------------------------------- */

CASE(reset_own_domain)
{
	struct evtchnx_handle *a, *b, *a2;
	uint32_t pa, pb;
	int pu, q;

	require_sim("resetting the program's own domain on xen would close the kernel's channels");
	open_pair(&a, &b);
	a2 = open_dom(1);
	h_channel(a, b, &pa, &pb);
	pu = CHECK_OK(evtchnx_alloc_unbound(a, SELF, 2));
	q = CHECK_OK(evtchnx_alloc_unbound(a2, SELF, 0));
	CHECK_OK(evtchnx_send(b, pb));
	CHECK_EQ(evtchnx_is_pending(a, pa), 1);

	CHECK_EQ(evtchnx_reset(a, SELF), 0);
	/* Freed ports lose their pending bits; the handles own nothing. */
	EXPECT_NONE(a);
	EXPECT_NONE(a2);
	CHECK_CLOSED(a, SELF, pa);
	CHECK_CLOSED(a, SELF, pu);
	CHECK_CLOSED(a, SELF, q);
	CHECK_ERR(evtchnx_send(a, pa), ENOTCONN);
	CHECK_ERR(evtchnx_is_pending(a, pa), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(a, pu), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(a2, q), ENOTCONN);
	/* The remote end is UNBOUND, offered to a again. */
	CHECK_UNBOUND(b, SELF, pb, 1);
	CHECK_EQ(evtchnx_send(b, pb), 0);
	EXPECT_NONE(a);
	EXPECT_NONE(b);
	/* Allocation starts at 1 again. */
	CHECK_EQ(evtchnx_alloc_unbound(a, SELF, 0), 1);
	CHECK_EQ(evtchnx_alloc_unbound(a2, SELF, 0), 2);
}

CASE(reset_then_reconnect)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;
	int pa2;

	require_sim("resetting the program's own domain on xen would close the kernel's channels");
	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_EQ(evtchnx_reset(a, evtchnx_domid(a)), 0);
	CHECK_UNBOUND(b, SELF, pb, 1);
	/* b's port is offered to a again: a binds it. */
	pa2 = CHECK_OK(evtchnx_bind_interdomain(a, 2, pb));
	CHECK_EQ(pa2, 1);
	CHECK_INTERDOMAIN(b, SELF, pb, 1, pa2);
	EXPECT_PORT(a, pa2);
	UNMASK(a, pa2);
	CHECK_OK(evtchnx_send(b, pb));
	EXPECT_PORT(a, pa2);
	CHECK_OK(evtchnx_send(a, pa2));
	EXPECT_PORT(b, pb);
}

CASE(reset_other_domain_by_control)
{
	struct evtchnx_handle *c, *a, *b;
	uint32_t pa, pb, pc, pac;

	require_sim(H_XEN_RESET_OTHER);
	c = open_dom(0);
	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	h_channel(c, a, &pc, &pac);
	CHECK_OK(evtchnx_send(b, pb));

	CHECK_EQ(evtchnx_reset(c, 1), 0);
	CHECK_UNBOUND(b, SELF, pb, 1);
	CHECK_UNBOUND(c, SELF, pc, 1);
	CHECK_CLOSED(c, 1, pa);
	CHECK_CLOSED(c, 1, pac);
	/* a's handle lost its ports. */
	CHECK_ERR(evtchnx_send(a, pa), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(a, pac), ENOTCONN);
	EXPECT_NONE(a);
	CHECK_EQ(evtchnx_alloc_unbound(a, SELF, 0), 1);
	/* The control domain's own ports were not touched. */
	CHECK_OK(evtchnx_unbind(c, pc));
}

CASE(reset_errors)
{
	struct evtchnx_handle *c, *a, *b;
	int pb;

	require_sim(H_XEN_RESET_OTHER);
	c = open_dom(0);
	open_pair(&a, &b);
	pb = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 1));
	CHECK_ERR(evtchnx_reset(a, 2), EPERM);
	CHECK_ERR(evtchnx_reset(a, 0), EPERM);
	CHECK_ERR(evtchnx_reset(a, NODOM), ESRCH);
	CHECK_ERR(evtchnx_reset(a, 0x7FF1), ESRCH);
	CHECK_ERR(evtchnx_reset(a, 0x10000), EINVAL);
	CHECK_ERR(evtchnx_reset(c, NODOM), ESRCH);
	/* The failed resets changed nothing. */
	CHECK_UNBOUND(b, SELF, pb, 1);
	CHECK_OK(evtchnx_unbind(b, pb));
}

/* ---- restrict -------------------------------------------------------------------------------- */

CASE(restrict_errors_and_effects)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;
	int p;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_ERR(evtchnx_restrict(a, 0), EINVAL);
	CHECK_ERR(evtchnx_restrict(a, SELF), EINVAL);
	CHECK_ERR(evtchnx_restrict(a, 0x7FF1), EINVAL);
	CHECK_ERR(evtchnx_restrict(a, 0xFFFF), EINVAL);
	CHECK_ERR(evtchnx_restrict(a, 0x10000), EINVAL);
	/* Failed restrictions left the handle unrestricted. */
	p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, 0));
	CHECK_OK(evtchnx_unbind(a, p));

	CHECK_EQ(evtchnx_restrict(a, 55), 0);
	CHECK_ERR(evtchnx_restrict(a, 55), EACCES);
	CHECK_ERR(evtchnx_restrict(a, 56), EACCES);
	CHECK_ERR(evtchnx_restrict(a, 0), EACCES);

	CHECK_ERR(evtchnx_alloc_unbound(a, SELF, 55), EACCES);
	CHECK_ERR(evtchnx_alloc_unbound(a, SELF, SELF), EACCES);
	CHECK_ERR(evtchnx_alloc_unbound(a, NODOM, 55), EACCES);
	CHECK_ERR(evtchnx_alloc_unbound(a, 0x10000, 55), EINVAL);
	CHECK_ERR(evtchnx_bind_virq(a, 0), EACCES);
	CHECK_ERR(evtchnx_bind_virq(a, 24), EACCES);
	CHECK_ERR(evtchnx_bind_interdomain(a, SELF, 1), EACCES);
	CHECK_ERR(evtchnx_bind_interdomain(a, NODOM, 1), EACCES);
	CHECK_ERR(evtchnx_bind_interdomain(a, 3, 0xFFFFFFFFu), EACCES);
	if (!h_is_xen()) {
		CHECK_ERR(evtchnx_adopt(a, 1), EACCES);
		CHECK_ERR(evtchnx_adopt(a, 0), EACCES);
	}
	/* Ports bound before keep working. */
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb);
	UNMASK(b, pb);
	CHECK_OK(evtchnx_send(b, pb));
	EXPECT_PORT(a, pa);
	CHECK_OK(evtchnx_unmask(a, pa));
	CHECK_EQ(evtchnx_unbind(a, pa), 0);
	/* Other handles of the domain are not restricted. */
	{
		struct evtchnx_handle *a2 = open_dom(evtchnx_domid(a));

		CHECK_OK(evtchnx_alloc_unbound(a2, SELF, 0));
	}
}

CASE(restrict_allows_that_domid)
{
	struct evtchnx_handle *a, *b, *d;
	int pb, pd, pa;

	require_multi_domain();
	open_pair(&a, &b);
	d = open_dom(3);
	CHECK_EQ(evtchnx_restrict(a, 2), 0);
	pb = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 1));
	pd = CHECK_OK(evtchnx_alloc_unbound(d, SELF, 1));
	CHECK_ERR(evtchnx_bind_interdomain(a, 3, pd), EACCES);
	CHECK_UNBOUND(d, SELF, pd, 1);
	pa = CHECK_OK(evtchnx_bind_interdomain(a, 2, pb));
	CHECK_INTERDOMAIN(a, SELF, pa, 2, pb);
	EXPECT_PORT(a, pa);
	UNMASK(a, pa);
	CHECK_OK(evtchnx_send(b, pb));
	EXPECT_PORT(a, pa);
	CHECK_OK(evtchnx_send(a, pa));
	EXPECT_PORT(b, pb);
}

/* ---- adopt ------------------------------------------------------------------------------------- */

CASE(adopt_delivers_events_raised_before)
{
	struct evtchnx_handle *c, *b, *b2;
	int pb, pc;

	require_sim(H_SIM_ONLY_ADOPT);
	c = open_dom(0);
	b = open_dom(2);
	pb = CHECK_OK(evtchnx_alloc_unbound(c, 2, SELF));
	pc = CHECK_OK(evtchnx_bind_interdomain(c, 2, pb));
	EXPECT_PORT(c, pc);
	CHECK_OK(evtchnx_unmask(c, pc));
	CHECK_EQ(evtchnx_send(c, pc), 0);
	/* Nobody owns pb yet: nothing is delivered, b cannot use it. */
	EXPECT_NONE(b);
	CHECK_ERR(evtchnx_is_pending(b, pb), ENOTCONN);
	CHECK_ERR(evtchnx_send(b, pb), ENOTCONN);

	CHECK_EQ(evtchnx_adopt(b, pb), 0);
	CHECK_READABLE(b);
	EXPECT_PORT(b, pb);
	EXPECT_NONE(b);
	CHECK_OK(evtchnx_unmask(b, pb));
	CHECK_INTERDOMAIN(b, SELF, pb, 0, pc);
	CHECK_OK(evtchnx_send(b, pb));
	EXPECT_PORT(c, pc);
	CHECK_OK(evtchnx_unmask(c, pc));
	CHECK_OK(evtchnx_send(c, pc));
	EXPECT_PORT(b, pb);

	CHECK_ERR(evtchnx_adopt(b, pb), EBUSY);
	b2 = open_dom(2);
	CHECK_ERR(evtchnx_adopt(b2, pb), EBUSY);
	CHECK_ERR(evtchnx_send(b2, pb), ENOTCONN);
	/* An adopted port is closed with the handle that adopted it. */
	close_h(b);
	CHECK_UNBOUND(c, SELF, pc, 2);
	CHECK_CLOSED(c, 2, pb);
}

CASE(adopt_errors)
{
	struct evtchnx_handle *b, *b2;
	int own, other, gone;

	require_sim(H_SIM_ONLY_ADOPT);
	b = open_dom(2);
	b2 = open_dom(2);
	CHECK_ERR(evtchnx_adopt(b, 0), EINVAL);
	CHECK_ERR(evtchnx_adopt(b, 0xFFFFFFFFu), EINVAL);
	CHECK_ERR(evtchnx_adopt(b, EVTCHNX_SIM_MAX_PORTS), EINVAL);
	CHECK_ERR(evtchnx_adopt(b, 100), EINVAL);
	gone = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 0));
	CHECK_OK(evtchnx_unbind(b, gone));
	CHECK_ERR(evtchnx_adopt(b, gone), EINVAL);
	own = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 0));
	other = CHECK_OK(evtchnx_alloc_unbound(b2, SELF, 0));
	CHECK_ERR(evtchnx_adopt(b, own), EBUSY);
	CHECK_ERR(evtchnx_adopt(b, other), EBUSY);
	/* Ownership did not move. */
	CHECK_OK(evtchnx_unbind(b2, other));
	CHECK_OK(evtchnx_unbind(b, own));
}

CASE(adopt_unbound_port)
{
	struct evtchnx_handle *c, *b;
	int pb, pc;

	require_sim(H_SIM_ONLY_ADOPT);
	c = open_dom(0);
	b = open_dom(2);
	pb = CHECK_OK(evtchnx_alloc_unbound(c, 2, SELF));
	CHECK_EQ(evtchnx_adopt(b, pb), 0);
	CHECK_UNBOUND(b, SELF, pb, 0);
	CHECK_EQ(evtchnx_send(b, pb), 0);
	EXPECT_NONE(c);
	EXPECT_NONE(b);
	pc = CHECK_OK(evtchnx_bind_interdomain(c, 2, pb));
	EXPECT_PORT(c, pc);
	CHECK_OK(evtchnx_unmask(c, pc));
	CHECK_OK(evtchnx_send(b, pb));
	EXPECT_PORT(c, pc);
	CHECK_OK(evtchnx_send(c, pc));
	EXPECT_PORT(b, pb);
	CHECK_OK(evtchnx_unbind(b, pb));
	CHECK_UNBOUND(c, SELF, pc, 2);
}

CASE(adopt_before_join_explicit_domain)
{
	struct evtchnx_handle *c, *b;
	int pb, pc;

	require_sim(H_SIM_ONLY_ADOPT);
	c = open_dom(0);
	h_domain_create(c, 30);
	pb = CHECK_OK(evtchnx_alloc_unbound(c, 30, SELF));
	CHECK_EQ(pb, 1);
	pc = CHECK_OK(evtchnx_bind_interdomain(c, 30, pb));
	EXPECT_PORT(c, pc);
	CHECK_OK(evtchnx_unmask(c, pc));
	CHECK_OK(evtchnx_send(c, pc));
	b = open_dom(30);
	CHECK_EQ(evtchnx_adopt(b, pb), 0);
	EXPECT_PORT(b, pb);
	CHECK_OK(evtchnx_unmask(b, pb));
	CHECK_OK(evtchnx_send(b, pb));
	EXPECT_PORT(c, pc);
	CHECK_EQ(evtchnx_domain_destroy(c, 30), 0);
	CHECK_UNBOUND(c, SELF, pc, 30);
}

/* ---- domains ------------------------------------------------------------------------------------- */

CASE(domain_create_destroy_basic)
{
	struct evtchnx_handle *c;
	struct evtchnx_status st;

	require_sim(H_SIM_ONLY_TOOLSTACK);
	c = open_dom(0);
	h_domain_create(c, 20);
	CHECK_ERR(evtchnx_domain_create(c, 20), EEXIST);
	CHECK_ERR(evtchnx_domain_create(c, 0), EEXIST);
	CHECK_CLOSED(c, 20, 0);
	CHECK_CLOSED(c, 20, 1);
	CHECK_EQ(evtchnx_alloc_unbound(c, 20, SELF), 1);
	CHECK_EQ(evtchnx_domain_destroy(c, 20), 0);
	CHECK_ERR(h_status(c, 20, 0, &st), ESRCH);
	CHECK_ERR(evtchnx_domain_destroy(c, 20), ESRCH);
	CHECK_ERR(evtchnx_domain_destroy(c, NODOM), ESRCH);
	CHECK_ERR(evtchnx_domain_destroy(c, 0), EINVAL);
	CHECK_ERR(evtchnx_domain_destroy(c, SELF), EINVAL);
	CHECK_ERR(evtchnx_domain_destroy(c, 0x7FF1), EINVAL);
	CHECK_ERR(evtchnx_domain_create(c, SELF), EINVAL);
	CHECK_ERR(evtchnx_domain_create(c, 0x7FF1), EINVAL);
	CHECK_ERR(evtchnx_domain_create(c, 0xFFFF), EINVAL);
	/* Re-created, it starts empty. */
	h_domain_create(c, 20);
	CHECK_CLOSED(c, 20, 1);
	CHECK_EQ(evtchnx_alloc_unbound(c, 20, SELF), 1);
}

CASE(domain_calls_eperm_from_guest)
{
	struct evtchnx_handle *c, *a, *b;

	require_sim(H_SIM_ONLY_TOOLSTACK);
	c = open_dom(0);
	open_pair(&a, &b);
	CHECK_ERR(evtchnx_domain_create(a, 21), EPERM);
	CHECK_ERR(evtchnx_domain_destroy(a, 2), EPERM);
	CHECK_ERR(evtchnx_domain_destroy(a, 1), EPERM);
	CHECK_ERR(evtchnx_raise_virq(a, 2, 0), EPERM);
	CHECK_ERR(evtchnx_raise_virq(a, 1, 0), EPERM);
	CHECK_CLOSED(c, 2, 0);
	{
		struct evtchnx_status st;

		CHECK_ERR(h_status(c, 21, 0, &st), ESRCH);
	}
}

CASE(domain_destroy_effects)
{
	struct evtchnx_handle *c, *a, *b;
	struct evtchnx_status st;
	uint32_t pc, pb1, pa, pb2;
	int pb3;

	require_sim(H_SIM_ONLY_TOOLSTACK);
	c = open_dom(0);
	a = open_dom(1);
	b = open_dom(22);
	h_channel(c, b, &pc, &pb1);
	h_channel(a, b, &pa, &pb2);
	pb3 = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 1));

	CHECK_EQ(evtchnx_domain_destroy(c, 22), 0);
	CHECK_UNBOUND(c, SELF, pc, 22);
	CHECK_UNBOUND(a, SELF, pa, 22);
	CHECK_ERR(h_status(c, 22, 0, &st), ESRCH);
	/* The destroyed domain's handle fails with -ESRCH. */
	CHECK_ERR(evtchnx_alloc_unbound(b, SELF, 0), ESRCH);
	CHECK_ERR(evtchnx_bind_interdomain(b, 1, 1), ESRCH);
	CHECK_ERR(h_status(b, SELF, 0, &st), ESRCH);
	CHECK_ERR(evtchnx_send(b, pb1), ESRCH);
	CHECK_ERR(evtchnx_unbind(b, pb2), ESRCH);
	CHECK_ERR(evtchnx_unbind(b, pb3), ESRCH);
	/* The survivors keep working; nothing reaches the dead domain. */
	CHECK_EQ(evtchnx_send(a, pa), 0);
	CHECK_EQ(evtchnx_send(c, pc), 0);
	EXPECT_NONE(a);
	EXPECT_NONE(c);
	close_h(b);
	CHECK_ERR(h_status(c, 22, 0, &st), ESRCH);
	CHECK_UNBOUND(a, SELF, pa, 22);
}

CASE(domain_explicit_survives_last_handle)
{
	struct evtchnx_handle *c, *b;
	int p;

	require_sim(H_SIM_ONLY_TOOLSTACK);
	c = open_dom(0);
	h_domain_create(c, 23);
	b = open_dom(23);
	p = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 0));
	close_h(b);
	CHECK_CLOSED(c, 23, 0);
	CHECK_CLOSED(c, 23, p);
	CHECK_EQ(evtchnx_domain_destroy(c, 23), 0);
}

CASE(domain_implicit_disappears_with_last_handle)
{
	struct evtchnx_handle *c, *b1, *b2;
	struct evtchnx_status st;

	require_sim(H_SIM_ONLY_TOOLSTACK);
	c = open_dom(0);
	b1 = open_dom(24);
	b2 = open_dom(24);
	CHECK_CLOSED(c, 24, 0);
	close_h(b1);
	CHECK_CLOSED(c, 24, 0);
	close_h(b2);
	CHECK_ERR(h_status(c, 24, 0, &st), ESRCH);
	CHECK_ERR(evtchnx_alloc_unbound(c, 24, SELF), ESRCH);
	/* Joining again creates it again, empty. */
	b1 = open_dom(24);
	CHECK_EQ(evtchnx_alloc_unbound(b1, SELF, 0), 1);
}

CASE(domain_create_existing_implicit_eexist)
{
	struct evtchnx_handle *c, *b;

	require_sim(H_SIM_ONLY_TOOLSTACK);
	c = open_dom(0);
	b = open_dom(25);
	CHECK_ERR(evtchnx_domain_create(c, 25), EEXIST);
	CHECK_OK(evtchnx_alloc_unbound(b, SELF, 0));
}

/* ---- limits ---------------------------------------------------------------------------------------- */

CASE(port_limit)
{
	struct evtchnx_handle *c, *a, *b;
	struct evtchnx_status st;
	int pb;

	require_sim("fills a domain's whole port table (the sim's limit)");
	c = open_dom(0);
	open_pair(&a, &b);
	pb = CHECK_OK(evtchnx_alloc_unbound(b, SELF, 1));
	fill_ports(a, 2, 1);
	CHECK_UNBOUND(a, SELF, EVTCHNX_SIM_MAX_PORTS - 1, 2);
	CHECK_ERR(h_status(a, SELF, EVTCHNX_SIM_MAX_PORTS, &st), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(a, 2, pb), ENOSPC);
	CHECK_UNBOUND(b, SELF, pb, 1);
	CHECK_ERR(evtchnx_bind_virq(a, 0), ENOSPC);
	CHECK_ERR(evtchnx_alloc_unbound(c, 1, SELF), ENOSPC);
	CHECK_ERR(evtchnx_alloc_unbound(b, 1, SELF), ENOSPC);
	CHECK_ERR(evtchnx_bind_interdomain(a, NODOM, 1), ESRCH);
	/* Freed ports are found again, lowest first. */
	CHECK_OK(evtchnx_unbind(a, EVTCHNX_SIM_MAX_PORTS - 1));
	CHECK_EQ(evtchnx_alloc_unbound(a, SELF, 2), EVTCHNX_SIM_MAX_PORTS - 1);
	CHECK_OK(evtchnx_unbind(a, 3000));
	CHECK_OK(evtchnx_unbind(a, 17));
	CHECK_EQ(evtchnx_alloc_unbound(a, SELF, 2), 17);
	CHECK_EQ(evtchnx_bind_interdomain(a, 2, pb), 3000);
	CHECK_ERR(evtchnx_alloc_unbound(a, SELF, 2), ENOSPC);
	/* The other domain was never affected. */
	CHECK_EQ(evtchnx_alloc_unbound(b, SELF, 1), 2);
	/* A reset frees every port but keeps the table: the last port is
	 * closed, not invalid, and allocation starts at 1 again. */
	CHECK_OK(evtchnx_reset(a, SELF));
	CHECK_CLOSED(a, SELF, EVTCHNX_SIM_MAX_PORTS - 1);
	CHECK_EQ(evtchnx_alloc_unbound(a, SELF, 2), 1);
}

CASE(domain_limit_64)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o) };
	struct evtchnx_handle *c, *g;
	uint32_t d;

	require_sim("the 64-domain limit is the sim lab's");
	c = open_dom(0);
	/* Domain 0 plus 62 created plus one joined: 64. */
	for (d = 100; d < 162; d++)
		h_domain_create(c, d);
	g = open_dom(200);
	o.domid = 201;
	CHECK_OPEN_ERR(h_target(), &o, ENOSPC);
	CHECK_ERR(evtchnx_domain_create(c, 202), ENOSPC);
	/* Joining an existing domain still works. */
	close_h(open_dom(100));
	CHECK_EQ(evtchnx_domain_destroy(c, 100), 0);
	h_domain_create(c, 202);
	o.domid = 203;
	CHECK_OPEN_ERR(h_target(), &o, ENOSPC);
	/* The joined domain disappears with its handle, making room. */
	close_h(g);
	close_h(open_dom(203));
}
