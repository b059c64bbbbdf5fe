/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * client.c - the sim backend: a handle's side of a lab.
 *
 * Control operations are requests to the lab server (proto.h).  Events take
 * links (link.h): a send raises the peer port on the link from this handle
 * to the peer's owner and writes the link's wake-up when the peer may be
 * idle.  The handle's fd is an epoll set, made by the server, that holds the
 * wake-up of every link into this handle (edge-triggered: never read, so no
 * peer can drain or block it), the server's wake-up and the handle's own.
 * pending() collects the links that woke, reads their rings in order into
 * one private FIFO, and hands ports out of it: ports come out in the order
 * they became pending, links that woke together are read in turn, and no
 * port can starve.
 *
 * The handle keeps a copy of each of its ports' records (from replies, and
 * from PROTO_SYNC whenever the server's sequence number in the control page
 * moved) and honours a port read from a link only if the record says the
 * port's events arrive on that link.  Masking is private: a port is masked
 * from the moment pending() returns it until unmask().
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "backend.h"
#include "labdir.h"
#include "link.h"
#include "private_lab.h"
#include "proto.h"
#include "rules.h"
#include "status_page.h"

/* A link this handle sends on, receives on, or both (a loopback channel
 * within the handle). */
struct clink {
	uint32_t id;
	int role;             /* PROTO_ROLE_* */
	unsigned int refs;    /* ports that use it */
	struct link_sender snd;
	struct link_receiver rcv;
	void *tx_map, *rx_map;
	int wake;             /* sender: the receiver's wake-up */
	bool again;           /* receiver: read it again at the next collect */
	struct clink *hnext;  /* hash chain */
	struct clink *again_next;
};

struct cport {
	struct rules_port rp; /* rp.owner == our id while we own the port */
	bool masked;          /* returned by pending(), not unmasked yet */
	bool queued;          /* in the FIFO */
	bool lab_pending;     /* the lab raised it, or carried over from a link */
	struct clink *rx, *tx;
};

#define CHUNK_PORTS 1024u
#define NCHUNKS ((RULES_MAX_PORTS + CHUNK_PORTS - 1) / CHUNK_PORTS)
#define LINK_HASH 64u
#define COLLECT_MAX 64
/* How often one call reads a link whose sender keeps writing. */
#define DRAIN_ROUNDS 4
/* Busy-polling looks at the clock (and lets other threads call the handle)
 * once per this many looks at the links. */
#define SPIN_ROUNDS 16

struct sim {
	int sock;
	bool private_lab;
	bool orphaned;
	bool broken;
	bool self_armed;      /* our own wake-up is written and not collected */
	uint32_t id;
	uint16_t domid;
	int ep;               /* evtchnx_fd() */
	int self_wake;
	const struct proto_ctl_page *ctl;
	const struct status_page *spage; /* every domain's ports (domain 0 only) */
	uint32_t synced_seq;
	struct cport *chunk[NCHUNKS];
	struct clink *links[LINK_HASH];
	struct clink **rx_list; /* the links we receive on, for busy-polling */
	unsigned int nrx, rx_cap;
	bool rx_stale;        /* rx_list must be made again */
	struct clink *again;  /* links to read again */
	struct clink *stale;  /* a link that named a port we did not know */
	uint32_t *fifo;       /* ports in the order they became pending */
	uint32_t fifo_cap, fifo_head, fifo_len;
	uint32_t ring[LINK_RING];
	struct proto_rep rep; /* replies to the operation in progress */
	struct proto_rep aux; /* replies to the requests made while applying it */
};

static struct sim *sim_of(struct evtchnx_handle *h)
{
	return h->priv;
}

/* ---- talking to the lab ---------------------------------------------------- */

/* @len: the request's size (a batch's ports follow it); @fds: room for
 * PROTO_MAX_FDS descriptors; at least @nfds_want must come with a
 * successful reply. */
static int request3(struct sim *s, const struct proto_req *rq, size_t len,
		    struct proto_rep *rep, int *fds, unsigned int nfds_want);

static int request(struct sim *s, uint32_t op, uint32_t a0, uint32_t a1,
		   struct proto_rep *rep, int *fds, unsigned int nfds_want)
{
	struct proto_req rq = { .op = op, .arg = { a0, a1, 0 } };

	return request3(s, &rq, sizeof(rq), rep, fds, nfds_want);
}

static int request3(struct sim *s, const struct proto_req *rq, size_t len,
		    struct proto_rep *rep, int *fds, unsigned int nfds_want)
{
	uint32_t op = rq->op;
	int got[PROTO_MAX_FDS];
	unsigned int ngot = 0;
	ssize_t n;

	if (s->broken)
		return -EIO;
	if (proto_send(s->sock, rq, len, NULL, 0) < 0)
		goto broken;
	n = proto_recv(s->sock, rep, sizeof(*rep), got, &ngot);
	if (n == -EAGAIN) { /* no answer in time (a stopped server?) */
		s->broken = true; /* a late answer would be taken for the next */
		return -ETIMEDOUT;
	}
	if (n < (ssize_t)PROTO_REP_SIZE(0) || rep->op != op ||
	    rep->nrec > PROTO_MAX_RECS || n != (ssize_t)PROTO_REP_SIZE(rep->nrec))
		goto broken_fds;
	if (rep->result >= 0 && ngot < nfds_want)
		goto broken_fds;
	for (unsigned int i = 0; i < ngot; i++) {
		if (rep->result >= 0 && fds)
			fds[i] = got[i];
		else
			close(got[i]);
	}
	if (rep->flags & PROTO_F_ORPHANED)
		s->orphaned = true;
	return rep->result;

broken_fds:
	for (unsigned int i = 0; i < ngot; i++)
		close(got[i]);
broken:
	s->broken = true; /* the lab server went away or spoke nonsense */
	return -EIO;
}

