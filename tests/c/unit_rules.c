/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * unit_rules.c - the sim's hypervisor rules (libevtchn/rules), driven
 * directly: every operation, every errno in the documented order, and the
 * hooks each one calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"
#include "unit.h"

/* ---- recording hooks ---------------------------------------------------- */

enum rec_kind { REC_RAISE = 1, REC_CLEAR, REC_CHANGED };

struct rec {
	int kind;
	uint32_t owner;
	uint32_t domid; /* raise/clear only */
	uint32_t port;
};

/* enough for a reset of a full domain: a clear and a changed per port */
#define MAX_RECS (2 * RULES_MAX_PORTS)
static struct rec recs[MAX_RECS];
static size_t n_recs, n_lost;

static void rec_add(int kind, uint32_t owner, uint32_t domid, uint32_t port)
{
	if (n_recs == MAX_RECS) {
		n_lost++;
		return;
	}
	recs[n_recs++] = (struct rec){ kind, owner, domid, port };
}

static void hook_raise(void *ctx, const struct rules_event *ev)
{
	(void)ctx;
	rec_add(REC_RAISE, ev->owner, ev->domid, ev->port);
}

static void hook_clear(void *ctx, const struct rules_event *ev)
{
	(void)ctx;
	rec_add(REC_CLEAR, ev->owner, ev->domid, ev->port);
}

static void hook_changed(void *ctx, uint32_t owner, uint32_t port)
{
	(void)ctx;
	rec_add(REC_CHANGED, owner, 0, port);
}

static const struct rules_hooks hooks = {
	.ctx = NULL,
	.raise = hook_raise,
	.clear = hook_clear,
	.changed = hook_changed,
};

static void rec_reset(void)
{
	n_recs = 0;
	n_lost = 0;
}

#define RAISE(o, d, p) { REC_RAISE, (o), (d), (p) }
#define CLEAR(o, d, p) { REC_CLEAR, (o), (d), (p) }
#define CHANGED(o, p) { REC_CHANGED, (o), 0, (p) }

static const char *kind_name(int kind)
{
	switch (kind) {
	case REC_RAISE: return "raise";
	case REC_CLEAR: return "clear";
	case REC_CHANGED: return "changed";
	default: return "?";
	}
}

static void print_rec(const char *what, const struct rec *r)
{
	printf("      %s %s(owner %u, domid %u, port %u)\n", what,
	       kind_name(r->kind), r->owner, r->domid, r->port);
}

/* The hooks called since the last check are exactly @exp, in order. */
static void expect_events(int line, const struct rec *exp, size_t n)
{
	size_t i;
	int bad = n != n_recs || n_lost;

	for (i = 0; !bad && i < n; i++)
		bad = memcmp(&exp[i], &recs[i], sizeof(exp[i])) != 0;
	if (bad) {
		printf("    %s:%d: unexpected hook calls (%zu recorded, %zu expected)\n",
		       __FILE__, line, n_recs, n);
		for (i = 0; i < n; i++)
			print_rec("expected", &exp[i]);
		for (i = 0; i < n_recs && i < 16; i++)
			print_rec("got     ", &recs[i]);
		case_failed = 1;
	}
	rec_reset();
}

#define EXPECT_EVENTS(...)                                                     \
	expect_events(__LINE__, (const struct rec[]){ __VA_ARGS__ },           \
		      sizeof((const struct rec[]){ __VA_ARGS__ }) /            \
			      sizeof(struct rec))
#define EXPECT_NO_EVENTS() expect_events(__LINE__, NULL, 0)

static size_t count_recs(int kind, uint32_t owner, uint32_t port)
{
	size_t i, n = 0;

	for (i = 0; i < n_recs; i++)
		if (recs[i].kind == kind && recs[i].owner == owner &&
		    recs[i].port == port)
			n++;
	return n;
}

/* ---- fixtures ----------------------------------------------------------- */

#define SELF RULES_DOMID_SELF

static struct rules_lab *lab;
static struct rules_handle H[RULES_MAX_DOMAINS + 16];

static void fresh_lab(void)
{
	rules_lab_free(lab);
	memset(H, 0, sizeof(H));
	lab = rules_lab_new(&hooks);
	CHECK(lab != NULL);
	if (!lab) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	rec_reset();
}

/* Handle H[i] (id i) joins as @domid. */
static struct rules_handle *join(unsigned int i, uint32_t domid)
{
	int rc;

	H[i].id = i;
	rc = rules_join(lab, &H[i], domid);
	CHECK_EQ(rc, 0);
	return &H[i];
}

static void port_is(int line, uint32_t dom, uint32_t port, int state,
		    uint32_t remote_dom, uint32_t remote_port, uint32_t owner)
{
	const struct rules_port *p = rules_port_of(lab, dom, port);

	if (!p) {
		printf("    %s:%d: port %u of domain %u does not exist\n",
		       __FILE__, line, port, dom);
		case_failed = 1;
		return;
	}
	if (p->state != state || p->remote_dom != remote_dom ||
	    p->remote_port != remote_port || p->owner != owner) {
		printf("    %s:%d: port %u of domain %u: state %u remote %u:%u owner %u,"
		       " expected state %d remote %u:%u owner %u\n",
		       __FILE__, line, port, dom, p->state, p->remote_dom,
		       p->remote_port, p->owner, state, remote_dom,
		       remote_port, owner);
		case_failed = 1;
	}
}

#define PORT_IS(dom, port, state, rdom, rport, owner)                          \
	port_is(__LINE__, (dom), (port), (state), (rdom), (rport), (owner))
#define PORT_FREE(dom, port) PORT_IS((dom), (port), RULES_FREE, 0, 0, 0)

static struct evtchnx_status status_of(struct rules_handle *h, uint32_t dom,
				       uint32_t port, int *rc)
{
	struct evtchnx_status st;

	memset(&st, 0xAA, sizeof(st));
	st.sz = sizeof(st);
	*rc = rules_status(lab, h, dom, port, &st);
	return st;
}

/* status() answers @want_rc and, when that is 0, state @want_state. */
static void status_is(int line, struct rules_handle *h, uint32_t dom,
		      uint32_t port, int want_rc, unsigned int want_state)
{
	int rc;
	struct evtchnx_status st = status_of(h, dom, port, &rc);

	if (rc != want_rc || (!rc && st.state != want_state)) {
		printf("    %s:%d: status(%u, %u) = %d state %u, expected %d state %u\n",
		       __FILE__, line, dom, port, rc, rc ? 0 : st.state,
		       want_rc, want_state);
		case_failed = 1;
	}
}

#define STATUS_IS(h, dom, port, rc, state)                                     \
	status_is(__LINE__, (h), (dom), (port), (rc), (state))
#define STATUS_CLOSED(h, dom, port)                                            \
	STATUS_IS((h), (dom), (port), 0, EVTCHNX_STATE_CLOSED)
#define STATUS_EINVAL(h, dom, port) STATUS_IS((h), (dom), (port), -EINVAL, 0)

/* Fill every free port of @h's domain with UNBOUND ports. */
static void fill_domain(struct rules_handle *h)
{
	int rc;

	do
		rc = rules_alloc_unbound(lab, h, SELF, 0);
	while (rc > 0);
	CHECK_EQ(rc, -ENOSPC);
	rec_reset();
}

/* ---- cases -------------------------------------------------------------- */

static void t_lab_new(void)
{
	CHECK(rules_domain_exists(lab, 0));
	CHECK_EQ(rules_domain_count(lab), 1);
	PORT_IS(0, 0, RULES_RESERVED, 0, 0, 0);
	PORT_FREE(0, 1);
	/* the table starts as one bucket */
	PORT_FREE(0, RULES_BUCKET_PORTS - 1);
	CHECK(rules_port_of(lab, 0, RULES_BUCKET_PORTS) == NULL);
	CHECK(rules_port_of(lab, 0, RULES_MAX_PORTS - 1) == NULL);
	CHECK(rules_port_of(lab, 0, RULES_MAX_PORTS) == NULL);
	CHECK(rules_port_of(lab, 0, 0xFFFFFFFFu) == NULL);
	CHECK(rules_port_of(lab, 1, 1) == NULL);
	CHECK(rules_port_of(lab, SELF, 1) == NULL);
	CHECK(!rules_domain_exists(lab, 1));
	CHECK(!rules_domain_exists(lab, SELF));
	CHECK(!rules_domain_exists(lab, 0xFFFF));
	CHECK_EQ(rules_peer_owner(lab, 0, 0), 0);
	CHECK_EQ(rules_peer_owner(lab, 5, 1), 0);
	rules_lab_free(NULL);
	EXPECT_NO_EVENTS();
}

