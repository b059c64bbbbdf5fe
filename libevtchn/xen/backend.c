/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xen/backend.c - the "xen" backend: a real Xen host through libxenevtchn
 * (/dev/xen/evtchn) and libxencall (/dev/xen/privcmd).  See docs/xen.md.
 *
 * Loading.  By default libxenevtchn.so.1 and libxencall.so.1 are loaded with
 * dlopen() on the first open of "xen", so the library builds and runs on a
 * machine without Xen.  Built with EVTCHNX_XEN_DIRECT the functions are
 * called directly (for static programs, linked with -lxenevtchn -lxencall
 * -lxentoollog -lxentoolcore).  Built with EVTCHNX_WITH_XEN=0, opening "xen"
 * fails with -ENOSYS.  EVTCHNX_DEBUG=1 in the environment prints why an open
 * failed.
 *
 * Ownership.  Linux does not say which ports a file owns, so the backend
 * keeps a table of the ports this handle bound: it answers -EINVAL for port
 * 0 and ports at or beyond XEN_PORT_LIMIT, -ENOTCONN for the others it does
 * not own, before asking the kernel.
 *
 * Delivery.  The kernel masks a port when it queues it in the file's ring
 * and unmasks it when the port is written back to the file; the backend
 * keeps that one-to-one: a port is unmasked in the kernel only by
 * evtchnx_unmask() of a port that pending() returned.  The hot path makes
 * exactly libxenevtchn's system calls on the device fd, and nothing here
 * ever waits.
 *
 * Two calls must read the ring without returning what they read:
 * is_pending(), which can only peek by reading, and unbind(), which must
 * take out a port that fired just before it was closed (else a later port
 * with the same number would inherit its event).  What they read for other
 * ports waits in an internal FIFO queue that pending() serves before it
 * reads the device.  The device cannot be made readable again for those
 * ports, so evtchnx_fd() is an epoll set holding the device fd and an
 * eventfd of the handle's own, written (once) while the queue holds ports:
 * the fd is readable whenever a port is pending.  pending() collects that
 * wake-up when it empties the queue; in the common case the queue is empty
 * and polling the set costs no system call more than polling the device.  The event
 * Xen leaves on a new interdomain port is not queued: the kernel reports
 * it like any other; until then is_pending() answers 1 from the table.
 * A ring overflow (EFBIG, which this accounting should make impossible) is
 * repaired by emptying the ring (IOCTL_EVTCHN_RESET) and queueing every
 * owned port that is not taken: spurious events, none lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../backend.h"

#if !defined(EVTCHNX_WITH_XEN) || EVTCHNX_WITH_XEN

#include <pthread.h>
#ifndef EVTCHNX_XEN_DIRECT
#include <dlfcn.h>
#endif

#include "xenabi.h"

/* Ports per domain with the FIFO ABI, which Linux uses on Xen >= 4.4
 * (the dom0 kernel of the test VM logs "xen:events: Using FIFO-based ABI").
 * A kernel booted with xen.fifo_events=0 has 4096 (2-level): ports between
 * 4096 and this limit then answer -ENOTCONN rather than -EINVAL. */
#define XEN_PORT_LIMIT 131072u

/* Per-port flags in the handle's table (one uint8_t per port). */
#define P_OWNED ((uint8_t)0x01)  /* bound by this handle */
#define P_VIRQ ((uint8_t)0x02)   /* bound with bind_virq (send is -EINVAL) */
#define P_QUEUED ((uint8_t)0x04) /* read from the kernel, waiting in the queue */
#define P_TAKEN ((uint8_t)0x08)  /* returned by pending(), masked until unmask() */
#define P_BOUND ((uint8_t)0x10)  /* Xen's bind event, not yet read from the ring */

/* Ports read from the device per read() when draining it. */
#define DRAIN_CHUNK 256

/* ---- the Xen libraries -------------------------------------------------- */

static struct xen_libs {
	xenevtchn_open_fn *evtchn_open;
	xenevtchn_close_fn *evtchn_close;
	xenevtchn_fd_fn *evtchn_fd;
	xenevtchn_notify_fn *notify;
	xenevtchn_bind_unbound_port_fn *bind_unbound_port;
	xenevtchn_bind_interdomain_fn *bind_interdomain;
	xenevtchn_bind_virq_fn *bind_virq;
	xenevtchn_unbind_fn *unbind;
	xenevtchn_pending_fn *pending;
	xenevtchn_unmask_fn *unmask;
	xenevtchn_restrict_fn *restrict_domid;
	xencall_open_fn *call_open;
	xencall_close_fn *call_close;
	xencall2_fn *call2;
	xencall_alloc_buffer_fn *alloc_buffer;
	xencall_free_buffer_fn *free_buffer;
	int err;            /* 0 once loaded, else a positive errno */
	char why[256];      /* what is missing, for EVTCHNX_DEBUG */
} xl;

