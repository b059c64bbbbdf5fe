/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx-demo.c - "evtchnx demo": a live multi-process demonstration on a
 * shared sim lab.
 *
 * This process plays the control domain (dom0).  It creates domains 1 and
 * 2, allocates their channels the way a toolstack does before the guests
 * run, and re-executes itself twice (the hidden command __demo-guest) to
 * play the guests, passing them their port numbers on the command line.
 * Each guest opens its own handle as its domid.
 *
 *   dom0 port A  <----------------->  dom1 (binds to A)
 *   dom0 port B  <----------------->  dom2 (binds to B)
 *   dom1 port C (allocated by dom0, adopted by dom1)  <-->  dom2 (binds to C)
 *
 * Each guest also has a control socket pair to dom0 ("the control pipe"):
 * dom0 sends one-byte commands on it, guest 1 sends its measurements back,
 * and dom0 watches it to notice a guest that dies unexpectedly.  Event
 * counters live in a small shared page (a memfd) so that they survive the
 * guest that dom0 kills.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evtchnx-cli.h"
#include "evtchnx.h"

#define NDOMS 3                     /* dom0, dom1, dom2 */
#define DEFAULT_ROUNDS 1000u
#define MAX_ROUNDS 10000000u
#define DEFAULT_KILL_AFTER 0.2      /* seconds */
#define REPLY_TIMEOUT_MS 5000       /* an answer later than this is a failure */
#define REPORT_TIMEOUT_MS 10000     /* a guest's report on its dom0 channel */
#define PROBE_MS 20                 /* guest 1's patience before a status probe */

/* Counters of every process of the demo, in a shared page. */
struct demo_board {
	_Atomic uint64_t sent[NDOMS];
	_Atomic uint64_t received[NDOMS];
	_Atomic uint64_t spurious[NDOMS]; /* left pending by a bind */
};

/* Control pipe, dom0 -> guest: one byte per command. */
#define CMD_PINGPONG 'P' /* guest 1: measured ping-pong with guest 2 */
#define CMD_RUN 'R'      /* guest 1: ping guest 2 until it stops answering */
#define CMD_QUIT 'Q'     /* close the handle and exit */

/* Control pipe, guest 1 -> dom0. */
#define MSG_SAMPLES 0x534d504cu /* header, then count round trips (ns) */
#define MSG_GONE 0x474f4e45u

struct msg_samples {
	uint32_t magic;
	uint32_t count;
};

struct msg_gone {
	uint32_t magic;
	uint32_t rounds;     /* answered round trips before the silence */
	uint32_t state;      /* evtchnx_status() of guest 1's port */
	uint32_t remote_dom;
	uint32_t probes;     /* status probes made */
	uint32_t pad;
	uint64_t silent_ns;  /* last answer -> verdict */
};

/* ---- the timeline ------------------------------------------------------- */

struct timeline {
	uint64_t t0;   /* CLOCK_MONOTONIC of dom0's start, shared by all */
	unsigned int domid;
	bool quiet;
	bool color;
};

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_RED "\033[1;31m"
#define C_GREEN "\033[1;32m"
#define C_DIM "\033[2m"

static const char *const dom_color[NDOMS] = { "\033[1;36m", "\033[1;32m",
					       "\033[1;35m" };

/* Width of the columns before the message: "%9.3f  domN  %-7d  ". */
#define MSG_COLUMN 27

static void emit(const char *line, int len, size_t size)
{
	if (len < 0)
		return;
	if ((size_t)len >= size)
		len = (int)size - 1;
	/* One write per line, so that lines of different processes never
	 * interleave. */
	cli_write_all(STDOUT_FILENO, line, (size_t)len);
}

