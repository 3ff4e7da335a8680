#!/bin/sh
# berth rmi against the storage module, as root (issue 5: "remove, refused
# while a container uses it unless forced; blobs no longer referenced are
# freed"). A container's root file system is a storage snapshot of its image:
# - an image a snapshot was made from: rmi refused naming the snapshot, the
#   content store and the layer store unchanged;
# - the snapshot removed: rmi succeeds, the image's blobs and unpacked layers
#   are gone;
# - rmi -f with a snapshot: the image goes, the snapshot still mounts on the
#   layers it holds, and they go with the snapshot;
# - an image's last tag removed, then `berth image prune`: storage's hold
#   image:<manifest> leaves layers.json and the layers only that image held go,
#   while a tagged image keeps the layers it shares; an image a snapshot holds
#   keeps its blobs and layers through the prune until the snapshot goes.
# - holds (berth_image_hold): a snapshot's and anyone's are listed and named
#   in the refusal; a snapshot create killed after it took its hold leaves a
#   hold the next storage operation sweeps (not while the create lives); an
#   rmi killed after its untag leaves blobs the next operation frees.
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
# what berth_image_untag does: the tag's entry leaves index.json
untag() {
	"$py" -c 'import json, os, sys
p = sys.argv[1]
index = json.load(open(p))
index["manifests"] = [m for m in index["manifests"]
                      if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != sys.argv[2]]
json.dump(index, open(p + ".tmp", "w"))
os.rename(p + ".tmp", p)' "$root/content/index.json" "$1"
}
# the users layers.json lists for layer $1 (chain hex)
users() {
	"$py" -c 'import json, sys
print(" ".join(json.load(open(sys.argv[1]))["layers"].get("sha256:" + sys.argv[2], {}).get("users", [])))' \
		"$root/storage/layers.json" "$1"
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
grep -q "is held by storage:snapshot:berth-test-s1: release it first or force" "$tmp/out" ||
	die "rmi refusal does not name the snapshot: $(cat "$tmp/out")"
state > "$tmp/after"
cmp -s "$tmp/before" "$tmp/after" || die "a refused rmi changed the store: $(diff "$tmp/before" "$tmp/after")"
b images --digests | grep -q "$bb" || die "busybox is not listed after a refused rmi"
ok "rmi refused while snapshot berth-test-s1 uses the image ($(cat "$tmp/out")); store unchanged"
h holds busybox > "$tmp/holds" || die "listing the holds on busybox"
[ "$(cat "$tmp/holds")" = "$bb storage:snapshot:berth-test-s1" ] ||
	die "holds on busybox: $(cat "$tmp/holds")"
h hold "$bb" container:berth-test-c1 > /dev/null || die "holding busybox for container:berth-test-c1"
b rmi "$bb" > "$tmp/out" 2>&1 && die "rmi of an image two holders hold succeeded"
grep -q "is held by storage:snapshot:berth-test-s1, container:berth-test-c1: release them first" "$tmp/out" ||
	die "rmi refusal does not name both holders: $(cat "$tmp/out")"
h release-hold "$bb" container:berth-test-c1 || die "releasing container:berth-test-c1"
h release-hold "$bb" container:berth-test-c1 2> "$tmp/out" && die "a second release succeeded"
grep -q ENOTFOUND "$tmp/out" || die "a second release: $(cat "$tmp/out")"
ok "holds listed ($(cat "$tmp/holds")); a refusal names every holder"

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

# ---- untagged, then pruned ------------------------------------------------------
# zstd-extra: layered-zstd (tagged, unpacked) with one more layer of its own
mkdir "$tmp/extra"
echo extra > "$tmp/extra/extra"
tar -C "$tmp/extra" -cf "$tmp/extra.tar" extra
"$py" "$fixture" append "$root/content" layered-zstd zstd-extra "$tmp/extra.tar"
h unpack layered-zstd || die "unpacking layered-zstd"
shared=$(layers)
[ "$(echo $shared | wc -w)" -eq 3 ] || die "layered-zstd: expected 3 layers, got: $shared"
for round in plain snapshot; do
	zx=$(digest zstd-extra)
	h unpack zstd-extra || die "unpacking zstd-extra"
	own=$(layers | grep -vxF "$shared" || true)
	[ "$(echo $own | wc -w)" -eq 1 ] || die "zstd-extra: expected 1 layer of its own, got: $own"
	grep -q "\"image:$zx\"" "$root/storage/layers.json" || die "unpacking zstd-extra recorded no hold image:$zx"
	[ $round = plain ] || h snap-create berth-test-s3 zstd-extra auto || die "snapshot of zstd-extra"
	untag zstd-extra
	if [ $round = plain ]; then
		# gc's count of what it freed covers the unpacked layer it took
		# with the image (blocks, as du counts them)
		ownb=$(du -s -B1 "$root/storage/layers/$own" | cut -f1)
		set -- $(h gc) || die "gc"
		[ "$2" -ge "$ownb" ] || die "gc reported $2 bytes freed; the layer it removed alone held $ownb"
		echo "gc freed $1 blobs and reported $2 bytes, the layer $ownb of them" > "$tmp/out"
	else
		b image prune > "$tmp/out" 2>&1 || die "berth image prune: $(cat "$tmp/out")"
	fi
	# a snapshot's hold keeps the untagged image (its blobs, and so its
	# unpacked layers) until the snapshot goes
	if [ $round = plain ] && grep -q "\"image:$zx\"" "$root/storage/layers.json"; then
		die "prune ($round) left the hold image:$zx in layers.json: $(users "$own")"
	fi
	for l in $shared; do
		[ -d "$root/storage/layers/$l" ] || die "prune ($round) took layer $l, which layered-zstd holds"
		case " $(users "$l") " in
		*" image:$(digest layered-zstd) "*) ;;
		*) die "layer $l lost the hold of layered-zstd: users $(users "$l")" ;;
		esac
	done
	if [ $round = plain ]; then
		[ ! -e "$root/storage/layers/$own" ] || die "prune left layer $own, which only zstd-extra held"
		ok "untag + prune: hold image:$zx dropped, its own layer gone, the 3 shared kept ($(cat "$tmp/out"))"
		# the same image again, for the round with a snapshot
		"$py" "$fixture" append "$root/content" layered-zstd zstd-extra "$tmp/extra.tar"
	else
		[ "$(users "$own")" = "image:$zx snapshot:berth-test-s3" ] || die "layer $own has users $(users "$own")"
		[ -e "$root/content/blobs/sha256/${zx#sha256:}" ] || die "prune took the manifest a snapshot holds"
		p=$(h snap-mount berth-test-s3) || die "mounting snapshot berth-test-s3 after prune"
		[ "$(cat "$p/extra")" = extra ] || die "snapshot berth-test-s3 lost its top layer after prune"
		h snap-remove berth-test-s3 || die "removing snapshot berth-test-s3"
		[ ! -e "$root/storage/layers/$own" ] || die "layer $own stayed after its snapshot went"
		[ ! -e "$root/content/blobs/sha256/${zx#sha256:}" ] || die "the manifest stayed after its last holder went"
		grep -q "\"image:$zx\"" "$root/storage/layers.json" && die "the hold image:$zx stayed after the snapshot went"
		ok "untag + prune with a snapshot: the held image and its layers stay until the snapshot goes"
	fi
