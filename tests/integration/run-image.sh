#!/bin/sh
# An image in the store runs as a container through the library alone
# (examples/c/run-image: snapshot + runtime), its exit status comes back, a
# missing image is a clear error, and nothing is left behind: no mount, no
# cgroup, no snapshot, no container state. Needs root, skopeo, busybox-static.
set -u
. "$top_srcdir/tests/integration/lib/bundle.sh"
bt_need_root
bt_need_tools skopeo
bt_busybox >/dev/null || exit 77
bt_tmp_setup run-image
run="$top_builddir/examples/c/run-image"
store="$BT_TMP/store"
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

/usr/bin/python3 "$top_srcdir/tests/integration/lib/registry-mkimage.py" "$BT_TMP/layout" >/dev/null
mkdir -p "$store/content"
skopeo copy -q "oci:$BT_TMP/layout:busybox" "oci:$store/content:localhost/busybox:latest"
bt_cleanup_add "bt_umount_under $store"

out=$("$run" "$store" localhost/busybox /bin/sh -c 'echo "in $(hostname) as pid $$"; exit 7' 2>&1)
rc=$?
[ "$out" = "in run-image as pid 1" ] && ok "the command ran as pid 1 of the container" || bad "output: $out"
[ "$rc" -eq 7 ] && ok "its exit status came back" || bad "exit status $rc, want 7"

out=$("$run" "$store" localhost/missing 2>&1)
rc=$?
[ "$rc" -ne 0 ] && echo "$out" | grep -q 'no image "localhost/missing"' &&
	ok "a missing image is a clear error" || bad "missing image: rc $rc, $out"

[ -z "$(bt_mounts_under "$store")" ] && ok "no mount left" || bad "mounts left: $(bt_mounts_under "$store")"
left=$(find /sys/fs/cgroup -maxdepth 3 -name 'run-image-*' 2>/dev/null)
[ -z "$left" ] && ok "no cgroup left" || bad "cgroups left: $left"
[ -z "$(ls -A "$store/run/containers" 2>/dev/null)" ] && ok "no container state left" ||
	bad "state left: $(ls "$store/run/containers")"
snaps=$(ls -A "$store/run/storage/snapshots" "$store/storage/snapshots" 2>/dev/null | grep -v ':$' | grep .)
[ -z "$snaps" ] && ok "no snapshot left" || bad "snapshots left: $snaps"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
