/* SPDX-License-Identifier: MIT */
/*
 * What the runtime builder loads, through the public API:
 *
 *  - an explicit backend (the builder's enum other than Auto, its
 *    backend_name, or RK_BACKEND=NAME) opens only that plugin's file: no
 *    other plugin's constructor or probe runs, so one that crashes, exits
 *    or leaves threads behind cannot touch a program that asked for cpu;
 *  - Auto goes on to the next usable plugin when the one it chose cannot
 *    open the device; an explicit backend fails with that reason;
 *  - a set-uid program ignores every variable that names code to load
 *    (RK_OPENCL_LIB, RK_BACKEND, RK_PLUGIN_PATH), as ld.so ignores
 *    LD_LIBRARY_PATH for it.
 *
 * The plugins that must not run are test-only ones from tests/plugins/:
 * ctor_marker writes $RKT_MARKER from its constructor (before any check of
 * ours could stop it), probe_crash and probe_exit end the process.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#include "testutil.h"

#if !defined(RKT_PLUGIN_BUILD_DIR) || !defined(RKT_PLUGINS_ALL) || !defined(RKT_SETUID_HELPER)
#error "tests/plugins.mk passes RKT_PLUGIN_BUILD_DIR, RKT_PLUGINS_ALL and RKT_SETUID_HELPER"
#endif

#define MAX_DIRS 4
static char tmp_dirs[MAX_DIRS][64];
static int n_tmp_dirs;

static void rm_dirs(void)
{
	for (int i = 0; i < n_tmp_dirs; i++) {
		DIR *d = opendir(tmp_dirs[i]);
		struct dirent *e;
		if (!d)
			continue;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
		rmdir(tmp_dirs[i]);
	}
	n_tmp_dirs = 0;
}

static const char *make_dir(void)
{
	cr_assert_lt(n_tmp_dirs, MAX_DIRS);
	char *d = tmp_dirs[n_tmp_dirs];
	snprintf(d, sizeof(tmp_dirs[0]), "/tmp/rk-selecttest-XXXXXX");
	cr_assert_not_null(mkdtemp(d), "mkdtemp: %s", strerror(errno));
	n_tmp_dirs++;
	return d;
}

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

/* tests/plugins/.libs/MODULE.so as DIR/rk-plugin-NAME.so */
static void install(const char *dir, const char *module, const char *name)
{
	char src[4096], dst[4096];
	snprintf(src, sizeof(src), "%s/%s.so", RKT_PLUGIN_BUILD_DIR, module);
	snprintf(dst, sizeof(dst), "%s/rk-plugin-%s.so", dir, name);
	copy_file(src, dst, 0644);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char marker[4200];

/* Where ctor_marker tells on itself; nothing there yet. */
static const char *arm_marker(const char *dir)
{
	snprintf(marker, sizeof(marker), "%s/marker", dir);
	cr_assert_eq(setenv("RKT_MARKER", marker, 1), 0);
	return marker;
}

static void assert_not_loaded(const char *what)
{
	char buf[256] = "";
	int fd = open(marker, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	cr_assert_lt(fd, 0, "%s ran ctor_marker's constructor: %s", what, buf);
}

static void need_real_cpu_plugin(void)
{
	if (!exists(RKT_PLUGINS_ALL "/rk-plugin-cpu.so"))
		cr_skip_test("%s/rk-plugin-cpu.so is not built", RKT_PLUGINS_ALL);
}

/* A directory of plugins that must never run beside the real ones. */
static const char *hostile_dir(void)
{
	const char *d = make_dir();
	install(d, "ctor_marker", "marker");
	install(d, "probe_crash", "crash");
	install(d, "probe_exit", "exits");
	return d;
}

static void path_first(const char *dir)
{
	char search[4300];
	snprintf(search, sizeof(search), "%s:%s", dir, RKT_PLUGINS_ALL);
	cr_assert_eq(setenv("RK_PLUGIN_PATH", search, 1), 0);
}

/* ---- an explicit backend opens only its own plugin ---------------------- */

Test(explicit, rk_backend_cpu_runs_no_other_plugin, .fini = rm_dirs)
{
	rk_runtime *rt = NULL;
	need_real_cpu_plugin();
	const char *d = hostile_dir();
	arm_marker(make_dir());
	/* The hostile directory comes first: a scan of everything would crash
	 * in crash's probe (alphasort puts it first) before finding cpu. */
	path_first(d);
	unsetenv("RK_BACKEND");
	cr_assert_eq(rk_runtime_new(RK_BACKEND_CPU, &rt), 0, "%s", rk_last_error());
	cr_assert_str_eq(rk_runtime_backend_name(rt), "cpu");
	rk_runtime_shutdown(rt);
	assert_not_loaded("rk_runtime_new(RK_BACKEND_CPU)");
}

Test(explicit, rk_backend_env_runs_no_other_plugin, .fini = rm_dirs)
{
	rk_runtime *rt = NULL;
	need_real_cpu_plugin();
	const char *d = make_dir();
	install(d, "ctor_marker", "marker");
	install(d, "probe_exit", "exits");
	arm_marker(make_dir());
	path_first(d);
	/* The program asks for Auto; the environment names the backend. */
	cr_assert_eq(setenv("RK_BACKEND", "cpu", 1), 0);
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), 0, "%s", rk_last_error());
	unsetenv("RK_BACKEND");
	cr_assert_str_eq(rk_runtime_backend_name(rt), "cpu");
	rk_runtime_shutdown(rt);
	assert_not_loaded("RK_BACKEND=cpu");
}

