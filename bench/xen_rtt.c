/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xen_rtt - cross-process round trip on a real Xen host: evtchnx's "xen"
 * backend against raw libxenevtchn calls, measured in the same run.
 *
 *   raw      two processes of this domain, each with its own
 *            xenevtchn_handle, joined by a loopback channel
 *            (bind_unbound_port + bind_interdomain).  Each side:
 *            poll(xenevtchn_fd) -> xenevtchn_pending -> xenevtchn_unmask
 *            -> xenevtchn_notify.
 *   evtchnx  the same with evtchnx_open("xen"): poll(evtchnx_fd) ->
 *            evtchnx_pending -> evtchnx_unmask -> evtchnx_send.
 *   wait     evtchnx_wait(h, -1) instead of poll + pending (report only).
 *   raw+epoll  raw, but polling an epoll set that holds xenevtchn_fd, as
 *            evtchnx_fd is (report only: what that indirection costs).
 *
 * The kinds run interleaved in rounds, alternating which goes first; each
 * round gives the mean round trip of that kind, the figures printed are the
 * medians over the rounds, and the ratio is evtchnx / raw per round.
 * Every output line starts with "BENCH " (tests/xen-vm/xen-vm.sh shows
 * those lines from the VM's serial log).  Target: ratio <= 1.05.
 *
 *   xen_rtt [-n round_trips] [-w warm_up] [-r rounds] [-T seconds]
 *
 * -T bounds the run: no new round starts after that many seconds.  Under
 * QEMU's software emulation a round trip costs about a millisecond, and
 * ten or a hundred times that on a loaded host, so the run measures the
 * round trip first and lowers the warm-up and the round trips per round
 * until at least MIN_ROUNDS rounds fit in the budget.  A run that still
 * ends with fewer rounds (the host slowed down further) says "BENCH
 * INVALID" and its medians are not a measurement.
 *
 * Exit status: 0 when it ran (whatever the figures), 1 when it could not,
 * 77 when this is not a Xen host.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>

#include "evtchnx.h"
#include "rounds.h"

#define MAX_ROUNDS 64
/* Fewest rounds whose median is worth printing. */
#define MIN_ROUNDS 7

enum kind { K_RAW, K_EVX, K_WAIT, K_RAWEP, NKINDS };
static const char *const kind_name[NKINDS] = {
	"raw libxenevtchn", "evtchnx poll+pending", "evtchnx wait",
	"raw, polled via epoll"
};

/* One end of each kind's channel, in this process. */
struct side {
	xenevtchn_handle *xce;
	uint32_t raw_port;
	int ep; /* an epoll set holding xenevtchn_fd (K_RAWEP) */
	struct evtchnx_handle *h;
	uint32_t evx_port;
};

static void die(const char *what)
{
	printf("BENCH error: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put(int fd, uint32_t v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		die("pipe write");
}

static uint32_t get(int fd)
{
	uint32_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		die("pipe read (peer gone)");
	return v;
}

static int epoll_of(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll");
	return ep;
}

/* Wait for the next event of one kind and re-arm it. */
static void take(struct side *s, enum kind k)
{
	struct pollfd pfd = { .events = POLLIN };
	int p;

	switch (k) {
	case K_RAW:
	case K_RAWEP:
		pfd.fd = k == K_RAW ? xenevtchn_fd(s->xce) : s->ep;
		if (poll(&pfd, 1, -1) != 1)
			die("poll");
		p = xenevtchn_pending(s->xce);
		if (p < 0 || (uint32_t)p != s->raw_port)
			die("xenevtchn_pending");
		if (xenevtchn_unmask(s->xce, (uint32_t)p) < 0)
			die("xenevtchn_unmask");
		break;
	case K_EVX:
		pfd.fd = evtchnx_fd(s->h);
		for (;;) {
			if (poll(&pfd, 1, -1) != 1)
				die("poll");
			p = evtchnx_pending(s->h);
			if (p != -EAGAIN)
				break;
		}
		if (p < 0 || (uint32_t)p != s->evx_port)
			die("evtchnx_pending");
		if (evtchnx_unmask(s->h, (uint32_t)p) < 0)
			die("evtchnx_unmask");
		break;
	default:
		p = evtchnx_wait(s->h, -1);
		if (p < 0 || (uint32_t)p != s->evx_port)
			die("evtchnx_wait");
		if (evtchnx_unmask(s->h, (uint32_t)p) < 0)
			die("evtchnx_unmask");
		break;
	}
}

static void kick(struct side *s, enum kind k)
{
	if (k == K_RAW || k == K_RAWEP) {
		if (xenevtchn_notify(s->xce, s->raw_port) < 0)
			die("xenevtchn_notify");
	} else if (evtchnx_send(s->h, s->evx_port) < 0) {
		die("evtchnx_send");
	}
}

/* The peer: binds both channels, then answers every event with one. */
static void peer(int in, int out)
{
	struct side s = { 0 };
	int p;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	s.xce = xenevtchn_open(NULL, 0);
	if (!s.xce)
		die("xenevtchn_open (peer)");
	p = xenevtchn_bind_interdomain(s.xce, 0x7FF0 /* DOMID_SELF */, get(in));
	if (p < 0)
		die("xenevtchn_bind_interdomain");
	s.raw_port = (uint32_t)p;
	s.ep = epoll_of(xenevtchn_fd(s.xce));
	take(&s, K_RAW); /* the event Xen leaves on a new binding */

	s.h = evtchnx_open("xen", NULL);
	if (!s.h)
		die("evtchnx_open (peer)");
	p = evtchnx_bind_interdomain(s.h, EVTCHNX_DOMID_SELF, get(in));
	if (p < 0) {
		errno = -p;
		die("evtchnx_bind_interdomain");
	}
	s.evx_port = (uint32_t)p;
	take(&s, K_EVX);
	put(out, 0);

	for (;;) {
		uint32_t k = get(in), n = get(in);

		if (k >= NKINDS)
			break;
		for (uint32_t i = 0; i < n; i++) {
			take(&s, (enum kind)k);
			kick(&s, (enum kind)k);
		}
		put(out, 0);
	}
	evtchnx_close(s.h);
	xenevtchn_close(s.xce);
	exit(0);
}

/* @n round trips of kind @k; returns ns per round trip. */
static double run(struct side *s, int to, int from, enum kind k, uint32_t n)
{
	uint64_t t0, t1;

	put(to, k);
	put(to, n);
	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++) {
		kick(s, k);
		take(s, k);
	}
	t1 = now_ns();
	get(from);
	return n ? (double)(t1 - t0) / n : 0;
}

int main(int argc, char **argv)
{
	long n = 200, warm = 20, rounds = 21, budget = 30;
	uint64_t start;
	double est, fit, mr, last_round = 0;
	long need;
	double t[NKINDS][MAX_ROUNDS], ratio[MAX_ROUNDS], r2[MAX_ROUNDS];
	double r3[MAX_ROUNDS];
	int to[2], from[2], opt, p, status;
	struct side s = { 0 };
	pid_t child;

	while ((opt = getopt(argc, argv, "n:w:r:T:")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'w': warm = atol(optarg); break;
		case 'r': rounds = atol(optarg); break;
		case 'T': budget = atol(optarg); break;
		default:
			fprintf(stderr, "usage: xen_rtt [-n round_trips] [-w warm_up] [-r rounds] [-T seconds]\n");
			return 1;
		}
	}
	if (n < 1 || warm < 0 || rounds < 1 || rounds > MAX_ROUNDS || budget < 1) {
		fprintf(stderr, "xen_rtt: bad arguments\n");
		return 1;
	}
	if (access("/dev/xen/evtchn", F_OK) != 0) {
		printf("BENCH skipped: no /dev/xen/evtchn (not a Xen host)\n");
		return 77;
	}
	need = rounds < MIN_ROUNDS ? rounds : MIN_ROUNDS;
	setvbuf(stdout, NULL, _IOLBF, 0);

	s.xce = xenevtchn_open(NULL, 0);
	if (!s.xce)
		die("xenevtchn_open");
	p = xenevtchn_bind_unbound_port(s.xce, 0x7FF0 /* DOMID_SELF */);
	if (p < 0)
		die("xenevtchn_bind_unbound_port");
	s.raw_port = (uint32_t)p;
	s.ep = epoll_of(xenevtchn_fd(s.xce));
	s.h = evtchnx_open("xen", NULL);
	if (!s.h)
		die("evtchnx_open");
	p = evtchnx_alloc_unbound(s.h, EVTCHNX_DOMID_SELF, EVTCHNX_DOMID_SELF);
	if (p < 0) {
		errno = -p;
		die("evtchnx_alloc_unbound");
	}
	s.evx_port = (uint32_t)p;

	if (pipe(to) < 0 || pipe(from) < 0)
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		/* Never touch the parent's handles here. */
		close(to[1]);
		close(from[0]);
		peer(to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	put(to[1], s.raw_port);
	put(to[1], s.evx_port);
	get(from[0]);

	/* What a round trip costs on this host now (the slowest kind), and
	 * what fits in the budget: a tenth of it for the warm-up, the rest
	 * for at least MIN_ROUNDS rounds. */
	start = now_ns();
	{
		/* The median of a few short runs: one descheduled vCPU must
		 * not decide the size of every round. */
		double e[3 * NKINDS];

		for (int i = 0; i < 3 * NKINDS; i++)
			e[i] = run(&s, to[1], from[0], (enum kind)(i % NKINDS), 10);
		est = bench_median(e, 3 * NKINDS);
	}
	fit = (double)budget * 1e9 / (est * NKINDS);
	if (5 * warm > fit / 10)
		warm = (long)(fit / 50);
	if (warm < 2)
		warm = 2;
	if ((double)need * (n + warm) > fit * 0.8) {
		long was = n;

		n = (long)(fit * 0.8 / need) - warm;
		if (n < 10)
			n = 10;
		printf("BENCH a round trip costs about %.0f us here: %ld round trips per kind and round instead of %ld\n",
		       est / 1000, n, was);
	}
	printf("BENCH xen_rtt: %ld round trips per kind and round after %ld warm-up, up to %ld rounds in %ld s, library %s\n",
	       n, warm, rounds, budget, evtchnx_version());
	/* A longer warm-up of every kind first: the first rounds of a fresh
	 * boot run slower and scatter more. */
	for (int k = 0; k < NKINDS; k++)
		run(&s, to[1], from[0], (enum kind)k, (uint32_t)(5 * warm));
	for (long r = 0; r < rounds; r++) {
		uint64_t r0 = now_ns();
		double left = (double)budget * 1e9 - (double)(r0 - start);

		if (left <= 0) {
			printf("BENCH time budget of %ld s reached after %ld rounds\n",
			       budget, r);
			rounds = r;
			break;
		}
		/* The rounds a median needs must still fit. */
		if (r > 0 && r < need)
			n = bench_fit_round(n, warm, last_round, left, need - r,
					    r + 1);
		for (int i = 0; i < NKINDS; i++) {
			/* Alternate which kind goes first. */
			enum kind k = (enum kind)((r % 2) ? NKINDS - 1 - i : i);

			run(&s, to[1], from[0], k, (uint32_t)warm);
			t[k][r] = run(&s, to[1], from[0], k, (uint32_t)n);
		}
		ratio[r] = t[K_EVX][r] / t[K_RAW][r];
		last_round = (double)(now_ns() - r0);
		r2[r] = t[K_WAIT][r] / t[K_RAW][r];
		r3[r] = t[K_RAWEP][r] / t[K_RAW][r];
		printf("BENCH round %ld: raw %.1f us, evtchnx %.1f us, wait %.1f us, raw+epoll %.1f us, ratio %.3f\n",
		       r + 1, t[K_RAW][r] / 1000, t[K_EVX][r] / 1000,
		       t[K_WAIT][r] / 1000, t[K_RAWEP][r] / 1000, ratio[r]);
	}
	put(to[1], NKINDS);
	put(to[1], 0);
	waitpid(child, &status, 0);

	if (rounds < need) {
		printf("BENCH INVALID: only %ld rounds in %ld s, fewer than the %ld a median needs: the host was too slow or too loaded; the figures below are not a measurement\n",
		       rounds, budget, need);
		if (rounds == 0)
			goto out;
	}
	for (int k = 0; k < NKINDS; k++)
		printf("BENCH %-22s median %8.2f us/rt\n", kind_name[k],
		       bench_median(t[k], (int)rounds) / 1000);
	mr = bench_median(ratio, (int)rounds); /* sorts ratio[] */
	printf("BENCH ratio evtchnx/raw     median %.3f (target <= 1.05), middle half of the rounds %.3f-%.3f\n",
	       mr, ratio[rounds / 4],
	       ratio[(3 * rounds) / 4 < rounds ? (3 * rounds) / 4 : rounds - 1]);
	if (ratio[(3 * rounds) / 4] - ratio[rounds / 4] > 0.5 * mr)
		printf("BENCH UNSTABLE: the middle half of the per-round ratios spans more than half the median: the host's load, not the code, decides these figures\n");
	printf("BENCH ratio wait/raw        median %.3f (report only)\n",
	       bench_median(r2, (int)rounds));
	printf("BENCH ratio raw+epoll/raw   median %.3f (report only: the cost of an epoll set)\n",
	       bench_median(r3, (int)rounds));
	printf("BENCH %s: %ld rounds of %ld round trips per kind\n",
	       rounds < need ? "INVALID run" : "valid run", rounds, n);
out:
	evtchnx_close(s.h);
	xenevtchn_close(s.xce);
	return 0;
}
