/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx-ping.c - "evtchnx listen" and "evtchnx ping": the two ends of an
 * echo channel, for checking a path between two domains by hand (two
 * processes on a shared sim lab, or two domains on a Xen host).
 *
 *   evtchnx listen --target sim:lab --domid 1 2     # offers a port to dom2
 *   evtchnx ping --target sim:lab --domid 2 1 PORT  # binds it, times echoes
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evtchnx-cli.h"
#include "evtchnx.h"

#define LISTEN_PROBE_MS 1000

/* Set by SIGINT/SIGTERM: stop and print what we have. */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* No SA_RESTART: evtchnx_wait() returns -EINTR and the loop sees the flag. */
static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct endpoint_opts {
	const char *target;
	struct evtchnx_open_opts open;
	unsigned long count;
	double interval;
	double timeout;
};

static struct evtchnx_handle *open_endpoint(const struct endpoint_opts *o)
{
	struct evtchnx_handle *h = evtchnx_open(o->target, &o->open);

	if (!h)
		cli_fail(errno, "evtchnx_open(\"%s\", domid %u)",
			 o->target ? o->target : "", o->open.domid);
	return h;
}

/* Common options; returns -1 when the option is not one of them, else the
 * exit status to return (or 0 to go on) in *ret. */
static int endpoint_option(const char *cmd, int c, struct endpoint_opts *o,
			   int *ret)
{
	unsigned long v;

	*ret = 0;
	switch (c) {
	case 't':
		o->target = optarg;
		return 0;
	case 'd':
		if (cli_parse_ulong(optarg, 0xFFFF, &v))
			*ret = cli_usage_error(cmd, "--domid: not a domain id: '%s'",
					       optarg);
		else
			o->open.domid = (uint32_t)v;
		return 0;
	case 'c':
		if (cli_parse_ulong(optarg, UINT32_MAX, &v))
			*ret = cli_usage_error(cmd, "--count: not a number: '%s'",
					       optarg);
		else
			o->count = v;
		return 0;
	case 'i':
		if (cli_parse_seconds(optarg, 3600, &o->interval))
			*ret = cli_usage_error(cmd, "--interval: expected seconds, got '%s'",
					       optarg);
		return 0;
	case 'W':
		if (cli_parse_seconds(optarg, 3600, &o->timeout) ||
		    o->timeout < 0.001)
			*ret = cli_usage_error(cmd, "--timeout: expected seconds, got '%s'",
					       optarg);
		return 0;
	default:
		return -1;
	}
}

/* ---- listen ------------------------------------------------------------- */

const char cli_usage_listen[] =
	"Usage: evtchnx listen [--target T] [--domid D] [--count N] REMOTE-DOM\n"
	"\n"
	"Allocate a port offered to REMOTE-DOM (alloc_unbound), print it, and\n"
	"answer every event on it with an event back, until N events (default:\n"
	"no limit) or SIGINT.  When the peer closes its end (found with\n"
	"evtchnx_status: the port is unbound again) the port waits for a new\n"
	"bind from the same domain.\n"
	"\n"
	"  -t, --target T   xen, sim or sim:NAME (default: $EVTCHNX_TARGET, else\n"
	"                   xen when /dev/xen/evtchn exists, else sim)\n"
	"  -d, --domid D    in a sim lab, the domain to act as (default 0)\n"
	"  -c, --count N    exit after answering N events\n"
	"  -h, --help       print this help\n";

