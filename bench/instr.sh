#!/bin/sh
# instr.sh [N]: instructions and clock reads per echo round trip and per
# pipelined message, counted by callgrind over bench/rk-instr's loop (one
# thread runs send, the kernel's loop turn and receive; see rk_instr.c),
# next to the hand-written two-ring floor. Nearly deterministic: the counts
# move by under 1% from run to run (the HLC's wall-clock refresh falls on
# different turns), unlike times on a shared VM. Run from the build
# directory. Needs valgrind.
n=${1:-20000}
bin=${RK_INSTR:-./bench/rk-instr}
# An uninstalled libtool program is a wrapper script: valgrind must run
# what it wraps.
run=
[ -x ./libtool ] && run="./libtool --mode=execute"
command -v valgrind >/dev/null || { echo "instr.sh: valgrind is not installed" >&2; exit 77; }
printf '%-12s %10s %12s %14s\n' mode messages instr/msg clock-reads/msg
for mode in rt ideal-rt pipe pipe-zc ideal-pipe; do
	out=$(mktemp)
	reads=$("$bin" "$mode" "$n" | awk '{ print $NF }') || { rm -f "$out"; exit 1; }
	# Collect only inside the measured loop (its warm-up call is counted
	# too: one burst, subtracted below by running the loop twice).
	for m in "$n" $((2 * n)); do
		$run valgrind --tool=callgrind --callgrind-out-file="$out" \
			--toggle-collect='instr_loop_*' "$bin" "$mode" "$m" >/dev/null 2>&1 ||
			{ echo "instr.sh: callgrind failed on $mode" >&2; rm -f "$out"; exit 1; }
		ir=$(sed -n 's/^summary: *//p; s/^totals: *//p' "$out" | head -1 | awk '{ print $1 }')
		eval "ir_$m=\$ir"
	done
	eval "a=\$ir_$n; b=\$ir_$((2 * n))"
	per=$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
	printf '%-12s %10s %12s %14s\n' "$mode" "$n" "$per" "$reads"
	rm -f "$out"
done
