/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * ping.c - two domains ping each other over one event channel.
 *
 *   ping [TARGET]     TARGET: "sim" (default, a lab inside this process) or
 *                     "sim:NAME" (a shared lab, started on demand)
 *
 * Domain 1 offers a port to domain 2 (alloc_unbound), domain 2 binds it
 * (bind_interdomain), then each side sends one event and the other waits
 * for it.  Build:  cc ping.c $(pkg-config --cflags --libs evtchnx)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <evtchnx.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "ping: %s: %s\n", what, evtchnx_strerror(err));
	return 1;
}

/* Drain the events already pending on @h (bind_interdomain leaves the new
 * port pending, as Xen does). */
static int drain(struct evtchnx_handle *h, const char *who)
{
	int port, ret;

	while ((port = evtchnx_pending(h)) >= 0) {
		printf("%s: event on port %d already pending after bind\n", who, port);
		ret = evtchnx_unmask(h, (uint32_t)port);
		if (ret < 0)
			return ret;
	}
	return port == -EAGAIN ? 0 : port;
}

/* @from sends on @from_port; @to must receive it on @to_port. */
static int one_way(struct evtchnx_handle *from, uint32_t from_port,
		   struct evtchnx_handle *to, uint32_t to_port)
{
	int ret;

	ret = evtchnx_send(from, from_port);
	if (ret < 0)
		return fail("send", ret);
	printf("dom%d: sent on port %u\n", evtchnx_domid(from), from_port);

	ret = evtchnx_wait(to, 5000);
	if (ret < 0)
		return fail("wait", ret);
	printf("dom%d: got an event on port %d\n", evtchnx_domid(to), ret);
	if ((uint32_t)ret != to_port) {
		fprintf(stderr, "ping: expected port %u\n", to_port);
		return 1;
	}
	ret = evtchnx_unmask(to, to_port);
	if (ret < 0)
		return fail("unmask", ret);
	return 0;
}

int main(int argc, char **argv)
{
	const char *target = argc > 1 ? argv[1] : "sim";
	struct evtchnx_open_opts opts;
	struct evtchnx_handle *a = NULL, *b = NULL;
	struct evtchnx_status st;
	int pa, pb, ret, status = 1;

	if (argc > 2 || (argc > 1 && strncmp(target, "sim", 3) != 0)) {
		fprintf(stderr, "usage: ping [sim|sim:NAME]\n");
		return 2;
	}
	printf("evtchnx %s (header %s), target %s\n", evtchnx_version(),
	       EVTCHNX_VERSION_STRING, target);

	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.domid = 1;
	a = evtchnx_open(target, &opts);
	if (!a) {
		fail("open as dom1", -errno);
		goto out;
	}
	opts.domid = 2;
	b = evtchnx_open(target, &opts);
	if (!b) {
		fail("open as dom2", -errno);
		goto out;
	}
	printf("opened dom%d and dom%d on the %s backend\n", evtchnx_domid(a),
	       evtchnx_domid(b), evtchnx_backend(a));

	pa = evtchnx_alloc_unbound(a, EVTCHNX_DOMID_SELF, 2);
	if (pa < 0) {
		fail("alloc_unbound", pa);
		goto out;
	}
	printf("dom1: port %d offered to dom2\n", pa);

	pb = evtchnx_bind_interdomain(b, 1, (uint32_t)pa);
	if (pb < 0) {
		fail("bind_interdomain", pb);
		goto out;
	}
	printf("dom2: port %d bound to dom1 port %d\n", pb, pa);

	memset(&st, 0, sizeof(st));
	st.sz = sizeof(st);
	ret = evtchnx_status(a, EVTCHNX_DOMID_SELF, (uint32_t)pa, &st);
	if (ret < 0) {
		fail("status", ret);
		goto out;
	}
	printf("dom1: port %d is %s, remote dom%u port %u\n", pa,
	       st.state == EVTCHNX_STATE_INTERDOMAIN ? "interdomain" : "not interdomain",
	       st.remote_domid, st.remote_port);
	if (st.state != EVTCHNX_STATE_INTERDOMAIN || st.remote_domid != 2 ||
	    st.remote_port != (uint32_t)pb) {
		fprintf(stderr, "ping: unexpected status\n");
		goto out;
	}

	ret = drain(b, "dom2");
	if (ret < 0) {
		fail("pending", ret);
		goto out;
	}

	if (one_way(a, (uint32_t)pa, b, (uint32_t)pb))
		goto out;
	if (one_way(b, (uint32_t)pb, a, (uint32_t)pa))
		goto out;

	ret = evtchnx_unbind(b, (uint32_t)pb);
	if (ret < 0) {
		fail("unbind", ret);
		goto out;
	}
	ret = evtchnx_status(a, EVTCHNX_DOMID_SELF, (uint32_t)pa, &st);
	if (ret < 0) {
		fail("status", ret);
		goto out;
	}
	printf("dom2 closed its port; dom1 port %d is now %s\n", pa,
	       st.state == EVTCHNX_STATE_UNBOUND ? "unbound" : "in another state");
	if (st.state != EVTCHNX_STATE_UNBOUND) {
		fprintf(stderr, "ping: unexpected status\n");
		goto out;
	}
	printf("ping: ok\n");
	status = 0;
out:
	evtchnx_close(b);
	evtchnx_close(a);
	return status;
}
