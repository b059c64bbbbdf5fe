/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * fuzz_proto.c - libFuzzer target: raw protocol messages (lab/proto.h)
 * against a live lab server (lab/server.c).
 *
 * Each input starts a private lab server in a thread (as target "sim"
 * does: connections arrive through a door socket), opens up to three
 * connections to it, and sends the messages the input describes, on any of
 * them: requests with any op and any arguments (small values mostly, so that
 * HELLO, channels between connections and GET_LINK of real links happen),
 * messages of the wrong length, messages carrying a descriptor, and hang-ups.
 * Checked, each a finding when broken:
 *   - the server answers every well-formed request within a deadline, on
 *     the connection that asked, and only then; a malformed message makes it
 *     drop that connection (EOF), not hang or crash;
 *   - each reply is well formed: its length is PROTO_REP_SIZE(nrec), nrec is
 *     at most PROTO_MAX_RECS (at most one record but for SYNC), it echoes
 *     the op, its result is >= 0 or an errno, its flags and records hold
 *     known values, and it carries the descriptors its op promises (HELLO:
 *     control page and epoll set; GET_LINK: two pages, and the wake-up for a
 *     sender) and none otherwise;
 *   - once every connection and the door are closed the server ends within
 *     a deadline, and the process holds no more descriptors than before
 *     (memory leaks are LeakSanitizer's).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "proto.h"
#include "rules.h"
#include "server.h"
#include "status_page.h"

#define FUZZ_NAME "fuzz_proto"
#include "fuzz_input.h"

#define NCONN 3
#define DEADLINE_MS 5000
#define MAX_MSGS 64

/* ---- input ------------------------------------------------------------------ */

/* Mostly small values (domids, ports, link ids, the version), some edges. */
static uint32_t arg(void)
{
	static const uint32_t odd[] = { RULES_DOMID_SELF, PROTO_VERSION,
					0xFFFFFFFFu, RULES_MAX_PORTS,
					RULES_MAX_PORTS - 1, 0x7FF1, 0xFFFF,
					63, 64, 23, 24 };
	uint8_t b = next();

	if (b < 0xE0)
		return b % 8;
	if (b == 0xFF)
		return next32();
	return odd[b % (sizeof(odd) / sizeof(odd[0]))];
}

/* ---- the server -------------------------------------------------------------- */

static int door = -1;
static pthread_t thread;
static struct lab_server *server;
static volatile int server_done;

static void *serve(void *arg)
{
	(void)lab_server_run(arg);
	server_done = 1;
	return NULL;
}

static void server_start(void)
{
	struct lab_server_config cfg = { .listen_fd = -1, .door_fd = -1,
					 .signal_fd = -1 };
	int sv[2];
	sigset_t all, old;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	cfg.door_fd = sv[1];
	server = lab_server_new(&cfg);
	if (!server)
		die("lab_server_new: %s", strerror(errno));
	door = sv[0];
	server_done = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&thread, NULL, serve, server))
		die("pthread_create failed");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void server_stop(void)
{
	struct timespec ts;

	close(door);
	door = -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DEADLINE_MS / 1000;
	if (pthread_timedjoin_np(thread, NULL, &ts))
		die("the server did not end once every connection was gone");
	lab_server_free(server);
	server = NULL;
}

/* ---- connections ------------------------------------------------------------- */

struct conn {
	int sock;       /* -1: none */
	bool joined;    /* its HELLO succeeded */
	bool closing;   /* the server must hang up: it said BYE, or sent junk */
};

static struct conn conns[NCONN];

static void conn_open(struct conn *c)
{
	int sv[2], err;
	char byte = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	/* As the library does for its private lab (private_lab.c). */
	(void)setsockopt(sv[1], SOL_SOCKET, 83 /* SO_PASSRIGHTS */, &(int){ 0 }, sizeof(int));
	err = proto_send(door, &byte, 1, &sv[1], 1);
	close(sv[1]);
	if (err)
		die("passing a connection through the door: %s", strerror(-err));
	*c = (struct conn){ .sock = sv[0] };
}

static void conn_close(struct conn *c)
{
	if (c->sock >= 0)
		close(c->sock);
	*c = (struct conn){ .sock = -1 };
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

/* The server must hang up on @c (nothing but EOF may come). */
static void expect_hangup(struct conn *c, const char *why)
{
	char buf[16];
	int fds[PROTO_MAX_FDS];
	unsigned int nfds;
	ssize_t n;

	if (!readable(c->sock, DEADLINE_MS))
		die("no hang-up within %d ms after %s", DEADLINE_MS, why);
	n = proto_recv(c->sock, buf, sizeof(buf), fds, &nfds);
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	if (n != 0 && n != -ECONNRESET)
		die("after %s the server sent %zd bytes, not EOF", why, n);
	conn_close(c);
}

static bool known_errno(int32_t r)
{
	return r < 0 && r >= -4095;
}

static void check_fd_size(int fd, off_t size, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) || st.st_size != size)
		die("%s: a descriptor of %lld bytes, not %lld", what,
		    (long long)st.st_size, (long long)size);
}

