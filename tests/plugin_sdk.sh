#!/bin/sh
# The plugin SDK as a third party uses it: install this build into a
# staging directory, build examples/plugin-skeleton out of tree against
# that installed copy only (pkg-config, no -I into the source tree),
# install the plugin into the plugin directory the .pc file names, and
# check that the installed rk-info sees it usable, that kernels run on it
# with replies byte for byte, and that the lifecycle and messaging suites
# pass on it. Then the examples, built the same way: examples/apps, and
# examples/kernel (a user kernel for every backend) run on the CPU and
# OpenCL. Writes only under a temporary directory (make distcheck runs
# this from a read-only source tree).
srcdir=${srcdir:-.}
abs_srcdir=$(cd "$srcdir" && pwd) || exit 99
builddir=$(pwd) # automake runs tests in the top build directory

skip() {
	echo "[SKIP] plugin SDK: $*"
	exit 77
}
fail() {
	echo "FAIL: $*"
	status=1
}

PKG_CONFIG=${PKG_CONFIG:-pkg-config}
command -v "$PKG_CONFIG" >/dev/null 2>&1 || skip "no $PKG_CONFIG"
command -v make >/dev/null 2>&1 || skip "no make"
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || CC=gcc
command -v "$CC" >/dev/null 2>&1 || skip "no C compiler (cc, gcc)"
# A sanitized library needs its runtime linked first into every program
# and plugin built against it: the example's plain build would not load.
[ -z "$RK_TEST_SANITIZED" ] || skip "the library is built with sanitizers ($RK_TEST_SANITIZED)"
[ -f "$builddir/Makefile" ] || skip "not run from the build directory"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-plugin-sdk.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
stage=$tmp/stage
status=0

# A make of our own, not a part of the `make check` that runs us.
unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS

# 1. Install this build (DESTDIR: the configured prefix, under $stage).
# make check staged it before the tests began (tests/sdk.mk): an install
# relinks the build tree's plugins in place, under the suites running
# beside us. Run by hand, without that stage, it installs itself.
if [ -d "$builddir/tests/sdk-stage" ] && [ -f "$builddir/tests/sdk-stage.stamp" ]; then
	cp -a "$builddir/tests/sdk-stage" "$stage" || exit 99
elif ! make -C "$builddir" install-exec install-data DESTDIR="$stage" >"$tmp/install.log" 2>&1; then
	tail -n 30 "$tmp/install.log"
	echo "FAIL: make install-exec install-data DESTDIR=$stage"
	exit 1
