/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * rules_invariants.h - what must hold of a rules lab (libevtchn/rules/)
 * between any two operations, whatever came before.  Shared by the seeded
 * random walk (unit_rules_random.c) and the fuzzer (tests/fuzz/fuzz_rules.c),
 * which bring their own idea of which handles are alive.
 *
 * Per port of a domain:
 *   - port 0 is RESERVED, unowned and never latched;
 *   - an owner is a live (joined, not orphaned) handle of the port's domain,
 *     and an owned port never stays latched (adoption raises the latch);
 *   - FREE records are clean; UNBOUND ones name no remote port;
 *   - an INTERDOMAIN end's peer exists and points back at it;
 *   - a VIRQ port is owned, in range, bound at most once per domain, and a
 *     global virq only in the control domain;
 *   - nothing else (no unknown state).
 */
#ifndef EVTCHNX_TESTS_RULES_INVARIANTS_H
#define EVTCHNX_TESTS_RULES_INVARIANTS_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

struct ri_ctx {
	const struct rules_lab *lab;
	/* Is handle @owner joined, not orphaned, and of domain @domid? */
	bool (*live)(void *arg, uint32_t owner, uint32_t domid);
	void *arg;
	/* Report one broken invariant (printf-like). */
	void (*fail)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

static inline bool ri_global_virq(uint32_t virq)
{
	return !(virq == 0 || virq == 1 || virq == 7 || virq == 13);
}

/* Port 0 of domain @d. */
static inline void ri_check_port0(const struct ri_ctx *c, uint32_t d)
{
	const struct rules_port *r = rules_port_of(c->lab, d, 0);

	if (!r || r->state != RULES_RESERVED || r->owner || r->latched)
		c->fail("port 0 of domain %u is not reserved", d);
}

/* Port @p (>= 1) of domain @d, whose record is @r.  @virq_seen collects the
 * virqs bound in @d so far (start at 0 for each domain). */
static inline void ri_check_port(const struct ri_ctx *c, uint32_t d,
				 uint32_t p, const struct rules_port *r,
				 uint32_t *virq_seen)
{
	const struct rules_port *q;

	if (r->owner) {
		if (!c->live(c->arg, r->owner, d))
			c->fail("%u:%u owned by handle %u, not a live handle of domain %u",
				d, p, r->owner, d);
		if (r->latched)
			c->fail("%u:%u owned and latched", d, p);
	}
	switch (r->state) {
	case RULES_FREE:
		if (r->owner || r->latched || r->virq || r->remote_dom ||
		    r->remote_port)
			c->fail("%u:%u FREE but not clean", d, p);
		break;
	case RULES_UNBOUND:
		if (r->remote_port || r->virq)
			c->fail("%u:%u UNBOUND with remote port %u", d, p,
				r->remote_port);
		break;
	case RULES_INTERDOMAIN:
		q = rules_port_of(c->lab, r->remote_dom, r->remote_port);
		if (!q || r->remote_port == 0 || q->state != RULES_INTERDOMAIN ||
		    q->remote_dom != d || q->remote_port != p)
			c->fail("%u:%u INTERDOMAIN with %u:%u, which does not point back",
				d, p, r->remote_dom, r->remote_port);
		break;
	case RULES_VIRQ:
		if (!r->owner)
			c->fail("%u:%u VIRQ without owner", d, p);
		if (r->virq >= RULES_NR_VIRQS) {
			c->fail("%u:%u VIRQ %u", d, p, r->virq);
			break;
		}
		if (*virq_seen & (1u << r->virq))
			c->fail("%u: virq %u bound twice", d, r->virq);
		*virq_seen |= 1u << r->virq;
		if (ri_global_virq(r->virq) && d != RULES_CONTROL_DOMID)
			c->fail("%u:%u global virq %u", d, p, r->virq);
		break;
	default:
		c->fail("%u:%u in state %u", d, p, r->state);
		break;
	}
}

/* Every port of domain @d below @end (at most its table). */
static inline void ri_check_domain(const struct ri_ctx *c, uint32_t d,
				   uint32_t end)
{
	uint32_t virq_seen = 0, p;

	ri_check_port0(c, d);
	for (p = 1; p < end; p++) {
		const struct rules_port *r = rules_port_of(c->lab, d, p);

		if (!r)
			break;
		ri_check_port(c, d, p, r, &virq_seen);
	}
}

#endif /* EVTCHNX_TESTS_RULES_INVARIANTS_H */
