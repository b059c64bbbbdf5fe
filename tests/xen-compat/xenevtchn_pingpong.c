/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xenevtchn_pingpong.c - an event ping-pong between two processes, written
 * against Xen's own <xenevtchn.h> and linked with Xen's libxenevtchn.
 *
 * The same binary runs on real Xen (both ends in dom0) and, through
 * `evtchnx run`, on a sim lab as two domains:
 *
 *   xenevtchn_pingpong [ROUNDS]
 *           both ends in this domain, as two processes (dom0 loopback):
 *           a child serves, the parent pings
 *   xenevtchn_pingpong serve PEER-DOMID PORT-FILE [ROUNDS]
 *           offer a port to PEER-DOMID, write its number to PORT-FILE,
 *           answer ROUNDS events
 *   xenevtchn_pingpong ping PEER-DOMID PORT-FILE [ROUNDS]
 *           read the port from PORT-FILE, bind it, send ROUNDS events and
 *           wait for each answer
 *
 * Prints one "PASS name" or "FAIL name (...)" line per check and exits 0
 * when every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>

#define WAIT_MS 10000
#define DEFAULT_ROUNDS 1000

static int failures;
static const char *role = "pingpong";

static int check(int ok, const char *name, int err)
{
	if (ok)
		printf("PASS %s_%s\n", role, name);
	else {
		printf("FAIL %s_%s (errno %d: %s)\n", role, name, err, strerror(err));
		failures++;
	}
	fflush(stdout);
	return ok;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Wait for the next event and return its port, or -1 (errno ETIMEDOUT
 * after WAIT_MS).  Polls first, as libxenevtchn's header asks. */
static int take(xenevtchn_handle *xce)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };
	int r;

	do
		r = poll(&pfd, 1, WAIT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	if (r <= 0)
		return -1;
	return xenevtchn_pending(xce);
}

static int write_port(const char *file, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f))
		return -1;
	return rename(tmp, file);
}

static int read_port(const char *file)
{
	for (int i = 0; i < WAIT_MS / 10; i++) {
		FILE *f = fopen(file, "r");
		int port;

		if (f) {
			int n = fscanf(f, "%d", &port);

			fclose(f);
			if (n == 1)
				return port;
		}
		usleep(10000);
	}
	errno = ETIMEDOUT;
	return -1;
}

static int serve(unsigned int peer, const char *file, long rounds)
{
	xenevtchn_handle *xce;
	long answered = 0;
	int port;

	role = "serve";
	xce = xenevtchn_open(NULL, 0);
	if (!check(xce != NULL, "open", errno))
		return 1;
	port = xenevtchn_bind_unbound_port(xce, peer);
	if (!check(port > 0, "bind_unbound_port", errno))
		goto out;
	if (!check(write_port(file, port) == 0, "write_port_file", errno))
		goto out;
	for (; answered < rounds; answered++) {
		int p = take(xce);

		if (p != port) {
			printf("serve: round %ld: took %d, expected %d\n", answered, p, port);
			break;
		}
		if (xenevtchn_unmask(xce, port) < 0 || xenevtchn_notify(xce, port) < 0)
			break;
	}
	check(answered == rounds, "answered_every_ping", errno);
out:
	check(xenevtchn_close(xce) == 0, "close", errno);
	return failures ? 1 : 0;
}

static int ping(unsigned int peer, const char *file, long rounds)
{
	xenevtchn_handle *xce;
	int rport, port, p;
	long done = 0;
	double t0;

	role = "ping";
	rport = read_port(file);
	if (!check(rport > 0, "read_port_file", errno))
		return 1;
	xce = xenevtchn_open(NULL, 0);
	if (!check(xce != NULL, "open", errno))
		return 1;
	port = xenevtchn_bind_interdomain(xce, peer, (evtchn_port_t)rport);
	if (!check(port > 0, "bind_interdomain", errno))
		goto out;
	/* Xen leaves the new port pending. */
	p = take(xce);
	check(p == port, "initial_event", errno);
	check(xenevtchn_unmask(xce, port) == 0, "unmask", errno);

	t0 = now_us();
	for (; done < rounds; done++) {
		if (xenevtchn_notify(xce, port) < 0)
			break;
		p = take(xce);
		if (p != port) {
			printf("ping: round %ld: took %d, expected %d\n", done, p, port);
			break;
		}
		if (xenevtchn_unmask(xce, port) < 0)
			break;
	}
	if (check(done == rounds, "every_ping_answered", errno) && rounds)
		printf("ping: %ld round trips, %.1f us each\n", rounds,
		       (now_us() - t0) / (double)rounds);

	check(xenevtchn_unbind(xce, port) == 0, "unbind", errno);
	errno = 0;
	check(xenevtchn_unbind(xce, port) == -1 && errno == ENOTCONN,
	      "unbind_again_enotconn", errno);
out:
	check(xenevtchn_close(xce) == 0, "close", errno);
	return failures ? 1 : 0;
}

/* Both ends in this domain: a child serves, this process pings. */
static int pair(long rounds)
{
	char file[64];
	int status, r;
	pid_t pid;

	snprintf(file, sizeof(file), "/tmp/xenevtchn-pingpong-%d.port", (int)getpid());
	unlink(file);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(serve(0, file, rounds));
	r = ping(0, file, rounds);
	role = "pair";
	check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0, "serve_exited_0", errno);
	unlink(file);
	return r || failures ? 1 : 0;
}

static long parse_long(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max) {
		fprintf(stderr, "xenevtchn_pingpong: not a number: '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long rounds = DEFAULT_ROUNDS;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc <= 2) {
		if (argc == 2)
			rounds = parse_long(argv[1], 10000000);
		return pair(rounds);
	}
	if (argc < 4 || argc > 5 || (strcmp(argv[1], "serve") && strcmp(argv[1], "ping"))) {
		fprintf(stderr, "usage: xenevtchn_pingpong [ROUNDS]\n"
				"       xenevtchn_pingpong serve|ping PEER-DOMID PORT-FILE [ROUNDS]\n");
		return 2;
	}
	if (argc == 5)
		rounds = parse_long(argv[4], 10000000);
	if (!strcmp(argv[1], "serve"))
		return serve((unsigned int)parse_long(argv[2], 0x7FEF), argv[3], rounds);
	return ping((unsigned int)parse_long(argv[2], 0x7FEF), argv[3], rounds);
}
