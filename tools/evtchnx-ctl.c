/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx-ctl.c - the orchestration commands of the evtchnx tool: lab
 * start/list/stop, domain create/destroy, alloc, bind, send, wait, unbind.
 *
 * A command is a short-lived process, and a port dies with the handle that
 * owns it.  What outlives a command is kept by the lab: the domains the
 * control domain created, and the ports it allocated in them, which belong
 * to no handle until a handle of their domain adopts one.  So:
 *   - alloc leaves an unowned port in a domain, offered to another;
 *   - wait adopts such a port for as long as it waits (it is closed after);
 *   - send binds to an offered port, sends, and closes its own end (the
 *     offered port is offered again, ready for the next send);
 *   - bind binds and holds the channel until it is told to stop.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evtchnx-cli.h"
#include "evtchnx.h"

/* ---- usage ---------------------------------------------------------------- */

const char cli_usage_domain[] =
	"Usage: evtchnx domain create --lab NAME DOM...\n"
	"       evtchnx domain destroy --lab NAME DOM...\n"
	"\n"
	"Create or destroy domains of a running shared lab, as its control\n"
	"domain.  A created domain lives until it is destroyed, whether or not\n"
	"a process acts as it.\n"
	"\n"
	"  -l, --lab NAME     the lab (it must be running: 'evtchnx lab start')\n"
	"  -t, --target T     the same as a target: sim:NAME\n"
	"  -h, --help         print this help\n";

const char cli_usage_alloc[] =
	"Usage: evtchnx alloc --lab NAME --dom D --remote R [--json]\n"
	"\n"
	"Allocate, as the control domain, a port in domain D offered to domain\n"
	"R, and print its number.  The port belongs to no process: it stays in\n"
	"the lab until a command of domain D adopts it (wait, unbind) or the\n"
	"domain is destroyed.\n"
	"\n"
	"  -l, --lab NAME     the lab (it must be running)\n"
	"  -t, --target T     the same as a target: sim:NAME\n"
	"  -d, --dom D        the domain the port is in\n"
	"  -r, --remote R     the domain allowed to bind it\n"
	"  -j, --json         print {\"dom\":D,\"port\":P,\"remote_dom\":R}\n"
	"  -h, --help         print this help\n";

const char cli_usage_bind[] =
	"Usage: evtchnx bind --lab NAME --domid D [--count N] [--timeout MS] [--json]\n"
	"                    REMOTE-DOM REMOTE-PORT\n"
	"\n"
	"Act as domain D: bind a new port to REMOTE-PORT of REMOTE-DOM, print\n"
	"the new port, then hold the channel and print each event that arrives,\n"
	"until N events (--count), SIGINT or SIGTERM.  The port is closed when\n"
	"the command ends; the remote port is then offered to D again.\n"
	"\n"
	"  -l, --lab NAME     the lab (it must be running)\n"
	"  -t, --target T     the same as a target: sim:NAME\n"
	"  -D, --domid D      the domain to act as\n"
	"  -c, --count N      leave after N events (default: no limit)\n"
	"  -w, --timeout MS   fail (exit 4) when no event came for MS ms\n"
	"  -j, --json         JSON lines: the port, then one line per event\n"
	"  -h, --help         print this help\n";

const char cli_usage_send[] =
	"Usage: evtchnx send --lab NAME --domid D [--count N] [--json] REMOTE-DOM REMOTE-PORT\n"
	"\n"
	"Act as domain D: bind a new port to REMOTE-PORT of REMOTE-DOM (a port\n"
	"offered to D, for example one 'evtchnx alloc' made and 'evtchnx wait'\n"
	"waits on), send N events, and close the new port: the remote port is\n"
	"offered to D again, ready for the next send.  Events coalesce: a\n"
	"receiver may see fewer than N.\n"
	"\n"
	"  -l, --lab NAME     the lab (it must be running)\n"
	"  -t, --target T     the same as a target: sim:NAME\n"
	"  -D, --domid D      the domain to act as\n"
	"  -c, --count N      events to send (default 1)\n"
	"  -j, --json         print {\"dom\":D,\"port\":P,\"sent\":N}\n"
	"  -h, --help         print this help\n";

