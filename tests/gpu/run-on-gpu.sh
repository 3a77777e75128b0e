#!/bin/sh
# On a machine with an NVIDIA (or AMD) GPU: build everything and run the
# GPU programs, the runtime suites and the one-source user kernel for
# real, printing their results. From the source tree:
#   tests/gpu/run-on-gpu.sh [cuda|hip] [messages]
# (`make check` runs gpu_echo and tests/gpu/{cuda,hip}_*.sh too; they skip
# without a device.)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${RK_GPU_BUILD:-$top/build-gpu-run}
set -e
cd "$top"
[ -x configure ] || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" -q --with-cuda=guess --with-hip=guess
make -j"$(nproc)"
make -j"$(nproc)" tests/gpu/gpu_echo tests/test_user_kernel tests/test_messaging \
	tests/test_lifecycle tests/test_k2k
export RK_PLUGIN_PATH="$build/plugins/.libs-all"
runtime/rk-info || true
status=0
for be in ${1:-cuda hip}; do
	echo "== $be"
	tests/gpu/gpu_echo "$be" "${2:-100000}" || { rc=$?; [ $rc = 77 ] || status=1; }
	# The runtime suites and the one-source user kernel on the device (each
	# test skips where the backend lacks a feature, with the reason).
	for t in test_lifecycle test_messaging test_k2k test_user_kernel; do
		RK_TEST_BACKEND=$be tests/$t --verbose=0 || status=1
	done
done
exit $status
