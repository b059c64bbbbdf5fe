/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xen_compat_rtt - the cost of the compatible libxenevtchn.so.1: one
 * cross-process ping-pong on a shared sim lab, written once against Xen's
 * xenevtchn.h (through compat/xenevtchn) and once against evtchnx directly,
 * measured in the same run.
 *
 *   compat   each side: poll(xenevtchn_fd) -> xenevtchn_pending ->
 *            xenevtchn_unmask -> xenevtchn_notify
 *   direct   each side: poll(evtchnx_fd) -> evtchnx_pending ->
 *            evtchnx_unmask -> evtchnx_send
 *
 * The parent is domain 0, a forked child domain 1; each has one channel of
 * each kind.  The kinds run back to back in several rounds, which of them
 * goes first alternating.  The figures are the medians of the rounds'
 * medians; the ratio judged against its target, 1.05, is the median of the
 * per-round ratios: each pairs two runs a few hundred milliseconds apart,
 * so a shift of the machine's speed between rounds (seen here as round
 * trips jumping between two levels on shared cores) does not skew it.
 * Usage: xen_compat_rtt [-n round_trips] [-w warm_up] [-r rounds] [-t watchdog_s] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "evtchnx.h"

#include "bench_util.h"

#define MAX_ROUNDS 64
#define TARGET_RATIO 1.05

enum { CMD_QUIT = 0, CMD_COMPAT = 1, CMD_DIRECT = 2 };

struct cmd {
	uint32_t op;
	uint32_t count;
};

/* One side: both channels. */
struct side {
	xenevtchn_handle *xce;
	int xport, xfd;
	struct evtchnx_handle *h;
	int hport, hfd;
};

static int wait_fd(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		int r = poll(&pfd, 1, -1);

		if (r == 1)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (bench_child_died)
			return -ECHILD;
	}
}

/* Take one event of @kind and unmask its port. */
static int take(struct side *s, int kind)
{
	int r;

	for (;;) {
		if (kind == CMD_COMPAT) {
			r = wait_fd(s->xfd);
			if (r < 0)
				return r;
			r = xenevtchn_pending(s->xce);
			if (r < 0)
				return -errno;
			if (r != s->xport)
				return -EPROTO;
			return xenevtchn_unmask(s->xce, (evtchn_port_t)r) < 0 ? -errno : 0;
		}
		r = wait_fd(s->hfd);
		if (r < 0)
			return r;
		r = evtchnx_pending(s->h);
		if (r == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		if (r != s->hport)
			return -EPROTO;
		return evtchnx_unmask(s->h, (uint32_t)r);
	}
}

static int send_one(struct side *s, int kind)
{
	if (kind == CMD_COMPAT)
		return xenevtchn_notify(s->xce, (evtchn_port_t)s->xport) < 0 ? -errno : 0;
	return evtchnx_send(s->h, (uint32_t)s->hport);
}

static void child(const char *target, int cmd_fd, int reply_fd)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 1 };
	struct side s = { 0 };
	uint32_t remote[2];
	struct cmd c;
	int r;

	setenv("EVTCHNX_DOMID", "1", 1);
	if (bench_read_all(cmd_fd, remote, sizeof(remote)) < 0)
		_exit(1);
	s.xce = xenevtchn_open(NULL, 0);
	s.h = evtchnx_open(target, &o);
	if (!s.xce || !s.h) {
		perror("xen_compat_rtt child: open");
		_exit(1);
	}
	s.xport = xenevtchn_bind_interdomain(s.xce, 0, remote[0]);
	s.hport = evtchnx_bind_interdomain(s.h, 0, remote[1]);
	if (s.xport < 0 || s.hport < 0) {
		fprintf(stderr, "xen_compat_rtt child: bind_interdomain failed\n");
		_exit(1);
	}
	s.xfd = xenevtchn_fd(s.xce);
	s.hfd = evtchnx_fd(s.h);
	/* Each new port is left pending: take that event. */
	if (take(&s, CMD_COMPAT) < 0 || take(&s, CMD_DIRECT) < 0)
		_exit(1);
	if (bench_write_all(reply_fd, remote, sizeof(remote)) < 0)
		_exit(1);

	for (;;) {
		if (bench_read_all(cmd_fd, &c, sizeof(c)) < 0 || c.op == CMD_QUIT)
			break;
		for (uint32_t i = 0; i < c.count; i++) {
			r = take(&s, (int)c.op);
			if (r == 0)
				r = send_one(&s, (int)c.op);
			if (r < 0) {
				fprintf(stderr, "xen_compat_rtt child: %s\n", strerror(-r));
				_exit(1);
			}
		}
	}
	xenevtchn_close(s.xce);
	evtchnx_close(s.h);
	_exit(0);
}

