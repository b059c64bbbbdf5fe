/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * core.c - the public API: argument checks, target selection, locking,
 * the errno convention, and dispatch to a backend (backend.h).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "labdir.h"
#include "private_lab.h"

#define KNOWN_OPEN_FLAGS                                                       \
	(EVTCHNX_OPEN_NO_SPAWN | EVTCHNX_OPEN_SINGLE_THREAD | EVTCHNX_OPEN_STRICT)
#define DOMID_MAX 0xFFFFu
#define BUSY_POLL_MAX_NS 1000000000ull

/* ---- fork ------------------------------------------------------------- */

/* Bumped in every child: a handle opened under another generation was
 * inherited across fork(). */
static unsigned long fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void child_after_fork(void)
{
	fork_gen++;
	private_lab_child_after_fork();
}

static void register_atfork(void)
{
	pthread_atfork(private_lab_prepare_fork, private_lab_parent_after_fork,
		       child_after_fork);
}

/* ---- helpers ---------------------------------------------------------- */

static int fail(int err)
{
	if (err < 0)
		errno = -err;
	return err;
}

#ifndef NDEBUG
/* Debug builds check that calls on one handle never overlap: a breach of
 * EVTCHNX_OPEN_SINGLE_THREAD, or a bug. */
static void check_alone(struct evtchnx_handle *h, int delta)
{
	int was = atomic_fetch_add(&h->in_call, delta);

	if (delta > 0 ? was != 0 : was != 1)
		abort();
}
#else
static inline void check_alone(struct evtchnx_handle *h, int delta)
{
	(void)h;
	(void)delta;
}
#endif

/* Check @h and make the call exclusive.  Returns 0 or a negative errno. */
static inline int enter(struct evtchnx_handle *h)
{
	if (!h)
		return -EINVAL;
	if (h->fork_gen != fork_gen)
		return -EBADF;
	if (!h->single_thread)
		pthread_mutex_lock(&h->lock);
	check_alone(h, 1);
	return 0;
}

static inline int leave(struct evtchnx_handle *h, int r)
{
	check_alone(h, -1);
	if (!h->single_thread)
		pthread_mutex_unlock(&h->lock);
	return fail(r);
}

void evtchnx_core_release(struct evtchnx_handle *h)
{
	check_alone(h, -1);
	if (!h->single_thread)
		pthread_mutex_unlock(&h->lock);
}

