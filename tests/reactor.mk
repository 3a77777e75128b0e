# Completion (io_uring / fallback) suites. rki_* symbols are hidden in the
# shared library, so the suite links the unit's sources directly.
if HAVE_CRITERION
check_PROGRAMS += tests/test_reactor
# Both io_uring wait forms: the EXT_ARG timeout (default) and the linked one.
TESTS += tests/test_reactor tests/reactor_linked.sh
endif
dist_check_SCRIPTS += tests/reactor_linked.sh
tests_test_reactor_SOURCES = tests/test_reactor.c tests/testutil.h \
	runtime/reactor.c runtime/reactor.h runtime/log.c runtime/log.h
tests_test_reactor_CFLAGS = $(TEST_CFLAGS) $(URING_CFLAGS)
tests_test_reactor_LDADD = shm/librkshm.la $(URING_LIBS) $(TEST_LIBS)
