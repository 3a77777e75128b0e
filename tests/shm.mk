# Data-plane suites: rings, regions, message slots.
if HAVE_CRITERION
check_PROGRAMS += tests/test_ring
TESTS += tests/test_ring
endif
tests_test_ring_SOURCES = tests/test_ring.c tests/testutil.h
tests_test_ring_CFLAGS = $(TEST_CFLAGS)
tests_test_ring_LDADD = shm/librkshm.la $(TEST_LIBS)
