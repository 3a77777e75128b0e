/* SPDX-License-Identifier: MIT */
/*
 * runtime/plugin_loader.c - find, validate and probe backend plugins.
 *
 * A plugin is code we are about to run in the caller's process, found
 * through an environment variable: everything about it is untrusted until
 * checked. The order of the checks is the point of this file:
 *
 *   1. the directory and the file are safe to load from (nobody but us or
 *      root can write them, nor replace them through any directory above
 *      their real path) - before dlopen, which already runs the plugin's
 *      constructors - and what is loaded is the descriptor those checks
 *      were made on, not a path looked up again;
 *   2. the entry symbol exists and returns a struct;
 *   3. its ABI major is ours, and struct_size covers every member before
 *      that member is read (the struct may come from an older or newer
 *      minor, libfabric style);
 *   4. its name is the file's, so RK_BACKEND=cpu cannot load something
 *      else that calls itself cpu;
 *   5. it was built for this memory layout (RK_LAYOUT_VERSION), since its
 *      kernels read the library's rings in place;
 *   6. its ops table is long enough for, and fills in, every mandatory op.
 *
 * A plugin that fails any check is listed with why, logged once, closed,
 * and discovery goes on: one broken plugin never hides the others. A
 * program that names its backend opens that plugin's file only
 * (rki_plugins_discover_named): no other plugin's constructor or probe
 * runs in it, so none can crash it, end it or leave threads in it.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ringkernel/discovery.h>
#include <ringkernel/error.h>
#include <ringkernel/plugin.h>

#include "log.h"
#include "plugin_loader.h"

#define PLUGIN_PREFIX "rk-plugin-"
#define PLUGIN_SUFFIX ".so"

#define OFFSETOFEND(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

_Static_assert(sizeof(((rk_plugin_info *)0)->path) == sizeof(((struct rki_plugin *)0)->path),
	       "rk_plugin_info.path and rki_plugin.path must match");
_Static_assert(sizeof(((rk_plugin_info *)0)->name) == sizeof(((struct rki_plugin *)0)->name),
	       "rk_plugin_info.name and rki_plugin.name must match");
_Static_assert(sizeof(((rk_plugin_info *)0)->version) == sizeof(((struct rki_plugin *)0)->version),
	       "rk_plugin_info.version and rki_plugin.version must match");
_Static_assert(sizeof(((rk_plugin_info *)0)->reason) == sizeof(((struct rki_plugin *)0)->why),
	       "rk_plugin_info.reason and rki_plugin.why must match");

/* The ops without which the core cannot drive a kernel; residency and poll
 * are optional (the core checks them with RKI_PLUGIN_HAS_OP). */
static const struct {
	const char *name;
	size_t end; /* struct_size must reach this far */
	size_t off;
} mandatory_ops[] = {
#define OP(m)                                                                               \
	{                                                                                   \
#m, OFFSETOFEND(struct rk_plugin_ops, m), offsetof(struct rk_plugin_ops, m) \
	}
	OP(probe), OP(open), OP(close), OP(launch), OP(signal), OP(terminate), OP(release),
#undef OP
};

