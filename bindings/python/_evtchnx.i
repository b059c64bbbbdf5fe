/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * _evtchnx.i - the Python front of the shared interface ../evtchnx.i.
 *
 * Builds the private extension module evtchnx._evtchnx; the typed API is the
 * pure-Python package evtchnx.  What this front adds to the shared file:
 *
 *   - a negative int result raises OSError(errno, "evtchnx_NAME: text"),
 *     which Python turns into the matching subclass (ENOENT ->
 *     FileNotFoundError, EAGAIN -> BlockingIOError, ...);
 *   - evtchnx_pending() returns None when nothing is pending (-EAGAIN);
 *   - handles are HandleBox objects: a closed box raises
 *     ValueError("handle is closed") and never reaches C, a box that is
 *     garbage-collected closes its handle;
 *   - evtchnx_wait() releases the GIL while it blocks, returns None on
 *     -ETIMEDOUT, and on -EINTR runs Python's signal handlers and goes on
 *     waiting unless one of them raised;
 *   - evtchnx_pending_batch(h, max) returns a list of ports;
 *   - evtchnx_status(h, dom, port) returns the tuple
 *     (state, vcpu, remote_domid, remote_port, virq);
 *   - the batch calls take Python sequences and run to the end (see
 *     evtchnx_bind_run_batch() in ../evtchnx.i); each returns a pair
 *     (result, errno): errno is 0 when every element was done, else the
 *     failing element's errno, and result holds what was done before it:
 *       evtchnx_alloc_unbound_batch(h, dom, remote_dom, n) -> ([port], e)
 *       evtchnx_bind_interdomain_batch(h, remote_dom, remote_ports)
 *                                                    -> ([port], e)
 *       evtchnx_unbind_batch(h, ports), evtchnx_unmask_batch(h, ports)
 *                                                    -> (count, e)
 *       evtchnx_status_batch(h, dom, ports) -> ([status tuple], e)
 *     The package evtchnx raises the error, carrying that part.
 */
%module _evtchnx

%{
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "evtchnx.h"

/* Raise OSError(-err, "call: text"); OSError() picks the subclass. */
static PyObject *evtchnx_py_raise(const char *call, int err)
{
	PyObject *exc;

	if (err < 0)
		err = -err;
	exc = PyObject_CallFunction(PyExc_OSError, "(iN)", err,
				    PyUnicode_FromFormat("%s: %s", call,
							 evtchnx_strerror(err)));
	if (exc) {
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
		Py_DECREF(exc);
	}
	return NULL;
}

/*
 * HandleBox: owns one struct evtchnx_handle *.  Every call reads the
 * pointer from the box while it holds the GIL, so a handle closed by one
 * thread is never used by another.  @busy counts the calls that run with
 * the GIL released (evtchnx_wait, the batches); close refuses while it is
 * non-zero.
 */
typedef struct {
	PyObject_HEAD
	struct evtchnx_handle *h;
	unsigned int busy;
} evtchnx_py_box;

static void evtchnx_py_box_dealloc(PyObject *self)
{
	evtchnx_py_box *box = (evtchnx_py_box *)self;
	struct evtchnx_handle *h = box->h;

	box->h = NULL;
	evtchnx_close(h);
	Py_TYPE(self)->tp_free(self);
}

static PyObject *evtchnx_py_box_closed(PyObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(((evtchnx_py_box *)self)->h == NULL);
}

static PyObject *evtchnx_py_box_busy(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromUnsignedLong(((evtchnx_py_box *)self)->busy);
}

static PyGetSetDef evtchnx_py_box_getset[] = {
	{ "closed", evtchnx_py_box_closed, NULL,
	  "True once the handle has been closed.", NULL },
	{ "busy", evtchnx_py_box_busy, NULL,
	  "Number of threads in evtchnx_wait() or a batch on this handle.",
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject evtchnx_py_box_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "evtchnx._evtchnx.HandleBox",
	.tp_basicsize = sizeof(evtchnx_py_box),
	.tp_dealloc = evtchnx_py_box_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "An open evtchnx handle (closed when garbage-collected).",
	.tp_getset = evtchnx_py_box_getset,
};

/* The live handle in @obj, or NULL with TypeError / ValueError set. */
static evtchnx_py_box *evtchnx_py_box_of(PyObject *obj)
{
	evtchnx_py_box *box;

	if (Py_TYPE(obj) != &evtchnx_py_box_type) {
		PyErr_Format(PyExc_TypeError,
			     "expected an evtchnx handle, not %.100s",
			     Py_TYPE(obj)->tp_name);
		return NULL;
	}
	box = (evtchnx_py_box *)obj;
	if (!box->h) {
		PyErr_SetString(PyExc_ValueError, "handle is closed");
		return NULL;
	}
	return box;
}

static PyObject *evtchnx_py_box_new(struct evtchnx_handle *h)
{
	evtchnx_py_box *box = PyObject_New(evtchnx_py_box,
					   &evtchnx_py_box_type);

	if (!box) {
		evtchnx_close(h);
		return NULL;
	}
	box->h = h;
	box->busy = 0;
	return (PyObject *)box;
}

/* evtchnx_close(box): close now (idempotent). */
static PyObject *evtchnx_py_close(PyObject *obj)
{
	evtchnx_py_box *box;
	struct evtchnx_handle *h;

	if (Py_TYPE(obj) != &evtchnx_py_box_type) {
		PyErr_Format(PyExc_TypeError,
			     "expected an evtchnx handle, not %.100s",
			     Py_TYPE(obj)->tp_name);
		return NULL;
	}
	box = (evtchnx_py_box *)obj;
	if (box->busy) {
		PyErr_SetString(PyExc_RuntimeError,
				"handle is in use by a blocking wait() or "
				"batch in another thread");
		return NULL;
	}
	h = box->h;
	box->h = NULL;
	if (h) {
		Py_BEGIN_ALLOW_THREADS
		evtchnx_close(h);
		Py_END_ALLOW_THREADS
	}
	Py_RETURN_NONE;
}

/* Milliseconds elapsed since @t0 (CLOCK_MONOTONIC). */
static long long evtchnx_py_elapsed_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t0->tv_sec) * 1000 +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * evtchnx_wait(box, timeout_ms): port, or None on timeout.  The GIL is
 * released while C blocks.  On EINTR, Python's signal handlers run (as
 * PEP 475 does): if one raises, so does this call; otherwise the wait goes
 * on for the time that is left.
 */
