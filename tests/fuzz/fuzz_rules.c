/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * fuzz_rules.c - libFuzzer target: operation sequences against the rules
 * module (libevtchn/rules/), checked against its invariants.
 *
 * The input is a sequence of operations, three to four bytes each: an
 * opcode, a handle slot, and small arguments (domids 0..5 with DOMID_SELF,
 * reserved and unknown ids mixed in; ports 0..71 with the limits and the
 * bucket edges mixed in).  One lab per input; handle slot 1 is the control
 * domain's and stays joined.  After every operation:
 *   - the result is the one predicted from the lab's records and a model of
 *     handles and domains (errno values in Xen's order; first fit: a new
 *     port is the lowest FREE one);
 *   - the structural invariants of rules_invariants.h hold in every domain
 *     (peers point back, owners are live handles of the port's domain, ...);
 *   - hooks were called only for owned ports of live handles, never
 *     "changed" for the handle that is leaving, and each "channel" hook pair
 *     matches the channels between owned ends (the server keeps one link
 *     per such pair on that count);
 *   - a call that failed changed nothing and called no hook.
 * A broken invariant aborts (a libFuzzer finding).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rules_invariants.h"

#define FUZZ_NAME "fuzz_rules"
#include "fuzz_input.h"

#define SELF RULES_DOMID_SELF
#define MAXP RULES_MAX_PORTS
#define NSLOTS 8  /* handle ids 1..NSLOTS */
#define POOL 80   /* domids the model follows (more than the lab takes) */
#define SCAN 192  /* ports of each domain the checks look at */

/* ---- input ---------------------------------------------------------------- */

static uint32_t arg_domid(uint8_t b)
{
	static const uint32_t odd[] = { SELF, SELF, 0x7FF1, 0xFFFF, 1000,
					RULES_DOMID_FIRST_RESERVED - 1 };

	if (b < 224)
		return b % 6;
	return odd[b % (sizeof(odd) / sizeof(odd[0]))];
}

static uint32_t arg_port(uint8_t b)
{
	static const uint32_t odd[] = { 0, 63, 64, 65, 127, 128, MAXP - 1,
					MAXP, 0x80000000u, 0xFFFFFFFFu };

	if (b < 216)
		return b % 72;
	return odd[b % (sizeof(odd) / sizeof(odd[0]))];
}

/* ---- the model ------------------------------------------------------------ */

struct mslot {
	bool joined, orphaned;
	uint16_t dom, restrict_to;
};

struct mdom {
	bool exists, explicit_created;
	unsigned int nr_handles;
};

static struct rules_lab *lab;
static struct rules_handle hs[NSLOTS + 1];
static struct mslot ms[NSLOTS + 1];
static struct mdom md[POOL];
static unsigned int nr_domains;
static uint32_t leaving;
static int channels[NSLOTS + 1][NSLOTS + 1]; /* "channel" hooks, a <= b */

static bool m_exists(uint32_t d)
{
	return d < POOL && md[d].exists;
}

static void m_domain_new(uint32_t d, bool explicit_created)
{
	md[d] = (struct mdom){ .exists = true,
			       .explicit_created = explicit_created };
	nr_domains++;
}

static void m_domain_gone(uint32_t d)
{
	md[d] = (struct mdom){ 0 };
	nr_domains--;
	for (unsigned int i = 1; i <= NSLOTS; i++)
		if (ms[i].joined && ms[i].dom == d)
			ms[i].orphaned = true;
}

static const struct rules_port *P(uint32_t d, uint32_t port)
{
	return rules_port_of(lab, d, port);
}

static uint32_t table_of(uint32_t d)
{
	uint32_t n = 0;

	while (n < MAXP && P(d, n))
		n += RULES_BUCKET_PORTS;
	return n;
}

/* First fit in @d: the lowest FREE port >= 1; one beyond the table is FREE. */
static int first_free(uint32_t d)
{
	uint32_t p, end = table_of(d);

	for (p = 1; p < end; p++)
		if (P(d, p)->state == RULES_FREE)
			return (int)p;
	return end < MAXP ? (int)end : -ENOSPC;
}

static uint32_t resolve(unsigned int s, uint32_t dom)
{
	return dom == SELF ? ms[s].dom : dom;
}

/* ---- hooks ------------------------------------------------------------------ */

static unsigned int n_hooks, n_raise;

static bool live(void *arg, uint32_t owner, uint32_t domid)
{
	(void)arg;
	return owner && owner <= NSLOTS && ms[owner].joined &&
	       !ms[owner].orphaned && ms[owner].dom == domid;
}

static void check_event(const char *what, const struct rules_event *ev)
{
	const struct rules_port *p = P(ev->domid, ev->port);

	if (!live(NULL, ev->owner, ev->domid))
		die("%s for handle %u, not a live handle of domain %u", what,
		    ev->owner, ev->domid);
	if (!p || ev->port == 0 || p->owner != ev->owner ||
	    p->state == RULES_FREE || p->state == RULES_RESERVED)
		die("%s for %u:%u, not a port that handle %u owns", what,
		    ev->domid, ev->port, ev->owner);
}

static void hook_raise(void *ctx, const struct rules_event *ev)
{
	(void)ctx;
	check_event("raise", ev);
	n_hooks++;
	n_raise++;
}

static void hook_clear(void *ctx, const struct rules_event *ev)
{
	(void)ctx;
	check_event("clear", ev);
	n_hooks++;
}

static void hook_changed(void *ctx, uint32_t owner, uint32_t port)
{
	(void)ctx;
	n_hooks++;
	if (owner == 0 || owner > NSLOTS || !ms[owner].joined ||
	    ms[owner].orphaned)
		die("changed for handle %u, not a live handle", owner);
	if (owner == leaving)
		die("changed for the leaving handle %u", owner);
	if (port == 0 || !P(ms[owner].dom, port))
		die("changed for port %u of handle %u: no such port", port,
		    owner);
}

static void hook_channel(void *ctx, uint32_t a, uint32_t pa, uint32_t b,
			 uint32_t pb, bool up)
{
	(void)ctx;
	n_hooks++;
	if (!a || !b || a > NSLOTS || b > NSLOTS)
		die("channel hook for handles %u and %u", a, b);
	if (!pa || !pb || !P(ms[a].dom, pa) || !P(ms[b].dom, pb))
		die("channel hook for ports %u (handle %u) and %u (handle %u): no such port",
		    pa, a, pb, b);
	if (a > b) {
		uint32_t t = a;

		a = b;
		b = t;
	}
	channels[a][b] += up ? 1 : -1;
	if (channels[a][b] < 0)
		die("channel between %u and %u went down more often than up",
		    a, b);
}

static const struct rules_hooks hooks = {
	.raise = hook_raise,
	.clear = hook_clear,
	.changed = hook_changed,
	.channel = hook_channel,
};

/* ---- whole-lab checks --------------------------------------------------- */

static void ri_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void ri_die(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	die("invariant: %s", buf);
}

static uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9E3779B97F4A7C15ULL;
	return h ^ (h >> 29);
}

