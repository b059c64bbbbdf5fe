/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * conf_badinput.c - garbage in: huge ports, DOMID_SELF where it does not
 * belong, reserved domids, bad virqs, bad buffers and sizes, and bounded
 * random sequences of calls.  The documented errno every time, never a
 * crash, and the handle keeps working afterwards.
 */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static const uint32_t reserved[] = { 0x7FF1, 0x7FF2, 0x7FF3, 0x7FF4, 0x7FF5,
				     0x7FFF, 0x8000, 0xFFFE, 0xFFFF };
#define NRESERVED (sizeof(reserved) / sizeof(reserved[0]))

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* A port number: mostly interesting edges, sometimes anything. */
static uint32_t rnd_port(void)
{
	static const uint32_t edge[] = { 0, 1, 2, 3, 4095, 4096, 4097, 0x7FFF,
					 0x8000, 0xFFFF, 0x10000,
					 EVTCHNX_SIM_MAX_PORTS - 1,
					 EVTCHNX_SIM_MAX_PORTS,
					 EVTCHNX_SIM_MAX_PORTS + 1, 0x7FFFFFFF,
					 0x80000000u, 0x80000001u, 0xFFFFFFFEu,
					 0xFFFFFFFFu };

	switch (rnd() % 4) {
	case 0:
		return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return rnd();
	default:
		return 1 + rnd() % 16;
	}
}

static uint32_t rnd_domid(void)
{
	static const uint32_t edge[] = { 0, 1, 2, 3, 77, SELF, 0x7FF1, 0x7FFF,
					 0xFFFF, 0x10000, 0xFFFFFFFFu };

	if (rnd() % 4 == 0)
		return rnd();
	return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
}

static bool one_of(int r, const int *ok, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r == ok[i])
			return true;
	return false;
}

#define EXPECT_ONE_OF(r, call, ...)                                            \
	do {                                                                   \
		static const int ok_[] = { __VA_ARGS__ };                      \
		if (!one_of((r), ok_, sizeof(ok_) / sizeof(ok_[0])))           \
			h_fail(__FILE__, __LINE__, "%s -> %d (%s): not a documented result", \
			       (call), (r), evtchnx_strerror(r));              \
	} while (0)

CASE(huge_ports_on_own_port_ops)
{
	static const uint32_t sim_bad[] = { EVTCHNX_SIM_MAX_PORTS,
					    EVTCHNX_SIM_MAX_PORTS + 1,
					    EVTCHNX_SIM_MAX_PORTS + 123,
					    2 * EVTCHNX_SIM_MAX_PORTS,
					    0x7FFFFFFF };
	static const uint32_t all_bad[] = { 0, 0x80000000u, 0x80000001u,
					    0xFFFFFFFEu, 0xFFFFFFFFu };
	struct evtchnx_handle *h = open_dom(1);

	for (size_t i = 0; i < sizeof(all_bad) / sizeof(all_bad[0]); i++) {
		CHECK_ERR(evtchnx_send(h, all_bad[i]), EINVAL);
		CHECK_ERR(evtchnx_unbind(h, all_bad[i]), EINVAL);
		CHECK_ERR(evtchnx_unmask(h, all_bad[i]), EINVAL);
		CHECK_ERR(evtchnx_is_pending(h, all_bad[i]), EINVAL);
	}
	if (h_is_xen())
		return;
	for (size_t i = 0; i < sizeof(sim_bad) / sizeof(sim_bad[0]); i++) {
		CHECK_ERR(evtchnx_send(h, sim_bad[i]), EINVAL);
		CHECK_ERR(evtchnx_unbind(h, sim_bad[i]), EINVAL);
		CHECK_ERR(evtchnx_unmask(h, sim_bad[i]), EINVAL);
		CHECK_ERR(evtchnx_is_pending(h, sim_bad[i]), EINVAL);
	}
}

