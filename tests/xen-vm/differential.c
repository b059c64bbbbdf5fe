/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * differential.c - seeded random operation sequences, replayed on the sim
 * and on real Xen, compared line by line.
 *
 *   differential [--mode dom0|two|both] [--seeds N] [--first S] [--ops N]
 *                [--print]
 *
 * (defaults: 3 seeds from 1, 60 operations; $EVTCHNX_DIFF_SEEDS,
 * $EVTCHNX_DIFF_FIRST and $EVTCHNX_DIFF_OPS change them, for the VM, whose
 * programs run without arguments.)
 *
 * Each seed generates a sequence of alloc, bind, send, unbind, unmask,
 * is_pending, status, pending, batch and wait calls on two sides, with bad
 * ports and domids mixed in.  Mode "dom0": two handles of one domain (the
 * program's own on Xen, the control domain 0 of a private lab on the sim).
 * Mode "two": a handle of dom0 and a handle of the guest named by
 * $EVTCHNX_XEN_GUEST, driven over its console (xpeer.h); on the sim,
 * domains 0 and 1 of one lab.  Every call gives one line in which port
 * numbers are replaced by the order in which they were obtained (P0, P1,
 * ...; dom0's kernel already holds ports on Xen) and domids by names.
 *
 * The sim runs first.  With EVTCHNX_TEST_TARGET=xen the same sequence then
 * runs on Xen and each line must equal the sim's; a seed passes when all
 * do.  Without Xen (no EVTCHNX_TEST_TARGET=xen) the sequence runs on the
 * sim twice, which checks that the generator and the sim are deterministic
 * (--print shows the lines).  Allowed differences, which real Xen's
 * delivery makes inevitable (docs/xen.md), are absorbed and counted:
 *
 *  - delivery is asynchronous on Xen, and ports whose upcalls run on
 *    different vCPUs reach the kernel's ring in either order: the Xen run
 *    takes what is deliverable ahead, into a buffer, and a pending(),
 *    wait() or pending_batch() reports the ports the sim reported, in the
 *    sim's order, as soon as it has them (waiting up to 3 s), or else
 *    what it has (a difference); with nothing on the sim it looks for
 *    50 ms, so an extra event on Xen is still caught.  A port taken ahead
 *    counts as pending, not taken (is_pending 1, unmask changes nothing);
 *    is_pending() that the sim answers 1 is asked again until it does
 *    (3 s at most);
 *  - after unmask() of a taken port with no send since the take, Xen may
 *    deliver it once more: the Xen run takes such a re-delivery, unmasks
 *    it and repeats the observation (counted as "allowed");
 *  - is_pending() of a taken port is printed as "taken": Xen cannot see an
 *    event latched behind the kernel's mask (the sim can);
 *  - status().vcpu is not compared (Linux spreads user ports over vCPUs).
 *
 * Output: "PASS diff.MODE.seedN (K ops, A allowed)" or "FAIL diff.MODE.seedN
 * op K: ..." with both lines and the ones before; "SKIP ..." for the
 * two-domain mode without a guest.  Exit 0, 1 (a seed failed) or 77.
 */
#include "xpeer.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXE 256    /* ports obtained in one sequence */
#define LINE 256

enum { DOM0, TWO };

struct ent {
	uint32_t dom, port;
	int owner; /* side that owns it, -1 for none */
	uint32_t offered; /* unbound: the domid it is offered to */
	int peer;  /* entry it is linked to, -1 */
	bool live, taken, sent, redeliver;
};

struct run {
	bool xen;
	int mode;
	struct xp_side s[2];
	struct evtchnx_handle *keep; /* sim, mode two: keeps domain 1 alive */
	uint32_t dom[2];             /* the sides' domids */
	struct ent e[MAXE];
	int ne;
	/* xen: ports taken from a side ahead of the sequence, in arrival
	 * order, not yet reported (see collect()). */
	uint32_t buf[2][MAXE];
	int nbuf[2];
	char (*lines)[LINE]; /* what this run printed */
	char (*hint)[LINE];  /* xen: the sim's lines */
	int allowed;
};

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static const char *ename(int r)
{
	static char b[16];

	switch (-r) {
	case EINVAL: return "EINVAL";
	case ENOTCONN: return "ENOTCONN";
	case ESRCH: return "ESRCH";
	case EPERM: return "EPERM";
	case EEXIST: return "EEXIST";
	case EAGAIN: return "EAGAIN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENOSPC: return "ENOSPC";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EBADF: return "EBADF";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: snprintf(b, sizeof(b), "E%d", -r); return b;
	}
}

static const char *dname(struct run *R, uint32_t d, char *b)
{
	if (d == EVTCHNX_DOMID_SELF)
		snprintf(b, 16, "SELF");
	else if (d == 0)
		snprintf(b, 16, "d0");
	else if (R->mode == TWO && d == R->dom[1])
		snprintf(b, 16, "g");
	else
		snprintf(b, 16, "%#x", d);
	return b;
}

/* The live entry for (dom, port), or -1. */
static int find(struct run *R, uint32_t dom, uint32_t port)
{
	for (int i = R->ne - 1; i >= 0; i--)
		if (R->e[i].live && R->e[i].dom == dom && R->e[i].port == port)
			return i;
	return -1;
}

static const char *pname(struct run *R, uint32_t dom, uint32_t port, char *b)
{
	int i = find(R, dom, port);

	if (i >= 0)
		snprintf(b, 16, "P%d", i);
	else if (port == 0 || port == 0xFFFFFFFF || port >= 100000)
		snprintf(b, 16, "%u", port);
	else
		snprintf(b, 16, "unknown-port"); /* a raw number would differ */
	return b;
}

/* ---- the sides' calls (a local handle, or the guest's over its console) -- */

static bool sim_mode(struct run *R) { return !R->xen; }

/* xen: wait (3 s at most) until is_pending(@port) says 1, as on the sim. */
static void settle_port(struct run *R, int side, uint32_t port)
{
	struct timespec ts = { 0, 5 * 1000000 };

	for (int t = 0; t < 600; t++) {
		if (xs_ispend(&R->s[side], port) == 1)
			return;
		nanosleep(&ts, NULL);
	}
}

/* Whether the sim's answer @hint (after "-> ") names port @name. */
static bool hint_names(const char *hint, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = hint; p && (p = strstr(p, name)); p += n)
		if ((p == hint || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return true;
	return false;
}

/* A port the Xen run may take once more (see the head comment): unmask
 * it and forget it, unless the sim's answer names it. */
static bool absorbed(struct run *R, int side, uint32_t port, const char *hint)
{
	int i = find(R, R->dom[side], port);
	char b[16];

	if (i < 0 || !R->e[i].redeliver || R->e[i].owner != side)
		return false;
	if (hint && hint_names(hint, pname(R, R->dom[side], port, b)))
		return false;
	xs_unmask(&R->s[side], port);
	R->e[i].redeliver = false;
	R->allowed++;
	return true;
}

static int buf_find(struct run *R, int side, uint32_t port)
{
	for (int j = 0; j < R->nbuf[side]; j++)
		if (R->buf[side][j] == port)
			return j;
	return -1;
}

static void buf_drop(struct run *R, int side, int j)
{
	memmove(&R->buf[side][j], &R->buf[side][j + 1],
		(R->nbuf[side] - j - 1) * sizeof(uint32_t));
	R->nbuf[side]--;
}

/* xen: take what is deliverable on @side into its buffer, waiting up to
 * @timeout_ms for the first port; how many were added.  Ports whose
 * upcalls run on different vCPUs reach the kernel's ring in either order,
 * so the Xen run takes ahead and reports in the sim's order what it has
 * (an allowed difference); a port it has not got is still a difference. */
static int take_more(struct run *R, int side, int timeout_ms,
		     const char *hint)
{
	uint32_t got[16];
	int r, added = 0;

	if (xs_readable(&R->s[side], timeout_ms) != 1)
		return 0;
	r = xs_batch(&R->s[side], got, 16);
	for (int j = 0; j < r; j++) {
		if (absorbed(R, side, got[j], hint))
			continue;
		if (R->nbuf[side] < MAXE && buf_find(R, side, got[j]) < 0)
			R->buf[side][R->nbuf[side]++] = got[j];
		added++;
	}
	return added;
}

/* xen: wait until @port is in the buffer (up to @deadline); its index. */
static int collect(struct run *R, int side, uint32_t port, long deadline,
		   const char *hint)
{
	int j;

	while ((j = buf_find(R, side, port)) < 0) {
		long left = deadline - now_ms();

		if (left <= 0)
			return -1;
		take_more(R, side, (int)(left > 200 ? 200 : left), hint);
	}
	return j;
}

/* pending()/wait() gave @r on @side: the entry is taken. */
static void took(struct run *R, int side, int r)
{
	int i = r > 0 ? find(R, R->dom[side], (uint32_t)r) : -1;

	if (i >= 0) {
		R->e[i].taken = true;
		R->e[i].sent = false;
		R->e[i].redeliver = false;
	}
}

/* The port named in a hint line after "-> ", or NULL. */
static const char *hint_result(struct run *R, int k)
{
	const char *p;

	if (sim_mode(R))
		return NULL;
	p = strstr(R->hint[k], "-> ");
	return p ? p + 3 : "";
}

/* ---- the generator --------------------------------------------------------- */

/* A port argument for a call on one's own port on @side. */
static uint32_t own_port_arg(struct run *R, int side, char *b)
{
	int cand[MAXE], n = 0, c = rnd(10);

	for (int i = 0; i < R->ne; i++)
		if (R->e[i].live && R->e[i].dom == R->dom[side])
			cand[n++] = i;
	if (c < 8 && n) {
		int i = cand[rnd(n)];

		snprintf(b, 16, "P%d", i);
		return R->e[i].port;
	}
	static const uint32_t bad[] = { 0, 0xFFFFFFFF, 131072, 100000 };
	uint32_t p = bad[rnd(4)];

	snprintf(b, 16, "%u", p);
	return p;
}

static int add(struct run *R, uint32_t dom, uint32_t port, int owner)
{
	struct ent *x;

	if (R->ne >= MAXE)
		return -1;
	x = &R->e[R->ne];
	*x = (struct ent){ .dom = dom, .port = port, .owner = owner,
			   .peer = -1, .live = true };
	return R->ne++;
}

static void unlink_ent(struct run *R, int i)
{
	R->e[i].live = false;
	if (R->e[i].peer >= 0 && R->e[R->e[i].peer].peer == i) {
		/* The survivor is offered to the closer's domain again. */
		R->e[R->e[i].peer].peer = -1;
		R->e[R->e[i].peer].offered = R->e[i].dom;
	}
	R->e[i].peer = -1;
}

/* One operation; its normalised line goes into @out. */
static void step(struct run *R, int k, char *out)
{
	int side = rnd(2), other = 1 - side, r, i, j;
	uint32_t me = R->dom[side];
	struct xp_side *S = &R->s[side];
	char a[16], b[16], c[16];
	int op = rnd(100);

	if (op < 14) { /* alloc_unbound */
		uint32_t dom = EVTCHNX_DOMID_SELF, rdom;

		switch (rnd(6)) {
		case 0:
		case 1: rdom = R->dom[other]; break;
		case 2: rdom = EVTCHNX_DOMID_SELF; break;
		case 3:
			if (R->mode == TWO && side == 0) {
				dom = R->dom[1];
				rdom = rnd(2) ? EVTCHNX_DOMID_SELF : R->dom[1];
			} else {
				rdom = 0x1234; /* not validated */
			}
			break;
		case 4: dom = rnd(2) ? 0x7000 : 0x7FF1; rdom = EVTCHNX_DOMID_SELF; break;
		default:
			dom = R->mode == TWO && side == 1 ? 0 : 0x7000;
			rdom = EVTCHNX_DOMID_SELF;
			break;
		}
		r = xs_alloc(S, dom, rdom);
		if (r >= 0) {
			uint32_t in = dom == EVTCHNX_DOMID_SELF ? me : dom;

			i = add(R, in, r, in == me ? side : -1);
			/* DOMID_SELF names the caller. */
			if (i >= 0)
				R->e[i].offered =
					rdom == EVTCHNX_DOMID_SELF ? me : rdom;
			snprintf(c, sizeof(c), "P%d", i);
		}
		snprintf(out, LINE, "%d s%d alloc(%s, %s) -> %s", k, side,
			 dname(R, dom, a), dname(R, rdom, b),
			 r >= 0 ? c : ename(r));
	} else if (op < 28) { /* bind_interdomain */
		uint32_t rdom, rport;
		int t = R->ne ? (int)rnd(R->ne) : -1, bad = rnd(6);
		int cand[MAXE], n = 0;
		char pa[16];

		/* Mostly a port offered to this side's domain. */
		for (int j = 0; j < R->ne; j++)
			if (R->e[j].live && R->e[j].peer < 0 &&
			    R->e[j].offered == me)
				cand[n++] = j;
		if (n && rnd(10) < 6) {
			t = cand[rnd(n)];
			bad = 5;
		}

		if (t < 0 || !R->e[t].live || bad == 0) {
			rdom = R->dom[other];
			rport = rnd(2) ? 0 : 0xFFFFFFFF;
			snprintf(pa, sizeof(pa), "%u", rport);
		} else {
			rdom = R->e[t].dom;
			if (rdom == me && rnd(2))
				rdom = EVTCHNX_DOMID_SELF;
			if (bad == 1)
				rdom = 0x7000;
			rport = R->e[t].port;
			snprintf(pa, sizeof(pa), "P%d", t);
		}
		r = xs_bind(S, rdom, rport);
		if (r >= 0) {
			i = add(R, me, r, side);
			if (i >= 0 && t >= 0) {
				R->e[i].peer = t;
				R->e[t].peer = i;
			}
			snprintf(c, sizeof(c), "P%d", i);
		}
		snprintf(out, LINE, "%d s%d bind(%s, %s) -> %s", k, side,
			 dname(R, rdom, a), pa, r >= 0 ? c : ename(r));
	} else if (op < 42) { /* send */
		uint32_t p = own_port_arg(R, side, a);

		r = xs_send(S, p);
		i = find(R, me, p);
		if (r == 0 && i >= 0 && R->e[i].peer >= 0) {
			struct ent *q = &R->e[R->e[i].peer];

			q->sent = true;
			q->redeliver = false;
		}
		snprintf(out, LINE, "%d s%d send(%s) -> %s", k, side, a,
			 r >= 0 ? "0" : ename(r));
	} else if (op < 50) { /* unbind */
		uint32_t p = own_port_arg(R, side, a);

		i = find(R, me, p);
		if (!sim_mode(R) && (j = buf_find(R, side, p)) >= 0)
			buf_drop(R, side, j);
		r = xs_unbind(S, p);
		if (r == 0 && i >= 0)
			unlink_ent(R, i);
		snprintf(out, LINE, "%d s%d unbind(%s) -> %s", k, side, a,
			 r >= 0 ? "0" : ename(r));
	} else if (op < 60) { /* unmask */
		uint32_t p = own_port_arg(R, side, a);

		i = find(R, me, p);
		/* A port taken ahead is pending, not taken, on the sim:
		 * unmasking it changes nothing there. */
		if (!sim_mode(R) && buf_find(R, side, p) >= 0)
			r = 0;
		else
			r = xs_unmask(S, p);
		if (r == 0 && i >= 0 && R->e[i].owner == side && R->e[i].taken) {
			R->e[i].taken = false;
			R->e[i].redeliver = !R->e[i].sent;
		}
		snprintf(out, LINE, "%d s%d unmask(%s) -> %s", k, side, a,
			 r >= 0 ? "0" : ename(r));
	} else if (op < 70) { /* is_pending */
		uint32_t p = own_port_arg(R, side, a);
		const char *h = hint_result(R, k);

		i = find(R, me, p);
		if (i >= 0 && R->e[i].owner == side && R->e[i].taken) {
			snprintf(out, LINE, "%d s%d is_pending(%s) -> taken", k,
				 side, a);
			return;
		}
		if (h && buf_find(R, side, p) >= 0) {
			r = 1; /* taken ahead: pending on the sim */
			goto ispend_out;
		}
		if (h && !strcmp(h, "1"))
			settle_port(R, side, p);
		else if (h)
			usleep(50000);
		r = xs_ispend(S, p);
		if (r == 1 && h && strcmp(h, "1") && i >= 0 &&
		    R->e[i].redeliver) {
			R->allowed++; /* a re-delivery waits: taken later */
			r = 0;
		}
ispend_out:
		snprintf(out, LINE, "%d s%d is_pending(%s) -> %s", k, side, a,
			 r >= 0 ? (r ? "1" : "0") : ename(r));
	} else if (op < 80) { /* status */
		uint32_t dom, p;
		int which = rnd(8);
		struct evtchnx_status st;

		if (which < 4) {
			dom = EVTCHNX_DOMID_SELF;
			p = own_port_arg(R, side, a);
		} else if (which < 6) {
			dom = R->dom[other];
			p = own_port_arg(R, other, a);
		} else if (which == 6) {
			dom = 0x7000;
			p = 1;
			snprintf(a, sizeof(a), "1");
		} else {
			dom = EVTCHNX_DOMID_SELF;
			p = rnd(2) ? 0 : 131071;
			snprintf(a, sizeof(a), "%u", p);
		}
		r = xs_status(S, dom, p, &st);
		if (r < 0) {
			snprintf(out, LINE, "%d s%d status(%s, %s) -> %s", k,
				 side, dname(R, dom, b), a, ename(r));
		} else {
			char rd[16], rp[16];

			if (st.state == EVTCHNX_STATE_INTERDOMAIN)
				pname(R, st.remote_domid, st.remote_port, rp);
			else
				snprintf(rp, sizeof(rp), "-");
			if (st.state == EVTCHNX_STATE_UNBOUND ||
			    st.state == EVTCHNX_STATE_INTERDOMAIN)
				dname(R, st.remote_domid, rd);
			else
				snprintf(rd, sizeof(rd), "-");
			snprintf(out, LINE,
				 "%d s%d status(%s, %s) -> state %u remote %s:%s",
				 k, side, dname(R, dom, b), a, st.state, rd, rp);
		}
	} else if (op < 88 || op >= 94) { /* pending, wait */
		bool wait = op >= 94;
		const char *h = hint_result(R, k);

		if (sim_mode(R)) {
			r = wait ? xs_wait(S, 0) : xs_pending(S);
		} else {
			int t = h[0] == 'P' ? atoi(h + 1) : -1, j = -1;

			if (t >= 0 && t < R->ne && R->e[t].live &&
			    R->e[t].dom == me)
				j = collect(R, side, R->e[t].port,
					    now_ms() + 3000, h);
			else if (!R->nbuf[side])
				take_more(R, side, 50, h);
			if (j < 0 && R->nbuf[side])
				j = 0; /* what Xen has: a difference */
			if (j >= 0) {
				r = (int)R->buf[side][j];
				buf_drop(R, side, j);
			} else {
				r = wait ? -ETIMEDOUT : -EAGAIN;
			}
		}
		took(R, side, r);
		snprintf(out, LINE, "%d s%d %s -> %s", k, side,
			 wait ? "wait" : "pending",
			 r >= 0 ? pname(R, me, r, c) : ename(r));
	} else { /* batch */
		uint32_t got[8];
		int n = 1 + rnd(4), m = 0, o;
		const char *h = hint_result(R, k);

		if (sim_mode(R)) {
			r = xs_batch(S, got, n);
			m = r > 0 ? r : 0;
		} else {
			/* The sim's ports, in its order, then whatever else
			 * Xen has (a difference). */
			long deadline = now_ms() + 3000;
			char hb[LINE], *tok, *sv;
			int j;

			snprintf(hb, sizeof(hb), "%s", h);
			for (tok = strtok_r(hb, " ", &sv); tok && m < n;
			     tok = strtok_r(NULL, " ", &sv)) {
				int t = tok[0] == 'P' ? atoi(tok + 1) : -1;

				if (t < 0 || t >= R->ne || !R->e[t].live ||
				    R->e[t].dom != me)
					continue;
				j = collect(R, side, R->e[t].port, deadline, h);
				if (j >= 0) {
					got[m++] = R->buf[side][j];
					buf_drop(R, side, j);
				}
			}
			if (m < n && !R->nbuf[side])
				take_more(R, side, 50, h);
			while (m < n && R->nbuf[side]) {
				got[m++] = R->buf[side][0];
				buf_drop(R, side, 0);
			}
			r = m;
		}
		o = snprintf(out, LINE, "%d s%d batch(%d) ->", k, side, n);
		if (r < 0) {
			snprintf(out + o, LINE - o, " %s", ename(r));
		} else {
			for (int j = 0; j < m; j++) {
				took(R, side, got[j]);
				o += snprintf(out + o, LINE - o, " %s",
					      pname(R, me, got[j], c));
			}
			if (m == 0)
				snprintf(out + o, LINE - o, " none");
		}
	}
}

/* ---- runs -------------------------------------------------------------------- */

static int open_run(struct run *R, bool xen, int mode)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o) };
	const char *t = xen ? "xen" : "sim";

	memset(R->e, 0, sizeof(R->e));
	R->ne = 0;
	R->nbuf[0] = R->nbuf[1] = 0;
	R->xen = xen;
	R->mode = mode;
	R->keep = NULL;
	R->allowed = 0;
	xs_local(&R->s[0], evtchnx_open(t, &o));
	if (!R->s[0].h)
		return -errno;
	if (mode == DOM0) {
		xs_local(&R->s[1], evtchnx_open(t, &o));
		if (!R->s[1].h)
			return -errno;
	} else if (xen) {
		int r = xs_remote(&R->s[1]);

		if (r < 0)
			return r;
	} else {
		o.domid = 1;
		xs_local(&R->s[1], evtchnx_open(t, &o));
		R->keep = evtchnx_open(t, &o);
		if (!R->s[1].h || !R->keep)
			return -errno;
	}
	R->dom[0] = xs_domid(&R->s[0]);
	R->dom[1] = xs_domid(&R->s[1]);
	return 0;
}

