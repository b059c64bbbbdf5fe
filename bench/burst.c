/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * burst - burst delivery to 4095 ports round-robin: evtchnx (shared sim
 * lab) against a raw coalesced-bitmap floor measured in the same run.
 *
 *   floor    a sender and a receiver process share a memfd holding a
 *            4096-bit pending bitmap, a "kicked" flag and an eventfd
 *            doorbell.  The sender sets port bits round-robin with an
 *            atomic fetch_or and writes the doorbell only when a bit went
 *            0->1 and exchanging the kicked flag to 1 found it 0.  The
 *            receiver waits in epoll, reads the doorbell, clears the kicked
 *            flag, then takes every set bit atomically (one delivery each).
 *   evtchnx  the control domain (this process) allocates 4095 unbound ports
 *            for domain 1; a child opens the lab as domain 1 and binds them
 *            all.  This process sends round-robin on its ends; the child
 *            waits in poll() on evtchnx_fd, drains with
 *            evtchnx_pending_batch (256 at a time) and unmasks each port
 *            it took.
 *
 * A pending bit coalesces repeated sends to a port that was not taken yet,
 * so deliveries <= sends; the figure compared is deliveries per second
 * (distinct events the receiver took), sends per second is printed too.
 * Kinds alternate over several rounds; the figures are medians of rounds.
 *
 * Usage: burst [-n sends] [-p ports] [-r rounds] [-t watchdog_s] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "evtchnx.h"

#include "bench_util.h"

#define MAX_PORTS 4095u /* every port of a domain but the reserved port 0 */
#define BATCH 256u
#define WORDS 64u    /* 4096 bits */
#define MAX_ROUNDS 64

enum { CMD_QUIT = 0, CMD_GO = 1 };

/* What a receiver reports after one round. */
struct result {
	uint64_t deliveries;
	uint64_t wakeups;
	uint64_t t_end_ns;
};

/* Shared between this process and both receivers (one memfd). */
struct shm {
	/* the floor's 2-level state */
	alignas(64) _Atomic uint64_t bits[WORDS];
	alignas(64) _Atomic uint32_t kicked;
	alignas(64) _Atomic uint32_t raw_done;
	struct result raw;
	/* the evtchnx receiver's end-of-round flag and report */
	alignas(64) _Atomic uint32_t evx_done;
	struct result evx;
};

struct conf {
	long sends;
	long nports;
	long rounds;
	long watchdog;
	int verbose;
};

struct round {
	double secs;
	double deliveries;
	double wakeups;
	double dps; /* deliveries per second */
	double sps; /* sends per second */
	double kicks;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: burst [-n sends] [-p ports] [-r rounds] [-t watchdog_s] [-v]\n"
		"  -n  sends per kind and round (default 4000000)\n"
		"  -p  ports sent to round-robin (default and maximum 4095)\n"
		"  -r  rounds, kinds alternating (default 5)\n"
		"  -t  watchdog: give up after this many seconds (default 300)\n"
		"  -v  print every round\n");
}

/* ---- the floor -------------------------------------------------------- */

static uint64_t raw_scan(struct shm *m)
{
	uint64_t n = 0;

	for (unsigned int k = 0; k < WORDS; k++) {
		uint64_t w;

		if (!atomic_load_explicit(&m->bits[k], memory_order_relaxed))
			continue;
		w = atomic_exchange(&m->bits[k], 0);
		n += (uint64_t)__builtin_popcountll(w);
	}
	return n;
}

static void raw_receiver(struct shm *m, int efd, int cmd_fd, int reply_fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = efd };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	uint32_t op;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0) {
		perror("burst floor receiver: epoll");
		_exit(1);
	}
	for (;;) {
		struct result res = { 0 };
		char ack = 'r';

		if (bench_read_all(cmd_fd, &op, sizeof(op)) < 0 || op == CMD_QUIT)
			break;
		if (bench_write_all(reply_fd, &ack, 1) < 0)
			_exit(1);
		for (;;) {
			uint64_t v;
			uint32_t done;
			int r = epoll_wait(ep, &ev, 1, -1);

			if (r < 0 && errno == EINTR)
				continue;
			if (r != 1 || read(efd, &v, sizeof(v)) != sizeof(v)) {
				perror("burst floor receiver");
				_exit(1);
			}
			res.wakeups++;
			atomic_exchange(&m->kicked, 0);
			done = atomic_load(&m->raw_done);
			res.deliveries += raw_scan(m);
			/* Every send happened before done was set, so the scan
			 * that followed reading it took them all. */
			if (done)
				break;
		}
		res.t_end_ns = bench_now_ns();
		m->raw = res;
		ack = 'd';
		if (bench_write_all(reply_fd, &ack, 1) < 0)
			_exit(1);
	}
	close(ep);
	_exit(0);
}

