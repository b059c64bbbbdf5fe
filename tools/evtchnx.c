/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx.c - the evtchnx command-line tool: command dispatch, shared
 * utilities, and the small commands (version, status, lab serve).  The live
 * demonstration is in evtchnx-demo.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evtchnx-cli.h"
#include "evtchnx.h"

/* ---- usage ------------------------------------------------------------ */

const char cli_usage_demo[] =
	"Usage: evtchnx demo [--lab NAME] [--rounds N] [--kill-after SECONDS]\n"
	"                    [--timeout SECONDS] [--quiet]\n"
	"\n"
	"A live demonstration on a shared sim lab.  This process plays the\n"
	"control domain (dom0): it creates domains 1 and 2, allocates their\n"
	"event channels, and starts one child process per guest.  The guests\n"
	"ping-pong events, dom0 measures round trips, then kills guest 2 with\n"
	"SIGKILL in the middle of a run and everyone inspects the damage with\n"
	"evtchnx_status().\n"
	"\n"
	"  -l, --lab NAME           lab to use (default demo-PID; a new lab is\n"
	"                           started if none runs under that name)\n"
	"  -n, --rounds N           round trips per measurement (default 1000)\n"
	"  -k, --kill-after SECONDS how long guest 2 keeps answering in the last\n"
	"                           run before dom0 kills it (default 0.2)\n"
	"  -t, --timeout SECONDS    watchdog: give up (and kill the guests)\n"
	"                           after this long (default 30 + N/5000)\n"
	"  -q, --quiet              print only the summary\n"
	"  -h, --help               print this help\n"
	"\n"
	"Exit status: 0 when every step behaved as expected, 1 otherwise.\n";

const char cli_usage_status[] =
	"Usage: evtchnx status [--lab NAME | --target T] [--domid D] [--json] [DOM [PORT...]]\n"
	"\n"
	"Print the state of ports of domain DOM (a number or \"self\", the\n"
	"default): the given PORTs, or every port that is not closed.  The lab\n"
	"must be running: a missing lab is an error (exit status 3).\n"
	"\n"
	"  -l, --lab NAME   the shared lab NAME (the same as --target sim:NAME)\n"
	"  -t, --target T   xen or sim:NAME (default: $EVTCHNX_TARGET, else xen\n"
	"                   when /dev/xen/evtchn exists)\n"
	"  -d, --domid D    in a sim lab, the domain to act as (default 0, the\n"
	"                   control domain, which may inspect every domain)\n"
	"  -j, --json       print {\"dom\":D,\"ports\":[{\"port\":P,\"state\":S,...}]}\n"
	"  -h, --help       print this help\n";

const char cli_usage_lab[] =
	"Usage: evtchnx lab start NAME [--grace-ms MS]\n"
	"       evtchnx lab list [--json]\n"
	"       evtchnx lab stop NAME\n"
	"       evtchnx lab serve NAME [--grace-ms MS]\n"
	"\n"
	"Manage shared sim labs (the program evtchnx-labd; $EVTCHNX_LABD\n"
	"overrides where it is found).  Clients join a lab as the target\n"
	"sim:NAME.\n"
	"\n"
	"  start   start the server of lab NAME in the background and return\n"
	"          once it answers.  It is kept until 'lab stop', or, with\n"
	"          --grace-ms, until its last client has left for MS ms.\n"
	"  list    list the labs whose server answers (stale files are skipped)\n"
	"  stop    stop the server of lab NAME (SIGTERM); its lab is lost\n"
	"  serve   run the server of lab NAME in the foreground.  It waits for\n"
	"          a first client, then leaves once the last client has been\n"
	"          gone for the grace period, or on SIGINT/SIGTERM.\n"
	"\n"
	"  -g, --grace-ms MS  (start, serve) how long to stay once the last\n"
	"                     client has left (default $EVTCHNX_LAB_GRACE_MS,\n"
	"                     else 2000)\n"
	"  -j, --json         (list) print [{\"name\":N,\"pid\":P,\"socket\":S}]\n"
	"  -h, --help         print this help\n";

