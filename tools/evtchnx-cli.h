/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx-cli.h - declarations shared by the source files of the evtchnx
 * command-line tool (evtchnx.c and evtchnx-*.c).
 */
#ifndef EVTCHNX_CLI_H
#define EVTCHNX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "evtchnx.h"

/* Exit statuses of every command. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_NOLAB 3   /* no lab given, or the lab is not running */
#define CLI_EXIT_TIMEOUT 4 /* no event within --timeout */

/*
 * Print "evtchnx: MESSAGE: ERRNO-TEXT" on stderr, where the message names
 * the call that failed and the text comes from evtchnx_strerror(err) (err
 * may be negative or positive).  Returns CLI_EXIT_FAIL.
 */
int cli_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print "evtchnx: MESSAGE" on stderr.  Returns CLI_EXIT_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "evtchnx: MESSAGE" and a hint to use --help.  Returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse a decimal number in [0, max].  Returns 0 or -EINVAL. */
int cli_parse_ulong(const char *s, unsigned long max, unsigned long *out);
/* The arguments of `lab start` and `lab serve` (@verb): [--grace-ms MS]
 * NAME.  Returns -1 with *name and *grace (NULL: none) set, or the exit
 * code to end with (after --help, or a usage error). */
int cli_lab_args(int argc, char **argv, const char *verb, const char **name,
		 const char **grace);
/* Parse a domain id: a decimal number up to 0xFFFF, or "self"
 * (EVTCHNX_DOMID_SELF).  Returns 0 or -EINVAL. */
int cli_parse_domid(const char *s, uint32_t *out);
/* Parse a duration in seconds ("2", "0.25").  Returns 0 or -EINVAL. */
int cli_parse_seconds(const char *s, double max, double *out);

/* CLOCK_MONOTONIC in nanoseconds (the same clock in every process). */
uint64_t cli_now_ns(void);
/* Sleep for @ns nanoseconds (restarted after signals). */
void cli_sleep_ns(uint64_t ns);

/* Symbolic name of an errno value ("ESRCH"; negative values work too), or
 * "E?" for one this tool does not know. */
const char *cli_errno_name(int err);

/* Lower-case name of an EVTCHNX_STATE_* value. */
const char *cli_state_name(uint32_t state);

/* Absolute path of the running executable.  Returns 0 or a negative
 * errno. */
int cli_self_exe(char *buf, size_t len);

/* write(2) all of @buf, retrying after short writes and EINTR. */
int cli_write_all(int fd, const void *buf, size_t len);
/* read(2) exactly @len bytes within @timeout_ms (negative: no limit).
 * Returns 0, -EPIPE at end of file, -ETIMEDOUT, or a negative errno. */
int cli_read_all(int fd, void *buf, size_t len, int timeout_ms);

/* Print one port as status --json does: {"port":P,"state":S,...}, after a
 * comma unless *first (then cleared). */
struct evtchnx_status;
void cli_status_json(bool *first, uint32_t port, const struct evtchnx_status *st);

/* Whether to use ANSI colours on stdout: a terminal, and $NO_COLOR unset. */
bool cli_want_color(void);

/* The commands; argv[0] is the command name. */
int cmd_demo(int argc, char **argv);
int cmd_demo_guest(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_domain(int argc, char **argv);
int cmd_alloc(int argc, char **argv);
int cmd_bind(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_unbind(int argc, char **argv);
int cmd_watch(int argc, char **argv);

/* lab start|list|stop (evtchnx-ctl.c); argv[0] is the subcommand.
 * Returns an exit status, or -1 for an unknown subcommand. */
int cli_lab_sub(int argc, char **argv);
/* Find the evtchnx-labd program.  Returns 0 or a negative errno. */
int cli_find_labd(char *buf, size_t len);
/* Turn --lab/--target (either may be NULL) into a target naming a lab that
 * exists beyond this process (sim:NAME or xen).  Returns CLI_EXIT_OK, or
 * prints why not and returns CLI_EXIT_USAGE or CLI_EXIT_NOLAB. */
int cli_resolve_target(const char *cmd, const char *lab, const char *target,
		       char *buf, size_t len);
/* Open @target as @domid without starting a lab.  Returns CLI_EXIT_OK,
 * or prints why not and returns CLI_EXIT_NOLAB or CLI_EXIT_FAIL. */
struct evtchnx_handle;
int cli_open(const char *target, uint32_t domid, struct evtchnx_handle **out);

/* The path of lab @name's socket.  Returns 0, -EINVAL (not a lab name) or
 * -ENAMETOOLONG. */
int cli_lab_sock_path(const char *name, char *buf, size_t len);

/* A connection to the lab server listening on @sock_path (the lab
 * protocol's SOCK_SEQPACKET): the descriptor, or a negative errno. */
int cli_lab_connect(const char *sock_path);

/* Lab counters (evtchnx-labstat.c, over the sim's internal protocol; the
 * layouts of its struct proto_link_stat and struct proto_dom_stat). */
struct cli_link {
	uint32_t link;
	uint32_t from_handle, from_dom, from_pid;
	uint32_t to_handle, to_dom, to_pid;
	uint32_t channels, head, overflows;
};
struct cli_dom {
	uint32_t domid, handles, ports, table;
};
/* Connect to the lab server on @sock_path as the control domain.  Returns 0
 * with *sock set, or a negative errno (-EACCES: a strict lab). */
int cli_labstat_open(const char *sock_path, int *sock);
void cli_labstat_close(int sock);
/* Every live link, or every domain, of the lab (a calloc'ed array the
 * caller frees).  Returns 0 or a negative errno (-EPERM: not the control
 * domain; -EIO, -EPIPE: the server went away). */
int cli_labstat_links(int sock, struct cli_link **out, size_t *count);
int cli_labstat_domains(int sock, struct cli_dom **out, size_t *count);

/* Name of the hidden command the demo re-executes for its guests. */
#define CLI_DEMO_GUEST_CMD "__demo-guest"

/* Usage text of each command (defined in evtchnx.c). */
extern const char cli_usage_demo[];
extern const char cli_usage_status[];
extern const char cli_usage_lab[];
extern const char cli_usage_version[];
extern const char cli_usage_listen[]; /* evtchnx-ping.c */
extern const char cli_usage_ping[];   /* evtchnx-ping.c */
extern const char cli_usage_run[];    /* evtchnx-run.c */
extern const char cli_usage_domain[]; /* evtchnx-ctl.c */
extern const char cli_usage_alloc[];
extern const char cli_usage_bind[];
extern const char cli_usage_send[];
extern const char cli_usage_wait[];
extern const char cli_usage_unbind[];
extern const char cli_usage_watch[];  /* evtchnx-watch.c */

#endif /* EVTCHNX_CLI_H */