const char cli_usage_wait[] =
	"Usage: evtchnx wait --lab NAME --domid D --port P [--count N] [--timeout MS] [--json]\n"
	"\n"
	"Act as domain D: adopt port P (allocated in D by the control domain),\n"
	"print a line once it holds it, wait for N events and print each, then\n"
	"close it.  Events sent to P before the wait started are delivered:\n"
	"send first, then wait.\n"
	"\n"
	"  -l, --lab NAME     the lab (it must be running)\n"
	"  -t, --target T     the same as a target: sim:NAME\n"
	"  -D, --domid D      the domain to act as\n"
	"  -p, --port P       the port to wait on\n"
	"  -c, --count N      events to wait for (default 1)\n"
	"  -w, --timeout MS   give up (exit 4) after MS ms without an event\n"
	"                     (default: wait forever)\n"
	"  -j, --json         JSON lines: {\"dom\":D,\"port\":P,\"waiting\":N},\n"
	"                     then one per event\n"
	"  -h, --help         print this help\n";

const char cli_usage_unbind[] =
	"Usage: evtchnx unbind --lab NAME --domid D PORT...\n"
	"\n"
	"Act as domain D: close ports the control domain allocated in D that\n"
	"no running command holds.\n"
	"\n"
	"  -l, --lab NAME     the lab (it must be running)\n"
	"  -t, --target T     the same as a target: sim:NAME\n"
	"  -D, --domid D      the domain the ports are in\n"
	"  -h, --help         print this help\n";

/* ---- opening a lab -------------------------------------------------------- */

/*
 * Resolve --lab/--target into a target that names a lab that can be
 * inspected: sim:NAME or xen.  A private lab ("sim") would be empty and
 * die with the command, so it is refused.
 */
int cli_resolve_target(const char *cmd, const char *lab, const char *target,
		       char *buf, size_t len)
{
	if (lab && target)
		return cli_usage_error(cmd, "give --lab or --target, not both");
	if (lab) {
		if ((size_t)snprintf(buf, len, "sim:%s", lab) >= len)
			return cli_usage_error(cmd, "--lab: name too long");
		return CLI_EXIT_OK;
	}
	if (!target || !*target)
		target = getenv("EVTCHNX_TARGET");
	if (!target || !*target)
		target = access("/dev/xen/evtchn", F_OK) == 0 ? "xen" : NULL;
	if (!target || !strcmp(target, "sim")) {
		fprintf(stderr, "evtchnx: %s: no lab given: name a running lab with --lab NAME "
				"(see 'evtchnx lab list'; start one with 'evtchnx lab start NAME')\n",
			cmd);
		return CLI_EXIT_NOLAB;
	}
	if ((size_t)snprintf(buf, len, "%s", target) >= len)
		return cli_usage_error(cmd, "--target: too long");
	return CLI_EXIT_OK;
}

int cli_open(const char *target, uint32_t domid, struct evtchnx_handle **out)
{
	struct evtchnx_open_opts opts = { .sz = sizeof(opts), .domid = domid };
	struct evtchnx_handle *h;

	if (!strncmp(target, "sim:", 4))
		opts.flags |= EVTCHNX_OPEN_NO_SPAWN;
	h = evtchnx_open(target, &opts);
	if (!h) {
		int err = errno;

		if (!strncmp(target, "sim:", 4) &&
		    (err == ECONNREFUSED || err == ENOENT)) {
			fprintf(stderr, "evtchnx: lab '%s' is not running: start it with "
					"'evtchnx lab start %s'\n", target + 4, target + 4);
			return CLI_EXIT_NOLAB;
		}
		return cli_fail(err, "evtchnx_open(\"%s\", domid %u)", target, domid);
	}
	*out = h;
	return CLI_EXIT_OK;
}

/* A hint for a failed port or domain operation. */
static const char *hint(int err)
{
	switch (err < 0 ? -err : err) {
	case ESRCH:
		return " (create it with 'evtchnx domain create')";
	case EEXIST:
		return " (destroy it first, or pick another id)";
	case EBUSY:
		return " (a running command holds it: stop that command)";
	case ENOTCONN:
		return " (no command of that domain holds it)";
	case EINVAL:
		return " (check the port with 'evtchnx status')";
	case EPERM:
		return " (only the control domain may do that)";
	default:
		return "";
	}
}

/* ---- lab start / list / stop -------------------------------------------- */

