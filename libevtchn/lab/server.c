/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * server.c - the lab server (see server.h).
 *
 * One thread, one epoll loop.  Each connected handle is a struct client:
 * its socket, a pidfd watching the process that opened it (so a descriptor
 * inherited by a forked child never keeps a dead process's domain alive),
 * its epoll set (what evtchnx_fd() returns; the server keeps a copy to add
 * and remove the wake-ups of the handle's links), the server's own wake-up
 * in that set, and its control page.  The hypervisor rules live in rules.c;
 * this file carries out what they decide (rules_hooks) and keeps one link
 * (link.h) per pair of handles that share a channel, in each direction, for
 * as long as they share one.
 *
 * The server reads nothing a client can write but the messages on its
 * socket, and for PROTO_LAB_STATS two counters of a link's tx page, through
 * a read-only mapping of the sealed memfd (it cannot shrink, so the read
 * cannot fault) and shown as numbers only: no client can make it fault,
 * block or spin.
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
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "labdir.h"
#include "link.h"
#include "portset.h"
#include "proto.h"
#include "rules.h"
#include "server.h"
#include "status_page.h"

enum watch_kind { W_LISTEN, W_DOOR, W_TIMER, W_TICK, W_SIGNAL, W_SOCK, W_PIDFD };

struct watch {
	enum watch_kind kind;
	struct client *c;
};

/* The events of the channels between two handles, one way. */
struct link {
	uint32_t id;
	struct client *from, *to;
	unsigned int channels;
	int tx_fd, rx_fd, wake; /* -1 until made (link_ready()) */
	struct link *next_out;  /* in from->out */
	struct link *next_in;   /* in to->in */
};

struct client {
	struct rules_handle rh; /* rh.id is the slot in server->clients */
	bool joined;
	bool told_orphaned;
	bool lost_event;        /* out of memory for an event: drop the client */
	pid_t pid;              /* the process that connected (0: unknown) */
	int64_t since_ms;       /* when it connected */
	struct client *next, *prev; /* every connection, joined or not */
	int sock;
	int pidfd;
	int epfd;               /* the handle's epoll set */
	int wake;               /* the server's wake-up in it */
	int ctl_fd;
	struct proto_ctl_page *ctl;
	struct portset dirty;   /* ports whose record the handle must re-read */
	struct portset raised;  /* ports the lab raised an event on */
	struct link *out;       /* links this handle sends on */
	struct link *in;        /* links this handle receives on */
	struct link *retired;   /* links into it gone since its last sync */
	struct link *retiring;  /* ... gone before its last sync */
	unsigned int nretired;  /* in both lists */
	struct home *homes;     /* UNBOUND ports: the link their events came on */
	unsigned int nhomes, homes_cap;
	struct watch wsock, wpid;
};

/* What a joining handle gets that does not depend on it (its epoll set
 * with the lab's wake-up in it, its control page), made ahead of time after
 * a join was answered, so that a join waits for none of it. */
struct spare {
	int epfd, wake;
	int ctl_fd, ctl_ro;
	struct proto_ctl_page *ctl;
};

#define SPARES 2

struct lab_server {
	struct lab_server_config cfg;
	struct rules_lab *lab;
	int epfd;
	int timerfd;              /* the grace period */
	int tickfd;               /* greeting deadlines, paused accepts */
	struct watch wlisten, wdoor, wtimer, wtick, wsignal;
	bool door_open;
	bool accept_paused;       /* at the connection cap, or out of fds */
	struct client *all;       /* every connection */
	unsigned int nclients;    /* connections */
	unsigned int njoined;     /* of which said HELLO */
	struct client *requester; /* the client whose request is served */
	bool must_drop;           /* some client has lost_event */
	uint32_t last_link_id;
	struct token *tokens;     /* handed out by PROTO_DOMAIN_GRANT */
	struct client *clients[RULES_MAX_HANDLES + 1];
	struct status_page_writer status; /* every domain's ports, for status */
	struct spare spares[SPARES];
	unsigned int nspares;
	bool tick_on, grace_armed;        /* the timers' state, to skip no-op sets */
	unsigned int borrowed;            /* reply fds (bits) the server keeps */
	const uint32_t *ports; /* the ports of the batch request being served */
	struct proto_rep rep; /* reply buffer */
};

/* A domain's token: the capability to join a strict lab as that domain. */
struct token {
	uint16_t domid;
	char hex[PROTO_TOKEN_LEN];
	struct token *next;
};

static struct client *client_of(struct lab_server *s, uint32_t id)
{
	return id && id <= RULES_MAX_HANDLES ? s->clients[id] : NULL;
}

static void wake(int fd)
{
	(void)eventfd_write(fd, 1);
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- links ----------------------------------------------------------------- */

static struct link *link_find(struct client *from, struct client *to)
{
	for (struct link *l = from->out; l; l = l->next_out)
		if (l->to == to)
			return l;
	return NULL;
}

/* Make the link's pages and wake-up, once.  Until then (out of memory or
 * descriptors) its channels' events go through the lab. */
static bool link_ready(struct lab_server *s, struct link *l)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

	(void)s;
	if (l->wake >= 0)
		return true;
	if (l->tx_fd < 0)
		l->tx_fd = proto_shared_page("evtchnx-link-tx", LINK_TX_SIZE, NULL);
	if (l->rx_fd < 0)
		l->rx_fd = proto_shared_page("evtchnx-link-rx", LINK_RX_SIZE, NULL);
	if (l->tx_fd < 0 || l->rx_fd < 0)
		return false;
	l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake < 0)
		return false;
	ev.data.u64 = l->id;
	if (epoll_ctl(l->to->epfd, EPOLL_CTL_ADD, l->wake, &ev) < 0) {
		close(l->wake);
		l->wake = -1;
		return false;
	}
	return true;
}

static void link_get(struct lab_server *s, struct client *from,
		     struct client *to)
{
	struct link *l = link_find(from, to);

	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return; /* its channels' events go through the lab */
		l->id = ++s->last_link_id ? s->last_link_id : ++s->last_link_id;
		l->from = from;
		l->to = to;
		l->tx_fd = l->rx_fd = l->wake = -1;
		l->next_out = from->out;
		from->out = l;
		l->next_in = to->in;
		to->in = l;
	}
	l->channels++;
	(void)link_ready(s, l);
}

