/* SPDX-License-Identifier: MIT */
/*
 * Plugin loader: every way a plugin file can be wrong is refused with its
 * own errno and reason, discovery goes on past it, and selection picks what
 * DESIGN §4 says. Each test builds its own plugin directory in a fresh
 * mkdtemp() from the test-only plugins in tests/plugins/, so nothing here
 * depends on the real backends or on what is installed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ringkernel/discovery.h>
#include <ringkernel/error.h>
#include <ringkernel/plugin.h>

#include "log.h"
#include "plugin_loader.h"
#include "testutil.h"

#ifndef RKT_PLUGIN_BUILD_DIR
#error "tests/plugins.mk passes RKT_PLUGIN_BUILD_DIR, where the test plugins are built"
#endif

#define MAX_DIRS 4
static char tmp_dirs[MAX_DIRS][64];
static int n_tmp_dirs;

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Make every directory under `top` ours to empty again, even one a test
 * made world-writable or gave away. */
static int chmod_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D && st->st_uid == geteuid())
		chmod(path, 0700);
	return 0;
}

/* .fini of every test: remove what it made, subdirectories included. */
static void rm_dirs(void)
{
	for (int i = 0; i < n_tmp_dirs; i++) {
		chmod(tmp_dirs[i], 0700);
		nftw(tmp_dirs[i], chmod_one, 16, FTW_PHYS);
		nftw(tmp_dirs[i], rm_one, 16, FTW_PHYS | FTW_DEPTH);
	}
	n_tmp_dirs = 0;
}

static const char *make_dir(void)
{
	cr_assert_lt(n_tmp_dirs, MAX_DIRS);
	char *d = tmp_dirs[n_tmp_dirs];
	snprintf(d, sizeof(tmp_dirs[0]), "/tmp/rk-plugtest-XXXXXX");
	cr_assert_not_null(mkdtemp(d), "mkdtemp: %s", strerror(errno));
	n_tmp_dirs++;
	return d;
}

static void write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	/* fchmod, not the umask: a umask of 002 would leave the file
	 * group-writable, and the loader would rightly refuse it. */
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void plugin_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/rk-plugin-%s.so", dir, name);
}

/* Copy tests/plugins/.libs/MODULE.so to DIR/rk-plugin-NAME.so. */
static void install(const char *dir, const char *module, const char *name)
{
	char src[4096], dst[4096];
	struct stat st;
	snprintf(src, sizeof(src), "%s/%s.so", RKT_PLUGIN_BUILD_DIR, module);
	plugin_path(dst, sizeof(dst), dir, name);
	int fd = open(src, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "test plugin %s: %s (was `make check` run?)", src, strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	char *buf = malloc((size_t)st.st_size);
	cr_assert_not_null(buf);
	cr_assert_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	write_file(dst, buf, (size_t)st.st_size, 0644);
	free(buf);
}

static void discover(const char *search, struct rki_plugin_set *set)
{
	cr_assert_eq(setenv("RK_PLUGIN_PATH", search, 1), 0);
	unsetenv("RK_BACKEND");
	cr_assert_eq(rki_plugins_discover(NULL, 0, set), 0);
}

/* The candidate for DIR/rk-plugin-NAME.so; failing the test if not listed. */
static struct rki_plugin *listed(struct rki_plugin_set *set, const char *dir, const char *name)
{
	char path[4096];
	plugin_path(path, sizeof(path), dir, name);
	for (unsigned i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].path, path))
			return &set->v[i];
	cr_assert(0, "%s is not listed (%u candidates)", path, set->n);
	return NULL;
}

static unsigned listed_in(const struct rki_plugin_set *set, const char *dir)
{
	unsigned n = 0;
	size_t len = strlen(dir);
	for (unsigned i = 0; i < set->n; i++)
		if (!strncmp(set->v[i].path, dir, len) && set->v[i].path[len] == '/')
			n++;
	return n;
}

#define assert_contains(hay, needle) \
	cr_assert(strstr((hay), (needle)) != NULL, "'%s' does not contain '%s'", (hay), (needle))

/* One refused plugin, alone in its directory: listed, not loaded, with the
 * errno and reason the test names; asked for by name, the same error. */
static void expect_refused(const char *module, const char *name, int err, const char *why)
{
	struct rki_plugin_set set;
	struct rki_plugin *p, *sel = (struct rki_plugin *)1;
	const char *d = make_dir();

	install(d, module, name);
	discover(d, &set);
	cr_assert_eq(listed_in(&set, d), 1);
	p = listed(&set, d, name);
	cr_assert_str_eq(p->name, name);
	cr_assert_eq(p->load_err, err, "load_err %d (%s), want %d; why: %s", p->load_err,
		     rk_strerror(p->load_err), err, p->why);
	cr_assert_null(p->dl);
	cr_assert_null(p->plugin);
	assert_contains(p->why, why);

	cr_assert_eq(rki_plugins_select(&set, name, &sel), err);
	cr_assert_null(sel);
	assert_contains(rk_last_error(), why);
	assert_contains(rk_last_error(), p->path);
	rki_plugins_release(&set, NULL, NULL);
	cr_assert_eq(set.n, 0);
	cr_assert_null(set.v);
}

/* ---- what the loader refuses -------------------------------------------- */

Test(loader, abi_major_mismatch_is_eproto, .fini = rm_dirs)
{
	expect_refused("abi_major", "abi", -EPROTO, "plugin ABI 2.0");
}

Test(loader, abi_major_mismatch_records_its_abi, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	const char *d = make_dir();
	install(d, "abi_major", "abi");
	discover(d, &set);
	struct rki_plugin *p = listed(&set, d, "abi");
	cr_assert_eq(p->abi_major, RK_PLUGIN_ABI_MAJOR + 1);
	cr_assert_eq(p->abi_minor, 0);
	/* Nothing past the version header was read: not even the version. */
	cr_assert_str_eq(p->version, "");
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, name_not_matching_file_is_einval, .fini = rm_dirs)
{
	expect_refused("misnamed", "misnamed", -EINVAL, "'impostor'");
}

Test(loader, missing_entry_symbol_is_enoexec, .fini = rm_dirs)
{
	expect_refused("no_entry", "no_entry", -ENOEXEC, "no rk_plugin_entry symbol");
}

Test(loader, entry_returning_null_is_enoexec, .fini = rm_dirs)
{
	expect_refused("null_entry", "null_entry", -ENOEXEC, "returned NULL");
}