CASE(huge_ports_on_bind_and_status)
{
	struct evtchnx_handle *h = open_dom(1);
	struct evtchnx_status st;
	uint32_t d = (uint32_t)evtchnx_domid(h);

	CHECK_ERR(evtchnx_bind_interdomain(h, SELF, 0xFFFFFFFFu), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(h, d, 0x80000000u), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(h, SELF, h_port_limit()), EINVAL);
	CHECK_ERR(h_status(h, SELF, 0xFFFFFFFFu, &st), EINVAL);
	CHECK_ERR(h_status(h, d, 0x80000000u, &st), EINVAL);
	CHECK_ERR(h_status(h, SELF, h_port_limit(), &st), EINVAL);
	/* Nothing was allocated by the failures. */
	EXPECT_NONE(h);
}

CASE(adopt_garbage_ports)
{
	struct evtchnx_handle *h;

	require_sim(H_SIM_ONLY_ADOPT);
	h = open_dom(2);
	CHECK_ERR(evtchnx_adopt(h, 0), EINVAL);
	CHECK_ERR(evtchnx_adopt(h, EVTCHNX_SIM_MAX_PORTS), EINVAL);
	CHECK_ERR(evtchnx_adopt(h, 0x7FFFFFFF), EINVAL);
	CHECK_ERR(evtchnx_adopt(h, 0x80000000u), EINVAL);
	CHECK_ERR(evtchnx_adopt(h, 0xFFFFFFFFu), EINVAL);
}

CASE(reserved_domids_esrch_where_looked_up)
{
	struct evtchnx_handle *h = open_dom(1);
	struct evtchnx_status st;

	for (size_t i = 0; i < NRESERVED; i++) {
		uint32_t r = reserved[i];

		CHECK_ERR(evtchnx_alloc_unbound(h, r, SELF), ESRCH);
		CHECK_ERR(evtchnx_alloc_unbound(h, r, 0), ESRCH);
		CHECK_ERR(evtchnx_bind_interdomain(h, r, 1), ESRCH);
		CHECK_ERR(evtchnx_bind_interdomain(h, r, 0xFFFFFFFFu), ESRCH);
		CHECK_ERR(h_status(h, r, 0, &st), ESRCH);
		CHECK_ERR(h_status(h, r, 0xFFFFFFFFu, &st), ESRCH);
		CHECK_ERR(evtchnx_reset(h, r), ESRCH);
	}
	/* Nothing was allocated by the failures. */
	EXPECT_NONE(h);
}

CASE(reserved_remote_domid_not_validated)
{
	struct evtchnx_handle *h = open_dom(1);

	/* alloc_unbound does not look the remote domain up. */
	for (size_t i = 0; i < NRESERVED; i++) {
		int p = CHECK_OK(evtchnx_alloc_unbound(h, SELF, reserved[i]));

		CHECK_UNBOUND(h, SELF, p, reserved[i]);
		CHECK_OK(evtchnx_unbind(h, p));
	}
}

CASE(reserved_domids_toolstack)
{
	struct evtchnx_status st;
	struct evtchnx_handle *c;

	require_sim(H_SIM_ONLY_TOOLSTACK);
	c = open_dom(0);
	for (size_t i = 0; i < NRESERVED; i++) {
		CHECK_ERR(evtchnx_domain_create(c, reserved[i]), EINVAL);
		CHECK_ERR(evtchnx_domain_destroy(c, reserved[i]), EINVAL);
		CHECK_ERR(evtchnx_raise_virq(c, reserved[i], 0), ESRCH);
		/* The control domain may look at any domain: still none. */
		CHECK_ERR(h_status(c, reserved[i], 0, &st), ESRCH);
		CHECK_ERR(h_status(c, reserved[i], 0xFFFFFFFFu, &st), ESRCH);
	}
}

CASE(domid_self_where_not_allowed)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = SELF };
	struct evtchnx_handle *h;

	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	h = open_dom(1);
	CHECK_ERR(evtchnx_restrict(h, SELF), EINVAL);
	/* Still unrestricted. */
	CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
	if (!h_is_xen()) {
		struct evtchnx_handle *c = open_dom(0);

		CHECK_ERR(evtchnx_domain_create(c, SELF), EINVAL);
		CHECK_ERR(evtchnx_domain_destroy(c, SELF), EINVAL);
	}
}

CASE(bad_virqs)
{
	static const uint32_t bad[] = { 24, 25, 31, 32, 0xFF, 0x100, 0x7FFFFFFF,
					0x80000000u, 0xFFFFFFFFu };
	struct evtchnx_handle *h = open_dom(1);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_ERR(evtchnx_bind_virq(h, bad[i]), EINVAL);
	EXPECT_NONE(h);
	if (!h_is_xen()) {
		struct evtchnx_handle *c = open_dom(0);

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK_ERR(evtchnx_raise_virq(c, 1, bad[i]), EINVAL);
	}
}

