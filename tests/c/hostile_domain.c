/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * hostile_domain - a domain that attacks a shared lab through the raw
 * protocol while an honest pair of domains keeps exchanging events.
 *
 * Domains 1 and 2 (two processes, the public API) play ping-pong on one
 * channel and each has a channel with domain 3.  Domain 3 speaks the lab's
 * protocol by hand (libevtchn/lab/proto.h), binds both channels, fetches
 * every page and descriptor the lab hands it, and then, for a fixed time:
 *   - truncates and grows every page it holds, also through a read-write
 *     reopening of the read-only ones (the lab seals them: must fail);
 *   - flips O_NONBLOCK on, reads and writes every descriptor it holds;
 *   - scribbles random bytes over every byte of every page, its peers'
 *     read-only pages included (reopened read-write);
 *   - floods its wake-ups and asks for links that are not its own.
 * Throughout, the honest pair must lose no event (every ping answered within
 * a deadline), the empty-handle pending() of an honest domain must answer
 * -EAGAIN at once, and afterwards the lab server must still serve a new
 * handle.  Exits 0 when all of that held, 1 otherwise.
 *
 *   hostile_domain [seconds]   (default 3)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "evtchnx.h"
#include "labdir.h"
#include "link.h"
#include "proto.h"
#include "status_page.h"

#define PONG_DEADLINE_MS 2000
#define MAX_HELD 16
/* An empty pending() that takes longer than this has slept or blocked (on
 * a 2-core machine under load, preemption alone stays far below it). */
#define SLOW_PENDING_MS 1000

struct shared {
	_Atomic uint32_t p12, p13, p23;  /* ports the control domain allocated */
	_Atomic int ready;               /* domains that are set up */
	_Atomic int stop;
	_Atomic uint64_t pings, pongs;   /* the honest pair's sequence numbers */
	_Atomic uint64_t rounds;
	_Atomic uint64_t slow_pending;   /* empty pending() calls over SLOW_PENDING_MS */
	_Atomic uint64_t attacks;
	_Atomic int failures;
	char why[256];
};

static struct shared *sh;
static char target[96];

static void fail(const char *fmt, const char *detail)
{
	if (atomic_fetch_add(&sh->failures, 1) == 0)
		snprintf(sh->why, sizeof(sh->why), fmt, detail);
	fprintf(stderr, "hostile_domain: ");
	fprintf(stderr, fmt, detail);
	fputc('\n', stderr);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct evtchnx_handle *open_as(uint32_t domid)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = domid };
	struct evtchnx_handle *h = evtchnx_open(target, &o);

	if (!h)
		fail("evtchnx_open as dom %s failed", domid == 1 ? "1" : "2");
	return h;
}

/* ---- the honest pair ---------------------------------------------------- */

/* Wait for an event on @want, unmasking (and ignoring) any other port: the
 * hostile domain may raise spurious events on its own channels. */
static int take(struct evtchnx_handle *h, uint32_t want, uint64_t deadline)
{
	for (;;) {
		uint64_t t = now_ms();
		int r;

		if (t >= deadline)
			return -ETIMEDOUT;
		r = evtchnx_wait(h, (int)(deadline - t));
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		(void)evtchnx_unmask(h, (uint32_t)r);
		if ((uint32_t)r == want)
			return 0;
	}
}

/* A handle of the same domain with no ports: its pending() has nothing to
 * return, whatever the attacker does, and must say so at once. */
static void check_empty_pending(struct evtchnx_handle *idle)
{
	uint64_t t0 = now_ms();
	int r = evtchnx_pending(idle);

	if (r != -EAGAIN)
		fail("pending() on a handle without ports: %s", evtchnx_strerror(r));
	if (now_ms() - t0 > SLOW_PENDING_MS)
		atomic_fetch_add(&sh->slow_pending, 1);
}

