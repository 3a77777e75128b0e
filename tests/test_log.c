/* SPDX-License-Identifier: MIT */
/*
 * Logging and the version macros, through the public API only: the lines
 * are the library's own (building a CPU runtime says "runtime: backend cpu"
 * at info; a plugin directory that is a file is a warning of the loader).
 * Each test runs in its own process, so the environment it sets is read
 * fresh by the first build.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#include "testutil.h"

/* ---- what a handler got ------------------------------------------------- */

#define MAX_REC 256

struct record {
	pthread_mutex_t mu;
	unsigned n, dropped;
	int level[MAX_REC];
	char msg[MAX_REC][512];
};

static struct record rec = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void recorder(int level, const char *msg, void *arg)
{
	struct record *r = arg;
	pthread_mutex_lock(&r->mu);
	if (r->n < MAX_REC) {
		r->level[r->n] = level;
		snprintf(r->msg[r->n], sizeof(r->msg[0]), "%s", msg);
		r->n++;
	} else {
		r->dropped++;
	}
	pthread_mutex_unlock(&r->mu);
}

/* How many recorded messages contain `text`; *level_p gets the level of
 * the last one. */
static unsigned count_msgs(const char *text, int *level_p)
{
	unsigned c = 0;
	pthread_mutex_lock(&rec.mu);
	for (unsigned i = 0; i < rec.n; i++)
		if (strstr(rec.msg[i], text)) {
			c++;
			if (level_p)
				*level_p = rec.level[i];
		}
	pthread_mutex_unlock(&rec.mu);
	return c;
}

static unsigned count_at_level(int level)
{
	unsigned c = 0;
	pthread_mutex_lock(&rec.mu);
	for (unsigned i = 0; i < rec.n; i++)
		c += rec.level[i] == level;
	pthread_mutex_unlock(&rec.mu);
	return c;
}

static void dump(void)
{
	pthread_mutex_lock(&rec.mu);
	for (unsigned i = 0; i < rec.n; i++)
		cr_log_info("got [%d] %s", rec.level[i], rec.msg[i]);
	pthread_mutex_unlock(&rec.mu);
}

/* ---- what makes the library log ----------------------------------------- */

static char tmpdir[PATH_MAX];
static char not_a_dir[PATH_MAX + 16];

static void make_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rk-test-log-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(not_a_dir, sizeof(not_a_dir), "%s/file", tmpdir);
	FILE *f = fopen(not_a_dir, "w");
	cr_assert_not_null(f);
	fclose(f);
}

static void rm_tmp(void)
{
	char cmd[PATH_MAX + 16];
	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", tmpdir);
}

/* One warning "plugin directory FILE: not a directory, skipped", and
 * nothing else: the only directory searched is a regular file. */
static void log_one_warning(void)
{
	rk_plugin_info info[4];
	unsigned n = 99;
	cr_assert_eq(rk_plugins_find(not_a_dir, info, 4, &n), 0, "%s", rk_last_error());
	cr_assert_eq(n, 0);
}

static void only_not_a_dir(void)
{
	unsetenv("RK_PLUGIN_PATH");
	setenv("RK_PLUGIN_PATH_ONLY", "1", 1);
}

/* Building a CPU runtime logs its backend at info, its reactor at debug. */
static void build_cpu_runtime(void)
{
	rk_runtime *rt = NULL;
	cr_assert_eq(rk_runtime_new(RK_BACKEND_CPU, &rt), 0, "%s", rk_last_error());
	rk_runtime_shutdown(rt);
}

static char *slurp(const char *path)
{
	/* The whole file, however long (the threads test writes ~250 KB):
	 * a fixed buffer would cut lines off and lose them from the count. */
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	static char *buf;
	static size_t cap;
	size_t n = 0;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 1 << 16;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static unsigned count_lines_with(const char *text, const char *needle)
{
	unsigned c = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *hit = strstr(p, needle);
		if (hit && hit < p + len)
			c++;
		p += len + (nl ? 1 : 0);
	}
	return c;
}

/* ---- version ------------------------------------------------------------ */

