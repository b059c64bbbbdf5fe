/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * lua_pingpong_ref - the C figure that bench/lua_pingpong.lua compares the
 * Lua bindings with: the same blocking ping-pong, written in C.
 *
 * A parent (domain 1 of a fresh shared lab) allocates a port for domain 2;
 * a forked child opens the lab as domain 2 and binds it.  Each side loops
 * on evtchnx_wait(h, -1) -> evtchnx_unmask -> evtchnx_send.  The parent
 * times n round trips after w warm-up ones and prints
 *
 *   rtt_us=<microseconds per round trip> n=<n> call_ns=<ns>
 *
 * call_ns is the cost of one evtchnx_is_pending() call on an idle port (no
 * system call): the floor the bindings' per-call overhead adds to.
 *
 * Usage: lua_pingpong_ref [-n round_trips] [-w warm_up]
 * Exit status 0, or 1 on any failure (a watchdog ends a stuck run).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "evtchnx.h"

/* evtchnx_is_pending() calls timed for call_ns */
#define CALLS 200000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "lua_pingpong_ref: %s: %s\n", what, evtchnx_strerror(err));
	return 1;
}

/* One side's turn: take the event on @port, re-enable it, answer. */
static int pong(struct evtchnx_handle *h, uint32_t port)
{
	int r = evtchnx_wait(h, -1);

	if (r < 0)
		return r;
	if ((uint32_t)r != port)
		return -EIO;
	r = evtchnx_unmask(h, port);
	if (r < 0)
		return r;
	return evtchnx_send(h, port);
}

static int child(const char *lab, uint32_t remote_port, long count)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 2 };
	struct evtchnx_handle *h;
	int q, r;
	long i;

	h = evtchnx_open(lab, &o);
	if (!h)
		return fail("child: open", -errno);
	q = evtchnx_bind_interdomain(h, 1, remote_port);
	if (q < 0)
		return fail("child: bind_interdomain", q);
	/* the bind leaves q pending; then say "ready" */
	r = pong(h, (uint32_t)q);
	if (r < 0)
		return fail("child: ready", r);
	for (i = 0; i < count; i++) {
		r = pong(h, (uint32_t)q);
		if (r < 0)
			return fail("child: pong", r);
	}
	evtchnx_close(h);
	return 0;
}

int main(int argc, char **argv)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 1 };
	struct evtchnx_handle *h;
	long n = 20000, w = 2000, i;
	char lab[64];
	int opt, p, r, status;
	pid_t pid;
	double t0, t1, t2, t3;

	while ((opt = getopt(argc, argv, "n:w:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'w':
			w = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: %s [-n round_trips] [-w warm_up]\n", argv[0]);
			return 2;
		}
	}
	if (n <= 0 || w < 0) {
		fprintf(stderr, "lua_pingpong_ref: -n must be > 0 and -w >= 0\n");
		return 2;
	}
	alarm(300);
	snprintf(lab, sizeof(lab), "sim:luabench-ref-%ld", (long)getpid());

	h = evtchnx_open(lab, &o);
	if (!h)
		return fail("open", -errno);
	p = evtchnx_alloc_unbound(h, EVTCHNX_DOMID_SELF, 2);
	if (p < 0)
		return fail("alloc_unbound", p);

	pid = fork();
	if (pid < 0)
		return fail("fork", -errno);
	if (pid == 0) {
		/* the inherited handle is not ours to use: release it */
		evtchnx_close(h);
		_exit(child(lab, (uint32_t)p, n + w));
	}

	/* the child's "ready" */
	r = evtchnx_wait(h, 10000);
	if (r != p)
		return fail("wait for the child", r < 0 ? r : -EIO);
	evtchnx_unmask(h, (uint32_t)p);

	t0 = 0;
	for (i = 0; i < n + w; i++) {
		if (i == w)
			t0 = now_s();
		r = evtchnx_send(h, (uint32_t)p);
		if (r < 0)
			return fail("send", r);
		r = evtchnx_wait(h, -1);
		if (r != p)
			return fail("wait", r < 0 ? r : -EIO);
		r = evtchnx_unmask(h, (uint32_t)p);
		if (r < 0)
			return fail("unmask", r);
	}
	t1 = now_s();

	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "lua_pingpong_ref: the child failed\n");
		return 1;
	}
	t2 = now_s();
	for (i = 0; i < CALLS; i++) {
		r = evtchnx_is_pending(h, (uint32_t)p);
		if (r < 0)
			return fail("is_pending", r);
	}
	t3 = now_s();
	evtchnx_close(h);
	printf("rtt_us=%.3f n=%ld call_ns=%.1f\n", (t1 - t0) * 1e6 / (double)n, n,
	       (t3 - t2) * 1e9 / CALLS);
	return 0;
}
