/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * harness.h - a small framework for the backend-neutral conformance suite.
 *
 * Every conf_*.c file is one executable made of CASE()s.  main() lives in
 * harness.c: it runs the cases in file order (or those named on the command
 * line, shell patterns allowed), prints one result line per case and closes
 * with "N passed, N failed" (", N skipped" appended when some were skipped).
 * Exit status: 0 all passed, 1 any failure, 77 when every case was skipped.
 *
 * The target comes from $EVTCHNX_TEST_TARGET (default "sim"):
 *   sim        a private lab in this process;
 *   sim:NAME   a shared lab, named NAME-<pid> so that runs never share one;
 *   xen        the real hypervisor: only the program's own domain exists
 *              (on a machine without Xen every case is skipped, exit 77).
 * Cases ask the harness for handles (open_dom) and for what the target can
 * do (require_multi_domain, require_sim); nothing else in a case knows the
 * target.
 *
 * Failing checks print file:line, the expression, the expected and the
 * actual value (errno values by name and evtchnx_strerror()), then end the
 * case (longjmp).  In a thread other than the case's own, a failing check
 * marks the case failed and ends the thread.  In a forked child it ends the
 * child with status 1.  Whatever a case opened through the harness
 * (handles, domains, children, pipes) is released when it ends, pass or
 * fail.  A per-case alarm() watchdog turns a hang into a failure.
 */
#ifndef EVTCHNX_CONF_HARNESS_H
#define EVTCHNX_CONF_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "evtchnx.h"

#define SELF EVTCHNX_DOMID_SELF

/* ---- cases ---------------------------------------------------------------- */

typedef void (*h_case_fn)(void);
void h_register(const char *name, h_case_fn fn, int line);

