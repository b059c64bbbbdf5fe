/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * conf_handles.c - opening and closing handles: targets, options, the
 * NULL handle, version and error strings.
 */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Restores an environment variable when the case ends normally. */
struct saved_env {
	const char *name;
	char *value;
};

static void env_save(struct saved_env *s, const char *name)
{
	const char *v = getenv(name);

	s->name = name;
	s->value = v ? strdup(v) : NULL;
}

static void env_restore(struct saved_env *s)
{
	if (s->value) {
		setenv(s->name, s->value, 1);
		free(s->value);
	} else {
		unsetenv(s->name);
	}
	s->value = NULL;
}

CASE(open_close_basic)
{
	struct evtchnx_handle *h = open_dom(0);
	const char *b;

	CHECK(evtchnx_fd(h) >= 0);
	CHECK_EQ(evtchnx_domid(h), h_dom(0));
	b = evtchnx_backend(h);
	CHECK(b != NULL);
	if (h_is_xen())
		CHECK(strcmp(b, "xen") == 0);
	else
		CHECK(strcmp(b, "sim") == 0);
	close_h(h);
}

CASE(open_as_guest_domid)
{
	struct evtchnx_handle *h = open_dom(5);
	struct evtchnx_handle *g = open_dom(0x7FEF);

	CHECK_EQ(evtchnx_domid(h), h_dom(5));
	CHECK_EQ(evtchnx_domid(g), h_dom(0x7FEF));
}

CASE(distinct_handles_distinct_fds)
{
	struct evtchnx_handle *a = open_dom(3);
	struct evtchnx_handle *b = open_dom(3);
	struct evtchnx_handle *c = open_dom(0);

	CHECK(evtchnx_fd(a) >= 0);
	CHECK(evtchnx_fd(b) >= 0);
	CHECK(evtchnx_fd(c) >= 0);
	CHECK(evtchnx_fd(a) != evtchnx_fd(b));
	CHECK(evtchnx_fd(a) != evtchnx_fd(c));
	CHECK(evtchnx_fd(b) != evtchnx_fd(c));
	/* The fd is stable over the handle's life. */
	CHECK_EQ(evtchnx_fd(a), evtchnx_fd(a));
}

CASE(fresh_handle_has_nothing_pending)
{
	struct evtchnx_handle *h = open_dom(4);

	EXPECT_NONE(h);
	CHECK_ERR(evtchnx_wait(h, 0), ETIMEDOUT);
	{
		uint32_t ports[4];

		CHECK_EQ(evtchnx_pending_batch(h, ports, 4), 0);
	}
}

