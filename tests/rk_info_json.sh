#!/bin/sh
# rk-info --version and --json: the JSON parses (where python3 is there),
# lists the CPU plugin as usable, and picks what the table picks. The
# device details are this machine's: the CPU plugin's cores are nproc's and
# getconf's, its NUMA nodes sysfs's; the OpenCL device is the one clinfo
# lists first. The environment section shows what is set, in both forms.
info=./runtime/rk-info
v=$("$info" --version) || { echo "FAIL: --version exited $?"; exit 1; }
case $v in
"rk-info (ringkernel-c) "*", plugin ABI "*) echo "ok: $v" ;;
*) echo "FAIL: --version said '$v'"; exit 1 ;;
esac
json=$("$info" --json)
rc=$?
[ $rc -le 1 ] || { echo "FAIL: --json exited $rc"; exit 1; }
printf '%s\n' "$json" | grep -q '"name": "cpu", "version": "[^"]*", "abi": "[0-9.]*", "usable": true' ||
	{ echo "FAIL: the CPU plugin is not listed as usable: $json"; exit 1; }
text_pick=$("$info" | sed -n 's/^auto would pick: \([a-z0-9_-]*\) (priority.*/\1/p')
json_pick=$(printf '%s\n' "$json" | sed -n 's/.*"auto_pick": "\([a-z0-9_-]*\)".*/\1/p')
[ -n "$text_pick" ] && [ "$text_pick" = "$json_pick" ] ||
	{ echo "FAIL: the table picks '$text_pick', the JSON '$json_pick'"; exit 1; }
if command -v python3 >/dev/null; then
	printf '%s\n' "$json" | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["plugins"] and d["auto_pick"]' ||
		{ echo "FAIL: --json is not valid JSON: $json"; exit 1; }
fi
echo "ok: --json, auto picks $json_pick"

# detail PLUGIN KEY: the value of KEY under PLUGIN's table row in $text
detail() {
	printf '%s\n' "$text" | awk -v b="$1" -v k="$2:" '
		$1 == b { p = 1; next }
		p && /^ +[a-z0-9_]+: / { if ($1 == k) { sub(/^ *[a-z0-9_]+: /, ""); print; exit } next }
		{ p = 0 }'
}
# same KEY WANT GOT: fail unless equal
same() {
	[ "$2" = "$3" ] || { echo "FAIL: $1 is '$3', expected '$2'"; echo "$text"; exit 1; }
	echo "ok: $1 = $3"
}

# Set and unset variables show as such; POCL_MAX_PTHREAD_COUNT fixed, for
# the OpenCL plugin and clinfo to see the same compute units.
POCL_MAX_PTHREAD_COUNT=${POCL_MAX_PTHREAD_COUNT:-3}
RK_SPIN_NS=12345
export POCL_MAX_PTHREAD_COUNT RK_SPIN_NS
unset RK_REACTOR
text=$("$info")
json=$("$info" --json)

same "cpu cores_usable" "$(nproc)" "$(detail cpu cores_usable)"
same "cpu cores_online" "$(getconf _NPROCESSORS_ONLN)" "$(detail cpu cores_online)"
same "cpu cores_configured" "$(getconf _NPROCESSORS_CONF)" "$(detail cpu cores_configured)"
nodes=/sys/devices/system/node
if [ -d $nodes ]; then
	same "cpu numa_nodes" "$(ls -d $nodes/node[0-9]* | wc -l)" "$(detail cpu numa_nodes)"
	first=$(ls -d $nodes/node[0-9]* | sed 's|.*/node||' | sort -n | head -n 1)
	same "cpu node${first}_cpus" "$(cat $nodes/node$first/cpulist)" "$(detail cpu "node${first}_cpus")"
	kb=$(awk '/MemTotal:/ { print $4 }' $nodes/node$first/meminfo)
	same "cpu node${first}_mem_bytes" "$((kb * 1024))" \
		"$(detail cpu "node${first}_mem_bytes" | cut -d' ' -f1)"
else
	echo "skip: no $nodes: the NUMA details say '$(detail cpu numa)'"
fi

