/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * unit_rules_random.c - a seeded random walk over the sim's hypervisor rules.
 *
 * Handles join and leave domains, domains come and go, and every operation
 * is called with arguments that are mostly plausible and sometimes hostile.
 * Before each call the expected result is derived from the port records the
 * rules expose and from a small model of handles and domains; after it the
 * result, the hooks called and the whole lab are checked:
 *   - every INTERDOMAIN end's peer points back at it;
 *   - no port is owned by a handle of another domain (or a departed one);
 *   - one port at most per (domain, virq), and raise_virq finds it;
 *   - at most RULES_MAX_DOMAINS domains, exactly those the model expects;
 *   - each domain's port table spans exactly the buckets the model expects:
 *     grown one bucket when first-fit found none FREE (even by a call that
 *     then failed), never shrunk before the domain's end;
 *   - no hook is ever called for a port without an owner;
 *   - a call that fails changes nothing.
 *
 * Usage: unit_rules_random [SEED [STEPS]]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rules_invariants.h"

#define SELF RULES_DOMID_SELF
#define MAXP RULES_MAX_PORTS

#define POOL 72    /* domids 0..POOL-1 may exist (more than the limit) */
#define ACTIVE 6   /* most traffic goes to domids 0..ACTIVE-1 */
#define NSLOTS 48  /* handle ids 1..NSLOTS */
#define MAX_RECS (3 * RULES_MAX_PORTS) /* a reset of a full domain */
#define BUCKET RULES_BUCKET_PORTS
#define MAX_FAILURES 20

enum op {
	OP_JOIN,
	OP_LEAVE,
	OP_ALLOC,
	OP_BIND,
	OP_VIRQ,
	OP_ADOPT,
	OP_UNBIND,
	OP_SEND,
	OP_STATUS,
	OP_RESET,
	OP_RESTRICT,
	OP_CREATE,
	OP_DESTROY,
	OP_RAISE_VIRQ,
	OP_FILL,
	OP_INVARIANTS,
	NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"join", "leave", "alloc_unbound", "bind_interdomain", "bind_virq",
	"adopt", "unbind", "send", "status", "reset", "restrict",
	"domain_create", "domain_destroy", "raise_virq", "fill_domain",
	"invariants",
};

/* relative frequencies (OP_FILL and OP_INVARIANTS are not drawn) */
static const unsigned int op_weight[NR_OPS] = {
	[OP_JOIN] = 30,    [OP_LEAVE] = 22,     [OP_ALLOC] = 180,
	[OP_BIND] = 160,   [OP_VIRQ] = 40,      [OP_ADOPT] = 60,
	[OP_UNBIND] = 170, [OP_SEND] = 200,     [OP_STATUS] = 60,
	[OP_RESET] = 8,    [OP_RESTRICT] = 5,   [OP_CREATE] = 20,
	[OP_DESTROY] = 8,  [OP_RAISE_VIRQ] = 30,
};

static unsigned long calls[NR_OPS], successes[NR_OPS], failures[NR_OPS];
static unsigned long step, total_failures;
static enum op cur_op;

