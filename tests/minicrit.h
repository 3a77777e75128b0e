/* SPDX-License-Identifier: MIT */
/*
 * minicrit.h - the subset of Criterion's API our suites use, for the TSan
 * build only: Criterion 2.4 aborts at start-up under ThreadSanitizer
 * ("Could not initialize inheritable arena", Criterion issue #274).
 *
 * Same shape as Criterion: every Test() runs in a forked child, results are
 * printed as [PASS]/[FAIL]/[SKIP] and one "[====] Synthesis:" line that
 * .ci/summary reads. Suites include "testutil.h", never this file directly.
 */
#ifndef RK_MINICRIT_H
#define RK_MINICRIT_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct mc_test {
	const char *suite, *name;
	void (*fn)(void);
	void (*init)(void);
	void (*fini)(void);
	double timeout;
	bool disabled;
	struct mc_test *next;
};

static struct mc_test *mc_head, **mc_tail = &mc_head;

static inline void mc_register(struct mc_test *t)
{
	*mc_tail = t;
	mc_tail = &t->next;
}

#define MC_EXIT_SKIP 77

#define Test(suite, name, ...)                                                              \
	static void suite##_##name##_fn(void);                                              \
	static struct mc_test suite##_##name##_desc = { #suite, #name, suite##_##name##_fn, \
							__VA_ARGS__ };                      \
	__attribute__((constructor)) static void suite##_##name##_reg(void)                 \
	{                                                                                   \
		mc_register(&suite##_##name##_desc);                                        \
	}                                                                                   \
	static void suite##_##name##_fn(void)

__attribute__((format(printf, 4, 5))) static inline void mc_fail(const char *expr, const char *file,
								 int line, const char *fmt, ...)
{
	fprintf(stderr, "[----] %s:%d: Assertion Failed\n[----]   %s\n", file, line, expr);
	if (fmt && *fmt) {
		va_list ap;
		va_start(ap, fmt);
		fprintf(stderr, "[----]   ");
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, "\n");
		va_end(ap);
	}
	_exit(1);
}

#define MC_CHECK(cond, expr, ...)                                          \
	do {                                                               \
		if (!(cond))                                               \
			mc_fail(expr, __FILE__, __LINE__, "" __VA_ARGS__); \
	} while (0)

#define cr_assert(c, ...)	     MC_CHECK((c), #c, __VA_ARGS__)
#define cr_assert_not(c, ...)	     MC_CHECK(!(c), "!(" #c ")", __VA_ARGS__)
#define cr_assert_eq(a, b, ...)	     MC_CHECK((a) == (b), #a " == " #b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...)     MC_CHECK((a) != (b), #a " != " #b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...)	     MC_CHECK((a) < (b), #a " < " #b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...)     MC_CHECK((a) <= (b), #a " <= " #b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...)	     MC_CHECK((a) > (b), #a " > " #b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...)     MC_CHECK((a) >= (b), #a " >= " #b, __VA_ARGS__)
#define cr_assert_null(p, ...)	     MC_CHECK((p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...)   MC_CHECK((p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...)  MC_CHECK(strcmp((a), (b)) == 0, #a " eq " #b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) MC_CHECK(strcmp((a), (b)) != 0, #a " neq " #b, __VA_ARGS__)
#define cr_assert_arr_eq(a, b, n, ...) \
	MC_CHECK(memcmp((a), (b), (n)) == 0, #a " == " #b " (bytes)", __VA_ARGS__)
#define cr_assert_float_eq(a, b, eps, ...) \
	MC_CHECK(((a) - (b)) <= (eps) && ((b) - (a)) <= (eps), #a " ~= " #b, __VA_ARGS__)
#define cr_assert_fail(...) mc_fail("fail", __FILE__, __LINE__, "" __VA_ARGS__)
#define cr_log_info(...)    (fprintf(stderr, "[----] " __VA_ARGS__), fputc('\n', stderr))
#define cr_log_warn	    cr_log_info
#define cr_skip_test(...)                               \
	do {                                            \
		fprintf(stderr, "[SKIP] " __VA_ARGS__); \
		fputc('\n', stderr);                    \
		_exit(MC_EXIT_SKIP);                    \
	} while (0)

__attribute__((weak)) int main(void)
{
	int tested = 0, passing = 0, failing = 0, crashing = 0;
	for (struct mc_test *t = mc_head; t; t = t->next) {
		if (t->disabled)
			continue;
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			if (t->timeout > 0)
				alarm((unsigned)t->timeout + 1);
			if (t->init)
				t->init();
			t->fn();
			if (t->fini)
				t->fini();
			fflush(NULL);
			_exit(0);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == MC_EXIT_SKIP)
			continue; /* [SKIP] printed by the child */
		tested++;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			passing++;
			fprintf(stderr, "[PASS] %s::%s\n", t->suite, t->name);
		} else if (WIFEXITED(st)) {
			failing++;
			fprintf(stderr, "[FAIL] %s::%s\n", t->suite, t->name);
		} else {
			crashing++;
			fprintf(stderr, "[FAIL] %s::%s: CRASH (signal %d)\n", t->suite, t->name,
				WTERMSIG(st));
		}
	}
	fprintf(stderr,
		"[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d \n",
		tested, passing, failing, crashing);
	return failing + crashing ? 1 : 0;
}

#endif