static void *map_fd(int fd, size_t size, bool writable)
{
	void *m = mmap(NULL, size, PROT_READ | (writable ? PROT_WRITE : 0),
		       MAP_SHARED, fd, 0);

	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

static void wake_self(struct sim *s)
{
	if (!s->self_armed && eventfd_write(s->self_wake, 1) == 0)
		s->self_armed = true;
}

/* ---- ports ----------------------------------------------------------------- */

static struct cport *cport_get(struct sim *s, uint32_t port)
{
	struct cport *c;

	if (port >= RULES_MAX_PORTS)
		return NULL;
	c = s->chunk[port / CHUNK_PORTS];
	return c ? &c[port % CHUNK_PORTS] : NULL;
}

static struct cport *cport_make(struct sim *s, uint32_t port)
{
	struct cport **c = &s->chunk[port / CHUNK_PORTS];

	if (!*c)
		*c = calloc(CHUNK_PORTS, sizeof(**c));
	return *c ? &(*c)[port % CHUNK_PORTS] : NULL;
}

/* The evtchnx contract for an operation on one of our own ports. */
static struct cport *own(struct sim *s, uint32_t port, int *err)
{
	struct cport *cp = cport_get(s, port);

	*err = rules_check_own_port(cp ? &cp->rp : NULL, port, s->id);
	return *err ? NULL : cp;
}

static bool port_pending(const struct cport *cp, uint32_t port)
{
	return cp->lab_pending ||
	       (cp->rx && link_pending(cp->rx->rcv.tx, cp->rx->rcv.rx, port));
}

static int fifo_push(struct sim *s, uint32_t port)
{
	if (s->fifo_len == s->fifo_cap) {
		uint32_t cap = s->fifo_cap ? s->fifo_cap * 2 : 64;
		uint32_t *f = malloc(cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		for (uint32_t i = 0; i < s->fifo_len; i++)
			f[i] = s->fifo[(s->fifo_head + i) % s->fifo_cap];
		free(s->fifo);
		s->fifo = f;
		s->fifo_cap = cap;
		s->fifo_head = 0;
	}
	s->fifo[(s->fifo_head + s->fifo_len++) % s->fifo_cap] = port;
	return 0;
}

/* A port became deliverable: queue it once.  Out of memory, the port stays
 * pending and is found again by a scan of its link or at unmask. */
static void queue(struct sim *s, struct cport *cp, uint32_t port)
{
	if (cp->queued || cp->masked || !port_pending(cp, port))
		return;
	if (fifo_push(s, port) == 0)
		cp->queued = true;
}

/* ---- links ----------------------------------------------------------------- */

static struct clink *link_lookup(struct sim *s, uint32_t id)
{
	struct clink *l = s->links[id % LINK_HASH];

	while (l && l->id != id)
		l = l->hnext;
	return l;
}

static void link_unref(struct sim *s, struct clink *l)
{
	struct clink **pp;

	if (!l || --l->refs)
		return;
	for (pp = &s->links[l->id % LINK_HASH]; *pp != l; pp = &(*pp)->hnext)
		;
	*pp = l->hnext;
	for (pp = &s->again; *pp; pp = &(*pp)->again_next)
		if (*pp == l) {
			*pp = l->again_next;
			break;
		}
	if (s->stale == l)
		s->stale = NULL;
	s->rx_stale = true;
	munmap(l->tx_map, LINK_TX_SIZE);
	munmap(l->rx_map, LINK_RX_SIZE);
	if (l->wake >= 0)
		close(l->wake);
	free(l);
}

/* A reference to link @id, mapped on first use. */
static struct clink *link_ref(struct sim *s, uint32_t id, int *err)
{
	struct clink *l = link_lookup(s, id);
	int fds[3] = { -1, -1, -1 }, role;

	if (l) {
		l->refs++;
		return l;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		*err = -ENOMEM;
		return NULL;
	}
	role = request(s, PROTO_GET_LINK, id, 0, &s->aux, fds, 2);
	if (role < 0 || !(role & (PROTO_ROLE_SENDER | PROTO_ROLE_RECEIVER)) ||
	    ((role & PROTO_ROLE_SENDER) && fds[2] < 0)) {
		for (int i = 0; i < 3; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		free(l);
		*err = role < 0 ? role : -EIO;
		return NULL;
	}
	l->id = id;
	l->role = role;
	l->refs = 1;
	l->wake = fds[2];
	l->tx_map = map_fd(fds[0], LINK_TX_SIZE, role & PROTO_ROLE_SENDER);
	l->rx_map = map_fd(fds[1], LINK_RX_SIZE, role & PROTO_ROLE_RECEIVER);
	if (!l->tx_map || !l->rx_map) {
		if (l->tx_map)
			munmap(l->tx_map, LINK_TX_SIZE);
		if (l->rx_map)
			munmap(l->rx_map, LINK_RX_SIZE);
		if (l->wake >= 0)
			close(l->wake);
		free(l);
		*err = -ENOMEM;
		return NULL;
	}
	l->snd.tx = l->tx_map;
	l->snd.rx = l->rx_map;
	l->rcv.tx = l->tx_map;
	l->rcv.rx = l->rx_map;
	/* Carry on where the other side's copies say the link stands. */
	l->snd.head = atomic_load(&l->snd.tx->head);
	l->snd.overflows = atomic_load(&l->snd.tx->overflows);
	l->rcv.tail = atomic_load(&l->rcv.rx->tail);
	l->rcv.overflows_seen = atomic_load(&l->rcv.tx->overflows);
	l->hnext = s->links[id % LINK_HASH];
	s->links[id % LINK_HASH] = l;
	s->rx_stale = true;
	/* A wake-up its sender gave before we knew the link is still in our
	 * epoll set (collect() syncs when it meets an unknown link), and a
	 * port it raised is queued by apply(). */
	return l;
}

/* ---- our copy of the port records ------------------------------------------ */

/* Stop receiving @port on its link: what was pending there goes with it. */
static void detach_rx(struct sim *s, struct cport *cp, uint32_t port)
{
	if (!cp->rx)
		return;
	link_ack(&cp->rx->rcv, port);
	link_unref(s, cp->rx);
	cp->rx = NULL;
}

static void forget(struct sim *s, struct cport *cp, uint32_t port)
{
	detach_rx(s, cp, port);
	link_unref(s, cp->tx);
	memset(cp, 0, sizeof(*cp)); /* the FIFO skips it if it is queued */
}

/*
 * Take in the lab's record of one of our ports.  @fresh: the reply to our own
 * call that bound or adopted it, so it starts a new binding (unmasked, with
 * nothing pending but what the lab raised).
 */
static int apply(struct sim *s, const struct proto_rec *r, bool fresh)
{
	struct clink *rx = NULL, *tx = NULL;
	struct cport *cp;
	int err = 0;

	if (r->port == 0 || r->port >= RULES_MAX_PORTS)
		return -EIO;
	cp = cport_make(s, r->port);
	if (!cp)
		return -ENOMEM;
	if (!r->owned || (fresh && cp->rp.owner)) {
		bool queued = cp->queued;

		forget(s, cp, r->port);
		cp->queued = queued;
		if (!r->owned)
			return 0;
	}
	if (r->state == RULES_INTERDOMAIN) {
		if (r->rx_link && !(rx = link_ref(s, r->rx_link, &err)))
			return err;
		/* A send link can be gone already (the peer closed since the
		 * record was made): our sends then go through the lab, which
		 * finds the channel gone too. */
		if (r->tx_link && !(tx = link_ref(s, r->tx_link, &err)) &&
		    err != -ENOENT) {
			link_unref(s, rx);
			return err;
		}
		if (rx && !(rx->role & PROTO_ROLE_RECEIVER)) {
			link_unref(s, rx);
			link_unref(s, tx);
			return -EIO;
		}
		if (tx && !(tx->role & PROTO_ROLE_SENDER)) {
			link_unref(s, rx);
			link_unref(s, tx);
			return -EIO;
		}
	} else if (r->state == RULES_UNBOUND) {
		/* The peer closed: what it sent before stays pending, on the
		 * link the record names (we may never have seen the channel)
		 * or else on the one we know. */
		if (r->rx_link && (!cp->rx || cp->rx->id != r->rx_link))
			rx = link_ref(s, r->rx_link, &err);
		if (rx && !(rx->role & PROTO_ROLE_RECEIVER)) {
			link_unref(s, rx);
			rx = NULL;
		}
		if (!rx && cp->rx) {
			rx = cp->rx;
			rx->refs++;
		}
	}
	if (cp->rx != rx && cp->rx) {
		if (link_pending(cp->rx->rcv.tx, cp->rx->rcv.rx, r->port))
			cp->lab_pending = true; /* carried over to the new link */
		detach_rx(s, cp, r->port);
	}
	link_unref(s, cp->rx);
	link_unref(s, cp->tx);
	cp->rx = rx;
	cp->tx = tx;
	cp->rp = (struct rules_port){
		.state = r->state,
		.virq = r->virq,
		.remote_dom = (uint16_t)r->remote_dom,
		.remote_port = r->remote_port,
		.owner = s->id,
	};
	if (r->raised)
		cp->lab_pending = true;
	queue(s, cp, r->port);
	return 0;
}

static int sync_from_lab(struct sim *s, uint32_t seq)
{
	int r;

	do {
		r = request(s, PROTO_SYNC, 0, 0, &s->rep, NULL, 0);
		if (r < 0)
			return r;
		for (uint32_t i = 0; i < s->rep.nrec; i++) {
			r = apply(s, &s->rep.rec[i], false);
			if (r < 0) {
				/* A port we cannot follow: stop rather than
				 * lose its events without a word. */
				s->broken = true;
				return -EIO;
			}
		}
	} while (s->rep.flags & PROTO_F_MORE);
	s->synced_seq = seq;
	if (s->fifo_len)
		wake_self(s); /* a port the lab raised, or one carried over */
	return 0;
}

/* Learn what others changed: one load, unless the lab changed our ports. */
static inline int sync_changes(struct sim *s)
{
	uint32_t seq;

	if (s->broken)
		return -EIO;
	seq = atomic_load_explicit(&s->ctl->seq, memory_order_acquire);
	return seq == s->synced_seq ? 0 : sync_from_lab(s, seq);
}

/* Every operation starts here. */
static int begin(struct sim *s)
{
	int r = sync_changes(s);

	if (r)
		return r;
	return s->orphaned ? -ESRCH : 0;
}

/* A request that answers with a new or changed port of ours. */
static int port_request(struct sim *s, uint32_t op, uint32_t a0, uint32_t a1)
{
	int r = begin(s);

	if (r)
		return r;
	r = request(s, op, a0, a1, &s->rep, NULL, 0);
	if (r >= 0 && s->rep.nrec == 1) {
		struct proto_rec rec = s->rep.rec[0];
		int err = apply(s, &rec, op != PROTO_UNBIND);

		if (err) {
			if (rec.owned) /* do not keep a port we cannot use */
				(void)request(s, PROTO_UNBIND, rec.port, 0, &s->aux, NULL, 0);
			return err;
		}
	}
	if (s->fifo_len)
		wake_self(s);
	return r;
}

/* ---- backend ops ----------------------------------------------------------- */

static void sim_free(struct sim *s, bool inherited)
{
	for (unsigned int c = 0; c < NCHUNKS; c++) {
		for (uint32_t i = 0; s->chunk[c] && i < CHUNK_PORTS; i++) {
			link_unref(s, s->chunk[c][i].rx);
			link_unref(s, s->chunk[c][i].tx);
		}
		free(s->chunk[c]);
	}
	free(s->fifo);
	free(s->rx_list);
	if (s->ctl)
		munmap((void *)s->ctl, PROTO_CTL_SIZE);
	if (s->spage)
		munmap((void *)s->spage, STATUS_PAGE_SIZE);
	if (s->self_wake >= 0)
		close(s->self_wake);
	if (s->ep >= 0)
		close(s->ep);
	if (s->sock >= 0)
		close(s->sock);
	if (s->private_lab && !inherited)
		private_lab_release();
	free(s);
}

/* Every request gets an answer within the timeout ($EVTCHNX_LAB_TIMEOUT_MS,
 * else PROTO_DEFAULT_TIMEOUT_MS), or fails with -ETIMEDOUT. */
static void set_timeouts(int sock)
{
	const char *env = getenv("EVTCHNX_LAB_TIMEOUT_MS");
	unsigned long ms = PROTO_DEFAULT_TIMEOUT_MS;
	struct timeval tv;
	char *end;

	if (env && *env) {
		unsigned long v = strtoul(env, &end, 10);

		if (!*end && v > 0 && v <= 3600000ul)
			ms = v;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	(void)setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int hello(struct sim *s, uint32_t domid, uint32_t flags)
{
	struct proto_req rq = { .op = PROTO_HELLO,
				.arg = { domid, PROTO_VERSION,
					 flags & EVTCHNX_OPEN_STRICT ? PROTO_HELLO_STRICT : 0 } };
	const char *token = getenv("EVTCHNX_LAB_TOKEN");
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.u64 = PROTO_WAKE_SELF };
	struct epoll_event eof = { .events = EPOLLIN | EPOLLRDHUP,
				   .data.u64 = PROTO_WAKE_SOCKET };
	int fds[PROTO_MAX_FDS] = { -1, -1, -1 }, r;

	set_timeouts(s->sock);
	if (token && strlen(token) == PROTO_TOKEN_LEN)
		memcpy(rq.token, token, PROTO_TOKEN_LEN);
	r = request3(s, &rq, sizeof(rq), &s->rep, fds, 2);
	if (r < 0)
		return r;
	s->id = (uint32_t)r;
	s->ctl = map_fd(fds[0], PROTO_CTL_SIZE, false);
	s->ep = fds[1];
	/* The status page comes to the control domain only. */
	if (fds[2] >= 0 && !(s->spage = map_fd(fds[2], STATUS_PAGE_SIZE, false)))
		return -ENOMEM;
	if (!s->ctl)
		return -ENOMEM;
	s->self_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->self_wake < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->self_wake, &ev) < 0 ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->sock, &eof) < 0)
		return -errno;
	return 0;
}

static int sim_open(struct evtchnx_handle *h, const char *name,
		    const struct evtchnx_open_opts *opts)
{
	struct sim *s;
	int r;

	for (int attempt = 0;; attempt++) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->ep = s->self_wake = -1;
		s->private_lab = name == NULL;
		s->sock = name ? lab_connect(name, opts->flags) : private_lab_connect();
		if (s->sock < 0) {
			r = s->sock;
			s->private_lab = false; /* nothing to release */
			goto fail;
		}
		r = hello(s, opts->domid, opts->flags);
		/* -EIO: a shared lab's server retired as we connected: again. */
		if (r != -EIO || !name || attempt == 4)
			break;
		sim_free(s, false);
	}
	if (r < 0)
		goto fail;
	s->domid = (uint16_t)opts->domid;
	h->priv = s;
	h->fd = s->ep;
	h->domid = s->domid;
	return 0;
fail:
	sim_free(s, false);
	return r;
}

