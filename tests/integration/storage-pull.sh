#!/bin/sh
# Pull and unpack in one pass (berth_image_pull_unpack) from a real registry
# (Debian's docker-registry on 127.0.0.1, seeded by skopeo with the registry
# tests' offline images): the unpacked root file system of the multi-layer
# image (whiteouts, opaque dir, hardlinks, symlinks, xattrs) is the same as
# umoci's; the layers are the ones a plain unpack makes; a second pull
# unpacks nothing new. As root, in a private mount namespace.
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (owners, overlay mounts)"; exit 77
fi
command -v umoci >/dev/null 2>&1 || { echo "SKIP: umoci is not installed"; exit 77; }
if [ -z "${BERTH_TEST_IN_NS:-}" ]; then
	BERTH_TEST_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib/registry.sh"
helper="$top_builddir/tests/integration/storage-helper"
fixture="$top_srcdir/tests/integration/storage-fixture.py"
reg_setup
# every mount below the temp dir goes before the fixture removes it
storage_cleanup() {
	awk -v t="$REG_TMP/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	reg_cleanup
}
trap storage_cleanup EXIT
root=$REG_TMP/root
run=$REG_TMP/run
h() { "$helper" "$root" "$run" "$@"; }
reg_images
reg_start plain plain
R=$REG_ADDR
reg_seed "$R" busybox berth-test/busybox
reg_seed "$R" multi berth-test/multi
ok "registry at $R seeded"

umoci unpack --image "$REG_TMP/layout:multi" "$REG_TMP/umoci" > "$REG_TMP/umoci.log" 2>&1 ||
	die "umoci unpack: $(cat "$REG_TMP/umoci.log")"
h pull "$R/berth-test/multi" || die "pull + unpack of multi"
[ -z "$(ls -A "$root/storage/layers" | grep '^\.')" ] || die "temp directories left in the layer store"
p=$(h mount "$R/berth-test/multi") || die "mounting multi"
$PY "$fixture" compare "$REG_TMP/umoci/rootfs" "$p" > "$REG_TMP/cmp" || die "differs from umoci: $(cat "$REG_TMP/cmp")"
ok "multi pulled and unpacked in one pass: $(tail -n1 "$REG_TMP/cmp") against umoci"
h unmount "$R/berth-test/multi"

# the same layers as a separate unpack of the same blobs makes
before=$(cd "$root/storage/layers" && ls | sort | tr '\n' ' ')
rm -rf "$REG_TMP/root2"; mkdir -p "$REG_TMP/root2"
cp -a "$root/content" "$REG_TMP/root2/content"
"$helper" "$REG_TMP/root2" "$REG_TMP/run2" unpack "$R/berth-test/multi" || die "unpack from the store"
after=$(cd "$REG_TMP/root2/storage/layers" && ls | sort | tr '\n' ' ')
[ "$before" = "$after" ] || die "streamed layers $before, unpacked $after"
for d in $before; do
	$PY "$fixture" compare "$REG_TMP/root2/storage/layers/$d/diff" "$root/storage/layers/$d/diff" > "$REG_TMP/cmp" ||
		die "layer $d differs: $(cat "$REG_TMP/cmp")"
done
ok "the streamed layers are those unpack makes from the store ($(echo $before | wc -w) layers)"

# a second pull does not read the blobs of layers it has: spoil the largest
# one (same size, so the store still takes it as present); pulling again
# must not notice
big=$(ls -S "$root"/content/blobs/sha256/* | head -n1)
cp "$big" "$REG_TMP/big.orig"
printf 'spoiled' | dd of="$big" bs=1 seek=4096 conv=notrunc 2>/dev/null
h pull "$R/berth-test/multi" || die "second pull"
[ "$(cd "$root/storage/layers" && ls | sort | tr '\n' ' ')" = "$before" ] || die "a second pull changed the layers"
cp "$REG_TMP/big.orig" "$big"
# blobs stored without their layers (pull --no-unpack) are unpacked from the store
"$top_builddir/examples/berth/berth" --root "$REG_TMP/root3" pull -q --no-unpack "$R/berth-test/multi" > /dev/null ||
	die "pull --no-unpack"
"$helper" "$REG_TMP/root3" "$REG_TMP/run3" pull "$R/berth-test/multi" || die "pull after --no-unpack"
[ "$(cd "$REG_TMP/root3/storage/layers" && ls | sort | tr '\n' ' ')" = "$before" ] ||
	die "stored blobs were not unpacked"
h pull "$R/berth-test/busybox" || die "pull busybox"
p=$(h mount "$R/berth-test/busybox") || die "mounting busybox"
[ -x "$p/bin/busybox" ] || die "busybox missing in $p"
h unmount "$R/berth-test/busybox"
ok "pulling again reads no blob of a layer it has; stored blobs get unpacked; busybox pulled and mounted"
echo "$passed passed, 0 failed"
