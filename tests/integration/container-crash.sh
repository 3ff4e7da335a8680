#!/bin/sh
# A SIGKILLed `berth create` or `berth rm` at points spread over its length
# (issue 12: a crash leaves each container reported, never lost or stuck):
# the next create sweeps what the killed one left (its temp dir, snapshot,
# snapshot mount and name), a killed rm's trash goes too, and every
# container that exists still inspects and removes. In a mount namespace of
# its own; everything below one temp dir; processes killed by PID.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$(cd "$here/../.." && pwd)}"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v skopeo >/dev/null || { echo "SKIP: skopeo is not installed"; exit 77; }
if [ -z "${BERTH_TEST_IN_NS:-}" ]; then
	BERTH_TEST_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
T=$(mktemp -d /tmp/berth-ct-crash-XXXXXX)
trap 'grep -o " $T/[^ ]*" /proc/self/mounts | sort -r | xargs -r umount -l; rm -rf "$T"' EXIT
export BERTH_MONITOR="$top_builddir/lib/container/berth-monitor"
export BERTH_DATADIR="$here/../../data" BERTH_INIT="$top_builddir/lib/container/berth-init"
berth="$top_builddir/examples/berth/berth"
b() { "$berth" --root "$T/root" --runroot "$T/run" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 "$here/lib/registry-mkimage.py" "$T/layout" > /dev/null
mkdir -p "$T/root/content"
skopeo copy -q "oci:$T/layout:busybox" "oci:$T/root/content:docker.io/library/busybox:latest"
now() { echo $(($(date +%s%N) / 1000000)); }

# killed DELAY_MS CMD...: CMD in the background, SIGKILLed after DELAY_MS;
# true when it was still running
killed() {
	d=$1
	shift
	"$@" > /dev/null 2>&1 &
	p=$!
	sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
	if kill -9 "$p" 2>/dev/null; then
		wait "$p" 2>/dev/null || true
		return 0
	fi
	wait "$p" 2>/dev/null || true
	return 1
}

# how long a create and an rm take
t0=$(now); id=$(b create busybox true); tc=$(($(now) - t0))
t0=$(now); b rm "$id" > /dev/null; tr=$(($(now) - t0))
landed=0 n=24
for i in $(seq 1 $n); do
	killed $((tc * (i % 12 + 1) / 12)) "$berth" --root "$T/root" --runroot "$T/run" create --name "k$i" busybox true &&
		landed=$((landed + 1))
done
# rms killed: of containers made whole
for i in $(seq 1 8); do
	id=$(b create busybox true)
	killed $((tr * i / 8)) "$berth" --root "$T/root" --runroot "$T/run" rm "$id" && landed=$((landed + 1))
done
[ "$landed" -ge 8 ] || fail "only $landed of $((n + 8)) kills landed mid-way (create ${tc} ms, rm ${tr} ms)"

# the next create sweeps; then every container left is whole: it inspects
# and removes, and afterwards nothing of berth's is left
id=$(b create --name after busybox true) || fail "create after the kills"
left=$(ls -A "$T/root/containers" | grep -c '^\.\(tmp\|trash\)-' || true)
[ "$left" -eq 0 ] || fail "$left temp or trash dirs stayed: $(ls -A "$T/root/containers")"
for c in $(b ps -aq --no-trunc); do
	b container inspect "$c" > /dev/null || fail "container $c does not inspect"
	b rm -f "$c" > /dev/null || fail "container $c does not remove"
done
# a name of a container that was never made whole is free again
for i in $(seq 1 $n); do
	if [ -L "$T/root/containers/names/k$i" ]; then
		b container inspect "k$i" > /dev/null 2>&1 || fail "name k$i left without its container"
	fi
done
b create --name k1 busybox true > /dev/null || fail "name k1 not reusable"
b rm k1 > /dev/null
snaps=$(ls "$T/root/storage/snapshots" 2>/dev/null | grep -v '^\.' || true)
[ -z "$snaps" ] || fail "snapshots left: $snaps"
if grep -q " $T/run/storage/snapshots" /proc/self/mounts; then
	fail "snapshot mounts left: $(grep -c " $T/run/storage/snapshots" /proc/self/mounts)"
fi
[ -z "$(ls "$T/root/containers/names")" ] || fail "names left: $(ls "$T/root/containers/names")"
# the engine's holds on the image went with their containers, killed or not
holds=$("$top_builddir/tests/integration/storage-helper" "$T/root" "$T/run" holds | grep -c ' container:' || true)
[ "$holds" -eq 0 ] || fail "$holds container holds on the image left"
echo "ok: $landed of $((n + 8)) kills landed in create (${tc} ms) and rm (${tr} ms); the next create swept all, nothing left"