/*
 * A link whose last channel closed stays with its receiver until the
 * receiver has read the records of the ports it carried, and then for one
 * more sync (the receiver maps the link while it applies them): events sent
 * just before the close are still in its pages, and a wake-up given just
 * before must not be lost.  Then it goes, and with it its wake-up, so a
 * sender that keeps its copy wakes nobody.  Past RETIRED_MAX of them the
 * receiver is asked to sync.
 */
#define RETIRED_MAX 64u

static void link_close(struct client *to, struct link *l)
{
	if (l->wake >= 0) {
		(void)epoll_ctl(to->epfd, EPOLL_CTL_DEL, l->wake, NULL);
		close(l->wake);
	}
	close_fd(l->tx_fd);
	close_fd(l->rx_fd);
	free(l);
}

static void drop_links(struct client *c, struct link **list)
{
	while (*list) {
		struct link *l = *list;

		*list = l->next_in;
		c->nretired--;
		link_close(c, l);
	}
}

/* A sync is complete: links retired before the one before it can go. */
static void age_retired(struct client *c)
{
	drop_links(c, &c->retiring);
	c->retiring = c->retired;
	c->retired = NULL;
}

static void link_free(struct link *l)
{
	struct link **pp = &l->from->out;
	struct client *to = l->to;

	while (*pp != l)
		pp = &(*pp)->next_out;
	*pp = l->next_out;
	pp = &to->in;
	while (*pp != l)
		pp = &(*pp)->next_in;
	*pp = l->next_in;
	if (l->wake < 0) { /* never carried an event */
		link_close(to, l);
		return;
	}
	l->from = NULL; /* it may go before the link does */
	l->next_in = to->retired;
	to->retired = l;
	if (++to->nretired == RETIRED_MAX)
		wake(to->wake);
}

/* The link (live or retired) @c receives on with id @id. */
static struct link *link_into(struct client *c, uint32_t id)
{
	struct link *lists[] = { c->in, c->retired, c->retiring };

	for (unsigned int i = 0; i < 3; i++)
		for (struct link *l = lists[i]; l; l = l->next_in)
			if (l->id == id)
				return l;
	return NULL;
}

/* ---- homes: where an UNBOUND port's last events are ---------------------------- */

struct home {
	uint32_t port;
	uint32_t link;
};

static struct home *home_of(struct client *c, uint32_t port)
{
	for (unsigned int i = 0; i < c->nhomes; i++)
		if (c->homes[i].port == port)
			return &c->homes[i];
	return NULL;
}

static void home_set(struct client *c, uint32_t port, uint32_t link)
{
	struct home *h = home_of(c, port);

	if (!h) {
		if (c->nhomes == c->homes_cap) {
			unsigned int cap = c->homes_cap ? c->homes_cap * 2 : 8;
			struct home *n = realloc(c->homes, cap * sizeof(*n));

			if (!n)
				return; /* the handle keeps the link it knows */
			c->homes = n;
			c->homes_cap = cap;
		}
		h = &c->homes[c->nhomes++];
	}
	*h = (struct home){ port, link };
}

static void home_del(struct client *c, uint32_t port)
{
	struct home *h = home_of(c, port);

	if (h)
		*h = c->homes[--c->nhomes];
}

static void link_put(struct client *from, struct client *to)
{
	struct link *l = link_find(from, to);

	if (l && --l->channels == 0)
		link_free(l);
}

/* The id of the link from @from to @to, if it can carry events. */
static uint32_t link_id(struct lab_server *s, struct client *from,
			struct client *to)
{
	struct link *l = from && to ? link_find(from, to) : NULL;

	return l && link_ready(s, l) ? l->id : 0;
}

/* ---- what the rules ask for ---------------------------------------------- */

static void announce(struct client *c)
{
	atomic_fetch_add_explicit(&c->ctl->seq, 1, memory_order_release);
}

static void hook_changed(void *ctx, uint32_t owner, uint32_t port)
{
	struct client *c = client_of(ctx, owner);

	if (!c || portset_add(&c->dirty, port) < 0)
		return;
	announce(c);
}

/* An event the lab raises itself (a virq, the pending bit of a new binding,
 * a send without a link): the handle learns it from the port's record. */
static void hook_raise(void *ctx, const struct rules_event *ev)
{
	struct lab_server *s = ctx;
	struct client *c = client_of(s, ev->owner);

	if (!c)
		return;
	if (portset_add(&c->raised, ev->port) < 0 ||
	    portset_add(&c->dirty, ev->port) < 0) {
		/* Never lose an event without a word: the handle will see
		 * -EIO, as when its lab server goes away. */
		c->lost_event = s->must_drop = true;
		return;
	}
	announce(c);
	if (c != s->requester) /* the requester learns it from the reply */
		wake(c->wake);
}

static void hook_clear(void *ctx, const struct rules_event *ev)
{
	struct client *c = client_of(ctx, ev->owner);

	if (c) {
		(void)portset_del(&c->raised, ev->port);
		home_del(c, ev->port);
	}
}

