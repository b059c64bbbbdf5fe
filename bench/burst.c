/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * burst - burst delivery to 4095 ports round-robin: evtchnx (shared sim
 * lab) against a raw coalesced-bitmap floor measured in the same run.
 *
 *   floor    a sender and a receiver process share a memfd holding a
 *            4096-bit pending bitmap and a "kicked" flag, and an eventfd
 *            doorbell.  The sender does what evtchnx's sender does and no
 *            more: it loads the port's word and does nothing if the bit is
 *            set already; otherwise it sets the bit (fetch_or), loads
 *            kicked, and only when that reads 0 exchanges it to 1 and writes
 *            the doorbell.  The receiver waits in epoll (edge-triggered, the
 *            doorbell is never read, as evtchnx's fd), clears kicked if set,
 *            then takes every set bit with an exchange per non-zero word.
 *   evtchnx  the control domain (this process) allocates the ports for
 *            domain 1; a child opens the lab as domain 1 and binds them.
 *            This process sends round-robin on its ends with evtchnx_send;
 *            the child waits in poll() on evtchnx_fd, drains with
 *            evtchnx_pending_batch (256 at a time) and unmasks each port it
 *            took.  Run twice: with EVTCHNX_OPEN_SINGLE_THREAD on both
 *            handles (the figure with a target) and without (reported).
 *
 * Pacing: the sender sends in windows of W ports (default 1000, at most half
 * the ports) and, after each window, waits until the receiver has taken
 * every event of the window before (the receiver publishes how far it has
 * caught up).  So no send ever finds its port still pending, every send is
 * an event the receiver must take, and "delivered" (events the receiver
 * took) equals "sent" unless an event was lost.  A round in which a side
 * delivered under 90 % of its sends, or stopped making progress, is
 * invalid and left out.  The kinds rotate over several rounds; the figures
 * are medians of the valid rounds.
 *
 * Usage: burst [-n sends] [-p ports] [-w window] [-r rounds] [-s stall_s]
 *              [-t watchdog_s] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
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
#include "bench_scan.h"

#define MAX_PORTS 4095u /* every port of a domain but the reserved port 0 */
#define BATCH 256u
#define WORDS 64u       /* 4096 bits */
#define MAX_ROUNDS 64
#define BURST_TARGET 0.5
#define MIN_DELIVERED 0.9
/* A waiting sender spins this long, then yields the CPU between looks. */
#define SPIN_NS 20000u

enum { KIND_FLOOR, KIND_ST, KIND_MT, KIND_STB, NKINDS };

static const char *const kind_name[NKINDS] = {
	"raw bitmap+eventfd", "evtchnx single-thread", "evtchnx",
	"evtchnx unmask_batch",
};

/* The status scans during a burst: set by the scanning thread when its scan
 * is over, which ends the burst round (see paced_round()). */
static _Atomic int g_scan_done;
static int g_until_scan; /* this round runs until g_scan_done */

/*
 * How one sender and its receiver keep in step.  The sender counts the
 * windows it has sent (@posted); after every pass that took all it could
 * find, the receiver publishes the @posted it read before the pass
 * (@caught: every event of those windows is taken) and its counters.  A
 * sentinel event on a port outside the round-robin set (the floor's bit 0,
 * one more evtchnx port) ends each round: it makes the receiver look at
 * @posted once more after the last window, and is not counted.
 */
struct pace {
	alignas(64) _Atomic uint64_t posted;
	_Atomic uint32_t quit;
	alignas(64) _Atomic uint64_t caught;
	_Atomic uint64_t delivered; /* events taken on the round-robin ports */
	_Atomic uint64_t sentinels; /* sentinel events taken */
	_Atomic uint64_t wakeups;   /* returns from the blocking wait */
};

/* Shared between this process and the receivers (one memfd). */
struct shm {
	/* the floor's 2-level state */
	alignas(64) _Atomic uint64_t bits[WORDS];
	alignas(64) _Atomic uint32_t kicked;
	struct pace pace[NKINDS];
};

/* A receiver's counters, published after every pass. */
struct tally {
	uint64_t caught;
	uint64_t delivered;
	uint64_t sentinels;
	uint64_t wakeups;
};

struct conf {
	long sends;
	long nports;
	long window;
	long rounds;
	long stall;
	long scans;
	long watchdog;
	int verbose;
};

/* One kind in one round. */
struct round {
	int stalled;
	int completed; /* no stall */
	int valid;     /* completed, and delivered >= MIN_DELIVERED */
	double secs;
	double delivered;
	double frac; /* delivered / sent */
	double dps;  /* deliveries per second */
	double wakeups;
	double waits; /* windows after which the sender had to wait */
	double nudges; /* stalls ended by a signal to the receiver */
	double kicks; /* floor: doorbell writes */
};

static void usage(void)
{
	fprintf(stderr,
		"usage: burst [-n sends] [-p ports] [-w window] [-r rounds] [-s stall_s] "
		"[-S scan_rounds] [-t watchdog_s] [-v]\n"
		"  -n  sends per kind and round (default 4000000)\n"
		"  -p  ports sent to round-robin (default and maximum 4095)\n"
		"  -w  sends per window; the sender waits for the receiver to take the\n"
		"      window before the last one (default 1000, at most ports/2)\n"
		"  -r  rounds, kinds rotating (default 5)\n"
		"  -s  a receiver that takes nothing for this many seconds while events\n"
		"      are outstanding stalled: the round is invalid (default 1)\n"
		"  -S  rounds of status scans during a burst (default 3; 0: none)\n"
		"  -t  watchdog: give up after this many seconds (default 300)\n"
		"  -v  print more for every round\n");
}

static void publish(struct pace *p, const struct tally *t)
{
	atomic_store_explicit(&p->delivered, t->delivered, memory_order_relaxed);
	atomic_store_explicit(&p->sentinels, t->sentinels, memory_order_relaxed);
	atomic_store_explicit(&p->wakeups, t->wakeups, memory_order_relaxed);
	atomic_store_explicit(&p->caught, t->caught, memory_order_release);
}

/* ---- the floor's sender ----------------------------------------------- */

/* Port @port (0 is the sentinel).  Returns 1 when it wrote the
 * doorbell, 0 when it did not need to, -errno on failure. */
static inline int floor_send(struct shm *m, int efd, uint32_t port)
{
	_Atomic uint64_t *w = &m->bits[port / 64u];
	static const uint64_t one = 1;
	uint64_t bit = 1ull << (port % 64u);

	if (atomic_load_explicit(w, memory_order_relaxed) & bit)
		return 0; /* pending already: events coalesce */
	atomic_fetch_or_explicit(w, bit, memory_order_seq_cst);
	/* Ordered after the fetch_or: either the receiver's scan, which
	 * follows its clearing of kicked, sees the bit, or this sees 0. */
	if (atomic_load_explicit(&m->kicked, memory_order_seq_cst))
		return 0; /* the receiver is woken already and has not scanned */
	if (atomic_exchange_explicit(&m->kicked, 1, memory_order_seq_cst))
		return 0;
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 1;
}

/* ---- the receivers ---------------------------------------------------- */

/* What a receiver waits on and takes from. */
struct rcv {
	struct pace *p;
	struct tally t;
	/* Block until woken: 1, 0 when a signal came first, -errno. */
	int (*wait)(struct rcv *r);
	/* Take all that is pending: 0 or -errno. */
	int (*drain)(struct rcv *r);
	struct shm *m;            /* floor */
	int ep;                   /* floor: epoll set on the doorbell */
	struct evtchnx_handle *h; /* evtchnx */
	struct pollfd pfd;        /* evtchnx: its fd */
	uint32_t sentinel;        /* evtchnx: its end of the sentinel's channel */
};

static void on_nudge(int sig)
{
	(void)sig;
}

/*
 * A receiver's life: after each wake-up, passes until @posted stands still
 * (see struct pace).  SIGUSR1 from the sender, after a stall, interrupts
 * the wait: then it makes a pass as if woken.  Returns 0 at quit, -errno.
 */
static int receive_loop(struct rcv *rc)
{
	struct pace *p = rc->p;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_nudge; /* no SA_RESTART: the wait returns */
	sigaction(SIGUSR1, &sa, NULL);
	for (;;) {
		uint64_t s;
		int r = rc->wait(rc);

		if (r < 0)
			return r;
		rc->t.wakeups += (uint64_t)r;
		if (atomic_load(&p->quit))
			return 0;
		do {
			s = atomic_load_explicit(&p->posted, memory_order_acquire);
			r = rc->drain(rc);
			if (r < 0)
				return r;
			rc->t.caught = s;
			publish(p, &rc->t);
		} while (atomic_load_explicit(&p->posted, memory_order_acquire) != s);
	}
}

static int floor_wait(struct rcv *rc)
{
	struct epoll_event ev;
	int r = epoll_wait(rc->ep, &ev, 1, -1);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return 1;
}

/* Take every set bit. */
static int floor_drain(struct rcv *rc)
{
	struct shm *m = rc->m;

	if (atomic_load(&m->kicked))
		atomic_exchange(&m->kicked, 0);
	for (unsigned int k = 0; k < WORDS; k++) {
		uint64_t w;

		if (!atomic_load(&m->bits[k]))
			continue;
		w = atomic_exchange(&m->bits[k], 0);
		if (k == 0 && (w & 1)) {
			rc->t.sentinels++;
			w &= ~1ull;
		}
		rc->t.delivered += (uint64_t)__builtin_popcountll(w);
	}
	return 0;
}

static void floor_receiver(struct shm *m, int efd)
{
	/* Edge-triggered and never read, as evtchnx's fd: one system call
	 * per wake-up. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = efd };
	struct rcv rc = { .p = &m->pace[KIND_FLOOR], .wait = floor_wait,
			  .drain = floor_drain, .m = m };
	int r;

	rc.ep = epoll_create1(EPOLL_CLOEXEC);
	if (rc.ep < 0 || epoll_ctl(rc.ep, EPOLL_CTL_ADD, efd, &ev) < 0) {
		perror("burst floor receiver: epoll");
		_exit(1);
	}
	r = receive_loop(&rc);
	if (r < 0)
		fprintf(stderr, "burst floor receiver: %s\n", strerror(-r));
	_exit(r < 0);
}

static int evx_wait(struct rcv *rc)
{
	int r = poll(&rc->pfd, 1, -1);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return 1;
}

/* Count the @n ports taken: deliveries, and the sentinel. */
static void count_taken(struct rcv *rc, const uint32_t *ports, int n)
{
	for (int i = 0; i < n; i++) {
		if (ports[i] == rc->sentinel)
			rc->t.sentinels++;
		else
			rc->t.delivered++;
	}
}

/* Take until nothing is pending, BATCH ports a call, and unmask each. */
static int evx_drain(struct rcv *rc)
{
	uint32_t ports[BATCH];
	int n;

	do {
		n = evtchnx_pending_batch(rc->h, ports, BATCH);
		for (int i = 0; i < n; i++) {
			int r = evtchnx_unmask(rc->h, ports[i]);

			if (r < 0)
				return r;
		}
		count_taken(rc, ports, n);
	} while (n == (int)BATCH);
	return n < 0 ? n : 0;
}

/* The same, unmasking each batch with one evtchnx_unmask_batch() call. */
static int evx_drain_batch(struct rcv *rc)
{
	uint32_t ports[BATCH];
	int n;

	do {
		n = evtchnx_pending_batch(rc->h, ports, BATCH);
		for (int done = 0; done < n;) {
			int r = evtchnx_unmask_batch(rc->h, ports + done, (unsigned int)(n - done));

			if (r <= 0)
				return r < 0 ? r : -EIO;
			done += r;
		}
		count_taken(rc, ports, n);
	} while (n == (int)BATCH);
	return n < 0 ? n : 0;
}

static void evx_receiver(const char *target, int kind, unsigned int nports, struct shm *m,
			 int cmd_fd, int reply_fd)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 1 };
	struct rcv rc = { .p = &m->pace[kind], .wait = evx_wait,
			  .drain = kind == KIND_STB ? evx_drain_batch : evx_drain };
	static uint32_t remote[MAX_PORTS + 1];
	int r;

	if (kind == KIND_ST || kind == KIND_STB)
		o.flags = EVTCHNX_OPEN_SINGLE_THREAD;
	if (bench_read_all(cmd_fd, remote, (nports + 1) * sizeof(remote[0])) < 0)
		_exit(1);
	rc.h = evtchnx_open(target, &o);
	if (!rc.h) {
		fprintf(stderr, "burst child: evtchnx_open(%s, domid 1): %s\n",
			target, strerror(errno));
		_exit(1);
	}
	for (unsigned int i = 0; i <= nports; i++) {
		r = evtchnx_bind_interdomain(rc.h, 0, remote[i]);
		if (r < 0) {
			fprintf(stderr, "burst child: bind_interdomain(0, %u) #%u: %s\n",
				remote[i], i + 1, evtchnx_strerror(r));
			goto out;
		}
		rc.sentinel = (uint32_t)r; /* the last one */
	}
	/* Each bind left its new port pending: drop those events. */
	r = evx_drain(&rc);
	rc.t = (struct tally){ 0 };
	if (r == 0)
		r = bench_write_all(reply_fd, &rc.sentinel, sizeof(rc.sentinel));
	if (r == 0) {
		rc.pfd.fd = evtchnx_fd(rc.h);
		rc.pfd.events = POLLIN;
		r = receive_loop(&rc);
	}
out:
	if (r < 0)
		fprintf(stderr, "burst child: %s\n", evtchnx_strerror(r));
	evtchnx_close(rc.h);
	_exit(r < 0);
}

