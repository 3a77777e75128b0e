# The receive lock (runtime/lock.c): rki_* symbols are hidden in the shared
# library, so the suite links the unit's source directly.
if HAVE_CRITERION
check_PROGRAMS += tests/test_lock
TESTS += tests/test_lock
endif
tests_test_lock_SOURCES = tests/test_lock.c tests/testutil.h runtime/lock.c runtime/lock.h
tests_test_lock_CFLAGS = $(TEST_CFLAGS)
tests_test_lock_LDADD = $(TEST_LIBS) -lpthread
