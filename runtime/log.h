/* SPDX-License-Identifier: MIT */
/* Internal logging to stderr, filtered by RK_LOG=error|warn|info|debug. */
#ifndef RK_RUNTIME_LOG_H
#define RK_RUNTIME_LOG_H

enum rk_log_level { RK_LOG_ERROR = 0, RK_LOG_WARN = 1, RK_LOG_INFO = 2, RK_LOG_DEBUG = 3 };

/* Re-read RK_LOG (the builder calls this); an unknown value warns once
 * and keeps the default, "warn". */
void rki_log_init(void);
int rki_log_enabled(enum rk_log_level lvl);
void rki_log(enum rk_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rki_log_error(...) rki_log(RK_LOG_ERROR, __VA_ARGS__)
#define rki_log_warn(...)  rki_log(RK_LOG_WARN, __VA_ARGS__)
#define rki_log_info(...)  rki_log(RK_LOG_INFO, __VA_ARGS__)
#define rki_log_debug(...) rki_log(RK_LOG_DEBUG, __VA_ARGS__)

#endif