static PyObject *evtchnx_py_wait(PyObject *obj, int timeout_ms)
{
	evtchnx_py_box *box = evtchnx_py_box_of(obj);
	struct timespec t0;
	int left = timeout_ms, r;

	if (!box)
		return NULL;
	if (timeout_ms > 0)
		clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (left == 0) {
			r = evtchnx_wait(box->h, 0);
		} else {
			struct evtchnx_handle *h = box->h;

			box->busy++;
			Py_BEGIN_ALLOW_THREADS
			r = evtchnx_wait(h, left);
			Py_END_ALLOW_THREADS
			box->busy--;
		}
		if (r != -EINTR)
			break;
		if (PyErr_CheckSignals() < 0)
			return NULL;
		/* A signal handler may have closed the handle. */
		if (!box->h) {
			PyErr_SetString(PyExc_ValueError, "handle is closed");
			return NULL;
		}
		if (timeout_ms > 0) {
			long long done = evtchnx_py_elapsed_ms(&t0);

			left = done >= timeout_ms ? 0 : (int)(timeout_ms - done);
		}
	}
	if (r >= 0)
		return PyLong_FromLong(r);
	if (r == -ETIMEDOUT)
		Py_RETURN_NONE;
	return evtchnx_py_raise("evtchnx_wait", r);
}
%}

%init %{
	if (PyType_Ready(&evtchnx_py_box_type) < 0)
		return NULL;
	Py_INCREF(&evtchnx_py_box_type);
	if (PyModule_AddObject(m, "HandleBox",
			       (PyObject *)&evtchnx_py_box_type) < 0) {
		Py_DECREF(&evtchnx_py_box_type);
		return NULL;
	}
%}

/* ---- results --------------------------------------------------------- */

%typemap(out) int {
	if ($1 < 0) {
		evtchnx_py_raise("$symname", $1);
		SWIG_fail;
	}
	$result = PyLong_FromLong($1);
}

/* Nothing pending is not an error. */
%typemap(out) int evtchnx_pending {
	if ($1 == -EAGAIN) {
		Py_INCREF(Py_None);
		$result = Py_None;
	} else if ($1 < 0) {
		evtchnx_py_raise("$symname", $1);
		SWIG_fail;
	} else {
		$result = PyLong_FromLong($1);
	}
}