static void sim_close(struct evtchnx_handle *h, bool inherited)
{
	struct sim *s = sim_of(h);

	if (!inherited && !s->broken) {
		struct proto_req bye = { .op = PROTO_BYE };
		int fds[PROTO_MAX_FDS];
		unsigned int nfds;

		/* Wait for the answer: when close returns, the lab has closed
		 * our ports. */
		if (proto_send(s->sock, &bye, sizeof(bye), NULL, 0) == 0 &&
		    proto_recv(s->sock, &s->rep, sizeof(s->rep), fds, &nfds) >= 0)
			for (unsigned int i = 0; i < nfds; i++)
				close(fds[i]);
	}
	sim_free(s, inherited);
}

static int sim_alloc_unbound(struct evtchnx_handle *h, uint32_t dom,
			     uint32_t remote_dom)
{
	return port_request(sim_of(h), PROTO_ALLOC_UNBOUND, dom, remote_dom);
}

static int sim_bind_interdomain(struct evtchnx_handle *h, uint32_t remote_dom,
				uint32_t remote_port)
{
	return port_request(sim_of(h), PROTO_BIND_INTERDOMAIN, remote_dom,
			    remote_port);
}

static int sim_bind_virq(struct evtchnx_handle *h, uint32_t virq)
{
	return port_request(sim_of(h), PROTO_BIND_VIRQ, virq, 0);
}