/* A timestamped line: "ms since start, who, pid, what". */
__attribute__((format(printf, 2, 3)))
static void say(const struct timeline *tl, const char *fmt, ...)
{
	char msg[700], line[900];
	va_list ap;
	double ms;

	if (tl->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ms = (double)(cli_now_ns() - tl->t0) / 1e6;
	emit(line,
	     snprintf(line, sizeof(line), "%9.3f  %sdom%u%s  %-7d  %s\n", ms,
		      tl->color ? dom_color[tl->domid % NDOMS] : "", tl->domid,
		      tl->color ? C_RESET : "", (int)getpid(), msg),
	     sizeof(line));
}

/* A continuation line (no timestamp), aligned with the messages. */
__attribute__((format(printf, 2, 3)))
static void sayx(const struct timeline *tl, const char *fmt, ...)
{
	char msg[700], line[900];
	va_list ap;

	if (tl->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(line, snprintf(line, sizeof(line), "%*s%s\n", MSG_COLUMN, "", msg),
	     sizeof(line));
}

/* Width of the "call -> result" column of say_call(). */
#define CALL_WIDTH 28

/* A call and its result, then a comment: "adopt(1) -> 0   why". */
__attribute__((format(printf, 3, 4)))
static void say_call(const struct timeline *tl, const char *comment,
		     const char *fmt, ...)
{
	char call[160];
	va_list ap;

	if (tl->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(call, sizeof(call), fmt, ap);
	va_end(ap);
	if (*comment)
		say(tl, "%-*s  %s", CALL_WIDTH, call, comment);
	else
		say(tl, "%s", call);
}

static void heading(const struct timeline *tl, const char *title)
{
	char line[200];
	int n = (int)strlen(title);

	if (tl->quiet)
		return;
	emit(line,
	     snprintf(line, sizeof(line), "%s-- %s %.*s%s\n",
		      tl->color ? C_BOLD : "", title, n < 70 ? 70 - n : 0,
		      "----------------------------------------------------------------------",
		      tl->color ? C_RESET : ""),
	     sizeof(line));
}

/* ---- latency figures ---------------------------------------------------- */

struct lat {
	unsigned int n;
	double median_us, mean_us, min_us, p99_us, max_us;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @s in place. */
static void lat_compute(uint64_t *s, unsigned int n, struct lat *l)
{
	long double sum = 0;

	memset(l, 0, sizeof(*l));
	if (!n)
		return;
	qsort(s, n, sizeof(*s), cmp_u64);
	for (unsigned int i = 0; i < n; i++)
		sum += s[i];
	l->n = n;
	l->mean_us = (double)(sum / n) / 1e3;
	l->median_us = (n % 2 ? (double)s[n / 2]
			      : ((double)s[n / 2 - 1] + (double)s[n / 2]) / 2) /
		       1e3;
	l->min_us = (double)s[0] / 1e3;
	l->max_us = (double)s[n - 1] / 1e3;
	l->p99_us = (double)s[((uint64_t)n * 99 + 99) / 100 - 1] / 1e3;
}

/* ---- the guests --------------------------------------------------------- */

struct guest_ctx {
	struct timeline tl;
	struct evtchnx_handle *h;
	struct demo_board *board;
	int ctl;
	unsigned int domid;
	unsigned int peer_dom;
	uint32_t dom0_port;  /* dom0's port offered to this guest */
	uint32_t peer_port;  /* adopt: in this domain; else in peer_dom */
	bool adopt;
	unsigned int rounds;
	uint32_t local0;     /* own end of the dom0 channel */
	uint32_t localp;     /* own end of the guest-to-guest channel */
};

static int guest_send(struct guest_ctx *g, uint32_t port)
{
	int r = evtchnx_send(g->h, port);

	if (r < 0)
		return cli_fail(r, "dom%u: evtchnx_send(port %u)", g->domid, port);
	atomic_fetch_add(&g->board->sent[g->domid], 1);
	return 0;
}

static int guest_unmask(struct guest_ctx *g, uint32_t port)
{
	int r = evtchnx_unmask(g->h, port);

	if (r < 0)
		return cli_fail(r, "dom%u: evtchnx_unmask(port %u)", g->domid,
				port);
	return 0;
}

/* Should this guest answer an event on @port (when idle)?  Both answer
 * dom0; only guest 2 answers guest 1 (else they would ping-pong forever). */
static bool guest_echoes(const struct guest_ctx *g, uint32_t port)
{
	return port == g->local0 || (!g->adopt && port == g->localp);
}

/* Take every pending port and answer it. */
static int guest_echo_all(struct guest_ctx *g)
{
	int p;

	while ((p = evtchnx_pending(g->h)) >= 0) {
		atomic_fetch_add(&g->board->received[g->domid], 1);
		if (guest_unmask(g, (uint32_t)p))
			return CLI_EXIT_FAIL;
		if (guest_echoes(g, (uint32_t)p) && guest_send(g, (uint32_t)p))
			return CLI_EXIT_FAIL;
	}
	if (p != -EAGAIN)
		return cli_fail(p, "dom%u: evtchnx_pending()", g->domid);
	return 0;
}

/*
 * Wait for an event on @port and take it (it stays masked).  Events from
 * dom0 meanwhile are answered.  Returns 0, -ETIMEDOUT, or another negative
 * errno (already reported).
 */
static int guest_wait_port(struct guest_ctx *g, uint32_t port, int timeout_ms)
{
	for (;;) {
		int r = evtchnx_wait(g->h, timeout_ms);

		if (r == (int)port) {
			atomic_fetch_add(&g->board->received[g->domid], 1);
			return 0;
		}
		if (r >= 0) {
			atomic_fetch_add(&g->board->received[g->domid], 1);
			if (guest_unmask(g, (uint32_t)r))
				return -EIO;
			if (r == (int)g->local0 && guest_send(g, g->local0))
				return -EIO;
			continue;
		}
		if (r == -EINTR)
			continue;
		if (r != -ETIMEDOUT)
			cli_fail(r, "dom%u: evtchnx_wait(%d ms)", g->domid,
				 timeout_ms);
		return r;
	}
}

/* CMD_PINGPONG: measured round trips with the peer, sent to dom0. */
static int guest_pingpong(struct guest_ctx *g)
{
	struct msg_samples hdr = { .magic = MSG_SAMPLES, .count = g->rounds };
	uint64_t *samples, start;
	int r, ret = CLI_EXIT_FAIL;

	samples = calloc(g->rounds, sizeof(*samples));
	if (!samples)
		return cli_fail(-ENOMEM, "dom%u: calloc(%u samples)", g->domid,
				g->rounds);
	say(&g->tl, "ping-pong with dom%u over port %u: %u rounds", g->peer_dom,
	    g->localp, g->rounds);
	start = cli_now_ns();
	for (unsigned int i = 0; i < g->rounds; i++) {
		uint64_t t = cli_now_ns();

		if (guest_send(g, g->localp))
			goto out;
		r = guest_wait_port(g, g->localp, REPLY_TIMEOUT_MS);
		if (r == -ETIMEDOUT) {
			cli_error("dom%u: no answer from dom%u on port %u within %d ms (round %u)",
				  g->domid, g->peer_dom, g->localp,
				  REPLY_TIMEOUT_MS, i + 1);
			goto out;
		}
		if (r < 0 || guest_unmask(g, g->localp))
			goto out;
		samples[i] = cli_now_ns() - t;
	}
	say(&g->tl, "%u round trips in %.1f ms; samples go to dom0 on the control pipe",
	    g->rounds, (double)(cli_now_ns() - start) / 1e6);

	r = cli_write_all(g->ctl, &hdr, sizeof(hdr));
	if (!r)
		r = cli_write_all(g->ctl, samples, g->rounds * sizeof(*samples));
	if (r < 0) {
		cli_fail(r, "dom%u: write(control pipe)", g->domid);
		goto out;
	}
	if (guest_send(g, g->local0))
		goto out;
	say(&g->tl, "reported to dom0: event on port %u", g->local0);
	ret = 0;
out:
	free(samples);
	return ret;
}

/* CMD_RUN: ping the peer until it stops answering, then find out why with
 * the status idiom and tell dom0. */
static int guest_run_until_gone(struct guest_ctx *g)
{
	struct evtchnx_status st = { .sz = sizeof(st) };
	struct msg_gone msg = { .magic = MSG_GONE };
	uint64_t last_answer = cli_now_ns();
	int r;

	say(&g->tl, "pinging dom%u on port %u until it stops answering",
	    g->peer_dom, g->localp);
	for (;;) {
		if (guest_send(g, g->localp))
			return CLI_EXIT_FAIL;
		for (;;) {
			r = guest_wait_port(g, g->localp, PROBE_MS);
			if (r == 0)
				break;
			if (r != -ETIMEDOUT)
				return CLI_EXIT_FAIL;
			/* Xen sends no event when a peer dies: ask. */
			r = evtchnx_status(g->h, EVTCHNX_DOMID_SELF, g->localp, &st);
			if (r < 0)
				return cli_fail(r, "dom%u: evtchnx_status(SELF, port %u)",
						g->domid, g->localp);
			msg.probes++;
			if (st.state == EVTCHNX_STATE_INTERDOMAIN)
				continue; /* still connected: just slow */
			goto silent;
		}
		if (guest_unmask(g, g->localp))
			return CLI_EXIT_FAIL;
		last_answer = cli_now_ns();
		if (++msg.rounds == 1 && guest_send(g, g->local0))
			return CLI_EXIT_FAIL; /* tell dom0 the run is under way */
	}

silent:
	msg.silent_ns = cli_now_ns() - last_answer;
	msg.state = st.state;
	msg.remote_dom = st.remote_domid;
	say(&g->tl, "no answer for %.1f ms after %u round trips: probing my own port",
	    (double)msg.silent_ns / 1e6, msg.rounds);
	{
		char why[96];

		snprintf(why, sizeof(why), "remote dom%u%s", st.remote_domid,
			 st.state == EVTCHNX_STATE_UNBOUND &&
					 st.remote_domid == g->peer_dom ?
				 ": the peer has gone (no event says so)" :
				 "");
		say_call(&g->tl, why, "status(SELF, %u) -> %s", g->localp,
			 cli_state_name(st.state));
	}
	r = evtchnx_send(g->h, g->localp);
	say_call(&g->tl, "still allowed on an unbound port: the event is dropped",
		 "send(%u) -> %d", g->localp, r);
	if (r < 0)
		return cli_fail(r, "dom%u: evtchnx_send(port %u) on an unbound port",
				g->domid, g->localp);

	r = cli_write_all(g->ctl, &msg, sizeof(msg));
	if (r < 0)
		return cli_fail(r, "dom%u: write(control pipe)", g->domid);
	if (guest_send(g, g->local0))
		return CLI_EXIT_FAIL;
	say(&g->tl, "reported to dom0: event on port %u", g->local0);
	return 0;
}

/* Join the lab, connect both channels, tell dom0. */
static int guest_boot(struct guest_ctx *g, const char *lab)
{
	struct evtchnx_open_opts opts = { .sz = sizeof(opts), .domid = g->domid };
	char target[80];
	unsigned int spurious = 0;
	int r;

	snprintf(target, sizeof(target), "sim:%s", lab);
	g->h = evtchnx_open(target, &opts);
	if (!g->h)
		return cli_fail(errno, "dom%u: evtchnx_open(\"%s\", domid %u)",
				g->domid, target, g->domid);
	say_call(&g->tl, "its own handle (never one inherited from dom0)",
		 "open(\"%s\", dom%d)", target, evtchnx_domid(g->h));

	r = evtchnx_bind_interdomain(g->h, 0, g->dom0_port);
	if (r < 0)
		return cli_fail(r, "dom%u: evtchnx_bind_interdomain(0, %u)",
				g->domid, g->dom0_port);
	g->local0 = (uint32_t)r;
	say_call(&g->tl, "its channel to dom0", "bind_interdomain(0, %u) -> %u",
		 g->dom0_port, g->local0);

	if (g->adopt) {
		r = evtchnx_adopt(g->h, g->peer_port);
		if (r < 0)
			return cli_fail(r, "dom%u: evtchnx_adopt(port %u)",
					g->domid, g->peer_port);
		g->localp = g->peer_port;
		say_call(&g->tl, "takes the port dom0 allocated in dom1 for dom2",
			 "adopt(%u) -> 0", g->peer_port);
	} else {
		r = evtchnx_bind_interdomain(g->h, g->peer_dom, g->peer_port);
		if (r < 0)
			return cli_fail(r, "dom%u: evtchnx_bind_interdomain(%u, %u)",
					g->domid, g->peer_dom, g->peer_port);
		g->localp = (uint32_t)r;
		say_call(&g->tl, g->peer_dom == 1 ? "its channel to dom1" : "its channel to the peer",
			 "bind_interdomain(%u, %u) -> %u", g->peer_dom,
			 g->peer_port, g->localp);
	}

	/* A new bind leaves its port pending (as on Xen): take those events
	 * now; nobody sends anything real before dom0 hears "ready". */
	while ((r = evtchnx_pending(g->h)) >= 0) {
		spurious++;
		atomic_fetch_add(&g->board->spurious[g->domid], 1);
		if (guest_unmask(g, (uint32_t)r))
			return CLI_EXIT_FAIL;
	}
	if (r != -EAGAIN)
		return cli_fail(r, "dom%u: evtchnx_pending()", g->domid);
	say_call(&g->tl, "spurious: a new bind leaves its port pending, as on Xen",
		 "pending() x%u, unmask", spurious);

	if (guest_send(g, g->local0))
		return CLI_EXIT_FAIL;
	say_call(&g->tl, "\"ready\", to dom0", "send(%u) -> 0", g->local0);
	return 0;
}

/* The idle loop: answer events, obey commands from the control pipe. */
static int guest_loop(struct guest_ctx *g)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = evtchnx_fd(g->h), .events = POLLIN },
			{ .fd = g->ctl, .events = POLLIN },
		};
		char cmd;
		ssize_t n;
		int r;

		r = poll(pfd, 2, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return cli_fail(errno, "dom%u: poll()", g->domid);
		}
		if (pfd[0].revents & (POLLERR | POLLNVAL))
			return cli_error("dom%u: poll(): the handle's fd reports an error",
					 g->domid);
		if ((pfd[0].revents & POLLIN) && guest_echo_all(g))
			return CLI_EXIT_FAIL;
		if (!pfd[1].revents)
			continue;
		n = read(g->ctl, &cmd, 1);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return cli_fail(errno, "dom%u: read(control pipe)", g->domid);
		}
		if (n == 0)
			return cli_error("dom%u: dom0 closed the control pipe; leaving",
					 g->domid);
		switch (cmd) {
		case CMD_PINGPONG:
			if (!g->adopt || guest_pingpong(g))
				return CLI_EXIT_FAIL;
			break;
		case CMD_RUN:
			if (!g->adopt || guest_run_until_gone(g))
				return CLI_EXIT_FAIL;
			break;
		case CMD_QUIT:
			return 0;
		default:
			return cli_error("dom%u: unknown command 0x%02x from dom0",
					 g->domid, (unsigned char)cmd);
		}
	}
}