Test(version, macros_are_what_the_library_says)
{
	char v[64];
	snprintf(v, sizeof(v), "%d.%d.%d", RK_VERSION_MAJOR, RK_VERSION_MINOR, RK_VERSION_PATCH);
	cr_assert_str_eq(RK_VERSION_STRING, rk_version());
	cr_assert_eq(strncmp(rk_version(), v, strlen(v)), 0, "%s vs %s", rk_version(), v);
	cr_assert_eq(RK_VERSION_NUM,
		     RK_VERSION_MAJOR * 10000 + RK_VERSION_MINOR * 100 + RK_VERSION_PATCH);
	int maj, min, pat;
	cr_assert_eq(sscanf(rk_version(), "%d.%d.%d", &maj, &min, &pat), 3);
	cr_assert_eq(maj, RK_VERSION_MAJOR);
	cr_assert_eq(min, RK_VERSION_MINOR);
	cr_assert_eq(pat, RK_VERSION_PATCH);
}

Test(version, check_macro_compares_with_the_headers)
{
	cr_assert(RK_VERSION_CHECK(0, 0, 0));
	cr_assert(RK_VERSION_CHECK(RK_VERSION_MAJOR, RK_VERSION_MINOR, RK_VERSION_PATCH));
	cr_assert_not(RK_VERSION_CHECK(RK_VERSION_MAJOR, RK_VERSION_MINOR, RK_VERSION_PATCH + 1));
	cr_assert_not(RK_VERSION_CHECK(RK_VERSION_MAJOR + 1, 0, 0));
#if !RK_VERSION_CHECK(0, 1, 0)
	cr_assert_fail("usable in #if");
#endif
}

/* ---- the handler -------------------------------------------------------- */

Test(handler, gets_each_enabled_level_with_its_text, .init = make_tmp, .fini = rm_tmp)
{
	int level = -1;
	setenv("RK_LOG", "debug", 1);
	rk_set_log_handler(recorder, &rec);
	build_cpu_runtime();
	only_not_a_dir();
	log_one_warning();
	dump();

	cr_assert_eq(count_msgs("runtime: backend cpu", &level), 1);
	cr_assert_eq(level, RK_LOG_INFO);
	cr_assert_geq(count_msgs("reactor: ", &level), 1);
	cr_assert_eq(level, RK_LOG_DEBUG);
	char want[2 * PATH_MAX];
	snprintf(want, sizeof(want), "plugin_loader: plugin directory %s: not a directory, skipped",
		 not_a_dir);
	cr_assert_eq(count_msgs(want, &level), 1);
	cr_assert_eq(level, RK_LOG_WARN);
	/* The message is "SUBSYSTEM: TEXT", nothing around it. */
	pthread_mutex_lock(&rec.mu);
	for (unsigned i = 0; i < rec.n; i++) {
		cr_assert_eq(strchr(rec.msg[i], '\n'), NULL, "%s", rec.msg[i]);
		cr_assert_neq(strstr(rec.msg[i], ": "), NULL, "%s", rec.msg[i]);
		cr_assert_eq(strstr(rec.msg[i], "ringkernel["), NULL, "%s", rec.msg[i]);
	}
	pthread_mutex_unlock(&rec.mu);
	rk_set_log_handler(NULL, NULL);
}

Test(handler, launch_and_terminate_are_logged_at_info, .init = make_tmp, .fini = rm_tmp)
{
	setenv("RK_LOG", "info", 1);
	rk_set_log_handler(recorder, &rec);
	rk_runtime *rt;
	cr_assert_eq(rk_runtime_new(RK_BACKEND_CPU, &rt), 0, "%s", rk_last_error());
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_name(&o, "logged");
	rk_launch_options_with_queue_capacity(&o, 64);
	rk_kernel *k;
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &k), 0, "%s", rk_last_error());
	rk_message *m = malloc(sizeof(*m));
	for (int i = 0; i < 3; i++)
		cr_assert_eq(rk_kernel_call(k, 1, "x", 1, m, 10000000000ull), 0);
	free(m);
	char want[256];
	snprintf(want, sizeof(want),
		 "runtime: kernel %llu (\"echo\" as \"logged\") launched on cpu: input 64 x ",
		 (unsigned long long)rk_kernel_id(k));
	int level = -1;
	cr_assert_eq(count_msgs(want, &level), 1, "no launch line \"%s\"", want);
	cr_assert_eq(level, RK_LOG_INFO);
	cr_assert_eq(rk_kernel_terminate(k), 0);
	snprintf(want, sizeof(want),
		 "lifecycle: kernel %llu (\"logged\") terminated: 3 messages processed, 0 errors",
		 (unsigned long long)rk_kernel_id(k));
	cr_assert_eq(count_msgs(want, &level), 1, "no terminate line \"%s\"", want);
	cr_assert_eq(level, RK_LOG_INFO);
	rk_kernel_release(k);
	rk_runtime_shutdown(rt);
	dump();
	rk_set_log_handler(NULL, NULL);
}