CASE(pending_batch_bad_arguments)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb, ports[4];

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_ERR(evtchnx_pending_batch(b, NULL, 0), EINVAL);
	CHECK_ERR(evtchnx_pending_batch(b, NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_pending_batch(b, NULL, UINT_MAX), EINVAL);
	CHECK_ERR(evtchnx_pending_batch(b, ports, 0), EINVAL);
	/* A huge max with a small buffer is fine while few are pending. */
	CHECK_EQ(evtchnx_pending_batch(b, ports, UINT_MAX), 0);
	CHECK_OK(evtchnx_send(a, pa));
	if (h_is_xen())
		CHECK_READABLE(b);
	memset(ports, 0xEE, sizeof(ports));
	CHECK_EQ(evtchnx_pending_batch(b, ports, UINT_MAX), 1);
	CHECK_EQ(ports[0], pb);
	CHECK_EQ(ports[1], 0xEEEEEEEEu);
}

struct status_buf {
	struct evtchnx_status st;
	unsigned char tail[32];
};

static void check_untouched(const struct status_buf *b, size_t from)
{
	const unsigned char *p = (const unsigned char *)b;

	for (size_t i = from; i < sizeof(*b); i++)
		if (p[i] != 0xAB)
			h_fail(__FILE__, __LINE__,
			       "evtchnx_status wrote byte %zu beyond st->sz = %zu",
			       i, from);
}

CASE(status_bad_buffers)
{
	struct evtchnx_handle *h = open_dom(1);
	struct status_buf b;
	int p = CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0x7FEF));
	size_t part = offsetof(struct evtchnx_status, vcpu);

	CHECK_ERR(evtchnx_status(h, SELF, p, NULL), EINVAL);
	memset(&b, 0xAB, sizeof(b));
	b.st.sz = 0;
	CHECK_ERR(evtchnx_status(h, SELF, p, &b.st), EINVAL);
	b.st.sz = sizeof(size_t) - 1;
	CHECK_ERR(evtchnx_status(h, SELF, p, &b.st), EINVAL);
	/* Only sz: nothing else may be written. */
	memset(&b, 0xAB, sizeof(b));
	b.st.sz = sizeof(size_t);
	CHECK_EQ(evtchnx_status(h, SELF, p, &b.st), 0);
	check_untouched(&b, sizeof(size_t));
	/* An older caller knowing only state. */
	memset(&b, 0xAB, sizeof(b));
	b.st.sz = part;
	CHECK_EQ(evtchnx_status(h, SELF, p, &b.st), 0);
	CHECK_EQ(b.st.state, EVTCHNX_STATE_UNBOUND);
	check_untouched(&b, part);
	/* A newer caller with a larger struct. */
	memset(&b, 0xAB, sizeof(b));
	b.st.sz = sizeof(b);
	CHECK_EQ(evtchnx_status(h, SELF, p, &b.st), 0);
	CHECK_EQ(b.st.state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(b.st.remote_domid, 0x7FEF);
	/* A bad port with a NULL buffer is still -EINVAL. */
	CHECK_ERR(evtchnx_status(h, SELF, 0xFFFFFFFFu, NULL), EINVAL);
}

CASE(wait_extreme_timeouts)
{
	struct evtchnx_handle *a, *b;
	uint32_t pa, pb;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	CHECK_OK(evtchnx_send(a, pa));
	CHECK_EQ(evtchnx_wait(b, INT_MIN), pb);
	UNMASK(b, pb);
	CHECK_OK(evtchnx_send(a, pa));
	CHECK_EQ(evtchnx_wait(b, INT_MAX), pb);
	CHECK_ERR(evtchnx_wait(b, 1), ETIMEDOUT);
}

