/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * backend.h - the seam between the core (argument checks, locking, errno)
 * and a backend (sim, xen).  The core never knows which backend it calls.
 *
 * The core guarantees, before calling any op:
 *   - h is a live handle of this process (not inherited across fork);
 *   - no other call on h runs at the same time: h->lock is held, or the
 *     caller promised one thread (EVTCHNX_OPEN_SINGLE_THREAD); ops need no
 *     locking of their own;
 *   - every domid argument is <= 0xFFFF (others were rejected with -EINVAL);
 *   - ports/st pointers are non-NULL, max >= 1.
 * Every op returns >= 0 or a negative errno; the core sets errno.
 * An op left NULL makes the call return -EOPNOTSUPP.
 */
#ifndef EVTCHNX_BACKEND_H
#define EVTCHNX_BACKEND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "evtchnx.h"

struct evtchnx_backend_ops {
	const char *name; /* "sim" or "xen" */

	/* @arg: for "sim:NAME" the NAME, for "sim" NULL.  @opts is complete
	 * (sz == sizeof, defaults filled in).  Must set h->fd, h->domid and
	 * h->priv on success. */
	int (*open)(struct evtchnx_handle *h, const char *arg,
		    const struct evtchnx_open_opts *opts);
	/* @inherited: true in a child after fork(): release this process's
	 * copy of the resources only, never the parent's ports. */
	void (*close)(struct evtchnx_handle *h, bool inherited);

	int (*alloc_unbound)(struct evtchnx_handle *h, uint32_t dom,
			     uint32_t remote_dom);
	int (*bind_interdomain)(struct evtchnx_handle *h, uint32_t remote_dom,
				uint32_t remote_port);
	int (*bind_virq)(struct evtchnx_handle *h, uint32_t virq);
	int (*adopt)(struct evtchnx_handle *h, uint32_t port);
	int (*send)(struct evtchnx_handle *h, uint32_t port);
	int (*unbind)(struct evtchnx_handle *h, uint32_t port);
	/* @st is a full-size struct; the core copies st->sz bytes out. */
	int (*status)(struct evtchnx_handle *h, uint32_t dom, uint32_t port,
		      struct evtchnx_status *st);
	int (*reset)(struct evtchnx_handle *h, uint32_t dom);
	int (*restrict_domid)(struct evtchnx_handle *h, uint32_t domid);

	/* Take up to @max deliverable ports (each is masked as it is taken);
	 * returns how many (0: none).  Never sleeps or polls.  h->fd must be
	 * readable whenever a port is deliverable (it may be readable
	 * spuriously). */
	int (*pending)(struct evtchnx_handle *h, uint32_t *ports,
		       unsigned int max);
	int (*unmask)(struct evtchnx_handle *h, uint32_t port);
	int (*is_pending)(struct evtchnx_handle *h, uint32_t port);
	/* evtchnx_wait(): a port (taken and masked), -ETIMEDOUT or -EINTR.  It
	 * may release the lock around its sleep and spin
	 * (evtchnx_core_release/reacquire).  NULL: the core waits with
	 * poll() and pending(). */
	int (*wait)(struct evtchnx_handle *h, int timeout_ms);

	/* Batches, with the sendmmsg convention of include/evtchnx.h; @n >= 1.
	 * NULL: the core calls the single op n times under one lock. */
	int (*alloc_unbound_batch)(struct evtchnx_handle *h, uint32_t dom,
				   uint32_t remote_dom, uint32_t *ports,
				   unsigned int n);
	int (*bind_interdomain_batch)(struct evtchnx_handle *h,
				      uint32_t remote_dom,
				      const uint32_t *remote_ports,
				      uint32_t *ports, unsigned int n);
	int (*unbind_batch)(struct evtchnx_handle *h, const uint32_t *ports,
			    unsigned int n);
	int (*unmask_batch)(struct evtchnx_handle *h, const uint32_t *ports,
			    unsigned int n);
	/* @st: n elements of st[0].sz bytes. */
	int (*status_batch)(struct evtchnx_handle *h, uint32_t dom,
			    const uint32_t *ports, struct evtchnx_status *st,
			    unsigned int n);

	/* sim-only toolstack calls (NULL on xen). */
	int (*domain_create)(struct evtchnx_handle *h, uint32_t domid);
	int (*domain_destroy)(struct evtchnx_handle *h, uint32_t domid);
	/* @token has room for EVTCHNX_TOKEN_SIZE bytes. */
	int (*domain_grant)(struct evtchnx_handle *h, uint32_t domid, char *token);
	int (*raise_virq)(struct evtchnx_handle *h, uint32_t domid,
			  uint32_t virq);
};

struct evtchnx_handle {
	const struct evtchnx_backend_ops *ops;
	void *priv;            /* the backend's state */
	pthread_mutex_t lock;  /* held around every op, unless single_thread */
	bool single_thread;    /* EVTCHNX_OPEN_SINGLE_THREAD */
#ifndef NDEBUG
	_Atomic int in_call;   /* checks that calls never overlap */
#endif
	unsigned long fork_gen; /* the process's fork generation at open (core.c) */
	uint64_t busy_poll_ns; /* evtchnx_open_opts.busy_poll_ns */
	int fd;                /* what evtchnx_fd() returns */
	uint32_t domid;        /* what evtchnx_domid() returns */
};

extern const struct evtchnx_backend_ops evtchnx_sim_ops;
extern const struct evtchnx_backend_ops evtchnx_xen_ops;

/* For an op that sleeps or spins: let other threads call the handle
 * meanwhile (no-op for a single-thread handle), and take it back. */
void evtchnx_core_release(struct evtchnx_handle *h);
void evtchnx_core_reacquire(struct evtchnx_handle *h);

/* Fill a caller's evtchnx_status of @sz bytes (>= sizeof(size_t)) from
 * @full: sz set, the fields it has room for, a longer tail zeroed. */
void evtchnx_copy_status(void *dst, size_t sz, const struct evtchnx_status *full);

/* CLOCK_MONOTONIC in nanoseconds, for busy-poll budgets. */
static inline int64_t evtchnx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CLOCK_MONOTONIC in milliseconds, for timeouts. */
static inline int64_t evtchnx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* EVTCHNX_BACKEND_H */
