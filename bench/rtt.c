/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * rtt - cross-process round trip: evtchnx (shared sim lab) against a raw
 * eventfd + epoll ping-pong measured in the same run.
 *
 *   raw      two processes, one eventfd each; each side blocks in
 *            epoll_wait() on its own eventfd, reads it and writes the
 *            other's.
 *   evtchnx  a parent (control domain 0) allocates an unbound port for
 *            domain 1; a forked child opens the same lab as domain 1 and
 *            binds it.  Each side: poll(evtchnx_fd, POLLIN) ->
 *            evtchnx_pending -> evtchnx_unmask -> evtchnx_send.
 *   wait     the same with evtchnx_wait(h, -1) instead of poll + pending
 *            (reported only).
 *
 * The kinds run interleaved in several rounds; each round yields a median
 * and a mean per kind, and the figures printed are the medians of the
 * rounds.  Usage: rtt [-n round_trips] [-w warm_up] [-r rounds]
 *                     [-t watchdog_s] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "evtchnx.h"

#include "bench_util.h"

#define MAX_ROUNDS 64

enum { CMD_QUIT = 0, CMD_RAW = 1, CMD_POLL = 2, CMD_WAIT = 3 };

struct cmd {
	uint32_t op;
	uint32_t count;
};

struct conf {
	long n;
	long warmup;
	long rounds;
	long watchdog;
	int verbose;
};

/*
 * Sequence numbers of one ping-pong, shared by parent and child.  An event
 * counts only when the peer's number moved: a spurious event (the API allows
 * them) is counted and ignored rather than answered, as a real user of a
 * shared ring would do, so that it cannot put a second token in play.
 */
struct seqs {
	_Atomic uint64_t ping; /* the parent's last ping */
	_Atomic uint64_t pong; /* the child's last answer */
	_Atomic uint64_t spurious_parent;
	_Atomic uint64_t spurious_child;
};

enum { KIND_RAW = 0, KIND_EVX = 1 };

/* Both kinds' numbers, in memory shared across fork(). */
static struct seqs *g_seq;
/* The ping-pong in progress, for the watchdog's message. */
static struct seqs *volatile g_cur;

static void say_seqs(void)
{
	struct seqs *q = g_cur;

	if (!q)
		return;
	bench_write_str(" (ping ");
	bench_write_long((long)atomic_load(&q->ping));
	bench_write_str(", pong ");
	bench_write_long((long)atomic_load(&q->pong));
	bench_write_str(")");
}

/* What one side of the evtchnx ping-pong needs. */
struct evx_side {
	struct evtchnx_handle *h;
	uint32_t port; /* own end of the channel */
	int fd;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: rtt [-n round_trips] [-w warm_up] [-r rounds] [-t watchdog_s] [-v]\n"
		"  -n  measured round trips per kind and round (default 20000)\n"
		"  -w  unmeasured warm-up round trips before each (default 2000)\n"
		"  -r  rounds, kinds interleaved (default 5)\n"
		"  -t  watchdog: give up after this many seconds (default 300)\n"
		"  -v  print every round\n");
}

/* ---- raw eventfd + epoll -------------------------------------------- */

static int raw_wait(int ep, int efd)
{
	struct epoll_event ev;
	uint64_t v;

	for (;;) {
		int r = epoll_wait(ep, &ev, 1, -1);

		if (r == 1)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (bench_child_died)
			return -ECHILD;
	}
	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return -EIO;
	return 0;
}

static int raw_kick(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

static int make_epoll(int efd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = efd };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0) {
		close(ep);
		return -1;
	}
	return ep;
}

static void raw_child(int cmd_fd, int efd_mine, int efd_peer)
{
	struct seqs *q = &g_seq[KIND_RAW];
	uint64_t answered = atomic_load(&q->pong);
	struct cmd c;
	int ep = make_epoll(efd_mine);

	if (ep < 0) {
		perror("rtt raw child: epoll");
		_exit(1);
	}
	for (;;) {
		if (bench_read_all(cmd_fd, &c, sizeof(c)) < 0 || c.op == CMD_QUIT)
			break;
		for (uint32_t i = 0; i < c.count; i++) {
			uint64_t p;

			for (;;) {
				if (raw_wait(ep, efd_mine) < 0) {
					perror("rtt raw child");
					_exit(1);
				}
				p = atomic_load(&q->ping);
				if (p != answered)
					break;
				atomic_fetch_add(&q->spurious_child, 1);
			}
			answered = p;
			atomic_store(&q->pong, p);
			if (raw_kick(efd_peer) < 0) {
				perror("rtt raw child");
				_exit(1);
			}
		}
	}
	close(ep);
	_exit(0);
}