static void fail(const char *fmt, ...)
{
	va_list ap;

	failures[cur_op]++;
	if (++total_failures > MAX_FAILURES)
		return;
	printf("    step %lu, %s: ", step, op_names[cur_op]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- random numbers (xorshift64*) --------------------------------------- */

static uint64_t rng;

static uint32_t rn(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)(((rng * 0x2545F4914F6CDD1DULL) >> 32) % n);
}

static int chance(unsigned int pct)
{
	return rn(100) < pct;
}

/* ---- the model ---------------------------------------------------------- */

struct mslot {
	int joined;
	int orphaned;
	uint16_t dom;
	uint16_t restrict_to;
};

struct mdom {
	int exists;
	int explicit_created;
	unsigned int nr_handles; /* joined, not orphaned */
	uint32_t hwm; /* every port above it is FREE */
	uint32_t table; /* ports in its table: a whole number of buckets */
};

static struct rules_lab *lab;
static struct rules_handle hs[NSLOTS + 1]; /* index = id */
static struct mslot ms[NSLOTS + 1];
static struct mdom md[POOL];
static unsigned int model_domains;

static int m_exists(uint32_t d)
{
	return d < POOL && md[d].exists;
}

static uint32_t m_resolve(unsigned int id, uint32_t dom)
{
	return dom == SELF ? ms[id].dom : dom;
}

static uint32_t m_hwm(uint32_t d)
{
	return m_exists(d) ? md[d].hwm : 0;
}

static uint32_t m_table(uint32_t d)
{
	return m_exists(d) ? md[d].table : 0;
}

/* First-fit chose @port (>= 0) in @d: the table covers it from now on. */
static void m_grow(uint32_t d, int port)
{
	if (port > 0 && m_exists(d) && (uint32_t)port >= md[d].table)
		md[d].table = ((uint32_t)port / BUCKET + 1) * BUCKET;
}

static void m_bump(uint32_t d, uint32_t port)
{
	if (d < POOL && port > md[d].hwm)
		md[d].hwm = port;
}

static void m_domain_gone(uint32_t d)
{
	unsigned int i;

	md[d].exists = 0;
	md[d].explicit_created = 0;
	md[d].hwm = 0;
	md[d].table = 0;
	model_domains--;
	for (i = 1; i <= NSLOTS; i++) {
		if (ms[i].joined && !ms[i].orphaned && ms[i].dom == d)
			ms[i].orphaned = 1;
	}
	md[d].nr_handles = 0;
}

static void m_domain_new(uint32_t d, int explicit_created)
{
	md[d].exists = 1;
	md[d].explicit_created = explicit_created;
	md[d].nr_handles = 0;
	md[d].hwm = 0;
	md[d].table = BUCKET;
	model_domains++;
}

/* A port record; a missing one reads as a record in an impossible state,
 * so that a broken lab is reported instead of crashing the test. */
static const struct rules_port *P(uint32_t d, uint32_t port)
{
	static const struct rules_port missing = { .state = 0xEE };
	const struct rules_port *r = rules_port_of(lab, d, port);

	return r ? r : &missing;
}

/* First-fit prediction: the lowest FREE port >= 1, or -ENOSPC.  A port
 * beyond the table is FREE (first-fit grows the table to reach it). */
static int m_first_free(uint32_t d)
{
	uint32_t p, top = m_hwm(d) + 1;

	for (p = 1; p <= top && p < MAXP; p++) {
		if (p >= m_table(d) || P(d, p)->state == RULES_FREE)
			return (int)p;
	}
	return -ENOSPC;
}

static int m_virq_port(uint32_t d, uint32_t virq)
{
	uint32_t p;

	for (p = 1; p <= m_hwm(d); p++) {
		const struct rules_port *r = P(d, p);

		if (r->state == RULES_VIRQ && r->virq == virq)
			return (int)p;
	}
	return 0;
}

static int is_global_virq(uint32_t virq)
{
	return !(virq == 0 || virq == 1 || virq == 7 || virq == 13);
}

/* ---- hooks: record, and check what can be checked at call time ---------- */

enum rec_kind { REC_RAISE = 1, REC_CLEAR, REC_CHANGED };

struct rec {
	int kind;
	uint32_t owner;
	uint32_t domid;
	uint32_t port;
};

static struct rec recs[MAX_RECS];
static size_t n_recs;
static struct rec exp_recs[16];
static size_t n_exp;
static unsigned int leaving_id;

static void rec_add(int kind, uint32_t owner, uint32_t domid, uint32_t port)
{
	if (n_recs < MAX_RECS)
		recs[n_recs++] = (struct rec){ kind, owner, domid, port };
	else
		fail("hook record overflow");
}

static void check_event(const char *what, const struct rules_event *ev)
{
	const struct rules_port *p;

	if (ev->owner == 0 || ev->owner > NSLOTS) {
		fail("%s for owner %u (domain %u port %u)", what, ev->owner,
		     ev->domid, ev->port);
		return;
	}
	if (!ms[ev->owner].joined || ms[ev->owner].orphaned ||
	    ms[ev->owner].dom != ev->domid)
		fail("%s for handle %u, not a live handle of domain %u", what,
		     ev->owner, ev->domid);
	p = rules_port_of(lab, ev->domid, ev->port);
	if (!p || ev->port == 0) {
		fail("%s for a port that does not exist (%u:%u)", what,
		     ev->domid, ev->port);
		return;
	}
	if (p->owner != ev->owner)
		fail("%s for %u:%u names owner %u, the port's owner is %u",
		     what, ev->domid, ev->port, ev->owner, p->owner);
	if (p->state == RULES_FREE || p->state == RULES_RESERVED)
		fail("%s for %u:%u in state %u", what, ev->domid, ev->port,
		     p->state);
}

static void hook_raise(void *ctx, const struct rules_event *ev)
{
	(void)ctx;
	check_event("raise", ev);
	rec_add(REC_RAISE, ev->owner, ev->domid, ev->port);
}

static void hook_clear(void *ctx, const struct rules_event *ev)
{
	(void)ctx;
	check_event("clear", ev);
	rec_add(REC_CLEAR, ev->owner, ev->domid, ev->port);
}

static void hook_changed(void *ctx, uint32_t owner, uint32_t port)
{
	const struct rules_port *p;

	(void)ctx;
	rec_add(REC_CHANGED, owner, 0, port);
	if (owner == 0 || owner > NSLOTS || !ms[owner].joined ||
	    ms[owner].orphaned) {
		fail("changed for handle %u, not a live handle", owner);
		return;
	}
	if (owner == leaving_id)
		fail("changed for the leaving handle %u", owner);
	p = rules_port_of(lab, ms[owner].dom, port);
	if (!p || port == 0)
		fail("changed for port %u of handle %u: no such port", port,
		     owner);
	else if (p->state != RULES_FREE && p->owner != owner)
		fail("changed for %u:%u to handle %u, owned by %u",
		     ms[owner].dom, port, owner, p->owner);
}

static const struct rules_hooks hooks = {
	.raise = hook_raise,
	.clear = hook_clear,
	.changed = hook_changed,
};

static void exp_add(int kind, uint32_t owner, uint32_t domid, uint32_t port)
{
	exp_recs[n_exp++] = (struct rec){ kind, owner, domid, port };
}

static void check_exact_events(void)
{
	size_t i;
	int bad = n_exp != n_recs;

	for (i = 0; !bad && i < n_exp; i++)
		bad = memcmp(&exp_recs[i], &recs[i], sizeof(recs[i])) != 0;
	if (!bad)
		return;
	fail("hooks: %zu called, %zu expected", n_recs, n_exp);
	if (total_failures > MAX_FAILURES)
		return;
	for (i = 0; i < n_recs && i < 6; i++)
		printf("      got      %d(owner %u, %u, port %u)\n",
		       recs[i].kind, recs[i].owner, recs[i].domid,
		       recs[i].port);
	for (i = 0; i < n_exp; i++)
		printf("      expected %d(owner %u, %u, port %u)\n",
		       exp_recs[i].kind, exp_recs[i].owner, exp_recs[i].domid,
		       exp_recs[i].port);
}

/* ---- the whole-lab check ------------------------------------------------ */

static uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9E3779B97F4A7C15ULL;
	return h ^ (h >> 29);
}