static int sim_adopt(struct evtchnx_handle *h, uint32_t port)
{
	return port_request(sim_of(h), PROTO_ADOPT, port, 0);
}

static int sim_unbind(struct evtchnx_handle *h, uint32_t port)
{
	struct sim *s = sim_of(h);
	int r = begin(s);

	if (!r)
		(void)own(s, port, &r); /* the contract's -EINVAL/-ENOTCONN */
	if (r)
		return r;
	return port_request(s, PROTO_UNBIND, port, 0);
}

/* ---- batches ---------------------------------------------------------------- */

/*
 * One batch request of @count (<= PROTO_MAX_RECS) operations that answer
 * with a record each; ports the batch obtained go to @ports (may be NULL).
 * Returns how many succeeded, or the first one's error.
 */
static int batch_request(struct sim *s, struct proto_req_n *rqn,
			 unsigned int count, uint32_t *ports)
{
	size_t len = rqn->rq.op == PROTO_ALLOC_UNBOUND_N ? sizeof(rqn->rq) :
		     PROTO_REQ_N_SIZE(count);
	int r = request3(s, &rqn->rq, len, &s->rep, NULL, 0);
	unsigned int done;

	if (r < 0)
		return r;
	done = (unsigned int)r;
	if (done > count || s->rep.nrec != done) {
		s->broken = true;
		return -EIO;
	}
	for (unsigned int i = 0; i < done; i++) {
		struct proto_rec rec = s->rep.rec[i];
		int err;

		if (ports)
			ports[i] = rec.port;
		if (rec.owned == PROTO_REC_FOREIGN) {
			if (rqn->rq.op != PROTO_ALLOC_UNBOUND_N)
				goto nonsense;
			continue;
		}
		err = apply(s, &rec, rqn->rq.op != PROTO_UNBIND_N);
		if (!err)
			continue;
		/* Ports we cannot use are not kept: give back this one and
		 * the rest the batch obtained. */
		if (rqn->rq.op != PROTO_UNBIND_N) {
			for (unsigned int k = i; k < done; k++)
				(void)request(s, PROTO_UNBIND, s->rep.rec[k].port, 0,
					      &s->aux, NULL, 0);
		}
		return i ? (int)i : err;
	}
	return (int)done;
nonsense:
	s->broken = true;
	return -EIO;
}

