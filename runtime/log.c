/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int level = RK_LOG_WARN;

void rki_log_init(void)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	const char *v = getenv("RK_LOG");
	int lvl = RK_LOG_WARN;
	if (v && *v) {
		lvl = -1;
		for (int i = 0; i < 4; i++)
			if (!strcmp(v, names[i]))
				lvl = i;
		if (lvl < 0) {
			fprintf(stderr,
				"ringkernel: warn: RK_LOG=%s is not error|warn|info|debug; "
				"using warn\n",
				v);
			lvl = RK_LOG_WARN;
		}
	}
	__atomic_store_n(&level, lvl, __ATOMIC_RELAXED);
}

int rki_log_enabled(enum rk_log_level lvl)
{
	return (int)lvl <= __atomic_load_n(&level, __ATOMIC_RELAXED);
}

void rki_log(enum rk_log_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = { "error", "warn", "info", "debug" };
	if (!rki_log_enabled(lvl))
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ringkernel: %s: %s\n", tag[lvl], buf);
}
