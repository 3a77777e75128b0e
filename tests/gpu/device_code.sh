#!/bin/sh
# What the device loop compiles to, checked in the code the toolchains
# emit (no GPU needed): the CUDA plugin's loop (sm_90 PTX) polls with
# relaxed system-scope loads, pays its acquire as fence.acq_rel.sys, and
# copies payloads 16 bytes at a time; the HIP one (gfx90a) copies with
# dwordx4 loads. In both, the loop's own state (struct rk_dev_kernel) is
# in registers: the only local (private) memory is the route and client
# rings (struct rk_dev_links), indexed at run time. Skips a toolchain
# configure did not find.
srcdir=${srcdir:-.}
builddir=$(pwd)
mk=$builddir/Makefile
[ -f "$mk" ] || { echo "SKIP: not run from the build directory"; exit 77; }
nvcc=$(sed -n 's/^CUDACC = //p' "$mk")
hipcc=$(sed -n 's/^HIPCC = //p' "$mk")
[ -n "$nvcc$hipcc" ] || { echo "SKIP: configure found neither nvcc nor hipcc"; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
status=0
count() { grep -c -- "$1" "$2"; }
# The local memory a loop may have: struct rk_dev_links, and a few words.
cc=$(sed -n 's/^CC = //p' "$mk")
printf '#include <stdio.h>\n#include <ringkernel/device.h>\nint main(void) { printf("%%zu\\n", sizeof(struct rk_dev_links)); return 0; }\n' >"$tmp/links.c"
$cc -I"$builddir/include" -I"$srcdir/include" -o "$tmp/links" "$tmp/links.c" && links=$("$tmp/links") ||
	{ echo "FAIL: cannot compute sizeof(struct rk_dev_links)"; exit 1; }
local_max=$((links + 64))
local_ok() { # local_ok BYTES WHAT
	if [ -n "$1" ] && [ "$1" -le "$local_max" ]; then
		echo "ok: $2: $1 bytes of local memory (the links are $links)"
	else
		echo "FAIL: $2: '${1}' bytes of local memory, want <= $local_max: the kernel's own state left registers"
		status=1
	fi
}
need() { # need FILE PATTERN MIN WHAT
	n=$(count "$2" "$1")
	if [ "$n" -ge "$3" ]; then
		echo "ok: $4 ($n x '$2')"
	else
		echo "FAIL: $4: $n x '$2' in $1, want >= $3"
		status=1
	fi
}
if [ -n "$nvcc" ]; then
	if "$nvcc" -I"$srcdir/include" -O3 -std=c++17 -arch=compute_90 --ptx \
		-o "$tmp/k.ptx" "$srcdir/plugins/cuda/kernel.cu" 2>"$tmp/nvcc.err"; then
		need "$tmp/k.ptx" 'ld.relaxed.sys' 2 "CUDA: idle polls are relaxed"
		need "$tmp/k.ptx" 'fence.acq_rel.sys' 2 "CUDA: the acquire is one fence"
		need "$tmp/k.ptx" 'ld.v4.u32' 1 "CUDA: payloads load 16 bytes at a time"
		need "$tmp/k.ptx" 'st.v4.u32' 1 "CUDA: payloads store 16 bytes at a time"
		local_ok "$(sed -n 's/.*__local_depot0\[\([0-9]*\)\].*/\1/p' "$tmp/k.ptx" | head -1)" \
			"CUDA: the loop's state is in registers"
	else
		cat "$tmp/nvcc.err"
		echo "FAIL: nvcc could not build plugins/cuda/kernel.cu"
		status=1
	fi
fi
if [ -n "$hipcc" ]; then
	if "$hipcc" -I"$srcdir/include" -O3 -std=c++17 --offload-arch=gfx90a --cuda-device-only \
		-S -o "$tmp/k.s" "$srcdir/plugins/hip/kernel.hip" >"$tmp/hipcc.err" 2>&1; then
		need "$tmp/k.s" '_load_dwordx4' 1 "HIP: payloads load 16 bytes at a time"
		local_ok "$(sed -n 's/.*amdhsa_private_segment_fixed_size \([0-9]*\).*/\1/p' "$tmp/k.s" | head -1)" \
			"HIP: the loop's state is in registers"
	else
		cat "$tmp/hipcc.err"
		echo "FAIL: hipcc could not build plugins/hip/kernel.hip"
		status=1
	fi
fi
exit $status