/* ---- the sender ------------------------------------------------------- */

/* What a sender needs for one kind. */
struct sender {
	int kind;
	struct shm *m;
	int efd;                   /* floor: the doorbell */
	struct evtchnx_handle *h;  /* evtchnx: domain 0's handle */
	const uint32_t *ports;     /* evtchnx: its ends */
	uint32_t sentinel;         /* evtchnx: its end of the sentinel's channel */
	pid_t pid;                 /* the receiver */
	uint64_t kicks;
};

/* What a receiver that stopped taking events is doing. */
static void say_stall(const struct conf *cf, const struct sender *sd, const struct pace *p,
		      uint64_t want)
{
	char wchan[64];
	char state = bench_proc_state(sd->pid, wchan, sizeof(wchan));

	printf("burst: round %ld: the %s receiver took nothing for %ld s with events "
	       "outstanding (windows sent %llu, waiting for %llu, caught %llu, %llu "
	       "delivered); its state: %c in %s%s; signalled, the round is invalid\n",
	       (long)bench_round, kind_name[sd->kind], cf->stall,
	       (unsigned long long)atomic_load(&p->posted), (unsigned long long)want,
	       (unsigned long long)atomic_load(&p->caught),
	       (unsigned long long)atomic_load(&p->delivered), state, wchan,
	       state == 'S' ? " (asleep: a wake-up was lost)" : "");
}

