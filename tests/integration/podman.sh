#!/bin/sh
# podman drives the OCI runtime under test (berth-runtime by default, any
# runc-compatible one through RUNTIME=/path): an image imported from a
# busybox rootfs tar runs with `run --rm`, `run -d` + `exec`, `stop`, `rm`,
# and `run -it` gives a working terminal; an rlimit above the hard limit
# fails with a clear error in the runtime's own log and leaves nothing.
#
# podman runs with everything of its own in the test's temp dir: storage
# (vfs), run root, libpod tmp dir and file locks (not /dev/shm), the
# runtime's state (--runtime-flag root=...), network config, and
# containers.conf / registries.conf / storage.conf given through CONTAINERS_*;
# containers get the cgroup parent /berth-test-podman-XXXXXX.  The one host
# file it writes is c/image's blob-info cache (/var/lib/containers/cache),
# which `podman import` updates and no flag moves.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/bundle.sh"

bt_need_root
bt_need_tools podman conmon tar awk
bt_tmp_setup podman
bt_runtime_setup
BT_CMD_TIMEOUT=60
bt_watchdog 240
T=$BT_TMP
id=$(echo "${T##*-}" | tr "[:upper:]" "[:lower:]")
name=berth-test-$id
cgroup=$(basename "$T")
image=localhost/berth-test-busybox-$id:latest
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
die() { echo "FAIL: $*"; exit 1; }
echo "runtime: $RUNTIME (exec: $RUNTIME_EXEC)"

mkdir -p "$T/libpod-tmp" "$T/networks"
cat > "$T/containers.conf" <<EOF
[containers]
default_sysctls = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
lock_type = "file"
tmp_dir = "$T/libpod-tmp"
# podman passes --log and --log-format json only to runtimes named here
runtime_supports_json = ["crun", "runc", "berth-runtime"]
[network]
network_config_dir = "$T/networks"
EOF
printf 'unqualified-search-registries = []\n' > "$T/registries.conf"
cat > "$T/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$T/root"
runroot = "$T/runroot"
EOF
CONTAINERS_CONF=$T/containers.conf
CONTAINERS_REGISTRIES_CONF=$T/registries.conf
CONTAINERS_STORAGE_CONF=$T/storage.conf
export CONTAINERS_CONF CONTAINERS_REGISTRIES_CONF CONTAINERS_STORAGE_CONF

pm() {
	bt_timeout podman --runtime="$RUNTIME_EXEC" --runtime-flag "root=$T/runtime-root" \
		--root "$T/root" --runroot "$T/runroot" --tmpdir "$T/libpod-tmp" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend none "$@"
}
# what every container here gets: no network, our cgroup parent, rlimits
# root can set without CAP_SYS_RESOURCE
run_opts="--network none --cgroup-parent /$cgroup --ulimit nofile=1024:1024 --ulimit nproc=4096:4096"

# Cleanup, run in reverse: containers, then anything still in our cgroups
# (conmon included), then mounts and the temp dir (bt_tmp_setup).
bt_cleanup_add "bt_cgroup_remove '$cgroup'"
bt_cleanup_add "pm rm -a -f -t 0"

# podman fails early with unreadable errors when the runtime cannot even
# say its version; say so plainly instead.
bt_timeout "$RUNTIME_EXEC" --version > "$T/version" 2>&1 || die "'$RUNTIME --version' failed: $(cat "$T/version")"

bt_rootfs_make "$T/rootfs"
bt_rootfs_tar "$T/rootfs" "$T/rootfs.tar"
pm import -q "$T/rootfs.tar" "$image" > "$T/import" 2>&1 || die "podman import: $(cat "$T/import")"
ok "podman import of a busybox rootfs tar as $image"

# run --rm
out=$(pm run --rm $run_opts --name "$name-rm" "$image" /bin/sh -c 'echo hello from $(hostname); id -u' 2>&1) ||
	die "podman run --rm failed: $out"
# the host name podman sets is the container ID's first 12 hex digits
echo "$out" | head -1 | grep -q '^hello from [0-9a-f]\{12\}$' && [ "$(echo "$out" | sed -n 2p)" = 0 ] ||
	die "podman run --rm printed: $out"
[ -z "$(pm ps -aq --filter name="$name-rm")" ] || die "run --rm left the container"
ok "podman run --rm: $(echo "$out" | head -1)"

# run -d, then exec into it; the shell ends on SIGTERM so stop is quick
pm run -d $run_opts --name "$name-d" "$image" \
	/bin/sh -c 'trap "exit 0" TERM; echo started > /tmp/state; sleep 60 & wait' > "$T/run-d" 2>&1 ||
	die "podman run -d failed: $(cat "$T/run-d")"
state=$(pm inspect --format '{{.State.Status}}' "$name-d")
[ "$state" = running ] || die "after run -d the container is $state"
ok "podman run -d: running"

bt_wait_for 5 pm exec "$name-d" /bin/grep -q started /tmp/state || die "the container never wrote /tmp/state"
out=$(pm exec "$name-d" /bin/sh -c 'cat /tmp/state; echo pid1=$(cat /proc/1/comm); echo $$' 2>&1) ||
	die "podman exec failed: $out"
