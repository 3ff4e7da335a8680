#!/bin/sh
# Every function of lib/libberth.sym is reachable from the Python and the Lua
# binding: each built module must import it (nm -D --undefined-only of
# bindings/*/.libs/berth.so, i.e. what the binding really calls, not what its
# comments mention), unless the exclusion list below says why it makes no
# sense in that language. The list of functions comes from the version
# script, so a module that lands later (volumes, networks, builds) is
# checked as soon as its symbols are exported: it must bring its bindings.
# A binding that is not built is skipped (exit 77 when neither is).
set -eu
: "${top_srcdir:?top_srcdir is not set (run this through make check)}"
: "${top_builddir:?top_builddir is not set (run this through make check)}"
sym="$top_srcdir/lib/libberth.sym"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Functions no binding needs to call, one per line: "name  # why".
# Keep it short: anything here is a function a script cannot reach.
cat > "$tmp/excluded" <<'EOF'
berth_error_cause          # each error's message already covers its causes (common.h); the bindings raise that message
berth_container_supervise  # a monitor's main loop: needs a process with no other threads that reaps every child, which an interpreter cannot promise
berth_image_pull_with_sink # hands raw layer bytes to C callbacks on the pull's threads, for modules written in C; berth_storage_pull is its use (images.pull(unpack=))
EOF

sed -n 's/^[[:space:]]*\(berth_[a-z0-9_]*\);$/\1/p' "$sym" | sort -u > "$tmp/exported"
test -s "$tmp/exported" || { echo "FAIL: no functions in $sym"; exit 1; }
sed 's/[[:space:]]*#.*//; /^$/d' "$tmp/excluded" | sort -u > "$tmp/skip"

# an exclusion must name an exported function: a stale entry hides nothing
stale=$(comm -13 "$tmp/exported" "$tmp/skip")
if [ -n "$stale" ]; then
	echo "FAIL: the exclusion list names functions libberth does not export:"; echo "$stale"
	exit 1
fi
comm -23 "$tmp/exported" "$tmp/skip" > "$tmp/wanted"
: > "$tmp/all-calls"

rc=0 checked=0
check() { # language, module path, "" when built
	lang=$1 so=$2 disabled=$3
	if [ -n "$disabled" ]; then
		echo "SKIP: the $lang binding is not built"
		return 0
	fi
	if [ ! -f "$so" ]; then
		echo "FAIL: $so was not built"; rc=1; return 0
	fi
	checked=$((checked + 1))
	${NM:-nm} -D --undefined-only "$so" | awk '{ print $NF }' | sed -n 's/@.*//; /^berth_/p' |
		sort -u > "$tmp/$lang.calls"
	cat "$tmp/$lang.calls" >> "$tmp/all-calls"
	missing=$(comm -23 "$tmp/wanted" "$tmp/$lang.calls")
	n_wanted=$(wc -l < "$tmp/wanted")
	n_missing=$(printf '%s' "$missing" | grep -c . || true)
	if [ -n "$missing" ]; then
		echo "FAIL: the $lang binding calls $((n_wanted - n_missing)) of the $n_wanted functions it should; unbound:"
		echo "$missing" | sed 's/^/  /'
		rc=1
	else
		echo "ok: the $lang binding calls all $n_wanted functions ($(wc -l < "$tmp/skip") excluded)"
	fi
}
check python "$top_builddir/bindings/python/.libs/berth.so" "${ENABLE_PYTHON-}"
check lua "$top_builddir/bindings/lua/.libs/berth.so" "${ENABLE_LUA-}"
[ "$checked" -gt 0 ] || [ "$rc" -ne 0 ] || exit 77
# an exclusion every built binding calls anyway is stale: drop it from the list
if [ "$checked" -eq 2 ]; then
	needless=$(sort "$tmp/all-calls" | uniq -d | comm -12 - "$tmp/skip")
	if [ -n "$needless" ]; then
		echo "FAIL: excluded but bound by both bindings (remove from the list):"; echo "$needless"
		rc=1
	fi
fi
exit $rc
