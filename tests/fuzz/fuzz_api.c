/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * fuzz_api.c - libFuzzer target: the public API (include/evtchnx.h) on
 * target "sim", model-checked.
 *
 * Each input opens four handles on a private lab: domain 0 (the control
 * domain), domain 1, domain 2, and a second handle of domain 1.  The input
 * then picks operations on them, two to four bytes each, with small
 * domids and ports and a few hostile values.  A reference model (each
 * domain's ports: state, peer, owner, pending and mask bits; which domains
 * exist and how; each handle's restriction) predicts every result from
 * what the header states:
 *   - the errno of each call (the checks and their order), and the port a
 *     successful allocation returns (first fit: the lowest free one; the
 *     port table grows in buckets of 64, also on a call that then fails);
 *   - delivery: a send on a channel makes the peer's port pending (an
 *     UNBOUND port drops it); bind_interdomain leaves the new port pending;
 *     raise_virq makes the bound port pending; pending() takes a port that
 *     is pending and not masked, and masks it; a send to a masked port is
 *     latched and delivered after unmask(); is_pending() reports the bit,
 *     latched ones included; the fd is readable while a port can be taken;
 *     an event raised on a port no handle owns waits for its adoption;
 *   - closing a handle closes its ports (the peers become UNBOUND, offered
 *     to the closed port's domain) and destroys an implicitly created
 *     domain with its last handle; destroying a domain orphans its handles
 *     (-ESRCH from then on);
 *   - status() of every port, from the control domain, now and then.
 * Where the header leaves room the checks do too: ports taken at once
 * (pending_batch) may be any of the deliverable ones, in any order.
 * A disagreement aborts (a libFuzzer finding).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtchnx.h"

#define FUZZ_NAME "fuzz_api"
#include "fuzz_input.h"

#define NH 4        /* handles */
#define MD 6        /* domids 0..MD-1 */
#define MP 256      /* ports modelled per domain */
#define BUCKET 64u
#define SELF EVTCHNX_DOMID_SELF
#define MAXP EVTCHNX_SIM_MAX_PORTS
#define MAX_OPS 200

static unsigned long op_no; /* printed with a finding */

/* ---- input ------------------------------------------------------------------ */

static uint32_t arg_domid(uint8_t b)
{
	static const uint32_t odd[] = { SELF, SELF, 0x7FF1, 0x10000, 0xFFFFFFFFu };

	if (b < 0xE0)
		return b % MD;
	return odd[b % (sizeof(odd) / sizeof(odd[0]))];
}

static uint32_t arg_port(uint8_t b)
{
	static const uint32_t odd[] = { 0, 63, 64, 65, 127, 128, MAXP - 1, MAXP,
					0xFFFFFFFFu };

	if (b < 0xE0)
		return b % 24;
	return odd[b % (sizeof(odd) / sizeof(odd[0]))];
}

/* ---- the model ---------------------------------------------------------------- */

enum { FREE, UNBOUND, INTERDOMAIN, VIRQ };

struct mport {
	uint8_t state;
	uint8_t virq;
	uint16_t rdom;
	uint32_t rport;
	int owner; /* handle index, -1: none */
	bool pending, masked;
};

struct mdom {
	bool exists, explicit_created;
	uint32_t table; /* ports in its table */
	struct mport p[MP];
};

struct mhandle {
	struct evtchnx_handle *h;
	uint32_t dom;
	bool orphaned;
	uint32_t restrict_to;
};

static const uint32_t hdom[NH] = { 0, 1, 2, 1 };
static struct mdom md[MD];
static struct mhandle mh[NH];

static bool exists(uint32_t d)
{
	return d < MD && md[d].exists;
}

static struct mport *mp(uint32_t d, uint32_t port)
{
	return exists(d) && port < MP && port < md[d].table ? &md[d].p[port] : NULL;
}

static void dom_new(uint32_t d, bool explicit_created)
{
	memset(&md[d], 0, sizeof(md[d]));
	md[d].exists = true;
	md[d].explicit_created = explicit_created;
	md[d].table = BUCKET;
	for (uint32_t p = 0; p < MP; p++)
		md[d].p[p].owner = -1;
}

/* Close port @port of @d as EVTCHNOP_close does. */
static void port_close(uint32_t d, uint32_t port)
{
	struct mport *p = &md[d].p[port];

	if (p->state == INTERDOMAIN) {
		struct mport *q = mp(p->rdom, p->rport);

		if (q && q->state == INTERDOMAIN && q->rdom == d &&
		    q->rport == port) {
			q->state = UNBOUND;
			q->rdom = (uint16_t)d;
			q->rport = 0;
		}
	}
	*p = (struct mport){ .owner = -1 };
}

static void dom_close_all(uint32_t d)
{
	for (uint32_t p = 1; p < md[d].table && p < MP; p++)
		if (md[d].p[p].state != FREE)
			port_close(d, p);
}

static void dom_destroy(uint32_t d)
{
	dom_close_all(d);
	md[d].exists = false;
	for (int i = 0; i < NH; i++)
		if (mh[i].h && mh[i].dom == d)
			mh[i].orphaned = true;
}

/* First fit in @d; grows the table as Xen does.  -1 when beyond the model. */
static int first_fit(uint32_t d)
{
	uint32_t p;

	for (p = 1; p < md[d].table; p++)
		if (md[d].p[p].state == FREE)
			return (int)p;
	if (p >= MP)
		return -1;
	md[d].table += BUCKET;
	return (int)p;
}

static uint32_t resolve(int i, uint32_t dom)
{
	return dom == SELF ? mh[i].dom : dom;
}

static bool deliverable(int i, uint32_t *first)
{
	uint32_t d = mh[i].dom;

	if (mh[i].orphaned || !exists(d))
		return false;
	for (uint32_t p = 1; p < md[d].table && p < MP; p++) {
		const struct mport *q = &md[d].p[p];

		if (q->state != FREE && q->owner == i && q->pending && !q->masked) {
			if (first)
				*first = p;
			return true;
		}
	}
	return false;
}

static bool can_take(int i, uint32_t port)
{
	const struct mport *q = mp(mh[i].dom, port);

	return !mh[i].orphaned && q && q->state != FREE && q->owner == i &&
	       q->pending && !q->masked;
}

/* ---- checks ------------------------------------------------------------------- */

static void expect(const char *what, int rc, int want)
{
	if (rc != want)
		die("operation %lu: %s returned %d (%s), expected %d (%s)", op_no, what, rc,
		    evtchnx_strerror(rc), want, evtchnx_strerror(want));
}

/* The own-port contract. */
static int own_port(int i, uint32_t port)
{
	const struct mport *q;

	if (mh[i].orphaned)
		return -ESRCH;
	if (port == 0 || port >= MAXP)
		return -EINVAL;
	q = mp(mh[i].dom, port);
	if (!q || q->state == FREE || q->owner != i)
		return -ENOTCONN;
	return 0;
}

static void check_handle(int i)
{
	struct pollfd pfd;
	uint32_t d = mh[i].dom;

	if (mh[i].orphaned)
		return;
	for (uint32_t p = 1; p < md[d].table && p < MP; p++) {
		const struct mport *q = &md[d].p[p];

		if (q->state == FREE || q->owner != i)
			continue;
		expect("is_pending", evtchnx_is_pending(mh[i].h, p), q->pending);
	}
	pfd = (struct pollfd){ .fd = evtchnx_fd(mh[i].h), .events = POLLIN };
	if (deliverable(i, NULL) && poll(&pfd, 1, 0) != 1)
		die("handle %d: a port can be taken but the fd is not readable", i);
}

static void check_status_all(void)
{
	for (uint32_t d = 0; d < MD; d++) {
		struct evtchnx_status st = { .sz = sizeof(st) };

		if (!exists(d)) {
			expect("status(gone domain)",
			       evtchnx_status(mh[0].h, d, 1, &st), -ESRCH);
			continue;
		}
		for (uint32_t p = 0; p <= md[d].table && p < MP; p++) {
			const struct mport *q = mp(d, p);
			int rc = evtchnx_status(mh[0].h, d, p, &st);

			if (!q) {
				expect("status(beyond the table)", rc, -EINVAL);
				continue;
			}
			expect("status", rc, 0);
			if (st.state != (q->state == FREE ? EVTCHNX_STATE_CLOSED :
					 q->state == UNBOUND ? EVTCHNX_STATE_UNBOUND :
					 q->state == INTERDOMAIN ? EVTCHNX_STATE_INTERDOMAIN :
					 EVTCHNX_STATE_VIRQ) ||
			    (q->state == UNBOUND && st.remote_domid != q->rdom) ||
			    (q->state == INTERDOMAIN && (st.remote_domid != q->rdom ||
							 st.remote_port != q->rport)) ||
			    (q->state == VIRQ && st.virq != q->virq))
				die("status(%u, %u): state %u remote %u:%u virq %u; model state %u remote %u:%u virq %u",
				    d, p, st.state, st.remote_domid, st.remote_port,
				    st.virq, q->state, q->rdom, q->rport, q->virq);
		}
	}
}

/* ---- handles -------------------------------------------------------------------- */

static void handle_open(int i)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = hdom[i] };

	mh[i] = (struct mhandle){ .dom = hdom[i] };
	mh[i].h = evtchnx_open("sim", &o);
	if (!mh[i].h)
		die("evtchnx_open(sim, domain %u): %s", hdom[i], strerror(errno));
	if (!exists(hdom[i]))
		dom_new(hdom[i], false);
}