/* Check everything; return a fingerprint of the lab's state. */
static uint64_t check_lab(void)
{
	const struct ri_ctx ri = { .lab = lab, .live = live, .fail = ri_die };
	int count[NSLOTS + 1][NSLOTS + 1] = { { 0 } };
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int n = 0, i;

	for (i = 1; i <= NSLOTS; i++) {
		if (!ms[i].joined)
			continue;
		if (hs[i].domid != ms[i].dom || hs[i].orphaned != ms[i].orphaned ||
		    hs[i].restrict_to != ms[i].restrict_to)
			die("handle %u: domid %u orphaned %d restrict %u, model %u %d %u",
			    i, hs[i].domid, hs[i].orphaned, hs[i].restrict_to,
			    ms[i].dom, ms[i].orphaned, ms[i].restrict_to);
		h = mix(h, i | (uint64_t)hs[i].domid << 16 |
				   (uint64_t)hs[i].restrict_to << 32 |
				   (uint64_t)hs[i].orphaned << 48);
	}
	for (uint32_t d = 0; d < POOL; d++) {
		uint32_t end;

		if (rules_domain_exists(lab, d) != md[d].exists)
			die("domain %u exists %d, model %d", d,
			    rules_domain_exists(lab, d), md[d].exists);
		if (!md[d].exists)
			continue;
		n++;
		end = table_of(d);
		if (end > SCAN)
			end = SCAN;
		ri_check_domain(&ri, d, end);
		h = mix(h, d);
		for (uint32_t p = 1; p < end; p++) {
			const struct rules_port *r = P(d, p);

			/* FREE ports are left out: a failed first fit may grow
			 * the table by a bucket of them */
			if (r->state != RULES_FREE || r->owner || r->latched)
				h = mix(h, p);
			else
				continue;
			h = mix(h, (uint64_t)r->state | (uint64_t)r->latched << 8 |
					   (uint64_t)r->virq << 16 |
					   (uint64_t)r->remote_dom << 32);
			h = mix(h, r->remote_port | (uint64_t)r->owner << 32);
			if (r->state == RULES_INTERDOMAIN && r->owner) {
				const struct rules_port *q =
					P(r->remote_dom, r->remote_port);
				uint32_t a = r->owner, b = q->owner;

				/* each channel once: from its lower end */
				if (!b || r->remote_dom < d ||
				    (r->remote_dom == d && r->remote_port < p))
					continue;
				if (a > b) {
					uint32_t t = a;

					a = b;
					b = t;
				}
				count[a][b]++;
			}
		}
	}
	if (n != nr_domains || rules_domain_count(lab) != n)
		die("%u domains, model %u, rules_domain_count %u", n,
		    nr_domains, rules_domain_count(lab));
	for (unsigned int a = 1; a <= NSLOTS; a++)
		for (unsigned int b = a; b <= NSLOTS; b++)
			if (count[a][b] != channels[a][b])
				die("handles %u and %u share %d channels, the hooks say %d",
				    a, b, count[a][b], channels[a][b]);
	return h;
}

