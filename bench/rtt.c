/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * rtt - cross-process round trip: evtchnx (shared sim lab) against raw
 * ping-pongs (floors) measured in the same run.
 *
 *   epoll    a floor with a target: two processes, one eventfd each; each
 *            side blocks in epoll_wait() on its own eventfd, reads it and
 *            writes the other's.
 *   read     a tighter floor: the same with each side blocking in read() on
 *            its own eventfd, no epoll.
 *   futex    a tighter floor: one 32-bit word per direction in shared
 *            memory; a side stores the next number, FUTEX_WAKE; the other
 *            sleeps in FUTEX_WAIT until the word moves.
 *   spin     the tightest floor: the same words, both sides spinning on
 *            them (after SPIN_YIELD_NS without an answer a spinning side
 *            yields the CPU between looks, so that a peer without a CPU
 *            can run).
 *   evtchnx  a parent (control domain 0) allocates an unbound port for
 *            domain 1; a forked child opens the same lab as domain 1 and
 *            binds it.  Each side: poll(evtchnx_fd, POLLIN) ->
 *            evtchnx_pending -> evtchnx_unmask -> evtchnx_send.
 *   wait     the same with evtchnx_wait(h, -1) instead of poll + pending.
 *   busy     evtchnx_wait(h, -1) on handles opened with busy_poll_ns
 *            (-b, default 50 us) on both sides, over a channel of their
 *            own; the CPU both sides spend per round trip is reported.
 *
 * The kinds run interleaved in several rounds; each round yields a median
 * and a mean per kind, and the ratios.  A round in which a kind, floor
 * included, did not complete its round trips (a message was lost: no
 * answer within the stall limit) is invalid and left out of every figure.
 * Usage: rtt [-n round_trips] [-w warm_up] [-r rounds] [-s stall_s]
 *            [-b busy_poll_us] [-t watchdog_s] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "evtchnx.h"

#include "bench_util.h"

#define MAX_ROUNDS 64
#define EPOLL_TARGET 1.15
#define WAIT_TARGET 1.02 /* evtchnx_wait / poll+pending */
#define BUSY_TARGET 2.0  /* busy-poll / spin floor */
/* A spinning side of the spin floor yields the CPU between looks once it
 * has waited this long (a peer without a CPU could not answer anyway). */
#define SPIN_YIELD_NS 50000u
/* How often a blocked wait in this process is interrupted to look at the
 * clock (a stall shows within this much of the limit). */
#define TICK_MS 250

/* The kinds, in the order of their figures. */
enum {
	KIND_EPOLL, KIND_READ, KIND_FUTEX, KIND_SPIN, /* the floors */
	KIND_POLL, KIND_WAIT, KIND_BUSY, NKINDS
};
#define NFLOORS 4

static const char *const kind_name[NKINDS] = {
	"raw eventfd+epoll", "raw eventfd read", "raw futex", "raw spin",
	"evtchnx poll+pending", "evtchnx wait", "evtchnx busy-poll",
};
static const char *const kind_short[NKINDS] = {
	"epoll", "read", "futex", "spin", "evtchnx", "wait", "busy",
};

enum { CMD_QUIT = 0, CMD_RUN = 1 };

struct cmd {
	uint32_t op;
	uint32_t kind;
	uint32_t count;
	uint32_t fbase; /* futex/spin: the parent's word before the first ping */
};

struct conf {
	long n;
	long warmup;
	long rounds;
	long stall;
	long busy_us;
	long watchdog;
	int verbose;
};

/* The busy-poll budget of the busy kind's handles, in ns (both sides). */
static uint64_t g_busy_ns = 50000;

/*
 * Sequence numbers of one ping-pong, shared by parent and child.  An event
 * counts only when the peer's number moved: a spurious event (the API allows
 * them) is counted and ignored rather than answered, as a real user of a
 * shared ring would do, so that it cannot put a second token in play.
 * @abort tells the child to give up the ping-pong in progress (the parent
 * stopped waiting for an answer that did not come).
 */
struct seqs {
	_Atomic uint64_t ping; /* the parent's last ping */
	_Atomic uint64_t pong; /* the child's last answer */
	_Atomic uint64_t spurious_parent;
	_Atomic uint64_t spurious_child;
	_Atomic uint32_t abort;
	/* futex and spin: the numbers themselves, one word per direction */
	_Atomic uint32_t fping;
	_Atomic uint32_t fpong;
	/* CPU time (user + system) the child spent on its last command */
	_Atomic uint64_t child_cpu_ns;
};

/* Every kind's numbers, in memory shared across fork(). */
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

/* One end of every kind, in one process. */
struct side {
	int parent;             /* 1 in the parent (it pings), 0 in a child */
	int efd_mine, efd_peer; /* the raw kinds' eventfds */
	int ep;                 /* an epoll set holding efd_mine */
	uint32_t fseen;         /* futex/spin: the peer's last number seen */
	struct evtchnx_handle *h;
	uint32_t port; /* own end of the evtchnx channel */
	int fd;        /* evtchnx_fd(h) */
	struct evtchnx_handle *hb; /* busy kind: a handle with busy_poll_ns */
	uint32_t portb;            /* its end of the busy kind's channel */
};

