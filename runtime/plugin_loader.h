/* SPDX-License-Identifier: MIT */
/*
 * runtime/plugin_loader.h - find, validate and probe backend plugins.
 *
 * Internal to libringkernel (rki_*). The public view of the same data is
 * include/ringkernel/discovery.h.
 */
#ifndef RK_RUNTIME_PLUGIN_LOADER_H
#define RK_RUNTIME_PLUGIN_LOADER_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <ringkernel/plugin.h>

/* One candidate file. A candidate that was refused keeps dl and plugin NULL
 * and says why; one that loaded but cannot run here keeps probe_ret/why. */
struct rki_plugin {
	char path[4096];
	char name[64]; /* from the file name rk-plugin-NAME.so */
	char version[64];
	uint32_t abi_major, abi_minor;
	void *dl;			/* dlopen handle; NULL when loading failed */
	const struct rk_plugin *plugin; /* NULL when loading failed */
	int load_err;			/* 0, or negative errno: why it was refused */
	int probe_ret;			/* 0 usable, else negative errno */
	int priority;
	char why[256]; /* reason for a load or probe failure */
};

/* load_err of a candidate whose name an earlier directory already claimed:
 * listed, never loaded, why = "shadowed by <path>". */
#define RKI_PLUGIN_SHADOWED (-EEXIST)

struct rki_plugin_set {
	struct rki_plugin *v;
	unsigned n;
	char *dirs; /* the directories searched, colon-joined, for messages */
};

/* An op is callable only when the plugin's ops table is long enough to hold
 * it (libfabric's FI_CHECK_OP) and the plugin filled it in. The loader has
 * already checked the mandatory ones; use this for residency and poll. */
#define RKI_PLUGIN_HAS_OP(ops, op)                                                       \
	((ops)->struct_size >= offsetof(struct rk_plugin_ops, op) + sizeof((ops)->op) && \
	 (ops)->op != NULL)

static inline int rki_plugin_usable(const struct rki_plugin *p)
{
	return p->plugin && p->load_err == 0 && p->probe_ret == 0;
}

/*
 * Discover in order: $RK_PLUGIN_PATH entries (colon list; ignored by a
 * set-uid program, secure_getenv), then builder_path entries (colon list,
 * may be NULL), then RK_PLUGIN_DIR. Load each rk-plugin-*.so, validate,
 * and probe(device). Every candidate is listed, usable or not; a plugin
 * name found again in a later directory is shadowed (listed with
 * why="shadowed by <path>", not loaded). A directory that is unsafe
 * (writable by others, or under a directory others could rename it from:
 * see plugin_loader.c) is not searched. One log line (warn) per refused
 * plugin saying why. Returns 0 (even if nothing usable) or -ENOMEM.
 */
int rki_plugins_discover(const char *builder_path, int device, struct rki_plugin_set *out);

/*
 * The same search for one name: the first rk-plugin-NAME.so in search
 * order is listed, loaded and probed, and nothing else is opened - no
 * other plugin's code runs. The set is empty when no directory has it.
 * -EINVAL when name is not [a-z0-9_-]{1,63} (it becomes a file name), else
 * as rki_plugins_discover().
 */
int rki_plugins_discover_named(const char *builder_path, const char *name, int device,
			       struct rki_plugin_set *out);

/* What the builder loads for `want`: everything for NULL, "" or "auto",
 * else rki_plugins_discover_named(want). */
int rki_plugins_discover_for(const char *builder_path, const char *want, int device,
			     struct rki_plugin_set *out);

/*
 * The search of rki_plugins_discover() with every check that runs no code
 * of a plugin (name, shadowing, owner and mode of the file and of every
 * directory above it), and no dlopen: candidates that passed have
 * load_err 0 and plugin NULL. For rk-info, which loads each in a child.
 */
int rki_plugins_scan(const char *builder_path, struct rki_plugin_set *out);

/* A usable candidate turned out unusable after all (its open failed):
 * probe_ret = err (a negative errno), why from fmt, one warn log line.
 * rki_plugins_select() passes it over from then on. */
__attribute__((format(printf, 3, 4))) void rki_plugin_set_unusable(struct rki_plugin *p, int err,
								   const char *fmt, ...);

/*
 * want NULL or "auto": the usable plugin with the highest priority (the
 * first found wins a tie). Otherwise by name: -ENOENT if absent, -ENODEV
 * with the probe's reason in rk_last_error() if its probe failed, or the
 * load failure (load_err, why) if it was refused. *out is NULL on failure.
 */
int rki_plugins_select(struct rki_plugin_set *set, const char *want, struct rki_plugin **out);

/* dlclose every candidate but `keep` (may be NULL) and free the set; `keep`
 * is copied to *kept (caller-owned struct) before the set is freed. */
void rki_plugins_release(struct rki_plugin_set *set, const struct rki_plugin *keep,
			 struct rki_plugin *kept);

/* dlopen rk-transport-NAME.so from the same search path, with the same
 * checks; the file it loaded in `path`. 0, -ENOENT, -EACCES, -ENOEXEC. */
int rki_transport_open(const char *name, void **dl, char *path, size_t len);

/* dlclose a kept plugin. */
void rki_plugin_unload(struct rki_plugin *p);

#endif
