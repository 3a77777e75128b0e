# tests/: Criterion suites. Each program is one automake test.
AM_TESTS_ENVIRONMENT = \
	RK_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs-all'; export RK_PLUGIN_PATH; \
	RK_PLUGIN_PATH_ONLY=1; export RK_PLUGIN_PATH_ONLY; \
	CRITERION_JOBS=1; export CRITERION_JOBS; \
	CRITERION_VERBOSITY_LEVEL=1; export CRITERION_VERBOSITY_LEVEL; \
	RK_TEST_SANITIZED='$(RK_SAN_CFLAGS)'; export RK_TEST_SANITIZED; \
	TSAN_OPTIONS='halt_on_error=1 second_deadlock_stack=1'; export TSAN_OPTIONS; \
	ASAN_OPTIONS='abort_on_error=1 detect_leaks=1'; export ASAN_OPTIONS; \
	$(RK_UCX_TEST_ENV)

if RK_TSAN
# UCX's memory hooks (ucm) and TSan's interceptors crash each other.
RK_UCX_TEST_ENV = UCX_MEM_EVENTS=no; export UCX_MEM_EVENTS; \
	UCX_MEM_MALLOC_HOOKS=no; export UCX_MEM_MALLOC_HOOKS;
TEST_CFLAGS = $(AM_CFLAGS) -DRK_TEST_MINICRIT -Wno-format-zero-length -Wno-missing-field-initializers
TEST_LIBS =
else
TEST_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
TEST_LIBS = $(CRITERION_LIBS)
endif
EXTRA_DIST += tests/minicrit.h

# One fragment per area, so each can grow on its own.
include tests/shm.mk
include tests/runtime.mk
include tests/plugins.mk
include tests/reactor.mk
include tests/lock.mk
include tests/bench.mk
include tests/gpu.mk
include tests/user.mk
include tests/top.mk
include tests/attach.mk
include tests/remote.mk
include tests/log.mk
include tests/sdk.mk
