# Data-plane suites: rings, regions, message slots.
#   test_ring     one-thread ring behaviour (geometry, burst/bulk, wrap, zero copy)
#   test_ring_mt  threads: 10^7-message SPSC and MP stress, futex parking
#   test_msg      slot header packing and validation
#   test_region   regions: create/open by name, validation of bad contents, mlock
#   test_xproc    two processes exchanging messages through a named region
if HAVE_CRITERION
check_PROGRAMS += tests/test_ring tests/test_ring_mt tests/test_msg tests/test_region \
	tests/test_xproc
TESTS += tests/test_ring tests/test_ring_mt tests/test_msg tests/test_region tests/test_xproc
endif
tests_test_ring_SOURCES = tests/test_ring.c tests/testutil.h
tests_test_ring_CFLAGS = $(TEST_CFLAGS)
tests_test_ring_LDADD = shm/librkshm.la $(TEST_LIBS)
tests_test_ring_mt_SOURCES = tests/test_ring_mt.c tests/testutil.h
tests_test_ring_mt_CFLAGS = $(TEST_CFLAGS)
tests_test_ring_mt_LDADD = shm/librkshm.la $(TEST_LIBS)
tests_test_msg_SOURCES = tests/test_msg.c tests/testutil.h
tests_test_msg_CFLAGS = $(TEST_CFLAGS)
tests_test_msg_LDADD = shm/librkshm.la $(TEST_LIBS)
tests_test_region_SOURCES = tests/test_region.c tests/testutil.h
tests_test_region_CFLAGS = $(TEST_CFLAGS)
tests_test_region_LDADD = shm/librkshm.la $(TEST_LIBS)
tests_test_xproc_SOURCES = tests/test_xproc.c tests/testutil.h
tests_test_xproc_CFLAGS = $(TEST_CFLAGS)
tests_test_xproc_LDADD = shm/librkshm.la $(TEST_LIBS)
