/* SPDX-License-Identifier: MIT */
/*
 * runtime/plugin_loader.c - find, validate and probe backend plugins.
 *
 * A plugin is code we are about to run in the caller's process, found
 * through an environment variable: everything about it is untrusted until
 * checked. The order of the checks is the point of this file:
 *
 *   1. the directory and the file are safe to load from (nobody but us or
 *      root can write them) - before dlopen, which already runs the
 *      plugin's constructors;
 *   2. the entry symbol exists and returns a struct;
 *   3. its ABI major is ours, and struct_size covers every member before
 *      that member is read (the struct may come from an older or newer
 *      minor, libfabric style);
 *   4. its name is the file's, so RK_BACKEND=cpu cannot load something
 *      else that calls itself cpu;
 *   5. its ops table is long enough for, and fills in, every mandatory op.
 *
 * A plugin that fails any check is listed with why, logged once, closed,
 * and discovery goes on: one broken plugin never hides the others.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
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

/* DESIGN §4: code is loaded only from what nobody else can write. Returns
 * true (and why) when `st` is unsafe. */
static bool unsafe_owner_mode(const struct stat *st, char *why, size_t len)
{
	uid_t me = geteuid();
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		set_why(why, len, "%s-writable (mode %04o): others could plant code in it",
			(st->st_mode & S_IWOTH) ? "world" : "group",
			(unsigned)(st->st_mode & 07777));
		return true;
	}
	if (st->st_uid != me && st->st_uid != 0) {
		set_why(why, len, "owned by uid %u, neither uid %u nor root", (unsigned)st->st_uid,
			(unsigned)me);
		return true;
	}
	return false;
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

static int load_one(struct rki_plugin *p)
{
	struct stat st;
	const struct rk_plugin *pl;
	rk_plugin_entry_fn entry;
	void *sym;
	int ret;

	for (const char *c = p->name; *c; c++) {
		if (!valid_name_char(*c)) {
			set_why(p->why, sizeof(p->why), "plugin name '%s' is not [a-z0-9_-]{1,63}",
				p->name);
			return refuse(p, -EINVAL);
		}
	}

	/* stat, not lstat: the build tree links plugins into one directory,
	 * so what matters is the file the link leads to. Once the directory
	 * and the file are writable by nobody else, nobody else can swap
	 * the file between this stat and dlopen. */
	if (stat(p->path, &st) < 0) {
		ret = -errno;
		set_why(p->why, sizeof(p->why), "stat: %s", strerror(-ret));
		return refuse(p, ret);
	}
	if (!S_ISREG(st.st_mode)) {
		set_why(p->why, sizeof(p->why), "not a regular file");
		return refuse(p, -ENOEXEC);
	}
	if (unsafe_owner_mode(&st, p->why, sizeof(p->why)))
		return refuse(p, -EACCES);

	dlerror();
	/* RTLD_NOW: an unresolved symbol fails here, with a reason, rather
	 * than crash the first kernel launch. RTLD_LOCAL: two plugins never
	 * bind to each other's symbols. */
	p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		const char *e = dlerror();
		set_why(p->why, sizeof(p->why), "dlopen: %s", e ? e : "unknown error");
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

static int scan_dir(struct scan *sc, const char *dir)
{
	struct dirent **names = NULL;
	struct stat st;
	char why[256];
	int k, ret = 0;

	if (stat(dir, &st) < 0) {
		/* The install dir of an uninstalled build, a stale path entry:
		 * nothing to list, and nothing wrong. */
		rki_log_debug("plugin directory %s: %s", dir, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		rki_log_warn("plugin directory %s: not a directory, skipped", dir);
		return 0;
	}
	ret = dir_seen(sc, &st);
	if (ret)
		return ret < 0 ? ret : 0;
	if (unsafe_owner_mode(&st, why, sizeof(why))) {
		rki_log_warn("plugin directory %s refused: %s (%s)", dir, why,
			     rk_strerror(-EACCES));
		return 0;
	}

	/* alphasort: the same tree lists the same way on every run. */
	k = scandir(dir, &names, is_candidate, alphasort);
	if (k < 0) {
		if (errno == ENOMEM)
			return -ENOMEM;
		rki_log_warn("plugin directory %s: %s, skipped", dir, strerror(errno));
		return 0;
	}
	for (int i = 0; i < k; i++) {
		const char *f = names[i]->d_name;
		size_t pre = sizeof(PLUGIN_PREFIX) - 1;
		size_t n = strlen(f) - pre - (sizeof(PLUGIN_SUFFIX) - 1);
		struct rki_plugin *p = add_candidate(sc);
		if (!p) {
			ret = -ENOMEM;
			break;
		}
		int w = snprintf(p->path, sizeof(p->path), "%s/%s", dir, f);
		snprintf(p->name, sizeof(p->name), "%.*s", (int)n, f + pre);
		if (w < 0 || (size_t)w >= sizeof(p->path)) {
			set_why(p->why, sizeof(p->why), "path longer than %zu bytes",
				sizeof(p->path) - 1);
			refuse(p, -EINVAL);
			continue;
		}
		if (n >= sizeof(p->name)) {
			set_why(p->why, sizeof(p->why), "plugin name longer than %zu bytes",
				sizeof(p->name) - 1);
			refuse(p, -EINVAL);
			continue;
		}
		const struct rki_plugin *q = find_earlier(sc->set, p);
		if (q) {
			/* First directory wins, as with $PATH: a user plugin in
			 * RK_PLUGIN_PATH overrides the installed one. */
			set_why(p->why, sizeof(p->why), "shadowed by %s", q->path);
			p->load_err = RKI_PLUGIN_SHADOWED;
			rki_log_info("plugin %s %s", p->path, p->why);
			continue;
		}
		pthread_mutex_lock(&dl_lock);
		if (load_one(p) == 0)
			probe_one(p, sc->device);
		pthread_mutex_unlock(&dl_lock);
	}
	for (int i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return ret;
}

/* ---- the interface ------------------------------------------------------ */

int rki_plugins_discover(const char *builder_path, int device, struct rki_plugin_set *out)
{
	struct scan sc = { .set = out, .device = device };
	char *list, *save = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->dirs = search_path_dup(builder_path);
	list = out->dirs ? strdup(out->dirs) : NULL;
	if (!list) {
		ret = rk_error(-ENOMEM, "plugin discovery: out of memory");
		goto fail;
	}
	for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
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
	i->loaded = p->load_err == 0;
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
	ret = rki_plugins_discover(plugin_path, device, &set);
	if (ret < 0)
		return ret;
	/* RK_BACKEND=auto|cpu|cuda|hip|NAME, checked as the builder checks it. */
	const char *want = getenv("RK_BACKEND");
	for (const char *c = want; c && *c; c++) {
		if (!valid_name_char(*c)) {
			rki_plugins_release(&set, NULL, NULL);
			return rk_error(-EINVAL,
					"RK_BACKEND=\"%s\": expected auto, cpu, cuda, hip or a "
					"plugin name ([a-z0-9_-])",
					want);
		}
	}
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
