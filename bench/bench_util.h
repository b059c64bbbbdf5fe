/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * bench_util.h - small helpers shared by the benchmark programs: a
 * monotonic clock, a watchdog that kills the children and exits, child
 * bookkeeping, full reads/writes, statistics and /proc readings.
 *
 * Everything here is static inline so that each benchmark stays one
 * translation unit.
 */
#ifndef EVTCHNX_BENCH_UTIL_H
#define EVTCHNX_BENCH_UTIL_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_CHILDREN 8

/* Children of this process; the signal handlers read them. */
static pid_t bench_children[BENCH_MAX_CHILDREN];
/* Wait status of a child that the SIGCHLD handler reaped (pid set to -1). */
static int bench_child_status[BENCH_MAX_CHILDREN];
static volatile sig_atomic_t bench_nchildren;
/* Set by the SIGCHLD handler when one of our children died early. */
static volatile sig_atomic_t bench_child_died;
/* Set while the children are being reaped on purpose. */
static volatile sig_atomic_t bench_reaping;
static const char *bench_prog = "bench";
/* Where the program is, for the watchdog's message. */
static const char *volatile bench_phase = "set-up";
static volatile long bench_round;
static volatile long bench_iter;
/* Called by the fatal-signal handler before the children are killed, to
 * say more about the state (async-signal-safe code only). */
static void (*volatile bench_on_fatal)(void);

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* In a spin-wait loop: let the other hardware thread of the core run. */
static inline void bench_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static inline void bench_write_str(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));

	(void)r;
}

static inline void bench_write_long(long v)
{
	char buf[24];
	int i = (int)sizeof(buf);
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;

	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u && i > 1);
	if (v < 0)
		buf[--i] = '-';
	bench_write_str(buf + i);
}

static inline void bench_set_phase(const char *phase, long round)
{
	bench_phase = phase;
	bench_round = round;
	bench_iter = 0;
}

static inline void bench_kill_children(void)
{
	for (int i = 0; i < bench_nchildren; i++) {
		if (bench_children[i] > 0)
			kill(bench_children[i], SIGKILL);
	}
}

/* SIGALRM (watchdog), SIGINT, SIGTERM, SIGHUP: kill the children, leave. */
static inline void bench_fatal_signal(int sig)
{
	bench_kill_children();
	bench_write_str(bench_prog);
	if (sig == SIGALRM)
		bench_write_str(": watchdog expired");
	else
		bench_write_str(": interrupted");
	bench_write_str(" in ");
	bench_write_str(bench_phase);
	if (bench_round > 0) {
		bench_write_str(", round ");
		bench_write_long(bench_round);
		bench_write_str(", step ");
		bench_write_long(bench_iter);
	}
	if (bench_on_fatal)
		bench_on_fatal();
	bench_write_str("; children killed\n");
	for (int i = 0; i < bench_nchildren; i++) {
		if (bench_children[i] > 0)
			waitpid(bench_children[i], NULL, 0);
	}
	_exit(sig == SIGALRM ? 3 : 4);
}

/* Only our own children are looked at: the library may have children of
 * its own (a lab server being started) that it reaps itself. */
static inline void bench_sigchld(int sig)
{
	int saved = errno;

	(void)sig;
	if (!bench_reaping) {
		for (int i = 0; i < bench_nchildren; i++) {
			pid_t p = bench_children[i];

			if (p > 0 && waitpid(p, &bench_child_status[i], WNOHANG) == p) {
				bench_children[i] = -1;
				bench_child_died = 1;
			}
		}
	}
	errno = saved;
}

static inline void bench_install_signals(const char *prog, unsigned int watchdog_s)
{
	struct sigaction sa;

	bench_prog = prog;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = bench_fatal_signal;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = bench_sigchld;
	sa.sa_flags = SA_NOCLDSTOP; /* no SA_RESTART: waits see EINTR */
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, NULL);
	alarm(watchdog_s);
}

/*
 * Fork a child.  In the child: forget the parent's children, restore
 * default signal dispositions except the watchdog, die with the parent.
 * Returns the pid in the parent, 0 in the child, -1 on failure.
 */
