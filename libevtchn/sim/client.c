/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * client.c - the sim backend: a handle's side of a lab.
 *
 * Control operations are requests to the lab server (proto.h).  Events take
 * the short path: send sets the peer port's bit in the inbox its owner keeps
 * for our domain and, when the 2-level rules say so, writes the owner's
 * doorbell; pending scans our own inboxes.  The handle keeps a copy of each
 * of its ports' records (from replies, and from PROTO_SYNC whenever the
 * server's sequence number in the control page moved) and only honours a
 * bit in the inbox that the port's record says holds it.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "event_2l.h"
#include "labdir.h"
#include "private_lab.h"
#include "proto.h"
#include "rules.h"

/* An inbox we receive on: the bits of our ports bound to peer @home. */
struct rx_box {
	uint16_t home;
	struct e2l_inbox *map;
	uint64_t honour[E2L_WORDS];
};

/* Where our sends on a port land: the inbox peer handle @serial keeps for
 * our domain, and its doorbell. */
struct tx_target {
	uint32_t serial;
	unsigned int refs;
	struct e2l_inbox *map;
	int doorbell;
};

struct cport {
	struct rules_port rp; /* rp.owner == our id while we own the port */
	struct rx_box *rx;
	struct tx_target *tx;
};

/* How often the doorbell is read again for a write still on its way, and
 * then how long it is waited for at most (a sender descheduled between its
 * kick and its write, or killed there). */
#define QUIET_SPINS 64
#define QUIET_WAIT_MS 100
/* How often pending() looks again for events raised while it quieted. */
#define QUIET_ROUNDS 8

struct sim {
	int sock;
	bool private_lab;
	bool orphaned;
	bool broken;
	/* Doorbell units owed: kicks taken back and own writes, less the
	 * units read (see quiet_doorbell()). */
	int64_t doorbell_debt;
	uint32_t id;
	uint16_t domid;
	int doorbell;
	struct proto_ctl_page *ctl;
	uint32_t synced_seq;
	struct rx_box **rx;
	unsigned int nrx;
	struct tx_target **tx;
	unsigned int ntx;
	struct proto_rep rep; /* replies to the operation in progress */
	struct proto_rep aux; /* replies to the requests made while applying it */
	struct cport port[RULES_MAX_PORTS];
};

static struct sim *sim_of(struct evtchnx_handle *h)
{
	return h->priv;
}

/* ---- talking to the lab ---------------------------------------------------- */

static int request(struct sim *s, uint32_t op, uint32_t a0, uint32_t a1,
		   struct proto_rep *rep, int *fds, unsigned int nfds_want)
{
	struct proto_req rq = { .op = op, .arg = { a0, a1, 0 } };
	int got[PROTO_MAX_FDS];
	unsigned int ngot = 0;
	ssize_t n;

