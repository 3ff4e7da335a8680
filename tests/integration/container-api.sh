#!/bin/sh
# Runs container-api.c (the engine's public API from two threads) on a store
# holding busybox made offline; then checks nothing of berth's is left: no
# mount below the store, no cgroup, no monitor.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$(cd "$here/../.." && pwd)}"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v skopeo >/dev/null || { echo "SKIP: skopeo is not installed"; exit 77; }
if [ -z "${BERTH_TEST_IN_NS:-}" ]; then
	# a mount namespace of its own: the snapshots' mounts die with it
	BERTH_TEST_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
T=$(mktemp -d /tmp/berth-ct-api-XXXXXX)
trap 'grep -o " $T/[^ ]*" /proc/self/mounts | sort -r | xargs -r umount -l; rm -rf "$T"' EXIT
# what the test leaves of berth's (lib/leaks.sh): checked at the end
. "$here/lib/leaks.sh"
bt_leaks_begin "$T"
export BERTH_MONITOR="$top_builddir/lib/container/berth-monitor"
export BERTH_DATADIR="$here/../../data"
/usr/bin/python3 "$here/lib/registry-mkimage.py" "$T/layout" > /dev/null
mkdir -p "$T/root/content"
skopeo copy -q "oci:$T/layout:busybox" "oci:$T/root/content:docker.io/library/busybox:latest"
timeout -k 5 300 "$top_builddir/tests/integration/container-api" "$T/root" "$T/run" busybox
if grep -q " $T/run/storage/snapshots" /proc/self/mounts; then
	echo "FAIL: snapshot mounts left: $(grep " $T/run/storage/snapshots" /proc/self/mounts)"
	exit 1
fi
if pgrep -f "berth-monitor --root $T/" > /dev/null; then
	echo "FAIL: monitors left: $(pgrep -af "berth-monitor --root $T/")"
	exit 1
fi
ls "$T/run/runtime" 2>/dev/null | grep . && { echo "FAIL: runtime state left"; exit 1; }
echo "ok: no mount, monitor or runtime state left"
bt_leaks_end
