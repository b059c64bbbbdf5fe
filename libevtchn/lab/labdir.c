/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/* labdir.c - lab paths, and starting a lab server on demand (labdir.h). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "evtchnx.h"
#include "labdir.h"

extern char **environ;

int lab_name_check(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > LAB_NAME_MAX || name[0] == '.' || name[0] == '-')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

static int private_dir(char *dir, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (xdg && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode))
		n = snprintf(dir, cap, "%s/evtchnx", xdg);
	else
		n = snprintf(dir, cap, "/tmp/evtchnx-%u", (unsigned int)geteuid());
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return -EACCES; /* not ours, or others could join */
	return 0;
}

int lab_paths_get(const char *name, struct lab_paths *p)
{
	char dir[sizeof(p->sock)];
	int err = lab_name_check(name);

	if (err)
		return err;
	err = private_dir(dir, sizeof(dir));
	if (err)
		return err;
	if ((size_t)snprintf(p->sock, sizeof(p->sock), "%s/%s.sock", dir, name) >= sizeof(p->sock) ||
	    (size_t)snprintf(p->lock, sizeof(p->lock), "%s/%s.lock", dir, name) >= sizeof(p->lock))
		return -ENAMETOOLONG;
	return 0;
}

int lab_lock(const char *lock_path)
{
	for (;;) {
		struct stat held, named;
		int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX) < 0) {
			int err = errno;

			close(fd);
			if (err == EINTR)
				continue;
			return -err;
		}
		if (fstat(fd, &held) == 0 && stat(lock_path, &named) == 0 &&
		    held.st_ino == named.st_ino && held.st_dev == named.st_dev)
			return fd;
		close(fd); /* removed while we waited: lock the new one */
	}
}

static struct sockaddr_un lab_addr(const struct lab_paths *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memcpy(sa.sun_path, p->sock, sizeof(sa.sun_path));
	return sa;
}

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83 /* Linux 6.16 */
#endif

int lab_listen(const struct lab_paths *p)
{
	struct sockaddr_un sa = lab_addr(p);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), no = 0;

	if (fd < 0)
		return -errno;
	/* Clients never pass descriptors.  Refused on the listening socket,
	 * before bind(), so that a connection inherits the refusal from its
	 * first message on, even one sent before the server accepts it. */
	(void)setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &no, sizeof(no));
	(void)unlink(p->sock); /* stale: the caller holds the lock */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int try_connect(const struct lab_paths *p)
{
	struct sockaddr_un sa = lab_addr(p);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int executable(char *out, size_t cap, const char *dir, const char *rel)
{
	if ((size_t)snprintf(out, cap, "%s/%s", dir, rel) >= cap)
		return 0;
	return access(out, X_OK) == 0;
}

/* $EVTCHNX_LABD; next to this library (installed layout, then build tree);
 * the configured install path. */
static int find_labd(char *out, size_t cap)
{
	const char *env = getenv("EVTCHNX_LABD");
	Dl_info info;

	if (env && env[0]) {
		snprintf(out, cap, "%s", env);
		return access(out, X_OK) == 0 ? 0 : -ENOENT;
	}
	if (dladdr((void *)find_labd, &info) && info.dli_fname) {
		char dir[PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", info.dli_fname);
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
#ifdef EVTCHNX_LABD_RELPATH
			if (executable(out, cap, dir, EVTCHNX_LABD_RELPATH))
				return 0;
#endif
			if (executable(out, cap, dir, "evtchnx-labd"))
				return 0;
		}
	}
#ifdef EVTCHNX_LABD_INSTALL_PATH
	snprintf(out, cap, "%s", EVTCHNX_LABD_INSTALL_PATH);
	if (access(out, X_OK) == 0)
		return 0;
#endif
	return -ENOENT;
}

/* Start evtchnx-labd for @name.  It listens before its first process exits,
 * so once that exit is seen a connect succeeds. */
static int spawn_server(const char *name, uint32_t flags)
{
	char path[PATH_MAX], owner[24];
	char *argv[] = { path, "--owner", owner, (char *)name, NULL, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid;
	int err, status;

	err = find_labd(path, sizeof(path));
	if (err)
		return err;
	snprintf(owner, sizeof(owner), "%d", (int)getpid());
	if (flags & EVTCHNX_OPEN_STRICT) { /* a strict lab, owned by us */
		argv[3] = "--strict";
		argv[4] = (char *)name;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	err = -posix_spawn(&pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err)
		return err;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 0; /* reaped elsewhere (SIGCHLD ignored): just try */
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -ECONNREFUSED;
	return 0;
}

int lab_connect(const char *name, uint32_t flags)
{
	struct lab_paths p;
	int err = lab_paths_get(name, &p);
	int fd, lock;

	if (err)
		return err;
	fd = try_connect(&p);
	if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED))
		return fd;
	if (flags & EVTCHNX_OPEN_NO_SPAWN)
		return -ECONNREFUSED;

	lock = lab_lock(p.lock);
	if (lock < 0)
		return lock;
	fd = try_connect(&p); /* someone else may have started it */
	if (fd >= 0)
		goto out;
	err = spawn_server(name, flags);
	if (err) {
		/* Leave no lock file behind for a lab that never started; a
		 * starter waiting on it takes the lock on the next file
		 * (lab_lock() checks). */
		unlink(p.lock);
		goto out;
	}
	for (int i = 0; i < 500; i++) { /* up to 5 s if the server was reaped elsewhere */
		fd = try_connect(&p);
		if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED))
			break;
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
	}
	err = fd;
out:
	close(lock); /* releases the flock */
	return fd >= 0 ? fd : err;
}