static inline pid_t bench_fork(unsigned int watchdog_s)
{
	pid_t parent = getpid();
	pid_t pid;

	if (bench_nchildren >= BENCH_MAX_CHILDREN) {
		errno = EAGAIN;
		return -1;
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sigaction sa;

		bench_nchildren = 0;
		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(5);
		/* The parent's watchdog goes first and names the phase. */
		bench_set_phase("a child process", 0);
		alarm(watchdog_s + 10);
		return 0;
	}
	bench_child_status[bench_nchildren] = 0;
	bench_children[bench_nchildren] = pid;
	bench_nchildren = bench_nchildren + 1;
	return pid;
}

/* Call before telling the children to leave: from then on they are reaped
 * by bench_reap_children() only, and their exit is no surprise. */
static inline void bench_begin_reaping(void)
{
	bench_reaping = 1;
}

/* Reap every child: wait up to @grace_ms for them to leave on their own,
 * then kill the rest.  Returns the number that did not exit with 0. */
static inline int bench_reap_children(int grace_ms)
{
	int bad = 0;
	uint64_t deadline = bench_now_ns() + (uint64_t)grace_ms * 1000000u;

	bench_reaping = 1;
	for (int i = 0; i < bench_nchildren; i++) {
		pid_t p = bench_children[i];
		int st;

		if (p <= 0) {
			st = bench_child_status[i];
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				bad++;
			continue;
		}
		for (;;) {
			pid_t r = waitpid(p, &st, WNOHANG);

			if (r == p) {
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					bad++;
				break;
			}
			if (r < 0 && errno != EINTR) {
				bad++;
				break;
			}
			if (bench_now_ns() > deadline) {
				kill(p, SIGKILL);
				waitpid(p, &st, 0);
				bad++;
				break;
			}
			usleep(1000);
		}
		bench_children[i] = -1;
	}
	bench_nchildren = 0;
	return bad;
}

static inline int bench_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
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

/* Returns 0, -EPIPE at end of file, or a negative errno. */
static inline int bench_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR) {
				if (bench_child_died)
					return -ECHILD;
				continue;
			}
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @n samples; sorts them in place. */
static inline double bench_median_u64(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0.0;
	qsort(v, n, sizeof(*v), bench_cmp_u64);
	if (n % 2)
		return (double)v[n / 2];
	return ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

static inline double bench_mean_u64(const uint64_t *v, size_t n)
{
	double s = 0.0;

	for (size_t i = 0; i < n; i++)
		s += (double)v[i];
	return n ? s / (double)n : 0.0;
}

/* Median of @n doubles; sorts a copy. */
static inline double bench_median_double(const double *v, size_t n)
{
	double tmp[64];

	if (n == 0 || n > 64)
		return 0.0;
	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), bench_cmp_double);
	if (n % 2)
		return tmp[n / 2];
	return (tmp[n / 2 - 1] + tmp[n / 2]) / 2.0;
}

static inline double bench_min_double(const double *v, size_t n)
{
	double m = n ? v[0] : 0.0;

	for (size_t i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static inline double bench_max_double(const double *v, size_t n)
{
	double m = n ? v[0] : 0.0;

	for (size_t i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* A "Name:  N kB" field of /proc/PID/status in KiB (@pid 0 = this
 * process), or -1. */
static inline long bench_status_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t len = strlen(field);
	long kib = -1;
	FILE *f;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/status");
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kib = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kib;
}

/* VmRSS of @pid in KiB (0 = this process), or -1. */
static inline long bench_vmrss_kib(pid_t pid)
{
	return bench_status_kib(pid, "VmRSS");
}

/* RssAnon of @pid in KiB: the part of VmRSS that a leak would grow (file
 * pages, such as code faulted in on a first call, are not in it). */
static inline long bench_rssanon_kib(pid_t pid)
{
	return bench_status_kib(pid, "RssAnon");
}

/* The state letter of @pid (R, S, D...; '?' if unknown) and, in @wchan,
 * where in the kernel it sleeps. */
static inline char bench_proc_state(pid_t pid, char *wchan, size_t len)
{
	char path[64], line[512], state = '?';
	const char *p;
	FILE *f;

	snprintf(wchan, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) && p[1] == ' ')
			state = p[2];
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(wchan, (int)len, f) || !wchan[0])
			snprintf(wchan, len, "?");
		fclose(f);
	}
	return state;
}