	if (s->broken)
		return -EIO;
	if (proto_send(s->sock, &rq, sizeof(rq), NULL, 0) < 0)
		goto broken;
	n = proto_recv(s->sock, rep, sizeof(*rep), got, &ngot);
	if (n < (ssize_t)PROTO_REP_SIZE(0) || rep->op != op ||
	    rep->nrec > PROTO_MAX_RECS || n != (ssize_t)PROTO_REP_SIZE(rep->nrec))
		goto broken_fds;
	if (rep->result >= 0 && ngot != nfds_want)
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

static void *map_fd(int fd, size_t size)
{
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

static void kick_self(struct sim *s)
{
	if (eventfd_write(s->doorbell, 1) == 0)
		s->doorbell_debt++;
}

/* ---- inboxes we receive on ------------------------------------------------- */

static struct rx_box *find_rx(struct sim *s, uint16_t home)
{
	for (unsigned int i = 0; i < s->nrx; i++)
		if (s->rx[i]->home == home)
			return s->rx[i];
	return NULL;
}

static struct rx_box *get_rx(struct sim *s, uint32_t port, uint16_t home,
			     int *err)
{
	struct rx_box *rx = find_rx(s, home), **grown;
	int fd;

	if (rx)
		return rx;
	grown = realloc(s->rx, (s->nrx + 1) * sizeof(*grown));
	rx = calloc(1, sizeof(*rx));
	if (grown)
		s->rx = grown;
	if (!grown || !rx) {
		free(rx);
		*err = -ENOMEM;
		return NULL;
	}
	*err = request(s, PROTO_GET_INBOX, port, 0, &s->aux, &fd, 1);
	if (*err < 0) {
		free(rx);
		return NULL;
	}
	rx->home = home;
	rx->map = map_fd(fd, E2L_INBOX_SIZE);
	if (!rx->map) {
		free(rx);
		*err = -ENOMEM;
		return NULL;
	}
	s->rx[s->nrx++] = rx;
	return rx;
}

static void honour(struct sim *s, struct cport *cp, uint32_t port,
		   struct rx_box *rx)
{
	if (cp->rx == rx)
		return;
	if (cp->rx)
		cp->rx->honour[e2l_word(port)] &= ~e2l_bit(port);
	cp->rx = rx;
	if (!rx)
		return;
	rx->honour[e2l_word(port)] |= e2l_bit(port);
	if (e2l_deliverable(rx->map, port))
		kick_self(s); /* an event that came before we knew the binding */
}

/* ---- targets we send to ---------------------------------------------------- */

static void tx_put(struct sim *s, struct cport *cp)
{
	struct tx_target *t = cp->tx;

	cp->tx = NULL;
	if (!t || --t->refs)
		return;
	for (unsigned int i = 0; i < s->ntx; i++) {
		if (s->tx[i] == t) {
			s->tx[i] = s->tx[--s->ntx];
			break;
		}
	}
	munmap(t->map, E2L_INBOX_SIZE);
	close(t->doorbell);
	free(t);
}

/* Point @cp at the handle with @serial.  On failure the port stays without
 * a target and its sends go through the lab server, which is slower but
 * equally correct. */
static void tx_get(struct sim *s, struct cport *cp, uint32_t port,
		   uint32_t serial)
{
	struct tx_target *t = NULL, **grown;
	int fds[2], r;

	if (cp->tx && cp->tx->serial == serial)
		return;
	tx_put(s, cp);
	if (!serial)
		return;
	for (unsigned int i = 0; i < s->ntx; i++)
		if (s->tx[i]->serial == serial)
			t = s->tx[i];
	if (t) {
		t->refs++;
		cp->tx = t;
		return;
	}
	grown = realloc(s->tx, (s->ntx + 1) * sizeof(*grown));
	if (!grown)
		return;
	s->tx = grown;
	r = request(s, PROTO_GET_TARGET, port, 0, &s->aux, fds, 2);
	if (r < 0)
		return;
	t = calloc(1, sizeof(*t));
	if (!t || (uint32_t)r != serial) {
		free(t);
		close(fds[0]);
		close(fds[1]);
		return; /* changed meanwhile: a sync will follow */
	}
	t->map = map_fd(fds[0], E2L_INBOX_SIZE);
	if (!t->map) {
		close(fds[1]);
		free(t);
		return;
	}
	t->serial = serial;
	t->refs = 1;
	t->doorbell = fds[1];
	s->tx[s->ntx++] = t;
	cp->tx = t;
}

/* ---- our copy of the port records ------------------------------------------ */

static void forget(struct sim *s, struct cport *cp, uint32_t port)
{
	honour(s, cp, port, NULL);
	tx_put(s, cp);
	memset(&cp->rp, 0, sizeof(cp->rp));
}

/*
 * Take in the lab's record of one of our ports.  @lazy: a fresh UNBOUND port
 * needs no inbox yet (none of its events can arrive before it is bound).
 */
static int apply(struct sim *s, const struct proto_rec *r, bool lazy)
{
	struct cport *cp;
	struct rx_box *rx;
	uint16_t home;
	int err = 0;

	if (r->port == 0 || r->port >= RULES_MAX_PORTS)
		return -EIO;
	cp = &s->port[r->port];
	if (!r->owned) {
		forget(s, cp, r->port);
		return 0;
	}
	cp->rp = (struct rules_port){
		.state = r->state,
		.virq = r->virq,
		.remote_dom = r->remote_dom,
		.remote_port = r->remote_port,
		.owner = s->id,
	};
	home = rules_home(&cp->rp, s->domid);
	rx = find_rx(s, home);
	if (!rx && !(lazy && r->state == RULES_UNBOUND)) {
		rx = get_rx(s, r->port, home, &err);
		if (!rx) {
			forget(s, cp, r->port);
			return err;
		}
	}
	honour(s, cp, r->port, rx);
	if (r->state == RULES_INTERDOMAIN)
		tx_get(s, cp, r->port, r->target);
	else
		tx_put(s, cp);
	return 0;
}

static int sync_from_lab(struct sim *s, uint32_t seq)
{
	int r;

	do {
		r = request(s, PROTO_SYNC, 0, 0, &s->rep, NULL, 0);
		if (r < 0)
			return r;
		for (uint32_t i = 0; i < s->rep.nrec; i++)
			(void)apply(s, &s->rep.rec[i], false);
	} while (s->rep.flags & PROTO_F_MORE);
	s->synced_seq = seq;
	return 0;
}

/* Every call starts with this: one load, unless the lab changed our ports. */
static inline int sync_changes(struct sim *s)
{
	uint32_t seq;

	if (s->broken)
		return -EIO;
	seq = atomic_load_explicit(&s->ctl->seq, memory_order_acquire);
	return seq == s->synced_seq ? 0 : sync_from_lab(s, seq);
}

/* Every operation starts here: learn what others changed. */
static int enter(struct sim *s)
{
	int r = sync_changes(s);

	if (r)
		return r;
	return s->orphaned ? -ESRCH : 0;
}

static inline struct cport *own(struct sim *s, uint32_t port, int *err)
{
	struct cport *cp = port < RULES_MAX_PORTS ? &s->port[port] : NULL;

	*err = rules_check_own_port(cp ? &cp->rp : NULL, port, s->id);
	return *err ? NULL : cp;
}

/* A request that answers with a new or changed port of ours. */
static int port_request(struct sim *s, uint32_t op, uint32_t a0, uint32_t a1,
			bool lazy)
{
	int r = enter(s);

	if (r)
		return r;
	r = request(s, op, a0, a1, &s->rep, NULL, 0);
	if (r >= 0 && s->rep.nrec == 1) {
		struct proto_rec rec = s->rep.rec[0];
		int err = apply(s, &rec, lazy);

		if (err) {
			if (rec.owned) /* do not keep a port we cannot use */
				(void)request(s, PROTO_UNBIND, rec.port, 0, &s->aux, NULL, 0);
			return err;
		}
	}
	return r;
}

/* ---- backend ops ----------------------------------------------------------- */

static void sim_free(struct sim *s, bool inherited)
{
	for (uint32_t p = 0; p < RULES_MAX_PORTS; p++)
		tx_put(s, &s->port[p]);
	for (unsigned int i = 0; i < s->nrx; i++) {
		munmap(s->rx[i]->map, E2L_INBOX_SIZE);
		free(s->rx[i]);
	}
	free(s->rx);
	free(s->tx);
	if (s->ctl)
		munmap(s->ctl, 4096);
	if (s->doorbell >= 0)
		close(s->doorbell);
	if (s->sock >= 0)
		close(s->sock);
	if (s->private_lab && !inherited)
		private_lab_release();
	free(s);
}

static int hello(struct sim *s, uint32_t domid)
{
	int fds[2], r = request(s, PROTO_HELLO, domid, PROTO_VERSION, &s->rep, fds, 2);

	if (r < 0)
		return r;
	s->id = (uint32_t)r;
	s->doorbell = fds[0];
	s->ctl = map_fd(fds[1], 4096);
	return s->ctl ? 0 : -ENOMEM;
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
		s->doorbell = -1;
		s->private_lab = name == NULL;
		s->sock = name ? lab_connect(name, opts->flags) : private_lab_connect();
		if (s->sock < 0) {
			r = s->sock;
			s->private_lab = false; /* nothing to release */
			goto fail;
		}
		r = hello(s, opts->domid);
		/* -EIO: a shared lab's server retired as we connected: again. */
		if (r != -EIO || !name || attempt == 4)
			break;
		sim_free(s, false);
	}
	if (r < 0)
		goto fail;
	s->domid = (uint16_t)opts->domid;
	h->priv = s;
	h->fd = s->doorbell;
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
	return port_request(sim_of(h), PROTO_ALLOC_UNBOUND, dom, remote_dom, true);
}

static int sim_bind_interdomain(struct evtchnx_handle *h, uint32_t remote_dom,
				uint32_t remote_port)
{
	return port_request(sim_of(h), PROTO_BIND_INTERDOMAIN, remote_dom,
			    remote_port, false);
}

static int sim_bind_virq(struct evtchnx_handle *h, uint32_t virq)
{
	return port_request(sim_of(h), PROTO_BIND_VIRQ, virq, 0, false);
}

static int sim_adopt(struct evtchnx_handle *h, uint32_t port)
{
	return port_request(sim_of(h), PROTO_ADOPT, port, 0, false);
}

static void settle(struct sim *s);

static int sim_unbind(struct evtchnx_handle *h, uint32_t port)
{
	struct sim *s = sim_of(h);
	int r = enter(s);

	if (!r)
		(void)own(s, port, &r); /* the contract's -EINVAL/-ENOTCONN */
	if (r)
		return r;
	r = port_request(s, PROTO_UNBIND, port, 0, false);
	if (r == 0)
		settle(s); /* its pending event, if any, is gone with it */
	return r;
}

static int sim_send(struct evtchnx_handle *h, uint32_t port)
{
	struct sim *s = sim_of(h);
	struct cport *cp;
	int r = enter(s);

	if (r || !(cp = own(s, port, &r)))
		return r;
	r = rules_send_action(&cp->rp);
	if (r == RULES_SEND_REMOTE && cp->tx) {
		if (e2l_raise(cp->tx->map, cp->rp.remote_port))
			(void)eventfd_write(cp->tx->doorbell, 1);
		return 0;
	}
	if (r == RULES_SEND_REMOTE || r == RULES_SEND_SELF)
		return request(s, PROTO_SEND, port, 0, &s->rep, NULL, 0);
	return r; /* RULES_SEND_DROP (0) or -EINVAL */
}

static int sim_status(struct evtchnx_handle *h, uint32_t dom, uint32_t port,
		      struct evtchnx_status *st)
{
	struct sim *s = sim_of(h);
	int r = enter(s);

