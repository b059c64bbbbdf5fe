/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * unit_link - the link between a sender and a receiver (libevtchn/sim/link.h),
 * on private memory: coalescing, order, the wake-up rule, overflow, garbage
 * from either side, and a sender and a receiver racing in two threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "unit.h"

static struct link_tx *tx;
static struct link_rx *rx;
static struct link_sender snd;
static struct link_receiver rcv;
static uint32_t got[LINK_RING];

static void fresh(void)
{
	memset(tx, 0, sizeof(*tx));
	memset(rx, 0, sizeof(*rx));
	snd = (struct link_sender){ .tx = tx, .rx = rx };
	rcv = (struct link_receiver){ .tx = tx, .rx = rx };
}

static void raise_wakes_only_an_idle_receiver(void)
{
	CHECK(link_raise(&snd, 5));  /* empty ring: the receiver may sleep */
	CHECK(!link_raise(&snd, 6)); /* it has not read the first yet */
	CHECK_EQ(link_read(&rcv, got, LINK_RING), 2);
	CHECK(!link_receiver_idle(&rcv));
	CHECK(link_raise(&snd, 7));
}

static void a_pending_port_coalesces(void)
{
	CHECK(link_raise(&snd, 9));
	CHECK(!link_raise(&snd, 9));
	CHECK(!link_raise(&snd, 9));
	CHECK_EQ(link_read(&rcv, got, LINK_RING), 1);
	CHECK_EQ(got[0], 9);
	CHECK(link_pending(tx, rx, 9));
	link_ack(&rcv, 9);
	CHECK(!link_pending(tx, rx, 9));
	CHECK(!link_receiver_idle(&rcv));
	CHECK(link_raise(&snd, 9)); /* raised again after the take */
	CHECK(link_pending(tx, rx, 9));
}

static void ring_keeps_raise_order(void)
{
	uint32_t order[] = { 300, 2, 4000 % RULES_MAX_PORTS, 77, 1 };

	for (unsigned int i = 0; i < 5; i++)
		(void)link_raise(&snd, order[i]);
	CHECK_EQ(link_read(&rcv, got, LINK_RING), 5);
	for (unsigned int i = 0; i < 5; i++)
		CHECK_EQ(got[i], order[i]);
}

static void read_is_bounded_by_max(void)
{
	for (uint32_t p = 1; p <= 10; p++)
		(void)link_raise(&snd, p);
	CHECK_EQ(link_read(&rcv, got, 4), 4);
	CHECK_EQ(got[3], 4);
	CHECK_EQ(link_read(&rcv, got, 100), 6);
	CHECK_EQ(got[0], 5);
	CHECK_EQ(link_read(&rcv, got, 100), 0);
}

static unsigned int scanned;
static uint32_t scan_last;

static void count_cb(void *ctx, uint32_t port)
{
	(void)ctx;
	scanned++;
	scan_last = port;
}

static void overflow_asks_for_a_scan(void)
{
	uint32_t n = LINK_RING + 10 < RULES_MAX_PORTS ? LINK_RING + 10 : RULES_MAX_PORTS - 1;

	for (uint32_t p = 1; p <= n; p++)
		(void)link_raise(&snd, p);
	CHECK_EQ(link_read(&rcv, got, LINK_RING), -1);
	scanned = 0;
	link_scan(&rcv, count_cb, NULL);
	CHECK_EQ(scanned, n);
	CHECK_EQ(scan_last, n);
	CHECK(!link_receiver_idle(&rcv));
}

static void garbage_head_is_an_overflow(void)
{
	atomic_store(&tx->head, 0x80000000u);
	CHECK_EQ(link_read(&rcv, got, LINK_RING), -1);
	CHECK_EQ(link_read(&rcv, got, LINK_RING), 0);
}

static void garbage_tail_makes_the_sender_wake(void)
{
	atomic_store(&rx->tail, 0x12345678u);
	CHECK(link_raise(&snd, 3)); /* a full ring: overflow, and a wake-up */
	CHECK_EQ(link_read(&rcv, got, LINK_RING), -1);
}

/* ---- a sender and a receiver in two threads ---------------------------------- */

#define RACE_PORTS 64u
#define RACE_SENDS 200000u

static _Atomic unsigned int wakes, sender_done;
static unsigned int delivered[RACE_PORTS];

static void *race_sender(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < RACE_SENDS; i++)
		if (link_raise(&snd, 1 + i % RACE_PORTS))
			atomic_fetch_add(&wakes, 1);
	atomic_store(&sender_done, 1);
	return NULL;
}

/* The receiver reads only after a wake-up, as it would after poll(): a
 * pending port left behind with no wake-up to come is a lost event. */
static void sender_and_receiver_race(void)
{
	unsigned int seen_wakes = 0;
	pthread_t t;

	memset(delivered, 0, sizeof(delivered));
	pthread_create(&t, NULL, race_sender, NULL);
	for (;;) {
		unsigned int w = atomic_load(&wakes);
		int n;

		if (w == seen_wakes) {
			if (atomic_load(&sender_done) && w == atomic_load(&wakes))
				break;
			continue;
		}
		seen_wakes = w;
		do {
			while ((n = link_read(&rcv, got, LINK_RING)) != 0) {
				if (n < 0) {
					link_scan(&rcv, count_cb, NULL);
					continue;
				}
				for (int i = 0; i < n; i++) {
					if (got[i] == 0 || got[i] > RACE_PORTS)
						continue;
					if (link_pending(tx, rx, got[i])) {
						link_ack(&rcv, got[i]);
						delivered[got[i] - 1]++;
					}
				}
			}
		} while (link_receiver_idle(&rcv));
	}
	pthread_join(t, NULL);
	for (uint32_t p = 1; p <= RACE_PORTS; p++)
		CHECK(!link_pending(tx, rx, p)); /* nothing stranded */
	for (uint32_t p = 0; p < RACE_PORTS; p++)
		CHECK(delivered[p] > 0);
}

int main(void)
{
	tx = aligned_alloc(4096, LINK_TX_SIZE);
	rx = aligned_alloc(4096, LINK_RX_SIZE);
	if (!tx || !rx)
		return 99;
	UNIT_RUN(fresh(), raise_wakes_only_an_idle_receiver);
	UNIT_RUN(fresh(), a_pending_port_coalesces);
	UNIT_RUN(fresh(), ring_keeps_raise_order);
	UNIT_RUN(fresh(), read_is_bounded_by_max);
	UNIT_RUN(fresh(), overflow_asks_for_a_scan);
	UNIT_RUN(fresh(), garbage_head_is_an_overflow);
	UNIT_RUN(fresh(), garbage_tail_makes_the_sender_wake);
	UNIT_RUN(fresh(), sender_and_receiver_race);
	free(tx);
	free(rx);
	return unit_summary();
}
