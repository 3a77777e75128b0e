/* SPDX-License-Identifier: MIT */
/*
 * rk-info - which backend plugins are there, and why one cannot be used.
 * The first thing to run when a runtime picks the wrong backend or none,
 * like fi_info, ucx_info -d or clinfo. Uses the public API only.
 *
 * It is also what is run on a machine where something is wrong, so no
 * plugin may take it down: the files are found without loading any
 * (rk_plugins_find), then each is loaded and probed in a child process of
 * its own (rk_plugin_probe_path) that reports back through a pipe. A
 * plugin whose constructor or probe crashes, calls exit() or hangs (killed
 * after --timeout seconds) is a row of the table that says so.
 *
 * Exit status: 0 when the plugin Auto (or RK_BACKEND) would pick is usable,
 * 1 when none is (the table says why), 2 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/discovery.h>
#include <ringkernel/error.h>
#include <ringkernel/ringkernel.h>

#define PROG "rk-info"

/* One table row: what the library says, or what became of the child. */
struct row {
	rk_plugin_info info;
	char status[48]; /* set when the child did not report: "crashed SIGSEGV" */
};

/* The table. A plugin that calls exit() in a child runs rk-info's atexit
 * handlers there, LeakSanitizer's among them: held here, the table is
 * reachable and not reported as lost. */
static struct row *table;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--plugin-path DIR[:DIR...]] [--device N] [--timeout S] [--json]\n"
		"List the ringkernel backend plugins found, their version, ABI, probe\n"
		"result and priority, and the one RK_BACKEND_AUTO would pick. Each plugin\n"
		"is loaded and probed in a child process: one that crashes, exits or\n"
		"hangs is reported, not fatal.\n"
		"\n"
		"  -p, --plugin-path LIST  also search LIST (colon-separated), after\n"
		"                          $RK_PLUGIN_PATH and before the install dir\n"
		"  -d, --device N          probe device ordinal N (default 0)\n"
		"  -t, --timeout S         give each probe S seconds (default 5), then\n"
		"                          kill it and report it as hung\n"
		"  -j, --json              the same as one JSON object\n"
		"  -V, --version           the library's version and plugin ABI\n"
		"  -h, --help              this text\n"
		"\n"
		"Environment: RK_PLUGIN_PATH, RK_BACKEND (what auto picks), RK_LOG.\n");
}

/* A JSON string, escaped. */
static void json_str(const char *v)
{
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	}
	putchar('"');
}

struct row;
static void status_text(const struct row *r, char *buf, size_t len);

/* --json: what the table says, one object (the same rows and pick). */
static void print_json(const struct row *t, unsigned n, int device, const char *path,
		       const struct row *chosen, const char *want, const char *why);

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

static void status_text(const struct row *r, char *buf, size_t len)
{
	const rk_plugin_info *i = &r->info;
	char sym[32];
	if (r->status[0])
		snprintf(buf, len, "%s", r->status);
	else if (i->shadowed)
		snprintf(buf, len, "shadowed");
	else if (i->status == 0)
		snprintf(buf, len, "usable");
	else
		snprintf(buf, len, "%s %s", i->loaded ? "unavailable" : "refused",
			 err_symbol(i->status, sym, sizeof(sym)));
}

static int parse_uint(const char *s, long min, long max, int *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < min || x > max)
		return -EINVAL;
	*v = (int)x;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Read up to len bytes from fd until EOF or the deadline. */
