#!/bin/sh
# on_backend.sh BACKEND SUITE: run a runtime suite against another backend.
# The suites skip (each test reports [SKIP] with the reason) when that
# backend is unavailable here; features a backend lacks yet (-ENOTSUP) skip
# per test. Counts are divided by 20: a persistent OpenCL kernel on PoCL
# spins a worker thread with no back-off, and the machine has 2 cores.
backend=$1
suite=$2
if [ -n "$RK_TEST_SANITIZED" ]; then
	echo "[SKIP] $suite on $backend: the vendor runtime is not built with sanitizers"
	exit 77
fi
RK_TEST_BACKEND=$backend RK_TEST_SCALE=${RK_TEST_SCALE:-20} exec ./tests/$suite
