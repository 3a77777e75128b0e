#!/bin/sh
# make-bundle.sh DEST SRCDIR PROGRAM...: build, from a build tree, the
# self-contained device check DEST (make gpu-bundle; tests/gpu/bundle.mk).
#
#   DEST/run.sh     tests/gpu/run.sh: runs the steps, builds nothing
#   DEST/bin/       the programs (libtool's real binaries, not its wrappers)
#   DEST/plugins/   every built plugin, and the fake GPU of the tests
#   DEST/lib/       libringkernel and each library ldd finds that is not
#                   the C library itself (liburing, libcriterion and its
#                   dependencies...): a bare GPU machine may have none
#   DEST/kernels/   the CUDA fatbin, for cuobjdump -sass
#   DEST/MANIFEST   what was built, from which commit, by which toolkits
#
# Vendor drivers (libcuda, libamdhip64, libOpenCL) are never copied: the
# plugins dlopen the device machine's own.
set -eu
dest=$1
srcdir=$2
shift 2
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp/bin" "$dest.tmp/plugins" "$dest.tmp/lib" "$dest.tmp/kernels"

# A libtool program's real binary lives in .libs/ next to its wrapper.
real() {
	d=$(dirname "$1")
	b=$(basename "$1")
	if [ -f "$d/.libs/$b" ]; then
		echo "$d/.libs/$b"
	elif [ -f "$d/.libs/lt-$b" ]; then
		echo "$d/.libs/lt-$b"
	else
		echo "$1"
	fi
}

for p in "$@"; do
	cp -L "$(real "$p")" "$dest.tmp/bin/$(basename "$p")"
done
for so in plugins/.libs-all/rk-plugin-*.so tests/gpu/.libs/rk-plugin-fakegpu.so; do
	[ -f "$so" ] && cp -L "$so" "$dest.tmp/plugins/"
done
for so in runtime/.libs/libringkernel.so.*; do
	[ -f "$so" ] && cp -P "$so" "$dest.tmp/lib/"
done
[ -f plugins/cuda/kernel.fatbin ] && cp plugins/cuda/kernel.fatbin "$dest.tmp/kernels/cuda_kernel.fatbin"

# Libraries: what ldd resolves for every binary and plugin, but the C
# library's own (those must match the device machine's ld.so), the
# vendor drivers and the vDSO.
LD_LIBRARY_PATH="$PWD/runtime/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
for f in "$dest.tmp"/bin/* "$dest.tmp"/plugins/*.so; do
	ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
done | sort -u | while read -r lib; do
	case $(basename "$lib") in
	libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | libresolv.so* | \
		libutil.so* | libanl.so* | ld-linux*.so* | libringkernel.so*) ;;
	libcuda.so* | libamdhip64.so* | libOpenCL.so* | libhsa-runtime64.so*) ;;
	*) cp -L "$lib" "$dest.tmp/lib/" ;;
	esac
done

cp "$srcdir/tests/gpu/run.sh" "$dest.tmp/run.sh"
chmod 755 "$dest.tmp/run.sh" "$dest.tmp"/bin/*
{
	echo "ringkernel-c device check, built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
	echo "commit: $(git -C "$srcdir" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "nvcc: ${RK_BUNDLE_NVCC:-none}"
	echo "hipcc: ${RK_BUNDLE_HIPCC:-none}"
	echo "programs: $(ls "$dest.tmp/bin" | tr '\n' ' ')"
	echo "plugins: $(ls "$dest.tmp/plugins" | tr '\n' ' ')"
	echo "libraries: $(ls "$dest.tmp/lib" | tr '\n' ' ')"
} >"$dest.tmp/MANIFEST"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "gpu-bundle: $(du -sh "$dest" | cut -f1) in $dest"