static int lab_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (xdg && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode))
		n = snprintf(buf, len, "%s/evtchnx", xdg);
	else
		n = snprintf(buf, len, "/tmp/evtchnx-%u", (unsigned int)geteuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cli_lab_connect(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The pid of the server answering on @sock, or a negative errno. */
static int lab_server_pid(const char *sock)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = cli_lab_connect(sock), ret;

	if (fd < 0)
		return fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
		ret = -errno;
	else
		ret = (int)cred.pid;
	close(fd);
	return ret;
}

int cli_lab_sock_path(const char *name, char *buf, size_t len)
{
	char dir[PATH_MAX - 64];

	if (!*name || strlen(name) > 64 || strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(name))
		return -EINVAL;
	if (lab_dir(dir, sizeof(dir)))
		return -ENAMETOOLONG;
	if ((size_t)snprintf(buf, len, "%s/%s.sock", dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int lab_start(int argc, char **argv)
{
	const char *grace, *name;
	char labd[PATH_MAX], sock[PATH_MAX];
	char *args[6];
	int n = 0, r = cli_lab_args(argc, argv, "start", &name, &grace), status;
	pid_t pid;

	if (r >= 0)
		return r;
	if (cli_lab_sock_path(name, sock, sizeof(sock)))
		return cli_usage_error("lab", "not a lab name: '%s' (1 to 64 of A-Z a-z 0-9 . _ -)",
				       name);
	if (lab_server_pid(sock) > 0)
		return cli_error("lab '%s' is already running (stop it with 'evtchnx lab stop %s')",
				 name, name);
	r = cli_find_labd(labd, sizeof(labd));
	if (r < 0)
		return cli_fail(r, "cannot find the lab server program evtchnx-labd (set $EVTCHNX_LABD)");

	args[n++] = labd;
	args[n++] = "--foreground";
	if (grace) {
		args[n++] = "--grace-ms";
		args[n++] = (char *)grace;
	} else {
		args[n++] = "--keep";
	}
	args[n++] = (char *)name;
	args[n] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return cli_fail(errno, "fork");
	if (pid == 0) {
		/* Detach twice, so that the server is nobody's child here. */
		int fd = open("/dev/null", O_RDWR);

		setsid();
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			if (fd > 2)
				close(fd);
		}
		if (fork() != 0)
			_exit(0);
		execv(labd, args);
		_exit(127);
	}
	waitpid(pid, &status, 0);

	/* Ready when it answers. */
	for (int i = 0; i < 500; i++) {
		int spid = lab_server_pid(sock);

		if (spid > 0) {
			printf("lab %s started (server pid %d, %s)\n", name, spid,
			       grace ? "leaves after its grace period once idle" :
				       "kept until 'evtchnx lab stop'");
			return CLI_EXIT_OK;
		}
		cli_sleep_ns(10000000u);
	}
	return cli_error("lab '%s': its server (%s) did not answer within 5 s", name, labd);
}

static int lab_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char dir[PATH_MAX - 64];
	struct dirent *de;
	bool json = false;
	DIR *d;
	int c, count = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(cli_usage_lab, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("lab", "bad option");
		}
	}
	if (optind < argc)
		return cli_usage_error("lab", "lab list takes no arguments");
	if (lab_dir(dir, sizeof(dir)))
		return cli_error("lab directory: path too long");
	if (json)
		printf("[");
	else
		printf("%-24s  %8s  %s\n", "LAB", "PID", "SOCKET");
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char sock[PATH_MAX], name[72];
		int pid;

		if (len < 6 || len - 5 >= sizeof(name) || strcmp(de->d_name + len - 5, ".sock"))
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		snprintf(sock, sizeof(sock), "%s/%s", dir, de->d_name);
		/* A socket nobody answers on is stale: skip it. */
		pid = lab_server_pid(sock);
		if (pid <= 0)
			continue;
		if (json)
			printf("%s{\"name\":\"%s\",\"pid\":%d,\"socket\":\"%s\"}",
			       count ? "," : "", name, pid, sock);
		else
			printf("%-24s  %8d  %s\n", name, pid, sock);
		count++;
	}
	if (d)
		closedir(d);
	if (json)
		printf("]\n");
	return CLI_EXIT_OK;
}

