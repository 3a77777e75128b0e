#!/bin/sh
# libringkernel exports exactly what runtime/libringkernel.map lists, by
# name (no pattern), and nothing of the internals (rki_*, *_, variables).
srcdir=${srcdir:-.}
lib=${RK_MAP_LIB:-runtime/.libs/libringkernel.so}
map=$srcdir/runtime/libringkernel.map
command -v nm >/dev/null 2>&1 || { echo "SKIP: no nm(1)"; exit 77; }
[ -f "$lib" ] || { echo "SKIP: no $lib (built without shared libraries?)"; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
# the listed names: lines "name;" between global: and local:
sed -n '/global:/,/local:/p' "$map" | sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' |
	sort >"$tmp/listed"
if grep -q '\*' "$tmp/listed" || sed -n '/global:/,/local:/p' "$map" | grep -v '^[[:space:]]*/\?\*' |
	grep -q '[*?]'; then
	echo "FAIL: the map exports by pattern"
	exit 1
fi
nm -D --defined-only "$lib" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}' | sort -u >"$tmp/exported"
status=0
comm -23 "$tmp/exported" "$tmp/listed" >"$tmp/extra"
comm -13 "$tmp/exported" "$tmp/listed" >"$tmp/missing"
if [ -s "$tmp/extra" ]; then
	echo "FAIL: exported but not in the map:"; cat "$tmp/extra"; status=1
fi
if [ -s "$tmp/missing" ]; then
	echo "FAIL: in the map but not defined:"; cat "$tmp/missing"; status=1
fi
# Every function an installed header declares (not inline) is exported,
# but the entry points plugins define.
for h in ringkernel error layout msg ring region discovery plugin transport; do
	cat "$srcdir/include/ringkernel/$h.h"
done | grep -v '^static\|^[[:space:]]\|^#\|^/\|^ \*' | grep -o '\brk_[a-z0-9_]*(' | tr -d '(' |
	grep -v '^rk_plugin_entry$\|^rk_transport_entry$' | sort -u >"$tmp/declared"
comm -23 "$tmp/declared" "$tmp/exported" >"$tmp/unexported"
if [ -s "$tmp/unexported" ]; then
	echo "FAIL: declared in an installed header but not exported:"; cat "$tmp/unexported"; status=1
fi
if grep -q '^rki_' "$tmp/exported"; then
	echo "FAIL: an internal rki_ symbol is exported"; status=1
fi
# Nothing half-public: no '_'-suffixed helper, no data symbol.
if grep '_$' "$tmp/exported" >"$tmp/suffixed"; then
	echo "FAIL: exported with a '_' suffix (an internal):"; cat "$tmp/suffixed"; status=1
fi
nm -D --defined-only "$lib" | awk '$2 ~ /^[BDGRSV]$/ {sub(/@.*/, "", $3); print $3}' >"$tmp/data"
if [ -s "$tmp/data" ]; then
	echo "FAIL: a variable is exported (the ABI is functions only):"; cat "$tmp/data"; status=1
fi
[ $status = 0 ] && echo "ok: $(wc -l <"$tmp/exported") symbols, exactly the map's"
exit $status
