#!/bin/sh
# Pull and unpack in one pass (berth_storage_pull) from a real registry
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
	reg_umount_all
	reg_cleanup
}
trap storage_cleanup EXIT
root=$REG_TMP/root
run=$REG_TMP/run
h() { "$helper" "$root" "$run" "$@"; }
berth="$top_builddir/examples/berth/berth"
# `berth image inspect` of IMAGE in ROOT against the store: each layer's
# DiffID is the config's rootfs.diff_ids[i] and RootFS lists them; with
# "unpacked", UnpackedSize is layers.json's size of its chain ID, > 0, and
# the bytes of the regular files in layers/<chain hex>/diff (each inode
# once), the top-level one their sum; with "none", all are null. The
# helper's berth_storage_layers agrees. Prints "<layers> <bytes>".
check_inspect() {
	"$berth" --root "$1" image inspect "$2" > "$REG_TMP/inspect.json" || die "inspect $2 in $1"
	"$helper" "$1" "$REG_TMP/run-inspect" layers "$2" > "$REG_TMP/layers.txt" || die "layers of $2 in $1"
	$PY - "$1" "$3" "$REG_TMP/inspect.json" "$REG_TMP/layers.txt" <<'PYEOF' || die "inspect $2 in $1 ($3)"
import hashlib, json, os, stat, sys
root, mode, inspect, helper = sys.argv[1:5]
img = json.load(open(inspect))[0]
blob = lambda d: json.load(open(os.path.join(root, "content/blobs", *d.split(":"))))
diff_ids = blob(img["Id"])["rootfs"]["diff_ids"]
manifest = blob(img["Digest"])
lj = os.path.join(root, "storage/layers.json")
stored = json.load(open(lj))["layers"] if os.path.exists(lj) else {}
lines = open(helper).read().splitlines()
def fail(msg):
    sys.exit(msg)
def measure(d):
    seen, total = set(), 0
    for top, dirs, files in os.walk(d):
        for f in files:
            st = os.lstat(os.path.join(top, f))
            if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total
if img["RootFS"] != {"Type": "layers", "Layers": diff_ids}:
    fail("RootFS %r, config has %r" % (img["RootFS"], diff_ids))
if len(img["Layers"]) != len(diff_ids) or len(lines) != len(diff_ids):
    fail("%d layers, %d helper lines, %d diff_ids" % (len(img["Layers"]), len(lines), len(diff_ids)))
chain, total = None, 0
for i, (l, did) in enumerate(zip(img["Layers"], diff_ids)):
    m = manifest["layers"][i]
    if (l["Digest"], l["MediaType"], l["Size"]) != (m["digest"], m["mediaType"], m["size"]):
        fail("Layers[%d] %r, manifest has %r" % (i, l, m))
    if l["DiffID"] != did:
        fail("Layers[%d].DiffID %s, config has %s" % (i, l["DiffID"], did))
    chain = did if chain is None else "sha256:" + hashlib.sha256((chain + " " + did).encode()).hexdigest()
    size = l["UnpackedSize"]
    if lines[i] != "%s %s %d" % (did, chain, -1 if size is None else size):
        fail("helper line %d: %r, inspect says %s %s %s" % (i, lines[i], did, chain, size))
    if mode == "none":
        if size is not None or chain in stored:
            fail("Layers[%d].UnpackedSize %r for a layer not unpacked" % (i, size))
        continue
    e = stored.get(chain)
    if e is None or e["diff_id"] != did:
        fail("layer %s not in layers.json as %s" % (chain, did))
    d = os.path.join(root, "storage/layers", chain.split(":")[1], "diff")
    if not (isinstance(size, int) and size > 0 and size == e["size"] == measure(d)):
        fail("Layers[%d].UnpackedSize %r, layers.json %r, %s holds %d" % (i, size, e["size"], d, measure(d)))
    total += size
if img["UnpackedSize"] != (None if mode == "none" else total):
    fail("UnpackedSize %r, layers sum to %d" % (img["UnpackedSize"], total))
print(len(diff_ids), total)
PYEOF
}
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
n=$(check_inspect "$root" "$R/berth-test/multi" unpacked)
ok "image inspect: DiffIDs, RootFS and UnpackedSize of each layer as stored (layers, bytes: $n)"
fails ENOTFOUND h layers "$R/berth-test/nosuch"
ok "berth_storage_layers_new of an unknown image: ENOTFOUND"

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
"$berth" --root "$REG_TMP/root3" pull -q --no-unpack "$R/berth-test/multi" > /dev/null ||
	die "pull --no-unpack"
had=$(ls -d "$REG_TMP/root3/storage" 2>/dev/null || true)
n=$(check_inspect "$REG_TMP/root3" "$R/berth-test/multi" none)
[ "$(ls -d "$REG_TMP/root3/storage" 2>/dev/null || true)" = "$had" ] || die "inspect made $REG_TMP/root3/storage"
ok "image inspect after pull --no-unpack: DiffIDs and RootFS, UnpackedSize null ($n)"
"$helper" "$REG_TMP/root3" "$REG_TMP/run3" pull "$R/berth-test/multi" || die "pull after --no-unpack"
[ "$(cd "$REG_TMP/root3/storage/layers" && ls | sort | tr '\n' ' ')" = "$before" ] ||
	die "stored blobs were not unpacked"
n3=$(check_inspect "$REG_TMP/root3" "$R/berth-test/multi" unpacked)
[ "$n3" = "$(check_inspect "$root" "$R/berth-test/multi" unpacked)" ] || die "unpacked from the store: $n3"
ok "image inspect after unpacking stored blobs: the sizes of the streamed unpack ($n3)"
"$berth" --root "$REG_TMP/root4" pull -q "$R/berth-test/busybox" > /dev/null || die "berth pull busybox"
n=$(check_inspect "$REG_TMP/root4" "$R/berth-test/busybox" unpacked)
ok "image inspect after berth pull (unpacking) of busybox ($n)"
h pull "$R/berth-test/busybox" || die "pull busybox"
p=$(h mount "$R/berth-test/busybox") || die "mounting busybox"
[ -x "$p/bin/busybox" ] || die "busybox missing in $p"
h unmount "$R/berth-test/busybox"
ok "pulling again reads no blob of a layer it has; stored blobs get unpacked; busybox pulled and mounted"
echo "$passed passed, 0 failed"