int cmd_demo_guest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "domid", required_argument, NULL, 'd' },
		{ "dom0-port", required_argument, NULL, 'z' },
		{ "peer-dom", required_argument, NULL, 'p' },
		{ "peer-port", required_argument, NULL, 'P' },
		{ "adopt", no_argument, NULL, 'a' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "t0", required_argument, NULL, 'T' },
		{ "ctl-fd", required_argument, NULL, 'c' },
		{ "board-fd", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "color", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct guest_ctx g = { .ctl = -1 };
	unsigned long v, board_fd = ULONG_MAX, timeout = 60, ctl = ULONG_MAX;
	const char *lab = NULL;
	void *map;
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		unsigned long max = UINT32_MAX;

		if (c == 'a') {
			g.adopt = true;
			continue;
		}
		if (c == 'q') {
			g.tl.quiet = true;
			continue;
		}
		if (c == 'C') {
			g.tl.color = true;
			continue;
		}
		if (c == 'l') {
			lab = optarg;
			continue;
		}
		if (c == '?' || !optarg)
			return CLI_EXIT_USAGE;
		if (c == 'T')
			max = ULONG_MAX;
		if (cli_parse_ulong(optarg, max, &v))
			return cli_usage_error(CLI_DEMO_GUEST_CMD, "bad value '%s'",
					       optarg);
		switch (c) {
		case 'd':
			g.domid = (unsigned int)v;
			break;
		case 'z':
			g.dom0_port = (uint32_t)v;
			break;
		case 'p':
			g.peer_dom = (unsigned int)v;
			break;
		case 'P':
			g.peer_port = (uint32_t)v;
			break;
		case 'n':
			g.rounds = (unsigned int)v;
			break;
		case 'T':
			g.tl.t0 = (uint64_t)v;
			break;
		case 'c':
			ctl = v;
			break;
		case 'b':
			board_fd = v;
			break;
		case 'w':
			timeout = v;
			break;
		}
	}
	if (!lab || g.domid < 1 || g.domid >= NDOMS || ctl > INT_MAX ||
	    board_fd > INT_MAX || !g.rounds || g.rounds > MAX_ROUNDS)
		return cli_usage_error(CLI_DEMO_GUEST_CMD,
				       "this command is run by 'evtchnx demo'");
	g.ctl = (int)ctl;
	g.tl.domid = g.domid;
	/* A backstop: dom0 also has a watchdog, and we die with dom0. */
	alarm((unsigned int)timeout + 5);

	map = mmap(NULL, sizeof(struct demo_board), PROT_READ | PROT_WRITE,
		   MAP_SHARED, (int)board_fd, 0);
	if (map == MAP_FAILED)
		return cli_fail(errno, "dom%u: mmap(counter page)", g.domid);
	close((int)board_fd);
	g.board = map;
	fcntl(g.ctl, F_SETFD, FD_CLOEXEC);

	ret = guest_boot(&g, lab);
	if (!ret)
		ret = guest_loop(&g);
	if (!ret)
		say(&g.tl, "leaving: sent %" PRIu64 ", received %" PRIu64 " events; closing the handle",
		    atomic_load(&g.board->sent[g.domid]),
		    atomic_load(&g.board->received[g.domid]));
	evtchnx_close(g.h);
	munmap(map, sizeof(struct demo_board));
	close(g.ctl);
	return ret;
}

