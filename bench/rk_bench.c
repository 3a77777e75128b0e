/* SPDX-License-Identifier: MIT */
/*
 * rk-bench - what users feel, end to end, next to the alternatives and the
 * floors of this machine, measured in the same run.
 *
 *   rk-bench [--scenario LIST] [--backend NAME] [--duration S] [--payload B]
 *            [--batch N] [--runs N] [--chain N] [--rate N] [--quick]
 *            [--json | --csv] [--quiet] [--progress]
 *
 * Scenarios: ring, roundtrip, throughput, k2k, launch, open-loop, xproc,
 * remote (default: all but remote; "all" is every one).
 * The table goes to stdout, progress to stderr (with an ETA when that is a
 * terminal, or with --progress). Every measurement that
 * touches the runtime runs in a forked child, so each spin mode gets a
 * fresh process (RK_SPIN_NS is read once per process) and pinning done by
 * one scenario cannot leak into the next.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#include "bench.h"

/* ---- shared helpers
 * ------------------------------------------------------------------------------ */

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool quiet;

/*
 * The progress lines: one as each measurement starts, on stderr. With
 * --progress, or when stderr is a terminal, each says how far the run is
 * and when it should end: "[12/41]  30%  ETA 0:28". The steps are counted
 * in a shared page, for they are taken in forked children; the plan (each
 * scenario's steps and seconds, from plan_*()) is in ordinary memory, set
 * before the children are forked.
 */
enum { MAX_SCN = 8 };
static struct {
	bool on;
	unsigned n, cur;	/* scenarios in the run; the one running */
	struct plan p[MAX_SCN]; /* in the order they run */
	unsigned steps;		/* all of them */
	double secs;		/* all of them */
	uint64_t t0;		/* when the first started */
	unsigned *done;		/* shared: steps started in the current scenario */
} eta;

static void eta_text(char *buf, size_t len)
{
	unsigned before = 0, k = __atomic_add_fetch(eta.done, 1, __ATOMIC_RELAXED);
	double planned = 0; /* the planned seconds of what is behind us */
	for (unsigned i = 0; i < eta.cur && i < eta.n; i++) {
		before += eta.p[i].steps;
		planned += eta.p[i].secs;
	}
	const struct plan *c = &eta.p[eta.cur < eta.n ? eta.cur : 0];
	/* A plan that was short shows the step, never more than all of it. */
	unsigned steps = c->steps ? c->steps : 1, in = k < steps ? k : steps;
	planned += c->secs * (in - 1) / steps;
	double elapsed = (double)(now_ns() - eta.t0) / 1e9;
	/* Kept to the plan? Scale what is left by how the run went so far,
	 * once there is enough of it to tell. */
	double scale = planned >= 0.5 && elapsed > 0 ? elapsed / planned : 1;
	double left = (eta.secs - planned) * scale;
	unsigned step = before + k, total = eta.steps > step ? eta.steps : step;
	unsigned pct = eta.secs > 0 ? (unsigned)(100 * planned / eta.secs) : 0;
	if (left < 0)
		left = 0;
	unsigned s = (unsigned)(left + 0.5);
	snprintf(buf, len, "[%*u/%u] %3u%%  ETA %u:%02u  ", total >= 10 ? 2 : 1, step, total,
		 pct > 100 ? 100 : pct, s / 60, s % 60);
}

void progress(const char *fmt, ...)
{
	if (quiet)
		return;
	char head[64] = "";
	if (eta.on && eta.done)
		eta_text(head, sizeof(head));
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "rk-bench: %s", head);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void choose_cpus(int *a, int *b)
{
	cpu_set_t set;
	*a = *b = -1;
	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) < 2)
		return;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (*a < 0) {
			*a = c;
		} else {
			*b = c;
			return;
		}
	}
}

/* Pin to `cpu`; -1 undoes a pin (every online CPU again), so what runs
 * after a floor does not inherit one CPU from it. */
void pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	if (cpu < 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		for (long c = 0; c < n && c < CPU_SETSIZE; c++)
			CPU_SET((int)c, &set);
	} else {
		CPU_SET(cpu, &set);
	}
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void backoff(unsigned *spins)
{
	if (++*spins < 4096) {
		RK_CPU_RELAX();
		return;
	}
	*spins = 0;
	sched_yield();
}

