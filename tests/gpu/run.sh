#!/bin/sh
# run.sh - the prepared device check: gpu-bundle/run.sh, built by
# `make gpu-bundle` (tests/gpu/bundle.mk). It builds nothing and needs
# nothing but a shell, coreutils and the bundle itself: programs, plugins
# and libraries come with it; the GPU driver is the machine's own.
#
#   run.sh [--backend LIST] [--quick] [--out DIR] [--budget S]
#
# --backend  comma-separated backends (default: each of cuda and hip that
#            rk-info says is usable here)
# --quick    small counts (make check runs the steps on cpu and opencl)
# --out      logs and summary (default $OUT, else ./out)
# --budget   seconds for the whole run (default 290); a step gets what is
#            left at most, and steps past the budget are skipped
#
# Every step runs under `timeout` (a hang is a result, not a lost lease),
# Criterion with one job. $OUT/summary.txt has one row per step: PASS,
# FAIL or SKIP, seconds, and the step's figures (its RESULT: lines);
# $OUT/logs/STEP.log has the step's output. Exit 0 when nothing failed,
# 1 when a step failed, 77 when no backend was usable.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-./out}
backends=
quick=0
budget=290
usage() { sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--backend) backends=$2; shift 2 ;;
	--backend=*) backends=${1#*=}; shift ;;
	--quick) quick=1; shift ;;
	--out) out=$2; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--budget) budget=$2; shift 2 ;;
	--budget=*) budget=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
done
mkdir -p "$out/logs" || exit 2
out=$(cd "$out" && pwd)
summary=$out/summary.txt
: >"$summary"
start=$(date +%s)

export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The plugin loader refuses a directory others may write to, and wherever
# the bundle was copied may be one: load from a private copy.
plugdir=$(mktemp -d "${TMPDIR:-/tmp}/rk-bundle.XXXXXX") || exit 2
trap 'rm -rf "$plugdir"' EXIT
cp "$here"/plugins/*.so "$plugdir/" && chmod 700 "$plugdir" && chmod 644 "$plugdir"/*.so
export RK_PLUGIN_PATH=$plugdir
export CRITERION_JOBS=1
unset RK_BACKEND
fails=0
passes=0

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# row STATUS NAME SECONDS TEXT
row() {
	printf '%-4s  %-22s %7s  %s\n' "$1" "$2" "$3" "$4" | tee -a "$summary"
}

# step NAME TIMEOUT CMD...: CMD under timeout, its output in logs/NAME.log.
step() {
	name=$1
	limit=$2
	shift 2
	log=$out/logs/$(echo "$name" | tr / _).log
	left=$((budget - ($(date +%s) - start)))
	if [ "$left" -le 5 ]; then
		row SKIP "$name" - "out of time: the run's budget of ${budget}s is spent"
		return
	fi
	[ "$limit" -gt "$left" ] && limit=$left
	t0=$(now_ms)
	timeout -k 5 "$limit" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(awk -v ms=$(($(now_ms) - t0)) 'BEGIN { printf "%.1fs", ms / 1000 }')
	figures=$(sed -n 's/^RESULT: //p' "$log" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')
	synth=$(sed -n 's/.*Synthesis: //p' "$log" | tail -n 1)
	[ -n "$synth" ] && figures="${figures:+$figures; }$synth"
	# A suite whose every test skipped (a feature the backend lacks) passes
	# in Criterion's eyes: here it is a SKIP.
	case $rc:$synth in
	0:Tested:\ 0\ *) rc=77 ;;
	esac
	case $rc in
	0)
		passes=$((passes + 1))
		row PASS "$name" "$secs" "$figures"
		;;
	77)
		why=$(grep -m 1 -E 'SKIP' "$log" | sed 's/^.*SKIP[]:]* *//')
		row SKIP "$name" "$secs" "${why:-${synth:-skipped}}"
		;;
	124 | 137)
		fails=$((fails + 1))
		row FAIL "$name" "$secs" "hung: killed after ${limit}s${figures:+; $figures}"
		;;
	*)
		fails=$((fails + 1))
		why=$(grep -m 2 -E 'FAIL|Assertion|error' "$log" | tr '\n' ' ' | cut -c 1-300)
		row FAIL "$name" "$secs" "exit $rc: ${why}${figures:+; $figures}"
		;;
	esac
}