/* ---- dom0 ----------------------------------------------------------- */

struct demo_guest {
	unsigned int domid;
	pid_t pid;
	int ctl;           /* dom0's end of the control pipe */
	uint32_t port;     /* dom0's port offered to this guest */
	bool watch;        /* a hang-up on ctl means it died unexpectedly */
	bool reaped;
	int wstatus;
};

struct demo {
	struct timeline tl;
	char lab[72];
	char target[80];
	unsigned int rounds;
	double kill_after;
	double timeout;
	struct evtchnx_handle *h;
	struct demo_board *board;
	int board_fd;
	uint32_t p12;          /* dom1's port offered to dom2 */
	bool created[NDOMS];
	struct demo_guest g[NDOMS]; /* g[1], g[2] */
	uint64_t *samples;
	struct lat lat12, lat0[NDOMS];
	struct msg_gone gone;
};

/* The guests' pids, for the signal handlers (the only state they see). */
static volatile pid_t demo_pids[NDOMS];

static void demo_on_signal(int sig)
{
	static const char alarm_msg[] =
		"\nevtchnx: demo: watchdog: the demo did not finish in time; killing the guests\n";
	static const char int_msg[] = "\nevtchnx: demo: interrupted; killing the guests\n";
	ssize_t n;

	if (sig == SIGALRM)
		n = write(STDERR_FILENO, alarm_msg, sizeof(alarm_msg) - 1);
	else
		n = write(STDERR_FILENO, int_msg, sizeof(int_msg) - 1);
	(void)n;
	for (int i = 0; i < NDOMS; i++) {
		pid_t pid = demo_pids[i];

		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	_exit(sig == SIGALRM ? CLI_EXIT_FAIL : 128 + sig);
}

static int dom0_send(struct demo *d, uint32_t port)
{
	int r = evtchnx_send(d->h, port);

	if (r < 0)
		return cli_fail(r, "dom0: evtchnx_send(port %u)", port);
	atomic_fetch_add(&d->board->sent[0], 1);
	return 0;
}

static int dom0_unmask(struct demo *d, uint32_t port)
{
	int r = evtchnx_unmask(d->h, port);

	if (r < 0)
		return cli_fail(r, "dom0: evtchnx_unmask(port %u)", port);
	return 0;
}

static unsigned int port_owner(const struct demo *d, int port)
{
	for (unsigned int i = 1; i < NDOMS; i++)
		if ((int)d->g[i].port == port)
			return i;
	return 0;
}

/*
 * Take the next event in dom0 within @timeout_ms, watching the control
 * pipes of the guests that must be alive so that one dying fails the demo
 * at once.  Returns the port (taken, masked, counted), -ETIMEDOUT, -ECHILD
 * (a guest went away: *dead says which), or another negative errno.
 */
static int dom0_next_event(struct demo *d, int timeout_ms, unsigned int *dead)
{
	uint64_t deadline = cli_now_ns() + (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		struct pollfd pfd[NDOMS];
		unsigned int who[NDOMS];
		nfds_t n = 1;
		uint64_t now;
		int r;

		r = evtchnx_pending(d->h);
		if (r >= 0) {
			atomic_fetch_add(&d->board->received[0], 1);
			return r;
		}
		if (r != -EAGAIN)
			return cli_fail(r, "dom0: evtchnx_pending()");

		pfd[0] = (struct pollfd){ .fd = evtchnx_fd(d->h), .events = POLLIN };
		for (unsigned int i = 1; i < NDOMS; i++) {
			if (!d->g[i].watch)
				continue;
			who[n] = i;
			pfd[n++] = (struct pollfd){ .fd = d->g[i].ctl,
						    .events = POLLRDHUP };
		}
		now = cli_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(pfd, n, (int)((deadline - now + 999999u) / 1000000u));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return cli_fail(errno, "dom0: poll()");
		}
		for (nfds_t i = 1; i < n; i++) {
			if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
				*dead = who[i];
				return -ECHILD;
			}
		}
	}
}

static int dom0_reap(struct demo *d, unsigned int dom, int timeout_ms);
static void describe_exit(const struct demo_guest *g, char *buf, size_t len);

/* A guest's control pipe hung up: say how it ended. */
static int dom0_guest_died(struct demo *d, unsigned int dom, const char *while_)
{
	char how[64];

	d->g[dom].watch = false;
	dom0_reap(d, dom, 2000);
	describe_exit(&d->g[dom], how, sizeof(how));
	return cli_error("dom0: dom%u went away while %s (%s)", dom, while_, how);
}

/* Wait for an event on @port from guest @dom; other events are taken and
 * unmasked.  Leaves @port unmasked again.  Returns 0 or CLI_EXIT_FAIL. */
static int dom0_wait_report(struct demo *d, unsigned int dom, const char *what)
{
	uint32_t port = d->g[dom].port;

	for (;;) {
		unsigned int dead = 0;
		int r = dom0_next_event(d, REPORT_TIMEOUT_MS, &dead);

		if (r == -ECHILD)
			return dom0_guest_died(d, dead, what);
		if (r == -ETIMEDOUT)
			return cli_error("dom0: no event from dom%u on port %u within %d ms while %s",
					 dom, port, REPORT_TIMEOUT_MS, what);
		if (r < 0)
			return CLI_EXIT_FAIL;
		if (dom0_unmask(d, (uint32_t)r))
			return CLI_EXIT_FAIL;
		if ((uint32_t)r == port)
			return 0;
	}
}

/* Every open port of @dom, from dom0's point of view, under the line
 * @title.  Returns how many, or -1 (reported). */
static int dom0_show_ports(struct demo *d, uint32_t dom, const char *title)
{
	struct {
		uint32_t port;
		struct evtchnx_status st;
	} seen[8];
	uint64_t t = cli_now_ns();
	uint32_t port;
	int shown = 0, n = 0;

	for (port = 1;; port++) {
		struct evtchnx_status st = { .sz = sizeof(st) };
		int r = evtchnx_status(d->h, dom, port, &st);

		if (r == -EINVAL && port > 1)
			break;
		if (r < 0) {
			cli_fail(r, "dom0: evtchnx_status(dom %u, port %u)", dom, port);
			return -1;
		}
		if (st.state == EVTCHNX_STATE_CLOSED)
			continue;
		if (n < (int)(sizeof(seen) / sizeof(seen[0]))) {
			seen[n].port = port;
			seen[n++].st = st;
		}
		shown++;
	}
	say(&d->tl, "%s (status of ports 1-%u: %.0f ms)", title, port - 1,
	    (double)(cli_now_ns() - t) / 1e6);
	for (int i = 0; i < n; i++) {
		const struct evtchnx_status st = seen[i].st;
		char detail[64] = "";

		if (st.state == EVTCHNX_STATE_INTERDOMAIN)
			snprintf(detail, sizeof(detail), "<-> dom%u port %u",
				 st.remote_domid, st.remote_port);
		else if (st.state == EVTCHNX_STATE_UNBOUND)
			snprintf(detail, sizeof(detail), "offered to dom%u",
				 st.remote_domid);
		else if (st.state == EVTCHNX_STATE_VIRQ)
			snprintf(detail, sizeof(detail), "virq %u", st.virq);
		sayx(&d->tl, "  dom%u port %-4u %-11s  %s", dom, seen[i].port,
		     cli_state_name(st.state), detail);
	}
	if (shown > n)
		sayx(&d->tl, "  ... and %d more", shown - n);
	if (!shown)
		sayx(&d->tl, "  dom%u: no open ports", dom);
	return shown;
}

