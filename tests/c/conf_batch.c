/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * conf_batch.c - the batch calls against the single ones: the same ports
 * (first fit, in array order), the single call's error when the first
 * element fails, sendmmsg's partial count when a later one fails and that
 * element's error on the next call, n == 0, NULL arrays; unmask_batch
 * delivering latched events, status_batch equal to status element-wise;
 * and the busy-poll budget of evtchnx_wait().
 */
#include "harness.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NODOM 77u /* a domid nobody uses in this file */

/* status_batch's elements compared with evtchnx_status()'s. */
#define CHECK_SAME_STATUS(a, b)                                                \
	do {                                                                   \
		CHECK_EQ((a).sz, (b).sz);                                      \
		CHECK_EQ((a).state, (b).state);                                \
		CHECK_EQ((a).vcpu, (b).vcpu);                                  \
		CHECK_EQ((a).remote_domid, (b).remote_domid);                  \
		CHECK_EQ((a).remote_port, (b).remote_port);                    \
		CHECK_EQ((a).virq, (b).virq);                                  \
	} while (0)

/* Take every port that is pending now (or within the settle time). */
static unsigned int take_all(struct evtchnx_handle *h, uint32_t *out,
			     unsigned int max)
{
	unsigned int n = 0;
	int r;

	while (n < max && (r = evtchnx_wait(h, h_settle_ms())) >= 0)
		out[n++] = (uint32_t)r;
	if (n < max)
		CHECK_EQ(r, -ETIMEDOUT);
	return n;
}

static bool contains(const uint32_t *a, unsigned int n, uint32_t v)
{
	for (unsigned int i = 0; i < n; i++) {
		if (a[i] == v)
			return true;
	}
	return false;
}

/* ---- n == 0 and NULL arrays ----------------------------------------------------- */

CASE(n_zero_returns_zero)
{
	struct evtchnx_handle *h = open_dom(1);
	struct evtchnx_status st[1] = { { .sz = sizeof(st[0]) } };
	uint32_t in[1] = { 0 }, out[1] = { 12345 };
	int p;

	CHECK_EQ(evtchnx_alloc_unbound_batch(h, SELF, 0, NULL, 0), 0);
	CHECK_EQ(evtchnx_alloc_unbound_batch(h, SELF, 0, out, 0), 0);
	CHECK_EQ(evtchnx_bind_interdomain_batch(h, SELF, NULL, NULL, 0), 0);
	CHECK_EQ(evtchnx_bind_interdomain_batch(h, SELF, in, out, 0), 0);
	CHECK_EQ(evtchnx_unbind_batch(h, NULL, 0), 0);
	CHECK_EQ(evtchnx_unbind_batch(h, in, 0), 0); /* port 0: not looked at */
	CHECK_EQ(evtchnx_unmask_batch(h, NULL, 0), 0);
	CHECK_EQ(evtchnx_unmask_batch(h, in, 0), 0);
	CHECK_EQ(evtchnx_status_batch(h, SELF, NULL, NULL, 0), 0);
	CHECK_EQ(evtchnx_status_batch(h, NODOM, in, st, 0), 0);
	CHECK_EQ(out[0], 12345);
	/* Nothing was allocated. */
	p = CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
	if (h_fresh_domains())
		CHECK_EQ(p, 1);
	CHECK_OK(evtchnx_unbind(h, p));
}