Test(loader, struct_size_short_of_ops_is_eproto, .fini = rm_dirs)
{
	char want[64];
	snprintf(want, sizeof(want), "struct rk_plugin is %zu bytes",
		 offsetof(struct rk_plugin, name));
	expect_refused("short_struct", "short_struct", -EPROTO, want);
}

/* Its kernels read our rings in place: another layout is refused, and so
 * is an ABI 1.0 plugin, which predates layout 4 and cannot say its own. */
Test(loader, another_memory_layout_is_eproto, .fini = rm_dirs)
{
	char want[96];
	snprintf(want, sizeof(want), "built for memory layout %u, this library is layout %u",
		 RK_LAYOUT_VERSION - 1, RK_LAYOUT_VERSION);
	expect_refused("old_layout", "old_layout", -EPROTO, want);
}

Test(loader, a_plugin_that_says_no_layout_is_eproto, .fini = rm_dirs)
{
	expect_refused("old_abi", "old_abi", -EPROTO, "says no memory layout");
}

Test(loader, ops_struct_size_short_of_mandatory_op_is_eproto, .fini = rm_dirs)
{
	expect_refused("short_ops", "short_ops", -EPROTO, "does not reach mandatory op launch");
}

Test(loader, null_mandatory_op_is_enoexec, .fini = rm_dirs)
{
	expect_refused("missing_op", "missing_op", -ENOEXEC, "mandatory op launch is NULL");
}

Test(loader, non_elf_file_is_enoexec_with_dlerror, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char path[4096];
	static const char junk[] = "#!/bin/sh\necho this is not a shared object\n";
	const char *d = make_dir();

	plugin_path(path, sizeof(path), d, "junk");
	write_file(path, junk, sizeof(junk) - 1, 0644);
	discover(d, &set);
	struct rki_plugin *p = listed(&set, d, "junk");
	cr_assert_eq(p->load_err, -ENOEXEC, "load_err %d: %s", p->load_err, p->why);
	cr_assert_null(p->dl);
	/* dlerror() names the file and what is wrong with it. */
	assert_contains(p->why, "dlopen: ");
	assert_contains(p->why, "rk-plugin-junk.so");
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, world_writable_directory_is_skipped, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel;
	char search[256];
	const char *bad = make_dir(), *good = make_dir();

	install(bad, "fast", "fast");
	install(good, "slow", "slow");
	cr_assert_eq(chmod(bad, 0777), 0);
	snprintf(search, sizeof(search), "%s:%s", bad, good);
	discover(search, &set);
	/* Nothing in it is even opened; the next directory still is. */
	cr_assert_eq(listed_in(&set, bad), 0);
	cr_assert_eq(rki_plugins_select(&set, "fast", &sel), -ENOENT);
	cr_assert_eq(rki_plugins_select(&set, "slow", &sel), 0);
	cr_assert_str_eq(sel->path, listed(&set, good, "slow")->path);
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, group_writable_directory_is_skipped, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	const char *bad = make_dir();

	install(bad, "fast", "fast");
	cr_assert_eq(chmod(bad, 0770), 0);
	discover(bad, &set);
	cr_assert_eq(listed_in(&set, bad), 0);
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, group_writable_file_is_eacces, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char path[4096];
	const char *d = make_dir();

	install(d, "fast", "fast");
	plugin_path(path, sizeof(path), d, "fast");
	cr_assert_eq(chmod(path, 0664), 0);
	discover(d, &set);
	struct rki_plugin *p = listed(&set, d, "fast");
	cr_assert_eq(p->load_err, -EACCES, "load_err %d: %s", p->load_err, p->why);
	cr_assert_null(p->dl);
	assert_contains(p->why, "group-writable");
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, world_writable_file_is_eacces, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char path[4096];
	const char *d = make_dir();

	install(d, "fast", "fast");
	plugin_path(path, sizeof(path), d, "fast");
	cr_assert_eq(chmod(path, 0646), 0);
	discover(d, &set);
	struct rki_plugin *p = listed(&set, d, "fast");
	cr_assert_eq(p->load_err, -EACCES);
	assert_contains(p->why, "world-writable");
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, file_owned_by_another_user_is_eacces, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char path[4096];
	const char *d = make_dir();

	if (geteuid() != 0)
		cr_skip_test("giving a file to another user needs root");
	install(d, "fast", "fast");
	plugin_path(path, sizeof(path), d, "fast");
	cr_assert_eq(chown(path, 65534, 65534), 0, "chown: %s", strerror(errno));
	discover(d, &set);
	struct rki_plugin *p = listed(&set, d, "fast");
	cr_assert_eq(p->load_err, -EACCES, "load_err %d: %s", p->load_err, p->why);
	assert_contains(p->why, "owned by uid 65534");
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, directory_owned_by_another_user_is_skipped, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	const char *d = make_dir();

	if (geteuid() != 0)
		cr_skip_test("giving a directory to another user needs root");
	install(d, "fast", "fast");
	cr_assert_eq(chown(d, 65534, 65534), 0, "chown: %s", strerror(errno));
	discover(d, &set);
	cr_assert_eq(listed_in(&set, d), 0);
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, symlink_is_judged_by_its_target, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char target[4096], link[4096];
	const char *store = make_dir(), *d = make_dir();

	/* The build tree links every plugin into one directory: a link
	 * (always mode 0777 itself) to a safe file loads ... */
	install(store, "fast", "fast");
	install(store, "slow", "slow");
	plugin_path(target, sizeof(target), store, "fast");
	plugin_path(link, sizeof(link), d, "fast");
	cr_assert_eq(symlink(target, link), 0);
	/* ... and one to a file others can write does not. */
	plugin_path(target, sizeof(target), store, "slow");
	cr_assert_eq(chmod(target, 0666), 0);
	plugin_path(link, sizeof(link), d, "slow");
	cr_assert_eq(symlink(target, link), 0);
	discover(d, &set);
	cr_assert_eq(listed_in(&set, d), 2);
	cr_assert_eq(listed(&set, d, "fast")->load_err, 0);
	cr_assert_eq(listed(&set, d, "slow")->load_err, -EACCES);
	rki_plugins_release(&set, NULL, NULL);
}

/* ---- the real path's whole directory chain ------------------------------ */

/* DIR/SUB, made with mode 0755 whatever the umask. */
static const char *make_subdir(const char *dir, const char *sub, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, sub);
	cr_assert_eq(mkdir(buf, 0700), 0, "mkdir %s: %s", buf, strerror(errno));
	cr_assert_eq(chmod(buf, 0755), 0);
	return buf;
}