/* Check one port's state; returns 0 or CLI_EXIT_FAIL with a message. */
static int dom0_expect(struct demo *d, uint32_t dom, uint32_t port,
		       uint32_t state, uint32_t remote_dom)
{
	struct evtchnx_status st = { .sz = sizeof(st) };
	int r = evtchnx_status(d->h, dom, port, &st);

	if (r < 0)
		return cli_fail(r, "dom0: evtchnx_status(dom %u, port %u)", dom, port);
	if (st.state != state || st.remote_domid != remote_dom)
		return cli_error("dom0: evtchnx_status(dom %u, port %u): expected %s, remote dom%u; got %s, remote dom%u",
				 dom, port, cli_state_name(state), remote_dom,
				 cli_state_name(st.state), st.remote_domid);
	return 0;
}

static int dom0_spawn(struct demo *d, unsigned int dom, const char *exe,
		      bool adopt, unsigned int peer_dom, uint32_t peer_port)
{
	struct demo_guest *g = &d->g[dom];
	char a_dom[16], a_port0[16], a_pdom[16], a_pport[16], a_rounds[16],
		a_t0[32], a_ctl[16], a_board[16], a_timeout[16];
	char *args[32];
	pid_t parent = getpid(), pid;
	int sv[2], n = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return cli_fail(errno, "dom0: socketpair()");
	snprintf(a_dom, sizeof(a_dom), "%u", dom);
	snprintf(a_port0, sizeof(a_port0), "%u", g->port);
	snprintf(a_pdom, sizeof(a_pdom), "%u", peer_dom);
	snprintf(a_pport, sizeof(a_pport), "%u", peer_port);
	snprintf(a_rounds, sizeof(a_rounds), "%u", d->rounds);
	snprintf(a_t0, sizeof(a_t0), "%" PRIu64, d->tl.t0);
	snprintf(a_ctl, sizeof(a_ctl), "%d", sv[1]);
	snprintf(a_board, sizeof(a_board), "%d", d->board_fd);
	snprintf(a_timeout, sizeof(a_timeout), "%u", (unsigned int)d->timeout + 1);

	args[n++] = (char *)"evtchnx";
	args[n++] = (char *)CLI_DEMO_GUEST_CMD;
	args[n++] = (char *)"--lab";
	args[n++] = d->lab;
	args[n++] = (char *)"--domid";
	args[n++] = a_dom;
	args[n++] = (char *)"--dom0-port";
	args[n++] = a_port0;
	args[n++] = (char *)"--peer-dom";
	args[n++] = a_pdom;
	args[n++] = (char *)"--peer-port";
	args[n++] = a_pport;
	if (adopt)
		args[n++] = (char *)"--adopt";
	args[n++] = (char *)"--rounds";
	args[n++] = a_rounds;
	args[n++] = (char *)"--t0";
	args[n++] = a_t0;
	args[n++] = (char *)"--ctl-fd";
	args[n++] = a_ctl;
	args[n++] = (char *)"--board-fd";
	args[n++] = a_board;
	args[n++] = (char *)"--timeout";
	args[n++] = a_timeout;
	if (d->tl.quiet)
		args[n++] = (char *)"--quiet";
	if (d->tl.color)
		args[n++] = (char *)"--color";
	args[n] = NULL;

	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(sv[0]);
		close(sv[1]);
		return cli_fail(err, "dom0: fork()");
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here to execv().  The
		 * parent's handle is not touched: its descriptors are
		 * close-on-exec, and the guest opens a handle of its own. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		fcntl(sv[1], F_SETFD, 0);
		fcntl(d->board_fd, F_SETFD, 0);
		execv(exe, args);
		{
			static const char msg[] = "evtchnx: demo: cannot re-execute this program for a guest\n";
			ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);

			(void)w;
		}
		_exit(127);
	}
	close(sv[1]);
	g->ctl = sv[0];
	g->pid = pid;
	g->watch = true;
	demo_pids[dom] = pid;
	say(&d->tl, "started dom%u as pid %d; its command line says: dom0 port %u, %s %u",
	    dom, (int)pid, g->port, adopt ? "adopt port" : "dom1's port",
	    peer_port);
	return 0;
}

/* Reap guest @dom within @timeout_ms (then kill it).  Returns 0 or -1. */
static int dom0_reap(struct demo *d, unsigned int dom, int timeout_ms)
{
	struct demo_guest *g = &d->g[dom];
	uint64_t deadline = cli_now_ns() + (uint64_t)timeout_ms * 1000000u;

	if (g->pid <= 0 || g->reaped)
		return 0;
	for (;;) {
		pid_t r = waitpid(g->pid, &g->wstatus, WNOHANG);

		if (r == g->pid)
			break;
		if (r < 0 && errno != EINTR) {
			cli_fail(errno, "dom0: waitpid(%d)", (int)g->pid);
			return -1;
		}
		if (cli_now_ns() >= deadline) {
			kill(g->pid, SIGKILL);
			timeout_ms = 1000 * 60;
			deadline = cli_now_ns() + (uint64_t)timeout_ms * 1000000u;
		}
		cli_sleep_ns(1000000);
	}
	g->reaped = true;
	g->watch = false;
	demo_pids[dom] = 0;
	return 0;
}

static void describe_exit(const struct demo_guest *g, char *buf, size_t len)
{
	if (!g->pid)
		snprintf(buf, len, "not started");
	else if (!g->reaped)
		snprintf(buf, len, "pid %d, running", (int)g->pid);
	else if (WIFEXITED(g->wstatus))
		snprintf(buf, len, "pid %d, exited %d", (int)g->pid,
			 WEXITSTATUS(g->wstatus));
	else if (WIFSIGNALED(g->wstatus) && WTERMSIG(g->wstatus) == SIGKILL)
		snprintf(buf, len, "pid %d, killed (SIGKILL)", (int)g->pid);
	else if (WIFSIGNALED(g->wstatus))
		snprintf(buf, len, "pid %d, killed (signal %d)", (int)g->pid,
			 WTERMSIG(g->wstatus));
	else
		snprintf(buf, len, "pid %d", (int)g->pid);
}