/* Run @n operations in requests of up to PROTO_MAX_RECS: the sendmmsg
 * convention of the batch calls. */
static int batch_run(struct sim *s, struct proto_req_n *rqn, uint32_t *count_arg,
		     const uint32_t *in, uint32_t *out, unsigned int n)
{
	unsigned int done = 0;
	int r = begin(s);

	if (r)
		return r;
	while (done < n) {
		unsigned int chunk = n - done < PROTO_MAX_RECS ? n - done : PROTO_MAX_RECS;

		*count_arg = chunk;
		if (in)
			memcpy(rqn->ports, in + done, chunk * sizeof(*in));
		r = batch_request(s, rqn, chunk, out ? out + done : NULL);
		if (r < 0)
			break;
		done += (unsigned int)r;
		if ((unsigned int)r < chunk)
			break; /* the next call reports the failure */
	}
	if (s->fifo_len)
		wake_self(s);
	return done ? (int)done : r;
}

static int sim_alloc_unbound_batch(struct evtchnx_handle *h, uint32_t dom,
				   uint32_t remote_dom, uint32_t *ports,
				   unsigned int n)
{
	struct proto_req_n rqn = { .rq = { .op = PROTO_ALLOC_UNBOUND_N,
					   .arg = { dom, remote_dom, 0 } } };

	return batch_run(sim_of(h), &rqn, &rqn.rq.arg[2], NULL, ports, n);
}

static int sim_bind_interdomain_batch(struct evtchnx_handle *h,
				      uint32_t remote_dom,
				      const uint32_t *remote_ports,
				      uint32_t *ports, unsigned int n)
{
	struct proto_req_n rqn = { .rq = { .op = PROTO_BIND_INTERDOMAIN_N,
					   .arg = { remote_dom, 0, 0 } } };

	return batch_run(sim_of(h), &rqn, &rqn.rq.arg[1], remote_ports, ports, n);
}

static int sim_unbind_batch(struct evtchnx_handle *h, const uint32_t *ports,
			    unsigned int n)
{
	struct proto_req_n rqn = { .rq = { .op = PROTO_UNBIND_N } };
	struct sim *s = sim_of(h);
	unsigned int ok = 0;
	int r = begin(s);

	if (r)
		return r;
	/* The contract's -EINVAL/-ENOTCONN, as sim_unbind() checks them: the
	 * batch stops before the first port that fails them. */
	while (ok < n && own(s, ports[ok], &r))
		ok++;
	if (!ok)
		return r;
	return batch_run(s, &rqn, &rqn.rq.arg[0], ports, NULL, ok);
}

static int sim_send(struct evtchnx_handle *h, uint32_t port)
{
	struct sim *s = sim_of(h);
	struct cport *cp;
	int r = begin(s);

	if (r || !(cp = own(s, port, &r)))
		return r;
	r = rules_send_action(&cp->rp);
	if (r != RULES_SEND_REMOTE)
		return r; /* RULES_SEND_DROP (0: the event is dropped) or -EINVAL */
	if (cp->tx && cp->rp.remote_port < RULES_MAX_PORTS) {
		if (link_raise(&cp->tx->snd, cp->rp.remote_port))
			(void)eventfd_write(cp->tx->wake, 1);
		return 0;
	}
	/* The peer end has no owner yet: the lab latches the event. */
	return request(s, PROTO_SEND, port, 0, &s->rep, NULL, 0);
}

/*
 * Status from the status page, with rules_status()'s answers.  Only handles
 * of the control domain get the page (the lab decides): they may look at
 * any domain, and their own domain is never destroyed under them.  Returns
 * 1 when the page cannot say (no page, or a server that kept writing):
 * then the server must be asked.
 */
static int status_from_page(struct sim *s, uint32_t dom, uint32_t port,
			    struct evtchnx_status *st)
{
	int r;

	if (!s->spage)
		return 1;
	r = status_page_read(s->spage, dom == RULES_DOMID_SELF ? s->domid : dom,
			     port, st);
	return r == -EAGAIN ? 1 : r;
}