done

# ---- a snapshot create killed after its hold: swept, never while alive -------
# stopped(PID): waits until the process has stopped itself (SIGSTOP)
stopped() {
	for _ in $(seq 200); do
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ] && return 0
		sleep 0.05
	done
	return 1
}
mkdir "$tmp/ks"
echo ks > "$tmp/ks/ks"
tar -C "$tmp/ks" -cf "$tmp/ks.tar" ks
"$py" "$fixture" append "$root/content" layered-zstd kill-snap "$tmp/ks.tar"
ks=$(digest kill-snap)
BERTH_TEST_SNAPSHOT_STOP_AFTER_HOLD=1 "$helper" "$root" "$run" snap-create berth-test-k1 kill-snap auto &
pid=$!
stopped $pid || die "snapshot create did not reach its hold"
h holds kill-snap | grep -qx "$ks storage:snapshot:berth-test-k1" || die "the create took no hold: $(h holds)"
h unpack layered-zstd || die "unpacking layered-zstd (a sweep) while a create is under way"
h holds kill-snap | grep -qx "$ks storage:snapshot:berth-test-k1" ||
	die "a sweep took the hold of a live create: $(h holds)"
kill -9 $pid
wait $pid 2>/dev/null || true
b rmi "$ks" > "$tmp/out" 2>&1 && die "rmi of kill-snap succeeded while the dead create's hold is there"
h unpack layered-zstd || die "unpacking layered-zstd (a sweep) after the kill"
[ -z "$(h holds kill-snap)" ] || die "the hold of the killed create was not swept: $(h holds)"
b rmi "$ks" > /dev/null || die "rmi of kill-snap after the sweep"
ok "a snapshot create killed after its hold: kept while alive, swept after ($(cat "$tmp/out"))"

# ---- an rmi killed after its untag: the next operation frees the blobs -------
mkdir "$tmp/kr"
echo kr > "$tmp/kr/kr"
tar -C "$tmp/kr" -cf "$tmp/kr.tar" kr
"$py" "$fixture" append "$root/content" layered-zstd kill-rmi "$tmp/kr.tar"
kr=$(digest kill-rmi)
blobs_before=$(ls "$root/content/blobs/sha256" | wc -l)
BERTH_TEST_RMI_STOP_AFTER_UNTAG=1 "$helper" "$root" "$run" rmi "$kr" &
pid=$!
stopped $pid || die "rmi did not reach its untag"
kill -9 $pid
wait $pid 2>/dev/null || true
b images --digests | grep -q "$kr" && die "kill-rmi is still listed after its rmi was killed"
[ -e "$root/content/blobs/sha256/${kr#sha256:}" ] || die "the killed rmi freed the manifest already"
b tag "$(digest layered-zstd)" berth-test/next:1 || die "tagging (the next operation)"
[ ! -e "$root/content/blobs/sha256/${kr#sha256:}" ] || die "the next operation left kill-rmi's manifest"
blobs_after=$(ls "$root/content/blobs/sha256" | wc -l)
[ "$blobs_after" -eq $((blobs_before - 3)) ] ||
	die "kill-rmi's manifest, config and layer should have gone: $blobs_before -> $blobs_after blobs"
ok "an rmi killed after its untag: the next tag frees its 3 blobs"

echo "passed: $passed"