static pthread_once_t xl_once = PTHREAD_ONCE_INIT;

static bool xen_debug(void)
{
	const char *v = getenv("EVTCHNX_DEBUG");

	return v && *v && strcmp(v, "0") != 0;
}

__attribute__((format(printf, 1, 2))) static void dbg(const char *fmt, ...)
{
	va_list ap;

	if (!xen_debug())
		return;
	va_start(ap, fmt);
	fputs("evtchnx: xen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

#ifdef EVTCHNX_XEN_DIRECT

/* The libraries' own prototypes (see xenabi.h for the types). */
xenevtchn_open_fn xenevtchn_open;
xenevtchn_close_fn xenevtchn_close;
xenevtchn_fd_fn xenevtchn_fd;
xenevtchn_notify_fn xenevtchn_notify;
xenevtchn_bind_unbound_port_fn xenevtchn_bind_unbound_port;
xenevtchn_bind_interdomain_fn xenevtchn_bind_interdomain;
xenevtchn_bind_virq_fn xenevtchn_bind_virq;
xenevtchn_unbind_fn xenevtchn_unbind;
xenevtchn_pending_fn xenevtchn_pending;
xenevtchn_unmask_fn xenevtchn_unmask;
xenevtchn_restrict_fn xenevtchn_restrict;
xencall_open_fn xencall_open;
xencall_close_fn xencall_close;
xencall2_fn xencall2;
xencall_alloc_buffer_fn xencall_alloc_buffer;
xencall_free_buffer_fn xencall_free_buffer;

static void xl_load(void)
{
	xl.evtchn_open = xenevtchn_open;
	xl.evtchn_close = xenevtchn_close;
	xl.evtchn_fd = xenevtchn_fd;
	xl.notify = xenevtchn_notify;
	xl.bind_unbound_port = xenevtchn_bind_unbound_port;
	xl.bind_interdomain = xenevtchn_bind_interdomain;
	xl.bind_virq = xenevtchn_bind_virq;
	xl.unbind = xenevtchn_unbind;
	xl.pending = xenevtchn_pending;
	xl.unmask = xenevtchn_unmask;
	xl.restrict_domid = xenevtchn_restrict;
	xl.call_open = xencall_open;
	xl.call_close = xencall_close;
	xl.call2 = xencall2;
	xl.alloc_buffer = xencall_alloc_buffer;
	xl.free_buffer = xencall_free_buffer;
}

#else /* !EVTCHNX_XEN_DIRECT */

/* Loaded once, never unloaded (handles of other threads may use them). */
static void *xl_sym(void *lib, const char *libname, const char *name)
{
	void *p = dlsym(lib, name);

	if (!p && !xl.err) {
		xl.err = ENODEV;
		snprintf(xl.why, sizeof(xl.why), "%s has no symbol %s",
			 libname, name);
	}
	return p;
}

static void xl_load(void)
{
	static const char evtchn_name[] = "libxenevtchn.so.1";
	static const char call_name[] = "libxencall.so.1";
	void *le, *lc;

	le = dlopen(evtchn_name, RTLD_NOW | RTLD_LOCAL);
	if (!le) {
		xl.err = ENODEV;
		snprintf(xl.why, sizeof(xl.why),
			 "cannot load %s (Debian package libxenevtchn1): %s",
			 evtchn_name, dlerror());
		return;
	}
	lc = dlopen(call_name, RTLD_NOW | RTLD_LOCAL);
	if (!lc) {
		xl.err = ENODEV;
		snprintf(xl.why, sizeof(xl.why),
			 "cannot load %s (Debian package libxencall1): %s",
			 call_name, dlerror());
		dlclose(le);
		return;
	}
	xl.evtchn_open = xl_sym(le, evtchn_name, "xenevtchn_open");
	xl.evtchn_close = xl_sym(le, evtchn_name, "xenevtchn_close");
	xl.evtchn_fd = xl_sym(le, evtchn_name, "xenevtchn_fd");
	xl.notify = xl_sym(le, evtchn_name, "xenevtchn_notify");
	xl.bind_unbound_port =
		xl_sym(le, evtchn_name, "xenevtchn_bind_unbound_port");
	xl.bind_interdomain =
		xl_sym(le, evtchn_name, "xenevtchn_bind_interdomain");
	xl.bind_virq = xl_sym(le, evtchn_name, "xenevtchn_bind_virq");
	xl.unbind = xl_sym(le, evtchn_name, "xenevtchn_unbind");
	xl.pending = xl_sym(le, evtchn_name, "xenevtchn_pending");
	xl.unmask = xl_sym(le, evtchn_name, "xenevtchn_unmask");
	xl.restrict_domid = xl_sym(le, evtchn_name, "xenevtchn_restrict");
	xl.call_open = xl_sym(lc, call_name, "xencall_open");
	xl.call_close = xl_sym(lc, call_name, "xencall_close");
	xl.call2 = xl_sym(lc, call_name, "xencall2");
	xl.alloc_buffer = xl_sym(lc, call_name, "xencall_alloc_buffer");
	xl.free_buffer = xl_sym(lc, call_name, "xencall_free_buffer");
}

#endif /* EVTCHNX_XEN_DIRECT */

/* ---- a logger that keeps the Xen libraries quiet ------------------------- */

static void quiet_vmessage(struct xentoollog_logger *logger, int level,
			   int errnoval, const char *context,
			   const char *format, va_list al)
{
	(void)logger;
	(void)level;
	if (!xen_debug())
		return;
	fprintf(stderr, "evtchnx: xen: %s: ", context ? context : "xen");
	vfprintf(stderr, format, al);
	if (errnoval >= 0)
		fprintf(stderr, ": %s", strerror(errnoval));
	fputc('\n', stderr);
}

static void quiet_progress(struct xentoollog_logger *logger,
			   const char *context, const char *doing_what,
			   int percent, unsigned long done,
			   unsigned long total)
{
	(void)logger;
	(void)context;
	(void)doing_what;
	(void)percent;
	(void)done;
	(void)total;
}

static void quiet_destroy(struct xentoollog_logger *logger)
{
	(void)logger;
}

static struct xentoollog_logger quiet_logger = {
	.vmessage = quiet_vmessage,
	.progress = quiet_progress,
	.destroy = quiet_destroy,
};

/* ---- the handle's state ---------------------------------------------------- */

struct xen_priv {
	xenevtchn_handle *xce;
	xencall_handle *xcall;
	void *hbuf;          /* hypercall argument buffer (xencall) */
	int devfd;           /* /dev/xen/evtchn, non-blocking */
	int ep;              /* evtchnx_fd(): devfd and own_wake */
	int own_wake;        /* written while the queue holds ports */
	bool own_armed;      /* own_wake written, not collected yet */
	uint32_t domid;
	uint32_t restrict_to; /* 0: not restricted */

	uint8_t *flags;      /* P_* per port, @cap entries */
	uint32_t cap;

	uint32_t *q;         /* ring of queued ports */
	uint32_t qcap, qhead, qlen;
};

/* -1 + errno (or a NULL handle) from a Xen library into -errno. */
static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static int grow_table(struct xen_priv *x, uint32_t port)
{
	uint32_t cap = x->cap ? x->cap : 64;
	uint8_t *f;

	if (port < x->cap)
		return 0;
	while (cap <= port)
		cap *= 2;
	f = realloc(x->flags, cap);
	if (!f)
		return -ENOMEM;
	memset(f + x->cap, 0, cap - x->cap);
	x->flags = f;
	x->cap = cap;
	return 0;
}

static uint8_t port_flags(const struct xen_priv *x, uint32_t port)
{
	return port < x->cap ? x->flags[port] : 0;
}

static void set_flags(struct xen_priv *x, uint32_t port, uint8_t f)
{
	x->flags[port] = (uint8_t)(x->flags[port] | f);
}

static void clear_flags(struct xen_priv *x, uint32_t port, uint8_t f)
{
	x->flags[port] = (uint8_t)(x->flags[port] & ~f);
}

/* The evtchnx rule for an own-port operation. */
static int check_own(const struct xen_priv *x, uint32_t port)
{
	if (port == 0 || port >= XEN_PORT_LIMIT)
		return -EINVAL;
	if (!(port_flags(x, port) & P_OWNED))
		return -ENOTCONN;
	return 0;
}

/* ---- the queue ------------------------------------------------------------ */

/* The queue holds each port at most once, so it never needs more room than
 * the table has ports. */
static int enqueue(struct xen_priv *x, uint32_t port)
{
	if (x->qlen == x->qcap) {
		uint32_t ncap = x->qcap ? x->qcap * 2 : 64, i;
		uint32_t *nq = malloc(ncap * sizeof(*nq));

		if (!nq)
			return -ENOMEM;
		for (i = 0; i < x->qlen; i++)
			nq[i] = x->q[(x->qhead + i) % x->qcap];
		free(x->q);
		x->q = nq;
		x->qcap = ncap;
		x->qhead = 0;
	}
	x->q[(x->qhead + x->qlen) % x->qcap] = port;
	x->qlen++;
	set_flags(x, port, P_QUEUED);
	clear_flags(x, port, P_BOUND);
	return 0;
}

static uint32_t dequeue(struct xen_priv *x)
{
	uint32_t port = x->q[x->qhead];

	x->qhead = (x->qhead + 1) % x->qcap;
	x->qlen--;
	clear_flags(x, port, P_QUEUED);
	return port;
}

/* Remove @port from the middle of the queue (unbind). */
static void queue_remove(struct xen_priv *x, uint32_t port)
{
	uint32_t i, j, n = x->qlen;

	for (i = 0, j = 0; i < n; i++) {
		uint32_t p = x->q[(x->qhead + i) % x->qcap];

		if (p != port)
			x->q[(x->qhead + j++) % x->qcap] = p;
	}
	x->qlen = j;
	clear_flags(x, port, P_QUEUED);
}

/* A port that came out of the kernel ring: deliverable unless it is no
 * longer ours, or already queued (an overflow queued it: this is the same
 * event).  A port the caller holds taken is never in the ring, since the
 * kernel masked it when it queued it, except after an overflow queued it
 * spuriously: then this is a new event, and it is delivered. */
static bool fresh(const struct xen_priv *x, uint32_t port)
{
	return (port_flags(x, port) & (P_OWNED | P_QUEUED)) == P_OWNED;
}

/* Hand a port to the caller: it stays masked until unmask(). */
static uint32_t take(struct xen_priv *x, uint32_t port)
{
	set_flags(x, port, P_TAKEN);
	clear_flags(x, port, P_BOUND);
	return port;
}

/* The ring overflowed: its content is lost and those ports stay masked in
 * the kernel.  Empty it and deliver every owned port that is not taken
 * (spurious deliveries are allowed, lost ones are not). */
static int recover_overflow(struct xen_priv *x)
{
	uint32_t p;
	int ret;

	dbg("event ring overflow, resetting it");
	if (ioctl(x->devfd, XEN_IOCTL_EVTCHN_RESET, 0) < 0)
		return neg_errno();
	for (p = 1; p < x->cap; p++) {
		if ((port_flags(x, p) & (P_OWNED | P_QUEUED | P_TAKEN)) ==
		    P_OWNED) {
			ret = enqueue(x, p);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* Read up to @max ports from the ring.  Returns how many (0: empty). */
static int read_ring(struct xen_priv *x, uint32_t *buf, size_t max)
{
	ssize_t r;
	int ret;

	for (;;) {
		if (max == 1) {
			/* The common case, through libxenevtchn. */
			ret = xl.pending(x->xce);
			r = ret < 0 ? -1 : (ssize_t)sizeof(buf[0]);
			if (ret >= 0)
				buf[0] = (uint32_t)ret;
		} else {
			r = read(x->devfd, buf, max * sizeof(buf[0]));
		}
		if (r >= 0)
			return (int)(r / (ssize_t)sizeof(buf[0]));
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		if (errno == EFBIG) {
			ret = recover_overflow(x);
			if (ret < 0)
				return ret;
			continue;
		}
		return neg_errno();
	}
}

/* Move everything the kernel ring holds into the queue. */
static int drain(struct xen_priv *x)
{
	uint32_t buf[DRAIN_CHUNK];
	int n, i, ret;

	do {
		n = read_ring(x, buf, DRAIN_CHUNK);
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			if (fresh(x, buf[i])) {
				ret = enqueue(x, buf[i]);
				if (ret < 0)
					return ret;
			}
		}
	} while (n == DRAIN_CHUNK);
	return 0;
}

/* ---- hypercalls through libxencall ------------------------------------------- */

static int evtchn_op(struct xen_priv *x, unsigned int cmd, const void *arg,
		     size_t len)
{
	int ret;

	memcpy(x->hbuf, arg, len);
	ret = xl.call2(x->xcall, XEN_HYPERCALL_EVENT_CHANNEL_OP, cmd,
		       (uint64_t)(uintptr_t)x->hbuf);
	return ret < 0 ? neg_errno() : ret;
}

static int hc_status(struct xen_priv *x, uint32_t dom, uint32_t port,
		     struct xen_evtchn_status *out)
{
	struct xen_evtchn_status st = { .dom = (uint16_t)dom, .port = port };
	int ret;

	ret = evtchn_op(x, XEN_EVTCHNOP_status, &st, sizeof(st));
	if (ret < 0)
		return ret;
	memcpy(out, x->hbuf, sizeof(*out));
	return 0;
}

/* Our own domid: Xen records DOMID_SELF as the caller's id when it allocates
 * an unbound port, and status reports it.  The port is bound in this file
 * for that moment only and never fires (an unbound port receives nothing),
 * so nothing of it is left in the ring. */
static int learn_domid(struct xen_priv *x)
{
	struct xen_evtchn_status st;
	int port, ret;

	port = xl.bind_unbound_port(x->xce, EVTCHNX_DOMID_SELF);
	if (port < 0)
		return neg_errno();
	ret = hc_status(x, EVTCHNX_DOMID_SELF, (uint32_t)port, &st);
	xl.unbind(x->xce, (uint32_t)port);
	if (ret < 0)
		return ret;
	if (st.status != EVTCHNX_STATE_UNBOUND)
		return -EIO;
	return st.u.unbound.dom;
}

/* ---- open / close ----------------------------------------------------------------- */

/* @inherited: in a child after fork(), where libxencall's buffers are not
 * mapped (they are MADV_DONTFORK): leave them alone. */
static void priv_free(struct xen_priv *x, bool inherited)
{
	if (x->hbuf && !inherited)
		xl.free_buffer(x->xcall, x->hbuf);
	if (x->xcall)
		xl.call_close(x->xcall);
	if (x->xce)
		xl.evtchn_close(x->xce);
	if (x->own_wake >= 0)
		close(x->own_wake);
	if (x->ep >= 0)
		close(x->ep);
	free(x->flags);
	free(x->q);
	free(x);
}

#define WAKE_DEVICE 0u
#define WAKE_OWN 1u

/* The epoll set evtchnx_fd() returns. */
static int make_epoll_set(struct xen_priv *x)
{
	struct epoll_event dev = { .events = EPOLLIN, .data.u64 = WAKE_DEVICE };
	struct epoll_event own = { .events = EPOLLIN | EPOLLET, .data.u64 = WAKE_OWN };

	x->ep = epoll_create1(EPOLL_CLOEXEC);
	x->own_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x->ep < 0 || x->own_wake < 0 ||
	    epoll_ctl(x->ep, EPOLL_CTL_ADD, x->devfd, &dev) < 0 ||
	    epoll_ctl(x->ep, EPOLL_CTL_ADD, x->own_wake, &own) < 0)
		return -errno;
	return 0;
}

/* Keep the fd readable while the queue holds ports, and quiet once it is
 * empty.  Called at the end of every call that can change the queue. */
static void wake_for_queue(struct xen_priv *x)
{
	struct epoll_event evs[2];

	if (x->qlen) {
		if (!x->own_armed && eventfd_write(x->own_wake, 1) == 0)
			x->own_armed = true;
		return;
	}
	if (!x->own_armed)
		return;
	for (int i = epoll_wait(x->ep, evs, 2, 0) - 1; i >= 0; i--)
		if (evs[i].data.u64 == WAKE_OWN)
			x->own_armed = false;
}

static int xen_open(struct evtchnx_handle *h, const char *arg,
		    const struct evtchnx_open_opts *opts)
{
	struct xen_priv *x;
	int ret, fl;

	(void)arg;
	(void)opts;
	if (access("/dev/xen/evtchn", F_OK) != 0) {
		dbg("no /dev/xen/evtchn: not running on Xen, or the xen-evtchn "
		    "module is not loaded");
		return -ENODEV;
	}
	pthread_once(&xl_once, xl_load);
	if (xl.err) {
		dbg("%s", xl.why);
		return -xl.err;
	}

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->ep = x->own_wake = -1;

	x->xce = xl.evtchn_open(&quiet_logger, 0);
	if (!x->xce) {
		ret = neg_errno();
		dbg("xenevtchn_open: %s", strerror(-ret));
		goto fail;
	}
	x->xcall = xl.call_open(&quiet_logger, 0);
	if (!x->xcall) {
		ret = neg_errno();
		dbg("xencall_open (needs /dev/xen/privcmd, module xen-privcmd): %s",
		    strerror(-ret));
		goto fail;
	}
	x->hbuf = xl.alloc_buffer(x->xcall, sizeof(struct xen_evtchn_status));
	if (!x->hbuf) {
		ret = -ENOMEM;
		goto fail;
	}

	x->devfd = xl.evtchn_fd(x->xce);
	fl = fcntl(x->devfd, F_GETFL);
	if (fl < 0 || fcntl(x->devfd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = neg_errno();
		goto fail;
	}

	ret = make_epoll_set(x);
	if (ret < 0)
		goto fail;
	ret = learn_domid(x);
	if (ret < 0) {
		dbg("cannot learn the domain id: %s", strerror(-ret));
		goto fail;
	}
	x->domid = (uint32_t)ret;

	h->priv = x;
	h->fd = x->ep;
	h->domid = x->domid;
	return 0;

fail:
	priv_free(x, false);
	return ret == -ENOENT ? -ENODEV : ret;
}

/* Closing the device file closes every port it bound.  In a child after
 * fork() this only drops the child's references: the parent's file lives
 * on with its ports. */
static void xen_close(struct evtchnx_handle *h, bool inherited)
{
	if (h->priv)
		priv_free(h->priv, inherited);
	h->priv = NULL;
}

/* ---- ports ------------------------------------------------------------------------ */

static bool is_self(const struct xen_priv *x, uint32_t dom)
{
	return dom == EVTCHNX_DOMID_SELF || dom == x->domid;
}

/* Record a port the kernel just bound to this handle. */
static int own(struct xen_priv *x, int port, uint8_t kind)
{
	int ret;

	if (port < 0)
		return port;
	ret = grow_table(x, (uint32_t)port);
	if (ret < 0) {
		xl.unbind(x->xce, (uint32_t)port);
		return ret;
	}
	x->flags[port] = (uint8_t)(P_OWNED | kind);
	return port;
}

static int xen_alloc_unbound(struct evtchnx_handle *h, uint32_t dom,
			     uint32_t remote_dom)
{
	struct xen_priv *x = h->priv;
	struct xen_evtchn_alloc_unbound au = {
		.dom = (uint16_t)dom,
		.remote_dom = (uint16_t)remote_dom,
	};
	int ret;

	if (x->restrict_to)
		return -EACCES;
	if (is_self(x, dom)) {
		ret = xl.bind_unbound_port(x->xce, remote_dom);
		return own(x, ret < 0 ? neg_errno() : ret, 0);
	}
	/* On behalf of another domain: the port belongs to no handle here. */
	ret = evtchn_op(x, XEN_EVTCHNOP_alloc_unbound, &au, sizeof(au));
	if (ret < 0)
		return ret;
	memcpy(&au, x->hbuf, sizeof(au));
	return (int)au.port;
}

/* Xen leaves a newly bound interdomain port pending.  The kernel reports
 * that event through the ring like any other, once its upcall has run
 * (maybe on another vCPU): until it is read, is_pending() answers 1 from
 * P_BOUND, and pending() returns the port when the report comes. */
static int xen_bind_interdomain(struct evtchnx_handle *h, uint32_t remote_dom,
				uint32_t remote_port)
{
	struct xen_priv *x = h->priv;
	int ret;

	ret = xl.bind_interdomain(x->xce, remote_dom, remote_port);
	return own(x, ret < 0 ? neg_errno() : ret, P_BOUND);
}

static int xen_bind_virq(struct evtchnx_handle *h, uint32_t virq)
{
	struct xen_priv *x = h->priv;
	int ret;

	ret = xl.bind_virq(x->xce, virq);
	return own(x, ret < 0 ? neg_errno() : ret, P_VIRQ);
}

static int xen_send(struct evtchnx_handle *h, uint32_t port)
{
	struct xen_priv *x = h->priv;
	int ret = check_own(x, port);

	if (ret < 0)
		return ret;
	/* Linux's notify ioctl drops the hypervisor's answer; Xen refuses to
	 * send on a VIRQ port. */
	if (x->flags[port] & P_VIRQ)
		return -EINVAL;
	return xl.notify(x->xce, port) < 0 ? neg_errno() : 0;
}

static int xen_unbind(struct evtchnx_handle *h, uint32_t port)
{
	struct xen_priv *x = h->priv;
	uint8_t f;
	int ret = check_own(x, port);

	if (ret < 0)
		return ret;
	if (xl.unbind(x->xce, port) < 0)
		return neg_errno();
	f = x->flags[port];
	if (f & P_QUEUED)
		queue_remove(x, port);
	x->flags[port] = 0;
	/* The kernel leaves the port in the ring if it fired before the
	 * unbind, and a port bound later with the same number would inherit
	 * that event: read it out now.  A taken port is not in the ring (the
	 * kernel masked it), nor is a queued one.  A drain failure leaves a
	 * stale entry that pending() skips while the number is free. */
	if (!(f & (P_TAKEN | P_QUEUED)))
		drain(x);
	wake_for_queue(x);
	return 0;
}

static int xen_status(struct evtchnx_handle *h, uint32_t dom, uint32_t port,
		      struct evtchnx_status *st)
{
	struct xen_priv *x = h->priv;
	struct xen_evtchn_status xs;
	int ret;

	ret = hc_status(x, dom, port, &xs);
	if (ret < 0)
		return ret;
	st->state = xs.status;
	st->vcpu = xs.vcpu;
	st->remote_domid = 0;
	st->remote_port = 0;
	st->virq = 0;
	switch (xs.status) {
	case EVTCHNX_STATE_UNBOUND:
		st->remote_domid = xs.u.unbound.dom;
		break;
	case EVTCHNX_STATE_INTERDOMAIN:
		st->remote_domid = xs.u.interdomain.dom;
		st->remote_port = xs.u.interdomain.port;
		break;
	case EVTCHNX_STATE_VIRQ:
		st->virq = xs.u.virq;
		break;
	default:
		break;
	}
	return 0;
}

static int xen_reset(struct evtchnx_handle *h, uint32_t dom)
{
	struct xen_priv *x = h->priv;
	struct xen_evtchn_reset rs = { .dom = (uint16_t)dom };

	/* Resetting one's own domain would close the running kernel's own
	 * channels (timers, IPIs, console, xenstore) too: never from here. */
	if (is_self(x, dom))
		return -EOPNOTSUPP;
	return evtchn_op(x, XEN_EVTCHNOP_reset, &rs, sizeof(rs));
}

static int xen_restrict(struct evtchnx_handle *h, uint32_t domid)
{
	struct xen_priv *x = h->priv;

	if (xl.restrict_domid(x->xce, (uint16_t)domid) < 0)
		return neg_errno();
	x->restrict_to = domid;
	return 0;
}

/* ---- delivery ---------------------------------------------------------------------- */

/* Queued ports first: they were read from the device before anything that
 * is in it now. */
static unsigned int take_queued(struct xen_priv *x, uint32_t *ports,
				unsigned int n, unsigned int max)
{
	while (n < max && x->qlen)
		ports[n++] = take(x, dequeue(x));
	return n;
}

static int xen_pending(struct evtchnx_handle *h, uint32_t *ports,
		       unsigned int max)
{
	struct xen_priv *x = h->priv;
	uint32_t buf[DRAIN_CHUNK];
	unsigned int n = take_queued(x, ports, 0, max);
	int r, i;

	while (n < max) {
		unsigned int want = max - n;

		r = read_ring(x, buf, want > DRAIN_CHUNK ? DRAIN_CHUNK : want);
		if (r < 0) {
			if (!n) {
				wake_for_queue(x);
				return r;
			}
			break;
		}
		if (r == 0)
			break;
		for (i = 0; i < r; i++) {
			if (fresh(x, buf[i]))
				ports[n++] = take(x, buf[i]);
		}
		/* After an overflow the ports are in the queue. */
		n = take_queued(x, ports, n, max);
	}
	wake_for_queue(x);
	return (int)n;
}

/* One port if the device or our queue has one: 1, 0 (none) or -errno. */
static int take_one(struct evtchnx_handle *h, uint32_t *port)
{
	int r = xen_pending(h, port, 1);

	return r == -EAGAIN ? 0 : r;
}

/*
 * evtchnx_wait(): a port queued here is handed out at once; otherwise the
 * handle sleeps in poll() on its epoll set (the lock released) and reads
 * the device once it is readable, which makes the same system calls as
 * poll() + evtchnx_pending() and not one more.  With busy_poll_ns it first
 * reads the device in a loop, without sleeping.
 */
static int xen_wait(struct evtchnx_handle *h, int timeout_ms)
{
	struct xen_priv *x = h->priv;
	int64_t deadline = timeout_ms > 0 ? evtchnx_now_ms() + timeout_ms : 0;
	bool spun = !h->busy_poll_ns || timeout_ms == 0;
	uint32_t port;
	int r;

	if (take_queued(x, &port, 0, 1)) {
		wake_for_queue(x);
		return (int)port;
	}
	if (timeout_ms == 0) {
		r = take_one(h, &port);
		return r > 0 ? (int)port : r ? r : -ETIMEDOUT;
	}
	for (;;) {
		struct pollfd pfd = { .fd = x->ep, .events = POLLIN };
		int wait_ms = -1, n, err;

		if (!spun) {
			int64_t until = evtchnx_now_ns() + (int64_t)h->busy_poll_ns;

			spun = true;
			if (deadline && until > deadline * 1000000)
				until = deadline * 1000000;
			do {
				r = take_one(h, &port);
				if (r)
					return r > 0 ? (int)port : r;
				evtchnx_core_release(h);
				evtchnx_core_reacquire(h);
			} while (evtchnx_now_ns() < until);
		}
		if (timeout_ms > 0) {
			int64_t left = deadline - evtchnx_now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			wait_ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		evtchnx_core_release(h);
		n = poll(&pfd, 1, wait_ms);
		err = errno;
		evtchnx_core_reacquire(h);
		if (n < 0)
			return err == EINTR ? -EINTR : -err;
		r = take_one(h, &port);
		if (r)
			return r > 0 ? (int)port : r;
	}
}

static int xen_unmask(struct evtchnx_handle *h, uint32_t port)
{
	struct xen_priv *x = h->priv;
	int ret = check_own(x, port);

	if (ret < 0)
		return ret;
	/* Only a taken port is masked in the kernel; a queued one is
	 * deliverable already and an armed one needs nothing. */
	if (!(x->flags[port] & P_TAKEN))
		return 0;
	if (xl.unmask(x->xce, port) < 0)
		return neg_errno();
	clear_flags(x, port, P_TAKEN);
	return 0;
}

static int xen_is_pending(struct evtchnx_handle *h, uint32_t port)
{
	struct xen_priv *x = h->priv;
	int ret = check_own(x, port);

	if (ret < 0)
		return ret;
	/* A taken port is masked in the kernel, which hides whether an event
	 * latched since (docs/xen.md): 0 until it is unmasked. */
	if (x->flags[port] & P_TAKEN)
		return 0;
	if (x->flags[port] & (P_QUEUED | P_BOUND))
		return 1;
	ret = drain(x);
	wake_for_queue(x);
	if (ret < 0)
		return ret;
	return (x->flags[port] & P_QUEUED) ? 1 : 0;
}

const struct evtchnx_backend_ops evtchnx_xen_ops = {
	.name = "xen",
	.open = xen_open,
	.close = xen_close,
	.alloc_unbound = xen_alloc_unbound,
	.bind_interdomain = xen_bind_interdomain,
	.bind_virq = xen_bind_virq,
	.adopt = NULL, /* -EOPNOTSUPP: see docs/xen.md */
	.send = xen_send,
	.unbind = xen_unbind,
	.status = xen_status,
	.reset = xen_reset,
	.restrict_domid = xen_restrict,
	.pending = xen_pending,
	.unmask = xen_unmask,
	.is_pending = xen_is_pending,
	.wait = xen_wait,
};

#else /* EVTCHNX_WITH_XEN == 0 */

static int xen_open(struct evtchnx_handle *h, const char *arg,
		    const struct evtchnx_open_opts *opts)
{
	(void)h;
	(void)arg;
	(void)opts;
	return -ENOSYS;
}

static void xen_close(struct evtchnx_handle *h, bool inherited)
{
	(void)h;
	(void)inherited;
}

const struct evtchnx_backend_ops evtchnx_xen_ops = {
	.name = "xen",
	.open = xen_open,
	.close = xen_close,
};

#endif /* EVTCHNX_WITH_XEN */