/*
 * Wait until the receiver has caught up with window @want and taken
 * @sentinels sentinels.  When it takes nothing for the stall limit, it is
 * signalled once (its wait returns, it looks again: the round goes on but
 * is invalid).  Returns 0, or -ETIMEDOUT when even that did not help.
 */
static int wait_caught(const struct conf *cf, const struct sender *sd, struct pace *p,
		       uint64_t want, uint64_t sentinels, struct round *out)
{
	uint64_t stall_ns = (uint64_t)cf->stall * 1000000000u;
	uint64_t t0 = 0, seen = 0;
	int nudged = 0;

	for (unsigned int spins = 0;; spins++) {
		uint64_t now, d;

		if (atomic_load_explicit(&p->caught, memory_order_acquire) >= want &&
		    atomic_load_explicit(&p->sentinels, memory_order_relaxed) >= sentinels)
			return 0;
		if (spins == 0)
			out->waits++;
		if (spins % 64) {
			bench_cpu_relax();
			continue;
		}
		now = bench_now_ns();
		d = atomic_load_explicit(&p->delivered, memory_order_relaxed);
		if (spins == 0 || d != seen) {
			t0 = now; /* progress */
			seen = d;
		} else if (now - t0 > stall_ns) {
			if (nudged)
				return -ETIMEDOUT;
			say_stall(cf, sd, p, want);
			kill(sd->pid, SIGUSR1);
			nudged = 1;
			out->nudges++;
			t0 = now;
		} else if (now - t0 > SPIN_NS) {
			sched_yield();
		}
	}
}

/*
 * One paced round of @sends sends round-robin.  @send is a constant in each
 * caller, so that the compiler inlines it into the loop: the floor's sender
 * must not pay for a call the real thing does not make.
 */