%typemap(out) const char *evtchnx_backend {
	if (!$1) {
		evtchnx_py_raise("$symname", errno);
		SWIG_fail;
	}
	$result = PyUnicode_FromString($1);
}

/* A NULL handle comes back with errno set (Py_END_ALLOW_THREADS keeps
 * errno). */
%typemap(out) struct evtchnx_handle *evtchnx_open {
	if (!$1) {
		if (!errno)
			PyErr_SetString(PyExc_SystemError,
					"evtchnx_open failed without errno");
		else
			evtchnx_py_raise("$symname", errno);
		SWIG_fail;
	}
	$result = evtchnx_py_box_new($1);
	if (!$result)
		SWIG_fail;
}

/* Opening may start a lab server and wait for it: let other threads run. */
%exception evtchnx_open {
	Py_BEGIN_ALLOW_THREADS
	errno = 0;
	$action
	Py_END_ALLOW_THREADS
}

/* ---- arguments ------------------------------------------------------- */

%typemap(in) struct evtchnx_handle *h {
	evtchnx_py_box *box = evtchnx_py_box_of($input);

	if (!box)
		SWIG_fail;
	$1 = box->h;
}

/* evtchnx_pending_batch(h, max) -> list of ports.  The buffer is capped at
 * the largest port space of any backend (FIFO ABI): more ports than that
 * cannot be pending on one handle.  Up to 256 ports (what the package asks
 * for) it is on the stack. */
%typemap(in, numinputs=1) (uint32_t *ports, unsigned int max)
	(uint32_t evtchnx_stackbuf[256], uint32_t *evtchnx_heapbuf = NULL) {
	unsigned long n = PyLong_AsUnsignedLong($input);

	if (n == (unsigned long)-1 && PyErr_Occurred())
		SWIG_fail;
	if (n > UINT32_MAX) {
		PyErr_SetString(PyExc_OverflowError,
				"max does not fit in unsigned int");
		SWIG_fail;
	}
	if (n > 131072)
		n = 131072;
	if (n <= 256) {
		$1 = evtchnx_stackbuf;
	} else {
		evtchnx_heapbuf = PyMem_Malloc(n * sizeof(uint32_t));
		if (!evtchnx_heapbuf) {
			PyErr_NoMemory();
			SWIG_fail;
		}
		$1 = evtchnx_heapbuf;
	}
	$2 = (unsigned int)n;
}

%typemap(argout) (uint32_t *ports, unsigned int max) {
	PyObject *list = PyList_New(result);

	if (!list)
		SWIG_fail;
	for (int i = 0; i < result; i++) {
		PyObject *port = PyLong_FromUnsignedLong($1[i]);

		if (!port) {
			Py_DECREF(list);
			SWIG_fail;
		}
		PyList_SET_ITEM(list, i, port);
	}
	Py_XDECREF($result);
	$result = list;
}

%typemap(freearg) (uint32_t *ports, unsigned int max) {
	PyMem_Free(evtchnx_heapbuf$argnum);
}

/* evtchnx_status(h, dom, port) -> (state, vcpu, remote_domid, remote_port,
 * virq). */
%typemap(in, numinputs=0) struct evtchnx_status *st
	(struct evtchnx_status evtchnx_st) {
	memset(&evtchnx_st, 0, sizeof(evtchnx_st));
	evtchnx_st.sz = sizeof(evtchnx_st);
	$1 = &evtchnx_st;
}

%typemap(argout) struct evtchnx_status *st {
	Py_XDECREF($result);
	$result = Py_BuildValue("(IIIII)", $1->state, $1->vcpu,
				$1->remote_domid, $1->remote_port, $1->virq);
	if (!$result)
		SWIG_fail;
}

/* evtchnx_domain_grant(h, domid) -> the token, a str. */
%typemap(in, numinputs=0) (char *token, size_t size)
	(char evtchnx_tok[EVTCHNX_TOKEN_SIZE]) {
	evtchnx_tok[0] = '\0';
	$1 = evtchnx_tok;
	$2 = sizeof(evtchnx_tok);
}

%typemap(argout) (char *token, size_t size) {
	Py_XDECREF($result);
	$result = PyUnicode_FromString($1);
	if (!$result)
		SWIG_fail;
}

/* ---- wrapped by hand ------------------------------------------------- */

%ignore evtchnx_close;
%ignore evtchnx_wait;

%rename(evtchnx_close) evtchnx_py_close;
%rename(evtchnx_wait) evtchnx_py_wait;
PyObject *evtchnx_py_close(PyObject *h);
PyObject *evtchnx_py_wait(PyObject *h, int timeout_ms);

