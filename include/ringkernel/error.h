/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/error.h - error reporting.
 *
 * Every fallible call returns 0 or a negative errno and never touches errno.
 * A failing call may leave detail in a thread-local string.
 */
#ifndef RINGKERNEL_ERROR_H
#define RINGKERNEL_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Name of a (negative or positive) errno value, "-ETIMEDOUT (timed out)".
 * Never "unknown": an errno the library does not return itself is named by
 * the C library, in a per-thread buffer valid until this thread's next call. */
const char *rk_strerror(int err);

/* Detail for the last failing call on this thread ("" when none), in a
 * per-thread buffer valid until this thread's next failing call. A call
 * that succeeds may leave an older detail in place: read it only after a
 * negative return. */
const char *rk_last_error(void);

#ifdef RK_INTERNAL_API
/* The setter (returns err), declared for the library's own sources; the
 * plugin SDK declares it in ringkernel/plugin.h. Not application API. */
int rk_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

/* Empty this thread's detail. */
void rk_clear_error(void);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_ERROR_H */
