/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * ctl - the control plane of a shared sim lab: status scans, setting up
 * many channels with single and batch calls, and opening handles.
 *
 *   scan     domain 0 describes the 4095 ports of domain 1 (all
 *            INTERDOMAIN): evtchnx_status() on each, and
 *            evtchnx_status_batch(); the floor is the same rules scanned
 *            in-process (libevtchn/rules/rules.c compiled into this
 *            program, a rules_lab set up the same way).
 *   open     a second handle on a running lab (open, then close), and the
 *            cold start: opening a new lab, which starts its server.
 *   set-up   64 domains in 32 pairs (0-1, 2-3, ...), 4095 channels per
 *            pair: domain 0 allocates each port in the pair's first domain
 *            offered to the second (evtchnx_alloc_unbound), the second
 *            binds it (evtchnx_bind_interdomain); with single calls on the
 *            first -d pairs only (scaled per channel to the full set), and
 *            with the batch calls on all 32 pairs.
 *
 * The kinds run interleaved in rounds; a round in which a kind, floor
 * included, did not do its work (a call failed, a port answered another
 * state) is invalid and left out of every figure.
 *
 * Usage: ctl [-r rounds] [-R set-up_rounds] [-d single_pairs] [-o opens]
 *            [-c cold_opens] [-t watchdog_s] [-v]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evtchnx.h"
#include "rules.h"

#include "bench_util.h"
#include "bench_scan.h"

#define MAX_ROUNDS 64
#define NPORTS 4095u /* every port of a domain but the reserved port 0 */
#define NPAIRS 32u   /* 64 domains, the control domain included */
#define SCAN_TARGET_MS 1.0
#define OPEN_TARGET_US 50.0
#define SETUP_TARGET 20.0 /* batch at least this many times faster */
/* Per kind and round, scans repeat until this much time went by (and at
 * least SCAN_MIN times); the round's figure is their median. */
#define SCAN_BUDGET_NS 100000000u
#define SCAN_MIN 5
#define SCAN_MAX 1001

struct conf {
	long rounds;
	long setup_rounds;
	long single_pairs;
	long opens;
	long cold;
	long watchdog;
	int verbose;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: ctl [-r rounds] [-R set-up_rounds] [-d single_pairs] [-o opens] "
		"[-c cold_opens] [-t watchdog_s] [-v]\n"
		"  -r  rounds of scans and opens, kinds interleaved (default 5)\n"
		"  -R  rounds of the 64-domain set-up (default 3)\n"
		"  -d  pairs of domains set up with single calls (default 2 of 32: the\n"
		"      pair with domain 0, and one more; the other 31 pairs are scaled\n"
		"      from the mean of those measured)\n"
		"  -o  opens of a second handle per round (default 200)\n"
		"  -c  cold starts (a new lab) per round (default 5)\n"
		"  -t  watchdog: give up after this many seconds (default 600)\n"
		"  -v  print more for every round\n");
}

/* ---- the in-process floor: the rules alone --------------------------- */

static void hook_event(void *ctx, const struct rules_event *ev)
{
	(void)ctx;
	(void)ev;
}

static void hook_changed(void *ctx, uint32_t owner, uint32_t port)
{
	(void)ctx;
	(void)owner;
	(void)port;
}

static void hook_channel(void *ctx, uint32_t a, uint32_t pa, uint32_t b, uint32_t pb, bool up)
{
	(void)ctx;
	(void)a;
	(void)pa;
	(void)b;
	(void)pb;
	(void)up;
}

struct rules_floor {
	struct rules_lab *lab;
	struct rules_handle h0, h1;
};

/* Domain 0 offers NPORTS ports to domain 1, which binds them all: domain
 * 1's ports 1 .. NPORTS are INTERDOMAIN, as in the evtchnx lab. */