static int honest(uint32_t domid)
{
	struct evtchnx_handle *h = open_as(domid), *idle = open_as(domid);
	uint32_t mine, other_x;
	int r;

	if (!h || !idle)
		return 1;
	if (domid == 1) {
		mine = atomic_load(&sh->p12);
		other_x = atomic_load(&sh->p13);
		if (evtchnx_adopt(h, mine) < 0 || evtchnx_adopt(h, other_x) < 0) {
			fail("dom 1: adopt failed%s", "");
			return 1;
		}
	} else {
		other_x = atomic_load(&sh->p23);
		if (evtchnx_adopt(h, other_x) < 0) {
			fail("dom 2: adopt failed%s", "");
			return 1;
		}
		r = evtchnx_bind_interdomain(h, 1, atomic_load(&sh->p12));
		if (r < 0) {
			fail("dom 2: bind_interdomain failed%s", "");
			return 1;
		}
		mine = (uint32_t)r;
	}
	/* Drain what setting up left pending (the binding's own event) before
	 * the first ping can come. */
	while ((r = evtchnx_pending(h)) >= 0)
		(void)evtchnx_unmask(h, (uint32_t)r);
	atomic_fetch_add(&sh->ready, 1);
	while (atomic_load(&sh->ready) < 3 && !atomic_load(&sh->stop))
		usleep(1000);

	while (!atomic_load(&sh->stop)) {
		uint64_t deadline = now_ms() + PONG_DEADLINE_MS;

		if (domid == 1) {
			atomic_fetch_add(&sh->pings, 1);
			if (evtchnx_send(h, mine) < 0) {
				fail("dom 1: send failed%s", "");
				break;
			}
			r = take(h, mine, deadline);
			if (r == -ETIMEDOUT && atomic_load(&sh->stop))
				break;
			if (r < 0) {
				fail("dom 1: no pong within the deadline: %s",
				     evtchnx_strerror(r));
				break;
			}
			atomic_fetch_add(&sh->rounds, 1);
		} else {
			r = take(h, mine, deadline);
			if (r == -ETIMEDOUT) {
				if (getenv("HOSTILE_DEBUG"))
					fprintf(stderr, "dom 2: waited for %u: is_pending %d pings %llu pongs %llu\n",
						mine, evtchnx_is_pending(h, mine),
						(unsigned long long)atomic_load(&sh->pings),
						(unsigned long long)atomic_load(&sh->pongs));
				continue; /* dom 1 checks the deadline */
			}
			if (r < 0) {
				fail("dom 2: wait failed: %s", evtchnx_strerror(r));
				break;
			}
			atomic_fetch_add(&sh->pongs, 1);
			if (evtchnx_send(h, mine) < 0) {
				fail("dom 2: send failed%s", "");
				break;
			}
		}
		check_empty_pending(idle);
	}
	evtchnx_close(idle);
	evtchnx_close(h);
	return 0;
}

/* ---- the hostile domain ------------------------------------------------- */

struct held_page {
	int fd;
	size_t size;
	void *map; /* read-write, through a reopening when need be */
};

static int sock;
static struct held_page pages[MAX_HELD];
static int fds[MAX_HELD * 2];
static unsigned int npages, nfds;

/* One request; descriptors that come back land in @got (closed when the
 * caller passes none). */
static int raw(uint32_t op, uint32_t a0, uint32_t a1, struct proto_rep *rep,
	       int *got, unsigned int *ngot)
{
	struct proto_req rq = { .op = op, .arg = { a0, a1, 0 } };
	int mine[PROTO_MAX_FDS];
	unsigned int n = 0;
	bool keep = got != NULL;

	if (!keep) {
		got = mine;
		ngot = &n;
	}
	if (proto_send(sock, &rq, sizeof(rq), NULL, 0) < 0 ||
	    proto_recv(sock, rep, sizeof(*rep), got, ngot) < (ssize_t)PROTO_REP_SIZE(0))
		return -EIO;
	if (!keep)
		for (unsigned int i = 0; i < n; i++)
			close(mine[i]);
	return rep->result;
}

static void hold_fd(int fd)
{
	if (nfds < MAX_HELD * 2)
		fds[nfds++] = fd;
}

/* Keep a page, mapped read-write whatever access the lab granted. */
static void hold_page(int fd, size_t size)
{
	char path[64];
	int rw;

	hold_fd(fd);
	if (npages == MAX_HELD)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rw = open(path, O_RDWR | O_CLOEXEC);
	pages[npages].fd = rw >= 0 ? rw : fd;
	pages[npages].size = size;
	pages[npages].map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 pages[npages].fd, 0);
	if (pages[npages].map == MAP_FAILED)
		pages[npages].map = NULL;
	npages++;
}

static void attack_sizes(void)
{
	for (unsigned int i = 0; i < npages; i++) {
		if (ftruncate(pages[i].fd, 0) == 0 ||
		    ftruncate(pages[i].fd, (off_t)pages[i].size * 4) == 0)
			fail("a page the lab handed out could be resized%s", "");
	}
}

static void attack_descriptors(void)
{
	char buf[64];

	memset(buf, 0xA5, sizeof(buf));
	for (unsigned int i = 0; i < nfds; i++) {
		int fl = fcntl(fds[i], F_GETFL);

		if (fl < 0)
			continue;
		(void)fcntl(fds[i], F_SETFL, fl | O_NONBLOCK);
		(void)!read(fds[i], buf, sizeof(buf));
		(void)!write(fds[i], buf, 8);
		(void)fcntl(fds[i], F_SETFL, fl & ~O_NONBLOCK); /* left blocking */
	}
}

