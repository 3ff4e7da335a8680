#!/bin/sh
# Findings of issue 11, each as the user met it, with berth pulling from a
# real registry (Debian's docker-registry on 127.0.0.1, seeded by skopeo
# with the offline test images) and SIGKILL at points spread over the
# operation's measured length:
# 1. rmi killed while it removes layers, then pull: the image's tree is
#    whole (a half-removed layer directory is never adopted);
# 3. pulls killed while downloading leave blob temp files: `system df`
#    counts them reclaimable, the next pull sweeps them, `image prune`
#    reports the bytes it freed;
# 4. atomic writes killed leave .layers.json.tmp*: the next operation that
#    takes the storage lock sweeps them; an image mount that changes
#    nothing does not rewrite layers.json;
# 6. a rejected reference creates nothing in the store.
# As root, in a private mount namespace; everything below a temp dir,
# unmounted and removed on exit; the processes it kills are its own, by PID.
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (overlay mounts, owners)"; exit 77
fi
if [ -z "${BERTH_TEST_IN_NS:-}" ]; then
	BERTH_TEST_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib/registry.sh"
berth="$top_builddir/examples/berth/berth"
helper="$top_builddir/tests/integration/storage-helper"
reg_setup
pids=
store_cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	reg_umount_all
	reg_cleanup
}
trap store_cleanup EXIT
root=$REG_TMP/root
run=$REG_TMP/run
b() { "$berth" --root "$root" --runroot "$run" "$@"; }
manifest() { PYTHONPATH="$REG_LIB" $PY -m tree_manifest "$1"; }
# ms since the epoch
now() { echo $(($(date +%s%N) / 1000000)); }
# killed DELAY_MS CMD...: CMD in the background, SIGKILLed after DELAY_MS;
# true when the kill found it still running
killed() {
	d=$1
	shift
	"$@" > /dev/null 2>&1 &
	p=$!
	pids="$pids $p"
	sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
	if kill -9 "$p" 2>/dev/null; then
		wait "$p" 2>/dev/null || true
		return 0
	fi
	wait "$p" 2>/dev/null || true
	return 1
}

reg_images
reg_start plain plain
R=$REG_ADDR
reg_seed "$R" many berth-test/many
reg_seed "$R" multi berth-test/multi
I=$R/berth-test/many
ok "registry at $R seeded"

# the reference: the image's tree from a pull into a brand-new store
"$berth" --root "$REG_TMP/ref" --runroot "$REG_TMP/refrun" pull -q "$I" > /dev/null || die "reference pull"
p=$("$berth" --root "$REG_TMP/ref" --runroot "$REG_TMP/refrun" image mount "$I") || die "reference mount"
manifest "$p" > "$REG_TMP/ref.txt"
"$berth" --root "$REG_TMP/ref" --runroot "$REG_TMP/refrun" image unmount "$I" > /dev/null || die "reference unmount"

# ---- 6. a rejected reference touches nothing -----------------------------------
fresh=$REG_TMP/fresh
for ref in 'a//b' 'x/UPPER' 'x:' ''; do
	"$berth" --root "$fresh" --runroot "$REG_TMP/freshrun" pull "$ref" > "$REG_TMP/out" 2>&1 &&
		die "pull '$ref' succeeded"
	grep -qi "reference" "$REG_TMP/out" || die "pull '$ref': no clear error: $(cat "$REG_TMP/out")"
	[ ! -e "$fresh" ] || die "pull '$ref' created $(cd "$fresh" && find . | tr '\n' ' ')"
done
ok "4 rejected references left no trace of a store"

# ---- 1. rmi killed while it removes layers, then pull --------------------------
# how long an rmi takes: the shorter of two
T=
for i in 1 2; do
	b pull -q "$I" > /dev/null || die "pull"
	t0=$(now)
	b rmi "$I" > /dev/null || die "rmi"
	t=$(($(now) - t0))
	[ -n "$T" ] && [ "$T" -le "$t" ] || T=$t
done
# Kills spread over the rmi's length; one that finds rmi ended shows that rmi
# took less than its delay, so T shrinks to it (under a sanitizer build and a
# parallel make check an rmi's length varies several times over). Goes on
# until n kills landed mid-way, at most 4n tries.
wrong=0 landed=0 tries=0 n=12
while [ "$landed" -lt "$n" ] && [ "$tries" -lt $((4 * n)) ]; do
	tries=$((tries + 1))
	b pull -q "$I" > /dev/null || die "pull before kill $tries"
	d=$((T * (tries % 9 + 1) / 10))
	if killed "$d" "$berth" --root "$root" --runroot "$run" rmi "$I"; then
		landed=$((landed + 1))
	else
		T=$d
	fi
	b pull -q "$I" > "$REG_TMP/out" 2>&1 || die "pull after rmi killed at $d ms: $(cat "$REG_TMP/out")"
	if ! p=$(b image mount "$I" 2> "$REG_TMP/err"); then
		wrong=$((wrong + 1))
		echo "  rmi killed at $d ms: mount failed: $(cat "$REG_TMP/err")"
		continue
	fi
	manifest "$p" > "$REG_TMP/got.txt"
	b image unmount "$I" > /dev/null || die "unmount"
	if ! cmp -s "$REG_TMP/ref.txt" "$REG_TMP/got.txt"; then
		wrong=$((wrong + 1))
		echo "  rmi killed at $d ms: $(diff "$REG_TMP/ref.txt" "$REG_TMP/got.txt" | grep -c '^<') of $(wc -l < "$REG_TMP/ref.txt") entries wrong"
	fi
