/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xpeer.c - see xpeer.h.  Built with XPEER_CONSOLE for the VM (dom0 finds
 * the guest console's pty in xenstore, so it links libxenstore); without it
 * there is no guest and every side is local.
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

#ifdef XPEER_CONSOLE
#include <fcntl.h>
#include <termios.h>
#include <xenevtchn.h>
#include <xenstore.h>
#endif

static int ret(int r)
{
	if (r < 0)
		errno = -r;
	return r;
}

#ifdef XPEER_CONSOLE

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static int guest = -1;
static unsigned long seq;
/* dom0: the guest console's pty; the guest: its console (stdin/stdout). */
static int in_fd = -1, out_fd = -1;
static char lbuf[4096];
static size_t llen;

/* The next line from in_fd (without "\r\n") within @timeout_ms (never
 * ends when negative): a pointer into lbuf, valid until the next call, or
 * NULL on timeout or error. */
static char *get_line(int timeout_ms)
{
	static size_t consumed;
	long end = now_ms() + timeout_ms;

	if (consumed) {
		memmove(lbuf, lbuf + consumed, llen - consumed);
		llen -= consumed;
		consumed = 0;
	}
	for (;;) {
		char *nl = memchr(lbuf, '\n', llen);
		struct pollfd pfd = { .fd = in_fd, .events = POLLIN };
		long left = end - now_ms();
		ssize_t n;

		if (nl) {
			*nl = 0;
			consumed = nl + 1 - lbuf;
			if (nl > lbuf && nl[-1] == '\r')
				nl[-1] = 0;
			return lbuf;
		}
		if (llen == sizeof(lbuf) - 1)
			llen = 0; /* an endless line: not ours */
		if (timeout_ms >= 0 && left <= 0)
			return NULL;
		if (poll(&pfd, 1, timeout_ms < 0 ? -1 : (int)left) < 0 &&
		    errno != EINTR)
			return NULL;
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(in_fd, lbuf + llen, sizeof(lbuf) - 1 - llen);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			/* A pty with no other end yet (EIO): retry. */
			usleep(20000);
			continue;
		}
		llen += n;
	}
}

static void put_line(const char *v)
{
	size_t len = strlen(v), done = 0;

	while (done < len) {
		ssize_t n = write(out_fd, v + done, len - done);

		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			usleep(1000);
			continue;
		}
		if (n <= 0) {
			fprintf(stderr, "xpeer: console write: %s\n",
				strerror(errno));
			exit(3);
		}
		done += n;
	}
}

/* An answer line: "@@XP SEQ RESULT VALUES..."; returns what follows SEQ,
 * or NULL when @l is no answer. */
static char *answer_of(char *l, unsigned long *s)
{
	char *p = strstr(l, "@@XP "), *e;

	if (!p)
		return NULL;
	*s = strtoul(p + 5, &e, 10);
	if (e == p + 5 || *e != ' ')
		return NULL;
	return e + 1;
}

/* Find the guest console's pty in xenstore (xenconsoled writes it once it
 * has the console). */
static char *console_tty(int timeout_ms)
{
	struct xs_handle *xsh = xs_open(0);
	long end = now_ms() + timeout_ms;
	char path[64];

	if (!xsh) {
		fprintf(stderr, "xpeer: cannot open xenstore: %s\n",
			strerror(errno));
		return NULL;
	}
	snprintf(path, sizeof(path), "/local/domain/%d/console/tty", guest);
	for (;;) {
		unsigned int len;
		char *v = xs_read(xsh, XBT_NULL, path, &len);

		if (v && *v) {
			xs_close(xsh);
			return v;
		}
		free(v);
		if (now_ms() >= end) {
			xs_close(xsh);
			return NULL;
		}
		usleep(100000);
	}
}