static void expect(const char *what, int rc, int want)
{
	if (rc != want)
		die("%s returned %d, expected %d", what, rc, want);
}

/* ---- operations ------------------------------------------------------------ */

enum {
	OP_JOIN, OP_LEAVE, OP_ALLOC, OP_BIND, OP_VIRQ, OP_ADOPT, OP_UNBIND,
	OP_SEND, OP_STATUS, OP_RESET, OP_RESTRICT, OP_CREATE, OP_DESTROY,
	OP_RAISE_VIRQ, NR_OPS
};

/* The slot named by a byte; 0 when it is not joined. */
static unsigned int slot(uint8_t b)
{
	unsigned int s = 1 + b % NSLOTS;

	return ms[s].joined ? s : 0;
}

static void do_join(unsigned int s, uint32_t d)
{
	int want, rc;

	if (ms[s].joined) {
		struct rules_handle copy = hs[s];

		expect("join(joined id)", rules_join(lab, &copy, d), -EINVAL);
		return;
	}
	if (d >= RULES_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else if (d >= POOL)
		return; /* keep the model's domids within the pool */
	else if (!m_exists(d) && nr_domains >= RULES_MAX_DOMAINS)
		want = -ENOSPC;
	else
		want = 0;
	memset(&hs[s], 0, sizeof(hs[s]));
	hs[s].id = s;
	hs[s].restrict_to = 3; /* join starts unrestricted */
	rc = rules_join(lab, &hs[s], d);
	expect("join", rc, want);
	if (rc)
		return;
	if (!m_exists(d))
		m_domain_new(d, false);
	ms[s] = (struct mslot){ .joined = true, .dom = (uint16_t)d };
	md[d].nr_handles++;
}

static void do_leave(unsigned int s)
{
	uint32_t d = ms[s].dom;

	leaving = s;
	rules_leave(lab, &hs[s]);
	leaving = 0;
	if (n_raise)
		die("leave raised an event");
	ms[s].joined = false;
	if (ms[s].orphaned)
		return;
	if (--md[d].nr_handles == 0 && !md[d].explicit_created && d != 0)
		m_domain_gone(d);
}

static int do_alloc(unsigned int s, uint32_t dom, uint32_t rdom)
{
	uint32_t d = resolve(s, dom);
	int want, rc;

	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to)
		want = -EACCES;
	else if (!m_exists(d))
		want = -ESRCH;
	else if ((want = first_free(d)) > 0 && d != ms[s].dom && ms[s].dom != 0)
		want = -EPERM;
	rc = rules_alloc_unbound(lab, &hs[s], dom, rdom);
	expect("alloc_unbound", rc, want);
	if (rc > 0) {
		const struct rules_port *r = P(d, (uint32_t)rc);

		if (r->state != RULES_UNBOUND ||
		    r->remote_dom != (rdom == SELF ? ms[s].dom : rdom) ||
		    r->owner != (d == ms[s].dom ? s : 0) || r->latched)
			die("alloc_unbound made %u:%d state %u remote %u owner %u",
			    d, rc, r->state, r->remote_dom, r->owner);
	}
	return rc;
}

