/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * lab_failures - a shared lab under abuse and failure: connection floods,
 * descriptors passed to the server, a stopped and a killed server with a
 * waiter blocked on it, a clean shutdown, the handle limits, and what a
 * forked child inherits of a private lab.  Each case starts its own
 * evtchnx-labd (EVTCHNX_TEST_LABD names it) or lets the library start one.
 * The sim only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_FLOOD 300

static char lab_name[48], lab_target[64], sock_path[256], lock_path[256];

static void name_lab(const char *what)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[160];

	snprintf(lab_name, sizeof(lab_name), "fail-%s-%d", what, (int)getpid());
	snprintf(lab_target, sizeof(lab_target), "sim:%s", lab_name);
	if (xdg && xdg[0])
		snprintf(dir, sizeof(dir), "%s/evtchnx", xdg);
	else
		snprintf(dir, sizeof(dir), "/tmp/evtchnx-%u", (unsigned int)getuid());
	snprintf(sock_path, sizeof(sock_path), "%s/%s.sock", dir, lab_name);
	snprintf(lock_path, sizeof(lock_path), "%s/%s.lock", dir, lab_name);
}

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The lab server's pid, from the credentials of a connection to it. */
static pid_t server_pid(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = raw_connect();
	pid_t pid = -1;

	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		pid = cred.pid;
	if (fd >= 0)
		close(fd);
	return pid;
}

/* The pid of the evtchnx-labd serving our lab, from /proc (a server the
 * library started is a daemon: its socket carries its parent's pid). */
static pid_t daemon_pid(void)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	pid_t found = -1;

	while (proc && found < 0 && (de = readdir(proc))) {
		char path[300], cmd[512];
		size_t n;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		cmd[n] = 0;
		for (size_t i = 0; i + 1 < n; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		if (strstr(cmd, "evtchnx-labd") && strstr(cmd, lab_name))
			found = (pid_t)atoi(de->d_name);
	}
	if (proc)
		closedir(proc);
	return found;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* evtchnx-labd --foreground with @args, until its socket answers. */
static pid_t start_labd(const char *const *args)
{
	const char *labd = getenv("EVTCHNX_TEST_LABD");
	const char *argv[16];
	int n = 0;
	pid_t pid;

	if (!labd)
		h_skip("EVTCHNX_TEST_LABD does not name evtchnx-labd");
	argv[n++] = labd;
	argv[n++] = "--foreground";
	for (int i = 0; args && args[i] && n < 14; i++)
		argv[n++] = args[i];
	argv[n++] = lab_name;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execv(labd, (char *const *)argv);
		_exit(127);
	}
	CHECK(pid > 0);
	for (int i = 0; i < 500 && server_pid() != pid; i++)
		h_sleep_ms(10);
	CHECK_EQ(server_pid(), pid);
	return pid;
}

static void stop_labd(pid_t pid)
{
	int status;

	kill(pid, SIGCONT);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	unlink(sock_path);
	unlink(lock_path);
}

/* CPU time (ms) process @pid has used. */
static long cpu_ms(pid_t pid)
{
	char path[64], buf[512], *p;
	unsigned long utime, stime;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &utime, &stime) != 2)
		return -1;
	return (long)((utime + stime) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

static struct evtchnx_handle *open_lab(uint32_t domid)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = domid,
				       .flags = EVTCHNX_OPEN_NO_SPAWN };

	return h_open_raw(lab_target, &o);
}

/* ---- a flood of connections that never say HELLO ------------------------------ */

CASE(connection_flood_is_bounded_and_does_not_spin)
{
	const char *args[] = { "--hello-timeout-ms", "400", "--max-handles", "8", NULL };
	int flood[MAX_FLOOD], dropped = 0;
	struct evtchnx_handle *h;
	long cpu0, cpu1;
	pid_t pid;

	require_sim("a lab server of our own");
	name_lab("flood");
	pid = start_labd(args);
	for (int i = 0; i < MAX_FLOOD; i++)
		flood[i] = raw_connect(); /* beyond the cap they wait in the backlog */
	cpu0 = cpu_ms(pid);
	h_sleep_ms(1000);
	cpu1 = cpu_ms(pid);
	/* A spinning server burns the whole second; an idle one next to none. */
	if (cpu0 < 0 || cpu1 - cpu0 > 500)
		h_fail(__FILE__, __LINE__, "the lab server used %ld ms of CPU in 1 s of flood",
		       cpu1 - cpu0);
	/* Every idle connection is dropped after its greeting deadline. */
	for (int round = 0; round < 160 && dropped < MAX_FLOOD; round++) {
		dropped = 0;
		for (int i = 0; i < MAX_FLOOD; i++) {
			struct pollfd pfd = { .fd = flood[i], .events = POLLIN };
			char byte;

			if (flood[i] < 0 ||
			    (poll(&pfd, 1, 0) == 1 && recv(flood[i], &byte, 1, MSG_DONTWAIT) <= 0))
				dropped++;
		}
		if (dropped < MAX_FLOOD)
			h_sleep_ms(250);
	}
	CHECK_EQ(dropped, MAX_FLOOD);
	/* And the lab serves again. */
	h = open_lab(1);
	CHECK(h != NULL);
	CHECK_OK(evtchnx_alloc_unbound(h, SELF, 0));
	for (int i = 0; i < MAX_FLOOD; i++)
		if (flood[i] >= 0)
			close(flood[i]);
	stop_labd(pid);
}