static void t_join(void)
{
	struct rules_handle h = { .id = 1 };

	CHECK_EQ(rules_join(lab, &h, SELF), -EINVAL);
	CHECK_EQ(rules_join(lab, &h, 0x7FFF), -EINVAL);
	CHECK_EQ(rules_join(lab, &h, 0xFFFF), -EINVAL);
	h.id = 0;
	CHECK_EQ(rules_join(lab, &h, 1), -EINVAL);
	h.id = RULES_MAX_HANDLES + 1;
	CHECK_EQ(rules_join(lab, &h, 1), -EINVAL);
	CHECK_EQ(rules_domain_count(lab), 1);

	h.id = RULES_MAX_HANDLES;
	h.restrict_to = 7;
	h.orphaned = true;
	CHECK_EQ(rules_join(lab, &h, 0x7FEF), 0);
	CHECK_EQ(h.domid, 0x7FEF);
	CHECK_EQ(h.restrict_to, 0);
	CHECK(!h.orphaned);
	CHECK(rules_domain_exists(lab, 0x7FEF));
	CHECK_EQ(rules_domain_count(lab), 2);
	PORT_IS(0x7FEF, 0, RULES_RESERVED, 0, 0, 0);
	/* the id is taken while joined */
	H[1].id = RULES_MAX_HANDLES;
	CHECK_EQ(rules_join(lab, &H[1], 3), -EINVAL);
	CHECK_EQ(rules_domain_count(lab), 2);

	/* a second handle of the same domain shares it */
	join(2, 0x7FEF);
	CHECK_EQ(rules_domain_count(lab), 2);
	rules_leave(lab, &h);
	CHECK(rules_domain_exists(lab, 0x7FEF));
	rules_leave(lab, &H[2]);
	CHECK(!rules_domain_exists(lab, 0x7FEF));
	CHECK_EQ(rules_domain_count(lab), 1);
	/* leaving twice, or without having joined, is harmless */
	rules_leave(lab, &H[2]);
	rules_leave(lab, &H[5]);
	rules_leave(lab, NULL);
	CHECK_EQ(rules_domain_count(lab), 1);
	EXPECT_NO_EVENTS();
}

static void t_pure_helpers(void)
{
	struct rules_port p;

	memset(&p, 0, sizeof(p));
	/* rules_check_own_port */
	CHECK_EQ(rules_check_own_port(NULL, 0, 1), -EINVAL);
	CHECK_EQ(rules_check_own_port(NULL, RULES_MAX_PORTS, 1), -EINVAL);
	CHECK_EQ(rules_check_own_port(NULL, 0xFFFFFFFFu, 1), -EINVAL);
	CHECK_EQ(rules_check_own_port(NULL, 0x80000000u, 1), -EINVAL);
	CHECK_EQ(rules_check_own_port(NULL, 1, 1), -ENOTCONN);
	CHECK_EQ(rules_check_own_port(&p, 1, 1), -ENOTCONN); /* free */
	p.state = RULES_UNBOUND;
	CHECK_EQ(rules_check_own_port(&p, 1, 1), -ENOTCONN); /* unowned */
	CHECK_EQ(rules_check_own_port(&p, 1, 0), -ENOTCONN);
	p.owner = 2;
	CHECK_EQ(rules_check_own_port(&p, 1, 1), -ENOTCONN);
	CHECK_EQ(rules_check_own_port(&p, 1, 2), 0);
	CHECK_EQ(rules_check_own_port(&p, 0, 2), -EINVAL);
	CHECK_EQ(rules_check_own_port(&p, RULES_MAX_PORTS - 1, 2), 0);
	p.state = RULES_FREE;
	CHECK_EQ(rules_check_own_port(&p, 1, 2), -ENOTCONN);
	p.state = RULES_RESERVED;
	CHECK_EQ(rules_check_own_port(&p, 1, 2), -ENOTCONN);
	p.state = RULES_VIRQ;
	CHECK_EQ(rules_check_own_port(&p, 1, 2), 0);

	/* rules_send_action */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(rules_send_action(NULL), -EINVAL);
	p.state = RULES_FREE;
	CHECK_EQ(rules_send_action(&p), -EINVAL);
	p.state = RULES_RESERVED;
	CHECK_EQ(rules_send_action(&p), -EINVAL);
	p.state = RULES_UNBOUND;
	CHECK_EQ(rules_send_action(&p), RULES_SEND_DROP);
	p.state = RULES_INTERDOMAIN;
	CHECK_EQ(rules_send_action(&p), RULES_SEND_REMOTE);
	p.state = RULES_VIRQ;
	CHECK_EQ(rules_send_action(&p), -EINVAL);
	p.state = 200;
	CHECK_EQ(rules_send_action(&p), -EINVAL);
}

static void t_alloc_unbound(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	struct rules_handle *b = join(3, 2);

	/* first fit from 1, owned by the caller, remote stored */
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), 1);
	EXPECT_EVENTS(CLEAR(2, 1, 1));
	PORT_IS(1, 1, RULES_UNBOUND, 2, 0, 2);
	CHECK_EQ(rules_alloc_unbound(lab, a, 1, SELF), 2); /* own id */
	EXPECT_EVENTS(CLEAR(2, 1, 2));
	PORT_IS(1, 2, RULES_UNBOUND, 1, 0, 2);
	/* the remote domain is not validated */
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 0x1234), 3);
	PORT_IS(1, 3, RULES_UNBOUND, 0x1234, 0, 2);
	CHECK_EQ(rules_unbind(lab, a, 2), 0);
	rec_reset();
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), 2); /* first fit */
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), 4);
	rec_reset();

	/* the control domain allocates for another domain: unowned, and
	 * DOMID_SELF means the caller (0), not the target */
	CHECK_EQ(rules_alloc_unbound(lab, c, 2, SELF), 1);
	EXPECT_NO_EVENTS();
	PORT_IS(2, 1, RULES_UNBOUND, 0, 0, 0);
	CHECK_EQ(rules_alloc_unbound(lab, c, 2, 1), 2);
	PORT_IS(2, 2, RULES_UNBOUND, 1, 0, 0);
	EXPECT_NO_EVENTS();
	/* ... and in its own domain, by number: owned */
	CHECK_EQ(rules_alloc_unbound(lab, c, 0, 2), 1);
	EXPECT_EVENTS(CLEAR(1, 0, 1));
	PORT_IS(0, 1, RULES_UNBOUND, 2, 0, 1);

	/* errno in order: -ESRCH, -ENOSPC, -EPERM */
	CHECK_EQ(rules_alloc_unbound(lab, a, 9, 0), -ESRCH);
	CHECK_EQ(rules_alloc_unbound(lab, a, 0x7FF1, 0), -ESRCH);
	CHECK_EQ(rules_alloc_unbound(lab, a, 0xFFFF, 0), -ESRCH);
	CHECK_EQ(rules_alloc_unbound(lab, c, 9, 0), -ESRCH);
	CHECK_EQ(rules_alloc_unbound(lab, a, 2, 1), -EPERM);
	CHECK_EQ(rules_alloc_unbound(lab, a, 0, 1), -EPERM);
	fill_domain(b);
	/* -ENOSPC comes before -EPERM */
	CHECK_EQ(rules_alloc_unbound(lab, a, 2, 1), -ENOSPC);
	CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 1), -ENOSPC);
	CHECK_EQ(rules_alloc_unbound(lab, c, 2, 1), -ENOSPC);
	CHECK_EQ(rules_unbind(lab, b, 100), 0);
	rec_reset();
	CHECK_EQ(rules_alloc_unbound(lab, a, 2, 1), -EPERM);
	PORT_FREE(2, 100); /* nothing was allocated */
	CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 1), 100);
	rec_reset();

	/* restricted: -EACCES first, even for a missing domain */
	CHECK_EQ(rules_restrict(lab, a, 2), 0);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), -EACCES);
	CHECK_EQ(rules_alloc_unbound(lab, a, 9, 2), -EACCES);
	CHECK_EQ(rules_alloc_unbound(lab, a, 2, 2), -EACCES);
	EXPECT_NO_EVENTS();
}

