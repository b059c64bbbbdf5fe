/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * private_lab.h - the target "sim": one lab per process, served by the same
 * server code as a shared lab, in a thread that lives while "sim" handles
 * exist.  Handles reach it through a socketpair like any other client.
 */
#ifndef EVTCHNX_SIM_PRIVATE_LAB_H
#define EVTCHNX_SIM_PRIVATE_LAB_H

/* A new connection to the process's private lab (started if needed), or a
 * negative errno.  Each success must be paired with private_lab_release(). */
int private_lab_connect(void);
/* Drop one reference; the last one stops the lab's thread. */
void private_lab_release(void);

/* pthread_atfork() handlers (registered by the core). */
void private_lab_prepare_fork(void);
void private_lab_parent_after_fork(void);
void private_lab_child_after_fork(void);

#endif /* EVTCHNX_SIM_PRIVATE_LAB_H */
