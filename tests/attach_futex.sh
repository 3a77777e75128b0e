#!/bin/sh
# The attach suite with the plain futex reactor (no io_uring) as well.
RK_REACTOR=futex exec ./tests/test_attach