static int rules_floor_setup(struct rules_floor *f)
{
	static const struct rules_hooks hooks = {
		.raise = hook_event, .clear = hook_event, .changed = hook_changed,
		.channel = hook_channel,
	};
	int r;

	f->lab = rules_lab_new(&hooks);
	if (!f->lab)
		return -ENOMEM;
	f->h0.id = 1;
	f->h1.id = 2;
	r = rules_join(f->lab, &f->h0, 0);
	if (r == 0)
		r = rules_join(f->lab, &f->h1, 1);
	for (unsigned int i = 0; r >= 0 && i < NPORTS; i++) {
		r = rules_alloc_unbound(f->lab, &f->h0, RULES_DOMID_SELF, 1);
		if (r >= 0)
			r = rules_bind_interdomain(f->lab, &f->h1, 0, (uint32_t)r);
	}
	return r < 0 ? r : 0;
}

/* The same scan as bench_scan_status(), on the rules. */
static uint64_t rules_floor_scan(struct rules_floor *f)
{
	static struct evtchnx_status st[NPORTS];
	uint64_t t0, t1;

	memset(st, 0, sizeof(st));
	for (unsigned int i = 0; i < NPORTS; i++)
		st[i].sz = sizeof(st[i]);
	t0 = bench_now_ns();
	for (unsigned int i = 0; i < NPORTS; i++) {
		if (rules_status(f->lab, &f->h0, 1, i + 1, &st[i]) < 0)
			return 0;
	}
	t1 = bench_now_ns();
	for (unsigned int i = 0; i < NPORTS; i++) {
		if (st[i].state != EVTCHNX_STATE_INTERDOMAIN)
			return 0;
	}
	return t1 > t0 ? t1 - t0 : 1;
}

/* ---- evtchnx set-up -------------------------------------------------- */

/* @n ports of @dom offered to @remote, with batch calls (more than one when
 * a call does fewer than asked). */
static int alloc_batch(struct evtchnx_handle *h, uint32_t dom, uint32_t remote, uint32_t *ports,
		       unsigned int n)
{
	for (unsigned int done = 0; done < n;) {
		int r = evtchnx_alloc_unbound_batch(h, dom, remote, ports + done, n - done);

		if (r <= 0)
			return r < 0 ? r : -EIO;
		done += (unsigned int)r;
	}
	return 0;
}

static int bind_batch(struct evtchnx_handle *h, uint32_t remote, const uint32_t *rports,
		      uint32_t *ports, unsigned int n)
{
	for (unsigned int done = 0; done < n;) {
		int r = evtchnx_bind_interdomain_batch(h, remote, rports + done, ports + done,
						       n - done);

		if (r <= 0)
			return r < 0 ? r : -EIO;
		done += (unsigned int)r;
	}
	return 0;
}

/* Ports 1 .. n returned, each once: the calls did their work. */
static int ports_ok(const uint32_t *ports, unsigned int n)
{
	static unsigned char seen[NPORTS + 2];

	memset(seen, 0, sizeof(seen));
	for (unsigned int i = 0; i < n; i++) {
		if (ports[i] == 0 || ports[i] > NPORTS + 1 || seen[ports[i]])
			return 0;
		seen[ports[i]] = 1;
	}
	return 1;
}

/*
 * One set-up kind in lab @target: the first @pairs pairs of domains, NPORTS
 * channels each, with single calls (@batch 0) or batch calls.  Only the
 * calls that set up channels are timed (not the opens), pair by pair into
 * @ns.  Returns 1 when every call did its work, 0 when a call failed or
 * returned a wrong port (the round is invalid), or a negative errno when
 * the lab could not be opened at all.
 */