static void attack_bytes(unsigned int *seed)
{
	for (unsigned int i = 0; i < npages; i++) {
		unsigned char *m = pages[i].map;

		if (!m)
			continue;
		switch (rand_r(seed) % 4) {
		case 0: /* everything at once */
			for (size_t o = 0; o < pages[i].size; o++)
				m[o] = (unsigned char)rand_r(seed);
			break;
		case 1: /* all ones: every bit raised, every ack flipped */
			memset(m, 0xFF, pages[i].size);
			break;
		case 2: /* ring indices pinned just out of range */
			for (size_t o = 0; o + 4 <= 64 && o + 4 <= pages[i].size; o += 4)
				*(uint32_t *)(m + o) = 0x7FFFFFFFu + (uint32_t)rand_r(seed) % 3;
			break;
		default: /* a few words */
			for (int k = 0; k < 64; k++)
				m[(size_t)rand_r(seed) % pages[i].size] = (unsigned char)rand_r(seed);
			break;
		}
	}
}

/* The status page goes to the control domain's handles: joined as domain 0
 * (an open lab lets anyone), no holder may map it writable or resize it. */
static bool status_page_is_sealed(const char *lab)
{
	static struct proto_rep rep;
	struct proto_req rq = { .op = PROTO_HELLO, .arg = { 0, PROTO_VERSION, 0 } };
	int s0 = lab_connect(lab, EVTCHNX_OPEN_NO_SPAWN), got[PROTO_MAX_FDS];
	unsigned int ngot = 0;

	if (s0 < 0 || proto_send(s0, &rq, sizeof(rq), NULL, 0) < 0 ||
	    proto_recv(s0, &rep, sizeof(rep), got, &ngot) < (ssize_t)PROTO_REP_SIZE(0) ||
	    rep.result < 0 || ngot != 3) {
		fail("dom 0: HELLO refused, or it came without a status page%s", "");
		return false;
	}
	hold_fd(s0);
	hold_page(got[0], PROTO_CTL_SIZE);
	hold_fd(got[1]);
	hold_page(got[2], STATUS_PAGE_SIZE);
	if (pages[npages - 1].map) {
		fail("the status page could be mapped writable%s", "");
		return false;
	}
	return true;
}

static int hostile(unsigned int seconds)
{
	static struct proto_rep rep;
	int got[PROTO_MAX_FDS];
	unsigned int ngot, seed = (unsigned int)getpid();
	uint32_t links[8];
	unsigned int nlinks = 0;
	uint64_t end;
	char *name = strchr(target, ':') + 1;
	/* HOSTILE_ATTACKS=mask picks attacks, to narrow a failure down. */
	const char *only = getenv("HOSTILE_ATTACKS");
	unsigned int attacks = only ? (unsigned int)strtoul(only, NULL, 0) : ~0u;
	int r;

	sock = lab_connect(name, EVTCHNX_OPEN_NO_SPAWN);
	if (sock < 0) {
		fail("dom 3: cannot reach the lab%s", "");
		return 1;
	}
	r = raw(PROTO_HELLO, 3, PROTO_VERSION, &rep, got, &ngot);
	if (r < 0 || ngot != 2) {
		/* A guest gets no status page: it would show it every
		 * domain's ports. */
		fail("dom 3: HELLO refused, or it came with a status page%s", "");
		return 1;
	}
	hold_page(got[0], PROTO_CTL_SIZE);
	hold_fd(got[1]);
	if (!status_page_is_sealed(name))
		return 1;
	if (raw(PROTO_BIND_INTERDOMAIN, 1, atomic_load(&sh->p13), &rep, NULL, NULL) < 0 ||
	    raw(PROTO_BIND_INTERDOMAIN, 2, atomic_load(&sh->p23), &rep, NULL, NULL) < 0) {
		fail("dom 3: bind_interdomain refused%s", "");
		return 1;
	}
	atomic_fetch_add(&sh->ready, 1);
	while (atomic_load(&sh->ready) < 3)
		usleep(1000);
	usleep(100 * 1000); /* let the honest pair start */
	/* Every link the lab names in our records, both ways. */
	do {
		r = raw(PROTO_SYNC, 0, 0, &rep, NULL, NULL);
		for (uint32_t i = 0; r >= 0 && i < rep.nrec && nlinks < 6; i++) {
			if (rep.rec[i].rx_link)
				links[nlinks++] = rep.rec[i].rx_link;
			if (rep.rec[i].tx_link)
				links[nlinks++] = rep.rec[i].tx_link;
		}
	} while (r >= 0 && (rep.flags & PROTO_F_MORE));
	for (unsigned int i = 0; i < nlinks; i++) {
		r = raw(PROTO_GET_LINK, links[i], 0, &rep, got, &ngot);
		if (r < 0 || ngot < 2)
			continue;
		hold_page(got[0], LINK_TX_SIZE);
		hold_page(got[1], LINK_RX_SIZE);
		if (ngot == 3)
			hold_fd(got[2]);
	}
	if (npages < 3) {
		fail("dom 3: the lab handed out fewer pages than expected%s", "");
		return 1;
	}

	end = now_ms() + seconds * 1000ull;
	while (now_ms() < end && !atomic_load(&sh->failures)) {
		if (attacks & 1)
			attack_sizes();
		if (attacks & 2)
			attack_descriptors();
		if (attacks & 4)
			attack_bytes(&seed);
		/* Links that are not ours, and nonsense requests. */
		for (uint32_t id = 1; (attacks & 8) && id < 64; id++) {
			r = raw(PROTO_GET_LINK, id, 0, &rep, got, &ngot);
			for (unsigned int i = 0; r >= 0 && i < ngot; i++)
				close(got[i]);
		}
		if (attacks & 16)
			(void)raw(PROTO_SEND, 0xFFFFFFFFu, 0, &rep, NULL, NULL);
		atomic_fetch_add(&sh->attacks, 1);
	}
	return 0;
}

