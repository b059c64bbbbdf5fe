/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * harness.c - the conformance suite's runner, checks and target handling.
 * See harness.h.
 */
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define H_TARGET_MAX 80
#define H_MAX_CHILDREN 64
#define H_MAX_FDS 256
#define H_MAX_DOMS 128
#define H_CHILD_LIFETIME_S 60
#define H_XEN_SETTLE_MS 2000
#define H_REDELIVERY_MS 100

struct h_case_rec {
	const char *name;
	h_case_fn fn;
	int line;
};

struct h_tracked {
	struct evtchnx_handle *h;
	char target[H_TARGET_MAX];
};

struct h_dom_rec {
	char target[H_TARGET_MAX];
	uint32_t domid;
};

static struct h_case_rec *h_cases;
static size_t h_ncases, h_capcases;

static jmp_buf h_jmp;
static pid_t h_pid;
static pthread_t h_main_thread;
static const char *volatile h_cur_name;
static atomic_int h_async_failed;
static bool h_skipped;
static char h_skip_reason[256];
static unsigned int h_npassed, h_nfailed, h_nskipped;
static unsigned int h_case_timeout = 60;

static char h_target_buf[H_TARGET_MAX];
static char h_shared_buf[H_TARGET_MAX];
static bool h_xen;
static long h_xen_domid = -1;

static pthread_mutex_t h_track_lock = PTHREAD_MUTEX_INITIALIZER;
static struct h_tracked *h_handles;
static size_t h_nhandles, h_caphandles;
static volatile pid_t h_children[H_MAX_CHILDREN];
static volatile size_t h_nchildren;
static int h_fds[H_MAX_FDS];
static size_t h_nfds;
static struct h_dom_rec h_doms[H_MAX_DOMS];
static size_t h_ndoms;

/* ---- registration ------------------------------------------------------------ */

void h_register(const char *name, h_case_fn fn, int line)
{
	if (h_ncases == h_capcases) {
		size_t cap = h_capcases ? 2 * h_capcases : 64;
		struct h_case_rec *n = realloc(h_cases, cap * sizeof(*n));

		if (!n) {
			fprintf(stderr, "harness: out of memory\n");
			exit(1);
		}
		h_cases = n;
		h_capcases = cap;
	}
	h_cases[h_ncases].name = name;
	h_cases[h_ncases].fn = fn;
	h_cases[h_ncases].line = line;
	h_ncases++;
}

static int h_case_cmp(const void *a, const void *b)
{
	const struct h_case_rec *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

/* ---- errno names ----------------------------------------------------------------- */

const char *h_errname(int err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case EPIPE: return "EPIPE";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case EPROTO: return "EPROTO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ECONNRESET: return "ECONNRESET";
	case ENOTCONN: return "ENOTCONN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EALREADY: return "EALREADY";
	default: return NULL;
	}
}

/* "5", or "-EINVAL (Invalid argument)" for a value in errno range. */
static const char *h_fmt_val(long long v, char *buf, size_t len)
{
	if (v < 0 && v > -4096) {
		const char *n = h_errname((int)-v);

		if (n) {
			snprintf(buf, len, "-%s (%s)", n,
				 evtchnx_strerror((int)v));
			return buf;
		}
	}
	snprintf(buf, len, "%lld", v);
	return buf;
}

static const char *h_fmt_errno(int e, char *buf, size_t len)
{
	const char *n = h_errname(e);

	if (e == 0)
		snprintf(buf, len, "0 (unset)");
	else if (n)
		snprintf(buf, len, "%s (%s)", n, evtchnx_strerror(e));
	else
		snprintf(buf, len, "%d (%s)", e, evtchnx_strerror(e));
	return buf;
}

/* ---- output ----------------------------------------------------------------------- */