static uint64_t mix_port(uint64_t h, const struct rules_port *r)
{
	h = mix(h, (uint64_t)r->state | (uint64_t)r->latched << 8 |
			   (uint64_t)r->virq << 16 |
			   (uint64_t)r->remote_dom << 32);
	return mix(h, (uint64_t)r->remote_port | (uint64_t)r->owner << 32);
}

/* A port for the fingerprint: one beyond the table reads as FREE, so that
 * the growth of the table (checked against the model) does not count as a
 * change of state. */
static const struct rules_port *F(uint32_t d, uint32_t port)
{
	static const struct rules_port free_port;
	const struct rules_port *r = rules_port_of(lab, d, port);

	return r ? r : &free_port;
}

static bool live_handle(void *arg, uint32_t owner, uint32_t domid)
{
	(void)arg;
	return owner && owner <= NSLOTS && ms[owner].joined &&
	       !ms[owner].orphaned && ms[owner].dom == domid;
}

static void ri_fail(const char *fmt, ...)
{
	va_list ap;
	char buf[256];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fail("%s", buf);
}

/* Check every invariant; returns a fingerprint of the whole state. */
static uint64_t check_lab(int full)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int count = 0, i;
	uint32_t d, p;
	enum op saved = cur_op;
	const struct ri_ctx ri = { .lab = lab, .live = live_handle,
				   .fail = ri_fail };

	cur_op = OP_INVARIANTS;
	calls[OP_INVARIANTS]++;
	for (i = 1; i <= NSLOTS; i++) {
		if (!ms[i].joined)
			continue;
		if (hs[i].id != i || hs[i].domid != ms[i].dom ||
		    hs[i].orphaned != (ms[i].orphaned != 0) ||
		    hs[i].restrict_to != ms[i].restrict_to)
			fail("handle %u: id %u domid %u orphaned %d restrict %u, model %u %d %u",
			     i, hs[i].id, hs[i].domid, hs[i].orphaned,
			     hs[i].restrict_to, ms[i].dom, ms[i].orphaned,
			     ms[i].restrict_to);
		h = mix(h, (uint64_t)hs[i].id | (uint64_t)hs[i].domid << 32 |
				   (uint64_t)hs[i].restrict_to << 48);
		h = mix(h, hs[i].orphaned);
	}
	for (d = 0; d < POOL; d++) {
		uint32_t virq_seen = 0, top;

		if (rules_domain_exists(lab, d) != (md[d].exists != 0)) {
			fail("domain %u exists %d, model %d", d,
			     rules_domain_exists(lab, d), md[d].exists);
			continue;
		}
		if (!md[d].exists)
			continue;
		count++;
		ri_check_port0(&ri, d);
		if (md[d].table < BUCKET || md[d].table > MAXP ||
		    md[d].table % BUCKET || md[d].hwm >= md[d].table)
			fail("model: domain %u table %u hwm %u", d,
			     md[d].table, md[d].hwm);
		if (!rules_port_of(lab, d, md[d].table - 1) ||
		    rules_port_of(lab, d, md[d].table))
			fail("domain %u: table of %u ports expected", d,
			     md[d].table);
		top = full ? md[d].table - 1 : md[d].hwm + 1;
		if (top > md[d].table - 1)
			top = md[d].table - 1;
		h = mix(h, d);
		if (md[d].hwm + 1 < MAXP)
			h = mix_port(h, F(d, md[d].hwm + 1));
		for (p = 1; p <= top; p++) {
			const struct rules_port *r = P(d, p);

			if (p <= md[d].hwm)
				h = mix_port(h, r);
			if (p > md[d].hwm && r->state != RULES_FREE)
				fail("%u:%u above the high-water mark %u is in use",
				     d, p, md[d].hwm);
			ri_check_port(&ri, d, p, r, &virq_seen);
		}
	}
	if (count != model_domains || rules_domain_count(lab) != count)
		fail("%u domains, model %u, rules_domain_count %u", count,
		     model_domains, rules_domain_count(lab));
	if (count > RULES_MAX_DOMAINS)
		fail("%u domains", count);
	cur_op = saved;
	return h;
}

/* Every virq of every domain: raise_virq hits exactly the bound port. */
static void check_virq_tables(void)
{
	uint32_t d, v;

	cur_op = OP_INVARIANTS;
	for (d = 0; d < POOL; d++) {
		if (!md[d].exists)
			continue;
		for (v = 0; v < RULES_NR_VIRQS; v++) {
			int port = m_virq_port(d, v);
			int rc;

			n_recs = 0;
			n_exp = 0;
			rc = rules_raise_virq(lab, &hs[1], d, v);
			if (rc)
				fail("raise_virq(%u, %u) = %d", d, v, rc);
			if (port)
				exp_add(REC_RAISE, P(d, (uint32_t)port)->owner, d, (uint32_t)port);
			check_exact_events();
		}
	}
	n_recs = 0;
}

/* ---- argument choices --------------------------------------------------- */

static uint32_t pick_pool_domid(void)
{
	return chance(70) ? rn(ACTIVE) : rn(POOL);
}

static uint32_t pick_domid(void)
{
	unsigned int r = rn(100);

	if (r < 62)
		return rn(ACTIVE);
	if (r < 84)
		return rn(POOL);
	if (r < 91)
		return SELF;
	if (r < 95)
		return 0x7FF1 + rn(15);
	if (r < 97)
		return 0xFFFF;
	return 1000 + rn(100); /* valid, never exists */
}