static void handle_close(int i)
{
	uint32_t d = mh[i].dom;
	bool others = false;

	evtchnx_close(mh[i].h);
	mh[i].h = NULL;
	if (mh[i].orphaned || !exists(d))
		return;
	for (uint32_t p = 1; p < md[d].table && p < MP; p++)
		if (md[d].p[p].state != FREE && md[d].p[p].owner == i)
			port_close(d, p);
	for (int k = 0; k < NH; k++)
		others |= k != i && mh[k].h && !mh[k].orphaned && mh[k].dom == d;
	if (!others && !md[d].explicit_created && d != 0)
		dom_destroy(d);
}

/* ---- operations ------------------------------------------------------------------- */

static void op_alloc(int i, uint32_t dom, uint32_t rdom)
{
	uint32_t d = resolve(i, dom);
	int want, rc;

	if (dom > 0xFFFF || rdom > 0xFFFF)
		want = -EINVAL;
	else if (mh[i].orphaned)
		want = -ESRCH;
	else if (mh[i].restrict_to)
		want = -EACCES;
	else if (!exists(d))
		want = -ESRCH;
	else if ((want = first_fit(d)) < 0)
		return;
	else if (d != mh[i].dom && mh[i].dom != 0)
		want = -EPERM;
	rc = evtchnx_alloc_unbound(mh[i].h, dom, rdom);
	expect("alloc_unbound", rc, want);
	if (rc > 0)
		md[d].p[rc] = (struct mport){
			.state = UNBOUND,
			.rdom = (uint16_t)(rdom == SELF ? mh[i].dom : rdom),
			.owner = d == mh[i].dom ? i : -1 };
}

