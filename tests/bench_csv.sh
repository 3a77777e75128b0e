#!/bin/sh
# rk-bench's machine-readable output and rk-bench-plot, from --quick runs:
#   - the CSV parses with python's csv module (after skipping any "#" line)
#     and every row carries the fingerprint (cpu, cores, kernel, backend,
#     plugin_version, rk_version);
#   - what does not apply is empty in the CSV and null in the JSON, never 0
#     (a round trip's batch, a rate row's count and percentiles, launch's
#     payload), and what applies is filled;
#   - the ZeroMQ blocking round trip's ref is our blocking row (when ZeroMQ
#     is compiled in);
#   - our blocking round trips are over the eventfd floor placed alike: the
#     plain row over the plain floor, `block 1cpu` and `block 2cpu` over
#     the floor on one CPU and on two (those rows need two CPUs);
#   - rk-bench-plot draws ring-256.png for a 256-byte run (when gnuplot is
#     installed).
# Timings are never checked. Without python3 it skips (77).
bench=${RK_BENCH:-bench/rk-bench}
plot=${RK_BENCH_PLOT:-bench/rk-bench-plot}
[ -x "$bench" ] || { echo "no $bench"; exit 99; }
command -v python3 >/dev/null || { echo "SKIP: no python3 to read the CSV and the JSON"; exit 77; }
status=0
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

run() { # FILE ARGS...: rk-bench --quick --quiet ARGS > FILE, or fail
	f=$1
	shift
	if ! "$bench" --quick --quiet "$@" >"$f" 2>"$f.err"; then
		echo "FAIL: rk-bench $*: exited non-zero"
		cat "$f" "$f.err"
		status=1
		return 1
	fi
}

# check NAME FILE: the python program on stdin checks FILE; its output, if
# any, is what is wrong
check() {
	bad=$(python3 - "$2" 2>&1)
	if [ -n "$bad" ]; then
		echo "FAIL: $1: $bad"
		status=1
	else
		echo "ok: $1"
	fi
}

if run "$tmp/run.csv" --scenario roundtrip,throughput,launch --csv; then
	check "--csv parses and carries the fingerprint" "$tmp/run.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#")))
fp = ["cpu", "cores", "kernel", "backend", "plugin_version", "rk_version"]
if not rows:
    print("no rows")
for r in rows:
    if None in r or None in r.values():
        print("a row with more or fewer fields than the header:", r)
        break
    for k in fp:
        if not r.get(k):
            print("no", k, "in", r["scenario"], r["name"], r["mode"])
            sys.exit()
    if not r["cores"].isdigit() or int(r["cores"]) < 1:
        print("cores is not a count:", r["cores"])
        break
PY
	check "--csv: what does not apply is empty, what applies is filled" "$tmp/run.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#")))
def row(scn, name, mode):
    for r in rows:
        if (r["scenario"], r["name"], r["mode"]) == (scn, name, mode):
            return r
    print("no row", scn, name, mode)
    sys.exit()
# (row, fields that must be empty, fields that must be filled)
want = [
    (row("roundtrip", "rk echo", "spin"), ["batch", "ns_per_msg", "msgs_per_s"],
     ["payload", "count", "p50_ns", "p99_ns", "max_ns", "ratio", "ref"]),
    (row("roundtrip", "floor cache-line", ""), ["batch", "ratio", "ref"], ["payload", "p50_ns"]),
    (row("throughput", "rk echo", "pipelined"),
     ["count", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns"],
     ["payload", "batch", "ns_per_msg", "msgs_per_s"]),
    (row("launch", "rk echo", "lifecycle"), ["payload", "batch", "ns_per_msg"],
     ["count", "p50_ns"]),
]
for r, empty, filled in want:
    for k in empty:
        if r[k] != "":
            print(r["scenario"], r["name"], r["mode"], k, "is", repr(r[k]), "where it must be empty")
    for k in filled:
        if r[k] in ("", "0"):
            print(r["scenario"], r["name"], r["mode"], k, "is", repr(r[k]), "where it must be filled")
PY
	check "zmq blocking round trip against our blocking row" "$tmp/run.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#")))
z = [r for r in rows if r["scenario"] == "roundtrip" and r["name"] == "zmq inproc PAIR"]
if not z:
    print("no zmq inproc PAIR row, not even absent")
elif z[0]["absent"] == "1":
    pass  # not compiled in: nothing to compare (the ok line says so)
elif z[0]["mode"] != "blocking" or z[0]["ref"] != "rk echo/blocking" or not z[0]["ratio"]:
    print("mode", repr(z[0]["mode"]), "ref", repr(z[0]["ref"]), "ratio", repr(z[0]["ratio"]))