int cmd_listen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "domid", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct endpoint_opts o = { .open = { .sz = sizeof(o.open) } };
	struct evtchnx_handle *h;
	unsigned long answered = 0;
	uint32_t remote, port;
	bool connected = false;
	int c, r, ret = CLI_EXIT_OK;

	optind = 0;
	while ((c = getopt_long(argc, argv, "t:d:c:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(cli_usage_listen, stdout);
			return CLI_EXIT_OK;
		}
		if (endpoint_option("listen", c, &o, &ret) < 0)
			return cli_usage_error("listen", "bad option");
		if (ret)
			return ret;
	}
	if (argc - optind != 1 || cli_parse_domid(argv[optind], &remote))
		return cli_usage_error("listen", "listen needs one REMOTE-DOM");

	h = open_endpoint(&o);
	if (!h)
		return CLI_EXIT_FAIL;
	r = evtchnx_alloc_unbound(h, EVTCHNX_DOMID_SELF, remote);
	if (r < 0) {
		ret = cli_fail(r, "evtchnx_alloc_unbound(SELF, %u)", remote);
		goto out;
	}
	port = (uint32_t)r;
	printf("listening on port %u of domain %d, offered to domain %u (%s backend)\n",
	       port, evtchnx_domid(h), remote, evtchnx_backend(h));
	printf("ping it with: evtchnx ping%s%s --domid %u %d %u\n",
	       o.target ? " --target " : "", o.target ? o.target : "", remote,
	       evtchnx_domid(h), port);
	fflush(stdout);

	catch_stop_signals();
	while (!stop_requested && (!o.count || answered < o.count)) {
		struct evtchnx_status st = { .sz = sizeof(st) };

		r = evtchnx_wait(h, LISTEN_PROBE_MS);
		if (r == -EINTR)
			continue;
		if (r >= 0) {
			if ((uint32_t)r != port) {
				evtchnx_unmask(h, (uint32_t)r);
				continue;
			}
			r = evtchnx_unmask(h, port);
			if (r < 0) {
				ret = cli_fail(r, "evtchnx_unmask(port %u)", port);
				break;
			}
			r = evtchnx_send(h, port);
			if (r < 0) {
				ret = cli_fail(r, "evtchnx_send(port %u)", port);
				break;
			}
			answered++;
		} else if (r != -ETIMEDOUT) {
			ret = cli_fail(r, "evtchnx_wait()");
			break;
		}
		/* Xen tells nobody when a peer binds or leaves: look, when
		 * an event comes from a new peer or when all is quiet. */
		if (r >= 0 && connected)
			continue;
		r = evtchnx_status(h, EVTCHNX_DOMID_SELF, port, &st);
		if (r < 0) {
			ret = cli_fail(r, "evtchnx_status(SELF, port %u)", port);
			break;
		}
		if (!connected && st.state == EVTCHNX_STATE_INTERDOMAIN) {
			printf("domain %u bound to it (its port %u)\n",
			       st.remote_domid, st.remote_port);
			connected = true;
		} else if (connected && st.state == EVTCHNX_STATE_UNBOUND) {
			printf("domain %u closed its end (%lu event%s answered so far); the port waits for a new bind\n",
			       st.remote_domid, answered, answered == 1 ? "" : "s");
			connected = false;
		}
		fflush(stdout);
	}
	printf("answered %lu event%s\n", answered, answered == 1 ? "" : "s");
out:
	evtchnx_close(h);
	return ret;
}

/* ---- ping --------------------------------------------------------------- */

const char cli_usage_ping[] =
	"Usage: evtchnx ping [--target T] [--domid D] [--count N] [--interval S]\n"
	"                    [--timeout S] REMOTE-DOM REMOTE-PORT\n"
	"\n"
	"Bind to REMOTE-PORT of REMOTE-DOM (a port offered to this domain, for\n"
	"example by 'evtchnx listen'), send events and time the answers.\n"
	"\n"
	"  -t, --target T     xen, sim or sim:NAME (default: $EVTCHNX_TARGET, else\n"
	"                     xen when /dev/xen/evtchn exists, else sim)\n"
	"  -d, --domid D      in a sim lab, the domain to act as (default 0)\n"
	"  -c, --count N      events to send (default 5; 0: until SIGINT)\n"
	"  -i, --interval S   seconds between events (default 0.2)\n"
	"  -W, --timeout S    how long to wait for each answer (default 1)\n"
	"  -h, --help         print this help\n"
	"\n"
	"Exit status: 0 when every event was answered, 1 otherwise.\n";