	if (r)
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

static int simple_request(struct evtchnx_handle *h, uint32_t op, uint32_t a0,
			  uint32_t a1)
{
	struct sim *s = sim_of(h);
	int r = enter(s);

	return r ? r : request(s, op, a0, a1, &s->rep, NULL, 0);
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

static int sim_raise_virq(struct evtchnx_handle *h, uint32_t domid,
			  uint32_t virq)
{
	return simple_request(h, PROTO_RAISE_VIRQ, domid, virq);
}

/* ---- delivery -------------------------------------------------------------- */

static unsigned int take(struct sim *s, uint32_t *ports, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->nrx && n < max; i++)
		n += e2l_take(s->rx[i]->map, s->rx[i]->honour, ports + n, max - n);
	return n;
}

static bool any_deliverable(struct sim *s)
{
	for (unsigned int i = 0; i < s->nrx; i++)
		if (e2l_any_deliverable(s->rx[i]->map, s->rx[i]->honour))
			return true;
	return false;
}

static unsigned int claim_kicks(struct sim *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->nrx; i++)
		n += e2l_claim_kick(s->rx[i]->map);
	return n;
}

static void read_doorbell(struct sim *s)
{
	eventfd_t v;

	if (eventfd_read(s->doorbell, &v) == 0)
		s->doorbell_debt -= (int64_t)v;
}

/*
 * The doorbell protocol.  A sender sets its bit, takes the kick (kicked
 * 0->1), then writes one unit to the doorbell (or gives the kick back if
 * we took the event meanwhile, e2l_kick_taken()).  The receiver drains the
 * doorbell, takes the kicks back (1->0) and looks for ports once more.  To
 * keep the fd exact without losing a wake-up, the units read must match the
 * kicks taken back: a write still on its way for a kick we took back would
 * leave the fd readable with nothing to deliver, and a unit read for a kick
 * still set would keep senders from ever writing again.  doorbell_debt
 * counts the difference.
 */
static void drain_doorbell(struct sim *s)
{
	read_doorbell(s);
	s->doorbell_debt += claim_kicks(s);
}

/*
 * Nothing is deliverable: balance the debt.  Returns true when a kick made
 * since was taken back, so the caller must look for ports again.  A positive
 * debt is a sender between its kick and its write: yield to it a few times,
 * then wait for its write (it may have been descheduled) for a bounded time.
 */
static bool settle_doorbell(struct sim *s)
{
	int64_t deadline = 0;

	for (int spin = 0;; spin++) {
		if (s->doorbell_debt == 0)
			return false;
		if (s->doorbell_debt < 0) {
			unsigned int more = claim_kicks(s);

			if (!more) { /* units the lab server wrote itself */
				s->doorbell_debt = 0;
				return false;
			}
			s->doorbell_debt += more;
			return true;
		}
		if (spin < QUIET_SPINS) {
			sched_yield();
		} else {
			struct pollfd pfd = { .fd = s->doorbell, .events = POLLIN };
			int64_t left;

			if (!deadline)
				deadline = evtchnx_now_ms() + QUIET_WAIT_MS;
			left = deadline - evtchnx_now_ms();
			if (left <= 0)
				break;
			(void)poll(&pfd, 1, (int)left);
		}
		read_doorbell(s);
	}
	/* The sender died mid-send, or the lab server read a unit while
	 * settling: start counting afresh rather than wait on every call. */
	s->doorbell_debt = 0;
	return false;
}

/* Make the fd readable exactly while a port is deliverable, taking up to
 * @max ports on the way (for pending()).  Returns how many it took. */
static unsigned int quiet_doorbell(struct sim *s, uint32_t *ports,
				   unsigned int max)
{
	unsigned int n = 0;

	for (int round = 0;; round++) {
		(void)sync_changes(s); /* a binding may have become honoured */
		if (n < max)
			n += take(s, ports + n, max - n);
		/* After the take: a sender that found an event we took still
		 * deliverable has kicked by now, or sees it taken. */
		drain_doorbell(s);
		if (any_deliverable(s)) {
			kick_self(s);
			break;
		}
		if (s->doorbell_debt == 0)
			break; /* balanced: the fd is quiet */
		if (settle_doorbell(s) && round + 1 < QUIET_ROUNDS)
			continue; /* kicks made meanwhile: look again */
		/* Settling may have read the unit of an event raised since. */
		if (any_deliverable(s))
			kick_self(s);
		break;
	}
	return n;
}

/* The fd must not stay readable for an event that went away with its port. */
static void settle(struct sim *s)
{
	(void)quiet_doorbell(s, NULL, 0);
}

static int sim_pending(struct evtchnx_handle *h, uint32_t *ports,
		       unsigned int max)
{
	struct sim *s = sim_of(h);
	unsigned int n;
	int r = enter(s);

	if (r)
		return r;
	n = take(s, ports, max);
	if (n == max && any_deliverable(s))
		return (int)n; /* more to come: the doorbell stays readable */
	n += quiet_doorbell(s, ports + n, max - n);
	return (int)n;
}

static int sim_unmask(struct evtchnx_handle *h, uint32_t port)
{
	struct sim *s = sim_of(h);
	struct cport *cp;
	int r = enter(s);

	if (r || !(cp = own(s, port, &r)))
		return r;
	if (cp->rx && e2l_unmask(cp->rx->map, port))
		kick_self(s);
	return 0;
}

static int sim_is_pending(struct evtchnx_handle *h, uint32_t port)
{
	struct sim *s = sim_of(h);
	struct cport *cp;
	int r = enter(s);

	if (r || !(cp = own(s, port, &r)))
		return r;
	return cp->rx && e2l_is_pending(cp->rx->map, port);
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
	.domain_create = sim_domain_create,
	.domain_destroy = sim_domain_destroy,
	.raise_virq = sim_raise_virq,
};