CASE(null_arrays_einval)
{
	struct evtchnx_handle *h = open_dom(1);
	struct evtchnx_status st[2] = { { .sz = sizeof(st[0]) } };
	uint32_t in[2], out[2];
	int p, q;

	p = CHECK_OK(evtchnx_alloc_unbound(h, SELF, SELF));
	in[0] = in[1] = (uint32_t)p;
	CHECK_ERR(evtchnx_alloc_unbound_batch(h, SELF, 0, NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain_batch(h, SELF, NULL, out, 1), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain_batch(h, SELF, in, NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_unbind_batch(h, NULL, 2), EINVAL);
	CHECK_ERR(evtchnx_unmask_batch(h, NULL, 2), EINVAL);
	CHECK_ERR(evtchnx_status_batch(h, SELF, NULL, st, 2), EINVAL);
	CHECK_ERR(evtchnx_status_batch(h, SELF, in, NULL, 2), EINVAL);
	/* Nothing changed: p is still offered, no port was allocated. */
	CHECK_UNBOUND(h, SELF, p, evtchnx_domid(h));
	q = CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
	/* (On Xen the dom0 kernel may hold the port after p.) */
	if (h_fresh_domains())
		CHECK_EQ(q, p + 1);
	CHECK_OK(evtchnx_unbind(h, q));
	CHECK_OK(evtchnx_unbind(h, p));
}

/* ---- alloc_unbound_batch ----------------------------------------------------------- */

CASE(alloc_batch_same_ports_as_single_calls)
{
	struct evtchnx_handle *h = open_dom(1);
	uint32_t single[6], batch[6];
	uint32_t rdom = h_dom(2);

	for (unsigned int i = 0; i < 6; i++)
		single[i] = (uint32_t)CHECK_OK(evtchnx_alloc_unbound(h, SELF, rdom));
	CHECK_EQ(evtchnx_unbind_batch(h, single, 6), 6);
	CHECK_EQ(evtchnx_alloc_unbound_batch(h, SELF, rdom, batch, 6), 6);
	for (unsigned int i = 0; i < 6; i++) {
		CHECK_EQ(batch[i], single[i]);
		CHECK_UNBOUND(h, SELF, batch[i], rdom);
	}
	if (h_fresh_domains())
		CHECK_EQ(batch[0], 1);
	/* Holes first, lowest first, then above: first fit per element. */
	CHECK_OK(evtchnx_unbind(h, batch[4]));
	CHECK_OK(evtchnx_unbind(h, batch[1]));
	CHECK_EQ(evtchnx_alloc_unbound_batch(h, SELF, rdom, single, 3), 3);
	CHECK_EQ(single[0], batch[1]);
	CHECK_EQ(single[1], batch[4]);
	CHECK(single[2] > batch[5]);
	if (h_fresh_domains()) /* on Xen the kernel may hold batch[5] + 1 */
		CHECK_EQ(single[2], batch[5] + 1);
	/* The ports belong to the handle, as alloc_unbound's. */
	CHECK_EQ(evtchnx_unbind_batch(h, single, 3), 3);
	CHECK_EQ(evtchnx_unbind_batch(h, batch, 1), 1);
}

CASE(alloc_batch_first_error_as_single_call)
{
	struct evtchnx_handle *h = open_dom(1);
	uint32_t out[3] = { 0, 0, 0 };

	CHECK_ERR(evtchnx_alloc_unbound(h, NODOM, 0), ESRCH);
	CHECK_ERR(evtchnx_alloc_unbound_batch(h, NODOM, 0, out, 3), ESRCH);
	CHECK_ERR(evtchnx_alloc_unbound(h, 0x10000, 0), EINVAL);
	CHECK_ERR(evtchnx_alloc_unbound_batch(h, 0x10000, 0, out, 3), EINVAL);
	CHECK_ERR(evtchnx_alloc_unbound_batch(h, SELF, 0xFFFFFFFFu, out, 3),
		  EINVAL);
	CHECK_OK(evtchnx_restrict(h, 55));
	CHECK_ERR(evtchnx_alloc_unbound(h, SELF, 0), EACCES);
	CHECK_ERR(evtchnx_alloc_unbound_batch(h, SELF, 0, out, 3), EACCES);
	CHECK_EQ(out[0], 0);
	CHECK_ERR(evtchnx_bind_interdomain(h, SELF, 1), EACCES);
	CHECK_ERR(evtchnx_bind_interdomain_batch(h, SELF, out, out + 1, 2),
		  EACCES);
}

CASE(alloc_batch_other_domain)
{
	struct evtchnx_handle *c, *a, *b;
	uint32_t out[3];
	uint32_t db;

	require_multi_domain();
	c = open_dom(0);
	open_pair(&a, &b);
	db = (uint32_t)evtchnx_domid(b);
	CHECK_ERR(evtchnx_alloc_unbound_batch(a, db, SELF, out, 3), EPERM);
	/* The control domain allocates on b's behalf; b adopts them. */
	CHECK_EQ(evtchnx_alloc_unbound_batch(c, db, SELF, out, 3), 3);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK_UNBOUND(c, db, out[i], 0);
		CHECK_ERR(evtchnx_unbind(b, out[i]), ENOTCONN);
		CHECK_OK(evtchnx_adopt(b, out[i]));
	}
	CHECK_EQ(out[0], 1);
	CHECK_EQ(evtchnx_unbind_batch(b, out, 3), 3);
}

CASE(alloc_batch_partial_when_ports_run_out)
{
	struct evtchnx_handle *c;
	uint32_t *ports;
	const unsigned int n = EVTCHNX_SIM_MAX_PORTS - 3;

	require_sim("fills a domain's whole port table (the sim's limit)");
	c = open_dom(0);
	h_domain_create(c, 40);
	ports = calloc(n + 5, sizeof(*ports));
	CHECK(ports != NULL);
	CHECK_EQ(evtchnx_alloc_unbound_batch(c, 40, 0, ports, n), n);
	CHECK_EQ(ports[0], 1);
	CHECK_EQ(ports[n - 1], n);
	/* Two ports left: two done, then the third's error on the next
	 * call, the single call's. */
	ports[n + 2] = 0xDEAD;
	CHECK_EQ(evtchnx_alloc_unbound_batch(c, 40, 0, ports + n, 5), 2);
	CHECK_EQ(ports[n], n + 1);
	CHECK_EQ(ports[n + 1], n + 2);
	CHECK_EQ(ports[n + 2], 0xDEAD);
	CHECK_ERR(evtchnx_alloc_unbound_batch(c, 40, 0, ports + n + 2, 3),
		  ENOSPC);
	CHECK_ERR(evtchnx_alloc_unbound(c, 40, 0), ENOSPC);
	CHECK_UNBOUND(c, 40, n + 2, 0);
	free(ports);
}

/* ---- bind_interdomain_batch ----------------------------------------------------------- */

CASE(bind_batch_partial_and_same_ports)
{
	struct evtchnx_handle *a, *b;
	uint32_t da, db, pa[4], rp[5], q[5], got[8];
	unsigned int n;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	db = (uint32_t)evtchnx_domid(b);
	CHECK_EQ(evtchnx_alloc_unbound_batch(a, SELF, db, pa, 4), 4);
	rp[0] = pa[0];
	rp[1] = pa[1];
	rp[2] = h_port_limit(); /* invalid */
	rp[3] = pa[2];
	rp[4] = pa[3];
	/* Two bound, then the third's error on the next call, as the single
	 * call gives it; nothing of the rest was touched. */
	CHECK_EQ(evtchnx_bind_interdomain_batch(b, da, rp, q, 5), 2);
	CHECK_ERR(evtchnx_bind_interdomain_batch(b, da, rp + 2, q + 2, 3),
		  EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(b, da, rp[2]), EINVAL);
	CHECK_UNBOUND(a, SELF, pa[2], db);
	CHECK_EQ(evtchnx_bind_interdomain_batch(b, da, rp + 3, q + 3, 2), 2);
	q[2] = q[4];
	for (unsigned int i = 0; i < 4; i++) {
		uint32_t r = i < 2 ? rp[i] : rp[i + 1];
		uint32_t l = i < 2 ? q[i] : q[i + 1];

		CHECK_INTERDOMAIN(b, SELF, l, da, r);
		CHECK_INTERDOMAIN(a, SELF, r, db, l);
	}
	/* Each new port is left pending, as bind_interdomain leaves it. */
	n = take_all(b, got, 8);
	CHECK_EQ(n, 4);
	for (unsigned int i = 0; i < 5; i++) {
		if (i != 2)
			CHECK(contains(got, n, q[i]));
	}
	EXPECT_NONE(a);
}

CASE(bind_batch_gives_the_single_calls_ports)
{
	struct evtchnx_handle *a, *b;
	uint32_t da, db, pa[3], single[3], batch[3], got[4];

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	db = (uint32_t)evtchnx_domid(b);
	CHECK_EQ(evtchnx_alloc_unbound_batch(a, SELF, db, pa, 3), 3);
	for (unsigned int i = 0; i < 3; i++)
		single[i] = (uint32_t)CHECK_OK(evtchnx_bind_interdomain(b, da, pa[i]));
	CHECK_EQ(take_all(b, got, 4), 3);
	CHECK_EQ(evtchnx_unbind_batch(b, single, 3), 3);
	for (unsigned int i = 0; i < 3; i++)
		CHECK_UNBOUND(a, SELF, pa[i], db);
	CHECK_EQ(evtchnx_bind_interdomain_batch(b, da, pa, batch, 3), 3);
	/* On Xen a port freed while its event was queued may stay busy a
	 * moment (see "Delivery"): there the ports need not repeat. */
	for (unsigned int i = 0; i < 3; i++) {
		if (!h_is_xen())
			CHECK_EQ(batch[i], single[i]);
		CHECK_INTERDOMAIN(b, SELF, batch[i], da, pa[i]);
	}
}

CASE(bind_batch_first_error_as_single_call)
{
	struct evtchnx_handle *a, *b;
	uint32_t da, rp[2], q[2] = { 0, 0 };
	int p;

	open_pair(&a, &b);
	da = (uint32_t)evtchnx_domid(a);
	p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, NODOM));
	rp[0] = (uint32_t)p; /* offered to another domain */
	rp[1] = (uint32_t)p;
	CHECK_ERR(evtchnx_bind_interdomain(b, da, rp[0]), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain_batch(b, da, rp, q, 2), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(b, NODOM, 1), ESRCH);
	CHECK_ERR(evtchnx_bind_interdomain_batch(b, NODOM, rp, q, 2), ESRCH);
	CHECK_ERR(evtchnx_bind_interdomain_batch(b, 0x10000, rp, q, 2), EINVAL);
	CHECK_EQ(q[0], 0);
	CHECK_UNBOUND(a, SELF, p, NODOM);
	EXPECT_NONE(b);
}

