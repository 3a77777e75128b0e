# Logging (RK_LOG, RK_LOG_FILE, rk_set_log_handler) and the version macros,
# through the public library. The set-uid case runs a set-uid-root copy of
# tests/setuid_helper (tests/plugins.mk builds it).
if HAVE_CRITERION
check_PROGRAMS += tests/test_log
TESTS += tests/test_log
endif
tests_test_log_SOURCES = tests/test_log.c tests/testutil.h
tests_test_log_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRKT_PLUGINS_ALL='"$(abs_top_builddir)/plugins/.libs-all"' \
	-DRKT_SETUID_HELPER='"$(abs_top_builddir)/tests/setuid_helper"'
tests_test_log_CFLAGS = $(TEST_CFLAGS)
tests_test_log_LDADD = runtime/libringkernel.la $(TEST_LIBS)
EXTRA_tests_test_log_DEPENDENCIES = tests/setuid_helper
