#!/bin/sh
# The storage module against umoci and against hostile layers, as root:
# - parity: the root file system berth makes of each test image (overlay
#   mounted read-only, overlay snapshot, copy snapshot) is the same as
#   `umoci unpack`'s in paths, types, modes, owners, sizes, content, link
#   targets and xattrs (storage-fixture.py compare, on the merged view);
# - a layer shared by two images is on disk once and goes with its last user;
# - images with more layers than a mount option page holds still mount;
# - each hostile layer is refused with a clear error, nothing is written
#   outside the layer (a canary directory), and the store is unchanged;
# - a snapshot's diff applied on its image reproduces the snapshot.
# Everything runs in a private mount namespace below a berth-test temp dir;
# mounts are also unmounted by their exact paths in the trap.
set -eu
STORAGE_TOOLS="umoci zstd unshare tar"
STORAGE_NAME=storage
. "$(dirname "$0")/lib/storage.sh"
layout="$root/content"
compare() { # compare EXPECTED ACTUAL WHAT
	"$py" "$fixture" compare "$1" "$2" > "$tmp/compare.out" ||
		die "$3 differs from umoci's: $(cat "$tmp/compare.out")"
	tail -n1 "$tmp/compare.out"
}

"$py" "$fixture" images "$layout" "$busybox"

# ---- parity with umoci -------------------------------------------------------
for img in busybox layered; do
	umoci unpack --image "$layout:$img" "$tmp/umoci-$img" > "$tmp/umoci.log" 2>&1 ||
		die "umoci unpack $img: $(cat "$tmp/umoci.log")"
done
for img in busybox layered layered-zstd; do
	ref=${img%-zstd}
	h unpack "$img" || die "unpacking $img"
	p=$(h mount "$img") || die "mounting $img"
	compare "$tmp/umoci-$ref/rootfs" "$p" "$img mounted read-only"
	ok "$img: read-only overlay mount matches umoci ($p)"
	[ "$(h mount "$img")" = "$p" ] || die "mounting $img twice gave another path"
	touch "$p/x" 2>/dev/null && die "the read-only mount of $img is writable"
	for driver in overlay copy; do
		h snap-create "$driver-$img" "$img" "$driver" || die "snapshot $driver of $img"
		q=$(h snap-mount "$driver-$img") || die "mounting snapshot $driver-$img"
		compare "$tmp/umoci-$ref/rootfs" "$q" "$img snapshot ($driver)"
		ok "$img: $driver snapshot matches umoci"
	done
done
[ -c "$p/dev/null" ] && [ -p "$p/run.fifo" ] && [ -u "$p/bin/suid" ] ||
	die "device, fifo or setuid bit missing in layered"
[ "$("$py" -c 'import os,sys; print(os.getxattr(sys.argv[1], "trusted.berth").decode())' "$p/xattrs")" = t ] ||
	die "trusted xattr lost"

# ---- gzip members, each inflater -------------------------------------------------
# ISA-L where this build has it (berth_has_feature("isal")), zlib always
engines=zlib
if "$top_builddir/examples/berth/berth" info | grep -q '^inflate.gzip *isa-l$'; then
	engines="isal zlib"
	[ "$(BERTH_INFLATE=zlib "$top_builddir/examples/berth/berth" info | sed -n 's/^inflate.gzip *//p')" = zlib ] ||
		die "BERTH_INFLATE=zlib: berth info still names another inflater"
fi
"$py" "$fixture" members "$layout" members
for engine in $engines; do
	BERTH_INFLATE=$engine h unpack members || die "$engine: unpacking a layer of three gzip members"
	p=$(h mount members) || die "mounting members"
	[ "$(cat "$p/m/two")" = "second member" ] && [ "$(stat -c %s "$p/m/one")" -eq 70000 ] &&
		[ "$(stat -c %s "$p/m/three")" -eq 3000 ] || die "$engine: the members' layer lacks content"
	h unmount members && h release members || die "releasing members"
	ok "$engine: a layer of three gzip members and trailing zeros unpacks (its diff_id checked)"
done