/* A child process that answers some kinds. */
struct peer {
	pid_t pid;
	int cmd_fd;   /* commands to it */
	int reply_fd; /* one byte from it at the end of every command */
	int alive;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: rtt [-n round_trips] [-w warm_up] [-r rounds] [-s stall_s] "
		"[-b busy_poll_us] [-t watchdog_s] [-v]\n"
		"  -n  measured round trips per kind and round (default 20000)\n"
		"  -w  unmeasured warm-up round trips before each (default 2000)\n"
		"  -r  rounds, kinds interleaved (default 5)\n"
		"  -s  a round trip not answered within this many seconds is a lost\n"
		"      message: the round is invalid (default 2)\n"
		"  -b  busy-poll budget of the busy kind, microseconds (default 50)\n"
		"  -t  watchdog: give up after this many seconds (default 300)\n"
		"  -v  print every round\n");
}

static int is_raw(int kind)
{
	return kind < NFLOORS;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* ---- raw eventfd ------------------------------------------------------ */

/* Each wait below blocks until woken once: 0, -EINTR when a signal came
 * first, or another -errno. */

static int raw_wait_epoll(int ep, int efd)
{
	struct epoll_event ev;
	uint64_t v;
	int r = epoll_wait(ep, &ev, 1, -1);

	if (r < 0)
		return -errno;
	if (r != 1 || read(efd, &v, sizeof(v)) != sizeof(v))
		return -EIO;
	return 0;
}

static int raw_wait_read(int efd)
{
	uint64_t v;
	ssize_t n = read(efd, &v, sizeof(v));

	if (n < 0)
		return -errno;
	return n == sizeof(v) ? 0 : -EIO;
}

static int raw_kick(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

/* ---- futex and spin ------------------------------------------------ */

/* The word this side waits on, and the one it writes. */
static _Atomic uint32_t *word_in(struct side *s, struct seqs *q)
{
	return s->parent ? &q->fpong : &q->fping;
}

static _Atomic uint32_t *word_out(struct side *s, struct seqs *q)
{
	return s->parent ? &q->fping : &q->fpong;
}

static long sys_futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)w, op, val, NULL, NULL, 0);
}

/* Sleep until the peer's word moves: 0, -EINTR, or another -errno. */
static int futex_wait_move(struct side *s, struct seqs *q)
{
	_Atomic uint32_t *w = word_in(s, q);
	uint32_t v;

	while ((v = atomic_load(w)) == s->fseen) {
		if (sys_futex(w, FUTEX_WAIT, s->fseen) < 0 && errno != EAGAIN) {
			if (errno == EINTR)
				return -EINTR;
			return -errno;
		}
		if (!s->parent && atomic_load(&q->abort))
			return 0;
	}
	s->fseen = v;
	return 0;
}

/* Spin until the peer's word moves: 0, or -EINTR every TICK_MS (the
 * parent's chance to look at the clock; a child looks at @abort). */
static int spin_wait_move(struct side *s, struct seqs *q)
{
	_Atomic uint32_t *w = word_in(s, q);
	uint64_t t0 = 0;
	uint32_t v;

	for (unsigned int i = 0; (v = atomic_load_explicit(w, memory_order_acquire)) == s->fseen;
	     i++) {
		uint64_t now;

		if (i % 256) {
			bench_cpu_relax();
			continue;
		}
		now = bench_now_ns();
		if (i == 0) {
			t0 = now;
			continue;
		}
		if (!s->parent && atomic_load(&q->abort))
			return 0;
		if (now - t0 > (uint64_t)TICK_MS * 1000000u)
			return -EINTR;
		if (now - t0 > SPIN_YIELD_NS)
			sched_yield();
	}
	s->fseen = v;
	return 0;
}