void h_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("  # ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

/* ---- failing and skipping ------------------------------------------------------------ */

void h_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (getpid() != h_pid) {
		printf("  [child %d] %s:%d: %s\n", (int)getpid(), file, line,
		       msg);
		fflush(stdout);
		_exit(1);
	}
	printf("  %s:%d: %s\n", file, line, msg);
	fflush(stdout);
	if (!h_cur_name)
		exit(1);
	if (!pthread_equal(pthread_self(), h_main_thread)) {
		atomic_store(&h_async_failed, 1);
		pthread_exit(NULL);
	}
	longjmp(h_jmp, 1);
}

void h_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h_skip_reason, sizeof(h_skip_reason), fmt, ap);
	va_end(ap);
	if (getpid() != h_pid || !pthread_equal(pthread_self(), h_main_thread)) {
		/* Only the case's own thread may skip. */
		h_fail(__FILE__, __LINE__, "h_skip() outside the case's thread");
	}
	h_skipped = true;
	longjmp(h_jmp, 2);
}

void require_multi_domain(void)
{
	if (h_xen)
		h_skip("needs several domains in one program; on xen one program is one "
		       "domain: the two-domain form runs in interdomain (dom0 and a guest)");
}

void require_sim(const char *why)
{
	if (h_xen)
		h_skip("%s", why);
}

/* ---- checks ------------------------------------------------------------------------------ */

void h_check_eq(long long actual, long long expected, const char *aexpr,
		const char *eexpr, const char *file, int line)
{
	char a[128], e[128];

	if (actual == expected)
		return;
	h_fail(file, line, "%s == %s: expected %s, got %s", aexpr, eexpr,
	       h_fmt_val(expected, e, sizeof(e)),
	       h_fmt_val(actual, a, sizeof(a)));
}

int h_check_ok(int ret, const char *expr, const char *file, int line)
{
	char a[128];

	if (ret < 0)
		h_fail(file, line, "%s: expected success (>= 0), got %s", expr,
		       h_fmt_val(ret, a, sizeof(a)));
	return ret;
}

void h_check_err(int ret, int err_after, int expected, const char *expr,
		 const char *file, int line)
{
	char a[128], e[128], b[128];

	if (ret != -expected)
		h_fail(file, line, "%s: expected %s, got %s", expr,
		       h_fmt_val(-expected, e, sizeof(e)),
		       h_fmt_val(ret, a, sizeof(a)));
	if (err_after != expected)
		h_fail(file, line, "%s: returned %s but errno is %s", expr,
		       h_fmt_val(ret, a, sizeof(a)),
		       h_fmt_errno(err_after, b, sizeof(b)));
}

void h_check_open_err(const char *target, const struct evtchnx_open_opts *o,
		      int expected_errno, const char *expr, const char *file,
		      int line)
{
	struct evtchnx_handle *h;
	char e[128], a[128];
	int err;

	errno = 0;
	h = evtchnx_open(target, o);
	err = errno;
	if (h) {
		evtchnx_close(h);
		h_fail(file, line,
		       "%s [target \"%s\"]: expected failure with errno %s, got a handle",
		       expr, target ? target : "(null)",
		       h_fmt_errno(expected_errno, e, sizeof(e)));
	}
	if (err != expected_errno)
		h_fail(file, line, "%s [target \"%s\"]: expected errno %s, got %s",
		       expr, target ? target : "(null)",
		       h_fmt_errno(expected_errno, e, sizeof(e)),
		       h_fmt_errno(err, a, sizeof(a)));
}

static const char *h_state_name(long long s)
{
	switch (s) {
	case EVTCHNX_STATE_CLOSED: return "CLOSED";
	case EVTCHNX_STATE_UNBOUND: return "UNBOUND";
	case EVTCHNX_STATE_INTERDOMAIN: return "INTERDOMAIN";
	case EVTCHNX_STATE_PIRQ: return "PIRQ";
	case EVTCHNX_STATE_VIRQ: return "VIRQ";
	case EVTCHNX_STATE_IPI: return "IPI";
	default: return "?";
	}
}

int h_status(struct evtchnx_handle *h, uint32_t dom, uint32_t port,
	     struct evtchnx_status *st)
{
	memset(st, 0, sizeof(*st));
	st->sz = sizeof(*st);
	return evtchnx_status(h, dom, port, st);
}