static void hook_channel(void *ctx, uint32_t a, uint32_t pa, uint32_t b,
			 uint32_t pb, bool up)
{
	struct lab_server *s = ctx;
	struct client *ca = client_of(s, a), *cb = client_of(s, b);
	struct link *l;

	if (!ca || !cb)
		return;
	if (up) {
		link_get(s, ca, cb);
		link_get(s, cb, ca);
		return;
	}
	/* The surviving end keeps the events sent before the close: its
	 * record names the link they are on, until it is freed or bound. */
	if ((l = link_find(cb, ca)) && l->wake >= 0)
		home_set(ca, pa, l->id);
	if ((l = link_find(ca, cb)) && l->wake >= 0)
		home_set(cb, pb, l->id);
	link_put(ca, cb);
	link_put(cb, ca);
}

static void hook_status(void *ctx, uint16_t domid, uint32_t port,
			const struct rules_port *p)
{
	struct lab_server *s = ctx;
	struct evtchnx_status st;

	rules_status_of(p, &st);
	status_page_port(&s->status, domid, port, &st);
}

static void hook_domain(void *ctx, uint16_t domid, uint32_t nr_ports)
{
	struct lab_server *s = ctx;

	(void)status_page_domain(&s->status, domid, nr_ports);
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
	if (timerfd_settime(s->timerfd, 0, &its, NULL) == 0)
		s->grace_armed = true;
}

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83 /* Linux 6.16 */
#endif

static void *closer(void *arg)
{
	close((int)(intptr_t)arg);
	return NULL;
}

/* Close a passed descriptor without blocking this thread: a socket (whose
 * close() can linger) on a thread of its own, anything else at once. */