int cmd_ping(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "domid", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct endpoint_opts o = {
		.open = { .sz = sizeof(o.open) },
		.count = 5,
		.interval = 0.2,
		.timeout = 1,
	};
	struct evtchnx_handle *h;
	unsigned long sent = 0, answered = 0;
	double min = 0, max = 0, sum = 0;
	uint32_t rdom, port;
	unsigned long rport;
	uint64_t start;
	int c, r, ret = CLI_EXIT_OK;

	optind = 0;
	while ((c = getopt_long(argc, argv, "t:d:c:i:W:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(cli_usage_ping, stdout);
			return CLI_EXIT_OK;
		}
		if (endpoint_option("ping", c, &o, &ret) < 0)
			return cli_usage_error("ping", "bad option");
		if (ret)
			return ret;
	}
	if (argc - optind != 2 || cli_parse_domid(argv[optind], &rdom) ||
	    cli_parse_ulong(argv[optind + 1], UINT32_MAX, &rport))
		return cli_usage_error("ping", "ping needs REMOTE-DOM and REMOTE-PORT");

	h = open_endpoint(&o);
	if (!h)
		return CLI_EXIT_FAIL;
	r = evtchnx_bind_interdomain(h, rdom, (uint32_t)rport);
	if (r < 0) {
		ret = cli_fail(r, "evtchnx_bind_interdomain(%u, %lu)", rdom, rport);
		goto out;
	}
	port = (uint32_t)r;
	/* The new port starts pending (as on Xen): take that event first. */
	while ((r = evtchnx_pending(h)) >= 0)
		evtchnx_unmask(h, (uint32_t)r);
	printf("PING domain %u port %lu from domain %d port %u (%s backend)\n",
	       rdom, rport, evtchnx_domid(h), port, evtchnx_backend(h));
	fflush(stdout);

	catch_stop_signals();
	start = cli_now_ns();
	while (!stop_requested && (!o.count || sent < o.count)) {
		uint64_t t, deadline;
		double us;

		if (sent && o.interval > 0)
			cli_sleep_ns((uint64_t)(o.interval * 1e9));
		if (stop_requested)
			break;
		t = cli_now_ns();
		deadline = t + (uint64_t)(o.timeout * 1e9);
		r = evtchnx_send(h, port);
		if (r < 0) {
			ret = cli_fail(r, "evtchnx_send(port %u)", port);
			goto out;
		}
		sent++;
		for (;;) {
			uint64_t now = cli_now_ns();
			int left = now >= deadline ? 0
						   : (int)((deadline - now) / 1000000u);

			r = evtchnx_wait(h, left);
			if (r == -EINTR && !stop_requested)
				continue;
			if (r >= 0 && (uint32_t)r != port) {
				evtchnx_unmask(h, (uint32_t)r);
				continue;
			}
			break;
		}
		if (r == -EINTR)
			break;
		if (r == -ETIMEDOUT) {
			struct evtchnx_status st = { .sz = sizeof(st) };

			r = evtchnx_status(h, EVTCHNX_DOMID_SELF, port, &st);
			if (r < 0) {
				ret = cli_fail(r, "evtchnx_status(SELF, port %u)", port);
				goto out;
			}
			printf("no answer within %.0f ms (port %u is %s)\n",
			       o.timeout * 1e3, port, cli_state_name(st.state));
			fflush(stdout);
			if (st.state == EVTCHNX_STATE_UNBOUND) {
				printf("domain %u closed its end: stopping\n", rdom);
				break;
			}
			continue;
		}
		if (r < 0) {
			ret = cli_fail(r, "evtchnx_wait()");
			goto out;
		}
		us = (double)(cli_now_ns() - t) / 1e3;
		r = evtchnx_unmask(h, port);
		if (r < 0) {
			ret = cli_fail(r, "evtchnx_unmask(port %u)", port);
			goto out;
		}
		answered++;
		sum += us;
		if (answered == 1 || us < min)
			min = us;
		if (us > max)
			max = us;
		printf("event from domain %u port %lu: seq=%lu time=%.1f us\n",
		       rdom, rport, sent, us);
		fflush(stdout);
	}

	printf("--- domain %u port %lu ping statistics ---\n", rdom, rport);
	printf("%lu sent, %lu answered, %lu lost, time %.0f ms\n", sent,
	       answered, sent - answered,
	       (double)(cli_now_ns() - start) / 1e6);
	if (answered)
		printf("round trip min/avg/max = %.1f/%.1f/%.1f us\n", min,
		       sum / (double)answered, max);
	if (answered < sent || !sent)
		ret = CLI_EXIT_FAIL;
out:
	evtchnx_close(h);
	return ret;
}