void h_check_status(struct evtchnx_handle *h, uint32_t dom, uint32_t port,
		    long long state, long long rdom, long long rport,
		    long long virq, const char *file, int line)
{
	struct evtchnx_status st;
	char a[128];
	int r;

	r = h_status(h, dom, port, &st);
	if (r != 0)
		h_fail(file, line, "evtchnx_status(dom %#x, port %u): expected 0, got %s",
		       dom, port, h_fmt_val(r, a, sizeof(a)));
	if (st.state != state)
		h_fail(file, line,
		       "status(dom %#x, port %u): expected state %s, got %s (%u) [remote %u:%u]",
		       dom, port, h_state_name(state), h_state_name(st.state),
		       st.state, st.remote_domid, st.remote_port);
	if (rdom >= 0 && st.remote_domid != rdom)
		h_fail(file, line,
		       "status(dom %#x, port %u) %s: expected remote domid %lld, got %u",
		       dom, port, h_state_name(state), rdom, st.remote_domid);
	if (rport >= 0 && st.remote_port != rport)
		h_fail(file, line,
		       "status(dom %#x, port %u) %s: expected remote port %lld, got %u",
		       dom, port, h_state_name(state), rport, st.remote_port);
	if (virq >= 0 && st.virq != virq)
		h_fail(file, line,
		       "status(dom %#x, port %u) VIRQ: expected virq %lld, got %u",
		       dom, port, virq, st.virq);
	if (!h_xen && state != EVTCHNX_STATE_CLOSED && st.vcpu != 0)
		h_fail(file, line, "status(dom %#x, port %u): expected vcpu 0, got %u",
		       dom, port, st.vcpu);
}

bool h_readable(struct evtchnx_handle *h, int timeout_ms)
{
	struct pollfd pfd;
	int fd = evtchnx_fd(h);
	int r;

	if (fd < 0)
		h_fail(__FILE__, __LINE__, "evtchnx_fd: got %d", fd);
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		h_fail(__FILE__, __LINE__, "poll: %s", strerror(errno));
	if (r > 0 && (pfd.revents & (POLLERR | POLLNVAL)))
		h_fail(__FILE__, __LINE__, "poll on the handle's fd: revents %#x",
		       pfd.revents);
	return r > 0 && (pfd.revents & POLLIN);
}

/*
 * The fd contract: readable whenever a port is pending; it may be readable
 * spuriously, and then the evtchnx_pending() that finds nothing clears it.
 * So "not readable" is checked as: nothing deliverable, and not readable
 * once a pending() call has said so.
 */
void h_check_readable(struct evtchnx_handle *h, bool want, const char *file,
		      int line)
{
	bool got = h_readable(h, want ? h_settle_ms() : 0);

	if (!want && got) {
		h_expect_none(h, file, line);
		return;
	}
	if (got != want)
		h_fail(file, line, "fd of the handle of dom %d: expected %s, got %s",
		       evtchnx_domid(h), want ? "readable" : "not readable",
		       got ? "readable" : "not readable");
}

void h_expect_port(struct evtchnx_handle *h, uint32_t port, const char *file,
		   int line)
{
	char a[128];
	int r = evtchnx_wait(h, h_settle_ms());

	if (r != (int)port)
		h_fail(file, line, "next delivered port (dom %d): expected %u, got %s",
		       evtchnx_domid(h), port, h_fmt_val(r, a, sizeof(a)));
}

void h_expect_none(struct evtchnx_handle *h, const char *file, int line)
{
	char a[128];
	int r = evtchnx_pending(h);
	bool rd = h_readable(h, 0);

	if (rd || r != -EAGAIN)
		h_fail(file, line,
		       "expected nothing deliverable (dom %d): evtchnx_pending() = %s, "
		       "then the fd %s",
		       evtchnx_domid(h), h_fmt_val(r, a, sizeof(a)),
		       rd ? "still readable" : "not readable");
}

