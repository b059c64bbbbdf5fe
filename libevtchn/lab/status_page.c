/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/* status_page.c - the lab server's side of the status page (status_page.h). */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto.h"
#include "status_page.h"

int status_page_create(struct status_page_writer *w)
{
	void *map;
	int fd = proto_published_page("evtchnx-status", STATUS_PAGE_SIZE, &map);

	if (fd < 0)
		return fd;
	w->fd = fd;
	w->sp = map;
	w->ro_fd = proto_reopen_ro(fd);
	if (w->ro_fd < 0) {
		int err = w->ro_fd;

		status_page_destroy(w);
		return err;
	}
	/* A private lab's child after fork() must not inherit a writer. */
	(void)madvise(map, STATUS_PAGE_SIZE, MADV_DONTFORK);
	return 0;
}

void status_page_destroy(struct status_page_writer *w)
{
	if (w->sp)
		munmap(w->sp, STATUS_PAGE_SIZE);
	if (w->fd >= 0)
		close(w->fd);
	if (w->ro_fd >= 0)
		close(w->ro_fd);
	w->sp = NULL;
	w->fd = w->ro_fd = -1;
}

/* A sequence lock's writer side (Boehm's formulation for C11). */
static void write_begin(struct status_page_slot *sl)
{
	uint32_t seq = atomic_load_explicit(&sl->seq, memory_order_relaxed);

	atomic_store_explicit(&sl->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void write_end(struct status_page_slot *sl)
{
	uint32_t seq = atomic_load_explicit(&sl->seq, memory_order_relaxed);

	atomic_store_explicit(&sl->seq, seq + 1, memory_order_release);
}

static struct status_page_slot *slot_of(struct status_page_writer *w,
					uint16_t domid, unsigned int *index)
{
	unsigned int slot = atomic_load_explicit(&w->sp->dir[domid], memory_order_relaxed);

	if (!slot)
		return NULL;
	*index = slot - 1;
	return &w->sp->slot[slot - 1];
}

int status_page_domain(struct status_page_writer *w, uint16_t domid,
		       uint32_t nr_ports)
{
	struct status_page *sp = w->sp;
	struct status_page_slot *sl;
	unsigned int i;

	if (!sp || domid >= RULES_DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (nr_ports > RULES_MAX_PORTS)
		nr_ports = RULES_MAX_PORTS;
	sl = slot_of(w, domid, &i);
	if (sl && nr_ports) { /* the table grew */
		write_begin(sl);
		atomic_store_explicit(&sl->nr_ports, nr_ports, memory_order_relaxed);
		write_end(sl);
		return 0;
	}
	if (sl) { /* the domain went away: its entries start clean for the next */
		_Atomic uint64_t *e = status_page_entries(sp, i);
		uint32_t nr = atomic_load_explicit(&sl->nr_ports, memory_order_relaxed);

		atomic_store_explicit(&sp->dir[domid], 0, memory_order_release);
		write_begin(sl);
		for (uint32_t p = 0; p < nr && p < RULES_MAX_PORTS; p++)
			atomic_store_explicit(&e[p], 0, memory_order_relaxed);
		atomic_store_explicit(&sl->domid1, 0, memory_order_relaxed);
		atomic_store_explicit(&sl->nr_ports, 0, memory_order_relaxed);
		write_end(sl);
		return 0;
	}
	if (!nr_ports)
		return 0;
	for (i = 0; i < STATUS_PAGE_SLOTS; i++)
		if (!atomic_load_explicit(&sp->slot[i].domid1, memory_order_relaxed))
			break;
	if (i == STATUS_PAGE_SLOTS)
		return -ENOSPC;
	sl = &sp->slot[i];
	write_begin(sl);
	atomic_store_explicit(&sl->domid1, (uint32_t)domid + 1, memory_order_relaxed);
	atomic_store_explicit(&sl->nr_ports, nr_ports, memory_order_relaxed);
	write_end(sl);
	atomic_store_explicit(&sp->dir[domid], (uint8_t)(i + 1), memory_order_release);
	return 0;
}

void status_page_port(struct status_page_writer *w, uint16_t domid,
		      uint32_t port, const struct evtchnx_status *st)
{
	struct status_page_slot *sl;
	unsigned int i;

	if (!w->sp || domid >= RULES_DOMID_FIRST_RESERVED || port >= RULES_MAX_PORTS ||
	    !(sl = slot_of(w, domid, &i)))
		return;
	write_begin(sl);
	atomic_store_explicit(&status_page_entries(w->sp, i)[port],
			      status_page_pack(st), memory_order_relaxed);
	write_end(sl);
}