#define CASE(name)                                                             \
	static void case_##name(void);                                         \
	__attribute__((constructor)) static void case_reg_##name(void)         \
	{                                                                      \
		h_register(#name, case_##name, __LINE__);                      \
	}                                                                      \
	static void case_##name(void)

/* End the current case as skipped (counted as skipped, never as passed). */
__attribute__((noreturn, format(printf, 1, 2))) void h_skip(const char *fmt,
							     ...);
/* Skip unless the target has more than one domain (every sim target). */
void require_multi_domain(void);
/* Skip on targets other than the sim, giving @why. */
void require_sim(const char *why);
/* Reasons for require_sim() shared by several cases. */
#define H_SIM_ONLY_ADOPT                                                       \
	"adopt is sim-only API (EOPNOTSUPP on xen): no Xen setup runs it"
#define H_SIM_ONLY_TOOLSTACK                                                   \
	"domain_create, domain_destroy and raise_virq are sim-only API "       \
	"(a real toolstack makes domains): no Xen setup runs it"
#define H_XEN_RESET_OTHER                                                      \
	"resets another domain, which xen allows only while it is paused, "    \
	"and which cuts its console: on xen its two-domain form ends "         \
	"interdomain"

/* ---- the target ------------------------------------------------------------ */

/* The target string handles are opened with ("sim", "sim:NAME-pid", "xen"). */
const char *h_target(void);
/* A shared lab for cross-process cases ("sim:...-pid"), or "xen". */
const char *h_shared_target(void);
bool h_is_xen(void);
/* Whether this target can start lab servers (false on xen, whose test
 * machine may have no lab server installed). */
bool h_can_spawn_labs(void);
/* The domid to use for guest number @d: @d on the sim, the program's own
 * domain on xen (where no other domain can be joined). */
uint32_t h_dom(uint32_t d);
/* True when domains start empty (port 1 is the first allocation): the sim. */
bool h_fresh_domains(void);
/* True when delivery is exact: a port taken, then unmasked with no event
 * since, is not delivered again (real Xen may re-deliver once). */
bool h_exact_delivery(void);
/* True when an event latched on a taken (masked) port is visible to
 * evtchnx_is_pending() before the unmask: the sim.  Linux keeps such an
 * event inside the kernel until the port is unmasked, so on xen
 * evtchnx_is_pending() answers 0 then; the event is delivered after the
 * unmask all the same. */
bool h_sees_masked_latch(void);
/* The first port number that is out of range for every domain on this
 * target, besides 0xFFFFFFFF (EVTCHNX_SIM_MAX_PORTS on the sim; 0x80000000
 * on xen). */
uint32_t h_port_limit(void);
/* How long to wait (ms) for an event already sent to become visible: 0 on
 * the sim (sends are synchronous), a bound on xen. */
int h_settle_ms(void);

/* Open descriptors of this process. */
int h_count_fds(void);
/* The descriptor count once it stops moving (a lab server thread in this
 * process may release a departed client's descriptors a moment after
 * evtchnx_close() returned), or once it reaches @target. */
int h_settled_fds(int target);

/* ---- handles (tracked: closed when the case ends) --------------------------- */

/* Open a handle on the current target as @domid; fail the case on error. */
struct evtchnx_handle *open_dom(uint32_t domid);
/* Same on the shared lab of h_shared_target(). */
struct evtchnx_handle *open_shared(uint32_t domid);
/* Open @target with @opts (NULL allowed); returns NULL with errno on error
 * (no check); a handle returned is tracked. */
struct evtchnx_handle *h_open_raw(const char *target,
				  const struct evtchnx_open_opts *opts);
/* Two handles on the current target: guests 1 and 2 on the sim, two handles
 * of the program's own domain on xen. */
void open_pair(struct evtchnx_handle **a, struct evtchnx_handle **b);
/* Close a tracked handle now. */
void close_h(struct evtchnx_handle *h);
/* Stop tracking a handle that the case closes itself. */
void h_forget(struct evtchnx_handle *h);
/* Create a domain through @h (checked); destroyed when the case ends. */
void h_domain_create(struct evtchnx_handle *h, uint32_t domid);

/* ---- checks ------------------------------------------------------------------ */

__attribute__((noreturn, format(printf, 3, 4))) void
h_fail(const char *file, int line, const char *fmt, ...);
void h_check_eq(long long actual, long long expected, const char *aexpr,
		const char *eexpr, const char *file, int line);
int h_check_ok(int ret, const char *expr, const char *file, int line);
void h_check_err(int ret, int err_after, int expected, const char *expr,
		 const char *file, int line);
void h_check_open_err(const char *target, const struct evtchnx_open_opts *o,
		      int expected_errno, const char *expr, const char *file,
		      int line);
void h_check_status(struct evtchnx_handle *h, uint32_t dom, uint32_t port,
		    long long state, long long rdom, long long rport,
		    long long virq, const char *file, int line);
void h_check_readable(struct evtchnx_handle *h, bool want, const char *file,
		      int line);
void h_expect_port(struct evtchnx_handle *h, uint32_t port, const char *file,
		   int line);
void h_expect_none(struct evtchnx_handle *h, const char *file, int line);
void h_unmask(struct evtchnx_handle *h, uint32_t port, const char *file,
	      int line);
void h_wait_unbound(struct evtchnx_handle *h, uint32_t port, uint32_t rdom,
		    int timeout_ms, const char *file, int line);
void h_wait_no_domain(struct evtchnx_handle *h, uint32_t dom, int timeout_ms,
		      const char *file, int line);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			h_fail(__FILE__, __LINE__, "check failed: %s", #cond); \
	} while (0)
/* Integers; negative values in errno range are printed by name. */
#define CHECK_EQ(actual, expected)                                             \
	h_check_eq((long long)(actual), (long long)(expected), #actual,        \
		   #expected, __FILE__, __LINE__)
/* @expr must be >= 0; evaluates to it. */
#define CHECK_OK(expr) h_check_ok((expr), #expr, __FILE__, __LINE__)
/* @expr must return -@err (err positive) and leave errno == @err. */
#define CHECK_ERR(expr, err)                                                   \
	do {                                                                   \
		errno = 0;                                                     \
		int check_r_ = (expr);                                         \
		h_check_err(check_r_, errno, (err), #expr, __FILE__, __LINE__); \
	} while (0)
/* evtchnx_open(@target, @opts) must fail with errno @err. */
#define CHECK_OPEN_ERR(target, opts, err)                                      \
	h_check_open_err((target), (opts), (err),                              \
			 "evtchnx_open(" #target ", " #opts ")", __FILE__,       \
			 __LINE__)
#define CHECK_CLOSED(h, dom, port)                                             \
	h_check_status((h), (dom), (port), EVTCHNX_STATE_CLOSED, -1, -1, -1,   \
		       __FILE__, __LINE__)
#define CHECK_UNBOUND(h, dom, port, rdom)                                      \
	h_check_status((h), (dom), (port), EVTCHNX_STATE_UNBOUND, (rdom), -1,  \
		       -1, __FILE__, __LINE__)
#define CHECK_INTERDOMAIN(h, dom, port, rdom, rport)                           \
	h_check_status((h), (dom), (port), EVTCHNX_STATE_INTERDOMAIN, (rdom),  \
		       (rport), -1, __FILE__, __LINE__)
#define CHECK_VIRQ(h, dom, port, virq)                                         \
	h_check_status((h), (dom), (port), EVTCHNX_STATE_VIRQ, -1, -1, (virq), \
		       __FILE__, __LINE__)
/* The handle's fd is (not) readable: a 0-timeout poll (a bounded wait for
 * "readable" on targets whose delivery is asynchronous). */
#define CHECK_READABLE(h) h_check_readable((h), true, __FILE__, __LINE__)
#define CHECK_NOT_READABLE(h) h_check_readable((h), false, __FILE__, __LINE__)
/* The next port taken (evtchnx_wait with h_settle_ms()) is @port. */
#define EXPECT_PORT(h, port) h_expect_port((h), (port), __FILE__, __LINE__)
/* Nothing deliverable: evtchnx_pending() == -EAGAIN, and the fd is not
 * readable after that call (it may have been readable spuriously before). */
#define EXPECT_NONE(h) h_expect_none((h), __FILE__, __LINE__)
/* evtchnx_is_pending() of a taken port on which an event was latched: 1
 * where the target can see it (h_sees_masked_latch()), else 0. */
#define CHECK_LATCHED(h, port)                                                 \
	CHECK_EQ(evtchnx_is_pending((h), (port)), h_sees_masked_latch() ? 1 : 0)
/* evtchnx_unmask() of a port the case took, which must return 0; for use
 * where nothing is expected on the port until the case sends again.  Real
 * Xen may deliver once more an event that arrived just before the port was
 * taken (the contract allows it); on such targets that one re-delivery is
 * taken and the port unmasked again, so that the case can go on expecting
 * exact deliveries. */
#define UNMASK(h, port) h_unmask((h), (port), __FILE__, __LINE__)
/* Poll evtchnx_status(SELF, port) until UNBOUND with remote @rdom. */
#define WAIT_UNBOUND(h, port, rdom)                                            \
	h_wait_unbound((h), (port), (rdom), 10000, __FILE__, __LINE__)
/* Poll evtchnx_status(dom, 0) until -ESRCH. */
#define WAIT_NO_DOMAIN(h, dom)                                                 \
	h_wait_no_domain((h), (dom), 10000, __FILE__, __LINE__)

/* ---- channels and delivery ------------------------------------------------ */

/* Connect @a to @b: @a offers a port to @b's domain, @b binds it; the
 * spurious event of the bind is taken and the port unmasked, so that
 * neither handle has anything pending afterwards (when they had nothing
 * before). */
void h_channel(struct evtchnx_handle *a, struct evtchnx_handle *b,
	       uint32_t *pa, uint32_t *pb);
/* A 0-timeout poll of the handle's fd. */
bool h_readable(struct evtchnx_handle *h, int timeout_ms);
/* evtchnx_status into *st (sz set); returns the call's result. */
int h_status(struct evtchnx_handle *h, uint32_t dom, uint32_t port,
	     struct evtchnx_status *st);

/* ---- time ---------------------------------------------------------------------- */

uint64_t h_now_ms(void);
void h_sleep_ms(unsigned int ms);

/* ---- processes ------------------------------------------------------------------- */

/* fork(), tracked: the child gets SIGKILL when the case ends.  In the child
 * the harness's checks end the process (status 1) and an alarm bounds its
 * life.  The child must end with h_child_exit(). */
pid_t h_fork(void);
__attribute__((noreturn)) void h_child_exit(int status);
/* Wait for a child (bounded); returns its exit status, or 128+signal. */
int h_wait_child(pid_t pid, int timeout_ms);
/* SIGKILL a child and reap it. */
void h_kill_child(pid_t pid);

/* A two-way message link between a parent and one child: two pipes. */
struct h_link {
	int p2c[2];
	int c2p[2];
	bool child;
};
void h_link_init(struct h_link *l);
/* After fork: keep one's own ends. */
void h_link_parent(struct h_link *l);
void h_link_child(struct h_link *l);
void h_link_put(struct h_link *l, int32_t v);
/* Read one value; fails on EOF or after @timeout_ms. */
int32_t h_link_get(struct h_link *l, int timeout_ms);

/* ---- misc --------------------------------------------------------------------------- */

/* "EINVAL" for EINVAL, or NULL. */
const char *h_errname(int err);
/* Print a note under the current case. */
__attribute__((format(printf, 1, 2))) void h_note(const char *fmt, ...);

#endif /* EVTCHNX_CONF_HARNESS_H */
