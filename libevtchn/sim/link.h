/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * link.h - the event path from one sender handle to one receiver handle.
 *
 * A link carries the events of every channel whose sending end one handle
 * owns and whose receiving end another (or the same) handle owns.  It is two
 * shared pages with one writer each, and a wake-up eventfd:
 *
 *   tx page  written by the sender: a "raised" bit per receiver port and a
 *            ring of the ports it raised, in the order it raised them;
 *   rx page  written by the receiver: an "ack" bit per port and the ring's
 *            tail (how far it has read).
 *
 * A port is pending on the link while its raised and ack bits differ.  The
 * sender raises a port only when it is not pending (events coalesce: a send
 * that finds the port pending costs two loads), then appends it to the ring
 * and writes the wake-up only when the ring was empty, that is when the
 * receiver may have gone idle.  The receiver reads the ring in order, and
 * takes a port by setting its ack bit equal to its raised bit.
 *
 * Neither side trusts what the other wrote: every port read from the ring
 * is checked by the receiver against its own records, a ring that claims
 * more than it can hold is treated as an overflow (the receiver then looks
 * at every raised bit), and no loop runs on a value read from shared memory
 * without a bound.  A peer that scribbles on a link can at most raise
 * spurious events on that link's ports, or hide them.
 *
 * Masking is the receiver's private business (a masked port that is raised
 * stays pending and is found again at unmask), so the sender never waits on
 * or looks at the receiver's mask.  No I/O here: link_raise() says when the
 * caller must write the wake-up.
 */
#ifndef EVTCHNX_SIM_LINK_H
#define EVTCHNX_SIM_LINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

#define LINK_WORDS (RULES_MAX_PORTS / 64u)
#define LINK_RING 2048u /* a power of two */

struct link_tx {
	_Atomic uint32_t head;      /* ring entries written so far */
	_Atomic uint32_t overflows; /* bumped when the ring was full */
	uint8_t pad0[56];
	_Atomic uint32_t ring[LINK_RING];
	_Atomic uint64_t raised[LINK_WORDS];
};

struct link_rx {
	_Atomic uint32_t tail;    /* ring entries read so far */
	_Atomic uint32_t polling; /* the receiver is busy-polling: no wake-up */
	uint8_t pad0[56];
	_Atomic uint64_t ack[LINK_WORDS];
};

#define LINK_PAGE_ALIGN(n) (((n) + 4095u) & ~(size_t)4095u)
#define LINK_TX_SIZE LINK_PAGE_ALIGN(sizeof(struct link_tx))
#define LINK_RX_SIZE LINK_PAGE_ALIGN(sizeof(struct link_rx))

/* The sender's view: its own page, the receiver's page read-only, and
 * private copies of what it wrote (never read back from shared memory). */
struct link_sender {
	struct link_tx *tx;
	const struct link_rx *rx;
	uint32_t head;
	uint32_t overflows;
};

/* The receiver's view. */
struct link_receiver {
	const struct link_tx *tx;
	struct link_rx *rx;
	uint32_t tail;
	uint32_t overflows_seen;
};

static inline unsigned int link_word(uint32_t port) { return port / 64u; }
static inline uint64_t link_bit(uint32_t port) { return 1ull << (port % 64u); }

/*
 * Sender: raise @port (< RULES_MAX_PORTS, from the sender's own records).
 * Returns true when the caller must write the link's wake-up.
 */
static inline bool link_raise(struct link_sender *l, uint32_t port)
{
	unsigned int w = link_word(port);
	uint64_t bit = link_bit(port);
	uint64_t raised = atomic_load_explicit(&l->tx->raised[w], memory_order_relaxed);
	uint64_t ack = atomic_load_explicit(&l->rx->ack[w], memory_order_acquire);
	uint32_t h = l->head, tail;

	if ((raised ^ ack) & bit)
		return false; /* pending already: events coalesce */
	atomic_store_explicit(&l->tx->raised[w], raised ^ bit, memory_order_relaxed);
	tail = atomic_load_explicit(&l->rx->tail, memory_order_relaxed);
	if ((uint32_t)(h - tail) >= LINK_RING) {
		/* Full (or the receiver wrote nonsense): it must look at
		 * every raised bit. */
		atomic_store_explicit(&l->tx->overflows, ++l->overflows,
				      memory_order_release);
		return true;
	}
	atomic_store_explicit(&l->tx->ring[h % LINK_RING], port, memory_order_relaxed);
	l->head = h + 1;
	atomic_store_explicit(&l->tx->head, h + 1, memory_order_release);
	/* Pairs with the fences in link_receiver_idle() and
	 * link_stop_polling(): either the receiver sees our entry, or we see
	 * that it had read everything before it and is not polling. */
	atomic_thread_fence(memory_order_seq_cst);
	tail = atomic_load_explicit(&l->rx->tail, memory_order_relaxed);
	return tail == h && !atomic_load_explicit(&l->rx->polling, memory_order_relaxed);
}

/* Receiver: busy-polling starts (senders may skip the wake-up) or stops. */
static inline void link_start_polling(struct link_receiver *l)
{
	atomic_store_explicit(&l->rx->polling, 1, memory_order_relaxed);
}

/* Receiver: whether the ring holds entries not read yet (or overflowed). */
static inline bool link_has_news(const struct link_receiver *l)
{
	return atomic_load_explicit(&l->tx->head, memory_order_relaxed) != l->tail ||
	       atomic_load_explicit(&l->tx->overflows, memory_order_relaxed) !=
		       l->overflows_seen;
}

/* Returns true when entries arrived that the sender did not wake us for. */
static inline bool link_stop_polling(struct link_receiver *l)
{
	atomic_store_explicit(&l->rx->polling, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	return link_has_news(l);
}

/* Either side: whether @port is pending on the link. */
static inline bool link_pending(const struct link_tx *tx,
				const struct link_rx *rx, uint32_t port)
{
	unsigned int w = link_word(port);

	return (atomic_load_explicit(&tx->raised[w], memory_order_acquire) ^
		atomic_load_explicit(&rx->ack[w], memory_order_relaxed)) &
	       link_bit(port);
}

/* Receiver: take @port's event (no longer pending until raised again). */
static inline void link_ack(struct link_receiver *l, uint32_t port)
{
	unsigned int w = link_word(port);
	uint64_t bit = link_bit(port);
	uint64_t raised = atomic_load_explicit(&l->tx->raised[w], memory_order_acquire);
	uint64_t ack = atomic_load_explicit(&l->rx->ack[w], memory_order_relaxed);

	atomic_store_explicit(&l->rx->ack[w], (ack & ~bit) | (raised & bit),
			      memory_order_release);
}

/*
 * Receiver: the ring entries written since the last call, at most @max, into
 * @ports, in ring order.  Returns how many, or -1 when the ring overflowed or
 * claims more than it can hold: the caller must then look at every raised
 * bit (link_scan()).  The entries are not trusted: each is a port number
 * from the sender, to be checked.
 */
int link_read(struct link_receiver *l, uint32_t *ports, unsigned int max);

/*
 * Receiver, after link_read() returned fewer than it was asked: publish how
 * far it read.  Returns true when entries arrived meanwhile (read again);
 * false when the sender will write the wake-up for the next one.
 */
bool link_receiver_idle(struct link_receiver *l);

/*
 * Receiver: call @fn for every port pending on the link, in port order
 * (after an overflow, or when its records were stale).
 */
void link_scan(struct link_receiver *l, void (*fn)(void *ctx, uint32_t port),
	       void *ctx);

#endif /* EVTCHNX_SIM_LINK_H */