static int sim_status(struct evtchnx_handle *h, uint32_t dom, uint32_t port,
		      struct evtchnx_status *st)
{
	struct sim *s = sim_of(h);
	int r = begin(s);

	if (r)
		return r;
	r = status_from_page(s, dom, port, st);
	if (r <= 0)
		return r;
	r = request(s, PROTO_STATUS, dom, port, &s->rep, NULL, 0);
	if (r < 0)
		return r;
	st->state = s->rep.status.state;
	st->vcpu = s->rep.status.vcpu;
	st->remote_domid = s->rep.status.remote_domid;
	st->remote_port = s->rep.status.remote_port;
	st->virq = s->rep.status.virq;
	return 0;
}

/* Status of many ports: from the status page if we have it, else in
 * requests of up to PROTO_MAX_RECS. */
static int status_batch_request(struct sim *s, uint32_t dom, const uint32_t *ports,
				char *st, size_t stride, unsigned int count)
{
	struct proto_req_n rqn = { .rq = { .op = PROTO_STATUS_N,
					   .arg = { dom, count, 0 } } };
	int r;

	memcpy(rqn.ports, ports, count * sizeof(*ports));
	r = request3(s, &rqn.rq, PROTO_REQ_N_SIZE(count), &s->rep, NULL, 0);
	if (r < 0)
		return r;
	if ((unsigned int)r > count || s->rep.nrec != (unsigned int)r) {
		s->broken = true;
		return -EIO;
	}
	for (int i = 0; i < r; i++) {
		const struct proto_rec *rec = &s->rep.rec[i];
		struct evtchnx_status full = { .sz = sizeof(full),
					       .state = rec->state,
					       .remote_domid = rec->remote_dom,
					       .remote_port = rec->remote_port,
					       .virq = rec->virq };

		if (rec->owned != PROTO_REC_STATUS || rec->port != ports[i]) {
			s->broken = true;
			return -EIO;
		}
		evtchnx_copy_status(st + (size_t)i * stride, stride, &full);
	}
	return r;
}

static int sim_status_batch(struct evtchnx_handle *h, uint32_t dom,
			    const uint32_t *ports, struct evtchnx_status *st,
			    unsigned int n)
{
	struct sim *s = sim_of(h);
	size_t stride = st->sz;
	unsigned int done = 0;
	int r = begin(s);

	if (r)
		return r;
	while (done < n) {
		struct evtchnx_status full = { .sz = sizeof(full) };
		char *out = (char *)st + (size_t)done * stride;
		unsigned int chunk;

		r = status_from_page(s, dom, ports[done], &full);
		if (r == 0) {
			evtchnx_copy_status(out, stride, &full);
			done++;
			continue;
		}
		if (r < 0)
			break;
		chunk = n - done < PROTO_MAX_RECS ? n - done : PROTO_MAX_RECS;
		r = status_batch_request(s, dom, ports + done, out, stride, chunk);
		if (r < 0)
			break;
		done += (unsigned int)r;
		if ((unsigned int)r < chunk)
			break; /* the next call reports the failure */
	}
	return done ? (int)done : r;
}

static int simple_request(struct evtchnx_handle *h, uint32_t op, uint32_t a0,
			  uint32_t a1)
{
	struct sim *s = sim_of(h);
	int r = begin(s);

	if (r)
		return r;
	r = request(s, op, a0, a1, &s->rep, NULL, 0);
	/* The lab may have changed our ports (reset): learn it now. */
	if (r >= 0 && !s->broken) {
		int e = sync_changes(s);

		if (e)
			return e;
	}
	return r;
}

static int sim_reset(struct evtchnx_handle *h, uint32_t dom)
{
	return simple_request(h, PROTO_RESET, dom, 0);
}

static int sim_restrict(struct evtchnx_handle *h, uint32_t domid)
{
	return simple_request(h, PROTO_RESTRICT, domid, 0);
}

static int sim_domain_create(struct evtchnx_handle *h, uint32_t domid)
{
	return simple_request(h, PROTO_DOMAIN_CREATE, domid, 0);
}

static int sim_domain_destroy(struct evtchnx_handle *h, uint32_t domid)
{
	return simple_request(h, PROTO_DOMAIN_DESTROY, domid, 0);
}

static int sim_domain_grant(struct evtchnx_handle *h, uint32_t domid,
			    char *token)
{
	struct sim *s = sim_of(h);
	int r = simple_request(h, PROTO_DOMAIN_GRANT, domid, 0);

	if (r < 0)
		return r;
	memcpy(token, s->rep.token, PROTO_TOKEN_LEN);
	token[PROTO_TOKEN_LEN] = '\0';
	return 0;
}

static int sim_raise_virq(struct evtchnx_handle *h, uint32_t domid,
			  uint32_t virq)
{
	return simple_request(h, PROTO_RAISE_VIRQ, domid, virq);
}

/* ---- delivery -------------------------------------------------------------- */

/* A port number read from link @l: honoured only if its events arrive there. */
static void receive(struct sim *s, struct clink *l, uint32_t port)
{
	struct cport *cp = cport_get(s, port);

	if (!cp || !cp->rp.owner || cp->rx != l) {
		s->stale = l; /* perhaps a binding we have yet to learn */
		return;
	}
	queue(s, cp, port);
}

static void receive_cb(void *ctx, uint32_t port)
{
	struct sim *s = ctx;
	struct cport *cp = cport_get(s, port);

	if (cp && cp->rp.owner && cp->rx) /* queue() checks its own link */
		queue(s, cp, port);
}

/* Read what link @l's ring holds: a bounded amount per call, whatever the
 * sender writes meanwhile. */
