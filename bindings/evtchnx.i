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
	evtchnx_open_opts(uint32_t domid = 0, uint32_t flags = 0)
	{
		struct evtchnx_open_opts *o = calloc(1, sizeof(*o));

		if (o) {
			o->sz = sizeof(*o);
			o->domid = domid;
			o->flags = flags;
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

/* In C, struct evtchnx_status and the function evtchnx_status() live in
 * different namespaces; in the languages they would collide. */
%rename("evtchnx_status_info", %$isclass) evtchnx_status;

/* The declarations and constants, straight from the public header. */
%include "evtchnx.h"
