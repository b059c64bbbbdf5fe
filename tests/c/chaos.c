/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * chaos.c - SIGKILL domain processes of a shared lab at random moments and
 * check the lab after each kill, through the public API only.
 *
 * A control process (domain 0) starts NDOMS domain processes (domains
 * 1..NDOMS) on the shared lab "sim:chaos-PID".  Each keeps talking to the
 * lab on its own (allocating, querying and closing scratch ports in a loop)
 * and does what the control process asks over a pipe: allocate a port,
 * bind, send, unbind; it reports every event it takes.  The control process
 * keeps a channel with every domain and one between each domain and the
 * next, then, KILLS times: waits a random moment, SIGKILLs a random domain
 * process, and checks:
 *   - the surviving end of each of the dead domain's channels becomes
 *     UNBOUND, offered to the dead domain (status from the control domain);
 *   - the dead domain, created implicitly by its process's open, is
 *     destroyed (status answers -ESRCH);
 *   - every channel between survivors is still INTERDOMAIN with the right
 *     peer, and carries an event each way (none lost);
 * then closes the stale ends, respawns the domain, binds its channels again
 * and checks that they carry events too.
 *
 * Usage: chaos [KILLS [SEED]]   (default 200 kills)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "evtchnx.h"

#define NDOMS 4
#define MAXCH 32
#define DEADLINE_MS 5000
#define BUDGET_S 100

enum { M_READY = 1, M_REPLY, M_GOT, C_ALLOC, C_BIND, C_SEND, C_UNBIND };

struct msg {
	int32_t kind, a, b;
};

static char target[64];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "chaos: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put(int fd, int kind, int a, int b)
{
	struct msg m = { kind, a, b };

	if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(3); /* the other side is gone */
}

/* ---- a domain process ---------------------------------------------------------- */

static void take_all(struct evtchnx_handle *h, int out, int quiet_port)
{
	int p;

	while ((p = evtchnx_pending(h)) > 0) {
		evtchnx_unmask(h, (uint32_t)p);
		if (p != quiet_port)
			put(out, M_GOT, p, 0);
	}
}

