/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * event_2l.h - Xen's 2-level event delivery rules on a shared-memory inbox.
 *
 * An inbox holds the pending and mask bits of the ports one receiving
 * handle has bound to one peer domain (or to the hypervisor, for VIRQs).
 * The receiver and every sender of that peer domain map it.  The rules are
 * Xen's: a send sets the port's pending bit; only when the bit went 0->1, the
 * port is not masked and the receiver had not been kicked yet does the
 * sender write the receiver's doorbell.  A masked port latches its pending
 * bit; unmasking it re-raises the event.  Xen's per-vCPU selector word is
 * left out: the receiver looks at all 64 pending words (a few cache lines),
 * which spares senders a write to a line every port shares.
 *
 * The receiver keeps, beside each inbox, a private bitmap of the ports it
 * honours in that inbox (those whose bits live there), so a peer can only
 * raise events on the receiver's ports that are bound to it.
 *
 * No I/O: functions say when a doorbell must be written.
 */
#ifndef EVTCHNX_SIM_EVENT_2L_H
#define EVTCHNX_SIM_EVENT_2L_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

#define E2L_WORDS (RULES_MAX_PORTS / 64u)
#define E2L_INBOX_SIZE (E2L_WORDS * 16u + 4096u)

struct e2l_inbox {
	_Atomic uint64_t pending[E2L_WORDS];
	_Atomic uint64_t mask[E2L_WORDS];
	_Atomic uint32_t kicked; /* the doorbell was written, not yet drained */
};

_Static_assert(sizeof(struct e2l_inbox) <= E2L_INBOX_SIZE,
	       "an inbox fits in its mapping");

static inline unsigned int e2l_word(uint32_t port) { return port / 64u; }
static inline uint64_t e2l_bit(uint32_t port) { return 1ull << (port % 64u); }

/*
 * Sender, holding the kick for an event the receiver has already taken: a
 * doorbell write now would leave the fd readable with nothing to deliver.
 * Gives the kick back unless the receiver has claimed it (it then counts on
 * the write), and keeps it for any other event that found it set meanwhile
 * and did not write.  Returns true when the caller must write the doorbell.
 */
bool e2l_kick_taken(struct e2l_inbox *ib);

/*
 * Sender: raise @port.  Returns true when the caller must write the
 * receiver's doorbell.
 */
static inline bool e2l_raise(struct e2l_inbox *ib, uint32_t port)
{
	unsigned int w = e2l_word(port);
	uint64_t bit = e2l_bit(port);

	if (atomic_fetch_or(&ib->pending[w], bit) & bit)
		return false; /* already pending: events coalesce */
	/* Already kicked: the receiver has yet to take the kick back, and it
	 * looks at every pending word after doing so.  Looking before writing
	 * keeps a burst from bouncing the shared lines. */
	if (atomic_load(&ib->kicked))
		return false;
	if (atomic_load(&ib->mask[w]) & bit)
		return false; /* masked: latched until unmask */
	if (atomic_exchange(&ib->kicked, 1))
		return false;
	if (atomic_load(&ib->pending[w]) & ~atomic_load(&ib->mask[w]) & bit)
		return true;
	/* The receiver took the event between our bit and our kick. */
	return e2l_kick_taken(ib);
}

/* Clear a port's pending and mask bits (freed, or starting a new binding). */
static inline void e2l_clear(struct e2l_inbox *ib, uint32_t port)
{
	atomic_fetch_and(&ib->pending[e2l_word(port)], ~e2l_bit(port));
	atomic_fetch_and(&ib->mask[e2l_word(port)], ~e2l_bit(port));
}

static inline bool e2l_is_pending(const struct e2l_inbox *ib, uint32_t port)
{
	return atomic_load(&ib->pending[e2l_word(port)]) & e2l_bit(port);
}

/*
 * Receiver: unmask @port.  Returns true when the port is pending, i.e. the
 * event must be delivered now (the caller wakes itself).
 */
static inline bool e2l_unmask(struct e2l_inbox *ib, uint32_t port)
{
	unsigned int w = e2l_word(port);
	uint64_t bit = e2l_bit(port);

	if (!(atomic_fetch_and(&ib->mask[w], ~bit) & bit))
		return false; /* was not masked: nothing was held back */
	return atomic_load(&ib->pending[w]) & bit;
}

/*
 * Receiver: whether @port's event is deliverable now (pending, not masked).
 * Checked when a port becomes honoured (a bit set before the receiver knew
 * of the binding must not be stranded) and when settling a doorbell.
 */
static inline bool e2l_deliverable(struct e2l_inbox *ib, uint32_t port)
{
	unsigned int w = e2l_word(port);

	return atomic_load(&ib->pending[w]) & ~atomic_load(&ib->mask[w]) &
	       e2l_bit(port);
}

/*
 * Receiver: take up to @max deliverable ports among those set in @honour
 * (E2L_WORDS words).  Each taken port is masked and its pending bit cleared,
 * so a later send latches until e2l_unmask().  Returns the number taken.
 */
unsigned int e2l_take(struct e2l_inbox *ib, const uint64_t *honour,
		      uint32_t *ports, unsigned int max);

/* Receiver: whether any honoured port is deliverable. */
bool e2l_any_deliverable(struct e2l_inbox *ib, const uint64_t *honour);

/*
 * Receiver, quieting its doorbell: let senders kick again, and learn whether
 * one did since the last time (1) or not (0).  A sender that kicked wrote, or
 * is about to write, one unit to the doorbell.  The caller must then look for
 * deliverable ports once more (a send that found the flag set did not write
 * the doorbell).
 */
static inline unsigned int e2l_claim_kick(struct e2l_inbox *ib)
{
	return atomic_exchange(&ib->kicked, 0) ? 1u : 0u;
}

#endif /* EVTCHNX_SIM_EVENT_2L_H */
