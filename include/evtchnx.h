/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx.h - Xen event channels for C, with or without Xen.
 *
 * One API, two backends:
 *
 *   "xen"       a real Xen host (dom0 or a domU), through libxenevtchn and
 *               libxencall.
 *   "sim"       a private emulated hypervisor ("lab") inside this process:
 *               several handles with different domids talk to each other.
 *   "sim:NAME"  a shared lab that several processes join.  Its lab server
 *               is started by the first open and leaves when idle.
 *
 * Conventions
 * -----------
 * Every function that returns int returns >= 0 on success (a port, a count,
 * 0) and a negative errno value on failure; errno is set to the positive
 * value as well.  Functions that return a pointer return NULL and set errno.
 * The errno values are Xen's for the same mistake, so a program behaves the
 * same on both backends; evtchnx_strerror() turns one into text.
 *
 * Errors every handle function can return, not repeated below:
 *   -EINVAL    the handle is NULL;
 *   -EBADF     the handle was inherited across fork() (see "Fork" below);
 *   -EIO       the backend broke (the lab server went away, an unexpected
 *              reply); the handle should be closed;
 *   -ETIMEDOUT (sim) the lab server did not answer a request in time (see
 *              "Labs" below); the handle is broken from then on (-EIO).
 *
 * Ports and domain ids
 * --------------------
 * Ports are unsigned 32-bit numbers on the way in and come back as an int
 * result (always < 2^31).  Domain ids are 16-bit values passed as uint32_t so
 * that out-of-range values can be rejected (-EINVAL) instead of truncated.
 * EVTCHNX_DOMID_SELF names the caller's own domain; ids from
 * EVTCHNX_DOMID_FIRST_RESERVED upwards are reserved.  Port 0 is reserved in
 * every domain.
 *
 * Operations on one of the handle's own ports (evtchnx_send, evtchnx_unbind,
 * evtchnx_unmask, evtchnx_is_pending) check, in this order:
 *   -EINVAL    port 0, or a port at or beyond the domain's port limit
 *              (EVTCHNX_SIM_MAX_PORTS in the sim, for example 0xFFFFFFFF);
 *   -ENOTCONN  a port in range that this handle does not own: free, already
 *              closed, bound by another handle of the same domain, or
 *              allocated in this domain by the control domain and not
 *              adopted (evtchnx_adopt);
 * and then apply the hypervisor's rules for the port's state.
 *
 * Delivery
 * --------
 * When an event arrives on a port the handle owns, the port becomes pending
 * and evtchnx_fd() becomes readable.  evtchnx_pending() returns one pending
 * port and leaves it masked: further events on it are latched, not
 * delivered, until evtchnx_unmask(port).  An event that arrived while the port
 * was masked is delivered after the unmask.  Several events before the port is
 * taken are delivered once (a pending bit is one bit).  No event is lost, but
 * callers must tolerate spurious ones: evtchnx_bind_interdomain() leaves the
 * new port pending, as Xen does.
 *
 * The fd is readable whenever a port is pending, so a wake-up is never lost.
 * It may also be readable when none is (then evtchnx_pending() returns
 * -EAGAIN, and that call clears the spurious wake-up): the contract of
 * Linux's evtchn device and of libxenevtchn.  evtchnx_pending(),
 * evtchnx_pending_batch(), evtchnx_unmask(), evtchnx_is_pending() and
 * evtchnx_send() never sleep or poll.
 *
 * Order: ports come out of evtchnx_pending() in the order they became
 * pending.  Events raised at the same time by different handles (senders)
 * are interleaved, one sender's batch after another's, so no port can
 * starve while others keep firing.  On Xen the order is the kernel's (the
 * FIFO event ABI and the evtchn device's ring): arrival order for ports
 * whose events reach the same vCPU; Linux spreads user ports over its
 * vCPUs, so two ports that fire close together on different vCPUs may come
 * out in either order there (the sim's order is one Xen allows).
 *
 * Where real Xen is looser, and portable programs must allow for it:
 *   - a send that arrives after a port became pending but before
 *     evtchnx_pending() took it may be delivered once more after
 *     evtchnx_unmask() (a spurious event);
 *   - a port freed while its event was still queued in the kernel may stay
 *     busy for a moment, so the next allocation may return a higher port
 *     than "the lowest free one".
 *
 * Xen sends no event when the other end of a channel closes or its domain
 * dies.  To learn that a peer went away, call evtchnx_status() on your own
 * port: it reports EVTCHNX_STATE_UNBOUND (remote = the peer's domid) once the
 * peer is gone.
 *
 * Threads
 * -------
 * A handle may be used from several threads at once: every call takes the
 * handle's mutex (an uncontended lock and unlock cost a few nanoseconds),
 * and evtchnx_wait() releases it while it sleeps.  A program that calls a
 * handle from one thread at a time can open it with
 * EVTCHNX_OPEN_SINGLE_THREAD: its calls then take no lock at all, and a
 * debug build of the library aborts if two of them ever overlap.  (Linux's
 * evtchn device and libxenevtchn make no thread promise at all: there a
 * handle must not be shared without the caller's own locking.)  Closing a
 * handle while another thread still uses it is undefined, as with close(2).
 *
 * Labs: limits, timeouts and failure
 * ---------------------------------
 * A lab holds at most 4096 handles (open fails with ENFILE beyond), and one
 * process at most 1024 of them (EMFILE), so that one process cannot take a
 * whole lab.  A connection that does not introduce itself within 5 s is
 * dropped; a lab full of such connections stops accepting (it never spins)
 * until one goes.  Every request to the lab server is answered within a
 * timeout, 10 s unless $EVTCHNX_LAB_TIMEOUT_MS (1 .. 3600000) says
 * otherwise, or fails with -ETIMEDOUT (a stopped server, for instance).
 * Events between handles never wait for the server.
 *
 * When the lab server dies, its handles' fds become readable and stay so;
 * evtchnx_pending(), evtchnx_wait() and every call that talks to the lab
 * return -EIO from then on.  evtchnx_send() learns it at the handle's next
 * such call (a send does not talk to the lab; when the server shut down
 * cleanly, on SIGTERM, SIGINT or SIGHUP, sends fail at once).  To recover,
 * close the handle and open the lab again: a new server starts, with a
 * new, empty lab.
 *
 * By default any process of the user may join a lab as any domain, which
 * suits tests.  A strict lab (started with EVTCHNX_OPEN_STRICT, or
 * `evtchnx-labd --strict`) lets a process join as domain D only with D's
 * token, which the control domain hands out (evtchnx_domain_grant()) and
 * the joining process passes in $EVTCHNX_LAB_TOKEN: the toolstack decides
 * who a guest is, as on Xen.  Domain 0 is reserved to the process that
 * started the lab, or to holders of domain 0's token.  A join without the
 * right token fails with EACCES.
 *
 * Fork
 * ----
 * All descriptors are opened with O_CLOEXEC.  A child process must not use a
 * handle it inherited: every call on it returns -EBADF, except
 * evtchnx_close(), which releases the child's copy without touching the
 * parent's ports.  An inherited descriptor never keeps a dead parent's domain
 * alive in a shared lab: the lab watches the process that opened the handle,
 * not the descriptor.  Open a new handle in the child instead.
 */
#ifndef EVTCHNX_H
#define EVTCHNX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EVTCHNX_BUILDING_LIBRARY)
#define EVTCHNX_API __attribute__((visibility("default")))
#else
#define EVTCHNX_API
#endif

/* ---- versions ------------------------------------------------------- */

#define EVTCHNX_VERSION_MAJOR 1
#define EVTCHNX_VERSION_MINOR 1
#define EVTCHNX_VERSION_PATCH 0
#define EVTCHNX_VERSION_STRING "1.1.0"

/* Compare the header's version with a.b.c at compile time. */
#define EVTCHNX_VERSION_AT_LEAST(a, b, c)                                      \
	(EVTCHNX_VERSION_MAJOR > (a) ||                                        \
	 (EVTCHNX_VERSION_MAJOR == (a) &&                                      \
	  (EVTCHNX_VERSION_MINOR > (b) ||                                      \
	   (EVTCHNX_VERSION_MINOR == (b) && EVTCHNX_VERSION_PATCH >= (c)))))

/* ---- constants ------------------------------------------------------ */

/* The caller's own domain, where a domid is expected. */
#define EVTCHNX_DOMID_SELF 0x7FF0u
/* Domain ids from this value upwards are reserved. */
#define EVTCHNX_DOMID_FIRST_RESERVED 0x7FF0u
/* Ports per domain in the sim (Xen's FIFO ABI, as Linux uses on Xen >= 4.4). */
#define EVTCHNX_SIM_MAX_PORTS 131072u
/* Domains in one sim lab, the control domain included. */
#define EVTCHNX_SIM_MAX_DOMAINS 64u
/* Number of virtual IRQs (VIRQ_TIMER = 0 ... VIRQ_ARCH_7 = 23). */
#define EVTCHNX_NR_VIRQS 24u

/* Port states reported by evtchnx_status(); the values are Xen's
 * EVTCHNSTAT_* values. */
#define EVTCHNX_STATE_CLOSED 0      /* free, or the reserved port 0 */
#define EVTCHNX_STATE_UNBOUND 1     /* offered to remote_domid */
#define EVTCHNX_STATE_INTERDOMAIN 2 /* linked to (remote_domid, remote_port) */
#define EVTCHNX_STATE_PIRQ 3        /* a physical IRQ (never in the sim) */
#define EVTCHNX_STATE_VIRQ 4        /* bound to virq */
#define EVTCHNX_STATE_IPI 5         /* an inter-vCPU channel */

/* Flags for evtchnx_open_opts.flags. */
/* sim:NAME: fail with -ECONNREFUSED instead of starting a lab server. */
#define EVTCHNX_OPEN_NO_SPAWN 0x1u
/* The caller promises that only one thread at a time ever calls the handle:
 * calls then take no lock (see "Threads").  A debug build of the library
 * aborts when two calls overlap. */
#define EVTCHNX_OPEN_SINGLE_THREAD 0x2u
/* sim:NAME: the lab must be strict (see "Labs"): a lab this open starts is
 * strict and owned by this process; a running lab that is not strict (the
 * private lab "sim" never is) refuses the open with EPERM. */
#define EVTCHNX_OPEN_STRICT 0x4u

/* Room for a token from evtchnx_domain_grant(), its NUL included. */
#define EVTCHNX_TOKEN_SIZE 33u

/* ---- types ---------------------------------------------------------- */

/* An open handle.  Opaque: its layout is not part of the ABI. */
struct evtchnx_handle;

/*
 * Options for evtchnx_open().  Set sz to sizeof(struct evtchnx_open_opts)
 * and zero what you do not use; fields beyond sz take their default.  A
 * caller built against a newer header may pass a larger struct: its unknown
 * tail must be zero (else -EINVAL).  sz smaller than sizeof(size_t) is
 * -EINVAL.  A NULL pointer means "all defaults".
 */
struct evtchnx_open_opts {
	size_t sz;
	/* sim: the domain this handle joins as (default 0, the control
	 * domain).  The xen backend ignores it: a handle there is the domain
	 * the program runs in. */
	uint32_t domid;
	/* EVTCHNX_OPEN_* flags; unknown bits are -EINVAL. */
	uint32_t flags;
	/* Busy-poll (since 1.1): evtchnx_wait() looks for an event for up to
	 * this many nanoseconds, spinning on the CPU, before it sleeps.  It
	 * trades CPU time for latency; 0 (the default) never spins; at most
	 * 1000000000 (else -EINVAL).  In the sim the spin reads the shared
	 * pages events arrive on and makes no system call; on xen it polls the
	 * device without sleeping. */
	uint64_t busy_poll_ns;
};

/*
 * Result of evtchnx_status().  Set sz to sizeof(struct evtchnx_status)
 * before the call; the library fills at most sz bytes, so an older caller
 * with a smaller struct keeps working.
 */
struct evtchnx_status {
	size_t sz;
	uint32_t state;        /* EVTCHNX_STATE_* */
	uint32_t vcpu;         /* the vCPU notified (0 in the sim) */
	uint32_t remote_domid; /* UNBOUND: offered to; INTERDOMAIN: peer */
	uint32_t remote_port;  /* INTERDOMAIN: the peer's port */
	uint32_t virq;         /* VIRQ: the virq number */
};

/* ---- handles -------------------------------------------------------- */

/*
 * evtchnx_open - open a handle on a backend.
 * @target: "xen", "sim", "sim:NAME" (NAME: 1-64 characters from
 *          [A-Za-z0-9._-], not starting with '.' or '-'), or NULL/"" to choose:
 *          $EVTCHNX_TARGET if set, else "xen" when /dev/xen/evtchn exists,
 *          else "sim".
 * @opts:   NULL for defaults, or options (see struct evtchnx_open_opts).
 *
 * In the sim the handle joins the lab as opts->domid.  The control domain 0
 * always exists; any other domain comes into being when the control domain
 * creates it (evtchnx_domain_create) or when a handle first joins as it, and
 * an implicitly created domain is destroyed when its last handle closes.
 * Several handles may join as the same domid: they share its port
 * namespace, each owning the ports it bound.
 *
 * The shared lab "sim:NAME" lives in $XDG_RUNTIME_DIR/evtchnx/ (or
 * /tmp/evtchnx-UID/), a directory of mode 0700 that other users cannot
 * enter.  If no lab server runs, this call starts one (the program
 * evtchnx-labd; $EVTCHNX_LABD overrides where it is looked for).
 *
 * Returns a handle, to be released with evtchnx_close(), or NULL with errno:
 *   EINVAL     bad target string, bad options (sz, unknown flags, non-zero
 *              tail), domid >= EVTCHNX_DOMID_FIRST_RESERVED;
 *   EACCES     a strict lab, and no valid token for the domain (see "Labs");
 *   EPERM      EVTCHNX_OPEN_STRICT, and the running lab is not strict;
 *   ENFILE     the lab holds its maximum of handles (see "Labs");
 *   EMFILE     this process holds its maximum of the lab's handles, or is
 *              out of descriptors;
 *   ETIMEDOUT  the lab server did not answer in time;
 *   ENOSPC     the lab already holds EVTCHNX_SIM_MAX_DOMAINS domains;
 *   ESRCH      the domain was destroyed by the control domain meanwhile;
 *   EACCES     the lab directory is not private to this user;
 *   ECONNREFUSED  no lab server and EVTCHNX_OPEN_NO_SPAWN was given;
 *   ENOENT     the lab server program was not found;
 *   ENOSYS     target "xen" in a library built without the xen backend;
 *   ENODEV     target "xen" on a machine that is not running on Xen
 *              (no /dev/xen/evtchn), or its libraries are not installed
 *              (EVTCHNX_DEBUG=1 in the environment prints which);
 *   ENOMEM, EMFILE, ENFILE  out of memory or descriptors.
 */
EVTCHNX_API struct evtchnx_handle *
evtchnx_open(const char *target, const struct evtchnx_open_opts *opts);

/*
 * evtchnx_close - close a handle and every port it owns.
 *
 * Closing a port works as evtchnx_unbind(): the remote end of each channel
 * goes back to UNBOUND.  In a sim lab, if this was the last handle of an
 * implicitly created domain, the domain is destroyed.  When this returns,
 * the lab has applied all of that.  NULL is a no-op.  In a child that
 * inherited the handle across fork() this only releases the child's copy.
 */
EVTCHNX_API void evtchnx_close(struct evtchnx_handle *h);

/*
 * evtchnx_fd - the handle's pollable descriptor.
 *
 * Readable (POLLIN) whenever a port is pending; it may be readable
 * spuriously (see "Delivery").  Owned by the handle: do not read, write or
 * close it.  In the sim it is an epoll descriptor: add it to your own
 * poll(2), select(2) or epoll(7) set like any other.
 * Returns the fd (>= 0).
 */
EVTCHNX_API int evtchnx_fd(struct evtchnx_handle *h);

/*
 * evtchnx_domid - the domain this handle acts as.
 * Returns the domid (0 .. 0x7FEF).  On the xen backend, the domain the
 * program runs in (0 in dom0).
 */
EVTCHNX_API int evtchnx_domid(struct evtchnx_handle *h);

/*
 * evtchnx_backend - the backend behind a handle: "sim" or "xen".
 * Returns a static string, or NULL with errno EINVAL for a NULL handle.
 */
EVTCHNX_API const char *evtchnx_backend(struct evtchnx_handle *h);

/* ---- ports ---------------------------------------------------------- */

/*
 * evtchnx_alloc_unbound - allocate a port in @dom offered to @remote_dom
 * (EVTCHNOP_alloc_unbound).
 * @dom:        EVTCHNX_DOMID_SELF or the caller's own domid; the control
 *              domain may name another domain.
 * @remote_dom: the only domain allowed to bind the port.  Not checked for
 *              existence (it may be created later).  EVTCHNX_DOMID_SELF
 *              stands for the *caller's* domid, also when allocating on
 *              another domain's behalf.
 *
 * The port is the lowest free one >= 1 (on Xen, a port freed while its event
 * was still queued may be skipped for a moment; see "Delivery").  A port
 * allocated in the caller's own domain belongs to this handle; one
 * allocated in another domain belongs to no handle until a handle of that
 * domain adopts it.
 *
 * A domain has EVTCHNX_SIM_MAX_PORTS - 1 ports in the sim (port 0 is
 * reserved), then -ENOSPC.  On Xen, Linux spends an IRQ and kernel memory
 * on every port it hands to user space, so dom0's memory is the practical
 * limit well before the FIFO ABI's 131072 (a 512 MB dom0 ran out near
 * 95000 ports, and the kernel killed the allocating process rather than
 * refuse the port).
 *
 * Returns the port, or:
 *   -EINVAL  a domid above 0xFFFF;
 *   -EACCES  the handle is restricted (evtchnx_restrict);
 *   -ESRCH   @dom does not exist;
 *   -ENOSPC  no free port in @dom;
 *   -EPERM   @dom is another domain and the caller is not the control
 *            domain.
 */
EVTCHNX_API int evtchnx_alloc_unbound(struct evtchnx_handle *h, uint32_t dom,
				      uint32_t remote_dom);

/*
 * evtchnx_bind_interdomain - connect a new local port to @remote_port of
 * @remote_dom (EVTCHNOP_bind_interdomain).
 *
 * The remote port must be UNBOUND and offered to the caller's domain.
 * @remote_dom may be EVTCHNX_DOMID_SELF or the caller's own id (loopback);
 * DOMID_SELF is not a wildcard for "whoever offered it".  Both ends become
 * INTERDOMAIN at once, and the new local port is left pending (events sent
 * while it was unbound are not lost; expect one spurious event).
 *
 * Returns the local port, or:
 *   -EACCES  the handle is restricted to another domain;
 *   -EINVAL  a domid above 0xFFFF; @remote_port out of range, not UNBOUND,
 *            or not offered to the caller's domain (nothing changes);
 *   -ESRCH   @remote_dom does not exist;
 *   -ENOSPC  no free local port (checked before the remote port).
 */
EVTCHNX_API int evtchnx_bind_interdomain(struct evtchnx_handle *h,
					 uint32_t remote_dom,
					 uint32_t remote_port);

/*
 * evtchnx_bind_virq - bind a new port to virtual IRQ @virq on vCPU 0
 * (EVTCHNOP_bind_virq).
 *
 * Returns the port, or:
 *   -EACCES  the handle is restricted;
 *   -EINVAL  @virq >= EVTCHNX_NR_VIRQS;
 *   -EBUSY   a global virq whose handler is another domain (the control
 *            domain handles the global virqs);
 *   -EEXIST  the virq is already bound in this domain;
 *   -ENOSPC  no free port.
 * Sending on a VIRQ port is -EINVAL.
 */
EVTCHNX_API int evtchnx_bind_virq(struct evtchnx_handle *h, uint32_t virq);

/*
 * evtchnx_adopt - take ownership of a port that the control domain
 * allocated in this handle's domain (evtchnx_alloc_unbound with dom set to
 * this domain).  Until adopted, such a port belongs to no handle; events
 * raised on it meanwhile stay pending and are delivered after adoption.
 * On Xen this is Linux's IOCTL_EVTCHN_BIND_STATIC where the kernel has it.
 *
 * Returns 0, or:
 *   -EACCES     the handle is restricted;
 *   -EINVAL     port 0 or out of range; the port is free;
 *   -EBUSY      a handle already owns the port;
 *   -EOPNOTSUPP the backend cannot adopt ports.
 */
EVTCHNX_API int evtchnx_adopt(struct evtchnx_handle *h, uint32_t port);

/*
 * evtchnx_send - raise an event on the other end of @port (EVTCHNOP_send).
 *
 * INTERDOMAIN: the peer's port becomes pending.  UNBOUND (never connected,
 * or the peer has closed): returns 0 and the event is dropped, as on Xen.
 * VIRQ: -EINVAL.  See "Operations on one of the handle's own ports" for
 * -EINVAL and -ENOTCONN.  The target comes only from the channel, never from
 * the caller.
 * Returns 0 or a negative errno.
 */
EVTCHNX_API int evtchnx_send(struct evtchnx_handle *h, uint32_t port);

/*
 * evtchnx_unbind - close one of the handle's ports (EVTCHNOP_close).
 *
 * The port becomes free (its pending bit is cleared); the remote end of an
 * INTERDOMAIN channel becomes UNBOUND, offered to this domain again, and is
 * not notified.  Closing twice is -ENOTCONN the second time.
 * Returns 0, or -EINVAL / -ENOTCONN as for every own-port operation.
 */
EVTCHNX_API int evtchnx_unbind(struct evtchnx_handle *h, uint32_t port);

/*
 * evtchnx_status - describe @port of @dom (EVTCHNOP_status).
 * @dom: EVTCHNX_DOMID_SELF, the caller's domid, or (control domain only)
 *       another domain.
 * @st:  filled in; st->sz must be set by the caller.
 *
 * Free ports and the reserved port 0 report EVTCHNX_STATE_CLOSED.
 * Returns 0, or:
 *   -EINVAL  @st is NULL or st->sz < sizeof(size_t); a domid above 0xFFFF;
 *            @port beyond the domain's port table;
 *   -ESRCH   @dom does not exist (checked first);
 *   -EPERM   another domain and the caller is not the control domain.
 */
EVTCHNX_API int evtchnx_status(struct evtchnx_handle *h, uint32_t dom,
			       uint32_t port, struct evtchnx_status *st);

/*
 * evtchnx_reset - close every port of @dom (EVTCHNOP_reset).
 *
 * Remote ends of its channels become UNBOUND; the next allocation in @dom
 * returns port 1 again.  Handles of @dom lose their ports.
 * Returns 0, or -EINVAL (a domid above 0xFFFF), -ESRCH (no such domain),
 * -EPERM (another domain and not the control domain), -EOPNOTSUPP (xen
 * backend, the program's own domain: it would close the running kernel's
 * own channels).
 */
EVTCHNX_API int evtchnx_reset(struct evtchnx_handle *h, uint32_t dom);

/*
 * evtchnx_restrict - restrict the handle to channels with @domid
 * (IOCTL_EVTCHN_RESTRICT_DOMID).
 *
 * Afterwards the handle may only bind_interdomain to @domid; other
 * bind_interdomain calls, alloc_unbound, bind_virq and adopt return
 * -EACCES.  Ports bound before keep working.  It cannot be undone.
 * Returns 0, or -EACCES (already restricted), -EINVAL (@domid is 0 or
 * >= EVTCHNX_DOMID_FIRST_RESERVED).
 */
EVTCHNX_API int evtchnx_restrict(struct evtchnx_handle *h, uint32_t domid);

/* ---- delivery ------------------------------------------------------- */

/*
 * evtchnx_pending - take the next pending port.
 *
 * Never sleeps or polls.  The port is returned at most once per unmask: it
 * stays masked until evtchnx_unmask().  Ports come out in the order they
 * became pending (see "Delivery").  Never returns a port the handle no longer
 * owns; an event the peer sent before closing its end is still returned.
 * Returns the port, or -EAGAIN when none is pending.
 */
EVTCHNX_API int evtchnx_pending(struct evtchnx_handle *h);

/*
 * evtchnx_pending_batch - take up to @max pending ports at once.
 *
 * Same contract as evtchnx_pending(), for many ports in one call: each port
 * written to @ports is taken and masked.
 * Returns the number of ports written (0 when none is pending), or -EINVAL
 * (@ports NULL or @max 0).
 */
EVTCHNX_API int evtchnx_pending_batch(struct evtchnx_handle *h,
				      uint32_t *ports, unsigned int max);

/*
 * evtchnx_wait - evtchnx_pending() that blocks.
 * @timeout_ms: how long to wait; 0 polls; a negative value waits forever.
 *
 * It makes no system call that poll() on evtchnx_fd() and
 * evtchnx_pending() would not (in the sim, one epoll_wait() per event).
 * With evtchnx_open_opts.busy_poll_ns it first spins for up to that long
 * (never past @timeout_ms) before it sleeps.
 *
 * Returns the port (taken and masked), -ETIMEDOUT, or -EINTR when a signal
 * interrupted the wait.
 */
EVTCHNX_API int evtchnx_wait(struct evtchnx_handle *h, int timeout_ms);

/*
 * evtchnx_unmask - re-enable delivery on one of the handle's ports.
 *
 * If an event arrived since the port was taken, it becomes deliverable again
 * now.  Unmasking a port that is not masked is harmless.
 * Returns 0, or -EINVAL / -ENOTCONN as for every own-port operation.
 */
EVTCHNX_API int evtchnx_unmask(struct evtchnx_handle *h, uint32_t port);

/*
 * evtchnx_is_pending - peek at one port's pending bit without taking it.
 *
 * Returns 1 while an event on the port waits to be returned by
 * evtchnx_pending() (also one latched while the port is masked), else 0; or
 * -EINVAL / -ENOTCONN as for every own-port operation.
 *
 * xen backend: Linux keeps an event that arrives on a taken (masked) port
 * inside the kernel until the port is unmasked, so there this returns 0
 * for such a port; the event is still delivered after evtchnx_unmask().
 */
EVTCHNX_API int evtchnx_is_pending(struct evtchnx_handle *h, uint32_t port);

/* ---- batches (since 1.1, EVTCHNX_1.1) -------------------------------- */

/*
 * Each batch call does what @n calls of the single operation would do, in
 * array order, in as few requests to the lab as it can (the sim answers up
 * to 256 in one request; on xen each is one system call or hypercall, as
 * before).  They follow sendmmsg(2): the operations run in order until one
 * fails; the call returns how many succeeded.  When the first one fails,
 * it returns that operation's negative errno, exactly as the single call
 * would.  When a later one fails, the ones before it stand (nothing is
 * undone, no port is lost), the count is returned, and calling again with
 * the rest of the array reports the error.  @n == 0 returns 0.  Every call
 * also returns -EINVAL for a NULL array with @n > 0, and counts above
 * INT_MAX are treated as INT_MAX.
 */

/* evtchnx_alloc_unbound_batch - @n × evtchnx_alloc_unbound(h, dom,
 * remote_dom), the ports written to @ports[0 .. result). */
EVTCHNX_API int evtchnx_alloc_unbound_batch(struct evtchnx_handle *h,
					    uint32_t dom, uint32_t remote_dom,
					    uint32_t *ports, unsigned int n);

/* evtchnx_bind_interdomain_batch - for each i, @ports[i] =
 * evtchnx_bind_interdomain(h, remote_dom, remote_ports[i]). */
EVTCHNX_API int evtchnx_bind_interdomain_batch(struct evtchnx_handle *h,
					       uint32_t remote_dom,
					       const uint32_t *remote_ports,
					       uint32_t *ports, unsigned int n);

/* evtchnx_unbind_batch - evtchnx_unbind() of each of @ports. */
EVTCHNX_API int evtchnx_unbind_batch(struct evtchnx_handle *h,
				     const uint32_t *ports, unsigned int n);

/* evtchnx_unmask_batch - evtchnx_unmask() of each of @ports. */
EVTCHNX_API int evtchnx_unmask_batch(struct evtchnx_handle *h,
				     const uint32_t *ports, unsigned int n);

/*
 * evtchnx_status_batch - for each i, evtchnx_status(h, dom, ports[i], ...)
 * into the i-th element of @st.  Set st[0].sz to sizeof(struct
 * evtchnx_status): it gives the size of every element of the array (an
 * older caller's smaller struct keeps working), and the library writes it
 * into each element it fills.  -EINVAL also for st[0].sz < sizeof(size_t).
 */
EVTCHNX_API int evtchnx_status_batch(struct evtchnx_handle *h, uint32_t dom,
				     const uint32_t *ports,
				     struct evtchnx_status *st, unsigned int n);

/* ---- sim-only: the control domain's toolstack ----------------------- */

/*
 * evtchnx_domain_create - create domain @domid explicitly, so that the
 * control domain can allocate its ports before any of its handles joins.
 * An explicitly created domain lives until evtchnx_domain_destroy().
 * Returns 0, or -EPERM (caller is not the control domain), -EINVAL (@domid
 * reserved or above 0xFFFF), -EEXIST, -ENOSPC (lab full), -EOPNOTSUPP (xen
 * backend).
 */
EVTCHNX_API int evtchnx_domain_create(struct evtchnx_handle *h,
				      uint32_t domid);

/*
 * evtchnx_domain_destroy - destroy domain @domid: every port is closed
 * (remote ends become UNBOUND), its handles fail with -ESRCH afterwards.
 * Returns 0, or -EPERM, -EINVAL (domain 0, reserved ids), -ESRCH,
 * -EOPNOTSUPP (xen backend).
 */
EVTCHNX_API int evtchnx_domain_destroy(struct evtchnx_handle *h,
				       uint32_t domid);

/*
 * evtchnx_raise_virq - raise @virq in domain @domid, as the hypervisor
 * would.  If the domain has no port bound to it, the event is dropped.
 * Returns 0, or -EPERM, -EINVAL (@virq out of range), -ESRCH,
 * -EOPNOTSUPP (xen backend).
 */
EVTCHNX_API int evtchnx_raise_virq(struct evtchnx_handle *h, uint32_t domid,
				   uint32_t virq);

/*
 * evtchnx_domain_grant - the token with which a process may join a strict
 * lab as domain @domid (in $EVTCHNX_LAB_TOKEN; see "Labs").  The token of a
 * domain stays the same until the domain is destroyed with
 * evtchnx_domain_destroy(); the domain need not exist yet.  Any lab hands
 * out tokens; only a strict one asks for them.  Since 1.1 (EVTCHNX_1.1).
 * @token: filled with a NUL-terminated token of EVTCHNX_TOKEN_SIZE - 1
 *         characters; @size: its room (at least EVTCHNX_TOKEN_SIZE).
 * Returns 0, or -EPERM (the caller is not the control domain), -EINVAL
 * (@token NULL, @size too small, @domid reserved or above 0xFFFF),
 * -EOPNOTSUPP (xen backend).
 */
EVTCHNX_API int evtchnx_domain_grant(struct evtchnx_handle *h, uint32_t domid,
				     char *token, size_t size);

/* ---- misc ----------------------------------------------------------- */

/*
 * evtchnx_strerror - describe an error code.
 * @err: a negative errno as returned by this library (a positive one works
 *       too).
 * Returns a static string; never NULL.
 */
EVTCHNX_API const char *evtchnx_strerror(int err);

/*
 * evtchnx_version - the library's version, "MAJOR.MINOR.PATCH".
 * Compare with EVTCHNX_VERSION_STRING to detect a header/library mismatch.
 */
EVTCHNX_API const char *evtchnx_version(void);

#ifdef __cplusplus
}
#endif

#endif /* EVTCHNX_H */