/* ---- evtchnx -------------------------------------------------------- */

/* Take the next event, blocking in poll() on the handle's fd. */
static int evx_take_poll(struct evx_side *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

	for (;;) {
		int r = poll(&pfd, 1, -1);

		if (r < 0) {
			if (errno != EINTR)
				return -errno;
			if (bench_child_died)
				return -ECHILD;
			continue;
		}
		r = evtchnx_pending(s->h);
		if (r >= 0)
			return r;
		if (r != -EAGAIN)
			return r;
	}
}

static int evx_take_wait(struct evx_side *s)
{
	for (;;) {
		int r = evtchnx_wait(s->h, -1);

		if (r != -EINTR)
			return r;
		if (bench_child_died)
			return -ECHILD;
	}
}

/* Take one event (poll or wait mode) and unmask its port. */
static int evx_take(struct evx_side *s, int mode)
{
	int port = mode == CMD_WAIT ? evx_take_wait(s) : evx_take_poll(s);
	int r;

	if (port < 0)
		return port;
	if ((uint32_t)port != s->port) {
		fprintf(stderr, "rtt: event on unexpected port %d\n", port);
		return -EPROTO;
	}
	r = evtchnx_unmask(s->h, (uint32_t)port);
	return r < 0 ? r : 0;
}

/* Take and unmask whatever is pending, without blocking. */
static int evx_drain(struct evx_side *s)
{
	int port;

	while ((port = evtchnx_pending(s->h)) >= 0) {
		int r = evtchnx_unmask(s->h, (uint32_t)port);

		if (r < 0)
			return r;
	}
	return port == -EAGAIN ? 0 : port;
}

static void evx_child(const char *target, int cmd_fd, int reply_fd)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 1 };
	struct seqs *q = &g_seq[KIND_EVX];
	uint64_t answered = atomic_load(&q->pong);
	struct evx_side s = { 0 };
	uint32_t remote_port;
	struct cmd c;
	int r;

	if (bench_read_all(cmd_fd, &remote_port, sizeof(remote_port)) < 0)
		_exit(1);
	s.h = evtchnx_open(target, &o);
	if (!s.h) {
		fprintf(stderr, "rtt child: evtchnx_open(%s, domid 1): %s\n",
			target, strerror(errno));
		_exit(1);
	}
	r = evtchnx_bind_interdomain(s.h, 0, remote_port);
	if (r < 0) {
		fprintf(stderr, "rtt child: bind_interdomain(0, %u): %s\n",
			remote_port, evtchnx_strerror(r));
		goto fail;
	}
	s.port = (uint32_t)r;
	s.fd = evtchnx_fd(s.h);
	/* bind_interdomain leaves the new port pending: drop that event. */
	r = evx_drain(&s);
	if (r < 0) {
		fprintf(stderr, "rtt child: drain: %s\n", evtchnx_strerror(r));
		goto fail;
	}
	if (bench_write_all(reply_fd, &s.port, sizeof(s.port)) < 0)
		goto fail;

	for (;;) {
		if (bench_read_all(cmd_fd, &c, sizeof(c)) < 0 || c.op == CMD_QUIT)
			break;
		for (uint32_t i = 0; i < c.count; i++) {
			uint64_t p;

			for (;;) {
				r = evx_take(&s, (int)c.op);
				if (r < 0)
					break;
				p = atomic_load(&q->ping);
				if (p != answered)
					break;
				atomic_fetch_add(&q->spurious_child, 1);
			}
			if (r == 0) {
				answered = p;
				atomic_store(&q->pong, p);
				r = evtchnx_send(s.h, s.port);
			}
			if (r < 0) {
				fprintf(stderr, "rtt child: %s\n", evtchnx_strerror(r));
				goto fail;
			}
		}
	}
	evtchnx_close(s.h);
	_exit(0);
fail:
	evtchnx_close(s.h);
	_exit(1);
}

/* ---- parent side ---------------------------------------------------- */

