/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xpeer.c - see xpeer.h.  Built with XPEER_XENSTORE for the VM (linked
 * with libxenstore); without it there is no guest and every side is local.
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

#ifdef XPEER_XENSTORE
#include <xenstore.h>
#endif

static int ret(int r)
{
	if (r < 0)
		errno = -r;
	return r;
}

#ifdef XPEER_XENSTORE

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static struct xs_handle *xsh;
static int guest = -1;
static char req_path[96], rsp_path[96];
static unsigned long seq;
/* Whether a watch tells when the other side wrote: in a guest, Linux's
 * xenbus device refuses libxenstore's watch (EINVAL), and the key is
 * polled. */
static bool watching;

/* Wait until @path holds a value whose leading number is @want (@other:
 * is not @want); returns the value (malloc'ed) or NULL after @timeout_ms
 * (never when negative). */
static char *await(const char *path, unsigned long want, bool other,
		   int timeout_ms)
{
	long t0 = now_ms(), end = t0 + timeout_ms;

	for (;;) {
		unsigned int len;
		char *v = xs_read(xsh, XBT_NULL, path, &len);
		struct pollfd pfd = { .fd = xs_fileno(xsh), .events = POLLIN };
		char **w;
		long left;

		if (v && *v && (strtoul(v, NULL, 10) == want) != other)
			return v;
		free(v);
		left = end - now_ms();
		if (timeout_ms >= 0 && left <= 0)
			return NULL;
		if (!watching) {
			/* Poll, more slowly the longer nothing comes. */
			long idle = now_ms() - t0;

			usleep(idle < 50 ? 200 : idle < 1000 ? 2000 : 10000);
			continue;
		}
		poll(&pfd, 1, timeout_ms < 0 ? 1000 : (left > 1000 ? 1000 : left));
		while ((w = xs_check_watch(xsh)))
			free(w);
	}
}

static void put(const char *path, const char *v)
{
	if (!xs_write(xsh, XBT_NULL, path, v, strlen(v))) {
		fprintf(stderr, "xpeer: xenstore write %s: %s\n", path,
			strerror(errno));
		exit(3);
	}
}

static void open_xs(void)
{
	xsh = xs_open(0);
	if (!xsh) {
		fprintf(stderr, "xpeer: cannot open xenstore: %s\n",
			strerror(errno));
		exit(3);
	}
}

int xp_connect(int timeout_ms)
{
	const char *g = getenv("EVTCHNX_XEN_GUEST");
	char *v;

	if (!g || !*g)
		return -ENODEV;
	guest = atoi(g);
	open_xs();
	snprintf(req_path, sizeof(req_path), "/local/domain/%d/data/evtchnx-req",
		 guest);
	snprintf(rsp_path, sizeof(rsp_path), "/local/domain/%d/data/evtchnx-rsp",
		 guest);
	watching = xs_watch(xsh, rsp_path, "rsp");
	/* The guest's peer announces itself with answer 0; requests go on
	 * from the last answer (an earlier program may have used the same
	 * guest). */
	v = await(rsp_path, ~0ul, true, timeout_ms);
	if (!v) {
		guest = -1;
		return -ETIMEDOUT;
	}
	seq = strtoul(v, NULL, 10);
	free(v);
	return 0;
}

int xp_guest(void)
{
	return guest;
}

long xp_call(long *v, int *nv, const char *fmt, ...)
{
	char buf[256], *a, *p, *e;
	va_list ap;
	long r;
	int n;

	n = snprintf(buf, sizeof(buf), "%lu ", ++seq);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	put(req_path, buf);
	a = await(rsp_path, seq, false, 60000);
	if (!a) {
		fprintf(stderr, "xpeer: no answer from the guest to \"%s\"\n",
			buf);
		exit(3);
	}
	p = strchr(a, ' ') + 1;
	r = strtol(p, &e, 10);
	for (n = 0; v && n < XP_MAXV; n++) {
		p = e;
		v[n] = strtol(p, &e, 10);
		if (e == p)
			break;
	}
	if (nv)
		*nv = n;
	free(a);
	return r;
}

/* ---- the guest -------------------------------------------------------- */

#define NH 8
static struct evtchnx_handle *hs[NH];

static struct evtchnx_handle *hget(long i)
{
	return i >= 0 && i < NH ? hs[i] : NULL;
}