/* ---- unbind_batch ------------------------------------------------------------------------ */

CASE(unbind_batch_partial)
{
	struct evtchnx_handle *h = open_dom(1);
	uint32_t p[3], arr[4];

	CHECK_EQ(evtchnx_alloc_unbound_batch(h, SELF, 0, p, 3), 3);
	/* In array order: the second p[1] finds it closed already. */
	arr[0] = p[0];
	arr[1] = p[1];
	arr[2] = p[1];
	arr[3] = p[2];
	CHECK_EQ(evtchnx_unbind_batch(h, arr, 4), 2);
	CHECK_ERR(evtchnx_unbind_batch(h, arr + 2, 2), ENOTCONN);
	CHECK_ERR(evtchnx_unbind(h, p[1]), ENOTCONN);
	CHECK_CLOSED(h, SELF, p[0]);
	CHECK_CLOSED(h, SELF, p[1]);
	CHECK_UNBOUND(h, SELF, p[2], 0);
	/* The first element failing: the single call's error. */
	arr[0] = 0;
	CHECK_ERR(evtchnx_unbind(h, 0), EINVAL);
	CHECK_ERR(evtchnx_unbind_batch(h, arr, 4), EINVAL);
	arr[0] = 0xFFFFFFFFu;
	CHECK_ERR(evtchnx_unbind_batch(h, arr, 4), EINVAL);
	CHECK_UNBOUND(h, SELF, p[2], 0);
	CHECK_EQ(evtchnx_unbind_batch(h, arr + 3, 1), 1);
	CHECK_CLOSED(h, SELF, p[2]);
}

