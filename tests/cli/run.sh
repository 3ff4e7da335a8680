#!/bin/sh
# Runs the bats suites of the example programs against the build tree.
if ! command -v bats >/dev/null 2>&1; then
	echo "bats not found (Debian: bats); skipping"; exit 77
fi
export BERTH="$top_builddir/examples/berth/berth"
export FORMAT_RENDER="$top_builddir/tests/cli/format-render"
exec bats --tap "$top_srcdir"/tests/cli/*.bats