static int word_kick(struct side *s, struct seqs *q, int wake)
{
	_Atomic uint32_t *w = word_out(s, q);

	atomic_fetch_add_explicit(w, 1, memory_order_release);
	if (wake && sys_futex(w, FUTEX_WAKE, 1) < 0)
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

/* ---- evtchnx -------------------------------------------------------- */

/* Take the next event, blocking in poll() on the handle's fd. */
static int evx_take_poll(struct side *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

	for (;;) {
		int r = poll(&pfd, 1, -1);

		if (r < 0)
			return -errno;
		r = evtchnx_pending(s->h);
		if (r != -EAGAIN)
			return r;
	}
}

/* Take one event (poll, wait or busy mode) and unmask its port. */
static int evx_take(struct side *s, int kind)
{
	struct evtchnx_handle *h = kind == KIND_BUSY ? s->hb : s->h;
	uint32_t want = kind == KIND_BUSY ? s->portb : s->port;
	int port = kind == KIND_POLL ? evx_take_poll(s) : evtchnx_wait(h, -1);
	int r;

	if (port < 0)
		return port;
	if ((uint32_t)port != want) {
		fprintf(stderr, "rtt: event on unexpected port %d\n", port);
		return -EPROTO;
	}
	r = evtchnx_unmask(h, (uint32_t)port);
	return r < 0 ? r : 0;
}

/* Take and unmask whatever is pending on @h, without blocking. */
static int evx_drain_h(struct evtchnx_handle *h)
{
	int port;

	if (!h)
		return 0;
	while ((port = evtchnx_pending(h)) >= 0) {
		int r = evtchnx_unmask(h, (uint32_t)port);

		if (r < 0)
			return r;
	}
	return port == -EAGAIN ? 0 : port;
}

static int evx_drain(struct side *s)
{
	int r = evx_drain_h(s->h);

	return r < 0 ? r : evx_drain_h(s->hb);
}

/* ---- one side of any kind -------------------------------------------- */

static int side_wait(struct side *s, int kind)
{
	switch (kind) {
	case KIND_EPOLL:
		return raw_wait_epoll(s->ep, s->efd_mine);
	case KIND_READ:
		return raw_wait_read(s->efd_mine);
	case KIND_FUTEX:
		return futex_wait_move(s, &g_seq[kind]);
	case KIND_SPIN:
		return spin_wait_move(s, &g_seq[kind]);
	default:
		return evx_take(s, kind);
	}
}

static int side_kick(struct side *s, int kind)
{
	switch (kind) {
	case KIND_EPOLL:
	case KIND_READ:
		return raw_kick(s->efd_peer);
	case KIND_FUTEX:
	case KIND_SPIN:
		return word_kick(s, &g_seq[kind], kind == KIND_FUTEX);
	case KIND_BUSY:
		return evtchnx_send(s->hb, s->portb);
	default:
		return evtchnx_send(s->h, s->port);
	}
}

/*
 * A child's loop: answer the pings of each command's kind until its count
 * is reached or the parent aborts it, then write one byte on @reply_fd.
 */
static void serve(struct side *s, int cmd_fd, int reply_fd, const char *who)
{
	struct cmd c;
	int r = 0;

	for (;;) {
		struct seqs *q;
		uint64_t answered, cpu0;
		char done = 'd';

		if (bench_read_all(cmd_fd, &c, sizeof(c)) < 0 || c.op == CMD_QUIT)
			break;
		if (c.kind >= NKINDS)
			_exit(1);
		q = &g_seq[c.kind];
		answered = atomic_load(&q->pong);
		s->fseen = c.fbase;
		cpu0 = cpu_ns();
		for (uint32_t i = 0; i < c.count && !atomic_load(&q->abort); i++) {
			uint64_t p = answered;

			while (p == answered) {
				r = side_wait(s, (int)c.kind);
				if (r == -EINTR)
					continue;
				if (r < 0 || atomic_load(&q->abort))
					break;
				p = atomic_load(&q->ping);
				if (p == answered)
					atomic_fetch_add(&q->spurious_child, 1);
			}
			if (r < 0)
				goto fail;
			if (p == answered)
				break; /* aborted */
			answered = p;
			atomic_store(&q->pong, p);
			r = side_kick(s, (int)c.kind);
			if (r < 0)
				goto fail;
		}
		atomic_store(&q->child_cpu_ns, cpu_ns() - cpu0);
		if (bench_write_all(reply_fd, &done, 1) < 0)
			_exit(1);
	}
	evtchnx_close(s->h);
	evtchnx_close(s->hb);
	_exit(0);
fail:
	fprintf(stderr, "rtt %s child: %s\n", who, evtchnx_strerror(r));
	evtchnx_close(s->h);
	evtchnx_close(s->hb);
	_exit(1);
}

static void raw_child(int cmd_fd, int reply_fd, int efd_mine, int efd_peer)
{
	struct side s = { .efd_mine = efd_mine, .efd_peer = efd_peer, .fd = -1 };

	s.ep = make_epoll(efd_mine);
	if (s.ep < 0) {
		perror("rtt raw child: epoll");
		_exit(1);
	}
	serve(&s, cmd_fd, reply_fd, "raw");
}

static void evx_child(const char *target, int cmd_fd, int reply_fd)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 1 };
	struct side s = { .efd_mine = -1, .efd_peer = -1, .ep = -1 };
	uint32_t remote_port[2];
	int r;

	if (bench_read_all(cmd_fd, remote_port, sizeof(remote_port)) < 0)
		_exit(1);
	s.h = evtchnx_open(target, &o);
	o.busy_poll_ns = g_busy_ns;
	s.hb = s.h ? evtchnx_open(target, &o) : NULL;
	if (!s.h || !s.hb) {
		fprintf(stderr, "rtt child: evtchnx_open(%s, domid 1): %s\n",
			target, strerror(errno));
		_exit(1);
	}
	r = evtchnx_bind_interdomain(s.h, 0, remote_port[0]);
	if (r >= 0) {
		s.port = (uint32_t)r;
		r = evtchnx_bind_interdomain(s.hb, 0, remote_port[1]);
	}
	if (r < 0) {
		fprintf(stderr, "rtt child: bind_interdomain(0, %u / %u): %s\n",
			remote_port[0], remote_port[1], evtchnx_strerror(r));
		goto fail;
	}
	s.portb = (uint32_t)r;
	s.fd = evtchnx_fd(s.h);
	/* bind_interdomain leaves the new port pending: drop that event. */
	r = evx_drain(&s);
	if (r < 0) {
		fprintf(stderr, "rtt child: drain: %s\n", evtchnx_strerror(r));
		goto fail;
	}
	if (bench_write_all(reply_fd, &s.port, sizeof(s.port)) < 0)
		goto fail;
	serve(&s, cmd_fd, reply_fd, "evtchnx");