static void close_elsewhere(int fd)
{
	pthread_attr_t attr;
	struct stat st;
	pthread_t t;

	if (fstat(fd, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		close(fd);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, closer, (void *)(intptr_t)fd) != 0)
		close(fd);
	pthread_attr_destroy(&attr);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tick(struct lab_server *s, bool on)
{
	struct itimerspec its = { 0 };

	if (s->tickfd < 0 || s->tick_on == on)
		return;
	if (on)
		its.it_value.tv_nsec = its.it_interval.tv_nsec = 250 * 1000000L;
	if (timerfd_settime(s->tickfd, 0, &its, NULL) == 0)
		s->tick_on = on;
}

static unsigned int max_connections(const struct lab_server *s)
{
	return s->cfg.max_handles + LAB_MAX_GREETING;
}

static void spare_free(struct spare *sp)
{
	close_fd(sp->epfd);
	close_fd(sp->wake);
	close_fd(sp->ctl_ro);
	if (sp->ctl)
		munmap(sp->ctl, PROTO_CTL_SIZE);
	close_fd(sp->ctl_fd);
}

/* @accepted: from the listening socket (non-blocking already; its process
 * is watched), else a private lab's handle through the door. */
static void client_add(struct lab_server *s, int sock, bool accepted)
{
	struct client *c = calloc(1, sizeof(*c));
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int no = 0;

	if (!c) {
		close(sock);
		return;
	}
	c->sock = sock;
	c->pidfd = c->epfd = c->wake = c->ctl_fd = -1;
	c->since_ms = now_ms();
	c->wsock = (struct watch){ W_SOCK, c };
	c->wpid = (struct watch){ W_PIDFD, c };
	if (!accepted)
		(void)fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	/* Clients never pass descriptors: refuse them at the socket, so that
	 * none can make this thread block in close() (a lingering TCP socket
	 * would).  Older kernels lack the option: see serve_one(). */
	(void)setsockopt(sock, SOL_SOCKET, SO_PASSRIGHTS, &no, sizeof(no));
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		c->pid = cred.pid;
	if (accepted && c->pid > 0) {
		c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
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
	c->next = s->all;
	if (s->all)
		s->all->prev = c;
	s->all = c;
	s->nclients++;
	tick(s, true); /* its greeting deadline */
	if (s->timerfd >= 0 && s->grace_armed) { /* not idle any more */
		struct itimerspec off = { 0 };

		if (timerfd_settime(s->timerfd, 0, &off, NULL) == 0)
			s->grace_armed = false;
	}
}

static void client_leave(struct lab_server *s, struct client *c)
{
	if (!c->joined)
		return;
	rules_leave(s->lab, &c->rh); /* closes its channels, and so its links */
	s->clients[c->rh.id] = NULL;
	c->joined = false;
	s->njoined--;
}

static void client_drop(struct lab_server *s, struct client *c)
{
	client_leave(s, c);
	while (c->out) /* none left after rules_leave(); never leak one */
		link_free(c->out);
	while (c->in)
		link_free(c->in);
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	close(c->sock);
	if (c->pidfd >= 0) {
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		close(c->pidfd);
	}
	drop_links(c, &c->retired);
	drop_links(c, &c->retiring);
	free(c->homes);
	spare_free(&(struct spare){ .epfd = c->epfd, .wake = c->wake,
				    .ctl_fd = c->ctl_fd, .ctl_ro = -1,
				    .ctl = c->ctl });
	portset_free(&c->dirty);
	portset_free(&c->raised);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	if (--s->nclients == 0 && s->cfg.listen_fd >= 0 && !s->cfg.keep)
		arm_timer(s, s->cfg.grace_ms);
	if (s->accept_paused)
		tick(s, true); /* room again: accept at the next tick */
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
	r->raised = portset_del(&c->raised, port);
	if (p->state == RULES_INTERDOMAIN) {
		struct client *peer = client_of(s, rules_peer_owner(s->lab, c->rh.domid, port));

		r->rx_link = link_id(s, peer, c);
		r->tx_link = link_id(s, c, peer);
	} else if (p->state == RULES_UNBOUND) {
		struct home *h = home_of(c, port);

		if (h && link_into(c, h->link))
			r->rx_link = h->link;
	}
}

static void add_rec(struct lab_server *s, struct client *c, uint32_t port)
{
	fill_rec(s, c, port, &s->rep.rec[s->rep.nrec++]);
}

static int do_sync(struct lab_server *s, struct client *c)
{
	while (s->rep.nrec < PROTO_MAX_RECS) {
		int64_t port = portset_pop(&c->dirty);

		if (port < 0)
			break;
		add_rec(s, c, (uint32_t)port);
	}
	if (c->dirty.nonempty)
		s->rep.flags |= PROTO_F_MORE;
	else
		age_retired(c); /* it has every record now */
	return 0;
}

static int do_get_link(struct lab_server *s, struct client *c, uint32_t id,
		       int *fds, unsigned int *nfds)
{
	struct link *l;
	int role, fd;

	for (l = c->out; l && l->id != id; l = l->next_out)
		;
	if (!l)
		l = link_into(c, id);
	if (!l)
		return -ENOENT;
	if (!link_ready(s, l))
		return -ENOMEM;
	role = (l->from == c ? PROTO_ROLE_SENDER : 0) |
	       (l->to == c ? PROTO_ROLE_RECEIVER : 0);
	/* Each side gets write access to its own page only. */
	fd = role & PROTO_ROLE_SENDER ? dup(l->tx_fd) : proto_reopen_ro(l->tx_fd);
	if (fd < 0)
		goto fail;
	fds[(*nfds)++] = fd;
	fd = role & PROTO_ROLE_RECEIVER ? dup(l->rx_fd) : proto_reopen_ro(l->rx_fd);
	if (fd < 0)
		goto fail;
	fds[(*nfds)++] = fd;
	if (role & PROTO_ROLE_SENDER) {
		fd = dup(l->wake);
		if (fd < 0)
			goto fail;
		fds[(*nfds)++] = fd;
	}
	return role;
fail:
	while (*nfds)
		close(fds[--*nfds]);
	return -EMFILE;
}

static struct token *token_of(struct lab_server *s, uint32_t domid)
{
	struct token *t = s->tokens;

	while (t && t->domid != domid)
		t = t->next;
	return t;
}

/* In a strict lab, joining as @domid takes its token (compared in constant
 * time); domain 0 is also open to the process that started the lab. */
static int may_join(struct lab_server *s, struct client *c, uint32_t domid,
		    const char *token)
{
	struct token *t;
	unsigned char diff = 0;

	if (!s->cfg.strict)
		return 0;
	if (domid == RULES_CONTROL_DOMID && c->pid > 0 && c->pid == s->cfg.owner)
		return 0;
	t = domid < RULES_DOMID_FIRST_RESERVED ? token_of(s, domid) : NULL;
	if (!t)
		return -EACCES;
	for (unsigned int i = 0; i < PROTO_TOKEN_LEN; i++)
		diff |= (unsigned char)(t->hex[i] ^ token[i]);
	return diff ? -EACCES : 0;
}

/* The token of @domid, made on first request; the control domain only. */
static int do_grant(struct lab_server *s, struct client *c, uint32_t domid)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[PROTO_TOKEN_LEN / 2];
	struct token *t;
	int err = rules_toolstack_check(s->lab, &c->rh);

	if (err)
		return err;
	if (domid == RULES_DOMID_SELF)
		domid = RULES_CONTROL_DOMID;
	if (domid >= RULES_DOMID_FIRST_RESERVED)
		return -EINVAL;
	t = token_of(s, domid);
	if (!t) {
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			return -EAGAIN;
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		t->domid = (uint16_t)domid;
		for (unsigned int i = 0; i < sizeof(raw); i++) {
			t->hex[2 * i] = digits[raw[i] >> 4];
			t->hex[2 * i + 1] = digits[raw[i] & 15];
		}
		t->next = s->tokens;
		s->tokens = t;
	}
	memcpy(s->rep.token, t->hex, PROTO_TOKEN_LEN);
	return 0;
}

/* A destroyed domain's token goes with it. */
static void drop_token(struct lab_server *s, uint32_t domid)
{
	for (struct token **pp = &s->tokens; *pp; pp = &(*pp)->next) {
		if ((*pp)->domid == domid) {
			struct token *t = *pp;

			*pp = t->next;
			free(t);
			return;
		}
	}
}

static int spare_make(struct spare *sp)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.u64 = PROTO_WAKE_LAB };
	int err;

	*sp = (struct spare){ .epfd = -1, .wake = -1, .ctl_fd = -1, .ctl_ro = -1 };
	sp->epfd = epoll_create1(EPOLL_CLOEXEC);
	sp->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sp->epfd < 0 || sp->wake < 0 ||
	    epoll_ctl(sp->epfd, EPOLL_CTL_ADD, sp->wake, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	sp->ctl_fd = proto_shared_page("evtchnx-ctl", PROTO_CTL_SIZE, (void **)&sp->ctl);
	if (sp->ctl_fd < 0) {
		err = sp->ctl_fd;
		goto fail;
	}
	sp->ctl_ro = proto_reopen_ro(sp->ctl_fd);
	if (sp->ctl_ro < 0) {
		err = sp->ctl_ro;
		goto fail;
	}
	return 0;
fail:
	spare_free(sp);
	return err;
}

/* Make spares while nobody waits (out of descriptors: joins make their own). */
static void spares_fill(struct lab_server *s)
{
	while (s->nspares < SPARES && spare_make(&s->spares[s->nspares]) == 0)
		s->nspares++;
}

