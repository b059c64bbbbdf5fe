/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/* proto.c - message framing with descriptor passing (see proto.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "proto.h"

union fd_cmsg {
	struct cmsghdr hdr;
	char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
};

int proto_send(int sock, const void *buf, size_t len, const int *fds,
	       unsigned int nfds)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	union fd_cmsg cm;
	ssize_t n;

	if (nfds > PROTO_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

ssize_t proto_recv(int sock, void *buf, size_t cap, int *fds,
		   unsigned int *nfds)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	union fd_cmsg cm;
	ssize_t n;

	*nfds = 0;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned int k = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int got[PROTO_MAX_FDS * 2];

		if (k > PROTO_MAX_FDS * 2)
			k = PROTO_MAX_FDS * 2;
		memcpy(got, CMSG_DATA(c), sizeof(int) * k);
		for (unsigned int i = 0; i < k; i++) {
			if (*nfds < PROTO_MAX_FDS)
				fds[(*nfds)++] = got[i];
			else
				close(got[i]);
		}
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (unsigned int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return -EMSGSIZE;
	}
	return n;
}

static int shared_page(const char *name, size_t size, void **map,
		       bool writers_sealed)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), err;
	void *m = NULL;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	if (map) {
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			m = NULL;
			goto fail;
		}
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL |
		  (writers_sealed ? F_SEAL_FUTURE_WRITE : 0)) < 0)
		goto fail;
	if (map)
		*map = m;
	return fd;
fail:
	err = -errno;
	if (m)
		munmap(m, size);
	close(fd);
	return err;
}

int proto_shared_page(const char *name, size_t size, void **map)
{
	return shared_page(name, size, map, false);
}

int proto_published_page(const char *name, size_t size, void **map)
{
	return shared_page(name, size, map, true);
}

int proto_reopen_ro(int memfd)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