/*
 * Held around every dlopen ... dlclose of a plugin, and around its entry
 * and probe calls. ld.so serializes dlopen and dlclose itself, but with an
 * internal lock TSan cannot see, so two runtimes built at once read as a
 * race inside ld.so; and a probe may dlopen its vendor driver. Discovery is
 * a cold path: making the order explicit costs nothing.
 */
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((format(printf, 3, 4))) static void set_why(char *why, size_t len, const char *fmt,
							  ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* ---- search path ------------------------------------------------------- */

static void append_list(char *buf, size_t len, size_t *pos, const char *list)
{
	if (!list)
		return;
	/* Empty entries (a leading, trailing or doubled colon) mean nothing
	 * here: unlike $PATH they do not mean the current directory, which
	 * would load code from wherever the program happens to run. */
	for (const char *s = list; *s;) {
		size_t n = strcspn(s, ":");
		if (n) {
			/* Past the end, keep counting what it would take. */
			char *dst = *pos < len ? buf + *pos : NULL;
			int w = snprintf(dst, dst ? len - *pos : 0, "%s%.*s", *pos ? ":" : "",
					 (int)n, s);
			*pos += (size_t)w;
		}
		s += n;
		if (*s == ':')
			s++;
	}
}

/* The whole search path; *need is the length it takes (without the NUL).
 * Returns 0, or -ERANGE when it did not fit in len bytes. */
static int search_path(const char *builder_path, char *buf, size_t len, size_t *need)
{
	size_t pos = 0;
	/* secure_getenv: a set-uid program must not load code named by its
	 * caller's environment, as ld.so ignores LD_LIBRARY_PATH for it. */
	append_list(buf, len, &pos, secure_getenv("RK_PLUGIN_PATH"));
	append_list(buf, len, &pos, builder_path);
	/* RK_PLUGIN_PATH_ONLY=1: not the install directory (a test suite
	 * that must see only the build tree's plugins, whatever is installed). */
	const char *only = secure_getenv("RK_PLUGIN_PATH_ONLY");
	if (!(only && !strcmp(only, "1")))
		append_list(buf, len, &pos, RK_PLUGIN_DIR);
	if (need)
		*need = pos;
	if (len)
		buf[pos < len ? pos : len - 1] = '\0';
	return pos < len ? 0 : -ERANGE;
}

static char *search_path_dup(const char *builder_path)
{
	size_t need = 0;
	search_path(builder_path, NULL, 0, &need);
	char *s = malloc(need + 1);
	if (s)
		search_path(builder_path, s, need + 1, NULL);
	return s;
}

/* ---- permission checks -------------------------------------------------- */

/*
 * DESIGN §4: code is loaded only from what nobody else can write. Every
 * check is on a real path (realpath(): no symlink left in it), and covers:
 *
 *   - the plugin file and the directory searched: owned by us or root, and
 *     neither group- nor world-writable;
 *   - every directory above the real path of either: owned by us or root,
 *     and not group- or world-writable unless sticky. Whoever can write a
 *     directory can rename what it holds and put their own in its place,
 *     so a safe directory under /home/alice (when we are not alice) or
 *     under a mode 0777 directory is as unsafe as the 0777 one itself. In
 *     a sticky directory (/tmp) others may add entries but cannot rename
 *     or remove ours, and every entry on the path is ours or root's, so
 *     /tmp/mine/rk-plugin-x.so, mine all the way, is safe; a file of
 *     another user in /tmp is refused for its owner.
 *
 * The directory searched gets no sticky exception: others could add
 * rk-plugin-NAME.so files to it. A link's target directory does: only the
 * file the link names is loaded from it.
 */
static bool trusted_uid(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

/* True (and why) when `st`, the file or the directory searched, is unsafe. */
static bool unsafe_owner_mode(const struct stat *st, char *why, size_t len)
{
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		set_why(why, len, "%s-writable (mode %04o): others could plant code in it",
			(st->st_mode & S_IWOTH) ? "world" : "group",
			(unsigned)(st->st_mode & 07777));
		return true;
	}
	if (!trusted_uid(st->st_uid)) {
		set_why(why, len, "owned by uid %u, neither uid %u nor root", (unsigned)st->st_uid,
			(unsigned)geteuid());
		return true;
	}
	return false;
}

/*
 * 0 when every directory above `real` (an absolute path as realpath()
 * returns it) is safe as the comment above says; else a negative errno and
 * why, naming the directory.
 */
static int unsafe_ancestors(const char *real, char *why, size_t len)
{
	char dir[PATH_MAX];
	struct stat st;
	size_t n = strlen(real);

	if (real[0] != '/' || n >= sizeof(dir)) {
		set_why(why, len, "'%s' is not an absolute path", real);
		return -EINVAL;
	}
	memcpy(dir, real, n + 1);
	while (n > 1) {
		while (n > 1 && dir[n - 1] != '/')
			n--;
		dir[n > 1 ? n - 1 : 1] = '\0'; /* the parent; "/" last */
		if (lstat(dir, &st) < 0) {
			int err = -errno;
			set_why(why, len, "directory %s: %s", dir, strerror(errno));
			return err;
		}
		if (!S_ISDIR(st.st_mode)) {
			/* realpath() left no link; one now is a swap in progress */
			set_why(why, len, "%s changed while it was checked", dir);
			return -EACCES;
		}
		if (!trusted_uid(st.st_uid)) {
			set_why(why, len,
				"directory %s is owned by uid %u, neither uid %u nor root", dir,
				(unsigned)st.st_uid, (unsigned)geteuid());
			return -EACCES;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
			set_why(why, len,
				"directory %s is %s-writable (mode %04o) and not sticky: others "
				"could put their own code in its place",
				dir, (st.st_mode & S_IWOTH) ? "world" : "group",
				(unsigned)(st.st_mode & 07777));
			return -EACCES;
		}
		n = strlen(dir);
	}
	return 0;
}

/*
 * A directory to search, by its real path (`real`, PATH_MAX bytes) and
 * stat. 0 when it is safe; -ENOENT (quietly: a stale path entry, the
 * install dir of an uninstalled build) when it is not there; another
 * negative errno and why when it must not be searched.
 */
static int check_dir(const char *dir, char *real, struct stat *st, char *why, size_t len)
{
	int err;

	if (!realpath(dir, real)) {
		err = -errno;
		set_why(why, len, "%s", strerror(errno));
		return err;
	}
	if (lstat(real, st) < 0) {
		err = -errno;
		set_why(why, len, "%s: %s", real, strerror(errno));
		return err;
	}
	if (!S_ISDIR(st->st_mode)) {
		set_why(why, len, "not a directory");
		return -ENOTDIR;
	}
	if (unsafe_owner_mode(st, why, len))
		return -EACCES;
	return unsafe_ancestors(real, why, len);
}

/* ---- one candidate ------------------------------------------------------ */

/* The alphabet RK_BACKEND and rk_runtime_builder_backend_name() accept:
 * a plugin they could not name is refused rather than listed as usable. */
static bool valid_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Called with dl_lock held whenever p->dl is set. */
static int refuse(struct rki_plugin *p, int err)
{
	if (p->dl)
		dlclose(p->dl);
	p->dl = NULL;
	p->plugin = NULL;
	p->load_err = err;
	rki_log_warn("plugin %s refused: %s (%s)", p->path, p->why, rk_strerror(err));
	return err;
}

static int check_name(struct rki_plugin *p)
{
	for (const char *c = p->name; *c; c++) {
		if (!valid_name_char(*c)) {
			set_why(p->why, sizeof(p->why), "plugin name '%s' is not [a-z0-9_-]{1,63}",
				p->name);
			return refuse(p, -EINVAL);
		}
	}
	return 0;
}

static int check_ops(struct rki_plugin *p, const struct rk_plugin_ops *ops)
{
	if (!ops) {
		set_why(p->why, sizeof(p->why), "no ops table");
		return refuse(p, -ENOEXEC);
	}
	for (size_t i = 0; i < sizeof(mandatory_ops) / sizeof(mandatory_ops[0]); i++) {
		void *fn;
		if (ops->struct_size < mandatory_ops[i].end) {
			set_why(p->why, sizeof(p->why),
				"ops struct_size %zu does not reach mandatory op %s (needs %zu)",
				ops->struct_size, mandatory_ops[i].name, mandatory_ops[i].end);
			return refuse(p, -EPROTO);
		}
		/* Every op is a function pointer of the same size; copying
		 * the bytes tests for NULL without naming each type. */
		memcpy(&fn, (const char *)ops + mandatory_ops[i].off, sizeof(fn));
		if (!fn) {
			set_why(p->why, sizeof(p->why), "mandatory op %s is NULL",
				mandatory_ops[i].name);
			return refuse(p, -ENOEXEC);
		}
	}
	return 0;
}

/*
 * The name to dlopen descriptor `fd` (the file `st` describes) by, into
 * buf (RKI_FD_NAME_MAX bytes): /proc/self/fd/N, the open file itself, so
 * what was checked is what loads, whatever the path leads to by then.
 *
 * ld.so returns an object it loaded before under the same name without
 * opening anything, and descriptor numbers are reused: a plugin loaded as
 * /proc/self/fd/5 after another one that is still loaded (kept by a
 * runtime) would be that other one. So the file's device and inode are
 * spelt into the name as components the kernel ignores, "./" for a 1 bit
 * and "/" for a 0 bit, after /proc/: equal names mean the same device and
 * inode, and an inode ld.so still has mapped is not reused for another
 * file. (A debugger shows plugins under these names.)
 *
 * -ENOENT when there is no /proc (a chroot, a bare container).
 */
#define RKI_FD_NAME_MAX (sizeof("/proc/self/fd/") + 2 * 2 * 64 + 12)
static int fd_name(int fd, const struct stat *st, char *buf, size_t len)
{
	const uint64_t id[2] = { (uint64_t)st->st_dev, (uint64_t)st->st_ino };
	struct stat chk;
	size_t pos = 0;

	if (len < RKI_FD_NAME_MAX)
		return -ERANGE;
	memcpy(buf, "/proc/", 6);
	pos = 6;
	for (int w = 0; w < 2; w++)
		for (int bit = 63; bit >= 0; bit--) {
			if ((id[w] >> bit) & 1)
				buf[pos++] = '.';
			buf[pos++] = '/';
		}
	snprintf(buf + pos, len - pos, "self/fd/%d", fd);
	if (stat(buf, &chk) < 0 || chk.st_dev != st->st_dev || chk.st_ino != st->st_ino)
		return -ENOENT;
	return 0;
}

/*
 * Open the plugin file for loading: its real path, every directory above
 * it, and the file itself (through the descriptor) checked. Returns the
 * descriptor, with its stat in *st and the real path in `real`, or a
 * negative errno with p->why set.
 */
static int open_checked(struct rki_plugin *p, char *real, struct stat *st)
{
	struct stat lst;
	int fd, ret;

	if (!realpath(p->path, real)) {
		ret = -errno;
		set_why(p->why, sizeof(p->why), "%s", strerror(errno));
		return ret;
	}
	if ((ret = unsafe_ancestors(real, p->why, sizeof(p->why))) < 0)
		return ret;
	/* lstat first: opening a FIFO or a device (a tape that rewinds)
	 * could block or act; a regular file's open does neither. */
	if (lstat(real, &lst) < 0) {
		ret = -errno;
		set_why(p->why, sizeof(p->why), "%s: %s", real, strerror(errno));
		return ret;
	}
	if (!S_ISREG(lst.st_mode)) {
		set_why(p->why, sizeof(p->why), "not a regular file");
		return -ENOEXEC;
	}
	fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		set_why(p->why, sizeof(p->why), "open %s: %s", real, strerror(errno));
		return ret;
	}
	if (fstat(fd, st) < 0) {
		ret = -errno;
		set_why(p->why, sizeof(p->why), "fstat %s: %s", real, strerror(errno));
		close(fd);
		return ret;
	}
	if (!S_ISREG(st->st_mode) || st->st_dev != lst.st_dev || st->st_ino != lst.st_ino) {
		set_why(p->why, sizeof(p->why), "%s changed while it was checked", real);
		close(fd);
		return -EACCES;
	}
	if (unsafe_owner_mode(st, p->why, sizeof(p->why))) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

/* dlopen the checked descriptor (fd_name()); where there is no /proc, the
 * real path, checked again against the descriptor: with every directory
 * above it ours or root's, only we or root could swap it in between. The
 * name given to dlopen is left in `name` (PATH_MAX bytes). */
static void *dlopen_checked(int fd, const struct stat *st, const char *real, char *name)
{
	_Static_assert(PATH_MAX >= RKI_FD_NAME_MAX, "fd_name() needs RKI_FD_NAME_MAX bytes");
	struct stat again;

	/* RTLD_NOW: an unresolved symbol fails here, with a reason, rather
	 * than crash the first kernel launch. RTLD_LOCAL: two plugins never
	 * bind to each other's symbols. */
	if (fd_name(fd, st, name, PATH_MAX) == 0)
		return dlopen(name, RTLD_NOW | RTLD_LOCAL);
	rki_log_debug("plugin %s: no /proc/self/fd, loading it by its path", real);
	snprintf(name, PATH_MAX, "%s", real);
	if (stat(real, &again) < 0 || again.st_dev != st->st_dev || again.st_ino != st->st_ino)
		return NULL;
	return dlopen(real, RTLD_NOW | RTLD_LOCAL);
}

static int load_one(struct rki_plugin *p)
{
	char real[PATH_MAX], name[PATH_MAX];
	struct stat st;
	const struct rk_plugin *pl;
	rk_plugin_entry_fn entry;
	void *sym;
	int fd, ret;

	if ((ret = check_name(p)) < 0)
		return ret;

	/* The real path, not the link: the build tree links plugins into
	 * one directory, so what matters is the file a link leads to and
	 * every directory above that file. */
	fd = open_checked(p, real, &st);
	if (fd < 0)
		return refuse(p, fd);

	dlerror();
	p->dl = dlopen_checked(fd, &st, real, name);
	close(fd); /* ld.so has the file mapped, through its own descriptor */
	if (!p->dl) {
		const char *e = dlerror();
		size_t n = strlen(name);
		/* dlerror() starts with the name dlopen had, here a long
		 * /proc/self/fd one: say which file it was instead. */
		if (e && !strncmp(e, name, n) && !strncmp(e + n, ": ", 2))
			e += n + 2;
		set_why(p->why, sizeof(p->why), "dlopen: %s: %s", real,
			e ? e : "the file changed while it was checked");
		return refuse(p, -ENOEXEC);
	}
	dlerror();
	sym = dlsym(p->dl, RK_PLUGIN_ENTRY);
	if (!sym) {
		set_why(p->why, sizeof(p->why), "no %s symbol", RK_PLUGIN_ENTRY);
		return refuse(p, -ENOEXEC);
	}
	memcpy(&entry, &sym, sizeof(entry)); /* ISO C has no void * to function cast */
	pl = entry();
	if (!pl) {
		set_why(p->why, sizeof(p->why), "%s() returned NULL", RK_PLUGIN_ENTRY);
		return refuse(p, -ENOEXEC);
	}

	/* abi_major, abi_minor and struct_size are the fixed header of every
	 * ABI; nothing past them is read until struct_size vouches for it. */
	p->abi_major = pl->abi_major;
	p->abi_minor = pl->abi_minor;
	if (pl->abi_major != RK_PLUGIN_ABI_MAJOR) {
		set_why(p->why, sizeof(p->why), "plugin ABI %u.%u, this runtime speaks ABI %u.x",
			pl->abi_major, pl->abi_minor, RK_PLUGIN_ABI_MAJOR);
		return refuse(p, -EPROTO);
	}
	if (pl->struct_size < OFFSETOFEND(struct rk_plugin, ops)) {
		set_why(p->why, sizeof(p->why),
			"struct rk_plugin is %zu bytes, ABI %u needs at least %zu", pl->struct_size,
			RK_PLUGIN_ABI_MAJOR, OFFSETOFEND(struct rk_plugin, ops));
		return refuse(p, -EPROTO);
	}
	set_why(p->version, sizeof(p->version), "%s", pl->version ? pl->version : "");
	if (!pl->name || strcmp(pl->name, p->name) != 0) {
		set_why(p->why, sizeof(p->why), "plugin calls itself '%.64s', its file says '%s'",
			pl->name ? pl->name : "(null)", p->name);
		return refuse(p, -EINVAL);
	}
	/* Its kernels read our rings and control blocks in place: the layout
	 * must be ours. An ABI 1.0 plugin predates layout 4 and cannot say. */
	if (pl->struct_size < OFFSETOFEND(struct rk_plugin, layout_version)) {
		set_why(p->why, sizeof(p->why),
			"plugin ABI %u.%u says no memory layout (built for layout 3 or older); "
			"this library is layout %u: rebuild the plugin",
			pl->abi_major, pl->abi_minor, RK_LAYOUT_VERSION);
		return refuse(p, -EPROTO);
	}
	if (pl->layout_version != RK_LAYOUT_VERSION) {
		set_why(p->why, sizeof(p->why),
			"plugin built for memory layout %u, this library is layout %u: rebuild "
			"the plugin",
			pl->layout_version, RK_LAYOUT_VERSION);
		return refuse(p, -EPROTO);
	}
	ret = check_ops(p, pl->ops);
	if (ret < 0)
		return ret;

	p->plugin = pl;
	return 0;
}

static void probe_one(struct rki_plugin *p, int device)
{
	int prio = 0, ret;

	p->why[0] = '\0';
	ret = p->plugin->ops->probe(device, &prio, p->why, sizeof(p->why));
	p->why[sizeof(p->why) - 1] = '\0'; /* a plugin may fill the buffer */
	if (ret > 0) {
		set_why(p->why, sizeof(p->why), "probe returned %d, not 0 or a negative errno",
			ret);
		ret = -EINVAL;
	}
	p->probe_ret = ret;
	if (ret == 0) {
		/* why is a failure reason; whatever a usable probe wrote there
		 * is not one. */
		p->why[0] = '\0';
		p->priority = prio;
		rki_log_debug("plugin %s %s: usable on device %d, priority %d", p->name, p->version,
			      device, prio);
		return;
	}
	if (!p->why[0])
		set_why(p->why, sizeof(p->why), "probe failed: %s", rk_strerror(ret));
	/* Not a fault: a CUDA plugin on a machine without a GPU says so here. */
	rki_log_info("plugin %s: unavailable on device %d: %s", p->name, device, p->why);
}

/* ---- directories -------------------------------------------------------- */

struct seen_dir {
	dev_t dev;
	ino_t ino;
};

struct scan {
	struct rki_plugin_set *set;
	unsigned cap;
	struct seen_dir *seen;
	unsigned n_seen, cap_seen;
	int device;
	const char *only; /* NULL, or the one plugin name to look for */
	bool load;	  /* load and probe, or only check what needs no loading */
	bool found;	  /* `only` was found: search no further */
};

static int is_candidate(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	size_t pre = sizeof(PLUGIN_PREFIX) - 1, suf = sizeof(PLUGIN_SUFFIX) - 1;
	return n > pre + suf && !strncmp(d->d_name, PLUGIN_PREFIX, pre) &&
	       !strcmp(d->d_name + n - suf, PLUGIN_SUFFIX);
}

static struct rki_plugin *add_candidate(struct scan *sc)
{
	struct rki_plugin_set *set = sc->set;
	if (set->n == sc->cap) {
		unsigned cap = sc->cap ? 2 * sc->cap : 8;
		struct rki_plugin *v = realloc(set->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		set->v = v;
		sc->cap = cap;
	}
	struct rki_plugin *p = &set->v[set->n++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* The same directory twice on the path (RK_PLUGIN_PATH naming the install
 * dir, a symlink to it) would list each plugin as shadowed by itself. */
static int dir_seen(struct scan *sc, const struct stat *st)
{
	for (unsigned i = 0; i < sc->n_seen; i++)
		if (sc->seen[i].dev == st->st_dev && sc->seen[i].ino == st->st_ino)
			return 1;
	if (sc->n_seen == sc->cap_seen) {
		unsigned cap = sc->cap_seen ? 2 * sc->cap_seen : 4;
		struct seen_dir *v = realloc(sc->seen, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		sc->seen = v;
		sc->cap_seen = cap;
	}
	sc->seen[sc->n_seen++] = (struct seen_dir){ st->st_dev, st->st_ino };
	return 0;
}

static const struct rki_plugin *find_earlier(const struct rki_plugin_set *set,
					     const struct rki_plugin *p)
{
	for (const struct rki_plugin *q = set->v; q < p; q++)
		if (q->load_err != RKI_PLUGIN_SHADOWED && !strcmp(q->name, p->name))
			return q;
	return NULL;
}

/* Load (and probe) candidate p, when this scan loads. */
static void load_candidate(struct scan *sc, struct rki_plugin *p)
{
	if (!sc->load)
		return;
	pthread_mutex_lock(&dl_lock);
	if (load_one(p) == 0)
		probe_one(p, sc->device);
	pthread_mutex_unlock(&dl_lock);
}

/* A candidate DIR/FILE, listed under the name between prefix and suffix. */
static struct rki_plugin *add_file(struct scan *sc, const char *dir, const char *f)
{
	size_t pre = sizeof(PLUGIN_PREFIX) - 1;
	size_t n = strlen(f) - pre - (sizeof(PLUGIN_SUFFIX) - 1);
	struct rki_plugin *p = add_candidate(sc);
	if (!p)
		return NULL;
	int w = snprintf(p->path, sizeof(p->path), "%s/%s", dir, f);
	snprintf(p->name, sizeof(p->name), "%.*s", (int)n, f + pre);
	if (w < 0 || (size_t)w >= sizeof(p->path)) {
		set_why(p->why, sizeof(p->why), "path longer than %zu bytes", sizeof(p->path) - 1);
		refuse(p, -EINVAL);
	} else if (n >= sizeof(p->name)) {
		set_why(p->why, sizeof(p->why), "plugin name longer than %zu bytes",
			sizeof(p->name) - 1);
		refuse(p, -EINVAL);
	}
	return p;
}

static int scan_dir(struct scan *sc, const char *dir)
{
	struct dirent **names = NULL;
	struct stat st;
	char real[PATH_MAX], why[256];
	int k, ret = 0;

	ret = check_dir(dir, real, &st, why, sizeof(why));
	if (ret == -ENOENT) {
		/* The install dir of an uninstalled build, a stale path entry:
		 * nothing to list, and nothing wrong. */
		rki_log_debug("plugin directory %s: %s", dir, why);
		return 0;
	}
	if (ret == -ENOTDIR) {
		rki_log_warn("plugin directory %s: not a directory, skipped", dir);
		return 0;
	}
	if (ret < 0) {
		rki_log_warn("plugin directory %s refused: %s (%s)", dir, why, rk_strerror(ret));
		return 0;
	}
	ret = dir_seen(sc, &st);
	if (ret)
		return ret < 0 ? ret : 0;

	if (sc->only) {
		/* One name: look for its file alone, list and load nothing
		 * else. Anything by that name counts, a broken link too: the
		 * first directory that has it owns the name. */
		char f[sizeof(PLUGIN_PREFIX) + 64 + sizeof(PLUGIN_SUFFIX)];
		snprintf(f, sizeof(f), PLUGIN_PREFIX "%s" PLUGIN_SUFFIX, sc->only);
		int dfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			rki_log_warn("plugin directory %s: %s, skipped", dir, strerror(errno));
			return 0;
		}
		ret = fstatat(dfd, f, &st, AT_SYMLINK_NOFOLLOW);
		close(dfd);
		if (ret < 0)
			return 0;
		struct rki_plugin *p = add_file(sc, dir, f);
		if (!p)
			return -ENOMEM;
		sc->found = true;
		if (!p->load_err)
			load_candidate(sc, p);
		return 0;
	}

	/* alphasort: the same tree lists the same way on every run. */
	k = scandir(real, &names, is_candidate, alphasort);
	if (k < 0) {
		if (errno == ENOMEM)
			return -ENOMEM;
		rki_log_warn("plugin directory %s: %s, skipped", dir, strerror(errno));
		return 0;
	}
	ret = 0;
	for (int i = 0; i < k; i++) {
		struct rki_plugin *p = add_file(sc, dir, names[i]->d_name);
		if (!p) {
			ret = -ENOMEM;
			break;
		}
		if (p->load_err)
			continue;
		const struct rki_plugin *q = find_earlier(sc->set, p);
		if (q) {
			/* First directory wins, as with $PATH: a user plugin in
			 * RK_PLUGIN_PATH overrides the installed one. */
			set_why(p->why, sizeof(p->why), "shadowed by %s", q->path);
			p->load_err = RKI_PLUGIN_SHADOWED;
			rki_log_info("plugin %s %s", p->path, p->why);
			continue;
		}
		if (sc->load) {
			load_candidate(sc, p);
			continue;
		}
		/* Listing only: every check that runs no code of the plugin. */
		char real_f[PATH_MAX];
		struct stat fst;
		if (check_name(p) < 0)
			continue;
		int fd = open_checked(p, real_f, &fst);
		if (fd < 0)
			refuse(p, fd);
		else
			close(fd);
	}
	for (int i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return ret;
}

/* ---- the interface ------------------------------------------------------ */

static bool valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= sizeof(((struct rki_plugin *)0)->name))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!valid_name_char(name[i]))
			return false;
	return true;
}

static int discover(const char *builder_path, const char *only, bool load, int device,
		    struct rki_plugin_set *out)
{
	struct scan sc = { .set = out, .device = device, .only = only, .load = load };
	char *list, *save = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->dirs = search_path_dup(builder_path);
	list = out->dirs ? strdup(out->dirs) : NULL;
	if (!list) {
		ret = rk_error(-ENOMEM, "plugin discovery: out of memory");
		goto fail;
	}
	for (char *d = strtok_r(list, ":", &save); d && !sc.found; d = strtok_r(NULL, ":", &save)) {
		ret = scan_dir(&sc, d);
		if (ret < 0) {
			rk_error(ret, "plugin discovery: out of memory in %s", d);
			goto fail;
		}
	}
	free(list);
	free(sc.seen);
	return 0;
fail:
	free(list);
	free(sc.seen);
	rki_plugins_release(out, NULL, NULL);
	return ret;
}

int rki_plugins_discover(const char *builder_path, int device, struct rki_plugin_set *out)
{
	return discover(builder_path, NULL, true, device, out);
}

int rki_plugins_discover_named(const char *builder_path, const char *name, int device,
			       struct rki_plugin_set *out)
{
	memset(out, 0, sizeof(*out));
	if (!name || !valid_name(name))
		return rk_error(-EINVAL, "plugin name \"%s\" is not [a-z0-9_-]{1,63}",
				name ? name : "(null)");
	return discover(builder_path, name, true, device, out);
}

int rki_plugins_discover_for(const char *builder_path, const char *want, int device,
			     struct rki_plugin_set *out)
{
	if (!want || !*want || !strcmp(want, "auto"))
		return rki_plugins_discover(builder_path, device, out);
	return rki_plugins_discover_named(builder_path, want, device, out);
}

int rki_plugins_scan(const char *builder_path, struct rki_plugin_set *out)
{
	return discover(builder_path, NULL, false, 0, out);
}

void rki_plugin_set_unusable(struct rki_plugin *p, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->probe_ret = err < 0 ? err : -ENODEV;
	rki_log_warn("plugin %s: %s", p->name, p->why);
}

static void no_usable_plugin(const struct rki_plugin_set *set)
{
	char buf[512];
	size_t pos = 0;

	/* Name every candidate's reason: "no usable plugin" alone sends the
	 * user to rk-info for what we already know. */
	buf[0] = '\0';
	for (unsigned i = 0; i < set->n && pos < sizeof(buf); i++) {
		const struct rki_plugin *p = &set->v[i];
		if (p->load_err == RKI_PLUGIN_SHADOWED)
			continue;
		int w = snprintf(buf + pos, sizeof(buf) - pos, "%s%s: %s", pos ? "; " : " (",
				 p->name, p->why);
		if (w > 0)
			pos += (size_t)w;
	}
	if (pos && pos < sizeof(buf) - 1)
		strcat(buf, ")");
	rk_error(-ENODEV, "no usable plugin in %s%s", set->dirs ? set->dirs : "(none)", buf);
}

int rki_plugins_select(struct rki_plugin_set *set, const char *want, struct rki_plugin **out)
{
	struct rki_plugin *best = NULL;

	*out = NULL;
	if (!want || !*want || !strcmp(want, "auto")) {
		/* Strictly greater: on a tie the earlier directory wins. */
		for (unsigned i = 0; i < set->n; i++)
			if (rki_plugin_usable(&set->v[i]) &&
			    (!best || set->v[i].priority > best->priority))
				best = &set->v[i];
		if (!best) {
			no_usable_plugin(set);
			return -ENODEV;
		}
		*out = best;
		return 0;
	}

	for (unsigned i = 0; i < set->n && !best; i++)
		if (set->v[i].load_err != RKI_PLUGIN_SHADOWED && !strcmp(set->v[i].name, want))
			best = &set->v[i];
	if (!best)
		return rk_error(-ENOENT, "no plugin named %s in %s", want,
				set->dirs && *set->dirs ? set->dirs : "(no directories)");
	if (best->load_err)
		return rk_error(best->load_err, "plugin %s (%s) refused: %s", want, best->path,
				best->why);
	if (best->probe_ret)
		return rk_error(-ENODEV, "plugin %s unavailable: %s", want, best->why);
	*out = best;
	return 0;
}

void rki_plugin_unload(struct rki_plugin *p)
{
	if (!p)
		return;
	if (p->dl) {
		pthread_mutex_lock(&dl_lock);
		dlclose(p->dl);
		pthread_mutex_unlock(&dl_lock);
	}
	p->dl = NULL;
	p->plugin = NULL;
}

void rki_plugins_release(struct rki_plugin_set *set, const struct rki_plugin *keep,
			 struct rki_plugin *kept)
{
	if (!set)
		return;
	/* Without somewhere to keep it, `keep` is closed like the rest:
	 * leaking a handle nobody can reach helps no one. */
	if (!kept)
		keep = NULL;
	if (keep)
		*kept = *keep;
	for (unsigned i = 0; i < set->n; i++)
		if (&set->v[i] != keep)
			rki_plugin_unload(&set->v[i]);
	free(set->v);
	free(set->dirs);
	memset(set, 0, sizeof(*set));
}

/* ---- public discovery API (ringkernel/discovery.h) ---------------------- */

static void to_info(const struct rki_plugin *p, rk_plugin_info *i)
{
	memset(i, 0, sizeof(*i));
	memcpy(i->path, p->path, sizeof(i->path));
	memcpy(i->name, p->name, sizeof(i->name));
	memcpy(i->version, p->version, sizeof(i->version));
	memcpy(i->reason, p->why, sizeof(i->reason));
	i->abi_major = p->abi_major;
	i->abi_minor = p->abi_minor;
	i->status = p->load_err ? p->load_err : p->probe_ret;
	i->priority = p->priority;
	i->shadowed = p->load_err == RKI_PLUGIN_SHADOWED;
	i->loaded = p->plugin != NULL;
}

int rk_plugins_list(const char *plugin_path, int device, rk_plugin_info *out, unsigned max,
		    unsigned *n_p)
{
	struct rki_plugin_set set;
	int ret;

	if (!n_p || (!out && max))
		return rk_error(-EINVAL, "rk_plugins_list: %s is NULL", n_p ? "out" : "n_p");
	rki_log_init();
	ret = rki_plugins_discover(plugin_path, device, &set);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < set.n && i < max; i++)
		to_info(&set.v[i], &out[i]);
	*n_p = set.n;
	rki_plugins_release(&set, NULL, NULL);
	return 0;
}

int rk_plugins_find(const char *plugin_path, rk_plugin_info *out, unsigned max, unsigned *n_p)
{
	struct rki_plugin_set set;
	int ret;

	if (!n_p || (!out && max))
		return rk_error(-EINVAL, "rk_plugins_find: %s is NULL", n_p ? "out" : "n_p");
	rki_log_init();
	ret = rki_plugins_scan(plugin_path, &set);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < set.n && i < max; i++)
		to_info(&set.v[i], &out[i]);
	*n_p = set.n;
	rki_plugins_release(&set, NULL, NULL);
	return 0;
}