fail:
	evtchnx_close(s.h);
	evtchnx_close(s.hb);
	_exit(1);
}

/* ---- parent side ---------------------------------------------------- */

struct stats {
	double median_us;
	double mean_us;
	uint64_t spurious; /* events ignored by either side */
	double cpu_parent_us; /* CPU (user + system) per round trip, each side */
	double cpu_child_us;
};

static void on_tick(int sig)
{
	(void)sig;
}

/* Interrupt this process's blocked waits every TICK_MS while @on, so that a
 * lost message shows as a stall instead of blocking for ever.  The waits
 * themselves stay the plain blocking calls being measured. */
static int tick(timer_t t, int on)
{
	struct itimerspec its = { 0 };

	if (on) {
		its.it_value.tv_nsec = TICK_MS * 1000000L;
		its.it_interval = its.it_value;
	}
	return timer_settime(t, 0, &its, NULL);
}

/*
 * One kind's ping-pong, driven from here.  Returns 0 when every round trip
 * completed, -ETIMEDOUT when an answer did not come within the stall limit,
 * or another -errno (the run cannot go on).
 */
static int run_kind(const struct conf *cf, long round, int kind, struct side *s,
		    struct peer *pe, uint64_t *ns, struct stats *out)
{
	long total = cf->warmup + cf->n;
	struct cmd c = { .op = CMD_RUN, .kind = (uint32_t)kind, .count = (uint32_t)total };
	struct seqs *q = &g_seq[kind];
	uint64_t spurious0 = atomic_load(&q->spurious_parent) + atomic_load(&q->spurious_child);
	uint64_t stall_ns = (uint64_t)cf->stall * 1000000000u;
	char done;
	int r;

	bench_set_phase(kind_name[kind], round);
	g_cur = q;
	uint64_t cpu0;

	if (!is_raw(kind)) {
		r = evx_drain(s);
		if (r < 0)
			return r;
	}
	s->fseen = atomic_load(&q->fpong);
	c.fbase = atomic_load(&q->fping);
	r = bench_write_all(pe->cmd_fd, &c, sizeof(c));
	if (r < 0)
		return r;
	cpu0 = cpu_ns();
	for (long i = 0; i < total; i++) {
		uint64_t t0 = bench_now_ns(), t1;
		uint64_t seq = atomic_load(&q->ping) + 1;

		bench_iter = i + 1;
		atomic_store(&q->ping, seq);
		r = side_kick(s, kind);
		while (r == 0) {
			r = side_wait(s, kind);
			if (r == -EINTR) {
				if (bench_child_died)
					return -ECHILD;
				if (bench_now_ns() - t0 > stall_ns)
					return -ETIMEDOUT;
				r = 0;
				continue;
			}
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
	out->cpu_parent_us = (double)(cpu_ns() - cpu0) / 1000.0 / (double)total;
	r = bench_read_all(pe->reply_fd, &done, 1);
	if (r < 0)
		return r;
	out->cpu_child_us = (double)atomic_load(&q->child_cpu_ns) / 1000.0 / (double)total;
	out->mean_us = bench_mean_u64(ns, (size_t)cf->n) / 1000.0;
	out->median_us = bench_median_u64(ns, (size_t)cf->n) / 1000.0;
	out->spurious = atomic_load(&q->spurious_parent) + atomic_load(&q->spurious_child) -
			spurious0;
	return 0;
}

/*
 * After a stall: ask the child to give up the ping-pong (flag, then one more
 * event) and wait for its end-of-command byte.  A child that does not
 * answer within the stall limit is killed, and its kinds are not run again.
 */
static void abort_kind(const struct conf *cf, int kind, struct side *s, struct peer *pe)
{
	struct seqs *q = &g_seq[kind];
	struct pollfd pfd = { .fd = pe->reply_fd, .events = POLLIN };
	uint64_t deadline = bench_now_ns() + (uint64_t)cf->stall * 1000000000u;
	char done;

	atomic_store(&q->abort, 1);
	(void)side_kick(s, kind);
	while (bench_now_ns() < deadline) {
		if (poll(&pfd, 1, TICK_MS) == 1 && bench_read_all(pe->reply_fd, &done, 1) == 0) {
			atomic_store(&q->abort, 0);
			return;
		}
	}
	printf("rtt: the %s child did not give up its ping-pong: killed, its kinds "
	       "are not run again\n", kind_name[kind]);
	bench_kill_child(pe->pid);
	pe->alive = 0;
}

static int open_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0) {
		perror("rtt: pipe2");
		return -1;
	}
	return 0;
}

/* Fork a child with a command pipe and a reply pipe.  Returns its pid in
 * the parent (with @pe filled in), 0 in the child (which keeps cmd[0] and
 * reply[1]), -1 on failure. */
static pid_t start_peer(const struct conf *cf, struct peer *pe, int cmd[2], int reply[2])
{
	pid_t pid;

	if (open_pipe(cmd) || open_pipe(reply))
		return -1;
	fflush(NULL);
	pid = bench_fork((unsigned int)cf->watchdog);
	if (pid < 0) {
		perror("rtt: fork");
		return -1;
	}
	if (pid > 0) {
		close(cmd[0]);
		close(reply[1]);
		pe->pid = pid;
		pe->cmd_fd = cmd[1];
		pe->reply_fd = reply[0];
		pe->alive = 1;
	} else {
		close(cmd[1]);
		close(reply[0]);
	}
	return pid;
}

