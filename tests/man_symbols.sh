#!/bin/sh
# Every symbol libringkernel.so exports (rk_*) is named in a man page,
# `man NAME` finds every name a page's NAME section lists, and every page
# is installed. On a failure it prints what to add.
srcdir=${srcdir:-.}
lib=${RK_MAN_LIB:-runtime/.libs/libringkernel.so}
man=$srcdir/man
mk=$man/local.mk

command -v nm >/dev/null 2>&1 || { echo "SKIP: no nm(1) to list the exported symbols"; exit 77; }
[ -f "$lib" ] || { echo "SKIP: no $lib (built without shared libraries?)"; exit 77; }
[ -f "$mk" ] || { echo "FAIL: no $mk"; exit 1; }

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
status=0

# The pages a reader gets: section 1, 3 and 7 files; aliases are ".so" lines.
pages=$(cd "$man" && ls -- *.[1-8] 2>/dev/null)
[ -n "$pages" ] || { echo "FAIL: no pages in $man"; exit 1; }
for p in $pages; do
	if head -n 1 "$man/$p" | grep -q '^\.so '; then
		echo "$p" >>"$tmp/aliases"
	else
		echo "$p" >>"$tmp/real"
	fi
done
touch "$tmp/aliases"

# Words that look like our names, in the text of the real pages (font
# escapes such as \fB stripped, so that \fBrk_x\fP reads as rk_x).
for p in $(cat "$tmp/real"); do
	sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\f\[[^]]*\]//g' "$man/$p"
done | grep -o 'rk_[A-Za-z0-9_]*' | sort -u >"$tmp/named"

nm -D --defined-only "$lib" | awk '{ print $NF }' | sed 's/@.*//' |
	grep '^rk_' | sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || { echo "FAIL: nm found no rk_ symbol in $lib"; exit 1; }

# The page whose name shares the longest prefix with $1: its family.
family() {
	awk -v s="$1" '{ p = $0; sub(/\.[0-9]$/, "", p); n = 0
		while (n < length(p) && n < length(s) && substr(p, n + 1, 1) == substr(s, n + 1, 1)) n++
		if (n > best) { best = n; page = $0 } }
		END { print (page != "" ? page : "ringkernel.7") }' "$tmp/real"
}

# 1. Every exported symbol is documented somewhere.
comm -23 "$tmp/exported" "$tmp/named" >"$tmp/missing"
for s in $(cat "$tmp/missing"); do
	f=$(family "$s")
	echo "FAIL: libringkernel.so exports $s, and no man page names it. Add it:"
	echo "  - to the page of its family, probably man/$f: its NAME line, SYNOPSIS"
	echo "    and DESCRIPTION, with its errors under ERRORS (or write man/$s.3,"
	echo "    a page of its own, if it starts a new family);"
	echo "  - as an alias page man/$s.3 holding the one line '.so man3/$f';"
	echo "  - to dist_man_MANS in man/local.mk: man/$s.3"
	echo "  (a symbol that is not API stays out of the export map: rki_ names)"
	status=1
done

# 2. Every name a section-3 page's NAME section lists has a page of its own
# (real or alias), so that `man NAME` finds it.
for p in $(grep '\.3$' "$tmp/real"); do
	awk '/^\.SH NAME/ { f = 1; next } /^\.SH/ { f = 0 } f' "$man/$p" | tr '\n' ' ' |
		sed 's/\\-.*//' | tr ',' '\n' | sed 's/^ *//; s/ *$//' | grep -v '^$' |
		while read -r n; do
			[ -f "$man/$n.3" ] && continue
			echo "FAIL: man/$p names $n, but 'man $n' finds nothing: add man/$n.3"
			echo "  holding the one line '.so man3/$p', and list it in man/local.mk"
			echo x >>"$tmp/bad"
		done
done

# 3. Every alias leads to a page that names it.
for a in $(cat "$tmp/aliases"); do
	t=$(sed -n '1s|^\.so man[0-9]/||p' "$man/$a")
	n=${a%.[0-9]}
	if [ ! -f "$man/$t" ]; then
		echo "FAIL: man/$a is an alias of $t, which is not in man/"
		status=1
	elif ! awk '/^\.SH NAME/ { f = 1; next } /^\.SH/ { f = 0 } f' "$man/$t" |
		tr '\n' ' ' | sed 's/\\-.*//' | tr ',' '\n' | sed 's/^ *//; s/ *$//' |
		grep -qx "$n"; then
		echo "FAIL: man/$a is an alias of $t, whose NAME section does not list $n"
		status=1
	fi
done

# 4. Every page is installed (and so distributed).
for p in $pages; do
	grep -q "man/$p\\([ \\\\]\\|\$\\)" "$mk" && continue
	echo "FAIL: man/$p is not installed: add man/$p to dist_man_MANS in man/local.mk"
	status=1
done

[ -f "$tmp/bad" ] && status=1
if [ $status -eq 0 ]; then
	echo "ok: $(wc -l <"$tmp/exported") exported symbols, each named in one of" \
		"$(wc -l <"$tmp/real") pages ($(wc -l <"$tmp/aliases") aliases), all installed"
fi
exit $status