CASE(null_handle_everywhere)
{
	struct evtchnx_status st = { .sz = sizeof(st) };
	uint32_t ports[4];

	CHECK_ERR(evtchnx_fd(NULL), EINVAL);
	CHECK_ERR(evtchnx_domid(NULL), EINVAL);
	errno = 0;
	CHECK(evtchnx_backend(NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_ERR(evtchnx_alloc_unbound(NULL, SELF, 0), EINVAL);
	CHECK_ERR(evtchnx_bind_interdomain(NULL, SELF, 1), EINVAL);
	CHECK_ERR(evtchnx_bind_virq(NULL, 0), EINVAL);
	CHECK_ERR(evtchnx_adopt(NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_send(NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_unbind(NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_status(NULL, SELF, 0, &st), EINVAL);
	CHECK_ERR(evtchnx_reset(NULL, SELF), EINVAL);
	CHECK_ERR(evtchnx_restrict(NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_pending(NULL), EINVAL);
	CHECK_ERR(evtchnx_pending_batch(NULL, ports, 4), EINVAL);
	CHECK_ERR(evtchnx_wait(NULL, 0), EINVAL);
	CHECK_ERR(evtchnx_wait(NULL, 10), EINVAL);
	CHECK_ERR(evtchnx_unmask(NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_is_pending(NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_domain_create(NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_domain_destroy(NULL, 1), EINVAL);
	CHECK_ERR(evtchnx_raise_virq(NULL, 0, 0), EINVAL);
}

CASE(close_null_is_noop)
{
	evtchnx_close(NULL);
	evtchnx_close(NULL);
	/* The library still works. */
	close_h(open_dom(0));
}

CASE(bad_target_strings)
{
	char long_name[4 + 65 + 1];

	CHECK_OPEN_ERR("bogus", NULL, EINVAL);
	CHECK_OPEN_ERR("sim:", NULL, EINVAL);
	CHECK_OPEN_ERR("sim:bad/name", NULL, EINVAL);
	CHECK_OPEN_ERR("sim:.hidden", NULL, EINVAL);
	CHECK_OPEN_ERR("sim:..", NULL, EINVAL);
	CHECK_OPEN_ERR("sim:a b", NULL, EINVAL);
	CHECK_OPEN_ERR("sim:a\\b", NULL, EINVAL);
	CHECK_OPEN_ERR("sim:caf\xc3\xa9", NULL, EINVAL);
	CHECK_OPEN_ERR("sim:x\ny", NULL, EINVAL);
	CHECK_OPEN_ERR("simx", NULL, EINVAL);
	CHECK_OPEN_ERR("sim-x", NULL, EINVAL);
	CHECK_OPEN_ERR(" sim", NULL, EINVAL);
	CHECK_OPEN_ERR("sim ", NULL, EINVAL);
	CHECK_OPEN_ERR("xenx", NULL, EINVAL);
	memcpy(long_name, "sim:", 4);
	memset(long_name + 4, 'a', 65);
	long_name[4 + 65] = 0;
	CHECK_OPEN_ERR(long_name, NULL, EINVAL);
}

CASE(lab_name_charset_and_64_chars_accepted)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o),
				       .flags = EVTCHNX_OPEN_NO_SPAWN };
	char name[4 + 64 + 1];
	char t[64];
	int n;

	/* Valid names that nobody serves: accepted, then refused because
	 * EVTCHNX_OPEN_NO_SPAWN forbids starting a server. */
	n = snprintf(name, sizeof(name), "sim:conf-n64-%d-", (int)getpid());
	memset(name + n, 'z', sizeof(name) - 1 - (size_t)n);
	name[sizeof(name) - 1] = 0;
	CHECK_EQ(strlen(name), 4 + 64);
	CHECK_OPEN_ERR(name, &o, ECONNREFUSED);
	snprintf(t, sizeof(t), "sim:A.b_C-9.x-%d", (int)getpid());
	CHECK_OPEN_ERR(t, &o, ECONNREFUSED);
	snprintf(t, sizeof(t), "sim:_%d", (int)getpid());
	CHECK_OPEN_ERR(t, &o, ECONNREFUSED);
	/* A name may not start with '-' (it would read as an option of the
	 * lab server's command line). */
	snprintf(t, sizeof(t), "sim:-%d", (int)getpid());
	CHECK_OPEN_ERR(t, &o, EINVAL);
	CHECK_OPEN_ERR("sim:--help", NULL, EINVAL);
	snprintf(t, sizeof(t), "sim:x-%d", (int)getpid());
	CHECK_OPEN_ERR(t, &o, ECONNREFUSED);
}

CASE(env_target_auto_selection)
{
	struct saved_env env;
	struct evtchnx_handle *h;

	env_save(&env, "EVTCHNX_TARGET");
	setenv("EVTCHNX_TARGET", "sim", 1);
	h = h_open_raw(NULL, NULL);
	if (!h) {
		env_restore(&env);
		h_fail(__FILE__, __LINE__, "evtchnx_open(NULL) with EVTCHNX_TARGET=sim: %s",
		       evtchnx_strerror(-errno));
	}
	CHECK(strcmp(evtchnx_backend(h), "sim") == 0);
	CHECK_EQ(evtchnx_domid(h), 0);
	close_h(h);
	/* "" is the same as NULL. */
	h = h_open_raw("", NULL);
	if (!h) {
		env_restore(&env);
		h_fail(__FILE__, __LINE__, "evtchnx_open(\"\") with EVTCHNX_TARGET=sim: %s",
		       evtchnx_strerror(-errno));
	}
	CHECK(strcmp(evtchnx_backend(h), "sim") == 0);
	close_h(h);
	env_restore(&env);
}

CASE(auto_selection_without_env)
{
	struct saved_env env;
	struct evtchnx_handle *h;
	bool xen_dev = access("/dev/xen/evtchn", F_OK) == 0;

	env_save(&env, "EVTCHNX_TARGET");
	unsetenv("EVTCHNX_TARGET");
	errno = 0;
	h = h_open_raw(NULL, NULL);
	env_restore(&env);
	if (!h)
		h_fail(__FILE__, __LINE__, "evtchnx_open(NULL) without EVTCHNX_TARGET: %s",
		       evtchnx_strerror(-errno));
	if (xen_dev)
		CHECK(strcmp(evtchnx_backend(h), "xen") == 0);
	else
		CHECK(strcmp(evtchnx_backend(h), "sim") == 0);
}

CASE(opts_null_means_defaults)
{
	struct evtchnx_handle *h = h_open_raw(h_target(), NULL);

	CHECK(h != NULL);
	CHECK_EQ(evtchnx_domid(h), h_dom(0));
}

CASE(opts_size_too_small)
{
	struct evtchnx_open_opts o = { .sz = 0, .domid = 1 };

	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	o.sz = 1;
	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	o.sz = 4;
	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	o.sz = sizeof(size_t) - 1;
	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
}

CASE(opts_older_caller_fields_beyond_sz_default)
{
	struct evtchnx_open_opts o;
	struct evtchnx_handle *h;

	/* Only sz: domid and flags beyond it take their defaults, whatever
	 * the memory holds. */
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(size_t);
	o.domid = 6;
	o.flags = 0xFFFFFFFFu;
	h = h_open_raw(h_target(), &o);
	CHECK(h != NULL);
	CHECK_EQ(evtchnx_domid(h), h_dom(0));
	close_h(h);

	/* sz up to domid: domid is honoured, flags defaults. */
	o.sz = offsetof(struct evtchnx_open_opts, flags);
	o.domid = 6;
	o.flags = 0xFFFFFFFFu;
	h = h_open_raw(h_target(), &o);
	CHECK(h != NULL);
	CHECK_EQ(evtchnx_domid(h), h_dom(6));
	close_h(h);
}

struct bigger_opts {
	struct evtchnx_open_opts o;
	unsigned char tail[40];
};

CASE(opts_newer_caller_zero_tail_ok)
{
	struct bigger_opts b;
	struct evtchnx_handle *h;

	memset(&b, 0, sizeof(b));
	b.o.sz = sizeof(b);
	b.o.domid = 7;
	h = h_open_raw(h_target(), &b.o);
	CHECK(h != NULL);
	CHECK_EQ(evtchnx_domid(h), h_dom(7));
}

CASE(opts_newer_caller_nonzero_tail_einval)
{
	struct bigger_opts b;

	memset(&b, 0, sizeof(b));
	b.o.sz = sizeof(b);
	b.o.domid = 7;
	b.tail[sizeof(b.tail) - 1] = 1;
	CHECK_OPEN_ERR(h_target(), &b.o, EINVAL);
	b.tail[sizeof(b.tail) - 1] = 0;
	b.tail[0] = 0x80;
	CHECK_OPEN_ERR(h_target(), &b.o, EINVAL);
	b.tail[0] = 0;
	/* A tail of just one byte, non-zero. */
	b.o.sz = sizeof(b.o) + 1;
	b.tail[0] = 0xFF;
	CHECK_OPEN_ERR(h_target(), &b.o, EINVAL);
	/* Still fine once zero. */
	b.tail[0] = 0;
	CHECK(h_open_raw(h_target(), &b.o) != NULL);
}

CASE(opts_unknown_flags_einval)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o) };

	o.flags = 0x8;
	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	o.flags = 0x80000000u;
	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	o.flags = 0xFFFFFFFFu;
	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	o.flags = EVTCHNX_OPEN_NO_SPAWN | 0x8;
	CHECK_OPEN_ERR(h_target(), &o, EINVAL);
}

CASE(opts_reserved_domid_einval)
{
	static const uint32_t bad[] = { 0x7FF0, 0x7FF1, 0x7FF2, 0x7FFF,
					0x8000, 0xFFFF, 0x10000, 0xFFFFFFFF };
	struct evtchnx_open_opts o = { .sz = sizeof(o) };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.domid = bad[i];
		CHECK_OPEN_ERR(h_target(), &o, EINVAL);
	}
}

CASE(version_string)
{
	const char *v = evtchnx_version();

	CHECK(v != NULL);
	CHECK(strcmp(v, EVTCHNX_VERSION_STRING) == 0);
	CHECK(EVTCHNX_VERSION_AT_LEAST(1, 1, 0));
	CHECK(EVTCHNX_VERSION_AT_LEAST(1, 0, 9));
	CHECK(!EVTCHNX_VERSION_AT_LEAST(1, 1, 1));
	CHECK(!EVTCHNX_VERSION_AT_LEAST(1, 2, 0));
	CHECK(!EVTCHNX_VERSION_AT_LEAST(2, 0, 0));
	/* The same static string every time. */
	CHECK(strcmp(evtchnx_version(), v) == 0);
}

CASE(strerror_never_null)
{
	static const int codes[] = { -EINVAL, EINVAL, -ENOTCONN, ENOTCONN,
				     -ESRCH, -ENOSPC, -EPERM, -EACCES,
				     -EBADF, -EIO, -ETIMEDOUT, -EAGAIN,
				     -ECONNREFUSED, -EOPNOTSUPP, 0, 1,
				     -1, 4095, -4095, 12345, -12345,
				     INT_MAX, INT_MIN, INT_MIN + 1 };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = evtchnx_strerror(codes[i]);

		if (!s)
			h_fail(__FILE__, __LINE__, "evtchnx_strerror(%d) == NULL",
			       codes[i]);
	}
	CHECK(strlen(evtchnx_strerror(-EINVAL)) > 0);
	CHECK(strlen(evtchnx_strerror(INT_MIN)) > 0);
	/* A positive code means the same as its negative. */
	CHECK(strcmp(evtchnx_strerror(-EINVAL), evtchnx_strerror(EINVAL)) == 0);
	CHECK(strcmp(evtchnx_strerror(-ENOTCONN),
		     evtchnx_strerror(ENOTCONN)) == 0);
	CHECK(strcmp(evtchnx_strerror(-EINVAL), evtchnx_strerror(-ENOTCONN)) != 0);
}

CASE(no_spawn_on_lab_nobody_runs)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o),
				       .flags = EVTCHNX_OPEN_NO_SPAWN };
	struct evtchnx_open_opts d = { .sz = sizeof(d) };
	struct evtchnx_handle *h1, *h2;
	char t[64];

	snprintf(t, sizeof(t), "sim:conf-nospawn-%d", (int)getpid());
	CHECK_OPEN_ERR(t, &o, ECONNREFUSED);
	/* Refusing started nothing. */
	CHECK_OPEN_ERR(t, &o, ECONNREFUSED);
	if (!h_can_spawn_labs())
		return;
	/* A normal open starts the server; while it runs, NO_SPAWN joins. */
	h1 = h_open_raw(t, &d);
	CHECK(h1 != NULL);
	o.domid = 3;
	h2 = h_open_raw(t, &o);
	CHECK(h2 != NULL);
	CHECK_EQ(evtchnx_domid(h2), 3);
	CHECK(strcmp(evtchnx_backend(h2), "sim") == 0);
	{
		uint32_t p, q;

		h_channel(h1, h2, &p, &q);
		CHECK_OK(evtchnx_send(h2, q));
		EXPECT_PORT(h1, p);
	}
}