/* A request, and room for a message longer than one. */
union msg {
	struct proto_req rq;
	struct proto_req_n rqn; /* a batch: ports after the request */
	uint8_t bytes[40];
};

static const uint32_t *rq_ports(const struct proto_req *rq)
{
	return ((const struct proto_req_n *)rq)->ports;
}

static bool is_batch(uint32_t op)
{
	return op == PROTO_ALLOC_UNBOUND_N || op == PROTO_BIND_INTERDOMAIN_N ||
	       op == PROTO_UNBIND_N || op == PROTO_STATUS_N;
}

/* The length a well-formed request of this op and arguments has. */
static size_t proper_len(const struct proto_req *rq)
{
	switch (rq->op) {
	case PROTO_BIND_INTERDOMAIN_N:
	case PROTO_STATUS_N:
		return rq->arg[1] <= PROTO_MAX_RECS ? PROTO_REQ_N_SIZE(rq->arg[1]) : 0;
	case PROTO_UNBIND_N:
		return rq->arg[0] <= PROTO_MAX_RECS ? PROTO_REQ_N_SIZE(rq->arg[0]) : 0;
	default:
		return sizeof(*rq);
	}
}

/* A batch's reply: one record per operation done, of the kind it does. */
static void check_batch(const struct proto_req *rq, const struct proto_rep *rep)
{
	uint32_t count = rq->op == PROTO_UNBIND_N ? rq->arg[0] :
			 rq->op == PROTO_ALLOC_UNBOUND_N ? rq->arg[2] : rq->arg[1];

	if (rep->result < 0) {
		if (rep->nrec)
			die("batch op %u failed with %u records", rq->op, rep->nrec);
		return;
	}
	if (rep->result == 0 || (uint32_t)rep->result > count ||
	    rep->nrec != (uint32_t)rep->result)
		die("batch op %u of %u: result %d, %u records", rq->op, count,
		    rep->result, rep->nrec);
	for (uint32_t i = 0; i < rep->nrec; i++) {
		const struct proto_rec *r = &rep->rec[i];
		bool ok;

		switch (rq->op) {
		case PROTO_STATUS_N:
			ok = r->owned == PROTO_REC_STATUS && r->port == rq_ports(rq)[i] &&
			     (r->state == EVTCHNX_STATE_CLOSED || r->state == EVTCHNX_STATE_UNBOUND ||
			      r->state == EVTCHNX_STATE_INTERDOMAIN || r->state == EVTCHNX_STATE_VIRQ);
			break;
		case PROTO_UNBIND_N:
			ok = r->owned == 0 && r->port == rq_ports(rq)[i];
			break;
		case PROTO_BIND_INTERDOMAIN_N:
			ok = r->owned == 1 && r->port && r->port < RULES_MAX_PORTS;
			break;
		default:
			ok = (r->owned == 1 || r->owned == PROTO_REC_FOREIGN) && r->port &&
			     r->port < RULES_MAX_PORTS;
			break;
		}
		if (!ok)
			die("batch op %u: record %u (port %u, owned %u) is wrong", rq->op,
			    i, r->port, r->owned);
	}
}

/* PROTO_LAB_STATS: records of the kind asked for, a page at most, for the
 * control domain only. */
static void check_stats(const struct proto_req *rq, const struct proto_rep *rep)
{
	size_t size = rq->arg[0] == PROTO_STATS_LINKS ? sizeof(struct proto_link_stat) :
						      sizeof(struct proto_dom_stat);

	if (rep->result < 0) {
		if (rep->nrec || (rep->flags & PROTO_F_MORE))
			die("LAB_STATS: %u records, flags %#x with result %d", rep->nrec,
			    rep->flags, rep->result);
		return;
	}
	if (rq->arg[0] > PROTO_STATS_DOMAINS)
		die("LAB_STATS: kind %u answered", rq->arg[0]);
	if ((unsigned int)rep->result > PROTO_MAX_STATS ||
	    rep->nrec != (rep->result * size + sizeof(struct proto_rec) - 1) /
				 sizeof(struct proto_rec))
		die("LAB_STATS: %d stats in %u records", rep->result, rep->nrec);
	if ((rep->flags & PROTO_F_MORE) && rep->result == 0)
		die("LAB_STATS: MORE after an empty page");
	for (int i = 0; i < rep->result && rq->arg[0] == PROTO_STATS_DOMAINS; i++) {
		struct proto_dom_stat d;

		memcpy(&d, (const char *)rep->rec + (size_t)i * size, sizeof(d));
		if (d.domid >= RULES_DOMID_FIRST_RESERVED || d.ports >= d.table ||
		    d.table > RULES_MAX_PORTS)
			die("LAB_STATS: domain %u, %u ports of %u", d.domid, d.ports, d.table);
	}
}