/* Measured dom0 <-> guest round trips on dom0's port to @dom. */
static int dom0_rtt(struct demo *d, unsigned int dom)
{
	uint32_t port = d->g[dom].port;

	for (unsigned int i = 0; i < d->rounds; i++) {
		uint64_t t = cli_now_ns();
		int r;

		if (dom0_send(d, port))
			return CLI_EXIT_FAIL;
		for (;;) {
			r = evtchnx_wait(d->h, REPLY_TIMEOUT_MS);
			if (r >= 0)
				atomic_fetch_add(&d->board->received[0], 1);
			if (r == (int)port)
				break;
			if (r >= 0) {
				if (dom0_unmask(d, (uint32_t)r))
					return CLI_EXIT_FAIL;
				continue;
			}
			if (r == -EINTR)
				continue;
			if (r == -ETIMEDOUT) {
				char how[64];

				if (waitpid(d->g[dom].pid, &d->g[dom].wstatus, WNOHANG) == d->g[dom].pid) {
					d->g[dom].reaped = true;
					d->g[dom].watch = false;
					demo_pids[dom] = 0;
				}
				describe_exit(&d->g[dom], how, sizeof(how));
				return cli_error("dom0: no answer from dom%u on port %u within %d ms (round %u; %s)",
						 dom, port, REPLY_TIMEOUT_MS, i + 1, how);
			}
			return cli_fail(r, "dom0: evtchnx_wait()");
		}
		if (dom0_unmask(d, port))
			return CLI_EXIT_FAIL;
		d->samples[i] = cli_now_ns() - t;
	}
	lat_compute(d->samples, d->rounds, &d->lat0[dom]);
	say(&d->tl, "dom0 <-> dom%u: %u round trips, median %.1f us, mean %.1f us",
	    dom, d->rounds, d->lat0[dom].median_us, d->lat0[dom].mean_us);
	return 0;
}

static int dom0_write_cmd(struct demo *d, unsigned int dom, char cmd)
{
	int r = cli_write_all(d->g[dom].ctl, &cmd, 1);

	if (r == -EPIPE)
		return dom0_guest_died(d, dom, "dom0 sent it a command");
	if (r < 0)
		return cli_fail(r, "dom0: write(control pipe of dom%u)", dom);
	return 0;
}

static int dom0_read_msg(struct demo *d, unsigned int dom, void *buf, size_t len,
			 const char *what)
{
	int r = cli_read_all(d->g[dom].ctl, buf, len, -1);

	if (r == -EPIPE)
		return dom0_guest_died(d, dom, what);
	if (r < 0)
		return cli_fail(r, "dom0: read(control pipe of dom%u)", dom);
	return 0;
}

static int dom0_boot(struct demo *d, const char *exe)
{
	struct evtchnx_open_opts opts = { .sz = sizeof(opts), .domid = 0 };
	unsigned int ready = 0;
	int r;

	heading(&d->tl, "1. dom0 builds the scene");
	d->h = evtchnx_open(d->target, &opts);
	if (!d->h)
		return cli_fail(errno, "dom0: evtchnx_open(\"%s\", domid 0)",
				d->target);
	say_call(&d->tl, "the control domain; the lab server starts on demand",
		 "open(\"%s\", dom%d)", d->target, evtchnx_domid(d->h));

	for (unsigned int dom = 1; dom < NDOMS; dom++) {
		r = evtchnx_domain_create(d->h, dom);
		if (r == -EEXIST)
			return cli_fail(r, "dom0: evtchnx_domain_create(%u) (the lab %s is in use: pick another with --lab)",
					dom, d->lab);
		if (r < 0)
			return cli_fail(r, "dom0: evtchnx_domain_create(%u)", dom);
		d->created[dom] = true;
		say_call(&d->tl, "exists before its guest runs, until destroyed",
			 "domain_create(%u) -> 0", dom);
	}
	for (unsigned int dom = 1; dom < NDOMS; dom++) {
		r = evtchnx_alloc_unbound(d->h, EVTCHNX_DOMID_SELF, dom);
		if (r < 0)
			return cli_fail(r, "dom0: evtchnx_alloc_unbound(SELF, %u)", dom);
		d->g[dom].port = (uint32_t)r;
		say_call(&d->tl, dom == 1 ? "dom0's end of a channel for dom1" :
					    "dom0's end of a channel for dom2",
			 "alloc_unbound(SELF, %u) -> %d", dom, r);
	}
	r = evtchnx_alloc_unbound(d->h, 1, 2);
	if (r < 0)
		return cli_fail(r, "dom0: evtchnx_alloc_unbound(1, 2)");
	d->p12 = (uint32_t)r;
	say_call(&d->tl, "a port in dom1 offered to dom2; no handle owns it yet",
		 "alloc_unbound(1, 2) -> %d", r);

	heading(&d->tl, "2. the guests start and connect");
	if (dom0_spawn(d, 1, exe, true, 2, d->p12) ||
	    dom0_spawn(d, 2, exe, false, 1, d->p12))
		return CLI_EXIT_FAIL;

	while (ready != ((1u << 1) | (1u << 2))) {
		unsigned int dead = 0, dom;

		r = dom0_next_event(d, REPORT_TIMEOUT_MS, &dead);
		if (r == -ECHILD)
			return dom0_guest_died(d, dead, "starting");
		if (r == -ETIMEDOUT)
			return cli_error("dom0: the guests did not report ready within %d ms",
					 REPORT_TIMEOUT_MS);
		if (r < 0)
			return CLI_EXIT_FAIL;
		if (dom0_unmask(d, (uint32_t)r))
			return CLI_EXIT_FAIL;
		dom = port_owner(d, r);
		if (dom && !(ready & (1u << dom))) {
			ready |= 1u << dom;
			say(&d->tl, "event on port %d: dom%u is ready", r, dom);
		}
	}

	for (uint32_t dom = 0; dom < NDOMS; dom++) {
		char title[64];

		snprintf(title, sizeof(title), "dom%u's open ports", dom);
		if (dom0_show_ports(d, dom, title) < 0)
			return CLI_EXIT_FAIL;
	}
	if (dom0_expect(d, 1, d->p12, EVTCHNX_STATE_INTERDOMAIN, 2))
		return CLI_EXIT_FAIL;
	return 0;
}

static int dom0_measure(struct demo *d)
{
	struct msg_samples hdr;

	heading(&d->tl, "3. round trips");
	for (unsigned int dom = 1; dom < NDOMS; dom++) {
		say(&d->tl, "pinging dom%u on port %u (%u rounds); it answers on the same channel",
		    dom, d->g[dom].port, d->rounds);
		if (dom0_rtt(d, dom))
			return CLI_EXIT_FAIL;
	}

	say(&d->tl, "asking dom1 (control pipe) to ping-pong with dom2");
	if (dom0_write_cmd(d, 1, CMD_PINGPONG))
		return CLI_EXIT_FAIL;
	if (dom0_read_msg(d, 1, &hdr, sizeof(hdr), "sending its measurements"))
		return CLI_EXIT_FAIL;
	if (hdr.magic != MSG_SAMPLES || hdr.count != d->rounds)
		return cli_error("dom0: unexpected message from dom1 (magic 0x%08x, count %u)",
				 hdr.magic, hdr.count);
	if (dom0_read_msg(d, 1, d->samples, d->rounds * sizeof(*d->samples),
			  "sending its measurements"))
		return CLI_EXIT_FAIL;
	if (dom0_wait_report(d, 1, "ping-ponging with dom2"))
		return CLI_EXIT_FAIL;
	lat_compute(d->samples, d->rounds, &d->lat12);
	say(&d->tl, "event on port %u: dom1 is done; %u samples arrived on the control pipe",
	    d->g[1].port, hdr.count);
	say(&d->tl, "dom1 <-> dom2: %u round trips, median %.1f us, mean %.1f us",
	    d->rounds, d->lat12.median_us, d->lat12.mean_us);
	return 0;
}