/* A link in a safe directory to a file that is ours and not writable by
 * anyone else, but sits in a directory others can write: they could put
 * their own file in its place between any check and the load. */
static void expect_link_into_writable_dir_refused(mode_t store_mode, const char *why)
{
	struct rki_plugin_set set;
	char target[4096], link[4096];
	const char *store = make_dir(), *d = make_dir();

	install(store, "fast", "fast");
	cr_assert_eq(chmod(store, store_mode), 0);
	plugin_path(target, sizeof(target), store, "fast");
	plugin_path(link, sizeof(link), d, "fast");
	cr_assert_eq(symlink(target, link), 0);
	discover(d, &set);
	struct rki_plugin *p = listed(&set, d, "fast");
	cr_assert_eq(p->load_err, -EACCES, "load_err %d: %s", p->load_err, p->why);
	cr_assert_null(p->dl);
	assert_contains(p->why, store);
	assert_contains(p->why, why);
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, symlink_into_a_world_writable_directory_is_eacces, .fini = rm_dirs)
{
	expect_link_into_writable_dir_refused(0777, "world-writable");
}

Test(loader, symlink_into_a_group_writable_directory_is_eacces, .fini = rm_dirs)
{
	expect_link_into_writable_dir_refused(0775, "group-writable");
}

Test(loader, symlink_into_a_sticky_directory_loads_a_file_of_ours, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char target[4096], link[4096];
	const char *store = make_dir(), *d = make_dir();

	/* Like /tmp: others may add files, but the sticky bit stops them
	 * renaming or removing ours, and the file is not theirs to write. */
	install(store, "fast", "fast");
	cr_assert_eq(chmod(store, 01777), 0);
	plugin_path(target, sizeof(target), store, "fast");
	plugin_path(link, sizeof(link), d, "fast");
	cr_assert_eq(symlink(target, link), 0);
	discover(d, &set);
	struct rki_plugin *p = listed(&set, d, "fast");
	cr_assert_eq(p->load_err, 0, "load_err %d: %s", p->load_err, p->why);
	cr_assert_eq(p->probe_ret, 0);
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, file_of_another_user_in_a_sticky_directory_is_eacces, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char target[4096], link[4096];
	const char *store = make_dir(), *d = make_dir();

	if (geteuid() != 0)
		cr_skip_test("giving a file to another user needs root");
	install(store, "fast", "fast");
	cr_assert_eq(chmod(store, 01777), 0);
	plugin_path(target, sizeof(target), store, "fast");
	cr_assert_eq(chown(target, 65534, 65534), 0, "chown: %s", strerror(errno));
	plugin_path(link, sizeof(link), d, "fast");
	cr_assert_eq(symlink(target, link), 0);
	discover(d, &set);
	struct rki_plugin *p = listed(&set, d, "fast");
	cr_assert_eq(p->load_err, -EACCES, "load_err %d: %s", p->load_err, p->why);
	assert_contains(p->why, "owned by uid 65534");
	rki_plugins_release(&set, NULL, NULL);
}

/* A safe plugin directory under a parent others can write: they could
 * rename it away and put their own directory in its place. */
static void expect_dir_under_parent_skipped(mode_t parent_mode)
{
	struct rki_plugin_set set;
	char sub[4096];
	const char *parent = make_dir();
	const char *d = make_subdir(parent, "plugins", sub, sizeof(sub));

	install(d, "fast", "fast");
	cr_assert_eq(chmod(parent, parent_mode), 0);
	discover(d, &set);
	cr_assert_eq(listed_in(&set, d), 0, "%s was searched under a mode %04o parent", d,
		     (unsigned)parent_mode);
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, directory_under_a_world_writable_parent_is_skipped, .fini = rm_dirs)
{
	expect_dir_under_parent_skipped(0777);
}

Test(loader, directory_under_a_group_writable_parent_is_skipped, .fini = rm_dirs)
{
	expect_dir_under_parent_skipped(0770);
}

Test(loader, directory_under_a_sticky_parent_is_searched, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char sub[4096];
	const char *parent = make_dir();
	const char *d = make_subdir(parent, "plugins", sub, sizeof(sub));

	/* Every test here runs under /tmp (1777, root's): the same rule. */
	install(d, "fast", "fast");
	cr_assert_eq(chmod(parent, 01777), 0);
	discover(d, &set);
	cr_assert_eq(listed_in(&set, d), 1);
	cr_assert_eq(listed(&set, d, "fast")->load_err, 0);
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, directory_under_a_parent_of_another_user_is_skipped, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char sub[4096];
	const char *parent = make_dir();
	const char *d = make_subdir(parent, "plugins", sub, sizeof(sub));

	if (geteuid() != 0)
		cr_skip_test("giving a directory to another user needs root");
	install(d, "fast", "fast");
	cr_assert_eq(chmod(parent, 0755), 0);
	cr_assert_eq(chown(parent, 65534, 65534), 0, "chown: %s", strerror(errno));
	discover(d, &set);
	cr_assert_eq(listed_in(&set, d), 0);
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, symlinked_directory_is_judged_by_its_real_path, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char sub[4096], link[4096];
	const char *parent = make_dir(), *d = make_dir();
	const char *real = make_subdir(parent, "plugins", sub, sizeof(sub));

	/* The path names a safe-looking link; what it leads to is not safe. */
	install(real, "fast", "fast");
	cr_assert_eq(chmod(parent, 0777), 0);
	snprintf(link, sizeof(link), "%s/via", d);
	cr_assert_eq(symlink(real, link), 0);
	discover(link, &set);
	cr_assert_eq(listed_in(&set, link), 0);
	rki_plugins_release(&set, NULL, NULL);
}

/* The loader dlopens the descriptor it checked. ld.so matches a file name
 * it has loaded before without opening it, so a plugin loaded through a
 * descriptor number that an earlier, still-loaded plugin used must still be
 * itself. */
Test(loader, plugin_loaded_after_another_is_itself, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel, kept;
	const char *a = make_dir(), *b = make_dir();

	install(a, "fast", "fast");
	install(b, "slow", "slow");
	discover(a, &set);
	cr_assert_eq(rki_plugins_select(&set, "fast", &sel), 0);
	rki_plugins_release(&set, sel, &kept);
	for (int i = 0; i < 3; i++) {
		discover(b, &set);
		struct rki_plugin *p = listed(&set, b, "slow");
		cr_assert_eq(p->load_err, 0, "load_err %d: %s", p->load_err, p->why);
		cr_assert_str_eq(p->version, "0.9.0");
		cr_assert_eq(p->priority, 50);
		rki_plugins_release(&set, NULL, NULL);
	}
	rki_plugin_unload(&kept);
}