static void op_bind(int i, uint32_t rdom, uint32_t rport)
{
	uint32_t own = mh[i].dom, r = resolve(i, rdom);
	struct mport *q;
	int want, rc;

	if (rdom > 0xFFFF)
		want = -EINVAL;
	else if (mh[i].orphaned)
		want = -ESRCH;
	else if (mh[i].restrict_to && rdom != mh[i].restrict_to)
		want = -EACCES;
	else if (!exists(r))
		want = -ESRCH;
	else if ((want = first_fit(own)) < 0)
		return;
	else if (rport >= md[r].table)
		want = -EINVAL;
	else if (rport >= MP)
		return; /* beyond the model (never: the model holds the table) */
	else if ((q = &md[r].p[rport])->state != UNBOUND || q->rdom != own)
		want = -EINVAL;
	rc = evtchnx_bind_interdomain(mh[i].h, rdom, rport);
	expect("bind_interdomain", rc, want);
	if (rc <= 0)
		return;
	md[own].p[rc] = (struct mport){ .state = INTERDOMAIN,
					.rdom = (uint16_t)r, .rport = rport,
					.owner = i, .pending = true };
	q = &md[r].p[rport];
	q->state = INTERDOMAIN;
	q->rport = (uint32_t)rc;
}

static bool global_virq(uint32_t v)
{
	return !(v == 0 || v == 1 || v == 7 || v == 13);
}

static int virq_port(uint32_t d, uint32_t v)
{
	for (uint32_t p = 1; p < md[d].table && p < MP; p++)
		if (md[d].p[p].state == VIRQ && md[d].p[p].virq == v)
			return (int)p;
	return 0;
}

static void op_virq(int i, uint32_t virq)
{
	uint32_t own = mh[i].dom;
	int want, rc;

	if (mh[i].orphaned)
		want = -ESRCH;
	else if (mh[i].restrict_to)
		want = -EACCES;
	else if (virq >= EVTCHNX_NR_VIRQS)
		want = -EINVAL;
	else if (global_virq(virq) && own != 0)
		want = -EBUSY;
	else if (virq_port(own, virq))
		want = -EEXIST;
	else if ((want = first_fit(own)) < 0)
		return;
	rc = evtchnx_bind_virq(mh[i].h, virq);
	expect("bind_virq", rc, want);
	if (rc > 0)
		md[own].p[rc] = (struct mport){ .state = VIRQ, .virq = (uint8_t)virq,
						.owner = i };
}

