/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx-watch.c - `evtchnx watch`: a live view of a shared lab's domains,
 * their open ports, and the links between handles with their event rates.
 *
 * Events never pass through the lab server: they travel on links, shared
 * pages between a sender handle and a receiver handle.  Each link's tx page
 * counts the ring entries its sender wrote, that is the events raised on a
 * port that was not pending (a send that finds its port pending coalesces
 * and is not counted, as on Xen).  The server reads that counter for the
 * control domain (evtchnx-labstat.c); the rate is its growth between two
 * frames.  The ports come from evtchnx_status(), one request per port up
 * to the end of each domain's port table.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evtchnx-cli.h"
#include "evtchnx.h"

const char cli_usage_watch[] =
	"Usage: evtchnx watch --lab NAME [--interval MS] [--count N] [--json]\n"
	"\n"
	"Show a running shared lab, refreshed every interval: its domains, the\n"
	"ports open in each, and the links between handles (a link carries the\n"
	"events of every channel between two handles, one way) with the events\n"
	"each carried and its rate since the last frame.  Events that find their\n"
	"port still pending coalesce and are not counted.  As the control\n"
	"domain; the lab must be running (exit status 3 otherwise).  HANDLES\n"
	"does not count the command's own.\n"
	"\n"
	"  -l, --lab NAME       the lab (see 'evtchnx lab list')\n"
	"  -t, --target T       the same as a target: sim:NAME\n"
	"  -i, --interval MS    time between frames (default 1000; 10 to 3600000)\n"
	"  -c, --count N        stop after N frames (default: until SIGINT)\n"
	"  -j, --json           one JSON object per frame and line:\n"
	"                       {\"lab\":L,\"frame\":F,\"elapsed_ms\":E,\"domains\":[...],\n"
	"                       \"links\":[...]}; \"rate\" is null in the first frame\n"
	"  -h, --help           print this help\n"
	"\n"
	"On a terminal the view is redrawn in place; otherwise (or with --json)\n"
	"each frame follows the last.\n";

static volatile sig_atomic_t watch_stop;

static void on_watch_stop(int sig)
{
	(void)sig;
	watch_stop = 1;
}

struct port_row {
	uint32_t port;
	struct evtchnx_status st;
};

/* The open ports of @dom, up to the end of its table.  Returns how many
 * (in *rows, malloc'ed), or a negative errno. */
static int scan_ports(struct evtchnx_handle *h, uint32_t dom, struct port_row **rows)
{
	struct port_row *all = NULL;
	size_t n = 0, cap = 0;

	for (uint32_t port = 1;; port++) {
		struct evtchnx_status st = { .sz = sizeof(st) };
		int r = evtchnx_status(h, dom, port, &st);

		if (r == -EINVAL || r == -ESRCH)
			break; /* the end of its table; or it was just destroyed */
		if (r < 0) {
			free(all);
			return r;
		}
		if (st.state == EVTCHNX_STATE_CLOSED)
			continue;
		if (n == cap) {
			struct port_row *g;

			cap = cap ? cap * 2 : 16;
			g = realloc(all, cap * sizeof(*g));
			if (!g) {
				free(all);
				return -ENOMEM;
			}
			all = g;
		}
		all[n++] = (struct port_row){ port, st };
	}
	*rows = all;
	return (int)n;
}

struct frame {
	struct cli_dom *doms;
	size_t ndoms;
	struct port_row **ports; /* per domain */
	int *nports;
	struct cli_link *links;
	size_t nlinks;
	uint64_t t_ns;
};

static void frame_free(struct frame *f)
{
	for (size_t i = 0; i < f->ndoms && f->ports; i++)
		free(f->ports[i]);
	free(f->ports);
	free(f->nports);
	free(f->doms);
	free(f->links);
	memset(f, 0, sizeof(*f));
}

static int frame_take(int sock, struct evtchnx_handle *h, struct frame *f)
{
	int r;

	memset(f, 0, sizeof(*f));
	r = cli_labstat_domains(sock, &f->doms, &f->ndoms);
	if (r < 0)
		return r;
	f->ports = calloc(f->ndoms + 1, sizeof(*f->ports));
	f->nports = calloc(f->ndoms + 1, sizeof(*f->nports));
	if (!f->ports || !f->nports)
		return -ENOMEM;
	for (size_t i = 0; i < f->ndoms; i++) {
		/* Not counting this command's own two handles. */
		if (f->doms[i].domid == 0 && f->doms[i].handles >= 2)
			f->doms[i].handles -= 2;
		r = scan_ports(h, f->doms[i].domid, &f->ports[i]);
		if (r < 0)
			return r;
		f->nports[i] = r;
	}
	/* The counters last, so that the interval between two frames is
	 * measured where they were read. */
	r = cli_labstat_links(sock, &f->links, &f->nlinks);
	f->t_ns = cli_now_ns();
	return r;
}

