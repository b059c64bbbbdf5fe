/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * rules.c - Xen's event-channel rules for the sim (see rules.h).
 *
 * Data: one struct rules_domain per existing domain, each with a port table
 * that grows in buckets of RULES_BUCKET_PORTS records as ports are
 * allocated, as Xen's does: the table spans the buckets allocated so far
 * (Xen's valid_evtchns), grows by one bucket when first-fit finds no FREE
 * port inside it, and never shrinks while the domain lives (close and reset
 * leave the buckets in place).  A port beyond the table is "invalid" in
 * Xen's sense (port_is_valid()): status and bind_interdomain answer -EINVAL
 * for it.  A two-level bitmap (a bit per bucket with a FREE port, a bit per
 * word of those) finds the lowest FREE port in a few instructions.  The lab
 * indexes domains by domid and joined handles by id, both in arrays
 * allocated once.  Nothing here allocates per event.
 *
 * Where rules.h leaves room, this implementation:
 *   - rejects rules_join() of an id that is already joined (-EINVAL) and
 *     returns -ENOMEM when a new domain's table cannot be allocated;
 *   - treats a caller that is not joined to the lab like an orphaned one
 *     (-ESRCH);
 *   - accepts DOMID_SELF in rules_raise_virq() (the control domain itself);
 *   - sends no "changed" to a handle that is leaving, and, when a whole
 *     domain is closed (reset, destruction), tells the owner of a port whose
 *     peer is in the same domain once, when that port is freed;
 *   - calls hooks only for ports with an owner; hooks may read the lab
 *     (rules_port_of() and friends) but must not modify it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

/* The virqs Xen binds per vCPU; every other one is global (handled by the
 * control domain). */
#define RULES_PER_VCPU_VIRQS                                                   \
	((1u << 0) /* TIMER */ | (1u << 1) /* DEBUG */ |                       \
	 (1u << 7) /* XENOPROF */ | (1u << 13) /* XENPMU */)

/* The table: buckets of RULES_BUCKET_PORTS records, the first one holding
 * port 0, allocated one at a time as first-fit needs them. */
#define RULES_NR_BUCKETS (RULES_MAX_PORTS / RULES_BUCKET_PORTS)
#define RULES_FREE_WORDS ((RULES_NR_BUCKETS + 63u) / 64u)

_Static_assert(RULES_MAX_PORTS % RULES_BUCKET_PORTS == 0,
	       "the port limit is a whole number of buckets");
_Static_assert(RULES_BUCKET_PORTS == 64u, "one free word per bucket");
_Static_assert(RULES_FREE_WORDS <= 64u, "one top word for the free bitmap");

struct rules_bucket {
	uint64_t free; /* bit i: port (bucket * 64 + i) is FREE */
	struct rules_port ports[RULES_BUCKET_PORTS];
};

struct rules_domain {
	uint16_t domid;
	bool explicit_created; /* by rules_domain_create(), or domain 0 */
	unsigned int nr_handles; /* joined, not orphaned */
	unsigned int nr_active;  /* ports in use: neither FREE nor port 0 */
	uint32_t nr_buckets;     /* the table spans nr_buckets buckets */
	uint32_t max_buckets;    /* room in @buckets */
	struct rules_bucket **buckets;
	uint64_t free_top; /* bit w: free_mid[w] != 0 */
	uint64_t free_mid[RULES_FREE_WORDS]; /* bit b: bucket b has FREE ports */
	uint32_t virq_port[RULES_NR_VIRQS]; /* 0: not bound */
};

struct rules_lab {
	struct rules_hooks hooks;
	unsigned int nr_domains;
	struct rules_domain **doms;     /* [RULES_DOMID_FIRST_RESERVED] */
	struct rules_handle **handles;  /* [RULES_MAX_HANDLES + 1] */
};

/* ---- small helpers ------------------------------------------------------ */

static struct rules_domain *dom_get(const struct rules_lab *lab,
				    uint32_t domid)
{
	if (domid >= RULES_DOMID_FIRST_RESERVED)
		return NULL;
	return lab->doms[domid];
}

/* ---- the port table ----------------------------------------------------- */

/* Ports in the table: those below are "valid" in Xen's sense. */
static uint32_t table_ports(const struct rules_domain *d)
{
	return d->nr_buckets * RULES_BUCKET_PORTS;
}

/* A port known to be in the table. */
static struct rules_port *port_ref(const struct rules_domain *d, uint32_t port)
{
	return &d->buckets[port / RULES_BUCKET_PORTS]
			->ports[port % RULES_BUCKET_PORTS];
}

/* Any port number: NULL beyond the table (Xen's !port_is_valid()). */
static struct rules_port *port_at(const struct rules_domain *d, uint32_t port)
{
	return port < table_ports(d) ? port_ref(d, port) : NULL;
}

static void mark_free(struct rules_domain *d, uint32_t port)
{
	uint32_t b = port / RULES_BUCKET_PORTS;

	d->buckets[b]->free |= 1ull << (port % RULES_BUCKET_PORTS);
	d->free_mid[b / 64] |= 1ull << (b % 64);
	d->free_top |= 1ull << (b / 64);
}

static void mark_used(struct rules_domain *d, uint32_t port)
{
	uint32_t b = port / RULES_BUCKET_PORTS;
	struct rules_bucket *bk = d->buckets[b];

	bk->free &= ~(1ull << (port % RULES_BUCKET_PORTS));
	if (bk->free)
		return;
	d->free_mid[b / 64] &= ~(1ull << (b % 64));
	if (!d->free_mid[b / 64])
		d->free_top &= ~(1ull << (b / 64));
}

/* Append a bucket of FREE ports to the table. */
static int table_grow(struct rules_domain *d)
{
	struct rules_bucket *bk;
	uint32_t b = d->nr_buckets;

	if (b == RULES_NR_BUCKETS)
		return -ENOSPC;
	if (b == d->max_buckets) {
		uint32_t n = b ? 2 * b : 1;
		struct rules_bucket **grown;

		if (n > RULES_NR_BUCKETS)
			n = RULES_NR_BUCKETS;
		grown = realloc(d->buckets, n * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		d->buckets = grown;
		d->max_buckets = n;
	}
	bk = calloc(1, sizeof(*bk)); /* every record RULES_FREE */
	if (!bk)
		return -ENOMEM;
	bk->free = ~0ull;
	d->buckets[b] = bk;
	d->free_mid[b / 64] |= 1ull << (b % 64);
	d->free_top |= 1ull << (b / 64);
	d->nr_buckets = b + 1;
	return 0;
}

/* The lowest port >= @from in use (neither FREE nor port 0), or 0. */
static uint32_t next_in_use(const struct rules_domain *d, uint32_t from)
{
	uint32_t b = from / RULES_BUCKET_PORTS;
	uint64_t used;

	if (!from)
		from = 1;
	for (; b < d->nr_buckets; b++) {
		used = ~d->buckets[b]->free;
		if (b == 0)
			used &= ~1ull; /* port 0 */
		if (b == from / RULES_BUCKET_PORTS)
			used &= ~0ull << (from % RULES_BUCKET_PORTS);
		if (used)
			return b * RULES_BUCKET_PORTS +
			       (uint32_t)__builtin_ctzll(used);
	}
	return 0;
}

/* The caller's domain, or NULL when the caller cannot act (orphaned, or not
 * joined to this lab). */
static struct rules_domain *caller_dom(const struct rules_lab *lab,
				       const struct rules_handle *caller)
{
	if (!lab || !caller || caller->orphaned)
		return NULL;
	if (caller->id == 0 || caller->id > RULES_MAX_HANDLES ||
	    lab->handles[caller->id] != caller)
		return NULL;
	return dom_get(lab, caller->domid);
}

/* A domid argument: DOMID_SELF is the caller's domain. */
static struct rules_domain *resolve(const struct rules_lab *lab,
				    struct rules_domain *own, uint32_t domid)
{
	if (domid == RULES_DOMID_SELF)
		return own;
	return dom_get(lab, domid);
}

/* Xen's privilege: only the control domain acts on other domains. */
static bool privileged(const struct rules_domain *own)
{
	return own->domid == RULES_CONTROL_DOMID;
}

static bool may_act_on(const struct rules_domain *own,
		       const struct rules_domain *d)
{
	return d == own || privileged(own);
}

/* The caller's domain for a toolstack operation, or NULL with @err set. */
static struct rules_domain *toolstack_caller(const struct rules_lab *lab,
					     const struct rules_handle *caller,
					     int *err)
{
	struct rules_domain *own = caller_dom(lab, caller);

	*err = !own ? -ESRCH : !privileged(own) ? -EPERM : 0;
	return *err ? NULL : own;
}

static void ev_fill(struct rules_event *ev, const struct rules_domain *d,
		    uint32_t port)
{
	const struct rules_port *p = port_ref(d, port);

	ev->owner = p->owner;
	ev->domid = d->domid;
	ev->port = port;
}

/* Raise an event on a port: an owned port is raised for its owner, an
 * unowned one latches until adopted. */
static void raise_port(struct rules_lab *lab, struct rules_domain *d,
		       uint32_t port)
{
	struct rules_port *p = port_ref(d, port);
	struct rules_event ev;

	if (!p->owner) {
		p->latched = 1;
		return;
	}
	if (!lab->hooks.raise)
		return;
	ev_fill(&ev, d, port);
	lab->hooks.raise(lab->hooks.ctx, &ev);
}

static void clear_port(struct rules_lab *lab, const struct rules_domain *d,
		       uint32_t port)
{
	struct rules_event ev;

	if (!port_ref(d, port)->owner || !lab->hooks.clear)
		return;
	ev_fill(&ev, d, port);
	lab->hooks.clear(lab->hooks.ctx, &ev);
}

static void notify_channel(struct rules_lab *lab, uint32_t a, uint32_t pa,
			   uint32_t b, uint32_t pb, bool up)
{
	if (a && b && lab->hooks.channel)
		lab->hooks.channel(lab->hooks.ctx, a, pa, b, pb, up);
}

static void notify_changed(struct rules_lab *lab, uint32_t owner,
			   uint32_t port)
{
	if (!owner || !lab->hooks.changed)
		return;
	lab->hooks.changed(lab->hooks.ctx, owner, port);
}

static void publish_port(struct rules_lab *lab, const struct rules_domain *d,
			 uint32_t port)
{
	if (lab->hooks.status)
		lab->hooks.status(lab->hooks.ctx, d->domid, port, port_ref(d, port));
}

static void publish_domain(struct rules_lab *lab, const struct rules_domain *d,
			   bool gone)
{
	if (lab->hooks.domain)
		lab->hooks.domain(lab->hooks.ctx, d->domid, gone ? 0 : table_ports(d));
}

/*
 * First fit: the lowest FREE port >= 1, or -ENOSPC, or -ENOMEM.  Like Xen's
 * get_free_port(), it grows the table by a bucket when no port inside it is
 * FREE, and the bucket stays even if the operation then fails.  The port
 * stays FREE until port_take().
 */
static int find_free(struct rules_lab *lab, struct rules_domain *d)
{
	uint32_t w, b;
	int err;

	if (!d->free_top) {
		err = table_grow(d);
		if (err)
			return err;
		publish_domain(lab, d, false);
	}
	w = (uint32_t)__builtin_ctzll(d->free_top);
	b = w * 64 + (uint32_t)__builtin_ctzll(d->free_mid[w]);
	return (int)(b * RULES_BUCKET_PORTS +
		     (uint32_t)__builtin_ctzll(d->buckets[b]->free));
}

static struct rules_port *port_take(struct rules_domain *d, uint32_t port,
				    enum rules_state state, uint32_t owner)
{
	struct rules_port *p = port_ref(d, port);

	memset(p, 0, sizeof(*p));
	p->state = (uint8_t)state;
	p->owner = owner;
	mark_used(d, port);
	d->nr_active++;
	return p;
}

/*
 * Close one port as EVTCHNOP_close does: the peer of an INTERDOMAIN port
 * becomes UNBOUND (offered to this domain again) and its owner is told; a
 * VIRQ binding is forgotten; the port becomes FREE.
 * @notify_self: tell the port's own owner (an operation that did not name
 *               the port freed it).
 * @quiet:       a handle that is leaving and needs no notification (0: none).
 * @whole:       every port of @d is being closed: a peer inside @d will be
 *               freed (and notified) in turn, so it is not notified twice.
 */
static void close_port(struct rules_lab *lab, struct rules_domain *d,
		       uint32_t port, bool notify_self, uint32_t quiet,
		       bool whole)
{
	struct rules_port *p = port_ref(d, port);
	uint32_t owner = p->owner;

	switch (p->state) {
	case RULES_INTERDOMAIN: {
		struct rules_domain *rd = dom_get(lab, p->remote_dom);
		struct rules_port *rp;

		rp = rd ? port_at(rd, p->remote_port) : NULL;
		if (!rp || rp->state != RULES_INTERDOMAIN ||
		    rp->remote_dom != d->domid || rp->remote_port != port)
			break;
		notify_channel(lab, owner, port, rp->owner, p->remote_port, false);
		rp->state = RULES_UNBOUND;
		rp->remote_dom = d->domid;
		rp->remote_port = 0;
		publish_port(lab, rd, p->remote_port);
		if (!(whole && rd == d) && rp->owner != quiet)
			notify_changed(lab, rp->owner, p->remote_port);
		break;
	}
	case RULES_VIRQ:
		if (p->virq < RULES_NR_VIRQS && d->virq_port[p->virq] == port)
			d->virq_port[p->virq] = 0;
		break;
	default:
		break;
	}

	clear_port(lab, d, port);
	memset(p, 0, sizeof(*p)); /* RULES_FREE, no owner, not latched */
	publish_port(lab, d, port);
	mark_free(d, port);
	d->nr_active--;
	if (notify_self && owner != quiet)
		notify_changed(lab, owner, port);
}

/* Close every port of @d in ascending order (reset, destruction), as Xen's
 * evtchn_reset() does; the table keeps its size. */
static void close_all(struct rules_lab *lab, struct rules_domain *d)
{
	uint32_t port = 1;

	while (d->nr_active && (port = next_in_use(d, port)) != 0)
		close_port(lab, d, port, true, 0, true);
}

static void domain_free(struct rules_domain *d)
{
	uint32_t b;

	if (!d)
		return;
	for (b = 0; b < d->nr_buckets; b++)
		free(d->buckets[b]);
	free(d->buckets);
	free(d);
}

static struct rules_domain *domain_new(struct rules_lab *lab, uint16_t domid,
				       bool explicit_created)
{
	struct rules_domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (table_grow(d)) { /* the first bucket, with port 0 */
		domain_free(d);
		return NULL;
	}
	d->domid = domid;
	d->explicit_created = explicit_created;
	port_ref(d, 0)->state = RULES_RESERVED;
	mark_used(d, 0);
	lab->doms[domid] = d;
	lab->nr_domains++;
	publish_domain(lab, d, false);
	return d;
}

static void domain_destroy(struct rules_lab *lab, struct rules_domain *d)
{
	uint32_t i;

	close_all(lab, d);
	for (i = 1; d->nr_handles && i <= RULES_MAX_HANDLES; i++) {
		struct rules_handle *hd = lab->handles[i];

		if (hd && !hd->orphaned && hd->domid == d->domid) {
			hd->orphaned = true;
			d->nr_handles--;
		}
	}
	lab->doms[d->domid] = NULL;
	lab->nr_domains--;
	publish_domain(lab, d, true);
	domain_free(d);
}

/* ---- the lab ------------------------------------------------------------ */

struct rules_lab *rules_lab_new(const struct rules_hooks *hooks)
{
	struct rules_lab *lab = calloc(1, sizeof(*lab));

	if (!lab)
		return NULL;
	if (hooks)
		lab->hooks = *hooks;
	lab->doms = calloc(RULES_DOMID_FIRST_RESERVED, sizeof(*lab->doms));
	if (!lab->doms)
		goto err_lab;
	lab->handles = calloc(RULES_MAX_HANDLES + 1, sizeof(*lab->handles));
	if (!lab->handles)
		goto err_doms;
	if (!domain_new(lab, RULES_CONTROL_DOMID, true))
		goto err_handles;
	return lab;

err_handles:
	free(lab->handles);
err_doms:
	free(lab->doms);
err_lab:
	free(lab);
	return NULL;
}

void rules_lab_free(struct rules_lab *lab)
{
	uint32_t i;

	if (!lab)
		return;
	for (i = 0; i < RULES_DOMID_FIRST_RESERVED; i++)
		domain_free(lab->doms[i]);
	free(lab->doms);
	free(lab->handles);
	free(lab);
}

int rules_join(struct rules_lab *lab, struct rules_handle *hd, uint32_t domid)
{
	struct rules_domain *d;

	if (!lab || !hd)
		return -EINVAL;
	if (domid >= RULES_DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (hd->id == 0 || hd->id > RULES_MAX_HANDLES || lab->handles[hd->id])
		return -EINVAL;

	d = lab->doms[domid];
	if (!d) {
		if (lab->nr_domains >= RULES_MAX_DOMAINS)
			return -ENOSPC;
		d = domain_new(lab, (uint16_t)domid, false);
		if (!d)
			return -ENOMEM;
	}
	hd->domid = (uint16_t)domid;
	hd->restrict_to = 0;
	hd->orphaned = false;
	lab->handles[hd->id] = hd;
	d->nr_handles++;
	return 0;
}

void rules_leave(struct rules_lab *lab, struct rules_handle *hd)
{
	struct rules_domain *d;
	uint32_t port = 1;

	if (!lab || !hd || hd->id == 0 || hd->id > RULES_MAX_HANDLES ||
	    lab->handles[hd->id] != hd)
		return;
	lab->handles[hd->id] = NULL;
	if (hd->orphaned)
		return;
	d = dom_get(lab, hd->domid);
	if (!d)
		return;

	while ((port = next_in_use(d, port)) != 0) {
		if (port_ref(d, port)->owner == hd->id)
			close_port(lab, d, port, false, hd->id, false);
		port++;
	}
	if (d->nr_handles)
		d->nr_handles--;
	if (!d->nr_handles && !d->explicit_created &&
	    d->domid != RULES_CONTROL_DOMID)
		domain_destroy(lab, d);
}

/* ---- operations --------------------------------------------------------- */

int rules_alloc_unbound(struct rules_lab *lab, struct rules_handle *caller,
			uint32_t dom, uint32_t remote_dom)
{
	struct rules_domain *own = caller_dom(lab, caller);
	struct rules_domain *d;
	struct rules_port *p;
	int port;

	if (!own)
		return -ESRCH;
	if (caller->restrict_to)
		return -EACCES;
	d = resolve(lab, own, dom);
	if (!d)
		return -ESRCH;
	port = find_free(lab, d);
	if (port < 0)
		return port;
	if (!may_act_on(own, d))
		return -EPERM;

	p = port_take(d, (uint32_t)port, RULES_UNBOUND,
		      d == own ? caller->id : 0);
	p->remote_dom = (uint16_t)(remote_dom == RULES_DOMID_SELF ?
				   own->domid : remote_dom);
	publish_port(lab, d, (uint32_t)port);
	clear_port(lab, d, (uint32_t)port);
	return port;
}

int rules_bind_interdomain(struct rules_lab *lab, struct rules_handle *caller,
			   uint32_t remote_dom, uint32_t remote_port)
{
	struct rules_domain *own = caller_dom(lab, caller);
	struct rules_domain *rd;
	struct rules_port *lp, *rp;
	int lport;

	if (!own)
		return -ESRCH;
	if (caller->restrict_to && remote_dom != caller->restrict_to)
		return -EACCES;
	rd = resolve(lab, own, remote_dom);
	if (!rd)
		return -ESRCH;
	lport = find_free(lab, own);
	if (lport < 0)
		return lport;
	rp = port_at(rd, remote_port); /* NULL beyond the table: Xen's -EINVAL */
	if (!rp || rp->state != RULES_UNBOUND || rp->remote_dom != own->domid)
		return -EINVAL;

	lp = port_take(own, (uint32_t)lport, RULES_INTERDOMAIN, caller->id);
	lp->remote_dom = rd->domid;
	lp->remote_port = remote_port;
	rp->state = RULES_INTERDOMAIN;
	rp->remote_port = (uint32_t)lport;
	publish_port(lab, own, (uint32_t)lport);
	publish_port(lab, rd, remote_port);

	notify_channel(lab, caller->id, (uint32_t)lport, rp->owner, remote_port, true);
	clear_port(lab, own, (uint32_t)lport);
	raise_port(lab, own, (uint32_t)lport); /* pending on bind */
	notify_changed(lab, rp->owner, remote_port);
	return lport;
}

int rules_bind_virq(struct rules_lab *lab, struct rules_handle *caller,
		    uint32_t virq)
{
	struct rules_domain *own = caller_dom(lab, caller);
	struct rules_port *p;
	int port;

	if (!own)
		return -ESRCH;
	if (caller->restrict_to)
		return -EACCES;
	if (virq >= RULES_NR_VIRQS)
		return -EINVAL;
	if (!(RULES_PER_VCPU_VIRQS & (1u << virq)) && !privileged(own))
		return -EBUSY;
	if (own->virq_port[virq])
		return -EEXIST;
	port = find_free(lab, own);
	if (port < 0)
		return port;

	p = port_take(own, (uint32_t)port, RULES_VIRQ, caller->id);
	p->virq = (uint8_t)virq;
	own->virq_port[virq] = (uint32_t)port;
	publish_port(lab, own, (uint32_t)port);
	clear_port(lab, own, (uint32_t)port);
	return port;
}

int rules_adopt(struct rules_lab *lab, struct rules_handle *caller,
		uint32_t port)
{
	struct rules_domain *own = caller_dom(lab, caller);
	struct rules_port *p;

	if (!own)
		return -ESRCH;
	if (caller->restrict_to)
		return -EACCES;
	if (port == 0 || port >= RULES_MAX_PORTS)
		return -EINVAL;
	p = port_at(own, port);
	if (!p || p->state == RULES_FREE || p->state == RULES_RESERVED)
		return -EINVAL;
	if (p->owner)
		return -EBUSY;

	p->owner = caller->id;
	clear_port(lab, own, port);
	if (p->latched) {
		p->latched = 0;
		raise_port(lab, own, port);
	}
	if (p->state == RULES_INTERDOMAIN) {
		uint32_t peer = rules_peer_owner(lab, own->domid, port);

		notify_channel(lab, caller->id, port, peer, p->remote_port, true);
		notify_changed(lab, peer, p->remote_port);
	}
	return 0;
}

int rules_unbind(struct rules_lab *lab, struct rules_handle *caller,
		 uint32_t port)
{
	struct rules_domain *own = caller_dom(lab, caller);
	struct rules_port *p;
	int rc;

	if (!own)
		return -ESRCH;
	p = port_at(own, port);
	rc = rules_check_own_port(p, port, caller->id);
	if (rc)
		return rc;
	close_port(lab, own, port, false, 0, false);
	return 0;
}

int rules_send(struct rules_lab *lab, struct rules_handle *caller,
	       uint32_t port)
{
	struct rules_domain *own = caller_dom(lab, caller);
	struct rules_domain *rd;
	struct rules_port *p;
	int rc;

	if (!own)
		return -ESRCH;
	p = port_at(own, port);
	rc = rules_check_own_port(p, port, caller->id);
	if (rc)
		return rc;

	switch (rules_send_action(p)) {
	case RULES_SEND_DROP:
		return 0;
	case RULES_SEND_REMOTE:
		rd = dom_get(lab, p->remote_dom);
		if (rd && port_at(rd, p->remote_port))
			raise_port(lab, rd, p->remote_port);
		return 0;
	default:
		return -EINVAL;
	}
}

int rules_status(struct rules_lab *lab, struct rules_handle *caller,
		 uint32_t dom, uint32_t port, struct evtchnx_status *st)
{
	struct rules_domain *own = caller_dom(lab, caller);
	struct rules_domain *d;
	const struct rules_port *p;

	if (!own)
		return -ESRCH;
	if (!st)
		return -EINVAL;
	d = resolve(lab, own, dom);
	if (!d)
		return -ESRCH;
	p = port_at(d, port); /* NULL beyond the table: Xen's -EINVAL */
	if (!p)
		return -EINVAL;
	if (!may_act_on(own, d))
		return -EPERM;
	rules_status_of(p, st);
	return 0;
}

void rules_status_of(const struct rules_port *p, struct evtchnx_status *st)
{
	st->state = EVTCHNX_STATE_CLOSED;
	st->vcpu = 0;
	st->remote_domid = 0;
	st->remote_port = 0;
	st->virq = 0;
	switch (p->state) {
	case RULES_UNBOUND:
		st->state = EVTCHNX_STATE_UNBOUND;
		st->remote_domid = p->remote_dom;
		break;
	case RULES_INTERDOMAIN:
		st->state = EVTCHNX_STATE_INTERDOMAIN;
		st->remote_domid = p->remote_dom;
		st->remote_port = p->remote_port;
		break;
	case RULES_VIRQ:
		st->state = EVTCHNX_STATE_VIRQ;
		st->virq = p->virq;
		break;
	default:
		break;
	}
}

int rules_reset(struct rules_lab *lab, struct rules_handle *caller,
		uint32_t dom)
{
	struct rules_domain *own = caller_dom(lab, caller);
	struct rules_domain *d;

	if (!own)
		return -ESRCH;
	d = resolve(lab, own, dom);
	if (!d)
		return -ESRCH;
	if (!may_act_on(own, d))
		return -EPERM;
	close_all(lab, d);
	return 0;
}

int rules_restrict(struct rules_lab *lab, struct rules_handle *caller,
		   uint32_t domid)
{
	struct rules_domain *own = caller_dom(lab, caller);

	if (!own)
		return -ESRCH;
	if (caller->restrict_to)
		return -EACCES;
	if (domid == 0 || domid >= RULES_DOMID_FIRST_RESERVED)
		return -EINVAL;
	caller->restrict_to = (uint16_t)domid;
	return 0;
}

int rules_domain_create(struct rules_lab *lab, struct rules_handle *caller,
			uint32_t domid)
{
	int err;

	if (!toolstack_caller(lab, caller, &err))
		return err;
	if (domid >= RULES_DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (lab->doms[domid])
		return -EEXIST;
	if (lab->nr_domains >= RULES_MAX_DOMAINS)
		return -ENOSPC;
	if (!domain_new(lab, (uint16_t)domid, true))
		return -ENOMEM;
	return 0;
}

int rules_domain_destroy(struct rules_lab *lab, struct rules_handle *caller,
			 uint32_t domid)
{
	struct rules_domain *d;
	int err;

	if (!toolstack_caller(lab, caller, &err))
		return err;
	if (domid == RULES_CONTROL_DOMID || domid >= RULES_DOMID_FIRST_RESERVED)
		return -EINVAL;
	d = lab->doms[domid];
	if (!d)
		return -ESRCH;
	domain_destroy(lab, d);
	return 0;
}

int rules_raise_virq(struct rules_lab *lab, struct rules_handle *caller,
		     uint32_t domid, uint32_t virq)
{
	struct rules_domain *own, *d;
	uint32_t port;
	int err;

	own = toolstack_caller(lab, caller, &err);
	if (!own)
		return err;
	if (virq >= RULES_NR_VIRQS)
		return -EINVAL;
	d = resolve(lab, own, domid);
	if (!d)
		return -ESRCH;
	port = d->virq_port[virq];
	if (port)
		raise_port(lab, d, port);
	return 0;
}

/* ---- read-only views ---------------------------------------------------- */

const struct rules_port *rules_port_of(const struct rules_lab *lab,
				       uint32_t domid, uint32_t port)
{
	const struct rules_domain *d;

	if (!lab)
		return NULL;
	d = dom_get(lab, domid);
	return d ? port_at(d, port) : NULL;
}

uint32_t rules_peer_owner(const struct rules_lab *lab, uint32_t domid,
			  uint32_t port)
{
	const struct rules_port *p = rules_port_of(lab, domid, port);
	const struct rules_port *rp;

	if (!p || p->state != RULES_INTERDOMAIN)
		return 0;
	rp = rules_port_of(lab, p->remote_dom, p->remote_port);
	return rp ? rp->owner : 0;
}

int rules_toolstack_check(const struct rules_lab *lab,
			  const struct rules_handle *caller)
{
	int err;

	(void)toolstack_caller(lab, caller, &err);
	return err;
}

bool rules_domain_exists(const struct rules_lab *lab, uint32_t domid)
{
	return lab && dom_get(lab, domid) != NULL;
}

unsigned int rules_domain_count(const struct rules_lab *lab)
{
	return lab ? lab->nr_domains : 0;
}