static void spares_free(struct lab_server *s)
{
	while (s->nspares)
		spare_free(&s->spares[--s->nspares]);
}

static int do_hello(struct lab_server *s, struct client *c,
		    const struct proto_req *rq, int *fds, unsigned int *nfds)
{
	struct spare sp;
	uint32_t id;
	int err;
	unsigned int mine = 0;

	if (rq->arg[1] != PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if ((rq->arg[2] & PROTO_HELLO_STRICT) && !s->cfg.strict)
		return -EPERM; /* asked for a strict lab: this one is not */
	err = may_join(s, c, rq->arg[0], rq->token);
	if (err)
		return err;
	if (s->njoined >= s->cfg.max_handles)
		return -ENFILE; /* the lab's handle limit */
	for (struct client *o = s->all; o && c->pid; o = o->next)
		mine += o->joined && o->pid == c->pid;
	if (mine >= s->cfg.max_per_process)
		return -EMFILE; /* this process's share of the lab */
	for (id = 1; id <= RULES_MAX_HANDLES && s->clients[id]; id++)
		;
	if (id > RULES_MAX_HANDLES)
		return -ENFILE;
	if (s->nspares) {
		sp = s->spares[--s->nspares];
	} else {
		err = spare_make(&sp);
		if (err)
			return err;
	}
	c->epfd = sp.epfd;
	c->wake = sp.wake;
	c->ctl_fd = sp.ctl_fd;
	c->ctl = sp.ctl;
	fds[(*nfds)++] = sp.ctl_ro; /* the client's: closed once sent */
	/* The epoll set and the status page stay ours: sent, not closed. */
	s->borrowed |= 1u << *nfds;
	fds[(*nfds)++] = c->epfd;
	/* Only the control domain may see every domain's ports: the others
	 * ask for their own (a guest learns nothing of its neighbours). */
	if (rq->arg[0] == RULES_CONTROL_DOMID) {
		s->borrowed |= 1u << *nfds;
		fds[(*nfds)++] = s->status.ro_fd;
	}
	c->rh.id = id;
	err = rules_join(s->lab, &c->rh, rq->arg[0]);
	if (err)
		return err;
	c->joined = true;
	s->njoined++;
	s->clients[id] = c;
	return (int)id;
}

/* Orphaned handles learn it at their next call; one blocked in a wait is
 * woken to learn it now. */
static void announce_orphans(struct lab_server *s)
{
	for (uint32_t id = 1; id <= RULES_MAX_HANDLES; id++) {
		struct client *c = s->clients[id];

		if (c && c->rh.orphaned && !c->told_orphaned) {
			c->told_orphaned = true;
			announce(c);
			wake(c->wake);
		}
	}
}

/* The length a request must have: its ports follow a batch's. */
static size_t request_size(const struct proto_req *rq)
{
	uint32_t count;

	switch (rq->op) {
	case PROTO_BIND_INTERDOMAIN_N:
		count = rq->arg[1];
		break;
	case PROTO_UNBIND_N:
		count = rq->arg[0];
		break;
	case PROTO_STATUS_N:
		count = rq->arg[1];
		break;
	default:
		return sizeof(*rq);
	}
	return count <= PROTO_MAX_RECS ? PROTO_REQ_N_SIZE(count) : 0;
}

/* How a batch ends: the count done, or the first failure's error. */
static int batch_end(uint32_t done, int err)
{
	return done ? (int)done : err;
}

static int do_alloc_unbound_n(struct lab_server *s, struct client *c,
			      uint32_t dom, uint32_t remote_dom, uint32_t count)
{
	bool own = dom == RULES_DOMID_SELF || dom == c->rh.domid;
	uint32_t i;
	int r = -EINVAL;

	for (i = 0; i < count && count <= PROTO_MAX_RECS; i++) {
		r = rules_alloc_unbound(s->lab, &c->rh, dom, remote_dom);
		if (r < 0)
			break;
		if (own) {
			add_rec(s, c, (uint32_t)r);
		} else {
			struct proto_rec *rec = &s->rep.rec[s->rep.nrec++];

			memset(rec, 0, sizeof(*rec));
			rec->port = (uint32_t)r;
			rec->owned = PROTO_REC_FOREIGN;
		}
	}
	return batch_end(i, r);
}

static int do_bind_interdomain_n(struct lab_server *s, struct client *c,
				 uint32_t remote_dom, uint32_t count)
{
	uint32_t i;
	int r = -EINVAL;

	for (i = 0; i < count; i++) {
		r = rules_bind_interdomain(s->lab, &c->rh, remote_dom, s->ports[i]);
		if (r < 0)
			break;
		add_rec(s, c, (uint32_t)r);
	}
	return batch_end(i, r);
}

static int do_unbind_n(struct lab_server *s, struct client *c, uint32_t count)
{
	uint32_t i;
	int r = -EINVAL;

	for (i = 0; i < count; i++) {
		r = rules_unbind(s->lab, &c->rh, s->ports[i]);
		if (r < 0)
			break;
		add_rec(s, c, s->ports[i]);
	}
	return batch_end(i, r);
}

/* ---- PROTO_LAB_STATS ------------------------------------------------------ */

/* The counters at the start of a link's tx page, read through a read-only
 * mapping of the first page (the memfd is sealed: it cannot shrink under
 * us).  The sender writes them: any value is possible, none is used but to
 * be shown.  Zero when the link has no pages yet or the mapping fails. */
static void read_tx_counters(const struct link *l, uint32_t *head,
			     uint32_t *overflows)
{
	const struct link_tx *tx;
	void *m;

	*head = *overflows = 0;
	if (l->tx_fd < 0)
		return;
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, l->tx_fd, 0);
	if (m == MAP_FAILED)
		return;
	tx = m;
	*head = atomic_load_explicit(&tx->head, memory_order_relaxed);
	*overflows = atomic_load_explicit(&tx->overflows, memory_order_relaxed);
	munmap(m, 4096);
}

