/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * peer_guest.c - xenvm_peer, run in the guest domain: answers dom0's
 * requests (xpeer.h) on its own evtchnx handles until told to stop.
 */
#include <stdio.h>

#include "xpeer.h"

int main(void)
{
	int r = xp_serve();

	if (r < 0)
		printf("xenvm_peer: %s\n", evtchnx_strerror(r));
	return r < 0;
}