struct row *rows_add(struct rows *rs, const char *scenario, const char *name, const char *mode)
{
	if (rs->n == MAX_ROWS) {
		static struct row spare;
		return &spare;
	}
	struct row *r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->scenario, sizeof(r->scenario), "%s", scenario);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->mode, sizeof(r->mode), "%s", mode);
	return r;
}

void row_absent(struct rows *rs, const char *scenario, const char *name, const char *why)
{
	struct row *r = rows_add(rs, scenario, name, "");
	r->absent = true;
	snprintf(r->note, sizeof(r->note), "%s", why);
}

void row_set_hist(struct row *r, const struct hist *h)
{
	r->has_lat = true;
	r->count = h->count;
	r->p50 = (double)hist_percentile(h, 50);
	r->p90 = (double)hist_percentile(h, 90);
	r->p99 = (double)hist_percentile(h, 99);
	r->p999 = (double)hist_percentile(h, 99.9);
	r->max = (double)h->max;
	r->mean = hist_mean(h);
}

/* ---- children
 * ------------------------------------------------------------------------------------ */

int in_child(const char *mode, int (*fn)(const struct bopts *, struct rows *, const char *),
	     const struct bopts *o, struct rows *rs)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		close(fds[0]);
		/* spin: never sleep (1 s of spinning); blocking and placed (the
		 * placed blocking rows): sleep at once */
		if (!strcmp(mode, "spin")) {
			setenv("RK_SPIN_NS", "1000000000", 1);
			setenv("RK_CPU_SPIN_NS", "1000000000", 1);
		} else if (!strcmp(mode, "blocking") || !strcmp(mode, "placed")) {
			setenv("RK_SPIN_NS", "0", 1);
			setenv("RK_CPU_SPIN_NS", "0", 1);
		}
		struct rows *mine = calloc(1, sizeof(*mine));
		int ret = mine ? fn(o, mine, mode) : -ENOMEM;
		if (mine) {
			const char *p = (const char *)mine;
			size_t left = sizeof(*mine);
			while (left) {
				ssize_t n = write(fds[1], p, left);
				if (n <= 0)
					break;
				p += n;
				left -= (size_t)n;
			}
		}
		fflush(stdout);
		fflush(stderr);
		_exit(ret < 0 ? 1 : 0);
	}
	close(fds[1]);
	struct rows *theirs = calloc(1, sizeof(*theirs));
	size_t got = 0;
	while (theirs && got < sizeof(*theirs)) {
		ssize_t n = read(fds[0], (char *)theirs + got, sizeof(*theirs) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int ret = 0;
	if (!theirs || got != sizeof(*theirs))
		ret = -EIO;
	else
		for (unsigned i = 0; i < theirs->n && rs->n < MAX_ROWS; i++)
			rs->r[rs->n++] = theirs->r[i];
	free(theirs);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "rk-bench: %s child failed (status %d)\n", mode, status);
		ret = -ECHILD;
	}
	return ret;
}

/* ---- references and ratios
 * ------------------------------------------------------------------------ */

/* ref is "name" or "name/mode"; among matches prefer the same payload and
 * batch, and for a ref without a mode the row without one (the plain floor
 * eventfd, not a placed one). */
static const struct row *find_ref(const struct rows *rs, const struct row *r)
{
	char name[40], *mode = NULL;
	snprintf(name, sizeof(name), "%s", r->ref);
	char *slash = strchr(name, '/');
	if (slash) {
		*slash = '\0';
		mode = slash + 1;
	}
	const struct row *best = NULL;
	int best_score = -1;
	for (unsigned i = 0; i < rs->n; i++) {
		const struct row *c = &rs->r[i];
		if (c->absent || strcmp(c->scenario, r->scenario) || strcmp(c->name, name) ||
		    (mode && strcmp(c->mode, mode)))
			continue;
		int score = (c->payload == r->payload) + (c->batch == r->batch) +
			    2 * (!mode && !c->mode[0]);
		if (score > best_score) {
			best = c;
			best_score = score;
		}
	}
	return best;
}

