/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * status_page.h - every domain's port table as evtchnx_status() reports it,
 * in one shared memory region that the lab server alone writes and every
 * handle maps read-only, so that a status needs no request.
 *
 * Layout (a sealed memfd, mostly sparse):
 *
 *   dir[domid]    the slot (1-based) holding domain @domid, 0: none;
 *   slot[i]       a header per slot: a sequence number, the domid it holds
 *                 (+1, 0: free) and the ports in the domain's table;
 *   entries[i][]  one 64-bit entry per port of slot i's domain: state,
 *                 virq, remote domain and remote port (status_page_pack()).
 *
 * The server changes a slot's header or entries only between two increments
 * of the slot's sequence number (odd while it writes): a reader that saw the
 * same even number before and after its reads saw no torn or mixed state
 * (a sequence lock).  A reader never waits on the writer for long: after
 * STATUS_PAGE_TRIES attempts it gives up and asks the server instead.
 */
#ifndef EVTCHNX_LAB_STATUS_PAGE_H
#define EVTCHNX_LAB_STATUS_PAGE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include "evtchnx.h"
#include "rules.h"

#define STATUS_PAGE_SLOTS RULES_MAX_DOMAINS
#define STATUS_PAGE_TRIES 64

struct status_page_slot {
	_Atomic uint32_t seq;      /* odd while the server writes */
	_Atomic uint32_t domid1;   /* the domain's id + 1; 0: a free slot */
	_Atomic uint32_t nr_ports; /* ports in its table */
	uint8_t pad[52];
};

struct status_page {
	_Atomic uint8_t dir[RULES_DOMID_FIRST_RESERVED];
	struct status_page_slot slot[STATUS_PAGE_SLOTS];
	/* page-aligned from here: entries[STATUS_PAGE_SLOTS][RULES_MAX_PORTS] */
};

#define STATUS_PAGE_HEAD (((sizeof(struct status_page) + 4095u) / 4096u) * 4096u)
#define STATUS_PAGE_SIZE \
	(STATUS_PAGE_HEAD + (size_t)STATUS_PAGE_SLOTS * RULES_MAX_PORTS * sizeof(uint64_t))

static inline _Atomic uint64_t *status_page_entries(const struct status_page *sp,
						    unsigned int slot)
{
	return (_Atomic uint64_t *)((char *)sp + STATUS_PAGE_HEAD) +
	       (size_t)slot * RULES_MAX_PORTS;
}

static inline uint64_t status_page_pack(const struct evtchnx_status *st)
{
	return (uint64_t)(st->state & 0xFF) | (uint64_t)(st->virq & 0xFF) << 8 |
	       (uint64_t)(st->remote_domid & 0xFFFF) << 16 |
	       (uint64_t)st->remote_port << 32;
}

static inline void status_page_unpack(uint64_t e, struct evtchnx_status *st)
{
	st->state = (uint32_t)(e & 0xFF);
	st->vcpu = 0;
	st->virq = (uint32_t)(e >> 8 & 0xFF);
	st->remote_domid = (uint32_t)(e >> 16 & 0xFFFF);
	st->remote_port = (uint32_t)(e >> 32);
}

/*
 * Reader: port @port of domain @domid.
 * Returns 0 with @st filled, -ESRCH (no such domain, or a reserved id),
 * -EINVAL (@port beyond its table), or -EAGAIN (the server kept writing:
 * ask it instead).
 * Nothing read is trusted beyond bounds checks: a slot number out of range
 * is treated as "no such domain".
 */
static inline int status_page_read(const struct status_page *sp, uint32_t domid,
				   uint32_t port, struct evtchnx_status *st)
{
	if (domid >= RULES_DOMID_FIRST_RESERVED)
		return -ESRCH; /* as rules_status(): no such domain */
	for (int tries = 0; tries < STATUS_PAGE_TRIES; tries++) {
		const struct status_page_slot *sl;
		uint32_t seq, seq2, nr;
		unsigned int slot;
		uint64_t e = 0;
		int r = 0;

		slot = atomic_load_explicit(&sp->dir[domid], memory_order_acquire);
		if (slot == 0 || slot > STATUS_PAGE_SLOTS)
			return -ESRCH;
		sl = &sp->slot[slot - 1];
		seq = atomic_load_explicit(&sl->seq, memory_order_acquire);
		if (seq & 1)
			continue;
		if (atomic_load_explicit(&sl->domid1, memory_order_relaxed) != domid + 1) {
			r = -ESRCH;
		} else {
			nr = atomic_load_explicit(&sl->nr_ports, memory_order_relaxed);
			if (port >= nr || port >= RULES_MAX_PORTS)
				r = -EINVAL;
			else
				e = atomic_load_explicit(&status_page_entries(sp, slot - 1)[port],
							 memory_order_relaxed);
		}
		atomic_thread_fence(memory_order_acquire);
		seq2 = atomic_load_explicit(&sl->seq, memory_order_relaxed);
		if (seq2 != seq)
			continue;
		if (r == -ESRCH) /* the slot changed hands since dir was read */
			continue;
		if (r == 0)
			status_page_unpack(e, st);
		return r;
	}
	return -EAGAIN;
}

/* ---- the writer (the lab server) ---- */

struct status_page_writer {
	struct status_page *sp; /* mapped read-write */
	int fd;                 /* the sealed memfd */
	int ro_fd;              /* a read-only descriptor of it, to hand out (dup) */
};

/* Returns 0 or a negative errno. */
int status_page_create(struct status_page_writer *w);
void status_page_destroy(struct status_page_writer *w);
/* Domain @domid exists with @nr_ports ports in its table, or (0) is gone.
 * Returns -ENOSPC when no slot is free (cannot happen: there are as many
 * slots as a lab has domains). */
int status_page_domain(struct status_page_writer *w, uint16_t domid,
		       uint32_t nr_ports);
void status_page_port(struct status_page_writer *w, uint16_t domid,
		      uint32_t port, const struct evtchnx_status *st);

#endif /* EVTCHNX_LAB_STATUS_PAGE_H */
