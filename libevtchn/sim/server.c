/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * server.c - the lab server (see server.h).
 *
 * One thread, one epoll loop.  Each connected handle is a struct client:
 * its socket, a pidfd watching the process that opened it (so a descriptor
 * inherited by a forked child never keeps a dead process's domain alive),
 * its doorbell eventfd, its control page, and the inboxes that hold its
 * ports' pending bits, one per peer domain.  The hypervisor rules live in
 * rules.c; this file only carries out what they decide (rules_hooks).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "event_2l.h"
#include "labdir.h"
#include "proto.h"
#include "rules.h"
#include "server.h"

enum watch_kind { W_LISTEN, W_DOOR, W_TIMER, W_SOCK, W_PIDFD };

struct watch {
	enum watch_kind kind;
	struct client *c;
};

struct srv_inbox {
	uint16_t home;
	int fd;
	struct e2l_inbox *map;
};

struct client {
	struct rules_handle rh; /* rh.id is the slot in server->clients */
	uint32_t serial;        /* unique for the lab's life, unlike rh.id */
	bool joined;
	int sock;
	int pidfd;
	int doorbell;
	int ctl_fd;
	struct proto_ctl_page *ctl;
	bool told_orphaned;
	bool lost_ports;        /* someone else freed a port of ours: settle */
	struct srv_inbox *inbox;
	unsigned int ninbox;
	uint64_t dirty[RULES_MAX_PORTS / 64];
	struct watch wsock, wpid;
};

struct lab_server {
	struct lab_server_config cfg;
	struct rules_lab *lab;
	int epfd;
	int timerfd;
	struct watch wlisten, wdoor, wtimer;
	bool door_open;
	unsigned int nclients;
	uint32_t last_serial;
	bool must_settle;      /* some client has lost_ports */
	struct client *clients[RULES_MAX_HANDLES + 1];
	struct proto_rep rep; /* reply buffer */
};

/* ---- inboxes and descriptors ------------------------------------------ */

static int map_shared(const char *name, size_t size, int *fdp, void **mapp)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	void *m;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto fail;
	*fdp = fd;
	*mapp = m;
	return 0;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

static struct srv_inbox *find_inbox(struct client *c, uint16_t home)
{
	for (unsigned int i = 0; i < c->ninbox; i++)
		if (c->inbox[i].home == home)
			return &c->inbox[i];
	return NULL;
}

static struct srv_inbox *get_inbox(struct client *c, uint16_t home, int *err)
{
	struct srv_inbox *ib = find_inbox(c, home), *grown;
	void *map = NULL;
	int fd = -1;

	if (ib)
		return ib;
	grown = realloc(c->inbox, (c->ninbox + 1) * sizeof(*grown));
	if (!grown) {
		*err = -ENOMEM;
		return NULL;
	}
	c->inbox = grown;
	*err = map_shared("evtchnx-inbox", E2L_INBOX_SIZE, &fd, &map);
	if (*err)
		return NULL;
	ib = &c->inbox[c->ninbox++];
	ib->home = home;
	ib->fd = fd;
	ib->map = map;
	return ib;
}

/* ---- what the rules ask for ---------------------------------------------- */

static void hook_raise(void *ctx, const struct rules_event *ev)
{
	struct lab_server *s = ctx;
	struct client *c = ev->owner <= RULES_MAX_HANDLES ? s->clients[ev->owner] : NULL;
	struct srv_inbox *ib;
	int err;

	if (!c)
		return;
	ib = get_inbox(c, ev->home, &err);
	if (!ib)
		return; /* out of memory or descriptors: the event is dropped */
	if (e2l_raise(ib->map, ev->port))
		(void)eventfd_write(c->doorbell, 1);
}

static void hook_clear(void *ctx, const struct rules_event *ev)
{
	struct lab_server *s = ctx;
	struct client *c = ev->owner <= RULES_MAX_HANDLES ? s->clients[ev->owner] : NULL;
	struct srv_inbox *ib = c ? find_inbox(c, ev->home) : NULL;

	if (ib)
		e2l_clear(ib->map, ev->port);
}

static void announce(struct client *c)
{
	atomic_fetch_add(&c->ctl->seq, 1);
}

static void hook_changed(void *ctx, uint32_t owner, uint32_t port)
{
	struct lab_server *s = ctx;
	struct client *c = owner <= RULES_MAX_HANDLES ? s->clients[owner] : NULL;

	const struct rules_port *p;

	if (!c || port >= RULES_MAX_PORTS)
		return;
	c->dirty[port / 64] |= 1ull << (port % 64);
	p = rules_port_of(s->lab, c->rh.domid, port);
	if (c->rh.orphaned || !p || p->owner != c->rh.id)
		c->lost_ports = s->must_settle = true;
	announce(c);
}

/* @port of @c's domain, if @c owns it. */
static const struct rules_port *own_port(struct lab_server *s, struct client *c,
					 uint32_t port)
{
	const struct rules_port *p = rules_port_of(s->lab, c->rh.domid, port);

	if (c->rh.orphaned || !p || p->owner != c->rh.id || p->state == RULES_FREE)
		return NULL;
	return p;
}

/*
 * A port that went away may have left the client's doorbell rung for an
 * event that is gone with it.  Do what the client does after draining its
 * doorbell (event_2l.h): quiet it, re-arm the kicks, and ring it again only
 * if one of the ports it still owns is deliverable.
 */
static void settle(struct lab_server *s, struct client *c)
{
	const struct rules_port *p;
	bool deliverable = false;
	eventfd_t v;

	c->lost_ports = false;
	if (c->rh.orphaned)
		return; /* its doorbell stays rung: every call now fails */
	(void)eventfd_read(c->doorbell, &v);
	for (unsigned int i = 0; i < c->ninbox; i++)
		(void)e2l_claim_kick(c->inbox[i].map);
	for (uint32_t port = 1; port < RULES_MAX_PORTS && !deliverable; port++) {
		struct srv_inbox *ib;

		p = own_port(s, c, port);
		if (!p)
			continue;
		ib = find_inbox(c, rules_home(p, c->rh.domid));
		deliverable = ib && e2l_deliverable(ib->map, port);
	}
	if (deliverable)
		(void)eventfd_write(c->doorbell, 1);
}

static void settle_all(struct lab_server *s)
{
	if (!s->must_settle)
		return;
	s->must_settle = false;
	for (uint32_t id = 1; id <= RULES_MAX_HANDLES; id++)
		if (s->clients[id] && s->clients[id]->lost_ports)
			settle(s, s->clients[id]);
}

/* ---- clients -------------------------------------------------------------- */

static int watch_add(struct lab_server *s, int fd, struct watch *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void arm_timer(struct lab_server *s, unsigned int ms)
{
	struct itimerspec its = { 0 };

	if (s->timerfd < 0)
		return;
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (ms == 0)
		its.it_value.tv_nsec = 1; /* zero would disarm */
	(void)timerfd_settime(s->timerfd, 0, &its, NULL);
}

static void client_add(struct lab_server *s, int sock, bool watch_pid)
{
	struct client *c = calloc(1, sizeof(*c));
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (!c) {
		close(sock);
		return;
	}
	c->sock = sock;
	c->pidfd = c->doorbell = c->ctl_fd = -1;
	c->wsock = (struct watch){ W_SOCK, c };
	c->wpid = (struct watch){ W_PIDFD, c };
	(void)fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	if (watch_pid &&
	    getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
		if (c->pidfd >= 0 && watch_add(s, c->pidfd, &c->wpid) < 0) {
			close(c->pidfd);
			c->pidfd = -1;
		}
	}
	if (watch_add(s, sock, &c->wsock) < 0) {
		if (c->pidfd >= 0)
			close(c->pidfd);
		close(sock);
		free(c);
		return;
	}
	s->nclients++;
	if (s->timerfd >= 0) { /* not idle any more */
		struct itimerspec off = { 0 };
		(void)timerfd_settime(s->timerfd, 0, &off, NULL);
	}
}

static void client_drop(struct lab_server *s, struct client *c)
{
	if (c->joined) {
		rules_leave(s->lab, &c->rh);
		s->clients[c->rh.id] = NULL;
	}
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	close(c->sock);
	if (c->pidfd >= 0) {
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		close(c->pidfd);
	}
	if (c->doorbell >= 0)
		close(c->doorbell);
	if (c->ctl)
		munmap(c->ctl, sizeof(*c->ctl) < 4096 ? 4096 : sizeof(*c->ctl));
	if (c->ctl_fd >= 0)
		close(c->ctl_fd);
	for (unsigned int i = 0; i < c->ninbox; i++) {
		munmap(c->inbox[i].map, E2L_INBOX_SIZE);
		close(c->inbox[i].fd);
	}
	free(c->inbox);
	free(c);
	if (--s->nclients == 0 && s->cfg.listen_fd >= 0)
		arm_timer(s, s->cfg.grace_ms);
}

/* ---- requests ------------------------------------------------------------- */

static void fill_rec(struct lab_server *s, struct client *c, uint32_t port,
		     struct proto_rec *r)
{
	const struct rules_port *p = own_port(s, c, port);

	memset(r, 0, sizeof(*r));
	r->port = port;
	if (!p)
		return;
	r->owned = 1;
	r->state = p->state;
	r->virq = p->virq;
	r->remote_dom = p->remote_dom;
	r->remote_port = p->remote_port;
	if (p->state == RULES_INTERDOMAIN) {
		uint32_t t = rules_peer_owner(s->lab, c->rh.domid, port);

		if (t && t <= RULES_MAX_HANDLES && s->clients[t])
			r->target = s->clients[t]->serial;
	}
}

static void add_rec(struct lab_server *s, struct client *c, uint32_t port)
{
	fill_rec(s, c, port, &s->rep.rec[s->rep.nrec++]);
}

static int do_sync(struct lab_server *s, struct client *c)
{
	for (unsigned int w = 0; w < RULES_MAX_PORTS / 64; w++) {
		while (c->dirty[w]) {
			if (s->rep.nrec == PROTO_MAX_RECS) {
				s->rep.flags |= PROTO_F_MORE;
				return 0;
			}
			unsigned int b = (unsigned int)__builtin_ctzll(c->dirty[w]);

			c->dirty[w] &= c->dirty[w] - 1;
			add_rec(s, c, w * 64 + b);
		}
	}
	return 0;
}

static int do_get_inbox(struct lab_server *s, struct client *c, uint32_t port,
			int *fds, unsigned int *nfds)
{
	const struct rules_port *p = own_port(s, c, port);
	struct srv_inbox *ib;
	int err;

	if (!p)
		return -ENOTCONN;
	ib = get_inbox(c, rules_home(p, c->rh.domid), &err);
	if (!ib)
		return err;
	fds[(*nfds)++] = ib->fd;
	return ib->home;
}

static int do_get_target(struct lab_server *s, struct client *c, uint32_t port,
			 int *fds, unsigned int *nfds)
{
	const struct rules_port *p = own_port(s, c, port);
	struct client *t;
	struct srv_inbox *ib;
	uint32_t tid;
	int err;

	if (!p)
		return -ENOTCONN;
	if (p->state != RULES_INTERDOMAIN)
		return -EINVAL;
	tid = rules_peer_owner(s->lab, c->rh.domid, port);
	t = tid && tid <= RULES_MAX_HANDLES ? s->clients[tid] : NULL;
	if (!t)
		return -ENOENT; /* the peer end has no owner: send through the lab */
	/* The peer port's bits live in the inbox its owner keeps for us. */
	ib = get_inbox(t, c->rh.domid, &err);
	if (!ib)
		return err;
	fds[(*nfds)++] = ib->fd;
	fds[(*nfds)++] = t->doorbell;
	return (int)t->serial;
}

static int do_hello(struct lab_server *s, struct client *c,
		    const struct proto_req *rq, int *fds, unsigned int *nfds)
{
	uint32_t id;
	int err;

	if (rq->arg[1] != PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (c->doorbell >= 0)
		return -EPROTO; /* one HELLO per connection */
	for (id = 1; id <= RULES_MAX_HANDLES && s->clients[id]; id++)
		;
	if (id > RULES_MAX_HANDLES)
		return -EMFILE;
	c->doorbell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->doorbell < 0)
		return -errno;
	err = map_shared("evtchnx-ctl", 4096, &c->ctl_fd, (void **)&c->ctl);
	if (err)
		return err;
	c->rh.id = id;
	err = rules_join(s->lab, &c->rh, rq->arg[0]);
	if (err)
		return err;
	c->joined = true;
	c->serial = ++s->last_serial & 0x7FFFFFFFu;
	s->clients[id] = c;
	fds[(*nfds)++] = c->doorbell;
	fds[(*nfds)++] = c->ctl_fd;
	return (int)id;
}

/* Orphaned handles learn it at their next sync; one blocked in a wait is
 * woken to learn it now. */
static void announce_orphans(struct lab_server *s)
{
	for (uint32_t id = 1; id <= RULES_MAX_HANDLES; id++) {
		struct client *c = s->clients[id];

		if (c && c->rh.orphaned && !c->told_orphaned) {
			c->told_orphaned = true;
			announce(c);
			(void)eventfd_write(c->doorbell, 1);
		}
	}
}

static int dispatch(struct lab_server *s, struct client *c,
		    const struct proto_req *rq, int *fds, unsigned int *nfds)
{
	struct rules_lab *lab = s->lab;
	struct rules_handle *h = &c->rh;
	const uint32_t *a = rq->arg;
	int r;

	if (rq->op == PROTO_HELLO)
		return c->joined ? -EPROTO : do_hello(s, c, rq, fds, nfds);
	if (!c->joined)
		return -EPROTO;

	switch (rq->op) {
	case PROTO_SYNC:
		return do_sync(s, c);
	case PROTO_GET_INBOX:
		return do_get_inbox(s, c, a[0], fds, nfds);
	case PROTO_GET_TARGET:
		return do_get_target(s, c, a[0], fds, nfds);
	case PROTO_ALLOC_UNBOUND:
		r = rules_alloc_unbound(lab, h, a[0], a[1]);
		if (r > 0 && (a[0] == RULES_DOMID_SELF || a[0] == h->domid))
			add_rec(s, c, (uint32_t)r);
		return r;
	case PROTO_BIND_INTERDOMAIN:
		r = rules_bind_interdomain(lab, h, a[0], a[1]);
		if (r > 0)
			add_rec(s, c, (uint32_t)r);
		return r;
	case PROTO_BIND_VIRQ:
		r = rules_bind_virq(lab, h, a[0]);
		if (r > 0)
			add_rec(s, c, (uint32_t)r);
		return r;
	case PROTO_ADOPT:
		r = rules_adopt(lab, h, a[0]);
		if (r >= 0)
			add_rec(s, c, a[0]);
		return r;
	case PROTO_UNBIND:
		r = rules_unbind(lab, h, a[0]);
		if (r >= 0)
			add_rec(s, c, a[0]);
		return r;
	case PROTO_SEND:
		return rules_send(lab, h, a[0]);
	case PROTO_STATUS: {
		struct evtchnx_status st = { .sz = sizeof(st) };

		r = rules_status(lab, h, a[0], a[1], &st);
		s->rep.status = (struct proto_status){ st.state, st.vcpu,
			st.remote_domid, st.remote_port, st.virq };
		return r;
	}
	case PROTO_RESET:
		return rules_reset(lab, h, a[0]);
	case PROTO_RESTRICT:
		return rules_restrict(lab, h, a[0]);
	case PROTO_DOMAIN_CREATE:
		return rules_domain_create(lab, h, a[0]);
	case PROTO_DOMAIN_DESTROY:
		r = rules_domain_destroy(lab, h, a[0]);
		announce_orphans(s);
		return r;
	case PROTO_RAISE_VIRQ:
		return rules_raise_virq(lab, h, a[0], a[1]);
	default:
		return -ENOSYS;
	}
}

/* Returns false when the client must be dropped. */
static bool serve_one(struct lab_server *s, struct client *c)
{
	struct proto_req rq;
	int rfds[PROTO_MAX_FDS], fds[PROTO_MAX_FDS];
	unsigned int nrfds, nfds = 0;
	ssize_t n = proto_recv(c->sock, &rq, sizeof(rq), rfds, &nrfds);

	for (unsigned int i = 0; i < nrfds; i++)
		close(rfds[i]); /* clients never pass descriptors */
	if (n == -EAGAIN)
		return true;
	if (n != (ssize_t)sizeof(rq))
		return false; /* EOF, error, or a malformed request */
	if (rq.op == PROTO_BYE) {
		struct proto_rep bye = { .op = PROTO_BYE };

		if (c->joined) {
			rules_leave(s->lab, &c->rh);
			s->clients[c->rh.id] = NULL;
			c->joined = false;
		}
		(void)proto_send(c->sock, &bye, PROTO_REP_SIZE(0), NULL, 0);
		return false;
	}
	memset(&s->rep, 0, PROTO_REP_SIZE(0));
	s->rep.op = rq.op;
	s->rep.result = dispatch(s, c, &rq, fds, &nfds);
	settle_all(s);
	if (s->rep.result < 0)
		nfds = 0;
	if (c->rh.orphaned)
		s->rep.flags |= PROTO_F_ORPHANED;
	return proto_send(c->sock, &s->rep, PROTO_REP_SIZE(s->rep.nrec), fds,
			  nfds) == 0;
}

/* ---- retiring ------------------------------------------------------------- */

static void accept_all(struct lab_server *s)
{
	int fd;

	while ((fd = accept4(s->cfg.listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		client_add(s, fd, true);
}

/* Shared lab, idle past its grace period: leave, unless someone connected
 * meanwhile.  The lock keeps a starting client from racing the unlink. */
static bool try_retire(struct lab_server *s)
{
	int lock = s->cfg.lock_path ? lab_lock(s->cfg.lock_path) : -1;
	bool retire;

	accept_all(s);
	retire = s->nclients == 0;
	if (retire && s->cfg.sock_path)
		unlink(s->cfg.sock_path);
	if (retire && lock >= 0)
		unlink(s->cfg.lock_path); /* lab_lock() copes with that */
	if (lock >= 0)
		close(lock);
	return retire;
}

/* ---- the loop ------------------------------------------------------------- */

struct lab_server *lab_server_new(const struct lab_server_config *cfg)
{
	struct lab_server *s = calloc(1, sizeof(*s));
	struct rules_hooks hooks;
	int err = ENOMEM;

	if (!s)
		goto fail;
	s->cfg = *cfg;
	s->timerfd = -1;
	hooks = (struct rules_hooks){ s, hook_raise, hook_clear, hook_changed };
	s->lab = rules_lab_new(&hooks);
	if (!s->lab)
		goto fail_free;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		goto fail_errno;
	s->wlisten = (struct watch){ W_LISTEN, NULL };
	s->wdoor = (struct watch){ W_DOOR, NULL };
	s->wtimer = (struct watch){ W_TIMER, NULL };
	if (cfg->listen_fd >= 0) {
		(void)fcntl(cfg->listen_fd, F_SETFL,
			    fcntl(cfg->listen_fd, F_GETFL) | O_NONBLOCK);
		s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (s->timerfd < 0 || watch_add(s, cfg->listen_fd, &s->wlisten) ||
		    watch_add(s, s->timerfd, &s->wtimer))
			goto fail_errno;
		if (!cfg->wait_first)
			arm_timer(s, cfg->grace_ms); /* nobody may come at all */
	}
	if (cfg->door_fd >= 0) {
		if (watch_add(s, cfg->door_fd, &s->wdoor))
			goto fail_errno;
		s->door_open = true;
	}
	return s;

fail_errno:
	err = errno;
	lab_server_free(s);
	errno = err;
	return NULL;
fail_free:
	free(s);
fail:
	errno = err;
	return NULL;
}

static void door_receive(struct lab_server *s)
{
	char byte;
	int fds[PROTO_MAX_FDS];
	unsigned int nfds;
	ssize_t n = proto_recv(s->cfg.door_fd, &byte, 1, fds, &nfds);

	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->cfg.door_fd, NULL);
		s->door_open = false;
		return;
	}
	for (unsigned int i = 0; i < nfds; i++)
		client_add(s, fds[i], false);
}

int lab_server_run(struct lab_server *s)
{
	struct epoll_event evs[32];

	for (;;) {
		if (s->cfg.door_fd >= 0 && !s->door_open && s->nclients == 0)
			return 0;
		int n = epoll_wait(s->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			uint64_t ticks;

			switch (w->kind) {
			case W_LISTEN:
				accept_all(s);
				break;
			case W_DOOR:
				door_receive(s);
				break;
			case W_TIMER:
				if (read(s->timerfd, &ticks, sizeof(ticks)) > 0 &&
				    s->nclients == 0 && try_retire(s))
					return 0;
				break;
			case W_SOCK:
				if (!serve_one(s, w->c)) {
					client_drop(s, w->c);
					goto next_batch; /* evs may name the dropped client */
				}
				break;
			case W_PIDFD:
				client_drop(s, w->c);
				goto next_batch;
			}
		}
next_batch:;
	}
}

void lab_server_free(struct lab_server *s)
{
	if (!s)
		return;
	for (uint32_t id = 0; id <= RULES_MAX_HANDLES; id++)
		if (s->clients[id])
			client_drop(s, s->clients[id]);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->timerfd >= 0)
		close(s->timerfd);
	if (s->cfg.listen_fd >= 0)
		close(s->cfg.listen_fd);
	if (s->cfg.door_fd >= 0)
		close(s->cfg.door_fd);
	rules_lab_free(s->lab);
	free(s);
}
