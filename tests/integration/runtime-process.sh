#!/bin/sh
# The process contract of the runtime API (issue 10): stdio given as pipes
# from two threads at once (process-contract.c), exit codes 0, 3 and 137
# (the OOM killer) read back by the creator and then by a second process,
# berth-runtime state, from the container's state.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/bundle.sh"

bt_need_root
bt_tmp_setup process
bt_runtime_setup
: "${top_builddir:=$(cd "$here/../.." && pwd)}"
prog=$top_builddir/tests/integration/process-contract
[ -x "$prog" ] || bt_skip "tests/integration/process-contract is not built"
bt_watchdog 300
T=$BT_TMP
cg=$(basename "$T")
bt_cleanup_add "bt_cgroup_remove '$cg'"
bt_bundle_make "$T/bundle" "$RUNTIME_EXEC" /bin/true
rt() { bt_timeout "$RUNTIME_EXEC" --root "$T/state" "$@"; }
bt_cleanup_add "for c in pc-exit-0 pc-exit-3 pc-oom; do '$RUNTIME_EXEC' --root '$T/state' delete --force \$c; done"

timeout -k 5 240 "$prog" "$T/state" "$T/bundle" "$cg" || { echo "FAIL: process-contract (exit $?)"; exit 1; }
failed=
for c in "pc-exit-0 0 false" "pc-exit-3 3 false" "pc-oom 137 true"; do
	set -- $c
	got=$(rt state "$1" | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
e = s.get("exit") or {}
print(s["status"], e.get("code"), str(e.get("oomKilled")).lower())')
	[ "$got" = "stopped $2 $3" ] || { echo "FAIL: $1: berth-runtime state says \"$got\", wanted \"stopped $2 $3\""; failed=1; }
	rt delete "$1" || failed=1
done
[ -z "$(ls "$T/state")" ] || { echo "FAIL: state left: $(ls "$T/state")"; failed=1; }
[ -z "$failed" ] || exit 1
echo "runtime-process: pipes per container from two threads; 0, 3 and 137 read back by a second process"