static uint32_t pick_port(uint32_t d)
{
	unsigned int r = rn(100);

	if (r < 4)
		return 0;
	if (r < 7)
		return 0xFFFFFFFFu;
	if (r < 9)
		return MAXP;
	if (r < 10)
		return MAXP - 1;
	if (r < 11)
		return 0x80000000u;
	if (r < 14 && m_table(d)) /* the end of the table */
		return m_table(d) - 1 + rn(2);
	return 1 + rn(m_hwm(d) + 2);
}

static uint32_t cands[MAXP];

/* A random port of domain @d satisfying @want, or 0. */
static uint32_t pick_matching(uint32_t d,
			      int (*want)(const struct rules_port *, uintptr_t),
			      uintptr_t arg)
{
	uint32_t p, n = 0;

	if (!m_exists(d))
		return 0;
	for (p = 1; p <= md[d].hwm; p++)
		if (want(P(d, p), arg))
			cands[n++] = p;
	return n ? cands[rn(n)] : 0;
}

static int want_owned_by(const struct rules_port *r, uintptr_t id)
{
	return r->state != RULES_FREE && r->owner == id;
}

static int want_offered_to(const struct rules_port *r, uintptr_t dom)
{
	return r->state == RULES_UNBOUND && r->remote_dom == dom;
}

static int want_unowned(const struct rules_port *r, uintptr_t unused)
{
	(void)unused;
	return r->state != RULES_FREE && r->state != RULES_RESERVED &&
	       !r->owner;
}

static unsigned int pick_slot(void)
{
	return 1 + rn(NSLOTS);
}

/* A joined slot, or 0. */
static unsigned int pick_joined(void)
{
	unsigned int i, start = pick_slot();

	for (i = 0; i < NSLOTS; i++) {
		unsigned int s = 1 + (start - 1 + i) % NSLOTS;

		if (ms[s].joined)
			return s;
	}
	return 0;
}

/* ---- the operations ----------------------------------------------------- */

static void expect_rc(int rc, int want, const char *call)
{
	if (rc != want)
		fail("%s returned %d, expected %d", call, rc, want);
	if (rc >= 0)
		successes[cur_op]++;
}

static void do_join(void)
{
	unsigned int s = pick_slot();
	uint32_t d = chance(95) ? pick_pool_domid() : 0x7FF0 + rn(0x8010);
	int want, rc;

	if (ms[s].joined) {
		/* the id is taken: refused, nothing changes */
		struct rules_handle copy = hs[s];

		expect_rc(rules_join(lab, &copy, d), -EINVAL, "join(taken id)");
		return;
	}
	if (d >= RULES_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else if (!m_exists(d) && model_domains >= RULES_MAX_DOMAINS)
		want = -ENOSPC;
	else
		want = 0;
	memset(&hs[s], 0, sizeof(hs[s]));
	hs[s].id = s;
	if (chance(5))
		hs[s].restrict_to = 3; /* join starts unrestricted */
	rc = rules_join(lab, &hs[s], d);
	expect_rc(rc, want, "join");
	if (rc)
		return;
	if (!m_exists(d))
		m_domain_new(d, 0);
	ms[s] = (struct mslot){ .joined = 1, .dom = (uint16_t)d };
	md[d].nr_handles++;
}

static void do_leave(void)
{
	unsigned int s = pick_joined();
	uint32_t d, p, owned = 0;
	size_t i;

	if (s <= 1)
		return; /* handle 1 stays: the control domain's toolstack */
	d = ms[s].dom;
	if (!ms[s].orphaned) {
		for (p = 1; p <= md[d].hwm; p++)
			owned += P(d, p)->owner == s;
	}
	leaving_id = s;
	rules_leave(lab, &hs[s]);
	leaving_id = 0;
	successes[cur_op]++;
	for (i = 0; i < n_recs; i++) {
		if (recs[i].kind == REC_CLEAR && recs[i].owner != s)
			fail("leave of %u cleared a port of %u", s,
			     recs[i].owner);
		if (recs[i].kind == REC_CLEAR)
			owned--;
		if (recs[i].kind == REC_RAISE)
			fail("leave raised an event");
	}
	if (owned)
		fail("leave of %u: clear count differs from owned ports", s);
	if (ms[s].orphaned) {
		if (n_recs)
			fail("leave of an orphaned handle called hooks");
		ms[s].joined = 0;
		return;
	}
	ms[s].joined = 0;
	md[d].nr_handles--;
	if (!md[d].nr_handles && !md[d].explicit_created && d != 0)
		m_domain_gone(d);
	for (p = 1; md[d].exists && p <= md[d].hwm; p++)
		if (P(d, p)->owner == s)
			fail("%u:%u still owned by the departed %u", d, p, s);
}

static void do_alloc(void)
{
	unsigned int s = pick_joined();
	uint32_t dom, rdom, d;
	int want, rc;

	if (!s)
		return;
	dom = chance(60) ? SELF : pick_domid();
	rdom = chance(20) ? SELF : pick_domid();
	d = m_resolve(s, dom);
	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to)
		want = -EACCES;
	else if (!m_exists(d))
		want = -ESRCH;
	else if ((want = m_first_free(d)) < 0)
		;
	else if (m_grow(d, want), d != ms[s].dom && ms[s].dom != 0)
		want = -EPERM;
	rc = rules_alloc_unbound(lab, &hs[s], dom, rdom);
	expect_rc(rc, want, "alloc_unbound");
	if (rc <= 0 || rc != want)
		return;
	m_bump(d, (uint32_t)rc);
	{
		const struct rules_port *r = P(d, (uint32_t)rc);
		uint32_t owner = d == ms[s].dom ? s : 0;
		uint32_t stored = rdom == SELF ? ms[s].dom : rdom;

		if (r->state != RULES_UNBOUND || r->remote_dom != stored ||
		    r->owner != owner || r->latched)
			fail("alloc_unbound made %u:%d state %u remote %u owner %u",
			     d, rc, r->state, r->remote_dom, r->owner);
		if (owner)
			exp_add(REC_CLEAR, owner, d, (uint32_t)rc);
	}
	check_exact_events();
}