CASE(unbind_batch_remote_ends_unbound)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa[2], pb[2];

	open_pair(&a, &b);
	for (unsigned int i = 0; i < 2; i++)
		h_channel(a, b, &pa[i], &pb[i]);
	CHECK_EQ(evtchnx_unbind_batch(b, pb, 2), 2);
	for (unsigned int i = 0; i < 2; i++) {
		WAIT_UNBOUND(a, pa[i], evtchnx_domid(b));
		CHECK_ERR(evtchnx_send(b, pb[i]), ENOTCONN);
	}
	EXPECT_NONE(a);
}

/* ---- unmask_batch -------------------------------------------------------------------------- */

CASE(unmask_batch_delivers_latched_events)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa[3], pb[3], got[6];
	unsigned int n;

	open_pair(&a, &b);
	for (unsigned int i = 0; i < 3; i++)
		h_channel(a, b, &pa[i], &pb[i]);
	for (unsigned int i = 0; i < 3; i++)
		CHECK_OK(evtchnx_send(a, pa[i]));
	CHECK_EQ(take_all(b, got, 6), 3);
	/* Masked now: events on pb[0] and pb[2] are latched. */
	CHECK_OK(evtchnx_send(a, pa[0]));
	CHECK_OK(evtchnx_send(a, pa[2]));
	CHECK_LATCHED(b, pb[0]);
	EXPECT_NONE(b);
	CHECK_EQ(evtchnx_unmask_batch(b, pb, 3), 3);
	n = take_all(b, got, 6);
	CHECK(contains(got, n, pb[0]));
	CHECK(contains(got, n, pb[2]));
	/* pb[1] had no event since it was taken: exact targets do not
	 * deliver it again (real Xen may, once). */
	if (h_exact_delivery())
		CHECK_EQ(n, 2);
	else
		CHECK(n <= 3);
	for (unsigned int i = 0; i < n; i++)
		UNMASK(b, got[i]);
	EXPECT_NONE(b);
}

