/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/* link.c - the receiver's side of a link (see link.h). */
#include "link.h"

int link_read(struct link_receiver *l, uint32_t *ports, unsigned int max)
{
	uint32_t head = atomic_load_explicit(&l->tx->head, memory_order_acquire);
	uint32_t overflows = atomic_load_explicit(&l->tx->overflows, memory_order_acquire);
	uint32_t n = head - l->tail;

	if (overflows != l->overflows_seen || n > LINK_RING) {
		l->overflows_seen = overflows;
		l->tail = head;
		return -1;
	}
	if (n > max)
		n = max;
	for (uint32_t i = 0; i < n; i++)
		ports[i] = atomic_load_explicit(&l->tx->ring[(l->tail + i) % LINK_RING],
						memory_order_relaxed);
	l->tail += n;
	return (int)n;
}

bool link_receiver_idle(struct link_receiver *l)
{
	atomic_store_explicit(&l->rx->tail, l->tail, memory_order_release);
	/* Pairs with the fence in link_raise(). */
	atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(&l->tx->head, memory_order_relaxed) != l->tail ||
	       atomic_load_explicit(&l->tx->overflows, memory_order_relaxed) !=
		       l->overflows_seen;
}

void link_scan(struct link_receiver *l, void (*fn)(void *ctx, uint32_t port),
	       void *ctx)
{
	for (unsigned int w = 0; w < LINK_WORDS; w++) {
		uint64_t x = atomic_load_explicit(&l->tx->raised[w], memory_order_acquire) ^
			     atomic_load_explicit(&l->rx->ack[w], memory_order_relaxed);

		while (x) {
			unsigned int b = (unsigned int)__builtin_ctzll(x);

			x &= x - 1;
			fn(ctx, w * 64u + b);
		}
	}
}