static size_t read_until(int fd, void *buf, size_t len, uint64_t deadline_ms, bool *timed_out)
{
	size_t got = 0;
	*timed_out = false;
	while (got < len) {
		uint64_t now = now_ms();
		if (now >= deadline_ms) {
			*timed_out = true;
			break;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, (int)(deadline_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			*timed_out = true;
			break;
		}
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGILL: return "SIGILL";
	case SIGFPE: return "SIGFPE";
	case SIGABRT: return "SIGABRT";
	case SIGTRAP: return "SIGTRAP";
	case SIGSYS: return "SIGSYS";
	case SIGKILL: return "SIGKILL";
	case SIGTERM: return "SIGTERM";
	}
	return "by a signal";
}

/*
 * Load and probe r->info.path in a child and fill r from its report; when
 * the child reports nothing whole, say what became of it. The child is the
 * leader of its own process group, so a probe that forked is killed whole.
 */
static void probe_in_child(struct row *r, int device, int timeout_s)
{
	rk_plugin_info got;
	int pfd[2], st = 0;
	bool timed_out = false;

	if (pipe(pfd) < 0) {
		snprintf(r->status, sizeof(r->status), "not probed");
		snprintf(r->info.reason, sizeof(r->info.reason), "pipe: %s", strerror(errno));
		r->info.status = -errno;
		return;
	}
	/* The child's exit() flushes what stdio holds: nothing, then. */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(r->status, sizeof(r->status), "not probed");
		snprintf(r->info.reason, sizeof(r->info.reason), "fork: %s", strerror(errno));
		r->info.status = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		setpgid(0, 0);
		/* What a plugin prints must not land in the table. */
		dup2(2, 1);
		/* A crash is to kill the child by its signal, for the table to
		 * name, even where rk-info itself catches it (a sanitizer). */
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], SIG_DFL);
		memset(&got, 0, sizeof(got));
		if (rk_plugin_probe_path(r->info.path, device, &got) < 0)
			_exit(126);
		size_t off = 0;
		while (off < sizeof(got)) {
			ssize_t n = write(pfd[1], (const char *)&got + off, sizeof(got) - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				_exit(125);
			off += (size_t)n;
		}
		/* _exit: no atexit handler of a plugin (still loaded or not)
		 * runs after the report. */
		_exit(0);
	}
	close(pfd[1]);
	setpgid(pid, pid); /* as the child does: whichever runs first */
	size_t n = read_until(pfd[0], &got, sizeof(got), now_ms() + (uint64_t)timeout_s * 1000u,
			      &timed_out);
	close(pfd[0]);
	if (timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n == sizeof(got) && !timed_out) {
		got.path[sizeof(got.path) - 1] = '\0';
		got.name[sizeof(got.name) - 1] = '\0';
		got.version[sizeof(got.version) - 1] = '\0';
		got.reason[sizeof(got.reason) - 1] = '\0';
		r->info = got;
		return;
	}

	/* No whole report: the plugin took the child down with it. */
	r->info.loaded = false;
	r->info.status = -ECHILD;
	if (timed_out) {
		snprintf(r->status, sizeof(r->status), "hung (killed)");
		snprintf(r->info.reason, sizeof(r->info.reason),
			 "loading or probing did not return within %d s; killed", timeout_s);
	} else if (WIFSIGNALED(st)) {
		snprintf(r->status, sizeof(r->status), "crashed %s", signal_name(WTERMSIG(st)));
		snprintf(r->info.reason, sizeof(r->info.reason),
			 "loading or probing it crashed: killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	} else if (WIFEXITED(st)) {
		snprintf(r->status, sizeof(r->status), "exited %d", WEXITSTATUS(st));
		snprintf(r->info.reason, sizeof(r->info.reason),
			 "while loading or probing it, the process exited with status %d "
			 "(the plugin called exit())",
			 WEXITSTATUS(st));
	} else {
		snprintf(r->status, sizeof(r->status), "lost");
		snprintf(r->info.reason, sizeof(r->info.reason), "child status %#x", st);
	}
}

/* snprintf for messages that may be cut short: the table has the rest. */
__attribute__((format(printf, 3, 4))) static int say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return w;
}

/* The row the builder would use for `want` (NULL: Auto), or NULL with why
 * in `why`. The same rules as rki_plugins_select(). */
static const struct row *pick(const struct row *v, unsigned n, const char *want, const char *path,
			      char *why, size_t len)
{
	const struct row *best = NULL;
	size_t pos = 0;

	if (!want) {
		/* Strictly greater: on a tie the earlier directory wins. */
		for (unsigned i = 0; i < n; i++)
			if (!v[i].info.shadowed && v[i].info.status == 0 &&
			    (!best || v[i].info.priority > best->info.priority))
				best = &v[i];
		if (best)
			return best;
		/* Every candidate's reason, as the builder's message has them. */
		int w = say(why, len, "no usable plugin in %s", path);
		pos = w > 0 ? (size_t)w : 0;
		bool first = true;
		for (unsigned i = 0; i < n && pos < len; i++) {
			if (v[i].info.shadowed)
				continue;
			w = say(why + pos, len - pos, "%s%s: %s", first ? " (" : "; ",
				v[i].info.name, v[i].info.reason);
			if (w > 0)
				pos += (size_t)w;
			first = false;
		}
		if (!first && pos < len - 1)
			strcat(why, ")");
		return NULL;
	}
	for (unsigned i = 0; i < n && !best; i++)
		if (!v[i].info.shadowed && !strcmp(v[i].info.name, want))
			best = &v[i];
	if (!best)
		say(why, len, "no plugin named %s in %s", want, path);
	else if (best->info.status != 0 && !best->info.loaded && !best->status[0])
		say(why, len, "plugin %s (%s) refused: %s", want, best->info.path,
		    best->info.reason);
	else if (best->info.status != 0)
		say(why, len, "plugin %s unavailable: %s", want, best->info.reason);
	else
		return best;
	return NULL;
}