/* Send the first @len bytes of @m (with @with_fd a descriptor) on @c, check
 * what comes back. */
static void request(struct conn *c, const union msg *m, size_t len,
		    bool with_fd)
{
	const struct proto_req *rq = &m->rq;
	static struct {
		struct proto_rep rep;
		char extra[64];
	} buf;
	struct proto_rep *rep = &buf.rep;
	int fds[PROTO_MAX_FDS], efd = -1, err;
	unsigned int nfds, want_fds = 0;
	bool malformed = len != proper_len(rq) || len < sizeof(*rq) || with_fd;
	ssize_t n;

	if (readable(c->sock, 0))
		die("the server spoke unasked");
	if (with_fd) {
		efd = eventfd(0, EFD_CLOEXEC);
		if (efd < 0)
			die("eventfd: %s", strerror(errno));
	}
	err = proto_send(c->sock, m, len, with_fd ? &efd : NULL, with_fd);
	if (efd >= 0)
		close(efd);
	if (err == -EPIPE || err == -ECONNRESET)
		die("the server hung up on a connection it had no reason to drop");
	if (err) /* a kernel that refuses descriptors on this socket */
		return;
	if (malformed || rq->op == PROTO_BYE) {
		if (rq->op == PROTO_BYE && !malformed) {
			/* BYE is answered, then the connection ends. */
			if (!readable(c->sock, DEADLINE_MS))
				die("no answer to BYE within %d ms", DEADLINE_MS);
			n = proto_recv(c->sock, rep, sizeof(buf), fds, &nfds);
			for (unsigned int i = 0; i < nfds; i++)
				close(fds[i]);
			if (n != (ssize_t)PROTO_REP_SIZE(0) || rep->op != PROTO_BYE ||
			    nfds)
				die("BYE answered with %zd bytes, op %u, %u fds", n,
				    rep->op, nfds);
		}
		expect_hangup(c, malformed ? "a malformed message" : "BYE");
		return;
	}

	if (!readable(c->sock, DEADLINE_MS))
		die("op %u: no answer within %d ms", rq->op, DEADLINE_MS);
	n = proto_recv(c->sock, rep, sizeof(buf), fds, &nfds);
	if (n == 0 || n == -ECONNRESET) {
		/* Only a refused HELLO ends a connection without an answer
		 * ... and it does answer first: an EOF here is a finding. */
		die("op %u: the server hung up instead of answering", rq->op);
	}
	if (n < 0)
		die("op %u: receiving the answer: %s", rq->op, strerror((int)-n));
	if ((size_t)n < PROTO_REP_SIZE(0))
		die("op %u: an answer of %zd bytes", rq->op, n);
	if (rep->nrec > PROTO_MAX_RECS || (size_t)n != PROTO_REP_SIZE(rep->nrec))
		die("op %u: %zd bytes for %u records", rq->op, n, rep->nrec);
	if (rep->op != rq->op)
		die("op %u answered as op %u", rq->op, rep->op);
	if (rep->result < 0 && !known_errno(rep->result))
		die("op %u: result %d", rq->op, rep->result);
	if (rep->flags & ~(PROTO_F_MORE | PROTO_F_ORPHANED))
		die("op %u: flags %#x", rq->op, rep->flags);
	if (rq->op == PROTO_LAB_STATS) {
		check_stats(rq, rep);
		goto records_done;
	}
	if (is_batch(rq->op) && c->joined) {
		check_batch(rq, rep);
		goto records_done;
	}
	if (rq->op != PROTO_SYNC && rep->nrec > 1)
		die("op %u: %u records", rq->op, rep->nrec);
	if ((rep->flags & PROTO_F_MORE) && rq->op != PROTO_SYNC)
		die("op %u: MORE outside SYNC", rq->op);
	for (uint32_t i = 0; i < rep->nrec; i++) {
		const struct proto_rec *r = &rep->rec[i];

		if (r->port == 0 || r->port >= RULES_MAX_PORTS || r->owned > 1 ||
		    r->raised > 1 || r->state > RULES_VIRQ ||
		    (r->owned && (r->state == RULES_FREE ||
				  r->state == RULES_RESERVED)) ||
		    (r->state == RULES_VIRQ && r->virq >= RULES_NR_VIRQS) ||
		    /* UNBOUND may name the link its last events are on */
		    (r->state != RULES_INTERDOMAIN && r->tx_link) ||
		    (r->state != RULES_INTERDOMAIN && r->state != RULES_UNBOUND &&
		     r->rx_link))
			die("op %u: record %u: port %u owned %u state %u virq %u raised %u links %u/%u",
			    rq->op, i, r->port, r->owned, r->state, r->virq,
			    r->raised, r->rx_link, r->tx_link);
	}
records_done:
	if (rq->op == PROTO_STATUS && rep->result == 0) {
		const struct proto_status *st = &rep->status;

		if (st->state != EVTCHNX_STATE_CLOSED &&
		    st->state != EVTCHNX_STATE_UNBOUND &&
		    st->state != EVTCHNX_STATE_INTERDOMAIN &&
		    st->state != EVTCHNX_STATE_VIRQ)
			die("status: state %u", st->state);
	}
	if (rq->op == PROTO_HELLO && rep->result >= 0) {
		/* The status page comes to the control domain only. */
		want_fds = rq->arg[0] == 0 ? 3 : 2;
		if (nfds == want_fds)
			check_fd_size(fds[0], PROTO_CTL_SIZE, "HELLO");
		if (nfds == 3)
			check_fd_size(fds[2], (off_t)STATUS_PAGE_SIZE, "HELLO status");
	} else if (rq->op == PROTO_GET_LINK && rep->result >= 0) {
		if (rep->result == 0 ||
		    (rep->result & ~(PROTO_ROLE_SENDER | PROTO_ROLE_RECEIVER)))
			die("GET_LINK: role %d", rep->result);
		want_fds = rep->result & PROTO_ROLE_SENDER ? 3 : 2;
		if (nfds >= 2) {
			check_fd_size(fds[0], (off_t)LINK_TX_SIZE, "GET_LINK tx");
			check_fd_size(fds[1], (off_t)LINK_RX_SIZE, "GET_LINK rx");
		}
	}
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	if (nfds != want_fds)
		die("op %u result %d: %u descriptors, %u expected", rq->op,
		    rep->result, nfds, want_fds);
	if (rq->op == PROTO_HELLO && rep->result >= 0) {
		if (c->joined)
			die("a second HELLO accepted");
		c->joined = true;
	}
	if (rq->op == PROTO_HELLO && rep->result < 0)
		expect_hangup(c, "a refused HELLO");
	else if (rq->op != PROTO_HELLO && !c->joined && rep->result != -EPROTO &&
		 rq->op != PROTO_BYE)
		die("op %u before HELLO: %d, not -EPROTO", rq->op, rep->result);
}