fi
pc=$(find "$stage" -name ringkernel.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || { echo "FAIL: make install put no ringkernel.pc under $stage"; exit 1; }
# Relocate the staged .pc: each variable under the configured prefix moves
# under $stage, as if ringkernel-c had been installed at $stage$prefix.
prefix=$(sed -n 's/^prefix=//p' "$pc")
case $prefix in
/*) ;;
*) echo "FAIL: $pc: prefix '$prefix' is not absolute"; exit 1 ;;
esac
sed "s|^\([A-Za-z_]*\)=$prefix|\1=$stage$prefix|" "$pc" >"$tmp/ringkernel.pc" &&
	mkdir "$tmp/pkgconfig" && mv "$tmp/ringkernel.pc" "$tmp/pkgconfig/" || exit 99
PKG_CONFIG_PATH=$tmp/pkgconfig
PKG_CONFIG_LIBDIR=$tmp/pkgconfig # no other ringkernel.pc can answer
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR
unset PKG_CONFIG_SYSROOT_DIR

libdir=$("$PKG_CONFIG" --variable=libdir ringkernel)
plugindir=$("$PKG_CONFIG" --variable=plugindir ringkernel)
cflags=$("$PKG_CONFIG" --cflags ringkernel)
echo "staged: prefix $stage$prefix, plugindir $plugindir"
case $plugindir in
"$stage"/*) ;;
*) echo "FAIL: ringkernel.pc has no plugindir under the install ($plugindir)"; exit 1 ;;
esac
[ -f "$libdir/libringkernel.so" ] || { echo "FAIL: no $libdir/libringkernel.so"; exit 1; }
# A static link needs what libringkernel links: liburing, librt, threads.
static=$("$PKG_CONFIG" --static --libs ringkernel)
for f in -lringkernel -luring -lrt -pthread; do
	case " $static " in
	*" $f "*) ;;
	*) echo "FAIL: pkg-config --static --libs has no $f: '$static'"; exit 1 ;;
	esac
done
# Every -I is the staged install's (the prefix itself may lie inside the
# source tree, as make distcheck's does: compare with $stage, not the tree).
for f in $cflags; do
	case $f in
	-I"$stage"/*) ;;
	-I*) echo "FAIL: pkg-config --cflags has $f, outside the install"; exit 1 ;;
	esac
done
bindir=$stage$prefix/bin
[ -x "$bindir/rk-info" ] || bindir=$(dirname "$(find "$stage" -name rk-info -type f | head -n 1)")
[ -x "$bindir/rk-info" ] || { echo "FAIL: make install put no rk-info under $stage"; exit 1; }

# 2. Build the skeleton where a third party would have it: a copy, away
# from the source tree, against the installed headers and library only.
cp -R "$abs_srcdir/examples/plugin-skeleton" "$tmp/skeleton" && chmod -R u+w "$tmp/skeleton" ||
	exit 99
rm -f "$tmp/skeleton/rk-plugin-skeleton.so" "$tmp/skeleton/skeleton-check"
if ! make -C "$tmp/skeleton" CC="$CC" >"$tmp/skeleton.log" 2>&1; then
	cat "$tmp/skeleton.log"
	echo "FAIL: the skeleton did not build against the installed SDK"
	exit 1
fi
if grep -q 'warning:' "$tmp/skeleton.log"; then
	cat "$tmp/skeleton.log"
	fail "the installed SDK headers warn in a third-party build (-Wall -Wextra)"
fi
if command -v nm >/dev/null 2>&1; then
	exports=$(nm -D --defined-only "$tmp/skeleton/rk-plugin-skeleton.so" |
		awk '$2 == "T" { print $3 }')
	[ "$exports" = rk_plugin_entry ] ||
		fail "the plugin exports '$exports', not rk_plugin_entry alone"
fi

# 3. make install of the plugin puts it in the .pc file's plugindir.
if ! make -C "$tmp/skeleton" install >"$tmp/skinstall.log" 2>&1; then
	cat "$tmp/skinstall.log"
	echo "FAIL: make install of the skeleton"
	exit 1
fi
[ -f "$plugindir/rk-plugin-skeleton.so" ] || {
	echo "FAIL: no $plugindir/rk-plugin-skeleton.so after make install"
	exit 1
}

# From here on: the installed programs and library, and only the staged
# plugin directory (the built-in one of the library is the configured,
# unstaged prefix: RK_PLUGIN_PATH_ONLY leaves it out).
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
RK_PLUGIN_PATH=$plugindir
RK_PLUGIN_PATH_ONLY=1
export LD_LIBRARY_PATH RK_PLUGIN_PATH RK_PLUGIN_PATH_ONLY
unset RK_BACKEND

# 4. The installed rk-info: the skeleton's row says usable, priority 10,
# from the installed file.
info=$("$bindir/rk-info" 2>&1)
printf '%s\n' "$info"
row=$(printf '%s\n' "$info" | awk '$1 == "skeleton"')
printf '%s\n' "$row" | grep -Eq '^skeleton +0\.1\.0 +1\.[0-9]+ +10 +usable ' ||
	fail "rk-info has no usable skeleton row at priority 10: '$row'"
case $row in
*"$plugindir/rk-plugin-skeleton.so"*) ;;
*) fail "rk-info's skeleton row is not the installed file: '$row'" ;;
esac
# The cpu plugin was installed too, and outranks the skeleton for Auto.
printf '%s\n' "$info" | grep -q '^auto would pick: skeleton' &&
	fail "Auto picks the skeleton over the installed cpu plugin"

# 5. Kernels on it: skeleton-check, built against the installed tree,
# launches echo and counter on backend "skeleton" and checks every reply.
if "$tmp/skeleton/skeleton-check" skeleton >"$tmp/check.log" 2>&1; then
	cat "$tmp/check.log"
	grep -q '^ok: echo: 200 replies, bytes as sent$' "$tmp/check.log" ||
		fail "skeleton-check did not check the echo replies"
	grep -q '^ok: runtime on skeleton$' "$tmp/check.log" ||
		fail "skeleton-check did not run on the skeleton"
else
	cat "$tmp/check.log"
	fail "skeleton-check on the installed skeleton plugin"
fi

# 6. The installed rk-bench on it, briefly: echo round trips.
if [ -x "$bindir/rk-bench" ]; then
	if RK_BACKEND=skeleton "$bindir/rk-bench" --quick --quiet --scenario roundtrip \
		>"$tmp/bench.log" 2>&1; then
		grep -Eq '^rk echo +spin +64 +[0-9]+' "$tmp/bench.log" ||
			fail "rk-bench on the skeleton printed no echo row: $(cat "$tmp/bench.log")"
		grep -Eq 'backend[=: ]+skeleton' "$tmp/bench.log" ||
			fail "rk-bench did not run on the skeleton: $(head -n 5 "$tmp/bench.log")"
		echo "ok: rk-bench --scenario roundtrip on the skeleton"
	else
		cat "$tmp/bench.log"
		fail "rk-bench on the skeleton"
	fi
fi

# 7. The runtime suites on it (the build tree's, with RK_TEST_BACKEND):
# whatever the skeleton lacks (user kernels) skips per test.
for suite in test_lifecycle test_messaging; do
	[ -x "$builddir/tests/$suite" ] || {
		echo "($suite not built: no Criterion)"
		continue
	}
	if RK_TEST_BACKEND=skeleton "$builddir/tests/$suite" >"$tmp/$suite.log" 2>&1; then
		tail -n 1 "$tmp/$suite.log"
		echo "ok: $suite on the skeleton"
	else
		cat "$tmp/$suite.log"
		fail "$suite on the skeleton"
	fi
done

# 8. The example applications (examples/apps), built the same way against
# the installed tree only, and run on the installed library and plugins.
cp -R "$abs_srcdir/examples/apps" "$tmp/apps" && chmod -R u+w "$tmp/apps" || exit 99
rm -f "$tmp/apps/hello" "$tmp/apps/epoll"
if ! make -C "$tmp/apps" CC="$CC" >"$tmp/apps.log" 2>&1; then
	cat "$tmp/apps.log"
	fail "the example applications did not build against the installed tree"
elif grep -q 'warning:' "$tmp/apps.log"; then
	cat "$tmp/apps.log"
	fail "the example applications warn against the installed headers (-Wall -Wextra)"
elif make -C "$tmp/apps" check >"$tmp/apps-run.log" 2>&1; then
	cat "$tmp/apps-run.log"
	grep -Eq 'kernel [0-9]+ answered "hello"' "$tmp/apps-run.log" ||
		fail "examples/apps/hello printed no answer"
	grep -q '^epoll: 1000 replies, in order' "$tmp/apps-run.log" ||
		fail "examples/apps/epoll did not check its replies"
	echo "ok: the example applications run on the installed tree"
else
	cat "$tmp/apps-run.log"
	fail "the example applications on the installed tree"
fi

# 9. The user kernel for every backend (examples/kernel), built the same
# way: the CPU handler and the OpenCL image always, the CUDA fatbin and the
# HIP code object with the nvcc / hipcc configure found (compiled only:
# running them needs the GPU). Run on the CPU and, where the staged opencl
# plugin is usable, on OpenCL; a copy whose handler answers wrong must fail.
nvcc=$(sed -n 's/^CUDACC = //p' "$builddir/Makefile" | head -n 1)
hipcc=$(sed -n 's/^HIPCC = //p' "$builddir/Makefile" | head -n 1)
builds="cpu opencl${nvcc:+ cuda}${hipcc:+ hip}"
cp -R "$abs_srcdir/examples/kernel" "$tmp/kernel" && chmod -R u+w "$tmp/kernel" || exit 99
make -C "$tmp/kernel" clean >/dev/null 2>&1
# One gfx target: the build is what is checked here, not the list.
if ! make -C "$tmp/kernel" CC="$CC" NVCC="$nvcc" HIPCC="$hipcc" \
	HIP_ARCHS=--offload-arch=gfx90a >"$tmp/kernel.log" 2>&1; then
	cat "$tmp/kernel.log"
	fail "examples/kernel did not build against the installed tree"
elif grep -q 'warning:' "$tmp/kernel.log"; then
	cat "$tmp/kernel.log"
	fail "examples/kernel warns against the installed headers (-Wall -Wextra)"
else
	[ -z "$nvcc" ] || [ -s "$tmp/kernel/scale.fatbin" ] ||
		fail "examples/kernel: $nvcc built no scale.fatbin"
	[ -z "$hipcc" ] || [ -s "$tmp/kernel/scale.co" ] ||
		fail "examples/kernel: $hipcc built no scale.co"
	echo "ok: examples/kernel built against the installed tree: $builds"
	[ -n "$nvcc" ] || echo "[SKIP] examples/kernel: no nvcc, no CUDA image built"
	[ -n "$hipcc" ] || echo "[SKIP] examples/kernel: no hipcc, no HIP image built"
	backends=cpu
	if printf '%s\n' "$info" | grep -Eq '^opencl +[^ ]+ +[^ ]+ +[0-9]+ +usable '; then
		backends="cpu opencl"
	else
		echo "[SKIP] examples/kernel on OpenCL: the staged opencl plugin is not usable:" \
			"$(printf '%s\n' "$info" | grep -A1 '^opencl ' | tr -s ' \n' ' ')"
	fi
	for b in $backends; do
		if (cd "$tmp/kernel" && RK_BACKEND=$b ./scale) >"$tmp/kernel-$b.log" 2>&1; then
			cat "$tmp/kernel-$b.log"
			grep -qx "scale: builds $builds" "$tmp/kernel-$b.log" ||
				fail "examples/kernel/scale did not register the builds $builds"
			grep -qx "scale: $b: 103 replies, every product bit for bit" \
				"$tmp/kernel-$b.log" || fail "examples/kernel/scale did not check on $b"
			echo "ok: examples/kernel on $b"
		else
			cat "$tmp/kernel-$b.log"
			fail "examples/kernel/scale on $b"
		fi
	done
	# The check is a check: a handler that is off by one must fail it.
	mkdir "$tmp/kernel-bad" &&
		(cd "$abs_srcdir/examples/kernel" &&
			cp Makefile scale.c scale_register.c scale.cu scale.hip "$tmp/kernel-bad/") ||
		exit 99
	sed 's/o\[i\] = st->factor \* v\[i\];/o[i] = st->factor * v[i] + 1.0f;/' \
		"$tmp/kernel/scale_kernel.h" >"$tmp/kernel-bad/scale_kernel.h" || exit 99
	if cmp -s "$tmp/kernel/scale_kernel.h" "$tmp/kernel-bad/scale_kernel.h"; then
		fail "could not alter examples/kernel/scale_kernel.h's product"
	elif ! make -C "$tmp/kernel-bad" CC="$CC" NVCC= HIPCC= >"$tmp/kernel-bad.log" 2>&1; then
		cat "$tmp/kernel-bad.log"
		fail "the altered examples/kernel did not build"
	elif (cd "$tmp/kernel-bad" && RK_BACKEND=cpu ./scale) >"$tmp/kernel-bad-run.log" 2>&1; then
		cat "$tmp/kernel-bad-run.log"
		fail "examples/kernel/scale passed with a handler that answers wrong"
	elif ! grep -q '^scale: element 0 of ' "$tmp/kernel-bad-run.log"; then
		cat "$tmp/kernel-bad-run.log"
		fail "examples/kernel/scale failed, but not on the wrong product"
	else
		echo "ok: examples/kernel/scale fails on a wrong product:" \
			"$(grep '^scale: element' "$tmp/kernel-bad-run.log")"
	fi
fi

[ $status -eq 0 ] && echo "ok: the plugin SDK builds, installs and runs a third-party backend"
exit $status
