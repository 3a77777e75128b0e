#!/bin/sh
# rk-info --version and --json: the JSON parses (where python3 is there),
# lists the CPU plugin as usable, and picks what the table picks.
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
