#!/bin/sh
# containerd runs containers through the OCI runtime under test
# (berth-runtime by default, any runc-compatible one through RUNTIME=/path)
# with `ctr run --runc-binary`: its runc v2 shim calls the runtime for
# create, start, exec, kill, state and delete.
#
# containerd is started by this test on a temp root, state dir and socket
# with a config of its own (no CRI plugin), the busybox image is an OCI
# archive written here offline, and the containers live in the containerd
# namespace berth-test-xxxxxx, which is also their cgroup parent.  ctr's
# stdio FIFOs and the runtime's --root go to the temp dir; the shim puts its socket in
# /run/containerd/s, fixed in containerd 1.6, so the test removes that folder
# (and /run/containerd) again when they were not there before it started.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/bundle.sh"

bt_need_root
bt_need_tools containerd ctr containerd-shim-runc-v2 tar awk
bt_tmp_setup containerd
bt_runtime_setup
BT_CMD_TIMEOUT=30
bt_watchdog 150
T=$BT_TMP
ns=berth-test-$(echo "${T##*-}" | tr '[:upper:]' '[:lower:]')
image=localhost/berth-test-busybox:latest
sock=$T/containerd.sock
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
die() {
	echo "FAIL: $*"
	[ -s "$T/containerd.log" ] && { echo "--- containerd log (last 30 lines)"; tail -30 "$T/containerd.log"; }
	exit 1
}
echo "runtime: $RUNTIME (exec: $RUNTIME_EXEC)"

bt_timeout "$RUNTIME_EXEC" --version > "$T/version" 2>&1 || die "'$RUNTIME --version' failed: $(cat "$T/version")"

cat > "$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
EOF

# Cleanup, run last first: our containers through containerd, then the
# shims and containerd by PID, processes left in our cgroups, the shim
# socket folder if it is ours; then mounts and the temp dir (bt_tmp_setup).
# parents first: cleanups run last added first
for d in /run/containerd /run/containerd/s /run/containerd/fifo; do
	[ -d "$d" ] || bt_cleanup_add "rmdir '$d'"
done
bt_cleanup_add "bt_cgroup_remove '$ns'"
stop_containerd() {
	[ -n "${cpid:-}" ] || return 0
	kill "$cpid" 2>/dev/null
	bt_wait_for 5 sh -c "! kill -0 $cpid" || kill -9 "$cpid"
	wait "$cpid" 2>/dev/null
	cpid=
}
bt_cleanup_add "stop_containerd"
# a shim killed here cannot remove its socket in /run/containerd/s: its
# bundle dir says which one it is
kill_shims() {
	for f in $(find "$T/state" -name shim.pid 2>/dev/null); do
		kill -9 "$(cat "$f")" 2>/dev/null
		a=$(cat "$(dirname "$f")/address" 2>/dev/null)
		case $a in unix:///run/containerd/s/*) rm -f "${a#unix://}" ;; esac
	done
	return 0
}
bt_cleanup_add "kill_shims"
c() { bt_timeout ctr -a "$sock" -n "$ns" "$@"; }
remove_containers() {
	for t in $(c tasks ls -q 2>/dev/null); do
		c tasks kill -s SIGKILL "$t"
		c tasks rm -f "$t"
	done
	for ct in $(c containers ls -q 2>/dev/null); do
		c containers rm "$ct"
	done
	return 0
}
bt_cleanup_add "remove_containers"

containerd --config "$T/config.toml" --log-level info > "$T/containerd.log" 2>&1 &
cpid=$!
bt_wait_for 10 ctr -a "$sock" version || die "containerd did not answer on $sock"
ok "containerd $cpid answers on $sock"

bt_rootfs_make "$T/rootfs"
bt_rootfs_tar "$T/rootfs" "$T/layer.tar"
bt_oci_archive "$T/layer.tar" "$T/image.tar" "$image"
out=$(c images import "$T/image.tar" 2>&1) || die "ctr images import: $out"
c images ls -q | grep -qx "$image" || die "the imported image is not listed: $(c images ls)"
ok "ctr images import of an OCI archive made offline: $image"

# run --rm: output, exit status
out=$(c run --rm --fifo-dir "$T/fifo" --runc-root "$T/runc-root" --runc-binary "$RUNTIME_EXEC" "$image" "$ns-rm" /bin/echo hi 2>&1) ||
	die "ctr run --rm failed: $out"
[ "$out" = hi ] || die "ctr run --rm printed '$out', not 'hi'"
ok "ctr run --rm --runc-binary $RUNTIME_NAME ... /bin/echo hi"

rc=0
c run --rm --fifo-dir "$T/fifo" --runc-root "$T/runc-root" --runc-binary "$RUNTIME_EXEC" "$image" "$ns-rc" /bin/sh -c 'exit 5' > "$T/rc" 2>&1 || rc=$?
[ "$rc" -eq 5 ] || die "ctr run of 'exit 5' exited $rc: $(cat "$T/rc")"
ok "ctr run passes the exit status through"

# detached, exec, SIGTERM, delete
out=$(c run -d --fifo-dir "$T/fifo" --runc-root "$T/runc-root" --runc-binary "$RUNTIME_EXEC" "$image" "$ns-d" \
	/bin/sh -c 'trap "exit 0" TERM; echo up > /tmp/up; sleep 60 & wait' 2>&1) ||
	die "ctr run -d failed: $out"
running() { c tasks ls | awk -v id="$ns-d" '$1 == id { print $3 }' | grep -qx RUNNING; }
bt_wait_for 5 running || die "the task is not RUNNING: $(c tasks ls)"
ok "ctr run -d: RUNNING"

out=$(c tasks exec --fifo-dir "$T/fifo" --exec-id e1 "$ns-d" /bin/sh -c 'cat /tmp/up; echo pid1=$(cat /proc/1/comm)' 2>&1) ||
	die "ctr tasks exec failed: $out"
[ "$out" = "up
pid1=sh" ] || die "ctr tasks exec printed: $out"
ok "ctr tasks exec: same filesystem and pid namespace"

c tasks kill -s SIGTERM "$ns-d" > "$T/kill" 2>&1 || die "ctr tasks kill: $(cat "$T/kill")"
stopped() { c tasks ls | awk -v id="$ns-d" '$1 == id { print $3 }' | grep -qx STOPPED; }
bt_wait_for 5 stopped || die "SIGTERM did not stop the task: $(c tasks ls)"
out=$(c tasks rm "$ns-d" 2>&1) || die "ctr tasks rm failed: $out"
out=$(c containers rm "$ns-d" 2>&1) || die "ctr containers rm failed: $out"
ok "ctr tasks kill -s SIGTERM, tasks rm, containers rm"

# nothing of ours is left in containerd or in our cgroups
[ -z "$(c containers ls -q)" ] || die "containers left: $(c containers ls)"
bt_wait_for 5 bt_cgroup_empty "$ns" ||
	die "processes left in /$ns: $(bt_cgroup_procs "$ns" | sort -u | tr '\n' ' ')"
[ -z "$(bt_mounts_under "$T/state")" ] || die "mounts left: $(bt_mounts_under "$T/state")"
ok "no containers, processes or rootfs mounts left"

echo "containerd.sh: $passed passed ($RUNTIME_NAME)"
