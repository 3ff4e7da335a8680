#!/bin/sh
# Findings of issue 11 about the OCI runtime, on a busybox-static bundle:
# 2. `create` SIGKILLed at points spread over its length leaves nothing
#    that `delete --force`, or the next create in the same root, does not
#    remove: no state directory, no cgroup in any hierarchy, no process;
# 5. `delete` right after `kill ID KILL` deletes: a container whose
#    process is dying or a zombie is stopped (as for runc and crun).
# Every container's cgroup is below /berth-test-rtcrash-XXXXXX (removed at
# exit with what runs in it); processes are killed by PID only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/bundle.sh"

bt_need_root
bt_tmp_setup rtcrash
bt_runtime_setup
BT_CMD_TIMEOUT=10
bt_watchdog 170
T=$BT_TMP
cg=$(basename "$T")
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
die() { echo "FAIL: $*"; exit 1; }
rt() { bt_timeout "$RUNTIME_EXEC" --root "$T/state" "$@"; }
ids=
bt_cleanup_add "bt_cgroup_remove '$cg'"
bt_cleanup_add "bt_delete_all rt"
now() { echo $(($(date +%s%N) / 1000000)); }
# what a container ID left: its state dir, its cgroup in any hierarchy
leftovers() {
	[ ! -e "$T/state/$1" ] || echo "state $T/state/$1"
	bt_cgroup_leftovers "$cg/$1"
}

# an init with children: a pid namespace's init dies only after them, so
# it is dying a while after SIGKILL
bt_bundle_make "$T/b" "$RUNTIME_EXEC" /bin/sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 100 & done; wait'
bt_config_edit "$T/b/config.json" "c['linux']['cgroupsPath'] = '/$cg/' + 'ID'"

# a bundle per container: its own cgroup below $cg
bundle() {
	mkdir -p "$T/b-$1"
	[ -e "$T/b-$1/rootfs" ] || ln -s "$T/b/rootfs" "$T/b-$1/rootfs"
	sed "s|/$cg/ID|/$cg/$1|" "$T/b/config.json" > "$T/b-$1/config.json"
}

# ---- 5. delete right after kill KILL -------------------------------------------
# 4 workers at once (the race shows more under load), 50 containers each
worker() {
	for i in $(seq 1 50); do
		id=kd$1-$i
		bundle $id
		rt create --bundle "$T/b-$id" $id || { echo "create $id failed"; continue; }
		rt start $id || echo "start $id failed"
		# no timeout wrapper between the two: delete comes right after
		"$RUNTIME_EXEC" --root "$T/state" kill $id KILL || echo "kill $id failed"
		if ! "$RUNTIME_EXEC" --root "$T/state" delete $id 2> "$T/err-$1"; then
			echo "refused: $(cat "$T/err-$1")"
			rt delete -f $id || echo "delete -f $id failed"
		fi
		[ -z "$(leftovers $id)" ] || echo "delete of $id left $(leftovers $id)"
	done
}
# a container that keeps /$cg in every hierarchy while the workers run:
# concurrent creates of a new v1 cpuset parent race (ENOSPC), another matter
bundle keeper
ids="$ids keeper"
rt create --bundle "$T/b-keeper" keeper || die "create keeper"
wpids=
for w in 1 2 3 4; do
	for i in $(seq 1 50); do ids="$ids kd$w-$i"; done
	worker $w > "$T/worker$w" 2>&1 &
	wpids="$wpids $!"
done
for p in $wpids; do wait $p; done
cat "$T"/worker? > "$T/workers"
refused=$(grep -c '^refused' "$T/workers" || true)
[ "$refused" -eq 0 ] || die "delete right after kill KILL was refused $refused times of 200: $(grep -m1 '^refused' "$T/workers")"
[ ! -s "$T/workers" ] || die "$(head -n 3 "$T/workers")"
ok "200 deletes right after kill KILL (4 at once), none refused, nothing left"
rt delete -f keeper || die "delete keeper"

# ---- 2. create killed --------------------------------------------------------
# how long a create takes: the shortest of three
bundle ct
T_create=
for i in 1 2 3; do
	t0=$(now)
	"$RUNTIME_EXEC" --root "$T/state" create --bundle "$T/b-ct" ct || die "create ct"
	t=$(($(now) - t0))
	[ -n "$T_create" ] && [ "$T_create" -le "$t" ] || T_create=$t
	rt delete -f ct || die "delete -f ct"
done
n=24 landed=0
for i in $(seq 1 $n); do
	id=kc$i
	ids="$ids $id"
	bundle $id
	# a moment spread over create's length
	d=$((T_create * i * 2 / (3 * n)))
	"$RUNTIME_EXEC" --root "$T/state" create --bundle "$T/b-$id" $id > /dev/null 2>&1 &
	p=$!
	sleep "$(printf '0.%03d' $d)"
	kill -9 $p 2>/dev/null && landed=$((landed + 1))
	wait $p 2>/dev/null || true
	if [ $((i % 2)) -eq 0 ]; then
		rt delete -f $id 2> "$T/err" || grep -q "does not exist" "$T/err" ||
			die "delete -f $id after a killed create: $(cat "$T/err")"
		how="delete --force"
	else
		# the next create in the same root
		bundle next$i
		ids="$ids next$i"
		rt create --bundle "$T/b-next$i" next$i || die "create next$i after a killed create"
		rt delete -f next$i || die "delete -f next$i"
		how="the next create"
		if rt state $id > /dev/null 2>&1; then
			# a create that got as far as its state: a container, deleted as usual
			rt delete -f $id || die "delete -f $id"
		fi
	fi
	left=$(leftovers $id)
	[ -z "$left" ] || die "create of $id killed at $d ms (of $T_create), then $how: left $(echo $left)"
	bt_cgroup_empty "$cg" || die "processes left after $id: $(bt_cgroup_procs "$cg" | sort -u | tr '\n' ' ')"
done
[ "$landed" -ge $((n / 3)) ] || die "only $landed of $n kills landed while create ran ($T_create ms)"
ok "$n creates killed ($landed while running, create takes $T_create ms): delete --force or the next create left nothing"

echo "$passed passed, 0 failed"
