/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/* private_lab.c - the in-process lab of target "sim" (private_lab.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "private_lab.h"
#include "proto.h"
#include "server.h"

/* The process's one private lab: process-wide by definition. */
static struct {
	pthread_mutex_t lock;
	pthread_mutex_t busy; /* held by the server while it works (server.h) */
	unsigned int refs;
	int door; /* our end of the door: new connections are passed here */
	pthread_t thread;
	struct lab_server *server;
} lab = { .lock = PTHREAD_MUTEX_INITIALIZER, .busy = PTHREAD_MUTEX_INITIALIZER,
	.door = -1 };

static void *serve(void *arg)
{
	(void)lab_server_run(arg);
	return NULL;
}

static int start(void)
{
	struct lab_server_config cfg = { .listen_fd = -1, .door_fd = -1, .signal_fd = -1 };
	int door[2], err;
	sigset_t all, old;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, door) < 0)
		return -errno;
	cfg.door_fd = door[1];
	cfg.busy = &lab.busy;
	lab.server = lab_server_new(&cfg); /* owns door[1], also on failure */
	if (!lab.server) {
		err = -errno;
		close(door[0]);
		return err;
	}
	/* The server thread takes no signals: they belong to the application. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&lab.thread, NULL, serve, lab.server);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		lab_server_free(lab.server); /* closes door[1] */
		lab.server = NULL;
		close(door[0]);
		return err;
	}
	lab.door = door[0];
	return 0;
}

static void stop(void)
{
	close(lab.door); /* the server ends once its clients are gone */
	lab.door = -1;
	pthread_join(lab.thread, NULL);
	lab_server_free(lab.server);
	lab.server = NULL;
}

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83 /* Linux 6.16 */
#endif

int private_lab_connect(void)
{
	int sv[2], err = 0, no = 0;
	char byte = 0;

	pthread_mutex_lock(&lab.lock);
	if (lab.refs == 0)
		err = start();
	if (err)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		err = -errno;
		goto out_stop;
	}
	/* The server's end refuses passed descriptors from the first message
	 * on, as a shared lab's listening socket makes its connections do. */
	(void)setsockopt(sv[1], SOL_SOCKET, SO_PASSRIGHTS, &no, sizeof(no));
	err = proto_send(lab.door, &byte, 1, &sv[1], 1);
	close(sv[1]);
	if (err) {
		close(sv[0]);
		goto out_stop;
	}
	lab.refs++;
	pthread_mutex_unlock(&lab.lock);
	return sv[0];

out_stop:
	if (lab.refs == 0)
		stop();
out:
	pthread_mutex_unlock(&lab.lock);
	return err;
}

void private_lab_release(void)
{
	pthread_mutex_lock(&lab.lock);
	if (lab.refs && --lab.refs == 0)
		stop();
	pthread_mutex_unlock(&lab.lock);
}

void private_lab_prepare_fork(void)
{
	pthread_mutex_lock(&lab.lock);
	pthread_mutex_lock(&lab.busy);
}

void private_lab_parent_after_fork(void)
{
	pthread_mutex_unlock(&lab.busy);
	pthread_mutex_unlock(&lab.lock);
}

/* The child has no server thread: it starts afresh.  The server's
 * descriptors are closed (the child can use none of them); its memory is
 * left behind (it cannot be freed safely here). */
void private_lab_child_after_fork(void)
{
	lab_server_forget(lab.server);
	if (lab.door >= 0)
		close(lab.door);
	lab.door = -1;
	lab.refs = 0;
	lab.server = NULL;
	pthread_mutex_init(&lab.lock, NULL);
	pthread_mutex_init(&lab.busy, NULL);
}