static bool valid_backend_word(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

static void print_json(const struct row *t, unsigned n, int device, const char *path,
		       const struct row *chosen, const char *want, const char *why)
{
	char st[48];
	printf("{\"version\": ");
	json_str(rk_version());
	printf(", \"plugin_abi\": \"%u.%u\", \"device\": %d, \"search_path\": ",
	       RK_PLUGIN_ABI_MAJOR, RK_PLUGIN_ABI_MINOR, device);
	json_str(path);
	printf(", \"plugins\": [");
	for (unsigned i = 0; i < n; i++) {
		const rk_plugin_info *p = &t[i].info;
		status_text(&t[i], st, sizeof(st));
		printf("%s{\"name\": ", i ? ", " : "");
		json_str(p->name);
		printf(", \"version\": ");
		json_str(p->version);
		printf(", \"abi\": \"%u.%u\", \"usable\": %s", p->abi_major, p->abi_minor,
		       p->loaded && p->status == 0 && !p->shadowed ? "true" : "false");
		if (p->status == 0)
			printf(", \"priority\": %d", p->priority);
		printf(", \"status\": ");
		json_str(st);
		printf(", \"reason\": ");
		json_str(p->reason);
		printf(", \"path\": ");
		json_str(p->path);
		putchar('}');
	}
	printf("], \"rk_backend\": ");
	if (want)
		json_str(want);
	else
		printf("null");
	printf(", \"auto_pick\": ");
	if (chosen)
		json_str(chosen->info.name);
	else
		printf("null");
	if (!chosen) {
		printf(", \"why\": ");
		json_str(why);
	}
	printf("}\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugin-path", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *plugin_path = NULL;
	rk_plugin_info *found;
	unsigned n = 0, cap = 32;
	char path[8192], st[48], abi[24], prio[16], why[1024];
	int device = 0, timeout_s = 5, c, ret;
	int namew = 4, verw = 7;
	bool json = false;

	while ((c = getopt_long(argc, argv, "p:d:t:jVh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': plugin_path = optarg; break;
		case 'd':
			if (parse_uint(optarg, 0, INT_MAX, &device) < 0) {
				fprintf(stderr, PROG ": --device wants an ordinal >= 0, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			if (parse_uint(optarg, 1, 3600, &timeout_s) < 0) {
				fprintf(stderr,
					PROG ": --timeout wants 1 to 3600 seconds, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'j': json = true; break;
		case 'V':
			printf(PROG " (ringkernel-c) %s, plugin ABI %u.%u\n", rk_version(),
			       RK_PLUGIN_ABI_MAJOR, RK_PLUGIN_ABI_MINOR);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* Finding loads nothing, so a second pass when the guess was short
	 * costs only a directory listing. */
	for (;;) {
		found = calloc(cap, sizeof(*found));
		if (!found) {
			fprintf(stderr, PROG ": out of memory\n");
			return 1;
		}
		ret = rk_plugins_find(plugin_path, found, cap, &n);
		if (ret < 0) {
			fprintf(stderr, PROG ": %s: %s\n", rk_strerror(ret), rk_last_error());
			free(found);
			return 1;
		}
		if (n <= cap)
			break;
		free(found);
		cap = n;
	}
	table = calloc(n ? n : 1, sizeof(*table));
	if (!table) {
		fprintf(stderr, PROG ": out of memory\n");
		free(found);
		return 1;
	}
	for (unsigned i = 0; i < n; i++)
		table[i].info = found[i];
	free(found);
	for (unsigned i = 0; i < n; i++) {
		/* Refused or shadowed without loading: nothing to probe. */
		if (!table[i].info.shadowed && table[i].info.status == 0)
			probe_in_child(&table[i], device, timeout_s);
	}

	if (rk_plugins_search_path(plugin_path, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "(too long to show)");
	/* RK_BACKEND=auto|cpu|cuda|hip|NAME, as the builder reads it (a
	 * set-uid rk-info ignores it, as the builder would). */
	const char *forced = secure_getenv("RK_BACKEND");
	const char *want = forced && *forced && strcmp(forced, "auto") ? forced : NULL;
	const struct row *chosen = NULL;
	if (want && !valid_backend_word(want))
		say(why, sizeof(why),
		    "RK_BACKEND=\"%s\": expected auto, cpu, cuda, hip or a plugin name "
		    "([a-z0-9_-])",
		    want);
	else
		chosen = pick(table, n, want, path, why, sizeof(why));
	if (json) {
		print_json(table, n, device, path, chosen, want, why);
		free(table);
		return chosen ? 0 : 1;
	}
	printf("ringkernel-c %s, plugin ABI %u.%u, device %d\n", rk_version(), RK_PLUGIN_ABI_MAJOR,
	       RK_PLUGIN_ABI_MINOR, device);
	printf("search path: %s\n\n", path);

	for (unsigned i = 0; i < n; i++) {
		int w = (int)strlen(table[i].info.name);
		namew = w > namew ? w : namew;
		w = (int)strlen(table[i].info.version);
		verw = w > verw ? w : verw;
	}
	if (n == 0)
		printf("no plugins found\n");
	else
		printf("%-*s  %-*s  %-5s  %8s  %-20s  %s\n", namew, "NAME", verw, "VERSION", "ABI",
		       "PRIORITY", "STATUS", "PATH");
	for (unsigned i = 0; i < n; i++) {
		const rk_plugin_info *p = &table[i].info;
		status_text(&table[i], st, sizeof(st));
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

	if (!chosen)
		printf("\nauto would pick: none: %s\n", why);
	else if (want)
		printf("\nauto would pick: %s (priority %d; RK_BACKEND=%s)\n", chosen->info.name,
		       chosen->info.priority, want);
	else
		printf("\nauto would pick: %s (priority %d)\n", chosen->info.name,
		       chosen->info.priority);
	free(table);
	return chosen ? 0 : 1;
}