static int setup_kind(const char *target, unsigned int pairs, int batch, uint64_t *ns)
{
	static uint32_t rports[NPORTS], lports[NPORTS];
	struct evtchnx_handle *h[2 * NPAIRS] = { NULL };
	int result = 0;
	int r = 0;

	for (unsigned int d = 0; d < 2 * pairs; d++) {
		struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = d };

		h[d] = evtchnx_open(target, &o);
		if (!h[d]) {
			fprintf(stderr, "ctl: evtchnx_open(%s, domid %u): %s\n", target, d,
				strerror(errno));
			result = -errno;
			goto out;
		}
	}
	for (unsigned int p = 0; p < pairs; p++) {
		uint32_t a = 2 * p, b = 2 * p + 1;
		uint64_t t0 = bench_now_ns();

		bench_iter = p;
		if (batch) {
			r = alloc_batch(h[0], a, b, rports, NPORTS);
			if (r == 0)
				r = bind_batch(h[b], a, rports, lports, NPORTS);
		} else {
			for (unsigned int i = 0; r >= 0 && i < NPORTS; i++) {
				r = evtchnx_alloc_unbound(h[0], a, b);
				if (r >= 0) {
					rports[i] = (uint32_t)r;
					r = evtchnx_bind_interdomain(h[b], a, rports[i]);
				}
				if (r >= 0)
					lports[i] = (uint32_t)r;
			}
		}
		ns[p] = bench_now_ns() - t0;
		if (r < 0) {
			printf("ctl: set-up with %s calls, pair %u-%u: %s: round invalid\n",
			       batch ? "batch" : "single", a, b, evtchnx_strerror(r));
			goto out;
		}
		if (!ports_ok(rports, NPORTS) || !ports_ok(lports, NPORTS)) {
			printf("ctl: set-up with %s calls, pair %u-%u: unexpected ports: round "
			       "invalid\n", batch ? "batch" : "single", a, b);
			goto out;
		}
	}
	result = 1;
out:
	for (unsigned int d = 2 * pairs; d-- > 0;)
		evtchnx_close(h[d]);
	return result;
}

/* ---- opens ------------------------------------------------------------ */

/* Open and close a handle of domain 1 on the running lab @target @n times:
 * the median open and close times in us, or -1 when one failed. */
static int warm_opens(const char *target, long n, double *open_us, double *close_us)
{
	uint64_t *o = calloc((size_t)n, sizeof(*o)), *c = calloc((size_t)n, sizeof(*c));
	struct evtchnx_open_opts opts = { .sz = sizeof(opts), .domid = 1 };
	int ret = -1;

	if (!o || !c)
		goto out;
	for (long i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns(), t1;
		struct evtchnx_handle *h = evtchnx_open(target, &opts);

		t1 = bench_now_ns();
		bench_iter = i + 1;
		if (!h) {
			printf("ctl: open #%ld of %s: %s: round invalid\n", i + 1, target,
			       strerror(errno));
			goto out;
		}
		evtchnx_close(h);
		o[i] = t1 - t0;
		c[i] = bench_now_ns() - t1;
	}
	*open_us = bench_median_u64(o, (size_t)n) / 1000.0;
	*close_us = bench_median_u64(c, (size_t)n) / 1000.0;
	ret = 0;
out:
	free(o);
	free(c);
	return ret;
}

/* Open @n new labs (each starts its server) and close them: the median
 * open time in us, or -1 when one failed. */
static int cold_opens(long round, long n, double *us)
{
	uint64_t v[64];
	char target[80];

	for (long i = 0; i < n && i < 64; i++) {
		uint64_t t0, t1;
		struct evtchnx_handle *h;

		snprintf(target, sizeof(target), "sim:bench-ctl-%d-cold-%ld-%ld", (int)getpid(),
			 round, i);
		t0 = bench_now_ns();
		h = evtchnx_open(target, NULL);
		t1 = bench_now_ns();
		if (!h) {
			printf("ctl: cold open of %s: %s: round invalid\n", target, strerror(errno));
			return -1;
		}
		evtchnx_close(h);
		v[i] = t1 - t0;
	}
	*us = bench_median_u64(v, (size_t)(n < 64 ? n : 64)) / 1000.0;
	return 0;
}

/* ---- rounds ----------------------------------------------------------- */

