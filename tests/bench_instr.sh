#!/bin/sh
# bench/instr.sh --parts as make instr runs it: every row is counted (our
# rows above the hand-written floor's), the parts under each of our rows
# add up to its total and include both sides of the echo (the runtime's
# send and receive, the kernel's loop), and a message costs at most one
# clock read (the fast path's goal: a count, not a time).
srcdir=${srcdir:-.}
command -v valgrind >/dev/null 2>&1 || { echo "[SKIP] instr.sh: no valgrind"; exit 77; }
if [ -n "$RK_TEST_SANITIZED" ]; then
	echo "[SKIP] instr.sh: a sanitized build does not run under valgrind"
	exit 77
fi
[ -x bench/rk-instr ] || { echo "no bench/rk-instr"; exit 99; }
out=$(mktemp) || exit 99
trap 'rm -f "$out"' EXIT
sh "$srcdir/bench/instr.sh" --parts 2000 >"$out" 2>&1
rc=$?
cat "$out"
[ $rc = 0 ] || { echo "FAIL: instr.sh exited $rc"; exit 1; }
awk '
	function row_end() {
		if (mode == "" || mode ~ /^ideal-/)
			return
		if (sum < total * 0.99 || sum > total * 1.01)
			bad = bad "\n" mode ": parts add up to " sum ", the row says " total
		if (!(mode in want))
			return
		n = split(want[mode], f, " ")
		for (i = 1; i <= n; i++)
			if (!((mode SUBSEP f[i]) in seen))
				bad = bad "\n" mode ": no part for " f[i]
	}
	BEGIN {
		# a call sends and receives in rk_kernel_call (its receive inlined)
		want["rt"] = "rk_kernel_call rk_dev_drain"
		want["pipe"] = "rk_kernel_send_burst take_burst rk_dev_drain"
		want["pipe-zc"] = "rk_kernel_send_burst rk_kernel_receive_zc rk_dev_drain"
	}
	NR == 1 { next }
	/^[a-z]/ {
		row_end()
		mode = $1
		total = $3 + 0
		sum = 0
		rows[mode] = total
		if (total <= 0)
			bad = bad "\n" mode ": " total " instructions per message"
		if ($4 + 0 > 1)
			bad = bad "\n" mode ": " $4 " clock reads per message"
		next
	}
	/^ +[0-9.-]+  / {
		sum += $1
		seen[mode SUBSEP $2] = 1
		next
	}
	{ bad = bad "\nunexpected line: " $0 }
	END {
		row_end()
		split("rt ideal-rt pipe pipe-zc ideal-pipe", m, " ")
		for (i = 1; i <= 5; i++)
			if (!(m[i] in rows))
				bad = bad "\nno " m[i] " row"
		if (rows["rt"] <= rows["ideal-rt"] || rows["pipe"] <= rows["ideal-pipe"])
			bad = bad "\nan echo through the runtime counted cheaper than the hand-written floor"
		if (bad != "") {
			print "FAIL:" bad
			exit 1
		}
	}' "$out" || exit 1
echo "PASS: instr.sh rows and parts"
