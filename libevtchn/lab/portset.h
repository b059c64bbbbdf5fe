/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * portset.h - a set of port numbers below RULES_MAX_PORTS whose memory
 * grows with the ports in it (bitmap chunks of 4096 ports, allocated on
 * first use), visited in port order.
 */
#ifndef EVTCHNX_SIM_PORTSET_H
#define EVTCHNX_SIM_PORTSET_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "rules.h"

#define PORTSET_CHUNK_PORTS 4096u
#define PORTSET_CHUNKS ((RULES_MAX_PORTS + PORTSET_CHUNK_PORTS - 1) / PORTSET_CHUNK_PORTS)
#define PORTSET_CHUNK_WORDS (PORTSET_CHUNK_PORTS / 64u)

_Static_assert(PORTSET_CHUNKS <= 64, "one summary word covers every chunk");

struct portset {
	uint64_t nonempty; /* a bit per chunk that may hold ports */
	uint64_t *chunk[PORTSET_CHUNKS];
};

static inline int portset_add(struct portset *ps, uint32_t port)
{
	unsigned int c = port / PORTSET_CHUNK_PORTS, o = port % PORTSET_CHUNK_PORTS;

	if (port >= RULES_MAX_PORTS)
		return -EINVAL;
	if (!ps->chunk[c]) {
		ps->chunk[c] = calloc(PORTSET_CHUNK_WORDS, sizeof(uint64_t));
		if (!ps->chunk[c])
			return -ENOMEM;
	}
	ps->chunk[c][o / 64u] |= 1ull << (o % 64u);
	ps->nonempty |= 1ull << c;
	return 0;
}

static inline bool portset_del(struct portset *ps, uint32_t port)
{
	unsigned int c = port / PORTSET_CHUNK_PORTS, o = port % PORTSET_CHUNK_PORTS;
	uint64_t bit = 1ull << (o % 64u);
	bool had;

	if (port >= RULES_MAX_PORTS || !ps->chunk[c])
		return false;
	had = ps->chunk[c][o / 64u] & bit;
	ps->chunk[c][o / 64u] &= ~bit;
	return had;
}

/* Remove and return the lowest port in the set, or -1 when it is empty. */
static inline int64_t portset_pop(struct portset *ps)
{
	while (ps->nonempty) {
		unsigned int c = (unsigned int)__builtin_ctzll(ps->nonempty);

		for (unsigned int w = 0; w < PORTSET_CHUNK_WORDS; w++) {
			uint64_t x = ps->chunk[c][w];

			if (x) {
				ps->chunk[c][w] = x & (x - 1);
				return (int64_t)c * PORTSET_CHUNK_PORTS + w * 64u +
				       (unsigned int)__builtin_ctzll(x);
			}
		}
		ps->nonempty &= ~(1ull << c); /* found empty: keep its memory */
	}
	return -1;
}

static inline void portset_free(struct portset *ps)
{
	for (unsigned int c = 0; c < PORTSET_CHUNKS; c++)
		free(ps->chunk[c]);
	*ps = (struct portset){ 0 };
}

#endif /* EVTCHNX_SIM_PORTSET_H */
