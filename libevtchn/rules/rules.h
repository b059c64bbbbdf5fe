/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * rules.h - Xen's event-channel rules for the sim, with no I/O.
 *
 * This module is the one place that knows the hypervisor's rules: domains,
 * port tables that grow in buckets, the port state machine, the
 * per-operation checks in Xen's order with Xen's errno values, first-fit
 * allocation, the privileged control domain 0, DOMID_SELF, loopback,
 * pending-on-bind, reset, destruction, and the evtchnx contract for
 * operations on a handle's own ports.  How events travel between handles
 * (links, libevtchn/sim/link.h) is the transport's business, not this one's.
 *
 * It performs no I/O: what the outside world must do (raise an event on a
 * port, forget one, tell a handle that one of its ports changed, know which
 * handles share a channel) is reported through struct rules_hooks.  It is not thread-safe: the lab
 * server calls it from one thread.
 *
 * A "handle" here is the rules' view of one evtchnx handle joined to the
 * lab: an id chosen by the caller (1 .. RULES_MAX_HANDLES, unique among
 * joined handles), its domain and its restriction.  Each port records the id
 * of the handle that owns it (0: none).
 */
#ifndef EVTCHNX_SIM_RULES_H
#define EVTCHNX_SIM_RULES_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "evtchnx.h"

#define RULES_MAX_PORTS EVTCHNX_SIM_MAX_PORTS     /* per domain, port 0 included */
#define RULES_MAX_DOMAINS EVTCHNX_SIM_MAX_DOMAINS /* the control domain included */
#define RULES_MAX_HANDLES 4096u                   /* handle ids are 1..this */
#define RULES_NR_VIRQS EVTCHNX_NR_VIRQS
#define RULES_DOMID_SELF EVTCHNX_DOMID_SELF
#define RULES_DOMID_FIRST_RESERVED EVTCHNX_DOMID_FIRST_RESERVED
/* A domain's port table grows by this many ports at a time (Xen's
 * EVTCHNS_PER_BUCKET on x86-64: a 4 KiB page of 64-byte channel records). */
#define RULES_BUCKET_PORTS 64u
#define RULES_CONTROL_DOMID 0u

enum rules_state {
	RULES_FREE = 0,
	RULES_RESERVED,    /* port 0, for the domain's whole life */
	RULES_UNBOUND,     /* offered to remote_dom */
	RULES_INTERDOMAIN, /* linked to (remote_dom, remote_port) */
	RULES_VIRQ,        /* bound to virq on vcpu 0 */
};

struct rules_port {
	uint8_t state;        /* enum rules_state */
	uint8_t latched;      /* an event arrived while no handle owned it */
	uint8_t virq;         /* RULES_VIRQ: the virq */
	uint8_t unused;
	uint16_t remote_dom;  /* UNBOUND: offered to; INTERDOMAIN: the peer */
	uint16_t unused2;
	uint32_t remote_port; /* INTERDOMAIN: the peer's port */
	uint32_t owner;       /* owning handle id, 0 = none */
};

struct rules_handle {
	uint32_t id;         /* set by the caller before rules_join() */
	uint16_t domid;      /* set by rules_join() */
	uint16_t restrict_to; /* 0: unrestricted, else the only bindable domid */
	bool orphaned;       /* its domain was destroyed: every op is -ESRCH */
};

/* A port the lab raises an event on: port @port of domain @domid, owned by
 * handle @owner. */
struct rules_event {
	uint32_t owner;
	uint16_t domid;
	uint32_t port;
};

struct rules_hooks {
	void *ctx;
	/* Make the port pending for its owner (a virq, the event a new
	 * binding starts with, a send the lab carries, an event latched
	 * before adoption).  Only called for ports that have an owner. */
	void (*raise)(void *ctx, const struct rules_event *ev);
	/* The port's pending state starts afresh: it was freed, or it starts
	 * a new binding. */
	void (*clear)(void *ctx, const struct rules_event *ev);
	/* The record of port @port of handle @owner changed (state, peer,
	 * ownership of the peer's end, or it was freed) by an operation that
	 * did not name that port itself: the owner must re-read it. */
	void (*changed)(void *ctx, uint32_t owner, uint32_t port);
	/* A channel between port @pa owned by handle @a and port @pb owned by
	 * handle @b came into being (@up) or went away: bound, adopted,
	 * closed.  Not called for a channel with an end that no handle owns. */
	void (*channel)(void *ctx, uint32_t a, uint32_t pa, uint32_t b,
			uint32_t pb, bool up);
	/* What rules_status() reports of port @port of domain @domid may have
	 * changed (@p: its record now).  Ownership does not count. */
	void (*status)(void *ctx, uint16_t domid, uint32_t port,
		       const struct rules_port *p);
	/* Domain @domid came into being or its table grew (@nr_ports: the
	 * ports in its table, port 0 included), or it went away (0). */
	void (*domain)(void *ctx, uint16_t domid, uint32_t nr_ports);
};

struct rules_lab;

/* A lab holds only domain 0, the control domain (explicit, never
 * destroyed).  Returns NULL when out of memory. */