static inline double bench_loadavg(void)
{
	double l = -1.0;
	FILE *f = fopen("/proc/loadavg", "re");

	if (!f)
		return -1.0;
	if (fscanf(f, "%lf", &l) != 1)
		l = -1.0;
	fclose(f);
	return l;
}

/* Print a warning when the machine was busy before the run started. */
static inline void bench_warn_load(void)
{
	double l = bench_loadavg();
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (l >= 0.0 && ncpu > 0 && l > 0.5 * (double)ncpu)
		printf("warning: load average %.2f on %ld CPUs: other processes compete "
		       "for the CPUs, figures are noisy\n", l, ncpu);
}

/* Parse a positive integer option argument. */
static inline long bench_parse_pos(const char *opt, const char *arg, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v <= 0 || v > max) {
		fprintf(stderr, "%s: %s wants an integer in 1..%ld, got '%s'\n",
			bench_prog, opt, max, arg);
		exit(2);
	}
	return v;
}

static inline const char *bench_pass(int ok)
{
	return ok ? "PASS" : "FAIL";
}

/* Kill one of our children on purpose (a side that stopped answering, after
 * its round was declared invalid): from now on it is neither a child that
 * died early nor a failure at the end. */
static inline void bench_kill_child(pid_t pid)
{
	for (int i = 0; i < bench_nchildren; i++) {
		if (bench_children[i] != pid)
			continue;
		bench_children[i] = -1;
		bench_child_status[i] = 0;
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
}

/* How a figure is judged in its RESULT line. */
enum bench_target { BENCH_REPORT, BENCH_AT_MOST, BENCH_AT_LEAST };

/* A figure over the valid rounds of a run. */
struct bench_stat {
	double median, min, max;
	size_t valid, rounds;
};

/* The figure @v[i] of every round @i < @n for which @ok[i] is set. */
static inline struct bench_stat bench_stat_valid(const double *v, const unsigned char *ok,
						 size_t n)
{
	struct bench_stat st = { .rounds = n };
	double tmp[64];

	for (size_t i = 0; i < n && i < 64; i++) {
		if (ok[i])
			tmp[st.valid++] = v[i];
	}
	st.median = bench_median_double(tmp, st.valid);
	st.min = bench_min_double(tmp, st.valid);
	st.max = bench_max_double(tmp, st.valid);
	return st;
}

/* PASS or FAIL on the median of the valid rounds; INVALID when no round was
 * valid; REPORT for a figure without a target. */
static inline const char *bench_verdict(struct bench_stat st, enum bench_target t,
					double target)
{
	if (st.valid == 0)
		return "INVALID";
	if (t == BENCH_AT_MOST)
		return bench_pass(st.median <= target);
	if (t == BENCH_AT_LEAST)
		return bench_pass(st.median >= target);
	return "REPORT";
}

/*
 * The machine-readable line of one figure, for collecting figures over
 * several runs:
 *   RESULT NAME median=M min=M max=M valid=V/N target<=T verdict=PASS
 * (target>=T, or target=none with verdict=REPORT; the figures are "nan" when
 * no round was valid).
 */
static inline void bench_result(const char *name, struct bench_stat st,
				enum bench_target t, double target, int decimals)
{
	char tgt[32];

	if (t == BENCH_REPORT)
		snprintf(tgt, sizeof(tgt), "=none");
	else
		snprintf(tgt, sizeof(tgt), "%s%g", t == BENCH_AT_MOST ? "<=" : ">=", target);
	if (st.valid)
		printf("RESULT %s median=%.*f min=%.*f max=%.*f valid=%zu/%zu target%s verdict=%s\n",
		       name, decimals, st.median, decimals, st.min, decimals, st.max,
		       st.valid, st.rounds, tgt, bench_verdict(st, t, target));
	else
		printf("RESULT %s median=nan min=nan max=nan valid=0/%zu target%s verdict=%s\n",
		       name, st.rounds, tgt, bench_verdict(st, t, target));
}

#endif /* EVTCHNX_BENCH_UTIL_H */
