#!/bin/sh
# Runs volume-api.c (the volume module's public API) on a fresh store in a
# mount namespace of its own; then checks no mount below the store is left.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$(cd "$here/../.." && pwd)}"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
if [ -z "${BERTH_TEST_IN_NS:-}" ]; then
	BERTH_TEST_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
T=$(mktemp -d /tmp/berth-vol-api-XXXXXX)
trap 'grep -o " $T/[^ ]*" /proc/self/mounts | sort -r | xargs -r umount -l; rm -rf "$T"' EXIT
# what the test leaves of berth's (lib/leaks.sh): checked at the end
. "$here/lib/leaks.sh"
bt_leaks_begin "$T"
mkdir -p "$T/scratch"
timeout -k 5 300 "$top_builddir/tests/integration/volume-api" "$T/root" "$T/run" "$T/scratch"
if grep -q " $T/root" /proc/self/mounts; then
	echo "FAIL: mounts left: $(grep " $T/root" /proc/self/mounts)"
	exit 1
fi
echo "ok: no mount left"
bt_leaks_end
