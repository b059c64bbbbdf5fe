/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * guest_rtt.c - the inter-domain round trip on real Xen, dom0 <-> guest:
 * evtchnx against raw libxenevtchn in the same boot.
 *
 *   raw      dom0: xenevtchn_bind_unbound_port(guest); the guest binds it
 *            with libxenevtchn; each side: poll(fd) -> xenevtchn_pending
 *            -> xenevtchn_unmask -> xenevtchn_notify.
 *   evtchnx  the same with evtchnx on both sides: poll(evtchnx_fd) ->
 *            evtchnx_pending -> evtchnx_unmask -> evtchnx_send in dom0,
 *            evtchnx_wait -> evtchnx_unmask -> evtchnx_send in the guest.
 *
 * The guest's end is xenvm_peer's "echo" and "rawecho" (xpeer.c), started
 * over the guest's console before dom0 sends the first event.  The kinds
 * alternate in rounds; the figures are medians over the rounds, the ratio
 * evtchnx / raw per round.  Like bench/xen_rtt it lowers the round trips
 * per round until at least MIN_ROUNDS rounds fit in the time budget
 * (EVTCHNX_BENCH_SECONDS, default 30), and says "BENCH INVALID" when they
 * did not.  Every line starts with "BENCH "; a benchmark, not a test: exit
 * 0 when it ran, 1 when it could not, 77 without a guest.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenevtchn.h>

#include "rounds.h"
#include "xpeer.h"

#define MAX_ROUNDS 41
#define MIN_ROUNDS 7

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what, int err)
{
	printf("BENCH error: %s: %s\n", what, strerror(err));
	exit(1);
}

static xenevtchn_handle *xce;
static uint32_t raw_port, raw_gport;
static struct evtchnx_handle *h;
static uint32_t evx_port, evx_gport;
static int gidx;

static int evx_take(void)
{
	struct pollfd pfd = { .fd = evtchnx_fd(h), .events = POLLIN };
	int p;

	for (;;) {
		if (poll(&pfd, 1, 10000) != 1)
			return -ETIMEDOUT;
		p = evtchnx_pending(h);
		if (p == -EAGAIN)
			continue; /* spurious wake-up (allowed) */
		if (p < 0)
			return p;
		evtchnx_unmask(h, p);
		return p;
	}
}

/* @n round trips of one kind; microseconds per round trip, or < 0. */
static double round_trips(bool raw, long n)
{
	double t0, t1;
	long got;

	if (raw)
		xp_post("rawecho 0 %u %ld", raw_gport, n);
	else
		xp_post("echo %d %u %ld", gidx, evx_gport, n);
	t0 = now_us();
	for (long i = 0; i < n; i++) {
		if (raw) {
			xenevtchn_notify(xce, raw_port);
			if (xp_raw_take(xce, 10000) < 0)
				return -1;
		} else {
			evtchnx_send(h, evx_port);
			if (evx_take() < 0)
				return -1;
		}
	}
	t1 = now_us();
	got = xp_collect(NULL, NULL, 60000);
	if (got != n)
		return -1;
	return (t1 - t0) / n;
}