Test(loader, broken_plugins_do_not_hide_the_others, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel;
	char path[4096];
	const char *d = make_dir();

	/* alphasort lists abi, junk, misnamed before slow: the good one
	 * comes after every failure. */
	install(d, "abi_major", "abi");
	install(d, "misnamed", "misnamed");
	install(d, "slow", "slow");
	plugin_path(path, sizeof(path), d, "junk");
	write_file(path, "junk", 4, 0644);
	discover(d, &set);
	cr_assert_eq(listed_in(&set, d), 4);
	cr_assert_eq(listed(&set, d, "abi")->load_err, -EPROTO);
	cr_assert_eq(listed(&set, d, "junk")->load_err, -ENOEXEC);
	cr_assert_eq(listed(&set, d, "misnamed")->load_err, -EINVAL);
	cr_assert_eq(rki_plugins_select(&set, NULL, &sel), 0);
	cr_assert_str_eq(sel->name, "slow");
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, files_not_named_like_plugins_are_ignored, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char path[4096];
	const char *d = make_dir();

	install(d, "fast", "fast");
	snprintf(path, sizeof(path), "%s/libfoo.so", d);
	write_file(path, "x", 1, 0644);
	snprintf(path, sizeof(path), "%s/rk-plugin-fast.so.orig", d);
	write_file(path, "x", 1, 0644);
	snprintf(path, sizeof(path), "%s/rk-plugin-.so", d);
	write_file(path, "x", 1, 0644);
	discover(d, &set);
	cr_assert_eq(listed_in(&set, d), 1);
	cr_assert_eq(listed(&set, d, "fast")->load_err, 0);
	rki_plugins_release(&set, NULL, NULL);
}

Test(loader, name_outside_the_backend_alphabet_is_einval, .fini = rm_dirs)
{
	/* RK_BACKEND could never name it, so it is not offered to Auto. */
	expect_refused("fast", "Fast", -EINVAL, "is not [a-z0-9_-]");
}

/* ---- probe ------------------------------------------------------------- */

Test(probe, failing_probe_is_listed_with_its_reason, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	const char *d = make_dir();

	install(d, "probe_fails", "probefail");
	setenv("RK_PLUGIN_PATH", d, 1);
	cr_assert_eq(rki_plugins_discover(NULL, 7, &set), 0);
	struct rki_plugin *p = listed(&set, d, "probefail");
	/* It loaded: the failure is the device's, not the file's. */
	cr_assert_eq(p->load_err, 0);
	cr_assert_not_null(p->dl);
	cr_assert_not_null(p->plugin);
	cr_assert_str_eq(p->version, "1.0.0");
	cr_assert_eq(p->probe_ret, -ENODEV);
	cr_assert_str_eq(p->why, "no test device: simulated probe failure (device 7)");
	cr_assert_not(rki_plugin_usable(p));
	rki_plugins_release(&set, NULL, NULL);
}

Test(probe, usable_plugin_reports_priority_and_version, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	const char *d = make_dir();

	install(d, "fast", "fast");
	discover(d, &set);
	struct rki_plugin *p = listed(&set, d, "fast");
	cr_assert_eq(p->load_err, 0);
	cr_assert_eq(p->probe_ret, 0);
	cr_assert_eq(p->priority, 1000);
	cr_assert_str_eq(p->version, "1.2.3");
	cr_assert_eq(p->abi_major, RK_PLUGIN_ABI_MAJOR);
	cr_assert_str_eq(p->why, "");
	cr_assert(rki_plugin_usable(p));
	rki_plugins_release(&set, NULL, NULL);
}

/* ---- selection --------------------------------------------------------- */

Test(select, auto_picks_the_highest_priority, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel;
	const char *d = make_dir();

	install(d, "fast", "fast");
	install(d, "probe_fails", "probefail");
	install(d, "slow", "slow");
	discover(d, &set);
	cr_assert_eq(rki_plugins_select(&set, NULL, &sel), 0);
	cr_assert_str_eq(sel->name, "fast");
	cr_assert_eq(sel->priority, 1000);
	cr_assert_eq(rki_plugins_select(&set, "auto", &sel), 0);
	cr_assert_str_eq(sel->name, "fast");
	rki_plugins_release(&set, NULL, NULL);
}

Test(select, by_name_picks_a_lower_priority_plugin, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel;
	const char *d = make_dir();

	install(d, "fast", "fast");
	install(d, "slow", "slow");
	discover(d, &set);
	cr_assert_eq(rki_plugins_select(&set, "slow", &sel), 0);
	cr_assert_str_eq(sel->name, "slow");
	cr_assert_eq(sel->priority, 50);
	rki_plugins_release(&set, NULL, NULL);
}

Test(select, unknown_name_is_enoent, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel = (struct rki_plugin *)1;
	const char *d = make_dir();

	install(d, "fast", "fast");
	discover(d, &set);
	cr_assert_eq(rki_plugins_select(&set, "nonexistent", &sel), -ENOENT);
	cr_assert_null(sel);
	assert_contains(rk_last_error(), "no plugin named nonexistent in ");
	/* The message names where it looked. */
	assert_contains(rk_last_error(), d);
	rki_plugins_release(&set, NULL, NULL);
}

Test(select, failing_probe_is_enodev_with_its_reason, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel = (struct rki_plugin *)1;
	const char *d = make_dir();

	install(d, "probe_fails", "probefail");
	install(d, "fast", "fast");
	discover(d, &set);
	cr_assert_eq(rki_plugins_select(&set, "probefail", &sel), -ENODEV);
	cr_assert_null(sel);
	assert_contains(rk_last_error(), "probefail");
	assert_contains(rk_last_error(), "no test device: simulated probe failure");
	rki_plugins_release(&set, NULL, NULL);
}

Test(select, auto_with_nothing_usable_is_enodev_with_reasons, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel;
	const char *d = make_dir();

	install(d, "probe_fails", "probefail");
	install(d, "abi_major", "abi");
	discover(d, &set);
	for (unsigned i = 0; i < set.n; i++)
		if (rki_plugin_usable(&set.v[i]))
			cr_skip_test("a usable plugin is installed in %s", RK_PLUGIN_DIR);
	cr_assert_eq(rki_plugins_select(&set, NULL, &sel), -ENODEV);
	cr_assert_null(sel);
	assert_contains(rk_last_error(), "no usable plugin in ");
	assert_contains(rk_last_error(), "probefail: no test device");
	assert_contains(rk_last_error(), "abi: plugin ABI 2.0");
	rki_plugins_release(&set, NULL, NULL);
}

