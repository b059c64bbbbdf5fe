/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx.i - the SWIG interface shared by every language binding.
 *
 * This file is language-neutral.  It has no %module: each front sets its
 * own module name, defines its language's typemaps and then includes this
 * file, for example
 *
 *     %module _evtchnx
 *     ... typemaps ...
 *     %include "../evtchnx.i"
 *
 * so that the front's typemaps are in force for the declarations below.
 *
 * What a front is expected to provide (typemaps must come before the
 * %include of this file):
 *
 *   %typemap(out) int
 *       Every function of the API that returns int returns >= 0 on success
 *       (a port, a count, 0) and a negative errno value on failure.  Map a
 *       negative value to the language's error, naming the call ($symname)
 *       and keeping the errno; never return it as a number.  A front may
 *       refine this for one function with %typemap(out) int evtchnx_NAME.
 *
 *   %typemap(out) struct evtchnx_handle *evtchnx_open
 *       NULL means failure with errno set.
 *
 *   (uint32_t *ports, unsigned int max)      evtchnx_pending_batch()
 *   (struct evtchnx_status *st)              evtchnx_status()
 *       Output buffers: turn them into the language's list and record (or
 *       %ignore the function and wrap it by hand).  Without a typemap they
 *       are wrapped as raw pointers, which a script cannot use safely.
 *
 *   evtchnx_alloc_unbound_batch, evtchnx_bind_interdomain_batch,
 *   evtchnx_unbind_batch, evtchnx_unmask_batch, evtchnx_status_batch
 *       Ignored here (their arrays have no safe generic wrapping, and the
 *       (struct evtchnx_status *st) typemap above, meant for one struct,
 *       would match status_batch's array).  A front wraps each by hand,
 *       under the same name, on top of evtchnx_bind_run_batch() below:
 *       it turns the language's list into the input array, runs the batch
 *       to its end, and returns the whole result; when an element fails,
 *       it raises the language's error for that element's errno and hands
 *       over the part that was done (the ports allocated before the
 *       failure must reach the script, or they would be lost).
 *
 *   evtchnx_open_opts(domid, flags, busy_poll_ns)
 *       The constructor below; nothing to provide.
 *
 * Integer arguments (ports, domain ids, virqs) are uint32_t: SWIG's
 * stdint typemaps reject negative and out-of-range values with a language
 * error before C is called.  The library itself checks NULL handles
 * (-EINVAL), so passing the language's nil/None as a handle is an error,
 * never a crash; a binding must still never pass a closed handle.
 */

%{
#include <errno.h>
#include <stdlib.h>
#include "evtchnx.h"
%}

%include <stdint.i>

/* The size fields are the library's ABI guard: a script that could write
 * a larger sz into evtchnx_status would let the library write past the
 * object.  The constructors below set them; scripts may only read them. */
%immutable evtchnx_open_opts::sz;
%immutable evtchnx_status::sz;

/* SWIG's default constructor would leave sz at 0 (-EINVAL from the
 * library): give both structs constructors that set it. */
%extend evtchnx_open_opts {
	evtchnx_open_opts(uint32_t domid = 0, uint32_t flags = 0,
			  uint64_t busy_poll_ns = 0)
	{
		struct evtchnx_open_opts *o = calloc(1, sizeof(*o));

		if (o) {
			o->sz = sizeof(*o);
			o->domid = domid;
			o->flags = flags;
			o->busy_poll_ns = busy_poll_ns;
		}
		return o;
	}
	~evtchnx_open_opts()
	{
		free($self);
	}
}

%extend evtchnx_status {
	evtchnx_status()
	{
		struct evtchnx_status *s = calloc(1, sizeof(*s));

		if (s)
			s->sz = sizeof(*s);
		return s;
	}
	~evtchnx_status()
	{
		free($self);
	}
}

/* ---- batches ------------------------------------------------------------ */

/* By signature, so that a front may define its own function of the same
 * name (a Lua %native, for instance). */
%ignore evtchnx_alloc_unbound_batch(struct evtchnx_handle *, uint32_t,
				    uint32_t, uint32_t *, unsigned int);
%ignore evtchnx_bind_interdomain_batch(struct evtchnx_handle *, uint32_t,
				       const uint32_t *, uint32_t *,
				       unsigned int);
%ignore evtchnx_unbind_batch(struct evtchnx_handle *, const uint32_t *,
			     unsigned int);
%ignore evtchnx_unmask_batch(struct evtchnx_handle *, const uint32_t *,
			     unsigned int);
%ignore evtchnx_status_batch(struct evtchnx_handle *, uint32_t,
			     const uint32_t *, struct evtchnx_status *,
			     unsigned int);

%{
/* The batch calls, for the fronts' hand-written wrappers. */
enum evtchnx_bind_batch_op {
	EVTCHNX_BIND_ALLOC_UNBOUND,
	EVTCHNX_BIND_BIND_INTERDOMAIN,
	EVTCHNX_BIND_UNBIND,
	EVTCHNX_BIND_UNMASK,
	EVTCHNX_BIND_STATUS,
};

/* The arguments of one batch: those the operation does not use are
 * ignored.  @st holds @n elements of sizeof(struct evtchnx_status) with
 * st[0].sz set. */
struct evtchnx_bind_batch {
	enum evtchnx_bind_batch_op op;
	uint32_t dom;                  /* alloc_unbound, status */
	uint32_t remote_dom;           /* alloc_unbound, bind_interdomain */
	const uint32_t *in;            /* remote ports, or the ports */
	uint32_t *out;                 /* the new ports */
	struct evtchnx_status *st;     /* status */
};

/*
 * Run a batch over all @n elements: the C call stops at the first element
 * that fails and returns the count before it, so call it again for the
 * rest until everything is done or an element fails at the start of a
 * call.  Returns the number of elements done; *@err is 0 when that is @n,
 * else the failing element's negative errno (the element is number
 * "return value").  A call that answers a count it was not asked for
 * (which the contract excludes) ends the run with -EIO rather than loop.
 */
static unsigned int evtchnx_bind_run_batch(struct evtchnx_handle *h,
					   const struct evtchnx_bind_batch *b,
					   unsigned int n, int *err)
{
	unsigned int done = 0;

	*err = 0;
	while (done < n) {
		unsigned int left = n - done;
		int r;

		switch (b->op) {
		case EVTCHNX_BIND_ALLOC_UNBOUND:
			r = evtchnx_alloc_unbound_batch(h, b->dom, b->remote_dom,
							b->out + done, left);
			break;
		case EVTCHNX_BIND_BIND_INTERDOMAIN:
			r = evtchnx_bind_interdomain_batch(h, b->remote_dom,
							   b->in + done,
							   b->out + done, left);
			break;
		case EVTCHNX_BIND_UNBIND:
			r = evtchnx_unbind_batch(h, b->in + done, left);
			break;
		case EVTCHNX_BIND_UNMASK:
			r = evtchnx_unmask_batch(h, b->in + done, left);
			break;
		case EVTCHNX_BIND_STATUS:
			b->st[done].sz = sizeof(struct evtchnx_status);
			r = evtchnx_status_batch(h, b->dom, b->in + done,
						 b->st + done, left);
			break;
		default:
			r = -EINVAL;
			break;
		}
		if (r < 0) {
			*err = r;
			break;
		}
		if (r == 0 || (unsigned int)r > left) {
			*err = -EIO;
			break;
		}
		done += (unsigned int)r;
	}
	return done;
}
%}

/* In C, struct evtchnx_status and the function evtchnx_status() live in
 * different namespaces; in the languages they would collide. */
%rename("evtchnx_status_info", %$isclass) evtchnx_status;

/* The declarations and constants, straight from the public header. */
%include "evtchnx.h"