static void domain_main(uint32_t domid, int in, int out)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = domid };
	struct evtchnx_handle *h = evtchnx_open(target, &o);

	if (!h)
		_exit(2);
	put(out, M_READY, 0, 0);
	for (;;) {
		struct pollfd p[2] = { { .fd = in, .events = POLLIN },
				       { .fd = evtchnx_fd(h), .events = POLLIN } };
		struct evtchnx_status st = { .sz = sizeof(st) };
		struct msg m;
		int r;

		/* talk to the lab, so that a kill often lands mid-request */
		r = evtchnx_alloc_unbound(h, EVTCHNX_DOMID_SELF, 0);
		if (r > 0) {
			(void)evtchnx_status(h, EVTCHNX_DOMID_SELF, (uint32_t)r, &st);
			(void)evtchnx_unbind(h, (uint32_t)r);
		}
		if (poll(p, 2, 1) < 0 && errno != EINTR)
			_exit(4);
		take_all(h, out, -1);
		if (!(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		if (read(in, &m, sizeof(m)) != (ssize_t)sizeof(m))
			_exit(0); /* the control process is done */
		switch (m.kind) {
		case C_ALLOC:
			r = evtchnx_alloc_unbound(h, EVTCHNX_DOMID_SELF, (uint32_t)m.a);
			break;
		case C_BIND:
			r = evtchnx_bind_interdomain(h, (uint32_t)m.a, (uint32_t)m.b);
			if (r > 0) /* the new port starts pending: not an event */
				take_all(h, out, r);
			break;
		case C_SEND:
			r = evtchnx_send(h, (uint32_t)m.a);
			break;
		case C_UNBIND:
			r = evtchnx_unbind(h, (uint32_t)m.a);
			break;
		default:
			r = -EINVAL;
			break;
		}
		put(out, M_REPLY, r, 0);
	}
}

/* ---- the control process --------------------------------------------------------- */

struct dom {
	pid_t pid;
	int to, from; /* command pipe, report pipe */
	bool got[256];
};

struct chan {
	uint32_t da, pa, db, pb; /* domain 0 is the control process */
};

static struct evtchnx_handle *hc;
static struct dom doms[NDOMS + 1];
static struct chan ch[MAXCH];
static unsigned int nch;
static bool got0[256];
static unsigned long events, n_kills;

static void mark(bool *got, int port)
{
	if (port > 0 && port < 256)
		got[port] = true;
}

/* Read what the domains and the control handle have to say, up to @ms. */
static void pump(int ms)
{
	struct pollfd p[NDOMS + 1];
	int p0;

	for (int k = 1; k <= NDOMS; k++)
		p[k - 1] = (struct pollfd){ .fd = doms[k].pid ? doms[k].from : -1,
					    .events = POLLIN };
	p[NDOMS] = (struct pollfd){ .fd = evtchnx_fd(hc), .events = POLLIN };
	if (poll(p, NDOMS + 1, ms) < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
	while ((p0 = evtchnx_pending(hc)) > 0) {
		evtchnx_unmask(hc, (uint32_t)p0);
		mark(got0, p0);
	}
	for (int k = 1; k <= NDOMS; k++) {
		struct msg m;

		if (!(p[k - 1].revents & POLLIN))
			continue;
		if (read(doms[k].from, &m, sizeof(m)) != (ssize_t)sizeof(m))
			die("domain %d hung up unasked", k);
		if (m.kind == M_GOT)
			mark(doms[k].got, m.a);
		else
			die("domain %d: message %d unasked", k, m.kind);
	}
}

/* Ask domain @k to do something; its answer. */
static int ask(int k, int kind, int a, int b)
{
	int64_t end = now_ms() + DEADLINE_MS;

	put(doms[k].to, kind, a, b);
	while (now_ms() < end) {
		struct pollfd p = { .fd = doms[k].from, .events = POLLIN };
		struct msg m;

		if (poll(&p, 1, 10) <= 0) {
			pump(0);
			continue;
		}
		if (read(doms[k].from, &m, sizeof(m)) != (ssize_t)sizeof(m))
			die("domain %d died while asked %d", k, kind);
		if (m.kind == M_GOT)
			mark(doms[k].got, m.a);
		else if (m.kind == M_REPLY)
			return m.a;
		else
			die("domain %d: message %d", k, m.kind);
	}
	die("domain %d did not answer request %d", k, kind);
}

static void spawn(int k)
{
	int to[2], from[2];
	struct msg m;
	pid_t pid;

	if (pipe(to) || pipe(from))
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		for (int j = 1; j <= NDOMS; j++) {
			if (doms[j].pid) {
				close(doms[j].to);
				close(doms[j].from);
			}
		}
		domain_main((uint32_t)k, to[0], from[1]);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	memset(&doms[k], 0, sizeof(doms[k]));
	doms[k] = (struct dom){ .pid = pid, .to = to[1], .from = from[0] };
	if (read(doms[k].from, &m, sizeof(m)) != (ssize_t)sizeof(m) ||
	    m.kind != M_READY)
		die("domain %d did not start", k);
}

/* A channel from an UNBOUND port of @b offered to @a, bound by @a. */
static void connect_doms(uint32_t a, uint32_t b)
{
	int pb, pa;

	if (b == 0)
		pb = evtchnx_alloc_unbound(hc, EVTCHNX_DOMID_SELF, a);
	else
		pb = ask((int)b, C_ALLOC, (int)a, 0);
	if (pb <= 0)
		die("domain %u: alloc_unbound for %u: %d", b, a, pb);
	if (a == 0) {
		pa = evtchnx_bind_interdomain(hc, b, (uint32_t)pb);
		pump(0); /* takes the pending bit a new port starts with */
	} else {
		pa = ask((int)a, C_BIND, (int)b, pb);
	}
	if (pa <= 0 || pa >= 256 || pb >= 256)
		die("domain %u: bind to %u:%d: %d", a, b, pb, pa);
	if (nch == MAXCH)
		die("too many channels");
	ch[nch++] = (struct chan){ a, (uint32_t)pa, b, (uint32_t)pb };
}

static bool *got_of(uint32_t d)
{
	return d ? doms[d].got : got0;
}

/* An event from (@d, @p) must reach (@e, @q). */
static void ping(uint32_t d, uint32_t p, uint32_t e, uint32_t q)
{
	int64_t end = now_ms() + DEADLINE_MS;
	int rc;

	pump(0);
	got_of(e)[q] = false;
	rc = d ? ask((int)d, C_SEND, (int)p, 0) : evtchnx_send(hc, p);
	if (rc)
		die("send on %u:%u: %d", d, p, rc);
	while (!got_of(e)[q]) {
		if (now_ms() > end)
			die("event from %u:%u to %u:%u lost (kill %lu)", d, p, e,
			    q, n_kills);
		pump(10);
	}
	events++;
}

static void check_status(uint32_t d, uint32_t p, uint32_t state,
			 uint32_t rd, uint32_t rp)
{
	struct evtchnx_status st = { .sz = sizeof(st) };
	int64_t end = now_ms() + DEADLINE_MS;
	int rc;

	/* the lab learns of a death on its own time: allow it a moment */
	for (;;) {
		rc = evtchnx_status(hc, d, p, &st);
		if (rc == 0 && st.state == state && st.remote_domid == rd &&
		    (state != EVTCHNX_STATE_INTERDOMAIN || st.remote_port == rp))
			return;
		if (now_ms() > end)
			die("status(%u, %u): %d state %u remote %u:%u, expected state %u remote %u:%u (kill %lu)",
			    d, p, rc, st.state, st.remote_domid, st.remote_port,
			    state, rd, rp, n_kills);
		pump(1);
	}
}

static void kill_one(int k)
{
	struct evtchnx_status st = { .sz = sizeof(st) };
	int64_t end = now_ms() + DEADLINE_MS;
	unsigned int i, n = 0;

	if (kill(doms[k].pid, SIGKILL) || waitpid(doms[k].pid, NULL, 0) < 0)
		die("killing domain %d: %s", k, strerror(errno));
	n_kills++;
	close(doms[k].to);
	close(doms[k].from);
	doms[k].pid = 0;

	/* the dead domain goes, created implicitly as it was */
	while (evtchnx_status(hc, (uint32_t)k, 0, &st) != -ESRCH) {
		if (now_ms() > end)
			die("domain %d still exists after its process was killed", k);
		pump(1);
	}
	/* its channels' surviving ends are UNBOUND, offered to it; close them */
	for (i = 0; i < nch; i++) {
		struct chan c = ch[i];
		uint32_t sd, sp;

		if (c.da != (uint32_t)k && c.db != (uint32_t)k) {
			ch[n++] = c;
			continue;
		}
		sd = c.da == (uint32_t)k ? c.db : c.da;
		sp = c.da == (uint32_t)k ? c.pb : c.pa;
		check_status(sd, sp, EVTCHNX_STATE_UNBOUND, (uint32_t)k, 0);
		if ((sd ? ask((int)sd, C_UNBIND, (int)sp, 0) :
			  evtchnx_unbind(hc, sp)) != 0)
			die("closing the stale end %u:%u failed", sd, sp);
	}
	nch = n;
	/* the survivors' channels are intact, and carry events both ways */
	for (i = 0; i < nch; i++) {
		check_status(ch[i].da, ch[i].pa, EVTCHNX_STATE_INTERDOMAIN,
			     ch[i].db, ch[i].pb);
		check_status(ch[i].db, ch[i].pb, EVTCHNX_STATE_INTERDOMAIN,
			     ch[i].da, ch[i].pa);
		ping(ch[i].da, ch[i].pa, ch[i].db, ch[i].pb);
		ping(ch[i].db, ch[i].pb, ch[i].da, ch[i].pa);
	}
}

/* Domain @k's channels: with the control domain and both neighbours. */
static void join(int k)
{
	unsigned int first = nch;

	spawn(k);
	connect_doms(0, (uint32_t)k);
	connect_doms((uint32_t)(k % NDOMS + 1), (uint32_t)k);
	connect_doms((uint32_t)k, (uint32_t)((k + NDOMS - 2) % NDOMS + 1));
	for (unsigned int i = first; i < nch; i++) {
		ping(ch[i].da, ch[i].pa, ch[i].db, ch[i].pb);
		ping(ch[i].db, ch[i].pb, ch[i].da, ch[i].pa);
	}
}

int main(int argc, char **argv)
{
	unsigned long kills = argc > 1 ? strtoul(argv[1], NULL, 0) : 200;
	unsigned int seed = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) :
				       (unsigned int)time(NULL) ^ (unsigned int)getpid();
	int64_t start = now_ms();

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	srand(seed);
	snprintf(target, sizeof(target), "sim:chaos-%d", (int)getpid());
	printf("chaos: %s, %lu kills, seed %u\n", target, kills, seed);
	hc = evtchnx_open(target, NULL);
	if (!hc)
		die("evtchnx_open(%s): %s", target, strerror(errno));

	/* every domain up, its channels with its neighbours bound once both
	 * exist */
	for (int k = 1; k <= NDOMS; k++) {
		spawn(k);
		connect_doms(0, (uint32_t)k);
	}
	for (int k = 1; k <= NDOMS; k++)
		connect_doms((uint32_t)(k % NDOMS + 1), (uint32_t)k);

	while (n_kills < kills) {
		int k = 1 + rand() % NDOMS;
		int64_t until = now_ms() + rand() % 25;

		while (now_ms() < until)
			pump(1);
		kill_one(k);
		join(k);
		if (now_ms() - start > BUDGET_S * 1000)
			die("%lu kills in %d s: too slow", n_kills, BUDGET_S);
	}

	for (int k = 1; k <= NDOMS; k++) {
		kill(doms[k].pid, SIGKILL);
		waitpid(doms[k].pid, NULL, 0);
	}
	evtchnx_close(hc);
	printf("chaos: %lu kills, %lu events checked, %.1f s: ok\n", n_kills,
	       events, (double)(now_ms() - start) / 1000.0);
	return 0;
}
