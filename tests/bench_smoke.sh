#!/bin/sh
# rk-bench --quick, one scenario at a time: each must exit 0 and print the
# rows it promises (a peer may say "absent"). Timings are never checked.
bench=${RK_BENCH:-bench/rk-bench}
[ -x "$bench" ] || { echo "no $bench"; exit 99; }
status=0
out=$(mktemp) || exit 99
trap 'rm -f "$out"' EXIT

# expect SCENARIO PATTERN...: every extended regex must match a line
expect() {
	scn=$1
	shift
	if ! "$bench" --quick --quiet --scenario "$scn" >"$out" 2>"$out.err"; then
		echo "FAIL: rk-bench --scenario $scn exited non-zero:"
		cat "$out" "$out.err"
		status=1
		rm -f "$out.err"
		return
	fi
	rm -f "$out.err"
	for pat in "$@"; do
		if ! grep -Eq -- "$pat" "$out"; then
			echo "FAIL: rk-bench --scenario $scn printed no line matching /$pat/:"
			cat "$out"
			status=1
		fi
	done
	echo "ok: $scn"
}

peer() { echo "^$1 +(spsc|blocking|pipelined|absent)"; }

expect ring '^cpu: .*cores' '^== ring' '^rk_ring +spsc +64 +1 ' '^rk_ring +spsc +1024 +256 ' \
	"$(peer rte_ring)" "$(peer ck_ring)"
expect roundtrip '^rk echo +spin +64 ' '^rk echo +blocking +64 ' '^floor cache-line ' \
	'^floor eventfd ' '^floor futex ' "$(peer 'zmq inproc PAIR')"
expect throughput '^rk echo +pipelined +64 +32 ' "$(peer 'zmq inproc PAIR')"
expect k2k '^rk forward x3 +default +64 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+' \
	'^rk forward x3 +blocking +64 +32 ' '^rk forward x3 +default +64 +32 '
expect launch '^rk echo +lifecycle '
expect open-loop '^rk echo @20k/s +default +64 +[0-9]+ '

# the machine-readable forms
if "$bench" --quick --quiet --scenario launch --json >"$out" &&
	grep -q '^{"version": ".*"fingerprint": {"cpu"' "$out" &&
	grep -q '"scenario": "launch", "name": "rk echo"' "$out" && tail -n 1 "$out" | grep -q '^\]}$'; then
	echo "ok: --json"
else
	echo "FAIL: --json"
	cat "$out"
	status=1
fi
if "$bench" --quick --quiet --scenario launch --csv >"$out" &&
	head -n 1 "$out" | grep -q '^scenario,name,mode,payload,batch,' &&
	grep -q '^launch,rk echo,lifecycle,' "$out"; then
	echo "ok: --csv"
else
	echo "FAIL: --csv"
	cat "$out"
	status=1
fi
exit $status