/* One page of link or domain counters (see proto.h); the control domain
 * only.  Bounded: one pass over the handle slots (or domain ids), each
 * handle's links visited once, at most PROTO_MAX_STATS records. */
static int do_lab_stats(struct lab_server *s, struct client *c, const uint32_t *a)
{
	char *out = (char *)s->rep.rec;
	unsigned int n = 0;
	int err = rules_toolstack_check(s->lab, &c->rh);

	if (err)
		return err;
	if (a[0] == PROTO_STATS_LINKS) {
		for (uint32_t id = a[1] ? a[1] : 1; id <= RULES_MAX_HANDLES; id++) {
			struct client *o = s->clients[id];

			for (struct link *l = o ? o->out : NULL; l; l = l->next_out) {
				struct proto_link_stat st = { .link = l->id };

				if (id == a[1] && a[2] && l->id >= a[2])
					continue; /* sent in an earlier page */
				if (n == PROTO_MAX_STATS) {
					s->rep.flags |= PROTO_F_MORE;
					goto done;
				}
				st.from_handle = id;
				st.from_dom = o->rh.domid;
				st.from_pid = (uint32_t)o->pid;
				st.to_handle = l->to->rh.id;
				st.to_dom = l->to->rh.domid;
				st.to_pid = (uint32_t)l->to->pid;
				st.channels = l->channels;
				read_tx_counters(l, &st.head, &st.overflows);
				memcpy(out + n++ * sizeof(st), &st, sizeof(st));
			}
		}
	done:
		s->rep.nrec = PROTO_STATS_NREC(struct proto_link_stat, n);
		return (int)n;
	}
	if (a[0] != PROTO_STATS_DOMAINS)
		return -EINVAL;
	for (uint32_t d = a[1], scanned = 0; d < RULES_DOMID_FIRST_RESERVED; d++) {
		struct proto_dom_stat st = { .domid = d };

		if (!rules_domain_exists(s->lab, d))
			continue;
		/* A page ends at PROTO_MAX_STATS domains, or once the port
		 * tables seen fill PROTO_STATS_PORT_BUDGET. */
		if (n == PROTO_MAX_STATS || scanned >= PROTO_STATS_PORT_BUDGET) {
			s->rep.flags |= PROTO_F_MORE;
			break;
		}
		for (uint32_t p = 0; rules_port_of(s->lab, d, p); p++) {
			uint8_t state = rules_port_of(s->lab, d, p)->state;

			st.table++;
			st.ports += state != RULES_FREE && state != RULES_RESERVED;
		}
		scanned += st.table;
		for (uint32_t id = 1; id <= RULES_MAX_HANDLES; id++)
			st.handles += s->clients[id] && s->clients[id]->rh.domid == d &&
				      !s->clients[id]->rh.orphaned;
		memcpy(out + n++ * sizeof(st), &st, sizeof(st));
	}
	s->rep.nrec = PROTO_STATS_NREC(struct proto_dom_stat, n);
	return (int)n;
}

static int do_status_n(struct lab_server *s, struct client *c, uint32_t dom,
		       uint32_t count)
{
	uint32_t i;
	int r = -EINVAL;

	for (i = 0; i < count; i++) {
		struct evtchnx_status st = { .sz = sizeof(st) };
		struct proto_rec *rec;

		r = rules_status(s->lab, &c->rh, dom, s->ports[i], &st);
		if (r < 0)
			break;
		rec = &s->rep.rec[s->rep.nrec++];
		*rec = (struct proto_rec){ .port = s->ports[i],
					   .owned = PROTO_REC_STATUS,
					   .state = (uint8_t)st.state,
					   .virq = (uint8_t)st.virq,
					   .remote_dom = st.remote_domid,
					   .remote_port = st.remote_port };
	}
	return batch_end(i, r);
}

static int dispatch(struct lab_server *s, struct client *c,
		    const struct proto_req *rq, int *fds, unsigned int *nfds)
{
	struct rules_lab *lab = s->lab;
	struct rules_handle *h = &c->rh;
	const uint32_t *a = rq->arg;
	int r;

	if (rq->op == PROTO_HELLO)
		return c->joined || c->epfd >= 0 ? -EPROTO : do_hello(s, c, rq, fds, nfds);
	if (!c->joined)
		return -EPROTO;

	switch (rq->op) {
	case PROTO_SYNC:
		return do_sync(s, c);
	case PROTO_GET_LINK:
		return do_get_link(s, c, a[0], fds, nfds);
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
		if (r == 0)
			drop_token(s, a[0]);
		announce_orphans(s);
		return r;
	case PROTO_DOMAIN_GRANT:
		return do_grant(s, c, a[0]);
	case PROTO_RAISE_VIRQ:
		return rules_raise_virq(lab, h, a[0], a[1]);
	case PROTO_ALLOC_UNBOUND_N:
		return do_alloc_unbound_n(s, c, a[0], a[1], a[2]);
	case PROTO_BIND_INTERDOMAIN_N:
		return do_bind_interdomain_n(s, c, a[0], a[1]);
	case PROTO_UNBIND_N:
		return do_unbind_n(s, c, a[0]);
	case PROTO_STATUS_N:
		return do_status_n(s, c, a[0], a[1]);
	case PROTO_LAB_STATS:
		return do_lab_stats(s, c, a);
	default:
		return -ENOSYS;
	}
}