static void t_bind_interdomain(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	struct rules_handle *b = join(3, 2);
	struct rules_handle *d = join(4, 3);
	struct rules_handle *b2 = join(5, 2);
	int p, q, rc;

	p = rules_alloc_unbound(lab, a, SELF, 2);
	CHECK_EQ(p, 1);
	rec_reset();

	/* remote checks: -ESRCH, then -EINVAL, nothing changes */
	CHECK_EQ(rules_bind_interdomain(lab, b, 9, p), -ESRCH);
	CHECK_EQ(rules_bind_interdomain(lab, b, 0x7FF5, p), -ESRCH);
	CHECK_EQ(rules_bind_interdomain(lab, b, 0xFFFF, p), -ESRCH);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, RULES_MAX_PORTS), -EINVAL);
	/* beyond the remote table, below the limit */
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, RULES_BUCKET_PORTS), -EINVAL);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, RULES_MAX_PORTS - 1),
		 -EINVAL);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 0xFFFFFFFFu), -EINVAL);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 0), -EINVAL); /* reserved */
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 2), -EINVAL); /* free */
	CHECK_EQ(rules_bind_interdomain(lab, d, 1, p), -EINVAL); /* not for d */
	CHECK_EQ(rules_bind_interdomain(lab, c, 1, p), -EINVAL); /* nor for 0 */
	/* DOMID_SELF is the caller's domain, not a wildcard */
	CHECK_EQ(rules_bind_interdomain(lab, b, SELF, p), -EINVAL);
	EXPECT_NO_EVENTS();
	PORT_IS(1, p, RULES_UNBOUND, 2, 0, 2);
	PORT_FREE(2, 1);
	PORT_FREE(3, 1);

	/* success: cross-linked, local cleared then raised (pending on
	 * bind), the remote owner told */
	q = rules_bind_interdomain(lab, b, 1, p);
	CHECK_EQ(q, 1);
	PORT_IS(1, p, RULES_INTERDOMAIN, 2, 1, 2);
	PORT_IS(2, q, RULES_INTERDOMAIN, 1, 1, 3);
	EXPECT_EVENTS(CLEAR(3, 2, 1), RAISE(3, 2, 1), CHANGED(2, 1));
	CHECK_EQ(rules_peer_owner(lab, 1, p), 3);
	CHECK_EQ(rules_peer_owner(lab, 2, q), 2);

	/* now INTERDOMAIN: a second bind fails, from anyone */
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, p), -EINVAL);
	CHECK_EQ(rules_bind_interdomain(lab, b2, 1, p), -EINVAL);
	/* a VIRQ port is not bindable either */
	rc = rules_bind_virq(lab, a, 0);
	CHECK_EQ(rc, 2);
	rec_reset();
	CHECK_EQ(rules_bind_interdomain(lab, a, 1, 2), -EINVAL);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 2), -EINVAL);
	EXPECT_NO_EVENTS();

	/* -ENOSPC comes before the remote port checks */
	fill_domain(d);
	CHECK_EQ(rules_bind_interdomain(lab, d, 1, 0xFFFFFFFFu), -ENOSPC);
	CHECK_EQ(rules_bind_interdomain(lab, d, 1, 3), -ENOSPC);
	CHECK_EQ(rules_bind_interdomain(lab, d, 9, 3), -ESRCH); /* before */
	EXPECT_NO_EVENTS();

	/* binding a port the control domain allocated in another domain: no
	 * owner to tell on the remote end */
	rc = rules_alloc_unbound(lab, c, 2, 1);
	CHECK_EQ(rc, 2);
	rc = rules_bind_interdomain(lab, a, 2, 2);
	CHECK_EQ(rc, 3);
	EXPECT_EVENTS(CLEAR(2, 1, 3), RAISE(2, 1, 3));
	PORT_IS(2, 2, RULES_INTERDOMAIN, 1, 3, 0);
	CHECK_EQ(rules_peer_owner(lab, 1, 3), 0);

	/* reconnect: after the binder closes, the survivor is UNBOUND offered
	 * to the closer again and can be bound anew */
	CHECK_EQ(rules_unbind(lab, b, (uint32_t)q), 0);
	EXPECT_EVENTS(CHANGED(2, 1), CLEAR(3, 2, 1));
	PORT_IS(1, p, RULES_UNBOUND, 2, 0, 2);
	q = rules_bind_interdomain(lab, b2, 1, p);
	CHECK_EQ(q, 1);
	PORT_IS(1, p, RULES_INTERDOMAIN, 2, 1, 2);
	PORT_IS(2, 1, RULES_INTERDOMAIN, 1, 1, 5);
	EXPECT_EVENTS(CLEAR(5, 2, 1), RAISE(5, 2, 1), CHANGED(2, 1));
}

static void t_bind_interdomain_restricted(void)
{
	struct rules_handle *a = join(1, 1);
	struct rules_handle *b = join(2, 2);
	int p, p2, q;

	p = rules_alloc_unbound(lab, a, SELF, 2);
	p2 = rules_alloc_unbound(lab, b, SELF, 2); /* loopback offer */
	CHECK_EQ(rules_restrict(lab, b, 1), 0);
	rec_reset();
	/* compared with the raw argument: DOMID_SELF and own id mismatch,
	 * even before the domain lookup */
	CHECK_EQ(rules_bind_interdomain(lab, b, SELF, p2), -EACCES);
	CHECK_EQ(rules_bind_interdomain(lab, b, 2, p2), -EACCES);
	CHECK_EQ(rules_bind_interdomain(lab, b, 9, 1), -EACCES);
	CHECK_EQ(rules_bind_interdomain(lab, b, 0, 1), -EACCES);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 0xFFFFFFFFu), -EINVAL);
	EXPECT_NO_EVENTS();
	q = rules_bind_interdomain(lab, b, 1, (uint32_t)p);
	CHECK_EQ(q, 2);
	PORT_IS(2, q, RULES_INTERDOMAIN, 1, (uint32_t)p, 2);
	/* ports bound before keep working */
	rec_reset();
	CHECK_EQ(rules_send(lab, b, q), 0);
	EXPECT_EVENTS(RAISE(1, 1, (uint32_t)p));
	CHECK_EQ(rules_unbind(lab, b, (uint32_t)p2), 0);
	EXPECT_EVENTS(CLEAR(2, 2, (uint32_t)p2));
}

static void t_loopback(void)
{
	struct rules_handle *a = join(1, 1);
	struct rules_handle *a2 = join(2, 1);
	int p1, p2, p3, p4;

	p1 = rules_alloc_unbound(lab, a, SELF, SELF);
	CHECK_EQ(p1, 1);
	PORT_IS(1, 1, RULES_UNBOUND, 1, 0, 1);
	rec_reset();
	p2 = rules_bind_interdomain(lab, a, SELF, (uint32_t)p1);
	CHECK_EQ(p2, 2);
	PORT_IS(1, 1, RULES_INTERDOMAIN, 1, 2, 1);
	PORT_IS(1, 2, RULES_INTERDOMAIN, 1, 1, 1);
	/* the remote end's owner is told, even when it is the caller */
	EXPECT_EVENTS(CLEAR(1, 1, 2), RAISE(1, 1, 2), CHANGED(1, 1));
	CHECK_EQ(rules_send(lab, a, 1), 0);
	EXPECT_EVENTS(RAISE(1, 1, 2));
	CHECK_EQ(rules_send(lab, a, 2), 0);
	EXPECT_EVENTS(RAISE(1, 1, 1));

	/* loopback by number, between two handles of the domain */
	p3 = rules_alloc_unbound(lab, a, 1, 1);
	CHECK_EQ(p3, 3);
	rec_reset();
	p4 = rules_bind_interdomain(lab, a2, 1, (uint32_t)p3);
	CHECK_EQ(p4, 4);
	EXPECT_EVENTS(CLEAR(2, 1, 4), RAISE(2, 1, 4), CHANGED(1, 3));
	CHECK_EQ(rules_send(lab, a2, 4), 0);
	EXPECT_EVENTS(RAISE(1, 1, 3));
	CHECK_EQ(rules_send(lab, a, 3), 0);
	EXPECT_EVENTS(RAISE(2, 1, 4));
	/* the other handle's port is not ours */
	CHECK_EQ(rules_send(lab, a, 4), -ENOTCONN);
	CHECK_EQ(rules_unbind(lab, a2, 3), -ENOTCONN);
	EXPECT_NO_EVENTS();

	/* closing one end of a loopback: the other is UNBOUND, offered to
	 * the domain itself */
	CHECK_EQ(rules_unbind(lab, a, 1), 0);
	EXPECT_EVENTS(CHANGED(1, 2), CLEAR(1, 1, 1));
	PORT_FREE(1, 1);
	PORT_IS(1, 2, RULES_UNBOUND, 1, 0, 1);
	CHECK_EQ(rules_send(lab, a, 2), 0);
	EXPECT_NO_EVENTS();
}

static void t_bind_virq(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	struct rules_handle *a2 = join(3, 1);
	struct evtchnx_status st;
	uint32_t v;
	int rc;

	CHECK_EQ(rules_bind_virq(lab, a, RULES_NR_VIRQS), -EINVAL);
	CHECK_EQ(rules_bind_virq(lab, a, 0xFFFFFFFFu), -EINVAL);
	/* global virqs: only the control domain */
	for (v = 0; v < RULES_NR_VIRQS; v++) {
		int global = !(v == 0 || v == 1 || v == 7 || v == 13);

		rc = rules_bind_virq(lab, a, v);
		if (global) {
			CHECK_EQ(rc, -EBUSY);
		} else {
			CHECK(rc > 0);
			if (rc <= 0)
				continue;
			CHECK_EQ(rules_port_of(lab, 1, (uint32_t)rc)->virq, v);
			PORT_IS(1, (uint32_t)rc, RULES_VIRQ, 0, 0, 2);
			EXPECT_EVENTS(CLEAR(2, 1, (uint32_t)rc));
		}
		rc = rules_bind_virq(lab, c, v);
		CHECK_EQ(rc, (int)v + 1);
		EXPECT_EVENTS(CLEAR(1, 0, v + 1));
	}
	EXPECT_NO_EVENTS();
	/* already bound in this domain, also from another handle */
	CHECK_EQ(rules_bind_virq(lab, a, 7), -EEXIST);
	CHECK_EQ(rules_bind_virq(lab, a2, 7), -EEXIST);
	CHECK_EQ(rules_bind_virq(lab, c, 5), -EEXIST);
	CHECK_EQ(rules_bind_virq(lab, a2, 5), -EBUSY);
	/* status and send */
	rc = rules_bind_virq(lab, a, 0);
	CHECK_EQ(rc, -EEXIST);
	st = status_of(a, SELF, 4, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_VIRQ);
	CHECK_EQ(st.virq, 13);
	CHECK_EQ(st.remote_domid, 0);
	CHECK_EQ(st.remote_port, 0);
	CHECK_EQ(st.vcpu, 0);
	CHECK_EQ(rules_send(lab, a, 4), -EINVAL);
	EXPECT_NO_EVENTS();

	/* unbinding forgets the binding */
	CHECK_EQ(rules_unbind(lab, a, 3), 0); /* virq 7 */
	EXPECT_EVENTS(CLEAR(2, 1, 3));
	CHECK_EQ(rules_raise_virq(lab, c, 1, 7), 0);
	EXPECT_NO_EVENTS();
	CHECK_EQ(rules_bind_virq(lab, a2, 7), 3);
	EXPECT_EVENTS(CLEAR(3, 1, 3));
	CHECK_EQ(rules_raise_virq(lab, c, 1, 7), 0);
	EXPECT_EVENTS(RAISE(3, 1, 3));

	/* -EEXIST comes before -ENOSPC */
	fill_domain(a);
	CHECK_EQ(rules_bind_virq(lab, a, 7), -EEXIST);
	CHECK_EQ(rules_unbind(lab, a2, 3), 0);
	rec_reset();
	CHECK_EQ(rules_bind_virq(lab, a, 7), 3);
	rec_reset();
	CHECK_EQ(rules_bind_virq(lab, a2, 7), -EEXIST);
	CHECK_EQ(rules_unbind(lab, a, 3), 0);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 0), 3);
	CHECK_EQ(rules_bind_virq(lab, a2, 7), -ENOSPC);
	CHECK_EQ(rules_bind_virq(lab, a2, 2), -EBUSY); /* before -ENOSPC */

	/* restricted: -EACCES first */
	CHECK_EQ(rules_restrict(lab, a2, 4), 0);
	CHECK_EQ(rules_bind_virq(lab, a2, 99), -EACCES);
	CHECK_EQ(rules_bind_virq(lab, a2, 7), -EACCES);
}

