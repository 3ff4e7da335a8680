#!/bin/sh
# What a process that dies leaves in the layer store, as root. Layers are
# unpacked and snapshots made in .tmp-* directories without the storage lock;
# their makers hold them (flock, shared) until they are placed, and whoever
# takes the storage lock to place or remove layers sweeps the ones nobody
# holds:
# - temp dirs made by hand, as a dead process leaves them (layers/, the
#   pull's, snapshots/), go with the next unpack; one a live process holds
#   stays, and goes with the next release once its holder died;
# - an unpack SIGKILLed half way leaves its temp dir; the next unpack removes it;
# - a sweep while another process unpacks leaves that unpack alone: it
#   finishes and places its layer;
# - a copy snapshot SIGKILLed half way leaves snapshots/.tmp-*; the next
#   unpack removes it;
# - `system df` counts every such leftover reclaimable (temp dirs, a layer
#   directory the record does not list, a temp file of a layers.json write,
#   a layer whose only hold is of an image that is gone), as on disk; `image
#   prune` removes them all and reports the bytes it freed (issue 11).
# Images come from storage-fixture.py (offline), plus one layer of 20000
# small files so unpacking and copying take long enough to be killed half
# way. Everything lives below a berth-test temp dir in a private mount
# namespace; background processes are killed by PID on exit.
set -eu
STORAGE_TOOLS="unshare tar flock"
STORAGE_NAME=crash
. "$(dirname "$0")/lib/storage.sh"
layers="$root/storage/layers"
snaps="$root/storage/snapshots"
pids=""
# background helpers run without the h function, so $! is theirs to kill
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null || true; done; cleanup' EXIT
temps() { ls -A "$1" 2>/dev/null | grep '^\.tmp-' || true; }
# waits (30 s at most) until a directory matching GLOB has an entry, while
# process PID lives
wait_for() { # PID GLOB
	i=0
	while [ $i -lt 600 ]; do
		for d in $2; do
			[ -d "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null | head -n1)" ] && return 0
		done
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

"$py" "$fixture" images "$root/content" "$busybox"
"$py" - "$tmp/big.tar" <<'EOF'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
for d in range(20):
    ti = tarfile.TarInfo("big/%02d" % d)
    ti.type, ti.mode = tarfile.DIRTYPE, 0o755
    t.addfile(ti)
    for i in range(1000):
        ti = tarfile.TarInfo("big/%02d/%04d" % (d, i))
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
t.close()
EOF
"$py" "$fixture" append "$root/content" busybox big "$tmp/big.tar"

# ---- leftovers made by hand; one held by a live process ------------------------
h unpack busybox || die "unpacking busybox"
mkdir -p "$layers/.tmp-0123456789abcdef-dead01/diff/etc" "$layers/.tmp-pull-dead02/diff" \
	"$snaps/.tmp-s1-dead03/upper" "$layers/.tmp-pull-live01"
echo x > "$layers/.tmp-0123456789abcdef-dead01/diff/etc/file"
touch "$layers/.tmp-not-a-dir"
# the holder: fd 9 on the directory, locked shared, kept by sleep after exec
sh -c 'exec 9< "$1"; flock -s 9; touch "$2"; exec sleep 60' sh "$layers/.tmp-pull-live01" \
	"$tmp/held" &
holder=$!
pids="$pids $holder"
i=0
while [ ! -e "$tmp/held" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -e "$tmp/held" ] || die "the holder of .tmp-pull-live01 did not start"
h unpack layered || die "unpacking layered"
for d in .tmp-0123456789abcdef-dead01 .tmp-pull-dead02; do
	[ ! -e "$layers/$d" ] || die "unpack left the dead process's layers/$d"
done
[ ! -e "$snaps/.tmp-s1-dead03" ] || die "unpack left the dead process's snapshots/.tmp-s1-dead03"
[ -d "$layers/.tmp-pull-live01" ] || die "unpack removed layers/.tmp-pull-live01, held by process $holder"
[ -f "$layers/.tmp-not-a-dir" ] || die "unpack removed a file .tmp-not-a-dir (only directories are ours)"
ok "unpack swept 3 dead temp dirs (layers/, pull, snapshots/) and kept the one process $holder holds"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
h release layered || die "releasing layered"
[ ! -e "$layers/.tmp-pull-live01" ] || die "release left .tmp-pull-live01 after its holder died"
rm -f "$layers/.tmp-not-a-dir"
ok "release swept .tmp-pull-live01 once its holder was gone"

# ---- an unpack killed half way --------------------------------------------------
"$helper" "$root" "$run" unpack big &
pid=$!
pids="$pids $pid"
wait_for "$pid" "$layers/.tmp-*/diff/big" || die "unpacking big made no temp dir with content (or ended first)"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
left=$(temps "$layers")
[ -n "$left" ] || die "the killed unpack left no temp dir"
files=$(find "$layers/$left" | wc -l)
h unpack busybox || die "unpacking busybox after the kill"
[ -z "$(temps "$layers")" ] || die "temp dirs stayed after the next unpack: $(temps "$layers")"
ok "an unpack SIGKILLed half way left $left ($files entries); the next unpack removed it"

# ---- a sweep while another process unpacks ------------------------------------
"$helper" "$root" "$run" unpack big > "$tmp/big.out" 2>&1 &
pid=$!
pids="$pids $pid"
wait_for "$pid" "$layers/.tmp-*/diff/big" || die "unpacking big made no temp dir with content (or ended first)"
h unpack layered || die "unpacking layered while big unpacks"
kill -0 "$pid" 2>/dev/null && live=", while it still ran," || live=" (it ended meanwhile)"
# had the sweep taken its temp dir, the unpack would fail writing or placing it
wait "$pid" || die "unpacking big failed after another process swept: $(cat "$tmp/big.out")"
n=$(ls "$layers" | grep -vc '^\.' || true)
[ "$n" -eq 5 ] || die "expected 5 layers (busybox, layered 3, big), got $n"
[ -z "$(temps "$layers")" ] || die "temp dirs stayed: $(temps "$layers")"
ok "another process's sweep$live left the running unpack of big alone: it placed its layer"

# ---- a copy snapshot killed half way ------------------------------------------
"$helper" "$root" "$run" snap-create crash-copy big copy &
pid=$!
pids="$pids $pid"
wait_for "$pid" "$snaps/.tmp-crash-copy-*/rootfs/big" ||
	die "the copy snapshot made no temp dir with content (or ended first)"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
left=$(temps "$snaps")
[ -n "$left" ] || die "the killed snapshot left no temp dir"
h unpack busybox || die "unpacking busybox after the kill"
[ -z "$(temps "$snaps")" ] || die "snapshot temp dirs stayed after the next unpack: $(temps "$snaps")"
[ ! -e "$snaps/crash-copy" ] || die "the killed snapshot crash-copy exists"
ok "a copy snapshot SIGKILLed half way left snapshots/$left; the next unpack removed it"

# ---- df counts the leftovers; prune frees them and says how much ----------------
# du's bytes of each path given (directories with all below them, files)
du_b() { du -sB1 "$@" | awk '{ s += $1 } END { print s + 0 }'; }
row() { h df | awk -v k="$1" '$1 == k { print $4 }'; }
big_top=$(h layers big | tail -n1 | cut -d' ' -f2 | cut -d: -f2)
# leftovers as dead processes leave them
leftovers() {
	mkdir -p "$layers/.tmp-0123456789abcdef-dead04/diff" "$snaps/.tmp-s9-dead05/upper" \
		"$layers/$(printf 'ab%.0s' $(seq 32))/diff"
	head -c 300000 /dev/urandom > "$layers/.tmp-0123456789abcdef-dead04/diff/f"
	head -c 200000 /dev/urandom > "$snaps/.tmp-s9-dead05/upper/f"
	head -c 100000 /dev/urandom > "$layers/$(printf 'ab%.0s' $(seq 32))/diff/f"
	head -c 5000 /dev/urandom > "$root/storage/.layers.json.tmpAbC123"
	# big's own layer held only by an image that is gone (its hold
	# outlived it): the sweep drops the hold, and the layer goes
	"$py" - "$root/storage/layers.json" "$big_top" <<'EOF2'
import json, sys
path, top = sys.argv[1], "sha256:" + sys.argv[2]
rec = json.load(open(path))
held = rec["layers"][top]["users"]
assert len(held) == 1 and held[0].startswith("image:"), held
for e in rec["layers"].values():
    e["users"] = ["image:sha256:" + "0" * 64 if u == held[0] else u for u in e["users"]]
json.dump(rec, open(path, "w"))
EOF2
}
h unpack big || die "unpacking big"
leftovers
lbytes=$(du_b "$layers/.tmp-0123456789abcdef-dead04" "$layers/$(printf 'ab%.0s' $(seq 32))")
jbytes=$(stat -c %s "$root/storage/.layers.json.tmpAbC123")
bigsize=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"]["sha256:"+sys.argv[2]]["size"])' \
	"$root/storage/layers.json" "$big_top")
sbytes=$(du_b "$snaps/.tmp-s9-dead05")
[ "$(row layers)" -eq $((lbytes + jbytes + bigsize)) ] ||
	die "system df: layers reclaimable $(row layers), the leftovers hold $lbytes + $jbytes bytes and the layer only a gone image holds $bigsize"
[ "$(row containers)" -eq "$sbytes" ] ||
	die "system df: containers reclaimable $(row containers), snapshots/.tmp-s9-dead05 holds $sbytes bytes"
ok "system df counted the leftovers reclaimable as du does ($lbytes + $jbytes + $sbytes bytes) and the layer only a gone image held ($bigsize)"
freed=$((lbytes + jbytes + sbytes + $(du_b "$layers/$big_top")))
before=$(du_b "$root")
out=$(h prune) || die "prune"
after=$(du_b "$root")
for p in "$layers/.tmp-0123456789abcdef-dead04" "$snaps/.tmp-s9-dead05" "$layers/$big_top" \
	"$layers/$(printf 'ab%.0s' $(seq 32))" "$root/storage/.layers.json.tmpAbC123"; do
	[ ! -e "$p" ] || die "prune left $p"
done
[ "$out" -eq "$freed" ] || die "prune reported $out bytes freed, what it removed held $freed"
# the rest of the store changed by a rewrite of layers.json at most
[ $((before - after - out)) -le 8192 ] && [ $((before - after - out)) -ge -8192 ] ||
	die "prune reported $out bytes freed, the store shrank by $((before - after))"
[ "$(row layers)" -eq 0 ] && [ "$(row containers)" -eq 0 ] || die "system df after prune: $(h df | tr '\n' ' ')"
ok "prune removed them, reporting the $out bytes they held (the store shrank by $((before - after)))"
# the same through the CLI, whose sizes are Docker's (3 digits)
h unpack big || die "unpacking big"
leftovers
freed=$(($(du_b "$layers/.tmp-0123456789abcdef-dead04" "$layers/$(printf 'ab%.0s' $(seq 32))" "$snaps/.tmp-s9-dead05" \
	"$layers/$big_top") + jbytes))
out=$("$top_builddir/examples/berth/berth" --root "$root" --runroot "$run" image prune) || die "berth image prune"
want=$("$py" -c 'import sys; v, u = float(sys.argv[1]), 0
while v >= 999.5: v, u = v / 1000, u + 1
print("reclaimed %.3g%s" % (v, ["B", "kB", "MB", "GB"][u]))' "$freed")
case $out in
*"$want") ;;
*) die "berth image prune: \"$out\", what it removed held $freed bytes ($want)" ;;
esac
ok "berth image prune: \"$out\""

echo "$passed passed, 0 failed"
