/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* event_2l.c - the receiver's scan of a 2-level inbox (see event_2l.h). */
#include "event_2l.h"

static uint64_t deliverable(struct e2l_inbox *ib, const uint64_t *honour,
			    unsigned int w)
{
	return atomic_load(&ib->pending[w]) & ~atomic_load(&ib->mask[w]) &
	       honour[w];
}

unsigned int e2l_take(struct e2l_inbox *ib, const uint64_t *honour,
		      uint32_t *ports, unsigned int max)
{
	uint64_t sel = atomic_load(&ib->selector);
	unsigned int n = 0;

	while (sel && n < max) {
		unsigned int w = (unsigned int)__builtin_ctzll(sel);
		uint64_t bits = deliverable(ib, honour, w);

		while (bits && n < max) {
			uint64_t bit = bits & -bits;

			bits &= ~bit;
			atomic_fetch_or(&ib->mask[w], bit);
			if (atomic_fetch_and(&ib->pending[w], ~bit) & bit) {
				ports[n++] = w * 64u + (uint32_t)__builtin_ctzll(bit);
				continue;
			}
			/* Cleared meanwhile (port freed): undo the mask. */
			atomic_fetch_and(&ib->mask[w], ~bit);
		}
		if (bits)
			break; /* max reached with more left in this word */
		/* Word drained: clear its selector bit, then look again, since a
		 * sender may have set a bit before we cleared the selector. */
		atomic_fetch_and(&ib->selector, ~(1ull << w));
		if (deliverable(ib, honour, w)) {
			atomic_fetch_or(&ib->selector, 1ull << w);
			continue; /* same word again */
		}
		sel &= ~(1ull << w);
	}
	return n;
}

bool e2l_any_deliverable(struct e2l_inbox *ib, const uint64_t *honour)
{
	uint64_t sel = atomic_load(&ib->selector);

	while (sel) {
		unsigned int w = (unsigned int)__builtin_ctzll(sel);

		if (deliverable(ib, honour, w))
			return true;
		sel &= ~(1ull << w);
	}
	return false;
}