static void resolve_ratios(struct rows *rs)
{
	for (unsigned i = 0; i < rs->n; i++) {
		struct row *r = &rs->r[i];
		if (r->absent || !r->ref[0])
			continue;
		const struct row *ref = find_ref(rs, r);
		if (!ref) {
			r->ref[0] = '\0';
			continue;
		}
		if (r->has_lat && ref->has_lat && ref->p50 > 0)
			r->ratio = r->p50 / ref->p50;
		else if (!r->has_lat && !ref->has_lat && ref->ns_per_msg > 0)
			r->ratio = r->ns_per_msg / ref->ns_per_msg;
	}
	/* Our spin and pipelined rows also against the architecture's limit,
	 * the hand-written two-ring echo of the same run (a note). */
	for (unsigned i = 0; i < rs->n; i++) {
		struct row *r = &rs->r[i];
		if (r->absent || strcmp(r->name, "rk echo") ||
		    (strcmp(r->mode, "spin") && strcmp(r->mode, "pipelined") &&
		     strcmp(r->mode, "zero-copy")))
			continue;
		struct row probe = *r;
		snprintf(probe.ref, sizeof(probe.ref), "floor ideal");
		const struct row *ideal = find_ref(rs, &probe);
		if (!ideal)
			continue;
		double x = r->has_lat ? r->p50 / ideal->p50 : r->ns_per_msg / ideal->ns_per_msg;
		if (ideal->p50 > 0 || ideal->ns_per_msg > 0)
			snprintf(r->note, sizeof(r->note), "%.2fx floor ideal", x);
	}
	/* Our cross-process spin round trip against iceoryx's, ours over
	 * theirs (the iceoryx row's ratio is the inverse). */
	for (unsigned i = 0; i < rs->n; i++) {
		struct row *r = &rs->r[i];
		if (r->absent || strcmp(r->name, "rk echo xproc") || strcmp(r->mode, "spin"))
			continue;
		struct row probe = *r;
		snprintf(probe.ref, sizeof(probe.ref), "iceoryx/spin");
		const struct row *iox = find_ref(rs, &probe);
		if (iox && iox->p50 > 0)
			snprintf(r->note, sizeof(r->note), "%.2fx iceoryx", r->p50 / iox->p50);
	}
	/* Our remote rows also against UCX's floor of their own shape: the
	 * ping-pong that sleeps on the worker's fd, the windowed echo. */
	for (unsigned i = 0; i < rs->n; i++) {
		struct row *r = &rs->r[i];
		if (r->absent || strcmp(r->scenario, "remote") || strncmp(r->name, "rk echo ", 8))
			continue;
		struct row probe = *r;
		snprintf(probe.ref, sizeof(probe.ref), "ucx am %.20s/%s", r->name + 8,
			 r->has_lat ? "wakeup" : "echo");
		const struct row *f = find_ref(rs, &probe);
		if (f && r->has_lat && f->p50 > 0)
			snprintf(r->note, sizeof(r->note), "%.2fx ucx wakeup", r->p50 / f->p50);
		else if (f && !r->has_lat && f->ns_per_msg > 0)
			snprintf(r->note, sizeof(r->note), "%.2fx ucx echo",
				 r->ns_per_msg / f->ns_per_msg);
	}
}

/* ---- fingerprint
 * ----------------------------------------------------------------------------------- */

struct fingerprint {
	char cpu[128];
	long cores;
	char kernel[200];
	char backend[64];
	char plugin_version[64];
};

static int probe_child(const struct bopts *o, struct rows *rs, const char *mode)
{
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime *rt;
	if (!b)
		return -ENOMEM;
	rk_runtime_builder_backend_name(b, o->backend);
	int ret = rk_runtime_builder_build(b, &rt);
	if (ret < 0) {
		fprintf(stderr, "rk-bench: backend %s: %s: %s\n", o->backend, rk_strerror(ret),
			rk_last_error());
		return ret;
	}
	struct row *r = rows_add(rs, "probe", rk_runtime_backend_name(rt), "");
	rk_runtime_shutdown(rt);
	rk_plugin_info *pi = calloc(16, sizeof(*pi));
	unsigned n = 0;
	if (pi && rk_plugins_list(NULL, 0, pi, 16, &n) == 0) {
		for (unsigned i = 0; i < n && i < 16; i++)
			if (!strcmp(pi[i].name, r->name) && pi[i].loaded) {
				snprintf(r->note, sizeof(r->note), "%.47s", pi[i].version);
				break;
			}
	}
	free(pi);
	return 0;
}