# ---- layers shared and counted -------------------------------------------------
# layered and layered-zstd have the same diff_ids: the same chain IDs
nlayers=$(ls "$root/storage/layers" | grep -vc '^\.' || true)
[ "$nlayers" -eq 4 ] || die "expected 4 layers on disk (busybox 1, layered 3 shared), got $nlayers"
ok "a layer shared by two images is on disk once (4 layer directories for 3 images)"
h release layered 2>"$tmp/err" && die "releasing a mounted image succeeded"
grep -q EBUSY "$tmp/err" || die "unexpected: $(cat "$tmp/err")"
h unmount layered || die "unmounting layered"
h unmount layered 2>/dev/null && die "unmounting twice succeeded"
h release layered || die "releasing layered"
[ "$(ls "$root/storage/layers" | grep -vc '^\.')" -eq 4 ] || die "layers went while layered-zstd holds them"
for d in overlay copy; do h snap-remove "$d-layered" || die "removing snapshot $d-layered"; done
h unmount layered-zstd || die "unmounting layered-zstd"
h release layered-zstd || die "releasing layered-zstd"
[ "$(ls "$root/storage/layers" | grep -vc '^\.')" -eq 4 ] || die "layers went while snapshots of layered-zstd hold them"
for d in overlay copy; do h snap-remove "$d-layered-zstd" || die "removing snapshot $d-layered-zstd"; done
[ "$(ls "$root/storage/layers" | grep -vc '^\.')" -eq 1 ] || die "the last user went and the layers stayed"
ok "layers stay while an image or snapshot uses them and go with the last user"
h release layered 2>/dev/null && die "releasing a released image succeeded"

# ---- many layers ---------------------------------------------------------------
"$py" "$fixture" many "$layout" many50 50
"$py" "$fixture" many "$layout" many200 200
p=$(h mount many50) || die "mounting 50 layers (lowerdir+)"
[ "$(cat "$p/top")" = "written by layer 49" ] && [ "$(ls "$p/layers" | wc -l)" -eq 50 ] ||
	die "50-layer image shows the wrong content"
h unmount many50
p=$(BERTH_TEST_OVERLAY_LEGACY=1 h mount many50) || die "mounting 50 layers with mount(2) and short links"
[ "$(cat "$p/top")" = "written by layer 49" ] && [ "$(ls "$p/layers" | wc -l)" -eq 50 ] ||
	die "50-layer image (short links) shows the wrong content"
[ "$(ls "$root/storage/l" | wc -l)" -ge 50 ] || die "no short links were made"
h unmount many50
ok "50 layers (over 4096 bytes of lowerdir) mount with lowerdir+ and with short links"
h snap-create many200 many200 overlay || die "snapshot of 200 layers"
p=$(h snap-mount many200) || die "mounting 200 layers"
[ "$(cat "$p/top")" = "written by layer 199" ] && [ "$(ls "$p/layers" | wc -l)" -eq 200 ] ||
	die "200-layer snapshot shows the wrong content"
h snap-remove many200
ok "a snapshot of 200 layers mounts"

# ---- hostile layers -----------------------------------------------------------------
canary="$tmp/canary"
mkdir -p "$canary"
echo keep > "$canary/keep"
hostile=$("$py" "$fixture" hostile "$layout" "$canary")
snapshot_store() {
	(cd "$root/storage" && find . -printf '%p %y %s\n' | sort && cat layers.json) > "$1"
	(cd "$tmp" && find canary -printf '%p %y %s %T@\n' | sort) >> "$1"
}
snapshot_store "$tmp/before"
expect() { # expect TAG CODE TEXT [no-devices]
	tag=$1 code=$2 text=$3
	if h unpack "$tag" ${4:-} 2> "$tmp/err"; then die "hostile image $tag was accepted"; fi
	grep -q "storage-helper: $code: " "$tmp/err" || die "$tag: expected $code: $(cat "$tmp/err")"
	grep -q -- "$text" "$tmp/err" || die "$tag: expected \"$text\": $(cat "$tmp/err")"
	snapshot_store "$tmp/after"
	cmp -s "$tmp/before" "$tmp/after" || die "$tag changed the store or canary: $(diff "$tmp/before" "$tmp/after")"
	[ ! -e "$tmp/evil" ] && [ ! -e /evil ] && [ ! -e "$canary/evil" ] || die "$tag wrote outside the layer"
	ok "$tag refused: $(sed 's/^storage-helper: //; s/unpacking image [^:]*: //; s/ into [^:]*: /: /' "$tmp/err")"
}
expect traversal ESCAPE '".." components are not allowed'
expect traversal-deep ESCAPE '".." components are not allowed'
expect absolute ESCAPE 'absolute paths are not allowed'
expect symlink-absolute ESCAPE 'leads outside the root'
expect symlink-relative ESCAPE 'leads outside the root'
expect symlink-nested ESCAPE 'leads outside the root'
expect hardlink-absolute ESCAPE 'absolute paths are not allowed'
expect hardlink-dotdot ESCAPE '".." components are not allowed'
expect hardlink-symlink ESCAPE 'leads outside the root'
expect whiteout-dotdot ESCAPE 'which is not an entry of its directory'
expect huge-component EINVAL 'longer than NAME_MAX'
expect huge-path EINVAL 'longer than PATH_MAX'
# the gzip stream's own checks, through ISA-L and through zlib (the fallback)
for engine in $engines; do
	export BERTH_INFLATE=$engine
	expect truncated-gzip EINVAL 'truncated gzip stream'
	expect gzip-bad-crc EINVAL 'CRC-32'
	expect gzip-bad-isize EINVAL 'length (ISIZE)'
	expect gzip-trailing-garbage EINVAL 'after gzip member 1 that is not a gzip member'
	expect gzip-bomb-file EINTEGRITY 'the image config says'
	expect gzip-bomb-tail EINTEGRITY 'the image config says'