PY
	grep -q '^roundtrip,zmq inproc PAIR,,,,1,' "$tmp/run.csv" && echo "  (skipped: ZeroMQ is not compiled in)"
	check "blocking round trips against the eventfd floor placed alike" "$tmp/run.csv" <<'PY'
import csv, os, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#")))
rt = {(r["name"], r["mode"]): r for r in rows if r["scenario"] == "roundtrip"}
want = [("blocking", "")]
if len(os.sched_getaffinity(0)) >= 2:  # the placed rows need two CPUs
    want += [("block 1cpu", "1cpu"), ("block 2cpu", "2cpu")]
for ours, floor in want:
    r, f = rt.get(("rk echo", ours)), rt.get(("floor eventfd", floor))
    if not r or not f:
        print("no row", ("rk echo", ours) if not r else ("floor eventfd", floor))
        continue
    ref = "floor eventfd" + ("/" + floor if floor else "")
    if r["ref"] != ref:
        print("rk echo", ours, "ref", repr(r["ref"]), "not", repr(ref))
    elif abs(float(r["ratio"]) - float(r["p50_ns"]) / float(f["p50_ns"])) > 0.01 * float(r["ratio"]) + 0.01:
        print("rk echo", ours, "ratio", r["ratio"], "is not its p50 over", ref, "'s")
PY
fi

if run "$tmp/run.json" --scenario roundtrip,throughput,launch --json; then
	check "--json: null where it does not apply" "$tmp/run.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {(r["scenario"], r["name"], r["mode"]): r for r in doc["rows"]}
for k in ["cpu", "cores", "kernel", "backend", "plugin_version"]:
    if not doc["fingerprint"].get(k):
        print("no", k, "in the fingerprint")
want = [
    (("roundtrip", "rk echo", "spin"), ["batch", "ns_per_msg"], ["payload", "p50_ns", "ratio"]),
    (("throughput", "rk echo", "pipelined"), ["count", "p50_ns"], ["batch", "ns_per_msg"]),
    (("launch", "rk echo", "lifecycle"), ["payload", "batch"], ["count", "p50_ns"]),
]
for key, null, filled in want:
    r = rows.get(key)
    if r is None:
        print("no row", key)
        continue
    for k in null:
        if k not in r or r[k] is not None:
            print(key, k, "is", repr(r.get(k, "missing")), "where it must be null")
    for k in filled:
        if not r.get(k):
            print(key, k, "is", repr(r.get(k, "missing")), "where it must be filled")
PY
fi

# rk-bench-plot with a payload other than 64 and 1024
if [ ! -x "$plot" ]; then
	echo "FAIL: no $plot"
	status=1
elif ! command -v gnuplot >/dev/null; then
	echo "ok: rk-bench-plot (skipped: no gnuplot)"
elif run "$tmp/p256.csv" --scenario ring,roundtrip --payload 256 --runs 1 --csv; then
	if "$plot" "$tmp/p256.csv" "$tmp/png" >"$tmp/plot.out" 2>&1 &&
		[ -s "$tmp/png/ring-256.png" ] && [ -s "$tmp/png/latency.png" ] &&
		head -c 8 "$tmp/png/ring-256.png" | od -An -c | grep -q 'P   N   G' &&
		! grep -q 'gnuplot>' "$tmp/plot.out"; then
		echo "ok: rk-bench-plot, 256-byte payload"
	else
		echo "FAIL: rk-bench-plot drew no ring-256.png and latency.png from a 256-byte run:"
		cat "$tmp/plot.out"
		ls -l "$tmp/png" 2>&1
		status=1
	fi
	# a file with nothing to plot is an error that says why
	if run "$tmp/launch.csv" --scenario launch --csv; then
		if "$plot" "$tmp/launch.csv" "$tmp/none" >"$tmp/plot.out" 2>&1 ||
			! grep -q 'nothing to plot' "$tmp/plot.out"; then
			echo "FAIL: rk-bench-plot on a file without ring or roundtrip rows:"
			cat "$tmp/plot.out"
			status=1
		else
			echo "ok: rk-bench-plot, nothing to plot"
		fi
	fi
fi

# Every ring peer has a row at a payload its harness does not carry: the
# reason, never silence.
if run "$tmp/r256.csv" --scenario ring --payload 256 --batch 8 --runs 1 --csv; then
	python3 - "$tmp/r256.csv" <<'PY' || status=1
import csv, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#")))
names = {r["name"]: r for r in rows if r["scenario"] == "ring"}
bad = [n for n in ("rk_ring", "rte_ring", "ck_ring") if n not in names]
if bad:
    print("FAIL: a 256-byte ring run has no row for", bad, [r["name"] for r in rows])
    sys.exit(1)
print("ok: a 256-byte ring run has a row for every peer:",
      ", ".join(n + (" (absent)" if r["absent"] == "1" else "") for n, r in names.items()))
PY
fi
exit $status