CASE(unmask_batch_partial)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa[2], pb[2], arr[3];

	open_pair(&a, &b);
	for (unsigned int i = 0; i < 2; i++)
		h_channel(a, b, &pa[i], &pb[i]);
	CHECK_OK(evtchnx_send(a, pa[0]));
	CHECK_OK(evtchnx_send(a, pa[1]));
	CHECK_EQ(take_all(b, arr, 3), 2);
	CHECK_OK(evtchnx_send(a, pa[0]));
	CHECK_OK(evtchnx_send(a, pa[1]));
	arr[0] = pb[0];
	arr[1] = 0; /* invalid */
	arr[2] = pb[1];
	CHECK_EQ(evtchnx_unmask_batch(b, arr, 3), 1);
	CHECK_ERR(evtchnx_unmask_batch(b, arr + 1, 2), EINVAL);
	CHECK_ERR(evtchnx_unmask(b, 0), EINVAL);
	/* Only pb[0] was unmasked: its latched event comes out, pb[1]'s
	 * stays latched. */
	EXPECT_PORT(b, pb[0]);
	EXPECT_NONE(b);
	CHECK_EQ(evtchnx_unmask_batch(b, arr + 2, 1), 1);
	EXPECT_PORT(b, pb[1]);
	UNMASK(b, pb[0]);
	UNMASK(b, pb[1]);
	EXPECT_NONE(b);
}

/* ---- status_batch ---------------------------------------------------------------------------- */

CASE(status_batch_equals_status)
{
	struct evtchnx_handle *a, *b;
	struct evtchnx_status st[6], one;
	uint32_t pa, pb, ports[6];
	int pu, pc;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	pu = CHECK_OK(evtchnx_alloc_unbound(a, SELF, NODOM));
	pc = CHECK_OK(evtchnx_alloc_unbound(a, SELF, 0));
	CHECK_OK(evtchnx_unbind(a, pc));
	ports[0] = pa;
	ports[1] = (uint32_t)pu;
	ports[2] = (uint32_t)pc; /* closed */
	ports[3] = 0;            /* reserved: CLOSED */
	ports[4] = pa;
	ports[5] = (uint32_t)pu;
	memset(st, 0xAA, sizeof(st));
	st[0].sz = sizeof(st[0]);
	CHECK_EQ(evtchnx_status_batch(a, SELF, ports, st, 6), 6);
	for (unsigned int i = 0; i < 6; i++) {
		CHECK_OK(h_status(a, SELF, ports[i], &one));
		CHECK_SAME_STATUS(st[i], one);
	}
	CHECK_EQ(st[0].state, EVTCHNX_STATE_INTERDOMAIN);
	CHECK_EQ(st[1].state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st[2].state, EVTCHNX_STATE_CLOSED);
	CHECK_EQ(st[3].state, EVTCHNX_STATE_CLOSED);
	/* By the domain's id instead of DOMID_SELF. */
	memset(st, 0, sizeof(st));
	st[0].sz = sizeof(st[0]);
	CHECK_EQ(evtchnx_status_batch(b, (uint32_t)evtchnx_domid(b), &pb, st, 1), 1);
	CHECK_EQ(st[0].state, EVTCHNX_STATE_INTERDOMAIN);
	CHECK_EQ(st[0].remote_port, pa);
}

CASE(status_batch_errors)
{
	struct evtchnx_handle *h = open_dom(1);
	struct evtchnx_status st[3], one;
	uint32_t ports[3];
	int p = CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));

	ports[0] = (uint32_t)p;
	ports[1] = h_port_limit();
	ports[2] = (uint32_t)p;
	memset(st, 0, sizeof(st));
	st[0].sz = sizeof(st[0]);
	CHECK_EQ(evtchnx_status_batch(h, SELF, ports, st, 3), 1);
	CHECK_EQ(st[0].state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st[1].sz, 0); /* not written */
	st[1].sz = sizeof(st[1]);
	CHECK_ERR(evtchnx_status_batch(h, SELF, ports + 1, st + 1, 2), EINVAL);
	CHECK_ERR(h_status(h, SELF, ports[1], &one), EINVAL);
	/* First-element errors, as the single call's. */
	CHECK_ERR(h_status(h, NODOM, 1, &one), ESRCH);
	CHECK_ERR(evtchnx_status_batch(h, NODOM, ports, st, 3), ESRCH);
	CHECK_ERR(evtchnx_status_batch(h, 0x10000, ports, st, 3), EINVAL);
	st[0].sz = sizeof(size_t) - 1;
	CHECK_ERR(evtchnx_status_batch(h, SELF, ports, st, 3), EINVAL);
}