CASE(handle_limits_lab_and_process)
{
	const char *args[] = { "--max-handles", "6", "--max-per-process", "4", NULL };
	struct evtchnx_handle *h[4];
	struct evtchnx_open_opts o = { .sz = sizeof(o), .flags = EVTCHNX_OPEN_NO_SPAWN };
	int status;
	pid_t pid, kid;

	require_sim("a lab server of our own");
	name_lab("limits");
	pid = start_labd(args);
	for (int i = 0; i < 4; i++) {
		h[i] = open_lab((uint32_t)i + 1);
		CHECK(h[i] != NULL);
	}
	CHECK_OPEN_ERR(lab_target, &o, EMFILE); /* this process's share */
	kid = fork();
	if (kid == 0) {
		/* Another process: two more fit the lab, then it is full. */
		struct evtchnx_handle *a = evtchnx_open(lab_target, &o);
		struct evtchnx_handle *b = evtchnx_open(lab_target, &o);
		struct evtchnx_handle *c = evtchnx_open(lab_target, &o);
		int ok = a && b && !c && errno == ENFILE;

		_exit(ok ? 0 : 1);
	}
	CHECK(waitpid(kid, &status, 0) == kid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close_h(h[3]);
	CHECK(open_lab(4) != NULL); /* room again */
	stop_labd(pid);
}

/* ---- descriptors passed to the server ----------------------------------------- */

/* A TCP socket whose close() lingers for 30 s: unsent data, SO_LINGER. */
static int lingering_socket(int *listener)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger lg = { .l_onoff = 1, .l_linger = 30 };
	socklen_t len = sizeof(sa);
	char junk[65536] = { 0 };
	int s, rcv = 4096;

	*listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*listener < 0 || s < 0)
		return -1;
	setsockopt(*listener, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(*listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(*listener, 1) < 0 ||
	    getsockname(*listener, (struct sockaddr *)&sa, &len) < 0 ||
	    connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	fcntl(s, F_SETFL, O_NONBLOCK);
	while (send(s, junk, sizeof(junk), MSG_NOSIGNAL) > 0)
		; /* the peer never reads: data stays unsent */
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return s;
}

CASE(passed_descriptor_cannot_freeze_the_lab)
{
	struct evtchnx_handle *h;
	struct evtchnx_status st = { .sz = sizeof(st) };
	char cm[CMSG_SPACE(sizeof(int))];
	uint32_t hello[4] = { 1 /* PROTO_HELLO */, 7, 2, 0 };
	struct iovec iov = { .iov_base = hello, .iov_len = sizeof(hello) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm,
			      .msg_controllen = sizeof(cm) };
	struct cmsghdr *c;
	int listener, tcp, fd;
	uint64_t t0;
	pid_t pid;

	require_sim("a lab server of our own");
	name_lab("linger");
	pid = start_labd(NULL);
	h = open_lab(1);
	CHECK(h != NULL);
	tcp = lingering_socket(&listener);
	CHECK(tcp >= 0);
	fd = raw_connect();
	CHECK(fd >= 0);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &tcp, sizeof(int));
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		CHECK_EQ(errno, EPERM); /* refused at the socket */
	close(tcp);
	/* The lab answers others at once either way. */
	t0 = h_now_ms();
	CHECK_OK(evtchnx_status(h, SELF, 1, &st));
	if (h_now_ms() - t0 > 5000) /* a lingering close() would take 30 s */
		h_fail(__FILE__, __LINE__, "status took %llu ms after a lingering descriptor",
		       (unsigned long long)(h_now_ms() - t0));
	close(fd);
	close(listener);
	stop_labd(pid);
}

/* ---- a stopped and a killed server ------------------------------------------------ */