static int dom0_kill_and_inspect(struct demo *d)
{
	int r;

	heading(&d->tl, "4. dom0 kills dom2 in the middle of a run");
	say(&d->tl, "asking dom1 to ping dom2 until it stops answering");
	if (dom0_write_cmd(d, 1, CMD_RUN))
		return CLI_EXIT_FAIL;
	if (dom0_wait_report(d, 1, "starting its run"))
		return CLI_EXIT_FAIL;
	say(&d->tl, "event on port %u: dom1's run is under way; SIGKILL for dom2 in %.0f ms",
	    d->g[1].port, d->kill_after * 1e3);
	cli_sleep_ns((uint64_t)(d->kill_after * 1e9));

	d->g[2].watch = false;
	if (kill(d->g[2].pid, SIGKILL) < 0)
		return cli_fail(errno, "dom0: kill(%d, SIGKILL)", (int)d->g[2].pid);
	if (dom0_reap(d, 2, REPORT_TIMEOUT_MS))
		return CLI_EXIT_FAIL;
	say_call(&d->tl, "dom2's process is dead and reaped; nobody is notified",
		 "kill(%d, SIGKILL)", (int)d->g[2].pid);

	if (dom0_read_msg(d, 1, &d->gone, sizeof(d->gone), "probing dom2"))
		return CLI_EXIT_FAIL;
	if (dom0_wait_report(d, 1, "probing dom2"))
		return CLI_EXIT_FAIL;
	if (d->gone.magic != MSG_GONE)
		return cli_error("dom0: unexpected message from dom1 (magic 0x%08x)",
				 d->gone.magic);
	say(&d->tl, "event on port %u: dom1 reports its port %u is %s, remote dom%u",
	    d->g[1].port, d->p12, cli_state_name(d->gone.state),
	    d->gone.remote_dom);
	if (d->gone.state != EVTCHNX_STATE_UNBOUND || d->gone.remote_dom != 2)
		return cli_error("dom1: evtchnx_status(SELF, %u) after dom2 died: expected unbound, remote dom2; got %s, remote dom%u",
				 d->p12, cli_state_name(d->gone.state),
				 d->gone.remote_dom);

	heading(&d->tl, "5. the aftermath, seen with evtchnx_status");
	if (dom0_show_ports(d, 0, "dom0's open ports") < 0)
		return CLI_EXIT_FAIL;
	if (dom0_expect(d, 0, d->g[1].port, EVTCHNX_STATE_INTERDOMAIN, 1) ||
	    dom0_expect(d, 0, d->g[2].port, EVTCHNX_STATE_UNBOUND, 2))
		return CLI_EXIT_FAIL;
	sayx(&d->tl, "=> port %u, the channel to dom2, is back to unbound, still offered to dom2",
	     d->g[2].port);
	if (dom0_show_ports(d, 1, "dom1's open ports") < 0 ||
	    dom0_expect(d, 1, d->p12, EVTCHNX_STATE_UNBOUND, 2))
		return CLI_EXIT_FAIL;
	r = dom0_show_ports(d, 2, "dom2's open ports");
	if (r < 0)
		return CLI_EXIT_FAIL;
	if (r > 0)
		return cli_error("dom0: dom2 still has %d open port%s after its only process died",
				 r, r == 1 ? "" : "s");
	sayx(&d->tl, "=> dom2 still exists (dom0 created it) but its ports died with its process");

	r = evtchnx_domain_destroy(d->h, 2);
	if (r < 0)
		return cli_fail(r, "dom0: evtchnx_domain_destroy(2)");
	d->created[2] = false;
	say_call(&d->tl, "", "domain_destroy(2) -> 0");
	{
		struct evtchnx_status st = { .sz = sizeof(st) };
		char why[96];

		r = evtchnx_status(d->h, 2, 1, &st);
		snprintf(why, sizeof(why), "%s: domain 2 no longer exists",
			 r < 0 ? evtchnx_strerror(r) : "success");
		say_call(&d->tl, why, "status(2, 1) -> %s%s",
			 r < 0 ? "-" : "0", r < 0 ? cli_errno_name(r) : "");
		if (r != -ESRCH)
			return cli_error("dom0: evtchnx_status(2, 1) after destroying domain 2: expected %d (%s), got %d (%s)",
					 -ESRCH, evtchnx_strerror(-ESRCH), r,
					 r < 0 ? evtchnx_strerror(r) : "success");
	}
	r = evtchnx_unbind(d->h, d->g[2].port);
	if (r < 0)
		return cli_fail(r, "dom0: evtchnx_unbind(port %u)", d->g[2].port);
	say_call(&d->tl, "closes dom0's end of the dead channel", "unbind(%u) -> 0",
		 d->g[2].port);
	return 0;
}

static int dom0_shutdown(struct demo *d)
{
	int r;

	heading(&d->tl, "6. shutdown");
	say(&d->tl, "asking dom1 to leave");
	if (dom0_write_cmd(d, 1, CMD_QUIT))
		return CLI_EXIT_FAIL;
	d->g[1].watch = false;
	if (dom0_reap(d, 1, REPORT_TIMEOUT_MS))
		return CLI_EXIT_FAIL;
	if (!WIFEXITED(d->g[1].wstatus) || WEXITSTATUS(d->g[1].wstatus))
		return cli_error("dom0: dom1 (pid %d) did not exit cleanly (wait status 0x%x)",
				 (int)d->g[1].pid, d->g[1].wstatus);
	say(&d->tl, "dom1 (pid %d) exited with status 0", (int)d->g[1].pid);
	r = evtchnx_domain_destroy(d->h, 1);
	if (r < 0)
		return cli_fail(r, "dom0: evtchnx_domain_destroy(1)");
	d->created[1] = false;
	say_call(&d->tl, "", "domain_destroy(1) -> 0");
	evtchnx_close(d->h);
	d->h = NULL;
	say_call(&d->tl, "the lab server leaves once idle", "close()");
	return 0;
}

static void print_summary(const struct demo *d, bool ok, double total_ms)
{
	static const char *const role[NDOMS] = { "control domain", "guest",
						 "guest" };
	const bool c = d->tl.color;
	const struct {
		const char *name;
		const struct lat *l;
	} rows[] = {
		{ "dom1 <-> dom2", &d->lat12 },
		{ "dom0 <-> dom1", &d->lat0[1] },
		{ "dom0 <-> dom2", &d->lat0[2] },
	};
	uint64_t spurious = 0;

	printf("\n%ssummary%s: lab %s, %u round trips per measurement, %.0f ms in all\n",
	       c ? C_BOLD : "", c ? C_RESET : "", d->lab, d->rounds, total_ms);
	printf("  %-6s  %-15s  %-26s  %12s  %12s\n", "domain", "role", "process",
	       "events sent", "received");
	for (unsigned int dom = 0; dom < NDOMS; dom++) {
		char how[64];

		if (dom == 0)
			snprintf(how, sizeof(how), "pid %d, this one", (int)getpid());
		else
			describe_exit(&d->g[dom], how, sizeof(how));
		spurious += atomic_load(&d->board->spurious[dom]);
		printf("  %sdom%-3u%s  %-15s  %-26s  %12" PRIu64 "  %12" PRIu64 "\n",
		       c ? dom_color[dom] : "", dom, c ? C_RESET : "", role[dom],
		       how, atomic_load(&d->board->sent[dom]),
		       atomic_load(&d->board->received[dom]));
	}
	printf("  (received excludes %" PRIu64 " spurious event%s left pending by bind_interdomain)\n",
	       spurious, spurious == 1 ? "" : "s");

	printf("\n  %-14s  %10s  %10s  %10s  %10s  %10s\n", "round trip",
	       "median", "mean", "min", "p99", "max");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct lat *l = rows[i].l;

		if (!l->n) {
			printf("  %-14s  %10s\n", rows[i].name, "-");
			continue;
		}
		printf("  %-14s  %7.1f us  %7.1f us  %7.1f us  %7.1f us  %7.1f us\n",
		       rows[i].name, l->median_us, l->mean_us, l->min_us,
		       l->p99_us, l->max_us);
	}
	if (d->gone.magic == MSG_GONE)
		printf("\n  dom1 noticed dom2's death %.1f ms after its last answer (%u round trips into the run,\n"
		       "  %u status probe%s of its own port)\n",
		       (double)d->gone.silent_ns / 1e6, d->gone.rounds,
		       d->gone.probes, d->gone.probes == 1 ? "" : "s");
	printf("\n%s%s%s\n", c ? (ok ? C_GREEN : C_RED) : "",
	       ok ? "demo OK" : "demo FAILED", c ? C_RESET : "");
	fflush(stdout);
}