enum { K_RULES, K_STATUS, K_BATCH, K_OPEN, K_COLD, NK };

static const char *const k_name[NK] = {
	"in-process rules scan", "evtchnx_status scan", "evtchnx_status_batch scan",
	"open (running lab)", "open (new lab, cold)",
};

struct round {
	double v[NK];  /* scans: ms; opens: us */
	double close_us;
	int ok[NK];
	int nscans[3];
};

/* Scans of one kind for about SCAN_BUDGET_NS: the median in ms, 0 when a
 * scan did not do its work. */
static double scan_kind(int kind, struct rules_floor *f, struct evtchnx_handle *h, int *count)
{
	static uint64_t v[SCAN_MAX];
	uint64_t start = bench_now_ns();
	int n = 0;

	while (n < SCAN_MAX && (n < SCAN_MIN || bench_now_ns() - start < SCAN_BUDGET_NS)) {
		uint64_t ns = kind == K_RULES ? rules_floor_scan(f) :
			      bench_scan_status(h, 1, NPORTS, kind == K_BATCH,
						EVTCHNX_STATE_INTERDOMAIN);

		if (!ns)
			return 0;
		v[n++] = ns;
		bench_iter = n;
	}
	*count = n;
	return bench_median_u64(v, (size_t)n) / 1e6;
}

static struct bench_stat stat_of(const struct round *rd, size_t n, int kind, int ratio_to)
{
	double v[MAX_ROUNDS];
	unsigned char ok[MAX_ROUNDS];

	for (size_t k = 0; k < n; k++) {
		ok[k] = (unsigned char)(rd[k].ok[kind] && (ratio_to < 0 || rd[k].ok[ratio_to]));
		v[k] = ratio_to < 0 ? rd[k].v[kind] : rd[k].v[kind] / rd[k].v[ratio_to];
	}
	return bench_stat_valid(v, ok, n);
}

static void print_stat(const char *what, struct bench_stat st, const char *unit, int dec)
{
	if (st.valid)
		printf("ctl %-40s median %10.*f %s  min %10.*f  max %10.*f  (%zu of %zu rounds "
		       "valid)\n", what, dec, st.median, unit, dec, st.min, dec, st.max, st.valid,
		       st.rounds);
	else
		printf("ctl %-40s no valid round (of %zu)\n", what, st.rounds);
}

static void verdict_line(const char *what, struct bench_stat st, enum bench_target t,
			 double target, const char *unit)
{
	if (st.valid)
		printf("%s %.3f%s (target %s %g%s) %s%s\n", what, st.median, unit,
		       t == BENCH_AT_MOST ? "<=" : ">=", target, unit,
		       bench_verdict(st, t, target),
		       st.valid == st.rounds ? "" : " (over the valid rounds only)");
	else
		printf("%s n/a (target %s %g%s) INVALID (no valid round)\n", what,
		       t == BENCH_AT_MOST ? "<=" : ">=", target, unit);
}

