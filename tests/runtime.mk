# Runtime core and CPU backend suites. They link the public library and
# find plugins through RK_PLUGIN_PATH (set in tests/local.mk).
RT_TESTS = tests/test_lifecycle tests/test_messaging tests/test_errors tests/test_hardening

if HAVE_CRITERION
check_PROGRAMS += $(RT_TESTS)
TESTS += $(RT_TESTS)
endif
EXTRA_DIST += tests/rt_common.h

tests_test_lifecycle_SOURCES = tests/test_lifecycle.c tests/rt_common.h
tests_test_lifecycle_CFLAGS = $(TEST_CFLAGS)
tests_test_lifecycle_LDADD = runtime/libringkernel.la $(TEST_LIBS)

tests_test_messaging_SOURCES = tests/test_messaging.c tests/rt_common.h
tests_test_messaging_CFLAGS = $(TEST_CFLAGS)
tests_test_messaging_LDADD = runtime/libringkernel.la $(TEST_LIBS)

# Hardening tamper with a live kernel's region through the runtime's own
# view of it, so it sees the unit's internal header.
tests_test_hardening_SOURCES = tests/test_hardening.c tests/rt_common.h
tests_test_hardening_CFLAGS = $(TEST_CFLAGS)
tests_test_hardening_LDADD = runtime/libringkernel.la $(TEST_LIBS)

tests_test_errors_SOURCES = tests/test_errors.c tests/rt_common.h
tests_test_errors_CFLAGS = $(TEST_CFLAGS)
tests_test_errors_LDADD = runtime/libringkernel.la $(TEST_LIBS)

# rk-info's machine-readable faces.
TESTS += tests/rk_info_json.sh
dist_check_SCRIPTS += tests/rk_info_json.sh

# The README's example: compiled from the same file the README shows.
check_PROGRAMS += tests/readme_example tests/readme_dataplane
TESTS += tests/readme_example tests/readme_dataplane tests/readme_sync.sh
dist_check_SCRIPTS += tests/readme_sync.sh
tests_readme_example_SOURCES = tests/readme_example.c
tests_readme_example_LDADD = runtime/libringkernel.la
tests_readme_dataplane_SOURCES = tests/readme_dataplane.c
tests_readme_dataplane_LDADD = runtime/libringkernel.la

TESTS += tests/test_k2k
if HAVE_CRITERION
check_PROGRAMS += tests/test_k2k
endif
tests_test_k2k_SOURCES = tests/test_k2k.c tests/rt_common.h
tests_test_k2k_CFLAGS = $(TEST_CFLAGS)
tests_test_k2k_LDADD = runtime/libringkernel.la $(TEST_LIBS)

# The same suites against the OpenCL backend (PoCL in CI).
RT_OPENCL = tests/opencl_lifecycle.sh tests/opencl_messaging.sh tests/opencl_errors.sh tests/opencl_hardening.sh \
	tests/opencl_k2k.sh
TESTS += $(RT_OPENCL)
dist_check_SCRIPTS += $(RT_OPENCL) tests/on_backend.sh

TESTS += tests/test_opencl
if HAVE_CRITERION
check_PROGRAMS += tests/test_opencl
endif
tests_test_opencl_SOURCES = tests/test_opencl.c
tests_test_opencl_CFLAGS = $(TEST_CFLAGS)
tests_test_opencl_LDADD = runtime/libringkernel.la $(TEST_LIBS)

# Profiling (rk_kernel_profile_get), on the CPU and, for its refusal, OpenCL.
if HAVE_CRITERION
check_PROGRAMS += tests/test_profile
TESTS += tests/test_profile tests/opencl_profile.sh
endif
dist_check_SCRIPTS += tests/opencl_profile.sh
tests_test_profile_SOURCES = tests/test_profile.c tests/rt_common.h
tests_test_profile_CFLAGS = $(TEST_CFLAGS)
tests_test_profile_LDADD = runtime/libringkernel.la $(TEST_LIBS)