static void drain(struct sim *s, struct clink *l)
{
	for (int round = 0; round < DRAIN_ROUNDS; round++) {
		int n = link_read(&l->rcv, s->ring, LINK_RING);

		if (n < 0)
			link_scan(&l->rcv, receive_cb, s);
		for (int i = 0; i < n; i++)
			receive(s, l, s->ring[i]);
		if (n == (int)LINK_RING)
			continue; /* there may be more */
		if (!link_receiver_idle(&l->rcv))
			return;
	}
	/* The sender keeps writing: read on at the next call. */
	if (!l->again) {
		l->again = true;
		l->again_next = s->again;
		s->again = l;
	}
	wake_self(s);
}

/* Our connection is readable, which it only is at EOF: the lab server
 * went away (or spoke unasked, which is as bad). */
static void check_server(struct sim *s)
{
	char byte;
	ssize_t n = recv(s->sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n >= 0 || (errno != EAGAIN && errno != EINTR))
		s->broken = true;
}

/* Read on the links that had more than one call reads. */
static void drain_again(struct sim *s)
{
	struct clink *l;

	while ((l = s->again)) {
		s->again = l->again_next;
		l->again = false;
		drain(s, l);
		if (l->again)
			break; /* still busy: it is back on the list */
	}
}

/* Take in what epoll said woke (@n < 0: nothing). */
static void take_events(struct sim *s, const struct epoll_event *evs, int n)
{
	struct clink *l;

	for (int i = 0; i < n; i++) {
		uint64_t id = evs[i].data.u64;

		if (id == PROTO_WAKE_SELF) {
			s->self_armed = false;
			continue;
		}
		if (id == PROTO_WAKE_SOCKET) {
			check_server(s);
			continue;
		}
		if (id == PROTO_WAKE_LAB) {
			(void)sync_changes(s); /* a record carries the news */
			continue;
		}
		if (id > UINT32_MAX)
			continue;
		l = link_lookup(s, (uint32_t)id);
		if (!l && sync_changes(s) == 0) /* a link we are about to learn */
			l = link_lookup(s, (uint32_t)id);
		if (l && (l->role & PROTO_ROLE_RECEIVER))
			drain(s, l);
	}
	/* More links woke than we took, or a link has more to read: our own
	 * wake-up must stand (the epoll_wait() that found these may have
	 * collected the one drain() counted on). */
	if (n == COLLECT_MAX || s->again)
		wake_self(s);
	/* A port read from a link before we learnt of its binding: the lab
	 * announced the binding before the sender could use it. */
	if (s->stale && sync_changes(s) == 0 && s->stale) {
		link_scan(&s->stale->rcv, receive_cb, s);
		s->stale = NULL;
	}
}

/* Collect the links that woke and read them into the FIFO. */
static void collect(struct sim *s)
{
	struct epoll_event evs[COLLECT_MAX];

	drain_again(s);
	take_events(s, evs, epoll_wait(s->ep, evs, COLLECT_MAX, 0));
}

/* Hand out up to @max ports from the FIFO, taking and masking each. */
static unsigned int deliver(struct sim *s, uint32_t *ports, unsigned int max)
{
	unsigned int n = 0;

	while (n < max && s->fifo_len) {
		uint32_t port = s->fifo[s->fifo_head];
		struct cport *cp = cport_get(s, port);

		s->fifo_head = (s->fifo_head + 1) % s->fifo_cap;
		s->fifo_len--;
		if (!cp || !cp->queued)
			continue;
		cp->queued = false;
		if (!cp->rp.owner || cp->masked || !port_pending(cp, port))
			continue;
		cp->lab_pending = false;
		if (cp->rx)
			link_ack(&cp->rx->rcv, port);
		cp->masked = true;
		ports[n++] = port;
	}
	return n;
}

static int sim_pending(struct evtchnx_handle *h, uint32_t *ports,
		       unsigned int max)
{
	struct sim *s = sim_of(h);
	unsigned int n;
	int r = begin(s);

	if (r)
		return r;
	n = deliver(s, ports, max);
	if (n < max || !s->fifo_len) {
		/* Also when the FIFO just ran dry: a wake-up left over from
		 * what it held is cleared, so a spurious one does not last. */
		collect(s);
		if (s->broken && !n)
			return -EIO;
		n += deliver(s, ports + n, max - n);
	}
	if (s->fifo_len)
		wake_self(s); /* more to hand out: keep the fd readable */
	return (int)n;
}

/* ---- waiting ------------------------------------------------------------------ */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* List the links we receive on again (they changed).  Out of memory, the
 * list stays stale and each_rx_link() walks the hash instead. */
static void rx_list_make(struct sim *s)
{
	unsigned int n = 0;

	for (unsigned int b = 0; b < LINK_HASH; b++)
		for (struct clink *l = s->links[b]; l; l = l->hnext)
			n += !!(l->role & PROTO_ROLE_RECEIVER);
	if (n > s->rx_cap) {
		struct clink **list = realloc(s->rx_list, n * sizeof(*list));

		if (!list)
			return;
		s->rx_list = list;
		s->rx_cap = n;
	}
	s->nrx = 0;
	for (unsigned int b = 0; b < LINK_HASH; b++)
		for (struct clink *l = s->links[b]; l; l = l->hnext)
			if (l->role & PROTO_ROLE_RECEIVER)
				s->rx_list[s->nrx++] = l;
	s->rx_stale = false;
}

/* Every link this handle receives on, for @fn (which must not add or drop
 * links). */
static bool each_rx_link(struct sim *s, bool (*fn)(struct sim *s, struct clink *l))
{
	bool any = false;

	if (s->rx_stale)
		rx_list_make(s);
	if (!s->rx_stale) {
		for (unsigned int i = 0; i < s->nrx; i++)
			any |= fn(s, s->rx_list[i]);
		return any;
	}
	for (unsigned int b = 0; b < LINK_HASH; b++)
		for (struct clink *l = s->links[b]; l; l = l->hnext)
			if (l->role & PROTO_ROLE_RECEIVER)
				any |= fn(s, l);
	return any;
}

