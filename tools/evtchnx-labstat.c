/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx-labstat.c - the lab counters behind `evtchnx watch`: a connection
 * to a shared lab's server as the control domain, speaking the sim's
 * internal protocol (libevtchn/lab/proto.h) for PROTO_LAB_STATS, which the
 * public API does not offer.  It lives in the tool, which is built with the
 * library, so the two always speak the same protocol version.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "evtchnx-cli.h"
#include "proto.h"

static int request(int sock, const struct proto_req *rq, struct proto_rep *rep)
{
	int fds[PROTO_MAX_FDS];
	unsigned int nfds;
	ssize_t n;
	int r = proto_send(sock, rq, sizeof(*rq), NULL, 0);

	if (r < 0)
		return r;
	n = proto_recv(sock, rep, sizeof(*rep), fds, &nfds);
	while (nfds) /* HELLO's control page and epoll set: not needed here */
		close(fds[--nfds]);
	if (n < 0)
		return n == -EAGAIN ? -ETIMEDOUT : (int)n;
	if (n < (ssize_t)PROTO_REP_SIZE(0) || rep->op != rq->op || rep->nrec > PROTO_MAX_RECS ||
	    (size_t)n != PROTO_REP_SIZE(rep->nrec))
		return -EPROTO;
	return rep->result;
}

int cli_labstat_open(const char *sock_path, int *out)
{
	struct timeval tv = { .tv_sec = PROTO_DEFAULT_TIMEOUT_MS / 1000 };
	struct proto_req rq = { .op = PROTO_HELLO, .arg = { 0, PROTO_VERSION, 0 } };
	const char *token = getenv("EVTCHNX_LAB_TOKEN");
	struct proto_rep *rep;
	int fd = cli_lab_connect(sock_path), r;

	if (fd < 0)
		return fd;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (token && strlen(token) == PROTO_TOKEN_LEN)
		memcpy(rq.token, token, PROTO_TOKEN_LEN);
	rep = malloc(sizeof(*rep));
	r = rep ? request(fd, &rq, rep) : -ENOMEM;
	free(rep);
	if (r < 0) {
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

void cli_labstat_close(int sock)
{
	struct proto_req rq = { .op = PROTO_BYE };
	struct proto_rep *rep = malloc(sizeof(*rep));

	if (rep)
		(void)request(sock, &rq, rep);
	free(rep);
	close(sock);
}

/* Every page of one kind; @rec_size is the size of one record. */
static int fetch_all(int sock, uint32_t kind, size_t rec_size, void **out, size_t *count)
{
	struct proto_rep *rep = malloc(sizeof(*rep));
	struct proto_req rq = { .op = PROTO_LAB_STATS, .arg = { kind, 0, 0 } };
	char *all = NULL;
	size_t n = 0;
	int r = 0;

	if (!rep)
		return -ENOMEM;
	for (unsigned int page = 0;; page++) {
		char *grown;

		r = request(sock, &rq, rep);
		if (r < 0)
			break;
		if ((unsigned int)r > PROTO_MAX_STATS ||
		    rep->nrec * sizeof(struct proto_rec) < (size_t)r * rec_size) {
			r = -EPROTO;
			break;
		}
		grown = realloc(all, (n + (size_t)r) * rec_size + 1);
		if (!grown) {
			r = -ENOMEM;
			break;
		}
		all = grown;
		memcpy(all + n * rec_size, rep->rec, (size_t)r * rec_size);
		n += (size_t)r;
		if (!(rep->flags & PROTO_F_MORE) || r == 0)
			break;
		/* The cursor: after the last record. */
		if (kind == PROTO_STATS_LINKS) {
			struct proto_link_stat last;

			memcpy(&last, all + (n - 1) * rec_size, sizeof(last));
			rq.arg[1] = last.from_handle;
			rq.arg[2] = last.link;
		} else {
			struct proto_dom_stat last;

			memcpy(&last, all + (n - 1) * rec_size, sizeof(last));
			rq.arg[1] = last.domid + 1;
		}
	}
	free(rep);
	if (r < 0) {
		free(all);
		return r;
	}
	*out = all;
	*count = n;
	return 0;
}

/* The tool's records are the protocol's, field for field. */
_Static_assert(sizeof(struct cli_link) == sizeof(struct proto_link_stat) &&
		       offsetof(struct cli_link, overflows) ==
			       offsetof(struct proto_link_stat, overflows),
	       "struct cli_link is struct proto_link_stat");
_Static_assert(sizeof(struct cli_dom) == sizeof(struct proto_dom_stat) &&
		       offsetof(struct cli_dom, table) == offsetof(struct proto_dom_stat, table),
	       "struct cli_dom is struct proto_dom_stat");

int cli_labstat_links(int sock, struct cli_link **out, size_t *count)
{
	return fetch_all(sock, PROTO_STATS_LINKS, sizeof(**out), (void **)out, count);
}

int cli_labstat_domains(int sock, struct cli_dom **out, size_t *count)
{
	return fetch_all(sock, PROTO_STATS_DOMAINS, sizeof(**out), (void **)out, count);
}