/* Run one request @q; the answer goes into @out. */
static int serve_one(char *q, char *out, size_t sz)
{
	char op[16];
	long s, a[4] = { 0 };
	int n = sscanf(q, "%lu %15s %ld %ld %ld %ld", &s, op, &a[0], &a[1],
		       &a[2], &a[3]);
	struct evtchnx_handle *h = hget(a[0]);
	int r = -EINVAL, k;
	size_t o;

	if (n < 2)
		return -1;
	o = snprintf(out, sz, "%lu ", s);
	if (!strcmp(op, "exit")) {
		snprintf(out + o, sz - o, "0");
		return 1;
	}
	if (!strcmp(op, "open")) {
		for (k = 0; k < NH && hs[k]; k++)
			;
		r = -EMFILE;
		if (k < NH) {
			hs[k] = evtchnx_open("xen", NULL);
			r = hs[k] ? k : -errno;
		}
	} else if (!h) {
		r = -EBADF;
	} else if (!strcmp(op, "close")) {
		evtchnx_close(h);
		hs[a[0]] = NULL;
		r = 0;
	} else if (!strcmp(op, "domid")) {
		r = evtchnx_domid(h);
	} else if (!strcmp(op, "alloc")) {
		r = evtchnx_alloc_unbound(h, a[1], a[2]);
	} else if (!strcmp(op, "bind")) {
		r = evtchnx_bind_interdomain(h, a[1], a[2]);
	} else if (!strcmp(op, "virq")) {
		r = evtchnx_bind_virq(h, a[1]);
	} else if (!strcmp(op, "send")) {
		r = evtchnx_send(h, a[1]);
	} else if (!strcmp(op, "unbind")) {
		r = evtchnx_unbind(h, a[1]);
	} else if (!strcmp(op, "unmask")) {
		r = evtchnx_unmask(h, a[1]);
	} else if (!strcmp(op, "ispend")) {
		r = evtchnx_is_pending(h, a[1]);
	} else if (!strcmp(op, "pending")) {
		r = evtchnx_pending(h);
	} else if (!strcmp(op, "wait")) {
		r = evtchnx_wait(h, a[1]);
	} else if (!strcmp(op, "reset")) {
		r = evtchnx_reset(h, a[1]);
	} else if (!strcmp(op, "readable")) {
		struct pollfd pfd = { .fd = evtchnx_fd(h), .events = POLLIN };

		r = poll(&pfd, 1, a[1]);
		r = r < 0 ? -errno : r;
	} else if (!strcmp(op, "batch")) {
		uint32_t ports[64];

		r = evtchnx_pending_batch(h, ports, a[1] > 64 ? 64 : a[1]);
		o += snprintf(out + o, sz - o, "%d", r);
		for (k = 0; k < r; k++)
			o += snprintf(out + o, sz - o, " %u", ports[k]);
		return 0;
	} else if (!strcmp(op, "status")) {
		struct evtchnx_status st = { .sz = sizeof(st) };

		r = evtchnx_status(h, a[1], a[2], &st);
		snprintf(out + o, sz - o, "%d %u %u %u %u %u", r, st.state,
			 st.vcpu, st.remote_domid, st.remote_port, st.virq);
		return 0;
	} else if (!strcmp(op, "echo")) {
		/* Answer each event on port a[1] with one on the same port,
		 * a[2] times (the round-trip benchmark's far end). */
		for (k = 0; k < a[2]; k++) {
			int p = evtchnx_wait(h, 10000);

			if (p < 0)
				break;
			evtchnx_unmask(h, p);
			evtchnx_send(h, a[1]);
		}
		r = k;
	}
	snprintf(out + o, sz - o, "%d", r);
	return 0;
}

int xp_serve(void)
{
	char out[1024];
	unsigned long last = 0;
	struct evtchnx_handle *h;
	int dom;

	h = evtchnx_open("xen", NULL);
	if (!h) {
		printf("xpeer: evtchnx_open: %s\n", strerror(errno));
		return -errno;
	}
	dom = evtchnx_domid(h);
	evtchnx_close(h);
	open_xs();
	snprintf(req_path, sizeof(req_path), "/local/domain/%d/data/evtchnx-req",
		 dom);
	snprintf(rsp_path, sizeof(rsp_path), "/local/domain/%d/data/evtchnx-rsp",
		 dom);
	watching = xs_watch(xsh, req_path, "req");
	if (!watching)
		printf("xpeer: xenstore watch %s: %s: polling\n", req_path,
		       strerror(errno));
	snprintf(out, sizeof(out), "0 ready %d", dom);
	put(rsp_path, out);
	printf("xpeer: serving as domain %d\n", dom);
	fflush(stdout);
	for (;;) {
		char *q = await(req_path, last, true, -1);
		int end;

		last = strtoul(q, NULL, 10);
		end = serve_one(q, out, sizeof(out));
		free(q);
		put(rsp_path, out);
		if (end)
			return 0;
	}
}

#else /* !XPEER_XENSTORE */

int xp_connect(int timeout_ms)
{
	(void)timeout_ms;
	return -ENODEV;
}

int xp_guest(void)
{
	return -1;
}