static inline __attribute__((always_inline)) int
paced_round(const struct conf *cf, long round, struct sender *sd,
	    int (*send)(struct sender *sd, uint32_t i), int (*sentinel)(struct sender *sd),
	    struct round *out)
{
	struct pace *p = &sd->m->pace[sd->kind];
	uint64_t posted = atomic_load_explicit(&p->posted, memory_order_relaxed);
	uint64_t d0 = atomic_load(&p->delivered), w0 = atomic_load(&p->wakeups);
	uint64_t sentinels = atomic_load(&p->sentinels) + 1;
	uint64_t kicks0 = sd->kicks, t0, t1;
	uint32_t i = 0, nports = (uint32_t)cf->nports;
	long left = cf->sends;
	int r;

	bench_set_phase(g_until_scan ? "burst with a status scan" :
			sd->kind == KIND_FLOOR ? "burst floor" :
			sd->kind == KIND_ST ? "burst evtchnx single-thread" :
			sd->kind == KIND_STB ? "burst evtchnx unmask_batch" : "burst evtchnx",
			round);
	memset(out, 0, sizeof(*out));
	t0 = bench_now_ns();
	while (left > 0) {
		long w = left < cf->window ? left : cf->window;

		for (long k = 0; k < w; k++) {
			r = send(sd, i);
			if (r < 0)
				return r;
			if (++i == nports)
				i = 0;
		}
		left -= w;
		bench_iter = cf->sends - left;
		atomic_store_explicit(&p->posted, ++posted, memory_order_release);
		r = wait_caught(cf, sd, p, posted - 1, 0, out);
		if (r < 0)
			return r;
		if (g_until_scan && atomic_load_explicit(&g_scan_done, memory_order_relaxed))
			break;
	}
	r = sentinel(sd);
	if (r == 0)
		r = wait_caught(cf, sd, p, posted, sentinels, out);
	if (r < 0)
		return r;
	t1 = bench_now_ns();

	out->completed = 1;
	out->secs = (double)(t1 - t0) / 1e9;
	out->delivered = (double)(atomic_load(&p->delivered) - d0);
	out->wakeups = (double)(atomic_load(&p->wakeups) - w0);
	out->kicks = (double)(sd->kicks - kicks0);
	out->frac = out->delivered / (double)(cf->sends - left);
	out->dps = out->delivered / out->secs;
	out->valid = out->frac >= MIN_DELIVERED && !out->nudges;
	return 0;
}

/* The floor's port @port: round-robin index i is port i + 1, the sentinel
 * port 0. */
static inline int floor_send_port(struct sender *sd, uint32_t port)
{
	int r = floor_send(sd->m, sd->efd, port);

	if (r > 0) {
		sd->kicks++;
		r = 0;
	}
	return r;
}

static int floor_send_i(struct sender *sd, uint32_t i)
{
	return floor_send_port(sd, i + 1);
}

static int floor_sentinel(struct sender *sd)
{
	return floor_send_port(sd, 0);
}

static int evx_send_i(struct sender *sd, uint32_t i)
{
	return evtchnx_send(sd->h, sd->ports[i]);
}

static int evx_sentinel(struct sender *sd)
{
	return evtchnx_send(sd->h, sd->sentinel);
}

/* Each round loop on its own (noinline): the floor's loop keeps its state
 * in registers instead of sharing them with main(). */
static __attribute__((noinline)) int floor_round(const struct conf *cf, long round,
						 struct sender *sd, struct round *out)
{
	return paced_round(cf, round, sd, floor_send_i, floor_sentinel, out);
}

static __attribute__((noinline)) int evx_round(const struct conf *cf, long round,
					       struct sender *sd, struct round *out)
{
	return paced_round(cf, round, sd, evx_send_i, evx_sentinel, out);
}

/* ---- main ------------------------------------------------------------- */

/* A figure of one kind over the rounds where @valid (or only @completed). */
static struct bench_stat kind_stat(const struct round (*rd)[NKINDS], size_t n, int kind,
				   size_t off, int completed_only)
{
	double v[MAX_ROUNDS];
	unsigned char ok[MAX_ROUNDS];

	for (size_t k = 0; k < n; k++) {
		v[k] = *(const double *)((const char *)&rd[k][kind] + off);
		ok[k] = (unsigned char)(completed_only ? rd[k][kind].completed :
							 rd[k][kind].valid);
	}
	return bench_stat_valid(v, ok, n);
}

#define KSTAT(rd, n, kind, field) kind_stat(rd, n, kind, offsetof(struct round, field), 0)

static void print_kind(const struct round (*rd)[NKINDS], size_t n, int kind)
{
	struct bench_stat dps = KSTAT(rd, n, kind, dps);
	struct bench_stat frac = kind_stat(rd, n, kind, offsetof(struct round, frac), 1);

	if (!dps.valid) {
		printf("burst %-22s no valid round\n", kind_name[kind]);
		return;
	}
	printf("burst %-22s %6.2f M deliveries/s  (%.0f delivered in %.3f s, delivered/sent "
	       "%.3f, min %.3f), %.0f wake-ups, %.0f sender waits%s\n",
	       kind_name[kind], dps.median / 1e6, KSTAT(rd, n, kind, delivered).median,
	       KSTAT(rd, n, kind, secs).median, frac.median, frac.min,
	       KSTAT(rd, n, kind, wakeups).median, KSTAT(rd, n, kind, waits).median,
	       kind == KIND_MT || kind == KIND_STB ? "  (report only)" : "");
}

/* The per-round ratio of @kind over @base, where both were valid. */
static struct bench_stat ratio_stat2(const struct round (*rd)[NKINDS], size_t n, int kind,
				     int base)
{
	double v[MAX_ROUNDS];
	unsigned char ok[MAX_ROUNDS];

	for (size_t k = 0; k < n; k++) {
		ok[k] = (unsigned char)(rd[k][base].valid && rd[k][kind].valid);
		v[k] = ok[k] ? rd[k][kind].dps / rd[k][base].dps : 0.0;
	}
	return bench_stat_valid(v, ok, n);
}