static void do_bind(void)
{
	unsigned int s = pick_joined();
	uint32_t rdom, rport, r, own;
	const struct rules_port *rp;
	int want, rc;

	if (!s)
		return;
	own = ms[s].dom;
	if (chance(65)) {
		/* something offered to us */
		r = chance(30) ? own : pick_pool_domid();
		rport = pick_matching(r, want_offered_to, own);
		if (!rport)
			rport = pick_port(r);
		rdom = r == own && chance(50) ? SELF : r;
		if (ms[s].restrict_to && chance(50))
			rdom = ms[s].restrict_to;
	} else {
		rdom = pick_domid();
		rport = pick_port(m_resolve(s, rdom));
	}
	r = m_resolve(s, rdom);
	rp = P(r, rport);
	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to && rdom != ms[s].restrict_to)
		want = -EACCES;
	else if (!m_exists(r))
		want = -ESRCH;
	else if ((want = m_first_free(own)) < 0)
		;
	else if (m_grow(own, want), rport >= m_table(r))
		want = -EINVAL; /* beyond its table: Xen's !port_is_valid() */
	else if (rp->state != RULES_UNBOUND || rp->remote_dom != own)
		want = -EINVAL;
	rc = rules_bind_interdomain(lab, &hs[s], rdom, rport);
	expect_rc(rc, want, "bind_interdomain");
	if (rc <= 0 || rc != want)
		return;
	m_bump(own, (uint32_t)rc);
	{
		const struct rules_port *lp = P(own, (uint32_t)rc);

		if (lp->state != RULES_INTERDOMAIN || lp->remote_dom != r ||
		    lp->remote_port != rport || lp->owner != s ||
		    rp->state != RULES_INTERDOMAIN ||
		    rp->remote_port != (uint32_t)rc)
			fail("bind_interdomain did not link %u:%d and %u:%u",
			     own, rc, r, rport);
		exp_add(REC_CLEAR, s, own, (uint32_t)rc);
		exp_add(REC_RAISE, s, own, (uint32_t)rc);
		if (rp->owner)
			exp_add(REC_CHANGED, rp->owner, 0, rport);
	}
	check_exact_events();
}

static void do_virq(void)
{
	unsigned int s = pick_joined();
	uint32_t virq = chance(95) ? rn(RULES_NR_VIRQS) : RULES_NR_VIRQS + rn(300);
	uint32_t own;
	int want, rc;

	if (!s)
		return;
	own = ms[s].dom;
	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to)
		want = -EACCES;
	else if (virq >= RULES_NR_VIRQS)
		want = -EINVAL;
	else if (is_global_virq(virq) && own != 0)
		want = -EBUSY;
	else if (m_virq_port(own, virq))
		want = -EEXIST;
	else
		m_grow(own, want = m_first_free(own));
	rc = rules_bind_virq(lab, &hs[s], virq);
	expect_rc(rc, want, "bind_virq");
	if (rc <= 0 || rc != want)
		return;
	m_bump(own, (uint32_t)rc);
	if (P(own, (uint32_t)rc)->state != RULES_VIRQ ||
	    P(own, (uint32_t)rc)->virq != virq)
		fail("bind_virq made %u:%d state %u", own, rc,
		     P(own, (uint32_t)rc)->state);
	exp_add(REC_CLEAR, s, own, (uint32_t)rc);
	check_exact_events();
}

static void do_adopt(void)
{
	unsigned int s = pick_joined();
	const struct rules_port *r;
	struct rules_port before = { 0 };
	uint32_t port = 0, own;
	int want, rc;

	if (!s)
		return;
	own = ms[s].dom;
	if (chance(60))
		port = pick_matching(own, want_unowned, 0);
	if (!port)
		port = pick_port(own);
	r = P(own, port);
	if (r)
		before = *r;
	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to)
		want = -EACCES;
	else if (port == 0 || port >= m_table(own))
		want = -EINVAL; /* a port beyond the table is FREE */
	else if (r->state == RULES_FREE || r->state == RULES_RESERVED)
		want = -EINVAL;
	else if (r->owner)
		want = -EBUSY;
	else
		want = 0;
	rc = rules_adopt(lab, &hs[s], port);
	expect_rc(rc, want, "adopt");
	if (rc || want)
		return;
	if (r->owner != s || r->latched)
		fail("adopt: %u:%u owner %u latched %u", own, port, r->owner,
		     r->latched);
	exp_add(REC_CLEAR, s, own, port);
	if (before.latched)
		exp_add(REC_RAISE, s, own, port);
	if (before.state == RULES_INTERDOMAIN &&
	    P(before.remote_dom, before.remote_port)->owner)
		exp_add(REC_CHANGED, P(before.remote_dom, before.remote_port)->owner, 0, before.remote_port);
	check_exact_events();
}