/* ---- search order ------------------------------------------------------- */

Test(path, first_directory_wins_later_is_shadowed, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel;
	char search[256];
	const char *first = make_dir(), *second = make_dir();

	install(first, "fast", "fast");
	install(second, "fast", "fast");
	install(second, "slow", "slow");
	snprintf(search, sizeof(search), "%s:%s", first, second);
	discover(search, &set);
	struct rki_plugin *a = listed(&set, first, "fast"), *b = listed(&set, second, "fast");
	cr_assert_eq(a->load_err, 0);
	cr_assert(a < b, "search order is kept");
	cr_assert_eq(b->load_err, RKI_PLUGIN_SHADOWED);
	cr_assert_null(b->dl);
	char want[4200];
	snprintf(want, sizeof(want), "shadowed by %s", a->path);
	cr_assert_str_eq(b->why, want);
	/* A shadowed plugin is not a second candidate of its name. */
	cr_assert_eq(rki_plugins_select(&set, "fast", &sel), 0);
	cr_assert_eq(sel, a);
	cr_assert_eq(listed(&set, second, "slow")->load_err, 0);
	rki_plugins_release(&set, NULL, NULL);
}

Test(path, shadowing_does_not_depend_on_the_first_loading, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel;
	char search[256];
	const char *first = make_dir(), *second = make_dir();

	/* The first "fast" is broken. It still owns the name: falling back to a
	 * later directory would run code the user did not put first. */
	char path[4096];
	plugin_path(path, sizeof(path), first, "fast");
	write_file(path, "junk", 4, 0644);
	install(second, "fast", "fast");
	snprintf(search, sizeof(search), "%s:%s", first, second);
	discover(search, &set);
	cr_assert_eq(listed(&set, first, "fast")->load_err, -ENOEXEC);
	cr_assert_eq(listed(&set, second, "fast")->load_err, RKI_PLUGIN_SHADOWED);
	cr_assert_eq(rki_plugins_select(&set, "fast", &sel), -ENOEXEC);
	rki_plugins_release(&set, NULL, NULL);
}

Test(path, env_comes_before_builder_path, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	const char *env = make_dir(), *builder = make_dir();

	install(env, "slow", "slow");
	install(builder, "slow", "slow");
	install(builder, "fast", "fast");
	setenv("RK_PLUGIN_PATH", env, 1);
	unsetenv("RK_PLUGIN_PATH_ONLY"); /* make check sets it */
	cr_assert_eq(rki_plugins_discover(builder, 0, &set), 0);
	cr_assert_eq(listed(&set, env, "slow")->load_err, 0);
	cr_assert_eq(listed(&set, builder, "slow")->load_err, RKI_PLUGIN_SHADOWED);
	cr_assert_eq(listed(&set, builder, "fast")->load_err, 0);
	assert_contains(set.dirs, env);
	assert_contains(set.dirs, builder);
	assert_contains(set.dirs, RK_PLUGIN_DIR);
	cr_assert_lt(strstr(set.dirs, env), strstr(set.dirs, builder));
	cr_assert_lt(strstr(set.dirs, builder), strstr(set.dirs, RK_PLUGIN_DIR));
	rki_plugins_release(&set, NULL, NULL);
}

Test(path, same_directory_twice_is_scanned_once, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char search[256];
	const char *d = make_dir();

	install(d, "fast", "fast");
	/* Empty entries mean nothing (not the current directory). */
	snprintf(search, sizeof(search), ":%s::%s/:", d, d);
	discover(search, &set);
	cr_assert_eq(listed_in(&set, d), 1);
	cr_assert_eq(listed(&set, d, "fast")->load_err, 0);
	rki_plugins_release(&set, NULL, NULL);
}

Test(path, named_discovery_opens_only_the_first_file_of_that_name, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel;
	char search[256], mark[4200];
	const char *first = make_dir(), *second = make_dir(), *m = make_dir();

	/* Anything else on the path would crash the process or tell on
	 * itself if it were opened. */
	install(first, "ctor_marker", "marker");
	install(first, "probe_crash", "crash");
	install(second, "fast", "fast");
	install(second, "slow", "slow");
	install(second, "probe_exit", "exits");
	snprintf(mark, sizeof(mark), "%s/marker", m);
	setenv("RKT_MARKER", mark, 1);
	snprintf(search, sizeof(search), "%s:%s", first, second);
	setenv("RK_PLUGIN_PATH", search, 1);
	cr_assert_eq(rki_plugins_discover_named(NULL, "slow", 0, &set), 0);
	cr_assert_eq(set.n, 1);
	struct rki_plugin *p = listed(&set, second, "slow");
	cr_assert_eq(p->load_err, 0);
	cr_assert_eq(p->probe_ret, 0);
	cr_assert_eq(rki_plugins_select(&set, "slow", &sel), 0);
	cr_assert_eq(sel, p);
	rki_plugins_release(&set, NULL, NULL);
	cr_assert_neq(access(mark, F_OK), 0, "ctor_marker was loaded");

	/* Not there: an empty set, and select says where it looked. */
	cr_assert_eq(rki_plugins_discover_named(NULL, "nosuch", 0, &set), 0);
	cr_assert_eq(set.n, 0);
	cr_assert_eq(rki_plugins_select(&set, "nosuch", &sel), -ENOENT);
	assert_contains(rk_last_error(), first);
	rki_plugins_release(&set, NULL, NULL);

	/* A name is a file name: nothing outside the alphabet. */
	cr_assert_eq(rki_plugins_discover_named(NULL, "../fast", 0, &set), -EINVAL);
	cr_assert_eq(set.n, 0);
	cr_assert_eq(rki_plugins_discover_named(NULL, "", 0, &set), -EINVAL);
	cr_assert_neq(access(mark, F_OK), 0, "ctor_marker was loaded");
}

Test(path, named_discovery_skips_unsafe_directories, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	char search[256];
	const char *bad = make_dir(), *good = make_dir();

	install(bad, "slow", "slow");
	cr_assert_eq(chmod(bad, 0777), 0);
	install(good, "slow", "slow");
	snprintf(search, sizeof(search), "%s:%s", bad, good);
	setenv("RK_PLUGIN_PATH", search, 1);
	cr_assert_eq(rki_plugins_discover_named(NULL, "slow", 0, &set), 0);
	cr_assert_eq(set.n, 1);
	cr_assert_eq(listed(&set, good, "slow")->load_err, 0);
	rki_plugins_release(&set, NULL, NULL);
}