static int do_bind(unsigned int s, uint32_t rdom, uint32_t rport)
{
	uint32_t own = ms[s].dom, r = resolve(s, rdom);
	const struct rules_port *rp = m_exists(r) ? P(r, rport) : NULL;
	uint32_t rowner = rp ? rp->owner : 0;
	int want, rc;

	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to && rdom != ms[s].restrict_to)
		want = -EACCES;
	else if (!m_exists(r))
		want = -ESRCH;
	else if ((want = first_free(own)) < 0)
		;
	else if (!rp || rp->state != RULES_UNBOUND || rp->remote_dom != own)
		want = -EINVAL;
	rc = rules_bind_interdomain(lab, &hs[s], rdom, rport);
	expect("bind_interdomain", rc, want);
	if (rc > 0) {
		const struct rules_port *lp = P(own, (uint32_t)rc);

		rp = P(r, rport);
		if (lp->state != RULES_INTERDOMAIN || lp->remote_dom != r ||
		    lp->remote_port != rport || lp->owner != s ||
		    rp->state != RULES_INTERDOMAIN ||
		    rp->remote_port != (uint32_t)rc || rp->owner != rowner)
			die("bind_interdomain did not link %u:%d and %u:%u",
			    own, rc, r, rport);
		if (n_raise != 1)
			die("bind_interdomain raised %u events, not 1", n_raise);
	}
	return rc;
}

static int virq_port(uint32_t d, uint32_t virq)
{
	uint32_t end = table_of(d);

	for (uint32_t p = 1; p < end; p++)
		if (P(d, p)->state == RULES_VIRQ && P(d, p)->virq == virq)
			return (int)p;
	return 0;
}

static int do_virq(unsigned int s, uint32_t virq)
{
	uint32_t own = ms[s].dom;
	int want, rc;

	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to)
		want = -EACCES;
	else if (virq >= RULES_NR_VIRQS)
		want = -EINVAL;
	else if (ri_global_virq(virq) && own != 0)
		want = -EBUSY;
	else if (virq_port(own, virq))
		want = -EEXIST;
	else
		want = first_free(own);
	rc = rules_bind_virq(lab, &hs[s], virq);
	expect("bind_virq", rc, want);
	if (rc > 0 && (P(own, (uint32_t)rc)->state != RULES_VIRQ ||
		       P(own, (uint32_t)rc)->virq != virq ||
		       P(own, (uint32_t)rc)->owner != s))
		die("bind_virq made %u:%d no VIRQ %u of handle %u", own, rc,
		    virq, s);
	return rc;
}

static int do_adopt(unsigned int s, uint32_t port)
{
	uint32_t own = ms[s].dom;
	const struct rules_port *r = ms[s].orphaned ? NULL : P(own, port);
	bool latched = r && r->latched;
	int want, rc;

	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to)
		want = -EACCES;
	else if (port == 0 || !r || r->state == RULES_FREE ||
		 r->state == RULES_RESERVED)
		want = -EINVAL;
	else if (r->owner)
		want = -EBUSY;
	else
		want = 0;
	rc = rules_adopt(lab, &hs[s], port);
	expect("adopt", rc, want);
	if (rc == 0 && (r->owner != s || r->latched))
		die("adopt: %u:%u owner %u latched %u", own, port, r->owner,
		    r->latched);
	if (rc == 0 && n_raise != latched)
		die("adopt of %u:%u raised %u events, latched %d", own, port,
		    n_raise, latched);
	return rc;
}

/* The evtchnx own-port contract. */
static int own_port(unsigned int s, uint32_t port)
{
	const struct rules_port *r;

	if (ms[s].orphaned)
		return -ESRCH;
	if (port == 0 || port >= MAXP)
		return -EINVAL;
	r = P(ms[s].dom, port);
	if (!r || r->state == RULES_FREE || r->owner != s)
		return -ENOTCONN;
	return 0;
}

static int do_unbind(unsigned int s, uint32_t port)
{
	uint32_t own = ms[s].dom;
	struct rules_port before = { 0 };
	int want = own_port(s, port), rc;

	if (!want)
		before = *P(own, port);
	rc = rules_unbind(lab, &hs[s], port);
	expect("unbind", rc, want);
	if (rc)
		return rc;
	if (P(own, port)->state != RULES_FREE)
		die("unbind: %u:%u not FREE", own, port);
	if (before.state == RULES_INTERDOMAIN) {
		const struct rules_port *q = P(before.remote_dom, before.remote_port);

		if (q->state != RULES_UNBOUND || q->remote_dom != own)
			die("unbind: the peer %u:%u is in state %u offered to %u",
			    before.remote_dom, before.remote_port, q->state,
			    q->remote_dom);
	}
	if (before.state == RULES_VIRQ && virq_port(own, before.virq))
		die("unbind: virq %u still bound", before.virq);
	return rc;
}

