/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * unit.h - the checks shared by the unit tests of the sim's pure modules
 * (one executable per test file, so the counters can be static).
 */
#ifndef EVTCHNX_TESTS_UNIT_H
#define EVTCHNX_TESTS_UNIT_H

#include <stdio.h>

static int n_passed, n_failed, case_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("    %s:%d: check failed: %s\n", __FILE__,      \
			       __LINE__, #cond);                               \
			case_failed = 1;                                       \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_) {                                                \
			printf("    %s:%d: %s == %lld, expected %s == %lld\n", \
			       __FILE__, __LINE__, #a, a_, #b, b_);            \
			case_failed = 1;                                       \
		}                                                              \
	} while (0)

/* Run case @fn after @setup; print ok/FAIL and count it. */
#define UNIT_RUN(setup, fn)                                                    \
	do {                                                                   \
		case_failed = 0;                                               \
		setup;                                                         \
		fn();                                                          \
		printf("%s %s\n", case_failed ? "FAIL" : "ok  ", #fn);         \
		if (case_failed)                                               \
			n_failed++;                                            \
		else                                                           \
			n_passed++;                                            \
	} while (0)

/* The summary line; the exit status of main(). */
static inline int unit_summary(void)
{
	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed ? 1 : 0;
}

#endif /* EVTCHNX_TESTS_UNIT_H */