# Counts: the device's, or a smoke run's.
if [ "$quick" = 1 ]; then
	echo_msgs=2000 echo_rt=500 threads_calls=100 conc_max=40
else
	echo_msgs=100000 echo_rt=20000 threads_calls=2000 conc_max=40
fi

echo "ringkernel-c device check: $(sed -n 2p "$here/MANIFEST" 2>/dev/null)" | tee -a "$summary"
step rk-info 20 "$here/bin/rk-info"
info=$(cat "$out/logs/rk-info.log")
usable() {
	printf '%s\n' "$info" | awk -v b="$1" '$1 == b && / usable / { ok = 1 } END { exit !ok }'
}
reason() {
	printf '%s\n' "$info" | awk -v b="$1" '$1 == b { p = 1; next } p && /reason:/ { sub(/^ *reason: */, ""); print; exit } { p = 0 }'
}
if [ -z "$backends" ]; then
	for be in cuda hip; do
		if usable "$be"; then
			backends="${backends:+$backends,}$be"
		else
			row SKIP "$be" - "not usable here: $(reason "$be")"
		fi
	done
fi

ran=0
for be in $(echo "$backends" | tr ',' ' '); do
	if ! usable "$be"; then
		r=$(reason "$be")
		row SKIP "$be" - "not usable here: ${r:-no such plugin}"
		continue
	fi
	ran=1
	case $be in
	cuda | hip) scale=${RK_TEST_SCALE:-10} ;;
	opencl) scale=${RK_TEST_SCALE:-$([ "$quick" = 1 ] && echo 200 || echo 20)} ;;
	*) scale=${RK_TEST_SCALE:-$([ "$quick" = 1 ] && echo 50 || echo 1)} ;;
	esac
	suite="env RK_TEST_BACKEND=$be RK_TEST_SCALE=$scale"
	step "$be/echo" 45 "$here/bin/gpu_echo" "$be" "$echo_msgs" "$echo_rt"
	step "$be/concurrency" 40 "$here/bin/gpu_checks" concurrency "$be" "$conc_max"
	step "$be/shutdown-two" 20 "$here/bin/gpu_checks" shutdown "$be"
	step "$be/user-module" 20 "$here/bin/gpu_checks" usermod "$be"
	step "$be/threads" 30 "$here/bin/gpu_checks" threads "$be" "$threads_calls"
	step "$be/trap" 20 "$here/bin/gpu_checks" trap "$be"
	step "$be/k2k" 30 $suite "$here/bin/test_k2k" --jobs 1
	step "$be/lifecycle" 20 $suite "$here/bin/test_lifecycle" --jobs 1
	step "$be/messaging" 30 $suite "$here/bin/test_messaging" --jobs 1
	step "$be/user-kernel" 15 $suite "$here/bin/test_user_kernel" --jobs 1
	if [ "$be" = cuda ]; then
		san=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -n 1)
		if [ -n "$san" ]; then
			step cuda/sanitizer 60 "$san" --tool memcheck --error-exitcode 99 \
				"$here/bin/gpu_echo" cuda 2000 200
		else
			row SKIP cuda/sanitizer - "compute-sanitizer not found"
		fi
		dump=$(command -v cuobjdump || ls /usr/local/cuda*/bin/cuobjdump 2>/dev/null | head -n 1)
		if [ -n "$dump" ] && [ -f "$here/kernels/cuda_kernel.fatbin" ]; then
			step cuda/sass 15 sh -c '"$1" -sass "$2" >"$3" && awk '\''
				/Function :/ { fn = $3 } /arch = / { arch = $3 }
				/^ +\/\*[0-9a-f]+\*\// { n[arch]++; if ($0 ~ /STL|LDL/) l[arch]++; if ($0 ~ /\.U8/) b[arch]++ }
				END { for (a in n) printf "RESULT: %s: %d instructions, %d local-memory (spill) accesses, %d byte loads/stores\n", a, n[a], l[a], b[a] }'\'' "$3"' \
				sh "$dump" "$here/kernels/cuda_kernel.fatbin" "$out/sass.txt"
		else
			row SKIP cuda/sass - "cuobjdump not found"
		fi
	fi
done

total=$(($(date +%s) - start))
echo "$passes passed, $fails failed in ${total}s (budget ${budget}s); logs in $out/logs" | tee -a "$summary"
[ "$fails" -gt 0 ] && exit 1
[ "$ran" = 0 ] && exit 77
exit 0