/* The figures of one kind over the valid rounds. */
static struct bench_stat kind_stat(const struct stats (*st)[NKINDS], const unsigned char *ok,
				   size_t n, int kind, int what)
{
	double v[MAX_ROUNDS];

	for (size_t k = 0; k < n; k++)
		v[k] = what == 0 ? st[k][kind].median_us :
		       what == 1 ? st[k][kind].mean_us :
		       what == 2 ? st[k][kind].cpu_parent_us :
		       what == 3 ? st[k][kind].cpu_child_us :
				   st[k][kind].cpu_parent_us + st[k][kind].cpu_child_us;
	return bench_stat_valid(v, ok, n);
}

/* @v with @decimals, or "n/a" when no round was valid. */
static const char *fig(char *buf, size_t len, double v, size_t valid, int decimals)
{
	if (valid)
		snprintf(buf, len, "%.*f", decimals, v);
	else
		snprintf(buf, len, "n/a");
	return buf;
}

/* The per-round ratios, each with its target. */
enum {
	R_EPOLL, R_READ, R_FUTEX, R_SPIN, R_TIGHT_BLOCK, R_TIGHT,
	R_WAIT_POLL, R_WAIT_EPOLL, R_WAIT_TIGHT_BLOCK,
	R_BUSY_SPIN, R_BUSY_TIGHT, R_BUSY_POLL, NRATIOS
};

static const struct {
	const char *name, *key;
	int num, den; /* kinds; den -1: the tightest blocking floor, -2: of all */
	enum bench_target t;
	double target;
} ratios[NRATIOS] = {
	{ "evtchnx/epoll-floor", "rtt.epoll_ratio", KIND_POLL, KIND_EPOLL, BENCH_AT_MOST,
	  EPOLL_TARGET },
	{ "evtchnx/read-floor", "rtt.read_ratio", KIND_POLL, KIND_READ, BENCH_REPORT, 0 },
	{ "evtchnx/futex-floor", "rtt.futex_ratio", KIND_POLL, KIND_FUTEX, BENCH_REPORT, 0 },
	{ "evtchnx/spin-floor", "rtt.spin_ratio", KIND_POLL, KIND_SPIN, BENCH_REPORT, 0 },
	{ "evtchnx/tightest-blocking-floor", "rtt.tightest_blocking_ratio", KIND_POLL, -1,
	  BENCH_REPORT, 0 },
	{ "evtchnx/tightest-floor", "rtt.tightest_ratio", KIND_POLL, -2, BENCH_REPORT, 0 },
	{ "evtchnx-wait/evtchnx-poll+pending", "rtt.wait_poll_ratio", KIND_WAIT, KIND_POLL,
	  BENCH_AT_MOST, WAIT_TARGET },
	{ "evtchnx-wait/epoll-floor", "rtt.wait_epoll_ratio", KIND_WAIT, KIND_EPOLL,
	  BENCH_REPORT, 0 },
	{ "evtchnx-wait/tightest-blocking-floor", "rtt.wait_tightest_blocking_ratio", KIND_WAIT,
	  -1, BENCH_REPORT, 0 },
	{ "evtchnx-busy/spin-floor", "rtt.busy_spin_ratio", KIND_BUSY, KIND_SPIN, BENCH_AT_MOST,
	  BUSY_TARGET },
	{ "evtchnx-busy/tightest-floor", "rtt.busy_tightest_ratio", KIND_BUSY, -2,
	  BENCH_REPORT, 0 },
	{ "evtchnx-busy/evtchnx-poll+pending", "rtt.busy_poll_ratio", KIND_BUSY, KIND_POLL,
	  BENCH_REPORT, 0 },
};

/* The tightest floor of a round: of the blocking ones (@all 0), or of all. */
static int tightest(const struct stats *st, int all)
{
	int best = KIND_EPOLL;

	for (int i = 0; i < NFLOORS; i++) {
		if (!all && i == KIND_SPIN)
			continue;
		if (st[i].median_us < st[best].median_us)
			best = i;
	}
	return best;
}

static double round_ratio(const struct stats *st, int j)
{
	int den = ratios[j].den;

	if (den < 0)
		den = tightest(st, den == -2);
	return st[ratios[j].num].median_us / st[den].median_us;
}