CASE(random_own_port_ops)
{
	struct evtchnx_handle *h = open_dom(1);

	rng_state = 0x9E3779B97F4A7C15ull;
	h_note("seed %#llx", (unsigned long long)rng_state);
	for (int i = 0; i < 4000; i++) {
		uint32_t p = rnd_port();
		int r, expect;

		switch (i % 4) {
		case 0: r = evtchnx_send(h, p); break;
		case 1: r = evtchnx_unbind(h, p); break;
		case 2: r = evtchnx_unmask(h, p); break;
		default: r = evtchnx_is_pending(h, p); break;
		}
		/* The handle owns nothing. */
		if (h_is_xen()) {
			if (r != -EINVAL && r != -ENOTCONN)
				h_fail(__FILE__, __LINE__,
				       "op %d on port %#x -> %d (%s)", i % 4, p,
				       r, evtchnx_strerror(r));
			if (p == 0 || p >= 0x80000000u)
				CHECK_EQ(r, -EINVAL);
			continue;
		}
		expect = (p == 0 || p >= EVTCHNX_SIM_MAX_PORTS) ? -EINVAL
								 : -ENOTCONN;
		if (r != expect)
			h_fail(__FILE__, __LINE__,
			       "op %d on port %#x: expected %d (%s), got %d (%s)",
			       i % 4, p, expect, evtchnx_strerror(expect), r,
			       evtchnx_strerror(r));
	}
	/* Still works. */
	{
		int p1 = CHECK_OK(evtchnx_alloc_unbound(h, SELF, SELF));
		int p2 = CHECK_OK(evtchnx_bind_interdomain(h, SELF, p1));

		EXPECT_PORT(h, p2);
	}
}

CASE(random_calls_guest_handle)
{
	struct evtchnx_handle *g, *peer;
	struct evtchnx_status st;
	uint32_t ports[8];

	require_sim("random calls from a privileged dom0 handle could disturb the host");
	g = open_dom(1);
	peer = open_dom(2);
	for (int i = 0; i < 8; i++)
		CHECK_OK(evtchnx_alloc_unbound(peer, SELF, 1));
	rng_state = 0xD1B54A32D192ED03ull;
	h_note("seed %#llx", (unsigned long long)rng_state);
	for (int i = 0; i < 3000; i++) {
		uint32_t d = rnd_domid(), p = rnd_port();
		char call[96];
		int r;

		switch (rnd() % 14) {
		case 0:
			r = evtchnx_alloc_unbound(g, d, rnd_domid());
			snprintf(call, sizeof(call), "alloc_unbound(%#x)", d);
			if (r > 0)
				continue;
			EXPECT_ONE_OF(r, call, -EINVAL, -ESRCH, -ENOSPC, -EPERM);
			break;
		case 1:
			r = evtchnx_bind_interdomain(g, d, p);
			snprintf(call, sizeof(call), "bind_interdomain(%#x, %#x)", d, p);
			if (r > 0)
				continue;
			EXPECT_ONE_OF(r, call, -EINVAL, -ESRCH, -ENOSPC);
			break;
		case 2:
			r = evtchnx_bind_virq(g, rnd() % 2 ? rnd() % 30 : rnd());
			if (r > 0)
				continue;
			EXPECT_ONE_OF(r, "bind_virq", -EINVAL, -EEXIST, -EBUSY, -ENOSPC);
			break;
		case 3:
			r = evtchnx_send(g, p);
			snprintf(call, sizeof(call), "send(%#x)", p);
			EXPECT_ONE_OF(r, call, 0, -EINVAL, -ENOTCONN);
			break;
		case 4:
			r = evtchnx_unbind(g, p);
			snprintf(call, sizeof(call), "unbind(%#x)", p);
			EXPECT_ONE_OF(r, call, 0, -EINVAL, -ENOTCONN);
			break;
		case 5:
			r = evtchnx_unmask(g, p);
			snprintf(call, sizeof(call), "unmask(%#x)", p);
			EXPECT_ONE_OF(r, call, 0, -EINVAL, -ENOTCONN);
			break;
		case 6:
			r = evtchnx_is_pending(g, p);
			snprintf(call, sizeof(call), "is_pending(%#x)", p);
			EXPECT_ONE_OF(r, call, 0, 1, -EINVAL, -ENOTCONN);
			break;
		case 7:
			r = h_status(g, d, p, &st);
			snprintf(call, sizeof(call), "status(%#x, %#x)", d, p);
			EXPECT_ONE_OF(r, call, 0, -EINVAL, -ESRCH, -EPERM);
			break;
		case 8:
			r = evtchnx_adopt(g, p);
			snprintf(call, sizeof(call), "adopt(%#x)", p);
			EXPECT_ONE_OF(r, call, 0, -EINVAL, -EBUSY);
			break;
		case 9:
			r = evtchnx_pending_batch(g, ports, 1 + rnd() % 8);
			if (r < 0)
				CHECK_OK(r);
			for (int k = 0; k < r; k++)
				EXPECT_ONE_OF(evtchnx_unmask(g, ports[k]),
					      "unmask(taken)", 0, -ENOTCONN);
			break;
		case 10:
			r = evtchnx_wait(g, 0);
			if (r >= 0)
				EXPECT_ONE_OF(evtchnx_unmask(g, (uint32_t)r),
					      "unmask(taken)", 0, -ENOTCONN);
			else
				EXPECT_ONE_OF(r, "wait(0)", -ETIMEDOUT);
			break;
		case 11:
			/* Only invalid restrictions: a valid one would end
			 * the run. */
			r = evtchnx_restrict(g, rnd() % 2 ? 0 : 0x7FF0 + rnd() % 0x8010);
			EXPECT_ONE_OF(r, "restrict(invalid)", -EINVAL);
			break;
		case 12:
			r = evtchnx_raise_virq(g, d, rnd() % 30);
			EXPECT_ONE_OF(r, "raise_virq(guest)", -EPERM, -EINVAL, -ESRCH);
			break;
		default:
			r = rnd() % 2 ? evtchnx_domain_create(g, d)
				      : evtchnx_domain_destroy(g, d);
			EXPECT_ONE_OF(r, "domain_create/destroy(guest)", -EPERM,
				      -EINVAL);
			break;
		}
	}
	/* Both handles still work together. */
	{
		uint32_t pa, pb;
		int r;

		/* Take whatever the random sends left at the peer. */
		while ((r = evtchnx_pending(peer)) >= 0)
			;
		CHECK_EQ(r, -EAGAIN);

		CHECK_OK(evtchnx_reset(g, SELF));
		EXPECT_NONE(g);
		h_channel(g, peer, &pa, &pb);
		CHECK_OK(evtchnx_send(g, pa));
		EXPECT_PORT(peer, pb);
	}
	/* Closing both leaves nothing behind: a new domain 1 starts empty. */
	close_h(g);
	close_h(peer);
	g = open_dom(1);
	CHECK_EQ(evtchnx_alloc_unbound(g, SELF, 0), 1);
}