/* Two runtimes may be built at once: discovery shares nothing between
 * calls (the TSan build checks it). */
static void *discover_thread(void *arg)
{
	const char *d = arg;
	for (int i = 0; i < 20; i++) {
		struct rki_plugin_set set;
		struct rki_plugin *sel, kept;
		if (rki_plugins_discover(NULL, 0, &set) < 0 ||
		    rki_plugins_select(&set, NULL, &sel) < 0 || strcmp(sel->name, "fast"))
			return (void *)1;
		rki_plugins_release(&set, sel, &kept);
		if (strncmp(kept.path, d, strlen(d)))
			return (void *)1;
		rki_plugin_unload(&kept);
	}
	return NULL;
}

Test(path, concurrent_discovery_is_independent, .fini = rm_dirs, .timeout = 120)
{
	pthread_t t[4];
	void *r;
	const char *d = make_dir();

	install(d, "fast", "fast");
	install(d, "slow", "slow");
	install(d, "probe_fails", "probefail");
	install(d, "abi_major", "abi");
	setenv("RK_PLUGIN_PATH", d, 1);
	setenv("RK_LOG", "error", 1); /* 80 refusals of abi say nothing new */
	rki_log_init();
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, discover_thread, (void *)d), 0);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(pthread_join(t[i], &r), 0);
		cr_assert_null(r);
	}
}

/* ---- release ----------------------------------------------------------- */

Test(release, kept_plugin_stays_loaded, .fini = rm_dirs)
{
	struct rki_plugin_set set;
	struct rki_plugin *sel, kept;
	int prio = 0;
	char why[64];
	const char *d = make_dir();

	install(d, "fast", "fast");
	install(d, "slow", "slow");
	discover(d, &set);
	cr_assert_eq(rki_plugins_select(&set, NULL, &sel), 0);
	rki_plugins_release(&set, sel, &kept);
	cr_assert_null(set.v);
	cr_assert_eq(set.n, 0);
	cr_assert_str_eq(kept.name, "fast");
	cr_assert_not_null(kept.dl);
	/* Its code is still mapped: calling into it works. */
	cr_assert_eq(kept.plugin->ops->probe(0, &prio, why, sizeof(why)), 0);
	cr_assert_eq(prio, 1000);
	rki_plugin_unload(&kept);
	cr_assert_null(kept.dl);
	cr_assert_null(kept.plugin);
}

/* ---- public discovery API ----------------------------------------------- */

Test(api, list_fills_at_most_max_and_counts_all, .fini = rm_dirs)
{
	rk_plugin_info info[8];
	unsigned n = 0, mine = 0;
	const char *d = make_dir();

	install(d, "fast", "fast");
	install(d, "probe_fails", "probefail");
	install(d, "abi_major", "abi");
	unsetenv("RK_PLUGIN_PATH");
	cr_assert_eq(rk_plugins_list(d, 0, info, 8, &n), 0);
	cr_assert_geq(n, 3);
	for (unsigned i = 0; i < n && i < 8; i++) {
		const rk_plugin_info *p = &info[i];
		if (strncmp(p->path, d, strlen(d)))
			continue;
		mine++;
		if (!strcmp(p->name, "fast")) {
			cr_assert_eq(p->status, 0);
			cr_assert(p->loaded);
			cr_assert_eq(p->priority, 1000);
			cr_assert_str_eq(p->version, "1.2.3");
		} else if (!strcmp(p->name, "probefail")) {
			cr_assert_eq(p->status, -ENODEV);
			cr_assert(p->loaded);
			assert_contains(p->reason, "simulated probe failure");
		} else {
			cr_assert_str_eq(p->name, "abi");
			cr_assert_eq(p->status, -EPROTO);
			cr_assert_not(p->loaded);
			cr_assert_eq(p->abi_major, RK_PLUGIN_ABI_MAJOR + 1);
		}
		cr_assert_not(p->shadowed);
	}
	cr_assert_eq(mine, 3);

	unsigned n2 = 0;
	cr_assert_eq(rk_plugins_list(d, 0, info, 1, &n2), 0);
	cr_assert_eq(n2, n);
	cr_assert_eq(rk_plugins_list(d, 0, NULL, 0, &n2), 0);
	cr_assert_eq(n2, n);
	cr_assert_eq(rk_plugins_list(d, 0, NULL, 1, &n2), -EINVAL);
	cr_assert_eq(rk_plugins_list(d, 0, info, 1, NULL), -EINVAL);
}

Test(api, list_marks_shadowed_plugins, .fini = rm_dirs)
{
	rk_plugin_info info[8];
	unsigned n = 0;
	char search[256];
	const char *first = make_dir(), *second = make_dir();

	install(first, "fast", "fast");
	install(second, "fast", "fast");
	snprintf(search, sizeof(search), "%s:%s", first, second);
	setenv("RK_PLUGIN_PATH", search, 1);
	cr_assert_eq(rk_plugins_list(NULL, 0, info, 8, &n), 0);
	cr_assert_geq(n, 2);
	cr_assert_not(info[0].shadowed);
	cr_assert_eq(info[0].status, 0);
	cr_assert(info[1].shadowed);
	cr_assert_not(info[1].loaded);
	cr_assert_eq(info[1].status, RKI_PLUGIN_SHADOWED);
	assert_contains(info[1].reason, info[0].path);
}