int xp_connect(int timeout_ms)
{
	const char *g = getenv("EVTCHNX_XEN_GUEST");
	long end = now_ms() + timeout_ms;
	unsigned long first;
	struct termios t;
	char *tty;

	if (!g || !*g)
		return -ENODEV;
	guest = atoi(g);
	tty = console_tty(timeout_ms);
	if (!tty) {
		guest = -1;
		return -ENOENT;
	}
	in_fd = out_fd = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (in_fd < 0) {
		int e = errno;

		fprintf(stderr, "xpeer: open %s: %s\n", tty, strerror(e));
		free(tty);
		guest = -1;
		return -e;
	}
	free(tty);
	/* Raw: no echo of the guest's lines back into its input. */
	if (tcgetattr(in_fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(in_fd, TCSANOW, &t);
	}
	/* Knock until the guest's peer answers; a knock that came before its
	 * peer ran is answered late (or echoed by its console): any answer
	 * to one of ours will do, later ones are skipped by number. */
	seq = first = (unsigned long)now_ms() * 1000;
	for (;;) {
		char req[64], *l, *a;
		unsigned long s;
		long knock = now_ms() + 1000;

		snprintf(req, sizeof(req), "%lu hello\n", ++seq);
		put_line(req);
		while ((l = get_line(knock - now_ms() > 0 ? knock - now_ms() : 0))) {
			a = answer_of(l, &s);
			if (a && s > first && s <= seq)
				return 0;
		}
		if (now_ms() >= end) {
			guest = -1;
			return -ETIMEDOUT;
		}
	}
}

int xp_guest(void)
{
	return guest;
}

static char posted[256];

void xp_post(const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(posted, sizeof(posted), "%lu ", ++seq);
	va_start(ap, fmt);
	vsnprintf(posted + n, sizeof(posted) - 1 - n, fmt, ap);
	va_end(ap);
	strcat(posted, "\n");
	put_line(posted);
}

long xp_collect(long *v, int *nv, int timeout_ms)
{
	char *p, *e, *l;
	unsigned long s;
	long r;
	int n;

	for (;;) {
		l = get_line(timeout_ms);
		if (!l) {
			fprintf(stderr,
				"xpeer: no answer from the guest to \"%.*s\"\n",
				(int)strlen(posted) - 1, posted);
			exit(3);
		}
		p = answer_of(l, &s);
		if (p && s == seq)
			break;
	}
	r = strtol(p, &e, 10);
	for (n = 0; v && n < XP_MAXV; n++) {
		p = e;
		v[n] = strtol(p, &e, 10);
		if (e == p)
			break;
	}
	if (nv)
		*nv = n;
	return r;
}

long xp_call(long *v, int *nv, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	xp_post("%s", buf);
	return xp_collect(v, nv, 60000);
}

/* ---- the guest -------------------------------------------------------- */

#define NH 8
static struct evtchnx_handle *hs[NH];

static struct evtchnx_handle *hget(long i)
{
	return i >= 0 && i < NH ? hs[i] : NULL;
}

/* The far end of the raw libxenevtchn round trip (guest_rtt.c):
 * "rawbind X RDOM RPORT" binds a channel with one libxenevtchn handle of
 * the guest and takes the event the bind leaves; "rawecho X PORT N"
 * answers each event on PORT with one on PORT, N times. */
static xenevtchn_handle *xce;

int xp_raw_take(xenevtchn_handle *x, int timeout_ms)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(x), .events = POLLIN };
	int p;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	p = xenevtchn_pending(x);
	if (p < 0)
		return -errno;
	xenevtchn_unmask(x, p);
	return p;
}

static int raw_op(const char *op, long *a, char *out, size_t sz)
{
	int r, k;

	if (!xce)
		xce = xenevtchn_open(NULL, 0);
	if (!xce) {
		snprintf(out, sz, "%d", -errno);
		return 0;
	}
	if (!strcmp(op, "rawbind")) {
		r = xenevtchn_bind_interdomain(xce, a[1], a[2]);
		r = r < 0 ? -errno : r;
		if (r >= 0)
			xp_raw_take(xce, 3000);
	} else {
		for (k = 0; k < a[2]; k++) {
			if (xp_raw_take(xce, 10000) < 0)
				break;
			xenevtchn_notify(xce, a[1]);
		}
		r = k;
	}
	snprintf(out, sz, "%d", r);
	return 0;
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
	out += o;
	sz -= o;
	o = 0;
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
	} else if (!strcmp(op, "rawbind") || !strcmp(op, "rawecho")) {
		return raw_op(op, a, out, sz);
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
	struct evtchnx_handle *h;
	struct termios t;
	int dom;

	h = evtchnx_open("xen", NULL);
	if (!h) {
		printf("xpeer: evtchnx_open: %s\n", strerror(errno));
		return -errno;
	}
	dom = evtchnx_domid(h);
	evtchnx_close(h);
	/* Requests come in on the console, one a line; no echo. */
	in_fd = 0;
	out_fd = 1;
	if (tcgetattr(in_fd, &t) == 0) {
		t.c_lflag &= ~(ECHO | ECHONL | ECHOE | ECHOK);
		t.c_lflag |= ICANON;
		tcsetattr(in_fd, TCSANOW, &t);
	}
	printf("xpeer: serving as domain %d on the console\n", dom);
	fflush(stdout);
	for (;;) {
		char *q = get_line(-1), *o;
		int end;

		if (!q)
			return -EIO;
		/* A request is "SEQ OP ARGS..."; anything else is noise. */
		if (!(*q >= '0' && *q <= '9'))
			continue;
		o = out + snprintf(out, sizeof(out), "@@XP ");
		end = serve_one(q, o, sizeof(out) - 8 - (o - out));
		if (end < 0)
			continue;
		strcat(out, "\n");
		put_line(out);
		if (end)
			return 0;
	}
}

#else /* !XPEER_CONSOLE */

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

void xp_post(const char *fmt, ...)
{
	(void)fmt;
	fprintf(stderr, "xpeer: no guest in this build\n");
	exit(3);
}

long xp_collect(long *v, int *nv, int timeout_ms)
{
	(void)v;
	(void)nv;
	(void)timeout_ms;
	fprintf(stderr, "xpeer: no guest in this build\n");
	exit(3);
}

int xp_serve(void)
{
	return -ENODEV;
}

#endif /* XPEER_CONSOLE */

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