static void op_adopt(int i, uint32_t port)
{
	struct mport *q = mp(mh[i].dom, port);
	int want, rc;

	if (mh[i].orphaned)
		want = -ESRCH;
	else if (mh[i].restrict_to)
		want = -EACCES;
	else if (port == 0 || !q || q->state == FREE)
		want = port >= MP && port < md[mh[i].dom].table ? 1 : -EINVAL;
	else if (q->owner >= 0)
		want = -EBUSY;
	else
		want = 0;
	if (want == 1)
		return; /* beyond the model */
	rc = evtchnx_adopt(mh[i].h, port);
	expect("adopt", rc, want);
	if (rc == 0) {
		q->owner = i;
		q->masked = false;
	}
}

static void op_unbind(int i, uint32_t port)
{
	int want = own_port(i, port);

	expect("unbind", evtchnx_unbind(mh[i].h, port), want);
	if (!want)
		port_close(mh[i].dom, port);
}

static void op_send(int i, uint32_t port)
{
	int want = own_port(i, port);
	struct mport *q = want ? NULL : mp(mh[i].dom, port);

	if (q && q->state == VIRQ)
		want = -EINVAL;
	expect("send", evtchnx_send(mh[i].h, port), want);
	if (!want && q->state == INTERDOMAIN)
		mp(q->rdom, q->rport)->pending = true;
}

static void op_status(int i, uint32_t dom, uint32_t port)
{
	struct evtchnx_status st = { .sz = sizeof(st) };
	uint32_t d = resolve(i, dom);
	int want;

	if (dom > 0xFFFF)
		want = -EINVAL;
	else if (mh[i].orphaned || !exists(d))
		want = -ESRCH;
	else if (port >= md[d].table)
		want = -EINVAL;
	else if (d != mh[i].dom && mh[i].dom != 0)
		want = -EPERM;
	else
		want = 0;
	expect("status", evtchnx_status(mh[i].h, dom, port, &st), want);
}

static void op_reset(int i, uint32_t dom)
{
	uint32_t d = resolve(i, dom);
	int want;

	if (dom > 0xFFFF)
		want = -EINVAL;
	else if (mh[i].orphaned || !exists(d))
		want = -ESRCH;
	else if (d != mh[i].dom && mh[i].dom != 0)
		want = -EPERM;
	else
		want = 0;
	expect("reset", evtchnx_reset(mh[i].h, dom), want);
	if (!want)
		dom_close_all(d);
}