Test(api, find_loads_nothing_and_probe_path_loads_one, .fini = rm_dirs)
{
	rk_plugin_info info[8], one;
	unsigned n = 0, mine = 0;
	char mark[4200], bad[4096];
	const char *d = make_dir(), *m = make_dir();

	install(d, "ctor_marker", "marker");
	install(d, "fast", "fast");
	install(d, "slow", "slow");
	plugin_path(bad, sizeof(bad), d, "slow");
	cr_assert_eq(chmod(bad, 0666), 0);
	snprintf(mark, sizeof(mark), "%s/marker", m);
	setenv("RKT_MARKER", mark, 1);
	unsetenv("RK_PLUGIN_PATH");
	cr_assert_eq(rk_plugins_find(d, info, 8, &n), 0);
	cr_assert_neq(access(mark, F_OK), 0, "rk_plugins_find loaded ctor_marker");
	for (unsigned i = 0; i < n && i < 8; i++) {
		const rk_plugin_info *p = &info[i];
		if (strncmp(p->path, d, strlen(d)))
			continue;
		mine++;
		cr_assert_not(p->loaded);
		cr_assert_str_eq(p->version, "");
		if (!strcmp(p->name, "slow")) {
			cr_assert_eq(p->status, -EACCES);
			assert_contains(p->reason, "world-writable");
		} else {
			cr_assert_eq(p->status, 0, "%s: %s", p->name, p->reason);
		}
	}
	cr_assert_eq(mine, 3);

	plugin_path(bad, sizeof(bad), d, "marker");
	cr_assert_eq(rk_plugin_probe_path(bad, 0, &one), 0);
	cr_assert_eq(access(mark, F_OK), 0, "rk_plugin_probe_path did not load it");
	cr_assert_str_eq(one.path, bad);
	cr_assert_str_eq(one.name, "marker");
	cr_assert_str_eq(one.version, "1.0.0");
	cr_assert(one.loaded);
	cr_assert_eq(one.status, 0);
	cr_assert_eq(one.priority, 10);

	plugin_path(bad, sizeof(bad), d, "slow");
	cr_assert_eq(rk_plugin_probe_path(bad, 0, &one), 0);
	cr_assert_eq(one.status, -EACCES);
	cr_assert_not(one.loaded);

	cr_assert_eq(rk_plugin_probe_path("/nonexistent/libfoo.so", 0, &one), -EINVAL);
	cr_assert_eq(rk_plugin_probe_path("rk-plugin-.so", 0, &one), -EINVAL);
	cr_assert_eq(rk_plugin_probe_path(NULL, 0, &one), -EINVAL);
	cr_assert_eq(rk_plugin_probe_path(bad, 0, NULL), -EINVAL);
}

Test(api, probe_path_judges_the_directory_it_is_in, .fini = rm_dirs)
{
	rk_plugin_info one;
	char path[4096];
	const char *d = make_dir();

	install(d, "fast", "fast");
	cr_assert_eq(chmod(d, 0777), 0);
	plugin_path(path, sizeof(path), d, "fast");
	cr_assert_eq(rk_plugin_probe_path(path, 0, &one), 0);
	cr_assert_eq(one.status, -EACCES);
	cr_assert_not(one.loaded);
	assert_contains(one.reason, "world-writable");
}

Test(api, auto_pick_honours_rk_backend, .fini = rm_dirs)
{
	char name[64];
	int prio = -1;
	const char *d = make_dir();

	install(d, "fast", "fast");
	install(d, "slow", "slow");
	install(d, "probe_fails", "probefail");
	setenv("RK_PLUGIN_PATH", d, 1);
	unsetenv("RK_BACKEND");
	cr_assert_eq(rk_plugins_auto_pick(NULL, 0, name, sizeof(name), &prio), 0);
	cr_assert_str_eq(name, "fast");
	cr_assert_eq(prio, 1000);

	setenv("RK_BACKEND", "auto", 1);
	cr_assert_eq(rk_plugins_auto_pick(NULL, 0, name, sizeof(name), &prio), 0);
	cr_assert_str_eq(name, "fast");

	setenv("RK_BACKEND", "slow", 1);
	cr_assert_eq(rk_plugins_auto_pick(NULL, 0, name, sizeof(name), &prio), 0);
	cr_assert_str_eq(name, "slow");
	cr_assert_eq(prio, 50);

	setenv("RK_BACKEND", "probefail", 1);
	cr_assert_eq(rk_plugins_auto_pick(NULL, 0, name, sizeof(name), &prio), -ENODEV);
	assert_contains(rk_last_error(), "simulated probe failure");

	setenv("RK_BACKEND", "nonexistent", 1);
	cr_assert_eq(rk_plugins_auto_pick(NULL, 0, name, sizeof(name), &prio), -ENOENT);

	setenv("RK_BACKEND", "../slow", 1);
	cr_assert_eq(rk_plugins_auto_pick(NULL, 0, name, sizeof(name), &prio), -EINVAL);

	setenv("RK_BACKEND", "slow", 1);
	cr_assert_eq(rk_plugins_auto_pick(NULL, 0, name, 4, &prio), -ERANGE);
	unsetenv("RK_BACKEND");
}

