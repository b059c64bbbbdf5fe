/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unit_event_2l.c - the 2-level inbox (libevtchn/sim/rules/event_2l),
 * driven directly: coalescing, the one kick per drain, latching while
 * masked, honoured ports only, and a sender's kick for an event that the
 * receiver took before the kick showed.
 */
#include <stdlib.h>
#include <string.h>

#include "event_2l.h"
#include "unit.h"

static struct e2l_inbox *ib;
static uint64_t all[E2L_WORDS];

static void fresh_inbox(void)
{
	free(ib);
	ib = calloc(1, sizeof(*ib));
	if (!ib)
		abort();
	memset(all, 0xff, sizeof(all));
}

static unsigned int take(uint32_t *ports, unsigned int max)
{
	return e2l_take(ib, all, ports, max);
}

static void t_first_raise_kicks_once(void)
{
	CHECK(e2l_raise(ib, 5));
	CHECK(!e2l_raise(ib, 5));   /* coalesced */
	CHECK(!e2l_raise(ib, 70));  /* kicked already */
	CHECK(e2l_is_pending(ib, 5));
	CHECK(e2l_is_pending(ib, 70));
	CHECK_EQ(e2l_claim_kick(ib), 1);
	CHECK_EQ(e2l_claim_kick(ib), 0);
	CHECK(!e2l_raise(ib, 5));   /* still pending: coalesced */
	CHECK(e2l_raise(ib, 6));    /* a new bit after the drain kicks */
}

static void t_take_masks_and_clears(void)
{
	uint32_t ports[4];

	CHECK(e2l_raise(ib, 3));
	(void)e2l_raise(ib, 64);
	(void)e2l_raise(ib, 4095);
	CHECK_EQ(take(ports, 2), 2);
	CHECK_EQ(ports[0], 3);
	CHECK_EQ(ports[1], 64);
	CHECK(!e2l_is_pending(ib, 3));
	CHECK(!e2l_deliverable(ib, 3));
	CHECK(e2l_any_deliverable(ib, all));
	CHECK_EQ(take(ports, 4), 1);
	CHECK_EQ(ports[0], 4095);
	CHECK(!e2l_any_deliverable(ib, all));
	CHECK_EQ(take(ports, 4), 0);
}

static void t_masked_port_latches_until_unmask(void)
{
	uint32_t port;

	(void)e2l_raise(ib, 9);
	(void)e2l_claim_kick(ib);
	CHECK_EQ(take(&port, 1), 1);
	CHECK(!e2l_raise(ib, 9)); /* masked: no kick */
	CHECK(!e2l_raise(ib, 9)); /* coalesced while latched */
	CHECK(e2l_is_pending(ib, 9));
	CHECK(!e2l_deliverable(ib, 9));
	CHECK_EQ(take(&port, 1), 0);
	CHECK(e2l_unmask(ib, 9)); /* held back: deliver now */
	CHECK(!e2l_unmask(ib, 9)); /* not masked any more */
	CHECK_EQ(take(&port, 1), 1);
	CHECK_EQ(port, 9);
	CHECK(!e2l_unmask(ib, 9)); /* nothing arrived since the take */
}

static void t_only_honoured_ports_are_taken(void)
{
	uint64_t honour[E2L_WORDS] = { 0 };
	uint32_t port;

	honour[0] = e2l_bit(2);
	(void)e2l_raise(ib, 1);
	(void)e2l_raise(ib, 2);
	CHECK_EQ(e2l_take(ib, honour, &port, 1), 1);
	CHECK_EQ(port, 2);
	CHECK(!e2l_any_deliverable(ib, honour));
	CHECK(e2l_is_pending(ib, 1)); /* left alone */
}

static void t_clear_forgets_bits(void)
{
	uint32_t port;

	(void)e2l_raise(ib, 12);
	CHECK_EQ(take(&port, 1), 1);
	(void)e2l_raise(ib, 12);
	e2l_clear(ib, 12);
	CHECK(!e2l_is_pending(ib, 12));
	CHECK(!e2l_unmask(ib, 12));
	(void)e2l_claim_kick(ib);
	CHECK(e2l_raise(ib, 12)); /* unmasked again: a new binding */
}

/* The sender holds the kick; the receiver took the event before the kick
 * showed and has not drained since: give the kick back, write nothing. */
static void t_kick_for_taken_event_is_given_back(void)
{
	uint32_t port;

	(void)e2l_raise(ib, 7);
	CHECK_EQ(take(&port, 1), 1);
	CHECK(!e2l_kick_taken(ib));
	CHECK_EQ(atomic_load(&ib->kicked), 0);
	CHECK(e2l_unmask(ib, 7) == false);
	CHECK(e2l_raise(ib, 7)); /* the next event kicks again */
}

/* The receiver claimed the kick meanwhile: it counts on the write. */
static void t_claimed_kick_is_written(void)
{
	uint32_t port;

	(void)e2l_raise(ib, 7);
	CHECK_EQ(take(&port, 1), 1);
	CHECK_EQ(e2l_claim_kick(ib), 1);
	CHECK(e2l_kick_taken(ib));
	CHECK_EQ(atomic_load(&ib->kicked), 0);
}

/* Another event found the kick set and did not write: keep it for that
 * one and write. */
static void t_kick_kept_for_another_event(void)
{
	uint32_t port;

	(void)e2l_raise(ib, 7);
	CHECK(!e2l_raise(ib, 200)); /* saw the kick set */
	CHECK_EQ(e2l_take(ib, (uint64_t[E2L_WORDS]){ e2l_bit(7) }, &port, 1), 1);
	CHECK(e2l_kick_taken(ib));
	CHECK_EQ(atomic_load(&ib->kicked), 1);
	CHECK(e2l_deliverable(ib, 200));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	UNIT_RUN(fresh_inbox(), t_first_raise_kicks_once);
	UNIT_RUN(fresh_inbox(), t_take_masks_and_clears);
	UNIT_RUN(fresh_inbox(), t_masked_port_latches_until_unmask);
	UNIT_RUN(fresh_inbox(), t_only_honoured_ports_are_taken);
	UNIT_RUN(fresh_inbox(), t_clear_forgets_bits);
	UNIT_RUN(fresh_inbox(), t_kick_for_taken_event_is_given_back);
	UNIT_RUN(fresh_inbox(), t_claimed_kick_is_written);
	UNIT_RUN(fresh_inbox(), t_kick_kept_for_another_event);
	free(ib);
	return unit_summary();
}
