#!/bin/sh
# Findings of issue 11 about the OCI runtime, on a busybox-static bundle:
# 2. `create` SIGKILLed at points spread over its length leaves nothing
#    that `delete --force`, or the next create in the same root, does not
#    remove: no state directory, no cgroup in any hierarchy, no process;
# 5. `delete` right after `kill ID KILL` deletes: a container whose
#    process is dying or a zombie is stopped (as for runc and crun);
# and `system df` counts what killed creates left in a state root (the
# context's, <runroot>/runtime) as on disk and reclaimable, the next create
# sweeps it (df then counts nothing), and `system prune` removes it too,
# reporting its bytes.
# Every container's cgroup is below /berth-test-rtcrash-XXXXXX (removed at
# exit with what runs in it); processes are killed by PID only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/bundle.sh"

bt_need_root
bt_tmp_setup rtcrash
bt_runtime_setup
BT_CMD_TIMEOUT=10
# the sanitizers' build runs each step several times slower
bt_watchdog $([ -n "${ASAN_RUNTIME:-}" ] && echo 480 || echo 240)
T=$BT_TMP
cg=$(basename "$T")
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
die() { echo "FAIL: $*"; exit 1; }
rt() { bt_timeout "$RUNTIME_EXEC" --root "$T/state" "$@"; }
ids=
bt_cleanup_add "bt_cgroup_remove '$cg'"
bt_cleanup_add "bt_delete_all rt"
# the containers left in the context's state root (section 3), by listing:
# most ids there were killed creates already gone
delete_listed() {
	for _d in "$T/run/runtime"/*; do
		[ -d "$_d" ] && bt_timeout "$RUNTIME_EXEC" --root "$T/run/runtime" delete -f "$(basename "$_d")"
	done
	return 0
}
bt_cleanup_add delete_listed
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

# ---- df counts what killed creates left; the next create sweeps it -------------
berth="$top_builddir/examples/berth/berth"
helper="$top_builddir/tests/integration/storage-helper"
R=$T/run
S=$R/runtime
rts() { bt_timeout "$RUNTIME_EXEC" --root "$S" "$@"; }
# the runtime row of df: containers and remains, bytes, reclaimable
dfrt() { "$helper" "$T/root" "$R" df | awk '$1 == "runtime" { print $2, $3, $4 }'; }
# on disk, what the sweep removes: .new-* and <id> without state.json whose
# lock nobody holds; "<number> <du bytes>"
remains() {
	_n=0 _b=0
	for _d in "$S"/.new-* "$S"/*; do
		[ -d "$_d" ] || continue
		case $(basename "$_d") in .new-*) ;; *) [ ! -e "$_d/state.json" ] || continue ;; esac
		[ ! -e "$_d/lock" ] || flock -n -x "$_d/lock" true || continue
		_n=$((_n + 1)) _b=$((_b + $(du -sB1 "$_d" | cut -f1)))
	done
	echo "$_n $_b"
}
# creates killed at points over their length until one left remains (each
# create sweeps what the ones before it left)
kill_creates() {
	for i in $(seq 1 40); do
		id=$1$i
		bundle $id
		"$RUNTIME_EXEC" --root "$S" create --bundle "$T/b-$id" $id > /dev/null 2>&1 &
		p=$!
		sleep "$(printf '0.%03d' $((T_create * (i % 8 + 1) / 9)))"
		kill -9 $p 2>/dev/null || true
		wait $p 2>/dev/null || true
		[ "$(remains | cut -d' ' -f1)" -eq 0 ] || return 0
	done
	die "40 creates killed over their length ($T_create ms) left no remains"
}
kill_creates kr
set -- $(remains)
n=$1 bytes=$2
dirs=$(ls -A "$S" | wc -l)
set -- $(dfrt)
[ "$#" -eq 3 ] || die "df has no runtime row: $("$helper" "$T/root" "$R" df | tr '\n' ' ')"
[ "$1" -eq "$dirs" ] && [ "$3" -eq "$bytes" ] ||
	die "df: runtime $1 containers, $3 bytes reclaimable; $S holds $dirs, $n of them remains of killed creates ($bytes bytes)"
[ "$2" -eq "$(du -sB1 "$S" | cut -f1)" ] || die "df: runtime $2 bytes, du says $(du -sB1 "$S" | cut -f1)"
"$berth" --root "$T/root" --runroot "$R" system df --format '{{.Type}} {{.TotalCount}} {{.Reclaimable}}' > "$T/df" ||
	die "berth system df"
grep -q "^Runtime $dirs [1-9]" "$T/df" || die "berth system df: $(cat "$T/df")"
ok "system df: the $n remains of killed creates ($bytes bytes) reclaimable, as on disk: $(grep Runtime "$T/df")"
# the next create sweeps them, cgroups included
bundle next
rts create --bundle "$T/b-next" next || die "create after the killed creates"
rts delete -f next || die "delete -f next"
[ "$(remains)" = "0 0" ] || die "the next create left remains: $(ls -A "$S" | tr '\n' ' ')"
set -- $(dfrt)
[ "$3" -eq 0 ] || die "df after the next create: $3 bytes reclaimable"
for i in $(seq 1 40); do
	[ -e "$S/kr$i" ] || [ -z "$(bt_cgroup_leftovers "$cg/kr$i")" ] || die "cgroup of kr$i left: $(bt_cgroup_leftovers "$cg/kr$i")"
done
ok "the next create removed them, cgroups included; df counts 0 bytes reclaimable"
# and system prune
kill_creates kp
set -- $(remains)
n=$1 bytes=$2
"$berth" --root "$T/root" --runroot "$R" system prune > "$T/out" || die "berth system prune"
grep -q "remains of $n containers" "$T/out" || die "berth system prune: \"$(cat "$T/out")\", $n remains were there"
[ "$(remains)" = "0 0" ] || die "system prune left remains: $(ls -A "$S" | tr '\n' ' ')"
for i in $(seq 1 40); do
	[ -e "$S/kp$i" ] || [ -z "$(bt_cgroup_leftovers "$cg/kp$i")" ] || die "cgroup of kp$i left: $(bt_cgroup_leftovers "$cg/kp$i")"
done
ok "berth system prune removed the $n remains ($bytes bytes): $(cat "$T/out")"

echo "$passed passed, 0 failed"