Test(api, search_path_is_env_then_builder_then_install_dir)
{
	char buf[512], want[512];

	setenv("RK_PLUGIN_PATH", "/e1::/e2", 1);
	unsetenv("RK_PLUGIN_PATH_ONLY"); /* make check sets it */
	cr_assert_eq(rk_plugins_search_path("/b1:", buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "/e1:/e2:/b1:%s", RK_PLUGIN_DIR);
	cr_assert_str_eq(buf, want);
	cr_assert_eq(rk_plugins_search_path("/b1", buf, 8), -ERANGE);
	cr_assert_eq(strlen(buf), 7);
	/* RK_PLUGIN_PATH_ONLY=1 leaves the install directory out */
	setenv("RK_PLUGIN_PATH_ONLY", "1", 1);
	cr_assert_eq(rk_plugins_search_path("/b1:", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "/e1:/e2:/b1");
	setenv("RK_PLUGIN_PATH_ONLY", "0", 1);
	cr_assert_eq(rk_plugins_search_path("/b1:", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, want);
}

/* ---- rk-info ----------------------------------------------------------- */

/* Run rk-info with `args`, stdout into out; returns its exit status. */
static int rk_info(const char *args, char *out, size_t len)
{
	char cmd[8192];
	size_t got = 0, r;
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>/dev/null", RKT_RK_INFO, args);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f, "popen %s: %s", cmd, strerror(errno));
	while (got + 1 < len && (r = fread(out + got, 1, len - 1 - got, f)) > 0)
		got += r;
	out[got] = '\0';
	int st = pclose(f);
	cr_assert(WIFEXITED(st), "rk-info did not exit: status %#x\n%s", st, out);
	cr_log_info("rk-info %s:\n%s", args, out);
	return WEXITSTATUS(st);
}

/* The table line of the plugin called `name`. */
static const char *table_line(const char *out, const char *name, char *line, size_t len)
{
	size_t n = strlen(name);
	for (const char *s = out; *s;) {
		size_t l = strcspn(s, "\n");
		if (!strncmp(s, name, n) && s[n] == ' ') {
			snprintf(line, len, "%.*s", (int)l, s);
			return line;
		}
		s += l + (s[l] == '\n');
	}
	cr_assert(0, "no table line for %s in:\n%s", name, out);
	return NULL;
}

Test(rk_info, prints_every_plugin_and_the_auto_pick, .fini = rm_dirs)
{
	static char out[65536];
	char line[4096], path[4096];
	const char *d = make_dir();

	install(d, "fast", "fast");
	install(d, "probe_fails", "probefail");
	install(d, "abi_major", "abi");
	setenv("RK_PLUGIN_PATH", d, 1);
	unsetenv("RK_BACKEND");
	cr_assert_eq(rk_info("--device 3", out, sizeof(out)), 0);

	assert_contains(out, "plugin ABI 1.1, device 3");
	assert_contains(out, "search path: ");
	assert_contains(out, d);
	assert_contains(out, "NAME");
	assert_contains(out, "PRIORITY");

	table_line(out, "fast", line, sizeof(line));
	assert_contains(line, "1.2.3");
	assert_contains(line, "1000");
	assert_contains(line, "usable");
	plugin_path(path, sizeof(path), d, "fast");
	assert_contains(line, path);

	table_line(out, "probefail", line, sizeof(line));
	assert_contains(line, "unavailable -ENODEV");
	assert_contains(out, "reason: no test device: simulated probe failure (device 3)");

	table_line(out, "abi", line, sizeof(line));
	assert_contains(line, "refused -EPROTO");
	assert_contains(line, "2.0");

	assert_contains(out, "auto would pick: fast (priority 1000)");
}

Test(rk_info, plugin_path_option_is_searched, .fini = rm_dirs)
{
	static char out[65536];
	char args[256];
	const char *d = make_dir();

	install(d, "slow", "slow");
	unsetenv("RK_PLUGIN_PATH");
	unsetenv("RK_BACKEND");
	snprintf(args, sizeof(args), "--plugin-path '%s'", d);
	cr_assert_eq(rk_info(args, out, sizeof(out)), 0);
	assert_contains(out, "auto would pick: slow (priority 50)");
}

Test(rk_info, shadowed_plugin_says_by_what, .fini = rm_dirs)
{
	static char out[65536];
	char line[4096], search[256], path[4096];
	const char *first = make_dir(), *second = make_dir();

	install(first, "slow", "slow");
	install(second, "slow", "slow");
	snprintf(search, sizeof(search), "%s:%s", first, second);
	setenv("RK_PLUGIN_PATH", search, 1);
	unsetenv("RK_BACKEND");
	cr_assert_eq(rk_info("", out, sizeof(out)), 0);
	plugin_path(path, sizeof(path), second, "slow");
	/* The second table line for slow is the shadowed one. */
	const char *s = strstr(out, path);
	cr_assert_not_null(s);
	while (s > out && s[-1] != '\n')
		s--;
	table_line(s, "slow", line, sizeof(line));
	assert_contains(line, "shadowed");
	plugin_path(path, sizeof(path), first, "slow");
	char want[4200];
	snprintf(want, sizeof(want), "reason: shadowed by %s", path);
	assert_contains(out, want);
}

Test(rk_info, nothing_usable_exits_1, .fini = rm_dirs)
{
	static char out[65536];
	struct rki_plugin_set set;
	const char *d = make_dir();

	install(d, "probe_fails", "probefail");
	discover(d, &set);
	for (unsigned i = 0; i < set.n; i++)
		if (rki_plugin_usable(&set.v[i]))
			cr_skip_test("a usable plugin is installed in %s", RK_PLUGIN_DIR);
	rki_plugins_release(&set, NULL, NULL);
	cr_assert_eq(rk_info("", out, sizeof(out)), 1);
	assert_contains(out, "auto would pick: none: no usable plugin");
}

Test(rk_info, bad_arguments_exit_2)
{
	static char out[4096];
	cr_assert_eq(rk_info("--device -1", out, sizeof(out)), 2);
	cr_assert_eq(rk_info("--device x", out, sizeof(out)), 2);
	cr_assert_eq(rk_info("--bogus", out, sizeof(out)), 2);
	cr_assert_eq(rk_info("-h", out, sizeof(out)), 0);
	assert_contains(out, "--plugin-path");
}

/* A probe that crashes, exits or hangs is run in a child: rk-info reports
 * it in the table, with why, and goes on to the others. */
static void rk_info_with_bad_plugin(const char *module, const char *name, const char *args,
				    const char *status, const char *reason)
{
	static char out[65536];
	char line[4096];
	const char *d = make_dir();

	install(d, "fast", "fast");
	install(d, module, name);
	install(d, "slow", "slow");
	setenv("RK_PLUGIN_PATH", d, 1);
	unsetenv("RK_BACKEND");
	cr_assert_eq(rk_info(args, out, sizeof(out)), 0);
	table_line(out, name, line, sizeof(line));
	assert_contains(line, status);
	assert_contains(out, reason);
	table_line(out, "fast", line, sizeof(line));
	assert_contains(line, "usable");
	table_line(out, "slow", line, sizeof(line));
	assert_contains(line, "usable");
	assert_contains(out, "auto would pick: fast (priority 1000)");
}

Test(rk_info, crashing_probe_is_reported, .fini = rm_dirs, .timeout = 60)
{
	rk_info_with_bad_plugin("probe_crash", "crash", "", "crashed", "killed by signal");
}

Test(rk_info, exiting_probe_is_reported, .fini = rm_dirs, .timeout = 60)
{
	rk_info_with_bad_plugin("probe_exit", "exits", "", "exited",
				"the process exited with status 3");
}

Test(rk_info, hanging_probe_is_killed_and_reported, .fini = rm_dirs, .timeout = 60)
{
	rk_info_with_bad_plugin("probe_hang", "hangs", "--timeout 1", "hung",
				"did not return within 1 s");
}

Test(rk_info, rk_backend_naming_a_crashing_plugin_picks_none, .fini = rm_dirs, .timeout = 60)
{
	static char out[65536];
	const char *d = make_dir();

	install(d, "fast", "fast");
	install(d, "probe_crash", "crash");
	setenv("RK_PLUGIN_PATH", d, 1);
	setenv("RK_BACKEND", "crash", 1);
	cr_assert_eq(rk_info("", out, sizeof(out)), 1);
	unsetenv("RK_BACKEND");
	assert_contains(out, "auto would pick: none: plugin crash unavailable: ");
	assert_contains(out, "killed by signal");
}

Test(rk_info, timeout_option_is_checked)
{
	static char out[4096];
	cr_assert_eq(rk_info("--timeout 0", out, sizeof(out)), 2);
	cr_assert_eq(rk_info("--timeout x", out, sizeof(out)), 2);
	cr_assert_eq(rk_info("-h", out, sizeof(out)), 0);
	assert_contains(out, "--timeout");
}
