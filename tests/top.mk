# rk-top against directories and kernel regions the test lays out itself,
# tampered ones included: the JSON is parsed and the values checked.
if HAVE_CRITERION
check_PROGRAMS += tests/rk_top_test
TESTS += tests/rk_top_test
endif
tests_rk_top_test_SOURCES = tests/rk_top_test.c tests/testutil.h
tests_rk_top_test_CFLAGS = $(TEST_CFLAGS)
tests_rk_top_test_LDADD = runtime/libringkernel.la $(TEST_LIBS)
