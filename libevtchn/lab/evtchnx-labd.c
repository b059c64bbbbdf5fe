/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx-labd - the server of a shared evtchnx lab "sim:NAME".
 *
 *   evtchnx-labd [--foreground] [--keep] [--grace-ms MS] [--max-handles N]
 *                [--max-per-process N] [--hello-timeout-ms MS]
 *                [--strict] [--owner PID] NAME
 *
 * Started by the library on the first open of a lab (then it detaches once
 * it listens), or by hand with --foreground (`evtchnx lab serve NAME`).  It
 * leaves when its last handle has been gone for the grace period
 * (--grace-ms, else $EVTCHNX_LAB_GRACE_MS, else 2000 ms); with --foreground
 * the grace period starts only once a first handle has come and gone.  With
 * --keep it never leaves when idle (`evtchnx lab start`).  The limits
 * default to $EVTCHNX_LAB_MAX_HANDLES, $EVTCHNX_LAB_MAX_PER_PROCESS and
 * $EVTCHNX_LAB_HELLO_TIMEOUT_MS, else to the values in server.h.  --strict
 * (or $EVTCHNX_LAB_STRICT=1) makes a strict lab, whose domain 0 is open to
 * process --owner (default: the one that started this program) and to
 * holders of its token.  SIGTERM, SIGINT and SIGHUP shut it down cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "labdir.h"
#include "server.h"

#define DEFAULT_GRACE_MS 2000u

static void usage(FILE *f)
{
	fprintf(f, "usage: evtchnx-labd [--foreground] [--keep] [--grace-ms MS] [--max-handles N]\n"
		   "                    [--max-per-process N] [--hello-timeout-ms MS]\n"
		   "                    [--strict] [--owner PID] NAME\n");
}

/* A limit from the environment, if set and valid. */
static void env_limit(const char *name, unsigned int *out)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return;
	n = strtoul(v, &end, 10);
	if (!*end && n > 0 && n <= 3600000ul)
		*out = (unsigned int)n;
}

static int parse_ms(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 3600000ul)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/* Another server already answers on this lab? */
static int lab_alive(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	struct lab_server_config cfg = { .door_fd = -1, .signal_fd = -1 };
	sigset_t stop;
	struct lab_paths paths;
	struct lab_server *srv;
	struct rlimit rl;
	bool foreground = false, keep = false;
	const char *name = NULL, *env = getenv("EVTCHNX_LAB_GRACE_MS");
	unsigned int grace = DEFAULT_GRACE_MS;
	int err, lock = -1;

	/* Hold nothing the starting process had open but stdio. */
	closefrom(3);
	signal(SIGPIPE, SIG_IGN);
	if (env && parse_ms(env, &grace))
		grace = DEFAULT_GRACE_MS;
	cfg.owner = getppid();
	cfg.strict = getenv("EVTCHNX_LAB_STRICT") && !strcmp(getenv("EVTCHNX_LAB_STRICT"), "1");
	env_limit("EVTCHNX_LAB_MAX_HANDLES", &cfg.max_handles);
	env_limit("EVTCHNX_LAB_MAX_PER_PROCESS", &cfg.max_per_process);
	env_limit("EVTCHNX_LAB_HELLO_TIMEOUT_MS", &cfg.hello_timeout_ms);
	for (int i = 1; i < argc; i++) {
		unsigned int *limit = !strcmp(argv[i], "--max-handles") ? &cfg.max_handles :
				      !strcmp(argv[i], "--max-per-process") ? &cfg.max_per_process :
				      !strcmp(argv[i], "--hello-timeout-ms") ? &cfg.hello_timeout_ms :
				      NULL;

		if (!strcmp(argv[i], "--foreground")) {
			foreground = true;
		} else if (!strcmp(argv[i], "--keep")) {
			keep = true;
		} else if (!strcmp(argv[i], "--strict")) {
			cfg.strict = true;
		} else if (!strcmp(argv[i], "--owner") && i + 1 < argc) {
			char *end;
			long pid = strtol(argv[++i], &end, 10);

			if (*end || pid <= 0 || pid > INT32_MAX) {
				fprintf(stderr, "evtchnx-labd: bad --owner '%s'\n", argv[i]);
				return 2;
			}
			cfg.owner = (pid_t)pid;
		} else if (limit && i + 1 < argc) {
			if (parse_ms(argv[++i], limit) || !*limit) {
				fprintf(stderr, "evtchnx-labd: bad %s '%s'\n", argv[i - 1], argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--grace-ms") && i + 1 < argc) {
			if (parse_ms(argv[++i], &grace)) {
				fprintf(stderr, "evtchnx-labd: bad --grace-ms '%s'\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] != '-' && !name) {
			name = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!name) {
		usage(stderr);
		return 2;
	}
	err = lab_paths_get(name, &paths);
	if (err) {
		fprintf(stderr, "evtchnx-labd: lab '%s': %s\n", name, strerror(-err));
		return 1;
	}
	/* Handles of several domains each hold a few descriptors here. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (foreground) {
		/* Started by hand: take the lock a starting client would hold. */
		lock = lab_lock(paths.lock);
		if (lock < 0) {
			fprintf(stderr, "evtchnx-labd: lock %s: %s\n", paths.lock,
				strerror(-lock));
			return 1;
		}
		if (lab_alive(paths.sock)) {
			fprintf(stderr, "evtchnx-labd: lab '%s' is already served\n", name);
			return 1;
		}
	}
	cfg.listen_fd = lab_listen(&paths);
	if (cfg.listen_fd < 0) {
		fprintf(stderr, "evtchnx-labd: listen on %s: %s\n", paths.sock,
			strerror(-cfg.listen_fd));
		return 1;
	}
	if (lock >= 0)
		close(lock);
	cfg.sock_path = paths.sock;
	cfg.lock_path = paths.lock;
	cfg.grace_ms = grace;
	cfg.wait_first = foreground; /* started by hand: wait for a client */
	cfg.keep = keep;

	if (!foreground) {
		/* Listening: let the starting client go on, and detach. */
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid > 0)
			_exit(0);
		setsid();
	} else {
		if (keep)
			printf("evtchnx-labd: serving lab '%s' on %s (kept until SIGTERM)\n",
			       name, paths.sock);
		else
			printf("evtchnx-labd: serving lab '%s' on %s (grace %u ms, "
			       "from the last handle's departure)\n", name, paths.sock, grace);
		fflush(stdout);
	}
	/* SIGTERM, SIGINT, SIGHUP: shut down cleanly, from the loop. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	cfg.signal_fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	srv = lab_server_new(&cfg);
	if (!srv) {
		perror("evtchnx-labd");
		unlink(paths.sock);
		return 1;
	}
	err = lab_server_run(srv);
	lab_server_free(srv);
	if (foreground)
		printf("evtchnx-labd: lab '%s' idle, leaving\n", name);
	return err ? 1 : 0;
}
