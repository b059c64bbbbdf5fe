/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xenevtchn.c - libxenevtchn.so.1 over the public evtchnx API, so that a
 * program built against Xen's libxenevtchn runs, unmodified, on a sim lab.
 *
 * Which lab and which domain a handle joins comes from the environment
 * (`evtchnx run` sets both):
 *
 *   EVTCHNX_TARGET  "sim" or "sim:NAME" (unset or empty: "sim", a lab
 *                   private to the process);
 *   EVTCHNX_DOMID   the domain to join as, 0..32751 (unset or empty: 0,
 *                   the control domain, as a program in dom0).
 *
 * Every call keeps libxenevtchn's conventions: -1 (or NULL) with errno set,
 * and ports as xenevtchn_port_or_error_t.  Where Linux's /dev/xen/evtchn
 * and the sim cannot agree (reading the fd directly, xenevtchn_fdopen()),
 * docs/xen-programs.md says what happens.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "evtchnx.h"

/*
 * The API as libxenevtchn declares it.  Where Xen's own header is
 * installed, it is included as well, so that the compiler checks every
 * definition below against Xen's prototypes.
 */
#ifdef EVTCHNX_HAVE_XENEVTCHN_H
#include <xenevtchn.h>
#endif

typedef uint32_t evtchn_port_t;
typedef uint16_t domid_t;
typedef int xenevtchn_port_or_error_t;
typedef struct xenevtchn_handle xenevtchn_handle;
struct xentoollog_logger;

#ifndef XENEVTCHN_NO_CLOEXEC
#define XENEVTCHN_NO_CLOEXEC (1 << 0)
#endif

#define XC_API __attribute__((visibility("default")))

/* Ports per domain as a Linux dom0 sees them (the FIFO ABI): the limit
 * below which Linux's evtchn device answers -ENOTCONN, not -EINVAL. */
#define LINUX_PORT_LIMIT 131072u

XC_API xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
					unsigned int flags);
XC_API xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger,
					  int fd, unsigned open_flags);
XC_API int xenevtchn_close(xenevtchn_handle *xce);
XC_API int xenevtchn_fd(xenevtchn_handle *xce);
XC_API int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port);
XC_API xenevtchn_port_or_error_t
xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid);
XC_API xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
			   evtchn_port_t remote_port);
XC_API xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq);
XC_API int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port);
XC_API xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce);
XC_API int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port);
XC_API int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid);

/*
 * A handle: the evtchnx handle, and the descriptor the program is given.
 *
 * That descriptor is an epoll instance watching the evtchnx fd, not the
 * evtchnx fd itself, for two reasons.  Linux's evtchn device is a blocking
 * file, and a program that never set O_NONBLOCK on it expects
 * xenevtchn_pending() to wait for an event; the evtchnx fd is always
 * non-blocking, so the flag the program may set has to live on a file of
 * our own.  And whatever the program does with the descriptor (reads it,
 * changes its flags) cannot disturb the handle underneath.
 */
struct xenevtchn_handle {
	struct evtchnx_handle *h;
	int fd;
};

/* -1 with errno from a negative evtchnx result. */
static int fail(int err)
{
	errno = -err;
	return -1;
}

static int result(int r)
{
	return r < 0 ? fail(r) : r;
}

/* The target from $EVTCHNX_TARGET: only the sim; NULL when it names
 * something else (this library must not stand in for itself on Xen). */
static const char *pick_target(void)
{
	const char *t = getenv("EVTCHNX_TARGET");

	if (!t || !*t)
		return "sim";
	if (!strcmp(t, "sim") || !strncmp(t, "sim:", 4))
		return t;
	return NULL;
}

/* The domid from $EVTCHNX_DOMID.  Returns 0 or -EINVAL. */
static int pick_domid(uint32_t *domid)
{
	const char *s = getenv("EVTCHNX_DOMID");
	unsigned long v;
	char *end;

	*domid = 0;
	if (!s || !*s)
		return 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= EVTCHNX_DOMID_FIRST_RESERVED)
		return -EINVAL;
	*domid = (uint32_t)v;
	return 0;
}