Test(explicit, backend_name_runs_no_other_plugin, .fini = rm_dirs)
{
	rk_runtime *rt = NULL;
	const char *d = hostile_dir();
	install(d, "slow", "slow");
	arm_marker(make_dir());
	cr_assert_eq(setenv("RK_PLUGIN_PATH", d, 1), 0);
	unsetenv("RK_BACKEND");
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "slow");
	cr_assert_eq(rk_runtime_builder_build(b, &rt), 0, "%s", rk_last_error());
	cr_assert_str_eq(rk_runtime_backend_name(rt), "slow");
	rk_runtime_shutdown(rt);
	assert_not_loaded("backend_name(\"slow\")");
}

Test(explicit, first_file_of_the_name_owns_it, .fini = rm_dirs)
{
	rk_runtime *rt = NULL;
	char path[4200];
	need_real_cpu_plugin();
	const char *d = make_dir();
	/* A broken rk-plugin-cpu.so first on the path: the build fails with
	 * its reason rather than run a cpu plugin from further down. */
	snprintf(path, sizeof(path), "%s/rk-plugin-cpu.so", d);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "junk", 4), 4);
	close(fd);
	path_first(d);
	unsetenv("RK_BACKEND");
	cr_assert_eq(rk_runtime_new(RK_BACKEND_CPU, &rt), -ENOEXEC, "%s", rk_last_error());
	cr_assert_null(rt);
	cr_assert(strstr(rk_last_error(), path), "%s", rk_last_error());
}

Test(explicit, unknown_backend_is_enoent_naming_the_path, .fini = rm_dirs)
{
	rk_runtime *rt = NULL;
	const char *d = hostile_dir();
	arm_marker(make_dir());
	cr_assert_eq(setenv("RK_PLUGIN_PATH", d, 1), 0);
	cr_assert_eq(setenv("RK_BACKEND", "nosuch", 1), 0);
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), -ENOENT);
	unsetenv("RK_BACKEND");
	cr_assert(strstr(rk_last_error(), "no plugin named nosuch"), "%s", rk_last_error());
	cr_assert(strstr(rk_last_error(), d), "%s", rk_last_error());
	assert_not_loaded("RK_BACKEND=nosuch");
}

Test(explicit, backend_name_outside_the_alphabet_is_einval, .fini = rm_dirs)
{
	rk_runtime *rt = NULL;
	const char *d = make_dir();
	install(d, "slow", "slow");
	cr_assert_eq(setenv("RK_PLUGIN_PATH", d, 1), 0);
	unsetenv("RK_BACKEND");
	/* It would name a file outside the plugin directories. */
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "../slow");
	cr_assert_eq(rk_runtime_builder_build(b, &rt), -EINVAL, "%s", rk_last_error());
	cr_assert_null(rt);
	cr_assert(strstr(rk_last_error(), "../slow"), "%s", rk_last_error());
}

/* Every PoCL program kept PoCL's worker threads even on the CPU backend:
 * discovery probed the OpenCL plugin, whose ICD loader stays loaded. */
Test(explicit, cpu_backend_maps_nothing_of_opencl)
{
	rk_runtime *rt = NULL;
	static char maps[1 << 20];
	need_real_cpu_plugin();
	if (!exists(RKT_PLUGINS_ALL "/rk-plugin-opencl.so"))
		cr_skip_test("rk-plugin-opencl.so is not built here");
	cr_assert_eq(setenv("RK_PLUGIN_PATH", RKT_PLUGINS_ALL, 1), 0);
	unsetenv("RK_BACKEND");
	cr_assert_eq(rk_runtime_new(RK_BACKEND_CPU, &rt), 0, "%s", rk_last_error());
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	size_t got = 0;
	ssize_t r;
	while (got < sizeof(maps) - 1 && (r = read(fd, maps + got, sizeof(maps) - 1 - got)) > 0)
		got += (size_t)r;
	maps[got] = '\0';
	close(fd);
	cr_assert(strstr(maps, "rk-plugin-cpu"), "the cpu plugin is not mapped?");
	cr_assert_null(strstr(maps, "rk-plugin-opencl"));
	cr_assert_null(strstr(maps, "libOpenCL"));
	cr_assert_null(strstr(maps, "libpocl"));
	rk_runtime_shutdown(rt);
}