CASE(stopped_server_times_out)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .flags = EVTCHNX_OPEN_NO_SPAWN };
	struct evtchnx_status st = { .sz = sizeof(st) };
	struct evtchnx_handle *h;
	uint64_t t0;
	pid_t pid;

	require_sim("a lab server of our own");
	name_lab("stopped");
	setenv("EVTCHNX_LAB_TIMEOUT_MS", "300", 1);
	pid = start_labd(NULL);
	h = open_lab(1);
	CHECK(h != NULL);
	kill(pid, SIGSTOP);
	t0 = h_now_ms();
	CHECK_ERR(evtchnx_alloc_unbound(h, SELF, 0), ETIMEDOUT);
	CHECK_ERR(evtchnx_status(h, SELF, 1, &st), EIO); /* broken from then on */
	CHECK_OPEN_ERR(lab_target, &o, ETIMEDOUT);
	if (h_now_ms() - t0 > 5000)
		h_fail(__FILE__, __LINE__, "timing out took %llu ms",
		       (unsigned long long)(h_now_ms() - t0));
	unsetenv("EVTCHNX_LAB_TIMEOUT_MS");
	stop_labd(pid);
}

struct waiter {
	struct evtchnx_handle *h;
	int result;
	bool done;
};

static void *wait_forever(void *arg)
{
	struct waiter *w = arg;

	w->result = evtchnx_wait(w->h, -1);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

CASE(killed_server_wakes_a_blocked_waiter)
{
	struct waiter w = { 0 };
	struct pollfd pfd;
	pthread_t t;
	pid_t pid;
	int status;

	require_sim("a lab server of our own");
	name_lab("killed");
	pid = start_labd(NULL);
	w.h = open_lab(1);
	CHECK(w.h != NULL);
	CHECK_OK(evtchnx_alloc_unbound(w.h, SELF, 0));
	pthread_create(&t, NULL, wait_forever, &w);
	h_sleep_ms(100);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	for (int i = 0; i < 1000 && !__atomic_load_n(&w.done, __ATOMIC_ACQUIRE); i++)
		h_sleep_ms(10);
	if (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE))
		h_fail(__FILE__, __LINE__, "evtchnx_wait(-1) still blocked 10 s after the server died");
	pthread_join(t, NULL);
	CHECK_EQ(w.result, -EIO);
	pfd = (struct pollfd){ .fd = evtchnx_fd(w.h), .events = POLLIN };
	CHECK_EQ(poll(&pfd, 1, 0), 1); /* event loops notice too */
	CHECK_ERR(evtchnx_pending(w.h), EIO);
	unlink(sock_path);
	unlink(lock_path);
}

/* ---- a clean shutdown ---------------------------------------------------------------- */

CASE(sigterm_removes_the_lab_files_and_tells_handles)
{
	struct evtchnx_handle *a, *b;
	int pa, pb, status;
	pid_t pid;

	require_sim("a lab server of our own");
	name_lab("term");
	a = h_open_raw(lab_target, &(struct evtchnx_open_opts){ .sz = sizeof(struct evtchnx_open_opts), .domid = 1 });
	CHECK(a != NULL); /* started by the library */
	b = open_lab(2);
	CHECK(b != NULL);
	pa = CHECK_OK(evtchnx_alloc_unbound(a, SELF, 2));
	pb = CHECK_OK(evtchnx_bind_interdomain(b, 1, (uint32_t)pa));
	(void)pb;
	pid = daemon_pid();
	CHECK(pid > 0);
	CHECK(file_exists(sock_path));
	CHECK(file_exists(lock_path));
	kill(pid, SIGTERM);
	for (int i = 0; i < 1000 && kill(pid, 0) == 0; i++)
		h_sleep_ms(10);
	CHECK(kill(pid, 0) < 0);
	CHECK(!file_exists(sock_path));
	CHECK(!file_exists(lock_path));
	CHECK_ERR(evtchnx_send(a, (uint32_t)pa), EIO);
	CHECK_ERR(evtchnx_pending(b), EIO);
	(void)waitpid(pid, &status, WNOHANG);
}

/* ---- fork ----------------------------------------------------------------------- */

