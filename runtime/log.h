/* SPDX-License-Identifier: MIT */
/*
 * Internal logging: RK_LOG=error|warn|info|debug chooses the level,
 * RK_LOG_FILE the file (else stderr), rk_set_log_handler() a handler.
 *
 * rki_log_{error,warn,info,debug}(fmt, ...) name the subsystem after the
 * calling file ("runtime/reactor.c" logs as "reactor"); rki_log_sub() names
 * it explicitly. A disabled level costs one relaxed load and a branch: the
 * arguments are not evaluated.
 */
#ifndef RK_RUNTIME_LOG_H
#define RK_RUNTIME_LOG_H

#include <ringkernel/ringkernel.h>

/* The most verbose enabled level (an RK_LOG_* value). Written by
 * rki_log_init() and rk_set_log_level(), read relaxed by every call. */
extern int rki_log_threshold;

/* Re-read RK_LOG and RK_LOG_FILE (the builder and the discovery calls do).
 * An unknown RK_LOG warns once and keeps the default level; RK_LOG_FILE is
 * opened when it names another file than before. */
void rki_log_init(void);

static inline int rki_log_enabled(enum rk_log_level lvl)
{
	return (int)lvl <= __atomic_load_n(&rki_log_threshold, __ATOMIC_RELAXED);
}

/* Formats and emits one message; callers check rki_log_enabled() first.
 * `subsys` is a name or a source path (its base name without extension). */
void rki_log_emit(enum rk_log_level lvl, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The subsystem "core". */
void rki_log(enum rk_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rki_log_sub(lvl, subsys, ...)                           \
	do {                                                    \
		if (rki_log_enabled(lvl))                       \
			rki_log_emit(lvl, subsys, __VA_ARGS__); \
	} while (0)

#define rki_log_error(...) rki_log_sub(RK_LOG_ERROR, __FILE__, __VA_ARGS__)
#define rki_log_warn(...)  rki_log_sub(RK_LOG_WARN, __FILE__, __VA_ARGS__)
#define rki_log_info(...)  rki_log_sub(RK_LOG_INFO, __FILE__, __VA_ARGS__)
#define rki_log_debug(...) rki_log_sub(RK_LOG_DEBUG, __FILE__, __VA_ARGS__)

#endif