/* The rate of link @l since frame @prev (NULL: none), or -1 for none. */
static double link_rate(const struct cli_link *l, const struct frame *prev, uint64_t now)
{
	if (!prev || now <= prev->t_ns)
		return -1;
	for (size_t i = 0; i < prev->nlinks; i++) {
		if (prev->links[i].link != l->link)
			continue;
		/* Unsigned: the counter may wrap. */
		return (double)(uint32_t)(l->head - prev->links[i].head) * 1e9 /
		       (double)(now - prev->t_ns);
	}
	return -1; /* a new link */
}

static void json_frame(const char *lab, unsigned long seq, const struct frame *f,
		       const struct frame *prev, unsigned long interval)
{
	printf("{\"lab\":\"%s\",\"frame\":%lu,\"interval_ms\":%lu,\"elapsed_ms\":", lab, seq,
	       interval);
	if (prev)
		printf("%.1f", (double)(f->t_ns - prev->t_ns) / 1e6);
	else
		printf("null");
	printf(",\"domains\":[");
	for (size_t i = 0; i < f->ndoms; i++) {
		const struct cli_dom *d = &f->doms[i];

		printf("%s{\"dom\":%u,\"handles\":%u,\"table\":%u,\"ports\":[", i ? "," : "",
		       d->domid, d->handles, d->table);
		bool first = true;

		for (int k = 0; k < f->nports[i]; k++)
			cli_status_json(&first, f->ports[i][k].port, &f->ports[i][k].st);
		printf("]}");
	}
	printf("],\"links\":[");
	for (size_t i = 0; i < f->nlinks; i++) {
		const struct cli_link *l = &f->links[i];
		double rate = link_rate(l, prev, f->t_ns);

		printf("%s{\"link\":%u,\"from\":{\"dom\":%u,\"handle\":%u,\"pid\":%u},"
		       "\"to\":{\"dom\":%u,\"handle\":%u,\"pid\":%u},\"channels\":%u,"
		       "\"events\":%u,\"overflows\":%u,\"rate\":",
		       i ? "," : "", l->link, l->from_dom, l->from_handle, l->from_pid, l->to_dom,
		       l->to_handle, l->to_pid, l->channels, l->head, l->overflows);
		if (rate < 0)
			printf("null}");
		else
			printf("%.1f}", rate);
	}
	printf("]}\n");
}

static void text_frame(const char *lab, unsigned long seq, const struct frame *f,
		       const struct frame *prev, unsigned long interval, bool tty)
{
	if (tty)
		printf("\033[H\033[2J");
	printf("lab %s   frame %lu   every %lu ms   %zu domain%s, %zu link%s%s\n\n", lab, seq,
	       interval, f->ndoms, f->ndoms == 1 ? "" : "s", f->nlinks,
	       f->nlinks == 1 ? "" : "s", tty ? "   (Ctrl-C to stop)" : "");
	printf("  %5s  %7s  %5s  %-11s  %s\n", "DOM", "HANDLES", "PORT", "STATE", "REMOTE");
	for (size_t i = 0; i < f->ndoms; i++) {
		const struct cli_dom *d = &f->doms[i];

		if (!f->nports[i])
			printf("  %5u  %7u  %5s  %-11s\n", d->domid, d->handles, "-", "(none open)");
		for (int k = 0; k < f->nports[i]; k++) {
			const struct port_row *p = &f->ports[i][k];
			char remote[48] = "";

			if (p->st.state == EVTCHNX_STATE_INTERDOMAIN)
				snprintf(remote, sizeof(remote), "dom%u port %u", p->st.remote_domid,
					 p->st.remote_port);
			else if (p->st.state == EVTCHNX_STATE_UNBOUND)
				snprintf(remote, sizeof(remote), "offered to dom%u",
					 p->st.remote_domid);
			else if (p->st.state == EVTCHNX_STATE_VIRQ)
				snprintf(remote, sizeof(remote), "virq %u", p->st.virq);
			if (k == 0)
				printf("  %5u  %7u", d->domid, d->handles);
			else
				printf("  %5s  %7s", "", "");
			printf("  %5u  %-11s  %s\n", p->port, cli_state_name(p->st.state), remote);
		}
	}
	printf("\n  %4s  %-20s  %-20s  %8s  %10s  %10s  %9s\n", "LINK", "FROM", "TO", "CHANNELS",
	       "EVENTS", "EVENTS/S", "OVERFLOWS");
	if (!f->nlinks)
		printf("  (no links: no channel joins two handles)\n");
	for (size_t i = 0; i < f->nlinks; i++) {
		const struct cli_link *l = &f->links[i];
		double rate = link_rate(l, prev, f->t_ns);
		char from[32], to[32], r[24] = "-";

		snprintf(from, sizeof(from), "dom%u (pid %u)", l->from_dom, l->from_pid);
		snprintf(to, sizeof(to), "dom%u (pid %u)", l->to_dom, l->to_pid);
		if (rate >= 0)
			snprintf(r, sizeof(r), "%.1f", rate);
		printf("  %4u  %-20s  %-20s  %8u  %10u  %10s  %9u\n", l->link, from, to,
		       l->channels, l->head, r, l->overflows);
	}
	if (!tty)
		printf("\n");
	fflush(stdout);
}

