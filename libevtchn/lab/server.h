/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * server.h - the lab server: owns one lab's rules state and serves its
 * handles over proto.h.  The same code runs in the evtchnx-labd process for
 * a shared lab "sim:NAME" and in a thread of the process for "sim".
 */
#ifndef EVTCHNX_SIM_SERVER_H
#define EVTCHNX_SIM_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

struct lab_server;

struct lab_server_config {
	/* Shared lab: the listening socket, the paths to retire with, and how
	 * long to stay once the last handle has gone.  -1/NULL otherwise. */
	int listen_fd;
	const char *sock_path;
	const char *lock_path;
	unsigned int grace_ms;
	/* Shared lab: stay until a first handle came (else the grace period
	 * runs from the start too). */
	bool wait_first;
	/* Shared lab: never retire when idle (only a signal ends it). */
	bool keep;
	/* Private lab: a socket on which new client connections arrive as
	 * passed descriptors; the server ends when it is closed and no
	 * handle is left.  -1 otherwise. */
	int door_fd;
	/* Private lab: held while the server handles what it was woken for,
	 * so that fork() (which takes it first) never copies the server in
	 * the middle of a change.  NULL otherwise. */
	pthread_mutex_t *busy;
	/* Shared lab: a signalfd; when it is readable the lab shuts down at
	 * once (its files removed, its handles told).  -1 otherwise. */
	int signal_fd;
	/* Strict lab: joining as a domain takes its token; domain 0 is also
	 * open to process @owner (the one that started the lab). */
	bool strict;
	pid_t owner;
	/* Limits; 0 takes the default (LAB_DEFAULT_*). */
	unsigned int max_handles;       /* joined handles in the lab */
	unsigned int max_per_process;   /* joined handles of one process */
	unsigned int hello_timeout_ms;  /* a connection's time to say HELLO */
};

/* The defaults of the limits (documented in include/evtchnx.h). */
#define LAB_DEFAULT_MAX_HANDLES 4096u
#define LAB_DEFAULT_MAX_PER_PROCESS 1024u
#define LAB_DEFAULT_HELLO_TIMEOUT_MS 5000u
/* Connections that have not said HELLO yet, beyond the joined handles. */
#define LAB_MAX_GREETING 64u

/* Returns NULL with errno set on failure.  Takes ownership of the fds, also
 * on failure. */
struct lab_server *lab_server_new(const struct lab_server_config *cfg);
/* Serve until the lab retires.  Returns 0, or a negative errno. */
int lab_server_run(struct lab_server *s);
void lab_server_free(struct lab_server *s);
/* In a child after fork(): close every descriptor the server holds,
 * without touching its memory (another thread of the parent owned it). */
void lab_server_forget(struct lab_server *s);

#endif /* EVTCHNX_SIM_SERVER_H */