int rk_plugin_probe_path(const char *path, int device, rk_plugin_info *out)
{
	struct rki_plugin p;
	struct stat st;
	char dir[PATH_MAX], real[PATH_MAX], why[256];
	const char *f;
	size_t pre = sizeof(PLUGIN_PREFIX) - 1, suf = sizeof(PLUGIN_SUFFIX) - 1, n;
	int ret;

	if (!path || !out)
		return rk_error(-EINVAL, "rk_plugin_probe_path: %s is NULL", path ? "out" : "path");
	f = strrchr(path, '/');
	f = f ? f + 1 : path;
	n = strlen(f);
	if (n <= pre + suf || strncmp(f, PLUGIN_PREFIX, pre) || strcmp(f + n - suf, PLUGIN_SUFFIX))
		return rk_error(-EINVAL, "%s: not named " PLUGIN_PREFIX "NAME" PLUGIN_SUFFIX, path);
	if (strlen(path) >= sizeof(p.path) || n - pre - suf >= sizeof(p.name))
		return rk_error(-EINVAL, "%s: path or plugin name too long", path);
	rki_log_init();

	memset(&p, 0, sizeof(p));
	memcpy(p.path, path, strlen(path) + 1);
	snprintf(p.name, sizeof(p.name), "%.*s", (int)(n - pre - suf), f + pre);
	/* The directory it is in is judged as discovery judges a directory
	 * it searches. */
	if (f == path)
		snprintf(dir, sizeof(dir), ".");
	else if (f == path + 1)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(f - path - 1), path);
	ret = check_dir(dir, real, &st, why, sizeof(why));
	if (ret < 0) {
		set_why(p.why, sizeof(p.why), "plugin directory %s refused: %s", dir, why);
		refuse(&p, ret);
	} else {
		pthread_mutex_lock(&dl_lock);
		if (load_one(&p) == 0)
			probe_one(&p, device);
		pthread_mutex_unlock(&dl_lock);
	}
	to_info(&p, out);
	rki_plugin_unload(&p);
	return 0;
}

