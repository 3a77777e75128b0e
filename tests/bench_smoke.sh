#!/bin/sh
# rk-bench --quick, one scenario at a time: each must exit 0 and print the
# rows it promises (a peer may say "absent"). Timings are never checked.
# Each runs with --progress: its steps are the ones the plan counted, and
# nothing of the progress lands on stdout.
bench=${RK_BENCH:-bench/rk-bench}
[ -x "$bench" ] || { echo "no $bench"; exit 99; }
status=0
out=$(mktemp) || exit 99
trap 'rm -f "$out"' EXIT

# steps SCENARIO: the --progress lines in $out.err count every step the
# plan promised, once each ("[1/N]" .. "[N/N]"), and none is on stdout
steps() {
	bad=$(awk -v scn="$1" '
		/^rk-bench: \[ *[0-9]+\/[0-9]+\] +[0-9]+%  ETA [0-9]+:[0-9][0-9]  / {
			s = substr($0, index($0, "[") + 1)
			k = s + 0
			n = substr(s, index(s, "/") + 1) + 0
			if (k != ++seen) print scn ": step " k " after " seen - 1 " steps: " $0
			if (!total) total = n
			else if (n != total) print scn ": the total went from " total " to " n
			next
		}
		/^rk-bench: / && !/^rk-bench: done in / && !/^rk-bench: xproc: iceoryx: / {
			print scn ": a progress line without the step and ETA: " $0
		}
		END {
			if (!seen) print scn ": no progress line with an ETA"
			else if (seen != total) print scn ": " seen " steps, the plan said " total
		}' "$out.err")
	if grep -q 'ETA' "$out"; then
		bad="$bad progress on stdout"
	fi
	if [ -n "$bad" ]; then
		echo "FAIL: rk-bench --progress: $bad"
		cat "$out.err"
		status=1
	fi
}

# expect SCENARIO PATTERN...: every extended regex must match a line
expect() {
	scn=$1
	shift
	if ! "$bench" --quick --progress --scenario "$scn" >"$out" 2>"$out.err"; then
		echo "FAIL: rk-bench --scenario $scn exited non-zero:"
		cat "$out" "$out.err"
		status=1
		rm -f "$out.err"
		return
	fi
	steps "$scn"
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
	'^floor eventfd ' '^floor futex ' "$(peer 'zmq inproc PAIR')" \
	'^rk echo +block 1cpu +64 .* floor eventfd/1cpu' '^floor eventfd +1cpu +8 ' \
	'^rk echo +block 2cpu +64 .* floor eventfd/2cpu' '^floor eventfd +2cpu +8 '
expect throughput '^rk echo +pipelined +64 +32 ' '^rk echo +zero-copy +64 +32 ' \
	"$(peer 'zmq inproc PAIR')"
expect k2k '^rk forward x3 +default +64 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+' \
	'^rk forward x3 +blocking +64 +32 ' '^rk forward x3 +default +64 +32 '
expect launch '^rk echo +lifecycle '
expect open-loop '^rk echo @20k/s +default +64 +[0-9]+ '

# xproc, read from the CSV: the owner's rows and the attached client's, each
# mode, with positive finite figures; iceoryx measured or absent with a reason
if "$bench" --quick --progress --scenario xproc --csv >"$out" 2>"$out.err"; then
	steps xproc
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

# remote, read from the CSV: per UCX transport (tcp, shm) our round trip and
# rate over rk_attach_remote, each with its ratio to UCX's floor, and the
# floor's rows; or one absent row with the reason (no UCX, no transport
# plugin), after a single progress step that says why
if "$bench" --quick --progress --scenario remote --csv >"$out" 2>"$out.err"; then
	steps remote
	bad=$(awk -F, '
		function num(v) { return v ~ /^[0-9]+(\.[0-9]+)?$/ && v + 0 > 0 }
		$1 != "remote" { next }
		{ key = $2 "/" $3 }
		$6 == 1 { if ($2 != "rk echo") print "absent row: " $0; absent = 1; next }
		$3 == "pipelined" || $3 == "stream" || $3 == "echo" {
			if (!num($14) || !num($15)) print "bad rate: " $0; seen[key] = 1; nseen++ }
		$3 == "call" || $3 == "poll" || $3 == "wakeup" {
			if ($7 + 0 < 1 || !num($8) || !num($10) || !num($12)) print "bad latency: " $0
			seen[key] = 1; nseen++ }
		$2 ~ /^rk echo / && !num($16) { print "no ratio to the UCX floor: " $0 }
		END {
			if (absent) { if (nseen) print "absent and measured"; exit }
			n = split("tcp shm", t, " ")
			for (i = 1; i <= n; i++) {
				m = split("rk echo " t[i] "/call;rk echo " t[i] "/pipelined;" \
					  "ucx am " t[i] "/poll;ucx am " t[i] "/wakeup;" \
					  "ucx am " t[i] "/stream;ucx am " t[i] "/echo", want, ";")
				for (j = 1; j <= m; j++)
					if (!(want[j] in seen)) print "missing row " want[j]
			}
			if (!("ucx am shm no-peer/poll" in seen) || !("ucx am shm no-peer/stream" in seen))
				print "missing the shm rows without peer errors"
		}' "$out")
	if [ -z "$bad" ] && ! grep -q '^remote,' "$out"; then
		bad="no remote row"
	fi
	if [ -z "$bad" ]; then
		if grep -q '^remote,rk echo,,,,1,' "$out"; then
			echo "ok: remote (absent: $(grep -o 'remote: skipped: .*' "$out.err"))"
		else
			echo "ok: remote"
		fi
	else
		echo "FAIL: rk-bench --scenario remote: $bad"
		cat "$out" "$out.err"
		status=1
	fi
else
	echo "FAIL: rk-bench --scenario remote exited non-zero:"
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
