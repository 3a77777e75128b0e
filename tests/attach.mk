# Named runtimes and rk_attach(): clients in other processes.
if HAVE_CRITERION
check_PROGRAMS += tests/test_attach
TESTS += tests/test_attach tests/opencl_attach.sh tests/attach_futex.sh
endif
dist_check_SCRIPTS += tests/opencl_attach.sh tests/attach_futex.sh
tests_test_attach_SOURCES = tests/test_attach.c tests/testutil.h
tests_test_attach_CFLAGS = $(TEST_CFLAGS)
tests_test_attach_LDADD = runtime/libringkernel.la $(TEST_LIBS) -lpthread

# The README's multi-process example.
check_PROGRAMS += tests/readme_attach
TESTS += tests/readme_attach
tests_readme_attach_SOURCES = tests/readme_attach.c
tests_readme_attach_LDADD = runtime/libringkernel.la
