#!/bin/sh
# Feeds every fuzz target its seed corpus and its regression inputs once
# (tests/fuzz/corpus/<target>/, tests/fuzz/regressions/<target>/): a crash
# found by fuzzing and fixed stays fixed, in every build. A target that
# crashes, leaks (ASan builds) or trips a check fails the test.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fuzz
bin=${top_builddir:-.}/tests/fuzz
status=0
ran=0
# in sanitizer builds: leaks that are libseccomp's own (lsan.supp says which)
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/lsan.supp:print_suppressions=0}
export LSAN_OPTIONS
for dir in "$src"/corpus/*/; do
	target=$(basename "$dir")
	prog=$bin/fuzz-$target
	if [ ! -x "$prog" ]; then
		# fuzz-cgroup-resources needs Check (the fake cgroup trees)
		echo "# $target: not built here, skipped"
		continue
	fi
	set --
	for f in "$dir"* "$src/regressions/$target/"*; do
		[ -f "$f" ] && set -- "$@" "$f"
	done
	[ $# -gt 0 ] || { echo "FAIL: $target has no corpus"; status=1; continue; }
	if "$prog" "$@" > "$bin/replay-$target.log" 2>&1; then
		echo "ok: $target ($# inputs)"
		ran=$((ran + 1))
	else
		echo "FAIL: $target, see below"
		tail -40 "$bin/replay-$target.log"
		status=1
	fi
done
[ $ran -gt 0 ] || { echo "no fuzz target ran"; exit 1; }
exit $status