%include "../evtchnx.i"

/* ---- batches (after the shared file: they use its
 * evtchnx_bind_run_batch() and stdint typemaps) ---- */

%{
/* The ports of a Python sequence in a new PyMem array (*@n of them), or
 * NULL with TypeError / OverflowError set. */
static uint32_t *evtchnx_py_ports_in(PyObject *seq, unsigned int *n)
{
	PyObject *fast = PySequence_Fast(seq, "ports must be a sequence of ints");
	Py_ssize_t len, i;
	uint32_t *a = NULL;

	if (!fast)
		return NULL;
	len = PySequence_Fast_GET_SIZE(fast);
	if ((size_t)len > UINT_MAX) {
		PyErr_SetString(PyExc_OverflowError, "too many ports");
		goto out;
	}
	a = PyMem_Malloc(len ? (size_t)len * sizeof(uint32_t) : 1);
	if (!a) {
		PyErr_NoMemory();
		goto out;
	}
	for (i = 0; i < len; i++) {
		PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
		unsigned long v;

		if (!PyLong_Check(item) || PyBool_Check(item)) {
			PyErr_Format(PyExc_TypeError,
				     "ports[%zd] must be an int, not %.100s", i,
				     Py_TYPE(item)->tp_name);
			goto fail;
		}
		v = PyLong_AsUnsignedLong(item);
		if (v == (unsigned long)-1 && PyErr_Occurred()) {
			PyErr_Format(PyExc_OverflowError,
				     "ports[%zd] is not in 0 .. 2**32-1", i);
			goto fail;
		}
		if (v > UINT32_MAX) {
			PyErr_Format(PyExc_OverflowError,
				     "ports[%zd] is not in 0 .. 2**32-1", i);
			goto fail;
		}
		a[i] = (uint32_t)v;
	}
	*n = (unsigned int)len;
	goto out;
fail:
	PyMem_Free(a);
	a = NULL;
out:
	Py_DECREF(fast);
	return a;
}

/* Run a batch with the GIL released (a large one takes many requests to
 * the lab); the box stays busy meanwhile, so no thread can close it. */
static unsigned int evtchnx_py_run_batch(evtchnx_py_box *box,
					 const struct evtchnx_bind_batch *b,
					 unsigned int n, int *err)
{
	struct evtchnx_handle *h = box->h;
	unsigned int done;

	box->busy++;
	Py_BEGIN_ALLOW_THREADS
	done = evtchnx_bind_run_batch(h, b, n, err);
	Py_END_ALLOW_THREADS
	box->busy--;
	return done;
}

/* (list of the first @done of @ports, @err as a positive errno) */
static PyObject *evtchnx_py_ports_out(const uint32_t *ports, unsigned int done,
				      int err)
{
	PyObject *list = PyList_New(done);

	if (!list)
		return NULL;
	for (unsigned int i = 0; i < done; i++) {
		PyObject *port = PyLong_FromUnsignedLong(ports[i]);

		if (!port) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, i, port);
	}
	return Py_BuildValue("(Ni)", list, -err);
}

static PyObject *evtchnx_py_alloc_unbound_batch(PyObject *obj, uint32_t dom,
						uint32_t remote_dom,
						unsigned int n)
{
	evtchnx_py_box *box = evtchnx_py_box_of(obj);
	struct evtchnx_bind_batch b = { .op = EVTCHNX_BIND_ALLOC_UNBOUND,
					.dom = dom, .remote_dom = remote_dom };
	unsigned int done;
	PyObject *res;
	int err;

	if (!box)
		return NULL;
	/* No domain has more ports than the FIFO ABI's limit. */
	if (n > EVTCHNX_SIM_MAX_PORTS) {
		PyErr_Format(PyExc_ValueError, "n must be at most %u",
			     EVTCHNX_SIM_MAX_PORTS);
		return NULL;
	}
	b.out = PyMem_Malloc(n ? n * sizeof(uint32_t) : 1);
	if (!b.out)
		return PyErr_NoMemory();
	done = evtchnx_py_run_batch(box, &b, n, &err);
	res = evtchnx_py_ports_out(b.out, done, err);
	PyMem_Free(b.out);
	return res;
}

