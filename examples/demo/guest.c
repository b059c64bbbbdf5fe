/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * guest.c - the C guest of the cross-language demo (demo.py starts it).
 *
 *   evtchnx-demo-guest LAB DOMID DOM0-PORT PEER-PORT PEER-DOM ROUNDS T0 REPORT
 *
 * As domain DOMID of the shared lab LAB it binds to DOM0-PORT of domain 0
 * (the control domain's end of its channel), adopts PEER-PORT (a port the
 * control domain allocated in this domain, offered to PEER-DOM), takes the
 * event a new bind leaves pending, and says "ready" to dom0.  Then:
 *
 *   - it answers ROUNDS events from dom0 (dom0 times the round trips);
 *   - on dom0's next event it pings PEER-DOM ROUNDS times on PEER-PORT,
 *     timing each answer, then tells dom0 "done";
 *   - on dom0's next event it looks at PEER-PORT with evtchnx_status (dom0
 *     says the peer has left: the port must be unbound), writes its counts
 *     to REPORT as one line of JSON, and leaves.
 *
 * T0 (seconds on CLOCK_MONOTONIC) is the demo's start, for the timeline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <evtchnx.h>

#define TIMEOUT_MS 10000

static double t0;
static unsigned int domid;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void trace(const char *fmt, ...)
{
	va_list ap;

	printf("%9.1f  dom%u C    %-7d  ", (now() - t0) * 1e3, domid, (int)getpid());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dom%u C guest: ", domid);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void check(int r, const char *what)
{
	if (r < 0)
		die("%s: %s", what, evtchnx_strerror(r));
}

/* The next event, which must be on @port; taken and unmasked. */
static void expect(struct evtchnx_handle *h, uint32_t port, const char *from)
{
	int r = evtchnx_wait(h, TIMEOUT_MS);

	if (r == -ETIMEDOUT)
		die("no event from %s on port %u within %d ms", from, port, TIMEOUT_MS);
	check(r, "evtchnx_wait");
	check(evtchnx_unmask(h, (uint32_t)r), "evtchnx_unmask");
	if ((uint32_t)r != port)
		die("an event on port %d, expected one from %s on port %u", r, from, port);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct evtchnx_open_opts opts = { .sz = sizeof(opts) };
	struct evtchnx_status st = { .sz = sizeof(st) };
	unsigned long sent0 = 0, recv0 = 0, sent_peer = 0, recv_peer = 0;
	unsigned int dom0_port, peer_port, peer_dom, rounds;
	struct evtchnx_handle *h;
	double *rtt, sum = 0;
	FILE *report;
	int port0;

	if (argc != 9) {
		fprintf(stderr, "usage: %s LAB DOMID DOM0-PORT PEER-PORT PEER-DOM ROUNDS T0 REPORT\n"
				"(started by examples/demo/demo.py)\n", argv[0]);
		return 2;
	}
	domid = (unsigned int)strtoul(argv[2], NULL, 10);
	dom0_port = (unsigned int)strtoul(argv[3], NULL, 10);
	peer_port = (unsigned int)strtoul(argv[4], NULL, 10);
	peer_dom = (unsigned int)strtoul(argv[5], NULL, 10);
	rounds = (unsigned int)strtoul(argv[6], NULL, 10);
	t0 = strtod(argv[7], NULL);
	/* Die with the demo, whatever happens to it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	rtt = calloc(rounds ? rounds : 1, sizeof(*rtt));
	if (!rtt)
		die("out of memory");

	opts.domid = domid;
	h = evtchnx_open(argv[1], &opts);
	if (!h)
		die("evtchnx_open(\"%s\", dom%u): %s", argv[1], domid, evtchnx_strerror(-errno));
	trace("open(\"%s\", dom%u)  its own handle, in a process of its own", argv[1],
	      domid);
	port0 = evtchnx_bind_interdomain(h, 0, dom0_port);
	check(port0, "bind_interdomain(0, dom0's port)");
	trace("bind_interdomain(0, %u) -> %d  its channel to dom0", dom0_port, port0);
	check(evtchnx_adopt(h, peer_port), "adopt(the port dom0 allocated for us)");
	trace("adopt(%u) -> 0                 the port dom0 allocated here for dom%u", peer_port,
	      peer_dom);
	/* A new bind leaves its port pending, as on Xen: not a message. */
	expect(h, (uint32_t)port0, "the bind itself");
	trace("pending() x1, unmask          spurious: a new bind leaves its port pending");
	check(evtchnx_send(h, (uint32_t)port0), "send ready");
	sent0++;
	trace("send(%d) -> 0                  \"ready\", to dom0", port0);

	/* dom0 pings us: answer each. */
	for (unsigned int i = 0; i < rounds; i++) {
		expect(h, (uint32_t)port0, "dom0");
		recv0++;
		check(evtchnx_send(h, (uint32_t)port0), "answer dom0");
		sent0++;
	}
	trace("answered %u pings from dom0 on port %d", rounds, port0);

	/* dom0 says: ping your peer. */
	expect(h, (uint32_t)port0, "dom0 (go)");
	recv0++;
	trace("dom0 says go: pinging dom%u on port %u, %u rounds", peer_dom, peer_port, rounds);
	for (unsigned int i = 0; i < rounds; i++) {
		double t = now();

		check(evtchnx_send(h, peer_port), "ping the peer");
		sent_peer++;
		expect(h, peer_port, "the peer");
		recv_peer++;
		rtt[i] = (now() - t) * 1e6;
	}
	qsort(rtt, rounds, sizeof(*rtt), cmp);
	trace("dom%u <-> dom%u: %u round trips, median %.1f us", domid, peer_dom, rounds,
	      rounds ? rtt[rounds / 2] : 0.0);
	check(evtchnx_send(h, (uint32_t)port0), "done");
	sent0++;
	trace("send(%d) -> 0                  \"done\", to dom0", port0);

	/* dom0 says the peer has left: see it on our own port. */
	expect(h, (uint32_t)port0, "dom0 (probe)");
	recv0++;
	check(evtchnx_status(h, EVTCHNX_DOMID_SELF, peer_port, &st), "status of our peer port");
	trace("status(SELF, %u) -> %s         remote dom%u: the peer has gone (no event says so)",
	      peer_port, st.state == EVTCHNX_STATE_UNBOUND ? "unbound" :
			 st.state == EVTCHNX_STATE_INTERDOMAIN ? "interdomain" : "?",
	      st.remote_domid);

	for (unsigned int i = 0; i < rounds; i++)
		sum += rtt[i];
	report = fopen(argv[8], "w");
	if (!report)
		die("%s: %s", argv[8], strerror(errno));
	fprintf(report,
		"{\"dom\":%u,\"sent\":{\"0\":%lu,\"%u\":%lu},\"received\":{\"0\":%lu,\"%u\":%lu},"
		"\"rtt_median_us\":%.2f,\"rtt_mean_us\":%.2f,\"peer_port_state\":\"%s\"}\n",
		domid, sent0, peer_dom, sent_peer, recv0, peer_dom, recv_peer,
		rounds ? rtt[rounds / 2] : 0.0, rounds ? sum / rounds : 0.0,
		st.state == EVTCHNX_STATE_UNBOUND ? "unbound" : "not unbound");
	if (fclose(report))
		die("%s: %s", argv[8], strerror(errno));
	trace("leaving: sent %lu, received %lu events; closing the handle", sent0 + sent_peer,
	      recv0 + recv_peer);
	evtchnx_close(h);
	free(rtt);
	return 0;
}
