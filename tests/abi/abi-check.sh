#!/bin/sh
# The ABI of the built libberth.so against the release's, recorded in
# abi/libberth.so.0.abi: additions pass (a new function in a new version node
# of lib/libberth.sym, a public struct grown at its end), anything else
# abidiff reports (a function removed or changed, a struct's members moved,
# resized or retyped) fails with abidiff's report. Skips (77) without
# abidiff (Debian: abigail-tools; scripts/install-deps installs it).
#   abi-check.sh                       this build against abi/libberth.so.0.abi
#   abi-check.sh BASELINE.abi LIB.so HEADERS_DIR   any pair (abi-selftest.sh)
# To record a new baseline at a release: see docs/architecture.md, "ABI".
set -u
command -v abidiff >/dev/null 2>&1 || { echo "abidiff not found (Debian: abigail-tools): skipped"; exit 77; }
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
baseline=${1:-$src/abi/libberth.so.0.abi}
lib=${2:-${top_builddir:-.}/lib/.libs/libberth.so}
headers=${3:-$src/include/berth}
suppressions=$src/abi/suppressions.abignore

[ -f "$baseline" ] || { echo "no baseline $baseline"; exit 1; }
[ -f "$lib" ] || { echo "no library $lib (build first)"; exit 1; }
report=$(abidiff --no-added-syms --suppressions "$suppressions" --headers-dir2 "$headers" \
	"$baseline" "$lib" 2>&1)
status=$?
# abidiff's status is a bit set: 1 error, 2 usage, 4 an ABI change, 8 an
# incompatible one; additions are suppressed, so a change left is a break
# (a struct's members moved is only "4" to abidiff, and a break to callers)
# unless every one is a struct grown at its end: a size change followed by
# member insertions, no member moved, removed or retyped.
only_grown() {
	echo "$report" | awk '
		/offset changed|deletion|type name changed|name of .* changed|type of .* changed|return type changed|[1-9][0-9]* Removed|alignment|enumerator/ { bad = 1 }
		want_insertion && NF { if ($0 !~ /data member insertion/) bad = 1; want_insertion = 0 }
		/type size changed from/ { want_insertion = 1; grew = 1 }
		END { exit !(grew && !bad && !want_insertion) }'
}
if [ $status -ne 0 ] && ! { [ $status -eq 4 ] && only_grown; }; then
	echo "ABI check failed (abidiff status $status) against $baseline:"
	echo "$report"
	exit 1
fi
[ $status -eq 0 ] || { echo "public structs grown at their end (compatible):"; echo "$report"; }
echo "ABI of $lib: compatible with $baseline"
