/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * bench_scan.h - a status scan of a domain's ports through the public API,
 * shared by the benchmarks that time one (burst, ctl).
 */
#ifndef EVTCHNX_BENCH_SCAN_H
#define EVTCHNX_BENCH_SCAN_H

#include <stdint.h>
#include <string.h>

#include "evtchnx.h"

#include "bench_util.h"

#define BENCH_SCAN_MAX 4096u

/*
 * Describe ports 1 .. @nports of @dom, with evtchnx_status() on each
 * (@batch 0) or with evtchnx_status_batch() calls of up to @nports ports.
 * Returns the time it took in ns, or 0 when a port did not answer
 * @want_state (a call failed, or the port was in another state): the scan
 * did not do its work.
 */
static inline uint64_t bench_scan_status(struct evtchnx_handle *h, uint32_t dom,
					 unsigned int nports, int batch, uint32_t want_state)
{
	static struct evtchnx_status st[BENCH_SCAN_MAX];
	static uint32_t ports[BENCH_SCAN_MAX];
	uint64_t t0, t1;

	if (nports == 0 || nports > BENCH_SCAN_MAX)
		return 0;
	memset(st, 0, sizeof(st));
	for (unsigned int i = 0; i < nports; i++) {
		ports[i] = i + 1;
		st[i].sz = sizeof(st[i]);
	}
	t0 = bench_now_ns();
	if (batch) {
		for (unsigned int done = 0; done < nports;) {
			int r;

			st[done].sz = sizeof(st[done]);
			r = evtchnx_status_batch(h, dom, ports + done, st + done, nports - done);
			if (r <= 0)
				return 0;
			done += (unsigned int)r;
		}
	} else {
		for (unsigned int i = 0; i < nports; i++) {
			if (evtchnx_status(h, dom, ports[i], &st[i]) < 0)
				return 0;
		}
	}
	t1 = bench_now_ns();
	for (unsigned int i = 0; i < nports; i++) {
		if (st[i].state != want_state)
			return 0;
	}
	return t1 > t0 ? t1 - t0 : 1;
}

#endif /* EVTCHNX_BENCH_SCAN_H */
