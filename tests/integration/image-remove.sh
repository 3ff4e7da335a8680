#!/bin/sh
# berth rmi against the storage module, as root (issue 5: "remove, refused
# while a container uses it unless forced; blobs no longer referenced are
# freed"). A container's root file system is a storage snapshot of its image:
# - an image a snapshot was made from: rmi refused naming the snapshot, the
#   content store and the layer store unchanged;
# - the snapshot removed: rmi succeeds, the image's blobs and unpacked layers
#   are gone;
# - rmi -f with a snapshot: the image goes, the snapshot still mounts on the
#   layers it holds, and they go with the snapshot.
# Images come from storage-fixture.py (offline); everything lives below a
# berth-test temp dir in a private mount namespace.
set -eu
STORAGE_TOOLS="unshare tar"
STORAGE_NAME=rmi
. "$(dirname "$0")/lib/storage.sh"
berth="$top_builddir/examples/berth/berth"
b() { "$berth" --root "$root" --runroot "$run" "$@"; }
layers() { ls "$root/storage/layers" | grep -v '^\.' || true; }
# the fixture tags images with bare names ("busybox"), which berth reads as
# docker.io/library/...: rmi takes them by manifest digest
digest() {
	"$py" -c 'import json, sys
for m in json.load(open(sys.argv[1]))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]:
        print(m["digest"])' "$root/content/index.json" "$1"
}
# what rmi may change: the content store and the layer store (paths, sizes,
# link targets; not times)
state() { (cd "$root" && find content storage -printf '%p %y %s %l\n' | sort); }

"$py" "$fixture" images "$root/content" "$busybox"
bb=$(digest busybox)
ly=$(digest layered)
[ -n "$bb" ] && [ -n "$ly" ] || die "the fixture made no busybox or layered image"

# ---- refused while a snapshot uses the image ----------------------------------
h unpack busybox || die "unpacking busybox"
bb_layers=$(layers)
[ -n "$bb_layers" ] || die "unpacking busybox left no layer"
h snap-create berth-test-s1 busybox auto || die "snapshot of busybox"
state > "$tmp/before"
b rmi "$bb" > "$tmp/out" 2>&1 && die "rmi of an image a snapshot uses succeeded"
grep -q "is used by snapshot berth-test-s1: remove it first or force" "$tmp/out" ||
	die "rmi refusal does not name the snapshot: $(cat "$tmp/out")"
state > "$tmp/after"
cmp -s "$tmp/before" "$tmp/after" || die "a refused rmi changed the store: $(diff "$tmp/before" "$tmp/after")"
b images --digests | grep -q "$bb" || die "busybox is not listed after a refused rmi"
ok "rmi refused while snapshot berth-test-s1 uses the image ($(cat "$tmp/out")); store unchanged"

# ---- the snapshot gone, the image goes with its blobs and layers -------------
h snap-remove berth-test-s1 || die "removing snapshot berth-test-s1"
[ "$(layers)" = "$bb_layers" ] || die "the image's own hold did not keep its layer"
blobs_before=$(ls "$root/content/blobs/sha256" | wc -l)
b rmi "$bb" > /dev/null || die "rmi of an unused image"
b images --digests | grep -q "$bb" && die "busybox is still listed after rmi"
for l in $bb_layers; do
	[ ! -e "$root/storage/layers/$l" ] || die "layer $l of busybox is still on disk after rmi"
done
blobs_after=$(ls "$root/content/blobs/sha256" | wc -l)
[ "$blobs_after" -lt "$blobs_before" ] || die "rmi freed no blob ($blobs_before -> $blobs_after)"
ok "snapshot removed: rmi frees $((blobs_before - blobs_after)) blobs and the layer $bb_layers"

# ---- forced: the image goes, the snapshot keeps its layers --------------------
before=$(layers)
h unpack layered || die "unpacking layered"
h snap-create berth-test-s2 layered auto || die "snapshot of layered"
ly_layers=$(layers)
b rmi "$ly" 2>/dev/null && die "rmi of layered with a snapshot succeeded"
b rmi -f "$ly" > /dev/null || die "rmi -f of an image a snapshot uses"
b images --digests | grep -q "$ly" && die "layered is still listed after rmi -f"
[ "$(layers)" = "$ly_layers" ] || die "rmi -f took layers the snapshot holds"
p=$(h snap-mount berth-test-s2) || die "mounting snapshot berth-test-s2 after rmi -f"
[ -n "$(ls -A "$p")" ] || die "snapshot berth-test-s2 mounts empty after rmi -f"
h snap-remove berth-test-s2 || die "removing snapshot berth-test-s2"
[ "$(layers)" = "$before" ] || die "the snapshot's layers stayed after it went: $(layers)"
ok "rmi -f with a snapshot: image gone, snapshot still mounts, its layers go with it"

echo "passed: $passed"
