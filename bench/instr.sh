#!/bin/sh
# instr.sh [N]: instructions and clock reads per echo round trip and per
# pipelined message, counted by callgrind over bench/rk-instr's loop (one
# thread runs send, the kernel's loop turn and receive; see rk_instr.c),
# next to the hand-written two-ring floor. Nearly deterministic: the counts
# move by under 1% from run to run (the HLC's wall-clock refresh falls on
# different turns), unlike times on a shared VM. Run from the build
# directory. Needs valgrind.
#
# instr.sh --parts [N]: the same, and under each row of ours the
# instructions per message of each function (its own, inlined code
# included, calls excluded) with its object: where the difference from
# the hand-written floor goes.
parts=
if [ "$1" = --parts ]; then
	parts=1
	shift
fi
n=${1:-20000}
bin=${RK_INSTR:-./bench/rk-instr}
# An uninstalled libtool program is a wrapper script: valgrind must run
# what it wraps.
run=
[ -x ./libtool ] && run="./libtool --mode=execute"
command -v valgrind >/dev/null || { echo "instr.sh: valgrind is not installed" >&2; exit 77; }
# selfcost FILE: "object function instructions" for every function of a
# callgrind profile, its own cost (a cost line right after calls= is the
# call's inclusive cost: not its own). Names are compressed: "(id) name"
# the first time, "(id)" after, shared by fn= and cfn= (ob= and cob=).
selfcost() {
	awk '
	function name(v, tab,   id) {
		if (v !~ /^\([0-9]+\)/)
			return v
		id = substr(v, 2, index(v, ")") - 2)
		v = substr(v, index(v, ")") + 1)
		sub(/^ /, "", v)
		if (v != "")
			tab[id] = v
		return tab[id]
	}
	/^ob=/ { ob = name(substr($0, 4), obs); next }
	/^cob=/ { name(substr($0, 5), obs); next }
	/^fn=/ { fn = name(substr($0, 4), fns); next }
	/^cfn=/ { name(substr($0, 5), fns); next }
	/^calls=/ { call = 1; next }
	/^[0-9+*-]/ {
		if (!call && NF >= 2) {
			o = ob
			sub(/.*\//, "", o)
			cost[o " " fn] += $2
		}
		call = 0
	}
	END { for (x in cost) print x, cost[x] }' "$1"
}

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
		[ -z "$parts" ] || selfcost "$out" >"$out.$m"
	done
	eval "a=\$ir_$n; b=\$ir_$((2 * n))"
	per=$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
	printf '%-12s %10s %12s %14s\n' "$mode" "$n" "$per" "$reads"
	# The floor is one inlined loop: nothing to break down.
	case $parts$mode in
	1ideal-*) ;;
	1*)
		awk -v n="$n" 'FNR == NR { a[$1 " " $2] = $3; next }
			{ d = ($3 - a[$1 " " $2]) / n; if (d >= 0.5 || d <= -0.5)
				printf "%14.1f  %s (%s)\n", d, $2, $1 }' \
			"$out.$n" "$out.$((2 * n))" | sort -rn
		;;
	esac
	rm -f "$out" "$out.$n" "$out.$((2 * n))"
done