static void close_run(struct run *R)
{
	xs_close_side(&R->s[1]);
	xs_close_side(&R->s[0]);
	if (R->keep)
		evtchnx_close(R->keep);
	R->keep = NULL;
}

static int run_seed(struct run *R, bool xen, int mode, uint64_t seed, int nops)
{
	int r = open_run(R, xen, mode);

	if (r < 0)
		return r;
	rng = seed * 0x9E3779B97F4A7C15ull + 1;
	for (int k = 0; k < nops; k++) {
		step(R, k, R->lines[k]);
		if (R->hint && strcmp(R->lines[k], R->hint[k])) {
			close_run(R);
			return k + 1; /* first difference at op k */
		}
	}
	close_run(R);
	return 0;
}

static bool on_xen(void)
{
	const char *t = getenv("EVTCHNX_TEST_TARGET");

	return t && !strcmp(t, "xen");
}

int main(int argc, char **argv)
{
	int seeds = 3, nops = 60, failed = 0, ran = 0, first = 1;
	const char *mode = "both";
	bool print = false, xen = on_xen();
	static char sim_lines[1000][LINE], other[1000][LINE];
	struct run R = { 0 };

	/* The VM runs programs without arguments: defaults from there. */
	if (getenv("EVTCHNX_DIFF_SEEDS"))
		seeds = atoi(getenv("EVTCHNX_DIFF_SEEDS"));
	if (getenv("EVTCHNX_DIFF_FIRST"))
		first = atoi(getenv("EVTCHNX_DIFF_FIRST"));
	if (getenv("EVTCHNX_DIFF_OPS"))
		nops = atoi(getenv("EVTCHNX_DIFF_OPS"));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			mode = argv[++i];
		else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--first") && i + 1 < argc)
			first = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			nops = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--print"))
			print = true;
		else {
			fprintf(stderr, "usage: %s [--mode dom0|two|both] "
				"[--seeds N] [--first S] [--ops N] [--print]\n",
				argv[0]);
			return 2;
		}
	}
	if (nops < 1 || nops > 1000 || seeds < 0) {
		fprintf(stderr, "differential: --ops 1..1000, --seeds >= 0\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int m = DOM0; m <= TWO; m++) {
		const char *mn = m == DOM0 ? "dom0" : "two";
		int cr = 0;

		if (strcmp(mode, "both") && strcmp(mode, mn))
			continue;
		if (m == TWO && xen && xp_guest() < 0)
			cr = xp_connect(60000);
		for (int s = first; s < first + seeds; s++) {
			int d;

			if (m == TWO && xen && cr < 0) {
				printf("SKIP diff.%s.seed%d: no guest answers on "
				       "its console (%s)\n", mn, s,
				       evtchnx_strerror(cr));
				continue;
			}
			R.lines = sim_lines;
			R.hint = NULL;
			d = run_seed(&R, false, m, s, nops);
			if (d < 0) {
				printf("FAIL diff.%s.seed%d: the sim run: %s\n",
				       mn, s, evtchnx_strerror(d));
				failed++;
				continue;
			}
			R.lines = other;
			R.hint = sim_lines;
			d = run_seed(&R, xen, m, s, nops);
			ran++;
			if (print)
				for (int k = 0; k < (d > 0 ? d : nops); k++)
					printf("  %s\n", other[k]);
			if (d < 0) {
				printf("FAIL diff.%s.seed%d: the %s run: %s\n",
				       mn, s, xen ? "xen" : "second sim",
				       evtchnx_strerror(d));
				failed++;
			} else if (d > 0) {
				printf("FAIL diff.%s.seed%d op %d: sim \"%s\", %s "
				       "\"%s\"\n", mn, s, d - 1, sim_lines[d - 1],
				       xen ? "xen" : "second sim", other[d - 1]);
				for (int k = d - 6 < 0 ? 0 : d - 6; k < d - 1; k++)
					printf("    before: %s\n", sim_lines[k]);
				failed++;
			} else {
				printf("PASS diff.%s.seed%d (%d ops, %d allowed)\n",
				       mn, s, nops, R.allowed);
			}
		}
	}
	printf("differential: %d seeds compared (%s), %d differ\n", ran,
	       xen ? "sim against xen" : "sim against sim", failed);
	return failed ? 1 : ran ? 0 : 77;
}