CASE(random_status_from_control)
{
	struct evtchnx_handle *c = open_dom(0);
	struct evtchnx_status st;

	rng_state = 0x2545F4914F6CDD1Dull;
	h_note("seed %#llx", (unsigned long long)rng_state);
	for (int i = 0; i < 3000; i++) {
		uint32_t d = rnd_domid(), p = rnd_port();
		char call[64];
		int r = h_status(c, d, p, &st);

		snprintf(call, sizeof(call), "status(%#x, %#x)", d, p);
		EXPECT_ONE_OF(r, call, 0, -EINVAL, -ESRCH);
		if (d > 0xFFFF)
			CHECK_EQ(r, -EINVAL);
		if (r == 0 && st.state > EVTCHNX_STATE_IPI)
			h_fail(__FILE__, __LINE__, "%s: state %u", call, st.state);
	}
}

CASE(many_failed_calls_leak_nothing)
{
	struct evtchnx_handle *h = open_dom(1);
	struct evtchnx_status st;
	int before, after, p;

	before = h_settled_fds(-1);
	for (int i = 0; i < 5000; i++) {
		CHECK_ERR(evtchnx_send(h, 0), EINVAL);
		CHECK_ERR(evtchnx_bind_interdomain(h, 77, 1), ESRCH);
		CHECK_ERR(h_status(h, SELF, 0xFFFFFFFFu, &st), EINVAL);
		CHECK_ERR(evtchnx_alloc_unbound(h, 0x10000, 0), EINVAL);
	}
	after = h_settled_fds(before);
	CHECK_EQ(after, before);
	p = CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
	if (h_fresh_domains())
		CHECK_EQ(p, 1);
}