static void op_restrict(int i, uint32_t domid)
{
	int want;

	if (domid > 0xFFFF)
		want = -EINVAL;
	else if (mh[i].orphaned)
		want = -ESRCH;
	else if (mh[i].restrict_to)
		want = -EACCES;
	else if (domid == 0 || domid >= EVTCHNX_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else
		want = 0;
	expect("restrict", evtchnx_restrict(mh[i].h, domid), want);
	if (!want)
		mh[i].restrict_to = domid;
}

static void op_create(int i, uint32_t domid)
{
	int want;

	if (domid > 0xFFFF)
		want = -EINVAL;
	else if (mh[i].orphaned)
		want = -ESRCH;
	else if (mh[i].dom != 0)
		want = -EPERM;
	else if (domid >= EVTCHNX_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else if (exists(domid))
		want = -EEXIST;
	else
		want = 0;
	expect("domain_create", evtchnx_domain_create(mh[i].h, domid), want);
	if (!want)
		dom_new(domid, true);
}

static void op_destroy(int i, uint32_t domid)
{
	int want;

	if (domid > 0xFFFF)
		want = -EINVAL;
	else if (mh[i].orphaned)
		want = -ESRCH;
	else if (mh[i].dom != 0)
		want = -EPERM;
	else if (domid == 0 || domid >= EVTCHNX_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else if (!exists(domid))
		want = -ESRCH;
	else
		want = 0;
	expect("domain_destroy", evtchnx_domain_destroy(mh[i].h, domid), want);
	if (!want)
		dom_destroy(domid);
}

static void op_raise_virq(int i, uint32_t dom, uint32_t virq)
{
	uint32_t d = resolve(i, dom);
	int want, port;

	if (dom > 0xFFFF)
		want = -EINVAL;
	else if (mh[i].orphaned)
		want = -ESRCH;
	else if (mh[i].dom != 0)
		want = -EPERM;
	else if (virq >= EVTCHNX_NR_VIRQS)
		want = -EINVAL;
	else if (!exists(d))
		want = -ESRCH;
	else
		want = 0;
	expect("raise_virq", evtchnx_raise_virq(mh[i].h, dom, virq), want);
	if (!want && (port = virq_port(d, virq)))
		md[d].p[port].pending = true;
}

static void take(int i, int rc, const char *what)
{
	struct mport *q;

	if (rc < 0) {
		if (deliverable(i, NULL))
			die("%s: %d, but a port can be taken", what, rc);
		return;
	}
	if (!can_take(i, (uint32_t)rc))
		die("%s returned port %d, which cannot be taken (model: pending %d masked %d owner %d)",
		    what, rc, mp(mh[i].dom, (uint32_t)rc) ? mp(mh[i].dom, (uint32_t)rc)->pending : -1,
		    mp(mh[i].dom, (uint32_t)rc) ? mp(mh[i].dom, (uint32_t)rc)->masked : -1,
		    mp(mh[i].dom, (uint32_t)rc) ? mp(mh[i].dom, (uint32_t)rc)->owner : -2);
	q = mp(mh[i].dom, (uint32_t)rc);
	q->pending = false;
	q->masked = true;
}

static void op_pending(int i, uint8_t how)
{
	uint32_t ports[8];
	int rc;

	if (mh[i].orphaned)
		return; /* the header says nothing of delivery there */
	switch (how % 3) {
	case 0:
		rc = evtchnx_pending(mh[i].h);
		if (rc < 0)
			expect("pending", rc, -EAGAIN);
		take(i, rc, "pending");
		break;
	case 1:
		rc = evtchnx_wait(mh[i].h, 0);
		if (rc < 0)
			expect("wait(0)", rc, -ETIMEDOUT);
		take(i, rc, "wait(0)");
		break;
	default: {
		unsigned int max = how / 3 % 9;

		rc = evtchnx_pending_batch(mh[i].h, ports, max);
		if (max == 0) {
			expect("pending_batch(max 0)", rc, -EINVAL);
			break;
		}
		if (rc < 0 || rc > (int)max)
			die("pending_batch(%u) returned %d", max, rc);
		if (rc == 0 && deliverable(i, NULL))
			die("pending_batch: none, but a port can be taken");
		for (int k = 0; k < rc; k++)
			take(i, (int)ports[k], "pending_batch");
		break;
	}
	}
}

static void op_unmask(int i, uint32_t port)
{
	int want = own_port(i, port);

	expect("unmask", evtchnx_unmask(mh[i].h, port), want);
	if (!want)
		mp(mh[i].dom, port)->masked = false;
}

static void op_is_pending(int i, uint32_t port)
{
	int want = own_port(i, port);

	if (!want)
		want = mp(mh[i].dom, port)->pending;
	expect("is_pending", evtchnx_is_pending(mh[i].h, port), want);
}

/* ---- the driver ---------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input_start(data, size);
	op_no = 0;
	memset(md, 0, sizeof(md));
	memset(mh, 0, sizeof(mh));
	dom_new(0, true);
	for (int i = 0; i < NH; i++)
		handle_open(i);

	while (in_pos < in_len && op_no < MAX_OPS) {
		uint8_t ctl = next(), a = next(), b = next();
		int i = ctl % NH;

		op_no++;
		if (!mh[i].h)
			handle_open(i);
		switch (ctl / NH % 20) {
		case 0:
			op_alloc(i, arg_domid(a), arg_domid(b));
			break;
		case 1:
			op_bind(i, arg_domid(a), arg_port(b));
			break;
		case 2:
			op_virq(i, a % 26);
			break;
		case 3:
			op_adopt(i, arg_port(a));
			break;
		case 4:
			op_unbind(i, arg_port(a));
			break;
		case 5:
		case 6:
			op_send(i, arg_port(a));
			break;
		case 7:
			op_status(i, arg_domid(a), arg_port(b));
			break;
		case 8:
			op_reset(i, arg_domid(a));
			break;
		case 9:
			if (b == 0x5A) /* rare: it cannot be undone */
				op_restrict(i, arg_domid(a));
			break;
		case 10:
			op_create(i, arg_domid(a));
			break;
		case 11:
			op_destroy(i, arg_domid(a));
			break;
		case 12:
			op_raise_virq(i, arg_domid(a), b % 26);
			break;
		case 13:
		case 14:
			op_pending(i, a);
			break;
		case 15:
		case 16:
			op_unmask(i, arg_port(a));
			break;
		case 17:
			op_is_pending(i, arg_port(a));
			break;
		case 18:
			handle_close(i);
			handle_open(i);
			break;
		case 19:
			check_status_all();
			break;
		}
		for (int k = 0; k < NH; k++)
			check_handle(k);
	}
	check_status_all();
	for (int i = NH - 1; i >= 0; i--)
		handle_close(i);
	return 0;
}