int rk_plugins_auto_pick(const char *plugin_path, int device, char *name, size_t len,
			 int *priority_p)
{
	struct rki_plugin_set set;
	struct rki_plugin *p;
	int ret;

	if (!name || !len)
		return rk_error(-EINVAL, "rk_plugins_auto_pick: no room for the name");
	name[0] = '\0';
	rki_log_init();
	/* RK_BACKEND=auto|cpu|cuda|hip|NAME, checked and honoured as the
	 * builder does: a name opens that plugin's file only. */
	const char *want = secure_getenv("RK_BACKEND");
	for (const char *c = want; c && *c; c++) {
		if (!valid_name_char(*c))
			return rk_error(-EINVAL,
					"RK_BACKEND=\"%s\": expected auto, cpu, cuda, hip or a "
					"plugin name ([a-z0-9_-])",
					want);
	}
	ret = rki_plugins_discover_for(plugin_path, want, device, &set);
	if (ret < 0)
		return ret;
	ret = rki_plugins_select(&set, want, &p);
	if (ret == 0) {
		if (strlen(p->name) >= len) {
			ret = rk_error(-ERANGE, "plugin name %s needs %zu bytes", p->name,
				       strlen(p->name) + 1);
		} else {
			memcpy(name, p->name, strlen(p->name) + 1);
			if (priority_p)
				*priority_p = p->priority;
		}
	}
	rki_plugins_release(&set, NULL, NULL);
	return ret;
}

