#!/bin/sh
# Runs bats files of the example programs against the build tree: those
# given (make check passes one, see BATS_LOG_COMPILER), else all of them.
if ! command -v bats >/dev/null 2>&1; then
	echo "1..0 # SKIP bats not found (Debian: bats)"; exit 0
fi
export BERTH="$top_builddir/examples/berth/berth"
export FORMAT_RENDER="$top_builddir/tests/cli/format-render"
[ $# -gt 0 ] || set -- "$top_srcdir"/tests/cli/*.bats
exec bats --tap "$@"