static bool start_polling(struct sim *s, struct clink *l)
{
	(void)s;
	link_start_polling(&l->rcv);
	return false;
}

static bool stop_polling(struct sim *s, struct clink *l)
{
	(void)s;
	return link_stop_polling(&l->rcv);
}

/* Read a link whose ring moved (a sender may have skipped the wake-up). */
static bool drain_news(struct sim *s, struct clink *l)
{
	if (!link_has_news(&l->rcv))
		return false;
	drain(s, l);
	return true;
}

/* Whether something arrived that needs no system call to see. */
static bool news(struct sim *s)
{
	return s->fifo_len || s->again || s->broken ||
	       atomic_load_explicit(&s->ctl->seq, memory_order_relaxed) != s->synced_seq ||
	       each_rx_link(s, drain_news);
}

/*
 * Busy-poll for up to h->busy_poll_ns, and not past @deadline_ms (0: none):
 * look at the links' rings, with the senders told not to write our wake-ups
 * meanwhile, and let other threads call the handle between looks.  Returns
 * true when something arrived.
 */
static bool spin(struct evtchnx_handle *h, struct sim *s, int64_t deadline_ms)
{
	int64_t until = evtchnx_now_ns() + (int64_t)h->busy_poll_ns;
	bool found;

	if (deadline_ms && until > deadline_ms * 1000000)
		until = deadline_ms * 1000000; /* never past the wait's timeout */

	each_rx_link(s, start_polling);
	for (unsigned int round = 1;; round++) {
		found = news(s);
		if (found)
			break;
		cpu_relax();
		/* Now and then: read the clock, and let other threads in. */
		if (round % SPIN_ROUNDS)
			continue;
		if (evtchnx_now_ns() >= until)
			break;
		evtchnx_core_release(h);
		evtchnx_core_reacquire(h);
	}
	/* A sender that saw us polling wrote no wake-up: look once more. */
	if (each_rx_link(s, stop_polling))
		found |= each_rx_link(s, drain_news);
	return found;
}

/*
 * evtchnx_wait() without a system call more than it needs: ports already
 * collected are handed out at once, then the handle sleeps in epoll_wait()
 * on its own epoll set (the lock released) and takes in what woke it.
 */
static int sim_wait(struct evtchnx_handle *h, int timeout_ms)
{
	struct sim *s = sim_of(h);
	int64_t deadline = timeout_ms > 0 ? evtchnx_now_ms() + timeout_ms : 0;
	bool spun = !h->busy_poll_ns || timeout_ms == 0;
	uint32_t port;

	for (;;) {
		struct epoll_event evs[COLLECT_MAX];
		int r = begin(s), n, err, wait_ms = -1;

		if (r)
			return r;
		drain_again(s);
		if (deliver(s, &port, 1))
			break;
		if (timeout_ms == 0) {
			collect(s);
			if (deliver(s, &port, 1))
				break;
			return s->broken ? -EIO : -ETIMEDOUT;
		}
		if (!spun) {
			spun = true;
			if (spin(h, s, deadline))
				continue;
		}
		if (timeout_ms > 0) {
			int64_t left = deadline - evtchnx_now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			wait_ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		evtchnx_core_release(h);
		n = epoll_wait(s->ep, evs, COLLECT_MAX, wait_ms);
		err = errno;
		evtchnx_core_reacquire(h);
		if (n < 0 && err != EINTR)
			return -err;
		take_events(s, evs, n);
		if (deliver(s, &port, 1))
			break;
		if (s->broken)
			return -EIO;
		if (n < 0)
			return -EINTR;
	}
	/* Our own wake-up was written for what the FIFO held: now that it is
	 * empty, clear it as pending() would, so it does not linger. */
	if (!s->fifo_len && s->self_armed)
		collect(s);
	if (s->fifo_len)
		wake_self(s); /* more to hand out: keep the fd readable */
	return (int)port;
}

static int sim_unmask(struct evtchnx_handle *h, uint32_t port)
{
	struct sim *s = sim_of(h);
	struct cport *cp;
	int r = begin(s);

	if (r || !(cp = own(s, port, &r)))
		return r;
	if (!cp->masked)
		return 0;
	cp->masked = false;
	queue(s, cp, port);
	if (cp->queued)
		wake_self(s);
	return 0;
}

static int sim_is_pending(struct evtchnx_handle *h, uint32_t port)
{
	struct sim *s = sim_of(h);
	struct cport *cp;
	int r = begin(s);

	if (r || !(cp = own(s, port, &r)))
		return r;
	return port_pending(cp, port);
}

const struct evtchnx_backend_ops evtchnx_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.alloc_unbound = sim_alloc_unbound,
	.bind_interdomain = sim_bind_interdomain,
	.bind_virq = sim_bind_virq,
	.adopt = sim_adopt,
	.send = sim_send,
	.unbind = sim_unbind,
	.status = sim_status,
	.reset = sim_reset,
	.restrict_domid = sim_restrict,
	.pending = sim_pending,
	.unmask = sim_unmask,
	.is_pending = sim_is_pending,
	.wait = sim_wait,
	.alloc_unbound_batch = sim_alloc_unbound_batch,
	.bind_interdomain_batch = sim_bind_interdomain_batch,
	.unbind_batch = sim_unbind_batch,
	.status_batch = sim_status_batch,
	.domain_create = sim_domain_create,
	.domain_destroy = sim_domain_destroy,
	.domain_grant = sim_domain_grant,
	.raise_virq = sim_raise_virq,
};