void h_unmask(struct evtchnx_handle *h, uint32_t port, const char *file,
	      int line)
{
	char a[128];
	int r = evtchnx_unmask(h, port);

	if (r != 0)
		h_fail(file, line, "evtchnx_unmask(%u): expected 0, got %s", port,
		       h_fmt_val(r, a, sizeof(a)));
	if (h_exact_delivery() || !h_readable(h, H_REDELIVERY_MS))
		return;
	r = evtchnx_pending(h);
	if (r == -EAGAIN)
		return;
	if (r != (int)port)
		h_fail(file, line,
		       "after evtchnx_unmask(%u): unexpected delivery %s",
		       port, h_fmt_val(r, a, sizeof(a)));
	h_note("%s:%d: port %u delivered again after its unmask (allowed on this target)",
	       file, line, port);
	r = evtchnx_unmask(h, port);
	if (r != 0)
		h_fail(file, line, "evtchnx_unmask(%u): expected 0, got %s", port,
		       h_fmt_val(r, a, sizeof(a)));
}

void h_wait_unbound(struct evtchnx_handle *h, uint32_t port, uint32_t rdom,
		    int timeout_ms, const char *file, int line)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	struct evtchnx_status st;
	char a[128];
	int r;

	for (;;) {
		r = h_status(h, SELF, port, &st);
		if (r == 0 && st.state == EVTCHNX_STATE_UNBOUND &&
		    st.remote_domid == rdom)
			return;
		if (h_now_ms() > end)
			break;
		h_sleep_ms(5);
	}
	h_fail(file, line,
	       "port %u did not become UNBOUND (remote %u) within %d ms: status %s, state %s, remote %u:%u",
	       port, rdom, timeout_ms, h_fmt_val(r, a, sizeof(a)),
	       h_state_name(st.state), st.remote_domid, st.remote_port);
}

void h_wait_no_domain(struct evtchnx_handle *h, uint32_t dom, int timeout_ms,
		      const char *file, int line)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	struct evtchnx_status st;
	char a[128];
	int r;

	for (;;) {
		r = h_status(h, dom, 0, &st);
		if (r == -ESRCH)
			return;
		if (h_now_ms() > end)
			break;
		h_sleep_ms(5);
	}
	h_fail(file, line, "domain %u still exists after %d ms: status(%u, 0) = %s",
	       dom, timeout_ms, dom, h_fmt_val(r, a, sizeof(a)));
}

/* ---- target ---------------------------------------------------------------------------------- */

static bool h_valid_lab_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static void h_setup_target(void)
{
	const char *t = getenv("EVTCHNX_TEST_TARGET");
	char suffix[32];
	size_t keep;

	if (!t || !*t)
		t = "sim";
	snprintf(suffix, sizeof(suffix), "-%d", (int)getpid());
	if (strcmp(t, "sim") == 0) {
		snprintf(h_target_buf, sizeof(h_target_buf), "sim");
		snprintf(h_shared_buf, sizeof(h_shared_buf), "sim:conf%s",
			 suffix);
	} else if (strcmp(t, "xen") == 0) {
		h_xen = true;
		snprintf(h_target_buf, sizeof(h_target_buf), "xen");
		snprintf(h_shared_buf, sizeof(h_shared_buf), "xen");
	} else if (strncmp(t, "sim:", 4) == 0 && t[4]) {
		const char *name = t + 4;

		for (const char *c = name; *c; c++) {
			if (!h_valid_lab_char(*c)) {
				fprintf(stderr,
					"EVTCHNX_TEST_TARGET=%s: bad lab name\n",
					t);
				exit(1);
			}
		}
		/* NAME-pid must stay within 64 characters. */
		keep = strlen(name);
		if (keep > 64 - strlen(suffix))
			keep = 64 - strlen(suffix);
		snprintf(h_target_buf, sizeof(h_target_buf), "sim:%.*s%s",
			 (int)keep, name, suffix);
		snprintf(h_shared_buf, sizeof(h_shared_buf), "%s",
			 h_target_buf);
	} else {
		fprintf(stderr,
			"EVTCHNX_TEST_TARGET=%s: expected sim, sim:NAME or xen\n",
			t);
		exit(1);
	}
}

