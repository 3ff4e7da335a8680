# The start the storage tests share (storage.sh, image-remove.sh), sourced
# after `set -eu` with STORAGE_TOOLS (commands the test needs besides
# busybox-static) and STORAGE_NAME (part of the temp dir's name) set:
# skips (77) unless root with those tools; re-runs the test in a private
# mount namespace; makes $tmp (berth-test-*) with $root and $run below it,
# unmounted and removed on exit; sets $busybox, $helper, $fixture, $py and
# gives ok, die and h (storage-helper on $root and $run).
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (overlay mounts, owners, trusted.* xattrs, device nodes)"; exit 77
fi
for tool in $STORAGE_TOOLS; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "SKIP: busybox-static is not installed"; exit 77; }
if [ -z "${BERTH_TEST_IN_NS:-}" ]; then
	BERTH_TEST_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

helper="$top_builddir/tests/integration/storage-helper"
fixture="$top_srcdir/tests/integration/storage-fixture.py"
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "/tmp/berth-test-$STORAGE_NAME-XXXXXX")
root="$tmp/root"
run="$tmp/run"
cleanup() {
	# innermost first: every mount we made lives below $tmp
	if [ -d "$tmp" ]; then
		awk -v t="$tmp/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
			while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
die() { echo "FAIL: $*"; exit 1; }
h() { "$helper" "$root" "$run" "$@"; }