/* Close the descriptors of a reply, but those the server keeps. */
static void close_reply_fds(struct lab_server *s, int *fds, unsigned int *nfds)
{
	while (*nfds) {
		--*nfds;
		if (!(s->borrowed & (1u << *nfds)))
			close(fds[*nfds]);
	}
	s->borrowed = 0;
}

/* Returns false when the client must be dropped. */
static bool serve_one(struct lab_server *s, struct client *c)
{
	struct proto_req_n rqn;
	struct proto_req rq;
	int rfds[PROTO_MAX_FDS], fds[PROTO_MAX_FDS];
	unsigned int nrfds, nfds = 0;
	ssize_t n = proto_recv(c->sock, &rqn, sizeof(rqn), rfds, &nrfds);
	bool ok;

	if (nrfds) {
		/* A kernel without SO_PASSRIGHTS let descriptors through:
		 * close them on another thread (closing a lingering socket
		 * blocks), and drop the client. */
		for (unsigned int i = 0; i < nrfds; i++)
			close_elsewhere(rfds[i]);
		return false;
	}
	if (n == -EAGAIN)
		return true;
	if (n < (ssize_t)sizeof(rq) || n != (ssize_t)request_size(&rqn.rq))
		return false; /* EOF, error, or a malformed request */
	rq = rqn.rq;
	s->ports = rqn.ports;
	if (rq.op == PROTO_BYE) {
		struct proto_rep bye = { .op = PROTO_BYE };

		client_leave(s, c);
		(void)proto_send(c->sock, &bye, PROTO_REP_SIZE(0), NULL, 0);
		return false;
	}
	memset(&s->rep, 0, PROTO_REP_SIZE(0));
	s->rep.op = rq.op;
	s->requester = c;
	s->borrowed = 0;
	s->rep.result = dispatch(s, c, &rq, fds, &nfds);
	s->requester = NULL;
	if (s->rep.result < 0) {
		close_reply_fds(s, fds, &nfds);
	}
	if (c->rh.orphaned)
		s->rep.flags |= PROTO_F_ORPHANED;
	ok = proto_send(c->sock, &s->rep, PROTO_REP_SIZE(s->rep.nrec), fds,
			nfds) == 0;
	if (rq.op == PROTO_HELLO && s->rep.result < 0)
		ok = false; /* refused: the connection has no more to do here */
	/* Sent descriptors are the client's now; ours are copies. */
	close_reply_fds(s, fds, &nfds);
	return ok;
}

/* ---- retiring ------------------------------------------------------------- */

/* Stop watching the listening socket (at the connection cap, or out of
 * descriptors) rather than spin on it: the next tick looks again. */
static void pause_accepting(struct lab_server *s)
{
	if (s->accept_paused)
		return;
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->cfg.listen_fd, NULL);
	s->accept_paused = true;
	tick(s, true);
}

