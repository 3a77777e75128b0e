#!/bin/sh
# on_backend.sh BACKEND SUITE: run a runtime suite against another backend.
# Exits 77 (skipped, with the probe's reason) when that backend is not
# usable here; features a backend lacks (-ENOTSUP, a CPU-only test kernel)
# skip per test. Counts are divided by 20 on OpenCL: a persistent kernel
# on PoCL spins a worker thread with no back-off, and CI has 2 cores.
backend=$1
suite=$2
if [ -n "$RK_TEST_SANITIZED" ]; then
	echo "[SKIP] $suite on $backend: the vendor runtime is not built with sanitizers"
	exit 77
fi
info=$(./runtime/rk-info 2>&1)
if ! printf '%s\n' "$info" | awk -v b="$backend" '$1 == b && / usable / { ok = 1 } END { exit !ok }'; then
	echo "[SKIP] $suite on $backend: backend not usable here"
	printf '%s\n' "$info" | awk -v b="$backend" '$1 == b { p = 1; print; next } p && /reason:/ { print; exit } { p = 0 }'
	exit 77
fi
case $backend in
opencl) scale=20 ;;
*) scale=1 ;;
esac
RK_TEST_BACKEND=$backend RK_TEST_SCALE=${RK_TEST_SCALE:-$scale} exec ./tests/$suite