Test(handler, gets_nothing_below_the_level, .init = make_tmp, .fini = rm_tmp)
{
	setenv("RK_LOG", "warn", 1);
	rk_set_log_handler(recorder, &rec);
	build_cpu_runtime();
	only_not_a_dir();
	log_one_warning();
	dump();
	cr_assert_eq(count_at_level(RK_LOG_INFO), 0);
	cr_assert_eq(count_at_level(RK_LOG_DEBUG), 0);
	cr_assert_eq(count_msgs("not a directory", NULL), 1);

	setenv("RK_LOG", "error", 1);
	log_one_warning();
	cr_assert_eq(count_msgs("not a directory", NULL), 1, "a warning at RK_LOG=error");
}

Test(handler, program_level_applies_unless_rk_log_is_set, .init = make_tmp, .fini = rm_tmp)
{
	unsetenv("RK_LOG");
	rk_set_log_handler(recorder, &rec);
	cr_assert_eq(rk_set_log_level(RK_LOG_DEBUG + 1), -EINVAL);
	cr_assert_eq(rk_set_log_level(-1), -EINVAL);
	cr_assert_eq(rk_set_log_level(RK_LOG_INFO), 0);
	build_cpu_runtime();
	cr_assert_eq(count_msgs("runtime: backend cpu", NULL), 1);
	cr_assert_eq(count_at_level(RK_LOG_DEBUG), 0);

	/* The user's RK_LOG wins over the program's choice. */
	setenv("RK_LOG", "error", 1);
	build_cpu_runtime();
	cr_assert_eq(count_msgs("runtime: backend cpu", NULL), 1, "info at RK_LOG=error");
	cr_assert_eq(rk_set_log_level(RK_LOG_DEBUG), 0);
	only_not_a_dir();
	log_one_warning();
	cr_assert_eq(count_msgs("not a directory", NULL), 0);
}

Test(handler, null_restores_the_default_sink, .init = make_tmp, .fini = rm_tmp)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/log", tmpdir);
	setenv("RK_LOG_FILE", path, 1);
	only_not_a_dir();
	rk_set_log_handler(recorder, &rec);
	log_one_warning();
	rk_set_log_handler(NULL, &rec);
	log_one_warning();
	log_one_warning();
	cr_assert_eq(count_msgs("not a directory", NULL), 1);
	cr_assert_eq(count_lines_with(slurp(path), "not a directory"), 2);
}

/* What the handler does may log too: it goes to the default sink instead of
 * back into the handler, and the handler may swap itself out. */
static void reentrant(int level, const char *msg, void *arg)
{
	recorder(level, msg, arg);
	if (strstr(msg, "not a directory")) {
		log_one_warning();
		rk_set_log_handler(NULL, NULL);
	}
}

Test(handler, may_call_the_library, .init = make_tmp, .fini = rm_tmp, .timeout = 30)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/log", tmpdir);
	setenv("RK_LOG_FILE", path, 1);
	only_not_a_dir();
	rk_set_log_handler(reentrant, &rec);
	log_one_warning();
	log_one_warning();
	cr_assert_eq(count_msgs("not a directory", NULL), 1);
	cr_assert_eq(count_lines_with(slurp(path), "not a directory"), 2);
}

/* ---- RK_LOG_FILE ------------------------------------------------------- */

/* The fd this process has open on `path`, or -1. */
static int fd_of(const char *path)
{
	char link[64], target[PATH_MAX];
	for (int fd = 0; fd < 1024; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, path))
			return fd;
	}
	return -1;
}