int rk_plugins_search_path(const char *plugin_path, char *buf, size_t len)
{
	if (!buf || !len)
		return rk_error(-EINVAL, "rk_plugins_search_path: no buffer");
	if (search_path(plugin_path, buf, len, NULL) < 0)
		return rk_error(-ERANGE, "plugin search path longer than %zu bytes", len - 1);
	return 0;
}

/* ---- transports ------------------------------------------------------------------------ */

/*
 * rk-transport-NAME.so, from the first directory of the search path that
 * has it, with every check a backend plugin gets (safe directories, owner
 * and mode, the file opened once and loaded through its descriptor). The
 * caller looks up rk_transport_entry and checks what it returns.
 */
int rki_transport_open(const char *name, void **dl, char *path, size_t len)
{
	*dl = NULL;
	if (!valid_name(name))
		return rk_error(-EINVAL, "transport name \"%s\" is not [a-z0-9_-]{1,63}", name);
	char *dirs = search_path_dup(NULL), *list = dirs ? strdup(dirs) : NULL, *save = NULL;
	if (!list) {
		free(dirs);
		return rk_error(-ENOMEM, "transport %s: out of memory", name);
	}
	int ret = rk_error(-ENOENT,
			   "no transport \"%s\": rk-transport-%s.so is in none of %s (configure "
			   "--with-ucx builds it)",
			   name, name, dirs);
	for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char real[PATH_MAX], why[256], dlname[PATH_MAX];
		struct stat st;
		if (check_dir(d, real, &st, why, sizeof(why)) < 0)
			continue;
		struct rki_plugin p = { 0 };
		int w = snprintf(p.path, sizeof(p.path), "%s/rk-transport-%s.so", real, name);
		if (w < 0 || (size_t)w >= sizeof(p.path) || lstat(p.path, &st) < 0)
			continue;
		snprintf(path, len, "%s", p.path);
		int fd = open_checked(&p, real, &st);
		if (fd < 0) {
			ret = rk_error(fd, "transport %s refused: %s", p.path, p.why);
			break;
		}
		pthread_mutex_lock(&dl_lock);
		dlerror();
		*dl = dlopen_checked(fd, &st, real, dlname);
		const char *e = *dl ? NULL : dlerror();
		pthread_mutex_unlock(&dl_lock);
		close(fd);
		ret = *dl ? 0
			  : rk_error(-ENOEXEC, "transport %s: dlopen: %s", p.path,
				     e ? e : "the file changed while it was checked");
		break;
	}
	free(list);
	free(dirs);
	return ret;
}