/* The evtchnx own-port contract, predicted independently. */
static int m_own_port(unsigned int s, uint32_t port)
{
	const struct rules_port *r;

	if (ms[s].orphaned)
		return -ESRCH;
	if (port == 0 || port >= MAXP)
		return -EINVAL;
	r = P(ms[s].dom, port);
	if (r->state == RULES_FREE || r->owner != s)
		return -ENOTCONN;
	return 0;
}

static uint32_t pick_own_port(unsigned int s, unsigned int pct)
{
	uint32_t port = 0;

	if (chance(pct))
		port = pick_matching(ms[s].dom, want_owned_by, s);
	return port ? port : pick_port(ms[s].dom);
}

static void do_unbind(void)
{
	unsigned int s = pick_joined();
	struct rules_port before = { 0 };
	uint32_t port, own;
	int want, rc;

	if (!s)
		return;
	own = ms[s].dom;
	port = pick_own_port(s, 75);
	want = m_own_port(s, port);
	if (!want)
		before = *P(own, port);
	rc = rules_unbind(lab, &hs[s], port);
	expect_rc(rc, want, "unbind");
	if (rc || want)
		return;
	if (before.state == RULES_INTERDOMAIN) {
		const struct rules_port *q =
			P(before.remote_dom, before.remote_port);

		if (q->state != RULES_UNBOUND || q->remote_dom != own)
			fail("unbind: the peer %u:%u is in state %u remote %u",
			     before.remote_dom, before.remote_port, q->state,
			     q->remote_dom);
		if (q->owner)
			exp_add(REC_CHANGED, q->owner, 0, before.remote_port);
	}
	exp_add(REC_CLEAR, s, own, port);
	if (P(own, port)->state != RULES_FREE)
		fail("unbind: %u:%u not FREE", own, port);
	if (before.state == RULES_VIRQ && m_virq_port(own, before.virq))
		fail("unbind: virq %u still bound", before.virq);
	check_exact_events();
}

static void do_send(void)
{
	unsigned int s = pick_joined();
	const struct rules_port *r;
	uint32_t port, own;
	int want, rc;

	if (!s)
		return;
	own = ms[s].dom;
	port = pick_own_port(s, 85);
	want = m_own_port(s, port);
	r = P(own, port);
	if (!want && r->state != RULES_UNBOUND &&
	    r->state != RULES_INTERDOMAIN)
		want = -EINVAL;
	rc = rules_send(lab, &hs[s], port);
	expect_rc(rc, want, "send");
	if (rc || want)
		return;
	if (r->state == RULES_INTERDOMAIN) {
		const struct rules_port *q = P(r->remote_dom, r->remote_port);

		if (q->owner)
			exp_add(REC_RAISE, q->owner, r->remote_dom, r->remote_port);
		else if (!q->latched)
			fail("send to an unowned port did not latch");
	}
	check_exact_events();
}

static void do_status(void)
{
	unsigned int s = pick_joined();
	struct evtchnx_status st;
	const struct rules_port *r;
	uint32_t dom, d, port;
	int want, rc;

	if (!s)
		return;
	dom = chance(50) ? SELF : pick_domid();
	d = m_resolve(s, dom);
	port = pick_port(d);
	if (ms[s].orphaned || !m_exists(d))
		want = -ESRCH;
	else if (port >= m_table(d))
		want = -EINVAL; /* beyond the table, even below the limit */
	else if (d != ms[s].dom && ms[s].dom != 0)
		want = -EPERM;
	else
		want = 0;
	memset(&st, 0x5A, sizeof(st));
	st.sz = sizeof(st);
	rc = rules_status(lab, &hs[s], dom, port, &st);
	expect_rc(rc, want, "status");
	if (rc || want)
		return;
	r = P(d, port);
	{
		struct evtchnx_status e = { .sz = sizeof(st) };

		switch (r->state) {
		case RULES_UNBOUND:
			e.state = EVTCHNX_STATE_UNBOUND;
			e.remote_domid = r->remote_dom;
			break;
		case RULES_INTERDOMAIN:
			e.state = EVTCHNX_STATE_INTERDOMAIN;
			e.remote_domid = r->remote_dom;
			e.remote_port = r->remote_port;
			break;
		case RULES_VIRQ:
			e.state = EVTCHNX_STATE_VIRQ;
			e.virq = r->virq;
			break;
		default:
			e.state = EVTCHNX_STATE_CLOSED;
			break;
		}
		if (st.sz != e.sz || st.state != e.state || st.vcpu != 0 ||
		    st.remote_domid != e.remote_domid ||
		    st.remote_port != e.remote_port || st.virq != e.virq)
			fail("status(%u, %u): state %u remote %u:%u virq %u",
			     d, port, st.state, st.remote_domid,
			     st.remote_port, st.virq);
	}
	check_exact_events();
}

