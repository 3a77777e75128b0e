#!/bin/sh
# tests/fuzz/run.sh: build a libFuzzer target against the shm/ sources and
# run it. Run from the build directory (it needs config.h).
#
#   tests/fuzz/run.sh TARGET [libFuzzer options]   a long run, e.g.
#       ../tests/fuzz/run.sh ring -max_total_time=600
#     keeps what it finds in tests/fuzz/corpus-TARGET/ (seeded from the
#     committed corpus) and writes crashes as tests/fuzz/crash-TARGET-*;
#     reproduce one with: tests/fuzz/fuzz_TARGET tests/fuzz/crash-...
#   tests/fuzz/run.sh --check TARGET               what `make check` runs:
#     FUZZ_CHECK_RUNS (20000) inputs, -seed=1, nothing kept; exit 77
#     (skipped, with the reason) where clang cannot build libFuzzer targets
#   tests/fuzz/run.sh --corpus                     rewrite the seed corpus
#     in the source tree (tests/fuzz/corpus/) from tests/fuzz/make_corpus.c
#
# TARGET is region, ring or msg (tests/fuzz/fuzz_TARGET.c). FUZZ_CC picks
# the compiler (default clang-14, else clang); it needs -fsanitize=fuzzer
# (Debian: clang-14 libclang-rt-14-dev).
set -u
top=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
here=tests/fuzz
mode=run
case ${1:-} in
--check) mode=check; shift ;;
--corpus) mode=corpus; shift ;;
esac

skip() {
	echo "[SKIP] fuzz${target:+ $target}: $*"
	[ "$mode" = check ] && exit 77
	exit 1
}

if [ -n "${FUZZ_CC:-}" ]; then
	cc=$FUZZ_CC
elif command -v clang-14 >/dev/null 2>&1; then
	cc=clang-14
else
	cc=clang
fi
[ -f config.h ] || { echo "run.sh: run me from the build directory (no config.h here)" >&2; exit 2; }
mkdir -p "$here"

shm_src="$top/shm/*.c"
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -I$top/include -I. -Wall -Wextra -Wno-unused-parameter"
libs="-lrt -lpthread"

# Rebuild when the binary is missing or older than any source it is made of.
stale() {
	[ -x "$1" ] || return 0
	[ -n "$(find "$top/shm" "$top/include" "$top/tests/fuzz" config.h -newer "$1" \
		\( -name '*.c' -o -name '*.h' \) 2>/dev/null | head -1)" ]
}

if [ "$mode" = corpus ]; then
	target=
	command -v "$cc" >/dev/null 2>&1 || skip "no $cc here"
	# shellcheck disable=SC2086
	$cc $cflags -o "$here/make_corpus" "$top/tests/fuzz/make_corpus.c" $shm_src $libs || exit 1
	for t in region ring msg; do
		rm -rf "$top/tests/fuzz/corpus/$t"
		mkdir -p "$top/tests/fuzz/corpus/$t"
	done
	exec "$here/make_corpus" "$top/tests/fuzz/corpus"
fi

target=${1:-}
[ $# -gt 0 ] && shift
case $target in
region|ring|msg) ;;
*) echo "usage: $0 [--check] region|ring|msg [libFuzzer options] | --corpus" >&2; exit 2 ;;
esac
bin=$here/fuzz_$target
seeds=$top/tests/fuzz/corpus/$target

command -v "$cc" >/dev/null 2>&1 ||
	skip "no $cc here (apt-get install clang-14 libclang-rt-14-dev, or set FUZZ_CC)"
if stale "$bin"; then
	# Can this compiler link a libFuzzer target at all?
	probe=$here/probe-$target
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; return (int)n & 0; }' \
		>"$probe.c"
	if ! err=$($cc -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" 2>&1); then
		rm -f "$probe" "$probe.c"
		skip "$cc cannot link -fsanitize=fuzzer (libclang-rt-14-dev missing?): $(printf '%s\n' "$err" | grep -m1 -i error)"
	fi
	rm -f "$probe" "$probe.c"
	# shellcheck disable=SC2086
	$cc $cflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o "$bin" "$top/tests/fuzz/fuzz_$target.c" $shm_src $libs ||
		{ echo "fuzz $target: build failed" >&2; exit 1; }
fi

# The fuzzer's own sanitizer settings, not the test suite's.
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS

if [ "$mode" = check ]; then
	# New inputs go to a scratch directory; the committed seeds stay read-only.
	work=$here/check-$target
	rm -rf "$work"
	mkdir -p "$work"
	runs=${FUZZ_CHECK_RUNS:-20000}
	echo "fuzz $target: $runs inputs from $seeds, -seed=1"
	"$bin" -runs="$runs" -seed=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$here/crash-$target-" "$work" "$seeds"
	ret=$?
	rm -rf "$work"
	[ $ret = 0 ] && echo "fuzz $target: $runs inputs, every promise kept"
	exit $ret
fi

corpus=$here/corpus-$target
mkdir -p "$corpus"
echo "fuzz $target: corpus $corpus (seeds $seeds), options: $*"
exec "$bin" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$here/crash-$target-" "$@" "$corpus" "$seeds"