static void t_raise_virq(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	int p;

	CHECK_EQ(rules_raise_virq(lab, a, 1, 0), -EPERM);
	CHECK_EQ(rules_raise_virq(lab, a, 9, 99), -EPERM);
	CHECK_EQ(rules_raise_virq(lab, c, 9, 99), -EINVAL);
	CHECK_EQ(rules_raise_virq(lab, c, 1, RULES_NR_VIRQS), -EINVAL);
	CHECK_EQ(rules_raise_virq(lab, c, 9, 0), -ESRCH);
	CHECK_EQ(rules_raise_virq(lab, c, 0x7FF5, 0), -ESRCH);
	CHECK_EQ(rules_raise_virq(lab, c, 0xFFFF, 0), -ESRCH);
	/* not bound: dropped */
	CHECK_EQ(rules_raise_virq(lab, c, 1, 0), 0);
	CHECK_EQ(rules_raise_virq(lab, c, SELF, 3), 0);
	EXPECT_NO_EVENTS();

	p = rules_bind_virq(lab, a, 0);
	CHECK_EQ(p, 1);
	rec_reset();
	CHECK_EQ(rules_raise_virq(lab, c, 1, 0), 0);
	EXPECT_EVENTS(RAISE(2, 1, 1));
	CHECK_EQ(rules_raise_virq(lab, c, 1, 1), 0);
	CHECK_EQ(rules_raise_virq(lab, c, 0, 0), 0);
	EXPECT_NO_EVENTS();

	p = rules_bind_virq(lab, c, 3);
	CHECK_EQ(p, 1);
	rec_reset();
	CHECK_EQ(rules_raise_virq(lab, c, SELF, 3), 0);
	EXPECT_EVENTS(RAISE(1, 0, 1));
	CHECK_EQ(rules_raise_virq(lab, c, 0, 3), 0);
	EXPECT_EVENTS(RAISE(1, 0, 1));
}

static void t_adopt(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	struct rules_handle *b = join(3, 2);
	struct rules_handle *b2 = join(4, 2);
	int p, q, r;

	/* the control domain offers a port of b to a, a binds it */
	p = rules_alloc_unbound(lab, c, 2, 1);
	CHECK_EQ(p, 1);
	q = rules_bind_interdomain(lab, a, 2, (uint32_t)p);
	CHECK_EQ(q, 1);
	PORT_IS(2, 1, RULES_INTERDOMAIN, 1, 1, 0);
	rec_reset();
	/* events on the unowned end latch */
	CHECK_EQ(rules_send(lab, a, 1), 0);
	CHECK_EQ(rules_send(lab, a, 1), 0);
	EXPECT_NO_EVENTS();
	CHECK_EQ(rules_port_of(lab, 2, 1)->latched, 1);
	/* nobody of b owns it yet */
	CHECK_EQ(rules_send(lab, b, 1), -ENOTCONN);
	CHECK_EQ(rules_unbind(lab, b, 1), -ENOTCONN);

	/* errno in order */
	CHECK_EQ(rules_adopt(lab, b, 0), -EINVAL);
	CHECK_EQ(rules_adopt(lab, b, RULES_MAX_PORTS), -EINVAL);
	CHECK_EQ(rules_adopt(lab, b, 0xFFFFFFFFu), -EINVAL);
	CHECK_EQ(rules_adopt(lab, b, 2), -EINVAL); /* free */
	CHECK_EQ(rules_adopt(lab, a, 2), -EINVAL); /* free in a */
	CHECK_EQ(rules_adopt(lab, a, 1), -EBUSY);  /* own port */
	EXPECT_NO_EVENTS();

	/* adopt: cleared, the latched event raised, the peer owner told */
	CHECK_EQ(rules_adopt(lab, b, 1), 0);
	EXPECT_EVENTS(CLEAR(3, 2, 1), RAISE(3, 2, 1), CHANGED(2, 1));
	PORT_IS(2, 1, RULES_INTERDOMAIN, 1, 1, 3);
	CHECK_EQ(rules_port_of(lab, 2, 1)->latched, 0);
	CHECK_EQ(rules_peer_owner(lab, 1, 1), 3);
	CHECK_EQ(rules_adopt(lab, b, 1), -EBUSY);
	CHECK_EQ(rules_adopt(lab, b2, 1), -EBUSY);
	EXPECT_NO_EVENTS();
	CHECK_EQ(rules_send(lab, a, 1), 0);
	EXPECT_EVENTS(RAISE(3, 2, 1));
	CHECK_EQ(rules_send(lab, b, 1), 0);
	EXPECT_EVENTS(RAISE(2, 1, 1));

	/* adopting an UNBOUND port without events: just cleared */
	r = rules_alloc_unbound(lab, c, 2, 5);
	CHECK_EQ(r, 2);
	CHECK_EQ(rules_adopt(lab, b2, 2), 0);
	EXPECT_EVENTS(CLEAR(4, 2, 2));
	PORT_IS(2, 2, RULES_UNBOUND, 5, 0, 4);

	/* an event latched on a channel whose peer has since gone is raised
	 * at adoption too */
	r = rules_alloc_unbound(lab, c, 2, 1);
	CHECK_EQ(r, 3);
	q = rules_bind_interdomain(lab, a, 2, 3);
	CHECK_EQ(q, 2);
	CHECK_EQ(rules_send(lab, a, 2), 0);
	CHECK_EQ(rules_unbind(lab, a, 2), 0);
	rec_reset();
	PORT_IS(2, 3, RULES_UNBOUND, 1, 0, 0);
	CHECK_EQ(rules_port_of(lab, 2, 3)->latched, 1);
	CHECK_EQ(rules_adopt(lab, b, 3), 0);
	EXPECT_EVENTS(CLEAR(3, 2, 3), RAISE(3, 2, 3));

	/* restricted: -EACCES first */
	CHECK_EQ(rules_restrict(lab, b2, 1), 0);
	CHECK_EQ(rules_adopt(lab, b2, 0), -EACCES);
	CHECK_EQ(rules_adopt(lab, b2, 3), -EACCES);
	EXPECT_NO_EVENTS();
}

static void t_unbind(void)
{
	struct rules_handle *a = join(1, 1);
	struct rules_handle *a2 = join(2, 1);
	struct rules_handle *b = join(3, 2);
	int p, q;

	CHECK_EQ(rules_unbind(lab, a, 0), -EINVAL);
	CHECK_EQ(rules_unbind(lab, a, RULES_MAX_PORTS), -EINVAL);
	CHECK_EQ(rules_unbind(lab, a, 0xFFFFFFFFu), -EINVAL);
	CHECK_EQ(rules_unbind(lab, a, 1), -ENOTCONN); /* free */
	p = rules_alloc_unbound(lab, a, SELF, 2);
	CHECK_EQ(p, 1);
	CHECK_EQ(rules_unbind(lab, a2, 1), -ENOTCONN); /* another handle's */
	CHECK_EQ(rules_unbind(lab, b, 1), -ENOTCONN);  /* b's port 1 is free */
	q = rules_bind_interdomain(lab, b, 1, 1);
	CHECK_EQ(q, 1);
	rec_reset();

	/* the peer goes back to UNBOUND, offered to the closer; its owner
	 * is told; the closed port is cleared while its owner is known */
	CHECK_EQ(rules_unbind(lab, a, 1), 0);
	EXPECT_EVENTS(CHANGED(3, 1), CLEAR(1, 1, 1));
	PORT_FREE(1, 1);
	PORT_IS(2, 1, RULES_UNBOUND, 1, 0, 3);
	CHECK_EQ(rules_unbind(lab, a, 1), -ENOTCONN); /* twice */
	/* the survivor may send (dropped) and close */
	CHECK_EQ(rules_send(lab, b, 1), 0);
	EXPECT_NO_EVENTS();
	CHECK_EQ(rules_unbind(lab, b, 1), 0);
	EXPECT_EVENTS(CLEAR(3, 2, 1));
	PORT_FREE(2, 1);
	CHECK_EQ(rules_unbind(lab, b, 1), -ENOTCONN);
	EXPECT_NO_EVENTS();
}