static int do_send(unsigned int s, uint32_t port)
{
	const struct rules_port *r = NULL, *q = NULL;
	int want = own_port(s, port), rc;
	bool latched = false;

	if (!want) {
		r = P(ms[s].dom, port);
		if (r->state == RULES_INTERDOMAIN) {
			q = P(r->remote_dom, r->remote_port);
			latched = q->latched;
		} else if (r->state != RULES_UNBOUND) {
			want = -EINVAL;
		}
	}
	rc = rules_send(lab, &hs[s], port);
	expect("send", rc, want);
	if (rc == 0 && q) {
		if (q->owner && n_raise != 1)
			die("send to an owned port raised %u events", n_raise);
		if (!q->owner && (n_raise || !q->latched))
			die("send to an unowned port did not latch (latched before: %d)",
			    latched);
	} else if (rc == 0 && n_raise) {
		die("send on an UNBOUND port raised an event");
	}
	return rc;
}

static int do_status(unsigned int s, uint32_t dom, uint32_t port)
{
	struct evtchnx_status st;
	uint32_t d = resolve(s, dom);
	const struct rules_port *r = m_exists(d) ? P(d, port) : NULL;
	int want, rc;

	if (ms[s].orphaned || !m_exists(d))
		want = -ESRCH;
	else if (!r)
		want = -EINVAL;
	else if (d != ms[s].dom && ms[s].dom != 0)
		want = -EPERM;
	else
		want = 0;
	memset(&st, 0x5A, sizeof(st));
	st.sz = sizeof(st);
	rc = rules_status(lab, &hs[s], dom, port, &st);
	expect("status", rc, want);
	if (rc)
		return rc;
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
			die("status(%u, %u): state %u remote %u:%u virq %u", d,
			    port, st.state, st.remote_domid, st.remote_port,
			    st.virq);
	}
	return rc;
}

static int do_reset(unsigned int s, uint32_t dom)
{
	uint32_t d = resolve(s, dom);
	int want, rc;

	if (ms[s].orphaned || !m_exists(d))
		want = -ESRCH;
	else if (d != ms[s].dom && ms[s].dom != 0)
		want = -EPERM;
	else
		want = 0;
	rc = rules_reset(lab, &hs[s], dom);
	expect("reset", rc, want);
	if (rc)
		return rc;
	if (n_raise)
		die("reset raised an event");
	if (first_free(d) != 1)
		die("after reset, the first free port of %u is %d", d,
		    first_free(d));
	return rc;
}

static int do_restrict(unsigned int s, uint32_t d)
{
	int want, rc;

	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].restrict_to)
		want = -EACCES;
	else if (d == 0 || d >= RULES_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else
		want = 0;
	rc = rules_restrict(lab, &hs[s], d);
	expect("restrict", rc, want);
	if (!rc)
		ms[s].restrict_to = (uint16_t)d;
	return rc;
}

static int do_create(unsigned int s, uint32_t d)
{
	int want, rc;

	if (ms[s].orphaned)
		want = -ESRCH;
	else if (ms[s].dom != 0)
		want = -EPERM;
	else if (d >= RULES_DOMID_FIRST_RESERVED)
		want = -EINVAL;
	else if (m_exists(d))
		want = -EEXIST;
	else if (nr_domains >= RULES_MAX_DOMAINS)
		want = -ENOSPC;
	else if (d >= POOL)
		return 0; /* keep the model's domids within the pool */
	else
		want = 0;
	rc = rules_domain_create(lab, &hs[s], d);
	expect("domain_create", rc, want);
	if (!rc)
		m_domain_new(d, true);
	return rc;
}

static int do_destroy(unsigned int s, uint32_t d)
{
	int want, rc;

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
	expect("domain_destroy", rc, want);
	if (rc)
		return rc;
	if (n_raise)
		die("destroy raised an event");
	m_domain_gone(d);
	return rc;
}