Test(log_file, lines_carry_time_pid_and_thread, .init = make_tmp, .fini = rm_tmp)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/log", tmpdir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("kept\n", f);
	fclose(f);
	cr_assert_eq(chmod(path, 0644), 0);
	setenv("RK_LOG_FILE", path, 1);
	setenv("RK_LOG", "info", 1);
	time_t before = time(NULL);
	build_cpu_runtime();
	time_t after = time(NULL);

	/* Appended to, not truncated; opened O_APPEND | O_CLOEXEC. */
	const char *text = slurp(path);
	cr_log_info("%s", text);
	cr_assert_eq(strncmp(text, "kept\n", 5), 0, "%s", text);
	int fd = fd_of(path);
	cr_assert_geq(fd, 0, "no fd open on %s", path);
	cr_assert(fcntl(fd, F_GETFL) & O_APPEND);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	unsigned lines = 0, backend = 0;
	for (const char *p = strchr(text, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
		struct tm tm = { 0 };
		int usec_at = 0, usec_end = 0, rest = 0;
		long pid = 0, tid = 0;
		char level[16];
		int got = sscanf(
			p, "%4d-%2d-%2dT%2d:%2d:%2d.%n%*6d%nZ ringkernel[%ld/%ld] %15[a-z]: %n",
			&tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
			&usec_at, &usec_end, &pid, &tid, level, &rest);
		cr_assert_eq(got, 9, "unparsed line: %.200s", p);
		cr_assert_eq(usec_end - usec_at, 6, "microseconds: %.40s", p);
		cr_assert_eq(pid, (long)getpid(), "%.200s", p);
		cr_assert_gt(tid, 0, "%.200s", p);
		cr_assert(!strcmp(level, "info") || !strcmp(level, "warn") ||
				  !strcmp(level, "error"),
			  "%s", level);
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		time_t t = timegm(&tm);
		cr_assert(t >= before - 1 && t <= after + 1, "time %ld not in [%ld, %ld]", (long)t,
			  (long)before, (long)after);
		if (!strncmp(p + rest, "runtime: backend cpu", 20)) {
			/* Said by the thread that built the runtime. */
			cr_assert_eq(tid, (long)syscall(SYS_gettid), "%.200s", p);
			cr_assert_str_eq(level, "info");
			backend++;
		}
		lines++;
	}
	cr_assert_geq(lines, 1);
	cr_assert_eq(backend, 1);
}

Test(log_file, is_created_owner_only, .init = make_tmp, .fini = rm_tmp)
{
	char path[PATH_MAX + 16];
	struct stat st;
	snprintf(path, sizeof(path), "%s/new.log", tmpdir);
	setenv("RK_LOG_FILE", path, 1);
	only_not_a_dir();
	mode_t old = umask(0);
	log_one_warning();
	umask(old);
	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
	cr_assert_eq(count_lines_with(slurp(path), "not a directory"), 1);
}

Test(log_file, unopenable_warns_once_and_is_not_retried, .init = make_tmp, .fini = rm_tmp)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/no/such/dir/log", tmpdir);
	setenv("RK_LOG_FILE", path, 1);
	only_not_a_dir();
	rk_set_log_handler(recorder, &rec);
	log_one_warning();
	log_one_warning();
	dump();
	int level = -1;
	cr_assert_eq(count_msgs("RK_LOG_FILE=", &level), 1);
	cr_assert_eq(level, RK_LOG_WARN);
	cr_assert_eq(count_msgs("No such file or directory", NULL), 1);
	cr_assert_eq(count_msgs("not a directory", NULL), 2);
}

/* A set-uid program must not write a file its caller names with its own
 * privileges: tests/setuid_helper, made set-uid root and run by nobody,
 * logs to stderr (saying so) and never creates RK_LOG_FILE. */
static void copy_file(const char *src, const char *dst, mode_t mode)
{
	struct stat st;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(in, 0, "%s: %s (was `make check` run?)", src, strerror(errno));
	cr_assert_eq(fstat(in, &st), 0);
	char *buf = malloc((size_t)st.st_size);
	cr_assert_not_null(buf);
	cr_assert_eq(read(in, buf, (size_t)st.st_size), st.st_size);
	close(in);
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(out, 0, "create %s: %s", dst, strerror(errno));
	cr_assert_eq(write(out, buf, (size_t)st.st_size), st.st_size);
	cr_assert_eq(fchmod(out, mode), 0);
	close(out);
	free(buf);
}

static size_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	return got;
}

