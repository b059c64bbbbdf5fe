/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * evtchnx-run.c - "evtchnx run": run a program built against Xen's
 * libxenevtchn on a sim lab, as one domain, with the compatibility
 * libxenevtchn.so.1 (compat/xenevtchn) in place of the real one.
 *
 *   evtchnx run --lab demo --domid 1 -- ./xen-program ARGS...
 *
 * It sets the environment and execs the program, which therefore is the
 * process that joins the lab:
 *
 *   EVTCHNX_TARGET=sim:NAME     the lab
 *   EVTCHNX_DOMID=D             the domain
 *   LD_PRELOAD=DIR/libxenevtchn.so.1 (appended to what was there)
 *   LD_LIBRARY_PATH=DIR (prepended)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evtchnx-cli.h"
#include "evtchnx.h"

#define COMPAT_LIB "libxenevtchn.so.1"
#define DEFAULT_LAB "default"

const char cli_usage_run[] =
	"Usage: evtchnx run [--lab NAME] [--domid D] [--print-env] -- PROGRAM [ARGS...]\n"
	"\n"
	"Run PROGRAM, built against Xen's libxenevtchn, on the shared sim lab\n"
	"NAME as domain D: evtchnx's libxenevtchn.so.1 is preloaded in place of\n"
	"Xen's, and every xenevtchn_open() of the program joins the lab as D.\n"
	"The lab server starts with the first open if none runs.\n"
	"\n"
	"  -l, --lab NAME   the lab (default: the NAME of $EVTCHNX_TARGET when it\n"
	"                   is sim:NAME, else \"" DEFAULT_LAB "\")\n"
	"  -d, --domid D    the domain to join as (default 0, the control domain,\n"
	"                   as a program in dom0)\n"
	"  -p, --print-env  print the environment as shell assignments instead of\n"
	"                   running anything (to do the same by hand)\n"
	"  -h, --help       print this help\n"
	"\n"
	"$EVTCHNX_XEN_COMPAT_DIR overrides where libxenevtchn.so.1 is looked for.\n"
	"Exit status: PROGRAM's; 1 when it cannot be started.\n";

/* Whether @dir holds the compatibility library. */
static int has_lib(const char *dir)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, COMPAT_LIB) >= sizeof(path))
		return 0;
	return access(path, R_OK) == 0;
}

/*
 * The directory of the compatibility library: $EVTCHNX_XEN_COMPAT_DIR;
 * else, relative to this executable, the build tree's or the install
 * tree's; else the install path configured at build time.
 */
static int find_compat_dir(char *buf, size_t len)
{
	static const char *const rel[] = {
#ifdef EVTCHNX_XEN_COMPAT_BUILD_RELDIR
		EVTCHNX_XEN_COMPAT_BUILD_RELDIR,
#endif
#ifdef EVTCHNX_XEN_COMPAT_RELDIR
		EVTCHNX_XEN_COMPAT_RELDIR,
#endif
	};
	const char *env = getenv("EVTCHNX_XEN_COMPAT_DIR");
	char exe[PATH_MAX], *slash;

	if (env && *env) {
		if (!realpath(env, buf) || strlen(buf) >= len)
			return -ENOENT;
		return has_lib(buf) ? 0 : -ENOENT;
	}
	if (!cli_self_exe(exe, sizeof(exe)) && (slash = strrchr(exe, '/'))) {
		*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char cand[PATH_MAX];

			if ((size_t)snprintf(cand, sizeof(cand), "%s/%s", exe, rel[i]) >=
			    sizeof(cand))
				continue;
			if (realpath(cand, buf) && strlen(buf) < len && has_lib(buf))
				return 0;
		}
	}
#ifdef EVTCHNX_XEN_COMPAT_INSTALL_DIR
	if ((size_t)snprintf(buf, len, "%s", EVTCHNX_XEN_COMPAT_INSTALL_DIR) < len &&
	    has_lib(buf))
		return 0;
#endif
	return -ENOENT;
}

/* Set @name to @value, followed (or preceded) by its old value. */
static int set_list(const char *name, const char *value, int prepend)
{
	const char *old = getenv(name);
	char *v;
	int r;

	if (!old || !*old)
		return setenv(name, value, 1);
	if (asprintf(&v, "%s:%s", prepend ? value : old, prepend ? old : value) < 0)
		return -1;
	r = setenv(name, v, 1);
	free(v);
	return r;
}

static void print_env(void)
{
	static const char *const names[] = { "EVTCHNX_TARGET", "EVTCHNX_DOMID",
					     "LD_PRELOAD", "LD_LIBRARY_PATH" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		printf("%s='%s'\n", names[i], getenv(names[i]));
	printf("export EVTCHNX_TARGET EVTCHNX_DOMID LD_PRELOAD LD_LIBRARY_PATH\n");
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "domid", required_argument, NULL, 'd' },
		{ "print-env", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lab = NULL, *env_target = getenv("EVTCHNX_TARGET");
	char dir[PATH_MAX], lib[PATH_MAX + 32], target[80], domid[16];
	int print_only = 0, c, r;
	unsigned long d = 0;

	optind = 0;
	/* "+": options end at the first non-option, the PROGRAM. */
	while ((c = getopt_long(argc, argv, "+l:d:ph", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			lab = optarg;
			break;
		case 'd':
			if (cli_parse_ulong(optarg, EVTCHNX_DOMID_FIRST_RESERVED - 1, &d))
				return cli_usage_error("run", "--domid: not a domain id: '%s'",
						       optarg);
			break;
		case 'p':
			print_only = 1;
			break;
		case 'h':
			fputs(cli_usage_run, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("run", "bad option");
		}
	}
	if (!print_only && optind >= argc)
		return cli_usage_error("run", "run needs a PROGRAM to run");
	if (!lab)
		lab = env_target && !strncmp(env_target, "sim:", 4) ? env_target + 4
								    : DEFAULT_LAB;
	if ((size_t)snprintf(target, sizeof(target), "sim:%s", lab) >= sizeof(target))
		return cli_usage_error("run", "--lab: name too long: '%s'", lab);

	r = find_compat_dir(dir, sizeof(dir));
	if (r < 0)
		return cli_fail(r, "cannot find %s (looked for $EVTCHNX_XEN_COMPAT_DIR, "
				   "the build and install trees next to this program%s)",
				COMPAT_LIB,
#ifdef EVTCHNX_XEN_COMPAT_INSTALL_DIR
				", " EVTCHNX_XEN_COMPAT_INSTALL_DIR
#else
				""
#endif
		);
	snprintf(lib, sizeof(lib), "%s/%s", dir, COMPAT_LIB);
	snprintf(domid, sizeof(domid), "%lu", d);

	if (setenv("EVTCHNX_TARGET", target, 1) || setenv("EVTCHNX_DOMID", domid, 1) ||
	    set_list("LD_PRELOAD", lib, 0) || set_list("LD_LIBRARY_PATH", dir, 1))
		return cli_fail(errno, "setenv");
	if (print_only) {
		print_env();
		return CLI_EXIT_OK;
	}
	fflush(NULL);
	execvp(argv[optind], argv + optind);
	return cli_fail(errno, "cannot run '%s'", argv[optind]);
}