static void do_reset_of(unsigned int s, uint32_t dom)
{
	uint32_t d = m_resolve(s, dom), p;
	unsigned long owned = 0, outside = 0, n_clear = 0, n_changed = 0;
	size_t i;
	int want, rc;

	if (ms[s].orphaned || !m_exists(d))
		want = -ESRCH;
	else if (d != ms[s].dom && ms[s].dom != 0)
		want = -EPERM;
	else
		want = 0;
	if (!want) {
		for (p = 1; p <= md[d].hwm; p++) {
			const struct rules_port *r = P(d, p);

			owned += r->owner != 0;
			if (r->state == RULES_INTERDOMAIN &&
			    r->remote_dom != d &&
			    P(r->remote_dom, r->remote_port)->owner)
				outside++;
		}
	}
	rc = rules_reset(lab, &hs[s], dom);
	expect_rc(rc, want, "reset");
	if (rc || want)
		return;
	for (i = 0; i < n_recs; i++) {
		n_clear += recs[i].kind == REC_CLEAR;
		n_changed += recs[i].kind == REC_CHANGED;
		if (recs[i].kind == REC_RAISE)
			fail("reset raised an event");
		if (recs[i].kind == REC_CLEAR && recs[i].domid != d)
			fail("reset of %u cleared %u:%u", d, recs[i].domid,
			     recs[i].port);
	}
	if (n_clear != owned || n_changed != owned + outside)
		fail("reset of %u: %lu clear, %lu changed; %lu owned ports, %lu owned peers",
		     d, n_clear, n_changed, owned, outside);
	for (p = 1; p <= md[d].hwm; p++)
		if (P(d, p)->state != RULES_FREE)
			fail("reset left %u:%u in state %u", d, p,
			     P(d, p)->state);
	md[d].hwm = 0;
	want = m_first_free(d);
	if (want != 1)
		fail("after reset, first free port of %u is %d", d, want);
}

static void do_reset(void)
{
	unsigned int s = pick_joined();

	if (s)
		do_reset_of(s, chance(40) ? SELF : pick_domid());
}

static void do_restrict(void)
{
	unsigned int s = pick_joined();
	uint32_t d;
	int want, rc;

	if (s <= 1)
		return;
	d = chance(80) ? rn(ACTIVE) : pick_domid();
	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to)
		want = -EACCES;
	else if (d == 0 || d >= RULES_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else
		want = 0;
	rc = rules_restrict(lab, &hs[s], d);
	expect_rc(rc, want, "restrict");
	if (!rc && !want)
		ms[s].restrict_to = (uint16_t)d;
	check_exact_events();
}

static void do_create(void)
{
	unsigned int s = chance(80) ? 1 : pick_joined();
	uint32_t d = chance(90) ? rn(POOL) : pick_domid();
	int want, rc;

	if (!s)
		return;
	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].dom != 0)
		want = -EPERM;
	else if (d >= RULES_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else if (m_exists(d))
		want = -EEXIST;
	else if (model_domains >= RULES_MAX_DOMAINS)
		want = -ENOSPC;
	else if (d >= POOL)
		return; /* keep the model's domids within the pool */
	else
		want = 0;
	rc = rules_domain_create(lab, &hs[s], d);
	expect_rc(rc, want, "domain_create");
	if (!rc && !want)
		m_domain_new(d, 1);
	check_exact_events();
}

static void do_destroy(void)
{
	unsigned int s = chance(80) ? 1 : pick_joined();
	uint32_t d = chance(90) ? 1 + rn(POOL - 1) : pick_domid();
	size_t i;
	int want, rc;

	if (!s)
		return;
	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].dom != 0)
		want = -EPERM;
	else if (d == 0 || d >= RULES_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else if (!m_exists(d))
		want = -ESRCH;
	else
		want = 0;
	rc = rules_domain_destroy(lab, &hs[s], d);
	expect_rc(rc, want, "domain_destroy");
	if (rc || want)
		return;
	for (i = 0; i < n_recs; i++)
		if (recs[i].kind == REC_RAISE)
			fail("destroy raised an event");
	m_domain_gone(d);
	for (i = 1; i <= NSLOTS; i++)
		if (ms[i].joined && ms[i].dom == d && !hs[i].orphaned)
			fail("handle %zu of destroyed domain %u not orphaned",
			     i, d);
}

static void do_raise_virq(void)
{
	unsigned int s = chance(70) ? 1 : pick_joined();
	uint32_t dom = pick_domid(), d;
	uint32_t virq = chance(95) ? rn(RULES_NR_VIRQS) : RULES_NR_VIRQS + rn(9);
	int want, rc, port = 0;

	if (!s)
		return;
	d = m_resolve(s, dom);
	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].dom != 0)
		want = -EPERM;
	else if (virq >= RULES_NR_VIRQS)
		want = -EINVAL;
	else if (!m_exists(d))
		want = -ESRCH;
	else
		want = 0;
	if (!want)
		port = m_virq_port(d, virq);
	rc = rules_raise_virq(lab, &hs[s], dom, virq);
	expect_rc(rc, want, "raise_virq");
	if (rc || want)
		return;
	if (port)
		exp_add(REC_RAISE, P(d, (uint32_t)port)->owner, d, (uint32_t)port);
	check_exact_events();
}

/* Fill a domain to its limit, check -ENOSPC everywhere, reset it. */
static void do_fill(void)
{
	unsigned int s = pick_joined();
	uint32_t d;
	int rc;

	if (!s || ms[s].orphaned || ms[s].restrict_to)
		return;
	d = ms[s].dom;
	while ((rc = rules_alloc_unbound(lab, &hs[s], SELF, 0)) > 0) {
		m_bump(d, (uint32_t)rc);
		m_grow(d, rc);
		n_recs = 0;
	}
	expect_rc(rc, -ENOSPC, "alloc_unbound(full)");
	if (md[d].hwm != MAXP - 1 || md[d].table != MAXP)
		fail("domain %u full at %u ports, table %u", d, md[d].hwm,
		     md[d].table);
	n_recs = 0;
	check_lab(1);
	expect_rc(rules_bind_virq(lab, &hs[s], 0),
		  m_virq_port(d, 0) ? -EEXIST : -ENOSPC, "bind_virq(full)");
	expect_rc(rules_bind_interdomain(lab, &hs[s], SELF, 0xFFFFFFFFu),
		  -ENOSPC, "bind_interdomain(full)");
	if (d != 0)
		expect_rc(rules_alloc_unbound(lab, &hs[1], d, 0), -ENOSPC,
			  "alloc_unbound(full, by 0)");
	n_recs = 0;
	do_reset_of(1, d);
	n_recs = 0;
}