/* One measured run of @kind: the median round trip in microseconds. */
static int run_kind(struct side *s, int kind, int cmd_fd, long warmup, long n,
		    uint64_t *ns, double *median_us)
{
	struct cmd c = { .op = (uint32_t)kind, .count = (uint32_t)(warmup + n) };
	int r;

	bench_set_phase(kind == CMD_COMPAT ? "compat" : "direct", 0);
	r = bench_write_all(cmd_fd, &c, sizeof(c));
	for (long i = 0; r == 0 && i < warmup + n; i++) {
		uint64_t t0 = bench_now_ns();

		bench_iter = i + 1;
		r = send_one(s, kind);
		if (r == 0)
			r = take(s, kind);
		if (i >= warmup)
			ns[i - warmup] = bench_now_ns() - t0;
	}
	if (r < 0)
		return r;
	*median_us = bench_median_u64(ns, (size_t)n) / 1000.0;
	return 0;
}

int main(int argc, char **argv)
{
	long n = 20000, warmup = 2000, rounds = 5, watchdog = 300;
	double v_compat[MAX_ROUNDS], v_direct[MAX_ROUNDS], ratio_r[MAX_ROUNDS];
	unsigned char ok[MAX_ROUNDS];
	int cmd[2] = { -1, -1 }, reply[2] = { -1, -1 };
	struct evtchnx_open_opts o = { .sz = sizeof(o) };
	struct side s = { 0 };
	int verbose = 0, opt, r, ret = 1;
	char target[64];
	uint64_t *ns;
	pid_t pid;

	while ((opt = getopt(argc, argv, "n:w:r:t:vh")) != -1) {
		switch (opt) {
		case 'n': n = bench_parse_pos("-n", optarg, 10000000L); break;
		case 'w': warmup = bench_parse_pos("-w", optarg, 10000000L); break;
		case 'r': rounds = bench_parse_pos("-r", optarg, MAX_ROUNDS); break;
		case 't': watchdog = bench_parse_pos("-t", optarg, 86400L); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: xen_compat_rtt [-n round_trips] [-w warm_up] "
					"[-r rounds] [-t watchdog_s] [-v]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	bench_install_signals("xen_compat_rtt", (unsigned int)watchdog);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ns = calloc((size_t)n, sizeof(*ns));
	if (!ns)
		return 1;

	/* The compatible library takes its lab and domain from here. */
	snprintf(target, sizeof(target), "sim:bench-compat-%d", (int)getpid());
	setenv("EVTCHNX_TARGET", target, 1);
	setenv("EVTCHNX_DOMID", "0", 1);

	if (pipe2(cmd, O_CLOEXEC) < 0 || pipe2(reply, O_CLOEXEC) < 0) {
		perror("xen_compat_rtt: pipe2");
		goto out;
	}
	fflush(NULL);
	pid = bench_fork((unsigned int)watchdog);
	if (pid < 0) {
		perror("xen_compat_rtt: fork");
		goto out;
	}
	if (pid == 0) {
		close(cmd[1]);
		close(reply[0]);
		child(target, cmd[0], reply[1]);
	}
	close(cmd[0]);
	close(reply[1]);
	cmd[0] = reply[1] = -1;

	s.xce = xenevtchn_open(NULL, 0);
	s.h = evtchnx_open(target, &o);
	if (!s.xce || !s.h) {
		perror("xen_compat_rtt: open");
		goto out;
	}
	s.xport = xenevtchn_bind_unbound_port(s.xce, 1);
	s.hport = evtchnx_alloc_unbound(s.h, EVTCHNX_DOMID_SELF, 1);
	if (s.xport < 0 || s.hport < 0) {
		fprintf(stderr, "xen_compat_rtt: cannot allocate the ports\n");
		goto out;
	}
	s.xfd = xenevtchn_fd(s.xce);
	s.hfd = evtchnx_fd(s.h);
	{
		uint32_t ports[2] = { (uint32_t)s.xport, (uint32_t)s.hport };

		r = bench_write_all(cmd[1], ports, sizeof(ports));
		if (r == 0)
			r = bench_read_all(reply[0], ports, sizeof(ports));
		if (r < 0) {
			fprintf(stderr, "xen_compat_rtt: domain 1 did not bind\n");
			goto out;
		}
	}

	printf("xen_compat_rtt: nproc %ld, evtchnx %s, lab %s, %ld round trips x %ld rounds "
	       "(warm-up %ld), figures are medians of rounds\n",
	       sysconf(_SC_NPROCESSORS_ONLN), evtchnx_version(), target, n, rounds, warmup);
	bench_warn_load();
	for (long k = 0; k < rounds; k++) {
		int first = k % 2 ? CMD_DIRECT : CMD_COMPAT;
		int second = first == CMD_COMPAT ? CMD_DIRECT : CMD_COMPAT;
		double *v1 = first == CMD_COMPAT ? &v_compat[k] : &v_direct[k];
		double *v2 = first == CMD_COMPAT ? &v_direct[k] : &v_compat[k];

		r = run_kind(&s, first, cmd[1], warmup, n, ns, v1);
		if (r == 0)
			r = run_kind(&s, second, cmd[1], warmup, n, ns, v2);
		if (r < 0) {
			fprintf(stderr, "xen_compat_rtt: round %ld failed: %s\n", k + 1,
				r == -ECHILD ? "the child died" : strerror(-r));
			goto out;
		}
		ratio_r[k] = v_compat[k] / v_direct[k];
		if (verbose)
			printf("  round %ld: direct %.1f  compat %.1f us/rt  ratio %.3f\n", k + 1,
			       v_direct[k], v_compat[k], ratio_r[k]);
	}
	{
		double direct = bench_median_double(v_direct, (size_t)rounds);
		double compat = bench_median_double(v_compat, (size_t)rounds);
		double ratio = bench_median_double(ratio_r, (size_t)rounds);

		printf("xen_compat_rtt evtchnx direct        median %6.1f us/rt\n", direct);
		printf("xen_compat_rtt libxenevtchn (compat)  median %6.1f us/rt\n", compat);
		printf("xen_compat_rtt per-round ratios      median %.3f  min %.3f  max %.3f "
		       "(ratio of the medians %.3f)\n", ratio,
		       bench_min_double(ratio_r, (size_t)rounds),
		       bench_max_double(ratio_r, (size_t)rounds), compat / direct);
		printf("ratio compat/direct %.3f (target <= %.2f) %s\n", ratio, TARGET_RATIO,
		       bench_pass(ratio <= TARGET_RATIO));
		/* A round either completes or ends the run: all are valid. */
		memset(ok, 1, sizeof(ok));
		bench_result("xen_compat_rtt.ratio", bench_stat_valid(ratio_r, ok, (size_t)rounds),
			     BENCH_AT_MOST, TARGET_RATIO, 3);
	}
	ret = 0;
out:
	bench_set_phase("tear-down", 0);
	bench_begin_reaping();
	if (ret == 0) {
		struct cmd q = { .op = CMD_QUIT };

		bench_write_all(cmd[1], &q, sizeof(q));
	} else {
		bench_kill_children();
	}
	if (cmd[1] >= 0)
		close(cmd[1]);
	if (bench_reap_children(5000) && ret == 0) {
		fprintf(stderr, "xen_compat_rtt: the child failed\n");
		ret = 1;
	}
	xenevtchn_close(s.xce);
	evtchnx_close(s.h);
	if (reply[0] >= 0)
		close(reply[0]);
	free(ns);
	return ret;
}