static PyObject *evtchnx_py_bind_interdomain_batch(PyObject *obj,
						   uint32_t remote_dom,
						   PyObject *remote_ports)
{
	evtchnx_py_box *box = evtchnx_py_box_of(obj);
	struct evtchnx_bind_batch b = { .op = EVTCHNX_BIND_BIND_INTERDOMAIN,
					.remote_dom = remote_dom };
	unsigned int n, done;
	uint32_t *in;
	PyObject *res;
	int err;

	if (!box)
		return NULL;
	in = evtchnx_py_ports_in(remote_ports, &n);
	if (!in)
		return NULL;
	b.in = in;
	b.out = PyMem_Malloc(n ? n * sizeof(uint32_t) : 1);
	if (!b.out) {
		PyMem_Free(in);
		return PyErr_NoMemory();
	}
	done = evtchnx_py_run_batch(box, &b, n, &err);
	res = evtchnx_py_ports_out(b.out, done, err);
	PyMem_Free(b.out);
	PyMem_Free(in);
	return res;
}

/* unbind_batch and unmask_batch: (count, errno). */
static PyObject *evtchnx_py_ports_batch(PyObject *obj, PyObject *ports,
					enum evtchnx_bind_batch_op op)
{
	evtchnx_py_box *box = evtchnx_py_box_of(obj);
	struct evtchnx_bind_batch b = { .op = op };
	unsigned int n, done;
	uint32_t *in;
	int err;

	if (!box)
		return NULL;
	in = evtchnx_py_ports_in(ports, &n);
	if (!in)
		return NULL;
	b.in = in;
	done = evtchnx_py_run_batch(box, &b, n, &err);
	PyMem_Free(in);
	return Py_BuildValue("(Ii)", done, -err);
}

static PyObject *evtchnx_py_unbind_batch(PyObject *obj, PyObject *ports)
{
	return evtchnx_py_ports_batch(obj, ports, EVTCHNX_BIND_UNBIND);
}

static PyObject *evtchnx_py_unmask_batch(PyObject *obj, PyObject *ports)
{
	return evtchnx_py_ports_batch(obj, ports, EVTCHNX_BIND_UNMASK);
}

static PyObject *evtchnx_py_status_batch(PyObject *obj, uint32_t dom,
					 PyObject *ports)
{
	evtchnx_py_box *box = evtchnx_py_box_of(obj);
	struct evtchnx_bind_batch b = { .op = EVTCHNX_BIND_STATUS, .dom = dom };
	unsigned int n, done, i;
	PyObject *list = NULL;
	uint32_t *in;
	int err;

	if (!box)
		return NULL;
	in = evtchnx_py_ports_in(ports, &n);
	if (!in)
		return NULL;
	b.in = in;
	b.st = PyMem_Calloc(n ? n : 1, sizeof(*b.st));
	if (!b.st) {
		PyMem_Free(in);
		return PyErr_NoMemory();
	}
	b.st[0].sz = sizeof(*b.st);
	done = evtchnx_py_run_batch(box, &b, n, &err);
	list = PyList_New(done);
	for (i = 0; list && i < done; i++) {
		const struct evtchnx_status *st = &b.st[i];
		PyObject *t = Py_BuildValue("(IIIII)", st->state, st->vcpu,
					    st->remote_domid, st->remote_port,
					    st->virq);

		if (!t)
			Py_CLEAR(list);
		else
			PyList_SET_ITEM(list, i, t);
	}
	PyMem_Free(b.st);
	PyMem_Free(in);
	if (!list)
		return NULL;
	return Py_BuildValue("(Ni)", list, -err);
}
%}

%rename(evtchnx_alloc_unbound_batch) evtchnx_py_alloc_unbound_batch;
%rename(evtchnx_bind_interdomain_batch) evtchnx_py_bind_interdomain_batch;
%rename(evtchnx_unbind_batch) evtchnx_py_unbind_batch;
%rename(evtchnx_unmask_batch) evtchnx_py_unmask_batch;
%rename(evtchnx_status_batch) evtchnx_py_status_batch;
PyObject *evtchnx_py_alloc_unbound_batch(PyObject *h, uint32_t dom,
					 uint32_t remote_dom, unsigned int n);
PyObject *evtchnx_py_bind_interdomain_batch(PyObject *h, uint32_t remote_dom,
					    PyObject *remote_ports);
PyObject *evtchnx_py_unbind_batch(PyObject *h, PyObject *ports);
PyObject *evtchnx_py_unmask_batch(PyObject *h, PyObject *ports);
PyObject *evtchnx_py_status_batch(PyObject *h, uint32_t dom, PyObject *ports);

