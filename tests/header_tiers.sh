#!/bin/sh
# The header tiers, one way: every installed header compiles alone under
# -std=c11 (no _GNU_SOURCE) with -Wall -Wextra -Werror; the umbrella
# ringkernel.h does not pull in the plugin SDK (plugin.h) nor declare the
# SDK's error setter rk_error(), which plugin.h does.
srcdir=${srcdir:-.}
cc=${CC:-cc}
inc="-I$srcdir/include -Iinclude"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
status=0
for h in ringkernel error layout msg ring region discovery plugin device transport version; do
	printf '#include <ringkernel/%s.h>\nint rk_header_check_%s;\n' "$h" "$h" >"$tmp/h.c"
	if $cc -std=c11 -Wall -Wextra -Werror $inc -fsyntax-only "$tmp/h.c" 2>"$tmp/err"; then
		echo "ok: ringkernel/$h.h compiles alone under -std=c11"
	else
		echo "FAIL: ringkernel/$h.h alone under -std=c11:"
		cat "$tmp/err"
		status=1
	fi
done
cat >"$tmp/u.c" <<'C'
#include <ringkernel/ringkernel.h>
#ifdef RINGKERNEL_PLUGIN_H
#error "ringkernel.h includes plugin.h"
#endif
int f(void);
int f(void) { return rk_error(-1, "x"); }
C
if $cc -std=c11 -Werror=implicit-function-declaration $inc -fsyntax-only "$tmp/u.c" 2>"$tmp/err"; then
	echo "FAIL: the umbrella header declares rk_error() or includes plugin.h"
	status=1
elif grep -q "includes plugin.h" "$tmp/err"; then
	echo "FAIL: ringkernel.h includes plugin.h"
	status=1
elif grep -q "rk_error" "$tmp/err"; then
	echo "ok: ringkernel.h has neither plugin.h nor rk_error()"
else
	echo "FAIL: unexpected compiler error:"
	cat "$tmp/err"
	status=1
fi
printf '#include <ringkernel/ringkernel.h>\n#include <ringkernel/plugin.h>\nint f(void);\nint f(void) { return rk_error(-1, "x"); }\n' >"$tmp/p.c"
if $cc -std=c11 -Wall -Werror $inc -fsyntax-only "$tmp/p.c" 2>"$tmp/err"; then
	echo "ok: plugin.h declares rk_error()"
else
	echo "FAIL: plugin.h with the umbrella:"
	cat "$tmp/err"
	status=1
fi
exit $status