static int raw_round(const struct conf *cf, long round, struct shm *m, int efd,
		     int cmd_fd, int reply_fd, struct round *out)
{
	uint32_t op = CMD_GO;
	uint64_t one = 1, kicks = 0, t0;
	uint32_t port = 0;
	char ack;
	int r;

	bench_set_phase("burst floor", round);
	for (unsigned int k = 0; k < WORDS; k++)
		atomic_store(&m->bits[k], 0);
	atomic_store(&m->kicked, 0);
	atomic_store(&m->raw_done, 0);
	r = bench_write_all(cmd_fd, &op, sizeof(op));
	if (r == 0)
		r = bench_read_all(reply_fd, &ack, 1);
	if (r < 0)
		return r;

	t0 = bench_now_ns();
	for (long i = 0; i < cf->sends; i++) {
		uint64_t mask, old;

		if (++port > (uint32_t)cf->nports)
			port = 1;
		mask = 1ull << (port & 63);
		old = atomic_fetch_or(&m->bits[port >> 6], mask);
		if (!(old & mask) && !atomic_exchange(&m->kicked, 1)) {
			if (write(efd, &one, sizeof(one)) != sizeof(one))
				return -errno;
			kicks++;
		}
	}
	bench_iter = cf->sends; /* the receiver's final drain */
	atomic_store(&m->raw_done, 1);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	r = bench_read_all(reply_fd, &ack, 1);
	if (r < 0)
		return r;

	out->secs = (double)(m->raw.t_end_ns - t0) / 1e9;
	out->deliveries = (double)m->raw.deliveries;
	out->wakeups = (double)m->raw.wakeups;
	out->kicks = (double)kicks;
	out->dps = out->deliveries / out->secs;
	out->sps = (double)cf->sends / out->secs;
	return 0;
}

/* ---- evtchnx ---------------------------------------------------------- */

/* Take up to BATCH ports and unmask each.  Returns how many, or -errno. */
static int evx_take_batch(struct evtchnx_handle *h, uint32_t *ports)
{
	int n = evtchnx_pending_batch(h, ports, BATCH);

	for (int i = 0; i < n; i++) {
		int r = evtchnx_unmask(h, ports[i]);

		if (r < 0)
			return r;
	}
	return n;
}

/* Drain until nothing is pending.  Returns ports taken, or -errno. */
static int64_t evx_drain(struct evtchnx_handle *h, uint32_t *ports)
{
	int64_t total = 0;
	int n;

	while ((n = evx_take_batch(h, ports)) > 0)
		total += n;
	return n < 0 ? n : total;
}

static void evx_receiver(const char *target, unsigned int nports, struct shm *m,
			 int cmd_fd, int reply_fd)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 1 };
	static uint32_t remote[MAX_PORTS];
	uint32_t ports[BATCH];
	struct evtchnx_handle *h;
	struct pollfd pfd;
	uint32_t op;
	int64_t d;
	int r;

	if (bench_read_all(cmd_fd, remote, nports * sizeof(remote[0])) < 0)
		_exit(1);
	h = evtchnx_open(target, &o);
	if (!h) {
		fprintf(stderr, "burst child: evtchnx_open(%s, domid 1): %s\n",
			target, strerror(errno));
		_exit(1);
	}
	for (unsigned int i = 0; i < nports; i++) {
		r = evtchnx_bind_interdomain(h, 0, remote[i]);
		if (r < 0) {
			fprintf(stderr, "burst child: bind_interdomain(0, %u) #%u: %s\n",
				remote[i], i + 1, evtchnx_strerror(r));
			goto fail;
		}
	}
	/* Each bind left its new port pending: drop those events. */
	d = evx_drain(h, ports);
	if (d < 0) {
		fprintf(stderr, "burst child: drain: %s\n", evtchnx_strerror((int)d));
		goto fail;
	}
	if (bench_write_all(reply_fd, &d, sizeof(d)) < 0)
		goto fail;

	pfd.fd = evtchnx_fd(h);
	pfd.events = POLLIN;
	for (;;) {
		struct result res = { 0 };
		char ack = 'r';

		if (bench_read_all(cmd_fd, &op, sizeof(op)) < 0 || op == CMD_QUIT)
			break;
		if (bench_write_all(reply_fd, &ack, 1) < 0)
			goto fail;
		for (;;) {
			uint32_t done;
			int n;

			r = poll(&pfd, 1, -1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				perror("burst child: poll");
				goto fail;
			}
			res.wakeups++;
			do {
				n = evx_take_batch(h, ports);
				if (n < 0) {
					fprintf(stderr, "burst child: %s\n",
						evtchnx_strerror(n));
					goto fail;
				}
				res.deliveries += (uint64_t)n;
			} while (n == (int)BATCH);
			/* Read after taking: if the wake-up send was taken
			 * above, done is seen set; if not, poll() returns. */
			done = atomic_load(&m->evx_done);
			if (done) {
				/* Sends are complete: take what is left. */
				d = evx_drain(h, ports);
				if (d < 0) {
					fprintf(stderr, "burst child: %s\n",
						evtchnx_strerror((int)d));
					goto fail;
				}
				res.deliveries += (uint64_t)d;
				break;
			}
		}
		res.t_end_ns = bench_now_ns();
		m->evx = res;
		ack = 'd';
		if (bench_write_all(reply_fd, &ack, 1) < 0)
			goto fail;
	}
	evtchnx_close(h);
	_exit(0);
