#!/bin/sh
# The runtime in a host with threads (issue 10): threaded-host creates,
# starts, waits for and deletes 500 containers through the public API
# while another thread keeps creating and joining threads. No create may
# hang (glibc's set*id calls in the child wait for the caller's threads);
# nothing is left: no fd, state, cgroup, mount or process.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/bundle.sh"

bt_need_root
bt_tmp_setup threads
bt_runtime_setup
: "${top_builddir:=$(cd "$here/../.." && pwd)}"
prog=$top_builddir/tests/integration/threaded-host
[ -x "$prog" ] || bt_skip "tests/integration/threaded-host is not built"
n=${THREADS_CONTAINERS:-500}
bt_watchdog 600
T=$BT_TMP
cg=$(basename "$T")
bt_cleanup_add "bt_cgroup_remove '$cg'"
bt_bundle_make "$T/bundle" "$RUNTIME_EXEC" /bin/true
bt_config_edit "$T/bundle/config.json" '
c["linux"]["cgroupsPath"] = "/" + args[0] + "/threads"
' "$cg"

rc=0
timeout -k 5 560 "$prog" "$T/state" "$T/bundle" "$n" "$cg" || rc=$?
case $rc in
0) ;;
124 | 137 | 142) echo "FAIL: threaded-host hung (exit $rc)"; exit 1 ;;
*) echo "FAIL: threaded-host failed (exit $rc)"; exit 1 ;;
esac
left=$(ls "$T/state" 2>/dev/null | wc -l)
[ "$left" -eq 0 ] || { echo "FAIL: $left containers left in the state root"; exit 1; }
[ -z "$(bt_cgroup_procs "$cg")" ] || { echo "FAIL: processes left in the cgroups"; exit 1; }
for m in $(bt_cgroup_mounts); do
	[ ! -d "$m/$cg" ] || [ -z "$(find "$m/$cg" -mindepth 1 -type d)" ] ||
		{ echo "FAIL: cgroups left under $m/$cg"; exit 1; }
done
[ -z "$(bt_mounts_under "$T")" ] || { echo "FAIL: mounts left under $T"; exit 1; }
echo "runtime-threads: $n containers, nothing hung or left"