static void t_send(void)
{
	struct rules_handle *a = join(1, 1);
	struct rules_handle *a2 = join(2, 1);
	struct rules_handle *b = join(3, 2);
	int p, q;

	CHECK_EQ(rules_send(lab, a, 0), -EINVAL);
	CHECK_EQ(rules_send(lab, a, RULES_MAX_PORTS), -EINVAL);
	CHECK_EQ(rules_send(lab, a, 0xFFFFFFFFu), -EINVAL);
	CHECK_EQ(rules_send(lab, a, 0x80000000u), -EINVAL);
	CHECK_EQ(rules_send(lab, a, 1), -ENOTCONN);
	p = rules_alloc_unbound(lab, a, SELF, 2);
	CHECK_EQ(p, 1);
	rec_reset();
	CHECK_EQ(rules_send(lab, a2, 1), -ENOTCONN);
	CHECK_EQ(rules_send(lab, a, 1), 0); /* UNBOUND: dropped */
	EXPECT_NO_EVENTS();
	CHECK_EQ(rules_port_of(lab, 1, 1)->latched, 0);
	q = rules_bind_interdomain(lab, b, 1, 1);
	CHECK_EQ(q, 1);
	rec_reset();
	/* the target comes from the channel record */
	CHECK_EQ(rules_send(lab, a, 1), 0);
	EXPECT_EVENTS(RAISE(3, 2, 1));
	CHECK_EQ(rules_send(lab, b, 1), 0);
	EXPECT_EVENTS(RAISE(1, 1, 1));
}

static void t_status(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	struct rules_handle *b = join(3, 2);
	struct evtchnx_status st;
	int rc;

	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), 1);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 1), 1);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 7), 2);
	rec_reset();

	/* errno in order: -ESRCH, -EINVAL, -EPERM */
	st = status_of(a, 9, 0xFFFFFFFFu, &rc);
	CHECK_EQ(rc, -ESRCH);
	st = status_of(a, 0x7FF1, 1, &rc);
	CHECK_EQ(rc, -ESRCH);
	st = status_of(a, 2, RULES_MAX_PORTS, &rc);
	CHECK_EQ(rc, -EINVAL); /* before -EPERM */
	st = status_of(a, 2, RULES_BUCKET_PORTS, &rc);
	CHECK_EQ(rc, -EINVAL); /* beyond the table: before -EPERM too */
	st = status_of(a, SELF, 0xFFFFFFFFu, &rc);
	CHECK_EQ(rc, -EINVAL);
	st = status_of(a, 2, 1, &rc);
	CHECK_EQ(rc, -EPERM);
	st = status_of(a, 0, 1, &rc);
	CHECK_EQ(rc, -EPERM);
	CHECK_EQ(rules_status(lab, a, SELF, 1, NULL), -EINVAL);

	st = status_of(a, SELF, 1, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.sz, sizeof(st));
	CHECK_EQ(st.state, EVTCHNX_STATE_INTERDOMAIN);
	CHECK_EQ(st.vcpu, 0);
	CHECK_EQ(st.remote_domid, 2);
	CHECK_EQ(st.remote_port, 1);
	CHECK_EQ(st.virq, 0);
	st = status_of(a, 1, 2, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st.remote_domid, 7);
	CHECK_EQ(st.remote_port, 0);
	CHECK_EQ(st.vcpu, 0);
	CHECK_EQ(st.virq, 0);
	st = status_of(a, SELF, 0, &rc); /* reserved */
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_CLOSED);
	CHECK_EQ(st.remote_domid, 0);
	CHECK_EQ(st.remote_port, 0);
	CHECK_EQ(st.vcpu, 0);
	CHECK_EQ(st.virq, 0);
	st = status_of(a, SELF, RULES_BUCKET_PORTS - 1, &rc); /* free */
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_CLOSED);
	CHECK_EQ(st.remote_domid, 0);
	CHECK_EQ(st.remote_port, 0);
	CHECK_EQ(st.virq, 0);

	/* the control domain may look anywhere */
	st = status_of(c, 2, 1, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_INTERDOMAIN);
	CHECK_EQ(st.remote_domid, 1);
	CHECK_EQ(st.remote_port, 1);
	st = status_of(c, 3, 1, &rc);
	CHECK_EQ(rc, -ESRCH);
	EXPECT_NO_EVENTS();
}

static void t_reset(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	struct rules_handle *a2 = join(3, 1);
	struct rules_handle *b = join(4, 2);
	struct evtchnx_status st;
	int rc;

	/* a: 1 unbound (a), 2 interdomain with b:1 (b's), 3 virq 0 (a2),
	 * 4 unowned (control domain's), 5+6 loopback (a, a2) */
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), 1);
	CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 1), 1);
	CHECK_EQ(rules_bind_interdomain(lab, a, 2, 1), 2);
	CHECK_EQ(rules_bind_virq(lab, a2, 0), 3);
	CHECK_EQ(rules_alloc_unbound(lab, c, 1, 2), 4);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, SELF), 5);
	CHECK_EQ(rules_bind_interdomain(lab, a2, SELF, 5), 6);
	rec_reset();

	CHECK_EQ(rules_reset(lab, a, 9), -ESRCH);
	CHECK_EQ(rules_reset(lab, a, 0x7FF3), -ESRCH);
	CHECK_EQ(rules_reset(lab, a, 2), -EPERM);
	CHECK_EQ(rules_reset(lab, a, 0), -EPERM);
	CHECK_EQ(rules_reset(lab, b, 1), -EPERM);
	EXPECT_NO_EVENTS();

	/* a resets itself: every port closed, each owner told, b's end
	 * UNBOUND and told; the loopback pair is told once per port */
	CHECK_EQ(rules_reset(lab, a, SELF), 0);
	EXPECT_EVENTS(CLEAR(2, 1, 1), CHANGED(2, 1),
		      CHANGED(4, 1), CLEAR(2, 1, 2), CHANGED(2, 2),
		      CLEAR(3, 1, 3), CHANGED(3, 3),
		      CLEAR(2, 1, 5), CHANGED(2, 5),
		      CLEAR(3, 1, 6), CHANGED(3, 6));
	for (rc = 1; rc <= 6; rc++)
		PORT_FREE(1, (uint32_t)rc);
	PORT_IS(1, 0, RULES_RESERVED, 0, 0, 0);
	PORT_IS(2, 1, RULES_UNBOUND, 1, 0, 4);
	st = status_of(b, SELF, 1, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st.remote_domid, 1);
	/* allocation restarts at 1, the virq binding is gone */
	CHECK_EQ(rules_bind_virq(lab, a, 0), 1);
	CHECK_EQ(rules_alloc_unbound(lab, a, 1, 2), 2);
	CHECK_EQ(rules_raise_virq(lab, c, 1, 0), 0);
	rec_reset();

	/* the control domain resets b (by number) */
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 2), 2);
	rec_reset();
	CHECK_EQ(rules_reset(lab, c, 2), 0);
	EXPECT_EVENTS(CLEAR(4, 2, 1), CHANGED(4, 1),
		      CHANGED(2, 2), CLEAR(4, 2, 2), CHANGED(4, 2));
	PORT_IS(1, 2, RULES_UNBOUND, 2, 0, 2);
	CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 0), 1);
	rec_reset();

	/* a full domain resets back to port 1; its table stays whole */
	fill_domain(a2);
	CHECK_EQ(rules_reset(lab, a2, 1), 0);
	CHECK_EQ(n_recs, 2 * (RULES_MAX_PORTS - 1));
	CHECK_EQ(n_lost, 0);
	rec_reset();
	STATUS_CLOSED(a2, SELF, RULES_MAX_PORTS - 1);
	CHECK_EQ(rules_alloc_unbound(lab, a2, SELF, 0), 1);
	CHECK_EQ(rules_alloc_unbound(lab, a2, SELF, 0), 2);
	/* resetting the control domain is the control domain's business */
	CHECK_EQ(rules_bind_virq(lab, c, 5), 1);
	rec_reset();
	CHECK_EQ(rules_reset(lab, c, SELF), 0);
	EXPECT_EVENTS(CLEAR(1, 0, 1), CHANGED(1, 1));
}

static void t_restrict(void)
{
	struct rules_handle *a = join(1, 1);
	struct rules_handle *b = join(2, 2);

	CHECK_EQ(rules_restrict(lab, a, 0), -EINVAL);
	CHECK_EQ(rules_restrict(lab, a, SELF), -EINVAL);
	CHECK_EQ(rules_restrict(lab, a, 0x7FFF), -EINVAL);
	CHECK_EQ(rules_restrict(lab, a, 0xFFFF), -EINVAL);
	CHECK_EQ(a->restrict_to, 0);
	CHECK_EQ(rules_restrict(lab, a, 2), 0);
	CHECK_EQ(a->restrict_to, 2);
	CHECK_EQ(rules_restrict(lab, a, 2), -EACCES);
	CHECK_EQ(rules_restrict(lab, a, 3), -EACCES);
	CHECK_EQ(rules_restrict(lab, a, 0), -EACCES); /* before -EINVAL */
	CHECK_EQ(a->restrict_to, 2);
	/* a non-existing domain may be named */
	CHECK_EQ(rules_restrict(lab, b, 0x7FEF), 0);
	/* status and reset are not restricted */
	CHECK_EQ(rules_reset(lab, a, SELF), 0);
	EXPECT_NO_EVENTS();
}