CASE(close_releases_ports)
{
	struct evtchnx_handle *a, *b, *a2;
	uint32_t pa, pb;
	int extra;

	open_pair(&a, &b);
	h_channel(a, b, &pa, &pb);
	extra = CHECK_OK(evtchnx_alloc_unbound(a, SELF, evtchnx_domid(b)));
	a2 = open_dom(evtchnx_domid(a));
	close_h(a);
	/* Closing returns after the lab applied it: no polling. */
	CHECK_UNBOUND(b, SELF, pb, evtchnx_domid(a2));
	CHECK_CLOSED(a2, SELF, pa);
	CHECK_CLOSED(a2, SELF, (uint32_t)extra);
	CHECK_ERR(evtchnx_send(a2, pa), ENOTCONN);
}

CASE(open_close_does_not_leak_fds)
{
	struct evtchnx_handle *keep = open_dom(0);
	int before, after;

	(void)keep;
	/* Warm up whatever the library sets up once. */
	close_h(open_dom(1));
	before = h_settled_fds(-1);
	for (int i = 0; i < 50; i++) {
		struct evtchnx_handle *h = open_dom(1 + (uint32_t)(i % 3));
		uint32_t p = (uint32_t)CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));

		CHECK(p >= 1);
		close_h(h);
	}
	after = h_settled_fds(before);
	CHECK_EQ(after, before);
}

CASE(handle_accessors_stable_after_errors)
{
	struct evtchnx_handle *h = open_dom(2);
	int fd = evtchnx_fd(h);

	CHECK_ERR(evtchnx_send(h, 0), EINVAL);
	CHECK_ERR(evtchnx_unbind(h, 0xFFFFFFFFu), EINVAL);
	CHECK_EQ(evtchnx_fd(h), fd);
	CHECK_EQ(evtchnx_domid(h), h_dom(2));
	CHECK(evtchnx_backend(h) != NULL);
}
