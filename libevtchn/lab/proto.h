/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * proto.h - the sim's control protocol between a handle and its lab server.
 *
 * One AF_UNIX SOCK_SEQPACKET connection per handle, strictly request/reply:
 * the server never sends anything unasked, so a connection cannot fill up.
 * What the server must tell a handle between requests (a port of its was
 * changed by someone else, or the lab raised an event on it) it records in
 * the handle's dirty set, announces by bumping the sequence number in the
 * handle's control page and, for an event, by a wake-up on the handle's
 * epoll set; the handle then asks for the changes (PROTO_SYNC).  Events
 * between handles never travel here: they take a link (link.h).
 */
#ifndef EVTCHNX_SIM_PROTO_H
#define EVTCHNX_SIM_PROTO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 4u
#define PROTO_TOKEN_LEN 32u /* hex digits, EVTCHNX_TOKEN_SIZE - 1 */
#define PROTO_MAX_RECS 256u
#define PROTO_MAX_FDS 3u

/* The epoll data of the wake-ups in a handle's epoll set (evtchnx_fd()):
 * a link's wake-up carries the link's id (>= 1). */
#define PROTO_WAKE_LAB 0u          /* the lab server's */
#define PROTO_WAKE_SELF UINT64_MAX /* the handle's own */
/* The handle's own connection, level-triggered: readable only at EOF (the
 * server never speaks unasked), so a dead server wakes its handles. */
#define PROTO_WAKE_SOCKET (UINT64_MAX - 1)

/* How long a handle waits for the server's answer to a request. */
#define PROTO_DEFAULT_TIMEOUT_MS 10000u

enum proto_op {
	PROTO_HELLO = 1,       /* arg: domid, version, PROTO_HELLO_*; token; fds back:
				* control page, epoll set */
	PROTO_BYE,             /* leave the lab (close every port) */
	PROTO_SYNC,            /* records of changed ports */
	PROTO_GET_LINK,        /* arg: link id; result: PROTO_ROLE_*; fds back below */
	PROTO_ALLOC_UNBOUND,   /* arg: dom, remote_dom */
	PROTO_BIND_INTERDOMAIN,/* arg: remote_dom, remote_port */
	PROTO_BIND_VIRQ,       /* arg: virq */
	PROTO_ADOPT,           /* arg: port */
	PROTO_UNBIND,          /* arg: port */
	PROTO_SEND,            /* arg: port (when the handle has no link for it) */
	PROTO_STATUS,          /* arg: dom, port */
	PROTO_RESET,           /* arg: dom */
	PROTO_RESTRICT,        /* arg: domid */
	PROTO_DOMAIN_CREATE,   /* arg: domid */
	PROTO_DOMAIN_DESTROY,  /* arg: domid */
	PROTO_RAISE_VIRQ,      /* arg: domid, virq */
	PROTO_DOMAIN_GRANT,    /* arg: domid; the token back in the reply */
	/* Batches (struct proto_req_n): the result is how many operations
	 * succeeded, each with its record in the reply, in order; or the
	 * first one's error.  Counts are 1 .. PROTO_MAX_RECS. */
	PROTO_ALLOC_UNBOUND_N,    /* arg: dom, remote_dom, count */
	PROTO_BIND_INTERDOMAIN_N, /* arg: remote_dom, count; ports: remote ports */
	PROTO_UNBIND_N,           /* arg: count; ports: ports */
	PROTO_STATUS_N,           /* arg: dom, count; ports: ports */
	PROTO_LAB_STATS,          /* arg: PROTO_STATS_*, cursor[2]; control domain
				   * only; see struct proto_link_stat */
};

/* PROTO_HELLO flags. */
#define PROTO_HELLO_STRICT 0x1u /* refuse to join a lab that is not strict */

/* PROTO_GET_LINK: the handle's role on the link, and the descriptors that
 * come with it, in this order: the tx page (read-write for the sender,
 * read-only for the receiver), the rx page (read-write for the receiver,
 * read-only for the sender), and for the sender the link's wake-up. */
#define PROTO_ROLE_SENDER 0x1
#define PROTO_ROLE_RECEIVER 0x2

struct proto_req {
	uint32_t op;
	uint32_t arg[3];
	char token[PROTO_TOKEN_LEN]; /* HELLO: the domain's token, if any */
};

/* A request with ports after it (the batches). */
struct proto_req_n {
	struct proto_req rq;
	uint32_t ports[PROTO_MAX_RECS];
};

#define PROTO_REQ_N_SIZE(n) (sizeof(struct proto_req) + (n) * sizeof(uint32_t))

/* proto_rec.owned in a batch reply: a port the batch allocated in another
 * domain's name (only .port is set). */
#define PROTO_REC_FOREIGN 2u
/* proto_rec.owned in a PROTO_STATUS_N reply: a status, not a port of ours
 * (.state is an EVTCHNX_STATE_*, .remote_dom/.remote_port/.virq as
 * evtchnx_status() reports them). */
#define PROTO_REC_STATUS 3u

/* One port of the handle as the lab sees it now. */
struct proto_rec {
	uint32_t port;
	uint8_t owned;        /* 0: the handle no longer owns it (forget it) */
	uint8_t state;        /* enum rules_state */
	uint8_t virq;
	uint8_t raised;       /* the lab raised an event on it since the last record */
	uint32_t remote_dom;
	uint32_t remote_port;
	uint32_t rx_link;     /* INTERDOMAIN: the link its events arrive on, 0: none */
	uint32_t tx_link;     /* INTERDOMAIN: the link its sends take, 0: through the lab */
};