static void dom0_cleanup(struct demo *d)
{
	for (unsigned int dom = 1; dom < NDOMS; dom++) {
		if (d->g[dom].pid > 0 && !d->g[dom].reaped) {
			kill(d->g[dom].pid, SIGKILL);
			dom0_reap(d, dom, 0);
		}
		if (d->g[dom].ctl >= 0)
			close(d->g[dom].ctl);
		d->g[dom].ctl = -1;
	}
	if (d->h) {
		/* Leave a named lab reusable. */
		for (unsigned int dom = 1; dom < NDOMS; dom++)
			if (d->created[dom])
				evtchnx_domain_destroy(d->h, dom);
		evtchnx_close(d->h);
		d->h = NULL;
	}
}

static int demo_setup_signals(void)
{
	struct sigaction sa = { .sa_handler = demo_on_signal };
	static const int sigs[] = { SIGALRM, SIGINT, SIGTERM, SIGHUP };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&sa.sa_mask, sigs[i]);
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return cli_fail(errno, "sigaction()");
	}
	/* A guest that dies must not kill dom0 when it writes to the pipe. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "kill-after", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct demo d = {
		.rounds = DEFAULT_ROUNDS,
		.kill_after = DEFAULT_KILL_AFTER,
		.timeout = -1,
		.board_fd = -1,
	};
	char exe[PATH_MAX];
	const char *lab = NULL;
	bool ok = false;
	void *map;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "l:n:k:t:qh", longopts, NULL)) != -1) {
		unsigned long v;

		switch (c) {
		case 'l':
			lab = optarg;
			break;
		case 'n':
			if (cli_parse_ulong(optarg, MAX_ROUNDS, &v) || !v)
				return cli_usage_error("demo", "--rounds: expected 1..%u, got '%s'",
						       MAX_ROUNDS, optarg);
			d.rounds = (unsigned int)v;
			break;
		case 'k':
			if (cli_parse_seconds(optarg, 3600, &d.kill_after))
				return cli_usage_error("demo", "--kill-after: expected seconds, got '%s'",
						       optarg);
			break;
		case 't':
			if (cli_parse_seconds(optarg, 86400, &d.timeout) ||
			    d.timeout < 1)
				return cli_usage_error("demo", "--timeout: expected 1 or more seconds, got '%s'",
						       optarg);
			break;
		case 'q':
			d.tl.quiet = true;
			break;
		case 'h':
			fputs(cli_usage_demo, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("demo", "bad option");
		}
	}
	if (optind < argc)
		return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	for (unsigned int dom = 0; dom < NDOMS; dom++)
		d.g[dom].ctl = -1;
	if (lab)
		r = snprintf(d.lab, sizeof(d.lab), "%s", lab);
	else
		r = snprintf(d.lab, sizeof(d.lab), "demo-%d", (int)getpid());
	if (r < 0 || (size_t)r >= sizeof(d.lab))
		return cli_usage_error("demo", "--lab: name too long");
	snprintf(d.target, sizeof(d.target), "sim:%s", d.lab);
	if (d.timeout < 0)
		d.timeout = 30 + d.rounds / 5000.0 + d.kill_after;

	r = cli_self_exe(exe, sizeof(exe));
	if (r < 0)
		return cli_fail(r, "readlink(\"/proc/self/exe\")");

	d.tl.t0 = cli_now_ns();
	d.tl.domid = 0;
	d.tl.color = cli_want_color();
	if (demo_setup_signals())
		return CLI_EXIT_FAIL;
	alarm((unsigned int)d.timeout + 1);

	d.samples = calloc(d.rounds, sizeof(*d.samples));
	if (!d.samples)
		return cli_fail(-ENOMEM, "calloc(%u samples)", d.rounds);
	d.board_fd = memfd_create("evtchnx-demo", MFD_CLOEXEC);
	if (d.board_fd < 0) {
		r = cli_fail(errno, "memfd_create()");
		goto out_free;
	}
	if (ftruncate(d.board_fd, sizeof(struct demo_board)) < 0) {
		r = cli_fail(errno, "ftruncate(memfd)");
		goto out_close;
	}
	map = mmap(NULL, sizeof(struct demo_board), PROT_READ | PROT_WRITE,
		   MAP_SHARED, d.board_fd, 0);
	if (map == MAP_FAILED) {
		r = cli_fail(errno, "mmap(memfd)");
		goto out_close;
	}
	d.board = map;

	if (!d.tl.quiet) {
		const bool col = d.tl.color;

		printf("%sevtchnx demo%s on the shared sim lab \"%s\" (libevtchnx %s)\n",
		       col ? C_BOLD : "", col ? C_RESET : "", d.lab,
		       evtchnx_version());
		printf("  %sdom0%s  this process (pid %d), the control domain: creates the guests\n"
		       "        and their event channels, like a toolstack\n"
		       "  %sdom1%s  a child process with its own handle; adopts the port dom0\n"
		       "        allocated for it and ping-pongs with dom2\n"
		       "  %sdom2%s  a child process with its own handle; dom0 kills it mid-run\n"
		       "Then everyone finds out what is left with evtchnx_status().\n\n",
		       col ? dom_color[0] : "", col ? C_RESET : "", (int)getpid(),
		       col ? dom_color[1] : "", col ? C_RESET : "",
		       col ? dom_color[2] : "", col ? C_RESET : "");
		printf("%s%9s  %-4s  %-7s  %s%s\n", col ? C_DIM : "", "ms", "who",
		       "pid", "what", col ? C_RESET : "");
		fflush(stdout);
	}

	if (dom0_boot(&d, exe) || dom0_measure(&d) ||
	    dom0_kill_and_inspect(&d) || dom0_shutdown(&d))
		goto out_report;
	ok = true;

out_report:
	dom0_cleanup(&d);
	alarm(0);
	print_summary(&d, ok, (double)(cli_now_ns() - d.tl.t0) / 1e6);
	r = ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	munmap(map, sizeof(struct demo_board));
out_close:
	close(d.board_fd);
out_free:
	free(d.samples);
	return r;
}