static struct bench_stat ratio_stat(const struct round (*rd)[NKINDS], size_t n, int kind)
{
	return ratio_stat2(rd, n, kind, KIND_FLOOR);
}

/* One round of status scans of the receiver's 4095 ports: quiet, then
 * during a burst of the single-thread kind; each with evtchnx_status() on
 * every port and with evtchnx_status_batch(). */
enum { SCAN_QUIET, SCAN_QUIET_BATCH, SCAN_BURST, SCAN_BURST_BATCH, NSCANS };

struct scan_round {
	double ms[NSCANS];
	int ok[NSCANS]; /* every port answered INTERDOMAIN (and the burst was valid) */
	double burst_mdps[2];
	double burst_sends[2];
};

static const char *const scan_name[NSCANS] = {
	"quiet, evtchnx_status", "quiet, evtchnx_status_batch",
	"during a burst, evtchnx_status", "during a burst, evtchnx_status_batch",
};
static const char *const scan_key[NSCANS] = {
	"burst.scan_quiet_ms", "burst.scan_batch_quiet_ms", "burst.scan_during_burst_ms",
	"burst.scan_batch_during_burst_ms",
};

static void report_scans(const struct conf *cf, const struct scan_round *sr)
{
	size_t n = (size_t)cf->scans;

	for (int i = 0; i < NSCANS; i++) {
		double v[MAX_ROUNDS];
		unsigned char ok[MAX_ROUNDS];
		struct bench_stat st;

		for (size_t k = 0; k < n; k++) {
			v[k] = sr[k].ms[i];
			ok[k] = (unsigned char)sr[k].ok[i];
		}
		st = bench_stat_valid(v, ok, n);
		if (st.valid)
			printf("scan of %ld ports %-38s median %8.3f ms  min %8.3f  max %8.3f  "
			       "(%zu of %zu valid)\n", cf->nports, scan_name[i], st.median, st.min,
			       st.max, st.valid, n);
		else
			printf("scan of %ld ports %-38s no valid round\n", cf->nports,
			       scan_name[i]);
		bench_result(scan_key[i], st, BENCH_REPORT, 0, 3);
	}
}

static void report(const struct conf *cf, const struct round (*rd)[NKINDS],
		   const long (*rss)[3], const long (*anon)[2])
{
	static const char *const dps_key[NKINDS] = {
		"burst.floor_mdps", "burst.st_mdps", "burst.mt_mdps", "burst.stb_mdps",
	};
	static const char *const frac_key[NKINDS] = {
		"burst.floor_delivered", "burst.st_delivered", "burst.mt_delivered",
		"burst.stb_delivered",
	};
	size_t n = (size_t)cf->rounds;
	struct bench_stat st = ratio_stat(rd, n, KIND_ST), mt = ratio_stat(rd, n, KIND_MT);
	struct bench_stat stb = ratio_stat(rd, n, KIND_STB);
	struct bench_stat gain = ratio_stat2(rd, n, KIND_STB, KIND_ST);
	long growth = 0, growth_anon = 0;

	for (int i = 0; i < NKINDS; i++)
		print_kind(rd, n, i);
	printf("burst rounds               %zu of %zu valid for single-thread/floor, %zu for "
	       "evtchnx/floor (a side that delivered under %.0f %% of its sends, or stalled, "
	       "makes its round invalid)\n", st.valid, n, mt.valid, MIN_DELIVERED * 100);
	for (int i = 0; i < 3; i++) {
		if (rss[i][1] < 0 || rss[i][2] < 0 || anon[i][0] < 0 || anon[i][1] < 0)
			continue; /* a receiver killed after a stall */
		growth += rss[i][2] - rss[i][1];
		growth_anon += anon[i][1] - anon[i][0];
	}
	/* Round 1 touches code and stack pages for the first time; growth
	 * per event shows between round 1 and the end. */
	printf("memory evtchnx VmRSS KiB (set-up / after round 1 / end): sender %ld / %ld / %ld, "
	       "receiver single-thread %ld / %ld / %ld, receiver %ld / %ld / %ld; growth after "
	       "round 1 %+ld KiB (anonymous %+ld KiB) over %ld more sends per kind\n",
	       rss[0][0], rss[0][1], rss[0][2], rss[1][0], rss[1][1], rss[1][2], rss[2][0],
	       rss[2][1], rss[2][2], growth, growth_anon, (cf->rounds - 1) * cf->sends);
	if (st.valid && st.median > 1.0)
		printf("burst note: the floor ran slower than evtchnx (its receiver woke %.0f times a "
		       "round, evtchnx single-thread's %.0f): wake-ups dominate, as when other "
		       "programs keep the CPUs busy; the ratio says little about the cost of an "
		       "event then\n", KSTAT(rd, n, KIND_FLOOR, wakeups).median,
		       KSTAT(rd, n, KIND_ST, wakeups).median);
	if (st.valid)
		printf("ratio evtchnx-single-thread/floor %.3f (target >= %.1f) %s%s\n", st.median,
		       BURST_TARGET, bench_verdict(st, BENCH_AT_LEAST, BURST_TARGET),
		       st.valid == n ? "" : " (over the valid rounds only)");
	else
		printf("ratio evtchnx-single-thread/floor n/a (target >= %.1f) INVALID "
		       "(no valid round)\n", BURST_TARGET);
	if (mt.valid)
		printf("ratio evtchnx/floor %.3f (report only)\n", mt.median);
	else
		printf("ratio evtchnx/floor n/a (report only, no valid round)\n");
	if (stb.valid)
		printf("ratio evtchnx-unmask_batch/floor %.3f (report only)\n", stb.median);
	else
		printf("ratio evtchnx-unmask_batch/floor n/a (report only, no valid round)\n");
	if (gain.valid)
		printf("ratio evtchnx-unmask_batch/evtchnx-single-thread %.3f (report only: "
		       "evtchnx_unmask_batch against per-port evtchnx_unmask, both single-thread; "
		       "median %.3f min %.3f max %.3f over %zu rounds)\n", gain.median, gain.median,
		       gain.min, gain.max, gain.valid);
	else
		printf("ratio evtchnx-unmask_batch/evtchnx-single-thread n/a (report only, no "
		       "valid round)\n");

	bench_result("burst.st_ratio", st, BENCH_AT_LEAST, BURST_TARGET, 3);
	bench_result("burst.mt_ratio", mt, BENCH_REPORT, 0, 3);
	bench_result("burst.stb_ratio", stb, BENCH_REPORT, 0, 3);
	bench_result("burst.unmask_batch_gain", gain, BENCH_REPORT, 0, 3);
	for (int i = 0; i < NKINDS; i++) {
		struct bench_stat d = KSTAT(rd, n, i, dps);

		d.median /= 1e6;
		d.min /= 1e6;
		d.max /= 1e6;
		bench_result(dps_key[i], d, BENCH_REPORT, 0, 2);
	}
	for (int i = 0; i < NKINDS; i++)
		bench_result(frac_key[i], kind_stat(rd, n, i, offsetof(struct round, frac), 1),
			     BENCH_REPORT, 0, 4);
	{
		double g = (double)growth_anon;
		unsigned char one = 1;

		bench_result("burst.anon_growth_kib", bench_stat_valid(&g, &one, 1),
			     BENCH_REPORT, 0, 0);
	}
}