struct stats {
	double median_us;
	double mean_us;
	uint64_t spurious; /* events ignored by either side */
};

static struct stats summarize(uint64_t *ns, long n)
{
	struct stats st;

	st.mean_us = bench_mean_u64(ns, (size_t)n) / 1000.0;
	st.median_us = bench_median_u64(ns, (size_t)n) / 1000.0;
	return st;
}

static int run_raw(const struct conf *cf, long round, int cmd_fd, int ep,
		   int efd_mine, int efd_peer, uint64_t *ns, struct stats *out)
{
	long total = cf->warmup + cf->n;
	struct cmd c = { .op = CMD_RAW, .count = (uint32_t)total };
	int r;

	struct seqs *q = &g_seq[KIND_RAW];
	uint64_t spurious0 = atomic_load(&q->spurious_parent) + atomic_load(&q->spurious_child);

	bench_set_phase("raw eventfd+epoll", round);
	g_cur = q;
	r = bench_write_all(cmd_fd, &c, sizeof(c));
	if (r < 0)
		return r;
	for (long i = 0; i < total; i++) {
		uint64_t t0 = bench_now_ns(), t1;
		uint64_t seq = atomic_load(&q->ping) + 1;

		bench_iter = i + 1;
		atomic_store(&q->ping, seq);
		r = raw_kick(efd_peer);
		while (r == 0) {
			r = raw_wait(ep, efd_mine);
			if (r == 0 && atomic_load(&q->pong) == seq)
				break;
			if (r == 0)
				atomic_fetch_add(&q->spurious_parent, 1);
		}
		if (r < 0)
			return r;
		t1 = bench_now_ns();
		if (i >= cf->warmup)
			ns[i - cf->warmup] = t1 - t0;
	}
	*out = summarize(ns, cf->n);
	out->spurious = atomic_load(&q->spurious_parent) + atomic_load(&q->spurious_child) -
			spurious0;
	return 0;
}

static int run_evx(const struct conf *cf, long round, int mode, int cmd_fd,
		   struct evx_side *s, uint64_t *ns, struct stats *out)
{
	long total = cf->warmup + cf->n;
	struct cmd c = { .op = (uint32_t)mode, .count = (uint32_t)total };
	int r;

	struct seqs *q = &g_seq[KIND_EVX];
	uint64_t spurious0 = atomic_load(&q->spurious_parent) + atomic_load(&q->spurious_child);

	bench_set_phase(mode == CMD_WAIT ? "evtchnx wait" : "evtchnx poll+pending", round);
	g_cur = q;
	r = evx_drain(s);
	if (r < 0)
		return r;
	r = bench_write_all(cmd_fd, &c, sizeof(c));
	if (r < 0)
		return r;
	for (long i = 0; i < total; i++) {
		uint64_t t0 = bench_now_ns(), t1;
		uint64_t seq = atomic_load(&q->ping) + 1;

		bench_iter = i + 1;
		atomic_store(&q->ping, seq);
		r = evtchnx_send(s->h, s->port);
		while (r == 0) {
			r = evx_take(s, mode);
			if (r == 0 && atomic_load(&q->pong) == seq)
				break;
			if (r == 0)
				atomic_fetch_add(&q->spurious_parent, 1);
		}
		if (r < 0)
			return r;
		t1 = bench_now_ns();
		if (i >= cf->warmup)
			ns[i - cf->warmup] = t1 - t0;
	}
	*out = summarize(ns, cf->n);
	out->spurious = atomic_load(&q->spurious_parent) + atomic_load(&q->spurious_child) -
			spurious0;
	return 0;
}

