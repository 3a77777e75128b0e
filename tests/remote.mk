# Kernels of other hosts over the UCX transport: two processes on loopback
# (test_remote) and two network namespaces joined by a veth pair
# (remote_netns.sh, as root). Both skip with the reason where UCX was not
# built.
check_PROGRAMS += tests/remote_peer
tests_remote_peer_SOURCES = tests/remote_peer.c
tests_remote_peer_LDADD = runtime/libringkernel.la -lpthread
if HAVE_CRITERION
check_PROGRAMS += tests/test_remote
TESTS += tests/test_remote tests/remote_netns.sh
endif
dist_check_SCRIPTS += tests/remote_netns.sh
tests_test_remote_SOURCES = tests/test_remote.c tests/testutil.h
tests_test_remote_CFLAGS = $(TEST_CFLAGS)
tests_test_remote_LDADD = runtime/libringkernel.la $(TEST_LIBS) -lpthread
if HAVE_UCX
# The malformed-frame test speaks UCP itself.
tests_test_remote_CFLAGS += $(UCX_CFLAGS) -DRK_TEST_HAVE_UCX=1
tests_test_remote_LDADD += $(UCX_LIBS)
endif

# The README's example of a remote attach.
check_PROGRAMS += tests/readme_remote
TESTS += tests/readme_remote
tests_readme_remote_SOURCES = tests/readme_remote.c
tests_readme_remote_LDADD = runtime/libringkernel.la