int cmd_watch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "target", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lab = NULL, *target = NULL, *name;
	unsigned long interval = 1000, count = 0, seq = 0;
	struct frame frames[2] = { 0 }, *prev = NULL;
	struct evtchnx_handle *h = NULL;
	char resolved[128], sock_path[4096];
	struct sigaction sa = { .sa_handler = on_watch_stop };
	bool json = false, tty;
	uint64_t next;
	int c, r, sock = -1, ret = CLI_EXIT_OK;

	optind = 0;
	while ((c = getopt_long(argc, argv, "l:t:i:c:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			lab = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'i':
			if (cli_parse_ulong(optarg, 3600000, &interval) || interval < 10)
				return cli_usage_error("watch", "--interval: not a number of "
						       "milliseconds (10 to 3600000): '%s'", optarg);
			break;
		case 'c':
			if (cli_parse_ulong(optarg, 1000000000, &count) || !count)
				return cli_usage_error("watch", "--count: not a count (1 or more): '%s'",
						       optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(cli_usage_watch, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("watch", "bad option");
		}
	}
	if (optind < argc)
		return cli_usage_error("watch", "watch takes no arguments: '%s'", argv[optind]);
	r = cli_resolve_target("watch", lab, target, resolved, sizeof(resolved));
	if (r != CLI_EXIT_OK)
		return r;
	if (strncmp(resolved, "sim:", 4))
		return cli_usage_error("watch", "watch shows shared sim labs (--lab NAME), "
				       "not '%s'", resolved);
	name = resolved + 4;
	if (cli_lab_sock_path(name, sock_path, sizeof(sock_path)))
		return cli_usage_error("watch", "not a lab name: '%s' (1 to 64 of A-Z a-z 0-9 . _ -)",
				       name);
	r = cli_open(resolved, 0, &h); /* exit 3, with a hint, when it is not running */
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_labstat_open(sock_path, &sock);
	if (r < 0) {
		evtchnx_close(h);
		return cli_fail(r, "lab %s: connecting to its server as domain 0%s", name,
				r == -EACCES ? " (a strict lab: set $EVTCHNX_LAB_TOKEN to domain 0's "
					       "token, or watch from the process that started it)" : "");
	}

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	tty = !json && isatty(STDOUT_FILENO);
	next = cli_now_ns();
	while (!watch_stop && (!count || seq < count)) {
		struct frame *f = &frames[seq % 2];

		r = frame_take(sock, h, f);
		if (r < 0) {
			fflush(stdout);
			if (r == -EIO || r == -EPIPE || r == -ECONNRESET) {
				fprintf(stderr, "evtchnx: lab '%s' is no longer running\n", name);
				ret = CLI_EXIT_NOLAB;
			} else {
				ret = cli_fail(r, "lab %s: reading its state", name);
			}
			break;
		}
		seq++;
		if (json) {
			json_frame(name, seq, f, prev, interval);
			fflush(stdout);
		} else {
			text_frame(name, seq, f, prev, interval, tty);
		}
		if (prev)
			frame_free(prev);
		prev = f;
		if (count && seq >= count)
			break;
		next += (uint64_t)interval * 1000000u;
		while (!watch_stop) {
			uint64_t now = cli_now_ns();

			if (now >= next) {
				if (now - next > (uint64_t)interval * 1000000u)
					next = now; /* fell behind: no burst of frames */
				break;
			}
			/* In slices, so that a signal stops it at once. */
			cli_sleep_ns(next - now < 50000000u ? next - now : 50000000u);
		}
	}
	frame_free(&frames[0]);
	frame_free(&frames[1]);
	cli_labstat_close(sock);
	evtchnx_close(h);
	return ret;
}