static void t_domain_create(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	int p;

	CHECK_EQ(rules_domain_create(lab, a, 5), -EPERM);
	CHECK_EQ(rules_domain_create(lab, a, SELF), -EPERM);
	CHECK_EQ(rules_domain_create(lab, c, SELF), -EINVAL);
	CHECK_EQ(rules_domain_create(lab, c, 0xFFFF), -EINVAL);
	CHECK_EQ(rules_domain_create(lab, c, 0), -EEXIST);
	CHECK_EQ(rules_domain_create(lab, c, 1), -EEXIST);
	CHECK_EQ(rules_domain_count(lab), 2);

	/* the toolstack sets a guest up before it runs */
	CHECK_EQ(rules_domain_create(lab, c, 5), 0);
	CHECK(rules_domain_exists(lab, 5));
	CHECK_EQ(rules_domain_count(lab), 3);
	PORT_IS(5, 0, RULES_RESERVED, 0, 0, 0);
	CHECK_EQ(rules_domain_create(lab, c, 5), -EEXIST);
	p = rules_alloc_unbound(lab, c, 5, SELF);
	CHECK_EQ(p, 1);
	PORT_IS(5, 1, RULES_UNBOUND, 0, 0, 0);

	/* the guest joins, adopts, leaves: the domain stays */
	join(3, 5);
	CHECK_EQ(rules_adopt(lab, &H[3], 1), 0);
	rules_leave(lab, &H[3]);
	CHECK(rules_domain_exists(lab, 5));
	PORT_FREE(5, 1);
	/* an implicit domain does not become explicit by create */
	rules_leave(lab, a);
	CHECK(!rules_domain_exists(lab, 1));
	join(2, 1);
	CHECK_EQ(rules_domain_create(lab, c, 1), -EEXIST);
	rules_leave(lab, &H[2]);
	CHECK(!rules_domain_exists(lab, 1));
	rec_reset();
}

static void t_domain_destroy(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	struct rules_handle *b = join(3, 2);
	struct rules_handle *b2 = join(4, 2);
	struct rules_handle fresh = { .id = 4 };
	struct evtchnx_status st;
	int rc;

	CHECK_EQ(rules_domain_destroy(lab, a, 2), -EPERM);
	CHECK_EQ(rules_domain_destroy(lab, a, 0x7FF0), -EPERM);
	CHECK_EQ(rules_domain_destroy(lab, c, 0), -EINVAL);
	CHECK_EQ(rules_domain_destroy(lab, c, SELF), -EINVAL);
	CHECK_EQ(rules_domain_destroy(lab, c, 0xFFFF), -EINVAL);
	CHECK_EQ(rules_domain_destroy(lab, c, 9), -ESRCH);

	/* b: 1 interdomain with a:1, 2 unowned offered to a, 3 virq */
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), 1);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 1), 1);
	CHECK_EQ(rules_alloc_unbound(lab, c, 2, 1), 2);
	CHECK_EQ(rules_bind_interdomain(lab, a, 2, 2), 2);
	CHECK_EQ(rules_bind_virq(lab, b2, 1), 3);
	rec_reset();

	CHECK_EQ(rules_domain_destroy(lab, c, 2), 0);
	EXPECT_EVENTS(CHANGED(2, 1), CLEAR(3, 2, 1), CHANGED(3, 1),
		      CHANGED(2, 2),
		      CLEAR(4, 2, 3), CHANGED(4, 3));
	CHECK(!rules_domain_exists(lab, 2));
	CHECK_EQ(rules_domain_count(lab), 2);
	CHECK(b->orphaned);
	CHECK(b2->orphaned);
	CHECK(!a->orphaned);
	CHECK(!c->orphaned);
	PORT_IS(1, 1, RULES_UNBOUND, 2, 0, 2);
	PORT_IS(1, 2, RULES_UNBOUND, 2, 0, 2);
	CHECK_EQ(rules_domain_destroy(lab, c, 2), -ESRCH);
	CHECK_EQ(rules_alloc_unbound(lab, c, 2, 0), -ESRCH);
	st = status_of(c, 2, 1, &rc);
	CHECK_EQ(rc, -ESRCH);

	/* the survivor keeps working */
	CHECK_EQ(rules_send(lab, a, 1), 0);
	EXPECT_NO_EVENTS();
	st = status_of(a, SELF, 1, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st.remote_domid, 2);

	/* every op of an orphaned handle is -ESRCH */
	CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 1), -ESRCH);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 1), -ESRCH);
	CHECK_EQ(rules_bind_virq(lab, b, 0), -ESRCH);
	CHECK_EQ(rules_adopt(lab, b, 1), -ESRCH);
	CHECK_EQ(rules_unbind(lab, b, 1), -ESRCH);
	CHECK_EQ(rules_unbind(lab, b, 0), -ESRCH);
	CHECK_EQ(rules_send(lab, b, 1), -ESRCH);
	st = status_of(b, SELF, 1, &rc);
	CHECK_EQ(rc, -ESRCH);
	CHECK_EQ(rules_reset(lab, b, SELF), -ESRCH);
	CHECK_EQ(rules_restrict(lab, b, 1), -ESRCH);
	CHECK_EQ(rules_domain_create(lab, b, 7), -ESRCH);
	CHECK_EQ(rules_domain_destroy(lab, b, 1), -ESRCH);
	CHECK_EQ(rules_raise_virq(lab, b, 1, 0), -ESRCH);

	/* the domid comes back as a new domain; the orphans do not belong
	 * to it and their later leave is harmless */
	CHECK_EQ(rules_domain_create(lab, c, 2), 0);
	CHECK_EQ(rules_alloc_unbound(lab, c, 2, 1), 1);
	CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 1), -ESRCH);
	rules_leave(lab, b);
	CHECK(rules_domain_exists(lab, 2));
	PORT_IS(2, 1, RULES_UNBOUND, 1, 0, 0);
	/* the orphan's id is free again once it left */
	CHECK_EQ(rules_join(lab, &fresh, 2), -EINVAL); /* b2 still holds 4 */
	rules_leave(lab, b2);
	CHECK_EQ(rules_join(lab, &fresh, 2), 0);
	CHECK_EQ(rules_adopt(lab, &fresh, 1), 0);
	rules_leave(lab, &fresh);
	CHECK(rules_domain_exists(lab, 2)); /* explicit now */
	rules_leave(lab, b2);
	rec_reset();

	/* destroying an implicit domain with handles */
	join(5, 3);
	CHECK_EQ(rules_domain_destroy(lab, c, 3), 0);
	CHECK(H[5].orphaned);
	CHECK(!rules_domain_exists(lab, 3));
	join(6, 3); /* a new implicit domain 3 */
	rules_leave(lab, &H[5]);
	CHECK(rules_domain_exists(lab, 3));
	rules_leave(lab, &H[6]);
	CHECK(!rules_domain_exists(lab, 3));
	EXPECT_NO_EVENTS();
}

static void t_leave(void)
{
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	struct rules_handle *b = join(3, 2);
	struct rules_handle *b2 = join(4, 2);

	/* b: 1 interdomain with a:1, 2 loopback pair 2<->3 (b's),
	 * 4 interdomain with a:2 (b2's), 5 virq (b) */
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), 1);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 1), 1);
	CHECK_EQ(rules_alloc_unbound(lab, b, SELF, SELF), 2);
	CHECK_EQ(rules_bind_interdomain(lab, b, SELF, 2), 3);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), 2);
	CHECK_EQ(rules_bind_interdomain(lab, b2, 1, 2), 4);
	CHECK_EQ(rules_bind_virq(lab, b, 0), 5);
	rec_reset();

	/* b leaves: its ports closed as by unbind; the peers' owners told,
	 * but not b itself */
	rules_leave(lab, b);
	EXPECT_EVENTS(CHANGED(2, 1), CLEAR(3, 2, 1),
		      CLEAR(3, 2, 2), CLEAR(3, 2, 3),
		      CLEAR(3, 2, 5));
	PORT_IS(1, 1, RULES_UNBOUND, 2, 0, 2);
	PORT_IS(2, 4, RULES_INTERDOMAIN, 1, 2, 4);
	PORT_FREE(2, 1);
	PORT_FREE(2, 2);
	PORT_FREE(2, 3);
	PORT_FREE(2, 5);
	CHECK(rules_domain_exists(lab, 2));
	CHECK_EQ(rules_bind_virq(lab, b2, 0), 1); /* binding forgotten */
	rec_reset();

	/* the control domain allocates in b; the last handle leaves: the
	 * implicit domain goes, with the unowned port */
	CHECK_EQ(rules_alloc_unbound(lab, c, 2, 1), 2);
	CHECK_EQ(rules_bind_interdomain(lab, a, 2, 2), 3);
	rec_reset();
	rules_leave(lab, b2);
	EXPECT_EVENTS(CLEAR(4, 2, 1), CHANGED(2, 2),
		      CLEAR(4, 2, 4), CHANGED(2, 3));
	CHECK(!rules_domain_exists(lab, 2));
	CHECK_EQ(rules_domain_count(lab), 2);
	PORT_IS(1, 2, RULES_UNBOUND, 2, 0, 2);
	PORT_IS(1, 3, RULES_UNBOUND, 2, 0, 2);
	CHECK_EQ(rules_alloc_unbound(lab, c, 2, 1), -ESRCH);
	CHECK_EQ(rules_bind_interdomain(lab, a, 2, 2), -ESRCH);

	/* domain 0 stays when its handles leave */
	CHECK_EQ(rules_alloc_unbound(lab, c, SELF, 1), 1);
	rec_reset();
	rules_leave(lab, c);
	EXPECT_EVENTS(CLEAR(1, 0, 1));
	CHECK(rules_domain_exists(lab, 0));
	PORT_FREE(0, 1);
	rules_leave(lab, a);
	CHECK_EQ(rules_domain_count(lab), 1);
}