const char cli_usage_version[] =
	"Usage: evtchnx version\n"
	"\n"
	"Print the version of the library in use and of the header the tool\n"
	"was built with.\n";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: evtchnx COMMAND [ARGS...]\n"
		"\n"
		"Xen event channels, with or without Xen.\n"
		"\n"
		"Commands:\n"
		"  demo [--lab NAME] [--rounds N] [--kill-after SECONDS] [--quiet]\n"
		"        live demonstration: a control domain and two guest\n"
		"        processes on a shared sim lab\n"
		"  lab start|list|stop|serve ...\n"
		"        start, list, stop or run the server of a shared sim lab\n"
		"  domain create|destroy --lab NAME DOM...\n"
		"        create or destroy domains of a lab (as the control domain)\n"
		"  alloc --lab NAME --dom D --remote R [--json]\n"
		"        allocate a port in domain D offered to R; print it\n"
		"  bind --lab NAME --domid D REMOTE-DOM REMOTE-PORT\n"
		"        bind to a port and hold the channel, printing events\n"
		"  send --lab NAME --domid D [--count N] REMOTE-DOM REMOTE-PORT\n"
		"        send events to a port\n"
		"  wait --lab NAME --domid D --port P [--count N] [--timeout MS]\n"
		"        adopt a port allocated for D and wait for events on it\n"
		"  unbind --lab NAME --domid D PORT...\n"
		"        close ports allocated for D that nobody holds\n"
		"  status [--lab NAME | --target T] [--json] [DOM [PORT...]]\n"
		"        print the state of a domain's ports\n"
		"  watch --lab NAME [--interval MS] [--count N] [--json]\n"
		"        a live view of a lab's domains, channels and event rates\n"
		"  listen [--target T] [--domid D] REMOTE-DOM\n"
		"        offer a port to REMOTE-DOM and answer every event on it\n"
		"  ping [--target T] [--domid D] [--count N] REMOTE-DOM REMOTE-PORT\n"
		"        bind to a port (e.g. a listener's) and time the answers\n"
		"  run [--lab NAME] [--domid D] -- PROGRAM [ARGS...]\n"
		"        run a program built against Xen's libxenevtchn on a sim lab\n"
		"  version\n"
		"        print the library and header versions\n"
		"  help [COMMAND]\n"
		"        print this help, or a command's\n"
		"\n"
		"Run 'evtchnx COMMAND --help' for a command's options.\n"
		"Exit status: 0 success, 1 the operation failed, 2 usage error,\n"
		"3 no lab given or the lab is not running, 4 timeout.\n"
		"Targets: xen, sim (private to one process), sim:NAME (a lab shared\n"
		"by processes); the default is $EVTCHNX_TARGET, else xen when\n"
		"/dev/xen/evtchn exists, else sim.\n");
}

/* ---- utilities -------------------------------------------------------- */

static void vreport(const char *fmt, va_list ap, int err)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "evtchnx: %s: %s\n", msg, evtchnx_strerror(err));
	else
		fprintf(stderr, "evtchnx: %s\n", msg);
}

int cli_fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (err > 0)
		err = -err;
	if (err == 0)
		err = -EIO;
	va_start(ap, fmt);
	vreport(fmt, ap, err);
	va_end(ap);
	return CLI_EXIT_FAIL;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
	return CLI_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
	fprintf(stderr, "Try 'evtchnx %s --help'.\n", cmd);
	return CLI_EXIT_USAGE;
}