fail:
	evtchnx_close(h);
	_exit(1);
}

static int evx_round(const struct conf *cf, long round, struct shm *m,
		     struct evtchnx_handle *h, const uint32_t *ports, int cmd_fd,
		     int reply_fd, struct round *out)
{
	uint32_t op = CMD_GO;
	unsigned int i = 0;
	uint64_t t0;
	char ack;
	int r;

	bench_set_phase("burst evtchnx", round);
	atomic_store(&m->evx_done, 0);
	r = bench_write_all(cmd_fd, &op, sizeof(op));
	if (r == 0)
		r = bench_read_all(reply_fd, &ack, 1);
	if (r < 0)
		return r;

	t0 = bench_now_ns();
	for (long k = 0; k < cf->sends; k++) {
		r = evtchnx_send(h, ports[i]);
		if (r < 0)
			return r;
		if (++i == (unsigned int)cf->nports)
			i = 0;
	}
	bench_iter = cf->sends; /* the receiver's final drain */
	atomic_store(&m->evx_done, 1);
	/* Wake the receiver in case it sleeps with nothing pending. */
	r = evtchnx_send(h, ports[0]);
	if (r == 0)
		r = bench_read_all(reply_fd, &ack, 1);
	if (r < 0)
		return r;

	out->secs = (double)(m->evx.t_end_ns - t0) / 1e9;
	out->deliveries = (double)m->evx.deliveries;
	out->wakeups = (double)m->evx.wakeups;
	out->kicks = 0;
	out->dps = out->deliveries / out->secs;
	out->sps = (double)cf->sends / out->secs;
	return 0;
}

/* ---- main ------------------------------------------------------------- */

static double med(const struct round *v, size_t n, size_t off)
{
	double tmp[MAX_ROUNDS];

	for (size_t i = 0; i < n; i++)
		tmp[i] = *(const double *)((const char *)&v[i] + off);
	return bench_median_double(tmp, n);
}

#define MED(v, n, field) med(v, n, offsetof(struct round, field))

static void print_kind(const char *label, const struct round *v, size_t n)
{
	printf("%-26s %5.2f M deliveries/s  (%.0f deliveries in %.3f s), sends %5.2f M/s, "
	       "%.0f wake-ups\n",
	       label, MED(v, n, dps) / 1e6, MED(v, n, deliveries), MED(v, n, secs),
	       MED(v, n, sps) / 1e6, MED(v, n, wakeups));
}