static void t_domain_limit(void)
{
	struct rules_handle *c = join(1, 0);
	uint32_t i;

	for (i = 1; i < RULES_MAX_DOMAINS; i++)
		join(i + 1, i);
	CHECK_EQ(rules_domain_count(lab), RULES_MAX_DOMAINS);
	H[RULES_MAX_DOMAINS + 1].id = RULES_MAX_DOMAINS + 1;
	CHECK_EQ(rules_join(lab, &H[RULES_MAX_DOMAINS + 1], 100), -ENOSPC);
	CHECK_EQ(rules_domain_create(lab, c, 100), -ENOSPC);
	CHECK_EQ(rules_domain_create(lab, c, 5), -EEXIST); /* before */
	CHECK_EQ(rules_domain_count(lab), RULES_MAX_DOMAINS);
	/* joining an existing domain is fine */
	CHECK_EQ(rules_join(lab, &H[RULES_MAX_DOMAINS + 1], 7), 0);
	rules_leave(lab, &H[RULES_MAX_DOMAINS + 1]);
	/* a slot frees up */
	rules_leave(lab, &H[10]); /* domain 9 */
	CHECK_EQ(rules_domain_count(lab), RULES_MAX_DOMAINS - 1);
	CHECK_EQ(rules_domain_create(lab, c, 100), 0);
	CHECK_EQ(rules_join(lab, &H[RULES_MAX_DOMAINS + 1], 101), -ENOSPC);
	CHECK_EQ(rules_domain_destroy(lab, c, 100), 0);
	CHECK_EQ(rules_join(lab, &H[RULES_MAX_DOMAINS + 1], 101), 0);
	CHECK_EQ(rules_domain_count(lab), RULES_MAX_DOMAINS);
	EXPECT_NO_EVENTS();
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void t_port_limit(void)
{
	/* spread over the table: first, inner and last buckets */
	static const uint32_t holes[] = {
		RULES_MAX_PORTS - 1, RULES_MAX_PORTS / 2 + 1, RULES_MAX_PORTS / 4,
		RULES_MAX_PORTS / 8 + 3, 100, RULES_BUCKET_PORTS, 17
	};
	const uint32_t hole = RULES_MAX_PORTS / 2 - 3;
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	double t0, t1;
	uint32_t i;
	int rc;

	t0 = now_ms();
	for (i = 1; i < RULES_MAX_PORTS; i++) {
		rc = rules_alloc_unbound(lab, a, SELF, 0);
		if (rc != (int)i) {
			CHECK_EQ(rc, i);
			break;
		}
	}
	t1 = now_ms();
	printf("    %u ports allocated in %.1f ms\n", RULES_MAX_PORTS - 1,
	       t1 - t0);
	CHECK_EQ(n_recs, RULES_MAX_PORTS - 1);
	rec_reset();
	/* -ENOSPC at the limit, for every way of allocating */
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 0), -ENOSPC);
	CHECK_EQ(rules_alloc_unbound(lab, c, 1, 0), -ENOSPC);
	CHECK_EQ(rules_bind_virq(lab, a, 0), -ENOSPC);
	CHECK_EQ(rules_bind_interdomain(lab, a, 1, 1), -ENOSPC);
	STATUS_IS(a, SELF, RULES_MAX_PORTS - 1, 0, EVTCHNX_STATE_UNBOUND);
	STATUS_EINVAL(a, SELF, RULES_MAX_PORTS);
	CHECK_EQ(rules_send(lab, a, RULES_MAX_PORTS - 1), 0);
	CHECK_EQ(rules_send(lab, a, RULES_MAX_PORTS), -EINVAL);
	/* first fit after frees in the middle: lowest first, whatever the
	 * order they were freed in */
	for (i = 0; i < sizeof(holes) / sizeof(holes[0]); i++)
		CHECK_EQ(rules_unbind(lab, a, holes[i]), 0);
	for (i = sizeof(holes) / sizeof(holes[0]); i-- > 0;)
		CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 0), holes[i]);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 0), -ENOSPC);
	/* one hole: found by every kind of allocation */
	CHECK_EQ(rules_unbind(lab, a, hole), 0);
	CHECK_EQ(rules_bind_virq(lab, a, 0), hole);
	CHECK_EQ(rules_unbind(lab, a, hole), 0);
	CHECK_EQ(rules_alloc_unbound(lab, c, 1, 0), hole);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 0), -ENOSPC);
	/* reset: back to 1, the table stays */
	t0 = now_ms();
	CHECK_EQ(rules_reset(lab, c, 1), 0);
	t1 = now_ms();
	printf("    reset of %u ports in %.1f ms\n", RULES_MAX_PORTS - 1,
	       t1 - t0);
	rec_reset();
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 0), 1);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 0), 2);
	STATUS_CLOSED(a, SELF, RULES_MAX_PORTS - 1);
	/* leaving frees everything the handle owned */
	fill_domain(a);
	rules_leave(lab, a);
	CHECK(!rules_domain_exists(lab, 1));
	CHECK_EQ(n_recs, RULES_MAX_PORTS - 1);
	rec_reset();
	/* a new domain 1 starts with one bucket again */
	a = join(2, 1);
	STATUS_EINVAL(a, SELF, RULES_BUCKET_PORTS);
}

/*
 * The table grows in buckets as Xen's does (port_is_valid(), get_free_port()
 * in xen/common/event_channel.c): a port below the limit but beyond the
 * buckets allocated so far is invalid (status and bind_interdomain: -EINVAL;
 * own-port calls: the evtchnx contract's -ENOTCONN); first-fit grows the
 * table one bucket when the table is full, even if the operation then fails;
 * nothing shrinks it but the domain's end.
 */
static void t_table_growth(void)
{
	const uint32_t B = RULES_BUCKET_PORTS;
	struct rules_handle *c = join(1, 0);
	struct rules_handle *a = join(2, 1);
	struct rules_handle *b = join(3, 2);
	uint32_t i;

	/* a fresh domain: one bucket, port 0 reserved */
	STATUS_CLOSED(a, SELF, B - 1);
	STATUS_EINVAL(a, SELF, B);
	STATUS_EINVAL(c, 1, B);
	STATUS_EINVAL(a, SELF, RULES_MAX_PORTS - 1);
	CHECK(rules_port_of(lab, 1, B - 1) != NULL);
	CHECK(rules_port_of(lab, 1, B) == NULL);
	/* own-port calls: in range, not owned */
	CHECK_EQ(rules_send(lab, a, B), -ENOTCONN);
	CHECK_EQ(rules_unbind(lab, a, B), -ENOTCONN);
	CHECK_EQ(rules_send(lab, a, RULES_MAX_PORTS - 1), -ENOTCONN);
	CHECK_EQ(rules_adopt(lab, a, B), -EINVAL);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, B), -EINVAL);
	CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 0), 1); /* nothing grew */
	CHECK(rules_port_of(lab, 1, B) == NULL);
	EXPECT_EVENTS(CLEAR(3, 2, 1));

	/* filling the first bucket grows nothing; the next port does */
	for (i = 1; i < B; i++)
		CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), i);
	CHECK(rules_port_of(lab, 1, B) == NULL);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), B);
	PORT_IS(1, B, RULES_UNBOUND, 2, 0, 2);
	PORT_FREE(1, 2 * B - 1);
	CHECK(rules_port_of(lab, 1, 2 * B) == NULL);
	STATUS_CLOSED(a, SELF, 2 * B - 1);
	STATUS_EINVAL(a, SELF, 2 * B);
	/* the new bucket's ports work like any other */
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, B), 2);
	PORT_IS(1, B, RULES_INTERDOMAIN, 2, 2, 2);
	CHECK_EQ(rules_send(lab, b, 2), 0);
	rec_reset();

	/* closing never shrinks the table */
	CHECK_EQ(rules_unbind(lab, a, B), 0);
	CHECK(rules_port_of(lab, 1, 2 * B - 1) != NULL);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), B); /* first fit */
	CHECK_EQ(rules_unbind(lab, a, B), 0);
	STATUS_CLOSED(a, SELF, B);
	/* nor does a reset (Xen's evtchn_reset() closes, frees nothing) */
	CHECK_EQ(rules_reset(lab, a, SELF), 0);
	rec_reset();
	STATUS_CLOSED(a, SELF, 2 * B - 1);
	CHECK_EQ(rules_alloc_unbound(lab, a, SELF, 2), 1);

	/* a failed operation keeps the bucket its allocation added: b (1 and
	 * 2 in use) full to the end of its table, then refused by the remote
	 * checks or by privilege (Xen allocates the port before either) */
	for (i = 3; i < B; i++)
		CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 1), i);
	CHECK(rules_port_of(lab, 2, B) == NULL);
	CHECK_EQ(rules_bind_interdomain(lab, b, 1, 0xFFFFFFFFu), -EINVAL);
	PORT_FREE(2, B);
	CHECK(rules_port_of(lab, 2, 2 * B) == NULL);
	for (i = B; i < 2 * B; i++)
		CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 1), i);
	CHECK_EQ(rules_alloc_unbound(lab, a, 2, 1), -EPERM);
	PORT_FREE(2, 2 * B);
	STATUS_CLOSED(c, 2, 2 * B);
	/* ... but an operation refused before allocating adds nothing */
	for (i = 2 * B; i < 3 * B; i++)
		CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 1), i);
	CHECK_EQ(rules_bind_interdomain(lab, b, 77, 1), -ESRCH);
	CHECK_EQ(rules_restrict(lab, b, 1), 0);
	CHECK_EQ(rules_alloc_unbound(lab, b, SELF, 1), -EACCES);
	CHECK(rules_port_of(lab, 2, 3 * B) == NULL);
	rec_reset();

	/* the domain's end: a new domain 2 starts with one bucket */
	rules_leave(lab, b);
	CHECK(!rules_domain_exists(lab, 2));
	CHECK_EQ(rules_domain_create(lab, c, 2), 0);
	CHECK(rules_port_of(lab, 2, B - 1) != NULL);
	CHECK(rules_port_of(lab, 2, B) == NULL);
	STATUS_EINVAL(c, 2, 2 * B);
	rec_reset();
}