static int do_raise_virq(unsigned int s, uint32_t dom, uint32_t virq)
{
	uint32_t d = resolve(s, dom);
	int want, rc, port = 0;

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
		port = virq_port(d, virq);
	rc = rules_raise_virq(lab, &hs[s], dom, virq);
	expect("raise_virq", rc, want);
	if (rc == 0 && n_raise != (port != 0))
		die("raise_virq(%u, %u) raised %u events, port %d", d, virq,
		    n_raise, port);
	return rc;
}

/* ---- the driver --------------------------------------------------------------- */

static void step(uint8_t op, uint8_t a, uint8_t b, uint8_t c)
{
	unsigned int s = slot(a);
	uint64_t before = check_lab();
	int rc = 0;

	n_hooks = n_raise = 0;
	op %= NR_OPS;
	if (op == OP_JOIN) {
		do_join(1 + a % NSLOTS, arg_domid(b));
		check_lab();
		return;
	}
	if (!s)
		return;
	switch (op) {
	case OP_LEAVE:
		if (s != 1)
			do_leave(s);
		check_lab();
		return;
	case OP_ALLOC:
		rc = do_alloc(s, arg_domid(b), arg_domid(c));
		break;
	case OP_BIND:
		rc = do_bind(s, arg_domid(b), arg_port(c));
		break;
	case OP_VIRQ:
		rc = do_virq(s, b % 32);
		break;
	case OP_ADOPT:
		rc = do_adopt(s, arg_port(b));
		break;
	case OP_UNBIND:
		rc = do_unbind(s, arg_port(b));
		break;
	case OP_SEND:
		rc = do_send(s, arg_port(b));
		break;
	case OP_STATUS:
		rc = do_status(s, arg_domid(b), arg_port(c));
		break;
	case OP_RESET:
		rc = do_reset(s, arg_domid(b));
		break;
	case OP_RESTRICT:
		rc = do_restrict(s, arg_domid(b));
		break;
	case OP_CREATE:
		rc = do_create(s, b < 192 ? b % POOL : arg_domid(b));
		break;
	case OP_DESTROY:
		rc = do_destroy(s, b < 192 ? b % POOL : arg_domid(b));
		break;
	case OP_RAISE_VIRQ:
		rc = do_raise_virq(s, arg_domid(b), c % 32);
		break;
	}
	/* A refused call changes nothing; a status changes nothing either. */
	if ((rc < 0 || op == OP_STATUS) && check_lab() != before)
		die("op %u returned %d and changed the lab", op, rc);
	if (rc < 0 && n_hooks)
		die("op %u returned %d and called %u hooks", op, rc, n_hooks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input_start(data, size);
	memset(hs, 0, sizeof(hs));
	memset(ms, 0, sizeof(ms));
	memset(md, 0, sizeof(md));
	memset(channels, 0, sizeof(channels));
	nr_domains = 0;

	/* A lab back in its first state is reused: a new one costs more than
	 * most inputs (its domain and handle tables are large). */
	if (!lab)
		lab = rules_lab_new(&hooks);
	if (!lab)
		die("rules_lab_new failed");
	m_domain_new(0, true);
	hs[1].id = 1;
	expect("join(1, 0)", rules_join(lab, &hs[1], 0), 0);
	ms[1] = (struct mslot){ .joined = true, .dom = 0 };
	md[0].nr_handles = 1;
	check_lab();

	while (in_pos < in_len) {
		uint8_t op = next(), a = next(), b = next(), c = next();

		step(op, a, b, c);
	}
	/* Everybody leaves, every domain goes, domain 0 is reset: the hooks
	 * must balance the channels to zero. */
	for (unsigned int i = NSLOTS; i > 1; i--) {
		if (ms[i].joined) {
			n_hooks = n_raise = 0;
			do_leave(i);
			check_lab();
		}
	}
	for (uint32_t d = 1; d < POOL; d++) {
		if (md[d].exists) {
			n_hooks = n_raise = 0;
			expect("cleanup: domain_destroy", do_destroy(1, d), 0);
		}
	}
	n_hooks = n_raise = 0;
	expect("cleanup: reset", do_reset(1, 0), 0);
	do_leave(1);
	check_lab();
	for (unsigned int a = 1; a <= NSLOTS; a++)
		for (unsigned int b = 1; b <= NSLOTS; b++)
			if (channels[a][b])
				die("%d channels between %u and %u after everybody left",
				    channels[a][b], a, b);
	if (nr_domains != 1 || table_of(0) != RULES_BUCKET_PORTS) {
		rules_lab_free(lab);
		lab = NULL;
	}
	return 0;
}