int main(int argc, char **argv)
{
	struct conf cf = { .rounds = 5, .setup_rounds = 3, .single_pairs = 2, .opens = 200,
			   .cold = 5, .watchdog = 600 };
	static struct round rd[MAX_ROUNDS];
	static double su[MAX_ROUNDS][2]; /* set-up: ns per channel, single and batch */
	static unsigned char sok[MAX_ROUNDS][2];
	static uint32_t rports[NPORTS], lports[NPORTS];
	struct rules_floor f = { 0 };
	struct evtchnx_handle *h0 = NULL, *h1 = NULL;
	char target[64];
	int opt, r, ret = 1;

	while ((opt = getopt(argc, argv, "r:R:d:o:c:t:vh")) != -1) {
		switch (opt) {
		case 'r': cf.rounds = bench_parse_pos("-r", optarg, MAX_ROUNDS); break;
		case 'R': cf.setup_rounds = bench_parse_pos("-R", optarg, MAX_ROUNDS); break;
		case 'd': cf.single_pairs = bench_parse_pos("-d", optarg, NPAIRS); break;
		case 'o': cf.opens = bench_parse_pos("-o", optarg, 1000000L); break;
		case 'c': cf.cold = bench_parse_pos("-c", optarg, 64); break;
		case 't': cf.watchdog = bench_parse_pos("-t", optarg, 86400L); break;
		case 'v': cf.verbose = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	bench_install_signals("ctl", (unsigned int)cf.watchdog);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(target, sizeof(target), "sim:bench-ctl-%d", (int)getpid());

	/* The scan lab: domain 0 offers NPORTS ports to domain 1, which binds
	 * them all; the rules floor likewise. */
	bench_set_phase("set-up of the scan lab", 0);
	r = rules_floor_setup(&f);
	if (r < 0) {
		fprintf(stderr, "ctl: rules set-up: %s\n", strerror(-r));
		goto out;
	}
	h0 = evtchnx_open(target, NULL);
	if (h0) {
		struct evtchnx_open_opts o = { .sz = sizeof(o), .domid = 1 };

		h1 = evtchnx_open(target, &o);
	}
	if (!h0 || !h1) {
		fprintf(stderr, "ctl: evtchnx_open(%s): %s\n", target, strerror(errno));
		goto out;
	}
	r = alloc_batch(h0, EVTCHNX_DOMID_SELF, 1, rports, NPORTS);
	if (r == 0)
		r = bind_batch(h1, 0, rports, lports, NPORTS);
	if (r < 0) {
		fprintf(stderr, "ctl: set-up of the scan lab: %s\n", evtchnx_strerror(r));
		goto out;
	}

	printf("ctl: nproc %ld, evtchnx %s, lab %s, scans of %u ports x %ld rounds, opens %ld "
	       "+ %ld cold per round, set-up of %u domains x %u ports x %ld rounds (single calls "
	       "on %ld of %u pairs, scaled), figures are medians of the valid rounds\n",
	       sysconf(_SC_NPROCESSORS_ONLN), evtchnx_version(), target, NPORTS, cf.rounds,
	       cf.opens, cf.cold, 2 * NPAIRS, NPORTS, cf.setup_rounds, cf.single_pairs, NPAIRS);
	bench_warn_load();

	for (long k = 0; k < cf.rounds; k++) {
		struct round *v = &rd[k];

		for (int j = 0; j < NK; j++) {
			int kind = (int)((k + j) % NK); /* rotate who goes first */

			bench_set_phase(k_name[kind], k + 1);
			if (kind == K_OPEN) {
				v->ok[kind] = warm_opens(target, cf.opens, &v->v[kind],
							 &v->close_us) == 0;
			} else if (kind == K_COLD) {
				v->ok[kind] = cold_opens(k + 1, cf.cold, &v->v[kind]) == 0;
			} else {
				v->v[kind] = scan_kind(kind, &f, h0, &v->nscans[kind]);
				v->ok[kind] = v->v[kind] > 0;
				if (!v->ok[kind])
					printf("ctl: round %ld: a %s did not describe every port "
					       "as INTERDOMAIN: round invalid for it\n", k + 1,
					       k_name[kind]);
			}
		}
		printf("ctl round %ld: scan rules %.4f%s  status %.3f%s  status_batch %.3f%s ms;  "
		       "open %.1f%s  cold %.0f%s us\n", k + 1, v->v[K_RULES],
		       v->ok[K_RULES] ? "" : " INVALID", v->v[K_STATUS],
		       v->ok[K_STATUS] ? "" : " INVALID", v->v[K_BATCH],
		       v->ok[K_BATCH] ? "" : " INVALID", v->v[K_OPEN],
		       v->ok[K_OPEN] ? "" : " INVALID", v->v[K_COLD],
		       v->ok[K_COLD] ? "" : " INVALID");
		if (cf.verbose)
			printf("  round %ld: scans per kind: rules %d, status %d, status_batch %d; "
			       "close %.1f us\n", k + 1, v->nscans[K_RULES], v->nscans[K_STATUS],
			       v->nscans[K_BATCH], v->close_us);
	}

	for (long k = 0; k < cf.setup_rounds; k++) {
		for (int j = 0; j < 2; j++) {
			int batch = (int)((k + j) % 2);
			unsigned int pairs = batch ? NPAIRS : (unsigned int)cf.single_pairs;
			static uint64_t pair_ns[NPAIRS];
			char lab[80];
			double full;

			bench_set_phase(batch ? "set-up with batch calls" :
						"set-up with single calls", k + 1);
			snprintf(lab, sizeof(lab), "sim:bench-ctl-%d-setup-%ld-%d", (int)getpid(),
				 k + 1, batch);
			r = setup_kind(lab, pairs, batch, pair_ns);
			if (r < 0)
				goto out;
			sok[k][batch] = (unsigned char)r;
			/* The full set: pair 0 (domain 0's own ports) as measured,
			 * the other 31 as the mean of those measured. */
			full = (double)pair_ns[0];
			if (pairs > 1) {
				double rest = 0;

				for (unsigned int p = 1; p < pairs; p++)
					rest += (double)pair_ns[p];
				full += rest / (pairs - 1) * (NPAIRS - 1);
			} else {
				full *= NPAIRS;
			}
			su[k][batch] = full / ((double)NPAIRS * NPORTS);
		}
		printf("ctl set-up round %ld: single calls %.2f us/channel%s (%ld pairs), batch "
		       "calls %.2f us/channel%s (%u pairs)", k + 1, su[k][0] / 1000.0,
		       sok[k][0] ? "" : " INVALID", cf.single_pairs, su[k][1] / 1000.0,
		       sok[k][1] ? "" : " INVALID", NPAIRS);
		if (sok[k][0] && sok[k][1])
			printf("  single/batch %.2f %s\n", su[k][0] / su[k][1],
			       bench_pass(su[k][0] / su[k][1] >= SETUP_TARGET));
		else
			printf("  single/batch INVALID\n");
	}

	{
		size_t n = (size_t)cf.rounds, ns = (size_t)cf.setup_rounds;
		struct bench_stat s[NK], rs = stat_of(rd, n, K_STATUS, K_RULES),
					 rb = stat_of(rd, n, K_BATCH, K_RULES);
		struct bench_stat sp, sg, sb, fs, fb, cl;
		double v[MAX_ROUNDS], w[MAX_ROUNDS], x[MAX_ROUNDS], y[MAX_ROUNDS], z[MAX_ROUNDS];
		unsigned char both[MAX_ROUNDS], ok0[MAX_ROUNDS], ok1[MAX_ROUNDS], okc[MAX_ROUNDS];

		for (int i = 0; i < NK; i++)
			s[i] = stat_of(rd, n, i, -1);
		for (size_t k = 0; k < n; k++) {
			z[k] = rd[k].close_us;
			okc[k] = (unsigned char)rd[k].ok[K_OPEN];
		}
		cl = bench_stat_valid(z, okc, n);
		for (size_t k = 0; k < ns; k++) {
			ok0[k] = sok[k][0];
			ok1[k] = sok[k][1];
			both[k] = sok[k][0] && sok[k][1];
			v[k] = both[k] ? su[k][0] / su[k][1] : 0;
			w[k] = su[k][0] / 1000.0;
			x[k] = su[k][1] / 1000.0;
			y[k] = su[k][0] * NPAIRS * NPORTS / 1e9;
		}
		sp = bench_stat_valid(v, both, ns);
		sg = bench_stat_valid(w, ok0, ns);
		sb = bench_stat_valid(x, ok1, ns);
		fs = bench_stat_valid(y, ok0, ns);
		for (size_t k = 0; k < ns; k++)
			y[k] = su[k][1] * NPAIRS * NPORTS / 1e9;
		fb = bench_stat_valid(y, ok1, ns);

		print_stat("in-process rules scan (floor)", s[K_RULES], "ms", 4);
		print_stat("evtchnx_status scan", s[K_STATUS], "ms", 3);
		print_stat("evtchnx_status_batch scan", s[K_BATCH], "ms", 3);
		print_stat("evtchnx_status scan / rules scan", rs, "x ", 1);
		print_stat("evtchnx_status_batch scan / rules scan", rb, "x ", 1);
		print_stat("open of a second handle", s[K_OPEN], "us", 1);
		print_stat("close of that handle", cl, "us", 1);
		print_stat("open of a new lab (cold start)", s[K_COLD], "us", 0);
		print_stat("set-up, single calls, per channel", sg, "us", 2);
		print_stat("set-up, batch calls, per channel", sb, "us", 2);
		printf("ctl set-up of the full set (%u domains x %u ports): single calls %.2f s "
		       "(scaled: measured on %ld of %u pairs, pair 0-1 as measured and the "
		       "others at the mean of those measured), batch calls %.2f s (all measured)"
		       "\n", 2 * NPAIRS, NPORTS, fs.median, cf.single_pairs, NPAIRS, fb.median);
		verdict_line("ratio evtchnx_status-scan", s[K_STATUS], BENCH_AT_MOST,
			     SCAN_TARGET_MS, " ms");
		verdict_line("ratio evtchnx_status_batch-scan", s[K_BATCH], BENCH_AT_MOST,
			     SCAN_TARGET_MS, " ms");
		printf("ratio evtchnx_status-scan/rules-scan %.1f (report only)\n", rs.median);
		printf("ratio evtchnx_status_batch-scan/rules-scan %.1f (report only)\n", rb.median);
		verdict_line("ratio open-second-handle", s[K_OPEN], BENCH_AT_MOST, OPEN_TARGET_US,
			     " us");
		printf("ratio cold-open %.0f us (report only)\n", s[K_COLD].median);
		verdict_line("ratio set-up single/batch", sp, BENCH_AT_LEAST, SETUP_TARGET, "");

		bench_result("ctl.status_scan_ms", s[K_STATUS], BENCH_AT_MOST, SCAN_TARGET_MS, 3);
		bench_result("ctl.status_batch_scan_ms", s[K_BATCH], BENCH_AT_MOST, SCAN_TARGET_MS,
			     3);
		bench_result("ctl.rules_scan_ms", s[K_RULES], BENCH_REPORT, 0, 4);
		bench_result("ctl.status_scan_rules_ratio", rs, BENCH_REPORT, 0, 1);
		bench_result("ctl.status_batch_scan_rules_ratio", rb, BENCH_REPORT, 0, 1);
		bench_result("ctl.open_us", s[K_OPEN], BENCH_AT_MOST, OPEN_TARGET_US, 1);
		bench_result("ctl.close_us", cl, BENCH_REPORT, 0, 1);
		bench_result("ctl.cold_open_us", s[K_COLD], BENCH_REPORT, 0, 0);
		bench_result("ctl.setup_speedup", sp, BENCH_AT_LEAST, SETUP_TARGET, 2);
		bench_result("ctl.setup_single_us_per_channel", sg, BENCH_REPORT, 0, 2);
		bench_result("ctl.setup_batch_us_per_channel", sb, BENCH_REPORT, 0, 2);
		bench_result("ctl.setup_single_full_s_scaled", fs, BENCH_REPORT, 0, 2);
		bench_result("ctl.setup_batch_full_s", fb, BENCH_REPORT, 0, 2);
	}
	ret = 0;
out:
	bench_set_phase("tear-down", 0);
	evtchnx_close(h1);
	evtchnx_close(h0);
	if (f.lab)
		rules_lab_free(f.lab);
	return ret;
}
