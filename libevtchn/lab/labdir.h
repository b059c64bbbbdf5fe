/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * labdir.h - where shared labs live and how a handle reaches one.
 *
 * A lab NAME is served on the socket DIR/NAME.sock, where DIR is
 * $XDG_RUNTIME_DIR/evtchnx or /tmp/evtchnx-UID, a directory of mode 0700
 * owned by the user (anything else is refused with -EACCES).  DIR/NAME.lock
 * serialises starting and retiring the lab's server.
 */
#ifndef EVTCHNX_SIM_LABDIR_H
#define EVTCHNX_SIM_LABDIR_H

#include <stdint.h>
#include <sys/un.h>

#define LAB_NAME_MAX 64

struct lab_paths {
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lock[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* 0 if NAME is 1-64 characters of [A-Za-z0-9._-] not starting with '.' or
 * '-' (so that no name reads as an option of evtchnx-labd). */
int lab_name_check(const char *name);
/* Fill @p for lab @name, creating and checking the directory. */
int lab_paths_get(const char *name, struct lab_paths *p);
/* Take the lab's lock (blocking).  Returns the locked fd, to be closed to
 * unlock, or a negative errno.  A retiring server removes the lock file while
 * holding it; this takes the lock only on the file that is in place. */
int lab_lock(const char *lock_path);
/* Bind and listen on p->sock, replacing a stale socket file.  The caller
 * holds the lab's lock.  Returns the listening fd or a negative errno. */
int lab_listen(const struct lab_paths *p);
/* Connect to lab @name, starting its server first unless
 * EVTCHNX_OPEN_NO_SPAWN is in @flags.  Returns a connected socket or a
 * negative errno. */
int lab_connect(const char *name, uint32_t flags);

#endif /* EVTCHNX_SIM_LABDIR_H */
