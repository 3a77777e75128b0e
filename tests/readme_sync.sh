#!/bin/sh
# Every code block the README marks with <!-- example: FILE --> is FILE, byte
# for byte: make check compiles and runs those files, and this test fails
# when the README drifts from them.
srcdir=${srcdir:-.}
readme="$srcdir/README.md"
files=$(sed -n 's/^<!-- example: \(.*\) -->$/\1/p' "$readme")
[ -n "$files" ] || { echo "README.md marks no example"; exit 1; }
status=0
for f in $files; do
	block=$(awk -v m="<!-- example: $f -->" '$0 == m {f=1; next} f && /^```c$/ {g=1; next} g && /^```$/ {exit} g' "$readme")
	if [ "$block" != "$(cat "$srcdir/$f")" ]; then
		echo "README.md example differs from $f:"
		printf '%s\n' "$block" | diff - "$srcdir/$f"
		status=1
	else
		echo "README example matches $f"
	fi
done
exit $status