/* VmRSS (into column @col) and, when @acol >= 0, RssAnon (into column
 * @acol) of the sender and both evtchnx receivers; -1 for a receiver that
 * is gone. */
static void sample_memory(const pid_t *pid, long (*rss)[3], int col, long (*anon)[2],
			  int acol)
{
	const pid_t who[3] = { 0, pid[KIND_ST], pid[KIND_MT] };

	for (int i = 0; i < 3; i++) {
		rss[i][col] = who[i] < 0 ? -1 : bench_vmrss_kib(who[i]);
		if (acol >= 0)
			anon[i][acol] = who[i] < 0 ? -1 : bench_rssanon_kib(who[i]);
	}
}

/* Start an evtchnx receiver for @kind and give it domain 0's ports. */
static pid_t start_evx(const struct conf *cf, const char *target, int kind, struct shm *m,
		       const uint32_t *ports)
{
	int cmd[2], reply[2];
	uint32_t sentinel;
	pid_t pid;
	int r;

	if (pipe2(cmd, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(reply, O_CLOEXEC) < 0) {
		close(cmd[0]);
		close(cmd[1]);
		return -1;
	}
	fflush(NULL);
	pid = bench_fork((unsigned int)cf->watchdog);
	if (pid == 0) {
		close(cmd[1]);
		close(reply[0]);
		evx_receiver(target, kind, (unsigned int)cf->nports, m, cmd[0], reply[1]);
	}
	close(cmd[0]);
	close(reply[1]);
	r = pid < 0 ? -errno : 0;
	if (r == 0)
		r = bench_write_all(cmd[1], ports, ((size_t)cf->nports + 1) * sizeof(ports[0]));
	if (r == 0)
		r = bench_read_all(reply[0], &sentinel, sizeof(sentinel));
	close(cmd[1]);
	close(reply[0]);
	if (r < 0) {
		fprintf(stderr, "burst: domain 1 did not bind its ports (%s)\n", strerror(-r));
		return -1;
	}
	return pid;
}

/* A status scan run by a thread while the sender bursts. */
struct scanner {
	pthread_t thread;
	struct evtchnx_handle *h; /* domain 0's, its own */
	unsigned int nports;
	int batch;
	struct pace *p;        /* the burst's */
	uint64_t start_posted; /* start once the burst has posted beyond this */
	uint64_t ns;           /* 0: the scan did not do its work */
};

static void *scan_thread(void *arg)
{
	struct scanner *sc = arg;

	while (atomic_load(&sc->p->posted) < sc->start_posted + 2 && !atomic_load(&g_scan_done))
		sched_yield();
	if (!atomic_load(&g_scan_done))
		sc->ns = bench_scan_status(sc->h, 1, sc->nports, sc->batch,
					   EVTCHNX_STATE_INTERDOMAIN);
	atomic_store(&g_scan_done, 1);
	return NULL;
}

/*
 * One round of scans of domain 1's first @nports ports (the single-thread
 * receiver's, bound first): quiet, then each while the single-thread kind
 * bursts; the burst goes on until the scan is over.  Returns 0 or -errno
 * (the run cannot go on).
 */
static int scan_round(const struct conf *cf, long round, struct evtchnx_handle *hs,
		      struct sender *sd, struct scan_round *out)
{
	struct conf bc = *cf;
	unsigned int np = (unsigned int)cf->nports;

	memset(out, 0, sizeof(*out));
	bench_set_phase("quiet status scan", round);
	for (int b = 0; b < 2; b++) {
		uint64_t ns = bench_scan_status(hs, 1, np, b, EVTCHNX_STATE_INTERDOMAIN);

		out->ok[SCAN_QUIET + b] = ns != 0;
		out->ms[SCAN_QUIET + b] = (double)ns / 1e6;
	}
	bc.sends = 4000000000L; /* until the scan is over */
	for (int b = 0; b < 2; b++) {
		struct scanner sc = { .h = hs, .nports = np, .batch = b,
				      .p = &sd->m->pace[KIND_ST] };
		struct round rd;
		int r;

		sc.start_posted = atomic_load(&sc.p->posted);
		atomic_store(&g_scan_done, 0);
		g_until_scan = 1;
		r = pthread_create(&sc.thread, NULL, scan_thread, &sc);
		if (r) {
			g_until_scan = 0;
			return -r;
		}
		r = evx_round(&bc, round, sd, &rd);
		atomic_store(&g_scan_done, 1);
		pthread_join(sc.thread, NULL);
		g_until_scan = 0;
		if (r < 0 && r != -ETIMEDOUT)
			return r;
		out->ok[SCAN_BURST + b] = r == 0 && rd.valid && sc.ns != 0;
		out->ms[SCAN_BURST + b] = (double)sc.ns / 1e6;
		out->burst_mdps[b] = rd.dps / 1e6;
		out->burst_sends[b] = rd.delivered;
		if (r == -ETIMEDOUT)
			return r;
	}
	return 0;
}

/* Domain 0's ends: the round-robin ports, then the sentinel. */
static int alloc_ports(struct evtchnx_handle *h, unsigned int n, uint32_t *ports)
{
	for (unsigned int i = 0; i <= n; i++) {
		int r = evtchnx_alloc_unbound(h, EVTCHNX_DOMID_SELF, 1);

		if (r < 0) {
			fprintf(stderr, "burst: alloc_unbound #%u: %s\n", i + 1,
				evtchnx_strerror(r));
			return r;
		}
		ports[i] = (uint32_t)r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct conf cf = { .sends = 4000000, .nports = MAX_PORTS, .window = 1000,
			   .rounds = 5, .stall = 1, .scans = 3, .watchdog = 300 };
	static struct round rd[MAX_ROUNDS][NKINDS];
	static struct scan_round sr[MAX_ROUNDS];
	static uint32_t ports[NKINDS][MAX_PORTS + 1];
	struct sender sd[NKINDS];
	struct evtchnx_handle *h[NKINDS] = { NULL }, *hs = NULL;
	pid_t pid[NKINDS] = { -1, -1, -1, -1 };
	int alive[NKINDS] = { 0 };
	long rss[3][3], anon[3][2]; /* [sender, st, mt][...] */
	struct shm *m = MAP_FAILED;
	int memfd = -1, efd = -1;
	char target[64];
	int opt, r, ret = 1;

	while ((opt = getopt(argc, argv, "n:p:w:r:s:S:t:vh")) != -1) {
		switch (opt) {
		case 'n': cf.sends = bench_parse_pos("-n", optarg, 4000000000L); break;
		case 'p': cf.nports = bench_parse_pos("-p", optarg, MAX_PORTS); break;
		case 'w': cf.window = bench_parse_pos("-w", optarg, MAX_PORTS); break;
		case 'r': cf.rounds = bench_parse_pos("-r", optarg, MAX_ROUNDS); break;
		case 's': cf.stall = bench_parse_pos("-s", optarg, 3600L); break;
		case 'S':
			cf.scans = strcmp(optarg, "0") ? bench_parse_pos("-S", optarg, MAX_ROUNDS) : 0;
			break;
		case 't': cf.watchdog = bench_parse_pos("-t", optarg, 86400L); break;
		case 'v': cf.verbose = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	/* Two windows in flight must not share a port, or sends coalesce. */
	if (cf.window > cf.nports / 2)
		cf.window = cf.nports / 2 ? cf.nports / 2 : 1;
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

	/* The floor's receiver first, before any handle exists here. */
	fflush(NULL);
	pid[KIND_FLOOR] = bench_fork((unsigned int)cf.watchdog);
	if (pid[KIND_FLOOR] < 0) {
		perror("burst: fork");
		goto out;
	}
	if (pid[KIND_FLOOR] == 0)
		floor_receiver(m, efd);
	alive[KIND_FLOOR] = 1;

	/* evtchnx set-up: domain 0 offers nports + 1 ports to domain 1 on
	 * each handle, a receiver per handle binds them (the single-thread
	 * one first: its ports are domain 1's ports 1 .. nports + 1, the ones
	 * the status scans describe). */
	for (int kind = KIND_ST; kind < NKINDS; kind++) {
		struct evtchnx_open_opts o = { .sz = sizeof(o) };

		o.flags = kind != KIND_MT ? EVTCHNX_OPEN_SINGLE_THREAD : 0;
		h[kind] = evtchnx_open(target, &o);
		if (!h[kind]) {
			fprintf(stderr, "burst: evtchnx_open(%s): %s\n", target, strerror(errno));
			goto out;
		}
		if (alloc_ports(h[kind], (unsigned int)cf.nports, ports[kind]) < 0)
			goto out;
		pid[kind] = start_evx(&cf, target, kind, m, ports[kind]);
		if (pid[kind] < 0)
			goto out;
		alive[kind] = 1;
	}
	hs = evtchnx_open(target, NULL);
	if (!hs) {
		fprintf(stderr, "burst: evtchnx_open(%s): %s\n", target, strerror(errno));
		goto out;
	}
	for (int i = 0; i < NKINDS; i++) {
		sd[i] = (struct sender){ .kind = i, .m = m, .efd = efd, .pid = pid[i] };
		if (i != KIND_FLOOR) {
			sd[i].h = h[i];
			sd[i].ports = ports[i];
			sd[i].sentinel = ports[i][cf.nports];
		}
	}

	printf("burst: nproc %ld, evtchnx %s, lab %s, %ld ports round-robin, %ld sends in "
	       "windows of %ld x %ld rounds, figures are medians of the valid rounds\n",
	       sysconf(_SC_NPROCESSORS_ONLN), evtchnx_version(), target, cf.nports,
	       cf.sends, cf.window, cf.rounds);
	bench_warn_load();
	sample_memory(pid, rss, 0, anon, -1);

	for (long k = 0; k < cf.rounds; k++) {
		struct round *v = rd[k];

		for (int j = 0; j < NKINDS; j++) {
			int kind = (int)((k + j) % NKINDS); /* rotate who goes first */

			if (!alive[kind])
				continue;
			if (kind == KIND_FLOOR)
				r = floor_round(&cf, k + 1, &sd[kind], &v[kind]);
			else
				r = evx_round(&cf, k + 1, &sd[kind], &v[kind]);
			if (r == -ETIMEDOUT) {
				printf("burst: round %ld: the %s receiver took nothing for %ld s "
				       "more after the signal (%ld of %ld sent): round invalid, "
				       "receiver killed, kind not run again\n", k + 1,
				       kind_name[kind], cf.stall, (long)bench_iter, cf.sends);
				bench_kill_child(pid[kind]);
				pid[kind] = -1;
				alive[kind] = 0;
				v[kind].stalled = 1;
				continue;
			}
			if (r < 0) {
				fprintf(stderr, "burst: round %ld failed: %s\n", k + 1,
					r == -ECHILD || r == -EPIPE ? "a child died" :
								      evtchnx_strerror(r));
				goto out;
			}
		}
		if (k == 0)
			sample_memory(pid, rss, 1, anon, 0);
		printf("burst round %ld:", k + 1);
		for (int i = 0; i < NKINDS; i++) {
			if (!v[i].completed)
				printf("  %s %s", kind_name[i],
				       v[i].stalled ? "stalled" : "not run (receiver killed)");
			else
				printf("  %s %.2f M/s (delivered %.3f%s)", kind_name[i],
				       v[i].dps / 1e6, v[i].frac,
				       v[i].valid ? "" : v[i].nudges ? ", stalled: INVALID" :
								       ", INVALID");
			if (i == KIND_FLOOR)
				continue;
			if (v[i].valid && v[KIND_FLOOR].valid)
				printf(" ratio %.3f%s%s", v[i].dps / v[KIND_FLOOR].dps,
				       i == KIND_ST ? " " : "",
				       i == KIND_ST ? bench_pass(v[i].dps / v[KIND_FLOOR].dps >=
								 BURST_TARGET) : "");
			else
				printf(" ratio INVALID");
		}
		printf("\n");
		if (cf.verbose)
			for (int i = 0; i < NKINDS; i++)
				printf("  round %ld %s: %.0f delivered of %ld sent in %.4f s, "
				       "%.0f wake-ups, %.0f sender waits, %.0f doorbell writes, "
				       "%.0f stalls\n", k + 1, kind_name[i], v[i].delivered,
				       cf.sends, v[i].secs, v[i].wakeups, v[i].waits, v[i].kicks,
				       v[i].nudges);
	}
	sample_memory(pid, rss, 2, anon, 1);
	for (long k = 0; k < cf.scans && alive[KIND_ST]; k++) {
		r = scan_round(&cf, k + 1, hs, &sd[KIND_ST], &sr[k]);
		if (r == -ETIMEDOUT) {
			printf("burst: scan round %ld: the single-thread receiver stalled: "
			       "receiver killed, no more scan rounds\n", k + 1);
			bench_kill_child(pid[KIND_ST]);
			pid[KIND_ST] = -1;
			alive[KIND_ST] = 0;
		} else if (r < 0) {
			fprintf(stderr, "burst: scan round %ld failed: %s\n", k + 1,
				evtchnx_strerror(r));
			goto out;
		}
		printf("burst scan round %ld: quiet %.3f / batch %.3f ms, during a burst %.3f%s / "
		       "batch %.3f%s ms (burst %.2f / %.2f M deliveries/s)\n", k + 1,
		       sr[k].ms[SCAN_QUIET], sr[k].ms[SCAN_QUIET_BATCH], sr[k].ms[SCAN_BURST],
		       sr[k].ok[SCAN_BURST] ? "" : " INVALID", sr[k].ms[SCAN_BURST_BATCH],
		       sr[k].ok[SCAN_BURST_BATCH] ? "" : " INVALID", sr[k].burst_mdps[0],
		       sr[k].burst_mdps[1]);
	}
	report(&cf, rd, rss, anon);
	if (cf.scans)
		report_scans(&cf, sr);
	ret = 0;

out:
	bench_set_phase("tear-down", 0);
	bench_begin_reaping();
	if (ret == 0 && m != MAP_FAILED) {
		uint64_t one = 1;

		for (int i = 0; i < NKINDS; i++)
			atomic_store(&m->pace[i].quit, 1);
		if (alive[KIND_FLOOR] && write(efd, &one, sizeof(one)) != sizeof(one))
			perror("burst: doorbell");
		for (int i = KIND_ST; i < NKINDS; i++) {
			if (alive[i])
				(void)evtchnx_send(h[i], ports[i][cf.nports]);
		}
	} else {
		bench_kill_children();
	}
	if (bench_reap_children(5000) && ret == 0) {
		fprintf(stderr, "burst: a child failed\n");
		ret = 1;
	}
	for (int i = 0; i < NKINDS; i++)
		evtchnx_close(h[i]);
	evtchnx_close(hs);
	if (efd >= 0)
		close(efd);
	if (m != MAP_FAILED)
		munmap(m, sizeof(struct shm));
	if (memfd >= 0)
		close(memfd);
	return ret;
}
