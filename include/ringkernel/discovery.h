/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/discovery.h - which backend plugins are there, and why a
 * plugin cannot be used. What rk-info prints, for programs.
 *
 * Plugins are searched in $RK_PLUGIN_PATH, then `plugin_path` (a colon
 * list, may be NULL: the builder's rk_runtime_builder_plugin_path()), then
 * the install directory. rk_plugins_list() and rk_plugins_auto_pick() load
 * and probe the plugins afresh, in the calling process, and unload them
 * before they return; rk_plugins_find() loads nothing, and
 * rk_plugin_probe_path() loads one, for a caller that runs each plugin's
 * code somewhere it may crash (rk-info probes each in a child process).
 */
#ifndef RINGKERNEL_DISCOVERY_H
#define RINGKERNEL_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One plugin file found on the search path. */
typedef struct rk_plugin_info {
	char path[4096];
	char name[64]; /* NAME of rk-plugin-NAME.so */
	char version[64];
	uint32_t abi_major, abi_minor;
	/* 0 usable; else a negative errno: why it was refused (loaded false)
	 * or why its probe failed (loaded true). */
	int status;
	int priority;	  /* the probe's; meaningful when status is 0 */
	char reason[256]; /* human reason when status is not 0 */
	bool shadowed;	  /* an earlier directory has a plugin of this name */
	bool loaded;	  /* the file passed every load check (and was loaded) */
} rk_plugin_info;

/*
 * List the plugins found, in search order, usable or not. Fills at most
 * `max` entries of `out` (may be NULL when max is 0); *n_p is the number
 * found, which may be more than max. 0, -EINVAL or -ENOMEM.
 */
int rk_plugins_list(const char *plugin_path, int device, rk_plugin_info *out, unsigned max,
		    unsigned *n_p);

/*
 * List the plugin files found, as rk_plugins_list() does, but load none:
 * no plugin code runs. Each entry has path, name and shadowed; a file
 * refused by a check that needs no loading (name, owner, mode, the
 * directories above it) has its status and reason; every other entry has
 * status 0 and loaded false: load and probe it with rk_plugin_probe_path().
 * 0, -EINVAL or -ENOMEM.
 */
int rk_plugins_find(const char *plugin_path, rk_plugin_info *out, unsigned max, unsigned *n_p);

/*
 * Load the one plugin file `path` (named rk-plugin-NAME.so; its directory
 * is checked as a searched one is), probe device `device`, unload it, and
 * fill *out as rk_plugins_list() fills an entry. This runs the plugin's
 * constructors and probe in the calling process. 0 (out->status says how
 * the plugin fared) or -EINVAL (NULL argument, or not a plugin file name).
 */
int rk_plugin_probe_path(const char *path, int device, rk_plugin_info *out);

/*
 * The plugin RK_BACKEND_AUTO would pick, honouring $RK_BACKEND like the
 * builder does (a name there opens that plugin's file only): its name in
 * `name` (len bytes), its priority in *priority_p (may be NULL). -ENODEV
 * when nothing is usable, -ENOENT when $RK_BACKEND names a plugin that is
 * not there, -ERANGE when `name` is too short; rk_last_error() says more.
 */
int rk_plugins_auto_pick(const char *plugin_path, int device, char *name, size_t len,
			 int *priority_p);

/* The directories searched, colon-joined, in order. 0 or -ERANGE. */
int rk_plugins_search_path(const char *plugin_path, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_DISCOVERY_H */