static void report(const struct conf *cf, const struct stats (*st)[NKINDS],
		   const double (*ratio)[NRATIOS], const unsigned char *ok)
{
	static const char *const us_key[NKINDS] = {
		"rtt.epoll_floor_us", "rtt.read_floor_us", "rtt.futex_floor_us",
		"rtt.spin_floor_us", "rtt.evtchnx_us", "rtt.evtchnx_wait_us", "rtt.evtchnx_busy_us",
	};
	static const char *const cpu_key[NKINDS] = {
		"rtt.epoll_cpu_us", "rtt.read_cpu_us", "rtt.futex_cpu_us", "rtt.spin_cpu_us",
		"rtt.evtchnx_cpu_us", "rtt.evtchnx_wait_cpu_us", "rtt.busy_cpu_us",
	};
	size_t n = (size_t)cf->rounds;
	struct bench_stat rs[NRATIOS], us[NKINDS];
	uint64_t spur[NKINDS] = { 0 };
	char a[32], b[32], c[32], d[32];
	size_t valid = 0;
	int tight_count[NKINDS] = { 0 };

	for (size_t k = 0; k < n; k++) {
		valid += ok[k];
		for (int i = 0; i < NKINDS; i++)
			spur[i] += ok[k] ? st[k][i].spurious : 0;
		if (ok[k])
			tight_count[tightest(st[k], 1)]++;
	}
	for (int i = 0; i < NKINDS; i++) {
		struct bench_stat mean = kind_stat(st, ok, n, i, 1);
		struct bench_stat cp = kind_stat(st, ok, n, i, 2), cc = kind_stat(st, ok, n, i, 3);

		us[i] = kind_stat(st, ok, n, i, 0);
		printf("rtt %-22s median %6s us/rt  mean %6s us/rt  CPU per rt: parent %s us, "
		       "child %s us%s\n", kind_name[i],
		       fig(a, sizeof(a), us[i].median, valid, 2),
		       fig(b, sizeof(b), mean.median, valid, 2),
		       fig(c, sizeof(c), cp.median, valid, 2), fig(d, sizeof(d), cc.median, valid, 2),
		       i < NFLOORS ? "  (floor)" : "");
	}
	for (int j = 0; j < NRATIOS; j++) {
		double v[MAX_ROUNDS];

		for (size_t k = 0; k < n; k++)
			v[k] = ratio[k][j];
		rs[j] = bench_stat_valid(v, ok, n);
		printf("rtt per-round %-38s median %s  min %s  max %s\n", ratios[j].name,
		       fig(a, sizeof(a), rs[j].median, valid, 3),
		       fig(b, sizeof(b), rs[j].min, valid, 3),
		       fig(c, sizeof(c), rs[j].max, valid, 3));
	}
	printf("rtt tightest floor per round: epoll %d, read %d, futex %d, spin %d (of %zu valid)\n",
	       tight_count[KIND_EPOLL], tight_count[KIND_READ], tight_count[KIND_FUTEX],
	       tight_count[KIND_SPIN], valid);
	printf("rtt spurious events       ");
	for (int i = 0; i < NKINDS; i++)
		printf(" %s %llu", kind_short[i], (unsigned long long)spur[i]);
	printf("  (ignored, not answered)\n");
	printf("rtt rounds                 %zu valid, %zu invalid (a kind, floor included, did "
	       "not complete its round trips; left out)\n", valid, n - valid);
	for (int j = 0; j < NRATIOS; j++) {
		if (ratios[j].t == BENCH_REPORT) {
			printf("ratio %s %s (report only)\n", ratios[j].name,
			       fig(a, sizeof(a), rs[j].median, valid, 3));
			continue;
		}
		printf("ratio %s %s (target <= %.2f) %s%s\n", ratios[j].name,
		       fig(a, sizeof(a), rs[j].median, valid, 3), ratios[j].target,
		       bench_verdict(rs[j], ratios[j].t, ratios[j].target),
		       valid == n ? "" : valid ? " (over the valid rounds only)" :
						 " (no valid round)");
	}
	{
		struct bench_stat bc = kind_stat(st, ok, n, KIND_BUSY, 4);

		printf("cpu evtchnx busy-poll (busy_poll_ns %llu) costs %s us of CPU per round trip "
		       "(both sides, user + system) against %s us for poll+pending and %s us for "
		       "the spin floor\n", (unsigned long long)g_busy_ns,
		       fig(a, sizeof(a), bc.median, valid, 2),
		       fig(b, sizeof(b), kind_stat(st, ok, n, KIND_POLL, 4).median, valid, 2),
		       fig(c, sizeof(c), kind_stat(st, ok, n, KIND_SPIN, 4).median, valid, 2));
	}
	if (valid && us[KIND_SPIN].median > us[KIND_FUTEX].median)
		printf("rtt note: the spin floor (%.2f us) ran slower than the futex floor (%.2f us): "
		       "its two sides seldom had a CPU each at the same time (other programs kept "
		       "the CPUs busy), so it waited in sched_yield; busy-poll against it says "
		       "little about the cost of a busy-polled event then\n",
		       us[KIND_SPIN].median, us[KIND_FUTEX].median);
	for (int j = 0; j < NRATIOS; j++)
		bench_result(ratios[j].key, rs[j], ratios[j].t, ratios[j].target, 3);
	for (int i = 0; i < NKINDS; i++)
		bench_result(us_key[i], us[i], BENCH_REPORT, 0, 2);
	for (int i = 0; i < NKINDS; i++)
		bench_result(cpu_key[i], kind_stat(st, ok, n, i, 4), BENCH_REPORT, 0, 2);
	bench_result("rtt.busy_cpu_parent_us", kind_stat(st, ok, n, KIND_BUSY, 2), BENCH_REPORT,
		     0, 2);
	bench_result("rtt.busy_cpu_child_us", kind_stat(st, ok, n, KIND_BUSY, 3), BENCH_REPORT,
		     0, 2);
}