done
unset BERTH_INFLATE
expect wrong-diffid EINTEGRITY 'the image config says'
expect wrong-mediatype EINVAL 'says zstd, but the content is gzip'
expect device EPERM 'device nodes are not allowed' no-devices
expect layered-zstd ECANCELED 'canceled' cancel
n=$(echo "$hostile" | wc -w)
[ "$n" -eq 20 ] || die "the fixture made $n hostile images, this test checks 20 (+ device, cancel)"

# ---- diffs ----------------------------------------------------------------------------
for driver in overlay copy; do
	id="diff-$driver"
	h snap-create "$id" layered "$driver" || die "snapshot $id"
	q=$(h snap-mount "$id")
	echo added > "$q/added"                       # a new file
	echo changed >> "$q/etc/config"               # a changed file (copied up)
	rm "$q/xattrs"                                # a deleted file
	rm -r "$q/usr/lib"                            # a deleted directory
	rm -rf "$q/home/user" && mkdir "$q/home/user" # a directory replaced: opaque
	echo fresh > "$q/home/user/fresh"
	chmod 4711 "$q/bin/busybox"                   # metadata only
	chown 1000:1000 "$q/new-top"
	ln "$q/added" "$q/added-link"                 # a hardlink
	ln -s ../added "$q/etc/to-added"              # a symlink
	mkfifo "$q/etc/fifo2"
	"$py" -c 'import os,sys; os.setxattr(sys.argv[1], "user.diff", b"yes")' "$q/added"
	h snap-diff "$id" "$tmp/$id.tar" || die "diff of $id"
	tar -tf "$tmp/$id.tar" > "$tmp/$id.list" 2>/dev/null
	grep -qx 'xattrs\|\.wh\.xattrs' "$tmp/$id.list" || die "$driver diff lacks the whiteout of xattrs: $(cat "$tmp/$id.list")"
	grep -q 'usr/\.wh\.lib' "$tmp/$id.list" || die "$driver diff lacks the whiteout of usr/lib"
	grep -q 'etc/config' "$tmp/$id.list" || die "$driver diff lacks etc/config"
	grep -q 'bin/sh$' "$tmp/$id.list" && die "$driver diff has bin/sh, which did not change"
	"$py" "$fixture" append "$layout" layered "applied-$driver" "$tmp/$id.tar"
	h unpack "applied-$driver" || die "unpacking layered + the $driver diff"
	p=$(h mount "applied-$driver") || die "mounting applied-$driver"
	compare "$q" "$p" "layered + the $driver diff" >/dev/null
	ok "$driver: the diff ($(wc -l < "$tmp/$id.list") entries) applied on the image reproduces the snapshot"
	h snap-export "$id" "$tmp/$id-export.tar" || die "export of $id"
	mkdir "$tmp/export-$driver"
	tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$tmp/$id-export.tar" -C "$tmp/export-$driver" \
		2>/dev/null # GNU tar warns of libarchive's duplicate LIBARCHIVE.xattr keys
	"$py" "$fixture" compare "$q" "$tmp/export-$driver" > "$tmp/compare.out" ||
		die "export of $id differs: $(cat "$tmp/compare.out")"
	ok "$driver: export, extracted with tar, is the snapshot's file system"
	h unmount "applied-$driver"
	h snap-remove "$id"
done

# ---- the example CLI --------------------------------------------------------------------
berth() { "$top_builddir/examples/berth/berth" --root "$root" --runroot "$run" "$@"; }
p=$(berth image mount busybox) || die "berth image mount busybox"
[ -x "$p/bin/busybox" ] && [ "$(readlink "$p/bin/sh")" = busybox ] || die "berth image mount: $p lacks busybox"
berth image unmount busybox > /dev/null || die "berth image unmount busybox"
[ -e "$p" ] && die "berth image unmount left $p"
berth system df > "$tmp/sysdf" || die "berth system df"
grep -q '^Layers ' "$tmp/sysdf" && grep -q '^Containers ' "$tmp/sysdf" || die "berth system df: $(cat "$tmp/sysdf")"
ok "berth image mount / image unmount / system df"

h df > "$tmp/df" || die "df"
grep -q '^layers ' "$tmp/df" || die "df lacks layers: $(cat "$tmp/df")"
ok "df: $(tr '\n' ';' < "$tmp/df")"
echo "$passed passed, 0 failed"