echo "$out" | grep -q '^started$' || die "exec did not see the container's file: $out"
echo "$out" | grep -q '^pid1=sh$' || die "exec is not in the container's pid namespace: $out"
out=$(pm exec --user 1000:1000 --workdir /home/user --env BERTH_TEST=yes "$name-d" \
	/bin/sh -c 'echo $(id -u):$(id -g) $(pwd) $BERTH_TEST' 2>&1) || die "podman exec --user failed: $out"
[ "$out" = "1000:1000 /home/user yes" ] || die "podman exec --user/--workdir/--env gave: $out"
ok "podman exec: same filesystem and pid namespace; --user, --workdir, --env"

rc=0
pm exec "$name-d" /bin/sh -c 'exit 7' || rc=$?
[ "$rc" -eq 7 ] || die "podman exec lost the exit status: $rc, not 7"
ok "podman exec passes the exit status through"

pid=$(pm inspect --format '{{.State.Pid}}' "$name-d")
start=$(date +%s)
out=$(pm stop -t 10 "$name-d" 2>&1) || die "podman stop failed: $out"
took=$(($(date +%s) - start))
[ "$took" -lt 8 ] || die "podman stop took ${took}s: SIGTERM never reached the container"
state=$(pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$name-d")
[ "$state" = "exited 0" ] || die "after stop the container is '$state', not 'exited 0'"
! kill -0 "$pid" 2>/dev/null || die "after stop the container's process $pid still runs"
ok "podman stop: SIGTERM delivered, exited 0 in ${took}s"

out=$(pm rm "$name-d" 2>&1) || die "podman rm failed: $out"
[ -z "$(pm ps -aq --filter name="$name-d")" ] || die "podman rm left the container listed"
ok "podman rm"

# run -it: a real terminal; the window size comes through, the line typed
# is run ($((6*7)) only turns into 42 when the shell ran it), and the exit
# status of the shell is podman's.
rc=0
"${PYTHON:-/usr/bin/python3}" "$here/lib/pty-drive.py" --rows 33 --cols 101 --timeout 30 \
	--send 'tty; stty size; echo berth-$((6*7)); exit 3
' --expect '^/dev/pts/[0-9]+$' --expect '^33 101$' --expect '^berth-42$' \
	-- podman --runtime="$RUNTIME_EXEC" --runtime-flag "root=$T/runtime-root" \
	--root "$T/root" --runroot "$T/runroot" --tmpdir "$T/libpod-tmp" --storage-driver vfs --cgroup-manager cgroupfs \
	--events-backend none run -it --rm $run_opts --name "$name-it" "$image" /bin/sh \
	> "$T/it" 2>&1 || rc=$?
[ "$rc" -eq 3 ] || die "podman run -it exited $rc, not 3; the terminal showed:
$(cat "$T/it")"
ok "podman run -it: a tty, window 33x101, typed command run, exit status 3"

# An rlimit above the hard limit: without CAP_SYS_RESOURCE nobody can set
# it, and the runtime must say which limit failed, in its log (podman has
# it write JSON lines to oci-log), and leave no container process behind.
if bt_has_cap_sys_resource; then
	echo "skip: this root has CAP_SYS_RESOURCE, so no rlimit is above what it may set"
else
	hard=$(bt_nofile_hard)
	over=$((hard + 1000))
	rc=0
	pm run --name "$name-rlimit" --network none --cgroup-parent "/$cgroup" \
		--ulimit nofile=$over:$over --ulimit nproc=4096:4096 "$image" /bin/true > "$T/rlimit" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || die "nofile=$over above the hard limit $hard was accepted"
	cid=$(pm inspect --format '{{.Id}}' "$name-rlimit")
	log="$T/runroot/vfs-containers/$cid/userdata/oci-log"
	[ -s "$log" ] || die "the runtime wrote no log at $log; podman said: $(cat "$T/rlimit")"
	"${PYTHON:-/usr/bin/python3}" -c '
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    if line.strip():
        e = json.loads(line)
        assert "msg" in e and "level" in e, f"line {n}: no msg/level: {line!r}"
' "$log" || die "the runtime log is not JSON lines (--log-format json): $(cat "$log")"
	grep -i 'error' "$log" | grep -qi 'rlimit' ||
		die "the runtime's error does not say rlimit: $(cat "$log")"
	if [ "$RUNTIME_NAME" = berth-runtime ]; then
		grep -q 'RLIMIT_NOFILE' "$log" || die "berth-runtime's error does not name RLIMIT_NOFILE: $(cat "$log")"
	fi
	grep -qi 'rlimit' "$T/rlimit" || die "podman did not pass the runtime's error on: $(cat "$T/rlimit")"
	msg=$(grep -i rlimit "$log" | head -1 | cut -c1-240)
	pm rm -f "$name-rlimit" > /dev/null 2>&1 || die "podman rm of the failed container failed"
	ok "nofile=$over over hard limit $hard refused: $msg"
fi

# nothing of ours left: no container, no process in our cgroups
[ -z "$(pm ps -aq)" ] || die "containers left: $(pm ps -a)"
# conmon leaves a moment after its container
bt_wait_for 5 bt_cgroup_empty "$cgroup" ||
	die "processes left in /$cgroup: $(bt_cgroup_procs "$cgroup" | sort -u | tr '\n' ' ')"
pm rmi "$image" > /dev/null 2>&1 || die "podman rmi $image failed"
ok "no containers and no processes left; image removed"

echo "podman.sh: $passed passed ($RUNTIME_NAME)"
