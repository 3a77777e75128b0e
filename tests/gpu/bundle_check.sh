#!/bin/sh
# make check: gpu-bundle/run.sh, the device check of tests/gpu/bundle.mk,
# run here on the CPU, OpenCL and fake-GPU backends with small counts, so
# the script, the bundle's self-containedness and every step are tested
# where there is no GPU. Fails when a step fails; a backend that is not
# usable here (OpenCL without PoCL) is a SKIP row.
if [ -n "${RK_TEST_SANITIZED:-}" ]; then
	echo "[SKIP] gpu-bundle: the bundle's steps are not run under sanitizers"
	exit 77
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/rk-bundle-check.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT
# The bundle must not need the build tree: no RK_PLUGIN_PATH, no libtool.
env -u RK_PLUGIN_PATH \
	gpu-bundle/run.sh --backend cpu,opencl,fakegpu --quick --budget 150 --out "$out"
rc=$?
cat "$out/summary.txt" >/dev/null
if [ $rc -ne 0 ]; then
	for f in "$out"/logs/*.log; do
		if grep -q 'FAIL' "$f"; then
			echo "---- $f"
			tail -n 30 "$f"
		fi
	done
	exit 1
fi
# The rows the steps must have produced on the CPU.
for s in cpu/echo cpu/concurrency cpu/shutdown-two cpu/user-module cpu/threads cpu/k2k \
	cpu/lifecycle cpu/messaging fakegpu/echo fakegpu/concurrency fakegpu/trap; do
	if ! grep -q "^PASS  $s " "$out/summary.txt"; then
		echo "FAIL: no PASS row for $s"
		exit 1
	fi
done
# The fake GPU has 8 queues (as CUDA has 8 connections): the ninth launch
# is refused at once.
grep -q '^PASS  fakegpu/concurrency .*8 kernels resident at once.*launch 9 refused' \
	"$out/summary.txt" || { echo "FAIL: fakegpu concurrency did not stop at its 8 queues"; exit 1; }
exit 0