Test(log_file, is_ignored_by_a_set_uid_program, .init = make_tmp, .fini = rm_tmp, .timeout = 120)
{
	char helper[PATH_MAX + 16], path[PATH_MAX + 16], env_file[PATH_MAX + 32];
	char out[4096], err[8192];
	int po[2], pe[2];

	if (geteuid() != 0)
		cr_skip_test("making a set-uid-root program needs root");
	cr_assert_eq(chmod(tmpdir, 0755), 0);
	snprintf(helper, sizeof(helper), "%s/helper", tmpdir);
	copy_file(RKT_SETUID_HELPER, helper, 0755);
	cr_assert_eq(chown(helper, 0, 0), 0, "chown: %s", strerror(errno));
	cr_assert_eq(chmod(helper, 04755), 0);
	snprintf(path, sizeof(path), "%s/setuid.log", tmpdir);
	snprintf(env_file, sizeof(env_file), "RK_LOG_FILE=%s", path);
	char *const env[] = { env_file, "RK_LOG=info", "ASAN_OPTIONS=detect_leaks=0", NULL };

	cr_assert_eq(pipe2(po, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(pe, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(120);
		execve(helper, (char *[]){ helper, "cpu", RKT_PLUGINS_ALL, NULL }, env);
		_exit(121);
	}
	close(po[1]);
	close(pe[1]);
	read_all(po[0], out, sizeof(out));
	read_all(pe[0], err, sizeof(err));
	int st, secure = -1;
	unsigned euid = 1;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_log_info("helper said:\n%s%s", out, err);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "helper: status %#x", st);
	cr_assert_eq(sscanf(out, "secure=%d euid=%u", &secure, &euid), 2, "%s", out);
	if (secure != 1 || euid != 0)
		cr_skip_test("the set-uid bit took no effect here (nosuid mount or no_new_privs)");
	cr_assert_eq(access(path, F_OK), -1, "%s was created", path);
	cr_assert_eq(count_lines_with(err, "RK_LOG_FILE is ignored in a set-uid"), 1, "%s", err);
	cr_assert_eq(count_lines_with(err, "] info: runtime: backend cpu"), 1, "%s", err);
}

/* ---- RK_LOG ------------------------------------------------------------- */

Test(rk_log, bad_value_warns_once_and_keeps_the_default, .init = make_tmp, .fini = rm_tmp)
{
	int level = -1;
	setenv("RK_LOG", "verbose", 1);
	rk_set_log_handler(recorder, &rec);
	only_not_a_dir();
	log_one_warning();
	log_one_warning();
	dump();
	cr_assert_eq(count_msgs("RK_LOG=verbose is not error|warn|info|debug; using warn", &level),
		     1);
	cr_assert_eq(level, RK_LOG_WARN);
	/* The default, warn: warnings yes, info no. */
	cr_assert_eq(count_msgs("not a directory", NULL), 2);
	cr_assert_eq(count_at_level(RK_LOG_INFO), 0);
}

/* ---- threads ------------------------------------------------------------ */

struct counted {
	unsigned long n, other;
};

static void counter(int level, const char *msg, void *arg)
{
	struct counted *c = arg;
	/* Calls are serialized: plain increments are safe, and TSan checks. */
	if (level == RK_LOG_WARN && strstr(msg, "not a directory, skipped"))
		c->n++;
	else
		c->other++;
}

static unsigned per_thread;
static int logging_done;

static void *log_worker(void *arg)
{
	for (unsigned i = 0; i < per_thread; i++)
		log_one_warning();
	__atomic_fetch_add(&logging_done, 1, __ATOMIC_RELEASE);
	return arg;
}

Test(threads, swapping_the_handler_loses_no_line, .init = make_tmp, .fini = rm_tmp, .timeout = 120)
{
	char path[PATH_MAX + 16];
	struct counted a = { 0 }, b = { 0 };
	pthread_t th[4];

	snprintf(path, sizeof(path), "%s/log", tmpdir);
	setenv("RK_LOG_FILE", path, 1);
	setenv("RK_LOG", "warn", 1);
	only_not_a_dir();
	per_thread = (unsigned)rk_test_count(500);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, log_worker, NULL), 0);
	unsigned swaps = 0;
	/* At least one swap, even where the workers finish first (a slow
	 * sanitized build with few messages per thread). */
	do {
		switch (swaps++ % 3) {
		case 0: rk_set_log_handler(counter, &a); break;
		case 1: rk_set_log_handler(counter, &b); break;
		default: rk_set_log_handler(NULL, NULL);
		}
		sched_yield();
	} while (__atomic_load_n(&logging_done, __ATOMIC_ACQUIRE) < 4);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	rk_set_log_handler(NULL, NULL); /* a and b are read below */

	unsigned long in_file = count_lines_with(slurp(path), "not a directory, skipped");
	cr_log_info("%u swaps: handler a %lu, handler b %lu, file %lu", swaps, a.n, b.n, in_file);
	cr_assert_eq(a.other + b.other, 0);
	cr_assert_eq(a.n + b.n + in_file, 4ul * per_thread);
	cr_assert_gt(swaps, 0);
}