static int fingerprint(const struct bopts *o, struct fingerprint *fp)
{
	memset(fp, 0, sizeof(*fp));
	snprintf(fp->cpu, sizeof(fp->cpu), "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "model name", 10))
				continue;
			char *v = strchr(line, ':');
			if (v) {
				v += 1 + strspn(v + 1, " \t");
				v[strcspn(v, "\n")] = '\0';
				snprintf(fp->cpu, sizeof(fp->cpu), "%s", v);
			}
			break;
		}
		fclose(f);
	}
	fp->cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(fp->kernel, sizeof(fp->kernel), "%.64s %.64s %.64s", u.sysname, u.release,
			 u.machine);
	struct rows *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	int ret = in_child("default", probe_child, o, rs);
	if (ret == 0 && rs->n) {
		snprintf(fp->backend, sizeof(fp->backend), "%s", rs->r[0].name);
		snprintf(fp->plugin_version, sizeof(fp->plugin_version), "%s",
			 rs->r[0].note[0] ? rs->r[0].note : "?");
	}
	free(rs);
	return ret;
}

/* ---- output
 * ---------------------------------------------------------------------------------------- */

static void print_table(const struct fingerprint *fp, const struct bopts *o, const struct rows *rs)
{
	printf("rk-bench %s  backend %s (plugin %s)\n", rk_version(), fp->backend,
	       fp->plugin_version);
	printf("cpu: %s, %ld cores; %s\n", fp->cpu, fp->cores, fp->kernel);
	printf("%.3g s per measurement%s; ratio = this row's time (p50 or ns/msg) / ref's\n",
	       o->duration, o->quick ? " (quick)" : "");
	const char *scn = "";
	int kind = -1; /* 0 rate, 1 latency, 2 absent */
	for (unsigned i = 0; i < rs->n; i++) {
		const struct row *r = &rs->r[i];
		int k = r->absent ? 2 : r->has_lat ? 1 : 0;
		if (strcmp(scn, r->scenario)) {
			scn = r->scenario;
			printf("\n== %s\n", scn);
			kind = -1;
		}
		if (k != kind && k != 2) {
			if (k == 1)
				printf("%-20s %-12s %7s %9s %9s %9s %9s %10s %7s  %s\n", "name",
				       "mode", "payload", "p50 ns", "p90 ns", "p99 ns", "p99.9 ns",
				       "max ns", "ratio", "ref");
			else
				printf("%-20s %-12s %7s %5s %9s %10s %7s  %s\n", "name", "mode",
				       "payload", "batch", "ns/msg", "Mmsg/s", "ratio", "ref");
			kind = k;
		}
		char ratio[16] = "";
		if (r->ratio > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", r->ratio);
		if (k == 2)
			printf("%-20s absent (%s)\n", r->name, r->note);
		else if (k == 1)
			printf("%-20s %-12s %7u %9.0f %9.0f %9.0f %9.0f %10.0f %7s  %s%s%s\n",
			       r->name, r->mode, r->payload, r->p50, r->p90, r->p99, r->p999,
			       r->max, ratio, r->ratio > 0 ? r->ref : r->note,
			       r->ratio > 0 && r->note[0] ? "; " : "", r->ratio > 0 ? r->note : "");
		else
			printf("%-20s %-12s %7u %5u %9.2f %10.3f %7s  %s%s%s\n", r->name, r->mode,
			       r->payload, r->batch, r->ns_per_msg, r->msgs_per_s / 1e6, ratio,
			       r->ratio > 0 ? r->ref : "", r->ratio > 0 && r->note[0] ? "; " : "",
			       r->note);
	}
}

/* What applies to a row: a payload and a batch where it has one (launch has
 * no payload, a latency row no batch), the count and percentiles to latency
 * rows, ns/msg and msgs/s to rate rows, ratio and ref where it has a ref;
 * an absent row has none of them. */
struct applies {
	bool payload, batch, lat, rate, ratio;
};

static struct applies applies_to(const struct row *r)
{
	return (struct applies){ .payload = !r->absent && r->payload > 0,
				 .batch = !r->absent && r->batch > 0,
				 .lat = !r->absent && r->has_lat,
				 .rate = !r->absent && !r->has_lat,
				 .ratio = !r->absent && r->ratio > 0 };
}

/* A field that does not apply to a row is empty, not 0. */
static void csv_num(const char *fmt, double v, bool applies)
{
	putchar(',');
	if (applies)
		printf(fmt, v);
}

/* Commas or quotes inside a field: quote it (RFC 4180). */
static void csv_str(const char *s)
{
	putchar(',');
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* One header line, no comment lines: every row carries the machine's
 * fingerprint (what the table prints at its top) in its last columns, so a
 * file of many runs still says where each came from and any CSV reader
 * takes it as it is. */
static void print_csv(const struct fingerprint *fp, const struct rows *rs)
{
	printf("scenario,name,mode,payload,batch,absent,count,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,"
	       "mean_ns,ns_per_msg,msgs_per_s,ratio,ref,cpu,cores,kernel,backend,plugin_version,"
	       "rk_version\n");
	for (unsigned i = 0; i < rs->n; i++) {
		const struct row *r = &rs->r[i];
		struct applies a = applies_to(r);
		fputs(r->scenario, stdout);
		csv_str(r->name);
		csv_str(r->mode);
		csv_num("%.0f", r->payload, a.payload);
		csv_num("%.0f", r->batch, a.batch);
		printf(",%d", r->absent);
		csv_num("%.0f", (double)r->count, a.lat);
		csv_num("%.0f", r->p50, a.lat);
		csv_num("%.0f", r->p90, a.lat);
		csv_num("%.0f", r->p99, a.lat);
		csv_num("%.0f", r->p999, a.lat);
		csv_num("%.0f", r->max, a.lat);
		csv_num("%.1f", r->mean, a.lat);
		csv_num("%.3f", r->ns_per_msg, a.rate);
		csv_num("%.0f", r->msgs_per_s, a.rate);
		csv_num("%.4f", r->ratio, a.ratio);
		csv_str(a.ratio ? r->ref : "");
		csv_str(fp->cpu);
		printf(",%ld", fp->cores);
		csv_str(fp->kernel);
		csv_str(fp->backend);
		csv_str(fp->plugin_version);
		csv_str(rk_version());
		putchar('\n');
	}
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* ", \"key\": value", or null where it does not apply (never 0). */
static void json_num(const char *key, const char *fmt, double v, bool applies)
{
	printf(", \"%s\": ", key);
	if (applies)
		printf(fmt, v);
	else
		fputs("null", stdout);
}

static void print_json(const struct fingerprint *fp, const struct bopts *o, const struct rows *rs)
{
	printf("{\"version\": ");
	json_str(rk_version());
	printf(", \"fingerprint\": {\"cpu\": ");
	json_str(fp->cpu);
	printf(", \"cores\": %ld, \"kernel\": ", fp->cores);
	json_str(fp->kernel);
	printf(", \"backend\": ");
	json_str(fp->backend);
	printf(", \"plugin_version\": ");
	json_str(fp->plugin_version);
	printf("}, \"duration_s\": %g, \"quick\": %s, \"rows\": [", o->duration,
	       o->quick ? "true" : "false");
	for (unsigned i = 0; i < rs->n; i++) {
		const struct row *r = &rs->r[i];
		struct applies a = applies_to(r);
		printf("%s\n  {\"scenario\": ", i ? "," : "");
		json_str(r->scenario);
		printf(", \"name\": ");
		json_str(r->name);
		printf(", \"mode\": ");
		json_str(r->mode);
		printf(", \"absent\": %s", r->absent ? "true" : "false");
		json_num("payload", "%.0f", r->payload, a.payload);
		json_num("batch", "%.0f", r->batch, a.batch);
		json_num("count", "%.0f", (double)r->count, a.lat);
		json_num("p50_ns", "%.0f", r->p50, a.lat);
		json_num("p90_ns", "%.0f", r->p90, a.lat);
		json_num("p99_ns", "%.0f", r->p99, a.lat);
		json_num("p999_ns", "%.0f", r->p999, a.lat);
		json_num("max_ns", "%.0f", r->max, a.lat);
		json_num("mean_ns", "%.1f", r->mean, a.lat);
		json_num("ns_per_msg", "%.3f", r->ns_per_msg, a.rate);
		json_num("msgs_per_s", "%.0f", r->msgs_per_s, a.rate);
		json_num("ratio", "%.4f", r->ratio, a.ratio);
		printf(", \"ref\": ");
		if (a.ratio)
			json_str(r->ref);
		else
			fputs("null", stdout);
		/* an absent row's note says why */
		printf(", \"%s\": ", r->absent ? "why" : "note");
		if (r->note[0])
			json_str(r->note);
		else
			fputs("null", stdout);
		printf("}");
	}
	printf("\n]}\n");
}

/* ---- options
 * --------------------------------------------------------------------------------------- */

static const char *const all_scenarios[] = { "ring",   "roundtrip", "throughput", "k2k",
					     "launch", "open-loop", "xproc",	  "remote" };
#define NSCN (sizeof(all_scenarios) / sizeof(all_scenarios[0]))
static int (*const scn_fn[NSCN])(const struct bopts *,
				 struct rows *) = { scn_ring,  scn_roundtrip, scn_throughput,
						    scn_k2k,   scn_launch,    scn_open_loop,
						    scn_xproc, scn_remote };
static void (*const scn_plan[NSCN])(const struct bopts *,
				    struct plan *) = { plan_ring,  plan_roundtrip, plan_throughput,
						       plan_k2k,   plan_launch,	   plan_open_loop,
						       plan_xproc, plan_remote };
/* Run without --scenario: remote takes some 15 s of its own (two UCX
 * transports, each with its floor), so it runs when asked for. */
static const bool scn_default[NSCN] = { true, true, true, true, true, true, true, false };
_Static_assert(NSCN <= MAX_SCN, "eta.p holds every scenario");

static void usage(FILE *f)
{
	fprintf(f, "usage: rk-bench [options]\n"
		   "  --scenario LIST  comma list of ring, roundtrip, throughput, k2k, launch,\n"
		   "                   open-loop, xproc, remote, or all (default: all but\n"
		   "                   remote)\n"
		   "  --backend NAME   plugin to run kernels on (default cpu)\n"
		   "  --duration S     seconds per measurement (default 1; ring runs take S/10)\n"
		   "  --payload B      payload bytes (default: ring 64 and 1024, others 64)\n"
		   "  --batch N        batch/burst size (default: ring 1/8/32/256, others 32)\n"
		   "  --runs N         ring: runs per configuration, median shown (default 3)\n"
		   "  --chain N        k2k: forward kernels in the chain (default 3)\n"
		   "  --rate N         open-loop: messages per second (default 20000)\n"
		   "  --quick          short smoke run (about 0.05 s per measurement)\n"
		   "  --json, --csv    machine-readable output instead of the table\n"
		   "  --quiet          no progress on stderr\n"
		   "  --progress       each progress line with the step, percent done and ETA\n"
		   "                   (the default when stderr is a terminal)\n");
}

static bool want_progress;

static int parse(int argc, char **argv, struct bopts *o, bool want[NSCN], int *fmt)
{
	static const struct option lo[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "payload", required_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "chain", required_argument, NULL, 'c' },
		{ "quick", no_argument, NULL, 'q' },
		{ "rate", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct bopts){ .backend = "cpu",
			     .duration = 0,
			     .runs = 3,
			     .chain = 3,
			     .launches = 200,
			     .rate = 20000 };
	*fmt = 0;
	bool any = false, runs_set = false;
	for (unsigned i = 0; i < NSCN; i++)
		want[i] = false;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "s:b:d:p:n:r:c:R:qjvQh", lo, NULL)) != -1) {
		switch (c) {
		case 's': {
			char *list = strdup(optarg), *save = NULL;
			for (char *t = strtok_r(list, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				unsigned i = 0;
				while (i < NSCN && strcmp(t, all_scenarios[i]))
					i++;
				if (i == NSCN && strcmp(t, "all")) {
					fprintf(stderr, "rk-bench: no scenario \"%s\"\n", t);
					free(list);
					return -EINVAL;
				}
				for (unsigned j = 0; j < NSCN; j++)
					if (j == i || i == NSCN)
						want[j] = true;
				any = true;
			}
			free(list);
			break;
		}
		case 'b': o->backend = optarg; break;
		case 'd':
			o->duration = strtod(optarg, &end);
			if (*end || !(o->duration > 0 && o->duration <= 3600)) {
				fprintf(stderr,
					"rk-bench: --duration takes seconds, 0 < S <= 3600\n");
				return -EINVAL;
			}
			break;
		case 'p':
			o->payload = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || o->payload < 8 || o->payload > RK_MAX_PAYLOAD) {
				fprintf(stderr, "rk-bench: --payload takes 8..%u\n",
					RK_MAX_PAYLOAD);
				return -EINVAL;
			}
			break;
		case 'n':
			o->batch = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o->batch < 1 || o->batch > 256) {
				fprintf(stderr, "rk-bench: --batch takes 1..256\n");
				return -EINVAL;
			}
			break;
		case 'r':
			o->runs = (unsigned)strtoul(optarg, &end, 10);
			runs_set = true;
			if (*end || o->runs < 1 || o->runs > 15) {
				fprintf(stderr, "rk-bench: --runs takes 1..15\n");
				return -EINVAL;
			}
			break;
		case 'c':
			o->chain = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o->chain < 1 || o->chain > 16) {
				fprintf(stderr, "rk-bench: --chain takes 1..16\n");
				return -EINVAL;
			}
			break;
		case 'R':
			o->rate = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o->rate < 1000 || o->rate > 100000000) {
				fprintf(stderr, "rk-bench: --rate takes 1000..100000000\n");
				return -EINVAL;
			}
			break;
		case 'q': o->quick = true; break;
		case 'j': *fmt = 1; break;
		case 'v': *fmt = 2; break;
		case 'Q': quiet = true; break;
		case 'P': want_progress = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (!any)
		for (unsigned i = 0; i < NSCN; i++)
			want[i] = scn_default[i];
	if (o->duration == 0)
		o->duration = o->quick ? 0.05 : 1.0;
	if (o->quick) {
		if (!runs_set)
			o->runs = 1;
		o->launches = 10;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bopts o;
	bool want[NSCN];
	int fmt;
	if (parse(argc, argv, &o, want, &fmt) < 0)
		return 2;
	struct fingerprint fp;
	int ret = fingerprint(&o, &fp);
	if (ret < 0)
		return 1;
	struct rows *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return 1;
	/* The ETA, where someone watches (or asked): never on stdout. */
	eta.on = !quiet && (want_progress || isatty(STDERR_FILENO));
	if (eta.on) {
		void *page = mmap(NULL, sizeof(unsigned), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		eta.done = page == MAP_FAILED ? NULL : page;
		for (unsigned i = 0; i < NSCN; i++) {
			if (!want[i])
				continue;
			scn_plan[i](&o, &eta.p[eta.n]);
			eta.steps += eta.p[eta.n].steps;
			eta.secs += eta.p[eta.n].secs;
			eta.n++;
		}
	}
	uint64_t t0 = now_ns();
	eta.t0 = t0;
	for (unsigned i = 0, run = 0; i < NSCN && ret == 0; i++) {
		if (!want[i])
			continue;
		/* before the scenario forks its children, who inherit it */
		eta.cur = run++;
		if (eta.done)
			__atomic_store_n(eta.done, 0, __ATOMIC_RELAXED);
		ret = scn_fn[i](&o, rs);
		if (ret < 0)
			fprintf(stderr, "rk-bench: scenario %s failed: %s\n", all_scenarios[i],
				rk_strerror(ret));
	}
	resolve_ratios(rs);
	if (!quiet)
		fprintf(stderr, "rk-bench: done in %.1f s\n", (double)(now_ns() - t0) / 1e9);
	if (fmt == 1)
		print_json(&fp, &o, rs);
	else if (fmt == 2)
		print_csv(&fp, rs);
	else
		print_table(&fp, &o, rs);
	free(rs);
	return ret < 0 ? 1 : 0;
}
