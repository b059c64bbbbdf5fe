/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * xpeer.h - one side of a two-domain test: a handle in this process, or a
 * handle in the guest domain driven over the guest's console.
 *
 * On real Xen, dom0's test program and the guest's xenvm_peer talk over the
 * guest's PV console, a channel outside the event channels under test:
 * dom0 opens the console's pty (xenconsoled's, named in xenstore) and
 * writes one request a line ("SEQ OP ARGS..."); the guest reads it on hvc0,
 * runs it on its own handles and prints the answer line
 * ("@@XP SEQ RESULT VALUES...").  Anything else on the console (kernel
 * messages, a request echoed before the peer ran) is skipped by dom0.  On
 * the sim the "guest" is just another domain of the same lab, called
 * directly, so the same cases and sequences run on both.
 */
#ifndef EVTCHNX_XPEER_H
#define EVTCHNX_XPEER_H

#include <stdbool.h>
#include <stdint.h>

#include "evtchnx.h"

#define XP_MAXV 72 /* values in one answer */

/* A side: local (h set) or remote (the guest's handle number idx). */
struct xp_side {
	struct evtchnx_handle *h;
	int idx;
	bool remote;
};

/* dom0: connect to the guest named by $EVTCHNX_XEN_GUEST (waits for its
 * peer to answer); 0 or a negative errno. */
int xp_connect(int timeout_ms);
/* The guest's domid (after xp_connect), or -1 when there is none. */
int xp_guest(void);
/* Send one request (printf-style) and wait for the answer: its result, and
 * up to XP_MAXV further values in @v (may be NULL); *nv gets their count.
 * A transport failure ends the program (exit 3). */
__attribute__((format(printf, 3, 4))) long xp_call(long *v, int *nv,
						   const char *fmt, ...);

/* The same in two steps, for a request the guest answers only after
 * dom0 has done something meanwhile (the round-trip benchmark). */
__attribute__((format(printf, 1, 2))) void xp_post(const char *fmt, ...);
long xp_collect(long *v, int *nv, int timeout_ms);

/* With the guest's console only: take one event of a libxenevtchn handle
 * within @timeout_ms and unmask it (the raw round trip's step); the port
 * or a negative errno. */
struct xenevtchn_handle;
int xp_raw_take(struct xenevtchn_handle *x, int timeout_ms);

/* A side around a handle of this process. */
void xs_local(struct xp_side *s, struct evtchnx_handle *h);
/* A new handle in the guest; 0 or a negative errno. */
int xs_remote(struct xp_side *s);
/* Close the side's handle (the local one too). */
void xs_close_side(struct xp_side *s);

/* Operations on a side; negative errno results also set errno. */
int xs_domid(struct xp_side *s);
int xs_alloc(struct xp_side *s, uint32_t dom, uint32_t rdom);
int xs_bind(struct xp_side *s, uint32_t rdom, uint32_t rport);
int xs_virq(struct xp_side *s, uint32_t virq);
int xs_send(struct xp_side *s, uint32_t port);
int xs_unbind(struct xp_side *s, uint32_t port);
int xs_unmask(struct xp_side *s, uint32_t port);
int xs_ispend(struct xp_side *s, uint32_t port);
int xs_pending(struct xp_side *s);
int xs_wait(struct xp_side *s, int timeout_ms);
/* Up to @n (<= 64) ports into @ports. */
int xs_batch(struct xp_side *s, uint32_t *ports, int n);
int xs_status(struct xp_side *s, uint32_t dom, uint32_t port,
	      struct evtchnx_status *st);
int xs_reset(struct xp_side *s, uint32_t dom);
/* A poll of the side's fd for @timeout_ms: 1 readable, 0 not. */
int xs_readable(struct xp_side *s, int timeout_ms);

/* The guest's loop: answer dom0's requests until "exit". */
int xp_serve(void);

#endif /* EVTCHNX_XPEER_H */
