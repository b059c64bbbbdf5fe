/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xenabi.h - the parts of Xen's stable interfaces that the xen backend uses,
 * declared here so that the library builds without any Xen header:
 *
 *   libxenevtchn.so.1, libxencall.so.1, libxentoollog (logger struct):
 *     symbol-versioned, stable C ABIs (Debian: libxenevtchn1, libxencall1);
 *   EVTCHNOP_* argument structs: Xen's public event_channel.h, a guest ABI
 *     that never changes (domid_t is 16 bits, ports 32 bits);
 *   /dev/xen/evtchn ioctls: Linux's uapi xen/evtchn.h.
 */
#ifndef EVTCHNX_XENABI_H
#define EVTCHNX_XENABI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

/* ---- libxentoollog: a logger is three callbacks --------------------------- */

struct xentoollog_logger {
	void (*vmessage)(struct xentoollog_logger *logger, int level,
			 int errnoval, const char *context, const char *format,
			 va_list al);
	void (*progress)(struct xentoollog_logger *logger, const char *context,
			 const char *doing_what, int percent,
			 unsigned long done, unsigned long total);
	void (*destroy)(struct xentoollog_logger *logger);
};

/* ---- libxenevtchn.so.1 / libxencall.so.1 ------------------------------------ */

typedef struct xenevtchn_handle xenevtchn_handle;
typedef struct xencall_handle xencall_handle;

/* The function types; evtchnx's names end in _fn. */
typedef xenevtchn_handle *xenevtchn_open_fn(struct xentoollog_logger *logger,
					    unsigned int flags);
typedef int xenevtchn_close_fn(xenevtchn_handle *xce);
typedef int xenevtchn_fd_fn(xenevtchn_handle *xce);
typedef int xenevtchn_notify_fn(xenevtchn_handle *xce, uint32_t port);
typedef int xenevtchn_bind_unbound_port_fn(xenevtchn_handle *xce,
					   uint32_t domid);
typedef int xenevtchn_bind_interdomain_fn(xenevtchn_handle *xce,
					  uint32_t domid, uint32_t remote_port);
typedef int xenevtchn_bind_virq_fn(xenevtchn_handle *xce, unsigned int virq);
typedef int xenevtchn_unbind_fn(xenevtchn_handle *xce, uint32_t port);
typedef int xenevtchn_pending_fn(xenevtchn_handle *xce);
typedef int xenevtchn_unmask_fn(xenevtchn_handle *xce, uint32_t port);
typedef int xenevtchn_restrict_fn(xenevtchn_handle *xce, uint16_t domid);

typedef xencall_handle *xencall_open_fn(struct xentoollog_logger *logger,
					unsigned int open_flags);
typedef int xencall_close_fn(xencall_handle *xcall);
typedef int xencall2_fn(xencall_handle *xcall, unsigned int op, uint64_t arg1,
			uint64_t arg2);
typedef void *xencall_alloc_buffer_fn(xencall_handle *xcall, size_t size);
typedef void xencall_free_buffer_fn(xencall_handle *xcall, void *p);

/* ---- hypercall __HYPERVISOR_event_channel_op ------------------------------- */

#define XEN_HYPERCALL_EVENT_CHANNEL_OP 32

#define XEN_EVTCHNOP_close 3
#define XEN_EVTCHNOP_status 5
#define XEN_EVTCHNOP_alloc_unbound 6
#define XEN_EVTCHNOP_reset 10

struct xen_evtchn_alloc_unbound {
	uint16_t dom;        /* in */
	uint16_t remote_dom; /* in */
	uint32_t port;       /* out */
};

struct xen_evtchn_close {
	uint32_t port;
};

struct xen_evtchn_status {
	uint16_t dom;    /* in */
	uint32_t port;   /* in */
	uint32_t status; /* out: EVTCHNSTAT_*, the same values as EVTCHNX_STATE_* */
	uint32_t vcpu;   /* out */
	union {
		struct {
			uint16_t dom;
		} unbound;
		struct {
			uint16_t dom;
			uint32_t port;
		} interdomain;
		uint32_t pirq;
		uint32_t virq;
	} u;
};

struct xen_evtchn_reset {
	uint16_t dom;
};

_Static_assert(sizeof(struct xen_evtchn_alloc_unbound) == 8, "Xen ABI");
_Static_assert(offsetof(struct xen_evtchn_status, status) == 8, "Xen ABI");
_Static_assert(offsetof(struct xen_evtchn_status, u) == 16, "Xen ABI");
_Static_assert(sizeof(struct xen_evtchn_status) == 24, "Xen ABI");

/* ---- /dev/xen/evtchn --------------------------------------------------------- */

/* Empty the file's event ring and clear its overflow error. */
#define XEN_IOCTL_EVTCHN_RESET _IOC(_IOC_NONE, 'E', 5, 0)

#endif /* EVTCHNX_XENABI_H */
