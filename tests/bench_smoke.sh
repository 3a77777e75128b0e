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

# xproc, read from the CSV: the owner's rows and the attached client's, each
# mode, with positive finite figures; iceoryx measured or absent with a reason
if "$bench" --quick --quiet --scenario xproc --csv >"$out" 2>"$out.err"; then
	bad=$(awk -F, '
		function num(v) { return v ~ /^[0-9]+(\.[0-9]+)?$/ && v + 0 > 0 }
		$1 != "xproc" { next }
		{ key = $2 "/" $3 }
		$6 == 1 { absent[$2] = 1; next }
		$3 == "pipelined" { if (!num($14) || !num($15)) print "bad rate: " $0; seen[key] = 1; next }
		{ if ($7 + 0 < 1 || !num($8) || !num($10) || !num($12)) print "bad latency: " $0
		  seen[key] = 1 }
		$2 == "rk echo xproc" && !num($16) { print "no ratio to the owner: " $0 }
		END {
			n = split("rk echo/spin;rk echo xproc/spin;rk echo/blocking;" \
				  "rk echo xproc/blocking;rk echo/pipelined;rk echo xproc/pipelined",
				  want, ";")
			for (i = 1; i <= n; i++)
				if (!(want[i] in seen)) print "missing row " want[i]
			if (!("iceoryx/spin" in seen) && !("iceoryx" in absent)) print "no iceoryx row"
		}' "$out")
	if [ -z "$bad" ]; then
		echo "ok: xproc"
	else
		echo "FAIL: rk-bench --scenario xproc: $bad"
		cat "$out"
		status=1
	fi
else
	echo "FAIL: rk-bench --scenario xproc exited non-zero:"
	cat "$out" "$out.err"
	status=1
fi
rm -f "$out.err"

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