/* ---- the control domain --------------------------------------------------- */

static pid_t spawn(int (*fn)(uint32_t), uint32_t arg)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

static int hostile_main(uint32_t seconds)
{
	return hostile(seconds);
}

int main(int argc, char **argv)
{
	unsigned int seconds = argc > 1 ? (unsigned int)atoi(argv[1]) : 3;
	struct evtchnx_handle *c, *late;
	pid_t kids[3];
	int status, bad = 0, r;

	signal(SIGPIPE, SIG_IGN);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	snprintf(target, sizeof(target), "sim:hostile-%d", (int)getpid());
	c = evtchnx_open(target, NULL); /* the control domain keeps the lab */
	if (!c) {
		perror("evtchnx_open");
		return 1;
	}
	for (uint32_t d = 1; d <= 3; d++)
		if (evtchnx_domain_create(c, d) < 0)
			return 1;
	atomic_store(&sh->p12, (uint32_t)evtchnx_alloc_unbound(c, 1, 2));
	atomic_store(&sh->p13, (uint32_t)evtchnx_alloc_unbound(c, 1, 3));
	atomic_store(&sh->p23, (uint32_t)evtchnx_alloc_unbound(c, 2, 3));

	kids[0] = spawn(honest, 1);
	kids[1] = spawn(honest, 2);
	kids[2] = spawn(hostile_main, seconds);
	r = waitpid(kids[2], &status, 0);
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bad = 1;
	usleep(200 * 1000); /* a last round with the attacker gone */
	atomic_store(&sh->stop, 1);
	for (int i = 0; i < 2; i++) {
		r = waitpid(kids[i], &status, 0);
		if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "hostile_domain: honest dom %d ended badly (status %#x)\n",
				i + 1, status);
			bad = 1;
		}
	}

	/* The lab server is still there and serves a newcomer. */
	late = open_as(1);
	if (!late || evtchnx_alloc_unbound(late, EVTCHNX_DOMID_SELF, 0) < 0) {
		fail("the lab no longer serves a new handle%s", "");
		bad = 1;
	}
	evtchnx_close(late);
	evtchnx_close(c);

	printf("hostile_domain: %llu honest round trips, %llu pongs, %llu attack rounds, "
	       "%llu slow empty pending() calls\n",
	       (unsigned long long)atomic_load(&sh->rounds),
	       (unsigned long long)atomic_load(&sh->pongs),
	       (unsigned long long)atomic_load(&sh->attacks),
	       (unsigned long long)atomic_load(&sh->slow_pending));
	if (atomic_load(&sh->rounds) < 100) {
		fprintf(stderr, "hostile_domain: too few honest round trips\n");
		bad = 1;
	}
	if (atomic_load(&sh->attacks) < 1) {
		fprintf(stderr, "hostile_domain: the attacker did nothing\n");
		bad = 1;
	}
	if (atomic_load(&sh->slow_pending)) {
		fprintf(stderr, "hostile_domain: an empty pending() took over a second\n");
		bad = 1;
	}
	if (atomic_load(&sh->failures))
		bad = 1;
	printf("%d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
	return bad;
}
