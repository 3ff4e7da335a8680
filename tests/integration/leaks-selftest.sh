#!/bin/sh
# The leak checks of lib/leaks.sh (every bundle.sh test runs them) fail a
# test that leaves a mount, a process, a cgroup or an open file of its own,
# pass one that cleans up, and let through what bt_leaks_allow names. Each
# case is a small test run as a child; as root (exit 77 otherwise).
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (mounts, cgroups)"; exit 77; }
status=0

# case NAME EXPECT(pass|fail) BODY: BODY runs in a test with bt_tmp_setup
case_run() {
	out=$(here=$here top_srcdir= sh -c ". \"\$here/lib/bundle.sh\"; bt_tmp_setup leaks-$1; $3" 2>&1)
	rc=$?
	case $2:$rc in
	pass:0) echo "ok: $1 passes" ;;
	fail:1)
		if printf '%s\n' "$out" | grep -q "^FAIL: leaked"; then
			echo "ok: $1 fails: $(printf '%s\n' "$out" | grep -A1 '^FAIL: leaked' | sed -n 2p | sed 's/^ *//')"
		else
			echo "FAIL: $1 failed, but not for a leak: $out"; status=1
		fi ;;
	*) echo "FAIL: $1 should $2 (status $rc): $out"; status=1 ;;
	esac
}

case_run clean pass 'mkdir "$BT_TMP/m"; mount -t tmpfs none "$BT_TMP/m"; umount "$BT_TMP/m"'
case_run mount fail 'mkdir "$BT_TMP/m"; mount -t tmpfs none "$BT_TMP/m"'
case_run process fail 'sh -c "cd \"$BT_TMP\" && exec sleep 60" </dev/null >/dev/null 2>&1 & sleep 0.5'
# a detached process (not a child of the test) that names the test's dir
case_run detached fail 'setsid sh -c "while :; do sleep 1; done; : \$0" "$BT_TMP" </dev/null >/dev/null 2>&1 & sleep 0.5'
case_run file fail 'exec 7>"$BT_TMP/held"'
cg_case='for m in /sys/fs/cgroup /sys/fs/cgroup/unified; do [ -f "$m/cgroup.procs" ] && { mkdir "$m/$(basename "$BT_TMP")"; bt_cleanup_add "rmdir $m/$(basename "$BT_TMP")"; break; }; done'
case_run cgroup-removed pass "$cg_case"
case_run cgroup fail 'for m in /sys/fs/cgroup /sys/fs/cgroup/unified; do [ -f "$m/cgroup.procs" ] && { mkdir "$m/$(basename "$BT_TMP")"; break; }; done
	# removed by hand after the check, so this case leaves nothing behind
	trap "bt_cleanup_run; for m in /sys/fs/cgroup /sys/fs/cgroup/unified; do rmdir \"\$m/$(basename "$BT_TMP")\" 2>/dev/null; done; bt_leaks_report" EXIT'
case_run allowed pass 'bt_leaks_allow "^process [0-9]+ sh -c while"; setsid sh -c "while :; do sleep 1; done; : \$0" "$BT_TMP" </dev/null >/dev/null 2>&1 & sleep 0.5'
case_run off pass 'BT_LEAKS=0; mkdir "$BT_TMP/m"; mount -t tmpfs none "$BT_TMP/m"'
exit $status