same "RK_SPIN_NS in the table" "12345" \
	"$(printf '%s\n' "$text" | awk '$1 == "RK_SPIN_NS" { print $2 }')"
same "RK_REACTOR in the table" "(unset)" \
	"$(printf '%s\n' "$text" | awk '$1 == "RK_REACTOR" { print $2 }')"

if printf '%s\n' "$text" | awk '$1 == "opencl" && / usable / { ok = 1 } END { exit !ok }'; then
	if command -v clinfo >/dev/null; then
		# clinfo --raw: "[POCL/0]   CL_DEVICE_NAME   pthread-..."; device 0
		# of the first platform is rk-info's device 0
		raw() {
			clinfo --raw 2>/dev/null | awk -v k="$1" '
				$2 == k { sub(/^ *\[[^]]*\] +[A-Z_]+ +/, ""); sub(/ +$/, ""); print; exit }'
		}
		same "opencl platform" "$(raw CL_PLATFORM_NAME)" "$(detail opencl platform)"
		same "opencl device" "$(raw CL_DEVICE_NAME)" "$(detail opencl device)"
		same "opencl device_version" "$(raw CL_DEVICE_VERSION)" "$(detail opencl device_version)"
		same "opencl compute_units" "$(raw CL_DEVICE_MAX_COMPUTE_UNITS)" \
			"$(detail opencl compute_units)"
	else
		echo "skip: the OpenCL plugin is usable but there is no clinfo to compare with"
	fi
else
	echo "skip: the OpenCL plugin is not usable here (no PoCL?)"
fi

if command -v python3 >/dev/null; then
	# the JSON says what the table says
	printf '%s\n' "$json" | python3 -c '
import json, os, sys
d = json.load(sys.stdin)
env = d["environment"]
assert env["RK_SPIN_NS"] == "12345", env
assert env["RK_REACTOR"] is None, env
cpu = [p for p in d["plugins"] if p["name"] == "cpu" and p["usable"]][0]["details"]
assert cpu["cores_usable"] == len(os.sched_getaffinity(0)), cpu
assert cpu["cores_online"] == os.sysconf("SC_NPROCESSORS_ONLN"), cpu
for p in d["plugins"]:
    if p["name"] == "opencl" and p["usable"]:
        assert p["details"]["device"] and p["details"]["compute_units"] > 0, p
print("ok: the JSON details and environment match")
' || { echo "FAIL: --json details: $json"; exit 1; }
fi

# The network transport: listed with the UCX version ucx_info reports and
# the resources it finds, or unusable with the reason.
if [ -e plugins/.libs-all/rk-transport-ucx.so ] && command -v ucx_info >/dev/null &&
	command -v python3 >/dev/null; then
	uv=$(ucx_info -v | sed -n 's/^# Version \([0-9.]*\).*/\1/p')
	tl=$(env -u UCX_TLS ucx_info -d | sed -n 's/^#[ ]*Transport: //p' | sort -u | tr '\n' ' ')
	for tls in "" tcp; do
		if [ -n "$tls" ]; then
			UCX_TLS=$tls "$info" --json
		else
			env -u UCX_TLS "$info" --json
		fi | UV=$uv TL="${tls:-$tl}" python3 -c '
import json, os, sys
t = {x["name"]: x for x in json.load(sys.stdin)["transports"]}["ucx"]
assert t["usable"], t
desc = t["description"]
assert desc.startswith("UCX " + os.environ["UV"] + ","), (desc, os.environ["UV"])
res = desc.split("resources: ")[1].split()
assert sorted({r.split("/")[0] for r in res}) == sorted(os.environ["TL"].split()), (res, os.environ["TL"])
print("ok: the UCX transport is listed:", desc)
' || { echo "FAIL: rk-info transports (UCX_TLS=$tls)"; exit 1; }
	done
	RK_PLUGIN_PATH=/nonexistent RK_PLUGIN_PATH_ONLY=1 "$info" | grep -q "ucx    unusable: no transport" ||
		{ echo "FAIL: a missing transport is not listed as unusable"; exit 1; }
	echo "ok: a missing transport is unusable, with the reason"
else
	echo "skip: no UCX transport built (or no ucx_info, python3) to compare with"
fi