int main(void)
{
	const char *b = getenv("EVTCHNX_BENCH_SECONDS");
	double budget = b ? atof(b) : 30, start, est, fit;
	double t[2][MAX_ROUNDS], ratio[MAX_ROUNDS], e[6], o[6], over, mr;
	double last_round = 0;
	long n = 200, rounds = 0, r;
	int g, p;
	struct xp_side gs;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = xp_connect(60000);
	if (r < 0) {
		printf("BENCH skipped: no guest answers on its console (%s)\n",
		       evtchnx_strerror((int)r));
		return 77;
	}
	g = xp_guest();
	/* evtchnx: dom0 offers, the guest binds and takes the bind's event. */
	h = evtchnx_open("xen", NULL);
	if (!h)
		die("evtchnx_open", errno);
	p = evtchnx_alloc_unbound(h, EVTCHNX_DOMID_SELF, g);
	if (p < 0)
		die("evtchnx_alloc_unbound", -p);
	evx_port = p;
	if (xs_remote(&gs) < 0)
		die("the guest's evtchnx_open", errno);
	gidx = gs.idx;
	p = xs_bind(&gs, 0, evx_port);
	if (p < 0)
		die("the guest's evtchnx_bind_interdomain", -p);
	evx_gport = p;
	if (xs_wait(&gs, 5000) != (int)evx_gport || xs_unmask(&gs, evx_gport))
		die("the bind's event in the guest", ETIMEDOUT);
	/* raw: the same with libxenevtchn on both sides. */
	xce = xenevtchn_open(NULL, 0);
	if (!xce)
		die("xenevtchn_open", errno);
	p = xenevtchn_bind_unbound_port(xce, g);
	if (p < 0)
		die("xenevtchn_bind_unbound_port", errno);
	raw_port = p;
	p = (int)xp_call(NULL, NULL, "rawbind 0 0 %u", raw_port);
	if (p < 0)
		die("the guest's xenevtchn_bind_interdomain", -p);
	raw_gport = p;

	/* What a round trip costs now, what starting the guest's end costs
	 * (a request over its console), and how many round trips fit in the
	 * budget. */
	for (int i = 0; i < 6; i++) {
		double w = now_us();

		if ((e[i] = round_trips(i % 2, 10)) < 0)
			die("a round trip with the guest", ETIMEDOUT);
		o[i] = now_us() - w - 10 * e[i];
	}
	est = bench_median(e, 6);
	over = bench_median(o, 6);
	fit = (budget * 1e6 * 0.8 / MIN_ROUNDS / 2 - over) / est;
	if (n > fit)
		n = fit < 10 ? 10 : (long)fit;
	start = now_us();
	printf("BENCH guest_rtt: dom0 <-> guest %d, %ld round trips per kind and round (one costs about %.0f us here, starting the guest's end %.0f us), up to %d rounds in %.0f s, library %s\n",
	       g, n, est, over, MAX_ROUNDS, budget, evtchnx_version());
	for (r = 0; r < MAX_ROUNDS; r++) {
		double r0 = now_us(), left = budget * 1e6 - (r0 - start);

		if (left <= 0)
			break;
		/* MIN_ROUNDS must still fit. */
		if (r > 0 && r < MIN_ROUNDS)
			n = bench_fit_round(n, 0, last_round, left,
					    MIN_ROUNDS - r, r + 1);
		for (int i = 0; i < 2; i++) {
			bool raw = (r % 2) ? i == 1 : i == 0;

			t[raw ? 0 : 1][r] = round_trips(raw, n);
			if (t[raw ? 0 : 1][r] < 0)
				die("a round trip with the guest", ETIMEDOUT);
		}
		ratio[r] = t[1][r] / t[0][r];
		last_round = now_us() - r0;
		printf("BENCH round %ld: raw %.1f us, evtchnx %.1f us, ratio %.3f\n",
		       r + 1, t[0][r], t[1][r], ratio[r]);
	}
	rounds = r;
	if (rounds < MIN_ROUNDS)
		printf("BENCH INVALID: only %ld rounds in %.0f s, fewer than the %d a median needs: the host was too slow or too loaded; the figures below are not a measurement\n",
		       rounds, budget, MIN_ROUNDS);
	if (rounds > 0) {
		printf("BENCH dom0<->guest raw libxenevtchn  median %8.2f us/rt\n",
		       bench_median(t[0], (int)rounds));
		printf("BENCH dom0<->guest evtchnx           median %8.2f us/rt\n",
		       bench_median(t[1], (int)rounds));
		mr = bench_median(ratio, (int)rounds);
		printf("BENCH dom0<->guest ratio evtchnx/raw median %.3f, middle half of the rounds %.3f-%.3f\n",
		       mr, ratio[rounds / 4], ratio[(3 * rounds) / 4]);
		if (ratio[(3 * rounds) / 4] - ratio[rounds / 4] > 0.5 * mr)
			printf("BENCH UNSTABLE: the middle half of the per-round ratios spans more than half the median: the host's load, not the code, decides these figures\n");
	}
	printf("BENCH %s: %ld rounds of %ld round trips per kind\n",
	       rounds < MIN_ROUNDS ? "INVALID run" : "valid run", rounds, n);
	xs_close_side(&gs);
	evtchnx_close(h);
	xenevtchn_close(xce);
	return 0;
}