done
# a sanity check that the kills hit rmi mid-way, not a measure
[ "$landed" -ge "$n" ] || die "only $landed of $tries kills landed while rmi ran (down to $T ms)"
[ "$wrong" -eq 0 ] || die "$wrong of $tries pulls after a killed rmi gave a wrong tree"
ok "$tries rmis killed ($landed while running, rmi down to $T ms), each pull after gave the whole tree"

# ---- 3. killed pulls leave blob temp files ---------------------------------------
M=$R/berth-test/multi
r3=$REG_TMP/root3
blobs=$r3/content/blobs/sha256
"$berth" --root "$REG_TMP/timing" --runroot "$REG_TMP/timingrun" pull -q "$M" > /dev/null || die "pull multi"
t0=$(now)
"$berth" --root "$REG_TMP/timing2" --runroot "$REG_TMP/timingrun" pull -q "$M" > /dev/null || die "pull multi"
T=$(($(now) - t0))
# bytes of the temp files in blobs/, and their number
temps() { find "$blobs" -maxdepth 1 -name '.tmp-*' -printf '%s\n' 2>/dev/null | awk '{ n++; s += $1 } END { print n + 0, s + 0 }'; }
# sum of the sizes of every file in blobs/
blob_bytes() { find "$blobs" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
# pulls killed at points over their length until one leaves temp files
# (each pull sweeps what the ones before it left)
kill_pulls() {
	for i in 2 4 6 3 5 7 1 8; do
		killed $((T * i / 10)) "$berth" --root "$r3" --runroot "$REG_TMP/run3" pull -q "$M" || true
		[ "$(temps | cut -d" " -f2)" -eq 0 ] || return 0
	done
	die "8 pulls killed over their length ($T ms) left no blob temp file with bytes in it"
}
kill_pulls
set -- $(temps)
left=$1 bytes=$2
df=$("$helper" "$r3" "$REG_TMP/run3" df) || die "df"
rec=$(echo "$df" | awk '$1 == "images" { print $4 }')
[ "$rec" -eq "$bytes" ] || die "system df: images reclaimable $rec, the $left blob temp files hold $bytes bytes"
"$berth" --root "$r3" --runroot "$REG_TMP/run3" pull -q "$M" > /dev/null || die "pull after the kills"
set -- $(temps)
[ "$1" -eq 0 ] || die "$1 blob temp files ($2 bytes) stayed after a good pull"
ok "killed pulls left $left blob temp files ($bytes bytes): df counted them reclaimable, the next pull removed them"
"$berth" --root "$r3" --runroot "$REG_TMP/run3" rmi "$M" > /dev/null || die "rmi multi"
kill_pulls
set -- $(temps)
before=$(blob_bytes)
out=$("$helper" "$r3" "$REG_TMP/run3" gc) || die "gc"
after=$(blob_bytes)
[ "$(echo "$out" | cut -d' ' -f2)" -eq $((before - after)) ] ||
	die "gc reported $(echo "$out" | cut -d' ' -f2) bytes freed, blobs/ shrank by $((before - after))"
[ "$((before - after))" -ge "$2" ] || die "gc freed $((before - after)) bytes, the temp files alone held $2"
set -- $(temps)
[ "$1" -eq 0 ] || die "gc left $1 blob temp files"
ok "gc after more killed pulls reported the $((before - after)) bytes it freed, temp files included"

# ---- 4. layers.json: its temp files swept, not rewritten when unchanged ---------
b pull -q "$I" > /dev/null || die "pull"
ino=$(stat -c %i "$root/storage/layers.json")
for i in 1 2 3; do
	b image mount "$I" > /dev/null || die "image mount"
	b image unmount "$I" > /dev/null || die "image unmount"
done
[ "$(stat -c %i "$root/storage/layers.json")" = "$ino" ] ||
	die "3 image mounts of a pulled image rewrote layers.json (it said the same)"
ino=$(stat -c %i "$root/content/index.json")
b pull -q "$I" > /dev/null || die "pull again"
[ "$(stat -c %i "$root/content/index.json")" = "$ino" ] || die "pulling an image tagged so already rewrote index.json"
ok "image mounts and a pull that change nothing leave layers.json and index.json as they are"
# what a write killed between its temp file and the rename leaves
echo '{"layers":{' > "$root/storage/.layers.json.tmpAbC123"
echo '{"schemaVersion":' > "$root/content/.index.json.tmpXyZ789"
b image mount "$I" > /dev/null || die "image mount"
b image unmount "$I" > /dev/null || die "image unmount"
[ ! -e "$root/storage/.layers.json.tmpAbC123" ] || die "image mount left .layers.json.tmpAbC123"
b rmi "$I" > /dev/null || die "rmi"
[ ! -e "$root/content/.index.json.tmpXyZ789" ] || die "rmi left .index.json.tmpXyZ789"
ok "temp files of killed layers.json and index.json writes went with the next mount and rmi"

echo "$passed passed, 0 failed"