/* ---- descriptors ---------------------------------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		die("opendir(/proc/self/fd): %s", strerror(errno));
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ---- the driver --------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds_before = count_fds();
	unsigned int msgs = 0;

	input_start(data, size);
	server_start();
	for (int i = 0; i < NCONN; i++)
		conns[i].sock = -1;

	while (in_pos < in_len && msgs++ < MAX_MSGS) {
		uint8_t ctl = next();
		struct conn *c = &conns[ctl % NCONN];
		unsigned int kind = (ctl / NCONN) % 16;
		union msg m;
		size_t len = sizeof(m.rq);
		bool with_fd = false;

		if (c->sock < 0)
			conn_open(c);
		if (kind == 15) { /* hang up */
			conn_close(c);
			continue;
		}
		memset(&m, 0, sizeof(m));
		if (kind == 0) { /* HELLO as a client says it */
			m.rq.op = PROTO_HELLO;
			m.rq.arg[0] = next() % 6;
			m.rq.arg[1] = PROTO_VERSION;
		} else {
			uint8_t op = next();

			/* Every op, and now and then one no server knows. */
			m.rq.op = op < 0xF0 ? op % (PROTO_LAB_STATS + 1) : next32();
			m.rq.arg[0] = arg();
			m.rq.arg[1] = arg();
			m.rq.arg[2] = arg();
			if (is_batch(m.rq.op)) {
				/* A batch of a few, its ports from the input. */
				uint32_t count = next() % 6;

				if (m.rq.op == PROTO_UNBIND_N)
					m.rq.arg[0] = count;
				else if (m.rq.op == PROTO_ALLOC_UNBOUND_N)
					m.rq.arg[2] = count;
				else
					m.rq.arg[1] = count;
				for (uint32_t k = 0; k < count; k++)
					m.rqn.ports[k] = arg();
				len = proper_len(&m.rq);
			}
		}
		if (kind == 14) { /* the wrong length */
			len = next() % (sizeof(m) + 1);
			if (len == proper_len(&m.rq))
				len = 0;
		} else if (kind == 13) {
			with_fd = true;
		}
		request(c, &m, len, with_fd);
	}
	for (int i = 0; i < NCONN; i++)
		conn_close(&conns[i]);
	server_stop();
	if (count_fds() != fds_before)
		die("%d descriptors open after the lab ended, %d before",
		    count_fds(), fds_before);
	return 0;
}