struct rules_lab *rules_lab_new(const struct rules_hooks *hooks);
void rules_lab_free(struct rules_lab *lab);

/* Join handle @hd (hd->id set) as @domid.  Creates the domain implicitly if
 * it does not exist.  -EINVAL: domid >= RULES_DOMID_FIRST_RESERVED or
 * hd->id out of range; -ENOSPC: RULES_MAX_DOMAINS domains exist already. */
int rules_join(struct rules_lab *lab, struct rules_handle *hd, uint32_t domid);
/* The handle goes away (closed, or its process died): every port it owns is
 * closed as by rules_unbind(); an implicitly created domain whose last handle
 * this was is destroyed. */
void rules_leave(struct rules_lab *lab, struct rules_handle *hd);

/* The operations, with the checks, order and errno values documented in
 * include/evtchnx.h.  Domid arguments are <= 0xFFFF (the core checked).
 * Each returns >= 0 (a port or 0) or a negative errno. */
int rules_alloc_unbound(struct rules_lab *lab, struct rules_handle *caller,
			uint32_t dom, uint32_t remote_dom);
int rules_bind_interdomain(struct rules_lab *lab, struct rules_handle *caller,
			   uint32_t remote_dom, uint32_t remote_port);
int rules_bind_virq(struct rules_lab *lab, struct rules_handle *caller,
		    uint32_t virq);
int rules_adopt(struct rules_lab *lab, struct rules_handle *caller,
		uint32_t port);
int rules_unbind(struct rules_lab *lab, struct rules_handle *caller,
		 uint32_t port);
int rules_send(struct rules_lab *lab, struct rules_handle *caller,
	       uint32_t port);
int rules_status(struct rules_lab *lab, struct rules_handle *caller,
		 uint32_t dom, uint32_t port, struct evtchnx_status *st);
/* What evtchnx_status() reports for a port record (st->sz untouched). */
void rules_status_of(const struct rules_port *p, struct evtchnx_status *st);
int rules_reset(struct rules_lab *lab, struct rules_handle *caller,
		uint32_t dom);
int rules_restrict(struct rules_lab *lab, struct rules_handle *caller,
		   uint32_t domid);
int rules_domain_create(struct rules_lab *lab, struct rules_handle *caller,
			uint32_t domid);
int rules_domain_destroy(struct rules_lab *lab, struct rules_handle *caller,
			 uint32_t domid);
int rules_raise_virq(struct rules_lab *lab, struct rules_handle *caller,
		     uint32_t domid, uint32_t virq);

/* Read-only views for the lab server.  NULL when the domain does not exist
 * or the port is beyond its table.  A domain's table grows in buckets as
 * ports are allocated and does not shrink while the domain lives, as Xen's
 * does: a port below RULES_MAX_PORTS but beyond the buckets allocated so far
 * is not in it (status and bind_interdomain answer -EINVAL for it, the
 * own-port operations -ENOTCONN).  A record stays at the same address for
 * the domain's life. */
const struct rules_port *rules_port_of(const struct rules_lab *lab,
				       uint32_t domid, uint32_t port);
/* The id of the handle owning the other end of an INTERDOMAIN port (0: none,
 * or not INTERDOMAIN). */
uint32_t rules_peer_owner(const struct rules_lab *lab, uint32_t domid,
			  uint32_t port);
bool rules_domain_exists(const struct rules_lab *lab, uint32_t domid);
/* Whether @caller may use the toolstack operations (the control domain's):
 * 0, -ESRCH (not joined, or orphaned) or -EPERM. */
int rules_toolstack_check(const struct rules_lab *lab,
			  const struct rules_handle *caller);
unsigned int rules_domain_count(const struct rules_lab *lab);

/* ---- rules on one port record, shared by the server and the client's
 * fast paths (the client keeps copies of its own ports' records) ---------- */

/* The evtchnx contract for send/unbind/unmask/is_pending: -EINVAL for port 0
 * or port >= RULES_MAX_PORTS; -ENOTCONN when @p is NULL, free, or not owned
 * by handle @owner; else 0.  (Inline: it is on the send path.) */
static inline int rules_check_own_port(const struct rules_port *p,
				       uint32_t port, uint32_t owner)
{
	if (port == 0 || port >= RULES_MAX_PORTS)
		return -EINVAL;
	if (!p || p->state == RULES_FREE || p->state == RULES_RESERVED ||
	    !p->owner || p->owner != owner)
		return -ENOTCONN;
	return 0;
}

enum rules_send_action {
	RULES_SEND_DROP = 0,   /* UNBOUND: return 0, the event is lost */
	RULES_SEND_REMOTE = 1, /* raise (remote_dom, remote_port) */
};
/* What evtchnx_send() does on an owned port: an action, or -EINVAL (VIRQ and
 * every other state). */
static inline int rules_send_action(const struct rules_port *p)
{
	if (!p)
		return -EINVAL;
	switch (p->state) {
	case RULES_UNBOUND:
		return RULES_SEND_DROP;
	case RULES_INTERDOMAIN:
		return RULES_SEND_REMOTE;
	default:
		return -EINVAL;
	}
}

#endif /* EVTCHNX_SIM_RULES_H */