int main(int argc, char **argv)
{
	struct conf cf = { .sends = 4000000, .nports = MAX_PORTS, .rounds = 5, .watchdog = 300 };
	struct round raw[MAX_ROUNDS], evx[MAX_ROUNDS];
	int raw_cmd[2] = { -1, -1 }, raw_reply[2] = { -1, -1 };
	int evx_cmd[2] = { -1, -1 }, evx_reply[2] = { -1, -1 };
	static uint32_t ports[MAX_PORTS];
	struct evtchnx_handle *h = NULL;
	long rss_p[3] = { -1, -1, -1 }, rss_c[3] = { -1, -1, -1 }; /* set-up, round 1, end */
	long anon[2][2] = { { -1, -1 }, { -1, -1 } }; /* [round 1, end][sender, receiver] */
	struct shm *m = MAP_FAILED;
	pid_t raw_pid, evx_pid;
	int memfd = -1, efd = -1;
	char target[64];
	int opt, r, ret = 1;

	while ((opt = getopt(argc, argv, "n:p:r:t:vh")) != -1) {
		switch (opt) {
		case 'n': cf.sends = bench_parse_pos("-n", optarg, 4000000000L); break;
		case 'p': cf.nports = bench_parse_pos("-p", optarg, MAX_PORTS); break;
		case 'r': cf.rounds = bench_parse_pos("-r", optarg, MAX_ROUNDS); break;
		case 't': cf.watchdog = bench_parse_pos("-t", optarg, 86400L); break;
		case 'v': cf.verbose = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	bench_install_signals("burst", (unsigned int)cf.watchdog);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(target, sizeof(target), "sim:bench-burst-%d", (int)getpid());

	memfd = memfd_create("evtchnx-bench-burst", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, sizeof(struct shm)) < 0) {
		perror("burst: memfd");
		goto out;
	}
	m = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (m == MAP_FAILED) {
		perror("burst: mmap");
		goto out;
	}
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0) {
		perror("burst: eventfd");
		goto out;
	}
	if (pipe2(raw_cmd, O_CLOEXEC) || pipe2(raw_reply, O_CLOEXEC) ||
	    pipe2(evx_cmd, O_CLOEXEC) || pipe2(evx_reply, O_CLOEXEC)) {
		perror("burst: pipe2");
		goto out;
	}

	/* Children first, before any handle exists in this process. */
	fflush(NULL);
	raw_pid = bench_fork((unsigned int)cf.watchdog);
	if (raw_pid < 0) {
		perror("burst: fork");
		goto out;
	}
	if (raw_pid == 0) {
		close(raw_cmd[1]);
		close(raw_reply[0]);
		raw_receiver(m, efd, raw_cmd[0], raw_reply[1]);
	}
	evx_pid = bench_fork((unsigned int)cf.watchdog);
	if (evx_pid < 0) {
		perror("burst: fork");
		goto out;
	}
	if (evx_pid == 0) {
		close(evx_cmd[1]);
		close(evx_reply[0]);
		evx_receiver(target, (unsigned int)cf.nports, m, evx_cmd[0], evx_reply[1]);
	}
	close(raw_cmd[0]);
	close(raw_reply[1]);
	close(evx_cmd[0]);
	close(evx_reply[1]);
	raw_cmd[0] = raw_reply[1] = evx_cmd[0] = evx_reply[1] = -1;

	/* evtchnx set-up: domain 0 offers nports ports to domain 1. */
	h = evtchnx_open(target, NULL);
	if (!h) {
		fprintf(stderr, "burst: evtchnx_open(%s): %s\n", target, strerror(errno));
		goto out;
	}
	for (unsigned int i = 0; i < (unsigned int)cf.nports; i++) {
		r = evtchnx_alloc_unbound(h, EVTCHNX_DOMID_SELF, 1);
		if (r < 0) {
			fprintf(stderr, "burst: alloc_unbound #%u: %s\n", i + 1,
				evtchnx_strerror(r));
			goto out;
		}
		ports[i] = (uint32_t)r;
	}
	{
		int64_t spurious;

		r = bench_write_all(evx_cmd[1], ports, (size_t)cf.nports * sizeof(ports[0]));
		if (r == 0)
			r = bench_read_all(evx_reply[0], &spurious, sizeof(spurious));
		if (r < 0) {
			fprintf(stderr, "burst: domain 1 did not bind its ports (%s)\n",
				strerror(-r));
			goto out;
		}
		if (cf.verbose)
			printf("  domain 1 bound %ld ports, dropped %lld pending-on-bind events\n",
			       cf.nports, (long long)spurious);
	}
	{
		uint32_t tmp[BATCH];
		int64_t d = evx_drain(h, tmp);

		if (d < 0) {
			fprintf(stderr, "burst: drain: %s\n", evtchnx_strerror((int)d));
			goto out;
		}
	}

	printf("burst: nproc %ld, evtchnx %s, lab %s, %ld ports round-robin, "
	       "%ld sends x %ld rounds, figures are medians of rounds\n",
	       sysconf(_SC_NPROCESSORS_ONLN), evtchnx_version(), target, cf.nports,
	       cf.sends, cf.rounds);
	bench_warn_load();
	rss_p[0] = bench_vmrss_kib(0);
	rss_c[0] = bench_vmrss_kib(evx_pid);

	for (long k = 0; k < cf.rounds; k++) {
		if (k % 2 == 0) {
			r = raw_round(&cf, k + 1, m, efd, raw_cmd[1], raw_reply[0], &raw[k]);
			if (r == 0)
				r = evx_round(&cf, k + 1, m, h, ports, evx_cmd[1], evx_reply[0], &evx[k]);
		} else {
			r = evx_round(&cf, k + 1, m, h, ports, evx_cmd[1], evx_reply[0], &evx[k]);
			if (r == 0)
				r = raw_round(&cf, k + 1, m, efd, raw_cmd[1], raw_reply[0], &raw[k]);
		}
		if (r < 0) {
			fprintf(stderr, "burst: round %ld failed: %s\n", k + 1,
				r == -ECHILD || r == -EPIPE ? "a child died" :
							      evtchnx_strerror(r));
			goto out;
		}
		if (k == 0) {
			rss_p[1] = bench_vmrss_kib(0);
			rss_c[1] = bench_vmrss_kib(evx_pid);
			anon[0][0] = bench_rssanon_kib(0);
			anon[0][1] = bench_rssanon_kib(evx_pid);
		}
		if (cf.verbose)
			printf("  round %ld: floor %.2f M/s (%.0f deliveries, %.0f kicks, %.3f s)  "
			       "evtchnx %.2f M/s (%.0f deliveries, %.0f wake-ups, %.3f s)  "
			       "ratio %.3f  VmRSS %ld/%ld KiB\n",
			       k + 1, raw[k].dps / 1e6, raw[k].deliveries, raw[k].kicks,
			       raw[k].secs, evx[k].dps / 1e6, evx[k].deliveries,
			       evx[k].wakeups, evx[k].secs, evx[k].dps / raw[k].dps,
			       bench_vmrss_kib(0), bench_vmrss_kib(evx_pid));
	}
	rss_p[2] = bench_vmrss_kib(0);
	rss_c[2] = bench_vmrss_kib(evx_pid);
	anon[1][0] = bench_rssanon_kib(0);
	anon[1][1] = bench_rssanon_kib(evx_pid);

	{
		size_t n = (size_t)cf.rounds;
		double ratio = MED(evx, n, dps) / MED(raw, n, dps);

		print_kind("burst raw bitmap+eventfd", raw, n);
		print_kind("burst evtchnx", evx, n);
		printf("burst note: a pending bit coalesces sends to a port not taken yet, "
		       "so sends > deliveries\n");
		/* Round 1 touches code and stack pages for the first time;
		 * growth per event shows between round 1 and the end. */
		printf("memory evtchnx VmRSS KiB (set-up / after round 1 / end): "
		       "sender %ld / %ld / %ld, receiver %ld / %ld / %ld; "
		       "growth after round 1 %+ld KiB (anonymous %+ld KiB) over %ld more sends\n",
		       rss_p[0], rss_p[1], rss_p[2], rss_c[0], rss_c[1], rss_c[2],
		       (rss_p[2] - rss_p[1]) + (rss_c[2] - rss_c[1]),
		       (anon[1][0] - anon[0][0]) + (anon[1][1] - anon[0][1]),
		       (cf.rounds - 1) * cf.sends);
		printf("ratio evtchnx/floor %.3f (target >= 0.5) %s\n", ratio,
		       bench_pass(ratio >= 0.5));
	}
	ret = 0;

out:
	bench_set_phase("tear-down", 0);
	bench_begin_reaping();
	if (ret == 0) {
		uint32_t q = CMD_QUIT;

		bench_write_all(raw_cmd[1], &q, sizeof(q));
		bench_write_all(evx_cmd[1], &q, sizeof(q));
	} else {
		bench_kill_children();
	}
	for (int i = 0; i < 2; i++) {
		if (raw_cmd[i] >= 0)
			close(raw_cmd[i]);
		if (evx_cmd[i] >= 0)
			close(evx_cmd[i]);
	}
	if (bench_reap_children(5000) && ret == 0) {
		fprintf(stderr, "burst: a child failed\n");
		ret = 1;
	}
	evtchnx_close(h);
	for (int i = 0; i < 2; i++) {
		if (raw_reply[i] >= 0)
			close(raw_reply[i]);
		if (evx_reply[i] >= 0)
			close(evx_reply[i]);
	}
	if (efd >= 0)
		close(efd);
	if (m != MAP_FAILED)
		munmap(m, sizeof(struct shm));
	if (memfd >= 0)
		close(memfd);
	return ret;
}