long xp_call(long *v, int *nv, const char *fmt, ...)
{
	(void)v;
	(void)nv;
	(void)fmt;
	fprintf(stderr, "xpeer: no guest in this build\n");
	exit(3);
}

int xp_serve(void)
{
	return -ENODEV;
}

#endif /* XPEER_XENSTORE */

/* ---- sides ---------------------------------------------------------------- */

void xs_local(struct xp_side *s, struct evtchnx_handle *h)
{
	s->h = h;
	s->idx = -1;
	s->remote = false;
}

int xs_remote(struct xp_side *s)
{
	long r = xp_call(NULL, NULL, "open");

	s->h = NULL;
	s->remote = true;
	s->idx = r < 0 ? -1 : (int)r;
	return ret(r < 0 ? (int)r : 0);
}

void xs_close_side(struct xp_side *s)
{
	if (s->remote && s->idx >= 0)
		xp_call(NULL, NULL, "close %d", s->idx);
	else if (!s->remote && s->h)
		evtchnx_close(s->h);
	s->h = NULL;
	s->idx = -1;
}

#define REMOTE(s, ...) ret((int)xp_call(NULL, NULL, __VA_ARGS__))

int xs_domid(struct xp_side *s)
{
	return s->remote ? REMOTE(s, "domid %d", s->idx) : evtchnx_domid(s->h);
}

int xs_alloc(struct xp_side *s, uint32_t dom, uint32_t rdom)
{
	return s->remote ? REMOTE(s, "alloc %d %u %u", s->idx, dom, rdom) :
			   evtchnx_alloc_unbound(s->h, dom, rdom);
}

int xs_bind(struct xp_side *s, uint32_t rdom, uint32_t rport)
{
	return s->remote ? REMOTE(s, "bind %d %u %u", s->idx, rdom, rport) :
			   evtchnx_bind_interdomain(s->h, rdom, rport);
}

int xs_virq(struct xp_side *s, uint32_t virq)
{
	return s->remote ? REMOTE(s, "virq %d %u", s->idx, virq) :
			   evtchnx_bind_virq(s->h, virq);
}

int xs_send(struct xp_side *s, uint32_t port)
{
	return s->remote ? REMOTE(s, "send %d %u", s->idx, port) :
			   evtchnx_send(s->h, port);
}

int xs_unbind(struct xp_side *s, uint32_t port)
{
	return s->remote ? REMOTE(s, "unbind %d %u", s->idx, port) :
			   evtchnx_unbind(s->h, port);
}

int xs_unmask(struct xp_side *s, uint32_t port)
{
	return s->remote ? REMOTE(s, "unmask %d %u", s->idx, port) :
			   evtchnx_unmask(s->h, port);
}

int xs_ispend(struct xp_side *s, uint32_t port)
{
	return s->remote ? REMOTE(s, "ispend %d %u", s->idx, port) :
			   evtchnx_is_pending(s->h, port);
}

int xs_pending(struct xp_side *s)
{
	return s->remote ? REMOTE(s, "pending %d", s->idx) :
			   evtchnx_pending(s->h);
}

int xs_wait(struct xp_side *s, int timeout_ms)
{
	return s->remote ? REMOTE(s, "wait %d %d", s->idx, timeout_ms) :
			   evtchnx_wait(s->h, timeout_ms);
}

int xs_reset(struct xp_side *s, uint32_t dom)
{
	return s->remote ? REMOTE(s, "reset %d %u", s->idx, dom) :
			   evtchnx_reset(s->h, dom);
}

int xs_readable(struct xp_side *s, int timeout_ms)
{
	struct pollfd pfd = { .events = POLLIN };

	if (s->remote)
		return REMOTE(s, "readable %d %d", s->idx, timeout_ms);
	pfd.fd = evtchnx_fd(s->h);
	return poll(&pfd, 1, timeout_ms) > 0;
}

int xs_batch(struct xp_side *s, uint32_t *ports, int n)
{
	long v[XP_MAXV];
	int nv, r, i;

	if (!s->remote)
		return evtchnx_pending_batch(s->h, ports, n);
	r = (int)xp_call(v, &nv, "batch %d %d", s->idx, n);
	for (i = 0; i < r && i < nv && i < n; i++)
		ports[i] = (uint32_t)v[i];
	return ret(r);
}

int xs_status(struct xp_side *s, uint32_t dom, uint32_t port,
	      struct evtchnx_status *st)
{
	long v[XP_MAXV];
	int nv, r;

	st->sz = sizeof(*st);
	if (!s->remote)
		return evtchnx_status(s->h, dom, port, st);
	r = (int)xp_call(v, &nv, "status %d %u %u", s->idx, dom, port);
	if (nv >= 5) {
		st->state = v[0];
		st->vcpu = v[1];
		st->remote_domid = v[2];
		st->remote_port = v[3];
		st->virq = v[4];
	}
	return ret(r);
}
