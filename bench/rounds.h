/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * rounds.h - helpers of the round-trip benchmarks that run in rounds: the
 * median of the per-round figures, and rounds that shrink when the host
 * slows down.
 */
#ifndef EVTCHNX_BENCH_ROUNDS_H
#define EVTCHNX_BENCH_ROUNDS_H

#include <stdio.h>
#include <stdlib.h>

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @v[0..n-1], n >= 1; leaves @v sorted. */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The round trips per kind for the next round: @n, or fewer when the last
 * round (@last_round, in any unit, of @n + @warm round trips per kind) says
 * that @rounds_left more rounds of @n would not fit in @left (same unit);
 * never fewer than 10.  Says so on stdout before round @next.
 */
static inline long bench_fit_round(long n, long warm, double last_round,
				   double left, long rounds_left, long next)
{
	double per = last_round / (double)(n + warm) * 1.25;
	long fits = (long)(left / (double)rounds_left / per) - warm;

	if (fits < 10)
		fits = 10;
	if (fits >= n)
		return n;
	printf("BENCH the host slowed down: %ld round trips per kind from round %ld\n",
	       fits, next);
	return fits;
}

#endif /* EVTCHNX_BENCH_ROUNDS_H */