CASE(status_batch_other_domain)
{
	struct evtchnx_handle *c, *a, *b;
	struct evtchnx_status st[2] = { { .sz = sizeof(st[0]) } };
	uint32_t ports[2];
	uint32_t db;

	require_multi_domain();
	c = open_dom(0);
	open_pair(&a, &b);
	db = (uint32_t)evtchnx_domid(b);
	ports[0] = (uint32_t)CHECK_OK(evtchnx_alloc_unbound(b, SELF, 0));
	ports[1] = 0;
	CHECK_ERR(h_status(a, db, ports[0], &st[0]), EPERM);
	CHECK_ERR(evtchnx_status_batch(a, db, ports, st, 2), EPERM);
	st[0].sz = sizeof(st[0]);
	CHECK_EQ(evtchnx_status_batch(c, db, ports, st, 2), 2);
	CHECK_EQ(st[0].state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st[0].remote_domid, 0);
	CHECK_EQ(st[1].state, EVTCHNX_STATE_CLOSED);
}

/* ---- busy-poll ------------------------------------------------------------------------------ */

static struct evtchnx_handle *open_busy(uint32_t domid, uint64_t ns)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = h_dom(domid),
				       .busy_poll_ns = ns };
	struct evtchnx_handle *h = h_open_raw(h_target(), &o);

	if (!h)
		h_fail(__FILE__, __LINE__, "evtchnx_open(busy_poll_ns %llu): %s",
		       (unsigned long long)ns, evtchnx_strerror(-errno));
	return h;
}

CASE(busy_poll_limit_at_open)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = h_dom(1) };

	o.busy_poll_ns = 1000000001ull;
	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	o.busy_poll_ns = UINT64_MAX;
	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	open_busy(1, 1000000000ull);
	open_busy(1, 1);
}

struct sender {
	struct evtchnx_handle *h;
	uint32_t port;
	unsigned int delay_ms;
};

static void *send_later(void *arg)
{
	struct sender *s = arg;

	h_sleep_ms(s->delay_ms);
	CHECK_OK(evtchnx_send(s->h, s->port));
	return NULL;
}

/* The budget is spent looking for an event; the wait still returns the
 * event that is pending, the one that comes during the spin or after it,
 * and -ETIMEDOUT when none comes. */
CASE(busy_poll_wait_returns_events_and_timeouts)
{
	static const uint64_t budgets[] = { 1000, 2000000, 1000000000 };

	for (unsigned int k = 0; k < sizeof(budgets) / sizeof(budgets[0]); k++) {
		struct evtchnx_handle *a = open_busy(1, budgets[k]);
		struct evtchnx_handle *b = open_busy(2, budgets[k]);
		struct sender s;
		pthread_t t;
		uint32_t pa, pb;

		h_note("busy_poll_ns %llu", (unsigned long long)budgets[k]);
		h_channel(a, b, &pa, &pb);
		CHECK_ERR(evtchnx_wait(b, 0), ETIMEDOUT);
		CHECK_ERR(evtchnx_wait(b, 1), ETIMEDOUT);
		/* Pending already. */
		CHECK_OK(evtchnx_send(a, pa));
		CHECK_EQ(evtchnx_wait(b, 5000), pb);
		UNMASK(b, pb);
		/* Sent while b spins or sleeps. */
		s = (struct sender){ .h = a, .port = pa, .delay_ms = 20 };
		CHECK_EQ(pthread_create(&t, NULL, send_later, &s), 0);
		CHECK_EQ(evtchnx_wait(b, 10000), pb);
		pthread_join(t, NULL);
		UNMASK(b, pb);
		/* Forever (-1) also ends with the event. */
		s.delay_ms = 5;
		CHECK_EQ(pthread_create(&t, NULL, send_later, &s), 0);
		CHECK_EQ(evtchnx_wait(b, -1), pb);
		pthread_join(t, NULL);
		UNMASK(b, pb);
		EXPECT_NONE(b);
		close_h(a);
		close_h(b);
	}
}
