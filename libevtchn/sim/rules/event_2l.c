/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* event_2l.c - the receiver's scan of a 2-level inbox (see event_2l.h). */
#include "event_2l.h"

static uint64_t deliverable(struct e2l_inbox *ib, const uint64_t *honour,
			    unsigned int w)
{
	return atomic_load(&ib->pending[w]) & ~atomic_load(&ib->mask[w]) &
	       honour[w];
}

/* The lowest @n set bits of @bits (all of them when it has fewer). */
static uint64_t first_bits(uint64_t bits, unsigned int n)
{
	uint64_t out = 0;

	while (bits && n--) {
		out |= bits & -bits;
		bits &= bits - 1;
	}
	return out;
}

unsigned int e2l_take(struct e2l_inbox *ib, const uint64_t *honour,
		      uint32_t *ports, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int w = 0; w < E2L_WORDS && n < max; w++) {
		uint64_t bits = deliverable(ib, honour, w), want, got;

		if (!bits)
			continue;
		/* Take up to max - n of them at once: mask first, so that a send
		 * racing us latches instead of raising. */
		want = first_bits(bits, max - n);
		atomic_fetch_or(&ib->mask[w], want);
		got = atomic_fetch_and(&ib->pending[w], ~want) & want;
		/* Bits cleared meanwhile (port freed): undo their mask. */
		if (want & ~got)
			atomic_fetch_and(&ib->mask[w], ~(want & ~got));
		for (; got; got &= got - 1)
			ports[n++] = w * 64u + (uint32_t)__builtin_ctzll(got);
	}
	return n;
}

bool e2l_any_deliverable(struct e2l_inbox *ib, const uint64_t *honour)
{
	for (unsigned int w = 0; w < E2L_WORDS; w++)
		if (deliverable(ib, honour, w))
			return true;
	return false;
}

static bool any_raised(struct e2l_inbox *ib)
{
	for (unsigned int w = 0; w < E2L_WORDS; w++)
		if (atomic_load(&ib->pending[w]) & ~atomic_load(&ib->mask[w]))
			return true;
	return false;
}

bool e2l_kick_taken(struct e2l_inbox *ib)
{
	for (;;) {
		uint32_t held = 1;

		if (any_raised(ib))
			return true;
		if (!atomic_compare_exchange_strong(&ib->kicked, &held, 0))
			return true; /* claimed by the receiver: it waits for us */
		/* A send that saw our kick set did not write: it is raised
		 * now, and seen here (both sides are sequentially consistent). */
		if (!any_raised(ib))
			return false;
		if (atomic_exchange(&ib->kicked, 1))
			return false; /* another sender holds the kick for it */
	}
}