const char *h_target(void) { return h_target_buf; }
const char *h_shared_target(void) { return h_shared_buf; }
bool h_is_xen(void) { return h_xen; }
bool h_can_spawn_labs(void) { return !h_xen; }
bool h_fresh_domains(void) { return !h_xen; }
bool h_exact_delivery(void) { return !h_xen; }
bool h_sees_masked_latch(void) { return !h_xen; }
int h_settle_ms(void) { return h_xen ? H_XEN_SETTLE_MS : 0; }

uint32_t h_port_limit(void)
{
	return h_xen ? 0x80000000u : EVTCHNX_SIM_MAX_PORTS;
}

uint32_t h_dom(uint32_t d)
{
	if (!h_xen)
		return d;
	if (h_xen_domid < 0) {
		struct evtchnx_handle *h = evtchnx_open("xen", NULL);

		if (!h)
			h_fail(__FILE__, __LINE__, "evtchnx_open(\"xen\"): %s",
			       evtchnx_strerror(-errno));
		h_xen_domid = evtchnx_domid(h);
		evtchnx_close(h);
	}
	return (uint32_t)h_xen_domid;
}

/* ---- handles ------------------------------------------------------------------------------------ */

static void h_track(struct evtchnx_handle *h, const char *target)
{
	pthread_mutex_lock(&h_track_lock);
	if (h_nhandles == h_caphandles) {
		size_t cap = h_caphandles ? 2 * h_caphandles : 64;
		struct h_tracked *n = realloc(h_handles, cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&h_track_lock);
			h_fail(__FILE__, __LINE__, "out of memory");
		}
		h_handles = n;
		h_caphandles = cap;
	}
	h_handles[h_nhandles].h = h;
	snprintf(h_handles[h_nhandles].target, H_TARGET_MAX, "%s",
		 target ? target : "");
	h_nhandles++;
	pthread_mutex_unlock(&h_track_lock);
}

static bool h_untrack(struct evtchnx_handle *h)
{
	bool found = false;

	pthread_mutex_lock(&h_track_lock);
	for (size_t i = h_nhandles; i-- > 0;) {
		if (h_handles[i].h == h) {
			h_handles[i] = h_handles[--h_nhandles];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&h_track_lock);
	return found;
}

static const char *h_target_of(struct evtchnx_handle *h)
{
	const char *t = NULL;

	pthread_mutex_lock(&h_track_lock);
	for (size_t i = 0; i < h_nhandles; i++)
		if (h_handles[i].h == h)
			t = h_handles[i].target;
	pthread_mutex_unlock(&h_track_lock);
	return t;
}

struct evtchnx_handle *h_open_raw(const char *target,
				  const struct evtchnx_open_opts *opts)
{
	struct evtchnx_handle *h = evtchnx_open(target, opts);
	int err = errno;

	if (h && getpid() == h_pid)
		h_track(h, target);
	errno = err;
	return h;
}

static struct evtchnx_handle *h_open_checked(const char *target,
					     uint32_t domid)
{
	struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = domid };
	struct evtchnx_handle *h;
	char e[128];

	if (h_xen)
		o.domid = 0;
	errno = 0;
	h = h_open_raw(target, &o);
	if (!h)
		h_fail(__FILE__, __LINE__, "evtchnx_open(\"%s\", domid %u): %s",
		       target, domid, h_fmt_errno(errno, e, sizeof(e)));
	return h;
}

struct evtchnx_handle *open_dom(uint32_t domid)
{
	return h_open_checked(h_target_buf, domid);
}

struct evtchnx_handle *open_shared(uint32_t domid)
{
	return h_open_checked(h_shared_buf, domid);
}

void open_pair(struct evtchnx_handle **a, struct evtchnx_handle **b)
{
	*a = open_dom(1);
	*b = open_dom(2);
}

