/* SPDX-License-Identifier: MIT */
/*
 * rk-info - which backend plugins are there, and why one cannot be used.
 * The first thing to run when a runtime picks the wrong backend or none,
 * like fi_info, ucx_info -d or clinfo. Uses the public API only.
 *
 * Exit status: 0 when some plugin is usable, 1 when none is (the table
 * says why), 2 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringkernel/discovery.h>
#include <ringkernel/error.h>
#include <ringkernel/ringkernel.h>

#define PROG "rk-info"

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--plugin-path DIR[:DIR...]] [--device N]\n"
		   "List the ringkernel backend plugins found, their version, ABI, probe\n"
		   "result and priority, and the one RK_BACKEND_AUTO would pick.\n"
		   "\n"
		   "  -p, --plugin-path LIST  also search LIST (colon-separated), after\n"
		   "                          $RK_PLUGIN_PATH and before the install dir\n"
		   "  -d, --device N          probe device ordinal N (default 0)\n"
		   "  -h, --help              this text\n"
		   "\n"
		   "Environment: RK_PLUGIN_PATH, RK_BACKEND (what auto picks), RK_LOG.\n");
}

/* "-ENODEV" out of rk_strerror()'s "-ENODEV (backend unavailable)". */
static const char *err_symbol(int err, char *buf, size_t len)
{
	const char *s = rk_strerror(err);
	size_t n = strcspn(s, " ");
	if (s[0] != '-')
		snprintf(buf, len, "error %d", err);
	else
		snprintf(buf, len, "%.*s", (int)n, s);
	return buf;
}

static void status_text(const rk_plugin_info *i, char *buf, size_t len)
{
	char sym[32];
	if (i->shadowed)
		snprintf(buf, len, "shadowed");
	else if (i->status == 0)
		snprintf(buf, len, "usable");
	else
		snprintf(buf, len, "%s %s", i->loaded ? "unavailable" : "refused",
			 err_symbol(i->status, sym, sizeof(sym)));
}

static int parse_device(const char *s, int *dev)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX)
		return -EINVAL;
	*dev = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugin-path", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *plugin_path = NULL;
	rk_plugin_info *v;
	unsigned n = 0, cap = 32;
	char path[8192], name[64], st[48], abi[24], prio[16];
	int device = 0, c, ret, pick_prio = 0;
	int namew = 4, verw = 7;

	while ((c = getopt_long(argc, argv, "p:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': plugin_path = optarg; break;
		case 'd':
			if (parse_device(optarg, &device) < 0) {
				fprintf(stderr, PROG ": --device wants an ordinal >= 0, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* List into a guess first; a second pass only when the guess was short,
	 * since every pass loads and probes every plugin. */
	for (;;) {
		v = calloc(cap, sizeof(*v));
		if (!v) {
			fprintf(stderr, PROG ": out of memory\n");
			return 1;
		}
		ret = rk_plugins_list(plugin_path, device, v, cap, &n);
		if (ret < 0) {
			fprintf(stderr, PROG ": %s: %s\n", rk_strerror(ret), rk_last_error());
			free(v);
			return 1;
		}
		if (n <= cap)
			break;
		free(v);
		cap = n;
	}

	if (rk_plugins_search_path(plugin_path, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "(too long to show)");
	printf("ringkernel-c %s, plugin ABI %u.%u, device %d\n", rk_version(), RK_PLUGIN_ABI_MAJOR,
	       RK_PLUGIN_ABI_MINOR, device);
	printf("search path: %s\n\n", path);

	for (unsigned i = 0; i < n; i++) {
		int w = (int)strlen(v[i].name);
		namew = w > namew ? w : namew;
		w = (int)strlen(v[i].version);
		verw = w > verw ? w : verw;
	}
	if (n == 0)
		printf("no plugins found\n");
	else
		printf("%-*s  %-*s  %-5s  %8s  %-20s  %s\n", namew, "NAME", verw, "VERSION", "ABI",
		       "PRIORITY", "STATUS", "PATH");
	for (unsigned i = 0; i < n; i++) {
		const rk_plugin_info *p = &v[i];
		status_text(p, st, sizeof(st));
		if (p->loaded || p->abi_major || p->abi_minor)
			snprintf(abi, sizeof(abi), "%u.%u", p->abi_major, p->abi_minor);
		else
			snprintf(abi, sizeof(abi), "-");
		if (p->status == 0)
			snprintf(prio, sizeof(prio), "%d", p->priority);
		else
			snprintf(prio, sizeof(prio), "-");
		printf("%-*s  %-*s  %-5s  %8s  %-20s  %s\n", namew, p->name, verw,
		       p->version[0] ? p->version : "-", abi, prio, st, p->path);
		if (p->reason[0])
			printf("%-*s  reason: %s\n", namew, "", p->reason);
	}
	free(v);

	/* The listing above already logged every refusal; the second pass
	 * would only say it all again. RK_LOG=info or debug still shows both. */
	const char *lvl = getenv("RK_LOG");
	if (!lvl || !*lvl || !strcmp(lvl, "warn"))
		setenv("RK_LOG", "error", 1);
	ret = rk_plugins_auto_pick(plugin_path, device, name, sizeof(name), &pick_prio);
	if (ret < 0) {
		printf("\nauto would pick: none: %s\n", rk_last_error());
		return 1;
	}
	const char *forced = getenv("RK_BACKEND");
	if (forced && *forced && strcmp(forced, "auto"))
		printf("\nauto would pick: %s (priority %d; RK_BACKEND=%s)\n", name, pick_prio,
		       forced);
	else
		printf("\nauto would pick: %s (priority %d)\n", name, pick_prio);
	return 0;
}