static int lab_stop(int argc, char **argv)
{
	char sock[PATH_MAX], comm[64] = "", path[64];
	const char *name;
	FILE *f;
	int pid;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(cli_usage_lab, stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 2)
		return cli_usage_error("lab", "lab stop takes exactly one lab NAME");
	name = argv[1];
	if (cli_lab_sock_path(name, sock, sizeof(sock)))
		return cli_usage_error("lab", "not a lab name: '%s'", name);
	pid = lab_server_pid(sock);
	if (pid <= 0) {
		fprintf(stderr, "evtchnx: lab '%s' is not running (see 'evtchnx lab list')\n",
			name);
		return CLI_EXIT_NOLAB;
	}
	/* Only ever signal a lab server. */
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	comm[strcspn(comm, "\n")] = '\0';
	if (strcmp(comm, "evtchnx-labd"))
		return cli_error("lab '%s': the process answering on %s (pid %d, '%s') "
				 "is not evtchnx-labd; not stopping it", name, sock, pid, comm);
	if (kill(pid, SIGTERM) < 0)
		return cli_fail(errno, "lab '%s': kill(%d, SIGTERM)", name, pid);
	for (int i = 0; i < 500; i++) {
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			printf("lab %s stopped\n", name);
			return CLI_EXIT_OK;
		}
		cli_sleep_ns(10000000u);
	}
	return cli_error("lab '%s': its server (pid %d) did not leave within 5 s of SIGTERM",
			 name, pid);
}

int cli_lab_sub(int argc, char **argv)
{
	if (!strcmp(argv[0], "start"))
		return lab_start(argc, argv);
	if (!strcmp(argv[0], "list"))
		return lab_list(argc, argv);
	if (!strcmp(argv[0], "stop"))
		return lab_stop(argc, argv);
	return -1;
}

/* ---- the common options of the lab commands ------------------------------ */

struct ctl_opts {
	const char *cmd;
	const char *lab, *target;
	uint32_t dom, remote, domid, port;
	bool has_dom, has_remote, has_domid, has_port, json;
	unsigned long count;
	long timeout_ms;
	char resolved[128];
};

/* Parse the options; returns -1 to go on, else an exit status. */
static int ctl_parse(struct ctl_opts *o, const char *usage, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "target", required_argument, NULL, 't' },
		{ "dom", required_argument, NULL, 'd' },
		{ "remote", required_argument, NULL, 'r' },
		{ "domid", required_argument, NULL, 'D' },
		{ "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "l:t:d:r:D:p:c:w:jh", longopts, NULL)) != -1) {
		unsigned long v;
		/* Only the options a command's usage names are accepted. */
		char want[24];

		snprintf(want, sizeof(want), "--%s ", c == 'l' ? "lab" : c == 't' ? "target" :
			 c == 'd' ? "dom" : c == 'r' ? "remote" : c == 'D' ? "domid" :
			 c == 'p' ? "port" : c == 'c' ? "count" : c == 'w' ? "timeout" :
			 c == 'j' ? "json" : "help");
		if (c != '?' && c != 'h' && !strstr(usage, want) &&
		    !(c == 'j' && strstr(usage, "--json]")))
			return cli_usage_error(o->cmd, "%s takes no option %.*s", o->cmd,
					       (int)strlen(want) - 1, want);
		switch (c) {
		case 'l':
			o->lab = optarg;
			break;
		case 't':
			o->target = optarg;
			break;
		case 'd':
		case 'r':
		case 'D': {
			uint32_t d;

			if (cli_parse_domid(optarg, &d) || d == EVTCHNX_DOMID_SELF)
				return cli_usage_error(o->cmd, "--%s: not a domain id: '%s'",
						       c == 'd' ? "dom" : c == 'r' ? "remote" : "domid",
						       optarg);
			if (c == 'r') {
				o->remote = d;
				o->has_remote = true;
			} else if (c == 'D') {
				o->domid = d;
				o->has_domid = true;
			} else {
				o->dom = d;
				o->has_dom = true;
			}
			break;
		}
		case 'p':
			if (cli_parse_ulong(optarg, INT32_MAX, &v) || !v)
				return cli_usage_error(o->cmd, "--port: not a port: '%s'", optarg);
			o->port = (uint32_t)v;
			o->has_port = true;
			break;
		case 'c':
			if (cli_parse_ulong(optarg, 1000000000, &v))
				return cli_usage_error(o->cmd, "--count: not a count: '%s'", optarg);
			o->count = v;
			break;
		case 'w':
			if (cli_parse_ulong(optarg, 86400000, &v))
				return cli_usage_error(o->cmd, "--timeout: not a number of milliseconds: '%s'",
						       optarg);
			o->timeout_ms = (long)v;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(o->cmd, "bad option");
		}
	}
	r = cli_resolve_target(o->cmd, o->lab, o->target, o->resolved, sizeof(o->resolved));
	if (r != CLI_EXIT_OK)
		return r;
	return -1;
}