/* ---- Auto goes past a plugin that cannot open --------------------------- */

Test(fallback, auto_goes_past_a_plugin_whose_open_fails, .fini = rm_dirs)
{
	rk_runtime *rt = NULL;
	const char *d = make_dir();
	install(d, "open_fails", "openfail"); /* priority 2000 */
	install(d, "fast", "fast");	      /* priority 1000 */
	install(d, "slow", "slow");	      /* priority 50 */
	cr_assert_eq(setenv("RK_PLUGIN_PATH", d, 1), 0);
	unsetenv("RK_BACKEND");
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), 0, "%s", rk_last_error());
	cr_assert_str_eq(rk_runtime_backend_name(rt), "fast");
	rk_runtime_shutdown(rt);
}

Test(fallback, explicit_backend_whose_open_fails_is_its_error, .fini = rm_dirs)
{
	rk_runtime *rt = NULL;
	const char *d = make_dir();
	install(d, "open_fails", "openfail");
	install(d, "fast", "fast");
	cr_assert_eq(setenv("RK_PLUGIN_PATH", d, 1), 0);
	cr_assert_eq(setenv("RK_BACKEND", "openfail", 1), 0);
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), -EIO, "%s", rk_last_error());
	unsetenv("RK_BACKEND");
	cr_assert_null(rt);
	cr_assert(strstr(rk_last_error(), "openfail"), "%s", rk_last_error());
	cr_assert(strstr(rk_last_error(), "open"), "%s", rk_last_error());
}

Test(fallback, auto_with_every_open_failing_is_enodev_with_reasons, .fini = rm_dirs)
{
	rk_runtime *rt = NULL;
	rk_plugin_info info[16];
	unsigned n = 0;
	const char *d = make_dir();
	install(d, "open_fails", "openfail");
	install(d, "probe_fails", "probefail");
	unsetenv("RK_PLUGIN_PATH");
	unsetenv("RK_BACKEND");
	cr_assert_eq(rk_plugins_list(d, 0, info, 16, &n), 0);
	for (unsigned i = 0; i < n && i < 16; i++)
		if (info[i].status == 0 && strcmp(info[i].name, "openfail"))
			cr_skip_test("a usable plugin is installed: %s", info[i].path);
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_plugin_path(b, d);
	cr_assert_eq(rk_runtime_builder_build(b, &rt), -ENODEV, "%s", rk_last_error());
	cr_assert_null(rt);
	cr_assert(strstr(rk_last_error(), "no usable plugin"), "%s", rk_last_error());
	cr_assert(strstr(rk_last_error(), "openfail: open of device 0 failed"), "%s",
		  rk_last_error());
	cr_assert(strstr(rk_last_error(), "probefail: no test device"), "%s", rk_last_error());
}

/* ---- a set-uid program ignores variables that name code ----------------- */

struct helper_run {
	int secure, ret;
	unsigned euid;
	char backend[64];
	char out[4096];
};

/* Run tests/setuid_helper BACKEND PLUGIN_PATH with exactly `env`: either
 * as it is (as root, not set-uid), or as a set-uid-root copy that nobody
 * (uid 65534) runs. */