struct proto_status {
	uint32_t state, vcpu, remote_domid, remote_port, virq;
};

#define PROTO_F_MORE 0x1u     /* SYNC: more records follow, ask again */
#define PROTO_F_ORPHANED 0x2u /* the handle's domain was destroyed */

struct proto_rep {
	uint32_t op;
	int32_t result;  /* >= 0, or a negative errno */
	uint32_t flags;  /* PROTO_F_* */
	uint32_t nrec;   /* records that follow */
	struct proto_status status; /* PROTO_STATUS */
	char token[PROTO_TOKEN_LEN];  /* PROTO_DOMAIN_GRANT */
	struct proto_rec rec[PROTO_MAX_RECS];
};

#define PROTO_REP_SIZE(n) (offsetof(struct proto_rep, rec) + (n) * sizeof(struct proto_rec))

/*
 * PROTO_LAB_STATS: counters for watching a lab, for the control domain only
 * (else -EPERM).  arg[0] says which:
 *
 *   PROTO_STATS_LINKS    the live links, by sender handle (ascending), and
 *                        for one sender by link id (descending).  arg[1]:
 *                        the sender handle to start at; arg[2]: if not 0,
 *                        skip that handle's links with an id >= arg[2].
 *   PROTO_STATS_DOMAINS  the domains, by id; arg[1]: the first domid.
 *
 * The result is the number of records (at most PROTO_MAX_STATS; a page of
 * domains also ends after PROTO_STATS_PORT_BUDGET ports of their tables),
 * stored from rep.rec on (nrec covers them: PROTO_STATS_NREC); PROTO_F_MORE
 * says that more follow: ask again with the cursor after the last record
 * (links: its from_handle and link; domains: its domid + 1).  One request
 * scans the handle slots, or the domain ids and a bounded number of ports,
 * at most once, so a large lab costs pages, not an unbounded request.  The
 * counters come from a link's tx page, which its sender writes: they are
 * numbers to show, not to trust.
 */
#define PROTO_STATS_LINKS 0u
#define PROTO_STATS_DOMAINS 1u
#define PROTO_MAX_STATS 128u
/* A page of domains ends once it has looked at this many ports. */
#define PROTO_STATS_PORT_BUDGET 262144u

struct proto_link_stat {
	uint32_t link;        /* the link's id */
	uint32_t from_handle, from_dom, from_pid; /* the sender */
	uint32_t to_handle, to_dom, to_pid;       /* the receiver */
	uint32_t channels;    /* channels whose events take it */
	uint32_t head;        /* tx page: ring entries written (events raised on
			       * an idle port; coalesced sends are not counted) */
	uint32_t overflows;   /* tx page: raises that found the ring full */
};

struct proto_dom_stat {
	uint32_t domid;
	uint32_t handles;     /* joined handles acting as it */
	uint32_t ports;       /* ports in use (not free, port 0 excluded) */
	uint32_t table;       /* ports in its table */
};

/* Records of @n stats of type @t stored from rep.rec on, in proto_recs. */
#define PROTO_STATS_NREC(t, n) \
	(((n) * sizeof(t) + sizeof(struct proto_rec) - 1) / sizeof(struct proto_rec))
_Static_assert(PROTO_MAX_STATS * sizeof(struct proto_link_stat) <=
		       PROTO_MAX_RECS * sizeof(struct proto_rec),
	       "a page of link stats fits in a reply");
_Static_assert(PROTO_MAX_STATS * sizeof(struct proto_dom_stat) <=
		       PROTO_MAX_RECS * sizeof(struct proto_rec),
	       "a page of domain stats fits in a reply");

/* The handle's control page: written by the server, read by the handle. */
struct proto_ctl_page {
	_Atomic uint32_t seq; /* bumped after the handle's dirty set grew */
};

#define PROTO_CTL_SIZE 4096u

/*
 * Send one message with up to PROTO_MAX_FDS descriptors (never raises
 * SIGPIPE).  Returns 0 or a negative errno; retries EINTR.
 */
int proto_send(int sock, const void *buf, size_t len, const int *fds,
	       unsigned int nfds);
/*
 * Receive one message.  Received descriptors (O_CLOEXEC) are stored in fds[]
 * (at most PROTO_MAX_FDS; extra ones are closed) and counted in *nfds.
 * Returns the message length, 0 on EOF, or a negative errno (-EAGAIN on a
 * non-blocking socket with nothing to read); retries EINTR.
 */
ssize_t proto_recv(int sock, void *buf, size_t cap, int *fds,
		   unsigned int *nfds);

/*
 * A shared page: a sealed memfd of @size bytes (it can neither shrink nor
 * grow, so no holder can make another's mapping fault), mapped read-write
 * into this process when @map is not NULL.  Returns the fd or a negative
 * errno.
 */
int proto_shared_page(const char *name, size_t size, void **map);
/*
 * The same, for a page only this process may ever write: it is mapped
 * read-write here (@map is required), then sealed so that no new writable
 * mapping or write() is possible through any descriptor of it, even one a
 * holder reopens read-write through /proc.
 */
int proto_published_page(const char *name, size_t size, void **map);
/* A read-only descriptor of the same memfd (a new open file description),
 * or a negative errno. */
int proto_reopen_ro(int memfd);

#endif /* EVTCHNX_SIM_PROTO_H */