static void accept_all(struct lab_server *s)
{
	while (s->nclients < max_connections(s)) {
		int fd = accept4(s->cfg.listen_fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			client_add(s, fd, true);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			pause_accepting(s);
		return; /* EAGAIN: all taken */
	}
	pause_accepting(s);
}

/* Every 250 ms while needed: drop connections that did not say HELLO in
 * time, and accept again when there is room. */
static void on_tick(struct lab_server *s)
{
	int64_t limit = now_ms() - (int64_t)s->cfg.hello_timeout_ms;
	bool greeting = false;
	uint64_t ticks;

	(void)!read(s->tickfd, &ticks, sizeof(ticks));
	for (struct client *c = s->all, *next; c; c = next) {
		next = c->next;
		if (c->joined)
			continue;
		if (c->since_ms < limit)
			client_drop(s, c);
		else
			greeting = true;
	}
	if (s->accept_paused && s->nclients < max_connections(s)) {
		s->accept_paused = false;
		if (watch_add(s, s->cfg.listen_fd, &s->wlisten) < 0)
			s->accept_paused = true;
		else
			accept_all(s);
		/* Those it accepted have their greeting ahead of them. */
		for (struct client *c = s->all; c && !greeting; c = c->next)
			greeting = !c->joined;
	}
	tick(s, greeting || s->accept_paused);
}

/* SIGTERM, SIGINT or SIGHUP: remove the lab's files (under the lab's lock,
 * so that a starting client does not race us) and tell every handle, whose
 * next call then finds the server gone (-EIO). */
static void shut_down(struct lab_server *s)
{
	int lock = s->cfg.lock_path ? lab_lock(s->cfg.lock_path) : -1;

	if (s->cfg.sock_path)
		unlink(s->cfg.sock_path);
	if (lock >= 0) {
		unlink(s->cfg.lock_path);
		close(lock);
	}
	for (struct client *c = s->all; c; c = c->next) {
		if (!c->ctl)
			continue;
		announce(c);
		wake(c->wake);
	}
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
	if (!s->cfg.max_handles || s->cfg.max_handles > RULES_MAX_HANDLES)
		s->cfg.max_handles = LAB_DEFAULT_MAX_HANDLES;
	if (!s->cfg.max_per_process)
		s->cfg.max_per_process = LAB_DEFAULT_MAX_PER_PROCESS;
	if (!s->cfg.hello_timeout_ms)
		s->cfg.hello_timeout_ms = LAB_DEFAULT_HELLO_TIMEOUT_MS;
	s->epfd = s->timerfd = s->tickfd = -1;
	hooks = (struct rules_hooks){ .ctx = s, .raise = hook_raise,
				      .clear = hook_clear,
				      .changed = hook_changed,
				      .channel = hook_channel,
				      .status = hook_status,
				      .domain = hook_domain };
	s->status.fd = s->status.ro_fd = -1;
	err = -status_page_create(&s->status);
	if (err)
		goto fail_free;
	err = ENOMEM;
	s->lab = rules_lab_new(&hooks);
	if (!s->lab)
		goto fail_free;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		goto fail_errno;
	s->wlisten = (struct watch){ W_LISTEN, NULL };
	s->wdoor = (struct watch){ W_DOOR, NULL };
	s->wtimer = (struct watch){ W_TIMER, NULL };
	s->wtick = (struct watch){ W_TICK, NULL };
	s->wsignal = (struct watch){ W_SIGNAL, NULL };
	s->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->tickfd < 0 || watch_add(s, s->tickfd, &s->wtick))
		goto fail_errno;
	if (cfg->signal_fd >= 0 && watch_add(s, cfg->signal_fd, &s->wsignal))
		goto fail_errno;
	if (cfg->listen_fd >= 0) {
		(void)fcntl(cfg->listen_fd, F_SETFL,
			    fcntl(cfg->listen_fd, F_GETFL) | O_NONBLOCK);
		s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (s->timerfd < 0 || watch_add(s, cfg->listen_fd, &s->wlisten) ||
		    watch_add(s, s->timerfd, &s->wtimer))
			goto fail_errno;
		if (!cfg->wait_first && !cfg->keep)
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
	lab_server_free(s); /* closes the descriptors it was given */
	errno = err;
	return NULL;
fail_free:
	status_page_destroy(&s->status);
	free(s);
fail:
	close_fd(cfg->listen_fd);
	close_fd(cfg->door_fd);
	close_fd(cfg->signal_fd);
	errno = err;
	return NULL;
}

/* Drop every client that lost an event.  Returns whether any was. */
static bool drop_lost(struct lab_server *s)
{
	bool any = false;

	s->must_drop = false;
	for (uint32_t id = 1; id <= RULES_MAX_HANDLES; id++) {
		struct client *o = s->clients[id];

		if (o && o->lost_event) {
			client_drop(s, o);
			any = true;
		}
	}
	return any;
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

static int serve_events(struct lab_server *s, const struct epoll_event *evs,
			int n)
{
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
		case W_TICK:
			on_tick(s);
			return 0; /* it may have dropped clients that evs name */
		case W_SIGNAL:
			shut_down(s);
			return 1;
		case W_TIMER:
			if (read(s->timerfd, &ticks, sizeof(ticks)) > 0 &&
			    s->nclients == 0 && try_retire(s))
				return 1;
			break;
		case W_SOCK:
			if (!serve_one(s, w->c)) {
				client_drop(s, w->c);
				if (s->must_drop)
					(void)drop_lost(s);
				return 0; /* evs may name it */
			}
			if (s->must_drop && drop_lost(s))
				return 0;
			break;
		case W_PIDFD:
			client_drop(s, w->c);
			if (s->must_drop)
				(void)drop_lost(s);
			return 0;
		}
	}
	return 0;
}

int lab_server_run(struct lab_server *s)
{
	struct epoll_event evs[32];

	for (;;) {
		int n, done;

		if (s->cfg.door_fd >= 0 && !s->door_open && s->nclients == 0)
			return 0;
		n = epoll_wait(s->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (s->cfg.busy)
			pthread_mutex_lock(s->cfg.busy);
		done = serve_events(s, evs, n);
		if (!done)
			spares_fill(s);
		if (s->cfg.busy)
			pthread_mutex_unlock(s->cfg.busy);
		if (done)
			return 0;
	}
}

void lab_server_free(struct lab_server *s)
{
	if (!s)
		return;
	for (uint32_t id = 0; id <= RULES_MAX_HANDLES; id++)
		if (s->clients[id])
			client_drop(s, s->clients[id]);
	while (s->all) /* connections that never joined */
		client_drop(s, s->all);
	close_fd(s->epfd);
	close_fd(s->timerfd);
	close_fd(s->tickfd);
	close_fd(s->cfg.listen_fd);
	close_fd(s->cfg.door_fd);
	close_fd(s->cfg.signal_fd);
	while (s->tokens)
		drop_token(s, s->tokens->domid);
	rules_lab_free(s->lab);
	status_page_destroy(&s->status);
	spares_free(s);
	free(s);
}

/* Close the descriptors of the links in a list chained through @in (or
 * through next_out), leaving the memory alone. */
static void forget_links(struct link *l, bool in)
{
	for (; l; l = in ? l->next_in : l->next_out) {
		close_fd(l->tx_fd);
		close_fd(l->rx_fd);
		close_fd(l->wake);
	}
}

void lab_server_forget(struct lab_server *s)
{
	if (!s)
		return;
	for (struct client *c = s->all; c; c = c->next) {
		close_fd(c->sock);
		close_fd(c->pidfd);
		close_fd(c->epfd);
		close_fd(c->wake);
		close_fd(c->ctl_fd);
		forget_links(c->retired, true);
		forget_links(c->retiring, true);
		forget_links(c->out, false); /* every live link is someone's out */
	}
	close_fd(s->epfd);
	close_fd(s->timerfd);
	close_fd(s->tickfd);
	close_fd(s->cfg.listen_fd);
	close_fd(s->cfg.door_fd);
	close_fd(s->cfg.signal_fd);
	close_fd(s->status.fd);
	close_fd(s->status.ro_fd);
	for (unsigned int i = 0; i < s->nspares; i++) {
		close_fd(s->spares[i].epfd);
		close_fd(s->spares[i].wake);
		close_fd(s->spares[i].ctl_fd);
		close_fd(s->spares[i].ctl_ro);
	}
}