static void run_helper(bool setuid_as_nobody, const char *backend, const char *plugin_path,
		       char *const env[], struct helper_run *r)
{
	static char copy[4200];
	const char *prog = RKT_SETUID_HELPER;
	int pfd[2];

	if (setuid_as_nobody) {
		/* Its own directory: root's, 0755, so nobody can reach it. */
		const char *d = make_dir();
		cr_assert_eq(chmod(d, 0755), 0);
		snprintf(copy, sizeof(copy), "%s/helper", d);
		copy_file(RKT_SETUID_HELPER, copy, 0755);
		cr_assert_eq(chown(copy, 0, 0), 0, "chown: %s", strerror(errno));
		cr_assert_eq(chmod(copy, 04755), 0);
		prog = copy;
	}
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		if (setuid_as_nobody &&
		    (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
			_exit(120);
		execve(prog, (char *[]){ (char *)prog, (char *)backend, (char *)plugin_path, NULL },
		       env);
		_exit(121);
	}
	close(pfd[1]);
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(r->out) - 1 &&
	       (n = read(pfd[0], r->out + got, sizeof(r->out) - 1 - got)) > 0)
		got += (size_t)n;
	r->out[got] = '\0';
	close(pfd[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_log_info("helper %s %s%s:\n%s", backend, plugin_path,
		    setuid_as_nobody ? " (set-uid root, run by nobody)" : "", r->out);
	cr_assert(WIFEXITED(st), "helper: status %#x", st);
	cr_assert_neq(WEXITSTATUS(st), 120, "could not become nobody");
	cr_assert_eq(WEXITSTATUS(st), 0, "helper exited %d:\n%s", WEXITSTATUS(st), r->out);
	cr_assert_eq(sscanf(r->out, "secure=%d euid=%u ret=%d backend=%63s", &r->secure, &r->euid,
			    &r->ret, r->backend),
		     4, "helper said: %s", r->out);
	if (setuid_as_nobody && (!r->secure || r->euid != 0))
		cr_skip_test("the set-uid bit took no effect here (nosuid mount or "
			     "no_new_privs): secure=%d euid=%u",
			     r->secure, r->euid);
}

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("making a set-uid-root program needs root");
}

/* The environment a hostile caller hands the program, plus what the
 * sanitizers need: LeakSanitizer cannot stop a set-uid process's threads. */
#define HOSTILE_ENV(...)                                                                     \
	(char *const[])                                                                      \
	{                                                                                    \
		__VA_ARGS__, marker_env, "ASAN_OPTIONS=detect_leaks=0", "RK_LOG=error", NULL \
	}

static char marker_env[4300];

static void arm_helper_marker(void)
{
	arm_marker(make_dir());
	/* The constructor runs as root in the set-uid case: let it write
	 * there, so a missing file means it never ran. */
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s", marker);
	*strrchr(dir, '/') = '\0';
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(marker_env, sizeof(marker_env), "RKT_MARKER=%s", marker);
}

Test(setuid, rk_opencl_lib_is_ignored, .fini = rm_dirs, .timeout = 120)
{
	struct helper_run r;
	static char lib[4300];
	need_root();
	if (!exists(RKT_PLUGINS_ALL "/rk-plugin-opencl.so"))
		cr_skip_test("rk-plugin-opencl.so is not built here");
	arm_helper_marker();
	snprintf(lib, sizeof(lib), "RK_OPENCL_LIB=%s/ctor_marker.so", RKT_PLUGIN_BUILD_DIR);

	/* A plain program honours it (a documented test switch): the marker
	 * proves the hostile library is loadable ... */
	run_helper(false, "opencl", RKT_PLUGINS_ALL, HOSTILE_ENV(lib), &r);
	cr_assert_eq(r.secure, 0);
	cr_assert(exists(marker), "RK_OPENCL_LIB was not loaded by a plain program");
	cr_assert_eq(unlink(marker), 0);

	/* ... which a set-uid one never loads, whatever backend it ends on. */
	run_helper(true, "opencl", RKT_PLUGINS_ALL, HOSTILE_ENV(lib), &r);
	assert_not_loaded("a set-uid program with RK_OPENCL_LIB");
}

Test(setuid, rk_backend_is_ignored, .fini = rm_dirs, .timeout = 120)
{
	struct helper_run r;
	static char path[4300];
	need_root();
	need_real_cpu_plugin();
	arm_helper_marker();
	const char *d = make_dir();
	cr_assert_eq(chmod(d, 0755), 0);
	install(d, "ctor_marker", "marker");
	snprintf(path, sizeof(path), "%s:%s", RKT_PLUGINS_ALL, d);

	run_helper(true, "cpu", path, HOSTILE_ENV("RK_BACKEND=marker"), &r);
	cr_assert_eq(r.ret, 0, "%s", r.out);
	cr_assert_str_eq(r.backend, "cpu");
	assert_not_loaded("a set-uid program with RK_BACKEND=marker");
}

Test(setuid, rk_plugin_path_is_ignored, .fini = rm_dirs, .timeout = 120)
{
	struct helper_run r;
	static char env_path[4300];
	need_root();
	need_real_cpu_plugin();
	arm_helper_marker();
	const char *d = make_dir();
	cr_assert_eq(chmod(d, 0755), 0);
	/* Not a cpu plugin at all: its constructor tells if it is loaded. */
	install(d, "ctor_marker", "cpu");
	snprintf(env_path, sizeof(env_path), "RK_PLUGIN_PATH=%s", d);

	run_helper(true, "cpu", RKT_PLUGINS_ALL, HOSTILE_ENV(env_path), &r);
	cr_assert_eq(r.ret, 0, "%s", r.out);
	cr_assert_str_eq(r.backend, "cpu");
	assert_not_loaded("a set-uid program with RK_PLUGIN_PATH");
}