void close_h(struct evtchnx_handle *h)
{
	h_untrack(h);
	evtchnx_close(h);
}

void h_forget(struct evtchnx_handle *h)
{
	h_untrack(h);
}

void h_domain_create(struct evtchnx_handle *h, uint32_t domid)
{
	const char *t = h_target_of(h);
	char a[128];
	int r;

	if (!t)
		h_fail(__FILE__, __LINE__, "h_domain_create: untracked handle");
	r = evtchnx_domain_create(h, domid);
	if (r != 0)
		h_fail(__FILE__, __LINE__, "evtchnx_domain_create(%u): expected 0, got %s",
		       domid, h_fmt_val(r, a, sizeof(a)));
	if (h_ndoms < H_MAX_DOMS) {
		snprintf(h_doms[h_ndoms].target, H_TARGET_MAX, "%s", t);
		h_doms[h_ndoms].domid = domid;
		h_ndoms++;
	}
}

void h_channel(struct evtchnx_handle *a, struct evtchnx_handle *b,
	       uint32_t *pa, uint32_t *pb)
{
	int da = CHECK_OK(evtchnx_domid(a));
	int db = CHECK_OK(evtchnx_domid(b));
	int p, q;

	p = CHECK_OK(evtchnx_alloc_unbound(a, SELF, (uint32_t)db));
	CHECK(p >= 1);
	q = CHECK_OK(evtchnx_bind_interdomain(b, (uint32_t)da, (uint32_t)p));
	CHECK(q >= 1);
	/* The bind leaves the new port pending (Xen's rule). */
	h_expect_port(b, (uint32_t)q, __FILE__, __LINE__);
	UNMASK(b, (uint32_t)q);
	*pa = (uint32_t)p;
	*pb = (uint32_t)q;
}

/* ---- time ------------------------------------------------------------------------------------------ */

uint64_t h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void h_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- processes ------------------------------------------------------------------------------------- */

pid_t h_fork(void)
{
	pid_t pid;

	if (h_nchildren >= H_MAX_CHILDREN)
		h_fail(__FILE__, __LINE__, "too many children");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		h_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(H_CHILD_LIFETIME_S);
		return 0;
	}
	h_children[h_nchildren] = pid;
	h_nchildren = h_nchildren + 1;
	return pid;
}

void h_child_exit(int status)
{
	fflush(NULL);
	_exit(status);
}

static void h_untrack_child(pid_t pid)
{
	for (size_t i = 0; i < h_nchildren; i++) {
		if (h_children[i] == pid) {
			h_children[i] = h_children[h_nchildren - 1];
			h_nchildren = h_nchildren - 1;
			return;
		}
	}
}

int h_wait_child(pid_t pid, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			h_fail(__FILE__, __LINE__, "waitpid(%d): %s", (int)pid,
			       strerror(errno));
		if (h_now_ms() > end)
			h_fail(__FILE__, __LINE__,
			       "child %d did not exit within %d ms", (int)pid,
			       timeout_ms);
		h_sleep_ms(2);
	}
	h_untrack_child(pid);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

void h_kill_child(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	h_untrack_child(pid);
}

static void h_track_fd(int fd)
{
	if (h_nfds < H_MAX_FDS)
		h_fds[h_nfds++] = fd;
}

static void h_close_fd(int *fd)
{
	if (*fd < 0)
		return;
	for (size_t i = 0; i < h_nfds; i++) {
		if (h_fds[i] == *fd) {
			h_fds[i] = h_fds[--h_nfds];
			break;
		}
	}
	close(*fd);
	*fd = -1;
}

void h_link_init(struct h_link *l)
{
	if (pipe2(l->p2c, O_CLOEXEC) < 0 || pipe2(l->c2p, O_CLOEXEC) < 0)
		h_fail(__FILE__, __LINE__, "pipe2: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		h_track_fd(l->p2c[i]);
		h_track_fd(l->c2p[i]);
	}
	l->child = false;
}