int main(int argc, char **argv)
{
	struct conf cf = { .n = 20000, .warmup = 2000, .rounds = 5, .stall = 2,
			   .busy_us = 50, .watchdog = 300 };
	static struct stats st[MAX_ROUNDS][NKINDS];
	static double ratio[MAX_ROUNDS][NRATIOS];
	static unsigned char ok[MAX_ROUNDS];
	int raw_cmd[2] = { -1, -1 }, raw_reply[2] = { -1, -1 };
	int evx_cmd[2] = { -1, -1 }, evx_reply[2] = { -1, -1 };
	struct peer raw_pe = { .cmd_fd = -1, .reply_fd = -1 };
	struct peer evx_pe = { .cmd_fd = -1, .reply_fd = -1 };
	struct side s = { .parent = 1, .efd_mine = -1, .efd_peer = -1, .ep = -1, .fd = -1 };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	struct sigaction sa;
	timer_t timer;
	char target[64];
	uint64_t *ns = NULL;
	pid_t pid;
	int opt, r, ret = 1;

	while ((opt = getopt(argc, argv, "n:w:r:s:b:t:vh")) != -1) {
		switch (opt) {
		case 'n': cf.n = bench_parse_pos("-n", optarg, 10000000L); break;
		case 'w': cf.warmup = bench_parse_pos("-w", optarg, 10000000L); break;
		case 'r': cf.rounds = bench_parse_pos("-r", optarg, MAX_ROUNDS); break;
		case 's': cf.stall = bench_parse_pos("-s", optarg, 3600L); break;
		case 'b': cf.busy_us = bench_parse_pos("-b", optarg, 1000000L); break;
		case 't': cf.watchdog = bench_parse_pos("-t", optarg, 86400L); break;
		case 'v': cf.verbose = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	g_busy_ns = (uint64_t)cf.busy_us * 1000u;
	bench_install_signals("rtt", (unsigned int)cf.watchdog);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* No SA_RESTART: the tick interrupts a blocked wait. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_tick;
	sigaction(SIGUSR1, &sa, NULL);
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0) {
		perror("rtt: timer_create");
		return 1;
	}

	ns = calloc((size_t)cf.n, sizeof(*ns));
	if (!ns) {
		perror("rtt: calloc");
		return 1;
	}
	snprintf(target, sizeof(target), "sim:bench-%d", (int)getpid());
	g_seq = mmap(NULL, NKINDS * sizeof(*g_seq), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_seq == MAP_FAILED) {
		perror("rtt: mmap");
		g_seq = NULL;
		goto out;
	}
	bench_on_fatal = say_seqs;

	/* Children first, before any handle exists in this process. */
	s.efd_mine = eventfd(0, EFD_CLOEXEC);
	s.efd_peer = eventfd(0, EFD_CLOEXEC);
	if (s.efd_mine < 0 || s.efd_peer < 0) {
		perror("rtt: eventfd");
		goto out;
	}
	pid = start_peer(&cf, &raw_pe, raw_cmd, raw_reply);
	if (pid < 0)
		goto out;
	if (pid == 0)
		raw_child(raw_cmd[0], raw_reply[1], s.efd_peer, s.efd_mine);
	pid = start_peer(&cf, &evx_pe, evx_cmd, evx_reply);
	if (pid < 0)
		goto out;
	if (pid == 0)
		evx_child(target, evx_cmd[0], evx_reply[1]);

	s.ep = make_epoll(s.efd_mine);
	if (s.ep < 0) {
		perror("rtt: epoll");
		goto out;
	}

	/* evtchnx set-up: domain 0 offers a port to domain 1 on a plain
	 * handle, and one on a busy-polling handle. */
	s.h = evtchnx_open(target, NULL);
	if (s.h) {
		struct evtchnx_open_opts o = { .sz = sizeof(o), .busy_poll_ns = g_busy_ns };

		s.hb = evtchnx_open(target, &o);
	}
	if (!s.h || !s.hb) {
		fprintf(stderr, "rtt: evtchnx_open(%s): %s\n", target, strerror(errno));
		goto out;
	}
	r = evtchnx_alloc_unbound(s.h, EVTCHNX_DOMID_SELF, 1);
	if (r >= 0) {
		s.port = (uint32_t)r;
		r = evtchnx_alloc_unbound(s.hb, EVTCHNX_DOMID_SELF, 1);
	}
	if (r < 0) {
		fprintf(stderr, "rtt: alloc_unbound: %s\n", evtchnx_strerror(r));
		goto out;
	}
	s.portb = (uint32_t)r;
	s.fd = evtchnx_fd(s.h);
	{
		uint32_t ports[2] = { s.port, s.portb }, child_port;

		r = bench_write_all(evx_pe.cmd_fd, ports, sizeof(ports));
		if (r == 0)
			r = bench_read_all(evx_pe.reply_fd, &child_port, sizeof(child_port));
		if (r < 0) {
			fprintf(stderr, "rtt: domain 1 did not bind (%s)\n", strerror(-r));
			goto out;
		}
	}

	printf("rtt: nproc %ld, evtchnx %s, lab %s, %ld round trips x %ld rounds "
	       "(warm-up %ld), busy-poll budget %ld us, figures are medians of the valid "
	       "rounds\n", sysconf(_SC_NPROCESSORS_ONLN), evtchnx_version(), target, cf.n,
	       cf.rounds, cf.warmup, cf.busy_us);
	bench_warn_load();

	for (long k = 0; k < cf.rounds; k++) {
		/* Rotate which kind goes first.  poll+pending and wait run back
		 * to back (their ratio has the tightest target), in turn first. */
		static const int units[6][2] = {
			{ KIND_EPOLL, -1 }, { KIND_READ, -1 }, { KIND_FUTEX, -1 },
			{ KIND_SPIN, -1 }, { KIND_POLL, KIND_WAIT }, { KIND_BUSY, -1 },
		};
		int seq[NKINDS], ns_ = 0;
		const char *lost = NULL;

		for (int u = 0; u < 6; u++) {
			const int *un = units[(k + u) % 6];

			if (un[1] >= 0 && k % 2) {
				seq[ns_++] = un[1];
				seq[ns_++] = un[0];
			} else {
				seq[ns_++] = un[0];
				if (un[1] >= 0)
					seq[ns_++] = un[1];
			}
		}
		ok[k] = 1;
		tick(timer, 1);
		for (int j = 0; j < NKINDS; j++) {
			int kind = seq[j];
			struct peer *pe = is_raw(kind) ? &raw_pe : &evx_pe;

			if (!pe->alive) {
				ok[k] = 0;
				lost = lost ? lost : kind_name[kind];
				continue;
			}
			r = run_kind(&cf, k + 1, kind, &s, pe, ns, &st[k][kind]);
			if (r == -ETIMEDOUT) {
				printf("rtt: round %ld: %s lost a message (no answer in %ld s, "
				       "step %ld): round invalid\n", k + 1, kind_name[kind],
				       cf.stall, (long)bench_iter);
				ok[k] = 0;
				lost = lost ? lost : kind_name[kind];
				abort_kind(&cf, kind, &s, pe);
				continue;
			}
			if (r < 0) {
				tick(timer, 0);
				fprintf(stderr, "rtt: round %ld failed: %s\n", k + 1,
					r == -ECHILD || r == -EPIPE ? "a child died" :
								      evtchnx_strerror(r));
				goto out;
			}
		}
		tick(timer, 0);
		if (ok[k]) {
			for (int j = 0; j < NRATIOS; j++)
				ratio[k][j] = round_ratio(st[k], j);
			printf("rtt round %ld:", k + 1);
			for (int i = 0; i < NKINDS; i++)
				printf(" %s %.2f", kind_short[i], st[k][i].median_us);
			printf(" us/rt (medians)  evtchnx/epoll %.3f %s  evtchnx/tightest %.3f  "
			       "wait/poll %.3f %s  busy/spin %.3f %s\n", ratio[k][R_EPOLL],
			       bench_pass(ratio[k][R_EPOLL] <= EPOLL_TARGET), ratio[k][R_TIGHT],
			       ratio[k][R_WAIT_POLL], bench_pass(ratio[k][R_WAIT_POLL] <= WAIT_TARGET),
			       ratio[k][R_BUSY_SPIN], bench_pass(ratio[k][R_BUSY_SPIN] <= BUSY_TARGET));
		} else {
			printf("rtt round %ld: INVALID (%s did not complete its round trips)\n",
			       k + 1, lost);
		}
		if (cf.verbose && ok[k]) {
			printf("  round %ld means:", k + 1);
			for (int i = 0; i < NKINDS; i++)
				printf(" %s %.2f", kind_short[i], st[k][i].mean_us);
			printf(" us/rt; CPU per rt (parent+child):");
			for (int i = 0; i < NKINDS; i++)
				printf(" %s %.2f", kind_short[i],
				       st[k][i].cpu_parent_us + st[k][i].cpu_child_us);
			printf(" us\n");
		}
	}
	report(&cf, st, ratio, ok);
	ret = 0;

out:
	bench_set_phase("tear-down", 0);
	bench_begin_reaping();
	if (ret == 0) {
		struct cmd q = { .op = CMD_QUIT };

		if (raw_pe.alive)
			bench_write_all(raw_pe.cmd_fd, &q, sizeof(q));
		if (evx_pe.alive)
			bench_write_all(evx_pe.cmd_fd, &q, sizeof(q));
	} else {
		bench_kill_children();
	}
	if (raw_pe.cmd_fd >= 0)
		close(raw_pe.cmd_fd);
	if (evx_pe.cmd_fd >= 0)
		close(evx_pe.cmd_fd);
	if (bench_reap_children(5000) && ret == 0) {
		fprintf(stderr, "rtt: a child failed\n");
		ret = 1;
	}
	timer_delete(timer);
	evtchnx_close(s.h);
	evtchnx_close(s.hb);
	if (s.ep >= 0)
		close(s.ep);
	if (s.efd_mine >= 0)
		close(s.efd_mine);
	if (s.efd_peer >= 0)
		close(s.efd_peer);
	if (raw_pe.reply_fd >= 0)
		close(raw_pe.reply_fd);
	if (evx_pe.reply_fd >= 0)
		close(evx_pe.reply_fd);
	free(ns);
	if (g_seq)
		munmap(g_seq, NKINDS * sizeof(*g_seq));
	return ret;
}