static const char *lab_label(const struct ctl_opts *o)
{
	return !strncmp(o->resolved, "sim:", 4) ? o->resolved + 4 : o->resolved;
}

/* ---- domain create / destroy --------------------------------------------- */

int cmd_domain(int argc, char **argv)
{
	struct ctl_opts o = { .cmd = "domain" };
	struct evtchnx_handle *h;
	bool create;
	int r, ret = CLI_EXIT_OK;

	if (argc < 2)
		return cli_usage_error("domain", "domain needs a subcommand (create, destroy)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(cli_usage_domain, stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "create") && strcmp(argv[1], "destroy"))
		return cli_usage_error("domain", "unknown domain subcommand '%s'", argv[1]);
	create = !strcmp(argv[1], "create");
	r = ctl_parse(&o, cli_usage_domain, argc - 1, argv + 1);
	if (r >= 0)
		return r;
	argc--;
	argv++;
	if (optind >= argc)
		return cli_usage_error("domain", "domain %s needs at least one DOM", argv[0]);
	for (int i = optind; i < argc; i++) {
		uint32_t d;

		if (cli_parse_domid(argv[i], &d) || d == EVTCHNX_DOMID_SELF)
			return cli_usage_error("domain", "DOM: not a domain id: '%s'", argv[i]);
	}
	r = cli_open(o.resolved, 0, &h);
	if (r != CLI_EXIT_OK)
		return r;
	for (int i = optind; i < argc; i++) {
		uint32_t d = 0;

		cli_parse_domid(argv[i], &d);
		r = create ? evtchnx_domain_create(h, d) : evtchnx_domain_destroy(h, d);
		if (r < 0) {
			const char *h2 = r == -ESRCH ? " (see 'evtchnx status --lab NAME' for its domains)" :
							hint(r);

			ret = cli_fail(r, "lab %s: domain %u: evtchnx_domain_%s%s", lab_label(&o), d,
				       create ? "create" : "destroy", h2);
		}
	}
	evtchnx_close(h);
	return ret;
}

/* ---- alloc ------------------------------------------------------------- */

int cmd_alloc(int argc, char **argv)
{
	struct ctl_opts o = { .cmd = "alloc" };
	struct evtchnx_handle *h;
	int r;

	r = ctl_parse(&o, cli_usage_alloc, argc, argv);
	if (r >= 0)
		return r;
	if (!o.has_dom || !o.has_remote)
		return cli_usage_error("alloc", "alloc needs --dom D and --remote R");
	if (optind < argc)
		return cli_usage_error("alloc", "alloc takes no arguments: '%s'", argv[optind]);
	r = cli_open(o.resolved, 0, &h);
	if (r != CLI_EXIT_OK)
		return r;
	r = evtchnx_alloc_unbound(h, o.dom, o.remote);
	evtchnx_close(h);
	if (r < 0)
		return cli_fail(r, "lab %s: domain %u: evtchnx_alloc_unbound(%u, %u)%s",
				lab_label(&o), o.dom, o.dom, o.remote, hint(r));
	if (o.json)
		printf("{\"dom\":%u,\"port\":%d,\"remote_dom\":%u}\n", o.dom, r, o.remote);
	else
		printf("%d\n", r);
	return CLI_EXIT_OK;
}

/* ---- bind, send, wait, unbind -------------------------------------------- */

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void print_event(const struct ctl_opts *o, uint32_t port, unsigned long seq)
{
	if (o->json)
		printf("{\"event\":%lu,\"dom\":%u,\"port\":%u}\n", seq, o->domid, port);
	else
		printf("event %lu on port %u of domain %u\n", seq, port, o->domid);
	fflush(stdout);
}

/* Take events on @port until @count (0: no limit), a stop signal or the
 * timeout.  Returns an exit status. */
static int take_events(struct evtchnx_handle *h, const struct ctl_opts *o, uint32_t port,
		       unsigned long count)
{
	unsigned long seen = 0;
	uint64_t last = cli_now_ns();

	while (!stop_flag && (!count || seen < count)) {
		int slice = 100, r;

		if (o->timeout_ms >= 0) {
			uint64_t left, el = (cli_now_ns() - last) / 1000000u;

			if (el >= (uint64_t)o->timeout_ms) {
				fprintf(stderr, "evtchnx: lab %s: no event on port %u of domain %u "
						"within %ld ms (%lu of %lu seen)\n",
					lab_label(o), port, o->domid, o->timeout_ms, seen, count);
				return CLI_EXIT_TIMEOUT;
			}
			left = (uint64_t)o->timeout_ms - el;
			if (left < (uint64_t)slice)
				slice = (int)left;
		}
		r = evtchnx_wait(h, slice);
		if (r == -ETIMEDOUT || r == -EINTR)
			continue;
		if (r < 0)
			return cli_fail(r, "lab %s: domain %u: evtchnx_wait", lab_label(o), o->domid);
		evtchnx_unmask(h, (uint32_t)r);
		if ((uint32_t)r != port)
			continue;
		seen++;
		last = cli_now_ns();
		print_event(o, port, seen);
	}
	return CLI_EXIT_OK;
}

static int parse_remote(struct ctl_opts *o, int argc, char **argv, uint32_t *rdom,
			uint32_t *rport)
{
	unsigned long v;

	if (argc - optind != 2)
		return cli_usage_error(o->cmd, "%s needs REMOTE-DOM REMOTE-PORT", o->cmd);
	if (cli_parse_domid(argv[optind], rdom) || *rdom == EVTCHNX_DOMID_SELF)
		return cli_usage_error(o->cmd, "REMOTE-DOM: not a domain id: '%s'", argv[optind]);
	if (cli_parse_ulong(argv[optind + 1], INT32_MAX, &v) || !v)
		return cli_usage_error(o->cmd, "REMOTE-PORT: not a port: '%s'", argv[optind + 1]);
	*rport = (uint32_t)v;
	return -1;
}

/* Bind as o->domid to (rdom, rport) and take the spurious event. */
static int do_bind(struct evtchnx_handle *h, const struct ctl_opts *o, uint32_t rdom,
		   uint32_t rport, uint32_t *local)
{
	int r = evtchnx_bind_interdomain(h, rdom, rport);

	if (r < 0) {
		const char *why = r == -EINVAL ?
			" (the port must be unbound and offered to this domain: see "
			"'evtchnx status --lab NAME DOM PORT')" : hint(r);

		return cli_fail(r, "lab %s: domain %u: bind to port %u of domain %u%s",
				lab_label(o), o->domid, rport, rdom, why);
	}
	*local = (uint32_t)r;
	/* A new bind leaves its port pending, as on Xen: not an event. */
	if (evtchnx_is_pending(h, *local) == 1 && evtchnx_wait(h, 0) >= 0)
		evtchnx_unmask(h, *local);
	return -1;
}

int cmd_bind(int argc, char **argv)
{
	struct ctl_opts o = { .cmd = "bind", .timeout_ms = -1 };
	struct evtchnx_handle *h;
	uint32_t rdom, rport, local;
	int r;

	r = ctl_parse(&o, cli_usage_bind, argc, argv);
	if (r >= 0)
		return r;
	if (!o.has_domid)
		return cli_usage_error("bind", "bind needs --domid D");
	r = parse_remote(&o, argc, argv, &rdom, &rport);
	if (r >= 0)
		return r;
	catch_stop();
	r = cli_open(o.resolved, o.domid, &h);
	if (r != CLI_EXIT_OK)
		return r;
	r = do_bind(h, &o, rdom, rport, &local);
	if (r >= 0)
		goto out;
	if (o.json)
		printf("{\"dom\":%u,\"port\":%u,\"remote_dom\":%u,\"remote_port\":%u}\n",
		       o.domid, local, rdom, rport);
	else
		printf("bound port %u of domain %u to port %u of domain %u\n", local, o.domid,
		       rport, rdom);
	fflush(stdout);
	r = take_events(h, &o, local, o.count);
out:
	evtchnx_close(h);
	return r;
}

int cmd_send(int argc, char **argv)
{
	struct ctl_opts o = { .cmd = "send", .count = 1 };
	struct evtchnx_handle *h;
	uint32_t rdom, rport, local;
	int r;

	r = ctl_parse(&o, cli_usage_send, argc, argv);
	if (r >= 0)
		return r;
	if (!o.has_domid)
		return cli_usage_error("send", "send needs --domid D");
	r = parse_remote(&o, argc, argv, &rdom, &rport);
	if (r >= 0)
		return r;
	r = cli_open(o.resolved, o.domid, &h);
	if (r != CLI_EXIT_OK)
		return r;
	r = do_bind(h, &o, rdom, rport, &local);
	if (r >= 0)
		goto out;
	for (unsigned long i = 0; i < o.count; i++) {
		r = evtchnx_send(h, local);
		if (r < 0) {
			r = cli_fail(r, "lab %s: domain %u: send on port %u", lab_label(&o),
				     o.domid, local);
			goto out;
		}
	}
	if (o.json)
		printf("{\"dom\":%u,\"port\":%u,\"sent\":%lu}\n", o.domid, local, o.count);
	else
		printf("sent %lu event%s on port %u of domain %u\n", o.count,
		       o.count == 1 ? "" : "s", local, o.domid);
	r = CLI_EXIT_OK;
out:
	evtchnx_close(h);
	return r;
}

int cmd_wait(int argc, char **argv)
{
	struct ctl_opts o = { .cmd = "wait", .count = 1, .timeout_ms = -1 };
	struct evtchnx_handle *h;
	int r;

	r = ctl_parse(&o, cli_usage_wait, argc, argv);
	if (r >= 0)
		return r;
	if (!o.has_domid || !o.has_port)
		return cli_usage_error("wait", "wait needs --domid D and --port P");
	if (optind < argc)
		return cli_usage_error("wait", "wait takes no arguments: '%s'", argv[optind]);
	catch_stop();
	r = cli_open(o.resolved, o.domid, &h);
	if (r != CLI_EXIT_OK)
		return r;
	r = evtchnx_adopt(h, o.port);
	if (r < 0) {
		r = cli_fail(r, "lab %s: domain %u: adopt port %u%s", lab_label(&o), o.domid,
			     o.port, r == -EINVAL ? " (the port is free: allocate one with "
						    "'evtchnx alloc')" : hint(r));
		goto out;
	}
	/* Tell a script that sends may start now. */
	if (o.json)
		printf("{\"dom\":%u,\"port\":%u,\"waiting\":%lu}\n", o.domid, o.port, o.count);
	else
		printf("waiting for %lu event%s on port %u of domain %u\n", o.count,
		       o.count == 1 ? "" : "s", o.port, o.domid);
	fflush(stdout);
	r = take_events(h, &o, o.port, o.count);
out:
	evtchnx_close(h);
	return r;
}

int cmd_unbind(int argc, char **argv)
{
	struct ctl_opts o = { .cmd = "unbind" };
	struct evtchnx_handle *h;
	int r, ret = CLI_EXIT_OK;

	r = ctl_parse(&o, cli_usage_unbind, argc, argv);
	if (r >= 0)
		return r;
	if (!o.has_domid)
		return cli_usage_error("unbind", "unbind needs --domid D");
	if (optind >= argc)
		return cli_usage_error("unbind", "unbind needs at least one PORT");
	for (int i = optind; i < argc; i++) {
		unsigned long v;

		if (cli_parse_ulong(argv[i], INT32_MAX, &v) || !v)
			return cli_usage_error("unbind", "PORT: not a port: '%s'", argv[i]);
	}
	r = cli_open(o.resolved, o.domid, &h);
	if (r != CLI_EXIT_OK)
		return r;
	for (int i = optind; i < argc; i++) {
		unsigned long v = 0;

		cli_parse_ulong(argv[i], INT32_MAX, &v);
		r = evtchnx_adopt(h, (uint32_t)v);
		if (r == 0)
			r = evtchnx_unbind(h, (uint32_t)v);
		if (r < 0)
			ret = cli_fail(r, "lab %s: domain %u: unbind port %lu%s", lab_label(&o),
				       o.domid, v, hint(r));
	}
	evtchnx_close(h);
	return ret;
}