void h_link_parent(struct h_link *l)
{
	h_close_fd(&l->p2c[0]);
	h_close_fd(&l->c2p[1]);
	l->child = false;
}

void h_link_child(struct h_link *l)
{
	close(l->p2c[1]);
	close(l->c2p[0]);
	l->p2c[1] = l->c2p[0] = -1;
	l->child = true;
}

void h_link_put(struct h_link *l, int32_t v)
{
	int fd = l->child ? l->c2p[1] : l->p2c[1];
	ssize_t r;

	do {
		r = write(fd, &v, sizeof(v));
	} while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(v))
		h_fail(__FILE__, __LINE__, "link write: %s",
		       r < 0 ? strerror(errno) : "short write");
}

int32_t h_link_get(struct h_link *l, int timeout_ms)
{
	int fd = l->child ? l->p2c[0] : l->c2p[0];
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	unsigned char buf[sizeof(int32_t)];
	size_t got = 0;
	int32_t v;

	while (got < sizeof(buf)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = h_now_ms();
		ssize_t r;

		if (now >= end)
			h_fail(__FILE__, __LINE__,
			       "link read: nothing within %d ms", timeout_ms);
		r = poll(&pfd, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			h_fail(__FILE__, __LINE__, "poll: %s", strerror(errno));
		if (r == 0)
			continue;
		r = read(fd, buf + got, sizeof(buf) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			h_fail(__FILE__, __LINE__, "link read: %s",
			       strerror(errno));
		if (r == 0)
			h_fail(__FILE__, __LINE__,
			       "link read: the other process closed the link (died?)");
		got += (size_t)r;
	}
	memcpy(&v, buf, sizeof(v));
	return v;
}

/* ---- running ---------------------------------------------------------------------------------------- */

static void h_cleanup(void)
{
	/* Children first, so that none blocks what follows. */
	while (h_nchildren > 0)
		h_kill_child(h_children[0]);
	for (size_t i = 0; i < h_ndoms; i++) {
		struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 0 };
		struct evtchnx_handle *c = evtchnx_open(h_doms[i].target, &o);

		if (c) {
			evtchnx_domain_destroy(c, h_doms[i].domid);
			evtchnx_close(c);
		}
	}
	h_ndoms = 0;
	pthread_mutex_lock(&h_track_lock);
	while (h_nhandles > 0) {
		struct evtchnx_handle *h = h_handles[--h_nhandles].h;

		pthread_mutex_unlock(&h_track_lock);
		evtchnx_close(h);
		pthread_mutex_lock(&h_track_lock);
	}
	pthread_mutex_unlock(&h_track_lock);
	while (h_nfds > 0)
		close(h_fds[--h_nfds]);
}

/* Async-signal-safe decimal formatting. */
static size_t h_utoa(unsigned int v, char *buf)
{
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static void h_puts_raw(const char *s)
{
	ssize_t r = write(STDOUT_FILENO, s, strlen(s));

	(void)r;
}

static void h_watchdog(int sig)
{
	char buf[128];
	size_t n = 0;

	(void)sig;
	for (size_t i = 0; i < h_nchildren; i++)
		kill(h_children[i], SIGKILL);
	h_puts_raw("FAIL ");
	h_puts_raw(h_cur_name ? h_cur_name : "?");
	h_puts_raw(": watchdog: the case did not finish within ");
	n = h_utoa(h_case_timeout, buf);
	buf[n] = 0;
	h_puts_raw(buf);
	h_puts_raw(" s; the remaining cases were not run\n");
	n = h_utoa(h_npassed, buf);
	memcpy(buf + n, " passed, ", 9);
	n += 9;
	n += h_utoa(h_nfailed + 1, buf + n);
	memcpy(buf + n, " failed", 7);
	n += 7;
	if (h_nskipped) {
		memcpy(buf + n, ", ", 2);
		n += 2;
		n += h_utoa(h_nskipped, buf + n);
		memcpy(buf + n, " skipped", 8);
		n += 8;
	}
	buf[n++] = '\n';
	buf[n] = 0;
	h_puts_raw(buf);
	_exit(1);
}

static bool h_selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (fnmatch(argv[i], name, 0) == 0)
			return true;
	return false;
}

static void h_run_case(const struct h_case_rec *c)
{
	volatile bool failed = false;

	h_cur_name = c->name;
	h_skipped = false;
	h_skip_reason[0] = 0;
	atomic_store(&h_async_failed, 0);
	alarm(h_case_timeout);
	switch (setjmp(h_jmp)) {
	case 0:
		c->fn();
		break;
	case 1:
		failed = true;
		break;
	default:
		break;
	}
	h_cleanup();
	alarm(0);
	if (atomic_load(&h_async_failed))
		failed = true;
	if (failed) {
		h_nfailed++;
		printf("FAIL %s\n", c->name);
	} else if (h_skipped) {
		h_nskipped++;
		printf("SKIP %s: %s\n", c->name, h_skip_reason);
	} else {
		h_npassed++;
		printf("PASS %s\n", c->name);
	}
	fflush(stdout);
	h_cur_name = NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	const char *t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	h_pid = getpid();
	h_main_thread = pthread_self();
	h_setup_target();
	t = getenv("EVTCHNX_TEST_CASE_TIMEOUT");
	if (t && atoi(t) > 0)
		h_case_timeout = (unsigned int)atoi(t);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h_watchdog;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	qsort(h_cases, h_ncases, sizeof(*h_cases), h_case_cmp);
	printf("# target %s (cross-process cases: %s), library %s\n",
	       h_target_buf, h_shared_buf, evtchnx_version());

	if (h_xen) {
		/* A machine without Xen (or a library without the xen
		 * backend) lacks the capability: skip everything. */
		struct evtchnx_handle *probe = evtchnx_open("xen", NULL);
		int err = errno;

		if (!probe) {
			/* No Xen here (ENODEV), no xen backend built in
			 * (ENOSYS), or its libraries missing (ENOENT):
			 * a missing capability.  Anything else fails. */
			bool missing = err == ENODEV || err == ENOSYS ||
				       err == ENOENT;

			printf("# evtchnx_open(\"xen\") failed: %s (%s)\n",
			       h_errname(err) ? h_errname(err) : "?",
			       evtchnx_strerror(err));
			for (size_t i = 0; i < h_ncases; i++) {
				if (!h_selected(h_cases[i].name, argc, argv))
					continue;
				printf("%s %s: target xen unavailable\n",
				       missing ? "SKIP" : "FAIL", h_cases[i].name);
				if (missing)
					h_nskipped++;
				else
					h_nfailed++;
			}
			if (missing) {
				printf("0 passed, 0 failed, %u skipped\n",
				       h_nskipped);
				return h_nskipped ? 77 : 0;
			}
			printf("0 passed, %u failed\n", h_nfailed);
			return 1;
		}
		h_xen_domid = evtchnx_domid(probe);
		evtchnx_close(probe);
	}

	for (size_t i = 0; i < h_ncases; i++)
		if (h_selected(h_cases[i].name, argc, argv))
			h_run_case(&h_cases[i]);

	if (h_nskipped)
		printf("%u passed, %u failed, %u skipped\n", h_npassed,
		       h_nfailed, h_nskipped);
	else
		printf("%u passed, %u failed\n", h_npassed, h_nfailed);
	if (h_nfailed)
		return 1;
	if (h_npassed == 0 && h_nskipped > 0) {
		printf("# every case was skipped on target %s (see the reasons above)\n",
		       h_target_buf);
		return 77;
	}
	return 0;
}

int h_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int h_settled_fds(int target)
{
	uint64_t end = h_now_ms() + 5000;
	int n = h_count_fds(), same = 0;

	while (n != target && same < 10 && h_now_ms() < end) {
		int m;

		h_sleep_ms(20);
		m = h_count_fds();
		same = m == n ? same + 1 : 0;
		n = m;
	}
	return n;
}