void evtchnx_core_reacquire(struct evtchnx_handle *h)
{
	if (!h->single_thread)
		pthread_mutex_lock(&h->lock);
	check_alone(h, 1);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Copy caller options into a full-size struct (the libbpf sz technique). */
static int take_opts(const struct evtchnx_open_opts *in,
		     struct evtchnx_open_opts *out)
{
	memset(out, 0, sizeof(*out));
	if (in) {
		if (in->sz < sizeof(size_t))
			return -EINVAL;
		if (in->sz > sizeof(*out) &&
		    !all_zero((const char *)in + sizeof(*out), in->sz - sizeof(*out)))
			return -EINVAL; /* a newer caller asked for something we lack */
		memcpy(out, in, in->sz < sizeof(*out) ? in->sz : sizeof(*out));
	}
	out->sz = sizeof(*out);
	if (out->flags & ~KNOWN_OPEN_FLAGS)
		return -EINVAL;
	if (out->domid >= EVTCHNX_DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (out->busy_poll_ns > BUSY_POLL_MAX_NS)
		return -EINVAL;
	return 0;
}

/* Resolve @target into a backend and its argument (a lab name or NULL). */
static int pick_backend(const char *target,
			const struct evtchnx_backend_ops **ops,
			const char **arg)
{
	if (!target || !target[0]) {
		target = getenv("EVTCHNX_TARGET");
		if (!target || !target[0])
			target = access("/dev/xen/evtchn", F_OK) == 0 ? "xen" : "sim";
	}
	*arg = NULL;
	if (strcmp(target, "xen") == 0) {
		*ops = &evtchnx_xen_ops;
		return 0;
	}
	if (strcmp(target, "sim") == 0) {
		*ops = &evtchnx_sim_ops;
		return 0;
	}
	if (strncmp(target, "sim:", 4) == 0 && lab_name_check(target + 4) == 0) {
		*ops = &evtchnx_sim_ops;
		*arg = target + 4;
		return 0;
	}
	return -EINVAL;
}

/* ---- handles ---------------------------------------------------------- */

EVTCHNX_API struct evtchnx_handle *
evtchnx_open(const char *target, const struct evtchnx_open_opts *opts)
{
	const struct evtchnx_backend_ops *ops;
	struct evtchnx_open_opts o;
	struct evtchnx_handle *h;
	const char *arg;
	int err;

	pthread_once(&atfork_once, register_atfork);
	err = take_opts(opts, &o);
	if (!err)
		err = pick_backend(target, &ops, &arg);
	if (err)
		goto fail;
	h = calloc(1, sizeof(*h));
	if (!h) {
		err = -ENOMEM;
		goto fail;
	}
	h->ops = ops;
	h->fd = -1;
	h->fork_gen = fork_gen;
	h->single_thread = o.flags & EVTCHNX_OPEN_SINGLE_THREAD;
	h->busy_poll_ns = o.busy_poll_ns;
	pthread_mutex_init(&h->lock, NULL);
	err = ops->open(h, arg, &o);
	if (err) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		goto fail;
	}
	return h;
fail:
	errno = -err;
	return NULL;
}

EVTCHNX_API void evtchnx_close(struct evtchnx_handle *h)
{
	int saved = errno;
	bool inherited;

	if (!h)
		return;
	inherited = h->fork_gen != fork_gen;
	h->ops->close(h, inherited);
	if (!inherited) /* a child's copy may be locked by a parent's thread */
		pthread_mutex_destroy(&h->lock);
	free(h);
	errno = saved;
}

EVTCHNX_API int evtchnx_fd(struct evtchnx_handle *h)
{
	if (!h)
		return fail(-EINVAL);
	if (h->fork_gen != fork_gen)
		return fail(-EBADF);
	return h->fd;
}

EVTCHNX_API int evtchnx_domid(struct evtchnx_handle *h)
{
	if (!h)
		return fail(-EINVAL);
	if (h->fork_gen != fork_gen)
		return fail(-EBADF);
	return (int)h->domid;
}

EVTCHNX_API const char *evtchnx_backend(struct evtchnx_handle *h)
{
	if (!h || h->fork_gen != fork_gen) {
		errno = h ? EBADF : EINVAL;
		return NULL;
	}
	return h->ops->name;
}

/* ---- dispatch --------------------------------------------------------- */

/* Call op @fn alone; NULL ops are -EOPNOTSUPP. */
#define CALL(h, fn, ...)                                                     \
	({                                                                   \
		int err_ = enter(h), r_;                                     \
		if (err_ < 0)                                                \
			r_ = fail(err_);                                     \
		else                                                         \
			r_ = leave(h, (h)->ops->fn ? (h)->ops->fn(h, __VA_ARGS__) \
						   : -EOPNOTSUPP);           \
		r_;                                                          \
	})

#define CHECK_DOMID(h, d)                                                    \
	do {                                                                 \
		if (!(h))                                                    \
			return fail(-EINVAL);                                \
		if ((d) > DOMID_MAX)                                         \
			return fail((h)->fork_gen != fork_gen ? -EBADF : -EINVAL); \
	} while (0)

EVTCHNX_API int evtchnx_alloc_unbound(struct evtchnx_handle *h, uint32_t dom,
				      uint32_t remote_dom)
{
	CHECK_DOMID(h, dom);
	CHECK_DOMID(h, remote_dom);
	return CALL(h, alloc_unbound, dom, remote_dom);
}

EVTCHNX_API int evtchnx_bind_interdomain(struct evtchnx_handle *h,
					 uint32_t remote_dom,
					 uint32_t remote_port)
{
	CHECK_DOMID(h, remote_dom);
	return CALL(h, bind_interdomain, remote_dom, remote_port);
}

EVTCHNX_API int evtchnx_bind_virq(struct evtchnx_handle *h, uint32_t virq)
{
	return CALL(h, bind_virq, virq);
}

EVTCHNX_API int evtchnx_adopt(struct evtchnx_handle *h, uint32_t port)
{
	return CALL(h, adopt, port);
}

EVTCHNX_API int evtchnx_send(struct evtchnx_handle *h, uint32_t port)
{
	return CALL(h, send, port);
}

EVTCHNX_API int evtchnx_unbind(struct evtchnx_handle *h, uint32_t port)
{
	return CALL(h, unbind, port);
}

void evtchnx_copy_status(void *dst, size_t sz, const struct evtchnx_status *full)
{
	struct evtchnx_status *st = dst;

	st->sz = sz;
	if (sz > sizeof(*full))
		memset((char *)st + sizeof(*full), 0, sz - sizeof(*full));
	memcpy((char *)st + sizeof(size_t), (const char *)full + sizeof(size_t),
	       (sz < sizeof(*full) ? sz : sizeof(*full)) - sizeof(size_t));
}

EVTCHNX_API int evtchnx_status(struct evtchnx_handle *h, uint32_t dom,
			       uint32_t port, struct evtchnx_status *st)
{
	struct evtchnx_status full = { .sz = sizeof(full) };
	int r;

	CHECK_DOMID(h, dom);
	if (!st || st->sz < sizeof(size_t))
		return fail(-EINVAL);
	r = CALL(h, status, dom, port, &full);
	if (r < 0)
		return r;
	evtchnx_copy_status(st, st->sz, &full);
	return 0;
}

EVTCHNX_API int evtchnx_reset(struct evtchnx_handle *h, uint32_t dom)
{
	CHECK_DOMID(h, dom);
	return CALL(h, reset, dom);
}

EVTCHNX_API int evtchnx_restrict(struct evtchnx_handle *h, uint32_t domid)
{
	CHECK_DOMID(h, domid);
	return CALL(h, restrict_domid, domid);
}

EVTCHNX_API int evtchnx_domain_create(struct evtchnx_handle *h, uint32_t domid)
{
	CHECK_DOMID(h, domid);
	return CALL(h, domain_create, domid);
}

EVTCHNX_API int evtchnx_domain_destroy(struct evtchnx_handle *h,
				       uint32_t domid)
{
	CHECK_DOMID(h, domid);
	return CALL(h, domain_destroy, domid);
}

EVTCHNX_API int evtchnx_domain_grant(struct evtchnx_handle *h, uint32_t domid,
				     char *token, size_t size)
{
	char full[EVTCHNX_TOKEN_SIZE];
	int r;

	CHECK_DOMID(h, domid);
	if (!token || size < EVTCHNX_TOKEN_SIZE)
		return fail(h->fork_gen != fork_gen ? -EBADF : -EINVAL);
	r = CALL(h, domain_grant, domid, full);
	if (r == 0)
		memcpy(token, full, sizeof(full));
	return r;
}

EVTCHNX_API int evtchnx_raise_virq(struct evtchnx_handle *h, uint32_t domid,
				   uint32_t virq)
{
	CHECK_DOMID(h, domid);
	return CALL(h, raise_virq, domid, virq);
}

/* ---- delivery --------------------------------------------------------- */

EVTCHNX_API int evtchnx_pending_batch(struct evtchnx_handle *h,
				      uint32_t *ports, unsigned int max)
{
	if (h && (!ports || max == 0))
		return fail(h->fork_gen != fork_gen ? -EBADF : -EINVAL);
	if (max > INT_MAX)
		max = INT_MAX;
	return CALL(h, pending, ports, max);
}

EVTCHNX_API int evtchnx_pending(struct evtchnx_handle *h)
{
	uint32_t port;
	int r = CALL(h, pending, &port, 1);

	if (r < 0)
		return r;
	return r ? (int)port : fail(-EAGAIN);
}

/* Busy-poll for a backend without a wait op: take ports without sleeping
 * until one comes or the budget is spent.  Returns a port or -EAGAIN. */
static int spin_pending(struct evtchnx_handle *h, int64_t budget_ns)
{
	int64_t until = evtchnx_now_ns() + budget_ns;
	int r;

	do {
		r = evtchnx_pending(h);
	} while (r == -EAGAIN && evtchnx_now_ns() < until);
	return r;
}

EVTCHNX_API int evtchnx_wait(struct evtchnx_handle *h, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? evtchnx_now_ms() + timeout_ms : 0;
	bool spun = false;

	if (h && h->ops->wait && h->fork_gen == fork_gen)
		return CALL(h, wait, timeout_ms);
	for (;;) {
		struct pollfd pfd;
		int r = evtchnx_pending(h), wait_ms = -1;

		if (r >= 0 || r != -EAGAIN)
			return r;
		if (timeout_ms == 0)
			return fail(-ETIMEDOUT);
		if (!spun && h->busy_poll_ns) {
			int64_t budget = (int64_t)h->busy_poll_ns;

			/* The spin is part of the wait: never beyond its
			 * timeout. */
			if (timeout_ms > 0 &&
			    budget > (deadline - evtchnx_now_ms()) * 1000000)
				budget = (deadline - evtchnx_now_ms()) * 1000000;
			spun = true;
			r = spin_pending(h, budget);
			if (r != -EAGAIN)
				return r;
		}
		if (timeout_ms > 0) {
			int64_t left = deadline - evtchnx_now_ms();

			if (left <= 0)
				return fail(-ETIMEDOUT);
			wait_ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		/* The fd may be polled without the lock: it lives as long as
		 * the handle. */
		pfd = (struct pollfd){ .fd = h->fd, .events = POLLIN };
		r = poll(&pfd, 1, wait_ms);
		if (r < 0)
			return fail(errno == EINTR ? -EINTR : -errno);
		if (r == 0 && timeout_ms > 0 && evtchnx_now_ms() >= deadline)
			return fail(-ETIMEDOUT);
	}
}

EVTCHNX_API int evtchnx_unmask(struct evtchnx_handle *h, uint32_t port)
{
	return CALL(h, unmask, port);
}

EVTCHNX_API int evtchnx_is_pending(struct evtchnx_handle *h, uint32_t port)
{
	return CALL(h, is_pending, port);
}

/* ---- batches ---------------------------------------------------------- */

/* The common checks of the batch calls: 0 to go on, 1 for n == 0 (return 0),
 * or a negative errno.  Caps @n at INT_MAX. */
static int batch_check(struct evtchnx_handle *h, const void *a, const void *b,
		       unsigned int *n)
{
	if (!h)
		return -EINVAL;
	if (h->fork_gen != fork_gen)
		return -EBADF;
	if (*n == 0)
		return 1;
	if (!a || !b)
		return -EINVAL;
	if (*n > INT_MAX)
		*n = INT_MAX;
	return 0;
}

/* sendmmsg's convention: the count done, or the first failure's errno. */
static int batch_result(unsigned int done, int err)
{
	return done ? (int)done : err;
}

/* Run a batch under one lock: the backend's batch op when it has one, else
 * the single op @n times. */
#define BATCH(h, batch_op, batch_args, single_call)                           \
	({                                                                    \
		int err_ = enter(h), r_ = 0;                                  \
		unsigned int i_ = 0;                                          \
		if (err_ < 0)                                                 \
			r_ = fail(err_);                                      \
		else if ((h)->ops->batch_op)                                  \
			r_ = leave(h, (h)->ops->batch_op batch_args);         \
		else {                                                        \
			for (; i_ < n; i_++) {                                \
				r_ = single_call;                             \
				if (r_ < 0)                                   \
					break;                                \
			}                                                     \
			r_ = leave(h, batch_result(i_, r_));                  \
		}                                                             \
		r_;                                                           \
	})

static int missing(void)
{
	return -EOPNOTSUPP;
}

EVTCHNX_API int evtchnx_alloc_unbound_batch(struct evtchnx_handle *h,
					    uint32_t dom, uint32_t remote_dom,
					    uint32_t *ports, unsigned int n)
{
	int r = batch_check(h, ports, ports, &n);

	if (r)
		return r > 0 ? 0 : fail(r);
	CHECK_DOMID(h, dom);
	CHECK_DOMID(h, remote_dom);
	return BATCH(h, alloc_unbound_batch, (h, dom, remote_dom, ports, n),
		     !h->ops->alloc_unbound ? missing() :
		     (r = h->ops->alloc_unbound(h, dom, remote_dom)) >= 0 ?
		     (int)(ports[i_] = (uint32_t)r) : r);
}

EVTCHNX_API int evtchnx_bind_interdomain_batch(struct evtchnx_handle *h,
					       uint32_t remote_dom,
					       const uint32_t *remote_ports,
					       uint32_t *ports, unsigned int n)
{
	int r = batch_check(h, remote_ports, ports, &n);

	if (r)
		return r > 0 ? 0 : fail(r);
	CHECK_DOMID(h, remote_dom);
	return BATCH(h, bind_interdomain_batch, (h, remote_dom, remote_ports, ports, n),
		     !h->ops->bind_interdomain ? missing() :
		     (r = h->ops->bind_interdomain(h, remote_dom, remote_ports[i_])) >= 0 ?
		     (int)(ports[i_] = (uint32_t)r) : r);
}

EVTCHNX_API int evtchnx_unbind_batch(struct evtchnx_handle *h,
				     const uint32_t *ports, unsigned int n)
{
	int r = batch_check(h, ports, ports, &n);

	if (r)
		return r > 0 ? 0 : fail(r);
	return BATCH(h, unbind_batch, (h, ports, n),
		     h->ops->unbind ? h->ops->unbind(h, ports[i_]) : missing());
}

EVTCHNX_API int evtchnx_unmask_batch(struct evtchnx_handle *h,
				     const uint32_t *ports, unsigned int n)
{
	int r = batch_check(h, ports, ports, &n);

	if (r)
		return r > 0 ? 0 : fail(r);
	return BATCH(h, unmask_batch, (h, ports, n),
		     h->ops->unmask ? h->ops->unmask(h, ports[i_]) : missing());
}

EVTCHNX_API int evtchnx_status_batch(struct evtchnx_handle *h, uint32_t dom,
				     const uint32_t *ports,
				     struct evtchnx_status *st, unsigned int n)
{
	struct evtchnx_status full = { .sz = sizeof(full) };
	int r = batch_check(h, ports, st, &n);
	size_t sz;

	if (r)
		return r > 0 ? 0 : fail(r);
	CHECK_DOMID(h, dom);
	sz = st[0].sz;
	if (sz < sizeof(size_t))
		return fail(-EINVAL);
	return BATCH(h, status_batch, (h, dom, ports, st, n),
		     !h->ops->status ? missing() :
		     (r = h->ops->status(h, dom, ports[i_], &full)) < 0 ? r :
		     (evtchnx_copy_status((char *)st + i_ * sz, sz, &full), 0));
}

/* ---- misc ------------------------------------------------------------- */

EVTCHNX_API const char *evtchnx_strerror(int err)
{
	const char *s;

	if (err == 0)
		return "Success";
	if (err == INT_MIN)
		return "Unknown error";
	s = strerrordesc_np(err < 0 ? -err : err);
	return s ? s : "Unknown error";
}

EVTCHNX_API const char *evtchnx_version(void)
{
	return EVTCHNX_VERSION_STRING;
}
