#!/bin/sh
# The README's example is tests/readme_example.c, byte for byte: make check
# compiles and runs that file, and this test fails when the README drifts.
srcdir=${srcdir:-.}
readme="$srcdir/README.md"
example="$srcdir/tests/readme_example.c"
block=$(awk '/<!-- example: tests\/readme_example.c -->/{f=1; next} f && /^```c$/{g=1; next} g && /^```$/{exit} g' "$readme")
if [ -z "$block" ]; then
	echo "README.md has no example block after <!-- example: tests/readme_example.c -->"
	exit 1
fi
if [ "$block" != "$(cat "$example")" ]; then
	echo "README.md example differs from tests/readme_example.c:"
	printf '%s\n' "$block" | diff - "$example"
	exit 1
fi
echo "README example matches tests/readme_example.c"
