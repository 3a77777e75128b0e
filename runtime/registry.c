/* SPDX-License-Identifier: MIT */
/* The kernel registry: built-ins every backend ships, plus user kernels. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"

static const struct {
	const char *name;
	uint32_t kind;
} builtins[] = {
	{ "echo", RK_KIND_ECHO }, { "add_f32", RK_KIND_ADD_F32 }, { "counter", RK_KIND_COUNTER },
	{ "sink", RK_KIND_SINK }, { "forward", RK_KIND_FORWARD },
};

#define RK_MAX_USER_KERNELS 256

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static rk_kernel_def user[RK_MAX_USER_KERNELS];
static char user_names[RK_MAX_USER_KERNELS][64];
static unsigned nuser;

static int check_name(const char *name)
{
	size_t n = name ? strnlen(name, 64) : 0;
	if (n == 0 || n == 64)
		return rk_error(-EINVAL, "kernel name must be 1..63 characters");
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return rk_error(-EINVAL, "kernel name \"%s\": only [A-Za-z0-9_.-]", name);
	}
	return 0;
}

int rk_register_kernel(const rk_kernel_def *def)
{
	if (!def)
		return rk_error(-EINVAL, "rk_register_kernel: NULL definition");
	int ret = check_name(def->name);
	if (ret < 0)
		return ret;
	bool has_device = false;
	for (unsigned i = 0; i < 4; i++)
		if (def->device[i].backend && def->device[i].image)
			has_device = true;
	if (!def->cpu && !has_device)
		return rk_error(-EINVAL, "kernel \"%s\" has no implementation", def->name);
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(builtins[i].name, def->name))
			return rk_error(-EEXIST, "\"%s\" is a built-in kernel", def->name);
	pthread_mutex_lock(&reg_lock);
	for (unsigned i = 0; i < nuser; i++) {
		if (!strcmp(user_names[i], def->name)) {
			pthread_mutex_unlock(&reg_lock);
			return rk_error(-EEXIST, "kernel \"%s\" is already registered", def->name);
		}
	}
	if (nuser == RK_MAX_USER_KERNELS) {
		pthread_mutex_unlock(&reg_lock);
		return rk_error(-ENOSPC, "registry full (%d kernels)", RK_MAX_USER_KERNELS);
	}
	/* Keep a copy: the caller's definition may be on its stack. */
	user[nuser] = *def;
	strcpy(user_names[nuser], def->name);
	user[nuser].name = user_names[nuser];
	nuser++;
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

int rki_registry_lookup(const char *name, struct rki_kernel_impl *out)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (!strcmp(builtins[i].name, name)) {
			out->kind = builtins[i].kind;
			out->def = NULL;
			return 0;
		}
	}
	pthread_mutex_lock(&reg_lock);
	for (unsigned i = 0; i < nuser; i++) {
		if (!strcmp(user_names[i], name)) {
			out->kind = RK_KIND_USER;
			out->def = &user[i];
			pthread_mutex_unlock(&reg_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	return rk_error(-ENOENT,
			"no kernel named \"%s\" (built-ins: echo, add_f32, counter, sink, "
			"forward; others need rk_register_kernel)",
			name);
}