typedef void (*op_fn)(void);
static const op_fn op_fns[NR_OPS] = {
	[OP_JOIN] = do_join,       [OP_LEAVE] = do_leave,
	[OP_ALLOC] = do_alloc,     [OP_BIND] = do_bind,
	[OP_VIRQ] = do_virq,       [OP_ADOPT] = do_adopt,
	[OP_UNBIND] = do_unbind,   [OP_SEND] = do_send,
	[OP_STATUS] = do_status,   [OP_RESET] = do_reset,
	[OP_RESTRICT] = do_restrict, [OP_CREATE] = do_create,
	[OP_DESTROY] = do_destroy, [OP_RAISE_VIRQ] = do_raise_virq,
	[OP_FILL] = do_fill,
};

/* One phase in three crowds the lab: domains are created, not destroyed,
 * so that the domain limit is reached. */
static enum op pick_op(void)
{
	unsigned int w[NR_OPS], total = 0, r, i;
	int crowd = (step / 10000) % 3 == 2;

	for (i = 0; i < NR_OPS; i++) {
		w[i] = op_weight[i];
		if (crowd && (i == OP_DESTROY || i == OP_LEAVE))
			w[i] /= 8;
		if (crowd && (i == OP_CREATE || i == OP_JOIN))
			w[i] *= 3;
		total += w[i];
	}
	r = rn(total);
	for (i = 0; i < NR_OPS; i++) {
		if (r < w[i])
			return (enum op)i;
		r -= w[i];
	}
	return OP_SEND;
}

int main(int argc, char **argv)
{
	uint64_t seed = 0x5EED0F2EC0FFEEULL;
	unsigned long steps = 200000;
	unsigned long max_domains = 0, enospc_domains = 0;
	uint64_t fp;
	int n_pass = 0, n_fail = 0;
	unsigned int i;

	if (argc > 1)
		seed = strtoull(argv[1], NULL, 0);
	if (argc > 2)
		steps = strtoul(argv[2], NULL, 0);
	rng = seed ? seed : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("seed %#" PRIx64 ", %lu steps\n", seed, steps);

	lab = rules_lab_new(&hooks);
	if (!lab) {
		printf("rules_lab_new failed\n");
		return 1;
	}
	m_domain_new(0, 1);
	hs[1].id = 1;
	if (rules_join(lab, &hs[1], 0)) {
		printf("join of handle 1 failed\n");
		return 1;
	}
	ms[1] = (struct mslot){ .joined = 1, .dom = 0 };
	md[0].nr_handles = 1;

	fp = check_lab(1);
	for (step = 1; step <= steps && !total_failures; step++) {
		uint64_t after;
			unsigned long fails_before = total_failures;
		int rc_error;

		cur_op = rn(20000) == 0 ? OP_FILL : pick_op();
		calls[cur_op]++;
		n_recs = 0;
		n_exp = 0;
		{
			unsigned long ok_before = successes[cur_op];

			op_fns[cur_op]();
			rc_error = successes[cur_op] == ok_before &&
				   cur_op != OP_FILL &&
				   total_failures == fails_before;
		}
		after = check_lab(step % 4096 == 0);
		/* a refused call (or a skipped one) changes nothing */
		if (rc_error && after != fp)
			fail("state changed by a call that failed");
		if (rc_error && n_recs)
			fail("hooks called by a call that failed");
		fp = after;
		if (step % 1000 == 0) {
			check_virq_tables();
			fp = check_lab(0);
		}
		if (model_domains > max_domains)
			max_domains = model_domains;
		if (model_domains == RULES_MAX_DOMAINS)
			enospc_domains++;
	}

	/* everybody leaves: only domain 0 and explicit domains remain */
	cur_op = OP_LEAVE;
	for (i = 1; i <= NSLOTS && !total_failures; i++) {
		if (!ms[i].joined)
			continue;
		leaving_id = i;
		n_recs = 0;
		rules_leave(lab, &hs[i]);
		leaving_id = 0;
		if (!ms[i].orphaned) {
			uint32_t d = ms[i].dom;

			md[d].nr_handles--;
			ms[i].joined = 0;
			if (!md[d].nr_handles && !md[d].explicit_created &&
			    d != 0)
				m_domain_gone(d);
		}
		ms[i].joined = 0;
	}
	if (!total_failures)
		check_lab(1);
	for (i = 1; i < POOL && !total_failures; i++) {
		uint32_t p;

		for (p = 1; md[i].exists && p <= md[i].hwm; p++)
			if (P(i, p)->owner)
				fail("%u:%u owned after everybody left", i, p);
	}
	rules_lab_free(lab);

	for (i = 0; i < NR_OPS; i++) {
		int bad = failures[i] != 0;

		if (i == OP_INVARIANTS)
			printf("%s %-17s %8lu lab checks\n",
			       bad ? "FAIL" : "ok  ", op_names[i], calls[i]);
		else
			printf("%s %-17s %8lu calls, %8lu succeeded\n",
			       bad ? "FAIL" : "ok  ", op_names[i], calls[i],
			       successes[i]);
		if (bad)
			n_fail++;
		else
			n_pass++;
	}
	printf("     most domains at once: %lu (steps at the limit: %lu)\n",
	       max_domains, enospc_domains);
	if (total_failures)
		printf("     stopped at step %lu, the first that failed\n",
		       step - 1);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