int cli_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_parse_domid(const char *s, uint32_t *out)
{
	unsigned long v;

	if (s && !strcmp(s, "self")) {
		*out = EVTCHNX_DOMID_SELF;
		return 0;
	}
	if (cli_parse_ulong(s, 0xFFFF, &v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int cli_parse_seconds(const char *s, double max, double *out)
{
	double v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

uint64_t cli_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cli_sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

const char *cli_errno_name(int err)
{
#define E(x) \
	case x:  \
		return #x
	switch (err < 0 ? -err : err) {
	E(EPERM); E(ENOENT); E(ESRCH); E(EINTR); E(EIO); E(EBADF);
	E(EAGAIN); E(ENOMEM); E(EACCES); E(EBUSY); E(EEXIST); E(EINVAL);
	E(ENFILE); E(EMFILE); E(ENOSPC); E(EPIPE); E(ENOSYS); E(ENOTCONN);
	E(ECONNREFUSED); E(ETIMEDOUT); E(EOPNOTSUPP); E(ENODEV); E(EFBIG);
	default:
		return "E?";
	}
#undef E
}

const char *cli_state_name(uint32_t state)
{
	switch (state) {
	case EVTCHNX_STATE_CLOSED:
		return "closed";
	case EVTCHNX_STATE_UNBOUND:
		return "unbound";
	case EVTCHNX_STATE_INTERDOMAIN:
		return "interdomain";
	case EVTCHNX_STATE_PIRQ:
		return "pirq";
	case EVTCHNX_STATE_VIRQ:
		return "virq";
	case EVTCHNX_STATE_IPI:
		return "ipi";
	default:
		return "unknown";
	}
}

int cli_self_exe(char *buf, size_t len)
{
	ssize_t n;

	if (len < 2)
		return -EINVAL;
	n = readlink("/proc/self/exe", buf, len - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

int cli_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cli_read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = 0;
	char *p = buf;

	if (timeout_ms >= 0)
		deadline = cli_now_ns() + (uint64_t)timeout_ms * 1000000u;
	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait_ms = -1;
		ssize_t n;
		int r;

		if (timeout_ms >= 0) {
			uint64_t now = cli_now_ns();

			if (now >= deadline)
				return -ETIMEDOUT;
			wait_ms = (int)((deadline - now + 999999u) / 1000000u);
		}
		r = poll(&pfd, 1, wait_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			continue;
		n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

bool cli_want_color(void)
{
	const char *nc = getenv("NO_COLOR");

	if (nc && *nc)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

/* Returns true (and prints @text on stdout) when argv asks for help. */
static bool wants_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(text, stdout);
			return true;
		}
	}
	return false;
}

/* ---- version ------------------------------------------------------------ */

int cmd_version(int argc, char **argv)
{
	const char *lib;

	if (wants_help(argc, argv, cli_usage_version))
		return CLI_EXIT_OK;
	if (argc > 1)
		return cli_usage_error("version", "version takes no arguments");

	lib = evtchnx_version();
	printf("evtchnx library %s (evtchnx_version)\n", lib ? lib : "?");
	printf("evtchnx header  %s (EVTCHNX_VERSION_STRING, built into this tool)\n",
	       EVTCHNX_VERSION_STRING);
	if (lib && strcmp(lib, EVTCHNX_VERSION_STRING))
		printf("note: the library in use is not the one this tool was built with\n");
	return CLI_EXIT_OK;
}

/* ---- status ------------------------------------------------------------- */

static void status_row(uint32_t port, const struct evtchnx_status *st)
{
	char rdom[16] = "-", rport[16] = "-", virq[16] = "-";

	if (st->state == EVTCHNX_STATE_UNBOUND ||
	    st->state == EVTCHNX_STATE_INTERDOMAIN)
		snprintf(rdom, sizeof(rdom), "%u", st->remote_domid);
	if (st->state == EVTCHNX_STATE_INTERDOMAIN)
		snprintf(rport, sizeof(rport), "%u", st->remote_port);
	if (st->state == EVTCHNX_STATE_VIRQ)
		snprintf(virq, sizeof(virq), "%u", st->virq);
	printf("%6u  %-11s  %10s  %11s  %4u  %4s\n", port,
	       cli_state_name(st->state), rdom, rport, st->vcpu, virq);
}

static void status_header(void)
{
	printf("%6s  %-11s  %10s  %11s  %4s  %4s\n", "PORT", "STATE",
	       "REMOTE-DOM", "REMOTE-PORT", "VCPU", "VIRQ");
}

void cli_status_json(bool *first, uint32_t port, const struct evtchnx_status *st)
{
	printf("%s{\"port\":%u,\"state\":\"%s\"", *first ? "" : ",", port,
	       cli_state_name(st->state));
	if (st->state == EVTCHNX_STATE_UNBOUND || st->state == EVTCHNX_STATE_INTERDOMAIN)
		printf(",\"remote_dom\":%u", st->remote_domid);
	if (st->state == EVTCHNX_STATE_INTERDOMAIN)
		printf(",\"remote_port\":%u", st->remote_port);
	if (st->state == EVTCHNX_STATE_VIRQ)
		printf(",\"virq\":%u", st->virq);
	printf(",\"vcpu\":%u}", st->vcpu);
	*first = false;
}

static void status_show(bool json, bool *first, uint32_t port, const struct evtchnx_status *st)
{
	if (json)
		cli_status_json(first, port, st);
	else
		status_row(port, st);
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "target", required_argument, NULL, 't' },
		{ "domid", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct evtchnx_handle *h = NULL;
	const char *target = NULL, *lab = NULL;
	char resolved[128];
	uint32_t dom = EVTCHNX_DOMID_SELF, shown_dom, domid = 0;
	unsigned int nports = 0, shown = 0;
	bool json = false, first = true;
	int ret = CLI_EXIT_OK;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "l:t:d:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			lab = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'd':
			if (cli_parse_domid(optarg, &domid) || domid == EVTCHNX_DOMID_SELF)
				return cli_usage_error("status",
						       "--domid: not a domain id: '%s'",
						       optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(cli_usage_status, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("status", "bad option");
		}
	}
	if (optind < argc) {
		if (cli_parse_domid(argv[optind], &dom))
			return cli_usage_error("status",
					       "DOM: not a domain id: '%s'",
					       argv[optind]);
		optind++;
	}
	nports = (unsigned int)(argc - optind);
	for (int i = optind; i < argc; i++) {
		unsigned long v;

		if (cli_parse_ulong(argv[i], UINT32_MAX, &v))
			return cli_usage_error("status", "PORT: not a port: '%s'",
					       argv[i]);
	}

	/* Inspecting a lab must not start an empty one. */
	r = cli_resolve_target("status", lab, target, resolved, sizeof(resolved));
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_open(resolved, domid, &h);
	if (r != CLI_EXIT_OK)
		return r;

	shown_dom = dom == EVTCHNX_DOMID_SELF ? (uint32_t)evtchnx_domid(h) : dom;
	if (json) {
		printf("{\"target\":\"%s\",\"backend\":\"%s\",\"dom\":%u,\"ports\":[",
		       resolved, evtchnx_backend(h), shown_dom);
	} else {
		printf("domain %u, %s backend, target %s, seen from domain %d\n", shown_dom,
		       evtchnx_backend(h), resolved, evtchnx_domid(h));
		status_header();
	}

	if (nports) {
		for (int i = optind; i < argc; i++) {
			struct evtchnx_status st = { .sz = sizeof(st) };
			unsigned long port = 0;

			cli_parse_ulong(argv[i], UINT32_MAX, &port);
			r = evtchnx_status(h, dom, (uint32_t)port, &st);
			if (r < 0) {
				fflush(stdout);
				ret = cli_fail(r, "%s: domain %u, port %lu%s", resolved,
					       shown_dom, port,
					       r == -ESRCH ? ": no such domain (create it with "
							     "'evtchnx domain create')" :
					       r == -EINVAL ? ": beyond the domain's port table" : "");
				if (r == -ESRCH || r == -EPERM)
					break;
				continue;
			}
			status_show(json, &first, (uint32_t)port, &st);
			shown++;
		}
		goto out;
	}

	/* Every port until the end of the domain's table (-EINVAL). */
	for (uint32_t port = 1;; port++) {
		struct evtchnx_status st = { .sz = sizeof(st) };

		r = evtchnx_status(h, dom, port, &st);
		if (r == -EINVAL && port > 1)
			break;
		if (r < 0) {
			fflush(stdout);
			ret = cli_fail(r, "%s: domain %u, port %u%s", resolved, shown_dom, port,
				       r == -ESRCH ? ": no such domain (create it with "
						     "'evtchnx domain create')" : "");
			goto out;
		}
		if (st.state == EVTCHNX_STATE_CLOSED)
			continue;
		status_show(json, &first, port, &st);
		shown++;
	}
	if (json)
		;
	else if (!shown)
		printf("(no open ports)\n");
	else
		printf("%u open port%s\n", shown, shown == 1 ? "" : "s");
out:
	if (json)
		printf("]}\n");
	evtchnx_close(h);
	return ret;
}

/* ---- lab serve ---------------------------------------------------------- */

#define LABD_NAME "evtchnx-labd"

/*
 * Find the lab server program: $EVTCHNX_LABD; else, relative to this
 * executable, ../lib/ (build tree) or ../libexec/ (install tree); else the
 * path configured at build time.
 */
int cli_find_labd(char *buf, size_t len)
{
	static const char *const rel[] = { "/../lib/" LABD_NAME,
					   "/../libexec/" LABD_NAME };
	const char *env = getenv("EVTCHNX_LABD");
	char exe[PATH_MAX];

	if (env && *env) {
		if ((size_t)snprintf(buf, len, "%s", env) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	if (!cli_self_exe(exe, sizeof(exe))) {
		char *slash = strrchr(exe, '/');

		if (slash)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			if ((size_t)snprintf(buf, len, "%s%s", exe, rel[i]) >= len)
				continue;
			if (!access(buf, X_OK))
				return 0;
		}
	}
#ifdef EVTCHNX_LABD_INSTALL_PATH
	if ((size_t)snprintf(buf, len, "%s", EVTCHNX_LABD_INSTALL_PATH) < len &&
	    !access(buf, X_OK))
		return 0;
#endif
	return -ENOENT;
}

int cli_lab_args(int argc, char **argv, const char *verb, const char **name,
		 const char **grace)
{
	static const struct option longopts[] = {
		{ "grace-ms", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*grace = NULL;
	optind = 0;
	while ((c = getopt_long(argc, argv, "g:h", longopts, NULL)) != -1) {
		unsigned long v;

		switch (c) {
		case 'g':
			if (cli_parse_ulong(optarg, 3600000, &v))
				return cli_usage_error("lab", "--grace-ms: not a number of milliseconds (0 to 3600000): '%s'",
						       optarg);
			*grace = optarg;
			break;
		case 'h':
			fputs(cli_usage_lab, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("lab", "bad option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("lab", "lab %s takes exactly one lab NAME", verb);
	*name = argv[optind];
	return -1;
}

static int lab_serve(int argc, char **argv)
{
	const char *grace, *name;
	char path[PATH_MAX];
	char *args[6];
	int n = 0, r = cli_lab_args(argc, argv, "serve", &name, &grace);

	if (r >= 0)
		return r;

	r = cli_find_labd(path, sizeof(path));
	if (r < 0)
		return cli_fail(r, "cannot find the lab server program %s (looked for $EVTCHNX_LABD, "
				   "../lib/ and ../libexec/ next to this program%s)",
				LABD_NAME,
#ifdef EVTCHNX_LABD_INSTALL_PATH
				", " EVTCHNX_LABD_INSTALL_PATH
#else
				""
#endif
		);

	args[n++] = path;
	args[n++] = "--foreground";
	if (grace) {
		args[n++] = "--grace-ms";
		args[n++] = (char *)grace;
	}
	args[n++] = (char *)name;
	args[n] = NULL;
	fflush(NULL);
	execv(path, args);
	return cli_fail(errno, "execv(\"%s\")", path);
}

int cmd_lab(int argc, char **argv)
{
	int r;

	if (argc < 2)
		return cli_usage_error("lab", "lab needs a subcommand (start, list, stop, serve)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(cli_usage_lab, stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "serve"))
		return lab_serve(argc - 1, argv + 1);
	r = cli_lab_sub(argc - 1, argv + 1);
	if (r >= 0)
		return r;
	return cli_usage_error("lab", "unknown lab subcommand '%s'", argv[1]);
}

/* ---- dispatch ----------------------------------------------------------- */

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "demo", cmd_demo, cli_usage_demo },
	{ "status", cmd_status, cli_usage_status },
	{ "lab", cmd_lab, cli_usage_lab },
	{ "domain", cmd_domain, cli_usage_domain },
	{ "alloc", cmd_alloc, cli_usage_alloc },
	{ "bind", cmd_bind, cli_usage_bind },
	{ "send", cmd_send, cli_usage_send },
	{ "wait", cmd_wait, cli_usage_wait },
	{ "unbind", cmd_unbind, cli_usage_unbind },
	{ "watch", cmd_watch, cli_usage_watch },
	{ "listen", cmd_listen, cli_usage_listen },
	{ "ping", cmd_ping, cli_usage_ping },
	{ "run", cmd_run, cli_usage_run },
	{ "version", cmd_version, cli_usage_version },
	{ CLI_DEMO_GUEST_CMD, cmd_demo_guest, NULL },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		if (argc > 2) {
			cmd = find_command(argv[2]);
			if (!cmd || !cmd->usage) {
				fprintf(stderr, "evtchnx: unknown command '%s'\n\n",
					argv[2]);
				usage(stderr);
				return CLI_EXIT_USAGE;
			}
			fputs(cmd->usage, stdout);
			return CLI_EXIT_OK;
		}
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv + 1);

	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "evtchnx: unknown command '%s'\n\n", argv[1]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