static int pipe2_or_die(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0) {
		perror("rtt: pipe2");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct conf cf = { .n = 20000, .warmup = 2000, .rounds = 5, .watchdog = 300 };
	struct stats raw[MAX_ROUNDS], evp[MAX_ROUNDS], evw[MAX_ROUNDS];
	double v_raw[MAX_ROUNDS], v_evp[MAX_ROUNDS], v_evw[MAX_ROUNDS];
	double m_raw[MAX_ROUNDS], m_evp[MAX_ROUNDS], m_evw[MAX_ROUNDS];
	double ratio_r[MAX_ROUNDS];
	uint64_t spur_raw = 0, spur_evp = 0, spur_evw = 0;
	int raw_cmd[2] = { -1, -1 }, evx_cmd[2] = { -1, -1 }, evx_reply[2] = { -1, -1 };
	int efd_parent = -1, efd_child = -1, ep = -1;
	struct evx_side s = { 0 };
	char target[64];
	uint64_t *ns = NULL;
	pid_t pid;
	int opt, r, ret = 1;

	while ((opt = getopt(argc, argv, "n:w:r:t:vh")) != -1) {
		switch (opt) {
		case 'n': cf.n = bench_parse_pos("-n", optarg, 10000000L); break;
		case 'w': cf.warmup = bench_parse_pos("-w", optarg, 10000000L); break;
		case 'r': cf.rounds = bench_parse_pos("-r", optarg, MAX_ROUNDS); break;
		case 't': cf.watchdog = bench_parse_pos("-t", optarg, 86400L); break;
		case 'v': cf.verbose = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	bench_install_signals("rtt", (unsigned int)cf.watchdog);
	setvbuf(stdout, NULL, _IOLBF, 0);

	ns = calloc((size_t)cf.n, sizeof(*ns));
	if (!ns) {
		perror("rtt: calloc");
		return 1;
	}
	snprintf(target, sizeof(target), "sim:bench-%d", (int)getpid());
	g_seq = mmap(NULL, 2 * sizeof(*g_seq), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_seq == MAP_FAILED) {
		perror("rtt: mmap");
		g_seq = NULL;
		goto out;
	}
	bench_on_fatal = say_seqs;

	/* Children first, before any handle exists in this process. */
	efd_parent = eventfd(0, EFD_CLOEXEC);
	efd_child = eventfd(0, EFD_CLOEXEC);
	if (efd_parent < 0 || efd_child < 0) {
		perror("rtt: eventfd");
		goto out;
	}
	if (pipe2_or_die(raw_cmd) || pipe2_or_die(evx_cmd) || pipe2_or_die(evx_reply))
		goto out;
	fflush(NULL);
	pid = bench_fork((unsigned int)cf.watchdog);
	if (pid < 0) {
		perror("rtt: fork");
		goto out;
	}
	if (pid == 0) {
		close(raw_cmd[1]);
		raw_child(raw_cmd[0], efd_child, efd_parent);
	}
	pid = bench_fork((unsigned int)cf.watchdog);
	if (pid < 0) {
		perror("rtt: fork");
		goto out;
	}
	if (pid == 0) {
		close(evx_cmd[1]);
		close(evx_reply[0]);
		evx_child(target, evx_cmd[0], evx_reply[1]);
	}
	close(raw_cmd[0]);
	close(evx_cmd[0]);
	close(evx_reply[1]);
	raw_cmd[0] = evx_cmd[0] = evx_reply[1] = -1;

	ep = make_epoll(efd_parent);
	if (ep < 0) {
		perror("rtt: epoll");
		goto out;
	}

	/* evtchnx set-up: domain 0 offers a port to domain 1. */
	s.h = evtchnx_open(target, NULL);
	if (!s.h) {
		fprintf(stderr, "rtt: evtchnx_open(%s): %s\n", target, strerror(errno));
		goto out;
	}
	r = evtchnx_alloc_unbound(s.h, EVTCHNX_DOMID_SELF, 1);
	if (r < 0) {
		fprintf(stderr, "rtt: alloc_unbound: %s\n", evtchnx_strerror(r));
		goto out;
	}
	s.port = (uint32_t)r;
	s.fd = evtchnx_fd(s.h);
	{
		uint32_t child_port;

		r = bench_write_all(evx_cmd[1], &s.port, sizeof(s.port));
		if (r == 0)
			r = bench_read_all(evx_reply[0], &child_port, sizeof(child_port));
		if (r < 0) {
			fprintf(stderr, "rtt: domain 1 did not bind (%s)\n", strerror(-r));
			goto out;
		}
	}

	printf("rtt: nproc %ld, evtchnx %s, lab %s, %ld round trips x %ld rounds "
	       "(warm-up %ld), figures are medians of rounds\n",
	       sysconf(_SC_NPROCESSORS_ONLN), evtchnx_version(), target, cf.n,
	       cf.rounds, cf.warmup);
	bench_warn_load();

	for (long k = 0; k < cf.rounds; k++) {
		/* Alternate which kind goes first; wait mode always last. */
		if (k % 2 == 0) {
			r = run_raw(&cf, k + 1, raw_cmd[1], ep, efd_parent, efd_child, ns, &raw[k]);
			if (r == 0)
				r = run_evx(&cf, k + 1, CMD_POLL, evx_cmd[1], &s, ns, &evp[k]);
		} else {
			r = run_evx(&cf, k + 1, CMD_POLL, evx_cmd[1], &s, ns, &evp[k]);
			if (r == 0)
				r = run_raw(&cf, k + 1, raw_cmd[1], ep, efd_parent, efd_child, ns, &raw[k]);
		}
		if (r == 0)
			r = run_evx(&cf, k + 1, CMD_WAIT, evx_cmd[1], &s, ns, &evw[k]);
		if (r < 0) {
			fprintf(stderr, "rtt: round %ld failed: %s\n", k + 1,
				r == -ECHILD ? "a child died" : evtchnx_strerror(r));
			goto out;
		}
		v_raw[k] = raw[k].median_us;
		v_evp[k] = evp[k].median_us;
		v_evw[k] = evw[k].median_us;
		m_raw[k] = raw[k].mean_us;
		m_evp[k] = evp[k].mean_us;
		m_evw[k] = evw[k].mean_us;
		ratio_r[k] = v_evp[k] / v_raw[k];
		spur_raw += raw[k].spurious;
		spur_evp += evp[k].spurious;
		spur_evw += evw[k].spurious;
		if (cf.verbose)
			printf("  round %ld: raw %.1f/%.1f  evtchnx %.1f/%.1f  wait %.1f/%.1f "
			       "us/rt (median/mean)  ratio %.3f\n",
			       k + 1, v_raw[k], m_raw[k], v_evp[k], m_evp[k], v_evw[k],
			       m_evw[k], ratio_r[k]);
	}

	{
		size_t n = (size_t)cf.rounds;
		double raw_med = bench_median_double(v_raw, n);
		double evp_med = bench_median_double(v_evp, n);
		double evw_med = bench_median_double(v_evw, n);
		double ratio = evp_med / raw_med;

		printf("rtt raw eventfd+epoll      median %6.1f us/rt  mean %6.1f us/rt\n",
		       raw_med, bench_median_double(m_raw, n));
		printf("rtt evtchnx poll+pending   median %6.1f us/rt  mean %6.1f us/rt\n",
		       evp_med, bench_median_double(m_evp, n));
		printf("rtt evtchnx wait           median %6.1f us/rt  mean %6.1f us/rt  (report only)\n",
		       evw_med, bench_median_double(m_evw, n));
		printf("rtt per-round ratios       median %.3f  min %.3f  max %.3f\n",
		       bench_median_double(ratio_r, n), bench_min_double(ratio_r, n),
		       bench_max_double(ratio_r, n));
		printf("rtt spurious events        raw %llu  evtchnx poll+pending %llu  wait %llu  "
		       "(ignored, not answered)\n", (unsigned long long)spur_raw,
		       (unsigned long long)spur_evp, (unsigned long long)spur_evw);
		printf("ratio evtchnx/raw %.3f (target <= 1.15) %s\n", ratio,
		       bench_pass(ratio <= 1.15));
		printf("ratio evtchnx-wait/raw %.3f (report only)\n", evw_med / raw_med);
	}
	ret = 0;

out:
	bench_set_phase("tear-down", 0);
	bench_begin_reaping();
	if (ret == 0) {
		struct cmd q = { .op = CMD_QUIT };

		bench_write_all(raw_cmd[1], &q, sizeof(q));
		bench_write_all(evx_cmd[1], &q, sizeof(q));
	} else {
		bench_kill_children();
	}
	if (raw_cmd[1] >= 0)
		close(raw_cmd[1]);
	if (evx_cmd[1] >= 0)
		close(evx_cmd[1]);
	if (bench_reap_children(5000) && ret == 0) {
		fprintf(stderr, "rtt: a child failed\n");
		ret = 1;
	}
	evtchnx_close(s.h);
	if (ep >= 0)
		close(ep);
	if (efd_parent >= 0)
		close(efd_parent);
	if (efd_child >= 0)
		close(efd_child);
	if (evx_reply[0] >= 0)
		close(evx_reply[0]);
	free(ns);
	if (g_seq)
		munmap(g_seq, 2 * sizeof(*g_seq));
	return ret;
}
