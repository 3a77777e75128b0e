#!/bin/sh
# The reactor suite with io_uring waits timed by a linked timeout request
# (kernels without IORING_FEAT_EXT_ARG), not the wait's own timeout.
RK_REACTOR_LINKED_TIMEOUT=1 exec ./tests/test_reactor