/* Many domains with a few ports each, and their ends. */
static void t_many_small_domains(void)
{
	struct rules_handle *c = join(1, 0);
	uint32_t d;

	for (d = 1; d < RULES_MAX_DOMAINS; d++) {
		struct rules_handle *h = join(1 + d, d);

		CHECK_EQ(rules_alloc_unbound(lab, h, SELF, SELF), 1);
		CHECK_EQ(rules_alloc_unbound(lab, h, SELF, 0), 2);
		CHECK_EQ(rules_bind_interdomain(lab, h, SELF, 1), 3);
		CHECK_EQ(rules_alloc_unbound(lab, c, d, 0), 4);
	}
	CHECK_EQ(rules_domain_count(lab), RULES_MAX_DOMAINS);
	for (d = 1; d < RULES_MAX_DOMAINS; d++) {
		STATUS_IS(c, d, 4, 0, EVTCHNX_STATE_UNBOUND);
		CHECK(rules_port_of(lab, d, RULES_BUCKET_PORTS) == NULL);
		rules_leave(lab, &H[1 + d]);
		CHECK(!rules_domain_exists(lab, d));
	}
	CHECK_EQ(rules_domain_count(lab), 1);
	rec_reset();
}

/* docs/conformance.md (A, B unprivileged, C control). */
static void t_examples(void)
{
	struct rules_handle *C = join(1, 0);
	struct rules_handle *A = join(2, 10);
	struct rules_handle *B = join(3, 20);
	struct rules_handle *D = join(4, 30);
	struct evtchnx_status st;
	int p, q, rc, p1, p2;

	/* 1 */
	p = rules_alloc_unbound(lab, A, SELF, 20);
	CHECK(p >= 1);
	st = status_of(A, SELF, (uint32_t)p, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st.remote_domid, 20);
	/* 8 */
	CHECK_EQ(rules_bind_interdomain(lab, D, 10, (uint32_t)p), -EINVAL);
	/* 2 */
	rec_reset();
	q = rules_bind_interdomain(lab, B, 10, (uint32_t)p);
	CHECK(q >= 1);
	st = status_of(A, SELF, (uint32_t)p, &rc);
	CHECK_EQ(st.state, EVTCHNX_STATE_INTERDOMAIN);
	CHECK_EQ(st.remote_domid, 20);
	CHECK_EQ(st.remote_port, q);
	st = status_of(B, SELF, (uint32_t)q, &rc);
	CHECK_EQ(st.state, EVTCHNX_STATE_INTERDOMAIN);
	CHECK_EQ(st.remote_domid, 10);
	CHECK_EQ(st.remote_port, p);
	CHECK_EQ(count_recs(REC_RAISE, 3, (uint32_t)q), 1); /* q pending */
	rec_reset();
	/* 3, 4: each send raises q (coalescing is event_2l's business) */
	CHECK_EQ(rules_send(lab, A, (uint32_t)p), 0);
	CHECK_EQ(rules_send(lab, A, (uint32_t)p), 0);
	EXPECT_EVENTS(RAISE(3, 20, (uint32_t)q),
		      RAISE(3, 20, (uint32_t)q));
	/* 5 */
	CHECK_EQ(rules_unbind(lab, A, (uint32_t)p), 0);
	rec_reset();
	st = status_of(B, SELF, (uint32_t)q, &rc);
	CHECK_EQ(st.state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st.remote_domid, 10);
	CHECK_EQ(rules_send(lab, B, (uint32_t)q), 0);
	EXPECT_NO_EVENTS();
	/* 6 */
	CHECK_EQ(rules_unbind(lab, A, (uint32_t)p), -ENOTCONN);
	CHECK_EQ(rules_unbind(lab, A, 0), -EINVAL);
	CHECK_EQ(rules_send(lab, A, 0xFFFFFFFFu), -EINVAL);
	/* 7 */
	CHECK_EQ(rules_alloc_unbound(lab, A, 20, 10), -EPERM);
	rc = rules_alloc_unbound(lab, C, 20, SELF);
	CHECK(rc >= 1);
	st = status_of(C, 20, (uint32_t)rc, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st.remote_domid, 0);
	/* 9 */
	p1 = rules_alloc_unbound(lab, A, SELF, SELF);
	CHECK(p1 >= 1);
	p2 = rules_bind_interdomain(lab, A, SELF, (uint32_t)p1);
	CHECK(p2 >= 1);
	rec_reset();
	CHECK_EQ(rules_send(lab, A, (uint32_t)p1), 0);
	EXPECT_EVENTS(RAISE(2, 10, (uint32_t)p2));
	CHECK_EQ(rules_send(lab, A, (uint32_t)p2), 0);
	EXPECT_EVENTS(RAISE(2, 10, (uint32_t)p1));
	/* 10: B's process dies with channels open */
	p = rules_alloc_unbound(lab, A, SELF, 20);
	q = rules_bind_interdomain(lab, B, 10, (uint32_t)p);
	CHECK(q >= 1);
	rec_reset();
	rules_leave(lab, B);
	CHECK(!rules_domain_exists(lab, 20));
	st = status_of(A, SELF, (uint32_t)p, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(st.state, EVTCHNX_STATE_UNBOUND);
	CHECK_EQ(st.remote_domid, 20);
	CHECK_EQ(count_recs(REC_CHANGED, 2, (uint32_t)p), 1);
	rec_reset();
	CHECK_EQ(rules_send(lab, A, (uint32_t)p), 0);
	CHECK_EQ(rules_send(lab, A, (uint32_t)p1), 0);
	EXPECT_EVENTS(RAISE(2, 10, (uint32_t)p2));
}

static void t_no_hooks(void)
{
	/* a lab without hooks works; events still latch on unowned ports */
	struct rules_lab *l = rules_lab_new(NULL);
	struct rules_handle c = { .id = 1 }, a = { .id = 2 };

	CHECK(l != NULL);
	if (!l)
		return;
	CHECK_EQ(rules_join(l, &c, 0), 0);
	CHECK_EQ(rules_join(l, &a, 1), 0);
	CHECK_EQ(rules_alloc_unbound(l, &c, 1, SELF), 1);
	CHECK_EQ(rules_bind_interdomain(l, &c, 1, 1), 1);
	CHECK_EQ(rules_send(l, &c, 1), 0);
	CHECK_EQ(rules_port_of(l, 1, 1)->latched, 1);
	CHECK_EQ(rules_adopt(l, &a, 1), 0);
	CHECK_EQ(rules_port_of(l, 1, 1)->latched, 0);
	CHECK_EQ(rules_reset(l, &c, 1), 0);
	rules_leave(l, &a);
	rules_leave(l, &c);
	CHECK_EQ(rules_domain_count(l), 1);
	rules_lab_free(l);
	CHECK_EQ(n_recs, 0);
}

/* ---- main --------------------------------------------------------------- */

#define RUN(fn) UNIT_RUN(fresh_lab(), fn)

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(t_lab_new);
	RUN(t_join);
	RUN(t_pure_helpers);
	RUN(t_alloc_unbound);
	RUN(t_bind_interdomain);
	RUN(t_bind_interdomain_restricted);
	RUN(t_loopback);
	RUN(t_bind_virq);
	RUN(t_raise_virq);
	RUN(t_adopt);
	RUN(t_unbind);
	RUN(t_send);
	RUN(t_status);
	RUN(t_reset);
	RUN(t_restrict);
	RUN(t_domain_create);
	RUN(t_domain_destroy);
	RUN(t_leave);
	RUN(t_domain_limit);
	RUN(t_port_limit);
	RUN(t_table_growth);
	RUN(t_many_small_domains);
	RUN(t_examples);
	RUN(t_no_hooks);
	rules_lab_free(lab);
	lab = NULL;
	return unit_summary();
}