CASE(forked_child_keeps_no_private_lab_descriptor)
{
	struct evtchnx_handle *a, *b;
	int before, status;
	pid_t kid;

	require_sim("the private lab");
	before = h_settled_fds(-1);
	a = h_open_raw("sim", &(struct evtchnx_open_opts){ .sz = sizeof(struct evtchnx_open_opts), .domid = 1 });
	b = h_open_raw("sim", &(struct evtchnx_open_opts){ .sz = sizeof(struct evtchnx_open_opts), .domid = 2 });
	CHECK(a && b);
	CHECK_OK(evtchnx_bind_interdomain(b, 1, (uint32_t)CHECK_OK(evtchnx_alloc_unbound(a, SELF, 2))));
	kid = fork();
	if (kid == 0) {
		int after;

		evtchnx_close(a); /* releases the child's copies */
		evtchnx_close(b);
		after = h_count_fds();
		if (after != before)
			fprintf(stderr, "child: %d descriptors, %d before the handles\n",
				after, before);
		_exit(after == before ? 0 : 1);
	}
	CHECK(waitpid(kid, &status, 0) == kid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- a strict lab ------------------------------------------------------------------- */

/* In a child: open the strict lab as @domid with @token (NULL: none);
 * exit 0 when the outcome is @want_errno (0: a handle). */
static void child_open(uint32_t domid, const char *token, int want_errno)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = domid,
				       .flags = EVTCHNX_OPEN_NO_SPAWN };
	struct evtchnx_handle *h;

	if (token)
		setenv("EVTCHNX_LAB_TOKEN", token, 1);
	else
		unsetenv("EVTCHNX_LAB_TOKEN");
	h = evtchnx_open(lab_target, &o);
	if (want_errno ? (h || errno != want_errno) : !h) {
		fprintf(stderr, "child: open as dom %u with %s: %s\n", domid,
			token ? "a token" : "no token", h ? "a handle" : strerror(errno));
		_exit(1);
	}
	_exit(0);
}

static void expect_child(uint32_t domid, const char *token, int want_errno)
{
	int status;
	pid_t kid = fork();

	if (kid == 0)
		child_open(domid, token, want_errno);
	CHECK(kid > 0 && waitpid(kid, &status, 0) == kid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		h_fail(__FILE__, __LINE__, "open as dom %u with %s: expected %s",
		       domid, token ? "a token" : "no token",
		       want_errno ? strerror(want_errno) : "a handle");
}

CASE(strict_lab_joins_only_with_the_domain_token)
{
	struct evtchnx_open_opts strict = { .sz = sizeof(strict),
					    .flags = EVTCHNX_OPEN_STRICT };
	struct evtchnx_handle *c, *g;
	char t2[EVTCHNX_TOKEN_SIZE], t0[EVTCHNX_TOKEN_SIZE], bad[EVTCHNX_TOKEN_SIZE];
	pid_t pid;

	require_sim("a lab server of our own");
	name_lab("strict");
	c = h_open_raw(lab_target, &strict); /* starts it: we own domain 0 */
	CHECK(c != NULL);
	pid = daemon_pid();
	/* Another process as the control domain or as a guest: refused. */
	expect_child(0, NULL, EACCES);
	expect_child(2, NULL, EACCES);
	/* The control domain hands out tokens; a guest's opens its domain only. */
	CHECK_OK(evtchnx_domain_grant(c, 2, t2, sizeof(t2)));
	CHECK_EQ(strlen(t2), EVTCHNX_TOKEN_SIZE - 1);
	expect_child(2, t2, 0);
	expect_child(3, t2, EACCES);
	expect_child(0, t2, EACCES);
	memcpy(bad, t2, sizeof(bad));
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	expect_child(2, bad, EACCES);
	/* Domain 0's token makes another process the control domain. */
	CHECK_OK(evtchnx_domain_grant(c, 0, t0, sizeof(t0)));
	expect_child(0, t0, 0);
	/* Only the control domain grants; a destroyed domain's token dies. */
	setenv("EVTCHNX_LAB_TOKEN", t2, 1);
	g = open_lab(2);
	unsetenv("EVTCHNX_LAB_TOKEN");
	CHECK(g != NULL);
	CHECK_ERR(evtchnx_domain_grant(g, 3, t0, sizeof(t0)), EPERM);
	CHECK_ERR(evtchnx_domain_grant(c, 3, t0, 8), EINVAL);
	close_h(g);
	h_domain_create(c, 4);
	{
		char t4[EVTCHNX_TOKEN_SIZE];

		CHECK_OK(evtchnx_domain_grant(c, 4, t4, sizeof(t4)));
		CHECK_OK(evtchnx_domain_destroy(c, 4));
		expect_child(4, t4, EACCES);
	}
	close_h(c);
	if (pid > 0)
		kill(pid, SIGTERM);
}

CASE(strict_flag_refuses_a_permissive_lab)
{
	struct evtchnx_open_opts strict = { .sz = sizeof(strict),
					    .flags = EVTCHNX_OPEN_STRICT | EVTCHNX_OPEN_NO_SPAWN };
	pid_t pid;

	require_sim("a lab server of our own");
	name_lab("lax");
	pid = start_labd(NULL);
	CHECK_OPEN_ERR(lab_target, &strict, EPERM);
	CHECK(open_lab(1) != NULL); /* permissive: anyone, as anything */
	CHECK_OPEN_ERR("sim", &strict, EPERM); /* the private lab never is strict */
	stop_labd(pid);
}