XC_API xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
					unsigned int flags)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o) };
	struct epoll_event ev = { .events = EPOLLIN };
	xenevtchn_handle *xce;
	const char *target;
	int err;

	(void)logger; /* the sim has nothing to log */
	target = pick_target();
	if (!target) {
		fprintf(stderr, "libxenevtchn (evtchnx): EVTCHNX_TARGET=%s: this "
			"library runs programs on the sim only (sim or sim:NAME)\n",
			getenv("EVTCHNX_TARGET"));
		errno = ENODEV;
		return NULL;
	}
	err = pick_domid(&o.domid);
	if (err) {
		fprintf(stderr, "libxenevtchn (evtchnx): EVTCHNX_DOMID=%s: not a "
			"domain id (0..%u)\n", getenv("EVTCHNX_DOMID"),
			EVTCHNX_DOMID_FIRST_RESERVED - 1);
		errno = -err;
		return NULL;
	}

	xce = calloc(1, sizeof(*xce));
	if (!xce)
		return NULL;
	xce->fd = epoll_create1(flags & XENEVTCHN_NO_CLOEXEC ? 0 : EPOLL_CLOEXEC);
	if (xce->fd < 0)
		goto err_free;
	xce->h = evtchnx_open(target, &o);
	if (!xce->h)
		goto err_close;
	ev.data.fd = evtchnx_fd(xce->h);
	if (epoll_ctl(xce->fd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
		goto err_evtchnx;
	return xce;

err_evtchnx:
	evtchnx_close(xce->h); /* keeps errno */
err_close:
	err = errno;
	close(xce->fd);
	errno = err;
err_free:
	free(xce);
	return NULL;
}

/*
 * A sim handle cannot be rebuilt from a descriptor: its state lives in the
 * process and in the lab, and the lab drops the handle when the process
 * that held it execs.  The flag check comes first, as in libxenevtchn.
 */
XC_API xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger,
					  int fd, unsigned open_flags)
{
	(void)logger;
	(void)fd;
	errno = open_flags & XENEVTCHN_NO_CLOEXEC ? EINVAL : EOPNOTSUPP;
	return NULL;
}

XC_API int xenevtchn_close(xenevtchn_handle *xce)
{
	int r = 0;

	if (!xce)
		return 0;
	evtchnx_close(xce->h);
	if (close(xce->fd) < 0)
		r = -1;
	free(xce);
	return r;
}

XC_API int xenevtchn_fd(xenevtchn_handle *xce)
{
	if (!xce) {
		errno = EINVAL;
		return -1;
	}
	return xce->fd;
}

/*
 * Linux answers a notify of any port the file does not own, 0 and huge
 * ones included, with ENOTCONN, and one of its own ports with 0 even where
 * the hypercall refuses the send (a VIRQ port): evtchnx says -EINVAL for
 * both, told apart here by whether the handle owns the port.
 */
XC_API int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	int r;

	if (!xce)
		return fail(-EINVAL);
	r = evtchnx_send(xce->h, port);
	if (r == -EINVAL)
		return evtchnx_is_pending(xce->h, port) >= 0 ? 0 : fail(-ENOTCONN);
	return result(r);
}

XC_API xenevtchn_port_or_error_t
xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
	if (!xce)
		return fail(-EINVAL);
	return result(evtchnx_alloc_unbound(xce->h, EVTCHNX_DOMID_SELF, domid));
}

XC_API xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
			   evtchn_port_t remote_port)
{
	if (!xce)
		return fail(-EINVAL);
	return result(evtchnx_bind_interdomain(xce->h, domid, remote_port));
}

XC_API xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	if (!xce)
		return fail(-EINVAL);
	return result(evtchnx_bind_virq(xce->h, virq));
}

/* Linux: -EINVAL only at or beyond the port limit, -ENOTCONN for any other
 * port the file does not own (port 0 too). */
XC_API int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	int r;

	if (!xce)
		return fail(-EINVAL);
	r = evtchnx_unbind(xce->h, port);
	if (r == -EINVAL && port < LINUX_PORT_LIMIT)
		return fail(-ENOTCONN);
	return result(r);
}

/*
 * As a read() of one port from the evtchn device: with nothing pending,
 * -1/EAGAIN once the program has made the descriptor non-blocking, else
 * wait for the next event.
 */
XC_API xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	int r, fl;

	if (!xce)
		return fail(-EINVAL);
	r = evtchnx_pending(xce->h);
	if (r != -EAGAIN)
		return result(r);
	fl = fcntl(xce->fd, F_GETFL);
	if (fl < 0)
		return -1;
	if (fl & O_NONBLOCK)
		return fail(-EAGAIN);
	return result(evtchnx_wait(xce->h, -1));
}

/*
 * Linux unmasks by writing the port to the device, which skips a port the
 * file does not own or that is out of range without an error: so does
 * this.
 */
XC_API int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	int r;

	if (!xce)
		return fail(-EINVAL);
	r = evtchnx_unmask(xce->h, port);
	if (r == -EINVAL || r == -ENOTCONN)
		return 0;
	return result(r);
}

XC_API int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	if (!xce)
		return fail(-EINVAL);
	return result(evtchnx_restrict(xce->h, domid));
}
